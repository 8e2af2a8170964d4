//! The BFD thread: one for the whole process, started by the first neighbor that asks for
//! BFD. It owns the receiving sockets (one per family and port), a sending socket per
//! session, and every [`Session`]; it is a flat loop around them:
//!
//! ```text
//! loop {
//!     requests (add, remove) -> sessions       timers -> session.handle_timeout
//!     session.poll_transmit -> its socket      session.poll_event -> log, the BGP session
//!     poll(receiving sockets, wake fd, earliest session deadline)
//!     datagrams -> codec -> session (by Your Discriminator, else by source address)
//! }
//! ```
//!
//! What a BGP session hears from it (the [`Notify`] it registered): only a BFD session that
//! was Up and went Down, and not because the peer set it AdminDown (RFC 5882 §3.2, the
//! peer took BFD away on purpose; the BGP session stays). While BFD is still coming up
//! nothing is reported, as routers do.

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::os::fd::AsRawFd;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crossbeam_channel::{Receiver, Sender, TryRecvError};
use log::{debug, error, info, warn};

use super::packet::{Diag, Packet, State};
use super::session::{Params, Session};
use super::socket::{self, MULTIHOP_PORT, SINGLE_HOP_PORT, SOURCE_PORTS};
use crate::session::waker::{self, WakeReceiver, Waker};

/// The longest the thread sleeps with nothing to do (every deadline is known; a safety net).
const IDLE_WAIT: Duration = Duration::from_secs(1);
/// At most this many datagrams are read per socket and turn, so timers keep their turn
/// under a flood.
const READ_BUDGET: usize = 256;
/// A socket that could not be opened is tried again after this long.
const RETRY_SOCKET: Duration = Duration::from_secs(10);

/// What a BGP session is told: its BFD session, once Up, went Down for this reason.
pub type Notify = Box<dyn Fn(Diag) + Send>;

enum Request {
    Add {
        id: u64,
        peer: IpAddr,
        local: Option<IpAddr>,
        params: Params,
        notify: Notify,
    },
    Remove(u64),
}

/// The handle to the BFD thread.
#[derive(Clone)]
pub struct Service {
    tx: Sender<Request>,
    waker: Waker,
    next_id: Arc<Mutex<u64>>,
}

/// A BFD session for as long as this lives; dropping it deletes the session (the peer is
/// told AdminDown, RFC 5880 §6.8.16).
pub struct Registration {
    id: u64,
    service: Service,
}

impl Drop for Registration {
    fn drop(&mut self) {
        let _ = self.service.tx.send(Request::Remove(self.id));
        self.service.waker.wake();
    }
}

/// The process's BFD thread, started on first use.
pub fn service() -> io::Result<Service> {
    static SERVICE: Mutex<Option<Service>> = Mutex::new(None);
    let mut slot = SERVICE.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(s) = slot.as_ref() {
        return Ok(s.clone());
    }
    let s = spawn()?;
    *slot = Some(s.clone());
    Ok(s)
}

/// Starts a BFD thread of its own (the process uses [`service`]).
pub fn spawn() -> io::Result<Service> {
    let (tx, rx) = crossbeam_channel::unbounded();
    let (waker, wake) = waker::pair()?;
    std::thread::Builder::new()
        .name("bfd".into())
        .spawn(move || Thread::new(rx, wake).run())?;
    Ok(Service {
        tx,
        waker,
        next_id: Arc::new(Mutex::new(0)),
    })
}

impl Service {
    /// A BFD session to `peer` (from `local`, when given) with these timers; `notify` is
    /// called from the BFD thread when it goes down after having been Up.
    pub fn register(
        &self,
        peer: IpAddr,
        local: Option<IpAddr>,
        params: Params,
        notify: Notify,
    ) -> Registration {
        let id = {
            let mut n = self.next_id.lock().unwrap_or_else(|e| e.into_inner());
            *n += 1;
            *n
        };
        let _ = self.tx.send(Request::Add {
            id,
            peer,
            local,
            params,
            notify,
        });
        self.waker.wake();
        Registration {
            id,
            service: self.clone(),
        }
    }
}

