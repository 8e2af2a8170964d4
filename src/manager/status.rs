//! What the operator sees of the neighbors: `show neighbor [summary]`, `show adj-rib out` and
//! the SIGUSR2 dump, from one status per neighbor kept from its thread's reports.

use std::net::IpAddr;
use std::time::SystemTime;

use crate::config::NeighborConfig;
use crate::rib::attributes::{NextHop, RouteAttributes};
use crate::rib::other_nlri::NlriKey;
use crate::rib::route_set::RouteSet;
use crate::session::core::SessionEvent;
use crate::session::fsm::State;

/// A neighbor's state as the operator wants to see it, kept from its thread's reports.
#[derive(Clone, Debug)]
pub struct PeerStatus {
    pub state: State,
    pub established_since: Option<SystemTime>,
    pub updates_sent: u64,
    pub routes_announced: u64,
    pub last_error: Option<String>,
}

impl Default for PeerStatus {
    fn default() -> Self {
        PeerStatus {
            state: State::Idle,
            established_since: None,
            updates_sent: 0,
            routes_announced: 0,
            last_error: None,
        }
    }
}

impl PeerStatus {
    /// Keeps what the operator sees of one report of the neighbor's thread.
    pub fn record(&mut self, event: &SessionEvent) {
        match event {
            SessionEvent::State(state) => {
                self.state = *state;
                if *state != State::Established {
                    self.established_since = None;
                }
            }
            SessionEvent::Established(_) => {
                self.state = State::Established;
                self.established_since = Some(SystemTime::now());
            }
            SessionEvent::Down(reason) => {
                self.last_error = Some(reason.to_string());
                self.established_since = None;
            }
            SessionEvent::Sent {
                updates, announced, ..
            } => {
                self.updates_sent += updates;
                self.routes_announced += announced;
            }
            SessionEvent::UpdateReceived(..)
            | SessionEvent::Message { .. }
            | SessionEvent::Stopped
            | SessionEvent::Synced(_) => {}
        }
    }
}

/// One neighbor as the status lines show it.
pub struct NeighborView<'a> {
    pub config: &'a NeighborConfig,
    pub status: &'a PeerStatus,
    /// What its thread was last told to announce.
    pub routes: &'a RouteSet,
    /// How many of them come from the configuration file.
    pub file_routes: usize,
}

impl NeighborView<'_> {
    fn addr(&self) -> IpAddr {
        self.config.peer_address
    }

    fn uptime(&self) -> Option<u64> {
        self.status
            .established_since
            .and_then(|t| t.elapsed().ok())
            .map(|d| d.as_secs())
    }

    /// `show neighbor` and the SIGUSR2 dump: everything on one line.
    pub fn line(&self) -> String {
        let s = self.status;
        format!(
            "neighbor {} local-as {} peer-as {} state {:?} uptime {} routes {} (file {}, programs {}) updates-sent {} announcements-sent {} last-error {}",
            self.addr(),
            self.config.local_as,
            self.config.peer_as,
            s.state,
            self.uptime()
                .map(|u| format!("{u}s"))
                .unwrap_or_else(|| "down".into()),
            self.routes.len(),
            self.file_routes,
            self.routes.len().saturating_sub(self.file_routes),
            s.updates_sent,
            s.routes_announced,
            s.last_error.as_deref().unwrap_or("none")
        )
    }

    /// One row of `show neighbor summary`.
    fn summary_row(&self) -> String {
        summary_row(
            &self.addr().to_string(),
            &self.config.peer_as.to_string(),
            &format!("{:?}", self.status.state),
            &self
                .uptime()
                .map(|u| u.to_string())
                .unwrap_or_else(|| "-".into()),
            &self.routes.len().to_string(),
        )
    }

    /// `show adj-rib out`: one line per route, in the configuration's words.
    fn adj_rib_out(&self, lines: &mut Vec<String>) {
        let addr = self.addr();
        // One line per route, in key order (families in AFI/SAFI order).
        for e in self.routes.entries() {
            let line = match e.key.flow_rule() {
                Some(rule) => format!(
                    "{rule} {} ({})",
                    describe(e.attrs),
                    crate::config::guard::reach(rule)
                ),
                None => describe_route(&e.key, e.labels, e.attrs),
            };
            lines.push(format!("neighbor {addr} {line}"));
        }
    }
}

fn summary_row(peer: &str, asn: &str, state: &str, up: &str, routes: &str) -> String {
    format!("{peer:<40} {asn:>10} {state:<12} {up:>10} {routes:>10}")
}

/// `show neighbor [summary]`.
pub fn show_neighbor<'a>(
    views: impl Iterator<Item = NeighborView<'a>>,
    summary: bool,
) -> Vec<String> {
    if !summary {
        return views.map(|v| v.line()).collect();
    }
    let mut lines = vec![summary_row("Peer", "AS", "State", "Up (s)", "Routes")];
    lines.extend(views.map(|v| v.summary_row()));
    lines
}

/// `show adj-rib out`.
pub fn show_adj_rib_out<'a>(views: impl Iterator<Item = NeighborView<'a>>) -> Vec<String> {
    let mut lines = Vec::new();
    for v in views {
        v.adj_rib_out(&mut lines);
    }
    lines
}

/// A route's attributes in the configuration's words (`next-hop X [origin O] [as-path [ ... ]]
/// [med N] ...`), for `show adj-rib out`: what was configured (origin only when not igp), not
/// the session's defaults.
pub fn describe(a: &RouteAttributes) -> String {
    let mut out = match a.next_hop {
        NextHop::Address {
            global,
            link_local: Some(ll),
        } => format!("next-hop {global} link-local {ll}"),
        NextHop::Address { global, .. } => format!("next-hop {global}"),
        NextHop::SelfAddress => "next-hop self".into(),
        NextHop::Absent => String::new(),
    };
    out.push_str(&a.words());
    out.trim().to_string()
}

impl super::Manager {
    /// SIGUSR2: every neighbor's `show neighbor` line in the log.
    pub(super) fn dump_status(&self) {
        log::info!("status of {} neighbors:", self.neighbors.iter().count());
        for n in self.neighbors.iter() {
            log::info!("{}", n.view().line());
        }
    }
}

/// A route that is not plain unicast, as `show adj-rib out` prints it:
/// `FAMILY PREFIX [rd RD] [label [ L ]] [path-information ID] ATTRIBUTES` (the tests read
/// tables with it).
#[cfg(test)]
pub fn describe_other(key: &NlriKey, route: &crate::rib::other_nlri::OtherRoute) -> String {
    describe_route(key, &route.labels, &route.attrs)
}

/// A route as `show adj-rib out` prints it:
/// `FAMILY PREFIX [rd RD] [label [ L ]] [path-information ID] ATTRIBUTES`.
pub(super) fn describe_route(key: &NlriKey, labels: &[u32], attrs: &RouteAttributes) -> String {
    let mut out = match key.prefix() {
        Some(p) => format!("{} {p}", key.family),
        None => key.to_string(),
    };
    if let (Some(rd), Some(_)) = (key.rd, key.prefix()) {
        out.push_str(&format!(" rd {rd}"));
    }
    if !labels.is_empty() {
        let l: Vec<String> = labels.iter().map(|l| l.to_string()).collect();
        out.push_str(&format!(" label [ {} ]", l.join(" ")));
    }
    if let Some(id) = key.path_id {
        out.push_str(&format!(
            " path-information {}",
            std::net::Ipv4Addr::from(id)
        ));
    }
    format!("{out} {}", describe(attrs))
}
