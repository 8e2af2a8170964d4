//! Replay tests: the core driven by recorded event sequences (bytes in at time t, commands,
//! timer expiries), with a model peer that decodes every byte the core emits into its own
//! Adj-RIB-In. Each scenario checks the invariant of the module: once the outbox is drained,
//! the peer's Adj-RIB-In equals `advertised` equals `desired`.

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr};

use super::*;
use crate::rib::attributes::{NextHop, RouteAttributes};
use crate::wire::capability::Capability;
use crate::wire::message::MAX_MESSAGE_LEN;
use crate::wire::message::RouteRefresh;
use crate::wire::notification::code;
use crate::wire::open::Open;
use crate::wire::prefix::Prefix;

const PEER_AS: u32 = 65001;

fn session_config(passive: bool, hold_time: u16) -> SessionConfig {
    SessionConfig {
        local_as: 65000,
        peer_as: PEER_AS,
        router_id: Ipv4Addr::new(192, 0, 2, 10),
        hold_time,
        families: vec![Family::IPV4_UNICAST],
        passive,
        graceful_restart: None,
        four_octet_as: true,
        route_refresh: true,
        add_path: Vec::new(),
        extended_next_hop: Vec::new(),
        extended_message: false,
        informational: Vec::new(),
        role: None,
        role_strict: false,
        long_lived_stale_time: None,
    }
}

/// `count` /32 routes starting at 10.0.0.0 + `first`.
fn routes(first: u32, count: u32) -> Arc<RouteSet> {
    let attrs = Arc::new(RouteAttributes::with_next_hop(NextHop::Address {
        global: "192.0.2.10".parse().unwrap(),
        link_local: None,
    }));
    let base = u32::from(Ipv4Addr::new(10, 0, 0, 0));
    Arc::new(RouteSet::new(
        (first..first + count)
            .map(|i| {
                let p = Prefix::new(IpAddr::V4(Ipv4Addr::from(base + i)), 32).unwrap();
                (p, attrs.clone())
            })
            .collect(),
    ))
}

fn prefixes(set: &RouteSet) -> BTreeSet<Prefix> {
    set.iter().map(|(p, _)| *p).collect()
}

fn encode(m: Message) -> Vec<u8> {
    m.encode(AttributeContext {
        four_octet_as: true,
    })
}

fn refresh(subtype: u8) -> Vec<u8> {
    encode(Message::RouteRefresh(RouteRefresh {
        family: Family::IPV4_UNICAST,
        subtype,
    }))
}

/// The far end: decodes whatever the core writes, in any pieces.
#[derive(Default)]
struct ModelPeer {
    stream: Vec<u8>,
    adj_rib_in: BTreeSet<Prefix>,
    opens: usize,
    keepalives: usize,
    updates: usize,
    end_of_ribs: usize,
    /// How many routes the peer held when each End-of-RIB arrived.
    rib_at_end_of_rib: Vec<usize>,
    borr: usize,
    eorr: usize,
    refresh_requests: usize,
    notifications: Vec<Notification>,
    /// Message types in order ('O', 'U', 'K', 'N', 'B' BoRR, 'E' EoRR, 'R' request).
    trace: String,
}

