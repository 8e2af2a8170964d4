//! The route-manager thread: owns the configuration and every neighbor's desired routes,
//! starts and stops neighbor threads, hands accepted connections to them, and applies
//! reloads (only the difference reaches each peer; see [`session_settings_changed`]).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io;
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};
use log::{error, info, warn};

use crate::api::events::{self, NeighborEvent};
use crate::api::process::Helper;
use crate::api::{ApiRequest, Source, control};
use crate::config::healthcheck::HealthcheckConfig;
use crate::config::model::RouteTable;
use crate::config::process::{OnExit, ProcessConfig};
use crate::config::{self, Config, NeighborConfig};
use crate::descriptors::AcceptBackoff;
use crate::reload_plan::{NeighborChange, ReloadPlan};
use crate::rib::other_nlri::{self, OtherRoute};
use crate::rib::route_set::{AttributeInterner, Route, RouteSet};
use crate::session::core::SessionEvent;
use crate::session::fsm::{DownReason, SessionConfig, State};
use crate::session::peer::{self, PeerCommand, PeerHandle, PeerReport, PeerSpec, UpdateSink};
use crate::session::socket::{self, SocketOptions};
use crate::wire::family::Safi;
use crate::wire::notification::{Notification, code, subcode};

/// How long start waits for helper programs to run before starting the sessions.
const HELPER_START_WAIT: Duration = Duration::from_secs(2);

/// How long shutdown waits for neighbor threads to send their NOTIFICATION and close.
const SHUTDOWN_WAIT: Duration = Duration::from_secs(5);
/// API commands arriving within this time (plus twice the cost of the last update, so that
/// a flood cannot make the manager rebuild route sets back to back) make one update.
const API_COALESCE: Duration = Duration::from_millis(10);
/// The longest the manager sleeps without a message (to reap stopped neighbor threads).
const IDLE_WAIT: Duration = Duration::from_secs(1);

/// What the manager thread reacts to.
#[derive(Debug)]
pub enum ManagerEvent {
    /// Re-read the configuration file (SIGHUP, SIGUSR1).
    Reload,
    /// Apply a configuration `--watch` has already read and validated (one parse per change).
    ReloadParsed(Box<Config>),
    /// Send Cease to every peer and stop (SIGTERM, SIGINT).
    Shutdown,
    /// A listener accepted a connection.
    Incoming(TcpStream),
    /// Log every neighbor's state (SIGUSR2).
    DumpStatus,
    /// An UPDATE a neighbor's peer sent, for the helpers that asked for them.
    Received(IpAddr, Box<crate::wire::update::Update>),
    /// A command from a helper process, the control socket or a health check.
    Api(ApiRequest),
    /// What happened to a neighbor's session.
    Peer(PeerReport),
    /// A helper's program (re)started: it gets the current neighbor states.
    HelperStarted(Arc<crate::api::process::HelperOutput>),
}

struct Neighbor {
    config: NeighborConfig,
    /// What the neighbor thread was last told to announce: the file's routes and the API's.
    routes: Arc<RouteSet>,
    /// The routes of the configuration file alone.
    file_routes: Arc<RouteSet>,
    tx: PeerHandle,
    handle: JoinHandle<()>,
    /// The id of its thread's reports.
    id: u64,
    /// Spawned held: it starts once no earlier thread for this peer runs any more, so that
    /// bgpinject never has two sessions open to one peer.
    held: bool,
    status: PeerStatus,
}

/// A neighbor's state as the operator wants to see it, kept from its thread's reports.
#[derive(Clone, Debug)]
struct PeerStatus {
    state: State,
    established_since: Option<SystemTime>,
    updates_sent: u64,
    routes_announced: u64,
    last_error: Option<String>,
}

impl Default for PeerStatus {
    fn default() -> Self {
        PeerStatus {
            state: State::Idle,
            established_since: None,
            updates_sent: 0,
            routes_announced: 0,
            last_error: None,
        }
    }
}

/// A neighbor thread asked to stop that has not reported `Stopped` yet.
struct Stopping {
    peer: IpAddr,
    id: u64,
    handle: JoinHandle<()>,
}

/// A listening socket and the flag that ends its accept thread.
struct Listener {
    socket: TcpListener,
    closed: Arc<AtomicBool>,
}

impl Listener {
    /// Ends the accept thread (shutdown wakes its blocked `accept()`) and closes the port.
    fn close(self, addr: SocketAddr) {
        self.closed.store(true, Ordering::SeqCst);
        // SAFETY: shutdown(2) on a descriptor this value owns; it is closed when dropped.
        unsafe {
            libc::shutdown(self.socket.as_raw_fd(), libc::SHUT_RDWR);
        }
        info!("listener {addr}: closed, no neighbor uses it any more");
    }
}

