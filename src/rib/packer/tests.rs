//! Packed UPDATEs decoded again with the codec and compared with what was meant.

use std::net::IpAddr;
use std::sync::Arc;

use super::*;
use crate::rib::attributes::Origin;
use crate::rib::route_set::RouteSet;
use crate::wire::aspath::AsPath;
use crate::wire::attribute::{MpNextHop, MpNlri};
use crate::wire::community::Community;
use crate::wire::message::{DecodeContext, MAX_MESSAGE_LEN};

fn p(s: &str) -> Prefix {
    let (a, l) = s.split_once('/').unwrap();
    Prefix::new(a.parse().unwrap(), l.parse().unwrap()).unwrap()
}

fn nh(s: &str) -> NextHop {
    NextHop::Address {
        global: s.parse().unwrap(),
        link_local: None,
    }
}

fn params(ebgp: bool, four: bool) -> SessionParams {
    SessionParams {
        group_updates: true,
        four_octet_as: four,
        ebgp,
        local_as: 65000,
        local_address: "127.0.0.2".parse().unwrap(),
        families: vec![Family::IPV4_UNICAST, Family::IPV6_UNICAST],
        max_message_len: MAX_MESSAGE_LEN,
        add_path: Vec::new(),
        extended_next_hop: Vec::new(),
        local_link_local: None,
        confederation: Default::default(),
        role: None,
    }
}

fn decode_all(packed: &Packed, four: bool) -> Vec<Update> {
    let ctx = DecodeContext {
        attributes: AttributeContext {
            four_octet_as: four,
        },
        max_message_len: MAX_MESSAGE_LEN,
        ..DecodeContext::default()
    };
    let msgs = split_messages(&packed.bytes);
    assert_eq!(msgs.len(), packed.messages);
    msgs.iter()
        .map(|m| {
            let (msg, problems) = Message::decode(m, ctx).unwrap();
            assert!(problems.is_empty(), "{problems:?}");
            match msg {
                Message::Update(u) => u,
                other => panic!("{other:?}"),
            }
        })
        .collect()
}

#[test]
fn ebgp_ipv4_route_gets_default_as_path_and_no_local_pref() {
    let mut a = RouteAttributes::with_next_hop(nh("192.0.2.10"));
    a.set(PathAttribute::Med(50));
    a.set(PathAttribute::LocalPref(200));
    a.set(PathAttribute::Communities(vec![Community::from_parts(
        65000, 1,
    )]));
    let set = RouteSet::new(vec![(p("198.51.100.7/32"), Arc::new(a))]);
    let packed = pack(&set.as_announcements(), &params(true, true));
    let u = &decode_all(&packed, true)[0];
    assert_eq!(u.nlri, vec![p("198.51.100.7/32")]);
    assert_eq!(
        u.attributes,
        vec![
            PathAttribute::Origin(Origin::Igp),
            PathAttribute::AsPath(AsPath::sequence(vec![65000])),
            PathAttribute::NextHop("192.0.2.10".parse().unwrap()),
            PathAttribute::Med(50),
            PathAttribute::Communities(vec![Community::from_parts(65000, 1)]),
        ]
    );
}

#[test]
fn ibgp_ipv6_route_uses_mp_reach_with_empty_path_and_local_pref_100() {
    let a = RouteAttributes::with_next_hop(nh("2001:db8::1"));
    let set = RouteSet::new(vec![(p("2001:db8:100::/48"), Arc::new(a))]);
    let packed = pack(&set.as_announcements(), &params(false, true));
    let u = &decode_all(&packed, true)[0];
    assert!(u.nlri.is_empty());
    assert_eq!(
        u.attribute(type_code::AS_PATH),
        Some(&PathAttribute::AsPath(AsPath::default()))
    );
    assert_eq!(
        u.attribute(type_code::LOCAL_PREF),
        Some(&PathAttribute::LocalPref(100))
    );
    let Some(PathAttribute::MpReach(mp)) = u.attribute(type_code::MP_REACH_NLRI) else {
        panic!("{u:?}")
    };
    assert_eq!(mp.family, Family::IPV6_UNICAST);
    assert_eq!(
        mp.next_hop,
        MpNextHop::Addresses(vec!["2001:db8::1".parse::<IpAddr>().unwrap()])
    );
    assert_eq!(mp.nlri, MpNlri::Prefixes(vec![p("2001:db8:100::/48")]));
}

