//! FlowSpec VPN NLRI (RFC 8955 §8, RFC 8956, SAFI 134): the RFC 8955 §4.1 length, then a
//! route distinguisher, then the components of a FlowSpec rule (the codec of
//! [`crate::wire::flowspec`]).
//!
//! JSON: the FlowSpec rule's object (`family`, `text`, `components`, see
//! src/wire/flowspec/json.rs) with `"rd"`, as ExaBGP adds `rd` to a flow route's fields.

use std::fmt;

use serde_json::{Value, json};

use super::{NlriError, NlriErrorKind, read_rd};
use crate::wire::family::Afi;
use crate::wire::flowspec::{self, FlowRule};
use crate::wire::labeled::{RD_LEN, RouteDistinguisher};
use crate::wire::reader::Reader;

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FlowVpn {
    pub rd: RouteDistinguisher,
    pub rule: FlowRule,
}

fn flow_error(e: flowspec::FlowError) -> NlriError {
    let offset = match &e {
        flowspec::FlowError::Truncated { offset }
        | flowspec::FlowError::BadLength { offset }
        | flowspec::FlowError::Empty { offset }
        | flowspec::FlowError::UnknownComponent { offset, .. }
        | flowspec::FlowError::OffsetBeyondLength { offset, .. }
        | flowspec::FlowError::ReservedOperatorBits { offset, .. }
        | flowspec::FlowError::FirstOperatorAnd { offset, .. }
        | flowspec::FlowError::TrailingBytes { offset }
        | flowspec::FlowError::LengthOverrun { offset, .. } => *offset,
        _ => 0,
    };
    NlriError {
        offset,
        kind: NlriErrorKind::Flow(e),
    }
}

impl FlowVpn {
    pub fn read(r: &mut Reader, afi: Afi) -> Result<FlowVpn, NlriError> {
        let mut body = flowspec::read_length_delimited(r).map_err(flow_error)?;
        let rd = read_rd(&mut body)?;
        let rule = FlowRule::read_components(&mut body, afi).map_err(flow_error)?;
        Ok(FlowVpn { rd, rule })
    }

    /// Octets of RD and components (the value the length field counts).
    fn value_len(&self) -> usize {
        RD_LEN + self.rule.components_len()
    }

    /// Whether the rule and its RD fit the 12-bit length.
    pub fn fits(&self) -> bool {
        self.value_len() <= flowspec::MAX_NLRI_LEN
    }

    pub fn emit(&self, out: &mut Vec<u8>) {
        flowspec::emit_length(self.value_len(), out);
        out.extend_from_slice(&self.rd.0);
        self.rule.emit_components(out);
    }

    /// The rule with its RD, as a FlowSpec VPN route is configured.
    pub fn into_rule(self) -> Result<FlowRule, flowspec::FlowError> {
        self.rule.with_rd(Some(self.rd))
    }

    pub fn json(&self) -> Value {
        let mut v = flowspec::json::rule_json(&self.rule);
        v["rd"] = json!(self.rd.to_string());
        v
    }
}

impl fmt::Display for FlowVpn {
    /// `flow-vpn rd 65000:1 match { destination 192.0.2.0/24; protocol =tcp; }`: the
    /// words of ExaBGP's `flow { route { rd ...; match { } } }`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "flow-vpn rd {} match {{ {} }}",
            self.rd,
            self.rule.match_text()
        )
    }
}

/// The rules (each with its RD) of a FlowSpec VPN NLRI field.
pub fn decode_rules(bytes: &[u8], afi: Afi) -> Result<Vec<FlowRule>, NlriError> {
    let mut r = Reader::new(bytes);
    let mut rules = Vec::new();
    while !r.is_empty() {
        rules.push(read_rule(&mut r, afi)?);
    }
    Ok(rules)
}

/// One rule with its RD, an error placed at the rule's first octet.
fn read_rule(r: &mut Reader, afi: Afi) -> Result<FlowRule, NlriError> {
    let at = r.offset();
    FlowVpn::read(r, afi)?.into_rule().map_err(|e| NlriError {
        offset: at,
        kind: NlriErrorKind::Flow(e),
    })
}

/// [`decode_rules`] where each rule follows its RFC 7911 path identifier (ADD-PATH received
/// for the family): `(path id, rule)` in order.
pub fn decode_rule_paths(bytes: &[u8], afi: Afi) -> Result<Vec<(u32, FlowRule)>, NlriError> {
    let mut r = Reader::new(bytes);
    let mut rules = Vec::new();
    while !r.is_empty() {
        let at = r.offset();
        let id = r.u32().map_err(|_| NlriError {
            offset: at,
            kind: NlriErrorKind::Flow(flowspec::FlowError::Truncated { offset: at }),
        })?;
        rules.push((id, read_rule(&mut r, afi)?));
    }
    Ok(rules)
}
