//! One line per neighbor, for `--check` and startup logs.

use super::model::{Config, NeighborConfig};
use super::neighbor::family_of_flow;

/// One line per neighbor, e.g. `neighbor 192.0.2.1 local-as 65000 peer-as 65001 (ebgp)
/// families [ipv4 unicast, ipv6 unicast] routes: ipv4 unicast 2, ipv6 unicast 1`.
pub fn summary(config: &Config) -> Vec<String> {
    config.neighbors.iter().map(neighbor_line).collect()
}

/// One line per FlowSpec rule, under its neighbor, in configuration words with what the
/// rule's destination covers: `  flow NAME: flow ipv4 destination 192.0.2.53/32 protocol =udp
/// then [ traffic-rate:0:0 ] (destination covers 2^0 addresses)`.
fn flow_lines(n: &NeighborConfig, lines: &mut Vec<String>) {
    {
        for f in &n.flows {
            let actions: Vec<String> = f
                .attributes
                .extended_communities()
                .iter()
                .map(|c| c.to_string())
                .collect();
            let path = f.path_id.map_or(String::new(), |id| {
                format!(" path-information {}", std::net::Ipv4Addr::from(id))
            });
            lines.push(format!(
                "  flow {}: {}{path} then [ {} ] ({})",
                f.name,
                f.rule,
                actions.join(" "),
                super::guard::reach(&f.rule)
            ));
        }
    }
}

/// What `--check` prints: each neighbor's line, then its FlowSpec rules.
pub fn check_report(config: &Config) -> Vec<String> {
    let mut lines = Vec::new();
    for n in &config.neighbors {
        lines.push(neighbor_line(n));
        flow_lines(n, &mut lines);
    }
    lines
}

fn neighbor_line(n: &NeighborConfig) -> String {
    let families: Vec<String> = n.families.iter().map(|f| f.to_string()).collect();
    let counts: Vec<String> = n
        .families
        .iter()
        .map(|&family| {
            let count = n.routes.families().filter(|&f| f == family).count()
                + n.flows
                    .iter()
                    .filter(|f| family_of_flow(f) == family)
                    .count();
            format!("{family} {count}")
        })
        .collect();
    format!(
        "neighbor {} local-as {} peer-as {} ({}) families [{}] routes: {}",
        n.peer_address,
        n.local_as,
        n.peer_as,
        if n.is_ebgp() { "ebgp" } else { "ibgp" },
        families.join(", "),
        counts.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::config::parse_str;

    #[test]
    fn one_line_per_neighbor_with_route_counts_per_family() {
        let text = "neighbor 192.0.2.1 { router-id 192.0.2.10; local-as 65000; peer-as 65001;
            family { ipv4 unicast; ipv6 unicast; }
            static { route 10.0.0.0/8 next-hop self; route 10.1.0.0/16 next-hop self; route 2001:db8::/32 next-hop self; } }
            neighbor 2001:db8::9 { router-id 192.0.2.10; local-as 65000; peer-as 65000; }";
        let config = parse_str(text, Path::new("t.conf")).unwrap();
        assert_eq!(
            summary(&config),
            vec![
                "neighbor 192.0.2.1 local-as 65000 peer-as 65001 (ebgp) families [ipv4 unicast, ipv6 unicast] routes: ipv4 unicast 2, ipv6 unicast 1",
                "neighbor 2001:db8::9 local-as 65000 peer-as 65000 (ibgp) families [ipv4 unicast] routes: ipv4 unicast 0",
            ]
        );
    }
}
