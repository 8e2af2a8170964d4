//! Helper processes: each `process` block runs one program. Its stdout is read line by line
//! (one command per line) by a supervisor thread; events and acknowledgements go to its stdin
//! through a bounded queue and a writer thread, so a helper that does not read its stdin
//! loses events (counted and logged) and never blocks the daemon. A helper that exits is
//! started again with backoff (1 s doubling to 60 s, reset after a minute of running).

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crossbeam_channel::{Sender, TrySendError};
use log::{info, warn};

use super::{ApiAction, ApiRequest, Permit, Replier, Source, command};
use crate::config::process::{Encoder, OnExit, ProcessConfig};
use crate::events::ProgramEvent;

pub use crate::config::process::{KILL_GRACE, MAX_KILL_GRACE_SECONDS};
/// Events waiting for a helper that does not read; more are dropped.
const EVENT_QUEUE: usize = 4096;
/// Commands of one helper waiting for (or being applied by) the manager; a helper that
/// writes faster waits for its pipe, as with ExaBGP.
const IN_FLIGHT: usize = 1024;
/// The longest command line, as on the control socket; a longer one is refused whole, and
/// never held in memory beyond this.
pub const MAX_LINE: usize = 64 * 1024;
const BACKOFF_INITIAL: Duration = Duration::from_secs(1);
const BACKOFF_MAXIMUM: Duration = Duration::from_secs(60);
/// A helper that ran this long restarts without delay growth.
const STABLE_RUN: Duration = Duration::from_secs(60);

const ACK_ON: u8 = 0;
const ACK_OFF: u8 = 1;

/// The stdin side of a helper, shared by the manager (answers, events) and its supervisor.
#[derive(Debug)]
pub struct HelperOutput {
    pub name: String,
    pub encoder: Encoder,
    /// The `lease` of its process block: its announces without their own are leased so.
    pub default_lease: Option<u32>,
    queue: Mutex<Option<Sender<String>>>,
    dropped: AtomicU64,
    ack: AtomicU8,
    counter: AtomicU64,
}

impl HelperOutput {
    fn new(config: &ProcessConfig) -> HelperOutput {
        HelperOutput {
            name: config.name.clone(),
            encoder: config.encoder,
            default_lease: config.lease,
            queue: Mutex::new(None),
            dropped: AtomicU64::new(0),
            ack: AtomicU8::new(ACK_ON),
            counter: AtomicU64::new(0),
        }
    }

    /// Queues one line for the helper's stdin; drops it when the queue is full.
    pub fn send(&self, line: String) {
        let Ok(queue) = self.queue.lock() else {
            return;
        };
        let Some(tx) = queue.as_ref() else {
            return;
        };
        if let Err(TrySendError::Full(_)) = tx.try_send(line) {
            let n = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
            if n.is_power_of_two() {
                warn!(
                    "process {}: does not read its stdin; {n} messages dropped so far",
                    self.name
                );
            }
        }
    }

    /// Whether the program runs and its stdin takes events.
    pub fn is_running(&self) -> bool {
        self.queue.lock().map(|q| q.is_some()).unwrap_or(false)
    }

    pub fn acks(&self) -> bool {
        self.ack.load(Ordering::Relaxed) == ACK_ON
    }

    /// The next event counter (ExaBGP's JSON `counter`).
    pub fn next_counter(&self) -> u64 {
        self.counter.fetch_add(1, Ordering::Relaxed) + 1
    }

    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

/// A running helper, as the manager holds it.
pub struct Helper {
    pub output: Arc<HelperOutput>,
    stopping: Arc<AtomicBool>,
    pid: Arc<Mutex<Option<u32>>>,
    /// From SIGTERM to SIGKILL (`kill-grace`, default [`KILL_GRACE`]).
    kill_grace: Duration,
}

impl Helper {
    /// Starts the supervisor thread, which starts the program.
    pub fn spawn(config: ProcessConfig, events: Sender<ProgramEvent>) -> std::io::Result<Helper> {
        let output = Arc::new(HelperOutput::new(&config));
        let kill_grace = config.kill_grace;
        let stopping = Arc::new(AtomicBool::new(false));
        let pid = Arc::new(Mutex::new(None));
        let (o, s, p) = (output.clone(), stopping.clone(), pid.clone());
        std::thread::Builder::new()
            .name(format!("process {}", config.name))
            .spawn(move || supervise(config, o, s, p, events))?;
        Ok(Helper {
            output,
            stopping,
            pid,
            kill_grace,
        })
    }

