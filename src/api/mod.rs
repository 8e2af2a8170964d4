//! Routes from programs: ExaBGP-compatible helper processes ([`process`]), the control socket
//! ([`control`]) and built-in health checks ([`healthcheck`]). All of them turn into
//! [`ApiRequest`]s for the manager thread, which keeps each source's routes beside the file's
//! and sends every neighbor the union (see `manager.rs`).

pub mod command;
pub mod control;
pub mod events;
pub mod healthcheck;
pub mod process;

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::sync::Arc;

use crossbeam_channel::Sender;

use crate::config::{NeighborConfig, RouteConfig};
use crate::rib::attributes::{NextHop, RouteAttributes};
use crate::rib::route_set::{AttributeInterner, RouteSet};
use crate::wire::flowspec::FlowRule;
use crate::wire::prefix::Prefix;
use command::{Command, Request};

/// Who announced a route; each source's routes are kept and withdrawn separately.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Source {
    Process(String),
    Control,
    Healthcheck(String),
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::Process(n) => write!(f, "process {n}"),
            Source::Control => f.write_str("control socket"),
            Source::Healthcheck(n) => write!(f, "healthcheck {n}"),
        }
    }
}

/// Where the answer to a request goes.
#[derive(Clone, Debug)]
pub enum Replier {
    /// A helper's stdin (acknowledgements follow its ack mode).
    Process(Arc<process::HelperOutput>),
    /// A control socket connection: every line, the last one `done` or `error`.
    Control(Sender<Vec<String>>),
    /// Internal requests (health checks, a helper's exit).
    Nobody,
}

impl Replier {
    /// Sends `lines` followed by `done` (ok) or `error`.
    pub fn answer(&self, mut lines: Vec<String>, ok: bool) {
        let status = if ok { "done" } else { "error" };
        match self {
            Replier::Process(out) => {
                for l in lines {
                    out.send(l);
                }
                if out.acks() {
                    out.send(status.to_string());
                }
            }
            Replier::Control(tx) => {
                lines.push(status.to_string());
                let _ = tx.send(lines);
            }
            Replier::Nobody => {}
        }
    }
}

/// What the manager applies for a source.
#[derive(Debug)]
pub enum ApiAction {
    /// A command line from a helper or the control socket.
    Command(Request),
    /// Replace every route of the source (health checks): `(neighbors, routes)`, where an
    /// empty neighbor list means every neighbor.
    Replace(Vec<std::net::IpAddr>, Vec<RouteConfig>),
    /// Forget the source's routes (a helper exited with `on-exit withdraw`).
    Clear,
}

#[derive(Debug)]
pub struct ApiRequest {
    pub source: Source,
    pub action: ApiAction,
    pub replier: Replier,
}

/// The routes one source gave one neighbor.
#[derive(Clone, Debug, Default)]
pub struct SourceRoutes {
    pub routes: BTreeMap<Prefix, Arc<RouteAttributes>>,
    pub flows: BTreeMap<FlowRule, Arc<RouteAttributes>>,
}

impl SourceRoutes {
    fn is_empty(&self) -> bool {
        self.routes.is_empty() && self.flows.is_empty()
    }
}

/// The file's routes and every source's; where they overlap, a program's route replaces
/// the file's (the last source in [`Source`] order wins between programs).
pub fn union(file: &RouteSet, api: &BTreeMap<Source, SourceRoutes>) -> RouteSet {
    let extra: usize = api.values().map(|s| s.routes.len()).sum();
    let mut routes = Vec::with_capacity(file.len() + extra);
    routes.extend(file.iter().cloned());
    let mut flows: Vec<_> = file.flows().cloned().collect();
    for s in api.values() {
        routes.extend(s.routes.iter().map(|(p, a)| (*p, a.clone())));
        flows.extend(s.flows.iter().map(|(r, a)| (r.clone(), a.clone())));
    }
    RouteSet::with_flows(routes, flows)
}

