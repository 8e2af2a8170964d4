//! The neighbor thread: a flat loop around the sans-I/O [`SessionCore`]. It owns the socket
//! (non-blocking), the clock and the command channel, and only moves bytes, time and
//! commands into the core and bytes and events out of it:
//!
//! ```text
//! loop {
//!     commands -> core.handle_command      timers -> core.handle_timeout
//!     core.poll_connect -> dial            core.poll_transmit -> write what the socket takes
//!     core.wants_close -> close            core.poll_event -> log, manager
//!     poll(socket readable / writable while the outbox has bytes, wake pipe, core.poll_timeout)
//!     read what is there -> core.handle_bytes
//! }
//! ```
//!
//! Handling a message never blocks (a ROUTE-REFRESH or a new table only queues work), so the
//! core's inbox never holds more than one unfinished message: reading never has to stop for
//! it, and nothing is ever discarded. Reading is only budgeted per turn, so that a peer that
//! floods us cannot starve our writes or timers; TCP flow control pushes back on it.

use std::io::{self, Read, Write};
use std::net::{IpAddr, Shutdown, SocketAddr, TcpStream};
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, TryRecvError};
use log::{debug, error, info, warn};

use super::core::{Command, CoreConfig, EorRelease, SessionCore, SessionEvent};
use super::fsm::{DownReason, SessionConfig};
use super::socket::{self, SocketOptions};
use super::waker::{self, WakeReceiver, Waker};
use crate::bfd::{self, packet::Diag};
use crate::rib::route_set::RouteSet;
use crate::wire::family::Family;
use crate::wire::message::Message;
use crate::wire::notification::{self, Notification};
use crate::wire::update::Update;

/// The longest the thread sleeps with nothing to do (a safety net: every deadline is known).
const IDLE_WAIT: Duration = Duration::from_secs(1);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// At most this much is read per turn of the loop before writes and timers get their turn.
const READ_BUDGET: usize = 256 * 1024;
const READ_CHUNK: usize = 64 * 1024;
/// After an internal error the neighbor starts again with a fresh session after this delay.
const PANIC_RESTART: Duration = Duration::from_secs(1);

/// What the route manager tells a neighbor thread.
#[derive(Debug)]
pub enum PeerCommand {
    /// Connections are allowed from now on (a neighbor spawned held, see [`spawn`]).
    Start,
    /// The routes the peer should have from now on.
    Routes(Arc<RouteSet>),
    /// A connection the peer opened to one of our listeners.
    Incoming(TcpStream),
    /// Send End-of-RIB for this family, or for every negotiated family (API `announce eor`).
    SendEndOfRib(Option<Family>),
    /// The neighbor's helpers and health checks are ready for these families: the held
    /// End-of-RIB may go.
    ReleaseEndOfRib(EorRelease),
    /// Ask the peer to send its routes again (API `announce route-refresh`).
    SendRouteRefresh(Option<Family>),
    /// Send the peer every route it has from us again (API `flush adj-rib out`).
    ResendTable,
    /// Close with this NOTIFICATION and end the thread. With `for_restart`, bgpinject itself
    /// is stopping: when graceful restart was negotiated the session closes without
    /// NOTIFICATION so the peer keeps the routes while we are away.
    Shutdown {
        notification: Notification,
        for_restart: bool,
    },
    /// The neighbor's BFD session went down after having been up (from the BFD thread):
    /// the BGP session goes down too, with Cease / BFD Down (RFC 9384), and reconnects.
    BfdDown(Diag),
    /// Report [`SessionEvent::Synced`] with this token once what the commands before it
    /// asked for is written to the socket (or no session is up to write it to): the manager
    /// holds a helper's `done` until then when the helper is told of the UPDATEs sent, so
    /// that it hears of them before the `done`, as ExaBGP's helpers expect.
    Sync(u64),
}

/// Where a neighbor thread hands the UPDATEs its peer sends, when something wants them
/// (helpers with `api { receive { update; } }`).
#[derive(Clone)]
pub struct UpdateSink(pub Arc<UpdateFn>);

