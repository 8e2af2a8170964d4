//! Validates each receiver of the harness without bgpinject: ExaBGP sends routes carrying every
//! attribute we inject, the receiver reads them back, and they must equal what was sent.

mod harness;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use harness::exabgp::{Exabgp, ExabgpSender, SenderSpec};
use harness::frr::Frr;
use harness::gobgp::Gobgp;
use harness::openbgpd::Openbgpd;
use harness::spec::{Family, Receiver, ReceiverSpec};
use harness::{ReceivedRoute, diff_routes, wait_for};

const RECEIVER_AS: u32 = 65001;
const SENDER_AS: u32 = 65002;

/// Addresses and ports of one test; `slot` keeps parallel tests apart.
fn v4_pair(slot: u8) -> (IpAddr, IpAddr, u16) {
    (
        IpAddr::V4(Ipv4Addr::new(127, 0, 1, slot * 10 + 1)),
        IpAddr::V4(Ipv4Addr::new(127, 0, 1, slot * 10 + 2)),
        11790 + u16::from(slot),
    )
}

fn v6_pair(slot: u8) -> (IpAddr, IpAddr, u16) {
    let lo = IpAddr::V6(Ipv6Addr::LOCALHOST);
    (lo, lo, 11800 + u16::from(slot))
}

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

/// Every attribute but AS_PATH and LOCAL_PREF, which depend on the session type.
const FULL_ATTRIBUTES: &str = "origin egp med 50 \
    community [ 65000:1 no-export ] extended-community [ target:65000:1 origin:65000:2 ] \
    large-community [ 65000:1:2 4200000001:3:4 ] atomic-aggregate aggregator ( 65002:192.0.2.2 )";

/// The routes ExaBGP sends and what a receiver must show for them.
fn routes(ibgp: bool) -> (Vec<String>, Vec<ReceivedRoute>) {
    // On iBGP the path must not hold the receiver's own AS (65002), or it is a loop.
    let (extra, lp, path) = if ibgp {
        (
            " as-path [ 64512 4200000001 ] local-preference 200",
            Some(200),
            vec![64512, 4200000001],
        )
    } else {
        (
            " as-path [ 65002 4200000001 ]",
            None,
            vec![65002, 4200000001],
        )
    };
    let full = |prefix: &str, nh: &str| ReceivedRoute {
        prefix: prefix.into(),
        next_hop: nh.into(),
        origin: "egp".into(),
        as_path: path.clone(),
        med: Some(50),
        local_pref: lp,
        communities: s(&["65000:1", "65535:65281"]),
        extended_communities: s(&["origin:65000:2", "target:65000:1"]),
        large_communities: s(&["4200000001:3:4", "65000:1:2"]),
        atomic_aggregate: true,
        aggregator: Some("65002:192.0.2.2".into()),
    };
    let minimal = |prefix: &str, nh: &str| ReceivedRoute {
        prefix: prefix.into(),
        next_hop: nh.into(),
        origin: "incomplete".into(),
        as_path: if ibgp { vec![] } else { vec![SENDER_AS] },
        local_pref: if ibgp { Some(100) } else { None },
        ..Default::default()
    };
    let send = vec![
        format!("route 198.51.100.0/24 next-hop 192.0.2.10 {FULL_ATTRIBUTES}{extra}"),
        "route 203.0.113.128/25 next-hop 192.0.2.11 origin incomplete".to_string(),
        format!("route 2001:db8:100::/48 next-hop 2001:db8::1 {FULL_ATTRIBUTES}{extra}"),
        "route 2001:db8:200::/64 next-hop 2001:db8::2 origin incomplete".to_string(),
    ];
    let expected = vec![
        full("198.51.100.0/24", "192.0.2.10"),
        minimal("203.0.113.128/25", "192.0.2.11"),
        full("2001:db8:100::/48", "2001:db8::1"),
        minimal("2001:db8:200::/64", "2001:db8::2"),
    ];
    (send, expected)
}

/// Runs one session ExaBGP -> receiver `R` and checks both address families. `adjust` applies
/// the receiver's documented quirks (tests/harness/PEERS.md) to the expected routes.
fn check<R: Receiver>(
    (listen, sender, port): (IpAddr, IpAddr, u16),
    ibgp: bool,
    four_octet_as: bool,
    adjust: impl Fn(&mut ReceivedRoute),
) {
    let receiver_as = if ibgp { SENDER_AS } else { RECEIVER_AS };
    let mut spec = ReceiverSpec::new(listen, port, receiver_as, sender, SENDER_AS);
    spec.four_octet_as = four_octet_as;
    let mut receiver = R::start(&spec);
    let (send, mut expected) = routes(ibgp);
    expected.iter_mut().for_each(&adjust);
    let mut exa = ExabgpSender::start(&SenderSpec {
        local: sender,
        local_as: SENDER_AS,
        router_id: Ipv4Addr::new(192, 0, 2, 2),
        peer: listen,
        peer_port: port,
        peer_as: receiver_as,
        families: vec![Family::Ipv4Unicast, Family::Ipv6Unicast],
        four_octet_as: true,
        routes: send,
        listen_port: None,
    });
    let name = R::NAME;
    assert!(
        receiver.wait_established(Duration::from_secs(40)),
        "{name}: session with ExaBGP not established\n--- {name} log:\n{}\n--- exabgp log:\n{}",
        receiver.log(),
        exa.log()
    );
    let got = || {
        let mut all = receiver.routes("ipv4");
        all.extend(receiver.routes("ipv6"));
        all
    };
    let settled = wait_for(Duration::from_secs(20), || {
        let g = got();
        diff_routes(name, &expected, &g).is_empty().then_some(g)
    });
    if settled.is_none() {
        let g = got();
        let diffs = diff_routes(name, &expected, &g);
        let shown: Vec<String> = g.iter().map(ToString::to_string).collect();
        panic!(
            "{name}: routes differ:\n{}\nreceived:\n{}\n--- {name} log (tail):\n{}",
            diffs.join("\n"),
            shown.join("\n"),
            tail(&receiver.log())
        );
    }
    exa.stop();
    receiver.stop();
}

