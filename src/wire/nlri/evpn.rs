//! EVPN NLRI (RFC 7432 §7, RFC 9136 §3, AFI 25 SAFI 70): a route type, a length, and the
//! route's fields. Route types 1 to 5 are decoded; others are kept as their octets.
//!
//! | type | name (ExaBGP's) | value |
//! |---|---|---|
//! | 1 | Ethernet Auto-Discovery | RD 8, ESI 10, Ethernet tag 4, label 3 (25 octets) |
//! | 2 | MAC/IP advertisement | RD, ESI, tag, MAC length (48) 1, MAC 6, IP length (0, 32, 128) 1, IP, one or two labels |
//! | 3 | Inclusive Multicast Ethernet Tag | RD, tag, IP length 1, originating router's IP |
//! | 4 | Ethernet Segment | RD, ESI, IP length 1, originating router's IP |
//! | 5 | IP Prefix Advertisement | RD, ESI, tag, prefix length 1, prefix 4/16, gateway 4/16, label 3 (34 or 58 octets) |
//!
//! Labels are kept as their 24-bit fields: an MPLS label is the high 20 bits with the
//! bottom-of-stack bit (ExaBGP writes them so), while a VXLAN VNI (RFC 8365 §5.1.3) uses all
//! 24 bits. Text shows `label [ L ]` when the fields are an MPLS stack, `raw-label [ N ]`
//! (the 24-bit values) otherwise.
//!
//! JSON (ExaBGP's field names): `{"code", "name", "rd", "esi", "ethernet-tag", "mac",
//! "ip", "iplen", "gateway", "label": [20-bit values], "raw-label": [24-bit fields],
//! "esi-type", "raw"}`, each where the route type has the field.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use serde_json::{Value, json};

use super::{
    NlriError, NlriErrorKind, emit_ip, emit_u24, hex, ip_bits, mac_text, read_array, read_bytes,
    read_ip_bits, read_rd, read_sub, read_u8, read_u24, read_u32,
};
use crate::wire::labeled::RouteDistinguisher;
use crate::wire::reader::Reader;

/// RFC 7432 §7 route types; RFC 9136 §3 type 5.
pub mod route_type {
    pub const ETHERNET_AD: u8 = 1;
    pub const MAC_IP: u8 = 2;
    pub const INCLUSIVE_MULTICAST: u8 = 3;
    pub const ETHERNET_SEGMENT: u8 = 4;
    pub const IP_PREFIX: u8 = 5;
}

/// RFC 7432 §7.2: the MAC address length is always 48 bits.
const MAC_BITS: u8 = 48;

/// RFC 7432 §5 Ethernet segment identifier: a type octet and 9 octets of value.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Esi(pub [u8; 10]);

/// RFC 7432 §5 ESI types.
const ESI_TYPES: &[(u8, &str)] = &[
    (0, "arbitrary"),
    (1, "lacp"),
    (2, "l2-bridge"),
    (3, "mac-based"),
    (4, "router-id"),
    (5, "as-based"),
];

impl Esi {
    pub fn esi_type(&self) -> u8 {
        self.0[0]
    }

    /// The name of the ESI type (RFC 7432 §5), if it has one.
    pub fn type_name(&self) -> Option<&'static str> {
        ESI_TYPES
            .iter()
            .find(|(t, _)| *t == self.esi_type())
            .map(|(_, n)| *n)
    }
}

impl fmt::Display for Esi {
    /// Ten colon-separated octets, as ExaBGP writes an ESI.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.0.iter().map(|b| format!("{b:02x}")).collect();
        f.write_str(&parts.join(":"))
    }
}

impl FromStr for Esi {
    type Err = &'static str;

    /// Ten octets in hex, separated by colons (`00:11:22:33:44:55:66:77:88:99`), or `0`.
    fn from_str(s: &str) -> Result<Esi, &'static str> {
        const FORM: &str = "an ESI is ten hex octets separated by colons, e.g. 00:11:22:33:44:55:66:77:88:99, or 0";
        if s == "0" || s == "-" {
            return Ok(Esi::default());
        }
        let mut out = [0u8; 10];
        let mut n = 0;
        for part in s.split(':') {
            let slot = out.get_mut(n).ok_or(FORM)?;
            if part.is_empty() || part.len() > 2 {
                return Err(FORM);
            }
            *slot = u8::from_str_radix(part, 16).map_err(|_| FORM)?;
            n += 1;
        }
        if n != out.len() {
            return Err(FORM);
        }
        Ok(Esi(out))
    }
}

