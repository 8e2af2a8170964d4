//! One source's routes for one neighbor ([`SourceRoutes`], keyed as the file's routes are),
//! and the union of the file's route set with every source's ([`union`]).

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::api::Source;
use crate::config::RouteConfig;
use crate::rib::attributes::RouteAttributes;
use crate::rib::other_nlri::{NlriKey, OtherRoute};
use crate::rib::plain_table::PlainTable;
use crate::rib::route_set::{AttributeInterner, Route, RouteSet};
use crate::wire::flowspec::FlowRule;
use crate::wire::prefix::Prefix;

/// The routes one source gave one neighbor, of every kind a configured route may be.
#[derive(Clone, Debug, Default)]
pub struct SourceRoutes {
    /// Plain unicast routes (changed only through [`SourceRoutes::insert`] and
    /// [`SourceRoutes::remove`], which keep [`Published`] in step).
    routes: BTreeMap<Prefix, Arc<RouteAttributes>>,
    pub flows: BTreeMap<FlowRule, Arc<RouteAttributes>>,
    /// Labeled, VPN, multicast, ADD-PATH and IPv4-with-IPv6-next-hop routes (see
    /// `rib::other_nlri`), keyed as the file's are.
    pub others: BTreeMap<NlriKey, OtherRoute>,
    published: Published,
    /// The API text (what followed `announce`) of the family routes and flow rules above
    /// that came from a command, by key: what the state file journals for them.
    pub texts: BTreeMap<NlriKey, Arc<str>>,
}

/// The plain routes as a sorted table of shared views, kept for the union sent to the
/// neighbor: a helper that announces in prefix order (the usual flood) only appends, and
/// each flush then adds one view of the routes appended since the last, instead of copying
/// every route of the source into a new table (a million routes in 17 flushes were 8.5
/// million copies). The neighbor's diff skips the views both tables share, so it walks the
/// appended run only. Any other change (a route replaced, removed, or before the last)
/// rebuilds the table from the map at the next [`SourceRoutes::publish`].
#[derive(Clone, Debug, Default)]
struct Published {
    table: PlainTable,
    /// Routes inserted after `table`'s last prefix since it was made, in order.
    appended: Vec<Route>,
    /// A change that is not an append: the table is to be rebuilt.
    stale: bool,
}

/// Equal routes; how they are stored for the union does not matter.
impl PartialEq for SourceRoutes {
    fn eq(&self, other: &SourceRoutes) -> bool {
        self.routes == other.routes && self.flows == other.flows && self.others == other.others
    }
}

impl Eq for SourceRoutes {}

impl SourceRoutes {
    /// The plain unicast routes, by prefix.
    pub fn plain(&self) -> &BTreeMap<Prefix, Arc<RouteAttributes>> {
        &self.routes
    }

    /// Makes the published table equal to the plain routes (see [`Published`]).
    pub fn publish(&mut self) {
        let p = &mut self.published;
        if p.stale {
            let all: Vec<Route> = self.routes.iter().map(|(k, a)| (*k, a.clone())).collect();
            *p = Published {
                table: PlainTable::from(all),
                ..Published::default()
            };
        } else if !p.appended.is_empty() {
            let rows = Arc::new(std::mem::take(&mut p.appended));
            let len = p.table.len();
            // Past 1,024 views the splice copies the table into one vector again: a helper
            // appending a route per flush costs a copy per 1,024 flushes.
            p.table = p.table.spliced(len, len, rows);
        }
    }

    /// The plain routes as a shared table, when [`SourceRoutes::publish`] made it after the
    /// last change.
    pub fn published(&self) -> Option<&PlainTable> {
        let p = &self.published;
        (!p.stale && p.appended.is_empty()).then_some(&p.table)
    }

    /// Notes a plain route inserted with `attrs` (the map already holds it): appended when
    /// it sorts after every route, else the table is stale.
    fn note_insert(&mut self, prefix: Prefix, attrs: &Arc<RouteAttributes>) {
        let p = &mut self.published;
        if p.stale {
            return;
        }
        let last = p.appended.last().or_else(|| p.table.last()).map(|r| r.0);
        if last.is_none_or(|l| l < prefix) {
            p.appended.push((prefix, attrs.clone()));
        } else {
            p.stale = true;
            p.appended = Vec::new();
        }
    }

