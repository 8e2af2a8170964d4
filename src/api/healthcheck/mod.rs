//! Built-in health checks, with the meaning of ExaBGP's healthcheck.py: one thread per check
//! runs its command every `interval` (every `fast-interval` while the state is rising or
//! falling; killed after `timeout`), steps healthcheck.py's state machine ([`fsm`]), runs the
//! hooks of each state entered ([`hooks`]), and tells the manager the routes of the up, down
//! or disabled state only when that state changes. Service addresses ([`addresses`]) are put
//! on their interface at start (`ip-setup static`) or while up (`dynamic`), and removed when
//! the check stops ([`CheckHandle::stop`], also at daemon exit) or goes down (`dynamic`).

pub mod addresses;
pub mod fsm;
mod hooks;

use std::ffi::CString;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crossbeam_channel::Sender;
use log::{debug, error, info, warn};

use self::addresses::ServiceAddresses;
use self::fsm::{Announced, Fsm, State};
use super::{ApiAction, ApiRequest, Replier, Source};
use crate::config::RouteConfig;
use crate::config::healthcheck::{HealthcheckConfig, IpSetup};
use crate::events::ProgramEvent;

/// How often a running check command or hook is polled for its exit.
const POLL: Duration = Duration::from_millis(20);

/// The account a check's command and hooks run as, when the check names one.
#[derive(Clone, Copy, Debug)]
pub struct Account {
    uid: libc::uid_t,
    gid: libc::gid_t,
}

/// The routes to announce in `state`.
pub fn routes_for(config: &HealthcheckConfig, state: Announced) -> Vec<RouteConfig> {
    config
        .routes
        .iter()
        .filter_map(|r| match state {
            Announced::Up => Some(r.up.clone()),
            Announced::Down => r.down.clone(),
            Announced::Disabled => r.disabled.clone(),
        })
        .collect()
}

/// A running check, as its supervisor holds it.
pub struct CheckHandle {
    name: String,
    stopping: Arc<AtomicBool>,
    addresses: Option<Arc<Mutex<ServiceAddresses>>>,
}

impl CheckHandle {
    /// Stops the check: its thread ends after its current command, nothing it sends counts
    /// any more, and its service addresses are removed now (under the lock the thread takes
    /// to add them, so that none is added after this).
    pub fn stop(&self) {
        self.stopping.store(true, Ordering::SeqCst);
        if let Some(a) = &self.addresses {
            let a = a.lock().unwrap_or_else(|p| p.into_inner());
            match a.remove() {
                Ok(0) => {}
                Ok(n) => info!(
                    "healthcheck {}: stopped, {n} service addresses removed",
                    self.name
                ),
                Err(e) => error!(
                    "healthcheck {}: stopped, cannot remove its service addresses: {e}",
                    self.name
                ),
            }
        }
    }
}

/// Starts the check thread. `replayed`: the state the state file gives it (up: announced at
/// once, until its first check fails). Fails, with the reason, when the check's account is
/// unknown or its service addresses cannot be set up (no CAP_NET_ADMIN): a check that would
/// announce a service address the host does not have must not start quietly.
pub fn spawn(
    config: HealthcheckConfig,
    events: Sender<ProgramEvent>,
    stopping: Arc<AtomicBool>,
    replayed: Option<bool>,
) -> std::io::Result<CheckHandle> {
    let name = config.name.clone();
    let fail = |why: String| std::io::Error::other(format!("healthcheck {name}: {why}"));
    let account = account(config.user.as_deref(), config.group.as_deref()).map_err(fail)?;
    let addresses = (config.ip_setup != IpSetup::None && !config.addresses.is_empty()).then(|| {
        ServiceAddresses {
            setup: config.ip_setup,
            addresses: config.addresses.clone(),
            label: config.label.clone(),
            sudo: config.ip_sudo,
        }
    });
    if let Some(a) = &addresses {
        let drops_root = crate::cli::daemon::program_account_set();
        if let Some(why) = a.unavailable(drops_root) {
            return Err(fail(why));
        }
        let starts_up = a.setup == IpSetup::Static || replayed == Some(true);
        if starts_up {
            let n = a.add().map_err(fail)?;
            info!("healthcheck {name}: {n} service addresses added");
        }
    }
    let addresses = addresses.map(|a| Arc::new(Mutex::new(a)));
    let handle = CheckHandle {
        name: name.clone(),
        stopping: stopping.clone(),
        addresses: addresses.clone(),
    };
    std::thread::Builder::new()
        .name(format!("healthcheck {name}"))
        .spawn(move || {
            let check = Check {
                config,
                events,
                stopping,
                addresses,
                account,
            };
            check.run(replayed == Some(true));
        })?;
    Ok(handle)
}

struct Check {
    config: HealthcheckConfig,
    events: Sender<ProgramEvent>,
    stopping: Arc<AtomicBool>,
    addresses: Option<Arc<Mutex<ServiceAddresses>>>,
    account: Option<Account>,
}

impl Check {
    fn stopped(&self) -> bool {
        self.stopping.load(Ordering::SeqCst)
    }