/// One EVPN route.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Evpn {
    EthernetAd {
        rd: RouteDistinguisher,
        esi: Esi,
        ethernet_tag: u32,
        label: u32,
    },
    MacIp {
        rd: RouteDistinguisher,
        esi: Esi,
        ethernet_tag: u32,
        mac: [u8; 6],
        ip: Option<IpAddr>,
        /// One or two 24-bit label fields (RFC 7432 §7.2: MPLS Label1, optional Label2).
        labels: Vec<u32>,
    },
    InclusiveMulticast {
        rd: RouteDistinguisher,
        ethernet_tag: u32,
        ip: IpAddr,
    },
    EthernetSegment {
        rd: RouteDistinguisher,
        esi: Esi,
        ip: IpAddr,
    },
    IpPrefix {
        rd: RouteDistinguisher,
        esi: Esi,
        ethernet_tag: u32,
        /// The prefix address as sent (all 4 or 16 octets) and its length.
        prefix: IpAddr,
        prefix_len: u8,
        gateway: IpAddr,
        label: u32,
    },
    /// A route type this decoder does not know, kept as sent.
    Unknown { route_type: u8, value: Vec<u8> },
}

/// The label fields of an MPLS label stack `labels` (bottom-of-stack on the last).
pub fn mpls_fields(labels: &[u32]) -> Vec<u32> {
    let n = labels.len();
    labels
        .iter()
        .enumerate()
        .map(|(i, l)| (l & 0xF_FFFF) << 4 | u32::from(i + 1 == n))
        .collect()
}

/// `label [ 100 ]` when `fields` are an MPLS stack (bottom-of-stack bit on the last only,
/// traffic class zero), `raw-label [ 100 ]` with the 24-bit values otherwise.
fn labels_text(fields: &[u32]) -> String {
    let labels: Vec<u32> = fields.iter().map(|f| f >> 4).collect();
    let words = |v: &[u32]| v.iter().map(u32::to_string).collect::<Vec<_>>().join(" ");
    if mpls_fields(&labels) == fields {
        format!("label [ {} ]", words(&labels))
    } else {
        format!("raw-label [ {} ]", words(fields))
    }
}

/// The originating router's IP of routes 3 and 4: its length must be the one the route's
/// size leaves room for.
fn read_router_ip(v: &mut Reader, ipv4: bool) -> Result<IpAddr, NlriError> {
    let at = v.offset();
    let bits = read_u8(v, "IP address length")?;
    let (want, expected) = if ipv4 {
        (32, "32 for a route of that length")
    } else {
        (128, "128 for a route of that length")
    };
    if bits != want {
        return Err(NlriError::value(
            at,
            "IP address length",
            bits.into(),
            expected,
        ));
    }
    read_ip_bits(v, bits, "originating router's IP address", at)
}

fn ip_family_of(a: &IpAddr, b: &IpAddr) -> bool {
    a.is_ipv4() == b.is_ipv4()
}

impl Evpn {
    pub fn route_type(&self) -> u8 {
        use route_type::*;
        match self {
            Evpn::EthernetAd { .. } => ETHERNET_AD,
            Evpn::MacIp { .. } => MAC_IP,
            Evpn::InclusiveMulticast { .. } => INCLUSIVE_MULTICAST,
            Evpn::EthernetSegment { .. } => ETHERNET_SEGMENT,
            Evpn::IpPrefix { .. } => IP_PREFIX,
            Evpn::Unknown { route_type, .. } => *route_type,
        }
    }

