//! Turns a [`RouteDiff`] into UPDATE messages for one negotiated session: withdrawals
//! first, then announcements grouped by (family, attribute set), each group's attributes
//! exported and encoded once and its NLRI packed into as few messages as fit. Every message
//! is framed by the one UPDATE writer (`wire::update_writer`), in the classic fields for
//! IPv4 unicast and in MP_REACH_NLRI / MP_UNREACH_NLRI for every other family.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::sync::Arc;

use super::attributes::{NextHop, RouteAttributes};
use super::other_nlri::{NlriKey, Other, OtherRoute};
use super::route_set::{Flow, Route, RouteDiff, RouteSet};
use crate::wire::attribute::{AttributeContext, ExportContext, PathAttribute, type_code};
use crate::wire::family::{Afi, Family, Safi};
use crate::wire::flowspec::FlowRule;
use crate::wire::labeled::{self, LabelStack, LabeledPrefix};
use crate::wire::message::{HEADER_LEN, Message};
use crate::wire::prefix::Prefix;
use crate::wire::update::Update;
use crate::wire::update_writer::UpdateWriter;

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
    /// Where the UPDATEs of non-unicast routes (keyed ones: labeled, VPN, ADD-PATH...) start in `bytes`, and how many
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

/// The routes to pack: what a diff or a whole table holds, borrowed.
struct Work<'a> {
    withdraw: &'a [Prefix],
    announce: &'a [Route],
    withdraw_flows: &'a [FlowRule],
    announce_flows: &'a [Flow],
    withdraw_others: &'a [NlriKey],
    announce_others: &'a [Other],
}

