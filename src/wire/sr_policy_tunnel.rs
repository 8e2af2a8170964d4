//! The Tunnel Encapsulation attribute of an SR Policy route (RFC 9830 §2.4): one tunnel TLV
//! of type 15 whose sub-TLVs are the candidate path's preference, binding SID, ENLP,
//! priority, names and segment lists, in the order given. The encoder behind ExaBGP's
//! `sr-policy ... preference 100 binding-sid mpls 24000 segment-list weight 1 segment type-a
//! mpls 16001` (src/config/sr_policy.rs); the decoder is [`super::tunnel_encap`].

use std::net::{Ipv4Addr, Ipv6Addr};

use super::tunnel_encap::SR_POLICY_TUNNEL;

/// RFC 9830 §2.4 sub-TLV types (1-octet length below 128, 2-octet from 128, RFC 9012 §2).
mod sub {
    pub const PREFERENCE: u8 = 12;
    pub const BINDING_SID: u8 = 13;
    pub const ENLP: u8 = 14;
    pub const PRIORITY: u8 = 15;
    pub const SRV6_BINDING_SID: u8 = 20;
    pub const SEGMENT_LIST: u8 = 128;
    pub const CANDIDATE_PATH_NAME: u8 = 129;
    pub const POLICY_NAME: u8 = 130;
    pub const LONG_LENGTH_FROM: u8 = 128;
    /// Inside a segment list (RFC 9830 §2.4.4): the weight and segment types A, C, D, B.
    pub const WEIGHT: u8 = 9;
    pub const TYPE_A: u8 = 1;
    pub const TYPE_C: u8 = 3;
    pub const TYPE_D: u8 = 4;
    pub const TYPE_B: u8 = 13;
}

/// RFC 9830 §2.4.4.2 segment flags.
pub const FLAG_VERIFICATION: u8 = 0x80;
pub const FLAG_ALGORITHM: u8 = 0x40;
pub const FLAG_BEHAVIOR: u8 = 0x10;

/// RFC 9830 §2.4.4.2.2: endpoint behavior and SID structure of an SRv6 segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EndpointBehavior {
    pub behavior: u16,
    /// Locator block, locator node, function and argument lengths.
    pub lengths: [u8; 4],
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SegmentKind {
    /// Type A: an MPLS label.
    Label(u32),
    /// Type B: an SRv6 SID.
    Srv6(Ipv6Addr, Option<EndpointBehavior>),
    /// Type C: an IPv4 node, an algorithm and an optional SR-MPLS SID (a label).
    Ipv4Node(Ipv4Addr, u8, Option<u32>),
    /// Type D: an IPv6 node, an algorithm and an optional SR-MPLS SID.
    Ipv6Node(Ipv6Addr, u8, Option<u32>),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Segment {
    pub kind: SegmentKind,
    pub verification: bool,
}

/// One sub-TLV of the SR Policy tunnel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SrSubTlv {
    Preference(u32),
    /// `None`: a binding SID sub-TLV without a SID.
    BindingSid(Option<u32>),
    Srv6BindingSid(Ipv6Addr),
    Enlp(u8),
    Priority(u8),
    PolicyName(String),
    CandidatePathName(String),
    SegmentList {
        weight: Option<u32>,
        segments: Vec<Segment>,
    },
}

/// Appends `kind`, its length (1 or 2 octets by type) and the value `body` writes.
fn emit_sub(kind: u8, out: &mut Vec<u8>, body: impl FnOnce(&mut Vec<u8>)) {
    out.push(kind);
    let long = kind >= sub::LONG_LENGTH_FROM;
    let at = out.len();
    out.extend_from_slice(if long { &[0, 0] } else { &[0] });
    body(out);
    let len = out.len() - at - if long { 2 } else { 1 };
    if long {
        out[at..at + 2].copy_from_slice(&(len.min(u16::MAX as usize) as u16).to_be_bytes());
    } else {
        out[at] = len.min(u8::MAX as usize) as u8;
    }
}

fn label_field(label: u32) -> [u8; 4] {
    ((label & 0xF_FFFF) << 12).to_be_bytes()
}

