//! A daemon that is safe to run as root (issue 19): programs never run as root with `--user`,
//! the pid and log files are not opened through symlinks, stale pid files, configuration
//! inputs that are not regular files or have endless lines, descriptor exhaustion on the
//! accept loops, and `--check` of the daemon options. Loopback range 127.0.19.0/24.
//!
//! Tests that need root (for `--user` and root-owned targets) say so and pass quietly as a
//! normal user; `make test` runs as root.

use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_bgpinject");

fn is_root() -> bool {
    // SAFETY: geteuid(2) cannot fail.
    unsafe { libc::geteuid() == 0 }
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

fn signal(pid: i32, sig: libc::c_int) {
    // SAFETY: kill(2) on a process this test started.
    unsafe {
        libc::kill(pid, sig);
    }
}

/// A neighbor on 127.0.19.x that nothing answers (sessions are attempted, never established).
fn neighbor(n: u8, extra: &str) -> String {
    format!(
        "neighbor 127.0.19.{n} {{ router-id 192.0.2.19; local-address 127.0.19.1; local-as 64519; peer-as 64520; connect 17960; {extra} static {{ route 198.51.100.{n}/32 next-hop 192.0.2.19; }} }}\n"
    )
}

/// bgpinject in the foreground with its stderr collected line by line; SIGKILLed on drop.
struct Running {
    child: Child,
    log: Arc<Mutex<Vec<String>>>,
}

impl Running {
    fn start(args: &[&str], conf: &Path) -> Running {
        let mut child = Command::new(BIN)
            .args(args)
            .arg(conf)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let stderr = child.stderr.take().unwrap();
        let l = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { return };
                l.lock().unwrap().push(line);
            }
        });
        Running { child, log }
    }

    fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    fn log(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }

    fn log_lines(&self) -> usize {
        self.log.lock().unwrap().len()
    }

    /// SIGTERM; the exit code, or None when it did not stop within `timeout`.
    fn terminate(&mut self, timeout: Duration) -> Option<i32> {
        signal(self.pid(), libc::SIGTERM);
        let start = Instant::now();
        while start.elapsed() < timeout {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status.code().unwrap_or(-1));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A directory every user may write to (for files written by programs run as `nobody`).
fn shared_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    dir
}

#[test]
fn with_user_nobody_no_helper_or_health_check_ever_runs_as_root() {
    if !is_root() {
        println!("note: not root, --user is not tested");
        return;
    }
    let dir = shared_dir();
    let uids = dir.path().join("uids");
    let u = uids.display();
    // A long-running helper (ExaBGP's usual pattern), a one-shot helper that is restarted,
    // and a health check run every second: each records the uid it runs as.
    let conf = dir.path().join("b.conf");
    std::fs::write(
        &conf,
        format!(
            "process long {{ run /bin/sh -c 'echo long $(id -u) $(id -g) $(id -G) >> {u}; exec sleep 600'; encoder text; }}
process once {{ run /bin/sh -c 'echo once $(id -u) $(id -g) $(id -G) >> {u}'; encoder text; }}
healthcheck web {{ command \"echo check $(id -u) $(id -g) $(id -G) >> {u}\"; interval 1; rise 1; fall 1;
    route 203.0.113.0/24 next-hop 192.0.2.19; }}
{}",
            neighbor(2, "api { processes [ long once ]; }")
        ),
    )
    .unwrap();
    let mut d = Running::start(&["--user", "nobody", "--control", "off"], &conf);
    let read = || std::fs::read_to_string(&uids).unwrap_or_default();
    // Generous: the one-shot helper restarts after 1 s, then 2 s, on a loaded machine.
    let enough = wait_until(Duration::from_secs(40), || {
        let t = read();
        t.matches("once ").count() >= 2 && t.matches("check ").count() >= 3 && t.contains("long ")
    });
    let code = d.terminate(Duration::from_secs(10));
    let text = read();
    assert!(enough, "programs did not all run:\n{text}\n{}", d.log());
    // uid, gid and every group: nobody's (65534), never root's.
    for line in text.lines() {
        let ids: Vec<&str> = line.split_whitespace().skip(1).collect();
        assert!(
            ids.len() == 3 && ids.iter().all(|i| *i == "65534"),
            "{line} (not nobody)\n{text}"
        );
    }
    assert_eq!(code, Some(0), "{}", d.log());
}

