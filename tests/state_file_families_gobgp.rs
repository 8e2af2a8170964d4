//! The state file with family routes, flow rules and a watchdog's withdrawn route (issues 20
//! and 22): routes given over the control socket (an EVPN MAC/IP route, a FlowSpec rule, a
//! unicast route and a watchdog group's route that `withdraw watchdog` took back) survive
//! a restart of bgpinject inside GoBGP's graceful restart window: sampled every 100 ms,
//! GoBGP never loses a route that was up, and the withdrawn route never appears, until
//! `announce watchdog` brings it. Expectations come from the command texts below.
//!
//! Loopback 127.0.56.0/24, ports 19100-19149. Run under the interop lock:
//! `flock /tmp/bgpinject-interop.lock cargo test --test state_file_families_gobgp -- --test-threads=1`

mod harness;

use std::fs;
use std::net::IpAddr;
use std::process::Command;
use std::time::{Duration, Instant};

use harness::bgpinject::{Bgpinject, bug_lines};
use harness::gobgp::Gobgp;
use harness::spec::ReceiverSpec;
use harness::wait_for;
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_bgpinject");
const LOCAL: &str = "127.0.56.2";
const GOBGP: (&str, u16) = ("127.0.56.1", 19100);

const EVPN: &str = "evpn mac-ip rd 192.0.2.2:100 mac 00:11:22:aa:bb:01 label [ 10100 ] next-hop 192.0.2.2 extended-community [ target:65019:100 ]";
const FLOW: &str =
    "flow route { match { destination 198.51.100.1/32; destination-port =53; } then { discard; } }";
const UP: &str = "10.8.0.0/16";
const HELD: &str = "10.9.0.0/16";
const FILE_ROUTE: &str = "203.0.113.0/24";

fn config(state: &str) -> String {
    format!(
        "state-file \"{state}\";
neighbor {peer} {{
    router-id 192.0.2.10; local-address {LOCAL}; local-as 65019; peer-as 65020;
    connect {port};
    graceful-restart 60;
    eor-wait 10;
    family {{ ipv4 unicast; ipv4 flow; l2vpn evpn; }}
    static {{ route {FILE_ROUTE} next-hop 192.0.2.10; }}
}}
",
        peer = GOBGP.0,
        port = GOBGP.1
    )
}

