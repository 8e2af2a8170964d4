//! A hostile peer on loopback: after a normal OPEN exchange it sends malformed messages to a
//! running bgpinject. Each must get the RFC's answer (NOTIFICATION with the right code, or
//! RFC 7606 treat-as-withdraw with the session kept), be logged, and bgpinject must reconnect
//! and never panic.

mod harness;

use harness::read_message;

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bgpinject::wire::attribute::AttributeContext;
use bgpinject::wire::capability::Capability;
use bgpinject::wire::family::Family;
use bgpinject::wire::message::{Message, RouteRefresh};
use bgpinject::wire::open::Open;

const CTX: AttributeContext = AttributeContext {
    four_octet_as: true,
};

struct Injector {
    child: Child,
    _dir: tempfile::TempDir,
    log: std::path::PathBuf,
}

impl Injector {
    fn start(port: u16, local: &str) -> Injector {
        Injector::start_with(port, local, &[])
    }

    fn start_with(port: u16, local: &str, args: &[&str]) -> Injector {
        let dir = tempfile::tempdir().unwrap();
        let conf = dir.path().join("inject.conf");
        std::fs::write(
            &conf,
            format!(
                "neighbor 127.0.0.1 {{
                    router-id 192.0.2.10; local-address {local}; local-as 65000; peer-as 65001;
                    hold-time 30; connect {port};
                    static {{ route 198.51.100.0/24 next-hop 192.0.2.10; }}
                }}"
            ),
        )
        .unwrap();
        let log = dir.path().join("log");
        let child = Command::new(env!("CARGO_BIN_EXE_bgpinject"))
            .arg("--log-level")
            .arg("debug")
            .args(args)
            .arg(&conf)
            .stderr(Stdio::from(std::fs::File::create(&log).unwrap()))
            .spawn()
            .unwrap();
        Injector {
            child,
            _dir: dir,
            log,
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Injector {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Accepts bgpinject's connection and brings the session up; returns the stream once the
/// End-of-RIB for IPv4 has arrived.
fn establish(listener: &TcpListener) -> TcpStream {
    listener.set_nonblocking(false).unwrap();
    let (mut s, _) = listener.accept().unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    assert!(matches!(read_message(&mut s), Some(Message::Open(_))));
    let open = Message::Open(Open {
        version: 4,
        my_as: 65001,
        hold_time: 30,
        router_id: "192.0.2.1".parse().unwrap(),
        capabilities: vec![
            Capability::Multiprotocol(Family::IPV4_UNICAST),
            Capability::RouteRefresh,
            Capability::FourOctetAs(65001),
        ],
        parameter_layout: Vec::new(),
        extended_parameters: false,
    });
    s.write_all(&open.encode(CTX)).unwrap();
    s.write_all(&Message::Keepalive.encode(CTX)).unwrap();
    for _ in 0..10 {
        if let Some(Message::Update(u)) = read_message(&mut s)
            && u.end_of_rib().is_some()
        {
            return s;
        }
    }
    panic!("no End-of-RIB from bgpinject");
}

/// Reads until a NOTIFICATION and returns its (code, subcode).
fn expect_notification(s: &mut TcpStream) -> (u8, u8) {
    for _ in 0..20 {
        match read_message(s) {
            Some(Message::Notification(n)) => return (n.code, n.subcode),
            Some(_) => continue,
            None => break,
        }
    }
    panic!("no NOTIFICATION received");
}

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.chars().filter(|c| c.is_ascii_hexdigit()).collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// An UPDATE with this body (hex), length computed.
fn update(body: &str) -> Vec<u8> {
    let body = hex(body);
    let mut m = vec![0xFF; 16];
    m.extend_from_slice(&((19 + body.len()) as u16).to_be_bytes());
    m.push(2);
    m.extend_from_slice(&body);
    m
}

#[test]
fn malformed_messages_get_the_rfc_answer_and_bgpinject_reconnects() {
    let listener = TcpListener::bind("127.0.0.1:17981").unwrap();
    let inj = Injector::start(17981, "127.0.0.31");
    // (what is sent after the session is up, the NOTIFICATION expected)
    let cases: Vec<(&str, Vec<u8>, (u8, u8))> = vec![
        (
            "bad marker",
            hex("00ff ffffffffffffffffffffffffffff 0013 04"),
            (1, 1),
        ),
        (
            "length 65535",
            hex("ffffffffffffffffffffffffffffffff ffff 02"),
            (1, 2),
        ),
        (
            "unknown type 9",
            hex("ffffffffffffffffffffffffffffffff 0013 09"),
            (1, 3),
        ),
        (
            "duplicate MP_REACH",
            update("0000 000c 800f03000201 800f03000201"),
            (3, 1),
        ),
        ("prefix length 33", update("0000 0000 21c6336401"), (3, 10)),
        ("withdrawn length overrun", update("00ff 0000"), (3, 1)),
        (
            "unrecognized well-known attribute",
            update("0000 0007 40010100 406300"),
            (3, 2),
        ),
        (
            "OPEN in Established",
            Message::Open(Open {
                version: 4,
                my_as: 65001,
                hold_time: 30,
                router_id: "192.0.2.1".parse().unwrap(),
                capabilities: vec![],
                parameter_layout: Vec::new(),
                extended_parameters: false,
            })
            .encode(CTX),
            (5, 3),
        ),
    ];
    for (name, bytes, expected) in cases {
        let mut s = establish(&listener);
        s.write_all(&bytes).unwrap();
        let got = expect_notification(&mut s);
        assert_eq!(got, expected, "{name}: log:\n{}", inj.log());
    }
    // RFC 7606 treat-as-withdraw: a malformed COMMUNITIES keeps the session.
    let mut s = establish(&listener);
    s.write_all(&update(
        "0000 0014 40010100 400200 400304c0000201 c00803 010203 18c63364",
    ))
    .unwrap();
    // The session is still up: a route refresh is answered with our route.
    let rr = Message::RouteRefresh(RouteRefresh {
        family: Family::IPV4_UNICAST,
        subtype: 0,
    });
    s.write_all(&rr.encode(CTX)).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut refreshed = false;
    while Instant::now() < deadline {
        match read_message(&mut s) {
            Some(Message::Update(u)) if !u.nlri.is_empty() => {
                refreshed = true;
                break;
            }
            Some(Message::Notification(n)) => panic!("session reset by {n}: {}", inj.log()),
            Some(_) => continue,
            None => break,
        }
    }
    assert!(refreshed, "no answer to ROUTE-REFRESH: {}", inj.log());
    let log = inj.log();
    assert!(log.contains("treat-as-withdraw"), "{log}");
    assert!(!log.contains("panicked"), "{log}");
}

#[test]
fn garbage_before_open_gets_a_header_error() {
    let listener = TcpListener::bind("127.0.0.1:17982").unwrap();
    let inj = Injector::start(17982, "127.0.0.32");
    let (mut s, _) = listener.accept().unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(b"GET / HTTP/1.0\r\n\r\nthis is not BGP at all")
        .unwrap();
    let got = expect_notification(&mut s);
    assert_eq!(got, (1, 1), "{}", inj.log());
    // It reconnects (backoff about 1 s).
    listener.set_nonblocking(true).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut reconnected = false;
    while Instant::now() < deadline {
        if listener.accept().is_ok() {
            reconnected = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(reconnected, "{}", inj.log());
    assert!(!inj.log().contains("panicked"));
}

#[test]
fn api_end_of_rib_and_route_refresh_reach_the_peer() {
    let listener = TcpListener::bind("127.0.0.1:17983").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("ctl.sock");
    let socket = socket.to_str().unwrap();
    let inj = Injector::start_with(17983, "127.0.0.33", &["--control", socket]);
    let mut s = establish(&listener);
    let ctl = |words: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_bgpinject"))
            .args(["ctl", "--socket", socket])
            .args(words)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{words:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    ctl(&["announce", "route-refresh", "ipv4", "unicast"]);
    ctl(&["announce", "eor", "ipv4", "unicast"]);
    let (mut refresh, mut eor) = (false, false);
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline && !(refresh && eor) {
        match read_message(&mut s) {
            Some(Message::RouteRefresh(rr)) => {
                refresh = rr.family == Family::IPV4_UNICAST && rr.subtype == 0
            }
            Some(Message::Update(u)) => eor |= u.end_of_rib() == Some(Family::IPV4_UNICAST),
            Some(_) => {}
            None => break,
        }
    }
    assert!(refresh, "no ROUTE-REFRESH: {}", inj.log());
    assert!(eor, "no End-of-RIB: {}", inj.log());
}
