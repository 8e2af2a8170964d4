//! Community-like route attribute values in ExaBGP notation: communities, extended
//! communities, large communities and the aggregator.

use crate::rib::attributes::Aggregator;
use crate::wire::community::{Community, ExtendedCommunity, LargeCommunity};

use super::values::{self, ValueError};

/// RFC 4360 §3: type high octets of the transitive forms (2-octet AS, IPv4, 4-octet AS).
/// RFC 5668 defines the 4-octet AS form with the same subtypes.
const EXT_TYPE_AS2: u8 = 0x00;
const EXT_TYPE_IPV4: u8 = 0x01;
const EXT_TYPE_AS4: u8 = 0x02;
/// RFC 4360 §4: route target and route origin subtypes.
const EXT_SUBTYPE_TARGET: u8 = 0x02;
const EXT_SUBTYPE_ORIGIN: u8 = 0x03;

/// `ASN:VALUE` (each 0..65535), a well-known name such as `no-export`, or a plain 32-bit number.
pub fn community(text: &str) -> Result<Community, ValueError> {
    if let Some(c) = Community::by_name(text) {
        return Ok(c);
    }
    match text.split_once(':') {
        Some((high, low)) => {
            let part = |t: &str| {
                values::u16_value(t).map_err(|_| ValueError::Malformed {
                    expected: "a community ASN:VALUE with both parts in 0..65535",
                })
            };
            Ok(Community::from_parts(part(high)?, part(low)?))
        }
        None => values::u32_value(text)
            .map(Community)
            .map_err(|_| ValueError::Malformed {
                expected: "a community (ASN:VALUE, a 32-bit number, or a name like no-export)",
            }),
    }
}

/// `GLOBAL:LOCAL1:LOCAL2`, each a 32-bit number.
pub fn large_community(text: &str) -> Result<LargeCommunity, ValueError> {
    const SHAPE: ValueError = ValueError::Malformed {
        expected: "a large community GLOBAL:LOCAL1:LOCAL2 with each part in 0..4294967295",
    };
    let parts: Vec<&str> = text.split(':').collect();
    let [g, l1, l2] = parts.as_slice() else {
        return Err(SHAPE);
    };
    let part = |t: &str| values::u32_value(t).map_err(|_| SHAPE);
    Ok(LargeCommunity {
        global: part(g)?,
        local1: part(l1)?,
        local2: part(l2)?,
    })
}

/// `target:ADMIN:VALUE`, `origin:ADMIN:VALUE`, or 8 raw octets as `0x` and 16 hex digits.
/// ADMIN is a 2-octet ASN (VALUE 32 bits), an IPv4 address (VALUE 16 bits), or a 4-octet
/// ASN, marked by an `L` suffix or by not fitting in 16 bits (VALUE 16 bits).
pub fn extended_community(text: &str) -> Result<ExtendedCommunity, ValueError> {
    const SHAPE: ValueError = ValueError::Malformed {
        expected: "an extended community target:ADMIN:VALUE, origin:ADMIN:VALUE or 0x followed by 16 hex digits",
    };
    if let Some(hex) = text.strip_prefix("0x") {
        if hex.len() != 16 {
            return Err(SHAPE);
        }
        let raw = u64::from_str_radix(hex, 16).map_err(|_| SHAPE)?;
        return Ok(ExtendedCommunity(raw.to_be_bytes()));
    }
    let parts: Vec<&str> = text.split(':').collect();
    let [kind, admin, value] = parts.as_slice() else {
        return Err(SHAPE);
    };
    let subtype = match kind.to_ascii_lowercase().as_str() {
        "target" => EXT_SUBTYPE_TARGET,
        "origin" => EXT_SUBTYPE_ORIGIN,
        _ => return Err(SHAPE),
    };
    let small_value = |t: &str| {
        values::u16_value(t).map_err(|_| ValueError::Malformed {
            expected: "an extended community whose VALUE is in 0..65535 (IPv4 or 4-octet AS administrator)",
        })
    };
    let mut b = [0u8; 8];
    b[1] = subtype;
    if let Ok(ip) = values::ipv4_address(admin) {
        b[0] = EXT_TYPE_IPV4;
        b[2..6].copy_from_slice(&ip.octets());
        b[6..8].copy_from_slice(&small_value(value)?.to_be_bytes());
        return Ok(ExtendedCommunity(b));
    }
    let (asn_text, forced_four_octet) = match admin.strip_suffix('L') {
        Some(t) => (t, true),
        None => (*admin, admin.contains('.')),
    };
    let asn = if asn_text.contains('.') {
        values::asn(asn_text)?
    } else {
        values::u32_value(asn_text).map_err(|_| ValueError::Malformed {
            expected: "an extended community whose administrator is an ASN or an IPv4 address",
        })?
    };
    if forced_four_octet || asn > u16::MAX as u32 {
        b[0] = EXT_TYPE_AS4;
        b[2..6].copy_from_slice(&asn.to_be_bytes());
        b[6..8].copy_from_slice(&small_value(value)?.to_be_bytes());
    } else {
        b[0] = EXT_TYPE_AS2;
        b[2..4].copy_from_slice(&(asn as u16).to_be_bytes());
        let v = values::u32_value(value).map_err(|_| ValueError::Malformed {
            expected: "an extended community whose VALUE is in 0..4294967295 (2-octet AS administrator)",
        })?;
        b[4..8].copy_from_slice(&v.to_be_bytes());
    }
    Ok(ExtendedCommunity(b))
}

