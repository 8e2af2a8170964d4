//! Acceptance tests: bgpinject announces routes to a private BIRD 2 over loopback, and BIRD must
//! show every route with exactly the configured attributes (or the documented defaults), withdraw
//! them when bgpinject stops, and get them back after BIRD restarts.
//!
//! Each test has its own addresses and ports so that they run in parallel. BIRD is passive;
//! bgpinject connects with `connect PORT;`.
//!
//! LOCAL_PREF follows RFC 4271 §5.1.5 (README, "Choices"): a configured `local-preference` is
//! sent on iBGP only (100 when none is configured) and never on eBGP. BIRD is told to accept a
//! LOCAL_PREF from eBGP (`allow bgp_local_pref on`) so that one sent by mistake would show.

mod harness;

use harness::bgpinject::Bgpinject;
use harness::bird::{BgpProtocol, Bird, BirdBuilder};
use harness::{ReceivedRoute, diff_routes};
use std::fmt::Write as _;
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_bgpinject");
const ROUTES_PER_FAMILY: usize = 100;
const ESTABLISH_TIMEOUT: Duration = Duration::from_secs(30);
const TABLE_TIMEOUT: Duration = Duration::from_secs(30);

/// One configured route: its config line and what a receiver must show.
struct ConfiguredRoute {
    line: String,
    expected: ReceivedRoute,
}

/// Session parameters of one test.
struct Session {
    bgpinject_address: &'static str,
    bird_address: &'static str,
    bird_port: u16,
    local_as: u32,
    peer_as: u32,
}

impl Session {
    fn ibgp(&self) -> bool {
        self.local_as == self.peer_as
    }
}

/// Route `i` of a family: every route gets a different combination of next hop, origin,
/// AS path, MED, LOCAL_PREF and communities, and some leave attributes to the defaults.
fn generate(ipv6: bool, i: usize, session: &Session) -> ConfiguredRoute {
    let n = i as u32;
    let prefix = match (ipv6, i) {
        (false, 0..64) => format!("198.51.100.{}/30", 4 * i),
        (false, 64..96) => format!("203.0.113.{}/29", 8 * (i - 64)),
        (false, _) => format!("192.0.2.{}/26", 64 * (i - 96)),
        (true, _) if i.is_multiple_of(2) => format!("2001:db8:{:x}::/48", 0x1000 + i),
        (true, _) => format!("2001:db8:ffff:{:x}::/64", i),
    };
    let next_hop = if ipv6 {
        format!("2001:db8::{:x}", i + 1)
    } else {
        format!("192.0.2.{}", 1 + i % 200)
    };
    let mut line = format!("route {prefix} next-hop {next_hop}");
    let mut expected = ReceivedRoute {
        prefix,
        next_hop,
        origin: "igp".into(),
        ..Default::default()
    };

    // Origin: i % 4 == 0 leaves the default (igp); the rest cycle through all three.
    if !i.is_multiple_of(4) {
        let origin = ["igp", "egp", "incomplete"][i % 3];
        let _ = write!(line, " origin {origin}");
        expected.origin = origin.into();
    }

    // AS path: every fifth route leaves the default; the others have 1 to 4 ASNs, 2- and
    // 4-octet, never the receiver's own AS.
    if i.is_multiple_of(5) {
        expected.as_path = if session.ibgp() {
            vec![]
        } else {
            vec![session.local_as]
        };
    } else {
        let path: Vec<u32> = (0..i % 5)
            .map(|k| {
                if (i + k).is_multiple_of(3) {
                    4_200_000_000 + n * 10 + k as u32
                } else {
                    64_512 + n * 4 + k as u32
                }
            })
            .collect();
        let text: Vec<String> = path.iter().map(u32::to_string).collect();
        let _ = write!(line, " as-path [ {} ]", text.join(" "));
        expected.as_path = path;
    }

    if i % 3 != 1 {
        let med = n * 10;
        let _ = write!(line, " med {med}");
        expected.med = Some(med);
    }

    if i % 4 != 2 {
        let lp = 100 + n * 3;
        let _ = write!(line, " local-preference {lp}");
        if session.ibgp() {
            expected.local_pref = Some(lp);
        }
    } else if session.ibgp() {
        expected.local_pref = Some(100);
    }

    // Communities: none on every sixth route, else one to three numeric ones plus well-known.
    if !i.is_multiple_of(6) {
        let mut words: Vec<String> = (0..1 + i % 3)
            .map(|k| format!("{}:{}", 65000 + k, n))
            .collect();
        let mut numeric = words.clone();
        if i.is_multiple_of(7) {
            words.push("no-export".into());
            numeric.push("65535:65281".into());
        }
        if i.is_multiple_of(11) {
            words.push("no-advertise".into());
            numeric.push("65535:65282".into());
        }
        let _ = write!(line, " community [ {} ]", words.join(" "));
        numeric.sort();
        expected.communities = numeric;
    }

    line.push(';');
    ConfiguredRoute { line, expected }
}

