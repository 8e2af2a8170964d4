//! The BGP finite state machine (RFC 4271 §8), free of I/O: it takes events (connection up,
//! message received, time passed) and returns actions (send this, close, session up).
//! The peer thread owns the socket and the clock and feeds them in.

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use crate::wire::aspath::AS_TRANS;
use crate::wire::capability::{AddPathMode, Capability, GracefulRestart};
use crate::wire::error::{DecodeError, ErrorAction};
use crate::wire::family::{Afi, Family, FamilySet};
use crate::wire::message::{MAX_EXTENDED_MESSAGE_LEN, MAX_MESSAGE_LEN, Message, RouteRefresh};
use crate::wire::notification::{Notification, code, subcode};
use crate::wire::open::{BGP_VERSION, Open};
use crate::wire::role::{self, Role};
use crate::wire::update::Update;

/// RFC 4724 §3: the "Forwarding State" bit of a family.
const GR_FORWARDING_PRESERVED: u8 = 0x80;
/// RFC 9494 §3: the "F" bit of a family in the LLGR capability.
const LLGR_FORWARDING_PRESERVED: u8 = 0x80;
/// RFC 9494 §3: the long-lived stale time is 24 bits.
pub const LLGR_MAX_STALE_TIME: u32 = 0xFF_FFFF;

/// RFC 4271 §8: the hold time used until the OPENs are exchanged ("large value", 4 minutes).
pub const OPEN_HOLD_TIME: Duration = Duration::from_secs(240);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    Idle,
    Connect,
    Active,
    OpenSent,
    OpenConfirm,
    Established,
}

/// What this side proposes in its OPEN and expects of the peer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionConfig {
    pub local_as: u32,
    pub peer_as: u32,
    pub router_id: Ipv4Addr,
    /// 0 disables keepalives and the hold timer.
    pub hold_time: u16,
    pub families: Vec<Family>,
    /// Wait for the peer instead of connecting.
    pub passive: bool,
    /// RFC 4724 restart time to advertise; `None`: no graceful restart capability.
    pub graceful_restart: Option<u16>,
    /// Advertise the RFC 6793 4-octet AS capability.
    pub four_octet_as: bool,
    /// Advertise the RFC 2918 route refresh capability.
    pub route_refresh: bool,
    /// RFC 7911 ADD-PATH capability: per family, what we offer (empty: not advertised).
    pub add_path: Vec<(Family, AddPathMode)>,
    /// RFC 8950 extended next hop capability: NLRI family and next-hop AFI (empty: none).
    pub extended_next_hop: Vec<(Family, Afi)>,
    /// Advertise RFC 8654 extended messages; when the peer does too, UPDATEs may be 65535
    /// octets long.
    pub extended_message: bool,
    /// Capabilities that only inform the peer (FQDN, software version): advertised as they
    /// are, after the others; nothing is negotiated from them.
    pub informational: Vec<Capability>,
    /// RFC 9234: our role on this session (ExaBGP's `role { local NAME; }`), advertised in
    /// the Role capability and checked against the peer's; `None`: no Role capability.
    pub role: Option<Role>,
    /// RFC 9234 §4.2 strict mode: a peer that sends no Role capability is refused.
    pub role_strict: bool,
    /// RFC 9494: the long-lived stale time advertised for every family (needs
    /// `graceful_restart`); `None`: no LLGR capability.
    pub long_lived_stale_time: Option<u32>,
}

/// What both OPENs agreed on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Negotiated {
    pub hold_time: u16,
    pub four_octet_as: bool,
    /// Families both sides announced (RFC 4760 §8: IPv4 unicast when the peer sent none).
    pub families: Vec<Family>,
    pub route_refresh: bool,
    /// RFC 7313: both sides advertised enhanced route refresh; a re-sent table is then
    /// bracketed by BoRR and EoRR.
    pub enhanced_route_refresh: bool,
    /// Both sides advertised RFC 4724 graceful restart: on shutdown we close without
    /// NOTIFICATION so the peer keeps our routes as stale for the restart time.
    pub graceful_restart: bool,
    /// Both sides advertised RFC 8654 extended messages.
    pub extended_message: bool,
    pub peer_router_id: Ipv4Addr,
    pub peer_as: u32,
    pub peer_open: Open,
    /// RFC 7911: families in which we send path identifiers (we offered send, the peer
    /// receive).
    pub add_path_send: Vec<Family>,
    /// RFC 7911: families whose NLRI from the peer carry path identifiers (we offered
    /// receive, the peer send).
    pub add_path_receive: FamilySet,
    /// RFC 8950: families whose routes may carry an IPv6 next hop (both sides listed them).
    pub extended_next_hop: Vec<Family>,
    /// RFC 9234: the role the peer declared (`None`: it sent no Role capability, or one
    /// with a value we do not know while we have no role).
    pub peer_role: Option<Role>,
}

