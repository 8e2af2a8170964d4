//! ExaBGP's watchdogs against BIRD: a helper's `withdraw watchdog NAME` takes every route of
//! the group out of BIRD's table and `announce watchdog NAME` brings them back, with the
//! attributes of the configuration; a route tagged `withdraw` reaches BIRD only once its group
//! is announced; the session never goes down. Attacked with an unknown name, a name of odd
//! characters, toggling across a reload, and 100,000 routes in one group switched 50 times.

mod harness;

use std::fmt::Write as _;
use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

use harness::ReceivedRoute;
use harness::bgpinject::Bgpinject;
use harness::bird::{BgpProtocol, Bird, BirdBuilder};
use harness::fifo_helper::FifoHelper;
use harness::wait_for;

const BIN: &str = env!("CARGO_BIN_EXE_bgpinject");
/// This file's addresses and ports (127.0.40.0/24, 18300-18349).
const BIRD_ADDRESS: &str = "127.0.40.1";
const LOCAL: &str = "127.0.40.2";
const BIG_BIRD_ADDRESS: &str = "127.0.40.3";
const BIG_LOCAL: &str = "127.0.40.4";

/// What BIRD holds for `prefix` from the expectations below: next hop, MED, communities.
#[derive(Clone, Copy)]
struct Want {
    prefix: &'static str,
    next_hop: &'static str,
    med: Option<u32>,
    community: Option<&'static str>,
}

const PLAIN: Want = Want {
    prefix: "198.51.100.0/24",
    next_hop: "192.0.2.1",
    med: None,
    community: None,
};
const DNS_UP: Want = Want {
    prefix: "203.0.113.0/25",
    next_hop: "192.0.2.2",
    med: Some(10),
    community: None,
};
const DNS_HELD: Want = Want {
    prefix: "203.0.113.128/25",
    next_hop: "192.0.2.3",
    med: None,
    community: Some("65000:7"),
};
const ODD: Want = Want {
    prefix: "198.51.100.128/25",
    next_hop: "192.0.2.4",
    med: Some(20),
    community: None,
};
/// Added by the reload.
const RELOADED: Want = Want {
    prefix: "198.51.100.64/26",
    next_hop: "192.0.2.5",
    med: None,
    community: None,
};
const ODD_NAME: &str = "w.1/a:@-b_c+%";

fn route_line(w: &Want, tail: &str) -> String {
    let mut s = format!("route {} next-hop {}", w.prefix, w.next_hop);
    if let Some(m) = w.med {
        let _ = write!(s, " med {m}");
    }
    if let Some(c) = w.community {
        let _ = write!(s, " community [ {c} ]");
    }
    format!("{s} {tail};\n")
}

fn config(helper: &Path, port: u16, reloaded: bool) -> String {
    let mut routes = String::new();
    routes.push_str(&route_line(&PLAIN, ""));
    routes.push_str(&route_line(&DNS_UP, "watchdog dns"));
    routes.push_str(&route_line(&DNS_HELD, "watchdog dns withdraw"));
    routes.push_str(&route_line(&ODD, &format!("withdrawn watchdog {ODD_NAME}")));
    if reloaded {
        routes.push_str(&route_line(&RELOADED, ""));
    }
    format!(
        "process wd {{ run /bin/sh {}; encoder text; }}\nneighbor {BIRD_ADDRESS} {{ router-id 192.0.2.40; local-address {LOCAL}; local-as 65000; peer-as 65001; connect {port}; api {{ processes [ wd ]; }}\n static {{\n{routes} }}\n}}\n",
        helper.display()
    )
}

