//! ExaBGP main's session options, as a real peer sees them: `confederation { }` (RFC 5065)
//! to FRR outside the confederation: the OPEN carries the identifier (FRR's `remote-as` is
//! it, so a wrong AS would not establish) and each route's AS_PATH is the identifier alone or
//! the written path without its confederation segments, value by value as the configuration
//! below writes them. Loopback range 127.0.42.0/24, ports 18400-18449.

mod harness;

use std::time::Duration;

use harness::bgpinject::Bgpinject;
use harness::frr::Frr;
use harness::spec::{Family, ReceiverSpec};
use harness::wait_for;

const LOCAL: &str = "127.0.42.10";
const FRR: (&str, u16) = ("127.0.42.1", 18400);
/// The confederation identifier, our member AS, and the peer's AS (outside).
const IDENTIFIER: u32 = 65000;
const MEMBER: u32 = 65001;
const PEER: u32 = 64999;

#[test]
fn frr_outside_the_confederation_sees_its_identifier_and_no_confederation_segments() {
    let (peer, port) = FRR;
    let config = format!(
        "neighbor {peer} {{
    router-id 192.0.2.10;
    local-address {LOCAL};
    local-as {MEMBER};
    peer-as {PEER};
    connect {port};
    confederation {{ identifier {IDENTIFIER}; members [ 65002 65003 ]; }}
    family {{ ipv4 unicast; }}
    static {{
        route 198.51.100.0/24 next-hop 192.0.2.1;
        route 198.51.101.0/24 next-hop 192.0.2.1 as-path confed-sequence [ {MEMBER} ] [ {IDENTIFIER} 100 ];
        route 198.51.102.0/24 next-hop 192.0.2.1 as-path [ 200 300 ] confed-set [ 65002 ];
    }}
}}
"
    );
    // What FRR must hold, from the configuration above (RFC 5065 §5.3: confederation
    // segments never leave the confederation; an empty path is the identifier on eBGP).
    let want: Vec<(&str, Vec<u32>)> = vec![
        ("198.51.100.0/24", vec![IDENTIFIER]),
        ("198.51.101.0/24", vec![IDENTIFIER, 100]),
        ("198.51.102.0/24", vec![200, 300]),
    ];
    let mut spec = ReceiverSpec::new(
        FRR.0.parse().unwrap(),
        FRR.1,
        PEER,
        LOCAL.parse().unwrap(),
        IDENTIFIER,
    );
    spec.families = vec![Family::Ipv4Unicast];
    let mut frr = Frr::start(&spec);
    let mut inj = Bgpinject::start(env!("CARGO_BIN_EXE_bgpinject"), &config, "debug");
    assert!(
        frr.wait_established(Duration::from_secs(30)),
        "frr: {}\nbgpinject: {}",
        frr.log(),
        inj.log()
    );
    let routes = wait_for(Duration::from_secs(20), || {
        let r = frr.routes("ipv4");
        (r.len() >= want.len()).then_some(r)
    })
    .unwrap_or_else(|| panic!("frr got {:?}\n{}", frr.routes("ipv4"), inj.log()));
    let mut problems = Vec::new();
    if routes.len() != want.len() {
        problems.push(format!("want {} routes, FRR has {routes:?}", want.len()));
    }
    for (prefix, path) in &want {
        match routes.iter().find(|r| r.prefix == *prefix) {
            None => problems.push(format!("{prefix}: not received")),
            Some(r) => {
                if r.as_path != *path {
                    problems.push(format!("{prefix}: AS_PATH {:?}, want {path:?}", r.as_path));
                }
                if r.next_hop != "192.0.2.1" {
                    problems.push(format!("{prefix}: next hop {}, want 192.0.2.1", r.next_hop));
                }
            }
        }
    }
    problems.extend(
        harness::bgpinject::bug_lines(&inj.log())
            .iter()
            .map(|l| l.to_string()),
    );
    assert!(inj.sessions_established() <= 1, "{}", inj.log());
    inj.stop();
    frr.stop();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// `source-interface lo`: the connection is bound to the loopback interface and the session
/// comes up with FRR, its route received; `source-interface` naming no interface never
/// connects, and the log names the interface.
#[test]
fn source_interface_binds_the_connection_to_the_interface() {
    const LOCAL2: &str = "127.0.42.11";
    const FRR2: (&str, u16) = ("127.0.42.2", 18401);
    let config = |interface: &str| {
        let (peer, port) = FRR2;
        format!(
            "neighbor {peer} {{
    router-id 192.0.2.11;
    local-address {LOCAL2};
    local-as 65010;
    peer-as 65011;
    connect {port};
    source-interface {interface};
    family {{ ipv4 unicast; }}
    static {{ route 198.51.100.0/24 next-hop 192.0.2.1; }}
}}
"
        )
    };
    let mut spec = ReceiverSpec::new(
        FRR2.0.parse().unwrap(),
        FRR2.1,
        65011,
        LOCAL2.parse().unwrap(),
        65010,
    );
    spec.families = vec![Family::Ipv4Unicast];
    let mut frr = Frr::start(&spec);

    let mut wrong = Bgpinject::start(env!("CARGO_BIN_EXE_bgpinject"), &config("nosuch0"), "debug");
    let named = wait_for(Duration::from_secs(10), || {
        wrong
            .log()
            .contains("source-interface nosuch0: no such interface")
            .then_some(())
    });
    let wrong_log = wrong.log();
    wrong.stop();
    assert!(named.is_some(), "{wrong_log}");
    assert_ne!(frr.state().as_deref(), Some("Established"), "{wrong_log}");

    let mut inj = Bgpinject::start(env!("CARGO_BIN_EXE_bgpinject"), &config("lo"), "debug");
    assert!(
        frr.wait_established(Duration::from_secs(30)),
        "frr: {}\nbgpinject: {}",
        frr.log(),
        inj.log()
    );
    let routes = wait_for(Duration::from_secs(20), || {
        let r = frr.routes("ipv4");
        (!r.is_empty()).then_some(r)
    })
    .unwrap_or_default();
    let log = inj.log();
    let bugs: Vec<String> = harness::bgpinject::bug_lines(&log)
        .iter()
        .map(|l| l.to_string())
        .collect();
    inj.stop();
    frr.stop();
    assert_eq!(
        routes
            .iter()
            .map(|r| (r.prefix.as_str(), r.next_hop.as_str(), r.as_path.clone()))
            .collect::<Vec<_>>(),
        vec![("198.51.100.0/24", "192.0.2.1", vec![65010])],
        "{log}"
    );
    assert!(bugs.is_empty(), "{bugs:?}");
}
