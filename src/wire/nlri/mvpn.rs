//! MCAST-VPN NLRI (RFC 6514 §4, SAFI 5), the route types ExaBGP announces: 5 (Source
//! Active A-D), 6 (C-multicast shared tree join) and 7 (C-multicast source tree join). A
//! route type (1 octet), a length (1) and the value; other route types are kept as their
//! octets.
//!
//! | type | value |
//! |---|---|
//! | 5 | RD 8, source length 1 (32/128), source, group length 1, group (18 or 42 octets) |
//! | 6, 7 | RD 8, source AS 4, source (RP for 6) length 1, source, group length 1, group (22 or 46 octets) |
//!
//! Text: ExaBGP's words, `mcast-vpn source-ad source 10.99.12.4 group 239.251.255.228 rd
//! 65000:99999`, `mcast-vpn shared-join rp 10.99.199.1 group ... rd ... source-as 65000`,
//! `mcast-vpn source-join source ... group ... rd ... source-as 65000`. JSON: ExaBGP's
//! `code`, `name`, `raw`, `rd`, `source-as`, `source`, `group`.

use std::fmt;
use std::net::IpAddr;

use serde_json::{Value, json};

use super::{
    NlriError, NlriErrorKind, emit_ip, hex, ip_bits, read_bytes, read_ip_bits, read_rd, read_sub,
    read_u8, read_u32,
};
use crate::wire::family::Afi;
use crate::wire::labeled::RouteDistinguisher;
use crate::wire::reader::Reader;

/// RFC 6514 §4 route types.
pub mod route_type {
    pub const SOURCE_ACTIVE_AD: u8 = 5;
    pub const SHARED_TREE_JOIN: u8 = 6;
    pub const SOURCE_TREE_JOIN: u8 = 7;
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Mvpn {
    SourceActiveAd {
        rd: RouteDistinguisher,
        source: IpAddr,
        group: IpAddr,
    },
    /// Types 6 and 7: `source` is the C-RP of a shared tree join, the C-S of a source tree
    /// join.
    CMulticast {
        route_type: u8,
        rd: RouteDistinguisher,
        source_as: u32,
        source: IpAddr,
        group: IpAddr,
    },
    Unknown {
        route_type: u8,
        value: Vec<u8>,
    },
}

/// An address of the family's AFI behind its length in bits.
fn read_addr(r: &mut Reader, afi: Afi, what: &'static str) -> Result<IpAddr, NlriError> {
    let at = r.offset();
    let bits = read_u8(r, what)?;
    let want = if afi == Afi::Ipv6 { 128 } else { 32 };
    if bits != want {
        return Err(NlriError::value(
            at,
            what,
            bits.into(),
            if afi == Afi::Ipv6 {
                "128 bits in ipv6 mcast-vpn"
            } else {
                "32 bits in ipv4 mcast-vpn"
            },
        ));
    }
    read_ip_bits(r, bits, what, at)
}

impl Mvpn {
    pub fn route_type(&self) -> u8 {
        match self {
            Mvpn::SourceActiveAd { .. } => route_type::SOURCE_ACTIVE_AD,
            Mvpn::CMulticast { route_type, .. } | Mvpn::Unknown { route_type, .. } => *route_type,
        }
    }

