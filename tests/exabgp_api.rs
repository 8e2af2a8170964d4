//! ExaBGP's own API functional tests, run unchanged against bgpinject.
//!
//! `test-vectors/exabgp-api/` holds, from ExaBGP's repository (BSD licence, see its README),
//! each test's configuration, its helper program and the messages ExaBGP sends for it. This
//! runner starts bgpinject on each configuration (the peer's port added with `connect` and
//! `listen`, nothing else changed: both ends stay on 127.0.0.1 as in ExaBGP's tests, since the
//! helpers name their neighbor by that address) against a recording BGP peer written
//! here, decodes what bgpinject sent and what ExaBGP sends (the expected hex) with the same
//! decoder, and compares them route by route:
//!
//! - `match`: the same routes, withdrawals, End-of-RIB markers, ROUTE-REFRESH and
//!   NOTIFICATION messages, each as many times, on each connection;
//! - `same-table`: what the peer holds at the end of each connection is the same;
//! - `different`: something else was sent (or nothing);
//! - `no-session`: the configuration was accepted but no session came up;
//! - `refused`: `bgpinject --check` refused the configuration.
//!
//! The test prints one line per test and the totals, and fails when a test's outcome is not
//! the one listed in [`EXPECTED`]: an improvement is a one-line change there, a regression a
//! failure.

mod harness;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::fs;
use std::io::{ErrorKind, Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bgpinject::wire::attribute::{AttributeContext, MpNextHop, MpNlri, PathAttribute};
use bgpinject::wire::capability::{AddPathMode, Capability};
use bgpinject::wire::family::{Family, FamilySet, Safi};
use bgpinject::wire::message::{self, DecodeContext, HEADER_LEN, Message};
use bgpinject::wire::notification::Notification;
use bgpinject::wire::open::Open;
use bgpinject::wire::update::Update;

const BIN: &str = env!("CARGO_BIN_EXE_bgpinject");
/// Both ends of every session, as in ExaBGP's tests: their helpers name the neighbor
/// `127.0.0.1`, so the address stays; the ports are this file's own.
const ADDRESS: &str = "127.0.0.1";
const FIRST_PORT: u16 = 18020;
/// Tests run side by side (a test mostly waits: for its helper, for the quiet period), each
/// worker on ports of its own: [`PEER_PORTS`] for the recording peer, used in turn, and one
/// where bgpinject listens (not 179, which may be another test's).
const WORKERS: usize = 4;
const PEER_PORTS: usize = 4;
/// The last of this file's ports (18020 to 18039): worker `w` has its peer ports from
/// `FIRST_PORT + w * PEER_PORTS` and bgpinject listens on `LAST_PORT - w`.
const LAST_PORT: u16 = 18039;
/// How long one test may run; most finish far sooner (see `quiet`).
const TEST_TIMEOUT: Duration = Duration::from_secs(14);
/// Once every expected message has arrived, how long to wait for more.
const QUIET: Duration = Duration::from_millis(1500);

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Outcome {
    Match,
    SameTable,
    Different,
    NoSession,
    Refused,
}

impl Outcome {
    fn name(self) -> &'static str {
        match self {
            Outcome::Match => "match",
            Outcome::SameTable => "same-table",
            Outcome::Different => "different",
            Outcome::NoSession => "no-session",
            Outcome::Refused => "refused",
        }
    }
}

