//! A reload applied: the plan (see [`crate::reload_plan`], pure) says what changes; neighbors
//! keep, restart, start or stop their sessions, the programs are reconciled, and the routes
//! of programs that no longer speak for a neighbor are withdrawn. Never waits on a program.

use std::sync::Arc;

use log::{error, info};

use super::Manager;
use crate::config::{self, Config, NeighborConfig};
use crate::reload_plan::{NeighborChange, Programs, ReloadPlan};
use crate::rib::route_set::RouteSet;
use crate::wire::notification::{Notification, code, subcode};

pub use crate::events::Reloaded;

impl Manager {
    /// Parses the file again; applies it only if it is valid in full.
    pub(super) fn reload(&mut self) {
        if let Reloaded::Refused(e) = self.reload_files() {
            error!("reload refused, keeping the running configuration: {e}");
        }
    }

    /// Reads what changed (only the changed files of routes when the parse cache allows,
    /// else the whole configuration) and applies it if it is valid in full.
    pub(super) fn reload_files(&mut self) -> Reloaded {
        let started = std::time::Instant::now();
        if self.reload_changed_files() {
            crate::metrics::reloaded(true, started.elapsed());
            return Reloaded::Files;
        }
        let done = match config::load_for_reload(&self.config_path) {
            Ok(c) => {
                let sources = c.sources.clone();
                self.apply_reload(c);
                Reloaded::Whole(sources)
            }
            Err(e) => Reloaded::Refused(e.to_string()),
        };
        crate::metrics::reloaded(!matches!(done, Reloaded::Refused(_)), started.elapsed());
        done
    }

    pub(super) fn apply_reload(&mut self, mut config: Config) {
        info!("reloading {}", self.config_path.display());
        self.keep_created(&mut config);
        self.file_cache = Some(Arc::clone(&config.files));
        let current: Vec<(NeighborConfig, Arc<RouteSet>)> = self
            .neighbors
            .iter()
            .map(|n| (n.config.clone(), n.file_routes.clone()))
            .collect();
        let (processes, checks) = self.programs.configs();
        let running = Programs {
            processes: &processes,
            checks: &checks,
        };
        let plan = ReloadPlan::new(&current, running, &config);
        self.metrics.describe(&config.neighbors);
        // Before the neighbors (re)start: a restarted session is sent what is announced.
        for n in &config.neighbors {
            self.program_routes
                .configure_watchdogs(n.peer_address, &n.routes.watchdog);
        }
        for (addr, (change, new_config)) in plan.neighbors {
            let started = match (change, new_config) {
                (
                    NeighborChange::Updated {
                        routes,
                        diff,
                        replaced,
                    },
                    Some(nc),
                ) => {
                    if !diff.is_empty() {
                        info!(
                            "neighbor {addr}: {} withdrawn, {} announced, {replaced} replaced",
                            diff.withdraw.len(),
                            diff.announce.len() - replaced
                        );
                    }
                    self.neighbors.update(addr, nc, routes);
                    // The routes from programs stay: the union is sent by the flush below.
                    self.program_routes.mark(addr);
                    Ok(())
                }
                (NeighborChange::Restarted { routes }, Some(nc)) => {
                    info!("neighbor {addr}: session settings changed, restarting the session");
                    let cease = subcode::OTHER_CONFIGURATION_CHANGE;
                    let n = Notification::new(code::CEASE, cease, Vec::new());
                    self.neighbors.stop(addr, n);
                    self.start_neighbor(nc, routes, &config.healthchecks)
                }
                (NeighborChange::Added { routes }, Some(nc)) => {
                    self.start_neighbor(nc, routes, &config.healthchecks)
                }
                (NeighborChange::Removed, _) => {
                    info!("neighbor {addr}: removed from the configuration");
                    self.program_routes.drop_neighbor(addr);
                    let n = Notification::new(code::CEASE, subcode::PEER_DECONFIGURED, Vec::new());
                    self.neighbors.stop(addr, n);
                    Ok(())
                }
                (_, None) => Ok(()),
            };
            if let Err(e) = started {
                error!("neighbor {addr}: cannot start: {e}");
            }
        }
        self.neighbors.prune_listeners();
        let configs = self.neighbors.iter().map(|n| &n.config);
        self.program_routes.drop_unmapped(configs);
        for source in self
            .programs
            .reconcile(&plan.programs, Programs::of(&config))
        {
            self.program_routes.drop_source(&source);
        }
        self.flush();
    }
}
