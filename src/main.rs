//! Command line: parse arguments, set up logging, then run the daemon or a subcommand.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use getopts::Options;
use log::{LevelFilter, error, info};

use bgpinject::cli::daemon::{self, Account, StartupReport};
use bgpinject::logging::{self, Destination, Format};
use bgpinject::manager::{Manager, ManagerEvent};
use bgpinject::{config, pidfile, reload_plan};

/// Exit codes (documented in README).
const EXIT_CONFIG: u8 = 1;
const EXIT_USAGE: u8 = 2;
const EXIT_RUNTIME: u8 = 3;

fn options() -> Options {
    let mut o = Options::new();
    o.optflag("h", "help", "print this help and exit");
    o.optflag("V", "version", "print the version and exit");
    o.optflag(
        "t",
        "check",
        "parse and validate CONFIG, print a summary per neighbor, and exit",
    );
    o.optflag(
        "",
        "diff",
        "with --check and two files OLD NEW: print what a reload from OLD to NEW would do",
    );
    o.optopt(
        "",
        "pid-file",
        "write the process id to FILE and lock it (refused while a running bgpinject holds it)",
        "FILE",
    );
    o.optflag(
        "",
        "reload",
        "send SIGHUP to the bgpinject named by --pid-file, and exit",
    );
    o.optflag(
        "",
        "watch",
        "reload when CONFIG changes on disk (polled every 250 ms)",
    );
    o.optflag(
        "",
        "selfcheck",
        "decode every UPDATE again before sending it (always on in debug builds)",
    );
    o.optopt(
        "",
        "control",
        "the control socket (default /run/bgpinject/bgpinject.sock as root, $XDG_RUNTIME_DIR/bgpinject.sock otherwise; 'off': none)",
        "PATH",
    );
    o.optopt(
        "",
        "metrics",
        "serve the metrics (Prometheus text format) at http://ADDRESS:PORT/metrics, e.g. 127.0.0.1:9179 or [::1]:9179",
        "ADDRESS:PORT",
    );
    o.optopt(
        "",
        "port",
        "the TCP port of neighbors that write no connect or listen (default 179; ExaBGP's exabgp.tcp.port)",
        "PORT",
    );
    o.optopt(
        "",
        "log-level",
        "error, warn, info (default), debug or trace",
        "LEVEL",
    );
    o.optopt(
        "",
        "log-format",
        "text (default) or json (one object per line)",
        "FORMAT",
    );
    o.optopt(
        "",
        "log-file",
        "append the log to FILE instead of stderr (reopened on SIGHUP)",
        "FILE",
    );
    o.optflag(
        "",
        "syslog",
        "log to the local syslog (/dev/log, facility daemon) instead of stderr",
    );
    o.optflag(
        "",
        "daemon",
        "go to the background once started (default: stay in the foreground)",
    );
    o.optopt(
        "",
        "user",
        "run as USER once the listening sockets are bound",
        "USER",
    );
    o
}

