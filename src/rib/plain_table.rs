//! The plain unicast table of a route set: entries sorted by prefix, stored as views into
//! shared vectors. A configuration's table is one view of one vector (the parser's own,
//! shared by every neighbor given it). A reload that parsed only one changed file replaces
//! that file's run of the table ([`PlainTable::spliced`]): the new table is three views, the
//! old vector before the run, the file's new routes, the old vector after it, so a 1M-route
//! table with 10,000 routes changed costs 10,000 new entries, not a copy of a million. Two
//! tables that share storage diff and compare in the time of what differs
//! ([`PlainTable::diff`]): a run held by both at the same address is skipped whole.

use std::sync::Arc;

use super::attributes::RouteAttributes;
use super::route_set::Route;
use crate::wire::prefix::Prefix;

/// One view: `rows[from..to]`, at position `start` of the table.
#[derive(Clone, Debug)]
struct Segment {
    rows: Arc<Vec<Route>>,
    from: usize,
    to: usize,
    start: usize,
}

impl Segment {
    fn slice(&self) -> &[Route] {
        self.rows.get(self.from..self.to).unwrap_or_default()
    }

    fn len(&self) -> usize {
        self.to - self.from
    }
}

/// Past this many views a splice copies the table into one vector again (lookups by
/// position search the views). Splicing the same file again replaces its view and adds
/// none, so only rewriting this many different files in turn gets here.
const MAX_SEGMENTS: usize = 1024;

/// Sorted plain unicast routes, one per prefix (see the module documentation).
#[derive(Clone, Debug, Default)]
pub struct PlainTable {
    segments: Vec<Segment>,
    len: usize,
}

impl From<Arc<Vec<Route>>> for PlainTable {
    /// The table of `rows`, sorted by prefix and unique, shared rather than copied.
    fn from(rows: Arc<Vec<Route>>) -> PlainTable {
        let len = rows.len();
        let segments = if len == 0 {
            Vec::new()
        } else {
            vec![Segment {
                rows,
                from: 0,
                to: len,
                start: 0,
            }]
        };
        PlainTable { segments, len }
    }
}

impl From<Vec<Route>> for PlainTable {
    fn from(rows: Vec<Route>) -> PlainTable {
        PlainTable::from(Arc::new(rows))
    }
}

impl PlainTable {
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The view holding position `i`.
    fn segment_of(&self, i: usize) -> Option<&Segment> {
        match self.segments.as_slice() {
            [one] => Some(one),
            all => all.get(all.partition_point(|s| s.start + s.len() <= i)),
        }
    }

    /// The route at position `i`.
    pub fn get(&self, i: usize) -> Option<&Route> {
        let s = self.segment_of(i)?;
        s.slice().get(i.checked_sub(s.start)?)
    }

    /// The stored runs of the table, in order.
    pub fn slices(&self) -> impl DoubleEndedIterator<Item = &[Route]> + Clone {
        self.segments.iter().map(Segment::slice)
    }

