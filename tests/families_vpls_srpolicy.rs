//! VPLS (RFC 4761) and SR Policy (RFC 9830) routes from bgpinject checked field by field in real
//! peers, then withdrawn and checked gone:
//!
//! - GoBGP 3.10: its CLI cannot list either family (`unsupported address family`), but
//!   `gobgpd -l debug` logs every UPDATE it received as it decoded it (`received update ...
//!   MpReach(l2vpn-vpls): {... NLRIs: [RD:VE-ID:OFFSET (Block Size: N, Label Base: {[L]})]}`,
//!   the SR Policy NLRI and its tunnel encapsulation sub-TLVs). Those lines are read here.
//! - ExaBGP 4.2: VPLS, from the JSON its API process receives (`rd`, `endpoint`, `base`,
//!   `offset`, `size`, route targets).
//!
//! Every expected value is written here from the configuration text (RFC 4761 §3.2.2 fields,
//! RFC 9830 §2.4 sub-TLVs), never taken from bgpinject's encoder. MCAST-VPN has no receiver
//! among the installed peers (GoBGP, FRR 8.4, BIRD 2.0 and ExaBGP 4.2 lack SAFI 5): its bytes
//! are checked by tshark's dissector in test-vectors/ instead.

mod harness;

use std::fmt::Write as _;
use std::os::unix::fs::PermissionsExt;
use std::process::Command;
use std::time::Duration;

use harness::bgpinject::Bgpinject;
use harness::daemon::{Daemon, free_port};
use harness::exabgp::exabgp_command;
use harness::wait_for;
use serde_json::Value;

const LOCAL: &str = "127.0.43.10";
const GOBGP: (&str, u16) = ("127.0.43.1", 18450);
const EXABGP: (&str, u16) = ("127.0.43.2", 18455);

const VPLS_1: &str = "vpls rd 192.0.2.1:123 endpoint 5 base 10702 offset 1 size 8 next-hop 192.0.2.1 extended-community [ target:65019:6 ]";
const VPLS_2: &str = "vpls rd 65000:77 endpoint 9 base 262100 offset 17 size 16 next-hop 192.0.2.1";
const SRP_1: &str = "sr-policy distinguisher 2 color 100 endpoint 192.0.2.100 next-hop 192.0.2.1 preference 100 priority 7 binding-sid mpls 24000 enlp no-push segment-list weight 1 segment type-a mpls 16001 segment type-a mpls 16002 segment-list weight 2 segment type-a mpls 16003 policy-name \"gold\"";
const SRP_2: &str = "sr-policy distinguisher 3 color 200 endpoint 192.0.2.200 next-hop 192.0.2.1 preference 200 srv6-binding-sid 2001:db8:b::1 segment-list weight 5 segment type-b srv6 2001:db8:1::1 segment type-b srv6 2001:db8:2::1";

