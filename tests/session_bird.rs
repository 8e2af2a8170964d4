//! The session core against a real BIRD 2: a ROUTE-REFRESH that arrives while a large diff
//! is being written must be answered from the new table, so that BIRD ends with exactly the
//! configured routes (before, it got the old table re-sent between the withdrawals and kept
//! 17,307 routes bgpinject believed withdrawn).

mod harness;

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use harness::bgpinject::Bgpinject;
use harness::bird::{BgpProtocol, Bird, BirdBuilder};
use harness::{rerun_in_small_buffer_namespace, wait_for};

const BIN: &str = env!("CARGO_BIN_EXE_bgpinject");
const BIRD: &str = "127.0.15.30";
const INJECT: &str = "127.0.15.31";
const PORT: u16 = 17930;
const ROUTES: u32 = 1_000_000;

fn config(routes: u32) -> String {
    let mut body = String::new();
    for i in 0..routes {
        let addr = std::net::Ipv4Addr::from(0x0A00_0000u32 + i);
        let _ = writeln!(body, "        route {addr}/32 next-hop 192.0.2.10;");
    }
    format!(
        "neighbor {BIRD} {{
    router-id 192.0.2.10; local-address {INJECT}; local-as 65000; peer-as 65001;
    connect {PORT};
    static {{
        route 198.51.100.1/32 next-hop 192.0.2.10;
{body}    }}
}}
"
    )
}

/// BIRD's `show route count` for master4.
fn count(bird: &Bird) -> Option<usize> {
    bird.birdc(&["show", "route", "count", "table", "master4"])?
        .lines()
        .find_map(|l| l.split_whitespace().next()?.parse::<usize>().ok())
}

/// The "received" column of BIRD's "Import updates:" line for the protocol.
fn updates_received(bird: &Bird) -> u64 {
    bird.protocol_info("big")
        .lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix("Import updates:")?
                .split_whitespace()
                .next()?
                .parse()
                .ok()
        })
        .unwrap_or_else(|| panic!("{}", bird.protocol_info("big")))
}

#[test]
fn refresh_during_a_1m_route_withdrawal_leaves_bird_with_exactly_the_configured_route() {
    // Small send buffers: the withdrawals take as long to write as BIRD takes to read them,
    // as across a real network, so the ROUTE-REFRESH lands while they are being written.
    if rerun_in_small_buffer_namespace(
        "refresh_during_a_1m_route_withdrawal_leaves_bird_with_exactly_the_configured_route",
    ) {
        return;
    }
    let started = Instant::now();
    let protocol = BgpProtocol::new("big", INJECT, 179, 65001, 65000).passive(true);
    let bird = BirdBuilder::new("192.0.2.1", BIRD, PORT)
        .bgp(protocol)
        .start();
    let mut inj = Bgpinject::start(BIN, &config(ROUTES), "info");
    // Deadlines, not polls for a result: a debug build reads 1M routes before it connects,
    // which a loaded 2-core machine can stretch past a minute.
    bird.wait_established("big", Duration::from_secs(240));
    let total = ROUTES as usize + 1;
    wait_for(Duration::from_secs(240), || {
        (count(&bird) == Some(total)).then_some(())
    })
    .unwrap_or_else(|| panic!("BIRD has {:?} routes: {}", count(&bird), inj.log()));
    println!(
        "{total} routes in BIRD after {:.1} s",
        started.elapsed().as_secs_f64()
    );

    // The reload keeps one route; 50 ms after bgpinject starts writing the withdrawals,
    // BIRD asks for the routes again.
    std::fs::write(&inj.config, config(0)).unwrap();
    let updates_before = updates_received(&bird);
    // SAFETY: kill(2) on the child we started.
    unsafe {
        libc::kill(inj.pid().unwrap() as libc::pid_t, libc::SIGHUP);
    }
    wait_for(Duration::from_secs(30), || {
        inj.log()
            .contains(&format!("0 announcements and {ROUTES} withdrawals"))
            .then_some(())
    })
    .unwrap_or_else(|| panic!("no withdrawals sent: {}", inj.log()));
    std::thread::sleep(Duration::from_millis(50));
    let refreshed = bird.birdc(&["reload", "in", "big"]).unwrap_or_default();
    assert!(refreshed.contains("reload"), "birdc: {refreshed}");

    // bgpinject answers the refresh once the withdrawals are written, from the new table.
    wait_for(Duration::from_secs(30), || {
        (count(&bird) == Some(1) && inj.log().contains("route refresh for ipv4 unicast"))
            .then_some(())
    })
    .unwrap_or_else(|| panic!("BIRD has {:?} routes: {}", count(&bird), inj.log()));
    // And stays there: nothing of the old table arrives after.
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(count(&bird), Some(1));
    let routes = bird.routes("master4");
    assert_eq!(routes.len(), 1);
    assert_eq!(routes[0].prefix, "198.51.100.1/32");
    assert_eq!(routes[0].next_hop, "192.0.2.10");
    // The refresh reached BIRD on the wire: it received the route again.
    assert!(
        updates_received(&bird) > updates_before,
        "BIRD received no UPDATE after its ROUTE-REFRESH"
    );
    assert_eq!(bird.protocol_state("big"), "Established");
    inj.stop();
    inj.assert_no_resets(1);
    println!("done in {:.1} s", started.elapsed().as_secs_f64());
}

