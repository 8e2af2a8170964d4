//! Path attributes (RFC 4271 §4.3, §5) with RFC 7606 error handling.
//!
//! The typed value of every attribute is a [`PathAttribute`]; everything else about an
//! attribute (flags, RFC 7606 action, codec, export rule, formatters) is its row in
//! [`table::ATTRIBUTES`]. This module dispatches to the rows and holds the codecs shared by
//! several of them (AS paths, the NLRI of MP_REACH / MP_UNREACH).

mod table;

pub use table::{
    ATTRIBUTES, AttributeRow, ExportContext, Malformed, OTC_SELF, by_keyword, export, info,
    type_code,
};

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::aspath::{AsPath, AsSegment, SegmentType};
use super::community::{Community, ExtendedCommunity, LargeCommunity};
use super::error::{DecodeError, DecodeErrorKind, ErrorAction};
use super::family::{Afi, Family, FamilySet, Safi};
use super::flowspec;
use super::labeled::{self, LabeledPrefix};
use super::notification::{Notification, code, subcode};
use super::prefix::{PathPrefix, Prefix};
use super::reader::Reader;

/// Attribute flag bits (RFC 4271 §4.3).
pub mod flag {
    pub const OPTIONAL: u8 = 0x80;
    pub const TRANSITIVE: u8 = 0x40;
    pub const PARTIAL: u8 = 0x20;
    pub const EXTENDED_LENGTH: u8 = 0x10;
}

use flag::{OPTIONAL, TRANSITIVE};
use type_code as tc;

/// RFC 4271 §5.1.1 ORIGIN.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Origin {
    #[default]
    Igp,
    Egp,
    Incomplete,
}

impl Origin {
    pub fn from_u8(v: u8) -> Option<Origin> {
        match v {
            0 => Some(Origin::Igp),
            1 => Some(Origin::Egp),
            2 => Some(Origin::Incomplete),
            _ => None,
        }
    }
    pub fn to_u8(self) -> u8 {
        match self {
            Origin::Igp => 0,
            Origin::Egp => 1,
            Origin::Incomplete => 2,
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Origin::Igp => "igp",
            Origin::Egp => "egp",
            Origin::Incomplete => "incomplete",
        }
    }
}

/// Next hop(s) of MP_REACH_NLRI.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MpNextHop {
    /// 4, 16 or 32 (global + link-local) octets of plain addresses.
    Addresses(Vec<IpAddr>),
    /// RFC 4364 §4.3.2 / RFC 4659 §3.2.1: address(es) each behind a zero route distinguisher.
    Vpn(Vec<IpAddr>),
    /// Any other form (VPN with a non-zero RD, FlowSpec's empty next hop...).
    Raw(Vec<u8>),
}

/// NLRI of a multiprotocol attribute: prefixes for unicast/multicast, raw bytes otherwise.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MpNlri {
    Prefixes(Vec<Prefix>),
    /// Unicast or multicast prefixes each behind a path identifier (RFC 7911 ADD-PATH).
    Paths(Vec<PathPrefix>),
    /// Labeled unicast (SAFI 4) and MPLS VPN (SAFI 128) entries.
    Labeled(Vec<LabeledPrefix>),
    Raw(Vec<u8>),
}

