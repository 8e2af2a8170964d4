//! A reload that removes the last passive neighbor of a listening address closes that port, so
//! that another daemon can take it; the port of a neighbor that stays keeps listening.

mod harness;

use std::fs;
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use harness::controlled::Controlled;

const KEPT: &str = "127.0.16.15:17921";
const DROPPED: &str = "127.0.16.14:17920";

fn neighbor(peer: &str, listen: &str) -> String {
    let (addr, port) = listen.split_once(':').unwrap();
    format!(
        "neighbor {peer} {{ router-id 192.0.2.10; local-address {addr}; listen {port}; passive; local-as 65000; peer-as 65001; }}\n"
    )
}

fn listening(addr: &str) -> bool {
    let addr: SocketAddr = addr.parse().unwrap();
    TcpStream::connect_timeout(&addr, Duration::from_millis(500)).is_ok()
}

fn wait(timeout: Duration, mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

#[test]
fn a_reload_closes_the_port_of_the_last_neighbor_removed_from_it() {
    let both = neighbor("127.0.16.20", DROPPED) + &neighbor("127.0.16.21", KEPT);
    let d = Controlled::start("debug", |_| both);
    assert!(
        wait(Duration::from_secs(10), || listening(DROPPED)
            && listening(KEPT)),
        "{}",
        d.log()
    );
    fs::write(&d.config, neighbor("127.0.16.21", KEPT)).unwrap();
    // SAFETY: kill(2) on the pid of the child this test started.
    assert_eq!(unsafe { libc::kill(d.pid(), libc::SIGHUP) }, 0);
    assert!(
        wait(Duration::from_secs(10), || !listening(DROPPED)),
        "the removed neighbor's port still listens\n{}",
        d.log()
    );
    assert!(listening(KEPT), "{}", d.log());
    // The port is free for another program.
    let taken = std::net::TcpListener::bind(DROPPED);
    assert!(taken.is_ok(), "{taken:?}\n{}", d.log());
    assert!(
        d.log().contains("listener 127.0.16.14:17920: closed"),
        "{}",
        d.log()
    );
    d.assert_no_bug();
}
