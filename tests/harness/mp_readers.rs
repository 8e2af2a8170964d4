//! Receivers for the families beyond unicast and FlowSpec (labeled unicast, VPN, add-path),
//! read as raw JSON: each test checks the fields its family has. GoBGP only for now.

use std::fmt::Write as _;
use std::process::Command;
use std::time::Duration;

use serde_json::Value;
use tempfile::TempDir;

use super::daemon::{Daemon, free_port, query};
use super::spec::ReceiverSpec;
use super::{ensure_installed, wait_for};

/// gobgpd with the given `afi-safi-name`s, add-path receive on every one.
pub struct MpGobgp {
    pub spec: ReceiverSpec,
    pub api_port: u16,
    pub dir: TempDir,
    daemon: Daemon,
}

impl MpGobgp {
    pub fn start(spec: &ReceiverSpec, families: &[&str]) -> MpGobgp {
        ensure_installed("gobgpd", "gobgpd");
        ensure_installed("gobgpd", "gobgp");
        let dir = tempfile::Builder::new()
            .prefix("gobgp-mp-")
            .tempdir()
            .expect("tempdir");
        let conf = dir.path().join("gobgpd.toml");
        std::fs::write(&conf, config(spec, families)).expect("write gobgpd.toml");
        let api_port = free_port();
        let mut cmd = Command::new("gobgpd");
        cmd.arg("-f")
            .arg(&conf)
            .args(["-t", "toml", "--pprof-disable", "--api-hosts"])
            .arg(format!("127.0.0.1:{api_port}"));
        let daemon = Daemon::spawn("gobgp", &mut cmd, &dir.path().join("gobgpd.log"));
        let g = MpGobgp {
            spec: spec.clone(),
            api_port,
            dir,
            daemon,
        };
        assert!(
            wait_for(Duration::from_secs(10), || g.cli(&["global"])).is_some(),
            "gobgp: API not answering; log:\n{}",
            g.log()
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

    /// `gobgp global rib -a FAMILY -j`: destination -> paths.
    pub fn rib(&self, family: &str) -> Value {
        self.cli(&["global", "rib", "-a", family, "-j"])
            .and_then(|o| serde_json::from_str(&o).ok())
            .unwrap_or(Value::Null)
    }

    pub fn log(&self) -> String {
        self.daemon.log_text()
    }
}

fn config(s: &ReceiverSpec, families: &[&str]) -> String {
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
    let _ = writeln!(c, "    passive-mode = true");
    let _ = writeln!(c, "    local-address = \"{}\"", s.listen);
    for name in families {
        let _ = writeln!(
            c,
            "  [[neighbors.afi-safis]]\n    [neighbors.afi-safis.config]"
        );
        let _ = writeln!(c, "      afi-safi-name = \"{name}\"");
        let _ = writeln!(c, "    [neighbors.afi-safis.add-paths.config]");
        let _ = writeln!(c, "      receive = true");
    }
    c
}