struct Entry {
    peer: IpAddr,
    local: Option<IpAddr>,
    session: Session,
    notify: Notify,
    sender: Option<UdpSocket>,
    /// When the sending socket may be tried again after it failed.
    sender_retry: Option<Instant>,
    /// The session has been Up: from then on, Down is a failure to report.
    was_up: bool,
    /// When it last went Up, for the log.
    up_since: Option<Instant>,
}

/// The receiving sockets: IPv4 and IPv6, single-hop and multihop.
#[derive(Default)]
struct Receivers {
    sockets: [Option<socket2::Socket>; 4],
    retry: [Option<Instant>; 4],
}

fn slot(v6: bool, multihop: bool) -> usize {
    usize::from(v6) * 2 + usize::from(multihop)
}

struct Thread {
    rx: Receiver<Request>,
    wake: WakeReceiver,
    sessions: HashMap<u64, Entry>,
    by_discr: HashMap<u32, u64>,
    receivers: Receivers,
    rng: u64,
}

impl Thread {
    fn new(rx: Receiver<Request>, wake: WakeReceiver) -> Thread {
        let seed = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0)
            ^ u64::from(std::process::id()).rotate_left(32);
        Thread {
            rx,
            wake,
            sessions: HashMap::new(),
            by_discr: HashMap::new(),
            receivers: Receivers::default(),
            rng: seed | 1,
        }
    }

    fn random(&mut self) -> u64 {
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        self.rng.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn run(mut self) {
        let mut buf = [0u8; 1500];
        loop {
            // A bug must not end BFD for every neighbor: the turn is logged (the test
            // harness fails any test whose log shows one) and the loop goes on.
            let turn =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.turn(&mut buf)));
            match turn {
                Ok(true) => {}
                Ok(false) => return,
                Err(panic) => {
                    let what = panic
                        .downcast_ref::<&str>()
                        .map(|s| s.to_string())
                        .or_else(|| panic.downcast_ref::<String>().cloned())
                        .unwrap_or_else(|| "unknown panic".into());
                    error!("BFD: internal error: {what}");
                    std::thread::sleep(Duration::from_millis(100));
                }
            }
        }
    }

    /// One turn of the loop; `false` once every handle is gone.
    fn turn(&mut self, buf: &mut [u8]) -> bool {
        if !self.serve_requests() {
            return false;
        }
        let now = Instant::now();
        self.open_missing_receivers(now);
        let ids: Vec<u64> = self.sessions.keys().copied().collect();
        for id in &ids {
            if let Some(e) = self.sessions.get_mut(id) {
                e.session.handle_timeout(now);
            }
            self.flush(*id, now);
        }
        let deadline = self
            .sessions
            .values()
            .filter_map(|e| e.session.poll_timeout())
            .min();
        let timeout = deadline
            .map(|t| t.saturating_duration_since(Instant::now()))
            .unwrap_or(IDLE_WAIT)
            .min(IDLE_WAIT);
        for ready in self.wait(timeout) {
            self.read(ready, buf);
        }
        true
    }

    /// Takes the queued requests; `false` once every handle is gone.
    fn serve_requests(&mut self) -> bool {
        loop {
            match self.rx.try_recv() {
                Ok(Request::Add {
                    id,
                    peer,
                    local,
                    params,
                    notify,
                }) => self.add(id, peer, local, params, notify),
                Ok(Request::Remove(id)) => self.remove(id),
                Err(TryRecvError::Empty) => return true,
                Err(TryRecvError::Disconnected) => return false,
            }
        }
    }

    fn add(
        &mut self,
        id: u64,
        peer: IpAddr,
        local: Option<IpAddr>,
        params: Params,
        notify: Notify,
    ) {
        let discr = loop {
            let d = self.random() as u32;
            if d != 0 && !self.by_discr.contains_key(&d) {
                break d;
            }
        };
        let seed = self.random();
        let now = Instant::now();
        info!(
            "neighbor {peer}: BFD {} session starting (tx {} ms, rx {} ms, multiplier {})",
            if params.multihop {
                "multihop"
            } else {
                "single-hop"
            },
            params.min_tx.as_millis(),
            params.min_rx.as_millis(),
            params.multiplier
        );
        self.by_discr.insert(discr, id);
        self.sessions.insert(
            id,
            Entry {
                peer,
                local,
                session: Session::new(params, discr, seed, now),
                notify,
                sender: None,
                sender_retry: None,
                was_up: false,
                up_since: None,
            },
        );
        let s = slot(peer.is_ipv6(), params.multihop);
        self.receivers.retry[s] = None;
    }

    /// Deletes a session, telling the peer AdminDown first.
    fn remove(&mut self, id: u64) {
        let now = Instant::now();
        if let Some(e) = self.sessions.get_mut(&id) {
            e.session.admin_down(now);
            while e.session.poll_event().is_some() {}
        }
        self.flush(id, now);
        if let Some(e) = self.sessions.remove(&id) {
            self.by_discr.remove(&e.session.local_discriminator());
            info!("neighbor {}: BFD session deleted", e.peer);
        }
    }

    fn open_missing_receivers(&mut self, now: Instant) {
        for (s, port) in [
            (slot(false, false), SINGLE_HOP_PORT),
            (slot(false, true), MULTIHOP_PORT),
            (slot(true, false), SINGLE_HOP_PORT),
            (slot(true, true), MULTIHOP_PORT),
        ] {
            let v6 = s >= 2;
            let multihop = s % 2 == 1;
            let wanted = self
                .sessions
                .values()
                .any(|e| e.peer.is_ipv6() == v6 && e.session.params().multihop == multihop);
            if !wanted {
                self.receivers.sockets[s] = None;
                continue;
            }
            if self.receivers.sockets[s].is_some()
                || self.receivers.retry[s].is_some_and(|t| now < t)
            {
                continue;
            }
            match socket::open_receiver(v6, port) {
                Ok(sock) => {
                    debug!(
                        "BFD: listening on UDP port {port} ({})",
                        if v6 { "IPv6" } else { "IPv4" }
                    );
                    self.receivers.sockets[s] = Some(sock);
                    self.receivers.retry[s] = None;
                }
                Err(e) => {
                    error!(
                        "BFD: cannot listen on UDP port {port} ({}): {e}; the BFD sessions that need it cannot come up, trying again in {} s",
                        if v6 { "IPv6" } else { "IPv4" },
                        RETRY_SOCKET.as_secs()
                    );
                    self.receivers.retry[s] = Some(now + RETRY_SOCKET);
                }
            }
        }
    }

    /// Sleeps until a receiving socket is readable, a request arrives or `timeout` passes;
    /// returns the readable sockets' slots.
    fn wait(&mut self, timeout: Duration) -> Vec<usize> {
        let mut fds = vec![libc::pollfd {
            fd: self.wake.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        }];
        let mut slots = Vec::new();
        for (i, s) in self.receivers.sockets.iter().enumerate() {
            if let Some(s) = s {
                fds.push(libc::pollfd {
                    fd: s.as_raw_fd(),
                    events: libc::POLLIN,
                    revents: 0,
                });
                slots.push(i);
            }
        }
        // Rounded up: waking before a deadline only to sleep 0 ms would spin.
        let ms = timeout.as_micros().div_ceil(1000).min(i32::MAX as u128) as libc::c_int;
        // SAFETY: `fds` is a valid array of pollfd for the duration of the call.
        let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, ms) };
        if n <= 0 {
            return Vec::new();
        }
        if fds.first().is_some_and(|f| f.revents != 0) {
            self.wake.drain();
        }
        fds.iter()
            .skip(1)
            .zip(slots)
            .filter(|(f, _)| f.revents != 0)
            .map(|(_, s)| s)
            .collect()
    }

    fn read(&mut self, slot_index: usize, buf: &mut [u8]) {
        let multihop = slot_index % 2 == 1;
        for _ in 0..READ_BUDGET {
            let Some(sock) = self
                .receivers
                .sockets
                .get(slot_index)
                .and_then(|s| s.as_ref())
            else {
                return;
            };
            let d = match socket::receive(sock.as_raw_fd(), buf) {
                Ok(d) => d,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    debug!("BFD: receive failed: {e}");
                    return;
                }
            };
            let Some(bytes) = buf.get(..d.len) else {
                debug!(
                    "BFD: {} byte datagram from {} dropped: too long",
                    d.len, d.from
                );
                continue;
            };
            let now = Instant::now();
            let packet = match Packet::decode(bytes) {
                Ok(p) => p,
                Err(e) => {
                    debug!("BFD: packet from {} dropped: {e}", d.from);
                    continue;
                }
            };
            let Some(id) = self.demux(&packet, d.from, multihop) else {
                debug!("BFD: packet from {} matches no session: {packet}", d.from);
                continue;
            };
            if let Some(e) = self.sessions.get_mut(&id)
                && let Err(why) = e.session.handle_packet(&packet, d.ttl, now)
            {
                debug!("neighbor {}: BFD packet dropped: {why}", e.peer);
            }
            self.flush(id, now);
        }
    }

    /// RFC 5880 §6.8.6: the session named by Your Discriminator, else the one for the
    /// source address. Either way the packet must come from the session's peer, on the
    /// port of the session's kind.
    fn demux(&self, p: &Packet, from: IpAddr, multihop: bool) -> Option<u64> {
        let id = if p.your_discriminator != 0 {
            *self.by_discr.get(&p.your_discriminator)?
        } else {
            *self
                .sessions
                .iter()
                .find(|(_, e)| e.peer == from && e.session.params().multihop == multihop)?
                .0
        };
        let e = self.sessions.get(&id)?;
        (e.peer == from && e.session.params().multihop == multihop).then_some(id)
    }

    /// Sends what the session has queued and reports its state changes.
    fn flush(&mut self, id: u64, now: Instant) {
        let pick = self.random();
        let Some(e) = self.sessions.get_mut(&id) else {
            return;
        };
        while let Some(p) = e.session.poll_transmit() {
            if e.sender.is_none() && e.sender_retry.is_none_or(|t| now >= t) {
                let port = if e.session.params().multihop {
                    MULTIHOP_PORT
                } else {
                    SINGLE_HOP_PORT
                };
                let mut r = pick;
                let span = u64::from(SOURCE_PORTS.end() - SOURCE_PORTS.start()) + 1;
                let next_port = || {
                    r = r
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    SOURCE_PORTS.start() + ((r >> 33) % span) as u16
                };
                match socket::open_sender(SocketAddr::new(e.peer, port), e.local, next_port) {
                    Ok(s) => {
                        e.sender = Some(s);
                        e.sender_retry = None;
                    }
                    Err(err) => {
                        warn!(
                            "neighbor {}: cannot open the BFD socket: {err}; trying again in {} s",
                            e.peer,
                            RETRY_SOCKET.as_secs()
                        );
                        e.sender_retry = Some(now + RETRY_SOCKET);
                    }
                }
            }
            if let Some(s) = &e.sender
                && let Err(err) = s.send(&p.emit())
            {
                // ICMP port unreachable from a peer without BFD comes back here: quiet.
                debug!("neighbor {}: BFD send failed: {err}", e.peer);
            }
        }
        while let Some(change) = e.session.poll_event() {
            report(e, change.from, change.to, change.diag, now);
        }
    }
}

