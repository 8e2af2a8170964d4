//! The state file (`state-file PATH;`): the routes of helpers and of the control socket, per
//! neighbor, the routes of watchdog groups with their state, and the last state of each
//! health check, journaled so that a restart inside the peers' graceful restart window
//! announces them again before End-of-RIB, and keeps withdrawn what a watchdog withdrew.
//!
//! Format, one record a line (text, so that an operator can read it):
//! ```text
//! bgpinject-state 2
//! check NAME up|down
//! route NEIGHBOR control|process:NAME ROUTE-AS-THE-API-WRITES-IT
//! announce NEIGHBOR control|process:NAME FAMILY-ROUTE-OR-FLOW-AS-THE-COMMAND-WROTE-IT
//! watchdog NEIGHBOR control|process:NAME|config GROUP announced|withdrawn ANNOUNCE-TEXT
//! end RECORDS
//! ```
//! `announce` holds what followed `announce` in the command (`evpn ...`, `ipv4 mup ...`,
//! `flow route { ... }`); `watchdog` holds one member of a group (`route ...` or such a text)
//! and whether it is announced; `config` is a route of the configuration file, of which only
//! the state is taken. Version 1 files (`check` and `route` only) still load.
//! The `end` line, with the count of records, tells a complete file from a truncated one.
//! Written to a new temporary file in the same directory, synced, then renamed over PATH:
//! a reader sees the old file or the new one, and a symlink at PATH is replaced, never
//! followed. A file that is not a regular file, is larger than [`MAX_SIZE`], or does not
//! parse in full is refused whole, with one log line, and bgpinject starts without it.

use std::collections::BTreeMap;
use std::fs::{self, OpenOptions};
use std::io::{self, Read, Write};
use std::net::IpAddr;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use log::{info, warn};

use crate::api::Source;

const MAGIC: &str = "bgpinject-state 2";
/// Version 1: `check` and `route` records only.
const MAGIC_V1: &str = "bgpinject-state 1";
/// Far above any real journal (a million routes is about 60 MB of text; bgpinject's
/// programs announce thousands), and small enough to read at start without a second thought.
pub const MAX_SIZE: u64 = 16 << 20;

/// One route of a watchdog group, with its state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SavedMember {
    pub addr: IpAddr,
    /// `Source::Watchdog` for the configuration's routes.
    pub source: Source,
    pub group: String,
    pub announced: bool,
    /// What follows `announce` for this route (`route 10.0.0.0/24 next-hop ...`).
    pub text: String,
}

/// What a state file holds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SavedState {
    /// Health check name -> was up.
    pub checks: BTreeMap<String, bool>,
    /// Neighbor, source (a process or the control socket), the route in API text.
    pub routes: Vec<(IpAddr, Source, String)>,
    /// Neighbor, source, what followed `announce` (family routes and flow rules).
    pub announced: Vec<(IpAddr, Source, String)>,
    /// The routes of watchdog groups.
    pub watchdogs: Vec<SavedMember>,
}

fn source_word(s: &Source) -> Option<String> {
    match s {
        Source::Control => Some("control".into()),
        Source::Watchdog => Some("config".into()),
        Source::Process(n) if !n.is_empty() && !n.contains(char::is_whitespace) => {
            Some(format!("process:{n}"))
        }
        _ => None,
    }
}

fn parse_source(w: &str) -> Option<Source> {
    match w {
        "control" => Some(Source::Control),
        _ => w
            .strip_prefix("process:")
            .filter(|n| !n.is_empty())
            .map(|n| Source::Process(n.to_string())),
    }
}

/// A word of a record that a space or a line break would split.
fn one_word(w: &str) -> bool {
    !w.is_empty() && !w.contains(char::is_whitespace)
}