fn usage(o: &Options) -> String {
    o.usage(
        "Usage: bgpinject [OPTIONS] CONFIG\n       \
         bgpinject --check --diff OLD NEW\n       \
         bgpinject --reload --pid-file FILE\n       \
         bgpinject encode [--neighbor IP] [--as2] CONFIG\n       \
         bgpinject decode [--json] [--as2] [HEX...]   (or hex messages on stdin, one per line)\n       \
         bgpinject ctl [--socket PATH] COMMAND   (talk to a running bgpinject)\n       \
         bgpinject migrate CONFIG   (print an ExaBGP configuration of any era in today's syntax)\n\n\
         Announces the routes of CONFIG (ExaBGP-style syntax) to its BGP neighbors.\n\
         Runs in the foreground and logs to stderr unless told otherwise. SIGHUP reloads\n\
         CONFIG and reopens the --log-file; SIGUSR1 reloads; SIGUSR2 logs every neighbor's\n\
         state; SIGTERM or SIGINT sends Cease to every peer and exits.\n\
         Exit codes: 0 clean stop, 1 configuration error, 2 usage error, 3 runtime failure.",
    )
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(code) = subcommand(&args) {
        return ExitCode::from(code);
    }
    let opts = options();
    let m = match opts.parse(&args) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("bgpinject: {e}\n\n{}", usage(&opts));
            return ExitCode::from(EXIT_USAGE);
        }
    };
    if m.opt_present("help") {
        print!("{}", usage(&opts));
        return ExitCode::SUCCESS;
    }
    if m.opt_present("version") {
        println!("bgpinject {}", env!("CARGO_PKG_VERSION"));
        return ExitCode::SUCCESS;
    }
    if let Some(port) = m.opt_str("port") {
        match port.parse::<u16>() {
            Ok(p) if p > 0 => bgpinject::config::model::set_default_port(p),
            _ => {
                eprintln!("bgpinject: --port: expected a TCP port (1-65535), found '{port}'");
                return ExitCode::from(EXIT_USAGE);
            }
        }
    }
    let level = match m.opt_str("log-level").as_deref() {
        None | Some("info") => LevelFilter::Info,
        Some("error") => LevelFilter::Error,
        Some("warn") => LevelFilter::Warn,
        Some("debug") => LevelFilter::Debug,
        Some("trace") => LevelFilter::Trace,
        Some(other) => {
            eprintln!(
                "bgpinject: --log-level: expected error, warn, info, debug or trace, found '{other}'"
            );
            return ExitCode::from(EXIT_USAGE);
        }
    };
    if m.opt_present("reload") {
        let Some(pid_file) = m.opt_str("pid-file") else {
            eprintln!("bgpinject: --reload needs --pid-file FILE");
            return ExitCode::from(EXIT_USAGE);
        };
        return match pidfile::signal_reload(Path::new(&pid_file)) {
            Ok(pid) => {
                println!("sent SIGHUP to bgpinject (process {pid})");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("bgpinject: {e}");
                ExitCode::from(EXIT_RUNTIME)
            }
        };
    }
    // Every daemon option is checked before anything else, so that `--check` (a unit's
    // ExecStartPre=) fails on an option the daemon would refuse at start.
    let settings = match DaemonSettings::from_matches(&m, level) {
        Ok(s) => s,
        Err(code) => return ExitCode::from(code),
    };
    if m.opt_present("diff") {
        let ([old, new], true) = (m.free.as_slice(), m.opt_present("check")) else {
            eprintln!("bgpinject: --diff is used as --check --diff OLD NEW");
            return ExitCode::from(EXIT_USAGE);
        };
        printing_to_a_pipe();
        let (old, new) = match (config::load(Path::new(old)), config::load(Path::new(new))) {
            (Ok(o), Ok(n)) => (o, n),
            (Err(e), _) | (_, Err(e)) => {
                eprintln!("{e}");
                return ExitCode::from(EXIT_CONFIG);
            }
        };
        print!("{}", reload_plan::dry_run(&old, &new));
        return ExitCode::SUCCESS;
    }
    let [path] = m.free.as_slice() else {
        eprintln!("bgpinject: expected one CONFIG file\n\n{}", usage(&opts));
        return ExitCode::from(EXIT_USAGE);
    };
    let path = PathBuf::from(path);
    let (config, notes) = match config::load_with_notes(&path) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    if m.opt_present("check") {
        printing_to_a_pipe();
        for note in &notes {
            eprintln!("{note}");
        }
        let lines = config::check_report(&config);
        if lines.is_empty() {
            println!("{}: valid, no neighbor configured", path.display());
        }
        for l in lines {
            println!("{l}");
        }
        return ExitCode::SUCCESS;
    }
    // Absolute: a daemon works in `/`.
    let control = m.opt_str("control").map(|c| match c.as_str() {
        "off" => c,
        _ => std::path::absolute(&c)
            .map(|p| p.display().to_string())
            .unwrap_or(c),
    });
    bgpinject::api::control::set_socket_option(control);
    if m.opt_present("selfcheck") {
        bgpinject::rib::selfcheck::force_enable();
    }
    start_daemon(path, config, settings)
}

/// What `--daemon`, `--user`, `--pid-file`, `--watch` and the log options asked for. Paths are
/// absolute: a daemon works in `/`, and a reload must find the same files.
struct DaemonSettings {
    level: LevelFilter,
    format: Format,
    destination: Destination,
    background: bool,
    account: Option<Account>,
    pid_file: Option<PathBuf>,
    watch: bool,
    metrics: Option<std::net::SocketAddr>,
}

