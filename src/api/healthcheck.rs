//! Built-in health checks: one thread per `healthcheck` block runs its command every
//! `interval` seconds (killed after `timeout`), and tells the manager the routes to announce
//! only when the state changes: up after `rise` consecutive successes, down after `fall`
//! consecutive failures or while the disable file exists.

use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crossbeam_channel::Sender;
use log::{debug, info, warn};

use super::{ApiAction, ApiRequest, Replier, Source};
use crate::config::RouteConfig;
use crate::config::healthcheck::HealthcheckConfig;
use crate::events::ProgramEvent;

/// How often a running check command is polled for its exit.
const POLL: Duration = Duration::from_millis(20);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Health {
    Up,
    Down,
}

/// The rise/fall counter, without I/O.
#[derive(Debug)]
pub struct Hysteresis {
    rise: u32,
    fall: u32,
    state: Health,
    streak: u32,
}

impl Hysteresis {
    /// Starts down: `rise` successes are needed before the first announcement.
    pub fn new(rise: u32, fall: u32) -> Hysteresis {
        Hysteresis {
            rise,
            fall,
            state: Health::Down,
            streak: 0,
        }
    }

    /// Starts up (the state file's last state).
    pub fn up(rise: u32, fall: u32) -> Hysteresis {
        Hysteresis {
            state: Health::Up,
            ..Hysteresis::new(rise, fall)
        }
    }

    pub fn state(&self) -> Health {
        self.state
    }

    /// Records one check; returns the new state when it changed.
    pub fn record(&mut self, ok: bool) -> Option<Health> {
        let toward = if ok { Health::Up } else { Health::Down };
        if toward == self.state {
            self.streak = 0;
            return None;
        }
        self.streak += 1;
        let needed = if ok { self.rise } else { self.fall };
        if self.streak >= needed {
            self.state = toward;
            self.streak = 0;
            Some(toward)
        } else {
            None
        }
    }

    /// Forced down (disable file): immediate.
    pub fn force_down(&mut self) -> Option<Health> {
        self.streak = 0;
        if self.state == Health::Down {
            None
        } else {
            self.state = Health::Down;
            Some(Health::Down)
        }
    }
}

/// The routes to announce in `state`.
pub fn routes_for(config: &HealthcheckConfig, state: Health) -> Vec<RouteConfig> {
    match state {
        Health::Up => config.routes.clone(),
        Health::Down => config
            .routes
            .iter()
            .filter_map(|r| {
                config
                    .on_down
                    .apply(&r.attributes)
                    .map(|attributes| RouteConfig {
                        attributes: attributes.into(),
                        ..r.clone()
                    })
            })
            .collect(),
    }
}

/// Starts the check thread; it ends when `stopping` is set. `replayed`: the state the
/// state file gives it (up: announced at once, until its first check fails).
pub fn spawn(
    config: HealthcheckConfig,
    events: Sender<ProgramEvent>,
    stopping: Arc<AtomicBool>,
    replayed: Option<bool>,
) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name(format!("healthcheck {}", config.name))
        .spawn(move || run(config, events, stopping, replayed))?;
    Ok(())
}

fn announce(
    config: &HealthcheckConfig,
    events: &Sender<ProgramEvent>,
    state: Health,
    stopping: &Arc<AtomicBool>,
) -> bool {
    events
        .send(ProgramEvent::Request(ApiRequest {
            source: Source::Healthcheck(config.name.clone()),
            action: ApiAction::Replace(config.neighbors.clone(), routes_for(config, state)),
            replier: Replier::Nobody,
            permit: None,
            stopped: Some(stopping.clone()),
        }))
        .is_ok()
}

