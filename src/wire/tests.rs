//! Round-trip and error tests for the codec, from hand-built bytes.

use std::net::Ipv4Addr;

use super::aspath::AsPath;
use super::attribute::{AttributeContext, MpNextHop, MpNlri, MpReach, PathAttribute};
use super::capability::Capability;
use super::community::{Community, LargeCommunity};
use super::error::ErrorAction;
use super::family::Family;
use super::message::{DecodeContext, Message, RouteRefresh, frame};
use super::notification::Notification;
use super::open::Open;
use super::update::Update;
use crate::wire::attribute::Origin;

const CTX4: AttributeContext = AttributeContext {
    four_octet_as: true,
};

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.chars().filter(|c| c.is_ascii_hexdigit()).collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// A message of `kind` with this body (hex), its length computed.
fn msg(kind: u8, body: &str) -> Vec<u8> {
    let body = hex(body);
    let mut out = vec![0xFF; 16];
    out.extend_from_slice(&((19 + body.len()) as u16).to_be_bytes());
    out.push(kind);
    out.extend_from_slice(&body);
    out
}

fn round_trip(m: &Message) {
    let bytes = m.encode(CTX4);
    let (back, problems) = Message::decode(&bytes, DecodeContext::default()).unwrap();
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(&back, m);
    assert_eq!(back.encode(CTX4), bytes);
}

#[test]
fn open_round_trips_with_capabilities() {
    round_trip(&Message::Open(Open {
        version: 4,
        my_as: 23456,
        hold_time: 90,
        router_id: Ipv4Addr::new(192, 0, 2, 1),
        capabilities: vec![
            Capability::Multiprotocol(Family::IPV4_UNICAST),
            Capability::Multiprotocol(Family::IPV6_UNICAST),
            Capability::RouteRefresh,
            Capability::FourOctetAs(4_200_000_000),
            Capability::Unknown {
                code: 200,
                value: vec![1, 2, 3],
            },
        ],
        parameter_layout: Vec::new(),
        extended_parameters: false,
    }));
}

#[test]
fn open_with_many_capabilities_uses_rfc9072_extended_parameters() {
    let open = Open {
        version: 4,
        my_as: 65000,
        hold_time: 180,
        router_id: Ipv4Addr::new(192, 0, 2, 1),
        capabilities: (0..60)
            .map(|i| Capability::Unknown {
                code: 200,
                value: vec![i; 3],
            })
            .collect(),
        parameter_layout: Vec::new(),
        extended_parameters: false,
    };
    let bytes = Message::Open(open.clone()).encode(CTX4);
    assert_eq!(&bytes[28..30], &[255, 255]);
    round_trip(&Message::Open(open));
}

#[test]
fn open_with_hold_time_one_is_refused_with_2_6() {
    let bytes = hex("ffffffffffffffffffffffffffffffff 001d 01 04 fde8 0001 c0000201 00");
    let err = Message::decode(&bytes, DecodeContext::default()).unwrap_err();
    assert_eq!(
        err.notification().map(|n| (n.code, n.subcode)),
        Some((2, 6))
    );
}

#[test]
fn truncated_open_parameters_are_an_open_error_not_a_panic() {
    // Optional parameter length says 20, only 2 bytes follow (CVE-2022-40302 class).
    let bytes = hex("ffffffffffffffffffffffffffffffff 001f 01 04 fde8 00b4 c0000201 14 0206");
    let err = Message::decode(&bytes, DecodeContext::default()).unwrap_err();
    assert_eq!(err.notification().map(|n| n.code), Some(2));
    // Extended parameter form announced but cut short (CVE-2022-40318 / 43681 class).
    let bytes = hex("ffffffffffffffffffffffffffffffff 001f 01 04 fde8 00b4 c0000201 ff ff");
    assert!(Message::decode(&bytes, DecodeContext::default()).is_err());
}

