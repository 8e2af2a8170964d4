//! One BFD session in asynchronous mode (RFC 5880 §6), free of sockets and clocks: decoded
//! packets (with the TTL they arrived with) and the time go in (`handle_*`), packets to
//! send, the next deadline and state changes come out (`poll_*`).
//!
//! What it does of RFC 5880: the three-way handshake (§6.2, §6.8.6), the detection time
//! (§6.8.4), slow start at one second until Up (§6.8.3), jitter (§6.8.7), Poll/Final for
//! timer changes (§6.5, §6.8.3). What it leaves out: Demand mode and the Echo function
//! (never asked for: D is never sent, Required Min Echo RX is 0), and authentication (a
//! packet with the A bit is refused by the codec).

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::packet::{Diag, Packet, State, micros};

/// RFC 5880 §6.8.3: while not Up, packets go out at most once a second.
pub const SLOW_START_TX: Duration = Duration::from_secs(1);
/// RFC 5881 §5 (and RFC 5082): single-hop packets are sent with, and must arrive with,
/// TTL / hop limit 255.
pub const SINGLE_HOP_TTL: u8 = 255;
/// RFC 5880 §6.8.1: bfd.RemoteMinRxInterval starts at 1 µs.
const INITIAL_REMOTE_MIN_RX: u32 = 1;
/// At most this many packets wait for the thread to send them (it drains after each call).
const OUTBOX_LIMIT: usize = 4;

/// The timers of a session, as configured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Params {
    /// bfd.DesiredMinTxInterval once Up.
    pub min_tx: Duration,
    /// bfd.RequiredMinRxInterval.
    pub min_rx: Duration,
    /// bfd.DetectMult.
    pub multiplier: u8,
    /// RFC 5883: any TTL is accepted (the single-hop check of RFC 5881 §5 is off).
    pub multihop: bool,
}

/// A state change, for the thread that reports it to the BGP session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StateChange {
    pub from: State,
    pub to: State,
    pub diag: Diag,
}

/// Why a received packet was dropped by the session (the codec drops the malformed ones).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dropped {
    /// RFC 5881 §5: a single-hop packet must arrive with TTL 255 (`None`: not known).
    Ttl(Option<u8>),
    /// Your Discriminator names another session.
    NotOurs(u32),
    /// RFC 5880 §6.8.6: Your Discriminator 0 is only allowed in Down and AdminDown.
    ZeroYourDiscriminator(State),
    /// RFC 5880 §6.8.6: we are AdminDown.
    AdminDown,
}

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Dropped::Ttl(Some(t)) => write!(f, "TTL {t}, single-hop BFD needs 255"),
            Dropped::Ttl(None) => f.write_str("TTL unknown, single-hop BFD needs 255"),
            Dropped::NotOurs(d) => write!(f, "your discriminator {d} is not this session's"),
            Dropped::ZeroYourDiscriminator(s) => {
                write!(f, "your discriminator 0 in state {s}")
            }
            Dropped::AdminDown => f.write_str("the session is administratively down"),
        }
    }
}

/// A tiny xorshift64* generator for the jitter: nothing here needs more than "not in step".
#[derive(Clone, Debug)]
struct Jitter(u64);

impl Jitter {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

pub struct Session {
    params: Params,
    state: State,
    remote_state: State,
    local_discr: u32,
    remote_discr: u32,
    local_diag: Diag,
    /// bfd.RemoteMinRxInterval, µs.
    remote_min_rx: u32,
    /// The peer's Desired Min TX Interval, µs (for the detection time).
    remote_min_tx: u32,
    remote_mult: u8,
    /// Our Poll Sequence is running (RFC 5880 §6.5): every packet has P until an F arrives.
    polling: bool,
    /// The next packet answers the peer's poll with F.
    send_final: bool,
    /// The Desired Min TX the transmit interval is computed from (the advertised one, but an
    /// increase waits for the Poll Sequence to end, §6.8.3).
    tx_in_use: u32,
    /// The Required Min RX the detection time is computed from (a decrease waits for the
    /// Poll Sequence to end, §6.8.3).
    rx_in_use: u32,
    next_tx: Option<Instant>,
    detect_at: Option<Instant>,
    outbox: VecDeque<Packet>,
    events: VecDeque<StateChange>,
    jitter: Jitter,
}

impl Session {
    /// A session in state Down that sends its first packet at `now`. `local_discr` is
    /// non-zero and unique among the sessions of the system; `seed` starts the jitter.
    pub fn new(params: Params, local_discr: u32, seed: u64, now: Instant) -> Session {
        let mut s = Session {
            params: sane(params),
            state: State::Down,
            remote_state: State::Down,
            local_discr: local_discr.max(1),
            remote_discr: 0,
            local_diag: Diag::None,
            remote_min_rx: INITIAL_REMOTE_MIN_RX,
            remote_min_tx: 0,
            remote_mult: 0,
            polling: false,
            send_final: false,
            tx_in_use: 0,
            rx_in_use: 0,
            next_tx: Some(now),
            detect_at: None,
            outbox: VecDeque::new(),
            events: VecDeque::new(),
            jitter: Jitter(seed | 1),
        };
        s.tx_in_use = s.advertised_tx();
        s.rx_in_use = s.advertised_rx();
        s
    }

