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
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SourceRoutes {
    /// Plain unicast routes.
    pub routes: BTreeMap<Prefix, Arc<RouteAttributes>>,
    pub flows: BTreeMap<FlowRule, Arc<RouteAttributes>>,
    /// Labeled, VPN, multicast, ADD-PATH and IPv4-with-IPv6-next-hop routes (see
    /// `rib::other_nlri`), keyed as the file's are.
    pub others: BTreeMap<NlriKey, OtherRoute>,
    /// The API text (what followed `announce`) of the family routes and flow rules above
    /// that came from a command, by key: what the state file journals for them.
    pub texts: BTreeMap<NlriKey, Arc<str>>,
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
    pub fn insert(&mut self, r: &RouteConfig, interner: &mut AttributeInterner) {
        let attrs = interner.intern(&r.attributes);
        match r.other_key() {
            None => {
                if !self.others.is_empty() {
                    self.others.remove(&plain_key(r.prefix));
                }
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

    /// Adds (or replaces) a flow rule: with a path identifier among the others, keyed with
    /// it, as the file's are.
    pub fn insert_flow(&mut self, f: &crate::config::FlowConfig, attrs: Arc<RouteAttributes>) {
        match f.path_id {
            None => {
                self.flows.insert(f.rule.clone(), attrs);
            }
            Some(_) => {
                let key = NlriKey::flow_path(f.rule.clone(), f.path_id);
                let labels = Vec::new();
                self.others.insert(key, OtherRoute { labels, attrs });
            }
        }
    }

    /// Whether the flow rule (with its path identifier) is here.
    pub fn has_flow(&self, f: &crate::config::FlowConfig) -> bool {
        match f.path_id {
            None => self.flows.contains_key(&f.rule),
            Some(_) => self
                .others
                .contains_key(&NlriKey::flow_path(f.rule.clone(), f.path_id)),
        }
    }

    /// Removes the flow rule (with its path identifier); `true` when it was here.
    pub fn remove_flow(&mut self, f: &crate::config::FlowConfig) -> bool {
        match f.path_id {
            None => self.flows.remove(&f.rule).is_some(),
            Some(_) => self
                .others
                .remove(&NlriKey::flow_path(f.rule.clone(), f.path_id))
                .is_some(),
        }
    }

    /// Removes the route with `r`'s NLRI; `true` when there was one.
    pub fn remove(&mut self, r: &RouteConfig) -> bool {
        match r.other_key() {
            Some(key) if !same_nlri_as_plain(&key) => self.others.remove(&key).is_some(),
            // A plain prefix and the same prefix with an IPv6 next hop are one NLRI.
            _ => {
                let plain = self.routes.remove(&r.prefix).is_some();
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
