//! The Tunnel Encapsulation attribute (type 23, RFC 9012): a list of tunnel TLVs, each a
//! list of sub-TLVs. Decoded for display and checked on receive; kept as raw bytes in the
//! attribute list so that it is passed on unchanged.
//!
//! Error handling (RFC 9012 §13, the class of CVE-2023-38802 where a bad value reset
//! sessions): an attribute whose TLVs do not tile its value cannot be parsed and is
//! discarded (RFC 7606 attribute-discard), never a session reset. A TLV whose sub-TLVs do not
//! end exactly at its end, or a known sub-TLV of the wrong length, makes that TLV
//! "disregarded": it is shown as such, the other TLVs stay.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use serde_json::{Value, json};

use super::reader::Reader;

/// IANA "BGP Tunnel Encapsulation Attribute Tunnel Types" (RFC 9012 §14.3 and earlier).
const TUNNEL_TYPES: &[(u16, &str)] = &[
    (1, "l2tpv3"),
    (2, "gre"),
    (3, "transmit-tunnel-endpoint"),
    (4, "ipsec-tunnel-mode"),
    (5, "ip-in-ip-ipsec-transport"),
    (6, "mpls-in-ip-ipsec-transport"),
    (7, "ip-in-ip"),
    (8, "vxlan"),
    (9, "nvgre"),
    (10, "mpls"),
    (11, "mpls-in-gre"),
    (12, "vxlan-gpe"),
    (13, "mpls-in-udp"),
    (14, "ipv6-tunnel"),
    (15, "sr-policy"),
    (16, "bare"),
    (17, "sr-tunnel"),
    (19, "geneve"),
];

/// The tunnel type of a name (`vxlan`, `mpls`, ...).
pub fn tunnel_type_by_name(name: &str) -> Option<u16> {
    TUNNEL_TYPES
        .iter()
        .find(|&&(_, n)| n == name)
        .map(|&(v, _)| v)
}

/// The name of a tunnel type, if it has one.
pub fn tunnel_type_name(t: u16) -> Option<&'static str> {
    TUNNEL_TYPES.iter().find(|&&(v, _)| v == t).map(|&(_, n)| n)
}

/// Sub-TLV types (RFC 9012 §3, §5, §6).
mod sub {
    pub const ENCAPSULATION: u8 = 1;
    pub const PROTOCOL_TYPE: u8 = 2;
    pub const COLOR: u8 = 4;
    pub const EGRESS_ENDPOINT: u8 = 6;
    pub const DS_FIELD: u8 = 7;
    pub const UDP_DESTINATION_PORT: u8 = 8;
    pub const EMBEDDED_LABEL_HANDLING: u8 = 9;
    pub const MPLS_LABEL_STACK: u8 = 10;
    /// RFC 9830 §2.4 (SR Policy tunnels, type 15).
    pub const SR_PREFERENCE: u8 = 12;
    pub const SR_BINDING_SID: u8 = 13;
    pub const SR_ENLP: u8 = 14;
    pub const SR_PRIORITY: u8 = 15;
    pub const SR_SEGMENT_LIST: u8 = 128;
    pub const SR_SRV6_BINDING_SID: u8 = 20;
    pub const SR_CANDIDATE_PATH_NAME: u8 = 129;
    pub const SR_POLICY_NAME: u8 = 130;
    /// RFC 9830 §2.4.4: inside a segment list, the weight and the segment types A (an
    /// MPLS label) and B (an SRv6 SID).
    pub const SR_WEIGHT: u8 = 9;
    pub const SR_SEGMENT_LABEL: u8 = 1;
    pub const SR_SEGMENT_SRV6: u8 = 13;
    /// RFC 9012 §2: sub-TLV types from 128 on have a 2-octet length.
    pub const LONG_LENGTH_FROM: u8 = 128;
}

/// RFC 9012 §14.3: the SR Policy tunnel type, whose sub-TLVs RFC 9830 §2.4 defines.
pub const SR_POLICY_TUNNEL: u16 = 15;