#[test]
fn many_routes_sharing_attributes_fill_4096_byte_messages() {
    let a = Arc::new(RouteAttributes::with_next_hop(nh("192.0.2.10")));
    let routes: Vec<_> = (0..3000u32)
        .map(|i| {
            let addr = IpAddr::V4((0xC633_0000u32 + (i << 8)).into()); // 198.51.x.0/24..
            (Prefix::new(addr, 24).unwrap(), a.clone())
        })
        .collect();
    let set = RouteSet::new(routes);
    let packed = pack(&set.as_announcements(), &params(true, true));
    // Each /24 takes 4 octets; about (4096 - 23 - 21) / 4 = 1013 per message.
    assert_eq!(packed.messages, 3);
    let msgs = split_messages(&packed.bytes);
    assert!(msgs.iter().all(|m| m.len() <= MAX_MESSAGE_LEN));
    assert!(msgs[0].len() > 4000);
    let total: usize = decode_all(&packed, true).iter().map(|u| u.nlri.len()).sum();
    assert_eq!(total, 3000);
}

#[test]
fn two_octet_peer_gets_as_trans_and_as4_path_and_as4_aggregator() {
    let mut a = RouteAttributes::with_next_hop(nh("192.0.2.10"));
    a.set(PathAttribute::AsPath(AsPath::sequence(vec![
        65000,
        4_200_000_001,
    ])));
    a.set(PathAttribute::Aggregator {
        asn: 4_200_000_001,
        address: "192.0.2.9".parse().unwrap(),
    });
    let set = RouteSet::new(vec![(p("198.51.100.0/24"), Arc::new(a))]);
    let packed = pack(&set.as_announcements(), &params(true, false));
    let u = &decode_all(&packed, false)[0];
    assert_eq!(
        u.attribute(type_code::AS_PATH),
        Some(&PathAttribute::AsPath(AsPath::sequence(vec![65000, 23456])))
    );
    assert_eq!(
        u.attribute(type_code::AS4_PATH),
        Some(&PathAttribute::As4Path(AsPath::sequence(vec![
            65000,
            4_200_000_001
        ])))
    );
    assert_eq!(
        u.attribute(type_code::AGGREGATOR),
        Some(&PathAttribute::Aggregator {
            asn: 23456,
            address: "192.0.2.9".parse().unwrap()
        })
    );
    assert!(u.attribute(type_code::AS4_AGGREGATOR).is_some());
}

#[test]
fn withdrawals_of_both_families_and_held_back_family() {
    let a = Arc::new(RouteAttributes::with_next_hop(nh("192.0.2.10")));
    let b = Arc::new(RouteAttributes::with_next_hop(nh("2001:db8::1")));
    let old = RouteSet::new(vec![
        (p("198.51.100.0/24"), a.clone()),
        (p("2001:db8:1::/48"), b.clone()),
    ]);
    let packed = pack(&old.diff(&RouteSet::default()), &params(true, true));
    let us = decode_all(&packed, true);
    assert_eq!(us.len(), 2);
    assert_eq!(us[0].withdrawn, vec![p("198.51.100.0/24")]);
    let Some(PathAttribute::MpUnreach(m)) = us[1].attribute(type_code::MP_UNREACH_NLRI) else {
        panic!()
    };
    assert_eq!(m.nlri, MpNlri::Prefixes(vec![p("2001:db8:1::/48")]));

    let mut only_v4 = params(true, true);
    only_v4.families = vec![Family::IPV4_UNICAST];
    let packed = pack(&old.as_announcements(), &only_v4);
    assert_eq!(packed.messages, 1);
    assert_eq!(packed.held_back, vec![(Family::IPV6_UNICAST, 1)]);
}

