//! Which sources of a neighbor's routes are ready, for its End-of-RIB (see
//! `session/core/eor_gate.rs`): a helper is ready once it says `announce eor [FAMILY]` or
//! `ready`, a health check once its first check finished. A neighbor's families are released
//! when every source that speaks for it is ready for them; without sources nothing waits.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::time::Duration;

use crate::api::Source;
use crate::config::NeighborConfig;
use crate::config::healthcheck::HealthcheckConfig;
use crate::session::core::EorRelease;
use crate::wire::family::Family;

/// The sources that announce to neighbor `n`: its `api { processes }` and the health checks
/// for it (a check without `neighbor` is for every one).
pub fn sources_of(n: &NeighborConfig, checks: &[HealthcheckConfig]) -> Vec<Source> {
    let helpers = n.api_processes.iter().map(|p| Source::Process(p.clone()));
    let checks = checks
        .iter()
        .filter(|c| c.neighbors.is_empty() || c.neighbors.contains(&n.peer_address))
        .map(|c| Source::Healthcheck(c.name.clone()));
    helpers.chain(checks).collect()
}

/// `eor-wait` of neighbor `n` in seconds: as written, else the default with a state file
/// and 0 (ExaBGP's behaviour) without one.
pub fn eor_wait_seconds(n: &NeighborConfig, state_file: bool) -> u16 {
    n.options.eor_wait.unwrap_or(if state_file {
        crate::config::model::DEFAULT_EOR_WAIT
    } else {
        0
    })
}

/// How long neighbor `n`'s End-of-RIB waits: only with sources and `eor-wait` above 0.
pub fn eor_wait(
    n: &NeighborConfig,
    checks: &[HealthcheckConfig],
    state_file: bool,
) -> Option<Duration> {
    let has_sources = !sources_of(n, checks).is_empty();
    let seconds = eor_wait_seconds(n, state_file);
    (has_sources && seconds > 0).then(|| Duration::from_secs(seconds.into()))
}

#[derive(Default)]
pub struct Readiness {
    ready: BTreeMap<Source, EorRelease>,
    /// What each neighbor was last released.
    sent: BTreeMap<IpAddr, EorRelease>,
    /// Something became ready since [`Readiness::take_releases`].
    changed: bool,
}

impl Readiness {
    /// `source` is ready for `family` (all of them with `None`).
    pub fn mark(&mut self, source: &Source, family: Option<Family>) {
        let r = match family {
            Some(f) => EorRelease::Families(vec![f]),
            None => EorRelease::All,
        };
        let entry = self
            .ready
            .entry(source.clone())
            .or_insert(EorRelease::Families(Vec::new()));
        let before = entry.clone();
        entry.merge(&r);
        self.changed |= *entry != before;
    }

    /// A neighbor (re)started: what its sources are ready for is released to it again.
    pub fn forget(&mut self, addr: IpAddr) {
        self.sent.remove(&addr);
        self.changed = true;
    }

    pub fn is_changed(&self) -> bool {
        self.changed
    }

    /// What the neighbor with these sources may send: the families every source is ready for.
    pub fn released(&self, sources: &[Source]) -> EorRelease {
        let mut out = EorRelease::All;
        for s in sources {
            let r = self
                .ready
                .get(s)
                .cloned()
                .unwrap_or(EorRelease::Families(Vec::new()));
            out = match (out, r) {
                (EorRelease::All, r) => r,
                (o, EorRelease::All) => o,
                (EorRelease::Families(a), EorRelease::Families(b)) => {
                    EorRelease::Families(a.into_iter().filter(|f| b.contains(f)).collect())
                }
            };
        }
        out
    }

    /// The neighbors (with their sources) whose release grew since it was last sent.
    pub fn take_releases(
        &mut self,
        neighbors: impl Iterator<Item = (IpAddr, Vec<Source>)>,
    ) -> Vec<(IpAddr, EorRelease)> {
        self.changed = false;
        let mut out = Vec::new();
        for (addr, sources) in neighbors {
            let r = self.released(&sources);
            if r == EorRelease::Families(Vec::new()) || self.sent.get(&addr) == Some(&r) {
                continue;
            }
            self.sent.insert(addr, r.clone());
            out.push((addr, r));
        }
        out
    }
}

impl super::Manager {
    /// Lets the held End-of-RIB of each neighbor go for the families all its sources are
    /// ready for; called once their routes were flushed, so the marker follows them.
    pub(super) fn release_end_of_ribs(&mut self) {
        let (_, checks) = self.programs.configs();
        let neighbors: Vec<_> = self
            .neighbors
            .iter()
            .map(|n| (n.config.peer_address, sources_of(&n.config, &checks)))
            .collect();
        for (addr, r) in self.readiness.take_releases(neighbors.into_iter()) {
            self.neighbors.release_end_of_rib(addr, r);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_source_must_be_ready_for_a_family() {
        let helper = Source::Process("h".into());
        let check = Source::Healthcheck("c".into());
        let addr: IpAddr = "127.0.0.1".parse().unwrap();
        let sources = || std::iter::once((addr, vec![helper.clone(), check.clone()]));
        let mut r = Readiness::default();
        assert!(r.take_releases(sources()).is_empty());
        r.mark(&helper, Some(Family::IPV6_UNICAST));
        assert!(r.is_changed());
        assert!(
            r.take_releases(sources()).is_empty(),
            "the check is not done"
        );
        r.mark(&check, None);
        assert_eq!(
            r.take_releases(sources()),
            [(addr, EorRelease::Families(vec![Family::IPV6_UNICAST]))]
        );
        assert!(r.take_releases(sources()).is_empty(), "sent once");
        r.mark(&helper, None);
        assert_eq!(r.take_releases(sources()), [(addr, EorRelease::All)]);
        // A neighbor without sources has nothing to wait for.
        assert_eq!(r.released(&[]), EorRelease::All);
    }
}