impl DaemonSettings {
    fn from_matches(m: &getopts::Matches, level: LevelFilter) -> Result<DaemonSettings, u8> {
        let format = match m.opt_str("log-format") {
            None => Format::Text,
            Some(f) => Format::parse(&f).ok_or_else(|| {
                eprintln!("bgpinject: --log-format: expected text or json, found '{f}'");
                EXIT_USAGE
            })?,
        };
        let destination = match (m.opt_str("log-file"), m.opt_present("syslog")) {
            (Some(_), true) => {
                eprintln!("bgpinject: --log-file and --syslog exclude each other");
                return Err(EXIT_USAGE);
            }
            (Some(f), false) => Destination::File(absolute(&f)?),
            (None, true) => Destination::Syslog(logging::SYSLOG_SOCKET.into()),
            (None, false) => Destination::Stderr,
        };
        let account = match m.opt_str("user") {
            None => None,
            Some(u) => Some(daemon::lookup_user(&u).map_err(|e| {
                eprintln!("bgpinject: {e}");
                EXIT_USAGE
            })?),
        };
        let pid_file = m.opt_str("pid-file").map(|p| absolute(&p)).transpose()?;
        if m.opt_str("control").is_some_and(|c| c.is_empty()) {
            eprintln!("bgpinject: --control: expected a socket path or 'off'");
            return Err(EXIT_USAGE);
        }
        let metrics = match m.opt_str("metrics") {
            None => None,
            Some(a) => Some(a.parse().map_err(|_| {
                eprintln!(
                    "bgpinject: --metrics: expected ADDRESS:PORT (127.0.0.1:9179, [::1]:9179), found '{a}'"
                );
                EXIT_USAGE
            })?),
        };
        Ok(DaemonSettings {
            metrics,
            level,
            format,
            destination,
            background: m.opt_present("daemon"),
            account,
            pid_file,
            watch: m.opt_present("watch"),
        })
    }
}

fn absolute(path: impl AsRef<Path>) -> Result<PathBuf, u8> {
    std::path::absolute(path.as_ref()).map_err(|e| {
        eprintln!("bgpinject: {}: {e}", path.as_ref().display());
        EXIT_RUNTIME
    })
}

/// Forks when asked, sets up logging and the pid file, then runs. In the background the
/// parent's exit code is the child's startup verdict.
fn start_daemon(path: PathBuf, config: config::Config, s: DaemonSettings) -> ExitCode {
    let path = match absolute(&path) {
        Ok(p) => p,
        Err(code) => return ExitCode::from(code),
    };
    let mut report = None;
    if s.background {
        match daemon::daemonize() {
            Ok(r) => report = Some(r),
            Err(e) => {
                eprintln!("bgpinject: {e}");
                return ExitCode::from(EXIT_RUNTIME);
            }
        }
    }
    let fail = |report: Option<StartupReport>, code: u8| {
        if let Some(r) = report {
            r.failure(code);
        }
        ExitCode::from(code)
    };
    if let Err(e) = logging::init(s.level, s.format, &s.destination) {
        eprintln!("bgpinject: {e}");
        return fail(report, EXIT_RUNTIME);
    }
    // Signal handlers before the pid file: once the pid file names us, `--reload`, a service
    // manager or a test may signal us, and SIGTERM must then shut down cleanly, not kill.
    let signals = match daemon_signals() {
        Ok(s) => s,
        Err(e) => {
            error!("cannot install signal handlers: {e}");
            return fail(report, EXIT_RUNTIME);
        }
    };
    let _pid_file = match s.pid_file.as_deref().map(pidfile::PidFile::create) {
        None => None,
        Some(Ok(f)) => Some(f),
        Some(Err(e)) => {
            error!("{e}");
            eprintln!("bgpinject: {e}");
            return fail(report, EXIT_RUNTIME);
        }
    };
    run_daemon(path, config, &s, signals, report)
}

/// The signals the daemon handles, delivered to its signal thread from now on.
fn daemon_signals() -> std::io::Result<signal_hook::iterator::Signals> {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM, SIGUSR1, SIGUSR2};
    signal_hook::iterator::Signals::new([SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2])
}

