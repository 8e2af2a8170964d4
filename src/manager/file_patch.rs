//! A reload that costs what changed: when only included files of `route` statements changed
//! (see [`crate::config::file_cache`]), their part of each neighbor's sorted table is
//! replaced by their new routes, and nothing else is parsed or compared. Whenever the result
//! could differ from parsing the whole configuration (a route of another file among the
//! changed file's prefixes, another family, a duplicate), the reload parses the whole
//! configuration instead.

use std::collections::HashMap;
use std::sync::Arc;

use log::info;

use super::Manager;
use crate::config::file_cache::{ChangedFile, Changes, FileCache};
use crate::rib::plain_table::PlainTable;
use crate::rib::route_set::{Route, RouteSet};

/// A neighbor's sorted unicast table, shared by the neighbors given the same routes.
type Table = PlainTable;

/// One changed file's place in one table: the table's entries `from..to` are its old routes.
struct Splice {
    from: usize,
    to: usize,
    /// The file's new routes (one vector shared by every table the file feeds).
    rows: Arc<Vec<Route>>,
}

impl Manager {
    /// Applies a reload from the changed files alone; false when the whole configuration
    /// must be parsed (nothing was changed then).
    pub(super) fn reload_changed_files(&mut self) -> bool {
        let Some(cache) = self.file_cache.clone() else {
            return false;
        };
        let path = self.config_path.display().to_string();
        let started = std::time::Instant::now();
        // A neighbor or program that could not start is tried again by a whole reload.
        let (processes, checks) = self.programs.configs();
        let missing = cache
            .tables
            .iter()
            .any(|t| self.neighbors.get(t.neighbor).is_none());
        if missing || processes.len() + checks.len() != cache.programs {
            info!(
                "reloading {path}: a neighbor or program is not running: reading the whole configuration"
            );
            return false;
        }
        match cache.changes() {
            Changes::Whole(why) => {
                info!("reloading {path}: {why}: reading the whole configuration");
                false
            }
            Changes::Unchanged { checked } => {
                info!("reloading {path}: none of its {checked} files changed, 0 parsed");
                true
            }
            Changes::Routes { changed, checked } => match self.splice(&changed) {
                Ok(()) => {
                    info!(
                        "reloading {path}: {} of its {checked} files changed, {} parsed ({} ms to hash, parse and splice)",
                        changed.len(),
                        changed.len(),
                        started.elapsed().as_millis()
                    );
                    self.file_cache = Some(Arc::new(cache.after(&changed)));
                    self.flush();
                    true
                }
                Err(why) => {
                    info!("reloading {path}: {why}: reading the whole configuration");
                    false
                }
            },
        }
    }

