//! Packs the non-unicast part of a [`RouteDiff`] (labeled unicast, MPLS VPN, multicast,
//! ADD-PATH paths, IPv4 routes with an IPv6 next hop): everything goes in MP_REACH_NLRI /
//! MP_UNREACH_NLRI, one family per message, announcements grouped by attribute set.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

use super::attributes::{NextHop, RouteAttributes};
use super::other_nlri::{NlriKey, Other, OtherRoute};
use super::packer::{Packed, SessionParams, WireAttributes, begin_message, write_mp_attributes};
use super::route_set::RouteDiff;
use crate::wire::attribute::type_code;
use crate::wire::family::{Afi, Family, Safi};
use crate::wire::labeled::{self, LabelStack, LabeledPrefix};
use crate::wire::message::{HEADER_LEN, set_length};

/// Withdrawn length and total attribute length of an UPDATE.
const UPDATE_FIXED: usize = 4;
/// MP attribute header with an extended length (4), AFI/SAFI (3).
const MP_FIXED: usize = 4 + 3;

/// RFC 7911 §3: once the peer receives path identifiers in a unicast family, every NLRI of
/// that family carries one. The unicast packer sends none, so the plain unicast routes of
/// such a family move to the other routes, as paths with identifier 0 (as when sent without
/// `path-information`). `None` when nothing moves.
pub(super) fn unicast_with_path_ids(diff: &RouteDiff, params: &SessionParams) -> Option<RouteDiff> {
    let moves = |p: &crate::wire::prefix::Prefix| {
        params
            .add_path
            .contains(&Family::new(p.afi(), Safi::Unicast))
    };
    if !diff.withdraw.iter().any(moves) && !diff.announce.iter().any(|(p, _)| moves(p)) {
        return None;
    }
    let key = |p: &crate::wire::prefix::Prefix| NlriKey {
        family: Family::new(p.afi(), Safi::Unicast),
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

/// One NLRI entry as it goes on the wire for this session.
fn nlri_bytes(key: &NlriKey, labels: &[u32], withdraw: bool, add_path: bool, out: &mut Vec<u8>) {
    let path_id = if add_path {
        Some(key.path_id.unwrap_or(0))
    } else {
        None
    };
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

/// Without ADD-PATH for a family the peer gets one path per destination: the lowest path
/// identifier. `items` is sorted by key, so that is the first of each destination.
fn one_path_each<'a, T>(
    items: impl Iterator<Item = (&'a NlriKey, T)>,
    params: &SessionParams,
    dropped: &mut HashMap<Family, usize>,
) -> Vec<(&'a NlriKey, T)> {
    let mut out: Vec<(&NlriKey, T)> = Vec::new();
    for (k, v) in items {
        if !params.add_path.contains(&k.family)
            && out
                .last()
                .is_some_and(|(l, _)| l.destination() == k.destination())
        {
            *dropped.entry(k.family).or_default() += 1;
            continue;
        }
        out.push((k, v));
    }
    out
}

/// Packs the non-unicast withdrawals and announcements of `diff`; families not negotiated
/// are counted in `held`.
pub(super) fn pack_other(
    withdraw_others: &[NlriKey],
    announce_others: &[Other],
    params: &SessionParams,
    held: &mut HashMap<Family, usize>,
    packed: &mut Packed,
) {
    packed.other_from = packed.bytes.len();
    let before = packed.messages;
    let mut dropped: HashMap<Family, usize> = HashMap::new();

    // Withdrawals: a destination also announced in this diff is replaced, not withdrawn,
    // when the peer sees one path per destination.
    let mut withdrawals: HashMap<Family, Vec<u8>> = HashMap::new();
    let mut order: Vec<Family> = Vec::new();
    let announced: std::collections::HashSet<_> = announce_others
        .iter()
        .map(|(k, _)| k.destination())
        .collect();
    let mut last: Option<(Family, _)> = None;
    for k in withdraw_others {
        if !params.families.contains(&k.family) {
            *held.entry(k.family).or_default() += 1;
            continue;
        }
        let add_path = params.add_path.contains(&k.family);
        if !add_path {
            if announced.contains(&k.destination()) || last == Some((k.family, k.destination())) {
                continue;
            }
            last = Some((k.family, k.destination()));
        }
        let buf = withdrawals.entry(k.family).or_insert_with(|| {
            order.push(k.family);
            Vec::new()
        });
        let mut one = Vec::new();
        nlri_bytes(k, &[], true, add_path, &mut one);
        push_entry(buf, &one);
        packed.withdrawn += 1;
    }
    for family in order {
        let entries = split_entries(&withdrawals[&family]);
        pack_mp(family, None, &[], &entries, params, packed);
    }

    // Announcements, grouped by family and attribute set in first-seen order.
    let negotiated: Vec<&Other> = announce_others
        .iter()
        .filter(|(k, _)| {
            let ok = params.families.contains(&k.family);
            if !ok {
                *held.entry(k.family).or_default() += 1;
            }
            ok
        })
        .collect();
    let chosen = one_path_each(
        negotiated.iter().map(|o| (&o.0, &o.1)),
        params,
        &mut dropped,
    );
    type Group<'a> = (Family, &'a Arc<RouteAttributes>, Vec<Vec<u8>>);
    let mut groups: Vec<Group> = Vec::new();
    let mut index: HashMap<(Family, *const RouteAttributes), usize> = HashMap::new();
    for (k, route) in chosen {
        let i = *index
            .entry((k.family, Arc::as_ptr(&route.attrs)))
            .or_insert_with(|| {
                groups.push((k.family, &route.attrs, Vec::new()));
                groups.len() - 1
            });
        let mut one = Vec::new();
        nlri_bytes(
            k,
            &route.labels,
            false,
            params.add_path.contains(&k.family),
            &mut one,
        );
        groups[i].2.push(one);
    }
    for (family, attrs, entries) in groups {
        let Some(next_hop) = next_hop_bytes(family, attrs.next_hop, params) else {
            packed.unresolvable.extend(
                announce_others
                    .iter()
                    .filter(|(k, r)| k.family == family && Arc::ptr_eq(&r.attrs, attrs))
                    .map(|(k, _)| k.prefix),
            );
            continue;
        };
        let wire = WireAttributes::assemble(attrs, params, (None, Vec::new()));
        packed.announced += entries.len();
        let refs: Vec<&[u8]> = entries.iter().map(Vec::as_slice).collect();
        pack_mp(family, Some(&wire), &next_hop, &refs, params, packed);
    }
    packed.other_messages = packed.messages - before;
    let mut dropped: Vec<_> = dropped.into_iter().collect();
    dropped.sort();
    packed.extra_paths = dropped;
}

/// Entries are kept length-prefixed (2 octets) in one buffer to avoid a `Vec` per entry.
fn push_entry(buf: &mut Vec<u8>, entry: &[u8]) {
    buf.extend_from_slice(&(entry.len() as u16).to_be_bytes());
    buf.extend_from_slice(entry);
}

fn split_entries(buf: &[u8]) -> Vec<&[u8]> {
    let mut v = Vec::new();
    let mut rest = buf;
    while rest.len() >= 2 {
        let n = u16::from_be_bytes([rest[0], rest[1]]) as usize;
        let (e, tail) = rest[2..].split_at(n);
        v.push(e);
        rest = tail;
    }
    v
}

/// The MP_REACH next hop of a route of `family` on this session; `None` when it cannot be
/// expressed (an IPv6 next hop for IPv4 NLRI needs RFC 8950 negotiated).
fn next_hop_bytes(family: Family, next_hop: NextHop, params: &SessionParams) -> Option<Vec<u8>> {
    let (global, link_local) = match next_hop {
        NextHop::Address { global, link_local } => (global, link_local),
        NextHop::SelfAddress => (params.local_address, None),
        NextHop::Absent => return None,
    };
    let mut addresses: Vec<IpAddr> = match (family.afi, global) {
        (Afi::Ipv4, IpAddr::V4(_)) => vec![global],
        (Afi::Ipv4, IpAddr::V6(_)) if params.extended_next_hop.contains(&family) => vec![global],
        (Afi::Ipv6, IpAddr::V6(_)) => vec![global],
        // As for unicast: an IPv4 next hop of an IPv6 route is sent IPv4-mapped.
        (Afi::Ipv6, IpAddr::V4(a)) => vec![IpAddr::V6(a.to_ipv6_mapped())],
        _ => return None,
    };
    if global.is_ipv6() {
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

/// Packs `entries` (encoded NLRI) into as few UPDATEs as fit: MP_REACH with `wire` and
/// `next_hop` when `wire` is given, otherwise MP_UNREACH.
fn pack_mp(
    family: Family,
    wire: Option<&WireAttributes>,
    next_hop: &[u8],
    entries: &[&[u8]],
    params: &SessionParams,
    packed: &mut Packed,
) {
    let fixed = wire.map_or(0, |w| w.before_mp.len() + w.after_mp.len());
    let mp_fixed = MP_FIXED
        + if wire.is_some() {
            2 + next_hop.len()
        } else {
            0
        };
    let room = params
        .max_message_len
        .saturating_sub(HEADER_LEN + UPDATE_FIXED + fixed + mp_fixed);
    let out = &mut packed.bytes;
    let mut from = 0;
    while from < entries.len() {
        let mut value = Vec::with_capacity(room + mp_fixed);
        value.extend_from_slice(&family.afi.to_u16().to_be_bytes());
        value.push(family.safi.to_u8());
        if wire.is_some() {
            value.push(next_hop.len() as u8);
            value.extend_from_slice(next_hop);
            value.push(0); // reserved (RFC 4760 §3)
        }
        let mut used = 0;
        let mut count = 0;
        // Announcements follow `group-updates`; withdrawals are always packed.
        let most = if wire.is_some() {
            params.max_announced_per_message()
        } else {
            usize::MAX
        };
        while let Some(e) = entries.get(from) {
            if used > 0 && (used + e.len() > room || count >= most) {
                break;
            }
            count += 1;
            value.extend_from_slice(e);
            used += e.len();
            from += 1;
        }
        let code = if wire.is_some() {
            type_code::MP_REACH_NLRI
        } else {
            type_code::MP_UNREACH_NLRI
        };
        let start = begin_message(out);
        out.extend_from_slice(&[0, 0]); // no withdrawn routes
        write_mp_attributes(out, wire, code, &value);
        set_length(out, start);
        packed.messages += 1;
    }
}

#[cfg(test)]
mod tests {
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
        let packed = super::super::packer::pack(&diff, &params(vec![Family::IPV4_UNICAST]));
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
