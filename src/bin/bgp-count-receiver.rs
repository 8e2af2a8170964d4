//! A counting BGP receiver for benchmarks and scale tests (loopback only).
//!
//! `bgp-count-receiver --listen 127.0.0.1:17900 --sessions 1` accepts BGP sessions, answers
//! OPEN and KEEPALIVE with the library's codec, counts announced and withdrawn NLRI (IPv4 in
//! the classic fields, any unicast family in MP_REACH / MP_UNREACH) and End-of-RIB markers, and
//! when every session has sent End-of-RIB for every family it negotiated (or `--timeout`
//! passed) prints one JSON object and exits. Times are UNIX seconds, so a benchmark can
//! subtract the sender's process start.
//!
//! Counting walks the NLRI length octets only; `--sample-every N` also decodes every Nth UPDATE
//! in full and reports its first prefix and attributes.
//!
//! `bgp-count-receiver --replay 127.0.0.1:17900 --routes N` is the dumb sender that measures
//! the receiver's own ceiling: it encodes N IPv4 /32 routes before connecting, then writes them
//! in one go after the OPEN exchange.

use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bgpinject::rib::attributes::{NextHop, RouteAttributes};
use bgpinject::rib::packer::{self, SessionParams};
use bgpinject::rib::route_set::RouteSet;
use bgpinject::wire::attribute::{AttributeContext, PathAttribute, type_code};
use bgpinject::wire::capability::Capability;
use bgpinject::wire::family::{Afi, Family, Safi};
use bgpinject::wire::message::{
    self, DecodeContext, HEADER_LEN, MAX_EXTENDED_MESSAGE_LEN, MAX_MESSAGE_LEN, Message,
    message_type,
};
use bgpinject::wire::open::{BGP_VERSION, Open};
use bgpinject::wire::prefix::Prefix;
use serde::Serialize;

/// Hold time we propose: keepalives flow both ways during the test.
const HOLD_TIME: u16 = 90;

fn now_unix() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

#[derive(Clone, Debug, Default, Serialize)]
struct Sample {
    prefix: String,
    next_hop: String,
    attributes: Vec<String>,
}

#[derive(Clone, Debug, Default, Serialize)]
struct SessionReport {
    peer: String,
    established_at: f64,
    first_nlri_at: Option<f64>,
    last_nlri_at: Option<f64>,
    /// When End-of-RIB had arrived for every negotiated family.
    eor_at: Option<f64>,
    updates: u64,
    bytes: u64,
    largest_message: usize,
    ipv4_announced: u64,
    ipv6_announced: u64,
    withdrawn: u64,
    keepalives_received: u64,
    end_of_rib: Vec<String>,
    extended_message: bool,
    samples: Vec<Sample>,
    error: Option<String>,
}

#[derive(Serialize)]
struct Report {
    started_at: f64,
    finished_at: f64,
    complete: bool,
    sessions: Vec<SessionReport>,
    ipv4_announced: u64,
    ipv6_announced: u64,
    last_eor_at: Option<f64>,
}

struct Options {
    local_as: u32,
    sample_every: u64,
    extended_message: bool,
    /// Done after this many announced prefixes instead of at End-of-RIB (0: End-of-RIB).
    /// For routes that arrive after End-of-RIB, as from a helper process.
    expect: u64,
}

fn usage(opts: &getopts::Options) -> String {
    opts.usage(
        "Usage: bgp-count-receiver --listen ADDR:PORT [--sessions N] [--timeout S]\n       bgp-count-receiver --replay ADDR:PORT --routes N",
    )
}