fn tail(s: &str) -> String {
    let lines: Vec<&str> = s.lines().collect();
    lines[lines.len().saturating_sub(40)..].join("\n")
}

fn as_is(_: &mut ReceivedRoute) {}

/// A 2-byte-AS speaker sees AS_TRANS (RFC 6793) for every 4-octet ASN of the path.
fn as_trans(r: &mut ReceivedRoute) {
    for asn in &mut r.as_path {
        if *asn > 0xffff {
            *asn = 23456;
        }
    }
}

#[test]
fn frr_receives_ebgp_over_ipv4() {
    check::<Frr>(v4_pair(1), false, true, as_is);
}

#[test]
fn frr_receives_ibgp_over_ipv6() {
    check::<Frr>(v6_pair(1), true, true, as_is);
}

#[test]
fn gobgp_receives_ebgp_over_ipv4() {
    check::<Gobgp>(v4_pair(2), false, true, as_is);
}

#[test]
fn gobgp_receives_ibgp_over_ipv6() {
    check::<Gobgp>(v6_pair(2), true, true, as_is);
}

#[test]
fn openbgpd_receives_ebgp_over_ipv4() {
    check::<Openbgpd>(v4_pair(3), false, true, as_is);
}

#[test]
fn openbgpd_receives_ibgp_over_ipv6() {
    check::<Openbgpd>(v6_pair(3), true, true, as_is);
}

#[test]
fn exabgp_receives_ebgp_over_ipv4() {
    check::<Exabgp>(v4_pair(4), false, true, as_is);
}

#[test]
fn exabgp_receives_ibgp_over_ipv6() {
    check::<Exabgp>(v6_pair(4), true, true, as_is);
}

#[test]
fn openbgpd_as_two_byte_as_peer() {
    check::<Openbgpd>(v4_pair(5), false, false, as_trans);
}

#[test]
fn exabgp_as_two_byte_as_peer() {
    // ExaBGP rebuilds the path from AS4_PATH even when it did not announce 4-octet AS support.
    check::<Exabgp>(v4_pair(6), false, false, as_is);
}

#[test]
fn exabgp_two_byte_open_has_no_as4_capability() {
    let (listen, sender, port) = v4_pair(11);
    let mut spec = ReceiverSpec::new(listen, port, RECEIVER_AS, sender, SENDER_AS);
    spec.four_octet_as = false;
    let exa = Exabgp::start(&spec);
    let _sender = ExabgpSender::start(&SenderSpec {
        local: sender,
        local_as: SENDER_AS,
        router_id: Ipv4Addr::new(192, 0, 2, 2),
        peer: listen,
        peer_port: port,
        peer_as: RECEIVER_AS,
        families: vec![Family::Ipv4Unicast],
        four_octet_as: true,
        routes: vec![],
        listen_port: None,
    });
    assert!(
        exa.wait_established(Duration::from_secs(40)),
        "{}",
        exa.log()
    );
    let caps = exa
        .sent_capabilities()
        .expect("ExaBGP reports the OPEN it sent");
    assert!(caps.contains(&"multiprotocol".to_string()), "{caps:?}");
    assert!(!caps.contains(&"asn4".to_string()), "{caps:?}");
}

/// The receiver connects (`passive: false`) to a listening ExaBGP on `neighbor_port`.
fn check_active<R: Receiver>((listen, sender, port): (IpAddr, IpAddr, u16)) {
    let mut spec = ReceiverSpec::new(listen, port, RECEIVER_AS, sender, SENDER_AS);
    spec.passive = false;
    spec.neighbor_port = port + 100;
    let _exa = ExabgpSender::start(&SenderSpec {
        local: sender,
        local_as: SENDER_AS,
        router_id: Ipv4Addr::new(192, 0, 2, 2),
        peer: listen,
        peer_port: port,
        peer_as: RECEIVER_AS,
        families: vec![Family::Ipv4Unicast],
        four_octet_as: true,
        routes: vec!["route 198.51.100.0/25 next-hop 192.0.2.10".into()],
        listen_port: Some(spec.neighbor_port),
    });
    let receiver = R::start(&spec);
    let name = R::NAME;
    assert!(
        receiver.wait_established(Duration::from_secs(40)),
        "{name}: did not connect to ExaBGP on port {}\n{}",
        spec.neighbor_port,
        receiver.log()
    );
    let got = wait_for(Duration::from_secs(20), || {
        receiver.routes("ipv4").into_iter().next()
    });
    assert_eq!(
        got.map(|r| r.prefix),
        Some("198.51.100.0/25".to_string()),
        "{name}: route not received"
    );
}

#[test]
fn frr_connects_actively() {
    check_active::<Frr>(v4_pair(7));
}

#[test]
fn gobgp_connects_actively() {
    check_active::<Gobgp>(v4_pair(8));
}

#[test]
fn openbgpd_connects_actively() {
    check_active::<Openbgpd>(v4_pair(9));
}

#[test]
fn exabgp_connects_actively() {
    check_active::<Exabgp>(v4_pair(10));
}
