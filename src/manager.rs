//! The route-manager thread: owns the configuration and every neighbor's desired routes,
//! starts and stops neighbor threads, hands accepted connections to them, and applies
//! reloads (only the difference reaches each peer; see [`session_settings_changed`]).

use std::collections::{BTreeMap, HashMap};
use std::io;
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::path::PathBuf;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender};
use log::{error, info, warn};

use crate::config::{self, Config, NeighborConfig};
use crate::reload_plan::{NeighborChange, ReloadPlan};
use crate::rib::route_set::{AttributeInterner, RouteSet};
use crate::session::fsm::SessionConfig;
use crate::session::peer::{self, PeerCommand, PeerHandle, PeerSpec, SharedStatus};
use crate::session::socket::{self, SocketOptions};
use crate::wire::notification::{Notification, code, subcode};

/// How long shutdown waits for neighbor threads to send their NOTIFICATION and close.
const SHUTDOWN_WAIT: Duration = Duration::from_secs(5);

/// What the manager thread reacts to.
#[derive(Debug)]
pub enum ManagerEvent {
    /// Re-read the configuration file (SIGHUP, SIGUSR1).
    Reload,
    /// Send Cease to every peer and stop (SIGTERM, SIGINT).
    Shutdown,
    /// A listener accepted a connection.
    Incoming(TcpStream),
    /// Log every neighbor's state (SIGUSR2).
    DumpStatus,
}

struct Neighbor {
    config: NeighborConfig,
    /// What the neighbor thread was last told to announce.
    routes: Arc<RouteSet>,
    tx: PeerHandle,
    handle: JoinHandle<()>,
    status: SharedStatus,
}

pub struct Manager {
    config_path: PathBuf,
    neighbors: BTreeMap<IpAddr, Neighbor>,
    /// Listening sockets by address (a clone of each, to add MD5 keys for new neighbors).
    listeners: HashMap<SocketAddr, TcpListener>,
    events: Sender<ManagerEvent>,
}

/// Why the daemon could not start.
#[derive(Debug)]
pub enum StartError {
    Listen(SocketAddr, io::Error),
    Thread(io::Error),
}

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StartError::Listen(a, e) => write!(f, "cannot listen on {a}: {e}"),
            StartError::Thread(e) => write!(f, "cannot start a thread: {e}"),
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
        let routes = n
            .routes
            .iter()
            .map(|r| (r.prefix, interner.intern(&r.attributes)))
            .collect();
        let flows = n
            .flows
            .iter()
            .map(|f| (f.rule.clone(), interner.intern(&f.attributes)))
            .collect();
        sets.push(Arc::new(RouteSet::with_flows(routes, flows)));
    }
    sets
}

