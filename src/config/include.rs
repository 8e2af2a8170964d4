//! `include "PATH";`: the statements of other files, at top level or in a `static { }`
//! block. The last path component may be a glob (`*`, `?`, `[...]`); relative paths are
//! relative to the including file; matches are read in name order.
//!
//! The load state shared by the parsers of one configuration also lives here: the files
//! being read (to refuse an include cycle), every file and glob directory read (what
//! `--watch` polls), and the templates defined so far.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;

use super::ConfigError;
use super::file_cache::{FileCache, GlobRecord, StampedFile};
use super::lexer::{Token, TokenKind};
use super::model::RouteTable;
use super::parser::{self, Parser};
use super::template::Template;

/// State shared by every parser working on one configuration.
pub(super) struct LoadState {
    /// Files being parsed, outermost first, as canonical paths when they exist; empty
    /// until the first include (see [`LoadState::top`]).
    stack: Vec<PathBuf>,
    /// The file parsing started with: made canonical only at the first include, because
    /// canonicalizing costs system calls, and every API command line is parsed with a
    /// state of its own.
    top: PathBuf,
    /// Every file read and every directory a glob was matched in, in first-read order.
    sources: Vec<PathBuf>,
    pub templates: HashMap<String, Rc<Template>>,
    /// The last origin handed out to a template application.
    pub last_origin: parser::Origin,
    /// One shared copy of each distinct attribute set of the file's routes.
    pub attributes: crate::rib::route_set::AttributeInterner,
    /// One shared copy of each distinct unicast table of the neighbors parsed so far.
    tables: Vec<Arc<Vec<crate::rib::route_set::Route>>>,
    /// The tables of neighbors that take every route from their templates, built once.
    pub inherited: super::inherited::Memo,
    /// The top-level `guard { }` settings so far: the defaults of the neighbors that follow.
    pub guard: super::guard::GuardSettings,
    /// What `--check` tells the operator without refusing the file: deprecated spellings
    /// and places where bgpinject does not do what the ExaBGP of the file's era did
    /// (`FILE:LINE:COL: warning: ...`), each once.
    pub notes: Vec<String>,
    /// `process NAME { }` blocks written inside a neighbor (the original injector's place for
    /// them), added to the top-level processes once the file is read.
    pub neighbor_processes: Vec<super::process::ProcessConfig>,
    /// Set when the file uses a form only the original injector (2009-2011) wrote: its
    /// era's meanings are then compared with bgpinject's at `--check`.
    pub original_syntax: bool,
    /// The keys of the notes given once per file (a deprecated keyword) and the notes made.
    noted: std::collections::HashSet<String>,
    /// What the configuration is read from, for the next reload (see [`FileCache`]).
    pub files: FileCache,
    /// Set while the include of a `static { }` block is read.
    routes_include: bool,
    /// Set for a reload: a neighbor block left open at the end of the file is refused (the
    /// file may be half-written), where a start or `--check` closes it as ExaBGP does.
    pub open_block_refused: bool,
    /// How many notes were given (whether or not they were new): the route memo keeps
    /// only a statement that gave none, so that a note is never lost to it.
    pub note_calls: u64,
}

impl LoadState {
    /// How many files are being read: 1 in the file given, more in an included one.
    pub fn include_depth(&self) -> usize {
        self.stack.len()
    }

    pub fn new(top: &Path) -> LoadState {
        LoadState {
            stack: Vec::new(),
            top: top.to_path_buf(),
            sources: vec![top.to_path_buf()],
            templates: HashMap::new(),
            last_origin: parser::OWN,
            attributes: Default::default(),
            tables: Vec::new(),
            inherited: Default::default(),
            guard: Default::default(),
            notes: Vec::new(),
            neighbor_processes: Vec::new(),
            original_syntax: false,
            noted: Default::default(),
            files: FileCache::default(),
            routes_include: false,
            open_block_refused: false,
            note_calls: 0,
        }
    }

    /// Records which included file gave which part of a neighbor's table.
    pub fn record_table(&mut self, record: super::file_cache::TableRecord) {
        self.files.tables.push(record);
    }

    /// Records `note` (already located), unless `once` was recorded before or the same
    /// note was (a template body is parsed again for each neighbor that inherits it).
    pub fn note(&mut self, once: Option<&str>, note: String) {
        self.note_calls += 1;
        if let Some(key) = once
            && !self.noted.insert(format!("once:{key}"))
        {
            return;
        }
        if self.noted.insert(note.clone()) {
            self.notes.push(note);
        }
    }

    /// `table` with its unicast routes replaced by an equal table parsed earlier, if any:
    /// neighbors given the same routes (say, by one template) hold one copy.
    pub fn share_table(&mut self, mut table: RouteTable) -> RouteTable {
        if table.unicast.is_empty() {
            return table;
        }
        match self.tables.iter().find(|t| **t == table.unicast) {
            Some(earlier) => table.unicast = Arc::clone(earlier),
            None => self.tables.push(Arc::clone(&table.unicast)),
        }
        table
    }