pub fn encode(state: &SavedState) -> String {
    let mut out = format!("{MAGIC}\n");
    let mut records = 0usize;
    for (name, up) in &state.checks {
        if !one_word(name) {
            continue;
        }
        out.push_str(&format!(
            "check {name} {}\n",
            if *up { "up" } else { "down" }
        ));
        records += 1;
    }
    let lists = [("route", &state.routes), ("announce", &state.announced)];
    for (kind, list) in lists {
        for (addr, source, text) in list {
            let Some(source) = source_word(source).filter(|_| *source != Source::Watchdog) else {
                continue;
            };
            if text.contains('\n') || text.trim().is_empty() {
                continue;
            }
            out.push_str(&format!("{kind} {addr} {source} {text}\n"));
            records += 1;
        }
    }
    for m in &state.watchdogs {
        let Some(source) = source_word(&m.source) else {
            continue;
        };
        if !one_word(&m.group) || m.text.contains('\n') || m.text.trim().is_empty() {
            continue;
        }
        let st = if m.announced {
            "announced"
        } else {
            "withdrawn"
        };
        out.push_str(&format!(
            "watchdog {} {source} {} {st} {}\n",
            m.addr, m.group, m.text
        ));
        records += 1;
    }
    out.push_str(&format!("end {records}\n"));
    out
}

/// `NEIGHBOR SOURCE TEXT` of a `route` or `announce` record.
fn route_record(rest: &str, n: usize) -> Result<(IpAddr, Source, String), String> {
    let mut parts = rest.splitn(3, ' ');
    let addr = neighbor_field(parts.next(), n)?;
    let source = parts
        .next()
        .and_then(parse_source)
        .ok_or(format!("line {n}: bad source"))?;
    let route = route_field(parts.next(), n)?;
    Ok((addr, source, route.to_string()))
}

/// The neighbor address that begins a `route`, `announce` or `watchdog` record.
fn neighbor_field(word: Option<&str>, n: usize) -> Result<IpAddr, String> {
    word.and_then(|a| a.parse().ok())
        .ok_or(format!("line {n}: bad neighbor address"))
}

/// The route text that ends a record: not empty.
fn route_field(text: Option<&str>, n: usize) -> Result<&str, String> {
    text.filter(|r| !r.trim().is_empty())
        .ok_or(format!("line {n}: no route"))
}

/// `NEIGHBOR SOURCE GROUP announced|withdrawn TEXT` of a `watchdog` record.
fn watchdog_record(rest: &str, n: usize) -> Result<SavedMember, String> {
    let mut parts = rest.splitn(5, ' ');
    let addr = neighbor_field(parts.next(), n)?;
    let source = parts
        .next()
        .and_then(|w| match w {
            "config" => Some(Source::Watchdog),
            w => parse_source(w),
        })
        .ok_or(format!("line {n}: bad source"))?;
    let group = parts
        .next()
        .filter(|g| crate::config::api_command::check_watchdog_name(g).is_ok())
        .ok_or(format!("line {n}: bad watchdog name"))?;
    let announced = match parts.next() {
        Some("announced") => true,
        Some("withdrawn") => false,
        _ => return Err(format!("line {n}: bad watchdog state")),
    };
    let text = route_field(parts.next(), n)?;
    Ok(SavedMember {
        addr,
        source,
        group: group.to_string(),
        announced,
        text: text.to_string(),
    })
}

