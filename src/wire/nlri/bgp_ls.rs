//! BGP-LS NLRI (RFC 9552 §5.2, AFI 16388, SAFI 71 and 72): an NLRI type (2 octets), a
//! length (2), for SAFI 72 a route distinguisher, then for node, link and prefix NLRI the
//! protocol ID (1), the identifier (8) and TLVs (type 2, length 2, value): local node
//! descriptors (256), remote node descriptors (257, links), link descriptors (258-263) and
//! prefix descriptors (263-265). Node descriptors hold sub-TLVs (512-517). Decoded for
//! display; the TLVs keep their octets, so any NLRI that decodes re-encodes unchanged.
//! Other NLRI types are kept as their octets.
//!
//! Text: `bgp-ls node protocol isis-l2 identifier 0 local-node [ autonomous-system 65000
//! igp-router-id 0000.0000.0001 ]`. JSON: `{"ls-nlri-type", "protocol-id", "protocol",
//! "l3-routing-topology", "rd", "tlvs": [{"type", "name", "value", "sub-tlvs"}]}` (ExaBGP's
//! `ls-nlri-type`, `protocol-id` and `l3-routing-topology`).

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

use serde_json::{Value, json};

use super::{NlriError, hex, read_bytes, read_rd, read_sub, read_u8, read_u16};
use crate::wire::labeled::RouteDistinguisher;
use crate::wire::reader::Reader;

/// RFC 9552 §5.2 NLRI types.
const NLRI_TYPES: &[(u16, &str)] = &[
    (1, "node"),
    (2, "link"),
    (3, "ipv4-prefix"),
    (4, "ipv6-prefix"),
    (5, "sr-te-policy"),
    (6, "srv6-sid"),
];

/// RFC 9552 §5.2 protocol IDs.
const PROTOCOLS: &[(u8, &str)] = &[
    (1, "isis-l1"),
    (2, "isis-l2"),
    (3, "ospfv2"),
    (4, "direct"),
    (5, "static"),
    (6, "ospfv3"),
    (7, "bgp"),
];

/// RFC 9552 §5.2.1-§5.2.3 TLVs and node descriptor sub-TLVs (RFC 9086 for 516-517).
const TLV_NAMES: &[(u16, &str)] = &[
    (256, "local-node"),
    (257, "remote-node"),
    (258, "link-identifiers"),
    (259, "ipv4-interface-address"),
    (260, "ipv4-neighbor-address"),
    (261, "ipv6-interface-address"),
    (262, "ipv6-neighbor-address"),
    (263, "multi-topology-id"),
    (264, "ospf-route-type"),
    (265, "ip-reachability"),
    (512, "autonomous-system"),
    (513, "bgp-ls-identifier"),
    (514, "ospf-area-id"),
    (515, "igp-router-id"),
    (516, "bgp-router-id"),
    (517, "member-asn"),
];

const LOCAL_NODE: u16 = 256;
const REMOTE_NODE: u16 = 257;

