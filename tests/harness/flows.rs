//! FlowSpec rules as each receiving peer shows them, in one normalised form
//! ([`ReceivedFlow`]) so that a single comparison ([`diff_flows`]) checks every peer,
//! component by component and action by action.
//!
//! Normalised text (independent of any peer's and of bgpinject's own spelling):
//! - components, sorted: `dst 192.0.2.0/24`, `src 2001:db8::/48` (`/off N` only when the IPv6
//!   offset is not 0), then `NAME TERMS` with NAME one of `proto port dport sport icmp-type
//!   icmp-code tcp-flags length dscp fragment label`;
//! - numeric terms (RFC 8955 §4.2.1.1): `OPVALUE` with OP one of `= > >= < <= != true false`,
//!   joined by `&` (AND bit set) or `|` (OR): `dport >1023&<65535`, `proto =6|=17`;
//! - bitmask terms (§4.2.1.2): `[=][!]0xHEX` (`=` the match bit, `!` the not bit), joined the
//!   same way: `tcp-flags =0x2&!0x10`, `fragment 0x2|0x4`;
//! - actions, sorted: `rate-limit N` (bytes/s, integer; `discard` is `rate-limit 0`),
//!   `action sample|terminal|sample-terminal`, `redirect ASN:N`, `redirect A.B.C.D:N`,
//!   `mark DSCP`, `redirect-to-nexthop` (draft-simpson, 0x0800), `redirect-to-ip A.B.C.D`
//!   (draft-ietf-idr-flowspec-redirect-ip, 0x010c); anything else `ext 0xHEX`.
//!
//! Peers that cannot show something exactly get a [`Deviation`]: listed, with the reason,
//! never silently dropped.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use serde_json::Value;

use super::exabgp::Exabgp;
use super::frr::Frr;
use super::gobgp::Gobgp;

/// One FlowSpec rule as a peer shows it.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct ReceivedFlow {
    /// `ipv4` or `ipv6`.
    pub family: String,
    /// Normalised components, sorted.
    pub components: Vec<String>,
    /// Normalised actions, sorted.
    pub actions: Vec<String>,
}

impl ReceivedFlow {
    pub fn new(family: &str, mut components: Vec<String>, mut actions: Vec<String>) -> Self {
        components.sort();
        actions.sort();
        ReceivedFlow {
            family: family.to_string(),
            components,
            actions,
        }
    }

    /// The rule's identity: family and components.
    pub fn key(&self) -> String {
        format!("{} {{ {} }}", self.family, self.components.join("; "))
    }
}

/// Something a peer shows differently from what was sent, or not at all, and why.
#[derive(Clone, Debug)]
pub struct Deviation {
    /// The normalised component or action as bgpinject sends it.
    pub item: String,
    /// What the peer shows instead; `None` when the rules holding `item` are not sent to this
    /// peer at all.
    pub shown: Option<String>,
    pub reason: &'static str,
}

/// The expected view of `flows` at a peer with `deviations`: rules holding an item without
/// `shown` are left out, other items are replaced by what the peer shows.
pub fn expected_at(flows: &[ReceivedFlow], deviations: &[Deviation]) -> Vec<ReceivedFlow> {
    let find = |item: &str| deviations.iter().find(|d| d.item == item);
    flows
        .iter()
        .filter(|f| {
            !f.components
                .iter()
                .chain(&f.actions)
                .any(|i| find(i).is_some_and(|d| d.shown.is_none()))
        })
        .map(|f| {
            let map = |v: &Vec<String>| {
                v.iter()
                    .map(|i| match find(i) {
                        Some(Deviation { shown: Some(s), .. }) => s.clone(),
                        _ => i.clone(),
                    })
                    .collect()
            };
            ReceivedFlow::new(&f.family, map(&f.components), map(&f.actions))
        })
        .collect()
}

/// Whether a rule is sent to a peer with `deviations` (see [`expected_at`]).
pub fn is_sent(flow: &ReceivedFlow, deviations: &[Deviation]) -> bool {
    !expected_at(std::slice::from_ref(flow), deviations).is_empty()
}

