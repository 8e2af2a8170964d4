//! The process's logger: one `log::Log` that formats a record as text or JSON and writes it to
//! stderr, a file (reopened on SIGHUP, for logrotate) or the local syslog socket.
//!
//! Formats (README, "Logging"):
//! - text: `2026-01-31T12:00:00.123456789Z [INFO] neighbor 192.0.2.1: session established`
//! - json: `{"time":"2026-01-31T12:00:00.123456789Z","level":"info","neighbor":"192.0.2.1","message":"session established"}`
//!   (`neighbor` only when the message starts with `neighbor ADDR: `; it is then cut from `message`)
//! - syslog: RFC 3164 as the C library's syslog() writes it to /dev/log, facility daemon:
//!   `<30>Jan 31 12:00:00 bgpinject[1234]: neighbor 192.0.2.1: session established`

use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};

use log::{Level, LevelFilter, Log, Metadata, Record};

/// The local syslog socket.
pub const SYSLOG_SOCKET: &str = "/dev/log";
/// RFC 3164 §4.1.1: facility 3, "system daemons".
const FACILITY_DAEMON: u8 = 3;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
}

impl Format {
    pub fn parse(text: &str) -> Option<Format> {
        match text {
            "text" => Some(Format::Text),
            "json" => Some(Format::Json),
            _ => None,
        }
    }
}

/// Where log lines go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Destination {
    Stderr,
    /// Appended to; reopened by [`reopen`].
    File(PathBuf),
    /// RFC 3164 datagrams to this socket (normally [`SYSLOG_SOCKET`]).
    Syslog(PathBuf),
}

#[derive(Debug)]
pub enum LogError {
    Open(PathBuf, io::Error),
    AlreadySet,
}

impl fmt::Display for LogError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LogError::Open(p, e) => write!(f, "cannot open log {}: {e}", p.display()),
            LogError::AlreadySet => f.write_str("a logger is already installed"),
        }
    }
}

impl std::error::Error for LogError {}

enum Sink {
    Stderr,
    File { path: PathBuf, file: File },
    Syslog { path: PathBuf, socket: UnixDatagram },
}

impl Sink {
    fn open(destination: &Destination) -> Result<Sink, LogError> {
        Ok(match destination {
            Destination::Stderr => Sink::Stderr,
            Destination::File(path) => Sink::File {
                path: path.clone(),
                file: open_append(path)?,
            },
            Destination::Syslog(path) => Sink::Syslog {
                path: path.clone(),
                socket: connect_syslog(path)?,
            },
        })
    }

    fn write_line(&mut self, line: &str) {
        // A logger has nowhere to report its own failure: a lost line is dropped.
        match self {
            Sink::Stderr => {
                let _ = writeln!(io::stderr().lock(), "{line}");
            }
            Sink::File { file, .. } => {
                let _ = file.write_all(format!("{line}\n").as_bytes());
            }
            Sink::Syslog { path, socket } => {
                if socket.send(line.as_bytes()).is_err() {
                    // The syslog daemon restarted: connect again once, then give up on the line.
                    if let Ok(s) = connect_syslog(path) {
                        let _ = s.send(line.as_bytes());
                        *socket = s;
                    }
                }
            }
        }
    }
}

/// Opens the log file for appending. The log directory may belong to the service user, and the
/// file is opened as root at start: a symlink at the path is refused (`O_NOFOLLOW`), as is
/// anything but a regular file with one link (a FIFO, a device, a hard link to another file),
/// so nobody can make root append to a file of their choice.
fn open_append(path: &Path) -> Result<File, LogError> {
    use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
    let refuse = |why: &str| LogError::Open(path.to_path_buf(), std::io::Error::other(why));
    let file = OpenOptions::new()
        .create(true)
        .append(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
        .map_err(|e| match e.raw_os_error() {
            Some(libc::ELOOP) => refuse("is a symlink; refused (give the real path)"),
            _ => LogError::Open(path.to_path_buf(), e),
        })?;
    let meta = file
        .metadata()
        .map_err(|e| LogError::Open(path.to_path_buf(), e))?;
    if !meta.file_type().is_file() {
        return Err(refuse("not a regular file; refused"));
    }
    if meta.nlink() > 1 {
        return Err(refuse("has more than one hard link; refused"));
    }
    Ok(file)
}

fn connect_syslog(path: &Path) -> Result<UnixDatagram, LogError> {
    let socket = UnixDatagram::unbound().map_err(|e| LogError::Open(path.to_path_buf(), e))?;
    socket
        .connect(path)
        .map_err(|e| LogError::Open(path.to_path_buf(), e))?;
    Ok(socket)
}

struct Logger {
    level: LevelFilter,
    format: Format,
    sink: Mutex<Sink>,
}

static LOGGER: OnceLock<Logger> = OnceLock::new();

impl Log for Logger {
    fn enabled(&self, metadata: &Metadata) -> bool {
        metadata.level() <= self.level
    }

    fn log(&self, record: &Record) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let message = record.args().to_string();
        let now = SystemTime::now();
        let mut sink = self.sink.lock().unwrap_or_else(|e| e.into_inner());
        let line = match &*sink {
            Sink::Syslog { .. } => syslog_line(now, record.level(), std::process::id(), &message),
            _ => format_line(self.format, now, record.level(), &message),
        };
        sink.write_line(&line);
    }

    fn flush(&self) {
        if let Ok(mut sink) = self.sink.lock()
            && let Sink::File { file, .. } = &mut *sink
        {
            let _ = file.flush();
        }
    }
}

