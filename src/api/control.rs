//! The control socket: a Unix stream socket (mode 0600) that takes one command line per
//! connection and answers with the result lines, the last being `done` or `error`; and
//! `bgpinject ctl`, its client.
//!
//! Path: `--control PATH`; default `/run/bgpinject.sock` for root, otherwise
//! `/tmp/bgpinject-UID.sock`; `--control off` disables it.

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use crossbeam_channel::Sender;
use log::{info, warn};

use super::{ApiAction, ApiRequest, Replier, Source, command};
use crate::descriptors::AcceptBackoff;
use crate::manager::ManagerEvent;

/// How long a client may take to send its line, and the manager to answer.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(10);
/// A command line longer than this is refused.
const MAX_LINE: u64 = 64 * 1024;

static SOCKET_OPTION: OnceLock<Option<String>> = OnceLock::new();

/// Records `--control` (call once, before the manager starts).
pub fn set_socket_option(value: Option<String>) {
    let _ = SOCKET_OPTION.set(value);
}

/// The default socket path for this user.
pub fn default_path() -> PathBuf {
    // SAFETY: getuid(2) cannot fail.
    let uid = unsafe { libc::getuid() };
    if uid == 0 {
        PathBuf::from("/run/bgpinject.sock")
    } else {
        PathBuf::from(format!("/tmp/bgpinject-{uid}.sock"))
    }
}

/// The path the daemon listens on; `None` with `--control off`.
pub fn daemon_path() -> Option<PathBuf> {
    match SOCKET_OPTION.get().cloned().flatten() {
        Some(v) if v == "off" => None,
        Some(v) => Some(PathBuf::from(v)),
        None => Some(default_path()),
    }
}

/// The listening socket; removes its file when dropped.
pub struct ControlSocket {
    path: PathBuf,
}

impl Drop for ControlSocket {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Binds `path` (refusing one a live daemon answers on, replacing a stale one) and starts
/// the accepting thread. Failure is logged: the daemon runs on without a control socket.
pub fn start(path: &Path, events: Sender<ManagerEvent>) -> Option<ControlSocket> {
    if path.exists() {
        if UnixStream::connect(path).is_ok() {
            warn!(
                "control socket {}: another bgpinject answers there; running without a control socket",
                path.display()
            );
            return None;
        }
        let _ = std::fs::remove_file(path);
    }
    // The socket is created with the process umask; restrict it before anyone connects.
    // SAFETY: umask(2) cannot fail.
    let old = unsafe { libc::umask(0o177) };
    let bound = UnixListener::bind(path);
    unsafe {
        libc::umask(old);
    }
    let listener = match bound {
        Ok(l) => l,
        Err(e) => {
            warn!(
                "control socket {}: cannot bind: {}; running without a control socket",
                path.display(),
                crate::descriptors::explain(&e)
            );
            return None;
        }
    };
    let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
    info!("control socket {} (mode 0600)", path.display());
    let spawned = std::thread::Builder::new()
        .name("control socket".into())
        .spawn(move || {
            let mut backoff = AcceptBackoff::new("control socket");
            for stream in listener.incoming() {
                let stream = match stream {
                    Ok(s) => {
                        backoff.succeeded();
                        s
                    }
                    Err(e) => {
                        backoff.failed(&e);
                        continue;
                    }
                };
                let events = events.clone();
                let _ = std::thread::Builder::new()
                    .name("control client".into())
                    .spawn(move || serve(stream, events));
            }
        });
    if let Err(e) = spawned {
        warn!("control socket: cannot start its thread: {e}");
        return None;
    }
    Some(ControlSocket {
        path: path.to_path_buf(),
    })
}

fn serve(stream: UnixStream, events: Sender<ManagerEvent>) {
    let _ = stream.set_read_timeout(Some(CLIENT_TIMEOUT));
    let _ = stream.set_write_timeout(Some(CLIENT_TIMEOUT));
    let Ok(read_half) = stream.try_clone() else {
        return;
    };
    let mut line = String::new();
    if BufReader::new(read_half.take(MAX_LINE))
        .read_line(&mut line)
        .is_err()
    {
        return;
    }
    let (tx, rx) = crossbeam_channel::bounded(1);
    let request = ApiRequest {
        source: Source::Control,
        action: ApiAction::Command(command::parse(line.trim())),
        replier: Replier::Control(tx),
    };
    if events.send(ManagerEvent::Api(request)).is_err() {
        return;
    }
    let lines = rx
        .recv_timeout(CLIENT_TIMEOUT)
        .unwrap_or_else(|_| vec!["error: no answer from the manager".into(), "error".into()]);
    let mut stream = stream;
    for l in lines {
        if writeln!(stream, "{l}").is_err() {
            return;
        }
    }
}

/// `bgpinject ctl [--socket PATH] COMMAND...`: prints the answer; exit 0 on `done`,
/// 1 on `error`, 2 on usage errors, 3 when the daemon cannot be reached.
pub fn run_ctl(args: &[String]) -> i32 {
    let mut opts = getopts::Options::new();
    opts.optopt(
        "",
        "socket",
        "the control socket (default: as the daemon's)",
        "PATH",
    );
    opts.optflag("h", "help", "print this help");
    opts.parsing_style(getopts::ParsingStyle::StopAtFirstFree);
    let usage = "Usage: bgpinject ctl [--socket PATH] COMMAND...\n\n\
                 Sends one API command (e.g. `show neighbor`, `announce route 203.0.113.0/24 next-hop self`)\n\
                 to a running bgpinject and prints its answer.";
    let m = match opts.parse(args) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("bgpinject ctl: {e}\n\n{}", opts.usage(usage));
            return 2;
        }
    };
    if m.opt_present("help") {
        print!("{}", opts.usage(usage));
        return 0;
    }
    if m.free.is_empty() {
        eprintln!("bgpinject ctl: expected a COMMAND\n\n{}", opts.usage(usage));
        return 2;
    }
    let path = m
        .opt_str("socket")
        .map(PathBuf::from)
        .unwrap_or_else(default_path);
    match send(&path, &m.free.join(" ")) {
        Ok(lines) => {
            for l in &lines {
                println!("{l}");
            }
            if lines.last().map(String::as_str) == Some("done") {
                0
            } else {
                1
            }
        }
        Err(e) => {
            eprintln!("bgpinject ctl: {}: {e}", path.display());
            3
        }
    }
}

/// Sends one command line, returns the answer's lines.
pub fn send(path: &Path, command: &str) -> std::io::Result<Vec<String>> {
    let mut stream = UnixStream::connect(path)?;
    stream.set_read_timeout(Some(CLIENT_TIMEOUT + Duration::from_secs(5)))?;
    writeln!(stream, "{command}")?;
    let mut lines = Vec::new();
    for l in BufReader::new(stream).lines() {
        lines.push(l?);
    }
    Ok(lines)
}
