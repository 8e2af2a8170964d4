//! A bounded mutation fuzzer on stable Rust: every test vector is mutated (bit flips,
//! interesting bytes, truncation, growth, length-field changes, insertions, deletions) with
//! a fixed seed. Decoding must never panic, and whatever decodes must survive
//! decode -> encode -> decode unchanged (and the second encoding equals the first).
//! The cargo-fuzz targets in fuzz/ do the same without bounds on nightly.

use std::path::Path;

use bgpinject::testvec;
use bgpinject::wire::attribute::AttributeContext;
use bgpinject::wire::family::{Family, FamilySet};
use bgpinject::wire::message::{DecodeContext, MAX_EXTENDED_MESSAGE_LEN, MAX_MESSAGE_LEN, Message};

/// Defaults; `FUZZ_ITERATIONS` and `FUZZ_SEED` in the environment override them for a
/// longer local run.
const ITERATIONS: usize = 200_000;
const SEED: u64 = 0x5EED_B6B0_1A5E_0001;

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// xorshift64*: small, deterministic, good enough to pick mutations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

const INTERESTING: [u8; 10] = [0x00, 0x01, 0x02, 0x04, 0x10, 0x20, 0x7F, 0x80, 0xFE, 0xFF];

fn mutate(rng: &mut Rng, input: &[u8]) -> Vec<u8> {
    let mut m = input.to_vec();
    for _ in 0..1 + rng.below(3) {
        let pos = rng.below(m.len());
        match rng.below(8) {
            0 if !m.is_empty() => m[pos] ^= 1 << rng.below(8),
            1 if !m.is_empty() => m[pos] = INTERESTING[rng.below(INTERESTING.len())],
            2 => m.truncate(rng.below(m.len() + 1)),
            3 => {
                let n = 1 + rng.below(8);
                (0..n).for_each(|_| m.push(rng.next() as u8));
            }
            4 if !m.is_empty() => m[pos] = m[pos].wrapping_add(1),
            5 if !m.is_empty() => m[pos] = m[pos].wrapping_sub(1),
            6 => m.insert(pos.min(m.len()), rng.next() as u8),
            7 if !m.is_empty() => {
                m.remove(pos);
            }
            _ => {}
        }
    }
    // Most of the time keep the header length true, so mutations reach the body decoders.
    if m.len() >= 18 && rng.below(4) != 0 {
        let len = (m.len().min(u16::MAX as usize) as u16).to_be_bytes();
        m[16..18].copy_from_slice(&len);
    }
    m
}

fn contexts() -> [DecodeContext; 4] {
    let with = |four_octet_as, max_message_len| DecodeContext {
        attributes: AttributeContext { four_octet_as },
        max_message_len,
        add_path: FamilySet::default(),
    };
    // RFC 7911 receive side in every family that has path identifiers.
    let add_path = DecodeContext {
        add_path: [
            "ipv4-unicast",
            "ipv6-unicast",
            "ipv4-multicast",
            "ipv4-labeled-unicast",
            "ipv4-mpls-vpn",
            "ipv6-mpls-vpn",
        ]
        .iter()
        .filter_map(|n| Family::from_name(n))
        .collect(),
        ..with(true, MAX_MESSAGE_LEN)
    };
    [
        with(true, MAX_MESSAGE_LEN),
        with(false, MAX_MESSAGE_LEN),
        with(true, MAX_EXTENDED_MESSAGE_LEN),
        add_path,
    ]
}

/// Panics (naming the input) when a decoded message does not survive a round trip.
fn check_round_trip(input: &[u8], ctx: DecodeContext) {
    let Ok((msg, _problems)) = Message::decode(input, ctx) else {
        return;
    };
    let hex: String = input.iter().map(|b| format!("{b:02x}")).collect();
    let bytes = msg.encode(ctx.attributes);
    let (back, _) = Message::decode(&bytes, ctx)
        .unwrap_or_else(|e| panic!("re-encoding of {hex} does not decode: {e}"));
    assert_eq!(back, msg, "decode(encode(decode({hex}))) differs");
    assert_eq!(
        back.encode(ctx.attributes),
        bytes,
        "second encoding of {hex} differs"
    );
}