    /// Gives every neighbor fed by the changed files its table with their routes replaced;
    /// changes nothing when it returns an error.
    fn splice(&mut self, changed: &[ChangedFile]) -> Result<(), String> {
        let cache: Arc<FileCache> = self.file_cache.clone().ok_or("no record")?;
        // Per distinct table (neighbors given the same routes share one): its splices.
        let mut tables: Vec<(Table, Vec<Splice>)> = Vec::new();
        let new_rows: Vec<Arc<Vec<Route>>> =
            changed.iter().map(|c| Arc::new(c.routes.clone())).collect();
        for (file, rows) in changed.iter().zip(&new_rows) {
            let name = file.path.display();
            let mut fed = 0;
            for record in &cache.tables {
                let Some(span) = record.spans.iter().find(|s| s.file == file.path) else {
                    continue;
                };
                fed += 1;
                if !record.patchable || record.others_from.contains(&file.path) {
                    return Err(format!(
                        "{name} changed in a table with duplicate or non-unicast routes"
                    ));
                }
                let n = self
                    .neighbors
                    .get(record.neighbor)
                    .ok_or("a neighbor is not running")?;
                let table = n.file_routes.shared_routes().clone();
                let (mut low, mut high) = (span.first, span.last);
                if let (Some(first), Some(last)) = (file.routes.first(), file.routes.last()) {
                    low = low.min(first.0);
                    high = high.max(last.0);
                }
                let from = table.partition_point(|r| r.0 < low);
                let to = table.partition_point(|r| r.0 <= high);
                if to - from != span.count {
                    return Err(format!(
                        "routes of other files are among the prefixes of {name}"
                    ));
                }
                let at = match tables.iter().position(|(t, _)| t.same(&table)) {
                    Some(at) => at,
                    None => {
                        tables.push((table, Vec::new()));
                        tables.len() - 1
                    }
                };
                let splices = &mut tables[at].1;
                if !splices.iter().any(|s| Arc::ptr_eq(&s.rows, rows)) {
                    splices.push(Splice {
                        from,
                        to,
                        rows: Arc::clone(rows),
                    });
                }
            }
            if fed == 0 {
                return Err(format!("{name} gave no neighbor a route when it was read"));
            }
        }
        let mut rebuilt: Vec<(Table, Table)> = Vec::new();
        for (table, mut splices) in tables {
            splices.sort_by_key(|s| s.from);
            let next = spliced(&table, &splices, &new_rows)?;
            let (was, now) = (families(&table), families(&next));
            if was != now {
                return Err("the families of the routes changed".into());
            }
            rebuilt.push((table, next));
        }
        // Checked in full before any neighbor is changed.
        let mut updates = Vec::new();
        for n in self.neighbors.iter() {
            let old = n.file_routes.shared_routes();
            let Some((_, next)) = rebuilt.iter().find(|(t, _)| t.same(old)) else {
                continue;
            };
            for (prefix, attrs) in changed.iter().flat_map(|c| &c.routes) {
                crate::config::guard::check_blackhole(*prefix, attrs, &n.config.guard)
                    .map_err(|e| format!("neighbor {}: {e}", n.config.peer_address))?;
            }
            updates.push((
                n.config.peer_address,
                Arc::clone(&n.file_routes),
                next.clone(),
            ));
        }
        // Neighbors that shared a route set share the new one too.
        let mut sets: HashMap<*const RouteSet, Arc<RouteSet>> = HashMap::new();
        for (addr, old, next) in updates {
            let set = sets
                .entry(Arc::as_ptr(&old))
                .or_insert_with(|| Arc::new(old.with_plain_routes(next)))
                .clone();
            let config = match self.neighbors.get(addr) {
                Some(n) => n.config.clone(),
                None => continue,
            };
            info!(
                "neighbor {addr}: {} routes now, from the changed files",
                set.len()
            );
            self.neighbors.update(addr, config, set);
            self.program_routes.mark(addr);
        }
        Ok(())
    }
}

/// `table` with each splice's entries replaced by its file's routes (splices sorted, not
/// overlapping, and the new routes of one file not reaching into another's). The rest of
/// the table is shared, not copied: only the new routes and the seams are checked.
fn spliced(
    table: &PlainTable,
    splices: &[Splice],
    new_rows: &[Arc<Vec<Route>>],
) -> Result<PlainTable, String> {
    let mut next = table.clone();
    // From the last: the positions of the earlier splices stay valid.
    let mut below = usize::MAX;
    for s in splices.iter().rev() {
        if s.to > below || s.from > s.to {
            return Err("changed files overlap".into());
        }
        next = next.spliced(s.from, s.to, Arc::clone(&s.rows));
        below = s.from;
    }
    let new: Vec<&Arc<Vec<Route>>> = new_rows.iter().collect();
    // The new routes of a file must not reach among another file's (or each other's).
    if !next.sorted_at_seams(&new) {
        return Err(
            "the new routes of a changed file are among the prefixes of another file".into(),
        );
    }
    Ok(next)
}

/// The address families of a sorted table (IPv4 prefixes sort before IPv6 ones).
fn families(
    table: &PlainTable,
) -> (
    Option<crate::wire::family::Afi>,
    Option<crate::wire::family::Afi>,
) {
    (
        table.first().map(|r| r.0.afi()),
        table.last().map(|r| r.0.afi()),
    )
}