    /// ExaBGP's name of the route type.
    pub fn name(&self) -> &'static str {
        match self {
            Evpn::EthernetAd { .. } => "Ethernet Auto-Discovery",
            Evpn::MacIp { .. } => "MAC/IP advertisement",
            Evpn::InclusiveMulticast { .. } => "Inclusive Multicast Ethernet Tag",
            Evpn::EthernetSegment { .. } => "Ethernet Segment",
            Evpn::IpPrefix { .. } => "IP Prefix Advertisement",
            Evpn::Unknown { .. } => "Unknown",
        }
    }

    /// The configuration keyword after `evpn`.
    pub fn keyword(&self) -> &'static str {
        match self {
            Evpn::EthernetAd { .. } => "ethernet-ad",
            Evpn::MacIp { .. } => "mac-ip",
            Evpn::InclusiveMulticast { .. } => "multicast",
            Evpn::EthernetSegment { .. } => "ethernet-segment",
            Evpn::IpPrefix { .. } => "ip-prefix",
            Evpn::Unknown { .. } => "route-type",
        }
    }

    pub fn rd(&self) -> Option<RouteDistinguisher> {
        match self {
            Evpn::EthernetAd { rd, .. }
            | Evpn::MacIp { rd, .. }
            | Evpn::InclusiveMulticast { rd, .. }
            | Evpn::EthernetSegment { rd, .. }
            | Evpn::IpPrefix { rd, .. } => Some(*rd),
            Evpn::Unknown { .. } => None,
        }
    }

    pub fn read(r: &mut Reader) -> Result<Evpn, NlriError> {
        let kind = read_u8(r, "EVPN route type")?;
        let len_at = r.offset();
        let len = read_u8(r, "EVPN route length")? as usize;
        let mut v = read_sub(r, len, "EVPN route")?;
        let route = Evpn::read_value(kind, len, len_at, &mut v)?;
        if !v.is_empty() {
            return Err(NlriError {
                offset: v.offset(),
                kind: NlriErrorKind::Trailing {
                    what: "EVPN route",
                    extra: v.remaining(),
                },
            });
        }
        Ok(route)
    }

    fn read_value(kind: u8, len: usize, len_at: usize, v: &mut Reader) -> Result<Evpn, NlriError> {
        let esi = |v: &mut Reader| read_array::<10>(v, "ESI").map(Esi);
        let wrong = |expected| Err(NlriError::length(len_at, "EVPN route", len, expected));
        Ok(match kind {
            route_type::ETHERNET_AD => {
                if len != 25 {
                    return wrong("25 octets for an Ethernet A-D route (RFC 7432 §7.1)");
                }
                Evpn::EthernetAd {
                    rd: read_rd(v)?,
                    esi: esi(v)?,
                    ethernet_tag: read_u32(v, "Ethernet tag")?,
                    label: read_u24(v, "MPLS label")?,
                }
            }
            route_type::MAC_IP => {
                let rd = read_rd(v)?;
                let esi = esi(v)?;
                let ethernet_tag = read_u32(v, "Ethernet tag")?;
                let mac_at = v.offset();
                let mac_bits = read_u8(v, "MAC address length")?;
                if mac_bits != MAC_BITS {
                    return Err(NlriError::value(
                        mac_at,
                        "MAC address length",
                        mac_bits.into(),
                        "48 bits (RFC 7432 §7.2)",
                    ));
                }
                let mac = read_array::<6>(v, "MAC address")?;
                let ip_at = v.offset();
                let ip_bits_field = read_u8(v, "IP address length")?;
                let ip = match ip_bits_field {
                    0 => None,
                    b @ (32 | 128) => Some(read_ip_bits(v, b, "IP address", ip_at)?),
                    other => {
                        return Err(NlriError::value(
                            ip_at,
                            "IP address length",
                            other.into(),
                            "0, 32 or 128 bits (RFC 7432 §7.2)",
                        ));
                    }
                };
                let labels = match v.remaining() {
                    3 => vec![read_u24(v, "MPLS label 1")?],
                    6 => vec![read_u24(v, "MPLS label 1")?, read_u24(v, "MPLS label 2")?],
                    _ => {
                        return wrong(
                            "33, 37 or 49 octets with one label, 3 more with two (RFC 7432 §7.2)",
                        );
                    }
                };
                Evpn::MacIp {
                    rd,
                    esi,
                    ethernet_tag,
                    mac,
                    ip,
                    labels,
                }
            }
            route_type::INCLUSIVE_MULTICAST => {
                if len != 17 && len != 29 {
                    return wrong("17 (IPv4) or 29 (IPv6) octets (RFC 7432 §7.3)");
                }
                let rd = read_rd(v)?;
                let ethernet_tag = read_u32(v, "Ethernet tag")?;
                let ip = read_router_ip(v, len == 17)?;
                Evpn::InclusiveMulticast {
                    rd,
                    ethernet_tag,
                    ip,
                }
            }
            route_type::ETHERNET_SEGMENT => {
                if len != 23 && len != 35 {
                    return wrong("23 (IPv4) or 35 (IPv6) octets (RFC 7432 §7.4)");
                }
                let rd = read_rd(v)?;
                let esi = esi(v)?;
                let ip = read_router_ip(v, len == 23)?;
                Evpn::EthernetSegment { rd, esi, ip }
            }
            route_type::IP_PREFIX => {
                let octets = match len {
                    34 => 4,
                    58 => 16,
                    _ => return wrong("34 (IPv4) or 58 (IPv6) octets (RFC 9136 §3.1)"),
                };
                let rd = read_rd(v)?;
                let esi = esi(v)?;
                let ethernet_tag = read_u32(v, "Ethernet tag")?;
                let at = v.offset();
                let prefix_len = read_u8(v, "IP prefix length")?;
                if usize::from(prefix_len) > octets * 8 {
                    return Err(NlriError::value(
                        at,
                        "IP prefix length",
                        prefix_len.into(),
                        if octets == 4 {
                            "0 to 32 for an IPv4 prefix"
                        } else {
                            "0 to 128 for an IPv6 prefix"
                        },
                    ));
                }
                let bits = (octets * 8) as u8;
                let prefix = read_ip_bits(v, bits, "IP prefix", at)?;
                let gateway = read_ip_bits(v, bits, "gateway IP address", at)?;
                Evpn::IpPrefix {
                    rd,
                    esi,
                    ethernet_tag,
                    prefix,
                    prefix_len,
                    gateway,
                    label: read_u24(v, "MPLS label")?,
                }
            }
            other => Evpn::Unknown {
                route_type: other,
                value: read_bytes(v, len, "EVPN route")?.to_vec(),
            },
        })
    }

    /// The route's value (after type and length).
    fn value(&self) -> Vec<u8> {
        let mut out = Vec::new();
        match self {
            Evpn::EthernetAd {
                rd,
                esi,
                ethernet_tag,
                label,
            } => {
                out.extend_from_slice(&rd.0);
                out.extend_from_slice(&esi.0);
                out.extend_from_slice(&ethernet_tag.to_be_bytes());
                emit_u24(*label, &mut out);
            }
            Evpn::MacIp {
                rd,
                esi,
                ethernet_tag,
                mac,
                ip,
                labels,
            } => {
                out.extend_from_slice(&rd.0);
                out.extend_from_slice(&esi.0);
                out.extend_from_slice(&ethernet_tag.to_be_bytes());
                out.push(MAC_BITS);
                out.extend_from_slice(mac);
                match ip {
                    Some(ip) => {
                        out.push(ip_bits(ip));
                        emit_ip(ip, &mut out);
                    }
                    None => out.push(0),
                }
                labels.iter().for_each(|l| emit_u24(*l, &mut out));
            }
            Evpn::InclusiveMulticast {
                rd,
                ethernet_tag,
                ip,
            } => {
                out.extend_from_slice(&rd.0);
                out.extend_from_slice(&ethernet_tag.to_be_bytes());
                out.push(ip_bits(ip));
                emit_ip(ip, &mut out);
            }
            Evpn::EthernetSegment { rd, esi, ip } => {
                out.extend_from_slice(&rd.0);
                out.extend_from_slice(&esi.0);
                out.push(ip_bits(ip));
                emit_ip(ip, &mut out);
            }
            Evpn::IpPrefix {
                rd,
                esi,
                ethernet_tag,
                prefix,
                prefix_len,
                gateway,
                label,
            } => {
                out.extend_from_slice(&rd.0);
                out.extend_from_slice(&esi.0);
                out.extend_from_slice(&ethernet_tag.to_be_bytes());
                out.push(*prefix_len);
                emit_ip(prefix, &mut out);
                // The gateway has the prefix's family (RFC 9136 §3.1); a mismatch built
                // by hand is written as the unspecified address of that family.
                if ip_family_of(prefix, gateway) {
                    emit_ip(gateway, &mut out);
                } else if prefix.is_ipv4() {
                    emit_ip(&IpAddr::V4(Ipv4Addr::UNSPECIFIED), &mut out);
                } else {
                    emit_ip(&IpAddr::V6(Ipv6Addr::UNSPECIFIED), &mut out);
                }
                emit_u24(*label, &mut out);
            }
            Evpn::Unknown { value, .. } => out.extend_from_slice(value),
        }
        out
    }

    pub fn emit(&self, out: &mut Vec<u8>) {
        let value = self.value();
        out.push(self.route_type());
        // Every known route's value is at most 61 octets; an unknown one came from a
        // one-octet length.
        out.push(value.len().min(255) as u8);
        out.extend_from_slice(&value[..value.len().min(255)]);
    }

    pub fn json(&self) -> Value {
        let mut raw = Vec::new();
        self.emit(&mut raw);
        let mut v = json!({
            "code": self.route_type(),
            "name": self.name(),
            "raw": hex(&raw),
        });
        if let Some(rd) = self.rd() {
            v["rd"] = json!(rd.to_string());
        }
        let esi_json = |v: &mut Value, esi: &Esi| {
            v["esi"] = json!(esi.to_string());
            v["esi-type"] = json!(esi.esi_type());
            v["esi-type-name"] = json!(esi.type_name());
        };
        let labels_json = |v: &mut Value, fields: &[u32]| {
            v["label"] = json!(fields.iter().map(|f| f >> 4).collect::<Vec<_>>());
            v["raw-label"] = json!(fields);
        };
        match self {
            Evpn::EthernetAd {
                esi,
                ethernet_tag,
                label,
                ..
            } => {
                esi_json(&mut v, esi);
                v["ethernet-tag"] = json!(ethernet_tag);
                labels_json(&mut v, &[*label]);
            }
            Evpn::MacIp {
                esi,
                ethernet_tag,
                mac,
                ip,
                labels,
                ..
            } => {
                esi_json(&mut v, esi);
                v["ethernet-tag"] = json!(ethernet_tag);
                v["mac"] = json!(mac_text(mac));
                v["ip"] = json!(ip.map(|i| i.to_string()));
                labels_json(&mut v, labels);
            }
            Evpn::InclusiveMulticast {
                ethernet_tag, ip, ..
            } => {
                v["ethernet-tag"] = json!(ethernet_tag);
                v["ip"] = json!(ip.to_string());
            }
            Evpn::EthernetSegment { esi, ip, .. } => {
                esi_json(&mut v, esi);
                v["ip"] = json!(ip.to_string());
            }
            Evpn::IpPrefix {
                esi,
                ethernet_tag,
                prefix,
                prefix_len,
                gateway,
                label,
                ..
            } => {
                esi_json(&mut v, esi);
                v["ethernet-tag"] = json!(ethernet_tag);
                v["ip"] = json!(prefix.to_string());
                v["iplen"] = json!(prefix_len);
                v["gateway"] = json!(gateway.to_string());
                labels_json(&mut v, &[*label]);
            }
            Evpn::Unknown { value, .. } => v["value"] = json!(hex(value)),
        }
        v
    }
}