/// Today's outcome of each test; the README of test-vectors/exabgp-api says why for the rest.
const EXPECTED: &[(&str, Outcome)] = &[
    ("api-ack-control", Outcome::Match),
    ("api-add-remove", Outcome::Match),
    ("api-announce-processes-match", Outcome::Match),
    ("api-announce-star", Outcome::Match),
    ("api-announce", Outcome::Match),
    ("api-announcement", Outcome::Match),
    ("api-api", Outcome::Match),
    ("api-attributes-path", Outcome::SameTable),
    ("api-attributes-vpn", Outcome::Match),
    ("api-attributes", Outcome::Match),
    ("api-broken-flow", Outcome::Match),
    ("api-check", Outcome::Match),
    ("api-eor", Outcome::SameTable),
    ("api-fast", Outcome::SameTable),
    ("api-flow-merge", Outcome::Different),
    ("api-flow", Outcome::SameTable),
    ("api-health", Outcome::Match),
    ("api-ipv4", Outcome::SameTable),
    ("api-ipv6", Outcome::SameTable),
    ("api-manual-eor", Outcome::SameTable),
    ("api-multi-neighbor", Outcome::Match),
    ("api-multiple-api", Outcome::Match),
    ("api-multisession", Outcome::Match),
    ("api-mvpn", Outcome::Match),
    ("api-nexthop-self", Outcome::SameTable),
    ("api-nexthop", Outcome::Match),
    ("api-no-respawn", Outcome::Match),
    ("api-notification", Outcome::Match),
    ("api-open", Outcome::Match),
    ("api-reload", Outcome::Match),
    ("api-rib", Outcome::SameTable),
    ("api-rr-rib", Outcome::Match),
    ("api-rr", Outcome::Different),
    ("api-silence-ack", Outcome::Match),
    ("api-teardown", Outcome::Match),
    ("api-vpls", Outcome::Match),
    ("api-vpnv4", Outcome::Match),
    ("api-watchdog", Outcome::Match),
    ("api-on-exit", Outcome::Match),
    ("api-disable", Outcome::Match),
    ("api-peer-lifecycle", Outcome::Match),
];

/// Tests whose helper never stops sending (api-watchdog toggles its group every second for
/// as long as it runs): the recording peer stops at the last expected message, as ExaBGP's
/// test peer does, instead of waiting for a quiet moment that never comes.
const STOP_AT_EXPECTED: &[&str] = &["api-watchdog"];

/// One ExaBGP test: its `.ci` file read.
struct Case {
    name: String,
    files: Vec<String>,
    /// Expected messages per connection (A, B, C... or a single one for numbered steps).
    connections: Vec<Vec<Vec<u8>>>,
    /// Connections on which the peer sends a NOTIFICATION and closes at once.
    notify: BTreeSet<usize>,
    /// The configuration is replaced by the next file and SIGUSR1 sent once the messages of
    /// this step of the connection have arrived: (connection, count before the signal).
    signal_after: Option<(usize, usize)>,
    /// `option:update:send-default-route`: ExaBGP's test peer sends 0.0.0.0/32 once up.
    send_default_route: bool,
}

/// The UPDATE ExaBGP's test peer sends for `send-default-route`: 0.0.0.0/32, origin IGP, an
/// empty AS_PATH, next hop 127.0.0.1, LOCAL_PREF 100.
const DEFAULT_ROUTE: &str = "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF 0031 02 0000 0015 40010100 400200 4003047F000001 40050400000064 2000000000";

fn hex(text: &str) -> Vec<u8> {
    let digits: Vec<u8> = text.bytes().filter(|b| b.is_ascii_hexdigit()).collect();
    digits
        .chunks(2)
        .filter_map(|p| u8::from_str_radix(std::str::from_utf8(p).ok()?, 16).ok())
        .collect()
}

fn parse_case(path: &Path) -> Case {
    let text = fs::read_to_string(path).expect("read .ci");
    let name = path.file_stem().unwrap().to_string_lossy().into_owned();
    let mut case = Case {
        name,
        files: Vec::new(),
        connections: Vec::new(),
        notify: BTreeSet::new(),
        signal_after: None,
        send_default_route: false,
    };
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(file) = line.strip_prefix("option:file:") {
            case.files.push(file.to_string());
            continue;
        }
        if line == "option:update:send-default-route" {
            case.send_default_route = true;
            continue;
        }
        if line.starts_with("option:") {
            continue;
        }
        let mut parts = line.splitn(3, ':');
        let (Some(tag), Some(kind), Some(rest)) = (parts.next(), parts.next(), parts.next()) else {
            continue;
        };
        // "A1" is step 1 of connection A; "12" is step 12 of the only connection.
        let connection = match tag.chars().next() {
            Some(c) if c.is_ascii_uppercase() => (c as u8 - b'A') as usize,
            _ => 0,
        };
        while case.connections.len() <= connection {
            case.connections.push(Vec::new());
        }
        match kind {
            "raw" => case.connections[connection].push(hex(rest)),
            "notification" => {
                case.notify.insert(connection);
            }
            "signal" => {
                case.signal_after = Some((connection, case.connections[connection].len()));
            }
            _ => {}
        }
    }
    case
}

