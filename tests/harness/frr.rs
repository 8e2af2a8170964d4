//! FRR's bgpd (without zebra) as a receiver, queried with `vtysh --vty_socket`.

use std::fmt::Write as _;
use std::os::unix::fs::PermissionsExt;
use std::process::Command;
use std::time::Duration;

use serde_json::Value;
use tempfile::TempDir;

use super::daemon::{Daemon, query};
use super::normalise::{community, ext_community, origin, sorted};
use super::spec::{Family, ReceiverSpec};
use super::{ReceivedRoute, ensure_installed, wait_for};

pub const BGPD: &str = "/usr/lib/frr/bgpd";

pub struct Frr {
    pub spec: ReceiverSpec,
    pub dir: TempDir,
    daemon: Daemon,
}

impl Frr {
    pub fn start(spec: &ReceiverSpec) -> Frr {
        Frr::start_with(spec, &[])
    }

    /// Like [`Frr::start`], with extra `neighbor X ...` statements (without the `neighbor X`
    /// part), e.g. `capability extended-nexthop`.
    pub fn start_with(spec: &ReceiverSpec, neighbor_statements: &[&str]) -> Frr {
        assert!(
            spec.four_octet_as,
            "FRR cannot act as a 2-byte-AS speaker (only dont-capability-negotiate, which drops every capability); use Openbgpd or Exabgp"
        );
        ensure_installed("frr", BGPD);
        ensure_installed("frr", "vtysh");
        let dir = tempfile::Builder::new()
            .prefix("frr-")
            .tempdir()
            .expect("tempdir");
        // bgpd -S keeps root, but vtysh checks the socket directory.
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).ok();
        let conf = dir.path().join("bgpd.conf");
        std::fs::write(&conf, config(spec, neighbor_statements)).expect("write bgpd.conf");
        let mut cmd = Command::new(BGPD);
        cmd.args(["-Z", "-S", "-P", "0", "-l"])
            .arg(spec.listen.to_string())
            .arg("-p")
            .arg(spec.port.to_string())
            .arg("--vty_socket")
            .arg(dir.path())
            .arg("-i")
            .arg(dir.path().join("bgpd.pid"))
            .arg("-f")
            .arg(&conf);
        let daemon = Daemon::spawn("frr", &mut cmd, &dir.path().join("bgpd.log"));
        let frr = Frr {
            spec: spec.clone(),
            dir,
            daemon,
        };
        let up = wait_for(Duration::from_secs(10), || {
            frr.vtysh(&["show bgp summary json"])
        });
        assert!(
            up.is_some(),
            "frr: vty not answering; log:\n{}",
            frr.daemon.log_text()
        );
        frr
    }

    /// Runs vtysh commands against this instance only.
    pub fn vtysh(&self, commands: &[&str]) -> Option<String> {
        let mut cmd = Command::new("vtysh");
        cmd.arg("--vty_socket")
            .arg(self.dir.path())
            .args(["-d", "bgpd"]);
        for c in commands {
            cmd.arg("-c").arg(c);
        }
        query(&mut cmd)
    }

    pub fn state(&self) -> Option<String> {
        let out = self.vtysh(&[&format!("show bgp neighbors {} json", self.spec.neighbor)])?;
        let v: Value = serde_json::from_str(&out).ok()?;
        v.get(self.spec.neighbor.to_string())?
            .get("bgpState")?
            .as_str()
            .map(str::to_string)
    }

    pub fn wait_established(&self, timeout: Duration) -> bool {
        wait_for(timeout, || (self.state()? == "Established").then_some(())).is_some()
    }

    pub fn routes(&self, afi: &str) -> Vec<ReceivedRoute> {
        let Some(table) = self.vtysh(&[&format!("show bgp {afi} unicast json")]) else {
            return Vec::new();
        };
        let table: Value = serde_json::from_str(&table).unwrap_or(Value::Null);
        let Some(prefixes) = table.get("routes").and_then(Value::as_object) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for prefix in prefixes.keys() {
            let Some(detail) = self.vtysh(&[&format!("show bgp {afi} unicast {prefix} json")])
            else {
                continue;
            };
            let v: Value = serde_json::from_str(&detail).unwrap_or(Value::Null);
            let Some(paths) = v.get("paths").and_then(Value::as_array) else {
                continue;
            };
            for path in paths {
                out.push(parse_path(prefix, path));
            }
        }
        out.sort();
        out
    }

    pub fn log(&self) -> String {
        self.daemon.log_text()
    }

    pub fn stop(&mut self) {
        self.daemon.stop();
    }
}