#[test]
fn update_round_trips_with_every_attribute() {
    let update = Update {
        withdrawn: vec!["203.0.113.0/24".parse_prefix()],
        attributes: vec![
            PathAttribute::Origin(Origin::Egp),
            PathAttribute::AsPath(AsPath::sequence(vec![65000, 4_200_000_001])),
            PathAttribute::NextHop(Ipv4Addr::new(192, 0, 2, 1)),
            PathAttribute::Med(50),
            PathAttribute::LocalPref(200),
            PathAttribute::AtomicAggregate,
            PathAttribute::Aggregator {
                asn: 65000,
                address: Ipv4Addr::new(192, 0, 2, 9),
            },
            PathAttribute::Communities(vec![
                Community(0xFFFF_FF01),
                Community::from_parts(65000, 1),
            ]),
            PathAttribute::LargeCommunities(vec![LargeCommunity {
                global: 65000,
                local1: 1,
                local2: 2,
            }]),
            PathAttribute::MpReach(MpReach {
                family: Family::IPV6_UNICAST,
                next_hop: MpNextHop::Addresses(vec!["2001:db8::1".parse().unwrap()]),
                nlri: MpNlri::Prefixes(vec!["2001:db8:100::/48".parse_prefix()]),
            }),
        ],
        nlri: vec![
            "198.51.100.0/24".parse_prefix(),
            "198.51.100.7/32".parse_prefix(),
        ],
        ..Update::default()
    };
    round_trip(&Message::Update(update));
}

#[test]
fn keepalive_notification_route_refresh_round_trip() {
    round_trip(&Message::Keepalive);
    round_trip(&Message::Notification(
        Notification::administrative_shutdown("bye"),
    ));
    round_trip(&Message::RouteRefresh(RouteRefresh {
        family: Family::IPV6_UNICAST,
        subtype: 0,
    }));
}

#[test]
fn end_of_rib_is_recognised_for_both_forms() {
    for fam in [Family::IPV4_UNICAST, Family::IPV6_UNICAST] {
        let bytes = Message::Update(Update::end_of_rib_marker(fam)).encode(CTX4);
        let (m, _) = Message::decode(&bytes, DecodeContext::default()).unwrap();
        let Message::Update(u) = m else { panic!() };
        assert_eq!(u.end_of_rib(), Some(fam));
    }
}

#[test]
fn framing_rejects_bad_marker_and_length_and_waits_for_more() {
    let ka = Message::Keepalive.encode(CTX4);
    assert_eq!(frame(&ka[..10], 4096), Ok(None));
    assert_eq!(frame(&ka, 4096), Ok(Some(19)));
    let mut bad = ka.clone();
    bad[0] = 0;
    assert_eq!(
        frame(&bad, 4096)
            .unwrap_err()
            .notification()
            .map(|n| n.subcode),
        Some(1)
    );
    let mut long = ka.clone();
    long[16..18].copy_from_slice(&65535u16.to_be_bytes());
    let e = frame(&long, 4096).unwrap_err();
    assert_eq!(
        e.notification()
            .map(|n| (n.code, n.subcode, n.data.clone())),
        Some((1, 2, vec![255, 255]))
    );
}

#[test]
fn malformed_community_length_is_treat_as_withdraw() {
    // ORIGIN, AS_PATH empty, NEXT_HOP, COMMUNITIES of length 3, NLRI 198.51.100.0/24.
    let bytes = msg(
        2,
        "0000 0014 40010100 400200 400304c0000201 c00803 010203 18c63364",
    );
    let (_, problems) = Message::decode(&bytes, DecodeContext::default()).unwrap();
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].action, ErrorAction::TreatAsWithdraw);
}

#[test]
fn attribute_longer_than_attribute_section_is_treat_as_withdraw() {
    let bytes = msg(2, "0000 0004 40010500");
    let (_, problems) = Message::decode(&bytes, DecodeContext::default()).unwrap();
    assert!(
        problems
            .iter()
            .any(|p| p.action == ErrorAction::TreatAsWithdraw)
    );
}