/// What the manager does after [`apply`].
#[derive(Debug)]
pub enum Outcome {
    Done(Vec<String>),
    Refused(String),
    ShowNeighbor {
        summary: bool,
    },
    ShowAdjRibOut,
    Reload,
    Restart,
    Shutdown,
    /// Send End-of-RIB (`announce eor`) or ROUTE-REFRESH (`announce route-refresh`) to these
    /// neighbors, for one family or (`None`) every negotiated family.
    Signal {
        neighbors: Vec<IpAddr>,
        end_of_rib: bool,
        family: Option<crate::wire::family::Family>,
    },
}

/// The neighbors a request from `source` applies to.
fn targets<'a>(
    source: &Source,
    request: &Request,
    neighbors: &[&'a NeighborConfig],
) -> Vec<&'a NeighborConfig> {
    neighbors
        .iter()
        .copied()
        .filter(|n| match source {
            Source::Process(name) => n.api_processes.iter().any(|p| p == name),
            Source::Control | Source::Healthcheck(_) => true,
        })
        .filter(|n| request.selects(n))
        .collect()
}

/// Applies a request to the API route tables; marks the neighbors whose routes changed.
/// `file_routes` gives a neighbor's routes from the configuration file.
pub fn apply(
    source: Source,
    action: ApiAction,
    neighbors: &[&NeighborConfig],
    tables: &mut BTreeMap<IpAddr, BTreeMap<Source, SourceRoutes>>,
    interner: &mut AttributeInterner,
    dirty: &mut BTreeSet<IpAddr>,
    file_routes: &dyn Fn(IpAddr) -> Option<Arc<RouteSet>>,
) -> Outcome {
    let request = match action {
        ApiAction::Clear => {
            for (addr, sources) in tables.iter_mut() {
                if sources.remove(&source).is_some() {
                    dirty.insert(*addr);
                }
            }
            return Outcome::Done(Vec::new());
        }
        ApiAction::Replace(only, routes) => {
            for n in neighbors {
                if !only.is_empty() && !only.contains(&n.peer_address) {
                    continue;
                }
                let mut s = SourceRoutes::default();
                for r in &routes {
                    s.routes.insert(r.prefix, interner.intern(&r.attributes));
                }
                tables
                    .entry(n.peer_address)
                    .or_default()
                    .insert(source.clone(), s);
                dirty.insert(n.peer_address);
            }
            return Outcome::Done(Vec::new());
        }
        ApiAction::Command(r) => r,
    };
    let needs_neighbors = matches!(
        request.command,
        Command::Announce(_)
            | Command::Withdraw(_)
            | Command::AnnounceFlow(_)
            | Command::WithdrawFlow(_)
    );
    let chosen = targets(&source, &request, neighbors);
    if needs_neighbors && chosen.is_empty() {
        return Outcome::Refused(format!("no configured neighbor matches for {source}"));
    }
    match request.command {
        Command::Announce(routes) => {
            for n in &chosen {
                let s = tables
                    .entry(n.peer_address)
                    .or_default()
                    .entry(source.clone())
                    .or_default();
                for r in &routes {
                    s.routes.insert(r.prefix, interner.intern(&r.attributes));
                }
                dirty.insert(n.peer_address);
            }
            Outcome::Done(Vec::new())
        }
        Command::AnnounceFlow(f) => {
            for n in &chosen {
                let s = tables
                    .entry(n.peer_address)
                    .or_default()
                    .entry(source.clone())
                    .or_default();
                s.flows
                    .insert(f.rule.clone(), interner.intern(&f.attributes));
                dirty.insert(n.peer_address);
            }
            Outcome::Done(Vec::new())
        }
        Command::Withdraw(prefixes) => {
            // Refuse first, so that a refused command changes nothing.
            for n in &chosen {
                let ours = tables.get(&n.peer_address).and_then(|t| t.get(&source));
                for p in &prefixes {
                    let announced = ours.is_some_and(|s| s.routes.contains_key(p));
                    if !announced && file_routes(n.peer_address).is_some_and(|f| f.contains(p)) {
                        return Outcome::Refused(format!(
                            "route {p} of neighbor {} is in the configuration file; withdraw it there",
                            n.peer_address
                        ));
                    }
                }
            }
            for n in &chosen {
                if let Some(s) = tables
                    .get_mut(&n.peer_address)
                    .and_then(|t| t.get_mut(&source))
                {
                    for p in &prefixes {
                        if s.routes.remove(p).is_some() {
                            dirty.insert(n.peer_address);
                        }
                    }
                }
            }
            prune(tables);
            Outcome::Done(Vec::new())
        }
        Command::WithdrawFlow(f) => {
            for n in &chosen {
                let ours = tables
                    .get(&n.peer_address)
                    .and_then(|t| t.get(&source))
                    .is_some_and(|s| s.flows.contains_key(&f.rule));
                let in_file = file_routes(n.peer_address)
                    .is_some_and(|set| set.flows().any(|(r, _)| *r == f.rule));
                if !ours && in_file {
                    return Outcome::Refused(format!(
                        "flow {} of neighbor {} is in the configuration file; withdraw it there",
                        f.rule, n.peer_address
                    ));
                }
            }
            for n in &chosen {
                if let Some(s) = tables
                    .get_mut(&n.peer_address)
                    .and_then(|t| t.get_mut(&source))
                    && s.flows.remove(&f.rule).is_some()
                {
                    dirty.insert(n.peer_address);
                }
            }
            prune(tables);
            Outcome::Done(Vec::new())
        }
        Command::EndOfRib(family) => Outcome::Signal {
            neighbors: chosen.iter().map(|n| n.peer_address).collect(),
            end_of_rib: true,
            family,
        },
        Command::RouteRefresh(family) => Outcome::Signal {
            neighbors: chosen.iter().map(|n| n.peer_address).collect(),
            end_of_rib: false,
            family,
        },
        Command::ShowNeighbor { summary } => Outcome::ShowNeighbor { summary },
        Command::ShowAdjRibOut => Outcome::ShowAdjRibOut,
        Command::Reload => Outcome::Reload,
        Command::Restart => Outcome::Restart,
        Command::Shutdown => Outcome::Shutdown,
        Command::Version => Outcome::Done(vec![format!("bgpinject {}", env!("CARGO_PKG_VERSION"))]),
        Command::Invalid(e) => Outcome::Refused(e),
    }
}

