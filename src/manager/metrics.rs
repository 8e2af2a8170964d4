//! The manager's side of the metrics: what it knows, published for scrapes (see
//! [`crate::metrics`]), which never ask the manager anything.

use super::Manager;
use crate::metrics::NeighborView;

impl Manager {
    /// Publishes the state scrapes read: at most every 100 ms, and at least every second (the
    /// loop's longest wait).
    pub(super) fn publish_metrics(&mut self) {
        if !self.metrics.due() {
            return;
        }
        let neighbors = self
            .neighbors
            .iter()
            .map(|n| {
                let address = n.config.peer_address;
                NeighborView {
                    address,
                    local_as: n.config.local_as,
                    peer_as: n.config.peer_as,
                    state: n.status.state,
                    established_since: n.status.established_since,
                    routes: n.routes.len(),
                    file_routes: n.file_routes.len(),
                    sources: self.program_routes.of(address).map_or_else(Vec::new, |t| {
                        t.iter().map(|(s, r)| (s.clone(), r.len())).collect()
                    }),
                }
            })
            .collect();
        let (helpers, checks) = self.programs.running();
        self.metrics.publish(neighbors, helpers, checks);
    }
}
