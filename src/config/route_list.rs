//! The routes of a neighbor block (or of a template) while it is parsed, kept compact: a
//! plain unicast route is its prefix, its shared attribute set and where its prefix was
//! written (40 octets), with files and origins recorded once per run of routes. A table of
//! a million routes is parsed in about 40 MB and becomes the neighbor's [`RouteTable`]
//! without a copy.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use crate::rib::attributes::RouteAttributes;
use crate::rib::route_set::Route;
use crate::wire::family::{Family, Safi};
use crate::wire::prefix::Prefix;

use super::ConfigError;
use super::lexer::Position;
use super::model::WatchdogRoute;
use super::model::{Location, RouteTable};
use super::parser::{Origin, Parser};
use super::route::ParsedRoute;

/// Routes in the order written.
#[derive(Default)]
pub(super) struct ParsedRoutes {
    /// Routes with plain unicast NLRI.
    unicast: Vec<Route>,
    /// Where the prefix of each of `unicast` was written.
    unicast_at: Positions,
    /// The file and origin of `unicast`, by runs: each holds from its start to the next's.
    runs: Vec<Run>,
    /// Every other route, in full.
    others: Vec<ParsedRoute>,
    /// Routes whose NLRI is not a prefix (see `family_routes`).
    families: Vec<super::family_routes::ParsedFamilyRoute>,
    /// The routes [`resolve_duplicates`](Self::resolve_duplicates) replaced (empty: none).
    unicast_dropped: Vec<bool>,
    /// Routes with a `watchdog` name, in the order written (announced or withdrawn with
    /// their group, see `manager/watchdog.rs`).
    watchdog: Vec<ParsedRoute>,
}

struct Run {
    start: usize,
    file: Arc<PathBuf>,
    origin: Origin,
}

/// One route as the checks of a whole neighbor block see it.
pub(super) struct RouteRef<'a> {
    pub prefix: Prefix,
    pub family: Family,
    pub attributes: &'a Arc<RouteAttributes>,
    pub prefix_at: Position,
    pub file: &'a Arc<PathBuf>,
}

impl ParsedRoutes {
    pub fn push(&mut self, parsed: ParsedRoute) {
        if parsed.watchdog.is_some() {
            self.watchdog.push(parsed);
            return;
        }
        if parsed.withdraw {
            return;
        }
        if parsed.route.nlri.is_some() {
            self.others.push(parsed);
            return;
        }
        let file = &parsed.route.location.file;
        self.note_run(file, parsed.origin);
        self.unicast
            .push((parsed.route.prefix, parsed.route.attributes));
        self.unicast_at.push(parsed.prefix_at);
    }

    /// No route kept (of any kind).
    pub fn is_empty(&self) -> bool {
        self.unicast.is_empty()
            && self.others.is_empty()
            && self.families.is_empty()
            && self.watchdog.is_empty()
    }

    /// Appends `later` (parsed after these routes), keeping its files and origins.
    /// Duplicates are resolved after: neither side has been through
    /// [`resolve_duplicates`](Self::resolve_duplicates).
    pub fn append(&mut self, later: ParsedRoutes) {
        debug_assert!(self.unicast_dropped.is_empty() && later.unicast_dropped.is_empty());
        let ParsedRoutes {
            unicast,
            unicast_at,
            runs,
            others,
            families,
            watchdog,
            ..
        } = later;
        let offset = self.unicast.len();
        for run in runs {
            self.runs.push(Run {
                start: run.start + offset,
                ..run
            });
        }
        self.unicast.extend(unicast);
        self.unicast_at.extend(unicast_at);
        self.others.extend(others);
        self.families.extend(families);
        self.watchdog.extend(watchdog);
    }

    /// A route of a `wire::nlri` family (not kept when marked `withdraw`).
    pub fn push_family(&mut self, parsed: super::family_routes::ParsedFamilyRoute) {
        if !parsed.withdraw {
            self.families.push(parsed);
        }
    }

    /// The routes of `wire::nlri` families kept.
    pub fn family_routes(&self) -> &[super::family_routes::ParsedFamilyRoute] {
        &self.families
    }

    fn note_run(&mut self, file: &Arc<PathBuf>, origin: Origin) {
        let same = self
            .runs
            .last()
            .is_some_and(|r| r.origin == origin && (Arc::ptr_eq(&r.file, file) || r.file == *file));
        if !same {
            self.runs.push(Run {
                start: self.unicast.len(),
                file: Arc::clone(file),
                origin,
            });
        }
    }

