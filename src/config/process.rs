//! `process NAME { run PROGRAM ARGS; encoder text|json; on-exit withdraw|keep; }` at top level
//! and `api { processes [ NAME ]; }` in a neighbor: helper programs in ExaBGP's syntax.

use super::ConfigError;
use super::lexer::{Token, TokenKind};
use super::model::{Location, NeighborConfig};
use super::parser::{Parser, Setting, one_of};

/// The longest lease (`lease N;` here, `lease N` on a command): a day. A longer one is
/// refused (it would mean "no lease").
pub const MAX_LEASE_SECONDS: u32 = 86_400;

/// The statements of a `process NAME { }` block.
/// A stopped helper's time between SIGTERM and SIGKILL, unless `kill-grace` says otherwise.
pub const KILL_GRACE: std::time::Duration = std::time::Duration::from_secs(5);
/// The longest `kill-grace` a process block may set.
pub const MAX_KILL_GRACE_SECONDS: u64 = 600;

pub const KEYWORDS: &[&str] = &[
    "run",
    "encoder",
    "on-exit",
    "respawn",
    "lease",
    "kill-grace",
];

/// ExaBGP 2.x/3.x statements of a process block that ask for events, which today's syntax
/// writes in the neighbor's `api { }` block: `parse-routes`, `receive-routes` and
/// `peer-updates` (the routes the peer sends, parsed: `receive { parsed; update; }`),
/// `neighbor-changes`, and the raw `send-packets`/`receive-packets`/`receive-operational`
/// (accepted: bgpinject writes no raw messages to helpers).
pub const EARLY_KEYWORDS: &[&str] = &[
    "parse-routes",
    "receive-routes",
    "peer-updates",
    "neighbor-changes",
    "send-packets",
    "receive-packets",
    "receive-operational",
];
/// The statements of a neighbor's `api { }` block.
pub const API_KEYWORDS: &[&str] = &[
    "processes",
    "processes-match",
    "neighbor-changes",
    "negotiated",
    "fsm",
    "signal",
    "receive",
    "send",
];

/// What `api { receive { ... } }` may ask for: `update` with `parsed` sends the UPDATEs the
/// peer sends, decoded; `notification` is accepted (NOTIFICATIONs are always sent).
pub const RECEIVE_KEYWORDS: &[&str] = &[
    "parsed",
    "packets",
    "consolidate",
    "open",
    "keepalive",
    "update",
    "refresh",
    "operational",
    "notification",
];

/// What ExaBGP's `send { }` block accepts: which of the messages we send a helper is told of
/// (the same words as `receive { }`).
pub const SEND_KEYWORDS: &[&str] = RECEIVE_KEYWORDS;

/// The events of an api block besides routes: what a helper is told beyond its acks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ApiEvents {
    pub neighbor_changes: bool,
    pub receive_notifications: bool,
    /// `receive { ... }`: the messages the peer sends.
    pub receive: MessageEvents,
    /// `send { ... }`: the messages bgpinject sends.
    pub send: MessageEvents,
}

impl ApiEvents {
    /// Both sets of events: what a helper named in several api blocks is told.
    pub fn union(self, other: ApiEvents) -> ApiEvents {
        ApiEvents {
            neighbor_changes: self.neighbor_changes || other.neighbor_changes,
            receive_notifications: self.receive_notifications || other.receive_notifications,
            receive: self.receive.union(other.receive),
            send: self.send.union(other.send),
        }
    }
}

/// One direction of ExaBGP's `send { }` / `receive { }`: which BGP messages a helper is told
/// of, and in which form (`parsed`: decoded; `packets`: the header and body in hex;
/// `consolidate`: both in one event).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MessageEvents {
    pub parsed: bool,
    pub packets: bool,
    pub consolidate: bool,
    pub open: bool,
    pub update: bool,
    pub notification: bool,
    pub keepalive: bool,
    pub refresh: bool,
    pub operational: bool,
}

