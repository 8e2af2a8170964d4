//! The newcomer's path works as written: the two configurations of "A first session against
//! BIRD" in docs/configuration.md are taken from the document as they stand, BIRD and
//! bgpinject are started with the commands it shows (on a free port instead of 1179, so that
//! the test can run beside others), and BIRD must show the lines the document says it shows.
//! Then bgpinject stops with SIGTERM and BIRD must drop the routes. Needs BIRD 2 (`make deps`);
//! fails when it cannot start.

use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_bgpinject");

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The section's code blocks: bird.conf, bgpinject.conf, the transcript.
fn section_blocks() -> (String, String, String) {
    let doc = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/docs/configuration.md"
    ))
    .unwrap();
    let start = doc
        .find("## A first session against BIRD")
        .expect("docs/configuration.md has the section");
    let rest = &doc[start..];
    let end = rest[3..].find("\n## ").map_or(rest.len(), |e| e + 3);
    let blocks: Vec<&str> = rest[..end].split("```").collect();
    assert!(blocks.len() >= 7, "three code blocks in the section");
    (
        blocks[1].trim_start_matches('\n').to_string(),
        blocks[3].trim_start_matches('\n').to_string(),
        blocks[5].to_string(),
    )
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

fn birdc(dir: &Path, cmd: &str) -> String {
    let out = Command::new("birdc")
        .arg("-s")
        .arg(dir.join("bird.ctl"))
        .args(cmd.split(' '))
        .output()
        .expect("birdc");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn wait_for(timeout: Duration, mut f: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < timeout {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

#[test]
fn the_first_session_against_bird_works_as_written() {
    let (bird_conf, bgpinject_conf, transcript) = section_blocks();
    assert!(bird_conf.contains("port 1179") && bgpinject_conf.contains("connect 1179;"));
    let port = free_port().to_string();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("bird.conf"), bird_conf.replace("1179", &port)).unwrap();
    std::fs::write(
        d.join("bgpinject.conf"),
        bgpinject_conf.replace("1179", &port),
    )
    .unwrap();

    // `bird -c bird.conf -s ./bird.ctl -P ./bird.pid`, kept in the foreground (-f) to be
    // stopped by the test.
    let bird = Command::new("bird")
        .current_dir(d)
        .args([
            "-f",
            "-c",
            "bird.conf",
            "-s",
            "./bird.ctl",
            "-P",
            "./bird.pid",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("bird (BIRD 2) is installed; `make deps` installs it");
    let _bird = Killed(bird);
    assert!(
        wait_for(Duration::from_secs(10), || d.join("bird.ctl").exists()),
        "BIRD did not start"
    );

    // `bgpinject --check bgpinject.conf` prints the line the document shows.
    let check = Command::new(BIN)
        .current_dir(d)
        .args(["--check", "bgpinject.conf"])
        .output()
        .unwrap();
    assert!(check.status.success());
    let summary = String::from_utf8_lossy(&check.stdout);
    assert!(
        transcript.contains(summary.trim()),
        "--check prints {summary:?}, the document shows:\n{transcript}"
    );

    // `bgpinject --control off bgpinject.conf &`
    let child = Command::new(BIN)
        .current_dir(d)
        .args(["--control", "off", "bgpinject.conf"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut bgpinject = Killed(child);

    // Every attribute line of the transcript's `show route all` appears in BIRD's answer.
    let expected: Vec<&str> = transcript
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("BGP."))
        .collect();
    assert!(
        expected.len() >= 5,
        "the transcript shows BIRD's attributes"
    );
    let mut shown = String::new();
    let complete = wait_for(Duration::from_secs(20), || {
        shown = birdc(d, "show route all");
        expected.iter().all(|l| shown.contains(l))
            && shown.contains("198.51.100.7/32")
            && shown.contains("2001:db8:100::/48")
    });
    assert!(
        complete,
        "BIRD shows:\n{shown}\nthe document says:\n{transcript}"
    );

    // `kill %1`: bgpinject sends Cease and exits 0; BIRD withdraws the routes.
    // SAFETY: kill(2) on our own child's pid.
    unsafe {
        libc::kill(bgpinject.0.id() as i32, libc::SIGTERM);
    }
    let status = bgpinject.0.wait().unwrap();
    let mut log = String::new();
    if let Some(mut e) = bgpinject.0.stderr.take() {
        let _ = e.read_to_string(&mut log);
    }
    assert!(status.success(), "bgpinject exited {status}:\n{log}");
    assert!(!log.contains("panic"), "{log}");
    assert!(log.contains("session established"), "{log}");
    let gone = wait_for(Duration::from_secs(10), || {
        birdc(d, "show route count").contains("Total: 0 of 0 routes")
    });
    assert!(gone, "BIRD kept the routes after bgpinject stopped");
}
