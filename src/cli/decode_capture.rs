//! `decode --pcap FILE`, `decode --mrt FILE` and `decode --nlri FAMILY HEX`: the same
//! decoding as for hex messages, for what tcpdump or a route collector recorded.
//!
//! Text: one line per message, `TIME SOURCE > DESTINATION MESSAGE` (pcap) or
//! `TIME peer ADDRESS AS N local ADDRESS AS N MESSAGE` (MRT BGP4MP), problems indented below.
//! JSON: one object per line, the message object of `decode --json` plus `time` (RFC 3339,
//! UTC), `source` and `destination` (pcap) or `record`, `peer`, `local` (MRT); TABLE_DUMP_V2
//! entries as `{"record": "rib", "family", "prefix", "sequence", "entries": [{"peer",
//! "peer_as", "originated", "path_id", "attributes", "next_hop", "problems"}]}`.
//! The session context of a pcap stream (4-octet AS, ADD-PATH, extended messages) is taken
//! from the two OPENs when the capture has them, otherwise from `--as2`/`--add-path`.

use std::collections::HashMap;
use std::io::Write;
use std::net::SocketAddr;

use serde_json::json;

use super::decode::{attribute_json, nlri_json, to_json, to_text};
use super::mrt_input::{self, Record};
use super::pcap_input::{self, Item, rfc3339};
use crate::wire::attribute::{self, AttributeContext, MpNlri, hex};
use crate::wire::capability::Capability;
use crate::wire::family::{Family, FamilySet, Safi};
use crate::wire::flowspec;
use crate::wire::labeled;
use crate::wire::message::{DecodeContext, MAX_EXTENDED_MESSAGE_LEN, MAX_MESSAGE_LEN, Message};
use crate::wire::nlri;
use crate::wire::open::Open;

/// The decoding context of messages sent by `sender` to `receiver`, from their OPENs.
fn session_context(
    sender: Option<&Open>,
    receiver: Option<&Open>,
    default: DecodeContext,
) -> DecodeContext {
    let (Some(s), Some(r)) = (sender, receiver) else {
        return default;
    };
    let has = |o: &Open, f: &dyn Fn(&Capability) -> bool| o.capabilities.iter().any(f);
    let mut ctx = default;
    ctx.attributes.four_octet_as = has(s, &|c| matches!(c, Capability::FourOctetAs(_)))
        && has(r, &|c| matches!(c, Capability::FourOctetAs(_)));
    let extended = has(s, &|c| matches!(c, Capability::ExtendedMessage))
        && has(r, &|c| matches!(c, Capability::ExtendedMessage));
    ctx.max_message_len = if extended {
        MAX_EXTENDED_MESSAGE_LEN
    } else {
        MAX_MESSAGE_LEN
    };
    // RFC 7911 §4: path identifiers flow where the sender sends and the receiver receives.
    let modes = |o: &Open| -> Vec<(Family, bool, bool)> {
        o.capabilities
            .iter()
            .flat_map(|c| match c {
                Capability::AddPath(v) => {
                    v.iter().map(|(f, m)| (*f, m.send(), m.receive())).collect()
                }
                _ => Vec::new(),
            })
            .collect()
    };
    let mut add_path = FamilySet::default();
    for (f, send, _) in modes(s) {
        if send && modes(r).iter().any(|(g, _, recv)| *g == f && *recv) {
            add_path.insert(f);
        }
    }
    ctx.add_path = add_path;
    ctx
}

/// Decodes every BGP message of a capture. Returns the exit status.
pub fn run_pcap(
    path: &str,
    port: u16,
    default: DecodeContext,
    json: bool,
    out: &mut dyn Write,
) -> i32 {
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) => {
            let _ = writeln!(out, "decode: --pcap {path}: {e}");
            return 2;
        }
    };
    let mut opens: HashMap<SocketAddr, Open> = HashMap::new();
    let mut status = 0;
    let read = pcap_input::read_each(file, MAX_EXTENDED_MESSAGE_LEN, port, |item| {
        let (origin, text) = match item {
            Item::Note(o, note) => {
                status = 1;
                let time = rfc3339(o.time.0, o.time.1);
                let line = if json {
                    json!({"time": time, "source": o.source.to_string(),
                           "destination": o.destination.to_string(), "note": note})
                    .to_string()
                } else {
                    format!("{time} {} > {} note: {note}", o.source, o.destination)
                };
                return writeln!(out, "{line}").is_ok();
            }
            Item::Message(o, bytes) => (o, bytes),
        };
        let ctx = session_context(
            opens.get(&origin.source),
            opens.get(&origin.destination),
            default,
        );
        let decoded = Message::decode(&text, ctx);
        match &decoded {
            Ok((Message::Open(o), _)) => {
                opens.insert(origin.source, o.clone());
            }
            Ok((_, p)) if p.is_empty() => {}
            _ => status = 1,
        }
        let time = rfc3339(origin.time.0, origin.time.1);
        let line = if json {
            let mut v = to_json(&hex(&text), &text, &decoded, ctx.attributes);
            v["time"] = json!(time);
            v["source"] = json!(origin.source.to_string());
            v["destination"] = json!(origin.destination.to_string());
            v.to_string()
        } else {
            format!(
                "{time} {} > {} {}",
                origin.source,
                origin.destination,
                to_text(&decoded)
            )
        };
        writeln!(out, "{line}").is_ok()
    });
    if let Err(e) = read {
        let _ = writeln!(out, "decode: --pcap {path}: {e}");
        return 2;
    }
    status
}