    pub fn take_sources(&mut self) -> Vec<PathBuf> {
        std::mem::take(&mut self.sources)
    }

    fn add_source(&mut self, path: &Path) {
        if !self.sources.iter().any(|s| s == path) {
            self.sources.push(path.to_path_buf());
        }
    }
}

fn canonical(path: &Path) -> PathBuf {
    path.canonicalize().unwrap_or_else(|_| path.to_path_buf())
}

/// [`include`] in a `static { }` block: the files can only hold routes, so a reload may
/// parse them alone (see [`FileCache`]).
pub(super) fn include_routes(
    p: &mut Parser,
    keyword: &Token,
    body: impl FnMut(&mut Parser) -> Result<(), ConfigError>,
) -> Result<(), ConfigError> {
    let outer = std::mem::replace(&mut p.state.borrow_mut().routes_include, true);
    let result = include(p, keyword, body);
    p.state.borrow_mut().routes_include = outer;
    result
}

/// Parses `include "PATH";` from just after `include`, then runs `body` on a parser over
/// each included file (it must consume the file to its end).
pub(super) fn include(
    p: &mut Parser,
    keyword: &Token,
    mut body: impl FnMut(&mut Parser) -> Result<(), ConfigError>,
) -> Result<(), ConfigError> {
    let routes_only = std::mem::take(&mut p.state.borrow_mut().routes_include);
    let token = p.advance();
    if !matches!(token.kind, TokenKind::Quoted | TokenKind::Word) {
        return Err(p.unexpected(&token, "a quoted path after include"));
    }
    p.expect_semicolon("the include path")?;
    let pattern = parser::base_dir(p.file()).join(&token.text);
    let files = resolve(&pattern).map_err(|message| p.error_at(keyword.position, message))?;
    if let Some(dir) = files.glob_dir {
        let mut state = p.state.borrow_mut();
        state.add_source(&dir);
        if !state.files.globs.iter().any(|g| g.pattern == pattern) {
            state.files.globs.push(GlobRecord {
                pattern: pattern.clone(),
                files: files.files.clone(),
            });
        }
    }
    for file in files.files {
        let key = canonical(&file);
        let cycle = {
            let mut state = p.state.borrow_mut();
            if state.stack.is_empty() {
                let top = canonical(&state.top);
                state.stack.push(top);
            }
            state.stack.contains(&key)
        };
        if cycle {
            return Err(p.error_at(
                keyword.position,
                format!(
                    "include cycle: {} is already being read (included from {})",
                    file.display(),
                    p.file().display()
                ),
            ));
        }
        let opened = open_regular(&file).map_err(|e| {
            p.error_at(
                keyword.position,
                format!("cannot read included file {}: {e}", file.display()),
            )
        })?;
        let (stamped, stamper) = StampedFile::new(opened);
        let reader = std::io::BufReader::with_capacity(1 << 16, stamped);
        let file = Arc::new(file);
        {
            let mut state = p.state.borrow_mut();
            state.add_source(&file);
            state.stack.push(key);
        }
        let lexer = super::lexer::Lexer::from_reader(Box::new(reader));
        let mut sub = p.nested_text(lexer, Arc::clone(&file), p.origin());
        let result = body(&mut sub).and_then(|()| sub.lex_error().map_or(Ok(()), Err));
        drop(sub);
        let mut state = p.state.borrow_mut();
        state.stack.pop();
        result?;
        state.files.add_file(&file, stamper.stamp(), routes_only);
    }
    Ok(())
}

/// The files an include pattern names now (for a reload to compare).
pub(super) fn glob_matches(pattern: &Path) -> Result<Vec<PathBuf>, String> {
    resolve(pattern).map(|r| r.files)
}

/// Opens a configuration file, main or included, refusing anything but a regular file: a FIFO
/// would block a reload forever (and with it SIGTERM), a device such as `/dev/zero` never ends.
/// The open itself does not wait (`O_NONBLOCK`, harmless on a regular file).
pub fn open_regular(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)?;
    let kind = file.metadata()?.file_type();
    if kind.is_file() {
        return Ok(file);
    }
    use std::os::unix::fs::FileTypeExt;
    let what = if kind.is_dir() {
        "is a directory"
    } else if kind.is_fifo() {
        "is a FIFO, not a regular file"
    } else if kind.is_char_device() || kind.is_block_device() {
        "is a device, not a regular file"
    } else if kind.is_socket() {
        "is a socket, not a regular file"
    } else {
        "is not a regular file"
    };
    Err(std::io::Error::other(what))
}