pub struct Manager {
    config_path: PathBuf,
    neighbors: BTreeMap<IpAddr, Neighbor>,
    /// Listening sockets by address (a clone of each, to add MD5 keys for new neighbors).
    listeners: HashMap<SocketAddr, Listener>,
    events: Sender<ManagerEvent>,
    /// Routes from programs, per neighbor and source; they survive reloads and restarts.
    api_routes: BTreeMap<IpAddr, crate::api::SourceTables>,
    /// Neighbors whose API routes changed since the last update sent.
    dirty: BTreeSet<IpAddr>,
    /// Refused commands, logged at a bounded pace per source.
    refusals: crate::api::RefusalLog,
    interner: AttributeInterner,
    helpers: BTreeMap<String, Helper>,
    /// The configuration each helper runs with (a reload restarts a helper whose block changed).
    helper_configs: BTreeMap<String, ProcessConfig>,
    /// Each health check's configuration and the flag that stops its thread.
    checks: BTreeMap<String, (HealthcheckConfig, Arc<AtomicBool>)>,
    _control: Option<control::ControlSocket>,
    /// Per peer: whether helpers were last told it is up.
    seen_up: HashMap<IpAddr, bool>,
    /// Threads asked to stop, until they report that they did.
    stopping: Vec<Stopping>,
    next_id: u64,
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
        match self {
            StartError::Listen(a, e) => {
                write!(
                    f,
                    "cannot listen on {a}: {}",
                    crate::descriptors::explain(e)
                )
            }
            StartError::Thread(e) => {
                write!(
                    f,
                    "cannot start a thread: {}",
                    crate::descriptors::explain(e)
                )
            }
            StartError::Control(e) => write!(f, "{e}"),
        }
    }
}

/// The routes of every neighbor, with attribute sets shared across all of them, and one
/// shared route set for neighbors whose routes are the same (100 neighbors of 100k identical
/// routes hold one table, not 100).
pub fn route_sets(config: &Config) -> Vec<Arc<RouteSet>> {
    let mut interner = AttributeInterner::default();
    let mut sets: Vec<Arc<RouteSet>> = Vec::with_capacity(config.neighbors.len());
    for (i, n) in config.neighbors.iter().enumerate() {
        let same = config.neighbors[..i]
            .iter()
            .position(|earlier| same_routes(earlier, n));
        if let Some(j) = same {
            sets.push(sets[j].clone());
            continue;
        }
        let flows = n
            .flows
            .iter()
            .map(|f| (f.rule.clone(), interner.intern(&f.attributes)))
            .collect();
        sets.push(Arc::new(route_set(&n.routes, flows)));
    }
    sets
}

/// The route set of a neighbor's table: the unicast routes shared, not copied, unless some
/// need the MP encoding (an IPv4 prefix with an IPv6 next hop).
fn route_set(table: &RouteTable, flows: Vec<crate::rib::route_set::Flow>) -> RouteSet {
    let mut others: Vec<_> = table
        .others
        .iter()
        .filter_map(|r| {
            let key = r.other_key()?;
            let route = OtherRoute {
                labels: r.nlri().labels.clone(),
                attrs: r.attributes.clone(),
            };
            Some((key, route))
        })
        .collect();
    let cross_family = |(p, a): &Route| other_nlri::cross_family_key(*p, a);
    if !table.unicast.iter().any(|r| cross_family(r).is_some()) {
        return RouteSet::with_shared_routes(Arc::clone(&table.unicast), flows).with_others(others);
    }
    let mut routes = Vec::new();
    for r in table.unicast.iter() {
        match cross_family(r) {
            Some(key) => others.push((
                key,
                OtherRoute {
                    labels: Vec::new(),
                    attrs: r.1.clone(),
                },
            )),
            None => routes.push(r.clone()),
        }
    }
    RouteSet::with_flows(routes, flows).with_others(others)
}

/// A neighbor as helper events name it.
fn helper_peer(n: &NeighborConfig) -> events::Peer {
    events::Peer {
        local: n.local_address,
        peer: n.peer_address,
        local_as: n.local_as,
        peer_as: n.peer_as,
    }
}

/// Whether two neighbors were given the same routes and rules, in the same order (where in
/// the file they were written does not matter).
fn same_routes(a: &NeighborConfig, b: &NeighborConfig) -> bool {
    let (ra, rb) = (&a.routes, &b.routes);
    (Arc::ptr_eq(&ra.unicast, &rb.unicast) || ra.unicast == rb.unicast)
        && ra.others.len() == rb.others.len()
        && ra
            .others
            .iter()
            .zip(&rb.others)
            .all(|(x, y)| x.prefix == y.prefix && x.nlri == y.nlri && x.attributes == y.attributes)
        && a.flows.len() == b.flows.len()
        && a.flows
            .iter()
            .zip(&b.flows)
            .all(|(x, y)| x.rule == y.rule && x.attributes == y.attributes)
}

/// What the FSM of this neighbor proposes and expects.
pub fn session_config(n: &NeighborConfig) -> SessionConfig {
    SessionConfig {
        local_as: n.local_as,
        peer_as: n.peer_as,
        router_id: n.router_id,
        hold_time: n.hold_time,
        families: n.families.clone(),
        passive: n.passive,
        graceful_restart: n.options.graceful_restart,
        four_octet_as: n.options.four_octet_as,
        route_refresh: n.options.route_refresh,
        add_path: n
            .options
            .add_path
            .map(|mode| {
                n.families
                    .iter()
                    .filter(|f| !matches!(f.safi, Safi::FlowSpec | Safi::FlowSpecVpn))
                    .map(|&f| (f, mode))
                    .collect()
            })
            .unwrap_or_default(),
        extended_next_hop: n.options.extended_next_hop.clone(),
        // RFC 8654 on by default, as FRR does: a peer that does not advertise it (BIRD
        // unless `enable extended messages`) simply keeps the 4096-octet limit.
        extended_message: true,
    }
}