fn alive(pid: i32) -> bool {
    // SAFETY: signal 0 only checks existence.
    unsafe { libc::kill(pid, 0) == 0 }
}

/// A root-owned mode-600 file, and a directory owned by `nobody` (as OpenRC's pid directory
/// is owned by the service user) where that user plants symlinks to it.
#[test]
fn symlinks_at_the_pid_and_log_paths_do_not_change_a_root_owned_target() {
    if !is_root() {
        println!("note: not root, root-owned targets are not tested");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("shadow");
    std::fs::write(&target, "root:secret\n").unwrap();
    std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o600)).unwrap();
    let run = dir.path().join("run");
    std::fs::create_dir(&run).unwrap();
    let nobody = Command::new("chown")
        .args(["nobody"])
        .arg(&run)
        .status()
        .unwrap();
    assert!(nobody.success());
    // The service user plants the links (as it could in its own directory).
    for name in ["b.pid", "b.log"] {
        let st = Command::new("setpriv")
            .args([
                "--reuid=nobody",
                "--regid=nogroup",
                "--clear-groups",
                "ln",
                "-s",
            ])
            .arg(&target)
            .arg(run.join(name))
            .status()
            .unwrap();
        assert!(st.success(), "setpriv ln -s {name}");
    }
    let conf = dir.path().join("b.conf");
    std::fs::write(&conf, neighbor(3, "")).unwrap();
    let pid_file = run.join("b.pid");
    let log_file = run.join("b.log");
    // The log file symlink: a clean startup error, the target untouched.
    let out = Command::new(BIN)
        .args(["--control", "off", "--log-file"])
        .arg(&log_file)
        .arg(&conf)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("symlink"),
        "{out:?}"
    );
    // The pid file symlink is replaced by a file of our own, never written through.
    let mut d = Running::start(
        &["--control", "off", "--pid-file", pid_file.to_str().unwrap()],
        &conf,
    );
    assert!(
        wait_until(Duration::from_secs(10), || {
            std::fs::symlink_metadata(&pid_file).is_ok_and(|m| m.is_file())
        }),
        "{}",
        d.log()
    );
    assert_eq!(
        std::fs::read_to_string(&pid_file).unwrap().trim(),
        d.pid().to_string()
    );
    assert_eq!(d.terminate(Duration::from_secs(10)), Some(0), "{}", d.log());
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "root:secret\n");
    let meta = std::fs::metadata(&target).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    assert!(!pid_file.exists(), "pid file left behind");
}

#[test]
fn reload_never_signals_a_process_named_by_a_stale_pid_file_and_a_start_replaces_it() {
    let dir = tempfile::tempdir().unwrap();
    let pid_file = dir.path().join("b.pid");
    // An unrelated process that a SIGHUP would kill.
    let mut sleeper = Command::new("sleep").arg("600").spawn().unwrap();
    let sleeper_pid = sleeper.id() as i32;
    std::fs::write(&pid_file, format!("{sleeper_pid}\n")).unwrap();
    let out = Command::new(BIN)
        .args(["--reload", "--pid-file"])
        .arg(&pid_file)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("stale pid file"), "{stderr}");
    std::thread::sleep(Duration::from_millis(200));
    assert!(
        matches!(sleeper.try_wait(), Ok(None)),
        "the unrelated process was signalled"
    );

    // A fresh start with that stale file succeeds, and then --reload reaches the daemon.
    let conf = dir.path().join("b.conf");
    std::fs::write(&conf, neighbor(4, "")).unwrap();
    let mut d = Running::start(
        &["--control", "off", "--pid-file", pid_file.to_str().unwrap()],
        &conf,
    );
    let mine = d.pid().to_string();
    assert!(
        wait_until(Duration::from_secs(10), || {
            std::fs::read_to_string(&pid_file).is_ok_and(|t| t.trim() == mine)
        }),
        "{}",
        d.log()
    );
    // A second daemon with the same pid file is refused while the first runs.
    let out = Command::new(BIN)
        .args(["--control", "off", "--pid-file"])
        .arg(&pid_file)
        .arg(&conf)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("already running"));
    let out = Command::new(BIN)
        .args(["--reload", "--pid-file"])
        .arg(&pid_file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(
        wait_until(Duration::from_secs(10), || d.log().contains("reload")),
        "{}",
        d.log()
    );
    assert!(alive(d.pid()));
    assert_eq!(d.terminate(Duration::from_secs(10)), Some(0), "{}", d.log());
    assert!(matches!(sleeper.try_wait(), Ok(None)));
    let _ = sleeper.kill();
    let _ = sleeper.wait();
}

