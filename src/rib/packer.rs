//! Turns a [`RouteDiff`] into UPDATE messages for one negotiated session: withdrawals first,
//! then announcements grouped by attribute set, each group's attributes encoded once and its
//! prefixes packed into as few messages as fit. FlowSpec rules go the same way in MP_REACH /
//! MP_UNREACH of SAFI 133.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::Arc;

use super::attributes::{NextHop, RouteAttributes};
use super::other_nlri::{NlriKey, Other};
use super::route_set::{Flow, Route, RouteDiff, RouteSet};
use crate::wire::attribute::{
    AttributeContext, ExportContext, MpNlri, MpUnreach, PathAttribute, emit_raw, flag, type_code,
};
use crate::wire::family::{Afi, Family, Safi};
use crate::wire::flowspec::FlowRule;
use crate::wire::message::{HEADER_LEN, MARKER, Message, message_type, set_length};
use crate::wire::prefix::Prefix;
use crate::wire::update::Update;

/// What the packer needs to know about the session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionParams {
    /// ExaBGP's `group-updates`: `false` sends one announced NLRI per UPDATE.
    pub group_updates: bool,
    pub four_octet_as: bool,
    pub ebgp: bool,
    pub local_as: u32,
    /// Our end of the TCP connection, for `next-hop self`.
    pub local_address: IpAddr,
    /// Families negotiated with the peer; routes of other families are held back.
    pub families: Vec<Family>,
    pub max_message_len: usize,
    /// RFC 7911: families in which the peer receives path identifiers from us.
    pub add_path: Vec<Family>,
    /// RFC 8950: families whose routes may carry an IPv6 next hop (IPv4 NLRI).
    pub extended_next_hop: Vec<Family>,
}

impl SessionParams {
    /// The most NLRI one announcing UPDATE may carry.
    pub fn max_announced_per_message(&self) -> usize {
        if self.group_updates { usize::MAX } else { 1 }
    }

    /// The session as the attribute table's export rules see it.
    pub fn export_context(&self) -> ExportContext {
        ExportContext {
            ebgp: self.ebgp,
            four_octet_as: self.four_octet_as,
            local_as: self.local_as,
        }
    }

    fn attribute_context(&self) -> AttributeContext {
        AttributeContext {
            four_octet_as: self.four_octet_as,
        }
    }
}

/// UPDATE messages, concatenated, ready to write.
#[derive(Debug, Default)]
pub struct Packed {
    pub bytes: Vec<u8>,
    pub messages: usize,
    pub announced: usize,
    pub withdrawn: usize,
    /// Routes not sent because their family was not negotiated, per family.
    pub held_back: Vec<(Family, usize)>,
    /// Routes not sent because their next hop cannot be expressed on this session.
    pub unresolvable: Vec<Prefix>,
    /// Where the UPDATEs of non-unicast routes (`packer_mp`) start in `bytes`, and how many
    /// there are: the self-check covers the bytes before.
    pub other_from: usize,
    pub other_messages: usize,
    /// Paths not sent because the peer does not receive ADD-PATH for the family: only the
    /// lowest path identifier of each prefix goes.
    pub extra_paths: Vec<(Family, usize)>,
}

fn unicast(afi: Afi) -> Family {
    Family::new(afi, Safi::Unicast)
}

/// Packs `diff` for the session described by `params`.
pub fn pack(diff: &RouteDiff, params: &SessionParams) -> Packed {
    if let Some(moved) = super::packer_mp::unicast_with_path_ids(diff, params) {
        return pack(&moved, params);
    }
    pack_parts(
        &diff.withdraw,
        &diff.announce,
        &diff.withdraw_flows,
        &diff.announce_flows,
        &diff.withdraw_others,
        &diff.announce_others,
        params,
    )
}

/// Packs all of `set` as announcements (a fresh session's table), like
/// `pack(&set.as_announcements(), params)` but without copying the routes first.
pub fn pack_table(set: &RouteSet, params: &SessionParams) -> Packed {
    // With ADD-PATH on a unicast family, plain routes move to the path-id encoding (path 0):
    // that goes through `pack`.
    if params.add_path.iter().any(|f| f.safi == Safi::Unicast) {
        return pack(&set.as_announcements(), params);
    }
    pack_parts(
        &[],
        set.routes(),
        &[],
        set.flow_list(),
        &[],
        set.other_list(),
        params,
    )
}

