//! `bgpinject decode [--json] [--as2] [--add-path FAMILIES] [HEX...]`: decodes BGP messages
//! given in hex.
//!
//! Messages come from the arguments, or from stdin one per line when there are none.
//! Spaces and colons are ignored; the 16-octet marker may be left out (it is added back
//! when the first two octets are a length that fits the input without it); the length
//! and type octets may not. `--as2` decodes AS numbers as 2 octets (no RFC 6793
//! capability negotiated). `--add-path ipv4-unicast,ipv6-unicast` (family names as in
//! test vectors) reads an RFC 7911 path identifier before each NLRI of those families, as
//! a session that negotiated ADD-PATH receive does. Exit status 0 when every message decoded cleanly, 1 otherwise
//! (bad hex, a message rejected, an UPDATE with RFC 7606 problems), 2 for bad usage.
//!
//! By default each message is printed as text (the message's `Display`), followed by one
//! indented line per problem. With `--json`, each input line gives one JSON object on one
//! line. Its keys never come from the data:
//!
//! - `input`: the hex as given; `length`: octets decoded (after adding a missing marker).
//! - `type`: `OPEN`, `UPDATE`, `NOTIFICATION`, `KEEPALIVE`, `ROUTE-REFRESH`, or null when
//!   the header is unreadable.
//! - OPEN: `version`, `asn` (the 2-octet field), `hold_time`, `router_id`,
//!   `capabilities`: `[{"code": 1, "text": "multiprotocol ipv4 unicast"}, ...]`.
//! - UPDATE: `withdrawn`, `nlri` (prefix strings; `{"prefix", "path_id"}` objects with
//!   `--add-path ipv4-unicast`), `end_of_rib` (family name or null),
//!   `attributes`: `[{"type": "ORIGIN", "code": 1, "flags": 64, "value": ...}, ...]` where
//!   `flags` are those we would send (the received ones for unknown attributes) and
//!   `value` is: a string (ORIGIN, NEXT_HOP, ORIGINATOR_ID, unknown attributes as hex),
//!   a number (MED, LOCAL_PREF), `true` (ATOMIC_AGGREGATE), `{"asn", "address"}`
//!   (AGGREGATOR, AS4_AGGREGATOR), `{"text", "segments": [{"type", "asns"}]}` (AS_PATH,
//!   AS4_PATH, segment types `sequence`, `set`, `confed-sequence`, `confed-set`), a list
//!   of strings (communities `H:L`, large communities `G:L1:L2`, CLUSTER_LIST), a list of
//!   objects for extended communities (`{"name", "text", "hex", "transitive", ...}`, see
//!   src/wire/ext_community.rs), TUNNEL_ENCAPSULATION as a list of tunnels (see
//!   src/wire/tunnel_encap.rs), or for MP_REACH_NLRI / MP_UNREACH_NLRI
//!   `{"family", "afi", "safi", "next_hop", "nlri"}` where `next_hop` is a list of
//!   addresses for every family (a route distinguisher before the address is left out, as
//!   ExaBGP shows VPN next hops; a hex string only for a length no next hop has), and
//!   `nlri` a list of strings (objects `{"prefix", "path_id"}` for an `--add-path` family,
//!   `{"prefix", "labels", "rd", "path_id"}` for labeled ones, and FlowSpec rules
//!   `{"family", "text", "components"}` for ipv4/ipv6-flowspec, see
//!   src/wire/flowspec/json.rs), or a hex string when the family is not decoded.
//!
//! In text, each FlowSpec rule announced is also printed on its own indented line as the
//! configuration block that announces it: `flow { route { match { ... } then { ... } } }`.
//! - NOTIFICATION: `code`, `subcode`, `code_name`, `subcode_name`, `data` (hex),
//!   `shutdown` (RFC 9003 text or null).
//! - ROUTE-REFRESH: `family`, `afi`, `safi`, `subtype`.
//! - `problems`: `[{"error": "...", "offset": N, "action": "treat-as-withdraw"}]`, offset
//!   in octets from the start of the message, action one of `attribute-discard`,
//!   `treat-as-withdraw`, `session-reset`; for `session-reset` also `notification`:
//!   `{"code", "subcode"}`. A rejected message has `type` (from its header, or null) and
//!   one problem; unparseable hex has only `input` and `problems`.