    pub fn read(r: &mut Reader, afi: Afi) -> Result<Mvpn, NlriError> {
        let kind = read_u8(r, "MCAST-VPN route type")?;
        let len = read_u8(r, "MCAST-VPN route length")? as usize;
        let mut v = read_sub(r, len, "MCAST-VPN route")?;
        let route = match kind {
            route_type::SOURCE_ACTIVE_AD => Mvpn::SourceActiveAd {
                rd: read_rd(&mut v)?,
                source: read_addr(&mut v, afi, "multicast source length")?,
                group: read_addr(&mut v, afi, "multicast group length")?,
            },
            route_type::SHARED_TREE_JOIN | route_type::SOURCE_TREE_JOIN => Mvpn::CMulticast {
                route_type: kind,
                rd: read_rd(&mut v)?,
                source_as: read_u32(&mut v, "source AS")?,
                source: read_addr(&mut v, afi, "multicast source length")?,
                group: read_addr(&mut v, afi, "multicast group length")?,
            },
            other => Mvpn::Unknown {
                route_type: other,
                value: read_bytes(&mut v, len, "MCAST-VPN route")?.to_vec(),
            },
        };
        if !v.is_empty() {
            return Err(NlriError {
                offset: v.offset(),
                kind: NlriErrorKind::Trailing {
                    what: "MCAST-VPN route",
                    extra: v.remaining(),
                },
            });
        }
        Ok(route)
    }

    fn value(&self) -> Vec<u8> {
        let mut out = Vec::new();
        let addr = |out: &mut Vec<u8>, a: &IpAddr| {
            out.push(ip_bits(a));
            emit_ip(a, out);
        };
        match self {
            Mvpn::SourceActiveAd { rd, source, group } => {
                out.extend_from_slice(&rd.0);
                addr(&mut out, source);
                addr(&mut out, group);
            }
            Mvpn::CMulticast {
                rd,
                source_as,
                source,
                group,
                ..
            } => {
                out.extend_from_slice(&rd.0);
                out.extend_from_slice(&source_as.to_be_bytes());
                addr(&mut out, source);
                addr(&mut out, group);
            }
            Mvpn::Unknown { value, .. } => out.extend_from_slice(value),
        }
        out
    }

    pub fn emit(&self, out: &mut Vec<u8>) {
        let value = self.value();
        let n = value.len().min(255);
        out.push(self.route_type());
        out.push(n as u8);
        out.extend_from_slice(&value[..n]);
    }

    /// ExaBGP's name of the route type.
    pub fn name(&self) -> &'static str {
        match self.route_type() {
            route_type::SOURCE_ACTIVE_AD => "Source Active A-D route",
            route_type::SHARED_TREE_JOIN => "C-Multicast Shared Tree Join route",
            route_type::SOURCE_TREE_JOIN => "C-Multicast Source Tree Join route",
            _ => "Unknown",
        }
    }

    pub fn json(&self) -> Value {
        let mut raw = Vec::new();
        self.emit(&mut raw);
        let mut v = json!({"code": self.route_type(), "name": self.name(), "raw": hex(&raw)});
        match self {
            Mvpn::SourceActiveAd { rd, source, group } => {
                v["rd"] = json!(rd.to_string());
                v["source"] = json!(source.to_string());
                v["group"] = json!(group.to_string());
            }
            Mvpn::CMulticast {
                rd,
                source_as,
                source,
                group,
                ..
            } => {
                v["rd"] = json!(rd.to_string());
                v["source-as"] = json!(source_as.to_string());
                v["source"] = json!(source.to_string());
                v["group"] = json!(group.to_string());
            }
            Mvpn::Unknown { value, .. } => v["value"] = json!(hex(value)),
        }
        v
    }
}

impl fmt::Display for Mvpn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Mvpn::SourceActiveAd { rd, source, group } => {
                write!(
                    f,
                    "mcast-vpn source-ad source {source} group {group} rd {rd}"
                )
            }
            Mvpn::CMulticast {
                route_type,
                rd,
                source_as,
                source,
                group,
            } => {
                let (kind, word) = if *route_type == route_type::SHARED_TREE_JOIN {
                    ("shared-join", "rp")
                } else {
                    ("source-join", "source")
                };
                write!(
                    f,
                    "mcast-vpn {kind} {word} {source} group {group} rd {rd} source-as {source_as}"
                )
            }
            Mvpn::Unknown { route_type, value } => {
                write!(f, "mcast-vpn route-type {route_type} 0x{}", hex(value))
            }
        }
    }
}
