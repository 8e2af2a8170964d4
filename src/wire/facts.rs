//! The facts of a decoded message as `(key, value)` text pairs: the vocabulary of the
//! `expect.*` lines in test vectors (test-vectors/README.md). One function owns every key,
//! so a vector, the decoder and the README stay in step.

use std::fmt::Display;

use super::attribute::{MpNextHop, MpNlri, PathAttribute, hex};
use super::capability::Capability;
use super::family::Family;
use super::flowspec;
use super::message::Message;
use super::open::Open;
use super::update::Update;

/// The keys [`facts`] produces besides the attribute table's (the README table, plus the
/// few documented below it).
const MESSAGE_KEYS: &[&str] = &[
    "type",
    "version",
    "asn",
    "hold_time",
    "router_id",
    "capabilities",
    "as4",
    "families",
    "withdrawn",
    "nlri",
    "mp_reach_family",
    "mp_reach_next_hop",
    "mp_reach_nlri",
    "mp_unreach_family",
    "mp_unreach_nlri",
    "eor",
    "code",
    "subcode",
    "family",
    "attributes",
    "shutdown",
    "data",
    "subtype",
    "as_path_effective",
];

/// Whether [`facts`] can produce `key`.
pub fn is_key(key: &str) -> bool {
    MESSAGE_KEYS.contains(&key)
        || crate::wire::attribute::ATTRIBUTES
            .iter()
            .any(|row| !row.fact.0.is_empty() && row.fact.0 == key)
}

/// `(key, value)` pairs in a stable order. List-valued keys of UPDATE (`withdrawn`, `nlri`)
/// are always present (empty when there are none); attribute keys only when the attribute is.
pub fn facts(msg: &Message) -> Vec<(&'static str, String)> {
    let mut out = vec![("type", msg.type_name().to_string())];
    match msg {
        Message::Open(o) => open_facts(o, &mut out),
        Message::Update(u) => update_facts(u, &mut out),
        Message::Notification(n) => {
            out.push(("code", n.code.to_string()));
            out.push(("subcode", n.subcode.to_string()));
            if let Some(text) = n.shutdown_communication() {
                out.push(("shutdown", text));
            } else if !n.data.is_empty() {
                out.push(("data", hex(&n.data)));
            }
        }
        Message::Keepalive => {}
        Message::RouteRefresh(rr) => {
            out.push(("family", rr.family.name()));
            out.push(("subtype", rr.subtype.to_string()));
        }
    }
    out
}

/// The value of one fact, if the message has it.
pub fn fact(msg: &Message, key: &str) -> Option<String> {
    facts(msg)
        .into_iter()
        .find(|(k, _)| *k == key)
        .map(|(_, v)| v)
}

fn join<T: Display>(items: impl IntoIterator<Item = T>) -> String {
    items
        .into_iter()
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(" ")
}

fn open_facts(o: &Open, out: &mut Vec<(&'static str, String)>) {
    out.push(("version", o.version.to_string()));
    out.push(("asn", o.my_as.to_string()));
    out.push(("hold_time", o.hold_time.to_string()));
    out.push(("router_id", o.router_id.to_string()));
    out.push((
        "capabilities",
        join(o.capabilities.iter().map(|c| c.code())),
    ));
    if let Some(a) = o.capabilities.iter().find_map(|c| match c {
        Capability::FourOctetAs(a) => Some(*a),
        _ => None,
    }) {
        out.push(("as4", a.to_string()));
    }
    out.push((
        "families",
        join(o.capabilities.iter().filter_map(|c| match c {
            Capability::Multiprotocol(f) => Some(f.name()),
            _ => None,
        })),
    ));
}

fn nlri_text(family: Family, n: &MpNlri) -> String {
    match n {
        MpNlri::Raw(r) if !r.is_empty() => match flowspec::family_rules(family, r) {
            Some(Ok(rules)) => flowspec::rules_text(&rules),
            _ => super::nlri::family_text(family, r).unwrap_or_else(|| format!("0x{}", hex(r))),
        },
        MpNlri::Prefixes(v) => join(v),
        MpNlri::Paths(v) => join(v),
        MpNlri::Labeled(v) => join(v),
        MpNlri::Raw(r) if r.is_empty() => String::new(),
        MpNlri::Raw(r) => format!("0x{}", hex(r)),
    }
}

/// The tunnel TLVs as `NAME { SUB; ... }` or `NAME disregarded`, space separated.
pub(crate) fn tunnel_text(value: &[u8]) -> String {
    match crate::wire::tunnel_encap::decode(value) {
        Ok(tlvs) => join(tlvs.iter().map(|t| {
            match &t.sub_tlvs {
                Ok(_) => t.to_string(),
                Err(_) => t
                    .to_string()
                    .split(" (")
                    .next()
                    .unwrap_or_default()
                    .to_string(),
            }
        })),
        Err(e) => format!("malformed: {e}"),
    }
}

fn update_facts(u: &Update, out: &mut Vec<(&'static str, String)>) {
    // With AS4_PATH present the sender was (or passed through) a 2-octet speaker: the path
    // a 4-octet speaker reconstructs (RFC 6793 §4.2.3).
    if u.attribute(crate::wire::attribute::type_code::AS4_PATH)
        .is_some()
        && let Some(p) = u.effective_as_path(false)
    {
        out.push(("as_path_effective", p.to_string()));
    }
    out.push(("withdrawn", join(u.withdrawn_text())));
    out.push(("nlri", join(u.nlri_text())));
    for a in &u.attributes {
        match a {
            PathAttribute::MpReach(m) => {
                out.push(("mp_reach_family", m.family.name()));
                let nh = match &m.next_hop {
                    MpNextHop::Addresses(v) => join(v),
                    // The zero route distinguisher in front of each address is implied.
                    MpNextHop::Vpn(v) => join(v),
                    MpNextHop::Raw(r) if r.is_empty() => String::new(),
                    MpNextHop::Raw(r) => match super::nlri::raw_next_hop(r) {
                        Some(a) => join(a),
                        None => format!("0x{}", hex(r)),
                    },
                };
                out.push(("mp_reach_next_hop", nh));
                out.push(("mp_reach_nlri", nlri_text(m.family, &m.nlri)));
            }
            PathAttribute::MpUnreach(m) => {
                out.push(("mp_unreach_family", m.family.name()));
                out.push(("mp_unreach_nlri", nlri_text(m.family, &m.nlri)));
            }
            other => out.extend(other.fact()),
        }
    }
    // Type codes in wire order: shows unknown attributes kept and malformed ones dropped.
    out.push(("attributes", join(u.attributes.iter().map(|a| a.code()))));
    if let Some(f) = u.end_of_rib() {
        out.push(("eor", f.name()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::community::Community;
    use crate::wire::family::Family;

    #[test]
    fn communities_are_numeric_and_eor_is_named() {
        let u = Update {
            attributes: vec![PathAttribute::Communities(vec![Community(0xFFFF_FF01)])],
            ..Update::default()
        };
        let f = facts(&Message::Update(u));
        assert!(f.contains(&("communities", "65535:65281".into())));
        let eor = Message::Update(Update::end_of_rib_marker(Family::IPV6_UNICAST));
        assert_eq!(fact(&eor, "eor").as_deref(), Some("ipv6-unicast"));
        assert_eq!(fact(&eor, "mp_unreach_nlri").as_deref(), Some(""));
    }
}