impl ModelPeer {
    fn receive(&mut self, bytes: &[u8]) {
        self.stream.extend_from_slice(bytes);
        let ctx = DecodeContext {
            attributes: AttributeContext {
                four_octet_as: true,
            },
            max_message_len: MAX_MESSAGE_LEN,
            ..DecodeContext::default()
        };
        let mut used = 0;
        while let Some(len) = message::frame(&self.stream[used..], MAX_MESSAGE_LEN).unwrap() {
            let (m, problems) = Message::decode(&self.stream[used..used + len], ctx).unwrap();
            assert!(problems.is_empty(), "{problems:?}");
            used += len;
            match m {
                Message::Open(_) => {
                    self.opens += 1;
                    self.trace.push('O');
                }
                Message::Keepalive => {
                    self.keepalives += 1;
                    self.trace.push('K');
                }
                Message::Update(u) => {
                    if u.end_of_rib().is_some() {
                        self.end_of_ribs += 1;
                        self.rib_at_end_of_rib.push(self.adj_rib_in.len());
                    }
                    self.updates += 1;
                    for p in &u.withdrawn {
                        self.adj_rib_in.remove(p);
                    }
                    self.adj_rib_in.extend(u.nlri.iter().copied());
                    if !self.trace.ends_with('U') {
                        self.trace.push('U');
                    }
                }
                Message::Notification(n) => {
                    self.notifications.push(n);
                    self.trace.push('N');
                }
                Message::RouteRefresh(r) => match r.subtype {
                    ROUTE_REFRESH_BORR => {
                        self.borr += 1;
                        self.trace.push('B');
                    }
                    ROUTE_REFRESH_EORR => {
                        self.eorr += 1;
                        self.trace.push('E');
                    }
                    _ => {
                        self.refresh_requests += 1;
                        self.trace.push('R');
                    }
                },
            }
        }
        self.stream.drain(..used);
    }
}

struct Replay {
    core: SessionCore,
    peer: ModelPeer,
    now: Instant,
    events: Vec<SessionEvent>,
}

impl Replay {
    fn new(passive: bool, hold_time: u16, table: Arc<RouteSet>) -> Replay {
        let now = Instant::now();
        let config = CoreConfig {
            name: "192.0.2.1".into(),
            session: session_config(passive, hold_time),
            group_updates: true,
            eor_wait: None,
            tap: Default::default(),
            manual_eor: false,
            local_link_local: None,
            confederation: Default::default(),
        };
        Replay {
            core: {
                let mut core = SessionCore::new(config, table);
                core.start(now);
                core
            },
            peer: ModelPeer::default(),
            now,
            events: Vec::new(),
        }
    }

    /// Connected, OPENs and KEEPALIVEs exchanged; nothing of the table written yet.
    fn established(hold_time: u16, table: Arc<RouteSet>, caps: Vec<Capability>) -> Replay {
        let mut r = Replay::new(false, hold_time, table);
        assert!(r.core.poll_connect(r.now));
        r.core.connected("127.0.0.1".parse().unwrap(), r.now);
        r.write_at_most(usize::MAX);
        assert_eq!(r.peer.opens, 1);
        r.bytes(&peer_open(hold_time, caps));
        r.bytes(&encode(Message::Keepalive));
        assert_eq!(r.core.state(), State::Established);
        r
    }

    fn bytes(&mut self, b: &[u8]) {
        self.core.handle_bytes(b, self.now);
        self.collect();
    }

    fn command(&mut self, c: Command) {
        self.core.handle_command(c, self.now);
        self.collect();
    }

    fn at(&mut self, offset: Duration) {
        self.now += offset;
        self.core.handle_timeout(self.now);
        self.collect();
    }

    fn collect(&mut self) {
        while let Some(e) = self.core.poll_event() {
            self.events.push(e);
        }
    }

    /// The socket takes up to `limit` bytes, in writes of at most 7000 bytes (so messages
    /// are cut in odd places).
    fn write_at_most(&mut self, mut limit: usize) -> usize {
        let mut written = 0;
        while limit > 0 {
            let Some(b) = self.core.poll_transmit() else {
                break;
            };
            let n = b.len().min(limit).min(7000);
            self.peer.receive(&b[..n]);
            self.core.advance(n, self.now);
            limit -= n;
            written += n;
        }
        self.collect();
        written
    }

    fn drain(&mut self) {
        self.write_at_most(usize::MAX);
        assert!(self.core.is_idle());
    }

