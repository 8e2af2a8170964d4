//! Neighbors created and deleted at run time by a helper or the control socket (ExaBGP
//! main's `create neighbor ...` and `delete neighbor SELECTOR`).
//!
//! A created neighbor is read by the configuration parser from a block built of the
//! command's typed values, so it has every default a configured one has. It has no routes of
//! its own; its helpers (`api NAME`) announce to it. It lives until `delete neighbor`, the
//! end of the run, or a reload whose file configures the same address (the file wins).
//! ExaBGP forgets created neighbors at every reload; bgpinject keeps them, so that a cron
//! job's reload never closes a controller's sessions (docs/api.md says so).

use std::net::IpAddr;
use std::path::Path;

use log::info;

use super::Manager;
use crate::api::Source;
use crate::api::command::NewNeighbor;
use crate::config::Config;
use crate::wire::notification::{Notification, code, subcode};

/// At most this many neighbors may be created at run time (a helper in a loop must not
/// start threads without end).
pub const MAX_CREATED: usize = 1024;

impl Manager {
    /// `create neighbor`: refused when the address is taken, a named helper is not
    /// configured, or the neighbor cannot start.
    pub(super) fn create_neighbor(
        &mut self,
        source: &Source,
        new: &NewNeighbor,
    ) -> Result<(), String> {
        if self.neighbors.get(new.peer).is_some() {
            return Err(format!("peer already exists: {}", new.peer));
        }
        if self.created.len() >= MAX_CREATED {
            return Err(format!(
                "create neighbor: {MAX_CREATED} neighbors created already, delete some first"
            ));
        }
        let mut parsed = crate::config::parse_str(&new.config_text(), Path::new("create neighbor"))
            .map_err(|e| format!("create neighbor: {e}"))?;
        let (processes, _) = self.programs.configs();
        for n in parsed.neighbors.iter_mut() {
            n.api_processes = new.processes.clone();
        }
        crate::config::process::check_references(&mut parsed.neighbors, &processes)
            .map_err(|e| format!("create neighbor {}: {}", new.peer, e.message))?;
        let file = super::route_sets(&parsed)
            .into_iter()
            .next()
            .unwrap_or_default();
        let Some(n) = parsed.neighbors.into_iter().next() else {
            return Err("create neighbor: no neighbor read".to_string());
        };
        info!("neighbor {}: created by {source}", new.peer);
        self.metrics.describe(std::slice::from_ref(&n));
        let routes = self.program_routes.routes_for(n.peer_address, &file);
        self.readiness.forget(n.peer_address);
        // No End-of-RIB wait: the helper that created it is running and announces after.
        self.neighbors
            .start(n.clone(), file, routes, None)
            .map_err(|e| format!("create neighbor {}: {e}", new.peer))?;
        self.created.insert(n.peer_address, n);
        Ok(())
    }

    /// `delete neighbor SELECTOR`: each selected session closes with Cease / Peer
    /// De-configured and its helpers' routes are forgotten. A configured neighbor comes
    /// back at the next reload, as in ExaBGP.
    pub(super) fn delete_neighbors(&mut self, source: &Source, addrs: &[IpAddr]) {
        for &addr in addrs {
            info!("neighbor {addr}: deleted by {source}");
            self.created.remove(&addr);
            self.program_routes.drop_neighbor(addr);
            let n = Notification::new(code::CEASE, subcode::PEER_DECONFIGURED, Vec::new());
            self.neighbors.stop(addr, n);
        }
        self.neighbors.prune_listeners();
    }

    /// Before a reload is planned: the created neighbors whose address the new file does
    /// not configure are kept, as if configured; the others give way to the file.
    pub(super) fn keep_created(&mut self, config: &mut Config) {
        let configured: std::collections::HashSet<IpAddr> =
            config.neighbors.iter().map(|n| n.peer_address).collect();
        self.created.retain(|addr, _| !configured.contains(addr));
        config.neighbors.extend(self.created.values().cloned());
    }
}