/// Packs `diff` for the session described by `params`: the packer's one entry point
/// ([`pack_table`] packs a whole table the same way without copying it into a diff).
pub fn pack(diff: &RouteDiff, params: &SessionParams) -> Packed {
    if let Some(moved) = unicast_with_path_ids(diff, params) {
        return pack(&moved, params);
    }
    pack_work(
        &Work {
            withdraw: &diff.withdraw,
            announce: &diff.announce,
            withdraw_flows: &diff.withdraw_flows,
            announce_flows: &diff.announce_flows,
            withdraw_others: &diff.withdraw_others,
            announce_others: &diff.announce_others,
        },
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
    pack_work(
        &Work {
            withdraw: &[],
            announce: set.routes(),
            withdraw_flows: &[],
            announce_flows: set.flow_list(),
            withdraw_others: &[],
            announce_others: set.other_list(),
        },
        params,
    )
}

fn pack_work(work: &Work, params: &SessionParams) -> Packed {
    let mut packed = Packed::default();
    let mut held: HashMap<Family, usize> = HashMap::new();
    packed.bytes.reserve(estimated_size(work.announce.len()));

    // Withdrawals of unicast prefixes and flow rules, one family at a time.
    for afi in [Afi::Ipv4, Afi::Ipv6] {
        let prefixes: Vec<Prefix> = work
            .withdraw
            .iter()
            .filter(|p| p.afi() == afi)
            .copied()
            .collect();
        write_family(
            unicast(afi),
            &prefixes.as_slice(),
            params,
            &mut held,
            &mut packed,
        );
        let rules: Vec<&FlowRule> = work
            .withdraw_flows
            .iter()
            .filter(|r| r.afi() == afi)
            .collect();
        write_family(
            flow_family(afi),
            &rules.as_slice(),
            params,
            &mut held,
            &mut packed,
        );
    }

    // Unicast announcements, grouped by (family, attribute set). Groups hold indices into
    // `announce` (4 octets each, not a copy of the prefix), and a run of routes with the
    // same set (the common case) costs no hash look-up.
    let mut groups: Vec<(&Arc<RouteAttributes>, [Vec<u32>; 2])> = Vec::new();
    let mut index: HashMap<*const RouteAttributes, usize> = HashMap::new();
    let mut last: Option<(*const RouteAttributes, usize)> = None;
    for (i, (prefix, attrs)) in work.announce.iter().enumerate() {
        let ptr = Arc::as_ptr(attrs);
        let g = match last {
            Some((p, g)) if p == ptr => g,
            _ => {
                let g = *index.entry(ptr).or_insert_with(|| {
                    groups.push((attrs, [Vec::new(), Vec::new()]));
                    groups.len() - 1
                });
                last = Some((ptr, g));
                g
            }
        };
        groups[g].1[usize::from(prefix.afi() == Afi::Ipv6)].push(i as u32);
    }
    for (attrs, members) in &groups {
        for (afi, members) in [Afi::Ipv4, Afi::Ipv6].into_iter().zip(members) {
            let members = Members {
                routes: work.announce,
                indices: members,
            };
            let family = unicast(afi);
            write_group(
                family,
                attrs,
                &members,
                params,
                &mut held,
                &mut packed,
                |i| Some(members.get(i)),
            );
        }
    }

    // Flow rules, grouped the same way.
    let mut flow_groups: Vec<(Family, &Arc<RouteAttributes>, Vec<&FlowRule>)> = Vec::new();
    let mut flow_index: HashMap<(*const RouteAttributes, Afi), usize> = HashMap::new();
    for (rule, attrs) in work.announce_flows {
        let i = *flow_index
            .entry((Arc::as_ptr(attrs), rule.afi()))
            .or_insert_with(|| {
                flow_groups.push((flow_family(rule.afi()), attrs, Vec::new()));
                flow_groups.len() - 1
            });
        flow_groups[i].2.push(rule);
    }
    for (family, attrs, rules) in &flow_groups {
        write_group(
            *family,
            attrs,
            &rules.as_slice(),
            params,
            &mut held,
            &mut packed,
            |_| None,
        );
    }

    pack_other(
        work.withdraw_others,
        work.announce_others,
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

fn flow_family(afi: Afi) -> Family {
    Family::new(afi, Safi::FlowSpec)
}

/// NLRI entries of one family, as the writer takes them.
trait Entries {
    /// Plain prefixes, which IPv4 unicast sends in the classic fields (keyed entries with
    /// path identifiers or an IPv6 next hop go in MP_REACH / MP_UNREACH).
    const PLAIN: bool = false;
    fn count(&self) -> usize;
    fn wire_len(&self, i: usize) -> usize;
    fn emit(&self, i: usize, out: &mut Vec<u8>);
}

impl Entries for &[Prefix] {
    const PLAIN: bool = true;
    fn count(&self) -> usize {
        self.len()
    }
    fn wire_len(&self, i: usize) -> usize {
        self[i].wire_len()
    }
    fn emit(&self, i: usize, out: &mut Vec<u8>) {
        self[i].emit(out)
    }
}

impl Entries for &[&FlowRule] {
    fn count(&self) -> usize {
        self.len()
    }
    fn wire_len(&self, i: usize) -> usize {
        self[i].wire_len()
    }
    fn emit(&self, i: usize, out: &mut Vec<u8>) {
        self[i].emit(out)
    }
}

/// Entries already encoded (labeled, VPN and ADD-PATH NLRI).
impl Entries for &[&[u8]] {
    fn count(&self) -> usize {
        self.len()
    }
    fn wire_len(&self, i: usize) -> usize {
        self[i].len()
    }
    fn emit(&self, i: usize, out: &mut Vec<u8>) {
        out.extend_from_slice(self[i])
    }
}

/// The prefixes of one attribute group: positions in the announced routes.
struct Members<'a> {
    routes: &'a [Route],
    indices: &'a [u32],
}

impl Members<'_> {
    fn get(&self, i: usize) -> Prefix {
        self.routes[self.indices[i] as usize].0
    }
}

impl Entries for Members<'_> {
    const PLAIN: bool = true;
    fn count(&self) -> usize {
        self.indices.len()
    }
    fn wire_len(&self, i: usize) -> usize {
        self.get(i).wire_len()
    }
    fn emit(&self, i: usize, out: &mut Vec<u8>) {
        self.get(i).emit(out)
    }
}

