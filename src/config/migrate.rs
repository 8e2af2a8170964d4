//! `bgpinject migrate`: an ExaBGP configuration of any era rewritten in today's spelling,
//! line for line where it can be, comments and layout kept, with the same meaning (the same
//! UPDATEs from `bgpinject encode`):
//!
//! - `md5` is written `md5-password`, `ttl-security` `outgoing-ttl`, `withdrawn` `withdraw`;
//! - a neighbor-level `graceful-restart N;` (or ExaBGP 3's `multi-session;`) goes in
//!   `capability { graceful-restart N; }`;
//! - a route prefix with host bits is written as the prefix announced (`2a02:b80:0:1::/64`);
//! - of a prefix configured twice in one neighbor, the earlier statement (which the later
//!   one replaces) is commented out;
//! - the original injector's OR'ed flow terms get brackets: `port [ =80 =8080 ];`;
//! - a `process` block inside a neighbor moves to the top level, and the neighbor names it in
//!   `api { processes [ NAME ]; }`;
//! - a `group` becomes one template per neighbor (what the group said above that neighbor)
//!   and the neighbors, each inheriting its template.
//!
//! What cannot be rewritten this way is left as written and listed in the changes.

use std::collections::HashMap;
use std::path::Path;

use super::ConfigError;
use super::lexer::{Lexer, Token, TokenKind};

/// The rewritten text and one line per change (`LINE: what`), for the operator.
pub struct Migration {
    pub text: String,
    pub changes: Vec<String>,
}

/// Rewrites `text` (the file `file`, for error locations).
pub fn migrate(text: &str, file: &Path) -> Result<Migration, ConfigError> {
    let tokens = tokens(text, file)?;
    let mut m = Migrator {
        lines: text.lines().map(|l| l.chars().collect()).collect(),
        tokens: &tokens,
        replacements: Vec::new(),
        changes: Vec::new(),
        commented: Vec::new(),
        moves: Vec::new(),
        groups: Vec::new(),
        close_at_end: false,
    };
    m.walk_top_level();
    Ok(m.finish(text.ends_with('\n')))
}

fn tokens(text: &str, file: &Path) -> Result<Vec<Token>, ConfigError> {
    let mut lexer = Lexer::new(text);
    let mut out = Vec::new();
    loop {
        let t = lexer.next_token().map_err(|e| ConfigError {
            location: Some(super::model::Location {
                file: std::sync::Arc::new(file.to_path_buf()),
                line: e.position().line,
                column: e.position().column,
            }),
            message: e.to_string(),
        })?;
        let end = t.kind == TokenKind::EndOfFile;
        out.push(t);
        if end {
            return Ok(out);
        }
    }
}

/// A process block moved out of a neighbor: its lines, the line of the top-level block it
/// goes before, and what replaces it.
struct Move {
    first: usize,
    last: usize,
    before: usize,
    replacement: String,
    /// Lines of the block left out where it moves to (ExaBGP 2.x/3.x event statements, now
    /// in the neighbor's api block).
    dropped: Vec<usize>,
}

/// A group rewritten as templates: its lines and the pieces inside.
struct GroupPlan {
    name: String,
    first: usize,
    last: usize,
    /// Statement segments and neighbors in order: (first line, last line, is a neighbor).
    items: Vec<(usize, usize, bool)>,
}

struct Migrator<'a> {
    /// The file's lines as characters (the lexer counts columns in characters), 0-based.
    lines: Vec<Vec<char>>,
    tokens: &'a [Token],
    /// (line, column, length in characters, new text), 0-based.
    replacements: Vec<(usize, usize, usize, String)>,
    changes: Vec<String>,
    /// Line ranges to comment out, 0-based, inclusive.
    commented: Vec<(usize, usize, String)>,
    moves: Vec<Move>,
    groups: Vec<GroupPlan>,
    /// A neighbor block is left open at the end of the file: its '}' is written last.
    close_at_end: bool,
}

fn line_of(t: &Token) -> usize {
    (t.position.line as usize).saturating_sub(1)
}

