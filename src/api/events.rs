//! Events written to helpers' stdin, in ExaBGP 4's text or JSON form.

use std::net::IpAddr;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::json;

use crate::config::process::{ApiEvents, Encoder, MessageEvents};
use crate::wire::attribute::{MpNextHop, MpNlri, PathAttribute};
use crate::wire::ext_community::ExtCommunityValue;
use crate::wire::family::Family;
use crate::wire::flowspec::{self, FlowRule};
use crate::wire::message::Message;
use crate::wire::nlri::{self, FamilyNlri};
use crate::wire::prefix::Prefix;
use crate::wire::update::Update;

/// What happened to a neighbor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NeighborEvent {
    Up,
    Down(String),
    /// A NOTIFICATION the peer sent: code, subcode, and its description.
    Notification(u8, u8, String),
    /// An UPDATE the peer sent (`api { receive { parsed; update; } }`).
    Update(Box<Update>),
    /// A message sent or received that `api { send { } receive { } }` asks for (see
    /// `session::core::MessageTap`): the whole message and what it decodes to.
    Message {
        sent: bool,
        raw: Vec<u8>,
        message: Option<Box<Message>>,
    },
}

/// How a helper wants a message (ExaBGP's `parsed`, `packets`, `consolidate`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Form {
    pub parsed: bool,
    pub packets: bool,
    pub consolidate: bool,
}

/// Whether the neighbor's api block asks for `event` (ExaBGP sends a helper only what its
/// api block names: `neighbor-changes`, `receive { notification; }`, `receive { update; }`).
pub fn wanted(config: &crate::config::NeighborConfig, event: &NeighborEvent) -> bool {
    match event {
        NeighborEvent::Up | NeighborEvent::Down(_) => config.api_neighbor_changes,
        NeighborEvent::Notification(..) => {
            config.api_receive_notifications || config.api_neighbor_changes
        }
        NeighborEvent::Update(_) => config.api_receive_updates,
        NeighborEvent::Message { .. } => true,
    }
}

/// Whether a helper with `events` (its api blocks) is told of `event`, and in which form.
pub fn wanted_by(events: &ApiEvents, event: &NeighborEvent) -> Option<Form> {
    let form = |m: &MessageEvents| Form {
        parsed: m.parsed,
        packets: m.packets,
        consolidate: m.consolidate,
    };
    match event {
        NeighborEvent::Up | NeighborEvent::Down(_) => events.neighbor_changes.then(Form::default),
        NeighborEvent::Notification(..) => {
            (events.receive_notifications || events.neighbor_changes).then(Form::default)
        }
        NeighborEvent::Update(_) => events.receive.update.then(|| form(&events.receive)),
        NeighborEvent::Message { sent, raw, .. } => {
            let m = if *sent { &events.send } else { &events.receive };
            let kind = raw.get(18).copied().unwrap_or(0);
            m.wants_type(kind).then(|| form(m))
        }
    }
}

/// The lines for a helper told of `event` in `form`: ExaBGP sends one event per form asked
/// for (`packets` and `parsed` are two events, `consolidate` one with both). A helper that
/// names a message without a form gets it parsed.
pub fn encode_all(
    encoder: Encoder,
    peer: &Peer,
    event: &NeighborEvent,
    form: Form,
    mut counter: impl FnMut() -> u64,
) -> Vec<String> {
    let raw = match event {
        NeighborEvent::Message { raw, .. } => raw.as_slice(),
        _ => return vec![encode(encoder, peer, event, counter())],
    };
    let (header, body) = raw.split_at(raw.len().min(crate::wire::message::HEADER_LEN));
    let mut out = Vec::new();
    if form.consolidate {
        out.push(encode_message(
            encoder,
            peer,
            event,
            Some((header, body)),
            counter(),
        ));
        return out;
    }
    if form.packets {
        out.push(packets(encoder, peer, event, header, body, counter()));
    }
    if form.parsed || !form.packets {
        out.push(encode_message(encoder, peer, event, None, counter()));
    }
    out
}

fn direction(event: &NeighborEvent) -> &'static str {
    match event {
        NeighborEvent::Message { sent: true, .. } => "send",
        _ => "receive",
    }
}

