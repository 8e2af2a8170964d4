//! The routes one neighbor should have, keyed by [`NlriKey`] for every family, each pointing
//! at a shared attribute set. Two route sets diff exactly in one merge walk.

use std::collections::HashSet;
use std::sync::Arc;

use std::borrow::Cow;

use super::attributes::RouteAttributes;
use super::key::{Entry, KeyRef, NlriKey, RouteValue};
use super::plain_table::PlainTable;
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
/// A keyed route.
pub type Keyed = (NlriKey, RouteValue);

/// The routes one neighbor should have: one sorted collection of (key, route) over every
/// family. Plain unicast prefixes, the million-route case, are stored apart as a shared
/// table of 32-octet entries (the configuration's own, shared by every neighbor given it);
/// that is a storage detail: [`entries`](Self::entries) walks both in key order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RouteSet {
    /// Plain unicast keys, sorted by prefix (the keys' order); one entry per prefix.
    routes: PlainTable,
    /// Every other key, sorted; one entry per key.
    keyed: Vec<Keyed>,
}

/// Where a key is stored: its position in the plain unicast table, or [`KEYED`] and its
/// position among the other keys. Four octets per route, for the packer's groups.
pub type Slot = u32;
/// The bit of a [`Slot`] that says "among the other keys".
pub const KEYED: Slot = 1 << 31;

/// Routes that go out alike (see [`RouteSet::stretches`]): `len` routes stored at
/// consecutive slots from `first`, the first of them `head`.
#[derive(Clone, Copy, Debug)]
pub struct Stretch<'a> {
    pub first: Slot,
    pub len: u32,
    pub head: Stored<'a>,
}

/// Where a stretch of a set's routes is stored (see [`RouteSet::runs`]).
enum Run {
    /// These positions of the plain unicast table.
    Plain(std::ops::Range<usize>),
    /// This position among the other keys.
    Keyed(usize),
}

/// One route where a set stores it.
#[derive(Clone, Copy, Debug)]
pub struct Stored<'a> {
    pub key: KeyRef<'a>,
    pub labels: &'a [u32],
    pub attrs: &'a Arc<RouteAttributes>,
}

/// The keys a diff withdraws, stored like a route set's.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Withdrawals {
    plain: Vec<Prefix>,
    keyed: Vec<NlriKey>,
}

impl Withdrawals {
    pub fn len(&self) -> usize {
        self.plain.len() + self.keyed.len()
    }

    pub fn is_empty(&self) -> bool {
        self.plain.is_empty() && self.keyed.is_empty()
    }

    /// Every key, in order.
    pub fn iter(&self) -> impl Iterator<Item = Cow<'_, NlriKey>> {
        self.slots().map(|(_, k)| k)
    }

    /// Every key in order, with where it is stored.
    pub fn slots(&self) -> impl Iterator<Item = (Slot, Cow<'_, NlriKey>)> {
        merge_by_key(
            (0..).zip(self.plain.iter().map(|p| Cow::Owned(NlriKey::plain(*p)))),
            (KEYED..).zip(self.keyed.iter().map(Cow::Borrowed)),
            |(_, k)| k,
        )
    }

    /// The key stored at `slot` (one [`slots`](Self::slots) gave).
    pub fn key(&self, slot: Slot) -> Option<Cow<'_, NlriKey>> {
        if slot & KEYED == 0 {
            let p = self.plain.get(slot as usize)?;
            Some(Cow::Owned(NlriKey::plain(*p)))
        } else {
            self.keyed.get((slot & !KEYED) as usize).map(Cow::Borrowed)
        }
    }

    /// Adds `key` (kept sorted by the caller's order of pushes: see [`RouteSet::diff`]).
    pub fn push(&mut self, key: NlriKey) {
        match key.prefix() {
            Some(p) if key.is_plain() => self.plain.push(p),
            _ => self.keyed.push(key),
        }
    }
}

