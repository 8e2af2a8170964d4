//! `--pid-file`: written at start, refused when it names a live process, removed at exit;
//! `--reload` reads it to send SIGHUP.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

#[derive(Debug)]
pub enum PidFileError {
    /// The file names a process that is running.
    Running(PathBuf, i32),
    Io(PathBuf, io::Error),
    /// The file does not hold a process id.
    Garbled(PathBuf),
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
        }
    }
}

/// The pid file of this process; removed when dropped.
pub struct PidFile {
    path: PathBuf,
}

/// Whether process `pid` exists (signal 0 checks without sending anything).
pub fn is_alive(pid: i32) -> bool {
    // SAFETY: kill with signal 0 performs only the permission and existence check.
    pid > 0 && unsafe { libc::kill(pid, 0) } == 0
}

pub fn read(path: &Path) -> Result<i32, PidFileError> {
    let text = std::fs::read_to_string(path).map_err(|e| PidFileError::Io(path.into(), e))?;
    text.trim()
        .parse()
        .map_err(|_| PidFileError::Garbled(path.into()))
}

impl PidFile {
    pub fn create(path: &Path) -> Result<PidFile, PidFileError> {
        if let Ok(pid) = read(path)
            && is_alive(pid)
            && pid != std::process::id() as i32
        {
            return Err(PidFileError::Running(path.into(), pid));
        }
        std::fs::write(path, format!("{}\n", std::process::id()))
            .map_err(|e| PidFileError::Io(path.into(), e))?;
        Ok(PidFile { path: path.into() })
    }
}

impl Drop for PidFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Sends SIGHUP to the process named in `path`.
pub fn signal_reload(path: &Path) -> Result<i32, PidFileError> {
    let pid = read(path)?;
    // SAFETY: plain kill(2) on a pid read from the file.
    if pid <= 0 || unsafe { libc::kill(pid, libc::SIGHUP) } != 0 {
        return Err(PidFileError::Io(path.into(), io::Error::last_os_error()));
    }
    Ok(pid)
}