impl MessageEvents {
    pub fn union(self, o: MessageEvents) -> MessageEvents {
        MessageEvents {
            parsed: self.parsed || o.parsed,
            packets: self.packets || o.packets,
            consolidate: self.consolidate || o.consolidate,
            open: self.open || o.open,
            update: self.update || o.update,
            notification: self.notification || o.notification,
            keepalive: self.keepalive || o.keepalive,
            refresh: self.refresh || o.refresh,
            operational: self.operational || o.operational,
        }
    }

    /// Whether a message of BGP type `kind` (RFC 4271 §4.1) is asked for.
    pub fn wants_type(&self, kind: u8) -> bool {
        use crate::wire::message::message_type as t;
        match kind {
            t::OPEN => self.open,
            t::UPDATE => self.update,
            t::NOTIFICATION => self.notification,
            t::KEEPALIVE => self.keepalive,
            t::ROUTE_REFRESH => self.refresh,
            _ => self.operational,
        }
    }

    /// The message types asked for, as bits `1 << type`.
    pub fn type_mask(&self) -> u32 {
        (1u8..=5)
            .filter(|k| self.wants_type(*k))
            .fold(0, |m, k| m | (1 << k))
    }

    pub(super) fn set(&mut self, word: &str) {
        match word {
            "parsed" => self.parsed = true,
            "packets" => self.packets = true,
            "consolidate" => self.consolidate = true,
            "open" => self.open = true,
            "update" => self.update = true,
            "notification" => self.notification = true,
            "keepalive" => self.keepalive = true,
            "refresh" => self.refresh = true,
            _ => self.operational = true,
        }
    }
}

/// `processes-match` patterns are kept in the neighbor's process list behind this mark until
/// every process is known (`check_references` replaces them by the names they match).
const MATCH_MARK: char = '~';

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
    /// `on-exit` was written. Without it, a helper that speaks ExaBGP main's API 6 (its
    /// target-first `peer IP|* ...` commands) has its routes withdrawn when it exits, as
    /// ExaBGP main does for API 6 helpers; any other keeps ExaBGP 4 and 5's `keep`.
    pub on_exit_written: bool,
    /// The original injector's `watchdog NAME { run ...; }` in a neighbor: the program's lines
    /// `up` and `down` are `announce watchdog NAME` and `withdraw watchdog NAME`.
    pub up_down_watchdog: bool,
    /// `kill-grace SECONDS;`: how long a stopped helper has between SIGTERM and SIGKILL.
    pub kill_grace: std::time::Duration,
    /// ExaBGP's `respawn`: a helper that exits is started again (the default), or not.
    pub respawn: bool,
    /// `lease SECONDS`: every route the helper announces without its own `lease` is leased
    /// for this long (see `api::lease`).
    pub lease: Option<u32>,
    /// What the early spellings in [`EARLY_KEYWORDS`] asked for: given to every neighbor
    /// that names this process, as its api block would say.
    pub asks_neighbor_changes: bool,
    /// `parse-routes`, `receive-routes` or `peer-updates`: the peer's UPDATEs, parsed.
    pub asks_updates: bool,
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
    let mut respawn: Setting<bool> = Setting::default();
    let mut lease: Setting<u32> = Setting::default();
    let mut asks_neighbor_changes = false;
    let mut asks_updates = false;
    while let Some(kw) = p.block_keyword(&open, &block)? {
        match kw.text.as_str() {
            early if EARLY_KEYWORDS.contains(&early) => {
                match early {
                    "neighbor-changes" => asks_neighbor_changes = true,
                    "parse-routes" | "receive-routes" | "peer-updates" => asks_updates = true,
                    _ => {}
                }
                p.note(
                    kw.position,
                    Some(&kw.text),
                    format!(
                        "'{early}' in a process block is ExaBGP 2.x/3.x's spelling (write it in the neighbor's api block: {})",
                        match early {
                            "neighbor-changes" => "'neighbor-changes;'",
                            "parse-routes" | "receive-routes" | "peer-updates" =>
                                "'receive { parsed; update; }'",
                            _ => "'send { packets; }' or 'receive { packets; }'",
                        }
                    ),
                );
            }
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
            "respawn" => {
                let t = p.expect_word("true or false after respawn")?;
                let value = match t.text.as_str() {
                    "true" | "enable" => true,
                    "false" | "disable" => false,
                    _ => return Err(p.unexpected(&t, "true or false after respawn")),
                };
                respawn.set(p, &kw, &block, value)?;
            }
            "lease" => {
                let max = MAX_LEASE_SECONDS;
                let (seconds, _) = p.value("lease", |t| {
                    super::values::number_in(t, 1, u64::from(max), "1..86400 seconds")
                })?;
                lease.set(p, &kw, &block, seconds as u32)?;
            }
            // ExaBGP 3.x's finer event switches of a process block.
            early @ ("receive-parsed" | "receive-updates" | "receive-refresh" | "send"
            | "receive") => {
                return Err(p.error_at(
                    kw.position,
                    format!(
                        "'{early}' in {block} (ExaBGP 3.x) is not supported: write the events in the neighbor's 'api {{ receive {{ parsed; update; }} send {{ packets; }} }}' block, or 'receive-routes;' here"
                    ),
                ));
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
        on_exit_written: on_exit.get().is_some(),
        up_down_watchdog: false,
        on_exit: on_exit.take().unwrap_or_default(),
        kill_grace: kill_grace.take().unwrap_or(KILL_GRACE),
        respawn: respawn.take().unwrap_or(true),
        lease: lease.take(),
        asks_neighbor_changes,
        asks_updates,
        location: p.location(keyword.position),
    })
}

