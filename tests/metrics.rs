//! `--metrics` and `ctl metrics` (issue 23): scraped with a plain TCP client and curl while
//! bgpinject feeds BIRD routes from its file, a helper that restarts, a health check and the
//! control socket, across a reload and a refused reload. `promtool check metrics` (Debian's
//! prometheus package; missing, the test fails) must accept the text, every metric must be
//! there, and the values must be those of `ctl show neighbor`, the log and the configuration.
//! Then the listener is attacked: 1 MB of headers, clients that send nothing, 200 connections
//! at once, POST; the manager and the other scrapes must not notice. Last, a Prometheus server
//! scrapes it and reads the labels back as they were written.

mod harness;

use std::collections::BTreeMap;
use std::fs;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use harness::bird::{BgpProtocol, BirdBuilder};
use harness::wait_for;

const BIN: &str = env!("CARGO_BIN_EXE_bgpinject");
const BIRD: (&str, u16) = ("127.0.23.9", 17991);
const LOCAL: &str = "127.0.23.20";
const TIMEOUT: Duration = Duration::from_secs(30);

/// bgpinject with a control socket and `--metrics`, its log in its temp dir.
struct Daemon {
    child: Child,
    dir: tempfile::TempDir,
    socket: PathBuf,
    metrics: SocketAddr,
}

impl Daemon {
    fn start(metrics: &str, config: impl FnOnce(&Path) -> String) -> Daemon {
        let dir = tempfile::tempdir().unwrap();
        let conf = dir.path().join("bgpinject.conf");
        fs::write(&conf, config(dir.path())).unwrap();
        let socket = dir.path().join("ctl.sock");
        let log = fs::File::create(dir.path().join("bgpinject.log")).unwrap();
        let child = Command::new(BIN)
            .args(["--log-level", "info", "--metrics", metrics, "--control"])
            .arg(&socket)
            .arg(&conf)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        let d = Daemon {
            child,
            dir,
            socket,
            metrics: metrics.parse().unwrap(),
        };
        let up = wait_for(Duration::from_secs(10), || {
            TcpStream::connect(d.metrics).ok()
        });
        assert!(up.is_some(), "no metrics listener\n{}", d.log());
        d
    }

    fn ctl(&self, command: &str) -> String {
        let out = Command::new(BIN)
            .args(["ctl", "--socket"])
            .arg(&self.socket)
            .args(command.split(' '))
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn log(&self) -> String {
        fs::read_to_string(self.dir.path().join("bgpinject.log")).unwrap_or_default()
    }

    fn config(&self) -> PathBuf {
        self.dir.path().join("bgpinject.conf")
    }

    fn assert_no_bug(&self) {
        let log = self.log();
        assert!(
            !log.contains("panicked") && !log.contains("internal error"),
            "{log}"
        );
    }

    /// How many descriptors the daemon holds open.
    fn open_files(&self) -> usize {
        fs::read_dir(format!("/proc/{}/fd", self.child.id()))
            .map(|d| d.count())
            .unwrap_or(0)
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One HTTP exchange over a plain TCP connection: (status line, headers, body).
fn http(addr: SocketAddr, request: &str) -> (String, String, String) {
    try_http(addr, request).unwrap_or_else(|e| panic!("{addr}: {e}"))
}

fn try_http(addr: SocketAddr, request: &str) -> std::io::Result<(String, String, String)> {
    let mut s = TcpStream::connect(addr)?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    s.write_all(request.as_bytes())?;
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let (status, headers) = head.split_once("\r\n").unwrap_or((head, ""));
    Ok((status.to_string(), headers.to_string(), body.to_string()))
}

fn scrape(addr: SocketAddr) -> String {
    let (status, headers, body) = http(
        addr,
        "GET /metrics HTTP/1.1\r\nHost: bgpinject\r\nAccept: text/plain\r\n\r\n",
    );
    assert_eq!(status, "HTTP/1.1 200 OK", "{headers}\n{body}");
    assert!(
        headers.contains("Content-Type: text/plain; version=0.0.4"),
        "{headers}"
    );
    let length: usize = headers
        .lines()
        .find_map(|l| l.strip_prefix("Content-Length: "))
        .and_then(|v| v.parse().ok())
        .expect("Content-Length");
    assert_eq!(length, body.len());
    body
}

/// `promtool check metrics` on `text`: fails the test when promtool is missing or refuses it.
fn promtool_accepts(text: &str, what: &str) {
    let mut child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("promtool not found ({e}): install Debian's prometheus package (make deps)")
        });
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success() && said.trim().is_empty(),
        "promtool refused the {what}: {said}\n{text}"
    );
}

