//! Capabilities advertised in OPEN (RFC 5492), each with its decoder and encoder.

use std::fmt;

use super::family::{Afi, Family, Safi};
use super::reader::{Reader, Truncated};

/// Capability codes (IANA "Capability Codes").
pub mod code {
    pub const MULTIPROTOCOL: u8 = 1; // RFC 4760
    pub const ROUTE_REFRESH: u8 = 2; // RFC 2918
    pub const EXTENDED_NEXT_HOP: u8 = 5; // RFC 8950
    pub const EXTENDED_MESSAGE: u8 = 6; // RFC 8654
    pub const ROLE: u8 = 9; // RFC 9234
    pub const GRACEFUL_RESTART: u8 = 64; // RFC 4724
    pub const FOUR_OCTET_AS: u8 = 65; // RFC 6793
    pub const ADD_PATH: u8 = 69; // RFC 7911
    pub const ENHANCED_ROUTE_REFRESH: u8 = 70; // RFC 7313
    pub const LONG_LIVED_GRACEFUL_RESTART: u8 = 71; // RFC 9494
    pub const FQDN: u8 = 73; // draft-walton-bgp-hostname-capability
    pub const SOFTWARE_VERSION: u8 = 75; // draft-abraitis-bgp-version-capability
    pub const PATHS_LIMIT: u8 = 76; // draft-abraitis-idr-addpath-paths-limit
    pub const CISCO_ROUTE_REFRESH: u8 = 128;
}

/// RFC 7911 §4 send/receive flags.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AddPathMode(pub u8);

impl AddPathMode {
    pub fn receive(self) -> bool {
        self.0 & 1 != 0
    }
    pub fn send(self) -> bool {
        self.0 & 2 != 0
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GracefulRestart {
    /// The 4 flag bits (R = 0x8, N = 0x4).
    pub flags: u8,
    /// 12 bits.
    pub time: u16,
    /// Family and its flags (forwarding state preserved = 0x80).
    pub families: Vec<(Family, u8)>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Capability {
    Multiprotocol(Family),
    RouteRefresh,
    CiscoRouteRefresh,
    /// NLRI family and the next-hop AFI it may use.
    ExtendedNextHop(Vec<(Family, Afi)>),
    ExtendedMessage,
    GracefulRestart(GracefulRestart),
    FourOctetAs(u32),
    AddPath(Vec<(Family, AddPathMode)>),
    EnhancedRouteRefresh,
    /// RFC 9234 BGP Role: the value as sent (see `wire::role::Role` for the assigned ones).
    Role(u8),
    /// RFC 9494: family, flags and 24-bit stale time, kept raw per family.
    LongLivedGracefulRestart(Vec<(Family, u8, u32)>),
    Fqdn {
        hostname: String,
        domain: String,
    },
    SoftwareVersion(String),
    Unknown {
        code: u8,
        value: Vec<u8>,
    },
}

fn family(r: &mut Reader) -> Result<Family, Truncated> {
    let afi = Afi::from_u16(r.u16()?);
    let _reserved = r.u8()?;
    let safi = Safi::from_u8(r.u8()?);
    Ok(Family::new(afi, safi))
}

fn emit_family(f: Family, out: &mut Vec<u8>) {
    out.extend_from_slice(&f.afi.to_u16().to_be_bytes());
    out.push(0);
    out.push(f.safi.to_u8());
}

/// A length-prefixed string; `None` when it is not UTF-8 (the capability is then kept raw,
/// because a lossy conversion would not re-encode to the same value).
fn short_string(r: &mut Reader) -> Result<Option<String>, Truncated> {
    let len = r.u8()? as usize;
    Ok(String::from_utf8(r.bytes(len)?.to_vec()).ok())
}

/// Why the value of a capability we know is malformed (its length or content does not
/// match its definition).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CapabilityError {
    pub code: u8,
    pub why: &'static str,
    /// RFC 7607: a 4-octet AS of 0 is a Bad Peer AS (2/2); anything else gets OPEN Message
    /// Error with the unspecific subcode 0, as BIRD and FRR send.
    pub bad_peer_as: bool,
}

impl fmt::Display for CapabilityError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "malformed capability {}: {}", self.code, self.why)
    }
}