#[allow(clippy::too_many_arguments)] // the three NLRI kinds, each withdrawn and announced
fn pack_parts(
    withdraw: &[Prefix],
    announce: &[Route],
    withdraw_flows: &[FlowRule],
    announce_flows: &[Flow],
    withdraw_others: &[NlriKey],
    announce_others: &[Other],
    params: &SessionParams,
) -> Packed {
    let mut packed = Packed::default();
    let mut held: HashMap<Family, usize> = HashMap::new();
    let negotiated_v4 = params.families.contains(&unicast(Afi::Ipv4));
    let negotiated_v6 = params.families.contains(&unicast(Afi::Ipv6));

    for afi in [Afi::Ipv4, Afi::Ipv6] {
        let prefixes: Vec<Prefix> = withdraw
            .iter()
            .filter(|p| p.afi() == afi)
            .copied()
            .collect();
        if prefixes.is_empty() {
            continue;
        }
        if !params.families.contains(&unicast(afi)) {
            *held.entry(unicast(afi)).or_default() += prefixes.len();
            continue;
        }
        packed.withdrawn += prefixes.len();
        pack_withdrawals(afi, &prefixes, params, &mut packed);
    }

    // Group by attribute set (interned: pointer identity), keeping first-seen order. Groups
    // hold indices into `announce` (4 octets each, not a copy of the prefix), and a run of
    // routes with the same set (the common case) costs no hash look-up.
    let mut groups: Vec<(&Arc<RouteAttributes>, Vec<u32>, Vec<u32>)> = Vec::new();
    let mut index: HashMap<*const RouteAttributes, usize> = HashMap::new();
    let mut last: Option<(*const RouteAttributes, usize)> = None;
    for (i, (prefix, attrs)) in announce.iter().enumerate() {
        let v4 = prefix.afi() == Afi::Ipv4;
        if !(if v4 { negotiated_v4 } else { negotiated_v6 }) {
            *held.entry(unicast(prefix.afi())).or_default() += 1;
            continue;
        }
        let ptr = Arc::as_ptr(attrs);
        let g = match last {
            Some((p, g)) if p == ptr => g,
            _ => {
                let g = *index.entry(ptr).or_insert_with(|| {
                    groups.push((attrs, Vec::new(), Vec::new()));
                    groups.len() - 1
                });
                last = Some((ptr, g));
                g
            }
        };
        if v4 {
            groups[g].1.push(i as u32);
        } else {
            groups[g].2.push(i as u32);
        }
    }
    packed.bytes.reserve(estimated_size(announce.len()));
    for (attrs, v4, v6) in groups {
        for (afi, members) in [(Afi::Ipv4, v4), (Afi::Ipv6, v6)] {
            if members.is_empty() {
                continue;
            }
            let prefixes = Members {
                routes: announce,
                indices: &members,
            };
            match WireAttributes::build(attrs, afi, params) {
                Some(wire) => {
                    packed.announced += members.len();
                    pack_announcements(&wire, afi, prefixes, params, &mut packed);
                }
                None => packed
                    .unresolvable
                    .extend((0..members.len()).map(|i| prefixes.get(i))),
            }
        }
    }
    pack_flows(
        withdraw_flows,
        announce_flows,
        params,
        &mut held,
        &mut packed,
    );
    super::packer_mp::pack_other(
        withdraw_others,
        announce_others,
        params,
        &mut held,
        &mut packed,
    );
    let mut held: Vec<_> = held.into_iter().collect();
    held.sort();
    packed.held_back = held;
    packed
}

/// A first guess of the bytes `routes` announcements take (an IPv4 /24 is 4 octets, plus
/// each message's header and attributes), so the output grows without many copies.
fn estimated_size(routes: usize) -> usize {
    routes * 5 + 4096
}