fn emit_segment(s: &Segment, out: &mut Vec<u8>) {
    let v = if s.verification { FLAG_VERIFICATION } else { 0 };
    match &s.kind {
        SegmentKind::Label(l) => emit_sub(sub::TYPE_A, out, |o| {
            o.extend_from_slice(&[v, 0]);
            o.extend_from_slice(&label_field(*l));
        }),
        SegmentKind::Srv6(sid, eb) => emit_sub(sub::TYPE_B, out, |o| {
            o.extend_from_slice(&[v | if eb.is_some() { FLAG_BEHAVIOR } else { 0 }, 0]);
            o.extend_from_slice(&sid.octets());
            if let Some(eb) = eb {
                o.extend_from_slice(&eb.behavior.to_be_bytes());
                o.extend_from_slice(&[0, 0]);
                o.extend_from_slice(&eb.lengths);
            }
        }),
        SegmentKind::Ipv4Node(a, algorithm, sid) => emit_sub(sub::TYPE_C, out, |o| {
            let flags = v | if *algorithm != 0 { FLAG_ALGORITHM } else { 0 };
            o.extend_from_slice(&[flags, *algorithm]);
            o.extend_from_slice(&a.octets());
            if let Some(l) = sid {
                o.extend_from_slice(&label_field(*l));
            }
        }),
        SegmentKind::Ipv6Node(a, algorithm, sid) => emit_sub(sub::TYPE_D, out, |o| {
            let flags = v | if *algorithm != 0 { FLAG_ALGORITHM } else { 0 };
            o.extend_from_slice(&[flags, *algorithm]);
            o.extend_from_slice(&a.octets());
            if let Some(l) = sid {
                o.extend_from_slice(&label_field(*l));
            }
        }),
    }
}

impl SrSubTlv {
    fn emit(&self, out: &mut Vec<u8>) {
        match self {
            SrSubTlv::Preference(p) => emit_sub(sub::PREFERENCE, out, |o| {
                o.extend_from_slice(&[0, 0]);
                o.extend_from_slice(&p.to_be_bytes());
            }),
            SrSubTlv::BindingSid(l) => emit_sub(sub::BINDING_SID, out, |o| {
                o.extend_from_slice(&[0, 0]);
                if let Some(l) = l {
                    o.extend_from_slice(&label_field(*l));
                }
            }),
            SrSubTlv::Srv6BindingSid(sid) => emit_sub(sub::SRV6_BINDING_SID, out, |o| {
                o.extend_from_slice(&[0, 0]);
                o.extend_from_slice(&sid.octets());
            }),
            SrSubTlv::Enlp(e) => emit_sub(sub::ENLP, out, |o| o.extend_from_slice(&[0, 0, *e])),
            SrSubTlv::Priority(p) => {
                emit_sub(sub::PRIORITY, out, |o| o.extend_from_slice(&[*p, 0]))
            }
            SrSubTlv::PolicyName(n) => emit_sub(sub::POLICY_NAME, out, |o| {
                o.push(0);
                o.extend_from_slice(n.as_bytes());
            }),
            SrSubTlv::CandidatePathName(n) => emit_sub(sub::CANDIDATE_PATH_NAME, out, |o| {
                o.push(0);
                o.extend_from_slice(n.as_bytes());
            }),
            SrSubTlv::SegmentList { weight, segments } => emit_sub(sub::SEGMENT_LIST, out, |o| {
                o.push(0);
                if let Some(w) = weight {
                    emit_sub(sub::WEIGHT, o, |o| {
                        o.extend_from_slice(&[0, 0]);
                        o.extend_from_slice(&w.to_be_bytes());
                    });
                }
                segments.iter().for_each(|s| emit_segment(s, o));
            }),
        }
    }

    /// Octets on the wire, type and length included.
    fn wire_len(&self) -> usize {
        let mut v = Vec::new();
        self.emit(&mut v);
        v.len()
    }
}

/// Why a set of sub-TLVs cannot be one attribute.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TooLong {
    /// What does not fit, in the configuration's words.
    pub what: &'static str,
    pub octets: usize,
    pub most: usize,
}

impl std::fmt::Display for TooLong {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} of {} octets, at most {} fit (a 2-octet length)",
            self.what, self.octets, self.most
        )
    }
}

/// The largest value of a TLV or attribute with a 2-octet length.
const MOST: usize = u16::MAX as usize;

