//! Helpers that misbehave keep running and cost bounded memory and log: a byte that is not
//! UTF-8, a 1 GiB line without newline, a million garbage lines. Each bad line is answered
//! `error`; the helper is neither killed nor restarted, and its good lines still apply.
//! The neighbor never connects (a closed port): routes are read with `show adj-rib out`.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_bgpinject");

struct Injector {
    child: Child,
    socket: PathBuf,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Injector {
    fn start(helper: &str) -> Injector {
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("helper.py");
        fs::write(&script, helper).unwrap();
        fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).unwrap();
        let conf = dir.path().join("bgpinject.conf");
        fs::write(
            &conf,
            format!(
                "process bad {{ run /usr/bin/python3 {}; }}
neighbor 127.0.16.5 {{ router-id 192.0.2.10; local-address 127.0.16.13; local-as 65000; peer-as 65001; connect 17919; api {{ processes [ bad ]; }} }}
",
                script.display()
            ),
        )
        .unwrap();
        let socket = dir.path().join("ctl.sock");
        let log = dir.path().join("bgpinject.log");
        let out = fs::File::create(&log).unwrap();
        let child = Command::new(BIN)
            .args(["--log-level", "info", "--control"])
            .arg(&socket)
            .arg(&conf)
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .unwrap();
        Injector {
            child,
            socket,
            log,
            _dir: dir,
        }
    }

    fn routes(&self) -> String {
        let out = Command::new(BIN)
            .args(["ctl", "--socket"])
            .arg(&self.socket)
            .args(["show", "adj-rib", "out"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn log(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Peak resident set (VmHWM), in MB.
    fn peak_rss_mb(&self) -> u64 {
        let status = fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
            .map_or(0, |kb| kb / 1024)
    }

    /// Waits (bounded) until `show adj-rib out` lists `prefix`.
    fn wait_route(&self, prefix: &str, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if self.routes().contains(&format!(" {prefix} ")) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        false
    }
}

impl Drop for Injector {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
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
    let inj = Injector::start(&helper);
    assert!(
        inj.wait_route("10.0.1.0/24", Duration::from_secs(15)),
        "{}\n{}",
        inj.routes(),
        inj.log()
    );
    assert!(!inj.routes().contains("10.0.0.0/24"), "{}", inj.routes());
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
    let inj = Injector::start(helper);
    assert!(
        inj.wait_route("10.0.3.0/24", Duration::from_secs(120)),
        "{}\n{}",
        inj.routes(),
        inj.log().chars().take(5000).collect::<String>()
    );
    assert!(inj.routes().contains(" 10.0.2.0/24 "), "{}", inj.routes());
    let rss = inj.peak_rss_mb();
    let log_len = fs::metadata(&inj.log).map(|m| m.len()).unwrap_or(0);
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
