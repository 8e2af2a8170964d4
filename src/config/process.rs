//! `process NAME { run PROGRAM ARGS; encoder text|json; on-exit withdraw|keep; }` at top level
//! and `api { processes [ NAME ]; }` in a neighbor: helper programs in ExaBGP's syntax.

use super::ConfigError;
use super::lexer::{Token, TokenKind};
use super::model::{Location, NeighborConfig};
use super::parser::{Parser, Setting, one_of};

/// The statements of a `process NAME { }` block.
/// A stopped helper's time between SIGTERM and SIGKILL, unless `kill-grace` says otherwise.
pub const KILL_GRACE: std::time::Duration = std::time::Duration::from_secs(5);
/// The longest `kill-grace` a process block may set.
pub const MAX_KILL_GRACE_SECONDS: u64 = 600;

pub const KEYWORDS: &[&str] = &["run", "encoder", "on-exit", "kill-grace"];
/// The statements of a neighbor's `api { }` block.
pub const API_KEYWORDS: &[&str] = &["processes", "neighbor-changes", "receive"];

/// What `api { receive { ... } }` may ask for: `update` with `parsed` sends the UPDATEs the
/// peer sends, decoded; `notification` is accepted (NOTIFICATIONs are always sent).
pub const RECEIVE_KEYWORDS: &[&str] = &["parsed", "update", "notification"];

/// How events are written to a helper's stdin (ExaBGP `encoder`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Encoder {
    #[default]
    Text,
    Json,
}

/// What happens to a helper's routes when it exits (bgpinject's `on-exit`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OnExit {
    /// Its routes are withdrawn; the restarted helper announces them again.
    Withdraw,
    /// Its routes stay announced until the restarted helper withdraws them. The default, as
    /// in ExaBGP, where routes announced through the API belong to the neighbor's table and
    /// not to the process: a one-shot helper that announces and exits leaves its route, and a
    /// helper that crashes and comes back does not make its routes flap.
    #[default]
    Keep,
}

/// One `process NAME { ... }` block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProcessConfig {
    pub name: String,
    /// The program and its arguments (no shell).
    pub run: Vec<String>,
    pub encoder: Encoder,
    pub on_exit: OnExit,
    /// `kill-grace SECONDS;`: how long a stopped helper has between SIGTERM and SIGKILL.
    pub kill_grace: std::time::Duration,
    pub location: Location,
}

/// Parses from just after `process` to the block's `}`.
pub(super) fn parse_process(
    p: &mut Parser,
    keyword: &Token,
    earlier: &[ProcessConfig],
) -> Result<ProcessConfig, ConfigError> {
    let (name, block, open) = p.named_block(
        "process",
        earlier.iter().map(|e| (e.name.as_str(), e.location.line)),
    )?;
    let mut run: Setting<Vec<String>> = Setting::default();
    let mut encoder: Setting<Encoder> = Setting::default();
    let mut on_exit: Setting<OnExit> = Setting::default();
    let mut kill_grace: Setting<std::time::Duration> = Setting::default();
    while let Some(kw) = p.block_keyword(&open, &block)? {
        match kw.text.as_str() {
            "run" => {
                let mut words = Vec::new();
                loop {
                    let t = p.advance();
                    match t.kind {
                        TokenKind::Word | TokenKind::Quoted => words.push(t.text),
                        TokenKind::Semicolon if !words.is_empty() => break,
                        _ => return Err(p.unexpected(&t, "a program path, its arguments and ';'")),
                    }
                }
                if let Some(program) = words.first_mut() {
                    *program = resolve_program(program, p.file());
                }
                run.set(p, &kw, &block, words)?;
                continue;
            }
            "encoder" => {
                let t = p.expect_word("text or json after encoder")?;
                let e = match t.text.as_str() {
                    "text" => Encoder::Text,
                    "json" => Encoder::Json,
                    _ => return Err(p.unexpected(&t, "text or json after encoder")),
                };
                encoder.set(p, &kw, &block, e)?;
            }
            "on-exit" => {
                let t = p.expect_word("withdraw or keep after on-exit")?;
                let e = match t.text.as_str() {
                    "withdraw" => OnExit::Withdraw,
                    "keep" => OnExit::Keep,
                    _ => return Err(p.unexpected(&t, "withdraw or keep after on-exit")),
                };
                on_exit.set(p, &kw, &block, e)?;
            }
            "kill-grace" => {
                let max = MAX_KILL_GRACE_SECONDS;
                let (t, _) = p.value("kill-grace", |t| {
                    super::values::number_in(t, 1, max, "1..600 seconds")
                })?;
                kill_grace.set(p, &kw, &block, std::time::Duration::from_secs(t))?;
            }
            _ => return Err(p.unknown_keyword(&kw, &block, &one_of(KEYWORDS))),
        }
        p.expect_semicolon(&format!("{} value", kw.text))?;
    }
    let Some(run) = run.take() else {
        return Err(p.error_at(
            keyword.position,
            format!("{block} has no run statement, expected 'run /path/to/program ARGS;'"),
        ));
    };
    Ok(ProcessConfig {
        name,
        run,
        encoder: encoder.take().unwrap_or_default(),
        on_exit: on_exit.take().unwrap_or_default(),
        kill_grace: kill_grace.take().unwrap_or(KILL_GRACE),
        location: p.location(keyword.position),
    })
}

