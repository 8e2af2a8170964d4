//! UPDATE message (RFC 4271 §4.3) with RFC 7606 revised error handling.

use std::collections::HashSet;

use super::attribute::{
    self, AttributeContext, MpNlri, PathAttribute, decode_attribute, type_code,
};
use super::error::{DecodeError, DecodeErrorKind, ErrorAction};
use super::family::{Afi, Family, FamilySet};
use super::notification::{code, subcode};
use super::prefix::Prefix;
use super::reader::Reader;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Update {
    /// IPv4 unicast prefixes withdrawn in the classic field.
    pub withdrawn: Vec<Prefix>,
    pub attributes: Vec<PathAttribute>,
    /// IPv4 unicast prefixes announced in the classic field.
    pub nlri: Vec<Prefix>,
    /// RFC 7911 path identifiers of `withdrawn` and `nlri`, one per prefix in the same order,
    /// when the session receives them for IPv4 unicast; both empty otherwise.
    pub withdrawn_path_ids: Vec<u32>,
    pub nlri_path_ids: Vec<u32>,
    /// Type codes of attributes the sender encoded with a two-octet length although one octet
    /// would do (BIRD does so for MP_REACH_NLRI), so that re-encoding gives back its bytes.
    pub long_lengths: Vec<u8>,
}

/// An UPDATE that decoded, with the errors that did not reset the session
/// (each one's action is attribute-discard or treat-as-withdraw).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodedUpdate {
    pub update: Update,
    pub problems: Vec<DecodeError>,
}

impl DecodedUpdate {
    /// RFC 7606: the announced NLRI must be handled as withdrawn.
    pub fn treat_as_withdraw(&self) -> bool {
        self.problems
            .iter()
            .any(|p| p.action == ErrorAction::TreatAsWithdraw)
    }
}

impl Update {
    pub fn attribute(&self, code: u8) -> Option<&PathAttribute> {
        self.attributes.iter().find(|a| a.code() == code)
    }

    /// The AS path a 4-octet speaker sees (RFC 6793 §4.2.3): AS_PATH merged with AS4_PATH,
    /// unless the session is 4-octet (AS4_PATH is then ignored) or an AGGREGATOR other than
    /// AS_TRANS says the AS4 attributes are stale.
    pub fn effective_as_path(&self, four_octet_session: bool) -> Option<super::aspath::AsPath> {
        let PathAttribute::AsPath(path) = self.attribute(type_code::AS_PATH)? else {
            return None;
        };
        let as4 = match self.attribute(type_code::AS4_PATH) {
            Some(PathAttribute::As4Path(p)) if !four_octet_session => p,
            _ => return Some(path.clone()),
        };
        let stale = matches!(
            self.attribute(type_code::AGGREGATOR),
            Some(PathAttribute::Aggregator { asn, .. }) if *asn != super::aspath::AS_TRANS
        ) && self.attribute(type_code::AS4_AGGREGATOR).is_some();
        if stale {
            return Some(path.clone());
        }
        Some(super::aspath::AsPath::merge_as4(path, as4))
    }

    /// The family whose End-of-RIB marker this is (RFC 4724 §2), if it is one.
    pub fn end_of_rib(&self) -> Option<Family> {
        if !self.withdrawn.is_empty() || !self.nlri.is_empty() {
            return None;
        }
        match self.attributes.as_slice() {
            [] => Some(Family::IPV4_UNICAST),
            [PathAttribute::MpUnreach(m)] if m.nlri.is_empty() => Some(m.family),
            _ => None,
        }
    }

    /// The End-of-RIB marker for `family`.
    pub fn end_of_rib_marker(family: Family) -> Update {
        if family == Family::IPV4_UNICAST {
            return Update::default();
        }
        Update {
            attributes: vec![PathAttribute::MpUnreach(attribute::MpUnreach {
                family,
                nlri: MpNlri::Raw(Vec::new()),
            })],
            ..Update::default()
        }
    }

    /// The classic withdrawn field as text: `PREFIX`, or `ID@PREFIX` with path identifiers.
    pub fn withdrawn_text(&self) -> Vec<String> {
        entries_text(&self.withdrawn, &self.withdrawn_path_ids)
    }

    /// The classic NLRI field as text, as [`Update::withdrawn_text`].
    pub fn nlri_text(&self) -> Vec<String> {
        entries_text(&self.nlri, &self.nlri_path_ids)
    }

