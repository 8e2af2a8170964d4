//! Receivers for the families beyond unicast and FlowSpec (labeled unicast, VPN, add-path),
//! read as raw JSON: each test checks the fields its family has. GoBGP only for now.

use std::fmt::Write as _;

use super::gobgp::Gobgp;
use super::spec::ReceiverSpec;

/// gobgpd with the given `afi-safi-name`s, add-path receive on every one.
pub fn start_gobgp(spec: &ReceiverSpec, families: &[&str]) -> Gobgp {
    Gobgp::start_with_config(spec, &config(spec, families))
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
