//! Reload benchmark: a configuration of 1,000,000 routes (generated into a temp dir),
//! measured through the library as the daemon uses it:
//!
//! - load: `config::load` (lexer, parser, validation) of the whole file;
//! - identical: `ReloadPlan::new` from that configuration to a second load of the same
//!   file; the plan must send nothing;
//! - 1 % changed: the same for a file where every 100th route has another MED, then
//!   `rib::packer::pack` of the resulting difference into UPDATE messages.
//!
//! `cargo bench --bench reload` (or `make bench`); `ROUTES=N` changes the table size.

use std::fmt::Write as _;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bgpinject::config::{self, Config, NeighborConfig};
use bgpinject::manager::route_sets;
use bgpinject::reload_plan::{NeighborChange, Programs, ReloadPlan};
use bgpinject::rib::packer::{self, SessionParams};
use bgpinject::rib::route_set::RouteSet;

/// RFC 4271 §4.1: the largest message without RFC 8654 extended messages.
const MAX_MESSAGE_LEN: usize = 4096;

/// The configuration text: one neighbor, `routes` IPv4 /32s from 10.0.0.0/8 upwards (a
/// benchmark table, never sent anywhere), MED `i % 1000` or 7 for changed routes.
fn generate(routes: usize, changed_every: Option<usize>) -> String {
    let mut c = String::with_capacity(routes * 64);
    c.push_str(
        "neighbor 127.0.0.1 {\n    router-id 192.0.2.10;\n    local-address 127.0.0.2;\n    local-as 65000;\n    peer-as 65001;\n    static {\n",
    );
    for i in 0..routes {
        let a = 0x0a00_0000u32 + i as u32;
        let med = match changed_every {
            Some(k) if i.is_multiple_of(k) => 7_000_000,
            _ => i % 1000,
        };
        let _ = writeln!(
            c,
            "        route {}.{}.{}.{}/32 next-hop 192.0.2.{} med {med} community [ 65000:{} ];",
            a >> 24,
            (a >> 16) & 255,
            (a >> 8) & 255,
            a & 255,
            1 + i % 200,
            i % 50
        );
    }
    c.push_str("    }\n}\n");
    c
}

fn timed<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let start = Instant::now();
    let v = f();
    (v, start.elapsed())
}

fn load(path: &Path) -> Config {
    config::load(path).unwrap_or_else(|e| panic!("benchmark config does not load: {e}"))
}

fn running(c: &Config) -> Vec<(NeighborConfig, Arc<RouteSet>)> {
    c.neighbors.iter().cloned().zip(route_sets(c)).collect()
}

fn params() -> SessionParams {
    SessionParams {
        group_updates: true,
        four_octet_as: true,
        ebgp: true,
        local_as: 65000,
        local_address: "127.0.0.2".parse().unwrap(),
        families: vec![bgpinject::wire::family::Family::IPV4_UNICAST],
        max_message_len: MAX_MESSAGE_LEN,
        add_path: Vec::new(),
        extended_next_hop: Vec::new(),
        local_link_local: None,
        confederation: Default::default(),
        role: None,
    }
}

fn main() {
    // `cargo bench` passes `--bench`; there are no other options.
    let routes: usize = std::env::var("ROUTES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir().expect("temp dir");
    let same = dir.path().join("same.conf");
    let changed = dir.path().join("changed.conf");
    let (text, gen_time) = timed(|| generate(routes, None));
    std::fs::write(&same, &text).expect("write config");
    std::fs::write(&changed, generate(routes, Some(100))).expect("write config");
    let size_mb = text.len() as f64 / 1e6;
    drop(text);

    let (old, load_time) = timed(|| load(&same));
    let (old_running, sets_time) = timed(|| running(&old));

    let new_same = load(&same);
    let (plan, same_plan_time) =
        timed(|| ReloadPlan::new(&old_running, Programs::of(&old), &new_same));
    let same_sent = sent(&plan);
    assert_eq!(same_sent, 0, "an identical file must send nothing");

    let new_changed = load(&changed);
    let (plan, changed_plan_time) =
        timed(|| ReloadPlan::new(&old_running, Programs::of(&old), &new_changed));
    let (packed, pack_time) = timed(|| match plan.neighbors.values().next() {
        Some((NeighborChange::Updated { diff, .. }, _)) => packer::pack(diff, &params()),
        other => panic!("expected an update, got {other:?}"),
    });
    assert_eq!(sent(&plan), routes.div_ceil(100));
    // A new session's whole table, and what the metrics read of it (per-family counts).
    let table = &old_running[0].1;
    let (whole, whole_time) = timed(|| packer::pack_table(table, &params()));
    let (counts, count_time) = timed(|| bgpinject::wire::family_counts::count(&whole.bytes, &[]));
    let counted: u64 = counts.iter().map(|(_, c)| c.announced).sum();
    assert_eq!(counted, whole.announced as u64);

    let ms = |d: Duration| format!("{:>10.1} ms", d.as_secs_f64() * 1e3);
    println!("reload benchmark: {routes} routes, {size_mb:.1} MB of configuration");
    println!("{:<58}{:>13}", "step", "time");
    println!(
        "{:<58}{}",
        "generate the configuration text (not the library)",
        ms(gen_time)
    );
    println!("{:<58}{}", "(a) config::load", ms(load_time));
    println!(
        "{:<58}{}",
        "    route sets of the running configuration",
        ms(sets_time)
    );
    println!(
        "{:<58}{}",
        "(b) ReloadPlan::new, identical file (0 routes to send)",
        ms(same_plan_time)
    );
    println!(
        "{:<58}{}",
        format!("(c) ReloadPlan::new, 1 % changed ({} routes)", sent(&plan)),
        ms(changed_plan_time)
    );
    println!(
        "{:<58}{}",
        format!(
            "    packer::pack ({} UPDATEs, {} bytes)",
            packed.messages,
            packed.bytes.len()
        ),
        ms(pack_time)
    );
    println!(
        "{:<58}{}",
        "    (c) total: plan + pack",
        ms(changed_plan_time + pack_time)
    );
    println!(
        "{:<58}{}",
        format!(
            "packer::pack_table, the whole table ({} UPDATEs)",
            whole.messages
        ),
        ms(whole_time)
    );
    println!(
        "{:<58}{}",
        "    family_counts::count of it (the metrics' cost)",
        ms(count_time)
    );
}

/// Routes a plan announces or withdraws over kept sessions.
fn sent(plan: &ReloadPlan) -> usize {
    plan.neighbors
        .values()
        .map(|(c, _)| match c {
            NeighborChange::Updated { diff, .. } => diff.announce.len() + diff.withdraw.len(),
            _ => panic!("the benchmark's neighbor must keep its session"),
        })
        .sum()
}
