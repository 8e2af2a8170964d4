//! The whole life of one neighbor, free of I/O and clocks (the quinn-proto shape): bytes,
//! commands and time go in (`handle_*`), bytes to write, the next deadline and typed events
//! come out (`poll_*`). It owns the [`Fsm`], the Adj-RIB-Out (`desired` and `advertised`),
//! the inbox of unframed input and the [`Outbox`]. The neighbor thread (`peer.rs`) only moves
//! bytes and time between it and a socket.
//!
//! Invariants (asserted by the replay tests in `tests.rs`):
//! - `advertised` is what the peer holds once the outbox is written; once the outbox is
//!   drained and nothing is pending, the peer's Adj-RIB-In equals `advertised` equals `desired`.
//! - Nothing here recurses or blocks: a ROUTE-REFRESH or a new table that arrives while
//!   UPDATEs are queued only marks work pending; the work is done, from the state current at
//!   that time, once the queued UPDATEs are written. A burst of refreshes for one family costs
//!   one re-send.

mod eor_gate;
mod outbox;
mod rib_out;
#[cfg(test)]
mod tests;

use std::collections::VecDeque;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use log::{debug, info, warn};

use super::backoff::Backoff;
use super::fsm::{Action, DownReason, Event, Fsm, Negotiated, SessionConfig, State};
use crate::rib::packer::SessionParams;
use crate::rib::route_set::RouteSet;
use crate::wire::attribute::AttributeContext;
use crate::wire::error::DecodeError;
use crate::wire::family::Family;
use crate::wire::message::{self, DecodeContext, Message};
use crate::wire::notification::Notification;
use crate::wire::update::Update;
pub use eor_gate::{EorGate, EorRelease};
pub use outbox::Outbox;

/// RFC 7313 §3 ROUTE-REFRESH subtypes.
const ROUTE_REFRESH_REQUEST: u8 = 0;
const ROUTE_REFRESH_BORR: u8 = 1;
const ROUTE_REFRESH_EORR: u8 = 2;

/// A closing session writes what it can of its last messages (the NOTIFICATION) for this
/// long, then the connection is closed anyway.
pub const CLOSE_LINGER: Duration = Duration::from_millis(500);

/// What the manager (or the API through it) asks of a neighbor.
#[derive(Clone, Debug)]
pub enum Command {
    /// The routes the peer should have from now on.
    Routes(Arc<RouteSet>),
    /// Send End-of-RIB for this family, or for every negotiated family.
    SendEndOfRib(Option<Family>),
    /// Ask the peer to send its routes again.
    SendRouteRefresh(Option<Family>),
    /// Send every route the peer has from us again (ExaBGP's `flush adj-rib out`), as an
    /// answer to ROUTE-REFRESH is sent.
    ResendTable,
    /// The sources of these families are ready: their held End-of-RIB may go (see
    /// [`EorGate`]).
    ReleaseEndOfRib(EorRelease),
    /// Close with this NOTIFICATION and stop for good. With `for_restart` and graceful
    /// restart negotiated, close without NOTIFICATION (RFC 4724 §4).
    Stop {
        notification: Notification,
        for_restart: bool,
    },
    /// Close the session with this NOTIFICATION and connect again later, as after any
    /// session failure (BFD saw the path go down).
    Reset(Notification),
}

/// What happened, for the manager and the log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SessionEvent {
    /// The FSM changed state.
    State(State),
    /// The session came up.
    Established(Box<Negotiated>),
    /// The session went down.
    Down(DownReason),
    /// The peer sent an UPDATE (with the problems that did not reset the session).
    UpdateReceived(Box<Update>, Vec<DecodeError>),
    /// UPDATEs queued for the peer: messages, and routes announced in them; and per family
    /// (for the metrics).
    Sent {
        updates: u64,
        announced: u64,
        families: Vec<(
            crate::wire::family::Family,
            crate::wire::family_counts::FamilySent,
        )>,
    },
    /// A message sent or received that [`CoreConfig::tap`] asks for (helpers' `api { send
    /// { } receive { } }`): the whole message, and what it decodes to.
    Message {
        sent: bool,
        raw: Vec<u8>,
        message: Option<Box<Message>>,
    },
    /// The neighbor stopped for good (after [`Command::Stop`]).
    Stopped,
    /// The neighbor thread's answer to `PeerCommand::Sync` (see `session::peer`): the
    /// routes it was given before are written, or there is no session to write them to.
    Synced(u64),
}

