//! A helper's `done` held until the UPDATEs its command caused are sent.
//!
//! ExaBGP sends the UPDATE of an `announce` (and tells helpers with `api { send { update; } }`
//! of it) before it answers `done`, and helpers rely on that order: ExaBGP's own api-api
//! helper reads its stdin after each `done` and takes any UPDATE event that follows for a
//! failure. bgpinject applies a command at once but sends its routes a little later (the
//! manager coalesces commands, the neighbor thread writes), so when the helper is told of
//! the UPDATEs a neighbor sends, its answer waits for that neighbor's thread to report that
//! what it was given is written (`PeerCommand::Sync`, `SessionEvent::Synced`), at most
//! [`HOLD_MAX`]. The answers of one helper keep their order: once one is held, those after
//! it wait behind it.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::net::IpAddr;
use std::time::{Duration, Instant};

use crate::api::Replier;

/// The longest an answer waits for its UPDATEs: a peer that does not read must not make a
/// helper's acknowledgement time out (ExaBGP's helpers commonly wait 2 s for one).
pub const HOLD_MAX: Duration = Duration::from_secs(1);

struct Held {
    replier: Replier,
    lines: Vec<String>,
    ok: bool,
    /// Neighbors whose thread has not reported `Synced` with this token or a later one.
    waiting: BTreeSet<IpAddr>,
    token: u64,
    /// The neighbors were asked for `Synced` (after the update that carries the change).
    asked: bool,
    deadline: Instant,
}

/// Every held answer, per helper in the order they were given.
#[derive(Default)]
pub struct HeldAcks {
    next_token: u64,
    queues: BTreeMap<String, VecDeque<Held>>,
}

impl HeldAcks {
    /// Whether helper `name` has answers held (a later one must then wait behind them).
    pub fn holds(&self, name: &str) -> bool {
        self.queues.get(name).is_some_and(|q| !q.is_empty())
    }

    /// Holds an answer for helper `name` until each of `waiting` has sent what it was given
    /// (an empty set: until the answers before it went).
    pub fn hold(
        &mut self,
        name: &str,
        replier: Replier,
        (lines, ok): (Vec<String>, bool),
        waiting: BTreeSet<IpAddr>,
        now: Instant,
    ) {
        self.next_token += 1;
        self.queues
            .entry(name.to_string())
            .or_default()
            .push_back(Held {
                replier,
                lines,
                ok,
                asked: waiting.is_empty(),
                waiting,
                token: self.next_token,
                deadline: now + HOLD_MAX,
            });
    }

    /// The `Sync` tokens to send now: per neighbor the latest token of the answers not asked
    /// yet (a thread's `Synced(t)` answers every token up to `t`). Called once the manager
    /// has given the neighbors their routes.
    pub fn syncs_to_ask(&mut self) -> BTreeMap<IpAddr, u64> {
        let mut ask = BTreeMap::new();
        for held in self.queues.values_mut().flatten().filter(|h| !h.asked) {
            held.asked = true;
            for addr in &held.waiting {
                let t = ask.entry(*addr).or_insert(held.token);
                *t = (*t).max(held.token);
            }
        }
        ask
    }

    /// `addr`'s thread wrote what it was given before the `Sync` with `token`.
    pub fn synced(&mut self, addr: IpAddr, token: u64) {
        for held in self.queues.values_mut().flatten() {
            if held.asked && held.token <= token {
                held.waiting.remove(&addr);
            }
        }
    }

    /// Sends the answers that wait for nothing any more, or waited [`HOLD_MAX`], each
    /// helper's in order.
    pub fn release(&mut self, now: Instant) {
        for queue in self.queues.values_mut() {
            while queue
                .front()
                .is_some_and(|h| h.waiting.is_empty() || now >= h.deadline)
            {
                if let Some(h) = queue.pop_front() {
                    h.replier.answer(h.lines, h.ok);
                }
            }
        }
        self.queues.retain(|_, q| !q.is_empty());
    }

    /// When the next held answer goes even if its neighbors have not answered.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.queues
            .values()
            .filter_map(|q| q.front())
            .map(|h| h.deadline)
            .min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn control() -> (Replier, crossbeam_channel::Receiver<Vec<String>>) {
        let (tx, rx) = crossbeam_channel::unbounded();
        (Replier::Control(tx), rx)
    }

    #[test]
    fn answers_wait_for_their_neighbors_and_keep_their_order() {
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        let now = Instant::now();
        let mut held = HeldAcks::default();
        let (r1, rx) = control();
        held.hold(
            "h",
            r1,
            (vec!["first".into()], true),
            [a, b].into_iter().collect(),
            now,
        );
        let (r2, rx2) = control();
        held.hold("h", r2, (vec!["second".into()], true), BTreeSet::new(), now);
        assert!(held.holds("h") && !held.holds("other"));
        // Not asked yet: a Synced from an earlier round releases nothing.
        held.synced(a, 100);
        held.release(now);
        assert!(rx.try_recv().is_err() && rx2.try_recv().is_err());
        let ask = held.syncs_to_ask();
        assert_eq!(ask.get(&a), Some(&1));
        assert_eq!(ask.get(&b), Some(&1));
        assert!(held.syncs_to_ask().is_empty(), "asked once");
        held.synced(a, 1);
        held.release(now);
        assert!(rx.try_recv().is_err(), "b has not answered");
        held.synced(b, 1);
        held.release(now);
        assert_eq!(rx.try_recv().unwrap(), vec!["first", "done"]);
        assert_eq!(rx2.try_recv().unwrap(), vec!["second", "done"]);
        assert!(!held.holds("h") && held.next_deadline().is_none());
    }

    #[test]
    fn a_neighbor_that_never_answers_delays_the_answer_by_hold_max_at_most() {
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let now = Instant::now();
        let mut held = HeldAcks::default();
        let (r, rx) = control();
        held.hold("h", r, (Vec::new(), false), [a].into_iter().collect(), now);
        held.syncs_to_ask();
        held.release(now + HOLD_MAX / 2);
        assert!(rx.try_recv().is_err());
        assert_eq!(held.next_deadline(), Some(now + HOLD_MAX));
        held.release(now + HOLD_MAX);
        assert_eq!(rx.try_recv().unwrap(), vec!["error"]);
    }
}
