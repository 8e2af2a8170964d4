//! Labeled NLRI: MPLS labeled unicast (RFC 8277, SAFI 4) and MPLS VPN (RFC 4364 / 4659,
//! SAFI 128): a length in bits, a label stack, for VPN a route distinguisher, then the prefix.
//! Optionally preceded by an RFC 7911 path identifier.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use super::family::{Afi, Family, Safi};
use super::prefix::Prefix;
use super::reader::Reader;

/// RFC 3032 §2.1: one label stack entry is 3 octets here (label 20 bits, TC 3, S 1).
pub const LABEL_LEN: usize = 3;
/// RFC 4364 §4.1: a route distinguisher is 8 octets.
pub const RD_LEN: usize = 8;
/// RFC 3032: the bottom-of-stack bit of a 24-bit label entry.
const BOTTOM_OF_STACK: u32 = 1;
/// RFC 8277 §2.4 (RFC 3107 §3): the label field of a withdrawal, kept for compatibility.
pub const WITHDRAW_LABEL: u32 = 0x80_0000;
/// RFC 3032: a label is 20 bits.
pub const MAX_LABEL: u32 = (1 << 20) - 1;

/// A label stack as its raw 24-bit entries (label << 4 | TC << 1 | S), so that any bytes a
/// peer sent re-encode unchanged.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LabelStack(pub Vec<u32>);

impl LabelStack {
    /// A stack of label values, the bottom-of-stack bit on the last.
    pub fn from_labels(labels: &[u32]) -> LabelStack {
        let n = labels.len();
        LabelStack(
            labels
                .iter()
                .enumerate()
                .map(|(i, l)| (l & MAX_LABEL) << 4 | u32::from(i + 1 == n))
                .collect(),
        )
    }

    /// The label field of a withdrawal.
    pub fn withdrawn() -> LabelStack {
        LabelStack(vec![WITHDRAW_LABEL])
    }

    /// The 20-bit label values.
    pub fn labels(&self) -> Vec<u32> {
        self.0.iter().map(|e| e >> 4).collect()
    }

    fn wire_len(&self) -> usize {
        self.0.len() * LABEL_LEN
    }
}

/// RFC 4364 §4.2 route distinguisher, kept as its 8 octets (type 0, 1, 2 or any other).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RouteDistinguisher(pub [u8; RD_LEN]);

impl fmt::Display for RouteDistinguisher {
    /// `ASN:N` (types 0 and 2), `A.B.C.D:N` (type 1), otherwise `0x` and the hex.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = &self.0;
        let u16_at = |i: usize| u16::from_be_bytes([b[i], b[i + 1]]);
        let u32_at = |i: usize| u32::from_be_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        match u16_at(0) {
            0 => write!(f, "{}:{}", u16_at(2), u32_at(4)),
            1 => write!(f, "{}:{}", Ipv4Addr::new(b[2], b[3], b[4], b[5]), u16_at(6)),
            2 => write!(f, "{}:{}", u32_at(2), u16_at(6)),
            _ => write!(f, "0x{}", super::attribute::hex(b)),
        }
    }
}

/// Why a route distinguisher does not parse.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RdError(pub &'static str);

impl fmt::Display for RdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl FromStr for RouteDistinguisher {
    type Err = RdError;

    /// `ASN2:N32` (type 0), `A.B.C.D:N16` (type 1), `ASN4:N16` (type 2, ASN > 65535).
    fn from_str(s: &str) -> Result<Self, RdError> {
        const FORMS: &str =
            "ASN:NUMBER (type 0 or 2) or A.B.C.D:NUMBER (type 1), e.g. 65000:1 or 192.0.2.1:1";
        let (admin, number) = s.rsplit_once(':').ok_or(RdError(FORMS))?;
        let number: u64 = number.parse().map_err(|_| RdError(FORMS))?;
        let mut b = [0u8; RD_LEN];
        if let Ok(ip) = admin.parse::<Ipv4Addr>() {
            let n = u16::try_from(number)
                .map_err(|_| RdError("the number of an A.B.C.D:N distinguisher is 0..65535"))?;
            b[..2].copy_from_slice(&1u16.to_be_bytes());
            b[2..6].copy_from_slice(&ip.octets());
            b[6..].copy_from_slice(&n.to_be_bytes());
            return Ok(RouteDistinguisher(b));
        }
        let asn: u32 = admin.parse().map_err(|_| RdError(FORMS))?;
        if let Ok(asn) = u16::try_from(asn) {
            let n = u32::try_from(number)
                .map_err(|_| RdError("the number of an ASN2:N distinguisher is 0..4294967295"))?;
            b[2..4].copy_from_slice(&asn.to_be_bytes());
            b[4..].copy_from_slice(&n.to_be_bytes());
        } else {
            let n = u16::try_from(number)
                .map_err(|_| RdError("the number of an ASN4:N distinguisher is 0..65535"))?;
            b[..2].copy_from_slice(&2u16.to_be_bytes());
            b[2..6].copy_from_slice(&asn.to_be_bytes());
            b[6..].copy_from_slice(&n.to_be_bytes());
        }
        Ok(RouteDistinguisher(b))
    }
}