#[test]
fn next_hop_self_uses_session_address() {
    let a = Arc::new(RouteAttributes::with_next_hop(NextHop::SelfAddress));
    let set = RouteSet::new(vec![
        (p("198.51.100.0/24"), a.clone()),
        (p("2001:db8::/32"), a),
    ]);
    let packed = pack(&set.as_announcements(), &params(true, true));
    let us = decode_all(&packed, true);
    assert_eq!(
        us[0].attribute(type_code::NEXT_HOP),
        Some(&PathAttribute::NextHop("127.0.0.2".parse().unwrap()))
    );
    let Some(PathAttribute::MpReach(mp)) = us[1].attribute(type_code::MP_REACH_NLRI) else {
        panic!()
    };
    assert_eq!(
        mp.next_hop,
        MpNextHop::Addresses(vec!["::ffff:127.0.0.2".parse().unwrap()])
    );
}

#[test]
fn ipv6_next_hop_with_link_local_is_the_32_octet_form() {
    let a = RouteAttributes::with_next_hop(NextHop::Address {
        global: "2001:db8::1".parse().unwrap(),
        link_local: Some("fe80::1".parse().unwrap()),
    });
    let set = RouteSet::new(vec![(p("2001:db8:1::/48"), Arc::new(a))]);
    let packed = pack(&set.as_announcements(), &params(true, true));
    let u = &decode_all(&packed, true)[0];
    let Some(PathAttribute::MpReach(mp)) = u.attribute(type_code::MP_REACH_NLRI) else {
        panic!()
    };
    assert_eq!(
        mp.next_hop,
        MpNextHop::Addresses(vec![
            "2001:db8::1".parse().unwrap(),
            "fe80::1".parse().unwrap()
        ])
    );
}

mod flows {
    use super::*;
    use crate::wire::flowspec::action::FlowAction;
    use crate::wire::flowspec::{FlowComponent, FlowPrefix, FlowRule, NumericOp, decode_nlri_list};

    fn rule(afi: Afi, dst: &str, port: u64) -> FlowRule {
        let (a, l) = dst.split_once('/').unwrap();
        FlowRule::new(
            afi,
            vec![
                FlowComponent::Destination(FlowPrefix {
                    addr: a.parse().unwrap(),
                    len: l.parse().unwrap(),
                    offset: 0,
                }),
                FlowComponent::DestinationPort(vec![NumericOp::eq(port)]),
            ],
        )
        .unwrap()
    }

    fn flow_attrs(next_hop: NextHop) -> Arc<RouteAttributes> {
        let mut a = RouteAttributes::with_next_hop(next_hop);
        a.set(PathAttribute::ExtendedCommunities(vec![
            FlowAction::TrafficRate { asn: 0, rate: 0.0 }.to_community(),
        ]));
        Arc::new(a)
    }

    fn flow_params() -> SessionParams {
        let mut p = params(true, true);
        p.families.push(Family::new(Afi::Ipv4, Safi::FlowSpec));
        p.families.push(Family::new(Afi::Ipv6, Safi::FlowSpec));
        p
    }

    /// The (family, next hop, rules) of every MP_REACH and the rules of every MP_UNREACH.
    type Reach = (Family, MpNextHop, Vec<FlowRule>);

    fn mp(updates: &[Update]) -> (Vec<Reach>, Vec<FlowRule>) {
        let (mut reach, mut unreach) = (Vec::new(), Vec::new());
        for u in updates {
            for a in &u.attributes {
                match a {
                    PathAttribute::MpReach(m) => {
                        let MpNlri::Raw(raw) = &m.nlri else { panic!() };
                        let rules = decode_nlri_list(raw, m.family.afi).unwrap();
                        reach.push((m.family, m.next_hop.clone(), rules));
                    }
                    PathAttribute::MpUnreach(m) => {
                        let MpNlri::Raw(raw) = &m.nlri else { panic!() };
                        unreach.extend(decode_nlri_list(raw, m.family.afi).unwrap());
                    }
                    _ => {}
                }
            }
        }
        (reach, unreach)
    }

