//! What a reload from one configuration to another does, neighbor by neighbor and program by
//! program (helpers and health checks). The daemon applies it; `bgpinject --check --diff OLD
//! NEW` prints it. Pure: it compares configurations and starts or stops nothing.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::net::IpAddr;
use std::sync::Arc;

use crate::config::healthcheck::HealthcheckConfig;
use crate::config::process::{ApiEvents, ProcessConfig};
use crate::config::{Config, NeighborConfig};
use crate::rib::route_set::{RouteDiff, RouteSet};
use crate::route_sets::route_sets;

/// Whether a neighbor's session must be restarted to apply `new`: anything that goes into
/// OPEN or the TCP connection. Routes, description and positions do not count.
pub fn session_settings_changed(old: &NeighborConfig, new: &NeighborConfig) -> bool {
    let mut old = old.without_routes();
    let mut new = new.without_routes();
    old.location = new.location.clone();
    // Which helper processes feed a neighbor is not part of its session.
    old.api_processes.clear();
    new.api_processes.clear();
    // Nor which of them asked for which events: only the union of the messages they asked
    // for is the session's (its tap of sent and received messages).
    let asked = |n: &mut NeighborConfig| {
        std::mem::take(&mut n.api_subscriptions)
            .into_iter()
            .fold(ApiEvents::default(), |all, (_, e)| all.union(e))
    };
    if asked(&mut old) != asked(&mut new) {
        return true;
    }
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

/// A program bgpinject runs: a helper (`process` block) or a health check.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Program {
    Helper(String),
    Healthcheck(String),
}

impl std::fmt::Display for Program {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Program::Helper(n) => write!(f, "process {n}"),
            Program::Healthcheck(n) => write!(f, "healthcheck {n}"),
        }
    }
}

/// What happens to one program (those that stay as they are are not listed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProgramChange {
    Started,
    /// Its block changed: the running instance stops and a new one starts.
    Restarted,
    Stopped,
}

/// The programs of one configuration.
#[derive(Clone, Copy)]
pub struct Programs<'a> {
    pub processes: &'a [ProcessConfig],
    pub checks: &'a [HealthcheckConfig],
}

