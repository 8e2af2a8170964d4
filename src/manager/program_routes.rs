//! Routes from programs (helpers, health checks, the control socket): per neighbor and per
//! source, kept beside the configuration file's routes, so that each source withdraws only
//! its own and the file's stay out of reach. A neighbor is sent the union (see
//! `source_routes.rs`): the file's routes with every source's over them.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::sync::Arc;

use log::info;

use super::source_routes::{SourceRoutes, SourceTables, file_has, union};
use crate::api::Source;
use crate::api::command::Command;
use crate::config::model::{FamilyRoute, FlowConfig};
use crate::config::{NeighborConfig, RouteConfig, guard};
use crate::rib::other_nlri::{NlriKey, OtherRoute};
use crate::rib::route_set::{AttributeInterner, RouteSet};

/// A neighbor a request applies to: its configuration and the routes its file gives it.
#[derive(Clone, Copy)]
pub struct Target<'a> {
    pub config: &'a NeighborConfig,
    pub file: &'a RouteSet,
}

impl Target<'_> {
    fn addr(&self) -> IpAddr {
        self.config.peer_address
    }
}

/// Every program source's routes, per neighbor; they survive reloads and session restarts.
#[derive(Default)]
pub struct ProgramRoutes {
    pub(super) tables: BTreeMap<IpAddr, SourceTables>,
    /// Neighbors whose routes changed since [`ProgramRoutes::take_dirty`].
    pub(super) dirty: BTreeSet<IpAddr>,
    pub(super) interner: AttributeInterner,
    /// Which routes belong to which watchdog group (see `watchdog.rs`).
    pub(super) watchdogs: super::watchdog::Watchdogs,
}

impl ProgramRoutes {
    /// The sources' routes for one neighbor.
    pub fn of(&self, addr: IpAddr) -> Option<&SourceTables> {
        self.tables.get(&addr)
    }

    /// The routes a neighbor is to be sent: its file's, with the programs' over them.
    pub fn routes_for(&self, addr: IpAddr, file: &Arc<RouteSet>) -> Arc<RouteSet> {
        match self.tables.get(&addr) {
            Some(api) => Arc::new(union(file, api)),
            None => file.clone(),
        }
    }

    /// Brings the shared tables of `addr`'s sources up to date (see `SourceRoutes::publish`),
    /// so that its union takes them as they are.
    pub fn publish(&mut self, addr: IpAddr) {
        if let Some(sources) = self.tables.get_mut(&addr) {
            sources.values_mut().for_each(SourceRoutes::publish);
        }
    }

    /// Marks a neighbor whose routes must be sent again (its file's routes changed).
    pub fn mark(&mut self, addr: IpAddr) {
        self.dirty.insert(addr);
    }

    pub fn is_dirty(&self) -> bool {
        !self.dirty.is_empty()
    }

    /// The neighbors whose routes changed since the last call.
    pub fn take_dirty(&mut self) -> BTreeSet<IpAddr> {
        std::mem::take(&mut self.dirty)
    }

    /// Forgets what `source` announced to every neighbor (withdrawn at the next flush).
    pub fn drop_source(&mut self, source: &Source) {
        self.forget_watchdog_source(source);
        for (addr, sources) in self.tables.iter_mut() {
            if sources.remove(source).is_some() {
                self.dirty.insert(*addr);
            }
        }
        self.prune();
    }

    /// Withdraws every program route of `addr`, of every source (`clear adj-rib out`).
    /// The configuration's watchdog routes stay, as the file's do.
    pub fn clear_neighbor(&mut self, addr: IpAddr) {
        self.retain_watchdog_sources(addr, |s| *s == Source::Watchdog);
        if let Some(sources) = self.tables.get_mut(&addr) {
            let before = sources.len();
            sources.retain(|s, _| *s == Source::Watchdog);
            if sources.len() != before {
                self.dirty.insert(addr);
            }
        }
        self.prune();
    }

    /// Forgets a removed neighbor's program routes.
    pub fn drop_neighbor(&mut self, addr: IpAddr) {
        self.forget_watchdog_neighbor(addr);
        self.tables.remove(&addr);
        self.dirty.remove(&addr);
    }