use std::io::{BufRead, Write};

use serde_json::{Value, json};

use super::decode_capture;
use crate::testvec::parse_hex;
use crate::wire::aspath::{AsPath, SegmentType};
use crate::wire::attribute::type_code::TUNNEL_ENCAPSULATION;
use crate::wire::attribute::{AttributeContext, MpNextHop, MpNlri, PathAttribute, hex};
use crate::wire::error::{DecodeError, ErrorAction};
use crate::wire::family::{Afi, Family, Safi};
use crate::wire::flowspec;
use crate::wire::flowspec::action::FlowAction;
use crate::wire::message::{DecodeContext, MARKER, Message};
use crate::wire::nlri::{self, FamilyNlri};
use crate::wire::prefix::Prefix;
use crate::wire::{ext_community, tunnel_encap};

/// Runs the subcommand on the process's stdin and stdout; returns the exit status.
/// `args` are the arguments after `decode`.
pub fn run(args: &[String]) -> i32 {
    let stdin = std::io::stdin();
    let stdout = std::io::stdout();
    run_with(args, &mut stdin.lock(), &mut stdout.lock())
}

/// [`run`] with explicit input and output (for tests).
pub fn run_with(args: &[String], input: &mut dyn BufRead, out: &mut dyn Write) -> i32 {
    let mut opts = getopts::Options::new();
    opts.optflag("", "json", "one JSON object per message");
    opts.optflag("", "as2", "2-octet AS numbers (no 4-octet AS capability)");
    opts.optopt(
        "",
        "add-path",
        "families whose NLRI carry RFC 7911 path identifiers",
        "ipv4-unicast,ipv6-unicast",
    );
    opts.optopt(
        "",
        "pcap",
        "decode every BGP message of a pcap or pcapng capture (TCP port 179)",
        "FILE",
    );
    opts.optopt(
        "",
        "port",
        "the TCP port of the BGP sessions in --pcap (default 179)",
        "PORT",
    );
    opts.optopt(
        "",
        "mrt",
        "decode an MRT file (BGP4MP messages, TABLE_DUMP_V2 RIB entries); - for stdin",
        "FILE",
    );
    opts.optopt(
        "",
        "nlri",
        "decode the HEX argument as a bare NLRI field of FAMILY",
        "FAMILY",
    );
    opts.optflag("h", "help", "this help");
    let matches = match opts.parse(args) {
        Ok(m) => m,
        Err(e) => {
            let _ = writeln!(out, "decode: {e}");
            return 2;
        }
    };
    if matches.opt_present("help") {
        let _ = write!(
            out,
            "{}",
            opts.usage(
                "Usage: bgpinject decode [--json] [--as2] [--add-path FAMILIES] [HEX...]\n       \
                 bgpinject decode [--json] --pcap FILE [--port PORT] | --mrt FILE | --nlri FAMILY HEX"
            )
        );
        return 0;
    }
    let mut ctx = DecodeContext::default();
    ctx.attributes.four_octet_as = !matches.opt_present("as2");
    for name in matches
        .opt_str("add-path")
        .iter()
        .flat_map(|v| v.split(',').map(str::trim).filter(|n| !n.is_empty()))
    {
        let known = Family::from_name(name).is_some_and(|f| ctx.add_path.insert(f));
        if !known {
            let _ = writeln!(
                out,
                "decode: --add-path: unknown family '{name}' (names as in `ipv4-unicast`, `ipv6-mpls-vpn`)"
            );
            return 2;
        }
    }
    let json = matches.opt_present("json");
    if let Some(path) = matches.opt_str("pcap") {
        let port = match matches.opt_str("port").map(|p| p.parse::<u16>()) {
            None => super::pcap_input::BGP_PORT,
            Some(Ok(p)) => p,
            Some(Err(_)) => {
                let _ = writeln!(out, "decode: --port: a TCP port number, 1..65535");
                return 2;
            }
        };
        return decode_capture::run_pcap(&path, port, ctx, json, out);
    }
    if let Some(path) = matches.opt_str("mrt") {
        return decode_capture::run_mrt(&path, input, ctx, json, out);
    }
    if let Some(family) = matches.opt_str("nlri") {
        let [hex] = matches.free.as_slice() else {
            let _ = writeln!(out, "decode: --nlri FAMILY takes one HEX argument");
            return 2;
        };
        return decode_capture::run_nlri(&family, hex, ctx, json, out);
    }
    let lines: Vec<String> = if matches.free.is_empty() {
        input
            .lines()
            .map_while(Result::ok)
            .filter(|l| !l.trim().is_empty())
            .collect()
    } else {
        matches.free.clone()
    };
    let mut status = 0;
    for line in &lines {
        let (clean, report) = decode_line(line.trim(), ctx, json);
        if !clean {
            status = 1;
        }
        if writeln!(out, "{report}").is_err() {
            return 1;
        }
    }
    status
}

