//! Live reconfiguration against a real BIRD 2: 24 rewrites of the configuration file, each
//! applied with SIGHUP to a running bgpinject. After each one BIRD's table must equal the
//! table the file describes; a session is restarted only when its own session settings
//! changed (BIRD's "Since" time); and a route whose attributes changed is replaced, never
//! withdrawn (BIRD's "Import withdraws: received" grows by exactly the removed routes).
//! Invalid files in between change nothing.

mod harness;
mod reload_common;

use std::time::{Duration, Instant};

use harness::bgpinject::Bgpinject;
use harness::bird::{BgpProtocol, BirdBuilder};
use reload_common::*;

const PORT: u16 = 17951;
const BIRD1: &str = "127.0.0.51";
const INJECT1: &str = "127.0.0.52";
const BIRD2: &str = "127.0.0.54";
const INJECT2: &str = "127.0.0.53";
const STEP_TIMEOUT: Duration = Duration::from_secs(15);

fn v4(i: usize) -> Route {
    Route::new(
        &format!("198.51.100.{}/30", 4 * i),
        &format!("192.0.2.{}", 1 + i),
    )
}

fn v6(i: usize) -> Route {
    Route::new(&format!("2001:db8:{:x}::/48", 0x100 + i), "2001:db8::1")
}

fn n2_route(i: usize) -> Route {
    Route::new(&format!("203.0.113.{}/29", 8 * i), "192.0.2.200")
}