    /// Every route, in prefix order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &Route> + Clone {
        self.slices().flatten()
    }

    /// The routes at positions `from..to`, in order.
    pub fn range(&self, from: usize, to: usize) -> impl Iterator<Item = &Route> + Clone {
        let first = match self.segments.as_slice() {
            [_] => 0,
            all => all.partition_point(|s| s.start + s.len() <= from),
        };
        self.segments
            .get(first..)
            .unwrap_or_default()
            .iter()
            .take_while(move |s| s.start < to)
            .flat_map(move |s| {
                let a = from.saturating_sub(s.start);
                let b = to.saturating_sub(s.start).min(s.len());
                s.slice().get(a..b).unwrap_or_default()
            })
    }

    pub fn first(&self) -> Option<&Route> {
        self.iter().next()
    }

    pub fn last(&self) -> Option<&Route> {
        self.iter().next_back()
    }

    /// The number of leading routes for which `pred` holds (it must hold for a prefix of
    /// the table and not after, as for `slice::partition_point`).
    pub fn partition_point(&self, pred: impl Fn(&Route) -> bool) -> usize {
        let k = self
            .segments
            .partition_point(|s| s.slice().last().is_some_and(&pred));
        match self.segments.get(k) {
            Some(s) => s.start + s.slice().partition_point(&pred),
            None => self.len,
        }
    }

    /// Whether the table holds a route for `prefix`.
    pub fn contains(&self, prefix: &Prefix) -> bool {
        let at = self.partition_point(|r| r.0 < *prefix);
        self.get(at).is_some_and(|r| r.0 == *prefix)
    }

    /// The same storage, view for view (what sharing one table means).
    pub fn same(&self, other: &PlainTable) -> bool {
        self.len == other.len
            && self.segments.len() == other.segments.len()
            && self
                .segments
                .iter()
                .zip(&other.segments)
                .all(|(a, b)| Arc::ptr_eq(&a.rows, &b.rows) && a.from == b.from && a.to == b.to)
    }

    /// This table with positions `from..to` replaced by `rows` (sorted, unique, and sorting
    /// between the routes before `from` and those from `to` on: see
    /// [`sorted_at_seams`](Self::sorted_at_seams)). Shares everything else.
    pub fn spliced(&self, from: usize, to: usize, rows: Arc<Vec<Route>>) -> PlainTable {
        let mut next = PlainTable::default();
        next.push_range(self, 0, from);
        next.push(rows, 0, usize::MAX);
        next.push_range(self, to, self.len);
        if next.segments.len() > MAX_SEGMENTS {
            let all: Vec<Route> = next.iter().cloned().collect();
            return PlainTable::from(all);
        }
        next
    }

    /// This table followed by `next`, whose routes all sort after this table's: views of
    /// both, nothing copied.
    pub fn concat(&self, next: &PlainTable) -> PlainTable {
        debug_assert!(match (self.last(), next.first()) {
            (Some(a), Some(b)) => a.0 < b.0,
            _ => true,
        });
        let mut out = self.clone();
        out.push_range(next, 0, next.len);
        out
    }

    fn push_range(&mut self, from_table: &PlainTable, from: usize, to: usize) {
        for s in &from_table.segments {
            let (a, b) = (from.max(s.start), to.min(s.start + s.len()));
            if a < b {
                self.push(
                    Arc::clone(&s.rows),
                    s.from + a - s.start,
                    s.from + b - s.start,
                );
            }
        }
    }

    fn push(&mut self, rows: Arc<Vec<Route>>, from: usize, to: usize) {
        let to = to.min(rows.len());
        if from >= to {
            return;
        }
        // The next run of the same vector: one view.
        if let Some(last) = self.segments.last_mut()
            && Arc::ptr_eq(&last.rows, &rows)
            && last.to == from
        {
            last.to = to;
            self.len += to - from;
            return;
        }
        self.segments.push(Segment {
            rows,
            from,
            to,
            start: self.len,
        });
        self.len += to - from;
    }

    /// Whether every view is sorted and unique and each sorts before the next: what a
    /// splice must keep. Walks the views given as new in full and only the seams of the
    /// others.
    pub fn sorted_at_seams(&self, new: &[&Arc<Vec<Route>>]) -> bool {
        let inner = self
            .segments
            .iter()
            .filter(|s| new.iter().any(|n| Arc::ptr_eq(n, &s.rows)))
            .all(|s| s.slice().windows(2).all(|w| w[0].0 < w[1].0));
        let seams =
            self.segments
                .windows(2)
                .all(|w| match (w[0].slice().last(), w[1].slice().first()) {
                    (Some(a), Some(b)) => a.0 < b.0,
                    _ => true,
                });
        inner && seams
    }

    /// The merge walk of two tables: `change(true, r)` for a route only in `self` (to
    /// withdraw), `change(false, r)` for a route only in `next` or with other attributes
    /// (to announce). A run both tables store at the same address is skipped whole.
    pub fn diff(&self, next: &PlainTable, mut change: impl FnMut(bool, &Route)) {
        let (mut a, mut b) = (self.slices(), next.slices());
        let (mut x, mut y): (&[Route], &[Route]) = (&[], &[]);
        loop {
            while x.is_empty() {
                match a.next() {
                    Some(s) => x = s,
                    None => break,
                }
            }
            while y.is_empty() {
                match b.next() {
                    Some(s) => y = s,
                    None => break,
                }
            }
            if std::ptr::eq(x.as_ptr(), y.as_ptr()) && !x.is_empty() {
                let k = x.len().min(y.len());
                x = x.get(k..).unwrap_or_default();
                y = y.get(k..).unwrap_or_default();
                continue;
            }
            match (x.split_first(), y.split_first()) {
                (None, None) => return,
                (Some((r, rest)), None) => {
                    change(true, r);
                    x = rest;
                }
                (None, Some((s, rest))) => {
                    change(false, s);
                    y = rest;
                }
                (Some((r, xs)), Some((s, ys))) => match r.0.cmp(&s.0) {
                    std::cmp::Ordering::Less => {
                        change(true, r);
                        x = xs;
                    }
                    std::cmp::Ordering::Greater => {
                        change(false, s);
                        y = ys;
                    }
                    std::cmp::Ordering::Equal => {
                        if !same_attrs(&r.1, &s.1) {
                            change(false, s);
                        }
                        x = xs;
                        y = ys;
                    }
                },
            }
        }
    }
}

fn same_attrs(a: &Arc<RouteAttributes>, b: &Arc<RouteAttributes>) -> bool {
    Arc::ptr_eq(a, b) || a == b
}

/// Equal routes, whatever the storage; tables that share storage compare in the time of
/// what they do not share.
impl PartialEq for PlainTable {
    fn eq(&self, other: &PlainTable) -> bool {
        if self.len != other.len {
            return false;
        }
        if self.same(other) {
            return true;
        }
        let mut equal = true;
        self.diff(other, |_, _| equal = false);
        equal
    }
}

