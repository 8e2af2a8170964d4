//! Test harness: starts real BGP speakers on loopback, each in its own temp dir with its own
//! config, control socket and runtime files, and reads back what they received in one common
//! form ([`ReceivedRoute`]) so that a single assertion checks every peer.
//!
//! A test that needs a peer fails (never skips) when the peer cannot be installed or started.

#![allow(dead_code)]

pub mod bgpinject;
pub mod bird;
pub mod controlled;
pub mod fifo_helper;

use std::fmt;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// A route as a peer shows it, normalised. Lists are sorted; absent attributes are `None`/empty.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct ReceivedRoute {
    /// Canonical text, e.g. `198.51.100.7/32`, `2001:db8:100::/48`.
    pub prefix: String,
    /// The global next hop as text (`192.0.2.10`, `2001:db8::1`).
    pub next_hop: String,
    /// `igp`, `egp` or `incomplete`.
    pub origin: String,
    /// AS_PATH as ASNs in order (AS_SEQUENCE only; a set is written `{a,b}` by [`fmt`] only).
    pub as_path: Vec<u32>,
    pub med: Option<u32>,
    pub local_pref: Option<u32>,
    /// Numeric `HIGH:LOW` form, well-known ones too (`no-export` is `65535:65281`), sorted.
    pub communities: Vec<String>,
    /// `target:65000:1`, `origin:192.0.2.1:5`, or raw `0x0102030405060708`, sorted.
    pub extended_communities: Vec<String>,
    /// `GLOBAL:LOCAL1:LOCAL2`, sorted.
    pub large_communities: Vec<String>,
    pub atomic_aggregate: bool,
    /// `ASN:ADDRESS`.
    pub aggregator: Option<String>,
}

impl fmt::Display for ReceivedRoute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} nh {} origin {} as-path {:?} med {:?} lp {:?} comm {:?} ext {:?} large {:?} atomic {} aggr {:?}",
            self.prefix,
            self.next_hop,
            self.origin,
            self.as_path,
            self.med,
            self.local_pref,
            self.communities,
            self.extended_communities,
            self.large_communities,
            self.atomic_aggregate,
            self.aggregator
        )
    }
}

/// Compares what a peer received with what was expected and returns one line per difference,
/// naming the peer, the route and the attribute. Empty when equal.
pub fn diff_routes(peer: &str, expected: &[ReceivedRoute], got: &[ReceivedRoute]) -> Vec<String> {
    use std::collections::BTreeMap;
    let exp: BTreeMap<&str, &ReceivedRoute> =
        expected.iter().map(|r| (r.prefix.as_str(), r)).collect();
    let got_map: BTreeMap<&str, &ReceivedRoute> =
        got.iter().map(|r| (r.prefix.as_str(), r)).collect();
    let mut out = Vec::new();
    for (p, e) in &exp {
        let Some(g) = got_map.get(p) else {
            out.push(format!("{peer}: route {p} missing"));
            continue;
        };
        let mut field = |name: &str, a: String, b: String| {
            if a != b {
                out.push(format!(
                    "{peer}: route {p}: {name} expected {a}, received {b}"
                ));
            }
        };
        field("next-hop", e.next_hop.clone(), g.next_hop.clone());
        field("origin", e.origin.clone(), g.origin.clone());
        field(
            "as-path",
            format!("{:?}", e.as_path),
            format!("{:?}", g.as_path),
        );
        field("med", format!("{:?}", e.med), format!("{:?}", g.med));
        field(
            "local-preference",
            format!("{:?}", e.local_pref),
            format!("{:?}", g.local_pref),
        );
        field(
            "communities",
            format!("{:?}", e.communities),
            format!("{:?}", g.communities),
        );
        field(
            "extended-communities",
            format!("{:?}", e.extended_communities),
            format!("{:?}", g.extended_communities),
        );
        field(
            "large-communities",
            format!("{:?}", e.large_communities),
            format!("{:?}", g.large_communities),
        );
        field(
            "atomic-aggregate",
            e.atomic_aggregate.to_string(),
            g.atomic_aggregate.to_string(),
        );
        field(
            "aggregator",
            format!("{:?}", e.aggregator),
            format!("{:?}", g.aggregator),
        );
    }
    for p in got_map.keys() {
        if !exp.contains_key(p) {
            out.push(format!("{peer}: route {p} received but not configured"));
        }
    }
    out
}

