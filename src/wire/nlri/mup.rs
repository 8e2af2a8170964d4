//! Mobile user plane NLRI (draft-mpmz-bess-mup-safi, SAFI 85) as GoBGP encodes it: an
//! architecture type (1 octet, 1 = 3GPP 5G), a route type (2), a length (1) and the
//! route's value. For the 3GPP 5G architecture:
//!
//! | type | name | value |
//! |---|---|---|
//! | 1 | interwork segment discovery (ISD) | RD 8, prefix length 1, prefix (its octets) |
//! | 2 | direct segment discovery (DSD) | RD, address 4/16 |
//! | 3 | type 1 session transformed (T1ST) | RD, prefix length, prefix, TEID 4, QFI 1, endpoint length 1 (32/128), endpoint, then (draft -03 on) source length 1 (0/32/128) and source |
//! | 4 | type 2 session transformed (T2ST) | RD, endpoint length 1 (address bits + TEID bits), endpoint 4/16, the TEID's leading octets |
//!
//! Other architectures and route types are kept as their octets.
//!
//! Text: ExaBGP's words, `mup-isd 10.0.1.0/24 rd 100:100`, `mup-dsd 10.0.0.1 rd 100:100`,
//! `mup-t1st 192.168.0.1/32 rd 100:100 teid 12345 qfi 9 endpoint 10.0.0.1 [source
//! 10.0.1.1]`, `mup-t2st 10.0.0.1 rd 100:100 teid 12345/32` (TEID and its length in bits).
//! JSON: GoBGP's field names, flattened: `{"arch_type", "route_type", "name", "rd",
//! "prefix", "address", "teid", "qfi", "endpoint_address", "source_address",
//! "endpoint_address_length"}`, each where the route type has the field.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use serde_json::{Value, json};

use super::{
    NlriError, NlriErrorKind, emit_ip, hex, ip_bits, read_bytes, read_ip_bits, read_ip_of, read_rd,
    read_sub, read_u8, read_u16, read_u32,
};
use crate::wire::family::Afi;
use crate::wire::labeled::RouteDistinguisher;
use crate::wire::reader::Reader;

/// draft-mpmz-bess-mup-safi §3.1: architecture type 1 is 3GPP 5G.
pub const ARCH_3GPP_5G: u8 = 1;

/// Route types (draft-mpmz-bess-mup-safi §3.1).
pub mod route_type {
    pub const ISD: u16 = 1;
    pub const DSD: u16 = 2;
    pub const T1ST: u16 = 3;
    pub const T2ST: u16 = 4;
}

/// A prefix as sent: the address holds the octets that were on the wire, zero after.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MupPrefix {
    pub addr: IpAddr,
    pub len: u8,
}

impl MupPrefix {
    fn read(r: &mut Reader, afi: Afi) -> Result<MupPrefix, NlriError> {
        let at = r.offset();
        let len = read_u8(r, "MUP prefix length")?;
        let max = if afi == Afi::Ipv6 { 128 } else { 32 };
        if len > max {
            return Err(NlriError::value(
                at,
                "MUP prefix length",
                len.into(),
                if afi == Afi::Ipv6 {
                    "at most 128 for IPv6"
                } else {
                    "at most 32 for IPv4"
                },
            ));
        }
        let n = usize::from(len).div_ceil(8);
        let octets = read_bytes(r, n, "MUP prefix")?;
        let addr = if afi == Afi::Ipv6 {
            let mut a = [0u8; 16];
            a[..n].copy_from_slice(octets);
            IpAddr::V6(Ipv6Addr::from(a))
        } else {
            let mut a = [0u8; 4];
            a[..n].copy_from_slice(octets);
            IpAddr::V4(Ipv4Addr::from(a))
        };
        Ok(MupPrefix { addr, len })
    }

    fn emit(&self, out: &mut Vec<u8>) {
        out.push(self.len);
        let n = usize::from(self.len).div_ceil(8);
        let mut a = Vec::new();
        emit_ip(&self.addr, &mut a);
        out.extend_from_slice(&a[..n.min(a.len())]);
    }
}

