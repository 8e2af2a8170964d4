//! Graceful restart with dynamic routes (issue 20, ExaBGP #328): BIRD keeps bgpinject's
//! routes as stale while it restarts; with `state-file` and the End-of-RIB gate, a health
//! checked anycast route and a helper's route are announced again before End-of-RIB, so
//! BIRD's route count never drops, and End-of-RIB arrives after both routes (BIRD's own
//! protocol trace). Then the state file is attacked: each hostile file gives one log line
//! and a clean start.
//!
//! Loopback 127.0.28.0/24, ports 18060-18079. Run under the interop lock:
//! `flock /tmp/bgpinject-interop.lock cargo test --test gr_restart_bird -- --test-threads=1`

mod harness;

use std::fs;
use std::time::{Duration, Instant};

use harness::bgpinject::Bgpinject;
use harness::bird::{BgpProtocol, Bird, BirdBuilder};

const BIN: &str = env!("CARGO_BIN_EXE_bgpinject");
const FILE_ROUTE: &str = "203.0.113.10/32";
const CHECK_ROUTE: &str = "192.0.2.53/32";
const HELPER_ROUTE: &str = "198.51.100.7/32";

fn config(dir: &str, port: u16, bird: &str, local: &str) -> String {
    format!(
        r#"state-file "{dir}/bgpinject.state";
process anycast {{
    run {dir}/helper.sh;
}}
healthcheck dns {{
    command "true";
    interval 1; rise 3; fall 2;
    route {CHECK_ROUTE} next-hop 192.0.2.10;
}}
neighbor {bird} {{
    router-id 192.0.2.10; local-address {local}; local-as 65000; peer-as 65001;
    connect {port};
    graceful-restart 60;
    eor-wait 20;
    api {{ processes [ anycast ]; }}
    static {{ route {FILE_ROUTE} next-hop 192.0.2.10; }}
}}
"#
    )
}

/// Announces its route 2 s after it starts, then says `ready`: End-of-RIB must wait for it.
const HELPER: &str = "#!/bin/sh
sleep 2
echo \"announce route 198.51.100.7/32 next-hop 192.0.2.10\"
echo ready
exec cat >/dev/null
";

fn count(bird: &Bird) -> usize {
    bird.birdc(&["show", "route", "count", "table", "master4"])
        .and_then(|t| {
            t.lines()
                .find_map(|l| l.split_whitespace().next()?.parse::<usize>().ok())
        })
        .unwrap_or(0)
}

fn prefixes(bird: &Bird) -> Vec<String> {
    let mut p: Vec<String> = bird
        .routes("master4")
        .into_iter()
        .map(|r| r.prefix)
        .collect();
    p.sort();
    p
}

fn start_bird(listen: &str, port: u16, peer: &str) -> Bird {
    let protocol = BgpProtocol::new("gr", peer, 179, 65001, 65000)
        .graceful_restart(true)
        .extra("    debug { events, packets, routes };\n");
    BirdBuilder::new("192.0.2.1", listen, port)
        .bgp(protocol.passive(true))
        .start()
}

