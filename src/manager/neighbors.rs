//! Neighbor lifecycle: one thread per neighbor, started, told its routes, stopped; a
//! neighbor started again for a peer whose previous thread has not reported `Stopped` yet is
//! held until it has, so that bgpinject never has two sessions open to one peer.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::Sender;
use log::{info, warn};

use super::StartError;
use super::listeners::{Listeners, listen_address};
use super::status::{NeighborView, PeerStatus};
use crate::config::NeighborConfig;
use crate::events::ManagerEvent;
use crate::rib::route_set::RouteSet;
use crate::session::core::EorRelease;
use crate::session::fsm::SessionConfig;
use crate::session::peer::{self, PeerCommand, PeerHandle, PeerReport, PeerSpec, UpdateSink};
use crate::session::socket::SocketOptions;
use crate::wire::family::Family;
use crate::wire::notification::Notification;

/// How long shutdown waits for neighbor threads to send their NOTIFICATION and close.
const SHUTDOWN_WAIT: Duration = Duration::from_secs(5);

pub struct Neighbor {
    pub config: NeighborConfig,
    /// What the neighbor thread was last told to announce: the file's routes and the API's.
    pub routes: Arc<RouteSet>,
    /// The routes of the configuration file alone.
    pub file_routes: Arc<RouteSet>,
    pub status: PeerStatus,
    tx: PeerHandle,
    handle: JoinHandle<()>,
    /// The id of its thread's reports.
    id: u64,
    /// Spawned held: it starts once no earlier thread for this peer runs any more.
    held: bool,
    /// Administratively down (`shutdown true`, or a helper's `disable`): held until a
    /// helper's `enable`.
    disabled: bool,
    /// How long its End-of-RIB waits for its helpers and health checks.
    eor_wait: Option<Duration>,
}

impl Neighbor {
    pub fn view(&self) -> NeighborView<'_> {
        NeighborView {
            config: &self.config,
            status: &self.status,
            routes: &self.routes,
            file_routes: self.file_routes.len(),
        }
    }
}

/// A neighbor thread asked to stop that has not reported `Stopped` yet.
struct Stopping {
    peer: IpAddr,
    id: u64,
    handle: JoinHandle<()>,
}

/// What the FSM of this neighbor proposes and expects.
/// `bfd { }` as the BFD thread takes it.
fn bfd_params(b: crate::config::model::BfdConfig) -> crate::bfd::Params {
    crate::bfd::Params {
        min_tx: b.min_tx,
        min_rx: b.min_rx,
        multiplier: b.multiplier,
        multihop: b.multihop,
    }
}

pub fn session_config(n: &NeighborConfig) -> SessionConfig {
    SessionConfig {
        // RFC 5065 §5: a peer outside our confederation sees its identifier.
        local_as: n.open_as(),
        peer_as: n.peer_as,
        router_id: n.router_id,
        hold_time: n.hold_time,
        families: n.families.clone(),
        passive: n.passive,
        graceful_restart: n.options.graceful_restart,
        four_octet_as: n.options.four_octet_as,
        route_refresh: n.options.route_refresh,
        add_path: n.add_path_capability(),
        extended_next_hop: n.options.extended_next_hop.clone(),
        // RFC 8654 on by default, as FRR does: a peer that does not advertise it (BIRD
        // unless `enable extended messages`) simply keeps the 4096-octet limit.
        extended_message: n.options.extended_message,
        informational: n.options.informational_capabilities(),
        role: n.options.role,
        role_strict: n.options.role_strict,
        long_lived_stale_time: n.options.long_lived_stale_time,
    }
}

pub struct Neighbors {
    running: BTreeMap<IpAddr, Neighbor>,
    listeners: Listeners,
    /// Threads asked to stop, until they report that they did.
    stopping: Vec<Stopping>,
    events: Sender<ManagerEvent>,
    next_id: u64,
}

impl Neighbors {
    pub fn new(events: Sender<ManagerEvent>) -> Neighbors {
        Neighbors {
            running: BTreeMap::new(),
            listeners: Listeners::new(events.clone()),
            stopping: Vec::new(),
            events,
            next_id: 0,
        }
    }