/// Gets an UPDATE the peer sent, and whether RFC 7606 makes its routes withdrawn.
pub type UpdateFn = dyn Fn(&Update, bool) + Send + Sync;

impl std::fmt::Debug for UpdateSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("UpdateSink")
    }
}

/// A neighbor's typed events, tagged with the neighbor's address and the id of the thread
/// (a restarted neighbor gets a new id, so late events of the old thread are told apart).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeerReport {
    pub peer: IpAddr,
    pub id: u64,
    pub event: SessionEvent,
}

/// Where a neighbor thread sends its reports (the manager wraps them into its own events).
pub type ReportSink = Arc<dyn Fn(PeerReport) + Send + Sync>;

/// What one neighbor thread needs to know.
#[derive(Clone, Debug)]
pub struct PeerSpec {
    /// The peer's address and the port we connect to.
    pub peer: SocketAddr,
    pub local_address: Option<IpAddr>,
    pub session: SessionConfig,
    pub socket: SocketOptions,
    /// ExaBGP's `group-updates`.
    pub group_updates: bool,
    /// How long End-of-RIB waits for the neighbor's helpers and health checks (`None`:
    /// it does not).
    pub eor_wait: Option<Duration>,
    /// The messages reported as `SessionEvent::Message` (helpers' `send { }`, `receive { }`).
    pub tap: crate::session::core::MessageTap,
    /// ExaBGP's `manual-eor`: no End-of-RIB unless the API asks for one.
    pub manual_eor: bool,
    /// ExaBGP main's `local-link-local`.
    pub local_link_local: Option<std::net::Ipv6Addr>,
    /// RFC 5065: the session's place in our confederation.
    pub confederation: crate::wire::aspath::ConfederationRole,
    /// Gets every UPDATE the peer sends, decoded.
    pub on_update: Option<UpdateSink>,
    /// `bfd { }`: a BFD session to the peer for the thread's life.
    pub bfd: Option<bfd::Params>,
}

/// How the manager talks to a neighbor thread: the channel, and the waker that gets the
/// thread out of `poll()` to read it.
#[derive(Clone, Debug)]
pub struct PeerHandle {
    tx: Sender<PeerCommand>,
    waker: Waker,
}

impl PeerHandle {
    /// Queues `cmd`; `false` when the thread has ended.
    pub fn send(&self, cmd: PeerCommand) -> bool {
        let sent = self.tx.send(cmd).is_ok();
        self.waker.wake();
        sent
    }
}

/// Starts the thread for one neighbor; it reports to `reports` under `id`. A `held` neighbor
/// neither dials nor accepts a connection before [`PeerCommand::Start`].
pub fn spawn(
    spec: PeerSpec,
    routes: Arc<RouteSet>,
    id: u64,
    held: bool,
    reports: ReportSink,
) -> io::Result<(PeerHandle, JoinHandle<()>)> {
    let (tx, rx) = crossbeam_channel::unbounded();
    let (waker, wake) = waker::pair()?;
    let own = PeerHandle {
        tx: tx.clone(),
        waker: waker.clone(),
    };
    let bfd = spec.bfd.and_then(|params| register_bfd(&spec, params, own));
    let handle = std::thread::Builder::new()
        .name(format!("peer {}", spec.peer.ip()))
        .spawn(move || {
            // The BFD session lives as long as the thread (dropping it deletes it).
            let _bfd = bfd;
            let mut thread = PeerThread {
                spec,
                rx,
                wake,
                routes,
                started: !held,
                id,
                reports,
                syncs: Vec::new(),
            };
            thread.run()
        })?;
    Ok((PeerHandle { tx, waker }, handle))
}

