//! What the reload tests share: a model of the configuration they write (rendered to
//! bgpinject's syntax and to the table BIRD must show), and readers of BIRD's session
//! "Since" time and withdraw counters.

#![allow(dead_code)]

use std::fmt::Write as _;
use std::time::Duration;

use crate::harness::bird::Bird;
use crate::harness::{ReceivedRoute, diff_routes, wait_for};

pub const BIN: &str = env!("CARGO_BIN_EXE_bgpinject");
pub const LOCAL_AS: u32 = 65000;
pub const PEER_AS: u32 = 65001;

/// One configured route.
#[derive(Clone, Debug)]
pub struct Route {
    pub prefix: String,
    pub next_hop: String,
    pub med: Option<u32>,
    pub communities: Vec<String>,
    pub as_path: Option<Vec<u32>>,
    /// `split /LEN` (the expected table holds the more-specifics).
    pub split: Option<u8>,
}

impl Route {
    pub fn new(prefix: &str, next_hop: &str) -> Route {
        Route {
            prefix: prefix.into(),
            next_hop: next_hop.into(),
            med: None,
            communities: Vec::new(),
            as_path: None,
            split: None,
        }
    }

    pub fn line(&self) -> String {
        let mut l = format!("route {} next-hop {}", self.prefix, self.next_hop);
        if let Some(m) = self.med {
            let _ = write!(l, " med {m}");
        }
        if !self.communities.is_empty() {
            let _ = write!(l, " community [ {} ]", self.communities.join(" "));
        }
        if let Some(p) = &self.as_path {
            let words: Vec<String> = p.iter().map(u32::to_string).collect();
            let _ = write!(l, " as-path [ {} ]", words.join(" "));
        }
        if let Some(s) = self.split {
            let _ = write!(l, " split /{s}");
        }
        l.push(';');
        l
    }

    /// What BIRD must show (eBGP: no LOCAL_PREF, default AS path `[local-as]`).
    pub fn expected(&self) -> Vec<ReceivedRoute> {
        let mut communities: Vec<String> = self
            .communities
            .iter()
            .map(|c| match c.as_str() {
                "no-export" => "65535:65281".to_string(),
                other => other.to_string(),
            })
            .collect();
        communities.sort();
        let one = |prefix: String| ReceivedRoute {
            prefix,
            next_hop: self.next_hop.clone(),
            origin: "igp".into(),
            as_path: self.as_path.clone().unwrap_or(vec![LOCAL_AS]),
            med: self.med,
            communities: communities.clone(),
            ..Default::default()
        };
        match self.split {
            None => vec![one(self.prefix.clone())],
            Some(len) => {
                // IPv4 only in these tests.
                let (addr, plen) = self.prefix.split_once('/').unwrap();
                let base = u32::from(addr.parse::<std::net::Ipv4Addr>().unwrap());
                let plen: u8 = plen.parse().unwrap();
                (0..1u32 << (len - plen))
                    .map(|i| {
                        let a = std::net::Ipv4Addr::from(base | (i << (32 - len)));
                        one(format!("{a}/{len}"))
                    })
                    .collect()
            }
        }
    }

    pub fn is_ipv6(&self) -> bool {
        self.prefix.contains(':')
    }
}

/// One neighbor block; BIRD listens on `bird_address`, bgpinject binds `local_address`.
#[derive(Clone, Debug)]
pub struct Neighbor {
    pub bird_address: String,
    pub local_address: String,
    pub port: u16,
    pub hold_time: u16,
    pub routes: Vec<Route>,
}

impl Neighbor {
    pub fn render(&self, c: &mut String) {
        let _ = writeln!(c, "neighbor {} {{", self.bird_address);
        c.push_str("    router-id 192.0.2.250;\n");
        let _ = writeln!(c, "    local-address {};", self.local_address);
        let _ = writeln!(c, "    local-as {LOCAL_AS};\n    peer-as {PEER_AS};");
        let _ = writeln!(c, "    hold-time {};", self.hold_time);
        let _ = writeln!(c, "    connect {};", self.port);
        c.push_str("    family { ipv4 unicast; ipv6 unicast; }\n    static {\n");
        for r in &self.routes {
            let _ = writeln!(c, "        {}", r.line());
        }
        c.push_str("    }\n}\n");
    }

    pub fn expected(&self, ipv6: bool) -> Vec<ReceivedRoute> {
        self.routes
            .iter()
            .filter(|r| r.is_ipv6() == ipv6)
            .flat_map(Route::expected)
            .collect()
    }
}

pub fn render(neighbors: &[&Neighbor]) -> String {
    let mut c = String::from("# written by the reload tests\n");
    for n in neighbors {
        n.render(&mut c);
    }
    c
}

/// Waits until BIRD shows exactly `n`'s routes from `protocol`; the differences otherwise.
pub fn wait_table(bird: &Bird, protocol: &str, n: &Neighbor, timeout: Duration) -> Vec<String> {
    let check = || {
        let mut diffs = Vec::new();
        for (table, ipv6) in [("master4", false), ("master6", true)] {
            let got = bird.routes_from(table, protocol);
            diffs.extend(diff_routes(
                &format!("BIRD {protocol} {table}"),
                &n.expected(ipv6),
                &got,
            ));
        }
        diffs
    };
    wait_for(timeout, || {
        let d = check();
        d.is_empty().then_some(())
    })
    .map(|_| Vec::new())
    .unwrap_or_else(check)
}

/// The "Since" column of `show protocols all NAME`, as milliseconds of the day. BIRD keeps
/// it on its monotonic clock and converts it for display, so two readings of one unchanged
/// session may differ by a millisecond: compare with [`same_session`].
pub fn since(bird: &Bird, protocol: &str) -> i64 {
    let info = bird.protocol_info(protocol);
    info.lines()
        .find(|l| l.split_whitespace().next() == Some(protocol))
        .and_then(|l| {
            // Name Proto Table State Since Info; Since may be a date and a time.
            let time = l.split_whitespace().skip(4).find(|f| f.contains(':'))?;
            let mut ms = 0i64;
            for (i, part) in time.split(':').enumerate() {
                let v: f64 = part.parse().ok()?;
                ms += (v * [3_600_000.0, 60_000.0, 1000.0][i.min(2)]) as i64;
            }
            Some(ms)
        })
        .unwrap_or(-1)
}

/// Whether two "Since" readings are the same session (see [`since`]).
pub fn same_session(a: i64, b: i64) -> bool {
    a >= 0 && (a - b).abs() <= 20
}

/// The sum of "Import withdraws: received" over the protocol's channels.
pub fn withdraws_received(bird: &Bird, protocol: &str) -> u64 {
    bird.protocol_info(protocol)
        .lines()
        .filter_map(|l| l.trim().strip_prefix("Import withdraws:"))
        .filter_map(|rest| rest.split_whitespace().next()?.parse::<u64>().ok())
        .sum()
}

pub fn sighup(pid: u32) {
    // SAFETY: kill(2) with a pid of a child this test started.
    let rc = unsafe { libc::kill(pid as libc::pid_t, libc::SIGHUP) };
    assert_eq!(rc, 0, "kill(SIGHUP) failed");
}

/// Writes `text` to `path` the way an operator's tool would: a temp file renamed into place.
pub fn replace_file(path: &std::path::Path, text: &str) {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).expect("write config");
    std::fs::rename(&tmp, path).expect("rename config");
}

/// How many times the log says a reload was refused.
pub fn refusals(log: &str) -> usize {
    log.matches("reload refused, keeping the running configuration")
        .count()
}