/// Parses a whole file; the error says what is wrong and on which line.
pub fn decode(text: &str) -> Result<SavedState, String> {
    if text.starts_with("bgpinject-state ") && !text.ends_with('\n') {
        return Err("truncated (the last line is not complete)".into());
    }
    let mut lines = text.split('\n').enumerate();
    let v1 = match lines.next() {
        Some((_, l)) if l == MAGIC => false,
        Some((_, l)) if l == MAGIC_V1 => true,
        Some((_, l)) if l.starts_with("bgpinject-state ") => {
            return Err(format!("unsupported version '{}'", l.trim()));
        }
        _ => return Err("not a bgpinject state file (first line)".into()),
    };
    let mut state = SavedState::default();
    let mut records = 0usize;
    for (i, line) in lines {
        let n = i + 1;
        let (kind, rest) = line.split_once(' ').unwrap_or((line, ""));
        match kind {
            "check" => {
                let (name, s) = rest.split_once(' ').ok_or(format!("line {n}: bad check"))?;
                let up = match s {
                    "up" => true,
                    "down" => false,
                    _ => return Err(format!("line {n}: bad check state")),
                };
                state.checks.insert(name.to_string(), up);
                records += 1;
            }
            "route" => {
                state.routes.push(route_record(rest, n)?);
                records += 1;
            }
            "announce" if !v1 => {
                state.announced.push(route_record(rest, n)?);
                records += 1;
            }
            "watchdog" if !v1 => {
                state.watchdogs.push(watchdog_record(rest, n)?);
                records += 1;
            }
            "end" => {
                if rest.parse::<usize>().ok() != Some(records) {
                    return Err(format!("line {n}: record count does not match"));
                }
                return Ok(state);
            }
            _ => return Err(format!("line {n}: unknown record")),
        }
    }
    Err("truncated (no end line)".into())
}

/// Reads the state file at start; `None` (after one log line) when there is none or it is
/// refused.
pub fn load(path: &Path) -> Option<SavedState> {
    let refused = |why: String| {
        warn!(
            "state file {}: {why}: refused, starting without it",
            path.display()
        );
        None
    };
    let meta = match fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            info!(
                "state file {}: none yet, starting without it",
                path.display()
            );
            return None;
        }
        Err(e) => return refused(crate::descriptors::explain(&e)),
    };
    if !meta.file_type().is_file() {
        return refused("not a regular file (a directory, symlink or device)".into());
    }
    if meta.len() > MAX_SIZE {
        return refused(format!(
            "{} bytes, more than the {MAX_SIZE} a state file may have",
            meta.len()
        ));
    }
    let file = match OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
    {
        Ok(f) => f,
        Err(e) => return refused(crate::descriptors::explain(&e)),
    };
    let mut bytes = Vec::new();
    if let Err(e) = file.take(MAX_SIZE + 1).read_to_end(&mut bytes) {
        return refused(crate::descriptors::explain(&e));
    }
    if bytes.len() as u64 > MAX_SIZE {
        return refused(format!("more than {MAX_SIZE} bytes"));
    }
    let Ok(text) = String::from_utf8(bytes) else {
        return refused("not text".into());
    };
    match decode(&text) {
        Ok(s) => {
            info!(
                "state file {}: replaying {} routes of programs, {} watchdog routes and {} health check states",
                path.display(),
                s.routes.len() + s.announced.len(),
                s.watchdogs.len(),
                s.checks.len()
            );
            Some(s)
        }
        Err(e) => refused(e),
    }
}