/// What changes between two route sets: keys to withdraw, routes to announce. A key whose
/// route changed is only announced (an implicit replace): never withdrawn and announced again.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RouteDiff {
    pub withdraw: Withdrawals,
    pub announce: RouteSet,
}

impl RouteDiff {
    /// A diff that withdraws `withdraw` and announces `announce`.
    pub fn new(withdraw: Vec<NlriKey>, announce: RouteSet) -> RouteDiff {
        let mut w = Withdrawals::default();
        let mut withdraw = withdraw;
        withdraw.sort();
        withdraw.dedup();
        withdraw.into_iter().for_each(|k| w.push(k));
        RouteDiff {
            withdraw: w,
            announce,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.withdraw.is_empty() && self.announce.is_empty()
    }
}

/// Sorts by key, keeping the last entry given for a key.
fn sorted_unique<K: Ord + Clone, V>(mut entries: Vec<(K, V)>) -> Vec<(K, V)> {
    // Given in order with no key twice (a generated table): as it is. The stable sort
    // below would allocate half the table again as scratch (16 MB for 1M routes).
    if entries.windows(2).all(|w| w[0].0 < w[1].0) {
        return entries;
    }
    entries.reverse();
    entries.sort_by(|a, b| a.0.cmp(&b.0)); // stable: the last given comes first
    entries.dedup_by(|a, b| a.0 == b.0);
    entries
}

/// Merges two iterators sorted by `key` into one sorted iterator.
fn merge_by_key<T, K: Ord + ?Sized>(
    a: impl Iterator<Item = T>,
    b: impl Iterator<Item = T>,
    key: impl Fn(&T) -> &K,
) -> impl Iterator<Item = T> {
    let (mut a, mut b) = (a.peekable(), b.peekable());
    std::iter::from_fn(move || match (a.peek(), b.peek()) {
        (Some(x), Some(y)) => {
            if key(x) <= key(y) {
                a.next()
            } else {
                b.next()
            }
        }
        (Some(_), None) => a.next(),
        (None, _) => b.next(),
    })
}

/// The merge walk of two sorted lists: `change(true, x)` for a key only in `old` (to
/// withdraw), `change(false, y)` for a key only in `new` or with another value (to announce).
fn merge_diff<K: Ord, V>(
    old: &[(K, V)],
    new: &[(K, V)],
    same: impl Fn(&V, &V) -> bool,
    mut change: impl FnMut(bool, &(K, V)),
) {
    let (mut a, mut b) = (old.iter().peekable(), new.iter().peekable());
    loop {
        match (a.peek(), b.peek()) {
            (None, None) => break,
            (Some(x), None) => {
                change(true, x);
                a.next();
            }
            (None, Some(y)) => {
                change(false, y);
                b.next();
            }
            (Some(x), Some(y)) => {
                if x.0 < y.0 {
                    change(true, x);
                    a.next();
                } else if y.0 < x.0 {
                    change(false, y);
                    b.next();
                } else {
                    if !same(&x.1, &y.1) {
                        change(false, y);
                    }
                    a.next();
                    b.next();
                }
            }
        }
    }
}

impl RouteSet {
    /// Builds a set of plain unicast routes; when a prefix appears twice the last one wins
    /// (the config parser refuses duplicates, so this only matters for programmatic use).
    pub fn new(routes: Vec<Route>) -> RouteSet {
        RouteSet::with_flows(routes, Vec::new())
    }

    /// A set of unicast routes and FlowSpec rules (the same rule twice: the last wins).
    pub fn with_flows(routes: Vec<Route>, flows: Vec<Flow>) -> RouteSet {
        RouteSet::with_shared_routes(Arc::new(sorted_unique(routes)), flows)
    }

    /// A set over a table of unicast routes already sorted by prefix and unique (a
    /// configuration's), shared rather than copied.
    pub fn with_shared_routes(routes: Arc<Vec<Route>>, flows: Vec<Flow>) -> RouteSet {
        debug_assert!(routes.windows(2).all(|w| w[0].0 < w[1].0));
        RouteSet::with_table(PlainTable::from(routes), flows)
    }