    /// Sends `shutdown`, and SIGTERM to the program (it is not restarted).
    pub fn stop(&self) {
        self.stopping.store(true, Ordering::SeqCst);
        let counter = self.output.next_counter();
        self.output
            .send(super::events::shutdown(self.output.encoder, counter));
    }

    /// SIGTERM to a program still running after [`Helper::stop`], and SIGKILL when it still
    /// runs `kill-grace` later (a helper that ignores SIGTERM does not outlive its
    /// generation).
    pub fn terminate(&self) {
        let Ok(Some(pid)) = self.pid.lock().map(|p| *p) else {
            return;
        };
        // SAFETY: kill(2) on the process id of a child this supervisor started and has not
        // reaped yet (the id is cleared before wait()).
        unsafe {
            libc::kill(pid as libc::pid_t, libc::SIGTERM);
        }
        let still = self.pid.clone();
        let name = self.output.name.clone();
        let grace = self.kill_grace;
        let _ = std::thread::Builder::new()
            .name(format!("process {name} kill"))
            .spawn(move || {
                std::thread::sleep(grace);
                if let Ok(guard) = still.lock()
                    && *guard == Some(pid)
                {
                    warn!("process {name}: still running {grace:?} after SIGTERM, killing it");
                    // SAFETY: as above; the lock is held, so the supervisor cannot reap the
                    // child and clear the id meanwhile.
                    unsafe {
                        libc::kill(pid as libc::pid_t, libc::SIGKILL);
                    }
                }
            });
    }
}

fn supervise(
    config: ProcessConfig,
    output: Arc<HelperOutput>,
    stopping: Arc<AtomicBool>,
    pid: Arc<Mutex<Option<u32>>>,
    events: Sender<ProgramEvent>,
) {
    let name = config.name.clone();
    let mut backoff = BACKOFF_INITIAL;
    while !stopping.load(Ordering::SeqCst) {
        let started = Instant::now();
        run_once(&config, &output, &pid, &events, &stopping);
        // A helper stopped by the manager (removed or replaced by a reload) has had its routes
        // dealt with there; a Clear from this generation now could hit the next one's routes.
        if config.on_exit == OnExit::Withdraw && !stopping.load(Ordering::SeqCst) {
            let _ = events.send(ProgramEvent::Request(ApiRequest {
                source: Source::Process(name.clone()),
                action: ApiAction::Clear,
                replier: Replier::Nobody,
                permit: None,
                stopped: None,
            }));
        }
        if stopping.load(Ordering::SeqCst) {
            break;
        }
        if !config.respawn {
            warn!("process {name}: exited; not started again (respawn false)");
            break;
        }
        if started.elapsed() >= STABLE_RUN {
            backoff = BACKOFF_INITIAL;
        }
        warn!(
            "process {name}: exited; its routes are {}; restarting in {} s",
            match config.on_exit {
                OnExit::Withdraw => "withdrawn",
                OnExit::Keep => "kept",
            },
            backoff.as_secs()
        );
        let deadline = Instant::now() + backoff;
        while Instant::now() < deadline && !stopping.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(100));
        }
        backoff = (backoff * 2).min(BACKOFF_MAXIMUM);
    }
}

/// What [`read_line_capped`] found.
#[derive(Debug, PartialEq, Eq)]
enum LineRead {
    /// A line (without its newline) is in the buffer.
    Line,
    /// A line longer than the cap: read to its end and dropped.
    TooLong,
    /// The stream ended (a last line without newline is returned as a line first).
    End,
}

