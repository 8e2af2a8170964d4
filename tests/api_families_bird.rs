//! Routes announced by a helper program and by `bgpinject ctl` carry every option a
//! configured route may: VPN routes reach BIRD's vpn4/vpn6 tables with their RD and label
//! and never its IPv4 table, `split /26` gives four /26, two `path-information` values give
//! two paths. The neighbor's configured labeled, VPN and ADD-PATH routes stay in BIRD, never
//! withdrawn, while programs announce and withdraw unicast routes next to them.

mod harness;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Duration;

use harness::bird::{BgpProtocol, Bird, BirdBuilder};
use harness::controlled::Controlled;
use harness::wait_for;

const LOCAL: &str = "127.0.16.10";
const BIRD_ADDR: (&str, u16) = ("127.0.16.2", 17916);
const PROTO: &str = "inj";

const HELPER: &str = "#!/bin/sh
echo 'announce route 10.99.0.0/16 rd 65000:9 label 900 next-hop 192.0.2.9'
echo 'announce route 2001:db8:99::/48 rd 65000:9 label 901 next-hop 2001:db8::9'
echo 'announce route 10.50.0.0/24 next-hop 192.0.2.5 split /26'
echo 'announce route 10.60.0.0/24 path-information 1.1.1.1 next-hop 192.0.2.6'
echo 'announce route 10.60.0.0/24 path-information 2.2.2.2 next-hop 192.0.2.7'
# The shell keeps its stdout open while cat reads until bgpinject closes stdin.
cat >/dev/null
";

fn config(helper: &Path) -> String {
    format!(
        "process routes {{ run {helper}; }}
neighbor {peer} {{
    router-id 192.0.2.10;
    local-address {LOCAL};
    local-as 65000;
    peer-as 65001;
    connect {port};
    capability {{ add-path send; }}
    family {{ ipv4 unicast; ipv4 nlri-mpls; ipv4 mpls-vpn; ipv6 mpls-vpn; }}
    api {{ processes [ routes ]; }}
    static {{
        route 198.51.100.0/24 label [ 100 200 ] next-hop 192.0.2.1;
        route 203.0.113.0/24 rd 65000:1 label 300 next-hop 192.0.2.1;
        route 192.0.2.128/25 path-information 1 next-hop 192.0.2.1;
        route 192.0.2.128/25 path-information 2 next-hop 192.0.2.2;
    }}
    announce {{
        ipv6 {{ mpls-vpn 2001:db8:1::/48 rd 192.0.2.1:7 label 400 next-hop 2001:db8::1; }}
    }}
}}
",
        helper = helper.display(),
        peer = BIRD_ADDR.0,
        port = BIRD_ADDR.1,
    )
}

/// An iBGP neighbor whose file route and control-socket route carry AIGP, ORIGINATOR_ID,
/// CLUSTER_LIST and a generic attribute.
fn ibgp_config(peer: (&str, u16), local: &str) -> String {
    format!(
        "neighbor {} {{
    router-id 192.0.2.10;
    local-address {local};
    local-as 65000;
    peer-as 65000;
    connect {};
    static {{
        route 203.0.113.0/24 next-hop 192.0.2.1 originator-id 10.0.0.1 cluster-list [ 3.3.3.3 192.168.201.1 ] aigp 1000 attribute [ 0x99 0xc0 0x0102 ] extended-community [ link-bandwidth:65000:125000000 encapsulation:vxlan ];
    }}
}}
",
        peer.0, peer.1
    )
}

/// bgpinject with the helper of [`HELPER`] beside its configuration.
fn start_with_helper() -> Controlled {
    Controlled::start("debug", |dir| {
        let helper = dir.join("routes.sh");
        fs::write(&helper, HELPER).unwrap();
        fs::set_permissions(&helper, fs::Permissions::from_mode(0o755)).unwrap();
        config(&helper)
    })
}

/// The networks of a BIRD table as `show route` prints them, one entry per path, sorted.
fn nets(bird: &Bird, table: &str) -> Vec<String> {
    let text = bird
        .birdc(&["show", "route", "table", table])
        .unwrap_or_default();
    let mut out = Vec::new();
    let mut net = String::new();
    for line in text.lines() {
        let Some(bracket) = line.find('[') else {
            continue;
        };
        let head: Vec<&str> = line[..bracket].split_whitespace().collect();
        if !line.starts_with(' ') && head.len() >= 2 {
            net = head[..head.len() - 1].join(" ");
        }
        out.push(net.clone());
    }
    out.sort();
    out
}