/// The prefixes of one attribute group: positions in the announced routes.
#[derive(Clone, Copy)]
struct Members<'a> {
    routes: &'a [Route],
    indices: &'a [u32],
}

impl Members<'_> {
    fn len(&self) -> usize {
        self.indices.len()
    }
    fn get(&self, i: usize) -> Prefix {
        self.routes[self.indices[i] as usize].0
    }
}

/// An End-of-RIB marker (RFC 4724 §2) for `family`.
pub fn end_of_rib(family: Family, params: &SessionParams) -> Vec<u8> {
    Message::Update(Update::end_of_rib_marker(family)).encode(params.attribute_context())
}

/// Starts an UPDATE: header with a length to fill in later.
pub(super) fn begin_message(out: &mut Vec<u8>) -> usize {
    let start = out.len();
    out.extend_from_slice(&MARKER);
    out.extend_from_slice(&[0, 0, message_type::UPDATE]);
    start
}

/// How many of `prefixes` (from `from`) fit in `room` octets.
fn fitting(prefixes: &[Prefix], from: usize, room: usize) -> usize {
    let mut used = 0;
    let mut n = 0;
    for p in &prefixes[from..] {
        if used + p.wire_len() > room {
            break;
        }
        used += p.wire_len();
        n += 1;
    }
    n
}

/// How many members (from `from`) fit in `room` octets.
fn fitting_members(members: Members, from: usize, room: usize) -> usize {
    let mut used = 0;
    let mut n = 0;
    for i in from..members.len() {
        let w = members.get(i).wire_len();
        if used + w > room {
            break;
        }
        used += w;
        n += 1;
    }
    n
}

fn pack_withdrawals(afi: Afi, prefixes: &[Prefix], params: &SessionParams, packed: &mut Packed) {
    let out = &mut packed.bytes;
    let mut from = 0;
    while from < prefixes.len() {
        let start = begin_message(out);
        if afi == Afi::Ipv4 {
            // Withdrawn length, prefixes, then a zero attribute length.
            let room = params.max_message_len - HEADER_LEN - 4;
            let n = fitting(prefixes, from, room).max(1);
            let chunk = &prefixes[from..from + n];
            let len: usize = chunk.iter().map(Prefix::wire_len).sum();
            out.extend_from_slice(&(len as u16).to_be_bytes());
            chunk.iter().for_each(|p| p.emit(out));
            out.extend_from_slice(&[0, 0]);
            from += n;
        } else {
            // Zero withdrawn length, attribute length, MP_UNREACH (4-octet header, AFI/SAFI).
            let room = params.max_message_len - HEADER_LEN - 4 - 4 - 3;
            let n = fitting(prefixes, from, room).max(1);
            let attr = PathAttribute::MpUnreach(MpUnreach {
                family: unicast(afi),
                nlri: MpNlri::Prefixes(prefixes[from..from + n].to_vec()),
            });
            write_only_attribute(out, &attr, params);
            from += n;
        }
        set_length(out, start);
        packed.messages += 1;
    }
}

/// A group's attributes, encoded once: the bytes before and after MP_REACH_NLRI (which
/// carries per-message NLRI for IPv6), or all of them for IPv4.
pub(super) struct WireAttributes {
    pub(super) before_mp: Vec<u8>,
    pub(super) after_mp: Vec<u8>,
    /// For IPv6: the MP_REACH next hop(s).
    mp_next_hop: Vec<IpAddr>,
}

impl WireAttributes {
    /// `None` when the next hop cannot be expressed for this family on this session.
    fn build(attrs: &RouteAttributes, afi: Afi, params: &SessionParams) -> Option<WireAttributes> {
        Some(WireAttributes::assemble(
            attrs,
            params,
            unicast_next_hop(attrs.next_hop, afi, params)?,
        ))
    }

    /// A flow rule's attributes: no NEXT_HOP; in MP_REACH the redirect-to-IP address if any.
    fn build_flow(attrs: &RouteAttributes, params: &SessionParams) -> WireAttributes {
        let next_hop = match attrs.next_hop {
            NextHop::Address { global, .. } => vec![global],
            NextHop::SelfAddress | NextHop::Absent => Vec::new(),
        };
        WireAttributes::assemble(attrs, params, (None, next_hop))
    }