/// Checks the length and content of a capability whose code we know (RFC 5492 §3 lets a
/// speaker ignore unknown ones, not malformed known ones).
pub fn check(cap: u8, value: &[u8]) -> Result<(), CapabilityError> {
    let err = |why| {
        Err(CapabilityError {
            code: cap,
            why,
            bad_peer_as: false,
        })
    };
    let n = value.len();
    match cap {
        code::MULTIPROTOCOL if n != 4 => err("length is not 4 (RFC 4760 §8)"),
        code::ROUTE_REFRESH | code::CISCO_ROUTE_REFRESH if n != 0 => {
            err("length is not 0 (RFC 2918 §3)")
        }
        code::EXTENDED_MESSAGE if n != 0 => err("length is not 0 (RFC 8654 §3)"),
        code::ENHANCED_ROUTE_REFRESH if n != 0 => err("length is not 0 (RFC 7313 §3)"),
        code::ROLE if n != 1 => err("length is not 1 (RFC 9234 §4.1)"),
        code::FOUR_OCTET_AS if n != 4 => err("length is not 4 (RFC 6793 §3)"),
        code::FOUR_OCTET_AS if value == [0, 0, 0, 0] => Err(CapabilityError {
            code: cap,
            why: "AS 0 (RFC 7607 §2)",
            bad_peer_as: true,
        }),
        code::EXTENDED_NEXT_HOP if !n.is_multiple_of(6) => {
            err("length is not a multiple of 6 (RFC 8950 §3)")
        }
        code::GRACEFUL_RESTART if n < 2 || !(n - 2).is_multiple_of(4) => {
            err("length is not 2 + 4 per family (RFC 4724 §3)")
        }
        code::ADD_PATH if !n.is_multiple_of(4) => {
            err("length is not a multiple of 4 (RFC 7911 §4)")
        }
        code::LONG_LIVED_GRACEFUL_RESTART if !n.is_multiple_of(7) => {
            err("length is not a multiple of 7 (RFC 9494 §3)")
        }
        code::FQDN => {
            let host = value.first().map(|&l| l as usize);
            let domain = host.and_then(|h| value.get(1 + h)).map(|&l| l as usize);
            match (host, domain) {
                (Some(h), Some(d)) if 2 + h + d == n => Ok(()),
                _ => err("hostname and domain lengths do not add up"),
            }
        }
        code::SOFTWARE_VERSION => match value.first() {
            Some(&l) if 1 + l as usize == n => Ok(()),
            _ => err("version length does not add up"),
        },
        _ => Ok(()),
    }
}

impl Capability {
    pub fn code(&self) -> u8 {
        match self {
            Capability::Multiprotocol(_) => code::MULTIPROTOCOL,
            Capability::RouteRefresh => code::ROUTE_REFRESH,
            Capability::CiscoRouteRefresh => code::CISCO_ROUTE_REFRESH,
            Capability::ExtendedNextHop(_) => code::EXTENDED_NEXT_HOP,
            Capability::ExtendedMessage => code::EXTENDED_MESSAGE,
            Capability::GracefulRestart(_) => code::GRACEFUL_RESTART,
            Capability::FourOctetAs(_) => code::FOUR_OCTET_AS,
            Capability::AddPath(_) => code::ADD_PATH,
            Capability::EnhancedRouteRefresh => code::ENHANCED_ROUTE_REFRESH,
            Capability::Role(_) => code::ROLE,
            Capability::LongLivedGracefulRestart(_) => code::LONG_LIVED_GRACEFUL_RESTART,
            Capability::Fqdn { .. } => code::FQDN,
            Capability::SoftwareVersion(_) => code::SOFTWARE_VERSION,
            Capability::Unknown { code, .. } => *code,
        }
    }

    /// Decodes one capability value. A value that does not parse as its code says is kept
    /// as `Unknown` (RFC 5492 lets a speaker ignore capabilities it does not understand).
    pub fn decode(code: u8, value: &[u8]) -> Capability {
        Capability::decode_known(code, value).unwrap_or_else(|_| Capability::Unknown {
            code,
            value: value.to_vec(),
        })
    }

