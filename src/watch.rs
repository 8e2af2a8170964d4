//! `--watch`: polls the configuration file, every file it includes and every directory an
//! include glob is matched in, and applies the configuration when it is complete:
//!
//! 1. something changed (inode, size or mtime; a file renamed into place is a new inode, a file
//!    added to or removed from a glob directory changes the directory's mtime);
//! 2. it is stable: unchanged for one whole poll;
//! 3. no process has any of the files open for writing (a read lease, `F_SETLEASE`, can be
//!    taken only on a file nobody writes to). Where that cannot be told (e.g. running as
//!    `--user` on files of another owner), it must instead be stable for four polls (1 s);
//! 4. it parses. A file that does not is logged once per change and not applied; the running
//!    configuration stays.
//!
//! The reload is SIGHUP's: the manager reads what changed, with the parse cache (only the
//! changed files of routes are parsed; nothing when only mtimes changed), else the whole
//! configuration, and answers what it did. A writer that wants to be safe everywhere writes a
//! temporary file and renames it into place, as `conf/cron/update-routes.sh` does.
//!
//! The set of files follows the configuration: a path new to the set counts as changed, so a
//! file included while the reload was under way is never missed; at worst that costs one
//! reload that changes nothing. While the file does not parse, the set is kept and the main
//! file stays watched, so fixing it triggers the next reload.

use std::collections::HashMap;
use std::os::fd::AsRawFd;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crossbeam_channel::Sender;
use log::{debug, warn};

use crate::events::ManagerEvent;
use crate::events::Reloaded;

pub const POLL: Duration = Duration::from_millis(250);

/// `F_SETSIG` of Linux's `<fcntl.h>` (the same on every architecture), absent from `libc`.
const F_SETSIG: libc::c_int = 10;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Fingerprint {
    inode: u64,
    len: u64,
    mtime_ns: i128,
    is_file: bool,
}

fn fingerprint(path: &PathBuf) -> Option<Fingerprint> {
    let m = std::fs::metadata(path).ok()?;
    Some(Fingerprint {
        inode: m.ino(),
        len: m.len(),
        mtime_ns: m.mtime() as i128 * 1_000_000_000 + m.mtime_nsec() as i128,
        is_file: m.is_file(),
    })
}

/// Whether some process has a file open for writing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Writers {
    None,
    Some,
    /// Cannot be told: not the file's owner without `CAP_LEASE` (`--user` on root's files), a
    /// file system without leases, not a regular file.
    Unknown,
}

/// Polls a change must be stable for when writers cannot be seen (1 s), rather than one.
const STABLE_POLLS_BLIND: u32 = 4;

/// Whether a process has `path` open for writing: a read lease is refused (`EAGAIN`) exactly
/// then.
fn writers(path: &Path) -> Writers {
    let Ok(file) = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
    else {
        return Writers::Unknown;
    };
    if !file.metadata().is_ok_and(|m| m.is_file()) {
        return Writers::Unknown;
    }
    let fd = file.as_raw_fd();
    // SAFETY: fcntl(2) on a descriptor owned by `file`. A writer that opens the file during
    // the moment the lease is held breaks it, which signals this process: the signal is set to
    // SIGURG first, whose default action is to ignore it (SIGIO's would end the process).
    unsafe {
        if libc::fcntl(fd, F_SETSIG, libc::SIGURG) != 0 {
            return Writers::Unknown;
        }
        if libc::fcntl(fd, libc::F_SETLEASE, libc::F_RDLCK) == 0 {
            libc::fcntl(fd, libc::F_SETLEASE, libc::F_UNLCK);
            return Writers::None;
        }
    }
    match std::io::Error::last_os_error().raw_os_error() {
        Some(libc::EAGAIN) => Writers::Some,
        _ => Writers::Unknown,
    }
}

