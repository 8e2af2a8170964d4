//! FlowSpec against a real BIRD 2: bgpinject announces 50 rules (every component type and
//! every action, IPv4 and IPv6) to a private passive BIRD, and each one must appear in
//! BIRD's flow tables exactly as meant; then a reload changes one rule's action and removes
//! another, and BIRD must follow without the session being reset.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

const BIRD_PORT: u16 = 17951;

/// One varying match component: (bgpinject config, BIRD's text), IPv4 then IPv6.
const V4_COMPONENTS: &[(&str, &str)] = &[
    ("source 10.1.0.0/16;", "src 10.1.0.0/16"),
    ("protocol tcp;", "proto 6"),
    ("protocol [ tcp udp ];", "proto 6,17"),
    ("port [ =80 =443 ];", "port 80,443"),
    ("destination-port >1023&<65535;", "dport > 1023 && < 65535"),
    ("source-port =53;", "sport 53"),
    ("icmp-type echo-request;", "icmp type 8"),
    ("icmp-code 3;", "icmp code 3"),
    ("tcp-flags [ =syn&!ack ];", "tcp flags 0x2/0x2 && 0x0/0x10"),
    ("packet-length >=468;", "length >= 468"),
    ("packet-length >512;", "length > 512"),
    ("dscp 46;", "dscp 46"),
    (
        "fragment [ is-fragment first-fragment ];",
        "fragment !!is_fragment || !!first_fragment",
    ),
];
const V6_COMPONENTS: &[(&str, &str)] = &[
    ("source 2001:db8:ffff::/48;", "src 2001:db8:ffff::/48"),
    ("next-header 58;", "next header 58"),
    ("destination-port [ =80 =443 ];", "dport 80,443"),
    ("source-port =53;", "sport 53"),
    ("icmp-type 128;", "icmp type 128"),
    ("icmp-code 0;", "icmp code 0"),
    ("tcp-flags [ =syn&!ack ];", "tcp flags 0x2/0x2 && 0x0/0x10"),
    ("packet-length >512;", "length > 512"),
    ("traffic-class 10;", "dscp 10"),
    ("flow-label 12345;", "label 12345"),
    ("port 22;", "port 22"),
];
/// Actions: (bgpinject config, BIRD's BGP.ext_community text, empty when none).
const ACTIONS: &[(&str, &str)] = &[
    ("discard;", "(generic, 0x80060000, 0x0)"),
    ("rate-limit 1000000;", "(generic, 0x80060000, 0x49742400)"),
    (
        "rate-limit 64000; mark 8;",
        "(generic, 0x80060000, 0x477a0000) (generic, 0x80090000, 0x8)",
    ),
    ("action sample;", "(generic, 0x80070000, 0x2)"),
    ("action terminal;", "(generic, 0x80070000, 0x1)"),
    ("redirect 65000:666;", "(generic, 0x8008fde8, 0x29a)"),
    (
        "redirect 192.0.2.1:666;",
        "(generic, 0x8108c000, 0x201029a)",
    ),
    (
        "redirect 4200000000:7;",
        "(generic, 0x8208fa56, 0xea000007)",
    ),
    ("accept;", ""),
    ("mark 46;", "(generic, 0x80090000, 0x2e)"),
];

struct Rule {
    config: String,
    bird_key: String,
    bird_ext: String,
}

