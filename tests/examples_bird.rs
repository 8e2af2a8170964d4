//! The example configurations of `conf/` run against a private BIRD 2 on loopback: each one's
//! routes must arrive with the communities the example promises.
//! The addresses are moved to loopback by `tests/example_run/`.

mod harness;

mod example_run;

use example_run::{Expected, Loopback, run};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_bgpinject");
const NO_EXPORT: &str = "65535:65281";
const BLACKHOLE: &str = "65535:666";

#[test]
fn as112_service_prefixes_over_ipv4_and_ipv6_sessions() {
    let l = Loopback {
        bird4: "127.0.3.61",
        bgpinject4: "127.0.3.62",
        port: 18361,
    };
    let expected = [
        Expected {
            protocol: "as112_v4",
            ipv6_session: false,
            ipv4: true,
            ipv6: false,
            routes: &[("192.175.48.0/24", &[]), ("192.31.196.0/24", &[])],
        },
        Expected {
            protocol: "as112_v6",
            ipv6_session: true,
            ipv4: false,
            ipv6: true,
            routes: &[("2620:4f:8000::/48", &[]), ("2001:4:112::/48", &[])],
        },
    ];
    let (_bird, mut b) = run(BIN, "as112.conf", &l, 112, 64500, &expected);
    assert!(matches!(b.stop(), Some(s) if s.success()));
}

#[test]
fn anycast_routes_stay_stale_in_bird_when_bgpinject_stops_with_graceful_restart() {
    let l = Loopback {
        bird4: "127.0.3.63",
        bgpinject4: "127.0.3.64",
        port: 18363,
    };
    let expected = [Expected {
        protocol: "anycast",
        ipv6_session: false,
        ipv4: true,
        ipv6: true,
        routes: &[
            ("198.51.100.53/32", &["64510:53"]),
            ("2001:db8:53::53/128", &["64510:53"]),
        ],
    }];
    let config = example_run::on_loopback(
        &example_run::read_example("anycast-graceful-restart.conf"),
        &l,
    );
    let protocol = harness::bird::BgpProtocol::new("anycast", l.bgpinject4, 179, 64500, 64510)
        .passive(true)
        .families(true, true)
        .hold_time(9)
        .graceful_restart(true);
    let bird = harness::bird::BirdBuilder::new("192.0.2.251", l.bird4, l.port)
        .bgp(protocol)
        .start();
    let mut bgpinject = harness::bgpinject::Bgpinject::start(BIN, &config, "debug");
    example_run::check_routes(&bird, &expected, &bgpinject);
    assert!(
        bird.protocol_info("anycast").contains("Graceful restart"),
        "{}",
        bird.protocol_info("anycast")
    );
    assert!(matches!(bgpinject.stop(), Some(s) if s.success()));
    // The peer keeps the routes as stale for the restart time (120 s) instead of withdrawing.
    std::thread::sleep(Duration::from_secs(3));
    let kept = bird.routes("master4").len() + bird.routes("master6").len();
    assert_eq!(
        kept,
        2,
        "BIRD dropped the routes although graceful restart was negotiated\n{}\n{}",
        bird.protocol_info("anycast"),
        bgpinject.log()
    );
}

#[test]
fn temporary_redirection_more_specific_with_another_next_hop() {
    let l = Loopback {
        bird4: "127.0.3.65",
        bgpinject4: "127.0.3.66",
        port: 18365,
    };
    let expected = [Expected {
        protocol: "redirect",
        ipv6_session: false,
        ipv4: true,
        ipv6: false,
        routes: &[
            ("203.0.113.0/24", &[]),
            ("203.0.113.128/25", &["64510:911", NO_EXPORT]),
        ],
    }];
    let (bird, _b) = run(BIN, "redirect.conf", &l, 64510, 64510, &expected);
    let routes = bird.routes("master4");
    let more_specific = routes
        .iter()
        .find(|r| r.prefix == "203.0.113.128/25")
        .unwrap();
    assert_eq!(more_specific.next_hop, "192.0.2.20");
    assert_eq!(more_specific.local_pref, Some(200));
}

#[test]
fn rtbh_blackhole_and_no_export_communities() {
    let l = Loopback {
        bird4: "127.0.3.67",
        bgpinject4: "127.0.3.68",
        port: 18367,
    };
    let expected = [Expected {
        protocol: "rtbh",
        ipv6_session: false,
        ipv4: true,
        ipv6: true,
        routes: &[
            ("198.51.100.66/32", &[BLACKHOLE, NO_EXPORT]),
            ("2001:db8:bad::66/128", &[BLACKHOLE, NO_EXPORT]),
        ],
    }];
    let (bird, _b) = run(BIN, "rtbh.conf", &l, 64510, 64510, &expected);
    let routes = bird.routes("master4");
    assert_eq!(routes[0].next_hop, "192.0.2.66");
}

#[test]
fn ipv6_routes_over_an_ipv4_session() {
    let l = Loopback {
        bird4: "127.0.3.69",
        bgpinject4: "127.0.3.70",
        port: 18369,
    };
    let expected = [Expected {
        protocol: "v6_over_v4",
        ipv6_session: false,
        ipv4: false,
        ipv6: true,
        routes: &[("2001:db8:100::/48", &[]), ("2001:db8:200::/48", &[])],
    }];
    let (bird, _b) = run(BIN, "ipv6-over-ipv4.conf", &l, 64510, 64500, &expected);
    assert!(
        bird.routes("master6")
            .iter()
            .all(|r| r.next_hop == "2001:db8::10")
    );
}

#[test]
fn ipv4_routes_over_an_ipv6_session() {
    let l = Loopback {
        bird4: "127.0.3.71",
        bgpinject4: "127.0.3.72",
        port: 18371,
    };
    let expected = [Expected {
        protocol: "v4_over_v6",
        ipv6_session: true,
        ipv4: true,
        ipv6: false,
        routes: &[("198.51.100.0/25", &[]), ("198.51.100.128/25", &[])],
    }];
    let (bird, _b) = run(BIN, "ipv4-over-ipv6.conf", &l, 64510, 64500, &expected);
    assert!(
        bird.routes("master4")
            .iter()
            .all(|r| r.next_hop == "192.0.2.10")
    );
}