fn hex_upper(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

/// ExaBGP's name of a message type, as its `type` field and text events say it.
fn type_name(kind: u8) -> &'static str {
    use crate::wire::message::message_type as t;
    match kind {
        t::OPEN => "open",
        t::UPDATE => "update",
        t::NOTIFICATION => "notification",
        t::KEEPALIVE => "keepalive",
        t::ROUTE_REFRESH => "refresh",
        _ => "operational",
    }
}

fn neighbor_json(peer: &Peer) -> serde_json::Value {
    json!({
        "address": {
            "local": peer.local.map(|a| a.to_string()).unwrap_or_default(),
            "peer": peer.peer.to_string(),
        },
        "asn": { "local": peer.local_as, "peer": peer.peer_as },
    })
}

/// ExaBGP's `packets` event: the header and body in hex, under `message`.
fn packets(
    encoder: Encoder,
    peer: &Peer,
    event: &NeighborEvent,
    header: &[u8],
    body: &[u8],
    counter: u64,
) -> String {
    let kind = header.get(18).copied().unwrap_or(0);
    let dir = direction(event);
    match encoder {
        Encoder::Text => format!(
            "neighbor {} {dir} {kind} header {} body {}",
            peer.peer,
            hex_upper(header),
            hex_upper(body)
        ),
        Encoder::Json => {
            let mut neighbor = neighbor_json(peer);
            neighbor["direction"] = json!(dir);
            neighbor["message"] =
                json!({ "category": kind, "header": hex_upper(header), "body": hex_upper(body) });
            envelope(type_name(kind), counter, neighbor)
        }
    }
}

/// ExaBGP 5's parsed event of a message sent or received; `packets`: the header and body
/// added (`consolidate`).
fn encode_message(
    encoder: Encoder,
    peer: &Peer,
    event: &NeighborEvent,
    packets: Option<(&[u8], &[u8])>,
    counter: u64,
) -> String {
    let NeighborEvent::Message { raw, message, .. } = event else {
        return String::new();
    };
    let kind = raw.get(18).copied().unwrap_or(0);
    let dir = direction(event);
    let who = peer.peer;
    match encoder {
        Encoder::Text => {
            let hb = packets
                .map(|(h, b)| format!(" header {} body {}", hex_upper(h), hex_upper(b)))
                .unwrap_or_default();
            match message.as_deref() {
                Some(Message::Keepalive) => format!("neighbor {who} {dir} keepalive{hb}"),
                Some(Message::Open(o)) => {
                    let caps: Vec<String> = o.capabilities.iter().map(|c| c.to_string()).collect();
                    format!(
                        "neighbor {who} {dir} open version {} asn {} hold_time {} router_id {} capabilities [{}]{hb}",
                        o.version,
                        open_asn(o),
                        o.hold_time,
                        o.router_id,
                        caps.join(", ")
                    )
                }
                Some(Message::RouteRefresh(r)) => {
                    let (afi, safi) = family_names(r.family);
                    format!(
                        "neighbor {who} {dir} route-refresh afi {afi} safi {safi} {}{hb}",
                        refresh_subtype(r.subtype)
                    )
                }
                Some(Message::Notification(n)) => format!(
                    "neighbor {who} {dir} notification code {} subcode {} data {}{hb}",
                    n.code,
                    n.subcode,
                    hex_upper(&n.data)
                ),
                Some(Message::Update(u)) => update_text_exabgp5(who, dir, u, &hb),
                None => format!("neighbor {who} {dir} {kind}{hb}"),
            }
        }
        Encoder::Json => {
            let mut neighbor = neighbor_json(peer);
            neighbor["direction"] = json!(dir);
            match message.as_deref() {
                Some(Message::Keepalive) | None => {}
                Some(Message::Open(o)) => {
                    let caps: serde_json::Map<String, serde_json::Value> = o
                        .capabilities
                        .iter()
                        .map(|c| (c.code().to_string(), json!({ "string": c.to_string() })))
                        .collect();
                    neighbor["open"] = json!({
                        "version": o.version,
                        "asn": open_asn(o),
                        "hold_time": o.hold_time,
                        "router_id": o.router_id.to_string(),
                        "capabilities": caps,
                    });
                }
                Some(Message::RouteRefresh(r)) => {
                    let (afi, safi) = family_names(r.family);
                    neighbor["route-refresh"] =
                        json!({ "afi": afi, "safi": safi, "subtype": refresh_subtype(r.subtype) });
                }
                Some(Message::Notification(n)) => {
                    neighbor["notification"] = json!({
                        "code": n.code,
                        "subcode": n.subcode,
                        "data": hex_upper(&n.data),
                        "message": String::from_utf8_lossy(&n.data),
                    });
                }
                Some(Message::Update(u)) => neighbor["message"] = update_message_json(u),
            }
            let mut line = envelope(type_name(kind), counter, neighbor);
            if let Some((h, b)) = packets
                && let Ok(mut v) = serde_json::from_str::<serde_json::Value>(&line)
            {
                v["header"] = json!(hex_upper(h));
                v["body"] = json!(hex_upper(b));
                line = v.to_string();
            }
            line
        }
    }
}