#[test]
fn mp_unreach_without_mandatory_attributes_is_valid() {
    // CVE-2023-47234 class: withdraw-only UPDATE must not be treated as missing ORIGIN.
    let bytes = msg(2, "0000 000d 800f0a 0002 01 30 20010db80100");
    let (m, problems) = Message::decode(&bytes, DecodeContext::default()).unwrap();
    assert!(problems.is_empty(), "{problems:?}");
    assert!(matches!(m, Message::Update(_)));
}

#[test]
fn duplicate_mp_reach_resets_the_session() {
    let bytes = msg(2, "0000 000c 800f03000201 800f03000201");
    let err = Message::decode(&bytes, DecodeContext::default()).unwrap_err();
    assert_eq!(
        err.notification().map(|n| (n.code, n.subcode)),
        Some((3, 1))
    );
}

#[test]
fn prefix_longer_than_32_is_invalid_network_field() {
    let bytes = hex("ffffffffffffffffffffffffffffffff 001c 02 0000 0000 21c6336401");
    let err = Message::decode(&bytes, DecodeContext::default()).unwrap_err();
    assert_eq!(
        err.notification().map(|n| (n.code, n.subcode)),
        Some((3, 10))
    );
}

#[test]
fn two_octet_as_path_uses_as_trans() {
    let u = Update {
        attributes: vec![PathAttribute::AsPath(AsPath::sequence(vec![
            4_200_000_001,
            65000,
        ]))],
        ..Update::default()
    };
    let ctx2 = AttributeContext {
        four_octet_as: false,
    };
    let bytes = Message::Update(u).encode(ctx2);
    // 40 02 06 02 02 5ba0 fde8
    assert!(
        bytes
            .windows(9)
            .any(|w| w == [0x40, 0x02, 0x06, 0x02, 0x02, 0x5b, 0xa0, 0xfd, 0xe8])
    );
}

trait ParsePrefix {
    fn parse_prefix(&self) -> super::prefix::Prefix;
}
impl ParsePrefix for str {
    fn parse_prefix(&self) -> super::prefix::Prefix {
        let (a, l) = self.split_once('/').unwrap();
        super::prefix::Prefix::new(a.parse().unwrap(), l.parse().unwrap()).unwrap()
    }
}

#[test]
fn unknown_attribute_forgets_the_extended_length_bit_so_it_round_trips() {
    // Unknown optional transitive 99 sent with extended length for a 1-octet value.
    let bytes = msg(2, "0000 0005 d06300 0101");
    let (m, problems) = Message::decode(&bytes, DecodeContext::default()).unwrap();
    assert!(problems.is_empty());
    let Message::Update(u) = &m else {
        panic!("not an UPDATE")
    };
    assert_eq!(
        u.attributes,
        vec![PathAttribute::Unknown {
            flags: 0xC0,
            code: 99,
            value: vec![1]
        }]
    );
    let again = m.encode(CTX4);
    assert_eq!(
        Message::decode(&again, DecodeContext::default()).unwrap().0,
        m
    );
}

/// RFC 7911: with ADD-PATH receive, the classic fields and MP NLRI carry a path identifier
/// before each prefix; it is decoded, shown and re-encoded byte for byte.
#[test]
fn add_path_nlri_decode_and_round_trip() {
    use super::family::FamilySet;
    use super::prefix::{PathPrefix, Prefix};
    let body = "00 08 00000002 18 cb0071 \
                00 31 40010100 400200 40030401020304 \
                800e 20 0002 01 10 20010db8000000000000000000000001 00 \
                00000007 30 20010db80001 \
                00000001 18 c63364";
    let bytes = msg(2, body);
    let ctx = DecodeContext {
        add_path: [Family::IPV4_UNICAST, Family::IPV6_UNICAST]
            .into_iter()
            .collect::<FamilySet>(),
        ..DecodeContext::default()
    };
    let (m, problems) = Message::decode(&bytes, ctx).unwrap();
    assert!(problems.is_empty(), "{problems:?}");
    let Message::Update(u) = &m else {
        panic!("{m:?}")
    };
    assert_eq!(u.withdrawn_text(), ["2@203.0.113.0/24"]);
    assert_eq!(u.nlri_text(), ["1@198.51.100.0/24"]);
    let p6: Prefix = "2001:db8:1::/48".parse_prefix();
    assert!(u.attributes.iter().any(|a| matches!(a,
        PathAttribute::MpReach(r) if r.nlri == MpNlri::Paths(vec![PathPrefix { path_id: 7, prefix: p6 }]))));
    assert_eq!(m.encode(CTX4), bytes);
    // Without the context the same bytes are not prefixes.
    assert!(Message::decode(&bytes, DecodeContext::default()).is_err());
}

