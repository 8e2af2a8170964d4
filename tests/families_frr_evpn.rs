//! EVPN types 2, 3 and 5 from bgpinject into FRR 8.4 (bgpd alone, `address-family l2vpn
//! evpn`), checked in `show bgp l2vpn evpn route detail json` against values written here from
//! the configuration: RD, route type, Ethernet tag, MAC, IP, prefix, VNI, route targets, the
//! PMSI tunnel, next hop; then withdrawn from the control socket and checked gone.

mod harness;

use std::net::IpAddr;
use std::process::Command;
use std::time::Duration;

use harness::bgpinject::Bgpinject;
use harness::frr::Frr;
use harness::spec::ReceiverSpec;
use harness::wait_for;
use serde_json::Value;

const LOCAL: &str = "127.0.34.12";
const FRR: (&str, u16) = ("127.0.34.3", 18184);

fn config() -> String {
    format!(
        "neighbor {peer} {{
    router-id 192.0.2.10; local-address {LOCAL}; local-as 65019; peer-as 65020; connect {port};
    family {{ l2vpn evpn; }}
    announce {{ l2vpn {{
        evpn mac-ip rd 192.0.2.2:100 ethernet-tag 0 mac 00:11:22:aa:bb:01 ip 10.10.0.1 vni [ 10100 ] next-hop 192.0.2.2 extended-community [ target:65019:100 encapsulation:vxlan ];
        evpn multicast rd 192.0.2.2:100 ethernet-tag 0 ip 192.0.2.2 next-hop 192.0.2.2 pmsi-tunnel ( ingress-replication 192.0.2.2 vni 10100 ) extended-community [ target:65019:100 encapsulation:vxlan ];
        evpn ip-prefix rd 192.0.2.2:100 prefix 10.20.0.0/24 gateway 0.0.0.0 vni [ 10200 ] next-hop 192.0.2.2 extended-community [ target:65019:200 ];
    }} }}
}}
",
        peer = FRR.0,
        port = FRR.1
    )
}

/// route key (`[2]:[0]:[48]:[MAC]:[32]:[IP]`) -> (route fields, first path) of one RD.
fn routes(frr: &Frr, rd: &str) -> Vec<(String, Value, Value)> {
    let v: Value = frr
        .vtysh(&["show bgp l2vpn evpn route detail json"])
        .and_then(|o| serde_json::from_str(&o).ok())
        .unwrap_or(Value::Null);
    let mut out = Vec::new();
    for (key, route) in v[rd].as_object().into_iter().flatten() {
        if key == "rd" {
            continue;
        }
        let path = route["paths"][0][0].clone();
        out.push((key.clone(), route.clone(), path));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

#[test]
fn evpn_types_2_3_5_reach_frr_as_configured_then_go() {
    let mut spec = ReceiverSpec::new(
        FRR.0.parse().unwrap(),
        FRR.1,
        65020,
        LOCAL.parse::<IpAddr>().unwrap(),
        65019,
    );
    spec.families = Vec::new();
    // FRR's harness writes `neighbor N STATEMENT`: the address family block rides on one.
    let af = format!(
        "description evpn\n address-family l2vpn evpn\n  neighbor {LOCAL} activate\n exit-address-family"
    );
    let frr = Frr::start_with(&spec, &[&af]);
    let mut inj = Bgpinject::start(env!("CARGO_BIN_EXE_bgpinject"), &config(), "debug");
    assert!(
        frr.wait_established(Duration::from_secs(30)),
        "frr: {}\nbgpinject: {}",
        frr.log(),
        inj.log()
    );
    let rd = "192.0.2.2:100";
    let ready = wait_for(Duration::from_secs(15), || {
        (routes(&frr, rd).len() == 3).then_some(())
    });
    assert!(
        ready.is_some(),
        "{:?}\nbgpinject: {}",
        frr.vtysh(&["show bgp l2vpn evpn route detail json"]),
        inj.log()
    );
    let all = routes(&frr, rd);
    let keys: Vec<&str> = all.iter().map(|(k, _, _)| k.as_str()).collect();
    assert_eq!(
        keys,
        [
            "[2]:[0]:[48]:[00:11:22:aa:bb:01]:[32]:[10.10.0.1]",
            "[3]:[0]:[32]:[192.0.2.2]",
            "[5]:[0]:[24]:[10.20.0.0]",
        ]
    );
    let (_, mac, p) = &all[0];
    assert_eq!(mac["routeType"], 2);
    assert_eq!(mac["mac"], "00:11:22:aa:bb:01");
    assert_eq!(mac["ip"], "10.10.0.1");
    assert_eq!(p["vni"], "10100", "{p}");
    assert_eq!(p["extendedCommunity"]["string"], "RT:65019:100 ET:8");
    assert_eq!(p["nexthops"][0]["ip"], "192.0.2.2");
    assert_eq!(p["valid"], true);
    let (_, imet, p) = &all[1];
    assert_eq!(imet["ethTag"], 0);
    assert_eq!(p["pmsi"]["tunnelType"], "Ingress Replication", "{p}");
    assert_eq!(p["pmsi"]["label"], 10100, "{p}");
    let (_, ipp, p) = &all[2];
    assert_eq!(ipp["routeType"], 5);
    assert_eq!(ipp["ipLen"], 24);
    assert_eq!(p["vni"], "10200", "{p}");
    assert_eq!(p["extendedCommunity"]["string"], "RT:65019:200");

    // A MAC route from the control socket, then withdrawn.
    let ctl = |command: &str| {
        let out = Command::new(env!("CARGO_BIN_EXE_bgpinject"))
            .arg("ctl")
            .arg("--socket")
            .arg(inj.dir().join("control.sock"))
            .arg(command)
            .output()
            .expect("run bgpinject ctl");
        assert!(
            out.status.success(),
            "{command}: {}",
            String::from_utf8_lossy(&out.stdout)
        );
    };
    let mac2 = "evpn mac-ip rd 192.0.2.3:7 mac 00:11:22:aa:bb:02 vni [ 10300 ]";
    ctl(&format!(
        "announce {mac2} next-hop 192.0.2.3 extended-community [ target:65019:7 ]"
    ));
    let added = wait_for(Duration::from_secs(10), || {
        routes(&frr, "192.0.2.3:7").pop()
    })
    .unwrap_or_else(|| panic!("{}", inj.log()));
    assert_eq!(added.0, "[2]:[0]:[48]:[00:11:22:aa:bb:02]");
    assert_eq!(added.2["vni"], "10300");
    ctl(&format!("withdraw {mac2}"));
    let gone = wait_for(Duration::from_secs(10), || {
        routes(&frr, "192.0.2.3:7").is_empty().then_some(())
    });
    assert!(gone.is_some(), "{}", inj.log());
    assert_eq!(routes(&frr, rd).len(), 3);
    inj.assert_no_resets(1);
    inj.stop();
}