/// One line per difference, naming the peer, the rule and the action; empty when equal.
pub fn diff_flows(peer: &str, expected: &[ReceivedFlow], got: &[ReceivedFlow]) -> Vec<String> {
    let exp: BTreeMap<String, &ReceivedFlow> = expected.iter().map(|f| (f.key(), f)).collect();
    let got_map: BTreeMap<String, &ReceivedFlow> = got.iter().map(|f| (f.key(), f)).collect();
    let mut out = Vec::new();
    for (k, e) in &exp {
        match got_map.get(k) {
            None => out.push(format!("{peer}: rule {k} missing")),
            Some(g) if g.actions != e.actions => out.push(format!(
                "{peer}: rule {k}: actions expected {:?}, shown {:?}",
                e.actions, g.actions
            )),
            Some(_) => {}
        }
    }
    for k in got_map.keys().filter(|k| !exp.contains_key(*k)) {
        out.push(format!("{peer}: rule {k} shown but not expected"));
    }
    if got.len() != got_map.len() {
        out.push(format!("{peer}: the same rule is shown more than once"));
    }
    out
}

/// RFC 8955 §4.2.1.1: lt 0x04, gt 0x02, eq 0x01.
fn numeric_op(bits: u64) -> &'static str {
    ["false", "=", ">", ">=", "<", "<=", "!=", "true"][(bits & 7) as usize]
}

fn connector(first: bool, and: bool) -> &'static str {
    match (first, and) {
        (true, _) => "",
        (false, true) => "&",
        (false, false) => "|",
    }
}

/// Numeric terms from operator octets and values.
pub fn numeric_terms(ops: &[(u64, u64)]) -> String {
    ops.iter()
        .enumerate()
        .map(|(i, &(op, v))| format!("{}{}{v}", connector(i == 0, op & 0x40 != 0), numeric_op(op)))
        .collect()
}

/// Bitmask terms from operator octets and values (not 0x02, match 0x01).
pub fn bitmask_terms(ops: &[(u64, u64)]) -> String {
    ops.iter()
        .enumerate()
        .map(|(i, &(op, v))| bitmask_term(connector(i == 0, op & 0x40 != 0), op, v))
        .collect()
}

fn bitmask_term(conn: &str, op: u64, v: u64) -> String {
    format!(
        "{conn}{}{}{v:#x}",
        if op & 0x01 != 0 { "=" } else { "" },
        if op & 0x02 != 0 { "!" } else { "" }
    )
}

/// Component name by type code (RFC 8955 §4.2.2, RFC 8956 §3).
pub fn component_name(code: u64) -> &'static str {
    match code {
        1 => "dst",
        2 => "src",
        3 => "proto",
        4 => "port",
        5 => "dport",
        6 => "sport",
        7 => "icmp-type",
        8 => "icmp-code",
        9 => "tcp-flags",
        10 => "length",
        11 => "dscp",
        12 => "fragment",
        13 => "label",
        _ => "unknown",
    }
}

fn prefix(text: &str, offset: u64) -> String {
    if offset == 0 {
        text.to_string()
    } else {
        format!("{text}/off {offset}")
    }
}

/// A FlowSpec action from an extended community's 8 octets.
pub fn action_from_ext(v: u64) -> String {
    let b = v.to_be_bytes();
    let low32 = v as u32;
    let low16 = v as u16;
    match (b[0], b[1]) {
        (0x80, 0x06) => format!("rate-limit {}", f32::from_bits(low32) as u64),
        (0x80, 0x07) => match b[7] & 3 {
            1 => "action terminal".into(),
            2 => "action sample".into(),
            3 => "action sample-terminal".into(),
            _ => "action none".into(),
        },
        (0x80, 0x08) => format!("redirect {}:{low32}", u16::from_be_bytes([b[2], b[3]])),
        (0x81, 0x08) => format!("redirect {}:{low16}", Ipv4Addr::new(b[2], b[3], b[4], b[5])),
        (0x82, 0x08) => format!(
            "redirect {}:{low16}",
            u32::from_be_bytes([b[2], b[3], b[4], b[5]])
        ),
        (0x80, 0x09) => format!("mark {}", b[7] & 0x3f),
        (0x08, 0x00) => "redirect-to-nexthop".into(),
        (0x01, 0x0c) => format!("redirect-to-ip {}", Ipv4Addr::new(b[2], b[3], b[4], b[5])),
        _ => format!("ext {v:#018x}"),
    }
}

// ---------------------------------------------------------------- GoBGP