/// Starts the neighbor's BFD session; its failures come back as [`PeerCommand::BfdDown`]
/// on the neighbor's own channel. (The BFD thread holds a sender of that channel until the
/// neighbor thread ends; the manager always ends a neighbor with `Shutdown`.)
fn register_bfd(
    spec: &PeerSpec,
    params: bfd::Params,
    own: PeerHandle,
) -> Option<bfd::service::Registration> {
    let name = spec.peer.ip();
    match bfd::service::service() {
        Ok(service) => Some(service.register(
            name,
            spec.local_address,
            params,
            Box::new(move |diag| {
                own.send(PeerCommand::BfdDown(diag));
            }),
        )),
        Err(e) => {
            error!("neighbor {name}: cannot start the BFD thread: {e}; running without BFD");
            None
        }
    }
}

struct PeerThread {
    spec: PeerSpec,
    rx: Receiver<PeerCommand>,
    wake: WakeReceiver,
    /// The latest routes, kept here too so that a session restarted after an internal
    /// error starts from them.
    routes: Arc<RouteSet>,
    started: bool,
    id: u64,
    reports: ReportSink,
    /// Tokens of [`PeerCommand::Sync`] not answered yet (the manager has at most one per
    /// acknowledgement it holds).
    syncs: Vec<u64>,
}

