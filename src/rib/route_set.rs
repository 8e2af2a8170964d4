//! The routes one neighbor should have: prefixes sorted and unique, each pointing at a shared
//! attribute set. Two route sets diff exactly in one merge walk.

use std::collections::HashSet;
use std::sync::Arc;

use super::attributes::RouteAttributes;
use crate::wire::family::{Afi, Family};
use crate::wire::prefix::Prefix;

/// Hands out one `Arc` per distinct attribute set, so routes and neighbors share them.
#[derive(Default)]
pub struct AttributeInterner {
    sets: HashSet<Arc<RouteAttributes>>,
}

impl AttributeInterner {
    pub fn intern(&mut self, attrs: &RouteAttributes) -> Arc<RouteAttributes> {
        if let Some(a) = self.sets.get(attrs) {
            return a.clone();
        }
        let a = Arc::new(attrs.clone());
        self.sets.insert(a.clone());
        a
    }

    pub fn len(&self) -> usize {
        self.sets.len()
    }

    pub fn is_empty(&self) -> bool {
        self.sets.is_empty()
    }
}

pub type Route = (Prefix, Arc<RouteAttributes>);

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RouteSet {
    /// Sorted by prefix; one entry per prefix.
    routes: Vec<Route>,
}

/// What changes between two route sets. A prefix whose attributes changed is only in
/// `announce` (an implicit replace): never withdrawn and announced again.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RouteDiff {
    pub withdraw: Vec<Prefix>,
    pub announce: Vec<Route>,
}

impl RouteDiff {
    pub fn is_empty(&self) -> bool {
        self.withdraw.is_empty() && self.announce.is_empty()
    }
}

impl RouteSet {
    /// Builds a set; when a prefix appears twice the last one wins (the config parser
    /// refuses duplicates, so this only matters for programmatic use).
    pub fn new(mut routes: Vec<Route>) -> RouteSet {
        routes.reverse();
        routes.sort_by_key(|r| r.0); // stable: the last given comes first
        routes.dedup_by_key(|r| r.0);
        RouteSet { routes }
    }

    pub fn len(&self) -> usize {
        self.routes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.routes.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Route> {
        self.routes.iter()
    }

    /// The routes of one family (unicast only for now).
    pub fn of_family(&self, family: Family) -> impl Iterator<Item = &Route> {
        self.routes
            .iter()
            .filter(move |(p, _)| Family::new(p.afi(), family.safi) == family)
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
            withdraw: Vec::new(),
            announce: self.routes.clone(),
        }
    }

    /// What to send to go from `self` (what the peer has) to `next`.
    pub fn diff(&self, next: &RouteSet) -> RouteDiff {
        let mut d = RouteDiff::default();
        let (mut a, mut b) = (self.routes.iter().peekable(), next.routes.iter().peekable());
        loop {
            match (a.peek(), b.peek()) {
                (None, None) => break,
                (Some((p, _)), None) => {
                    d.withdraw.push(*p);
                    a.next();
                }
                (None, Some(r)) => {
                    d.announce.push((*r).clone());
                    b.next();
                }
                (Some((pa, aa)), Some((pb, ab))) => {
                    if pa < pb {
                        d.withdraw.push(*pa);
                        a.next();
                    } else if pb < pa {
                        d.announce.push(((*pb), ab.clone()));
                        b.next();
                    } else {
                        if !Arc::ptr_eq(aa, ab) && aa != ab {
                            d.announce.push((*pb, ab.clone()));
                        }
                        a.next();
                        b.next();
                    }
                }
            }
        }
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
        a.med = Some(med);
        Arc::new(a)
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

    #[test]
    fn interner_shares_equal_sets() {
        let mut i = AttributeInterner::default();
        let a = i.intern(&attrs(5));
        let b = i.intern(&attrs(5));
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!(i.len(), 1);
    }
}
