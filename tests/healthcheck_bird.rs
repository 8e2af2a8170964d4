//! Health checks with healthcheck.py's options, checked at BIRD value by value (MED,
//! communities, as-path, next hop, local preference) in the up, down and disabled states, and
//! the service addresses on the loopback at each transition.
//!
//! Each test re-runs itself inside a network namespace it creates (`ip netns add
//! bgpi-hc-PID-N`, entered with `ip netns exec`, deleted when the test ends, pass or fail):
//! BIRD and bgpinject both run there, on its loopback (127.0.32.1 and 127.0.32.2, ports
//! 18140-18159), and the addresses bgpinject adds to `lo` are the namespace's, never the
//! host's. Needs root (`make test` runs as root).
//!
//! Checks run every 0.3 s (0.1 s while rising or falling) so that the whole file takes
//! seconds, not the minutes of healthcheck.py's defaults.

mod harness;

use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use harness::bgpinject::{Bgpinject, bug_lines};
use harness::bird::{BgpProtocol, Bird, BirdBuilder};
use harness::{ReceivedRoute, wait_for};

const BIN: &str = env!("CARGO_BIN_EXE_bgpinject");
const BIRD_ADDRESS: &str = "127.0.32.1";
const OUR_ADDRESS: &str = "127.0.32.2";
const BIRD_PORT: u16 = 18140;
const TIMEOUT: Duration = Duration::from_secs(15);
const INSIDE: &str = "BGPINJECT_HC_NETNS";

/// Re-runs test `name` inside a namespace of its own; `true` in the outer process, whose
/// work is then done.
fn rerun_in_namespace(name: &str, n: u32) -> bool {
    if std::env::var_os(INSIDE).is_some() {
        let up = Command::new("ip")
            .args(["link", "set", "lo", "up"])
            .status()
            .expect("run ip");
        assert!(up.success(), "ip link set lo up in the namespace");
        return false;
    }
    let ns = Namespace::create(&format!("bgpi-hc-{}-{n}", std::process::id()));
    let status = Command::new("ip")
        .args(["netns", "exec", &ns.0])
        .arg(std::env::current_exe().unwrap())
        .args(["--exact", name, "--nocapture", "--test-threads=1"])
        .env(INSIDE, "1")
        .status()
        .expect("run ip netns exec");
    assert!(status.success(), "{name} in namespace {}: {status}", ns.0);
    true
}

/// A named network namespace, deleted on drop.
struct Namespace(String);

impl Namespace {
    fn create(name: &str) -> Namespace {
        let out = Command::new("ip")
            .args(["netns", "add", name])
            .output()
            .expect("run ip netns add");
        assert!(
            out.status.success(),
            "ip netns add {name} (needs root): {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Namespace(name.to_string())
    }
}

impl Drop for Namespace {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
    }
}

/// BIRD in AS `asn` (65001: eBGP, 65000: iBGP, where LOCAL_PREF is sent).
fn bird(asn: u32) -> Bird {
    BirdBuilder::new("192.0.2.251", BIRD_ADDRESS, BIRD_PORT)
        .bgp(BgpProtocol::new("inj", OUR_ADDRESS, 179, asn, 65000).passive(true))
        .start()
}

fn neighbor(peer_as: u32, api: &str) -> String {
    format!(
        "neighbor {BIRD_ADDRESS} {{ router-id 192.0.2.2; local-address {OUR_ADDRESS}; local-as 65000; peer-as {peer_as}; connect {BIRD_PORT}; {api} }}\n"
    )
}

/// The addresses of `lo` in `203.0.113.0/24`, each with its label (`lo` when none), sorted.
fn service_addresses() -> Vec<String> {
    let out = Command::new("ip")
        .args(["-o", "-4", "address", "show", "dev", "lo"])
        .output()
        .expect("run ip address show");
    let text = String::from_utf8_lossy(&out.stdout);
    let mut v: Vec<String> = text
        .lines()
        .filter_map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            let addr = w.get(3)?;
            addr.starts_with("203.0.113.").then(|| {
                let label = w
                    .iter()
                    .rev()
                    .find(|x| x.starts_with("lo"))
                    .unwrap_or(&"lo");
                format!("{addr} {}", label.trim_end_matches('\\'))
            })
        })
        .collect();
    v.sort();
    v
}