    /// The invariant: drained outbox => Adj-RIB-In == advertised == desired.
    fn assert_converged(&mut self) {
        self.drain();
        assert_eq!(self.core.advertised(), self.core.desired());
        assert!(
            self.peer.adj_rib_in == prefixes(self.core.advertised()),
            "peer holds {} routes, advertised {}",
            self.peer.adj_rib_in.len(),
            self.core.advertised().len()
        );
    }

    fn downs(&self) -> Vec<&DownReason> {
        self.events
            .iter()
            .filter_map(|e| match e {
                SessionEvent::Down(r) => Some(r),
                _ => None,
            })
            .collect()
    }
}

fn peer_open(hold_time: u16, caps: Vec<Capability>) -> Vec<u8> {
    encode(Message::Open(Open {
        version: 4,
        my_as: PEER_AS as u16,
        hold_time,
        router_id: Ipv4Addr::new(192, 0, 2, 1),
        capabilities: caps,
        parameter_layout: Vec::new(),
        extended_parameters: false,
    }))
}

fn caps(enhanced: bool) -> Vec<Capability> {
    let mut c = vec![
        Capability::Multiprotocol(Family::IPV4_UNICAST),
        Capability::RouteRefresh,
        Capability::FourOctetAs(PEER_AS),
    ];
    if enhanced {
        c.push(Capability::EnhancedRouteRefresh);
    }
    c
}

#[test]
fn initial_table_then_end_of_rib() {
    let mut r = Replay::established(90, routes(0, 3000), caps(false));
    r.assert_converged();
    assert_eq!(r.peer.adj_rib_in.len(), 3000);
    assert_eq!(r.peer.end_of_ribs, 1);
    assert!(r.peer.trace.ends_with('U'));
    assert!(
        r.events
            .iter()
            .any(|e| matches!(e, SessionEvent::Established(_)))
    );
}

#[test]
fn burst_of_10000_route_refresh_in_one_write_costs_one_resend() {
    let mut r = Replay::established(90, routes(0, 2000), caps(true));
    r.assert_converged();
    let burst: Vec<u8> = (0..10_000).flat_map(|_| refresh(0)).collect();
    r.bytes(&burst);
    r.assert_converged();
    assert_eq!((r.peer.borr, r.peer.eorr), (1, 1));
    assert_eq!(r.core.state(), State::Established);
    assert!(r.downs().is_empty());
}

#[test]
fn refreshes_arriving_while_a_resend_is_written_cost_one_more() {
    let mut r = Replay::established(90, routes(0, 20_000), caps(true));
    r.assert_converged();
    r.bytes(&refresh(0));
    // 300 more, one at a time, while the re-send is being written.
    for _ in 0..300 {
        r.write_at_most(100);
        r.bytes(&refresh(0));
    }
    r.assert_converged();
    assert_eq!((r.peer.borr, r.peer.eorr), (2, 2));
    assert!(r.peer.trace.ends_with("BUEBUE"), "{}", r.peer.trace);
}

#[test]
fn flush_adj_rib_out_in_a_loop_queues_one_table_at_a_time() {
    let mut r = Replay::established(90, routes(0, 20_000), caps(true));
    r.assert_converged();
    // 1,000 `flush adj-rib out` while the first re-send is being written: one more table.
    for _ in 0..1000 {
        r.command(Command::ResendTable);
        r.write_at_most(100);
    }
    r.assert_converged();
    assert_eq!((r.peer.borr, r.peer.eorr), (2, 2));
    assert!(r.downs().is_empty());
}

#[test]
fn plain_route_refresh_has_no_borr_eorr() {
    let mut r = Replay::established(90, routes(0, 10), caps(false));
    r.assert_converged();
    let updates = r.peer.updates;
    r.bytes(&refresh(0));
    r.assert_converged();
    assert_eq!((r.peer.borr, r.peer.eorr), (0, 0));
    assert!(r.peer.updates > updates);
    // BoRR/EoRR from the peer are markers around its own routes, not a request.
    let updates = r.peer.updates;
    r.bytes(&[refresh(1), refresh(2)].concat());
    r.assert_converged();
    assert_eq!(r.peer.updates, updates);
}