/// `bgpinject encode ...` / `bgpinject decode ...`: tools that do not start the daemon.
fn subcommand(args: &[String]) -> Option<u8> {
    let (first, rest) = args.split_first()?;
    if matches!(first.as_str(), "encode" | "decode" | "ctl" | "migrate") {
        printing_to_a_pipe();
    }
    let code = match first.as_str() {
        "encode" => bgpinject::cli::encode::run(rest, &mut std::io::stdout().lock()),
        "decode" => bgpinject::cli::decode::run(rest),
        "migrate" => bgpinject::cli::migrate::run(rest, &mut std::io::stdout().lock()),
        "ctl" => bgpinject::api::control::run_ctl(rest),
        _ => return None,
    };
    Some(u8::try_from(code).unwrap_or(EXIT_RUNTIME))
}

/// For commands that only print (subcommands, `--check`): a reader that goes away, as in
/// `bgpinject decode | head`, ends the process quietly, as with other Unix tools, instead of
/// a panic in `println!`. The daemon keeps SIGPIPE ignored: a closed socket is an error it
/// handles.
fn printing_to_a_pipe() {
    // SAFETY: sets the disposition of one signal to its default; no handler runs.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

fn run_daemon(
    path: PathBuf,
    config: config::Config,
    settings: &DaemonSettings,
    mut signals: signal_hook::iterator::Signals,
    mut report: Option<StartupReport>,
) -> ExitCode {
    use signal_hook::consts::{SIGHUP, SIGUSR1, SIGUSR2};

    bgpinject::descriptors::close_inherited_on_exec();
    let (tx, rx) = crossbeam_channel::unbounded();
    let nofile = bgpinject::descriptors::raise_limit();
    info!(
        "bgpinject {} starting with {} ({} neighbors, open file limit {})",
        env!("CARGO_PKG_VERSION"),
        path.display(),
        config.neighbors.len(),
        nofile.map_or("unknown".into(), |n| n.to_string())
    );
    if let Some(account) = &settings.account {
        daemon::set_program_account(account.clone());
    }
    if settings.watch {
        bgpinject::watch::spawn(config.sources.clone(), tx.clone());
    }
    // Bound before the sessions start and before privileges are dropped, like the BGP
    // listeners; a port that cannot be had is a startup failure, as the operator asked for it.
    if let Some(addr) = settings.metrics
        && let Err(e) = bgpinject::metrics::http::start(addr)
    {
        error!(
            "metrics: cannot listen on {addr}: {}",
            bgpinject::descriptors::explain(&e)
        );
        if let Some(r) = report.take() {
            r.failure(EXIT_RUNTIME);
        }
        return ExitCode::from(EXIT_RUNTIME);
    }
    let manager = match Manager::start(path, config, tx.clone()) {
        Ok(m) => m,
        Err(e) => {
            error!("{e}");
            if let Some(r) = report.take() {
                r.failure(EXIT_RUNTIME);
            }
            return ExitCode::from(EXIT_RUNTIME);
        }
    };
    // The listeners are bound: root is no longer needed (TCP MD5 keys and TTLs are set on
    // sockets this process creates, which takes no privilege).
    if let Some(account) = &settings.account {
        if let Err(e) = daemon::drop_privileges(account) {
            error!("cannot run as user {}: {e}", account.name);
            if let Some(r) = report.take() {
                r.failure(EXIT_RUNTIME);
            }
            // Stop the sessions already started, as on SIGTERM.
            let _ = tx.send(ManagerEvent::Shutdown);
            manager.run(rx);
            return ExitCode::from(EXIT_RUNTIME);
        }
        info!(
            "running as user {} (uid {}, gid {})",
            account.name, account.uid, account.gid
        );
    }
    if let Some(r) = report.take() {
        r.success();
    }
    let signal_tx = tx;
    std::thread::spawn(move || {
        for sig in signals.forever() {
            let event = match sig {
                SIGHUP => {
                    // logrotate moved the file away: continue in a new one.
                    if let Err(e) = logging::reopen() {
                        error!("{e}; still logging to the previous file");
                    }
                    ManagerEvent::Reload
                }
                SIGUSR1 => ManagerEvent::Reload,
                SIGUSR2 => ManagerEvent::DumpStatus,
                _ => {
                    info!("signal {sig} received: shutting down");
                    ManagerEvent::Shutdown
                }
            };
            if signal_tx.send(event).is_err() {
                return;
            }
        }
    });
    manager.run(rx);
    info!("bgpinject stopped");
    ExitCode::SUCCESS
}
