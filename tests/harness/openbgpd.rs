//! OpenBGPD (portable) as a receiver, queried with `bgpctl -s SOCKET -j`.

use std::fmt::Write as _;
use std::process::Command;
use std::time::Duration;

use serde_json::Value;
use tempfile::TempDir;

use super::daemon::{Daemon, query};
use super::normalise::{community, ext_community, origin, sorted};
use super::spec::{Family, ReceiverSpec};
use super::{ReceivedRoute, ensure_installed, wait_for};

pub const BGPD: &str = "/usr/sbin/bgpd";
/// The privilege-separated processes chroot into the home of `_openbgpd`.
const CHROOT: &str = "/run/openbgpd";

pub struct Openbgpd {
    pub spec: ReceiverSpec,
    pub dir: TempDir,
    daemon: Daemon,
}

impl Openbgpd {
    pub fn start(spec: &ReceiverSpec) -> Openbgpd {
        ensure_installed("openbgpd", "bgpctl");
        std::fs::create_dir_all(CHROOT).expect("create /run/openbgpd");
        let dir = tempfile::Builder::new()
            .prefix("openbgpd-")
            .tempdir()
            .expect("tempdir");
        let conf = dir.path().join("bgpd.conf");
        std::fs::write(&conf, config(spec, &dir)).expect("write bgpd.conf");
        let check = Command::new(BGPD).arg("-n").arg("-f").arg(&conf).output();
        match check {
            Ok(o) if o.status.success() => {}
            other => panic!("openbgpd: config rejected: {other:?}"),
        }
        let mut cmd = Command::new(BGPD);
        cmd.args(["-d", "-v", "-f"]).arg(&conf);
        let daemon = Daemon::spawn("openbgpd", &mut cmd, &dir.path().join("bgpd.log"));
        let o = Openbgpd {
            spec: spec.clone(),
            dir,
            daemon,
        };
        let up = wait_for(Duration::from_secs(10), || o.bgpctl(&["show", "summary"]));
        assert!(
            up.is_some(),
            "openbgpd: control socket not answering; log:\n{}",
            o.daemon.log_text()
        );
        o
    }

    pub fn socket(&self) -> std::path::PathBuf {
        self.dir.path().join("bgpd.sock")
    }

    pub fn bgpctl(&self, args: &[&str]) -> Option<String> {
        query(
            Command::new("bgpctl")
                .arg("-s")
                .arg(self.socket())
                .arg("-j")
                .args(args),
        )
    }

    pub fn wait_established(&self, timeout: Duration) -> bool {
        let n = self.spec.neighbor.to_string();
        wait_for(timeout, || {
            let out = self.bgpctl(&["show", "neighbor", &n])?;
            let v: Value = serde_json::from_str(&out).ok()?;
            let st = v.pointer("/neighbors/0/state")?.as_str()?;
            (st == "Established").then_some(())
        })
        .is_some()
    }

    pub fn routes(&self, afi: &str) -> Vec<ReceivedRoute> {
        let family = match afi {
            "ipv4" => "inet",
            "ipv6" => "inet6",
            other => panic!("openbgpd: unsupported afi {other}"),
        };
        let Some(out) = self.bgpctl(&["show", "rib", "detail", family]) else {
            return Vec::new();
        };
        let v: Value = serde_json::from_str(&out).unwrap_or(Value::Null);
        let ibgp = self.spec.is_ibgp();
        let mut routes: Vec<ReceivedRoute> = v
            .get("rib")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|p| parse_path(p, ibgp))
            .collect();
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

fn parse_path(p: &Value, ibgp: bool) -> ReceivedRoute {
    let strings = |k: &str| -> Vec<String> {
        p.get(k)
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut r = ReceivedRoute {
        prefix: p["prefix"].as_str().unwrap_or_default().to_string(),
        next_hop: p["exit_nexthop"].as_str().unwrap_or_default().to_string(),
        origin: origin(p["origin"].as_str().unwrap_or_default()),
        as_path: p["aspath"]
            .as_str()
            .unwrap_or_default()
            .split_whitespace()
            .filter_map(|a| a.parse().ok())
            .collect(),
        // bgpctl always prints `metric` (0 when no MED was received) and `localpref` (100
        // on eBGP, where none is received): 0 and eBGP are read as absent.
        med: p["metric"].as_u64().filter(|m| *m != 0).map(|m| m as u32),
        local_pref: if ibgp {
            p["localpref"].as_u64().map(|m| m as u32)
        } else {
            None
        },
        communities: sorted(
            strings("communities")
                .iter()
                .map(|c| community(c))
                .collect(),
        ),
        extended_communities: sorted(
            strings("extended_communities")
                .iter()
                .map(|c| ext_community(c))
                .collect(),
        ),
        large_communities: sorted(strings("large_communities")),
        ..Default::default()
    };
    for a in p
        .get("attributes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        match a["type"].as_str() {
            Some("Atomic Aggregate") => r.atomic_aggregate = true,
            Some("Aggregator") => {
                r.aggregator = Some(format!(
                    "{}:{}",
                    a["AS"],
                    a["router_id"].as_str().unwrap_or_default()
                ))
            }
            _ => {}
        }
    }
    r
}

fn config(s: &ReceiverSpec, dir: &TempDir) -> String {
    let mut c = String::new();
    let _ = writeln!(c, "AS {}", s.local_as);
    let _ = writeln!(c, "router-id {}", s.router_id);
    let _ = writeln!(c, "listen on {} port {}", s.listen, s.port);
    let _ = writeln!(c, "socket \"{}\"", dir.path().join("bgpd.sock").display());
    let _ = writeln!(c, "fib-update no");
    let _ = writeln!(c, "neighbor {} {{", s.neighbor);
    let _ = writeln!(c, "  remote-as {}", s.neighbor_as);
    let _ = writeln!(c, "  local-address {}", s.listen);
    if s.passive {
        let _ = writeln!(c, "  passive");
    } else {
        let _ = writeln!(c, "  port {}", s.neighbor_port);
    }
    let _ = writeln!(
        c,
        "  announce IPv4 {}",
        if s.has(Family::Ipv4Unicast) {
            "unicast"
        } else {
            "none"
        }
    );
    let _ = writeln!(
        c,
        "  announce IPv6 {}",
        if s.has(Family::Ipv6Unicast) {
            "unicast"
        } else {
            "none"
        }
    );
    if !s.four_octet_as {
        let _ = writeln!(c, "  announce as-4byte no");
    }
    // Injected paths need not start with the neighbor's AS.
    let _ = writeln!(c, "  enforce neighbor-as no");
    let _ = writeln!(c, "}}");
    // The example config denies eBGP routes; this receiver takes everything, sends nothing.
    let _ = writeln!(c, "allow from any\ndeny to any");
    c
}
