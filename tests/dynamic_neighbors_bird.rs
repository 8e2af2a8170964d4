//! ExaBGP main's `create neighbor` and `delete neighbor` against BIRD: a helper creates a
//! neighbor that is in no file, announces a route to it (checked value by value in BIRD), the
//! neighbor survives a reload without a reset, and `delete neighbor` closes the session with
//! Cease / Peer De-configured and takes the route away. Attacked with a second create of the
//! same address, a process that does not exist, a process name built to break out of the
//! configuration block, bad values, and a helper creating 1,100 neighbors (capped at 1,024,
//! then all deleted with `delete neighbor *`).

mod harness;

use std::fs;
use std::time::Duration;

use harness::ReceivedRoute;
use harness::bgpinject::Bgpinject;
use harness::bird::{BgpProtocol, BirdBuilder};
use harness::fifo_helper::FifoHelper;
use harness::wait_for;

const BIN: &str = env!("CARGO_BIN_EXE_bgpinject");
/// This file's addresses and ports (127.0.57.0/24, 19150-19159).
const BIRD_ADDRESS: &str = "127.0.57.1";
const LOCAL: &str = "127.0.57.2";

fn config(helper: &FifoHelper) -> String {
    format!(
        "process dyn {{ run /bin/sh {}; encoder text; }}\nprocess other {{ run /bin/sleep 3600; encoder text; }}\n",
        helper.script().display()
    )
}

#[test]
fn a_helper_creates_a_neighbor_announces_to_it_keeps_it_across_a_reload_and_deletes_it() {
    const PORT: u16 = 19150;
    let mut bird = BirdBuilder::new("192.0.2.57", BIRD_ADDRESS, PORT)
        .bgp(BgpProtocol::new("dyn", LOCAL, 179, 65001, 65000).passive(true))
        .start();
    let mut helper = FifoHelper::new();
    let port = PORT.to_string();
    let mut d = Bgpinject::start_with_args(BIN, &config(&helper), "info", &["--port", &port]);

    helper.send(&format!(
        "create neighbor {BIRD_ADDRESS} local-address {LOCAL} local-as 65000 peer-as 65001 router-id 192.0.2.58 api dyn"
    ));
    bird.wait_established("dyn", Duration::from_secs(30));
    helper.send("announce route 198.51.100.0/24 next-hop 192.0.2.1 med 10 community [ 65000:7 ]");
    let want = ReceivedRoute {
        prefix: "198.51.100.0/24".to_string(),
        next_hop: "192.0.2.1".to_string(),
        origin: "igp".to_string(),
        as_path: vec![65000],
        med: Some(10),
        local_pref: None,
        communities: vec!["65000:7".to_string()],
        extended_communities: Vec::new(),
        large_communities: Vec::new(),
        atomic_aggregate: false,
        aggregator: None,
    };
    let got = bird.wait_route_count("master4", 1, Duration::from_secs(20));
    assert_eq!(got, vec![want.clone()], "{}", d.log());
    assert!(
        bird.protocol_info("dyn").contains("192.0.2.58"),
        "BIRD names our router id"
    );

    // Refused, each with its reason, and nothing else changes.
    let hostile = [
        (
            format!(
                "create neighbor {BIRD_ADDRESS} local-address {LOCAL} local-as 65000 peer-as 65001"
            ),
            "peer already exists",
        ),
        (
            format!(
                "create neighbor 127.0.57.9 local-address {LOCAL} local-as 65000 peer-as 65001 api nosuch"
            ),
            "no 'process nosuch",
        ),
        (
            format!(
                "create neighbor 127.0.57.9 local-address {LOCAL} local-as 65000 peer-as 65001 api dyn;}}neighbor"
            ),
            "api: bad value",
        ),
        (
            format!("create neighbor 127.0.57.9 local-address {LOCAL} local-as x peer-as 65001"),
            "local-as: bad value 'x'",
        ),
        (
            format!("create neighbor 127.0.57.9 local-address {LOCAL} peer-as 65001"),
            "missing required parameters: local-as",
        ),
        (
            format!(
                "create neighbor 127.0.57.9 local-address {LOCAL} local-as 1 local-as 2 peer-as 65001"
            ),
            "duplicate parameter local-as",
        ),
        (
            "create neighbor ::1 local-address 127.0.0.1 local-as 1 peer-as 2".to_string(),
            "different families",
        ),
        (
            "delete neighbor 127.0.57.200".to_string(),
            "no neighbors match",
        ),
    ];
    for (line, _) in &hostile {
        helper.send(line);
    }
    let answers = helper.wait_answers(1 + 1 + hostile.len());
    let errors: Vec<&String> = answers.iter().filter(|a| a.starts_with("error")).collect();
    assert_eq!(errors.len(), hostile.len(), "{answers:?}\n{}", d.log());
    let log = d.log();
    for (line, why) in &hostile {
        assert!(
            log.lines()
                .any(|l| l.contains("command refused") && l.contains(why)),
            "{line}: no refusal naming '{why}'\n{log}"
        );
    }

    // A reload keeps the created neighbor and its route, with no reset: first of the same
    // file, then of one that configures another neighbor (the whole plan is applied).
    for (k, text) in [
        config(&helper),
        format!(
            "{}neighbor 127.0.57.20 {{ local-address {LOCAL}; local-as 65000; peer-as 65002; connect 19152; }}\n",
            config(&helper)
        ),
    ]
    .into_iter()
    .enumerate()
    {
        fs::write(d.dir().join("bgpinject.conf"), text).unwrap();
        // SAFETY: kill(2) on the daemon this test started.
        unsafe { libc::kill(d.pid().unwrap() as i32, libc::SIGHUP) };
        assert!(
            wait_for(Duration::from_secs(10), || (d.log().matches("reloading").count()
                > k)
                .then_some(()))
            .is_some()
        );
    }
    assert!(
        wait_for(Duration::from_secs(10), || d
            .log()
            .contains("neighbor 127.0.57.20: starting")
            .then_some(()))
        .is_some(),
        "{}",
        d.log()
    );
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(bird.routes("master4"), vec![want], "{}", d.log());
    d.assert_no_resets(1);

    // Deleted: BIRD is told the peer is de-configured and the route is gone.
    helper.send(&format!("delete neighbor {BIRD_ADDRESS}"));
    let gone = bird.wait_route_count("master4", 0, Duration::from_secs(20));
    assert!(gone.is_empty(), "{gone:?}");
    let info = wait_for(Duration::from_secs(10), || {
        let i = bird.protocol_info("dyn");
        i.contains("de-configured").then_some(i)
    });
    assert!(
        info.is_some(),
        "BIRD: {}\n{}",
        bird.protocol_info("dyn"),
        d.log()
    );
    let downs: Vec<String> = d
        .log()
        .lines()
        .filter(|l| l.contains(": session down:"))
        .map(str::to_string)
        .collect();
    assert_eq!(downs.len(), 1, "{downs:?}");
    assert!(downs[0].contains("6/3"), "{downs:?}");
    // Nothing reconnects.
    std::thread::sleep(Duration::from_secs(2));
    assert_ne!(bird.protocol_state("dyn"), "Established");
    assert_eq!(d.sessions_established(), 1);
    d.stop();
    bird.stop();
}

