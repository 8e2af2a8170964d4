//! A configured peer that attacks the session: bursts of ROUTE-REFRESH, a peer that freezes
//! while a table is queued, a peer that floods while bgpinject waits to write to it. The peer
//! is this test's own socket on 127.0.15.0/24; every test also fails when bgpinject logs a
//! bug or a session goes down that the test did not take down.

mod harness;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use harness::bgpinject::Bgpinject;
use harness::{read_message, rerun_in_small_buffer_namespace, wait_for};

use bgpinject::wire::attribute::AttributeContext;
use bgpinject::wire::capability::Capability;
use bgpinject::wire::family::Family;
use bgpinject::wire::message::{Message, RouteRefresh};
use bgpinject::wire::open::Open;
use bgpinject::wire::update::Update;

const BIN: &str = env!("CARGO_BIN_EXE_bgpinject");
const CTX: AttributeContext = AttributeContext {
    four_octet_as: true,
};

fn config(peer: &str, local: &str, port: u16, hold: u16, routes: u32) -> String {
    let mut body = String::new();
    for i in 0..routes {
        let addr = std::net::Ipv4Addr::from(0x0A00_0000u32 + i);
        body.push_str(&format!("        route {addr}/32 next-hop 192.0.2.10;\n"));
    }
    format!(
        "neighbor {peer} {{
    router-id 192.0.2.10; local-address {local}; local-as 65000; peer-as 65001;
    connect {port}; hold-time {hold};
    static {{
{body}    }}
}}
"
    )
}

