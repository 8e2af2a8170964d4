//! Round trips for every component, operator and action, and the worked examples of
//! RFC 8955 §4.2.3 and RFC 8956 §3.8, byte for byte.

use std::net::{IpAddr, Ipv4Addr};

use super::action::FlowAction;
use super::*;
use crate::wire::community::ExtendedCommunity;

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.split_whitespace().collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn prefix(text: &str, offset: u8) -> FlowPrefix {
    let (a, l) = text.split_once('/').unwrap();
    FlowPrefix {
        addr: a.parse().unwrap(),
        len: l.parse().unwrap(),
        offset,
    }
}

fn num(and: bool, cmp: &str, value: u64) -> NumericOp {
    let (lt, gt, eq) = NumericOp::from_comparison(cmp).unwrap();
    NumericOp {
        and,
        lt,
        gt,
        eq,
        value,
    }
}

fn bits(and: bool, not: bool, matched: bool, value: u64) -> BitmaskOp {
    BitmaskOp {
        and,
        not,
        matched,
        value,
    }
}

fn round_trip(rule: &FlowRule) {
    let bytes = rule.encode();
    assert_eq!(bytes.len(), rule.wire_len());
    assert_eq!(
        &FlowRule::decode(&bytes, rule.afi()).unwrap(),
        rule,
        "{rule}"
    );
}

#[test]
fn rfc8955_example_1_destination_protocol_port() {
    // "All packets to 192.0.2.0/24 and TCP port 25."
    let rule = FlowRule::new(
        Afi::Ipv4,
        vec![
            FlowComponent::Port(vec![num(false, "=", 25)]),
            FlowComponent::Destination(prefix("192.0.2.0/24", 0)),
            FlowComponent::Protocol(vec![num(false, "=", 6)]),
        ],
    )
    .unwrap();
    assert_eq!(rule.encode(), hex("0b 01 18 c0 00 02 03 81 06 04 81 19"));
    round_trip(&rule);
}

#[test]
fn rfc8955_example_2_source_and_port_ranges() {
    // "All packets to 192.0.2.0/24 from 203.0.113.0/24 and port {range [137, 139] or 8080}."
    let rule = FlowRule::new(
        Afi::Ipv4,
        vec![
            FlowComponent::Destination(prefix("192.0.2.0/24", 0)),
            FlowComponent::Source(prefix("203.0.113.0/24", 0)),
            FlowComponent::Port(vec![
                num(false, ">=", 137),
                num(true, "<=", 139),
                num(false, "=", 8080),
            ]),
        ],
    )
    .unwrap();
    assert_eq!(
        rule.encode(),
        hex("12 01 18 c0 00 02 02 18 cb 00 71 04 03 89 45 8b 91 1f 90")
    );
    assert_eq!(
        rule.to_string(),
        "flow ipv4 destination 192.0.2.0/24 source 203.0.113.0/24 port [ >=137&<=139 =8080 ]"
    );
    round_trip(&rule);
}

#[test]
fn rfc8955_example_3_fragment_bits() {
    // "All packets to 192.0.2.1/32 and fragment { DF or FF }."
    let rule = FlowRule::new(
        Afi::Ipv4,
        vec![
            FlowComponent::Destination(prefix("192.0.2.1/32", 0)),
            FlowComponent::Fragment(vec![bits(false, false, false, 0x05)]),
        ],
    )
    .unwrap();
    assert_eq!(rule.encode(), hex("09 01 20 c0 00 02 01 0c 80 05"));
    round_trip(&rule);
}

#[test]
fn rfc8956_example_1_ipv6_offset_pattern() {
    // "All packets to ::1234:5678:9a00:0/64-104 with next header TCP and port
    // {range [137, 139] or 8080}."
    let rule = FlowRule::new(
        Afi::Ipv6,
        vec![
            FlowComponent::Destination(prefix("::1234:5678:9a00:0/104", 64)),
            FlowComponent::Protocol(vec![num(false, "=", 6)]),
            FlowComponent::Port(vec![
                num(false, ">=", 137),
                num(true, "<=", 139),
                num(false, "=", 8080),
            ]),
        ],
    )
    .unwrap();
    assert_eq!(
        rule.encode(),
        hex("13 01 68 40 12 34 56 78 9a 03 81 06 04 03 89 45 8b 91 1f 90")
    );
    assert_eq!(
        rule.to_string(),
        "flow ipv6 destination ::1234:5678:9a00:0/104/64 next-header =tcp port [ >=137&<=139 =8080 ]"
    );
    round_trip(&rule);
}