#[test]
fn refresh_in_the_middle_of_a_large_diff_is_answered_from_the_new_table() {
    let mut r = Replay::established(90, routes(0, 60_000), caps(true));
    r.assert_converged();
    // Reload: keep one route, withdraw the rest.
    r.command(Command::Routes(routes(0, 1)));
    r.write_at_most(20_000);
    assert!(!r.core.is_idle());
    r.bytes(&refresh(0));
    r.write_at_most(20_000);
    r.bytes(&refresh(0));
    r.assert_converged();
    assert_eq!(r.peer.adj_rib_in.len(), 1);
    assert_eq!((r.peer.borr, r.peer.eorr), (1, 1));
}

#[test]
fn reload_while_the_initial_table_is_half_written() {
    let mut r = Replay::established(90, routes(0, 40_000), caps(false));
    let half = r.core.pending_bytes() / 2;
    r.write_at_most(half);
    r.command(Command::Routes(routes(30_000, 20_000)));
    r.write_at_most(1000);
    r.command(Command::Routes(routes(35_000, 20_000)));
    r.assert_converged();
    assert_eq!(r.peer.adj_rib_in, prefixes(&routes(35_000, 20_000)));
    assert_eq!(r.peer.end_of_ribs, 1);
}

#[test]
fn keepalives_go_out_between_updates_of_a_slowly_read_table() {
    let mut r = Replay::established(9, routes(0, 40_000), caps(false));
    let keepalives = r.peer.keepalives;
    // The peer takes 1000 bytes every 4 s (keepalive interval 3 s) and sends KEEPALIVEs.
    for _ in 0..6 {
        r.write_at_most(1000);
        r.bytes(&encode(Message::Keepalive));
        r.at(Duration::from_secs(4));
    }
    assert!(r.peer.keepalives >= keepalives + 3, "{}", r.peer.trace);
    assert!(r.downs().is_empty());
    r.assert_converged();
}

#[test]
fn hold_expiry_while_a_write_is_pending_sends_4_0_after_the_message_begun() {
    let mut r = Replay::established(9, routes(0, 40_000), caps(false));
    r.write_at_most(5000); // stops inside the second UPDATE
    // The peer reads and sends nothing from now on.
    for _ in 0..8 {
        r.at(Duration::from_secs(1));
    }
    assert!(r.downs().is_empty());
    assert!(!r.core.wants_close(r.now));
    r.at(Duration::from_millis(1001));
    assert_eq!(
        r.downs(),
        vec![&DownReason::Sent(Notification::new(
            code::HOLD_TIMER_EXPIRED,
            0,
            vec![]
        ))]
    );
    // What is left: the rest of the UPDATE begun, then the NOTIFICATION; nothing else.
    assert!(r.core.pending_bytes() < 4096 + 21);
    assert!(!r.core.wants_close(r.now));
    assert_eq!(r.core.poll_timeout(), Some(r.now + CLOSE_LINGER));
    // Still frozen: the connection is closed after the linger anyway.
    r.at(CLOSE_LINGER);
    assert!(r.core.wants_close(r.now));
    // Had the peer read, it would have got whole messages and the NOTIFICATION.
    r.write_at_most(usize::MAX);
    assert_eq!(r.peer.notifications.len(), 1);
    assert!(r.peer.stream.is_empty());
    r.core.closed(r.now);
    assert!(r.core.poll_timeout().is_some(), "reconnect scheduled");
}

