//! Interoperability matrix: bgpinject announces IPv4 and IPv6 unicast routes carrying every
//! attribute it supports to five real BGP implementations (BIRD, FRR, GoBGP, OpenBGPD, ExaBGP),
//! over iBGP and eBGP sessions on IPv4 (127.0.7.x) and IPv6 (::1) loopback.
//!
//! Each cell is one test and one session. The routes and what a receiver must show for them come
//! from one generator ([`routes`]) that also writes bgpinject's configuration; what a receiver
//! does to a route on its own (its quirks) is applied in one place per peer, [`Peer::quirks`].
//!
//! Columns:
//! - `*_table_*`: the initial table (every route, every attribute), End-of-RIB where the peer
//!   exposes it, then SIGTERM: bgpinject exits 0 and the peer drops every route;
//! - `*_two_byte_as_*`: the peer is a 2-octet-AS speaker and must see AS_TRANS / the real path;
//! - `*_route_refresh`: the peer asks for a route refresh and bgpinject sends the family again;
//! - `*_peer_restart`: the peer is stopped and started again; bgpinject reconnects and the peer
//!   has the full table again.
//!
//! Addresses: 127.0.7.(2·slot+1) is the peer, 127.0.7.(2·slot+2) bgpinject; IPv6 cells use ::1
//! on both sides. The peer listens on port 14700 + slot. Every slot is used by one test only.

mod harness;

use std::fmt::{self, Write as _};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::{Duration, Instant};

use harness::bgpinject::Bgpinject;
use harness::bird::{BirdReceiver, RECEIVER_PROTOCOL};
use harness::exabgp::Exabgp;
use harness::frr::Frr;
use harness::gobgp::Gobgp;
use harness::openbgpd::Openbgpd;
use harness::spec::{Receiver, ReceiverSpec};
use harness::{ReceivedRoute, diff_routes, wait_for};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_bgpinject");
const ROUTES_PER_FAMILY: usize = 20;
const ESTABLISH_TIMEOUT: Duration = Duration::from_secs(40);
const TABLE_TIMEOUT: Duration = Duration::from_secs(30);
const WITHDRAW_TIMEOUT: Duration = Duration::from_secs(20);
/// bgpinject's reconnect backoff (1 s, doubling) plus the peer's own start-up.
const RESTART_TIMEOUT: Duration = Duration::from_secs(60);
/// AS_TRANS, RFC 6793 §9.
const AS_TRANS: u32 = 23456;
const AFIS: [&str; 2] = ["ipv4", "ipv6"];

/// One cell of the matrix: the session between bgpinject and the peer.
#[derive(Clone, Copy, Debug)]
struct Cell {
    slot: u8,
    ibgp: bool,
    ipv6_session: bool,
    /// The peer announces the 4-octet AS capability (false: a 2-byte-AS peer).
    four_octet_peer: bool,
}

impl Cell {
    fn new(slot: u8, ibgp: bool, ipv6_session: bool) -> Cell {
        Cell {
            slot,
            ibgp,
            ipv6_session,
            four_octet_peer: true,
        }
    }

    fn two_byte_peer(slot: u8) -> Cell {
        Cell {
            four_octet_peer: false,
            ..Cell::new(slot, false, false)
        }
    }

    fn address(&self, offset: u8) -> IpAddr {
        if self.ipv6_session {
            IpAddr::V6(Ipv6Addr::LOCALHOST)
        } else {
            IpAddr::V4(Ipv4Addr::new(127, 0, 7, 2 * self.slot + offset))
        }
    }

    fn peer_address(&self) -> IpAddr {
        self.address(1)
    }

    fn bgpinject_address(&self) -> IpAddr {
        self.address(2)
    }

    fn port(&self) -> u16 {
        14700 + u16::from(self.slot)
    }

    /// 4-octet ASNs on the IPv6 sessions; a 2-byte-AS peer needs a 2-octet one to configure.
    fn bgpinject_as(&self) -> u32 {
        match (self.ibgp, self.ipv6_session) {
            (false, false) => 65000,
            (false, true) => 4_200_000_001,
            (true, false) => 65010,
            (true, true) => 4_200_000_010,
        }
    }

    fn peer_as(&self) -> u32 {
        if self.ibgp {
            self.bgpinject_as()
        } else {
            65001
        }
    }

