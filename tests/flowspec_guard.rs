//! FlowSpec guard rails (see `config::guard`): a rule that drops, rate-limits or redirects
//! traffic without narrowing it is refused at `--check`, from a helper (`error`, never sent)
//! and at reload (the running configuration stays); too many rules are refused; the rules
//! operators really send (every rule of conf/flowspec-ddos.conf, a /32 discard) reach BIRD.

mod harness;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use harness::bird::{BgpProtocol, Bird, BirdBuilder};
use harness::wait_for;

const BIN: &str = env!("CARGO_BIN_EXE_bgpinject");
const LOCAL: &str = "127.0.16.12";
const PEER: (&str, u16) = ("127.0.16.4", 17918);
const PROTO: &str = "inj";

fn check(text: &str) -> (bool, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.conf");
    fs::write(&path, text).unwrap();
    let out = Command::new(BIN)
        .arg("--check")
        .arg(&path)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout),
    )
}

fn neighbor_with_flows(rules: &str) -> String {
    format!(
        "neighbor 192.0.2.1 {{ router-id 192.0.2.10; local-as 65000; peer-as 65001;\n flow {{\n{rules}\n }} }}\n"
    )
}

#[test]
fn check_refuses_unnarrowed_rules_and_too_many() {
    for (rule, why) in [
        (
            "route all-udp { match { destination 0.0.0.0/0; protocol udp; } then { discard; } }",
            "destination covers 2^32 addresses",
        ),
        (
            "route udp { match { protocol udp; } then { discard; } }",
            "no destination: every address",
        ),
    ] {
        let (ok, out) = check(&neighbor_with_flows(rule));
        assert!(!ok, "{rule}: accepted");
        assert!(
            out.contains("t.conf:3:") && out.contains("does not narrow") && out.contains(why),
            "{rule}: {out}"
        );
    }
    let many: Vec<String> = (0..10_001u32)
        .map(|i| {
            format!(
                "route r{i} {{ match {{ destination 10.{}.{}.{}/32; }} then {{ discard; }} }}",
                i >> 16,
                (i >> 8) & 255,
                i & 255
            )
        })
        .collect();
    let (ok, out) = check(&neighbor_with_flows(&many.join("\n")));
    assert!(!ok, "10,001 rules accepted");
    assert!(
        out.contains("10001 FlowSpec rules") && out.contains("10000"),
        "{out}"
    );
    let (ok, out) = check(&neighbor_with_flows(&many[..10_000].join("\n")));
    assert!(ok, "10,000 rules refused: {out}");
    // The settings relax each rail.
    let relaxed = "guard { flow off; flow-rules 20000; }\n".to_string()
        + &neighbor_with_flows(&format!(
            "{}\nroute udp {{ match {{ protocol udp; }} then {{ discard; }} }}",
            many.join("\n")
        ));
    let (ok, out) = check(&relaxed);
    assert!(ok, "{out}");
    // A blackhole on a /8 is refused; on a /32 it is what RTBH is for.
    let (ok, out) = check(
        "neighbor 192.0.2.1 { router-id 192.0.2.10; local-as 65000; peer-as 65001;\n static {\n route 10.0.0.0/8 next-hop 192.0.2.1 community [ blackhole ];\n } }\n",
    );
    assert!(
        !ok && out.contains("t.conf:3:") && out.contains("BLACKHOLE"),
        "{out}"
    );
    let (ok, out) = check(
        "neighbor 192.0.2.1 { router-id 192.0.2.10; local-as 65000; peer-as 65001;\n static {\n route 10.0.0.1/32 next-hop 192.0.2.1 community [ blackhole ];\n } }\n",
    );
    assert!(ok, "{out}");
}

/// conf/flowspec-ddos.conf pointed at this test's BIRD, with a helper that announces two
/// rules the guard refuses and one it accepts.
fn config(dir: &Path, extra_rule: &str) -> String {
    let text =
        fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("conf/flowspec-ddos.conf"))
            .unwrap();
    let helper = dir.join("helper.sh");
    let text = text
        .replace("neighbor 127.0.0.1 {", &format!("neighbor {} {{", PEER.0))
        .replace(
            "local-address 127.0.0.1;",
            &format!("local-address {LOCAL};"),
        )
        .replace(
            "connect 17950;",
            &format!(
                "connect {};\n    api {{ processes [ guard-test ]; }}",
                PEER.1
            ),
        )
        .replace("    flow {\n", &format!("    flow {{\n{extra_rule}\n"));
    format!("process guard-test {{ run {}; }}\n{text}", helper.display())
}

