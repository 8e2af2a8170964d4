//! NOTIFICATION message (RFC 4271 §4.5) with code/subcode names, and the shutdown
//! communication of RFC 9003 (Cease subcodes 2 and 4).

use std::fmt;

/// RFC 4271 §4.5 error codes.
pub mod code {
    pub const MESSAGE_HEADER: u8 = 1;
    pub const OPEN_MESSAGE: u8 = 2;
    pub const UPDATE_MESSAGE: u8 = 3;
    pub const HOLD_TIMER_EXPIRED: u8 = 4;
    pub const FSM: u8 = 5;
    pub const CEASE: u8 = 6;
    /// RFC 7313 §5.
    pub const ROUTE_REFRESH: u8 = 7;
}

/// Subcodes, by the code they belong to.
pub mod subcode {
    // Message header (RFC 4271 §6.1)
    pub const CONNECTION_NOT_SYNCHRONIZED: u8 = 1;
    pub const BAD_MESSAGE_LENGTH: u8 = 2;
    pub const BAD_MESSAGE_TYPE: u8 = 3;
    // OPEN (RFC 4271 §6.2, RFC 5492 §5)
    pub const UNSUPPORTED_VERSION: u8 = 1;
    pub const BAD_PEER_AS: u8 = 2;
    pub const BAD_BGP_IDENTIFIER: u8 = 3;
    pub const UNSUPPORTED_OPTIONAL_PARAMETER: u8 = 4;
    pub const UNACCEPTABLE_HOLD_TIME: u8 = 6;
    pub const UNSUPPORTED_CAPABILITY: u8 = 7;
    /// RFC 9234 §4.2.
    pub const ROLE_MISMATCH: u8 = 11;
    // UPDATE (RFC 4271 §6.3)
    pub const MALFORMED_ATTRIBUTE_LIST: u8 = 1;
    pub const UNRECOGNIZED_WELL_KNOWN_ATTRIBUTE: u8 = 2;
    pub const MISSING_WELL_KNOWN_ATTRIBUTE: u8 = 3;
    pub const ATTRIBUTE_FLAGS_ERROR: u8 = 4;
    pub const ATTRIBUTE_LENGTH_ERROR: u8 = 5;
    pub const INVALID_ORIGIN_ATTRIBUTE: u8 = 6;
    pub const INVALID_NEXT_HOP_ATTRIBUTE: u8 = 8;
    pub const OPTIONAL_ATTRIBUTE_ERROR: u8 = 9;
    pub const INVALID_NETWORK_FIELD: u8 = 10;
    pub const MALFORMED_AS_PATH: u8 = 11;
    // Cease (RFC 4486)
    pub const MAXIMUM_PREFIXES_REACHED: u8 = 1;
    pub const ADMINISTRATIVE_SHUTDOWN: u8 = 2;
    pub const PEER_DECONFIGURED: u8 = 3;
    pub const ADMINISTRATIVE_RESET: u8 = 4;
    pub const CONNECTION_REJECTED: u8 = 5;
    pub const OTHER_CONFIGURATION_CHANGE: u8 = 6;
    pub const CONNECTION_COLLISION_RESOLUTION: u8 = 7;
    pub const OUT_OF_RESOURCES: u8 = 8;
    pub const HARD_RESET: u8 = 9;
    pub const BFD_DOWN: u8 = 10;
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notification {
    pub code: u8,
    pub subcode: u8,
    pub data: Vec<u8>,
}

impl Notification {
    pub fn new(code: u8, subcode: u8, data: Vec<u8>) -> Notification {
        Notification {
            code,
            subcode,
            data,
        }
    }

    /// Cease / Administrative Shutdown with an RFC 9003 shutdown communication.
    pub fn administrative_shutdown(reason: &str) -> Notification {
        Notification::new(
            code::CEASE,
            subcode::ADMINISTRATIVE_SHUTDOWN,
            shutdown_communication(reason),
        )
    }

    pub fn code_name(&self) -> &'static str {
        match self.code {
            code::MESSAGE_HEADER => "Message Header Error",
            code::OPEN_MESSAGE => "OPEN Message Error",
            code::UPDATE_MESSAGE => "UPDATE Message Error",
            code::HOLD_TIMER_EXPIRED => "Hold Timer Expired",
            code::FSM => "Finite State Machine Error",
            code::CEASE => "Cease",
            code::ROUTE_REFRESH => "ROUTE-REFRESH Message Error",
            _ => "Unknown error code",
        }
    }