#[test]
fn a_helper_creating_eleven_hundred_neighbors_is_capped_and_delete_star_ends_them() {
    let mut helper = FifoHelper::new();
    // Nobody listens on this port: the neighbors try to connect and wait.
    let mut d = Bgpinject::start_with_args(BIN, &config(&helper), "info", &["--port", "19151"]);
    const N: usize = 1_100;
    for i in 0..N {
        let addr =
            std::net::Ipv4Addr::from(u32::from(std::net::Ipv4Addr::new(127, 58, 0, 1)) + i as u32);
        helper.send(&format!(
            "create neighbor {addr} local-address {LOCAL} local-as 65000 peer-as 65001 api dyn"
        ));
    }
    let answers = helper.wait_answers(N);
    let done = answers.iter().filter(|a| *a == "done").count();
    assert_eq!(
        done,
        1024,
        "{}",
        d.log()
            .lines()
            .rev()
            .take(20)
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(d.log().contains("1024 neighbors created already"));
    // `delete neighbor *` from this helper: only its neighbors (all of them here).
    helper.send("delete neighbor *");
    let answers = helper.wait_answers(N + 1);
    assert_eq!(answers.last().map(String::as_str), Some("done"));
    let deleted = wait_for(Duration::from_secs(30), || {
        let n = d.log().matches(": deleted by process dyn").count();
        (n == 1024).then_some(n)
    });
    assert_eq!(deleted, Some(1024));
    // And the room is free again.
    helper.send(&format!(
        "create neighbor 127.0.57.3 local-address {LOCAL} local-as 65000 peer-as 65001 api dyn"
    ));
    let answers = helper.wait_answers(N + 2);
    assert_eq!(answers.last().map(String::as_str), Some("done"));
    assert!(d.exited().is_none(), "bgpinject exited\n{}", d.log());
    d.stop();
}