    /// A set over a plain unicast table (another set's, shared).
    pub fn with_table(routes: PlainTable, flows: Vec<Flow>) -> RouteSet {
        let keyed = flows
            .into_iter()
            .map(|(rule, attrs)| {
                let value = RouteValue {
                    labels: Vec::new(),
                    attrs,
                };
                (NlriKey::flow(rule), value)
            })
            .collect();
        RouteSet {
            routes,
            keyed: sorted_unique(keyed),
        }
    }

    /// The plain unicast table, to share it.
    pub fn shared_routes(&self) -> &PlainTable {
        &self.routes
    }

    /// The same set with these keyed routes added (the same key twice: the last wins).
    /// This set with its plain unicast routes replaced by `routes` (sorted, one per
    /// prefix): a reload that parsed only the changed files of a table.
    pub fn with_plain_routes(&self, routes: PlainTable) -> RouteSet {
        RouteSet {
            routes,
            keyed: self.keyed.clone(),
        }
    }

    pub fn with_others(mut self, others: Vec<Keyed>) -> RouteSet {
        let mut keyed = std::mem::take(&mut self.keyed);
        keyed.extend(others);
        self.keyed = sorted_unique(keyed);
        self
    }

    /// The keyed routes (every key but the plain unicast table's), sorted by key.
    pub fn other_list(&self) -> &[Keyed] {
        &self.keyed
    }

    /// The keyed routes that are not FlowSpec rules.
    pub fn others(&self) -> impl Iterator<Item = &Keyed> {
        self.keyed.iter().filter(|(k, _)| k.flow_rule().is_none())
    }

    /// Every route, in key order: the one interface to the set's contents.
    pub fn entries(&self) -> impl Iterator<Item = Entry<'_>> {
        self.slots().map(|(_, e)| Entry {
            key: e.key.key(),
            labels: e.labels,
            attrs: e.attrs,
        })
    }

    /// Every route in key order, with where it is stored; the key is built only on demand.
    pub fn slots(&self) -> impl Iterator<Item = (Slot, Stored<'_>)> {
        self.runs().flat_map(move |run| {
            let (plain, keyed) = match run {
                Run::Plain(r) => (r, None),
                Run::Keyed(j) => (0..0, Some(j)),
            };
            let plain = plain.filter_map(move |i| Some((i as Slot, self.plain_at(i)?)));
            let keyed = keyed.map(move |j| (KEYED | j as Slot, self.keyed_at(j)));
            plain.chain(keyed)
        })
    }