/// An SR Policy binding SID (RFC 9830 §2.4.2): none, an MPLS label or an SRv6 SID.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BindingSid {
    None,
    Label(u32),
    Srv6(Ipv6Addr),
}

/// One segment of an SR Policy segment list (RFC 9830 §2.4.4.2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Segment {
    /// Type A: an MPLS label (20 bits).
    Label(u32),
    /// Type B: an SRv6 SID.
    Srv6(Ipv6Addr),
    /// Another segment type, shown raw.
    Other { kind: u8, value: Vec<u8> },
}

/// One sub-TLV, decoded when its type and length are known.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SubTlv {
    /// RFC 9012 §3.1: the remote endpoint (None: the address family 0, "no address").
    EgressEndpoint(Option<IpAddr>),
    /// RFC 9012 §3.2.1 (VXLAN): V and M flags, VNI and MAC.
    VxlanEncapsulation {
        vni: Option<u32>,
        mac: Option<[u8; 6]>,
    },
    /// RFC 9012 §3.3 (GRE, NVGRE) and others: shown raw.
    Encapsulation(Vec<u8>),
    ProtocolType(u16),
    /// RFC 9012 §3.4.2: a color extended community.
    Color(u32),
    DsField(u8),
    UdpDestinationPort(u16),
    EmbeddedLabelHandling(u8),
    /// RFC 9012 §3.6: labels (20 bits each).
    MplsLabelStack(Vec<u32>),
    /// RFC 9830 §2.4.1.
    SrPreference(u32),
    /// RFC 9830 §2.4.2.
    SrBindingSid(BindingSid),
    /// RFC 9830 §2.4.5: explicit NULL label policy.
    SrEnlp(u8),
    /// RFC 9830 §2.4.6.
    SrPriority(u8),
    /// RFC 9830 §2.4.3: an SRv6 binding SID (its flags and structure not shown).
    SrSrv6BindingSid(Ipv6Addr),
    /// RFC 9830 §2.4.7 and §2.4.8 (ExaBGP's `candidate-path-name`, `policy-name`).
    SrName {
        policy: bool,
        name: String,
    },
    /// RFC 9830 §2.4.4: a weight (none when absent) and segments.
    SrSegmentList {
        weight: Option<u32>,
        segments: Vec<Segment>,
    },
    Raw {
        kind: u8,
        value: Vec<u8>,
    },
}

/// One tunnel TLV.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TunnelTlv {
    pub tunnel_type: u16,
    /// Its sub-TLVs, or why the TLV is disregarded (RFC 9012 §13).
    pub sub_tlvs: Result<Vec<SubTlv>, String>,
}

/// Why the attribute could not be parsed at all (RFC 9012 §13: attribute-discard).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Malformed {
    pub offset: usize,
    pub why: &'static str,
}

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at octet {} of the value", self.why, self.offset)
    }
}

/// Decodes the attribute's value.
pub fn decode(value: &[u8]) -> Result<Vec<TunnelTlv>, Malformed> {
    if value.is_empty() {
        return Err(Malformed {
            offset: 0,
            why: "empty tunnel encapsulation attribute",
        });
    }
    let mut r = Reader::new(value);
    let mut tlvs = Vec::new();
    while !r.is_empty() {
        let at = r.offset();
        let overrun = Malformed {
            offset: at,
            why: "tunnel TLV overruns the attribute",
        };
        let tunnel_type = r.u16().map_err(|_| overrun.clone())?;
        let len = r.u16().map_err(|_| overrun.clone())? as usize;
        let body = r.bytes(len).map_err(|_| overrun)?;
        tlvs.push(TunnelTlv {
            tunnel_type,
            sub_tlvs: decode_sub_tlvs(tunnel_type, body),
        });
    }
    Ok(tlvs)
}

