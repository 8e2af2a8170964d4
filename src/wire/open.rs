//! OPEN message (RFC 4271 §4.2), optional parameters in the classic and the RFC 9072
//! extended forms.

use std::net::Ipv4Addr;

use super::capability::Capability;
use super::error::{DecodeError, DecodeErrorKind, ErrorAction};
use super::notification::{Notification, code, subcode};
use super::reader::Reader;

/// RFC 4271 §6.2 has no subcode for a malformed capability; 0 (unspecific) is what BIRD
/// and FRR send.
const OPEN_UNSPECIFIC: u8 = 0;

/// RFC 4271 §4.2: the only version we speak.
pub const BGP_VERSION: u8 = 4;
/// RFC 5492 §4: optional parameter type "Capabilities".
const PARAM_CAPABILITIES: u8 = 2;
/// RFC 9072 §2: the non-extended length octet value that announces the extended form.
const PARAM_EXTENDED_MARK: u8 = 255;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Open {
    pub version: u8,
    /// The 2-octet "My Autonomous System" field (AS_TRANS when the real ASN needs 4 octets).
    pub my_as: u16,
    pub hold_time: u16,
    pub router_id: Ipv4Addr,
    pub capabilities: Vec<Capability>,
    /// How a received OPEN laid its capabilities out, so it re-encodes byte for byte:
    /// the number of capabilities in each Capabilities parameter (FRR and ExaBGP send one
    /// per parameter). Empty: all in one parameter, as we send them.
    pub parameter_layout: Vec<usize>,
    /// The RFC 9072 extended parameter form was used although not needed.
    pub extended_parameters: bool,
}

impl Open {
    /// The sender's ASN: the 4-octet AS capability when present, else the 2-octet field.
    pub fn asn(&self) -> u32 {
        self.capabilities
            .iter()
            .find_map(|c| match c {
                Capability::FourOctetAs(a) => Some(*a),
                _ => None,
            })
            .unwrap_or(self.my_as as u32)
    }

    pub fn has(&self, pred: impl Fn(&Capability) -> bool) -> bool {
        self.capabilities.iter().any(pred)
    }

    /// Decodes the OPEN body (after the 19-octet header); `base` is the body's offset.
    pub fn decode(body: &[u8], base: usize) -> Result<Open, DecodeError> {
        let trunc = |t| DecodeError::truncated("OPEN", t);
        let mut r = Reader::at(body, base);
        let version = r.u8().map_err(trunc)?;
        if version != BGP_VERSION {
            // RFC 4271 §6.2: data is the largest version we support, as 2 octets.
            return Err(DecodeError::new(
                DecodeErrorKind::UnsupportedVersion(version),
                base,
                super::error::ErrorAction::SessionReset(super::notification::Notification::new(
                    code::OPEN_MESSAGE,
                    subcode::UNSUPPORTED_VERSION,
                    vec![0, BGP_VERSION],
                )),
            ));
        }
        let my_as = r.u16().map_err(trunc)?;
        let hold_at = r.offset();
        let hold_time = r.u16().map_err(trunc)?;
        if hold_time == 1 || hold_time == 2 {
            return Err(DecodeError::reset(
                DecodeErrorKind::UnacceptableHoldTime(hold_time),
                hold_at,
                code::OPEN_MESSAGE,
                subcode::UNACCEPTABLE_HOLD_TIME,
            ));
        }
        let id_at = r.offset();
        let router_id = Ipv4Addr::from(r.u32().map_err(trunc)?);
        if router_id.is_unspecified() {
            return Err(DecodeError::reset(
                DecodeErrorKind::BadBgpIdentifier,
                id_at,
                code::OPEN_MESSAGE,
                subcode::BAD_BGP_IDENTIFIER,
            ));
        }
        let params_at = r.offset();
        let malformed = || {
            DecodeError::reset(
                DecodeErrorKind::MalformedOptionalParameters,
                params_at,
                code::OPEN_MESSAGE,
                0,
            )
        };
        let short_len = r.u8().map_err(|_| malformed())?;
        // RFC 9072 §2: length 255 followed by type 255 means the extended form.
        let extended =
            short_len == PARAM_EXTENDED_MARK && body.get(10) == Some(&PARAM_EXTENDED_MARK);
        let params_len = if extended {
            r.u8().map_err(|_| malformed())?;
            r.u16().map_err(|_| malformed())? as usize
        } else {
            short_len as usize
        };
        let mut params = r.sub(params_len).map_err(|_| malformed())?;
        if !r.is_empty() {
            return Err(malformed());
        }
        let mut capabilities = Vec::new();
        let mut layout = Vec::new();
        let mut short_form_len = 0;
        let mut fits_short_form = true;
        while !params.is_empty() {
            let p_at = params.offset();
            let ptype = params.u8().map_err(|_| malformed())?;
            let plen = if extended {
                params.u16().map_err(|_| malformed())? as usize
            } else {
                params.u8().map_err(|_| malformed())? as usize
            };
            let mut value = params.sub(plen).map_err(|_| malformed())?;
            short_form_len += plen + 2;
            fits_short_form &= plen <= 255;
            if ptype != PARAM_CAPABILITIES {
                return Err(DecodeError::reset(
                    DecodeErrorKind::UnsupportedOptionalParameter(ptype),
                    p_at,
                    code::OPEN_MESSAGE,
                    subcode::UNSUPPORTED_OPTIONAL_PARAMETER,
                ));
            }
            let before = capabilities.len();
            while !value.is_empty() {
                let ccode = value.u8().map_err(|_| malformed())?;
                let clen = value.u8().map_err(|_| malformed())? as usize;
                let c_at = value.offset();
                let cval = value.bytes(clen).map_err(|_| malformed())?;
                if let Err(e) = super::capability::check(ccode, cval) {
                    let mut data = vec![ccode, clen as u8];
                    data.extend_from_slice(cval);
                    let sub = if e.bad_peer_as {
                        subcode::BAD_PEER_AS
                    } else {
                        OPEN_UNSPECIFIC
                    };
                    return Err(DecodeError::new(
                        DecodeErrorKind::MalformedCapability(e),
                        c_at.saturating_sub(2),
                        ErrorAction::SessionReset(Notification::new(code::OPEN_MESSAGE, sub, data)),
                    ));
                }
                capabilities.push(Capability::decode(ccode, cval));
            }
            layout.push(capabilities.len() - before);
        }
        // One parameter holding everything is the canonical layout.
        if layout.len() == 1 && layout[0] == capabilities.len() && !capabilities.is_empty() {
            layout.clear();
        }
        Ok(Open {
            version,
            my_as,
            hold_time,
            router_id,
            capabilities,
            parameter_layout: layout,
            extended_parameters: extended && fits_short_form && short_form_len <= 255,
        })
    }

