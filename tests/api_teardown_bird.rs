//! ExaBGP's `teardown` command against BIRD: the session closes with Cease / the subcode asked
//! for, BIRD shows the shutdown communication (RFC 9003) it received, and the session comes
//! back by itself with its routes.

mod harness;

use std::time::Duration;

use harness::bird::{BgpProtocol, BirdBuilder};
use harness::controlled::Controlled;
use harness::wait_for;

const BIRD: (&str, u16) = ("127.0.26.9", 18030);
const LOCAL: &str = "127.0.26.20";

#[test]
fn teardown_closes_with_the_message_and_the_session_comes_back() {
    let mut bird = BirdBuilder::new("192.0.2.29", BIRD.0, BIRD.1)
        .bgp(BgpProtocol::new("inj", LOCAL, 179, 65001, 65000).passive(true))
        .start();
    let d = Controlled::start("info", |_| {
        format!(
            "neighbor {} {{ router-id 192.0.2.10; local-address {LOCAL}; local-as 65000; peer-as 65001; connect {}; static {{ route 198.51.100.0/24 next-hop 192.0.2.1; }} }}\n",
            BIRD.0, BIRD.1
        )
    });
    bird.wait_established("inj", Duration::from_secs(30));
    bird.wait_route_count("master4", 1, Duration::from_secs(15));
    let out = d.ctl("neighbor 127.0.26.9 teardown 2 maintenance until 18:00");
    assert!(out.trim_end().ends_with("done"), "{out}");
    let seen = wait_for(Duration::from_secs(15), || {
        let info = bird.protocol_info("inj");
        info.contains("maintenance until 18:00").then_some(info)
    });
    assert!(
        seen.is_some(),
        "BIRD never showed the message:\n{}\n{}",
        bird.protocol_info("inj"),
        d.log()
    );
    assert!(
        d.log()
            .contains("6/2 (Cease / Administrative Shutdown) \"maintenance until 18:00\""),
        "{}",
        d.log()
    );
    // It connects again, and BIRD has the route again.
    bird.wait_established("inj", Duration::from_secs(30));
    bird.wait_route_count("master4", 1, Duration::from_secs(15));
    // A selector that matches nothing is refused, and nothing is closed.
    let out = d.ctl("neighbor 192.0.2.77 teardown 4");
    assert!(out.trim_end().ends_with("error"), "{out}");
    assert!(d.log().contains("teardown by"), "{}", d.log());
    d.assert_no_bug();
    bird.stop();
}