fn listen_address(n: &NeighborConfig) -> SocketAddr {
    let ip = n.local_address.unwrap_or(match n.peer_address {
        IpAddr::V4(_) => IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED),
        IpAddr::V6(_) => IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED),
    });
    SocketAddr::new(ip, n.listen_port)
}

impl Manager {
    pub fn start(
        config_path: PathBuf,
        config: Config,
        events: Sender<ManagerEvent>,
    ) -> Result<Manager, StartError> {
        let control = match control::daemon_path() {
            Some(p) => control::start(&p, events.clone()).map_err(StartError::Control)?,
            None => None,
        };
        let mut m = Manager {
            config_path,
            neighbors: BTreeMap::new(),
            listeners: HashMap::new(),
            events,
            api_routes: BTreeMap::new(),
            dirty: BTreeSet::new(),
            refusals: Default::default(),
            interner: AttributeInterner::default(),
            helpers: BTreeMap::new(),
            helper_configs: BTreeMap::new(),
            checks: BTreeMap::new(),
            _control: control,
            seen_up: HashMap::new(),
            stopping: Vec::new(),
            next_id: 0,
        };
        // Helpers first, as ExaBGP does, so that the first events of a session reach them.
        let sets = route_sets(&config);
        for p in config.processes {
            m.start_helper(p).map_err(StartError::Thread)?;
        }
        let deadline = Instant::now() + HELPER_START_WAIT;
        while Instant::now() < deadline && !m.helpers.values().all(|h| h.output.is_running()) {
            std::thread::sleep(Duration::from_millis(5));
        }
        for (n, routes) in config.neighbors.into_iter().zip(sets) {
            m.start_neighbor(n, routes)?;
        }
        for h in config.healthchecks {
            m.start_check(h).map_err(StartError::Thread)?;
        }
        Ok(m)
    }

    fn start_helper(&mut self, p: ProcessConfig) -> io::Result<()> {
        let name = p.name.clone();
        let helper = Helper::spawn(p.clone(), self.events.clone())?;
        self.helpers.insert(name.clone(), helper);
        self.helper_configs.insert(name, p);
        Ok(())
    }

    fn start_check(&mut self, h: HealthcheckConfig) -> io::Result<()> {
        let stop = Arc::new(AtomicBool::new(false));
        crate::api::healthcheck::spawn(h.clone(), self.events.clone(), stop.clone())?;
        self.checks.insert(h.name.clone(), (h, stop));
        Ok(())
    }

    /// Forgets the routes a program source announced (they are withdrawn at the next flush).
    fn drop_source_routes(&mut self, source: &Source) {
        for (addr, sources) in self.api_routes.iter_mut() {
            if sources.remove(source).is_some() {
                self.dirty.insert(*addr);
            }
        }
    }

    /// The `process` and `healthcheck` blocks of a reloaded configuration: new ones start,
    /// changed ones restart, removed ones stop. A stopped helper's routes go as its
    /// `on-exit` says; a stopped health check's routes are withdrawn.
    fn reload_programs(&mut self, processes: Vec<ProcessConfig>, checks: Vec<HealthcheckConfig>) {
        let same = |a: &ProcessConfig, b: &ProcessConfig| {
            let mut a = a.clone();
            a.location = b.location.clone();
            a == *b
        };
        let wanted: BTreeMap<String, ProcessConfig> =
            processes.into_iter().map(|p| (p.name.clone(), p)).collect();
        let running: Vec<String> = self.helper_configs.keys().cloned().collect();
        for name in running {
            let keep = match (self.helper_configs.get(&name), wanted.get(&name)) {
                (Some(old), Some(new)) => same(old, new),
                _ => false,
            };
            if keep {
                continue;
            }
            info!("process {name}: removed or changed by the reload, stopping it");
            if let Some(h) = self.helpers.remove(&name) {
                h.stop();
                h.terminate();
            }
            if let Some(old) = self.helper_configs.remove(&name)
                && old.on_exit == OnExit::Withdraw
            {
                self.drop_source_routes(&Source::Process(name.clone()));
            }
        }
        for (name, p) in wanted {
            if !self.helper_configs.contains_key(&name) {
                info!("process {name}: starting (reload)");
                if let Err(e) = self.start_helper(p) {
                    error!("process {name}: cannot start: {e}");
                }
            }
        }
        let same_check = |a: &HealthcheckConfig, b: &HealthcheckConfig| {
            let mut a = a.clone();
            a.location = b.location.clone();
            for (ra, rb) in a.routes.iter_mut().zip(&b.routes) {
                ra.location = rb.location.clone();
            }
            a == *b
        };
        let wanted: BTreeMap<String, HealthcheckConfig> =
            checks.into_iter().map(|h| (h.name.clone(), h)).collect();
        let running: Vec<String> = self.checks.keys().cloned().collect();
        for name in running {
            let keep = match (self.checks.get(&name), wanted.get(&name)) {
                (Some((old, _)), Some(new)) => same_check(old, new),
                _ => false,
            };
            if keep {
                continue;
            }
            info!("healthcheck {name}: removed or changed by the reload, stopping it");
            if let Some((_, stop)) = self.checks.remove(&name) {
                stop.store(true, Ordering::SeqCst);
            }
            self.drop_source_routes(&Source::Healthcheck(name.clone()));
        }
        for (name, h) in wanted {
            if !self.checks.contains_key(&name) {
                info!("healthcheck {name}: starting (reload)");
                if let Err(e) = self.start_check(h) {
                    error!("healthcheck {name}: cannot start: {e}");
                }
            }
        }
    }