/// The bytes of one input line, with the marker added when it was left out.
fn message_bytes(line: &str) -> Result<Vec<u8>, String> {
    let bytes = parse_hex(line)?;
    if bytes.starts_with(&MARKER) {
        return Ok(bytes);
    }
    let header_len = bytes
        .get(..2)
        .map(|b| u16::from_be_bytes([b[0], b[1]]) as usize);
    if header_len == Some(bytes.len() + MARKER.len()) {
        let mut with = MARKER.to_vec();
        with.extend_from_slice(&bytes);
        return Ok(with);
    }
    Ok(bytes)
}

/// Decodes one line; returns whether it was clean and the text or JSON to print.
fn decode_line(line: &str, ctx: DecodeContext, json: bool) -> (bool, String) {
    let bytes = match message_bytes(line) {
        Ok(b) => b,
        Err(why) => {
            let text = if json {
                json!({"input": line, "problems": [{"error": format!("bad hex: {why}")}]})
                    .to_string()
            } else {
                format!("error: bad hex: {why}")
            };
            return (false, text);
        }
    };
    let decoded = Message::decode(&bytes, ctx);
    // NLRI of EVPN, RTC, ... that do not decode make the message unclean too (the codec
    // keeps them raw, so they are no problem of the UPDATE itself).
    let clean = matches!(&decoded, Ok((m, p)) if p.is_empty() && family_nlri_errors(m) == 0);
    let text = if json {
        to_json(line, &bytes, &decoded, ctx.attributes).to_string()
    } else {
        to_text(&decoded)
    };
    (clean, text)
}

/// For each FlowSpec rule an UPDATE announces, the configuration block that announces it:
/// `flow { route { match { destination 192.0.2.0/24; } then { discard; } } }`.
fn flow_blocks(m: &Message) -> Vec<String> {
    let Message::Update(u) = m else {
        return Vec::new();
    };
    let mut then: Vec<String> = Vec::new();
    let mut others: Vec<String> = Vec::new();
    for a in &u.attributes {
        if let PathAttribute::ExtendedCommunities(v) = a {
            for c in v {
                match FlowAction::from_community(c) {
                    Some(action) => then.push(format!("{action};")),
                    None => others.push(ext_community::config_text(c)),
                }
            }
        }
    }
    if then.is_empty() {
        then.push("accept;".into());
    }
    // The next hop of a redirect-to-nexthop (FlowSpec next hops stay raw in the codec).
    let next_hop = u.attributes.iter().find_map(|a| match a {
        PathAttribute::MpReach(m) => match &m.next_hop {
            MpNextHop::Raw(r) => match r.len() {
                4 => <[u8; 4]>::try_from(r.as_slice())
                    .ok()
                    .map(std::net::IpAddr::from),
                16 | 32 => <[u8; 16]>::try_from(&r[..16])
                    .ok()
                    .map(std::net::IpAddr::from),
                _ => None,
            },
            MpNextHop::Addresses(v) => v.first().copied(),
            MpNextHop::Vpn(_) => None,
        },
        _ => None,
    });
    if let Some(nh) = next_hop
        && then.iter().any(|t| t == "redirect-to-nexthop;")
    {
        then.push(format!("next-hop {nh};"));
    }
    if !others.is_empty() {
        then.push(format!("extended-community [ {} ];", others.join(" ")));
    }
    let then = then.join(" ");
    u.attributes
        .iter()
        .filter_map(|a| match a {
            PathAttribute::MpReach(m) => match &m.nlri {
                MpNlri::Raw(r) => flowspec::family_rules(m.family, r)?.ok(),
                _ => None,
            },
            _ => None,
        })
        .flatten()
        .map(|rule| {
            format!(
                "flow {{ route {{ match {{ {} }} then {{ {then} }} }} }}",
                rule.match_text()
            )
        })
        .collect()
}

