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
    /// By name (`target:65000:1`, `traffic-rate:0:64000`, ...), see [`super::ext_community`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        super::ext_community::write(self, f)
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