/// The samples of a metrics text: `name{labels}` as printed, and the value.
fn samples(text: &str) -> BTreeMap<String, f64> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let (key, value) = l.rsplit_once(' ').unwrap();
            (key.to_string(), value.parse().unwrap())
        })
        .collect()
}

/// The metrics the issue asks for, each with one series at least.
const EXPECTED: &[&str] = &[
    "bgpinject_info",
    "bgpinject_start_time_seconds",
    "bgpinject_neighbor_info",
    "bgpinject_neighbor_state",
    "bgpinject_neighbor_up",
    "bgpinject_neighbor_uptime_seconds",
    "bgpinject_neighbor_established_total",
    "bgpinject_neighbor_flaps_total",
    "bgpinject_neighbor_updates_sent_total",
    "bgpinject_neighbor_prefixes_announced_total",
    "bgpinject_neighbor_prefixes_withdrawn_total",
    "bgpinject_neighbor_routes",
    "bgpinject_neighbor_adj_rib_out_routes",
    "bgpinject_helper_running",
    "bgpinject_helper_starts_total",
    "bgpinject_helper_restarts_total",
    "bgpinject_helper_refused_lines_total",
    "bgpinject_helper_dropped_events_total",
    "bgpinject_control_refused_commands_total",
    "bgpinject_healthcheck_up",
    "bgpinject_healthcheck_transitions_total",
    "bgpinject_healthcheck_runs_total",
    "bgpinject_healthcheck_failures_total",
    "bgpinject_reloads_total",
    "bgpinject_last_reload_success",
    "bgpinject_last_reload_duration_seconds",
    "bgpinject_last_reload_timestamp_seconds",
];

/// The first run announces its two routes, writes a line that is no command and exits; the
/// second (the restart) announces the same routes and stays.
const HELPER: &str = r#"#!/bin/sh
d="$(dirname "$0")"
n=$(ls "$d" | grep -c '^run-')
n=$((n+1))
touch "$d/run-$n"
echo "announce route 192.0.2.128/25 next-hop 192.0.2.1"
echo "announce route 192.0.2.64/26 next-hop 192.0.2.1"
if [ "$n" -eq 1 ]; then echo "no such command"; exit 0; fi
while read line; do :; done
"#;

fn neighbor_block(file_routes: &str) -> String {
    format!(
        "neighbor {} {{
  description 'core \"edge\" \\ router';
  router-id 192.0.2.10; local-address {LOCAL}; local-as 65000; peer-as 65001; connect {};
  family {{ ipv4 unicast; ipv6 unicast; }}
  api {{ processes [ feed\\x ]; }}
  static {{ {file_routes} route 2001:db8:1::/48 next-hop 2001:db8::1; }}
}}
",
        BIRD.0, BIRD.1
    )
}

fn config(dir: &Path, file_routes: &str) -> String {
    format!(
        "process feed\\x {{ run {}; }}
healthcheck web {{ command \"true\"; interval 1; rise 1; fall 1; route 203.0.113.77/32 next-hop 192.0.2.1; }}
{}",
        dir.join("helper.sh").display(),
        neighbor_block(file_routes)
    )
}

/// The words after `key` in a `ctl show neighbor` line.
fn field<'a>(line: &'a str, key: &str) -> &'a str {
    let at = [" ", "("]
        .iter()
        .find_map(|before| line.find(&format!("{before}{key} ")))
        .unwrap_or_else(|| panic!("{key} in {line}"));
    line[at + key.len() + 2..]
        .split([' ', ')', ','])
        .next()
        .unwrap()
}