/// The next hop of an MP_REACH_NLRI kept raw, as addresses when it is one or two of them.
fn raw_next_hop(r: &[u8]) -> String {
    match nlri::raw_next_hop(r) {
        Some(a) => a
            .iter()
            .map(|x| x.to_string())
            .collect::<Vec<_>>()
            .join(" "),
        None if r.is_empty() => "none".to_string(),
        None => format!("0x{}", hex(r)),
    }
}

/// RFC 8669: the BGP Prefix-SID attribute's type code.
const PREFIX_SID: u8 = crate::wire::attribute::type_code::BGP_PREFIX_SID;

/// How many MP attributes of the families of src/wire/nlri carry NLRI that do not decode.
fn family_nlri_errors(m: &Message) -> usize {
    let Message::Update(u) = m else {
        return 0;
    };
    u.attributes
        .iter()
        .filter(|a| {
            let (family, nlri) = match a {
                PathAttribute::MpReach(m) => (m.family, &m.nlri),
                PathAttribute::MpUnreach(m) => (m.family, &m.nlri),
                _ => return false,
            };
            matches!(nlri, MpNlri::Raw(r) if matches!(nlri::decode(family, r), Some(Err(_))))
        })
        .count()
}

/// For each NLRI of the families of src/wire/nlri announced or withdrawn, one line in the
/// configuration's words: `announce evpn mac-ip rd ... label [ 10100 ] next-hop
/// 192.0.2.2`, `withdraw rtc origin 65019 route-target target:65019:100`; a family's
/// NLRI that do not decode give `problem: ...` with the reason.
fn family_lines(m: &Message) -> Vec<String> {
    let Message::Update(u) = m else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for a in &u.attributes {
        if let PathAttribute::Unknown { code, value, .. } = a
            && *code == nlri::bgp_ls::ATTRIBUTE_CODE
        {
            out.push(nlri::bgp_ls::attribute_text(value));
            continue;
        }
        let (verb, family, bytes, next_hop) = match a {
            PathAttribute::MpReach(m) => match (&m.nlri, &m.next_hop) {
                (MpNlri::Raw(r), MpNextHop::Raw(nh)) => ("announce", m.family, r, Some(nh)),
                (MpNlri::Raw(r), _) => ("announce", m.family, r, None),
                _ => continue,
            },
            PathAttribute::MpUnreach(m) => match &m.nlri {
                MpNlri::Raw(r) => ("withdraw", m.family, r, None),
                _ => continue,
            },
            _ => continue,
        };
        match nlri::decode(family, bytes) {
            Some(Ok(list)) => {
                for n in list {
                    let mut line = format!("{verb} {n}");
                    if let Some(nh) = next_hop {
                        line.push_str(&format!(" next-hop {}", raw_next_hop(nh)));
                    }
                    out.push(line);
                }
            }
            Some(Err(e)) => out.push(format!("problem: {family} NLRI: {e}")),
            None => {}
        }
    }
    out
}

pub(super) fn to_text(decoded: &Result<(Message, Vec<DecodeError>), DecodeError>) -> String {
    match decoded {
        Ok((m, problems)) => {
            let mut s = m.to_string();
            for block in flow_blocks(m) {
                s.push_str(&format!("\n  {block}"));
            }
            for line in family_lines(m) {
                s.push_str(&format!("\n  {line}"));
            }
            for p in problems {
                s.push_str(&format!(
                    "\n  problem: {} at byte {}: {} ({})",
                    p.kind,
                    p.offset,
                    p.action,
                    rfc_of(&p.action)
                ));
            }
            s
        }
        Err(e) => format!(
            "error: {} at byte {}: {} ({})",
            e.kind,
            e.offset,
            e.action,
            rfc_of(&e.action)
        ),
    }
}

