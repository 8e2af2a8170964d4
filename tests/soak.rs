//! `make soak`: a bounded soak run (SOAK_SECONDS, default 600) against a real BIRD. In a loop:
//! route reloads, a peer that stops answering (SIGSTOP past the hold time), BIRD restarts,
//! and a hostile peer sending every malformed test vector over real sessions. After every
//! step BIRD's tables must equal the configuration; at the end every session is up, no panic
//! was logged, and bgpinject's memory is back near its starting level.
//!
//! Ignored in `make test` (it runs for minutes); `make soak` runs it with `--ignored`.

mod harness;

use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bgpinject::wire::attribute::AttributeContext;
use bgpinject::wire::capability::Capability;
use bgpinject::wire::family::Family;
use bgpinject::wire::message::Message;
use bgpinject::wire::open::Open;
use harness::bgpinject::Bgpinject;
use harness::bird::{BgpProtocol, Bird, BirdBuilder};
use harness::wait_for;

const BIN: &str = env!("CARGO_BIN_EXE_bgpinject");
const BIRD_PORT: u16 = 17990;
const HOSTILE_PORT: u16 = 17991;
/// (BIRD's address, ours, protocol name)
const PEERS: [(&str, &str, &str); 3] = [
    ("127.0.0.91", "127.0.0.92", "soaka"),
    ("127.0.0.93", "127.0.0.94", "soakb"),
    ("127.0.0.95", "127.0.0.96", "soakc"),
];

/// The routes of generation `g` for peer `p`: the set shifts and the MEDs change, so each
/// reload withdraws, announces and replaces.
fn routes(g: u32, p: u32) -> Vec<(String, u32)> {
    (0..300u32)
        .filter(|i| !(i + g).is_multiple_of(5))
        .map(|i| {
            let addr = std::net::Ipv4Addr::from(0x0A00_0000u32 + p * 65536 + i * 4);
            (format!("{addr}/30"), (i + g) % 11)
        })
        .collect()
}

fn config(g: u32) -> String {
    let mut c = String::new();
    for (p, (bird, ours, _)) in PEERS.iter().enumerate() {
        let _ = writeln!(
            c,
            "neighbor {bird} {{ router-id 192.0.2.10; local-address {ours}; local-as 65000; peer-as 65001; hold-time 6; connect {BIRD_PORT}; graceful-restart 30; static {{"
        );
        for (prefix, med) in routes(g, p as u32) {
            let _ = writeln!(c, "  route {prefix} next-hop 192.0.2.10 med {med};");
        }
        c.push_str("} }\n");
    }
    let _ = writeln!(
        c,
        "neighbor 127.0.0.97 {{ router-id 192.0.2.10; local-address 127.0.0.98; local-as 65000; peer-as 65001; hold-time 30; connect {HOSTILE_PORT}; static {{ route 198.51.100.0/24 next-hop 192.0.2.10; }} }}"
    );
    c
}

fn start_bird() -> Bird {
    let mut b = BirdBuilder::new("192.0.2.1", "127.0.0.91", BIRD_PORT);
    for (bird, ours, name) in PEERS {
        b = b.bgp(
            BgpProtocol::new(name, ours, 179, 65001, 65000)
                .local_address(bird)
                .passive(true)
                .hold_time(6)
                .graceful_restart(true)
                .extra("    error wait time 1, 5;\n"),
        );
    }
    b.start()
}

/// Whether BIRD's table equals generation `g`, for every peer.
fn converged(bird: &Bird, g: u32) -> bool {
    PEERS.iter().enumerate().all(|(p, (_, _, name))| {
        let mut want: Vec<(String, Option<u32>)> = routes(g, p as u32)
            .into_iter()
            .map(|(prefix, med)| (prefix, Some(med)))
            .collect();
        want.sort();
        let mut got: Vec<(String, Option<u32>)> = bird
            .routes_from("master4", name)
            .into_iter()
            .map(|r| (r.prefix, r.med))
            .collect();
        got.sort();
        bird.protocol_state(name) == "Established" && got == want
    })
}

