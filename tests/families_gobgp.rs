//! EVPN (types 1 to 5), RTC, MUP, VPLS and SR Policy routes from bgpinject into GoBGP 3.10,
//! from the configuration file and from the control socket, checked field by field in
//! `gobgp global rib -a evpn|rtc|ipv4-mup|ipv6-mup -j` (RD, ESI, Ethernet tag, MAC, IP,
//! labels, route targets, TEID, QFI, endpoint, next hop) against values written here from the
//! configuration text; then withdrawn and checked gone. GoBGP's CLI cannot list VPLS or SR
//! Policy routes (`unsupported address family`): for those its per-family received counters
//! are checked here, and their fields in `tests/families_vpls_srpolicy.rs` (GoBGP's debug
//! log). Every expectation comes from the configuration text, never from bgpinject's
//! encoder.

mod harness;

use std::net::IpAddr;
use std::process::Command;
use std::time::Duration;

use harness::bgpinject::Bgpinject;
use harness::mp_readers::start_gobgp;
use harness::spec::ReceiverSpec;
use harness::wait_for;
use serde_json::{Value, json};

const LOCAL: &str = "127.0.34.10";
const GOBGP: (&str, u16) = ("127.0.34.1", 18182);

fn config(with_file_routes: bool) -> String {
    let routes = if with_file_routes {
        "announce {
    l2vpn {
        evpn ethernet-ad rd 192.0.2.2:100 esi 00:11:22:33:44:55:66:77:88:99 ethernet-tag 100 label [ 1001 ] next-hop 192.0.2.2 extended-community [ target:65019:100 ];
        evpn mac-ip rd 192.0.2.2:100 esi 00:00:00:00:00:00:00:00:00:00 ethernet-tag 0 mac 00:11:22:aa:bb:01 ip 10.10.0.1 label [ 10100 ] next-hop 192.0.2.2 extended-community [ target:65019:100 ];
        evpn mac-ip rd 192.0.2.2:100 esi 00:00:00:00:00:00:00:00:00:00 ethernet-tag 0 mac 00:11:22:aa:bb:02 label [ 10100 20100 ] next-hop 192.0.2.2;
        evpn multicast rd 192.0.2.2:100 ethernet-tag 0 ip 192.0.2.2 next-hop 192.0.2.2 pmsi-tunnel ( ingress-replication 192.0.2.2 vni 10001 ) extended-community [ encapsulation:vxlan ];
        evpn ethernet-segment rd 192.0.2.2:100 esi 00:11:22:33:44:55:66:77:88:99 ip 192.0.2.2 next-hop 192.0.2.2;
        evpn ip-prefix rd 192.0.2.2:100 esi 00:00:00:00:00:00:00:00:00:00 ethernet-tag 0 prefix 10.20.0.0/24 gateway 0.0.0.0 label [ 10200 ] next-hop 192.0.2.2;
        vpls rd 192.0.2.1:123 endpoint 5 base 10702 offset 1 size 8 next-hop 192.0.2.1 extended-community [ target:65019:6 ];
    }
    ipv4 {
        rtc origin 65019 route-target target:65019:100 next-hop 192.0.2.1;
        mup mup-dsd 10.0.0.1 rd 100:100 next-hop 192.0.2.1 extended-community [ target:10:10 mup:10:10 ];
        mup mup-t1st 192.168.0.1/32 rd 100:100 teid 12345 qfi 9 endpoint 10.0.0.1 next-hop 192.0.2.1 extended-community [ target:10:10 ];
        mup mup-t2st 10.0.0.1 rd 100:100 teid 12345/32 next-hop 192.0.2.1 extended-community [ target:10:10 mup:10:10 ];
        sr-policy distinguisher 2 color 100 endpoint 192.0.2.9 next-hop 192.0.2.1;
    }
    ipv6 {
        mup mup-t1st 2001:db8:10::1/128 rd 100:100 teid 777 qfi 3 endpoint 2001:db8::10 next-hop 2001:db8::1;
    }
}"
    } else {
        ""
    };
    format!(
        "neighbor {peer} {{
    router-id 192.0.2.10;
    local-address {LOCAL};
    local-as 65019;
    peer-as 65020;
    connect {port};
    family {{ l2vpn evpn; l2vpn vpls; ipv4 rtc; ipv4 mup; ipv6 mup; ipv4 sr-policy; }}
    {routes}
}}
",
        peer = GOBGP.0,
        port = GOBGP.1
    )
}

