//! The BGP Prefix-SID attribute (type 40, RFC 8669; SRv6 services RFC 9252): TLVs of a
//! type (1 octet) and a 2-octet length. Decoded for `decode` and logs; the attribute stays
//! raw in the attribute list, so it is passed on unchanged.
//!
//! Known TLVs: label index (1, RFC 8669 §3.1), originator SRGB (3, §3.2), SRv6 L3 and L2
//! services (5 and 6, RFC 9252 §2) with their SRv6 SID information sub-TLVs (1, §3.1) and
//! those's SID structure sub-sub-TLVs (1, §3.2.1). Text:
//! `prefix-sid [ label-index 100; srv6-l3-service [ sid 2001:db8:1:: behavior 72 structure
//! 64:24:16:0 transposition 0:0 ]; ]`; anything else `tlv-N 0x...`.

use std::net::Ipv6Addr;

use serde_json::{Value, json};

use super::reader::Reader;

/// RFC 8669 §3, RFC 9252 §2.
const LABEL_INDEX: u8 = 1;
const ORIGINATOR_SRGB: u8 = 3;
const SRV6_L3_SERVICE: u8 = 5;
const SRV6_L2_SERVICE: u8 = 6;
/// RFC 9252 §3.1, §3.2.1.
const SRV6_SID_INFORMATION: u8 = 1;
const SRV6_SID_STRUCTURE: u8 = 1;

/// The octet TLVs of `r`: (type, value) with a 2-octet length, or why they do not tile.
fn tlvs<'a>(r: &mut Reader<'a>, what: &str) -> Result<Vec<(u8, &'a [u8])>, String> {
    let mut out = Vec::new();
    while !r.is_empty() {
        let at = r.offset();
        let kind = r
            .u8()
            .map_err(|_| format!("{what} truncated at octet {at}"))?;
        let len = r
            .u16()
            .map_err(|_| format!("{what} {kind} length truncated at octet {at}"))?;
        let v = r
            .bytes(len.into())
            .map_err(|_| format!("{what} {kind} of length {len} at octet {at} overruns"))?;
        out.push((kind, v));
    }
    Ok(out)
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// An SRv6 service TLV's value: a reserved octet, then SID information sub-TLVs.
fn service_text(v: &[u8]) -> Result<String, String> {
    let mut r = Reader::at(v.get(1..).ok_or("empty SRv6 service TLV")?, 1);
    let mut parts = Vec::new();
    for (kind, s) in tlvs(&mut r, "SRv6 service sub-TLV")? {
        if kind != SRV6_SID_INFORMATION {
            parts.push(format!("sub-tlv-{kind} 0x{}", hex(s)));
            continue;
        }
        // Reserved 1, SID 16, flags 1, endpoint behavior 2, reserved 1, sub-sub-TLVs.
        let sid = s
            .get(1..17)
            .and_then(|b| <[u8; 16]>::try_from(b).ok())
            .ok_or("SRv6 SID information shorter than 21 octets")?;
        let behavior = s
            .get(18..20)
            .map(|b| u16::from_be_bytes([b[0], b[1]]))
            .ok_or("SRv6 SID information shorter than 21 octets")?;
        let mut t = format!("sid {} behavior {behavior}", Ipv6Addr::from(sid));
        let mut rest = Reader::at(
            s.get(21..)
                .ok_or("SRv6 SID information shorter than 21 octets")?,
            21,
        );
        for (k, ss) in tlvs(&mut rest, "SRv6 SID sub-sub-TLV")? {
            match (k, ss) {
                (SRV6_SID_STRUCTURE, [lb, ln, fun, arg, tl, to]) => t.push_str(&format!(
                    " structure {lb}:{ln}:{fun}:{arg} transposition {tl}:{to}"
                )),
                _ => t.push_str(&format!(" sub-sub-tlv-{k} 0x{}", hex(ss))),
            }
        }
        parts.push(format!("[ {t} ]"));
    }
    Ok(parts.join(" "))
}

/// One TLV as `NAME VALUE`.
fn tlv_text(kind: u8, v: &[u8]) -> Result<String, String> {
    Ok(match (kind, v) {
        // Reserved 1, flags 2, label index 4.
        (LABEL_INDEX, [_, _, _, a, b, c, d]) => {
            format!("label-index {}", u32::from_be_bytes([*a, *b, *c, *d]))
        }
        (ORIGINATOR_SRGB, v) if v.len() >= 2 && (v.len() - 2) % 6 == 0 => {
            let ranges: Vec<String> = v[2..]
                .chunks_exact(6)
                .map(|c| {
                    let base = u32::from_be_bytes([0, c[0], c[1], c[2]]);
                    let range = u32::from_be_bytes([0, c[3], c[4], c[5]]);
                    format!("{base}+{range}")
                })
                .collect();
            format!("originator-srgb [ {} ]", ranges.join(" "))
        }
        (SRV6_L3_SERVICE, v) => format!("srv6-l3-service {}", service_text(v)?),
        (SRV6_L2_SERVICE, v) => format!("srv6-l2-service {}", service_text(v)?),
        (LABEL_INDEX | ORIGINATOR_SRGB, v) => {
            return Err(format!("TLV {kind} has the wrong length {}", v.len()));
        }
        (k, v) => format!("tlv-{k} 0x{}", hex(v)),
    })
}

/// Whether `value` is a well-formed Prefix-SID value (RFC 8669 §6: TLVs that tile the value,
/// known TLVs of their length; unknown TLVs are kept and passed on), or why not.
pub fn check(value: &[u8]) -> Result<(), String> {
    texts(value).map(|_| ())
}

/// RFC 9252 §3.2.1: the SID structure's six lengths (locator block, locator node, function,
/// argument, transposition length and offset).
pub type SidStructure = [u8; 6];

/// One SRv6 service as ExaBGP's `bgp-prefix-sid-srv6 ( l3-service SID BEHAVIOR [ ... ] )`
/// writes it: one SID information sub-TLV.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Srv6Service {
    /// L2 (TLV 6) rather than L3 (TLV 5).
    pub l2: bool,
    pub sid: Ipv6Addr,
    /// RFC 8986 endpoint behavior; 0xFFFF (opaque) when not given, as ExaBGP.
    pub behavior: u16,
    pub structure: Option<SidStructure>,
}

