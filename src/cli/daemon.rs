//! Daemon conventions: `--daemon` (fork, new session, `/` as working directory, standard
//! descriptors on /dev/null) and `--user` (drop root after the listeners are bound).
//!
//! With `--daemon` the parent waits until the child reports that it started (listeners bound,
//! privileges dropped) and exits with the child's verdict, so an init script sees a startup
//! failure in the exit code instead of a daemon that dies a moment later.

use std::ffi::CString;
use std::fmt;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// The account named by `--user`, looked up before anything starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account {
    pub name: String,
    pub uid: libc::uid_t,
    pub gid: libc::gid_t,
}

#[derive(Debug)]
pub enum DaemonError {
    UnknownUser(String),
    Sys(&'static str, io::Error),
}

impl fmt::Display for DaemonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DaemonError::UnknownUser(u) => write!(f, "--user: no user named '{u}'"),
            DaemonError::Sys(what, e) => write!(f, "{what}: {e}"),
        }
    }
}

impl std::error::Error for DaemonError {}

fn check(what: &'static str, rc: libc::c_int) -> Result<(), DaemonError> {
    if rc < 0 {
        Err(DaemonError::Sys(what, io::Error::last_os_error()))
    } else {
        Ok(())
    }
}

/// Looks up `name` (or a numeric uid) in the user database.
pub fn lookup_user(name: &str) -> Result<Account, DaemonError> {
    let unknown = || DaemonError::UnknownUser(name.to_string());
    let c_name = CString::new(name).map_err(|_| unknown())?;
    // SAFETY: getpwnam/getpwuid return NULL or a pointer to static storage that stays valid
    // until the next call; the fields are copied out at once, before any thread is started.
    unsafe {
        let mut pw = libc::getpwnam(c_name.as_ptr());
        if pw.is_null()
            && let Ok(uid) = name.parse::<libc::uid_t>()
        {
            pw = libc::getpwuid(uid);
        }
        if pw.is_null() {
            return Err(unknown());
        }
        Ok(Account {
            name: name.to_string(),
            uid: (*pw).pw_uid,
            gid: (*pw).pw_gid,
        })
    }
}

/// Becomes `account`: supplementary groups reset to its primary group, then the group, then the
/// user (in that order: after setuid the others are no longer permitted). The C library applies
/// each change to every thread of the process. Checks that root cannot be regained.
pub fn drop_privileges(account: &Account) -> Result<(), DaemonError> {
    // SAFETY: plain system calls on integers and one valid array.
    unsafe {
        if libc::geteuid() == 0 {
            check("setgroups", libc::setgroups(1, &account.gid))?;
        }
        check("setgid", libc::setgid(account.gid))?;
        check("setuid", libc::setuid(account.uid))?;
        if account.uid != 0 && libc::setuid(0) == 0 {
            return Err(DaemonError::Sys(
                "setuid",
                io::Error::other("root could be regained after dropping privileges"),
            ));
        }
    }
    Ok(())
}

/// The account every helper and health-check command runs as (`--user`), set once before the
/// first program can start.
static PROGRAM_ACCOUNT: std::sync::OnceLock<Account> = std::sync::OnceLock::new();

/// Records the `--user` account for programs. Call before the manager starts: from then on no
/// program is ever started as root, even the first instances, which start before the daemon
/// itself drops root (the listeners on privileged ports are bound in between).
pub fn set_program_account(account: Account) {
    let _ = PROGRAM_ACCOUNT.set(account);
}

/// Whether `--user` was given: the daemon then gives up root (and CAP_NET_ADMIN) once its
/// listeners are bound.
pub fn program_account_set() -> bool {
    PROGRAM_ACCOUNT.get().is_some()
}

/// Makes `command` run as the `--user` account when one was given: the forked child sets its
/// groups (none), gid and uid before `exec`, and the program does not start if that fails.
pub fn run_as_program_account(command: &mut std::process::Command) {
    use std::os::unix::process::CommandExt;
    if let Some(a) = PROGRAM_ACCOUNT.get() {
        // With a uid set, std clears the supplementary groups (when root) then calls setgid and
        // setuid in the child, between fork and exec, failing the spawn on any error.
        command.uid(a.uid).gid(a.gid);
    }
}

/// The write end held by the daemon child: it tells the waiting parent how startup went.
pub struct StartupReport {
    fd: OwnedFd,
}

impl StartupReport {
    /// Startup succeeded: the parent exits 0. Also detaches stdin/stdout/stderr.
    pub fn success(self) {
        let _ = write_all(&self.fd, &[0]);
        redirect_std_to_null();
    }

    /// Startup failed with exit `code`: the parent exits with it.
    pub fn failure(self, code: u8) {
        let _ = write_all(&self.fd, &[code]);
    }
}

fn write_all(fd: &OwnedFd, bytes: &[u8]) -> io::Result<()> {
    // SAFETY: writes from a valid slice to an open descriptor.
    let n = unsafe { libc::write(fd.as_raw_fd(), bytes.as_ptr().cast(), bytes.len()) };
    if n == bytes.len() as isize {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

fn redirect_std_to_null() {
    // SAFETY: open/dup2/close on descriptors this process owns.
    unsafe {
        let null = libc::open(c"/dev/null".as_ptr(), libc::O_RDWR);
        if null >= 0 {
            for fd in 0..=2 {
                libc::dup2(null, fd);
            }
            if null > 2 {
                libc::close(null);
            }
        }
    }
}

/// Forks into the background. Must run before any thread is started (a fork copies only the
/// calling thread). Returns in the child only; the parent waits for the child's
/// [`StartupReport`] and exits with its code (3 when the child died without a word).
pub fn daemonize() -> Result<StartupReport, DaemonError> {
    let mut fds = [0; 2];
    // SAFETY: pipe2 fills the two-element array.
    check("pipe", unsafe {
        libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC)
    })?;
    // SAFETY: the descriptors were just created and are owned here.
    let (read_end, write_end) =
        unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    // SAFETY: single-threaded at this point (documented precondition).
    let pid = unsafe { libc::fork() };
    check("fork", pid)?;
    if pid > 0 {
        drop(write_end);
        let mut byte = [3u8];
        // SAFETY: reads one byte into a valid buffer; EOF (child died) leaves the 3.
        let n = unsafe { libc::read(read_end.as_raw_fd(), byte.as_mut_ptr().cast(), 1) };
        std::process::exit(if n == 1 { i32::from(byte[0]) } else { 3 });
    }
    drop(read_end);
    // SAFETY: plain system calls in the child.
    unsafe {
        check("setsid", libc::setsid())?;
        check("chdir /", libc::chdir(c"/".as_ptr()))?;
    }
    Ok(StartupReport { fd: write_end })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_and_numeric_users_resolve() {
        let root = lookup_user("root").unwrap();
        assert_eq!((root.uid, root.gid), (0, 0));
        assert_eq!(lookup_user("0").unwrap().uid, 0);
        assert!(matches!(
            lookup_user("no-such-user-bgpinject"),
            Err(DaemonError::UnknownUser(_))
        ));
    }
}
