//! FlowSpec rules as JSON, for `bgpinject decode --json` and the events sent to helper
//! programs. Keys are fixed words; values (prefixes, ports, names) are never keys.
//!
//! A rule: `{"family": "ipv4", "text": "destination 192.0.2.0/24; protocol =tcp;",
//! "components": [...]}`. A component: `{"type": 1, "name": "destination", "text":
//! "192.0.2.0/24", ...}` with, for destination and source, `"prefix"` (address/length),
//! `"length"` and `"offset"` (RFC 8956, 0 for IPv4); for numeric components,
//! `"operators": [{"and", "comparison", "value", "value_name"}]`; for tcp-flags and
//! fragment, `"operators": [{"and", "not", "match", "value", "value_name"}]`. `and` is true
//! when the operator is ANDed with the one before it (RFC 8955 §4.2.1.1), `value_name` is
//! the configuration's word for the value (`tcp`, `syn`) or null.

use serde_json::{Value, json};

use super::{FlowComponent, FlowRule};
use crate::wire::family::Afi;

/// One rule as a JSON object.
pub fn rule_json(rule: &FlowRule) -> Value {
    let afi = rule.afi();
    json!({
        "family": if afi == Afi::Ipv6 { "ipv6" } else { "ipv4" },
        "text": rule.match_text(),
        "components": rule.components().iter().map(|c| component_json(c, afi)).collect::<Vec<_>>(),
    })
}

fn component_json(c: &FlowComponent, afi: Afi) -> Value {
    let mut v = json!({
        "type": c.type_code(),
        "name": c.keyword(afi),
        "text": c.values_text(),
    });
    match c {
        FlowComponent::Destination(p) | FlowComponent::Source(p) => {
            v["prefix"] = json!(format!("{}/{}", p.addr, p.len));
            v["length"] = json!(p.len);
            v["offset"] = json!(p.offset);
        }
        FlowComponent::TcpFlags(ops) | FlowComponent::Fragment(ops) => {
            v["operators"] = ops
                .iter()
                .map(|o| {
                    json!({
                        "and": o.and,
                        "not": o.not,
                        "match": o.matched,
                        "value": o.value,
                        "value_name": c.value_name(o.value),
                    })
                })
                .collect();
        }
        FlowComponent::Protocol(ops)
        | FlowComponent::Port(ops)
        | FlowComponent::DestinationPort(ops)
        | FlowComponent::SourcePort(ops)
        | FlowComponent::IcmpType(ops)
        | FlowComponent::IcmpCode(ops)
        | FlowComponent::PacketLength(ops)
        | FlowComponent::Dscp(ops)
        | FlowComponent::FlowLabel(ops) => {
            v["operators"] = ops
                .iter()
                .map(|o| {
                    json!({
                        "and": o.and,
                        "comparison": o.comparison(),
                        "value": o.value,
                        "value_name": c.value_name(o.value),
                    })
                })
                .collect();
        }
    }
    v
}
