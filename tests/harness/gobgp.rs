//! GoBGP's gobgpd as a receiver, queried with `gobgp -p API_PORT`.

use std::fmt::Write as _;
use std::process::Command;
use std::time::Duration;

use serde_json::Value;
use tempfile::TempDir;

use super::daemon::{Daemon, free_port, query};
use super::normalise::{community_u32, origin, sorted};
use super::spec::{Family, ReceiverSpec};
use super::{ReceivedRoute, ensure_installed, wait_for};

pub struct Gobgp {
    pub spec: ReceiverSpec,
    pub dir: TempDir,
    /// The gRPC API port on 127.0.0.1 (`gobgp -p`).
    pub api_port: u16,
    daemon: Daemon,
}

impl Gobgp {
    pub fn start(spec: &ReceiverSpec) -> Gobgp {
        assert!(
            spec.four_octet_as,
            "GoBGP cannot disable the 4-octet AS capability; use Openbgpd or Exabgp as a 2-byte-AS peer"
        );
        Gobgp::start_with_config(spec, &config(spec))
    }

    /// gobgpd with this TOML configuration (for families the standard one does not set up).
    pub fn start_with_config(spec: &ReceiverSpec, toml: &str) -> Gobgp {
        ensure_installed("gobgpd", "gobgpd");
        ensure_installed("gobgpd", "gobgp");
        let dir = tempfile::Builder::new()
            .prefix("gobgp-")
            .tempdir()
            .expect("tempdir");
        let conf = dir.path().join("gobgpd.toml");
        std::fs::write(&conf, toml).expect("write gobgpd.toml");
        let api_port = free_port();
        let mut cmd = Command::new("gobgpd");
        cmd.arg("-f")
            .arg(&conf)
            .args(["-t", "toml", "--pprof-disable", "--api-hosts"])
            .arg(format!("127.0.0.1:{api_port}"));
        let daemon = Daemon::spawn("gobgp", &mut cmd, &dir.path().join("gobgpd.log"));
        let g = Gobgp {
            spec: spec.clone(),
            dir,
            api_port,
            daemon,
        };
        let up = wait_for(Duration::from_secs(10), || g.cli(&["global"]));
        assert!(
            up.is_some(),
            "gobgp: API not answering; log:\n{}",
            g.daemon.log_text()
        );
        g
    }

    pub fn cli(&self, args: &[&str]) -> Option<String> {
        query(
            Command::new("gobgp")
                .args(["-u", "127.0.0.1", "-p"])
                .arg(self.api_port.to_string())
                .args(args),
        )
    }

    /// `gobgp global rib -a FAMILY -j` as JSON: destination -> paths.
    pub fn rib(&self, family: &str) -> Value {
        self.cli(&["global", "rib", "-a", family, "-j"])
            .and_then(|o| serde_json::from_str(&o).ok())
            .unwrap_or(Value::Null)
    }

    pub fn wait_established(&self, timeout: Duration) -> bool {
        let n = self.spec.neighbor.to_string();
        wait_for(timeout, || {
            let out = self.cli(&["neighbor", &n, "-j"])?;
            let v: Value = serde_json::from_str(&out).ok()?;
            let st = v.pointer("/state/session_state")?;
            (st.as_u64() == Some(6) || st.as_str() == Some("established")).then_some(())
        })
        .is_some()
    }

    pub fn routes(&self, afi: &str) -> Vec<ReceivedRoute> {
        let Some(out) = self.cli(&["global", "rib", "-a", afi, "-j"]) else {
            return Vec::new();
        };
        let v: Value = serde_json::from_str(&out).unwrap_or(Value::Null);
        let mut routes = Vec::new();
        if let Some(map) = v.as_object() {
            for (prefix, paths) in map {
                for p in paths.as_array().into_iter().flatten() {
                    routes.push(parse_path(prefix, p));
                }
            }
        }
        routes.sort();
        routes
    }

    pub fn log(&self) -> String {
        self.daemon.log_text()
    }

    pub fn stop(&mut self) {
        self.daemon.stop();
    }
}