impl<'a> Programs<'a> {
    pub fn of(config: &'a Config) -> Programs<'a> {
        Programs {
            processes: &config.processes,
            checks: &config.healthchecks,
        }
    }
}

/// Whether two `process` blocks run the same program the same way (where they were written
/// does not matter).
fn same_helper(a: &ProcessConfig, b: &ProcessConfig) -> bool {
    let mut a = a.clone();
    a.location = b.location.clone();
    a == *b
}

fn same_check(a: &HealthcheckConfig, b: &HealthcheckConfig) -> bool {
    let mut a = a.clone();
    a.location = b.location.clone();
    for (ra, rb) in a.routes.iter_mut().zip(&b.routes) {
        ra.up.location = rb.up.location.clone();
        for (x, y) in [(&mut ra.down, &rb.down), (&mut ra.disabled, &rb.disabled)] {
            if let (Some(x), Some(y)) = (x, y) {
                x.location = y.location.clone();
            }
        }
    }
    a == *b
}

/// One loop for every kind of program: new names start, changed ones restart, missing ones
/// stop.
fn reconcile<'a, T: 'a>(
    old: impl Iterator<Item = (Program, &'a T)>,
    new: impl Iterator<Item = (Program, &'a T)>,
    same: fn(&T, &T) -> bool,
    out: &mut BTreeMap<Program, ProgramChange>,
) {
    let mut old: BTreeMap<Program, &T> = old.collect();
    for (name, n) in new {
        match old.remove(&name) {
            None => {
                out.insert(name, ProgramChange::Started);
            }
            Some(o) if !same(o, n) => {
                out.insert(name, ProgramChange::Restarted);
            }
            Some(_) => {}
        }
    }
    for name in old.into_keys() {
        out.insert(name, ProgramChange::Stopped);
    }
}

/// What a reload from the programs `old` to `new` starts, restarts and stops.
pub fn plan_programs(old: Programs, new: Programs) -> BTreeMap<Program, ProgramChange> {
    let mut out = BTreeMap::new();
    reconcile(
        helpers(old.processes),
        helpers(new.processes),
        same_helper,
        &mut out,
    );
    reconcile(checks(old.checks), checks(new.checks), same_check, &mut out);
    out
}

fn helpers(p: &[ProcessConfig]) -> impl Iterator<Item = (Program, &ProcessConfig)> {
    p.iter().map(|p| (Program::Helper(p.name.clone()), p))
}

fn checks(c: &[HealthcheckConfig]) -> impl Iterator<Item = (Program, &HealthcheckConfig)> {
    c.iter().map(|c| (Program::Healthcheck(c.name.clone()), c))
}

pub struct ReloadPlan {
    pub neighbors: BTreeMap<IpAddr, (NeighborChange, Option<NeighborConfig>)>,
    pub programs: BTreeMap<Program, ProgramChange>,
}

impl ReloadPlan {
    /// Compares `old` (with the route sets its neighbors have now, and the programs that
    /// run) and `new`.
    pub fn new(
        old: &[(NeighborConfig, Arc<RouteSet>)],
        old_programs: Programs,
        new: &Config,
    ) -> ReloadPlan {
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
                        .entries()
                        .filter(|e| old_routes.contains_key(&e.key))
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
        ReloadPlan {
            neighbors,
            programs: plan_programs(old_programs, Programs::of(new)),
        }
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
                    for k in diff.withdraw.iter() {
                        let _ = writeln!(s, "  withdraw {}", key_words(&k));
                    }
                    for e in diff.announce.entries() {
                        let p = key_words(&e.key);
                        let verb = if old.is_some_and(|o| o.contains_key(&e.key)) {
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
        let grace = crate::api::process::KILL_GRACE.as_secs();
        let stops = format!("the running one gets shutdown, SIGTERM, SIGKILL {grace} s later");
        for (program, change) in &self.programs {
            let what = match (program, change) {
                (_, ProgramChange::Started) => "starts".to_string(),
                (Program::Helper(_), ProgramChange::Restarted) => {
                    format!("block changed: restarts ({stops}; its routes go as its on-exit says)")
                }
                (Program::Healthcheck(_), ProgramChange::Restarted) => {
                    "block changed: restarts, its routes withdrawn until its first result".into()
                }
                // No neighbor can name a removed process, so its routes go whatever its
                // on-exit.
                (Program::Helper(_), ProgramChange::Stopped) => {
                    format!("removed: stops ({stops}), its routes withdrawn")
                }
                (Program::Healthcheck(_), ProgramChange::Stopped) => {
                    "removed: stops, its routes withdrawn".into()
                }
            };
            let _ = writeln!(s, "{program}: {what}");
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
    ReloadPlan::new(&old_pairs, Programs::of(old), new).describe(&by_addr)
}

/// A key as the dry-run report names it: the prefix alone for plain unicast.
fn key_words(key: &crate::rib::key::NlriKey) -> String {
    match key.prefix() {
        Some(p) if key.is_plain() => p.to_string(),
        _ => key.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    const NEIGHBOR: &str = "neighbor 192.0.2.1 { router-id 192.0.2.10; local-as 1; peer-as 2; }\n";

    fn config(text: &str) -> Config {
        crate::config::parse_str(&format!("{text}{NEIGHBOR}"), Path::new("t.conf")).unwrap()
    }

    #[test]
    fn programs_start_restart_and_stop_by_name() {
        let old = config(
            "process same { run /bin/cat; }
process changed { run /bin/cat; }
process removed { run /bin/cat; }
healthcheck web { command true; route 10.0.0.1/32 next-hop 192.0.2.1; }
healthcheck dns { command true; route 10.0.0.2/32 next-hop 192.0.2.1; }
",
        );
        // `same` and `dns` move in the file (other lines): not a change.
        let new = config(
            "

process same { run /bin/cat; }
process changed { run /bin/cat -u; }
process added { run /bin/cat; }
healthcheck dns { command true; route 10.0.0.2/32 next-hop 192.0.2.1; }
healthcheck web { command true; route 10.0.0.9/32 next-hop 192.0.2.1; }
healthcheck mail { command true; route 10.0.0.3/32 next-hop 192.0.2.1; }
",
        );
        let plan = plan_programs(Programs::of(&old), Programs::of(&new));
        let got: Vec<(String, ProgramChange)> =
            plan.iter().map(|(p, c)| (p.to_string(), *c)).collect();
        let want = [
            ("process added", ProgramChange::Started),
            ("process changed", ProgramChange::Restarted),
            ("process removed", ProgramChange::Stopped),
            ("healthcheck mail", ProgramChange::Started),
            ("healthcheck web", ProgramChange::Restarted),
        ];
        let want: Vec<(String, ProgramChange)> =
            want.iter().map(|(p, c)| (p.to_string(), *c)).collect();
        assert_eq!(got, want);
        // Nothing to do between a configuration and itself.
        assert!(plan_programs(Programs::of(&new), Programs::of(&new)).is_empty());
        // `--check --diff` prints one line per program that changes.
        let report = dry_run(&old, &new);
        let lines: Vec<&str> = report
            .lines()
            .filter(|l| l.starts_with("process") || l.starts_with("healthcheck"))
            .collect();
        assert_eq!(lines.len(), 5, "{report}");
        assert!(lines.contains(&"process added: starts"), "{report}");
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with("process removed: removed: stops")),
            "{report}"
        );
    }

    #[test]
    fn a_helper_added_restarts_the_session_only_when_it_asks_for_other_messages() {
        let parse = |text: &str| {
            let c = crate::config::parse_str(text, Path::new("t.conf")).unwrap();
            c.neighbors.into_iter().next().unwrap()
        };
        let neighbor = |api: &str| {
            format!(
                "process a {{ run /bin/cat; }}\nprocess b {{ run /bin/cat; }}\n\
                 neighbor 192.0.2.1 {{ router-id 192.0.2.10; local-as 1; peer-as 2; {api} }}\n"
            )
        };
        let none = parse(&neighbor(""));
        let one = parse(&neighbor("api { processes [ a ]; }"));
        let two = parse(&neighbor("api { processes [ a b ]; }"));
        let sends = parse(&neighbor(
            "api { processes [ a ]; } api { processes [ b ]; send { update; } }",
        ));
        assert!(!session_settings_changed(&none, &one));
        assert!(!session_settings_changed(&one, &two));
        assert!(session_settings_changed(&two, &sends));
    }
}