    /// Withdraws, from each neighbor, the routes of helpers its `api { processes }` no longer
    /// lists: nothing could withdraw them otherwise.
    pub fn drop_unmapped<'a>(&mut self, neighbors: impl Iterator<Item = &'a NeighborConfig>) {
        for n in neighbors {
            let mapped = |source: &Source| match source {
                Source::Process(name) => n.api_processes.contains(name),
                Source::Replayed(inner) => match &**inner {
                    Source::Process(name) => n.api_processes.contains(name),
                    _ => true,
                },
                Source::Control | Source::Healthcheck(_) | Source::Watchdog => true,
            };
            self.retain_watchdog_sources(n.peer_address, mapped);
            let Some(sources) = self.tables.get_mut(&n.peer_address) else {
                continue;
            };
            let before = sources.len();
            sources.retain(|source, _| mapped(source));
            if sources.len() != before {
                info!(
                    "neighbor {}: routes of helpers no longer in its api block withdrawn",
                    n.peer_address
                );
                self.dirty.insert(n.peer_address);
            }
        }
        self.prune();
    }

    /// Adds routes read back from the state file (at start, before the sessions).
    pub fn restore(&mut self, addr: IpAddr, source: &Source, routes: &[RouteConfig]) {
        let s = source_mut(&mut self.tables, addr, source);
        for r in routes {
            s.insert(r, &mut self.interner);
        }
        self.dirty.insert(addr);
        self.prune();
    }

    /// The routes to journal: helpers' (also those still replayed) and the control
    /// socket's. Prefix routes in `announce route`'s text; family routes and flow rules as
    /// their command wrote them (what followed `announce`), when a command gave them.
    pub fn journal(&self) -> Journaled {
        let mut out = Journaled::default();
        for (addr, sources) in &self.tables {
            for (source, routes) in sources {
                let source = match source {
                    Source::Replayed(inner) => (**inner).clone(),
                    Source::Healthcheck(_) | Source::Watchdog => continue,
                    s => s.clone(),
                };
                for (prefix, attrs) in routes.plain() {
                    let text = format!("{prefix} {}", super::status::describe(attrs));
                    out.routes.push((*addr, source.clone(), text));
                }
                for (key, route) in &routes.others {
                    if key.prefix().is_some() {
                        let text = route_text(key, &route.labels, &route.attrs);
                        out.routes.push((*addr, source.clone(), text));
                    } else if let Some(text) = routes.texts.get(key) {
                        out.announced
                            .push((*addr, source.clone(), text.to_string()));
                    }
                }
                for rule in routes.flows.keys() {
                    if let Some(text) = routes.texts.get(&NlriKey::flow(rule.clone())) {
                        out.announced
                            .push((*addr, source.clone(), text.to_string()));
                    }
                }
            }
        }
        out.watchdogs = self.journal_watchdogs();
        out
    }

    /// A family route or flow rule read back from the state file (what followed
    /// `announce`), for neighbor `n`; `false` when the text is not one, or `n` does not have
    /// its family.
    pub fn restore_announced(&mut self, n: &NeighborConfig, source: &Source, text: &str) -> bool {
        let addr = n.peer_address;
        match super::journal::announced_command(text) {
            Some(Command::AnnounceFamily(r)) if n.families.contains(&r.key.family) => {
                let attrs = self.interner.intern(&r.attributes);
                let s = source_mut(&mut self.tables, addr, source);
                let labels = Vec::new();
                s.others.insert(r.key.clone(), OtherRoute { labels, attrs });
                s.texts.insert(r.key.clone(), text.into());
            }
            Some(Command::AnnounceFlow(f)) if n.families.contains(&f.rule.family()) => {
                let attrs = self.interner.intern(&f.attributes);
                let s = source_mut(&mut self.tables, addr, source);
                s.flows.insert(f.rule.clone(), attrs);
                s.texts
                    .insert(NlriKey::flow_path(f.rule, f.path_id), text.into());
            }
            _ => return false,
        }
        self.dirty.insert(addr);
        true
    }

    /// The sources still replayed from the state file.
    pub fn replayed(&self) -> Vec<Source> {
        let mut out: Vec<Source> = Vec::new();
        for sources in self.tables.values() {
            for s in sources.keys() {
                if matches!(s, Source::Replayed(_)) && !out.contains(s) {
                    out.push(s.clone());
                }
            }
        }
        out
    }

    /// Replaces every route of `source` on `targets` (a health check's result).
    pub fn replace(&mut self, source: &Source, routes: &[RouteConfig], targets: &[Target]) {
        for t in targets {
            let mut s = SourceRoutes::default();
            for r in routes {
                s.insert(r, &mut self.interner);
            }
            let sources = self.tables.entry(t.addr()).or_default();
            if s.is_empty() {
                sources.remove(source);
            } else {
                sources.insert(source.clone(), s);
            }
            self.dirty.insert(t.addr());
        }
        self.prune();
    }

    /// `announce route`: refused whole (nothing changes) when a route breaks a neighbor's guard.
    pub fn announce(
        &mut self,
        source: &Source,
        routes: &[RouteConfig],
        targets: &[Target],
    ) -> Result<(), String> {
        check_guards(routes, targets)?;
        for t in targets {
            let s = source_mut(&mut self.tables, t.addr(), source);
            for r in routes {
                s.insert(r, &mut self.interner);
            }
            self.dirty.insert(t.addr());
        }
        self.tag_routes(source, routes, None, targets);
        Ok(())
    }

    /// `announce flow`: refused when the rule breaks a guard or a neighbor's flow limit.
    pub fn announce_flow(
        &mut self,
        source: &Source,
        f: &FlowConfig,
        targets: &[Target],
    ) -> Result<(), String> {
        for t in targets {
            let refused = |e| format!("neighbor {}: {e}", t.addr());
            guard::check_flow(&f.rule, &f.attributes, &t.config.guard).map_err(refused)?;
            let sources = self.tables.get(&t.addr());
            let known = |s: &SourceRoutes| s.flows.contains_key(&f.rule);
            let new = !sources.is_some_and(|t| t.values().any(known));
            let count = t.file.flows().count()
                + sources.map_or(0, |t| t.values().map(|s| s.flows.len()).sum())
                + usize::from(new);
            guard::check_flow_count(count, &t.config.guard).map_err(refused)?;
        }
        let attrs = self.interner.intern(&f.attributes);
        let text_key = NlriKey::flow_path(f.rule.clone(), f.path_id);
        for t in targets {
            let s = source_mut(&mut self.tables, t.addr(), source);
            s.flows.insert(f.rule.clone(), attrs.clone());
            match &f.api_text {
                Some(text) => s.texts.insert(text_key.clone(), text.clone()),
                None => s.texts.remove(&text_key),
            };
            self.dirty.insert(t.addr());
        }
        Ok(())
    }

    /// `withdraw route`: refused whole when a route belongs to another source or to the file
    /// (the answer says whose it is).
    pub fn withdraw(
        &mut self,
        source: &Source,
        routes: &[RouteConfig],
        targets: &[Target],
    ) -> Result<(), String> {
        for t in targets {
            let sources = self.tables.get(&t.addr());
            let ours = sources.and_then(|s| s.get(source));
            for r in routes {
                let announced = ours.is_some_and(|s| s.contains(r));
                if announced {
                    continue;
                }
                let other = sources.and_then(|t| {
                    t.iter()
                        .find(|(s, routes)| *s != source && routes.contains(r))
                        .map(|(s, _)| s)
                });
                if let Some(other) = other {
                    return Err(format!(
                        "route {} of neighbor {} was announced by {other}; only it can withdraw it",
                        describe_nlri(r),
                        t.addr()
                    ));
                }
                if file_has(t.file, r) {
                    return Err(format!(
                        "route {} of neighbor {} is in the configuration file; withdraw it there",
                        describe_nlri(r),
                        t.addr()
                    ));
                }
            }
        }
        for t in targets {
            if let Some(s) = self
                .tables
                .get_mut(&t.addr())
                .and_then(|s| s.get_mut(source))
            {
                for r in routes {
                    if s.remove(r) {
                        self.dirty.insert(t.addr());
                    }
                }
            }
        }
        self.tag_routes(source, routes, None, targets);
        self.prune();
        Ok(())
    }

    /// `announce evpn ...` (a route of a `wire::nlri` family): refused whole when a neighbor
    /// it goes to does not have the family configured (it could never be sent there).
    pub fn announce_family(
        &mut self,
        source: &Source,
        r: &FamilyRoute,
        targets: &[Target],
    ) -> Result<(), String> {
        let family = r.key.family;
        if let Some(t) = targets
            .iter()
            .find(|t| !t.config.families.contains(&family))
        {
            return Err(format!(
                "neighbor {} does not have {family} in its family block; nothing announced",
                t.addr()
            ));
        }
        let attrs = self.interner.intern(&r.attributes);
        for t in targets {
            let value = OtherRoute {
                labels: Vec::new(),
                attrs: attrs.clone(),
            };
            let s = source_mut(&mut self.tables, t.addr(), source);
            s.others.insert(r.key.clone(), value);
            match &r.api_text {
                Some(text) => s.texts.insert(r.key.clone(), text.clone()),
                None => s.texts.remove(&r.key),
            };
            self.dirty.insert(t.addr());
        }
        Ok(())
    }

    /// `withdraw evpn ...`: refused whole when the route is another source's or the file's.
    pub fn withdraw_family(
        &mut self,
        source: &Source,
        r: &FamilyRoute,
        targets: &[Target],
    ) -> Result<(), String> {
        let key = &r.key;
        for t in targets {
            let sources = self.tables.get(&t.addr());
            if sources
                .and_then(|s| s.get(source))
                .is_some_and(|s| s.others.contains_key(key))
            {
                continue;
            }
            let other = sources.and_then(|all| {
                all.iter()
                    .find(|(s, routes)| *s != source && routes.others.contains_key(key))
                    .map(|(s, _)| s)
            });
            if let Some(other) = other {
                return Err(format!(
                    "route {key} of neighbor {} was announced by {other}; only it can withdraw it",
                    t.addr()
                ));
            }
            if t.file
                .other_list()
                .binary_search_by(|(k, _)| k.cmp(key))
                .is_ok()
            {
                return Err(format!(
                    "route {key} of neighbor {} is in the configuration file; withdraw it there",
                    t.addr()
                ));
            }
        }
        for t in targets {
            if let Some(s) = self
                .tables
                .get_mut(&t.addr())
                .and_then(|s| s.get_mut(source))
                && s.others.remove(key).is_some()
            {
                s.texts.remove(key);
                self.dirty.insert(t.addr());
            }
        }
        self.prune();
        Ok(())
    }

    /// `withdraw flow`: refused when the rule is the file's.
    pub fn withdraw_flow(
        &mut self,
        source: &Source,
        f: &FlowConfig,
        targets: &[Target],
    ) -> Result<(), String> {
        for t in targets {
            let ours = self
                .tables
                .get(&t.addr())
                .and_then(|s| s.get(source))
                .is_some_and(|s| s.flows.contains_key(&f.rule));
            if !ours && t.file.flows().any(|(r, _)| *r == f.rule) {
                return Err(format!(
                    "{} of neighbor {} is in the configuration file; withdraw it there",
                    f.rule,
                    t.addr()
                ));
            }
        }
        for t in targets {
            if let Some(s) = self
                .tables
                .get_mut(&t.addr())
                .and_then(|s| s.get_mut(source))
                && s.flows.remove(&f.rule).is_some()
            {
                s.texts
                    .remove(&NlriKey::flow_path(f.rule.clone(), f.path_id));
                self.dirty.insert(t.addr());
            }
        }
        self.prune();
        Ok(())
    }

    pub(super) fn prune(&mut self) {
        for sources in self.tables.values_mut() {
            sources.retain(|_, s| !s.is_empty());
        }
        self.tables.retain(|_, s| !s.is_empty());
    }
}