/// Decodes every record of an MRT file. Returns the exit status.
/// `path` `-` reads standard input (`bzcat rib.bz2 | bgpinject decode --mrt -`).
pub fn run_mrt(
    path: &str,
    stdin: &mut dyn std::io::BufRead,
    default: DecodeContext,
    json: bool,
    out: &mut dyn Write,
) -> i32 {
    let input: Box<dyn std::io::Read + '_> = if path == "-" {
        Box::new(stdin)
    } else {
        match std::fs::File::open(path) {
            Ok(f) => Box::new(std::io::BufReader::new(f)),
            Err(e) => {
                let _ = writeln!(out, "decode: --mrt {path}: {e}");
                return 2;
            }
        }
    };
    let mut status = 0;
    mrt_input::read_each(input, |record| {
        let line = match record {
            Record::Message {
                time,
                peer,
                local,
                four_octet_as,
                add_path,
                bytes,
            } => {
                let mut ctx = default;
                ctx.attributes.four_octet_as = four_octet_as;
                ctx.max_message_len = MAX_EXTENDED_MESSAGE_LEN;
                if add_path {
                    ctx.add_path.insert(Family::IPV4_UNICAST);
                    ctx.add_path.insert(Family::IPV6_UNICAST);
                }
                let decoded = Message::decode(&bytes, ctx);
                if !matches!(&decoded, Ok((_, p)) if p.is_empty()) {
                    status = 1;
                }
                let time = rfc3339(time.0, time.1);
                if json {
                    let mut v = to_json(&hex(&bytes), &bytes, &decoded, ctx.attributes);
                    v["record"] = json!("message");
                    v["time"] = json!(time);
                    v["peer"] = json!({"address": peer.0.to_string(), "asn": peer.1});
                    v["local"] = json!({"address": local.0.to_string(), "asn": local.1});
                    v.to_string()
                } else {
                    format!(
                        "{time} peer {} AS{} local {} AS{} {}",
                        peer.0,
                        peer.1,
                        local.0,
                        local.1,
                        to_text(&decoded)
                    )
                }
            }
            Record::StateChange {
                time,
                peer,
                local,
                from,
                to,
            } => {
                let time = rfc3339(time.0, time.1);
                if json {
                    json!({"record": "state-change", "time": time,
                           "peer": {"address": peer.0.to_string(), "asn": peer.1},
                           "local": {"address": local.0.to_string(), "asn": local.1},
                           "from": from, "to": to})
                    .to_string()
                } else {
                    format!(
                        "{time} peer {} AS{} local {} AS{} state {from} -> {to}",
                        peer.0, peer.1, local.0, local.1
                    )
                }
            }
            Record::PeerIndex {
                time,
                collector,
                view,
                peers,
            } => {
                let time = rfc3339(time.0, time.1);
                if json {
                    json!({"record": "peer-index", "time": time,
                           "collector": collector.to_string(), "view": view,
                           "peers": peers.iter().map(|p| json!({"bgp_id": p.bgp_id.to_string(),
                               "address": p.address.to_string(), "asn": p.asn}))
                               .collect::<Vec<_>>()})
                    .to_string()
                } else {
                    let mut s = format!(
                        "{time} TABLE_DUMP_V2 peer-index collector {collector} view {view:?}"
                    );
                    for (i, p) in peers.iter().enumerate() {
                        s.push_str(&format!(
                            "\n  peer {i}: {} AS{} router-id {}",
                            p.address, p.asn, p.bgp_id
                        ));
                    }
                    s
                }
            }
            Record::Rib {
                time,
                family,
                sequence,
                prefix,
                entries,
            } => {
                let time = rfc3339(time.0, time.1);
                let ctx = AttributeContext {
                    four_octet_as: true,
                };
                if entries.iter().any(|e| !e.problems.is_empty()) {
                    status = 1;
                }
                if json {
                    json!({"record": "rib", "time": time, "family": family.name(),
                           "sequence": sequence, "prefix": prefix.to_string(),
                           "entries": entries.iter().map(|e| json!({
                               "peer": e.peer.as_ref().map(|p| p.address.to_string()),
                               "peer_as": e.peer.as_ref().map(|p| p.asn),
                               "peer_index": e.peer_index,
                               "originated": rfc3339(e.originated as i64, 0),
                               "path_id": e.path_id,
                               "attributes": e.attributes.iter().map(|a| attribute_json(a, ctx)).collect::<Vec<_>>(),
                               "next_hop": e.mp_next_hop.iter().map(|a| a.to_string()).collect::<Vec<_>>(),
                               "problems": e.problems,
                           })).collect::<Vec<_>>()})
                    .to_string()
                } else {
                    let mut s = format!("{time} TABLE_DUMP_V2 {} {prefix}", family.name());
                    for e in &entries {
                        let peer = e.peer.as_ref().map_or_else(
                            || format!("index {}", e.peer_index),
                            |p| format!("{} AS{}", p.address, p.asn),
                        );
                        s.push_str(&format!(
                            "\n  peer {peer} originated {}",
                            rfc3339(e.originated as i64, 0)
                        ));
                        if let Some(id) = e.path_id {
                            s.push_str(&format!(" path-id {id}"));
                        }
                        s.push(':');
                        for a in &e.attributes {
                            s.push_str(&format!(" {a};"));
                        }
                        for nh in &e.mp_next_hop {
                            s.push_str(&format!(" next-hop {nh};"));
                        }
                        for p in &e.problems {
                            s.push_str(&format!("\n    problem: {p}"));
                        }
                    }
                    s
                }
            }
            Record::Skipped {
                time,
                kind,
                subtype,
                why,
            } => {
                let time = rfc3339(time.0, time.1);
                if json {
                    json!({"record": "skipped", "time": time, "type": kind,
                           "subtype": subtype, "why": why})
                    .to_string()
                } else {
                    format!("{time} MRT type {kind} subtype {subtype} skipped: {why}")
                }
            }
        };
        if writeln!(out, "{line}").is_err() {
            status = 1;
            return false;
        }
        true
    });
    status
}

