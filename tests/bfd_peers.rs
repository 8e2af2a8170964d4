//! BFD against BIRD's and FRR's BFD, over a veth pair between two network namespaces the
//! test creates: single-hop BFD needs a directly connected peer, and each side listens on
//! UDP 3784 of every address, so bgpinject and the peer cannot share one namespace.
//!
//! The test process re-runs itself in a namespace of its own (the peer's side, created by
//! `unshare`, gone with the process) and creates a named one for bgpinject (deleted on
//! drop), joined by a veth pair: bgpinject 198.18.24.1, the peer 198.18.24.2 (RFC 2544
//! benchmarking addresses, inside the test's namespaces only).
//!
//! What is shown, with BFD at 100 ms x 3 and a BGP hold time of 90 s:
//! - the BFD session comes up on both sides and the route reaches the peer;
//! - bgpinject killed with SIGKILL: the peer's route is gone within the detection time (the
//!   measured time is printed and must be under 1 s), not after the hold time;
//! - the peer's BFD stops (its process is stopped with SIGSTOP, or FRR's bfdd is killed):
//!   bgpinject takes the BGP session down with Cease / BFD Down and logs why.

mod harness;

use std::net::Ipv4Addr;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use harness::bgpinject::Bgpinject;
use harness::bird::{BgpProtocol, Bird, BirdBuilder};
use harness::daemon::Daemon;
use harness::{ensure_installed, wait_for};

const BIN: &str = env!("CARGO_BIN_EXE_bgpinject");
const OURS: Ipv4Addr = Ipv4Addr::new(198, 18, 24, 1);
const PEER: Ipv4Addr = Ipv4Addr::new(198, 18, 24, 2);
const PEER_PORT: u16 = 18000;
const OUR_PORT: u16 = 18001;
const ROUTE: &str = "203.0.113.0/24";
const OURS6: &str = "fd00:24::1";
const PEER6: &str = "fd00:24::2";
const ROUTE6: &str = "2001:db8:24::/48";
/// The whole point: well under BGP's hold time.
const DETECTION_LIMIT: Duration = Duration::from_secs(1);

/// Re-runs `name` in a network namespace of its own (see the module doc); `true` in the
/// outer process, whose work is then done.
fn rerun_in_namespace(name: &str) -> bool {
    if std::env::var_os("BGPINJECT_BFD_NETNS").is_some() {
        return false;
    }
    let status = Command::new("unshare")
        .args([
            "-n",
            "--",
            "sh",
            "-c",
            "ip link set lo up && exec \"$0\" --exact \"$1\" --nocapture --test-threads=1",
        ])
        .arg(std::env::current_exe().unwrap())
        .arg(name)
        .env("BGPINJECT_BFD_NETNS", "1")
        .status()
        .expect("run unshare");
    assert!(
        status.success(),
        "{name} in its network namespace: {status}"
    );
    true
}

fn ip(args: &[&str]) {
    let out = Command::new("ip").args(args).output().expect("run ip");
    assert!(
        out.status.success(),
        "ip {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// bgpinject's namespace, joined to ours by a veth pair; deleted on drop.
struct Namespace {
    name: String,
    dir: tempfile::TempDir,
}

impl Namespace {
    fn create() -> Namespace {
        let name = format!("bgpinject-bfd-{}", std::process::id());
        ip(&["netns", "add", &name]);
        let ns = Namespace {
            name,
            dir: tempfile::tempdir().expect("temp dir"),
        };
        ip(&[
            "link", "add", "bfd-peer", "type", "veth", "peer", "name", "bfd-ours", "netns",
            &ns.name,
        ]);
        ip(&["addr", "add", &format!("{PEER}/24"), "dev", "bfd-peer"]);
        ip(&[
            "addr",
            "add",
            &format!("{PEER6}/64"),
            "dev",
            "bfd-peer",
            "nodad",
        ]);
        ip(&["link", "set", "bfd-peer", "up"]);
        for args in [
            vec!["link", "set", "lo", "up"],
            vec!["addr", "add", "198.18.24.1/24", "dev", "bfd-ours"],
            vec!["addr", "add", "fd00:24::1/64", "dev", "bfd-ours", "nodad"],
            vec!["link", "set", "bfd-ours", "up"],
        ] {
            let mut full = vec!["netns", "exec", &ns.name, "ip"];
            full.extend(args);
            ip(&full);
        }
        ns
    }

    /// A script that runs bgpinject in the namespace (`ip netns exec` execs it, so the pid
    /// the harness holds is bgpinject's).
    fn bgpinject_launcher(&self) -> PathBuf {
        let path = self.dir.path().join("bgpinject-in-netns");
        std::fs::write(
            &path,
            format!("#!/bin/sh\nexec ip netns exec {} {BIN} \"$@\"\n", self.name),
        )
        .unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path
    }
}

impl Drop for Namespace {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .status();
    }
}

fn bgpinject_config(peer_as: u32) -> String {
    format!(
        "neighbor {PEER} {{
    router-id {OURS};
    local-address {OURS};
    local-as 65001;
    peer-as {peer_as};
    hold-time 90;
    connect {PEER_PORT};
    bfd {{ min-tx 100; min-rx 100; multiplier 3; }}
    static {{ route {ROUTE} next-hop {OURS}; }}
}}
"
    )
}