#[test]
fn peer_closes_mid_message() {
    let mut r = Replay::established(90, routes(0, 10), caps(false));
    r.assert_converged();
    let update = encode(Message::Update(Update::end_of_rib_marker(
        Family::IPV4_UNICAST,
    )));
    r.bytes(&update[..10]);
    r.core.connection_lost("peer closed the connection", r.now);
    r.collect();
    assert!(r.core.wants_close(r.now));
    assert!(
        r.core.poll_transmit().is_none(),
        "nothing is written any more"
    );
    assert_eq!(
        r.downs(),
        vec![&DownReason::Connection("peer closed the connection".into())]
    );
    r.core.closed(r.now);
    r.collect();
    assert_eq!(r.core.state(), State::Idle);
    // ConnectRetry: the next attempt after the back-off, not at once.
    assert!(!r.core.poll_connect(r.now));
    let at = r.core.poll_timeout().unwrap();
    assert!(at > r.now && at <= r.now + Duration::from_secs(2));
    assert!(r.core.poll_connect(at));
}

#[test]
fn a_second_connection_is_refused_while_one_is_open() {
    let mut r = Replay::new(true, 90, routes(0, 1));
    assert!(!r.core.poll_connect(r.now), "passive: never dials");
    assert!(r.core.accepts_incoming());
    r.core.connected("127.0.0.1".parse().unwrap(), r.now);
    assert!(!r.core.accepts_incoming());
    r.core.connection_lost("reset", r.now);
    assert!(!r.core.accepts_incoming());
    r.core.closed(r.now);
    assert!(r.core.accepts_incoming());
    assert_eq!(r.core.state(), State::Active, "waiting for the peer again");
    assert_eq!(r.core.poll_timeout(), None, "passive: no ConnectRetry");
}

#[test]
fn a_failed_connection_attempt_is_retried_after_the_back_off_without_a_session_down() {
    let mut r = Replay::new(false, 90, routes(0, 1));
    for attempt in 0..3 {
        assert!(r.core.poll_connect(r.now), "attempt {attempt}");
        assert_eq!(r.core.state(), State::Connect);
        r.core.connect_failed("connection refused", r.now);
        r.collect();
        assert_eq!(r.core.state(), State::Idle);
        assert!(!r.core.wants_close(r.now));
        let next = r.core.poll_timeout().unwrap();
        assert!(next > r.now, "no busy loop");
        assert!(!r.core.poll_connect(r.now));
        r.now = next;
    }
    assert!(r.downs().is_empty());
}

#[test]
fn notification_in_every_state_closes_without_answering() {
    let cease = encode(Message::Notification(
        Notification::administrative_shutdown("bye"),
    ));
    for state in [State::OpenSent, State::OpenConfirm, State::Established] {
        let mut r = Replay::new(false, 90, routes(0, 100));
        assert!(r.core.poll_connect(r.now));
        r.core.connected("127.0.0.1".parse().unwrap(), r.now);
        if state != State::OpenSent {
            r.bytes(&peer_open(90, caps(false)));
        }
        if state == State::Established {
            r.bytes(&encode(Message::Keepalive));
            r.write_at_most(3000);
        }
        assert_eq!(r.core.state(), state);
        r.bytes(&cease);
        assert_eq!(r.core.state(), State::Idle);
        assert!(matches!(r.downs().as_slice(), [DownReason::Received(_)]));
        assert!(r.core.wants_close(r.now), "{state:?}");
        r.write_at_most(usize::MAX);
        assert!(r.peer.notifications.is_empty(), "{state:?}");
        // Bytes after the NOTIFICATION are ignored.
        r.bytes(&encode(Message::Keepalive));
        assert_eq!(r.core.state(), State::Idle);
    }
    // Before any connection (Idle, Connect, Active) there are no bytes to handle.
    let mut r = Replay::new(true, 90, routes(0, 1));
    r.bytes(&cease);
    assert!(r.downs().is_empty());
}