    pub fn subcode_name(&self) -> &'static str {
        use subcode::*;
        match (self.code, self.subcode) {
            (_, 0) => "Unspecific",
            (code::MESSAGE_HEADER, CONNECTION_NOT_SYNCHRONIZED) => "Connection Not Synchronized",
            (code::MESSAGE_HEADER, BAD_MESSAGE_LENGTH) => "Bad Message Length",
            (code::MESSAGE_HEADER, BAD_MESSAGE_TYPE) => "Bad Message Type",
            (code::OPEN_MESSAGE, UNSUPPORTED_VERSION) => "Unsupported Version Number",
            (code::OPEN_MESSAGE, BAD_PEER_AS) => "Bad Peer AS",
            (code::OPEN_MESSAGE, BAD_BGP_IDENTIFIER) => "Bad BGP Identifier",
            (code::OPEN_MESSAGE, UNSUPPORTED_OPTIONAL_PARAMETER) => {
                "Unsupported Optional Parameter"
            }
            (code::OPEN_MESSAGE, UNACCEPTABLE_HOLD_TIME) => "Unacceptable Hold Time",
            (code::OPEN_MESSAGE, UNSUPPORTED_CAPABILITY) => "Unsupported Capability",
            (code::OPEN_MESSAGE, ROLE_MISMATCH) => "Role Mismatch",
            (code::UPDATE_MESSAGE, MALFORMED_ATTRIBUTE_LIST) => "Malformed Attribute List",
            (code::UPDATE_MESSAGE, UNRECOGNIZED_WELL_KNOWN_ATTRIBUTE) => {
                "Unrecognized Well-known Attribute"
            }
            (code::UPDATE_MESSAGE, MISSING_WELL_KNOWN_ATTRIBUTE) => "Missing Well-known Attribute",
            (code::UPDATE_MESSAGE, ATTRIBUTE_FLAGS_ERROR) => "Attribute Flags Error",
            (code::UPDATE_MESSAGE, ATTRIBUTE_LENGTH_ERROR) => "Attribute Length Error",
            (code::UPDATE_MESSAGE, INVALID_ORIGIN_ATTRIBUTE) => "Invalid ORIGIN Attribute",
            (code::UPDATE_MESSAGE, INVALID_NEXT_HOP_ATTRIBUTE) => "Invalid NEXT_HOP Attribute",
            (code::UPDATE_MESSAGE, OPTIONAL_ATTRIBUTE_ERROR) => "Optional Attribute Error",
            (code::UPDATE_MESSAGE, INVALID_NETWORK_FIELD) => "Invalid Network Field",
            (code::UPDATE_MESSAGE, MALFORMED_AS_PATH) => "Malformed AS_PATH",
            (code::FSM, 1) => "Unexpected Message in OpenSent State",
            (code::FSM, 2) => "Unexpected Message in OpenConfirm State",
            (code::FSM, 3) => "Unexpected Message in Established State",
            (code::CEASE, MAXIMUM_PREFIXES_REACHED) => "Maximum Number of Prefixes Reached",
            (code::CEASE, ADMINISTRATIVE_SHUTDOWN) => "Administrative Shutdown",
            (code::CEASE, PEER_DECONFIGURED) => "Peer De-configured",
            (code::CEASE, ADMINISTRATIVE_RESET) => "Administrative Reset",
            (code::CEASE, CONNECTION_REJECTED) => "Connection Rejected",
            (code::CEASE, OTHER_CONFIGURATION_CHANGE) => "Other Configuration Change",
            (code::CEASE, CONNECTION_COLLISION_RESOLUTION) => "Connection Collision Resolution",
            (code::CEASE, OUT_OF_RESOURCES) => "Out of Resources",
            (code::CEASE, HARD_RESET) => "Hard Reset",
            (code::CEASE, BFD_DOWN) => "BFD Down",
            (code::ROUTE_REFRESH, 1) => "Invalid Message Length",
            _ => "Unknown subcode",
        }
    }

    /// The RFC 9003 shutdown communication, when this is a Cease with one and it is valid UTF-8.
    pub fn shutdown_communication(&self) -> Option<String> {
        if self.code != code::CEASE
            || !matches!(
                self.subcode,
                subcode::ADMINISTRATIVE_SHUTDOWN | subcode::ADMINISTRATIVE_RESET
            )
        {
            return None;
        }
        let (&len, text) = self.data.split_first()?;
        let text = text.get(..len as usize)?;
        String::from_utf8(text.to_vec()).ok()
    }

    pub fn decode(body: &[u8]) -> Option<Notification> {
        let (&code, rest) = body.split_first()?;
        let (&subcode, data) = rest.split_first()?;
        Some(Notification::new(code, subcode, data.to_vec()))
    }

    pub fn emit_body(&self, out: &mut Vec<u8>) {
        out.push(self.code);
        out.push(self.subcode);
        out.extend_from_slice(&self.data);
    }
}

/// RFC 9003 §2: a length octet and up to 255 octets of UTF-8, cut on a character boundary.
pub fn shutdown_communication(reason: &str) -> Vec<u8> {
    let mut end = reason.len().min(255);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    let mut out = Vec::with_capacity(end + 1);
    out.push(end as u8);
    out.extend_from_slice(&reason.as_bytes()[..end]);
    out
}

impl fmt::Display for Notification {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{} ({} / {})",
            self.code,
            self.subcode,
            self.code_name(),
            self.subcode_name()
        )?;
        if let Some(text) = self.shutdown_communication() {
            write!(f, " \"{}\"", text.escape_debug())?;
        } else if !self.data.is_empty() {
            f.write_str(" data ")?;
            for b in &self.data {
                write!(f, "{b:02x}")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shutdown_communication_round_trips_and_is_cut_on_char_boundary() {
        let n = Notification::administrative_shutdown("maintenance");
        assert_eq!(n.data[0], 11);
        assert_eq!(n.shutdown_communication().as_deref(), Some("maintenance"));
        let long = "é".repeat(200); // 400 bytes
        let data = shutdown_communication(&long);
        assert_eq!(data[0], 254);
        assert!(std::str::from_utf8(&data[1..]).is_ok());
    }

    #[test]
    fn display_names_code_and_subcode() {
        let n = Notification::new(3, 11, vec![]);
        assert_eq!(
            n.to_string(),
            "3/11 (UPDATE Message Error / Malformed AS_PATH)"
        );
    }
}