impl MpNlri {
    pub fn is_empty(&self) -> bool {
        match self {
            MpNlri::Prefixes(p) => p.is_empty(),
            MpNlri::Paths(p) => p.is_empty(),
            MpNlri::Labeled(l) => l.is_empty(),
            MpNlri::Raw(r) => r.is_empty(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MpReach {
    pub family: Family,
    pub next_hop: MpNextHop,
    pub nlri: MpNlri,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MpUnreach {
    pub family: Family,
    pub nlri: MpNlri,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PathAttribute {
    Origin(Origin),
    AsPath(AsPath),
    NextHop(Ipv4Addr),
    Med(u32),
    LocalPref(u32),
    AtomicAggregate,
    Aggregator {
        asn: u32,
        address: Ipv4Addr,
    },
    Communities(Vec<Community>),
    OriginatorId(Ipv4Addr),
    ClusterList(Vec<Ipv4Addr>),
    MpReach(MpReach),
    MpUnreach(MpUnreach),
    ExtendedCommunities(Vec<ExtendedCommunity>),
    As4Path(AsPath),
    As4Aggregator {
        asn: u32,
        address: Ipv4Addr,
    },
    LargeCommunities(Vec<LargeCommunity>),
    /// RFC 5701: 20-octet IPv6-address-specific extended communities, kept raw.
    Ipv6ExtendedCommunities(Vec<[u8; 20]>),
    /// RFC 7311: AIGP TLVs (type, value); type 1 is the 8-octet accumulated metric.
    Aigp(Vec<(u8, Vec<u8>)>),
    /// RFC 9234: Only to Customer, the ASN.
    Otc(u32),
    /// An attribute we do not interpret, kept with its flags so it can be shown and re-sent.
    Unknown {
        flags: u8,
        code: u8,
        value: Vec<u8>,
    },
}

/// Session facts that change how attributes are encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AttributeContext {
    /// RFC 6793: both sides sent the 4-octet AS capability.
    pub four_octet_as: bool,
}

impl PathAttribute {
    pub fn name(&self) -> &'static str {
        info(self.code()).map(|i| i.name).unwrap_or("UNKNOWN")
    }

    /// Appends the whole attribute: flags, type, length (extended when over 255), value.
    pub fn emit(&self, ctx: AttributeContext, out: &mut Vec<u8>) {
        self.emit_with(ctx, 0, out);
    }

    /// Like [`emit`](Self::emit), always with a two-octet length.
    pub fn emit_long(&self, ctx: AttributeContext, out: &mut Vec<u8>) {
        self.emit_with(ctx, flag::EXTENDED_LENGTH, out);
    }

    fn emit_with(&self, ctx: AttributeContext, extra_flags: u8, out: &mut Vec<u8>) {
        let mut value = Vec::new();
        self.emit_value(ctx, &mut value);
        emit_raw(self.flags() | extra_flags, self.code(), &value, out);
    }

    /// The optional, transitive and partial flags it is sent with: its row's, or as
    /// received (or configured) for an attribute kept raw.
    pub fn flags(&self) -> u8 {
        match self {
            PathAttribute::Unknown { flags, .. } => flags & !flag::EXTENDED_LENGTH,
            other => info(other.code()).map_or(OPTIONAL, |i| i.flags),
        }
    }

    /// Appends the value octets (no flags, type or length).
    pub fn emit_value(&self, ctx: AttributeContext, out: &mut Vec<u8>) {
        match self {
            PathAttribute::Unknown { value, .. } => out.extend_from_slice(value),
            other => {
                if let Some(row) = info(other.code()) {
                    (row.encode)(other, ctx, out)
                }
            }
        }
    }
}

/// MP_REACH_NLRI / MP_UNREACH_NLRI values (their rows' encoder).
fn emit_mp_value(a: &PathAttribute, _: AttributeContext, out: &mut Vec<u8>) {
    match a {
        PathAttribute::MpReach(m) => {
            let mut nh = Vec::new();
            match &m.next_hop {
                MpNextHop::Addresses(v) => {
                    for a in v {
                        match a {
                            IpAddr::V4(a) => nh.extend_from_slice(&a.octets()),
                            IpAddr::V6(a) => nh.extend_from_slice(&a.octets()),
                        }
                    }
                }
                MpNextHop::Vpn(v) => labeled::emit_vpn_next_hop(v, &mut nh),
                MpNextHop::Raw(r) => nh.extend_from_slice(r),
            }
            super::update_writer::mp_reach_head(m.family, &nh, out);
            emit_nlri(&m.nlri, out);
        }
        PathAttribute::MpUnreach(m) => {
            m.family.emit(out);
            emit_nlri(&m.nlri, out);
        }
        _ => {}
    }
}

/// RFC 6793 §4.2.2: an ASN that does not fit in 2 octets is sent as AS_TRANS.
pub fn as2(asn: u32) -> u16 {
    u16::try_from(asn).unwrap_or(super::aspath::AS_TRANS as u16)
}

/// Appends flags, type and length: two octets when the value is over 255 octets or `flags`
/// asks for the extended length.
pub fn emit_raw(flags: u8, code: u8, value: &[u8], out: &mut Vec<u8>) {
    if value.len() > 255 || flags & flag::EXTENDED_LENGTH != 0 {
        out.push(flags | flag::EXTENDED_LENGTH);
        out.push(code);
        out.extend_from_slice(&(value.len() as u16).to_be_bytes());
    } else {
        out.push(flags & !flag::EXTENDED_LENGTH);
        out.push(code);
        out.push(value.len() as u8);
    }
    out.extend_from_slice(value);
}

fn emit_nlri(n: &MpNlri, out: &mut Vec<u8>) {
    match n {
        MpNlri::Prefixes(v) => v.iter().for_each(|p| p.emit(out)),
        MpNlri::Paths(v) => v.iter().for_each(|p| p.emit(out)),
        MpNlri::Labeled(v) => v.iter().for_each(|p| p.emit(out)),
        MpNlri::Raw(r) => out.extend_from_slice(r),
    }
}

/// Appends an AS path in 2- or 4-octet form. Segments longer than 255 ASNs are split.
pub fn emit_as_path(path: &AsPath, four_octet: bool, out: &mut Vec<u8>) {
    for seg in &path.segments {
        for chunk in seg.asns.chunks(255) {
            out.push(seg.kind.to_u8());
            out.push(chunk.len() as u8);
            for &asn in chunk {
                if four_octet {
                    out.extend_from_slice(&asn.to_be_bytes());
                } else {
                    out.extend_from_slice(&as2(asn).to_be_bytes());
                }
            }
        }
    }
}

/// Decodes an AS path value. `None` when malformed (RFC 7606 §7.2).
pub fn decode_as_path(value: &[u8], four_octet: bool) -> Option<AsPath> {
    let width = if four_octet { 4 } else { 2 };
    let mut r = Reader::new(value);
    let mut segments = Vec::new();
    while !r.is_empty() {
        let kind = SegmentType::from_u8(r.u8().ok()?)?;
        let count = r.u8().ok()? as usize;
        if count == 0 {
            return None;
        }
        let mut asns = Vec::with_capacity(count);
        for _ in 0..count {
            asns.push(if width == 4 {
                r.u32().ok()?
            } else {
                r.u16().ok()? as u32
            });
        }
        segments.push(AsSegment { kind, asns });
    }
    Some(AsPath { segments })
}

/// Decodes a run of prefixes of one family, each read by `item` (which may read a path
/// identifier first). `None` when a length is too long for the family (see
/// [`Prefix::read_bits`]) or the bytes run out in the middle of an entry.
fn decode_run<T>(bytes: &[u8], mut item: impl FnMut(&mut Reader) -> Option<T>) -> Option<Vec<T>> {
    let mut r = Reader::new(bytes);
    let mut out = Vec::new();
    while !r.is_empty() {
        out.push(item(&mut r)?);
    }
    Some(out)
}

/// Decodes a run of prefixes of one family. `None` when a length is too long or the bytes
/// run out in the middle of a prefix.
pub fn decode_prefixes(bytes: &[u8], afi: Afi) -> Option<Vec<Prefix>> {
    decode_run(bytes, |r| {
        let len = r.u8().ok()?;
        Prefix::read_bits(r, afi, len)
    })
}

/// Decodes a run of prefixes each preceded by an RFC 7911 path identifier (RFC 7911 §3).
/// `None` as for [`decode_prefixes`], or when the bytes end inside an identifier.
pub fn decode_path_prefixes(bytes: &[u8], afi: Afi) -> Option<Vec<PathPrefix>> {
    decode_run(bytes, |r| {
        let path_id = r.u32().ok()?;
        let len = r.u8().ok()?;
        Some(PathPrefix {
            path_id,
            prefix: Prefix::read_bits(r, afi, len)?,
        })
    })
}

/// The error for a malformed attribute, with the action from the attribute table.
fn malformed(code: u8, kind: DecodeErrorKind, offset: usize) -> DecodeError {
    let action = match info(code).map(|i| i.on_error) {
        Some(Malformed::Discard) => ErrorAction::AttributeDiscard,
        Some(Malformed::Withdraw) | None => ErrorAction::TreatAsWithdraw,
        Some(Malformed::Reset(sub)) => {
            ErrorAction::SessionReset(Notification::new(code::UPDATE_MESSAGE, sub, Vec::new()))
        }
    };
    DecodeError::new(kind, offset, action)
}

/// Decodes one attribute value. `offset` is where the attribute (its flags octet) starts;
/// the NLRI of MP_REACH / MP_UNREACH carry path identifiers in the families of `add_path`.
pub fn decode_attribute(
    flags: u8,
    code: u8,
    value: &[u8],
    offset: usize,
    ctx: AttributeContext,
    add_path: FamilySet,
) -> Result<PathAttribute, DecodeError> {
    let Some(row) = info(code) else {
        if flags & OPTIONAL == 0 {
            // RFC 4271 §6.3: an unrecognized well-known attribute resets the session.
            let mut data = Vec::new();
            emit_raw(flags, code, value, &mut data);
            return Err(DecodeError::new(
                DecodeErrorKind::UnrecognizedWellKnownAttribute(code),
                offset,
                ErrorAction::SessionReset(Notification::new(
                    code::UPDATE_MESSAGE,
                    subcode::UNRECOGNIZED_WELL_KNOWN_ATTRIBUTE,
                    data,
                )),
            ));
        }
        // The extended-length bit describes this encoding, not the attribute: drop it so
        // that re-encoding a short value does not change the decoded flags.
        return Ok(PathAttribute::Unknown {
            flags: flags & !flag::EXTENDED_LENGTH,
            code,
            value: value.to_vec(),
        });
    };
    if flags & (OPTIONAL | TRANSITIVE) != row.flags {
        return Err(malformed(
            code,
            DecodeErrorKind::AttributeFlags {
                type_code: code,
                flags,
            },
            offset,
        ));
    }
    let d = table::Decoding {
        flags,
        offset,
        ctx,
        add_path,
    };
    (row.decode)(value, &d).map_err(|e| match e {
        table::BadValue::Length => malformed(
            code,
            DecodeErrorKind::AttributeLength {
                type_code: code,
                length: value.len(),
            },
            offset,
        ),
        table::BadValue::Kind(kind) => malformed(code, kind, offset),
        table::BadValue::Full(e) => e,
    })
}

fn mp_error(kind: DecodeErrorKind, offset: usize) -> DecodeError {
    malformed(tc::MP_REACH_NLRI, kind, offset)
}

fn decode_mp_family(r: &mut Reader, offset: usize) -> Result<Family, DecodeError> {
    let afi = r.u16().map_err(|_| {
        mp_error(
            DecodeErrorKind::AttributeLength {
                type_code: tc::MP_REACH_NLRI,
                length: 0,
            },
            offset,
        )
    })?;
    let safi = r.u8().map_err(|_| {
        mp_error(
            DecodeErrorKind::AttributeLength {
                type_code: tc::MP_REACH_NLRI,
                length: 2,
            },
            offset,
        )
    })?;
    Ok(Family::new(Afi::from_u16(afi), Safi::from_u8(safi)))
}

fn decode_mp_nlri(
    family: Family,
    bytes: &[u8],
    offset: usize,
    add_path: FamilySet,
) -> Result<MpNlri, DecodeError> {
    let with_ids = add_path.contains(family);
    match family.safi {
        Safi::Unicast | Safi::Multicast if !matches!(family.afi, Afi::Unknown(_)) => {
            let nlri = if with_ids {
                decode_path_prefixes(bytes, family.afi).map(MpNlri::Paths)
            } else {
                decode_prefixes(bytes, family.afi).map(MpNlri::Prefixes)
            };
            nlri.ok_or_else(|| {
                // RFC 7606 §5.3: NLRI that cannot be parsed resets the session.
                DecodeError::reset(
                    DecodeErrorKind::InvalidNetworkField,
                    offset,
                    code::UPDATE_MESSAGE,
                    subcode::OPTIONAL_ATTRIBUTE_ERROR,
                )
            })
        }
        _ if labeled::is_labeled(family) => labeled::decode_labeled(bytes, family, with_ids)
            .map(MpNlri::Labeled)
            .ok_or_else(|| {
                // RFC 7606 §5.3, as for unicast NLRI.
                DecodeError::reset(
                    DecodeErrorKind::InvalidNetworkField,
                    offset,
                    code::UPDATE_MESSAGE,
                    subcode::OPTIONAL_ATTRIBUTE_ERROR,
                )
            }),
        // RFC 7911 ADD-PATH for FlowSpec: each rule behind its path identifier. The bytes
        // stay raw (with the identifiers); a rule that does not decode is treat-as-withdraw.
        Safi::FlowSpec | Safi::FlowSpecVpn if with_ids => {
            let error = if family.safi == Safi::FlowSpec {
                flowspec::flow_afi(family)
                    .map(|afi| flowspec::decode_nlri_paths(bytes, afi).map(|_| ()))
                    .and_then(Result::err)
                    .map(DecodeErrorKind::MalformedFlowSpec)
            } else {
                match family.afi {
                    Afi::Ipv4 | Afi::Ipv6 => {
                        super::nlri::flow_vpn::decode_rule_paths(bytes, family.afi)
                            .err()
                            .map(|error| DecodeErrorKind::MalformedFamilyNlri { family, error })
                    }
                    _ => None,
                }
            };
            match error {
                Some(kind) => Err(DecodeError::new(kind, offset, ErrorAction::TreatAsWithdraw)),
                None => Ok(MpNlri::Raw(bytes.to_vec())),
            }
        }
        // RFC 8955 §4.2 / RFC 7606 §5.4: a FlowSpec NLRI that does not decode is
        // treat-as-withdraw. The rules stay raw here; `flowspec::family_rules` shows them.
        _ => match flowspec::family_rules(family, bytes) {
            Some(Err(e)) => Err(DecodeError::new(
                DecodeErrorKind::MalformedFlowSpec(e),
                offset,
                ErrorAction::TreatAsWithdraw,
            )),
            Some(Ok(_)) => Ok(MpNlri::Raw(bytes.to_vec())),
            // The families of `wire::nlri` stay raw too, but must parse: EVPN, VPLS, MUP, SR
            // Policy, MCAST-VPN, RTC, BGP-LS NLRI that cannot be read reset the session (RFC
            // 7606 §5.3, as for unicast); FlowSpec VPN is FlowSpec (treat-as-withdraw).
            None => match super::nlri::decode(family, bytes) {
                Some(Err(error)) => {
                    let kind = DecodeErrorKind::MalformedFamilyNlri { family, error };
                    Err(if family.safi == Safi::FlowSpecVpn {
                        DecodeError::new(kind, offset, ErrorAction::TreatAsWithdraw)
                    } else {
                        DecodeError::reset(
                            kind,
                            offset,
                            code::UPDATE_MESSAGE,
                            subcode::OPTIONAL_ATTRIBUTE_ERROR,
                        )
                    })
                }
                _ => Ok(MpNlri::Raw(bytes.to_vec())),
            },
        },
    }
}

fn decode_mp_reach(
    value: &[u8],
    offset: usize,
    add_path: FamilySet,
) -> Result<MpReach, DecodeError> {
    let mut r = Reader::at(value, offset);
    let family = decode_mp_family(&mut r, offset)?;
    let nh_len_err = |l| mp_error(DecodeErrorKind::InvalidMpNextHop(l), offset);
    let nh_len = r.u8().map_err(|_| nh_len_err(0))? as usize;
    let nh = r.bytes(nh_len).map_err(|_| nh_len_err(nh_len))?;
    r.u8().map_err(|_| nh_len_err(nh_len))?; // reserved
    let next_hop = match (family.safi, nh.len()) {
        (Safi::Unicast | Safi::Multicast | Safi::MplsLabel, 4) => {
            let a: [u8; 4] = nh.try_into().map_err(|_| nh_len_err(4))?;
            MpNextHop::Addresses(vec![IpAddr::V4(Ipv4Addr::from(a))])
        }
        (Safi::Unicast | Safi::Multicast | Safi::MplsLabel, 16 | 32) => MpNextHop::Addresses(
            nh.chunks_exact(16)
                .filter_map(|c| <[u8; 16]>::try_from(c).ok())
                .map(|a| IpAddr::V6(Ipv6Addr::from(a)))
                .collect(),
        ),
        (Safi::Unicast | Safi::Multicast, l) => return Err(nh_len_err(l)),
        (Safi::MplsVpn, _) => labeled::decode_vpn_next_hop(nh)
            .map(MpNextHop::Vpn)
            .unwrap_or_else(|| MpNextHop::Raw(nh.to_vec())),
        _ => MpNextHop::Raw(nh.to_vec()),
    };
    let nlri = decode_mp_nlri(family, r.rest(), offset, add_path)?;
    Ok(MpReach {
        family,
        next_hop,
        nlri,
    })
}

fn decode_mp_unreach(
    value: &[u8],
    offset: usize,
    add_path: FamilySet,
) -> Result<MpUnreach, DecodeError> {
    let mut r = Reader::at(value, offset);
    let family = decode_mp_family(&mut r, offset)?;
    let nlri = decode_mp_nlri(family, r.rest(), offset, add_path)?;
    Ok(MpUnreach { family, nlri })
}

impl fmt::Display for PathAttribute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self, info(self.code())) {
            (PathAttribute::Unknown { code, .. }, Some(row)) if row.code == *code => {
                (row.text)(self, f)
            }
            (PathAttribute::Unknown { flags, code, value }, _) => {
                write!(
                    f,
                    "attribute {code} flags 0x{flags:02x} value 0x{}",
                    hex(value)
                )
            }
            (_, Some(row)) => (row.text)(self, f),
            (_, None) => Ok(()),
        }
    }
}

impl PathAttribute {
    /// The attribute in the configuration's words, with a leading space
    /// (` large-community [ 65000:1:2 ]`); nothing for one that is not configured.
    pub fn write_words(&self, out: &mut String) {
        match (self, info(self.code())) {
            (PathAttribute::Unknown { .. }, None) => table::generic_words(self, out),
            (_, Some(row)) => (row.words)(self, out),
            (_, None) => {}
        }
    }

