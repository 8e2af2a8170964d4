//! The session driven by scripted packets and times, as a peer would send them.

use super::*;
use crate::bfd::packet::PacketError;

const OURS: u32 = 0x0101_0101;
const THEIRS: u32 = 0x0202_0202;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn params() -> Params {
    Params {
        min_tx: ms(100),
        min_rx: ms(100),
        multiplier: 3,
        multihop: false,
    }
}

/// What a peer configured with 100 ms / 100 ms x 3 sends.
fn from_peer(state: State, your: u32) -> Packet {
    Packet {
        diag: Diag::None,
        state,
        poll: false,
        final_: false,
        control_plane_independent: false,
        demand: false,
        detect_mult: 3,
        my_discriminator: THEIRS,
        your_discriminator: your,
        desired_min_tx: 100_000,
        required_min_rx: 100_000,
        required_min_echo_rx: 0,
    }
}

fn events(s: &mut Session) -> Vec<(State, State, Diag)> {
    std::iter::from_fn(|| s.poll_event())
        .map(|e| (e.from, e.to, e.diag))
        .collect()
}

fn sent(s: &mut Session) -> Vec<Packet> {
    std::iter::from_fn(|| s.poll_transmit()).collect()
}

/// The bytes, through the codec, then the session: what the thread does.
fn receive(s: &mut Session, bytes: &[u8], ttl: u8, now: Instant) -> Result<(), String> {
    let p = Packet::decode(bytes).map_err(|e| e.to_string())?;
    s.handle_packet(&p, Some(ttl), now)
        .map_err(|e| e.to_string())
}

/// A session brought Up by the handshake at `t0`, its packets and events consumed, the
/// peer's Final received.
fn up_session(t0: Instant) -> Session {
    let mut s = Session::new(params(), OURS, 7, t0);
    s.handle_timeout(t0);
    s.handle_packet(&from_peer(State::Down, 0), Some(255), t0)
        .unwrap();
    s.handle_packet(&from_peer(State::Up, OURS), Some(255), t0)
        .unwrap();
    let fin = Packet {
        final_: true,
        ..from_peer(State::Up, OURS)
    };
    s.handle_packet(&fin, Some(255), t0).unwrap();
    sent(&mut s);
    events(&mut s);
    assert_eq!(s.state(), State::Up);
    assert!(!s.is_polling());
    s
}

#[test]
fn three_way_handshake_then_poll_out_of_slow_start() {
    let t0 = Instant::now();
    let mut s = Session::new(params(), OURS, 7, t0);
    assert_eq!(s.poll_timeout(), Some(t0));
    s.handle_timeout(t0);
    let first = sent(&mut s);
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].state, State::Down);
    assert_eq!(first[0].your_discriminator, 0);
    assert_eq!(first[0].my_discriminator, OURS);
    // Slow start: one second until Up, whatever is configured (RFC 5880 §6.8.3).
    assert_eq!(first[0].desired_min_tx, 1_000_000);
    assert_eq!(first[0].required_min_rx, 100_000);
    assert_eq!(first[0].detect_mult, 3);

    // Peer: Down, your 0 -> we go Init and say so at once.
    let t1 = t0 + ms(10);
    s.handle_packet(&from_peer(State::Down, 0), Some(255), t1)
        .unwrap();
    assert_eq!(events(&mut s), [(State::Down, State::Init, Diag::None)]);
    let init = sent(&mut s);
    assert_eq!(init.len(), 1);
    assert_eq!(init[0].state, State::Init);
    assert_eq!(init[0].your_discriminator, THEIRS);
    assert!(!init[0].poll);

    // Peer: Up -> we go Up, leave slow start with a Poll.
    let t2 = t1 + ms(10);
    s.handle_packet(&from_peer(State::Up, OURS), Some(255), t2)
        .unwrap();
    assert_eq!(events(&mut s), [(State::Init, State::Up, Diag::None)]);
    let up = sent(&mut s);
    assert_eq!(up.len(), 1);
    assert_eq!(up[0].state, State::Up);
    assert!(up[0].poll && !up[0].final_);
    assert_eq!(up[0].desired_min_tx, 100_000);
    assert!(s.is_polling());
    // Faster at once (a decrease is safe): 100 ms, the peer's Required Min RX.
    assert_eq!(s.transmit_interval(), ms(100));
    assert_eq!(s.detection_time(), ms(300));

    // Every packet polls until the Final comes.
    s.handle_timeout(t2 + ms(100));
    assert!(sent(&mut s).iter().all(|p| p.poll));
    let fin = Packet {
        final_: true,
        ..from_peer(State::Up, OURS)
    };
    s.handle_packet(&fin, Some(255), t2 + ms(120)).unwrap();
    assert!(!s.is_polling());
    s.handle_timeout(t2 + ms(300));
    let later = sent(&mut s);
    assert!(!later.is_empty());
    assert!(later.iter().all(|p| !p.poll && !p.final_));
    assert!(events(&mut s).is_empty());
}