/// `api { processes [ NAME ... ]; neighbor-changes; receive { parsed; update; } }` in a
/// neighbor, from just after `api`. `neighbor-changes` asks for the session's state changes,
/// `receive { update; }` sets `receive_updates`.
pub(super) fn parse_api_block(
    p: &mut Parser,
    owner: &str,
    names: &mut Vec<String>,
    receive_updates: &mut bool,
    events: &mut ApiEvents,
    subscriptions: &mut Vec<(String, ApiEvents)>,
) -> Result<(), ConfigError> {
    // What this block asks for, for the processes this block names (ExaBGP keeps each
    // block's events with its own processes).
    let mut this = ApiEvents::default();
    let mut named: Vec<String> = Vec::new();
    // ExaBGP names its api blocks (`api speaking { ... }`); a neighbor may have several, and
    // their processes add up.
    let block = if p.peek().kind == TokenKind::Word {
        let name = p.advance();
        format!("the api block {} of {owner}", name.text)
    } else {
        format!("the api block of {owner}")
    };
    let open = p.open_block("api")?;
    while let Some(kw) = p.block_keyword(&open, &block)? {
        match kw.text.as_str() {
            which @ ("receive" | "send") => {
                let inner = format!("the {which} block of {block}");
                let open = p.open_block(which)?;
                while let Some(item) = p.block_keyword(&open, &inner)? {
                    let known = if which == "receive" {
                        RECEIVE_KEYWORDS
                    } else {
                        SEND_KEYWORDS
                    };
                    match item.text.as_str() {
                        other if known.contains(&other) => {
                            if which == "receive" {
                                this.receive.set(other);
                            } else {
                                this.send.set(other);
                            }
                        }
                        other => {
                            return Err(p.error_at(
                                item.position,
                                format!(
                                    "unsupported '{other}' in {inner}, expected {}",
                                    one_of(known)
                                ),
                            ));
                        }
                    }
                    p.expect_semicolon(&format!("{which} {}", item.text))?;
                }
                continue;
            }
            "processes" => {
                for t in p.word_or_list("processes")? {
                    // ExaBGP 4/5 examples separate the names with commas too.
                    let name = t.text.trim_end_matches(',');
                    if name.is_empty() {
                        continue;
                    }
                    if !named.iter().any(|n| n == name) {
                        named.push(name.to_string());
                    }
                    if !names.iter().any(|n| n == name) {
                        names.push(name.to_string());
                    }
                }
            }
            "processes-match" => {
                for t in patterns(p)? {
                    if let Err(why) = Pattern::new(&t.text) {
                        return Err(
                            p.error_at(t.position, format!("processes-match '{}': {why}", t.text))
                        );
                    }
                    let marked = format!("{MATCH_MARK}{}", t.text);
                    if !named.contains(&marked) {
                        named.push(marked.clone());
                    }
                    if !names.contains(&marked) {
                        names.push(marked);
                    }
                }
            }
            "neighbor-changes" | "fsm" => this.neighbor_changes = true,
            // Accepted for ExaBGP files; bgpinject has no such events to send.
            "negotiated" | "signal" => {}
            _ => return Err(p.unknown_keyword(&kw, &block, &one_of(API_KEYWORDS))),
        }
        p.expect_semicolon(&format!("{} value", kw.text))?;
    }
    this.receive_notifications = this.receive.notification;
    *receive_updates |= this.receive.update;
    *events = events.union(this);
    for name in named {
        match subscriptions.iter_mut().find(|(n, _)| *n == name) {
            Some((_, e)) => *e = e.union(this),
            None => subscriptions.push((name, this)),
        }
    }
    Ok(())
}