    /// `next_hop`: the NEXT_HOP attribute (IPv4 unicast) and the MP_REACH next hops.
    pub(super) fn assemble(
        attrs: &RouteAttributes,
        params: &SessionParams,
        next_hop: (Option<PathAttribute>, Vec<IpAddr>),
    ) -> WireAttributes {
        let (next_hop, mp_next_hop) = next_hop;
        let ctx = params.attribute_context();
        let mut list = attrs.export(&params.export_context());
        if let Some(nh) = next_hop {
            let at = list.partition_point(|a| a.code() < nh.code());
            list.insert(at, nh);
        }
        let (mut before_mp, mut after_mp) = (Vec::new(), Vec::new());
        for a in &list {
            if a.code() < type_code::MP_REACH_NLRI {
                a.emit(ctx, &mut before_mp);
            } else {
                a.emit(ctx, &mut after_mp);
            }
        }
        WireAttributes {
            before_mp,
            after_mp,
            mp_next_hop,
        }
    }
}

/// The NEXT_HOP attribute and MP_REACH next hops of a unicast route; `None` when the next
/// hop cannot be expressed for this family on this session.
fn unicast_next_hop(
    next_hop: NextHop,
    afi: Afi,
    params: &SessionParams,
) -> Option<(Option<PathAttribute>, Vec<IpAddr>)> {
    let mut list = Vec::new();
    let mut mp_next_hop = Vec::new();
    match (afi, next_hop, params.local_address) {
        (
            Afi::Ipv4,
            NextHop::Address {
                global: IpAddr::V4(a),
                ..
            },
            _,
        )
        | (Afi::Ipv4, NextHop::SelfAddress, IpAddr::V4(a)) => list.push(PathAttribute::NextHop(a)),
        (
            Afi::Ipv6,
            NextHop::Address {
                global: IpAddr::V6(g),
                link_local,
            },
            _,
        ) => {
            mp_next_hop.push(IpAddr::V6(g));
            mp_next_hop.extend(link_local.map(IpAddr::V6));
        }
        (Afi::Ipv6, NextHop::SelfAddress, IpAddr::V6(a)) => mp_next_hop.push(IpAddr::V6(a)),
        // ExaBGP's choice for an IPv6 route over an IPv4 session: IPv4-mapped next hop.
        (Afi::Ipv6, NextHop::SelfAddress, IpAddr::V4(a)) => {
            mp_next_hop.push(IpAddr::V6(a.to_ipv6_mapped()))
        }
        (
            Afi::Ipv6,
            NextHop::Address {
                global: IpAddr::V4(a),
                ..
            },
            _,
        ) => mp_next_hop.push(IpAddr::V6(a.to_ipv6_mapped())),
        _ => return None,
    }
    Some((list.pop(), mp_next_hop))
}

fn pack_announcements(
    wire: &WireAttributes,
    afi: Afi,
    prefixes: Members,
    params: &SessionParams,
    packed: &mut Packed,
) {
    let out = &mut packed.bytes;
    let fixed = wire.before_mp.len() + wire.after_mp.len();
    let mut from = 0;
    while from < prefixes.len() {
        let start = begin_message(out);
        out.extend_from_slice(&[0, 0]); // no withdrawn routes
        if afi == Afi::Ipv4 {
            let room = params
                .max_message_len
                .saturating_sub(HEADER_LEN + 4 + fixed);
            let n = fitting_members(prefixes, from, room)
                .max(1)
                .min(params.max_announced_per_message());
            out.extend_from_slice(&(fixed as u16).to_be_bytes());
            out.extend_from_slice(&wire.before_mp);
            out.extend_from_slice(&wire.after_mp);
            (from..from + n).for_each(|i| prefixes.get(i).emit(out));
            from += n;
        } else {
            let nh_len: usize = wire.mp_next_hop.len() * 16;
            // MP_REACH: 4-octet attribute header, AFI/SAFI 3, next-hop length 1, next hop, reserved 1.
            let mp_fixed = 4 + 3 + 1 + nh_len + 1;
            let room = params
                .max_message_len
                .saturating_sub(HEADER_LEN + 4 + fixed + mp_fixed);
            let n = fitting_members(prefixes, from, room)
                .max(1)
                .min(params.max_announced_per_message());
            let mut value = Vec::with_capacity(room + mp_fixed);
            value.extend_from_slice(&afi.to_u16().to_be_bytes());
            value.push(Safi::Unicast.to_u8());
            value.push(nh_len as u8);
            for a in &wire.mp_next_hop {
                if let IpAddr::V6(a) = a {
                    value.extend_from_slice(&a.octets());
                } else {
                    value.extend_from_slice(&Ipv6Addr::UNSPECIFIED.octets());
                }
            }
            value.push(0);
            (from..from + n).for_each(|i| prefixes.get(i).emit(&mut value));
            write_mp_attributes(out, Some(wire), type_code::MP_REACH_NLRI, &value);
            from += n;
        }
        set_length(out, start);
        packed.messages += 1;
    }
}