/// The TLVs bgpinject builds: a label index and an originator SRGB (RFC 8669 §3), SRv6
/// services (RFC 9252 §2).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PrefixSid {
    pub label_index: Option<u32>,
    /// (base, range) pairs, each a 24-bit number.
    pub srgb: Vec<(u32, u32)>,
    pub services: Vec<Srv6Service>,
    /// TLVs written as whole values (type, value): ExaBGP 4.2's first SRv6 syntax, whose
    /// TLV 2 (IPv6 SID), 4 (SRv6 VPN SID) and 5 (SRv6 L3VPN SID, the 21-octet layout of
    /// draft-dawra-idr-srv6-vpn-04) came before RFC 9252.
    pub draft_tlvs: Vec<(u8, Vec<u8>)>,
}

/// Appends one TLV of a 2-octet length; `body` writes the value.
fn emit_tlv(kind: u8, out: &mut Vec<u8>, body: impl FnOnce(&mut Vec<u8>)) {
    out.push(kind);
    let at = out.len();
    out.extend_from_slice(&[0, 0]);
    body(out);
    let len = (out.len() - at - 2) as u16;
    out[at..at + 2].copy_from_slice(&len.to_be_bytes());
}

impl PrefixSid {
    /// The attribute's value octets. A 24-bit field takes the low 24 bits (the
    /// configuration checks the range).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        if let Some(index) = self.label_index {
            // Reserved 1, flags 2, label index 4.
            emit_tlv(LABEL_INDEX, &mut out, |o| {
                o.extend_from_slice(&[0, 0, 0]);
                o.extend_from_slice(&index.to_be_bytes());
            });
        }
        if !self.srgb.is_empty() {
            emit_tlv(ORIGINATOR_SRGB, &mut out, |o| {
                o.extend_from_slice(&[0, 0]);
                for (base, range) in &self.srgb {
                    o.extend_from_slice(&base.to_be_bytes()[1..]);
                    o.extend_from_slice(&range.to_be_bytes()[1..]);
                }
            });
        }
        for s in &self.services {
            let kind = if s.l2 {
                SRV6_L2_SERVICE
            } else {
                SRV6_L3_SERVICE
            };
            emit_tlv(kind, &mut out, |o| {
                o.push(0);
                emit_tlv(SRV6_SID_INFORMATION, o, |o| {
                    o.push(0);
                    o.extend_from_slice(&s.sid.octets());
                    o.push(0); // SID flags
                    o.extend_from_slice(&s.behavior.to_be_bytes());
                    o.push(0);
                    if let Some(st) = s.structure {
                        emit_tlv(SRV6_SID_STRUCTURE, o, |o| o.extend_from_slice(&st));
                    }
                });
            });
        }
        for (kind, value) in &self.draft_tlvs {
            emit_tlv(*kind, &mut out, |o| o.extend_from_slice(value));
        }
        out
    }
}