fn name_of<T: PartialEq + Copy>(table: &[(T, &'static str)], v: T) -> Option<&'static str> {
    table.iter().find(|(k, _)| *k == v).map(|(_, n)| *n)
}

/// One TLV, its value as sent.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tlv {
    pub kind: u16,
    pub value: Vec<u8>,
}

impl Tlv {
    fn read(r: &mut Reader) -> Result<Tlv, NlriError> {
        let kind = read_u16(r, "BGP-LS TLV type")?;
        let len = read_u16(r, "BGP-LS TLV length")? as usize;
        let value = read_bytes(r, len, "BGP-LS TLV value")?.to_vec();
        Ok(Tlv { kind, value })
    }

    fn emit(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.kind.to_be_bytes());
        out.extend_from_slice(&(self.value.len().min(0xFFFF) as u16).to_be_bytes());
        out.extend_from_slice(&self.value[..self.value.len().min(0xFFFF)]);
    }

    fn name(&self) -> String {
        name_of(TLV_NAMES, self.kind)
            .map(str::to_string)
            .unwrap_or_else(|| format!("tlv-{}", self.kind))
    }

    /// The sub-TLVs of a node descriptor TLV.
    fn sub_tlvs(&self) -> Option<Vec<Tlv>> {
        if self.kind != LOCAL_NODE && self.kind != REMOTE_NODE {
            return None;
        }
        read_tlvs(&mut Reader::new(&self.value)).ok()
    }

    /// The value in words: addresses, numbers, a prefix, an IS-IS system ID; hex otherwise.
    fn value_text(&self) -> String {
        let v = &self.value;
        let u32_of = |b: &[u8]| <[u8; 4]>::try_from(b).ok().map(u32::from_be_bytes);
        match (self.kind, v.len()) {
            (512 | 513 | 514 | 517, 4) => u32_of(v).map(|n| n.to_string()).unwrap_or_default(),
            (515 | 516 | 259 | 260, 4) => <[u8; 4]>::try_from(v.as_slice())
                .map(|a| Ipv4Addr::from(a).to_string())
                .unwrap_or_default(),
            (515, 6 | 7) => {
                // RFC 9552 §5.2.1.4: an IS-IS system ID, then the pseudonode ID.
                let id = format!(
                    "{:02x}{:02x}.{:02x}{:02x}.{:02x}{:02x}",
                    v[0], v[1], v[2], v[3], v[4], v[5]
                );
                match v.get(6) {
                    Some(p) => format!("{id}-{p:02x}"),
                    None => id,
                }
            }
            (515, 8) => format!(
                "{}:{}",
                Ipv4Addr::new(v[0], v[1], v[2], v[3]),
                Ipv4Addr::new(v[4], v[5], v[6], v[7])
            ),
            (261 | 262, 16) => <[u8; 16]>::try_from(v.as_slice())
                .map(|a| Ipv6Addr::from(a).to_string())
                .unwrap_or_default(),
            (258, 8) => format!(
                "{}/{}",
                u32_of(&v[..4]).unwrap_or(0),
                u32_of(&v[4..]).unwrap_or(0)
            ),
            (263, n) if n % 2 == 0 => v
                .chunks_exact(2)
                .map(|c| (u16::from_be_bytes([c[0], c[1]]) & 0x0FFF).to_string())
                .collect::<Vec<_>>()
                .join(","),
            (264, 1) => v[0].to_string(),
            (265, n) if (1..=17).contains(&n) => {
                let bits = v[0];
                let octets = &v[1..];
                if usize::from(bits).div_ceil(8) != octets.len() {
                    return format!("0x{}", hex(v));
                }
                if bits <= 32 && octets.len() <= 4 {
                    let mut a = [0u8; 4];
                    a[..octets.len()].copy_from_slice(octets);
                    format!("{}/{bits}", Ipv4Addr::from(a))
                } else {
                    let mut a = [0u8; 16];
                    a[..octets.len()].copy_from_slice(octets);
                    format!("{}/{bits}", Ipv6Addr::from(a))
                }
            }
            _ => format!("0x{}", hex(v)),
        }
    }

    fn json(&self) -> Value {
        let mut v = json!({
            "type": self.kind,
            "name": self.name(),
        });
        match self.sub_tlvs() {
            Some(subs) => v["sub-tlvs"] = json!(subs.iter().map(Tlv::json).collect::<Vec<_>>()),
            None => v["value"] = json!(self.value_text()),
        }
        v
    }
}

impl fmt::Display for Tlv {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.sub_tlvs() {
            Some(subs) => {
                write!(f, "{} [", self.name())?;
                for s in &subs {
                    write!(f, " {s}")?;
                }
                f.write_str(" ]")
            }
            None => write!(f, "{} {}", self.name(), self.value_text()),
        }
    }
}

