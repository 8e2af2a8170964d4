//! Path attributes (RFC 4271 §4.3, §5) with RFC 7606 error handling.
//!
//! [`ATTRIBUTES`] lists every attribute we know with its flags, name and the RFC 7606 action
//! for a malformed value: adding an attribute is one row there plus its value codec.

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
use crate::rib::attributes::Origin;

/// Attribute flag bits (RFC 4271 §4.3).
pub mod flag {
    pub const OPTIONAL: u8 = 0x80;
    pub const TRANSITIVE: u8 = 0x40;
    pub const PARTIAL: u8 = 0x20;
    pub const EXTENDED_LENGTH: u8 = 0x10;
}

/// Attribute type codes (IANA "BGP Path Attributes").
pub mod type_code {
    pub const ORIGIN: u8 = 1;
    pub const AS_PATH: u8 = 2;
    pub const NEXT_HOP: u8 = 3;
    pub const MED: u8 = 4;
    pub const LOCAL_PREF: u8 = 5;
    pub const ATOMIC_AGGREGATE: u8 = 6;
    pub const AGGREGATOR: u8 = 7;
    pub const COMMUNITIES: u8 = 8; // RFC 1997
    pub const ORIGINATOR_ID: u8 = 9; // RFC 4456
    pub const CLUSTER_LIST: u8 = 10; // RFC 4456
    pub const MP_REACH_NLRI: u8 = 14; // RFC 4760
    pub const MP_UNREACH_NLRI: u8 = 15; // RFC 4760
    pub const EXTENDED_COMMUNITIES: u8 = 16; // RFC 4360
    pub const AS4_PATH: u8 = 17; // RFC 6793
    pub const AS4_AGGREGATOR: u8 = 18; // RFC 6793
    pub const TUNNEL_ENCAPSULATION: u8 = 23; // RFC 9012
    pub const IPV6_EXTENDED_COMMUNITIES: u8 = 25; // RFC 5701
    pub const AIGP: u8 = 26; // RFC 7311
    pub const LARGE_COMMUNITY: u8 = 32; // RFC 8092
    pub const OTC: u8 = 35; // RFC 9234
}

use flag::{OPTIONAL, TRANSITIVE};
use type_code as tc;

/// One row of the attribute table.
pub struct AttributeInfo {
    pub code: u8,
    pub name: &'static str,
    /// Expected optional and transitive bits.
    pub flags: u8,
    /// What to do when the value is malformed (RFC 7606 §7).
    pub on_error: Malformed,
}

/// RFC 7606 action for a malformed attribute, before a NOTIFICATION is attached.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Malformed {
    Discard,
    Withdraw,
    /// Session reset with UPDATE Message Error and this subcode.
    Reset(u8),
}

