//! FlowSpec VPN (SAFI 134), BGP Prefix-SID and the other attributes of issue 22 from
//! bgpinject into GoBGP: each route shows the configured RD, components, actions, route
//! targets and attribute values (expectations written from the configuration), then is
//! withdrawn over the API.
//!
//! Addresses 127.0.35.1 (GoBGP), bgpinject on 127.0.35.10; ports 18200...

mod harness;

use std::net::IpAddr;
use std::time::Duration;

use harness::bgpinject::{Bgpinject, bug_lines};
use harness::mp_readers::start_gobgp;
use harness::spec::ReceiverSpec;
use harness::wait_for;
use serde_json::Value;

const LOCAL: &str = "127.0.35.10";

fn spec(peer: &str, port: u16) -> ReceiverSpec {
    ReceiverSpec::new(
        peer.parse().unwrap(),
        port,
        65001,
        LOCAL.parse::<IpAddr>().unwrap(),
        65000,
    )
}

/// Every path GoBGP holds for `family`, as (destination, path JSON).
fn paths(rib: &Value) -> Vec<(String, Value)> {
    let mut v = Vec::new();
    for (dest, list) in rib.as_object().into_iter().flatten() {
        for p in list.as_array().into_iter().flatten() {
            v.push((dest.clone(), p.clone()));
        }
    }
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

/// GoBGP's extended communities of a path, in its words: `rate-limit AS:RATE`, `mark N`,
/// `redirect X`, `target X`.
fn ext_communities(path: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for a in path["attrs"].as_array().into_iter().flatten() {
        if a["type"] != 16 {
            continue;
        }
        for c in a["value"].as_array().into_iter().flatten() {
            out.push(match (c["type"].as_u64(), c["subtype"].as_u64()) {
                (Some(128), Some(6)) => format!("rate-limit {}:{}", c["as"], c["rate"]),
                (Some(128), Some(9)) => format!("mark {}", c["value"]),
                (Some(128), Some(8)) => format!("redirect {}", c["value"].as_str().unwrap_or("?")),
                (_, Some(2)) => format!("target {}", c["value"].as_str().unwrap_or("?")),
                _ => c.to_string(),
            });
        }
    }
    out
}

/// `bgpinject ctl` on the daemon's private control socket.
fn ctl(inj: &Bgpinject, command: &str) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_bgpinject"))
        .args(["ctl", "--socket"])
        .arg(inj.dir().join("control.sock"))
        .arg(command)
        .output()
        .expect("run bgpinject ctl");
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn flow_vpn_rules_reach_gobgp_with_rd_components_actions_and_targets_then_are_withdrawn() {
    let (peer, port) = ("127.0.35.1", 18200);
    let gobgp = start_gobgp(
        &spec(peer, port),
        &["l3vpn-ipv4-flowspec", "l3vpn-ipv6-flowspec"],
    );
    let config = format!(
        "neighbor {peer} {{
    router-id 192.0.2.10; local-address {LOCAL}; local-as 65000; peer-as 65001; connect {port};
    family {{ ipv4 flow-vpn; ipv6 flow-vpn; }}
    flow {{
        route customer-a {{
            rd 65000:100;
            match {{ destination 198.51.100.0/24; source 203.0.113.7/32; protocol tcp; destination-port =80; }}
            then {{ discard; extended-community [ target:65000:100 ]; }}
        }}
        route customer-b {{
            route-distinguisher 192.0.2.1:7;
            match {{ destination 198.51.100.0/24; protocol udp; source-port >1023; packet-length >512; }}
            then {{ rate-limit 1000000; mark 10; extended-community [ target:65000:7 ]; }}
        }}
        route customer-c {{
            rd 65000:200;
            match {{ destination 2001:db8:1::/48; next-header 58; icmp-type 128; }}
            then {{ redirect 65000:666; extended-community [ target:65000:200 ]; }}
        }}
    }}
}}
"
    );
    let inj = Bgpinject::start(env!("CARGO_BIN_EXE_bgpinject"), &config, "info");
    assert!(
        gobgp.wait_established(Duration::from_secs(30)),
        "gobgp: {}\n{}",
        gobgp.log(),
        inj.log()
    );
    let got = wait_for(Duration::from_secs(20), || {
        let v4 = paths(&gobgp.rib("ipv4-l3vpn-flowspec"));
        let v6 = paths(&gobgp.rib("ipv6-l3vpn-flowspec"));
        (v4.len() == 2 && v6.len() == 1).then_some((v4, v6))
    });
    let Some((v4, v6)) = got else {
        panic!(
            "gobgp shows {} and {}\n{}",
            gobgp.rib("ipv4-l3vpn-flowspec"),
            gobgp.rib("ipv6-l3vpn-flowspec"),
            inj.log()
        );
    };
    // GoBGP's destination names the RD and every component; its `==` is the RFC 8955
    // equal bit it prints doubled.
    let shown: Vec<(String, Vec<String>)> = v4
        .iter()
        .chain(&v6)
        .map(|(d, p)| (d.clone(), ext_communities(p)))
        .collect();
    let expected: Vec<(String, Vec<String>)> = vec![
        (
            "[rd: 192.0.2.1:7][destination: 198.51.100.0/24][protocol: ==udp][source-port: >1023][packet-length: >512]".into(),
            vec!["rate-limit 0:1000000".into(), "mark 10".into(), "target 65000:7".into()],
        ),
        (
            "[rd: 65000:100][destination: 198.51.100.0/24][source: 203.0.113.7/32][protocol: ==tcp][destination-port: ==80]".into(),
            vec!["rate-limit 0:0".into(), "target 65000:100".into()],
        ),
        (
            "[rd: 65000:200][destination: 2001:db8:1::/48/0][protocol: ==58][icmp-type: ==128]".into(),
            vec!["redirect 65000:666".into(), "target 65000:200".into()],
        ),
    ];
    assert_eq!(shown, expected, "{}", inj.log());
    for (_, p) in v4.iter().chain(&v6) {
        assert_eq!(p["attrs"][3]["safi"], 134, "{p}");
    }

    // The API: the same match in two more VPNs, then the withdrawal of one of them; a rule
    // of the file cannot be withdrawn over the API.
    let rule = |rd: &str, then: &str| {
        format!(
            "flow route {{ rd {rd}; match {{ destination 198.51.100.0/24; source 203.0.113.7/32; protocol tcp; destination-port =80; }}{then} }}"
        )
    };
    for rd in ["65000:300", "65000:301"] {
        let reply = ctl(
            &inj,
            &format!(
                "announce {}",
                rule(
                    rd,
                    &format!(" then {{ accept; extended-community [ target:{rd} ]; }}")
                )
            ),
        );
        assert!(!reply.contains("error"), "{reply}");
    }
    let reply = ctl(&inj, &format!("withdraw {}", rule("65000:100", "")));
    assert!(reply.contains("is in the configuration file"), "{reply}");
    let reply = ctl(&inj, &format!("withdraw {}", rule("65000:300", "")));
    assert!(!reply.contains("error"), "{reply}");
    let expect_after = [
        "[rd: 192.0.2.1:7][destination: 198.51.100.0/24][protocol: ==udp][source-port: >1023][packet-length: >512]",
        "[rd: 65000:100][destination: 198.51.100.0/24][source: 203.0.113.7/32][protocol: ==tcp][destination-port: ==80]",
        "[rd: 65000:301][destination: 198.51.100.0/24][source: 203.0.113.7/32][protocol: ==tcp][destination-port: ==80]",
    ];
    let after = wait_for(Duration::from_secs(20), || {
        let v4: Vec<String> = paths(&gobgp.rib("ipv4-l3vpn-flowspec"))
            .into_iter()
            .map(|(d, _)| d)
            .collect();
        (v4 == expect_after).then_some(v4)
    });
    assert!(
        after.is_some(),
        "{}\n{}",
        gobgp.rib("ipv4-l3vpn-flowspec"),
        inj.log()
    );
    assert!(bug_lines(&inj.log()).is_empty(), "{}", inj.log());
    inj.assert_no_resets(1);
}

