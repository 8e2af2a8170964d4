//! Helpers that misbehave keep running and cost bounded memory and log: a byte that is not
//! UTF-8, a 1 GiB line without newline, a million garbage lines. Each bad line is answered
//! `error`; the helper is neither killed nor restarted, and its good lines still apply.
//! The neighbor never connects (a closed port): routes are read with `show adj-rib out`.

mod harness;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::{Duration, Instant};

use harness::controlled::Controlled;

/// bgpinject with `helper` (a Python program) as the helper of a neighbor that never connects.
fn start(helper: &str) -> Controlled {
    Controlled::start("info", |dir| {
        let script = dir.join("helper.py");
        fs::write(&script, helper).unwrap();
        fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).unwrap();
        format!(
            "process bad {{ run /usr/bin/python3 {}; }}
neighbor 127.0.16.5 {{ router-id 192.0.2.10; local-address 127.0.16.13; local-as 65000; peer-as 65001; connect 17919; api {{ processes [ bad ]; }} }}
",
            script.display()
        )
    })
}

fn routes(inj: &Controlled) -> String {
    inj.ctl("show adj-rib out")
}

/// Peak resident set (VmHWM) of the process, in MB.
fn peak_rss_mb(pid: i32) -> u64 {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
        .map_or(0, |kb| kb / 1024)
}

fn acks(dir_file: &Path) -> String {
    fs::read_to_string(dir_file).unwrap_or_default()
}

#[test]
fn a_byte_that_is_not_utf8_is_answered_error_and_the_helper_stays() {
    let dir = tempfile::tempdir().unwrap();
    let replies = dir.path().join("replies");
    let helper = format!(
        "import sys
out = sys.stdout.buffer
out.write(b'announce route 10.0.0.0/24 next-hop 192.0.2.1 \\xff\\n')
out.write(b'announce route 10.0.1.0/24 next-hop 192.0.2.1\\n')
out.flush()
with open('{}', 'w') as f:
    for line in sys.stdin:
        f.write(line)
        f.flush()
",
        replies.display()
    );
    let inj = start(&helper);
    assert!(
        inj.wait_route("10.0.1.0/24", Duration::from_secs(15)),
        "{}\n{}",
        routes(&inj),
        inj.log()
    );
    assert!(!routes(&inj).contains("10.0.0.0/24"), "{}", routes(&inj));
    let deadline = Instant::now() + Duration::from_secs(5);
    while !acks(&replies).contains("done") && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    let replies: Vec<String> = acks(&replies)
        .lines()
        .filter(|l| *l == "done" || *l == "error")
        .map(String::from)
        .collect();
    assert_eq!(replies, ["error", "done"], "{}", inj.log());
    let log = inj.log();
    assert!(log.contains("not UTF-8"), "{log}");
    assert_eq!(
        log.matches("process bad: started").count(),
        1,
        "restarted:\n{log}"
    );
    assert!(!log.contains("ended"), "{log}");
}

#[test]
fn a_huge_line_and_a_million_garbage_lines_cost_bounded_memory_and_log() {
    // 1 GiB without newline, then a route; a million lines that are no command, then a route.
    let helper = "import sys, time
out = sys.stdout.buffer
chunk = b'x' * (1 << 20)
for _ in range(1024):
    out.write(chunk)
out.write(b'\\nannounce route 10.0.2.0/24 next-hop 192.0.2.1\\n')
garbage = b'frobnicate the router\\n' * 1000
for _ in range(1000):
    out.write(garbage)
out.write(b'announce route 10.0.3.0/24 next-hop 192.0.2.1\\n')
out.flush()
for line in sys.stdin:
    pass
";
    let inj = start(helper);
    assert!(
        inj.wait_route("10.0.3.0/24", Duration::from_secs(120)),
        "{}\n{}",
        routes(&inj),
        inj.log().chars().take(5000).collect::<String>()
    );
    assert!(routes(&inj).contains(" 10.0.2.0/24 "), "{}", routes(&inj));
    let rss = peak_rss_mb(inj.pid());
    let log_len = fs::metadata(&inj.log_file).map(|m| m.len()).unwrap_or(0);
    println!("peak RSS {rss} MB, log {log_len} octets");
    assert!(rss < 100, "peak RSS {rss} MB");
    assert!(log_len < 10 << 20, "log of {log_len} octets");
    let log = inj.log();
    assert!(
        log.contains("longer than 65536 octets"),
        "{}",
        &log[..log.len().min(3000)]
    );
    assert!(
        log.contains("more commands refused in the last second"),
        "{}",
        &log[..log.len().min(3000)]
    );
    assert_eq!(log.matches("process bad: started").count(), 1, "restarted");
}