fn config(peer: (&str, u16), families: &str, l2vpn: &[&str], ipv4: &[&str]) -> String {
    let mut c = String::new();
    let _ = writeln!(c, "neighbor {} {{", peer.0);
    let _ = writeln!(c, "    router-id 192.0.2.10;\n    local-address {LOCAL};");
    let _ = writeln!(c, "    local-as 65019;\n    peer-as 65020;");
    let _ = writeln!(c, "    connect {};\n    family {{ {families} }}", peer.1);
    let _ = writeln!(c, "    announce {{\n        l2vpn {{");
    for r in l2vpn {
        let _ = writeln!(c, "            {r};");
    }
    let _ = writeln!(c, "        }}\n        ipv4 {{");
    for r in ipv4 {
        let _ = writeln!(c, "            {r};");
    }
    let _ = writeln!(c, "        }}\n    }}\n}}");
    c
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

/// gobgpd logging at debug level, a passive receiver of l2vpn-vpls and ipv4-srpolicy.
struct GobgpDebug {
    dir: tempfile::TempDir,
    api_port: u16,
    _daemon: Daemon,
}

impl GobgpDebug {
    fn start() -> GobgpDebug {
        harness::ensure_installed("gobgpd", "gobgpd");
        let dir = tempfile::Builder::new()
            .prefix("gobgp-debug-")
            .tempdir()
            .expect("tempdir");
        let conf = dir.path().join("gobgpd.toml");
        let mut c = String::new();
        let _ = writeln!(
            c,
            "[global.config]\n  as = 65020\n  router-id = \"192.0.2.254\"\n  port = {}\n  local-address-list = [\"{}\"]",
            GOBGP.1, GOBGP.0
        );
        let _ = writeln!(
            c,
            "[global.apply-policy.config]\n  default-import-policy = \"accept-route\"\n  default-export-policy = \"reject-route\""
        );
        let _ = writeln!(
            c,
            "[[neighbors]]\n  [neighbors.config]\n    neighbor-address = \"{LOCAL}\"\n    peer-as = 65019\n  [neighbors.transport.config]\n    passive-mode = true\n    local-address = \"{}\"",
            GOBGP.0
        );
        for f in ["l2vpn-vpls", "ipv4-srpolicy"] {
            let _ = writeln!(
                c,
                "  [[neighbors.afi-safis]]\n    [neighbors.afi-safis.config]\n      afi-safi-name = \"{f}\""
            );
        }
        std::fs::write(&conf, c).expect("write gobgpd.toml");
        let api_port = free_port();
        let mut cmd = Command::new("gobgpd");
        cmd.arg("-f")
            .arg(&conf)
            .args([
                "-t",
                "toml",
                "-l",
                "debug",
                "--log-plain",
                "--pprof-disable",
            ])
            .arg("--api-hosts")
            .arg(format!("127.0.0.1:{api_port}"));
        let daemon = Daemon::spawn("gobgp", &mut cmd, &dir.path().join("gobgpd.log"));
        GobgpDebug {
            dir,
            api_port,
            _daemon: daemon,
        }
    }

    /// The `attributes="..."` of every `received update` line, in order.
    fn updates(&self) -> Vec<String> {
        let log = std::fs::read_to_string(self.dir.path().join("gobgpd.log")).unwrap_or_default();
        log.lines()
            .filter(|l| l.contains("msg=\"received update\""))
            .filter_map(|l| {
                let start = l.find("attributes=\"")? + "attributes=\"".len();
                let end = l[start..].find("\" nlri=")? + start;
                Some(l[start..end].to_string())
            })
            .collect()
    }

    fn established(&self) -> bool {
        let out = Command::new("gobgp")
            .args(["-u", "127.0.0.1", "-p"])
            .arg(self.api_port.to_string())
            .args(["neighbor", LOCAL, "-j"])
            .output();
        let Ok(out) = out else { return false };
        let v: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
        v.pointer("/state/session_state")
            .is_some_and(|s| s.as_u64() == Some(6) || s.as_str() == Some("established"))
    }
}

/// The values GoBGP's SR Policy formatter prints, in order: `w=N` for a segment list's
/// weight, then each segment's `Label: N` or `Sid: X`.
fn segment_lists(attributes: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = attributes;
    loop {
        let next = ["Weight: ", "Label: ", "Sid: "]
            .iter()
            .filter_map(|k| rest.find(k).map(|i| (i, *k)))
            .min();
        let Some((i, key)) = next else { break };
        let value: String = rest[i + key.len()..]
            .chars()
            .take_while(|c| c.is_ascii_hexdigit() || *c == ':' || *c == '.')
            .collect();
        // `{Weight: {Flags: 0x00, Weight: 1}, ...`: the outer word names the sub-TLV.
        if !value.is_empty() {
            out.push(match key {
                "Weight: " => format!("w={value}"),
                _ => value,
            });
        }
        rest = &rest[i + key.len()..];
    }
    out
}

/// `announce ROUTE` on the control socket (the API's words are the file's).
fn announce(inj: &Bgpinject, route: &str) {
    let (ok, out) = ctl(inj, &format!("announce {route}"));
    assert!(ok, "announce {route}: {out}\n{}", inj.log());
}

/// The configuration rewritten without routes and SIGHUP: the file's routes are withdrawn.
fn reload_without_routes(inj: &Bgpinject, peer: (&str, u16), families: &str) {
    std::fs::write(&inj.config, config(peer, families, &[], &[])).expect("rewrite config");
    let pid = inj.pid().expect("bgpinject runs");
    let _ = Command::new("kill")
        .args(["-HUP", &pid.to_string()])
        .status();
}

#[test]
fn vpls_and_sr_policy_reach_gobgp_field_by_field_then_go() {
    let g = GobgpDebug::start();
    let families = "l2vpn vpls; ipv4 sr-policy;";
    let mut inj = Bgpinject::start(
        env!("CARGO_BIN_EXE_bgpinject"),
        &config(GOBGP, families, &[VPLS_1], &[SRP_1]),
        "debug",
    );
    let log = || {
        format!(
            "gobgp updates:\n{}\nbgpinject: {}",
            g.updates().join("\n"),
            inj.log()
        )
    };
    let eors = wait_for(Duration::from_secs(40), || {
        let u = g.updates();
        (g.established()
            && u.iter()
                .any(|a| a.contains("MpUnreach(l2vpn-vpls): End-of-Rib"))
            && u.iter()
                .any(|a| a.contains("MpUnreach(ipv4-srpolicy): End-of-Rib")))
        .then_some(())
    });
    assert!(eors.is_some(), "no End-of-RIB of both families\n{}", log());
    // Two more from the control socket.
    announce(&inj, VPLS_2);
    announce(&inj, &format!("ipv4 {SRP_2}"));
    let arrived = wait_for(Duration::from_secs(10), || {
        let u = g.updates();
        (u.iter().filter(|a| a.contains("MpReach(")).count() == 4).then_some(u)
    })
    .unwrap_or_else(|| panic!("four routes expected\n{}", log()));
    let find = |needle: &str| -> String {
        let found: Vec<&String> = arrived.iter().filter(|a| a.contains(needle)).collect();
        assert_eq!(found.len(), 1, "{needle}\n{}", log());
        found[0].clone()
    };
    // VPLS, RFC 4761 §3.2.2: RD, VE ID (endpoint), VE block offset, VE block size, label
    // base; GoBGP writes RD:VE-ID:OFFSET.
    let v1 = find("192.0.2.1:123:5:1 ");
    assert!(
        v1.contains("MpReach(l2vpn-vpls): {Nexthop: 192.0.2.1,"),
        "{v1}"
    );
    assert!(
        v1.contains("192.0.2.1:123:5:1 (Block Size: 8, Label Base: {[10702]})"),
        "{v1}"
    );
    assert!(v1.contains("{Extcomms: [65019:6]}"), "{v1}");
    let v2 = find("65000:77:9:17 ");
    assert!(
        v2.contains("65000:77:9:17 (Block Size: 16, Label Base: {[262100]})"),
        "{v2}"
    );
    assert!(!v2.contains("Extcomms"), "{v2}");

    // SR Policy NLRI (RFC 9830 §2.1: distinguisher, color, endpoint) and its tunnel
    // encapsulation (§2.4): preference, priority, binding SID (an MPLS label), ENLP (4 = push
    // no explicit null, §2.4.5), segment lists with their weights, policy name (sub-TLV 130).
    let s1 = find("Distinguisher: 2,");
    assert!(
        s1.contains("MpReach(ipv4-srpolicy): {Nexthop: 192.0.2.1, NLRIs: [{ Length: 12 (bytes), Distinguisher: 2, Color 100, Endpoint: 192.0.2.100 }]}"),
        "{s1}"
    );
    assert!(s1.contains("{Flags: 0x00, Preference: 100}"), "{s1}");
    assert!(s1.contains("{Priority: 7}"), "{s1}");
    assert!(s1.contains("BSID: 24000}"), "{s1}");
    assert!(s1.contains("ENLP Type: 4}"), "{s1}");
    assert_eq!(
        segment_lists(&s1),
        ["w=1", "16001", "16002", "w=2", "16003"],
        "{s1}"
    );
    // Policy name: one reserved octet, then the name (RFC 9830 §2.4.8).
    assert!(
        s1.contains(&format!("{{Type: 130, Value: 00{}}}", hex("gold"))),
        "{s1}"
    );
    let s2 = find("Distinguisher: 3,");
    assert!(
        s2.contains("Distinguisher: 3, Color 200, Endpoint: 192.0.2.200 }"),
        "{s2}"
    );
    assert!(s2.contains("{Flags: 0x00, Preference: 200}"), "{s2}");
    // SRv6 binding SID sub-TLV (type 20, RFC 9830 §2.4.3): flags, reserved, the SID; GoBGP
    // shows it raw.
    assert!(
        s2.contains("{Type: 20, Value: 000020010db8000b00000000000000000001}"),
        "{s2}"
    );
    assert_eq!(
        segment_lists(&s2),
        ["w=5", "2001:db8:1::1", "2001:db8:2::1"],
        "{s2}"
    );
    assert!(!s2.contains("Priority"), "{s2}");

    // The control socket's two withdrawn: GoBGP logs their NLRI in an MP_UNREACH.
    let before = g.updates().len();
    let (ok, out) = ctl(
        &inj,
        "withdraw vpls rd 65000:77 endpoint 9 base 262100 offset 17 size 16",
    );
    assert!(ok, "{out}");
    let (ok, out) = ctl(
        &inj,
        "withdraw ipv4 sr-policy distinguisher 3 color 200 endpoint 192.0.2.200",
    );
    assert!(ok, "{out}");
    let withdrawn = |vpls: &'static str, srp: &'static str| {
        move |u: &[String]| {
            let v = u
                .iter()
                .any(|a| a.contains("MpUnreach(l2vpn-vpls)") && a.contains(vpls));
            let s = u
                .iter()
                .any(|a| a.contains("MpUnreach(ipv4-srpolicy)") && a.contains(srp));
            v && s
        }
    };
    let ctl_gone = withdrawn(
        "65000:77:9:17",
        "Distinguisher: 3, Color 200, Endpoint: 192.0.2.200",
    );
    let after = wait_for(Duration::from_secs(10), || {
        let u = g.updates();
        let after = u.get(before..).unwrap_or_default().to_vec();
        ctl_gone(&after).then_some(after)
    })
    .unwrap_or_else(|| panic!("control socket routes not withdrawn\n{}", log()));
    // Only those two: the file's routes stay.
    assert!(
        !after
            .iter()
            .any(|a| a.contains("192.0.2.1:123:5:1") || a.contains("Distinguisher: 2")),
        "{after:?}"
    );

    // The file's two, withdrawn by a reload without them.
    let before = g.updates().len();
    reload_without_routes(&inj, GOBGP, families);
    let file_gone = withdrawn(
        "192.0.2.1:123:5:1",
        "Distinguisher: 2, Color 100, Endpoint: 192.0.2.100",
    );
    let gone = wait_for(Duration::from_secs(15), || {
        let u = g.updates();
        file_gone(u.get(before..).unwrap_or_default()).then_some(())
    });
    assert!(gone.is_some(), "file routes not withdrawn\n{}", log());
    inj.assert_no_resets(1);
    inj.stop();
}

fn hex(s: &str) -> String {
    s.bytes().map(|b| format!("{b:02x}")).collect()
}

/// ExaBGP 4.2 receiving l2vpn vpls: its API process appends the parsed UPDATEs as JSON.
struct ExabgpVpls {
    dir: tempfile::TempDir,
    _daemon: Daemon,
}

impl ExabgpVpls {
    fn start() -> ExabgpVpls {
        harness::ensure_installed("exabgp", "exabgp");
        let dir = tempfile::Builder::new()
            .prefix("exabgp-vpls-")
            .tempdir()
            .expect("tempdir");
        let received = dir.path().join("received.jsonl");
        let script = dir.path().join("receiver.sh");
        std::fs::write(
            &script,
            format!("#!/bin/sh\ncat >> '{}'\n", received.display()),
        )
        .expect("write receiver.sh");
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        let conf = dir.path().join("exabgp.conf");
        let mut c = String::new();
        let _ = writeln!(
            c,
            "process receiver {{\n  run {};\n  encoder json;\n}}",
            script.display()
        );
        let _ = writeln!(
            c,
            "neighbor {LOCAL} {{\n  router-id 192.0.2.254;\n  local-address {};\n  local-as 65020;\n  peer-as 65019;\n  passive true;",
            EXABGP.0
        );
        let _ = writeln!(c, "  family {{ l2vpn vpls; }}");
        let _ = writeln!(
            c,
            "  api {{ processes [ receiver ]; neighbor-changes; receive {{ parsed; update; }} }}\n}}"
        );
        std::fs::write(&conf, c).expect("write exabgp.conf");
        let mut cmd = exabgp_command(&conf, Some((EXABGP.0.parse().unwrap(), EXABGP.1)));
        let daemon = Daemon::spawn("exabgp", &mut cmd, &dir.path().join("exabgp.log"));
        ExabgpVpls {
            dir,
            _daemon: daemon,
        }
    }

    fn messages(&self) -> Vec<Value> {
        std::fs::read_to_string(self.dir.path().join("received.jsonl"))
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }

    /// The VPLS routes announced and not withdrawn: (NLRI JSON, next hop, extended
    /// communities' `string`s), keyed by ExaBGP's NLRI string.
    fn vpls(&self) -> Vec<(Value, String, Vec<String>)> {
        let mut rib: Vec<(Value, String, Vec<String>)> = Vec::new();
        for m in self.messages() {
            let Some(u) = m.pointer("/neighbor/message/update") else {
                continue;
            };
            for w in u
                .pointer("/withdraw/l2vpn vpls")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                rib.retain(|(n, _, _)| n["rd"] != w["rd"] || n["endpoint"] != w["endpoint"]);
            }
            let ext: Vec<String> = u
                .pointer("/attribute/extended-community")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|e| e["string"].as_str().map(str::to_string))
                .collect();
            for (nh, list) in u
                .pointer("/announce/l2vpn vpls")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
            {
                for n in list.as_array().into_iter().flatten() {
                    rib.retain(|(o, _, _)| o["rd"] != n["rd"] || o["endpoint"] != n["endpoint"]);
                    rib.push((n.clone(), nh.clone(), ext.clone()));
                }
            }
        }
        rib
    }

    fn up(&self) -> bool {
        self.messages()
            .iter()
            .rfind(|m| m["type"] == "state")
            .is_some_and(|m| m.pointer("/neighbor/state") == Some(&Value::from("up")))
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("exabgp.log")).unwrap_or_default()
    }
}

