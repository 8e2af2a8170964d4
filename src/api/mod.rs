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

use crate::config::{NeighborConfig, RouteConfig, guard};
use crate::rib::attributes::{NextHop, RouteAttributes};
use crate::rib::other_nlri::{NlriKey, OtherRoute};
use crate::rib::route_set::{AttributeInterner, Route, RouteSet};
use crate::wire::family::{Family, Safi};
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
    /// Held while the request waits for the manager and is applied: a helper has a bounded
    /// number in flight, so one that floods waits (as ExaBGP's pipe makes it wait) instead
    /// of growing the manager's queue. Released when the request is dropped.
    pub permit: Option<Permit>,
    /// The stop flag of the health check that sent it: once the manager has stopped that
    /// generation (set the flag), its late results change nothing.
    pub stopped: Option<Arc<std::sync::atomic::AtomicBool>>,
}

/// One of a helper's in-flight requests (see [`ApiRequest::permit`]).
#[derive(Debug)]
pub struct Permit(crossbeam_channel::Receiver<()>);

impl Permit {
    /// Waits for a free slot among `slots` (a bounded channel of the helper's capacity);
    /// gives up after `timeout` so the caller can check whether it should stop.
    pub fn acquire(
        slots: &(
            crossbeam_channel::Sender<()>,
            crossbeam_channel::Receiver<()>,
        ),
        timeout: std::time::Duration,
    ) -> Option<Permit> {
        slots
            .0
            .send_timeout((), timeout)
            .ok()
            .map(|()| Permit(slots.1.clone()))
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        let _ = self.0.try_recv();
    }
}

/// A bounded pace for log lines that a program can cause at any rate: at most `per_second`
/// lines a second, the others counted.
pub struct LogPace {
    start: std::time::Instant,
    count: u32,
    per_second: u32,
}

impl LogPace {
    pub fn new(per_second: u32) -> LogPace {
        LogPace {
            start: std::time::Instant::now(),
            count: 0,
            per_second,
        }
    }

    /// Counts one line: whether to log it, and how many lines the second that just ended
    /// did not log (0 when none, or when it has not ended).
    pub fn admit(&mut self) -> (bool, u32) {
        let mut missed = 0;
        if self.start.elapsed() >= std::time::Duration::from_secs(1) {
            missed = self.count.saturating_sub(self.per_second);
            self.start = std::time::Instant::now();
            self.count = 0;
        }
        self.count += 1;
        (self.count <= self.per_second, missed)
    }
}

/// Logs refused commands at a bounded pace per source: a helper that prints a million bad
/// lines costs a few log lines a second, and the count of the rest.
#[derive(Default)]
pub struct RefusalLog {
    paces: BTreeMap<Source, LogPace>,
}

/// Refusals logged per source and second; the others are counted.
const REFUSALS_PER_SECOND: u32 = 10;

impl RefusalLog {
    pub fn refused(&mut self, source: &Source, message: &str) {
        let pace = self
            .paces
            .entry(source.clone())
            .or_insert_with(|| LogPace::new(REFUSALS_PER_SECOND));
        let (log, missed) = pace.admit();
        if missed > 0 {
            log::warn!("{source}: {missed} more commands refused in the last second (not logged)");
        }
        if log {
            log::warn!("{source}: command refused: {message}");
        }
    }
}

/// The routes one source gave one neighbor, of every kind a configured route may be.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SourceRoutes {
    /// Plain unicast routes.
    pub routes: BTreeMap<Prefix, Arc<RouteAttributes>>,
    pub flows: BTreeMap<FlowRule, Arc<RouteAttributes>>,
    /// Labeled, VPN, multicast, ADD-PATH and IPv4-with-IPv6-next-hop routes (see
    /// `rib::other_nlri`), keyed as the file's are.
    pub others: BTreeMap<NlriKey, OtherRoute>,
}