/// The TLVs as text, or why the attribute does not parse.
fn texts(value: &[u8]) -> Result<Vec<(u8, String)>, String> {
    let mut r = Reader::new(value);
    tlvs(&mut r, "Prefix-SID TLV")?
        .into_iter()
        .map(|(k, v)| tlv_text(k, v).map(|t| (k, t)))
        .collect()
}

/// `prefix-sid [ label-index 100; ... ]`, or `prefix-sid malformed (WHY) 0x...`.
pub fn text(value: &[u8]) -> String {
    match texts(value) {
        Ok(t) => {
            let parts: Vec<String> = t.into_iter().map(|(_, s)| format!("{s};")).collect();
            format!("prefix-sid [ {} ]", parts.join(" "))
        }
        Err(why) => format!("prefix-sid malformed ({why}) 0x{}", hex(value)),
    }
}

/// `[{"type", "text"}]`, or `{"malformed", "hex"}`.
pub fn to_json(value: &[u8]) -> Value {
    match texts(value) {
        Ok(t) => json!(
            t.into_iter()
                .map(|(k, s)| json!({"type": k, "text": s}))
                .collect::<Vec<_>>()
        ),
        Err(why) => json!({"malformed": why, "hex": hex(value)}),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_hex(h: &str) -> Option<Vec<u8>> {
        let h: String = h.split_whitespace().collect();
        (0..h.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(h.get(i..i + 2)?, 16).ok())
            .collect()
    }

    #[test]
    fn srv6_l3_service_as_gobgp_sends_it_with_a_mup_route() {
        // GoBGP 3.10, `gobgp global rib -a ipv4-mup add isd ... prefix 2001:db8:1::/64
        // locator-node-length 24 function-length 16 behavior ENDM_GTP4E`
        // (test-vectors/captured/families-gobgp.vec, gobgp-update-announce-ipv4-mup-1):
        // End.M.GTP4.E is behavior 72 (RFC 9433 §6.6); the locator block is the /64.
        let v = parse_hex(
            "05 0022 00 01 001e 00 20010db8000100000000000000000000 00 0048 00 01 0006 40 18 10 00 00 00",
        )
        .unwrap();
        assert_eq!(
            text(&v),
            "prefix-sid [ srv6-l3-service [ sid 2001:db8:1:: behavior 72 structure 64:24:16:0 transposition 0:0 ]; ]"
        );
        // RFC 8669 label index 100 and an SRGB of 16000+8000.
        let v = parse_hex("01 0007 00 0000 00000064 03 0008 0000 003e80 001f40").unwrap();
        assert_eq!(
            text(&v),
            "prefix-sid [ label-index 100; originator-srgb [ 16000+8000 ]; ]"
        );
        for n in 0..v.len() {
            let _ = to_json(&v[..n]);
        }
        assert!(text(&v[..5]).starts_with("prefix-sid malformed"));
    }

    #[test]
    fn built_values_are_exabgps_bytes() {
        // ExaBGP's conf-prefix-sid: `bgp-prefix-sid [ 300, [ ( 800000,4096 ), ( 1000000,5000 ) ] ]`
        // sends 01 0007 000000 0000012c 03 000e 0000 0c3500 001000 0f4240 001388.
        let p = PrefixSid {
            label_index: Some(300),
            srgb: vec![(800000, 4096), (1000000, 5000)],
            ..Default::default()
        };
        assert_eq!(
            p.encode(),
            parse_hex("0100070000000000012c 03000e00000c35000010000f4240001388").unwrap()
        );
        // The GoBGP MUP capture above, built from its words.
        let p = PrefixSid {
            services: vec![Srv6Service {
                l2: false,
                sid: "2001:db8:1::".parse().unwrap(),
                behavior: 72,
                structure: Some([64, 24, 16, 0, 0, 0]),
            }],
            ..Default::default()
        };
        assert_eq!(
            p.encode(),
            parse_hex("05 0022 00 01 001e 00 20010db8000100000000000000000000 00 0048 00 01 0006 40 18 10 00 00 00").unwrap()
        );
        assert!(check(&p.encode()).is_ok());
    }
}
