//! `--watch`: a configuration replaced by rename (write a temp file, rename it into place)
//! reaches BIRD within 2 s; so does a rewritten included file, and a file added to an
//! include glob's directory (the watcher follows the set of included files). Its reload is
//! SIGHUP's: a changed file of routes alone is parsed alone, an identical one not at all.

mod harness;
mod reload_common;

use std::fs;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use harness::bird::{BgpProtocol, BirdBuilder};
use reload_common::*;

const PORT: u16 = 17971;
const BIRD_ADDRESS: &str = "127.0.0.71";
const INJECT: &str = "127.0.0.72";
const PICKED_UP_WITHIN: Duration = Duration::from_secs(2);

/// Kills the bgpinject it started when dropped.
struct Daemon(Child);

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn main_text(n: &Neighbor, glob_dir: &Path) -> String {
    render(&[n]).replace(
        "    static {\n",
        &format!(
            "    static {{\n        include \"{}/*.conf\";\n",
            glob_dir.display()
        ),
    )
}

fn route(i: usize) -> Route {
    Route::new(&format!("198.51.100.{}/30", 4 * i), "192.0.2.1")
}

#[test]
fn renamed_file_included_file_and_new_glob_match_are_picked_up_within_2_s() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("bgpinject.conf");
    let glob_dir = dir.path().join("routes.d");
    fs::create_dir(&glob_dir).unwrap();
    fs::write(glob_dir.join("a.conf"), route(40).line()).unwrap();
    let mut n = Neighbor {
        bird_address: BIRD_ADDRESS.into(),
        local_address: INJECT.into(),
        port: PORT,
        hold_time: 90,
        routes: (0..3).map(route).collect(),
    };
    fs::write(&config, main_text(&n, &glob_dir)).unwrap();
    let bird = BirdBuilder::new("192.0.2.251", BIRD_ADDRESS, PORT)
        .bgp(BgpProtocol::new("inj", INJECT, 179, PEER_AS, LOCAL_AS).passive(true))
        .start();
    let log_path = dir.path().join("bgpinject.log");
    let log = fs::File::create(&log_path).unwrap();
    let _daemon = Daemon(
        Command::new(BIN)
            .arg("--watch")
            .arg("--control")
            .arg(dir.path().join("control.sock"))
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("start bgpinject --watch"),
    );
    let log = || fs::read_to_string(&log_path).unwrap_or_default();
    bird.wait_established("inj", Duration::from_secs(30));
    // What BIRD must show: the main file's routes and every glob match.
    let expected = |n: &Neighbor, extra: &[usize]| {
        let mut all = n.clone();
        all.routes.extend(extra.iter().map(|&i| route(i)));
        all
    };
    let diffs = wait_table(&bird, "inj", &expected(&n, &[40]), Duration::from_secs(15));
    assert!(diffs.is_empty(), "{}\n{}", diffs.join("\n"), log());

    let check = |what: &str, want: &Neighbor| {
        let start = Instant::now();
        let diffs = wait_table(&bird, "inj", want, PICKED_UP_WITHIN);
        assert!(
            diffs.is_empty(),
            "{what}: not picked up within {PICKED_UP_WITHIN:?}:\n{}\n{}",
            diffs.join("\n"),
            log()
        );
        eprintln!("{what}: picked up in {:?}", start.elapsed());
    };

    // 1. The main file, replaced by rename.
    n.routes.push(route(10));
    n.routes[0].med = Some(5);
    replace_file(&config, &main_text(&n, &glob_dir));
    check("main file renamed into place", &expected(&n, &[40]));

    // 2. An included file, replaced by rename.
    replace_file(&glob_dir.join("a.conf"), &route(41).line());
    check("included file renamed into place", &expected(&n, &[41]));
    // The watcher's reload is SIGHUP's: only the changed file of routes was parsed.
    assert_eq!(
        log().matches("1 of its 2 files changed, 1 parsed").count(),
        1,
        "{}",
        log()
    );

    // 3. A new file in the glob's directory (renamed in, so never seen half-written).
    let tmp = dir.path().join("b.tmp");
    fs::write(&tmp, route(42).line()).unwrap();
    fs::rename(&tmp, glob_dir.join("b.conf")).unwrap();
    check(
        "new file in the include directory",
        &expected(&n, &[41, 42]),
    );

    // 4. The file just added is watched too.
    replace_file(&glob_dir.join("b.conf"), &route(43).line());
    check("the added file rewritten", &expected(&n, &[41, 43]));

    // 5. The same content renamed into place again: seen, and nothing is parsed.
    replace_file(&glob_dir.join("b.conf"), &route(43).line());
    let nothing = harness::wait_for(Duration::from_secs(5), || {
        log()
            .contains("none of its 3 files changed, 0 parsed")
            .then_some(())
    });
    assert!(nothing.is_some(), "an identical reload parsed:\n{}", log());
    check("the same content again", &expected(&n, &[41, 43]));
}