/// A route whose 1,500 communities make an UPDATE of about 6 KB, to a BIRD that did not
/// negotiate extended messages (BIRD's default): bgpinject sends no message BIRD would answer
/// with Bad Message Length. The session stays up, the other routes arrive with their values,
/// and the large route is withdrawn, with an error naming it.
#[test]
fn a_route_too_large_for_a_4096_octet_update_is_withdrawn_and_the_session_stays_up() {
    const BIRD_BIG: &str = "127.0.30.40";
    const INJECT_BIG: &str = "127.0.30.41";
    const PORT_BIG: u16 = 18105;
    let protocol = BgpProtocol::new("big", INJECT_BIG, 179, 65001, 65000).passive(true);
    let bird = BirdBuilder::new("192.0.2.1", BIRD_BIG, PORT_BIG)
        .bgp(protocol)
        .start();
    let communities: Vec<String> = (0..1500).map(|i| format!("65000:{i}")).collect();
    let config = format!(
        "neighbor {BIRD_BIG} {{
    router-id 192.0.2.10; local-address {INJECT_BIG}; local-as 65000; peer-as 65001;
    connect {PORT_BIG};
    static {{
        route 198.51.100.1/32 next-hop 192.0.2.10 med 7;
        route 198.51.100.2/32 next-hop 192.0.2.10 community [ {} ];
        route 198.51.100.3/32 next-hop 192.0.2.10 community [ 65000:1 ];
    }}
}}
",
        communities.join(" ")
    );
    let mut inj = Bgpinject::start(BIN, &config, "info");
    bird.wait_established("big", Duration::from_secs(60));
    let got = wait_for(Duration::from_secs(30), || {
        let mut p: Vec<String> = bird
            .routes("master4")
            .into_iter()
            .map(|r| r.prefix)
            .collect();
        p.sort();
        (p.len() == 2 && inj.log().contains("not sent (withdrawn)")).then_some(p)
    })
    .unwrap_or_else(|| panic!("{:?}\n{}", bird.routes("master4"), inj.log()));
    assert_eq!(got, ["198.51.100.1/32", "198.51.100.3/32"]);
    assert!(
        inj.log()
            .contains("route ipv4 unicast 198.51.100.2/32 not sent (withdrawn)")
            || inj
                .log()
                .contains("route 198.51.100.2/32 not sent (withdrawn)"),
        "{}",
        inj.log()
    );
    // Still up a moment later: BIRD did not close it over the message length.
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(bird.protocol_state("big"), "Established");
    inj.stop();
    inj.assert_no_resets(1);
}
