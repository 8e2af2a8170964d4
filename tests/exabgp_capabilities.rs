//! ExaBGP's informational capabilities and session knobs, as a real peer sees them: FRR shows
//! the host and domain name of the FQDN capability (`host-name`, `domain-name`), and whether
//! the extended message capability was received (`capability { extended-message disable; }`);
//! the software version capability (`capability { software-version enable; }`) where FRR
//! shows it. Expectations come from the configuration written here.

mod harness;

use std::time::Duration;

use harness::bgpinject::Bgpinject;
use harness::frr::Frr;
use harness::spec::{Family, ReceiverSpec};
use harness::wait_for;
use serde_json::Value;

const LOCAL: &str = "127.0.33.10";
const FRR: (&str, u16) = ("127.0.33.1", 18160);

fn config(extra: &str) -> String {
    let (peer, port) = FRR;
    format!(
        "neighbor {peer} {{
    router-id 192.0.2.10;
    local-address {LOCAL};
    local-as 65000;
    peer-as 65001;
    connect {port};
    host-name inject-1;
    domain-name example.net;
    {extra}
    family {{ ipv4 unicast; }}
    static {{ route 198.51.100.0/24 next-hop 192.0.2.1; }}
}}
"
    )
}

#[test]
fn frr_sees_the_fqdn_capability_and_no_extended_message_when_disabled() {
    let mut spec = ReceiverSpec::new(
        FRR.0.parse().unwrap(),
        FRR.1,
        65001,
        LOCAL.parse().unwrap(),
        65000,
    );
    spec.families = vec![Family::Ipv4Unicast];
    let mut frr = Frr::start(&spec);
    let mut inj = Bgpinject::start(
        env!("CARGO_BIN_EXE_bgpinject"),
        &config("capability { software-version enable; extended-message disable; }"),
        "debug",
    );
    assert!(
        frr.wait_established(Duration::from_secs(30)),
        "frr: {}\nbgpinject: {}",
        frr.log(),
        inj.log()
    );
    let neighbor = wait_for(Duration::from_secs(10), || {
        let out = frr.vtysh(&[&format!("show bgp neighbors {LOCAL} json")])?;
        let v: Value = serde_json::from_str(&out).ok()?;
        let n = v.get(LOCAL)?.clone();
        n.get("neighborCapabilities").is_some().then_some(n)
    })
    .unwrap_or_else(|| panic!("frr shows no neighbor {LOCAL}: {}", inj.log()));
    println!("{neighbor:#}");
    let caps = &neighbor["neighborCapabilities"];
    let mut problems = Vec::new();
    let host = &caps["hostName"];
    if host["rcvHostName"] != "inject-1" || host["rcvDomainName"] != "example.net" {
        problems.push(format!(
            "FQDN capability: want inject-1 / example.net, FRR shows {host}"
        ));
    }
    if neighbor["hostname"] != "inject-1" {
        problems.push(format!(
            "hostname: want inject-1, FRR shows {}",
            neighbor["hostname"]
        ));
    }
    // FRR advertises extended messages; bgpinject was told not to.
    let ext = caps["extendedMessage"].as_str().unwrap_or("");
    if ext.contains("eceived") {
        problems.push(format!(
            "extended message: bgpinject advertised it though disabled (FRR: {ext})"
        ));
    }
    // FRR 8.4 does not know the software version capability (code 75); a later FRR shows it.
    if let Some(sv) = caps.get("softwareVersion") {
        let want = format!("bgpinject/{}", env!("CARGO_PKG_VERSION"));
        if sv["receivedSoftwareVersion"] != want.as_str() {
            problems.push(format!("software version: want {want}, FRR shows {sv}"));
        }
    }
    let bugs = harness::bgpinject::bug_lines(&inj.log())
        .iter()
        .map(|l| l.to_string())
        .collect::<Vec<_>>();
    problems.extend(bugs);
    assert!(inj.sessions_established() <= 1, "{}", inj.log());
    inj.stop();
    frr.stop();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
