//! FlowSpec NLRI (RFC 8955 for IPv4, RFC 8956 for IPv6): a [`FlowRule`] is an ordered list of
//! match components, encoded behind a 1- or 2-octet length. The actions travel as extended
//! communities, built in [`action`].

pub mod action;
mod component;
pub mod json;
mod operator;

use std::fmt;

pub use component::{
    FRAGMENT_NAMES, FlowComponent, FlowPrefix, ICMP_CODE_NAMES, ICMP_TYPE_NAMES, PROTOCOL_NAMES,
    TCP_FLAG_NAMES, component_type, value_by_name,
};
pub use operator::{BitmaskOp, NumericOp};

use crate::wire::family::{Afi, Family, Safi};
use crate::wire::labeled::{RD_LEN, RouteDistinguisher};
use crate::wire::reader::{Reader, Truncated};

/// RFC 8955 §4.1: lengths from 240 on take two octets, the first with its high nibble 0xF.
const TWO_OCTET_LENGTH_FROM: usize = 240;
const TWO_OCTET_LENGTH_FLAG: u8 = 0xF0;
/// The largest length the 2-octet form can carry (12 bits).
pub const MAX_NLRI_LEN: usize = 0x0FFF;

/// Why a flow rule could not be decoded or built. Offsets count from the start of the
/// buffer given to the decoder.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FlowError {
    Truncated {
        offset: usize,
    },
    /// A 2-octet length whose first octet does not start with 0xF.
    BadLength {
        offset: usize,
    },
    Empty {
        offset: usize,
    },
    NlriTooLong {
        len: usize,
    },
    UnknownComponent {
        type_code: u8,
        offset: usize,
    },
    /// RFC 8955 §4.2: types must strictly increase (BIRD's "Bad component order").
    ComponentOrder {
        previous: u8,
        found: u8,
    },
    PrefixTooLong {
        type_code: u8,
        len: u8,
    },
    OffsetBeyondLength {
        type_code: u8,
        offset: usize,
    },
    ReservedOperatorBits {
        type_code: u8,
        offset: usize,
    },
    FirstOperatorAnd {
        type_code: u8,
        offset: usize,
    },
    /// A component that needs a family the rule is not of (an IPv6 prefix in an IPv4 rule).
    WrongFamily {
        type_code: u8,
    },
    /// Address bits set outside the matched `offset..length` bits.
    BitsOutsidePattern {
        type_code: u8,
    },
    /// A component with no operator at all.
    EmptyComponent {
        type_code: u8,
    },
    /// Bytes left over after a length-delimited rule.
    TrailingBytes {
        offset: usize,
    },
    /// RFC 8955 §4.1: the rule's length runs past the end of the NLRI field.
    LengthOverrun {
        offset: usize,
        len: usize,
        available: usize,
    },
    /// RFC 8955 §4.2.1: the rule ends before an operator with the end-of-list bit.
    NoEndOfList {
        type_code: u8,
    },
}

impl From<Truncated> for FlowError {
    fn from(t: Truncated) -> FlowError {
        FlowError::Truncated { offset: t.offset }
    }
}

