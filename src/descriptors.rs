//! File descriptors: the soft `RLIMIT_NOFILE` raised to the hard limit at start, accept loops
//! that back off when descriptors run out instead of spinning, and log lines that say plainly
//! when descriptors are why something failed.
//!
//! When the process is out of descriptors, a pending connection stays in the listen queue and
//! `accept()` fails again at once: a loop that retries immediately burns a core and writes
//! hundreds of thousands of log lines a second. [`AcceptBackoff`] sleeps (5 ms doubling to
//! 1 s) after each failure and logs at most one line a second, with the count of failures it
//! did not log.

use std::io;
use std::time::{Duration, Instant};

use log::{debug, warn};

const BACKOFF_FIRST: Duration = Duration::from_millis(5);
const BACKOFF_MAX: Duration = Duration::from_secs(1);
/// At most one log line per accept loop in this interval.
const LOG_INTERVAL: Duration = Duration::from_secs(1);

/// Marks every descriptor above stderr that the process inherited close-on-exec, so that
/// helpers, health checks and hooks never receive them. A lock or a pipe the parent (a test
/// harness, a supervisor, `flock(1)`) left open would otherwise live on in a helper that
/// outlives the daemon. Called once at start, before the daemon opens anything itself (its
/// own descriptors are close-on-exec already).
pub fn close_inherited_on_exec() {
    const CLOSE_RANGE_CLOEXEC: libc::c_uint = 1 << 2;
    // SAFETY: close_range only changes descriptor flags of this process (Linux 5.11+).
    let r = unsafe { libc::syscall(libc::SYS_close_range, 3u32, u32::MAX, CLOSE_RANGE_CLOEXEC) };
    if r == 0 {
        return;
    }
    // Older kernels: each open descriptor listed in /proc/self/fd. The listing's own
    // descriptor is close-on-exec already.
    let Ok(dir) = std::fs::read_dir("/proc/self/fd") else {
        return;
    };
    let fds: Vec<libc::c_int> = dir
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .filter(|fd| *fd > 2)
        .collect();
    for fd in fds {
        // SAFETY: fcntl on a descriptor number; an fd closed meanwhile gives EBADF, ignored.
        unsafe {
            let flags = libc::fcntl(fd, libc::F_GETFD);
            if flags >= 0 {
                libc::fcntl(fd, libc::F_SETFD, flags | libc::FD_CLOEXEC);
            }
        }
    }
}

/// Raises the soft limit on open descriptors to the hard limit (systemd and most shells start
/// services at a soft 1024, which a few hundred neighbors and their helpers exceed). Returns
/// the limit in force.
pub fn raise_limit() -> Option<libc::rlim_t> {
    let mut lim = limits()?;
    // SAFETY: setrlimit with a valid struct.
    unsafe {
        if lim.rlim_cur < lim.rlim_max {
            let raised = libc::rlimit {
                rlim_cur: lim.rlim_max,
                rlim_max: lim.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                debug!(
                    "open file limit raised from {} to {}",
                    lim.rlim_cur, lim.rlim_max
                );
                lim.rlim_cur = lim.rlim_max;
            }
        }
    }
    Some(lim.rlim_cur)
}

fn limits() -> Option<libc::rlimit> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit with a valid struct.
    (unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } == 0).then_some(lim)
}

/// Whether `e` means the process or the system is out of descriptors.
pub fn is_exhaustion(e: &io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::EMFILE) | Some(libc::ENFILE))
}

/// `e`, followed by a plain explanation when descriptors ran out.
pub fn explain(e: &io::Error) -> String {
    match e.raw_os_error() {
        Some(libc::EMFILE) => format!(
            "{e}: out of file descriptors ({} open, limit {}); raise LimitNOFILE= in the unit or `ulimit -n`",
            open_count().map_or("?".into(), |n| n.to_string()),
            limits().map_or("?".into(), |l| l.rlim_cur.to_string()),
        ),
        Some(libc::ENFILE) => format!("{e}: the system is out of file descriptors (fs.file-max)"),
        _ => e.to_string(),
    }
}

fn open_count() -> Option<usize> {
    Some(std::fs::read_dir("/proc/self/fd").ok()?.count())
}

/// The back-off and log rate of one accept loop.
#[derive(Debug)]
pub struct AcceptBackoff {
    what: String,
    delay: Duration,
    last_log: Option<Instant>,
    unlogged: u64,
}

impl AcceptBackoff {
    /// `what` names the loop in log lines ("listener 0.0.0.0:179").
    pub fn new(what: impl Into<String>) -> AcceptBackoff {
        AcceptBackoff {
            what: what.into(),
            delay: BACKOFF_FIRST,
            last_log: None,
            unlogged: 0,
        }
    }

    /// An accept succeeded: the next failure starts the back-off afresh.
    pub fn succeeded(&mut self) {
        self.delay = BACKOFF_FIRST;
    }

    /// An accept failed: logs (at a bounded rate) and sleeps before the next try.
    pub fn failed(&mut self, e: &io::Error) {
        let now = Instant::now();
        if self
            .last_log
            .is_none_or(|t| now.duration_since(t) >= LOG_INTERVAL)
        {
            let more = match self.unlogged {
                0 => String::new(),
                n => format!(" ({n} more failures since the last report)"),
            };
            warn!(
                "{}: accept failed: {}; retrying in {} ms{more}",
                self.what,
                explain(e),
                self.delay.as_millis()
            );
            self.last_log = Some(now);
            self.unlogged = 0;
        } else {
            self.unlogged += 1;
        }
        std::thread::sleep(self.delay);
        self.delay = (self.delay * 2).min(BACKOFF_MAX);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_delay_doubles_to_its_cap_and_resets_after_a_success() {
        let mut b = AcceptBackoff::new("test");
        let e = io::Error::from_raw_os_error(libc::EMFILE);
        assert!(is_exhaustion(&e));
        assert!(explain(&e).contains("out of file descriptors"));
        for _ in 0..3 {
            b.failed(&e);
        }
        assert_eq!(b.delay, BACKOFF_FIRST * 8);
        assert_eq!(b.unlogged, 2);
        b.delay = BACKOFF_MAX;
        b.delay = (b.delay * 2).min(BACKOFF_MAX);
        assert_eq!(b.delay, BACKOFF_MAX);
        b.succeeded();
        assert_eq!(b.delay, BACKOFF_FIRST);
    }
}