impl Eq for PlainTable {}

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

    fn p(i: u32) -> Prefix {
        Prefix::new(std::net::Ipv4Addr::from(0x0a00_0000 + (i << 8)).into(), 24).unwrap()
    }

    fn rows(range: std::ops::Range<u32>, med: u32) -> Arc<Vec<Route>> {
        let a = attrs(med);
        Arc::new(range.map(|i| (p(i), a.clone())).collect())
    }

    fn changes(a: &PlainTable, b: &PlainTable) -> (Vec<Prefix>, Vec<Prefix>) {
        let (mut gone, mut new) = (Vec::new(), Vec::new());
        a.diff(b, |w, r| if w { gone.push(r.0) } else { new.push(r.0) });
        (gone, new)
    }

    #[test]
    fn a_splice_shares_the_rest_and_diffs_only_the_changed_run() {
        let base = PlainTable::from(rows(0..1000, 0));
        // Routes 400..500 replaced: 450..500 gone, 400..450 with another MED, 1000.5 new.
        let mut new: Vec<Route> = rows(400..450, 7).iter().cloned().collect();
        new.push((p(499), attrs(0)));
        let from = base.partition_point(|r| r.0 < p(400));
        let to = base.partition_point(|r| r.0 <= p(499));
        let next = base.spliced(from, to, Arc::new(new));
        assert_eq!(next.len(), 1000 - 100 + 51);
        assert_eq!(next.segments.len(), 3);
        assert!(next.sorted_at_seams(&[]));
        // Every position reads as in a plain vector.
        let flat: Vec<Route> = next.iter().cloned().collect();
        for (i, r) in flat.iter().enumerate() {
            assert_eq!(next.get(i).map(|x| x.0), Some(r.0), "{i}");
        }
        assert_eq!(next.get(flat.len()), None);
        let mid: Vec<Prefix> = next.range(395, 455).map(|r| r.0).collect();
        assert_eq!(mid, flat[395..455].iter().map(|r| r.0).collect::<Vec<_>>());
        assert!(next.contains(&p(449)) && next.contains(&p(499)) && !next.contains(&p(450)));
        // The diff: the 50 removed withdrawn, the 50 changed announced, 499 unchanged.
        let (gone, announced) = changes(&base, &next);
        assert_eq!(gone, (450..499).map(p).collect::<Vec<_>>());
        assert_eq!(announced, (400..450).map(p).collect::<Vec<_>>());
        let (gone, announced) = changes(&next, &base);
        assert_eq!(gone, Vec::<Prefix>::new());
        assert_eq!(announced, (400..499).map(p).collect::<Vec<_>>());
        // Equal by content whatever the storage.
        assert_eq!(PlainTable::from(flat), next);
        assert_ne!(base, next);
        // The same file spliced again replaces its view: still three.
        let again = next.spliced(from, from + 51, rows(400..500, 9));
        assert_eq!(again.segments.len(), 3);
        assert_eq!(again.len(), 1000);
        let (gone, announced) = changes(&base, &again);
        assert!(gone.is_empty());
        assert_eq!(announced, (400..500).map(p).collect::<Vec<_>>());
    }

    #[test]
    fn a_splice_at_either_end_or_emptying_the_table_works() {
        let base = PlainTable::from(rows(10..20, 0));
        let head = base.spliced(0, 0, rows(0..5, 0));
        assert_eq!(
            head.iter().map(|r| r.0).collect::<Vec<_>>(),
            (0..5).chain(10..20).map(p).collect::<Vec<_>>()
        );
        let tail = head.spliced(head.len(), head.len(), rows(30..31, 0));
        assert_eq!(tail.last().map(|r| r.0), Some(p(30)));
        let empty = tail.spliced(0, tail.len(), Arc::new(Vec::new()));
        assert!(empty.is_empty() && empty.first().is_none());
        assert_eq!(empty.partition_point(|_| true), 0);
        assert_eq!(tail.partition_point(|r| r.0 < p(12)), 7);
        assert_eq!(tail.partition_point(|_| true), tail.len());
    }

    #[test]
    fn a_splice_that_breaks_the_order_is_seen() {
        let base = PlainTable::from(rows(0..10, 0));
        let bad = base.spliced(2, 3, rows(5..6, 0));
        assert!(!bad.sorted_at_seams(&[]));
        let unsorted = Arc::new(vec![(p(3), attrs(0)), (p(2), attrs(0))]);
        let inner = base.spliced(2, 4, Arc::clone(&unsorted));
        assert!(!inner.sorted_at_seams(&[&unsorted]));
    }

    #[test]
    fn many_different_splices_are_compacted() {
        let mut t = PlainTable::from(rows(0..4000, 0));
        for i in 0..(MAX_SEGMENTS as u32 / 2 + 10) {
            let at = t.partition_point(|r| r.0 < p(i * 2));
            t = t.spliced(at, at + 1, rows(i * 2..i * 2 + 1, 1));
            assert!(t.segments.len() <= MAX_SEGMENTS);
        }
        assert_eq!(t.len(), 4000);
        assert!(t.sorted_at_seams(&[]));
    }
}