fn decode_sub_tlvs(tunnel_type: u16, body: &[u8]) -> Result<Vec<SubTlv>, String> {
    let mut r = Reader::new(body);
    let mut out = Vec::new();
    while !r.is_empty() {
        let kind = r.u8().map_err(|_| "sub-TLV truncated".to_string())?;
        let len = if kind >= sub::LONG_LENGTH_FROM {
            r.u16().map(usize::from)
        } else {
            r.u8().map(usize::from)
        }
        .map_err(|_| format!("sub-TLV {kind} length truncated"))?;
        let v = r
            .bytes(len)
            .map_err(|_| format!("sub-TLV {kind} of length {len} overruns its tunnel TLV"))?;
        out.push(decode_sub_tlv(tunnel_type, kind, v)?);
    }
    Ok(out)
}

fn decode_sub_tlv(tunnel_type: u16, kind: u8, v: &[u8]) -> Result<SubTlv, String> {
    let bad = || format!("sub-TLV {kind} has the wrong length {}", v.len());
    let u16_of = |v: &[u8]| <[u8; 2]>::try_from(v).map(u16::from_be_bytes);
    Ok(match kind {
        sub::EGRESS_ENDPOINT => {
            // Reserved (4), AFI (2), address.
            let afi = v.get(4..6).map(|b| u16::from_be_bytes([b[0], b[1]]));
            let addr = v.get(6..).unwrap_or_default();
            match (afi, addr.len()) {
                (Some(0), 0) => SubTlv::EgressEndpoint(None),
                (Some(1), 4) => SubTlv::EgressEndpoint(
                    <[u8; 4]>::try_from(addr)
                        .ok()
                        .map(|a| IpAddr::V4(Ipv4Addr::from(a))),
                ),
                (Some(2), 16) => SubTlv::EgressEndpoint(
                    <[u8; 16]>::try_from(addr)
                        .ok()
                        .map(|a| IpAddr::V6(Ipv6Addr::from(a))),
                ),
                _ => return Err(bad()),
            }
        }
        sub::ENCAPSULATION if tunnel_type == 8 => {
            // RFC 9012 §3.2.1: flags (V = VNI present, M = MAC present), VNI (3), MAC (6),
            // reserved (2): 12 octets.
            if v.len() != 12 {
                return Err(bad());
            }
            let flags = v[0];
            SubTlv::VxlanEncapsulation {
                vni: (flags & 0x80 != 0).then(|| u32::from_be_bytes([0, v[1], v[2], v[3]])),
                mac: (flags & 0x40 != 0).then(|| [v[4], v[5], v[6], v[7], v[8], v[9]]),
            }
        }
        sub::ENCAPSULATION => SubTlv::Encapsulation(v.to_vec()),
        sub::PROTOCOL_TYPE => SubTlv::ProtocolType(u16_of(v).map_err(|_| bad())?),
        sub::COLOR => match v {
            [0x03, 0x0b, _, _, a, b, c, d] => SubTlv::Color(u32::from_be_bytes([*a, *b, *c, *d])),
            _ => return Err(bad()),
        },
        sub::DS_FIELD => match v {
            [d] => SubTlv::DsField(*d),
            _ => return Err(bad()),
        },
        sub::UDP_DESTINATION_PORT => SubTlv::UdpDestinationPort(u16_of(v).map_err(|_| bad())?),
        sub::EMBEDDED_LABEL_HANDLING => match v {
            [d] => SubTlv::EmbeddedLabelHandling(*d),
            _ => return Err(bad()),
        },
        sub::SR_PREFERENCE if tunnel_type == SR_POLICY_TUNNEL => match v {
            [_flags, _reserved, a, b, c, d] => {
                SubTlv::SrPreference(u32::from_be_bytes([*a, *b, *c, *d]))
            }
            _ => return Err(bad()),
        },
        sub::SR_BINDING_SID if tunnel_type == SR_POLICY_TUNNEL => SubTlv::SrBindingSid(match v {
            [_, _] => BindingSid::None,
            [_, _, a, b, c, d] => BindingSid::Label(u32::from_be_bytes([*a, *b, *c, *d]) >> 12),
            [_, _, rest @ ..] if rest.len() == 16 => BindingSid::Srv6(Ipv6Addr::from(
                <[u8; 16]>::try_from(rest).map_err(|_| bad())?,
            )),
            _ => return Err(bad()),
        }),
        sub::SR_ENLP if tunnel_type == SR_POLICY_TUNNEL => match v {
            [_flags, _reserved, enlp] => SubTlv::SrEnlp(*enlp),
            _ => return Err(bad()),
        },
        sub::SR_PRIORITY if tunnel_type == SR_POLICY_TUNNEL => match v {
            [priority, _reserved] => SubTlv::SrPriority(*priority),
            _ => return Err(bad()),
        },
        sub::SR_SEGMENT_LIST if tunnel_type == SR_POLICY_TUNNEL => segment_list(v)?,
        sub::SR_SRV6_BINDING_SID if tunnel_type == SR_POLICY_TUNNEL => match v.get(2..18) {
            Some(sid) if v.len() == 18 || v.len() == 26 => SubTlv::SrSrv6BindingSid(
                Ipv6Addr::from(<[u8; 16]>::try_from(sid).map_err(|_| bad())?),
            ),
            _ => return Err(bad()),
        },
        sub::SR_CANDIDATE_PATH_NAME | sub::SR_POLICY_NAME if tunnel_type == SR_POLICY_TUNNEL => {
            let name = v.get(1..).ok_or_else(bad)?;
            SubTlv::SrName {
                policy: kind == sub::SR_POLICY_NAME,
                name: String::from_utf8_lossy(name).into_owned(),
            }
        }
        sub::MPLS_LABEL_STACK => {
            if v.is_empty() || !v.len().is_multiple_of(4) {
                return Err(bad());
            }
            SubTlv::MplsLabelStack(
                v.chunks_exact(4)
                    .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]) >> 12)
                    .collect(),
            )
        }
        _ => SubTlv::Raw {
            kind,
            value: v.to_vec(),
        },
    })
}

