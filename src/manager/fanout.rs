//! Neighbor events for helpers: each neighbor thread's typed reports, in the order it sent
//! them, become the events (up, NOTIFICATION received, down, UPDATE received) of the helpers
//! its `api { processes }` lists. Nothing is polled, so a flap is never lost.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

use crate::api::events::{self, NeighborEvent};
use crate::api::process::HelperOutput;
use crate::config::NeighborConfig;
use crate::session::core::SessionEvent;
use crate::session::fsm::DownReason;

use super::programs::Supervisor;

/// Per peer, whether helpers were last told it is up (a down is told only after an up).
#[derive(Default)]
pub struct Fanout {
    seen_up: HashMap<IpAddr, bool>,
}

impl Fanout {
    /// The helper events one report of `addr`'s thread makes; `current` says whether it is
    /// from the neighbor's running thread (a stopped thread's session going up is not told).
    pub fn translate(
        &mut self,
        addr: IpAddr,
        current: bool,
        event: &SessionEvent,
    ) -> Vec<NeighborEvent> {
        match event {
            SessionEvent::Established(_) if current => self.step(addr, Transition::Up),
            SessionEvent::Down(reason) => self.step(addr, Transition::Down(reason)),
            SessionEvent::Message { sent, raw, message } if current => {
                vec![NeighborEvent::Message {
                    sent: *sent,
                    raw: raw.clone(),
                    message: message.clone(),
                }]
            }
            _ => Vec::new(),
        }
    }

    fn step(&mut self, addr: IpAddr, t: Transition) -> Vec<NeighborEvent> {
        let was_up = self.seen_up.get(&addr).copied().unwrap_or(false);
        let mut happened = Vec::new();
        match t {
            Transition::Up => {
                happened.push(NeighborEvent::Up);
                self.seen_up.insert(addr, true);
            }
            Transition::Down(reason) => {
                if let DownReason::Received(n) = reason {
                    happened.push(NeighborEvent::Notification(
                        n.code,
                        n.subcode,
                        n.to_string(),
                    ));
                }
                if was_up {
                    happened.push(NeighborEvent::Down(reason.to_string()));
                    self.seen_up.insert(addr, false);
                }
            }
        }
        happened
    }
}

/// The session changes helpers hear of.
enum Transition<'a> {
    Up,
    Down(&'a DownReason),
}

/// A neighbor as helper events name it.
fn peer(n: &NeighborConfig) -> events::Peer {
    events::Peer {
        local: n.local_address,
        peer: n.peer_address,
        local_as: n.local_as,
        peer_as: n.peer_as,
    }
}

fn send_one(output: &HelperOutput, n: &NeighborConfig, event: &NeighborEvent) {
    let counter = output.next_counter();
    output.send(events::encode(output.encoder, &peer(n), event, counter));
}

/// What the api blocks of `n` that name helper `name` ask for.
pub(super) fn events_of(n: &NeighborConfig, name: &str) -> crate::config::process::ApiEvents {
    n.api_subscriptions
        .iter()
        .filter(|(p, _)| p == name)
        .fold(Default::default(), |all, (_, e)| all.union(*e))
}

/// Sends `happened` to the running helpers of neighbor `n`, in order: each helper what its
/// own api blocks ask for.
pub fn send(programs: &Supervisor, n: &NeighborConfig, happened: &[NeighborEvent]) {
    for name in &n.api_processes {
        if let Some(h) = programs.helper(name) {
            let asked = events_of(n, name);
            for e in happened.iter().filter(|e| events::wanted(n, e)) {
                if let Some(form) = events::wanted_by(&asked, e) {
                    let lines = events::encode_all(h.output.encoder, &peer(n), e, form, || {
                        h.output.next_counter()
                    });
                    for line in lines.into_iter().filter(|l| !l.is_empty()) {
                        h.output.send(line);
                    }
                }
            }
        }
    }
}

/// Tells a helper that just (re)started which of its neighbors (`up`) are up, as ExaBGP's
/// helpers expect: a restarted one would otherwise not know until the next change.
pub fn greet<'a>(output: &Arc<HelperOutput>, up: impl Iterator<Item = &'a NeighborConfig>) {
    for n in up {
        if events_of(n, &output.name).neighbor_changes && n.api_processes.contains(&output.name) {
            send_one(output, n, &NeighborEvent::Up);
        }
    }
}

impl super::Manager {
    /// A helper that (re)started is told which of its neighbors are up.
    pub(super) fn greet(&mut self, output: &std::sync::Arc<crate::api::process::HelperOutput>) {
        if self.programs.is_current(output) {
            self.metrics.helper_started(output);
            let up = self
                .neighbors
                .iter()
                .filter(|n| n.status.state == crate::session::fsm::State::Established);
            greet(output, up.map(|n| &n.config));
        }
    }

    /// A neighbor thread's report: its status, the helpers' events (in the order the thread
    /// sent them), and the start of a neighbor that waited for this thread to stop.
    pub(super) fn peer_report(&mut self, report: crate::session::peer::PeerReport) {
        if let SessionEvent::Synced(token) = report.event {
            self.held_acks.synced(report.peer, token);
            return;
        }
        if matches!(
            report.event,
            SessionEvent::Down(_) | SessionEvent::Established(_) | SessionEvent::Stopped
        ) {
            // The peer sends its routes again on the next session.
            self.adj_rib_in.clear(report.peer);
        }
        self.metrics.session_event(report.peer, &report.event);
        if report.event == crate::session::core::SessionEvent::Stopped {
            self.neighbors.stopped(report.peer, report.id);
            return;
        }
        let current = match self.neighbors.current_mut(&report) {
            Some(n) => {
                n.status.record(&report.event);
                true
            }
            None => false,
        };
        let happened = self.fanout.translate(report.peer, current, &report.event);
        if let Some(n) = self
            .neighbors
            .get(report.peer)
            .filter(|_| !happened.is_empty())
        {
            send(&self.programs, &n.config, &happened);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::notification::{Notification, code, subcode};

    #[test]
    fn a_flap_is_three_events_in_order() {
        let mut f = Fanout::default();
        let addr: IpAddr = "192.0.2.1".parse().unwrap();
        let cease = Notification::new(code::CEASE, subcode::ADMINISTRATIVE_RESET, Vec::new());
        let down = DownReason::Received(cease);
        let mut seen = Vec::new();
        for t in [Transition::Up, Transition::Down(&down), Transition::Up] {
            seen.extend(f.step(addr, t));
        }
        let kinds: Vec<&str> = seen
            .iter()
            .map(|e| match e {
                NeighborEvent::Up => "up",
                NeighborEvent::Down(_) => "down",
                NeighborEvent::Notification(..) => "notification",
                NeighborEvent::Update(_) | NeighborEvent::Message { .. } => "update",
            })
            .collect();
        assert_eq!(kinds, ["up", "notification", "down", "up"]);
    }

    #[test]
    fn a_down_without_an_up_is_not_told() {
        let mut f = Fanout::default();
        let addr: IpAddr = "192.0.2.1".parse().unwrap();
        let down = SessionEvent::Down(DownReason::Connection("reset".into()));
        assert!(f.translate(addr, true, &down).is_empty());
        let state = SessionEvent::State(crate::session::fsm::State::Active);
        assert!(f.translate(addr, true, &state).is_empty());
    }
}
