//! Helper generations: a helper replaced by a reload cannot touch the routes of its successor
//! (late output ignored, its exit withdraws nothing of the new one), one that ignores SIGTERM
//! gets SIGKILL after the grace period, a helper unmapped from a neighbor has its routes
//! withdrawn there, and `ctl withdraw` of a helper's route says whose it is. The neighbor
//! never connects: routes are read with `show adj-rib out`.

mod harness;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::{Duration, Instant};

use harness::controlled::Controlled;

/// Ignores SIGTERM, announces A, and 3 s after being told to shut down announces C and exits.
const OLD: &str = "#!/bin/sh
trap '' TERM
echo $$ > \"$(dirname \"$0\")/old.pid\"
echo 'announce route 10.1.0.0/24 next-hop 192.0.2.1'
while read line; do
  case \"$line\" in *shutdown*) sleep 3; echo 'announce route 10.3.0.0/24 next-hop 192.0.2.1'; exit 0;; esac
done
sleep 3
echo 'announce route 10.3.0.0/24 next-hop 192.0.2.1'
";

const NEW: &str = "#!/bin/sh
echo 'announce route 10.2.0.0/24 next-hop 192.0.2.1'
cat >/dev/null
";

fn config(run: &str, mapped: bool) -> String {
    let api = if mapped {
        "api { processes [ h ]; }"
    } else {
        ""
    };
    format!(
        "process h {{ run {run}; on-exit withdraw; }}
neighbor 127.0.16.7 {{ router-id 192.0.2.10; local-address 127.0.16.18; local-as 65000; peer-as 65001; connect 17925; {api} }}
"
    )
}

fn script(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    fs::write(&p, text).unwrap();
    fs::set_permissions(&p, fs::Permissions::from_mode(0o755)).unwrap();
    p.display().to_string()
}

/// The prefixes of `show adj-rib out`, sorted: what the neighbor is told to announce.
fn table(d: &Controlled) -> Vec<String> {
    let mut v: Vec<String> = d
        .ctl("show adj-rib out")
        .lines()
        .filter(|l| l.starts_with("neighbor "))
        .filter_map(|l| l.split_whitespace().nth(4).map(str::to_string))
        .collect();
    v.sort();
    v
}

fn has(d: &Controlled, prefix: &str) -> bool {
    table(d).iter().any(|p| p == prefix)
}

fn alive(pid: i32) -> bool {
    // SAFETY: kill(2) with signal 0 only checks that the process exists.
    unsafe { libc::kill(pid, 0) == 0 }
}

#[test]
fn a_replaced_helper_cannot_touch_its_successor_and_is_killed_after_the_grace() {
    let d = Controlled::start("debug", |dir| {
        let old = script(dir, "old.sh", OLD);
        script(dir, "new.sh", NEW);
        config(&old, true)
    });
    assert!(
        d.wait_route("10.1.0.0/24", Duration::from_secs(15)),
        "{}",
        d.log()
    );
    let old_pid: i32 = fs::read_to_string(d.dir.path().join("old.pid"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let new = d.dir.path().join("new.sh").display().to_string();
    fs::write(&d.config, config(&new, true)).unwrap();
    // SAFETY: kill(2) on the pid of the child this test started.
    assert_eq!(unsafe { libc::kill(d.pid(), libc::SIGHUP) }, 0);
    assert!(
        d.wait_route("10.2.0.0/24", Duration::from_secs(15)),
        "{}",
        d.log()
    );
    assert_eq!(
        table(&d),
        ["10.2.0.0/24"],
        "the replaced helper's route stayed\n{}",
        d.log()
    );
    // The old one ignores SIGTERM: killed within the grace (5 s) and a margin.
    let start = Instant::now();
    while alive(old_pid) && start.elapsed() < Duration::from_secs(9) {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(!alive(old_pid), "the old helper still runs\n{}", d.log());
    // Its late announcement and its exit changed nothing.
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(table(&d), ["10.2.0.0/24"], "{}", d.log());

    // ctl cannot withdraw the helper's route, and says whose it is.
    let reply = d.ctl("withdraw route 10.2.0.0/24");
    assert!(
        reply.contains("announced by process h") && reply.trim_end().ends_with("error"),
        "{reply}"
    );
    assert_eq!(table(&d), ["10.2.0.0/24"], "{}", d.log());

    // Unmapped from the neighbor by a reload: its routes go.
    fs::write(&d.config, config(&new, false)).unwrap();
    // SAFETY: as above.
    assert_eq!(unsafe { libc::kill(d.pid(), libc::SIGHUP) }, 0);
    let start = Instant::now();
    while has(&d, "10.2.0.0/24") && start.elapsed() < Duration::from_secs(2) {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(
        table(&d),
        Vec::<String>::new(),
        "unmapped helper's route stayed\n{}",
        d.log()
    );
    d.assert_no_bug();
}

/// A health check removed by a reload while its command runs: the command's late success
/// announces nothing.
#[test]
fn a_health_check_removed_during_its_command_announces_nothing() {
    let neighbor = "neighbor 127.0.16.8 { router-id 192.0.2.10; local-address 127.0.16.19; local-as 65000; peer-as 65001; connect 17926; }\n";
    let with_check = |dir: &Path| {
        format!(
            "healthcheck slow {{ command \"touch {}/ran; sleep 2\"; interval 1; timeout 5; rise 1; fall 1; on-down withdraw; route 10.9.0.0/24 next-hop 192.0.2.1; }}\n{neighbor}",
            dir.display()
        )
    };
    let d = Controlled::start("debug", |dir| with_check(dir));
    // The command is running (it touched its file), and will succeed in about 2 s.
    let ran = d.dir.path().join("ran");
    let start = Instant::now();
    while !ran.exists() && start.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(ran.exists(), "{}", d.log());
    fs::write(&d.config, neighbor).unwrap();
    // SAFETY: kill(2) on the pid of the child this test started.
    assert_eq!(unsafe { libc::kill(d.pid(), libc::SIGHUP) }, 0);
    // Well past the command's end: the route never appears.
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(4) {
        assert_eq!(
            table(&d),
            Vec::<String>::new(),
            "a removed check announced\n{}",
            d.log()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    d.assert_no_bug();
}

/// ExaBGP's semantics: a one-shot helper that announces and exits leaves its route announced
/// (the default `on-exit keep`), also while it is started again.
#[test]
fn a_one_shot_helper_leaves_its_route_announced() {
    let d = Controlled::start("info", |dir| {
        let once = script(
            dir,
            "once.sh",
            "#!/bin/sh\necho 'announce route 10.5.0.0/24 next-hop 192.0.2.1'\nsleep 0.2\n",
        );
        format!(
            "process once {{ run {once}; }}
neighbor 127.0.16.10 {{ router-id 192.0.2.10; local-address 127.0.16.21; local-as 65000; peer-as 65001; connect 17928; api {{ processes [ once ]; }} }}
"
        )
    });
    assert!(
        d.wait_route("10.5.0.0/24", Duration::from_secs(15)),
        "{}",
        d.log()
    );
    let start = Instant::now();
    while !d.log().contains("process once: exited") && start.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(d.log().contains("its routes are kept"), "{}", d.log());
    // Through the restart back-off and the next instance: the route never goes.
    let start = Instant::now();
    while start.elapsed() < Duration::from_millis(2500) {
        assert_eq!(table(&d), ["10.5.0.0/24"], "the route went\n{}", d.log());
        std::thread::sleep(Duration::from_millis(100));
    }
    d.assert_no_bug();
}