    /// Appends the routes of a template, as from `origin` (one application of it).
    pub fn extend_from(&mut self, template: &ParsedRoutes, origin: Origin) {
        self.unicast.reserve(template.unicast.len());
        for (k, run) in template.runs.iter().enumerate() {
            let end = template
                .runs
                .get(k + 1)
                .map_or(template.unicast.len(), |next| next.start);
            self.note_run(&run.file, origin);
            if let Some(routes) = template.unicast.get(run.start..end) {
                self.unicast.extend_from_slice(routes);
                self.unicast_at
                    .extend_from(&template.unicast_at, run.start, routes.len());
            }
        }
        self.others
            .extend(template.others.iter().map(|r| ParsedRoute {
                route: r.route.clone(),
                prefix_at: r.prefix_at,
                split: None,
                origin,
                withdraw: false,
                watchdog: None,
            }));
        self.watchdog
            .extend(template.watchdog.iter().map(|r| ParsedRoute {
                route: r.route.clone(),
                prefix_at: r.prefix_at,
                split: None,
                origin,
                withdraw: r.withdraw,
                watchdog: r.watchdog.clone(),
            }));
        self.families
            .extend(template.families.iter().map(|r| r.with_origin(origin)));
    }

    fn run_of(&self, i: usize) -> Option<&Run> {
        let after = self.runs.partition_point(|r| r.start <= i);
        self.runs.get(after.checked_sub(1)?)
    }

