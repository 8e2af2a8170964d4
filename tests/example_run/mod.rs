//! Runs an example configuration of `conf/` against a private BIRD on loopback; shared by
//! `tests/examples_bird.rs` and `tests/static_binary.rs`.
//!
//! The examples name documentation addresses for the router (`192.0.2.1`, `2001:db8::1`) and
//! for bgpinject (`192.0.2.10`, `2001:db8::10`); [`on_loopback`] replaces exactly those
//! statements with loopback addresses and a `connect PORT;`, nothing else.

#![allow(dead_code)]
use crate::harness::bgpinject::Bgpinject;
use crate::harness::bird::{BgpProtocol, Bird, BirdBuilder};
use crate::harness::wait_for;
use std::path::Path;
use std::time::Duration;

/// Loopback addresses of one test: the router (BIRD) and bgpinject, IPv4; IPv6 uses ::1.
pub struct Loopback {
    pub bird4: &'static str,
    pub bgpinject4: &'static str,
    pub port: u16,
}

/// What one neighbor of an example must deliver.
pub struct Expected {
    /// BIRD protocol name (letters and underscores).
    pub protocol: &'static str,
    pub ipv6_session: bool,
    pub ipv4: bool,
    pub ipv6: bool,
    /// (prefix, communities in numeric `HIGH:LOW` form).
    pub routes: &'static [(&'static str, &'static [&'static str])],
}

pub fn read_example(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("conf")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The example with its router and local addresses moved to loopback.
pub fn on_loopback(text: &str, l: &Loopback) -> String {
    let mut out = String::new();
    for line in text.lines() {
        let trimmed = line.trim();
        let replaced = match trimmed {
            "neighbor 192.0.2.1 {" => format!("neighbor {} {{", l.bird4),
            "neighbor 2001:db8::1 {" => "neighbor ::1 {".to_string(),
            "local-address 192.0.2.10;" => {
                format!("local-address {}; connect {};", l.bgpinject4, l.port)
            }
            "local-address 2001:db8::10;" => format!("local-address ::1; connect {};", l.port),
            _ => line.to_string(),
        };
        out.push_str(&replaced);
        out.push('\n');
    }
    assert!(
        !out.contains("neighbor 192.0.2.1 ") && !out.contains("neighbor 2001:db8::1 "),
        "a neighbor was not moved to loopback:\n{out}"
    );
    out
}

pub fn start_bird(l: &Loopback, expected: &[Expected], local_as: u32, peer_as: u32) -> Bird {
    let mut b = BirdBuilder::new("192.0.2.251", l.bird4, l.port);
    for e in expected {
        let neighbor = if e.ipv6_session { "::1" } else { l.bgpinject4 };
        let mut p = BgpProtocol::new(e.protocol, neighbor, 179, peer_as, local_as)
            .passive(true)
            .families(e.ipv4, e.ipv6);
        if e.ipv6_session {
            p = p.local_address("::1");
        }
        b = b.bgp(p);
    }
    b.start()
}

fn report(bird: &Bird, expected: &[Expected], bgpinject: &Bgpinject) -> String {
    let mut s = String::new();
    for e in expected {
        s.push_str(&bird.protocol_info(e.protocol));
    }
    format!(
        "{s}\n{}\n--- bgpinject log ---\n{}",
        bird.log_text(),
        bgpinject.log()
    )
}

/// Waits until BIRD holds exactly the expected routes with their communities.
pub fn check_routes(bird: &Bird, expected: &[Expected], bgpinject: &Bgpinject) {
    for e in expected {
        bird.wait_established(e.protocol, Duration::from_secs(30));
    }
    let mut want: Vec<(String, Vec<String>)> = expected
        .iter()
        .flat_map(|e| e.routes.iter())
        .map(|(p, c)| {
            let mut c: Vec<String> = c.iter().map(|c| c.to_string()).collect();
            c.sort();
            (p.to_string(), c)
        })
        .collect();
    want.sort();
    let got = wait_for(Duration::from_secs(30), || {
        let mut got: Vec<(String, Vec<String>)> = ["master4", "master6"]
            .iter()
            .flat_map(|t| bird.routes(t))
            .map(|r| (r.prefix, r.communities))
            .collect();
        got.sort();
        (got == want).then_some(got)
    });
    assert!(
        got.is_some(),
        "BIRD does not show {want:?}: it has {:?} {:?}\n{}",
        bird.routes("master4"),
        bird.routes("master6"),
        report(bird, expected, bgpinject)
    );
}

/// Runs example `name` with `bin` against BIRD and checks the routes, then stops it.
pub fn run(
    bin: &str,
    name: &str,
    l: &Loopback,
    local_as: u32,
    peer_as: u32,
    expected: &[Expected],
) -> (Bird, Bgpinject) {
    let config = on_loopback(&read_example(name), l);
    let bird = start_bird(l, expected, local_as, peer_as);
    let bgpinject = Bgpinject::start(bin, &config, "debug");
    check_routes(&bird, expected, &bgpinject);
    (bird, bgpinject)
}
