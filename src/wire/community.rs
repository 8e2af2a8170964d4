//! Community values: RFC 1997 communities, RFC 4360 extended communities,
//! RFC 8092 large communities.

use std::fmt;

/// RFC 1997 community, a 32-bit value usually written `ASN:VALUE`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Community(pub u32);

impl Community {
    /// RFC 1997 / IANA well-known communities, with the names operators write.
    pub const WELL_KNOWN: &'static [(&'static str, u32)] = &[
        ("graceful-shutdown", 0xFFFF_0000), // RFC 8326
        ("accept-own", 0xFFFF_0001),        // RFC 7611
        ("llgr-stale", 0xFFFF_0006),        // RFC 9494
        ("no-llgr", 0xFFFF_0007),           // RFC 9494
        ("blackhole", 0xFFFF_029A),         // RFC 7999
        ("no-export", 0xFFFF_FF01),
        ("no-advertise", 0xFFFF_FF02),
        ("no-export-subconfed", 0xFFFF_FF03),
        ("no-peer", 0xFFFF_FF04), // RFC 3765
    ];

    pub fn from_parts(high: u16, low: u16) -> Community {
        Community(((high as u32) << 16) | low as u32)
    }

    pub fn by_name(name: &str) -> Option<Community> {
        Self::WELL_KNOWN
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|&(_, v)| Community(v))
    }

    pub fn name(&self) -> Option<&'static str> {
        Self::WELL_KNOWN
            .iter()
            .find(|&&(_, v)| v == self.0)
            .map(|&(n, _)| n)
    }
}

impl fmt::Display for Community {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => f.write_str(n),
            None => write!(f, "{}:{}", self.0 >> 16, self.0 & 0xFFFF),
        }
    }
}

/// RFC 4360 extended community: 8 octets, kept as raw bytes so unknown types round-trip.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ExtendedCommunity(pub [u8; 8]);

impl ExtendedCommunity {
    pub fn type_high(&self) -> u8 {
        self.0[0]
    }
    pub fn subtype(&self) -> u8 {
        self.0[1]
    }
}

impl fmt::Display for ExtendedCommunity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = &self.0;
        let as2 = u16::from_be_bytes([b[2], b[3]]);
        let v4 = u32::from_be_bytes([b[4], b[5], b[6], b[7]]);
        let as4 = u32::from_be_bytes([b[2], b[3], b[4], b[5]]);
        let v2 = u16::from_be_bytes([b[6], b[7]]);
        // Type high bit 0x40 is "non-transitive"; the low 6 bits select the form.
        match (b[0] & 0xBF, b[1]) {
            (0x00, 0x02) => write!(f, "target:{as2}:{v4}"),
            (0x00, 0x03) => write!(f, "origin:{as2}:{v4}"),
            (0x01, 0x02) => write!(f, "target:{}.{}.{}.{}:{v2}", b[2], b[3], b[4], b[5]),
            (0x01, 0x03) => write!(f, "origin:{}.{}.{}.{}:{v2}", b[2], b[3], b[4], b[5]),
            (0x02, 0x02) => write!(f, "target:{as4}L:{v2}"),
            (0x02, 0x03) => write!(f, "origin:{as4}L:{v2}"),
            _ => write!(
                f,
                "0x{:02x}{:02x}{:02x}{:02x}{:02x}{:02x}{:02x}{:02x}",
                b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]
            ),
        }
    }
}

/// RFC 8092 large community: global administrator and two local data parts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LargeCommunity {
    pub global: u32,
    pub local1: u32,
    pub local2: u32,
}

impl fmt::Display for LargeCommunity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.global, self.local1, self.local2)
    }
}
