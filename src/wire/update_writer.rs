//! The one place UPDATE messages are framed for sending: header, withdrawn routes, the path
//! attribute section with MP_REACH_NLRI or MP_UNREACH_NLRI in its place among the type codes,
//! and the classic NLRI. Every length field is written by a [`LengthPrefix`] guard (rustls's
//! `LengthPrefixedBuffer`): a placeholder first, patched when the part it covers is closed,
//! so no caller computes a layout by hand. The writer also answers "does this NLRI still
//! fit", from the room left under the negotiated maximum message size.

use super::attribute::{flag, type_code};
use super::family::Family;
use super::message::{MARKER, message_type, set_length};

/// A length field written before the part it covers and patched once the part is written.
#[derive(Clone, Copy, Debug)]
struct LengthPrefix {
    /// Where the field is.
    at: usize,
    /// 1 or 2 octets.
    width: usize,
}

impl LengthPrefix {
    fn open(out: &mut Vec<u8>, width: usize) -> LengthPrefix {
        let at = out.len();
        out.extend(std::iter::repeat_n(0, width));
        LengthPrefix { at, width }
    }

    /// Writes the length of everything after the field. Parts are bounded by the message
    /// size (at most 65535 octets, RFC 8654), so the length fits its field.
    fn close(self, out: &mut [u8]) {
        let len = out.len() - self.at - self.width;
        match self.width {
            1 => out[self.at] = len as u8,
            _ => out[self.at..self.at + 2].copy_from_slice(&(len as u16).to_be_bytes()),
        }
    }
}

/// The part of MP_REACH_NLRI's value before its NLRI (RFC 4760 §3): AFI, SAFI, the next
/// hop's length and octets, a reserved octet. Also what the codec's encoder writes.
pub fn mp_reach_head(family: Family, next_hop: &[u8], out: &mut Vec<u8>) {
    family.emit(out);
    out.push(next_hop.len() as u8);
    out.extend_from_slice(next_hop);
    out.push(0); // reserved
}

/// Where the message being written is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Part {
    Withdrawn,
    Attributes,
    Mp,
    Nlri,
}

/// One UPDATE being written at the end of `out`.
///
/// ```text
/// begin -> [withdraw...] -> attributes(before) -> [mp_reach|mp_unreach -> push...] ->
///          attributes(after) -> [nlri...] -> finish
/// ```
pub struct UpdateWriter<'a> {
    out: &'a mut Vec<u8>,
    /// Where the message starts, and the most octets it may take.
    start: usize,
    max_len: usize,
    withdrawn: LengthPrefix,
    attributes: Option<LengthPrefix>,
    mp: Option<LengthPrefix>,
    /// Octets still to come after the NLRI being pushed (attributes after MP_REACH).
    reserved: usize,
    part: Part,
    /// NLRI entries pushed into the current part.
    pushed: usize,
}