impl Negotiated {
    pub fn keepalive_interval(&self) -> Option<Duration> {
        (self.hold_time > 0).then(|| Duration::from_secs((self.hold_time / 3).max(1) as u64))
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// Start the session: connect (or, passive, wait for the peer).
    Start,
    /// Stop the session, sending this NOTIFICATION if one can be sent.
    Stop(Notification),
    /// Stop for a restart of bgpinject: when graceful restart was negotiated, close without
    /// NOTIFICATION (RFC 4724 §4) so the peer keeps the routes; otherwise like `Stop`.
    StopForRestart(Notification),
    /// A TCP connection to the peer is up (ours or the peer's).
    Connected,
    /// The connection failed or closed.
    ConnectionLost(String),
    /// A message arrived, with the UPDATE problems that did not reset the session.
    Received(Message, Vec<DecodeError>),
    /// The bytes from the peer did not decode.
    DecodeFailed(DecodeError),
    /// We wrote messages (they count as KEEPALIVEs for the keepalive timer).
    Sent,
    /// Time passed; check the timers.
    Tick,
}

/// Why a session went down.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DownReason {
    /// We sent this NOTIFICATION.
    Sent(Notification),
    /// The peer sent this NOTIFICATION.
    Received(Notification),
    /// The TCP connection failed or closed.
    Connection(String),
    /// We closed without NOTIFICATION for a graceful restart.
    GracefulRestart,
}

impl std::fmt::Display for DownReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DownReason::Sent(n) => write!(f, "we sent NOTIFICATION {n}"),
            DownReason::Received(n) => write!(f, "peer sent NOTIFICATION {n}"),
            DownReason::Connection(e) => write!(f, "connection: {e}"),
            DownReason::GracefulRestart => f.write_str(
                "closed without NOTIFICATION for graceful restart: the peer keeps our routes as stale",
            ),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Open a TCP connection (not emitted for a passive session).
    Connect,
    Send(Message),
    /// Close the TCP connection.
    Disconnect,
    SessionUp(Negotiated),
    SessionDown(DownReason),
    /// The peer asked for our routes of this family again (RFC 2918).
    RouteRefresh(Family),
    /// An UPDATE from the peer: log it, nothing more (we do not learn routes).
    UpdateReceived(Update, Vec<DecodeError>),
    /// An UPDATE problem that did not reset the session (RFC 7606), to be logged.
    Problem(DecodeError),
    /// Why the peer's OPEN was refused, to be logged before the NOTIFICATION that says so.
    OpenRefused(String),
}

pub struct Fsm {
    config: SessionConfig,
    state: State,
    negotiated: Option<Negotiated>,
    hold_deadline: Option<Instant>,
    keepalive_deadline: Option<Instant>,
}

impl Fsm {
    pub fn new(config: SessionConfig) -> Fsm {
        Fsm {
            config,
            state: State::Idle,
            negotiated: None,
            hold_deadline: None,
            keepalive_deadline: None,
        }
    }

    pub fn state(&self) -> State {
        self.state
    }

    pub fn negotiated(&self) -> Option<&Negotiated> {
        self.negotiated.as_ref()
    }

    /// The largest message either side may send on this session (RFC 8654 §3).
    pub fn max_message_len(&self) -> usize {
        match &self.negotiated {
            Some(n) if n.extended_message => MAX_EXTENDED_MESSAGE_LEN,
            _ => MAX_MESSAGE_LEN,
        }
    }