fn wait_addresses(want: &[&str], context: &Bgpinject) {
    let got = wait_for(TIMEOUT, || {
        let got = service_addresses();
        (got == want).then_some(got)
    })
    .unwrap_or_else(service_addresses);
    assert_eq!(got, want, "addresses on lo\n--- log ---\n{}", context.log());
}

/// BIRD's routes in 203.0.113.0/24, sorted by prefix.
fn routes(bird: &Bird) -> Vec<ReceivedRoute> {
    let mut v: Vec<ReceivedRoute> = bird
        .routes("master4")
        .into_iter()
        .filter(|r| r.prefix.starts_with("203.0.113."))
        .collect();
    v.sort();
    v
}

/// Waits until BIRD holds exactly `want`; fails with both and bgpinject's log otherwise.
fn expect_routes(bird: &Bird, want: &[ReceivedRoute], d: &Bgpinject, what: &str) {
    let got = wait_for(TIMEOUT, || {
        let got = routes(bird);
        (got == want).then_some(got)
    })
    .unwrap_or_else(|| routes(bird));
    assert_eq!(
        got,
        want,
        "{what}: BIRD's routes\n{}\n--- log ---\n{}",
        harness::diff_routes("bird", want, &got).join("\n"),
        d.log()
    );
}

/// A route as BIRD shows one from bgpinject: `as_path` as BIRD receives it.
fn route(prefix: &str, med: u32, as_path: &[u32], communities: &[&str]) -> ReceivedRoute {
    ReceivedRoute {
        prefix: prefix.to_string(),
        next_hop: "192.0.2.7".to_string(),
        origin: "igp".to_string(),
        as_path: as_path.to_vec(),
        med: Some(med),
        local_pref: None,
        communities: communities.iter().map(|c| c.to_string()).collect(),
        ..ReceivedRoute::default()
    }
}