    /// The listener for `addr`, started when missing.
    fn ensure_listener(&mut self, addr: SocketAddr) -> Result<&TcpListener, StartError> {
        if self.listeners.contains_key(&addr) {
            return self
                .listeners
                .get(&addr)
                .map(|l| &l.socket)
                .ok_or(StartError::Listen(addr, io::ErrorKind::NotFound.into()));
        }
        let listener = socket::listen(addr).map_err(|e| StartError::Listen(addr, e))?;
        let kept = listener
            .try_clone()
            .map_err(|e| StartError::Listen(addr, e))?;
        info!("listening on {addr}");
        let events = self.events.clone();
        let closed = Arc::new(AtomicBool::new(false));
        let closing = closed.clone();
        std::thread::Builder::new()
            .name(format!("listen {addr}"))
            .spawn(move || {
                let mut backoff = AcceptBackoff::new(format!("listener {addr}"));
                for stream in listener.incoming() {
                    if closing.load(Ordering::SeqCst) {
                        return;
                    }
                    match stream {
                        Ok(s) => {
                            backoff.succeeded();
                            if events.send(ManagerEvent::Incoming(s)).is_err() {
                                return;
                            }
                        }
                        Err(e) => backoff.failed(&e),
                    }
                }
            })
            .map_err(StartError::Thread)?;
        let l = self.listeners.entry(addr).or_insert(Listener {
            socket: kept,
            closed,
        });
        Ok(&l.socket)
    }

    fn start_neighbor(
        &mut self,
        n: NeighborConfig,
        file_routes: Arc<RouteSet>,
    ) -> Result<(), StartError> {
        let routes = match self.api_routes.get(&n.peer_address) {
            Some(api) => Arc::new(crate::api::union(&file_routes, api)),
            None => file_routes.clone(),
        };
        if n.passive {
            let addr = listen_address(&n);
            let listener = self.ensure_listener(addr)?;
            match &n.options.md5_password {
                Some(key) => socket::set_md5(listener.as_raw_fd(), n.peer_address, key)
                    .map_err(|e| StartError::Listen(addr, e))?,
                // A key configured before (and removed by a reload) goes: the peer's unsigned
                // SYNs would be dropped otherwise. Deleting a key that is not there fails,
                // harmlessly.
                None => {
                    let _ = socket::set_md5(listener.as_raw_fd(), n.peer_address, &[]);
                }
            }
        }
        let spec = PeerSpec {
            peer: SocketAddr::new(n.peer_address, n.connect_port),
            local_address: n.local_address,
            session: session_config(&n),
            socket: SocketOptions {
                md5_password: n.options.md5_password.clone(),
                outgoing_ttl: n.options.outgoing_ttl,
                incoming_ttl: n.options.incoming_ttl,
            },
            group_updates: n.options.group_updates,
            on_update: n.api_receive_updates.then(|| {
                let events = self.events.clone();
                let addr = n.peer_address;
                UpdateSink(Arc::new(move |u: &crate::wire::update::Update| {
                    let _ = events.send(ManagerEvent::Received(addr, Box::new(u.clone())));
                }))
            }),
        };
        info!(
            "neighbor {}: starting ({}, {} routes)",
            n.peer_address,
            if n.passive { "passive" } else { "active" },
            routes.len()
        );
        self.next_id += 1;
        let id = self.next_id;
        let held = self.stopping.iter().any(|s| s.peer == n.peer_address);
        if held {
            info!(
                "neighbor {}: waiting for the previous session to close before connecting",
                n.peer_address
            );
        }
        let events = self.events.clone();
        let reports: peer::ReportSink = Arc::new(move |r| {
            let _ = events.send(ManagerEvent::Peer(r));
        });
        let (tx, handle) =
            peer::spawn(spec, routes.clone(), id, held, reports).map_err(StartError::Thread)?;
        self.neighbors.insert(
            n.peer_address,
            Neighbor {
                config: n.without_routes(),
                routes,
                file_routes,
                tx,
                handle,
                id,
                held,
                status: PeerStatus::default(),
            },
        );
        Ok(())
    }

    /// Runs until a shutdown event.
    pub fn run(mut self, events: Receiver<ManagerEvent>) {
        let mut flush_at: Option<Instant> = None;
        let mut last_flush_cost = Duration::ZERO;
        loop {
            let wait = match flush_at {
                Some(t) => t.saturating_duration_since(Instant::now()),
                None => IDLE_WAIT,
            };
            match events.recv_timeout(wait) {
                Ok(ManagerEvent::Reload) => self.reload(),
                Ok(ManagerEvent::ReloadParsed(config)) => self.apply_reload(*config),
                Ok(ManagerEvent::Incoming(stream)) => self.incoming(stream),
                Ok(ManagerEvent::DumpStatus) => self.dump_status(),
                Ok(ManagerEvent::Received(addr, update)) => self.received(addr, update),
                Ok(ManagerEvent::Peer(report)) => self.peer_report(report),
                Ok(ManagerEvent::HelperStarted(output)) => self.greet_helper(&output),
                Ok(ManagerEvent::Shutdown) | Err(RecvTimeoutError::Disconnected) => break,
                Ok(ManagerEvent::Api(request)) => {
                    if self.api(request) {
                        break;
                    }
                }
                Err(RecvTimeoutError::Timeout) => {}
            }
            if !self.dirty.is_empty() && flush_at.is_none() {
                flush_at = Some(Instant::now() + API_COALESCE + 2 * last_flush_cost);
            }
            if flush_at.is_some_and(|t| Instant::now() >= t) {
                let started = Instant::now();
                self.flush_api();
                last_flush_cost = started.elapsed();
                flush_at = None;
            }
            self.reap_stopped();
        }
        self.shutdown();
    }