fn start_bgpinject(ns: &Namespace, peer_as: u32) -> Bgpinject {
    Bgpinject::start(ns.bgpinject_launcher(), &bgpinject_config(peer_as), "debug")
}

fn wait_log(b: &Bgpinject, what: &str, timeout: Duration) {
    assert!(
        wait_for(timeout, || b.log().contains(what).then_some(())).is_some(),
        "bgpinject did not log '{what}' within {timeout:?}:\n{}",
        b.log()
    );
}

fn kill(pid: u32, signal: libc::c_int) {
    // SAFETY: kill(2) on a process this test started.
    let rc = unsafe { libc::kill(pid as libc::pid_t, signal) };
    assert_eq!(rc, 0, "kill {pid}: {}", std::io::Error::last_os_error());
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Kills bgpinject with SIGKILL, after making its namespace unreachable when `silence` is
/// given (a blackhole route to the peer: the host is gone, its kernel sends nothing, not
/// even a FIN); returns how long the peer kept the route, from the first of the two.
fn kill_and_time(
    b: &mut Bgpinject,
    silence: Option<&Namespace>,
    present: impl FnMut() -> bool,
) -> Duration {
    let pid = b.pid().expect("bgpinject runs");
    let start = Instant::now();
    if let Some(ns) = silence {
        ip(&[
            "netns",
            "exec",
            &ns.name,
            "ip",
            "route",
            "add",
            "blackhole",
            &format!("{PEER}/32"),
        ]);
    }
    kill(pid, libc::SIGKILL);
    let gone = time_until_gone(start, Duration::from_secs(10), present);
    b.stop();
    if let Some(ns) = silence {
        ip(&[
            "netns",
            "exec",
            &ns.name,
            "ip",
            "route",
            "del",
            "blackhole",
            &format!("{PEER}/32"),
        ]);
    }
    gone
}

/// Polls `present` every 10 ms from `since` until it says the route is gone; the time taken.
fn time_until_gone(since: Instant, limit: Duration, mut present: impl FnMut() -> bool) -> Duration {
    while since.elapsed() < limit {
        if !present() {
            return since.elapsed();
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    since.elapsed()
}

// ---------------------------------------------------------------- BIRD

fn start_bird() -> Bird {
    ensure_installed("bird2", "bird");
    BirdBuilder::new(&PEER.to_string(), &PEER.to_string(), PEER_PORT)
        .extra(
            "protocol bfd bfd1 {\n    interface \"*\" { min rx interval 100 ms; min tx interval 100 ms; multiplier 3; };\n}",
        )
        .bgp(
            BgpProtocol::new("inj", &OURS.to_string(), OUR_PORT, 65002, 65001)
                .passive(true)
                .multihop(false)
                // BIRD waits "error wait time" (60 s at first) after a session error
                // before it accepts a connection again: short here, for the reconnection.
                .extra("    bfd on;\n    error wait time 1, 2;\n"),
        )
        .start()
}

fn bird_has_route(bird: &Bird) -> bool {
    bird.birdc(&["show", "route", "table", "master4", "for", ROUTE])
        .is_some_and(|out| out.contains("203.0.113.0/24"))
}

fn bird_bfd_up(bird: &Bird) -> bool {
    bird.birdc(&["show", "bfd", "sessions"]).is_some_and(|out| {
        out.lines()
            .any(|l| l.contains(&OURS.to_string()) && l.contains("Up"))
    })
}

/// Both sides' BFD Up, BGP established, the route in BIRD.
fn bird_session_up(bird: &Bird, b: &Bgpinject) {
    bird.wait_established("inj", Duration::from_secs(30));
    wait_log(b, "BFD session up", Duration::from_secs(15));
    assert!(
        wait_for(Duration::from_secs(10), || bird_bfd_up(bird).then_some(())).is_some(),
        "BIRD's BFD session is not Up: {:?}\n{}",
        bird.birdc(&["show", "bfd", "sessions"]),
        bird.log_text()
    );
    assert!(
        wait_for(Duration::from_secs(10), || bird_has_route(bird)
            .then_some(()))
        .is_some(),
        "the route did not reach BIRD: {:?}",
        bird.birdc(&["show", "route", "all"])
    );
}

#[test]
fn bird_drops_the_route_within_the_bfd_detection_time_when_bgpinject_is_killed() {
    if rerun_in_namespace(
        "bird_drops_the_route_within_the_bfd_detection_time_when_bgpinject_is_killed",
    ) {
        return;
    }
    let ns = Namespace::create();
    let bird = start_bird();
    let mut b = start_bgpinject(&ns, 65002);
    bird_session_up(&bird, &b);
    b.assert_no_resets(1);
    let plain = kill_and_time(&mut b, None, || bird_has_route(&bird));
    println!(
        "BIRD: route withdrawn {:.0} ms after SIGKILL of bgpinject (the kernel closed its TCP connection)",
        ms(plain)
    );
    assert!(plain < DETECTION_LIMIT, "{plain:?}:\n{}", bird.log_text());

    // The host dies with it: nothing more leaves bgpinject's namespace, not even the FIN of
    // its TCP connection. Only BFD can tell BIRD now.
    let mut b = start_bgpinject(&ns, 65002);
    bird_session_up(&bird, &b);
    let dead = kill_and_time(&mut b, Some(&ns), || bird_has_route(&bird));
    println!(
        "BIRD: route withdrawn {:.0} ms after bgpinject's host went silent (blackhole + SIGKILL; BFD 100 ms x 3, hold time 90 s)",
        ms(dead)
    );
    assert!(
        dead < DETECTION_LIMIT,
        "the route stayed {dead:?} after bgpinject's host died:\n{}",
        bird.log_text()
    );
    assert!(
        bird.protocol_info("inj").contains("BFD session down"),
        "BIRD does not say BFD took the session down:\n{}",
        bird.protocol_info("inj")
    );

    // The control: without `bfd { }` the same death goes unnoticed for the hold time.
    let no_bfd =
        bgpinject_config(65002).replace("    bfd { min-tx 100; min-rx 100; multiplier 3; }\n", "");
    assert!(!no_bfd.contains("bfd"));
    let mut b = Bgpinject::start(ns.bgpinject_launcher(), &no_bfd, "debug");
    bird.wait_established("inj", Duration::from_secs(30));
    assert!(
        wait_for(Duration::from_secs(10), || bird_has_route(&bird)
            .then_some(()))
        .is_some(),
        "the route did not reach BIRD without BFD"
    );
    let pid = b.pid().expect("bgpinject runs");
    let blackhole = format!("{PEER}/32");
    ip(&[
        "netns",
        "exec",
        &ns.name,
        "ip",
        "route",
        "add",
        "blackhole",
        &blackhole,
    ]);
    kill(pid, libc::SIGKILL);
    std::thread::sleep(3 * DETECTION_LIMIT);
    let still = bird_has_route(&bird);
    ip(&[
        "netns",
        "exec",
        &ns.name,
        "ip",
        "route",
        "del",
        "blackhole",
        &blackhole,
    ]);
    b.stop();
    println!(
        "BIRD without BFD: route {} {} s after bgpinject's host went silent",
        if still { "still there" } else { "gone" },
        3 * DETECTION_LIMIT.as_secs()
    );
    assert!(
        still,
        "without BFD the route went anyway: the measurement above proves nothing"
    );
}

#[test]
fn bgpinject_takes_the_session_down_when_birds_bfd_stops() {
    if rerun_in_namespace("bgpinject_takes_the_session_down_when_birds_bfd_stops") {
        return;
    }
    let ns = Namespace::create();
    let bird = start_bird();
    let mut b = start_bgpinject(&ns, 65002);
    bird_session_up(&bird, &b);
    b.assert_no_resets(1);

    // BIRD stops answering anything: BFD packets stop, TCP stays open (hold time 90 s).
    let pid: u32 = std::fs::read_to_string(&bird.pid_file)
        .expect("BIRD pid file")
        .trim()
        .parse()
        .expect("BIRD pid");
    let stopped = Instant::now();
    kill(pid, libc::SIGSTOP);
    let logged = wait_for(Duration::from_secs(5), || {
        b.log()
            .contains("BFD session down (control detection time expired): closing the BGP session")
            .then(|| stopped.elapsed())
    });
    kill(pid, libc::SIGCONT);
    let logged = logged.unwrap_or_else(|| panic!("no BFD down in bgpinject's log:\n{}", b.log()));
    println!(
        "bgpinject: BGP session taken down {:.0} ms after BIRD stopped (BFD 100 ms x 3)",
        logged.as_secs_f64() * 1000.0
    );
    assert!(logged < DETECTION_LIMIT, "{logged:?}");
    let log = b.log();
    assert!(
        log.contains("session down: we sent NOTIFICATION 6/10"),
        "no Cease / BFD Down sent:\n{log}"
    );
    // And it comes back once BIRD runs again: BFD and BGP up a second time.
    assert!(
        wait_for(Duration::from_secs(30), || {
            (b.log().matches("BFD session up").count() >= 2
                && b.sessions_established() >= 2
                && bird_has_route(&bird))
            .then_some(())
        })
        .is_some(),
        "the session did not come back:\n{}",
        b.log()
    );
    b.stop();
}

// ------------------------------------------------ BIRD over IPv6, BIRD without BFD

#[test]
fn bird_over_ipv6_drops_the_route_within_the_bfd_detection_time() {
    if rerun_in_namespace("bird_over_ipv6_drops_the_route_within_the_bfd_detection_time") {
        return;
    }
    let ns = Namespace::create();
    let bird = BirdBuilder::new(&PEER.to_string(), PEER6, PEER_PORT)
        .extra(
            "protocol bfd bfd1 {\n    interface \"*\" { min rx interval 100 ms; min tx interval 100 ms; multiplier 3; };\n}",
        )
        .bgp(
            BgpProtocol::new("inj6", OURS6, OUR_PORT, 65002, 65001)
                .passive(true)
                .multihop(false)
                .families(false, true)
                .extra("    bfd on;\n"),
        )
        .start();
    let config = format!(
        "neighbor {PEER6} {{
    router-id {OURS};
    local-address {OURS6};
    local-as 65001;
    peer-as 65002;
    hold-time 90;
    connect {PEER_PORT};
    bfd {{ min-tx 100; min-rx 100; multiplier 3; }}
    static {{ route {ROUTE6} next-hop {OURS6}; }}
}}
"
    );
    let mut b = Bgpinject::start(ns.bgpinject_launcher(), &config, "debug");
    bird.wait_established("inj6", Duration::from_secs(30));
    wait_log(&b, "BFD session up", Duration::from_secs(15));
    let has_route = || {
        bird.birdc(&["show", "route", "table", "master6", "for", ROUTE6])
            .is_some_and(|out| out.contains("2001:db8:24::/48"))
    };
    assert!(
        wait_for(Duration::from_secs(10), || has_route().then_some(())).is_some(),
        "the IPv6 route did not reach BIRD: {:?}",
        bird.birdc(&["show", "route", "all", "table", "master6"])
    );
    b.assert_no_resets(1);
    let pid = b.pid().expect("bgpinject runs");
    let start = Instant::now();
    ip(&[
        "netns",
        "exec",
        &ns.name,
        "ip",
        "-6",
        "route",
        "add",
        "blackhole",
        &format!("{PEER6}/128"),
    ]);
    kill(pid, libc::SIGKILL);
    let dead = time_until_gone(start, Duration::from_secs(10), has_route);
    println!(
        "BIRD (IPv6): route withdrawn {:.0} ms after bgpinject's host went silent (blackhole + SIGKILL; BFD 100 ms x 3, hold time 90 s)",
        ms(dead)
    );
    assert!(dead < DETECTION_LIMIT, "{dead:?}:\n{}", bird.log_text());
    b.stop();
}

/// RFC 5883 multihop (UDP 4784, any TTL): BIRD runs multihop BFD for a multihop session.
#[test]
fn bird_multihop_drops_the_route_within_the_bfd_detection_time() {
    if rerun_in_namespace("bird_multihop_drops_the_route_within_the_bfd_detection_time") {
        return;
    }
    let ns = Namespace::create();
    let bird = BirdBuilder::new(&PEER.to_string(), &PEER.to_string(), PEER_PORT)
        .extra(
            "protocol bfd bfd1 {\n    multihop { min rx interval 100 ms; min tx interval 100 ms; multiplier 3; };\n}",
        )
        .bgp(
            BgpProtocol::new("inj", &OURS.to_string(), OUR_PORT, 65002, 65001)
                .passive(true)
                .multihop(true)
                .extra("    bfd on;\n"),
        )
        .start();
    let config =
        bgpinject_config(65002).replace("multiplier 3; }", "multiplier 3; multihop true; }");
    assert!(config.contains("multihop true"));
    let mut b = Bgpinject::start(ns.bgpinject_launcher(), &config, "debug");
    bird_session_up(&bird, &b);
    assert!(
        b.log().contains("BFD multihop session starting"),
        "{}",
        b.log()
    );
    assert!(
        bird.birdc(&["show", "bfd", "sessions"])
            .is_some_and(|s| s.contains(&OURS.to_string())),
        "BIRD has no BFD session with us"
    );
    b.assert_no_resets(1);
    let dead = kill_and_time(&mut b, Some(&ns), || bird_has_route(&bird));
    println!(
        "BIRD (multihop): route withdrawn {:.0} ms after bgpinject's host went silent (blackhole + SIGKILL; BFD 100 ms x 3, hold time 90 s)",
        ms(dead)
    );
    assert!(dead < DETECTION_LIMIT, "{dead:?}:\n{}", bird.log_text());
}

/// A peer without BFD: BFD never comes up, and that leaves the BGP session alone (routers
/// only act on a BFD session that has been Up).
#[test]
fn a_peer_without_bfd_keeps_its_bgp_session() {
    if rerun_in_namespace("a_peer_without_bfd_keeps_its_bgp_session") {
        return;
    }
    let ns = Namespace::create();
    let bird = BirdBuilder::new(&PEER.to_string(), &PEER.to_string(), PEER_PORT)
        .bgp(
            BgpProtocol::new("inj", &OURS.to_string(), OUR_PORT, 65002, 65001)
                .passive(true)
                .multihop(false),
        )
        .start();
    let mut b = start_bgpinject(&ns, 65002);
    bird.wait_established("inj", Duration::from_secs(30));
    assert!(
        wait_for(Duration::from_secs(10), || bird_has_route(&bird)
            .then_some(()))
        .is_some(),
        "the route did not reach BIRD"
    );
    // Ten detection times of the slow-start timers go by: nothing happens.
    std::thread::sleep(Duration::from_secs(4));
    assert_eq!(bird.protocol_state("inj"), "Established");
    assert!(bird_has_route(&bird));
    let log = b.log();
    assert!(log.contains("BFD single-hop session starting"), "{log}");
    assert!(!log.contains("BFD session up"), "{log}");
    assert!(!log.contains("BFD session down"), "{log}");
    b.assert_no_resets(1);
    b.stop();
}

// ---------------------------------------------------------------- FRR

const FRR_DIR: &str = "/usr/lib/frr";

/// zebra, bfdd and bgpd of FRR, private to this test (their own zserv socket, vty sockets
/// and bfdd control socket in a temp dir): bgpd registers BFD sessions with bfdd through
/// zebra, so all three run.
struct Frr {
    dir: tempfile::TempDir,
    zebra: Daemon,
    bfdd: Daemon,
    bgpd: Daemon,
}

impl Frr {
    fn start() -> Frr {
        ensure_installed("frr", &format!("{FRR_DIR}/bfdd"));
        ensure_installed("frr", "vtysh");
        let dir = tempfile::Builder::new()
            .prefix("frr-bfd-")
            .tempdir()
            .expect("tempdir");
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).ok();
        let d = dir.path();
        let zserv = d.join("zserv.api");
        std::fs::write(d.join("zebra.conf"), "hostname zebra\n").unwrap();
        std::fs::write(
            d.join("bfdd.conf"),
            format!(
                "hostname bfdd\nbfd\n peer {OURS} local-address {PEER}\n  receive-interval 100\n  transmit-interval 100\n  detect-multiplier 3\n exit\nexit\n"
            ),
        )
        .unwrap();
        std::fs::write(
            d.join("bgpd.conf"),
            format!(
                "hostname bgpd\nrouter bgp 65003\n bgp router-id {PEER}\n no bgp ebgp-requires-policy\n no bgp network import-check\n neighbor {OURS} remote-as 65001\n neighbor {OURS} timers 30 90\n neighbor {OURS} bfd\n address-family ipv4 unicast\n  neighbor {OURS} route-map deny-all out\n exit-address-family\nexit\nroute-map deny-all deny 10\nexit\n"
            ),
        )
        .unwrap();
        let common = |cmd: &mut Command, name: &str| {
            // They run as the frr user (the temp dir is world-writable for it).
            cmd.args(["-P", "0", "-z"])
                .arg(&zserv)
                .arg("--vty_socket")
                .arg(d)
                .arg("-i")
                .arg(d.join(format!("{name}.pid")))
                .arg("-f")
                .arg(d.join(format!("{name}.conf")));
        };
        let mut cmd = Command::new(format!("{FRR_DIR}/zebra"));
        common(&mut cmd, "zebra");
        let zebra = Daemon::spawn("zebra", &mut cmd, &d.join("zebra.log"));
        wait_for(Duration::from_secs(10), || zserv.exists().then_some(()))
            .unwrap_or_else(|| panic!("zebra: no zserv socket:\n{}", zebra.log_text()));
        let mut cmd = Command::new(format!("{FRR_DIR}/bfdd"));
        common(&mut cmd, "bfdd");
        cmd.arg("--bfdctl").arg(d.join("bfdd.sock"));
        let bfdd = Daemon::spawn("bfdd", &mut cmd, &d.join("bfdd.log"));
        let mut cmd = Command::new(format!("{FRR_DIR}/bgpd"));
        common(&mut cmd, "bgpd");
        cmd.args(["-l", &PEER.to_string(), "-p", &PEER_PORT.to_string()]);
        let bgpd = Daemon::spawn("bgpd", &mut cmd, &d.join("bgpd.log"));
        let frr = Frr {
            dir,
            zebra,
            bfdd,
            bgpd,
        };
        assert!(
            wait_for(Duration::from_secs(10), || frr
                .vtysh("bgpd", "show bgp summary json"))
            .is_some(),
            "bgpd's vty does not answer:\n{}",
            frr.logs()
        );
        frr
    }

    fn vtysh(&self, daemon: &str, command: &str) -> Option<String> {
        let out = Command::new("vtysh")
            .arg("--vty_socket")
            .arg(self.dir.path())
            .args(["-d", daemon, "-c", command])
            .output()
            .ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    }

    fn logs(&self) -> String {
        format!(
            "--- zebra ---\n{}\n--- bfdd ---\n{}\n--- bgpd ---\n{}",
            self.zebra.log_text(),
            self.bfdd.log_text(),
            self.bgpd.log_text()
        )
    }

    fn established(&self) -> bool {
        self.vtysh("bgpd", &format!("show bgp neighbors {OURS} json"))
            .is_some_and(|out| out.contains("\"bgpState\":\"Established\""))
    }

    fn has_route(&self) -> bool {
        self.vtysh("bgpd", &format!("show bgp ipv4 unicast {ROUTE} json"))
            .is_some_and(|out| out.contains("\"paths\"") && out.contains(&OURS.to_string()))
    }

    fn bfd_up(&self) -> bool {
        self.vtysh("bfdd", "show bfd peers json")
            .is_some_and(|out| {
                serde_json::from_str::<serde_json::Value>(&out)
                    .ok()
                    .and_then(|v| v.as_array().cloned())
                    .is_some_and(|peers| {
                        peers.iter().any(|p| {
                            p.get("peer").and_then(|x| x.as_str()) == Some(&OURS.to_string())
                                && p.get("status").and_then(|x| x.as_str()) == Some("up")
                        })
                    })
            })
    }

    fn session_up(&self, b: &Bgpinject) {
        assert!(
            wait_for(Duration::from_secs(40), || self.established().then_some(())).is_some(),
            "FRR did not establish:\n{}\n{}",
            self.logs(),
            b.log()
        );
        wait_log(b, "BFD session up", Duration::from_secs(15));
        assert!(
            wait_for(Duration::from_secs(10), || self.bfd_up().then_some(())).is_some(),
            "bfdd's session is not up: {:?}\n{}",
            self.vtysh("bfdd", "show bfd peers"),
            self.logs()
        );
        assert!(
            wait_for(Duration::from_secs(10), || self.has_route().then_some(())).is_some(),
            "the route did not reach FRR: {:?}",
            self.vtysh("bgpd", "show bgp ipv4 unicast")
        );
    }
}