/// The OPEN's AS: the 4-octet capability's when there is one.
fn open_asn(o: &crate::wire::open::Open) -> u32 {
    o.capabilities
        .iter()
        .find_map(|c| match c {
            crate::wire::capability::Capability::FourOctetAs(a) => Some(*a),
            _ => None,
        })
        .unwrap_or(u32::from(o.my_as))
}

/// RFC 7313 §3: the ROUTE-REFRESH subtypes as ExaBGP names them.
fn refresh_subtype(subtype: u8) -> &'static str {
    match subtype {
        0 => "query",
        1 => "begin",
        2 => "end",
        _ => "reserved",
    }
}

/// `ipv4`, `unicast`: a family's two words.
fn family_names(f: Family) -> (String, String) {
    let text = f.to_string();
    let mut words = text.splitn(2, ' ');
    (
        words.next().unwrap_or_default().to_string(),
        words.next().unwrap_or_default().to_string(),
    )
}

/// ExaBGP 5's `message` of an UPDATE: `{ "update": { ... } }`, or `{ "eor": { "afi", "safi" } }`.
fn update_message_json(u: &Update) -> serde_json::Value {
    match u.end_of_rib() {
        Some(f) => {
            let (afi, safi) = family_names(f);
            json!({ "eor": { "afi": afi, "safi": safi } })
        }
        None => json!({ "update": update_json(u) }),
    }
}

/// ExaBGP 5's text UPDATE: `neighbor PEER DIR update start`, one `announced` or `withdrawn`
/// line per NLRI (`route eor AFI SAFI` for End-of-RIB), `... update end`.
fn update_text_exabgp5(who: IpAddr, dir: &str, u: &Update, hb: &str) -> String {
    let prefix = format!("neighbor {who} {dir} update");
    let mut lines = vec![format!("{prefix} start")];
    if let Some(f) = u.end_of_rib() {
        lines.push(format!("{prefix} route eor {f}"));
    } else {
        let attrs = attribute_words_exabgp5(u);
        let c = changes(u);
        for (_, nh, prefixes) in &c.announced {
            for p in prefixes {
                lines.push(format!("{prefix} announced {p} next-hop {nh}{attrs}"));
            }
        }
        for (_, prefixes) in &c.withdrawn {
            for p in prefixes {
                lines.push(format!("{prefix} withdrawn {p}"));
            }
        }
        let flows = flow_changes(u);
        for (_, _, rules) in &flows.announced {
            for r in rules {
                lines.push(format!(
                    "{prefix} announced flow match {{ {} }}{attrs}",
                    r.match_text()
                ));
            }
        }
        for (_, rules) in &flows.withdrawn {
            for r in rules {
                lines.push(format!(
                    "{prefix} withdrawn flow match {{ {} }}",
                    r.match_text()
                ));
            }
        }
        let others = family_changes(u);
        for (_, nh, list) in &others.announced {
            for n in list {
                let nh = if nh.is_empty() {
                    String::new()
                } else {
                    format!(" next-hop {nh}")
                };
                lines.push(format!("{prefix} announced {n}{nh}{attrs}"));
            }
        }
        for (_, list) in &others.withdrawn {
            for n in list {
                lines.push(format!("{prefix} withdrawn {n}"));
            }
        }
    }
    if !hb.is_empty() {
        lines.push(hb.trim_start().to_string());
    }
    lines.push(format!("{prefix} end"));
    lines.join("\n")
}

