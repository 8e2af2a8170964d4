//! The malformed test vectors that `decode` rejects get the same RFC 7606 / RFC 4271 action
//! over a live session: a fake peer on loopback sends their exact bytes to a running
//! bgpinject. FlowSpec NLRI that do not decode and an unparseable TUNNEL_ENCAPSULATION are
//! logged and the session stays up (treat-as-withdraw, attribute-discard); an OPEN with a
//! malformed capability gets the NOTIFICATION the vector names.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bgpinject::testvec::{self, Vector};
use bgpinject::wire::attribute::AttributeContext;
use bgpinject::wire::capability::Capability;
use bgpinject::wire::family::Family;
use bgpinject::wire::message::{DecodeContext, Message, RouteRefresh};
use bgpinject::wire::open::Open;

const CTX: AttributeContext = AttributeContext {
    four_octet_as: true,
};
/// This test's own loopback addresses and port.
const PEER: &str = "127.0.17.1";
const LOCAL: &str = "127.0.17.10";
const PORT: u16 = 17940;

struct Injector {
    child: Child,
    _dir: tempfile::TempDir,
    log: std::path::PathBuf,
}

impl Injector {
    fn start() -> Injector {
        let dir = tempfile::tempdir().unwrap();
        let conf = dir.path().join("inject.conf");
        std::fs::write(
            &conf,
            format!(
                "neighbor {PEER} {{
                    router-id 192.0.2.10; local-address {LOCAL}; local-as 65000; peer-as 65001;
                    hold-time 30; connect {PORT};
                    family {{ ipv4 unicast; ipv4 flow; }}
                    static {{ route 198.51.100.0/24 next-hop 192.0.2.10; }}
                }}"
            ),
        )
        .unwrap();
        let log = dir.path().join("log");
        let child = Command::new(env!("CARGO_BIN_EXE_bgpinject"))
            .arg("--log-level")
            .arg("debug")
            .arg("--control")
            .arg(dir.path().join("control.sock"))
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

fn read_message(s: &mut TcpStream) -> Option<Message> {
    let mut header = [0u8; 19];
    s.read_exact(&mut header).ok()?;
    let len = u16::from_be_bytes([header[16], header[17]]) as usize;
    let mut msg = header.to_vec();
    msg.resize(len.max(19), 0);
    s.read_exact(&mut msg[19..]).ok()?;
    Message::decode(&msg, DecodeContext::default())
        .ok()
        .map(|m| m.0)
}

fn our_open() -> Vec<u8> {
    Message::Open(Open {
        version: 4,
        my_as: 65001,
        hold_time: 30,
        router_id: "192.0.2.1".parse().unwrap(),
        capabilities: vec![
            Capability::Multiprotocol(Family::IPV4_UNICAST),
            Capability::Multiprotocol(Family::from_name("ipv4-flowspec").unwrap()),
            Capability::RouteRefresh,
            Capability::FourOctetAs(65001),
        ],
        parameter_layout: Vec::new(),
        extended_parameters: false,
    })
    .encode(CTX)
}

/// Accepts bgpinject's connection and answers its OPEN with `open`.
fn accept(listener: &TcpListener, open: &[u8]) -> TcpStream {
    let (mut s, _) = listener.accept().unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    assert!(matches!(read_message(&mut s), Some(Message::Open(_))));
    s.write_all(open).unwrap();
    s
}

/// Brings the session up; returns once bgpinject's End-of-RIB for IPv4 has arrived.
fn establish(listener: &TcpListener) -> TcpStream {
    let mut s = accept(listener, &our_open());
    s.write_all(&Message::Keepalive.encode(CTX)).unwrap();
    for _ in 0..20 {
        if let Some(Message::Update(u)) = read_message(&mut s)
            && u.end_of_rib() == Some(Family::IPV4_UNICAST)
        {
            return s;
        }
    }
    panic!("no End-of-RIB from bgpinject");
}

fn vectors(file: &str, prefix: &str) -> Vec<Vector> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("test-vectors/malformed");
    let all = testvec::load_tree(&root).unwrap_or_else(|e| panic!("{e}"));
    let v: Vec<Vector> = all
        .into_iter()
        .filter(|(f, v)| f.ends_with(file) && v.name.starts_with(prefix))
        .map(|(_, v)| v)
        .collect();
    assert!(!v.is_empty(), "no vector {prefix}* in {file}");
    v
}

#[test]
fn malformed_vectors_get_the_same_action_over_a_live_session() {
    let listener = TcpListener::bind((PEER, PORT)).unwrap();
    let inj = Injector::start();
    let mut s = establish(&listener);
    let mut sent = Vec::new();
    for prefix in ["update-flowspec-", "update-short-tunnel", "update-tunnel-"] {
        for v in vectors("update.vec", prefix) {
            let action = v.expected("error").map(|e| e.value.clone());
            assert!(
                matches!(
                    action.as_deref(),
                    Some("treat-as-withdraw" | "attribute-discard")
                ),
                "{}",
                v.name
            );
            s.write_all(&v.bytes).unwrap();
            sent.push((v.name.clone(), action.unwrap_or_default()));
        }
    }
    // Still up: a ROUTE-REFRESH is answered with our route, no NOTIFICATION in between.
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
    let problems: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("UPDATE problem"))
        .collect();
    assert_eq!(problems.len(), sent.len(), "{sent:?}\n{log}");
    for ((name, action), line) in sent.iter().zip(&problems) {
        assert!(line.contains(action.as_str()), "{name}: {line}");
        let what = if name.contains("flowspec") {
            "malformed FlowSpec NLRI"
        } else {
            "TUNNEL_ENCAPSULATION"
        };
        assert!(line.contains(what), "{name}: {line}");
    }
    assert!(!log.contains("panicked"), "{log}");
    drop(s);

    // An OPEN with a malformed capability: the NOTIFICATION the vector names.
    for name in [
        "open-capability-as4-length-2",
        "open-capability-as4-zero",
        "open-capability-multiprotocol-length-3",
    ] {
        let v = vectors("open.vec", name).remove(0);
        let want = v.expected("error").map(|e| e.value.clone()).unwrap();
        let mut s = accept(&listener, &v.bytes);
        let mut got = None;
        for _ in 0..5 {
            match read_message(&mut s) {
                Some(Message::Notification(n)) => {
                    got = Some(format!("session-reset {}/{}", n.code, n.subcode));
                    break;
                }
                Some(_) => continue,
                None => break,
            }
        }
        assert_eq!(got.as_deref(), Some(want.as_str()), "{name}: {}", inj.log());
    }
    let log = inj.log();
    assert!(log.contains("malformed capability 65"), "{log}");
    assert!(!log.contains("panicked"), "{log}");
}