/// Whether entries go in the classic fields of the UPDATE (RFC 4271 §4.3).
fn classic<E: Entries>(family: Family) -> bool {
    E::PLAIN && family == Family::IPV4_UNICAST
}

/// Announces one group: its attributes exported for the session and encoded once, its
/// next hop for the family; routes whose next hop the session cannot carry are listed as
/// unresolvable (`prefix_of` names them; a flow rule has no prefix to name).
fn write_group<E: Entries>(
    family: Family,
    attrs: &RouteAttributes,
    entries: &E,
    params: &SessionParams,
    held: &mut HashMap<Family, usize>,
    packed: &mut Packed,
    prefix_of: impl Fn(usize) -> Option<Prefix>,
) {
    if entries.count() == 0 {
        return;
    }
    if !params.families.contains(&family) {
        *held.entry(family).or_default() += entries.count();
        return;
    }
    let classic = classic::<E>(family);
    let next_hop = next_hop_bytes(family, attrs.next_hop, params);
    let next_hop = match next_hop {
        // The classic NEXT_HOP attribute holds one IPv4 address.
        Some(nh) if classic && nh.len() != 4 => None,
        nh => nh,
    };
    let Some(next_hop) = next_hop else {
        packed
            .unresolvable
            .extend((0..entries.count()).filter_map(prefix_of));
        return;
    };
    let wire = WireAttributes::build(attrs, params, classic.then_some(&next_hop[..]));
    packed.announced += entries.count();
    write_nlri(family, Some((&wire, &next_hop)), entries, params, packed);
}

/// Withdraws `entries` of `family` (held back when the family is not negotiated).
fn write_family(
    family: Family,
    entries: &impl Entries,
    params: &SessionParams,
    held: &mut HashMap<Family, usize>,
    packed: &mut Packed,
) {
    if entries.count() == 0 {
        return;
    }
    if !params.families.contains(&family) {
        *held.entry(family).or_default() += entries.count();
        return;
    }
    packed.withdrawn += entries.count();
    write_nlri(family, None, entries, params, packed);
}

/// Writes `entries` of `family` into as few UPDATEs as fit: withdrawn (`announce` `None`)
/// or announced with the group's attributes and next hop; in the classic fields for IPv4
/// unicast, in MP_UNREACH_NLRI / MP_REACH_NLRI otherwise. Announcements follow
/// `group-updates`; withdrawals are always packed.
fn write_nlri<E: Entries>(
    family: Family,
    announce: Option<(&WireAttributes, &[u8])>,
    entries: &E,
    params: &SessionParams,
    packed: &mut Packed,
) {
    let classic = classic::<E>(family);
    let most = match announce {
        Some(_) => params.max_announced_per_message(),
        None => usize::MAX,
    };
    let mut from = 0;
    while from < entries.count() {
        let mut w = UpdateWriter::begin(&mut packed.bytes, params.max_message_len);
        match announce {
            None if classic => {}
            None => w.mp_unreach(family),
            Some((wire, _)) if classic => {
                w.attributes(&wire.before_mp);
                w.attributes(&wire.after_mp);
                w.nlri();
            }
            Some((wire, next_hop)) => {
                w.attributes(&wire.before_mp);
                w.mp_reach(family, next_hop, wire.after_mp.len());
            }
        }
        while from < entries.count()
            && w.pushed() < most
            && w.push(entries.wire_len(from), |out| entries.emit(from, out))
        {
            from += 1;
        }
        if let (Some((wire, _)), false) = (announce, classic) {
            w.mp_end(&wire.after_mp);
        }
        w.finish();
        packed.messages += 1;
    }
}

/// An End-of-RIB marker (RFC 4724 §2) for `family`.
pub fn end_of_rib(family: Family, params: &SessionParams) -> Vec<u8> {
    Message::Update(Update::end_of_rib_marker(family)).encode(params.attribute_context())
}

/// A group's attributes, exported for the session and encoded once: the bytes before and
/// after MP_REACH_NLRI in ascending type code (all of them for IPv4 unicast).
struct WireAttributes {
    before_mp: Vec<u8>,
    after_mp: Vec<u8>,
}