fn parse_path(prefix: &str, p: &Value) -> ReceivedRoute {
    let mut r = ReceivedRoute {
        prefix: prefix.to_string(),
        ..Default::default()
    };
    for a in p
        .get("attrs")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let num = |k: &str| a.get(k).and_then(Value::as_u64).map(|n| n as u32);
        match a.get("type").and_then(Value::as_u64) {
            Some(1) => r.origin = origin(&a.get("value").map(Value::to_string).unwrap_or_default()),
            Some(2) => {
                for seg in a
                    .get("as_paths")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    for asn in seg
                        .get("asns")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                    {
                        r.as_path.extend(asn.as_u64().map(|n| n as u32));
                    }
                }
            }
            Some(3) => r.next_hop = a["nexthop"].as_str().unwrap_or_default().to_string(),
            Some(4) => r.med = num("metric"),
            Some(5) => r.local_pref = num("value"),
            Some(6) => r.atomic_aggregate = true,
            Some(7) => {
                r.aggregator = Some(format!(
                    "{}:{}",
                    a["as"],
                    a["address"].as_str().unwrap_or_default()
                ))
            }
            Some(8) => {
                r.communities = sorted(
                    a["communities"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(Value::as_u64)
                        .map(|c| community_u32(c as u32))
                        .collect(),
                )
            }
            Some(14) => r.next_hop = a["nexthop"].as_str().unwrap_or_default().to_string(),
            Some(16) => {
                r.extended_communities = sorted(
                    a["value"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(ext_community)
                        .collect(),
                )
            }
            Some(32) => {
                r.large_communities = sorted(
                    a["value"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|l| format!("{}:{}:{}", l["ASN"], l["LocalData1"], l["LocalData2"]))
                        .collect(),
                )
            }
            _ => {}
        }
    }
    r
}

/// GoBGP writes route targets and origins as `{type, subtype, value: "A:B"}`; transitive
/// two-octet-AS (0), IPv4 (1) and four-octet-AS (2) types have subtype 2 = target, 3 = origin.
fn ext_community(e: &Value) -> String {
    let value = e["value"]
        .as_str()
        .map(asplain)
        .unwrap_or_else(|| e["value"].to_string());
    match (e["type"].as_u64(), e["subtype"].as_u64()) {
        (Some(0..=2), Some(2)) => format!("target:{value}"),
        (Some(0..=2), Some(3)) => format!("origin:{value}"),
        _ => e.to_string(),
    }
}

/// GoBGP writes a four-octet-AS administrator in asdot (`64086.59904:14` for
/// `4200000000:14`); the common form is asplain.
fn asplain(value: &str) -> String {
    let Some((admin, local)) = value.split_once(':') else {
        return value.to_string();
    };
    match admin
        .split_once('.')
        .map(|(h, l)| (h.parse::<u32>(), l.parse::<u32>()))
    {
        // An IPv4 administrator has three dots and does not parse here.
        Some((Ok(high), Ok(low))) if high <= 0xffff && low <= 0xffff => {
            format!("{}:{local}", (high << 16) | low)
        }
        _ => value.to_string(),
    }
}

fn config(s: &ReceiverSpec) -> String {
    let mut c = String::new();
    let _ = writeln!(c, "[global.config]");
    let _ = writeln!(c, "  as = {}", s.local_as);
    let _ = writeln!(c, "  router-id = \"{}\"", s.router_id);
    let _ = writeln!(c, "  port = {}", s.port);
    let _ = writeln!(c, "  local-address-list = [\"{}\"]", s.listen);
    let _ = writeln!(c, "[global.apply-policy.config]");
    let _ = writeln!(c, "  default-import-policy = \"accept-route\"");
    let _ = writeln!(c, "  default-export-policy = \"reject-route\"");
    let _ = writeln!(c, "[[neighbors]]\n  [neighbors.config]");
    let _ = writeln!(c, "    neighbor-address = \"{}\"", s.neighbor);
    let _ = writeln!(c, "    peer-as = {}", s.neighbor_as);
    let _ = writeln!(c, "  [neighbors.transport.config]");
    let _ = writeln!(c, "    passive-mode = {}", s.passive);
    let _ = writeln!(c, "    local-address = \"{}\"", s.listen);
    let _ = writeln!(c, "    remote-port = {}", s.neighbor_port);
    for (fam, name) in [
        (Family::Ipv4Unicast, "ipv4-unicast"),
        (Family::Ipv6Unicast, "ipv6-unicast"),
        (Family::Ipv4Flowspec, "ipv4-flowspec"),
        (Family::Ipv6Flowspec, "ipv6-flowspec"),
    ] {
        if s.has(fam) {
            let _ = writeln!(
                c,
                "  [[neighbors.afi-safis]]\n    [neighbors.afi-safis.config]"
            );
            let _ = writeln!(c, "      afi-safi-name = \"{name}\"");
        }
    }
    c
}