/// Installs the logger. Call once, before any thread logs.
pub fn init(level: LevelFilter, format: Format, destination: &Destination) -> Result<(), LogError> {
    let sink = Sink::open(destination)?;
    LOGGER
        .set(Logger {
            level,
            format,
            sink: Mutex::new(sink),
        })
        .map_err(|_| LogError::AlreadySet)?;
    log::set_logger(LOGGER.get().expect("just set")).map_err(|_| LogError::AlreadySet)?;
    log::set_max_level(level);
    Ok(())
}

/// Reopens the log file (after logrotate moved it away). Does nothing for stderr and syslog.
/// On failure the old file stays in use and the error is returned for the caller to log.
pub fn reopen() -> Result<(), LogError> {
    let Some(logger) = LOGGER.get() else {
        return Ok(());
    };
    let mut sink = logger.sink.lock().unwrap_or_else(|e| e.into_inner());
    if let Sink::File { path, file } = &mut *sink {
        *file = open_append(path)?;
    }
    Ok(())
}

/// The neighbor a message is about, when it starts with `neighbor ADDR: `; and the rest.
pub fn split_neighbor(message: &str) -> (Option<&str>, &str) {
    if let Some(rest) = message.strip_prefix("neighbor ")
        && let Some((addr, text)) = rest.split_once(": ")
        && !addr.is_empty()
        && !addr.contains(' ')
    {
        return (Some(addr), text);
    }
    (None, message)
}

/// One text or JSON line, without the newline.
pub fn format_line(format: Format, now: SystemTime, level: Level, message: &str) -> String {
    let time = rfc3339(now);
    match format {
        Format::Text => format!("{time} [{level}] {message}"),
        Format::Json => {
            // Written by hand to keep the documented key order; serde_json escapes the strings.
            let (neighbor, text) = split_neighbor(message);
            let string = |v: &str| serde_json::Value::from(v).to_string();
            let neighbor = neighbor
                .map(|n| format!(",\"neighbor\":{}", string(n)))
                .unwrap_or_default();
            format!(
                "{{\"time\":\"{time}\",\"level\":\"{}\"{neighbor},\"message\":{}}}",
                level.as_str().to_ascii_lowercase(),
                string(text)
            )
        }
    }
}

/// RFC 3164 §4.1 as the C library sends it on the local socket: `<PRI>Mmm dd hh:mm:ss TAG[PID]: MSG`.
/// The HOSTNAME field is left out, as syslog(3) does on /dev/log: the syslog daemon adds it.
pub fn syslog_line(now: SystemTime, level: Level, pid: u32, message: &str) -> String {
    // RFC 3164 §4.1.1 severities.
    let severity = match level {
        Level::Error => 3,
        Level::Warn => 4,
        Level::Info => 6,
        Level::Debug | Level::Trace => 7,
    };
    let pri = FACILITY_DAEMON * 8 + severity;
    format!("<{pri}>{} bgpinject[{pid}]: {message}", rfc3164_time(now))
}

/// `2026-01-31T12:00:00.123456789Z` (UTC).
pub fn rfc3339(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs() as i64;
    let (y, m, day) = civil_from_days(secs.div_euclid(86_400));
    let s = secs.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{day:02}T{:02}:{:02}:{:02}.{:09}Z",
        s / 3600,
        s / 60 % 60,
        s % 60,
        d.subsec_nanos()
    )
}

