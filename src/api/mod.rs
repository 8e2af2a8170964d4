//! Routes from programs: ExaBGP-compatible helper processes ([`process`]), the control socket
//! ([`control`]) and built-in health checks ([`healthcheck`]). All of them turn into
//! [`ApiRequest`]s for the manager thread, which keeps each source's routes beside the file's
//! and sends every neighbor the union (see `manager/program_routes.rs`). Nothing here knows
//! the manager: requests go out on channels (see `crate::events`).

pub mod command;
pub mod control;
pub mod events;
pub mod healthcheck;
pub mod lease;
pub mod process;

use std::collections::BTreeMap;
use std::sync::Arc;

use crossbeam_channel::Sender;

use crate::config::RouteConfig;
use command::Request;

/// Who announced a route; each source's routes are kept and withdrawn separately.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Source {
    Process(String),
    Control,
    Healthcheck(String),
    /// A source's routes read back from the state file at start, until that source says
    /// it is ready (or `eor-wait` passed): see `manager/state_file.rs`.
    Replayed(Box<Source>),
    /// The configuration's routes with a `watchdog` name, while their group is announced
    /// (see `manager/watchdog.rs`): kept beside the file's, which are never withdrawn by a
    /// command.
    Watchdog,
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::Process(n) => write!(f, "process {n}"),
            Source::Control => f.write_str("control socket"),
            Source::Healthcheck(n) => write!(f, "healthcheck {n}"),
            Source::Replayed(s) => write!(f, "{s} (replayed from the state file)"),
            Source::Watchdog => f.write_str("the configuration's watchdog routes"),
        }
    }
}

/// Where the answer to a request goes.
#[derive(Clone, Debug)]
pub enum Replier {
    /// A helper's stdin (acknowledgements follow its ack mode).
    Process(Arc<process::HelperOutput>),
    /// A control socket connection: every line, the last one `done` or `error`.
    Control(Sender<Vec<String>>),
    /// Internal requests (health checks, a helper's exit).
    Nobody,
}

impl Replier {
    /// Sends `lines` followed by `done` (ok) or `error`.
    pub fn answer(&self, mut lines: Vec<String>, ok: bool) {
        let status = if ok { "done" } else { "error" };
        match self {
            Replier::Process(out) => {
                for l in lines {
                    out.send(l);
                }
                if out.acks() {
                    out.send(status.to_string());
                }
            }
            Replier::Control(tx) => {
                lines.push(status.to_string());
                let _ = tx.send(lines);
            }
            Replier::Nobody => {}
        }
    }
}

/// What the manager applies for a source.
#[derive(Debug)]
pub enum ApiAction {
    /// A command line from a helper or the control socket.
    Command(Request),
    /// A helper's command lines of one read, in their order: each is applied and answered
    /// as if it came alone (one message per read instead of one per line).
    Batch(Vec<BatchLine>),
    /// Replace every route of the source (health checks): `(neighbors, routes)`, where an
    /// empty neighbor list means every neighbor.
    Replace(Vec<std::net::IpAddr>, Vec<RouteConfig>),
    /// Forget the source's routes (a helper exited with `on-exit withdraw`).
    Clear,
}

/// One line of a batch, or a run of lines that differ only in their prefix.
#[derive(Debug)]
pub enum BatchLine {
    One(Request),
    /// `announce route PREFIX REST` lines whose `REST` is the same text as the line before
    /// them (read as the same route with another prefix, see
    /// `config::api_command::RouteMemo`): each prefix is one line, applied and answered as
    /// `template` with its prefix. A helper flooding one kind of route costs the reader a
    /// prefix per line, not a parsed request.
    Repeated {
        template: Request,
        prefixes: Vec<crate::wire::prefix::Prefix>,
    },
}

impl BatchLine {
    /// The lines it stands for.
    pub fn lines(&self) -> usize {
        match self {
            BatchLine::One(_) => 1,
            BatchLine::Repeated { prefixes, .. } => prefixes.len(),
        }
    }
}

#[derive(Debug)]
pub struct ApiRequest {
    pub source: Source,
    pub action: ApiAction,
    pub replier: Replier,
    /// Held while the request waits for the manager and is applied: a helper has a bounded
    /// number in flight, so one that floods waits (as ExaBGP's pipe makes it wait) instead
    /// of growing the manager's queue. Released when the request is dropped.
    pub permit: Option<Permit>,
    /// The stop flag of the health check that sent it: once the manager has stopped that
    /// generation (set the flag), its late results change nothing.
    pub stopped: Option<Arc<std::sync::atomic::AtomicBool>>,
}

/// One of a helper's in-flight requests (see [`ApiRequest::permit`]).
#[derive(Debug)]
pub struct Permit(crossbeam_channel::Receiver<()>);

impl Permit {
    /// Waits for a free slot among `slots` (a bounded channel of the helper's capacity);
    /// gives up after `timeout` so the caller can check whether it should stop.
    pub fn acquire(
        slots: &(
            crossbeam_channel::Sender<()>,
            crossbeam_channel::Receiver<()>,
        ),
        timeout: std::time::Duration,
    ) -> Option<Permit> {
        slots
            .0
            .send_timeout((), timeout)
            .ok()
            .map(|()| Permit(slots.1.clone()))
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        let _ = self.0.try_recv();
    }
}

/// A bounded pace for log lines that a program can cause at any rate: at most `per_second`
/// lines a second, the others counted.
pub struct LogPace {
    start: std::time::Instant,
    count: u32,
    per_second: u32,
}

impl LogPace {
    pub fn new(per_second: u32) -> LogPace {
        LogPace {
            start: std::time::Instant::now(),
            count: 0,
            per_second,
        }
    }

    /// Counts one line: whether to log it, and how many lines the second that just ended
    /// did not log (0 when none, or when it has not ended).
    pub fn admit(&mut self) -> (bool, u32) {
        let mut missed = 0;
        if self.start.elapsed() >= std::time::Duration::from_secs(1) {
            missed = self.count.saturating_sub(self.per_second);
            self.start = std::time::Instant::now();
            self.count = 0;
        }
        self.count += 1;
        (self.count <= self.per_second, missed)
    }
}

/// Logs refused commands at a bounded pace per source: a helper that prints a million bad
/// lines costs a few log lines a second, and the count of the rest.
#[derive(Default)]
pub struct RefusalLog {
    paces: BTreeMap<Source, LogPace>,
}

/// Refusals logged per source and second; the others are counted.
const REFUSALS_PER_SECOND: u32 = 10;

impl RefusalLog {
    pub fn refused(&mut self, source: &Source, message: &str) {
        let pace = self
            .paces
            .entry(source.clone())
            .or_insert_with(|| LogPace::new(REFUSALS_PER_SECOND));
        let (log, missed) = pace.admit();
        if missed > 0 {
            log::warn!("{source}: {missed} more commands refused in the last second (not logged)");
        }
        if log {
            log::warn!("{source}: command refused: {message}");
        }
    }
}
