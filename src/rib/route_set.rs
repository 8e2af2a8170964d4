//! The routes one neighbor should have: unicast prefixes and FlowSpec rules, each sorted and
//! unique, each pointing at a shared attribute set. Two route sets diff exactly in one merge
//! walk per kind.

use std::collections::HashSet;
use std::sync::Arc;

use super::attributes::RouteAttributes;
use super::other_nlri::{NlriKey, Other, diff_others};
use crate::wire::family::{Afi, Family, Safi};
use crate::wire::flowspec::FlowRule;
use crate::wire::prefix::Prefix;

/// Hands out one `Arc` per distinct attribute set, so routes and neighbors share them. Sets
/// no route uses any more are forgotten as new ones come (a long-running helper that keeps
/// announcing new attributes does not grow it forever).
#[derive(Default)]
pub struct AttributeInterner {
    sets: HashSet<Arc<RouteAttributes>>,
    /// The set handed out last: routes written one after another mostly share attributes,
    /// and comparing with it is cheaper than hashing.
    last: Option<Arc<RouteAttributes>>,
    /// The number of sets at which unused ones are looked for next.
    next_sweep: usize,
}

/// The fewest sets worth a sweep for unused ones.
const MIN_SWEEP: usize = 1024;

impl AttributeInterner {
    pub fn intern(&mut self, attrs: &RouteAttributes) -> Arc<RouteAttributes> {
        if let Some(a) = self.known(attrs) {
            return a;
        }
        self.insert(Arc::new(attrs.clone()))
    }

    /// Like [`intern`](Self::intern), taking the set by value (no copy when it is new).
    pub fn intern_owned(&mut self, attrs: RouteAttributes) -> Arc<RouteAttributes> {
        if let Some(a) = self.known(&attrs) {
            return a;
        }
        self.insert(Arc::new(attrs))
    }

    fn known(&mut self, attrs: &RouteAttributes) -> Option<Arc<RouteAttributes>> {
        if let Some(last) = &self.last
            && **last == *attrs
        {
            return Some(last.clone());
        }
        let a = self.sets.get(attrs)?.clone();
        self.last = Some(a.clone());
        Some(a)
    }

    fn insert(&mut self, a: Arc<RouteAttributes>) -> Arc<RouteAttributes> {
        if self.sets.len() >= self.next_sweep.max(MIN_SWEEP) {
            self.forget_unused();
        }
        self.sets.insert(a.clone());
        self.last = Some(a.clone());
        a
    }

    /// Drops the sets only the interner holds. Amortized: the next sweep waits until the
    /// number of sets has doubled.
    pub fn forget_unused(&mut self) {
        self.last = None;
        self.sets.retain(|a| Arc::strong_count(a) > 1);
        self.next_sweep = self.sets.len() * 2;
    }

    pub fn len(&self) -> usize {
        self.sets.len()
    }

    pub fn is_empty(&self) -> bool {
        self.sets.is_empty()
    }
}

pub type Route = (Prefix, Arc<RouteAttributes>);
/// A FlowSpec rule and its attributes (actions are extended communities among them).
pub type Flow = (FlowRule, Arc<RouteAttributes>);

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RouteSet {
    /// Sorted by prefix; one entry per prefix. Shared with the configuration it came from
    /// and with every neighbor given the same table.
    routes: Arc<Vec<Route>>,
    /// Sorted by rule; one entry per rule.
    flows: Vec<Flow>,
    /// Labeled, VPN, multicast, add-path and extended-next-hop routes; sorted by key.
    others: Vec<Other>,
}

/// What changes between two route sets. A prefix or rule whose attributes changed is only
/// in `announce`/`announce_flows` (an implicit replace): never withdrawn and announced again.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RouteDiff {
    pub withdraw: Vec<Prefix>,
    pub announce: Vec<Route>,
    pub withdraw_flows: Vec<FlowRule>,
    pub announce_flows: Vec<Flow>,
    pub withdraw_others: Vec<NlriKey>,
    pub announce_others: Vec<Other>,
}

impl RouteDiff {
    pub fn is_empty(&self) -> bool {
        self.withdraw.is_empty()
            && self.announce.is_empty()
            && self.withdraw_flows.is_empty()
            && self.announce_flows.is_empty()
            && self.withdraw_others.is_empty()
            && self.announce_others.is_empty()
    }
}

/// Sorts by key, keeping the last entry given for a key.
fn sorted_unique<K: Ord + Clone, V>(mut entries: Vec<(K, V)>) -> Vec<(K, V)> {
    entries.reverse();
    entries.sort_by(|a, b| a.0.cmp(&b.0)); // stable: the last given comes first
    entries.dedup_by(|a, b| a.0 == b.0);
    entries
}