#[test]
fn garbage_from_the_peer_gets_1_1_and_a_close() {
    let mut r = Replay::established(90, routes(0, 10), caps(false));
    r.assert_converged();
    r.bytes(&[0u8; 40]);
    assert!(r.core.wants_close(r.now) || r.core.pending_bytes() > 0);
    r.write_at_most(usize::MAX);
    assert_eq!(r.peer.notifications.len(), 1);
    assert_eq!(
        (
            r.peer.notifications[0].code,
            r.peer.notifications[0].subcode
        ),
        (1, 1)
    );
}

#[test]
fn stop_while_a_table_is_queued_sends_cease_then_stops() {
    let mut r = Replay::established(90, routes(0, 40_000), caps(false));
    r.write_at_most(5000);
    r.command(Command::Stop {
        notification: Notification::administrative_shutdown("bye"),
        for_restart: false,
    });
    r.write_at_most(usize::MAX);
    assert!(r.core.wants_close(r.now));
    assert_eq!(r.peer.notifications.len(), 1);
    assert_eq!(r.peer.notifications[0].code, code::CEASE);
    assert!(r.peer.stream.is_empty(), "whole messages only");
    r.core.closed(r.now);
    r.collect();
    assert!(r.core.is_stopped());
    assert_eq!(r.events.last(), Some(&SessionEvent::Stopped));
    assert!(!r.core.poll_connect(r.now + Duration::from_secs(3600)));
}

#[test]
fn stop_without_a_connection_stops_at_once() {
    let mut r = Replay::new(false, 90, routes(0, 1));
    r.command(Command::Stop {
        notification: Notification::administrative_shutdown("bye"),
        for_restart: false,
    });
    assert!(r.core.is_stopped());
    assert_eq!(r.events, vec![SessionEvent::Stopped]);
}

#[test]
fn flood_of_updates_while_a_table_is_queued_is_handled_not_dropped() {
    let mut r = Replay::established(90, routes(0, 40_000), caps(false));
    r.write_at_most(1000);
    let update = encode(Message::Update(Update::end_of_rib_marker(
        Family::IPV4_UNICAST,
    )));
    // 3 MB of UPDATEs in odd pieces while nothing of ours is written.
    let flood: Vec<u8> = (0..3_000_000 / update.len())
        .flat_map(|_| update.clone())
        .collect();
    for piece in flood.chunks(4093) {
        r.bytes(piece);
    }
    let received = r
        .events
        .iter()
        .filter(|e| matches!(e, SessionEvent::UpdateReceived(..)))
        .count();
    assert_eq!(received, flood.len() / update.len());
    assert!(r.downs().is_empty());
    r.assert_converged();
}

/// A hostile peer in random order: garbage, valid messages cut anywhere, time jumps, writes
/// of any size, new tables, lost connections. Nothing may panic, the outbox never holds a
/// message cut short, and whenever the session is up and the outbox drained, the invariant
/// holds.
#[test]
fn random_hostile_sequences_never_panic_and_keep_the_invariant() {
    let mut seed = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let valid: Vec<Vec<u8>> = vec![
        encode(Message::Keepalive),
        refresh(0),
        refresh(1),
        refresh(2),
        encode(Message::Update(Update::end_of_rib_marker(
            Family::IPV4_UNICAST,
        ))),
    ];
    // These end the session.
    let fatal: Vec<Vec<u8>> = vec![
        peer_open(9, caps(true)),
        encode(Message::Notification(Notification::new(6, 2, vec![]))),
        vec![0u8; 19],
    ];
    let mut converged = 0;
    for round in 0..20 {
        let mut r = Replay::established(9, routes(0, 500 + 50 * round), caps(round % 2 == 0));
        let mut up = true;
        for _ in 0..300 {
            match next() % 9 {
                0 if next() % 300 == 0 => {
                    let garbage: Vec<u8> = (0..next() % 40).map(|_| next() as u8).collect();
                    r.bytes(&garbage);
                }
                0 if next() % 300 == 0 => {
                    r.bytes(&fatal[(next() % fatal.len() as u64) as usize]);
                }
                0 => {}
                1..=3 => {
                    let m = &valid[(next() % valid.len() as u64) as usize];
                    let cut = (next() as usize) % (m.len() + 1);
                    r.bytes(&m[..cut]);
                    r.bytes(&m[cut..]);
                }
                4 => r.at(Duration::from_millis(next() % 1500)),
                5 => {
                    r.write_at_most((next() % 20_000) as usize);
                }
                6 => {
                    let first = (next() % 1000) as u32;
                    r.command(Command::Routes(routes(first, (next() % 800) as u32)));
                }
                7 => {
                    if next() % 60 == 0 {
                        r.core.connection_lost("reset", r.now);
                        r.collect();
                    }
                }
                _ => r.command(Command::SendRouteRefresh(None)),
            }
            if !r.core.is_connected()
                || r.core.wants_close(r.now)
                || r.core.state() != State::Established
            {
                up = false;
                break;
            }
        }
        if up {
            r.assert_converged();
            converged += 1;
        } else {
            // Whatever was written is whole messages: the model peer decoded it all.
            r.write_at_most(usize::MAX);
            r.core.closed(r.now);
            r.collect();
            assert_eq!(r.core.state(), State::Idle);
        }
    }
    assert!(
        converged >= 5,
        "only {converged} of 20 rounds kept their session"
    );
}