/// Which BGP messages, by type code (bit `1 << type`, RFC 4271 §4.1), the core reports as
/// [`SessionEvent::Message`]: those the peer sends, and those we send.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MessageTap {
    pub receive: u32,
    pub send: u32,
}

/// What is fixed for one neighbor.
#[derive(Clone, Debug)]
pub struct CoreConfig {
    /// Used in log lines only.
    pub name: String,
    pub session: SessionConfig,
    /// ExaBGP's `group-updates`.
    pub group_updates: bool,
    /// `eor-wait`: the neighbor has helpers or health checks, and End-of-RIB waits for them
    /// at most this long (`None`: never held).
    pub eor_wait: Option<Duration>,
    pub tap: MessageTap,
    /// ExaBGP's `manual-eor`: End-of-RIB only when the API asks (`announce eor`).
    pub manual_eor: bool,
    /// ExaBGP main's `local-link-local` (see [`crate::rib::packer::SessionParams`]).
    pub local_link_local: Option<std::net::Ipv6Addr>,
    /// RFC 5065: the session's place in our confederation.
    pub confederation: crate::wire::aspath::ConfederationRole,
}

/// One neighbor's session, across connections.
pub struct SessionCore {
    config: CoreConfig,
    fsm: Fsm,
    /// What the peer should have.
    desired: Arc<RouteSet>,
    /// What the peer has from us on this connection once the outbox is written.
    advertised: Arc<RouteSet>,
    params: Option<SessionParams>,
    /// `desired` changed since `advertised` was last computed from it.
    sync_pending: bool,
    /// Families the peer asked for again (RFC 2918) and that are not re-sent yet.
    refresh_pending: Vec<Family>,
    /// Bytes read and not yet a whole message.
    inbox: Vec<u8>,
    outbox: Outbox,
    events: VecDeque<SessionEvent>,
    /// A connection is open (from `connected` to `closed`).
    connected: bool,
    /// The FSM asked to close the connection; set at this time.
    closing_since: Option<Instant>,
    /// The session reached Established on this connection.
    was_established: bool,
    /// The next connection attempt (ConnectRetry, RFC 4271 §8), when one is due.
    connect_at: Option<Instant>,
    /// Connections are allowed (see [`SessionCore::new`]).
    started: bool,
    /// The thread asked for a connection attempt and has not answered.
    connecting: bool,
    backoff: Backoff,
    stopped: bool,
    /// Families whose held-back routes were already logged on this connection.
    held_logged: Vec<Family>,
    /// Our address on the current connection (the default next hop).
    local: Option<IpAddr>,
    /// The state last reported in a [`SessionEvent::State`].
    last_state: State,
    /// When the End-of-RIB of the initial table may go.
    eor: EorGate,
}

impl SessionCore {
    /// A neighbor that neither connects nor accepts a connection before [`SessionCore::start`]
    /// (a restarted neighbor waits for its previous thread to have closed its session).
    pub fn new(config: CoreConfig, routes: Arc<RouteSet>) -> SessionCore {
        let fsm = Fsm::new(config.session.clone());
        let eor = EorGate::new(config.eor_wait);
        let mut outbox = Outbox::default();
        outbox.tap = config.tap.send;
        SessionCore {
            eor,
            config,
            fsm,
            desired: routes,
            advertised: Arc::new(RouteSet::default()),
            params: None,
            sync_pending: false,
            refresh_pending: Vec::new(),
            inbox: Vec::new(),
            outbox,
            events: VecDeque::new(),
            connected: false,
            closing_since: None,
            was_established: false,
            connect_at: None,
            started: false,
            connecting: false,
            backoff: Backoff::default(),
            stopped: false,
            held_logged: Vec::new(),
            local: None,
            last_state: State::Idle,
        }
    }

    /// Allows connections from `now` on: an active neighbor dials at once.
    pub fn start(&mut self, now: Instant) {
        if self.started || self.stopped {
            return;
        }
        self.started = true;
        if self.config.session.passive {
            // Waiting for the peer to connect.
            self.transition(Event::Start, now);
        } else {
            self.connect_at = Some(now);
        }
    }

    pub fn state(&self) -> State {
        self.fsm.state()
    }

    pub fn negotiated(&self) -> Option<&Negotiated> {
        self.fsm.negotiated()
    }

