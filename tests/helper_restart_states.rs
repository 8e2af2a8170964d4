//! A helper started again (after it exited) is told which of its neighbors are up, as ExaBGP's
//! helpers expect: without it, a restarted health checker or controller would believe its
//! neighbor down until the session changes.

mod harness;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use harness::bird::{BgpProtocol, BirdBuilder};
use harness::controlled::Controlled;
use harness::wait_for;

const BIRD: (&str, u16) = ("127.0.16.9", 17927);
const LOCAL: &str = "127.0.16.20";

/// Records what it reads in run-N (N counts its instances); the first exits once it has heard
/// that the neighbor is up.
const HELPER: &str = r#"#!/bin/sh
d="$(dirname "$0")"
n=$(ls "$d" | grep -c '^run-')
n=$((n+1))
touch "$d/run-$n"
while read line; do
  echo "$line" >> "$d/run-$n"
  case "$line" in *" up"*) [ "$n" -eq 1 ] && exit 0;; esac
done
"#;

#[test]
fn a_restarted_helper_is_told_which_neighbors_are_up() {
    let bird = BirdBuilder::new("192.0.2.24", BIRD.0, BIRD.1)
        .bgp(BgpProtocol::new("inj", LOCAL, 179, 65001, 65000).passive(true))
        .start();
    let d = Controlled::start("info", |dir| {
        let helper = dir.join("helper.sh");
        fs::write(&helper, HELPER).unwrap();
        fs::set_permissions(&helper, fs::Permissions::from_mode(0o755)).unwrap();
        format!(
            "process watcher {{ run {}; }}
neighbor {} {{ router-id 192.0.2.10; local-address {LOCAL}; local-as 65000; peer-as 65001; connect {}; api {{ processes [ watcher ]; neighbor-changes; }} }}
",
            helper.display(),
            BIRD.0,
            BIRD.1
        )
    });
    bird.wait_established("inj", Duration::from_secs(30));
    let second = d.dir.path().join("run-2");
    let told = wait_for(Duration::from_secs(15), || {
        fs::read_to_string(&second)
            .ok()
            .filter(|t| t.contains(&format!("neighbor {} up", BIRD.0)))
    });
    assert!(
        told.is_some(),
        "first: {:?}\nsecond: {:?}\n{}",
        fs::read_to_string(d.dir.path().join("run-1")),
        fs::read_to_string(&second),
        d.log()
    );
    d.assert_no_bug();
}
