//! The route-manager thread: owns the configuration and every neighbor's desired routes,
//! starts and stops neighbor threads, hands accepted connections to them, and applies
//! reloads (only the difference reaches each peer; see [`session_settings_changed`]).

use std::collections::{BTreeMap, HashSet};
use std::io;
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::path::PathBuf;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender};
use log::{error, info, warn};

use crate::config::{self, Config, NeighborConfig};
use crate::rib::route_set::{AttributeInterner, RouteSet};
use crate::session::fsm::SessionConfig;
use crate::session::peer::{self, PeerCommand, PeerSpec, SharedStatus};
use crate::session::socket;
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
}

struct Neighbor {
    config: NeighborConfig,
    tx: Sender<PeerCommand>,
    handle: JoinHandle<()>,
    status: SharedStatus,
}

pub struct Manager {
    config_path: PathBuf,
    neighbors: BTreeMap<IpAddr, Neighbor>,
    listeners: HashSet<SocketAddr>,
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

/// The routes of every neighbor, with attribute sets shared across all of them.
fn route_sets(config: &Config) -> Vec<Arc<RouteSet>> {
    let mut interner = AttributeInterner::default();
    config
        .neighbors
        .iter()
        .map(|n| {
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
            Arc::new(RouteSet::with_flows(routes, flows))
        })
        .collect()
}

/// Whether a neighbor's session must be restarted to apply `new`: anything that goes into
/// OPEN or the TCP connection. Routes, description and positions do not count.
pub fn session_settings_changed(old: &NeighborConfig, new: &NeighborConfig) -> bool {
    let strip = |n: &NeighborConfig| {
        let mut n = n.clone();
        n.routes.clear();
        n.flows.clear();
        n.description = None;
        n.location = new.location.clone();
        n
    };
    strip(old) != strip(new)
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
            listeners: HashSet::new(),
            events,
        };
        let sets = route_sets(&config);
        for (n, routes) in config.neighbors.into_iter().zip(sets) {
            m.start_neighbor(n, routes)?;
        }
        Ok(m)
    }

    fn ensure_listener(&mut self, addr: SocketAddr) -> Result<(), StartError> {
        if self.listeners.contains(&addr) {
            return Ok(());
        }
        let listener = socket::listen(addr).map_err(|e| StartError::Listen(addr, e))?;
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
        self.listeners.insert(addr);
        Ok(())
    }

    fn start_neighbor(
        &mut self,
        n: NeighborConfig,
        routes: Arc<RouteSet>,
    ) -> Result<(), StartError> {
        if n.passive {
            self.ensure_listener(listen_address(&n))?;
        }
        let spec = PeerSpec {
            peer: SocketAddr::new(n.peer_address, n.connect_port),
            local_address: n.local_address,
            session: SessionConfig {
                local_as: n.local_as,
                peer_as: n.peer_as,
                router_id: n.router_id,
                hold_time: n.hold_time,
                families: n.families.clone(),
                passive: n.passive,
            },
        };
        info!(
            "neighbor {}: starting ({}, {} routes)",
            n.peer_address,
            if n.passive { "passive" } else { "active" },
            routes.len()
        );
        let (tx, handle, status) = peer::spawn(spec, routes).map_err(StartError::Thread)?;
        self.neighbors.insert(
            n.peer_address,
            Neighbor {
                config: n,
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
                ManagerEvent::Shutdown => break,
            }
        }
        self.shutdown();
    }

    fn incoming(&mut self, stream: TcpStream) {
        let Ok(from) = stream.peer_addr() else {
            return;
        };
        match self.neighbors.get(&from.ip()) {
            Some(n) => {
                if n.tx.send(PeerCommand::Incoming(stream)).is_err() {
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
        let sets = route_sets(&config);
        let mut keep = HashSet::new();
        for (n, routes) in config.neighbors.into_iter().zip(sets) {
            let addr = n.peer_address;
            keep.insert(addr);
            match self.neighbors.get(&addr) {
                Some(old) if !session_settings_changed(&old.config, &n) => {
                    let _ = old.tx.send(PeerCommand::Routes(routes));
                    if let Some(old) = self.neighbors.get_mut(&addr) {
                        old.config = n;
                    }
                }
                Some(_) => {
                    info!("neighbor {addr}: session settings changed, restarting the session");
                    self.stop_neighbor(
                        addr,
                        Notification::new(
                            code::CEASE,
                            subcode::OTHER_CONFIGURATION_CHANGE,
                            Vec::new(),
                        ),
                    );
                    if let Err(e) = self.start_neighbor(n, routes) {
                        error!("neighbor {addr}: cannot start: {e}");
                    }
                }
                None => {
                    if let Err(e) = self.start_neighbor(n, routes) {
                        error!("neighbor {addr}: cannot start: {e}");
                    }
                }
            }
        }
        let removed: Vec<IpAddr> = self
            .neighbors
            .keys()
            .filter(|a| !keep.contains(a))
            .copied()
            .collect();
        for addr in removed {
            info!("neighbor {addr}: removed from the configuration");
            self.stop_neighbor(
                addr,
                Notification::new(code::CEASE, subcode::PEER_DECONFIGURED, Vec::new()),
            );
        }
    }

    fn stop_neighbor(&mut self, addr: IpAddr, n: Notification) {
        if let Some(old) = self.neighbors.remove(&addr) {
            let _ = old.tx.send(PeerCommand::Shutdown(n));
            join_bounded(vec![old.handle], SHUTDOWN_WAIT);
        }
    }

    fn shutdown(self) {
        info!("shutting down: sending Cease to every established peer");
        let mut handles = Vec::new();
        for (_, n) in self.neighbors {
            let _ = n.tx.send(PeerCommand::Shutdown(
                Notification::administrative_shutdown("bgpinject shutting down"),
            ));
            drop(n.status);
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
