//! BGP Role and OTC (RFC 9234) and long-lived graceful restart (RFC 9494) against a real
//! BIRD 2 (`local role ...;`, `require roles on;`, `long lived graceful restart on;`):
//! - a matching pair comes up, each side shows the other's role, and BIRD shows the OTC
//!   value of each route as the configuration gives it (`bgp.otc`);
//! - as customer, a route whose `otc` gives it OTC never reaches BIRD, a raw OTC attribute is
//!   sent as written (BIRD, the provider, drops it as a leak);
//! - a wrong pair, and a strict role towards a BIRD without one, are refused with 2/11 on
//!   both sides;
//! - BIRD shows our LLGR capability value by value, and after bgpinject stops it keeps the
//!   routes, first as stale, then, past the restart time, as long-lived stale (community
//!   LLGR_STALE 65535:6, RFC 9494 §4.6), until bgpinject is back;
//! - FRR's bgpd (`local-role`) shows the same roles and OTC values, and refuses a wrong pair.
//!
//! As a customer (and a peer, or an RS-client) BIRD and FRR add OTC = our AS on ingress to
//! a route that arrives without it, the value our egress rule adds as provider: ExaBGP 4.2,
//! which has no roles, shows the octets as they left bgpinject.
//!
//! Loopback 127.0.50.0/24, ports 18800-18849. Run under the interop lock:
//! `flock /tmp/bgpinject-interop.lock cargo test --test role_bird -- --test-threads=1`

mod harness;

use std::collections::BTreeMap;
use std::time::Duration;

use harness::bgpinject::{Bgpinject, bug_lines};
use harness::bird::{BgpProtocol, Bird, BirdBuilder};
use harness::wait_for;

const BIN: &str = env!("CARGO_BIN_EXE_bgpinject");
const LOCAL_AS: u32 = 65000;
const BIRD_AS: u32 = 65001;

/// The routes every test configures: one plain, one with `otc 65123`, one with a raw OTC
/// attribute of 64999.
const PLAIN: &str = "198.51.100.0/24";
const KEYWORD: &str = "203.0.113.0/24";
const KEYWORD_OTC: u32 = 65123;
const RAW: &str = "192.0.2.0/24";
const RAW_OTC: u32 = 64999;

fn config(bird: &str, local: &str, port: u16, session: &str) -> String {
    format!(
        "neighbor {bird} {{
    router-id 192.0.2.10; local-address {local}; local-as {LOCAL_AS}; peer-as {BIRD_AS};
    connect {port};
{session}
    static {{
        route {PLAIN} next-hop 192.0.2.10;
        route {KEYWORD} next-hop 192.0.2.10 otc {KEYWORD_OTC};
        route {RAW} next-hop 192.0.2.10 attribute [ 0x23 0xc0 0x{RAW_OTC:08x} ];
    }}
}}
"
    )
}

fn start_bird(listen: &str, port: u16, peer: &str, extra: &str) -> Bird {
    let protocol = BgpProtocol::new("r", peer, 179, BIRD_AS, LOCAL_AS)
        .passive(true)
        .extra(extra);
    BirdBuilder::new("192.0.2.1", listen, port)
        .bgp(protocol)
        .start()
}

/// BIRD's routes in master4: prefix -> (the `BGP.otc` value, the head line's preference
/// column, e.g. `(100)` or `(100s)` for a stale route).
fn otc_by_prefix(bird: &Bird) -> BTreeMap<String, (Option<u32>, String)> {
    let text = bird
        .birdc(&["show", "route", "all", "table", "master4"])
        .unwrap_or_default();
    let mut out: BTreeMap<String, (Option<u32>, String)> = BTreeMap::new();
    let mut current = None;
    for line in text.lines() {
        if let Some(otc) = line.trim().strip_prefix("BGP.otc:") {
            if let Some(p) = &current
                && let Some(e) = out.get_mut(p)
            {
                e.0 = otc.trim().parse().ok();
            }
        } else if !line.starts_with(char::is_whitespace) && line.contains('[') {
            let prefix = line
                .split_whitespace()
                .next()
                .unwrap_or_default()
                .to_string();
            let pref = line
                .split_whitespace()
                .find(|w| w.starts_with('('))
                .unwrap_or_default()
                .to_string();
            out.insert(prefix.clone(), (None, pref));
            current = Some(prefix);
        }
    }
    out
}