/// Makes sure `binary` exists, installing Debian `package` with apt-get when it does not.
/// Waits for the dpkg lock (other tests may install at the same time). Panics on failure:
/// a test that needs a peer must fail, not skip.
pub fn ensure_installed(package: &str, binary: &str) {
    if which(binary) {
        return;
    }
    let status = Command::new("apt-get")
        .args([
            "-o",
            "DPkg::Lock::Timeout=600",
            "install",
            "-y",
            "--no-install-recommends",
            package,
        ])
        .env("DEBIAN_FRONTEND", "noninteractive")
        .status();
    if !matches!(status, Ok(s) if s.success()) {
        // The package lists may be missing on a fresh machine.
        let _ = Command::new("apt-get")
            .args(["-o", "DPkg::Lock::Timeout=600", "update"])
            .status();
        let status = Command::new("apt-get")
            .args([
                "-o",
                "DPkg::Lock::Timeout=600",
                "install",
                "-y",
                "--no-install-recommends",
                package,
            ])
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status();
        assert!(
            matches!(status, Ok(s) if s.success()),
            "cannot install Debian package {package} (needed for {binary})"
        );
    }
    assert!(which(binary), "{package} installed but {binary} not found");
}

pub fn which(binary: &str) -> bool {
    if binary.contains('/') {
        return Path::new(binary).exists();
    }
    std::env::var_os("PATH")
        .map(|paths| {
            std::env::split_paths(&paths)
                .chain(["/usr/sbin".into(), "/sbin".into(), "/usr/lib/frr".into()])
                .any(|d| d.join(binary).is_file())
        })
        .unwrap_or(false)
}

/// Polls `check` every 100 ms until it returns `Some`, for at most `timeout`.
pub fn wait_for<T>(timeout: Duration, mut check: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = check() {
            return Some(v);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Whether a socket of this network namespace listens on TCP `addr:port` (read from
/// /proc/net/tcp or tcp6, where the kernel prints each 32-bit word of an address in native
/// order; nothing connects to it to find out).
pub fn listening(addr: std::net::IpAddr, port: u16) -> bool {
    let (file, want) = match addr {
        std::net::IpAddr::V4(a) => (
            "/proc/net/tcp",
            format!("{:08X}", u32::from_ne_bytes(a.octets())),
        ),
        std::net::IpAddr::V6(a) => (
            "/proc/net/tcp6",
            a.octets()
                .chunks(4)
                .map(|w| format!("{:08X}", u32::from_ne_bytes([w[0], w[1], w[2], w[3]])))
                .collect(),
        ),
    };
    let want = format!("{want}:{port:04X}");
    std::fs::read_to_string(file).is_ok_and(|table| {
        table.lines().skip(1).any(|line| {
            let mut fields = line.split_whitespace().skip(1);
            // local address, remote address, state (0A: LISTEN)
            fields.next() == Some(want.as_str()) && fields.nth(1) == Some("0A")
        })
    })
}

/// Runs the test `name` again in a network namespace of its own (created by `unshare`,
/// gone when the process ends) where TCP send buffers stay small (64 KB): a peer that stops
/// reading then leaves bgpinject with a write pending after some 100 KB of UPDATEs, as a slow
/// peer across a real network would, instead of the 4 MB loopback lets it queue. Returns
/// `true` in the outer process, whose work is then done; fails when the namespace cannot be
/// made.
pub fn rerun_in_small_buffer_namespace(name: &str) -> bool {
    if std::env::var_os("BGPINJECT_TEST_NETNS").is_some() {
        return false;
    }
    let exe = std::env::current_exe().unwrap();
    let status = std::process::Command::new("unshare")
        .args([
            "-n",
            "--",
            "sh",
            "-c",
            "ip link set lo up && echo '4096 16384 65536' > /proc/sys/net/ipv4/tcp_wmem && exec \"$0\" --exact \"$1\" --nocapture --test-threads=1",
        ])
        .arg(exe)
        .arg(name)
        .env("BGPINJECT_TEST_NETNS", "1")
        .status()
        .expect("run unshare");
    assert!(
        status.success(),
        "{name} in its network namespace: {status}"
    );
    true
}

pub mod daemon;
pub mod exabgp;
pub mod flows;
pub mod frr;
pub mod gobgp;
pub mod mp_readers;
pub mod normalise;
pub mod openbgpd;
pub mod spec;

/// Reads one whole BGP message from a test's own peer socket and decodes it (4-octet AS
/// context); `None` when the stream ends, times out or the bytes do not decode.
pub fn read_message(s: &mut std::net::TcpStream) -> Option<::bgpinject::wire::message::Message> {
    use std::io::Read;
    let mut header = [0u8; 19];
    s.read_exact(&mut header).ok()?;
    let len = u16::from_be_bytes([header[16], header[17]]) as usize;
    let mut msg = header.to_vec();
    msg.resize(len.max(19), 0);
    s.read_exact(&mut msg[19..]).ok()?;
    ::bgpinject::wire::message::Message::decode(
        &msg,
        ::bgpinject::wire::message::DecodeContext::default(),
    )
    .ok()
    .map(|m| m.0)
}
