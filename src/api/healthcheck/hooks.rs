//! The commands run on a check's transitions (`execute`, `up-execute`, ...): on a thread of
//! their own, one at a time in order, each with `STATE` set, its output thrown away, and its
//! process group killed after the hook timeout. A hook that hangs, floods its output or leaves
//! children behind never delays a check, and the checks never wait for a hook.

use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, TrySendError};
use log::{debug, warn};

use super::Account;
use super::fsm::State;
use crate::config::healthcheck::Hooks;

/// Transitions whose hooks wait to run; more are dropped (logged): hooks that keep hanging
/// must not make memory grow.
const QUEUE: usize = 32;

pub struct HookRunner {
    queue: Sender<(State, Vec<String>)>,
}

impl HookRunner {
    /// `None` without hooks; the thread ends when the runner is dropped and its queue drained.
    pub fn start(name: &str, hooks: &Hooks, account: Option<Account>) -> Option<HookRunner> {
        if hooks.is_empty() {
            return None;
        }
        let (queue, jobs) = crossbeam_channel::bounded(QUEUE);
        let thread_name = name.to_string();
        let timeout = hooks.timeout;
        let spawned = std::thread::Builder::new()
            .name(format!("hooks {name}"))
            .spawn(move || run_queue(&thread_name, &jobs, timeout, account));
        if let Err(e) = spawned {
            warn!("healthcheck {name}: cannot start the thread of its hooks: {e}");
            return None;
        }
        Some(HookRunner { queue })
    }

    /// Queues the hooks of entering `state`: `STATE-execute` ones first, then `execute`
    /// (healthcheck.py's order).
    pub fn entered(&self, name: &str, hooks: &Hooks, state: State) {
        let specific: &[String] = match state {
            State::Up => &hooks.up,
            State::Down => &hooks.down,
            State::Disabled => &hooks.disabled,
            State::Init | State::Rising | State::Falling => &[],
        };
        let commands: Vec<String> = specific.iter().chain(&hooks.any).cloned().collect();
        if commands.is_empty() {
            return;
        }
        match self.queue.try_send((state, commands)) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => warn!(
                "healthcheck {name}: {QUEUE} transitions wait for hooks still running: the hooks of {} are not run",
                state.name()
            ),
            Err(TrySendError::Disconnected(_)) => {}
        }
    }
}

fn run_queue(
    name: &str,
    jobs: &Receiver<(State, Vec<String>)>,
    timeout: Duration,
    account: Option<Account>,
) {
    for (state, commands) in jobs {
        for command in commands {
            run_hook(name, &command, state, timeout, account.as_ref());
        }
    }
}

fn run_hook(name: &str, command: &str, state: State, timeout: Duration, account: Option<&Account>) {
    let mut shell = super::shell(command, account);
    shell.env("STATE", state.name());
    let mut child = match shell.spawn() {
        Ok(c) => c,
        Err(e) => {
            warn!(
                "healthcheck {name}: hook for {}: cannot run /bin/sh: {}",
                state.name(),
                crate::descriptors::explain(&e)
            );
            return;
        }
    };
    let _running = super::Tracked::new(&child);
    let deadline = Instant::now() + timeout;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => {
                if !status.success() {
                    warn!(
                        "healthcheck {name}: hook for {} ({command}) ended with {status}",
                        state.name()
                    );
                } else {
                    debug!("healthcheck {name}: hook for {} ran", state.name());
                }
                return;
            }
            Ok(None) if Instant::now() < deadline => std::thread::sleep(super::POLL),
            _ => {
                warn!(
                    "healthcheck {name}: hook for {} ({command}) still running after {:?}, killed",
                    state.name(),
                    timeout
                );
                super::kill_group(&mut child);
                return;
            }
        }
    }
}