#[test]
fn scrapes_show_every_metric_promtool_accepts_them_and_they_match_ctl_show() {
    let bird = BirdBuilder::new("192.0.2.251", BIRD.0, BIRD.1)
        .bgp(
            BgpProtocol::new("inj", LOCAL, 179, 65001, 65000)
                .passive(true)
                .families(true, true),
        )
        .start();
    let d = Daemon::start("127.0.23.1:17990", |dir| {
        let helper = dir.join("helper.sh");
        fs::write(&helper, HELPER).unwrap();
        fs::set_permissions(&helper, fs::Permissions::from_mode(0o755)).unwrap();
        config(
            dir,
            "route 10.0.0.0/8 next-hop 192.0.2.1; route 10.1.0.0/16 next-hop 192.0.2.1;",
        )
    });
    bird.wait_established("inj", TIMEOUT);
    // The helper's restart (1 s backoff) and the health check's first pass.
    let restarted = wait_for(TIMEOUT, || {
        d.dir.path().join("run-2").exists().then_some(())
    });
    assert!(restarted.is_some(), "{}", d.log());
    let announced = d.ctl("announce route 198.51.100.0/24 next-hop 192.0.2.1");
    assert!(announced.ends_with("done\n"), "{announced}");
    let refused = d.ctl("announce route not-a-prefix next-hop 192.0.2.1");
    assert!(refused.ends_with("error\n"), "{refused}");
    // A reload that withdraws one file route and adds one, then one that is refused.
    fs::write(
        d.config(),
        config(
            d.dir.path(),
            "route 10.1.0.0/16 next-hop 192.0.2.1; route 10.2.0.0/16 next-hop 192.0.2.1;",
        ),
    )
    .unwrap();
    assert!(d.ctl("reload").ends_with("done\n"));
    let mut want: Vec<&str> = vec![
        "10.1.0.0/16",
        "10.2.0.0/16",
        "192.0.2.128/25",
        "192.0.2.64/26",
        "203.0.113.77/32",
        "198.51.100.0/24",
    ];
    want.sort();
    let got = wait_for(TIMEOUT, || {
        let mut v: Vec<String> = bird
            .routes("master4")
            .into_iter()
            .map(|r| r.prefix)
            .collect();
        v.sort();
        (v == want).then_some(v)
    });
    assert!(
        got.is_some(),
        "BIRD has {:?}\n{}",
        bird.routes("master4"),
        d.log()
    );
    let v6 = wait_for(TIMEOUT, || {
        let v: Vec<String> = bird
            .routes("master6")
            .into_iter()
            .map(|r| r.prefix)
            .collect();
        (v == ["2001:db8:1::/48"]).then_some(())
    });
    assert!(v6.is_some(), "{:?}", bird.routes("master6"));
    fs::write(d.config(), "neighbor {").unwrap();
    d.ctl("reload");
    // The manager publishes at least once a second.
    std::thread::sleep(Duration::from_millis(1500));

    let show = d.ctl("show neighbor");
    let tcp = scrape(d.metrics);
    let ctl = d.ctl("metrics");
    promtool_accepts(&tcp, "scrape over TCP");
    promtool_accepts(&ctl, "output of ctl metrics");
    if Command::new("curl").arg("--version").output().is_ok() {
        let out = Command::new("curl")
            .args(["-sS", "--max-time", "10"])
            .arg(format!("http://{}/metrics", d.metrics))
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        promtool_accepts(&String::from_utf8_lossy(&out.stdout), "scrape by curl");
        println!("curl scrape: {} octets", out.stdout.len());
    }
    for name in EXPECTED {
        assert!(
            tcp.contains(&format!("# TYPE {name} ")) && tcp.contains(&format!("\n{name}")),
            "{name} missing\n{tcp}"
        );
        assert!(ctl.contains(&format!("# TYPE {name} ")), "{name}\n{ctl}");
    }
    let m = samples(&tcp);
    let get = |key: &str| -> f64 {
        *m.get(key)
            .unwrap_or_else(|| panic!("no sample {key}\n{tcp}"))
    };
    let n = format!("neighbor=\"{}\"", BIRD.0);
    println!("{show}");

    // As `ctl show neighbor` says.
    let line = show.lines().find(|l| l.contains(BIRD.0)).expect("neighbor");
    assert_eq!(field(line, "state"), "Established");
    assert_eq!(get(&format!("bgpinject_neighbor_up{{{n}}}")), 1.0);
    assert_eq!(
        get(&format!(
            "bgpinject_neighbor_state{{{n},state=\"Established\"}}"
        )),
        1.0
    );
    assert_eq!(
        get(&format!("bgpinject_neighbor_state{{{n},state=\"Idle\"}}")),
        0.0
    );
    let uptime: f64 = field(line, "uptime").trim_end_matches('s').parse().unwrap();
    let scraped_uptime = get(&format!("bgpinject_neighbor_uptime_seconds{{{n}}}"));
    assert!(
        (scraped_uptime - uptime).abs() <= 2.0 && uptime > 0.0,
        "{scraped_uptime} vs {uptime}"
    );
    let routes: f64 = field(line, "routes").parse().unwrap();
    let file: f64 = field(line, "file").parse().unwrap();
    let programs: f64 = field(line, "programs").parse().unwrap();
    assert_eq!(
        get(&format!("bgpinject_neighbor_adj_rib_out_routes{{{n}}}")),
        routes
    );
    let source = |s: &str, name: &str| {
        get(&format!(
            "bgpinject_neighbor_routes{{{n},source=\"{s}\",name=\"{name}\"}}"
        ))
    };
    assert_eq!(source("file", ""), file);
    assert_eq!(
        source("process", "feed\\\\x") + source("healthcheck", "web") + source("control", ""),
        programs
    );
    let per_family = |metric: &str| -> f64 {
        m.iter()
            .filter(|(k, _)| k.starts_with(&format!("{metric}{{{n},family=")))
            .map(|(_, v)| v)
            .sum()
    };
    let updates: f64 = field(line, "updates-sent").parse().unwrap();
    let announcements: f64 = field(line, "announcements-sent").parse().unwrap();
    assert_eq!(per_family("bgpinject_neighbor_updates_sent_total"), updates);
    assert_eq!(
        per_family("bgpinject_neighbor_prefixes_announced_total"),
        announcements
    );

    // As configured: 3 routes in the file (10.1/16, 10.2/16, the IPv6 one), 2 from the
    // helper, 1 from the health check, 1 from the control socket.
    assert_eq!((file, programs, routes), (3.0, 4.0, 7.0));
    assert_eq!(source("process", "feed\\\\x"), 2.0);
    assert_eq!(source("healthcheck", "web"), 1.0);
    assert_eq!(source("control", ""), 1.0);
    // Every IPv4 route once (10/8 before the reload, then 10.2/16), 10/8 withdrawn by it;
    // the IPv6 one in its own family.
    let fam = |metric: &str, family: &str| get(&format!("{metric}{{{n},family=\"{family}\"}}"));
    assert_eq!(
        fam(
            "bgpinject_neighbor_prefixes_announced_total",
            "ipv4 unicast"
        ),
        7.0
    );
    assert_eq!(
        fam(
            "bgpinject_neighbor_prefixes_withdrawn_total",
            "ipv4 unicast"
        ),
        1.0
    );
    assert_eq!(
        fam(
            "bgpinject_neighbor_prefixes_announced_total",
            "ipv6 unicast"
        ),
        1.0
    );
    assert!(fam("bgpinject_neighbor_updates_sent_total", "ipv6 unicast") >= 1.0);
    assert!(fam("bgpinject_neighbor_updates_sent_total", "ipv4 unicast") >= 2.0);
    assert_eq!(
        get(&format!("bgpinject_neighbor_established_total{{{n}}}")),
        1.0
    );
    assert_eq!(get(&format!("bgpinject_neighbor_flaps_total{{{n}}}")), 0.0);
    // The description's quotes and backslash, escaped.
    assert_eq!(
        get(&format!(
            "bgpinject_neighbor_info{{{n},description=\"core \\\"edge\\\" \\\\ router\",local_as=\"65000\",peer_as=\"65001\"}}"
        )),
        1.0
    );

    // As the log says: two starts of the helper, its refused line, the health check up once.
    let log = d.log();
    let h = "helper=\"feed\\\\x\"";
    assert_eq!(log.matches("process feed\\x: started").count(), 2, "{log}");
    assert_eq!(get(&format!("bgpinject_helper_starts_total{{{h}}}")), 2.0);
    assert_eq!(get(&format!("bgpinject_helper_restarts_total{{{h}}}")), 1.0);
    assert_eq!(get(&format!("bgpinject_helper_running{{{h}}}")), 1.0);
    assert_eq!(
        get(&format!("bgpinject_helper_refused_lines_total{{{h}}}")),
        1.0
    );
    assert_eq!(get("bgpinject_control_refused_commands_total"), 1.0);
    assert_eq!(log.matches("healthcheck web: up after check").count(), 1);
    assert_eq!(get("bgpinject_healthcheck_up{healthcheck=\"web\"}"), 1.0);
    assert_eq!(
        get("bgpinject_healthcheck_transitions_total{healthcheck=\"web\"}"),
        1.0
    );
    assert_eq!(
        get("bgpinject_healthcheck_failures_total{healthcheck=\"web\"}"),
        0.0
    );
    assert!(get("bgpinject_healthcheck_runs_total{healthcheck=\"web\"}") >= 1.0);
    // One reload applied, then one refused.
    assert_eq!(log.matches("reload refused").count(), 1, "{log}");
    assert_eq!(get("bgpinject_reloads_total{result=\"applied\"}"), 1.0);
    assert_eq!(get("bgpinject_reloads_total{result=\"refused\"}"), 1.0);
    assert_eq!(get("bgpinject_last_reload_success"), 0.0);
    assert!(get("bgpinject_last_reload_duration_seconds") > 0.0);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    assert!((now - get("bgpinject_last_reload_timestamp_seconds")).abs() < 30.0);
    assert_eq!(
        log.matches("session established").count(),
        1,
        "a session went down\n{log}"
    );
    d.assert_no_bug();
}