/// RFC 9830 §2.4.4: a reserved octet, then sub-TLVs (1-octet type and length): the weight
/// and the segments.
fn segment_list(v: &[u8]) -> Result<SubTlv, String> {
    let mut r = Reader::new(v.get(1..).ok_or("empty segment list")?);
    let mut weight = None;
    let mut segments = Vec::new();
    while !r.is_empty() {
        let kind = r
            .u8()
            .map_err(|_| "segment sub-TLV truncated".to_string())?;
        let len = r
            .u8()
            .map_err(|_| format!("segment sub-TLV {kind} length truncated"))?;
        let s = r.bytes(len.into()).map_err(|_| {
            format!("segment sub-TLV {kind} of length {len} overruns its segment list")
        })?;
        let bad = || format!("segment sub-TLV {kind} has the wrong length {len}");
        match kind {
            sub::SR_WEIGHT => match s {
                [_flags, _reserved, a, b, c, d] => {
                    weight = Some(u32::from_be_bytes([*a, *b, *c, *d]))
                }
                _ => return Err(bad()),
            },
            sub::SR_SEGMENT_LABEL => match s {
                [_flags, _reserved, a, b, c, d] => {
                    segments.push(Segment::Label(u32::from_be_bytes([*a, *b, *c, *d]) >> 12))
                }
                _ => return Err(bad()),
            },
            sub::SR_SEGMENT_SRV6 => match s.get(2..18) {
                Some(sid) if s.len() == 18 || s.len() == 26 => segments.push(Segment::Srv6(
                    Ipv6Addr::from(<[u8; 16]>::try_from(sid).map_err(|_| bad())?),
                )),
                _ => return Err(bad()),
            },
            _ => segments.push(Segment::Other {
                kind,
                value: s.to_vec(),
            }),
        }
    }
    Ok(SubTlv::SrSegmentList { weight, segments })
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

impl fmt::Display for SubTlv {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SubTlv::EgressEndpoint(Some(a)) => write!(f, "endpoint {a}"),
            SubTlv::EgressEndpoint(None) => f.write_str("endpoint none"),
            SubTlv::VxlanEncapsulation { vni, mac } => {
                f.write_str("vxlan")?;
                if let Some(v) = vni {
                    write!(f, " vni {v}")?;
                }
                if let Some(m) = mac {
                    let m: Vec<String> = m.iter().map(|b| format!("{b:02x}")).collect();
                    write!(f, " mac {}", m.join(":"))?;
                }
                Ok(())
            }
            SubTlv::Encapsulation(v) => write!(f, "encapsulation 0x{}", hex(v)),
            SubTlv::ProtocolType(p) => write!(f, "protocol-type 0x{p:04x}"),
            SubTlv::Color(c) => write!(f, "color {c}"),
            SubTlv::DsField(d) => write!(f, "ds-field {d}"),
            SubTlv::UdpDestinationPort(p) => write!(f, "udp-port {p}"),
            SubTlv::EmbeddedLabelHandling(d) => write!(f, "embedded-label-handling {d}"),
            SubTlv::MplsLabelStack(l) => {
                let l: Vec<String> = l.iter().map(u32::to_string).collect();
                write!(f, "mpls-labels {}", l.join(","))
            }
            SubTlv::SrPreference(p) => write!(f, "preference {p}"),
            SubTlv::SrBindingSid(BindingSid::None) => f.write_str("binding-sid none"),
            SubTlv::SrBindingSid(BindingSid::Label(l)) => write!(f, "binding-sid {l}"),
            SubTlv::SrBindingSid(BindingSid::Srv6(a)) => write!(f, "binding-sid {a}"),
            SubTlv::SrEnlp(e) => write!(f, "enlp {e}"),
            SubTlv::SrSrv6BindingSid(a) => write!(f, "srv6-binding-sid {a}"),
            SubTlv::SrName { policy, name } => write!(
                f,
                "{} {name:?}",
                if *policy {
                    "policy-name"
                } else {
                    "candidate-path-name"
                }
            ),
            SubTlv::SrPriority(p) => write!(f, "priority {p}"),
            SubTlv::SrSegmentList { weight, segments } => {
                f.write_str("segment-list [")?;
                if let Some(w) = weight {
                    write!(f, " weight {w}")?;
                }
                for s in segments {
                    match s {
                        Segment::Label(l) => write!(f, " label {l}")?,
                        Segment::Srv6(a) => write!(f, " srv6 {a}")?,
                        Segment::Other { kind, value } => {
                            write!(f, " segment-type-{kind} 0x{}", hex(value))?
                        }
                    }
                }
                f.write_str(" ]")
            }
            SubTlv::Raw { kind, value } => write!(f, "sub-tlv {kind} 0x{}", hex(value)),
        }
    }
}

