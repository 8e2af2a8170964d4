//! Decoding errors. Each is a typed value that knows which of the three RFC 7606 actions
//! applies and, for a session reset, which NOTIFICATION to send.

use std::fmt;

use super::notification::{Notification, code, subcode};
use super::reader::Truncated;

/// What RFC 7606 (and RFC 4271 §6) says to do about an error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ErrorAction {
    /// RFC 7606 §2 "attribute discard": drop the attribute, keep the rest of the UPDATE.
    AttributeDiscard,
    /// RFC 7606 §2 "treat-as-withdraw": the UPDATE's NLRI are withdrawn.
    TreatAsWithdraw,
    /// RFC 4271: send this NOTIFICATION and close the session.
    SessionReset(Notification),
}

impl fmt::Display for ErrorAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErrorAction::AttributeDiscard => f.write_str("attribute-discard"),
            ErrorAction::TreatAsWithdraw => f.write_str("treat-as-withdraw"),
            ErrorAction::SessionReset(n) => write!(f, "session-reset {}/{}", n.code, n.subcode),
        }
    }
}

/// What is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DecodeErrorKind {
    /// A field needed more bytes than its container had.
    Truncated {
        what: &'static str,
        needed: usize,
        available: usize,
    },
    /// The 16-octet marker is not all ones.
    BadMarker,
    BadMessageLength(u16),
    BadMessageType(u8),
    UnsupportedVersion(u8),
    /// RFC 4271 §6.2: hold time 1 or 2.
    UnacceptableHoldTime(u16),
    BadBgpIdentifier,
    UnsupportedOptionalParameter(u8),
    /// Optional parameters or capabilities whose lengths do not add up.
    MalformedOptionalParameters,
    /// RFC 4271 §6.3: the withdrawn or attribute length overruns the message.
    MalformedAttributeList,
    /// A well-known attribute we do not know.
    UnrecognizedWellKnownAttribute(u8),
    MissingWellKnownAttribute(u8),
    /// RFC 7606 §3 (c): optional/transitive bits conflict with the attribute's definition.
    AttributeFlags {
        type_code: u8,
        flags: u8,
    },
    AttributeLength {
        type_code: u8,
        length: usize,
    },
    InvalidOrigin(u8),
    MalformedAsPath,
    InvalidNextHop,
    /// A second MP_REACH_NLRI or MP_UNREACH_NLRI (RFC 7606 §3 (g)).
    DuplicateMpAttribute(u8),
    /// A prefix longer than its family allows, or NLRI bytes that run past their field.
    InvalidNetworkField,
    /// MP_REACH_NLRI next hop whose length fits no known form.
    InvalidMpNextHop(usize),
    RouteRefreshLength(u16),
    /// A FlowSpec NLRI that does not decode (RFC 8955 §4.2, RFC 8956 §3).
    MalformedFlowSpec(crate::wire::flowspec::FlowError),
    /// NLRI of a `wire::nlri` family (EVPN, VPLS, MUP, ...) that do not decode.
    MalformedFamilyNlri {
        family: crate::wire::family::Family,
        error: crate::wire::nlri::NlriError,
    },
    /// A capability we know whose length or content is wrong.
    MalformedCapability(crate::wire::capability::CapabilityError),
    /// A Tunnel Encapsulation attribute whose TLVs cannot be parsed (RFC 9012 §13).
    MalformedTunnelEncapsulation(crate::wire::tunnel_encap::Malformed),
    /// An attribute whose value does not parse (PMSI tunnel, Prefix-SID): its name and why.
    MalformedValue {
        name: &'static str,
        why: String,
    },
}

/// A decoding error: what, where (byte offset in the message) and, derived from those,
/// what to do about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodeError {
    pub kind: DecodeErrorKind,
    /// Offset in the message (marker included) where the problem was found.
    pub offset: usize,
    /// The action; set by the decoder that knows the context (e.g. which attribute).
    pub action: ErrorAction,
}

