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
use harness::{read_message, wait_for};

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
    let (mut s, _) = wait_for(Duration::from_secs(10), || listener.accept().ok())
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
    let listener = TcpListener::bind("127.0.15.3:17916").unwrap();
    // A small window, so that the table cannot all be written to a peer that reads nothing.
    set_rcvbuf(listener.as_raw_fd(), 4096);
    let inj = Bgpinject::start(
        BIN,
        &config("127.0.15.3", "127.0.15.4", 17916, 9, 1_000_000),
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