/// Reads one line into `buf` (cleared first), holding at most `cap` octets of it: a longer
/// line is consumed to its newline and reported as [`LineRead::TooLong`].
fn read_line_capped<R: BufRead>(
    reader: &mut R,
    buf: &mut Vec<u8>,
    cap: usize,
) -> std::io::Result<LineRead> {
    buf.clear();
    let mut too_long = false;
    loop {
        let available = match reader.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if available.is_empty() {
            return Ok(match (too_long, buf.is_empty()) {
                (true, _) => LineRead::TooLong,
                (false, true) => LineRead::End,
                (false, false) => LineRead::Line,
            });
        }
        let (chunk, found) = match available.iter().position(|&b| b == b'\n') {
            Some(i) => (&available[..i], Some(i + 1)),
            None => (available, None),
        };
        if !too_long {
            if buf.len() + chunk.len() > cap {
                too_long = true;
                buf.clear();
            } else {
                buf.extend_from_slice(chunk);
            }
        }
        let used = found.unwrap_or(available.len());
        reader.consume(used);
        if found.is_some() {
            return Ok(if too_long {
                LineRead::TooLong
            } else {
                LineRead::Line
            });
        }
    }
}

/// Lines of a helper's stderr logged per second; more are counted.
const STDERR_LINES_PER_SECOND: u32 = 20;

/// Logs a helper's stderr line by line (each cut at [`MAX_LINE`]), at a bounded pace.
fn log_stderr(name: &str, stderr: impl std::io::Read) {
    let mut reader = BufReader::new(stderr);
    let mut buf = Vec::new();
    let mut pace = super::LogPace::new(STDERR_LINES_PER_SECOND);
    loop {
        let text = match read_line_capped(&mut reader, &mut buf, MAX_LINE) {
            Ok(LineRead::Line) => String::from_utf8_lossy(&buf).into_owned(),
            Ok(LineRead::TooLong) => format!("(a line longer than {MAX_LINE} octets)"),
            Ok(LineRead::End) | Err(_) => return,
        };
        let (log, missed) = pace.admit();
        if missed > 0 {
            warn!("process {name}: {missed} more stderr lines in the last second (not logged)");
        }
        if log {
            warn!("process {name}: stderr: {}", text.trim_end());
        }
    }
}

/// A request that is answered `error` with `why`.
fn invalid(why: String) -> command::Request {
    command::Request {
        lease: None,
        neighbors: Vec::new(),
        command: command::Command::Invalid(why),
    }
}