impl fmt::Display for Evpn {
    /// The configuration statement without next hop and attributes:
    /// `evpn mac-ip rd 192.0.2.2:100 esi 00:...:00 ethernet-tag 0 mac 00:11:22:aa:bb:01
    /// ip 10.10.0.1 label [ 10100 ]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "evpn {}", self.keyword())?;
        match self {
            Evpn::EthernetAd {
                rd,
                esi,
                ethernet_tag,
                label,
            } => write!(
                f,
                " rd {rd} esi {esi} ethernet-tag {ethernet_tag} {}",
                labels_text(&[*label])
            ),
            Evpn::MacIp {
                rd,
                esi,
                ethernet_tag,
                mac,
                ip,
                labels,
            } => {
                write!(
                    f,
                    " rd {rd} esi {esi} ethernet-tag {ethernet_tag} mac {}",
                    mac_text(mac)
                )?;
                if let Some(ip) = ip {
                    write!(f, " ip {ip}")?;
                }
                write!(f, " {}", labels_text(labels))
            }
            Evpn::InclusiveMulticast {
                rd,
                ethernet_tag,
                ip,
            } => write!(f, " rd {rd} ethernet-tag {ethernet_tag} ip {ip}"),
            Evpn::EthernetSegment { rd, esi, ip } => write!(f, " rd {rd} esi {esi} ip {ip}"),
            Evpn::IpPrefix {
                rd,
                esi,
                ethernet_tag,
                prefix,
                prefix_len,
                gateway,
                label,
            } => write!(
                f,
                " rd {rd} esi {esi} ethernet-tag {ethernet_tag} prefix {prefix}/{prefix_len} gateway {gateway} {}",
                labels_text(&[*label])
            ),
            Evpn::Unknown { route_type, value } => write!(f, " {route_type} 0x{}", hex(value)),
        }
    }
}