/// A replay whose session negotiated graceful restart and whose End-of-RIB waits at most
/// `wait` for the neighbor's helpers and health checks.
fn gated(table: Arc<RouteSet>, wait: Duration) -> Replay {
    let now = Instant::now();
    let mut session = session_config(false, 90);
    session.graceful_restart = Some(120);
    let config = CoreConfig {
        name: "192.0.2.1".into(),
        session,
        group_updates: true,
        eor_wait: Some(wait),
        tap: Default::default(),
        manual_eor: false,
        local_link_local: None,
        confederation: Default::default(),
    };
    let mut core = SessionCore::new(config, table);
    core.start(now);
    let mut r = Replay {
        core,
        peer: ModelPeer::default(),
        now,
        events: Vec::new(),
    };
    assert!(r.core.poll_connect(r.now));
    r.core.connected("127.0.0.1".parse().unwrap(), r.now);
    r.write_at_most(usize::MAX);
    let mut c = caps(false);
    c.push(Capability::GracefulRestart(
        crate::wire::capability::GracefulRestart {
            flags: 0,
            time: 120,
            families: vec![(Family::IPV4_UNICAST, 0)],
        },
    ));
    r.bytes(&peer_open(90, c));
    r.bytes(&encode(Message::Keepalive));
    assert_eq!(r.core.state(), State::Established);
    r
}

#[test]
fn end_of_rib_waits_for_the_sources_then_follows_their_routes() {
    let file = routes(0, 100);
    let mut r = gated(file, Duration::from_secs(30));
    r.drain();
    // The file's routes are out, the marker is held for the helper and the health check.
    assert_eq!((r.peer.adj_rib_in.len(), r.peer.end_of_ribs), (100, 0));
    // A helper's `announce eor` arrives as a plain End-of-RIB request: still held.
    r.command(Command::SendEndOfRib(None));
    r.drain();
    assert_eq!(r.peer.end_of_ribs, 0);
    assert_eq!(r.core.poll_timeout(), Some(r.now + Duration::from_secs(30)));
    // The helper's and the health check's routes, then the manager's release.
    r.command(Command::Routes(routes(0, 102)));
    r.command(Command::ReleaseEndOfRib(EorRelease::All));
    r.drain();
    assert_eq!(r.peer.rib_at_end_of_rib, [102]);
    assert!(r.peer.trace.ends_with('U'));
    // Nothing more: no second marker at the old deadline.
    r.at(Duration::from_secs(31));
    r.drain();
    assert_eq!(r.peer.end_of_ribs, 1);
}

