//! The route-manager thread: owns the configuration and every neighbor's desired routes, and
//! reacts to the events of its three channels (see [`crate::events`]) one at a time. Its
//! parts, one concept each:
//!
//! - `neighbors`: neighbor threads started, restarted (held until the old one stopped),
//!   stopped; `listeners` for the passive ones;
//! - `program_routes`: the routes of helpers, health checks and the control socket, per
//!   neighbor and source, over the file's (`source_routes`: one source's, and the union);
//! - `programs`: one supervisor for helpers and health checks, reconciled on reload;
//! - `fanout`: neighbor events for helpers, from the threads' typed reports;
//! - `requests`: who may change what, and the answers;
//! - `reload`: a reload plan applied;
//! - `status`: `show neighbor`, `show adj-rib out` and the SIGUSR2 dump.
//!
//! Reloads are planned by [`crate::reload_plan`] (pure) and applied here: only the
//! difference reaches each peer.

mod fanout;
mod listeners;
mod metrics;
mod neighbors;
mod program_routes;
mod programs;
mod readiness;
mod reload;
mod requests;
mod source_routes;
mod state_file;
mod status;

use std::collections::BTreeMap;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender};
use log::info;

pub use crate::events::{ManagerEvent, ProgramEvent};
pub use crate::route_sets::route_sets;
pub use neighbors::session_config;

use crate::api::{ApiRequest, RefusalLog, control};
use crate::config::healthcheck::HealthcheckConfig;
use crate::config::{Config, NeighborConfig};
use crate::rib::route_set::RouteSet;
use crate::session::core::SessionEvent;
use crate::session::fsm::State;
use crate::session::peer::PeerReport;
use fanout::Fanout;
use neighbors::Neighbors;
use program_routes::ProgramRoutes;
use programs::Supervisor;
use readiness::Readiness;

/// API commands arriving within this time (plus twice the cost of the last update, so that
/// a flood cannot make the manager rebuild route sets back to back) make one update.
const API_COALESCE: Duration = Duration::from_millis(10);
/// The state file is written at most this often.
const JOURNAL_PACE: Duration = Duration::from_secs(1);
/// The longest the manager sleeps without a message (to reap stopped neighbor threads).
const IDLE_WAIT: Duration = Duration::from_secs(1);

pub struct Manager {
    config_path: PathBuf,
    neighbors: Neighbors,
    program_routes: ProgramRoutes,
    /// Program routes announced with a lease (`api::lease`).
    leases: crate::api::lease::Leases,
    programs: Supervisor,
    fanout: Fanout,
    /// Which helpers and health checks are ready, for the End-of-RIB of their neighbors.
    readiness: Readiness,
    /// `state-file`: the journal of program routes and health check states.
    journal: Journal,
    /// Refused commands, logged at a bounded pace per source.
    refusals: RefusalLog,
    _control: Option<control::ControlSocket>,
    /// The channels of helpers and health checks, and of the control socket (its sender is
    /// kept so that the channel stays open without a socket).
    programs_rx: Receiver<ProgramEvent>,
    control_rx: Receiver<ApiRequest>,
    _control_tx: Sender<ApiRequest>,
    /// What scrapes see besides the neighbors' statuses (see `metrics.rs`).
    metrics: crate::metrics::Counters,
}

/// The state file's bookkeeping.
struct Journal {
    path: Option<PathBuf>,
    /// Health check name -> up, as last found (or replayed).
    checks: BTreeMap<String, bool>,
    /// Something to write since the last save.
    dirty: bool,
    saved_at: Instant,
    /// When replayed routes of helpers that never said they were ready are withdrawn.
    replay_until: Option<Instant>,
}

/// Why the daemon could not start.
#[derive(Debug)]
pub enum StartError {
    Listen(SocketAddr, io::Error),
    Thread(io::Error),
    Control(control::ControlError),
}

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use crate::descriptors::explain;
        match self {
            StartError::Listen(a, e) => write!(f, "cannot listen on {a}: {}", explain(e)),
            StartError::Thread(e) => write!(f, "cannot start a thread: {}", explain(e)),
            StartError::Control(e) => write!(f, "{e}"),
        }
    }
}