    /// Every route kept, unicast first (watchdog routes last).
    pub fn iter(&self) -> impl Iterator<Item = RouteRef<'_>> {
        let others = self.others.iter().chain(&self.watchdog).map(|r| RouteRef {
            prefix: r.route.prefix,
            family: r.route.family(),
            attributes: &r.route.attributes,
            prefix_at: r.prefix_at,
            file: &r.route.location.file,
        });
        self.unicast_refs().chain(others)
    }

    /// The plain unicast routes kept.
    fn unicast_refs(&self) -> impl Iterator<Item = RouteRef<'_>> {
        self.runs.iter().enumerate().flat_map(move |(k, run)| {
            let end = self
                .runs
                .get(k + 1)
                .map_or(self.unicast.len(), |next| next.start);
            (run.start..end).filter_map(move |i| {
                if self.unicast_dropped.get(i).copied().unwrap_or(false) {
                    return None;
                }
                let (prefix, attributes) = self.unicast.get(i)?;
                Some(RouteRef {
                    prefix: *prefix,
                    family: Family::new(prefix.afi(), Safi::Unicast),
                    attributes,
                    prefix_at: self.unicast_at.get(i)?,
                    file: &run.file,
                })
            })
        })
    }

    /// A prefix configured twice by the same source (the block itself, or one template): the
    /// later one is kept, as ExaBGP does, and a warning for `--check` says so. Between
    /// sources the neighbor's own route wins, then the first template's.
    pub fn resolve_duplicates(&mut self, p: &Parser, owner: &str) -> Result<(), ConfigError> {
        // A table written in prefix order (generated ones usually are) has no duplicates.
        let sorted = self.unicast.windows(2).all(|w| w[0].0 < w[1].0);
        if !sorted {
            let origin = |i: usize| self.run_of(i).map_or(0, |r| r.origin);
            let (dropped, replaced) = find_duplicates(
                self.unicast.len(),
                |i| self.unicast.get(i).map(|r| r.0),
                origin,
            );
            for (later, earlier) in replaced {
                let at = |i: usize| {
                    let file = self.run_of(i).map(|r| Arc::clone(&r.file));
                    let position = self.unicast_at.get(i);
                    (file, position)
                };
                let prefix = self.unicast.get(later).map(|r| r.0);
                note_duplicate(p, owner, prefix, at(earlier), at(later));
            }
            self.unicast_dropped = dropped;
        }
        let key = |r: &ParsedRoute| {
            let nlri = r.route.nlri();
            (r.route.prefix, nlri.safi(), nlri.rd, nlri.path_id)
        };
        let others = &self.others;
        let (dropped, replaced) = find_duplicates(
            others.len(),
            |i| others.get(i).map(key),
            |i| others.get(i).map_or(0, |r| r.origin),
        );
        for (later, earlier) in replaced {
            let at = |i: usize| {
                let r = others.get(i);
                (
                    r.map(|r| Arc::clone(&r.route.location.file)),
                    r.map(|r| r.prefix_at),
                )
            };
            let prefix = others.get(later).map(|r| r.route.prefix);
            note_duplicate(p, owner, prefix, at(earlier), at(later));
        }
        let mut i = 0;
        self.others.retain(|_| {
            i += 1;
            !dropped.get(i - 1).copied().unwrap_or(false)
        });
        self.check_path_zero(owner)
    }

    /// With ADD-PATH, a route without `path-information` goes as path 0, so `route P` next
    /// to `route P path-information 0` would be the same path twice: refused.
    fn check_path_zero(&self, owner: &str) -> Result<(), ConfigError> {
        let zero: HashMap<Prefix, &ParsedRoute> = self
            .others
            .iter()
            .filter(|r| {
                let nlri = r.route.nlri();
                nlri.path_id == Some(0) && nlri.safi() == Safi::Unicast && nlri.rd.is_none()
            })
            .map(|r| (r.route.prefix, r))
            .collect();
        if zero.is_empty() {
            return Ok(());
        }
        let clash = self
            .unicast_refs()
            .find_map(|plain| Some((zero.get(&plain.prefix).copied()?, plain)));
        let Some((with_id, plain)) = clash else {
            return Ok(());
        };
        Err(ConfigError {
            location: Some(Location {
                file: Arc::clone(&with_id.route.location.file),
                line: with_id.prefix_at.line,
                column: with_id.prefix_at.column,
            }),
            message: format!(
                "route {} path-information 0 in {owner} is the same path as route {} at {}:{}: a route without path-information is path 0 (give one of them another path-information)",
                with_id.route.prefix,
                plain.prefix,
                plain.file.display(),
                plain.prefix_at.line
            ),
        })
    }

    /// Which file gave which part of the table (for a reload that parses only changed
    /// files, see [`super::file_cache`]).
    pub fn record(&self, neighbor: std::net::IpAddr) -> super::file_cache::TableRecord {
        use super::file_cache::FileSpan;
        let mut spans: Vec<FileSpan> = Vec::new();
        let mut cross = false;
        for (k, run) in self.runs.iter().enumerate() {
            let end = self
                .runs
                .get(k + 1)
                .map_or(self.unicast.len(), |next| next.start);
            let Some(routes) = self.unicast.get(run.start..end) else {
                continue;
            };
            let (Some(first), Some(last)) = (
                routes.iter().map(|r| r.0).min(),
                routes.iter().map(|r| r.0).max(),
            ) else {
                continue;
            };
            cross |= routes
                .iter()
                .any(|(p, a)| crate::rib::other_nlri::cross_family_key(*p, a).is_some());
            match spans.iter_mut().find(|s| s.file == run.file) {
                Some(s) => {
                    s.first = s.first.min(first);
                    s.last = s.last.max(last);
                    s.count += routes.len();
                }
                None => spans.push(FileSpan {
                    file: Arc::clone(&run.file),
                    first,
                    last,
                    count: routes.len(),
                }),
            }
        }
        let mut others_from: Vec<Arc<PathBuf>> = Vec::new();
        for r in self.others.iter().chain(&self.watchdog) {
            if !others_from.contains(&r.route.location.file) {
                others_from.push(Arc::clone(&r.route.location.file));
            }
        }
        super::file_cache::TableRecord {
            neighbor,
            spans,
            patchable: !cross && !self.unicast_dropped.iter().any(|&d| d),
            others_from,
        }
    }

    /// The neighbor's routes: unicast sorted by prefix without the replaced ones, others in
    /// the order written.
    pub fn finish(self) -> RouteTable {
        let ParsedRoutes {
            mut unicast,
            unicast_dropped,
            others,
            families,
            watchdog,
            ..
        } = self;
        if !unicast_dropped.is_empty() {
            let mut i = 0;
            unicast.retain(|_| {
                i += 1;
                !unicast_dropped.get(i - 1).copied().unwrap_or(false)
            });
        }
        // Prefixes are unique now, so an unstable (in-place, allocation-free) sort will do.
        if !unicast.windows(2).all(|w| w[0].0 < w[1].0) {
            unicast.sort_unstable_by_key(|r| r.0);
        }
        unicast.shrink_to_fit();
        RouteTable {
            unicast: Arc::new(unicast),
            others: others.into_iter().map(|r| r.route).collect(),
            family_routes: unique_family_routes(families),
            watchdog: watchdog
                .into_iter()
                .filter_map(|r| {
                    Some(WatchdogRoute {
                        name: r.watchdog?,
                        withdraw: r.withdraw,
                        route: r.route,
                    })
                })
                .collect(),
        }
    }
}