/// Every path of a `gobgp global rib -j` answer: (destination, path).
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

fn attr(p: &Value, code: u64) -> Value {
    p["attrs"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|a| a["type"] == code)
        .cloned()
        .unwrap_or(Value::Null)
}

/// The route targets and MUP segments of a path, as GoBGP prints them.
fn ext_communities(p: &Value) -> Vec<String> {
    attr(p, 16)["value"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| match e["type"].as_u64() {
            Some(12) => format!("mup:{}", e["segmend_id"].as_str().unwrap_or_default()),
            _ => e["value"].as_str().unwrap_or_default().to_string(),
        })
        .collect()
}

/// The path of `rib` whose NLRI has these fields (each given key equal).
fn find<'a>(list: &'a [(String, Value)], want: &Value) -> Option<&'a Value> {
    list.iter().map(|(_, p)| p).find(|p| {
        let value = &p["nlri"]["value"];
        want.as_object()
            .into_iter()
            .flatten()
            .all(|(k, v)| value[k] == *v)
    })
}

/// A label as GoBGP prints an EVPN label field: the 20-bit label shifted left by four, the
/// bottom-of-stack bit on the last one (RFC 3032 §2.1, RFC 7432 §7).
fn label_field(label: u32, last: bool) -> u32 {
    (label << 4) | u32::from(last)
}

/// GoBGP's per-family received counters of the neighbor: (afi, safi) -> received.
fn received(g: &harness::gobgp::Gobgp, afi: u64, safi: u64) -> u64 {
    let v: Value = g
        .cli(&["neighbor", LOCAL, "-j"])
        .and_then(|o| serde_json::from_str(&o).ok())
        .unwrap_or(Value::Null);
    v["afi_safis"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|a| a["config"]["family"]["afi"] == afi && a["config"]["family"]["safi"] == safi)
        .and_then(|a| a["state"]["received"].as_u64())
        .unwrap_or(0)
}

