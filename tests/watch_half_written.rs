//! `--watch` against BIRD: a writer that rewrites a 20,000-route included file in place and
//! pauses halfway (for eight polls) never makes the peer's route count drop; the complete file
//! is applied once, with one reload. Loopback range 127.0.19.0/24.

mod harness;

use std::fs;
use std::io::Write;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use harness::bird::{BgpProtocol, BirdBuilder};
use harness::wait_for;

const BIN: &str = env!("CARGO_BIN_EXE_bgpinject");
const PORT: u16 = 17962;
const BIRD_ADDRESS: &str = "127.0.19.20";
const INJECT: &str = "127.0.19.21";
const ROUTES: usize = 20_000;

struct Daemon(Child);

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn route_line(i: usize) -> String {
    format!(
        "route 10.{}.{}.0/24 next-hop 192.0.2.1;\n",
        i / 256 % 256,
        i % 256
    )
}

fn routes_text(n: usize) -> String {
    (0..n).map(route_line).collect()
}

/// BIRD's count of routes in master4 (`show route count`).
fn count(bird: &harness::bird::Bird) -> Option<usize> {
    let text = bird.birdc(&["show", "route", "count"])?;
    text.lines()
        .find(|l| l.contains("routes for"))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.parse().ok())
}

fn write_config(dir: &Path) {
    fs::write(
        dir.join("bgpinject.conf"),
        format!(
            "neighbor {BIRD_ADDRESS} {{
    router-id 192.0.2.250; local-address {INJECT}; local-as 65000; peer-as 65001;
    connect {PORT};
    static {{ include \"routes.inc\"; }}
}}
"
        ),
    )
    .unwrap();
}

#[test]
fn a_writer_pausing_halfway_through_20000_routes_never_lowers_the_peers_count() {
    let dir = tempfile::tempdir().unwrap();
    write_config(dir.path());
    let routes = dir.path().join("routes.inc");
    fs::write(&routes, routes_text(ROUTES)).unwrap();
    let bird = BirdBuilder::new("192.0.2.251", BIRD_ADDRESS, PORT)
        .bgp(BgpProtocol::new("inj", INJECT, 179, 65001, 65000).passive(true))
        .start();
    let log_path = dir.path().join("bgpinject.log");
    let log = fs::File::create(&log_path).unwrap();
    let _daemon = Daemon(
        Command::new(BIN)
            .args(["--watch", "--control", "off"])
            .arg(dir.path().join("bgpinject.conf"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("start bgpinject --watch"),
    );
    let log = || fs::read_to_string(&log_path).unwrap_or_default();
    bird.wait_established("inj", Duration::from_secs(30));
    assert!(
        wait_for(Duration::from_secs(60), || (count(&bird) == Some(ROUTES))
            .then_some(()))
        .is_some(),
        "BIRD never had {ROUTES} routes: {:?}\n{}",
        count(&bird),
        log()
    );
    let reloads_before = log().matches("reloading ").count();

    // The writer: truncates the file in place, writes half of the new content (the old routes
    // and one more), pauses for 2 s with the file open, then writes the rest.
    let new_text = routes_text(ROUTES + 1);
    let half = new_text[..new_text.len() / 2]
        .rfind('\n')
        .map_or(0, |i| i + 1);
    let writing = Arc::new(AtomicBool::new(true));
    let w = writing.clone();
    let path = routes.clone();
    let writer = std::thread::spawn(move || {
        let mut f = fs::File::create(&path).unwrap();
        f.write_all(&new_text.as_bytes()[..half]).unwrap();
        f.flush().unwrap();
        std::thread::sleep(Duration::from_secs(2));
        f.write_all(&new_text.as_bytes()[half..]).unwrap();
        drop(f);
        w.store(false, Ordering::SeqCst);
    });
    // Sample BIRD's count while the writer works and until the new route is there.
    let samples = Arc::new(Mutex::new(Vec::new()));
    let start = Instant::now();
    let mut reached = false;
    while start.elapsed() < Duration::from_secs(30) {
        if let Some(n) = count(&bird) {
            samples.lock().unwrap().push(n);
            if n == ROUTES + 1 && !writing.load(Ordering::SeqCst) {
                reached = true;
                break;
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    writer.join().unwrap();
    let samples = samples.lock().unwrap().clone();
    let lowest = samples.iter().copied().min().unwrap_or(0);
    println!(
        "{} samples of BIRD's route count during the write: lowest {lowest}, last {:?}",
        samples.len(),
        samples.last()
    );
    assert!(
        lowest >= ROUTES,
        "the route count dropped to {lowest}: {samples:?}\n{}",
        log()
    );
    assert!(
        reached,
        "the complete file was never applied: {samples:?}\n{}",
        log()
    );
    let reloads = log().matches("reloading ").count() - reloads_before;
    assert_eq!(reloads, 1, "one change, one reload:\n{}", log());
    assert_eq!(bird.protocol_state("inj"), "Established");
    let text = log();
    assert!(
        !text.contains("panicked") && !text.contains("internal error"),
        "{text}"
    );
}