impl fmt::Display for TunnelTlv {
    /// `vxlan { endpoint 192.0.2.1; color 100; }`, or `vxlan disregarded (WHY)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match tunnel_type_name(self.tunnel_type) {
            Some(n) => f.write_str(n)?,
            None => write!(f, "tunnel-type-{}", self.tunnel_type)?,
        }
        match &self.sub_tlvs {
            Ok(subs) => {
                f.write_str(" {")?;
                for s in subs {
                    write!(f, " {s};")?;
                }
                f.write_str(" }")
            }
            Err(why) => write!(f, " disregarded ({why})"),
        }
    }
}

/// The attribute's value as text, for `decode` and logs.
pub fn text(value: &[u8]) -> String {
    match decode(value) {
        Ok(tlvs) => {
            let t: Vec<String> = tlvs.iter().map(TunnelTlv::to_string).collect();
            format!("tunnel-encapsulation [{}]", t.join(" "))
        }
        Err(e) => format!("tunnel-encapsulation malformed ({e}) 0x{}", hex(value)),
    }
}

/// The attribute's value as JSON: `[{"tunnel_type", "tunnel_name", "sub_tlvs": [{"type",
/// "name", "text"}], "disregarded": null or reason}]`, or `{"malformed", "hex"}`.
pub fn to_json(value: &[u8]) -> Value {
    match decode(value) {
        Ok(tlvs) => json!(
            tlvs.iter()
                .map(|t| {
                    let subs: Vec<Value> = match &t.sub_tlvs {
                        Ok(s) => s.iter().map(|s| json!({"text": s.to_string()})).collect(),
                        Err(_) => Vec::new(),
                    };
                    json!({
                        "tunnel_type": t.tunnel_type,
                        "tunnel_name": tunnel_type_name(t.tunnel_type),
                        "sub_tlvs": subs,
                        "disregarded": t.sub_tlvs.as_ref().err(),
                    })
                })
                .collect::<Vec<_>>()
        ),
        Err(e) => json!({"malformed": e.to_string(), "hex": hex(value)}),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes(h: &str) -> Vec<u8> {
        let h: String = h.split_whitespace().collect();
        (0..h.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&h[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn vxlan_with_endpoint_and_color() {
        // VXLAN (8), length 32: endpoint sub-TLV (6, len 10, AFI 1, 192.0.2.1), color
        // sub-TLV (4, len 8), VXLAN encapsulation (1, len 12, V flag, VNI 10).
        let v = bytes(
            "0008 0024 060a 00000000 0001 c0000201 0408 030b0000 00000064 \
             010c 80 00000a 000000000000 0000",
        );
        assert_eq!(
            text(&v),
            "tunnel-encapsulation [vxlan { endpoint 192.0.2.1; color 100; vxlan vni 10; }]"
        );
    }

    #[test]
    fn sr_policy_sub_tlvs() {
        // SR Policy (15), length 48: preference 100 (12, len 6), binding SID label 24000
        // (13, len 6, 24000 << 12), priority 10 (15, len 2), segment list (128, 2-octet
        // length 25): reserved, weight 10 (9, len 6), label 16001 and label 16002 (1, len 6).
        let v = bytes(
            "000f 0030 \
             0c06 0000 00000064 \
             0d06 0000 05dc0000 \
             0f02 0a00 \
             80 0019 00 0906 0000 0000000a 0106 0000 03e81000 0106 0000 03e82000",
        );
        assert_eq!(
            text(&v),
            "tunnel-encapsulation [sr-policy { preference 100; binding-sid 24000; priority 10; \
             segment-list [ weight 10 label 16001 label 16002 ]; }]"
        );
        // A segment list whose segment overruns it: the tunnel is disregarded.
        let v = bytes("000f 0008 80 0005 00 0106 0000");
        assert!(decode(&v).unwrap()[0].sub_tlvs.is_err());
    }

    #[test]
    fn malformed_tlvs_are_discarded_or_disregarded_never_a_panic() {
        assert!(decode(&[]).is_err());
        assert!(decode(&bytes("0001")).is_err());
        assert!(decode(&bytes("0008 0005 0601")).is_err());
        // A sub-TLV that overruns its TLV: the TLV is disregarded, the next one kept.
        let v = decode(&bytes("0008 0002 0609 0002 0000")).unwrap();
        assert!(v[0].sub_tlvs.is_err());
        assert_eq!(v[1].sub_tlvs, Ok(Vec::new()));
        // An endpoint of the wrong length.
        let v = decode(&bytes("0007 0005 0603 000000")).unwrap();
        assert!(v[0].sub_tlvs.is_err());
        // Every prefix of a valid value decodes or fails cleanly.
        let good = bytes("0008 000c 060a 00000000 0001 c0000201");
        for n in 0..good.len() {
            let _ = text(&good[..n]);
        }
    }
}
