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

use super::{ApiAction, ApiRequest, BatchLine, Permit, Replier, Source, command};
use crate::config::api_command::RouteMemo;
use crate::config::process::{Encoder, OnExit, ProcessConfig};
use crate::events::ProgramEvent;

pub use crate::config::process::{KILL_GRACE, MAX_KILL_GRACE_SECONDS};
/// Events waiting for a helper that does not read; more are dropped.
const EVENT_QUEUE: usize = 4096;
/// Batches of one helper's commands waiting for (or being applied by) the manager; a helper
/// that writes faster waits for its pipe, as with ExaBGP.
const IN_FLIGHT: usize = 8;
/// The most command lines sent to the manager as one batch: the lines of one read, so a
/// helper writing a million lines costs a thousand messages, not a million, and one writing
/// a line at a time still has each applied as soon as it is read.
const BATCH_LINES: usize = 1024;
/// What one read(2) of a helper's stdout may take.
const READ_BUFFER: usize = 256 * 1024;
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
    /// It wrote ExaBGP main's API 6 form (`peer IP|* COMMAND`): see
    /// `ProcessConfig::on_exit_written`.
    api6: std::sync::atomic::AtomicBool,
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
            api6: std::sync::atomic::AtomicBool::new(false),
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
        let on_exit = if !config.on_exit_written && output.api6.load(Ordering::Relaxed) {
            OnExit::Withdraw
        } else {
            config.on_exit
        };
        if on_exit == OnExit::Withdraw && !stopping.load(Ordering::SeqCst) {
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
            match on_exit {
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
    /// The stream ended in the middle of a line: what it held is in the buffer.
    Unterminated,
    /// A line longer than the cap: read to its end and dropped.
    TooLong,
    /// The stream ended (a last line without newline is returned first, as
    /// [`LineRead::Unterminated`]).
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
                (false, false) => LineRead::Unterminated,
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
            Ok(LineRead::Line | LineRead::Unterminated) => {
                String::from_utf8_lossy(&buf).into_owned()
            }
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
        api6: false,
    }
}

/// An ack mode line, which the reader applies itself.
#[derive(Clone, Debug, PartialEq, Eq)]
enum AckLine {
    Enable,
    Disable,
    Silence,
}

/// One line of a helper, as its reader thread handles it.
#[derive(Clone, Debug, PartialEq, Eq)]
enum HelperLine {
    Command(command::Request),
    Ack(AckLine),
    /// Lines repeating the memo's route of this generation with other prefixes (see
    /// [`BatchLine::Repeated`]).
    Repeated {
        template: command::Request,
        generation: u64,
        prefixes: Vec<crate::wire::prefix::Prefix>,
    },
}

/// `announce route PREFIX REST` where `REST` repeats the memo's route: its prefix, added to
/// the run at the end of `out` when that run repeats the same route, else a new run. `None`
/// for any other line (parsed in full): a neighbor selector, a lease, a literal `\n`, or
/// other text after the prefix.
fn repeated(line: &str, memo: &RouteMemo, out: &mut Vec<HelperLine>) -> bool {
    let Some(rest) = line.strip_prefix("announce route ") else {
        return false;
    };
    // `repeat` refuses a memo whose text holds `lease` or a literal `\\n`: a line that
    // matches its text holds neither.
    let Some((prefix, template, generation)) = memo.repeat(rest) else {
        return false;
    };
    if let Some(HelperLine::Repeated {
        generation: g,
        prefixes,
        ..
    }) = out.last_mut()
        && *g == generation
    {
        prefixes.push(prefix);
        return true;
    }
    let mut route = template.clone();
    route.prefix = prefix;
    out.push(HelperLine::Repeated {
        template: command::Request {
            lease: None,
            neighbors: Vec::new(),
            command: command::Command::Announce(vec![route]),
            api6: false,
        },
        generation,
        prefixes: vec![prefix],
    });
    true
}

/// Whether the stream ended, after [`read_batch`].
#[derive(Debug, PartialEq, Eq)]
enum Ended {
    No,
    Yes,
    /// In the middle of a line of this many octets (that line is not in the batch).
    MidLine(usize),
}