    /// The earliest time at which [`Event::Tick`] has something to do.
    pub fn next_deadline(&self) -> Option<Instant> {
        match (self.hold_deadline, self.keepalive_deadline) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Our OPEN message.
    pub fn open_message(&self) -> Open {
        let mut capabilities: Vec<Capability> = self
            .config
            .families
            .iter()
            .map(|&f| Capability::Multiprotocol(f))
            .collect();
        if self.config.route_refresh {
            capabilities.push(Capability::RouteRefresh);
            capabilities.push(Capability::EnhancedRouteRefresh);
        }
        if self.config.four_octet_as {
            capabilities.push(Capability::FourOctetAs(self.config.local_as));
        }
        if self.config.extended_message {
            capabilities.push(Capability::ExtendedMessage);
        }
        if let Some(time) = self.config.graceful_restart {
            capabilities.push(Capability::GracefulRestart(GracefulRestart {
                flags: 0,
                time,
                // Forwarding state "preserved": the routes we announce do not depend on us
                // forwarding anything, so the peer may keep using them while we restart.
                families: self
                    .config
                    .families
                    .iter()
                    .map(|&f| (f, GR_FORWARDING_PRESERVED))
                    .collect(),
            }));
        }
        if let (Some(time), Some(_)) = (
            self.config.long_lived_stale_time,
            self.config.graceful_restart,
        ) {
            // RFC 9494 §3: per family, the F bit (set for the same reason as graceful
            // restart's forwarding-state bit above) and the 24-bit stale time.
            capabilities.push(Capability::LongLivedGracefulRestart(
                self.config
                    .families
                    .iter()
                    .map(|&f| (f, LLGR_FORWARDING_PRESERVED, time.min(LLGR_MAX_STALE_TIME)))
                    .collect(),
            ));
        }
        if let Some(r) = self.config.role {
            capabilities.push(Capability::Role(r.to_u8()));
        }
        if !self.config.extended_next_hop.is_empty() {
            capabilities.push(Capability::ExtendedNextHop(
                self.config.extended_next_hop.clone(),
            ));
        }
        if !self.config.add_path.is_empty() {
            capabilities.push(Capability::AddPath(self.config.add_path.clone()));
        }
        capabilities.extend(self.config.informational.iter().cloned());
        Open {
            version: BGP_VERSION,
            my_as: u16::try_from(self.config.local_as).unwrap_or(AS_TRANS as u16),
            hold_time: self.config.hold_time,
            router_id: self.config.router_id,
            capabilities,
            parameter_layout: Vec::new(),
            extended_parameters: false,
        }
    }

    pub fn handle(&mut self, event: Event, now: Instant) -> Vec<Action> {
        let mut out = Vec::new();
        match (self.state, event) {
            (State::Idle, Event::Start) => {
                if self.config.passive {
                    self.state = State::Active;
                } else {
                    self.state = State::Connect;
                    out.push(Action::Connect);
                }
            }
            (_, Event::Start) => {}
            (State::Connect | State::Active, Event::Connected) => {
                out.push(Action::Send(Message::Open(self.open_message())));
                self.state = State::OpenSent;
                self.hold_deadline = Some(now + OPEN_HOLD_TIME);
                self.keepalive_deadline = None;
            }
            (_, Event::Connected) => {}
            (State::Idle, Event::Stop(_) | Event::StopForRestart(_)) => {}
            (State::Connect | State::Active, Event::Stop(_) | Event::StopForRestart(_)) => {
                self.reset()
            }
            (State::Established, Event::StopForRestart(_))
                if self.negotiated.as_ref().is_some_and(|n| n.graceful_restart) =>
            {
                self.reset();
                out.push(Action::Disconnect);
                out.push(Action::SessionDown(DownReason::GracefulRestart));
            }
            (_, Event::Stop(n) | Event::StopForRestart(n)) => self.close_with(n, &mut out),
            (State::Idle, Event::ConnectionLost(_)) => {}
            // A connection attempt failed: no session was up, there is nothing to report;
            // ConnectRetry (the session core) decides when to try again.
            (State::Connect | State::Active, Event::ConnectionLost(_)) => self.reset(),
            (_, Event::ConnectionLost(e)) => {
                self.reset();
                out.push(Action::Disconnect);
                out.push(Action::SessionDown(DownReason::Connection(e)));
            }
            (State::Idle | State::Connect | State::Active, Event::Received(..)) => {}
            (_, Event::Received(msg, problems)) => self.on_message(msg, problems, now, &mut out),
            (State::Idle | State::Connect | State::Active, Event::DecodeFailed(_)) => {}
            (_, Event::DecodeFailed(err)) => match err.action {
                ErrorAction::SessionReset(n) => self.close_with(n, &mut out),
                _ => out.push(Action::Problem(err)),
            },
            (State::Established | State::OpenConfirm, Event::Sent) => self.restart_keepalive(now),
            (_, Event::Sent) => {}
            (_, Event::Tick) => self.on_tick(now, &mut out),
        }
        out
    }

    fn reset(&mut self) {
        self.state = State::Idle;
        self.negotiated = None;
        self.hold_deadline = None;
        self.keepalive_deadline = None;
    }

    /// Sends `n`, closes, and reports the session down.
    fn close_with(&mut self, n: Notification, out: &mut Vec<Action>) {
        self.reset();
        out.push(Action::Send(Message::Notification(n.clone())));
        out.push(Action::Disconnect);
        out.push(Action::SessionDown(DownReason::Sent(n)));
    }

    fn restart_hold(&mut self, now: Instant) {
        let hold = self
            .negotiated
            .as_ref()
            .map(|n| n.hold_time)
            .unwrap_or(OPEN_HOLD_TIME.as_secs() as u16);
        self.hold_deadline = (hold > 0).then(|| now + Duration::from_secs(hold as u64));
    }

    fn restart_keepalive(&mut self, now: Instant) {
        self.keepalive_deadline = self
            .negotiated
            .as_ref()
            .and_then(|n| n.keepalive_interval())
            .map(|k| now + k);
    }

    fn on_tick(&mut self, now: Instant, out: &mut Vec<Action>) {
        if self.hold_deadline.is_some_and(|d| now >= d) {
            // RFC 4271 §6.5.
            self.close_with(
                Notification::new(code::HOLD_TIMER_EXPIRED, 0, Vec::new()),
                out,
            );
            return;
        }
        if self.keepalive_deadline.is_some_and(|d| now >= d) {
            out.push(Action::Send(Message::Keepalive));
            self.restart_keepalive(now);
        }
    }

    fn on_message(
        &mut self,
        msg: Message,
        problems: Vec<DecodeError>,
        now: Instant,
        out: &mut Vec<Action>,
    ) {
        if let Message::Notification(n) = msg {
            self.reset();
            out.push(Action::Disconnect);
            out.push(Action::SessionDown(DownReason::Received(n)));
            return;
        }
        match (self.state, msg) {
            (State::OpenSent, Message::Open(open)) => match self.check_open(open) {
                Ok(neg) => {
                    self.negotiated = Some(neg);
                    self.state = State::OpenConfirm;
                    out.push(Action::Send(Message::Keepalive));
                    self.restart_hold(now);
                    self.restart_keepalive(now);
                }
                Err((n, why)) => {
                    out.extend(why.map(Action::OpenRefused));
                    self.close_with(n, out)
                }
            },
            (State::OpenConfirm, Message::Keepalive) => {
                self.state = State::Established;
                self.restart_hold(now);
                if let Some(neg) = &self.negotiated {
                    out.push(Action::SessionUp(neg.clone()));
                }
            }
            (State::Established, Message::Keepalive) => self.restart_hold(now),
            (State::Established, Message::Update(u)) => {
                self.restart_hold(now);
                out.push(Action::UpdateReceived(u, problems));
            }
            // RFC 7313 §4: BoRR/EoRR from the peer bracket its own re-advertisement to us;
            // only a plain request (subtype 0) asks for our routes.
            (State::Established, Message::RouteRefresh(RouteRefresh { subtype, .. }))
                if subtype != 0 =>
            {
                self.restart_hold(now)
            }
            (State::Established, Message::RouteRefresh(RouteRefresh { family, .. })) => {
                self.restart_hold(now);
                let negotiated = self
                    .negotiated
                    .as_ref()
                    .is_some_and(|n| n.families.contains(&family));
                if negotiated {
                    out.push(Action::RouteRefresh(family));
                }
            }
            (state, _) => {
                // RFC 6608: FSM error subcodes name the state the message arrived in.
                let sub = match state {
                    State::OpenSent => 1,
                    State::OpenConfirm => 2,
                    State::Established => 3,
                    _ => 0,
                };
                self.close_with(Notification::new(code::FSM, sub, Vec::new()), out);
            }
        }
    }

    /// RFC 4271 §6.2 OPEN checks and capability negotiation.
    fn check_open(&self, open: Open) -> Result<Negotiated, (Notification, Option<String>)> {
        let peer_as = open.asn();
        if peer_as != self.config.peer_as {
            return Err((
                Notification::new(
                    code::OPEN_MESSAGE,
                    subcode::BAD_PEER_AS,
                    open.my_as.to_be_bytes().to_vec(),
                ),
                None,
            ));
        }
        if open.router_id == self.config.router_id && peer_as == self.config.local_as {
            return Err((
                Notification::new(
                    code::OPEN_MESSAGE,
                    subcode::BAD_BGP_IDENTIFIER,
                    open.router_id.octets().to_vec(),
                ),
                None,
            ));
        }
        let roles: Vec<u8> = open
            .capabilities
            .iter()
            .filter_map(|c| match c {
                Capability::Role(v) => Some(*v),
                _ => None,
            })
            .collect();
        let peer_role = role::negotiate(self.config.role, self.config.role_strict, &roles)
            .map_err(|why| {
                // RFC 9234 §4.2: Role Mismatch, no data.
                (
                    Notification::new(code::OPEN_MESSAGE, subcode::ROLE_MISMATCH, Vec::new()),
                    Some(why.to_string()),
                )
            })?;
        let peer_families: Vec<Family> = open
            .capabilities
            .iter()
            .filter_map(|c| match c {
                Capability::Multiprotocol(f) => Some(*f),
                _ => None,
            })
            .collect();
        let peer_families = if peer_families.is_empty() {
            vec![Family::IPV4_UNICAST]
        } else {
            peer_families
        };
        let families: Vec<Family> = self
            .config
            .families
            .iter()
            .copied()
            .filter(|f| peer_families.contains(f))
            .collect();
        let peer_add_path: Vec<(Family, AddPathMode)> = open
            .capabilities
            .iter()
            .filter_map(|c| match c {
                Capability::AddPath(v) => Some(v.clone()),
                _ => None,
            })
            .flatten()
            .collect();
        let add_path_send = self
            .config
            .add_path
            .iter()
            .filter(|(f, mode)| {
                mode.send()
                    && families.contains(f)
                    && peer_add_path.iter().any(|(pf, pm)| pf == f && pm.receive())
            })
            .map(|(f, _)| *f)
            .collect();
        let add_path_receive = self
            .config
            .add_path
            .iter()
            .filter(|(f, mode)| {
                mode.receive()
                    && families.contains(f)
                    && peer_add_path.iter().any(|(pf, pm)| pf == f && pm.send())
            })
            .map(|(f, _)| *f)
            .collect();
        let peer_next_hops: Vec<(Family, Afi)> = open
            .capabilities
            .iter()
            .filter_map(|c| match c {
                Capability::ExtendedNextHop(v) => Some(v.clone()),
                _ => None,
            })
            .flatten()
            .collect();
        let extended_next_hop = self
            .config
            .extended_next_hop
            .iter()
            .filter(|e| families.contains(&e.0) && peer_next_hops.contains(e))
            .map(|(f, _)| *f)
            .collect();
        Ok(Negotiated {
            hold_time: self.config.hold_time.min(open.hold_time),
            four_octet_as: self.config.four_octet_as
                && open.has(|c| matches!(c, Capability::FourOctetAs(_))),
            enhanced_route_refresh: self.config.route_refresh
                && open.has(|c| matches!(c, Capability::EnhancedRouteRefresh)),
            graceful_restart: self.config.graceful_restart.is_some()
                && open.has(|c| matches!(c, Capability::GracefulRestart(_))),
            extended_message: self.config.extended_message
                && open.has(|c| matches!(c, Capability::ExtendedMessage)),
            families,
            route_refresh: open
                .has(|c| matches!(c, Capability::RouteRefresh | Capability::CiscoRouteRefresh)),
            peer_router_id: open.router_id,
            peer_as,
            peer_open: open,
            add_path_send,
            add_path_receive,
            extended_next_hop,
            peer_role,
        })
    }
}

#[cfg(test)]
mod tests;