impl Manager {
    pub fn start(
        config_path: PathBuf,
        config: Config,
        events: Sender<ManagerEvent>,
    ) -> Result<Manager, StartError> {
        let (control_tx, control_rx) = crossbeam_channel::unbounded();
        let (programs_tx, programs_rx) = crossbeam_channel::unbounded();
        let control = match control::daemon_path() {
            Some(p) => control::start(&p, control_tx.clone()).map_err(StartError::Control)?,
            None => None,
        };
        let mut m = Manager {
            config_path,
            neighbors: Neighbors::new(events),
            program_routes: ProgramRoutes::default(),
            leases: Default::default(),
            programs: Supervisor::new(programs_tx),
            fanout: Fanout::default(),
            readiness: Readiness::default(),
            journal: Journal {
                path: config.state_file.clone(),
                checks: BTreeMap::new(),
                dirty: false,
                saved_at: Instant::now(),
                replay_until: None,
            },
            refusals: RefusalLog::default(),
            _control: control,
            programs_rx,
            control_rx,
            _control_tx: control_tx,
            metrics: Default::default(),
        };
        let saved = config
            .state_file
            .as_deref()
            .and_then(state_file::load)
            .unwrap_or_default();
        m.replay(&config, &saved);
        // Helpers first, as ExaBGP does, so that the first events of a session reach them.
        let sets = route_sets(&config);
        m.programs
            .start_helpers(&config.processes)
            .map_err(StartError::Thread)?;
        m.metrics.describe(&config.neighbors);
        for (n, routes) in config.neighbors.into_iter().zip(sets) {
            m.start_neighbor(n, routes, &config.healthchecks)?;
        }
        m.programs
            .start_checks(&config.healthchecks, &m.journal.checks)
            .map_err(StartError::Thread)?;
        Ok(m)
    }

    fn start_neighbor(
        &mut self,
        n: NeighborConfig,
        file: Arc<RouteSet>,
        checks: &[HealthcheckConfig],
    ) -> Result<(), StartError> {
        let routes = self.program_routes.routes_for(n.peer_address, &file);
        let eor_wait = readiness::eor_wait(&n, checks, self.journal.path.is_some());
        // A new thread holds its End-of-RIB again: what is ready is released to it anew.
        self.readiness.forget(n.peer_address);
        self.neighbors.start(n, file, routes, eor_wait)
    }