    /// Sends every neighbor whose API routes changed its new route set (the union of the
    /// file's routes and every source's); the neighbor thread sends only the difference.
    fn flush_api(&mut self) {
        // Neighbors that share a file table and were given the same program routes (one
        // `ctl announce` to all of them) share one union too, instead of a copy each.
        let mut made: Vec<(Arc<RouteSet>, &crate::api::SourceTables, Arc<RouteSet>)> = Vec::new();
        for addr in std::mem::take(&mut self.dirty) {
            let Some(n) = self.neighbors.get_mut(&addr) else {
                continue;
            };
            let routes = match self.api_routes.get(&addr) {
                Some(api) => {
                    let known = made.iter().find(|(file, tables, _)| {
                        Arc::ptr_eq(file, &n.file_routes) && *tables == api
                    });
                    match known {
                        Some((_, _, routes)) => routes.clone(),
                        None => {
                            let routes = Arc::new(crate::api::union(&n.file_routes, api));
                            made.push((n.file_routes.clone(), api, routes.clone()));
                            routes
                        }
                    }
                }
                None => n.file_routes.clone(),
            };
            if routes != n.routes {
                info!(
                    "neighbor {addr}: routes from programs changed: {} routes now ({} from the file)",
                    routes.len(),
                    n.file_routes.len()
                );
                let _ = n.tx.send(PeerCommand::Routes(routes.clone()));
                n.routes = routes;
            }
        }
    }

    /// Applies one API request; `true` when it asks bgpinject to stop.
    fn api(&mut self, request: ApiRequest) -> bool {
        // A request from a helper generation that was stopped (removed, or replaced by a
        // reload that changed its `run`) changes nothing: only the running one speaks for it.
        if let (Source::Process(name), crate::api::Replier::Process(out)) =
            (&request.source, &request.replier)
            && !self
                .helpers
                .get(name)
                .is_some_and(|h| Arc::ptr_eq(&h.output, out))
        {
            log::debug!("process {name}: a request from a stopped instance, ignored");
            return false;
        }
        if request
            .stopped
            .as_ref()
            .is_some_and(|s| s.load(Ordering::SeqCst))
        {
            log::debug!("{}: a result from a stopped check, ignored", request.source);
            return false;
        }
        let configs: Vec<&NeighborConfig> = self.neighbors.values().map(|n| &n.config).collect();
        let outcome = crate::api::apply(
            request.source.clone(),
            request.action,
            &configs,
            &mut self.api_routes,
            &mut self.interner,
            &mut self.dirty,
            &|addr| self.neighbors.get(&addr).map(|n| n.file_routes.clone()),
        );
        let (lines, ok) = match outcome {
            crate::api::Outcome::Done(lines) => (lines, true),
            crate::api::Outcome::Refused(message) => {
                self.refusals.refused(&request.source, &message);
                (vec![format!("error: {message}")], false)
            }
            crate::api::Outcome::ShowNeighbor { summary } => (self.show_neighbor(summary), true),
            crate::api::Outcome::ShowAdjRibOut => (self.show_adj_rib_out(), true),
            crate::api::Outcome::Reload => {
                self.reload();
                (Vec::new(), true)
            }
            crate::api::Outcome::Restart => {
                self.reload();
                self.restart_sessions();
                (Vec::new(), true)
            }
            crate::api::Outcome::Signal {
                neighbors,
                end_of_rib,
                family,
            } => {
                for addr in &neighbors {
                    if let Some(n) = self.neighbors.get(addr) {
                        n.tx.send(if end_of_rib {
                            PeerCommand::SendEndOfRib(family)
                        } else {
                            PeerCommand::SendRouteRefresh(family)
                        });
                    }
                }
                (Vec::new(), true)
            }
            crate::api::Outcome::Shutdown => {
                info!("{}: shutdown requested", request.source);
                request.replier.answer(Vec::new(), true);
                return true;
            }
        };
        // A helper gets `done`/`error` only; the message is in the log.
        let lines = match (&request.replier, ok) {
            (crate::api::Replier::Process(_), false) => Vec::new(),
            _ => lines,
        };
        request.replier.answer(lines, ok);
        false
    }

    fn restart_sessions(&mut self) {
        let addrs: Vec<IpAddr> = self.neighbors.keys().copied().collect();
        for addr in addrs {
            let Some(n) = self.neighbors.get(&addr) else {
                continue;
            };
            let (config, file_routes) = (n.config.clone(), n.file_routes.clone());
            info!("neighbor {addr}: restarting the session (restart command)");
            self.stop_neighbor(
                addr,
                Notification::new(code::CEASE, subcode::ADMINISTRATIVE_RESET, Vec::new()),
            );
            if let Err(e) = self.start_neighbor(config, file_routes) {
                error!("neighbor {addr}: cannot start: {e}");
            }
        }
    }