    pub fn desired(&self) -> &Arc<RouteSet> {
        &self.desired
    }

    pub fn advertised(&self) -> &Arc<RouteSet> {
        &self.advertised
    }

    /// Nothing queued and nothing pending: the peer has `advertised`, which is `desired`.
    pub fn is_idle(&self) -> bool {
        self.outbox.is_empty() && !self.sync_pending && self.refresh_pending.is_empty()
    }

    pub fn is_connected(&self) -> bool {
        self.connected
    }

    /// The session is established: routes go out.
    pub fn is_established(&self) -> bool {
        self.params.is_some()
    }

    /// The neighbor stopped for good and has no connection left: the thread may end.
    pub fn is_stopped(&self) -> bool {
        self.stopped && !self.connected
    }

    /// The connection should be closed once [`SessionCore::poll_transmit`] is empty or
    /// [`CLOSE_LINGER`] passed (see [`SessionCore::poll_timeout`]).
    pub fn wants_close(&self, now: Instant) -> bool {
        self.closing_since
            .is_some_and(|t| self.outbox.is_empty() || now >= t + CLOSE_LINGER)
    }

    /// Whether the thread should dial the peer now; the answer is `connected` or
    /// `connect_failed`.
    pub fn poll_connect(&mut self, now: Instant) -> bool {
        if self.stopped || self.connected || self.connecting {
            return false;
        }
        if self.connect_at.is_some_and(|t| now >= t) {
            self.connect_at = None;
            self.connecting = true;
            self.transition(Event::Start, now);
            return true;
        }
        false
    }

    /// Whether a connection the peer opened may be used. One connection at a time: a second
    /// one is refused while the first is open (RFC 4271 §6.8 collision detection is not
    /// done; the open session is kept, which is what the collision winner would keep in the
    /// common case of an established session).
    pub fn accepts_incoming(&self) -> bool {
        self.started && !self.stopped && !self.connected
    }

    /// Bytes are waiting to be written.
    pub fn has_transmit(&self) -> bool {
        self.connected && !self.outbox.is_empty()
    }

    /// A TCP connection is up (ours or the peer's), from `local` to the peer.
    pub fn connected(&mut self, local: IpAddr, now: Instant) {
        self.connecting = false;
        self.connect_at = None;
        self.connected = true;
        self.closing_since = None;
        self.was_established = false;
        self.local = Some(local);
        self.inbox.clear();
        self.outbox.clear();
        self.advertised = Arc::new(RouteSet::default());
        self.params = None;
        self.sync_pending = false;
        self.refresh_pending.clear();
        self.held_logged.clear();
        self.transition(Event::Start, now);
        self.transition(Event::Connected, now);
    }

    /// Our connection attempt failed: try again after the back-off.
    pub fn connect_failed(&mut self, reason: &str, now: Instant) {
        warn!("neighbor {}: cannot connect: {reason}", self.config.name);
        self.connecting = false;
        self.transition(Event::ConnectionLost(reason.to_string()), now);
        self.schedule_reconnect(now);
    }

    /// The thread closed the connection (after `wants_close`, or because it failed).
    pub fn closed(&mut self, now: Instant) {
        if !self.connected {
            return;
        }
        if self.fsm.state() != State::Idle {
            self.transition(Event::ConnectionLost("connection closed".into()), now);
        }
        self.connected = false;
        self.closing_since = None;
        self.outbox.clear();
        self.inbox.clear();
        self.params = None;
        self.advertised = Arc::new(RouteSet::default());
        self.sync_pending = false;
        self.refresh_pending.clear();
        if self.was_established {
            self.backoff.reset();
        }
        self.emit_state();
        if self.stopped {
            self.events.push_back(SessionEvent::Stopped);
        } else if self.config.session.passive {
            self.transition(Event::Start, now);
        } else {
            self.schedule_reconnect(now);
        }
    }

    fn schedule_reconnect(&mut self, now: Instant) {
        if self.stopped || self.config.session.passive {
            return;
        }
        let delay = self.backoff.next_delay();
        info!(
            "neighbor {}: reconnecting in {:.1} s",
            self.config.name,
            delay.as_secs_f64()
        );
        self.connect_at = Some(now + delay);
    }