#[test]
fn every_component_type_round_trips_in_both_families() {
    let numeric = vec![
        num(false, ">", 1023),
        num(true, "<", 65535),
        num(false, "!=", 7),
    ];
    let mask = vec![
        bits(false, false, true, 0x02),
        bits(true, true, false, 0x10),
    ];
    let rest = |n: &Vec<NumericOp>, m: &Vec<BitmaskOp>| {
        vec![
            FlowComponent::Protocol(vec![num(false, "=", 17)]),
            FlowComponent::Port(n.clone()),
            FlowComponent::DestinationPort(n.clone()),
            FlowComponent::SourcePort(n.clone()),
            FlowComponent::IcmpType(vec![num(false, "=", 8)]),
            FlowComponent::IcmpCode(vec![num(false, "<=", 3)]),
            FlowComponent::TcpFlags(m.clone()),
            FlowComponent::PacketLength(vec![num(false, ">=", 1400)]),
            FlowComponent::Dscp(vec![num(false, "=", 46)]),
            FlowComponent::Fragment(vec![bits(false, true, false, 0x02)]),
        ]
    };
    let mut v4 = rest(&numeric, &mask);
    v4.push(FlowComponent::Destination(prefix("192.0.2.128/25", 0)));
    v4.push(FlowComponent::Source(prefix("10.0.0.0/8", 0)));
    let v4 = FlowRule::new(Afi::Ipv4, v4).unwrap();
    let types: Vec<u8> = v4.components().iter().map(|c| c.type_code()).collect();
    assert_eq!(types, (1..=12).collect::<Vec<u8>>());
    round_trip(&v4);

    let mut v6 = rest(&numeric, &mask);
    v6.push(FlowComponent::Destination(prefix("2001:db8::/32", 0)));
    v6.push(FlowComponent::Source(prefix("0:ab00::/40", 16)));
    v6.push(FlowComponent::FlowLabel(vec![num(false, "=", 0xFFFFF)]));
    let v6 = FlowRule::new(Afi::Ipv6, v6).unwrap();
    round_trip(&v6);
}

#[test]
fn numeric_values_take_the_shortest_length() {
    let enc = |v: u64| {
        let r = FlowRule::new(
            Afi::Ipv6,
            vec![FlowComponent::FlowLabel(vec![num(false, "=", v)])],
        )
        .unwrap();
        r.encode()
    };
    assert_eq!(enc(5), hex("03 0d 81 05"));
    assert_eq!(enc(0x1234), hex("04 0d 91 12 34"));
    assert_eq!(enc(0xF_FFFF), hex("06 0d a1 00 0f ff ff"));
    // The 8-octet form decodes too.
    let r = FlowRule::decode(&hex("0a 0d b1 00 00 00 00 00 00 00 05"), Afi::Ipv6).unwrap();
    assert_eq!(
        r.components(),
        &[FlowComponent::FlowLabel(vec![num(false, "=", 5)])]
    );
}

#[test]
fn every_numeric_comparison_and_bitmask_operator_round_trips() {
    for cmp in ["=", ">", ">=", "<", "<=", "!="] {
        let r = FlowRule::new(
            Afi::Ipv4,
            vec![FlowComponent::PacketLength(vec![num(false, cmp, 300)])],
        )
        .unwrap();
        round_trip(&r);
        assert_eq!(r.to_string(), format!("flow ipv4 packet-length {cmp}300"));
    }
    for (not, matched, text) in [
        (false, false, "syn"),
        (false, true, "=syn"),
        (true, false, "!syn"),
        (true, true, "!=syn"),
    ] {
        let r = FlowRule::new(
            Afi::Ipv4,
            vec![FlowComponent::TcpFlags(vec![bits(
                false, not, matched, 0x02,
            )])],
        )
        .unwrap();
        round_trip(&r);
        assert_eq!(r.to_string(), format!("flow ipv4 tcp-flags {text}"));
    }
}

#[test]
fn long_rules_use_the_two_octet_length() {
    let many: Vec<NumericOp> = (1..=120).map(|p| num(false, "=", p)).collect();
    let r = FlowRule::new(Afi::Ipv4, vec![FlowComponent::Port(many)]).unwrap();
    let bytes = r.encode();
    assert_eq!(bytes[0], 0xF0);
    assert_eq!(bytes[1] as usize, bytes.len() - 2);
    assert_eq!(bytes.len() - 2, 241);
    round_trip(&r);
}

