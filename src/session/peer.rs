//! The neighbor thread: owns one TCP connection at a time, drives the [`Fsm`] with what it
//! reads and the time that passes, and keeps the peer's routes equal to the desired
//! [`RouteSet`] it receives from the route manager.

use std::io::{self, Read, Write};
use std::net::{IpAddr, Shutdown, SocketAddr, TcpStream};
use std::os::fd::AsRawFd;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender, TryRecvError};
use log::{debug, error, info, warn};

use super::backoff::Backoff;
use super::fsm::{Action, Event, Fsm, Negotiated, SessionConfig, State};
use super::socket::{self, SocketOptions};
use super::waker::{self, WakeReceiver, Waker};
use crate::rib::packer::{self, SessionParams, split_messages};
use crate::rib::route_set::RouteSet;
use crate::rib::selfcheck;
use crate::wire::attribute::AttributeContext;
use crate::wire::family::Family;
use crate::wire::message::{self, DecodeContext, MAX_EXTENDED_MESSAGE_LEN, Message, RouteRefresh};
use crate::wire::notification::Notification;
use crate::wire::update::Update;

/// Read timeout of the socket: reads happen only when poll says data is there, so this is
/// a safety net, not a tick.
const TICK: Duration = Duration::from_millis(50);
/// The longest a neighbor thread sleeps with nothing to do (a safety net as well).
const IDLE_WAIT: Duration = Duration::from_secs(1);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// A blocked write wakes up this often to read what the peer sends meanwhile.
const WRITE_TIMEOUT: Duration = Duration::from_secs(1);
/// RFC 7313 §3 ROUTE-REFRESH subtypes.
const ROUTE_REFRESH_BORR: u8 = 1;
const ROUTE_REFRESH_EORR: u8 = 2;
/// A batch that takes longer than this to write means the peer reads slowly.
const SLOW_WRITE: Duration = Duration::from_millis(500);
/// A peer that accepts no byte of ours for this long is gone.
const WRITE_STALL: Duration = Duration::from_secs(90);
/// At most this much unhandled input is buffered while a write waits.
const MAX_BUFFERED_INPUT: usize = 1024 * 1024;
/// UPDATEs are written in batches of about this size, checking timers and reading in between.
const WRITE_BATCH: usize = 64 * 1024;

/// What the route manager tells a neighbor thread.
#[derive(Debug)]
pub enum PeerCommand {
    /// The routes the peer should have from now on.
    Routes(Arc<RouteSet>),
    /// A connection the peer opened to one of our listeners.
    Incoming(TcpStream),
    /// Send End-of-RIB for this family, or for every negotiated family (API `announce eor`).
    SendEndOfRib(Option<Family>),
    /// Ask the peer to send its routes again (API `announce route-refresh`).
    SendRouteRefresh(Option<Family>),
    /// Close with this NOTIFICATION and end the thread. With `for_restart`, bgpinject itself
    /// is stopping: when graceful restart was negotiated the session closes without
    /// NOTIFICATION so the peer keeps the routes while we are away.
    Shutdown {
        notification: Notification,
        for_restart: bool,
    },
}

/// Where a neighbor thread hands the UPDATEs its peer sends, when something wants them
/// (helpers with `api { receive { update; } }`).
#[derive(Clone)]
pub struct UpdateSink(pub Arc<dyn Fn(&Update) + Send + Sync>);

impl std::fmt::Debug for UpdateSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("UpdateSink")
    }
}

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
    /// Gets every UPDATE the peer sends, decoded.
    pub on_update: Option<UpdateSink>,
}

/// A neighbor's state as the operator wants to see it.
#[derive(Clone, Debug)]
pub struct PeerStatus {
    pub state: State,
    pub established_since: Option<SystemTime>,
    pub updates_sent: u64,
    pub routes_announced: u64,
    pub last_error: Option<String>,
}

pub type SharedStatus = Arc<Mutex<PeerStatus>>;

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