#[test]
fn mutated_vectors_never_panic_and_round_trip() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("test-vectors");
    let corpus: Vec<Vec<u8>> = testvec::load_tree(&root)
        .unwrap_or_else(|e| panic!("{e}"))
        .into_iter()
        .map(|(_, v)| v.bytes)
        .collect();
    assert!(!corpus.is_empty());
    let iterations = env_or("FUZZ_ITERATIONS", ITERATIONS);
    let mut rng = Rng(env_or("FUZZ_SEED", SEED));
    let mut decoded = 0usize;
    for i in 0..iterations {
        let input = mutate(&mut rng, &corpus[i % corpus.len()]);
        let ctx = contexts()[rng.below(4)];
        if Message::decode(&input, ctx).is_ok() {
            decoded += 1;
        }
        check_round_trip(&input, ctx);
    }
    // The mutations must not be so wild that nothing gets past the header.
    assert!(
        decoded > iterations / 10,
        "only {decoded} of {iterations} decoded"
    );
    println!("{iterations} mutations, {decoded} decoded");
}

#[test]
fn every_vector_round_trips_in_every_context() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("test-vectors");
    for (_, v) in testvec::load_tree(&root).unwrap_or_else(|e| panic!("{e}")) {
        for ctx in contexts() {
            check_round_trip(&v.bytes, ctx);
        }
    }
}

/// The same for the BFD codec and session (`fuzz/fuzz_targets/bfd_packet.rs`): a packet in
/// each state, mutated; what decodes re-encodes the same and never panics a session.
#[test]
fn mutated_bfd_packets_never_panic_and_round_trip() {
    use bgpinject::bfd::packet::{Diag, Packet, State};
    use bgpinject::bfd::session::{Params, Session};
    use std::time::{Duration, Instant};
    let seeds: Vec<[u8; 24]> = [State::AdminDown, State::Down, State::Init, State::Up]
        .into_iter()
        .map(|state| {
            Packet {
                diag: Diag::None,
                state,
                poll: state == State::Up,
                final_: false,
                control_plane_independent: false,
                demand: false,
                detect_mult: 3,
                my_discriminator: 0x1234_5678,
                your_discriminator: if state == State::Down { 0 } else { 1 },
                desired_min_tx: 100_000,
                required_min_rx: 100_000,
                required_min_echo_rx: 0,
            }
            .emit()
        })
        .collect();
    let iterations = env_or("FUZZ_ITERATIONS", ITERATIONS) / 4;
    let mut rng = Rng(env_or("FUZZ_SEED", SEED));
    let now = Instant::now();
    let params = Params {
        min_tx: Duration::from_millis(100),
        min_rx: Duration::from_millis(100),
        multiplier: 3,
        multihop: false,
    };
    let mut session = Session::new(params, 1, 1, now);
    let mut decoded = 0usize;
    for i in 0..iterations {
        let input = mutate(&mut rng, &seeds[i % seeds.len()]);
        if let Ok(p) = Packet::decode(&input) {
            decoded += 1;
            assert_eq!(Packet::decode(&p.emit()), Ok(p));
            let ttl = [255u8, 254, 1][rng.below(3)];
            let _ = session.handle_packet(&p, Some(ttl), now + Duration::from_millis(i as u64));
            session.handle_timeout(now + Duration::from_millis(i as u64));
            while session.poll_transmit().is_some() {}
            while session.poll_event().is_some() {}
        }
    }
    assert!(
        decoded > iterations / 10,
        "only {decoded} of {iterations} decoded"
    );
    println!("{iterations} BFD mutations, {decoded} decoded");
}
