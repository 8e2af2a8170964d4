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
//! - `adj_rib_in`: the routes peers send, kept for `show adj-rib in` (`adj-rib-in true`);
//! - `requests`: who may change what, and the answers (`held_acks`: a helper's `done` held
//!   until the UPDATEs it is told of are sent);
//! - `reload`: a reload plan applied;
//! - `journal` and `readiness`: a restart inside the peers' graceful-restart window (the
//!   state file replayed and kept; End-of-RIB once every source is ready);
//! - `status`: `show neighbor`, `show adj-rib out` and the SIGUSR2 dump;
//! - `dynamic`: neighbors a helper or the control socket creates and deletes at run time
//!   (`create neighbor`, `delete neighbor`), kept across reloads.
//!
//! Reloads are planned by [`crate::reload_plan`] (pure) and applied here: only the
//! difference reaches each peer.

mod adj_rib_in;
mod dynamic;
mod fanout;
mod file_patch;
mod held_acks;
mod journal;
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
mod watchdog;

use std::collections::BTreeMap;
use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender};
use log::info;

pub use crate::events::{ManagerEvent, ProgramEvent};
pub use crate::route_sets::route_sets;
pub use neighbors::session_config;
pub use reload::Reloaded;

/// What a neighbor is sent at start (`bgpinject encode`): its file's routes, with its
/// watchdog routes that do not start withdrawn.
pub fn start_routes(n: &NeighborConfig, file: &Arc<RouteSet>) -> Arc<RouteSet> {
    let mut routes = ProgramRoutes::default();
    routes.configure_watchdogs(n.peer_address, &n.routes.watchdog);
    routes.routes_for(n.peer_address, file)
}

use crate::api::{ApiRequest, RefusalLog, control};
use crate::config::healthcheck::HealthcheckConfig;
use crate::config::{Config, NeighborConfig};
use crate::rib::route_set::RouteSet;
use fanout::Fanout;
use journal::Journal;
use neighbors::Neighbors;
use program_routes::ProgramRoutes;
use programs::Supervisor;
use readiness::Readiness;

/// API commands arriving within this time (plus twice the cost of the last update, so that
/// a flood cannot make the manager rebuild route sets back to back) make one update.
const API_COALESCE: Duration = Duration::from_millis(10);
/// The longest the manager sleeps without a message (to reap stopped neighbor threads).
const IDLE_WAIT: Duration = Duration::from_secs(1);

pub struct Manager {
    config_path: PathBuf,
    /// What the running configuration was read from, for a reload to parse only what
    /// changed (`file_patch.rs`).
    file_cache: Option<Arc<crate::config::file_cache::FileCache>>,
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
    /// Helpers' answers held until the UPDATEs they are told of are sent.
    held_acks: held_acks::HeldAcks,
    /// The routes of the peers of neighbors with `adj-rib-in true`.
    adj_rib_in: adj_rib_in::AdjRibIn,
    _control: Option<control::ControlSocket>,
    /// The channels of helpers and health checks, and of the control socket (its sender is
    /// kept so that the channel stays open without a socket).
    programs_rx: Receiver<ProgramEvent>,
    control_rx: Receiver<ApiRequest>,
    _control_tx: Sender<ApiRequest>,
    /// What scrapes see besides the neighbors' statuses (see `metrics.rs`).
    metrics: crate::metrics::Counters,
    /// The neighbors `create neighbor` started, kept across reloads (see `dynamic.rs`).
    created: BTreeMap<std::net::IpAddr, NeighborConfig>,
}

/// Why the daemon could not start.
#[derive(Debug)]
pub enum StartError {
    Listen(SocketAddr, io::Error),
    Thread(io::Error),
    /// A health check that cannot run as configured (its account, its service addresses).
    Check(io::Error),
    Control(control::ControlError),
}

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use crate::descriptors::explain;
        match self {
            StartError::Listen(a, e) => write!(f, "cannot listen on {a}: {}", explain(e)),
            StartError::Thread(e) => write!(f, "cannot start a thread: {}", explain(e)),
            StartError::Check(e) => write!(f, "{e}"),
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
        // This run's UUID and start time (`ping`, `status`), fixed before any helper asks.
        crate::api::command::instance_id();
        let control = match control::daemon_path() {
            Some(p) => control::start(&p, control_tx.clone()).map_err(StartError::Control)?,
            None => None,
        };
        let mut m = Manager {
            config_path,
            file_cache: Some(Arc::clone(&config.files)),
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
            held_acks: held_acks::HeldAcks::default(),
            adj_rib_in: adj_rib_in::AdjRibIn::default(),
            _control: control,
            programs_rx,
            control_rx,
            _control_tx: control_tx,
            metrics: Default::default(),
            created: BTreeMap::new(),
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
            m.program_routes
                .configure_watchdogs(n.peer_address, &n.routes.watchdog);
            m.start_neighbor(n, routes, &config.healthchecks)?;
        }
        m.programs
            .start_checks(&config.healthchecks, &m.journal.checks)
            .map_err(StartError::Check)?;
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
            let wait = [self.leases.next_expiry(), self.held_acks.next_deadline()]
                .into_iter()
                .flatten()
                .fold(wait, |w, t| {
                    w.min(t.saturating_duration_since(Instant::now()))
                });
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
            if flush_at.is_none() {
                // The routes held answers wait for are with the neighbors now.
                for (addr, token) in self.held_acks.syncs_to_ask() {
                    if !self.neighbors.sync(addr, token) {
                        self.held_acks.synced(addr, token);
                    }
                }
            }
            self.held_acks.release(Instant::now());
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
            ManagerEvent::ReloadWatched(reply) => {
                let _ = reply.send(self.reload_files());
            }
            ManagerEvent::Incoming(stream) => self.neighbors.incoming(stream),
            ManagerEvent::DumpStatus => self.dump_status(),
            ManagerEvent::Received(addr, update, treat_as_withdraw) => {
                if let Some(n) = self.neighbors.get(addr) {
                    if n.config.options.adj_rib_in {
                        self.adj_rib_in.received(addr, &update, treat_as_withdraw);
                    }
                    if n.config.api_receive_updates {
                        let update = crate::api::events::NeighborEvent::Update(update);
                        fanout::send(&self.programs, &n.config, &[update]);
                    }
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

    fn shutdown(mut self) {
        self.keep_journal(true);
        self.programs.stop_all();
        crate::api::healthcheck::kill_running();
        info!(
            "shutting down: Cease to every established peer (closing without NOTIFICATION where graceful restart was negotiated)"
        );
        self.neighbors.shutdown();
        self.programs.terminate_all();
    }
}
