//! Requests from helpers, health checks and the control socket: who may speak (only the
//! running generation of a program), which neighbors a request is for, and the answer.

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use log::info;

use super::Manager;
use super::neighbors::Neighbors;
use super::program_routes::Target;
use super::status;
use crate::api::BatchLine;
use crate::api::command::{Command, Request};
use crate::api::{ApiAction, ApiRequest, Replier, Source};
use crate::wire::family::Family;
use crate::wire::notification::{Notification, code, subcode};

/// The neighbors `source` speaks for that `selects` picks, with their file routes.
fn targets<'a>(
    neighbors: &'a Neighbors,
    source: &Source,
    selects: impl Fn(&crate::config::NeighborConfig) -> bool,
) -> Vec<Target<'a>> {
    neighbors
        .iter()
        .filter(|n| match source {
            Source::Process(name) => n.config.api_processes.iter().any(|p| p == name),
            Source::Control | Source::Healthcheck(_) => true,
            Source::Replayed(_) | Source::Watchdog => false,
        })
        .filter(|n| selects(&n.config))
        .map(|n| Target {
            config: &n.config,
            file: &n.file_routes,
        })
        .collect()
}

/// What a request asks of the manager once it is applied.
enum Answer {
    Lines(Vec<String>),
    Refused(String),
    Shutdown,
}

impl Manager {
    /// Whether `request` comes from a generation that was stopped (a helper removed or
    /// replaced by a reload, a removed health check): it then changes nothing.
    fn is_from_stopped_generation(&self, request: &ApiRequest) -> bool {
        self.is_stopped(
            &request.source,
            &request.replier,
            request.stopped.as_deref(),
        )
    }

    fn is_stopped(&self, source: &Source, replier: &Replier, stopped: Option<&AtomicBool>) -> bool {
        if let (Source::Process(_), Replier::Process(out)) = (source, replier)
            && !self.programs.is_current(out)
        {
            return true;
        }
        stopped.is_some_and(|s| s.load(Ordering::SeqCst))
    }

    /// Applies one request and answers it; `true` when it asks bgpinject to stop.
    pub(super) fn api(&mut self, request: ApiRequest) -> bool {
        if self.is_from_stopped_generation(&request) {
            log::debug!(
                "{}: a request from a stopped instance, ignored",
                request.source
            );
            return false;
        }
        let source = request.source.clone();
        let default_lease = match &request.replier {
            Replier::Process(out) => out.default_lease,
            _ => None,
        };
        // ExaBGP answers `show adj-rib in` in JSON to a helper whose encoder is json.
        let json_helper = matches!(&request.replier,
            Replier::Process(out) if out.encoder == crate::config::process::Encoder::Json);
        let told_of_updates = match &request.action {
            ApiAction::Command(r) => self.told_of_updates(r, &request.replier),
            _ => BTreeSet::new(),
        };
        let answer = match request.action {
            ApiAction::Clear => {
                self.program_routes.drop_source(&source);
                self.leases.drop_source(&source);
                Answer::Lines(Vec::new())
            }
            ApiAction::Replace(only, routes) => {
                let chosen = targets(&self.neighbors, &source, |n| {
                    only.is_empty() || only.contains(&n.peer_address)
                });
                self.program_routes.replace(&source, &routes, &chosen);
                Answer::Lines(Vec::new())
            }
            ApiAction::Command(r) => self.command(&source, r, default_lease, json_helper),
            ApiAction::Batch(commands) => {
                for line in commands {
                    let r = match line {
                        BatchLine::One(r) => r,
                        BatchLine::Repeated {
                            mut template,
                            prefixes,
                        } => {
                            // As each line alone: the same checks and answer, with the route's
                            // prefix set in place instead of a request each.
                            let told = self.told_of_updates(&template, &request.replier);
                            let lease = template.lease.or(default_lease);
                            let answers =
                                self.announce_repeated(&source, &mut template, &prefixes, lease);
                            for answer in answers {
                                if self.answer(&source, &request.replier, answer, told.clone()) {
                                    return true;
                                }
                            }
                            continue;
                        }
                    };
                    // A reload in the batch may stop this helper: the lines after it are
                    // then from a stopped generation, as they would be one by one.
                    let reloads = matches!(r.command, Command::Reload | Command::Restart);
                    let told = self.told_of_updates(&r, &request.replier);
                    let answer = self.command(&source, r, default_lease, json_helper);
                    if self.answer(&source, &request.replier, answer, told) {
                        return true;
                    }
                    let stopped = request.stopped.as_deref();
                    if reloads && self.is_stopped(&source, &request.replier, stopped) {
                        return false;
                    }
                }
                return false;
            }
        };
        self.answer(&source, &request.replier, answer, told_of_updates)
    }