    /// The state file's routes go into the program tables before the sessions start (a
    /// helper's under `Source::Replayed` until it is ready), its check states to the checks.
    fn replay(&mut self, config: &Config, saved: &state_file::SavedState) {
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

    /// Writes the state file when something changed, at most once a second (and at
    /// shutdown, `force`); drops the replayed routes whose helpers never said they were ready.
    fn keep_journal(&mut self, force: bool) {
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
        if !self.journal.dirty || (!force && self.journal.saved_at.elapsed() < JOURNAL_PACE) {
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

    /// Lets the held End-of-RIB of each neighbor go for the families all its sources are
    /// ready for; called once their routes were flushed, so the marker follows them.
    fn release_end_of_ribs(&mut self) {
        let (_, checks) = self.programs.configs();
        let neighbors: Vec<_> = self
            .neighbors
            .iter()
            .map(|n| {
                (
                    n.config.peer_address,
                    readiness::sources_of(&n.config, &checks),
                )
            })
            .collect();
        for (addr, r) in self.readiness.take_releases(neighbors.into_iter()) {
            self.neighbors.release_end_of_rib(addr, r);
        }
    }

    /// Runs until a shutdown event. The three channels are served fairly: a flooding helper
    /// delays neither the neighbors' events nor the control socket.
    pub fn run(mut self, events: Receiver<ManagerEvent>) {
        let (programs, control) = (self.programs_rx.clone(), self.control_rx.clone());
        let mut flush_at: Option<Instant> = None;
        let mut last_flush_cost = Duration::ZERO;
        loop {
            let wait = match flush_at {
                Some(t) => t.saturating_duration_since(Instant::now()),
                None => IDLE_WAIT,
            };
            let wait = match self.leases.next_expiry() {
                Some(t) => wait.min(t.saturating_duration_since(Instant::now())),
                None => wait,
            };
            let stop = crossbeam_channel::select! {
                recv(events) -> e => e.map_or(true, |e| self.event(e)),
                recv(programs) -> m => match m {
                    Ok(ProgramEvent::Request(request)) => self.api(request),
                    Ok(ProgramEvent::HelperStarted(output)) => {
                        self.greet(&output);
                        false
                    }
                    Ok(ProgramEvent::CheckResult(result)) => {
                        self.check_result(result);
                        false
                    }
                    Err(_) => false,
                },
                recv(control) -> r => r.is_ok_and(|r| self.api(r)),
                default(wait) => false,
            };
            if stop {
                break;
            }
            self.expire_leases();
            if self.program_routes.is_dirty() && flush_at.is_none() {
                flush_at = Some(Instant::now() + API_COALESCE + 2 * last_flush_cost);
            }
            if flush_at.is_some_and(|t| Instant::now() >= t) {
                let started = Instant::now();
                self.flush();
                self.journal.dirty = true;
                last_flush_cost = started.elapsed();
                flush_at = None;
            }
            if self.readiness.is_changed() && flush_at.is_none() {
                self.release_end_of_ribs();
            }
            self.keep_journal(false);
            self.neighbors.reap_stopped();
            self.publish_metrics();
        }
        self.shutdown();
    }

    /// One event of signals, listeners or neighbor threads; `true` to stop.
    fn event(&mut self, event: ManagerEvent) -> bool {
        match event {
            ManagerEvent::Reload => self.reload(),
            ManagerEvent::ReloadParsed(config) => {
                let started = Instant::now();
                self.apply_reload(*config);
                crate::metrics::reloaded(true, started.elapsed());
            }
            ManagerEvent::Incoming(stream) => self.neighbors.incoming(stream),
            ManagerEvent::DumpStatus => self.dump_status(),
            ManagerEvent::Received(addr, update) => {
                if let Some(n) = self.neighbors.get(addr) {
                    let update = crate::api::events::NeighborEvent::Update(update);
                    fanout::send(&self.programs, &n.config, &[update]);
                }
            }
            ManagerEvent::Peer(report) => self.peer_report(report),
            ManagerEvent::Shutdown => return true,
        }
        false
    }

    /// A health check finished a check: after its first, its neighbors need not wait for it.
    fn check_result(&mut self, result: crate::events::CheckResult) {
        if result.stopped.load(std::sync::atomic::Ordering::SeqCst) {
            return;
        }
        self.readiness
            .mark(&crate::api::Source::Healthcheck(result.name.clone()), None);
        if self.journal.checks.get(&result.name) != Some(&result.up) {
            self.journal.checks.insert(result.name, result.up);
            self.journal.dirty = true;
        }
    }

    /// A helper that (re)started is told which of its neighbors are up.
    fn greet(&mut self, output: &Arc<crate::api::process::HelperOutput>) {
        if self.programs.is_current(output) {
            self.metrics.helper_started(output);
            let up = self
                .neighbors
                .iter()
                .filter(|n| n.status.state == State::Established);
            fanout::greet(output, up.map(|n| &n.config));
        }
    }

    /// Sends every neighbor whose program routes changed its new route set (the union of the
    /// file's routes and every source's); the neighbor thread sends only the difference.
    fn flush(&mut self) {
        // Neighbors that share a file table and were given the same program routes (one
        // `ctl announce` to all of them) share one union too, instead of a copy each.
        let mut made: Vec<(Arc<RouteSet>, IpAddr, Arc<RouteSet>)> = Vec::new();
        for addr in self.program_routes.take_dirty() {
            let Some(n) = self.neighbors.get(addr) else {
                continue;
            };
            let tables = self.program_routes.of(addr);
            let known = made.iter().find(|(file, other, _)| {
                Arc::ptr_eq(file, &n.file_routes) && self.program_routes.of(*other) == tables
            });
            let routes = match known {
                Some((_, _, routes)) => routes.clone(),
                None => {
                    let routes = self.program_routes.routes_for(addr, &n.file_routes);
                    made.push((n.file_routes.clone(), addr, routes.clone()));
                    routes
                }
            };
            self.neighbors.set_routes(addr, routes);
        }
    }

    /// A neighbor thread's report: its status, the helpers' events (in the order the thread
    /// sent them), and the start of a neighbor that waited for this thread to stop.
    fn peer_report(&mut self, report: PeerReport) {
        self.metrics.session_event(report.peer, &report.event);
        if report.event == SessionEvent::Stopped {
            self.neighbors.stopped(report.peer, report.id);
            return;
        }
        let current = match self.neighbors.current_mut(&report) {
            Some(n) => {
                n.status.record(&report.event);
                true
            }
            None => false,
        };
        let happened = self.fanout.translate(report.peer, current, &report.event);
        if let Some(n) = self
            .neighbors
            .get(report.peer)
            .filter(|_| !happened.is_empty())
        {
            fanout::send(&self.programs, &n.config, &happened);
        }
    }

    fn dump_status(&self) {
        info!("status of {} neighbors:", self.neighbors.iter().count());
        for n in self.neighbors.iter() {
            info!("{}", n.view().line());
        }
    }

    fn shutdown(mut self) {
        self.keep_journal(true);
        self.programs.stop_all();
        info!(
            "shutting down: Cease to every established peer (closing without NOTIFICATION where graceful restart was negotiated)"
        );
        self.neighbors.shutdown();
        self.programs.terminate_all();
    }
}
