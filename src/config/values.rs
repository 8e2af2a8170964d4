//! Scalar values as operators write them: numbers, AS numbers, addresses, prefixes.
//! Each parser takes the token text and says what it expected when the text does not fit.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr};

use crate::wire::prefix::{Prefix, PrefixError};

/// Why a value was refused. Rendered after the statement's name, before "found 'TEXT'".
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ValueError {
    /// The text does not have the expected shape; `expected` names the shape.
    Malformed {
        expected: &'static str,
    },
    /// A number of the right shape but outside `range`.
    OutOfRange {
        range: &'static str,
    },
    /// RFC 7607: AS 0 must not be used.
    AsnZero,
    Prefix(PrefixError),
}

impl fmt::Display for ValueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ValueError::Malformed { expected } => write!(f, "expected {expected}"),
            ValueError::OutOfRange { range } => write!(f, "expected a value in {range}"),
            ValueError::AsnZero => f.write_str("AS number 0 is reserved (RFC 7607)"),
            ValueError::Prefix(e) => write!(f, "bad prefix: {e}"),
        }
    }
}

const ASN_SHAPE: &str = "an AS number (1..4294967295, or asdot like 1.10)";
const U32_RANGE: &str = "0..4294967295";

/// A decimal number of ASCII digits only (no sign, no spaces), as u64.
/// `None` when the text is not digits; `Some(Err)` when it is digits but overflows u64.
fn decimal(text: &str) -> Option<Result<u64, ()>> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(text.parse::<u64>().map_err(|_| ()))
}

/// A decimal number in `min..=max`; `range` is how that range is told to the operator.
pub fn number_in(text: &str, min: u64, max: u64, range: &'static str) -> Result<u64, ValueError> {
    match decimal(text) {
        None => Err(ValueError::Malformed {
            expected: "a decimal number",
        }),
        Some(Ok(n)) if (min..=max).contains(&n) => Ok(n),
        Some(_) => Err(ValueError::OutOfRange { range }),
    }
}

pub fn u32_value(text: &str) -> Result<u32, ValueError> {
    number_in(text, 0, u32::MAX as u64, U32_RANGE).map(|n| n as u32)
}

pub fn u16_value(text: &str) -> Result<u16, ValueError> {
    number_in(text, 0, u16::MAX as u64, "0..65535").map(|n| n as u16)
}

/// RFC 4271 §4.2: the hold time is 0 (no keepalives) or at least 3 seconds.
pub fn hold_time(text: &str) -> Result<u16, ValueError> {
    const RANGE: &str = "0 or 3..65535";
    let n = number_in(text, 0, u16::MAX as u64, RANGE)?;
    if n == 1 || n == 2 {
        return Err(ValueError::OutOfRange { range: RANGE });
    }
    Ok(n as u16)
}

/// A TCP port; 0 cannot be connected to or listened on by an operator's choice.
pub fn port(text: &str) -> Result<u16, ValueError> {
    number_in(text, 1, u16::MAX as u64, "1..65535").map(|n| n as u16)
}

/// An AS number, in asplain (`65546`) or asdot (`1.10`, RFC 5396) notation, not 0.
pub fn asn(text: &str) -> Result<u32, ValueError> {
    let value = match text.split_once('.') {
        Some((high, low)) => {
            let part = |t: &str| match decimal(t) {
                Some(Ok(n)) if n <= u16::MAX as u64 => Ok(n as u32),
                Some(_) => Err(ValueError::OutOfRange {
                    range: "asdot 0.1..65535.65535",
                }),
                None => Err(ValueError::Malformed {
                    expected: ASN_SHAPE,
                }),
            };
            (part(high)? << 16) | part(low)?
        }
        None => match decimal(text) {
            None => {
                return Err(ValueError::Malformed {
                    expected: ASN_SHAPE,
                });
            }
            Some(Ok(n)) if n <= u32::MAX as u64 => n as u32,
            Some(_) => {
                return Err(ValueError::OutOfRange {
                    range: "1..4294967295",
                });
            }
        },
    };
    if value == 0 {
        return Err(ValueError::AsnZero);
    }
    Ok(value)
}