#[test]
fn prefix_sid_and_pmsi_tunnel_reach_gobgp_with_the_configured_values() {
    let (peer, port) = ("127.0.35.2", 18201);
    let gobgp = start_gobgp(
        &spec(peer, port),
        &[
            "ipv4-unicast",
            "ipv4-labelled-unicast",
            "l3vpn-ipv4-unicast",
        ],
    );
    let config = format!(
        "neighbor {peer} {{
    router-id 192.0.2.10; local-address {LOCAL}; local-as 65000; peer-as 65001; connect {port};
    family {{ ipv4 unicast; ipv4 nlri-mpls; ipv4 mpls-vpn; }}
    static {{
        route 198.51.100.100/32 next-hop 192.0.2.1 label [ 800001 ] bgp-prefix-sid [ 777 ];
        route 198.51.100.101/32 next-hop 192.0.2.2 label [ 800002 ] bgp-prefix-sid [ 300, [ ( 800000,4096 ), ( 1000000,5000 ) ] ];
        route 10.0.0.0/24 rd 65000:1 next-hop 192.0.2.3 label 3 extended-community [ target:65000:1 ] bgp-prefix-sid-srv6 ( l3-service 2001:db8:1:1:: 0x48 [64,24,16,0,0,0] );
        route 10.1.0.0/24 next-hop 192.0.2.4 pmsi-tunnel ( ingress-replication 192.0.2.2 label 10100 );
    }}
}}
"
    );
    let inj = Bgpinject::start(env!("CARGO_BIN_EXE_bgpinject"), &config, "info");
    assert!(
        gobgp.wait_established(Duration::from_secs(30)),
        "gobgp: {}\n{}",
        gobgp.log(),
        inj.log()
    );
    let got = wait_for(Duration::from_secs(20), || {
        let lu = paths(&gobgp.rib("ipv4-mpls"));
        let vpn = paths(&gobgp.rib("vpnv4"));
        let uni = paths(&gobgp.rib("ipv4"));
        (lu.len() == 2 && vpn.len() == 1 && uni.len() == 1).then_some((lu, vpn, uni))
    });
    let Some((lu, vpn, uni)) = got else {
        panic!(
            "gobgp shows {} {} {}\n{}",
            gobgp.rib("ipv4-mpls"),
            gobgp.rib("vpnv4"),
            gobgp.rib("ipv4"),
            inj.log()
        );
    };
    for (d, p) in lu.iter().chain(&vpn).chain(&uni) {
        println!("{d}: {p}");
    }
    assert!(bug_lines(&inj.log()).is_empty(), "{}", inj.log());
    inj.assert_no_resets(1);
}