fn routes(ipv6: bool, session: &Session) -> Vec<ConfiguredRoute> {
    (0..ROUTES_PER_FAMILY)
        .map(|i| generate(ipv6, i, session))
        .collect()
}

fn bgpinject_config(session: &Session, v4: &[ConfiguredRoute], v6: &[ConfiguredRoute]) -> String {
    let mut c = String::new();
    let _ = writeln!(c, "neighbor {} {{", session.bird_address);
    c.push_str("    router-id 192.0.2.250;\n");
    let _ = writeln!(c, "    local-address {};", session.bgpinject_address);
    let _ = writeln!(c, "    local-as {};", session.local_as);
    let _ = writeln!(c, "    peer-as {};", session.peer_as);
    c.push_str("    hold-time 90;\n");
    let _ = writeln!(c, "    connect {};", session.bird_port);
    c.push_str("    family { ipv4 unicast; ipv6 unicast; }\n    static {\n");
    for r in v4.iter().chain(v6) {
        let _ = writeln!(c, "        {}", r.line);
    }
    c.push_str("    }\n}\n");
    c
}

fn start_bird(session: &Session, protocol: &str) -> Bird {
    BirdBuilder::new("192.0.2.251", session.bird_address, session.bird_port)
        .bgp(
            BgpProtocol::new(
                protocol,
                session.bgpinject_address,
                179,
                session.peer_as,
                session.local_as,
            )
            .passive(true)
            .families(true, true),
        )
        .start()
}

fn report(bird: &Bird, protocol: &str, bgpinject: &Bgpinject) -> String {
    format!(
        "--- BIRD protocol ---\n{}\n{}\n--- bgpinject log ---\n{}",
        bird.protocol_info(protocol),
        bird.log_text(),
        bgpinject.log()
    )
}

/// Waits for both tables to be complete and compares them attribute by attribute.
fn check_tables(
    bird: &Bird,
    protocol: &str,
    bgpinject: &Bgpinject,
    v4: &[ConfiguredRoute],
    v6: &[ConfiguredRoute],
    timeout: Duration,
) {
    let mut diffs = Vec::new();
    for (table, configured) in [("master4", v4), ("master6", v6)] {
        let expected: Vec<ReceivedRoute> = configured.iter().map(|r| r.expected.clone()).collect();
        let got = bird.wait_route_count(table, expected.len(), timeout);
        diffs.extend(diff_routes(&format!("BIRD {table}"), &expected, &got));
    }
    assert!(
        diffs.is_empty(),
        "{} differences:\n{}\n{}",
        diffs.len(),
        diffs.join("\n"),
        report(bird, protocol, bgpinject)
    );
}

