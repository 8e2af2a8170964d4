//! ExaBGP's watchdogs: routes tagged `watchdog NAME` (in the configuration or in a helper's
//! `announce route ... watchdog NAME`) form a group per neighbor, which `withdraw watchdog
//! NAME` withdraws and `announce watchdog NAME` announces again, without forgetting it. A
//! route tagged `withdraw` starts withdrawn.
//!
//! The state is per route, as in ExaBGP's outgoing RIB: a route added to a group later
//! starts as it is tagged, whatever the group's last command was. It lives beside the
//! program routes (a helper's routes stay its own: they are withdrawn from and put back into
//! its table), and the configuration's announced watchdog routes are the
//! [`Source::Watchdog`] table, so that the file's own routes stay out of reach of commands.
//!
//! It survives a session reset (the manager keeps it, the new session is sent what is
//! announced) and a reload: a route still in the same group keeps its state, a new one
//! starts as tagged (see docs/configuration.md, "Watchdogs").

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use log::info;

use super::program_routes::{ProgramRoutes, Target};
use super::source_routes::SourceRoutes;
use super::state_file::SavedMember;
use crate::api::Source;
use crate::config::RouteConfig;
use crate::config::model::WatchdogRoute;
use crate::rib::other_nlri::NlriKey;
use crate::wire::prefix::Prefix;

/// A route's NLRI, as the program tables tell routes apart.
type RouteKey = (Prefix, Option<NlriKey>);

fn key(r: &RouteConfig) -> RouteKey {
    (r.prefix, r.other_key())
}

/// A group's route as `announce` takes it (`route PREFIX ...`), for the state file.
fn member_text(r: &RouteConfig) -> String {
    let text = match r.other_key() {
        None => format!("{} {}", r.prefix, super::status::describe(&r.attributes)),
        Some(k) => super::program_routes::route_text(&k, &r.nlri().labels, &r.attributes),
    };
    format!("route {text}")
}

/// One route of a group and whether it is announced now.
#[derive(Clone, Debug)]
struct Member {
    route: RouteConfig,
    announced: bool,
}

/// The routes of one group on one neighbor, per source.
type Group = BTreeMap<Source, BTreeMap<RouteKey, Member>>;

/// How many unknown watchdog names are logged (once each): a helper toggling names that
/// no route has yet (ExaBGP's own example does) must not fill the log.
const UNKNOWN_NAMES_LOGGED: usize = 64;

/// Every neighbor's watchdog groups.
#[derive(Default)]
pub struct Watchdogs {
    groups: BTreeMap<IpAddr, BTreeMap<String, Group>>,
    unknown_logged: BTreeSet<String>,
}

impl Watchdogs {
    fn forget(&mut self, keep: impl Fn(IpAddr, &Source) -> bool) {
        for (addr, groups) in self.groups.iter_mut() {
            for group in groups.values_mut() {
                group.retain(|s, _| keep(*addr, s));
            }
            groups.retain(|_, g| !g.is_empty());
        }
        self.groups.retain(|_, g| !g.is_empty());
    }

    /// Removes `source`'s membership of the routes with `routes`' NLRI on `addr`.
    fn untag(&mut self, addr: IpAddr, source: &Source, keys: &[RouteKey]) {
        let Some(groups) = self.groups.get_mut(&addr) else {
            return;
        };
        for group in groups.values_mut() {
            if let Some(members) = group.get_mut(source) {
                for k in keys {
                    members.remove(k);
                }
                if members.is_empty() {
                    group.remove(source);
                }
            }
        }
        groups.retain(|_, g| !g.is_empty());
    }
}