    fn note_removed(&mut self) {
        self.published.stale = true;
        self.published.appended = Vec::new();
    }

    pub fn is_empty(&self) -> bool {
        self.routes.is_empty() && self.flows.is_empty() && self.others.is_empty()
    }

    /// The number of routes and rules.
    pub fn len(&self) -> usize {
        self.routes.len() + self.flows.len() + self.others.len()
    }

    /// Adds (or replaces) one route under the key the file would give it.
    pub fn insert(&mut self, r: &RouteConfig, interner: &mut AttributeInterner) {
        let attrs = interner.intern(&r.attributes);
        match r.other_key() {
            None => {
                if !self.others.is_empty() {
                    self.others.remove(&plain_key(r.prefix));
                }
                self.note_insert(r.prefix, &attrs);
                self.routes.insert(r.prefix, attrs);
            }
            Some(key) => {
                if same_nlri_as_plain(&key) && self.routes.remove(&r.prefix).is_some() {
                    self.note_removed();
                }
                let labels = r.nlri().labels.clone();
                self.others.insert(key, OtherRoute { labels, attrs });
            }
        }
    }

    /// Removes the route with `r`'s NLRI; `true` when there was one.
    pub fn remove(&mut self, r: &RouteConfig) -> bool {
        match r.other_key() {
            Some(key) if !same_nlri_as_plain(&key) => self.others.remove(&key).is_some(),
            // A plain prefix and the same prefix with an IPv6 next hop are one NLRI.
            _ => {
                let plain = self.routes.remove(&r.prefix).is_some();
                if plain {
                    self.note_removed();
                }
                self.others.remove(&plain_key(r.prefix)).is_some() || plain
            }
        }
    }