pub fn ip_address(text: &str) -> Result<IpAddr, ValueError> {
    text.parse().map_err(|_| ValueError::Malformed {
        expected: "an IPv4 or IPv6 address",
    })
}

pub fn ipv4_address(text: &str) -> Result<Ipv4Addr, ValueError> {
    text.parse().map_err(|_| ValueError::Malformed {
        expected: "an IPv4 address",
    })
}

/// `ADDRESS/LENGTH`, or a bare address meaning a host route (/32 or /128) as in ExaBGP.
/// A dotted-quad IPv4 address read from its bytes, as the standard library's parser reads it
/// (four decimal octets of at most 255, no leading zero); `None` for anything else, which is
/// then given to that parser (IPv6, and the errors). A table of a million prefixes spends
/// less on this than on the general parser.
fn ipv4_octets(text: &str) -> Option<std::net::Ipv4Addr> {
    let mut octets = [0u8; 4];
    let mut bytes = text.as_bytes().iter();
    for (k, octet) in octets.iter_mut().enumerate() {
        // One to three digits, no leading zero, at most 255; then '.' (or the end after
        // the fourth).
        let (mut value, mut digits) = (0u16, 0usize);
        loop {
            match bytes.next() {
                Some(&d) if d.is_ascii_digit() => {
                    if digits == 3 || (digits == 1 && value == 0) {
                        return None;
                    }
                    value = value * 10 + u16::from(d - b'0');
                    digits += 1;
                }
                Some(b'.') if k < 3 && digits > 0 => break,
                None if k == 3 && digits > 0 => break,
                _ => return None,
            }
        }
        *octet = u8::try_from(value).ok()?;
    }
    Some(std::net::Ipv4Addr::from(octets))
}