fn main() -> ExitCode {
    let mut opts = getopts::Options::new();
    opts.optmulti(
        "l",
        "listen",
        "address and port to accept sessions on (repeatable)",
        "ADDR:PORT",
    );
    opts.optopt("n", "sessions", "sessions to wait for (default 1)", "N");
    opts.optopt("t", "timeout", "give up after S seconds (default 600)", "S");
    opts.optopt("a", "local-as", "our AS (default 65002)", "ASN");
    opts.optopt("s", "sample-every", "decode every Nth UPDATE in full", "N");
    opts.optflag("", "no-extended-message", "do not offer RFC 8654");
    opts.optopt(
        "",
        "replay",
        "dumb sender: connect here and send --routes",
        "ADDR:PORT",
    );
    opts.optopt("", "routes", "routes the dumb sender sends", "N");
    opts.optopt(
        "",
        "expect",
        "done after N announced prefixes instead of at End-of-RIB",
        "N",
    );
    opts.optflag("h", "help", "");
    let args: Vec<String> = std::env::args().skip(1).collect();
    let m = match opts.parse(&args) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("{e}\n{}", usage(&opts));
            return ExitCode::from(2);
        }
    };
    if m.opt_present("h") {
        println!("{}", usage(&opts));
        return ExitCode::SUCCESS;
    }
    let num = |name: &str, default: u64| -> u64 {
        m.opt_str(name)
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    if let Some(target) = m.opt_str("replay") {
        let Ok(addr) = target.parse::<SocketAddr>() else {
            eprintln!("--replay needs ADDR:PORT");
            return ExitCode::from(2);
        };
        return match replay(addr, num("routes", 1_000_000) as u32) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("replay: {e}");
                ExitCode::from(3)
            }
        };
    }
    let addrs: Vec<SocketAddr> = m
        .opt_strs("listen")
        .iter()
        .filter_map(|v| v.parse().ok())
        .collect();
    if addrs.is_empty() {
        eprintln!("--listen ADDR:PORT is required\n{}", usage(&opts));
        return ExitCode::from(2);
    }
    let options = Arc::new(Options {
        local_as: num("local-as", 65002) as u32,
        sample_every: num("sample-every", 0),
        expect: num("expect", 0),
        extended_message: !m.opt_present("no-extended-message"),
    });
    let sessions = num("sessions", 1) as usize;
    let timeout = Duration::from_secs(num("timeout", 600));
    match receive(&addrs, sessions, timeout, options) {
        Ok(report) => {
            println!(
                "{}",
                serde_json::to_string(&report).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
            );
            if report.complete {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(e) => {
            eprintln!("cannot listen: {e}");
            ExitCode::from(3)
        }
    }
}

fn receive(
    addrs: &[SocketAddr],
    sessions: usize,
    timeout: Duration,
    options: Arc<Options>,
) -> io::Result<Report> {
    let started_at = now_unix();
    let deadline = Instant::now() + timeout;
    let mut listeners = Vec::new();
    for addr in addrs {
        let l = TcpListener::bind(addr)?;
        l.set_nonblocking(true)?;
        listeners.push(l);
    }
    let reports: Arc<Mutex<Vec<SessionReport>>> = Arc::default();
    let mut threads = Vec::new();
    let mut turn = 0usize;
    while threads.len() < sessions && Instant::now() < deadline {
        turn += 1;
        if turn.is_multiple_of(listeners.len()) {
            std::thread::sleep(Duration::from_millis(1));
        }
        match listeners[turn % listeners.len()].accept() {
            Ok((stream, peer)) => {
                let _ = stream.set_nonblocking(false);
                let (reports, options) = (reports.clone(), options.clone());
                threads.push(std::thread::spawn(move || {
                    let mut report = SessionReport {
                        peer: peer.to_string(),
                        ..SessionReport::default()
                    };
                    if let Err(e) = serve(stream, &options, deadline, &mut report) {
                        report.error = Some(e.to_string());
                    }
                    if let Ok(mut r) = reports.lock() {
                        r.push(report);
                    }
                }));
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(e),
        }
    }
    for t in threads {
        let _ = t.join();
    }
    let mut sessions_done = std::mem::take(&mut *reports.lock().unwrap_or_else(|e| e.into_inner()));
    sessions_done.sort_by(|a, b| a.peer.cmp(&b.peer));
    let complete =
        sessions_done.len() == sessions && sessions_done.iter().all(|s| s.eor_at.is_some());
    Ok(Report {
        started_at,
        finished_at: now_unix(),
        complete,
        ipv4_announced: sessions_done.iter().map(|s| s.ipv4_announced).sum(),
        ipv6_announced: sessions_done.iter().map(|s| s.ipv6_announced).sum(),
        last_eor_at: sessions_done
            .iter()
            .filter_map(|s| s.eor_at)
            .fold(None, |a: Option<f64>, b| Some(a.map_or(b, |a| a.max(b)))),
        sessions: sessions_done,
    })
}

fn our_open(local_as: u32, extended_message: bool) -> Open {
    let mut capabilities = vec![
        Capability::Multiprotocol(Family::IPV4_UNICAST),
        Capability::Multiprotocol(Family::new(Afi::Ipv6, Safi::Unicast)),
        Capability::RouteRefresh,
        Capability::FourOctetAs(local_as),
    ];
    if extended_message {
        capabilities.push(Capability::ExtendedMessage);
    }
    Open {
        version: BGP_VERSION,
        my_as: u16::try_from(local_as).unwrap_or(23456),
        hold_time: HOLD_TIME,
        router_id: Ipv4Addr::new(192, 0, 2, 254),
        capabilities,
        parameter_layout: Vec::new(),
        extended_parameters: false,
    }
}

/// Counts the prefixes in an NLRI field by walking the length octets.
fn count_prefixes(mut nlri: &[u8]) -> u64 {
    let mut n = 0;
    while let Some(&len) = nlri.first() {
        let skip = 1 + (len as usize).div_ceil(8);
        nlri = nlri.get(skip..).unwrap_or_default();
        n += 1;
    }
    n
}

/// What one UPDATE body holds, found without decoding attribute values.
#[derive(Default)]
struct Counted {
    withdrawn: u64,
    ipv4: u64,
    ipv6: u64,
    /// `Some(family)` for an End-of-RIB marker.
    eor: Option<Family>,
}

fn count_update(body: &[u8]) -> Option<Counted> {
    let mut c = Counted::default();
    let wlen = u16::from_be_bytes([*body.first()?, *body.get(1)?]) as usize;
    c.withdrawn += count_prefixes(body.get(2..2 + wlen)?);
    let alen_at = 2 + wlen;
    let alen = u16::from_be_bytes([*body.get(alen_at)?, *body.get(alen_at + 1)?]) as usize;
    let mut attrs = body.get(alen_at + 2..alen_at + 2 + alen)?;
    let nlri = body.get(alen_at + 2 + alen..)?;
    c.ipv4 += count_prefixes(nlri);
    if wlen == 0 && alen == 0 && nlri.is_empty() {
        c.eor = Some(Family::IPV4_UNICAST);
    }
    let only_attribute = |rest: &[u8]| rest.is_empty();
    while attrs.len() >= 3 {
        let flags = attrs[0];
        let code = attrs[1];
        let (hdr, len) = if flags & 0x10 != 0 {
            (4, u16::from_be_bytes([attrs[2], *attrs.get(3)?]) as usize)
        } else {
            (3, attrs[2] as usize)
        };
        let value = attrs.get(hdr..hdr + len)?;
        attrs = &attrs[hdr + len..];
        let family = || -> Option<(Afi, Safi)> {
            let afi = Afi::from_u16(u16::from_be_bytes([*value.first()?, *value.get(1)?]));
            Some((afi, Safi::from_u8(*value.get(2)?)))
        };
        match code {
            type_code::MP_REACH_NLRI => {
                let (afi, _) = family()?;
                let nh_len = *value.get(3)? as usize;
                let n = count_prefixes(value.get(4 + nh_len + 1..)?);
                match afi {
                    Afi::Ipv4 => c.ipv4 += n,
                    _ => c.ipv6 += n,
                }
            }
            type_code::MP_UNREACH_NLRI => {
                let (afi, safi) = family()?;
                let rest = value.get(3..)?;
                if rest.is_empty() && wlen == 0 && nlri.is_empty() && only_attribute(attrs) {
                    c.eor = Some(Family::new(afi, safi));
                }
                c.withdrawn += count_prefixes(rest);
            }
            _ => {}
        }
    }
    Some(c)
}

fn sample(msg: &[u8], ctx: DecodeContext) -> Option<Sample> {
    let Ok((Message::Update(u), _)) = Message::decode(msg, ctx) else {
        return None;
    };
    let mut s = Sample::default();
    for a in &u.attributes {
        match a {
            PathAttribute::NextHop(nh) => s.next_hop = nh.to_string(),
            PathAttribute::MpReach(r) => {
                s.next_hop = format!("{:?}", r.next_hop);
                if let bgpinject::wire::attribute::MpNlri::Prefixes(p) = &r.nlri {
                    s.prefix = p.first().map(|p| p.to_string()).unwrap_or_default();
                }
            }
            other => s.attributes.push(other.to_string()),
        }
    }
    if let Some(p) = u.nlri.first() {
        s.prefix = p.to_string();
    }
    Some(s)
}

fn serve(
    mut stream: TcpStream,
    options: &Options,
    deadline: Instant,
    report: &mut SessionReport,
) -> io::Result<()> {
    stream.set_nodelay(true)?;
    stream.set_read_timeout(Some(Duration::from_millis(200)))?;
    let mut ctx = DecodeContext::default();
    let mut buf = vec![0u8; 1 << 20];
    let (mut filled, mut used) = (0usize, 0usize);
    let mut families: Vec<Family> = Vec::new();
    let mut established = false;
    let mut next_keepalive = Instant::now() + Duration::from_secs(HOLD_TIME as u64 / 3);
    let attr_ctx = AttributeContext {
        four_octet_as: true,
    };
    while Instant::now() < deadline {
        if established && Instant::now() >= next_keepalive {
            stream.write_all(&Message::Keepalive.encode(attr_ctx))?;
            next_keepalive = Instant::now() + Duration::from_secs(HOLD_TIME as u64 / 3);
        }
        if used > 0 && used == filled {
            (used, filled) = (0, 0);
        } else if buf.len() - filled < MAX_EXTENDED_MESSAGE_LEN {
            buf.copy_within(used..filled, 0);
            (filled, used) = (filled - used, 0);
        }
        let n = match stream.read(&mut buf[filled..]) {
            Ok(0) => return Err(io::Error::other("peer closed the connection")),
            Ok(n) => n,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                continue;
            }
            Err(e) => return Err(e),
        };
        filled += n;
        report.bytes += n as u64;
        loop {
            let rest = &buf[used..filled];
            let len = match message::frame(rest, ctx.max_message_len) {
                Ok(Some(len)) => len,
                Ok(None) => break,
                Err(e) => return Err(io::Error::other(format!("bad framing: {e}"))),
            };
            let msg = &rest[..len];
            used += len;
            report.largest_message = report.largest_message.max(len);
            match msg[18] {
                message_type::UPDATE => {
                    report.updates += 1;
                    let c = count_update(&msg[HEADER_LEN..])
                        .ok_or_else(|| io::Error::other("malformed UPDATE"))?;
                    if c.ipv4 + c.ipv6 > 0 {
                        let t = now_unix();
                        report.first_nlri_at.get_or_insert(t);
                        report.last_nlri_at = Some(t);
                    }
                    report.ipv4_announced += c.ipv4;
                    report.ipv6_announced += c.ipv6;
                    report.withdrawn += c.withdrawn;
                    if options.expect > 0
                        && report.ipv4_announced + report.ipv6_announced >= options.expect
                    {
                        report.eor_at = Some(now_unix());
                        return Ok(());
                    }
                    if let Some(f) = c.eor {
                        report.end_of_rib.push(f.to_string());
                        if options.expect == 0
                            && families
                                .iter()
                                .all(|f| report.end_of_rib.contains(&f.to_string()))
                        {
                            report.eor_at = Some(now_unix());
                            return Ok(());
                        }
                    }
                    if options.sample_every > 0
                        && report.updates % options.sample_every == 1
                        && let Some(s) = sample(msg, ctx)
                    {
                        report.samples.push(s);
                    }
                }
                message_type::OPEN => {
                    let (m, _) = Message::decode(msg, ctx)
                        .map_err(|e| io::Error::other(format!("bad OPEN: {e}")))?;
                    let Message::Open(peer) = m else {
                        return Err(io::Error::other("OPEN expected"));
                    };
                    let ours = our_open(options.local_as, options.extended_message);
                    let offered: Vec<Family> = ours
                        .capabilities
                        .iter()
                        .filter_map(|c| match c {
                            Capability::Multiprotocol(f) => Some(*f),
                            _ => None,
                        })
                        .collect();
                    families = peer
                        .capabilities
                        .iter()
                        .filter_map(|c| match c {
                            Capability::Multiprotocol(f) if offered.contains(f) => Some(*f),
                            _ => None,
                        })
                        .collect();
                    if families.is_empty() {
                        families.push(Family::IPV4_UNICAST);
                    }
                    report.extended_message = options.extended_message
                        && peer.has(|c| matches!(c, Capability::ExtendedMessage));
                    if report.extended_message {
                        ctx.max_message_len = MAX_EXTENDED_MESSAGE_LEN;
                    }
                    let mut out = Message::Open(ours).encode(attr_ctx);
                    out.extend(Message::Keepalive.encode(attr_ctx));
                    stream.write_all(&out)?;
                }
                message_type::KEEPALIVE => {
                    report.keepalives_received += 1;
                    if !established {
                        established = true;
                        report.established_at = now_unix();
                    }
                }
                message_type::NOTIFICATION => {
                    let text = Message::decode(msg, ctx)
                        .map(|(m, _)| m.to_string())
                        .unwrap_or_else(|e| e.to_string());
                    return Err(io::Error::other(format!("peer sent {text}")));
                }
                _ => {}
            }
        }
    }
    Err(io::Error::other("timed out before End-of-RIB"))
}

/// The dumb sender: `routes` IPv4 /32s from 10.0.0.0 with one next hop, pre-encoded in
/// 4096-octet UPDATEs, written in one go once the session is up.
fn replay(addr: SocketAddr, routes: u32) -> io::Result<()> {
    let nh = NextHop::Address {
        global: "192.0.2.1".parse().map_err(io::Error::other)?,
        link_local: None,
    };
    let attrs = Arc::new(RouteAttributes::with_next_hop(nh));
    let set = RouteSet::new(
        (0..routes)
            .filter_map(|i| Prefix::new(Ipv4Addr::from(0x0a00_0000 + i).into(), 32).ok())
            .map(|p| (p, attrs.clone()))
            .collect(),
    );
    let params = SessionParams {
        group_updates: true,
        four_octet_as: true,
        ebgp: true,
        local_as: 65001,
        local_address: "127.0.0.1".parse().map_err(io::Error::other)?,
        families: vec![Family::IPV4_UNICAST],
        max_message_len: MAX_MESSAGE_LEN,
        add_path: Vec::new(),
        extended_next_hop: Vec::new(),
        local_link_local: None,
        confederation: Default::default(),
        role: None,
    };
    let mut bytes = packer::pack_table(&set, &params).bytes;
    bytes.extend(packer::end_of_rib(Family::IPV4_UNICAST, &params));
    let ctx = AttributeContext {
        four_octet_as: true,
    };
    let open = Open {
        version: BGP_VERSION,
        my_as: 65001,
        hold_time: 0,
        router_id: Ipv4Addr::new(192, 0, 2, 1),
        capabilities: vec![
            Capability::Multiprotocol(Family::IPV4_UNICAST),
            Capability::FourOctetAs(65001),
        ],
        parameter_layout: Vec::new(),
        extended_parameters: false,
    };
    let mut s = TcpStream::connect(addr)?;
    s.write_all(&Message::Open(open).encode(ctx))?;
    s.write_all(&Message::Keepalive.encode(ctx))?;
    // Their OPEN and KEEPALIVE; what they say does not matter to a dumb sender.
    let mut b = [0u8; 4096];
    let _ = s.read(&mut b)?;
    let started = Instant::now();
    s.write_all(&bytes)?;
    eprintln!(
        "replay: {} bytes written in {:.3} s",
        bytes.len(),
        started.elapsed().as_secs_f64()
    );
    // Keep the connection open until the receiver has read it all and closes.
    let _ = s.set_read_timeout(Some(Duration::from_secs(30)));
    while let Ok(n) = s.read(&mut b) {
        if n == 0 {
            break;
        }
    }
    Ok(())
}