#[test]
fn down_to_up_directly_on_the_peers_init() {
    let t0 = Instant::now();
    let mut s = Session::new(params(), OURS, 7, t0);
    s.handle_packet(&from_peer(State::Init, OURS), Some(255), t0)
        .unwrap();
    assert_eq!(events(&mut s), [(State::Down, State::Up, Diag::None)]);
}

#[test]
fn slow_start_sends_about_once_a_second_with_jitter() {
    let t0 = Instant::now();
    let mut s = Session::new(params(), OURS, 99, t0);
    let mut now = t0;
    for _ in 0..50 {
        s.handle_timeout(now);
        assert_eq!(sent(&mut s).len(), 1);
        let next = s.poll_timeout().unwrap();
        let gap = next - now;
        assert!(gap >= ms(750) && gap < ms(1000), "{gap:?}");
        now = next;
    }
}

#[test]
fn jitter_stays_in_rfc_bounds_and_below_90_percent_with_multiplier_1() {
    let t0 = Instant::now();
    for (mult, high) in [(3u8, 100u32), (1, 90)] {
        let mut s = up_session(t0);
        s.set_params(
            Params {
                multiplier: mult,
                ..params()
            },
            t0,
        );
        let mut now = t0;
        let mut seen = (u32::MAX, 0u32);
        for _ in 0..500 {
            s.handle_timeout(now);
            sent(&mut s);
            // Keep the peer alive.
            s.handle_packet(&from_peer(State::Up, OURS), Some(255), now)
                .unwrap();
            sent(&mut s);
            let next = s.poll_timeout().unwrap();
            let pct = ((next - now).as_micros() * 100 / 100_000) as u32;
            seen = (seen.0.min(pct), seen.1.max(pct));
            now = next;
        }
        assert!(seen.0 >= 75 && seen.1 < high, "mult {mult}: {seen:?}");
    }
}

#[test]
fn detection_time_expiry_takes_the_session_down() {
    let t0 = Instant::now();
    let mut s = up_session(t0);
    // The peer's last packet at t0: 3 x 100 ms.
    s.handle_timeout(t0 + ms(299));
    assert_eq!(s.state(), State::Up);
    sent(&mut s);
    s.handle_timeout(t0 + ms(300));
    assert_eq!(
        events(&mut s),
        [(State::Up, State::Down, Diag::ControlDetectionTimeExpired)]
    );
    let down = sent(&mut s);
    assert_eq!(down.last().unwrap().state, State::Down);
    assert_eq!(down.last().unwrap().diag, Diag::ControlDetectionTimeExpired);
    assert_eq!(down.last().unwrap().your_discriminator, 0);
    assert_eq!(s.remote_discriminator(), 0);
    // Back to slow start.
    assert_eq!(down.last().unwrap().desired_min_tx, 1_000_000);
    // The peer answers again: a new handshake.
    s.handle_packet(&from_peer(State::Down, 0), Some(255), t0 + ms(400))
        .unwrap();
    assert_eq!(s.state(), State::Init);
}

#[test]
fn a_peer_that_follows_its_own_slower_timers_sets_the_detection_time() {
    let t0 = Instant::now();
    let mut s = up_session(t0);
    let slow = Packet {
        desired_min_tx: 500_000,
        detect_mult: 5,
        ..from_peer(State::Up, OURS)
    };
    s.handle_packet(&slow, Some(255), t0).unwrap();
    assert_eq!(s.detection_time(), ms(2500));
    s.handle_timeout(t0 + ms(2499));
    assert_eq!(s.state(), State::Up);
    s.handle_timeout(t0 + ms(2500));
    assert_eq!(s.state(), State::Down);
}