/// Every table at once, for comparisons and failure messages.
fn tables(bird: &Bird) -> Vec<(String, Vec<String>)> {
    ["vpntab4", "vpntab6", "labeled4", "master4"]
        .iter()
        .map(|t| (t.to_string(), nets(bird, t)))
        .collect()
}

fn want(entries: &[(&str, &[&str])]) -> Vec<(String, Vec<String>)> {
    entries
        .iter()
        .map(|(t, n)| {
            let mut n: Vec<String> = n.iter().map(|s| s.to_string()).collect();
            n.sort();
            (t.to_string(), n)
        })
        .collect()
}

/// "Import withdraws:" received by each channel of the protocol, from `show protocols all`.
fn withdraws_received(bird: &Bird) -> Vec<(String, String)> {
    let info = bird.protocol_info(PROTO);
    let mut out = Vec::new();
    let mut channel = String::new();
    for line in info.lines() {
        let t = line.trim();
        if let Some(c) = t.strip_prefix("Channel ") {
            channel = c.to_string();
        }
        if let Some(rest) = t.strip_prefix("Import withdraws:") {
            let received = rest.split_whitespace().next().unwrap_or("?");
            out.push((channel.clone(), received.to_string()));
        }
    }
    out
}

#[test]
fn program_routes_keep_their_family_and_file_routes_stay() {
    let bird = BirdBuilder::new("192.0.2.20", BIRD_ADDR.0, BIRD_ADDR.1)
        .extra("vpn4 table vpntab4;\nvpn6 table vpntab6;\nipv4 table labeled4;")
        .bgp(
            BgpProtocol::new(PROTO, LOCAL, 179, 65001, 65000)
                .passive(true)
                .families(false, false)
                .extra(
                    "    vpn4 mpls { table vpntab4; import all; export none; };
    vpn6 mpls { table vpntab6; import all; export none; };
    ipv4 mpls { table labeled4; import all; export none; };
    ipv4 { add paths rx; import all; export none; };
",
                ),
        )
        .start();
    let inj = start_with_helper();
    bird.wait_established(PROTO, Duration::from_secs(30));

    let file_and_helper = want(&[
        (
            "vpntab4",
            &["65000:1 203.0.113.0/24", "65000:9 10.99.0.0/16"],
        ),
        (
            "vpntab6",
            &["192.0.2.1:7 2001:db8:1::/48", "65000:9 2001:db8:99::/48"],
        ),
        ("labeled4", &["198.51.100.0/24"]),
        (
            "master4",
            &[
                "192.0.2.128/25",
                "192.0.2.128/25",
                "10.50.0.0/26",
                "10.50.0.64/26",
                "10.50.0.128/26",
                "10.50.0.192/26",
                "10.60.0.0/24",
                "10.60.0.0/24",
            ],
        ),
    ]);
    let got = wait_for(Duration::from_secs(20), || {
        (tables(&bird) == file_and_helper).then_some(())
    });
    assert!(
        got.is_some(),
        "BIRD's tables: {:#?}\nexpected: {:#?}\n{}\nbgpinject: {}",
        tables(&bird),
        file_and_helper,
        bird.protocol_info(PROTO),
        inj.log()
    );
    // Labels and next hops as announced, not only the networks.
    let vpn = bird
        .birdc(&[
            "show",
            "route",
            "all",
            "table",
            "vpntab4",
            "65000:9 10.99.0.0/16",
        ])
        .unwrap_or_default();
    assert!(
        vpn.contains("BGP.mpls_label_stack: 900") && vpn.contains("BGP.next_hop: 192.0.2.9"),
        "{vpn}"
    );
    let paths = bird
        .birdc(&["show", "route", "all", "table", "master4", "10.60.0.0/24"])
        .unwrap_or_default();
    assert!(
        paths.contains("BGP.next_hop: 192.0.2.6") && paths.contains("BGP.next_hop: 192.0.2.7"),
        "{paths}"
    );

    // The control socket announces and withdraws a unicast route next to all of them.
    let reply = inj.ctl("announce route 10.70.0.0/24 next-hop 192.0.2.8");
    assert!(reply.trim_end().ends_with("done"), "{reply}");
    let with_ctl = wait_for(Duration::from_secs(10), || {
        nets(&bird, "master4")
            .contains(&"10.70.0.0/24".to_string())
            .then_some(())
    });
    assert!(with_ctl.is_some(), "{:#?}\n{}", tables(&bird), inj.log());
    let reply = inj.ctl("withdraw route 10.70.0.0/24");
    assert!(reply.trim_end().ends_with("done"), "{reply}");
    let gone = wait_for(Duration::from_secs(10), || {
        (tables(&bird) == file_and_helper).then_some(())
    });
    assert!(gone.is_some(), "{:#?}\n{}", tables(&bird), inj.log());
    // A route of the file cannot be withdrawn from the control socket.
    let reply = inj.ctl("withdraw route 203.0.113.0/24 rd 65000:1");
    assert!(reply.trim_end().ends_with("error"), "{reply}");

    // Only the ctl route was ever withdrawn: the VPN and labeled channels saw none.
    let withdraws = withdraws_received(&bird);
    for (channel, n) in &withdraws {
        let expected = if channel.starts_with("ipv4") && !channel.contains("mpls") {
            "1"
        } else {
            "0"
        };
        assert_eq!(n, expected, "channel {channel}: {withdraws:?}");
    }
    assert!(
        withdraws.len() >= 4,
        "{withdraws:?}\n{}",
        bird.protocol_info(PROTO)
    );
    inj.assert_no_bug();
}