    /// The connection failed or the peer closed it.
    pub fn connection_lost(&mut self, reason: &str, now: Instant) {
        if !self.connected {
            return;
        }
        if !self.inbox.is_empty() {
            debug!(
                "neighbor {}: {} bytes of an unfinished message dropped",
                self.config.name,
                self.inbox.len()
            );
        }
        self.outbox.clear();
        self.transition(Event::ConnectionLost(reason.to_string()), now);
        if self.closing_since.is_none() {
            self.closing_since = Some(now);
        }
    }

    /// Bytes from the peer: every whole message among them is handled, in order.
    pub fn handle_bytes(&mut self, bytes: &[u8], now: Instant) {
        if !self.connected || self.closing_since.is_some() {
            return;
        }
        self.inbox.extend_from_slice(bytes);
        let mut used = 0;
        while self.closing_since.is_none() {
            let rest = self.inbox.get(used..).unwrap_or_default();
            let decoded = match message::frame(rest, self.fsm.max_message_len()) {
                Ok(None) => break,
                Ok(Some(len)) => {
                    let whole = rest.get(..len);
                    let kind = whole.and_then(|m| m.get(18)).copied().unwrap_or(0);
                    let decoded = whole.map(|m| Message::decode(m, self.decode_context()));
                    if kind < 32
                        && self.config.tap.receive & (1 << kind) != 0
                        && let Some(m) = whole
                    {
                        let message = match &decoded {
                            Some(Ok((m, _))) => Some(Box::new(m.clone())),
                            _ => None,
                        };
                        self.events.push_back(SessionEvent::Message {
                            sent: false,
                            raw: m.to_vec(),
                            message,
                        });
                    }
                    used += len;
                    match decoded {
                        Some(d) => d,
                        None => break,
                    }
                }
                Err(e) => {
                    used = self.inbox.len();
                    Err(e)
                }
            };
            match decoded {
                Ok((m, problems)) => self.transition(Event::Received(m, problems), now),
                Err(e) => {
                    warn!(
                        "neighbor {}: malformed message from peer: {e}",
                        self.config.name
                    );
                    self.transition(Event::DecodeFailed(e), now);
                }
            }
        }
        self.inbox.drain(..used.min(self.inbox.len()));
        self.pump();
    }

    pub fn handle_command(&mut self, cmd: Command, now: Instant) {
        match cmd {
            Command::Routes(r) => {
                self.desired = r;
                self.sync_pending = self.params.is_some();
            }
            Command::SendEndOfRib(family) => self.send_signal(true, family),
            Command::SendRouteRefresh(family) => self.send_signal(false, family),
            Command::ResendTable => {
                let families = self
                    .fsm
                    .negotiated()
                    .map(|n| n.families.clone())
                    .unwrap_or_default();
                // As a ROUTE-REFRESH from the peer: sent once the queued UPDATEs are out, and
                // a flush asked again meanwhile is the same one (a helper flushing in a loop
                // never queues more than one table).
                for family in families {
                    if !self.refresh_pending.contains(&family) {
                        self.refresh_pending.push(family);
                    }
                }
            }
            Command::ReleaseEndOfRib(r) => self.eor.release(&r),
            Command::Stop {
                notification,
                for_restart,
            } => {
                self.stopped = true;
                self.connect_at = None;
                if self.connected {
                    self.transition(
                        if for_restart {
                            Event::StopForRestart(notification)
                        } else {
                            Event::Stop(notification)
                        },
                        now,
                    );
                    if self.closing_since.is_none() {
                        self.closing_since = Some(now);
                    }
                } else {
                    self.transition(Event::Stop(notification), now);
                    self.events.push_back(SessionEvent::Stopped);
                }
            }
            Command::Reset(notification) => {
                if self.connected && self.closing_since.is_none() {
                    self.transition(Event::Stop(notification), now);
                    if self.closing_since.is_none() {
                        self.closing_since = Some(now);
                    }
                }
            }
        }
        self.pump();
    }

