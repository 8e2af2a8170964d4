//! ExaBGP's example configurations that bgpinject accepts announce what ExaBGP 4.2 announces
//! for them: each file is sent once by ExaBGP (Debian's exabgp) and once by bgpinject to an
//! ExaBGP receiver, and the routes received (prefix, next hop and every attribute) must be
//! the same, route for route.
//!
//! The original injector's files are given to ExaBGP 4.2 as `bgpinject migrate` prints them
//! (ExaBGP 4 no longer reads that syntax) and to bgpinject as written, which also checks
//! that `migrate` keeps their meaning.
//!
//! Each file is used as written but for its session: the neighbor address, `local-address`
//! and a `connect` port are set to this test's loopback addresses (127.0.25.0/24, ports
//! 18010-18019), and TCP MD5 and TTL settings are left out.
//!
//! Needs exabgp (a real peer): run under the shared lock,
//! `flock /tmp/bgpinject-interop.lock cargo test --test exabgp_same_routes -- --test-threads=1`.

mod harness;

use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;
use std::time::Duration;

use harness::bgpinject::{Bgpinject, bug_lines};
use harness::daemon::Daemon;
use harness::exabgp::{Exabgp, exabgp_command};
use harness::spec::{Family, ReceiverSpec};
use harness::{ReceivedRoute, diff_routes, wait_for};

/// The accepted single-neighbor examples without helper processes, with the forms of issue
/// #21 among them: a prefix configured twice (parse-simple-v4), upper-case IPv6 prefixes
/// (conf-group-limit), route `name` (conf-name), a bare `72:0.0.0.1` extended community
/// (conf-ipv46routes4family).
const FILES: &[&str] = &[
    "exabgp-4.2/parse-simple-v4.conf",
    "exabgp-4.2/parse-simple-v6.conf",
    "exabgp-4.2/conf-group-limit.conf",
    "exabgp-4.2/conf-name.conf",
    "exabgp-4.2/conf-ipv46routes4family.conf",
    "exabgp-4.2/parse-community.conf",
    "exabgp-4.2/conf-aggregator.conf",
    "exabgp-4.2/conf-ipself4.conf",
    // The original injector's files: ExaBGP 4.2 reads what `bgpinject migrate` prints of
    // them, bgpinject the file as written.
    "original/quagga.txt",
    "original/ebgp6-simple.txt",
    "original/ibgp4.txt",
    "original/test.txt",
    "original/holdtime.txt",
    // ExaBGP 2.x/3.x files (the same routes configured twice, split, an IPv4 and an IPv6
    // route on one session), given to ExaBGP 4.2 as `migrate` prints them too.
    "exabgp-3/ebgp4-simple.txt",
    "exabgp-3/ibgp4-split.txt",
    "exabgp-3/ibgp6-simple.txt",
];

const SENDER: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 25, 1));

