//! `bgpinject migrate CONFIG`: prints CONFIG in today's spelling (see `config::migrate`),
//! comments kept, so that an ExaBGP file of any era can be moved forward and diffed. What
//! changed goes to stderr, one `FILE:LINE: ...` line each. Exit 0 when the rewritten text
//! passes `--check`, 1 when it does not (the text is printed anyway, with the error), 2 on
//! a usage error.

use std::io::{Read, Write};
use std::path::Path;

use crate::config;

const USAGE: &str = "Usage: bgpinject migrate CONFIG\n\nPrints CONFIG in today's syntax (comments kept); the changes go to stderr.";

/// Runs the subcommand; `args` excludes the word `migrate`. Returns the exit code.
pub fn run(args: &[String], out: &mut dyn Write) -> i32 {
    let path = match args {
        [h] if h == "-h" || h == "--help" => {
            let _ = writeln!(out, "{USAGE}");
            return 0;
        }
        [path] => Path::new(path),
        _ => {
            eprintln!("bgpinject migrate: expected one CONFIG\n\n{USAGE}");
            return 2;
        }
    };
    let mut text = String::new();
    if let Err(e) = config::open_for_lexing(path).and_then(|mut r| r.read_to_string(&mut text)) {
        eprintln!("{}: cannot read: {e}", path.display());
        return 1;
    }
    let migration = match config::migrate::migrate(&text, path) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("{e}");
            return 1;
        }
    };
    if out.write_all(migration.text.as_bytes()).is_err() {
        return 1;
    }
    for change in &migration.changes {
        eprintln!("{}:{change}", path.display());
    }
    // The rewritten file must say what the original says: at least, it must be accepted.
    match config::parse_str(&migration.text, path) {
        Ok(_) => 0,
        Err(e) => {
            eprintln!("bgpinject migrate: the rewritten configuration is refused: {e}");
            1
        }
    }
}
