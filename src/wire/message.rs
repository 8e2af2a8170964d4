//! Message framing (RFC 4271 §4.1) and the five message types.

use std::fmt;

use super::attribute::AttributeContext;
use super::error::{DecodeError, DecodeErrorKind, ErrorAction};
use super::family::{Afi, Family, FamilySet, Safi};
use super::notification::{Notification, code, subcode};
use super::open::Open;
use super::reader::Reader;
use super::update::{DecodedUpdate, Update};

/// RFC 4271 §4.1: 16 octets of ones.
pub const MARKER: [u8; 16] = [0xFF; 16];
/// Marker, length, type.
pub const HEADER_LEN: usize = 19;
/// RFC 4271 §4: the largest message without RFC 8654 extended messages.
pub const MAX_MESSAGE_LEN: usize = 4096;
/// RFC 8654 §3.
pub const MAX_EXTENDED_MESSAGE_LEN: usize = 65535;

/// Message type codes (RFC 4271 §4.1, RFC 2918 §3).
pub mod message_type {
    pub const OPEN: u8 = 1;
    pub const UPDATE: u8 = 2;
    pub const NOTIFICATION: u8 = 3;
    pub const KEEPALIVE: u8 = 4;
    pub const ROUTE_REFRESH: u8 = 5;
}

/// ROUTE-REFRESH (RFC 2918), with the RFC 7313 subtype (0 normal, 1 BoRR, 2 EoRR).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RouteRefresh {
    pub family: Family,
    pub subtype: u8,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message {
    Open(Open),
    Update(Update),
    Notification(Notification),
    Keepalive,
    RouteRefresh(RouteRefresh),
}

/// What decoding needs to know about the session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DecodeContext {
    pub attributes: AttributeContext,
    /// 4096, or 65535 once RFC 8654 extended messages are negotiated.
    pub max_message_len: usize,
    /// RFC 7911 receive side: families whose NLRI carry a path identifier (we offered
    /// receive, the peer send). Empty by default.
    pub add_path: FamilySet,
}

impl Default for DecodeContext {
    fn default() -> Self {
        DecodeContext {
            attributes: AttributeContext {
                four_octet_as: true,
            },
            max_message_len: MAX_MESSAGE_LEN,
            add_path: FamilySet::default(),
        }
    }
}

fn header_error(kind: DecodeErrorKind, offset: usize, sub: u8, data: Vec<u8>) -> DecodeError {
    DecodeError::new(
        kind,
        offset,
        ErrorAction::SessionReset(Notification::new(code::MESSAGE_HEADER, sub, data)),
    )
}

/// Looks at the start of `buf` and returns the length of the first complete message, `None`
/// when more bytes are needed, or the header error (bad marker, bad length) in O(1).
pub fn frame(buf: &[u8], max_len: usize) -> Result<Option<usize>, DecodeError> {
    let Some(header) = buf.get(..HEADER_LEN) else {
        return Ok(None);
    };
    if header[..16] != MARKER {
        return Err(header_error(
            DecodeErrorKind::BadMarker,
            0,
            subcode::CONNECTION_NOT_SYNCHRONIZED,
            Vec::new(),
        ));
    }
    let len = u16::from_be_bytes([header[16], header[17]]);
    let min = match header[18] {
        message_type::OPEN => 29,
        message_type::UPDATE => 23,
        message_type::NOTIFICATION => 21,
        message_type::KEEPALIVE => HEADER_LEN,
        message_type::ROUTE_REFRESH => 23,
        t => {
            return Err(header_error(
                DecodeErrorKind::BadMessageType(t),
                18,
                subcode::BAD_MESSAGE_TYPE,
                vec![t],
            ));
        }
    };
    let ulen = len as usize;
    let exact = matches!(header[18], message_type::KEEPALIVE);
    // RFC 8654 §4: OPEN and KEEPALIVE stay within 4096 even with extended messages.
    let max_len = match header[18] {
        message_type::OPEN | message_type::KEEPALIVE => max_len.min(MAX_MESSAGE_LEN),
        _ => max_len,
    };
    if ulen < min || ulen > max_len || (exact && ulen != min) {
        return Err(header_error(
            DecodeErrorKind::BadMessageLength(len),
            16,
            subcode::BAD_MESSAGE_LENGTH,
            len.to_be_bytes().to_vec(),
        ));
    }
    Ok(if buf.len() >= ulen { Some(ulen) } else { None })
}

impl Message {
    pub fn type_code(&self) -> u8 {
        match self {
            Message::Open(_) => message_type::OPEN,
            Message::Update(_) => message_type::UPDATE,
            Message::Notification(_) => message_type::NOTIFICATION,
            Message::Keepalive => message_type::KEEPALIVE,
            Message::RouteRefresh(_) => message_type::ROUTE_REFRESH,
        }
    }

