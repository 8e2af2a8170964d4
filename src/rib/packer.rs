//! Turns a [`RouteDiff`] into UPDATE messages for one negotiated session: withdrawals
//! first, then announcements grouped by (family, attribute set), each group's attributes
//! exported and encoded once and its NLRI packed into as few messages as fit. Every message
//! is framed by the one UPDATE writer (`wire::update_writer`), in the classic fields for
//! IPv4 unicast and in MP_REACH_NLRI / MP_UNREACH_NLRI for every other family.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::sync::Arc;

use super::attributes::{NextHop, RouteAttributes};
use super::key::{KeyRef, Nlri, NlriKey};
use super::route_set::{RouteDiff, RouteSet, Slot};
use crate::wire::attribute::{AttributeContext, ExportContext, PathAttribute, type_code};
use crate::wire::family::{Afi, Family, Safi};
use crate::wire::family_counts::FamilySent;
use crate::wire::labeled::{self, RouteDistinguisher};
use crate::wire::message::{HEADER_LEN, Message};
use crate::wire::prefix::Prefix;
use crate::wire::role::{self, Role};
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
    /// ExaBGP main's `local-link-local`: sent after an IPv6 global next hop that has no
    /// link-local address of its own.
    pub local_link_local: Option<std::net::Ipv6Addr>,
    /// RFC 5065: the session's place in our confederation.
    pub confederation: crate::wire::aspath::ConfederationRole,
    /// RFC 9234: our role on the session (`role { local NAME; }`).
    pub role: Option<Role>,
}

impl SessionParams {
    /// The most NLRI one announcing UPDATE may carry.
    pub fn max_announced_per_message(&self) -> usize {
        if self.group_updates { usize::MAX } else { 1 }
    }

    /// The session as the attribute table's export rules see it, for routes of `family`.
    pub fn export_context(&self, family: Family) -> ExportContext {
        use crate::wire::aspath::ConfederationRole;
        ExportContext {
            // RFC 5065 §5.2: to another member AS, the attributes go as on iBGP.
            ebgp: self.ebgp && !matches!(self.confederation, ConfederationRole::Member(_)),
            four_octet_as: self.four_octet_as,
            local_as: self.local_as,
            confederation: self.confederation,
            role: self.role.filter(|_| role::applies_to(family)),
        }
    }