impl WireAttributes {
    /// `classic_next_hop`: the IPv4 address of the NEXT_HOP attribute (IPv4 unicast).
    fn build(
        attrs: &RouteAttributes,
        params: &SessionParams,
        classic_next_hop: Option<&[u8]>,
    ) -> WireAttributes {
        let ctx = params.attribute_context();
        let mut list = attrs.export(&params.export_context());
        if let Some(a) = classic_next_hop.and_then(|nh| <[u8; 4]>::try_from(nh).ok()) {
            let nh = PathAttribute::NextHop(a.into());
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
        }
    }
}

/// The next hop of a route of `family` on this session, encoded as MP_REACH_NLRI carries it
/// (four octets for IPv4 unicast: the NEXT_HOP attribute's); `None` when it cannot be
/// expressed (an IPv6 next hop for IPv4 NLRI needs RFC 8950 negotiated).
fn next_hop_bytes(family: Family, next_hop: NextHop, params: &SessionParams) -> Option<Vec<u8>> {
    let (global, link_local) = match (next_hop, family.safi) {
        (NextHop::Address { global, link_local }, _) => (global, link_local),
        // RFC 8955 §4: a FlowSpec rule's next hop is empty unless it redirects to an IP.
        (NextHop::SelfAddress | NextHop::Absent, Safi::FlowSpec) => return Some(Vec::new()),
        (NextHop::SelfAddress, _) => (params.local_address, None),
        (NextHop::Absent, _) => return None,
    };
    let mut addresses: Vec<IpAddr> = match (family.afi, global) {
        (Afi::Ipv4, IpAddr::V4(_)) => vec![global],
        (Afi::Ipv4, IpAddr::V6(_)) if params.extended_next_hop.contains(&family) => vec![global],
        (Afi::Ipv6, IpAddr::V6(_)) => vec![global],
        // ExaBGP's choice for an IPv4 next hop of an IPv6 route: IPv4-mapped.
        (Afi::Ipv6, IpAddr::V4(a)) => vec![IpAddr::V6(a.to_ipv6_mapped())],
        _ => return None,
    };
    if global.is_ipv6() && family.safi != Safi::FlowSpec {
        addresses.extend(link_local.map(IpAddr::V6));
    }
    let mut out = Vec::new();
    if family.safi == Safi::MplsVpn {
        labeled::emit_vpn_next_hop(&addresses, &mut out);
    } else {
        for a in addresses {
            match a {
                IpAddr::V4(a) => out.extend_from_slice(&a.octets()),
                IpAddr::V6(a) => out.extend_from_slice(&a.octets()),
            }
        }
    }
    Some(out)
}

/// RFC 7911 §3: once the peer receives path identifiers in a unicast family, every NLRI of
/// that family carries one. The plain unicast routes of such a family move to the keyed
/// routes, as paths with identifier 0 (as when sent without `path-information`). `None`
/// when nothing moves.
fn unicast_with_path_ids(diff: &RouteDiff, params: &SessionParams) -> Option<RouteDiff> {
    let moves = |p: &Prefix| params.add_path.contains(&unicast(p.afi()));
    if !diff.withdraw.iter().any(moves) && !diff.announce.iter().any(|(p, _)| moves(p)) {
        return None;
    }
    let key = |p: &Prefix| NlriKey {
        family: unicast(p.afi()),
        rd: None,
        prefix: *p,
        path_id: None,
    };
    let mut d = diff.clone();
    d.withdraw.retain(|p| !moves(p));
    d.announce.retain(|(p, _)| !moves(p));
    d.withdraw_others
        .extend(diff.withdraw.iter().filter(|p| moves(p)).map(key));
    d.announce_others.extend(
        diff.announce
            .iter()
            .filter(|(p, _)| moves(p))
            .map(|(p, attrs)| {
                let route = OtherRoute {
                    labels: Vec::new(),
                    attrs: attrs.clone(),
                };
                (key(p), route)
            }),
    );
    // The packing below relies on keys in order (the paths of a destination together).
    d.withdraw_others.sort();
    d.announce_others.sort_by_key(|o| o.0);
    Some(d)
}