    #[test]
    fn flows_go_in_mp_reach_safi_133_with_no_next_hop_and_no_next_hop_attribute() {
        let drop = flow_attrs(NextHop::Absent);
        let set = RouteSet::with_flows(
            vec![],
            vec![
                (rule(Afi::Ipv4, "192.0.2.0/24", 53), drop.clone()),
                (rule(Afi::Ipv4, "198.51.100.0/24", 123), drop.clone()),
                (rule(Afi::Ipv6, "2001:db8::/32", 53), drop.clone()),
            ],
        );
        let packed = pack(&set.as_announcements(), &flow_params());
        assert_eq!(packed.announced, 3);
        let updates = decode_all(&packed, true);
        assert_eq!(updates.len(), 2);
        for u in &updates {
            assert!(
                !u.attributes
                    .iter()
                    .any(|a| matches!(a, PathAttribute::NextHop(_)))
            );
            assert!(u.attributes.iter().any(
                |a| matches!(a, PathAttribute::ExtendedCommunities(c) if c == drop.extended_communities())
            ));
        }
        let (reach, _) = mp(&updates);
        assert_eq!(reach[0].0, Family::new(Afi::Ipv4, Safi::FlowSpec));
        assert_eq!(reach[0].1, MpNextHop::Raw(vec![]));
        assert_eq!(reach[0].2.len(), 2);
        assert_eq!(reach[1].0, Family::new(Afi::Ipv6, Safi::FlowSpec));
        assert_eq!(reach[1].2, vec![rule(Afi::Ipv6, "2001:db8::/32", 53)]);
    }

    #[test]
    fn redirect_to_ip_puts_the_address_in_mp_reach() {
        let set = RouteSet::with_flows(
            vec![],
            vec![(
                rule(Afi::Ipv4, "192.0.2.0/24", 80),
                flow_attrs(nh("192.0.2.1")),
            )],
        );
        let updates = decode_all(&pack(&set.as_announcements(), &flow_params()), true);
        let (reach, _) = mp(&updates);
        assert_eq!(reach[0].1, MpNextHop::Raw(vec![192, 0, 2, 1]));
    }

    #[test]
    fn many_flows_pack_into_few_messages_and_withdraw_in_mp_unreach() {
        let a = flow_attrs(NextHop::Absent);
        let flows: Vec<_> = (1..=1000)
            .map(|port| (rule(Afi::Ipv4, "192.0.2.0/24", port), a.clone()))
            .collect();
        let full = RouteSet::with_flows(vec![], flows);
        let packed = pack(&full.as_announcements(), &flow_params());
        let updates = decode_all(&packed, true);
        assert!(updates.len() <= 4, "{} messages", updates.len());
        let (reach, _) = mp(&updates);
        assert_eq!(reach.iter().map(|r| r.2.len()).sum::<usize>(), 1000);

        let empty = RouteSet::default();
        let packed = pack(&full.diff(&empty), &flow_params());
        assert_eq!(packed.withdrawn, 1000);
        let (_, unreach) = mp(&decode_all(&packed, true));
        assert_eq!(unreach.len(), 1000);
    }

    #[test]
    fn flows_of_a_family_not_negotiated_are_held_back() {
        let set = RouteSet::with_flows(
            vec![],
            vec![(
                rule(Afi::Ipv4, "192.0.2.0/24", 53),
                flow_attrs(NextHop::Absent),
            )],
        );
        let packed = pack(&set.as_announcements(), &params(true, true));
        assert_eq!(packed.messages, 0);
        assert_eq!(
            packed.held_back,
            vec![(Family::new(Afi::Ipv4, Safi::FlowSpec), 1)]
        );
    }
}

#[test]
fn group_updates_false_sends_one_announced_prefix_per_update() {
    let a = Arc::new(RouteAttributes::with_next_hop(nh("192.0.2.10")));
    let routes: Vec<_> = (0..10u32)
        .map(|i| (p(&format!("198.51.100.{}/32", i)), a.clone()))
        .collect();
    let set = RouteSet::new(routes);
    let mut one_each = params(true, true);
    one_each.group_updates = false;
    let packed = pack(&set.as_announcements(), &one_each);
    let updates = decode_all(&packed, true);
    assert_eq!(updates.len(), 10);
    assert!(updates.iter().all(|u| u.nlri.len() == 1));
    // Withdrawals are still packed together.
    let packed = pack(&set.diff(&RouteSet::default()), &one_each);
    assert_eq!(decode_all(&packed, true).len(), 1);
    assert_eq!(
        pack(&set.as_announcements(), &params(true, true)).messages,
        1
    );
}