/// Starts the thread for one neighbor.
pub fn spawn(
    spec: PeerSpec,
    routes: Arc<RouteSet>,
) -> io::Result<(PeerHandle, JoinHandle<()>, SharedStatus)> {
    let (tx, rx) = crossbeam_channel::unbounded();
    let (waker, wake) = waker::pair()?;
    let status = Arc::new(Mutex::new(PeerStatus {
        state: State::Idle,
        established_since: None,
        updates_sent: 0,
        routes_announced: 0,
        last_error: None,
    }));
    let shared = status.clone();
    let handle = std::thread::Builder::new()
        .name(format!("peer {}", spec.peer.ip()))
        .spawn(move || run(spec, rx, wake, routes, shared))?;
    Ok((PeerHandle { tx, waker }, handle, status))
}

/// How a connection ended.
enum Outcome {
    /// The manager asked us to stop.
    Shutdown,
    /// The session went down; `established` says whether it had come up.
    Down { established: bool },
}

fn run(
    spec: PeerSpec,
    rx: Receiver<PeerCommand>,
    mut wake: WakeReceiver,
    routes: Arc<RouteSet>,
    status: SharedStatus,
) {
    let name = spec.peer.ip();
    let mut desired = routes;
    let mut backoff = Backoff::default();
    let mut delay = Duration::ZERO;
    loop {
        let Some(stream) = obtain_connection(&spec, &rx, &mut desired, delay, &status) else {
            info!("neighbor {name}: stopped");
            return;
        };
        let mut session = Session::new(&spec, &mut wake, stream, &rx, desired.clone(), &status);
        // A bug must cost one session, not the process: the panic is logged and the
        // neighbor reconnects, while every other neighbor carries on.
        let outcome = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| session.run()))
        {
            Ok(o) => o,
            Err(panic) => {
                let what = panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "unknown panic".into());
                error!("neighbor {name}: internal error, session dropped and restarted: {what}");
                note_error(&status, format!("internal error: {what}"));
                Outcome::Down { established: false }
            }
        };
        desired = session.desired.clone();
        set_state(&status, State::Idle);
        match outcome {
            Outcome::Shutdown => {
                info!("neighbor {name}: stopped");
                return;
            }
            Outcome::Down { established } => {
                if established {
                    backoff.reset();
                }
                delay = backoff.next_delay();
                if !spec.session.passive {
                    info!(
                        "neighbor {name}: reconnecting in {:.1} s",
                        delay.as_secs_f64()
                    );
                }
            }
        }
    }
}

fn set_state(status: &SharedStatus, state: State) {
    if let Ok(mut s) = status.lock() {
        s.state = state;
        if state != State::Established {
            s.established_since = None;
        }
    }
}

fn note_error(status: &SharedStatus, error: String) {
    if let Ok(mut s) = status.lock() {
        s.last_error = Some(error);
    }
}