#[test]
fn malformed_nlri_is_refused_with_a_typed_error() {
    let cases: &[(&str, FlowError)] = &[
        ("", FlowError::Truncated { offset: 0 }),
        (
            "05 01 18 c0",
            FlowError::LengthOverrun {
                offset: 0,
                len: 5,
                available: 3,
            },
        ),
        ("00", FlowError::Empty { offset: 0 }),
        (
            "f5 00",
            FlowError::LengthOverrun {
                offset: 0,
                len: 0x500,
                available: 0,
            },
        ),
        (
            "03 0e 81 01",
            FlowError::UnknownComponent {
                type_code: 14,
                offset: 1,
            },
        ),
        (
            "06 03 81 06 01 08 0a",
            FlowError::ComponentOrder {
                previous: 3,
                found: 1,
            },
        ),
        (
            "06 03 81 06 03 81 11",
            FlowError::ComponentOrder {
                previous: 3,
                found: 3,
            },
        ),
        (
            "06 01 21 c0 00 02 01",
            FlowError::PrefixTooLong {
                type_code: 1,
                len: 33,
            },
        ),
        (
            "03 04 89 19",
            FlowError::ReservedOperatorBits {
                type_code: 4,
                offset: 2,
            },
        ),
        (
            "03 04 c1 19",
            FlowError::FirstOperatorAnd {
                type_code: 4,
                offset: 2,
            },
        ),
        ("03 04 01 19", FlowError::NoEndOfList { type_code: 4 }),
        (
            "03 0d 81 01",
            FlowError::UnknownComponent {
                type_code: 13,
                offset: 1,
            },
        ),
    ];
    for (bytes, expected) in cases {
        assert_eq!(
            FlowRule::decode(&hex(bytes), Afi::Ipv4).as_ref(),
            Err(expected),
            "{bytes}"
        );
    }
    assert_eq!(
        FlowRule::decode(&hex("04 01 30 40 00"), Afi::Ipv6),
        Err(FlowError::OffsetBeyondLength {
            type_code: 1,
            offset: 2
        })
    );
    // Never panics on any short input.
    for len in 0..=255u8 {
        for t in 0..=15u8 {
            let mut v = vec![len, t];
            v.extend(std::iter::repeat_n(0xFF, len as usize % 7));
            let _ = FlowRule::decode(&v, Afi::Ipv4);
            let _ = FlowRule::decode(&v, Afi::Ipv6);
        }
    }
}

#[test]
fn rules_are_checked_when_built() {
    assert_eq!(
        FlowRule::new(Afi::Ipv4, vec![]),
        Err(FlowError::Empty { offset: 0 })
    );
    assert_eq!(
        FlowRule::new(
            Afi::Ipv4,
            vec![FlowComponent::Destination(prefix("2001:db8::/32", 0))]
        ),
        Err(FlowError::WrongFamily { type_code: 1 })
    );
    assert_eq!(
        FlowRule::new(
            Afi::Ipv6,
            vec![FlowComponent::Source(prefix("2001:db8::/32", 8))]
        ),
        Err(FlowError::BitsOutsidePattern { type_code: 2 })
    );
    assert_eq!(
        FlowRule::new(
            Afi::Ipv4,
            vec![FlowComponent::FlowLabel(vec![num(false, "=", 1)])]
        ),
        Err(FlowError::WrongFamily { type_code: 13 })
    );
    assert_eq!(
        FlowRule::new(
            Afi::Ipv4,
            vec![
                FlowComponent::Dscp(vec![num(false, "=", 1)]),
                FlowComponent::Dscp(vec![num(false, "=", 2)])
            ]
        ),
        Err(FlowError::ComponentOrder {
            previous: 11,
            found: 11
        })
    );
}

#[test]
fn nlri_lists_decode_rule_by_rule() {
    let bytes = hex("0b 01 18 c0 00 02 03 81 06 04 81 19 03 0b 81 2e");
    let rules = decode_nlri_list(&bytes, Afi::Ipv4).unwrap();
    assert_eq!(rules.len(), 2);
    assert_eq!(rules[1].to_string(), "flow ipv4 dscp =46");
}