#[test]
fn vpls_reaches_exabgp_field_by_field_then_goes() {
    let x = ExabgpVpls::start();
    let mut inj = Bgpinject::start(
        env!("CARGO_BIN_EXE_bgpinject"),
        &config(EXABGP, "l2vpn vpls;", &[VPLS_1], &[]),
        "debug",
    );
    let up = wait_for(Duration::from_secs(30), || {
        (x.up() && x.vpls().len() == 1).then_some(())
    });
    assert!(up.is_some(), "{}\nbgpinject: {}", x.log(), inj.log());
    announce(&inj, VPLS_2);
    let both = wait_for(Duration::from_secs(30), || {
        let r = x.vpls();
        (x.up() && r.len() == 2).then_some(r)
    })
    .unwrap_or_else(|| {
        panic!(
            "exabgp: {:?}\n{}\nbgpinject: {}",
            x.vpls(),
            x.log(),
            inj.log()
        )
    });
    let by_endpoint = |rib: &[(Value, String, Vec<String>)], ve: u64| {
        rib.iter()
            .find(|(n, _, _)| n["endpoint"] == ve)
            .cloned()
            .unwrap_or_else(|| panic!("VE {ve} missing: {rib:?}"))
    };
    // RFC 4761 §3.2.2, as ExaBGP 4.2 names the fields.
    let (n, nh, ext) = by_endpoint(&both, 5);
    assert_eq!(n["rd"], "192.0.2.1:123", "{n}");
    assert_eq!(n["base"], 10702, "{n}");
    assert_eq!(n["offset"], 1, "{n}");
    assert_eq!(n["size"], 8, "{n}");
    assert_eq!(nh, "192.0.2.1");
    assert_eq!(ext, ["target:65019:6"]);
    let (n, nh, ext) = by_endpoint(&both, 9);
    assert_eq!(n["rd"], "65000:77", "{n}");
    assert_eq!(n["base"], 262100, "{n}");
    assert_eq!(n["offset"], 17, "{n}");
    assert_eq!(n["size"], 16, "{n}");
    assert_eq!(nh, "192.0.2.1");
    assert!(ext.is_empty(), "{ext:?}");

    let (ok, out) = ctl(
        &inj,
        "withdraw vpls rd 65000:77 endpoint 9 base 262100 offset 17 size 16",
    );
    assert!(ok, "{out}");
    let left = wait_for(Duration::from_secs(10), || {
        let r = x.vpls();
        (r.len() == 1).then_some(r)
    })
    .unwrap_or_else(|| panic!("not withdrawn: {:?}\nbgpinject: {}", x.vpls(), inj.log()));
    assert_eq!(left[0].0["endpoint"], 5);
    reload_without_routes(&inj, EXABGP, "l2vpn vpls;");
    let empty = wait_for(Duration::from_secs(15), || {
        x.vpls().is_empty().then_some(())
    });
    assert!(empty.is_some(), "{:?}\nbgpinject: {}", x.vpls(), inj.log());
    inj.assert_no_resets(1);
    inj.stop();
}