/// The file with its session moved to `receiver:port` from [`SENDER`].
fn rewrite(text: &str, receiver: IpAddr, port: u16) -> String {
    let mut out = String::new();
    for line in text.lines() {
        let t = line.trim();
        if t.starts_with("neighbor ") && t.ends_with('{') {
            out.push_str(&format!("neighbor {receiver} {{\n\tconnect {port};\n"));
        } else if t.starts_with("local-address ") {
            out.push_str(&format!("\tlocal-address {SENDER};\n"));
        } else if ["md5-", "outgoing-ttl", "incoming-ttl", "ttl-security"]
            .iter()
            .any(|k| t.starts_with(k))
        {
            continue;
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// The routes a fresh ExaBGP receiver at `receiver:port` gets from `run` once every family's
/// End-of-RIB has arrived.
fn received(
    spec: &ReceiverSpec,
    families: usize,
    what: &str,
    run: impl FnOnce() -> Box<dyn FnMut() -> String>,
) -> Vec<ReceivedRoute> {
    let mut receiver = Exabgp::start(spec);
    let mut log = run();
    let done = wait_for(Duration::from_secs(60), || {
        (receiver.end_of_ribs().len() >= families).then_some(())
    });
    let mut routes = receiver.routes("ipv4");
    routes.extend(receiver.routes("ipv6"));
    let receiver_log = receiver.log();
    receiver.stop();
    let sender_log = log();
    assert!(
        done.is_some(),
        "{what}: no End-of-RIB for every family within 60 s\nsender:\n{sender_log}\nreceiver:\n{receiver_log}"
    );
    routes.sort_by(|a, b| a.prefix.cmp(&b.prefix));
    routes
}

#[test]
fn accepted_exabgp_examples_announce_what_exabgp_announces() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("test-vectors/exabgp-conf");
    let mut failures = Vec::new();
    for (i, name) in FILES.iter().enumerate() {
        let text = std::fs::read_to_string(root.join(name)).expect("corpus file");
        let parsed = bgpinject::config::parse_str(&text, Path::new(name)).expect("accepted");
        let [n] = parsed.neighbors.as_slice() else {
            panic!("{name}: one neighbor expected");
        };
        let mut families = Vec::new();
        for f in &n.families {
            match (f.afi, f.safi) {
                (bgpinject::wire::family::Afi::Ipv4, bgpinject::wire::family::Safi::Unicast) => {
                    families.push(Family::Ipv4Unicast)
                }
                (bgpinject::wire::family::Afi::Ipv6, bgpinject::wire::family::Safi::Unicast) => {
                    families.push(Family::Ipv6Unicast)
                }
                other => panic!("{name}: family {other:?} is not read by this test"),
            }
        }
        // One receiver address per file and run; the port stays in this test's range.
        let run_spec = |k: u8, port: u16| {
            let receiver = IpAddr::V4(Ipv4Addr::new(127, 0, 25, 10 + 2 * i as u8 + k));
            let mut spec = ReceiverSpec::new(receiver, port, n.peer_as, SENDER, n.local_as);
            spec.families = families.clone();
            (receiver, spec)
        };
        let (receiver, spec) = run_spec(0, 18010);
        let exabgp_text = if name.starts_with("original/") || name.starts_with("exabgp-3/") {
            bgpinject::config::migrate::migrate(&text, Path::new(name))
                .expect("migrate")
                .text
        } else {
            text.clone()
        };
        let conf_text = rewrite(&exabgp_text, receiver, 18010);
        let dir = tempfile::tempdir().expect("tempdir");
        let conf = dir.path().join("exabgp.conf");
        std::fs::write(&conf, &conf_text).expect("write");
        let log_path = dir.path().join("sender.log");
        let by_exabgp = received(&spec, families.len(), &format!("{name} (ExaBGP)"), || {
            let mut cmd = exabgp_command(&conf, None);
            let mut d = Daemon::spawn("exabgp sender", &mut cmd, &log_path);
            Box::new(move || {
                let log = d.log_text();
                d.stop();
                log
            })
        });
        let (receiver, spec) = run_spec(1, 18011);
        let conf_text = rewrite(&text, receiver, 18011);
        let by_bgpinject = received(
            &spec,
            families.len(),
            &format!("{name} (bgpinject)"),
            || {
                let mut b = Bgpinject::start(env!("CARGO_BIN_EXE_bgpinject"), &conf_text, "info");
                Box::new(move || {
                    b.stop();
                    let log = b.log();
                    let bugs = bug_lines(&log);
                    assert!(bugs.is_empty(), "bgpinject logged a bug: {bugs:?}");
                    log
                })
            },
        );
        assert!(!by_exabgp.is_empty(), "{name}: ExaBGP announced nothing");
        let diff = diff_routes(name, &by_exabgp, &by_bgpinject);
        println!(
            "{name}: {} routes from ExaBGP, {} from bgpinject, {} differences",
            by_exabgp.len(),
            by_bgpinject.len(),
            diff.len()
        );
        if !diff.is_empty() {
            failures.push(format!("{name}:\n  {}", diff.join("\n  ")));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