#[test]
fn end_of_rib_goes_when_eor_wait_passes() {
    let mut r = gated(routes(0, 10), Duration::from_secs(30));
    r.drain();
    r.at(Duration::from_secs(29));
    r.drain();
    assert_eq!(r.peer.end_of_ribs, 0);
    r.at(Duration::from_secs(1));
    r.drain();
    assert_eq!(r.peer.rib_at_end_of_rib, [10]);
    // The sources became ready later: no second marker.
    r.command(Command::ReleaseEndOfRib(EorRelease::All));
    r.drain();
    assert_eq!(r.peer.end_of_ribs, 1);
}

/// The gate alone (see `eor_gate.rs`).
mod eor_gate {
    use super::*;

    const V4: Family = Family::IPV4_UNICAST;
    const V6: Family = Family::IPV6_UNICAST;

    #[test]
    fn without_sources_or_graceful_restart_nothing_is_held() {
        let now = Instant::now();
        let mut g = EorGate::new(None);
        assert_eq!(g.session_up(&[V4, V6], true, now), [V4, V6]);
        let mut g = EorGate::new(Some(Duration::from_secs(30)));
        assert_eq!(g.session_up(&[V4, V6], false, now), [V4, V6]);
        assert_eq!(g.deadline(), None);
    }

    #[test]
    fn held_until_released_per_family_then_sticky() {
        let now = Instant::now();
        let mut g = EorGate::new(Some(Duration::from_secs(30)));
        assert!(g.session_up(&[V4, V6], true, now).is_empty());
        assert!(g.is_held(V4) && g.is_held(V6));
        assert!(g.take_sendable().is_empty());
        g.release(&EorRelease::Families(vec![V6]));
        assert_eq!(g.take_sendable(), [V6]);
        assert_eq!(g.held(), [V4]);
        g.release(&EorRelease::All);
        assert_eq!(g.take_sendable(), [V4]);
        assert_eq!(g.deadline(), None);
        // The next session of the neighbor sends its markers with the table.
        assert_eq!(g.session_up(&[V4, V6], true, now), [V4, V6]);
    }

    #[test]
    fn the_wait_expires() {
        let now = Instant::now();
        let mut g = EorGate::new(Some(Duration::from_secs(30)));
        g.session_up(&[V4], true, now);
        assert!(!g.expire(now + Duration::from_secs(29)));
        assert!(g.take_sendable().is_empty());
        assert!(g.expire(now + Duration::from_secs(30)));
        assert_eq!(g.take_sendable(), [V4]);
        // Each session waits again while the sources are not ready.
        g.session_up(&[V4], true, now);
        assert_eq!(g.held(), [V4]);
    }
}

#[test]
fn reset_for_bfd_sends_cease_bfd_down_and_connects_again() {
    let mut r = Replay::established(90, routes(0, 10), caps(false));
    r.write_at_most(usize::MAX);
    r.command(Command::Reset(Notification::new(
        code::CEASE,
        crate::wire::notification::subcode::BFD_DOWN,
        Vec::new(),
    )));
    r.write_at_most(usize::MAX);
    assert!(r.core.wants_close(r.now));
    assert_eq!(r.peer.notifications.len(), 1);
    assert_eq!(
        (
            r.peer.notifications[0].code,
            r.peer.notifications[0].subcode
        ),
        (code::CEASE, 10)
    );
    r.core.closed(r.now);
    r.collect();
    assert!(!r.core.is_stopped());
    assert!(!r.events.contains(&SessionEvent::Stopped));
    // Not stopped: it dials again after the back-off.
    assert!(r.core.poll_connect(r.now + Duration::from_secs(120)));
}

#[test]
fn reset_without_a_connection_does_nothing() {
    let mut r = Replay::new(false, 90, routes(0, 1));
    r.command(Command::Reset(Notification::new(
        code::CEASE,
        10,
        Vec::new(),
    )));
    assert!(!r.core.is_stopped());
    assert!(r.events.is_empty());
}