fn mkfifo(path: &Path) {
    let c = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
    // SAFETY: mkfifo(3) with a valid path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0, "mkfifo");
}

/// A 2 GB file of one line without a newline; sparse, so it costs no disk.
fn huge_line(path: &Path) {
    let f = std::fs::File::create(path).unwrap();
    f.set_len(2 << 30).unwrap();
}

fn check_config(conf: &Path) -> (Option<i32>, String, Duration) {
    let start = Instant::now();
    let child = Command::new(BIN)
        .arg("--check")
        .arg(conf)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id() as i32;
    // Never hang the test: a --check still running after 20 s is killed (and fails below).
    let killer = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(20));
        signal(pid, libc::SIGKILL);
    });
    let out = child.wait_with_output().unwrap();
    drop(killer);
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).to_string(),
        start.elapsed(),
    )
}

#[test]
fn fifo_device_or_endless_line_as_configuration_is_a_clean_error_at_start_and_at_reload() {
    let dir = tempfile::tempdir().unwrap();
    let good = format!("{}include \"extra.conf\";\n", neighbor(5, ""));
    let fifo = dir.path().join("fifo.conf");
    mkfifo(&fifo);
    let huge = dir.path().join("huge.conf");
    huge_line(&huge);
    let conf = dir.path().join("b.conf");

    // At start (and --check): a FIFO, /dev/zero, a 2 GB line, an included FIFO.
    let include_fifo = dir.path().join("inc.conf");
    std::fs::write(
        &include_fifo,
        "# a FIFO in place of an included file\n  include \"fifo.conf\";\n",
    )
    .unwrap();
    for (input, expect) in [
        (fifo.as_path(), "is a FIFO, not a regular file".to_string()),
        (Path::new("/dev/zero"), "is a device".to_string()),
        (
            huge.as_path(),
            format!("{}:1:1: line longer than", huge.display()),
        ),
        (
            include_fifo.as_path(),
            format!("{}:2:3: included file", include_fifo.display()),
        ),
    ] {
        let (code, stderr, took) = check_config(input);
        assert_eq!(code, Some(1), "--check {input:?}: {stderr}");
        assert!(stderr.contains(&expect), "--check {input:?}: {stderr}");
        assert!(
            took < Duration::from_secs(10),
            "--check {input:?}: {took:?}"
        );
        let out = Command::new(BIN)
            .args(["--control", "off"])
            .arg(input)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "start {input:?}: {out:?}");
    }

    // At reload: the running configuration stays, SIGTERM still stops the daemon.
    std::fs::write(&conf, &good).unwrap();
    std::fs::write(dir.path().join("extra.conf"), neighbor(7, "")).unwrap();
    let control = dir.path().join("ctl.sock");
    let mut d = Running::start(&["--control", control.to_str().unwrap()], &conf);
    assert!(
        // Answering, not only bound: the socket file exists a moment before it listens.
        wait_until(Duration::from_secs(10), || {
            std::os::unix::net::UnixStream::connect(&control).is_ok()
        }),
        "{}",
        d.log()
    );
    let refused = |d: &Running| d.log().matches("reload refused").count();
    type Replace = Box<dyn Fn(&Path)>;
    let replacements: [(&str, Replace); 4] = [
        ("main file a FIFO", Box::new(|p: &Path| mkfifo(p))),
        ("main file a 2 GB line", Box::new(|p: &Path| huge_line(p))),
        (
            "included file a FIFO",
            Box::new(|p: &Path| {
                std::fs::write(p, format!("{}include \"fifo.conf\";\n", neighbor(5, ""))).unwrap();
            }),
        ),
        (
            "main file a symlink to /dev/zero",
            Box::new(|p: &Path| std::os::unix::fs::symlink("/dev/zero", p).unwrap()),
        ),
    ];
    for (done, (what, replace)) in replacements.into_iter().enumerate() {
        let _ = std::fs::remove_file(&conf);
        replace(&conf);
        signal(d.pid(), libc::SIGHUP);
        assert!(
            wait_until(Duration::from_secs(10), || refused(&d) > done),
            "{what}: no refusal\n{}",
            d.log()
        );
        let answer = Command::new(BIN)
            .args([
                "ctl",
                "--socket",
                control.to_str().unwrap(),
                "show",
                "neighbor",
            ])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&answer.stdout);
        assert!(
            text.contains("127.0.19.5"),
            "{what}: the running configuration is gone: {text}\n{}",
            d.log()
        );
    }
    let _ = std::fs::remove_file(&huge);
    assert_eq!(d.terminate(Duration::from_secs(10)), Some(0), "{}", d.log());
    assert!(!d.log().contains("panicked"), "{}", d.log());
}

