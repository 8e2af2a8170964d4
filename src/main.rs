//! Command line: parse arguments, set up logging, then run the daemon or a subcommand.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use getopts::Options;
use log::{LevelFilter, error, info};
use simplelog::{ColorChoice, ConfigBuilder, TermLogger, TerminalMode};

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
        "write the process id to FILE (refused if it names a running process)",
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
        "the control socket (default /run/bgpinject.sock as root, /tmp/bgpinject-UID.sock otherwise; 'off': none)",
        "PATH",
    );
    o.optopt(
        "",
        "log-level",
        "error, warn, info (default), debug or trace",
        "LEVEL",
    );
    o
}

fn usage(o: &Options) -> String {
    o.usage(
        "Usage: bgpinject [OPTIONS] CONFIG\n       \
         bgpinject --check --diff OLD NEW\n       \
         bgpinject --reload --pid-file FILE\n       \
         bgpinject encode [--neighbor IP] [--as2] CONFIG\n       \
         bgpinject decode [--json] [--as2] [HEX...]   (or hex messages on stdin, one per line)\n\n\
         Announces the routes of CONFIG (ExaBGP-style syntax) to its BGP neighbors.\n\
         Runs in the foreground and logs to stderr. SIGHUP or SIGUSR1 reloads CONFIG;\n\
         SIGTERM or SIGINT sends Cease to every peer and exits.",
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
    if m.opt_present("diff") {
        let ([old, new], true) = (m.free.as_slice(), m.opt_present("check")) else {
            eprintln!("bgpinject: --diff is used as --check --diff OLD NEW");
            return ExitCode::from(EXIT_USAGE);
        };
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
    let config = match config::load(&path) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    if m.opt_present("check") {
        let lines = config::summary(&config);
        if lines.is_empty() {
            println!("{}: valid, no neighbor configured", path.display());
        }
        for l in lines {
            println!("{l}");
        }
        return ExitCode::SUCCESS;
    }
    init_logging(level);
    bgpinject::api::control::set_socket_option(m.opt_str("control"));
    if m.opt_present("selfcheck") {
        bgpinject::rib::selfcheck::force_enable();
    }
    let _pid_file = match m
        .opt_str("pid-file")
        .map(|p| pidfile::PidFile::create(Path::new(&p)))
    {
        None => None,
        Some(Ok(f)) => Some(f),
        Some(Err(e)) => {
            error!("{e}");
            return ExitCode::from(EXIT_RUNTIME);
        }
    };
    run_daemon(path, config, m.opt_present("watch"))
}

/// `bgpinject encode ...` / `bgpinject decode ...`: tools that do not start the daemon.
fn subcommand(args: &[String]) -> Option<u8> {
    let (first, rest) = args.split_first()?;
    let code = match first.as_str() {
        "encode" => bgpinject::cli::encode::run(rest, &mut std::io::stdout().lock()),
        "decode" => bgpinject::cli::decode::run(rest),
        "ctl" => bgpinject::api::control::run_ctl(rest),
        _ => return None,
    };
    Some(u8::try_from(code).unwrap_or(EXIT_RUNTIME))
}

fn init_logging(level: LevelFilter) {
    let config = ConfigBuilder::new()
        .set_time_format_rfc3339()
        .set_thread_level(LevelFilter::Off)
        .set_target_level(LevelFilter::Off)
        .build();
    // Cannot fail except when a logger is already set, which it is not.
    let _ = TermLogger::init(level, config, TerminalMode::Stderr, ColorChoice::Never);
}

fn run_daemon(path: PathBuf, config: config::Config, watch: bool) -> ExitCode {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM, SIGUSR1, SIGUSR2};

    let (tx, rx) = crossbeam_channel::unbounded();
    let mut signals =
        match signal_hook::iterator::Signals::new([SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2]) {
            Ok(s) => s,
            Err(e) => {
                error!("cannot install signal handlers: {e}");
                return ExitCode::from(EXIT_RUNTIME);
            }
        };
    info!(
        "bgpinject {} starting with {} ({} neighbors)",
        env!("CARGO_PKG_VERSION"),
        path.display(),
        config.neighbors.len()
    );
    if watch {
        bgpinject::watch::spawn(path.clone(), config.sources.clone(), tx.clone());
    }
    let manager = match Manager::start(path, config, tx.clone()) {
        Ok(m) => m,
        Err(e) => {
            error!("{e}");
            return ExitCode::from(EXIT_RUNTIME);
        }
    };
    let signal_tx = tx;
    std::thread::spawn(move || {
        for sig in signals.forever() {
            let event = match sig {
                SIGHUP | SIGUSR1 => ManagerEvent::Reload,
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