#[test]
fn remote_admin_down_is_neighbor_signaled_down() {
    let t0 = Instant::now();
    let mut s = up_session(t0);
    s.handle_packet(&from_peer(State::AdminDown, OURS), Some(255), t0 + ms(50))
        .unwrap();
    assert_eq!(
        events(&mut s),
        [(State::Up, State::Down, Diag::NeighborSignaledSessionDown)]
    );
    assert_eq!(s.remote_state(), State::AdminDown);
    // Still AdminDown: we stay Down (no Init).
    s.handle_packet(&from_peer(State::AdminDown, OURS), Some(255), t0 + ms(60))
        .unwrap();
    assert_eq!(s.state(), State::Down);
    assert!(events(&mut s).is_empty());
}

#[test]
fn peer_down_while_up_is_neighbor_signaled_down() {
    let t0 = Instant::now();
    let mut s = up_session(t0);
    s.handle_packet(&from_peer(State::Down, OURS), Some(255), t0)
        .unwrap();
    assert_eq!(
        events(&mut s),
        [(State::Up, State::Down, Diag::NeighborSignaledSessionDown)]
    );
    assert_eq!(
        sent(&mut s).last().unwrap().diag,
        Diag::NeighborSignaledSessionDown
    );
}

#[test]
fn poll_final_for_slower_timers_waits_for_the_final() {
    let t0 = Instant::now();
    let mut s = up_session(t0);
    let slower = Params {
        min_tx: ms(300),
        min_rx: ms(50),
        ..params()
    };
    s.set_params(slower, t0);
    let p = sent(&mut s);
    assert_eq!(p.len(), 1);
    assert!(p[0].poll);
    assert_eq!(p[0].desired_min_tx, 300_000);
    assert_eq!(p[0].required_min_rx, 50_000);
    // §6.8.3: the old transmit interval and detection time hold until the Final.
    assert_eq!(s.transmit_interval(), ms(100));
    assert_eq!(s.detection_time(), ms(300));
    let fin = Packet {
        final_: true,
        required_min_rx: 100_000,
        ..from_peer(State::Up, OURS)
    };
    s.handle_packet(&fin, Some(255), t0 + ms(10)).unwrap();
    assert!(!s.is_polling());
    assert_eq!(s.transmit_interval(), ms(300));
    // max(our 50 ms, the peer's 100 ms tx) x 3.
    assert_eq!(s.detection_time(), ms(300));
    assert!(events(&mut s).is_empty());
}

#[test]
fn the_peers_poll_is_answered_with_a_final_at_once() {
    let t0 = Instant::now();
    let mut s = up_session(t0);
    let poll = Packet {
        poll: true,
        desired_min_tx: 200_000,
        ..from_peer(State::Up, OURS)
    };
    s.handle_packet(&poll, Some(255), t0 + ms(5)).unwrap();
    let p = sent(&mut s);
    assert_eq!(p.len(), 1);
    assert!(p[0].final_ && !p[0].poll);
    assert_eq!(s.detection_time(), ms(600));
    // Our own poll and their poll at once: the Final goes without P.
    s.set_params(
        Params {
            min_tx: ms(150),
            ..params()
        },
        t0 + ms(6),
    );
    sent(&mut s);
    s.handle_packet(&poll, Some(255), t0 + ms(7)).unwrap();
    let p = sent(&mut s);
    assert!(p[0].final_ && !p[0].poll);
    s.handle_timeout(t0 + ms(500));
    assert!(sent(&mut s).iter().all(|p| p.poll && !p.final_));
}