/// Where the action is defined: RFC 7606 §2 for the two that keep the session, RFC 4271 §6
/// (NOTIFICATION and close) for a reset.
fn rfc_of(action: &ErrorAction) -> &'static str {
    match action {
        ErrorAction::AttributeDiscard | ErrorAction::TreatAsWithdraw => "RFC 7606 §2",
        ErrorAction::SessionReset(_) => "RFC 4271 §6",
    }
}

fn problem_json(e: &DecodeError) -> Value {
    match &e.action {
        ErrorAction::SessionReset(n) => json!({
            "error": e.kind.to_string(),
            "offset": e.offset,
            "action": "session-reset",
            "notification": {"code": n.code, "subcode": n.subcode},
        }),
        other => json!({
            "error": e.kind.to_string(),
            "offset": e.offset,
            "action": other.to_string(),
        }),
    }
}

pub(super) fn to_json(
    line: &str,
    bytes: &[u8],
    decoded: &Result<(Message, Vec<DecodeError>), DecodeError>,
    ctx: AttributeContext,
) -> Value {
    let mut obj = match decoded {
        Ok((m, problems)) => {
            let mut v = message_json(m, ctx);
            v["problems"] = problems.iter().map(problem_json).collect();
            v
        }
        Err(e) => {
            let kind = match bytes.get(18) {
                Some(1) => json!("OPEN"),
                Some(2) => json!("UPDATE"),
                Some(3) => json!("NOTIFICATION"),
                Some(4) => json!("KEEPALIVE"),
                Some(5) => json!("ROUTE-REFRESH"),
                _ => Value::Null,
            };
            json!({"type": kind, "problems": [problem_json(e)]})
        }
    };
    obj["input"] = json!(line);
    obj["length"] = json!(bytes.len());
    obj
}

fn family_json(f: Family) -> Value {
    json!({"family": f.name(), "afi": f.afi.to_u16(), "safi": f.safi.to_u8()})
}

fn message_json(m: &Message, ctx: AttributeContext) -> Value {
    match m {
        Message::Open(o) => json!({
            "type": "OPEN",
            "version": o.version,
            "asn": o.my_as,
            "hold_time": o.hold_time,
            "router_id": o.router_id.to_string(),
            "capabilities": o.capabilities.iter()
                .map(|c| json!({"code": c.code(), "text": c.to_string()}))
                .collect::<Vec<_>>(),
        }),
        Message::Update(u) => json!({
            "type": "UPDATE",
            "withdrawn": classic_json(&u.withdrawn, &u.withdrawn_path_ids),
            "attributes": u.attributes.iter().map(|a| attribute_json(a, ctx))
                .collect::<Vec<_>>(),
            "nlri": classic_json(&u.nlri, &u.nlri_path_ids),
            "end_of_rib": u.end_of_rib().map(|f| f.name()),
        }),
        Message::Notification(n) => json!({
            "type": "NOTIFICATION",
            "code": n.code,
            "subcode": n.subcode,
            "code_name": n.code_name(),
            "subcode_name": n.subcode_name(),
            "data": hex(&n.data),
            "shutdown": n.shutdown_communication(),
        }),
        Message::Keepalive => json!({"type": "KEEPALIVE"}),
        Message::RouteRefresh(rr) => {
            let mut v = family_json(rr.family);
            v["type"] = json!("ROUTE-REFRESH");
            v["subtype"] = json!(rr.subtype);
            v
        }
    }
}

/// The classic withdrawn or NLRI field: prefixes as text, or `{prefix, path_id}` objects
/// when ADD-PATH applies to IPv4 unicast (as for MP NLRI).
fn classic_json(prefixes: &[Prefix], path_ids: &[u32]) -> Value {
    if path_ids.len() != prefixes.len() || prefixes.is_empty() {
        return json!(prefixes.iter().map(|p| p.to_string()).collect::<Vec<_>>());
    }
    json!(
        prefixes
            .iter()
            .zip(path_ids)
            .map(|(p, id)| json!({"prefix": p.to_string(), "path_id": id}))
            .collect::<Vec<_>>()
    )
}