/// Logs a state change and tells the BGP session when it must go down.
fn report(e: &mut Entry, from: State, to: State, diag: Diag, now: Instant) {
    let peer = e.peer;
    match to {
        State::Up => {
            e.was_up = true;
            e.up_since = Some(now);
            let p = e.session.params();
            info!(
                "neighbor {peer}: BFD session up (ours: tx {} ms, rx {} ms, multiplier {})",
                p.min_tx.as_millis(),
                p.min_rx.as_millis(),
                p.multiplier
            );
        }
        State::Down if from == State::Up => {
            let lasted = e
                .up_since
                .map(|t| format!(" after {:.1} s up", now.duration_since(t).as_secs_f64()))
                .unwrap_or_default();
            if e.session.remote_state() == State::AdminDown {
                warn!(
                    "neighbor {peer}: BFD session down{lasted}: the peer set it AdminDown; the BGP session is kept (RFC 5882 §3.2)"
                );
            } else {
                warn!(
                    "neighbor {peer}: BFD session down{lasted}: {diag}; taking the BGP session down"
                );
                (e.notify)(diag);
            }
        }
        _ => debug!("neighbor {peer}: BFD {from} -> {to} ({diag})"),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;
    use crate::bfd::packet::Packet;

    fn entry(told: Arc<Mutex<Vec<Diag>>>, now: Instant) -> Entry {
        let params = Params {
            min_tx: Duration::from_millis(100),
            min_rx: Duration::from_millis(100),
            multiplier: 3,
            multihop: false,
        };
        Entry {
            peer: "198.18.24.2".parse().unwrap(),
            local: None,
            session: Session::new(params, 1, 1, now),
            notify: Box::new(move |d| told.lock().unwrap().push(d)),
            sender: None,
            sender_retry: None,
            was_up: false,
            up_since: None,
        }
    }

    fn from_peer(state: State, your: u32) -> Packet {
        Packet {
            diag: Diag::None,
            state,
            poll: false,
            final_: false,
            control_plane_independent: false,
            demand: false,
            detect_mult: 3,
            my_discriminator: 9,
            your_discriminator: your,
            desired_min_tx: 100_000,
            required_min_rx: 100_000,
            required_min_echo_rx: 0,
        }
    }

    /// What the thread does after each call into the session.
    fn drain(e: &mut Entry, now: Instant) {
        while e.session.poll_transmit().is_some() {}
        while let Some(c) = e.session.poll_event() {
            report(e, c.from, c.to, c.diag, now);
        }
    }

    fn feed(e: &mut Entry, p: Packet, now: Instant) {
        e.session.handle_packet(&p, Some(255), now).unwrap();
        drain(e, now);
    }

    #[test]
    fn only_a_session_that_was_up_and_failed_takes_bgp_down() {
        let t0 = Instant::now();
        let told = Arc::new(Mutex::new(Vec::new()));
        let mut e = entry(told.clone(), t0);
        // Coming up and failing before Up: nothing for BGP.
        feed(&mut e, from_peer(State::Down, 0), t0);
        assert_eq!(e.session.state(), State::Init);
        e.session.handle_timeout(t0 + Duration::from_secs(4));
        drain(&mut e, t0 + Duration::from_secs(4));
        assert_eq!(e.session.state(), State::Down);
        assert!(told.lock().unwrap().is_empty());
        // Up, then the detection time passes: BGP is told once.
        let t1 = t0 + Duration::from_secs(5);
        feed(&mut e, from_peer(State::Init, 1), t1);
        assert_eq!(e.session.state(), State::Up);
        e.session.handle_timeout(t1 + Duration::from_secs(4));
        drain(&mut e, t1 + Duration::from_secs(4));
        assert_eq!(
            *told.lock().unwrap(),
            vec![Diag::ControlDetectionTimeExpired]
        );
        // Up again, then the peer sets AdminDown (RFC 5882 §3.2): BGP is not told.
        let t2 = t1 + Duration::from_secs(5);
        feed(&mut e, from_peer(State::Down, 0), t2);
        feed(&mut e, from_peer(State::Up, 1), t2);
        assert_eq!(e.session.state(), State::Up);
        feed(&mut e, from_peer(State::AdminDown, 1), t2);
        assert_eq!(e.session.state(), State::Down);
        assert_eq!(told.lock().unwrap().len(), 1);
        // Up again, the peer says Down: told.
        feed(&mut e, from_peer(State::Down, 1), t2);
        feed(&mut e, from_peer(State::Up, 1), t2);
        feed(&mut e, from_peer(State::Down, 1), t2);
        assert_eq!(
            told.lock().unwrap().last(),
            Some(&Diag::NeighborSignaledSessionDown)
        );
        assert_eq!(told.lock().unwrap().len(), 2);
    }

    #[test]
    fn demux_needs_the_sessions_address_and_port_kind() {
        let t0 = Instant::now();
        let (_tx, rx) = crossbeam_channel::unbounded();
        let (_w, wake) = waker::pair().unwrap();
        let mut t = Thread::new(rx, wake);
        let told = Arc::new(Mutex::new(Vec::new()));
        let e = entry(told, t0);
        let peer = e.peer;
        t.by_discr.insert(e.session.local_discriminator(), 7);
        t.sessions.insert(7, e);
        let other: IpAddr = "198.18.24.9".parse().unwrap();
        assert_eq!(t.demux(&from_peer(State::Down, 0), peer, false), Some(7));
        assert_eq!(t.demux(&from_peer(State::Up, 1), peer, false), Some(7));
        // A spoofed source, the multihop port, an unknown discriminator: no session.
        assert_eq!(t.demux(&from_peer(State::Up, 1), other, false), None);
        assert_eq!(t.demux(&from_peer(State::Down, 0), other, false), None);
        assert_eq!(t.demux(&from_peer(State::Down, 0), peer, true), None);
        assert_eq!(t.demux(&from_peer(State::Up, 2), peer, false), None);
    }
}