    pub fn get(&self, addr: IpAddr) -> Option<&Neighbor> {
        self.running.get(&addr)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Neighbor> {
        self.running.values()
    }

    pub fn addrs(&self) -> Vec<IpAddr> {
        self.running.keys().copied().collect()
    }

    /// The neighbor whose current thread sent `report` (none for a stopped thread's).
    pub fn current_mut(&mut self, report: &PeerReport) -> Option<&mut Neighbor> {
        self.running
            .get_mut(&report.peer)
            .filter(|n| n.id == report.id)
    }

    /// Whether the thread of `addr` is held until an earlier one stops.
    #[cfg(test)]
    fn is_held(&self, addr: IpAddr) -> bool {
        self.running.get(&addr).is_some_and(|n| n.held)
    }

    /// Starts the thread of neighbor `n`, announcing `routes` (its file's, `file_routes`,
    /// with the programs' over them).
    pub fn start(
        &mut self,
        n: NeighborConfig,
        file_routes: Arc<RouteSet>,
        routes: Arc<RouteSet>,
        eor_wait: Option<Duration>,
    ) -> Result<(), StartError> {
        if n.passive {
            self.listeners.serve(&n)?;
        }
        let spec = PeerSpec {
            peer: SocketAddr::new(n.peer_address, n.connect_port),
            local_address: n.local_address,
            session: session_config(&n),
            socket: SocketOptions {
                md5_password: n.options.md5_password.clone(),
                outgoing_ttl: n.options.outgoing_ttl,
                incoming_ttl: n.options.incoming_ttl,
                source_interface: n.options.source_interface.clone(),
            },
            group_updates: n.options.group_updates,
            eor_wait,
            tap: message_tap(&n),
            manual_eor: n.options.manual_eor,
            local_link_local: n.options.local_link_local,
            confederation: n.confederation_role(),
            on_update: (n.api_receive_updates || n.options.adj_rib_in).then(|| {
                let events = self.events.clone();
                let addr = n.peer_address;
                UpdateSink(Arc::new(
                    move |u: &crate::wire::update::Update, withdrawn: bool| {
                        let _ = events.send(ManagerEvent::Received(
                            addr,
                            Box::new(u.clone()),
                            withdrawn,
                        ));
                    },
                ))
            }),
            bfd: n.bfd.map(bfd_params),
        };
        info!(
            "neighbor {}: starting ({}, {} routes)",
            n.peer_address,
            if n.passive { "passive" } else { "active" },
            routes.len()
        );
        self.next_id += 1;
        let id = self.next_id;
        let disabled = n.options.shutdown;
        let held = disabled || self.stopping.iter().any(|s| s.peer == n.peer_address);
        if disabled {
            info!(
                "neighbor {}: administratively down (shutdown true): no session until `neighbor {} enable`",
                n.peer_address, n.peer_address
            );
        } else if held {
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
        self.running.insert(
            n.peer_address,
            Neighbor {
                config: n.without_routes(),
                routes,
                file_routes,
                status: PeerStatus::default(),
                tx,
                handle,
                id,
                held,
                disabled,
                eor_wait,
            },
        );
        Ok(())
    }

    /// A helper's `enable`: an administratively down neighbor may connect (once no earlier
    /// thread of it runs). `false` when it was not down.
    pub fn enable(&mut self, addr: IpAddr) -> bool {
        let Some(n) = self.running.get_mut(&addr) else {
            return false;
        };
        if !n.disabled {
            return false;
        }
        n.disabled = false;
        info!("neighbor {addr}: enabled");
        self.start_held(addr);
        true
    }

    /// A helper's `disable`: the session closes with `notification` and the neighbor stays
    /// down, its routes kept, until `enable`. `false` when it was down already.
    pub fn disable(
        &mut self,
        addr: IpAddr,
        notification: Notification,
    ) -> Result<bool, StartError> {
        let Some(old) = self.running.get(&addr) else {
            return Ok(false);
        };
        if old.disabled {
            return Ok(false);
        }
        let (config, file_routes, routes, eor_wait) = (
            old.config.clone(),
            old.file_routes.clone(),
            old.routes.clone(),
            old.eor_wait,
        );
        info!("neighbor {addr}: disabled: NOTIFICATION {notification}");
        self.stop(addr, notification);
        // Held by the stopping thread, and kept held (the configuration still says what it
        // says: a reload that changes nothing of the session keeps it down).
        self.start(config, file_routes, routes, eor_wait)?;
        if let Some(n) = self.running.get_mut(&addr) {
            n.disabled = true;
        }
        Ok(true)
    }

    /// Asks the neighbor's thread to close its session with `n` and end, without waiting:
    /// the thread reports `Stopped` later (see [`Neighbors::stopped`]).
    pub fn stop(&mut self, addr: IpAddr, n: Notification) {
        if let Some(old) = self.running.remove(&addr) {
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

    /// Closes the session with `n` and starts a new one with the same routes; the new
    /// thread is held until the old one has stopped.
    pub fn restart(&mut self, addr: IpAddr, n: Notification) -> Result<(), StartError> {
        let Some(old) = self.running.get(&addr) else {
            return Ok(());
        };
        let (config, file_routes, routes, eor_wait) = (
            old.config.clone(),
            old.file_routes.clone(),
            old.routes.clone(),
            old.eor_wait,
        );
        self.stop(addr, n);
        self.start(config, file_routes, routes, eor_wait)
    }

    /// A reload that keeps the session: the new configuration and file routes (the routes
    /// sent follow with [`Neighbors::set_routes`]).
    pub fn update(&mut self, addr: IpAddr, config: NeighborConfig, file_routes: Arc<RouteSet>) {
        if let Some(n) = self.running.get_mut(&addr) {
            n.config = config;
            n.file_routes = file_routes;
        }
    }

    /// Tells the neighbor's thread to announce `routes` from now on, when they changed.
    pub fn set_routes(&mut self, addr: IpAddr, routes: Arc<RouteSet>) {
        let Some(n) = self.running.get_mut(&addr) else {
            return;
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

    /// Lets the held End-of-RIB of `addr` go for these families.
    pub fn release_end_of_rib(&self, addr: IpAddr, r: EorRelease) {
        if let Some(n) = self.running.get(&addr) {
            n.tx.send(PeerCommand::ReleaseEndOfRib(r));
        }
    }

    /// `announce eor` (`end_of_rib`) or `announce route-refresh` to these neighbors.
    pub fn signal(&self, addrs: &[IpAddr], end_of_rib: bool, family: Option<Family>) {
        for addr in addrs {
            if let Some(n) = self.running.get(addr) {
                n.tx.send(if end_of_rib {
                    PeerCommand::SendEndOfRib(family)
                } else {
                    PeerCommand::SendRouteRefresh(family)
                });
            }
        }
    }

    /// Asks `addr`'s thread to report `Synced(token)` once the routes it was given are out;
    /// `false` when no thread runs for it (nothing to wait for).
    pub fn sync(&self, addr: IpAddr, token: u64) -> bool {
        self.running
            .get(&addr)
            .is_some_and(|n| n.tx.send(PeerCommand::Sync(token)))
    }

    /// `flush adj-rib out`: the neighbors of `addrs` send their whole table again.
    pub fn flush(&self, addrs: &[IpAddr]) {
        for addr in addrs {
            if let Some(n) = self.running.get(addr) {
                n.tx.send(PeerCommand::ResendTable);
            }
        }
    }

    /// The thread `id` of `addr` reported that it stopped: a neighbor held for it starts.
    pub fn stopped(&mut self, addr: IpAddr, id: u64) {
        self.stopping.retain(|s| !(s.peer == addr && s.id == id));
        self.start_held(addr);
    }

    /// Lets the neighbor of `addr` connect once no earlier thread of it runs.
    fn start_held(&mut self, addr: IpAddr) {
        if self.stopping.iter().any(|s| s.peer == addr) {
            return;
        }
        if let Some(n) = self.running.get_mut(&addr)
            && n.held
            && !n.disabled
        {
            n.held = false;
            info!("neighbor {addr}: previous session closed, starting");
            n.tx.send(PeerCommand::Start);
        }
    }

    /// Forgets stopped threads that ended without a report (after an internal error).
    pub fn reap_stopped(&mut self) {
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

    /// A connection a listener accepted goes to the neighbor of its source address.
    pub fn incoming(&self, stream: TcpStream) {
        let Ok(from) = stream.peer_addr() else {
            return;
        };
        match self.running.get(&from.ip()) {
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

    /// Closes the listeners no passive neighbor uses any more, and removes the TCP-MD5 keys
    /// of stopped peers from the listeners that stay.
    pub fn prune_listeners(&mut self) {
        let wanted: Vec<(SocketAddr, IpAddr)> = self
            .running
            .values()
            .filter(|n| n.config.passive)
            .map(|n| (listen_address(&n.config), n.config.peer_address))
            .collect();
        let gone: Vec<IpAddr> = self.stopping.iter().map(|s| s.peer).collect();
        self.listeners.prune(&wanted, &gone);
    }

    /// Cease to every peer (or a close without NOTIFICATION where graceful restart was
    /// negotiated), waiting a bounded time for the threads to end.
    pub fn shutdown(self) {
        let mut handles: Vec<JoinHandle<()>> =
            self.stopping.into_iter().map(|s| s.handle).collect();
        for (_, n) in self.running {
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

/// The messages a neighbor's thread reports for its helpers: what any of them asks for in
/// `send { }`, and in `receive { }` but UPDATE and NOTIFICATION, which the thread reports
/// already (`on_update`, the session going down).
fn message_tap(n: &NeighborConfig) -> crate::session::core::MessageTap {
    use crate::wire::message::message_type as t;
    let mut tap = crate::session::core::MessageTap::default();
    for (_, e) in &n.api_subscriptions {
        tap.send |= e.send.type_mask();
        tap.receive |= e.receive.type_mask() & !((1 << t::UPDATE) | (1 << t::NOTIFICATION));
    }
    tap
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::session::core::SessionEvent;
    use crate::wire::notification::{code, subcode};

    /// An active neighbor towards a port nobody listens on (the test range of this module):
    /// its thread tries to connect and backs off, which is all the test needs.
    const CONFIG: &str = "neighbor 127.0.21.1 { router-id 192.0.2.10; local-address 127.0.21.2; local-as 1; peer-as 2; connect 17950; }";

    #[test]
    fn a_restarted_neighbor_is_held_until_the_old_thread_reports_stopped() {
        let config = crate::config::parse_str(CONFIG, Path::new("t.conf")).unwrap();
        let n = config.neighbors[0].clone();
        let addr = n.peer_address;
        let (tx, rx) = crossbeam_channel::unbounded();
        let mut neighbors = Neighbors::new(tx);
        let routes = Arc::new(RouteSet::default());
        neighbors.start(n, routes.clone(), routes, None).unwrap();
        assert!(!neighbors.is_held(addr));
        let old_id = neighbors.running[&addr].id;
        let cease = Notification::new(code::CEASE, subcode::ADMINISTRATIVE_RESET, Vec::new());
        neighbors.restart(addr, cease).unwrap();
        assert!(
            neighbors.is_held(addr),
            "the new thread waits for the old one"
        );
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let event = rx
                .recv_timeout(left)
                .expect("the old thread reports Stopped");
            let ManagerEvent::Peer(report) = event else {
                continue;
            };
            if report.event != SessionEvent::Stopped {
                // Whatever the old thread reports before it stops does not release the new one.
                assert!(neighbors.is_held(addr), "released by {report:?}");
                continue;
            }
            assert_eq!(report.id, old_id, "only the old thread stopped");
            neighbors.stopped(report.peer, report.id);
            break;
        }
        assert!(
            !neighbors.is_held(addr),
            "started once the old thread stopped"
        );
        neighbors.shutdown();
    }
}