impl ProgramRoutes {
    /// The configuration's watchdog routes of a neighbor (at start and at each reload): a
    /// route already in the same group keeps its state, a new one starts as tagged.
    pub fn configure_watchdogs(&mut self, addr: IpAddr, routes: &[WatchdogRoute]) {
        let old = self.watchdogs.groups.remove(&addr).unwrap_or_default();
        let mut groups: BTreeMap<String, Group> = old
            .iter()
            .map(|(name, g)| {
                let mut g = g.clone();
                g.remove(&Source::Watchdog);
                (name.clone(), g)
            })
            .collect();
        for w in routes {
            let k = key(&w.route);
            let before = old
                .get(&w.name)
                .and_then(|g| g.get(&Source::Watchdog))
                .and_then(|m| m.get(&k))
                .map(|m| m.announced);
            let member = Member {
                route: w.route.clone(),
                announced: before.unwrap_or(!w.withdraw),
            };
            groups
                .entry(w.name.clone())
                .or_default()
                .entry(Source::Watchdog)
                .or_default()
                .insert(k, member);
        }
        groups.retain(|_, g| !g.is_empty());
        if !groups.is_empty() {
            self.watchdogs.groups.insert(addr, groups);
        }
        self.sync_configured(addr);
    }

    /// Makes the [`Source::Watchdog`] table of `addr` what its announced configured members
    /// are (sent at the next flush when it changed).
    fn sync_configured(&mut self, addr: IpAddr) {
        let mut table = SourceRoutes::default();
        if let Some(groups) = self.watchdogs.groups.get(&addr) {
            for group in groups.values() {
                for m in group
                    .get(&Source::Watchdog)
                    .into_iter()
                    .flat_map(|m| m.values())
                {
                    if m.announced {
                        table.insert(&m.route, &mut self.interner);
                    }
                }
            }
        }
        let sources = self.tables.entry(addr).or_default();
        let changed = sources
            .get(&Source::Watchdog)
            .map_or(!table.is_empty(), |t| *t != table);
        if table.is_empty() {
            sources.remove(&Source::Watchdog);
        } else {
            sources.insert(Source::Watchdog, table);
        }
        if sources.is_empty() {
            self.tables.remove(&addr);
        }
        if changed {
            self.dirty.insert(addr);
        }
    }

    /// Records what an `announce route` or `withdraw route` of `source` does to watchdog
    /// groups on `targets`: the routes leave any group of that source they were in, and join
    /// `tag`'s group (`(name, starts withdrawn)`) when given. The caller announces them when
    /// the tag does not say `withdraw`.
    pub fn tag_routes(
        &mut self,
        source: &Source,
        routes: &[RouteConfig],
        tag: Option<(&str, bool)>,
        targets: &[Target],
    ) {
        // Nothing tagged and nothing to tag (a helper's plain flood): no key per route.
        if tag.is_none() && self.watchdogs.groups.is_empty() {
            return;
        }
        let keys: Vec<RouteKey> = routes.iter().map(key).collect();
        for t in targets {
            let addr = t.config.peer_address;
            self.watchdogs.untag(addr, source, &keys);
            let Some((name, withdraw)) = tag else {
                continue;
            };
            // Nothing may be sent, but the state file must learn of the group's new route.
            self.dirty.insert(addr);
            let members = self
                .watchdogs
                .groups
                .entry(addr)
                .or_default()
                .entry(name.to_string())
                .or_default()
                .entry(source.clone())
                .or_default();
            for r in routes {
                let member = Member {
                    route: r.clone(),
                    announced: !withdraw,
                };
                members.insert(key(r), member);
            }
        }
    }

    /// `announce watchdog NAME` (`announce` true) or `withdraw watchdog NAME` on `addrs`:
    /// every route of the group that is not in that state changes. Returns how many did;
    /// `None` when no neighbor of `addrs` has a group of that name.
    pub fn switch_watchdog(
        &mut self,
        name: &str,
        announce: bool,
        addrs: &[IpAddr],
    ) -> Option<usize> {
        let mut known = false;
        let mut changed = 0;
        for &addr in addrs {
            let Some(group) = self
                .watchdogs
                .groups
                .get_mut(&addr)
                .and_then(|g| g.get_mut(name))
            else {
                continue;
            };
            known = true;
            let mut configured = false;
            for (source, members) in group.iter_mut() {
                for m in members.values_mut().filter(|m| m.announced != announce) {
                    m.announced = announce;
                    changed += 1;
                    if *source == Source::Watchdog {
                        configured = true;
                        continue;
                    }
                    let sources = self.tables.entry(addr).or_default();
                    if announce {
                        sources
                            .entry(source.clone())
                            .or_default()
                            .insert(&m.route, &mut self.interner);
                    } else if let Some(s) = sources.get_mut(source) {
                        s.remove(&m.route);
                    }
                    self.dirty.insert(addr);
                }
            }
            if configured {
                self.sync_configured(addr);
            }
        }
        self.prune();
        if !known
            && self.watchdogs.unknown_logged.len() < UNKNOWN_NAMES_LOGGED
            && self.watchdogs.unknown_logged.insert(name.to_string())
        {
            info!(
                "{} watchdog {name}: no route of the selected neighbors has this watchdog (yet); nothing changed",
                if announce { "announce" } else { "withdraw" }
            );
        }
        known.then_some(changed)
    }