/// Reads until the server closes; how long that took (`None`: still open after `limit`).
fn closed_within(mut s: &TcpStream, limit: Duration) -> Option<Duration> {
    let started = Instant::now();
    s.set_read_timeout(Some(limit)).unwrap();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return Some(started.elapsed()),
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return None,
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => return None,
            Err(_) => return Some(started.elapsed()),
        }
        if started.elapsed() > limit {
            return None;
        }
    }
}

/// Connections to `addr` that the server has not closed: ESTABLISHED or CLOSE_WAIT on its
/// side (from /proc/net/tcp; the test is the only user of its addresses). A socket the server
/// closed first waits in FIN_WAIT or TIME_WAIT without a descriptor: not counted.
fn server_connections(addr: SocketAddr) -> usize {
    let SocketAddr::V4(v4) = addr else {
        panic!("IPv4 only")
    };
    let local = format!(
        "{:08X}:{:04X}",
        u32::from_le_bytes(v4.ip().octets()),
        v4.port()
    );
    let table = fs::read_to_string("/proc/net/tcp").unwrap();
    table
        .lines()
        .skip(1)
        .filter(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            // State 01: ESTABLISHED, 08: CLOSE_WAIT.
            f.len() > 3 && f[1] == local && (f[3] == "01" || f[3] == "08")
        })
        .count()
}