fn prune(tables: &mut BTreeMap<IpAddr, BTreeMap<Source, SourceRoutes>>) {
    for sources in tables.values_mut() {
        sources.retain(|_, s| !s.is_empty());
    }
    tables.retain(|_, s| !s.is_empty());
}

/// `next-hop X [med N] [local-preference N] [community [...]]`, for `show adj-rib out`.
pub fn describe(a: &RouteAttributes) -> String {
    let mut out = match a.next_hop {
        NextHop::Address { global, .. } => format!("next-hop {global}"),
        NextHop::SelfAddress => "next-hop self".into(),
        NextHop::Absent => String::new(),
    };
    if let Some(m) = a.med {
        out.push_str(&format!(" med {m}"));
    }
    if let Some(l) = a.local_pref {
        out.push_str(&format!(" local-preference {l}"));
    }
    if !a.communities.is_empty() {
        let c: Vec<String> = a.communities.iter().map(|c| c.to_string()).collect();
        out.push_str(&format!(" community [ {} ]", c.join(" ")));
    }
    if !a.extended_communities.is_empty() {
        let c: Vec<String> = a
            .extended_communities
            .iter()
            .map(|c| c.to_string())
            .collect();
        out.push_str(&format!(" extended-community [ {} ]", c.join(" ")));
    }
    out.trim().to_string()
}