/// One labeled NLRI entry.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LabeledPrefix {
    /// RFC 7911 path identifier, when ADD-PATH applies to the family.
    pub path_id: Option<u32>,
    pub labels: LabelStack,
    /// Present for SAFI 128 only.
    pub rd: Option<RouteDistinguisher>,
    pub prefix: Prefix,
}

impl LabeledPrefix {
    /// Octets on the wire.
    pub fn wire_len(&self) -> usize {
        let id = if self.path_id.is_some() { 4 } else { 0 };
        let rd = if self.rd.is_some() { RD_LEN } else { 0 };
        id + 1 + self.labels.wire_len() + rd + (self.prefix.len() as usize).div_ceil(8)
    }

    pub fn emit(&self, out: &mut Vec<u8>) {
        if let Some(id) = self.path_id {
            out.extend_from_slice(&id.to_be_bytes());
        }
        let rd_bits = if self.rd.is_some() { RD_LEN * 8 } else { 0 };
        let bits = self.labels.wire_len() * 8 + rd_bits + self.prefix.len() as usize;
        out.push(bits as u8);
        for e in &self.labels.0 {
            out.extend_from_slice(&e.to_be_bytes()[1..]);
        }
        if let Some(rd) = &self.rd {
            out.extend_from_slice(&rd.0);
        }
        let n = (self.prefix.len() as usize).div_ceil(8);
        match self.prefix.addr() {
            IpAddr::V4(a) => out.extend_from_slice(&a.octets()[..n]),
            IpAddr::V6(a) => out.extend_from_slice(&a.octets()[..n]),
        }
    }
}

impl fmt::Display for LabeledPrefix {
    /// `[ID@][RD/]PREFIX#L1,L2` (`#withdrawn` for the withdrawal label).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(id) = self.path_id {
            write!(f, "{id}@")?;
        }
        if let Some(rd) = &self.rd {
            write!(f, "{rd}/")?;
        }
        write!(f, "{}#", self.prefix)?;
        if self.labels.0 == [WITHDRAW_LABEL] {
            return f.write_str("withdrawn");
        }
        let labels: Vec<String> = self.labels.labels().iter().map(u32::to_string).collect();
        f.write_str(&labels.join(","))
    }
}

/// Whether `family` carries labeled NLRI (SAFI 4 or 128 of IPv4 or IPv6).
pub fn is_labeled(family: Family) -> bool {
    matches!(family.safi, Safi::MplsLabel | Safi::MplsVpn)
        && matches!(family.afi, Afi::Ipv4 | Afi::Ipv6)
}

/// Decodes the NLRI of a labeled family. `None` when a length does not fit, the label stack
/// has no bottom, or the bytes run out mid-entry.
pub fn decode_labeled(bytes: &[u8], family: Family, add_path: bool) -> Option<Vec<LabeledPrefix>> {
    let max = match family.afi {
        Afi::Ipv4 => 32,
        Afi::Ipv6 => 128,
        Afi::Unknown(_) => return None,
    };
    let vpn = family.safi == Safi::MplsVpn;
    let mut r = Reader::new(bytes);
    let mut out = Vec::new();
    while !r.is_empty() {
        let path_id = if add_path { Some(r.u32().ok()?) } else { None };
        let mut bits = r.u8().ok()? as usize;
        let mut labels = Vec::new();
        loop {
            bits = bits.checked_sub(LABEL_LEN * 8)?;
            let e = r.array::<3>().ok()?;
            let entry = u32::from_be_bytes([0, e[0], e[1], e[2]]);
            labels.push(entry);
            // A withdrawal's label field (0x800000, or 0 from some speakers) has no S bit.
            if entry & BOTTOM_OF_STACK != 0 || entry == WITHDRAW_LABEL || entry == 0 {
                break;
            }
        }
        let rd = if vpn {
            bits = bits.checked_sub(RD_LEN * 8)?;
            Some(RouteDistinguisher(r.array::<8>().ok()?))
        } else {
            None
        };
        if bits > max {
            return None;
        }
        out.push(LabeledPrefix {
            path_id,
            labels: LabelStack(labels),
            rd,
            prefix: Prefix::read_bits(&mut r, family.afi, u8::try_from(bits).ok()?)?,
        });
    }
    Some(out)
}