fn read_tlvs(r: &mut Reader) -> Result<Vec<Tlv>, NlriError> {
    let mut out = Vec::new();
    while !r.is_empty() {
        out.push(Tlv::read(r)?);
    }
    Ok(out)
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LsValue {
    /// Node, link and prefix NLRI (types 1 to 4).
    Descriptors {
        protocol_id: u8,
        identifier: u64,
        tlvs: Vec<Tlv>,
    },
    Unknown(Vec<u8>),
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BgpLs {
    pub nlri_type: u16,
    /// SAFI 72 only.
    pub rd: Option<RouteDistinguisher>,
    pub value: LsValue,
}

impl BgpLs {
    pub fn read(r: &mut Reader, vpn: bool) -> Result<BgpLs, NlriError> {
        let nlri_type = read_u16(r, "BGP-LS NLRI type")?;
        let len = read_u16(r, "BGP-LS NLRI length")? as usize;
        let mut v = read_sub(r, len, "BGP-LS NLRI")?;
        let rd = if vpn { Some(read_rd(&mut v)?) } else { None };
        let value = match nlri_type {
            1..=4 => {
                let protocol_id = read_u8(&mut v, "BGP-LS protocol ID")?;
                let id = super::read_array::<8>(&mut v, "BGP-LS identifier")?;
                let tlvs = read_tlvs(&mut v)?;
                for t in &tlvs {
                    if t.kind == LOCAL_NODE || t.kind == REMOTE_NODE {
                        // Node descriptors must tile into sub-TLVs.
                        read_tlvs(&mut Reader::new(&t.value))?;
                    }
                }
                LsValue::Descriptors {
                    protocol_id,
                    identifier: u64::from_be_bytes(id),
                    tlvs,
                }
            }
            _ => LsValue::Unknown(v.rest().to_vec()),
        };
        Ok(BgpLs {
            nlri_type,
            rd,
            value,
        })
    }

    fn body(&self) -> Vec<u8> {
        let mut out = Vec::new();
        if let Some(rd) = &self.rd {
            out.extend_from_slice(&rd.0);
        }
        match &self.value {
            LsValue::Descriptors {
                protocol_id,
                identifier,
                tlvs,
            } => {
                out.push(*protocol_id);
                out.extend_from_slice(&identifier.to_be_bytes());
                tlvs.iter().for_each(|t| t.emit(&mut out));
            }
            LsValue::Unknown(v) => out.extend_from_slice(v),
        }
        out
    }

    pub fn emit(&self, out: &mut Vec<u8>) {
        let body = self.body();
        let n = body.len().min(0xFFFF);
        out.extend_from_slice(&self.nlri_type.to_be_bytes());
        out.extend_from_slice(&(n as u16).to_be_bytes());
        out.extend_from_slice(&body[..n]);
    }

    fn type_name(&self) -> String {
        name_of(NLRI_TYPES, self.nlri_type)
            .map(str::to_string)
            .unwrap_or_else(|| format!("nlri-type-{}", self.nlri_type))
    }

    pub fn json(&self) -> Value {
        let mut v = json!({
            "ls-nlri-type": self.type_name(),
            "rd": self.rd.map(|rd| rd.to_string()),
        });
        match &self.value {
            LsValue::Descriptors {
                protocol_id,
                identifier,
                tlvs,
            } => {
                v["protocol-id"] = json!(protocol_id);
                v["protocol"] = json!(name_of(PROTOCOLS, *protocol_id));
                v["l3-routing-topology"] = json!(identifier);
                v["tlvs"] = json!(tlvs.iter().map(Tlv::json).collect::<Vec<_>>());
            }
            LsValue::Unknown(b) => v["value"] = json!(hex(b)),
        }
        v
    }
}

impl fmt::Display for BgpLs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "bgp-ls {}", self.type_name())?;
        if let Some(rd) = &self.rd {
            write!(f, " rd {rd}")?;
        }
        match &self.value {
            LsValue::Descriptors {
                protocol_id,
                identifier,
                tlvs,
            } => {
                match name_of(PROTOCOLS, *protocol_id) {
                    Some(n) => write!(f, " protocol {n}")?,
                    None => write!(f, " protocol {protocol_id}")?,
                }
                write!(f, " identifier {identifier}")?;
                for t in tlvs {
                    write!(f, " {t}")?;
                }
                Ok(())
            }
            LsValue::Unknown(b) => write!(f, " 0x{}", hex(b)),
        }
    }
}

/// The BGP-LS attribute (type 29, RFC 9552 §5.3): TLVs describing the node, link or prefix
/// of the NLRI. RFC 9552 §8.2.2: a malformed one is discarded, never a session reset.
pub const ATTRIBUTE_CODE: u8 = 29;