pub const ATTRIBUTES: &[AttributeInfo] = &[
    AttributeInfo {
        code: tc::ORIGIN,
        name: "ORIGIN",
        flags: TRANSITIVE,
        on_error: Malformed::Withdraw,
    },
    AttributeInfo {
        code: tc::AS_PATH,
        name: "AS_PATH",
        flags: TRANSITIVE,
        on_error: Malformed::Withdraw,
    },
    AttributeInfo {
        code: tc::NEXT_HOP,
        name: "NEXT_HOP",
        flags: TRANSITIVE,
        on_error: Malformed::Withdraw,
    },
    AttributeInfo {
        code: tc::MED,
        name: "MULTI_EXIT_DISC",
        flags: OPTIONAL,
        on_error: Malformed::Withdraw,
    },
    AttributeInfo {
        code: tc::LOCAL_PREF,
        name: "LOCAL_PREF",
        flags: TRANSITIVE,
        on_error: Malformed::Withdraw,
    },
    AttributeInfo {
        code: tc::ATOMIC_AGGREGATE,
        name: "ATOMIC_AGGREGATE",
        flags: TRANSITIVE,
        on_error: Malformed::Discard,
    },
    AttributeInfo {
        code: tc::AGGREGATOR,
        name: "AGGREGATOR",
        flags: OPTIONAL | TRANSITIVE,
        on_error: Malformed::Discard,
    },
    AttributeInfo {
        code: tc::COMMUNITIES,
        name: "COMMUNITIES",
        flags: OPTIONAL | TRANSITIVE,
        on_error: Malformed::Withdraw,
    },
    AttributeInfo {
        code: tc::ORIGINATOR_ID,
        name: "ORIGINATOR_ID",
        flags: OPTIONAL,
        on_error: Malformed::Withdraw,
    },
    AttributeInfo {
        code: tc::CLUSTER_LIST,
        name: "CLUSTER_LIST",
        flags: OPTIONAL,
        on_error: Malformed::Withdraw,
    },
    AttributeInfo {
        code: tc::MP_REACH_NLRI,
        name: "MP_REACH_NLRI",
        flags: OPTIONAL,
        on_error: Malformed::Reset(subcode::OPTIONAL_ATTRIBUTE_ERROR),
    },
    AttributeInfo {
        code: tc::MP_UNREACH_NLRI,
        name: "MP_UNREACH_NLRI",
        flags: OPTIONAL,
        on_error: Malformed::Reset(subcode::OPTIONAL_ATTRIBUTE_ERROR),
    },
    AttributeInfo {
        code: tc::EXTENDED_COMMUNITIES,
        name: "EXTENDED_COMMUNITIES",
        flags: OPTIONAL | TRANSITIVE,
        on_error: Malformed::Withdraw,
    },
    AttributeInfo {
        code: tc::AS4_PATH,
        name: "AS4_PATH",
        flags: OPTIONAL | TRANSITIVE,
        on_error: Malformed::Discard,
    },
    AttributeInfo {
        code: tc::AS4_AGGREGATOR,
        name: "AS4_AGGREGATOR",
        flags: OPTIONAL | TRANSITIVE,
        on_error: Malformed::Discard,
    },
    // RFC 9012 §13: an attribute that cannot be parsed is discarded (kept raw otherwise).
    AttributeInfo {
        code: tc::TUNNEL_ENCAPSULATION,
        name: "TUNNEL_ENCAPSULATION",
        flags: OPTIONAL | TRANSITIVE,
        on_error: Malformed::Discard,
    },
    AttributeInfo {
        code: tc::IPV6_EXTENDED_COMMUNITIES,
        name: "IPV6_EXTENDED_COMMUNITIES",
        flags: OPTIONAL | TRANSITIVE,
        on_error: Malformed::Withdraw,
    },
    // RFC 7311 §3.1: a malformed AIGP attribute is discarded.
    AttributeInfo {
        code: tc::AIGP,
        name: "AIGP",
        flags: OPTIONAL,
        on_error: Malformed::Discard,
    },
    AttributeInfo {
        code: tc::LARGE_COMMUNITY,
        name: "LARGE_COMMUNITY",
        flags: OPTIONAL | TRANSITIVE,
        on_error: Malformed::Withdraw,
    },
    // RFC 9234 §5: a malformed OTC attribute is treat-as-withdraw.
    AttributeInfo {
        code: tc::OTC,
        name: "OTC",
        flags: OPTIONAL | TRANSITIVE,
        on_error: Malformed::Withdraw,
    },
];

pub fn info(code: u8) -> Option<&'static AttributeInfo> {
    ATTRIBUTES.iter().find(|a| a.code == code)
}

/// Next hop(s) of MP_REACH_NLRI.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MpNextHop {
    /// 4, 16 or 32 (global + link-local) octets of plain addresses.
    Addresses(Vec<IpAddr>),
    /// RFC 4364 §4.3.2 / RFC 4659 §3.2.1: address(es) each behind a zero route distinguisher.
    Vpn(Vec<IpAddr>),
    /// Any other form (VPN with a non-zero RD, FlowSpec's empty next hop...).
    Raw(Vec<u8>),
}