    /// Decodes the UPDATE body; `base` is its offset in the message (19). NLRI of the
    /// families in `add_path` (RFC 7911 receive side) carry path identifiers.
    pub fn decode(
        body: &[u8],
        base: usize,
        ctx: AttributeContext,
        add_path: FamilySet,
    ) -> Result<DecodedUpdate, DecodeError> {
        let list_error = |offset| {
            DecodeError::reset(
                DecodeErrorKind::MalformedAttributeList,
                offset,
                code::UPDATE_MESSAGE,
                subcode::MALFORMED_ATTRIBUTE_LIST,
            )
        };
        let mut r = Reader::at(body, base);
        let wlen = r.u16().map_err(|t| list_error(t.offset))? as usize;
        let wstart = r.offset();
        let withdrawn_bytes = r.bytes(wlen).map_err(|_| list_error(wstart))?;
        let alen_at = r.offset();
        let alen = r.u16().map_err(|_| list_error(alen_at))? as usize;
        let mut attrs = r.sub(alen).map_err(|_| list_error(alen_at))?;
        let nlri_at = r.offset();
        let nlri_bytes = r.rest();

        let network_error = |offset| {
            DecodeError::reset(
                DecodeErrorKind::InvalidNetworkField,
                offset,
                code::UPDATE_MESSAGE,
                subcode::INVALID_NETWORK_FIELD,
            )
        };
        let classic = |bytes: &[u8]| -> Option<(Vec<Prefix>, Vec<u32>)> {
            if !add_path.contains(Family::IPV4_UNICAST) {
                return Some((attribute::decode_prefixes(bytes, Afi::Ipv4)?, Vec::new()));
            }
            let entries = attribute::decode_path_prefixes(bytes, Afi::Ipv4)?;
            Some(entries.iter().map(|e| (e.prefix, e.path_id)).unzip())
        };
        let (withdrawn, withdrawn_path_ids) =
            classic(withdrawn_bytes).ok_or(network_error(wstart))?;
        let (nlri, nlri_path_ids) = classic(nlri_bytes).ok_or(network_error(nlri_at))?;

        let mut problems = Vec::new();
        let mut attributes = Vec::new();
        let mut seen = HashSet::new();
        let mut long_lengths = Vec::new();
        while !attrs.is_empty() {
            let at = attrs.offset();
            let header = (|| {
                let flags = attrs.u8()?;
                let code = attrs.u8()?;
                let len = if flags & attribute::flag::EXTENDED_LENGTH != 0 {
                    attrs.u16()? as usize
                } else {
                    attrs.u8()? as usize
                };
                let value = attrs.bytes(len)?;
                Ok::<_, super::reader::Truncated>((flags, code, value))
            })();
            let Ok((flags, code, value)) = header else {
                // RFC 7606 §4: an attribute that overruns the attribute section.
                problems.push(DecodeError::new(
                    DecodeErrorKind::MalformedAttributeList,
                    at,
                    ErrorAction::TreatAsWithdraw,
                ));
                break;
            };
            if !seen.insert(code) {
                if code == type_code::MP_REACH_NLRI || code == type_code::MP_UNREACH_NLRI {
                    return Err(DecodeError::reset(
                        DecodeErrorKind::DuplicateMpAttribute(code),
                        at,
                        code::UPDATE_MESSAGE,
                        subcode::MALFORMED_ATTRIBUTE_LIST,
                    ));
                }
                // RFC 7606 §3 (g): keep the first, discard the others.
                problems.push(DecodeError::new(
                    DecodeErrorKind::MalformedAttributeList,
                    at,
                    ErrorAction::AttributeDiscard,
                ));
                continue;
            }
            match decode_attribute(flags, code, value, at, ctx, add_path) {
                Ok(a) => {
                    if flags & attribute::flag::EXTENDED_LENGTH != 0 && value.len() <= 255 {
                        long_lengths.push(code);
                    }
                    attributes.push(a)
                }
                Err(e) if matches!(e.action, ErrorAction::SessionReset(_)) => return Err(e),
                Err(e) => problems.push(e),
            }
        }

        let update = Update {
            withdrawn,
            attributes,
            nlri,
            withdrawn_path_ids,
            nlri_path_ids,
            long_lengths,
        };
        // RFC 7606 §3 (d): a missing well-known mandatory attribute is treat-as-withdraw,
        // and only matters when something is announced (MP_UNREACH alone needs none).
        let has_mp_reach = seen.contains(&type_code::MP_REACH_NLRI);
        if !update.nlri.is_empty() || has_mp_reach {
            let mut required = vec![type_code::ORIGIN, type_code::AS_PATH];
            if !update.nlri.is_empty() {
                required.push(type_code::NEXT_HOP);
            }
            for c in required {
                if !seen.contains(&c) {
                    problems.push(DecodeError::new(
                        DecodeErrorKind::MissingWellKnownAttribute(c),
                        nlri_at,
                        ErrorAction::TreatAsWithdraw,
                    ));
                }
            }
        }
        Ok(DecodedUpdate { update, problems })
    }

    pub fn emit_body(&self, ctx: AttributeContext, out: &mut Vec<u8>) {
        let wpos = out.len();
        out.extend_from_slice(&[0, 0]);
        emit_entries(&self.withdrawn, &self.withdrawn_path_ids, out);
        let wlen = (out.len() - wpos - 2) as u16;
        out[wpos..wpos + 2].copy_from_slice(&wlen.to_be_bytes());
        let apos = out.len();
        out.extend_from_slice(&[0, 0]);
        for a in &self.attributes {
            if self.long_lengths.contains(&a.code()) {
                a.emit_long(ctx, out);
            } else {
                a.emit(ctx, out);
            }
        }
        let alen = (out.len() - apos - 2) as u16;
        out[apos..apos + 2].copy_from_slice(&alen.to_be_bytes());
        emit_entries(&self.nlri, &self.nlri_path_ids, out);
    }
}

/// Each prefix, behind its path identifier when there is one per prefix.
fn emit_entries(prefixes: &[Prefix], path_ids: &[u32], out: &mut Vec<u8>) {
    let with_ids = path_ids.len() == prefixes.len();
    for (i, p) in prefixes.iter().enumerate() {
        if with_ids {
            out.extend_from_slice(&path_ids[i].to_be_bytes());
        }
        p.emit(out);
    }
}

fn entries_text(prefixes: &[Prefix], path_ids: &[u32]) -> Vec<String> {
    if path_ids.len() != prefixes.len() {
        return prefixes.iter().map(Prefix::to_string).collect();
    }
    prefixes
        .iter()
        .zip(path_ids)
        .map(|(p, id)| format!("{id}@{p}"))
        .collect()
}