    fn decode_known(cap: u8, value: &[u8]) -> Result<Capability, Truncated> {
        let unknown = || Capability::Unknown {
            code: cap,
            value: value.to_vec(),
        };
        let mut r = Reader::new(value);
        let parsed = match cap {
            code::MULTIPROTOCOL if value.len() == 4 => Capability::Multiprotocol(family(&mut r)?),
            code::ROUTE_REFRESH if value.is_empty() => Capability::RouteRefresh,
            code::CISCO_ROUTE_REFRESH if value.is_empty() => Capability::CiscoRouteRefresh,
            code::EXTENDED_MESSAGE if value.is_empty() => Capability::ExtendedMessage,
            code::ENHANCED_ROUTE_REFRESH if value.is_empty() => Capability::EnhancedRouteRefresh,
            code::FOUR_OCTET_AS if value.len() == 4 => Capability::FourOctetAs(r.u32()?),
            code::ROLE if value.len() == 1 => Capability::Role(r.u8()?),
            code::EXTENDED_NEXT_HOP if value.len().is_multiple_of(6) => {
                let mut v = Vec::new();
                while !r.is_empty() {
                    let afi = Afi::from_u16(r.u16()?);
                    let safi = Safi::from_u8(r.u16()? as u8);
                    let nh = Afi::from_u16(r.u16()?);
                    v.push((Family::new(afi, safi), nh));
                }
                Capability::ExtendedNextHop(v)
            }
            code::GRACEFUL_RESTART if value.len() >= 2 && (value.len() - 2).is_multiple_of(4) => {
                let head = r.u16()?;
                let mut families = Vec::new();
                while !r.is_empty() {
                    let afi = Afi::from_u16(r.u16()?);
                    let safi = Safi::from_u8(r.u8()?);
                    let flags = r.u8()?;
                    families.push((Family::new(afi, safi), flags));
                }
                Capability::GracefulRestart(GracefulRestart {
                    flags: (head >> 12) as u8,
                    time: head & 0x0FFF,
                    families,
                })
            }
            code::ADD_PATH if value.len().is_multiple_of(4) => {
                let mut v = Vec::new();
                while !r.is_empty() {
                    let afi = Afi::from_u16(r.u16()?);
                    let safi = Safi::from_u8(r.u8()?);
                    v.push((Family::new(afi, safi), AddPathMode(r.u8()?)));
                }
                Capability::AddPath(v)
            }
            code::LONG_LIVED_GRACEFUL_RESTART if value.len().is_multiple_of(7) => {
                let mut v = Vec::new();
                while !r.is_empty() {
                    let afi = Afi::from_u16(r.u16()?);
                    let safi = Safi::from_u8(r.u8()?);
                    let flags = r.u8()?;
                    let [a, b, c] = r.array::<3>()?;
                    v.push((
                        Family::new(afi, safi),
                        flags,
                        u32::from_be_bytes([0, a, b, c]),
                    ));
                }
                Capability::LongLivedGracefulRestart(v)
            }
            code::FQDN => match (short_string(&mut r)?, short_string(&mut r)?) {
                (Some(hostname), Some(domain)) => Capability::Fqdn { hostname, domain },
                _ => return Ok(unknown()),
            },
            code::SOFTWARE_VERSION => match short_string(&mut r)? {
                Some(v) => Capability::SoftwareVersion(v),
                None => return Ok(unknown()),
            },
            _ => {
                return Ok(Capability::Unknown {
                    code: cap,
                    value: value.to_vec(),
                });
            }
        };
        if !r.is_empty() {
            return Ok(Capability::Unknown {
                code: cap,
                value: value.to_vec(),
            });
        }
        Ok(parsed)
    }

    /// Appends the capability value (without code and length).
    pub fn emit_value(&self, out: &mut Vec<u8>) {
        match self {
            Capability::Multiprotocol(f) => emit_family(*f, out),
            Capability::RouteRefresh
            | Capability::CiscoRouteRefresh
            | Capability::ExtendedMessage
            | Capability::EnhancedRouteRefresh => {}
            Capability::ExtendedNextHop(v) => {
                for (f, nh) in v {
                    out.extend_from_slice(&f.afi.to_u16().to_be_bytes());
                    out.extend_from_slice(&(f.safi.to_u8() as u16).to_be_bytes());
                    out.extend_from_slice(&nh.to_u16().to_be_bytes());
                }
            }
            Capability::GracefulRestart(gr) => {
                let head = ((gr.flags as u16 & 0xF) << 12) | (gr.time & 0x0FFF);
                out.extend_from_slice(&head.to_be_bytes());
                for (f, flags) in &gr.families {
                    out.extend_from_slice(&f.afi.to_u16().to_be_bytes());
                    out.push(f.safi.to_u8());
                    out.push(*flags);
                }
            }
            Capability::FourOctetAs(asn) => out.extend_from_slice(&asn.to_be_bytes()),
            Capability::Role(v) => out.push(*v),
            Capability::AddPath(v) => {
                for (f, mode) in v {
                    out.extend_from_slice(&f.afi.to_u16().to_be_bytes());
                    out.push(f.safi.to_u8());
                    out.push(mode.0);
                }
            }
            Capability::LongLivedGracefulRestart(v) => {
                for (f, flags, time) in v {
                    out.extend_from_slice(&f.afi.to_u16().to_be_bytes());
                    out.push(f.safi.to_u8());
                    out.push(*flags);
                    out.extend_from_slice(&time.to_be_bytes()[1..]);
                }
            }
            Capability::Fqdn { hostname, domain } => {
                for s in [hostname, domain] {
                    let b = &s.as_bytes()[..s.len().min(255)];
                    out.push(b.len() as u8);
                    out.extend_from_slice(b);
                }
            }
            Capability::SoftwareVersion(s) => {
                let b = &s.as_bytes()[..s.len().min(255)];
                out.push(b.len() as u8);
                out.extend_from_slice(b);
            }
            Capability::Unknown { value, .. } => out.extend_from_slice(value),
        }
    }
}