fn flow_family(afi: Afi) -> Family {
    Family::new(afi, Safi::FlowSpec)
}

/// Packs the flow part of `diff`: withdrawals in MP_UNREACH, then announcements grouped by
/// attribute set in MP_REACH, both SAFI 133; rules of a family not negotiated are held back.
fn pack_flows(
    withdraw_flows: &[FlowRule],
    announce_flows: &[Flow],
    params: &SessionParams,
    held: &mut HashMap<Family, usize>,
    packed: &mut Packed,
) {
    for afi in [Afi::Ipv4, Afi::Ipv6] {
        let family = flow_family(afi);
        let rules: Vec<&FlowRule> = withdraw_flows.iter().filter(|r| r.afi() == afi).collect();
        if rules.is_empty() {
            continue;
        }
        if !params.families.contains(&family) {
            *held.entry(family).or_default() += rules.len();
            continue;
        }
        packed.withdrawn += rules.len();
        pack_flow_withdrawals(family, &rules, params, packed);
    }
    let mut groups: Vec<(&Arc<RouteAttributes>, Afi, Vec<&FlowRule>)> = Vec::new();
    let mut index: HashMap<(*const RouteAttributes, Afi), usize> = HashMap::new();
    for (rule, attrs) in announce_flows {
        let afi = rule.afi();
        if !params.families.contains(&flow_family(afi)) {
            *held.entry(flow_family(afi)).or_default() += 1;
            continue;
        }
        let i = *index.entry((Arc::as_ptr(attrs), afi)).or_insert_with(|| {
            groups.push((attrs, afi, Vec::new()));
            groups.len() - 1
        });
        groups[i].2.push(rule);
    }
    for (attrs, afi, rules) in groups {
        let wire = WireAttributes::build_flow(attrs, params);
        packed.announced += rules.len();
        pack_flow_announcements(&wire, afi, &rules, params, packed);
    }
}

/// How many of `rules` (from `from`) fit in `room` octets; at least one.
fn fitting_rules(rules: &[&FlowRule], from: usize, room: usize) -> usize {
    let mut used = 0;
    let mut n = 0;
    for r in &rules[from..] {
        if used + r.wire_len() > room {
            break;
        }
        used += r.wire_len();
        n += 1;
    }
    n.max(1)
}

fn pack_flow_withdrawals(
    family: Family,
    rules: &[&FlowRule],
    params: &SessionParams,
    packed: &mut Packed,
) {
    let out = &mut packed.bytes;
    let mut from = 0;
    while from < rules.len() {
        let start = begin_message(out);
        // Withdrawn length, attribute length, MP_UNREACH header (4) and AFI/SAFI (3).
        let room = params.max_message_len - HEADER_LEN - 4 - 4 - 3;
        let n = fitting_rules(rules, from, room);
        let mut nlri = Vec::new();
        rules[from..from + n].iter().for_each(|r| r.emit(&mut nlri));
        let attr = PathAttribute::MpUnreach(MpUnreach {
            family,
            nlri: MpNlri::Raw(nlri),
        });
        write_only_attribute(out, &attr, params);
        from += n;
        set_length(out, start);
        packed.messages += 1;
    }
}

