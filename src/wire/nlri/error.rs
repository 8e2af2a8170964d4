//! Why the NLRI of a family decoded here is refused: what was being read, where, and what
//! was expected. Offsets count from the start of the NLRI field given to the decoder.

use std::fmt;

use crate::wire::flowspec::FlowError;
use crate::wire::reader::Truncated;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NlriError {
    /// Octet of the NLRI field where the problem starts.
    pub offset: usize,
    pub kind: NlriErrorKind,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NlriErrorKind {
    /// The field ends before `what` (which needed `needed` octets, `available` were left).
    Truncated {
        what: &'static str,
        needed: usize,
        available: usize,
    },
    /// A length field (or a whole NLRI) of a length the encoding does not allow.
    Length {
        what: &'static str,
        found: usize,
        expected: &'static str,
    },
    /// A value outside its range.
    Value {
        what: &'static str,
        found: u64,
        expected: &'static str,
    },
    /// Octets left inside an NLRI after its last field.
    Trailing { what: &'static str, extra: usize },
    /// The FlowSpec rule of a FlowSpec VPN NLRI.
    Flow(FlowError),
}

impl NlriError {
    pub(crate) fn truncated(what: &'static str, t: Truncated) -> NlriError {
        NlriError {
            offset: t.offset,
            kind: NlriErrorKind::Truncated {
                what,
                needed: t.needed,
                available: t.available,
            },
        }
    }

    pub(crate) fn length(
        offset: usize,
        what: &'static str,
        found: usize,
        expected: &'static str,
    ) -> NlriError {
        NlriError {
            offset,
            kind: NlriErrorKind::Length {
                what,
                found,
                expected,
            },
        }
    }

    pub(crate) fn value(
        offset: usize,
        what: &'static str,
        found: u64,
        expected: &'static str,
    ) -> NlriError {
        NlriError {
            offset,
            kind: NlriErrorKind::Value {
                what,
                found,
                expected,
            },
        }
    }
}

impl fmt::Display for NlriError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = self.offset;
        match &self.kind {
            NlriErrorKind::Truncated {
                what,
                needed,
                available,
            } => write!(
                f,
                "{what} truncated at octet {at}: {needed} octets needed, {available} left"
            ),
            NlriErrorKind::Length {
                what,
                found,
                expected,
            } => write!(
                f,
                "{what} at octet {at} has length {found}, expected {expected}"
            ),
            NlriErrorKind::Value {
                what,
                found,
                expected,
            } => write!(f, "{what} at octet {at} is {found}, expected {expected}"),
            NlriErrorKind::Trailing { what, extra } => {
                write!(f, "{extra} octets left after the {what} at octet {at}")
            }
            NlriErrorKind::Flow(e) => write!(f, "flow rule of a FlowSpec VPN NLRI: {e}"),
        }
    }
}

impl std::error::Error for NlriError {}
