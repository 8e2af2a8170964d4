//! What a reload from one configuration to another does, neighbor by neighbor. The daemon
//! applies it; `bgpinject --check --diff OLD NEW` prints it.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::net::IpAddr;
use std::sync::Arc;

use crate::config::{Config, NeighborConfig};
use crate::manager::route_sets;
use crate::rib::route_set::{RouteDiff, RouteSet};

/// Whether a neighbor's session must be restarted to apply `new`: anything that goes into
/// OPEN or the TCP connection. Routes, description and positions do not count.
pub fn session_settings_changed(old: &NeighborConfig, new: &NeighborConfig) -> bool {
    let mut old = old.without_routes();
    let mut new = new.without_routes();
    old.location = new.location.clone();
    // Which helper processes feed a neighbor is not part of its session.
    old.api_processes.clear();
    new.api_processes.clear();
    // Nor are the limits its routes are checked against.
    old.guard = new.guard;
    old != new
}

/// What happens to one neighbor.
#[derive(Debug)]
pub enum NeighborChange {
    Added {
        routes: Arc<RouteSet>,
    },
    Removed,
    /// Session settings changed: the session restarts with the new routes.
    Restarted {
        routes: Arc<RouteSet>,
    },
    /// The session stays; only `diff` is sent (empty: nothing at all).
    Updated {
        routes: Arc<RouteSet>,
        diff: RouteDiff,
        replaced: usize,
    },
}

pub struct ReloadPlan {
    pub neighbors: BTreeMap<IpAddr, (NeighborChange, Option<NeighborConfig>)>,
}

impl ReloadPlan {
    /// Compares `old` (with the route sets its neighbors have now) and `new`.
    pub fn new(old: &[(NeighborConfig, Arc<RouteSet>)], new: &Config) -> ReloadPlan {
        let sets = route_sets(new);
        let old_by_addr: BTreeMap<IpAddr, &(NeighborConfig, Arc<RouteSet>)> =
            old.iter().map(|o| (o.0.peer_address, o)).collect();
        let mut neighbors = BTreeMap::new();
        for (n, routes) in new.neighbors.iter().zip(sets) {
            let change = match old_by_addr.get(&n.peer_address) {
                None => NeighborChange::Added { routes },
                Some((oc, _)) if session_settings_changed(oc, n) => {
                    NeighborChange::Restarted { routes }
                }
                Some((_, old_routes)) => {
                    let diff = old_routes.diff(&routes);
                    let replaced = diff
                        .announce
                        .iter()
                        .filter(|(p, _)| old_routes.contains(p))
                        .count();
                    NeighborChange::Updated {
                        routes,
                        diff,
                        replaced,
                    }
                }
            };
            neighbors.insert(n.peer_address, (change, Some(n.without_routes())));
        }
        for addr in old_by_addr.keys() {
            neighbors
                .entry(*addr)
                .or_insert((NeighborChange::Removed, None));
        }
        ReloadPlan { neighbors }
    }

    /// The dry-run report: per neighbor, what would be withdrawn, announced, replaced,
    /// restarted.
    pub fn describe(&self, old_routes: &BTreeMap<IpAddr, Arc<RouteSet>>) -> String {
        let mut s = String::new();
        for (addr, (change, _)) in &self.neighbors {
            let _ = match change {
                NeighborChange::Added { routes } => writeln!(
                    s,
                    "neighbor {addr}: added: session starts, {} routes announced",
                    routes.len()
                ),
                NeighborChange::Removed => writeln!(
                    s,
                    "neighbor {addr}: removed: Cease / Peer De-configured, routes withdrawn by the peer"
                ),
                NeighborChange::Restarted { routes } => writeln!(
                    s,
                    "neighbor {addr}: session settings changed: session restarts (Cease / Other Configuration Change), {} routes announced",
                    routes.len()
                ),
                NeighborChange::Updated { diff, replaced, .. } => {
                    let _ = writeln!(
                        s,
                        "neighbor {addr}: session kept: {} withdrawn, {} announced, {replaced} replaced",
                        diff.withdraw.len(),
                        diff.announce.len() - replaced
                    );
                    let old = old_routes.get(addr);
                    for p in &diff.withdraw {
                        let _ = writeln!(s, "  withdraw {p}");
                    }
                    for (p, _) in &diff.announce {
                        let verb = if old.is_some_and(|o| o.contains(p)) {
                            "replace "
                        } else {
                            "announce"
                        };
                        let _ = writeln!(s, "  {verb} {p}");
                    }
                    Ok(())
                }
            };
        }
        s
    }
}

/// `--check --diff OLD NEW`.
pub fn dry_run(old: &Config, new: &Config) -> String {
    let old_sets = route_sets(old);
    let old_pairs: Vec<(NeighborConfig, Arc<RouteSet>)> = old
        .neighbors
        .iter()
        .cloned()
        .zip(old_sets.iter().cloned())
        .collect();
    let by_addr = old_pairs
        .iter()
        .map(|(n, r)| (n.peer_address, r.clone()))
        .collect();
    ReloadPlan::new(&old_pairs, new).describe(&by_addr)
}