    pub fn state(&self) -> State {
        self.state
    }

    pub fn remote_state(&self) -> State {
        self.remote_state
    }

    pub fn local_discriminator(&self) -> u32 {
        self.local_discr
    }

    pub fn remote_discriminator(&self) -> u32 {
        self.remote_discr
    }

    pub fn params(&self) -> Params {
        self.params
    }

    pub fn is_polling(&self) -> bool {
        self.polling
    }

    /// RFC 5880 §6.8.4: the peer's Detect Mult times the agreed receive interval.
    pub fn detection_time(&self) -> Duration {
        let interval = u64::from(self.rx_in_use.max(self.remote_min_tx));
        Duration::from_micros(interval.saturating_mul(u64::from(self.remote_mult.max(1))))
    }

    /// The interval between our periodic packets before jitter (RFC 5880 §6.8.7).
    pub fn transmit_interval(&self) -> Duration {
        Duration::from_micros(u64::from(self.tx_in_use.max(self.remote_min_rx)))
    }

    /// bfd.DesiredMinTxInterval: the configured one once Up, at least a second before.
    fn advertised_tx(&self) -> u32 {
        let configured = micros(self.params.min_tx);
        if self.state == State::Up {
            configured
        } else {
            configured.max(micros(SLOW_START_TX))
        }
    }

    fn advertised_rx(&self) -> u32 {
        micros(self.params.min_rx)
    }

    /// New timers (a configuration reload): while Up they take effect through a Poll
    /// Sequence (RFC 5880 §6.8.3).
    pub fn set_params(&mut self, params: Params, now: Instant) {
        let before = (
            self.advertised_tx(),
            self.advertised_rx(),
            self.params.multiplier,
        );
        self.params = sane(params);
        if before
            != (
                self.advertised_tx(),
                self.advertised_rx(),
                self.params.multiplier,
            )
        {
            self.timers_changed(before.0, before.1);
            self.transmit(now);
        }
    }

    /// The session is being deleted: AdminDown (RFC 5880 §6.8.16), announced at once.
    pub fn admin_down(&mut self, now: Instant) {
        if self.state != State::AdminDown {
            self.set_state(State::AdminDown, Diag::AdministrativelyDown);
            self.detect_at = None;
            self.transmit(now);
        }
    }

    /// A packet the codec accepted, with the TTL / hop limit it arrived with.
    pub fn handle_packet(
        &mut self,
        p: &Packet,
        ttl: Option<u8>,
        now: Instant,
    ) -> Result<(), Dropped> {
        if !self.params.multihop && ttl != Some(SINGLE_HOP_TTL) {
            return Err(Dropped::Ttl(ttl));
        }
        if p.your_discriminator != 0 && p.your_discriminator != self.local_discr {
            return Err(Dropped::NotOurs(p.your_discriminator));
        }
        if p.your_discriminator == 0 && !matches!(p.state, State::Down | State::AdminDown) {
            return Err(Dropped::ZeroYourDiscriminator(p.state));
        }
        if self.state == State::AdminDown {
            return Err(Dropped::AdminDown);
        }
        self.remote_discr = p.my_discriminator;
        self.remote_state = p.state;
        self.remote_min_rx = p.required_min_rx;
        self.remote_min_tx = p.desired_min_tx;
        self.remote_mult = p.detect_mult;
        if p.final_ && self.polling {
            // The peer has our new timers: the ones held back take effect (§6.8.3).
            self.polling = false;
            self.tx_in_use = self.advertised_tx();
            self.rx_in_use = self.advertised_rx();
        }
        let before = self.state;
        match (self.state, p.state) {
            (State::Down, State::AdminDown) => {}
            (_, State::AdminDown) => self.set_state(State::Down, Diag::NeighborSignaledSessionDown),
            (State::Down, State::Down) => self.set_state(State::Init, Diag::None),
            (State::Down, State::Init) | (State::Init, State::Init | State::Up) => {
                self.set_state(State::Up, Diag::None)
            }
            (State::Up, State::Down) => {
                self.set_state(State::Down, Diag::NeighborSignaledSessionDown)
            }
            _ => {}
        }
        self.detect_at = Some(now + self.detection_time());
        if p.poll {
            self.send_final = true;
        }
        if self.send_final || self.state != before {
            self.transmit(now);
        }
        Ok(())
    }