    fn spec(&self) -> ReceiverSpec {
        let mut spec = ReceiverSpec::new(
            self.peer_address(),
            self.port(),
            self.peer_as(),
            self.bgpinject_address(),
            self.bgpinject_as(),
        );
        spec.four_octet_as = self.four_octet_peer;
        spec
    }
}

impl fmt::Display for Cell {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} over {} (AS {} -> AS {}{})",
            if self.ibgp { "iBGP" } else { "eBGP" },
            if self.ipv6_session { "IPv6" } else { "IPv4" },
            self.bgpinject_as(),
            self.peer_as(),
            if self.four_octet_peer {
                ""
            } else {
                ", 2-byte-AS peer"
            }
        )
    }
}

/// One configured route: its `route` statement and what a correct receiver shows for it.
struct ConfiguredRoute {
    line: String,
    expected: ReceivedRoute,
}

const NO_EXPORT: &str = "65535:65281";
const BLACKHOLE: &str = "65535:666";
const GRACEFUL_SHUTDOWN: &str = "65535:0";

/// Every well-known community bgpinject names, with its value (RFC 1997, 3765, 7611, 7999,
/// 8326, 9494).
const WELL_KNOWN: [(&str, &str); 9] = [
    ("no-export", "65535:65281"),
    ("no-advertise", "65535:65282"),
    ("no-export-subconfed", "65535:65283"),
    ("no-peer", "65535:65284"),
    ("blackhole", "65535:666"),
    ("graceful-shutdown", "65535:0"),
    ("accept-own", "65535:1"),
    ("llgr-stale", "65535:6"),
    ("no-llgr", "65535:7"),
];

/// Route `i` of a family. Every attribute appears on several routes and is left out on others;
/// the last route has nothing but its next hop. The expectation applies bgpinject's defaults:
/// ORIGIN igp; AS_PATH empty on iBGP and `[local-as]` on eBGP; LOCAL_PREF configured or 100 on
/// iBGP and never on eBGP.
fn generate(cell: &Cell, ipv6: bool, i: usize) -> ConfiguredRoute {
    let n = i as u32;
    let (prefix, next_hop) = if ipv6 {
        (
            format!("2001:db8:{:x}::/48", 0x100 + i),
            format!("2001:db8::{:x}", i + 1),
        )
    } else {
        (
            format!("198.51.100.{}/29", 8 * i),
            format!("192.0.2.{}", i + 1),
        )
    };
    let mut line = format!("route {prefix} next-hop {next_hop}");
    let mut expected = ReceivedRoute {
        prefix,
        next_hop,
        origin: "igp".into(),
        as_path: if cell.ibgp {
            vec![]
        } else {
            vec![cell.bgpinject_as()]
        },
        local_pref: cell.ibgp.then_some(100),
        ..Default::default()
    };
    let bare = i == ROUTES_PER_FAMILY - 1;

    if !bare && !i.is_multiple_of(4) {
        let origin = ["igp", "egp", "incomplete"][i % 3];
        let _ = write!(line, " origin {origin}");
        expected.origin = origin.into();
    }

    // 2- and 4-octet ASNs, never the receiver's AS (a loop). On eBGP the path starts with
    // bgpinject's AS, as an operator writes it and as FRR's `enforce-first-as` expects.
    if !bare && !i.is_multiple_of(5) {
        let mut path: Vec<u32> = if cell.ibgp {
            vec![]
        } else {
            vec![cell.bgpinject_as()]
        };
        path.extend((0..i % 4 + 1).map(|k| {
            if (i + k).is_multiple_of(3) {
                4_200_000_000 + n * 10 + k as u32
            } else {
                64_512 + n * 4 + k as u32
            }
        }));
        let text: Vec<String> = path.iter().map(u32::to_string).collect();
        let _ = write!(line, " as-path [ {} ]", text.join(" "));
        expected.as_path = path;
    }

    // Route 0 gets MED 0.
    if !bare && i % 3 != 1 {
        let med = n * 10;
        let _ = write!(line, " med {med}");
        expected.med = Some(med);
    }

    if !bare && i % 4 != 2 {
        let lp = 200 + n;
        let _ = write!(line, " local-preference {lp}");
        if cell.ibgp {
            expected.local_pref = Some(lp);
        }
    }

    // Numeric communities, and on odd routes one well-known community each, all nine in turn.
    if !bare && !i.is_multiple_of(6) {
        let mut words = vec![format!("65000:{n}")];
        if i.is_multiple_of(4) {
            words.push(format!("65535:{}", 100 + n));
        }
        let mut numeric = words.clone();
        if i % 2 == 1 {
            let (name, value) = WELL_KNOWN[i % WELL_KNOWN.len()];
            words.push(name.into());
            numeric.push(value.into());
        }
        let _ = write!(line, " community [ {} ]", words.join(" "));
        numeric.sort();
        expected.communities = numeric;
    }

    if !bare && i % 3 != 1 {
        let (words, norm) = if i.is_multiple_of(3) {
            (
                format!("target:65000:{n} origin:192.0.2.1:{n}"),
                vec![format!("origin:192.0.2.1:{n}"), format!("target:65000:{n}")],
            )
        } else {
            (
                format!("target:4200000000L:{n}"),
                vec![format!("target:4200000000:{n}")],
            )
        };
        let _ = write!(line, " extended-community [ {words} ]");
        expected.extended_communities = norm;
    }

    if !bare && i.is_multiple_of(2) {
        let mut large = vec![format!("65000:{n}:1"), format!("4200000001:2:{n}")];
        let _ = write!(line, " large-community [ {} ]", large.join(" "));
        large.sort();
        expected.large_communities = large;
    }

    if !bare && i % 4 == 3 {
        line.push_str(" atomic-aggregate");
        expected.atomic_aggregate = true;
    }

    if !bare && i % 5 == 2 {
        let asn: u32 = if i % 10 == 7 { 4_200_000_005 } else { 65000 };
        let _ = write!(line, " aggregator ( {asn}:192.0.2.9 )");
        expected.aggregator = Some(format!("{asn}:192.0.2.9"));
    }

    line.push(';');
    ConfiguredRoute { line, expected }
}

