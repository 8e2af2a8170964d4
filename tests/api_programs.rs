//! Routes from programs against a real BIRD 2: a helper script using every command form, a
//! helper that never reads its stdin, a helper flooding 100,000 routes, the control socket
//! (`bgpinject ctl`), built-in health checks, and ExaBGP's own example helpers run unchanged.
//!
//! Addresses 127.0.0.141..149; prefixes and next hops from documentation ranges. ExaBGP's
//! examples announce other prefixes, so they run against a neighbor that never connects
//! (a closed loopback port) and are checked with `show adj-rib out`.

mod harness;

use harness::bird::{BgpProtocol, Bird, BirdBuilder};
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_bgpinject");
const TIMEOUT: Duration = Duration::from_secs(30);

/// A bgpinject with its own control socket.
struct Daemon {
    child: Child,
    socket: PathBuf,
    log: PathBuf,
    dir: tempfile::TempDir,
}

impl Daemon {
    fn start(config: &str, level: &str) -> Daemon {
        let dir = tempfile::tempdir().unwrap();
        let conf = dir.path().join("bgpinject.conf");
        fs::write(&conf, config.replace("DIR", dir.path().to_str().unwrap())).unwrap();
        let socket = dir.path().join("ctl.sock");
        let log = dir.path().join("bgpinject.log");
        let out = fs::File::create(&log).unwrap();
        let child = Command::new(BIN)
            .args(["--log-level", level, "--control"])
            .arg(&socket)
            .arg(&conf)
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .unwrap();
        let d = Daemon {
            child,
            socket,
            log,
            dir,
        };
        harness::wait_for(Duration::from_secs(10), || d.socket.exists().then_some(()))
            .expect("control socket created");
        d
    }

    fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// `bgpinject ctl --socket S COMMAND`: (exit code, stdout).
    fn ctl(&self, command: &str) -> (i32, String) {
        let out = Command::new(BIN)
            .arg("ctl")
            .arg("--socket")
            .arg(&self.socket)
            .args(command.split(' '))
            .output()
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    }