/// What one message means, in words that do not depend on how it was packed.
fn items(msg: &[u8], ctx: DecodeContext) -> Vec<String> {
    let (message, _) = match Message::decode(msg, ctx) {
        Ok(m) => m,
        Err(e) => return vec![format!("undecodable {e}")],
    };
    match message {
        Message::Update(u) => update_items(&u),
        // ExaBGP closes without a NOTIFICATION when it stops; we send a Cease.
        Message::Notification(n) if n.to_string().contains("shutting down") => Vec::new(),
        Message::Notification(n) => vec![format!("notification {}", notification_text(&n))],
        Message::RouteRefresh(r) => {
            vec![format!("route-refresh {} subtype {}", r.family, r.subtype)]
        }
        Message::Keepalive | Message::Open(_) => Vec::new(),
    }
}

fn notification_text(n: &Notification) -> String {
    n.to_string()
}

fn update_items(u: &Update) -> Vec<String> {
    if let Some(family) = u.end_of_rib() {
        return vec![format!("eor {family}")];
    }
    let mut attrs: Vec<String> = u
        .attributes
        .iter()
        .filter(|a| {
            !matches!(
                a,
                PathAttribute::MpReach(_) | PathAttribute::MpUnreach(_) | PathAttribute::NextHop(_)
            )
        })
        .map(|a| a.to_string())
        .collect();
    attrs.sort();
    let attrs = attrs.join(" ");
    let mut out = Vec::new();
    for w in u.withdrawn_text() {
        out.push(format!("withdraw ipv4 unicast {w}"));
    }
    let classic_nh = u.attributes.iter().find_map(|a| match a {
        PathAttribute::NextHop(nh) => Some(nh.to_string()),
        _ => None,
    });
    for n in u.nlri_text() {
        out.push(format!(
            "announce ipv4 unicast {} next-hop {} {attrs}",
            (n),
            classic_nh.clone().unwrap_or_default()
        ));
    }
    for a in &u.attributes {
        match a {
            PathAttribute::MpReach(m) => {
                let nh = match &m.next_hop {
                    MpNextHop::Addresses(v) | MpNextHop::Vpn(v) => v
                        .iter()
                        .map(|a| a.to_string())
                        .collect::<Vec<_>>()
                        .join(","),
                    MpNextHop::Raw(b) => format!("raw {}", hex_text(b)),
                };
                for n in nlri_texts(m.family, &m.nlri) {
                    out.push(format!(
                        "announce {} {} next-hop {nh} {attrs}",
                        m.family,
                        (n)
                    ));
                }
            }
            PathAttribute::MpUnreach(m) => {
                for n in nlri_texts(m.family, &m.nlri) {
                    // RFC 8277 §2.4: a withdrawal's label has no meaning (ExaBGP repeats the
                    // route's, bgpinject sends 0x800000).
                    let n = n.split('#').next().unwrap_or_default().to_string();
                    out.push(format!("withdraw {} {n}", m.family));
                }
            }
            _ => {}
        }
    }
    out
}

fn hex_text(b: &[u8]) -> String {
    b.iter().fold(String::new(), |mut s, x| {
        let _ = write!(s, "{x:02X}");
        s
    })
}