/// One route per key: a later statement of the same source replaces an earlier one (as
/// for prefixes), the neighbor's own over a template's, in the order first written. Within
/// one source, a statement of a neighbor-level `l2vpn { }` block is not replaced by one of an
/// `announce { }` block, wherever each is written: ExaBGP (4.2, 5.0 and main) applies the
/// `announce` routes first and the older sections' after them, so the peer keeps those.
fn unique_family_routes(
    routes: Vec<super::family_routes::ParsedFamilyRoute>,
) -> Vec<super::model::FamilyRoute> {
    let mut kept: Vec<super::family_routes::ParsedFamilyRoute> = Vec::with_capacity(routes.len());
    let mut index: HashMap<crate::rib::key::NlriKey, usize> = HashMap::with_capacity(routes.len());
    for r in routes {
        match index.get(&r.route.key) {
            Some(&i) => {
                if let Some(k) = kept.get_mut(i)
                    && (r.origin < k.origin
                        || (r.origin == k.origin && r.late_section >= k.late_section))
                {
                    *k = r;
                }
            }
            None => {
                index.insert(r.route.key.clone(), kept.len());
                kept.push(r);
            }
        }
    }
    kept.into_iter().map(|r| r.route).collect()
}

/// Which entries a higher-priority source replaces, and the first clash of one source
/// with itself in the order written: (the later entry, the earlier one). Sorting 4-octet
/// indices by key finds them in O(n log n) with little memory.
fn find_duplicates<K: Ord>(
    len: usize,
    key: impl Fn(usize) -> Option<K>,
    origin: impl Fn(usize) -> Origin,
) -> (Vec<bool>, Vec<(usize, usize)>) {
    let mut order: Vec<u32> = (0..len as u32).collect();
    order.sort_unstable_by(|&a, &b| key(a as usize).cmp(&key(b as usize)).then(a.cmp(&b)));
    let mut dropped = vec![false; len];
    let mut replaced_by_same_source = Vec::new();
    for run in order.chunk_by(|&a, &b| key(a as usize) == key(b as usize)) {
        // In the order written: the first entry is kept until one of a higher-priority
        // source (a lower origin) replaces it, or a later one of the same source.
        let Some((&first, rest)) = run.split_first() else {
            continue;
        };
        let mut kept = first as usize;
        for &i in rest {
            let i = i as usize;
            let (a, b) = (origin(kept), origin(i));
            let replaced = if b <= a {
                if a == b {
                    replaced_by_same_source.push((i, kept));
                }
                std::mem::replace(&mut kept, i)
            } else {
                i
            };
            if let Some(d) = dropped.get_mut(replaced) {
                *d = true;
            }
        }
    }
    (dropped, replaced_by_same_source)
}

/// Where each of a list of routes was written, kept by runs: a run is a first position and
/// a step of 0 or 1 lines, the column staying the same. A generated table of a route per
/// line is one run, where a position per route would cost 8 octets each (8 MB at 1M routes,
/// more than the rest of the parse holds besides the table).
#[derive(Default)]
struct Positions {
    runs: Vec<PositionRun>,
    len: usize,
}

#[derive(Clone, Copy)]
struct PositionRun {
    /// The index of its first entry.
    start: usize,
    first: Position,
    /// Lines from one entry to the next: 0 or 1 (0 while the run holds one entry).
    step: u32,
    count: usize,
}

impl PositionRun {
    fn at(&self, k: usize) -> Position {
        let lines = u32::try_from(k)
            .unwrap_or(u32::MAX)
            .saturating_mul(self.step);
        Position {
            line: self.first.line.saturating_add(lines),
            column: self.first.column,
        }
    }
}

impl Positions {
    fn push(&mut self, at: Position) {
        self.push_run(at, 0, 1);
    }

    /// Appends every position of `later`, after these.
    fn extend(&mut self, later: Positions) {
        for run in later.runs {
            self.push_run(run.first, run.step, run.count);
        }
    }