    /// RFC 9234 §5 egress rule 2: a route of `family` with these attributes must not go to
    /// this peer (it has OTC and the peer is our provider, peer or RS). Only OTC given with
    /// the `otc` keyword counts: a raw `attribute [ 0x23 ... ]` is sent as written.
    fn withholds(&self, family: Family, attrs: &RouteAttributes) -> bool {
        self.role
            .is_some_and(|r| r.refuses_otc_routes() && role::applies_to(family))
            && matches!(attrs.get(type_code::OTC), Some(PathAttribute::Otc(_)))
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
    /// Paths not sent because the peer does not receive ADD-PATH for the family: only the
    /// lowest path identifier of each prefix goes.
    pub extra_paths: Vec<(Family, usize)>,
    /// Routes whose attributes alone make an UPDATE longer than the session allows (4,096
    /// octets without RFC 8654 extended messages): not announced but withdrawn, as BIRD does,
    /// so that the peer keeps no older version of them either.
    pub oversized: Vec<NlriKey>,
    /// Messages, announcements and withdrawals per family, counted as they are written (for
    /// the metrics).
    pub families: Vec<(Family, FamilySent)>,
    /// Routes not announced but withdrawn because they carry OTC and the peer is our
    /// provider, peer or RS (RFC 9234 §5, egress rule 2): the peer keeps no older version.
    pub otc_withheld: Vec<NlriKey>,
}

impl Packed {
    fn family(&mut self, family: Family) -> &mut FamilySent {
        let i = match self.families.iter().position(|(f, _)| *f == family) {
            Some(i) => i,
            None => {
                self.families.push((family, FamilySent::default()));
                self.families.len() - 1
            }
        };
        &mut self.families[i].1
    }
}

/// Packs `diff` for the session described by `params`: the packer's one entry point.
/// Withdrawals first, then announcements, each in one pass over the keys in order, grouped
/// by (family, attribute set); each group goes to [`write_nlri`].
pub fn pack(diff: &RouteDiff, params: &SessionParams) -> Packed {
    let mut packed = Packed::default();
    let mut held: HashMap<Family, usize> = HashMap::new();
    packed.bytes.reserve(estimated_size(diff.announce.len()));
    for group in withdrawal_groups(diff, params, &mut held, &mut packed) {
        let emit = |slot, out: &mut Vec<u8>| {
            if let Some(key) = diff.withdraw.key(slot) {
                key.emit(&[], true, group.add_path, out)
            }
        };
        write_nlri(group.family, None, &group, emit, params, &mut packed);
    }
    for group in announcement_groups(&diff.announce, params, &mut held, &mut packed) {
        if let (Some(next_hop), Some(attrs)) = (&group.next_hop, group.attrs) {
            let wire = WireAttributes::build(
                attrs,
                params,
                group.family,
                group.classic.then_some(&next_hop[..]),
            );
            let announce = Some((&wire, &next_hop[..]));
            let emit = |slot, out: &mut Vec<u8>| diff.announce.emit(slot, group.add_path, out);
            let over = write_nlri(group.family, announce, &group, emit, params, &mut packed);
            if !over.is_empty() {
                let keys: Vec<NlriKey> = over
                    .iter()
                    .filter_map(|slot| Some(diff.announce.stored(*slot)?.key.key().into_owned()))
                    .collect();
                withdraw_oversized(&group, &keys, params, &mut packed);
            }
        }
    }
    let withheld = std::mem::take(&mut packed.otc_withheld);
    for family in withheld
        .iter()
        .map(|k| k.family)
        .collect::<std::collections::BTreeSet<_>>()
    {
        let keys: Vec<NlriKey> = withheld
            .iter()
            .filter(|k| k.family == family)
            .cloned()
            .collect();
        let add_path = params.add_path.contains(&family);
        let classic = family == Family::IPV4_UNICAST && !add_path;
        withdraw_keys(family, classic, add_path, &keys, params, &mut packed);
    }
    packed.otc_withheld = withheld;
    let mut held: Vec<_> = held.into_iter().collect();
    held.sort();
    packed.held_back = held;
    packed
}

/// Packs all of `set` as announcements (a fresh session's table): `pack` of a diff that
/// shares the set's storage.
pub fn pack_table(set: &RouteSet, params: &SessionParams) -> Packed {
    pack(&set.as_announcements(), params)
}

/// A first guess of the bytes `routes` announcements take (an IPv4 /24 is 4 octets, plus
/// each message's header and attributes), so the output grows without many copies.
fn estimated_size(routes: usize) -> usize {
    routes * 5 + 4096
}

/// NLRI of one family going out together: where they are stored (four octets each), encoded
/// only as they are written.
struct Group<'a> {
    family: Family,
    /// The announced routes' attributes (`None` for withdrawals).
    attrs: Option<&'a RouteAttributes>,
    /// The next hop as MP_REACH_NLRI carries it; `None` when the session cannot carry it.
    next_hop: Option<Vec<u8>>,
    /// IPv4 unicast in the classic fields of the UPDATE (RFC 4271 §4.3).
    classic: bool,
    /// The peer receives path identifiers for the family.
    add_path: bool,
    members: Members,
}

/// The slots of a group, as runs of consecutive slots: a table whose routes share one
/// attribute set is one run, so grouping writes nothing per route.
#[derive(Default)]
struct Members {
    /// (first slot, number of slots).
    runs: Vec<(Slot, u32)>,
}

impl Members {
    fn push(&mut self, slot: Slot) {
        self.push_run(slot, 1)
    }

    /// Adds the `len` slots from `first`.
    fn push_run(&mut self, first: Slot, len: u32) {
        match self.runs.last_mut() {
            Some((f, n)) if f.wrapping_add(*n) == first => *n += len,
            _ => self.runs.push((first, len)),
        }
    }
}