/// RFC 4364 §4.3.2 / RFC 4659 §3.2.1: a VPN next hop is a zero RD then the address(es).
/// Returns the addresses when every RD is zero.
pub fn decode_vpn_next_hop(nh: &[u8]) -> Option<Vec<IpAddr>> {
    let zero = [0u8; RD_LEN];
    let addr = |c: &[u8]| -> Option<IpAddr> {
        let (rd, a) = c.split_at(RD_LEN);
        (rd == zero).then_some(())?;
        match a.len() {
            4 => Some(IpAddr::V4(Ipv4Addr::from(<[u8; 4]>::try_from(a).ok()?))),
            16 => Some(IpAddr::V6(Ipv6Addr::from(<[u8; 16]>::try_from(a).ok()?))),
            _ => None,
        }
    };
    match nh.len() {
        12 | 24 => Some(vec![addr(nh)?]),
        48 => Some(vec![addr(&nh[..24])?, addr(&nh[24..])?]),
        _ => None,
    }
}

/// The VPN form of `addresses`: each prefixed by a zero RD.
pub fn emit_vpn_next_hop(addresses: &[IpAddr], out: &mut Vec<u8>) {
    for a in addresses {
        out.extend_from_slice(&[0u8; RD_LEN]);
        match a {
            IpAddr::V4(a) => out.extend_from_slice(&a.octets()),
            IpAddr::V6(a) => out.extend_from_slice(&a.octets()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Prefix {
        let (a, l) = s.split_once('/').unwrap();
        Prefix::new(a.parse().unwrap(), l.parse().unwrap()).unwrap()
    }

    #[test]
    fn rd_types_parse_and_print() {
        for (text, bytes) in [
            ("65000:1", [0, 0, 0xfd, 0xe8, 0, 0, 0, 1]),
            ("192.0.2.1:7", [0, 1, 192, 0, 2, 1, 0, 7]),
            ("4200000001:5", [0, 2, 0xfa, 0x56, 0xea, 0x01, 0, 5]),
        ] {
            let rd: RouteDistinguisher = text.parse().unwrap();
            assert_eq!(rd.0, bytes, "{text}");
            assert_eq!(rd.to_string(), text);
        }
        assert!("65000".parse::<RouteDistinguisher>().is_err());
        assert!("4200000001:70000".parse::<RouteDistinguisher>().is_err());
    }

    #[test]
    fn labeled_and_vpn_round_trip() {
        let v4 = Family::new(Afi::Ipv4, Safi::MplsLabel);
        let lp = LabeledPrefix {
            path_id: None,
            labels: LabelStack::from_labels(&[100, 200]),
            rd: None,
            prefix: p("198.51.100.0/24"),
        };
        let mut b = Vec::new();
        lp.emit(&mut b);
        // 48 + 24 bits; 100 << 4 = 0x000640, 200 << 4 | S = 0x000c81.
        assert_eq!(b, [72, 0x00, 0x06, 0x40, 0x00, 0x0c, 0x81, 198, 51, 100]);
        assert_eq!(b.len(), lp.wire_len());
        assert_eq!(decode_labeled(&b, v4, false), Some(vec![lp.clone()]));
        assert_eq!(lp.to_string(), "198.51.100.0/24#100,200");

        let vpn6 = Family::new(Afi::Ipv6, Safi::MplsVpn);
        let vp = LabeledPrefix {
            path_id: Some(3),
            labels: LabelStack::from_labels(&[16]),
            rd: Some("65000:1".parse().unwrap()),
            prefix: p("2001:db8:1::/48"),
        };
        let mut b = Vec::new();
        vp.emit(&mut b);
        assert_eq!(b.len(), vp.wire_len());
        assert_eq!(decode_labeled(&b, vpn6, true), Some(vec![vp.clone()]));
        assert_eq!(vp.to_string(), "3@65000:1/2001:db8:1::/48#16");
    }

    #[test]
    fn truncated_or_bottomless_stacks_are_refused() {
        let v4 = Family::new(Afi::Ipv4, Safi::MplsLabel);
        assert_eq!(decode_labeled(&[16, 0, 6, 0x40], v4, false), None);
        assert_eq!(decode_labeled(&[48, 0, 6, 0x41, 198], v4, false), None);
        assert_eq!(
            decode_labeled(&[60, 0, 6, 0x41, 198, 51, 100, 0], v4, false),
            None
        );
    }

    #[test]
    fn vpn_next_hop_round_trips() {
        let a: Vec<IpAddr> = vec!["192.0.2.1".parse().unwrap()];
        let mut b = Vec::new();
        emit_vpn_next_hop(&a, &mut b);
        assert_eq!(b.len(), 12);
        assert_eq!(decode_vpn_next_hop(&b), Some(a));
        let mut rd_set = b.clone();
        rd_set[7] = 1;
        assert_eq!(decode_vpn_next_hop(&rd_set), None);
    }
}