    /// The test-vector fact of the attribute: key and value.
    pub fn fact(&self) -> Option<(&'static str, String)> {
        let row = info(self.code())?;
        (!row.fact.0.is_empty()).then(|| (row.fact.0, (row.fact.1)(self)))
    }
}

/// MP_REACH_NLRI / MP_UNREACH_NLRI text (their rows' formatter).
fn mp_text(a: &PathAttribute, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    match a {
        PathAttribute::MpReach(m) => {
            write!(f, "mp-reach {} next-hop", m.family)?;
            match &m.next_hop {
                MpNextHop::Addresses(v) => v.iter().try_for_each(|a| write!(f, " {a}"))?,
                MpNextHop::Vpn(v) => v.iter().try_for_each(|a| write!(f, " 0:0/{a}"))?,
                MpNextHop::Raw(r) if r.is_empty() => f.write_str(" none")?,
                MpNextHop::Raw(r) => match super::nlri::raw_next_hop(r) {
                    Some(a) => a.iter().try_for_each(|a| write!(f, " {a}"))?,
                    None => write!(f, " 0x{}", hex(r))?,
                },
            }
            write_nlri(f, m.family, &m.nlri)
        }
        PathAttribute::MpUnreach(m) => {
            write!(f, "mp-unreach {}", m.family)?;
            write_nlri(f, m.family, &m.nlri)
        }
        _ => Ok(()),
    }
}

fn write_nlri(f: &mut fmt::Formatter<'_>, family: Family, n: &MpNlri) -> fmt::Result {
    fn list<T: fmt::Display>(f: &mut fmt::Formatter<'_>, v: &[T]) -> fmt::Result {
        f.write_str(" nlri [")?;
        for (i, p) in v.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            write!(f, "{p}")?;
        }
        f.write_str("]")
    }
    match n {
        MpNlri::Prefixes(v) => list(f, v),
        MpNlri::Paths(v) => list(f, v),
        MpNlri::Labeled(v) => list(f, v),
        MpNlri::Raw(r) => match flowspec::family_rules(family, r) {
            Some(Ok(rules)) => write!(f, " nlri [{}]", flowspec::rules_text(&rules)),
            // EVPN, RTC, FlowSpec VPN, ...: their NLRI in configuration words.
            _ => match super::nlri::family_text(family, r) {
                Some(t) if !r.is_empty() => write!(f, " nlri [{t}]"),
                _ => write!(f, " nlri 0x{}", hex(r)),
            },
        },
    }
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