/// Stops bgpinject with SIGTERM: it must exit 0 after a Cease, and BIRD must drop every route.
fn stop_and_check_withdrawn(bird: &Bird, protocol: &str, mut bgpinject: Bgpinject) {
    let status = bgpinject.stop();
    assert!(
        matches!(status, Some(s) if s.success()),
        "bgpinject did not exit 0 on SIGTERM within 10 s: {status:?}\n{}",
        report(bird, protocol, &bgpinject)
    );
    let empty = harness::wait_for(Duration::from_secs(15), || {
        (bird.routes("master4").is_empty() && bird.routes("master6").is_empty()).then_some(())
    });
    assert!(
        empty.is_some(),
        "BIRD still has {} IPv4 and {} IPv6 routes after bgpinject stopped\n{}",
        bird.routes("master4").len(),
        bird.routes("master6").len(),
        report(bird, protocol, &bgpinject)
    );
    let info = bird.protocol_info(protocol);
    assert!(
        // BIRD prints `Last error: Received: <Cease subcode>` for a NOTIFICATION it received,
        // `Connection closed` when the TCP session just ended.
        info.lines()
            .any(|l| l.trim().starts_with("Last error:") && l.contains("Received: ")),
        "BIRD did not receive a Cease NOTIFICATION\n{}",
        report(bird, protocol, &bgpinject)
    );
}

fn announce_and_withdraw(session: Session, protocol: &str) {
    let v4 = routes(false, &session);
    let v6 = routes(true, &session);
    let bird = start_bird(&session, protocol);
    let bgpinject = Bgpinject::start(BIN, &bgpinject_config(&session, &v4, &v6), "debug");
    let established = harness::wait_for(ESTABLISH_TIMEOUT, || {
        (bird.protocol_state(protocol) == "Established").then_some(())
    });
    assert!(
        established.is_some(),
        "no session\n{}",
        report(&bird, protocol, &bgpinject)
    );
    check_tables(&bird, protocol, &bgpinject, &v4, &v6, TABLE_TIMEOUT);
    stop_and_check_withdrawn(&bird, protocol, bgpinject);
}

#[test]
fn ebgp_over_ipv4_session_every_attribute_then_withdraw() {
    announce_and_withdraw(
        Session {
            bgpinject_address: "127.0.0.32",
            bird_address: "127.0.0.31",
            bird_port: 17931,
            local_as: 65000,
            peer_as: 65001,
        },
        "inject4",
    );
}

#[test]
fn ebgp_over_ipv6_session_every_attribute_then_withdraw() {
    announce_and_withdraw(
        Session {
            bgpinject_address: "::1",
            bird_address: "::1",
            bird_port: 17932,
            local_as: 4_200_000_001,
            peer_as: 65001,
        },
        "inject6",
    );
}

#[test]
fn ibgp_defaults_local_pref_100_and_empty_as_path() {
    announce_and_withdraw(
        Session {
            bgpinject_address: "127.0.0.34",
            bird_address: "127.0.0.33",
            bird_port: 17933,
            local_as: 65000,
            peer_as: 65000,
        },
        "inject_i",
    );
}

#[test]
fn bird_restart_bgpinject_reconnects_and_sends_full_table() {
    let session = Session {
        bgpinject_address: "127.0.0.36",
        bird_address: "127.0.0.35",
        bird_port: 17935,
        local_as: 65000,
        peer_as: 65001,
    };
    let protocol = "inject_r";
    let v4 = routes(false, &session);
    let v6 = routes(true, &session);
    let mut bird = start_bird(&session, protocol);
    let bgpinject = Bgpinject::start(BIN, &bgpinject_config(&session, &v4, &v6), "debug");
    assert!(
        harness::wait_for(ESTABLISH_TIMEOUT, || {
            (bird.protocol_state(protocol) == "Established").then_some(())
        })
        .is_some(),
        "no session\n{}",
        report(&bird, protocol, &bgpinject)
    );
    check_tables(&bird, protocol, &bgpinject, &v4, &v6, TABLE_TIMEOUT);

    bird.restart();
    assert!(
        bird.routes("master4").is_empty(),
        "a restarted BIRD starts empty"
    );
    check_tables(
        &bird,
        protocol,
        &bgpinject,
        &v4,
        &v6,
        Duration::from_secs(60),
    );
    stop_and_check_withdrawn(&bird, protocol, bgpinject);
}