fn nlri_texts(family: Family, nlri: &MpNlri) -> Vec<String> {
    match nlri {
        MpNlri::Prefixes(p) => p.iter().map(|x| x.to_string()).collect(),
        MpNlri::Paths(p) => p.iter().map(|x| x.to_string()).collect(),
        MpNlri::Labeled(l) => l.iter().map(|x| x.to_string()).collect(),
        MpNlri::Raw(b) if matches!(family.safi, Safi::FlowSpec | Safi::FlowSpecVpn) => {
            // RFC 8955 §4.1: each rule behind a 1- or 2-octet length.
            let mut out = Vec::new();
            let mut rest = b.as_slice();
            while let Some(&first) = rest.first() {
                let (len, skip) = if first >= 0xf0 {
                    let second = rest.get(1).copied().unwrap_or(0) as usize;
                    ((((first & 0x0f) as usize) << 8) | second, 2)
                } else {
                    (first as usize, 1)
                };
                let end = (skip + len).min(rest.len());
                out.push(format!("rule {}", hex_text(&rest[skip..end])));
                rest = &rest[end..];
            }
            out
        }
        // RFC 6514 §4 and RFC 7432 §7: each NLRI is a type octet and a length octet before
        // its value, so several in one UPDATE are several routes.
        MpNlri::Raw(b) if matches!(family.safi, Safi::Mvpn | Safi::Evpn) => {
            let mut out = Vec::new();
            let mut rest = b.as_slice();
            while rest.len() >= 2 {
                let end = (2 + rest[1] as usize).min(rest.len());
                out.push(format!("raw {}", hex_text(&rest[..end])));
                rest = &rest[end..];
            }
            out
        }
        MpNlri::Raw(b) => vec![format!("raw {}", hex_text(b))],
    }
}

/// Every item of every message, counted.
fn bag(messages: &[Vec<u8>], ctx: DecodeContext) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for m in messages {
        for i in items(m, ctx) {
            *out.entry(i).or_insert(0) += 1;
        }
    }
    out
}

/// What a peer holds after the messages: routes by family and NLRI.
fn table(messages: &[Vec<u8>], ctx: DecodeContext) -> BTreeMap<String, String> {
    let mut t = BTreeMap::new();
    for m in messages {
        for i in items(m, ctx) {
            let mut words = i.splitn(4, ' ');
            match (words.next(), words.next(), words.next(), words.next()) {
                (Some("announce"), Some(afi), Some(safi), Some(rest)) => {
                    // A FlowSpec NLRI is two words (`rule HEX`), any other one word.
                    let cut = if rest.starts_with("rule ") {
                        rest.match_indices(' ').nth(1).map(|(i, _)| i)
                    } else {
                        rest.find(' ')
                    };
                    let (nlri, attrs) = match cut {
                        Some(i) => (&rest[..i], rest[i + 1..].trim_start()),
                        None => (rest, ""),
                    };
                    t.insert(format!("{afi} {safi} {nlri}"), attrs.to_string());
                }
                (Some("withdraw"), Some(afi), Some(safi), Some(nlri)) => {
                    t.remove(&format!("{afi} {safi} {nlri}"));
                }
                _ => {}
            }
        }
    }
    t
}

/// What the recording peer saw on one connection.
#[derive(Default)]
struct Recorded {
    messages: Vec<Vec<u8>>,
    ctx: Option<DecodeContext>,
}

/// Our OPEN answers bgpinject's with the same capabilities, ADD-PATH send and receive swapped.
fn answer_open(theirs: &Open) -> Open {
    let capabilities = theirs
        .capabilities
        .iter()
        .map(|c| match c {
            Capability::AddPath(v) => Capability::AddPath(
                v.iter()
                    .map(|(f, m)| {
                        let swapped = ((m.0 & 1) << 1) | ((m.0 & 2) >> 1);
                        (*f, AddPathMode(swapped))
                    })
                    .collect(),
            ),
            other => other.clone(),
        })
        .collect();
    Open {
        router_id: Ipv4Addr::new(192, 0, 2, 254),
        capabilities,
        parameter_layout: Vec::new(),
        ..theirs.clone()
    }
}

fn context(theirs: &Open) -> DecodeContext {
    let mut ctx = DecodeContext::default();
    let mut four = false;
    let mut add_path = FamilySet::default();
    for c in &theirs.capabilities {
        match c {
            Capability::FourOctetAs(_) => four = true,
            Capability::AddPath(v) => {
                for (f, m) in v {
                    if m.send() {
                        add_path.insert(*f);
                    }
                }
            }
            Capability::ExtendedMessage => ctx.max_message_len = message::MAX_EXTENDED_MESSAGE_LEN,
            _ => {}
        }
    }
    ctx.attributes = AttributeContext {
        four_octet_as: four,
    };
    ctx.add_path = add_path;
    ctx
}