impl<'a> Migrator<'a> {
    fn token(&self, i: usize) -> Option<&'a Token> {
        self.tokens.get(i)
    }

    fn kind(&self, i: usize) -> TokenKind {
        self.token(i).map_or(TokenKind::EndOfFile, |t| t.kind)
    }

    fn text(&self, i: usize) -> &'a str {
        self.token(i).map_or("", |t| t.text.as_str())
    }

    /// The index after the statement starting at `i`: after its `;`, or after the `}` of
    /// its block.
    fn statement_end(&self, i: usize) -> usize {
        let mut depth = 0usize;
        let mut j = i;
        loop {
            match self.kind(j) {
                TokenKind::EndOfFile => return j,
                TokenKind::Semicolon if depth == 0 => return j + 1,
                TokenKind::OpenBrace => depth += 1,
                TokenKind::CloseBrace => {
                    if depth <= 1 {
                        return j + 1;
                    }
                    depth -= 1;
                }
                _ => {}
            }
            j += 1;
        }
    }

    /// Whether the tokens `first..end` are alone on their lines (a statement that can be
    /// moved or commented out line by line).
    fn owns_lines(&self, first: usize, end: usize) -> bool {
        let (Some(a), Some(b)) = (self.token(first), self.token(end.saturating_sub(1))) else {
            return false;
        };
        let before_ok = first == 0
            || self
                .token(first - 1)
                .is_none_or(|p| line_of(p) < line_of(a));
        let after_ok = self
            .token(end)
            .is_none_or(|n| n.kind == TokenKind::EndOfFile || line_of(n) > line_of(b));
        before_ok && after_ok
    }

    /// Replaces the source text of token `i` by `new`, if the token is written as its text.
    fn replace(&mut self, i: usize, new: String, change: String) {
        let Some(t) = self.token(i) else { return };
        let (line, col) = (line_of(t), (t.position.column as usize).saturating_sub(1));
        let len = t.text.chars().count();
        let written = self
            .lines
            .get(line)
            .and_then(|l| l.get(col..col + len))
            .is_some_and(|s| s.iter().copied().eq(t.text.chars()));
        if written {
            self.replacements.push((line, col, len, new));
            self.changes.push(format!("{}: {change}", t.position.line));
        }
    }

    fn walk_top_level(&mut self) {
        let mut i = 0;
        while self.kind(i) != TokenKind::EndOfFile {
            let end = self.statement_end(i);
            match self.text(i) {
                "neighbor" if self.kind(i) == TokenKind::Word => {
                    self.walk_neighbor(i, end, Some(i));
                }
                "group" if self.kind(i) == TokenKind::Word => self.walk_group(i, end),
                "template" => {
                    // `template { neighbor NAME { ... } }`: each body as a neighbor's.
                    let mut j = i + 2;
                    while j < end.saturating_sub(1) {
                        let e = self.statement_end(j);
                        self.walk_neighbor(j, e, None);
                        j = e;
                    }
                }
                _ => {}
            }
            i = end.max(i + 1);
        }
    }

    /// The statements of a neighbor (or template, or group) body from `i` (the keyword
    /// before the body) to `end`; `top` is the top-level statement processes move before.
    fn walk_neighbor(&mut self, i: usize, end: usize, top: Option<usize>) {
        let Some(open) = (i..end).find(|&j| self.kind(j) == TokenKind::OpenBrace) else {
            return;
        };
        let mut routes: HashMap<String, (usize, usize)> = HashMap::new();
        if self.closed(open, end) {
            self.walk_body(open + 1, end.saturating_sub(1), top, &mut routes);
        } else {
            // Left open at the end of the file (ExaBGP closes it there): the body runs to
            // the end, and the migrated file gets the missing '}'.
            self.walk_body(open + 1, end, top, &mut routes);
            if top.is_some() {
                self.close_at_end = true;
                let line = self.token(i).map_or(0, |t| t.position.line);
                self.changes.push(format!(
                    "{line}: the block left open at the end of the file is closed"
                ));
            }
        }
    }

    /// Whether the block opened at `open` is closed by the token before `end`.
    fn closed(&self, open: usize, end: usize) -> bool {
        let mut depth = 0usize;
        for j in open..end {
            match self.kind(j) {
                TokenKind::OpenBrace => depth += 1,
                TokenKind::CloseBrace => depth = depth.saturating_sub(1),
                _ => {}
            }
        }
        depth == 0
    }

    fn walk_body(
        &mut self,
        mut j: usize,
        end: usize,
        top: Option<usize>,
        routes: &mut HashMap<String, (usize, usize)>,
    ) {
        while j < end && self.kind(j) != TokenKind::EndOfFile {
            let e = self.statement_end(j).min(end.max(j + 1));
            match self.text(j) {
                "md5" => self.rename(j, "md5-password"),
                "ttl-security" => self.rename(j, "outgoing-ttl"),
                // The original's neighbor-level statement; ExaBGP 3 and later read it in
                // `capability { }` only.
                // Neighbor-level statements (original injector, ExaBGP 3) that ExaBGP 4 and
                // later read in `capability { }` only.
                word @ ("graceful-restart" | "multi-session" | "add-path" | "aigp"
                | "route-refresh")
                    if self.kind(e.saturating_sub(1)) == TokenKind::Semicolon
                        // ExaBGP 3's `add-path MODE;` (a block is ExaBGP 4's), and `aigp`
                        // with a value (alone it meant off, where the block's means on).
                        && (!matches!(word, "add-path" | "aigp")
                            || self.kind(j + 1) == TokenKind::Word) =>
                {
                    self.replace(
                        j,
                        format!("capability {{ {word}"),
                        format!("{word} goes in the capability block"),
                    );
                    if let Some(t) = self.token(e.saturating_sub(1)) {
                        self.replacements.push((
                            line_of(t),
                            (t.position.column as usize).saturating_sub(1),
                            1,
                            "; }".to_string(),
                        ));
                    }
                }
                "process" => self.move_process(j, e, top),
                // ExaBGP 2.x/3.x's `inet`, `inet4`, `inet6` in a family block.
                "family" => {
                    for x in j + 1..e {
                        let at_start = matches!(
                            self.kind(x - 1),
                            TokenKind::OpenBrace | TokenKind::Semicolon
                        );
                        if at_start && self.kind(x) == TokenKind::Word {
                            match self.text(x) {
                                "inet" | "inet4" => self.rename(x, "ipv4"),
                                "inet6" => self.rename(x, "ipv6"),
                                _ => {}
                            }
                        }
                    }
                }
                "static" => {
                    let mut k = j + 2;
                    while k < e.saturating_sub(1) {
                        let ke = self.statement_end(k);
                        if self.text(k) == "route" {
                            self.walk_route(k, ke, routes);
                        }
                        k = ke.max(k + 1);
                    }
                }
                "flow" => self.walk_flow(j, e),
                _ => {}
            }
            j = e.max(j + 1);
        }
    }

    fn rename(&mut self, i: usize, new: &str) {
        let old = self.text(i).to_string();
        self.replace(i, new.to_string(), format!("'{old}' is written '{new}'"));
    }

    fn walk_route(&mut self, k: usize, end: usize, routes: &mut HashMap<String, (usize, usize)>) {
        let prefix_text = self.text(k + 1).to_string();
        let mut key = prefix_text.clone();
        if let Err(super::values::ValueError::Prefix(
            crate::wire::prefix::PrefixError::HostBitsSet { canonical },
        )) = super::values::prefix(&prefix_text)
        {
            key = canonical.to_string();
            self.replace(
                k + 1,
                key.clone(),
                format!("route {prefix_text} is written {key} (the prefix announced)"),
            );
        } else if let Ok(p) = super::values::prefix(&prefix_text) {
            key = p.to_string();
        }
        // A plain route (no label, rd or path) that an earlier one of the block announced.
        let plain = !(k..end).any(|x| {
            matches!(
                self.text(x),
                "label" | "rd" | "route-distinguisher" | "path-information" | "split"
            )
        });
        for x in k..end {
            if self.kind(x) != TokenKind::Word {
                continue;
            }
            match self.text(x) {
                "withdrawn" => self.rename(x, "withdraw"),
                "as-sequence" => self.rename(x, "as-path"),
                _ => {}
            }
        }
        if !plain {
            return;
        }
        if let Some((pk, pe)) = routes.insert(key.clone(), (k, end))
            && self.owns_lines(pk, pe)
        {
            let (first, last) = (
                self.token(pk).map_or(0, line_of),
                self.token(pe.saturating_sub(1)).map_or(0, line_of),
            );
            self.commented.push((
                first,
                last,
                format!(
                    "route {key} configured again at line {}: ExaBGP and bgpinject announce the later one",
                    self.token(k).map_or(0, |t| t.position.line)
                ),
            ));
        }
    }

    /// `port =80 =8080;` (several terms, no brackets) becomes `port [ =80 =8080 ];`.
    fn walk_flow(&mut self, j: usize, end: usize) {
        const NUMERIC: &[&str] = &[
            "port",
            "destination-port",
            "source-port",
            "packet-length",
            "dscp",
            "icmp-type",
            "icmp-code",
            "fragment-offset",
            "traffic-class",
            "flow-label",
        ];
        let mut k = j;
        while k < end {
            if self.kind(k) == TokenKind::Word && NUMERIC.contains(&self.text(k)) {
                let mut last = k + 1;
                while self.kind(last + 1) == TokenKind::Word {
                    last += 1;
                }
                if last > k + 1 && self.kind(k + 1) == TokenKind::Word {
                    let first_text = self.text(k + 1).to_string();
                    let last_text = self.text(last).to_string();
                    let name = self.text(k).to_string();
                    self.replace(
                        k + 1,
                        format!("[ {first_text}"),
                        format!("{name}: the terms are bracketed"),
                    );
                    self.replacements.push((
                        self.token(last).map_or(0, line_of),
                        self.token(last)
                            .map_or(0, |t| (t.position.column as usize).saturating_sub(1)),
                        last_text.chars().count(),
                        format!("{last_text} ]"),
                    ));
                }
                k = last;
            }
            k += 1;
        }
    }

    fn move_process(&mut self, j: usize, end: usize, top: Option<usize>) {
        let Some(top) = top else {
            self.note_unmigrated(j, "a process block here is left where it is");
            return;
        };
        if !self.owns_lines(j, end) {
            self.note_unmigrated(j, "a process block sharing its lines is left where it is");
            return;
        }
        let (Some(first), Some(last), Some(before)) = (
            self.token(j).map(line_of),
            self.token(end.saturating_sub(1)).map(line_of),
            self.token(top).map(line_of),
        ) else {
            return;
        };
        let indent: String = self
            .lines
            .get(first)
            .map(|l| l.iter().take_while(|c| c.is_whitespace()).collect())
            .unwrap_or_default();
        // ExaBGP 3's nameless `process { EVENTS }` in a neighbor: only events, which become
        // an api block in its place.
        let nameless = self.kind(j + 1) == TokenKind::OpenBrace;
        let name = self.text(j + 1).to_string();
        // ExaBGP 2.x/3.x event statements of the block become the api block's.
        let notes_before = self.changes.len();
        let (mut api, mut receive, mut send) = (String::new(), Vec::new(), Vec::new());
        let mut dropped = Vec::new();
        for k in j + 2..end {
            let at_start = matches!(
                self.kind(k - 1),
                TokenKind::OpenBrace | TokenKind::Semicolon
            );
            let early = self.text(k);
            if !(at_start
                && self.kind(k) == TokenKind::Word
                && super::process::EARLY_KEYWORDS.contains(&early)
                && self.kind(k + 1) == TokenKind::Semicolon)
            {
                continue;
            }
            if !self.owns_lines(k, k + 2) {
                self.note_unmigrated(
                    k,
                    "an event statement sharing its line is left in the process block",
                );
                continue;
            }
            if let Some(t) = self.token(k) {
                dropped.push(line_of(t));
            }
            let (list, what): (&mut Vec<&str>, &[&str]) = match early {
                "neighbor-changes" => {
                    api.push_str(" neighbor-changes;");
                    continue;
                }
                "send-packets" => (&mut send, &["packets"]),
                "receive-packets" => (&mut receive, &["packets"]),
                "receive-operational" => (&mut receive, &["operational"]),
                _ => (&mut receive, &["parsed", "update"]),
            };
            for w in what {
                if !list.contains(w) {
                    list.push(w);
                }
            }
        }
        let block = |name: &str, items: &[&str]| {
            if items.is_empty() {
                String::new()
            } else {
                let items: Vec<String> = items.iter().map(|i| format!("{i};")).collect();
                format!(" {name} {{ {} }}", items.join(" "))
            }
        };
        api.push_str(&block("receive", &receive));
        api.push_str(&block("send", &send));
        if nameless {
            if self.changes.len() != notes_before {
                // A statement shares a line: the block cannot go whole.
                self.changes.truncate(notes_before);
                self.note_unmigrated(
                    j,
                    "a nameless process sharing its lines is left where it is",
                );
                return;
            }
            self.moves.push(Move {
                first,
                last,
                before,
                replacement: format!("{indent}api {{{api} }}"),
                dropped: (first..=last).collect(),
            });
            self.changes.push(format!(
                "{}: the nameless process becomes the neighbor's api block",
                first + 1
            ));
            return;
        }
        self.moves.push(Move {
            first,
            last,
            before,
            replacement: format!("{indent}api {{ processes [ {name} ];{api} }}"),
            dropped,
        });
        self.changes.push(format!(
            "{}: process {name} moves to the top level; the neighbor names it in its api block",
            first + 1
        ));
    }

    fn note_unmigrated(&mut self, i: usize, what: &str) {
        let line = self.token(i).map_or(0, |t| t.position.line);
        self.changes.push(format!("{line}: not rewritten: {what}"));
    }

    fn walk_group(&mut self, i: usize, end: usize) {
        let name = self.text(i + 1).to_string();
        let open = i + 2;
        if self.kind(open) != TokenKind::OpenBrace {
            self.note_unmigrated(i, "a group whose braces share lines with statements");
            return;
        }
        let Some(close) = self.token(end.saturating_sub(1)).cloned() else {
            return;
        };
        let first = self.token(i).map_or(0, line_of);
        let last = line_of(&close);
        let mut items = Vec::new();
        // Lines of comments before an item belong to it.
        let mut next_free = self.token(open).map_or(first, line_of) + 1;
        let mut j = open + 1;
        let mut routes: HashMap<String, (usize, usize)> = HashMap::new();
        while j < end.saturating_sub(1) {
            let e = self.statement_end(j);
            if !self.owns_lines(j, e) {
                self.note_unmigrated(i, "a group whose statements share lines");
                return;
            }
            let item_last = self.token(e.saturating_sub(1)).map_or(0, line_of);
            let is_neighbor = self.text(j) == "neighbor";
            // Processes move before the group, which names them where they were.
            if is_neighbor {
                self.walk_neighbor(j, e, Some(i));
            } else {
                self.walk_body(j, e, Some(i), &mut routes);
            }
            items.push((next_free, item_last, is_neighbor));
            next_free = item_last + 1;
            j = e.max(j + 1);
        }
        self.changes.push(format!(
            "{}: group {name} becomes one template per neighbor (what the group says above it) and its neighbors",
            first + 1
        ));
        if next_free < last {
            items.push((next_free, last - 1, false));
        }
        self.groups.push(GroupPlan {
            name,
            first,
            last,
            items,
        });
    }

    fn finish(mut self, final_newline: bool) -> Migration {
        // Token replacements, right to left within a line.
        self.replacements
            .sort_by_key(|r| (r.0, std::cmp::Reverse(r.1)));
        for (line, col, len, new) in std::mem::take(&mut self.replacements) {
            if let Some(l) = self.lines.get_mut(line)
                && col + len <= l.len()
            {
                l.splice(col..col + len, new.chars());
            }
        }
        let mut lines: Vec<String> = self.lines.iter().map(|l| l.iter().collect()).collect();
        for (first, last, why) in &self.commented {
            self.changes
                .push(format!("{}: commented out: {why}", first + 1));
            for l in lines.iter_mut().take(last + 1).skip(*first) {
                *l = format!("# {l}");
            }
            if let Some(l) = lines.get_mut(*first) {
                *l = format!("# bgpinject migrate: {why}\n{l}");
            }
        }
        // Processes out of their neighbors, before the neighbor.
        let mut before: HashMap<usize, Vec<String>> = HashMap::new();
        let mut skip = vec![false; lines.len()];
        for m in &self.moves {
            let block: Vec<String> = lines
                .get(m.first..=m.last)
                .map(|b| b.to_vec())
                .unwrap_or_default()
                .into_iter()
                .enumerate()
                .filter(|(k, _)| !m.dropped.contains(&(m.first + k)))
                .map(|(_, l)| l)
                .collect();
            if !block.is_empty() {
                let dedent: Vec<String> = block.iter().map(|l| dedent_once(l)).collect();
                before.entry(m.before).or_default().extend(dedent);
                before.entry(m.before).or_default().push(String::new());
            }
            if let Some(l) = lines.get_mut(m.first) {
                *l = m.replacement.clone();
            }
            for s in skip.iter_mut().take(m.last + 1).skip(m.first + 1) {
                *s = true;
            }
        }
        let mut group_at: HashMap<usize, &GroupPlan> = HashMap::new();
        for g in &self.groups {
            group_at.insert(g.first, g);
        }
        let mut out: Vec<String> = Vec::new();
        let mut n = 0;
        while n < lines.len() {
            if let Some(extra) = before.get(&n) {
                out.extend(extra.iter().cloned());
            }
            if let Some(g) = group_at.get(&n) {
                out.extend(group_lines(g, &lines, &skip));
                n = g.last + 1;
                continue;
            }
            if !skip.get(n).copied().unwrap_or(false)
                && let Some(l) = lines.get(n)
            {
                out.push(l.clone());
            }
            n += 1;
        }
        if self.close_at_end {
            out.push("}".to_string());
        }
        let mut text = out.join("\n");
        if final_newline || self.close_at_end {
            text.push('\n');
        }
        Migration {
            text,
            changes: self.changes,
        }
    }
}