impl fmt::Display for Capability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Capability::Multiprotocol(fam) => write!(f, "multiprotocol {fam}"),
            Capability::RouteRefresh => f.write_str("route-refresh"),
            Capability::CiscoRouteRefresh => f.write_str("route-refresh (cisco)"),
            Capability::ExtendedNextHop(v) => {
                f.write_str("extended-next-hop")?;
                for (fam, nh) in v {
                    write!(f, " {fam} nh-afi {}", nh.to_u16())?;
                }
                Ok(())
            }
            Capability::ExtendedMessage => f.write_str("extended-message"),
            Capability::GracefulRestart(gr) => {
                write!(
                    f,
                    "graceful-restart time {} flags 0x{:x}",
                    gr.time, gr.flags
                )?;
                for (fam, fl) in &gr.families {
                    write!(f, " {fam} (0x{fl:02x})")?;
                }
                Ok(())
            }
            Capability::FourOctetAs(a) => write!(f, "asn4 {a}"),
            Capability::AddPath(v) => {
                f.write_str("add-path")?;
                for (fam, m) in v {
                    let mode = match (m.receive(), m.send()) {
                        (true, true) => "send/receive",
                        (true, false) => "receive",
                        (false, true) => "send",
                        (false, false) => "none",
                    };
                    write!(f, " {fam} {mode}")?;
                }
                Ok(())
            }
            Capability::EnhancedRouteRefresh => f.write_str("enhanced-route-refresh"),
            Capability::Role(v) => match crate::wire::role::Role::from_u8(*v) {
                Some(r) => write!(f, "role {r}"),
                None => write!(f, "role {v} (unassigned)"),
            },
            Capability::LongLivedGracefulRestart(v) => {
                f.write_str("long-lived-graceful-restart")?;
                for (fam, fl, t) in v {
                    write!(f, " {fam} flags 0x{fl:02x} stale {t}")?;
                }
                Ok(())
            }
            Capability::Fqdn { hostname, domain } => {
                write!(f, "hostname {:?} domain {:?}", hostname, domain)
            }
            Capability::SoftwareVersion(s) => write!(f, "software-version {s:?}"),
            Capability::Unknown { code, value } => {
                write!(f, "capability {code} value ")?;
                for b in value {
                    write!(f, "{b:02x}")?;
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_utf8_hostname_is_kept_raw_so_it_round_trips() {
        let mut value = vec![100];
        value.extend_from_slice(&[0xFF; 100]);
        value.push(0);
        let cap = Capability::decode(code::FQDN, &value);
        assert!(matches!(cap, Capability::Unknown { .. }));
        let mut again = Vec::new();
        cap.emit_value(&mut again);
        assert_eq!(again, value);
    }
}

#[cfg(test)]
mod role_tests {
    use super::*;

    #[test]
    fn role_capability_is_one_octet_and_any_other_length_is_malformed() {
        assert_eq!(Capability::decode(code::ROLE, &[3]), Capability::Role(3));
        assert_eq!(
            Capability::decode(code::ROLE, &[200]),
            Capability::Role(200)
        );
        assert!(check(code::ROLE, &[3]).is_ok());
        for bad in [&[][..], &[3, 3][..], &[0; 255][..]] {
            let e = check(code::ROLE, bad).unwrap_err();
            assert_eq!(e.code, code::ROLE);
            assert!(!e.bad_peer_as);
            // Kept raw rather than misread, should it get past `check`.
            assert!(matches!(
                Capability::decode(code::ROLE, bad),
                Capability::Unknown { .. }
            ));
        }
        assert_eq!(Capability::Role(3).to_string(), "role customer");
        assert_eq!(Capability::Role(9).to_string(), "role 9 (unassigned)");
    }

    #[test]
    fn llgr_value_decodes_per_family_and_a_partial_family_is_malformed() {
        let v = [
            0, 1, 1, 0x80, 0x01, 0x00, 0x00, 0, 2, 1, 0, 0xff, 0xff, 0xff,
        ];
        let cap = Capability::decode(code::LONG_LIVED_GRACEFUL_RESTART, &v);
        assert_eq!(
            cap,
            Capability::LongLivedGracefulRestart(vec![
                (Family::IPV4_UNICAST, 0x80, 65536),
                (Family::IPV6_UNICAST, 0, 16_777_215)
            ])
        );
        assert_eq!(
            cap.to_string(),
            "long-lived-graceful-restart ipv4 unicast flags 0x80 stale 65536 ipv6 unicast flags 0x00 stale 16777215"
        );
        let mut again = Vec::new();
        cap.emit_value(&mut again);
        assert_eq!(again, v);
        assert!(check(code::LONG_LIVED_GRACEFUL_RESTART, &v[..8]).is_err());
    }
}