    fn announce(&self, state: Announced) -> bool {
        self.events
            .send(ProgramEvent::Request(ApiRequest {
                source: Source::Healthcheck(self.config.name.clone()),
                action: ApiAction::Replace(
                    self.config.neighbors.clone(),
                    routes_for(&self.config, state),
                ),
                replier: Replier::Nobody,
                permit: None,
                stopped: Some(self.stopping.clone()),
            }))
            .is_ok()
    }

    /// `dynamic` setup: the addresses follow the state (added before the up routes go out,
    /// removed after the down ones).
    fn follow_addresses(&self, state: Announced) {
        let Some(a) = &self.addresses else { return };
        let a = a.lock().unwrap_or_else(|p| p.into_inner());
        if a.setup != IpSetup::Dynamic || self.stopped() {
            return;
        }
        let name = &self.config.name;
        let result = if state == Announced::Up {
            a.add().map(|n| (n, "added"))
        } else {
            a.remove().map(|n| (n, "removed"))
        };
        match result {
            Ok((n, what)) => info!(
                "healthcheck {name}: {}: {n} service addresses {what}",
                state.name()
            ),
            Err(e) => error!("healthcheck {name}: {}: {e}", state.name()),
        }
    }

    fn run(self, replayed_up: bool) {
        let config = &self.config;
        let name = &config.name;
        let hooks = hooks::HookRunner::start(name, &config.hooks, self.account);
        let mut fsm = Fsm::new(config.rise, config.fall);
        let mut announced = Announced::Down;
        crate::metrics::healthcheck_started(name);
        if replayed_up {
            info!(
                "healthcheck {name}: up in the state file: announcing its routes until a check fails"
            );
            fsm = Fsm::up(config.rise, config.fall);
            announced = Announced::Up;
        }
        if !self.announce(announced) {
            return;
        }
        let mut count: u64 = 0;
        while !self.stopped() {
            let started = Instant::now();
            count += 1;
            let disabled = config.disable_file.as_ref().is_some_and(|f| f.exists());
            let ok = if disabled {
                debug!("healthcheck {name}: check {count}: disable file present");
                false
            } else {
                let ok = match &config.command {
                    Some(c) => check(c, config.timeout, name, self.account.as_ref()),
                    None => true,
                };
                debug!(
                    "healthcheck {name}: check {count}: {}",
                    if ok { "passed" } else { "failed" }
                );
                ok
            };
            let entered = if count == 1 && replayed_up && !disabled && !ok {
                // The replayed state holds until the check's own first result says otherwise.
                Some(fsm.force_down())
            } else {
                fsm.step(disabled, ok)
            };
            if self.stopped() {
                break;
            }
            crate::metrics::healthcheck_ran(name, ok, announced == Announced::Up);
            if let Some(state) = entered {
                debug!("healthcheck {name}: {} after check {count}", state.name());
                if let Some(h) = &hooks {
                    h.entered(name, &config.hooks, state);
                }
            }
            if let Some(state) = entered.and_then(State::announced) {
                info!(
                    "healthcheck {name}: {} after check {count}: {}",
                    state.name(),
                    match state {
                        Announced::Up => "announcing its routes".to_string(),
                        Announced::Disabled => "disable file present".to_string(),
                        Announced::Down => format!("{} consecutive failures", config.fall),
                    }
                );
                if state != announced {
                    announced = state;
                    if state == Announced::Up {
                        self.follow_addresses(state);
                    }
                    if !self.announce(state) {
                        return;
                    }
                    if state != Announced::Up {
                        self.follow_addresses(state);
                    }
                }
            }
            if count == 1 || entered.is_some() {
                // After the first check the neighbors' End-of-RIB need not wait for this check;
                // each state is journaled (state-file).
                let _ = self
                    .events
                    .send(ProgramEvent::CheckResult(crate::events::CheckResult {
                        name: name.clone(),
                        up: announced == Announced::Up,
                        stopped: self.stopping.clone(),
                    }));
            }
            let wait = if fsm.state().is_changing() {
                config.fast_interval
            } else if config.interval.is_zero() {
                info!("healthcheck {name}: interval 0: state settled, no more checks");
                break;
            } else {
                config.interval
            };
            let next = started + wait;
            while Instant::now() < next && !self.stopped() {
                std::thread::sleep((next - Instant::now()).min(Duration::from_millis(100)));
            }
        }
    }
}

/// `sh -c COMMAND` in its own process group, without input or output, as `account` (the
/// check's own) or the daemon's program account.
fn shell(command: &str, account: Option<&Account>) -> Command {
    let mut shell = Command::new("/bin/sh");
    shell
        .arg("-c")
        .arg(command)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0);
    match account {
        Some(a) => {
            shell.uid(a.uid).gid(a.gid);
        }
        None => crate::cli::daemon::run_as_program_account(&mut shell),
    }
    shell
}

/// SIGKILL to the process group of `child` (made by [`shell`]), then reaps it.
fn kill_group(child: &mut Child) {
    // SAFETY: the group was created for this child (process_group(0)), which has not been
    // reaped, so its id still names our group.
    unsafe {
        libc::kill(-(child.id() as libc::pid_t), libc::SIGKILL);
    }
    let _ = child.wait();
}