fn assert_no_bugs(inj: &Bgpinject) {
    let log = inj.log();
    let bugs = bug_lines(&log);
    assert!(bugs.is_empty(), "{bugs:?}\n{log}");
}

/// The block of `show protocols all` between `heading` and the next capability list.
fn capabilities<'a>(info: &'a str, heading: &str) -> &'a str {
    let start = info
        .find(heading)
        .unwrap_or_else(|| panic!("no '{heading}' in {info}"));
    let rest = &info[start + heading.len()..];
    let end = rest.find("Session:").unwrap_or(rest.len());
    let end = rest[..end].find("capabilities").map_or(end, |e| e.min(end));
    &rest[..end]
}

#[test]
fn provider_to_customer_otc_values_and_llgr_keep_the_routes_as_long_lived_stale() {
    let (bird_addr, our_addr, port) = ("127.0.50.1", "127.0.50.2", 18800);
    let restart_time = 5;
    let stale_time = 3600;
    let bird = start_bird(
        bird_addr,
        port,
        our_addr,
        "    local role customer;\n    require roles on;\n    graceful restart on;\n    long lived graceful restart on;\n",
    );
    let conf = config(
        bird_addr,
        our_addr,
        port,
        &format!(
            "    role {{ local provider; strict enable; }}\n    capability {{ graceful-restart {restart_time}; long-lived-graceful-restart {stale_time}; }}"
        ),
    );
    let mut inj = Bgpinject::start(BIN, &conf, "info");
    bird.wait_established("r", Duration::from_secs(30));
    let info = bird.protocol_info("r");
    let ours = capabilities(&info, "Neighbor capabilities");
    let theirs = capabilities(&info, "Local capabilities");
    // RFC 9234: we declared provider, BIRD customer.
    assert!(ours.contains("Role: provider"), "{info}");
    assert!(theirs.contains("Role: customer"), "{info}");
    // RFC 9494 and RFC 4724, value by value: the times configured, the one family, preserved.
    for line in [
        format!("Restart time: {restart_time}"),
        format!("LL stale time: {stale_time}"),
    ] {
        assert!(ours.contains(&line), "'{line}' missing in:\n{ours}");
    }
    let llgr = &ours[ours
        .find("Long-lived graceful restart")
        .expect("LLGR capability")..];
    assert!(llgr.contains("AF supported: ipv4"), "{llgr}");
    assert!(llgr.contains("AF preserved: ipv4"), "{llgr}");

    // OTC as BIRD holds it: the configured value, or our AS for the route without one.
    let want: BTreeMap<String, Option<u32>> = [
        (PLAIN, Some(LOCAL_AS)),
        (KEYWORD, Some(KEYWORD_OTC)),
        (RAW, Some(RAW_OTC)),
    ]
    .into_iter()
    .map(|(p, o)| (p.to_string(), o))
    .collect();
    let got = wait_for(Duration::from_secs(20), || {
        let got: BTreeMap<String, Option<u32>> = otc_by_prefix(&bird)
            .into_iter()
            .map(|(p, (o, _))| (p, o))
            .collect();
        (got == want).then_some(got)
    });
    assert_eq!(
        got.as_ref(),
        Some(&want),
        "BIRD: {:?}\n{}",
        otc_by_prefix(&bird),
        inj.log()
    );
    println!("BIRD's bgp.otc by prefix: {want:?}");

    // bgpinject stops: graceful restart, no NOTIFICATION; past the restart time the routes
    // are long-lived stale (RFC 9494 §4.6: LLGR_STALE), still in BIRD's table.
    inj.stop();
    assert!(
        inj.log()
            .contains("closed without NOTIFICATION for graceful restart"),
        "{}",
        inj.log()
    );
    assert_no_bugs(&inj);
    std::thread::sleep(Duration::from_secs(restart_time + 3));
    let routes = bird.routes("master4");
    assert_eq!(routes.len(), 3, "{routes:?}");
    for r in &routes {
        assert_eq!(r.communities, vec!["65535:6"], "not LLGR_STALE: {r}");
    }
    let stale = otc_by_prefix(&bird);
    assert!(
        stale.values().all(|(_, pref)| pref.ends_with("s)")),
        "not stale: {stale:?}"
    );
    println!(
        "{} s after the stop, {} routes in BIRD, all with 65535:6: {stale:?}",
        restart_time + 3,
        routes.len()
    );

    // bgpinject is back: the same routes, fresh (no LLGR_STALE).
    let inj = Bgpinject::start(BIN, &conf, "info");
    let fresh = wait_for(Duration::from_secs(30), || {
        let routes = bird.routes("master4");
        (routes.len() == 3 && routes.iter().all(|r| r.communities.is_empty())).then_some(routes)
    });
    assert!(
        fresh.is_some(),
        "{:?}\n{}",
        bird.routes("master4"),
        inj.log()
    );
    inj.assert_no_resets(1);
    assert_no_bugs(&inj);
}