/// The withdrawals of `diff`, one group per family (and classic or not). Without ADD-PATH
/// the peer has one path per destination: a destination is withdrawn once, and not at all
/// when this diff announces a path of it (that replaces it).
fn withdrawal_groups<'a>(
    diff: &'a RouteDiff,
    params: &SessionParams,
    held: &mut HashMap<Family, usize>,
    packed: &mut Packed,
) -> Vec<Group<'a>> {
    let announced: HashSet<(Family, Option<RouteDistinguisher>, &Nlri)> = diff
        .announce
        .other_list()
        .iter()
        .map(|(k, _)| (k.family, k.rd, &k.nlri))
        .collect();
    let mut groups: Vec<Group> = Vec::new();
    let mut last: Option<NlriKey> = None;
    for (slot, key) in diff.withdraw.slots() {
        if !params.families.contains(&key.family) {
            *held.entry(key.family).or_default() += 1;
            continue;
        }
        let add_path = params.add_path.contains(&key.family);
        if !add_path {
            if announced.contains(&(key.family, key.rd, &key.nlri))
                || last.as_ref().is_some_and(|l| l.same_destination(&key))
            {
                continue;
            }
            last = Some(key.clone().into_owned());
        }
        let classic = key.family == Family::IPV4_UNICAST && !add_path;
        let g = match groups
            .iter()
            .position(|g| g.family == key.family && g.classic == classic)
        {
            Some(g) => g,
            None => {
                groups.push(Group {
                    family: key.family,
                    attrs: None,
                    next_hop: None,
                    classic,
                    add_path,
                    members: Members::default(),
                });
                groups.len() - 1
            }
        };
        groups[g].members.push(slot);
        packed.withdrawn += 1;
    }
    groups
}

/// The announcements of `set`, one group per (family, attribute set, plain or not) in
/// first-seen order. Without ADD-PATH for a family only the lowest path identifier of a
/// destination goes (keys are in order, so that is the first); families not negotiated are
/// held back; routes whose next hop the session cannot carry are listed as unresolvable.
fn announcement_groups<'a>(
    set: &'a RouteSet,
    params: &SessionParams,
    held: &mut HashMap<Family, usize>,
    packed: &mut Packed,
) -> Vec<Group<'a>> {
    type GroupKey = (Family, *const RouteAttributes, bool);
    let mut groups: Vec<Group> = Vec::new();
    let mut index: HashMap<GroupKey, usize> = HashMap::new();
    let mut last: Option<(GroupKey, usize)> = None;
    let mut dropped: HashMap<Family, usize> = HashMap::new();
    let mut previous: Option<KeyRef> = None;
    // Whether the family is negotiated and receives path identifiers, for the last family
    // seen (keys come family by family).
    let mut session: Option<(Family, bool, bool)> = None;
    for stretch in set.stretches() {
        let e = stretch.head;
        let family = e.key.family();
        let (negotiated, add_path) = match session {
            Some((f, n, a)) if f == family => (n, a),
            _ => {
                let n = params.families.contains(&family);
                let a = params.add_path.contains(&family);
                session = Some((family, n, a));
                (n, a)
            }
        };
        if !negotiated {
            *held.entry(family).or_default() += stretch.len as usize;
            continue;
        }
        // The routes after the first of a stretch are other destinations than the one before
        // them: only the first can repeat the previous key's.
        let (mut first, mut len) = (stretch.first, stretch.len);
        if !add_path
            && previous
                .as_ref()
                .is_some_and(|p| p.same_destination(&e.key))
        {
            *dropped.entry(family).or_default() += 1;
            (first, len) = (first.wrapping_add(1), len - 1);
        }
        if len == 0 {
            continue;
        }
        let plain = e.key.path_id().is_none();
        let gk: GroupKey = (family, Arc::as_ptr(e.attrs), plain);
        let g = match last {
            Some((k, g)) if k == gk => g,
            _ => {
                let g = *index.entry(gk).or_insert_with(|| {
                    let next_hop = next_hop_bytes(family, e.attrs.next_hop, params);
                    let classic = family == Family::IPV4_UNICAST
                        && plain
                        && !add_path
                        && next_hop.as_ref().is_some_and(|nh| nh.len() == 4);
                    groups.push(Group {
                        family,
                        attrs: Some(e.attrs),
                        next_hop,
                        classic,
                        add_path,
                        members: Members::default(),
                    });
                    groups.len() - 1
                });
                last = Some((gk, g));
                g
            }
        };
        let slots = (0..len).map(|k| first.wrapping_add(k));
        let group = &mut groups[g];
        if params.withholds(family, e.attrs) {
            let keys = slots.filter_map(|slot| Some(set.stored(slot)?.key.key().into_owned()));
            packed.otc_withheld.extend(keys);
        } else if group.next_hop.is_none() {
            let prefixes = slots.filter_map(|slot| set.stored(slot)?.key.prefix());
            packed.unresolvable.extend(prefixes);
        } else {
            group.members.push_run(first, len);
            packed.announced += len as usize;
        }
        previous = set.stored(first.wrapping_add(len - 1)).map(|s| s.key);
    }
    let mut dropped: Vec<_> = dropped.into_iter().collect();
    dropped.sort();
    packed.extra_paths = dropped;
    groups
}