/// The neighbors' guards that `routes` must keep to be announced to `targets` (now, or later
/// by their watchdog).
pub fn check_guards(routes: &[RouteConfig], targets: &[Target]) -> Result<(), String> {
    for t in targets {
        for r in routes {
            guard::check_blackhole(r.prefix, &r.attributes, &t.config.guard)
                .map_err(|e| format!("neighbor {}: {e}", t.addr()))?;
        }
    }
    Ok(())
}

fn source_mut<'a>(
    tables: &'a mut BTreeMap<IpAddr, SourceTables>,
    addr: IpAddr,
    source: &Source,
) -> &'a mut SourceRoutes {
    let sources = tables.entry(addr).or_default();
    // The source's name is copied only for its first route to this neighbor.
    if !sources.contains_key(source) {
        sources.insert(source.clone(), SourceRoutes::default());
    }
    sources.get_mut(source).expect("inserted above")
}

/// What [`ProgramRoutes::journal`] gives the state file: (neighbor, source, text).
#[derive(Default)]
pub struct Journaled {
    /// `announce route`'s text.
    pub routes: Vec<(IpAddr, Source, String)>,
    /// What followed `announce` (family routes, flow rules).
    pub announced: Vec<(IpAddr, Source, String)>,
    pub watchdogs: Vec<super::state_file::SavedMember>,
}