/// The neighbor an event is about.
pub struct Peer {
    pub local: Option<IpAddr>,
    pub peer: IpAddr,
    pub local_as: u32,
    pub peer_as: u32,
}

/// One line for a helper's stdin.
pub fn encode(encoder: Encoder, peer: &Peer, event: &NeighborEvent, counter: u64) -> String {
    match encoder {
        Encoder::Text => match event {
            NeighborEvent::Up => format!("neighbor {} up", peer.peer),
            NeighborEvent::Down(reason) => format!("neighbor {} down - {reason}", peer.peer),
            NeighborEvent::Notification(code, subcode, text) => format!(
                "neighbor {} notification code {code} subcode {subcode} data {text}",
                peer.peer
            ),
            NeighborEvent::Update(u) => update_text_exabgp5(peer.peer, "receive", u, ""),
            NeighborEvent::Message { .. } => String::new(),
        },
        Encoder::Json => {
            let mut neighbor = json!({
                "address": {
                    "local": peer.local.map(|a| a.to_string()).unwrap_or_default(),
                    "peer": peer.peer.to_string(),
                },
                "asn": { "local": peer.local_as, "peer": peer.peer_as },
            });
            let kind = match event {
                NeighborEvent::Up => {
                    neighbor["state"] = json!("up");
                    "state"
                }
                NeighborEvent::Down(reason) => {
                    neighbor["state"] = json!("down");
                    neighbor["reason"] = json!(reason);
                    "state"
                }
                NeighborEvent::Notification(code, subcode, text) => {
                    neighbor["notification"] =
                        json!({ "code": code, "subcode": subcode, "data": text });
                    "notification"
                }
                NeighborEvent::Update(u) => {
                    neighbor["direction"] = json!("receive");
                    neighbor["message"] = update_message_json(u);
                    "update"
                }
                NeighborEvent::Message { .. } => return String::new(),
            };
            envelope(kind, counter, neighbor)
        }
    }
}

/// What an UPDATE announces and withdraws, per family: (family, next hop, prefixes).
struct Changes {
    announced: Vec<(Family, String, Vec<Prefix>)>,
    withdrawn: Vec<(Family, Vec<Prefix>)>,
}

fn changes(u: &Update) -> Changes {
    let mut c = Changes {
        announced: Vec::new(),
        withdrawn: Vec::new(),
    };
    let next_hop = u.attributes.iter().find_map(|a| match a {
        PathAttribute::NextHop(nh) => Some(nh.to_string()),
        _ => None,
    });
    if !u.nlri.is_empty() {
        c.announced.push((
            Family::IPV4_UNICAST,
            next_hop.unwrap_or_default(),
            u.nlri.clone(),
        ));
    }
    if !u.withdrawn.is_empty() {
        c.withdrawn
            .push((Family::IPV4_UNICAST, u.withdrawn.clone()));
    }
    for a in &u.attributes {
        match a {
            PathAttribute::MpReach(m) => {
                if let MpNlri::Prefixes(p) = &m.nlri {
                    let nh = match &m.next_hop {
                        MpNextHop::Addresses(v) | MpNextHop::Vpn(v) => {
                            v.first().map(|a| a.to_string())
                        }
                        MpNextHop::Raw(_) => None,
                    };
                    c.announced
                        .push((m.family, nh.unwrap_or_default(), p.clone()));
                }
            }
            PathAttribute::MpUnreach(m) => {
                if let MpNlri::Prefixes(p) = &m.nlri {
                    c.withdrawn.push((m.family, p.clone()));
                }
            }
            _ => {}
        }
    }
    c
}

/// The FlowSpec rules an UPDATE announces (with the MP_REACH next hop, empty when none)
/// and withdraws.
struct FlowChanges {
    announced: Vec<(Family, String, Vec<FlowRule>)>,
    withdrawn: Vec<(Family, Vec<FlowRule>)>,
}