#[test]
fn malformed_prefix_sid_is_discarded_and_malformed_pmsi_withdraws() {
    // ORIGIN, AS_PATH, NEXT_HOP, then a Prefix-SID whose label-index TLV claims 7 octets
    // but carries 3 (RFC 8669 §6: attribute-discard, the route stays), NLRI 198.51.100.0/24.
    let bytes = msg(
        2,
        "0000 0017 40010100 400200 400304c0000201 c02806 01000700 0000 18c63364",
    );
    let (m, problems) = Message::decode(&bytes, DecodeContext::default()).unwrap();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].action, ErrorAction::AttributeDiscard);
    assert!(
        problems[0].to_string().contains("BGP_PREFIX_SID"),
        "{}",
        problems[0]
    );
    let Message::Update(u) = m else { panic!() };
    assert!(!u.attributes.iter().any(|a| a.code() == 40));
    assert_eq!(u.nlri.len(), 1);
    // A PMSI tunnel of 4 octets (5 at least): treat-as-withdraw.
    let bytes = msg(
        2,
        "0000 0015 40010100 400200 400304c0000201 c01604 00060000 18c63364",
    );
    let (_, problems) = Message::decode(&bytes, DecodeContext::default()).unwrap();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].action, ErrorAction::TreatAsWithdraw);
    // Well-formed ones decode to their rows' text.
    let bytes = msg(
        2,
        "0000 0027 40010100 400200 400304c0000201 c0280a 01000700000000000309 c01609 0006027740c0000202 18c63364",
    );
    let (m, problems) = Message::decode(&bytes, DecodeContext::default()).unwrap();
    assert!(problems.is_empty(), "{problems:?}");
    let Message::Update(u) = m else { panic!() };
    let text: Vec<String> = u.attributes.iter().map(|a| a.to_string()).collect();
    assert!(
        text.contains(&"prefix-sid [ label-index 777; ]".to_string()),
        "{text:?}"
    );
    assert!(
        text.contains(&"pmsi-tunnel ( ingress-replication 192.0.2.2 label 10100 )".to_string()),
        "{text:?}"
    );
}

/// RFC 7911 + RFC 8955: with ADD-PATH receive for FlowSpec, each flow NLRI follows its
/// 4-octet path identifier; the bytes stay raw and decode, and a truncated one is
/// treat-as-withdraw (never a panic). The UPDATE is written by hand: MP_REACH_NLRI AFI 1
/// SAFI 133, next hop length 0, reserved 0, path id 1, length 5, destination 10.0.0.0/24.
#[test]
fn add_path_flow_nlri_decode() {
    use super::family::{Afi, FamilySet, Safi};
    let flow = Family::new(Afi::Ipv4, Safi::FlowSpec);
    let ctx = DecodeContext {
        add_path: [flow].into_iter().collect::<FamilySet>(),
        ..DecodeContext::default()
    };
    let nlri = "00000001 05 01 18 0a0000";
    let body = format!("0000 0019 40010100 400200 800e 0f 0001 85 00 00 {nlri}");
    let (m, problems) = Message::decode(&msg(2, &body), ctx).unwrap();
    assert!(problems.is_empty(), "{problems:?}");
    let Message::Update(u) = &m else {
        panic!("{m:?}")
    };
    let Some(PathAttribute::MpReach(r)) = u.attributes.last() else {
        panic!("{u:?}")
    };
    let MpNlri::Raw(raw) = &r.nlri else {
        panic!("{r:?}")
    };
    let rules = super::flowspec::decode_nlri_paths(raw, Afi::Ipv4).unwrap();
    assert_eq!(rules.len(), 1);
    assert_eq!(rules[0].0, 1);
    assert_eq!(rules[0].1.match_text(), "destination 10.0.0.0/24;");
    // Without ADD-PATH for the family, the same bytes are not a rule.
    let (_, problems) = Message::decode(&msg(2, &body), DecodeContext::default()).unwrap();
    assert!(!problems.is_empty());
    // A path identifier cut short: treat-as-withdraw, not a panic.
    let body = "0000 0012 40010100 400200 800e 08 0001 85 00 00 000000";
    let (_, problems) = Message::decode(&msg(2, body), ctx).unwrap();
    assert!(
        problems.iter().any(|p| matches!(
            p.kind,
            super::error::DecodeErrorKind::MalformedFlowSpec(_)
        ) && p.action == ErrorAction::TreatAsWithdraw),
        "{problems:?}"
    );
}

