//! `--watch`: polls the configuration file, every file it includes and every directory an
//! include glob is matched in, and asks for a reload when one changed and has been stable
//! for one poll (so a file being written is not read half-way; a file renamed into place is
//! seen as a change of inode; a file added to or removed from a glob directory changes the
//! directory's mtime).
//!
//! The set of files follows the configuration: after each reload it asks for, the watcher
//! loads the configuration itself to learn its new [`Config::sources`](crate::config::Config)
//! (a second parse, only when something changed). A path new to the set counts as changed,
//! so a file included while the reload was under way is never missed; at worst that costs
//! one reload that changes nothing. When the file does not parse, the set is kept and the
//! main file stays watched, so fixing it triggers the next reload.

use std::collections::HashMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
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

/// Starts the watcher thread for `config` (read from `sources`, main file first). It ends
/// when the manager's channel closes.
pub fn spawn(config: PathBuf, sources: Vec<PathBuf>, events: Sender<ManagerEvent>) {
    let spawned = std::thread::Builder::new()
        .name("watch".into())
        .spawn(move || {
            let mut paths = sources;
            let mut applied: HashMap<PathBuf, Option<Fingerprint>> =
                paths.iter().map(|p| (p.clone(), fingerprint(p))).collect();
            let mut last_seen: Vec<Option<Fingerprint>> =
                paths.iter().map(|p| applied[p]).collect();
            loop {
                std::thread::sleep(POLL);
                let now: Vec<Option<Fingerprint>> = paths.iter().map(fingerprint).collect();
                let changed = paths
                    .iter()
                    .zip(&now)
                    .any(|(p, f)| applied.get(p) != Some(f));
                // The main file may be missing for a moment while an editor replaces it.
                if changed && now == last_seen && now.first().is_some_and(Option::is_some) {
                    debug!("configuration changed on disk: reloading");
                    if events.send(ManagerEvent::Reload).is_err() {
                        return;
                    }
                    applied = paths.iter().cloned().zip(now.iter().copied()).collect();
                    paths = current_sources(&config, paths);
                    last_seen = paths
                        .iter()
                        .map(|p| applied.get(p).copied().flatten())
                        .collect();
                    continue;
                }
                last_seen = now;
            }
        });
    if let Err(e) = spawned {
        warn!("--watch: cannot start the watcher thread: {e}");
    }
}

/// The files `config` is built from now; `previous` when it does not load.
fn current_sources(config: &Path, previous: Vec<PathBuf>) -> Vec<PathBuf> {
    match crate::config::load(config) {
        Ok(c) => {
            if c.sources != previous {
                debug!(
                    "--watch: now watching {} files and directories",
                    c.sources.len()
                );
            }
            c.sources
        }
        Err(_) => previous,
    }
}