    /// Time passed: the FSM timers (hold, keepalive) and ConnectRetry.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.connected && self.closing_since.is_none() {
            self.transition(Event::Tick, now);
        }
        if self.eor.expire(now) {
            warn!(
                "neighbor {}: End-of-RIB sent after eor-wait ({} s) although not every helper and health check said it was ready",
                self.config.name,
                self.eor.wait().unwrap_or_default().as_secs()
            );
        }
        self.pump();
    }

    /// The earliest time at which `handle_timeout` (or `poll_connect`, or closing) has
    /// something to do.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let fsm = if self.connected && self.closing_since.is_none() {
            self.fsm.next_deadline()
        } else {
            None
        };
        let close = self.closing_since.map(|t| t + CLOSE_LINGER);
        let eor = self.eor.deadline().filter(|_| self.params.is_some());
        let connect = if self.connecting || self.connected {
            None
        } else {
            self.connect_at
        };
        [fsm, close, connect, eor].into_iter().flatten().min()
    }

    /// The next bytes to write (whole messages, or the rest of one already begun).
    pub fn poll_transmit(&mut self) -> Option<&[u8]> {
        if !self.connected {
            return None;
        }
        self.outbox.transmit()
    }

    /// `n` bytes of what `poll_transmit` returned were written.
    pub fn advance(&mut self, n: usize, now: Instant) {
        if n == 0 {
            return;
        }
        self.outbox.advance(n);
        // Any message sent counts as a KEEPALIVE (RFC 4271 §4.4).
        if self.closing_since.is_none() {
            self.transition(Event::Sent, now);
        }
        self.pump();
    }

    pub fn poll_event(&mut self) -> Option<SessionEvent> {
        if !self.outbox.tapped.is_empty() {
            let ctx = DecodeContext {
                attributes: self.attribute_context(),
                max_message_len: self.fsm.max_message_len(),
                add_path: self
                    .fsm
                    .negotiated()
                    .map(|n| n.add_path_send.iter().copied().collect())
                    .unwrap_or_default(),
            };
            for raw in std::mem::take(&mut self.outbox.tapped) {
                let message = Message::decode(&raw, ctx).ok().map(|(m, _)| Box::new(m));
                self.events.push_back(SessionEvent::Message {
                    sent: true,
                    raw,
                    message,
                });
            }
        }
        self.events.pop_front()
    }

    /// Bytes queued for the peer.
    pub fn pending_bytes(&self) -> usize {
        self.outbox.len()
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

    fn emit_state(&mut self) {
        let s = self.fsm.state();
        if self.last_state != s {
            self.last_state = s;
            self.events.push_back(SessionEvent::State(s));
        }
    }

    /// Feeds one event to the FSM and carries out its actions. FSM actions never produce
    /// further FSM events here, so there is no queue and no recursion.
    fn transition(&mut self, event: Event, now: Instant) {
        let before = self.fsm.state();
        let actions = self.fsm.handle(event, now);
        if self.fsm.state() != before {
            debug!(
                "neighbor {}: {:?} -> {:?}",
                self.config.name,
                before,
                self.fsm.state()
            );
        }
        self.emit_state();
        for action in actions {
            self.act(action, now);
        }
    }

    fn act(&mut self, action: Action, now: Instant) {
        match action {
            // The thread dials when `poll_connect` says so.
            Action::Connect => {}
            Action::Send(msg) => {
                if !self.connected {
                    return;
                }
                if let Message::Notification(n) = &msg {
                    warn!("neighbor {}: sending NOTIFICATION {n}", self.config.name);
                    self.outbox.abort();
                }
                let bytes = msg.encode(self.attribute_context());
                self.outbox.push_urgent(&bytes);
            }
            Action::Disconnect => {
                if self.connected && self.closing_since.is_none() {
                    self.closing_since = Some(now);
                }
            }
            Action::SessionUp(neg) => self.session_up(neg, now),
            Action::SessionDown(reason) => {
                warn!("neighbor {}: session down: {reason}", self.config.name);
                // Nothing more goes out unless it is our NOTIFICATION.
                if !matches!(reason, DownReason::Sent(_)) {
                    self.outbox.clear();
                }
                self.params = None;
                self.eor.session_down();
                self.events.push_back(SessionEvent::Down(reason));
            }
            Action::RouteRefresh(family) => {
                if !self.refresh_pending.contains(&family) {
                    self.refresh_pending.push(family);
                }
            }
            Action::UpdateReceived(update, problems) => {
                for p in &problems {
                    warn!("neighbor {}: UPDATE problem: {p}", self.config.name);
                }
                self.events
                    .push_back(SessionEvent::UpdateReceived(Box::new(update), problems));
            }
            Action::Problem(p) => warn!("neighbor {}: {p}", self.config.name),
            Action::OpenRefused(why) => warn!("neighbor {}: OPEN refused: {why}", self.config.name),
        }
    }
}