/// Starts the watcher thread for `config` (read from `sources`, main file first). It ends
/// when the manager's channel closes.
pub fn spawn(sources: Vec<PathBuf>, events: Sender<ManagerEvent>) {
    let spawned = std::thread::Builder::new()
        .name("watch".into())
        .spawn(move || watch(sources, &events));
    if let Err(e) = spawned {
        warn!("--watch: cannot start the watcher thread: {e}");
    }
}

fn watch(sources: Vec<PathBuf>, events: &Sender<ManagerEvent>) {
    let mut paths = sources;
    let mut applied: HashMap<PathBuf, Option<Fingerprint>> =
        paths.iter().map(|p| (p.clone(), fingerprint(p))).collect();
    let mut last_seen: Vec<Option<Fingerprint>> = paths.iter().map(|p| applied[p]).collect();
    // The state of the files that last failed to parse (not parsed again until it changes).
    let mut refused: Option<Vec<Option<Fingerprint>>> = None;
    let mut writer_reported = false;
    // Consecutive polls without a change.
    let mut stable_polls = 0u32;
    loop {
        std::thread::sleep(POLL);
        let now: Vec<Option<Fingerprint>> = paths.iter().map(fingerprint).collect();
        let changed = paths
            .iter()
            .zip(&now)
            .any(|(p, f)| applied.get(p) != Some(f));
        // The main file may be missing for a moment while an editor replaces it.
        if now == last_seen && now.first().is_some_and(Option::is_some) {
            stable_polls = stable_polls.saturating_add(1);
        } else {
            stable_polls = 0;
        }
        last_seen = now.clone();
        if !changed || stable_polls == 0 || refused.as_ref() == Some(&now) {
            continue;
        }
        let mut blind = false;
        let mut writing = None;
        let files = paths
            .iter()
            .zip(&now)
            .filter(|(_, f)| f.is_some_and(|f| f.is_file));
        for (p, _) in files {
            match writers(p) {
                Writers::Some => {
                    writing = Some(p);
                    break;
                }
                Writers::Unknown => blind = true,
                Writers::None => {}
            }
        }
        if writing.is_none() && blind && stable_polls < STABLE_POLLS_BLIND {
            continue;
        }
        if let Some(p) = writing {
            if !writer_reported {
                debug!(
                    "--watch: {} is still open for writing; waiting",
                    p.display()
                );
                writer_reported = true;
            }
            continue;
        }
        writer_reported = false;
        debug!("configuration changed on disk: reloading");
        let (tx, rx) = crossbeam_channel::bounded(1);
        if events.send(ManagerEvent::ReloadWatched(tx)).is_err() {
            return;
        }
        // A file written to while it was read shows a new fingerprint at the next poll, and
        // is read again then (the reload applied what it read, or refused it).
        let next = match rx.recv() {
            Ok(Reloaded::Files) => None,
            Ok(Reloaded::Whole(sources)) => Some(sources),
            Ok(Reloaded::Refused(e)) => {
                warn!("--watch: not applied, keeping the running configuration: {e}");
                refused = Some(now);
                continue;
            }
            // The manager stopped.
            Err(_) => return,
        };
        refused = None;
        applied = paths.iter().cloned().zip(now.iter().copied()).collect();
        if let Some(next) = next
            && next != paths
        {
            debug!("--watch: now watching {} files and directories", next.len());
            paths = next;
        }
        last_seen = paths
            .iter()
            .map(|p| applied.get(p).copied().flatten())
            .collect();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn a_file_open_for_writing_is_seen_and_a_closed_one_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("routes.inc");
        let mut w = std::fs::File::create(&path).unwrap();
        w.write_all(b"route 192.0.2.0/24 next-hop 192.0.2.1;\n")
            .unwrap();
        // Leases need the file's owner or CAP_LEASE, which the test process has.
        assert_eq!(writers(&path), Writers::Some);
        drop(w);
        assert_eq!(writers(&path), Writers::None);
        // Open for reading only does not count.
        let _r = std::fs::File::open(&path).unwrap();
        assert_eq!(writers(&path), Writers::None);
        assert_eq!(writers(dir.path()), Writers::Unknown);
    }
}