fn run(
    config: HealthcheckConfig,
    events: Sender<ProgramEvent>,
    stopping: Arc<AtomicBool>,
    replayed: Option<bool>,
) {
    let name = &config.name;
    let replayed_up = replayed == Some(true);
    let mut h = Hysteresis::new(config.rise, config.fall);
    crate::metrics::healthcheck_started(name);
    if replayed_up {
        info!(
            "healthcheck {name}: up in the state file: announcing its routes until a check fails"
        );
        h = Hysteresis::up(config.rise, config.fall);
    }
    if !announce(&config, &events, h.state(), &stopping) {
        return;
    }
    let interval = Duration::from_secs(config.interval_seconds.into());
    let timeout = Duration::from_secs(config.timeout_seconds.into());
    let mut count: u64 = 0;
    while !stopping.load(Ordering::SeqCst) {
        let next = Instant::now() + interval;
        count += 1;
        let disabled = config.disable_file.as_ref().is_some_and(|f| f.exists());
        let (ok, change) = if disabled {
            debug!("healthcheck {name}: check {count}: disable file present, down");
            (false, h.force_down())
        } else {
            let ok = check(&config.command, timeout, name);
            debug!(
                "healthcheck {name}: check {count}: {}",
                if ok { "passed" } else { "failed" }
            );
            if count == 1 && replayed_up && !ok {
                // The replayed state holds until the check's own first result says otherwise.
                (ok, h.force_down())
            } else {
                (ok, h.record(ok))
            }
        };
        if !stopping.load(Ordering::SeqCst) {
            crate::metrics::healthcheck_ran(name, ok, h.state() == Health::Up);
        }
        if let Some(state) = change {
            info!(
                "healthcheck {name}: {} after check {count}: {}",
                if state == Health::Up { "up" } else { "down" },
                match (state, disabled) {
                    (Health::Up, _) => "announcing its routes".to_string(),
                    (Health::Down, true) => "disable file present".to_string(),
                    (Health::Down, false) => format!("{} consecutive failures", config.fall),
                }
            );
            if !announce(&config, &events, state, &stopping) {
                return;
            }
        }
        if count == 1 || change.is_some() {
            // After the first check the neighbors' End-of-RIB need not wait for this check;
            // each state is journaled (state-file).
            let _ = events.send(ProgramEvent::CheckResult(crate::events::CheckResult {
                name: name.clone(),
                up: h.state() == Health::Up,
                stopped: stopping.clone(),
            }));
        }
        while Instant::now() < next && !stopping.load(Ordering::SeqCst) {
            std::thread::sleep((next - Instant::now()).min(Duration::from_millis(100)));
        }
    }
}

/// Runs `sh -c COMMAND` in its own process group; kills the group after `timeout`.
fn check(command: &str, timeout: Duration, name: &str) -> bool {
    let mut shell = Command::new("/bin/sh");
    shell
        .arg("-c")
        .arg(command)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0);
    crate::cli::daemon::run_as_program_account(&mut shell);
    let mut child = match shell.spawn() {
        Ok(c) => c,
        Err(e) => {
            warn!(
                "healthcheck {name}: cannot run /bin/sh: {}",
                crate::descriptors::explain(&e)
            );
            return false;
        }
    };
    let deadline = Instant::now() + timeout;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return status.success(),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(POLL),
            _ => {
                warn!(
                    "healthcheck {name}: command still running after {} s, killed: failure",
                    timeout.as_secs()
                );
                // SAFETY: the group was created for this child (process_group(0)), which
                // has not been reaped, so its id still names our group.
                unsafe {
                    libc::kill(-(child.id() as libc::pid_t), libc::SIGKILL);
                }
                let _ = child.wait();
                return false;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rise_and_fall_need_consecutive_results() {
        let mut h = Hysteresis::new(3, 2);
        assert_eq!(h.record(true), None);
        assert_eq!(h.record(true), None);
        assert_eq!(h.record(false), None);
        assert_eq!(h.record(true), None);
        assert_eq!(h.record(true), None);
        assert_eq!(h.record(true), Some(Health::Up));
        assert_eq!(h.record(true), None);
        assert_eq!(h.record(false), None);
        assert_eq!(h.record(true), None);
        assert_eq!(h.record(false), None);
        assert_eq!(h.record(false), Some(Health::Down));
        assert_eq!(h.force_down(), None);
    }

    #[test]
    fn timeout_kills_the_command() {
        let t = Instant::now();
        assert!(!check("sleep 30", Duration::from_millis(300), "t"));
        assert!(t.elapsed() < Duration::from_secs(5));
        assert!(check("true", Duration::from_secs(5), "t"));
        assert!(!check("exit 3", Duration::from_secs(5), "t"));
    }
}
