//! The FlowSpec example configuration loads, and the ExaBGP flow syntax gives the rules and
//! actions it says.

use std::path::Path;

use bgpinject::config::{load, parse_str};
use bgpinject::rib::attributes::NextHop;
use bgpinject::wire::family::{Afi, Family, Safi};
use bgpinject::wire::flowspec::action::FlowAction;

#[test]
fn the_ddos_example_loads_with_both_flow_families() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("conf/flowspec-ddos.conf");
    let config = load(&path).unwrap_or_else(|e| panic!("{e}"));
    let n = &config.neighbors[0];
    assert_eq!(
        n.families,
        vec![
            Family::new(Afi::Ipv4, Safi::FlowSpec),
            Family::new(Afi::Ipv6, Safi::FlowSpec)
        ]
    );
    assert_eq!(n.flows.len(), 11);
    let redirect = n
        .flows
        .iter()
        .find(|f| f.name == "redirect-infected-host")
        .unwrap();
    // redirect-to-nexthop-ietf carries its target in the community only, with no next hop
    // (as ExaBGP sends it).
    assert_eq!(redirect.attributes.next_hop, NextHop::Absent);
}

#[test]
fn the_exabgp_example_gives_its_rule_and_actions() {
    let text = "neighbor 192.0.2.1 { router-id 192.0.2.10; local-as 65000; peer-as 65001;
        flow { route block-dns-amplification {
            match {
                source 10.0.0.0/8;
                destination 192.0.2.53/32;
                protocol [ udp tcp ];
                source-port =53;
                destination-port >1023&<65535;
                packet-length >512;
                fragment [ is-fragment first-fragment ];
                tcp-flags [ syn rst&fin&!=push ];
            }
            then { rate-limit 9600; redirect 65000:100; mark 10; action sample-terminal; community [ 65000:1 ]; }
        } } }";
    let config = parse_str(text, Path::new("t.conf")).unwrap_or_else(|e| panic!("{e}"));
    let n = &config.neighbors[0];
    assert_eq!(n.families, vec![Family::new(Afi::Ipv4, Safi::FlowSpec)]);
    let f = &n.flows[0];
    assert_eq!(
        f.rule.to_string(),
        "flow ipv4 destination 192.0.2.53/32 source 10.0.0.0/8 protocol [ =udp =tcp ] \
         destination-port >1023&<65535 source-port =53 tcp-flags [ syn rst&fin&!=push ] \
         packet-length >512 fragment [ is-fragment first-fragment ]"
    );
    let actions: Vec<String> = f
        .attributes
        .extended_communities()
        .iter()
        .map(|c| FlowAction::from_community(c).unwrap().to_string())
        .collect();
    assert_eq!(
        actions,
        vec![
            "rate-limit 9600",
            "redirect 65000:100",
            "action sample-terminal",
            "mark 10"
        ]
    );
    assert_eq!(f.attributes.next_hop, NextHop::Absent);
    assert_eq!(f.attributes.communities().len(), 1);
    // The rule encodes in increasing component order.
    let bytes = f.rule.encode();
    let types: Vec<u8> = f.rule.components().iter().map(|c| c.type_code()).collect();
    assert_eq!(types, vec![1, 2, 3, 5, 6, 9, 10, 12]);
    assert_eq!(bytes[1], 1);
}

#[test]
fn ipv6_rules_take_their_family_from_their_components() {
    // Rule c redirects all TCP: the guard rails are turned off for it.
    let text = "neighbor 192.0.2.1 { router-id 192.0.2.10; local-as 65000; peer-as 65001;
        guard { flow off; }
        flow {
            route a { match { destination ::1234:5678:9a00:0/104/64; next-header tcp; } then { discard; } }
            route b { match { flow-label 7; } then { accept; } }
            route c { match { protocol tcp; } then { redirect-to-nexthop; next-hop 192.0.2.9; } }
        } }";
    let config = parse_str(text, Path::new("t.conf")).unwrap_or_else(|e| panic!("{e}"));
    let n = &config.neighbors[0];
    let afis: Vec<Afi> = n.flows.iter().map(|f| f.rule.afi()).collect();
    assert_eq!(afis, vec![Afi::Ipv6, Afi::Ipv6, Afi::Ipv4]);
    assert!(n.flows[1].attributes.extended_communities().is_empty());
    assert_eq!(
        FlowAction::from_community(&n.flows[2].attributes.extended_communities()[0]),
        Some(FlowAction::RedirectToNextHop { copy: false })
    );
    assert_eq!(
        n.families,
        vec![
            Family::new(Afi::Ipv4, Safi::FlowSpec),
            Family::new(Afi::Ipv6, Safi::FlowSpec)
        ]
    );
}