    /// Every route in key order, in stretches of routes that go out alike: consecutive plain
    /// unicast routes of one address family sharing one attribute set (distinct prefixes,
    /// no RD, labels or path identifier) make one stretch; any other route is a stretch of
    /// its own. What packing a table of a million routes for each of many sessions walks:
    /// a decision made for a stretch's first route holds for the rest of it.
    pub fn stretches(&self) -> impl Iterator<Item = Stretch<'_>> {
        self.runs().flat_map(move |run| {
            let (mut plain, keyed) = match run {
                Run::Plain(r) => (r, None),
                Run::Keyed(j) => (0..0, Some(j)),
            };
            let plain = std::iter::from_fn(move || {
                let i = plain.next()?;
                let (p, attrs) = self.routes.get(i)?;
                let alike = self
                    .routes
                    .range(plain.start, plain.end)
                    .take_while(|(q, a)| q.afi() == p.afi() && Arc::ptr_eq(a, attrs))
                    .count();
                plain.start += alike;
                Some(Stretch {
                    first: i as Slot,
                    len: 1 + alike as u32,
                    head: self.plain_at(i)?,
                })
            });
            let keyed = keyed.map(move |j| Stretch {
                first: KEYED | j as Slot,
                len: 1,
                head: self.keyed_at(j),
            });
            plain.chain(keyed)
        })
    }

    /// The two storages merged in key order: runs of the plain unicast table between the
    /// keyed routes (one run for a set of plain unicast routes only). A run ends where the
    /// next keyed route sorts, found by binary search.
    fn runs(&self) -> impl Iterator<Item = Run> + '_ {
        let (mut i, mut j) = (0, 0);
        std::iter::from_fn(move || {
            // The plain routes before this keyed one all come after the previous keyed one.
            let n = match self.keyed.get(j) {
                Some((k, _)) => self
                    .routes
                    .partition_point(|(p, _)| KeyRef::Plain(*p) < KeyRef::Keyed(k))
                    .saturating_sub(i),
                None => self.routes.len().saturating_sub(i),
            };
            if n > 0 {
                i += n;
                Some(Run::Plain(i - n..i))
            } else if j < self.keyed.len() {
                j += 1;
                Some(Run::Keyed(j - 1))
            } else {
                None
            }
        })
    }

    fn plain_at(&self, i: usize) -> Option<Stored<'_>> {
        let (p, attrs) = self.routes.get(i)?;
        Some(Stored {
            key: KeyRef::Plain(*p),
            labels: &[],
            attrs,
        })
    }

    fn keyed_at(&self, j: usize) -> Stored<'_> {
        let (k, v) = &self.keyed[j];
        Stored {
            key: KeyRef::Keyed(k),
            labels: &v.labels,
            attrs: &v.attrs,
        }
    }

    /// The route stored at `slot` (one [`slots`](Self::slots) gave).
    pub fn stored(&self, slot: Slot) -> Option<Stored<'_>> {
        if slot & KEYED == 0 {
            let i = slot as usize;
            self.plain_at(i)
        } else {
            let j = (slot & !KEYED) as usize;
            (j < self.keyed.len()).then(|| self.keyed_at(j))
        }
    }

    /// Appends the NLRI of the route stored at `slot` as announced (see [`NlriKey::emit`]);
    /// nothing for a slot the set does not have. The plain table's prefix is read in place:
    /// the packer calls this once per route of every session's table.
    pub fn emit(&self, slot: Slot, add_path: bool, out: &mut Vec<u8>) {
        if slot & KEYED == 0 {
            if let Some((p, _)) = self.routes.get(slot as usize) {
                if add_path {
                    out.extend_from_slice(&[0; 4]);
                }
                p.emit(out)
            }
        } else if let Some((k, v)) = self.keyed.get((slot & !KEYED) as usize) {
            k.emit(&v.labels, false, add_path, out)
        }
    }

    pub fn len(&self) -> usize {
        self.routes.len() + self.keyed.len()
    }

    pub fn is_empty(&self) -> bool {
        self.routes.is_empty() && self.keyed.is_empty()
    }

    /// The FlowSpec rules and their attributes, sorted.
    pub fn flows(&self) -> impl Iterator<Item = (&FlowRule, &Arc<RouteAttributes>)> {
        self.keyed
            .iter()
            .filter_map(|(k, v)| Some((k.flow_rule()?, &v.attrs)))
    }

    /// The routes of one family, as a set of their own (what a route refresh resends).
    pub fn family_subset(&self, family: Family) -> RouteSet {
        let routes: Vec<Route> = if family.safi == Safi::Unicast {
            self.of_family(family).cloned().collect()
        } else {
            Vec::new()
        };
        RouteSet {
            routes: PlainTable::from(routes),
            keyed: self
                .keyed
                .iter()
                .filter(|(k, _)| k.family == family)
                .cloned()
                .collect(),
        }
    }

    /// The plain unicast routes, sorted by prefix.
    pub fn routes(&self) -> &PlainTable {
        &self.routes
    }

    /// The plain unicast routes.
    pub fn iter(&self) -> impl Iterator<Item = &Route> {
        self.routes.iter()
    }

    /// The plain unicast routes of one family (none for other SAFIs).
    pub fn of_family(&self, family: Family) -> impl Iterator<Item = &Route> {
        self.routes
            .iter()
            .filter(move |(p, _)| Family::new(p.afi(), Safi::Unicast) == family)
    }

    /// Whether the set holds a plain unicast route for `prefix`.
    pub fn contains(&self, prefix: &Prefix) -> bool {
        self.routes.contains(prefix)
    }

    /// Whether the set holds a route for `key`.
    pub fn contains_key(&self, key: &NlriKey) -> bool {
        match key.prefix() {
            Some(p) if key.is_plain() && self.contains(&p) => true,
            _ => self.keyed.binary_search_by(|(k, _)| k.cmp(key)).is_ok(),
        }
    }

    /// Plain unicast routes per address family.
    pub fn count(&self, afi: Afi) -> usize {
        self.routes.iter().filter(|(p, _)| p.afi() == afi).count()
    }

    /// Everything in `self` as announcements (what a fresh session gets); the unicast table
    /// is shared, not copied.
    pub fn as_announcements(&self) -> RouteDiff {
        RouteDiff {
            withdraw: Withdrawals::default(),
            announce: self.clone(),
        }
    }

    /// What to send to go from `self` (what the peer has) to `next`, in one merge walk per
    /// storage (a key is stored in one of them, whichever set holds it). When anything about
    /// a destination with several paths changed (a path added, removed or changed), every
    /// path it has in `next` is announced: a session without ADD-PATH sends one path per
    /// destination and must be able to pick it from the diff alone. Re-announcing an
    /// unchanged path is an implicit replace with the same value, harmless to the peer.
    pub fn diff(&self, next: &RouteSet) -> RouteDiff {
        let mut withdraw = Withdrawals::default();
        let mut routes = Vec::new();
        if !self.routes.same(&next.routes) {
            self.routes.diff(&next.routes, |gone, r| {
                if gone {
                    withdraw.plain.push(r.0)
                } else {
                    routes.push(r.clone())
                }
            });
        }
        let destination = |k: &NlriKey| (k.family, k.rd, k.nlri.clone());
        let mut changed = HashSet::new();
        merge_diff(
            &self.keyed,
            &next.keyed,
            RouteValue::same,
            |gone, (k, _)| {
                if gone {
                    withdraw.keyed.push(k.clone());
                }
                changed.insert(destination(k));
            },
        );
        let keyed = next
            .keyed
            .iter()
            .filter(|(k, _)| changed.contains(&destination(k)))
            .cloned()
            .collect();
        RouteDiff {
            withdraw,
            announce: RouteSet {
                routes: PlainTable::from(routes),
                keyed,
            },
        }
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
        let withdrawn: Vec<NlriKey> = d.withdraw.iter().map(|k| k.into_owned()).collect();
        assert_eq!(withdrawn, vec![NlriKey::plain(p("198.51.100.0/24"))]);
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
        let withdrawn: Vec<NlriKey> = d.withdraw.iter().map(|k| k.into_owned()).collect();
        assert_eq!(withdrawn, vec![NlriKey::flow(rule(53))]);
        assert!(d.announce.routes().is_empty());
        let announced: Vec<FlowRule> = d.announce.flows().map(|f| f.0.clone()).collect();
        assert_eq!(announced, vec![rule(80), rule(443)]);
        assert!(new.diff(&new).is_empty());
        assert_eq!(new.len(), 4);
        // One order over every key: the unicast prefix, then the flow rules.
        let keys: Vec<String> = new.entries().map(|e| e.key.to_string()).collect();
        assert_eq!(keys[0], "ipv4 unicast 198.51.100.0/24");
        assert!(keys[1..].iter().all(|k| k.starts_with("flow ")), "{keys:?}");
        let flow4 = new.family_subset(Family::new(Afi::Ipv4, Safi::FlowSpec));
        assert_eq!((flow4.routes.len(), flow4.flows().count()), (0, 3));
        let unicast = new.family_subset(Family::IPV4_UNICAST);
        assert_eq!((unicast.routes.len(), unicast.flows().count()), (1, 0));
    }

    fn vpn(prefix: &str, path_id: Option<u32>) -> NlriKey {
        NlriKey::of_prefix(
            Family::new(Afi::Ipv4, Safi::MplsVpn),
            Some("65000:1".parse().unwrap()),
            p(prefix),
            path_id,
        )
    }

    fn value(labels: &[u32], med: u32) -> RouteValue {
        RouteValue {
            labels: labels.to_vec(),
            attrs: attrs(med),
        }
    }

    #[test]
    fn label_change_is_a_replace_and_a_changed_destination_resends_all_its_paths() {
        let old = RouteSet::default().with_others(vec![
            (vpn("198.51.100.0/24", Some(1)), value(&[100], 1)),
            (vpn("198.51.100.0/24", Some(2)), value(&[100], 1)),
            (vpn("203.0.113.0/24", None), value(&[100], 1)),
        ]);
        let new = RouteSet::default().with_others(vec![
            (vpn("198.51.100.0/24", Some(2)), value(&[100], 1)),
            (vpn("203.0.113.0/24", None), value(&[200], 1)),
        ]);
        let d = old.diff(&new);
        let withdrawn: Vec<NlriKey> = d.withdraw.iter().map(|k| k.into_owned()).collect();
        assert_eq!(withdrawn, vec![vpn("198.51.100.0/24", Some(1))]);
        let keys: Vec<NlriKey> = d.announce.entries().map(|e| e.key.into_owned()).collect();
        assert_eq!(
            keys,
            vec![vpn("198.51.100.0/24", Some(2)), vpn("203.0.113.0/24", None)]
        );
        assert!(new.diff(&new).is_empty());
    }

    /// The storages merge in key order however the keys fall between the plain unicast
    /// routes, and a stretch holds only plain routes of one address family and one set.
    #[test]
    fn stretches_walk_every_route_in_key_order() {
        let (a1, a2) = (attrs(1), attrs(2));
        let set = RouteSet::with_flows(
            vec![
                (p("10.0.0.0/24"), a1.clone()),
                (p("10.0.1.0/24"), a1.clone()),
                (p("10.0.2.0/24"), a2.clone()),
                (p("10.0.3.0/24"), a1.clone()),
                (p("2001:db8::/32"), a1.clone()),
                (p("2001:db8:1::/48"), a1.clone()),
            ],
            vec![(rule(53), a1.clone())],
        )
        .with_others(vec![
            (vpn("10.0.0.0/24", None), value(&[100], 1)),
            (
                NlriKey::of_prefix(Family::IPV4_UNICAST, None, p("10.0.1.0/24"), Some(7)),
                value(&[], 1),
            ),
        ]);
        let stretches: Vec<Stretch> = set.stretches().collect();
        let lens: Vec<u32> = stretches.iter().map(|s| s.len).collect();
        assert_eq!(lens, vec![2, 1, 1, 1, 1, 1, 2]);
        let mut walked = Vec::new();
        for s in &stretches {
            for k in 0..s.len {
                let e = set.stored(s.first + k).unwrap();
                assert!(Arc::ptr_eq(e.attrs, s.head.attrs));
                assert_eq!(e.key.family(), s.head.key.family());
                assert!(s.len == 1 || matches!(e.key, KeyRef::Plain(_)));
                walked.push(e.key.key().into_owned());
            }
        }
        let by_slots: Vec<NlriKey> = set.slots().map(|(_, e)| e.key.key().into_owned()).collect();
        assert_eq!(walked, by_slots);
        assert_eq!(walked.len(), set.len());
        assert!(walked.windows(2).all(|w| w[0] < w[1]), "{walked:?}");
        assert_eq!(walked[2], set.other_list()[0].0); // the path after its plain route
        // A set of plain routes only is one run; an empty set has no stretch.
        let one = RouteSet::new(vec![(p("10.0.0.0/24"), a1.clone()), (p("10.0.1.0/24"), a1)]);
        assert_eq!(one.stretches().map(|s| s.len).collect::<Vec<_>>(), vec![2]);
        assert_eq!(RouteSet::default().stretches().count(), 0);
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