/// Reads the next line (waiting for it) and every further whole line already buffered, up to
/// `max` lines, into `out` in order: the lines of one read, parsed. Empty lines are skipped;
/// a line that is no command, not UTF-8 or longer than [`MAX_LINE`] becomes a command
/// answered `error`.
fn read_batch<R: std::io::Read>(
    reader: &mut BufReader<R>,
    buf: &mut Vec<u8>,
    max: usize,
    memo: &mut RouteMemo,
    up_down: bool,
    out: &mut Vec<HelperLine>,
) -> std::io::Result<Ended> {
    let mut taken = 0;
    loop {
        let line = match read_line_capped(reader, buf, MAX_LINE)? {
            LineRead::Line => match std::str::from_utf8(buf) {
                Ok(text) => match text.trim() {
                    "" => None,
                    line if repeated(line, memo, out) => None,
                    "enable-ack" => Some(HelperLine::Ack(AckLine::Enable)),
                    "disable-ack" => Some(HelperLine::Ack(AckLine::Disable)),
                    "silence-ack" => Some(HelperLine::Ack(AckLine::Silence)),
                    // The original injector's watchdog program (see
                    // `ProcessConfig::up_down_watchdog`): its own group, by its name.
                    "up" if up_down => {
                        Some(HelperLine::Command(command::parse("announce watchdog")))
                    }
                    "down" if up_down => {
                        Some(HelperLine::Command(command::parse("withdraw watchdog")))
                    }
                    line => Some(HelperLine::Command(command::parse_with(line, memo))),
                },
                Err(_) => Some(HelperLine::Command(invalid(
                    "a line that is not UTF-8".into(),
                ))),
            },
            LineRead::TooLong => Some(HelperLine::Command(invalid(format!(
                "a line longer than {MAX_LINE} octets, refused whole"
            )))),
            LineRead::Unterminated => return Ok(Ended::MidLine(buf.len())),
            LineRead::End => return Ok(Ended::Yes),
        };
        out.extend(line);
        taken += 1;
        // Another read would wait for the helper: what was read goes now.
        if taken >= max || !reader.buffer().contains(&b'\n') {
            return Ok(Ended::No);
        }
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
        let mut reader = BufReader::with_capacity(READ_BUFFER, stdout);
        let mut buf = Vec::new();
        let mut lines = Vec::new();
        let mut commands = Vec::new();
        let mut memo = RouteMemo::default();
        // Sends the commands read so far as one request; `false` when the helper is being
        // stopped or the manager is gone.
        let send = |commands: &mut Vec<BatchLine>| -> bool {
            if commands.is_empty() {
                return true;
            }
            // The output of a stopped generation is ignored from the moment it is stopped.
            if stopping.load(Ordering::SeqCst) {
                return false;
            }
            let permit = loop {
                if let Some(p) = Permit::acquire(&slots, Duration::from_millis(200)) {
                    break Some(p);
                }
                if stopping.load(Ordering::SeqCst) {
                    break None;
                }
            };
            let Some(permit) = permit else { return false };
            let request = ApiRequest {
                source: Source::Process(name.clone()),
                action: ApiAction::Batch(std::mem::take(commands)),
                replier: Replier::Process(output.clone()),
                permit: Some(permit),
                stopped: None,
            };
            events.send(ProgramEvent::Request(request)).is_ok()
        };
        'reading: loop {
            let ended = read_batch(
                &mut reader,
                &mut buf,
                BATCH_LINES,
                &mut memo,
                config.up_down_watchdog,
                &mut lines,
            );
            for line in lines.drain(..) {
                match line {
                    HelperLine::Command(c) => {
                        if c.api6 {
                            output.api6.store(true, Ordering::Relaxed);
                        }
                        commands.push(BatchLine::One(c))
                    }
                    HelperLine::Repeated {
                        template, prefixes, ..
                    } => commands.push(BatchLine::Repeated { template, prefixes }),
                    // The commands before an ack mode change go first, so they are answered
                    // as before it (as when each line was its own request).
                    HelperLine::Ack(ack) => {
                        if !send(&mut commands) {
                            break 'reading;
                        }
                        match ack {
                            AckLine::Enable => {
                                output.ack.store(ACK_ON, Ordering::Relaxed);
                                output.send("done".into());
                            }
                            AckLine::Disable => {
                                output.send("done".into());
                                output.ack.store(ACK_OFF, Ordering::Relaxed);
                            }
                            AckLine::Silence => output.ack.store(ACK_OFF, Ordering::Relaxed),
                        }
                    }
                }
            }
            if !send(&mut commands) {
                break;
            }
            match ended {
                Ok(Ended::No) => {}
                Ok(Ended::Yes) | Err(_) => break,
                Ok(Ended::MidLine(octets)) => {
                    // ExaBGP applies only whole lines: a helper that died halfway through
                    // `... med 100` must not announce `med 1`.
                    warn!(
                        "process {name}: its output ended in the middle of a line ({octets} octets without newline); that line is ignored"
                    );
                    break;
                }
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
                LineRead::Line | LineRead::Unterminated => {
                    out.push(Ok(String::from_utf8_lossy(&buf).into_owned()))
                }
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

    #[test]
    fn an_original_watchdog_programs_up_and_down_switch_its_own_group() {
        let read = |up_down: bool| {
            let mut r = BufReader::new(&b"up\ndown\n"[..]);
            let (mut buf, mut lines) = (Vec::new(), Vec::new());
            read_batch(
                &mut r,
                &mut buf,
                10,
                &mut RouteMemo::default(),
                up_down,
                &mut lines,
            )
            .unwrap();
            lines
                .into_iter()
                .map(|l| match l {
                    HelperLine::Command(r) => r.command,
                    other => panic!("not a command: {other:?}"),
                })
                .collect::<Vec<_>>()
        };
        let watchdog = |announce| command::Command::Watchdog {
            name: None,
            announce,
        };
        assert_eq!(read(true), vec![watchdog(true), watchdog(false)]);
        assert!(
            read(false)
                .iter()
                .all(|c| matches!(c, command::Command::Invalid(_)))
        );
    }

    /// The lines a batch stands for, each as its own command (a run of repeated routes as
    /// the requests its lines would have been alone).
    fn expand(lines: Vec<HelperLine>) -> Vec<HelperLine> {
        let mut out = Vec::new();
        for line in lines {
            match line {
                HelperLine::Repeated {
                    template, prefixes, ..
                } => {
                    for p in prefixes {
                        let mut r = template.clone();
                        if let command::Command::Announce(routes) = &mut r.command {
                            routes.iter_mut().for_each(|r| r.prefix = p);
                        }
                        out.push(HelperLine::Command(r));
                    }
                }
                other => out.push(other),
            }
        }
        out
    }

    /// Every batch `read_batch` gives for `input` read through a buffer of `capacity`, each
    /// expanded to one command a line.
    fn batches(input: &[u8], capacity: usize, max: usize) -> (Vec<Vec<HelperLine>>, Ended) {
        let mut r = BufReader::with_capacity(capacity, input);
        let mut buf = Vec::new();
        let mut out = Vec::new();
        let mut memo = RouteMemo::default();
        loop {
            let mut lines = Vec::new();
            let ended = read_batch(&mut r, &mut buf, max, &mut memo, false, &mut lines).unwrap();
            if !lines.is_empty() {
                out.push(expand(lines));
            }
            if ended != Ended::No {
                return (out, ended);
            }
        }
    }

    fn announce(prefix: &str) -> HelperLine {
        HelperLine::Command(command::parse(&format!(
            "announce route {prefix} next-hop 192.0.2.1"
        )))
    }

    #[test]
    fn the_lines_of_one_read_make_one_batch_in_their_order() {
        let mut input = Vec::new();
        for i in 0..10 {
            input.extend(format!("announce route 10.0.{i}.0/24 next-hop 192.0.2.1\n").bytes());
        }
        // Everything in one buffer: one batch of ten, then the end.
        let (got, ended) = batches(&input, 1 << 16, 1024);
        assert_eq!(ended, Ended::Yes);
        assert_eq!(got.len(), 1);
        let want: Vec<HelperLine> = (0..10)
            .map(|i| announce(&format!("10.0.{i}.0/24")))
            .collect();
        assert_eq!(got[0], want);
        // At most `max` lines a batch; the order is kept across batches.
        let (got, _) = batches(&input, 1 << 16, 4);
        assert_eq!(got.iter().map(Vec::len).collect::<Vec<_>>(), [4, 4, 2]);
        assert_eq!(got.concat(), want);
        // A small buffer: a batch ends where the buffered lines end, none is lost or split.
        let (got, _) = batches(&input, 60, 1024);
        assert!(got.len() > 1);
        assert_eq!(got.concat(), want);
    }

    #[test]
    fn an_announce_and_a_withdraw_of_one_prefix_keep_their_order_in_a_batch() {
        let input = b"announce route 10.0.0.0/24 next-hop 192.0.2.1\n\
withdraw route 10.0.0.0/24\n\
announce route 10.0.0.0/24 next-hop 192.0.2.1 med 5\n\
enable-ack\n\n  \nsilence-ack\n";
        let (got, ended) = batches(input, 1 << 16, 1024);
        assert_eq!(ended, Ended::Yes);
        let got = got.concat();
        let kinds: Vec<&str> = got
            .iter()
            .map(|l| match l {
                HelperLine::Command(r) => match &r.command {
                    command::Command::Announce(_) => "announce",
                    command::Command::Withdraw(_) => "withdraw",
                    _ => "other",
                },
                HelperLine::Ack(AckLine::Enable) => "enable-ack",
                HelperLine::Ack(_) => "ack",
                HelperLine::Repeated { .. } => "repeated",
            })
            .collect();
        assert_eq!(
            kinds,
            ["announce", "withdraw", "announce", "enable-ack", "ack"]
        );
    }

    #[test]
    fn a_helper_that_dies_halfway_through_a_line_has_that_line_ignored() {
        // `med 100` cut to `med 1` must not be announced.
        let input = b"announce route 10.0.0.0/24 next-hop 192.0.2.1\nannounce route 10.0.1.0/24 next-hop 192.0.2.1 med 1";
        let (got, ended) = batches(input, 16, 1024);
        assert_eq!(got.concat(), [announce("10.0.0.0/24")]);
        assert_eq!(ended, Ended::MidLine(51));
        // A line longer than the cap, cut by the end: refused, nothing else applied.
        let mut input = b"announce route 10.0.0.0/24 next-hop 192.0.2.1\n".to_vec();
        input.extend(std::iter::repeat_n(b'x', MAX_LINE + 10));
        let (got, ended) = batches(&input, 1 << 12, 1024);
        assert_eq!(got.concat()[0], announce("10.0.0.0/24"));
        assert!(
            matches!(&got.concat()[1], HelperLine::Command(r) if matches!(r.command, command::Command::Invalid(_)))
        );
        assert_eq!(ended, Ended::Yes);
    }

    /// Lines read as runs of one route with other prefixes give, line for line, what each
    /// line parsed alone gives: through every kind of line that may break a run (another
    /// prefix length or family, other attributes, a lease, a neighbor selector, a watchdog,
    /// `split`, a withdrawal, an invalid line, an ack line), in buffers of every size.
    #[test]
    fn repeated_routes_read_as_each_line_alone() {
        let mut text = String::new();
        let mut add = |line: String| {
            text.push_str(&line);
            text.push('\n');
        };
        for i in 0..40u32 {
            add(format!("announce route 10.0.{i}.1/32 next-hop 192.0.2.1"));
        }
        for (i, other) in [
            "announce route 10.1.0.0/24 next-hop 192.0.2.1",
            "announce route 10.1.0.1/32 next-hop 192.0.2.1 med 5",
            "announce route 10.1.0.2/32 next-hop 192.0.2.1 lease 30",
            "neighbor 127.0.0.1 announce route 10.1.0.3/32 next-hop 192.0.2.1",
            "announce route 10.1.0.4/32 next-hop 192.0.2.1 watchdog dog",
            "announce route 10.1.1.0/24 next-hop 192.0.2.1 split /26",
            "withdraw route 10.0.3.1/32 next-hop 192.0.2.1",
            "announce route 2001:db8::1/128 next-hop 192.0.2.1",
            "announce route 10.1.0.5/31 next-hop 192.0.2.1",
            "announce route 10.1.0.7/32 next-hop 192.0.2.1 as-path [ 1 2",
            "announce route 10.1.0.9/33 next-hop 192.0.2.1",
            "announce route 10.1.0.10/32  next-hop   192.0.2.1",
            "announce  route 10.1.0.11/32 next-hop 192.0.2.1",
            "announce route 10.1.0.12/32 next-hop 192.0.2.1\\n",
            "enable-ack",
        ]
        .iter()
        .enumerate()
        {
            add(other.to_string());
            for k in 0..3u32 {
                add(format!("announce route 10.2.{i}.{k}/32 next-hop 192.0.2.1"));
                add(format!(
                    "announce route 10.3.{i}.{k}/32 next-hop 192.0.2.1 med 5"
                ));
            }
        }
        let mut memo = RouteMemo::default();
        let want: Vec<HelperLine> = text
            .lines()
            .map(|line| match line {
                "enable-ack" => HelperLine::Ack(AckLine::Enable),
                line => HelperLine::Command(command::parse_with(line, &mut memo)),
            })
            .collect();
        for capacity in [64, 100, 1000, 1 << 16] {
            for max in [1, 3, 1024] {
                let (got, ended) = batches(text.as_bytes(), capacity, max);
                assert_eq!(ended, Ended::Yes);
                assert_eq!(got.concat(), want, "capacity {capacity}, max {max}");
            }
        }
        // The flood is read as runs: 40 lines, the first parsed, 39 repeated.
        let mut r = BufReader::new(text.as_bytes());
        let (mut buf, mut lines) = (Vec::new(), Vec::new());
        let mut memo = RouteMemo::default();
        read_batch(&mut r, &mut buf, 1024, &mut memo, false, &mut lines).unwrap();
        assert!(
            matches!(&lines[1], HelperLine::Repeated { prefixes, .. } if prefixes.len() == 39),
            "{:?}",
            &lines[1]
        );
    }
}