/// `processes-match PATTERN;` or `[ PATTERN ... ]`, each a word or a quoted string.
fn patterns(p: &mut Parser) -> Result<Vec<Token>, ConfigError> {
    let first = p.advance();
    match first.kind {
        TokenKind::Word | TokenKind::Quoted => Ok(vec![first]),
        TokenKind::OpenBracket => {
            let mut out = Vec::new();
            loop {
                let t = p.advance();
                match t.kind {
                    TokenKind::Word | TokenKind::Quoted => out.push(t),
                    TokenKind::CloseBracket => return Ok(out),
                    _ => return Err(p.unexpected(&t, "a pattern or ']' in processes-match list")),
                }
            }
        }
        _ => Err(p.unexpected(&first, "a pattern or '[' after processes-match")),
    }
}

/// The part of Python's regular expressions that `processes-match` patterns use: literal
/// characters, `.`, `*` after a character, `^` and `$`, matched from the start of the name as
/// `re.match` does. Anything else is refused when the configuration is read.
pub struct Pattern(Vec<char>);

impl Pattern {
    pub fn new(text: &str) -> Result<Pattern, String> {
        if let Some(c) = text.chars().find(|c| "[](){}+?|\\".contains(*c)) {
            return Err(format!(
                "'{c}' is not supported (literal text, '.', '*', '^' and '$' are)"
            ));
        }
        if text.trim_start_matches('^').starts_with('*') {
            return Err("'*' must follow a character".into());
        }
        Ok(Pattern(text.chars().collect()))
    }

    pub fn matches(&self, name: &str) -> bool {
        let name: Vec<char> = name.chars().collect();
        let pattern = self.0.strip_prefix(&['^']).unwrap_or(&self.0);
        match_here(pattern, &name)
    }
}

fn match_here(pattern: &[char], text: &[char]) -> bool {
    match pattern {
        [] => true,
        ['$'] => text.is_empty(),
        [c, '*', rest @ ..] => {
            let mut i = 0;
            loop {
                if match_here(rest, &text[i..]) {
                    return true;
                }
                match text.get(i) {
                    Some(t) if *c == '.' || c == t => i += 1,
                    _ => return false,
                }
            }
        }
        [c, rest @ ..] => match text.split_first() {
            Some((t, more)) if *c == '.' || c == t => match_here(rest, more),
            _ => false,
        },
    }
}