/// `ASN:IPV4`, e.g. `65000:192.0.2.1`.
pub fn aggregator(text: &str) -> Result<Aggregator, ValueError> {
    let Some((asn, address)) = text.split_once(':') else {
        return Err(ValueError::Malformed {
            expected: "an aggregator ASN:IPV4-ADDRESS",
        });
    };
    Ok(Aggregator {
        asn: values::asn(asn)?,
        address: values::ipv4_address(address)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn communities_in_all_notations() {
        assert_eq!(community("65000:1"), Ok(Community(0xFDE8_0001)));
        assert_eq!(community("no-export"), Ok(Community(0xFFFF_FF01)));
        assert_eq!(community("NO-ADVERTISE"), Ok(Community(0xFFFF_FF02)));
        assert_eq!(community("4259840001"), Ok(Community(4259840001)));
        assert!(community("65536:1").is_err());
        assert!(community("1:65536").is_err());
        assert!(community("1:2:3").is_err());
        assert!(community("no-such-name").is_err());
        assert!(community("4294967296").is_err());
    }

    #[test]
    fn large_communities() {
        assert_eq!(
            large_community("4200000000:1:2"),
            Ok(LargeCommunity {
                global: 4200000000,
                local1: 1,
                local2: 2
            })
        );
        assert!(large_community("1:2").is_err());
        assert!(large_community("1:2:3:4").is_err());
        assert!(large_community("1:2:4294967296").is_err());
    }

    #[test]
    fn extended_community_two_octet_as_target() {
        let ec = extended_community("target:65000:1").unwrap();
        assert_eq!(ec.0, [0x00, 0x02, 0xFD, 0xE8, 0, 0, 0, 1]);
        assert_eq!(ec.to_string(), "target:65000:1");
    }

    #[test]
    fn extended_community_ipv4_origin() {
        let ec = extended_community("origin:192.0.2.1:5").unwrap();
        assert_eq!(ec.0, [0x01, 0x03, 192, 0, 2, 1, 0, 5]);
        assert!(extended_community("origin:192.0.2.1:65536").is_err());
    }

    #[test]
    fn extended_community_four_octet_as_by_suffix_or_size() {
        let ec = extended_community("target:4200000000L:1").unwrap();
        assert_eq!(ec.0, [0x02, 0x02, 0xFA, 0x56, 0xEA, 0x00, 0, 1]);
        assert_eq!(extended_community("target:4200000000:1"), Ok(ec));
        let small_l = extended_community("target:65000L:7").unwrap();
        assert_eq!(small_l.0, [0x02, 0x02, 0, 0, 0xFD, 0xE8, 0, 7]);
        assert!(extended_community("target:4200000000:65536").is_err());
    }

    #[test]
    fn extended_community_raw_hex() {
        let ec = extended_community("0x0002fde800000001").unwrap();
        assert_eq!(ec.0, [0x00, 0x02, 0xFD, 0xE8, 0, 0, 0, 1]);
        assert!(extended_community("0x0002fde8").is_err());
        assert!(extended_community("0x0002fde80000000g").is_err());
    }

    #[test]
    fn extended_community_refuses_unknown_kinds() {
        assert!(extended_community("redirect:65000:1").is_err());
        assert!(extended_community("target:65000").is_err());
        assert!(extended_community("target:x:1").is_err());
    }

    #[test]
    fn aggregator_asn_and_address() {
        let a = aggregator("65000:192.0.2.1").unwrap();
        assert_eq!((a.asn, a.address.to_string()), (65000, "192.0.2.1".into()));
        assert_eq!(aggregator("1.10:192.0.2.1").unwrap().asn, 65546);
        assert!(aggregator("0:192.0.2.1").is_err());
        assert!(aggregator("65000:2001:db8::1").is_err());
        assert!(aggregator("65000").is_err());
    }
}