/// The merge walk of two sorted lists: keys only in `old` are withdrawn, keys only in `new`
/// or with other attributes are announced.
fn merge_diff<K: Ord + Clone>(
    old: &[(K, Arc<RouteAttributes>)],
    new: &[(K, Arc<RouteAttributes>)],
    withdraw: &mut Vec<K>,
    announce: &mut Vec<(K, Arc<RouteAttributes>)>,
) {
    let (mut a, mut b) = (old.iter().peekable(), new.iter().peekable());
    loop {
        match (a.peek(), b.peek()) {
            (None, None) => break,
            (Some((k, _)), None) => {
                withdraw.push(k.clone());
                a.next();
            }
            (None, Some(r)) => {
                announce.push((*r).clone());
                b.next();
            }
            (Some((ka, aa)), Some((kb, ab))) => {
                if ka < kb {
                    withdraw.push(ka.clone());
                    a.next();
                } else if kb < ka {
                    announce.push((kb.clone(), ab.clone()));
                    b.next();
                } else {
                    if !Arc::ptr_eq(aa, ab) && aa != ab {
                        announce.push((kb.clone(), ab.clone()));
                    }
                    a.next();
                    b.next();
                }
            }
        }
    }
}

impl RouteSet {
    /// Builds a set; when a prefix appears twice the last one wins (the config parser
    /// refuses duplicates, so this only matters for programmatic use).
    pub fn new(routes: Vec<Route>) -> RouteSet {
        RouteSet::with_flows(routes, Vec::new())
    }

    /// A set of unicast routes and FlowSpec rules (the same rule twice: the last wins).
    pub fn with_flows(routes: Vec<Route>, flows: Vec<Flow>) -> RouteSet {
        RouteSet {
            routes: Arc::new(sorted_unique(routes)),
            flows: sorted_unique(flows),
            others: Vec::new(),
        }
    }

    /// A set over a table of unicast routes already sorted by prefix and unique (a
    /// configuration's), shared rather than copied.
    pub fn with_shared_routes(routes: Arc<Vec<Route>>, flows: Vec<Flow>) -> RouteSet {
        debug_assert!(routes.windows(2).all(|w| w[0].0 < w[1].0));
        RouteSet {
            routes,
            flows: sorted_unique(flows),
            others: Vec::new(),
        }
    }

    /// The unicast table, to share it.
    pub fn shared_routes(&self) -> &Arc<Vec<Route>> {
        &self.routes
    }

    /// The same set with these non-unicast routes (the same key twice: the last wins).
    pub fn with_others(mut self, others: Vec<Other>) -> RouteSet {
        self.others = sorted_unique(others);
        self
    }

    /// The non-unicast routes, sorted by key.
    pub fn other_list(&self) -> &[Other] {
        &self.others
    }

    pub fn others(&self) -> impl Iterator<Item = &Other> {
        self.others.iter()
    }

    /// Unicast routes and flow rules.
    pub fn len(&self) -> usize {
        self.routes.len() + self.flows.len() + self.others.len()
    }

    pub fn is_empty(&self) -> bool {
        self.routes.is_empty() && self.flows.is_empty() && self.others.is_empty()
    }

    pub fn flows(&self) -> impl Iterator<Item = &Flow> {
        self.flows.iter()
    }

    /// The routes or rules of one family, as a set of their own (what a route refresh resends).
    pub fn family_subset(&self, family: Family) -> RouteSet {
        let flows = match family.safi {
            Safi::FlowSpec => self
                .flows
                .iter()
                .filter(|(r, _)| r.afi() == family.afi)
                .cloned()
                .collect(),
            _ => Vec::new(),
        };
        RouteSet {
            routes: Arc::new(self.of_family(family).cloned().collect()),
            flows,
            others: self
                .others
                .iter()
                .filter(|(k, _)| k.family == family)
                .cloned()
                .collect(),
        }
    }

    /// The unicast routes, sorted by prefix.
    pub fn routes(&self) -> &[Route] {
        &self.routes
    }

    /// The FlowSpec rules, sorted.
    pub fn flow_list(&self) -> &[Flow] {
        &self.flows
    }

    pub fn iter(&self) -> impl Iterator<Item = &Route> {
        self.routes.iter()
    }

    /// The unicast routes of one family (none for other SAFIs).
    pub fn of_family(&self, family: Family) -> impl Iterator<Item = &Route> {
        self.routes
            .iter()
            .filter(move |(p, _)| Family::new(p.afi(), Safi::Unicast) == family)
    }

    pub fn contains(&self, prefix: &Prefix) -> bool {
        self.routes.binary_search_by_key(prefix, |r| r.0).is_ok()
    }

    /// Counts per address family.
    pub fn count(&self, afi: Afi) -> usize {
        self.routes.iter().filter(|(p, _)| p.afi() == afi).count()
    }

    /// Everything in `self` as announcements (what a fresh session gets).
    pub fn as_announcements(&self) -> RouteDiff {
        RouteDiff {
            announce: self.routes.to_vec(),
            announce_flows: self.flows.clone(),
            announce_others: self.others.clone(),
            ..RouteDiff::default()
        }
    }

