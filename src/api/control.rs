//! The control socket: a Unix stream socket (mode 0600) that takes one command line per
//! connection and answers with the result lines, the last being `done` or `error`; and
//! `bgpinject ctl`, its client.
//!
//! Path: `--control PATH`; `--control off` disables it. The default is in a directory only its
//! user can create files in, so that nobody else can take the path first: `/run/bgpinject/`
//! for root (the systemd unit's `RuntimeDirectory=`), otherwise `$XDG_RUNTIME_DIR`,
//! `/run/user/UID`, or a private `/tmp/bgpinject-UID/` (created mode 0700; refused when it
//! belongs to another user or others may write to it).
//!
//! Both ends check who is at the other end (`SO_PEERCRED`): the daemon serves only its own
//! user and root; `ctl` talks only to a daemon of its own user or root (root's `ctl` talks to
//! any). An existing file at the path is replaced only if it is a socket nobody answers on.

use std::fmt;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::{DirBuilderExt, FileTypeExt, MetadataExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use crossbeam_channel::Sender;
use log::{info, warn};

use super::{ApiAction, ApiRequest, Replier, Source, command};
use crate::descriptors::AcceptBackoff;

/// How long a client may take to send its line, and the manager to answer.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(10);
/// A command line longer than this (without its newline) is refused, not executed.
pub const MAX_LINE: usize = 64 * 1024;
/// The socket's name in the default directory.
const SOCKET_NAME: &str = "bgpinject.sock";

static SOCKET_OPTION: OnceLock<Option<String>> = OnceLock::new();

/// Records `--control` (call once, before the manager starts).
pub fn set_socket_option(value: Option<String>) {
    let _ = SOCKET_OPTION.set(value);
}

fn uid() -> libc::uid_t {
    // SAFETY: geteuid(2) cannot fail.
    unsafe { libc::geteuid() }
}

/// Why the control socket cannot be used.
#[derive(Debug)]
pub enum ControlError {
    /// Something other than a socket is at the path: it is left alone.
    NotASocket(PathBuf),
    /// The directory of the default path is not private to this user.
    UnsafeDirectory(PathBuf, String),
    Io(PathBuf, std::io::Error),
    /// The process at the other end is not this user or root.
    WrongPeer(PathBuf, libc::uid_t),
}

impl fmt::Display for ControlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ControlError::NotASocket(p) => write!(
                f,
                "control socket {}: exists and is not a socket; left untouched (remove it or choose another --control path)",
                p.display()
            ),
            ControlError::UnsafeDirectory(p, why) => {
                write!(f, "control socket directory {}: {why}", p.display())
            }
            ControlError::Io(p, e) => write!(f, "control socket {}: {e}", p.display()),
            ControlError::WrongPeer(p, peer) => write!(
                f,
                "control socket {}: served by uid {peer}, not by this user or root; refusing to talk to it",
                p.display()
            ),
        }
    }
}

impl std::error::Error for ControlError {}

/// The default directory for this user's socket (not created).
fn default_dir() -> PathBuf {
    let uid = uid();
    if uid == 0 {
        return PathBuf::from("/run/bgpinject");
    }
    let private = |p: &Path| {
        std::fs::metadata(p).is_ok_and(|m| m.is_dir() && m.uid() == uid && m.mode() & 0o022 == 0)
    };
    if let Some(dir) = std::env::var_os("XDG_RUNTIME_DIR").map(PathBuf::from)
        && dir.is_absolute()
        && private(&dir)
    {
        return dir;
    }
    let run_user = PathBuf::from(format!("/run/user/{uid}"));
    if private(&run_user) {
        return run_user;
    }
    PathBuf::from(format!("/tmp/bgpinject-{uid}"))
}

/// The default socket path for this user.
pub fn default_path() -> PathBuf {
    default_dir().join(SOCKET_NAME)
}