fn set_rcvbuf(fd: i32, value: libc::c_int) {
    // SAFETY: setsockopt with a c_int that lives for the call.
    let rc = unsafe {
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_RCVBUF,
            (&value as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    assert_eq!(rc, 0, "{}", std::io::Error::last_os_error());
}

/// Accepts bgpinject's connection (within 10 s) and exchanges OPENs and KEEPALIVEs with
/// `hold` and, with `enhanced`, the RFC 7313 capability.
fn establish(listener: &TcpListener, hold: u16, enhanced: bool) -> TcpStream {
    listener.set_nonblocking(true).unwrap();
    let (mut s, _) = wait_for(Duration::from_secs(60), || listener.accept().ok())
        .expect("bgpinject did not connect");
    s.set_nonblocking(false).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.set_write_timeout(Some(Duration::from_secs(30))).unwrap();
    assert!(matches!(read_message(&mut s), Some(Message::Open(_))));
    let mut capabilities = vec![
        Capability::Multiprotocol(Family::IPV4_UNICAST),
        Capability::RouteRefresh,
        Capability::FourOctetAs(65001),
    ];
    if enhanced {
        capabilities.push(Capability::EnhancedRouteRefresh);
    }
    let open = Message::Open(Open {
        version: 4,
        my_as: 65001,
        hold_time: hold,
        router_id: "192.0.2.1".parse().unwrap(),
        capabilities,
        parameter_layout: Vec::new(),
        extended_parameters: false,
    });
    s.write_all(&open.encode(CTX)).unwrap();
    s.write_all(&Message::Keepalive.encode(CTX)).unwrap();
    s
}

/// Reads until End-of-RIB; returns the prefixes announced before it.
fn read_table(s: &mut TcpStream) -> usize {
    let mut announced = 0;
    loop {
        match read_message(s) {
            Some(Message::Update(u)) if u.end_of_rib().is_some() => return announced,
            Some(Message::Update(u)) => announced += u.nlri.len(),
            Some(Message::Notification(n)) => panic!("NOTIFICATION {n}"),
            Some(_) => {}
            None => panic!("no End-of-RIB"),
        }
    }
}

fn refresh_request() -> Vec<u8> {
    Message::RouteRefresh(RouteRefresh {
        family: Family::IPV4_UNICAST,
        subtype: 0,
    })
    .encode(CTX)
}

/// Reads until bgpinject has been quiet for 2 s; returns (re-sends bracketed by BoRR/EoRR,
/// prefixes announced in total).
fn count_resends(s: &mut TcpStream) -> (usize, usize) {
    s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    let (mut borr, mut eorr, mut announced) = (0, 0, 0);
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        match read_message(s) {
            Some(Message::RouteRefresh(r)) if r.subtype == 1 => borr += 1,
            Some(Message::RouteRefresh(r)) if r.subtype == 2 => eorr += 1,
            Some(Message::Update(u)) => announced += u.nlri.len(),
            Some(Message::Notification(n)) => panic!("NOTIFICATION {n}"),
            Some(_) => {}
            None => break,
        }
    }
    assert_eq!(borr, eorr, "every BoRR has its EoRR");
    (borr, announced)
}

#[test]
fn bursts_of_300_and_10000_route_refresh_cost_at_most_two_resends() {
    let listener = TcpListener::bind("127.0.15.1:17915").unwrap();
    let mut inj = Bgpinject::start(
        BIN,
        &config("127.0.15.1", "127.0.15.2", 17915, 30, 1000),
        "info",
    );
    let mut s = establish(&listener, 30, true);
    assert_eq!(read_table(&mut s), 1000);
    for burst in [300, 10_000] {
        let bytes: Vec<u8> = (0..burst).flat_map(|_| refresh_request()).collect();
        s.write_all(&bytes).unwrap();
        let (resends, announced) = count_resends(&mut s);
        println!("{burst} ROUTE-REFRESH in one write: {resends} re-sends, {announced} routes");
        assert!((1..=2).contains(&resends), "{burst}: {resends} re-sends");
        assert_eq!(announced, resends * 1000, "each re-send is the whole table");
        assert!(inj.exited().is_none(), "bgpinject died: {}", inj.log());
    }
    // Still Established: a KEEPALIVE is accepted and nothing closes.
    s.write_all(&Message::Keepalive.encode(CTX)).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    assert!(inj.exited().is_none());
    inj.assert_no_resets(1);
    let log = inj.log();
    assert!(!log.contains("stack overflow"), "{log}");
}

#[test]
fn a_frozen_peer_with_hold_time_9_is_dropped_within_10_s() {
    if rerun_in_small_buffer_namespace("a_frozen_peer_with_hold_time_9_is_dropped_within_10_s") {
        return;
    }
    let listener = TcpListener::bind("127.0.15.3:17916").unwrap();
    // A small window, so that the table cannot all be written to a peer that reads nothing.
    set_rcvbuf(listener.as_raw_fd(), 4096);
    let inj = Bgpinject::start(
        BIN,
        &config("127.0.15.3", "127.0.15.4", 17916, 9, 30_000),
        "info",
    );
    let _s = establish(&listener, 9, false);
    // From now on the peer reads nothing and sends nothing.
    let frozen = Instant::now();
    let down = wait_for(Duration::from_secs(15), || {
        inj.log()
            .contains(": session down:")
            .then(|| frozen.elapsed())
    })
    .unwrap_or_else(|| panic!("never dropped: {}", inj.log()));
    println!("frozen peer dropped after {:.1} s", down.as_secs_f64());
    let log = inj.log();
    assert!(log.contains("Hold Timer Expired"), "{log}");
    assert!(down <= Duration::from_secs(10), "dropped after {down:?}");
    // It is closed (what it could not write is logged), not stuck in a write.
    wait_for(Duration::from_secs(2), || {
        inj.log().contains("bytes unwritten").then_some(())
    })
    .unwrap_or_else(|| panic!("{}", inj.log()));
}

#[test]
fn a_peer_that_sends_3_mb_while_bgpinject_waits_to_write_keeps_its_session() {
    if rerun_in_small_buffer_namespace(
        "a_peer_that_sends_3_mb_while_bgpinject_waits_to_write_keeps_its_session",
    ) {
        return;
    }
    let listener = TcpListener::bind("127.0.15.5:17917").unwrap();
    set_rcvbuf(listener.as_raw_fd(), 4096);
    let inj = Bgpinject::start(
        BIN,
        &config("127.0.15.5", "127.0.15.6", 17917, 30, 30_000),
        "info",
    );
    let mut s = establish(&listener, 30, false);
    // bgpinject has a table queued that we do not read; meanwhile we send 3 MB of UPDATEs
    // (End-of-RIB markers: valid, and nothing to learn).
    std::thread::sleep(Duration::from_millis(500));
    let eor = Message::Update(Update::end_of_rib_marker(Family::IPV4_UNICAST)).encode(CTX);
    let flood: Vec<u8> = (0..3_000_000 / eor.len())
        .flat_map(|_| eor.clone())
        .collect();
    let started = Instant::now();
    s.write_all(&flood).expect("bgpinject stopped reading");
    println!(
        "3 MB sent in {:.2} s while bgpinject had a table queued",
        started.elapsed().as_secs_f64()
    );
    // Now read the whole table: the session is intact, no NOTIFICATION.
    assert_eq!(read_table(&mut s), 30_000);
    let mut rest = [0u8; 1];
    s.set_nonblocking(true).unwrap();
    assert!(
        !matches!(s.read(&mut rest), Ok(0)),
        "bgpinject closed: {}",
        inj.log()
    );
    inj.assert_no_resets(1);
}

/// What a peer that stops reading saw: each connection bgpinject opened to it, and whether
/// the one before was closed by then.
struct StuckPeer {
    seen: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl StuckPeer {
    /// Listens on `addr`; establishes the first session, then reads nothing more.
    fn start(addr: &str) -> StuckPeer {
        use std::sync::atomic::Ordering;
        let listener = TcpListener::bind(addr).unwrap();
        set_rcvbuf(listener.as_raw_fd(), 4096);
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (seen2, stop2) = (seen.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            let mut open: Option<TcpStream> = Some(establish(&listener, 30, false));
            seen2.lock().unwrap().push("established".into());
            let deadline = Instant::now() + Duration::from_secs(120);
            while !stop2.load(Ordering::SeqCst) && Instant::now() < deadline {
                let Ok((next, _)) = listener.accept() else {
                    std::thread::sleep(Duration::from_millis(20));
                    continue;
                };
                // A second connection: the first must already be closed by bgpinject (all
                // it wrote, then the end of the stream).
                let closed = open.take().is_none_or(|mut first| {
                    first.set_nonblocking(false).unwrap();
                    first
                        .set_read_timeout(Some(Duration::from_secs(3)))
                        .unwrap();
                    let mut buf = vec![0u8; 1 << 16];
                    loop {
                        match first.read(&mut buf) {
                            Ok(0) => break true,
                            Ok(_) => continue,
                            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {
                                break true;
                            }
                            Err(_) => break false,
                        }
                    }
                });
                seen2.lock().unwrap().push(if closed {
                    "second connection after the first closed".into()
                } else {
                    "SECOND CONNECTION WHILE THE FIRST WAS OPEN".into()
                });
                open = Some(next);
            }
        });
        StuckPeer {
            seen,
            stop,
            thread: Some(thread),
        }
    }

    fn seen(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }
}

impl Drop for StuckPeer {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn stuck_config(hold: u16, routes: u32, extra_route: bool) -> String {
    let mut body = String::new();
    for i in 0..routes {
        let addr = std::net::Ipv4Addr::from(0x0A00_0000u32 + i);
        body.push_str(&format!(
            "            route {addr}/32 next-hop 192.0.2.10;\n"
        ));
    }
    let mut c = format!(
        "template {{ neighbor stuck {{
    router-id 192.0.2.10; local-as 65000; peer-as 65001; hold-time {hold};
    static {{
{body}        }}
}} }}
"
    );
    for i in 0..4 {
        c.push_str(&format!(
            "neighbor 127.0.15.{} {{ inherit stuck; local-address 127.0.15.{}; connect {}; }}\n",
            10 + i,
            20 + i,
            17920 + i
        ));
    }
    let extra = if extra_route {
        "route 198.51.100.77/32 next-hop 192.0.2.10;"
    } else {
        ""
    };
    c.push_str(&format!(
        "neighbor 127.0.15.14 {{
    router-id 192.0.2.10; local-address 127.0.15.24; local-as 65000; peer-as 65001;
    connect 17924; hold-time 30;
    static {{ route 198.51.100.1/32 next-hop 192.0.2.10; {extra} }}
}}
"
    ));
    c
}