    /// Appends the OPEN body. Capabilities go in one optional parameter (or as laid out in
    /// `parameter_layout`), in the RFC 9072 extended form when a parameter or the whole does
    /// not fit in 255 octets (or `extended_parameters` says so).
    pub fn emit_body(&self, out: &mut Vec<u8>) {
        out.push(self.version);
        out.extend_from_slice(&self.my_as.to_be_bytes());
        out.extend_from_slice(&self.hold_time.to_be_bytes());
        out.extend_from_slice(&self.router_id.octets());
        let encoded: Vec<Vec<u8>> = self
            .capabilities
            .iter()
            .map(|c| {
                let mut v = Vec::new();
                c.emit_value(&mut v);
                let v = &v[..v.len().min(255)];
                let mut cap = vec![c.code(), v.len() as u8];
                cap.extend_from_slice(v);
                cap
            })
            .collect();
        let layout = if self.parameter_layout.is_empty() {
            if encoded.is_empty() {
                vec![]
            } else {
                vec![encoded.len()]
            }
        } else {
            self.parameter_layout.clone()
        };
        let mut params: Vec<Vec<u8>> = Vec::new();
        let mut caps = encoded.iter();
        for count in layout {
            params.push(caps.by_ref().take(count).flatten().copied().collect());
        }
        // Capabilities beyond the layout (a value built by hand): one more parameter.
        let rest: Vec<u8> = caps.flatten().copied().collect();
        if !rest.is_empty() {
            params.push(rest);
        }
        let short_total: usize = params.iter().map(|p| p.len() + 2).sum();
        let extended =
            self.extended_parameters || short_total > 255 || params.iter().any(|p| p.len() > 255);
        if !extended {
            out.push(short_total as u8);
            for p in &params {
                out.push(PARAM_CAPABILITIES);
                out.push(p.len() as u8);
                out.extend_from_slice(p);
            }
        } else {
            let total: usize = params.iter().map(|p| p.len() + 3).sum();
            out.push(PARAM_EXTENDED_MARK);
            out.push(PARAM_EXTENDED_MARK);
            out.extend_from_slice(&(total as u16).to_be_bytes());
            for p in &params {
                out.push(PARAM_CAPABILITIES);
                out.extend_from_slice(&(p.len() as u16).to_be_bytes());
                out.extend_from_slice(p);
            }
        }
    }
}