/// Creates the default directory when missing and checks that only this user (or root) can
/// create files in it.
fn prepare_default_dir(dir: &Path) -> Result<(), ControlError> {
    let me = uid();
    let mode = if me == 0 { 0o755 } else { 0o700 };
    match std::fs::DirBuilder::new().mode(mode).create(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(ControlError::Io(dir.into(), e)),
    }
    let m = std::fs::symlink_metadata(dir).map_err(|e| ControlError::Io(dir.into(), e))?;
    if !m.is_dir() {
        return Err(ControlError::UnsafeDirectory(
            dir.into(),
            "not a directory".into(),
        ));
    }
    // A root daemon may use a directory its service user owns (OpenRC's /run/bgpinject).
    if m.uid() != me && m.uid() != 0 && me != 0 {
        return Err(ControlError::UnsafeDirectory(
            dir.into(),
            format!("belongs to uid {}, not to this user", m.uid()),
        ));
    }
    if m.mode() & 0o022 != 0 {
        return Err(ControlError::UnsafeDirectory(
            dir.into(),
            format!("others may write to it (mode {:o})", m.mode() & 0o7777),
        ));
    }
    Ok(())
}

/// The path the daemon listens on (`None` with `--control off`), and whether it is the
/// default one.
pub fn daemon_path() -> Option<PathBuf> {
    match SOCKET_OPTION.get().cloned().flatten() {
        Some(v) if v == "off" => None,
        Some(v) => Some(PathBuf::from(v)),
        None => Some(default_path()),
    }
}

/// The uid of the process at the other end of `stream`.
pub fn peer_uid(stream: &UnixStream) -> std::io::Result<libc::uid_t> {
    let mut cred = libc::ucred {
        pid: 0,
        uid: 0,
        gid: 0,
    };
    let mut len = std::mem::size_of::<libc::ucred>() as libc::socklen_t;
    // SAFETY: getsockopt(2) writes at most `len` bytes into `cred`.
    let rc = unsafe {
        libc::getsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_PEERCRED,
            (&mut cred as *mut libc::ucred).cast(),
            &mut len,
        )
    };
    if rc != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(cred.uid)
}

/// The listening socket; removes its file when dropped.
pub struct ControlSocket {
    path: PathBuf,
}