impl Gobgp {
    /// `gobgp global rib -a ipv4-flowspec|ipv6-flowspec -j`, normalised. `afi`: ipv4 or ipv6.
    pub fn flow_routes(&self, afi: &str) -> Vec<ReceivedFlow> {
        let Some(out) = self.cli(&["global", "rib", "-a", &format!("{afi}-flowspec"), "-j"]) else {
            return Vec::new();
        };
        let v: Value = serde_json::from_str(&out).unwrap_or(Value::Null);
        let mut flows = Vec::new();
        for paths in v.as_object().into_iter().flat_map(|m| m.values()) {
            for p in paths.as_array().into_iter().flatten() {
                flows.push(gobgp_flow(afi, p));
            }
        }
        flows.sort();
        flows
    }
}

fn gobgp_flow(afi: &str, p: &Value) -> ReceivedFlow {
    let mut components = Vec::new();
    for c in p
        .pointer("/nlri/value")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let code = c["type"].as_u64().unwrap_or(0);
        let name = component_name(code);
        let text = match code {
            1 | 2 => prefix(
                c.pointer("/value/prefix")
                    .and_then(Value::as_str)
                    .unwrap_or(""),
                c["offset"].as_u64().unwrap_or(0),
            ),
            _ => {
                let ops: Vec<(u64, u64)> = c["value"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|t| {
                        (
                            t["op"].as_u64().unwrap_or(0),
                            t["value"].as_u64().unwrap_or(0),
                        )
                    })
                    .collect();
                if code == 9 || code == 12 {
                    bitmask_terms(&ops)
                } else {
                    numeric_terms(&ops)
                }
            }
        };
        components.push(format!("{name} {text}"));
    }
    let mut actions = Vec::new();
    for a in p["attrs"].as_array().into_iter().flatten() {
        if a["type"].as_u64() != Some(16) {
            continue;
        }
        for e in a["value"].as_array().into_iter().flatten() {
            actions.push(gobgp_action(e));
        }
    }
    ReceivedFlow::new(afi, components, actions)
}

/// GoBGP's JSON for an extended community: `{type, subtype, ...}` with per-kind fields.
fn gobgp_action(e: &Value) -> String {
    let s = |k: &str| e[k].as_str().unwrap_or("").to_string();
    match (e["type"].as_u64(), e["subtype"].as_u64()) {
        (Some(0x80), Some(6)) => {
            format!("rate-limit {}", e["rate"].as_f64().unwrap_or(-1.0) as u64)
        }
        (Some(0x80), Some(7)) => match (e["sample"].as_bool(), e["terminal"].as_bool()) {
            (Some(true), Some(true)) => "action sample-terminal".into(),
            (Some(true), _) => "action sample".into(),
            (_, Some(true)) => "action terminal".into(),
            _ => "action none".into(),
        },
        (Some(0x80 | 0x81), Some(8)) => format!("redirect {}", s("value")),
        // 4-octet ASNs in asdot (`64086.59904:7`).
        (Some(0x82), Some(8)) => {
            let v = s("value");
            let (asn, n) = v.split_once(':').unwrap_or((&v, ""));
            let asn = match asn.split_once('.') {
                Some((hi, lo)) => {
                    (hi.parse::<u64>().unwrap_or(0) << 16) + lo.parse::<u64>().unwrap_or(0)
                }
                None => asn.parse().unwrap_or(0),
            };
            format!("redirect {asn}:{n}")
        }
        (Some(0x80), Some(9)) => format!("mark {}", e["value"]),
        (Some(0x08), Some(0)) => "redirect-to-nexthop".into(),
        (Some(0x01), Some(0x0c)) => {
            let v = s("value");
            format!("redirect-to-ip {}", v.split(':').next().unwrap_or(""))
        }
        _ => format!("ext {e}"),
    }
}

// ---------------------------------------------------------------- FRR

impl Frr {
    /// `show bgp ipv4|ipv6 flowspec detail json`, normalised. FRR prints one JSON array per
    /// rule, one after the other: `[{to, from, proto, ...}, {ecomlist}, {time}]`.
    pub fn flow_routes(&self, afi: &str) -> Vec<ReceivedFlow> {
        let Some(out) = self.vtysh(&[&format!("show bgp {afi} flowspec detail json")]) else {
            return Vec::new();
        };
        let mut flows = Vec::new();
        for rule in serde_json::Deserializer::from_str(&out).into_iter::<Value>() {
            let Ok(rule) = rule else { break };
            let mut components = Vec::new();
            let mut actions = Vec::new();
            for part in rule.as_array().into_iter().flatten() {
                for (k, v) in part.as_object().into_iter().flatten() {
                    let text = v.as_str().unwrap_or("");
                    match k.as_str() {
                        "to" | "from" => components.push(format!(
                            "{} {}",
                            if k == "to" { "dst" } else { "src" },
                            text.trim_end_matches("/off 0")
                        )),
                        "ecomlist" => actions.extend(frr_actions(text)),
                        "time" => {}
                        other => components.push(frr_component(other, text)),
                    }
                }
            }
            flows.push(ReceivedFlow::new(afi, components, actions));
        }
        flows.sort();
        flows
    }
}