fn as_path_json(p: &AsPath) -> Value {
    let segments: Vec<Value> = p
        .segments
        .iter()
        .map(|s| {
            let kind = match s.kind {
                SegmentType::Sequence => "sequence",
                SegmentType::Set => "set",
                SegmentType::ConfedSequence => "confed-sequence",
                SegmentType::ConfedSet => "confed-set",
            };
            json!({"type": kind, "asns": s.asns})
        })
        .collect();
    json!({"text": p.to_string(), "segments": segments})
}

/// The rules of a FlowSpec or FlowSpec VPN NLRI field read with RFC 7911 path identifiers,
/// as JSON objects with `path_id`; `None` when the bytes do not read so.
fn flow_paths(family: Family, r: &[u8]) -> Option<Vec<Value>> {
    let afi = match family.afi {
        Afi::Ipv4 | Afi::Ipv6 => family.afi,
        _ => return None,
    };
    let rules = match family.safi {
        Safi::FlowSpec => flowspec::decode_nlri_paths(r, afi).ok()?,
        Safi::FlowSpecVpn => nlri::flow_vpn::decode_rule_paths(r, afi).ok()?,
        _ => return None,
    };
    Some(
        rules
            .iter()
            .map(|(id, rule)| {
                let mut v = match rule.rd() {
                    Some(rd) => {
                        let mut v = flowspec::json::rule_json(rule);
                        v["rd"] = json!(rd.to_string());
                        v
                    }
                    None => flowspec::json::rule_json(rule),
                };
                v["path_id"] = json!(id);
                v
            })
            .collect(),
    )
}

pub(super) fn nlri_json(family: Family, n: &MpNlri) -> Value {
    match n {
        MpNlri::Raw(r) if !r.is_empty() => match flowspec::family_rules(family, r) {
            Some(Ok(rules)) => json!(
                rules
                    .iter()
                    .map(flowspec::json::rule_json)
                    .collect::<Vec<_>>()
            ),
            _ => match nlri::decode(family, r) {
                Some(Ok(list)) => json!(list.iter().map(FamilyNlri::json).collect::<Vec<_>>()),
                // FlowSpec under ADD-PATH (`--add-path ipv4-flowspec`): each rule behind its
                // path identifier (a rule's own length octet is never 0, so these bytes do
                // not read as rules without identifiers).
                _ if flow_paths(family, r).is_some() => json!(flow_paths(family, r)),
                Some(Err(e)) => json!({"error": e.to_string(), "hex": hex(r)}),
                None => json!(hex(r)),
            },
        },
        MpNlri::Prefixes(v) => json!(v.iter().map(|p| p.to_string()).collect::<Vec<_>>()),
        MpNlri::Paths(v) => json!(
            v.iter()
                .map(|p| json!({"prefix": p.prefix.to_string(), "path_id": p.path_id}))
                .collect::<Vec<_>>()
        ),
        MpNlri::Labeled(v) => json!(
            v.iter()
                .map(|p| json!({
                    "prefix": p.prefix.to_string(),
                    "labels": p.labels.labels(),
                    "rd": p.rd.map(|rd| rd.to_string()),
                    "path_id": p.path_id,
                }))
                .collect::<Vec<_>>()
        ),
        MpNlri::Raw(r) => json!(hex(r)),
    }
}