#[test]
fn duplicate_communities_of_every_kind_are_sent_once() {
    use crate::wire::community::{ExtendedCommunity, LargeCommunity};
    let mut a = RouteAttributes::with_next_hop(nh("192.0.2.10"));
    let c = |x| Community::from_parts(65000, x);
    a.set(PathAttribute::Communities(vec![c(2), c(1), c(2), c(1)]));
    let l = |x| LargeCommunity {
        global: 65000,
        local1: x,
        local2: 0,
    };
    a.set(PathAttribute::LargeCommunities(vec![l(1), l(1), l(2)]));
    let e = ExtendedCommunity([0, 2, 0xfd, 0xe8, 0, 0, 0, 1]);
    a.set(PathAttribute::ExtendedCommunities(vec![e, e]));
    let set = RouteSet::new(vec![(p("198.51.100.7/32"), Arc::new(a))]);
    let packed = pack(&set.as_announcements(), &params(true, true));
    let u = &decode_all(&packed, true)[0];
    assert_eq!(
        u.attribute(type_code::COMMUNITIES),
        Some(&PathAttribute::Communities(vec![c(2), c(1)]))
    );
    assert_eq!(
        u.attribute(type_code::LARGE_COMMUNITY),
        Some(&PathAttribute::LargeCommunities(vec![l(1), l(2)]))
    );
    assert_eq!(
        u.attribute(type_code::EXTENDED_COMMUNITIES),
        Some(&PathAttribute::ExtendedCommunities(vec![e]))
    );
}

#[test]
fn route_reflection_attributes_go_to_internal_peers_only() {
    let mut a = RouteAttributes::with_next_hop(nh("192.0.2.10"));
    let id: std::net::Ipv4Addr = "10.0.0.1".parse().unwrap();
    for x in [
        PathAttribute::OriginatorId(id),
        PathAttribute::ClusterList(vec![id]),
        PathAttribute::Aigp(vec![(1, 7u64.to_be_bytes().to_vec())]),
        PathAttribute::Unknown {
            code: 0x99,
            flags: 0xc0,
            value: vec![1],
        },
    ] {
        a.set(x);
    }
    let set = RouteSet::new(vec![(p("198.51.100.7/32"), Arc::new(a))]);
    let ibgp = &decode_all(&pack(&set.as_announcements(), &params(false, true)), true)[0];
    let codes: Vec<u8> = ibgp.attributes.iter().map(|a| a.code()).collect();
    assert_eq!(codes, [1, 2, 3, 5, 9, 10, 26, 0x99]);
    assert_eq!(
        ibgp.attribute(type_code::AIGP),
        Some(&PathAttribute::Aigp(vec![(1, 7u64.to_be_bytes().to_vec())]))
    );
    let ebgp = &decode_all(&pack(&set.as_announcements(), &params(true, true)), true)[0];
    let codes: Vec<u8> = ebgp.attributes.iter().map(|a| a.code()).collect();
    assert_eq!(codes, [1, 2, 3, 26, 0x99]);
}

/// The per-family counts the packer keeps as it writes are what an independent reader of
/// the bytes finds (`wire::family_counts`), withdrawals and several messages included.
#[test]
fn per_family_counts_match_the_bytes_written() {
    let v4 = Arc::new(RouteAttributes::with_next_hop(nh("192.0.2.10")));
    let v6 = Arc::new(RouteAttributes::with_next_hop(nh("2001:db8::1")));
    let mut routes: Vec<(Prefix, Arc<RouteAttributes>)> = (0..3000u32)
        .map(|i| (p(&format!("10.{}.{}.0/24", i >> 8, i & 255)), v4.clone()))
        .collect();
    routes.extend((0..700u32).map(|i| (p(&format!("2001:db8:{i:x}::/48")), v6.clone())));
    let old = RouteSet::new(routes.clone());
    routes.retain(|(pfx, _)| !pfx.to_string().starts_with("10.1."));
    routes.truncate(routes.len() - 100);
    let new = RouteSet::new(routes);
    let params = params(true, true);
    for packed in [
        pack(&old.as_announcements(), &params),
        pack(&old.diff(&new), &params),
    ] {
        let mut ours = packed.families.clone();
        let mut read = crate::wire::family_counts::count(&packed.bytes, &params.add_path);
        ours.sort_by_key(|(f, _)| *f);
        read.sort_by_key(|(f, _)| *f);
        assert_eq!(ours, read);
        let total: u64 = ours.iter().map(|(_, s)| s.updates).sum();
        assert_eq!(total, packed.messages as u64);
    }
}

