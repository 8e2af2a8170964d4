//! Labeled unicast, VPNv4/VPNv6 and ADD-PATH from bgpinject into GoBGP: each route shows
//! exactly the configured labels, route distinguishers, route targets, path ids and next hops.

mod harness;

use std::net::IpAddr;
use std::time::Duration;

use harness::bgpinject::Bgpinject;
use harness::mp_readers::MpGobgp;
use harness::spec::ReceiverSpec;
use harness::wait_for;
use serde_json::Value;

const LOCAL: &str = "127.0.4.10";
const GOBGP: (&str, u16) = ("127.0.4.1", 14991);

fn config() -> String {
    format!(
        "neighbor {peer} {{
    router-id 192.0.2.10;
    local-address {LOCAL};
    local-as 65000;
    peer-as 65001;
    connect {port};
    capability {{ add-path send; }}
    family {{ ipv4 unicast; ipv4 nlri-mpls; ipv4 mpls-vpn; ipv6 mpls-vpn; }}
    static {{
        route 198.51.100.0/24 label [ 100 200 ] next-hop 192.0.2.1;
        route 203.0.113.0/24 rd 65000:1 label 300 next-hop 192.0.2.1 extended-community [ target:65000:1 ];
        route 192.0.2.128/25 path-information 1 next-hop 192.0.2.1;
        route 192.0.2.128/25 path-information 2 next-hop 192.0.2.2;
    }}
    announce {{
        ipv6 {{ mpls-vpn 2001:db8:1::/48 rd 192.0.2.1:7 label 400 next-hop 2001:db8::1 extended-community [ target:65000:2 ]; }}
    }}
}}
",
        peer = GOBGP.0,
        port = GOBGP.1
    )
}

/// Every path of a `gobgp global rib -j` answer, with its destination key.
fn paths(rib: &Value) -> Vec<(String, Value)> {
    let mut v = Vec::new();
    for (dest, list) in rib.as_object().into_iter().flatten() {
        for p in list.as_array().into_iter().flatten() {
            v.push((dest.clone(), p.clone()));
        }
    }
    v
}

/// The MP_REACH (type 14) attribute of a GoBGP path.
fn mp_reach(p: &Value) -> Value {
    p["attrs"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|a| a["type"] == 14)
        .cloned()
        .unwrap_or(Value::Null)
}

fn ext_communities(p: &Value) -> Vec<String> {
    p["attrs"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|a| a["type"] == 16)
        .flat_map(|a| a["value"].as_array().cloned().unwrap_or_default())
        .map(|e| e["value"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn labeled_vpn_and_add_path_reach_gobgp_as_configured() {
    let mut spec = ReceiverSpec::new(
        GOBGP.0.parse().unwrap(),
        GOBGP.1,
        65001,
        LOCAL.parse::<IpAddr>().unwrap(),
        65000,
    );
    spec.families = Vec::new();
    let g = MpGobgp::start(
        &spec,
        &[
            "ipv4-unicast",
            "ipv4-labelled-unicast",
            "l3vpn-ipv4-unicast",
            "l3vpn-ipv6-unicast",
        ],
    );
    let mut inj = Bgpinject::start(env!("CARGO_BIN_EXE_bgpinject"), &config(), "debug");
    assert!(
        g.wait_established(Duration::from_secs(30)),
        "gobgp: {}\nbgpinject: {}",
        g.log(),
        inj.log()
    );
    let want = [("ipv4-mpls", 1), ("vpnv4", 1), ("vpnv6", 1), ("ipv4", 2)];
    let ready = wait_for(Duration::from_secs(20), || {
        want.iter()
            .all(|(f, n)| paths(&g.rib(f)).len() == *n)
            .then_some(())
    });
    let dump: Vec<String> = want
        .iter()
        .map(|(f, _)| format!("{f}: {}", g.rib(f)))
        .collect();
    assert!(
        ready.is_some(),
        "{}\nbgpinject: {}",
        dump.join("\n"),
        inj.log()
    );
    println!("{}", dump.join("\n"));

    let mpls = paths(&g.rib("ipv4-mpls"));
    let nlri = &mpls[0].1["nlri"];
    assert_eq!(nlri["prefix"], "198.51.100.0/24", "{nlri}");
    assert_eq!(nlri["labels"], serde_json::json!([100, 200]), "{nlri}");
    assert_eq!(mp_reach(&mpls[0].1)["nexthop"], "192.0.2.1");

    let v4 = paths(&g.rib("vpnv4"));
    let nlri = &v4[0].1["nlri"];
    assert_eq!(nlri["prefix"], "203.0.113.0/24", "{nlri}");
    assert_eq!(
        nlri["rd"],
        serde_json::json!({"admin": 65000, "assigned": 1, "type": 0})
    );
    assert_eq!(nlri["labels"], serde_json::json!([300]), "{nlri}");
    assert_eq!(mp_reach(&v4[0].1)["nexthop"], "192.0.2.1");
    assert_eq!(ext_communities(&v4[0].1), vec!["65000:1"]);

    let v6 = paths(&g.rib("vpnv6"));
    let nlri = &v6[0].1["nlri"];
    assert_eq!(nlri["prefix"], "2001:db8:1::/48", "{nlri}");
    assert_eq!(
        nlri["rd"],
        serde_json::json!({"admin": "192.0.2.1", "assigned": 7, "type": 1})
    );
    assert_eq!(nlri["labels"], serde_json::json!([400]), "{nlri}");
    assert_eq!(mp_reach(&v6[0].1)["nexthop"], "2001:db8::1");
    assert_eq!(ext_communities(&v6[0].1), vec!["65000:2"]);

    // GoBGP's JSON does not print path ids; two paths of one prefix from one neighbor can
    // only be told apart by them, so two paths with their own next hops show both ids arrived.
    let mut next_hops: Vec<String> = paths(&g.rib("ipv4"))
        .iter()
        .map(|(d, p)| {
            assert_eq!(d, "192.0.2.128/25");
            mp_reach(p)["nexthop"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
        .collect();
    next_hops.sort();
    assert_eq!(
        next_hops,
        vec!["192.0.2.1", "192.0.2.2"],
        "{}",
        g.rib("ipv4")
    );
    inj.stop();
}