    /// Every group's routes with their state, for the state file (the configuration's
    /// under [`Source::Watchdog`], a replayed helper's under the helper).
    pub(super) fn journal_watchdogs(&self) -> Vec<SavedMember> {
        let mut out = Vec::new();
        for (addr, groups) in &self.watchdogs.groups {
            for (group, sources) in groups {
                for (source, members) in sources {
                    let source = match source {
                        Source::Replayed(inner) => (**inner).clone(),
                        Source::Healthcheck(_) => continue,
                        s => s.clone(),
                    };
                    for m in members.values() {
                        out.push(SavedMember {
                            addr: *addr,
                            source: source.clone(),
                            group: group.clone(),
                            announced: m.announced,
                            text: member_text(&m.route),
                        });
                    }
                }
            }
        }
        out
    }

    /// A group's route read back from the state file (at start, before the configuration's
    /// groups are set up, which then keep the state of their routes found here). An
    /// announced one of a program goes into its table, a withdrawn one waits for `announce
    /// watchdog GROUP`.
    pub(super) fn restore_member(
        &mut self,
        addr: IpAddr,
        source: &Source,
        group: &str,
        route: RouteConfig,
        announced: bool,
    ) {
        if announced && *source != Source::Watchdog {
            self.restore(addr, source, std::slice::from_ref(&route));
        }
        let member = Member { route, announced };
        self.watchdogs
            .groups
            .entry(addr)
            .or_default()
            .entry(group.to_string())
            .or_default()
            .entry(source.clone())
            .or_default()
            .insert(key(&member.route), member);
    }

    /// Of `routes`, which a helper tags with `group` on `targets` while its routes from the
    /// state file are still replayed: those the file has withdrawn in that group stay
    /// withdrawn (`true`), until `announce watchdog GROUP`, so a restart never brings back
    /// a route a watchdog had withdrawn.
    pub fn withdrawn_by_replay(
        &self,
        source: &Source,
        group: &str,
        route: &RouteConfig,
        targets: &[Target],
    ) -> bool {
        let replayed = Source::Replayed(Box::new(source.clone()));
        let k = key(route);
        targets.iter().any(|t| {
            self.watchdogs
                .groups
                .get(&t.config.peer_address)
                .and_then(|g| g.get(group))
                .and_then(|g| g.get(&replayed))
                .and_then(|m| m.get(&k))
                .is_some_and(|m| !m.announced)
        })
    }

    /// Forgets the groups' routes of `source` (its routes were dropped).
    pub(super) fn forget_watchdog_source(&mut self, source: &Source) {
        self.watchdogs.forget(|_, s| s != source);
    }

    /// Forgets a removed neighbor's groups.
    pub(super) fn forget_watchdog_neighbor(&mut self, addr: IpAddr) {
        self.watchdogs.groups.remove(&addr);
    }