fn flow_changes(u: &Update) -> FlowChanges {
    let mut c = FlowChanges {
        announced: Vec::new(),
        withdrawn: Vec::new(),
    };
    for a in &u.attributes {
        match a {
            PathAttribute::MpReach(m) => {
                if let MpNlri::Raw(r) = &m.nlri
                    && let Some(Ok(rules)) = flowspec::family_rules(m.family, r)
                    && !rules.is_empty()
                {
                    let nh = match &m.next_hop {
                        MpNextHop::Raw(b) if b.len() == 4 => <[u8; 4]>::try_from(b.as_slice())
                            .map(|a| IpAddr::from(a).to_string())
                            .unwrap_or_default(),
                        MpNextHop::Raw(b) if b.len() >= 16 => b
                            .get(..16)
                            .and_then(|x| <[u8; 16]>::try_from(x).ok())
                            .map(|a| IpAddr::from(a).to_string())
                            .unwrap_or_default(),
                        _ => String::new(),
                    };
                    c.announced.push((m.family, nh, rules));
                }
            }
            PathAttribute::MpUnreach(m) => {
                if let MpNlri::Raw(r) = &m.nlri
                    && let Some(Ok(rules)) = flowspec::family_rules(m.family, r)
                    && !rules.is_empty()
                {
                    c.withdrawn.push((m.family, rules));
                }
            }
            _ => {}
        }
    }
    c
}

/// The NLRI of the families of src/wire/nlri (EVPN, VPLS, RTC, FlowSpec VPN, MUP, SR
/// Policy, BGP-LS) an UPDATE announces (with its next hop, empty when none) and withdraws.
struct FamilyChanges {
    announced: Vec<(Family, String, Vec<FamilyNlri>)>,
    withdrawn: Vec<(Family, Vec<FamilyNlri>)>,
}

fn family_changes(u: &Update) -> FamilyChanges {
    let mut c = FamilyChanges {
        announced: Vec::new(),
        withdrawn: Vec::new(),
    };
    for a in &u.attributes {
        match a {
            PathAttribute::MpReach(m) => {
                if let MpNlri::Raw(r) = &m.nlri
                    && let Some(Ok(list)) = nlri::decode(m.family, r)
                    && !list.is_empty()
                {
                    let nh = match &m.next_hop {
                        MpNextHop::Raw(b) => nlri::raw_next_hop(b)
                            .and_then(|v| v.first().map(IpAddr::to_string))
                            .unwrap_or_default(),
                        _ => String::new(),
                    };
                    c.announced.push((m.family, nh, list));
                }
            }
            PathAttribute::MpUnreach(m) => {
                if let MpNlri::Raw(r) = &m.nlri
                    && let Some(Ok(list)) = nlri::decode(m.family, r)
                    && !list.is_empty()
                {
                    c.withdrawn.push((m.family, list));
                }
            }
            _ => {}
        }
    }
    c
}

/// The attributes other than next hop and NLRI as ExaBGP's text events write them, each
/// behind a space (an empty AS_PATH, as on iBGP, is not written).
fn attribute_words_exabgp5(u: &Update) -> String {
    let mut out = String::new();
    for a in &u.attributes {
        match a {
            PathAttribute::NextHop(_) | PathAttribute::MpReach(_) | PathAttribute::MpUnreach(_) => {
            }
            PathAttribute::AsPath(p) if p.segments.iter().all(|s| s.asns.is_empty()) => {}
            PathAttribute::AsPath(p) => out.push_str(&format!(" as-path [ {p} ]")),
            other => out.push_str(&format!(" {other}")),
        }
    }
    out
}

