//! Events written to helpers' stdin, in ExaBGP 4's text or JSON form.

use std::net::IpAddr;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::json;

use crate::config::process::Encoder;
use crate::wire::attribute::{MpNextHop, MpNlri, PathAttribute};
use crate::wire::ext_community::ExtCommunityValue;
use crate::wire::family::Family;
use crate::wire::flowspec::{self, FlowRule};
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
    }
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
            NeighborEvent::Update(u) => update_text(peer, u),
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
                    neighbor["message"] = json!({ "update": update_json(u) });
                    "update"
                }
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

/// The attributes other than next hop and NLRI, in the words of the config and API.
fn attribute_words(u: &Update) -> String {
    u.attributes
        .iter()
        .filter(|a| {
            !matches!(
                a,
                PathAttribute::NextHop(_) | PathAttribute::MpReach(_) | PathAttribute::MpUnreach(_)
            )
        })
        .map(|a| a.to_string())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Text form: one line per prefix, `neighbor PEER announced route P next-hop NH ATTRS` or
/// `neighbor PEER withdrawn route P`; End-of-RIB as `neighbor PEER eor FAMILY`.
fn update_text(peer: &Peer, u: &Update) -> String {
    if let Some(f) = u.end_of_rib() {
        return format!("neighbor {} eor {f}", peer.peer);
    }
    let c = changes(u);
    let attrs = attribute_words(u);
    let mut lines = Vec::new();
    for (_, prefixes) in &c.withdrawn {
        for p in prefixes {
            lines.push(format!("neighbor {} withdrawn route {p}", peer.peer));
        }
    }
    for (_, nh, prefixes) in &c.announced {
        for p in prefixes {
            lines.push(format!(
                "neighbor {} announced route {p} next-hop {nh} {attrs}",
                peer.peer
            ));
        }
    }
    let flows = flow_changes(u);
    for (_, rules) in &flows.withdrawn {
        for r in rules {
            lines.push(format!(
                "neighbor {} withdrawn flow match {{ {} }}",
                peer.peer,
                r.match_text()
            ));
        }
    }
    for (_, _, rules) in &flows.announced {
        for r in rules {
            lines.push(format!(
                "neighbor {} announced flow match {{ {} }} {attrs}",
                peer.peer,
                r.match_text()
            ));
        }
    }
    let others = family_changes(u);
    for (_, list) in &others.withdrawn {
        for n in list {
            lines.push(format!("neighbor {} withdrawn {n}", peer.peer));
        }
    }
    for (_, nh, list) in &others.announced {
        for n in list {
            let nh = if nh.is_empty() {
                String::new()
            } else {
                format!(" next-hop {nh}")
            };
            lines.push(format!("neighbor {} announced {n}{nh} {attrs}", peer.peer));
        }
    }
    lines.join("\n")
}

/// ExaBGP 4's JSON `update` message: `attribute`, `announce` {family: {next hop: [nlri]}},
/// `withdraw` {family: [nlri]}; End-of-RIB as `eor`.
fn update_json(u: &Update) -> serde_json::Value {
    if let Some(f) = u.end_of_rib() {
        return json!({ "eor": { "afi": f.afi.to_u16(), "safi": f.safi.to_u8(), "family": f.to_string() } });
    }
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
}