/// gobgpd with graceful restart (helper side) on each family.
fn gobgp_config(s: &ReceiverSpec) -> String {
    let mut c = format!(
        "[global.config]
  as = {as_}
  router-id = \"{rid}\"
  port = {port}
  local-address-list = [\"{listen}\"]
[global.apply-policy.config]
  default-import-policy = \"accept-route\"
  default-export-policy = \"reject-route\"
[[neighbors]]
  [neighbors.config]
    neighbor-address = \"{nbr}\"
    peer-as = {peer_as}
  [neighbors.transport.config]
    passive-mode = true
    local-address = \"{listen}\"
  [neighbors.graceful-restart.config]
    enabled = true
    restart-time = 120
",
        as_ = s.local_as,
        rid = s.router_id,
        port = s.port,
        listen = s.listen,
        nbr = s.neighbor,
        peer_as = s.neighbor_as
    );
    for name in ["ipv4-unicast", "ipv4-flowspec", "l2vpn-evpn"] {
        c.push_str(&format!(
            "  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = \"{name}\"
    [neighbors.afi-safis.mp-graceful-restart.config]
      enabled = true
"
        ));
    }
    c
}

fn ctl(inj: &Bgpinject, command: &str) -> String {
    let out = Command::new(BIN)
        .arg("ctl")
        .arg("--socket")
        .arg(inj.dir().join("control.sock"))
        .arg(command)
        .output()
        .expect("run bgpinject ctl");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{command}: {text}\n{}", inj.log());
    text
}

/// What GoBGP holds from us: IPv4 prefixes, EVPN MACs, FlowSpec rules (as GoBGP prints
/// their NLRI), each with whether GoBGP marks it stale.
#[derive(Debug, Default, PartialEq)]
struct Table {
    ipv4: Vec<String>,
    evpn_macs: Vec<String>,
    flows: Vec<String>,
}

fn table(g: &Gobgp) -> Table {
    let keys = |family: &str, f: &dyn Fn(&str, &Value) -> String| -> Vec<String> {
        let rib = g.rib(family);
        let mut v: Vec<String> = rib
            .as_object()
            .into_iter()
            .flatten()
            .flat_map(|(dest, paths)| {
                paths
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|p| f(dest, p))
                    .collect::<Vec<_>>()
            })
            .collect();
        v.sort();
        v
    };
    Table {
        ipv4: keys("ipv4", &|d, _| d.to_string()),
        evpn_macs: keys("evpn", &|_, p| {
            p["nlri"]["value"]["mac"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        }),
        flows: keys("ipv4-flowspec", &|d, _| d.to_string()),
    }
}

#[test]
fn family_flow_and_watchdog_routes_survive_a_graceful_restart() {
    let mut spec = ReceiverSpec::new(
        GOBGP.0.parse().unwrap(),
        GOBGP.1,
        65020,
        LOCAL.parse::<IpAddr>().unwrap(),
        65019,
    );
    spec.families = Vec::new();
    let g = Gobgp::start_with_config(&spec, &gobgp_config(&spec));
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("bgpinject.state");
    let conf = config(state.to_str().unwrap());

    let mut first = Bgpinject::start(BIN, &conf, "info");
    assert!(
        g.wait_established(Duration::from_secs(30)),
        "gobgp: {}\nbgpinject: {}",
        g.log(),
        first.log()
    );
    ctl(&first, &format!("announce {EVPN}"));
    ctl(&first, &format!("announce {FLOW}"));
    ctl(
        &first,
        &format!("announce route {UP} next-hop 192.0.2.10 watchdog svc"),
    );
    ctl(
        &first,
        &format!("announce route {HELD} next-hop 192.0.2.10 watchdog svc"),
    );
    ctl(
        &first,
        "announce route 10.7.0.0/16 next-hop 192.0.2.10 watchdog other",
    );
    // The watchdog takes back the group `other`: 10.7.0.0/16 is the withdrawn route; `svc`
    // stays up.
    ctl(&first, "withdraw watchdog other");
    let want = Table {
        ipv4: vec![UP.into(), HELD.into(), FILE_ROUTE.into()],
        evpn_macs: vec!["00:11:22:aa:bb:01".into()],
        flows: vec!["[destination: 198.51.100.1/32][destination-port: ==53]".into()],
    };
    let mut sorted = want.ipv4.clone();
    sorted.sort();
    let want = Table {
        ipv4: sorted,
        ..want
    };
    let reached = wait_for(Duration::from_secs(20), || {
        (table(&g) == want).then_some(())
    });
    assert!(
        reached.is_some(),
        "before the restart: {:?}\nbgpinject: {}",
        table(&g),
        first.log()
    );
    first.stop();
    assert!(
        first
            .log()
            .contains("closed without NOTIFICATION for graceful restart"),
        "{}",
        first.log()
    );
    first.assert_no_resets(1);
    let journal = fs::read_to_string(&state).unwrap();
    println!("state file:\n{journal}");
    assert!(journal.starts_with("bgpinject-state 2\n"), "{journal}");
    assert!(
        journal.contains(&format!(
            "announce {GOBGP_ADDR} control {EVPN}",
            GOBGP_ADDR = GOBGP.0
        )),
        "{journal}"
    );
    assert!(journal.contains(&format!("control {FLOW}")), "{journal}");
    assert!(
        journal.contains("watchdog 127.0.56.1 control other withdrawn route 10.7.0.0/16"),
        "{journal}"
    );

    // The second run, sampled every 100 ms until 6 s after the session is back (past
    // End-of-RIB, after which GoBGP drops what is still stale).
    let second = Bgpinject::start(BIN, &conf, "info");
    let mut samples = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(40);
    let mut back_at: Option<Instant> = None;
    while Instant::now() < deadline {
        samples.push(table(&g));
        if back_at.is_none() && second.sessions_established() > 0 {
            back_at = Some(Instant::now());
        }
        if back_at.is_some_and(|t| t.elapsed() > Duration::from_secs(6)) {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(back_at.is_some(), "session not back: {}", second.log());
    let bad: Vec<&Table> = samples.iter().filter(|t| **t != want).collect();
    println!(
        "{} samples across the restart, {} differ from the table before it",
        samples.len(),
        bad.len()
    );
    assert!(
        bad.is_empty(),
        "GoBGP's table changed across the restart: {:?}\nbgpinject: {}",
        bad.first(),
        second.log()
    );
    assert!(
        second
            .log()
            .contains("replaying 4 routes of programs, 3 watchdog routes"),
        "{}",
        second.log()
    );
    // Only the watchdog brings the withdrawn route back.
    ctl(&second, "announce watchdog other");
    // GoBGP refuses connections until it has seen the old session go (its idle hold): those
    // attempts fail before the session, never after it.
    let log = second.log();
    let after = log.find(": session established").map_or("", |i| &log[i..]);
    assert!(!after.contains(": session down:"), "{log}");
    assert_eq!(log.matches(": session established").count(), 1, "{log}");
    let mut with = want.ipv4.clone();
    with.push("10.7.0.0/16".into());
    with.sort();
    let back = wait_for(Duration::from_secs(10), || {
        (table(&g).ipv4 == with).then_some(())
    });
    assert!(back.is_some(), "{:?}", table(&g));
    let log = second.log();
    assert!(!log[log.find(": session established").unwrap_or(0)..].contains(": session down:"));
    assert!(bug_lines(&second.log()).is_empty(), "{}", second.log());
}