    fn show_neighbor(&self, summary: bool) -> Vec<String> {
        let mut lines = Vec::new();
        if summary {
            lines.push(format!(
                "{:<40} {:>10} {:<12} {:>10} {:>10}",
                "Peer", "AS", "State", "Up (s)", "Routes"
            ));
        }
        for (addr, n) in &self.neighbors {
            let s = &n.status;
            let up = s
                .established_since
                .and_then(|t| t.elapsed().ok())
                .map(|d| d.as_secs());
            if summary {
                lines.push(format!(
                    "{:<40} {:>10} {:<12} {:>10} {:>10}",
                    addr.to_string(),
                    n.config.peer_as,
                    format!("{:?}", s.state),
                    up.map(|u| u.to_string()).unwrap_or_else(|| "-".into()),
                    n.routes.len()
                ));
            } else {
                lines.push(format!(
                    "neighbor {addr} local-as {} peer-as {} state {:?} uptime {} routes {} (file {}, programs {}) updates-sent {} announcements-sent {} last-error {}",
                    n.config.local_as,
                    n.config.peer_as,
                    s.state,
                    up.map(|u| format!("{u}s")).unwrap_or_else(|| "down".into()),
                    n.routes.len(),
                    n.file_routes.len(),
                    n.routes.len().saturating_sub(n.file_routes.len()),
                    s.updates_sent,
                    s.routes_announced,
                    s.last_error.as_deref().unwrap_or("none")
                ));
            }
        }
        lines
    }

    fn show_adj_rib_out(&self) -> Vec<String> {
        let mut lines = Vec::new();
        for (addr, n) in &self.neighbors {
            for (prefix, a) in n.routes.iter() {
                lines.push(format!(
                    "neighbor {addr} {} {prefix} {}",
                    crate::wire::family::Family::new(
                        prefix.afi(),
                        crate::wire::family::Safi::Unicast
                    ),
                    crate::api::describe(a)
                ));
            }
            for (rule, a) in n.routes.flows() {
                lines.push(format!(
                    "neighbor {addr} flow {rule} {} ({})",
                    crate::api::describe(a),
                    crate::config::guard::reach(rule)
                ));
            }
            for (key, route) in n.routes.others() {
                lines.push(format!(
                    "neighbor {addr} {}",
                    crate::api::describe_other(key, route)
                ));
            }
        }
        lines
    }

    /// A neighbor thread's report: its status, the helpers' events (up, down, NOTIFICATION
    /// received), and the start of a neighbor that waited for this thread to stop.
    fn peer_report(&mut self, report: PeerReport) {
        let addr = report.peer;
        if report.event == SessionEvent::Stopped {
            self.stopping
                .retain(|s| !(s.peer == addr && s.id == report.id));
            self.start_held(addr);
            return;
        }
        let current = self.neighbors.get_mut(&addr).filter(|n| n.id == report.id);
        let mut happened = Vec::new();
        let was_up = self.seen_up.get(&addr).copied().unwrap_or(false);
        match report.event {
            SessionEvent::State(state) => {
                if let Some(n) = current {
                    n.status.state = state;
                    if state != State::Established {
                        n.status.established_since = None;
                    }
                }
            }
            SessionEvent::Established(_) => {
                if let Some(n) = current {
                    n.status.state = State::Established;
                    n.status.established_since = Some(SystemTime::now());
                    happened.push(NeighborEvent::Up);
                    self.seen_up.insert(addr, true);
                }
            }
            SessionEvent::Down(reason) => {
                if let DownReason::Received(n) = &reason {
                    happened.push(NeighborEvent::Notification(
                        n.code,
                        n.subcode,
                        n.to_string(),
                    ));
                }
                if was_up {
                    happened.push(NeighborEvent::Down(reason.to_string()));
                    self.seen_up.insert(addr, false);
                }
                if let Some(n) = current {
                    n.status.last_error = Some(reason.to_string());
                    n.status.established_since = None;
                }
            }
            SessionEvent::Sent { updates, announced } => {
                if let Some(n) = current {
                    n.status.updates_sent += updates;
                    n.status.routes_announced += announced;
                }
            }
            SessionEvent::UpdateReceived(..) | SessionEvent::Stopped => {}
        }
        if happened.is_empty() {
            return;
        }
        let Some(n) = self.neighbors.get(&addr) else {
            return;
        };
        let peer = helper_peer(&n.config);
        happened.retain(|e| crate::api::events::wanted(&n.config, e));
        for name in &n.config.api_processes {
            let Some(h) = self.helpers.get(name) else {
                continue;
            };
            for e in &happened {
                let counter = h.output.next_counter();
                h.output
                    .send(events::encode(h.output.encoder, &peer, e, counter));
            }
        }
    }