#[test]
fn bad_packets_are_dropped_and_change_nothing() {
    let t0 = Instant::now();
    let mut s = Session::new(params(), OURS, 7, t0);
    let good = from_peer(State::Down, 0).emit();
    let mut cases: Vec<(&str, Vec<u8>, u8)> = Vec::new();
    let mut b = good;
    b[0] = (2 << 5) | (b[0] & 0x1f);
    cases.push(("version", b.to_vec(), 255));
    let mut b = good;
    b[3] = 20;
    cases.push(("length", b.to_vec(), 255));
    cases.push(("datagram shorter than length", good[..23].to_vec(), 255));
    let mut b = good;
    b[2] = 0;
    cases.push(("detect mult 0", b.to_vec(), 255));
    let mut b = good;
    b[1] |= 0x01;
    cases.push(("multipoint", b.to_vec(), 255));
    let mut b = good;
    b[4..8].copy_from_slice(&[0; 4]);
    cases.push(("my discriminator 0", b.to_vec(), 255));
    cases.push(("TTL 254", good.to_vec(), 254));
    cases.push(("TTL 1", good.to_vec(), 1));
    cases.push((
        "your discriminator of another session",
        from_peer(State::Down, 12345).emit().to_vec(),
        255,
    ));
    cases.push((
        "your discriminator 0 in state Up",
        from_peer(State::Up, 0).emit().to_vec(),
        255,
    ));
    cases.push((
        "your discriminator 0 in state Init",
        from_peer(State::Init, 0).emit().to_vec(),
        255,
    ));
    for (what, bytes, ttl) in cases {
        assert!(receive(&mut s, &bytes, ttl, t0).is_err(), "{what} accepted");
        assert_eq!(s.state(), State::Down, "{what}");
        assert_eq!(s.remote_discriminator(), 0, "{what}");
        assert!(events(&mut s).is_empty(), "{what}");
        assert!(sent(&mut s).is_empty(), "{what}");
    }
    assert_eq!(
        Packet::decode(&good[..10]),
        Err(PacketError::Truncated { received: 10 })
    );
    // The good one goes through.
    receive(&mut s, &good, 255, t0).unwrap();
    assert_eq!(s.state(), State::Init);
}

#[test]
fn multihop_accepts_any_ttl() {
    let t0 = Instant::now();
    let mut s = Session::new(
        Params {
            multihop: true,
            ..params()
        },
        OURS,
        7,
        t0,
    );
    s.handle_packet(&from_peer(State::Down, 0), Some(3), t0)
        .unwrap();
    assert_eq!(s.state(), State::Init);
}

#[test]
fn admin_down_is_sent_at_once_and_ignores_the_peer() {
    let t0 = Instant::now();
    let mut s = up_session(t0);
    s.admin_down(t0);
    let p = sent(&mut s);
    assert_eq!(p.last().unwrap().state, State::AdminDown);
    assert_eq!(p.last().unwrap().diag, Diag::AdministrativelyDown);
    assert_eq!(
        s.handle_packet(&from_peer(State::Up, OURS), Some(255), t0),
        Err(Dropped::AdminDown)
    );
    assert_eq!(s.state(), State::AdminDown);
}

#[test]
fn a_peer_asking_for_no_packets_gets_none() {
    let t0 = Instant::now();
    let mut s = Session::new(params(), OURS, 7, t0);
    let quiet = Packet {
        required_min_rx: 0,
        ..from_peer(State::Down, 0)
    };
    s.handle_packet(&quiet, Some(255), t0).unwrap();
    s.handle_timeout(t0 + ms(5000));
    assert!(sent(&mut s).is_empty());
}

/// FRR 8.4.4's bfdd, as received on a veth pair (see `packet.rs`): its Down brings us to
/// Init, its Init (naming our discriminator 0x01020304) to Up; its slow-start timers (1 s
/// x 3) set the detection time until it polls for faster ones.
#[test]
fn handshake_with_frrs_recorded_packets() {
    let decode = |text: &str| {
        let bytes: Vec<u8> = (0..text.len() / 2)
            .map(|i| u8::from_str_radix(&text[2 * i..2 * i + 2], 16).unwrap())
            .collect();
        Packet::decode(&bytes).unwrap()
    };
    let t0 = Instant::now();
    let mut s = Session::new(params(), 0x0102_0304, 7, t0);
    s.handle_packet(
        &decode("20400318f07263fb00000000000f4240000f42400000c350"),
        Some(255),
        t0,
    )
    .unwrap();
    assert_eq!(s.state(), State::Init);
    assert_eq!(s.remote_discriminator(), 0xf072_63fb);
    s.handle_packet(
        &decode("20800318f07263fb01020304000f4240000f42400000c350"),
        Some(255),
        t0 + ms(900),
    )
    .unwrap();
    assert_eq!(s.state(), State::Up);
    assert_eq!(s.detection_time(), ms(3000));
    // Its Required Min RX is still 1 s: we send no faster than that.
    assert_eq!(s.transmit_interval(), ms(1000));
}