    /// Appends `count` positions from `first`, `step` lines apart.
    fn push_run(&mut self, first: Position, step: u32, count: usize) {
        if count == 0 {
            return;
        }
        let start = self.len;
        self.len += count;
        if let Some(last) = self.runs.last_mut()
            && last.first.column == first.column
        {
            // The step from the run's last entry to `first`, which must be the run's.
            let end = last.at(last.count - 1);
            let gap = first.line.checked_sub(end.line);
            let joins = match (last.count, gap) {
                (1, Some(g @ (0 | 1))) => count == 1 || g == step,
                (_, Some(g)) => g == last.step && (count == 1 || step == last.step),
                _ => false,
            };
            if joins {
                if last.count == 1 {
                    last.step = gap.unwrap_or(0);
                }
                last.count += count;
                return;
            }
        }
        self.runs.push(PositionRun {
            start,
            first,
            step,
            count,
        });
    }

    fn get(&self, i: usize) -> Option<Position> {
        let k = self.runs.partition_point(|r| r.start <= i).checked_sub(1)?;
        let run = self.runs.get(k)?;
        (i < run.start + run.count).then(|| run.at(i - run.start))
    }

    /// Appends `count` positions of `other` from its index `from`.
    fn extend_from(&mut self, other: &Positions, from: usize, count: usize) {
        let end = from + count;
        let k = other.runs.partition_point(|r| r.start + r.count <= from);
        for run in other.runs.get(k..).unwrap_or_default() {
            if run.start >= end {
                break;
            }
            let a = from.max(run.start);
            let b = end.min(run.start + run.count);
            self.push_run(run.at(a - run.start), run.step, b - a);
        }
    }
}

type Place = (Option<Arc<PathBuf>>, Option<Position>);

fn note_duplicate(
    p: &Parser,
    owner: &str,
    prefix: Option<Prefix>,
    (earlier_file, earlier_at): Place,
    (later_file, later_at): Place,
) {
    let (line, column) = earlier_at.map_or((0, 0), |p| (p.line, p.column));
    let place = match (&earlier_file, &later_file) {
        (Some(a), Some(b)) if a != b => format!("{}:{line}:{column}", a.display()),
        _ => format!("line {line}"),
    };
    let prefix = prefix.map_or_else(String::new, |p| p.to_string());
    let at = later_file
        .zip(later_at)
        .map_or_else(String::new, |(file, at)| {
            format!(
                "{}: ",
                Location {
                    file,
                    line: at.line,
                    column: at.column
                }
            )
        });
    p.state.borrow_mut().note(
        None,
        format!("{at}warning: route {prefix} in {owner} is configured again (first at {place}): this one replaces it, as in ExaBGP"),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(line: u32, column: u32) -> Position {
        Position { line, column }
    }

    /// Positions kept by runs read back as written, pushed one by one or copied in ranges.
    #[test]
    fn positions_read_back_as_written() {
        // A route a line, split routes (the same position), a second column, a gap, a
        // line going back (an included file), a lone entry.
        let mut written = Vec::new();
        written.extend((1..=5).map(|l| at(l, 5)));
        written.extend(std::iter::repeat_n(at(7, 5), 4));
        written.extend((8..=10).map(|l| at(l, 9)));
        written.extend([at(20, 9), at(3, 1), at(3, 1), at(4, 1), at(5, 1), at(9, 2)]);
        let mut positions = Positions::default();
        for &p in &written {
            positions.push(p);
        }
        assert_eq!(positions.len, written.len());
        for (i, &p) in written.iter().enumerate() {
            assert_eq!(positions.get(i), Some(p), "entry {i}");
        }
        assert_eq!(positions.get(written.len()), None);
        assert!(positions.runs.len() < written.len());
        // Every range, appended after an entry that may or may not join it.
        for from in 0..written.len() {
            for to in from..=written.len() {
                let mut copy = Positions::default();
                copy.push(at(2, 5));
                copy.extend_from(&positions, from, to - from);
                let expected: Vec<_> = std::iter::once(at(2, 5))
                    .chain(written[from..to].iter().copied())
                    .collect();
                let got: Vec<_> = (0..copy.len).filter_map(|i| copy.get(i)).collect();
                assert_eq!(got, expected, "range {from}..{to}");
            }
        }
        // A million routes of a generated file are one run.
        let mut big = Positions::default();
        for l in 0..1_000_000 {
            big.push(at(l + 8, 5));
        }
        assert_eq!(big.runs.len(), 1);
        assert_eq!(big.get(999_999), Some(at(1_000_007, 5)));
    }
}