impl fmt::Display for FlowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FlowError::Truncated { offset } => write!(f, "flow NLRI truncated at offset {offset}"),
            FlowError::BadLength { offset } => {
                write!(f, "bad flow NLRI length octet at offset {offset}")
            }
            FlowError::Empty { offset } => write!(f, "empty flow rule at offset {offset}"),
            FlowError::NlriTooLong { len } => {
                write!(f, "flow rule of {len} octets, at most {MAX_NLRI_LEN} fit")
            }
            FlowError::UnknownComponent { type_code, offset } => {
                write!(
                    f,
                    "unknown flow component type {type_code} at offset {offset}"
                )
            }
            FlowError::ComponentOrder { previous, found } => write!(
                f,
                "flow component type {found} after type {previous}: types must strictly increase"
            ),
            FlowError::PrefixTooLong { type_code, len } => {
                write!(
                    f,
                    "prefix length {len} too long in flow component {type_code}"
                )
            }
            FlowError::OffsetBeyondLength { type_code, offset } => write!(
                f,
                "prefix offset beyond its length in flow component {type_code} at offset {offset}"
            ),
            FlowError::ReservedOperatorBits { type_code, offset } => write!(
                f,
                "reserved operator bits set in flow component {type_code} at offset {offset}"
            ),
            FlowError::FirstOperatorAnd { type_code, offset } => write!(
                f,
                "first operator of flow component {type_code} has the AND bit, at offset {offset}"
            ),
            FlowError::WrongFamily { type_code } => {
                write!(
                    f,
                    "flow component {type_code} does not belong to this family"
                )
            }
            FlowError::BitsOutsidePattern { type_code } => write!(
                f,
                "address bits set outside the matched bits in flow component {type_code}"
            ),
            FlowError::EmptyComponent { type_code } => {
                write!(f, "flow component {type_code} has no operator")
            }
            FlowError::TrailingBytes { offset } => {
                write!(f, "bytes left after the flow rule at offset {offset}")
            }
            FlowError::LengthOverrun {
                offset,
                len,
                available,
            } => write!(
                f,
                "flow rule at offset {offset} has length {len}, only {available} octets follow (RFC 8955 §4.1)"
            ),
            FlowError::NoEndOfList { type_code } => write!(
                f,
                "operator list of flow component {type_code} has no end-of-list bit (RFC 8955 §4.2.1)"
            ),
        }
    }
}

impl std::error::Error for FlowError {}

/// One flow specification: an address family and its components in strictly increasing
/// type order (which [`FlowRule::new`] enforces, so every rule encodes as RFC 8955 §4.2
/// requires), and for FlowSpec VPN (SAFI 134, RFC 8955 §8) the route distinguisher of the
/// VPN it applies to. Ordered so that route sets can sort and diff rules; two rules that
/// differ only by RD are two NLRI.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FlowRule {
    afi: Afi,
    rd: Option<RouteDistinguisher>,
    components: Vec<FlowComponent>,
}

impl FlowRule {
    /// Sorts `components` by type and checks the rule: not empty, each type once, every
    /// component of the family, and an encoding that fits the 12-bit length.
    pub fn new(afi: Afi, mut components: Vec<FlowComponent>) -> Result<FlowRule, FlowError> {
        components.sort_by_key(FlowComponent::type_code);
        for pair in components.windows(2) {
            if pair[0].type_code() == pair[1].type_code() {
                return Err(FlowError::ComponentOrder {
                    previous: pair[0].type_code(),
                    found: pair[1].type_code(),
                });
            }
        }
        let rule = FlowRule {
            afi,
            rd: None,
            components,
        };
        rule.check()?;
        Ok(rule)
    }

    /// The same rule scoped to the VPN of `rd` (FlowSpec VPN), or made plain FlowSpec again
    /// (`None`); fails when the RD no longer lets the NLRI fit its 12-bit length.
    pub fn with_rd(mut self, rd: Option<RouteDistinguisher>) -> Result<FlowRule, FlowError> {
        self.rd = rd;
        self.check()?;
        Ok(self)
    }

    /// The route distinguisher of a FlowSpec VPN rule.
    pub fn rd(&self) -> Option<RouteDistinguisher> {
        self.rd
    }

    /// IPv4 or IPv6 FlowSpec, or FlowSpec VPN when the rule has an RD.
    pub fn family(&self) -> Family {
        let safi = if self.rd.is_some() {
            Safi::FlowSpecVpn
        } else {
            Safi::FlowSpec
        };
        Family::new(self.afi, safi)
    }