/// `api { processes [ NAME ... ]; neighbor-changes; receive { parsed; update; } }` in a
/// neighbor, from just after `api`. `neighbor-changes` is accepted for ExaBGP files: state
/// changes are always sent. `receive { update; }` sets `receive_updates`.
pub(super) fn parse_api_block(
    p: &mut Parser,
    owner: &str,
    names: &mut Vec<String>,
    receive_updates: &mut bool,
) -> Result<(), ConfigError> {
    let block = format!("the api block of {owner}");
    let open = p.open_block("api")?;
    while let Some(kw) = p.block_keyword(&open, &block)? {
        match kw.text.as_str() {
            "receive" => {
                let inner = format!("the receive block of {block}");
                let open = p.open_block("receive")?;
                while let Some(item) = p.block_keyword(&open, &inner)? {
                    match item.text.as_str() {
                        "update" => *receive_updates = true,
                        "parsed" | "notification" => {}
                        other => {
                            return Err(p.error_at(
                                item.position,
                                format!(
                                    "unsupported '{other}' in {inner}, expected {}",
                                    one_of(RECEIVE_KEYWORDS)
                                ),
                            ));
                        }
                    }
                    p.expect_semicolon(&format!("receive {}", item.text))?;
                }
                continue;
            }
            "processes" => {
                for t in p.word_or_list("processes")? {
                    if !names.contains(&t.text) {
                        names.push(t.text);
                    }
                }
            }
            "neighbor-changes" => {}
            _ => return Err(p.unknown_keyword(&kw, &block, &one_of(API_KEYWORDS))),
        }
        p.expect_semicolon(&format!("{} value", kw.text))?;
    }
    Ok(())
}

/// Every process a neighbor names must be defined.
pub(super) fn check_references(
    neighbors: &[NeighborConfig],
    processes: &[ProcessConfig],
) -> Result<(), ConfigError> {
    for n in neighbors {
        for name in &n.api_processes {
            if !processes.iter().any(|p| &p.name == name) {
                return Err(ConfigError {
                    location: Some(n.location.clone()),
                    message: format!(
                        "neighbor {} names process {name} in its api block, but no 'process {name} {{ ... }}' is defined",
                        n.peer_address
                    ),
                });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::config::parse_str;

    const N: &str = "neighbor 192.0.2.1 { router-id 192.0.2.10; local-as 65000; peer-as 65001; api { processes [ a ]; neighbor-changes; } }";

    #[test]
    fn process_and_api_block() {
        let text =
            format!("process a {{ run /bin/sh -c \"echo hi\"; encoder json; on-exit keep; }}\n{N}");
        let c = parse_str(&text, Path::new("t.conf")).unwrap();
        assert_eq!(c.processes[0].run, vec!["/bin/sh", "-c", "echo hi"]);
        assert_eq!(c.processes[0].encoder, Encoder::Json);
        assert_eq!(c.processes[0].on_exit, OnExit::Keep);
        assert_eq!(c.neighbors[0].api_processes, vec!["a".to_string()]);
        assert_eq!(c.processes[0].kill_grace, KILL_GRACE);
    }

    #[test]
    fn kill_grace_is_set_and_bounded() {
        let text = format!("process a {{ run /bin/true; kill-grace 30; }}\n{N}");
        let c = parse_str(&text, Path::new("t.conf")).unwrap();
        assert_eq!(
            c.processes[0].kill_grace,
            std::time::Duration::from_secs(30)
        );
        for bad in ["0", "601", "soon"] {
            let text = format!("process a {{ run /bin/true; kill-grace {bad}; }}\n{N}");
            let e = parse_str(&text, Path::new("t.conf"))
                .unwrap_err()
                .to_string();
            assert!(e.contains("kill-grace"), "{bad}: {e}");
        }
    }

    #[test]
    fn unknown_process_and_missing_run() {
        let e = parse_str(N, Path::new("t.conf")).unwrap_err().to_string();
        assert!(e.contains("names process a in its api block"), "{e}");
        let e = parse_str("process a { encoder text; }", Path::new("t.conf"))
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("t.conf:1:1: process a has no run"), "{e}");
    }
}

/// A relative program path is the configuration file's neighbour, as in ExaBGP (most of its
/// example `run` lines are relative, and `--daemon` changes to `/`): `run ./check.sh` and
/// `run scripts/api.py` are resolved against the directory of the file that says `run`. A bare
/// name (`python3`) is a file of that directory when one exists there, and otherwise left for
/// the search along `PATH`.
pub fn resolve_program(program: &str, config_file: &std::path::Path) -> String {
    let path = std::path::Path::new(program);
    if path.is_absolute() {
        return program.to_string();
    }
    let dir = super::parser::base_dir(config_file);
    let candidate = std::path::absolute(dir.join(path)).unwrap_or_else(|_| dir.join(path));
    if program.contains('/') || candidate.is_file() {
        candidate.to_string_lossy().into_owned()
    } else {
        program.to_string()
    }
}

#[cfg(test)]
mod resolve_tests {
    use super::resolve_program;
    use std::path::Path;

    #[test]
    fn relative_programs_are_the_configuration_files_neighbours() {
        let dir = tempfile::tempdir().unwrap();
        let conf = dir.path().join("exabgp.conf");
        std::fs::write(dir.path().join("check.py"), "").unwrap();
        let d = dir.path().display();
        assert_eq!(
            resolve_program("./run/api.sh", &conf),
            format!("{d}/run/api.sh")
        );
        assert_eq!(
            resolve_program("run/api.sh", &conf),
            format!("{d}/run/api.sh")
        );
        assert_eq!(resolve_program("check.py", &conf), format!("{d}/check.py"));
        // Not there: left for PATH.
        assert_eq!(resolve_program("python3", &conf), "python3");
        assert_eq!(resolve_program("/bin/true", &conf), "/bin/true");
        assert_eq!(resolve_program("x", Path::new("exabgp.conf")).as_str(), "x");
    }
}
