//! The harness checked without bgpinject: one BIRD announces static routes with BGP attributes
//! set in its export filter to another BIRD, over an IPv4 session (127.0.0.x) and an IPv6
//! session (::1), and `Bird::routes_from` must read back exactly those attributes.

mod harness;

use harness::bird::{BgpProtocol, Bird, BirdBuilder};
use harness::{ReceivedRoute, diff_routes};
use std::fmt::Write as _;
use std::time::Duration;

const SENDER_AS: u32 = 65000;
const RECEIVER_AS: u32 = 65001;

/// A static route of the sender: the filter statements that set its attributes and what the
/// receiver must show.
struct Announced {
    filter: &'static str,
    expected: ReceivedRoute,
}

fn route(prefix: &str, next_hop: &str) -> ReceivedRoute {
    ReceivedRoute {
        prefix: prefix.to_string(),
        next_hop: next_hop.to_string(),
        origin: "igp".to_string(),
        as_path: vec![SENDER_AS],
        ..Default::default()
    }
}

fn strings(v: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = v.iter().map(|s| s.to_string()).collect();
    v.sort();
    v
}

fn ipv4_routes() -> Vec<Announced> {
    vec![
        Announced {
            filter: "bgp_next_hop = 192.0.2.33; bgp_origin = ORIGIN_EGP; \
                     bgp_path.prepend(65010); bgp_path.prepend(65011); bgp_med = 50; \
                     bgp_local_pref = 200; bgp_community.add((65000,1)); \
                     bgp_community.add((65535,65281)); bgp_large_community.add((65000,1,2)); \
                     bgp_ext_community.add((rt, 65000, 1)); \
                     bgp_ext_community.add((ro, 192.0.2.1, 5));",
            expected: ReceivedRoute {
                origin: "egp".into(),
                as_path: vec![SENDER_AS, 65011, 65010],
                med: Some(50),
                local_pref: Some(200),
                communities: strings(&["65000:1", "65535:65281"]),
                large_communities: strings(&["65000:1:2"]),
                extended_communities: strings(&["target:65000:1", "origin:192.0.2.1:5"]),
                ..route("198.51.100.0/24", "192.0.2.33")
            },
        },
        // Nothing set: next hop self, IGP, [sender AS], no MED, no LOCAL_PREF.
        Announced {
            filter: "",
            expected: route("203.0.113.0/25", "127.0.0.21"),
        },
        Announced {
            filter: "bgp_next_hop = 192.0.2.200; bgp_origin = ORIGIN_INCOMPLETE; bgp_med = 0; \
                     bgp_local_pref = 1; bgp_path.prepend(4200000000); \
                     bgp_community.add((64512,65535)); bgp_community.add((65535,65282)); \
                     bgp_large_community.add((4200000000,7,8)); \
                     bgp_large_community.add((65000,0,1)); \
                     bgp_ext_community.add((rt, 4200000000, 7));",
            expected: ReceivedRoute {
                origin: "incomplete".into(),
                as_path: vec![SENDER_AS, 4_200_000_000],
                med: Some(0),
                local_pref: Some(1),
                communities: strings(&["64512:65535", "65535:65282"]),
                large_communities: strings(&["4200000000:7:8", "65000:0:1"]),
                extended_communities: strings(&["target:4200000000:7"]),
                ..route("192.0.2.128/26", "192.0.2.200")
            },
        },
    ]
}

fn ipv6_routes() -> Vec<Announced> {
    vec![
        Announced {
            filter: "bgp_next_hop = 2001:db8::7; bgp_med = 7; bgp_local_pref = 300; \
                     bgp_community.add((65000,2)); bgp_large_community.add((65000,3,4)); \
                     bgp_path.prepend(65020);",
            expected: ReceivedRoute {
                as_path: vec![SENDER_AS, 65020],
                med: Some(7),
                local_pref: Some(300),
                communities: strings(&["65000:2"]),
                large_communities: strings(&["65000:3:4"]),
                ..route("2001:db8:100::/48", "2001:db8::7")
            },
        },
        Announced {
            filter: "bgp_next_hop = 2001:db8::1:2; bgp_origin = ORIGIN_EGP; \
                     bgp_ext_community.add((rt, 65000, 100));",
            expected: ReceivedRoute {
                origin: "egp".into(),
                extended_communities: strings(&["target:65000:100"]),
                ..route("2001:db8:ffff:1::/64", "2001:db8::1:2")
            },
        },
    ]
}