/// 50 rules: each component with a destination of its own, actions taken in turn; plus the
/// two redirect-to-next-hop forms.
fn rules() -> Vec<Rule> {
    let mut v = Vec::new();
    for round in 0..2 {
        for (i, (c, b)) in V4_COMPONENTS.iter().enumerate() {
            let n = v.len();
            let (a, ext) = ACTIONS[n % ACTIONS.len()];
            let dst = format!("192.0.2.{}/32", round * 100 + i);
            v.push(Rule {
                config: format!(
                    "route r{n} {{ match {{ destination {dst}; {c} }} then {{ {a} }} }}"
                ),
                bird_key: format!("flow4 {{ dst {dst}; {b}; }}"),
                bird_ext: ext.to_string(),
            });
        }
        for (i, (c, b)) in V6_COMPONENTS.iter().enumerate() {
            let n = v.len();
            let (a, ext) = ACTIONS[n % ACTIONS.len()];
            let dst = format!("2001:db8:{}::/48", round * 100 + i + 1);
            let a = if a.starts_with("redirect 192") {
                "discard;"
            } else {
                a
            };
            let ext = if a == "discard;" { ACTIONS[0].1 } else { ext };
            v.push(Rule {
                config: format!(
                    "route r{n} {{ match {{ destination {dst}; {c} }} then {{ {a} }} }}"
                ),
                bird_key: format!("flow6 {{ dst {dst}; {b}; }}"),
                bird_ext: ext.to_string(),
            });
        }
    }
    v.push(Rule {
        config: "route ietf { match { destination 198.51.100.0/24; source 10.20.30.40/32; } then { redirect-to-nexthop-ietf 192.0.2.254; } }".into(),
        bird_key: "flow4 { dst 198.51.100.0/24; src 10.20.30.40/32; }".into(),
        bird_ext: "(unknown 0x10c, 192.0.2.254, 0)".into(),
    });
    v.push(Rule {
        config: "route simpson { match { destination 198.51.100.128/25; protocol udp; } then { redirect-to-nexthop; next-hop 192.0.2.9; } }".into(),
        bird_key: "flow4 { dst 198.51.100.128/25; proto 17; }".into(),
        bird_ext: "(generic, 0x8000000, 0x0)".into(),
    });
    v
}

fn config(rules: &[Rule]) -> String {
    let body: Vec<&str> = rules.iter().map(|r| r.config.as_str()).collect();
    format!(
        "neighbor 127.0.0.1 {{ router-id 192.0.2.10; local-address 127.0.0.1; local-as 65000; peer-as 65001; connect {BIRD_PORT};\n  flow {{\n    {}\n  }}\n}}\n",
        body.join("\n    ")
    )
}

/// Kills and reaps a child process when dropped.
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn birdc(sock: &Path, cmd: &str) -> String {
    let out = Command::new("birdc")
        .arg("-s")
        .arg(sock)
        .args(cmd.split(' '))
        .output()
        .expect("birdc runs");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Flow key (`flow4 { ... }`) -> its BGP.ext_community text (empty when none).
fn bird_flows(sock: &Path) -> BTreeMap<String, String> {
    let mut map = BTreeMap::new();
    for table in ["flowtab4", "flowtab6"] {
        let text = birdc(sock, &format!("show route all table {table}"));
        let mut key: Option<String> = None;
        for line in text.lines() {
            if line.starts_with("flow4 {") || line.starts_with("flow6 {") {
                let k = line[..line.find('}').unwrap() + 1].to_string();
                map.insert(k.clone(), String::new());
                key = Some(k);
            } else if let (Some(k), Some(ext)) =
                (&key, line.trim().strip_prefix("BGP.ext_community: "))
            {
                map.insert(k.clone(), ext.to_string());
            }
        }
    }
    map
}

fn expected(rules: &[Rule]) -> BTreeMap<String, String> {
    rules
        .iter()
        .map(|r| (r.bird_key.clone(), r.bird_ext.clone()))
        .collect()
}

/// `(state, since)` of the bgp protocol.
fn protocol(sock: &Path) -> (String, String) {
    let text = birdc(sock, "show protocols inj");
    let line = text
        .lines()
        .find(|l| l.starts_with("inj "))
        .unwrap_or("")
        .to_string();
    let cols: Vec<&str> = line.split_whitespace().collect();
    (
        cols.get(5).unwrap_or(&"").to_string(),
        cols.get(4).unwrap_or(&"").to_string(),
    )
}

/// Polls until BIRD's flow tables equal `want` (30 s at most); returns what BIRD had last.
fn wait_for(sock: &Path, want: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let got = bird_flows(sock);
        if &got == want || Instant::now() > deadline {
            return got;
        }
        sleep(Duration::from_millis(250));
    }
}