/// One keyed NLRI entry as it goes on the wire for this session.
fn nlri_bytes(key: &NlriKey, labels: &[u32], withdraw: bool, add_path: bool, out: &mut Vec<u8>) {
    let path_id = add_path.then(|| key.path_id.unwrap_or(0));
    if labeled::is_labeled(key.family) {
        let labels = if withdraw {
            LabelStack::withdrawn()
        } else {
            LabelStack::from_labels(labels)
        };
        LabeledPrefix {
            path_id,
            labels,
            rd: key.rd,
            prefix: key.prefix,
        }
        .emit(out);
    } else {
        if let Some(id) = path_id {
            out.extend_from_slice(&id.to_be_bytes());
        }
        key.prefix.emit(out);
    }
}

/// Packs the keyed withdrawals and announcements (labeled unicast, MPLS VPN, multicast,
/// ADD-PATH paths, IPv4 routes with an IPv6 next hop); families not negotiated are counted
/// in `held`. Without ADD-PATH for a family the peer gets one path per destination: the
/// lowest path identifier, and a destination also announced is replaced, not withdrawn.
fn pack_other(
    withdraw_others: &[NlriKey],
    announce_others: &[Other],
    params: &SessionParams,
    held: &mut HashMap<Family, usize>,
    packed: &mut Packed,
) {
    packed.other_from = packed.bytes.len();
    let before = packed.messages;
    let mut dropped: HashMap<Family, usize> = HashMap::new();

    let announced: HashSet<_> = announce_others
        .iter()
        .map(|(k, _)| k.destination())
        .collect();
    let mut withdrawals: Vec<(Family, Vec<Vec<u8>>)> = Vec::new();
    let mut last = None;
    for k in withdraw_others {
        if !params.families.contains(&k.family) {
            *held.entry(k.family).or_default() += 1;
            continue;
        }
        let add_path = params.add_path.contains(&k.family);
        if !add_path {
            if announced.contains(&k.destination()) || last == Some(k.destination()) {
                continue;
            }
            last = Some(k.destination());
        }
        let mut one = Vec::new();
        nlri_bytes(k, &[], true, add_path, &mut one);
        match withdrawals.iter_mut().find(|(f, _)| *f == k.family) {
            Some((_, v)) => v.push(one),
            None => withdrawals.push((k.family, vec![one])),
        }
    }
    for (family, entries) in &withdrawals {
        let refs: Vec<&[u8]> = entries.iter().map(Vec::as_slice).collect();
        write_family(*family, &refs.as_slice(), params, held, packed);
    }

    // Announcements, grouped by family and attribute set in first-seen order.
    type Group<'a> = (Family, &'a Arc<RouteAttributes>, Vec<Vec<u8>>, Vec<Prefix>);
    let mut groups: Vec<Group> = Vec::new();
    let mut index: HashMap<(Family, *const RouteAttributes), usize> = HashMap::new();
    let mut previous: Option<&NlriKey> = None;
    for (k, route) in announce_others {
        if !params.families.contains(&k.family) {
            *held.entry(k.family).or_default() += 1;
            continue;
        }
        let add_path = params.add_path.contains(&k.family);
        if !add_path && previous.is_some_and(|l| l.destination() == k.destination()) {
            *dropped.entry(k.family).or_default() += 1;
            continue;
        }
        previous = Some(k);
        let i = *index
            .entry((k.family, Arc::as_ptr(&route.attrs)))
            .or_insert_with(|| {
                groups.push((k.family, &route.attrs, Vec::new(), Vec::new()));
                groups.len() - 1
            });
        let mut one = Vec::new();
        nlri_bytes(k, &route.labels, false, add_path, &mut one);
        groups[i].2.push(one);
        groups[i].3.push(k.prefix);
    }
    for (family, attrs, entries, prefixes) in &groups {
        let refs: Vec<&[u8]> = entries.iter().map(Vec::as_slice).collect();
        write_group(
            *family,
            attrs,
            &refs.as_slice(),
            params,
            held,
            packed,
            |i| prefixes.get(i).copied(),
        );
    }
    packed.other_messages = packed.messages - before;
    let mut dropped: Vec<_> = dropped.into_iter().collect();
    dropped.sort();
    packed.extra_paths = dropped;
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

