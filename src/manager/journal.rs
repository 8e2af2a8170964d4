//! `state-file`: the journal of program routes and health-check states, replayed at start
//! (before End-of-RIB) and kept while running, so that a restart inside the peers'
//! graceful-restart window withdraws nothing that was up. The file format is `state_file`.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use log::info;

use super::{Manager, readiness, state_file};
use crate::api::command::Command;
use crate::config::Config;

/// What a journaled text (what followed `announce`) announces: `None` for anything but one
/// plain announce without a neighbor selector (the file is not trusted to hold commands).
pub(super) fn announced_command(text: &str) -> Option<Command> {
    let request = crate::api::command::parse(&format!("announce {text}"));
    let plain = request.neighbors.is_empty() && request.lease.is_none();
    match request.command {
        c @ (Command::Announce(_) | Command::AnnounceFamily(_) | Command::AnnounceFlow(_))
            if plain =>
        {
            Some(c)
        }
        _ => None,
    }
}

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
    /// helper's under `Source::Replayed` until it is ready), its watchdog routes into their
    /// groups with their state, its check states to the checks.
    pub(super) fn replay(&mut self, config: &Config, saved: &state_file::SavedState) {
        use crate::api::Source;
        let mut skipped = 0usize;
        let neighbor = |addr: &std::net::IpAddr, source: &Source| {
            config.neighbors.iter().find(|n| {
                n.peer_address == *addr
                    && match source {
                        Source::Process(name) => n.api_processes.contains(name),
                        _ => true,
                    }
            })
        };
        let replayed = |s: &Source| match s {
            Source::Control | Source::Watchdog => s.clone(),
            s => Source::Replayed(Box::new(s.clone())),
        };
        for (addr, source, text) in &saved.routes {
            let route = crate::config::api_command::route_from_text(text);
            let (Some(_), Ok(route)) = (neighbor(addr, source), route) else {
                skipped += 1;
                continue;
            };
            self.program_routes
                .restore(*addr, &replayed(source), &[route]);
        }
        for (addr, source, text) in &saved.announced {
            let restored = neighbor(addr, source).is_some_and(|n| {
                self.program_routes
                    .restore_announced(n, &replayed(source), text)
            });
            skipped += usize::from(!restored);
        }
        for m in &saved.watchdogs {
            let route = match announced_command(&m.text) {
                Some(Command::Announce(mut routes)) if routes.len() == 1 => routes.pop(),
                _ => None,
            };
            let (Some(_), Some(route)) = (neighbor(&m.addr, &m.source), route) else {
                skipped += 1;
                continue;
            };
            self.program_routes.restore_member(
                m.addr,
                &replayed(&m.source),
                &m.group,
                route,
                m.announced,
            );
        }
        if skipped > 0 {
            log::warn!(
                "state file: {skipped} routes not replayed (neighbor, family or helper no longer configured, or unreadable)"
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
        let journaled = self.program_routes.journal();
        let state = state_file::SavedState {
            checks: self.journal.checks.clone(),
            routes: journaled.routes,
            announced: journaled.announced,
            watchdogs: journaled.watchdogs,
        };
        self.journal.dirty = false;
        self.journal.saved_at = Instant::now();
        if let Err(e) = state_file::save(&path, &state) {
            log::error!("state file {}: cannot write: {e}", path.display());
        }
    }
}