    fn log(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        unsafe {
            libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM);
        }
        let done = harness::wait_for(Duration::from_secs(10), || {
            self.child.try_wait().ok().flatten()
        });
        if done.is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn script(dir: &Path, name: &str, body: &str) -> PathBuf {
    let path = dir.join(name);
    fs::write(&path, format!("#!/bin/sh\n{body}")).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
    path
}

fn bird(address: &str, port: u16, peer: &str, flows: bool) -> Bird {
    let mut p = BgpProtocol::new("inj", peer, 179, 65001, 65000)
        .passive(true)
        .families(true, true);
    let mut b = BirdBuilder::new("192.0.2.251", address, port);
    if flows {
        p = p.extra("    flow4 { table flowtab4; import all; export none; };\n");
        b = b.extra("flow4 table flowtab4;\n");
    }
    b.bgp(p).start()
}

fn prefixes(bird: &Bird, table: &str) -> Vec<String> {
    let mut v: Vec<String> = bird.routes(table).into_iter().map(|r| r.prefix).collect();
    v.sort();
    v
}

/// Waits until `table` holds exactly the prefixes `want`, and fails the test with both sets
/// (and `context`) when it does not within [`TIMEOUT`].
fn expect_prefixes(bird: &Bird, table: &str, want: &[&str], context: impl Fn() -> String) {
    let mut want: Vec<String> = want.iter().map(|s| s.to_string()).collect();
    want.sort();
    let got = harness::wait_for(TIMEOUT, || {
        let got = prefixes(bird, table);
        (got == want).then_some(got)
    })
    .unwrap_or_else(|| prefixes(bird, table));
    assert_eq!(got, want, "{}", context());
}

/// `(prefix, next hop, MED)` of each route of `table`, sorted.
fn routes(bird: &Bird, table: &str) -> Vec<(String, String, Option<u32>)> {
    let mut v: Vec<_> = bird
        .routes(table)
        .into_iter()
        .map(|r| (r.prefix, r.next_hop, r.med))
        .collect();
    v.sort();
    v
}

fn route(prefix: &str, next_hop: &str, med: Option<u32>) -> (String, String, Option<u32>) {
    (prefix.to_string(), next_hop.to_string(), med)
}

/// BIRD's FlowSpec rules of `flowtab4`, each as BIRD writes its match (`flow4 { ... }`), sorted.
fn flows(bird: &Bird) -> Vec<String> {
    let mut v: Vec<String> = bird
        .birdc(&["show", "route", "table", "flowtab4"])
        .unwrap_or_default()
        .lines()
        .filter(|l| l.starts_with("flow4"))
        .filter_map(|l| Some(l[..l.find('}')? + 1].to_string()))
        .collect();
    v.sort();
    v
}

fn expect_flows(bird: &Bird, want: &[&str], context: impl Fn() -> String) {
    let want: Vec<String> = want.iter().map(|s| s.to_string()).collect();
    let got = harness::wait_for(TIMEOUT, || {
        let got = flows(bird);
        (got == want).then_some(got)
    })
    .unwrap_or_else(|| flows(bird));
    assert_eq!(got, want, "{}", context());
}

fn route_count(bird: &Bird, table: &str) -> usize {
    let out = bird
        .birdc(&["show", "route", "count", "table", table])
        .unwrap_or_default();
    out.lines()
        .find_map(|l| l.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

#[test]
fn helper_commands_stuck_helper_and_control_socket() {
    let bird = bird("127.0.0.141", 17141, "127.0.0.142", true);
    let config = r#"
process cmds {
    run DIR/cmds.sh;
    encoder text;
}
process stuck {
    run DIR/stuck.sh;
}
neighbor 127.0.0.141 {
    router-id 192.0.2.142; local-address 127.0.0.142; local-as 65000; peer-as 65001; connect 17141;
    family { ipv4 unicast; ipv4 flow; }
    static { route 192.0.2.128/25 next-hop 192.0.2.1; }
    api { processes [ cmds stuck ]; }
}
"#;
    let d = Daemon::start(config, "info");
    let dir = d.dir().to_str().unwrap().to_string();
    script(
        d.dir(),
        "cmds.sh",
        &format!(
            r#"exec 3<&0
cat <&3 > {dir}/stdin.log &
sleep 1
echo "announce route 203.0.113.0/24 next-hop 192.0.2.1 med 10 community [ 65000:1 ]"
echo "announce attributes med 20 next-hop 192.0.2.2 nlri 198.51.100.0/28 198.51.100.16/28"
echo "neighbor 127.0.0.141 announce route 198.51.100.64/26 next-hop self"
echo "neighbor 127.0.0.141 router-id 192.0.2.142, neighbor 127.0.0.9 announce route 198.51.100.128/26 next-hop 192.0.2.3"
echo "announce flow route {{ match {{ destination 198.51.100.0/24; protocol tcp; destination-port =80; }} then {{ discard; }} }}"
echo "announce eor"
echo "announce route-refresh"
echo "version"
i=0; while [ ! -e {dir}/phase2 ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done
echo "withdraw route 203.0.113.0/24 next-hop 192.0.2.1"
echo "withdraw attributes nlri 198.51.100.16/28"
echo "neighbor 127.0.0.141 withdraw route 198.51.100.128/26"
echo "withdraw flow route {{ match {{ destination 198.51.100.0/24; protocol tcp; destination-port =80; }} }}"
echo "withdraw route 192.0.2.128/25"
echo "frobnicate"
sleep 60
"#
        ),
    );
    // Never reads stdin, and asks for 40,000 answer lines (far more than a pipe holds).
    script(
        d.dir(),
        "stuck.sh",
        "i=0; while [ $i -lt 20000 ]; do echo version; i=$((i+1)); done\nsleep 60\n",
    );
    // The scripts are written after the daemon started: the first start fails, the restart
    // after the 1 s backoff finds them.
    bird.wait_established("inj", TIMEOUT);
    let log = || d.log();
    expect_prefixes(
        &bird,
        "master4",
        &[
            "192.0.2.128/25",
            "198.51.100.0/28",
            "198.51.100.128/26",
            "198.51.100.16/28",
            "198.51.100.64/26",
            "203.0.113.0/24",
        ],
        log,
    );
    // Each with the next hop and MED its command gave (`next-hop self`: our address).
    let mut phase1 = vec![
        route("192.0.2.128/25", "192.0.2.1", None),
        route("198.51.100.0/28", "192.0.2.2", Some(20)),
        route("198.51.100.128/26", "192.0.2.3", None),
        route("198.51.100.16/28", "192.0.2.2", Some(20)),
        route("198.51.100.64/26", "127.0.0.142", None),
        route("203.0.113.0/24", "192.0.2.1", Some(10)),
    ];
    phase1.sort();
    assert_eq!(routes(&bird, "master4"), phase1, "{}", d.log());
    let r = bird
        .routes("master4")
        .into_iter()
        .find(|r| r.prefix == "203.0.113.0/24")
        .unwrap();
    assert_eq!(r.communities, vec!["65000:1".to_string()]);
    const FLOW: &str = "flow4 { dst 198.51.100.0/24; proto 6; dport 80; }";
    expect_flows(&bird, &[FLOW], log);

    // The stuck helper has filled its pipe: the daemon still answers, and says so.
    let stuck = harness::wait_for(TIMEOUT, || {
        d.log()
            .contains("process stuck: does not read its stdin")
            .then_some(())
    });
    assert!(stuck.is_some(), "{}", d.log());
    let t = Instant::now();
    let (code, out) = d.ctl("show neighbor");
    println!("ctl show neighbor ({:?}): {out}", t.elapsed());
    assert_eq!(code, 0);
    assert!(
        out.contains("neighbor 127.0.0.141") && out.contains("state Established"),
        "{out}"
    );
    assert!(out.contains("routes 7 (file 1, programs 6)"), "{out}");
    let (code, out) = d.ctl("show neighbor summary");
    assert_eq!(code, 0, "{out}");

    // Control socket: announce, withdraw, and a refused withdraw of a file route, each
    // checked in BIRD's table (the reply alone proves nothing).
    let (code, out) = d.ctl("announce route 203.0.113.200/32 next-hop 192.0.2.9 med 7");
    assert_eq!((code, out.as_str()), (0, "done\n"));
    let mut with_ctl = phase1.clone();
    with_ctl.push(route("203.0.113.200/32", "192.0.2.9", Some(7)));
    with_ctl.sort();
    let prefixes_of = |v: &[(String, String, Option<u32>)]| -> Vec<String> {
        v.iter().map(|r| r.0.clone()).collect()
    };
    let want = prefixes_of(&with_ctl);
    let want: Vec<&str> = want.iter().map(String::as_str).collect();
    expect_prefixes(&bird, "master4", &want, log);
    assert_eq!(routes(&bird, "master4"), with_ctl, "{}", d.log());
    let (code, out) = d.ctl("withdraw route 203.0.113.200/32");
    assert_eq!((code, out.as_str()), (0, "done\n"));
    let want = prefixes_of(&phase1);
    let want: Vec<&str> = want.iter().map(String::as_str).collect();
    expect_prefixes(&bird, "master4", &want, log);
    let (code, out) = d.ctl("withdraw route 192.0.2.128/25");
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("is in the configuration file"), "{out}");
    // Refused: the file's route is still at the peer, and nothing else changed.
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(routes(&bird, "master4"), phase1, "{}", d.log());

    // Phase 2: the helper withdraws; the file route it tries to withdraw stays.
    fs::write(d.dir().join("phase2"), "").unwrap();
    let phase2 = ["192.0.2.128/25", "198.51.100.0/28", "198.51.100.64/26"];
    expect_prefixes(&bird, "master4", &phase2, log);
    expect_flows(&bird, &[], log);
    let stdin = harness::wait_for(TIMEOUT, || {
        let s = fs::read_to_string(d.dir().join("stdin.log")).unwrap_or_default();
        (s.matches("error").count() >= 2).then_some(s)
    })
    .unwrap_or_else(|| {
        panic!(
            "two errors acknowledged: {:?}\n{}",
            fs::read_to_string(d.dir().join("stdin.log")),
            d.log()
        )
    });
    println!("helper stdin:\n{stdin}");
    // The `done`/`error` lines follow the commands in order: the eight of phase 1 and four
    // withdrawals of phase 2 done, the withdrawal of the file's route and `frobnicate`
    // refused.
    assert!(stdin.contains("bgpinject "), "{stdin}");
    let acks: Vec<&str> = stdin
        .lines()
        .filter(|l| *l == "done" || *l == "error")
        .collect();
    let mut want = vec!["done"; 12];
    want.extend(["error", "error"]);
    assert_eq!(acks, want, "{stdin}");

    // A reload keeps the routes from programs.
    let (code, _) = d.ctl("reload");
    assert_eq!(code, 0);
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(prefixes(&bird, "master4"), phase2, "{}", d.log());
}

#[test]
fn helper_flooding_100000_routes() {
    const COUNT: usize = 100_000;
    let bird = bird("127.0.0.143", 17143, "127.0.0.144", false);
    let config = r#"
process flood {
    run DIR/flood.sh;
}
neighbor 127.0.0.143 {
    router-id 192.0.2.144; local-address 127.0.0.144; local-as 65000; peer-as 65001; connect 17143;
    family { ipv4 unicast; ipv6 unicast; }
    api { processes [ flood ]; }
}
"#;
    let d = Daemon::start(config, "info");
    bird.wait_established("inj", TIMEOUT);
    let dir = d.dir().to_str().unwrap().to_string();
    // Written after the session is up, so the timing covers commands to BIRD's table.
    script(
        d.dir(),
        "flood.sh",
        &format!(
            "exec awk 'BEGIN {{ for (i = 0; i < {COUNT}; i++) printf \"announce route 2001:db8:%x:%x::/64 next-hop 2001:db8::1\\n\", int(i / 65536), i % 65536; system(\"sleep 120\") }}' > /dev/stdout 2>{dir}/awk.err\n"
        ),
    );
    let started = Instant::now();
    let done = harness::wait_for(Duration::from_secs(180), || {
        (route_count(&bird, "master6") == COUNT).then_some(())
    });
    let elapsed = started.elapsed();
    println!(
        "100,000 routes from a helper reached BIRD in {:.2} s (including the helper's 1 s restart backoff)",
        elapsed.as_secs_f64()
    );
    assert!(
        done.is_some(),
        "BIRD has {} routes\n{}",
        route_count(&bird, "master6"),
        d.log()
    );
    // The very prefixes the helper wrote, not just as many.
    let mut want: Vec<String> = (0..COUNT)
        .map(|i| {
            let (hi, lo) = ((i / 65536) as u16, (i % 65536) as u16);
            format!(
                "{}/64",
                std::net::Ipv6Addr::new(0x2001, 0xdb8, hi, lo, 0, 0, 0, 0)
            )
        })
        .collect();
    want.sort();
    let got = prefixes(&bird, "master6");
    let missing: Vec<&String> = want
        .iter()
        .filter(|p| got.binary_search(p).is_err())
        .take(5)
        .collect();
    let extra: Vec<&String> = got
        .iter()
        .filter(|p| want.binary_search(p).is_err())
        .take(5)
        .collect();
    assert!(
        got == want,
        "{} prefixes at BIRD; missing (first 5) {missing:?}, unexpected {extra:?}",
        got.len()
    );
}

#[test]
fn health_check_rise_fall_disable_and_no_update_while_stable() {
    let bird = bird("127.0.0.145", 17145, "127.0.0.146", false);
    let config = r#"
healthcheck web {
    command "test -e DIR/up";
    interval 1; timeout 2; rise 3; fall 2;
    disable-file DIR/disabled;
    route 203.0.113.77/32 next-hop 192.0.2.1;
    on-down withdraw;
}
healthcheck dns {
    command "test -e DIR/up";
    interval 1; rise 3; fall 2;
    route 203.0.113.78/32 next-hop 192.0.2.1 med 10;
    on-down { med 1000; community [ 65000:666 ]; }
}
neighbor 127.0.0.145 {
    router-id 192.0.2.146; local-address 127.0.0.146; local-as 65000; peer-as 65001; connect 17145;
}
"#;
    let d = Daemon::start(config, "debug");
    bird.wait_established("inj", TIMEOUT);
    let log = || d.log();
    expect_prefixes(&bird, "master4", &["203.0.113.78/32"], log);
    let med = |p: &str| {
        bird.routes("master4")
            .into_iter()
            .find(|r| r.prefix == p)
            .and_then(|r| r.med)
    };
    assert_eq!(med("203.0.113.78/32"), Some(1000));
    // The two checks run on their own clocks: when web's route appears, dns may still be one
    // interval short of its `rise`, so wait (bounded) for dns's own transition before reading it.
    let dns_med_becomes = |want: u32| {
        harness::wait_for(TIMEOUT, || {
            (med("203.0.113.78/32") == Some(want)).then_some(())
        });
        med("203.0.113.78/32")
    };

    // Up: exactly `rise` (3) passed checks after the file appears.
    fs::write(d.dir().join("up"), "").unwrap();
    expect_prefixes(
        &bird,
        "master4",
        &["203.0.113.77/32", "203.0.113.78/32"],
        log,
    );
    assert_eq!(dns_med_becomes(10), Some(10));
    let log = d.log();
    let first_pass = check_number(&log, "healthcheck web: check ", ": passed").expect("a pass");
    let up = check_number(&log, "healthcheck web: up after check ", ":").expect("up line");
    assert_eq!(up, first_pass + 2, "{log}");

    // Stable: no UPDATE for 4 checks.
    let before = import_updates(&bird);
    std::thread::sleep(Duration::from_secs(4));
    assert_eq!(
        import_updates(&bird),
        before,
        "{}",
        bird.protocol_info("inj")
    );

    // Down: exactly `fall` (2) failed checks after the file goes.
    fs::remove_file(d.dir().join("up")).unwrap();
    expect_prefixes(&bird, "master4", &["203.0.113.78/32"], || d.log());
    assert_eq!(dns_med_becomes(1000), Some(1000));
    let log = d.log();
    let log = &log[log.find("healthcheck web: up after").unwrap()..];
    let first_fail = check_number(log, "healthcheck web: check ", ": failed").expect("a fail");
    let down = check_number(log, "healthcheck web: down after check ", ":").expect("down line");
    assert_eq!(down, first_fail + 1, "{log}");

    // The disable file forces down even though the check passes (dns, without a disable
    // file, stays up with its up MED).
    fs::write(d.dir().join("up"), "").unwrap();
    let log = || d.log();
    let both = ["203.0.113.77/32", "203.0.113.78/32"];
    expect_prefixes(&bird, "master4", &both, log);
    assert_eq!(dns_med_becomes(10), Some(10));
    fs::write(d.dir().join("disabled"), "").unwrap();
    expect_prefixes(&bird, "master4", &["203.0.113.78/32"], log);
    assert_eq!(med("203.0.113.78/32"), Some(10));
    assert!(d.log().contains("healthcheck web: disabled after check"));
    assert!(d.log().contains("disable file present"));
}

/// The check number in the first line containing `prefix` followed by digits and `suffix`.
fn check_number(log: &str, prefix: &str, suffix: &str) -> Option<u64> {
    log.lines().find_map(|l| {
        let rest = &l[l.find(prefix)? + prefix.len()..];
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        rest[digits.len()..]
            .starts_with(suffix)
            .then(|| digits.parse().ok())?
    })
}

/// BIRD's "Import updates" received counter for the protocol.
fn import_updates(bird: &Bird) -> u64 {
    bird.protocol_info("inj")
        .lines()
        .find_map(|l| {
            let rest = l.trim().strip_prefix("Import updates:")?;
            rest.split_whitespace().next()?.parse().ok()
        })
        .unwrap_or(0)
}

/// ExaBGP's example helpers, unchanged, against a neighbor that never connects.
#[test]
fn exabgp_example_helpers_run_unchanged() {
    let dir = Path::new("/usr/share/doc/exabgp/examples/run");
    if !dir.exists() {
        harness::ensure_installed("exabgp", "exabgp");
    }
    let cases: &[(&str, &[&str])] = &[
        (
            "api-announce.run",
            &[
                "neighbor 127.0.0.1 ipv4 unicast 1.1.0.0/24 next-hop 101.1.101.1",
                "neighbor 127.0.0.1 ipv4 unicast 1.2.0.0/25 next-hop 101.1.101.1",
            ],
        ),
        (
            "api-attributes.run",
            &[
                "neighbor 127.0.0.1 ipv4 unicast 1.0.0.1/32 next-hop 101.1.101.1 med 100",
                "neighbor 127.0.0.1 ipv4 unicast 1.0.0.2/32 next-hop 101.1.101.1 med 100",
                "neighbor 127.0.0.1 ipv4 unicast 2.0.0.1/32 next-hop 202.2.202.2 as-path [ 1 2 3 4 ] local-preference 200",
                "neighbor 127.0.0.1 ipv4 unicast 2.0.0.2/32 next-hop 202.2.202.2 as-path [ 1 2 3 4 ] local-preference 200",
            ],
        ),
        (
            "api-multi-neighbor.run",
            &["neighbor 127.0.0.1 ipv4 unicast 1.1.0.0/25 next-hop 101.1.101.1"],
        ),
        (
            "api-fast.run",
            &[
                "neighbor 127.0.0.1 ipv4 unicast 0.0.0.0/0 next-hop 1.101.1.101",
                "neighbor 127.0.0.1 ipv4 unicast 1.1.0.0/25 next-hop 101.1.101.1",
                "neighbor 127.0.0.1 ipv4 unicast 2.2.0.0/24 next-hop 101.1.101.1",
            ],
        ),
    ];
    for (name, want) in cases {
        let config = format!(
            "process example {{ run /usr/share/doc/exabgp/examples/run/{name}; on-exit keep; }}\n\
             neighbor 127.0.0.1 {{ router-id 1.2.3.4; local-address 127.0.0.1; local-as 1; peer-as 1; connect 1;\n\
             family {{ ipv4 unicast; ipv4 flow; }} api {{ processes [ example ]; }} }}\n"
        );
        let d = Daemon::start(&config, "info");
        let want: Vec<String> = want.iter().map(|s| s.to_string()).collect();
        let got = harness::wait_for(Duration::from_secs(15), || {
            let (_, out) = d.ctl("show adj-rib out");
            let mut lines: Vec<String> = out
                .lines()
                .filter(|l| *l != "done")
                .map(String::from)
                .collect();
            lines.sort();
            (lines == want).then_some(lines)
        });
        assert!(
            got.is_some(),
            "{name}: {:?}\n{}",
            d.ctl("show adj-rib out").1,
            d.log()
        );
        println!("{name}: {} routes as expected", want.len());
    }
    // FlowSpec: api-flow.run announces two rules (and re-announces, withdraws, announces).
    let config = "process example { run /usr/share/doc/exabgp/examples/run/api-flow.run; on-exit keep; }\n\
         neighbor 127.0.0.1 { router-id 1.2.3.4; local-address 127.0.0.1; local-as 1; peer-as 1; connect 1;\n\
         family { ipv4 unicast; ipv4 flow; } api { processes [ example ]; } }\n";
    let d = Daemon::start(config, "info");
    let got = harness::wait_for(Duration::from_secs(15), || {
        let (_, out) = d.ctl("show adj-rib out");
        (out.matches(" flow ").count() == 2).then_some(out)
    });
    assert!(
        got.is_some(),
        "{:?}\n{}",
        d.ctl("show adj-rib out").1,
        d.log()
    );
}