#[test]
fn four_stuck_peers_do_not_delay_a_reload_for_a_healthy_one() {
    if rerun_in_small_buffer_namespace("four_stuck_peers_do_not_delay_a_reload_for_a_healthy_one") {
        return;
    }
    let stuck: Vec<StuckPeer> = (0..4)
        .map(|i| StuckPeer::start(&format!("127.0.15.{}:{}", 10 + i, 17920 + i)))
        .collect();
    let healthy = TcpListener::bind("127.0.15.14:17924").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("ctl.sock");
    let socket = socket.to_str().unwrap().to_string();
    let inj = Bgpinject::start_with_args(
        BIN,
        &stuck_config(30, 30_000, false),
        "info",
        &["--control", &socket],
    );
    let mut s = establish(&healthy, 30, false);
    assert_eq!(read_table(&mut s), 1);
    // Every stuck peer has its session and a table it does not read.
    wait_for(Duration::from_secs(60), || {
        (inj.log().matches("sending 30000 announcements").count() == 4).then_some(())
    })
    .unwrap_or_else(|| panic!("tables not queued: {}", inj.log()));
    std::thread::sleep(Duration::from_secs(1));
    for p in &stuck {
        assert_eq!(p.seen(), vec!["established".to_string()]);
    }
    // The reload: the stuck neighbors' hold time changes (their sessions restart), the
    // healthy neighbor gets one more route.
    std::fs::write(&inj.config, stuck_config(40, 30_000, true)).unwrap();
    let signalled = Instant::now();
    // SAFETY: kill(2) on the child we started.
    unsafe {
        libc::kill(inj.pid().unwrap() as libc::pid_t, libc::SIGHUP);
    }
    // The control socket answers meanwhile.
    let ctl = std::thread::spawn(move || {
        let mut slowest = Duration::ZERO;
        for _ in 0..5 {
            let t = Instant::now();
            let out = std::process::Command::new(BIN)
                .args(["ctl", "--socket", &socket, "show", "neighbor", "summary"])
                .output()
                .unwrap();
            assert!(out.status.success(), "{out:?}");
            slowest = slowest.max(t.elapsed());
            std::thread::sleep(Duration::from_millis(200));
        }
        slowest
    });
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let arrived = loop {
        match read_message(&mut s) {
            Some(Message::Update(u))
                if u.nlri.iter().any(|p| p.to_string() == "198.51.100.77/32") =>
            {
                break signalled.elapsed();
            }
            Some(Message::Notification(n)) => panic!("NOTIFICATION {n}"),
            Some(_) => {}
            None => panic!("the healthy neighbor never got its route: {}", inj.log()),
        }
    };
    let slowest = ctl.join().unwrap();
    println!(
        "healthy neighbor got its change {:.0} ms after SIGHUP; slowest control answer {:.0} ms",
        arrived.as_secs_f64() * 1000.0,
        slowest.as_secs_f64() * 1000.0
    );
    // Not a speed target: a reload or a control answer held up by the stuck peers would wait for
    // their hold time (30 s) or their unread 30,000 routes; 5 s is far below that and leaves a
    // loaded test machine its room (a debug build took 1.5 s beside other tests).
    assert!(arrived < Duration::from_secs(5), "{arrived:?}");
    assert!(slowest < Duration::from_secs(5), "{slowest:?}");
    // Every stuck peer gets its new session only after the old one is closed.
    wait_for(Duration::from_secs(20), || {
        stuck.iter().all(|p| p.seen().len() >= 2).then_some(())
    })
    .unwrap_or_else(|| panic!("no new sessions: {}", inj.log()));
    for p in &stuck {
        assert!(
            p.seen().iter().all(|e| !e.starts_with("SECOND")),
            "{:?}\n{}",
            p.seen(),
            inj.log()
        );
    }
    let log = inj.log();
    // Their tables were still being written when the reload stopped them.
    assert_eq!(log.matches("bytes unwritten").count(), 4, "{log}");
    assert!(
        !log.contains("neighbor 127.0.15.14: session down"),
        "the healthy session went down: {log}"
    );
}