#[cfg(test)]
mod keyed_tests {
    use super::*;
    use crate::wire::attribute::{MpReach, MpUnreach, PathAttribute};
    use crate::wire::family::FamilySet;
    use crate::wire::message::{DecodeContext, MAX_MESSAGE_LEN, Message};
    use crate::wire::prefix::Prefix;

    fn prefix(s: &str) -> Prefix {
        let (a, l) = s.split_once('/').unwrap();
        Prefix::new(a.parse().unwrap(), l.parse().unwrap()).unwrap()
    }

    fn params(add_path: Vec<Family>) -> SessionParams {
        SessionParams {
            group_updates: true,
            four_octet_as: true,
            ebgp: true,
            local_as: 65000,
            local_address: "127.0.0.2".parse().unwrap(),
            families: vec![Family::IPV4_UNICAST],
            max_message_len: MAX_MESSAGE_LEN,
            add_path,
            extended_next_hop: Vec::new(),
        }
    }

    /// A bug found against BIRD ("Malformed attribute list", 3/1): with ADD-PATH send for
    /// IPv4 unicast, a route without `path-information` went out with no path identifier.
    /// Every NLRI of the family now carries one (0 for such a route), in MP_REACH.
    #[test]
    fn plain_unicast_routes_get_path_id_zero_once_add_path_is_negotiated() {
        let attrs = Arc::new(RouteAttributes::with_next_hop(NextHop::Address {
            global: "192.0.2.3".parse().unwrap(),
            link_local: None,
        }));
        let diff = RouteDiff {
            withdraw: vec![prefix("203.0.113.0/24")],
            announce: vec![(prefix("198.51.100.128/25"), attrs)],
            ..RouteDiff::default()
        };
        let packed = super::pack(&diff, &params(vec![Family::IPV4_UNICAST]));
        let ctx = DecodeContext {
            add_path: [Family::IPV4_UNICAST].into_iter().collect::<FamilySet>(),
            ..DecodeContext::default()
        };
        let mut rest = &packed.bytes[..];
        let mut seen = Vec::new();
        while !rest.is_empty() {
            let len = u16::from_be_bytes([rest[16], rest[17]]) as usize;
            let (m, problems) = Message::decode(&rest[..len], ctx).unwrap();
            assert!(problems.is_empty(), "{problems:?}");
            let Message::Update(u) = m else {
                panic!("not an UPDATE")
            };
            assert!(u.nlri.is_empty() && u.withdrawn.is_empty(), "{u:?}");
            for a in u.attributes {
                match a {
                    PathAttribute::MpReach(MpReach { nlri, .. })
                    | PathAttribute::MpUnreach(MpUnreach { nlri, .. }) => {
                        let mut b = Vec::new();
                        emit(&nlri, &mut b);
                        seen.push(b);
                    }
                    _ => {}
                }
            }
            rest = &rest[len..];
        }
        // Path id 0, length 24 / 25, the prefix octets.
        seen.sort();
        assert_eq!(
            seen,
            vec![
                vec![0, 0, 0, 0, 24, 203, 0, 113],
                vec![0, 0, 0, 0, 25, 198, 51, 100, 128],
            ]
        );
        // Without ADD-PATH nothing moves.
        assert!(unicast_with_path_ids(&diff, &params(Vec::new())).is_none());
    }

    fn emit(nlri: &crate::wire::attribute::MpNlri, out: &mut Vec<u8>) {
        use crate::wire::attribute::MpNlri;
        match nlri {
            MpNlri::Paths(v) => v.iter().for_each(|p| p.emit(out)),
            other => panic!("expected ADD-PATH NLRI, got {other:?}"),
        }
    }
}