impl Drop for ControlSocket {
    fn drop(&mut self) {
        // Only a socket: never a file put there since.
        if std::fs::symlink_metadata(&self.path).is_ok_and(|m| m.file_type().is_socket()) {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Binds `path` (refusing one a live daemon answers on, replacing a stale socket, never
/// anything else) and starts the accepting thread. `Err` for what the operator must fix (a
/// file that is not a socket at the path given); other failures (a default directory that is
/// not private, a bind error) are logged and the daemon runs on without a control socket
/// (`Ok(None)`).
pub fn start(
    path: &Path,
    events: Sender<super::ApiRequest>,
) -> Result<Option<ControlSocket>, ControlError> {
    // The default directory taken by someone else: no control socket (the sessions matter
    // more), and a plain reason in the log.
    if SOCKET_OPTION.get().cloned().flatten().is_none()
        && let Some(dir) = path.parent()
        && let Err(e) = prepare_default_dir(dir)
    {
        warn!("{e}; running without a control socket");
        return Ok(None);
    }
    match std::fs::symlink_metadata(path) {
        Ok(m) if !m.file_type().is_socket() => {
            return Err(ControlError::NotASocket(path.into()));
        }
        Ok(_) => {
            if UnixStream::connect(path).is_ok() {
                warn!(
                    "control socket {}: another bgpinject answers there; running without a control socket",
                    path.display()
                );
                return Ok(None);
            }
            let _ = std::fs::remove_file(path);
        }
        Err(_) => {}
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
            return Ok(None);
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
        return Ok(None);
    }
    Ok(Some(ControlSocket {
        path: path.to_path_buf(),
    }))
}

/// Reads one command line of at most [`MAX_LINE`] bytes. `Err` holds the answer for a line
/// that is refused.
fn read_command(stream: &UnixStream) -> Result<String, &'static str> {
    let mut bytes = Vec::new();
    let n = BufReader::new(stream.take(MAX_LINE as u64 + 1))
        .read_until(b'\n', &mut bytes)
        .map_err(|_| "error: could not read the command")?;
    if bytes.last() == Some(&b'\n') {
        bytes.pop();
    } else if n > MAX_LINE {
        return Err("error: command longer than 65536 bytes; refused, nothing done");
    }
    String::from_utf8(bytes).map_err(|_| "error: the command is not UTF-8; refused")
}

fn serve(stream: UnixStream, events: Sender<super::ApiRequest>) {
    let _ = stream.set_read_timeout(Some(CLIENT_TIMEOUT));
    let _ = stream.set_write_timeout(Some(CLIENT_TIMEOUT));
    // The answer, then what the client still sends is read and dropped (bounded), so that the
    // close does not reset the connection and lose the answer.
    let refuse = |mut stream: &UnixStream, why: &str| {
        let _ = writeln!(stream, "{why}\nerror");
        let _ = stream.shutdown(std::net::Shutdown::Write);
        let _ = stream.set_read_timeout(Some(Duration::from_secs(1)));
        let _ = std::io::copy(&mut stream.take(4 * MAX_LINE as u64), &mut std::io::sink());
    };
    match peer_uid(&stream) {
        Ok(peer) if peer == uid() || peer == 0 => {}
        Ok(peer) => {
            warn!("control socket: refused a client running as uid {peer}");
            refuse(&stream, "error: not allowed");
            return;
        }
        Err(_) => return,
    }
    let line = match read_command(&stream) {
        Ok(l) => l,
        Err(why) => {
            warn!("control socket: {}", why.trim_start_matches("error: "));
            refuse(&stream, why);
            return;
        }
    };
    // Answered here from what the manager published, never by asking it.
    if line.trim() == "metrics" {
        let mut stream = stream;
        let _ = writeln!(stream, "{}done", crate::metrics::render());
        return;
    }
    let (tx, rx) = crossbeam_channel::bounded(1);
    let request = ApiRequest {
        source: Source::Control,
        action: ApiAction::Command(command::parse(line.trim())),
        replier: Replier::Control(tx),
        permit: None,
        stopped: None,
    };
    if events.send(request).is_err() {
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
                 to a running bgpinject and prints its answer. `ctl metrics` prints the metrics\n\
                 (Prometheus text format, as --metrics serves them).";
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
    let command = m.free.join(" ");
    match send(&path, &command) {
        Ok(lines) => {
            // The metrics text goes as is (to promtool or a file), without the status line.
            let shown = match (command.trim(), lines.split_last()) {
                ("metrics", Some((last, text))) if last == "done" => text,
                _ => &lines[..],
            };
            for l in shown {
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
    let me = uid();
    let peer = peer_uid(&stream)?;
    if peer != me && peer != 0 && me != 0 {
        return Err(std::io::Error::other(ControlError::WrongPeer(
            path.into(),
            peer,
        )));
    }
    stream.set_read_timeout(Some(CLIENT_TIMEOUT + Duration::from_secs(5)))?;
    writeln!(stream, "{command}")?;
    let mut lines = Vec::new();
    for l in BufReader::new(stream).lines() {
        lines.push(l?);
    }
    Ok(lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn command_of(bytes: &[u8]) -> Result<String, &'static str> {
        let (mut client, server) = UnixStream::pair().unwrap();
        let bytes = bytes.to_vec();
        let writer = std::thread::spawn(move || {
            let _ = client.write_all(&bytes);
        });
        let got = read_command(&server);
        drop(server);
        writer.join().unwrap();
        got
    }

    #[test]
    fn a_line_over_the_limit_is_refused_whole_and_one_at_the_limit_is_read() {
        let mut at_limit = vec![b'a'; MAX_LINE];
        at_limit.push(b'\n');
        assert_eq!(command_of(&at_limit).unwrap().len(), MAX_LINE);
        let mut over = b"announce route 203.0.113.0/24 next-hop 192.0.2.1".to_vec();
        over.resize(MAX_LINE + 1, b' ');
        over.push(b'\n');
        assert!(command_of(&over).unwrap_err().contains("longer than"));
        assert!(command_of(b"\xff\n").unwrap_err().contains("UTF-8"));
        // A client that closes without a newline still sends its command.
        assert_eq!(command_of(b"version").unwrap(), "version");
    }

    #[test]
    fn the_peer_is_this_user() {
        let (a, _b) = UnixStream::pair().unwrap();
        assert_eq!(peer_uid(&a).unwrap(), uid());
    }
}