/// RFC 9552 §5.3 TLVs (and RFC 9085 for the SR ones named here).
const ATTRIBUTE_TLVS: &[(u16, &str)] = &[
    (1024, "node-flags"),
    (1026, "node-name"),
    (1027, "isis-area-id"),
    (1028, "local-router-id-ipv4"),
    (1029, "local-router-id-ipv6"),
    (1030, "remote-router-id-ipv4"),
    (1031, "remote-router-id-ipv6"),
    (1088, "admin-group"),
    (1089, "max-link-bandwidth"),
    (1090, "max-reservable-bandwidth"),
    (1091, "unreserved-bandwidth"),
    (1092, "te-default-metric"),
    (1095, "igp-metric"),
    (1096, "srlg"),
    (1098, "link-name"),
    (1152, "igp-flags"),
    (1155, "prefix-metric"),
    (1156, "ospf-forwarding-address"),
];

/// One attribute TLV as its name (or `tlv-N`) and its value in words.
fn attribute_tlv_text(kind: u16, v: &[u8]) -> (String, String) {
    let name = name_of(ATTRIBUTE_TLVS, kind)
        .map(str::to_string)
        .unwrap_or_else(|| format!("tlv-{kind}"));
    let u32_of = |b: &[u8]| <[u8; 4]>::try_from(b).ok().map(u32::from_be_bytes);
    let value = match (kind, v.len()) {
        (1026 | 1098, _) if std::str::from_utf8(v).is_ok_and(|s| !s.contains(char::is_control)) => {
            String::from_utf8_lossy(v).into_owned()
        }
        (1028 | 1030 | 1156, 4) => <[u8; 4]>::try_from(v)
            .map(|a| Ipv4Addr::from(a).to_string())
            .unwrap_or_default(),
        (1029 | 1031 | 1156, 16) => <[u8; 16]>::try_from(v)
            .map(|a| Ipv6Addr::from(a).to_string())
            .unwrap_or_default(),
        (1089 | 1090, 4) => u32_of(v)
            .map(|b| format!("{}", f32::from_bits(b)))
            .unwrap_or_default(),
        (1088 | 1092 | 1155, 4) => u32_of(v).map(|n| n.to_string()).unwrap_or_default(),
        // RFC 9552 §5.3.2.4: the IGP metric is 1, 2 or 3 octets.
        (1095, 1..=3) => v
            .iter()
            .fold(0u32, |n, b| n << 8 | u32::from(*b))
            .to_string(),
        _ => format!("0x{}", hex(v)),
    };
    (name, value)
}

/// The attribute's TLVs, or `None` when they do not tile its value.
fn attribute_tlvs(value: &[u8]) -> Option<Vec<Tlv>> {
    read_tlvs(&mut Reader::new(value)).ok()
}

/// The BGP-LS attribute as text: `bgp-ls-attribute [ node-name r1; igp-metric 10; ]`, or
/// `bgp-ls-attribute malformed 0x...`.
pub fn attribute_text(value: &[u8]) -> String {
    match attribute_tlvs(value) {
        Some(tlvs) => {
            let parts: Vec<String> = tlvs
                .iter()
                .map(|t| {
                    let (n, v) = attribute_tlv_text(t.kind, &t.value);
                    format!("{n} {v};")
                })
                .collect();
            format!("bgp-ls-attribute [ {} ]", parts.join(" "))
        }
        None => format!("bgp-ls-attribute malformed 0x{}", hex(value)),
    }
}

/// The BGP-LS attribute as JSON: `[{"type", "name", "value"}]`, or `{"malformed", "hex"}`.
pub fn attribute_json(value: &[u8]) -> Value {
    match attribute_tlvs(value) {
        Some(tlvs) => json!(
            tlvs.iter()
                .map(|t| {
                    let (n, v) = attribute_tlv_text(t.kind, &t.value);
                    json!({"type": t.kind, "name": n, "value": v})
                })
                .collect::<Vec<_>>()
        ),
        None => json!({"malformed": "TLVs do not tile the attribute", "hex": hex(value)}),
    }
}