/// `Jan 31 12:00:00` in local time (RFC 3164 §4.1.2: the day is padded with a space).
fn rfc3164_time(t: SystemTime) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    // `as _`: time_t, whose width differs between C libraries.
    let secs = t.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs() as _;
    // SAFETY: localtime_r writes only into `tm`, which is a plain C struct.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    if unsafe { libc::localtime_r(&secs, &mut tm) }.is_null() {
        return "Jan  1 00:00:00".into();
    }
    format!(
        "{} {:>2} {:02}:{:02}:{:02}",
        MONTHS[tm.tm_mon.clamp(0, 11) as usize],
        tm.tm_mday,
        tm.tm_hour,
        tm.tm_min,
        tm.tm_sec
    )
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian (H. Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn at(secs: u64, nanos: u32) -> SystemTime {
        UNIX_EPOCH + Duration::new(secs, nanos)
    }

    #[test]
    fn rfc3339_dates() {
        assert_eq!(rfc3339(at(0, 0)), "1970-01-01T00:00:00.000000000Z");
        // 2000-02-29 (a leap day in a year divisible by 400).
        assert_eq!(
            rfc3339(at(951_782_400, 5)),
            "2000-02-29T00:00:00.000000005Z"
        );
        assert_eq!(
            rfc3339(at(1_767_225_599, 123_456_789)),
            "2025-12-31T23:59:59.123456789Z"
        );
    }

    #[test]
    fn text_line_keeps_the_historical_shape() {
        let line = format_line(
            Format::Text,
            at(0, 0),
            Level::Warn,
            "neighbor 192.0.2.1: down",
        );
        assert_eq!(
            line,
            "1970-01-01T00:00:00.000000000Z [WARN] neighbor 192.0.2.1: down"
        );
    }

    #[test]
    fn json_line_names_the_neighbor() {
        let line = format_line(
            Format::Json,
            at(0, 0),
            Level::Info,
            "neighbor 2001:db8::1: session \"established\"",
        );
        assert!(line.starts_with(
            "{\"time\":\"1970-01-01T00:00:00.000000000Z\",\"level\":\"info\",\"neighbor\":"
        ));
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["time"], "1970-01-01T00:00:00.000000000Z");
        assert_eq!(v["level"], "info");
        assert_eq!(v["neighbor"], "2001:db8::1");
        assert_eq!(v["message"], "session \"established\"");
        let line = format_line(Format::Json, at(0, 0), Level::Error, "cannot listen");
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert!(v.get("neighbor").is_none());
        assert_eq!(v["message"], "cannot listen");
    }

    #[test]
    fn neighbor_prefix_needs_an_address_and_a_colon() {
        assert_eq!(
            split_neighbor("neighbor 192.0.2.1: x"),
            (Some("192.0.2.1"), "x")
        );
        assert_eq!(split_neighbor("neighbor blocks: 3"), (Some("blocks"), "3"));
        assert_eq!(
            split_neighbor("neighbors started: 3"),
            (None, "neighbors started: 3")
        );
        assert_eq!(split_neighbor("neighbor a b: x"), (None, "neighbor a b: x"));
    }

    #[test]
    fn syslog_line_is_rfc3164_facility_daemon() {
        let line = syslog_line(at(0, 0), Level::Error, 42, "cannot listen");
        let (pri, rest) = line.split_once('>').unwrap();
        assert_eq!(pri, "<27"); // daemon.err
        // "Mmm dd hh:mm:ss " is 16 characters.
        assert_eq!(&rest[3..4], " ");
        assert_eq!(&rest[15..], " bgpinject[42]: cannot listen");
        assert!(syslog_line(at(0, 0), Level::Info, 1, "x").starts_with("<30>"));
        assert!(syslog_line(at(0, 0), Level::Debug, 1, "x").starts_with("<31>"));
    }

    #[test]
    fn syslog_datagrams_reach_the_socket() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log");
        let server = UnixDatagram::bind(&path).unwrap();
        let mut sink = Sink::open(&Destination::Syslog(path)).unwrap();
        sink.write_line("<30>Jan  1 00:00:00 bgpinject[1]: hello");
        let mut buf = [0u8; 256];
        let n = server.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"<30>Jan  1 00:00:00 bgpinject[1]: hello");
    }
}
