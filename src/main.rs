//! Command line: parse arguments, set up logging, then run the daemon or a subcommand.

use std::path::PathBuf;
use std::process::ExitCode;

use getopts::Options;
use log::{LevelFilter, error, info};
use simplelog::{ColorChoice, ConfigBuilder, TermLogger, TerminalMode};

use bgpinject::config;
use bgpinject::manager::{Manager, ManagerEvent};

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
        "selfcheck",
        "decode every UPDATE again before sending it (always on in debug builds)",
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
         bgpinject encode [--neighbor IP] [--as2] CONFIG\n\n\
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
    if m.opt_present("selfcheck") {
        bgpinject::rib::selfcheck::force_enable();
    }
    run_daemon(path, config)
}

/// `bgpinject encode ...` / `bgpinject decode ...`: tools that do not start the daemon.
fn subcommand(args: &[String]) -> Option<u8> {
    let (first, rest) = args.split_first()?;
    let code = match first.as_str() {
        "encode" => bgpinject::cli::encode::run(rest, &mut std::io::stdout().lock()),
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

fn run_daemon(path: PathBuf, config: config::Config) -> ExitCode {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM, SIGUSR1};

    let (tx, rx) = crossbeam_channel::unbounded();
    let mut signals = match signal_hook::iterator::Signals::new([SIGTERM, SIGINT, SIGHUP, SIGUSR1])
    {
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
