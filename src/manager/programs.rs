//! The one supervisor of the programs bgpinject runs: helper processes and health checks.
//! Each instance is a generation: once stopped (removed or changed by a reload), nothing it
//! sends changes anything (see `Manager::api`), a helper gets SIGTERM then SIGKILL, and its
//! routes go as its `on-exit` says (a health check's are withdrawn).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use crossbeam_channel::Sender;
use log::{error, info};

use crate::api::Source;
use crate::api::process::{Helper, HelperOutput};
use crate::config::healthcheck::HealthcheckConfig;
use crate::config::process::{OnExit, ProcessConfig};
use crate::events::ProgramEvent;
use crate::reload_plan::{Program, ProgramChange, Programs};

/// How long start waits for helper programs to run before the sessions start.
const HELPER_START_WAIT: Duration = Duration::from_secs(2);

/// One running generation of a program.
enum Instance {
    Helper(ProcessConfig, Helper),
    /// The check's configuration and the handle that stops its thread (and marks its late
    /// results as from a stopped generation).
    Check(Box<HealthcheckConfig>, crate::api::healthcheck::CheckHandle),
}

pub struct Supervisor {
    running: BTreeMap<Program, Instance>,
    events: Sender<ProgramEvent>,
}

impl Supervisor {
    pub fn new(events: Sender<ProgramEvent>) -> Supervisor {
        Supervisor {
            running: BTreeMap::new(),
            events,
        }
    }

    /// Starts the helpers and waits (bounded) until they run, so that the first events of
    /// the sessions started next reach them, as with ExaBGP.
    pub fn start_helpers(&mut self, processes: &[ProcessConfig]) -> std::io::Result<()> {
        for p in processes {
            self.start_helper(p.clone())?;
        }
        let deadline = Instant::now() + HELPER_START_WAIT;
        while Instant::now() < deadline && !self.helpers().all(|h| h.output.is_running()) {
            std::thread::sleep(Duration::from_millis(5));
        }
        Ok(())
    }

    /// Starts the checks, each from its state in the state file if it has one.
    pub fn start_checks(
        &mut self,
        checks: &[HealthcheckConfig],
        replayed: &BTreeMap<String, bool>,
    ) -> std::io::Result<()> {
        for c in checks {
            self.start_check(c.clone(), replayed.get(&c.name).copied())?;
        }
        Ok(())
    }

    fn start_helper(&mut self, p: ProcessConfig) -> std::io::Result<()> {
        let helper = Helper::spawn(p.clone(), self.events.clone())?;
        self.running
            .insert(Program::Helper(p.name.clone()), Instance::Helper(p, helper));
        Ok(())
    }

    fn start_check(&mut self, c: HealthcheckConfig, replayed: Option<bool>) -> std::io::Result<()> {
        let stop = Arc::new(AtomicBool::new(false));
        let handle =
            crate::api::healthcheck::spawn(c.clone(), self.events.clone(), stop, replayed)?;
        self.running.insert(
            Program::Healthcheck(c.name.clone()),
            Instance::Check(Box::new(c), handle),
        );
        Ok(())
    }

    fn helpers(&self) -> impl Iterator<Item = &Helper> {
        self.running.values().filter_map(|i| match i {
            Instance::Helper(_, h) => Some(h),
            Instance::Check(..) => None,
        })
    }

    /// The running helpers' outputs and health checks' names (for the metrics).
    pub fn running(&self) -> (Vec<Arc<HelperOutput>>, Vec<String>) {
        let helpers = self.helpers().map(|h| h.output.clone()).collect();
        let checks = self.running.keys().filter_map(|p| match p {
            Program::Healthcheck(name) => Some(name.clone()),
            Program::Helper(_) => None,
        });
        (helpers, checks.collect())
    }

    /// The running helper called `name`.
    pub fn helper(&self, name: &str) -> Option<&Helper> {
        match self.running.get(&Program::Helper(name.to_string())) {
            Some(Instance::Helper(_, h)) => Some(h),
            _ => None,
        }
    }

    /// Whether `output` is the running generation of its helper.
    pub fn is_current(&self, output: &Arc<HelperOutput>) -> bool {
        self.helper(&output.name)
            .is_some_and(|h| Arc::ptr_eq(&h.output, output))
    }

    /// The configurations that run now, as a reload plan compares them.
    pub fn configs(&self) -> (Vec<ProcessConfig>, Vec<HealthcheckConfig>) {
        let mut processes = Vec::new();
        let mut checks = Vec::new();
        for i in self.running.values() {
            match i {
                Instance::Helper(p, _) => processes.push(p.clone()),
                Instance::Check(c, _) => checks.push((**c).clone()),
            }
        }
        (processes, checks)
    }

    /// Applies the programs part of a reload plan (one loop for helpers and checks; the
    /// configurations are `new`'s). Returns the sources whose routes are to be withdrawn.
    /// Never waits on a program.
    pub fn reconcile(
        &mut self,
        plan: &BTreeMap<Program, ProgramChange>,
        new: Programs,
    ) -> Vec<Source> {
        let mut withdrawn = Vec::new();
        for (program, change) in plan {
            if matches!(change, ProgramChange::Stopped | ProgramChange::Restarted) {
                info!("{program}: removed or changed by the reload, stopping it");
                withdrawn.extend(self.stop(program));
            }
            if matches!(change, ProgramChange::Started | ProgramChange::Restarted) {
                info!("{program}: starting (reload)");
                let started = match program {
                    Program::Helper(name) => new
                        .processes
                        .iter()
                        .find(|p| p.name == *name)
                        .map(|p| self.start_helper(p.clone())),
                    Program::Healthcheck(name) => new
                        .checks
                        .iter()
                        .find(|c| c.name == *name)
                        .map(|c| self.start_check(c.clone(), None)),
                };
                if let Some(Err(e)) = started {
                    error!("{program}: cannot start: {e}");
                }
            }
        }
        withdrawn
    }

    /// Stops one generation; the source whose routes go with it, if they do.
    fn stop(&mut self, program: &Program) -> Option<Source> {
        match self.running.remove(program)? {
            Instance::Helper(p, h) => {
                h.stop();
                h.terminate();
                (p.on_exit == OnExit::Withdraw).then_some(Source::Process(p.name))
            }
            Instance::Check(c, handle) => {
                handle.stop();
                Some(Source::Healthcheck(c.name.clone()))
            }
        }
    }

    /// Stops the checks and tells the helpers `shutdown` (the sessions close next).
    pub fn stop_all(&self) {
        for i in self.running.values() {
            match i {
                Instance::Helper(_, h) => h.stop(),
                Instance::Check(_, handle) => handle.stop(),
            }
        }
    }

    /// SIGTERM (then SIGKILL) to the helpers still running after [`Supervisor::stop_all`].
    pub fn terminate_all(&self) {
        for h in self.helpers() {
            h.terminate();
        }
    }
}