/// Reads whole messages until `deadline`, or the peer closes. `Ok(None)`: nothing complete yet.
fn read_message(
    sock: &mut TcpStream,
    buf: &mut Vec<u8>,
    deadline: Instant,
) -> std::io::Result<Option<Vec<u8>>> {
    loop {
        if let Ok(Some(len)) = message::frame(buf, message::MAX_EXTENDED_MESSAGE_LEN) {
            let msg: Vec<u8> = buf.drain(..len).collect();
            return Ok(Some(msg));
        }
        if buf.len() >= HEADER_LEN
            && message::frame(buf, message::MAX_EXTENDED_MESSAGE_LEN).is_err()
        {
            return Err(std::io::Error::new(ErrorKind::InvalidData, "bad framing"));
        }
        let now = Instant::now();
        if now >= deadline {
            return Ok(None);
        }
        sock.set_read_timeout(Some((deadline - now).min(Duration::from_millis(200))))?;
        let mut chunk = [0u8; 8192];
        match sock.read(&mut chunk) {
            Ok(0) => return Err(std::io::Error::new(ErrorKind::UnexpectedEof, "closed")),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return Ok(None);
            }
            Err(e) => return Err(e),
        }
    }
}

fn keepalive() -> Vec<u8> {
    Message::Keepalive.encode(AttributeContext {
        four_octet_as: true,
    })
}

