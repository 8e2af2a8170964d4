//! `--pid-file`: a file holding the daemon's process id, locked (`flock`) for the daemon's life.
//!
//! The lock, not the number, says whether a bgpinject is running: a pid left behind by a crash
//! may name an unrelated process by now. So a start refuses only a file that another live
//! process holds locked, and `--reload` signals only the process that holds the lock.
//!
//! The pid directory may belong to the service user (OpenRC's layout), so a root daemon never
//! writes into an existing file there: the new file is created under a temporary name with
//! `O_CREAT|O_EXCL|O_NOFOLLOW`, locked, written, then renamed over the path. A symlink or hard
//! link planted at the path is replaced, never followed.

use std::ffi::CString;
use std::fmt;
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, FromRawFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

#[derive(Debug)]
pub enum PidFileError {
    /// The file is locked by a running bgpinject with this process id.
    Running(PathBuf, i32),
    Io(PathBuf, io::Error),
    /// The file does not hold a process id.
    Garbled(PathBuf),
    /// The file exists but no running bgpinject holds it (left behind by a crash).
    Stale(PathBuf, Option<i32>),
    /// Not a regular file (a FIFO, a device, a directory, a symlink).
    NotRegular(PathBuf),
}

impl fmt::Display for PidFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PidFileError::Running(p, pid) => write!(
                f,
                "{}: bgpinject is already running as process {pid}",
                p.display()
            ),
            PidFileError::Io(p, e) => write!(f, "{}: {e}", p.display()),
            PidFileError::Garbled(p) => write!(f, "{}: does not contain a process id", p.display()),
            PidFileError::Stale(p, Some(pid)) => write!(
                f,
                "{}: stale pid file: process {pid} is not a running bgpinject (the file is not locked); nothing signalled",
                p.display()
            ),
            PidFileError::Stale(p, None) => write!(
                f,
                "{}: stale pid file: no running bgpinject holds it; nothing signalled",
                p.display()
            ),
            PidFileError::NotRegular(p) => write!(
                f,
                "{}: not a regular file (a symlink, FIFO or device is never used as a pid file)",
                p.display()
            ),
        }
    }
}

/// The pid file of this process: locked while it lives, removed when dropped (if the path
/// still names it).
pub struct PidFile {
    path: PathBuf,
    file: File,
}

fn c_path(path: &Path) -> Result<CString, PidFileError> {
    CString::new(path.as_os_str().as_bytes())
        .map_err(|_| PidFileError::Io(path.into(), io::ErrorKind::InvalidInput.into()))
}

/// Opens an existing pid file for reading without following a symlink and without blocking
/// on a FIFO; refuses anything but a regular file. `Ok(None)` when there is no file.
fn open_existing(path: &Path) -> Result<Option<File>, PidFileError> {
    let c = c_path(path)?;
    // SAFETY: open(2) with a valid NUL-terminated path; the descriptor is owned by the File.
    let fd = unsafe {
        libc::open(
            c.as_ptr(),
            libc::O_RDONLY | libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC | libc::O_NOCTTY,
        )
    };
    if fd < 0 {
        let e = io::Error::last_os_error();
        return match e.raw_os_error() {
            Some(libc::ENOENT) => Ok(None),
            Some(libc::ELOOP) => Err(PidFileError::NotRegular(path.into())),
            _ => Err(PidFileError::Io(path.into(), e)),
        };
    }
    // SAFETY: fd was just opened and is owned by nobody else.
    let file = unsafe { File::from_raw_fd(fd) };
    let meta = file
        .metadata()
        .map_err(|e| PidFileError::Io(path.into(), e))?;
    if !meta.file_type().is_file() {
        return Err(PidFileError::NotRegular(path.into()));
    }
    Ok(Some(file))
}

/// Tries a shared lock without waiting: `Ok(true)` when taken (nobody holds the file).
fn try_lock(file: &File, operation: libc::c_int) -> io::Result<bool> {
    // SAFETY: flock(2) on an open descriptor.
    if unsafe { libc::flock(file.as_raw_fd(), operation | libc::LOCK_NB) } == 0 {
        return Ok(true);
    }
    let e = io::Error::last_os_error();
    if e.raw_os_error() == Some(libc::EWOULDBLOCK) {
        Ok(false)
    } else {
        Err(e)
    }
}

/// The process id in an open pid file (at most 32 bytes read).
fn read_pid(path: &Path, file: &File) -> Result<i32, PidFileError> {
    let mut text = String::new();
    let _ = file.take(32).read_to_string(&mut text);
    text.trim()
        .parse()
        .ok()
        .filter(|&pid| pid > 0)
        .ok_or_else(|| PidFileError::Garbled(path.into()))
}

/// Whether `/proc/locks` shows process `pid` holding a `flock` on the inode of `file`. When
/// `/proc` cannot be read, the lock alone is trusted.
fn lock_holder_is(file: &File, pid: i32) -> bool {
    let Ok(meta) = file.metadata() else {
        return false;
    };
    let Ok(locks) = std::fs::read_to_string("/proc/locks") else {
        return true;
    };
    let ino = meta.ino().to_string();
    locks.lines().any(|l| {
        let f: Vec<&str> = l.split_whitespace().collect();
        // "1: FLOCK  ADVISORY  WRITE 1234 08:01:5678 0 EOF"
        f.get(1) == Some(&"FLOCK")
            && f.get(4).and_then(|p| p.parse::<i32>().ok()) == Some(pid)
            && f.get(5).and_then(|d| d.rsplit(':').next()) == Some(ino.as_str())
    })
}