/// Waits for a connection: dials the peer after `delay` (active), or waits for the manager to
/// hand over an accepted one (passive, and active when the peer connects first). Handles
/// commands meanwhile. `None` means shut down.
fn obtain_connection(
    spec: &PeerSpec,
    rx: &Receiver<PeerCommand>,
    desired: &mut Arc<RouteSet>,
    mut delay: Duration,
    status: &SharedStatus,
) -> Option<TcpStream> {
    let name = spec.peer.ip();
    loop {
        set_state(
            status,
            if spec.session.passive {
                State::Active
            } else {
                State::Idle
            },
        );
        let deadline = Instant::now() + delay;
        // Wait for the delay (forever when passive), serving commands.
        loop {
            let cmd = if spec.session.passive {
                rx.recv().map_err(|_| RecvTimeoutError::Disconnected)
            } else {
                rx.recv_timeout(deadline.saturating_duration_since(Instant::now()))
            };
            match cmd {
                Ok(PeerCommand::Routes(r)) => *desired = r,
                Ok(PeerCommand::SendEndOfRib(_) | PeerCommand::SendRouteRefresh(_)) => {
                    debug!("neighbor {name}: no session: End-of-RIB or ROUTE-REFRESH not sent");
                }
                Ok(PeerCommand::Shutdown { .. }) | Err(RecvTimeoutError::Disconnected) => {
                    return None;
                }
                Ok(PeerCommand::Incoming(stream)) => {
                    if let Err(e) = socket::apply_ttl(&stream, &spec.socket) {
                        warn!("neighbor {name}: {e}; connection refused");
                        continue;
                    }
                    info!(
                        "neighbor {name}: accepted connection from {}",
                        stream
                            .peer_addr()
                            .map(|a| a.to_string())
                            .unwrap_or_default()
                    );
                    return Some(stream);
                }
                Err(RecvTimeoutError::Timeout) => break,
            }
        }
        set_state(status, State::Connect);
        debug!("neighbor {name}: connecting to {}", spec.peer);
        match socket::connect(spec.peer, spec.local_address, &spec.socket, CONNECT_TIMEOUT) {
            Ok(stream) => {
                info!("neighbor {name}: connected to {}", spec.peer);
                return Some(stream);
            }
            Err(e) => {
                warn!("neighbor {name}: cannot connect to {}: {e}", spec.peer);
                note_error(status, format!("connect: {e}"));
                // Same growth as after a failed session.
                delay = (delay * 2).clamp(super::backoff::INITIAL, super::backoff::MAXIMUM);
            }
        }
    }
}

/// One TCP connection's life.
struct Session<'a> {
    spec: &'a PeerSpec,
    wake: &'a mut WakeReceiver,
    fsm: Fsm,
    stream: TcpStream,
    rx: &'a Receiver<PeerCommand>,
    status: &'a SharedStatus,
    /// What the peer should have.
    desired: Arc<RouteSet>,
    /// What the peer has from us on this connection.
    advertised: Arc<RouteSet>,
    params: Option<SessionParams>,
    /// Bytes read but not yet a whole message.
    inbox: Vec<u8>,
    /// How much of `inbox` has been handled.
    inbox_used: usize,
    connected: bool,
    established: bool,
    /// Families whose held-back routes were already logged on this connection.
    held_logged: Vec<Family>,
}

