//! `--watch`: polls the configuration file and asks for a reload when it changed and has
//! been stable for one poll (so a file being written is not read half-way; a file renamed
//! into place is seen as a change of inode).

use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::time::Duration;

use crossbeam_channel::Sender;
use log::{debug, warn};

use crate::manager::ManagerEvent;

pub const POLL: Duration = Duration::from_millis(250);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Fingerprint {
    inode: u64,
    len: u64,
    mtime_ns: i128,
}

fn fingerprint(path: &PathBuf) -> Option<Fingerprint> {
    let m = std::fs::metadata(path).ok()?;
    Some(Fingerprint {
        inode: m.ino(),
        len: m.len(),
        mtime_ns: m.mtime() as i128 * 1_000_000_000 + m.mtime_nsec() as i128,
    })
}

/// Starts the watcher thread. It ends when the manager's channel closes.
pub fn spawn(paths: Vec<PathBuf>, events: Sender<ManagerEvent>) {
    let spawned = std::thread::Builder::new()
        .name("watch".into())
        .spawn(move || {
            let mut applied: Vec<Option<Fingerprint>> = paths.iter().map(fingerprint).collect();
            let mut last_seen = applied.clone();
            loop {
                std::thread::sleep(POLL);
                let now: Vec<Option<Fingerprint>> = paths.iter().map(fingerprint).collect();
                if now != applied && now == last_seen && now.iter().all(Option::is_some) {
                    debug!("configuration changed on disk: reloading");
                    if events.send(ManagerEvent::Reload).is_err() {
                        return;
                    }
                    applied = now.clone();
                }
                last_seen = now;
            }
        });
    if let Err(e) = spawned {
        warn!("--watch: cannot start the watcher thread: {e}");
    }
}