    /// Tells a helper that just (re)started which of its neighbors are up, as ExaBGP's
    /// helpers expect: a restarted one would otherwise not know until the next change.
    fn greet_helper(&self, output: &Arc<crate::api::process::HelperOutput>) {
        let current = self
            .helpers
            .get(&output.name)
            .is_some_and(|h| Arc::ptr_eq(&h.output, output));
        if !current {
            return;
        }
        for n in self.neighbors.values() {
            if n.status.state == State::Established
                && n.config.api_neighbor_changes
                && n.config.api_processes.contains(&output.name)
            {
                let counter = output.next_counter();
                output.send(events::encode(
                    output.encoder,
                    &helper_peer(&n.config),
                    &NeighborEvent::Up,
                    counter,
                ));
            }
        }
    }

    /// Lets the neighbor of `addr` connect once no earlier thread of it runs.
    fn start_held(&mut self, addr: IpAddr) {
        if self.stopping.iter().any(|s| s.peer == addr) {
            return;
        }
        if let Some(n) = self.neighbors.get_mut(&addr)
            && n.held
        {
            n.held = false;
            info!("neighbor {addr}: previous session closed, starting");
            n.tx.send(PeerCommand::Start);
        }
    }

    /// Forgets stopped threads that ended without a report (after an internal error).
    fn reap_stopped(&mut self) {
        let ended: Vec<IpAddr> = self
            .stopping
            .iter()
            .filter(|s| s.handle.is_finished())
            .map(|s| s.peer)
            .collect();
        if ended.is_empty() {
            return;
        }
        self.stopping.retain(|s| !s.handle.is_finished());
        for addr in ended {
            self.start_held(addr);
        }
    }

    /// Sends an UPDATE the peer of `addr` sent to the helpers of that neighbor.
    fn received(&mut self, addr: IpAddr, update: Box<crate::wire::update::Update>) {
        let Some(n) = self.neighbors.get(&addr) else {
            return;
        };
        let peer = helper_peer(&n.config);
        let event = NeighborEvent::Update(update);
        for name in &n.config.api_processes {
            if let Some(h) = self.helpers.get(name) {
                let counter = h.output.next_counter();
                h.output
                    .send(events::encode(h.output.encoder, &peer, &event, counter));
            }
        }
    }

    fn dump_status(&self) {
        info!("status of {} neighbors:", self.neighbors.len());
        for (addr, n) in &self.neighbors {
            let s = &n.status;
            let uptime = s
                .established_since
                .and_then(|t| t.elapsed().ok())
                .map(|d| format!("up {} s", d.as_secs()))
                .unwrap_or_else(|| "down".into());
            info!(
                "neighbor {addr}: {:?}, {uptime}, {} routes configured, {} UPDATEs and {} announcements sent, last error: {}",
                s.state,
                n.routes.len(),
                s.updates_sent,
                s.routes_announced,
                s.last_error.as_deref().unwrap_or("none")
            );
        }
    }

    fn incoming(&mut self, stream: TcpStream) {
        let Ok(from) = stream.peer_addr() else {
            return;
        };
        match self.neighbors.get(&from.ip()) {
            Some(n) => {
                if !n.tx.send(PeerCommand::Incoming(stream)) {
                    warn!(
                        "neighbor {}: thread has ended; connection dropped",
                        from.ip()
                    );
                }
            }
            None => info!("connection from {from} refused: not a configured neighbor"),
        }
    }

    /// Parses the file again; applies it only if it is valid in full.
    fn reload(&mut self) {
        match config::load(&self.config_path) {
            Ok(c) => self.apply_reload(c),
            Err(e) => error!("reload refused, keeping the running configuration: {e}"),
        }
    }

    fn apply_reload(&mut self, config: Config) {
        info!("reloading {}", self.config_path.display());
        let current: Vec<(NeighborConfig, Arc<RouteSet>)> = self
            .neighbors
            .values()
            .map(|n| (n.config.clone(), n.file_routes.clone()))
            .collect();
        let plan = ReloadPlan::new(&current, &config);
        for (addr, (change, new_config)) in plan.neighbors {
            match (change, new_config) {
                (
                    NeighborChange::Updated {
                        routes,
                        diff,
                        replaced,
                    },
                    Some(nc),
                ) => {
                    if let Some(n) = self.neighbors.get_mut(&addr) {
                        if !diff.is_empty() {
                            info!(
                                "neighbor {addr}: {} withdrawn, {} announced, {replaced} replaced",
                                diff.withdraw.len(),
                                diff.announce.len() - replaced
                            );
                        }
                        n.config = nc;
                        n.file_routes = routes;
                        // The routes from programs stay: the union is sent by flush_api.
                        self.dirty.insert(addr);
                    }
                }
                (NeighborChange::Restarted { routes }, Some(nc)) => {
                    info!("neighbor {addr}: session settings changed, restarting the session");
                    self.stop_neighbor(
                        addr,
                        Notification::new(
                            code::CEASE,
                            subcode::OTHER_CONFIGURATION_CHANGE,
                            Vec::new(),
                        ),
                    );
                    if let Err(e) = self.start_neighbor(nc, routes) {
                        error!("neighbor {addr}: cannot start: {e}");
                    }
                }
                (NeighborChange::Added { routes }, Some(nc)) => {
                    if let Err(e) = self.start_neighbor(nc, routes) {
                        error!("neighbor {addr}: cannot start: {e}");
                    }
                }
                (NeighborChange::Removed, _) => {
                    info!("neighbor {addr}: removed from the configuration");
                    self.api_routes.remove(&addr);
                    self.stop_neighbor(
                        addr,
                        Notification::new(code::CEASE, subcode::PEER_DECONFIGURED, Vec::new()),
                    );
                }
                (_, None) => {}
            }
        }
        self.prune_listeners();
        self.drop_unmapped_program_routes();
        self.reload_programs(config.processes, config.healthchecks);
        self.flush_api();
    }