/// NLRI of a multiprotocol attribute: prefixes for unicast/multicast, raw bytes otherwise.
#[derive(Clone, Debug, PartialEq, Eq)]
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

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MpReach {
    pub family: Family,
    pub next_hop: MpNextHop,
    pub nlri: MpNlri,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MpUnreach {
    pub family: Family,
    pub nlri: MpNlri,
}

#[derive(Clone, Debug, PartialEq, Eq)]
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
    pub fn code(&self) -> u8 {
        match self {
            PathAttribute::Origin(_) => tc::ORIGIN,
            PathAttribute::AsPath(_) => tc::AS_PATH,
            PathAttribute::NextHop(_) => tc::NEXT_HOP,
            PathAttribute::Med(_) => tc::MED,
            PathAttribute::LocalPref(_) => tc::LOCAL_PREF,
            PathAttribute::AtomicAggregate => tc::ATOMIC_AGGREGATE,
            PathAttribute::Aggregator { .. } => tc::AGGREGATOR,
            PathAttribute::Communities(_) => tc::COMMUNITIES,
            PathAttribute::OriginatorId(_) => tc::ORIGINATOR_ID,
            PathAttribute::ClusterList(_) => tc::CLUSTER_LIST,
            PathAttribute::MpReach(_) => tc::MP_REACH_NLRI,
            PathAttribute::MpUnreach(_) => tc::MP_UNREACH_NLRI,
            PathAttribute::ExtendedCommunities(_) => tc::EXTENDED_COMMUNITIES,
            PathAttribute::As4Path(_) => tc::AS4_PATH,
            PathAttribute::As4Aggregator { .. } => tc::AS4_AGGREGATOR,
            PathAttribute::LargeCommunities(_) => tc::LARGE_COMMUNITY,
            PathAttribute::Ipv6ExtendedCommunities(_) => tc::IPV6_EXTENDED_COMMUNITIES,
            PathAttribute::Aigp(_) => tc::AIGP,
            PathAttribute::Otc(_) => tc::OTC,
            PathAttribute::Unknown { code, .. } => *code,
        }
    }

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
        let base_flags = match self {
            PathAttribute::Unknown { flags, .. } => flags & !flag::EXTENDED_LENGTH,
            other => info(other.code()).map(|i| i.flags).unwrap_or(OPTIONAL),
        };
        emit_raw(base_flags | extra_flags, self.code(), &value, out);
    }

    fn emit_value(&self, ctx: AttributeContext, out: &mut Vec<u8>) {
        match self {
            PathAttribute::Origin(o) => out.push(o.to_u8()),
            PathAttribute::AsPath(p) => emit_as_path(p, ctx.four_octet_as, out),
            PathAttribute::As4Path(p) => emit_as_path(p, true, out),
            PathAttribute::NextHop(a) | PathAttribute::OriginatorId(a) => {
                out.extend_from_slice(&a.octets())
            }
            PathAttribute::Med(v) | PathAttribute::LocalPref(v) => {
                out.extend_from_slice(&v.to_be_bytes())
            }
            PathAttribute::AtomicAggregate => {}
            PathAttribute::Aggregator { asn, address } => {
                if ctx.four_octet_as {
                    out.extend_from_slice(&asn.to_be_bytes());
                } else {
                    out.extend_from_slice(&as2(*asn).to_be_bytes());
                }
                out.extend_from_slice(&address.octets());
            }
            PathAttribute::As4Aggregator { asn, address } => {
                out.extend_from_slice(&asn.to_be_bytes());
                out.extend_from_slice(&address.octets());
            }
            PathAttribute::Communities(v) => {
                for c in v {
                    out.extend_from_slice(&c.0.to_be_bytes());
                }
            }
            PathAttribute::ClusterList(v) => {
                for a in v {
                    out.extend_from_slice(&a.octets());
                }
            }
            PathAttribute::ExtendedCommunities(v) => {
                for c in v {
                    out.extend_from_slice(&c.0);
                }
            }
            PathAttribute::Ipv6ExtendedCommunities(v) => {
                v.iter().for_each(|c| out.extend_from_slice(c))
            }
            PathAttribute::Aigp(tlvs) => {
                for (t, value) in tlvs {
                    out.push(*t);
                    out.extend_from_slice(&((value.len() + 3) as u16).to_be_bytes());
                    out.extend_from_slice(value);
                }
            }
            PathAttribute::Otc(asn) => out.extend_from_slice(&asn.to_be_bytes()),
            PathAttribute::LargeCommunities(v) => {
                for c in v {
                    out.extend_from_slice(&c.global.to_be_bytes());
                    out.extend_from_slice(&c.local1.to_be_bytes());
                    out.extend_from_slice(&c.local2.to_be_bytes());
                }
            }
            PathAttribute::MpReach(m) => {
                emit_family(m.family, out);
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
                out.push(nh.len() as u8);
                out.extend_from_slice(&nh);
                out.push(0); // reserved (RFC 4760 §3)
                emit_nlri(&m.nlri, out);
            }
            PathAttribute::MpUnreach(m) => {
                emit_family(m.family, out);
                emit_nlri(&m.nlri, out);
            }
            PathAttribute::Unknown { value, .. } => out.extend_from_slice(value),
        }
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

fn emit_family(f: Family, out: &mut Vec<u8>) {
    out.extend_from_slice(&f.afi.to_u16().to_be_bytes());
    out.push(f.safi.to_u8());
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
    let bad_len = || {
        malformed(
            code,
            DecodeErrorKind::AttributeLength {
                type_code: code,
                length: value.len(),
            },
            offset,
        )
    };
    let u32_of = |v: &[u8]| -> Option<u32> { Some(u32::from_be_bytes(v.try_into().ok()?)) };
    let ipv4_of = |v: &[u8]| -> Option<Ipv4Addr> { u32_of(v).map(Ipv4Addr::from) };
    let attr = match code {
        tc::ORIGIN => {
            let [o] = value else { return Err(bad_len()) };
            let origin = Origin::from_u8(*o)
                .ok_or_else(|| malformed(code, DecodeErrorKind::InvalidOrigin(*o), offset))?;
            PathAttribute::Origin(origin)
        }
        tc::AS_PATH | tc::AS4_PATH => {
            let four = code == tc::AS4_PATH || ctx.four_octet_as;
            let path = decode_as_path(value, four)
                .ok_or_else(|| malformed(code, DecodeErrorKind::MalformedAsPath, offset))?;
            if code == tc::AS_PATH {
                PathAttribute::AsPath(path)
            } else {
                PathAttribute::As4Path(path)
            }
        }
        tc::NEXT_HOP => PathAttribute::NextHop(ipv4_of(value).ok_or_else(bad_len)?),
        tc::MED => PathAttribute::Med(u32_of(value).ok_or_else(bad_len)?),
        tc::LOCAL_PREF => PathAttribute::LocalPref(u32_of(value).ok_or_else(bad_len)?),
        tc::ATOMIC_AGGREGATE => {
            if !value.is_empty() {
                return Err(bad_len());
            }
            PathAttribute::AtomicAggregate
        }
        tc::AGGREGATOR | tc::AS4_AGGREGATOR => {
            let four = code == tc::AS4_AGGREGATOR || ctx.four_octet_as;
            let (asn, addr) = match (four, value.len()) {
                (true, 8) => (u32_of(&value[..4]), ipv4_of(&value[4..])),
                (false, 6) => (
                    Some(u16::from_be_bytes([value[0], value[1]]) as u32),
                    ipv4_of(&value[2..]),
                ),
                _ => (None, None),
            };
            let (Some(asn), Some(address)) = (asn, addr) else {
                return Err(bad_len());
            };
            if code == tc::AGGREGATOR {
                PathAttribute::Aggregator { asn, address }
            } else {
                PathAttribute::As4Aggregator { asn, address }
            }
        }
        tc::COMMUNITIES => {
            if value.is_empty() || !value.len().is_multiple_of(4) {
                return Err(bad_len());
            }
            PathAttribute::Communities(
                value
                    .chunks_exact(4)
                    .filter_map(u32_of)
                    .map(Community)
                    .collect(),
            )
        }
        tc::ORIGINATOR_ID => PathAttribute::OriginatorId(ipv4_of(value).ok_or_else(bad_len)?),
        tc::CLUSTER_LIST => {
            if value.is_empty() || !value.len().is_multiple_of(4) {
                return Err(bad_len());
            }
            PathAttribute::ClusterList(value.chunks_exact(4).filter_map(ipv4_of).collect())
        }
        tc::EXTENDED_COMMUNITIES => {
            if value.is_empty() || !value.len().is_multiple_of(8) {
                return Err(bad_len());
            }
            PathAttribute::ExtendedCommunities(
                value
                    .chunks_exact(8)
                    .filter_map(|c| c.try_into().ok().map(ExtendedCommunity))
                    .collect(),
            )
        }
        tc::LARGE_COMMUNITY => {
            if value.is_empty() || !value.len().is_multiple_of(12) {
                return Err(bad_len());
            }
            PathAttribute::LargeCommunities(
                value
                    .chunks_exact(12)
                    .filter_map(|c| {
                        Some(LargeCommunity {
                            global: u32_of(c.get(0..4)?)?,
                            local1: u32_of(c.get(4..8)?)?,
                            local2: u32_of(c.get(8..12)?)?,
                        })
                    })
                    .collect(),
            )
        }
        tc::IPV6_EXTENDED_COMMUNITIES => {
            if value.is_empty() || !value.len().is_multiple_of(20) {
                return Err(bad_len());
            }
            PathAttribute::Ipv6ExtendedCommunities(
                value
                    .chunks_exact(20)
                    .filter_map(|c| c.try_into().ok())
                    .collect(),
            )
        }
        tc::AIGP => PathAttribute::Aigp(decode_aigp(value).ok_or_else(bad_len)?),
        tc::TUNNEL_ENCAPSULATION => {
            super::tunnel_encap::decode(value).map_err(|e| {
                malformed(
                    code,
                    DecodeErrorKind::MalformedTunnelEncapsulation(e),
                    offset,
                )
            })?;
            PathAttribute::Unknown {
                flags: flags & !flag::EXTENDED_LENGTH,
                code,
                value: value.to_vec(),
            }
        }
        tc::OTC => PathAttribute::Otc(u32_of(value).ok_or_else(bad_len)?),
        tc::MP_REACH_NLRI => PathAttribute::MpReach(decode_mp_reach(value, offset, add_path)?),
        tc::MP_UNREACH_NLRI => {
            PathAttribute::MpUnreach(decode_mp_unreach(value, offset, add_path)?)
        }
        _ => PathAttribute::Unknown {
            flags: flags & !flag::EXTENDED_LENGTH,
            code,
            value: value.to_vec(),
        },
    };
    Ok(attr)
}

/// RFC 7311 §3: TLVs of type (1), length (2, including the header), value. The AIGP metric
/// TLV (type 1) must have length 11.
fn decode_aigp(value: &[u8]) -> Option<Vec<(u8, Vec<u8>)>> {
    let mut r = Reader::new(value);
    let mut tlvs = Vec::new();
    while !r.is_empty() {
        let t = r.u8().ok()?;
        let len = (r.u16().ok()? as usize).checked_sub(3)?;
        if t == 1 && len != 8 {
            return None;
        }
        tlvs.push((t, r.bytes(len).ok()?.to_vec()));
    }
    (!tlvs.is_empty()).then_some(tlvs)
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
        // RFC 8955 §4.2 / RFC 7606 §5.4: a FlowSpec NLRI that does not decode is
        // treat-as-withdraw. The rules stay raw here; `flowspec::family_rules` shows them.
        _ => match flowspec::family_rules(family, bytes) {
            Some(Err(e)) => Err(DecodeError::new(
                DecodeErrorKind::MalformedFlowSpec(e),
                offset,
                ErrorAction::TreatAsWithdraw,
            )),
            _ => Ok(MpNlri::Raw(bytes.to_vec())),
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
        match self {
            PathAttribute::Origin(o) => write!(f, "origin {}", o.name()),
            PathAttribute::AsPath(p) => write!(f, "as-path [{p}]"),
            PathAttribute::As4Path(p) => write!(f, "as4-path [{p}]"),
            PathAttribute::NextHop(a) => write!(f, "next-hop {a}"),
            PathAttribute::Med(v) => write!(f, "med {v}"),
            PathAttribute::LocalPref(v) => write!(f, "local-preference {v}"),
            PathAttribute::AtomicAggregate => f.write_str("atomic-aggregate"),
            PathAttribute::Aggregator { asn, address } => write!(f, "aggregator {asn}:{address}"),
            PathAttribute::As4Aggregator { asn, address } => {
                write!(f, "as4-aggregator {asn}:{address}")
            }
            PathAttribute::Communities(v) => write_list(f, "community", v),
            PathAttribute::OriginatorId(a) => write!(f, "originator-id {a}"),
            PathAttribute::ClusterList(v) => write_list(f, "cluster-list", v),
            PathAttribute::ExtendedCommunities(v) => write_list(f, "extended-community", v),
            PathAttribute::LargeCommunities(v) => write_list(f, "large-community", v),
            PathAttribute::Ipv6ExtendedCommunities(v) => {
                let hexes: Vec<String> = v.iter().map(|c| hex(c)).collect();
                write_list(f, "ipv6-extended-community", &hexes)
            }
            PathAttribute::Aigp(tlvs) => {
                f.write_str("aigp")?;
                for (t, value) in tlvs {
                    match <[u8; 8]>::try_from(value.as_slice()) {
                        Ok(m) if *t == 1 => write!(f, " metric {}", u64::from_be_bytes(m))?,
                        _ => write!(f, " tlv {t} 0x{}", hex(value))?,
                    }
                }
                Ok(())
            }
            PathAttribute::Otc(asn) => write!(f, "otc {asn}"),
            PathAttribute::MpReach(m) => {
                write!(f, "mp-reach {} next-hop", m.family)?;
                match &m.next_hop {
                    MpNextHop::Addresses(v) => v.iter().try_for_each(|a| write!(f, " {a}"))?,
                    MpNextHop::Vpn(v) => v.iter().try_for_each(|a| write!(f, " 0:0/{a}"))?,
                    MpNextHop::Raw(r) if r.is_empty() => f.write_str(" none")?,
                    MpNextHop::Raw(r) => write!(f, " 0x{}", hex(r))?,
                }
                write_nlri(f, m.family, &m.nlri)
            }
            PathAttribute::MpUnreach(m) => {
                write!(f, "mp-unreach {}", m.family)?;
                write_nlri(f, m.family, &m.nlri)
            }
            PathAttribute::Unknown { code, value, .. } if *code == tc::TUNNEL_ENCAPSULATION => {
                f.write_str(&super::tunnel_encap::text(value))
            }
            PathAttribute::Unknown { flags, code, value } => {
                write!(
                    f,
                    "attribute {code} flags 0x{flags:02x} value 0x{}",
                    hex(value)
                )
            }
        }
    }
}

fn write_list<T: fmt::Display>(f: &mut fmt::Formatter<'_>, name: &str, v: &[T]) -> fmt::Result {
    write!(f, "{name} [")?;
    for (i, x) in v.iter().enumerate() {
        if i > 0 {
            f.write_str(" ")?;
        }
        write!(f, "{x}")?;
    }
    f.write_str("]")
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
            _ => write!(f, " nlri 0x{}", hex(r)),
        },
    }
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
