//! A helper's lines are read many at a time (the lines of one read go to the manager as one
//! batch): the order of its commands is kept inside a batch, a flood of withdrawals of routes
//! it never announced changes nothing, and a line cut by the helper's death is not applied.
//! The neighbor never connects (a closed port): routes are read with `show adj-rib out`.

mod harness;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, Instant};

use harness::controlled::Controlled;

/// bgpinject with `helper` (a Python program) as the helper of a neighbor that never connects.
fn start(helper: &str) -> Controlled {
    Controlled::start("info", |dir| {
        let script = dir.join("helper.py");
        fs::write(&script, helper).unwrap();
        fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).unwrap();
        format!(
            "process batch {{ run /usr/bin/python3 {}; }}
neighbor 127.0.44.5 {{ router-id 192.0.2.10; local-address 127.0.44.13; local-as 65000; peer-as 65001; connect 18540; api {{ processes [ batch ]; }} }}
",
            script.display()
        )
    })
}

/// The `show adj-rib out` lines that carry a prefix starting with `start`.
fn routes_under(inj: &Controlled, start: &str) -> Vec<String> {
    inj.ctl("show adj-rib out")
        .lines()
        .filter(|l| l.contains(&format!(" {start}")))
        .map(String::from)
        .collect()
}

#[test]
fn announce_and_withdraw_of_one_prefix_in_one_write_keep_their_order() {
    // One write of 6,000 lines (several batches): 1,000 prefixes announced, withdrawn and
    // announced again with another MED; 1,000 announced then withdrawn; then a marker.
    let helper = "import sys
lines = []
for i in range(1000):
    p = f'10.2.{i // 256}.{i % 256}/32'
    lines.append(f'announce route {p} next-hop 192.0.2.1 med 1')
    lines.append(f'withdraw route {p}')
    lines.append(f'announce route {p} next-hop 192.0.2.1 med 2')
for i in range(1000):
    p = f'10.3.{i // 256}.{i % 256}/32'
    lines.append(f'announce route {p} next-hop 192.0.2.1')
    lines.append(f'withdraw route {p} next-hop 192.0.2.1')
lines.append('announce route 10.9.0.0/24 next-hop 192.0.2.1')
sys.stdout.write('\\n'.join(lines) + '\\n')
sys.stdout.flush()
for line in sys.stdin:
    pass
";
    let inj = start(helper);
    assert!(
        inj.wait_route("10.9.0.0/24", Duration::from_secs(30)),
        "{}",
        inj.log()
    );
    let kept = routes_under(&inj, "10.2.");
    assert_eq!(kept.len(), 1000, "{kept:?}");
    assert!(kept.iter().all(|l| l.contains("med 2")), "{kept:?}");
    let gone = routes_under(&inj, "10.3.");
    assert!(gone.is_empty(), "{gone:?}");
    inj.assert_no_bug();
}

#[test]
fn a_million_withdrawals_of_unknown_routes_change_nothing_and_the_next_line_applies() {
    let helper = "import sys
out = sys.stdout
for k in range(100):
    out.write(''.join(f'withdraw route 10.{k}.{i // 256}.{i % 256}/32\\n' for i in range(10000)))
out.write('announce route 10.200.0.0/24 next-hop 192.0.2.1\\n')
out.flush()
for line in sys.stdin:
    pass
";
    let inj = start(helper);
    assert!(
        inj.wait_route("10.200.0.0/24", Duration::from_secs(120)),
        "{}",
        inj.log()
    );
    let all: Vec<String> = inj
        .ctl("show adj-rib out")
        .lines()
        .filter(|l| l.contains("/"))
        .map(String::from)
        .collect();
    assert_eq!(all.len(), 1, "{all:?}");
    inj.assert_no_bug();
}

#[test]
fn a_line_cut_by_the_helpers_death_is_not_applied() {
    // `med 100` cut to `med 1`: the whole lines before it apply, the cut one does not.
    let helper = "import sys, os
sys.stdout.write('announce route 10.4.0.0/24 next-hop 192.0.2.1\\n')
sys.stdout.write('announce route 10.5.0.0/24 next-hop 192.0.2.1 med 1')
sys.stdout.flush()
os._exit(0)
";
    let inj = start(helper);
    assert!(
        inj.wait_route("10.4.0.0/24", Duration::from_secs(30)),
        "{}",
        inj.log()
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while !inj.log().contains("in the middle of a line") && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        inj.log().contains("in the middle of a line"),
        "{}",
        inj.log()
    );
    assert!(routes_under(&inj, "10.5.").is_empty(), "{}", inj.log());
    inj.assert_no_bug();
}