/// User plus system CPU time of `pid`, in clock ticks (1/100 s).
fn cpu_ticks(pid: i32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let after = &stat[stat.rfind(')').unwrap() + 2..];
    let f: Vec<&str> = after.split_whitespace().collect();
    f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap()
}

#[test]
fn out_of_descriptors_the_accept_loops_back_off_and_log_at_a_bounded_rate() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("b.conf");
    std::fs::write(
        &conf,
        neighbor(9, "passive; listen 17961;").replace("connect 17960;", ""),
    )
    .unwrap();
    let control = dir.path().join("ctl.sock");
    // RLIMIT_NOFILE 64, soft and hard (bgpinject raises its soft limit to the hard one).
    let mut child = Command::new("prlimit")
        .args(["--nofile=64:64", "--", BIN, "--control"])
        .arg(&control)
        .arg(&conf)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let log = Arc::new(Mutex::new(Vec::<String>::new()));
    let stderr = child.stderr.take().unwrap();
    let l = log.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { return };
            l.lock().unwrap().push(line);
        }
    });
    let mut d = Running { child, log };
    assert!(
        wait_until(Duration::from_secs(10), || control.exists()
            && d.log().contains("listening on 127.0.19.1:17961")),
        "{}",
        d.log()
    );
    assert!(d.log().contains("open file limit 64"), "{}", d.log());
    // Idle control clients hold a descriptor each (for up to 10 s), then BGP connections
    // wait in the listen queue that accept() cannot empty.
    let mut held = Vec::new();
    for _ in 0..80 {
        if let Ok(s) = std::os::unix::net::UnixStream::connect(&control) {
            held.push(s);
        }
    }
    let mut tcp = Vec::new();
    for _ in 0..20 {
        if let Ok(s) = std::net::TcpStream::connect_timeout(
            &"127.0.19.1:17961".parse().unwrap(),
            Duration::from_secs(1),
        ) {
            tcp.push(s);
        }
    }
    assert!(
        wait_until(Duration::from_secs(5), || d.log().contains("accept failed")),
        "descriptors never ran out:\n{}",
        d.log()
    );
    let lines_before = d.log_lines();
    let cpu_before = cpu_ticks(d.pid());
    std::thread::sleep(Duration::from_secs(3));
    let lines = d.log_lines() - lines_before;
    let cpu = cpu_ticks(d.pid()) - cpu_before;
    println!("out of descriptors for 3 s: {lines} log lines, {cpu} ticks of CPU");
    assert!(lines < 300, "{lines} log lines in 3 s");
    assert!(cpu < 60, "{cpu}/300 ticks of CPU in 3 s: a busy loop");
    // Said plainly.
    assert!(
        d.log().contains("out of file descriptors (")
            && d.log().contains("limit 64); raise LimitNOFILE="),
        "{}",
        d.log()
    );
    drop(held);
    drop(tcp);
    assert_eq!(d.terminate(Duration::from_secs(15)), Some(0), "{}", d.log());
}

#[test]
fn check_validates_every_daemon_option() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("b.conf");
    std::fs::write(&conf, neighbor(10, "")).unwrap();
    for args in [
        vec!["--log-format", "xml"],
        vec!["--log-level", "loud"],
        vec!["--log-file", "/tmp/x.log", "--syslog"],
        vec!["--user", "no-such-user-bgpinject"],
        vec!["--control", ""],
    ] {
        let out = Command::new(BIN)
            .arg("--check")
            .args(&args)
            .arg(&conf)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "--check {args:?}: {out:?}");
    }
    let out = Command::new(BIN)
        .args(["--check", "--log-format", "json", "--user", "nobody"])
        .arg(&conf)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
}