    /// Answers one applied command (refusals logged and counted); `true` when it asked
    /// bgpinject to stop.
    fn answer(
        &mut self,
        source: &Source,
        replier: &Replier,
        answer: Answer,
        told_of_updates: BTreeSet<IpAddr>,
    ) -> bool {
        let (lines, ok) = match answer {
            Answer::Lines(lines) => (lines, true),
            Answer::Refused(message) => {
                self.refusals.refused(source, &message);
                self.metrics.refused(source);
                // A helper gets `error` only; the message is in the log.
                match replier {
                    Replier::Process(_) => (Vec::new(), false),
                    _ => (vec![format!("error: {message}")], false),
                }
            }
            Answer::Shutdown => {
                info!("{source}: shutdown requested");
                replier.answer(Vec::new(), true);
                return true;
            }
        };
        match replier {
            Replier::Process(out)
                if !told_of_updates.is_empty() || self.held_acks.holds(&out.name) =>
            {
                let name = out.name.clone();
                // Refused: nothing is sent, nothing to wait for (but the answers before it).
                let waiting = if ok { told_of_updates } else { BTreeSet::new() };
                self.held_acks
                    .hold(&name, replier.clone(), (lines, ok), waiting, Instant::now());
            }
            _ => replier.answer(lines, ok),
        }
        false
    }

    /// The established neighbors a helper's route command is for whose api blocks tell that
    /// helper of the UPDATEs sent: its `done` waits until those are sent (see
    /// `held_acks.rs`). Empty for anyone but a helper.
    fn told_of_updates(&self, request: &Request, replier: &Replier) -> BTreeSet<IpAddr> {
        let Replier::Process(out) = replier else {
            return BTreeSet::new();
        };
        let name = out.name.as_str();
        let changes_routes = matches!(
            request.command,
            Command::Announce(_)
                | Command::Withdraw(_)
                | Command::AnnounceFlow(_)
                | Command::WithdrawFlow(_)
                | Command::AnnounceFamily(_)
                | Command::WithdrawFamily(_)
                | Command::AnnounceWatched { .. }
                | Command::AnnounceWatchedOther { .. }
                | Command::Watchdog { .. }
        );
        if !changes_routes {
            return BTreeSet::new();
        }
        self.neighbors
            .iter()
            .filter(|n| n.status.state == crate::session::fsm::State::Established)
            .filter(|n| n.config.api_processes.iter().any(|p| p == name))
            .filter(|n| request.selects(&n.config))
            .filter(|n| super::fanout::events_of(&n.config, name).send.update)
            .map(|n| n.config.peer_address)
            .collect()
    }