#[test]
fn as_customer_a_route_with_otc_is_not_sent_and_the_raw_one_is_a_leak_to_bird() {
    let (bird_addr, our_addr, port) = ("127.0.50.3", "127.0.50.4", 18801);
    let bird = start_bird(bird_addr, port, our_addr, "    local role provider;\n");
    let conf = config(bird_addr, our_addr, port, "    role { local customer; }");
    let inj = Bgpinject::start(BIN, &conf, "info");
    bird.wait_established("r", Duration::from_secs(30));
    let info = bird.protocol_info("r");
    assert!(
        capabilities(&info, "Neighbor capabilities").contains("Role: customer"),
        "{info}"
    );
    // Everything sent is in: the plain route and the raw one went out, the `otc` one did not.
    wait_for(Duration::from_secs(20), || {
        inj.log()
            .contains("sending 2 announcements and 1 withdrawals")
            .then_some(())
    })
    .unwrap_or_else(|| panic!("{}", inj.log()));
    std::thread::sleep(Duration::from_secs(1));
    // The plain route arrives without OTC (a customer does not mark, RFC 9234 §5); BIRD,
    // the provider, drops the raw one as a leak (ingress rule); the `otc` one never came.
    let got = otc_by_prefix(&bird);
    let prefixes: Vec<&String> = got.keys().collect();
    assert_eq!(prefixes, vec![PLAIN], "{got:?}\n{}", inj.log());
    assert_eq!(got[PLAIN].0, None, "{got:?}");
    let info = bird.protocol_info("r");
    let import = info
        .lines()
        .find(|l| l.trim().starts_with("Import updates:"))
        .unwrap_or_default()
        .to_string();
    let received: u64 = import
        .split_whitespace()
        .nth(2)
        .and_then(|n| n.parse().ok())
        .unwrap_or(u64::MAX);
    assert!(received <= 2, "BIRD received {received} updates: {import}");
    assert!(
        inj.log()
            .contains(&format!("{KEYWORD} the first: they carry OTC")),
        "{}",
        inj.log()
    );
    println!("BIRD has {prefixes:?}; {import}");
    inj.assert_no_resets(1);
    assert_no_bugs(&inj);
}