/// The hook lines written so far.
fn hook_lines(dir: &Path) -> Vec<String> {
    fs::read_to_string(dir.join("hooks"))
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

fn wait_hooks(dir: &Path, want: &[&str], d: &Bgpinject) {
    let got = wait_for(TIMEOUT, || {
        let got = hook_lines(dir);
        (got == want).then_some(got)
    })
    .unwrap_or_else(|| hook_lines(dir));
    assert_eq!(got, want, "hooks run\n--- log ---\n{}", d.log());
}

fn assert_clean(d: &Bgpinject) {
    let log = d.log();
    assert!(bug_lines(&log).is_empty(), "{log}");
    d.assert_no_resets(1);
}

/// ExaBGP's healthcheck command line, unchanged in a `process` block: every per-state value
/// at BIRD, the service addresses (dynamic, labelled) following the state, and the hooks.
#[test]
fn exabgp_healthcheck_run_line_up_down_disabled_at_bird() {
    if rerun_in_namespace("exabgp_healthcheck_run_line_up_down_disabled_at_bird", 1) {
        return;
    }
    // iBGP: LOCAL_PREF is sent, and the as-path is the configured one.
    let bird = bird(65000);
    let work = tempfile::tempdir().unwrap();
    let w = work.path().display().to_string();
    let config = format!(
        r#"process watch-web {{
    run python3 -m exabgp healthcheck --cmd "test -e {w}/up" --interval 0.3 --fast-interval 0.1 --rise 2 --fall 2 --ip 203.0.113.10/32 --ip 203.0.113.11/32 --up-metric 100 --down-metric 1000 --disabled-metric 500 --increase 10 --community 65000:100 --disabled-community 65000:666 --large-community 65000:1:2 --extended-community target:65000:7 --as-path 65010 --up-as-path "65011 65011" --down-as-path 65012 --local-preference 250 --next-hop 192.0.2.7 --disable {w}/disabled --dynamic-ip-setup --label web --execute "echo $STATE >> {w}/hooks" --up-execute "echo up-hook >> {w}/hooks" --down-execute "echo down-hook >> {w}/hooks" --disabled-execute "echo disabled-hook >> {w}/hooks";
}}
{}"#,
        neighbor(65000, "api { processes [ watch-web ]; }")
    );
    let (ok, text) = Bgpinject::check(BIN, &config);
    assert!(ok, "{text}");
    let mut d = Bgpinject::start(BIN, &config, "debug");
    bird.wait_established("inj", TIMEOUT);
    let with = |mut r: ReceivedRoute| {
        r.local_pref = Some(250);
        r.large_communities = vec!["65000:1:2".into()];
        r.extended_communities = vec!["target:65000:7".into()];
        r
    };
    let state = |meds: [u32; 2], path: &[u32], community: &str| {
        vec![
            with(route("203.0.113.10/32", meds[0], path, &[community])),
            with(route("203.0.113.11/32", meds[1], path, &[community])),
        ]
    };
    let down = state([1000, 1010], &[65012], "65000:666");
    let up = state([100, 110], &[65011, 65011], "65000:100");
    let disabled = state([500, 510], &[65010], "65000:666");

    // Down (after `fall` failures): down metric, the disabled community, the down as-path;
    // no address on lo.
    expect_routes(&bird, &down, &d, "down");
    wait_hooks(work.path(), &["FALLING", "down-hook", "DOWN"], &d);
    assert_eq!(service_addresses(), Vec::<String>::new());

    // Up: the addresses appear with their label before the up routes are announced.
    fs::write(work.path().join("up"), "").unwrap();
    expect_routes(&bird, &up, &d, "up");
    assert_eq!(
        service_addresses(),
        ["203.0.113.10/32 lo:web", "203.0.113.11/32 lo:web"]
    );
    wait_hooks(
        work.path(),
        &["FALLING", "down-hook", "DOWN", "RISING", "up-hook", "UP"],
        &d,
    );

    // Disabled: at once, whatever the check says; the addresses go.
    fs::write(work.path().join("disabled"), "").unwrap();
    expect_routes(&bird, &disabled, &d, "disabled");
    wait_addresses(&[], &d);

    // Enabled again: init, then up again after `rise` checks.
    fs::remove_file(work.path().join("disabled")).unwrap();
    expect_routes(&bird, &up, &d, "up again");
    wait_addresses(&["203.0.113.10/32 lo:web", "203.0.113.11/32 lo:web"], &d);
    wait_hooks(
        work.path(),
        &[
            "FALLING",
            "down-hook",
            "DOWN",
            "RISING",
            "up-hook",
            "UP",
            "disabled-hook",
            "DISABLED",
            "INIT",
            "RISING",
            "up-hook",
            "UP",
        ],
        &d,
    );

    // Stopped: the addresses are removed.
    assert!(d.stop().is_some_and(|s| s.success()), "{}", d.log());
    assert_eq!(service_addresses(), Vec::<String>::new());
    assert_clean(&d);
}

/// `ip-setup static` (healthcheck.py's default): the address is there from the start, stays
/// while the route is withdrawn (`on-down withdraw`, `--withdraw-on-down`), and goes at exit.
/// A daemon that gives up root (`--user`) refuses to start such a check, saying why.
#[test]
fn static_addresses_withdraw_on_down_and_unprivileged_refusal() {
    if rerun_in_namespace(
        "static_addresses_withdraw_on_down_and_unprivileged_refusal",
        2,
    ) {
        return;
    }
    let bird = bird(65001);
    let work = tempfile::tempdir().unwrap();
    let w = work.path().display().to_string();
    let config = format!(
        r#"healthcheck svc {{
    command "test -e {w}/up"; interval 0.3; fast-interval 0.1; rise 1; fall 1;
    route 203.0.113.20/32 next-hop 192.0.2.7 med 5;
    on-down withdraw;
    ip-setup static; label svc;
}}
{}"#,
        neighbor(65001, "")
    );
    let mut d = Bgpinject::start(BIN, &config, "debug");
    bird.wait_established("inj", TIMEOUT);
    wait_addresses(&["203.0.113.20/32 lo:svc"], &d);
    assert!(
        wait_for(TIMEOUT, || d
            .log()
            .contains("healthcheck svc: down after check")
            .then_some(()))
        .is_some(),
        "{}",
        d.log()
    );
    assert_eq!(routes(&bird), Vec::<ReceivedRoute>::new());
    fs::write(work.path().join("up"), "").unwrap();
    expect_routes(
        &bird,
        &[route("203.0.113.20/32", 5, &[65000], &[])],
        &d,
        "up",
    );
    fs::remove_file(work.path().join("up")).unwrap();
    expect_routes(&bird, &[], &d, "withdrawn when down");
    assert_eq!(service_addresses(), ["203.0.113.20/32 lo:svc"]);
    assert!(d.stop().is_some_and(|s| s.success()), "{}", d.log());
    assert_eq!(service_addresses(), Vec::<String>::new());
    assert_clean(&d);

    // Unprivileged: no silent start without the address.
    let mut d = Bgpinject::start_with_args(BIN, &config, "info", &["--user", "nobody"]);
    let status = wait_for(TIMEOUT, || d.exited()).expect("bgpinject --user exits");
    assert!(!status.success(), "{}", d.log());
    assert!(
        d.log()
            .contains("healthcheck svc: ip-setup needs CAP_NET_ADMIN"),
        "{}",
        d.log()
    );
    assert_eq!(service_addresses(), Vec::<String>::new());
}