    fn command(
        &mut self,
        source: &Source,
        request: Request,
        default_lease: Option<u32>,
        json_helper: bool,
    ) -> Answer {
        let views = || self.neighbors.iter().map(|n| n.view());
        match &request.command {
            Command::Announce(_)
            | Command::Withdraw(_)
            | Command::AnnounceFlow(_)
            | Command::WithdrawFlow(_)
            | Command::AnnounceFamily(_)
            | Command::WithdrawFamily(_) => {
                return self.change_routes(source, &request, request.lease.or(default_lease));
            }
            Command::AnnounceWatched {
                routes,
                watchdog,
                withdraw,
            } => {
                let chosen = targets(&self.neighbors, source, |n| request.selects(n));
                if chosen.is_empty() {
                    return Answer::Refused(format!("no configured neighbor matches for {source}"));
                }
                // A route held back now is checked as an announce: its watchdog announces it
                // later without another check. One the state file has withdrawn in this
                // group stays withdrawn (see `watchdog.rs`).
                let (held, live): (Vec<_>, Vec<_>) = routes.iter().cloned().partition(|r| {
                    let member = super::watchdog::MemberRoute::Route(r.clone());
                    *withdraw
                        || self
                            .program_routes
                            .withdrawn_by_replay(source, watchdog, &member, &chosen)
                });
                let checked = super::program_routes::check_guards(&held, &chosen)
                    .and_then(|()| self.program_routes.announce(source, &live, &chosen));
                if let Err(e) = checked {
                    return Answer::Refused(e);
                }
                for (routes, withdrawn) in [(held, true), (live, false)] {
                    if !routes.is_empty() {
                        let tag = Some((watchdog.as_str(), withdrawn));
                        self.program_routes
                            .tag_routes(source, &routes, tag, &chosen);
                    }
                }
            }
            Command::AnnounceWatchedOther {
                item,
                watchdog,
                withdraw,
            } => {
                use super::watchdog::MemberRoute;
                let chosen = targets(&self.neighbors, source, |n| request.selects(n));
                if chosen.is_empty() {
                    return Answer::Refused(format!("no configured neighbor matches for {source}"));
                }
                let member = match item {
                    crate::api::command::Watched::Family(r) => MemberRoute::Family((**r).clone()),
                    crate::api::command::Watched::Flow(f) => MemberRoute::Flow((**f).clone()),
                };
                let withdraw = *withdraw
                    || self
                        .program_routes
                        .withdrawn_by_replay(source, watchdog, &member, &chosen);
                // Announced first, so that it is checked as any announce (family configured,
                // guards, flow limit); a held one is then taken back out by its tag.
                let checked = match item {
                    crate::api::command::Watched::Family(r) => {
                        self.program_routes.announce_family(source, r, &chosen)
                    }
                    crate::api::command::Watched::Flow(f) => {
                        self.program_routes.announce_flow(source, f, &chosen)
                    }
                };
                if let Err(e) = checked {
                    return Answer::Refused(e);
                }
                let tag = Some((watchdog.as_str(), withdraw));
                self.program_routes
                    .tag_members(source, &[member], tag, &chosen);
            }
            Command::Watchdog { name, announce } => {
                let name = match (name, source) {
                    (Some(n), _) => n.clone(),
                    // ExaBGP: the helper's own name.
                    (None, Source::Process(p)) => p.clone(),
                    (None, _) => {
                        return Answer::Refused(
                            "watchdog: name the watchdog (only a helper has a default name)".into(),
                        );
                    }
                };
                // As ExaBGP: every neighbor of the configuration (not only the helper's), or
                // those a selector names.
                let addrs: Vec<IpAddr> = self
                    .neighbors
                    .iter()
                    .filter(|n| request.selects(&n.config))
                    .map(|n| n.config.peer_address)
                    .collect();
                if let Some(changed) = self
                    .program_routes
                    .switch_watchdog(&name, *announce, &addrs)
                    && changed > 0
                {
                    log::debug!(
                        "{source}: {} watchdog {name}: {changed} routes",
                        if *announce { "announce" } else { "withdraw" }
                    );
                }
            }
            Command::Ready => self.source_ready(source, None),
            Command::EndOfRib(family) | Command::RouteRefresh(family) => {
                if let (Command::EndOfRib(_), Source::Process(_)) = (&request.command, source) {
                    // A helper's End-of-RIB says it is done: the held one may go (sent by
                    // the gate, after its routes; see `readiness.rs`).
                    self.source_ready(source, *family);
                }
                let addrs = self.target_addrs(source, &request);
                let end_of_rib = matches!(request.command, Command::EndOfRib(_));
                self.neighbors.signal(&addrs, end_of_rib, *family);
            }
            Command::ShowNeighbor { summary } => {
                return Answer::Lines(status::show_neighbor(views(), *summary));
            }
            Command::ShowAdjRibOut => return Answer::Lines(status::show_adj_rib_out(views())),
            Command::FlushAdjRibOut | Command::ClearAdjRibOut => {
                let addrs = self.target_addrs(source, &request);
                if matches!(request.command, Command::FlushAdjRibOut) {
                    self.neighbors.flush(&addrs);
                } else {
                    for addr in addrs {
                        self.program_routes.clear_neighbor(addr);
                    }
                }
            }
            Command::ShowAdjRibIn { json, extensive } => {
                let chosen: Vec<&crate::config::NeighborConfig> = self
                    .neighbors
                    .iter()
                    .filter(|n| n.config.options.adj_rib_in && request.selects(&n.config))
                    .map(|n| &n.config)
                    .collect();
                if *json || json_helper {
                    return Answer::Lines(self.adj_rib_in.json_lines(&chosen, *extensive));
                }
                let addrs: Vec<IpAddr> = chosen.iter().map(|n| n.peer_address).collect();
                return Answer::Lines(self.adj_rib_in.lines(&addrs));
            }
            Command::ClearAdjRibIn => {
                for n in self.neighbors.iter().filter(|n| request.selects(&n.config)) {
                    self.adj_rib_in.clear(n.config.peer_address);
                }
            }
            Command::Teardown(notification) => {
                let addrs = self.target_addrs(source, &request);
                if addrs.is_empty() {
                    return Answer::Refused(format!("no configured neighbor matches for {source}"));
                }
                for addr in addrs {
                    info!("neighbor {addr}: teardown by {source}: NOTIFICATION {notification}");
                    if let Err(e) = self.neighbors.restart(addr, notification.clone()) {
                        log::error!("neighbor {addr}: cannot start: {e}");
                    }
                }
            }
            Command::Enable | Command::Disable(_) => {
                let addrs = self.target_addrs(source, &request);
                if addrs.is_empty() {
                    return Answer::Refused(format!("no configured neighbor matches for {source}"));
                }
                for addr in addrs {
                    match &request.command {
                        Command::Disable(n) => {
                            if let Err(e) = self.neighbors.disable(addr, n.clone()) {
                                log::error!("neighbor {addr}: cannot start: {e}");
                            }
                        }
                        _ => {
                            self.neighbors.enable(addr);
                        }
                    }
                }
            }
            Command::CreateNeighbor(new) => {
                if let Err(e) = self.create_neighbor(source, new) {
                    return Answer::Refused(e);
                }
            }
            Command::DeleteNeighbor => {
                let addrs = self.target_addrs(source, &request);
                if addrs.is_empty() {
                    return Answer::Refused("no neighbors match the selector".to_string());
                }
                self.delete_neighbors(source, &addrs);
            }
            Command::Reload => self.reload(),
            Command::Restart => {
                self.reload();
                self.restart_sessions();
            }
            Command::Shutdown => return Answer::Shutdown,
            Command::Ping => {
                return Answer::Lines(vec![format!("pong {}", crate::api::command::instance_id())]);
            }
            Command::Status => {
                return Answer::Lines(vec![
                    format!("UUID: {}", crate::api::command::instance_id()),
                    format!("PID: {}", std::process::id()),
                    format!(
                        "Uptime: {} s",
                        crate::api::command::started_at().elapsed().as_secs()
                    ),
                    format!("Neighbors: {}", self.neighbors.iter().count()),
                ]);
            }
            Command::Help => {
                return Answer::Lines(
                    crate::api::command::HELP
                        .iter()
                        .map(|l| l.to_string())
                        .collect(),
                );
            }
            Command::Version => {
                return Answer::Lines(vec![format!("bgpinject {}", env!("CARGO_PKG_VERSION"))]);
            }
            Command::Invalid(e) => return Answer::Refused(e.clone()),
        }
        Answer::Lines(Vec::new())
    }