#[test]
fn a_wrong_pair_and_a_strict_role_without_peer_role_are_refused_with_2_11() {
    for (i, (bird_role, ours, why)) in [
        (
            "    local role provider;\n",
            "    role { local provider; }",
            "peer declares role provider, ours is provider",
        ),
        (
            "",
            "    role { local customer; strict enable; }",
            "peer sent no Role capability and our role customer is strict",
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let bird_addr = format!("127.0.50.{}", 10 + 2 * i);
        let our_addr = format!("127.0.50.{}", 11 + 2 * i);
        let port = 18810 + i as u16;
        let bird = start_bird(&bird_addr, port, &our_addr, bird_role);
        let mut inj = Bgpinject::start(BIN, &config(&bird_addr, &our_addr, port, ours), "info");
        wait_for(Duration::from_secs(30), || {
            inj.log()
                .contains("NOTIFICATION 2/11 (OPEN Message Error / Role Mismatch)")
                .then_some(())
        })
        .unwrap_or_else(|| panic!("{}\n{}", inj.log(), bird.protocol_info("r")));
        let log = inj.log();
        assert!(log.contains(why), "{log}");
        assert!(!log.contains("session established"), "{log}");
        // BIRD saw the NOTIFICATION it was sent, or sent its own (RFC 9234 §4.2).
        let state = wait_for(Duration::from_secs(10), || {
            let info = bird.protocol_info("r");
            info.contains("Role mismatch").then_some(info)
        });
        let state = state.unwrap_or_else(|| bird.protocol_info("r"));
        assert!(state.contains("Role mismatch"), "{state}");
        assert!(!bird.protocol_state("r").contains("Established"), "{state}");
        println!(
            "case {i}: bgpinject '{why}', BIRD: {}",
            state
                .lines()
                .find(|l| l.contains("Role mismatch"))
                .unwrap_or_default()
                .trim()
        );
        inj.stop();
        assert_no_bugs(&inj);
    }
}

/// FRR's bgpd (`neighbor X local-role customer strict-mode`): the pair comes up with the
/// roles FRR shows, and FRR holds each route's OTC as the configuration gives it; a wrong
/// pair (FRR's `local-role provider`) is refused with 2/11.
#[test]
fn frr_local_role_pair_and_otc_values_and_a_wrong_pair() {
    use harness::frr::Frr;
    use harness::spec::{Family, ReceiverSpec};
    use serde_json::Value;
    for (i, (frr_role, ok)) in [("customer strict-mode", true), ("provider", false)]
        .into_iter()
        .enumerate()
    {
        let frr_addr = format!("127.0.50.{}", 30 + 2 * i);
        let our_addr = format!("127.0.50.{}", 31 + 2 * i);
        let port = 18820 + i as u16;
        let mut spec = ReceiverSpec::new(
            frr_addr.parse().unwrap(),
            port,
            BIRD_AS,
            our_addr.parse().unwrap(),
            LOCAL_AS,
        );
        spec.families = vec![Family::Ipv4Unicast];
        let frr = Frr::start_with(&spec, &[&format!("local-role {frr_role}")]);
        let conf = config(
            &frr_addr,
            &our_addr,
            port,
            "    role { local provider; strict enable; }",
        );
        let mut inj = Bgpinject::start(BIN, &conf, "info");
        if !ok {
            wait_for(Duration::from_secs(30), || {
                inj.log()
                    .contains("NOTIFICATION 2/11 (OPEN Message Error / Role Mismatch)")
                    .then_some(())
            })
            .unwrap_or_else(|| panic!("{}\n{}", inj.log(), frr.log()));
            assert!(!inj.log().contains("session established"), "{}", inj.log());
            println!("FRR local-role provider: refused with 2/11");
            inj.stop();
            assert_no_bugs(&inj);
            continue;
        }
        assert!(
            frr.wait_established(Duration::from_secs(30)),
            "{}\n{}",
            inj.log(),
            frr.log()
        );
        let n = frr
            .vtysh(&[&format!("show bgp neighbors {our_addr} json")])
            .unwrap_or_default();
        let n: Value = serde_json::from_str(&n).unwrap_or(Value::Null);
        let peer = &n[&our_addr];
        assert_eq!(peer["localRole"], "customer", "{peer}");
        assert_eq!(peer["remoteRole"], "provider", "{peer}");
        let otc = |prefix: &str| -> Option<u64> {
            let v = frr.vtysh(&[&format!("show bgp ipv4 unicast {prefix} json")])?;
            let v: Value = serde_json::from_str(&v).ok()?;
            v["paths"][0]["otc"].as_u64()
        };
        let want = [
            (PLAIN, u64::from(LOCAL_AS)),
            (KEYWORD, u64::from(KEYWORD_OTC)),
            (RAW, u64::from(RAW_OTC)),
        ];
        let got = wait_for(Duration::from_secs(20), || {
            let got: Vec<(&str, u64)> = want
                .iter()
                .map(|(p, _)| (*p, otc(p).unwrap_or(0)))
                .collect();
            (got == want).then_some(got)
        });
        assert!(
            got.is_some(),
            "FRR: {:?}\n{}",
            want.map(|(p, _)| otc(p)),
            inj.log()
        );
        println!("FRR's otc by prefix: {want:?}");
        inj.assert_no_resets(1);
        assert_no_bugs(&inj);
    }
}

/// ExaBGP 4.2, which has no roles and adds no OTC on ingress, shows the OTC octets as they
/// left bgpinject: our AS on the route without one (RFC 9234 §5 egress, we are provider and
/// the role is not strict), the configured ones kept.
#[test]
fn exabgp_sees_the_otc_octets_bgpinject_sends_as_provider() {
    use harness::exabgp::Exabgp;
    use harness::spec::{Family, ReceiverSpec};
    let (exa_addr, our_addr, port) = ("127.0.50.40", "127.0.50.41", 18830);
    let mut spec = ReceiverSpec::new(
        exa_addr.parse().unwrap(),
        port,
        BIRD_AS,
        our_addr.parse().unwrap(),
        LOCAL_AS,
    );
    spec.families = vec![Family::Ipv4Unicast];
    let exa = Exabgp::start(&spec);
    let conf = config(exa_addr, our_addr, port, "    role { local provider; }");
    let inj = Bgpinject::start(BIN, &conf, "info");
    assert!(
        exa.wait_established(Duration::from_secs(30)),
        "{}\n{}",
        inj.log(),
        exa.log()
    );
    // ExaBGP writes an attribute it does not know as `attribute-0xCODE-0xFLAGS`: "0xvalue",
    // with the partial bit (0x20) it sets on an unrecognised transitive attribute (RFC 4271
    // §5): the flags sent (0xc0) are checked from the bytes in `rib::packer` unit tests.
    let want: BTreeMap<String, String> =
        [(PLAIN, LOCAL_AS), (KEYWORD, KEYWORD_OTC), (RAW, RAW_OTC)]
            .into_iter()
            .map(|(p, v)| (p.to_string(), format!("0x{v:08x}")))
            .collect();
    let otc_of = || {
        let mut got = BTreeMap::new();
        for m in exa.messages() {
            let Some(update) = m.pointer("/neighbor/message/update") else {
                continue;
            };
            let attribute = &update["attribute"];
            let otc = ["attribute-0x23-0xC0", "attribute-0x23-0xE0"]
                .iter()
                .find_map(|k| attribute[k].as_str())
                .unwrap_or("none")
                .to_string();
            for nlris in update
                .pointer("/announce/ipv4 unicast")
                .and_then(|a| a.as_object())
                .into_iter()
                .flat_map(|a| a.values())
            {
                for n in nlris.as_array().into_iter().flatten() {
                    if let Some(p) = n["nlri"].as_str() {
                        got.insert(p.to_string(), otc.clone());
                    }
                }
            }
        }
        got
    };
    let got = wait_for(Duration::from_secs(20), || {
        let got = otc_of();
        (got == want).then_some(got)
    });
    let attributes: Vec<String> = exa
        .messages()
        .iter()
        .filter_map(|m| Some(m.pointer("/neighbor/message/update/attribute")?.to_string()))
        .collect();
    assert!(
        got.is_some(),
        "ExaBGP: {:?} {attributes:?}\n{}",
        otc_of(),
        inj.log()
    );
    println!("ExaBGP's OTC attribute by prefix: {want:?}");
    inj.assert_no_resets(1);
    assert_no_bugs(&inj);
}