    /// What to send to go from `self` (what the peer has) to `next`.
    pub fn diff(&self, next: &RouteSet) -> RouteDiff {
        let mut d = RouteDiff::default();
        if !Arc::ptr_eq(&self.routes, &next.routes) {
            merge_diff(&self.routes, &next.routes, &mut d.withdraw, &mut d.announce);
        }
        merge_diff(
            &self.flows,
            &next.flows,
            &mut d.withdraw_flows,
            &mut d.announce_flows,
        );
        diff_others(
            &self.others,
            &next.others,
            &mut d.withdraw_others,
            &mut d.announce_others,
        );
        d
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rib::attributes::NextHop;

    fn attrs(med: u32) -> Arc<RouteAttributes> {
        let mut a = RouteAttributes::with_next_hop(NextHop::Address {
            global: "192.0.2.1".parse().unwrap(),
            link_local: None,
        });
        a.set(crate::wire::attribute::PathAttribute::Med(med));
        Arc::new(a)
    }

    #[test]
    fn the_interner_shares_sets_and_forgets_the_unused_ones() {
        let mut interner = AttributeInterner::default();
        let kept: Vec<Arc<RouteAttributes>> = (0..10)
            .map(|m| interner.intern_owned((*attrs(m)).clone()))
            .collect();
        // One copy per distinct set, whichever way it is asked for.
        assert!(Arc::ptr_eq(&kept[3], &interner.intern(&attrs(3))));
        assert!(Arc::ptr_eq(
            &kept[3],
            &interner.intern_owned((*attrs(3)).clone())
        ));
        // A helper announcing 100,000 sets, each soon replaced: the interner stays small.
        for m in 1000..101_000 {
            let _ = interner.intern(&attrs(m));
        }
        assert!(interner.len() <= 2 * MIN_SWEEP, "{}", interner.len());
        // The sets still in use were kept, and are still shared.
        for (m, a) in kept.iter().enumerate() {
            assert!(Arc::ptr_eq(a, &interner.intern(&attrs(m as u32))));
        }
    }

    fn p(s: &str) -> Prefix {
        let (a, l) = s.split_once('/').unwrap();
        Prefix::new(a.parse().unwrap(), l.parse().unwrap()).unwrap()
    }

    #[test]
    fn diff_withdraws_removed_announces_new_and_replaces_changed_without_withdraw() {
        let old = RouteSet::new(vec![
            (p("198.51.100.0/24"), attrs(1)),
            (p("198.51.100.7/32"), attrs(1)),
            (p("203.0.113.0/24"), attrs(1)),
        ]);
        let new = RouteSet::new(vec![
            (p("203.0.113.0/24"), attrs(1)), // same value, other Arc: no change
            (p("198.51.100.7/32"), attrs(2)),
            (p("2001:db8::/32"), attrs(1)),
        ]);
        let d = old.diff(&new);
        assert_eq!(d.withdraw, vec![p("198.51.100.0/24")]);
        let announced: Vec<Prefix> = d.announce.iter().map(|r| r.0).collect();
        assert_eq!(announced, vec![p("198.51.100.7/32"), p("2001:db8::/32")]);
        assert!(new.diff(&new).is_empty());
    }

    fn rule(port: u64) -> FlowRule {
        use crate::wire::flowspec::{FlowComponent, NumericOp};
        FlowRule::new(
            Afi::Ipv4,
            vec![FlowComponent::DestinationPort(vec![NumericOp::eq(port)])],
        )
        .unwrap()
    }

    #[test]
    fn flows_diff_like_prefixes_and_stay_out_of_unicast_families() {
        let old = RouteSet::with_flows(
            vec![(p("198.51.100.0/24"), attrs(1))],
            vec![
                (rule(53), attrs(1)),
                (rule(80), attrs(1)),
                (rule(123), attrs(1)),
            ],
        );
        let new = RouteSet::with_flows(
            vec![(p("198.51.100.0/24"), attrs(1))],
            vec![
                (rule(123), attrs(1)),
                (rule(80), attrs(2)),
                (rule(443), attrs(1)),
            ],
        );
        let d = old.diff(&new);
        assert!(d.withdraw.is_empty() && d.announce.is_empty());
        assert_eq!(d.withdraw_flows, vec![rule(53)]);
        let announced: Vec<FlowRule> = d.announce_flows.iter().map(|f| f.0.clone()).collect();
        assert_eq!(announced, vec![rule(80), rule(443)]);
        assert!(new.diff(&new).is_empty());
        assert_eq!(new.len(), 4);
        let flow4 = new.family_subset(Family::new(Afi::Ipv4, Safi::FlowSpec));
        assert_eq!((flow4.routes.len(), flow4.flows.len()), (0, 3));
        let unicast = new.family_subset(Family::IPV4_UNICAST);
        assert_eq!((unicast.routes.len(), unicast.flows.len()), (1, 0));
    }

    #[test]
    fn interner_shares_equal_sets() {
        let mut i = AttributeInterner::default();
        let a = i.intern(&attrs(5));
        let b = i.intern(&attrs(5));
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!(i.len(), 1);
    }
}