/// The manager still answers at once.
fn manager_answers(d: &Daemon) {
    let started = Instant::now();
    let show = d.ctl("show neighbor");
    assert!(
        show.contains("127.0.23.31") && started.elapsed() < Duration::from_secs(2),
        "{show} after {:?}",
        started.elapsed()
    );
}

#[test]
fn hostile_clients_are_refused_or_cut_and_nothing_else_notices() {
    let d = Daemon::start("127.0.23.1:17993", |_| {
        "neighbor 127.0.23.31 { router-id 192.0.2.10; local-address 127.0.23.30; local-as 65000; peer-as 65001; connect 17995; }\n".into()
    });
    let addr = d.metrics;
    let baseline_fds = d.open_files();

    // POST, and other methods: 405 with Allow.
    for method in ["POST", "PUT", "DELETE", "HEAD"] {
        let (status, headers, _) = http(
            addr,
            &format!("{method} /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"),
        );
        assert_eq!(status, "HTTP/1.1 405 Method Not Allowed", "{method}");
        assert!(headers.contains("Allow: GET"), "{headers}");
    }
    let (status, _, _) = http(addr, "GET /other HTTP/1.1\r\n\r\n");
    assert_eq!(status, "HTTP/1.1 404 Not Found");
    let (status, _, _) = http(addr, "hello\r\n\r\n");
    assert_eq!(status, "HTTP/1.1 400 Bad Request");

    // 1 MB of headers: refused after 8 KiB, the connection closed; nothing held.
    let mut big = TcpStream::connect(addr).unwrap();
    big.set_write_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let reader = big.try_clone().unwrap();
    let writer = std::thread::spawn(move || {
        let line = format!("X-Padding: {}\r\n", "a".repeat(1000));
        let mut sent = big.write_all(b"GET /metrics HTTP/1.1\r\n").map(|_| 23);
        while let Ok(n) = sent {
            if n >= 1 << 20 {
                break;
            }
            sent = big.write_all(line.as_bytes()).map(|_| n + line.len());
        }
        sent
    });
    let started = Instant::now();
    let mut answer = Vec::new();
    reader
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let _ = (&reader).read_to_end(&mut answer);
    let answer = String::from_utf8_lossy(&answer);
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 431 "),
        "{answer}"
    );
    assert!(started.elapsed() < Duration::from_secs(8));
    let sent = writer.join().unwrap();
    println!(
        "1 MB of headers: answered {:?} and closed after {:?}; the writer {}",
        answer.lines().next(),
        started.elapsed(),
        match sent {
            Ok(n) => format!("got {n} octets in before the close"),
            Err(e) => format!("was cut off: {e}"),
        }
    );
    drop(reader);
    manager_answers(&d);

    // A client that connects and sends nothing is closed within the timeout (5 s), while
    // scrapes and the manager go on.
    let idle = TcpStream::connect(addr).unwrap();
    let slow = TcpStream::connect(addr).unwrap();
    let started = Instant::now();
    // One octet a second: the timeout is for the whole request, not per read.
    let dripper = {
        let mut slow = slow.try_clone().unwrap();
        std::thread::spawn(move || {
            for b in b"GET /metrics HTTP/1.1\r\nHost: x" {
                if slow.write_all(&[*b]).is_err() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(700));
            }
        })
    };
    for _ in 0..3 {
        let text = scrape(addr);
        assert!(text.contains("bgpinject_neighbor_up"));
        manager_answers(&d);
        std::thread::sleep(Duration::from_millis(300));
    }
    let closed = closed_within(&idle, Duration::from_secs(10));
    println!("a silent client was closed after {closed:?}");
    assert!(
        closed.is_some_and(|t| t <= Duration::from_secs(7)),
        "{closed:?}"
    );
    let cut = closed_within(&slow, Duration::from_secs(10)).map(|_| started.elapsed());
    println!("a client sending one octet every 0.7 s was closed after {cut:?}");
    assert!(cut.is_some_and(|t| t <= Duration::from_secs(7)), "{cut:?}");
    let _ = dripper.join();

    // 200 connections at once, each asking properly: every one gets 200 or 503 and is closed;
    // then 200 that say nothing: the manager answers meanwhile, and all are gone after the
    // timeout.
    let started = Instant::now();
    let clients: Vec<_> = (0..200)
        .map(|_| {
            std::thread::spawn(move || {
                let mut s = TcpStream::connect(addr)?;
                s.set_read_timeout(Some(Duration::from_secs(15)))?;
                s.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")?;
                let mut raw = Vec::new();
                s.read_to_end(&mut raw)?;
                let text = String::from_utf8_lossy(&raw).into_owned();
                Ok::<_, std::io::Error>(text.lines().next().unwrap_or_default().to_string())
            })
        })
        .collect();
    let mut statuses: BTreeMap<String, usize> = BTreeMap::new();
    for c in clients {
        let status = match c.join().unwrap() {
            Ok(s) => s,
            Err(e) => format!("error: {e}"),
        };
        *statuses.entry(status).or_default() += 1;
    }
    println!(
        "200 concurrent scrapes in {:?}: {statuses:?}",
        started.elapsed()
    );
    assert!(statuses.keys().all(|s| s == "HTTP/1.1 200 OK"
        || s == "HTTP/1.1 503 Service Unavailable"
        || s.starts_with("error: Connection reset")));
    assert!(statuses.get("HTTP/1.1 200 OK").is_some_and(|&n| n >= 1));
    manager_answers(&d);

    let silent: Vec<TcpStream> = (0..200)
        .filter_map(|_| TcpStream::connect(addr).ok())
        .collect();
    let started = Instant::now();
    manager_answers(&d);
    let ctl = d.ctl("metrics");
    assert!(ctl.contains("bgpinject_neighbor_up"), "{ctl}");
    let open = silent
        .iter()
        .filter(|s| closed_within(s, Duration::from_secs(10)).is_none())
        .count();
    println!(
        "200 silent connections: {open} still open after {:?}",
        started.elapsed()
    );
    assert_eq!(open, 0);
    for s in &silent {
        let _ = s.shutdown(Shutdown::Both);
    }
    drop(silent);
    scrape(addr);
    // Every connection is closed on the server's side too, and the descriptors with them.
    let left = wait_for(Duration::from_secs(5), || {
        let n = server_connections(addr);
        (n == 0).then_some(n)
    });
    assert!(
        left.is_some(),
        "{} connections still open on {addr}",
        server_connections(addr)
    );
    println!(
        "descriptors: {baseline_fds} before the attacks, {} after",
        d.open_files()
    );
    assert!(d.open_files() <= baseline_fds + 4);
    d.assert_no_bug();
}