    /// A helper said it is done (for `family`, or all): its End-of-RIB gate opens, and its
    /// routes replayed from the state file that it did not announce again are withdrawn.
    fn source_ready(&mut self, source: &Source, family: Option<Family>) {
        self.readiness.mark(source, family);
        if family.is_none() {
            self.program_routes
                .drop_source(&Source::Replayed(Box::new(source.clone())));
        }
    }

    /// The addresses of the neighbors `request` selects among those `source` speaks for.
    fn target_addrs(&self, source: &Source, request: &Request) -> Vec<IpAddr> {
        targets(&self.neighbors, source, |n| request.selects(n))
            .iter()
            .map(|t| t.config.peer_address)
            .collect()
    }

    /// `announce`/`withdraw` of routes and flows: refused whole when no neighbor matches or
    /// when one route may not change (see [`super::program_routes::ProgramRoutes`]).
    fn change_routes(&mut self, source: &Source, request: &Request, lease: Option<u32>) -> Answer {
        let chosen = targets(&self.neighbors, source, |n| request.selects(n));
        if chosen.is_empty() {
            return Answer::Refused(format!("no configured neighbor matches for {source}"));
        }
        let routes = &mut self.program_routes;
        let result = match &request.command {
            Command::Announce(r) => routes.announce(source, r, &chosen),
            Command::Withdraw(r) => routes.withdraw(source, r, &chosen),
            Command::AnnounceFlow(f) => routes.announce_flow(source, f, &chosen),
            Command::WithdrawFlow(f) => routes.withdraw_flow(source, f, &chosen),
            Command::AnnounceFamily(r) => routes.announce_family(source, r, &chosen),
            Command::WithdrawFamily(r) => routes.withdraw_family(source, r, &chosen),
            _ => Ok(()),
        };
        match result {
            Ok(()) => {
                match &request.command {
                    Command::Announce(_) | Command::AnnounceFlow(_) => {
                        self.leases
                            .announced(source, request, lease, Instant::now());
                    }
                    _ => self.leases.withdrawn(source, request),
                }
                Answer::Lines(Vec::new())
            }
            Err(e) => Answer::Refused(e),
        }
    }