/// The process id of the running bgpinject that holds the pid file at `path`.
pub fn running_pid(path: &Path) -> Result<i32, PidFileError> {
    let Some(file) = open_existing(path)? else {
        return Err(PidFileError::Io(
            path.into(),
            io::ErrorKind::NotFound.into(),
        ));
    };
    let pid = read_pid(path, &file);
    if try_lock(&file, libc::LOCK_SH).map_err(|e| PidFileError::Io(path.into(), e))? {
        return Err(PidFileError::Stale(path.into(), pid.ok()));
    }
    let pid = pid?;
    if !lock_holder_is(&file, pid) {
        return Err(PidFileError::Stale(path.into(), Some(pid)));
    }
    Ok(pid)
}

impl PidFile {
    /// Creates, locks and writes the pid file; refused when a running bgpinject holds it.
    pub fn create(path: &Path) -> Result<PidFile, PidFileError> {
        // Anything but a regular file (a planted symlink) is replaced by the rename below.
        let existing = match open_existing(path) {
            Err(PidFileError::NotRegular(_)) => None,
            other => other?,
        };
        if let Some(existing) = existing
            && !try_lock(&existing, libc::LOCK_SH).map_err(|e| PidFileError::Io(path.into(), e))?
        {
            let pid = read_pid(path, &existing).unwrap_or(0);
            return Err(PidFileError::Running(path.into(), pid));
        }
        let me = std::process::id();
        let mut name = path.file_name().unwrap_or_default().to_os_string();
        name.push(format!(".{me}.tmp"));
        let temp = path.with_file_name(name);
        let file = create_exclusive(&temp)?;
        let written = (|| {
            if !try_lock(&file, libc::LOCK_EX)? {
                return Err(io::Error::other("cannot lock the new pid file"));
            }
            (&file).write_all(format!("{me}\n").as_bytes())?;
            std::fs::rename(&temp, path)
        })();
        if let Err(e) = written {
            let _ = std::fs::remove_file(&temp);
            return Err(PidFileError::Io(path.into(), e));
        }
        Ok(PidFile {
            path: path.into(),
            file,
        })
    }
}

/// A new file at `path`, mode 0644; fails when anything (a symlink included) is there.
fn create_exclusive(path: &Path) -> Result<File, PidFileError> {
    let c = c_path(path)?;
    // A temporary name left by an earlier crash of a process with our pid.
    let _ = std::fs::remove_file(path);
    // SAFETY: open(2) with a valid NUL-terminated path; the descriptor is owned by the File.
    let fd = unsafe {
        libc::open(
            c.as_ptr(),
            libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL | libc::O_NOFOLLOW | libc::O_CLOEXEC,
            0o644 as libc::c_uint,
        )
    };
    if fd < 0 {
        return Err(PidFileError::Io(path.into(), io::Error::last_os_error()));
    }
    // SAFETY: fd was just opened and is owned by nobody else.
    Ok(unsafe { File::from_raw_fd(fd) })
}

impl Drop for PidFile {
    fn drop(&mut self) {
        // Only our own file: a later bgpinject may have replaced it.
        let ours = match (std::fs::symlink_metadata(&self.path), self.file.metadata()) {
            (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
            _ => false,
        };
        if ours {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Sends SIGHUP to the running bgpinject that holds the pid file at `path`; a process named
/// by a stale file is never signalled.
pub fn signal_reload(path: &Path) -> Result<i32, PidFileError> {
    let pid = running_pid(path)?;
    // SAFETY: plain kill(2) on the pid of the process that holds the pid file's lock.
    if unsafe { libc::kill(pid, libc::SIGHUP) } != 0 {
        return Err(PidFileError::Io(path.into(), io::Error::last_os_error()));
    }
    Ok(pid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_this_process_holds_is_running_and_a_stale_one_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("b.pid");
        std::fs::write(&path, "1\n").unwrap();
        assert!(matches!(
            running_pid(&path),
            Err(PidFileError::Stale(_, Some(1)))
        ));
        let held = PidFile::create(&path).unwrap();
        assert_eq!(running_pid(&path).unwrap(), std::process::id() as i32);
        assert!(matches!(
            PidFile::create(&path),
            Err(PidFileError::Running(_, _))
        ));
        drop(held);
        assert!(!path.exists());
    }

    #[test]
    fn a_symlink_at_the_path_is_replaced_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("target");
        std::fs::write(&target, "precious").unwrap();
        let path = dir.path().join("b.pid");
        std::os::unix::fs::symlink(&target, &path).unwrap();
        assert!(matches!(
            running_pid(&path),
            Err(PidFileError::NotRegular(_))
        ));
        let held = PidFile::create(&path).unwrap();
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "precious");
        assert!(std::fs::symlink_metadata(&path).unwrap().is_file());
        drop(held);
    }
}