impl<'a> Session<'a> {
    fn new(
        spec: &'a PeerSpec,
        wake: &'a mut WakeReceiver,
        stream: TcpStream,
        rx: &'a Receiver<PeerCommand>,
        desired: Arc<RouteSet>,
        status: &'a SharedStatus,
    ) -> Session<'a> {
        Session {
            spec,
            wake,
            fsm: Fsm::new(spec.session.clone()),
            stream,
            rx,
            status,
            desired,
            advertised: Arc::new(RouteSet::default()),
            params: None,
            inbox: Vec::new(),
            inbox_used: 0,
            connected: true,
            established: false,
            held_logged: Vec::new(),
        }
    }

    fn name(&self) -> IpAddr {
        self.spec.peer.ip()
    }

    fn run(&mut self) -> Outcome {
        let setup = self
            .stream
            .set_read_timeout(Some(TICK))
            .and_then(|_| self.stream.set_write_timeout(Some(WRITE_TIMEOUT)))
            .and_then(|_| self.stream.set_nodelay(true));
        if let Err(e) = setup {
            warn!("neighbor {}: socket setup failed: {e}", self.name());
            return Outcome::Down { established: false };
        }
        self.event(Event::Start);
        self.event(Event::Connected);
        set_state(self.status, self.fsm.state());
        let mut buf = vec![0u8; 64 * 1024];
        self.wake.drain();
        while self.connected {
            if let Some(outcome) = self.serve_commands() {
                return outcome;
            }
            // Sleep until the peer sends, the manager has a command, or a timer is due.
            let timeout = self
                .fsm
                .next_deadline()
                .map(|d| d.saturating_duration_since(Instant::now()))
                .unwrap_or(IDLE_WAIT)
                .min(IDLE_WAIT);
            if !self.wake.wait(self.stream.as_raw_fd(), timeout).socket {
                self.event(Event::Tick);
                continue;
            }
            match self.stream.read(&mut buf) {
                Ok(0) => self.event(Event::ConnectionLost("peer closed the connection".into())),
                Ok(n) => self.received(&buf[..n]),
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock
                            | io::ErrorKind::TimedOut
                            | io::ErrorKind::Interrupted
                    ) => {}
                Err(e) => self.event(Event::ConnectionLost(e.to_string())),
            }
            if self.connected {
                self.event(Event::Tick);
            }
        }
        Outcome::Down {
            established: self.established,
        }
    }

    fn serve_commands(&mut self) -> Option<Outcome> {
        loop {
            match self.rx.try_recv() {
                Ok(PeerCommand::Routes(r)) => {
                    self.desired = r;
                    if self.fsm.state() == State::Established {
                        self.sync();
                    }
                }
                Ok(PeerCommand::SendEndOfRib(family)) => self.send_signal(true, family),
                Ok(PeerCommand::SendRouteRefresh(family)) => self.send_signal(false, family),
                Ok(PeerCommand::Incoming(other)) => {
                    // A second connection while one is up: keep the one we have (the full
                    // RFC 4271 §6.8 collision resolution is not implemented).
                    info!(
                        "neighbor {}: refusing a second connection while one is open",
                        self.name()
                    );
                    let _ = other.shutdown(Shutdown::Both);
                }
                Ok(PeerCommand::Shutdown {
                    notification,
                    for_restart,
                }) => {
                    self.event(if for_restart {
                        Event::StopForRestart(notification)
                    } else {
                        Event::Stop(notification)
                    });
                    return Some(Outcome::Shutdown);
                }
                Err(TryRecvError::Empty) => return None,
                Err(TryRecvError::Disconnected) => {
                    self.event(Event::Stop(Notification::administrative_shutdown(
                        "bgpinject stopping",
                    )));
                    return Some(Outcome::Shutdown);
                }
            }
        }
    }

    fn decode_context(&self) -> DecodeContext {
        DecodeContext {
            attributes: self.attribute_context(),
            max_message_len: self.fsm.max_message_len(),
            add_path: self
                .fsm
                .negotiated()
                .map(|n| n.add_path_receive)
                .unwrap_or_default(),
        }
    }

    fn attribute_context(&self) -> AttributeContext {
        AttributeContext {
            four_octet_as: self.fsm.negotiated().is_none_or(|n| n.four_octet_as),
        }
    }

    /// Frames and decodes what arrived, feeding each message to the FSM. Re-entrant: handling
    /// a message may write UPDATEs, which polls the peer and lands here again, so the read
    /// position lives in `self` and is advanced before each message is handled.
    fn received(&mut self, bytes: &[u8]) {
        self.inbox.extend_from_slice(bytes);
        while self.connected {
            let rest = self.inbox.get(self.inbox_used..).unwrap_or_default();
            let decoded = match message::frame(rest, self.fsm.max_message_len()) {
                Ok(None) => break,
                Ok(Some(len)) => {
                    let decoded = Message::decode(&rest[..len], self.decode_context());
                    self.inbox_used += len;
                    decoded
                }
                Err(e) => {
                    self.inbox_used = self.inbox.len();
                    Err(e)
                }
            };
            match decoded {
                Ok((m, problems)) => self.event(Event::Received(m, problems)),
                Err(e) => {
                    warn!("neighbor {}: malformed message from peer: {e}", self.name());
                    self.event(Event::DecodeFailed(e));
                }
            }
        }
        if self.inbox_used >= self.inbox.len() {
            self.inbox.clear();
            self.inbox_used = 0;
        } else if self.inbox_used > MAX_EXTENDED_MESSAGE_LEN {
            self.inbox.drain(..self.inbox_used);
            self.inbox_used = 0;
        }
    }

    /// Feeds one event to the FSM and carries out what it says, including what those
    /// actions cause (a failed write is itself an event).
    fn event(&mut self, event: Event) {
        let mut queue = std::collections::VecDeque::from([event]);
        while let Some(ev) = queue.pop_front() {
            let before = self.fsm.state();
            let actions = self.fsm.handle(ev, Instant::now());
            if self.fsm.state() != before {
                debug!(
                    "neighbor {}: {:?} -> {:?}",
                    self.name(),
                    before,
                    self.fsm.state()
                );
                set_state(self.status, self.fsm.state());
            }
            for action in actions {
                if let Some(follow) = self.act(action) {
                    queue.push_back(follow);
                }
            }
        }
    }

    fn act(&mut self, action: Action) -> Option<Event> {
        match action {
            Action::Connect => None, // the connection already exists
            Action::Send(msg) => {
                if !self.connected {
                    return None;
                }
                if let Message::Notification(n) = &msg {
                    warn!("neighbor {}: sending NOTIFICATION {n}", self.name());
                }
                let bytes = msg.encode(self.attribute_context());
                self.write(&bytes)
            }
            Action::Disconnect => {
                let _ = self.stream.flush();
                let _ = self.stream.shutdown(Shutdown::Both);
                self.connected = false;
                None
            }
            Action::SessionUp(neg) => {
                self.session_up(neg);
                None
            }
            Action::SessionDown(reason) => {
                warn!("neighbor {}: session down: {reason}", self.name());
                note_error(self.status, reason.to_string());
                None
            }
            Action::RouteRefresh(family) => {
                info!(
                    "neighbor {}: route refresh for {family}: sending its routes again",
                    self.name()
                );
                self.resend_family(family);
                None
            }
            Action::UpdateReceived(update, problems) => {
                if let Some(sink) = &self.spec.on_update {
                    (sink.0)(&update);
                }
                debug!(
                    "neighbor {}: received {}",
                    self.name(),
                    Message::Update(update)
                );
                for p in problems {
                    warn!("neighbor {}: UPDATE problem: {p}", self.name());
                }
                None
            }
            Action::Problem(p) => {
                warn!("neighbor {}: {p}", self.name());
                None
            }
        }
    }

    /// Writes all of `bytes`. A slow reader is fine as long as it makes progress: the write
    /// fails only after [`WRITE_STALL`] without a single byte accepted. Bytes the peer sends
    /// meanwhile are buffered (not handled: we may be in the middle of a message).
    fn write(&mut self, mut bytes: &[u8]) -> Option<Event> {
        let mut last_progress = Instant::now();
        while !bytes.is_empty() {
            match self.stream.write(bytes) {
                Ok(0) => return Some(Event::ConnectionLost("peer closed the connection".into())),
                Ok(n) => {
                    bytes = &bytes[n..];
                    last_progress = Instant::now();
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock
                            | io::ErrorKind::TimedOut
                            | io::ErrorKind::Interrupted
                    ) =>
                {
                    if last_progress.elapsed() >= WRITE_STALL {
                        return Some(Event::ConnectionLost(format!(
                            "the peer accepted nothing for {} s",
                            WRITE_STALL.as_secs()
                        )));
                    }
                    self.buffer_input();
                }
                Err(e) => return Some(Event::ConnectionLost(format!("write failed: {e}"))),
            }
        }
        None
    }

    /// Moves what the peer sent into the inbox without handling it, so that its socket buffer
    /// never fills while we wait to write.
    fn buffer_input(&mut self) {
        if self.stream.set_nonblocking(true).is_err() {
            return;
        }
        let mut buf = [0u8; 4096];
        while let Ok(n) = self.stream.read(&mut buf) {
            if n == 0 || self.inbox.len() > MAX_BUFFERED_INPUT {
                break;
            }
            self.inbox.extend_from_slice(&buf[..n]);
        }
        let _ = self.stream.set_nonblocking(false);
    }

    fn session_up(&mut self, neg: Negotiated) {
        let families: Vec<String> = neg.families.iter().map(|f| f.to_string()).collect();
        info!(
            "neighbor {}: session established (peer AS {}, router-id {}, hold time {} s, families [{}])",
            self.name(),
            neg.peer_as,
            neg.peer_router_id,
            neg.hold_time,
            families.join(", ")
        );
        let local = self
            .stream
            .local_addr()
            .map(|a| a.ip())
            .or_else(|_| self.spec.local_address.ok_or(()))
            .unwrap_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED));
        self.params = Some(SessionParams {
            group_updates: self.spec.group_updates,
            four_octet_as: neg.four_octet_as,
            ebgp: self.spec.session.local_as != self.spec.session.peer_as,
            local_as: self.spec.session.local_as,
            local_address: local,
            families: neg.families.clone(),
            max_message_len: self.fsm.max_message_len(),
            add_path: neg.add_path_send.clone(),
            extended_next_hop: neg.extended_next_hop.clone(),
        });
        self.established = true;
        if let Ok(mut s) = self.status.lock() {
            s.established_since = Some(SystemTime::now());
        }
        self.advertised = Arc::new(RouteSet::default());
        self.sync();
        // RFC 4724 §2: End-of-RIB after the initial table, for every family.
        let mut eors = Vec::new();
        if let Some(params) = &self.params {
            for &f in &neg.families {
                eors.extend(packer::end_of_rib(f, params));
            }
        }
        self.send_updates(&eors);
    }

    /// Sends what changed between what the peer has and what it should have.
    fn sync(&mut self) {
        let Some(params) = self.params.clone() else {
            return;
        };
        // A fresh session gets the whole table: packed straight from the route set, without
        // a diff that would copy every route first (1M routes: 32 MB less at the peak).
        let fresh = self.advertised.is_empty();
        let diff = if fresh {
            None
        } else {
            Some(self.advertised.diff(&self.desired))
        };
        if diff.as_ref().is_some_and(|d| d.is_empty()) || (fresh && self.desired.is_empty()) {
            return;
        }
        let packed = match &diff {
            Some(d) => packer::pack(d, &params),
            None => packer::pack_table(&self.desired, &params),
        };
        let checked = || match &diff {
            Some(d) => selfcheck::verify(d, &params, &packed),
            None => selfcheck::verify(&self.desired.as_announcements(), &params, &packed),
        };
        if selfcheck::enabled()
            && let Err(e) = checked()
        {
            error!("neighbor {}: {e}; these UPDATEs are not sent", self.name());
            return;
        }
        for (family, count) in &packed.held_back {
            if !self.held_logged.contains(family) {
                warn!(
                    "neighbor {}: {count} routes of {family} held back: family not negotiated with the peer",
                    self.name()
                );
                self.held_logged.push(*family);
            }
        }
        // Same once-per-family log as above: a held-back family has no paths to drop.
        for (family, count) in &packed.extra_paths {
            if !self.held_logged.contains(family) {
                warn!(
                    "neighbor {}: {count} extra paths of {family} not sent: the peer does not receive ADD-PATH for it, only the lowest path-information of each prefix is sent",
                    self.name()
                );
                self.held_logged.push(*family);
            }
        }
        for p in &packed.unresolvable {
            warn!(
                "neighbor {}: route {p} not sent: its next hop cannot be expressed on this session",
                self.name()
            );
        }
        info!(
            "neighbor {}: sending {} announcements and {} withdrawals in {} UPDATEs",
            self.name(),
            packed.announced,
            packed.withdrawn,
            packed.messages
        );
        if self.send_updates(&packed.bytes) {
            if let Ok(mut s) = self.status.lock() {
                s.updates_sent += packed.messages as u64;
                s.routes_announced += packed.announced as u64;
            }
            self.advertised = self.desired.clone();
        }
    }

    /// `announce eor` / `announce route-refresh` from the API: End-of-RIB or a ROUTE-REFRESH
    /// request for `family`, or for every negotiated family. Not sent before Established,
    /// nor for a family the session did not negotiate, nor ROUTE-REFRESH to a peer that did
    /// not advertise the capability.
    fn send_signal(&mut self, end_of_rib: bool, family: Option<Family>) {
        let (Some(params), Some(neg)) = (self.params.clone(), self.fsm.negotiated().cloned())
        else {
            info!(
                "neighbor {}: session not established: nothing sent",
                self.name()
            );
            return;
        };
        let families: Vec<Family> = match family {
            Some(f) if neg.families.contains(&f) => vec![f],
            Some(f) => {
                warn!("neighbor {}: {f} not negotiated: nothing sent", self.name());
                return;
            }
            None => neg.families.clone(),
        };
        if !end_of_rib && !neg.route_refresh {
            warn!(
                "neighbor {}: the peer did not advertise route refresh: no ROUTE-REFRESH sent",
                self.name()
            );
            return;
        }
        let mut bytes = Vec::new();
        for f in families {
            if end_of_rib {
                bytes.extend(packer::end_of_rib(f, &params));
            } else {
                bytes.extend(
                    Message::RouteRefresh(RouteRefresh {
                        family: f,
                        subtype: 0,
                    })
                    .encode(self.attribute_context()),
                );
            }
        }
        self.send_updates(&bytes);
    }

    /// Sends every route of `family` again (route refresh).
    fn resend_family(&mut self, family: Family) {
        let Some(params) = self.params.clone() else {
            return;
        };
        let subset = self.advertised.family_subset(family);
        let packed = packer::pack_table(&subset, &params);
        // RFC 7313 §4: Beginning-of-Route-Refresh, the routes, End-of-Route-Refresh.
        let enhanced = self
            .fsm
            .negotiated()
            .is_some_and(|n| n.enhanced_route_refresh);
        let marker = |subtype| {
            Message::RouteRefresh(RouteRefresh { family, subtype }).encode(self.attribute_context())
        };
        let mut bytes = Vec::with_capacity(packed.bytes.len() + 46);
        if enhanced {
            bytes.extend(marker(ROUTE_REFRESH_BORR));
        }
        bytes.extend_from_slice(&packed.bytes);
        if enhanced {
            bytes.extend(marker(ROUTE_REFRESH_EORR));
        }
        self.send_updates(&bytes);
    }

    /// Writes whole UPDATE messages in batches, between batches reading what the peer sent
    /// and letting the FSM send KEEPALIVEs, so that a large table never starves the timers.
    /// Returns whether everything was written.
    fn send_updates(&mut self, bytes: &[u8]) -> bool {
        let mut batch_start = 0;
        let mut batch_end = 0;
        // A peer that reads slowly gets one message per write, so that the timers (and our
        // KEEPALIVEs) run between messages instead of between large batches.
        let mut batch_size = WRITE_BATCH;
        for m in split_messages(bytes) {
            batch_end += m.len();
            if batch_end - batch_start < batch_size && batch_end < bytes.len() {
                continue;
            }
            let started = Instant::now();
            let failed = self.write(&bytes[batch_start..batch_end]);
            if started.elapsed() > SLOW_WRITE {
                batch_size = 1;
            }
            if let Some(ev) = failed {
                self.event(ev);
                return false;
            }
            self.event(Event::Sent);
            self.received(&[]);
            self.poll_peer();
            if !self.connected {
                return false;
            }
            batch_start = batch_end;
        }
        true
    }

    /// Reads whatever the peer already sent, without waiting, and runs the timers.
    fn poll_peer(&mut self) {
        if self.stream.set_nonblocking(true).is_err() {
            return;
        }
        let mut buf = [0u8; 4096];
        loop {
            match self.stream.read(&mut buf) {
                Ok(0) => {
                    let _ = self.stream.set_nonblocking(false);
                    self.event(Event::ConnectionLost("peer closed the connection".into()));
                    return;
                }
                Ok(n) => {
                    let _ = self.stream.set_nonblocking(false);
                    self.received(&buf[..n]);
                    if !self.connected || self.stream.set_nonblocking(true).is_err() {
                        return;
                    }
                }
                Err(_) => break,
            }
        }
        let _ = self.stream.set_nonblocking(false);
        self.event(Event::Tick);
    }
}