    /// `template` (an `announce route` of one route) with each of `prefixes` in turn, as
    /// [`Manager::change_routes`] would apply each line alone; the neighbors it goes to are
    /// found once, since they do not depend on the prefix. One answer a prefix.
    fn announce_repeated(
        &mut self,
        source: &Source,
        template: &mut Request,
        prefixes: &[crate::wire::prefix::Prefix],
        lease: Option<u32>,
    ) -> Vec<Answer> {
        let chosen = targets(&self.neighbors, source, |n| template.selects(n));
        let mut answers = Vec::with_capacity(prefixes.len());
        // The lines of a run are applied at one time (a clock read per line was 5 % of the
        // manager's samples).
        let now = Instant::now();
        for &prefix in prefixes {
            if chosen.is_empty() {
                answers.push(Answer::Refused(format!(
                    "no configured neighbor matches for {source}"
                )));
                continue;
            }
            let Command::Announce(routes) = &mut template.command else {
                answers.push(Answer::Refused("not an announce".into()));
                continue;
            };
            routes.iter_mut().for_each(|r| r.prefix = prefix);
            answers.push(
                match self.program_routes.announce(source, routes, &chosen) {
                    Ok(()) => {
                        self.leases.announced(source, template, lease, now);
                        Answer::Lines(Vec::new())
                    }
                    Err(e) => Answer::Refused(e),
                },
            );
        }
        answers
    }

    /// Withdraws the program routes whose lease ran out, as their source would.
    pub(super) fn expire_leases(&mut self) {
        for (source, withdraw) in self.leases.expired(Instant::now()) {
            info!(
                "{source}: lease expired, withdrawing {}",
                lease_subject(&withdraw)
            );
            if let Answer::Refused(e) = self.change_routes(&source, &withdraw, None) {
                log::debug!("{source}: the withdrawal of an expired lease changed nothing: {e}");
            }
        }
    }

    /// `restart`: every session closes (Cease / Administrative Reset) and starts again.
    fn restart_sessions(&mut self) {
        for addr in self.neighbors.addrs() {
            info!("neighbor {addr}: restarting the session (restart command)");
            let cease = Notification::new(code::CEASE, subcode::ADMINISTRATIVE_RESET, Vec::new());
            if let Err(e) = self.neighbors.restart(addr, cease) {
                log::error!("neighbor {addr}: cannot start: {e}");
            }
        }
    }
}

/// What a lease withdrawal is about, for the log.
fn lease_subject(request: &Request) -> String {
    match &request.command {
        Command::Withdraw(routes) => routes
            .iter()
            .map(|r| r.prefix.to_string())
            .collect::<Vec<_>>()
            .join(" "),
        Command::WithdrawFlow(f) => format!("flow {}", f.name),
        Command::WithdrawFamily(r) => r.key.to_string(),
        _ => String::new(),
    }
}