fn frr_pid(frr: &Frr, daemon: &str) -> u32 {
    std::fs::read_to_string(frr.dir.path().join(format!("{daemon}.pid")))
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {daemon} pid file"))
}

fn pid_of(d: &Daemon) -> u32 {
    d.pid().expect("daemon runs")
}

#[test]
fn frr_drops_the_route_within_the_bfd_detection_time_when_bgpinject_is_killed() {
    if rerun_in_namespace(
        "frr_drops_the_route_within_the_bfd_detection_time_when_bgpinject_is_killed",
    ) {
        return;
    }
    let ns = Namespace::create();
    let frr = Frr::start();
    let mut b = start_bgpinject(&ns, 65003);
    frr.session_up(&b);
    b.assert_no_resets(1);
    let plain = kill_and_time(&mut b, None, || frr.has_route());
    println!(
        "FRR: route withdrawn {:.0} ms after SIGKILL of bgpinject (the kernel closed its TCP connection)",
        ms(plain)
    );
    assert!(plain < DETECTION_LIMIT, "{plain:?}:\n{}", frr.logs());

    let mut b = start_bgpinject(&ns, 65003);
    frr.session_up(&b);
    let dead = kill_and_time(&mut b, Some(&ns), || frr.has_route());
    println!(
        "FRR: route withdrawn {:.0} ms after bgpinject's host went silent (blackhole + SIGKILL; BFD 100 ms x 3, hold time 90 s)",
        ms(dead)
    );
    assert!(
        dead < DETECTION_LIMIT,
        "the route stayed {dead:?} after bgpinject's host died:\n{}",
        frr.logs()
    );
}

