//! `state-file`: the journal of program routes and health-check states, replayed at start
//! (before End-of-RIB) and kept while running, so that a restart inside the peers'
//! graceful-restart window withdraws nothing that was up. The file format is `state_file`.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use log::info;

use super::{Manager, readiness, state_file};
use crate::config::Config;

/// The state file is written at most this often.
const JOURNAL_PACE: Duration = Duration::from_secs(1);

/// The state file's bookkeeping.
pub(super) struct Journal {
    pub(super) path: Option<PathBuf>,
    /// Health check name -> up, as last found (or replayed).
    pub(super) checks: BTreeMap<String, bool>,
    /// Something to write since the last save.
    pub(super) dirty: bool,
    pub(super) saved_at: Instant,
    /// When replayed routes of helpers that never said they were ready are withdrawn.
    pub(super) replay_until: Option<Instant>,
}

impl Manager {
    /// The state file's routes go into the program tables before the sessions start (a
    /// helper's under `Source::Replayed` until it is ready), its check states to the checks.
    pub(super) fn replay(&mut self, config: &Config, saved: &state_file::SavedState) {
        use crate::api::Source;
        let mut skipped = 0usize;
        for (addr, source, text) in &saved.routes {
            let mapped = config.neighbors.iter().any(|n| {
                n.peer_address == *addr
                    && match source {
                        Source::Process(name) => n.api_processes.contains(name),
                        _ => true,
                    }
            });
            let route = crate::config::api_command::route_from_text(text);
            let (true, Ok(route)) = (mapped, route) else {
                skipped += 1;
                continue;
            };
            let source = match source {
                Source::Control => Source::Control,
                s => Source::Replayed(Box::new(s.clone())),
            };
            self.program_routes.restore(*addr, &source, &[route]);
        }
        if skipped > 0 {
            log::warn!(
                "state file: {skipped} routes not replayed (neighbor or helper no longer configured, or unreadable)"
            );
        }
        self.program_routes.take_dirty();
        self.journal.checks = saved
            .checks
            .iter()
            .filter(|(name, _)| config.healthchecks.iter().any(|c| c.name == **name))
            .map(|(n, up)| (n.clone(), *up))
            .collect();
        if !self.program_routes.replayed().is_empty() {
            let longest = config
                .neighbors
                .iter()
                .map(|n| readiness::eor_wait_seconds(n, true))
                .max()
                .unwrap_or(crate::config::model::DEFAULT_EOR_WAIT);
            self.journal.replay_until = Some(Instant::now() + Duration::from_secs(longest.into()));
        }
    }

    /// Writes the state file when something changed, at most once a second, and always
    /// at shutdown (`force`), so a refused or stale file on disk is replaced; drops the replayed routes whose helpers never said they were ready.
    pub(super) fn keep_journal(&mut self, force: bool) {
        if self
            .journal
            .replay_until
            .is_some_and(|t| Instant::now() >= t)
        {
            self.journal.replay_until = None;
            for source in self.program_routes.replayed() {
                info!("{source}: not announced again within eor-wait, withdrawn");
                self.program_routes.drop_source(&source);
            }
        }
        let Some(path) = self.journal.path.clone() else {
            return;
        };
        if !force && (!self.journal.dirty || self.journal.saved_at.elapsed() < JOURNAL_PACE) {
            return;
        }
        let state = state_file::SavedState {
            checks: self.journal.checks.clone(),
            routes: self.program_routes.journal(),
        };
        self.journal.dirty = false;
        self.journal.saved_at = Instant::now();
        if let Err(e) = state_file::save(&path, &state) {
            log::error!("state file {}: cannot write: {e}", path.display());
        }
    }
}