/// Checks BIRD's table value by value against `wanted` (built from the configuration above).
fn check_table(bird: &Bird, wanted: &[Want], log: &str) {
    let mut want: Vec<Want> = wanted.to_vec();
    want.sort_by_key(|w| w.prefix);
    let got = wait_for(Duration::from_secs(20), || {
        let mut r = bird.routes("master4");
        r.sort_by(|a, b| a.prefix.cmp(&b.prefix));
        let prefixes: Vec<&str> = r.iter().map(|x| x.prefix.as_str()).collect();
        let wanted: Vec<&str> = want.iter().map(|w| w.prefix).collect();
        (prefixes == wanted).then_some(r)
    });
    let Some(got) = got else {
        let have: Vec<String> = bird
            .routes("master4")
            .iter()
            .map(|r| r.prefix.clone())
            .collect();
        let wanted: Vec<&str> = want.iter().map(|w| w.prefix).collect();
        panic!("BIRD holds {have:?}, expected {wanted:?}\n--- bgpinject ---\n{log}");
    };
    for (r, w) in got.iter().zip(&want) {
        let expected = ReceivedRoute {
            prefix: w.prefix.to_string(),
            next_hop: w.next_hop.to_string(),
            origin: "igp".to_string(),
            as_path: vec![65000],
            med: w.med,
            local_pref: None,
            communities: w.community.iter().map(|c| c.to_string()).collect(),
            extended_communities: Vec::new(),
            large_communities: Vec::new(),
            atomic_aggregate: false,
            aggregator: None,
        };
        assert_eq!(*r, expected, "{}", w.prefix);
    }
}

#[test]
fn a_watchdog_group_is_withdrawn_and_announced_again_by_its_helper() {
    const PORT: u16 = 18300;
    let mut bird = BirdBuilder::new("192.0.2.41", BIRD_ADDRESS, PORT)
        .bgp(BgpProtocol::new("inj", LOCAL, 179, 65001, 65000).passive(true))
        .start();
    let mut helper = FifoHelper::new();
    let mut d = Bgpinject::start(BIN, &config(&helper.script(), PORT, false), "info");
    bird.wait_established("inj", Duration::from_secs(30));

    // At start: the routes tagged `withdraw` (and `withdrawn`) are not sent.
    check_table(&bird, &[PLAIN, DNS_UP], &d.log());
    std::thread::sleep(Duration::from_secs(1));
    check_table(&bird, &[PLAIN, DNS_UP], &d.log());

    helper.send("announce watchdog dns");
    check_table(&bird, &[PLAIN, DNS_UP, DNS_HELD], &d.log());
    helper.send("withdraw watchdog dns");
    check_table(&bird, &[PLAIN], &d.log());
    helper.send("announce watchdog dns");
    check_table(&bird, &[PLAIN, DNS_UP, DNS_HELD], &d.log());

    // An unknown name changes nothing (and is answered done, as ExaBGP does).
    helper.send("withdraw watchdog nosuch");
    helper.send("announce route 192.0.2.0/26 next-hop 192.0.2.9 watchdog announce");
    std::thread::sleep(Duration::from_secs(1));
    check_table(&bird, &[PLAIN, DNS_UP, DNS_HELD], &d.log());
    assert!(
        d.log().contains("withdraw watchdog nosuch: no route"),
        "{}",
        d.log()
    );
    assert!(d.log().contains("cannot be a watchdog name"), "{}", d.log());

    // A name of odd characters, written with the original injector's `withdrawn`.
    helper.send(&format!("announce watchdog {ODD_NAME}"));
    check_table(&bird, &[PLAIN, DNS_UP, DNS_HELD, ODD], &d.log());
    helper.send(&format!("withdraw watchdog {ODD_NAME}"));
    check_table(&bird, &[PLAIN, DNS_UP, DNS_HELD], &d.log());

    // Toggled around a reload: the group withdrawn before it stays withdrawn after it, the
    // reload's new route arrives, and the group comes back when announced.
    helper.send("withdraw watchdog dns");
    fs::write(
        d.dir().join("bgpinject.conf"),
        config(&helper.script(), PORT, true),
    )
    .unwrap();
    // SAFETY: kill(2) on the daemon this test started.
    unsafe { libc::kill(d.pid().unwrap() as i32, libc::SIGHUP) };
    helper.send("announce watchdog dns");
    helper.send("withdraw watchdog dns");
    check_table(&bird, &[PLAIN, RELOADED], &d.log());
    std::thread::sleep(Duration::from_secs(1));
    check_table(&bird, &[PLAIN, RELOADED], &d.log());
    helper.send("announce watchdog dns");
    check_table(&bird, &[PLAIN, RELOADED, DNS_UP, DNS_HELD], &d.log());

    // One session, never reset.
    d.assert_no_resets(1);
    assert_eq!(bird.protocol_state("inj"), "Established");
    d.stop();
    bird.stop();
}