/// Writes `state` atomically (temporary file, fsync, rename).
pub fn save(path: &Path, state: &SavedState) -> io::Result<()> {
    let text = encode(state);
    if text.len() as u64 > MAX_SIZE {
        return Err(io::Error::other(format!(
            "the journal would be {} bytes, more than {MAX_SIZE}",
            text.len()
        )));
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::other("the path has no file name"))?;
    let tmp = dir.join(format!(
        ".{}.tmp.{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    let _ = fs::remove_file(&tmp);
    let written = (|| {
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if written.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    written
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> SavedState {
        let mut s = SavedState::default();
        s.checks.insert("web".into(), true);
        s.checks.insert("dns".into(), false);
        s.routes.push((
            "127.0.0.1".parse().unwrap(),
            Source::Process("anycast".into()),
            "192.0.2.1/32 next-hop 10.0.0.1 community [ 65000:1 ]".into(),
        ));
        s.routes.push((
            "::1".parse().unwrap(),
            Source::Control,
            "2001:db8::/64 next-hop ::1".into(),
        ));
        s
    }

    #[test]
    fn round_trip() {
        assert_eq!(decode(&encode(&sample())).unwrap(), sample());
    }

    #[test]
    fn truncated_garbage_and_other_versions_are_refused() {
        let text = encode(&sample());
        for cut in 0..text.len() - 1 {
            assert!(decode(&text[..cut]).is_err(), "cut at {cut}");
        }
        for bad in [
            "garbage",
            "bgpinject-state 3\nend 0\n",
            "bgpinject-state 1\nroute nope control 1.2.3.0/24\nend 1\n",
            // Version 1 had no family routes or watchdogs.
            "bgpinject-state 1\nannounce 127.0.0.1 control evpn x\nend 1\n",
            "bgpinject-state 1\nwatchdog 127.0.0.1 control w withdrawn route 1.2.3.0/24\nend 1\n",
            // The new records, broken in each field.
            "bgpinject-state 2\nannounce 127.0.0.1 control\nend 1\n",
            "bgpinject-state 2\nannounce 127.0.0.1 control \nend 1\n",
            "bgpinject-state 2\nannounce 127.0.0.1 config evpn x\nend 1\n",
            "bgpinject-state 2\nannounce ::g control evpn x\nend 1\n",
            "bgpinject-state 2\nwatchdog 127.0.0.1 control w sideways route 1.2.3.0/24\nend 1\n",
            "bgpinject-state 2\nwatchdog 127.0.0.1 control w withdrawn\nend 1\n",
            "bgpinject-state 2\nwatchdog 127.0.0.1 control withdraw withdrawn route 1.2.3.0/24\nend 1\n",
            "bgpinject-state 2\nwatchdog 127.0.0.1 healthcheck:x w withdrawn route 1.2.3.0/24\nend 1\n",
            "bgpinject-state 2\nwatchdog 127.0.0.1 control w withdrawn route 1.2.3.0/24\nend 2\n",
            "bgpinject-state 1\nroute 127.0.0.1 healthcheck:x 1.2.3.0/24\nend 1\n",
            "bgpinject-state 1\ncheck web sideways\nend 1\n",
            "bgpinject-state 1\nend 5\n",
            "\u{0}\u{0}\u{0}",
        ] {
            assert!(decode(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_version_1_file_still_loads() {
        let v1 = "bgpinject-state 1\ncheck web up\nroute 127.0.0.1 control 192.0.2.0/24 next-hop 10.0.0.1\nend 2\n";
        let s = decode(v1).unwrap();
        assert_eq!((s.checks.len(), s.routes.len()), (1, 1));
    }

    #[test]
    fn family_and_watchdog_records_round_trip() {
        let mut s = sample();
        s.announced.push((
            "127.0.0.1".parse().unwrap(),
            Source::Process("ddos".into()),
            "flow route { match { destination 192.0.2.1/32; } then { discard; } }".into(),
        ));
        s.watchdogs.push(SavedMember {
            addr: "127.0.0.1".parse().unwrap(),
            source: Source::Watchdog,
            group: "dns".into(),
            announced: false,
            text: "route 10.0.0.0/8 next-hop 192.0.2.1".into(),
        });
        let text = encode(&s);
        assert_eq!(decode(&text).unwrap(), s, "{text}");
        for cut in 0..text.len() - 1 {
            assert!(decode(&text[..cut]).is_err(), "cut at {cut}");
        }
    }

    #[test]
    fn save_replaces_a_symlink_instead_of_following_it() {
        let dir = std::env::temp_dir().join(format!("bgpinject-state-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        let target = dir.join("target");
        fs::write(&target, "keep").unwrap();
        let path = dir.join("state");
        std::os::unix::fs::symlink(&target, &path).unwrap();
        assert_eq!(load(&path), None, "a symlink is refused");
        save(&path, &sample()).unwrap();
        assert_eq!(fs::read_to_string(&target).unwrap(), "keep");
        assert_eq!(load(&path), Some(sample()));
        // A directory at PATH: refused on load, and save fails without harm.
        let d = dir.join("adir");
        fs::create_dir(&d).unwrap();
        assert_eq!(load(&d), None);
        assert!(save(&d, &sample()).is_err());
        let _ = fs::remove_dir_all(&dir);
    }
}