fn dedent_once(line: &str) -> String {
    line.strip_prefix('\t')
        .or_else(|| line.strip_prefix("    "))
        .unwrap_or(line)
        .to_string()
}

/// A group as `template { neighbor NAME-1 { ... } ... }` and its neighbors, each inheriting
/// the template of what the group said above it.
/// `skip`: lines of process blocks moved out (their first line is the api statement).
fn group_lines(g: &GroupPlan, all: &[String], skip: &[bool]) -> Vec<String> {
    // The group's lines without the moved ones (emptied, so line numbers still index).
    let lines: Vec<String> = all
        .iter()
        .enumerate()
        .map(|(n, l)| {
            if skip.get(n).copied().unwrap_or(false) {
                String::from("\u{0}")
            } else {
                l.clone()
            }
        })
        .collect();
    let lines = &lines;
    let mut out = vec![format!(
        "# group {}: each neighbor inherits what the group said above it",
        g.name
    )];
    out.push("template {".to_string());
    let mut statements: Vec<String> = Vec::new();
    let mut count = 0;
    for &(first, last, is_neighbor) in &g.items {
        let text = lines.get(first..=last).unwrap_or_default();
        if is_neighbor {
            count += 1;
            out.push(format!("\tneighbor {}-{count} {{", g.name));
            out.extend(statements.iter().cloned());
            out.push("\t}".to_string());
        } else {
            statements.extend(text.iter().map(|l| {
                if l.trim().is_empty() {
                    l.clone()
                } else {
                    format!("\t{l}")
                }
            }));
        }
    }
    out.push("}".to_string());
    count = 0;
    for &(first, last, is_neighbor) in &g.items {
        if !is_neighbor {
            continue;
        }
        count += 1;
        let text = lines.get(first..=last).unwrap_or_default();
        if let Some((close, body)) = text.split_last() {
            out.extend(body.iter().map(|l| dedent_once(l)));
            let indent: String = body
                .iter()
                .rev()
                .find(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
                .map(|l| {
                    dedent_once(l)
                        .chars()
                        .take_while(|c| c.is_whitespace())
                        .collect()
                })
                .unwrap_or_else(|| "\t".to_string());
            out.push(format!("{indent}inherit {}-{count};", g.name));
            out.push(dedent_once(close));
        }
    }
    // Statements after the last neighbor applied to no neighbor: kept as comments.
    if let Some(&(_, last_neighbor, _)) = g.items.iter().rev().find(|i| i.2) {
        for &(first, last, is_neighbor) in &g.items {
            if !is_neighbor && first > last_neighbor {
                for l in lines.get(first..=last).unwrap_or_default() {
                    out.push(format!("# (after the group's last neighbor) {l}"));
                }
            }
        }
    }
    out.retain(|l| !l.contains('\u{0}'));
    out
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::migrate;

    fn corpus() -> Vec<(String, String)> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("test-vectors/exabgp-conf");
        let mut out = Vec::new();
        for era in ["original", "exabgp-4.2", "exabgp-main", "handmade"] {
            let Ok(dir) = std::fs::read_dir(root.join(era)) else {
                continue;
            };
            for e in dir.flatten() {
                if let Ok(text) = std::fs::read_to_string(e.path()) {
                    out.push((e.path().display().to_string(), text));
                }
            }
        }
        out
    }

    /// Half-written and broken files: every line prefix of every corpus file, and each file
    /// with its braces swapped, go through `migrate` and the parser without a panic, and what
    /// `migrate` prints of an accepted file is accepted too.
    #[test]
    fn truncated_and_broken_files_never_panic() {
        let files = corpus();
        assert!(files.len() >= 90, "{} corpus files", files.len());
        for (name, text) in &files {
            let lines: Vec<&str> = text.lines().collect();
            let step = (lines.len() / 40).max(1);
            for cut in (0..=lines.len()).step_by(step) {
                let partial = lines[..cut].join("\n");
                let swapped: String = partial
                    .chars()
                    .map(|c| match c {
                        '{' => '}',
                        '}' => '{',
                        c => c,
                    })
                    .collect();
                for input in [&partial, &swapped] {
                    let Ok(m) = migrate(input, Path::new("t.conf")) else {
                        continue;
                    };
                    let original = crate::config::parse_str(input, Path::new("t.conf"));
                    let migrated = crate::config::parse_str(&m.text, Path::new("t.conf"));
                    assert!(
                        original.is_err() || migrated.is_ok(),
                        "{name} cut at {cut}: {:?}\n{}",
                        migrated.err(),
                        m.text
                    );
                }
            }
        }
    }

    #[test]
    fn a_group_becomes_templates_with_its_comments() {
        let text = "# head\ngroup g {\n\tlocal-as 1;\n\tpeer-as 2;\n\t# a route for both\n\tstatic {\n\t\troute 10.0.0.0/8 next-hop 192.0.2.1;\n\t}\n\tneighbor 192.0.2.1 {\n\t\trouter-id 192.0.2.9;\n\t}\n\tneighbor 192.0.2.2 {\n\t\trouter-id 192.0.2.9;\n\t\tmd5 secret;\n\t}\n}\n";
        let m = migrate(text, Path::new("t.conf")).unwrap();
        assert!(m.text.contains("template {"), "{}", m.text);
        assert!(
            m.text.contains("inherit g-1;") && m.text.contains("inherit g-2;"),
            "{}",
            m.text
        );
        assert!(
            m.text.contains("# a route for both") && m.text.contains("# head"),
            "{}",
            m.text
        );
        assert!(m.text.contains("md5-password secret;"), "{}", m.text);
        let a = crate::config::parse_str(text, Path::new("t.conf")).unwrap();
        let b = crate::config::parse_str(&m.text, Path::new("t.conf")).unwrap();
        assert_eq!(a.neighbors.len(), b.neighbors.len());
        for (x, y) in a.neighbors.iter().zip(&b.neighbors) {
            assert_eq!(x.without_routes().options, y.without_routes().options);
            assert_eq!(x.routes.len(), y.routes.len());
        }
    }

    #[test]
    fn exabgp3_spellings_are_rewritten_with_the_same_meaning() {
        let text = "process p {\n\trun /bin/cat;\n}\nneighbor 192.0.2.1 {\n\trouter-id 192.0.2.9;\n\tlocal-as 1;\n\tpeer-as 2;\n\tadd-path send;\n\taigp enable;\n\troute-refresh;\n\tfamily {\n\t\tinet unicast;\n\t\tinet6 unicast;\n\t}\n\tapi { processes [ p ]; }\n\tstatic {\n\t\troute 10.0.0.0/8 next-hop 192.0.2.1 as-sequence [ 1 2 ];\n\t}\n\tprocess {\n\t\tneighbor-changes;\n\t\treceive-routes;\n\t}\n}\n";
        let m = migrate(text, Path::new("t.conf")).unwrap();
        for want in [
            "capability { add-path send; }",
            "capability { aigp enable; }",
            "ipv4 unicast;",
            "ipv6 unicast;",
            "as-path [ 1 2 ]",
            "api { neighbor-changes; receive { parsed; update; } }",
        ] {
            assert!(m.text.contains(want), "{want}: {}", m.text);
        }
        let (a, _) = crate::config::parse_str_with_notes(text, Path::new("t.conf")).unwrap();
        let (b, notes) = crate::config::parse_str_with_notes(&m.text, Path::new("t.conf")).unwrap();
        assert!(notes.is_empty(), "{notes:?}");
        let (x, y) = (&a.neighbors[0], &b.neighbors[0]);
        assert_eq!(x.without_routes().options, y.without_routes().options);
        assert_eq!(x.families, y.families);
        assert_eq!(x.api_neighbor_changes, y.api_neighbor_changes);
        assert_eq!(x.api_receive_updates, y.api_receive_updates);
        assert_eq!(x.routes.len(), y.routes.len());
    }
}