impl PeerThread {
    fn run(&mut self) {
        let name = self.spec.peer.ip();
        loop {
            // A bug must cost one session, not the process: the panic is logged (the test
            // harness fails any test whose log shows one) and the neighbor starts again.
            match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.drive())) {
                Ok(()) => {
                    info!("neighbor {name}: stopped");
                    return;
                }
                Err(panic) => {
                    let what = panic
                        .downcast_ref::<&str>()
                        .map(|s| s.to_string())
                        .or_else(|| panic.downcast_ref::<String>().cloned())
                        .unwrap_or_else(|| "unknown panic".into());
                    error!(
                        "neighbor {name}: internal error, session dropped and restarted: {what}"
                    );
                    self.report(SessionEvent::Down(DownReason::Connection(format!(
                        "internal error: {what}"
                    ))));
                    std::thread::sleep(PANIC_RESTART);
                }
            }
        }
    }

    fn report(&self, event: SessionEvent) {
        (self.reports)(PeerReport {
            peer: self.spec.peer.ip(),
            id: self.id,
            event,
        });
    }

    /// One core's life, until it stopped for good.
    fn drive(&mut self) {
        let name = self.spec.peer.ip();
        let mut core = SessionCore::new(
            CoreConfig {
                name: name.to_string(),
                session: self.spec.session.clone(),
                group_updates: self.spec.group_updates,
                eor_wait: self.spec.eor_wait,
                tap: self.spec.tap,
                manual_eor: self.spec.manual_eor,
                local_link_local: self.spec.local_link_local,
                confederation: self.spec.confederation,
            },
            self.routes.clone(),
        );
        if self.started {
            core.start(Instant::now());
        }
        let mut conn: Option<TcpStream> = None;
        // A connection attempt in progress, and when it is given up.
        let mut dialing: Option<(TcpStream, Instant)> = None;
        let mut buf = vec![0u8; READ_CHUNK];
        loop {
            self.serve_commands(&mut core, &mut conn);
            let now = Instant::now();
            // A deadline passed while the thread was busy (a large table to prepare): what
            // the peer sent meanwhile is read first, so that a KEEPALIVE waiting in the
            // socket counts before the hold timer is judged (RFC 4271 §6.5 measures from
            // what was received, not from what this thread got round to reading).
            if core.poll_timeout().is_some_and(|t| t <= now)
                && let Some(stream) = conn.as_mut()
                && let Err(e) = read_in(stream, &mut core, &mut buf)
            {
                core.connection_lost(&e, now);
            }
            let now = Instant::now();
            core.handle_timeout(now);
            if conn.is_none() && dialing.is_none() && core.poll_connect(now) {
                debug!("neighbor {name}: connecting to {}", self.spec.peer);
                match socket::start_connect(
                    self.spec.peer,
                    self.spec.local_address,
                    &self.spec.socket,
                ) {
                    Ok(s) => dialing = Some((s, now + CONNECT_TIMEOUT)),
                    Err(e) => core.connect_failed(&e.to_string(), now),
                }
            }
            if conn.is_some() || core.is_stopped() {
                // The peer's connection was accepted meanwhile (the core counts that one),
                // or the neighbor stopped: the attempt is dropped.
                dialing = None;
            }
            if let Some(stream) = conn.as_mut()
                && let Err(e) = write_out(stream, &mut core)
            {
                core.connection_lost(&e, Instant::now());
            }
            if conn.is_some() && core.wants_close(Instant::now()) {
                if core.pending_bytes() > 0 {
                    warn!(
                        "neighbor {name}: closing with {} bytes unwritten: the peer is not reading",
                        core.pending_bytes()
                    );
                }
                if let Some(stream) = conn.take() {
                    let _ = stream.shutdown(Shutdown::Both);
                }
                core.closed(Instant::now());
            }
            self.forward_events(&mut core);
            if !self.syncs.is_empty() && (core.is_idle() || !core.is_established()) {
                for token in std::mem::take(&mut self.syncs) {
                    self.report(SessionEvent::Synced(token));
                }
            }
            if core.is_stopped() {
                for token in std::mem::take(&mut self.syncs) {
                    self.report(SessionEvent::Synced(token));
                }
                return;
            }
            let deadline = [core.poll_timeout(), dialing.as_ref().map(|d| d.1)]
                .into_iter()
                .flatten()
                .min();
            let timeout = deadline
                .map(|t| t.saturating_duration_since(Instant::now()))
                .unwrap_or(IDLE_WAIT)
                .min(IDLE_WAIT);
            let ready = match &dialing {
                Some((s, _)) => self.wake.wait_io(Some(s.as_raw_fd()), false, true, timeout),
                None => self.wake.wait_io(
                    conn.as_ref().map(|s| s.as_raw_fd()),
                    true,
                    core.has_transmit(),
                    timeout,
                ),
            };
            if let Some((stream, give_up)) = dialing.take() {
                let now = Instant::now();
                if ready.writable {
                    match socket::finish_connect(&stream).and_then(|_| self.prepare(stream)) {
                        Ok((stream, local)) => {
                            info!("neighbor {name}: connected to {}", self.spec.peer);
                            core.connected(local, now);
                            conn = Some(stream);
                        }
                        Err(e) => core.connect_failed(&e.to_string(), now),
                    }
                } else if now >= give_up {
                    core.connect_failed("connection timed out", now);
                } else {
                    dialing = Some((stream, give_up));
                }
                continue;
            }
            if ready.socket
                && let Some(stream) = conn.as_mut()
                && let Err(e) = read_in(stream, &mut core, &mut buf)
            {
                core.connection_lost(&e, Instant::now());
            }
        }
    }

    fn serve_commands(&mut self, core: &mut SessionCore, conn: &mut Option<TcpStream>) {
        let name = self.spec.peer.ip();
        loop {
            let now = Instant::now();
            let cmd = match self.rx.try_recv() {
                Ok(c) => c,
                Err(TryRecvError::Empty) => return,
                Err(TryRecvError::Disconnected) => {
                    core.handle_command(
                        Command::Stop {
                            notification: Notification::administrative_shutdown(
                                "bgpinject stopping",
                            ),
                            for_restart: false,
                        },
                        now,
                    );
                    return;
                }
            };
            match cmd {
                PeerCommand::Start => {
                    self.started = true;
                    core.start(now);
                }
                PeerCommand::Routes(r) => {
                    self.routes = r.clone();
                    core.handle_command(Command::Routes(r), now);
                }
                PeerCommand::SendEndOfRib(f) => core.handle_command(Command::SendEndOfRib(f), now),
                PeerCommand::ReleaseEndOfRib(r) => {
                    core.handle_command(Command::ReleaseEndOfRib(r), now)
                }
                PeerCommand::SendRouteRefresh(f) => {
                    core.handle_command(Command::SendRouteRefresh(f), now)
                }
                PeerCommand::ResendTable => core.handle_command(Command::ResendTable, now),
                PeerCommand::Sync(token) => self.syncs.push(token),
                PeerCommand::Shutdown {
                    notification,
                    for_restart,
                } => core.handle_command(
                    Command::Stop {
                        notification,
                        for_restart,
                    },
                    now,
                ),
                PeerCommand::BfdDown(diag) => {
                    if core.is_connected() {
                        warn!(
                            "neighbor {name}: BFD session down ({diag}): closing the BGP session (Cease / BFD Down)"
                        );
                    }
                    core.handle_command(
                        Command::Reset(Notification::new(
                            notification::code::CEASE,
                            notification::subcode::BFD_DOWN,
                            Vec::new(),
                        )),
                        now,
                    );
                }
                PeerCommand::Incoming(stream) => {
                    let from = stream
                        .peer_addr()
                        .map(|a| a.to_string())
                        .unwrap_or_default();
                    if conn.is_some() || !core.accepts_incoming() {
                        info!(
                            "neighbor {name}: connection from {from} refused: {}",
                            if conn.is_some() {
                                "a session is already open"
                            } else {
                                "the neighbor is not started or is stopping"
                            }
                        );
                        let _ = stream.shutdown(Shutdown::Both);
                        continue;
                    }
                    let accepted = socket::apply_ttl(&stream, &self.spec.socket)
                        .and_then(|_| self.prepare(stream));
                    match accepted {
                        Ok((stream, local)) => {
                            info!("neighbor {name}: accepted connection from {from}");
                            core.connected(local, now);
                            *conn = Some(stream);
                        }
                        Err(e) => warn!("neighbor {name}: {e}; connection from {from} refused"),
                    }
                }
            }
        }
    }

    /// Makes a new connection non-blocking; returns it with our address on it.
    fn prepare(&self, stream: TcpStream) -> io::Result<(TcpStream, IpAddr)> {
        stream.set_nonblocking(true)?;
        stream.set_nodelay(true)?;
        let local = stream
            .local_addr()
            .map(|a| a.ip())
            .or_else(|e| self.spec.local_address.ok_or(e))?;
        Ok((stream, local))
    }

    fn forward_events(&self, core: &mut SessionCore) {
        let name = self.spec.peer.ip();
        while let Some(event) = core.poll_event() {
            match event {
                SessionEvent::UpdateReceived(update, problems) => {
                    if let Some(sink) = &self.spec.on_update {
                        // RFC 7606: its routes count as withdrawn.
                        let withdrawn = problems
                            .iter()
                            .any(|p| p.action == crate::wire::error::ErrorAction::TreatAsWithdraw);
                        (sink.0)(&update, withdrawn);
                    }
                    if log::log_enabled!(log::Level::Debug) {
                        debug!("neighbor {name}: received {}", Message::Update(*update));
                    }
                }
                other => self.report(other),
            }
        }
    }
}

/// Writes what the core has until the socket takes no more.
fn write_out(stream: &mut TcpStream, core: &mut SessionCore) -> Result<(), String> {
    loop {
        let Some(bytes) = core.poll_transmit() else {
            return Ok(());
        };
        match stream.write(bytes) {
            Ok(0) => return Err("peer closed the connection".into()),
            Ok(n) => core.advance(n, Instant::now()),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(format!("write failed: {e}")),
        }
    }
}

/// Reads what the peer sent, up to [`READ_BUDGET`], into the core.
fn read_in(stream: &mut TcpStream, core: &mut SessionCore, buf: &mut [u8]) -> Result<(), String> {
    let mut budget = READ_BUDGET;
    while budget > 0 && core.is_connected() {
        match stream.read(buf) {
            Ok(0) => return Err("peer closed the connection".into()),
            Ok(n) => {
                budget = budget.saturating_sub(n);
                core.handle_bytes(buf.get(..n).unwrap_or_default(), Instant::now());
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(format!("read failed: {e}")),
        }
    }
    Ok(())
}