#[test]
fn bgpinject_takes_the_session_down_when_frrs_bfdd_stops() {
    if rerun_in_namespace("bgpinject_takes_the_session_down_when_frrs_bfdd_stops") {
        return;
    }
    let ns = Namespace::create();
    let mut frr = Frr::start();
    let mut b = start_bgpinject(&ns, 65003);
    frr.session_up(&b);
    b.assert_no_resets(1);
    assert_eq!(pid_of(&frr.bfdd), frr_pid(&frr, "bfdd"));

    // bfdd dies: no more BFD packets; bgpd and TCP stay.
    let stopped = Instant::now();
    kill(pid_of(&frr.bfdd), libc::SIGKILL);
    let logged = wait_for(Duration::from_secs(5), || {
        b.log()
            .contains("BFD session down (control detection time expired): closing the BGP session")
            .then(|| stopped.elapsed())
    })
    .unwrap_or_else(|| panic!("no BFD down in bgpinject's log:\n{}", b.log()));
    println!(
        "bgpinject: BGP session taken down {:.0} ms after FRR's bfdd died (BFD 100 ms x 3)",
        logged.as_secs_f64() * 1000.0
    );
    assert!(logged < DETECTION_LIMIT, "{logged:?}");
    assert!(
        b.log().contains("session down: we sent NOTIFICATION 6/10"),
        "no Cease / BFD Down sent:\n{}",
        b.log()
    );
    frr.bfdd.stop();
    b.stop();
}