/// Writes `entries` (see [`Group`]) of `family` into as few UPDATEs as fit: withdrawn
/// (`announce` `None`) or announced with the group's attributes and next hop; in the classic
/// fields or in MP_UNREACH_NLRI / MP_REACH_NLRI. Announcements follow `group-updates`;
/// withdrawals are always packed.
/// Returns the slots of routes that do not fit a message on their own (see
/// [`Packed::oversized`]); they are not written.
fn write_nlri(
    family: Family,
    announce: Option<(&WireAttributes, &[u8])>,
    group: &Group,
    emit: impl Fn(Slot, &mut Vec<u8>),
    params: &SessionParams,
    packed: &mut Packed,
) -> Vec<Slot> {
    let mut oversized = Vec::new();
    let classic = group.classic;
    let most = match announce {
        Some(_) => params.max_announced_per_message(),
        None => usize::MAX,
    };
    // The next slot to write: run `r` of the members, `k` slots into it.
    let runs = &group.members.runs;
    let (mut r, mut k) = (0, 0);
    while r < runs.len() {
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
        let mut last = None;
        while let Some(&(first, n)) = runs.get(r) {
            let slot = first.wrapping_add(k);
            if w.pushed() >= most || !w.push(|out| emit(slot, out)) {
                break;
            }
            last = Some(slot);
            k += 1;
            if k == n {
                (r, k) = (r + 1, 0);
            }
        }
        if let (Some((wire, _)), false) = (announce, classic) {
            w.mp_end(&wire.after_mp);
        }
        // The writer takes a first route whatever its size: one that overflows alone is
        // left out (the next message starts after it).
        if let (Some(_), 1, Some(slot)) = (announce, w.pushed(), last)
            && w.written() > params.max_message_len
        {
            w.abandon();
            oversized.push(slot);
            continue;
        }
        let routes = w.pushed() as u64;
        w.finish();
        packed.messages += 1;
        let sent = packed.family(family);
        sent.updates += 1;
        match announce {
            Some(_) => sent.announced += routes,
            None => sent.withdrawn += routes,
        }
    }
    oversized
}

/// Withdraws `keys`, routes of `group` too large to announce (see [`Packed::oversized`]).
fn withdraw_oversized(
    group: &Group,
    keys: &[NlriKey],
    params: &SessionParams,
    packed: &mut Packed,
) {
    withdraw_keys(
        group.family,
        group.classic,
        group.add_path,
        keys,
        params,
        packed,
    );
    packed.announced -= keys.len().min(packed.announced);
    packed.oversized.extend_from_slice(keys);
}