fn assert_same(got: &BTreeMap<String, String>, want: &BTreeMap<String, String>) {
    let mut problems = Vec::new();
    for (k, v) in want {
        match got.get(k) {
            None => problems.push(format!("missing in BIRD: {k}")),
            Some(g) if g != v => problems.push(format!("{k}: actions {g:?}, expected {v:?}")),
            Some(_) => {}
        }
    }
    for k in got.keys().filter(|k| !want.contains_key(*k)) {
        problems.push(format!("unexpected in BIRD: {k}"));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn bird_receives_every_flow_rule_and_follows_a_reload() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("bird.ctl");
    let bird_conf = dir.path().join("bird.conf");
    fs::write(
        &bird_conf,
        format!(
            "router id 192.0.2.1;\nflow4 table flowtab4;\nflow6 table flowtab6;\nprotocol device {{}}\n\
             protocol bgp inj {{\n  local 127.0.0.1 port {BIRD_PORT} as 65001;\n  neighbor 127.0.0.1 as 65000;\n  strict bind on;\n  passive on;\n  multihop;\n\
             flow4 {{ table flowtab4; import all; export none; }};\n  flow6 {{ table flowtab6; import all; export none; }};\n}}\n"
        ),
    )
    .unwrap();
    let bird = Command::new("bird")
        .arg("-f")
        .arg("-c")
        .arg(&bird_conf)
        .arg("-s")
        .arg(&sock)
        .arg("-P")
        .arg(dir.path().join("bird.pid"))
        .stdout(Stdio::null())
        .spawn()
        .expect("BIRD 2 must be installed (bird in PATH) for this test");
    let _bird = Guard(bird);
    let deadline = Instant::now() + Duration::from_secs(10);
    while !birdc(&sock, "show status").contains("Daemon is up") {
        assert!(Instant::now() < deadline, "BIRD did not start");
        sleep(Duration::from_millis(100));
    }

    let mut all = rules();
    assert!(all.len() >= 40);
    let conf = dir.path().join("bgpinject.conf");
    fs::write(&conf, config(&all)).unwrap();
    let log = fs::File::create(dir.path().join("bgpinject.log")).unwrap();
    let injector = Command::new(env!("CARGO_BIN_EXE_bgpinject"))
        .arg("--control")
        .arg(dir.path().join("control.sock"))
        .arg(&conf)
        .stderr(log)
        .spawn()
        .unwrap();
    let pid = injector.id() as i32;
    let mut injector = Guard(injector);

    let got = wait_for(&sock, &expected(&all));
    assert_same(&got, &expected(&all));
    let (state, since) = protocol(&sock);
    assert_eq!(state, "Established");
    println!("BIRD has all {} rules", got.len());

    // Reload: rule 0 changes its action (discard -> rate-limit), rule 1 goes away.
    all[0].config = all[0].config.replace("discard;", "rate-limit 64000;");
    all[0].bird_ext = "(generic, 0x80060000, 0x477a0000)".into();
    all.remove(1);
    fs::write(&conf, config(&all)).unwrap();
    // SAFETY: kill(2) on the pid of a child we own and have not reaped.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGHUP) }, 0);
    let got = wait_for(&sock, &expected(&all));
    assert_same(&got, &expected(&all));
    assert_eq!(
        protocol(&sock),
        (state, since),
        "the session was reset by the reload"
    );
    let stats = birdc(&sock, "show protocols all inj");
    println!("{stats}");

    // SAFETY: as above.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    let deadline = Instant::now() + Duration::from_secs(10);
    while injector.0.try_wait().unwrap().is_none() {
        assert!(
            Instant::now() < deadline,
            "bgpinject did not stop on SIGTERM"
        );
        sleep(Duration::from_millis(100));
    }
}