const HELPER: &str = "#!/bin/sh
echo 'announce flow route { match { protocol udp; } then { discard; } }'
echo 'announce flow route { match { destination 0.0.0.0/0; protocol udp; } then { discard; } }'
echo 'announce flow route { match { destination 203.0.113.9/32; protocol udp; } then { discard; } }'
cat > \"$(dirname \"$0\")/acks\"
";

fn flow_routes(bird: &Bird) -> Vec<String> {
    let mut out = Vec::new();
    for table in ["flowtab4", "flowtab6"] {
        let text = bird
            .birdc(&["show", "route", "table", table])
            .unwrap_or_default();
        out.extend(
            text.lines()
                .filter(|l| l.starts_with("flow4 {") || l.starts_with("flow6 {"))
                .map(|l| l.split(" [").next().unwrap_or(l).trim().to_string()),
        );
    }
    out.sort();
    out
}

struct Kill(Child);

impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn refused_rules_never_reach_bird_and_a_bad_reload_changes_nothing() {
    let bird = BirdBuilder::new("192.0.2.22", PEER.0, PEER.1)
        .extra("flow4 table flowtab4;\nflow6 table flowtab6;")
        .bgp(
            BgpProtocol::new(PROTO, LOCAL, 179, 65001, 65000)
                .passive(true)
                .families(false, false)
                .extra(
                    "    flow4 { table flowtab4; import all; export none; };
    flow6 { table flowtab6; import all; export none; };
",
                ),
        )
        .start();
    let dir = tempfile::tempdir().unwrap();
    let helper = dir.path().join("helper.sh");
    fs::write(&helper, HELPER).unwrap();
    fs::set_permissions(&helper, fs::Permissions::from_mode(0o755)).unwrap();
    let conf = dir.path().join("bgpinject.conf");
    fs::write(&conf, config(dir.path(), "")).unwrap();
    let file_rules = bgpinject::config::load(&conf).unwrap().neighbors[0]
        .flows
        .len();
    assert_eq!(file_rules, 11);
    let log = dir.path().join("bgpinject.log");
    let out = fs::File::create(&log).unwrap();
    let child = Command::new(BIN)
        .args(["--log-level", "debug", "--control", "off"])
        .arg(&conf)
        .stdin(Stdio::null())
        .stdout(out.try_clone().unwrap())
        .stderr(out)
        .spawn()
        .unwrap();
    let pid = child.id() as i32;
    let _inj = Kill(child);
    let read_log = || fs::read_to_string(&log).unwrap_or_default();
    bird.wait_established(PROTO, Duration::from_secs(30));
    // Every rule of the file and the helper's one accepted rule, nothing else.
    let got = wait_for(Duration::from_secs(20), || {
        let routes = flow_routes(&bird);
        (routes.len() == file_rules + 1).then_some(routes)
    });
    let routes = got.unwrap_or_else(|| panic!("{:#?}\n{}", flow_routes(&bird), read_log()));
    assert!(
        routes
            .iter()
            .any(|r| r.starts_with("flow4 { dst 203.0.113.9/32; proto 17; }")),
        "{routes:#?}"
    );
    assert!(
        !routes.iter().any(|r| !r.contains("dst ")),
        "a rule without destination reached BIRD: {routes:#?}"
    );
    let acks = wait_for(Duration::from_secs(5), || {
        let a = fs::read_to_string(dir.path().join("acks")).unwrap_or_default();
        (a.lines().filter(|l| *l == "done" || *l == "error").count() >= 3).then_some(a)
    })
    .unwrap_or_default();
    // Neighbor events ("neighbor ... up") come on the same pipe: only the answers count.
    let acks: Vec<&str> = acks
        .lines()
        .filter(|l| *l == "done" || *l == "error")
        .collect();
    assert_eq!(acks, ["error", "error", "done"], "{}", read_log());
    let since = bird.protocol_info(PROTO);
    let since = since
        .lines()
        .find(|l| l.contains(PROTO))
        .unwrap_or("")
        .to_string();

    // A reload to a file with a rule the guard refuses changes nothing.
    fs::write(
        &conf,
        config(
            dir.path(),
            "        route everything { match { protocol udp; } then { discard; } }",
        ),
    )
    .unwrap();
    // SAFETY: kill(2) on the pid of a child this test started and has not reaped.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGHUP) }, 0);
    let refused = wait_for(Duration::from_secs(10), || {
        read_log().contains("reload refused").then_some(())
    });
    assert!(refused.is_some(), "{}", read_log());
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(flow_routes(&bird), routes);
    let now = bird.protocol_info(PROTO);
    assert!(
        now.contains(&since),
        "the session was reset:\n{since}\n{now}"
    );
    let log_text = read_log();
    assert!(
        !log_text.contains("panicked") && !log_text.contains("internal error"),
        "{log_text}"
    );
}