/// Withdraws `keys` of `family` (in the classic fields or MP_UNREACH_NLRI).
fn withdraw_keys(
    family: Family,
    classic: bool,
    add_path: bool,
    keys: &[NlriKey],
    params: &SessionParams,
    packed: &mut Packed,
) {
    let mut i = 0;
    while i < keys.len() {
        let first = i;
        let mut w = UpdateWriter::begin(&mut packed.bytes, params.max_message_len);
        if !classic {
            w.mp_unreach(family);
        }
        while let Some(key) = keys.get(i) {
            if !w.push(|out| key.emit(&[], true, add_path, out)) {
                break;
            }
            i += 1;
        }
        w.finish();
        let routes = i - first;
        packed.messages += 1;
        packed.withdrawn += routes;
        let sent = packed.family(family);
        sent.updates += 1;
        sent.withdrawn += routes as u64;
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
        family: Family,
        classic_next_hop: Option<&[u8]>,
    ) -> WireAttributes {
        let ctx = params.attribute_context();
        let mut list = attrs.export(&params.export_context(family));
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
        (NextHop::SelfAddress | NextHop::Absent, Safi::FlowSpec | Safi::FlowSpecVpn) => {
            return Some(Vec::new());
        }
        (NextHop::SelfAddress, _) => (params.local_address, None),
        (NextHop::Absent, _) => return None,
    };
    let mut addresses: Vec<IpAddr> = match (family.afi, global) {
        (Afi::Ipv4, IpAddr::V4(_)) => vec![global],
        (Afi::Ipv4, IpAddr::V6(_)) if params.extended_next_hop.contains(&family) => vec![global],
        // An SRv6 MUP route of IPv4 (ExaBGP's and GoBGP's ISD and DSD) has an IPv6 next hop.
        (Afi::Ipv4, IpAddr::V6(_)) if family.safi == Safi::Mup => vec![global],
        (Afi::Ipv6, IpAddr::V6(_)) => vec![global],
        // MCAST-VPN and the non-IP AFIs (EVPN, VPLS): the address as it is, of either
        // version (RFC 6514 §4.3, RFC 7432 §7, RFC 4761 §3.2.2; ExaBGP sends an IPv6
        // MCAST-VPN route's IPv4 next hop in 4 octets).
        _ if family.safi == Safi::Mvpn || family.afi == Afi::L2VPN => {
            vec![global]
        }
        // ExaBGP's `nexthop { ipv6 unicast ipv4; }` negotiated: the four octets as written.
        (Afi::Ipv6, IpAddr::V4(_)) if params.extended_next_hop.contains(&family) => vec![global],
        // ExaBGP's choice for an IPv4 next hop of an IPv6 route: IPv4-mapped.
        (Afi::Ipv6, IpAddr::V4(a)) => vec![IpAddr::V6(a.to_ipv6_mapped())],
        _ => return None,
    };
    if global.is_ipv6() && !matches!(family.safi, Safi::FlowSpec | Safi::FlowSpecVpn) {
        addresses.extend(link_local.or(params.local_link_local).map(IpAddr::V6));
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
            local_link_local: None,
            confederation: Default::default(),
            role: None,
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
        let diff = RouteDiff::new(
            vec![NlriKey::plain(prefix("203.0.113.0/24"))],
            RouteSet::new(vec![(prefix("198.51.100.128/25"), attrs)]),
        );
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
        // Without ADD-PATH they go in the classic fields.
        let packed = super::pack(&diff, &params(Vec::new()));
        let (m, _) = Message::decode(&packed.bytes, DecodeContext::default()).unwrap();
        let Message::Update(u) = m else {
            panic!("not an UPDATE")
        };
        assert_eq!(u.withdrawn, vec![prefix("203.0.113.0/24")]);
    }

    fn emit(nlri: &crate::wire::attribute::MpNlri, out: &mut Vec<u8>) {
        use crate::wire::attribute::MpNlri;
        match nlri {
            MpNlri::Paths(v) => v.iter().for_each(|p| p.emit(out)),
            other => panic!("expected ADD-PATH NLRI, got {other:?}"),
        }
    }
}