/// Runs one test. Returns the outcome and a few words on why.
fn run_case(case: &Case, port: u16, listen_port: u16, dir: &Path) -> (Outcome, String) {
    let work = tempfile::Builder::new()
        .prefix("exabgp-api-")
        .tempdir()
        .expect("temp dir");
    // The helpers are run from the configuration's directory (`run ./run/NAME`).
    let run_dir = work.path().join("run");
    fs::create_dir_all(&run_dir).unwrap();
    for entry in fs::read_dir(dir.join("run")).unwrap() {
        let entry = entry.unwrap();
        let to = run_dir.join(entry.file_name());
        fs::copy(entry.path(), &to).unwrap();
        let mut perm = fs::metadata(&to).unwrap().permissions();
        std::os::unix::fs::PermissionsExt::set_mode(&mut perm, 0o755);
        fs::set_permissions(&to, perm).unwrap();
    }
    let adapt = |file: &str| -> String {
        let text = fs::read_to_string(dir.join(file)).expect("configuration");
        let mut out = String::new();
        for line in text.lines() {
            out.push_str(line);
            out.push('\n');
            let t = line.trim();
            if t.starts_with("neighbor ") && t.ends_with('{') {
                let _ = writeln!(out, "\tconnect {port};\n\tlisten {listen_port};");
            }
        }
        out
    };
    let config = work.path().join("bgpinject.conf");
    fs::write(&config, adapt(&case.files[0])).unwrap();

    let check = Command::new(BIN)
        .arg("--check")
        .arg(&config)
        .output()
        .expect("run bgpinject --check");
    if !check.status.success() {
        let why = String::from_utf8_lossy(&check.stderr);
        let first = why.lines().next().unwrap_or("").to_string();
        return (Outcome::Refused, first);
    }

    let listener = TcpListener::bind((ADDRESS, port)).expect("bind the recording peer");
    listener.set_nonblocking(true).unwrap();
    let log = fs::File::create(work.path().join("bgpinject.log")).unwrap();
    let mut child: Child = Command::new(BIN)
        .arg("--log-level")
        .arg("info")
        .arg("--control")
        .arg(work.path().join("control.sock"))
        // The port of a neighbor a helper creates (api-peer-lifecycle), as ExaBGP's test
        // runner sets exabgp.tcp.port.
        .arg("--port")
        .arg(port.to_string())
        .arg(&config)
        .current_dir(work.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("start bgpinject");

    let deadline = Instant::now() + TEST_TIMEOUT;
    let wanted = case.connections.len().max(1);
    let mut recorded: Vec<Recorded> = Vec::new();
    let mut signalled = false;
    'connections: while recorded.len() < wanted && Instant::now() < deadline {
        let mut sock = loop {
            match listener.accept() {
                Ok((s, _)) => break s,
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    if Instant::now() >= deadline {
                        break 'connections;
                    }
                    std::thread::sleep(Duration::from_millis(50));
                }
                Err(_) => break 'connections,
            }
        };
        sock.set_nonblocking(false).unwrap();
        let index = recorded.len();
        recorded.push(Recorded::default());
        let mut buf = Vec::new();
        // OPEN, then our OPEN and KEEPALIVE.
        let theirs = match read_message(&mut sock, &mut buf, deadline) {
            Ok(Some(m)) => match Message::decode(&m, DecodeContext::default()) {
                Ok((Message::Open(o), _)) => o,
                _ => continue,
            },
            _ => continue,
        };
        let ctx = context(&theirs);
        recorded[index].ctx = Some(ctx);
        let mut out = Message::Open(answer_open(&theirs)).encode(ctx.attributes);
        out.extend(keepalive());
        if case.send_default_route {
            out.extend(hex(DEFAULT_ROUTE));
        }
        if sock.write_all(&out).is_err() {
            continue;
        }
        if case.notify.contains(&index) {
            let text = b"closing session because we can";
            let mut data = vec![text.len() as u8];
            data.extend_from_slice(text);
            let n = Message::Notification(Notification::new(6, 2, data)).encode(ctx.attributes);
            let _ = sock.write_all(&n);
            std::thread::sleep(Duration::from_millis(300));
            continue;
        }
        let expected = case.connections.get(index).map(|c| c.len()).unwrap_or(0);
        let mut quiet_since: Option<Instant> = None;
        loop {
            let now = Instant::now();
            if now >= deadline {
                break;
            }
            let count = recorded[index].messages.len();
            if let Some((conn, at)) = case.signal_after
                && !signalled
                && conn == index
                && count >= at
                && case.files.len() > 1
            {
                fs::write(&config, adapt(&case.files[1])).unwrap();
                // SAFETY: kill(2) on the child we started; no memory is shared.
                unsafe { libc::kill(child.id() as i32, libc::SIGUSR1) };
                signalled = true;
            }
            if count >= expected
                && index + 1 == wanted
                && STOP_AT_EXPECTED.contains(&case.name.as_str())
            {
                break;
            }
            if count >= expected && index + 1 == wanted {
                let since = *quiet_since.get_or_insert(now);
                if now - since >= QUIET {
                    break;
                }
            }
            match read_message(
                &mut sock,
                &mut buf,
                (now + Duration::from_millis(300)).min(deadline),
            ) {
                Ok(Some(m)) => {
                    let kind = m.get(18).copied().unwrap_or(0);
                    // As ExaBGP's test peer: a KEEPALIVE for every message.
                    let _ = sock.write_all(&keepalive());
                    if kind != message::message_type::KEEPALIVE
                        && kind != message::message_type::OPEN
                    {
                        recorded[index].messages.push(m);
                        quiet_since = None;
                    }
                }
                Ok(None) => {}
                Err(_) => break,
            }
        }
    }
    // SAFETY: kill(2) on the child we started; no memory is shared.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let stop = Instant::now() + Duration::from_secs(5);
    while child.try_wait().ok().flatten().is_none() && Instant::now() < stop {
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    let log = fs::read_to_string(work.path().join("bgpinject.log")).unwrap_or_default();
    if std::env::var_os("EXABGP_API_ONLY").is_some() {
        println!("--- {} log ---\n{log}", case.name);
    }
    let bugs = harness::bgpinject::bug_lines(&log);
    assert!(
        bugs.is_empty(),
        "{}: bgpinject logged a bug: {bugs:?}",
        case.name
    );

    if recorded.iter().all(|r| r.ctx.is_none()) {
        return (Outcome::NoSession, String::new());
    }
    let mut outcome = Outcome::Match;
    let mut why = String::new();
    for (i, want) in case.connections.iter().enumerate() {
        if case.notify.contains(&i) {
            continue;
        }
        let got = recorded.get(i);
        let ctx = got.and_then(|r| r.ctx).unwrap_or_default();
        let got_msgs: &[Vec<u8>] = got.map(|r| r.messages.as_slice()).unwrap_or(&[]);
        let (want_bag, got_bag) = (bag(want, ctx), bag(got_msgs, ctx));
        if want_bag == got_bag {
            continue;
        }
        let missing: Vec<_> = want_bag
            .iter()
            .filter(|(k, n)| got_bag.get(*k) < Some(n))
            .map(|(k, _)| k.clone())
            .collect();
        let extra: Vec<_> = got_bag
            .iter()
            .filter(|(k, n)| want_bag.get(*k) < Some(n))
            .map(|(k, _)| k.clone())
            .collect();
        if why.is_empty() {
            why = format!(
                "connection {i}: missing {:?} extra {:?}",
                missing.iter().take(2).collect::<Vec<_>>(),
                extra.iter().take(2).collect::<Vec<_>>()
            );
        }
        let same = table(want, ctx) == table(got_msgs, ctx) && !got_msgs.is_empty();
        let this = if same {
            Outcome::SameTable
        } else {
            Outcome::Different
        };
        outcome = outcome.max(this);
    }
    (outcome, why)
}