    fn check(&self) -> Result<(), FlowError> {
        if self.components.is_empty() {
            return Err(FlowError::Empty { offset: 0 });
        }
        for c in &self.components {
            if c.afi().is_some_and(|a| a != self.afi) {
                return Err(FlowError::WrongFamily {
                    type_code: c.type_code(),
                });
            }
            let empty = match c {
                FlowComponent::Destination(p) | FlowComponent::Source(p) => {
                    if !p.is_canonical() {
                        return Err(FlowError::BitsOutsidePattern {
                            type_code: c.type_code(),
                        });
                    }
                    false
                }
                FlowComponent::TcpFlags(o) | FlowComponent::Fragment(o) => o.is_empty(),
                FlowComponent::Protocol(o)
                | FlowComponent::Port(o)
                | FlowComponent::DestinationPort(o)
                | FlowComponent::SourcePort(o)
                | FlowComponent::IcmpType(o)
                | FlowComponent::IcmpCode(o)
                | FlowComponent::PacketLength(o)
                | FlowComponent::Dscp(o)
                | FlowComponent::FlowLabel(o) => o.is_empty(),
            };
            if empty {
                return Err(FlowError::EmptyComponent {
                    type_code: c.type_code(),
                });
            }
        }
        let len = self.value_len();
        if len > MAX_NLRI_LEN {
            return Err(FlowError::NlriTooLong { len });
        }
        Ok(())
    }

    pub fn afi(&self) -> Afi {
        self.afi
    }

    pub fn components(&self) -> &[FlowComponent] {
        &self.components
    }

    /// Octets the length field counts: the RD (FlowSpec VPN) and the components.
    fn value_len(&self) -> usize {
        self.rd.map_or(0, |_| RD_LEN) + self.components_len()
    }

    /// Octets on the wire, length field included.
    pub fn wire_len(&self) -> usize {
        let len = self.value_len();
        len + if len >= TWO_OCTET_LENGTH_FROM { 2 } else { 1 }
    }

    /// Appends the NLRI: length (1 or 2 octets), the RD of a FlowSpec VPN rule (RFC 8955
    /// §8), and the components.
    pub fn emit(&self, out: &mut Vec<u8>) {
        emit_length(self.value_len(), out);
        if let Some(rd) = self.rd {
            out.extend_from_slice(&rd.0);
        }
        self.emit_components(out);
    }

    /// Appends the components alone (FlowSpec VPN puts a route distinguisher between the
    /// length and them).
    pub fn emit_components(&self, out: &mut Vec<u8>) {
        self.components.iter().for_each(|c| c.emit(out));
    }

    /// Octets of the components alone.
    pub fn components_len(&self) -> usize {
        self.components.iter().map(FlowComponent::wire_len).sum()
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(self.wire_len());
        self.emit(&mut v);
        v
    }

    /// Reads one NLRI (length and components) of family `afi`.
    pub fn read(r: &mut Reader, afi: Afi) -> Result<FlowRule, FlowError> {
        let mut body = read_length_delimited(r)?;
        FlowRule::read_components(&mut body, afi)
    }

    /// Reads components up to the end of `body` (the value of one NLRI, after its length
    /// and, for FlowSpec VPN, its route distinguisher).
    pub fn read_components(body: &mut Reader, afi: Afi) -> Result<FlowRule, FlowError> {
        if body.is_empty() {
            return Err(FlowError::Empty {
                offset: body.offset(),
            });
        }
        let mut components: Vec<FlowComponent> = Vec::new();
        while !body.is_empty() {
            let c = FlowComponent::read(body, afi)?;
            if let Some(previous) = components.last()
                && previous.type_code() >= c.type_code()
            {
                return Err(FlowError::ComponentOrder {
                    previous: previous.type_code(),
                    found: c.type_code(),
                });
            }
            components.push(c);
        }
        let rule = FlowRule {
            afi,
            rd: None,
            components,
        };
        rule.check()?;
        Ok(rule)
    }

    /// Decodes exactly one NLRI from `bytes`.
    pub fn decode(bytes: &[u8], afi: Afi) -> Result<FlowRule, FlowError> {
        let mut r = Reader::new(bytes);
        let rule = FlowRule::read(&mut r, afi)?;
        if !r.is_empty() {
            return Err(FlowError::TrailingBytes { offset: r.offset() });
        }
        Ok(rule)
    }
}

/// RFC 8955 §4.1: the NLRI length, one octet below 240, else two with the high nibble 0xF.
pub fn emit_length(len: usize, out: &mut Vec<u8>) {
    if len >= TWO_OCTET_LENGTH_FROM {
        out.push(TWO_OCTET_LENGTH_FLAG | (len >> 8) as u8);
        out.push(len as u8);
    } else {
        out.push(len as u8);
    }
}