/// The attribute's value: one SR Policy tunnel TLV with `subs`; refused when a segment list,
/// the tunnel TLV or the attribute outgrows its 2-octet length.
pub fn encode(subs: &[SrSubTlv]) -> Result<Vec<u8>, TooLong> {
    let mut body = Vec::new();
    for s in subs {
        let len = s.wire_len();
        if matches!(s, SrSubTlv::SegmentList { .. }) && len - 3 > MOST {
            return Err(TooLong {
                what: "a segment list",
                octets: len - 3,
                most: MOST,
            });
        }
        s.emit(&mut body);
    }
    // The attribute's own length (extended, 2 octets) holds type, length and body.
    if body.len() + 4 > MOST {
        return Err(TooLong {
            what: "the SR Policy tunnel encapsulation",
            octets: body.len() + 4,
            most: MOST,
        });
    }
    let mut out = Vec::with_capacity(body.len() + 4);
    out.extend_from_slice(&SR_POLICY_TUNNEL.to_be_bytes());
    out.extend_from_slice(&(body.len() as u16).to_be_bytes());
    out.extend_from_slice(&body);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(v: &[u8]) -> String {
        v.iter().map(|b| format!("{b:02x}")).collect()
    }

    fn seg(kind: SegmentKind) -> Segment {
        Segment {
            kind,
            verification: false,
        }
    }

    #[test]
    fn exabgps_sr_policy_attributes_byte_for_byte() {
        // ExaBGP's qa/encoding/conf-sr-policy.ci, the tunnel encapsulation of each UPDATE.
        let v = encode(&[
            SrSubTlv::Preference(100),
            SrSubTlv::BindingSid(Some(24000)),
            SrSubTlv::SegmentList {
                weight: Some(1),
                segments: vec![seg(SegmentKind::Label(16001))],
            },
        ])
        .unwrap();
        assert_eq!(
            hex(&v),
            "000f00240c060000000000640d06000005dc00008000110009060000000000010106000003e81000"
        );
        let v = encode(&[
            SrSubTlv::Preference(200),
            SrSubTlv::Srv6BindingSid("fc00::1".parse().unwrap()),
            SrSubTlv::SegmentList {
                weight: Some(2),
                segments: vec![seg(SegmentKind::Srv6(
                    "fc00::1".parse().unwrap(),
                    Some(EndpointBehavior {
                        behavior: 65,
                        lengths: [32, 0, 16, 0],
                    }),
                ))],
            },
            SrSubTlv::PolicyName("my-policy".into()),
            SrSubTlv::CandidatePathName("primary".into()),
        ])
        .unwrap();
        assert_eq!(
            hex(&v),
            "000f005c0c060000000000c814120000fc0000000000000000000000000000018000250009060000000000020d1a1000fc000000000000000000000000000001004100002000100082000a006d792d706f6c696379810008007072696d617279"
        );
        let v = encode(&[
            SrSubTlv::Preference(400),
            SrSubTlv::Enlp(4),
            SrSubTlv::SegmentList {
                weight: Some(1),
                segments: vec![Segment {
                    kind: SegmentKind::Label(16001),
                    verification: true,
                }],
            },
        ])
        .unwrap();
        assert_eq!(
            hex(&v),
            "000f00210c060000000001900e030000048000110009060000000000010106800003e81000"
        );
        assert!(super::super::tunnel_encap::decode(&v).is_ok());
    }

    #[test]
    fn ten_thousand_segments_are_refused_by_size_not_truncated() {
        let segments = (0..10_000)
            .map(|i| seg(SegmentKind::Label(16000 + i)))
            .collect();
        let e = encode(&[SrSubTlv::SegmentList {
            weight: Some(1),
            segments,
        }])
        .unwrap_err();
        assert_eq!(e.what, "a segment list");
        assert_eq!(e.octets, 1 + 8 + 10_000 * 8);
        // 8,000 segments fit one segment list (64,009 octets) but not with a second one.
        let list = |n: u32| SrSubTlv::SegmentList {
            weight: None,
            segments: (0..n).map(|i| seg(SegmentKind::Label(i))).collect(),
        };
        assert!(encode(&[list(8000)]).is_ok());
        assert_eq!(
            encode(&[list(8000), list(8000)]).unwrap_err().what,
            "the SR Policy tunnel encapsulation"
        );
    }
}