/// The value of `--control` in the unit's ExecStart=, and its RuntimeDirectory=.
fn unit_control_path() -> (String, String) {
    let unit = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/conf/bgpinject.service"
    ))
    .unwrap();
    let exec = unit.lines().find(|l| l.starts_with("ExecStart=")).unwrap();
    let words: Vec<&str> = exec.split_whitespace().collect();
    let at = words
        .iter()
        .position(|w| *w == "--control")
        .expect("--control in ExecStart=");
    let runtime = unit
        .lines()
        .find_map(|l| l.strip_prefix("RuntimeDirectory="))
        .expect("RuntimeDirectory=");
    assert!(unit.contains("\nLimitNOFILE="), "LimitNOFILE= in the unit");
    (words[at + 1].to_string(), runtime.to_string())
}

#[test]
fn unit_and_init_scripts_put_the_control_socket_where_ctl_looks() {
    let (path, runtime) = unit_control_path();
    assert_eq!(path, format!("/run/{runtime}/bgpinject.sock"));
    if !is_root() {
        println!("note: not root, the root default path is not tested");
        return;
    }
    // The OpenRC and runit scripts: started as root with --user and no --control.
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("b.conf");
    std::fs::write(&conf, neighbor(11, "")).unwrap();
    let mut d = Running::start(&["--user", "nobody"], &conf);
    let shown = wait_until(Duration::from_secs(10), || {
        Command::new(BIN)
            .args(["ctl", "show", "neighbor"])
            .output()
            .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("127.0.19.11"))
    });
    assert!(
        shown,
        "ctl (root, default path) does not reach the daemon\n{}",
        d.log()
    );
    assert!(
        d.log().contains(&format!("control socket {path}")),
        "{}",
        d.log()
    );
    assert_eq!(d.terminate(Duration::from_secs(10)), Some(0), "{}", d.log());
}

#[test]
fn control_on_a_regular_file_leaves_it_and_fails_to_start() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("b.conf");
    std::fs::write(&conf, neighbor(12, "")).unwrap();
    let precious = dir.path().join("precious.txt");
    std::fs::write(&precious, "keep me\n").unwrap();
    let out = Command::new(BIN)
        .arg("--control")
        .arg(&precious)
        .arg(&conf)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("is not a socket"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&precious).unwrap(), "keep me\n");
}

#[test]
fn a_control_line_over_the_limit_is_refused_and_not_executed() {
    use std::io::{Read, Write};
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("b.conf");
    std::fs::write(&conf, neighbor(13, "")).unwrap();
    let control = dir.path().join("ctl.sock");
    let d = Running::start(&["--control", control.to_str().unwrap()], &conf);
    assert!(
        // Answering, not only bound: the socket file exists a moment before it listens.
        wait_until(Duration::from_secs(10), || {
            std::os::unix::net::UnixStream::connect(&control).is_ok()
        }),
        "{}",
        d.log()
    );
    // A valid command cut at 64 KiB (the padding is spaces): 100 KiB in all.
    let mut line = String::from("announce route 203.0.113.0/24 next-hop 192.0.2.19");
    line.push_str(&" ".repeat(100 * 1024));
    line.push('\n');
    let mut s = std::os::unix::net::UnixStream::connect(&control).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
    // The daemon may answer and close before reading it all.
    let _ = s.write_all(line.as_bytes());
    let mut answer = String::new();
    let _ = s.read_to_string(&mut answer);
    assert!(answer.contains("longer than"), "{answer:?}");
    assert!(answer.trim_end().ends_with("error"), "{answer:?}");
    std::thread::sleep(Duration::from_millis(300));
    let out = Command::new(BIN)
        .args([
            "ctl",
            "--socket",
            control.to_str().unwrap(),
            "show",
            "adj-rib",
            "out",
        ])
        .output()
        .unwrap();
    let shown = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{shown}");
    assert!(shown.contains("198.51.100.13/32"), "{shown}");
    assert!(!shown.contains("203.0.113.0/24"), "executed: {shown}");
}