fn ctl(inj: &Bgpinject, command: &str) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_bgpinject"))
        .arg("ctl")
        .arg("--socket")
        .arg(inj.dir().join("control.sock"))
        .arg(command)
        .output()
        .expect("run bgpinject ctl");
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[test]
fn evpn_rtc_mup_vpls_and_sr_policy_reach_gobgp_as_configured_then_go() {
    let mut spec = ReceiverSpec::new(
        GOBGP.0.parse().unwrap(),
        GOBGP.1,
        65020,
        LOCAL.parse::<IpAddr>().unwrap(),
        65019,
    );
    spec.families = Vec::new();
    let g = start_gobgp(
        &spec,
        &[
            "l2vpn-evpn",
            "l2vpn-vpls",
            "rtc",
            "ipv4-mup",
            "ipv6-mup",
            "ipv4-srpolicy",
        ],
    );
    let mut inj = Bgpinject::start(env!("CARGO_BIN_EXE_bgpinject"), &config(true), "debug");
    assert!(
        g.wait_established(Duration::from_secs(30)),
        "gobgp: {}\nbgpinject: {}",
        g.log(),
        inj.log()
    );
    let want = [("evpn", 6), ("rtc", 1), ("ipv4-mup", 3), ("ipv6-mup", 1)];
    let counts = || {
        want.iter()
            .all(|(f, n)| paths(&g.rib(f)).len() == *n)
            .then_some(())
    };
    let ready = wait_for(Duration::from_secs(20), counts);
    let dump = || {
        want.iter()
            .map(|(f, _)| format!("{f}: {}", g.rib(f)))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert!(ready.is_some(), "{}\nbgpinject: {}", dump(), inj.log());

    // EVPN, route by route (RFC 7432 §7.1-7.4, RFC 9136 §3).
    let evpn = paths(&g.rib("evpn"));
    let rd = json!({"type": 1, "admin": "192.0.2.2", "assigned": 100});
    let esi = "ESI_ARBITRARY | 11:22:33:44:55:66:77:88:99";
    let ad = find(&evpn, &json!({"rd": rd, "etag": 100, "esi": esi})).expect("type 1");
    assert_eq!(ad["nlri"]["type"], 1);
    assert_eq!(ad["nlri"]["value"]["label"], label_field(1001, true));
    assert_eq!(attr(ad, 14)["nexthop"], "192.0.2.2");
    assert_eq!(ext_communities(ad), ["65019:100"]);

    let mac1 = find(&evpn, &json!({"mac": "00:11:22:aa:bb:01"})).expect("type 2 with IP");
    assert_eq!(mac1["nlri"]["type"], 2);
    assert_eq!(mac1["nlri"]["value"]["rd"], rd);
    assert_eq!(mac1["nlri"]["value"]["esi"], "single-homed");
    assert_eq!(mac1["nlri"]["value"]["etag"], 0);
    assert_eq!(mac1["nlri"]["value"]["ip"], "10.10.0.1");
    assert_eq!(
        mac1["nlri"]["value"]["labels"],
        json!([label_field(10100, true)])
    );
    assert_eq!(ext_communities(mac1), ["65019:100"]);

    let mac2 = find(&evpn, &json!({"mac": "00:11:22:aa:bb:02"})).expect("type 2 without IP");
    assert_eq!(mac2["nlri"]["value"]["ip"], "<nil>");
    assert_eq!(
        mac2["nlri"]["value"]["labels"],
        json!([label_field(10100, false), label_field(20100, true)])
    );
    assert!(ext_communities(mac2).is_empty());

    let imet = evpn
        .iter()
        .map(|(_, p)| p)
        .find(|p| p["nlri"]["type"] == 3)
        .expect("type 3");
    assert_eq!(imet["nlri"]["value"]["rd"], rd);
    assert_eq!(imet["nlri"]["value"]["etag"], 0);
    assert_eq!(imet["nlri"]["value"]["ip"], "192.0.2.2");
    // RFC 6514 §5: ingress replication is tunnel type 6, its identifier the endpoint; the VNI
    // fills the 24-bit label field (RFC 8365 §5.1.3), which GoBGP prints whole.
    let pmsi = attr(imet, 22);
    assert_eq!(pmsi["tunnel-type"], 6, "{pmsi}");
    assert_eq!(pmsi["tunnel-id"], "192.0.2.2", "{pmsi}");
    assert_eq!(pmsi["label"], 10001, "{pmsi}");
    assert_eq!(pmsi["is-leaf-info-required"], false, "{pmsi}");
    assert_eq!(attr(imet, 14)["nexthop"], "192.0.2.2");
    let es = find(&evpn, &json!({"esi": esi, "ip": "192.0.2.2"})).expect("type 4");
    assert_eq!(es["nlri"]["type"], 4);
    assert_eq!(es["nlri"]["value"]["rd"], rd);
    let ipp = find(&evpn, &json!({"prefix": "10.20.0.0/24"})).expect("type 5");
    assert_eq!(ipp["nlri"]["type"], 5);
    assert_eq!(ipp["nlri"]["value"]["gateway"], "0.0.0.0");
    assert_eq!(ipp["nlri"]["value"]["label"], label_field(10200, true));

    // RTC (RFC 4684 §4): origin AS, then the route target.
    let rtc = paths(&g.rib("rtc"));
    assert_eq!(rtc[0].1["nlri"]["prefix"], "65019:65019:100", "{rtc:?}");
    assert_eq!(attr(&rtc[0].1, 14)["nexthop"], "192.0.2.1");

    // MUP (draft-mpmz-bess-mup-safi §3.1).
    let mup = paths(&g.rib("ipv4-mup"));
    let mup_rd = json!({"type": 0, "admin": 100, "assigned": 100});
    let dsd = find(&mup, &json!({"address": "10.0.0.1"})).expect("DSD");
    assert_eq!(dsd["nlri"]["route_type"], 2);
    assert_eq!(dsd["nlri"]["value"]["rd"], mup_rd);
    assert_eq!(ext_communities(dsd), ["10:10", "mup:10:10"]);
    let t1 = find(&mup, &json!({"prefix": "192.168.0.1/32"})).expect("T1ST");
    assert_eq!(t1["nlri"]["route_type"], 3);
    assert_eq!(t1["nlri"]["value"]["teid"], 12345);
    assert_eq!(t1["nlri"]["value"]["qfi"], 9);
    assert_eq!(t1["nlri"]["value"]["endpoint_address"], "10.0.0.1");
    assert_eq!(attr(t1, 14)["nexthop"], "192.0.2.1");
    let t2 = mup
        .iter()
        .map(|(_, p)| p)
        .find(|p| p["nlri"]["route_type"] == 4)
        .expect("T2ST");
    assert_eq!(t2["nlri"]["value"]["endpoint_address"], "10.0.0.1");
    assert_eq!(t2["nlri"]["value"]["teid"], 12345);
    assert_eq!(t2["nlri"]["value"]["rd"], mup_rd);
    let mup6 = paths(&g.rib("ipv6-mup"));
    let t1 = find(&mup6, &json!({"prefix": "2001:db8:10::1/128"})).expect("IPv6 T1ST");
    assert_eq!(t1["nlri"]["value"]["teid"], 777);
    assert_eq!(t1["nlri"]["value"]["qfi"], 3);
    assert_eq!(t1["nlri"]["value"]["endpoint_address"], "2001:db8::10");
    assert_eq!(attr(t1, 14)["nexthop"], "2001:db8::1");

    // VPLS (AFI 25 SAFI 65) and SR Policy (AFI 1 SAFI 73): GoBGP counts them.
    assert_eq!(received(&g, 25, 65), 1);
    assert_eq!(received(&g, 1, 73), 1);

    // From the control socket: one more EVPN MAC route and a T2ST, then withdrawn.
    let mac3 = "evpn mac-ip rd 192.0.2.3:7 mac 00:11:22:aa:bb:03 ip 10.10.0.3 label [ 30 ]";
    let (ok, out) = ctl(
        &inj,
        &format!("announce {mac3} next-hop 192.0.2.3 extended-community [ target:65019:7 ]"),
    );
    assert!(ok, "{out}");
    let (ok, out) = ctl(
        &inj,
        "announce ipv4 mup mup-t2st 10.0.0.9 rd 100:100 teid 99/32 next-hop 192.0.2.1",
    );
    assert!(ok, "{out}");
    let arrived = wait_for(Duration::from_secs(10), || {
        let evpn = paths(&g.rib("evpn"));
        let p = find(&evpn, &json!({"mac": "00:11:22:aa:bb:03"}))?.clone();
        let mup = paths(&g.rib("ipv4-mup"));
        find(&mup, &json!({"endpoint_address": "10.0.0.9"}))?;
        Some(p)
    })
    .unwrap_or_else(|| panic!("{}\nbgpinject: {}", dump(), inj.log()));
    assert_eq!(
        arrived["nlri"]["value"]["rd"],
        json!({"type": 1, "admin": "192.0.2.3", "assigned": 7})
    );
    assert_eq!(arrived["nlri"]["value"]["ip"], "10.10.0.3");
    assert_eq!(ext_communities(&arrived), ["65019:7"]);
    // A family the neighbor does not have is refused whole, not dropped quietly.
    let (ok, out) = ctl(
        &inj,
        "announce ipv6 mcast-vpn source-ad source fd12::4 group ff0e::1 rd 65000:1 next-hop 192.0.2.1",
    );
    assert!(!ok && out.contains("does not have ipv6 mcast-vpn"), "{out}");

    let (ok, out) = ctl(&inj, &format!("withdraw {mac3}"));
    assert!(ok, "{out}");
    let (ok, out) = ctl(
        &inj,
        "withdraw ipv4 mup mup-t2st 10.0.0.9 rd 100:100 teid 99/32",
    );
    assert!(ok, "{out}");
    let gone = wait_for(Duration::from_secs(10), || {
        let evpn = paths(&g.rib("evpn"));
        let mup = paths(&g.rib("ipv4-mup"));
        (find(&evpn, &json!({"mac": "00:11:22:aa:bb:03"})).is_none()
            && find(&mup, &json!({"endpoint_address": "10.0.0.9"})).is_none()
            && evpn.len() == 6
            && mup.len() == 3)
            .then_some(())
    });
    assert!(gone.is_some(), "{}\nbgpinject: {}", dump(), inj.log());

    // The file's routes, withdrawn by a reload without them.
    std::fs::write(inj.dir().join("bgpinject.conf"), config(false)).expect("rewrite config");
    let pid = inj.pid().expect("bgpinject runs");
    let _ = Command::new("kill")
        .args(["-HUP", &pid.to_string()])
        .status();
    let empty = wait_for(Duration::from_secs(15), || {
        want.iter()
            .all(|(f, _)| paths(&g.rib(f)).is_empty())
            .then_some(())
    });
    assert!(empty.is_some(), "{}\nbgpinject: {}", dump(), inj.log());
    inj.assert_no_resets(1);
    inj.stop();
}

/// A peer that does not negotiate l2vpn evpn gets no EVPN route (GoBGP would reset the
/// session on an AFI it did not offer), the unicast route still arrives, and the warning is
/// logged once however many EVPN routes follow (one more from the control socket).
#[test]
fn evpn_to_a_peer_without_the_family_is_held_back_and_logged_once() {
    const LOCAL2: &str = "127.0.34.11";
    const PEER2: (&str, u16) = ("127.0.34.2", 18183);
    let mut spec = ReceiverSpec::new(
        PEER2.0.parse().unwrap(),
        PEER2.1,
        65020,
        LOCAL2.parse::<IpAddr>().unwrap(),
        65019,
    );
    spec.families = Vec::new();
    let g = start_gobgp(&spec, &["ipv4-unicast"]);
    let config = format!(
        "neighbor {peer} {{
    router-id 192.0.2.10; local-address {LOCAL2}; local-as 65019; peer-as 65020; connect {port};
    family {{ ipv4 unicast; l2vpn evpn; }}
    static {{ route 198.51.100.0/24 next-hop 192.0.2.1; }}
    announce {{ l2vpn {{
        evpn multicast rd 192.0.2.2:100 ethernet-tag 0 ip 192.0.2.2 next-hop 192.0.2.2;
    }} }}
}}
",
        peer = PEER2.0,
        port = PEER2.1
    );
    let mut inj = Bgpinject::start(env!("CARGO_BIN_EXE_bgpinject"), &config, "debug");
    assert!(
        g.wait_established(Duration::from_secs(30)),
        "gobgp: {}\nbgpinject: {}",
        g.log(),
        inj.log()
    );
    let arrived = wait_for(Duration::from_secs(10), || {
        (paths(&g.rib("ipv4")).len() == 1).then_some(())
    });
    assert!(arrived.is_some(), "{}\n{}", g.rib("ipv4"), inj.log());
    let (ok, out) = ctl(
        &inj,
        "announce evpn multicast rd 192.0.2.2:101 ip 192.0.2.2 next-hop 192.0.2.2",
    );
    assert!(ok, "{out}");
    let logged = wait_for(Duration::from_secs(5), || {
        // The session's second send: the control socket's route, held back too.
        (inj.log().matches(": sending ").count() >= 2).then_some(())
    });
    assert!(logged.is_some(), "{}", inj.log());
    let log = inj.log();
    assert_eq!(
        log.matches("routes of l2vpn evpn held back: family not negotiated with the peer")
            .count(),
        1,
        "{log}"
    );
    assert_eq!(paths(&g.rib("ipv4")).len(), 1);
    inj.assert_no_resets(1);
    inj.stop();
}