fn routes(cell: &Cell, ipv6: bool) -> Vec<ConfiguredRoute> {
    (0..ROUTES_PER_FAMILY)
        .map(|i| generate(cell, ipv6, i))
        .collect()
}

fn bgpinject_config(cell: &Cell, tables: &[Vec<ConfiguredRoute>; 2]) -> String {
    let mut c = String::new();
    let _ = writeln!(c, "neighbor {} {{", cell.peer_address());
    c.push_str("    router-id 192.0.2.250;\n");
    let _ = writeln!(c, "    local-address {};", cell.bgpinject_address());
    let _ = writeln!(c, "    local-as {};", cell.bgpinject_as());
    let _ = writeln!(c, "    peer-as {};", cell.peer_as());
    c.push_str("    hold-time 90;\n");
    let _ = writeln!(c, "    connect {};", cell.port());
    c.push_str("    family { ipv4 unicast; ipv6 unicast; }\n    static {\n");
    for r in tables.iter().flatten() {
        let _ = writeln!(c, "        {}", r.line);
    }
    c.push_str("    }\n}\n");
    c
}

/// How a peer is asked for a ROUTE-REFRESH.
enum RefreshRequest {
    /// The command was run; the peer sends ROUTE-REFRESH for each family.
    Sent,
    /// The command was run, but the peer is documented to send no ROUTE-REFRESH.
    SentNone(&'static str),
}

/// What the matrix needs from a peer beyond [`Receiver`].
trait Peer: Receiver {
    /// The receiver's own treatment of a route, applied to the expectation. Only receiver
    /// behaviour belongs here, never a correction of what bgpinject sends.
    fn quirks(_cell: &Cell, _route: &mut ReceivedRoute) {}
    /// How many End-of-RIB markers the peer has seen on the current session; `None` when the
    /// peer does not expose it.
    fn end_of_ribs(&self) -> Option<usize>;
    /// Asks the peer to request a route refresh for every family.
    fn request_refresh(&self) -> RefreshRequest;
    /// How many UPDATE messages the peer has received on the wire, when it tells.
    fn updates_received(&self) -> Option<usize> {
        None
    }
    /// Whether the peer received a Cease NOTIFICATION, when it tells.
    fn cease_received(&self) -> Option<bool> {
        None
    }
}

impl Peer for BirdReceiver {
    // BIRD attaches a default LOCAL_PREF to routes received without one (eBGP). The harness
    // sets that default to a marker value and reads it back as absent (harness/bird.rs).
    fn end_of_ribs(&self) -> Option<usize> {
        Some(self.end_of_ribs_received())
    }
    fn request_refresh(&self) -> RefreshRequest {
        self.bird
            .birdc(&["reload", "in", RECEIVER_PROTOCOL])
            .expect("birdc reload in");
        RefreshRequest::Sent
    }
    // The `received` column of each channel's `Import updates:` (its packet trace is rate
    // limited, so the log cannot be counted).
    fn updates_received(&self) -> Option<usize> {
        let info = self.bird.protocol_info(RECEIVER_PROTOCOL);
        Some(
            info.lines()
                .filter_map(|l| l.trim().strip_prefix("Import updates:"))
                .filter_map(|rest| rest.split_whitespace().next()?.parse::<usize>().ok())
                .sum(),
        )
    }
    // `Last error: Received: <Cease subcode>` for a NOTIFICATION it received, `Connection
    // closed` when the TCP session just ended.
    fn cease_received(&self) -> Option<bool> {
        Some(
            self.bird
                .protocol_info(RECEIVER_PROTOCOL)
                .lines()
                .any(|l| l.trim().starts_with("Last error:") && l.contains("Received: ")),
        )
    }
}

impl Peer for Frr {
    fn quirks(cell: &Cell, route: &mut ReceivedRoute) {
        if cell.ibgp {
            return;
        }
        // On eBGP import FRR applies the receiver side of RFC 8326: a route carrying
        // GRACEFUL_SHUTDOWN gets LOCAL_PREF 0.
        if route.communities.iter().any(|c| c == GRACEFUL_SHUTDOWN) {
            route.local_pref = Some(0);
        }
        // RFC 7999 §3.2: a BLACKHOLE route learnt over eBGP gets NO_EXPORT added by FRR.
        if route.communities.iter().any(|c| c == BLACKHOLE)
            && !route.communities.iter().any(|c| c == NO_EXPORT)
        {
            route.communities.push(NO_EXPORT.into());
            route.communities.sort();
        }
    }
    fn end_of_ribs(&self) -> Option<usize> {
        None
    }
    fn request_refresh(&self) -> RefreshRequest {
        // Without `soft-reconfiguration inbound` FRR keeps no Adj-RIB-In copy, so a soft
        // inbound clear sends ROUTE-REFRESH.
        self.vtysh(&["clear bgp * soft in"])
            .expect("vtysh clear bgp * soft in");
        RefreshRequest::Sent
    }
}

impl Peer for Gobgp {
    fn end_of_ribs(&self) -> Option<usize> {
        None
    }
    fn request_refresh(&self) -> RefreshRequest {
        let n = self.spec.neighbor.to_string();
        for afi in AFIS {
            self.cli(&["neighbor", &n, "softresetin", "-a", afi])
                .expect("gobgp neighbor softresetin");
        }
        RefreshRequest::SentNone(
            "GoBGP's softresetin re-applies policy to its Adj-RIB-In (PEERS.md)",
        )
    }
}

impl Peer for Openbgpd {
    fn quirks(cell: &Cell, route: &mut ReceivedRoute) {
        // bgpctl prints MED 0 when none was received; the harness reads 0 as absent.
        if route.med == Some(0) {
            route.med = None;
        }
        // A 2-byte-AS OpenBGPD (`announce as-4byte no`) rebuilds the path from AS4_PATH and
        // AS4_AGGREGATOR as RFC 6793 §4.2.3 says, so it shows the real ASNs, with one rule
        // ExaBGP does not apply: when AGGREGATOR carries a 2-octet ASN other than AS_TRANS,
        // AS4_PATH "MUST be ignored", and the path keeps AS_TRANS. (bgpinject sends a 2-octet
        // aggregating AS as it is and no AS4_AGGREGATOR, RFC 6793 §4.2.2.)
        let two_octet_aggregator = route
            .aggregator
            .as_deref()
            .and_then(|a| a.split_once(':'))
            .and_then(|(asn, _)| asn.parse::<u32>().ok())
            .is_some_and(|asn| asn <= 0xffff && asn != AS_TRANS);
        if !cell.four_octet_peer && two_octet_aggregator {
            for asn in &mut route.as_path {
                if *asn > 0xffff {
                    *asn = AS_TRANS;
                }
            }
        }
    }
    fn end_of_ribs(&self) -> Option<usize> {
        let out = self.bgpctl(&["show", "neighbor", &self.spec.neighbor.to_string()])?;
        let v: Value = serde_json::from_str(&out).ok()?;
        v.pointer("/neighbors/0/stats/update/received/eor")
            .and_then(Value::as_u64)
            .map(|n| n as usize)
    }
    fn request_refresh(&self) -> RefreshRequest {
        self.bgpctl(&["neighbor", &self.spec.neighbor.to_string(), "refresh"])
            .expect("bgpctl neighbor refresh");
        RefreshRequest::Sent
    }
}

impl Peer for Exabgp {
    fn quirks(cell: &Cell, route: &mut ReceivedRoute) {
        // ExaBGP 4.2 with `asn4 disable` rebuilds the AS_PATH from AS4_PATH, but decodes
        // AS4_AGGREGATOR with a 2-octet ASN: it shows the ASN's high 16 bits with the right
        // address (4200000005 -> 64086). The wire carries AGGREGATOR 23456 and AS4_AGGREGATOR
        // with the real ASN: checked by `two_byte_cell` and shown right by OpenBGPD.
        if !cell.four_octet_peer
            && let Some((asn, address)) = route
                .aggregator
                .as_deref()
                .and_then(|a| a.split_once(':'))
                .and_then(|(asn, addr)| Some((asn.parse::<u32>().ok()?, addr.to_string())))
            && asn > 0xffff
        {
            route.aggregator = Some(format!("{}:{address}", asn >> 16));
        }
    }
    fn end_of_ribs(&self) -> Option<usize> {
        Some(self.end_of_ribs().len())
    }
    fn request_refresh(&self) -> RefreshRequest {
        panic!("exabgp: no route refresh from the receiver (its CLI is off in the harness)")
    }
}

/// The last `n` lines of a log.
fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

fn report<P: Peer>(peer: &P, bgpinject: &Bgpinject) -> String {
    format!(
        "--- {} log (tail) ---\n{}\n--- bgpinject log (tail) ---\n{}",
        P::NAME,
        tail(&peer.log(), 60),
        tail(&bgpinject.log(), 60)
    )
}

/// The expected table of `afi`, with the peer's quirks applied.
fn expected<P: Peer>(cell: &Cell, configured: &[ConfiguredRoute]) -> Vec<ReceivedRoute> {
    configured
        .iter()
        .map(|r| {
            let mut e = r.expected.clone();
            P::quirks(cell, &mut e);
            e
        })
        .collect()
}

fn wait_established<P: Peer>(peer: &P, cell: &Cell, bgpinject: &Bgpinject, timeout: Duration) {
    assert!(
        peer.wait_established(timeout),
        "{}: {cell}: no session after {timeout:?}\n{}",
        P::NAME,
        report(peer, bgpinject)
    );
}

/// Waits until the peer shows both tables exactly as expected; fails with every difference.
fn check_tables<P: Peer>(
    peer: &P,
    cell: &Cell,
    tables: &[Vec<ConfiguredRoute>; 2],
    bgpinject: &Bgpinject,
    timeout: Duration,
) {
    let expect: Vec<Vec<ReceivedRoute>> = tables.iter().map(|t| expected::<P>(cell, t)).collect();
    let diff = || -> Vec<String> {
        AFIS.iter()
            .zip(&expect)
            .flat_map(|(afi, e)| {
                diff_routes(
                    &format!("{} ({cell}, {afi})", P::NAME),
                    e,
                    &peer.routes(afi),
                )
            })
            .collect()
    };
    if wait_for(timeout, || diff().is_empty().then_some(())).is_none() {
        let d = diff();
        panic!(
            "{} differences:\n{}\n{}",
            d.len(),
            d.join("\n"),
            report(peer, bgpinject)
        );
    }
}

/// Where the peer exposes End-of-RIB: one per family on the current session.
fn check_end_of_rib<P: Peer>(peer: &P, cell: &Cell, bgpinject: &Bgpinject) {
    if peer.end_of_ribs().is_none() {
        return;
    }
    let seen = wait_for(Duration::from_secs(10), || {
        peer.end_of_ribs().filter(|&n| n >= AFIS.len())
    });
    assert!(
        seen.is_some(),
        "{}: {cell}: End-of-RIB received {:?} times, expected one per family ({})\n{}",
        P::NAME,
        peer.end_of_ribs(),
        AFIS.len(),
        report(peer, bgpinject)
    );
}

/// SIGTERM: bgpinject exits 0 (after a Cease) and the peer drops every route.
fn stop_and_check_withdrawn<P: Peer>(peer: &P, cell: &Cell, mut bgpinject: Bgpinject) {
    let status = bgpinject.stop();
    assert!(
        matches!(status, Some(s) if s.success()),
        "{}: {cell}: bgpinject did not exit 0 on SIGTERM within 10 s: {status:?}\n{}",
        P::NAME,
        report(peer, &bgpinject)
    );
    let left = || -> usize { AFIS.iter().map(|afi| peer.routes(afi).len()).sum() };
    assert!(
        wait_for(WITHDRAW_TIMEOUT, || (left() == 0).then_some(())).is_some(),
        "{}: {cell}: {} routes still present {WITHDRAW_TIMEOUT:?} after bgpinject stopped\n{}",
        P::NAME,
        left(),
        report(peer, &bgpinject)
    );
    assert!(
        peer.cease_received() != Some(false),
        "{}: {cell}: no Cease NOTIFICATION received on SIGTERM\n{}",
        P::NAME,
        report(peer, &bgpinject)
    );
}

/// Starts the peer and bgpinject, and checks the initial table and End-of-RIB.
fn start<P: Peer>(cell: &Cell) -> (P, Bgpinject, [Vec<ConfiguredRoute>; 2]) {
    let tables = [routes(cell, false), routes(cell, true)];
    let peer = P::start(&cell.spec());
    let bgpinject = Bgpinject::start(BIN, &bgpinject_config(cell, &tables), "debug");
    wait_established(&peer, cell, &bgpinject, ESTABLISH_TIMEOUT);
    check_tables(&peer, cell, &tables, &bgpinject, TABLE_TIMEOUT);
    check_end_of_rib(&peer, cell, &bgpinject);
    (peer, bgpinject, tables)
}

/// The table column: initial table, End-of-RIB, withdrawal on SIGTERM.
fn table_cell<P: Peer>(cell: Cell) {
    let started = Instant::now();
    let (peer, bgpinject, _) = start::<P>(&cell);
    bgpinject.assert_no_resets(1);
    stop_and_check_withdrawn(&peer, &cell, bgpinject);
    eprintln!("{} {cell}: passed in {:?}", P::NAME, started.elapsed());
}

const REFRESH_LOG: &str = "route refresh for";

/// The route refresh column: the peer asks again, bgpinject logs that it sends each family
/// again, and the peer's table is still complete.
fn route_refresh_cell<P: Peer>(cell: Cell) {
    let (peer, bgpinject, tables) = start::<P>(&cell);
    let refreshes = |afi: &str| -> usize {
        bgpinject
            .log()
            .lines()
            .filter(|l| l.contains(&format!("{REFRESH_LOG} {afi}")))
            .count()
    };
    let before: Vec<usize> = AFIS.iter().map(|afi| refreshes(afi)).collect();
    let updates_before = peer.updates_received();
    match peer.request_refresh() {
        RefreshRequest::Sent => {
            // Proven on the wire where the peer counts what it received.
            if let Some(before) = updates_before {
                let resent = wait_for(Duration::from_secs(15), || {
                    (peer.updates_received() > Some(before)).then_some(())
                });
                assert!(
                    resent.is_some(),
                    "{}: {cell}: the peer received no UPDATE after its ROUTE-REFRESH\n{}",
                    P::NAME,
                    report(&peer, &bgpinject)
                );
            }
            let answered = wait_for(Duration::from_secs(15), || {
                AFIS.iter()
                    .zip(&before)
                    .all(|(afi, b)| refreshes(afi) > *b)
                    .then_some(())
            });
            assert!(
                answered.is_some(),
                "{}: {cell}: bgpinject did not log `{REFRESH_LOG} ipv4/ipv6 ...` after the peer's refresh request\n{}",
                P::NAME,
                report(&peer, &bgpinject)
            );
        }
        RefreshRequest::SentNone(why) => {
            std::thread::sleep(Duration::from_secs(3));
            let after: Vec<usize> = AFIS.iter().map(|afi| refreshes(afi)).collect();
            eprintln!(
                "{}: no ROUTE-REFRESH expected ({why}); bgpinject logged {} refreshes",
                P::NAME,
                after.iter().sum::<usize>() - before.iter().sum::<usize>()
            );
        }
    }
    wait_established(&peer, &cell, &bgpinject, ESTABLISH_TIMEOUT);
    check_tables(&peer, &cell, &tables, &bgpinject, TABLE_TIMEOUT);
    // The table is complete because the session never went down, not because it came back.
    bgpinject.assert_no_resets(1);
    stop_and_check_withdrawn(&peer, &cell, bgpinject);
}

/// The peer restart column: stop the peer, start it again with the same addresses; bgpinject
/// reconnects and the peer has the full table (and End-of-RIB) again.
fn peer_restart_cell<P: Peer>(cell: Cell) {
    let (mut peer, bgpinject, tables) = start::<P>(&cell);
    peer.stop();
    drop(peer);
    let peer = P::start(&cell.spec());
    wait_established(&peer, &cell, &bgpinject, RESTART_TIMEOUT);
    check_tables(&peer, &cell, &tables, &bgpinject, TABLE_TIMEOUT);
    check_end_of_rib(&peer, &cell, &bgpinject);
    stop_and_check_withdrawn(&peer, &cell, bgpinject);
}

// Slots 0..=19: the table column, peer × (eBGP, iBGP) × (IPv4, IPv6 session).

#[test]
fn bird_table_ebgp_ipv4_session() {
    table_cell::<BirdReceiver>(Cell::new(0, false, false));
}
#[test]
fn bird_table_ebgp_ipv6_session() {
    table_cell::<BirdReceiver>(Cell::new(1, false, true));
}
#[test]
fn bird_table_ibgp_ipv4_session() {
    table_cell::<BirdReceiver>(Cell::new(2, true, false));
}
#[test]
fn bird_table_ibgp_ipv6_session() {
    table_cell::<BirdReceiver>(Cell::new(3, true, true));
}
#[test]
fn frr_table_ebgp_ipv4_session() {
    table_cell::<Frr>(Cell::new(4, false, false));
}
#[test]
fn frr_table_ebgp_ipv6_session() {
    table_cell::<Frr>(Cell::new(5, false, true));
}
#[test]
fn frr_table_ibgp_ipv4_session() {
    table_cell::<Frr>(Cell::new(6, true, false));
}
#[test]
fn frr_table_ibgp_ipv6_session() {
    table_cell::<Frr>(Cell::new(7, true, true));
}
#[test]
fn gobgp_table_ebgp_ipv4_session() {
    table_cell::<Gobgp>(Cell::new(8, false, false));
}
#[test]
fn gobgp_table_ebgp_ipv6_session() {
    table_cell::<Gobgp>(Cell::new(9, false, true));
}
#[test]
fn gobgp_table_ibgp_ipv4_session() {
    table_cell::<Gobgp>(Cell::new(10, true, false));
}
#[test]
fn gobgp_table_ibgp_ipv6_session() {
    table_cell::<Gobgp>(Cell::new(11, true, true));
}
#[test]
fn openbgpd_table_ebgp_ipv4_session() {
    table_cell::<Openbgpd>(Cell::new(12, false, false));
}
#[test]
fn openbgpd_table_ebgp_ipv6_session() {
    table_cell::<Openbgpd>(Cell::new(13, false, true));
}
#[test]
fn openbgpd_table_ibgp_ipv4_session() {
    table_cell::<Openbgpd>(Cell::new(14, true, false));
}
#[test]
fn openbgpd_table_ibgp_ipv6_session() {
    table_cell::<Openbgpd>(Cell::new(15, true, true));
}
#[test]
fn exabgp_table_ebgp_ipv4_session() {
    table_cell::<Exabgp>(Cell::new(16, false, false));
}
#[test]
fn exabgp_table_ebgp_ipv6_session() {
    table_cell::<Exabgp>(Cell::new(17, false, true));
}
#[test]
fn exabgp_table_ibgp_ipv4_session() {
    table_cell::<Exabgp>(Cell::new(18, true, false));
}
#[test]
fn exabgp_table_ibgp_ipv6_session() {
    table_cell::<Exabgp>(Cell::new(19, true, true));
}

/// What bgpinject puts on the wire to a 2-byte-AS peer for one of the cell's routes, as
/// `bgpinject encode --as2 | bgpinject decode --as2` prints it.
fn two_byte_wire(cell: &Cell, tables: &[Vec<ConfiguredRoute>; 2]) -> String {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("bgpinject.conf");
    std::fs::write(&config, bgpinject_config(cell, tables)).expect("write config");
    let encoded = std::process::Command::new(BIN)
        .args([
            "encode",
            "--as2",
            "--neighbor",
            &cell.peer_address().to_string(),
        ])
        .arg(&config)
        .output()
        .expect("run bgpinject encode");
    assert!(encoded.status.success(), "bgpinject encode: {encoded:?}");
    let hex = dir.path().join("messages.hex");
    std::fs::write(&hex, &encoded.stdout).expect("write hex");
    let decoded = std::process::Command::new(BIN)
        .args(["decode", "--as2"])
        .stdin(std::fs::File::open(&hex).expect("open hex"))
        .output()
        .expect("run bgpinject decode");
    assert!(decoded.status.success(), "bgpinject decode: {decoded:?}");
    String::from_utf8_lossy(&decoded.stdout).into_owned()
}

/// The 2-byte-AS column: first the wire (RFC 6793 §4.2.2: AS_TRANS in AS_PATH and AGGREGATOR,
/// the real values in AS4_PATH and AS4_AGGREGATOR), then the peer's view of the session.
fn two_byte_cell<P: Peer>(cell: Cell) {
    let tables = [routes(&cell, false), routes(&cell, true)];
    let wire = two_byte_wire(&cell, &tables);
    let words = |path: &[u32], trans: bool| -> String {
        path.iter()
            .map(|&a| if trans && a > 0xffff { AS_TRANS } else { a }.to_string())
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mut wrong = Vec::new();
    for r in tables.iter().flatten().map(|r| &r.expected) {
        let Some(update) = wire.lines().find(|l| {
            l.starts_with("UPDATE") && l.split([' ', '[', ']', ';']).any(|w| w == r.prefix)
        }) else {
            wrong.push(format!("{}: no UPDATE", r.prefix));
            continue;
        };
        let mut want = vec![format!("as-path [{}]", words(&r.as_path, true))];
        if r.as_path.iter().any(|&a| a > 0xffff) {
            want.push(format!("as4-path [{}]", words(&r.as_path, false)));
        }
        if let Some((asn, address)) = r.aggregator.as_deref().and_then(|a| a.split_once(':')) {
            match asn.parse::<u32>() {
                Ok(a) if a > 0xffff => {
                    want.push(format!("aggregator {AS_TRANS}:{address}"));
                    want.push(format!("as4-aggregator {asn}:{address}"));
                }
                _ => want.push(format!("aggregator {asn}:{address}")),
            }
        }
        for w in want {
            if !update.contains(&w) {
                wrong.push(format!("{}: `{w}` missing from `{update}`", r.prefix));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{}: {cell}: UPDATEs for a 2-byte-AS peer:\n{}",
        P::NAME,
        wrong.join("\n")
    );
    table_cell::<P>(cell);
}

// Slots 20..=21: 2-byte-AS peers (RFC 6793), eBGP over IPv4.

#[test]
fn openbgpd_two_byte_as_peer() {
    two_byte_cell::<Openbgpd>(Cell::two_byte_peer(20));
}
#[test]
fn exabgp_two_byte_as_peer() {
    two_byte_cell::<Exabgp>(Cell::two_byte_peer(21));
}

// Slots 22..=25: route refresh requested by the peer, eBGP over IPv4. ExaBGP has none: its
// receiver runs without a CLI.

#[test]
fn bird_route_refresh() {
    route_refresh_cell::<BirdReceiver>(Cell::new(22, false, false));
}
#[test]
fn frr_route_refresh() {
    route_refresh_cell::<Frr>(Cell::new(23, false, false));
}
#[test]
fn gobgp_softresetin_sends_no_route_refresh() {
    route_refresh_cell::<Gobgp>(Cell::new(24, false, false));
}
#[test]
fn openbgpd_route_refresh() {
    route_refresh_cell::<Openbgpd>(Cell::new(25, false, false));
}

// Slots 26..=30: the peer restarts, eBGP over IPv4.

#[test]
fn bird_peer_restart() {
    peer_restart_cell::<BirdReceiver>(Cell::new(26, false, false));
}
#[test]
fn frr_peer_restart() {
    peer_restart_cell::<Frr>(Cell::new(27, false, false));
}
#[test]
fn gobgp_peer_restart() {
    peer_restart_cell::<Gobgp>(Cell::new(28, false, false));
}
#[test]
fn openbgpd_peer_restart() {
    peer_restart_cell::<Openbgpd>(Cell::new(29, false, false));
}
#[test]
fn exabgp_peer_restart() {
    peer_restart_cell::<Exabgp>(Cell::new(30, false, false));
}