#[test]
fn ctl_refuses_a_socket_served_by_another_user() {
    if !is_root() {
        println!("note: not root, other users are not tested");
        return;
    }
    // The squatter (user daemon) serves a socket in a shared directory; the victim is nobody.
    let dir = shared_dir();
    let conf = dir.path().join("b.conf");
    std::fs::write(&conf, neighbor(14, "")).unwrap();
    std::fs::set_permissions(&conf, std::fs::Permissions::from_mode(0o644)).unwrap();
    let socket = dir.path().join("squat.sock");
    let mut squatter = Command::new("setpriv")
        .args([
            "--reuid=daemon",
            "--regid=daemon",
            "--clear-groups",
            BIN,
            "--control",
        ])
        .arg(&socket)
        .arg(&conf)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    assert!(wait_until(Duration::from_secs(10), || socket.exists()));
    // The socket is 0600: let the victim reach it, as a careless squatter would.
    std::fs::set_permissions(&socket, std::fs::Permissions::from_mode(0o666)).unwrap();
    let out = Command::new("setpriv")
        .args([
            "--reuid=nobody",
            "--regid=nogroup",
            "--clear-groups",
            BIN,
            "ctl",
            "--socket",
        ])
        .arg(&socket)
        .args(["show", "neighbor"])
        .output()
        .unwrap();
    // And the daemon answers no other user than its own and root (a raw client as nobody).
    let raw = Command::new("setpriv")
        .args([
            "--reuid=nobody",
            "--regid=nogroup",
            "--clear-groups",
            "/usr/bin/python3",
            "-c",
        ])
        .arg(
            "import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); \
             s.sendall(b'show neighbor\\n'); print(s.makefile().read())",
        )
        .arg(&socket)
        .output()
        .unwrap();
    let _ = squatter.kill();
    let _ = squatter.wait();
    let answer = String::from_utf8_lossy(&raw.stdout);
    assert!(answer.starts_with("error: not allowed"), "{raw:?}");
    assert!(!answer.contains("127.0.19.14"), "{answer}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    assert!(stderr.contains("served by uid 1"), "{stderr}");
    assert!(out.stdout.is_empty(), "{out:?}");
}

/// LimitNOFILE= of the shipped unit.
fn unit_nofile() -> u64 {
    let unit = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/conf/bgpinject.service"
    ))
    .unwrap();
    unit.lines()
        .find_map(|l| l.strip_prefix("LimitNOFILE="))
        .and_then(|v| v.trim().parse().ok())
        .expect("LimitNOFILE= in the unit")
}

#[test]
fn a_thousand_neighbors_start_under_the_units_descriptor_limit() {
    if !is_root() {
        println!("note: not root, no network namespace");
        return;
    }
    const NEIGHBORS: usize = 1000;
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("b.conf");
    // 1,000 peer addresses: in a network namespace of its own, where all of 127/8 is local
    // and nobody else's.
    let mut text = String::new();
    for i in 0..NEIGHBORS {
        text.push_str(&format!(
            "neighbor 127.1.{}.{} {{ router-id 192.0.2.19; local-address 127.0.0.1; local-as 64519; peer-as 64520; connect 17963; static {{ route 198.51.{}.{}/32 next-hop 192.0.2.19; }} }}\n",
            i / 250,
            i % 250 + 1,
            i / 250,
            i % 250 + 1
        ));
    }
    std::fs::write(&conf, text).unwrap();
    // As systemd starts the unit: soft 1024, hard LimitNOFILE= (or this machine's hard
    // limit when that is lower: raising it needs a privilege a container may not have).
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit with a valid struct.
    assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) }, 0);
    let hard = unit_nofile().min(lim.rlim_max);
    if hard < unit_nofile() {
        println!(
            "note: hard limit {} here, below the unit's {}",
            lim.rlim_max,
            unit_nofile()
        );
    }
    let limited = |args: &str| {
        format!(
            "ip link set lo up && exec prlimit --nofile=1024:{hard} -- {BIN} --control off {args} {}",
            conf.display()
        )
    };
    let check = Command::new("unshare")
        .args(["--net", "sh", "-c", &limited("--check")])
        .output()
        .unwrap();
    assert_eq!(check.status.code(), Some(0), "{check:?}");
    assert_eq!(
        String::from_utf8_lossy(&check.stdout).lines().count(),
        NEIGHBORS
    );
    let mut child = Command::new("unshare")
        .args(["--net", "sh", "-c", &limited("")])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let log = Arc::new(Mutex::new(Vec::<String>::new()));
    let stderr = child.stderr.take().unwrap();
    let l = log.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { return };
            l.lock().unwrap().push(line);
        }
    });
    let mut d = Running { child, log };
    let attempted = || {
        let log = d.log.lock().unwrap();
        let mut seen: Vec<&str> = log
            .iter()
            .filter(|l| l.contains(": cannot connect"))
            .filter_map(|l| l.split("neighbor ").nth(1)?.split(':').next())
            .collect();
        seen.sort_unstable();
        seen.dedup();
        seen.len()
    };
    let all = wait_until(Duration::from_secs(90), || attempted() >= NEIGHBORS);
    let n = attempted();
    println!("{n} of {NEIGHBORS} neighbors attempted their session");
    let text = d.log();
    assert!(
        all,
        "{n} of {NEIGHBORS} sessions attempted\n{}",
        &text[..text.len().min(4000)]
    );
    assert!(
        text.contains(&format!("open file limit {hard}")),
        "limit not raised"
    );
    for bad in [
        "cannot start a thread",
        "out of file descriptors",
        "panicked",
    ] {
        assert!(!text.contains(bad), "{bad}");
    }
    assert_eq!(d.terminate(Duration::from_secs(30)), Some(0));
}