/// The files an include names.
struct Resolved {
    files: Vec<PathBuf>,
    /// For a glob: the directory it is matched in (a new match there changes its mtime).
    glob_dir: Option<PathBuf>,
}

/// One file, or the files matching a glob in the last component (sorted by name, hidden
/// files only when the pattern itself starts with a dot). A glob may match nothing; a
/// plain path must exist. The error is a message for the include statement.
fn resolve(pattern: &Path) -> Result<Resolved, String> {
    let name = pattern
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| format!("include path {} names no file", pattern.display()))?;
    if !name.contains(['*', '?', '[']) {
        if !pattern.is_file() {
            return Err(format!(
                "included file {} does not exist or is not a regular file",
                pattern.display()
            ));
        }
        return Ok(Resolved {
            files: vec![pattern.to_path_buf()],
            glob_dir: None,
        });
    }
    let glob =
        Glob::new(name).map_err(|e| format!("include pattern {}: {e}", pattern.display()))?;
    let dir = parser::base_dir(pattern);
    let entries = std::fs::read_dir(&dir).map_err(|e| {
        format!(
            "include pattern {}: cannot list {}: {e}",
            pattern.display(),
            dir.display()
        )
    })?;
    let mut names: Vec<String> = entries
        .filter_map(Result::ok)
        .filter(|e| e.path().is_file())
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| (!n.starts_with('.') || name.starts_with('.')) && glob.matches(n))
        .collect();
    names.sort();
    Ok(Resolved {
        files: names.into_iter().map(|n| dir.join(n)).collect(),
        glob_dir: Some(dir),
    })
}

/// A shell-style pattern for one path component: `*` (any run), `?` (one character),
/// `[abc]`, `[a-z]`, `[!a-z]` (one character of, or not of, a set).
#[derive(Debug)]
pub(super) struct Glob {
    parts: Vec<GlobPart>,
}

#[derive(Debug)]
enum GlobPart {
    Literal(char),
    AnyOne,
    AnyRun,
    /// Ranges (a single character is `c..=c`), and whether the set is negated.
    Set(Vec<(char, char)>, bool),
}

impl Glob {
    pub fn new(pattern: &str) -> Result<Glob, String> {
        let mut parts = Vec::new();
        let mut chars = pattern.chars().peekable();
        while let Some(c) = chars.next() {
            parts.push(match c {
                '*' => GlobPart::AnyRun,
                '?' => GlobPart::AnyOne,
                '[' => {
                    let negated = chars.next_if(|&c| c == '!' || c == '^').is_some();
                    let mut ranges = Vec::new();
                    let mut first = true;
                    loop {
                        let Some(c) = chars.next() else {
                            return Err("'[' is never closed, expected ']'".into());
                        };
                        if c == ']' && !first {
                            break;
                        }
                        first = false;
                        let end = if chars.next_if_eq(&'-').is_some() {
                            match chars.next() {
                                Some(']') | None => {
                                    return Err("a range in '[...]' has no end".into());
                                }
                                Some(end) => end,
                            }
                        } else {
                            c
                        };
                        ranges.push((c, end));
                    }
                    GlobPart::Set(ranges, negated)
                }
                c => GlobPart::Literal(c),
            });
        }
        Ok(Glob { parts })
    }

    pub fn matches(&self, name: &str) -> bool {
        let name: Vec<char> = name.chars().collect();
        // Iterative matching with backtracking to the last `*`: linear in practice.
        let (mut pi, mut ni) = (0, 0);
        let mut star: Option<(usize, usize)> = None;
        while ni < name.len() {
            let step = match self.parts.get(pi) {
                Some(GlobPart::AnyRun) => {
                    star = Some((pi, ni));
                    pi += 1;
                    continue;
                }
                Some(GlobPart::AnyOne) => true,
                Some(GlobPart::Literal(c)) => *c == name[ni],
                Some(GlobPart::Set(ranges, negated)) => {
                    ranges
                        .iter()
                        .any(|&(lo, hi)| lo <= name[ni] && name[ni] <= hi)
                        != *negated
                }
                None => false,
            };
            if step {
                pi += 1;
                ni += 1;
            } else if let Some((sp, sn)) = star {
                pi = sp + 1;
                ni = sn + 1;
                star = Some((sp, sn + 1));
            } else {
                return false;
            }
        }
        self.parts[pi..]
            .iter()
            .all(|p| matches!(p, GlobPart::AnyRun))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(pattern: &str, name: &str) -> bool {
        Glob::new(pattern).unwrap().matches(name)
    }

    #[test]
    fn glob_star_question_and_sets() {
        assert!(m("*.conf", "a.conf"));
        assert!(m("*.conf", ".conf"));
        assert!(!m("*.conf", "a.conf~"));
        assert!(m("a*b*c", "abc"));
        assert!(m("a*b*c", "axxbyyc"));
        assert!(!m("a*b*c", "axxbyy"));
        assert!(m("r??.conf", "r01.conf"));
        assert!(!m("r??.conf", "r1.conf"));
        assert!(m("[ab]*", "b1"));
        assert!(!m("[ab]*", "c1"));
        assert!(m("n[0-9].conf", "n7.conf"));
        assert!(!m("n[!0-9].conf", "n7.conf"));
        assert!(m("n[!0-9].conf", "nx.conf"));
        assert!(m("[]]", "]"));
        assert!(m("*", ""));
        assert!(!m("?", ""));
        assert!(Glob::new("[abc").is_err());
    }
}

#[cfg(test)]
mod include_tests {
    use std::fs;

