//! Daemon conventions from the outside: `--daemon` with `--pid-file`, `--user`, `--log-file`
//! reopened on SIGHUP, `--log-format json`, startup failures reported by the parent's exit
//! code, and usage errors. The neighbor is on loopback and nothing listens for it.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_bgpinject");

fn config(port: u16, extra: &str) -> String {
    format!(
        "neighbor 127.0.3.91 {{ router-id 192.0.2.10; local-address 127.0.3.92; local-as 64510; peer-as 64500; connect {port}; {extra} static {{ route 198.51.100.1/32 next-hop 192.0.2.10; }} }}\n"
    )
}

fn wait_until(timeout: Duration, mut f: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < timeout {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

fn alive(pid: i32) -> bool {
    unsafe { libc::kill(pid, 0) == 0 }
}

fn status_field(pid: i32, field: &str) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(field).map(|v| v.trim().to_string()))
        .unwrap_or_default()
}

fn read_pid(path: &Path) -> i32 {
    std::fs::read_to_string(path)
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

#[test]
fn daemon_writes_the_childs_pid_logs_json_to_a_reopened_file_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("b.conf");
    std::fs::write(&conf, config(18391, "")).unwrap();
    let pid_file = dir.path().join("b.pid");
    let log = dir.path().join("b.log");
    let out = Command::new(BIN)
        .current_dir(dir.path())
        .args(["--daemon", "--log-format", "json", "--log-level", "debug"])
        .args(["--pid-file", "b.pid", "--log-file", "b.log", "b.conf"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let pid = read_pid(&pid_file);
    assert!(alive(pid));
    // A daemon: its own session, working directory /.
    assert_eq!(
        std::fs::read_link(format!("/proc/{pid}/cwd")).unwrap(),
        Path::new("/")
    );
    let sid = unsafe { libc::getsid(pid) };
    assert_eq!(sid, pid, "not a session leader");

    assert!(wait_until(Duration::from_secs(10), || {
        std::fs::read_to_string(&log).is_ok_and(|t| t.contains("\"neighbor\":\"127.0.3.91\""))
    }));
    for line in std::fs::read_to_string(&log).unwrap().lines() {
        let v: serde_json::Value = serde_json::from_str(line).expect(line);
        assert!(v["time"].is_string() && v["level"].is_string() && v["message"].is_string());
    }

    // logrotate: move the file away, SIGHUP, and the next lines go to a new file.
    let rotated = dir.path().join("b.log.1");
    std::fs::rename(&log, &rotated).unwrap();
    unsafe { libc::kill(pid, libc::SIGHUP) };
    assert!(
        wait_until(Duration::from_secs(10), || {
            std::fs::read_to_string(&log).is_ok_and(|t| t.contains("reloading"))
        }),
        "no new log file after SIGHUP; old one:\n{}",
        std::fs::read_to_string(&rotated).unwrap_or_default()
    );

    unsafe { libc::kill(pid, libc::SIGTERM) };
    assert!(wait_until(Duration::from_secs(10), || !alive(pid)));
    assert!(!pid_file.exists(), "pid file left behind");
    assert!(
        std::fs::read_to_string(&log)
            .unwrap()
            .contains("bgpinject stopped")
    );
}

#[test]
fn user_drops_root_after_binding_the_listener() {
    if unsafe { libc::geteuid() } != 0 {
        println!("note: not root, --user is not tested");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("b.conf");
    // A passive neighbor on port 179: binding it needs root, before the drop.
    std::fs::write(
        &conf,
        "neighbor 127.0.3.93 { router-id 192.0.2.10; local-address 127.0.3.94; local-as 64510; peer-as 64500; passive; static { route 198.51.100.1/32 next-hop 192.0.2.10; } }\n",
    )
    .unwrap();
    let child = Command::new(BIN)
        .args(["--user", "nobody"])
        .arg(&conf)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id() as i32;
    let dropped = wait_until(Duration::from_secs(10), || {
        status_field(pid, "Uid:")
            .split_whitespace()
            .all(|u| u == "65534")
    });
    unsafe { libc::kill(pid, libc::SIGTERM) };
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(dropped, "still not uid 65534:\n{stderr}");
    assert!(stderr.contains("listening on 127.0.3.94:179"), "{stderr}");
    assert!(stderr.contains("running as user nobody"), "{stderr}");
    assert_eq!(out.status.code(), Some(0), "{stderr}");
}

#[test]
fn daemon_startup_failure_is_the_parents_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("b.conf");
    let busy = std::net::TcpListener::bind("127.0.3.95:18395").unwrap();
    std::fs::write(
        &conf,
        "neighbor 127.0.3.96 { router-id 192.0.2.10; local-address 127.0.3.95; local-as 64510; peer-as 64500; passive; listen 18395; static { route 198.51.100.1/32 next-hop 192.0.2.10; } }\n",
    )
    .unwrap();
    let out = Command::new(BIN)
        .arg("--daemon")
        .arg(&conf)
        .output()
        .unwrap();
    drop(busy);
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A configuration error is found before forking.
    std::fs::write(&conf, "neighbor 127.0.3.96 {\n").unwrap();
    let out = Command::new(BIN)
        .arg("--daemon")
        .arg(&conf)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn bad_logging_and_user_options_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("b.conf");
    std::fs::write(&conf, config(18397, "")).unwrap();
    for args in [
        vec!["--log-format", "xml"],
        vec!["--log-file", "/tmp/x.log", "--syslog"],
        vec!["--user", "no-such-user-bgpinject"],
    ] {
        let out = Command::new(BIN).args(&args).arg(&conf).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {out:?}");
    }
    // A log file that cannot be opened is a runtime failure.
    let out = Command::new(BIN)
        .args(["--log-file", "/nonexistent-dir/b.log"])
        .arg(&conf)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{out:?}");
}

/// ExaBGP resolves a relative `run` path against the configuration's directory; under
/// `--daemon` (working directory `/`) such a helper must still start.
#[test]
fn a_relative_run_path_starts_under_daemon() {
    let dir = tempfile::tempdir().unwrap();
    let conf_dir = dir.path().join("etc");
    std::fs::create_dir(&conf_dir).unwrap();
    let helper = conf_dir.join("announce.sh");
    std::fs::write(
        &helper,
        "#!/bin/sh\ntouch \"$(dirname \"$0\")/started\"\necho 'announce route 198.51.100.7/32 next-hop 192.0.2.10'\ncat >/dev/null\n",
    )
    .unwrap();
    std::fs::set_permissions(&helper, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let conf = conf_dir.join("b.conf");
    std::fs::write(
        &conf,
        format!(
            "process announcer {{ run ./announce.sh; }}\n{}",
            config(18392, "api { processes [ announcer ]; }")
        ),
    )
    .unwrap();
    let pid_file = dir.path().join("b.pid");
    // Started from another directory than the configuration's.
    let out = Command::new(BIN)
        .current_dir(dir.path())
        .args(["--daemon", "--control", "off", "--pid-file"])
        .arg(&pid_file)
        .arg(&conf)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let pid = read_pid(&pid_file);
    let started = wait_until(Duration::from_secs(10), || {
        conf_dir.join("started").exists()
    });
    unsafe { libc::kill(pid, libc::SIGTERM) };
    assert!(started, "the helper did not start");
    assert!(wait_until(Duration::from_secs(10), || !alive(pid)));
}