#[test]
fn a_squatted_default_directory_is_refused_by_the_daemon_and_by_ctl() {
    if !is_root() || Path::new("/run/user/65534").exists() {
        println!("note: not root (or nobody has a /run/user directory): not tested");
        return;
    }
    // nobody's default without XDG_RUNTIME_DIR: /tmp/bgpinject-65534/, taken first by the
    // user daemon, who serves a socket there.
    let squat = Path::new("/tmp/bgpinject-65534");
    let _ = std::fs::remove_dir_all(squat);
    let dir = shared_dir();
    let conf = dir.path().join("b.conf");
    std::fs::write(&conf, neighbor(15, "")).unwrap();
    std::fs::set_permissions(&conf, std::fs::Permissions::from_mode(0o644)).unwrap();
    let as_user = |user: &str, group: &str| {
        let mut c = Command::new("setpriv");
        c.args([
            &format!("--reuid={user}"),
            &format!("--regid={group}"),
            "--clear-groups",
        ])
        .env_remove("XDG_RUNTIME_DIR");
        c
    };
    assert!(
        as_user("daemon", "daemon")
            .args(["mkdir", "-m", "0755"])
            .arg(squat)
            .status()
            .unwrap()
            .success()
    );
    let socket = squat.join("bgpinject.sock");
    let mut squatter = as_user("daemon", "daemon")
        .arg(BIN)
        .arg("--control")
        .arg(&socket)
        .arg(&conf)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    assert!(wait_until(Duration::from_secs(10), || socket.exists()));
    std::fs::set_permissions(&socket, std::fs::Permissions::from_mode(0o666)).unwrap();
    // The victim's daemon: no control socket, and says why.
    let victim = as_user("nobody", "nogroup")
        .arg(BIN)
        .arg(&conf)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let log = Arc::new(Mutex::new(Vec::new()));
    let mut v = Running { child: victim, log };
    {
        let stderr = v.child.stderr.take().unwrap();
        let l = v.log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { return };
                l.lock().unwrap().push(line);
            }
        });
    }
    let warned = wait_until(Duration::from_secs(10), || {
        v.log().contains("belongs to uid 1, not to this user")
    });
    // The victim's ctl: refuses the squatter's socket.
    let out = as_user("nobody", "nogroup")
        .args([BIN, "ctl", "show", "neighbor"])
        .output()
        .unwrap();
    let code = v.terminate(Duration::from_secs(10));
    let _ = squatter.kill();
    let _ = squatter.wait();
    let _ = std::fs::remove_dir_all(squat);
    assert!(warned, "{}", v.log());
    assert_eq!(code, Some(0), "{}", v.log());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    assert!(stderr.contains("served by uid 1"), "{stderr}");
}