/// Decodes a bare NLRI field of `family` (as in MP_REACH_NLRI). Returns the exit status.
pub fn run_nlri(
    family_name: &str,
    hex_text: &str,
    default: DecodeContext,
    json: bool,
    out: &mut dyn Write,
) -> i32 {
    let Some(family) = Family::from_name(family_name) else {
        let _ = writeln!(
            out,
            "decode: --nlri: unknown family '{family_name}' (names as in `ipv4-unicast`, `ipv4-flowspec`)"
        );
        return 2;
    };
    let bytes = match crate::testvec::parse_hex(hex_text) {
        Ok(b) => b,
        Err(why) => {
            let _ = writeln!(out, "decode: --nlri: bad hex: {why}");
            return 1;
        }
    };
    let with_ids = default.add_path.contains(family);
    let nlri: Result<MpNlri, String> = match family.safi {
        Safi::Unicast | Safi::Multicast if with_ids => {
            attribute::decode_path_prefixes(&bytes, family.afi)
                .map(MpNlri::Paths)
                .ok_or_else(|| "prefixes do not decode".to_string())
        }
        Safi::Unicast | Safi::Multicast => attribute::decode_prefixes(&bytes, family.afi)
            .map(MpNlri::Prefixes)
            .ok_or_else(|| "prefixes do not decode".to_string()),
        _ if labeled::is_labeled(family) => labeled::decode_labeled(&bytes, family, with_ids)
            .map(MpNlri::Labeled)
            .ok_or_else(|| "labeled prefixes do not decode".to_string()),
        _ if nlri::is_decoded(family) => match nlri::decode(family, &bytes) {
            Some(Ok(_)) => Ok(MpNlri::Raw(bytes.clone())),
            Some(Err(e)) => Err(e.to_string()),
            None => Err(format!("family {} is not decoded", family.name())),
        },
        _ => match flowspec::family_rules(family, &bytes) {
            Some(Ok(_)) => Ok(MpNlri::Raw(bytes.clone())),
            Some(Err(e)) => Err(format!(
                "{e} (RFC 8955 §4.2 / RFC 7606 §5.4: treat-as-withdraw)"
            )),
            None => Err(format!("family {} is not decoded", family.name())),
        },
    };
    let (status, line) = match nlri {
        Ok(n) => {
            let v = nlri_json(family, &n);
            let line = if json {
                json!({"family": family.name(), "nlri": v}).to_string()
            } else {
                match &n {
                    MpNlri::Raw(r) => flowspec::family_rules(family, r)
                        .and_then(Result::ok)
                        .map(|rules| {
                            rules
                                .iter()
                                .map(|r| format!("match {{ {} }}", r.match_text()))
                                .collect::<Vec<_>>()
                                .join("\n")
                        })
                        .or_else(|| {
                            nlri::decode(family, r)
                                .and_then(Result::ok)
                                .map(|list| join_lines(&list))
                        })
                        .unwrap_or_default(),
                    MpNlri::Prefixes(p) => join_lines(p),
                    MpNlri::Paths(p) => join_lines(p),
                    MpNlri::Labeled(p) => join_lines(p),
                }
            };
            (0, line)
        }
        Err(why) => (
            1,
            if json {
                json!({"family": family.name(), "problems": [{"error": why}]}).to_string()
            } else {
                format!("error: {why}")
            },
        ),
    };
    if writeln!(out, "{line}").is_err() {
        return 1;
    }
    status
}

fn join_lines<T: std::fmt::Display>(v: &[T]) -> String {
    v.iter().map(T::to_string).collect::<Vec<_>>().join("\n")
}