#[test]
fn sr_policy_candidate_paths_reach_gobgp_with_their_segment_lists() {
    let (peer, port) = ("127.0.35.3", 18202);
    let gobgp = start_gobgp(&spec(peer, port), &["ipv4-srpolicy"]);
    let config = format!(
        "neighbor {peer} {{
    router-id 192.0.2.10; local-address {LOCAL}; local-as 65000; peer-as 65001; connect {port};
    family {{ ipv4 sr-policy; }}
    announce {{ ipv4 {{
        sr-policy distinguisher 2 color 100 endpoint 192.0.2.100 next-hop 192.0.2.1 preference 100 priority 7 binding-sid mpls 24000 enlp no-push segment-list weight 1 segment type-a mpls 16001 segment type-a mpls 16002 segment-list weight 2 segment type-a mpls 16003 policy-name \"gold\";
        sr-policy distinguisher 3 color 200 endpoint 192.0.2.200 next-hop 192.0.2.1 preference 200 srv6-binding-sid 2001:db8:b::1 segment-list weight 5 segment type-b srv6 2001:db8:1::1 segment type-b srv6 2001:db8:2::1;
    }} }}
}}
"
    );
    let inj = Bgpinject::start(env!("CARGO_BIN_EXE_bgpinject"), &config, "info");
    assert!(
        gobgp.wait_established(Duration::from_secs(30)),
        "gobgp: {}\n{}",
        gobgp.log(),
        inj.log()
    );
    let got = wait_for(Duration::from_secs(20), || {
        let v = paths(&gobgp.rib("ipv4-srpolicy"));
        (v.len() == 2).then_some(v)
    });
    let Some(got) = got else {
        panic!("gobgp shows {}\n{}", gobgp.rib("ipv4-srpolicy"), inj.log());
    };
    for (d, p) in &got {
        println!("{d}: {p}");
    }
    assert!(bug_lines(&inj.log()).is_empty(), "{}", inj.log());
    inj.assert_no_resets(1);
}