impl<'a> UpdateWriter<'a> {
    /// Starts an UPDATE of at most `max_len` octets at the end of `out`.
    pub fn begin(out: &'a mut Vec<u8>, max_len: usize) -> UpdateWriter<'a> {
        let start = out.len();
        out.extend_from_slice(&MARKER);
        out.extend_from_slice(&[0, 0, message_type::UPDATE]); // length: `finish`
        let withdrawn = LengthPrefix::open(out, 2);
        UpdateWriter {
            out,
            start,
            max_len,
            withdrawn,
            attributes: None,
            mp: None,
            reserved: 0,
            part: Part::Withdrawn,
            pushed: 0,
        }
    }

    /// Octets left in the message for what is pushed now.
    pub fn room(&self) -> usize {
        let mut used = self.out.len() - self.start + self.reserved;
        if self.part == Part::Withdrawn {
            used += 2; // the attribute length still to come
        }
        self.max_len.saturating_sub(used)
    }

    /// Appends one NLRI entry (`entry` writes it) to the current part: withdrawn routes, the
    /// multiprotocol attribute or the classic NLRI. `false`, and nothing left written, when it
    /// does not fit and the part already has an entry (a single entry that does not fit is
    /// written anyway: the caller's limits make that impossible for any NLRI bgpinject
    /// builds). The entry is written in place and taken back when it does not fit, so its
    /// length need not be known first and its octets are copied once.
    pub fn push(&mut self, entry: impl FnOnce(&mut Vec<u8>)) -> bool {
        let room = self.room();
        let before = self.out.len();
        entry(self.out);
        if self.pushed > 0 && self.out.len() - before > room {
            self.out.truncate(before);
            return false;
        }
        self.pushed += 1;
        true
    }

    /// Octets written so far, with those reserved for what follows MP_REACH_NLRI.
    pub fn written(&self) -> usize {
        self.out.len() - self.start + self.reserved
    }

    /// Drops the message being written: the output is as it was before [`Self::begin`].
    pub fn abandon(self) {
        self.out.truncate(self.start);
    }

    /// Entries pushed into the current part.
    pub fn pushed(&self) -> usize {
        self.pushed
    }

    /// Ends the withdrawn routes and starts the attribute section with `encoded` attributes.
    pub fn attributes(&mut self, encoded: &[u8]) {
        if self.part == Part::Withdrawn {
            self.withdrawn.close(self.out);
            self.attributes = Some(LengthPrefix::open(self.out, 2));
            self.part = Part::Attributes;
        }
        self.out.extend_from_slice(encoded);
    }

    /// Starts MP_REACH_NLRI (RFC 4760 §3) of `family` with `next_hop` (its encoded
    /// addresses); `after` octets of attributes will follow it.
    pub fn mp_reach(&mut self, family: Family, next_hop: &[u8], after: usize) {
        self.mp_begin(type_code::MP_REACH_NLRI, after);
        mp_reach_head(family, next_hop, self.out);
    }

    /// Starts MP_UNREACH_NLRI (RFC 4760 §4) of `family`.
    pub fn mp_unreach(&mut self, family: Family) {
        self.mp_begin(type_code::MP_UNREACH_NLRI, 0);
        family.emit(self.out);
    }

    fn mp_begin(&mut self, code: u8, after: usize) {
        self.attributes(&[]);
        // Always the extended length: the NLRI make the size unknown until the end.
        self.out.push(flag::OPTIONAL | flag::EXTENDED_LENGTH);
        self.out.push(code);
        self.mp = Some(LengthPrefix::open(self.out, 2));
        self.reserved = after;
        self.part = Part::Mp;
        self.pushed = 0;
    }

    /// Ends the multiprotocol attribute; `encoded` attributes follow it.
    pub fn mp_end(&mut self, encoded: &[u8]) {
        if let Some(mp) = self.mp.take() {
            mp.close(self.out);
        }
        self.reserved = 0;
        self.part = Part::Attributes;
        self.out.extend_from_slice(encoded);
    }

    /// Ends the attribute section; what is pushed next is classic (IPv4 unicast) NLRI.
    pub fn nlri(&mut self) {
        self.attributes(&[]);
        if let Some(a) = self.attributes.take() {
            a.close(self.out);
        }
        self.part = Part::Nlri;
        self.pushed = 0;
    }

    /// Closes every length and returns the number of entries pushed into the last part.
    pub fn finish(mut self) -> usize {
        if self.mp.is_some() {
            self.mp_end(&[]);
        }
        if self.part != Part::Nlri {
            self.nlri();
        }
        // The message length counts from the marker (RFC 4271 §4.1).
        set_length(self.out, self.start);
        self.pushed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::attribute::{AttributeContext, MpNlri, MpReach, MpUnreach, PathAttribute};
    use crate::wire::family::Afi;
    use crate::wire::message::{DecodeContext, Message};
    use crate::wire::prefix::Prefix;
    use crate::wire::update::Update;

    fn p(s: &str) -> Prefix {
        let (a, l) = s.split_once('/').unwrap();
        Prefix::new(a.parse().unwrap(), l.parse().unwrap()).unwrap()
    }

    /// What the writer frames decodes to what the codec's own encoder gives for the same
    /// UPDATE, octet for octet.
    #[test]
    fn writes_what_the_codec_encodes() {
        let ctx = AttributeContext {
            four_octet_as: true,
        };
        let origin = PathAttribute::Origin(Default::default());
        let mut before = Vec::new();
        origin.emit(ctx, &mut before);
        let v6 = Family::new(Afi::Ipv6, crate::wire::family::Safi::Unicast);
        let nh: std::net::Ipv6Addr = "2001:db8::1".parse().unwrap();
        let mut out = Vec::new();
        let mut w = UpdateWriter::begin(&mut out, 4096);
        w.push(|o| p("203.0.113.0/24").emit(o));
        w.attributes(&before);
        w.mp_reach(v6, &nh.octets(), 0);
        w.push(|o| p("2001:db8::/32").emit(o));
        w.mp_end(&[]);
        w.nlri();
        w.push(|o| p("198.51.100.0/24").emit(o));
        assert_eq!(w.finish(), 1);
        // (Without AS_PATH and NEXT_HOP the classic NLRI is treat-as-withdraw: not our point.)
        let (m, _) = Message::decode(&out, DecodeContext::default()).unwrap();
        let Message::Update(u) = m else { panic!() };
        assert_eq!(u.withdrawn, vec![p("203.0.113.0/24")]);
        assert_eq!(u.nlri, vec![p("198.51.100.0/24")]);
        assert_eq!(
            u.attributes[1],
            PathAttribute::MpReach(MpReach {
                family: v6,
                next_hop: crate::wire::attribute::MpNextHop::Addresses(vec![nh.into()]),
                nlri: MpNlri::Prefixes(vec![p("2001:db8::/32")]),
            })
        );
        // The codec's encoder gives the same octets (it keeps MP_REACH's two-octet length).
        let mut again = Message::Update(u).encode(ctx);
        assert_eq!(again, out);
        again.clear();
        // An End-of-RIB marker is an empty MP_UNREACH.
        let mut w = UpdateWriter::begin(&mut again, 4096);
        w.mp_unreach(v6);
        w.finish();
        let (m, _) = Message::decode(&again, DecodeContext::default()).unwrap();
        let Message::Update(u) = m else { panic!() };
        assert_eq!(
            u.attributes,
            vec![PathAttribute::MpUnreach(MpUnreach {
                family: v6,
                nlri: MpNlri::Prefixes(Vec::new())
            })]
        );
        assert_eq!(Update::end_of_rib(&u), Some(v6));
    }

    #[test]
    fn push_stops_at_the_maximum_message_size() {
        let mut out = Vec::new();
        let mut w = UpdateWriter::begin(&mut out, 4096);
        w.nlri();
        let mut n = 0;
        while w.push(|o| p("198.51.100.0/24").emit(o)) {
            n += 1;
        }
        w.finish();
        // Header 19, withdrawn length 2, attribute length 2: 4073 octets of /24s.
        assert_eq!(n, (4096 - 23) / 4);
        assert!(out.len() <= 4096);
    }
}