/// ExaBGP 4's JSON `update` message: `attribute`, `announce` {family: {next hop: [nlri]}},
/// `withdraw` {family: [nlri]}; End-of-RIB as `eor`.
fn update_json(u: &Update) -> serde_json::Value {
    let mut attribute = serde_json::Map::new();
    for a in &u.attributes {
        match a {
            PathAttribute::Origin(o) => {
                attribute.insert("origin".into(), json!(o.name()));
            }
            PathAttribute::AsPath(p) => {
                let asns: Vec<u32> = p.segments.iter().flat_map(|s| s.asns.clone()).collect();
                attribute.insert("as-path".into(), json!(asns));
            }
            PathAttribute::Med(v) => {
                attribute.insert("med".into(), json!(v));
            }
            PathAttribute::LocalPref(v) => {
                attribute.insert("local-preference".into(), json!(v));
            }
            PathAttribute::Communities(v) => {
                let pairs: Vec<[u32; 2]> = v.iter().map(|c| [c.0 >> 16, c.0 & 0xFFFF]).collect();
                attribute.insert("community".into(), json!(pairs));
            }
            PathAttribute::ExtendedCommunities(v) => {
                // ExaBGP's form (`value`, `string`), with our name of the kind.
                let list: Vec<serde_json::Value> = v
                    .iter()
                    .map(|c| {
                        json!({
                            "value": u64::from_be_bytes(c.0),
                            "string": c.to_string(),
                            "name": ExtCommunityValue::of(c).name(),
                        })
                    })
                    .collect();
                attribute.insert("extended-community".into(), json!(list));
            }
            PathAttribute::LargeCommunities(v) => {
                let triples: Vec<[u32; 3]> =
                    v.iter().map(|c| [c.global, c.local1, c.local2]).collect();
                attribute.insert("large-community".into(), json!(triples));
            }
            _ => {}
        }
    }
    let c = changes(u);
    let mut message = serde_json::Map::new();
    if !attribute.is_empty() {
        message.insert("attribute".into(), serde_json::Value::Object(attribute));
    }
    if !c.announced.is_empty() {
        let mut announce = serde_json::Map::new();
        for (family, nh, prefixes) in c.announced {
            let nlri: Vec<serde_json::Value> = prefixes
                .iter()
                .map(|p| json!({ "nlri": p.to_string() }))
                .collect();
            announce.insert(family.to_string(), json!({ nh: nlri }));
        }
        message.insert("announce".into(), serde_json::Value::Object(announce));
    }
    if !c.withdrawn.is_empty() {
        let mut withdraw = serde_json::Map::new();
        for (family, prefixes) in c.withdrawn {
            let nlri: Vec<serde_json::Value> = prefixes
                .iter()
                .map(|p| json!({ "nlri": p.to_string() }))
                .collect();
            withdraw.insert(family.to_string(), json!(nlri));
        }
        message.insert("withdraw".into(), serde_json::Value::Object(withdraw));
    }
    // FlowSpec rules: `{family: {next hop or "no-nexthop": [rule]}}` as ExaBGP, each rule
    // the decoder's JSON (src/wire/flowspec/json.rs) with ExaBGP's `string`.
    let flows = flow_changes(u);
    let rule = |r: &FlowRule| {
        let mut v = flowspec::json::rule_json(r);
        v["string"] = json!(format!("flow {}", r.match_text()));
        v
    };
    for (family, nh, rules) in &flows.announced {
        let nh = if nh.is_empty() { "no-nexthop" } else { nh };
        let list: Vec<serde_json::Value> = rules.iter().map(rule).collect();
        if let Some(announce) = message
            .entry("announce")
            .or_insert_with(|| json!({}))
            .as_object_mut()
        {
            announce.insert(family.to_string(), json!({ nh: list }));
        }
    }
    for (family, rules) in &flows.withdrawn {
        let list: Vec<serde_json::Value> = rules.iter().map(rule).collect();
        if let Some(withdraw) = message
            .entry("withdraw")
            .or_insert_with(|| json!({}))
            .as_object_mut()
        {
            withdraw.insert(family.to_string(), json!(list));
        }
    }
    // EVPN, VPLS, RTC, FlowSpec VPN, MUP, SR Policy, BGP-LS: the same shape, each NLRI the
    // decoder's JSON (src/wire/nlri, ExaBGP's field names) with ExaBGP's `string`.
    let others = family_changes(u);
    let one = |n: &FamilyNlri| {
        let mut v = n.json();
        v["string"] = json!(n.to_string());
        v
    };
    for (family, nh, list) in &others.announced {
        let nh = if nh.is_empty() { "no-nexthop" } else { nh };
        let list: Vec<serde_json::Value> = list.iter().map(one).collect();
        if let Some(announce) = message
            .entry("announce")
            .or_insert_with(|| json!({}))
            .as_object_mut()
        {
            announce.insert(family.to_string(), json!({ nh: list }));
        }
    }
    for (family, list) in &others.withdrawn {
        let list: Vec<serde_json::Value> = list.iter().map(one).collect();
        if let Some(withdraw) = message
            .entry("withdraw")
            .or_insert_with(|| json!({}))
            .as_object_mut()
        {
            withdraw.insert(family.to_string(), json!(list));
        }
    }
    serde_json::Value::Object(message)
}

