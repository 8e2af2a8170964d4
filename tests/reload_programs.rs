//! A reload starts new `process` and `healthcheck` blocks and stops removed ones (their
//! routes withdrawn), without resetting the neighbor's session. Against a real BIRD.

mod harness;

use std::time::Duration;

use harness::bgpinject::Bgpinject;
use harness::bird::{BgpProtocol, BirdBuilder};
use harness::wait_for;

const BIN: &str = env!("CARGO_BIN_EXE_bgpinject");

fn config(extra_top: &str, api: &str) -> String {
    format!(
        "{extra_top}
neighbor 127.0.0.131 {{
    router-id 192.0.2.10; local-address 127.0.0.132; local-as 65000; peer-as 65001;
    connect 17985;
    {api}
    static {{ route 198.51.100.0/24 next-hop 192.0.2.10; }}
}}
"
    )
}

fn hup(pid: u32) {
    // SAFETY: kill(2) on the bgpinject this test started.
    unsafe {
        libc::kill(pid as libc::pid_t, libc::SIGHUP);
    }
}

#[test]
fn reload_starts_and_stops_health_checks_and_helpers_without_session_reset() {
    let bird = BirdBuilder::new("192.0.2.1", "127.0.0.131", 17985)
        .bgp(BgpProtocol::new("progs", "127.0.0.132", 179, 65001, 65000).passive(true))
        .start();
    let inj = Bgpinject::start(BIN, &config("", ""), "info");
    bird.wait_established("progs", Duration::from_secs(30));
    let prefixes = || {
        let mut v: Vec<String> = bird
            .routes("master4")
            .into_iter()
            .map(|r| r.prefix)
            .collect();
        v.sort();
        v
    };
    let wait_prefixes = |want: &[&str]| {
        wait_for(Duration::from_secs(20), || {
            (prefixes() == want).then_some(())
        })
    };
    assert!(
        wait_prefixes(&["198.51.100.0/24"]).is_some(),
        "{}",
        inj.log()
    );
    let since = |info: String| {
        info.lines()
            .find(|l| l.contains("progs"))
            .map(|l| l.split_whitespace().nth(4).unwrap_or("").to_string())
            .unwrap_or_default()
    };
    let up_since = since(bird.birdc(&["show", "protocols"]).unwrap_or_default());
    let conf = inj.dir().join("bgpinject.conf");
    let pid = inj.pid().expect("running");

    // Add a health check that passes and a helper that announces one route.
    let check = "healthcheck web {
        command \"true\"; interval 1; rise 1; fall 1;
        route 203.0.113.0/24 next-hop 192.0.2.10;
    }
    process feeder {
        run /bin/sh -c 'echo announce route 198.51.100.128/25 next-hop 192.0.2.10; exec sleep 600';
        encoder text;
    }";
    std::fs::write(&conf, config(check, "api { processes [ feeder ]; }")).unwrap();
    hup(pid);
    assert!(
        wait_prefixes(&["198.51.100.0/24", "198.51.100.128/25", "203.0.113.0/24"]).is_some(),
        "after adding: {:?}\n{}",
        prefixes(),
        inj.log()
    );

    // Remove both: their routes are withdrawn, the file's route stays.
    std::fs::write(&conf, config("", "")).unwrap();
    hup(pid);
    assert!(
        wait_prefixes(&["198.51.100.0/24"]).is_some(),
        "after removing: {:?}\n{}",
        prefixes(),
        inj.log()
    );
    let log = inj.log();
    for line in [
        "healthcheck web: starting (reload)",
        "process feeder: starting (reload)",
        "healthcheck web: removed or changed by the reload, stopping it",
        "process feeder: removed or changed by the reload, stopping it",
    ] {
        assert!(log.contains(line), "missing '{line}' in\n{log}");
    }
    let now_since = since(bird.birdc(&["show", "protocols"]).unwrap_or_default());
    assert_eq!(up_since, now_since, "the session was reset: {}", inj.log());
}
