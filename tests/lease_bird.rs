//! Route leases against BIRD: a FlowSpec rule announced with `lease 5` and never refreshed
//! leaves BIRD 5 s later (± 1 s); one refreshed every 2 s stays.

mod harness;

use std::time::{Duration, Instant};

use harness::bird::{BgpProtocol, BirdBuilder};
use harness::controlled::Controlled;
use harness::wait_for;

const BIRD: (&str, u16) = ("127.0.26.10", 18031);
const LOCAL: &str = "127.0.26.21";

const ONCE: &str = "flow route once { match { destination 198.51.100.1/32; protocol udp; } then { discard; } } lease 5";
const KEPT: &str = "flow route kept { match { destination 198.51.100.2/32; protocol udp; } then { discard; } } lease 5";

/// The FlowSpec rules in BIRD's flow table, as BIRD writes their keys.
fn flows(bird: &harness::bird::Bird) -> Vec<String> {
    bird.birdc(&["show", "route", "table", "flowtab4"])
        .unwrap_or_default()
        .lines()
        .filter(|l| l.starts_with("flow4 {"))
        .map(|l| l.split('}').next().unwrap_or_default().to_string())
        .collect()
}

fn has(flows: &[String], dst: &str) -> bool {
    flows.iter().any(|f| f.contains(dst))
}

#[test]
fn a_leased_flow_rule_leaves_bird_unless_refreshed() {
    let mut bird = BirdBuilder::new("192.0.2.30", BIRD.0, BIRD.1)
        .extra("flow4 table flowtab4;")
        .bgp(
            BgpProtocol::new("inj", LOCAL, 179, 65001, 65000)
                .passive(true)
                .extra("    flow4 { table flowtab4; import all; export none; };"),
        )
        .start();
    let d = Controlled::start("info", |_| {
        format!(
            "neighbor {} {{ router-id 192.0.2.10; local-address {LOCAL}; local-as 65000; peer-as 65001; connect {}; family {{ ipv4 unicast; ipv4 flow; }} }}\n",
            BIRD.0, BIRD.1
        )
    });
    bird.wait_established("inj", Duration::from_secs(30));
    let start = Instant::now();
    for cmd in [ONCE, KEPT] {
        let out = d.ctl(&format!("announce {cmd}"));
        assert!(out.trim_end().ends_with("done"), "{cmd}: {out}");
    }
    let both = wait_for(Duration::from_secs(3), || {
        let f = flows(&bird);
        (has(&f, "198.51.100.1/32") && has(&f, "198.51.100.2/32")).then_some(())
    });
    assert!(
        both.is_some(),
        "BIRD never had both rules: {:?}\n{}",
        flows(&bird),
        d.log()
    );
    // Sample every 100 ms for 9 s, refreshing the kept rule every 2 s.
    let mut gone_at = None;
    let mut refreshed = start;
    while start.elapsed() < Duration::from_secs(9) {
        if refreshed.elapsed() >= Duration::from_secs(2) {
            let out = d.ctl(&format!("announce {KEPT}"));
            assert!(out.trim_end().ends_with("done"), "{out}");
            refreshed = Instant::now();
        }
        let f = flows(&bird);
        assert!(
            has(&f, "198.51.100.2/32"),
            "the refreshed rule left BIRD at {:?}: {f:?}\n{}",
            start.elapsed(),
            d.log()
        );
        if gone_at.is_none() && !has(&f, "198.51.100.1/32") {
            gone_at = Some(start.elapsed());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let gone_at = gone_at.unwrap_or_else(|| panic!("the leased rule never left BIRD\n{}", d.log()));
    println!("the unrefreshed rule left BIRD {gone_at:?} after its announce");
    assert!(
        gone_at >= Duration::from_secs(4) && gone_at <= Duration::from_secs(6),
        "left after {gone_at:?}, expected 5 s ± 1 s\n{}",
        d.log()
    );
    assert!(
        d.log().contains("lease expired, withdrawing flow once"),
        "{}",
        d.log()
    );
    d.assert_no_bug();
    bird.stop();
}