#[test]
fn every_action_round_trips_through_its_extended_community() {
    let v4 = Ipv4Addr::new(192, 0, 2, 1);
    let cases = [
        (
            FlowAction::TrafficRate { asn: 0, rate: 0.0 },
            "8006000000000000",
            "discard",
        ),
        (
            FlowAction::TrafficRate {
                asn: 65000,
                rate: 9600.0,
            },
            "8006fde846160000",
            "rate-limit 9600",
        ),
        (
            FlowAction::TrafficAction {
                sample: true,
                terminal: true,
            },
            "8007000000000003",
            "action sample-terminal",
        ),
        (
            FlowAction::TrafficAction {
                sample: true,
                terminal: false,
            },
            "8007000000000002",
            "action sample",
        ),
        (
            FlowAction::RedirectAs2 {
                asn: 65000,
                value: 100,
            },
            "8008fde800000064",
            "redirect 65000:100",
        ),
        (
            FlowAction::RedirectIpv4 {
                address: v4,
                value: 100,
            },
            "8108c00002010064",
            "redirect 192.0.2.1:100",
        ),
        (
            FlowAction::RedirectAs4 {
                asn: 4200000000,
                value: 7,
            },
            "8208fa56ea000007",
            "redirect 4200000000:7",
        ),
        (
            FlowAction::TrafficMarking { dscp: 46 },
            "800900000000002e",
            "mark 46",
        ),
        (
            FlowAction::RedirectToNextHop { copy: false },
            "0800000000000000",
            "redirect-to-nexthop",
        ),
        (
            FlowAction::RedirectToNextHop { copy: true },
            "0800000000000001",
            "copy-to-nexthop",
        ),
        (
            FlowAction::RedirectToIpv4 {
                address: v4,
                copy: false,
            },
            "010cc00002010000",
            "redirect-to-nexthop-ietf 192.0.2.1",
        ),
    ];
    for (action, bytes, text) in cases {
        let c = action.to_community();
        assert_eq!(
            c,
            ExtendedCommunity(hex(bytes).try_into().unwrap()),
            "{text}"
        );
        assert_eq!(FlowAction::from_community(&c), Some(action));
        assert_eq!(action.to_string(), text);
    }
    assert_eq!(
        FlowAction::from_community(&ExtendedCommunity(
            hex("0002fde800000001").try_into().unwrap()
        )),
        None
    );
    let _ = IpAddr::V4(v4);
}

#[test]
fn rfc8956_section_3_8_2_pattern_starts_at_the_offset_bit() {
    // RFC 8956 §3.8.2: ::1:1234:5678:9800:0/60-104 — the pattern begins right after the 60
    // skipped bits, not at an octet boundary (BIRD fixed exactly this in its encoder).
    let rule = FlowRule::new(
        Afi::Ipv6,
        vec![FlowComponent::Source(prefix(
            "::1:1234:5678:9800:0/104",
            60,
        ))],
    )
    .unwrap();
    assert_eq!(rule.encode(), hex("09 02 68 3c 11 23 45 67 89 80"));
    round_trip(&rule);
}

#[test]
fn flow_vpn_rule_puts_its_rd_between_length_and_components() {
    // ExaBGP's conf-flow: `rd 65535:65536; match { source 10.0.0.1/32; }` is
    // 0e 0000ffff00010000 02200a000001 (RFC 8955 §8: the length counts the RD).
    let rd: crate::wire::labeled::RouteDistinguisher = "65535:65536".parse().unwrap();
    let rule = FlowRule::new(
        Afi::Ipv4,
        vec![FlowComponent::Source(prefix("10.0.0.1/32", 0))],
    )
    .unwrap()
    .with_rd(Some(rd))
    .unwrap();
    assert_eq!(rule.family(), Family::new(Afi::Ipv4, Safi::FlowSpecVpn));
    let bytes = rule.encode();
    assert_eq!(bytes, hex("0e 0000ffff00010000 02200a000001"));
    assert_eq!(bytes.len(), rule.wire_len());
    let back = crate::wire::nlri::flow_vpn::decode_rules(&bytes, Afi::Ipv4).unwrap();
    assert_eq!(back, vec![rule.clone()]);
    assert_eq!(
        rule.to_string(),
        "flow ipv4 source 10.0.0.1/32 rd 65535:65536"
    );
    // Without the RD it is another NLRI, of IPv4 FlowSpec.
    let plain = rule.clone().with_rd(None).unwrap();
    assert_ne!(plain, rule);
    assert_eq!(plain.family(), Family::new(Afi::Ipv4, Safi::FlowSpec));
}