/// Routes grouped in stretches (consecutive routes sharing a set) and groups written in runs
/// of slots across many messages: every prefix arrives once, with its own attributes, and a
/// path after its plain route is not sent to a peer without ADD-PATH.
#[test]
fn interleaved_attribute_sets_each_reach_their_prefixes() {
    let sets: Vec<Arc<RouteAttributes>> = (1..=3)
        .map(|med| {
            let mut a = RouteAttributes::with_next_hop(nh("192.0.2.10"));
            a.set(PathAttribute::Med(med));
            Arc::new(a)
        })
        .collect();
    let med_of = |i: u32| {
        if (i / 7).is_multiple_of(3) {
            1
        } else {
            2 + i % 2
        }
    };
    let mut routes: Vec<(Prefix, Arc<RouteAttributes>)> = (0..5000u32)
        .map(|i| {
            let pfx = p(&format!("10.{}.{}.0/24", i >> 8, i & 255));
            (pfx, sets[med_of(i) as usize - 1].clone())
        })
        .collect();
    routes.extend((0..500u32).map(|i| {
        (
            p(&format!("2001:db8:{i:x}::/48")),
            sets[i as usize % 3].clone(),
        )
    }));
    let path = NlriKey::of_prefix(Family::IPV4_UNICAST, None, p("10.0.9.0/24"), Some(7));
    let value = crate::rib::key::RouteValue {
        labels: Vec::new(),
        attrs: sets[0].clone(),
    };
    let set = RouteSet::new(routes.clone()).with_others(vec![(path, value)]);
    let mut params = params(true, true);
    params.max_message_len = 4096;
    let packed = pack(&set.as_announcements(), &params);
    assert_eq!(packed.extra_paths, vec![(Family::IPV4_UNICAST, 1)]);
    assert_eq!(packed.announced, routes.len());
    let mut got: Vec<(Prefix, u32)> = Vec::new();
    for u in decode_all(&packed, true) {
        let Some(PathAttribute::Med(med)) = u.attributes.iter().find(|a| a.code() == 4) else {
            panic!("no MED in {u:?}")
        };
        got.extend(u.nlri.iter().map(|p| (*p, *med)));
        for a in &u.attributes {
            if let PathAttribute::MpReach(r) = a {
                let MpNlri::Prefixes(v) = &r.nlri else {
                    panic!("{r:?}")
                };
                got.extend(v.iter().map(|p| (*p, *med)));
            }
        }
    }
    got.sort();
    let mut want: Vec<(Prefix, u32)> = routes
        .iter()
        .map(|(p, a)| match a.get(4) {
            Some(PathAttribute::Med(m)) => (*p, *m),
            _ => unreachable!(),
        })
        .collect();
    want.sort();
    assert_eq!(got, want);
}