/// BIRD's count of routes in master4 (`show route count`).
fn bird_count(bird: &Bird) -> Option<usize> {
    let out = bird.birdc(&["show", "route", "table", "master4", "count"])?;
    out.lines()
        .find_map(|l| l.split(" of ").next()?.trim().parse().ok())
}

#[test]
fn one_hundred_thousand_routes_in_one_watchdog_switched_fifty_times() {
    const PORT: u16 = 18301;
    const ROUTES: u32 = 100_000;
    const SWITCHES: usize = 50;
    let mut bird = BirdBuilder::new("192.0.2.42", BIG_BIRD_ADDRESS, PORT)
        .bgp(BgpProtocol::new("inj", BIG_LOCAL, 179, 65001, 65000).passive(true))
        .start();
    let mut helper = FifoHelper::new();
    // 100,000 /25s of 10.0.0.0/8, in one group, starting withdrawn; one plain route.
    let mut text = format!(
        "process wd {{ run /bin/sh {}; encoder text; }}\nneighbor {BIG_BIRD_ADDRESS} {{ router-id 192.0.2.43; local-address {BIG_LOCAL}; local-as 65000; peer-as 65001; connect {PORT}; hold-time 30; api {{ processes [ wd ]; }}\n static {{\n route 198.51.100.0/24 next-hop 192.0.2.1;\n",
        helper.script().display()
    );
    let prefix = |i: u32| {
        let a = (10u32 << 24) | (i << 7);
        format!("{}/25", std::net::Ipv4Addr::from(a))
    };
    for i in 0..ROUTES {
        let _ = writeln!(
            text,
            " route {} next-hop 192.0.2.{} med {} watchdog big withdraw;",
            prefix(i),
            1 + i % 200,
            i
        );
    }
    text.push_str(" }\n}\n");
    let mut d = Bgpinject::start(BIN, &text, "info");
    bird.wait_established("inj", Duration::from_secs(60));
    let count = |want: usize, within: Duration| {
        let got = wait_for(within, || {
            let n = bird_count(&bird)?;
            (n == want).then_some(n)
        });
        assert!(
            got.is_some(),
            "BIRD holds {:?} routes, expected {want}\n{}",
            bird_count(&bird),
            d.log()
                .lines()
                .rev()
                .take(30)
                .collect::<Vec<_>>()
                .join("\n")
        );
    };
    count(1, Duration::from_secs(30));
    let all = ROUTES as usize + 1;
    let started = Instant::now();
    // Each of the first switches is waited for; the rest go as fast as the helper writes.
    helper.send("announce watchdog big");
    count(all, Duration::from_secs(120));
    helper.send("withdraw watchdog big");
    count(1, Duration::from_secs(120));
    for k in 2..SWITCHES {
        helper.send(if k % 2 == 0 {
            "announce watchdog big"
        } else {
            "withdraw watchdog big"
        });
    }
    // 50 switches: the last (49th, odd) withdrew; one more announce leaves them all in.
    helper.send("announce watchdog big");
    count(all, Duration::from_secs(180));
    eprintln!(
        "{SWITCHES} switches of {ROUTES} routes: {:?}",
        started.elapsed()
    );
    // Value by value for a sample: the first, the last and every 9,973rd.
    for i in (0..ROUTES).step_by(9_973).chain([ROUTES - 1]) {
        let p = prefix(i);
        let out = bird
            .birdc(&["show", "route", "all", "table", "master4", p.as_str()])
            .unwrap_or_default();
        let got: Vec<ReceivedRoute> = harness::bird::parse_show_route_all(&out)
            .into_iter()
            .map(|(_, r)| r)
            .collect();
        let expected = ReceivedRoute {
            prefix: p.clone(),
            next_hop: format!("192.0.2.{}", 1 + i % 200),
            origin: "igp".to_string(),
            as_path: vec![65000],
            med: Some(i),
            local_pref: None,
            communities: Vec::new(),
            extended_communities: Vec::new(),
            large_communities: Vec::new(),
            atomic_aggregate: false,
            aggregator: None,
        };
        assert_eq!(got, vec![expected], "{p}");
    }
    d.assert_no_resets(1);
    d.stop();
    bird.stop();
}