    use crate::config::load;

    const IDS: &str = "router-id 192.0.2.10; local-as 65000; peer-as 65001;";

    #[test]
    fn top_level_and_static_includes_with_globs_in_name_order() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        fs::create_dir(d.join("routes.d")).unwrap();
        fs::write(
            d.join("main.conf"),
            format!(
                "include \"n.conf\";\nneighbor 192.0.2.2 {{ {IDS} static {{ include 'routes.d/*.conf'; }} }}\n"
            ),
        )
        .unwrap();
        fs::write(
            d.join("n.conf"),
            format!("neighbor 192.0.2.1 {{ {IDS} }}\n"),
        )
        .unwrap();
        fs::write(
            d.join("routes.d/b.conf"),
            "route 198.51.100.2/32 next-hop 192.0.2.1;\n",
        )
        .unwrap();
        fs::write(
            d.join("routes.d/a.conf"),
            "route 198.51.100.1/32 next-hop 192.0.2.1;\ninclude \"../more/x.conf\";\n",
        )
        .unwrap();
        fs::write(d.join("routes.d/.hidden.conf"), "garbage").unwrap();
        fs::write(d.join("routes.d/c.conf~"), "garbage").unwrap();
        fs::create_dir(d.join("more")).unwrap();
        fs::write(
            d.join("more/x.conf"),
            "route 198.51.100.3/32 next-hop 192.0.2.1;",
        )
        .unwrap();
        let c = load(&d.join("main.conf")).unwrap();
        assert_eq!(c.neighbors.len(), 2);
        let routes: Vec<String> = c.neighbors[1]
            .routes
            .iter()
            .map(|r| r.prefix.to_string())
            .collect();
        // The table is kept sorted; the order files were read in is `sources` below.
        assert_eq!(
            routes,
            ["198.51.100.1/32", "198.51.100.2/32", "198.51.100.3/32"]
        );
        let sources: Vec<String> = c
            .sources
            .iter()
            .map(|s| s.strip_prefix(d).unwrap().display().to_string())
            .collect();
        assert_eq!(
            sources,
            [
                "main.conf",
                "n.conf",
                "routes.d",
                "routes.d/a.conf",
                "routes.d/../more/x.conf",
                "routes.d/b.conf"
            ]
        );
    }

    #[test]
    fn missing_file_cycle_and_errors_inside_included_files() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let main = d.join("main.conf");
        fs::write(&main, "# x\n  include \"missing.conf\";\n").unwrap();
        let e = load(&main).unwrap_err().to_string();
        assert!(
            e.starts_with(&format!("{}:2:3: included file", main.display())),
            "{e}"
        );
        assert!(e.contains("missing.conf does not exist"), "{e}");

        fs::write(&main, "include \"nothing-*.conf\";\n").unwrap();
        assert!(load(&main).unwrap().neighbors.is_empty());

        fs::write(&main, "include \"a.conf\";\n").unwrap();
        fs::write(d.join("a.conf"), "\ninclude \"main.conf\";\n").unwrap();
        let e = load(&main).unwrap_err().to_string();
        let a = d.join("a.conf");
        assert!(
            e.starts_with(&format!("{}:2:1: include cycle", a.display())),
            "{e}"
        );

        fs::write(
            d.join("a.conf"),
            "neighbor 192.0.2.1 {\n  hold-time 1;\n}\n",
        )
        .unwrap();
        let e = load(&main).unwrap_err().to_string();
        assert!(
            e.starts_with(&format!("{}:2:13: hold-time", a.display())),
            "{e}"
        );

        fs::write(d.join("a.conf"), "neighbor 192.0.2.1 {\n").unwrap();
        let e = load(&main).unwrap_err().to_string();
        assert!(
            e.starts_with(&format!("{}:1:20: unterminated block", a.display())),
            "{e}"
        );

        fs::write(d.join("a.conf"), "}\n").unwrap();
        let e = load(&main).unwrap_err().to_string();
        assert!(
            e.starts_with(&format!("{}:1:1: unexpected '}}'", a.display())),
            "{e}"
        );
    }
}