/// A route whose attributes alone overflow a 4,096-octet UPDATE is not sent in one the peer
/// would answer with a NOTIFICATION (Bad Message Length): it is withdrawn (the peer may hold
/// an older, smaller version), counted in `oversized`, and the routes around it go as usual.
#[test]
fn a_route_too_large_for_the_session_is_withdrawn_not_sent_oversized() {
    let mut big = RouteAttributes::with_next_hop(nh("192.0.2.10"));
    let many: Vec<Community> = (0..1500).map(|i| Community::from_parts(65000, i)).collect();
    big.set(PathAttribute::Communities(many.clone()));
    let mut big6 = RouteAttributes::with_next_hop(nh("2001:db8::1"));
    big6.set(PathAttribute::Communities(many));
    let small = Arc::new(RouteAttributes::with_next_hop(nh("192.0.2.10")));
    let set = RouteSet::new(vec![
        (p("198.51.100.0/24"), Arc::new(big)),
        (p("198.51.101.0/24"), small),
        (p("2001:db8:100::/48"), Arc::new(big6)),
    ]);
    let params = params(true, true);
    assert_eq!(params.max_message_len, 4096);
    let packed = pack(&set.as_announcements(), &params);
    assert_eq!(
        packed.oversized,
        vec![
            NlriKey::plain(p("198.51.100.0/24")),
            NlriKey::plain(p("2001:db8:100::/48"))
        ]
    );
    assert_eq!(packed.announced, 1);
    let updates = decode_all(&packed, true);
    for m in split_messages(&packed.bytes) {
        assert!(m.len() <= 4096, "{} octets", m.len());
    }
    let announced: Vec<Prefix> = updates.iter().flat_map(|u| u.nlri.clone()).collect();
    assert_eq!(announced, vec![p("198.51.101.0/24")]);
    let withdrawn: Vec<Prefix> = updates.iter().flat_map(|u| u.withdrawn.clone()).collect();
    assert_eq!(withdrawn, vec![p("198.51.100.0/24")]);
    let unreach = updates
        .iter()
        .find_map(|u| match u.attribute(type_code::MP_UNREACH_NLRI) {
            Some(PathAttribute::MpUnreach(mp)) => Some(mp.nlri.clone()),
            _ => None,
        });
    assert_eq!(
        unreach,
        Some(MpNlri::Prefixes(vec![p("2001:db8:100::/48")]))
    );
    // With extended messages the same routes all go.
    let extended = SessionParams {
        max_message_len: 65535,
        ..params.clone()
    };
    let packed = pack(&set.as_announcements(), &extended);
    assert!(packed.oversized.is_empty());
    assert_eq!(packed.announced, 3);
    crate::rib::selfcheck::verify(
        &set.as_announcements(),
        &params,
        &pack(&set.as_announcements(), &params),
    )
    .unwrap();
}

/// RFC 9234 §5 egress, with the OTC octets read from the bytes sent (type 35, flags 0xc0,
/// length 4) rather than through the codec that wrote them.
mod otc_egress {
    use super::*;
    use crate::wire::attribute::OTC_SELF;
    use crate::wire::role::Role;

    fn with_role(role: Option<Role>) -> SessionParams {
        SessionParams {
            role,
            ..params(true, true)
        }
    }

    /// The routes: 198.51.100.0/24 plain, 203.0.113.0/24 with `otc` (value `otc`),
    /// 192.0.2.0/24 with a raw OTC attribute 0x23 of value 64999, and an IPv6 one plain.
    fn table(otc: u32) -> RouteSet {
        let plain = Arc::new(RouteAttributes::with_next_hop(nh("192.0.2.10")));
        let marked = Arc::new(
            RouteAttributes::with_next_hop(nh("192.0.2.10")).with(PathAttribute::Otc(otc)),
        );
        let raw = Arc::new(RouteAttributes::with_next_hop(nh("192.0.2.10")).with(
            PathAttribute::Unknown {
                flags: 0xc0,
                code: 35,
                value: vec![0, 0, 0xfd, 0xe7],
            },
        ));
        let v6 = Arc::new(RouteAttributes::with_next_hop(nh("2001:db8::1")));
        RouteSet::new(vec![
            (p("198.51.100.0/24"), plain),
            (p("203.0.113.0/24"), marked),
            (p("192.0.2.0/24"), raw),
            (p("2001:db8:1::/48"), v6),
        ])
    }

    /// An OTC attribute as sent: flags and value.
    type RawOtc = (u8, Vec<u8>);

    /// Per announced prefix, the OTC attributes as sent.
    fn otc_sent(packed: &Packed) -> Vec<(String, Vec<RawOtc>)> {
        let mut out = Vec::new();
        for (m, u) in split_messages(&packed.bytes)
            .iter()
            .zip(decode_all(packed, true))
        {
            let mut raw = Vec::new();
            for w in m.windows(7) {
                if w[1] == 35 && w[2] == 4 && (w[0] & 0xf0) == 0xc0 {
                    raw.push((w[0], w[3..7].to_vec()));
                }
            }
            let mut prefixes: Vec<String> = u.nlri.iter().map(|p| p.to_string()).collect();
            if let Some(PathAttribute::MpReach(mp)) = u.attribute(type_code::MP_REACH_NLRI)
                && let MpNlri::Prefixes(v) = &mp.nlri
            {
                prefixes.extend(v.iter().map(|p| p.to_string()));
            }
            for p in prefixes {
                out.push((p, raw.clone()));
            }
        }
        out.sort();
        out
    }