/// Every process a neighbor names must be defined; `processes-match` patterns become the
/// names of the processes they match.
pub fn check_references(
    neighbors: &mut [NeighborConfig],
    processes: &[ProcessConfig],
) -> Result<(), ConfigError> {
    for n in neighbors {
        let mut resolved = Vec::new();
        for name in &n.api_processes {
            if let Some(text) = name.strip_prefix(MATCH_MARK) {
                let pattern = Pattern::new(text).map_err(|why| ConfigError {
                    location: Some(n.location.clone()),
                    message: why,
                })?;
                for p in processes.iter().filter(|p| pattern.matches(&p.name)) {
                    if !resolved.contains(&p.name) {
                        resolved.push(p.name.clone());
                    }
                }
                continue;
            }
            if !processes.iter().any(|p| &p.name == name) {
                return Err(ConfigError {
                    location: Some(n.location.clone()),
                    message: format!(
                        "neighbor {} names process {name} in its api block, but no 'process {name} {{ ... }}' is defined",
                        n.peer_address
                    ),
                });
            }
            if !resolved.contains(name) {
                resolved.push(name.clone());
            }
        }
        for process in processes.iter().filter(|p| resolved.contains(&p.name)) {
            n.api_receive_updates |= process.asks_updates;
            n.api_neighbor_changes |= process.asks_neighbor_changes;
        }
        n.api_processes = resolved;
        let mut subscriptions: Vec<(String, ApiEvents)> = Vec::new();
        for (name, events) in std::mem::take(&mut n.api_subscriptions) {
            let names: Vec<String> = match name.strip_prefix(MATCH_MARK) {
                Some(text) => match Pattern::new(text) {
                    Ok(pattern) => processes
                        .iter()
                        .filter(|p| pattern.matches(&p.name))
                        .map(|p| p.name.clone())
                        .collect(),
                    Err(_) => Vec::new(),
                },
                None => vec![name],
            };
            for name in names {
                match subscriptions.iter_mut().find(|(n, _)| *n == name) {
                    Some((_, e)) => *e = e.union(events),
                    None => subscriptions.push((name, events)),
                }
            }
        }
        n.api_subscriptions = subscriptions;
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
    fn exabgp_api_forms() {
        let text = "process add-one { run /bin/true; respawn false; lease 30; }\nprocess add-two { run /bin/true; }\nprocess other { run /bin/true; }\nneighbor 192.0.2.1 { router-id 192.0.2.10; local-as 65000; peer-as 65001; api speaking { processes-match [ \"^add\" ]; send { packets; parsed; } receive { open; keepalive; refresh; operational; packets; consolidate; notification; parsed; update; } neighbor-changes; negotiated; fsm; signal; } api { processes [ other ]; } }";
        let c = parse_str(text, Path::new("t.conf")).unwrap();
        assert!(!c.processes[0].respawn);
        assert!(c.processes[1].respawn);
        assert_eq!(
            (c.processes[0].lease, c.processes[1].lease),
            (Some(30), None)
        );
        assert_eq!(
            c.neighbors[0].api_processes,
            vec!["add-one", "add-two", "other"]
        );
        assert!(c.neighbors[0].api_receive_updates);
        // ExaBGP's examples separate names with commas too.
        let c = parse_str(
            "process a { run /bin/true; }\nprocess b { run /bin/true; }\nneighbor 192.0.2.1 { router-id 192.0.2.10; local-as 65000; peer-as 65001; api { processes [ a, b ]; } }",
            Path::new("t.conf"),
        )
        .unwrap();
        assert_eq!(c.neighbors[0].api_processes, vec!["a", "b"]);
        let e = parse_str(
            "neighbor 192.0.2.1 { router-id 192.0.2.10; local-as 65000; peer-as 65001; api { processes-match [ \"a(b\" ]; } }",
            Path::new("t.conf"),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("'(' is not supported"), "{e}");
    }

    #[test]
    fn patterns_match_as_python_re_match() {
        let m = |p: &str, n: &str| Pattern::new(p).unwrap().matches(n);
        assert!(m("^add", "add-routes"));
        assert!(!m("^add", "readd"));
        assert!(m("add", "add"));
        assert!(m("a.*d$", "abcd"));
        assert!(!m("a.*d$", "abcde"));
        assert!(m("x*y", "y"));
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
