//! ExaBGP 4.2: as a receiver (its parsed JSON, written by an API process to a file) and as the
//! reference sender of static routes used to validate the other receivers.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr};
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use serde_json::Value;
use tempfile::TempDir;

use super::daemon::Daemon;
use super::normalise::{community_u32, ext_community_u64, origin, sorted};
use super::spec::{Family, ReceiverSpec};
use super::{ReceivedRoute, ensure_installed, listening, wait_for};

/// ExaBGP receiving: every UPDATE and state change is appended as one JSON object per line to
/// `received.jsonl` in its temp dir.
pub struct Exabgp {
    pub spec: ReceiverSpec,
    pub dir: TempDir,
    daemon: Daemon,
}

impl Exabgp {
    pub fn start(spec: &ReceiverSpec) -> Exabgp {
        ensure_installed("exabgp", "exabgp");
        let dir = tempfile::Builder::new()
            .prefix("exabgp-")
            .tempdir()
            .expect("tempdir");
        let received = dir.path().join("received.jsonl");
        let script = dir.path().join("receiver.sh");
        // No `exec`: the shell must keep ExaBGP's pipe on its stdout open, or ExaBGP takes the
        // process for dead and restarts it.
        std::fs::write(
            &script,
            format!("#!/bin/sh\ncat >> '{}'\n", received.display()),
        )
        .expect("write receiver.sh");
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        let conf = dir.path().join("exabgp.conf");
        std::fs::write(&conf, receiver_config(spec, &script)).expect("write exabgp.conf");
        let mut cmd = exabgp_command(&conf, Some((spec.listen, spec.port)));
        let daemon = Daemon::spawn("exabgp", &mut cmd, &dir.path().join("exabgp.log"));
        Exabgp {
            spec: spec.clone(),
            dir,
            daemon,
        }
    }

    pub fn messages(&self) -> Vec<Value> {
        std::fs::read_to_string(self.dir.path().join("received.jsonl"))
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }

    /// Whether the last state change reported for the neighbor was `up`.
    pub fn is_established(&self) -> bool {
        self.messages()
            .iter()
            .rfind(|m| m["type"] == "state")
            .is_some_and(|m| m.pointer("/neighbor/state") == Some(&Value::from("up")))
    }

    pub fn wait_established(&self, timeout: Duration) -> bool {
        wait_for(timeout, || self.is_established().then_some(())).is_some()
    }

    /// The capabilities (by ExaBGP's names: `multiprotocol`, `asn4`, `extended-message`, ...) of
    /// the last OPEN this receiver sent.
    pub fn sent_capabilities(&self) -> Option<Vec<String>> {
        let open = self.messages().into_iter().rfind(|m| {
            m["type"] == "open" && m.pointer("/neighbor/direction") == Some(&"send".into())
        })?;
        let caps = open.pointer("/neighbor/open/capabilities")?.as_object()?;
        Some(caps.keys().cloned().collect())
    }

    /// The families (`ipv4 unicast`, ...) of the End-of-RIB markers received since the session
    /// last came up.
    pub fn end_of_ribs(&self) -> Vec<String> {
        let mut eors = Vec::new();
        for m in self.messages() {
            if m["type"] == "state" {
                eors.clear();
            } else if let Some(eor) = m.pointer("/neighbor/message/eor") {
                eors.push(format!(
                    "{} {}",
                    eor["afi"].as_str().unwrap_or_default(),
                    eor["safi"].as_str().unwrap_or_default()
                ));
            }
        }
        eors
    }

    /// The routes of `afi` received since the session last came up, withdrawals applied.
    pub fn routes(&self, afi: &str) -> Vec<ReceivedRoute> {
        let family = format!("{afi} unicast");
        let mut rib: BTreeMap<String, ReceivedRoute> = BTreeMap::new();
        for m in self.messages() {
            if m["type"] == "state" {
                rib.clear();
                continue;
            }
            let Some(update) = m.pointer("/neighbor/message/update") else {
                continue;
            };
            for w in update
                .pointer(&format!("/withdraw/{family}"))
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(p) = w["nlri"].as_str() {
                    rib.remove(p);
                }
            }
            let Some(announce) = update
                .pointer(&format!("/announce/{family}"))
                .and_then(Value::as_object)
            else {
                continue;
            };
            for (next_hop, nlris) in announce {
                for n in nlris.as_array().into_iter().flatten() {
                    let Some(prefix) = n["nlri"].as_str() else {
                        continue;
                    };
                    let r = parse_attributes(prefix, next_hop, &update["attribute"]);
                    rib.insert(prefix.to_string(), r);
                }
            }
        }
        rib.into_values().collect()
    }

    pub fn log(&self) -> String {
        self.daemon.log_text()
    }

    pub fn stop(&mut self) {
        self.daemon.stop();
    }
}