/// FRR's JSON keys for the operator components, and whether they are bitmasks.
fn frr_component(key: &str, text: &str) -> String {
    let (name, bitmask) = match key {
        "proto" => ("proto", false),
        "port" => ("port", false),
        "dstp" => ("dport", false),
        "srcp" => ("sport", false),
        "type" => ("icmp-type", false),
        "code" => ("icmp-code", false),
        "tcp" => ("tcp-flags", true),
        "pktlen" => ("length", false),
        "dscp" => ("dscp", false),
        "pktfrag" => ("fragment", true),
        "flwlbl" => ("label", false),
        other => return format!("frr-key {other} {text}"),
    };
    // Terms separated by `,`. Numeric: `OP VALUE` (FRR 8.4 prints no AND/OR for numeric
    // terms: the `,` is kept). Bitmask: `[&|](=|∋)[ ! ]VALUE`.
    let terms: Vec<String> = text
        .split(',')
        .map(|t| {
            let t: String = t.split_whitespace().collect();
            if !bitmask {
                return t;
            }
            let (conn, rest) = match t.chars().next() {
                Some(c @ ('&' | '|')) => (c.to_string(), &t[1..]),
                _ => (String::new(), t.as_str()),
            };
            let (matched, rest) = match rest.strip_prefix('=') {
                Some(r) => (true, r),
                None => (false, rest.trim_start_matches('∋')),
            };
            let (not, rest) = match rest.strip_prefix('!') {
                Some(r) => (true, r),
                None => (false, rest),
            };
            let op = u64::from(matched) | if not { 2 } else { 0 };
            bitmask_term(&conn, op, rest.parse().unwrap_or(u64::MAX))
        })
        .collect();
    format!("{name} {}", terms.join(if bitmask { "" } else { "," }))
}

/// `FS:rate 64000.000000 FS:marking 8 NH:192.0.2.254:0 FS:redirect VRF RT:65000:666 ...`.
fn frr_actions(text: &str) -> Vec<String> {
    let mut items: Vec<String> = Vec::new();
    for word in text.split_whitespace() {
        match (
            word.strip_prefix("FS:"),
            word.strip_prefix("NH:"),
            items.last_mut(),
        ) {
            (Some(rest), _, _) => items.push(format!("FS:{rest}")),
            (_, Some(rest), _) => items.push(format!("NH:{rest}")),
            (_, _, Some(last)) => {
                last.push(' ');
                last.push_str(word);
            }
            _ => items.push(word.to_string()),
        }
    }
    items
        .into_iter()
        .map(|i| {
            if let Some(r) = i.strip_prefix("FS:rate ") {
                format!("rate-limit {}", r.parse::<f64>().unwrap_or(-1.0) as u64)
            } else if let Some(m) = i.strip_prefix("FS:marking ") {
                format!("mark {m}")
            } else if let Some(rt) = i.strip_prefix("FS:redirect VRF RT:") {
                format!("redirect {rt}")
            } else if i.starts_with("FS:redirect IP ") {
                "redirect-to-nexthop".into()
            } else if let Some(nh) = i.strip_prefix("NH:") {
                format!(
                    "redirect-to-ip {}",
                    nh.rsplit_once(':').map_or(nh, |(a, _)| a)
                )
            } else if let Some(a) = i.strip_prefix("FS:action ") {
                format!("frr-action {a}")
            } else {
                format!("frr {i}")
            }
        })
        .collect()
}

// ---------------------------------------------------------------- ExaBGP