    /// Time passed: the detection timer (§6.8.4) and the periodic packet (§6.8.7).
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.detect_at.is_some_and(|t| now >= t) {
            self.detect_at = None;
            // §6.8.1: a Detection Time without a packet forgets the peer.
            self.remote_discr = 0;
            self.remote_state = State::Down;
            if matches!(self.state, State::Init | State::Up) {
                self.set_state(State::Down, Diag::ControlDetectionTimeExpired);
                self.transmit(now);
            }
        }
        if self.next_tx.is_some_and(|t| now >= t) {
            self.transmit(now);
        }
    }

    /// When `handle_timeout` has something to do next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        [self.next_tx, self.detect_at].into_iter().flatten().min()
    }

    pub fn poll_transmit(&mut self) -> Option<Packet> {
        self.outbox.pop_front()
    }

    pub fn poll_event(&mut self) -> Option<StateChange> {
        self.events.pop_front()
    }

    fn set_state(&mut self, to: State, diag: Diag) {
        let from = self.state;
        if from == to {
            return;
        }
        let (tx_before, rx_before) = (self.advertised_tx(), self.advertised_rx());
        self.state = to;
        if diag != Diag::None || to == State::Up {
            self.local_diag = diag;
        }
        if to == State::Up {
            // Leaving slow start changes bfd.DesiredMinTxInterval: a Poll Sequence.
            self.timers_changed(tx_before, rx_before);
        } else {
            self.polling = false;
            self.tx_in_use = self.advertised_tx();
            self.rx_in_use = self.advertised_rx();
        }
        self.events.push_back(StateChange { from, to, diag });
    }

    /// The advertised timers changed from these: start a Poll Sequence when Up, and apply
    /// at once what may be applied at once (§6.8.3).
    fn timers_changed(&mut self, tx_before: u32, rx_before: u32) {
        let (tx, rx) = (self.advertised_tx(), self.advertised_rx());
        if self.state != State::Up {
            self.tx_in_use = tx;
            self.rx_in_use = rx;
            return;
        }
        if tx != tx_before || rx != rx_before {
            self.polling = true;
        }
        // A faster transmit rate and a longer detection time are safe at once; the peer
        // learns of them from the next packet.
        if tx < self.tx_in_use {
            self.tx_in_use = tx;
        }
        if rx > self.rx_in_use {
            self.rx_in_use = rx;
        }
    }

    fn transmit(&mut self, now: Instant) {
        // §6.8.7: no periodic packets to a peer that asked for none (Required Min RX 0);
        // a Final still answers its Poll.
        if self.remote_min_rx == 0 && !self.send_final {
            self.next_tx = Some(now + SLOW_START_TX);
            return;
        }
        let final_ = std::mem::take(&mut self.send_final);
        let packet = Packet {
            diag: self.local_diag,
            state: self.state,
            // §6.8.7: never P and F in one packet.
            poll: self.polling && !final_,
            final_,
            control_plane_independent: false,
            demand: false,
            detect_mult: self.params.multiplier,
            my_discriminator: self.local_discr,
            your_discriminator: self.remote_discr,
            desired_min_tx: self.advertised_tx(),
            required_min_rx: self.advertised_rx(),
            required_min_echo_rx: 0,
        };
        if self.outbox.len() >= OUTBOX_LIMIT {
            self.outbox.pop_front();
        }
        self.outbox.push_back(packet);
        self.next_tx = Some(now + self.jittered(self.transmit_interval()));
    }

    /// §6.8.7: 75-100 % of the interval, 75-90 % with a Detect Mult of 1.
    fn jittered(&mut self, interval: Duration) -> Duration {
        let span = if self.params.multiplier == 1 { 15 } else { 25 };
        let percent = 75 + (self.jitter.next() % span) as u32;
        interval * percent / 100
    }
}

/// Keeps the timers inside what the wire can carry and the thread can honour.
fn sane(mut p: Params) -> Params {
    p.multiplier = p.multiplier.max(1);
    p.min_tx = p.min_tx.max(Duration::from_millis(1));
    p.min_rx = p.min_rx.max(Duration::from_millis(1));
    p
}

#[cfg(test)]
mod tests;