fn rss_kb(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

fn bird_pid(bird: &Bird) -> Option<u32> {
    std::fs::read_to_string(bird.dir().join("bird.pid"))
        .ok()
        .and_then(|p| p.trim().parse::<u32>().ok())
}

fn signal(pid: u32, sig: libc::c_int) {
    // SAFETY: kill(2) on a process this test started.
    unsafe {
        libc::kill(pid as libc::pid_t, sig);
    }
}

/// Accepts bgpinject's sessions on the hostile port and answers each with the next malformed
/// vector after the OPEN exchange, until `stop`.
fn hostile_peer(stop: Arc<AtomicBool>, sent: Arc<AtomicUsize>) -> std::thread::JoinHandle<()> {
    let vectors: Vec<Vec<u8>> = bgpinject::testvec::load_tree(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("test-vectors/malformed"),
    )
    .expect("malformed vectors")
    .into_iter()
    .map(|(_, v)| v.bytes)
    .collect();
    let listener = TcpListener::bind(("127.0.0.97", HOSTILE_PORT)).expect("bind hostile peer");
    listener.set_nonblocking(true).unwrap();
    std::thread::spawn(move || {
        let ctx = AttributeContext {
            four_octet_as: true,
        };
        let open = Message::Open(Open {
            version: 4,
            my_as: 65001,
            hold_time: 30,
            router_id: "192.0.2.97".parse().unwrap(),
            capabilities: vec![
                Capability::Multiprotocol(Family::IPV4_UNICAST),
                Capability::FourOctetAs(65001),
            ],
            parameter_layout: Vec::new(),
            extended_parameters: false,
        })
        .encode(ctx);
        let mut i = 0;
        while !stop.load(Ordering::Relaxed) {
            let Ok((mut s, _)) = listener.accept() else {
                std::thread::sleep(Duration::from_millis(50));
                continue;
            };
            let _ = s.set_nonblocking(false);
            let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf); // bgpinject's OPEN
            let _ = s.write_all(&open);
            let _ = s.write_all(&Message::Keepalive.encode(ctx));
            std::thread::sleep(Duration::from_millis(100));
            let _ = s.write_all(&vectors[i % vectors.len()]);
            sent.fetch_add(1, Ordering::Relaxed);
            i += 1;
            // Drain until bgpinject closes or the read times out.
            while matches!(s.read(&mut buf), Ok(n) if n > 0) {}
        }
    })
}

#[test]
#[ignore = "minutes long: run by `make soak`"]
fn soak() {
    let seconds: u64 = std::env::var("SOAK_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(600);
    let converge = Duration::from_secs(90);
    let mut bird = start_bird();
    let stop = Arc::new(AtomicBool::new(false));
    let hostile_sent = Arc::new(AtomicUsize::new(0));
    let hostile = hostile_peer(stop.clone(), hostile_sent.clone());

    let mut g = 0;
    let inj = Bgpinject::start(BIN, &config(g), "info");
    let conf_path = inj.dir().join("bgpinject.conf");
    let pid = inj.pid().expect("running");
    assert!(
        wait_for(converge, || converged(&bird, g).then_some(())).is_some(),
        "initial table: {}",
        inj.log()
    );
    let rss_start = rss_kb(pid);
    let started = Instant::now();
    let (mut reloads, mut stops, mut restarts) = (0, 0, 0);
    let mut step = 0;
    while started.elapsed() < Duration::from_secs(seconds) {
        match step % 4 {
            0 | 2 => {
                g += 1;
                std::fs::write(&conf_path, config(g)).unwrap();
                signal(pid, libc::SIGHUP);
                reloads += 1;
            }
            1 => {
                // Past the hold time: bgpinject must notice (4/0) and come back after.
                if let Some(bp) = bird_pid(&bird) {
                    signal(bp, libc::SIGSTOP);
                    std::thread::sleep(Duration::from_secs(8));
                    signal(bp, libc::SIGCONT);
                }
                stops += 1;
            }
            _ => {
                bird.restart();
                restarts += 1;
            }
        }
        step += 1;
        assert!(
            wait_for(converge, || converged(&bird, g).then_some(())).is_some(),
            "step {step}: BIRD's table is not the configuration (generation {g});\nlog tail:\n{}",
            inj.log()
                .lines()
                .rev()
                .take(30)
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
    stop.store(true, Ordering::Relaxed);
    let _ = hostile.join();
    let rss_end = rss_kb(pid);
    let log = inj.log();
    println!(
        "soak: {} s, {step} steps ({reloads} reloads, {stops} peer stops, {restarts} BIRD restarts), \
         {} malformed messages, RSS {rss_start} kB -> {rss_end} kB",
        started.elapsed().as_secs(),
        hostile_sent.load(Ordering::Relaxed)
    );
    assert!(
        !log.contains("panicked") && !log.contains("internal error"),
        "{log}"
    );
    assert!(hostile_sent.load(Ordering::Relaxed) > 0);
    // Memory back near its starting level: no growth with the number of steps.
    assert!(
        rss_end <= rss_start + rss_start / 2 + 2048,
        "RSS grew from {rss_start} kB to {rss_end} kB"
    );
}