fn cases(dir: &Path) -> Vec<Case> {
    let mut paths: Vec<PathBuf> = fs::read_dir(dir.join("expected"))
        .expect("test-vectors/exabgp-api/expected")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "ci"))
        .collect();
    paths.sort();
    paths.iter().map(|p| parse_case(p)).collect()
}

#[test]
fn exabgp_api_functional_tests() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("test-vectors/exabgp-api");
    let only = std::env::var("EXABGP_API_ONLY").ok();
    let mut results: BTreeMap<String, Outcome> = BTreeMap::new();
    let mut counts: BTreeMap<Outcome, usize> = BTreeMap::new();
    let cases: Vec<Case> = cases(&dir)
        .into_iter()
        .filter(|case| only.as_deref().is_none_or(|o| case.name.contains(o)))
        .collect();
    let next = AtomicUsize::new(0);
    let mut outcomes: Vec<(usize, (Outcome, String))> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..WORKERS)
            .map(|w| {
                let (cases, next, dir) = (&cases, &next, &dir);
                scope.spawn(move || {
                    let mut done = Vec::new();
                    let listen_port = LAST_PORT - w as u16;
                    for turn in 0.. {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(case) = cases.get(i) else { break };
                        let port = FIRST_PORT + (w * PEER_PORTS + turn % PEER_PORTS) as u16;
                        done.push((i, run_case(case, port, listen_port, dir)));
                    }
                    done
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    });
    outcomes.sort_by_key(|(i, _)| *i);
    for (i, (outcome, why)) in outcomes {
        let case = &cases[i];
        println!("{:<34} {:<11} {}", case.name, outcome.name(), why);
        *counts.entry(outcome).or_insert(0) += 1;
        results.insert(case.name.clone(), outcome);
    }
    let total: usize = counts.values().sum();
    let summary: Vec<String> = counts
        .iter()
        .map(|(o, n)| format!("{n} {}", o.name()))
        .collect();
    println!("exabgp-api: {total} tests: {}", summary.join(", "));
    if only.is_some() {
        return;
    }
    let mut wrong = Vec::new();
    for (name, want) in EXPECTED {
        match results.get(*name) {
            Some(got) if got == want => {}
            got => wrong.push(format!(
                "{name}: expected {}, got {:?}",
                want.name(),
                got.map(|o| o.name())
            )),
        }
    }
    for name in results.keys() {
        if !EXPECTED.iter().any(|(n, _)| n == name) {
            wrong.push(format!("{name}: not in EXPECTED"));
        }
    }
    assert!(wrong.is_empty(), "outcomes changed:\n{}", wrong.join("\n"));
}