    pub fn type_name(&self) -> &'static str {
        match self {
            Message::Open(_) => "OPEN",
            Message::Update(_) => "UPDATE",
            Message::Notification(_) => "NOTIFICATION",
            Message::Keepalive => "KEEPALIVE",
            Message::RouteRefresh(_) => "ROUTE-REFRESH",
        }
    }

    /// Decodes one complete message (as delimited by [`frame`]). UPDATE errors that do not
    /// reset the session come back beside the message.
    pub fn decode(
        msg: &[u8],
        ctx: DecodeContext,
    ) -> Result<(Message, Vec<DecodeError>), DecodeError> {
        let len = frame(msg, ctx.max_message_len)?.ok_or_else(|| {
            header_error(
                DecodeErrorKind::Truncated {
                    what: "message",
                    needed: HEADER_LEN.max(
                        msg.get(16..18)
                            .map(|b| u16::from_be_bytes([b[0], b[1]]) as usize)
                            .unwrap_or(HEADER_LEN),
                    ),
                    available: msg.len(),
                },
                msg.len(),
                subcode::BAD_MESSAGE_LENGTH,
                Vec::new(),
            )
        })?;
        let Some(body) = msg.get(HEADER_LEN..len) else {
            return Err(DecodeError::reset(
                DecodeErrorKind::BadMessageLength(len as u16),
                16,
                code::MESSAGE_HEADER,
                subcode::BAD_MESSAGE_LENGTH,
            ));
        };
        let kind = msg.get(18).copied().unwrap_or(0);
        let message = match kind {
            message_type::OPEN => Message::Open(Open::decode(body, HEADER_LEN)?),
            message_type::UPDATE => {
                let DecodedUpdate { update, problems } =
                    Update::decode(body, HEADER_LEN, ctx.attributes, ctx.add_path)?;
                return Ok((Message::Update(update), problems));
            }
            message_type::NOTIFICATION => {
                Message::Notification(Notification::decode(body).ok_or_else(|| {
                    DecodeError::reset(
                        DecodeErrorKind::BadMessageLength(len as u16),
                        16,
                        code::MESSAGE_HEADER,
                        subcode::BAD_MESSAGE_LENGTH,
                    )
                })?)
            }
            message_type::KEEPALIVE => Message::Keepalive,
            _ => {
                // ROUTE-REFRESH: exactly AFI, subtype, SAFI (RFC 7313 §5: else 7/1).
                let mut r = Reader::at(body, HEADER_LEN);
                let (Ok(afi), Ok(subtype), Ok(safi), true) =
                    (r.u16(), r.u8(), r.u8(), body.len() == 4)
                else {
                    return Err(DecodeError::reset(
                        DecodeErrorKind::RouteRefreshLength(len as u16),
                        16,
                        code::ROUTE_REFRESH,
                        1,
                    ));
                };
                Message::RouteRefresh(RouteRefresh {
                    family: Family::new(Afi::from_u16(afi), Safi::from_u8(safi)),
                    subtype,
                })
            }
        };
        Ok((message, Vec::new()))
    }

    /// The whole message, header included.
    pub fn encode(&self, ctx: AttributeContext) -> Vec<u8> {
        let mut out = Vec::with_capacity(64);
        out.extend_from_slice(&MARKER);
        out.extend_from_slice(&[0, 0, self.type_code()]);
        match self {
            Message::Open(o) => o.emit_body(&mut out),
            Message::Update(u) => u.emit_body(ctx, &mut out),
            Message::Notification(n) => n.emit_body(&mut out),
            Message::Keepalive => {}
            Message::RouteRefresh(rr) => {
                out.extend_from_slice(&rr.family.afi.to_u16().to_be_bytes());
                out.push(rr.subtype);
                out.push(rr.family.safi.to_u8());
            }
        }
        set_length(&mut out, 0);
        out
    }
}

/// Writes the length field of the message that starts at `start` in `buf`.
pub fn set_length(buf: &mut [u8], start: usize) {
    let len = (buf.len() - start) as u16;
    buf[start + 16..start + 18].copy_from_slice(&len.to_be_bytes());
}

impl fmt::Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Message::Open(o) => {
                write!(
                    f,
                    "OPEN version {} asn {} hold-time {} router-id {}",
                    o.version,
                    o.asn(),
                    o.hold_time,
                    o.router_id
                )?;
                for c in &o.capabilities {
                    write!(f, "; {c}")?;
                }
                Ok(())
            }
            Message::Update(u) => {
                if let Some(fam) = u.end_of_rib() {
                    return write!(f, "UPDATE end-of-rib {fam}");
                }
                f.write_str("UPDATE")?;
                if !u.withdrawn.is_empty() {
                    f.write_str(" withdraw")?;
                    u.withdrawn_text()
                        .iter()
                        .try_for_each(|p| write!(f, " {p}"))?;
                    f.write_str(";")?;
                }
                for a in &u.attributes {
                    write!(f, " {a};")?;
                }
                if !u.nlri.is_empty() {
                    f.write_str(" nlri")?;
                    u.nlri_text().iter().try_for_each(|p| write!(f, " {p}"))?;
                }
                Ok(())
            }
            Message::Notification(n) => write!(f, "NOTIFICATION {n}"),
            Message::Keepalive => f.write_str("KEEPALIVE"),
            Message::RouteRefresh(rr) => {
                write!(f, "ROUTE-REFRESH {}", rr.family)?;
                match rr.subtype {
                    0 => Ok(()),
                    1 => f.write_str(" begin (BoRR)"),
                    2 => f.write_str(" end (EoRR)"),
                    s => write!(f, " subtype {s}"),
                }
            }
        }
    }
}