    /// Withdraws, from each neighbor, the routes of helpers its `api { processes }` no longer
    /// lists: nothing could withdraw them otherwise.
    fn drop_unmapped_program_routes(&mut self) {
        for (addr, sources) in self.api_routes.iter_mut() {
            let Some(n) = self.neighbors.get(addr) else {
                continue;
            };
            let before = sources.len();
            sources.retain(|source, _| match source {
                Source::Process(name) => n.config.api_processes.contains(name),
                Source::Control | Source::Healthcheck(_) => true,
            });
            if sources.len() != before {
                info!("neighbor {addr}: routes of helpers no longer in its api block withdrawn");
                self.dirty.insert(*addr);
            }
        }
    }

    /// Closes the listeners no passive neighbor uses any more, and removes the TCP-MD5 keys
    /// of peers no neighbor on a kept listener has.
    fn prune_listeners(&mut self) {
        let wanted: Vec<(SocketAddr, IpAddr)> = self
            .neighbors
            .values()
            .filter(|n| n.config.passive)
            .map(|n| (listen_address(&n.config), n.config.peer_address))
            .collect();
        let unused: Vec<SocketAddr> = self
            .listeners
            .keys()
            .filter(|a| !wanted.iter().any(|(w, _)| w == *a))
            .copied()
            .collect();
        for addr in unused {
            if let Some(l) = self.listeners.remove(&addr) {
                l.close(addr);
            }
        }
        let stopped: Vec<IpAddr> = self.stopping.iter().map(|s| s.peer).collect();
        for peer in stopped {
            for (listen, l) in &self.listeners {
                if !wanted.contains(&(*listen, peer)) {
                    let _ = socket::set_md5(l.socket.as_raw_fd(), peer, &[]);
                }
            }
        }
    }

    /// Asks the neighbor's thread to close its session and end, without waiting: the thread
    /// reports `Stopped` later, and a neighbor started again for the same peer meanwhile is
    /// held until then.
    fn stop_neighbor(&mut self, addr: IpAddr, n: Notification) {
        if let Some(old) = self.neighbors.remove(&addr) {
            let _ = old.tx.send(PeerCommand::Shutdown {
                notification: n,
                for_restart: false,
            });
            self.stopping.push(Stopping {
                peer: addr,
                id: old.id,
                handle: old.handle,
            });
        }
    }

    fn shutdown(self) {
        for (_, stop) in self.checks.values() {
            stop.store(true, Ordering::SeqCst);
        }
        for h in self.helpers.values() {
            h.stop();
        }
        info!(
            "shutting down: Cease to every established peer (closing without NOTIFICATION where graceful restart was negotiated)"
        );
        let mut handles: Vec<JoinHandle<()>> =
            self.stopping.into_iter().map(|s| s.handle).collect();
        for (_, n) in self.neighbors {
            let _ = n.tx.send(PeerCommand::Shutdown {
                notification: Notification::administrative_shutdown("bgpinject shutting down"),
                for_restart: true,
            });
            handles.push(n.handle);
        }
        join_bounded(handles, SHUTDOWN_WAIT);
        for h in self.helpers.values() {
            h.terminate();
        }
    }
}

/// Joins the threads that finish within `wait`; the others are left to end with the process.
fn join_bounded(handles: Vec<JoinHandle<()>>, wait: Duration) {
    let deadline = Instant::now() + wait;
    for h in handles {
        while !h.is_finished() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        if h.is_finished() {
            let _ = h.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    #[test]
    fn route_sets_share_the_configured_table_and_move_cross_family_routes() {
        let text = "neighbor 192.0.2.1 { router-id 192.0.2.10; local-as 1; peer-as 2;\n static { route 10.0.0.0/8 next-hop 192.0.2.1; route 10.1.0.0/16 next-hop 192.0.2.1; } }\n\
            neighbor 192.0.2.2 { router-id 192.0.2.10; local-as 1; peer-as 2;\n static { route 10.1.0.0/16 next-hop 192.0.2.1; route 10.0.0.0/8 next-hop 192.0.2.1; } }\n\
            neighbor 192.0.2.3 { router-id 192.0.2.10; local-as 1; peer-as 2; capability { nexthop { ipv4 unicast ipv6; } }\n static { route 10.0.0.0/8 next-hop 2001:db8::1; route 10.1.0.0/16 next-hop 192.0.2.1; } }\n";
        let config = config::parse_str(text, Path::new("t.conf")).unwrap();
        let sets = route_sets(&config);
        // No copy of the table: the route set holds the configuration's.
        assert!(Arc::ptr_eq(
            sets[0].shared_routes(),
            &config.neighbors[0].routes.unicast
        ));
        // The same routes written in another order are one table.
        assert!(Arc::ptr_eq(&sets[0], &sets[1]));
        // An IPv6 next hop on an IPv4 prefix goes through the MP encoding.
        assert_eq!(sets[2].routes().len(), 1);
        assert_eq!(sets[2].other_list().len(), 1);
    }
}