#[test]
fn restart_with_state_file_withdraws_nothing_and_end_of_rib_follows_both_routes() {
    let (bird_addr, our_addr, port) = ("127.0.28.1", "127.0.28.2", 18060);
    let bird = start_bird(bird_addr, port, our_addr);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap().to_string();
    let helper = dir.path().join("helper.sh");
    fs::write(&helper, HELPER).unwrap();
    fs::set_permissions(&helper, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let conf = config(&d, port, bird_addr, our_addr);

    let mut first = Bgpinject::start(BIN, &conf, "info");
    bird.wait_established("gr", Duration::from_secs(30));
    let all = [CHECK_ROUTE, HELPER_ROUTE, FILE_ROUTE];
    let deadline = Instant::now() + Duration::from_secs(30);
    while prefixes(&bird) != all && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(prefixes(&bird), all, "{}", first.log());
    assert!(bird.protocol_info("gr").contains("Graceful restart"));
    // Wait for the journal (written at most once a second) to hold the check's state.
    std::thread::sleep(Duration::from_millis(1500));
    let before = count(&bird);
    assert_eq!(before, 3);

    first.stop();
    assert!(
        first
            .log()
            .contains("closed without NOTIFICATION for graceful restart"),
        "{}",
        first.log()
    );
    let journal = fs::read_to_string(dir.path().join("bgpinject.state")).unwrap();
    assert!(journal.contains("check dns up"), "{journal}");
    assert!(journal.contains(HELPER_ROUTE), "{journal}");
    let bird_log = || fs::read_to_string(bird.dir().join("bird.log")).unwrap_or_default();
    let bird_log_mark = bird_log().len();

    // The second run: sampled every 100 ms from start until 8 s after the session is back
    // (past the helper's 2 s and the check's rise of 3 s).
    let second = Bgpinject::start(BIN, &conf, "info");
    let mut samples = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(40);
    let mut back_at: Option<Instant> = None;
    while Instant::now() < deadline {
        samples.push(count(&bird));
        if back_at.is_none() && bird.protocol_state("gr") == "Established" {
            back_at = Some(Instant::now());
        }
        if back_at.is_some_and(|t| t.elapsed() > Duration::from_secs(8)) {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(back_at.is_some(), "session not back: {}", second.log());
    let min = samples.iter().copied().min().unwrap_or(0);
    println!(
        "route count before restart {before}, {} samples, minimum {min}",
        samples.len()
    );
    assert!(
        samples.iter().all(|&c| c >= before),
        "BIRD's route count dropped during the restart: {samples:?}\n{}",
        second.log()
    );
    assert_eq!(prefixes(&bird), all);

    // BIRD's trace: End-of-RIB arrived, after the UPDATEs carrying both dynamic routes.
    let log = bird_log();
    let after = log.get(bird_log_mark..).unwrap_or_default();
    let eor = after
        .find("Got END-OF-RIB")
        .unwrap_or_else(|| panic!("no End-of-RIB in BIRD's log:\n{after}"));
    for route in [CHECK_ROUTE, HELPER_ROUTE] {
        let at = after
            .find(route)
            .unwrap_or_else(|| panic!("{route} not received again:\n{after}"));
        assert!(at < eor, "End-of-RIB before {route}:\n{after}");
    }
    let inj_log = second.log();
    assert!(inj_log.contains("End-of-RIB held"), "{inj_log}");
    assert!(
        !inj_log.contains("although not every helper"),
        "the gate timed out instead of opening: {inj_log}"
    );
    second.assert_no_resets(1);
}

/// Each hostile state file: one log line naming the file and the reason, and bgpinject
/// runs (the session comes up with the file's route).
#[test]
fn hostile_state_files_are_refused_with_a_clean_start() {
    let (bird_addr, our_addr, port) = ("127.0.28.3", "127.0.28.4", 18061);
    let bird = start_bird(bird_addr, port, our_addr);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap().to_string();
    fs::write(
        dir.path().join("helper.sh"),
        "#!/bin/sh\nexec cat >/dev/null\n",
    )
    .unwrap();
    fs::set_permissions(
        dir.path().join("helper.sh"),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let conf = config(&d, port, bird_addr, our_addr);
    let state = dir.path().join("bgpinject.state");
    let good = format!(
        "bgpinject-state 1\nroute {bird_addr} process:anycast {HELPER_ROUTE} next-hop 192.0.2.10\nend 1\n"
    );
    type Make = Box<dyn Fn(&std::path::Path)>;
    let cases: Vec<(&str, Make, &str)> = vec![
        (
            "truncated",
            Box::new({
                let good = good.clone();
                move |p| fs::write(p, &good[..good.len() - 4]).unwrap()
            }),
            "truncated",
        ),
        (
            "directory",
            Box::new(|p| fs::create_dir(p).unwrap()),
            "not a regular file",
        ),
        (
            "symlink to /etc/shadow",
            Box::new(|p| std::os::unix::fs::symlink("/etc/shadow", p).unwrap()),
            "not a regular file",
        ),
        (
            "1 GB",
            Box::new(|p| {
                let f = fs::File::create(p).unwrap();
                f.set_len(1 << 30).unwrap();
            }),
            "more than",
        ),
        (
            "garbage",
            Box::new(|p| fs::write(p, b"\x00\xff\xfe garbage\nroute\n").unwrap()),
            "refused",
        ),
    ];
    for (what, make, why) in cases {
        let _ = fs::remove_dir_all(&state);
        let _ = fs::remove_file(&state);
        make(&state);
        let shadow_before = fs::read("/etc/shadow").ok();
        let mut inj = Bgpinject::start(BIN, &conf, "info");
        bird.wait_established("gr", Duration::from_secs(30));
        let deadline = Instant::now() + Duration::from_secs(20);
        while !prefixes(&bird).contains(&FILE_ROUTE.to_string()) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(100));
        }
        assert!(
            prefixes(&bird).contains(&FILE_ROUTE.to_string()),
            "{what}: no clean start\n{}",
            inj.log()
        );
        let log = inj.log();
        let line = log
            .lines()
            .find(|l| l.contains("state file") && l.contains("refused, starting without it"))
            .unwrap_or_else(|| panic!("{what}: no refusal logged\n{log}"));
        assert!(line.contains(why), "{what}: {line}");
        assert!(
            !prefixes(&bird).contains(&HELPER_ROUTE.to_string()),
            "{what}: a route of the refused file was announced"
        );
        println!("{what}: {line}");
        inj.stop();
        assert_eq!(fs::read("/etc/shadow").ok(), shadow_before, "{what}");
        if what == "symlink to /etc/shadow" {
            // Written at shutdown: the link replaced by a file, its target untouched.
            assert!(
                fs::symlink_metadata(&state)
                    .map(|m| m.file_type().is_file())
                    .unwrap_or(true)
            );
        }
        // Let BIRD see the session go (GR: it keeps routes as stale until its timer).
        std::thread::sleep(Duration::from_millis(300));
    }
}
