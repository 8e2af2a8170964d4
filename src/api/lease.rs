//! Route leases: a program route announced with `lease SECONDS` (or from a helper whose
//! `process` block sets a default `lease`) is withdrawn unless it is announced again before
//! the lease runs out. A DDoS controller that dies can then never leave a stale FlowSpec or
//! blackhole route behind (ExaBGP has no such guard; its issue #304).
//!
//! The manager grants a lease per route (keyed by the route's NLRI, not its attributes, so
//! that a refresh with other attributes renews it), asks [`Leases::next_expiry`] how long it
//! may sleep, and runs the withdrawals [`Leases::expired`] hands back as if the source had
//! sent them.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use super::Source;
use super::command::{Command, Request};

pub use crate::config::process::MAX_LEASE_SECONDS;

struct Entry {
    expires: Instant,
    withdraw: Request,
}

#[derive(Default)]
pub struct Leases {
    entries: HashMap<(Source, String), Entry>,
    /// Expiry times, for the next deadline without a scan.
    by_time: BTreeMap<(Instant, u64), (Source, String)>,
    serial: u64,
    times: HashMap<(Source, String), (Instant, u64)>,
}

/// Each leased route of an announce: its NLRI key and the request that withdraws it.
fn withdrawals(request: &Request) -> Vec<(String, Request)> {
    let one = |command| Request {
        neighbors: request.neighbors.clone(),
        command,
        lease: None,
        api6: request.api6,
    };
    match &request.command {
        Command::Announce(routes) | Command::Withdraw(routes) => routes
            .iter()
            .map(|r| {
                (
                    format!("route {} {:?}", r.prefix, r.nlri),
                    one(Command::Withdraw(vec![r.clone()])),
                )
            })
            .collect(),
        Command::AnnounceFlow(f) | Command::WithdrawFlow(f) => vec![(
            format!("flow {:?} {:?}", f.rule, f.path_id),
            one(Command::WithdrawFlow(f.clone())),
        )],
        _ => Vec::new(),
    }
}

impl Leases {
    /// An announce from `source` that was applied: each route gets (or renews) a lease of
    /// `seconds`; with `None`, a lease it had ends (the route is held for good).
    pub fn announced(
        &mut self,
        source: &Source,
        request: &Request,
        seconds: Option<u32>,
        now: Instant,
    ) {
        // Without a lease to grant or to end, nothing to do: a helper announcing a million
        // routes without leases costs no key per route.
        if seconds.is_none() && self.entries.is_empty() {
            return;
        }
        for (key, withdraw) in withdrawals(request) {
            let id = (source.clone(), key);
            self.remove(&id);
            if let Some(s) = seconds {
                let expires = now + Duration::from_secs(u64::from(s));
                self.serial += 1;
                self.by_time.insert((expires, self.serial), id.clone());
                self.times.insert(id.clone(), (expires, self.serial));
                self.entries.insert(id, Entry { expires, withdraw });
            }
        }
    }

    /// A withdraw from `source`: its routes' leases end.
    pub fn withdrawn(&mut self, source: &Source, request: &Request) {
        if self.entries.is_empty() {
            return;
        }
        for (key, _) in withdrawals(request) {
            self.remove(&(source.clone(), key));
        }
    }

    /// Every lease of `source` ends (its routes were dropped).
    pub fn drop_source(&mut self, source: &Source) {
        let ids: Vec<_> = self
            .entries
            .keys()
            .filter(|(s, _)| s == source)
            .cloned()
            .collect();
        for id in ids {
            self.remove(&id);
        }
    }

    fn remove(&mut self, id: &(Source, String)) {
        if self.entries.remove(id).is_some()
            && let Some(t) = self.times.remove(id)
        {
            self.by_time.remove(&t);
        }
    }

    pub fn next_expiry(&self) -> Option<Instant> {
        self.by_time.keys().next().map(|(t, _)| *t)
    }

    /// The withdrawals whose lease ran out by `now`, removed from the table.
    pub fn expired(&mut self, now: Instant) -> Vec<(Source, Request)> {
        let mut out = Vec::new();
        while let Some((&(t, serial), _)) = self.by_time.iter().next() {
            if t > now {
                break;
            }
            let Some(id) = self.by_time.remove(&(t, serial)) else {
                break;
            };
            self.times.remove(&id);
            if let Some(e) = self.entries.remove(&id) {
                debug_assert!(e.expires <= now);
                out.push((id.0, e.withdraw));
            }
        }
        out
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::command::parse;

    #[test]
    fn a_lease_expires_unless_renewed_and_a_withdraw_ends_it() {
        let mut l = Leases::default();
        let src = Source::Control;
        let t0 = Instant::now();
        let a = parse("announce route 198.51.100.0/24 next-hop 192.0.2.1 lease 5");
        assert_eq!(a.lease, Some(5));
        l.announced(&src, &a, a.lease, t0);
        assert_eq!(l.next_expiry(), Some(t0 + Duration::from_secs(5)));
        // Renewed at 2 s with other attributes: the same NLRI, one lease, now to 7 s.
        let b = parse("announce route 198.51.100.0/24 next-hop 192.0.2.1 med 7 lease 5");
        l.announced(&src, &b, b.lease, t0 + Duration::from_secs(2));
        assert_eq!(l.len(), 1);
        assert!(l.expired(t0 + Duration::from_secs(6)).is_empty());
        let gone = l.expired(t0 + Duration::from_secs(7));
        assert_eq!(gone.len(), 1);
        assert!(matches!(gone[0].1.command, Command::Withdraw(_)));
        assert!(l.is_empty());
        // A withdraw ends the lease; so does an announce without one.
        l.announced(&src, &a, a.lease, t0);
        l.withdrawn(&src, &parse("withdraw route 198.51.100.0/24"));
        assert!(l.is_empty());
        l.announced(&src, &a, a.lease, t0);
        l.announced(&src, &a, None, t0);
        assert!(l.is_empty());
        l.announced(&src, &a, a.lease, t0);
        l.drop_source(&src);
        assert!(l.expired(t0 + Duration::from_secs(60)).is_empty());
    }

    #[test]
    fn flow_rules_are_leased_by_their_match() {
        let mut l = Leases::default();
        let src = Source::Process("ddos".into());
        let t0 = Instant::now();
        let f = parse(
            "announce flow route { match { destination 198.51.100.1/32; protocol udp; } then { discard; } } lease 5",
        );
        assert_eq!(f.lease, Some(5));
        l.announced(&src, &f, f.lease, t0);
        let gone = l.expired(t0 + Duration::from_secs(5));
        assert!(matches!(gone[0].1.command, Command::WithdrawFlow(_)));
    }
}