impl fmt::Display for MupPrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.len)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MupRoute {
    Isd {
        rd: RouteDistinguisher,
        prefix: MupPrefix,
    },
    Dsd {
        rd: RouteDistinguisher,
        address: IpAddr,
    },
    Type1St {
        rd: RouteDistinguisher,
        prefix: MupPrefix,
        teid: u32,
        qfi: u8,
        endpoint: IpAddr,
        /// `None`: no source length octet (drafts before -03, GoBGP before 3.18);
        /// `Some(None)`: a source length of 0.
        source: Option<Option<IpAddr>>,
    },
    Type2St {
        rd: RouteDistinguisher,
        endpoint: IpAddr,
        /// Bits of TEID after the endpoint address (0 to 32).
        teid_bits: u8,
        /// The TEID octets as sent, left-aligned (zero past `teid_bits`' last octet).
        teid: u32,
    },
    Unknown {
        value: Vec<u8>,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Mup {
    pub arch: u8,
    pub route_type: u16,
    pub route: MupRoute,
}

impl Mup {
    pub fn read(r: &mut Reader, afi: Afi) -> Result<Mup, NlriError> {
        let arch = read_u8(r, "MUP architecture type")?;
        let route_type = read_u16(r, "MUP route type")?;
        let len = read_u8(r, "MUP route length")? as usize;
        let mut v = read_sub(r, len, "MUP route")?;
        let route = if arch == ARCH_3GPP_5G {
            Mup::read_3gpp(route_type, afi, &mut v)?
        } else {
            MupRoute::Unknown {
                value: v.rest().to_vec(),
            }
        };
        if !v.is_empty() {
            return Err(NlriError {
                offset: v.offset(),
                kind: NlriErrorKind::Trailing {
                    what: "MUP route",
                    extra: v.remaining(),
                },
            });
        }
        Ok(Mup {
            arch,
            route_type,
            route,
        })
    }

    fn read_3gpp(route_type: u16, afi: Afi, v: &mut Reader) -> Result<MupRoute, NlriError> {
        Ok(match route_type {
            route_type::ISD => MupRoute::Isd {
                rd: read_rd(v)?,
                prefix: MupPrefix::read(v, afi)?,
            },
            route_type::DSD => MupRoute::Dsd {
                rd: read_rd(v)?,
                address: read_ip_of(v, afi, "MUP DSD address")?,
            },
            route_type::T1ST => {
                let rd = read_rd(v)?;
                let prefix = MupPrefix::read(v, afi)?;
                let teid = read_u32(v, "MUP TEID")?;
                let qfi = read_u8(v, "MUP QFI")?;
                let at = v.offset();
                let bits = read_u8(v, "MUP endpoint address length")?;
                let endpoint = read_ip_bits(v, bits, "MUP endpoint address", at)?;
                let source = if v.is_empty() {
                    None
                } else {
                    let at = v.offset();
                    match read_u8(v, "MUP source address length")? {
                        0 => Some(None),
                        b => Some(Some(read_ip_bits(v, b, "MUP source address", at)?)),
                    }
                };
                MupRoute::Type1St {
                    rd,
                    prefix,
                    teid,
                    qfi,
                    endpoint,
                    source,
                }
            }
            route_type::T2ST => {
                let rd = read_rd(v)?;
                let at = v.offset();
                let len = read_u8(v, "MUP endpoint length")?;
                let addr_bits: u8 = if afi == Afi::Ipv6 { 128 } else { 32 };
                if len < addr_bits || len > addr_bits + 32 {
                    return Err(NlriError::value(
                        at,
                        "MUP T2ST endpoint length (address and TEID bits)",
                        len.into(),
                        if afi == Afi::Ipv6 {
                            "128 to 160 for IPv6"
                        } else {
                            "32 to 64 for IPv4"
                        },
                    ));
                }
                let endpoint = read_ip_of(v, afi, "MUP endpoint address")?;
                let teid_bits = len - addr_bits;
                let n = usize::from(teid_bits).div_ceil(8);
                let mut t = [0u8; 4];
                t[..n].copy_from_slice(read_bytes(v, n, "MUP TEID")?);
                MupRoute::Type2St {
                    rd,
                    endpoint,
                    teid_bits,
                    teid: u32::from_be_bytes(t),
                }
            }
            _ => MupRoute::Unknown {
                value: v.rest().to_vec(),
            },
        })
    }

    fn value(&self) -> Vec<u8> {
        let mut out = Vec::new();
        match &self.route {
            MupRoute::Isd { rd, prefix } => {
                out.extend_from_slice(&rd.0);
                prefix.emit(&mut out);
            }
            MupRoute::Dsd { rd, address } => {
                out.extend_from_slice(&rd.0);
                emit_ip(address, &mut out);
            }
            MupRoute::Type1St {
                rd,
                prefix,
                teid,
                qfi,
                endpoint,
                source,
            } => {
                out.extend_from_slice(&rd.0);
                prefix.emit(&mut out);
                out.extend_from_slice(&teid.to_be_bytes());
                out.push(*qfi);
                out.push(ip_bits(endpoint));
                emit_ip(endpoint, &mut out);
                match source {
                    None => {}
                    Some(None) => out.push(0),
                    Some(Some(s)) => {
                        out.push(ip_bits(s));
                        emit_ip(s, &mut out);
                    }
                }
            }
            MupRoute::Type2St {
                rd,
                endpoint,
                teid_bits,
                teid,
            } => {
                out.extend_from_slice(&rd.0);
                out.push(ip_bits(endpoint).saturating_add(*teid_bits));
                emit_ip(endpoint, &mut out);
                let n = usize::from(*teid_bits).div_ceil(8).min(4);
                out.extend_from_slice(&teid.to_be_bytes()[..n]);
            }
            MupRoute::Unknown { value } => out.extend_from_slice(value),
        }
        out
    }

    pub fn emit(&self, out: &mut Vec<u8>) {
        let value = self.value();
        out.push(self.arch);
        out.extend_from_slice(&self.route_type.to_be_bytes());
        let n = value.len().min(255);
        out.push(n as u8);
        out.extend_from_slice(&value[..n]);
    }

    /// GoBGP's short name of the route type.
    pub fn name(&self) -> &'static str {
        match &self.route {
            MupRoute::Isd { .. } => "isd",
            MupRoute::Dsd { .. } => "dsd",
            MupRoute::Type1St { .. } => "t1st",
            MupRoute::Type2St { .. } => "t2st",
            MupRoute::Unknown { .. } => "unknown",
        }
    }

    pub fn json(&self) -> Value {
        let mut v = json!({
            "arch_type": self.arch,
            "route_type": self.route_type,
            "name": self.name(),
        });
        match &self.route {
            MupRoute::Isd { rd, prefix } => {
                v["rd"] = json!(rd.to_string());
                v["prefix"] = json!(prefix.to_string());
            }
            MupRoute::Dsd { rd, address } => {
                v["rd"] = json!(rd.to_string());
                v["address"] = json!(address.to_string());
            }
            MupRoute::Type1St {
                rd,
                prefix,
                teid,
                qfi,
                endpoint,
                source,
            } => {
                v["rd"] = json!(rd.to_string());
                v["prefix"] = json!(prefix.to_string());
                v["teid"] = json!(teid);
                v["qfi"] = json!(qfi);
                v["endpoint_address"] = json!(endpoint.to_string());
                v["source_address"] = json!(source.flatten().map(|s| s.to_string()));
            }
            MupRoute::Type2St {
                rd,
                endpoint,
                teid_bits,
                teid,
            } => {
                v["rd"] = json!(rd.to_string());
                v["endpoint_address"] = json!(endpoint.to_string());
                v["endpoint_address_length"] = json!(ip_bits(endpoint).saturating_add(*teid_bits));
                v["teid"] = json!(teid_value(*teid, *teid_bits));
                v["teid_bits"] = json!(teid_bits);
            }
            MupRoute::Unknown { value } => v["value"] = json!(hex(value)),
        }
        v
    }
}

/// The TEID of a T2ST route as a number: its `bits` leading bits.
fn teid_value(teid: u32, bits: u8) -> u32 {
    if bits == 0 {
        0
    } else {
        teid >> (32 - u32::from(bits.min(32)))
    }
}

impl fmt::Display for Mup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.route {
            MupRoute::Isd { rd, prefix } => write!(f, "mup-isd {prefix} rd {rd}"),
            MupRoute::Dsd { rd, address } => write!(f, "mup-dsd {address} rd {rd}"),
            MupRoute::Type1St {
                rd,
                prefix,
                teid,
                qfi,
                endpoint,
                source,
            } => {
                write!(
                    f,
                    "mup-t1st {prefix} rd {rd} teid {teid} qfi {qfi} endpoint {endpoint}"
                )?;
                match source {
                    Some(Some(s)) => write!(f, " source {s}"),
                    Some(None) => f.write_str(" source none"),
                    None => Ok(()),
                }
            }
            MupRoute::Type2St {
                rd,
                endpoint,
                teid_bits,
                teid,
            } => write!(
                f,
                "mup-t2st {endpoint} rd {rd} teid {}/{teid_bits}",
                teid_value(*teid, *teid_bits)
            ),
            MupRoute::Unknown { value } => write!(
                f,
                "mup architecture {} route-type {} 0x{}",
                self.arch,
                self.route_type,
                hex(value)
            ),
        }
    }
}