#[test]
fn aigp_originator_cluster_list_and_generic_reach_bird_from_file_and_ctl() {
    const PEER: (&str, u16) = ("127.0.16.3", 17917);
    const LOCAL_IBGP: &str = "127.0.16.11";
    let bird = BirdBuilder::new("192.0.2.21", PEER.0, PEER.1)
        .bgp(
            BgpProtocol::new(PROTO, LOCAL_IBGP, 179, 65000, 65000)
                .passive(true)
                .families(true, false),
        )
        .start();
    let inj = Controlled::start("debug", |_| ibgp_config(PEER, LOCAL_IBGP));
    bird.wait_established(PROTO, Duration::from_secs(30));
    let reply = inj.ctl(
        "announce route 198.51.100.0/24 next-hop 192.0.2.2 originator-id 10.0.0.2 cluster-list [ 4.4.4.4 ] aigp 2000 attribute [ 0x99 0xc0 0x0304 ]",
    );
    assert!(reply.trim_end().ends_with("done"), "{reply}");
    let both = wait_for(Duration::from_secs(15), || {
        let text = bird
            .birdc(&["show", "route", "all", "table", "master4"])
            .unwrap_or_default();
        (text.contains("203.0.113.0/24") && text.contains("198.51.100.0/24")).then_some(())
    });
    let show = |net: &str| {
        bird.birdc(&["show", "route", "all", "table", "master4", net])
            .unwrap_or_default()
    };
    assert!(both.is_some(), "{}\n{}", show("0.0.0.0/0"), inj.log());
    for (net, originator, clusters, aigp, generic) in [
        (
            "203.0.113.0/24",
            "10.0.0.1",
            "3.3.3.3 192.168.201.1",
            "1000",
            "01 02",
        ),
        ("198.51.100.0/24", "10.0.0.2", "4.4.4.4", "2000", "03 04"),
    ] {
        let text = show(net);
        let attr = |key: &str| {
            text.lines()
                .find_map(|l| l.trim().strip_prefix(key))
                .map(|v| v.trim_start_matches(':').trim().to_string())
                .unwrap_or_else(|| "(absent)".into())
        };
        assert_eq!(attr("BGP.originator_id"), originator, "{net}:\n{text}");
        assert_eq!(attr("BGP.cluster_list"), clusters, "{net}:\n{text}");
        assert_eq!(attr("BGP.aigp"), aigp, "{net}:\n{text}");
        // BIRD prints an attribute it does not know by its code in hex, `[t]` for transitive.
        assert_eq!(attr("BGP.99 [t]"), generic, "{net}:\n{text}");
        if net == "203.0.113.0/24" {
            // Link bandwidth (type 0x4004) of AS 65000 at 125,000,000 bytes/s (the IEEE float
            // 0x4cee6b28 = 1290693416), and the VXLAN encapsulation (0x030c, tunnel type 8),
            // as BIRD prints kinds it does not name.
            assert_eq!(
                attr("BGP.ext_community"),
                "(unknown 0x4004, 65000, 1290693416) (generic, 0x30c0000, 0x8)",
                "{net}:\n{text}"
            );
        }
    }
    inj.assert_no_bug();
}