/// Runs the program until its stdout closes, forwarding each line to the manager.
fn run_once(
    config: &ProcessConfig,
    output: &Arc<HelperOutput>,
    pid: &Mutex<Option<u32>>,
    events: &Sender<ProgramEvent>,
    stopping: &AtomicBool,
) {
    let name = &config.name;
    let mut command = Command::new(&config.run[0]);
    command
        .args(&config.run[1..])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    crate::cli::daemon::run_as_program_account(&mut command);
    let mut child = match command.spawn() {
        Ok(c) => c,
        Err(e) => {
            warn!(
                "process {name}: cannot start {}: {}",
                config.run[0],
                crate::descriptors::explain(&e)
            );
            return;
        }
    };
    info!(
        "process {name}: started {} (pid {})",
        config.run.join(" "),
        child.id()
    );
    if let Ok(mut p) = pid.lock() {
        *p = Some(child.id());
    }
    output.ack.store(ACK_ON, Ordering::Relaxed);
    let (tx, rx) = crossbeam_channel::bounded::<String>(EVENT_QUEUE);
    if let Ok(mut q) = output.queue.lock() {
        *q = Some(tx);
    }
    let _ = events.send(ProgramEvent::HelperStarted(output.clone()));
    if let Some(stderr) = child.stderr.take() {
        // What a helper writes to stderr goes to bgpinject's log (ExaBGP does the same), not to
        // the terminal bgpinject was started from: under --daemon that terminal, or a pipe an
        // ssh session waits on, would be held open by the helper.
        let log_name = name.clone();
        let _ = std::thread::Builder::new()
            .name(format!("process {name} stderr"))
            .spawn(move || log_stderr(&log_name, stderr));
    }
    if let Some(mut stdin) = child.stdin.take() {
        let writer_name = name.clone();
        let _ = std::thread::Builder::new()
            .name(format!("process {name} stdin"))
            .spawn(move || {
                for line in rx {
                    if writeln!(stdin, "{line}")
                        .and_then(|_| stdin.flush())
                        .is_err()
                    {
                        log::debug!("process {writer_name}: stdin closed");
                        return;
                    }
                }
            });
    }
    let slots = crossbeam_channel::bounded::<()>(IN_FLIGHT);
    if let Some(stdout) = child.stdout.take() {
        let mut reader = BufReader::new(stdout);
        let mut buf = Vec::new();
        loop {
            // A line that is no command is answered `error` through the manager, in order
            // with the others, and the helper keeps running.
            let command = match read_line_capped(&mut reader, &mut buf, MAX_LINE) {
                Ok(LineRead::Line) => match std::str::from_utf8(&buf) {
                    Ok(text) => {
                        let line = text.trim();
                        match line {
                            "" => continue,
                            "enable-ack" => {
                                output.ack.store(ACK_ON, Ordering::Relaxed);
                                output.send("done".into());
                                continue;
                            }
                            "disable-ack" => {
                                output.send("done".into());
                                output.ack.store(ACK_OFF, Ordering::Relaxed);
                                continue;
                            }
                            "silence-ack" => {
                                output.ack.store(ACK_OFF, Ordering::Relaxed);
                                continue;
                            }
                            _ => command::parse(line),
                        }
                    }
                    Err(_) => invalid("a line that is not UTF-8".into()),
                },
                Ok(LineRead::TooLong) => invalid(format!(
                    "a line longer than {MAX_LINE} octets, refused whole"
                )),
                Ok(LineRead::End) | Err(_) => break,
            };
            // The output of a stopped generation is ignored from the moment it is stopped.
            if stopping.load(Ordering::SeqCst) {
                break;
            }
            let permit = loop {
                if let Some(p) = Permit::acquire(&slots, Duration::from_millis(200)) {
                    break Some(p);
                }
                if stopping.load(Ordering::SeqCst) {
                    break None;
                }
            };
            let Some(permit) = permit else { break };
            let request = ApiRequest {
                source: Source::Process(name.clone()),
                action: ApiAction::Command(command),
                replier: Replier::Process(output.clone()),
                permit: Some(permit),
                stopped: None,
            };
            if events.send(ProgramEvent::Request(request)).is_err() {
                break;
            }
        }
    }
    // Closing the queue ends the writer thread.
    if let Ok(mut q) = output.queue.lock() {
        *q = None;
    }
    if let Ok(mut p) = pid.lock() {
        *p = None;
    }
    let _ = child.kill();
    match child.wait() {
        Ok(status) => info!("process {name}: ended ({status})"),
        Err(e) => warn!("process {name}: wait failed: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(input: &[u8], cap: usize) -> Vec<Result<String, LineRead>> {
        let mut r = BufReader::with_capacity(7, input);
        let mut buf = Vec::new();
        let mut out = Vec::new();
        loop {
            match read_line_capped(&mut r, &mut buf, cap).unwrap() {
                LineRead::Line => out.push(Ok(String::from_utf8_lossy(&buf).into_owned())),
                LineRead::TooLong => out.push(Err(LineRead::TooLong)),
                LineRead::End => return out,
            }
        }
    }

    #[test]
    fn long_lines_are_dropped_whole_and_the_next_one_is_read() {
        let mut input = b"short\n".to_vec();
        input.extend(std::iter::repeat_n(b'x', 100));
        input.extend(b"\nafter\nlast without newline");
        assert_eq!(
            lines(&input, 20),
            vec![
                Ok("short".into()),
                Err(LineRead::TooLong),
                Ok("after".into()),
                Ok("last without newline".into())
            ]
        );
        // Exactly the cap fits; one more does not.
        assert_eq!(
            lines(b"12345\n123456\n", 5),
            vec![Ok("12345".into()), Err(LineRead::TooLong)]
        );
        // A long line at the end of the stream, without newline.
        assert_eq!(
            lines(b"ok\n1234567890", 5),
            vec![Ok("ok".into()), Err(LineRead::TooLong)]
        );
    }
}