pub(super) fn attribute_json(a: &PathAttribute, ctx: AttributeContext) -> Value {
    let list = |v: Vec<String>| json!(v);
    let value = match a {
        PathAttribute::Origin(o) => json!(o.name()),
        PathAttribute::AsPath(p) | PathAttribute::As4Path(p) => as_path_json(p),
        PathAttribute::NextHop(x) | PathAttribute::OriginatorId(x) => json!(x.to_string()),
        PathAttribute::Med(v) | PathAttribute::LocalPref(v) => json!(v),
        PathAttribute::AtomicAggregate => json!(true),
        PathAttribute::Aggregator { asn, address }
        | PathAttribute::As4Aggregator { asn, address } => {
            json!({"asn": asn, "address": address.to_string()})
        }
        PathAttribute::Communities(v) => list(
            v.iter()
                .map(|c| format!("{}:{}", c.0 >> 16, c.0 & 0xFFFF))
                .collect(),
        ),
        PathAttribute::ClusterList(v) => list(v.iter().map(|x| x.to_string()).collect()),
        PathAttribute::ExtendedCommunities(v) => {
            json!(v.iter().map(ext_community::to_json).collect::<Vec<_>>())
        }
        PathAttribute::LargeCommunities(v) => list(v.iter().map(|c| c.to_string()).collect()),
        PathAttribute::Ipv6ExtendedCommunities(v) => list(v.iter().map(|c| hex(c)).collect()),
        PathAttribute::Aigp(tlvs) => json!(
            tlvs.iter()
                .map(|(t, v)| json!({"tlv": t, "value": hex(v)}))
                .collect::<Vec<_>>()
        ),
        PathAttribute::Otc(asn) => json!(asn),
        PathAttribute::MpReach(m) => {
            let mut v = family_json(m.family);
            v["next_hop"] = match &m.next_hop {
                MpNextHop::Addresses(a) | MpNextHop::Vpn(a) => {
                    json!(a.iter().map(|x| x.to_string()).collect::<Vec<_>>())
                }
                // The families whose next hop stays raw (EVPN, VPLS, MUP, SR Policy, RTC,
                // FlowSpec, MCAST-VPN): addresses as for the others, hex only when the
                // length is none of a next hop's.
                MpNextHop::Raw(r) => match nlri::raw_next_hop(r) {
                    Some(a) => json!(a.iter().map(|x| x.to_string()).collect::<Vec<_>>()),
                    None if r.is_empty() => json!([]),
                    None => json!(hex(r)),
                },
            };
            v["nlri"] = nlri_json(m.family, &m.nlri);
            v
        }
        PathAttribute::MpUnreach(m) => {
            let mut v = family_json(m.family);
            v["nlri"] = nlri_json(m.family, &m.nlri);
            v
        }
        PathAttribute::Unknown { code, value, .. } if *code == TUNNEL_ENCAPSULATION => {
            tunnel_encap::to_json(value)
        }
        PathAttribute::Unknown { code, value, .. } if *code == nlri::bgp_ls::ATTRIBUTE_CODE => {
            nlri::bgp_ls::attribute_json(value)
        }
        PathAttribute::Unknown { code, value, .. } if *code == PREFIX_SID => {
            crate::wire::prefix_sid::to_json(value)
        }
        PathAttribute::Unknown { code, value, .. }
            if *code == crate::wire::attribute::type_code::PMSI_TUNNEL =>
        {
            crate::wire::pmsi::to_json(value)
        }
        PathAttribute::Unknown { value, .. } => json!(hex(value)),
    };
    // The flags octet as we would send it (extended length depends on the value's size).
    let mut wire = Vec::new();
    a.emit(ctx, &mut wire);
    let flags = wire.first().copied().unwrap_or(0);
    json!({
        "type": a.name(),
        "code": a.code(),
        "flags": flags,
        "value": value,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_on(args: &[&str], stdin: &str) -> (i32, String) {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let mut out = Vec::new();
        let code = run_with(&args, &mut stdin.as_bytes(), &mut out);
        (code, String::from_utf8(out).unwrap_or_default())
    }

    #[test]
    fn keepalive_without_marker_from_stdin() {
        let (code, out) = run_on(&[], "00 13 04\n");
        assert_eq!((code, out.as_str()), (0, "KEEPALIVE\n"));
    }

    #[test]
    fn malformed_message_says_what_where_and_action_and_exits_1() {
        let (code, out) = run_on(&["ffffffffffffffffffffffffffffffff001404"], "");
        assert_eq!(code, 1);
        assert_eq!(
            out,
            "error: bad message length 20 at byte 16: session-reset 1/2 (RFC 4271 §6)\n"
        );
    }

    #[test]
    fn json_update_has_attributes_and_problems() {
        // ORIGIN igp, AS_PATH 65001, NEXT_HOP 192.0.2.1, MED of length 3, 10.0.0.0/8.
        let hex = "003302 0000 001a 40010100 40020602010000fde9 400304c0000201 800403000001 080a";
        let (code, out) = run_on(&["--json", hex], "");
        assert_eq!(code, 1, "{out}");
        let v: Value = serde_json::from_str(out.trim()).unwrap();
        assert_eq!(v["type"], "UPDATE");
        assert_eq!(v["attributes"][0]["value"], "igp");
        assert_eq!(v["attributes"][1]["value"]["segments"][0]["asns"][0], 65001);
        assert_eq!(v["nlri"][0], "10.0.0.0/8");
        assert_eq!(v["problems"][0]["action"], "treat-as-withdraw");
    }

    /// The next hop of families that keep it raw is printed as addresses in JSON, as in
    /// text: EVPN (4 octets), FlowSpec VPN with a route distinguisher before the address (12,
    /// shown without it, as ExaBGP does), RTC with an IPv6 next hop (16). Hand-built from
    /// RFC 7432 §7.3, RFC 8955 §8, RFC 4684 §4.
    #[test]
    fn json_next_hops_of_families_are_addresses() {
        let cases = [
            (
                "004302 0000 002c 40010100 40020602010000fe07 \
                 800e1c 0019 46 04 c0000202 00 03 11 0001c00002020064 00000000 20 c0000202",
                vec!["192.0.2.2"],
            ),
            (
                "0044020000002d4001010040020602010000fe07800e1d0001860c0000000000000000c0000201000b0001c0000201006401080a",
                vec!["192.0.2.1"],
            ),
            (
                "004902000000324001010040020602010000fe07800e220001841020010db800000000000000000000000100600000fde90002fde900000064",
                vec!["2001:db8::1"],
            ),
        ];
        for (hex, want) in cases {
            let (code, out) = run_on(&["--json", hex], "");
            assert_eq!(code, 0, "{out}");
            let v: Value = serde_json::from_str(out.trim()).unwrap();
            assert_eq!(
                v["attributes"][2]["value"]["next_hop"],
                json!(want),
                "{out}"
            );
            let (_, text) = run_on(&[hex], "");
            assert!(text.contains(&format!("next-hop {}", want[0])), "{text}");
        }
    }

    #[test]
    fn evpn_routes_are_named_and_a_bad_one_says_why() {
        // ORIGIN, AS_PATH 65031, MP_REACH_NLRI l2vpn-evpn, next hop 192.0.2.2, one
        // multicast route (type 3): RD 192.0.2.2:100, tag 0, IPv4 192.0.2.2.
        let good = "004302 0000 002c 40010100 40020602010000fe07 \
                    800e1c 0019 46 04 c0000202 00 03 11 0001c00002020064 00000000 20 c0000202";
        let (code, out) = run_on(&[good], "");
        assert_eq!(code, 0, "{out}");
        assert!(
            out.contains(
                "announce evpn multicast rd 192.0.2.2:100 ethernet-tag 0 ip 192.0.2.2 next-hop 192.0.2.2"
            ),
            "{out}"
        );
        let (code, out) = run_on(&["--json", good], "");
        assert_eq!(code, 0);
        let v: Value = serde_json::from_str(out.trim()).unwrap();
        let route = &v["attributes"][2]["value"]["nlri"][0];
        assert_eq!(route["name"], "Inclusive Multicast Ethernet Tag");
        assert_eq!(route["ip"], "192.0.2.2");
        // The same with an IP length of 128 bits in a 17-octet route.
        let bad = good.replace("00000000 20 c0000202", "00000000 80 c0000202");
        let (code, out) = run_on(&[&bad], "");
        assert_eq!(code, 1, "{out}");
        assert!(
            // NLRI that cannot be parsed: RFC 7606 §5.3's session reset, with the reason.
            out.contains("malformed l2vpn evpn NLRI: IP address length at octet 14 is 128")
                && out.contains("session-reset 3/9"),
            "{out}"
        );
    }

    #[test]
    fn bad_hex_is_reported_not_panicked() {
        let (code, out) = run_on(&["--json", "zz"], "");
        assert_eq!(code, 1);
        assert!(out.contains("bad hex"));
        let (code, _) = run_on(&["--nope"], "");
        assert_eq!(code, 2);
    }
}