/// What helpers get when bgpinject stops (ExaBGP sends `shutdown` too).
pub fn shutdown(encoder: Encoder, counter: u64) -> String {
    match encoder {
        Encoder::Text => "shutdown".into(),
        Encoder::Json => {
            let mut v: serde_json::Value =
                serde_json::from_str(&envelope("notification", counter, json!(null)))
                    .unwrap_or_default();
            if let Some(o) = v.as_object_mut() {
                o.remove("neighbor");
                o.insert("notification".into(), json!("shutdown"));
            }
            v.to_string()
        }
    }
}

fn envelope(kind: &str, counter: u64, neighbor: serde_json::Value) -> String {
    let time = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0);
    json!({
        "exabgp": "4.0.1",
        "time": time,
        "host": "bgpinject",
        "pid": std::process::id(),
        "ppid": unsafe { libc::getppid() },
        "counter": counter,
        "type": kind,
        "neighbor": neighbor,
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer() -> Peer {
        Peer {
            local: Some("127.0.0.1".parse().unwrap()),
            peer: "127.0.0.2".parse().unwrap(),
            local_as: 65000,
            peer_as: 65001,
        }
    }

    #[test]
    fn text_and_json_states() {
        assert_eq!(
            encode(Encoder::Text, &peer(), &NeighborEvent::Up, 1),
            "neighbor 127.0.0.2 up"
        );
        let j: serde_json::Value =
            serde_json::from_str(&encode(Encoder::Json, &peer(), &NeighborEvent::Up, 3)).unwrap();
        assert_eq!(j["type"], "state");
        assert_eq!(j["neighbor"]["state"], "up");
        assert_eq!(j["neighbor"]["address"]["peer"], "127.0.0.2");
        let j: serde_json::Value = serde_json::from_str(&shutdown(Encoder::Json, 4)).unwrap();
        assert_eq!(j["notification"], "shutdown");
    }

    #[test]
    fn flow_rules_and_extended_communities_by_name_in_helper_json() {
        use crate::wire::message::{DecodeContext, Message};
        // RFC 8955 §4.2.3 example 1 with traffic-rate 0 (discard).
        let hex = "ffffffffffffffffffffffffffffffff004402\
                   0000002d4001010040020602010000fde9900e001100018500000b0118c00002038106048119\
                   c0100880060000000000 00";
        let bytes = crate::testvec::parse_hex(hex).unwrap();
        let Ok((Message::Update(u), _)) = Message::decode(&bytes, DecodeContext::default()) else {
            panic!("decodes");
        };
        let event = NeighborEvent::Update(Box::new(u));
        let j: serde_json::Value =
            serde_json::from_str(&encode(Encoder::Json, &peer(), &event, 5)).unwrap();
        let update = &j["neighbor"]["message"]["update"];
        let rule = &update["announce"]["ipv4 flow"]["no-nexthop"][0];
        assert_eq!(rule["components"][0]["prefix"], "192.0.2.0/24");
        assert_eq!(rule["components"][1]["operators"][0]["value_name"], "tcp");
        assert_eq!(
            rule["string"],
            "flow destination 192.0.2.0/24; protocol =tcp; port =25;"
        );
        let ext = &update["attribute"]["extended-community"][0];
        assert_eq!(ext["string"], "traffic-rate:0:0");
        assert_eq!(ext["name"], "traffic-rate");
        let text = encode(Encoder::Text, &peer(), &event, 6);
        assert!(
            text.contains(
                "announced flow match { destination 192.0.2.0/24; protocol =tcp; port =25; }"
            ),
            "{text}"
        );
        assert!(
            text.contains("extended-community [traffic-rate:0:0]"),
            "{text}"
        );
    }

    #[test]
    fn evpn_routes_by_field_in_helper_events() {
        use crate::wire::message::{DecodeContext, Message};
        // GoBGP 3.10's MAC/IP route (test-vectors/captured/families-gobgp.vec,
        // gobgp-update-announce-l2vpn-evpn-2).
        let v = crate::testvec::load_tree(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("test-vectors/captured"),
        )
        .unwrap()
        .into_iter()
        .find(|(_, v)| v.name == "gobgp-update-announce-l2vpn-evpn-2")
        .expect("the captured vector");
        let Ok((Message::Update(u), _)) = Message::decode(&v.1.bytes, DecodeContext::default())
        else {
            panic!("decodes");
        };
        let event = NeighborEvent::Update(Box::new(u));
        let j: serde_json::Value =
            serde_json::from_str(&encode(Encoder::Json, &peer(), &event, 7)).unwrap();
        let route = &j["neighbor"]["message"]["update"]["announce"]["l2vpn evpn"]["192.0.2.2"][0];
        assert_eq!(route["mac"], "00:11:22:aa:bb:01");
        assert_eq!(route["ip"], "198.51.100.1");
        assert_eq!(route["rd"], "192.0.2.2:100");
        assert_eq!(route["raw-label"][0], 10100);
        let text = encode(Encoder::Text, &peer(), &event, 8);
        assert!(
            text.contains("announced evpn mac-ip rd 192.0.2.2:100 esi 00:00:00:00:00:00:00:00:00:00 ethernet-tag 0 mac 00:11:22:aa:bb:01 ip 198.51.100.1 raw-label [ 10100 ] next-hop 192.0.2.2"),
            "{text}"
        );
    }

    #[test]
    fn sent_and_received_messages_in_exabgp5_layout() {
        use crate::wire::attribute::AttributeContext;
        let ctx = AttributeContext {
            four_octet_as: true,
        };
        let raw = Message::Keepalive.encode(ctx);
        let ka = NeighborEvent::Message {
            sent: false,
            raw: raw.clone(),
            message: Some(Box::new(Message::Keepalive)),
        };
        let parsed = Form {
            parsed: true,
            ..Form::default()
        };
        let mut n = 0;
        let lines = encode_all(Encoder::Json, &peer(), &ka, parsed, || {
            n += 1;
            n
        });
        let j: serde_json::Value = serde_json::from_str(&lines[0]).unwrap();
        assert_eq!(j["type"], "keepalive");
        assert_eq!(j["neighbor"]["direction"], "receive");
        let text = encode_all(Encoder::Text, &peer(), &ka, parsed, || 1);
        assert_eq!(text, ["neighbor 127.0.0.2 receive keepalive"]);
        // packets and parsed: two events; the packets one carries the header and body.
        let both = Form {
            parsed: true,
            packets: true,
            consolidate: false,
        };
        let lines = encode_all(Encoder::Json, &peer(), &ka, both, || 1);
        assert_eq!(lines.len(), 2);
        let j: serde_json::Value = serde_json::from_str(&lines[0]).unwrap();
        assert_eq!(j["neighbor"]["message"]["category"], 4);
        assert_eq!(
            j["neighbor"]["message"]["header"],
            "F".repeat(32) + "001304"
        );
        // End-of-RIB sent: `message.eor` with the family's names (ExaBGP 5).
        let eor = Update::end_of_rib_marker(Family::IPV4_UNICAST);
        let raw = Message::Update(eor.clone()).encode(ctx);
        let sent = NeighborEvent::Message {
            sent: true,
            raw,
            message: Some(Box::new(Message::Update(eor))),
        };
        let lines = encode_all(Encoder::Json, &peer(), &sent, parsed, || 1);
        let j: serde_json::Value = serde_json::from_str(&lines[0]).unwrap();
        assert_eq!(j["neighbor"]["direction"], "send");
        assert_eq!(j["neighbor"]["message"]["eor"]["afi"], "ipv4");
        assert_eq!(j["neighbor"]["message"]["eor"]["safi"], "unicast");
    }
}