#[test]
fn the_same_match_twice_keeps_the_later_rule_as_exabgp() {
    let text = "neighbor 192.0.2.1 { router-id 192.0.2.10; local-as 65000; peer-as 65001;
    flow {
        route r1 { match { destination 192.0.2.0/24; } then { discard; } }
        route r2 { match { destination 192.0.2.0/24; } then { accept; } }
    } }";
    let config = parse_str(text, Path::new("t.conf")).unwrap_or_else(|e| panic!("{e}"));
    let names: Vec<&str> = config.neighbors[0]
        .flows
        .iter()
        .map(|f| f.name.as_str())
        .collect();
    assert_eq!(names, vec!["r2"]);
}

#[test]
fn exabgp_copy_ietf_ipv6_and_traffic_class_mean_what_exabgp_sends() {
    let text = "neighbor 192.0.2.1 { router-id 192.0.2.10; local-as 65000; peer-as 65001;
        guard { flow off; }
        flow {
            route c { match { source 10.0.0.2/32; } then { copy 192.0.2.4; } }
            route i { match { destination 10.0.0.3/32; } then { redirect-to-nexthop-ietf 2001:DB8::1; } }
            route t { match { traffic-class 255; tcp-flags [ SYN RST ]; } then { discard; } }
        } }";
    let config = parse_str(text, Path::new("t.conf")).unwrap_or_else(|e| panic!("{e}"));
    let n = &config.neighbors[0];
    let copy = &n.flows[0].attributes;
    assert_eq!(
        copy.next_hop,
        NextHop::Address {
            global: "192.0.2.4".parse().unwrap(),
            link_local: None
        }
    );
    assert_eq!(copy.extended_communities()[0].0, [8, 0, 0, 0, 0, 0, 0, 1]);
    let ietf = &n.flows[1].attributes;
    assert_eq!(ietf.next_hop, NextHop::Absent);
    let v6 = ietf
        .values()
        .iter()
        .find_map(|a| match a {
            bgpinject::wire::attribute::PathAttribute::Ipv6ExtendedCommunities(v) => Some(v),
            _ => None,
        })
        .expect("an IPv6 address-specific extended community");
    let mut want = [0u8; 20];
    want[1] = 0x0c;
    want[2..18].copy_from_slice(
        &"2001:db8::1"
            .parse::<std::net::Ipv6Addr>()
            .unwrap()
            .octets(),
    );
    assert_eq!(v6, &vec![want]);
    // Hostile values: each refused by name.
    for (bad, why) in [
        ("then { copy 65000:1; }", "address after copy"),
        ("then { copy; }", "copy"),
        (
            "then { copy 192.0.2.4; redirect 192.0.2.5; }",
            "conflicting",
        ),
        ("match { traffic-class 256; } then { discard; }", "0..255"),
        (
            "match { traffic-class -1; } then { discard; }",
            "traffic-class",
        ),
        ("match { dscp 64; } then { discard; }", "0..63"),
    ] {
        let (m, t) = bad
            .split_once(" then ")
            .map_or(("match { source 10.0.0.2/32; }", bad), |(m, t)| (m, t));
        let t = t.strip_prefix("then ").unwrap_or(t);
        let text = format!(
            "neighbor 192.0.2.1 {{ router-id 192.0.2.10; local-as 65000; peer-as 65001; guard {{ flow off; }} flow {{ route x {{ {m} then {t} }} }} }}"
        );
        let e = parse_str(&text, Path::new("t.conf"))
            .unwrap_err()
            .to_string();
        assert!(e.contains(why), "{bad}: {e}");
    }
}