/// Hostile checks and hooks: a check printing 100 MB, a check that hangs, hooks that hang,
/// flood their output or leave a child behind, and a disable file that is a FIFO. None of
/// them delays a transition or the session.
#[test]
fn hostile_checks_hooks_and_fifo_disable_file() {
    if rerun_in_namespace("hostile_checks_hooks_and_fifo_disable_file", 3) {
        return;
    }
    let bird = bird(65001);
    let work = tempfile::tempdir().unwrap();
    let w = work.path().display().to_string();
    let config = format!(
        r#"healthcheck loud {{
    command "head -c 100000000 /dev/zero; test -e {w}/up"; interval 0.3; fast-interval 0.1;
    timeout 3; rise 1; fall 1;
    disable-file {w}/fifo;
    route 203.0.113.30/32 next-hop 192.0.2.7 med 1;
    on-down withdraw;
    execute "sleep 20 & echo $STATE >> {w}/hooks";
    up-execute "sleep 1000";
    down-execute "yes";
    hook-timeout 1;
}}
healthcheck hang {{
    command "sleep 1000"; timeout 1; interval 0.3; fast-interval 0.1; rise 1; fall 1;
    route 203.0.113.31/32 next-hop 192.0.2.7 med 2;
    on-down {{ med 999; }}
}}
{}"#,
        neighbor(65001, "")
    );
    let d = Bgpinject::start(BIN, &config, "debug");
    bird.wait_established("inj", TIMEOUT);
    // The hanging check is killed after its timeout: down.
    expect_routes(
        &bird,
        &[route("203.0.113.31/32", 999, &[65000], &[])],
        &d,
        "hang down",
    );
    let killed = wait_for(TIMEOUT, || {
        d.log()
            .contains("healthcheck hang: command still running after")
            .then_some(())
    });
    assert!(killed.is_some(), "{}", d.log());

    let both = |loud: bool| {
        let mut v = Vec::new();
        if loud {
            v.push(route("203.0.113.30/32", 1, &[65000], &[]));
        }
        v.push(route("203.0.113.31/32", 999, &[65000], &[]));
        v
    };
    fs::write(work.path().join("up"), "").unwrap();
    expect_routes(&bird, &both(true), &d, "up despite 100 MB of output");

    // A FIFO as the disable file: it exists, so the check is disabled; nothing opens it.
    let fifo = work.path().join("fifo");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    expect_routes(&bird, &both(false), &d, "disabled by a FIFO");
    fs::remove_file(&fifo).unwrap();
    expect_routes(&bird, &both(true), &d, "up again");

    // Every transition's `execute` hook ran although the ones before hung or flooded.
    let want = ["DOWN", "UP", "DISABLED", "INIT", "UP"];
    let got = wait_for(TIMEOUT, || {
        let got = hook_lines(work.path());
        (got == want).then_some(got)
    });
    assert!(got.is_some(), "{:?}\n{}", hook_lines(work.path()), d.log());
    let log = d.log();
    assert!(
        log.contains("healthcheck loud: hook for UP (sleep 1000) still running after"),
        "{log}"
    );
    assert!(
        log.contains("healthcheck loud: hook for DOWN (yes) still running after"),
        "{log}"
    );
    assert_clean(&d);
}