    fn withdrawn(packed: &Packed) -> Vec<String> {
        decode_all(packed, true)
            .iter()
            .flat_map(|u| u.withdrawn.iter().map(|p| p.to_string()))
            .collect()
    }

    const OUR_AS: [u8; 4] = [0, 0, 0xfd, 0xe8]; // 65000
    const RAW: [u8; 4] = [0, 0, 0xfd, 0xe7]; // 64999

    #[test]
    fn to_a_customer_peer_or_rs_client_every_route_without_otc_gets_our_as() {
        for role in [Role::Provider, Role::Rs] {
            let packed = pack(&table(65123).as_announcements(), &with_role(Some(role)));
            assert_eq!(
                otc_sent(&packed),
                vec![
                    ("192.0.2.0/24".into(), vec![(0xc0, RAW.to_vec())]),
                    ("198.51.100.0/24".into(), vec![(0xc0, OUR_AS.to_vec())]),
                    ("2001:db8:1::/48".into(), vec![(0xc0, OUR_AS.to_vec())]),
                    // Kept as configured, never replaced (RFC 9234 §5).
                    (
                        "203.0.113.0/24".into(),
                        vec![(0xc0, vec![0, 0, 0xfe, 0x63])]
                    ),
                ],
                "{role}"
            );
            assert!(packed.otc_withheld.is_empty());
            crate::rib::selfcheck::verify(
                &table(65123).as_announcements(),
                &with_role(Some(role)),
                &packed,
            )
            .unwrap();
        }
    }

    #[test]
    fn to_a_provider_rs_or_peer_a_route_with_configured_otc_is_withdrawn_not_sent() {
        for role in [Role::Customer, Role::RsClient, Role::Peer] {
            let params = with_role(Some(role));
            let packed = pack(&table(65123).as_announcements(), &params);
            let mark = |v: &[u8; 4]| vec![(0xc0, v.to_vec())];
            let plain = if role == Role::Peer {
                mark(&OUR_AS)
            } else {
                vec![]
            };
            assert_eq!(
                otc_sent(&packed),
                vec![
                    // A raw attribute is sent as written: a leak on purpose.
                    ("192.0.2.0/24".into(), mark(&RAW)),
                    ("198.51.100.0/24".into(), plain.clone()),
                    ("2001:db8:1::/48".into(), plain),
                ],
                "{role}"
            );
            assert_eq!(withdrawn(&packed), vec!["203.0.113.0/24".to_string()]);
            assert_eq!(packed.otc_withheld.len(), 1);
            assert_eq!((packed.announced, packed.withdrawn), (3, 1));
            crate::rib::selfcheck::verify(&table(65123).as_announcements(), &params, &packed)
                .unwrap();
        }
    }

    #[test]
    fn otc_self_is_the_local_as_and_no_role_changes_nothing() {
        let packed = pack(
            &table(OTC_SELF).as_announcements(),
            &with_role(Some(Role::Provider)),
        );
        assert!(
            otc_sent(&packed)
                .iter()
                .any(|(p, v)| p == "203.0.113.0/24" && *v == vec![(0xc0, OUR_AS.to_vec())])
        );
        let packed = pack(&table(65123).as_announcements(), &with_role(None));
        let sent = otc_sent(&packed);
        assert_eq!(
            sent.iter().filter(|(_, v)| !v.is_empty()).count(),
            2,
            "{sent:?}"
        );
        assert!(packed.otc_withheld.is_empty());
    }

    #[test]
    fn the_role_rules_leave_other_families_alone() {
        let flow = Family::new(crate::wire::family::Afi::Ipv4, Safi::MplsVpn);
        let p = SessionParams {
            families: vec![flow],
            ..with_role(Some(Role::Customer))
        };
        let attrs =
            RouteAttributes::with_next_hop(nh("192.0.2.10")).with(PathAttribute::Otc(65123));
        assert!(!p.withholds(flow, &attrs));
        assert!(p.withholds(Family::IPV4_UNICAST, &attrs));
        assert_eq!(p.export_context(flow).role, None);
    }
}