pub fn prefix(text: &str) -> Result<Prefix, ValueError> {
    const SHAPE: ValueError = ValueError::Malformed {
        expected: "a prefix ADDRESS/LENGTH",
    };
    let (addr, len) = match text.split_once('/') {
        Some((addr, len)) => {
            let addr = match ipv4_octets(addr) {
                Some(v4) => IpAddr::V4(v4),
                None => addr.parse().map_err(|_| SHAPE)?,
            };
            let len = match decimal(len) {
                Some(Ok(n)) if n <= u8::MAX as u64 => n as u8,
                Some(_) => {
                    return Err(ValueError::OutOfRange {
                        range: "0..32 (IPv4) or 0..128 (IPv6)",
                    });
                }
                None => return Err(SHAPE),
            };
            (addr, len)
        }
        None => {
            let addr: IpAddr = text.parse().map_err(|_| SHAPE)?;
            let len = if addr.is_ipv4() { 32 } else { 128 };
            (addr, len)
        }
    };
    Prefix::new(addr, len).map_err(ValueError::Prefix)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The byte reader of IPv4 addresses accepts exactly what the standard parser accepts,
    /// with the same value.
    #[test]
    fn ipv4_octets_read_as_the_standard_parser() {
        let mut cases: Vec<String> = [
            "0.0.0.0",
            "10.0.0.1",
            "255.255.255.255",
            "256.0.0.1",
            "1.2.3",
            "1.2.3.4.5",
            "01.2.3.4",
            "1.02.3.4",
            "1.2.3.00",
            "1..3.4",
            ".1.2.3",
            "1.2.3.",
            "1.2.3.4 ",
            " 1.2.3.4",
            "1.2.3.+4",
            "1.2.3.-4",
            "1.2.3.1000",
            "1.2.3.0x1",
            "::1",
            "1.2.3.4/8",
            "",
            "١.2.3.4",
            "999.1.1.1",
            "1.2.3.25a",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        for a in [
            "0", "1", "9", "10", "99", "100", "199", "200", "249", "250", "255", "256", "300",
            "00", "000", "0255",
        ] {
            cases.push(format!("{a}.1.{a}.1"));
            cases.push(format!("1.{a}.1.{a}"));
        }
        for c in &cases {
            assert_eq!(
                ipv4_octets(c),
                c.parse::<std::net::Ipv4Addr>().ok(),
                "{c:?}"
            );
        }
    }

    #[test]
    fn asn_accepts_asplain_and_asdot() {
        assert_eq!(asn("65000"), Ok(65000));
        assert_eq!(asn("4294967295"), Ok(u32::MAX));
        assert_eq!(asn("1.10"), Ok(65546));
        assert_eq!(asn("0.65000"), Ok(65000));
        assert_eq!(asn("65535.65535"), Ok(u32::MAX));
    }

    #[test]
    fn asn_refuses_zero_overflow_and_garbage() {
        assert_eq!(asn("0"), Err(ValueError::AsnZero));
        assert_eq!(asn("0.0"), Err(ValueError::AsnZero));
        assert!(matches!(
            asn("4294967296"),
            Err(ValueError::OutOfRange { .. })
        ));
        assert!(matches!(asn("1.65536"), Err(ValueError::OutOfRange { .. })));
        assert!(matches!(asn("AS65000"), Err(ValueError::Malformed { .. })));
        assert!(matches!(asn("-1"), Err(ValueError::Malformed { .. })));
        assert!(matches!(asn("1.2.3"), Err(ValueError::Malformed { .. })));
        assert!(matches!(asn(""), Err(ValueError::Malformed { .. })));
    }

    #[test]
    fn hold_time_is_zero_or_at_least_three() {
        assert_eq!(hold_time("0"), Ok(0));
        assert_eq!(hold_time("3"), Ok(3));
        assert_eq!(hold_time("65535"), Ok(65535));
        for bad in ["1", "2", "65536", "99999999999999999999999"] {
            assert!(
                matches!(hold_time(bad), Err(ValueError::OutOfRange { .. })),
                "{bad}"
            );
        }
        assert!(matches!(hold_time("9O"), Err(ValueError::Malformed { .. })));
    }

    #[test]
    fn port_refuses_zero() {
        assert_eq!(port("1790"), Ok(1790));
        assert!(port("0").is_err());
        assert!(port("65536").is_err());
    }

    #[test]
    fn u32_values_cover_the_full_range() {
        assert_eq!(u32_value("4294967295"), Ok(u32::MAX));
        assert!(matches!(
            u32_value("4294967296"),
            Err(ValueError::OutOfRange { .. })
        ));
        assert!(matches!(u32_value("+5"), Err(ValueError::Malformed { .. })));
    }

    #[test]
    fn prefixes_with_lengths_and_host_routes() {
        assert_eq!(
            prefix("198.51.100.0/24").unwrap().to_string(),
            "198.51.100.0/24"
        );
        assert_eq!(
            prefix("2001:db8::/32").unwrap().to_string(),
            "2001:db8::/32"
        );
        assert_eq!(prefix("192.0.2.7").unwrap().to_string(), "192.0.2.7/32");
        assert_eq!(
            prefix("2001:db8::1").unwrap().to_string(),
            "2001:db8::1/128"
        );
    }

    #[test]
    fn prefix_with_host_bits_names_the_canonical_prefix() {
        let err = prefix("10.0.0.1/8").unwrap_err();
        assert!(err.to_string().contains("did you mean 10.0.0.0/8"), "{err}");
    }

    #[test]
    fn malformed_prefixes() {
        for bad in ["10.0.0/8", "10.0.0.0/x", "10.0.0.0/", "foo"] {
            assert!(
                matches!(prefix(bad), Err(ValueError::Malformed { .. })),
                "{bad}"
            );
        }
        assert!(matches!(
            prefix("10.0.0.0/33"),
            Err(ValueError::Prefix(PrefixError::LengthTooLong { .. }))
        ));
        assert!(matches!(
            prefix("10.0.0.0/300"),
            Err(ValueError::OutOfRange { .. })
        ));
    }
}