impl Exabgp {
    /// The FlowSpec rules of `afi` received since the session last came up, withdrawals
    /// applied, from ExaBGP's parsed JSON (`announce["ipv4 flow"][NEXT_HOP] = [{...}]`).
    pub fn flow_routes(&self, afi: &str) -> Vec<ReceivedFlow> {
        let family = format!("{afi} flow");
        let text =
            std::fs::read_to_string(self.dir.path().join("received.jsonl")).unwrap_or_default();
        let mut rib: BTreeMap<String, ReceivedFlow> = BTreeMap::new();
        for m in text
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        {
            if m["type"] == "state" {
                rib.clear();
                continue;
            }
            let Some(update) = m.pointer("/neighbor/message/update") else {
                continue;
            };
            for w in update["withdraw"][&family].as_array().into_iter().flatten() {
                let f = exabgp_flow(afi, w, &[]);
                rib.remove(&f.key());
            }
            let actions: Vec<String> = update
                .pointer("/attribute/extended-community")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|e| e["value"].as_u64())
                .map(action_from_ext)
                .collect();
            for rules in update["announce"][&family]
                .as_object()
                .into_iter()
                .flat_map(|m| m.values())
            {
                for r in rules.as_array().into_iter().flatten() {
                    let f = exabgp_flow(afi, r, &actions);
                    rib.insert(f.key(), f);
                }
            }
        }
        rib.into_values().collect()
    }
}

fn exabgp_flow(afi: &str, r: &Value, actions: &[String]) -> ReceivedFlow {
    use bgpinject::wire::flowspec::{
        FRAGMENT_NAMES, ICMP_CODE_NAMES, ICMP_TYPE_NAMES, PROTOCOL_NAMES, TCP_FLAG_NAMES,
    };
    let mut components = Vec::new();
    for (k, v) in r.as_object().into_iter().flatten() {
        let list: Vec<&str> = v
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        let (name, names, bitmask): (&str, &[(&str, u64)], bool) = match k.as_str() {
            "destination-ipv4" | "destination-ipv6" | "source-ipv4" | "source-ipv6" => {
                let p = list.first().copied().unwrap_or("");
                // IPv6: `PREFIX/LEN/OFFSET`.
                let p = match p.matches('/').count() {
                    2 => {
                        let (pfx, off) = p.rsplit_once('/').unwrap_or((p, "0"));
                        prefix(pfx, off.parse().unwrap_or(0))
                    }
                    _ => p.to_string(),
                };
                let n = if k.starts_with("destination") {
                    "dst"
                } else {
                    "src"
                };
                components.push(format!("{n} {p}"));
                continue;
            }
            "protocol" | "next-header" => ("proto", PROTOCOL_NAMES, false),
            "port" => ("port", &[], false),
            "destination-port" => ("dport", &[], false),
            "source-port" => ("sport", &[], false),
            "icmp-type" => ("icmp-type", ICMP_TYPE_NAMES, false),
            "icmp-code" => ("icmp-code", ICMP_CODE_NAMES, false),
            "tcp-flags" => ("tcp-flags", TCP_FLAG_NAMES, true),
            "packet-length" => ("length", &[], false),
            "dscp" | "traffic-class" => ("dscp", &[], false),
            "fragment" => ("fragment", FRAGMENT_NAMES, true),
            "flow-label" => ("label", &[], false),
            _ => continue, // `string`, `next-hop`
        };
        // List elements are OR-ed, `&` inside one element ANDs its terms.
        let mut terms = String::new();
        for (i, element) in list.iter().enumerate() {
            for (j, t) in element.split('&').enumerate() {
                let conn = connector(i == 0 && j == 0, j > 0);
                let ops_end = t
                    .find(|c: char| !matches!(c, '=' | '<' | '>' | '!'))
                    .unwrap_or(t.len());
                let (op, value) = t.split_at(ops_end);
                let value = exabgp_value(value, names);
                if bitmask {
                    let op = u64::from(op.contains('=')) | if op.contains('!') { 2 } else { 0 };
                    terms.push_str(&bitmask_term(conn, op, value));
                } else {
                    terms.push_str(&format!("{conn}{op}{value}"));
                }
            }
        }
        components.push(format!("{name} {terms}"));
    }
    ReceivedFlow::new(afi, components, actions.to_vec())
}

/// A value as ExaBGP prints it: a number, a name, or `unknown protocol type 58`.
fn exabgp_value(text: &str, names: &[(&str, u64)]) -> u64 {
    if let Ok(n) = text.parse() {
        return n;
    }
    if let Some(last) = text.rsplit(' ').next().and_then(|w| w.parse().ok()) {
        return last;
    }
    // Several flags may be joined with `+` (`syn+ack`).
    text.split('+')
        .map(|n| {
            names
                .iter()
                .find(|(name, _)| *name == n)
                .map_or(u64::MAX, |&(_, v)| v)
        })
        .fold(0, |a, v| {
            if v == u64::MAX || a == u64::MAX {
                u64::MAX
            } else {
                a | v
            }
        })
}