    pub fn contains(&self, r: &RouteConfig) -> bool {
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
    NlriKey::plain(prefix)
}

/// Whether `key` names the same NLRI on the wire as the plain unicast prefix.
fn same_nlri_as_plain(key: &NlriKey) -> bool {
    key.is_plain()
}

/// Every source's routes for one neighbor.
pub type SourceTables = BTreeMap<Source, SourceRoutes>;

/// Whether the file's route set holds the NLRI of `r`.
pub fn file_has(file: &RouteSet, r: &RouteConfig) -> bool {
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
    let flows = Vec::new();
    let mut others: Vec<_> = file.other_list().to_vec();
    for s in api.values() {
        others.extend(s.flows.iter().map(|(r, a)| {
            let value = OtherRoute {
                labels: Vec::new(),
                attrs: a.clone(),
            };
            (NlriKey::flow(r.clone()), value)
        }));
        others.extend(s.others.iter().map(|(k, o)| (k.clone(), o.clone())));
    }
    let mut with_unicast = api.values().filter(|s| !s.routes.is_empty());
    let extra: Vec<Route> = match (with_unicast.next(), with_unicast.next()) {
        (None, _) => {
            return RouteSet::with_table(file.shared_routes().clone(), flows).with_others(others);
        }
        // One source (the usual case): its published table when it is up to date (a
        // neighbor with no file routes, or all of them on one side of the source's, takes
        // it as views: no copy), else its map, already sorted and unique.
        (Some(one), None) => {
            if let Some(table) = one.published() {
                let file_routes = file.routes();
                let (f, t) = (file_routes.first(), file_routes.last());
                let (a, b) = (table.first(), table.last());
                let joined = match (f, t, a, b) {
                    (None, ..) => Some(table.clone()),
                    (Some(_), Some(t), Some(a), _) if t.0 < a.0 => Some(file_routes.concat(table)),
                    (Some(f), _, _, Some(b)) if b.0 < f.0 => Some(table.concat(file_routes)),
                    _ => None,
                };
                if let Some(joined) = joined {
                    return RouteSet::with_table(joined, flows).with_others(others);
                }
            }
            one.routes.iter().map(|(p, a)| (*p, a.clone())).collect()
        }
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
    // A neighbor with no routes in the file (a helper gives them all): no merge, no copy.
    let table = match file.routes().is_empty() {
        true => extra,
        false => merge_sorted(file.routes(), &extra),
    };
    RouteSet::with_shared_routes(Arc::new(table), flows).with_others(others)
}

/// `file` and `extra` (each sorted, unique) merged; `extra` wins where both have a prefix.
fn merge_sorted(file: &PlainTable, extra: &[Route]) -> Vec<Route> {
    let mut out = Vec::with_capacity(file.len() + extra.len());
    let mut e = extra.iter().peekable();
    for r in file.iter() {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::api_command::route_from_text;

    fn route(i: u32, med: u32) -> RouteConfig {
        let a = 0x0a00_0000 + i;
        let text = format!(
            "{}/32 next-hop 192.0.2.1 med {med}",
            std::net::Ipv4Addr::from(a)
        );
        route_from_text(&text).unwrap()
    }

    /// The published table, after any mix of appends, inserts before the end, replaced
    /// attributes and removals, with or without a publish between them, is the map; a union
    /// taken from it equals one made by copying, and diffs from the previous union to exactly
    /// what changed.
    #[test]
    fn the_published_table_follows_every_change() {
        let mut interner = AttributeInterner::default();
        let file_routes = |text: &str| {
            let config = crate::config::parse_str(text, std::path::Path::new("t.conf")).unwrap();
            crate::route_sets::route_sets(&config).remove(0)
        };
        let head = "neighbor 127.0.0.1 { router-id 1.2.3.4; local-as 1; peer-as 1;";
        let files = [
            file_routes(&format!("{head} }}")),
            // Before every program route, after every one, and among them.
            file_routes(&format!(
                "{head} static {{ route 9.0.0.0/8 next-hop 192.0.2.1; }} }}"
            )),
            file_routes(&format!(
                "{head} static {{ route 11.0.0.0/8 next-hop 192.0.2.1; }} }}"
            )),
            file_routes(&format!(
                "{head} static {{ route 10.0.0.100/32 next-hop 192.0.2.1; }} }}"
            )),
        ];
        let mut seed = 12345u64;
        let mut next = move |m: u32| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((seed >> 33) as u32) % m
        };
        for file in &files {
            let mut s = SourceRoutes::default();
            let mut tables = SourceTables::new();
            let mut before = union(file, &tables);
            let mut top = 0;
            for step in 0..250 {
                match next(10) {
                    // Mostly appends, as a flood.
                    0..=5 => {
                        for _ in 0..next(50) {
                            top += 1 + next(3);
                            s.insert(&route(top, 0), &mut interner);
                        }
                    }
                    6 => s.insert(&route(next(top + 1), next(3)), &mut interner),
                    7 => {
                        s.remove(&route(next(top + 1), 0));
                    }
                    8 => s.insert(&route(top, 1 + next(3)), &mut interner),
                    _ => {}
                }
                if next(3) == 0 {
                    continue;
                }
                s.publish();
                let table = s.published().expect("published after publish()");
                let want: Vec<Route> = s.plain().iter().map(|(p, a)| (*p, a.clone())).collect();
                assert_eq!(
                    table.iter().cloned().collect::<Vec<_>>(),
                    want,
                    "step {step}"
                );
                tables.insert(Source::Control, s.clone());
                let after = union(file, &tables);
                let copied = {
                    let mut fresh = SourceRoutes::default();
                    for (p, a) in s.plain() {
                        fresh.routes.insert(*p, a.clone());
                    }
                    fresh.note_removed();
                    let mut t = SourceTables::new();
                    t.insert(Source::Control, fresh);
                    union(file, &t)
                };
                assert_eq!(after, copied, "step {step}");
                // The diff from the previous union announces and withdraws exactly what
                // changed, as one between copies does.
                let d = before.diff(&after);
                let want_d = RouteSet::new(before.iter().cloned().collect())
                    .diff(&RouteSet::new(after.iter().cloned().collect()));
                let keys = |d: &crate::rib::route_set::RouteDiff| {
                    let w: Vec<NlriKey> = d.withdraw.iter().map(|k| k.into_owned()).collect();
                    let a: Vec<Prefix> = d.announce.iter().map(|r| r.0).collect();
                    (w, a)
                };
                assert_eq!(keys(&d), keys(&want_d), "step {step}");
                before = after;
            }
        }
    }
}
