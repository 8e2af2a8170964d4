//! When the End-of-RIB of the initial table may go out (RFC 4724 §2, §4.2). With graceful
//! restart negotiated, the peer keeps our routes of the last session as stale until our
//! End-of-RIB and then drops whatever we did not announce again: sent before the helpers
//! and health checks have announced, it withdraws their routes (an anycast black hole).
//! So a neighbor with such sources holds the marker until the manager releases its families
//! (every source said it is ready) or `eor-wait` passed since the session came up. Without
//! sources, or without graceful restart negotiated, nothing is held.

use std::time::{Duration, Instant};

use crate::wire::family::Family;

/// The families whose End-of-RIB the manager lets go (sticky for the neighbor's life).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EorRelease {
    All,
    Families(Vec<Family>),
}

impl EorRelease {
    pub fn contains(&self, f: Family) -> bool {
        match self {
            EorRelease::All => true,
            EorRelease::Families(fs) => fs.contains(&f),
        }
    }

    /// What both releases let go.
    pub fn merge(&mut self, other: &EorRelease) {
        match (&mut *self, other) {
            (EorRelease::All, _) => {}
            (_, EorRelease::All) => *self = EorRelease::All,
            (EorRelease::Families(a), EorRelease::Families(b)) => {
                for f in b {
                    if !a.contains(f) {
                        a.push(*f);
                    }
                }
            }
        }
    }
}

/// The gate of one neighbor, across its connections; no I/O, time as a parameter.
#[derive(Debug)]
pub struct EorGate {
    /// `None`: nothing is ever held.
    wait: Option<Duration>,
    released: EorRelease,
    /// Families of this connection whose End-of-RIB is not sent yet.
    held: Vec<Family>,
    /// When the held ones go anyway.
    deadline: Option<Instant>,
    expired: bool,
}

impl EorGate {
    /// `wait`: the neighbor has sources to wait for, at most this long.
    pub fn new(wait: Option<Duration>) -> EorGate {
        EorGate {
            wait,
            released: match wait {
                Some(_) => EorRelease::Families(Vec::new()),
                None => EorRelease::All,
            },
            held: Vec::new(),
            deadline: None,
            expired: false,
        }
    }

    /// The session came up with `families`: the ones whose End-of-RIB goes with the table
    /// now; the rest are held (only with graceful restart negotiated).
    pub fn session_up(
        &mut self,
        families: &[Family],
        graceful_restart: bool,
        now: Instant,
    ) -> Vec<Family> {
        self.held.clear();
        self.expired = false;
        self.deadline = None;
        let Some(wait) = self.wait.filter(|_| graceful_restart) else {
            return families.to_vec();
        };
        let (now_sent, held): (Vec<Family>, Vec<Family>) =
            families.iter().partition(|f| self.released.contains(**f));
        if !held.is_empty() {
            self.held = held;
            self.deadline = Some(now + wait);
        }
        now_sent
    }

    pub fn session_down(&mut self) {
        self.held.clear();
        self.deadline = None;
    }

    pub fn release(&mut self, r: &EorRelease) {
        self.released.merge(r);
    }

    /// Whether the End-of-RIB of `f` is still held on this connection.
    pub fn is_held(&self, f: Family) -> bool {
        self.held.contains(&f)
    }

    pub fn deadline(&self) -> Option<Instant> {
        self.deadline.filter(|_| !self.held.is_empty())
    }

    /// `eor-wait` passed: `true` when this let held families go.
    pub fn expire(&mut self, now: Instant) -> bool {
        if self.deadline().is_some_and(|d| now >= d) && !self.expired {
            self.expired = true;
            return true;
        }
        false
    }

    /// The held families that may go now (released, or the wait expired); no longer held.
    pub fn take_sendable(&mut self) -> Vec<Family> {
        let (go, keep): (Vec<Family>, Vec<Family>) = self
            .held
            .iter()
            .partition(|f| self.expired || self.released.contains(**f));
        self.held = keep;
        if self.held.is_empty() {
            self.deadline = None;
        }
        go
    }

    /// The families still held.
    pub fn held(&self) -> &[Family] {
        &self.held
    }

    pub fn wait(&self) -> Option<Duration> {
        self.wait
    }
}