/// A prefix route in `announce route`'s text: `show adj-rib out`'s form without its
/// leading family.
pub(super) fn route_text(
    key: &NlriKey,
    labels: &[u32],
    attrs: &crate::rib::attributes::RouteAttributes,
) -> String {
    let line = super::status::describe_route(key, labels, attrs);
    let family = key.family.to_string();
    match line.strip_prefix(&family) {
        Some(text) => text.trim().to_string(),
        None => line,
    }
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

impl super::Manager {
    /// Sends every neighbor whose program routes changed its new route set (the union of the
    /// file's routes and every source's); the neighbor thread sends only the difference.
    pub(super) fn flush(&mut self) {
        // Neighbors that share a file table and were given the same program routes (one
        // `ctl announce` to all of them) share one union too, instead of a copy each.
        let mut made: Vec<(Arc<RouteSet>, std::net::IpAddr, Arc<RouteSet>)> = Vec::new();
        for addr in self.program_routes.take_dirty() {
            let Some(n) = self.neighbors.get(addr) else {
                continue;
            };
            self.program_routes.publish(addr);
            let tables = self.program_routes.of(addr);
            let known = made.iter().find(|(file, other, _)| {
                Arc::ptr_eq(file, &n.file_routes) && self.program_routes.of(*other) == tables
            });
            let routes = match known {
                Some((_, _, routes)) => routes.clone(),
                None => {
                    let routes = self.program_routes.routes_for(addr, &n.file_routes);
                    made.push((n.file_routes.clone(), addr, routes.clone()));
                    routes
                }
            };
            self.neighbors.set_routes(addr, routes);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::api::command::{self, Command};
    use crate::config::{Config, parse_str};
    use crate::manager::status::{describe, describe_other};

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
        programs: ProgramRoutes,
    }

    impl World {
        fn new() -> World {
            World::with(CONFIG)
        }

        fn with(text: &str) -> World {
            let config = parse_str(text, Path::new("t.conf")).unwrap();
            let file = crate::route_sets::route_sets(&config).remove(0);
            World {
                config,
                file,
                programs: ProgramRoutes::default(),
            }
        }

        fn run(&mut self, line: &str) -> Result<(), String> {
            let targets: Vec<Target> = self
                .config
                .neighbors
                .iter()
                .map(|config| Target {
                    config,
                    file: &self.file,
                })
                .collect();
            let source = Source::Control;
            match command::parse(line).command {
                Command::Announce(r) => self.programs.announce(&source, &r, &targets),
                Command::Withdraw(r) => self.programs.withdraw(&source, &r, &targets),
                Command::AnnounceFlow(f) => self.programs.announce_flow(&source, &f, &targets),
                Command::WithdrawFlow(f) => self.programs.withdraw_flow(&source, &f, &targets),
                Command::AnnounceFamily(r) => self.programs.announce_family(&source, &r, &targets),
                Command::WithdrawFamily(r) => self.programs.withdraw_family(&source, &r, &targets),
                Command::Invalid(e) => Err(e),
                other => panic!("not a route command: {other:?}"),
            }
        }

        fn routes(&self) -> RouteSet {
            let addr = self.config.neighbors[0].peer_address;
            (*self.programs.routes_for(addr, &self.file)).clone()
        }
    }

    /// A malformed one-line flow is refused with a message naming what is wrong, and the
    /// rules announced before it stay; the one-line and block forms of a rule are one rule.
    #[test]
    fn a_malformed_flow_line_changes_nothing() {
        let mut w = World::with(
            "neighbor 127.0.0.1 { router-id 1.2.3.4; local-as 1; peer-as 1; family { ipv4 flow; } }",
        );
        w.run("announce flow route destination 192.0.2.1/32 source-port =53 discard")
            .unwrap();
        w.run("announce ipv4 flow destination 192.0.2.2/32 rate-limit 1000 interface-set [ transitive:input:1234:10 ]")
            .unwrap();
        let before: Vec<String> = w.routes().flows().map(|(r, _)| r.to_string()).collect();
        assert_eq!(before.len(), 2, "{before:?}");
        for bad in [
            "announce flow route destination 192.0.2.3/32 discard colour red",
            "announce flow route destination 192.0.2.3/32 interface-set [ transitive:input:1:1",
            "announce flow route destination 192.0.2.3/32 source-port =99999 discard",
            "announce ipv6 flow destination 192.0.2.3/32 discard",
            "announce flow route",
        ] {
            let e = w.run(bad).unwrap_err();
            assert!(!e.is_empty(), "{bad}");
        }
        let after: Vec<String> = w.routes().flows().map(|(r, _)| r.to_string()).collect();
        assert_eq!(before, after);
        // The block form of the first rule is the same rule: withdrawn by it.
        w.run("withdraw flow route { match { destination 192.0.2.1/32; source-port =53; } }")
            .unwrap();
        assert_eq!(w.routes().flows().count(), 1);
    }

    /// `announce evpn ...` adds the route under its key, `withdraw` (without next hop, other
    /// attributes) removes it; a neighbor without the family refuses the whole command, and
    /// a route of the file cannot be withdrawn by a program.
    #[test]
    fn evpn_and_rtc_routes_from_a_program() {
        let mut w = World::with(
            "neighbor 127.0.0.1 { router-id 1.2.3.4; local-as 1; peer-as 1;
            family { l2vpn evpn; ipv4 rtc; }
            announce { ipv4 { rtc origin 1 route-target target:1:1 next-hop 192.0.2.1; } } }",
        );
        let mac = "evpn mac-ip rd 192.0.2.2:100 mac 00:11:22:aa:bb:01 label [ 10100 ]";
        w.run(&format!(
            "announce {mac} next-hop 192.0.2.2 extended-community [ target:65019:100 ]"
        ))
        .unwrap();
        let keys = |w: &World| -> Vec<String> {
            w.routes().others().map(|(k, _)| k.to_string()).collect()
        };
        assert_eq!(
            keys(&w),
            [
                "rtc origin 1 route-target target:1:1",
                "evpn mac-ip rd 192.0.2.2:100 esi 00:00:00:00:00:00:00:00:00:00 ethernet-tag 0 mac 00:11:22:aa:bb:01 label [ 10100 ]",
            ]
        );
        w.run(&format!("withdraw {mac} med 5")).unwrap();
        assert_eq!(keys(&w).len(), 1);
        let e = w
            .run("announce ipv4 mup mup-isd 10.0.1.0/24 rd 100:100 next-hop 192.0.2.2")
            .unwrap_err();
        assert!(e.contains("does not have ipv4 mup"), "{e}");
        let e = w
            .run("withdraw rtc origin 1 route-target target:1:1")
            .unwrap_err();
        assert!(e.contains("in the configuration file"), "{e}");
        let e = w
            .run("announce evpn mac-ip rd 1:1 mac 00:11 label [ 1 ] next-hop 192.0.2.2")
            .unwrap_err();
        assert!(
            e.starts_with("command:1:24: evpn mac-ip route: '00:11' is not a MAC"),
            "{e}"
        );
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
        assert!(matches!(out, Ok(())), "{out:?}");
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
        assert!(matches!(w.run("withdraw route 10.99.0.0/16"), Ok(())));
        assert_eq!(others(&w.routes()).len(), 3);
        assert!(matches!(
            w.run("withdraw route 10.99.0.0/16 rd 65000:1 next-hop 0.0.0.0"),
            Ok(())
        ));
        assert_eq!(others(&w.routes()).len(), 2);
    }

    #[test]
    fn file_routes_of_every_kind_survive_a_program_route() {
        let mut w = World::new();
        let before = others(&w.routes());
        assert_eq!(before.len(), 2, "{before:?}");
        w.run("announce route 198.51.100.0/24 next-hop 192.0.2.9")
            .unwrap();
        let set = w.routes();
        assert_eq!(unicast(&set), ["198.51.100.0/24", "203.0.113.0/24"]);
        assert_eq!(others(&set), before);
        // A file route of another kind cannot be withdrawn from the API.
        let out = w.run("withdraw route 10.1.0.0/16 rd 65000:7");
        assert!(
            matches!(&out, Err(e) if e.contains("rd 65000:7") && e.contains("configuration file")),
            "{out:?}"
        );
    }

    #[test]
    fn add_path_ids_and_split_make_separate_routes() {
        let mut w = World::new();
        w.run("announce route 198.51.100.0/24 path-information 1.1.1.1 next-hop 192.0.2.1")
            .unwrap();
        w.run("announce route 198.51.100.0/24 path-information 2.2.2.2 next-hop 192.0.2.2")
            .unwrap();
        let o = others(&w.routes());
        assert_eq!(
            o.iter().filter(|l| l.contains("198.51.100.0/24")).count(),
            2,
            "{o:?}"
        );
        w.run("announce route 192.0.2.0/24 next-hop 192.0.2.1 split /26")
            .unwrap();
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
                matches!(&out, Err(e) if e.contains("split")),
                "{bad}: {out:?}"
            );
        }
    }

    #[test]
    fn program_routes_of_other_kinds_share_the_file_table() {
        let mut w = World::new();
        w.run("announce route 10.98.0.0/16 rd 65000:1 label 100 next-hop 192.0.2.1")
            .unwrap();
        let set = w.routes();
        assert!(set.shared_routes().same(w.file.shared_routes()));
        // An IPv6 next hop for an IPv4 prefix replaces the plain route of that prefix.
        w.run("announce route 198.51.100.0/24 next-hop 192.0.2.1")
            .unwrap();
        w.run("announce route 198.51.100.0/24 next-hop 2001:db8::1")
            .unwrap();
        let set = w.routes();
        assert_eq!(unicast(&set), ["203.0.113.0/24"]);
        assert!(
            others(&set)
                .iter()
                .any(|l| l.starts_with("ipv4 unicast 198.51.100.0/24 next-hop 2001:db8::1"))
        );
        w.run("withdraw route 198.51.100.0/24").unwrap();
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

    #[test]
    fn journaled_routes_read_back_to_the_same_routes() {
        let mut w = World::new();
        w.run("announce route 198.51.100.0/24 next-hop 192.0.2.9 local-preference 200 community [ 65000:1 ] as-path [ 65001 65002 ] med 7")
            .unwrap();
        w.run("announce route 10.99.0.0/16 rd 65000:1 label 100 next-hop 192.0.2.1")
            .unwrap();
        w.run("announce route 2001:db8::/48 next-hop 2001:db8::1 origin egp")
            .unwrap();
        let journal = w.programs.journal().routes;
        assert_eq!(journal.len(), 3, "{journal:?}");
        let mut back = ProgramRoutes::default();
        for (addr, source, text) in &journal {
            let r = crate::config::api_command::route_from_text(text)
                .unwrap_or_else(|e| panic!("{text}: {e}"));
            back.restore(*addr, source, &[r]);
        }
        let addr = w.config.neighbors[0].peer_address;
        assert_eq!(
            back.routes_for(addr, &w.file),
            w.programs.routes_for(addr, &w.file)
        );
    }

    /// Family routes, flow rules and a watchdog's withdrawn route go through the state
    /// file's text and come back the same: announced routes in the union, the withdrawn one
    /// out of it until `announce watchdog`.
    #[test]
    fn family_flow_and_watchdog_routes_survive_the_state_file() {
        let mut w = World::with(
            "neighbor 127.0.0.1 { router-id 1.2.3.4; local-as 1; peer-as 1;
            family { ipv4 unicast; l2vpn evpn; ipv4 flow; ipv4 mup; ipv4 flow-vpn; } }",
        );
        w.run("announce evpn mac-ip rd 192.0.2.2:100 mac 00:11:22:aa:bb:01 label [ 10100 ] next-hop 192.0.2.2 extended-community [ target:65019:100 ]").unwrap();
        w.run("announce ipv4 mup mup-isd 10.0.1.0/24 rd 100:100 next-hop 192.0.2.2 extended-community [ target:10:10 mup:10:10 ]").unwrap();
        w.run("announce flow route destination 192.0.2.1/32 source-port =53 discard")
            .unwrap();
        w.run("announce flow route { rd 65000:1; match { destination 192.0.2.9/32; } then { discard; } }")
            .unwrap();
        let addr = w.config.neighbors[0].peer_address;
        let targets = [Target {
            config: &w.config.neighbors[0],
            file: &w.file,
        }];
        let held =
            crate::config::api_command::routes_from_text("10.9.0.0/16 next-hop 192.0.2.1").unwrap();
        let up =
            crate::config::api_command::routes_from_text("10.8.0.0/16 next-hop 192.0.2.1").unwrap();
        w.programs
            .announce(&Source::Control, &up, &targets)
            .unwrap();
        w.programs
            .tag_routes(&Source::Control, &up, Some(("w", false)), &targets);
        w.programs
            .tag_routes(&Source::Control, &held, Some(("w", true)), &targets);
        let j = w.programs.journal();
        let saved = crate::manager::state_file::SavedState {
            routes: j.routes,
            announced: j.announced,
            watchdogs: j.watchdogs,
            ..Default::default()
        };
        assert_eq!(saved.announced.len(), 4, "{saved:?}");
        assert_eq!(saved.watchdogs.len(), 2, "{saved:?}");
        let text = crate::manager::state_file::encode(&saved);
        let back = crate::manager::state_file::decode(&text).unwrap();
        assert_eq!(back, saved, "{text}");
        let mut again = ProgramRoutes::default();
        let n = &w.config.neighbors[0];
        for (a, source, text) in &back.routes {
            let r = crate::config::api_command::route_from_text(text).unwrap();
            again.restore(*a, source, &[r]);
        }
        for (_, source, text) in &back.announced {
            assert!(again.restore_announced(n, source, text), "{text}");
        }
        for m in &back.watchdogs {
            let Some(Command::Announce(r)) = super::super::journal::announced_command(&m.text)
            else {
                panic!("{}", m.text)
            };
            again.restore_member(m.addr, &m.source, &m.group, r[0].clone(), m.announced);
        }
        assert_eq!(
            again.routes_for(addr, &w.file),
            w.programs.routes_for(addr, &w.file)
        );
        assert!(!unicast(&again.routes_for(addr, &w.file)).contains(&"10.9.0.0/16".into()));
        assert_eq!(again.switch_watchdog("w", true, &[addr]), Some(1));
        assert!(unicast(&again.routes_for(addr, &w.file)).contains(&"10.9.0.0/16".into()));
        // The journal of the restored tables is the same text again.
        let j = again.journal();
        assert_eq!(j.announced.len(), 4);
    }
}