    /// Keeps, of `addr`'s groups, the routes of the sources `keep` says.
    pub(super) fn retain_watchdog_sources(&mut self, addr: IpAddr, keep: impl Fn(&Source) -> bool) {
        self.watchdogs.forget(|a, s| a != addr || keep(s));
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::config::parse_str;
    use crate::rib::route_set::RouteSet;

    fn config(text: &str) -> crate::config::Config {
        parse_str(text, std::path::Path::new("t.conf")).unwrap()
    }

    fn announced(p: &ProgramRoutes, addr: IpAddr, file: &Arc<RouteSet>) -> Vec<String> {
        let set = p.routes_for(addr, file);
        set.routes().iter().map(|(p, _)| p.to_string()).collect()
    }

    #[test]
    fn configured_groups_switch_and_keep_their_state_across_a_reload() {
        let c = config(
            "neighbor 127.0.0.1 { router-id 10.0.0.1; local-as 1; peer-as 1; static {\n route 10.0.0.0/8 next-hop 192.0.2.1;\n route 10.1.0.0/16 next-hop 192.0.2.1 watchdog dnsr withdraw;\n route 10.2.0.0/16 next-hop 192.0.2.1 watchdog dnsr;\n route 10.3.0.0/16 next-hop 192.0.2.1 watchdog other withdraw; } }",
        );
        let n = &c.neighbors[0];
        let addr = n.peer_address;
        let file = crate::route_sets::route_sets(&c).remove(0);
        let mut p = ProgramRoutes::default();
        p.configure_watchdogs(addr, &n.routes.watchdog);
        assert_eq!(announced(&p, addr, &file), ["10.0.0.0/8", "10.2.0.0/16"]);
        assert_eq!(p.switch_watchdog("dnsr", true, &[addr]), Some(1));
        assert_eq!(
            announced(&p, addr, &file),
            ["10.0.0.0/8", "10.1.0.0/16", "10.2.0.0/16"]
        );
        assert_eq!(p.switch_watchdog("dnsr", true, &[addr]), Some(0));
        assert_eq!(p.switch_watchdog("dnsr", false, &[addr]), Some(2));
        assert_eq!(announced(&p, addr, &file), ["10.0.0.0/8"]);
        assert_eq!(p.switch_watchdog("nosuch", true, &[addr]), None);
        // A reload with the same routes keeps the group withdrawn; a new route starts as
        // tagged.
        let mut again = n.routes.watchdog.clone();
        let mut extra = again[0].clone();
        extra.route.prefix =
            crate::wire::prefix::Prefix::new("10.4.0.0".parse().unwrap(), 16).unwrap();
        extra.withdraw = false;
        again.push(extra);
        p.configure_watchdogs(addr, &again);
        assert_eq!(announced(&p, addr, &file), ["10.0.0.0/8", "10.4.0.0/16"]);
        p.configure_watchdogs(addr, &[]);
        assert_eq!(announced(&p, addr, &file), ["10.0.0.0/8"]);
        assert_eq!(p.switch_watchdog("dnsr", true, &[addr]), None);
    }

    #[test]
    fn a_helpers_tagged_routes_stay_its_own_and_go_with_it() {
        let c = config("neighbor 127.0.0.1 { router-id 10.0.0.1; local-as 1; peer-as 1; }");
        let n = &c.neighbors[0];
        let addr = n.peer_address;
        let file = crate::route_sets::route_sets(&c).remove(0);
        let target = Target {
            config: n,
            file: &file,
        };
        let helper = Source::Process("h".into());
        let routes =
            crate::config::api_command::routes_from_text("10.9.0.0/16 next-hop 192.0.2.1").unwrap();
        let mut p = ProgramRoutes::default();
        p.tag_routes(&helper, &routes, Some(("w", true)), &[target]);
        assert!(announced(&p, addr, &file).is_empty());
        assert_eq!(p.switch_watchdog("w", true, &[addr]), Some(1));
        assert_eq!(announced(&p, addr, &file), ["10.9.0.0/16"]);
        // Its own withdrawal leaves it out of the group: the group cannot bring it back.
        p.withdraw(&helper, &routes, &[target]).unwrap();
        assert!(announced(&p, addr, &file).is_empty());
        assert_eq!(p.switch_watchdog("w", true, &[addr]), None);
        // Tagged again, then the helper goes: nothing is left to announce.
        p.tag_routes(&helper, &routes, Some(("w", false)), &[target]);
        p.announce(&helper, &routes, &[target]).unwrap();
        p.drop_source(&helper);
        assert!(announced(&p, addr, &file).is_empty());
        assert_eq!(p.switch_watchdog("w", true, &[addr]), None);
    }
}
