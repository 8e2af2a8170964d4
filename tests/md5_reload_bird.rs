//! Removing `md5-password` on both sides, by a reload of each, brings the session back
//! without restarting bgpinject: the key goes from bgpinject's listening socket too, so BIRD's
//! unsigned SYNs are accepted again.

mod harness;

use std::fs;
use std::time::Duration;

use harness::bird::{BgpProtocol, BirdBuilder};
use harness::controlled::Controlled;
use harness::wait_for;

const BIRD: (&str, u16) = ("127.0.16.6", 17923);
const LOCAL: (&str, u16) = ("127.0.16.17", 17924);
const PROTO: &str = "mdfive";

fn injector_config(md5: &str) -> String {
    format!(
        "neighbor {} {{ router-id 192.0.2.10; local-address {}; listen {}; passive; local-as 65000; peer-as 65001; {md5}
  static {{ route 198.51.100.1/32 next-hop 192.0.2.10; }} }}\n",
        BIRD.0, LOCAL.0, LOCAL.1
    )
}

fn bird_builder(password: &str) -> BirdBuilder {
    BirdBuilder::new("192.0.2.23", BIRD.0, BIRD.1).bgp(
        BgpProtocol::new(PROTO, LOCAL.0, LOCAL.1, 65001, 65000)
            .extra(&format!("    connect delay time 1;\n{password}")),
    )
}

#[test]
fn removing_md5_on_both_sides_brings_the_session_back_without_a_restart() {
    let bird = bird_builder("    password \"s3cret-key\";\n").start();
    let inj = Controlled::start("info", |_| injector_config("md5-password \"s3cret-key\";"));
    let established = |timeout| {
        wait_for(timeout, || {
            (bird.protocol_state(PROTO) == "Established").then_some(())
        })
        .is_some()
    };
    assert!(
        established(Duration::from_secs(30)),
        "not established with MD5\n{}",
        inj.log()
    );

    fs::write(&inj.config, injector_config("")).unwrap();
    // SAFETY: kill(2) on the pid of the child this test started.
    assert_eq!(unsafe { libc::kill(inj.pid(), libc::SIGHUP) }, 0);
    let conf = bird.dir().join("bird.conf");
    let log = bird.dir().join("bird.log");
    fs::write(&conf, bird_builder("").config(log.to_str().unwrap())).unwrap();
    let reply = bird.birdc(&["configure"]).unwrap_or_default();
    assert!(reply.contains("onfigur"), "{reply}");
    assert!(
        established(Duration::from_secs(40)),
        "not back without MD5: {}\n{}",
        bird.protocol_info(PROTO),
        inj.log()
    );
    assert_eq!(
        bird.wait_route_count("master4", 1, Duration::from_secs(10))
            .len(),
        1
    );
    inj.assert_no_bug();
    assert_eq!(
        inj.log().matches("bgpinject 0.1.0 starting").count(),
        1,
        "bgpinject restarted"
    );
}