impl SourceRoutes {
    pub fn is_empty(&self) -> bool {
        self.routes.is_empty() && self.flows.is_empty() && self.others.is_empty()
    }

    /// The number of routes and rules.
    pub fn len(&self) -> usize {
        self.routes.len() + self.flows.len() + self.others.len()
    }

    /// Adds (or replaces) one route under the key the file would give it.
    fn insert(&mut self, r: &RouteConfig, interner: &mut AttributeInterner) {
        let attrs = interner.intern(&r.attributes);
        match r.other_key() {
            None => {
                self.others.remove(&plain_key(r.prefix));
                self.routes.insert(r.prefix, attrs);
            }
            Some(key) => {
                if same_nlri_as_plain(&key) {
                    self.routes.remove(&r.prefix);
                }
                let labels = r.nlri().labels.clone();
                self.others.insert(key, OtherRoute { labels, attrs });
            }
        }
    }

    /// Removes the route with `r`'s NLRI; `true` when there was one.
    fn remove(&mut self, r: &RouteConfig) -> bool {
        match r.other_key() {
            Some(key) if !same_nlri_as_plain(&key) => self.others.remove(&key).is_some(),
            // A plain prefix and the same prefix with an IPv6 next hop are one NLRI.
            _ => {
                let plain = self.routes.remove(&r.prefix).is_some();
                self.others.remove(&plain_key(r.prefix)).is_some() || plain
            }
        }
    }

    fn contains(&self, r: &RouteConfig) -> bool {
        match r.other_key() {
            Some(key) if !same_nlri_as_plain(&key) => self.others.contains_key(&key),
            _ => {
                self.routes.contains_key(&r.prefix)
                    || self.others.contains_key(&plain_key(r.prefix))
            }
        }
    }
}

/// The key a unicast prefix gets when it needs the MP encoding (an IPv6 next hop).
fn plain_key(prefix: Prefix) -> NlriKey {
    NlriKey {
        family: Family::new(prefix.afi(), Safi::Unicast),
        rd: None,
        prefix,
        path_id: None,
    }
}

/// Whether `key` names the same NLRI on the wire as the plain unicast prefix.
fn same_nlri_as_plain(key: &NlriKey) -> bool {
    *key == plain_key(key.prefix)
}

/// Every source's routes for one neighbor.
pub type SourceTables = BTreeMap<Source, SourceRoutes>;

/// Whether the file's route set holds the NLRI of `r`.
fn file_has(file: &RouteSet, r: &RouteConfig) -> bool {
    // The non-unicast list is sorted by key.
    let has_other = |key: &NlriKey| {
        file.other_list()
            .binary_search_by(|(k, _)| k.cmp(key))
            .is_ok()
    };
    match r.other_key() {
        Some(key) if !same_nlri_as_plain(&key) => has_other(&key),
        _ => file.contains(&r.prefix) || has_other(&plain_key(r.prefix)),
    }
}

/// The file's routes and every source's; where they overlap, a program's route replaces
/// the file's (the last source in [`Source`] order wins between programs). Every kind of
/// route of the file is kept. When no program gave a plain unicast route, the file's
/// unicast table is shared, not copied.
pub fn union(file: &RouteSet, api: &BTreeMap<Source, SourceRoutes>) -> RouteSet {
    let mut flows: Vec<_> = file.flows().cloned().collect();
    let mut others: Vec<_> = file.others().cloned().collect();
    for s in api.values() {
        flows.extend(s.flows.iter().map(|(r, a)| (r.clone(), a.clone())));
        others.extend(s.others.iter().map(|(k, o)| (*k, o.clone())));
    }
    let mut with_unicast = api.values().filter(|s| !s.routes.is_empty());
    let extra: Vec<Route> = match (with_unicast.next(), with_unicast.next()) {
        (None, _) => {
            return RouteSet::with_shared_routes(Arc::clone(file.shared_routes()), flows)
                .with_others(others);
        }
        // One source (the usual case): its map is already sorted and unique.
        (Some(one), None) => one.routes.iter().map(|(p, a)| (*p, a.clone())).collect(),
        (Some(_), Some(_)) => {
            let mut all: Vec<Route> = api
                .values()
                .flat_map(|s| s.routes.iter().map(|(p, a)| (*p, a.clone())))
                .collect();
            // Stable: for a prefix, the later source stays last, and wins the dedup below.
            all.sort_by_key(|r| r.0);
            let mut unique: Vec<Route> = Vec::with_capacity(all.len());
            for r in all {
                match unique.last_mut() {
                    Some(last) if last.0 == r.0 => *last = r,
                    _ => unique.push(r),
                }
            }
            unique
        }
    };
    RouteSet::with_shared_routes(Arc::new(merge_sorted(file.routes(), &extra)), flows)
        .with_others(others)
}