/// Octets of the length field for a value of `len` octets.
pub fn length_len(len: usize) -> usize {
    if len >= TWO_OCTET_LENGTH_FROM { 2 } else { 1 }
}

/// Reads an RFC 8955 §4.1 length and returns a reader over the value it delimits.
pub fn read_length_delimited<'a>(r: &mut Reader<'a>) -> Result<Reader<'a>, FlowError> {
    let at = r.offset();
    let first = r.u8()?;
    let len = if first >= TWO_OCTET_LENGTH_FLAG {
        ((first as usize & 0x0F) << 8) | r.u8()? as usize
    } else if first as usize >= TWO_OCTET_LENGTH_FROM {
        return Err(FlowError::BadLength { offset: at });
    } else {
        first as usize
    };
    if len == 0 {
        return Err(FlowError::Empty { offset: at });
    }
    let available = r.remaining();
    r.sub(len).map_err(|_| FlowError::LengthOverrun {
        offset: at,
        len,
        available,
    })
}

/// Decodes the NLRI field of an MP_REACH or MP_UNREACH of a FlowSpec family.
pub fn decode_nlri_list(bytes: &[u8], afi: Afi) -> Result<Vec<FlowRule>, FlowError> {
    let mut r = Reader::new(bytes);
    let mut rules = Vec::new();
    while !r.is_empty() {
        rules.push(FlowRule::read(&mut r, afi)?);
    }
    Ok(rules)
}

/// The rules of a FlowSpec NLRI field where each rule follows its RFC 7911 path identifier
/// (ADD-PATH received for the family): `(path id, rule)` in order.
pub fn decode_nlri_paths(bytes: &[u8], afi: Afi) -> Result<Vec<(u32, FlowRule)>, FlowError> {
    let mut r = Reader::new(bytes);
    let mut rules = Vec::new();
    while !r.is_empty() {
        let id = r.u32()?;
        rules.push((id, FlowRule::read(&mut r, afi)?));
    }
    Ok(rules)
}

/// The address family of a FlowSpec family's rules (RFC 8955 IPv4, RFC 8956 IPv6), or
/// `None` for any other family (FlowSpec VPN included: its NLRI carry a route
/// distinguisher and are shown raw).
pub fn flow_afi(family: Family) -> Option<Afi> {
    match (family.afi, family.safi) {
        (Afi::Ipv4 | Afi::Ipv6, Safi::FlowSpec) => Some(family.afi),
        _ => None,
    }
}

/// The rules of `family`'s NLRI field, when `family` is IPv4 or IPv6 FlowSpec.
pub fn family_rules(family: Family, nlri: &[u8]) -> Option<Result<Vec<FlowRule>, FlowError>> {
    flow_afi(family).map(|afi| decode_nlri_list(nlri, afi))
}

/// Rules as text: `match { ... }` for each, space separated (see [`FlowRule::match_text`]).
pub fn rules_text(rules: &[FlowRule]) -> String {
    rules
        .iter()
        .map(|r| format!("match {{ {} }}", r.match_text()))
        .collect::<Vec<_>>()
        .join(" ")
}

impl FlowRule {
    /// The statements of the configuration's `match { }` block that build this rule:
    /// `destination 192.0.2.0/24; protocol =tcp; destination-port [ =80 =443 ];`.
    pub fn match_text(&self) -> String {
        self.components
            .iter()
            .map(|c| format!("{} {};", c.keyword(self.afi), c.values_text()))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

impl fmt::Display for FlowRule {
    /// `flow ipv4 destination 192.0.2.0/24 protocol =tcp destination-port [ =80 =443 ]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.afi {
            Afi::Ipv6 => "flow ipv6",
            _ => "flow ipv4",
        })?;
        for c in &self.components {
            f.write_str(" ")?;
            c.write(f, self.afi)?;
        }
        match self.rd {
            Some(rd) => write!(f, " rd {rd}"),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests;