/// Process groups of the check commands and hooks running now: killed when the daemon stops,
/// so that none outlives it with its timeout unexpired (a hook that floods or hangs would
/// otherwise run on, orphaned, for as long as it likes).
static RUNNING: std::sync::Mutex<Vec<libc::pid_t>> = std::sync::Mutex::new(Vec::new());

/// A child in [`RUNNING`] until dropped (after it was reaped or killed).
struct Tracked(libc::pid_t);

impl Tracked {
    fn new(child: &Child) -> Tracked {
        let pgid = child.id() as libc::pid_t;
        if let Ok(mut r) = RUNNING.lock() {
            r.push(pgid);
        }
        Tracked(pgid)
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        if let Ok(mut r) = RUNNING.lock() {
            r.retain(|p| *p != self.0);
        }
    }
}

/// Kills the process group of every check command and hook still running (at shutdown).
pub fn kill_running() {
    if let Ok(r) = RUNNING.lock() {
        for pgid in r.iter() {
            // SAFETY: each is the group of a child spawned with process_group(0) and not yet
            // reaped (it leaves the list before its `Child` is dropped).
            unsafe {
                libc::kill(-*pgid, libc::SIGKILL);
            }
        }
    }
}

/// Runs the check command; kills its group after `timeout`.
fn check(command: &str, timeout: Duration, name: &str, account: Option<&Account>) -> bool {
    let mut child = match shell(command, account).spawn() {
        Ok(c) => c,
        Err(e) => {
            warn!(
                "healthcheck {name}: cannot run /bin/sh: {}",
                crate::descriptors::explain(&e)
            );
            return false;
        }
    };
    let _running = Tracked::new(&child);
    let deadline = Instant::now() + timeout;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return status.success(),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(POLL),
            _ => {
                warn!(
                    "healthcheck {name}: command still running after {timeout:?}, killed: failure"
                );
                kill_group(&mut child);
                return false;
            }
        }
    }
}

/// The uid and gid of `user` and `group` (a group alone keeps the daemon's program account's
/// uid, or ours); `None` when neither is given.
fn account(user: Option<&str>, group: Option<&str>) -> Result<Option<Account>, String> {
    if user.is_none() && group.is_none() {
        return Ok(None);
    }
    let mut a = match user {
        Some(u) => lookup_user(u).ok_or_else(|| format!("user: no user named '{u}'"))?,
        // SAFETY: plain system calls without arguments.
        None => unsafe {
            Account {
                uid: libc::geteuid(),
                gid: libc::getegid(),
            }
        },
    };
    if let Some(g) = group {
        a.gid = lookup_group(g).ok_or_else(|| format!("group: no group named '{g}'"))?;
    }
    Ok(Some(a))
}

fn lookup_user(name: &str) -> Option<Account> {
    if let Ok(uid) = name.parse::<libc::uid_t>() {
        return Some(Account { uid, gid: uid });
    }
    let c = CString::new(name).ok()?;
    let mut buf = vec![0 as libc::c_char; 16 * 1024];
    // SAFETY: getpwnam_r writes into `pw` and `buf` (of the length given) only; `out` is
    // null or points at `pw`.
    unsafe {
        let mut pw: libc::passwd = std::mem::zeroed();
        let mut out: *mut libc::passwd = std::ptr::null_mut();
        let rc = libc::getpwnam_r(c.as_ptr(), &mut pw, buf.as_mut_ptr(), buf.len(), &mut out);
        (rc == 0 && !out.is_null()).then_some(Account {
            uid: pw.pw_uid,
            gid: pw.pw_gid,
        })
    }
}

fn lookup_group(name: &str) -> Option<libc::gid_t> {
    if let Ok(gid) = name.parse::<libc::gid_t>() {
        return Some(gid);
    }
    let c = CString::new(name).ok()?;
    let mut buf = vec![0 as libc::c_char; 16 * 1024];
    // SAFETY: as in lookup_user, with getgrnam_r.
    unsafe {
        let mut gr: libc::group = std::mem::zeroed();
        let mut out: *mut libc::group = std::ptr::null_mut();
        let rc = libc::getgrnam_r(c.as_ptr(), &mut gr, buf.as_mut_ptr(), buf.len(), &mut out);
        (rc == 0 && !out.is_null()).then_some(gr.gr_gid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeout_kills_the_command() {
        let t = Instant::now();
        assert!(!check("sleep 30", Duration::from_millis(300), "t", None));
        assert!(t.elapsed() < Duration::from_secs(5));
        assert!(check("true", Duration::from_secs(5), "t", None));
        assert!(!check("exit 3", Duration::from_secs(5), "t", None));
    }

    #[test]
    fn accounts_are_looked_up() {
        assert!(account(None, None).unwrap().is_none());
        let root = account(Some("root"), Some("0")).unwrap().unwrap();
        assert_eq!((root.uid, root.gid), (0, 0));
        assert!(account(Some("no-such-user-bgpinject"), None).is_err());
        assert!(account(None, Some("no-such-group-bgpinject")).is_err());
    }
}