/// `file` and `extra` (each sorted, unique) merged; `extra` wins where both have a prefix.
fn merge_sorted(file: &[Route], extra: &[Route]) -> Vec<Route> {
    let mut out = Vec::with_capacity(file.len() + extra.len());
    let mut e = extra.iter().peekable();
    for r in file {
        while let Some(x) = e.next_if(|x| x.0 < r.0) {
            out.push(x.clone());
        }
        match e.next_if(|x| x.0 == r.0) {
            Some(x) => out.push(x.clone()),
            None => out.push(r.clone()),
        }
    }
    out.extend(e.cloned());
    out
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
                    s.insert(r, interner);
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
            // Refuse first, so that a refused command changes nothing.
            for n in &chosen {
                for r in &routes {
                    if let Err(e) = guard::check_blackhole(r.prefix, &r.attributes, &n.guard) {
                        return Outcome::Refused(format!("neighbor {}: {e}", n.peer_address));
                    }
                }
            }
            for n in &chosen {
                let s = tables
                    .entry(n.peer_address)
                    .or_default()
                    .entry(source.clone())
                    .or_default();
                for r in &routes {
                    s.insert(r, interner);
                }
                dirty.insert(n.peer_address);
            }
            Outcome::Done(Vec::new())
        }
        Command::AnnounceFlow(f) => {
            for n in &chosen {
                if let Err(e) = guard::check_flow(&f.rule, &f.attributes, &n.guard) {
                    return Outcome::Refused(format!("neighbor {}: {e}", n.peer_address));
                }
                let sources = tables.get(&n.peer_address);
                let known = |s: &SourceRoutes| s.flows.contains_key(&f.rule);
                let new = !sources.is_some_and(|t| t.values().any(known));
                let count = file_routes(n.peer_address).map_or(0, |set| set.flows().count())
                    + sources.map_or(0, |t| t.values().map(|s| s.flows.len()).sum())
                    + usize::from(new);
                if let Err(e) = guard::check_flow_count(count, &n.guard) {
                    return Outcome::Refused(format!("neighbor {}: {e}", n.peer_address));
                }
            }
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
        Command::Withdraw(routes) => {
            // Refuse first, so that a refused command changes nothing.
            for n in &chosen {
                let ours = tables.get(&n.peer_address).and_then(|t| t.get(&source));
                for r in &routes {
                    let announced = ours.is_some_and(|s| s.contains(r));
                    let other = tables.get(&n.peer_address).and_then(|t| {
                        t.iter()
                            .find(|(s, routes)| **s != source && routes.contains(r))
                            .map(|(s, _)| s)
                    });
                    if let (false, Some(other)) = (announced, other) {
                        return Outcome::Refused(format!(
                            "route {} of neighbor {} was announced by {other}; only it can withdraw it",
                            describe_nlri(r),
                            n.peer_address
                        ));
                    }
                    if !announced && file_routes(n.peer_address).is_some_and(|f| file_has(&f, r)) {
                        return Outcome::Refused(format!(
                            "route {} of neighbor {} is in the configuration file; withdraw it there",
                            describe_nlri(r),
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
                    for r in &routes {
                        if s.remove(r) {
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

/// A route's NLRI as a command writes it: `PREFIX [rd RD] [path-information ID]`.
fn describe_nlri(r: &RouteConfig) -> String {
    let mut out = r.prefix.to_string();
    if let Some(rd) = r.nlri().rd {
        out.push_str(&format!(" rd {rd}"));
    }
    if let Some(id) = r.nlri().path_id {
        out.push_str(&format!(
            " path-information {}",
            std::net::Ipv4Addr::from(id)
        ));
    }
    out
}

/// A route's attributes in the configuration's words (`next-hop X [origin O] [as-path [ ... ]]
/// [med N] ...`), for `show adj-rib out`: what was configured (origin only when not igp), not
/// the session's defaults.
pub fn describe(a: &RouteAttributes) -> String {
    let mut out = match a.next_hop {
        NextHop::Address {
            global,
            link_local: Some(ll),
        } => format!("next-hop {global} link-local {ll}"),
        NextHop::Address { global, .. } => format!("next-hop {global}"),
        NextHop::SelfAddress => "next-hop self".into(),
        NextHop::Absent => String::new(),
    };
    if a.origin != crate::rib::attributes::Origin::Igp {
        out.push_str(&format!(" origin {}", a.origin.name()));
    }
    if let Some(p) = &a.as_path {
        out.push_str(&format!(" as-path [ {p} ]"));
    }
    if let Some(m) = a.med {
        out.push_str(&format!(" med {m}"));
    }
    if let Some(l) = a.local_pref {
        out.push_str(&format!(" local-preference {l}"));
    }
    if a.atomic_aggregate {
        out.push_str(" atomic-aggregate");
    }
    if let Some(ag) = a.aggregator {
        out.push_str(&format!(" aggregator ( {}:{} )", ag.asn, ag.address));
    }
    for x in &a.extra {
        out.push_str(&format!(" {}", describe_extra(x)));
    }
    list(&mut out, "community", &a.communities);
    list(&mut out, "extended-community", &a.extended_communities);
    list(&mut out, "large-community", &a.large_communities);
    out.trim().to_string()
}

/// An extra attribute in the configuration's words.
fn describe_extra(x: &crate::rib::attributes::ExtraAttribute) -> String {
    use crate::rib::attributes::ExtraAttribute;
    match x {
        ExtraAttribute::OriginatorId(id) => format!("originator-id {id}"),
        ExtraAttribute::ClusterList(l) => {
            let l: Vec<String> = l.iter().map(|a| a.to_string()).collect();
            format!("cluster-list [ {} ]", l.join(" "))
        }
        ExtraAttribute::Aigp(m) => format!("aigp {m}"),
        ExtraAttribute::Generic { code, flags, value } => format!(
            "attribute [ 0x{code:02x} 0x{flags:02x} 0x{} ]",
            crate::wire::attribute::hex(value)
        ),
    }
}

fn list<T: std::fmt::Display>(out: &mut String, name: &str, values: &[T]) {
    if !values.is_empty() {
        let v: Vec<String> = values.iter().map(|c| c.to_string()).collect();
        out.push_str(&format!(" {name} [ {} ]", v.join(" ")));
    }
}

/// A route that is not plain unicast, as `show adj-rib out` prints it:
/// `FAMILY PREFIX [rd RD] [label [ L ]] [path-information ID] ATTRIBUTES`.
pub fn describe_other(key: &NlriKey, route: &OtherRoute) -> String {
    let mut out = format!("{} {}", key.family, key.prefix);
    if let Some(rd) = key.rd {
        out.push_str(&format!(" rd {rd}"));
    }
    if !route.labels.is_empty() {
        let l: Vec<String> = route.labels.iter().map(|l| l.to_string()).collect();
        out.push_str(&format!(" label [ {} ]", l.join(" ")));
    }
    if let Some(id) = key.path_id {
        out.push_str(&format!(
            " path-information {}",
            std::net::Ipv4Addr::from(id)
        ));
    }
    format!("{out} {}", describe(&route.attrs))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::config::{Config, parse_str};

    const CONFIG: &str = "neighbor 127.0.0.1 { router-id 1.2.3.4; local-as 1; peer-as 1;
        family { ipv4 unicast; ipv4 mpls-vpn; ipv4 nlri-mpls; ipv6 mpls-vpn; }
        static {
            route 203.0.113.0/24 next-hop 192.0.2.1;
            route 10.1.0.0/16 rd 65000:7 label 70 next-hop 192.0.2.1;
            route 10.2.0.0/16 label 80 next-hop 192.0.2.1;
        } }";

    struct World {
        config: Config,
        file: Arc<RouteSet>,
        tables: BTreeMap<IpAddr, SourceTables>,
        interner: AttributeInterner,
    }

    impl World {
        fn new() -> World {
            let config = parse_str(CONFIG, Path::new("t.conf")).unwrap();
            let file = crate::manager::route_sets(&config).remove(0);
            World {
                config,
                file,
                tables: BTreeMap::new(),
                interner: AttributeInterner::default(),
            }
        }

        fn run(&mut self, line: &str) -> Outcome {
            let neighbors: Vec<&NeighborConfig> = self.config.neighbors.iter().collect();
            let file = self.file.clone();
            let mut dirty = BTreeSet::new();
            apply(
                Source::Control,
                ApiAction::Command(command::parse(line)),
                &neighbors,
                &mut self.tables,
                &mut self.interner,
                &mut dirty,
                &|_| Some(file.clone()),
            )
        }

        fn routes(&self) -> RouteSet {
            match self.tables.values().next() {
                Some(api) => union(&self.file, api),
                None => (*self.file).clone(),
            }
        }
    }

    fn unicast(set: &RouteSet) -> Vec<String> {
        set.iter().map(|(p, _)| p.to_string()).collect()
    }

    fn others(set: &RouteSet) -> Vec<String> {
        set.others()
            .map(|(k, r)| describe_other(k, r))
            .collect::<Vec<_>>()
    }

    #[test]
    fn vpn_route_from_a_program_stays_in_its_family() {
        let mut w = World::new();
        let out = w.run("announce route 10.99.0.0/16 rd 65000:1 label 100 next-hop 192.0.2.1");
        assert!(matches!(out, Outcome::Done(_)), "{out:?}");
        let set = w.routes();
        assert_eq!(unicast(&set), ["203.0.113.0/24"]);
        let o = others(&set);
        assert!(
            o.contains(
                &"ipv4 mpls-vpn 10.99.0.0/16 rd 65000:1 label [ 100 ] next-hop 192.0.2.1".into()
            ),
            "{o:?}"
        );
        // The file's VPN and labeled routes are still there.
        assert_eq!(o.len(), 3, "{o:?}");
        // Withdrawing the same prefix without its rd does not touch the VPN route.
        assert!(matches!(
            w.run("withdraw route 10.99.0.0/16"),
            Outcome::Done(_)
        ));
        assert_eq!(others(&w.routes()).len(), 3);
        assert!(matches!(
            w.run("withdraw route 10.99.0.0/16 rd 65000:1 next-hop 0.0.0.0"),
            Outcome::Done(_)
        ));
        assert_eq!(others(&w.routes()).len(), 2);
    }

    #[test]
    fn file_routes_of_every_kind_survive_a_program_route() {
        let mut w = World::new();
        let before = others(&w.routes());
        assert_eq!(before.len(), 2, "{before:?}");
        w.run("announce route 198.51.100.0/24 next-hop 192.0.2.9");
        let set = w.routes();
        assert_eq!(unicast(&set), ["198.51.100.0/24", "203.0.113.0/24"]);
        assert_eq!(others(&set), before);
        // A file route of another kind cannot be withdrawn from the API.
        let out = w.run("withdraw route 10.1.0.0/16 rd 65000:7");
        assert!(
            matches!(&out, Outcome::Refused(e) if e.contains("rd 65000:7") && e.contains("configuration file")),
            "{out:?}"
        );
    }

    #[test]
    fn add_path_ids_and_split_make_separate_routes() {
        let mut w = World::new();
        w.run("announce route 198.51.100.0/24 path-information 1.1.1.1 next-hop 192.0.2.1");
        w.run("announce route 198.51.100.0/24 path-information 2.2.2.2 next-hop 192.0.2.2");
        let o = others(&w.routes());
        assert_eq!(
            o.iter().filter(|l| l.contains("198.51.100.0/24")).count(),
            2,
            "{o:?}"
        );
        w.run("announce route 192.0.2.0/24 next-hop 192.0.2.1 split /26");
        assert_eq!(
            unicast(&w.routes()),
            [
                "192.0.2.0/26",
                "192.0.2.64/26",
                "192.0.2.128/26",
                "192.0.2.192/26",
                "203.0.113.0/24"
            ]
        );
        for bad in [
            "announce route 192.0.2.0/24 next-hop 192.0.2.1 split /20",
            "announce route 192.0.2.0/24 next-hop 192.0.2.1 split /33",
            "announce route 10.0.0.0/8 next-hop 192.0.2.1 split /32",
        ] {
            let out = w.run(bad);
            assert!(
                matches!(&out, Outcome::Refused(e) if e.contains("split")),
                "{bad}: {out:?}"
            );
        }
    }

    #[test]
    fn program_routes_of_other_kinds_share_the_file_table() {
        let mut w = World::new();
        w.run("announce route 10.98.0.0/16 rd 65000:1 label 100 next-hop 192.0.2.1");
        let set = w.routes();
        assert!(Arc::ptr_eq(set.shared_routes(), w.file.shared_routes()));
        // An IPv6 next hop for an IPv4 prefix replaces the plain route of that prefix.
        w.run("announce route 198.51.100.0/24 next-hop 192.0.2.1");
        w.run("announce route 198.51.100.0/24 next-hop 2001:db8::1");
        let set = w.routes();
        assert_eq!(unicast(&set), ["203.0.113.0/24"]);
        assert!(
            others(&set)
                .iter()
                .any(|l| l.starts_with("ipv4 unicast 198.51.100.0/24 next-hop 2001:db8::1"))
        );
        w.run("withdraw route 198.51.100.0/24");
        assert!(
            !others(&w.routes())
                .iter()
                .any(|l| l.contains("198.51.100.0/24"))
        );
    }

    #[test]
    fn the_last_source_wins_where_several_give_a_prefix() {
        let w = World::new();
        let mut interner = AttributeInterner::default();
        let route = |text: &str| crate::config::api_command::route_from_text(text).unwrap();
        let mut a = SourceRoutes::default();
        a.insert(&route("203.0.113.0/24 next-hop 192.0.2.7"), &mut interner);
        a.insert(&route("198.51.100.0/24 next-hop 192.0.2.7"), &mut interner);
        let mut b = SourceRoutes::default();
        b.insert(&route("198.51.100.0/24 next-hop 192.0.2.8"), &mut interner);
        let tables: SourceTables = [
            (Source::Process("a".into()), a),
            (Source::Healthcheck("b".into()), b),
        ]
        .into_iter()
        .collect();
        let set = union(&w.file, &tables);
        let got: Vec<String> = set
            .iter()
            .map(|(p, a)| format!("{p} {}", describe(a)))
            .collect();
        // The file's 203.0.113.0/24 is replaced by the program's; the health check (later in
        // source order) wins 198.51.100.0/24.
        assert_eq!(
            got,
            [
                "198.51.100.0/24 next-hop 192.0.2.8",
                "203.0.113.0/24 next-hop 192.0.2.7"
            ]
        );
    }
}