fn sender_config(v4: &[Announced], v6: &[Announced]) -> String {
    let mut c = String::from("protocol static s4 { ipv4;\n");
    for r in v4 {
        let _ = writeln!(c, "  route {} blackhole;", r.expected.prefix);
    }
    c.push_str("}\nprotocol static s6 { ipv6;\n");
    for r in v6 {
        let _ = writeln!(c, "  route {} blackhole;", r.expected.prefix);
    }
    c.push_str("}\nfilter set_attributes {\n");
    for r in v4.iter().chain(v6) {
        let _ = writeln!(
            c,
            "  if net = {} then {{ {} }}",
            r.expected.prefix, r.filter
        );
    }
    c.push_str("  accept;\n}\n");
    c
}

#[test]
fn bird_to_bird_attributes_parse_into_the_common_form() {
    let v4 = ipv4_routes();
    let v6 = ipv6_routes();
    let sender = BirdBuilder::new("192.0.2.21", "127.0.0.21", 17921)
        .extra(&sender_config(&v4, &v6))
        .bgp(
            BgpProtocol::new("to_v4", "127.0.0.22", 17922, SENDER_AS, RECEIVER_AS)
                .families(true, false)
                .export("filter set_attributes"),
        )
        .bgp(
            BgpProtocol::new("to_v6", "::1", 17922, SENDER_AS, RECEIVER_AS)
                .local_address("::1")
                .families(false, true)
                .export("filter set_attributes"),
        )
        .start();
    let receiver = BirdBuilder::new("192.0.2.22", "127.0.0.22", 17922)
        .bgp(
            BgpProtocol::new("from_v4", "127.0.0.21", 17921, RECEIVER_AS, SENDER_AS)
                .passive(true)
                .families(true, false),
        )
        .bgp(
            BgpProtocol::new("from_v6", "::1", 17921, RECEIVER_AS, SENDER_AS)
                .local_address("::1")
                .passive(true)
                .families(false, true),
        )
        .start();

    check_session(&sender, &receiver, "from_v4", "master4", &v4);
    check_session(&sender, &receiver, "from_v6", "master6", &v6);
}

fn check_session(
    sender: &Bird,
    receiver: &Bird,
    protocol: &str,
    table: &str,
    announced: &[Announced],
) {
    receiver.wait_established(protocol, Duration::from_secs(30));
    let expected: Vec<ReceivedRoute> = announced.iter().map(|a| a.expected.clone()).collect();
    let got = harness::wait_for(Duration::from_secs(20), || {
        let got = receiver.routes_from(table, protocol);
        (got.len() == expected.len()).then_some(got)
    })
    .unwrap_or_else(|| receiver.routes_from(table, protocol));
    let diffs = diff_routes(protocol, &expected, &got);
    assert!(
        diffs.is_empty(),
        "{}\nreceived:\n{}\nreceiver:\n{}\nsender:\n{}",
        diffs.join("\n"),
        got.iter()
            .map(|r| r.to_string())
            .collect::<Vec<_>>()
            .join("\n"),
        receiver.protocol_info(protocol),
        sender.log_text()
    );

    // The comparison itself must see a difference in any attribute.
    let mut wrong = expected.clone();
    wrong[0].med = Some(wrong[0].med.unwrap_or(0) + 1);
    wrong[0].communities.push("1:1".into());
    assert_eq!(diff_routes(protocol, &wrong, &got).len(), 2);
}