fn parse_path(prefix: &str, p: &Value) -> ReceivedRoute {
    let strings = |v: Option<&Value>| -> Vec<String> {
        v.and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    let as_path = p
        .pointer("/aspath/segments")
        .and_then(Value::as_array)
        .map(|segs| {
            segs.iter()
                .flat_map(|s| strings_u32(s.get("list")))
                .collect()
        })
        .unwrap_or_default();
    let next_hop = p
        .pointer("/nexthops")
        .and_then(Value::as_array)
        .and_then(|n| {
            n.iter()
                .find(|h| h.get("scope").and_then(Value::as_str) != Some("link-local"))
        })
        .and_then(|h| h.get("ip"))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let ext = p
        .pointer("/extendedCommunity/string")
        .and_then(Value::as_str)
        .map(|s| s.split_whitespace().map(ext_community).collect())
        .unwrap_or_default();
    let aggregator = match (p.get("aggregatorAs"), p.get("aggregatorId")) {
        (Some(a), Some(id)) => Some(format!("{}:{}", a, id.as_str().unwrap_or_default())),
        _ => None,
    };
    ReceivedRoute {
        prefix: prefix.to_string(),
        next_hop,
        origin: origin(p.get("origin").and_then(Value::as_str).unwrap_or_default()),
        as_path,
        med: p.get("metric").and_then(Value::as_u64).map(|m| m as u32),
        local_pref: p.get("locPrf").and_then(Value::as_u64).map(|m| m as u32),
        communities: sorted(
            strings(p.pointer("/community/list"))
                .iter()
                .map(|c| community(c))
                .collect(),
        ),
        extended_communities: sorted(ext),
        large_communities: sorted(strings(p.pointer("/largeCommunity/list"))),
        atomic_aggregate: p.get("atomicAggregate").and_then(Value::as_bool) == Some(true),
        aggregator,
    }
}

fn strings_u32(v: Option<&Value>) -> Vec<u32> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_u64().map(|n| n as u32))
                .collect()
        })
        .unwrap_or_default()
}

fn config(s: &ReceiverSpec, neighbor_statements: &[&str]) -> String {
    let n = s.neighbor;
    let mut c = String::new();
    let _ = writeln!(
        c,
        "frr defaults traditional\nhostname frr-receiver\nlog stdout informational"
    );
    let _ = writeln!(c, "router bgp {}", s.local_as);
    let _ = writeln!(c, " bgp router-id {}", s.router_id);
    let _ = writeln!(
        c,
        " no bgp ebgp-requires-policy\n no bgp network import-check"
    );
    let _ = writeln!(c, " no bgp default ipv4-unicast");
    let _ = writeln!(c, " neighbor {n} remote-as {}", s.neighbor_as);
    let _ = writeln!(c, " neighbor {n} disable-connected-check");
    let _ = writeln!(c, " neighbor {n} update-source {}", s.listen);
    for statement in neighbor_statements {
        let _ = writeln!(c, " neighbor {n} {statement}");
    }
    if s.passive {
        let _ = writeln!(c, " neighbor {n} passive");
    } else {
        let _ = writeln!(c, " neighbor {n} port {}", s.neighbor_port);
    }
    for (fam, name) in [
        (Family::Ipv4Unicast, "ipv4 unicast"),
        (Family::Ipv6Unicast, "ipv6 unicast"),
        (Family::Ipv4Flowspec, "ipv4 flowspec"),
        (Family::Ipv6Flowspec, "ipv6 flowspec"),
    ] {
        if s.has(fam) {
            let _ = writeln!(c, " address-family {name}");
            let _ = writeln!(c, "  neighbor {n} activate");
            let _ = writeln!(c, "  neighbor {n} route-map RECEIVER-ONLY out");
            let _ = writeln!(c, " exit-address-family");
        }
    }
    let _ = writeln!(c, "route-map RECEIVER-ONLY deny 10");
    c
}