/// Whether two neighbors were given the same routes and rules, in the same order (where in
/// the file they were written does not matter).
fn same_routes(a: &NeighborConfig, b: &NeighborConfig) -> bool {
    a.routes.len() == b.routes.len()
        && a.flows.len() == b.flows.len()
        && a.routes
            .iter()
            .zip(&b.routes)
            .all(|(x, y)| x.prefix == y.prefix && x.attributes == y.attributes)
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
        let mut m = Manager {
            config_path,
            neighbors: BTreeMap::new(),
            listeners: HashMap::new(),
            events,
        };
        let sets = route_sets(&config);
        for (n, routes) in config.neighbors.into_iter().zip(sets) {
            m.start_neighbor(n, routes)?;
        }
        Ok(m)
    }

    /// The listener for `addr`, started when missing.
    fn ensure_listener(&mut self, addr: SocketAddr) -> Result<&TcpListener, StartError> {
        if self.listeners.contains_key(&addr) {
            return self
                .listeners
                .get(&addr)
                .ok_or(StartError::Listen(addr, io::ErrorKind::NotFound.into()));
        }
        let listener = socket::listen(addr).map_err(|e| StartError::Listen(addr, e))?;
        let kept = listener
            .try_clone()
            .map_err(|e| StartError::Listen(addr, e))?;
        info!("listening on {addr}");
        let events = self.events.clone();
        std::thread::Builder::new()
            .name(format!("listen {addr}"))
            .spawn(move || {
                for stream in listener.incoming() {
                    match stream {
                        Ok(s) => {
                            if events.send(ManagerEvent::Incoming(s)).is_err() {
                                return;
                            }
                        }
                        Err(e) => warn!("listener {addr}: accept failed: {e}"),
                    }
                }
            })
            .map_err(StartError::Thread)?;
        Ok(self.listeners.entry(addr).or_insert(kept))
    }

    fn start_neighbor(
        &mut self,
        n: NeighborConfig,
        routes: Arc<RouteSet>,
    ) -> Result<(), StartError> {
        if n.passive {
            let addr = listen_address(&n);
            let listener = self.ensure_listener(addr)?;
            if let Some(key) = &n.options.md5_password {
                socket::set_md5(listener.as_raw_fd(), n.peer_address, key)
                    .map_err(|e| StartError::Listen(addr, e))?;
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
        };
        info!(
            "neighbor {}: starting ({}, {} routes)",
            n.peer_address,
            if n.passive { "passive" } else { "active" },
            routes.len()
        );
        let (tx, handle, status) = peer::spawn(spec, routes.clone()).map_err(StartError::Thread)?;
        self.neighbors.insert(
            n.peer_address,
            Neighbor {
                config: n,
                routes,
                tx,
                handle,
                status,
            },
        );
        Ok(())
    }

    /// Runs until a shutdown event.
    pub fn run(mut self, events: Receiver<ManagerEvent>) {
        while let Ok(event) = events.recv() {
            match event {
                ManagerEvent::Reload => self.reload(),
                ManagerEvent::Incoming(stream) => self.incoming(stream),
                ManagerEvent::DumpStatus => self.dump_status(),
                ManagerEvent::Shutdown => break,
            }
        }
        self.shutdown();
    }

    fn dump_status(&self) {
        info!("status of {} neighbors:", self.neighbors.len());
        for (addr, n) in &self.neighbors {
            let Ok(s) = n.status.lock().map(|s| s.clone()) else {
                continue;
            };
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
        let config = match config::load(&self.config_path) {
            Ok(c) => c,
            Err(e) => {
                error!("reload refused, keeping the running configuration: {e}");
                return;
            }
        };
        info!("reloading {}", self.config_path.display());
        let current: Vec<(NeighborConfig, Arc<RouteSet>)> = self
            .neighbors
            .values()
            .map(|n| (n.config.clone(), n.routes.clone()))
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
                            let _ = n.tx.send(PeerCommand::Routes(routes.clone()));
                        }
                        n.config = nc;
                        n.routes = routes;
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
                    self.stop_neighbor(
                        addr,
                        Notification::new(code::CEASE, subcode::PEER_DECONFIGURED, Vec::new()),
                    );
                }
                (_, None) => {}
            }
        }
    }

    fn stop_neighbor(&mut self, addr: IpAddr, n: Notification) {
        if let Some(old) = self.neighbors.remove(&addr) {
            let _ = old.tx.send(PeerCommand::Shutdown {
                notification: n,
                for_restart: false,
            });
            join_bounded(vec![old.handle], SHUTDOWN_WAIT);
        }
    }

    fn shutdown(self) {
        info!(
            "shutting down: Cease to every established peer (closing without NOTIFICATION where graceful restart was negotiated)"
        );
        let mut handles = Vec::new();
        for (_, n) in self.neighbors {
            let _ = n.tx.send(PeerCommand::Shutdown {
                notification: Notification::administrative_shutdown("bgpinject shutting down"),
                for_restart: true,
            });
            handles.push(n.handle);
        }
        join_bounded(handles, SHUTDOWN_WAIT);
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