#[test]
fn reload_reaches_a_backgrounded_daemon_through_its_locked_pid_file() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("b.conf");
    std::fs::write(&conf, neighbor(16, "")).unwrap();
    let pid_file = dir.path().join("b.pid");
    let log = dir.path().join("b.log");
    let out = Command::new(BIN)
        .args(["--daemon", "--control", "off", "--pid-file"])
        .arg(&pid_file)
        .arg("--log-file")
        .arg(&log)
        .arg(&conf)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let pid: i32 = std::fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let out = Command::new(BIN)
        .args(["--reload", "--pid-file"])
        .arg(&pid_file)
        .output()
        .unwrap();
    let reloaded = wait_until(Duration::from_secs(10), || {
        std::fs::read_to_string(&log).is_ok_and(|t| t.contains("reloading "))
    });
    signal(pid, libc::SIGTERM);
    // Its pid file goes at exit (a zombie left to a container's init would still be alive).
    let stopped = wait_until(Duration::from_secs(10), || !pid_file.exists());
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(
        reloaded,
        "{}",
        std::fs::read_to_string(&log).unwrap_or_default()
    );
    assert!(stopped, "pid file left behind");
}

/// A descriptor the daemon inherited without close-on-exec (a lock held by `flock(1)`, a
/// supervisor's pipe) never reaches a helper or a health check: one that outlived the daemon
/// would hold the lock for ever.
#[test]
fn helpers_and_health_checks_do_not_inherit_the_daemons_descriptors() {
    use std::os::unix::process::CommandExt;
    let dir = tempfile::tempdir().unwrap();
    let seen = dir.path().join("seen");
    let s = seen.display();
    let probe = "if test -e /proc/$$/fd/7; then echo inherited; else echo clean; fi";
    let conf = dir.path().join("b.conf");
    std::fs::write(
        &conf,
        format!(
            "process p {{ run /bin/sh -c 'echo helper $({probe}) >> {s}; exec sleep 600'; encoder text; }}
healthcheck c {{ command \"echo check $({probe}) >> {s}\"; interval 1; rise 1; fall 1;
    route 203.0.113.0/24 next-hop 192.0.2.19; }}
{}",
            neighbor(2, "api { processes [ p ]; }")
        ),
    )
    .unwrap();
    let lock = std::fs::File::create(dir.path().join("lock")).unwrap();
    let lock_fd = std::os::fd::AsRawFd::as_raw_fd(&lock);
    let mut command = Command::new(BIN);
    command
        .args(["--control", "off"])
        .arg(&conf)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    // SAFETY: dup2 between fork and exec; descriptor 7 is left without close-on-exec.
    unsafe {
        command.pre_exec(move || {
            if libc::dup2(lock_fd, 7) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = command.spawn().unwrap();
    let read = || std::fs::read_to_string(&seen).unwrap_or_default();
    let both = wait_until(Duration::from_secs(20), || {
        let t = read();
        t.contains("helper ") && t.contains("check ")
    });
    // SAFETY: kill(2) on the child this test started.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let _ = child.wait();
    let text = read();
    assert!(both, "the helper and the check did not both run:\n{text}");
    assert!(!text.contains("inherited"), "{text}");
}

/// A health check's hook still running when the daemon stops (its timeout far off) is killed
/// with the daemon, not left orphaned.
#[test]
fn hooks_still_running_are_killed_when_the_daemon_stops() {
    let dir = tempfile::tempdir().unwrap();
    let started = dir.path().join("started");
    // A marker only this test's hook carries, to find it among the machine's processes.
    let marker = format!("{}", 700_000 + std::process::id() % 100_000);
    let conf = dir.path().join("b.conf");
    std::fs::write(
        &conf,
        format!(
            "healthcheck h {{ command \"true\"; interval 1; rise 1; fall 1;
    route 203.0.113.9/32 next-hop 192.0.2.19;
    up-execute \"touch {}; sleep {marker}\"; hook-timeout 600; }}
{}",
            started.display(),
            neighbor(3, "")
        ),
    )
    .unwrap();
    let hook_alive = || {
        Command::new("pgrep")
            .args(["-f", &format!("sleep {marker}")])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    let mut d = Running::start(&["--control", "off"], &conf);
    let running = wait_until(Duration::from_secs(20), || started.exists() && hook_alive());
    assert!(running, "the hook did not start\n{}", d.log());
    assert_eq!(d.terminate(Duration::from_secs(10)), Some(0), "{}", d.log());
    assert!(
        wait_until(Duration::from_secs(5), || !hook_alive()),
        "the hook outlived the daemon\n{}",
        d.log()
    );
}