#[test]
fn a_bad_or_taken_metrics_address_stops_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("c.conf");
    fs::write(
        &conf,
        "neighbor 127.0.23.41 { router-id 192.0.2.10; local-address 127.0.23.40; local-as 65000; peer-as 65001; connect 17996; }\n",
    )
    .unwrap();
    let out = Command::new(BIN)
        .args(["--check", "--metrics", "localhost"])
        .arg(&conf)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("--metrics: expected ADDRESS:PORT"));
    let taken = std::net::TcpListener::bind("127.0.23.1:17994").unwrap();
    let out = Command::new(BIN)
        .args(["--control", "off", "--metrics", "127.0.23.1:17994"])
        .arg(&conf)
        .output()
        .unwrap();
    drop(taken);
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("metrics: cannot listen on 127.0.23.1:17994")
    );
}

/// `%XX` for everything but unreserved characters (RFC 3986 §2.3).
fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The result of an instant query to Prometheus' HTTP API: each series' labels and value.
fn prometheus_query(api: SocketAddr, query: &str) -> Vec<(serde_json::Value, String)> {
    // HTTP/1.0: the answer is not chunked and ends with the connection.
    let Ok((status, _, body)) = try_http(
        api,
        &format!(
            "GET /api/v1/query?query={} HTTP/1.0\r\n\r\n",
            percent_encode(query)
        ),
    ) else {
        return Vec::new();
    };
    if !status.contains(" 200 ") {
        return Vec::new();
    }
    let v: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
    v["data"]["result"]
        .as_array()
        .map(|series| {
            series
                .iter()
                .map(|s| {
                    (
                        s["metric"].clone(),
                        s["value"][1].as_str().unwrap_or_default().to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn a_prometheus_server_scrapes_it_and_reads_the_labels_back_unescaped() {
    const API: &str = "127.0.23.1:17997";
    let d = Daemon::start("127.0.23.1:17998", |_| {
        "neighbor 127.0.23.51 {
  description 'core \"edge\" \\ router';
  router-id 192.0.2.10; local-address 127.0.23.50; local-as 65000; peer-as 65001; connect 17999;
  static { route 10.0.0.0/8 next-hop 192.0.2.1; route 10.1.0.0/16 next-hop 192.0.2.1; }
}
"
        .into()
    });
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("prometheus.yml");
    fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n  - job_name: bgpinject\n    static_configs:\n      - targets: [\"{}\"]\n",
            d.metrics
        ),
    )
    .unwrap();
    let mut prometheus = Command::new("prometheus");
    prometheus
        .arg(format!("--config.file={}", config.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.path().join("data").display()
        ))
        .arg(format!("--web.listen-address={API}"))
        .current_dir(dir.path());
    let server = harness::daemon::Daemon::spawn(
        "prometheus (Debian's prometheus package; make deps)",
        &mut prometheus,
        &dir.path().join("prometheus.log"),
    );
    let api: SocketAddr = API.parse().unwrap();
    let up = wait_for(Duration::from_secs(60), || {
        let r = prometheus_query(api, "up{job=\"bgpinject\"}");
        r.first().filter(|(_, v)| v == "1").map(|_| ())
    });
    assert!(
        up.is_some(),
        "Prometheus never scraped bgpinject successfully: {:?}\n{}",
        prometheus_query(api, "up"),
        server.log_text()
    );
    let info = prometheus_query(api, "bgpinject_neighbor_info");
    assert_eq!(info.len(), 1, "{info:?}");
    assert_eq!(info[0].0["description"], "core \"edge\" \\ router");
    assert_eq!(info[0].0["neighbor"], "127.0.23.51");
    let file = prometheus_query(api, "bgpinject_neighbor_routes{source=\"file\"}");
    assert_eq!(file.len(), 1, "{file:?}");
    assert_eq!(file[0].1, "2");
    let samples = prometheus_query(api, "scrape_samples_scraped{job=\"bgpinject\"}");
    println!("Prometheus scraped {samples:?} samples per scrape");
    assert!(samples.first().is_some_and(|(_, v)| v != "0"));
    d.assert_no_bug();
}