impl DecodeError {
    pub fn new(kind: DecodeErrorKind, offset: usize, action: ErrorAction) -> DecodeError {
        DecodeError {
            kind,
            offset,
            action,
        }
    }

    /// An error that resets the session with `code`/`subcode`, no data.
    pub fn reset(kind: DecodeErrorKind, offset: usize, code: u8, subcode: u8) -> DecodeError {
        DecodeError::new(
            kind,
            offset,
            ErrorAction::SessionReset(Notification::new(code, subcode, Vec::new())),
        )
    }

    /// A truncated field inside a message: by default a header-level length problem.
    pub fn truncated(what: &'static str, t: Truncated) -> DecodeError {
        DecodeError::reset(
            DecodeErrorKind::Truncated {
                what,
                needed: t.needed,
                available: t.available,
            },
            t.offset,
            code::MESSAGE_HEADER,
            subcode::BAD_MESSAGE_LENGTH,
        )
    }

    pub fn with_action(mut self, action: ErrorAction) -> DecodeError {
        self.action = action;
        self
    }

    pub fn notification(&self) -> Option<&Notification> {
        match &self.action {
            ErrorAction::SessionReset(n) => Some(n),
            _ => None,
        }
    }
}

impl fmt::Display for DecodeErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use DecodeErrorKind::*;
        match self {
            Truncated {
                what,
                needed,
                available,
            } => write!(
                f,
                "{what} truncated: needs {needed} bytes, {available} left"
            ),
            BadMarker => f.write_str("marker is not 16 octets of ones"),
            BadMessageLength(l) => write!(f, "bad message length {l}"),
            BadMessageType(t) => write!(f, "unknown message type {t}"),
            UnsupportedVersion(v) => write!(f, "unsupported BGP version {v}"),
            UnacceptableHoldTime(h) => write!(f, "unacceptable hold time {h}"),
            BadBgpIdentifier => f.write_str("bad BGP identifier"),
            UnsupportedOptionalParameter(p) => write!(f, "unsupported optional parameter {p}"),
            MalformedOptionalParameters => f.write_str("optional parameter lengths do not add up"),
            MalformedAttributeList => f.write_str("malformed attribute list"),
            UnrecognizedWellKnownAttribute(c) => {
                write!(f, "unrecognized well-known attribute {c}")
            }
            MissingWellKnownAttribute(c) => write!(f, "missing well-known attribute {c}"),
            AttributeFlags { type_code, flags } => {
                write!(f, "attribute {type_code} has wrong flags 0x{flags:02x}")
            }
            AttributeLength { type_code, length } => {
                write!(f, "attribute {type_code} has wrong length {length}")
            }
            InvalidOrigin(o) => write!(f, "invalid ORIGIN value {o}"),
            MalformedAsPath => f.write_str("malformed AS_PATH"),
            InvalidNextHop => f.write_str("invalid NEXT_HOP"),
            DuplicateMpAttribute(c) => write!(f, "attribute {c} appears twice"),
            InvalidNetworkField => f.write_str("invalid network field (NLRI)"),
            InvalidMpNextHop(l) => write!(f, "MP_REACH_NLRI next hop of length {l}"),
            RouteRefreshLength(l) => write!(f, "ROUTE-REFRESH of length {l}"),
            MalformedFlowSpec(e) => write!(f, "malformed FlowSpec NLRI: {e}"),
            MalformedFamilyNlri { family, error } => write!(f, "malformed {family} NLRI: {error}"),
            MalformedCapability(e) => write!(f, "{e}"),
            MalformedTunnelEncapsulation(e) => {
                write!(f, "malformed TUNNEL_ENCAPSULATION attribute: {e}")
            }
            MalformedValue { name, why } => write!(f, "malformed {name} attribute: {why}"),
        }
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at byte {} ({})", self.kind, self.offset, self.action)
    }
}

impl std::error::Error for DecodeError {}