fn parse_attributes(prefix: &str, next_hop: &str, a: &Value) -> ReceivedRoute {
    let u32_of = |v: &Value| v.as_u64().map(|n| n as u32);
    ReceivedRoute {
        prefix: prefix.to_string(),
        next_hop: next_hop.to_string(),
        origin: origin(a["origin"].as_str().unwrap_or_default()),
        as_path: a["as-path"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(u32_of)
            .collect(),
        med: u32_of(&a["med"]),
        local_pref: u32_of(&a["local-preference"]),
        communities: sorted(
            a["community"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|c| Some(community_u32((u32_of(&c[0])? << 16) | u32_of(&c[1])?)))
                .collect(),
        ),
        // The `string` of ExaBGP 4.2 misprints origins (`origin:65000:0.0.0.2`): decode `value`.
        extended_communities: sorted(
            a["extended-community"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|e| match e["value"].as_u64() {
                    Some(v) => ext_community_u64(v),
                    None => e.to_string(),
                })
                .collect(),
        ),
        large_communities: sorted(
            a["large-community"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|l| format!("{}:{}:{}", l[0], l[1], l[2]))
                .collect(),
        ),
        atomic_aggregate: a["atomic-aggregate"].as_bool() == Some(true),
        aggregator: a["aggregator"]
            .as_str()
            .map(|s| s.trim_matches(['(', ')', ' ']).to_string()),
    }
}

/// The `exabgp` command with the environment that keeps it in the foreground, logging to
/// stdout, without its CLI pipes; listening on `listen` or not at all.
pub fn exabgp_command(conf: &std::path::Path, listen: Option<(IpAddr, u16)>) -> Command {
    let mut cmd = Command::new("exabgp");
    cmd.env("exabgp.daemon.user", "root")
        .env("exabgp.daemon.daemonize", "false")
        .env("exabgp.api.cli", "false")
        .env("exabgp.log.destination", "stdout")
        .env("exabgp.log.level", "INFO")
        .env(
            "exabgp.tcp.bind",
            listen.map(|(a, _)| a.to_string()).unwrap_or_default(),
        )
        .env(
            "exabgp.tcp.port",
            listen.map(|(_, p)| p).unwrap_or(179).to_string(),
        )
        .arg(conf);
    cmd
}

fn families(f: &[Family]) -> String {
    f.iter()
        .map(|f| {
            let safi = if f.is_flowspec() { "flow" } else { "unicast" };
            format!("{} {safi}; ", f.afi())
        })
        .collect::<String>()
}

fn receiver_config(s: &ReceiverSpec, script: &std::path::Path) -> String {
    let mut c = String::new();
    let _ = writeln!(
        c,
        "process receiver {{\n  run {};\n  encoder json;\n}}",
        script.display()
    );
    let _ = writeln!(c, "neighbor {} {{", s.neighbor);
    let _ = writeln!(c, "  router-id {};", s.router_id);
    let _ = writeln!(c, "  local-address {};", s.listen);
    let _ = writeln!(
        c,
        "  local-as {};\n  peer-as {};",
        s.local_as, s.neighbor_as
    );
    let _ = writeln!(c, "  passive {};", s.passive);
    if !s.passive {
        let _ = writeln!(c, "  connect {};", s.neighbor_port);
    }
    let _ = writeln!(c, "  family {{ {}}}", families(&s.families));
    let _ = writeln!(
        c,
        "  capability {{ asn4 {}; }}",
        if s.four_octet_as { "enable" } else { "disable" }
    );
    let _ = writeln!(
        c,
        "  api {{ processes [ receiver ]; neighbor-changes; receive {{ parsed; update; }} send {{ parsed; open; }} }}"
    );
    let _ = writeln!(c, "}}");
    c
}

/// ExaBGP as the reference sender: connects from `local` to `peer:peer_port` and announces
/// `routes` (ExaBGP `route` statements, without the trailing `;`) in its `static` block.
#[derive(Clone, Debug)]
pub struct SenderSpec {
    pub local: IpAddr,
    pub local_as: u32,
    pub router_id: Ipv4Addr,
    pub peer: IpAddr,
    pub peer_port: u16,
    pub peer_as: u32,
    pub families: Vec<Family>,
    pub four_octet_as: bool,
    pub routes: Vec<String>,
    /// Listen on `local:port` and wait for the peer to connect, instead of connecting.
    pub listen_port: Option<u16>,
}

pub struct ExabgpSender {
    pub dir: TempDir,
    daemon: Daemon,
}

impl ExabgpSender {
    pub fn start(s: &SenderSpec) -> ExabgpSender {
        ensure_installed("exabgp", "exabgp");
        let dir = tempfile::Builder::new()
            .prefix("exabgp-sender-")
            .tempdir()
            .expect("tempdir");
        let conf: PathBuf = dir.path().join("exabgp.conf");
        let mut c = String::new();
        let _ = writeln!(c, "neighbor {} {{", s.peer);
        let _ = writeln!(c, "  router-id {};", s.router_id);
        let _ = writeln!(c, "  local-address {};", s.local);
        let _ = writeln!(c, "  local-as {};\n  peer-as {};", s.local_as, s.peer_as);
        match s.listen_port {
            Some(_) => {
                let _ = writeln!(c, "  passive true;");
            }
            None => {
                let _ = writeln!(c, "  connect {};", s.peer_port);
            }
        }
        let _ = writeln!(c, "  family {{ {}}}", families(&s.families));
        let _ = writeln!(
            c,
            "  capability {{ asn4 {}; }}",
            if s.four_octet_as { "enable" } else { "disable" }
        );
        let _ = writeln!(c, "  static {{");
        for r in &s.routes {
            let _ = writeln!(c, "    {r};");
        }
        let _ = writeln!(c, "  }}\n}}");
        std::fs::write(&conf, c).expect("write exabgp.conf");
        let mut cmd = exabgp_command(&conf, s.listen_port.map(|p| (s.local, p)));
        let daemon = Daemon::spawn("exabgp sender", &mut cmd, &dir.path().join("exabgp.log"));
        // A peer that connects before ExaBGP listens is refused and (FRR, OpenBGPD) retries
        // only after its connect-retry time: start it once ExaBGP is ready for it.
        if let Some(port) = s.listen_port {
            assert!(
                wait_for(Duration::from_secs(30), || listening(s.local, port)
                    .then_some(()))
                .is_some(),
                "exabgp sender: not listening on {} port {port} after 30 s\n{}",
                s.local,
                daemon.log_text()
            );
        }
        ExabgpSender { dir, daemon }
    }

    pub fn log(&self) -> String {
        self.daemon.log_text()
    }

    pub fn stop(&mut self) {
        self.daemon.stop();
    }
}
