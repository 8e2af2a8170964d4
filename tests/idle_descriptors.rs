//! An idle neighbor costs at most one file descriptor (its thread's wake-up eventfd), so the
//! default limit of 1024 descriptors is not what caps the number of neighbors.

mod harness;

use std::time::{Duration, Instant};

use harness::controlled::Controlled;

const NEIGHBORS: usize = 200;

#[test]
fn two_hundred_idle_neighbors_hold_fewer_than_two_hundred_and_fifty_descriptors() {
    let config: String = (0..NEIGHBORS)
        .map(|i| {
            format!(
                "neighbor 127.0.17.{} {{ router-id 192.0.2.10; local-address 127.0.16.16; listen 17922; passive; local-as 65000; peer-as 65001; }}\n",
                i + 1
            )
        })
        .collect();
    let d = Controlled::start("info", |_| config);
    let fds = || {
        std::fs::read_dir(format!("/proc/{}/fd", d.pid()))
            .map(|r| r.count())
            .unwrap_or(0)
    };
    // Every neighbor thread started: one line each in the log.
    let deadline = Instant::now() + Duration::from_secs(20);
    while d.log().matches(": starting").count() < NEIGHBORS && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(
        d.log().matches(": starting").count(),
        NEIGHBORS,
        "{}",
        d.log()
    );
    std::thread::sleep(Duration::from_millis(300));
    let n = fds();
    println!("{NEIGHBORS} idle neighbors: {n} descriptors");
    assert!(
        n < NEIGHBORS + 50,
        "{n} descriptors for {NEIGHBORS} idle neighbors"
    );
    d.assert_no_bug();
}