fn pack_flow_announcements(
    wire: &WireAttributes,
    afi: Afi,
    rules: &[&FlowRule],
    params: &SessionParams,
    packed: &mut Packed,
) {
    let out = &mut packed.bytes;
    let fixed = wire.before_mp.len() + wire.after_mp.len();
    let mut next_hop = Vec::new();
    for a in &wire.mp_next_hop {
        match (afi, a) {
            (Afi::Ipv4, IpAddr::V4(a)) => next_hop.extend_from_slice(&a.octets()),
            (_, IpAddr::V6(a)) => next_hop.extend_from_slice(&a.octets()),
            (_, IpAddr::V4(a)) => next_hop.extend_from_slice(&a.to_ipv6_mapped().octets()),
        }
    }
    // MP_REACH: 4-octet attribute header, AFI/SAFI 3, next-hop length 1, next hop, reserved 1.
    let mp_fixed = 4 + 3 + 1 + next_hop.len() + 1;
    let mut from = 0;
    while from < rules.len() {
        let start = begin_message(out);
        out.extend_from_slice(&[0, 0]); // no withdrawn routes
        let room = params
            .max_message_len
            .saturating_sub(HEADER_LEN + 4 + fixed + mp_fixed);
        let n = fitting_rules(rules, from, room).min(params.max_announced_per_message());
        let mut value = Vec::with_capacity(room + mp_fixed);
        value.extend_from_slice(&afi.to_u16().to_be_bytes());
        value.push(Safi::FlowSpec.to_u8());
        value.push(next_hop.len() as u8);
        value.extend_from_slice(&next_hop);
        value.push(0);
        rules[from..from + n]
            .iter()
            .for_each(|r| r.emit(&mut value));
        write_mp_attributes(out, Some(wire), type_code::MP_REACH_NLRI, &value);
        from += n;
        set_length(out, start);
        packed.messages += 1;
    }
}

/// The body of an UPDATE with no withdrawn routes, `attr` as its only attribute and no NLRI
/// (an MP_UNREACH_NLRI withdrawal).
fn write_only_attribute(out: &mut Vec<u8>, attr: &PathAttribute, params: &SessionParams) {
    let mut a = Vec::new();
    attr.emit(params.attribute_context(), &mut a);
    out.extend_from_slice(&[0, 0]);
    out.extend_from_slice(&(a.len() as u16).to_be_bytes());
    out.extend_from_slice(&a);
}

/// Writes the attribute section of an UPDATE whose NLRI travel in a multiprotocol attribute:
/// the total attribute length, then the group's attributes with MP_REACH_NLRI or
/// MP_UNREACH_NLRI (`code`, carrying `value`) in its place among the ascending type codes.
pub(super) fn write_mp_attributes(
    out: &mut Vec<u8>,
    wire: Option<&WireAttributes>,
    code: u8,
    value: &[u8],
) {
    let mut mp = Vec::with_capacity(value.len() + 4);
    emit_raw(flag::OPTIONAL, code, value, &mut mp);
    let (before, after) = wire.map_or((&[][..], &[][..]), |w| {
        (w.before_mp.as_slice(), w.after_mp.as_slice())
    });
    out.extend_from_slice(&((before.len() + mp.len() + after.len()) as u16).to_be_bytes());
    out.extend_from_slice(before);
    out.extend_from_slice(&mp);
    out.extend_from_slice(after);
}

/// Splits concatenated messages (as produced by [`pack`]) back into single messages.
pub fn split_messages(bytes: &[u8]) -> Vec<&[u8]> {
    let mut v = Vec::new();
    let mut rest = bytes;
    while let Some(len) = rest
        .get(16..18)
        .map(|b| u16::from_be_bytes([b[0], b[1]]) as usize)
    {
        let Some((msg, tail)) =
            (len >= HEADER_LEN && len <= rest.len()).then(|| rest.split_at(len))
        else {
            break;
        };
        v.push(msg);
        rest = tail;
    }
    v
}

#[cfg(test)]
mod tests;
