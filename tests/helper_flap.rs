//! An up -> down -> up flap of a neighbor within about 100 ms reaches its helpers as three
//! events in order (up, down, up): the manager forwards each neighbor thread's typed reports
//! as they come; nothing is polled, so no state in between is lost.
//!
//! The peer is scripted on raw TCP: it connects to a passive bgpinject, brings the session
//! up, sends a NOTIFICATION (Cease), waits for bgpinject to close, and connects again at once.

mod harness;

use std::fs;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, Instant};

use bgpinject::wire::attribute::AttributeContext;
use bgpinject::wire::capability::Capability;
use bgpinject::wire::family::Family;
use bgpinject::wire::message::Message;
use bgpinject::wire::notification::Notification;
use bgpinject::wire::open::Open;
use harness::controlled::Controlled;
use harness::{read_message, wait_for};

const PEER: &str = "127.0.21.1";
const LOCAL: &str = "127.0.21.2";
const PORT: u16 = 17953;
const CTX: AttributeContext = AttributeContext {
    four_octet_as: true,
};

/// Writes every line it reads to `events` beside itself.
const HELPER: &str = r#"#!/bin/sh
d="$(dirname "$0")"
while read line; do
  echo "$line" >> "$d/events"
done
"#;

/// Connects from the neighbor's address (so bgpinject knows whose connection it is).
fn connect() -> TcpStream {
    let socket =
        socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).expect("socket");
    let from: SocketAddr = format!("{PEER}:0").parse().unwrap();
    socket.bind(&from.into()).expect("bind the peer address");
    let to: SocketAddr = format!("{LOCAL}:{PORT}").parse().unwrap();
    socket
        .connect_timeout(&to.into(), Duration::from_secs(5))
        .expect("connect to bgpinject");
    let s: TcpStream = socket.into();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s
}

/// OPEN and KEEPALIVE both ways; returns once bgpinject's KEEPALIVE (it is in OpenConfirm or
/// Established) has arrived. Our KEEPALIVE makes bgpinject Established.
fn bring_up(s: &mut TcpStream) {
    let open = Message::Open(Open {
        version: 4,
        my_as: 65001,
        hold_time: 90,
        router_id: "192.0.2.1".parse().unwrap(),
        capabilities: vec![
            Capability::Multiprotocol(Family::IPV4_UNICAST),
            Capability::FourOctetAs(65001),
        ],
        parameter_layout: Vec::new(),
        extended_parameters: false,
    });
    s.write_all(&open.encode(CTX)).unwrap();
    s.write_all(&Message::Keepalive.encode(CTX)).unwrap();
    for _ in 0..10 {
        match read_message(s) {
            Some(Message::Keepalive) => return,
            Some(_) => continue,
            None => break,
        }
    }
    panic!("no KEEPALIVE from bgpinject");
}

/// Reads until bgpinject closes the connection (bounded by the read timeout).
fn wait_closed(s: &mut TcpStream) {
    let mut buf = [0u8; 4096];
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
    }
    panic!("bgpinject did not close after our NOTIFICATION");
}

#[test]
fn a_flap_within_100_ms_reaches_helpers_as_up_down_up() {
    let d = Controlled::start("info", |dir| {
        let helper = dir.join("helper.sh");
        fs::write(&helper, HELPER).unwrap();
        fs::set_permissions(&helper, fs::Permissions::from_mode(0o755)).unwrap();
        format!(
            "process watcher {{ run {}; }}
neighbor {PEER} {{ router-id 192.0.2.10; local-address {LOCAL}; local-as 65000; peer-as 65001; passive; listen {PORT}; api {{ processes [ watcher ]; neighbor-changes; }} }}
",
            helper.display()
        )
    });
    let events = d.dir.path().join("events");
    // The listener is up once bgpinject logs it.
    assert!(
        wait_for(Duration::from_secs(10), || d
            .log()
            .contains(&format!("listening on {LOCAL}:{PORT}"))
            .then_some(()))
        .is_some(),
        "{}",
        d.log()
    );

    let started = Instant::now();
    let mut first = connect();
    bring_up(&mut first);
    let cease = Notification::administrative_shutdown("flap");
    first
        .write_all(&Message::Notification(cease).encode(CTX))
        .unwrap();
    wait_closed(&mut first);
    drop(first);
    let mut second = connect();
    bring_up(&mut second);
    let flap = started.elapsed();
    println!("up, down and up again in {flap:?}");

    let want = [
        format!("neighbor {PEER} up"),
        format!("neighbor {PEER} down"),
        format!("neighbor {PEER} up"),
    ];
    let kinds = |text: &str| -> Vec<String> {
        text.lines()
            .filter_map(|l| {
                want.iter()
                    .find(|w| l == *w || l.starts_with(&format!("{w} ")))
                    .cloned()
            })
            .collect()
    };
    let seen = wait_for(Duration::from_secs(10), || {
        let text = fs::read_to_string(&events).ok()?;
        (kinds(&text).len() >= 3).then_some(text)
    });
    let text = seen
        .unwrap_or_else(|| panic!("helper saw: {:?}\n{}", fs::read_to_string(&events), d.log()));
    assert_eq!(kinds(&text), want, "{text}");
    // The NOTIFICATION the peer sent is told too, between the up and the down.
    let lines: Vec<&str> = text.lines().collect();
    let notification = lines
        .iter()
        .position(|l| l.starts_with(&format!("neighbor {PEER} notification code 6 subcode 2")));
    let down = lines.iter().position(|l| l.starts_with(&want[1]));
    assert!(
        matches!((notification, down), (Some(n), Some(d)) if n < d),
        "{text}"
    );
    // Nothing more arrives: exactly three state events for three changes.
    std::thread::sleep(Duration::from_millis(500));
    let again = fs::read_to_string(&events).unwrap();
    assert_eq!(kinds(&again), want, "{again}");
    drop(second);
    d.assert_no_bug();
}
