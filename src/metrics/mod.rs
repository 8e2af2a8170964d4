//! Metrics an operator can scrape: `bgpinject ctl metrics` and the `--metrics ADDRESS:PORT`
//! listener ([`http`]) print the same text ([`render`], Prometheus text format, see
//! [`text`]; every metric is listed in docs/operations.md).
//!
//! A scrape never waits on the manager. The manager keeps its counters in [`Counters`] and
//! publishes what it knows (neighbors, routes per source, helpers) at most ten times a
//! second, and at least once a second, as one `Arc` swapped under a short lock; health-check
//! threads and reloads record their own events here. A scrape clones that `Arc` and renders
//! it on its own thread.

pub mod http;
pub mod text;

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::{Arc, LazyLock, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::api::Source;
use crate::api::process::HelperOutput;
use crate::session::core::SessionEvent;
use crate::session::fsm::State;
use crate::wire::family::Family;
use crate::wire::family_counts::FamilySent;
use text::{Exposition, Kind};

/// The shortest time between two snapshots of the manager (an API flood must not make it
/// copy its state for every command).
const PUBLISH_INTERVAL: Duration = Duration::from_millis(100);

/// What scrapes read: the manager's last snapshot, and what other threads record.
struct Registry {
    published: Mutex<Arc<Snapshot>>,
    checks: Mutex<BTreeMap<String, CheckState>>,
    reloads: Mutex<Reloads>,
    started: SystemTime,
}

static REGISTRY: LazyLock<Registry> = LazyLock::new(|| Registry {
    published: Mutex::new(Arc::default()),
    checks: Mutex::new(BTreeMap::new()),
    reloads: Mutex::new(Reloads::default()),
    started: SystemTime::now(),
});

/// A lock held only to copy or update a few values: a thread that panicked while holding it
/// left nothing half-written that matters here.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[derive(Clone, Copy, Debug, Default)]
struct CheckState {
    up: bool,
    transitions: u64,
    checks: u64,
    failures: u64,
}

#[derive(Clone, Copy, Debug, Default)]
struct Reloads {
    succeeded: u64,
    failed: u64,
    /// The last one: whether it was applied, how long it took, when it ended.
    last: Option<(bool, Duration, SystemTime)>,
}

/// A health check (re)started: it starts down, as its routes do.
pub fn healthcheck_started(name: &str) {
    let mut checks = lock(&REGISTRY.checks);
    checks.entry(name.to_string()).or_default().up = false;
}

/// One run of a health check's command (`ok`), and the state it is in after it.
pub fn healthcheck_ran(name: &str, ok: bool, up: bool) {
    let mut checks = lock(&REGISTRY.checks);
    let c = checks.entry(name.to_string()).or_default();
    c.checks += 1;
    c.failures += u64::from(!ok);
    c.transitions += u64::from(c.up != up);
    c.up = up;
}

/// A reload was applied (`ok`) or refused, and took `took` (parsing included when the
/// manager parsed the file).
pub fn reloaded(ok: bool, took: Duration) {
    let mut r = lock(&REGISTRY.reloads);
    if ok {
        r.succeeded += 1;
    } else {
        r.failed += 1;
    }
    r.last = Some((ok, took, SystemTime::now()));
}

/// A neighbor as the manager sees it (the numbers `ctl show neighbor` prints).
#[derive(Clone, Debug)]
pub struct NeighborView {
    pub address: IpAddr,
    pub local_as: u32,
    pub peer_as: u32,
    pub state: State,
    pub established_since: Option<SystemTime>,
    /// The routes it is told to announce (every source together).
    pub routes: usize,
    pub file_routes: usize,
    /// The routes of each program source.
    pub sources: Vec<(Source, usize)>,
}

/// What the manager counts itself, beside what its neighbors' statuses hold.
#[derive(Default)]
pub struct Counters {
    neighbors: BTreeMap<IpAddr, NeighborCounters>,
    helpers: BTreeMap<String, HelperCounters>,
    control_refused: u64,
    last_publish: Option<Instant>,
}

#[derive(Clone, Debug, Default)]
struct NeighborCounters {
    description: String,
    up: bool,
    established: u64,
    flaps: u64,
    families: Vec<(Family, FamilySent)>,
}

#[derive(Clone, Debug, Default)]
struct HelperCounters {
    /// The generation that reported its start last (a start of the same one is a restart).
    output: Option<Arc<HelperOutput>>,
    starts: u64,
    restarts: u64,
    refused: u64,
}

impl Counters {
    /// The descriptions of the configured neighbors (the manager keeps none: it holds each
    /// neighbor's settings without routes nor description).
    pub fn describe(&mut self, neighbors: &[crate::config::NeighborConfig]) {
        for n in neighbors {
            let c = self.neighbors.entry(n.peer_address).or_default();
            c.description = n.description.clone().unwrap_or_default();
        }
    }

    /// A report of one of `address`'s threads (a stopping one's too: its session's end is a
    /// flap the peer saw).
    pub fn session_event(&mut self, address: IpAddr, event: &SessionEvent) {
        let n = self.neighbors.entry(address).or_default();
        match event {
            SessionEvent::Established(_) => {
                n.up = true;
                n.established += 1;
            }
            SessionEvent::Down(_) if n.up => {
                n.up = false;
                n.flaps += 1;
            }
            SessionEvent::Sent { families, .. } => {
                for (f, s) in families {
                    match n.families.iter_mut().find(|(g, _)| g == f) {
                        Some((_, t)) => {
                            t.updates += s.updates;
                            t.announced += s.announced;
                            t.withdrawn += s.withdrawn;
                        }
                        None => n.families.push((*f, *s)),
                    }
                }
                n.families.sort_by_key(|(f, _)| *f);
            }
            _ => {}
        }
    }

    /// A helper's program started (`HelperStarted`).
    pub fn helper_started(&mut self, output: &Arc<HelperOutput>) {
        let h = self.helpers.entry(output.name.clone()).or_default();
        h.starts += 1;
        if h.output.as_ref().is_some_and(|o| Arc::ptr_eq(o, output)) {
            h.restarts += 1;
        }
        h.output = Some(output.clone());
    }

    /// A command of `source` was refused (a helper's line, a control socket command).
    pub fn refused(&mut self, source: &Source) {
        match source {
            Source::Process(name) => self.helpers.entry(name.clone()).or_default().refused += 1,
            Source::Control => self.control_refused += 1,
            Source::Healthcheck(_) | Source::Replayed(_) | Source::Watchdog => {}
        }
    }

    /// Whether the manager should publish a snapshot now.
    pub fn due(&self) -> bool {
        self.last_publish
            .is_none_or(|t| t.elapsed() >= PUBLISH_INTERVAL)
    }

    /// Publishes the manager's state for scrapes: `neighbors` and the `helpers` and health
    /// checks configured now (counters of removed ones are dropped).
    pub fn publish(
        &mut self,
        neighbors: Vec<NeighborView>,
        helpers: Vec<Arc<HelperOutput>>,
        checks: Vec<String>,
    ) {
        self.last_publish = Some(Instant::now());
        self.neighbors
            .retain(|a, _| neighbors.iter().any(|n| n.address == *a));
        self.helpers
            .retain(|name, _| helpers.iter().any(|h| h.name == *name));
        let snapshot = Snapshot {
            neighbors: neighbors
                .into_iter()
                .map(|v| {
                    let c = self.neighbors.get(&v.address).cloned().unwrap_or_default();
                    (v, c)
                })
                .collect(),
            helpers: helpers
                .into_iter()
                .map(|o| {
                    let c = self.helpers.get(&o.name).cloned().unwrap_or_default();
                    (o, c)
                })
                .collect(),
            control_refused: self.control_refused,
            checks,
        };
        *lock(&REGISTRY.published) = Arc::new(snapshot);
    }
}

/// The manager's state at its last publication.
#[derive(Default)]
struct Snapshot {
    neighbors: Vec<(NeighborView, NeighborCounters)>,
    helpers: Vec<(Arc<HelperOutput>, HelperCounters)>,
    control_refused: u64,
    checks: Vec<String>,
}

/// Every state of the FSM, for the one-series-per-state gauge.
const STATES: [State; 6] = [
    State::Idle,
    State::Connect,
    State::Active,
    State::OpenSent,
    State::OpenConfirm,
    State::Established,
];

fn seconds(t: SystemTime) -> f64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// The metrics text, as `--metrics` serves it and `ctl metrics` prints it.
pub fn render() -> String {
    let snapshot = lock(&REGISTRY.published).clone();
    let checks = lock(&REGISTRY.checks).clone();
    let reloads = *lock(&REGISTRY.reloads);
    let now = SystemTime::now();
    let mut e = Exposition::default();

    e.metric(
        "bgpinject_info",
        Kind::Gauge,
        "The running version (always 1).",
    )
    .sample(&[("version", env!("CARGO_PKG_VERSION"))], 1.0);
    e.metric(
        "bgpinject_start_time_seconds",
        Kind::Gauge,
        "When bgpinject started, in seconds since the Unix epoch.",
    )
    .sample(&[], seconds(REGISTRY.started));

    render_neighbors(&mut e, &snapshot, now);
    render_helpers(&mut e, &snapshot);
    render_checks(&mut e, &snapshot, &checks);
    render_reloads(&mut e, &reloads);
    e.finish()
}

fn render_neighbors(e: &mut Exposition, s: &Snapshot, now: SystemTime) {
    let addrs: Vec<String> = s
        .neighbors
        .iter()
        .map(|(v, _)| v.address.to_string())
        .collect();
    let mut m = e.metric(
        "bgpinject_neighbor_info",
        Kind::Gauge,
        "A configured neighbor (always 1), with its description and AS numbers.",
    );
    for ((v, c), a) in s.neighbors.iter().zip(&addrs) {
        m.sample(
            &[
                ("neighbor", a),
                ("description", &c.description),
                ("local_as", &v.local_as.to_string()),
                ("peer_as", &v.peer_as.to_string()),
            ],
            1.0,
        );
    }
    let mut m = e.metric(
        "bgpinject_neighbor_state",
        Kind::Gauge,
        "1 for the state the session is in (as ctl show neighbor names it), 0 for the others.",
    );
    for ((v, _), a) in s.neighbors.iter().zip(&addrs) {
        for state in STATES {
            let name = format!("{state:?}");
            m.sample(
                &[("neighbor", a), ("state", &name)],
                f64::from(u8::from(v.state == state)),
            );
        }
    }
    let mut m = e.metric(
        "bgpinject_neighbor_up",
        Kind::Gauge,
        "1 while the session is established.",
    );
    for ((v, _), a) in s.neighbors.iter().zip(&addrs) {
        m.sample(
            &[("neighbor", a)],
            f64::from(u8::from(v.state == State::Established)),
        );
    }
    let mut m = e.metric(
        "bgpinject_neighbor_uptime_seconds",
        Kind::Gauge,
        "How long the session has been established (0 while it is not).",
    );
    for ((v, _), a) in s.neighbors.iter().zip(&addrs) {
        let up = v
            .established_since
            .and_then(|t| now.duration_since(t).ok())
            .map_or(0.0, |d| d.as_secs() as f64);
        m.sample(&[("neighbor", a)], up);
    }
    let mut m = e.metric(
        "bgpinject_neighbor_established_total",
        Kind::Counter,
        "Times the session came up.",
    );
    for ((_, c), a) in s.neighbors.iter().zip(&addrs) {
        m.sample(&[("neighbor", a)], c.established as f64);
    }
    let mut m = e.metric(
        "bgpinject_neighbor_flaps_total",
        Kind::Counter,
        "Times an established session went down.",
    );
    for ((_, c), a) in s.neighbors.iter().zip(&addrs) {
        m.sample(&[("neighbor", a)], c.flaps as f64);
    }
    type Field = fn(&FamilySent) -> u64;
    let per_family: [(&'static str, &str, Field); 3] = [
        (
            "bgpinject_neighbor_updates_sent_total",
            "UPDATE messages queued for the peer, per family (End-of-RIB markers not counted).",
            |f| f.updates,
        ),
        (
            "bgpinject_neighbor_prefixes_announced_total",
            "Routes announced to the peer, per family (each NLRI of each UPDATE).",
            |f| f.announced,
        ),
        (
            "bgpinject_neighbor_prefixes_withdrawn_total",
            "Routes withdrawn from the peer, per family.",
            |f| f.withdrawn,
        ),
    ];
    for (name, help, field) in per_family {
        let mut m = e.metric(name, Kind::Counter, help);
        for ((_, c), a) in s.neighbors.iter().zip(&addrs) {
            for (family, sent) in &c.families {
                m.sample(
                    &[("neighbor", a), ("family", &family.to_string())],
                    field(sent) as f64,
                );
            }
        }
    }
    let mut m = e.metric(
        "bgpinject_neighbor_routes",
        Kind::Gauge,
        "Routes each source gives the neighbor: source file, process (a helper, by name), healthcheck (by name) or control (the control socket).",
    );
    for ((v, _), a) in s.neighbors.iter().zip(&addrs) {
        m.sample(
            &[("neighbor", a), ("source", "file"), ("name", "")],
            v.file_routes as f64,
        );
        let control = v
            .sources
            .iter()
            .find(|(src, _)| *src == Source::Control)
            .map_or(0, |(_, n)| *n);
        m.sample(
            &[("neighbor", a), ("source", "control"), ("name", "")],
            control as f64,
        );
        for (source, n) in &v.sources {
            let (kind, name) = match source {
                Source::Process(name) => ("process", name.as_str()),
                Source::Healthcheck(name) => ("healthcheck", name.as_str()),
                Source::Replayed(inner) => match &**inner {
                    Source::Process(name) => ("replayed", name.as_str()),
                    _ => continue,
                },
                Source::Watchdog => ("watchdog", ""),
                Source::Control => continue,
            };
            m.sample(
                &[("neighbor", a), ("source", kind), ("name", name)],
                *n as f64,
            );
        }
    }
    let mut m = e.metric(
        "bgpinject_neighbor_adj_rib_out_routes",
        Kind::Gauge,
        "Routes the neighbor is told to announce, every source together (ctl show neighbor's routes).",
    );
    for ((v, _), a) in s.neighbors.iter().zip(&addrs) {
        m.sample(&[("neighbor", a)], v.routes as f64);
    }
}

fn render_helpers(e: &mut Exposition, s: &Snapshot) {
    let mut m = e.metric(
        "bgpinject_helper_running",
        Kind::Gauge,
        "1 while the helper's program runs.",
    );
    for (o, _) in &s.helpers {
        m.sample(&[("helper", &o.name)], f64::from(u8::from(o.is_running())));
    }
    type Field = fn(&Arc<HelperOutput>, &HelperCounters) -> u64;
    let counters: [(&'static str, &str, Field); 4] = [
        (
            "bgpinject_helper_starts_total",
            "Times the helper's program was started (the first start included).",
            |_, c| c.starts,
        ),
        (
            "bgpinject_helper_restarts_total",
            "Times the helper's program was started again after it exited.",
            |_, c| c.restarts,
        ),
        (
            "bgpinject_helper_refused_lines_total",
            "Lines of the helper refused with an error (unknown command, invalid route, too long, not UTF-8).",
            |_, c| c.refused,
        ),
        (
            "bgpinject_helper_dropped_events_total",
            "Events not written to the helper because it did not read its stdin.",
            |o, _| o.dropped(),
        ),
    ];
    for (name, help, field) in counters {
        let mut m = e.metric(name, Kind::Counter, help);
        for (o, c) in &s.helpers {
            m.sample(&[("helper", &o.name)], field(o, c) as f64);
        }
    }
    e.metric(
        "bgpinject_control_refused_commands_total",
        Kind::Counter,
        "Control socket commands refused with an error.",
    )
    .sample(&[], s.control_refused as f64);
}

fn render_checks(e: &mut Exposition, s: &Snapshot, checks: &BTreeMap<String, CheckState>) {
    let configured: Vec<(&String, CheckState)> = s
        .checks
        .iter()
        .map(|name| (name, checks.get(name).copied().unwrap_or_default()))
        .collect();
    let mut m = e.metric(
        "bgpinject_healthcheck_up",
        Kind::Gauge,
        "1 while the health check is up (its routes announced as up).",
    );
    for (name, c) in &configured {
        m.sample(&[("healthcheck", name)], f64::from(u8::from(c.up)));
    }
    type Field = fn(&CheckState) -> u64;
    let counters: [(&'static str, &str, Field); 3] = [
        (
            "bgpinject_healthcheck_transitions_total",
            "Times the health check went up or down.",
            |c| c.transitions,
        ),
        (
            "bgpinject_healthcheck_runs_total",
            "Times the health check's command ran (or the disable file was found).",
            |c| c.checks,
        ),
        (
            "bgpinject_healthcheck_failures_total",
            "Runs that failed (or found the disable file).",
            |c| c.failures,
        ),
    ];
    for (name, help, field) in counters {
        let mut m = e.metric(name, Kind::Counter, help);
        for (check, c) in &configured {
            m.sample(&[("healthcheck", check)], field(c) as f64);
        }
    }
}

fn render_reloads(e: &mut Exposition, r: &Reloads) {
    e.metric(
        "bgpinject_reloads_total",
        Kind::Counter,
        "Reloads of the configuration, applied or refused (SIGHUP, SIGUSR1, --watch, ctl reload).",
    )
    .sample(&[("result", "applied")], r.succeeded as f64)
    .sample(&[("result", "refused")], r.failed as f64);
    let (ok, took, at) = match r.last {
        Some((ok, took, at)) => (f64::from(u8::from(ok)), took.as_secs_f64(), seconds(at)),
        None => (1.0, 0.0, 0.0),
    };
    e.metric(
        "bgpinject_last_reload_success",
        Kind::Gauge,
        "1 when the last reload was applied (or none happened), 0 when it was refused.",
    )
    .sample(&[], ok);
    e.metric(
        "bgpinject_last_reload_duration_seconds",
        Kind::Gauge,
        "How long the last reload took to read and apply the configuration.",
    )
    .sample(&[], took);
    e.metric(
        "bgpinject_last_reload_timestamp_seconds",
        Kind::Gauge,
        "When the last reload ended, in seconds since the Unix epoch (0: none yet).",
    )
    .sample(&[], at);
}