/// RFC 9234 §5: OTC (type 35, optional transitive, 4 octets). A well-formed one decodes to
/// its AS in text and JSON; a length other than 4, or wrong flags, is treat-as-withdraw
/// (RFC 7606), never a reset; a second one is discarded (RFC 7606 §3 g).
#[test]
fn otc_attribute_decode_and_malformed_forms() {
    // ORIGIN, AS_PATH empty, NEXT_HOP 192.0.2.1, then OTC as given, NLRI 198.51.100.0/24.
    let update = |otc: &str| {
        let attrs = format!("40010100 400200 400304c0000201 {otc}");
        let len = attrs.split_whitespace().map(|w| w.len() / 2).sum::<usize>();
        msg(2, &format!("0000 {len:04x} {attrs} 18c63364"))
    };
    let (m, problems) =
        Message::decode(&update("c02304 0000fde8"), DecodeContext::default()).unwrap();
    assert!(problems.is_empty(), "{problems:?}");
    let Message::Update(u) = m else { panic!() };
    assert_eq!(u.attribute(35), Some(&PathAttribute::Otc(65000)));
    let text: Vec<String> = u.attributes.iter().map(|a| a.to_string()).collect();
    assert!(text.contains(&"otc 65000".to_string()), "{text:?}");
    for bad in [
        "c02303 00fde8",
        "c02305 0000fde800",
        "c02300",
        "c023ff 0000fde8",
        // Optional but not transitive, and well-known: flags errors.
        "802304 0000fde8",
        "402304 0000fde8",
        // The extended-length form is fine for the length, not for a wrong one.
        "d0230003 00fde8",
    ] {
        let result = Message::decode(&update(bad), DecodeContext::default());
        let Ok((_, problems)) = result else {
            // A length that runs past the attributes is the only framing case.
            assert_eq!(bad, "c023ff 0000fde8", "{result:?}");
            continue;
        };
        assert!(
            problems
                .iter()
                .any(|p| p.action == ErrorAction::TreatAsWithdraw),
            "{bad}: {problems:?}"
        );
        assert!(
            !problems
                .iter()
                .any(|p| matches!(p.action, ErrorAction::SessionReset(_))),
            "{bad}: {problems:?}"
        );
    }
    let (m, problems) =
        Message::decode(&update("d0230004 0000fde8"), DecodeContext::default()).unwrap();
    assert!(problems.is_empty(), "{problems:?}");
    let Message::Update(u) = m else { panic!() };
    assert_eq!(u.attribute(35), Some(&PathAttribute::Otc(65000)));
    // Twice: the first is kept, the session stays up.
    let (m, problems) = Message::decode(
        &update("c02304 0000fde8 c02304 0000fde9"),
        DecodeContext::default(),
    )
    .unwrap();
    assert!(
        !problems
            .iter()
            .any(|p| matches!(p.action, ErrorAction::SessionReset(_))),
        "{problems:?}"
    );
    let Message::Update(u) = m else { panic!() };
    assert_eq!(
        u.attributes.iter().filter(|a| a.code() == 35).count(),
        1,
        "{u:?}"
    );
}