/// One rewrite of the file.
enum Step {
    /// The new state of both neighbors (`None`: neighbor 2 absent). `restart1`: neighbor 1's
    /// session settings changed.
    Valid {
        what: &'static str,
        n1: Neighbor,
        n2: Option<Neighbor>,
        restart1: bool,
    },
    /// A file bgpinject must refuse.
    Invalid { what: &'static str, text: String },
}

fn steps() -> Vec<Step> {
    let mut n1 = Neighbor {
        bird_address: BIRD1.into(),
        local_address: INJECT1.into(),
        port: PORT,
        hold_time: 90,
        routes: (0..10).map(v4).chain((0..4).map(v6)).collect(),
    };
    let mut n2 = Neighbor {
        bird_address: BIRD2.into(),
        local_address: INJECT2.into(),
        port: PORT,
        hold_time: 90,
        routes: (0..6).map(n2_route).collect(),
    };
    let mut out = Vec::new();
    let valid = |what, n1: &Neighbor, n2: Option<&Neighbor>, restart1| Step::Valid {
        what,
        n1: n1.clone(),
        n2: n2.cloned(),
        restart1,
    };
    let invalid = |what, text: String| Step::Invalid { what, text };

    n1.routes.extend((10..15).map(v4));
    out.push(valid("add 5 IPv4 routes", &n1, None, false));
    n1.routes.retain(|r| {
        !["198.51.100.4/30", "198.51.100.20/30", "2001:db8:101::/48"].contains(&r.prefix.as_str())
    });
    out.push(valid("remove 3 routes", &n1, None, false));
    for r in n1.routes.iter_mut().take(4) {
        r.med = Some(50);
    }
    out.push(valid("set med on 4 routes", &n1, None, false));
    for r in n1.routes.iter_mut().skip(3).take(3) {
        r.communities = vec!["65000:1".into(), "65000:2".into()];
    }
    out.push(valid("set communities on 3 routes", &n1, None, false));
    for r in n1.routes.iter_mut().skip(5).take(3) {
        r.as_path = Some(vec![65000, 64512, 4_200_000_001]);
    }
    out.push(valid("set as-path on 3 routes", &n1, None, false));
    out.push(invalid(
        "missing semicolon",
        render(&[&n1]).replacen("hold-time 90;", "hold-time 90", 1),
    ));
    for r in n1.routes.iter_mut().skip(1).take(2) {
        r.next_hop = "192.0.2.99".into();
    }
    if let Some(r) = n1.routes.iter_mut().find(|r| r.is_ipv6()) {
        r.next_hop = "2001:db8::99".into();
    }
    out.push(valid("change next hops (IPv4 and IPv6)", &n1, None, false));
    out.push(valid("add neighbor 2", &n1, Some(&n2), false));
    n2.routes.extend((6..10).map(n2_route));
    for r in n1.routes.iter_mut().take(2) {
        r.med = Some(60);
    }
    out.push(valid("routes on both neighbors", &n1, Some(&n2), false));
    out.push(invalid(
        "unknown keyword",
        render(&[&n1, &n2]).replacen("connect", "konnect", 1),
    ));
    n1.hold_time = 60;
    out.push(valid(
        "hold time of neighbor 1 (restart 1 only)",
        &n1,
        Some(&n2),
        true,
    ));
    for r in n1.routes.iter_mut() {
        r.med = None;
    }
    out.push(valid("remove every med", &n1, Some(&n2), false));
    out.push(invalid(
        "include of a missing file",
        format!("{}include \"does-not-exist.conf\";\n", render(&[&n1, &n2])),
    ));
    n1.routes
        .retain(|r| r.is_ipv6() || !r.prefix.starts_with("198.51.100.1"));
    n1.routes.extend((10..14).map(v6));
    out.push(valid(
        "add IPv6 and remove IPv4 routes at once",
        &n1,
        Some(&n2),
        false,
    ));
    for r in n2.routes.iter_mut().take(5) {
        r.communities = vec!["65001:7".into(), "no-export".into()];
    }
    out.push(valid("communities on neighbor 2", &n1, Some(&n2), false));
    out.push(valid("remove neighbor 2", &n1, None, false));
    n1.routes.extend((20..60).map(v4));
    out.push(valid("add 40 routes", &n1, None, false));
    if let Some(r) = n1
        .routes
        .iter_mut()
        .find(|r| r.prefix == "198.51.100.80/30")
    {
        r.next_hop = "192.0.2.7".into();
        r.med = Some(1);
        r.communities = vec!["65000:99".into()];
        r.as_path = Some(vec![64600]);
    }
    out.push(valid(
        "change every attribute of one route",
        &n1,
        None,
        false,
    ));
    let keep: Vec<Route> = n1.routes.iter().take(2).cloned().collect();
    n1.routes = keep;
    out.push(valid("remove all but 2 routes", &n1, None, false));
    let mut split = Route::new("203.0.113.0/24", "192.0.2.5");
    split.split = Some(28);
    n1.routes.push(split);
    out.push(valid("split /28 route", &n1, None, false));
    let mut bad = n1.clone();
    bad.routes.last_mut().unwrap().split = Some(23);
    out.push(invalid("split shorter than the prefix", render(&[&bad])));
    n1.routes.last_mut().unwrap().med = Some(5);
    out.push(valid("med on the split routes", &n1, None, false));
    out
}

#[test]
fn twenty_four_rewrites_applied_with_sighup() {
    let started = Instant::now();
    let bird = BirdBuilder::new("192.0.2.251", BIRD1, PORT)
        .bgp(
            BgpProtocol::new("inj1", INJECT1, 179, PEER_AS, LOCAL_AS)
                .passive(true)
                .families(true, true),
        )
        .bgp(
            BgpProtocol::new("inj2", INJECT2, 179, PEER_AS, LOCAL_AS)
                .passive(true)
                .families(true, true)
                .local_address(BIRD2),
        )
        .start();
    let initial = Neighbor {
        bird_address: BIRD1.into(),
        local_address: INJECT1.into(),
        port: PORT,
        hold_time: 90,
        routes: (0..10).map(v4).chain((0..4).map(v6)).collect(),
    };
    let bgpinject = Bgpinject::start(BIN, &render(&[&initial]), "info");
    let pid = bgpinject.pid().expect("bgpinject runs");
    bird.wait_established("inj1", Duration::from_secs(30));
    let report = |what: &str, diffs: &[String]| {
        format!(
            "step '{what}': {}\n--- inj1 ---\n{}\n--- inj2 ---\n{}\n--- bgpinject log ---\n{}",
            diffs.join("\n"),
            bird.protocol_info("inj1"),
            bird.protocol_info("inj2"),
            bgpinject.log()
        )
    };
    let diffs = wait_table(&bird, "inj1", &initial, STEP_TIMEOUT);
    assert!(diffs.is_empty(), "{}", report("initial", &diffs));

    let mut current1 = initial;
    let mut current2: Option<Neighbor> = None;
    let steps = steps();
    assert!(steps.len() >= 20);
    for step in steps {
        let since1 = since(&bird, "inj1");
        let since2 = since(&bird, "inj2");
        let withdraws1 = withdraws_received(&bird, "inj1");
        let withdraws2 = withdraws_received(&bird, "inj2");
        match step {
            Step::Invalid { what, text } => {
                let before = refusals(&bgpinject.log());
                std::fs::write(&bgpinject.config, text).unwrap();
                sighup(pid);
                let refused = harness::wait_for(STEP_TIMEOUT, || {
                    (refusals(&bgpinject.log()) > before).then_some(())
                });
                assert!(
                    refused.is_some(),
                    "{}",
                    report(what, &["not refused".into()])
                );
                // Give a wrong reload the time to do harm, then check nothing moved.
                std::thread::sleep(Duration::from_millis(300));
                let mut diffs = wait_table(&bird, "inj1", &current1, Duration::ZERO);
                if let Some(n2) = &current2 {
                    diffs.extend(wait_table(&bird, "inj2", n2, Duration::ZERO));
                }
                assert!(diffs.is_empty(), "{}", report(what, &diffs));
                assert!(
                    same_session(since(&bird, "inj1"), since1),
                    "{}",
                    report(what, &["inj1 restarted".into()])
                );
                assert_eq!(withdraws_received(&bird, "inj1"), withdraws1);
                if current2.is_some() {
                    assert!(
                        same_session(since(&bird, "inj2"), since2),
                        "{}",
                        report(what, &["inj2 restarted".into()])
                    );
                }
            }
            Step::Valid {
                what,
                n1,
                n2,
                restart1,
            } => {
                let mut text = render(&[&n1]);
                if let Some(n2) = &n2 {
                    n2.render(&mut text);
                }
                std::fs::write(&bgpinject.config, text).unwrap();
                sighup(pid);
                if restart1 {
                    // The old session must go away, then the table must come back.
                    let restarted = harness::wait_for(STEP_TIMEOUT, || {
                        (!same_session(since(&bird, "inj1"), since1)).then_some(())
                    });
                    assert!(
                        restarted.is_some(),
                        "{}",
                        report(what, &["no restart".into()])
                    );
                    bird.wait_established("inj1", STEP_TIMEOUT);
                }
                if n2.is_some() && current2.is_none() {
                    bird.wait_established("inj2", STEP_TIMEOUT);
                }
                let mut diffs = wait_table(&bird, "inj1", &n1, STEP_TIMEOUT);
                match &n2 {
                    Some(n2) => diffs.extend(wait_table(&bird, "inj2", n2, STEP_TIMEOUT)),
                    None if current2.is_some() => {
                        let gone = harness::wait_for(STEP_TIMEOUT, || {
                            (bird.protocol_state("inj2") != "Established").then_some(())
                        });
                        assert!(
                            gone.is_some(),
                            "{}",
                            report(what, &["neighbor 2 still up".into()])
                        );
                        let empty = Neighbor {
                            routes: vec![],
                            ..current2.clone().unwrap()
                        };
                        diffs.extend(wait_table(&bird, "inj2", &empty, STEP_TIMEOUT));
                    }
                    None => {}
                }
                assert!(diffs.is_empty(), "{}", report(what, &diffs));
                if !restart1 {
                    assert_eq!(
                        since(&bird, "inj1"),
                        since1,
                        "{}",
                        report(what, &["inj1 restarted".into()])
                    );
                    // Exactly the removed prefixes were withdrawn; replaced ones were not.
                    let removed = removed(&current1, &n1);
                    assert_eq!(
                        withdraws_received(&bird, "inj1") - withdraws1,
                        removed,
                        "{}",
                        report(what, &["withdraw count".into()])
                    );
                }
                if let (Some(old2), Some(new2)) = (&current2, &n2) {
                    assert_eq!(
                        since(&bird, "inj2"),
                        since2,
                        "{}",
                        report(what, &["inj2 restarted".into()])
                    );
                    assert_eq!(
                        withdraws_received(&bird, "inj2") - withdraws2,
                        removed(old2, new2),
                        "{}",
                        report(what, &["withdraw count".into()])
                    );
                }
                current1 = n1;
                current2 = n2;
            }
        }
    }
    let mut bgpinject = bgpinject;
    bgpinject.stop();
    assert!(
        started.elapsed() < Duration::from_secs(90),
        "took {:?}",
        started.elapsed()
    );
}

/// Prefixes announced under `old` and absent from `new`.
fn removed(old: &Neighbor, new: &Neighbor) -> u64 {
    let new_prefixes: Vec<String> = new
        .routes
        .iter()
        .flat_map(Route::expected)
        .map(|r| r.prefix)
        .collect();
    old.routes
        .iter()
        .flat_map(Route::expected)
        .filter(|r| !new_prefixes.contains(&r.prefix))
        .count() as u64
}
