//! The token cursor shared by the statement parsers, and the top level of a file.
//!
//! Every error points at the token that made the parse fail and says what was expected
//! there and what was found.

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;

use super::ConfigError;
use super::include::{self, LoadState};
use super::lexer::{LexError, Lexer, Position, Token, TokenKind};
use super::model::{Config, Location, NeighborConfig};
use super::neighbor;
use super::template;
use super::values::ValueError;

/// Where the statements being parsed come from: the neighbor block itself, or one
/// application of an inherited template (each gets its own number, in inherit order).
pub(super) type Origin = u32;
/// The neighbor's own statements.
pub(super) const OWN: Origin = 0;

/// A cursor over the tokens of one file (or of one template body). It never moves past
/// the end-of-file token. Parsers of included files and templates share one [`LoadState`].
pub(super) struct Parser<'a> {
    source: TokenSource<'a>,
    /// The next token, already read from the source.
    peeked: Token,
    /// A lexer error met while reading ahead: it is the real cause of whatever parse error
    /// follows, so it is reported instead (see [`Parser::error_at`]).
    lex_error: Option<LexError>,
    file: Arc<PathBuf>,
    origin: Origin,
    pub(super) state: Rc<RefCell<LoadState>>,
    /// Where the last token [`Parser::advance`] returned was written.
    last: Position,
    /// The last plain route statement of this file that took one line (see
    /// [`super::route::RouteLineMemo`]).
    pub(super) route_memo: Option<Box<super::route::RouteLineMemo>>,
}

/// Where a parser's tokens come from: the text of a file, read as the parser goes, or the
/// recorded tokens of a template body.
enum TokenSource<'a> {
    Text(Lexer<'a>),
    Recorded(std::vec::IntoIter<Token>),
}

impl<'a> Parser<'a> {
    fn with_source(
        source: TokenSource<'a>,
        file: Arc<PathBuf>,
        origin: Origin,
        state: Rc<RefCell<LoadState>>,
    ) -> Parser<'a> {
        let mut p = Parser {
            source,
            peeked: end_of_file(Position { line: 1, column: 1 }),
            lex_error: None,
            file,
            origin,
            state,
            last: Position { line: 1, column: 1 },
            route_memo: None,
        };
        p.peeked = p.pull();
        p
    }

    /// A parser of the text of `file`, read by `lexer`.
    pub(super) fn new(
        lexer: Lexer<'a>,
        file: Arc<PathBuf>,
        state: Rc<RefCell<LoadState>>,
    ) -> Parser<'a> {
        Parser::with_source(TokenSource::Text(lexer), file, OWN, state)
    }

    /// A parser for an included file, read by `lexer`, sharing this one's state.
    pub(super) fn nested_text<'b>(
        &self,
        lexer: Lexer<'b>,
        file: Arc<PathBuf>,
        origin: Origin,
    ) -> Parser<'b> {
        Parser::with_source(
            TokenSource::Text(lexer),
            file,
            origin,
            Rc::clone(&self.state),
        )
    }

    /// A parser over recorded tokens with a state of its own (an API command line).
    pub(super) fn from_tokens(tokens: Vec<Token>, file: Arc<PathBuf>) -> Parser<'static> {
        let state = Rc::new(RefCell::new(LoadState::new(&file)));
        Parser::with_source(TokenSource::Recorded(tokens.into_iter()), file, OWN, state)
    }

    /// A parser over `tokens` (ending with end of file) that reports errors in the same file.
    pub fn sub_parser(&self, tokens: Vec<Token>) -> Parser<'static> {
        self.nested(tokens, Arc::clone(&self.file), self.origin)
    }

    /// A parser for recorded tokens (a template body), sharing this one's state.
    pub(super) fn nested(
        &self,
        tokens: Vec<Token>,
        file: Arc<PathBuf>,
        origin: Origin,
    ) -> Parser<'static> {
        Parser::with_source(
            TokenSource::Recorded(tokens.into_iter()),
            file,
            origin,
            Rc::clone(&self.state),
        )
    }

    /// Reads the token after `peeked`. After a lexer error the text ends there.
    fn pull(&mut self) -> Token {
        let at = self.peeked.position;
        match &mut self.source {
            TokenSource::Text(lexer) => match lexer.next_token() {
                Ok(t) => t,
                Err(e) => {
                    let position = e.position();
                    self.lex_error.get_or_insert(e);
                    self.source = TokenSource::Recorded(Vec::new().into_iter());
                    end_of_file(position)
                }
            },
            TokenSource::Recorded(tokens) => tokens.next().unwrap_or_else(|| end_of_file(at)),
        }
    }

    /// The lexer error met so far, as a configuration error.
    pub(super) fn lex_error(&self) -> Option<ConfigError> {
        self.lex_error.as_ref().map(|e| ConfigError {
            location: Some(self.location(e.position())),
            message: e.to_string(),
        })
    }

    pub fn file(&self) -> &Arc<PathBuf> {
        &self.file
    }

    pub fn origin(&self) -> Origin {
        self.origin
    }

    /// The keyword of the next statement of a file or template body, `None` at its end.
    /// `expected` describes the keywords allowed there, for errors.
    pub fn file_keyword(&mut self, expected: &str) -> Result<Option<Token>, ConfigError> {
        let token = self.advance();
        match token.kind {
            TokenKind::EndOfFile => Ok(None),
            TokenKind::Word => Ok(Some(token)),
            TokenKind::CloseBrace => {
                // ExaBGP ends the file at a '}' that closes nothing (one of its own examples,
                // conf-extended-attributes, has one): accepted when only '}' follow.
                while self.peek().kind == TokenKind::CloseBrace {
                    self.advance();
                }
                // Only at the end of the file given, not of an included one (whose '}' would
                // close a block of the file that includes it).
                let included = self.state.borrow().include_depth() > 1;
                if included || self.peek().kind != TokenKind::EndOfFile {
                    return Err(
                        self.error_at(token.position, "unexpected '}': no block is open here")
                    );
                }
                self.note(
                    token.position,
                    Some("stray close brace"),
                    "'}' closes no block: ignored, as ExaBGP does at the end of a file (remove it)",
                );
                Ok(None)
            }
            _ => Err(self.unexpected(&token, expected)),
        }
    }

    pub fn peek(&self) -> &Token {
        &self.peeked
    }

    pub fn advance(&mut self) -> Token {
        if self.peeked.kind == TokenKind::EndOfFile {
            return self.peeked.clone();
        }
        let next = self.pull();
        self.last = self.peeked.position;
        std::mem::replace(&mut self.peeked, next)
    }

    /// Where the last token [`Parser::advance`] returned was written.
    pub(super) fn last_position(&self) -> Position {
        self.last
    }

    /// The rest of the line after the peeked token, when it is read from a file's text
    /// (not recorded tokens) and no lexer error was met.
    pub(super) fn rest_of_line(&self) -> Option<&str> {
        match &self.source {
            TokenSource::Text(lexer) if self.lex_error.is_none() => Some(lexer.rest_of_line()),
            _ => None,
        }
    }

    /// Moves past the peeked token (its line already skipped, see
    /// [`Parser::skip_rest_of_line`]) to the next: when that is `word` at the start of the
    /// next line, the peeked token keeps its text and takes the new position, without a
    /// token made; else the next token is read as [`Parser::advance`] would.
    pub(super) fn advance_to_keyword(&mut self, word: &str) {
        self.last = self.peeked.position;
        if self.peeked.kind == TokenKind::Word && self.peeked.text == word {
            let found = match &mut self.source {
                TokenSource::Text(lexer) => lexer.skip_blanks_to_word(word),
                TokenSource::Recorded(_) => Ok(None),
            };
            match found {
                Ok(Some(at)) => {
                    self.peeked.position = at;
                    return;
                }
                Ok(None) => {}
                Err(e) => {
                    let position = e.position();
                    self.lex_error.get_or_insert(e);
                    self.source = TokenSource::Recorded(Vec::new().into_iter());
                    self.peeked = end_of_file(position);
                    return;
                }
            }
        }
        self.peeked = self.pull();
    }

    /// Steps over the rest of the line after the peeked token (see
    /// [`Lexer::skip_rest_of_line`]); `false` when nothing was skipped.
    pub(super) fn skip_rest_of_line(&mut self) -> bool {
        match &mut self.source {
            TokenSource::Text(lexer) if self.lex_error.is_none() => lexer.skip_rest_of_line(),
            _ => false,
        }
    }

    pub fn location(&self, position: Position) -> Location {
        Location {
            file: Arc::clone(&self.file),
            line: position.line,
            column: position.column,
        }
    }

    /// A warning for `--check` at `position`; with `once`, only the first of its kind.
    pub fn note(&self, position: Position, once: Option<&str>, message: impl std::fmt::Display) {
        let note = format!("{}: warning: {message}", self.location(position));
        self.state.borrow_mut().note(once, note);
    }

    pub fn error_at(&self, position: Position, message: impl Into<String>) -> ConfigError {
        if let Some(e) = self.lex_error() {
            return e;
        }
        ConfigError {
            location: Some(self.location(position)),
            message: message.into(),
        }
    }

    /// `expected {expected}, found {token}`, at the token.
    pub fn unexpected(&self, token: &Token, expected: &str) -> ConfigError {
        self.error_at(
            token.position,
            format!("expected {expected}, found {token}"),
        )
    }

    /// A value that `parse` refused, at the value's token.
    /// "unknown keyword 'KW' in BLOCK, expected ...", at the keyword.
    pub fn unknown_keyword(
        &self,
        kw: &Token,
        block: &(impl std::fmt::Display + ?Sized),
        expected: &str,
    ) -> ConfigError {
        self.error_at(
            kw.position,
            format!(
                "unknown keyword '{}' in {block}, expected {expected}",
                kw.text
            ),
        )
    }

    pub fn bad_value(&self, statement: &str, token: &Token, error: ValueError) -> ConfigError {
        self.error_at(
            token.position,
            format!("{statement}: {error}, found {token}"),
        )
    }

    /// The `;` that ends a statement; `after` completes "expected ';' after ...".
    pub fn expect_semicolon(&mut self, after: &str) -> Result<(), ConfigError> {
        let token = self.advance();
        if token.kind == TokenKind::Semicolon {
            Ok(())
        } else {
            Err(self.unexpected(&token, &format!("';' after {after}")))
        }
    }

    /// A bare word; `expected` describes it for the error.
    pub fn expect_word(&mut self, expected: &str) -> Result<Token, ConfigError> {
        let token = self.advance();
        if token.kind == TokenKind::Word {
            Ok(token)
        } else {
            Err(self.unexpected(&token, expected))
        }
    }

    /// The word after `statement`, parsed by `parse`; returns the value and its token.
    pub fn value<T>(
        &mut self,
        statement: &str,
        parse: impl FnOnce(&str) -> Result<T, ValueError>,
    ) -> Result<(T, Token), ConfigError> {
        let token = self.expect_word(&format!("a value after {statement}"))?;
        match parse(&token.text) {
            Ok(v) => Ok((v, token)),
            Err(e) => Err(self.bad_value(statement, &token, e)),
        }
    }

    /// `KIND NAME {` from just after `KIND`: the name (refused when `earlier`, the names
    /// already defined with their lines, has it), the block's label for messages, and its `{`.
    pub fn named_block<'e>(
        &mut self,
        kind: &str,
        earlier: impl IntoIterator<Item = (&'e str, u32)>,
    ) -> Result<(String, String, Token), ConfigError> {
        let name_token = self.expect_word(&format!("a name after {kind}"))?;
        let name = name_token.text.clone();
        if let Some((_, line)) = earlier.into_iter().find(|(n, _)| *n == name) {
            return Err(self.error_at(
                name_token.position,
                format!("duplicate {kind} {name}: already defined at line {line}"),
            ));
        }
        let block = format!("{kind} {name}");
        let open = self.open_block(&block)?;
        Ok((name, block, open))
    }

    /// The `{` that opens the block of `owner` (e.g. "neighbor 192.0.2.1").
    pub fn open_block(&mut self, owner: &str) -> Result<Token, ConfigError> {
        let token = self.advance();
        if token.kind == TokenKind::OpenBrace {
            Ok(token)
        } else {
            Err(self.unexpected(&token, &format!("'{{' after {owner}")))
        }
    }

    /// The keyword that starts the next statement of a block, or `None` at its `}`.
    /// `open` is the block's `{`, where an unterminated block is reported.
    pub fn block_keyword(
        &mut self,
        open: &Token,
        block: &(impl std::fmt::Display + ?Sized),
    ) -> Result<Option<Token>, ConfigError> {
        let token = self.advance();
        match token.kind {
            TokenKind::CloseBrace => Ok(None),
            TokenKind::Word => Ok(Some(token)),
            TokenKind::EndOfFile => Err(self.error_at(
                open.position,
                format!(
                    "unterminated block: the '{{' of {block} is never closed, expected '}}' before end of file"
                ),
            )),
            _ => Err(self.unexpected(&token, &format!("a keyword or '}}' in {block}"))),
        }
    }

    /// [`Parser::block_keyword`] for a block that ExaBGP lets end with the file: at the end
    /// of the file, `None` and a `--check` warning. Every block inside it must be closed,
    /// so a file cut in the middle of a statement or an inner block is still refused.
    pub fn block_keyword_or_end(
        &mut self,
        open: &Token,
        block: &(impl std::fmt::Display + ?Sized),
    ) -> Result<Option<Token>, ConfigError> {
        let lenient = {
            let state = self.state.borrow();
            !state.open_block_refused && state.include_depth() <= 1
        };
        if lenient && self.peek().kind == TokenKind::EndOfFile && self.lex_error.is_none() {
            self.note(
                open.position,
                None,
                format!(
                    "the '{{' of {block} is never closed: the block ends with the file, as in ExaBGP; add its '}}'"
                ),
            );
            return Ok(None);
        }
        self.block_keyword(open, block)
    }

    /// Either one word or `[ WORD ... ]`; `statement` names the list in errors.
    pub fn word_or_list(&mut self, statement: &str) -> Result<Vec<Token>, ConfigError> {
        let first = self.advance();
        match first.kind {
            TokenKind::Word => Ok(vec![first]),
            TokenKind::OpenBracket => {
                let mut words = Vec::new();
                loop {
                    let token = self.advance();
                    match token.kind {
                        TokenKind::Word => words.push(token),
                        TokenKind::CloseBracket => return Ok(words),
                        TokenKind::EndOfFile => {
                            return Err(self.error_at(
                                first.position,
                                format!("unterminated list: the '[' of {statement} is never closed, expected ']' before end of file"),
                            ));
                        }
                        _ => {
                            return Err(self.unexpected(
                                &token,
                                &format!("a value or ']' in {statement} list"),
                            ));
                        }
                    }
                }
            }
            _ => Err(self.unexpected(&first, &format!("a value or '[' after {statement}"))),
        }
    }
}

/// The statements of a file's top level.
pub const TOP_LEVEL_KEYWORDS: &[&str] = &[
    "neighbor",
    "template",
    "include",
    "process",
    "healthcheck",
    "guard",
    "group",
    "state-file",
];

/// `a, b or c`: a block's keyword list as error messages show it.
pub(super) fn one_of(words: &[&str]) -> String {
    match words {
        [] => String::new(),
        [one] => (*one).to_string(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// `'a', 'b' or 'c'`.
pub(super) fn one_of_quoted(words: &[&str]) -> String {
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let refs: Vec<&str> = quoted.iter().map(String::as_str).collect();
    one_of(&refs)
}

/// A statement that may appear once per block; remembers where it was first given.
/// A value from an inherited template yields to the neighbor's own (applied later,
/// templates never override) and to an earlier template's.
pub(super) struct Setting<T> {
    value: Option<(T, Position, Origin)>,
}

impl<T> Default for Setting<T> {
    fn default() -> Self {
        Setting { value: None }
    }
}

impl<T> Setting<T> {
    /// `block` names where the statement is, for errors (formatted only then).
    pub fn set(
        &mut self,
        p: &Parser,
        keyword: &Token,
        block: &(impl std::fmt::Display + ?Sized),
        value: T,
    ) -> Result<(), ConfigError> {
        if let Some((_, first, origin)) = &self.value {
            if *origin != p.origin() {
                // Own statements are parsed before any template: keep the first value.
                return Ok(());
            }
            return Err(p.error_at(
                keyword.position,
                format!(
                    "'{}' given twice in {block} (first at line {}, column {})",
                    keyword.text, first.line, first.column
                ),
            ));
        }
        self.value = Some((value, keyword.position, p.origin()));
        Ok(())
    }

    pub fn get(&self) -> Option<&T> {
        self.value.as_ref().map(|(v, _, _)| v)
    }

    pub fn take(self) -> Option<T> {
        self.value.map(|(v, _, _)| v)
    }

    /// The value and where its keyword was written.
    pub fn take_at(self) -> Option<(T, Position)> {
        self.value.map(|(v, at, _)| (v, at))
    }
}

/// Parses a whole file: `neighbor` and `template` blocks, and `include` statements.
pub(super) fn parse_config(lexer: Lexer<'_>, file: Arc<PathBuf>) -> Result<Config, ConfigError> {
    parse_config_with_notes(lexer, file).map(|(config, _)| config)
}

/// [`parse_config`], with the warnings `--check` prints.
pub(super) fn parse_config_with_notes(
    lexer: Lexer<'_>,
    file: Arc<PathBuf>,
) -> Result<(Config, Vec<String>), ConfigError> {
    parse_config_as(lexer, file, false)
}

/// [`parse_config_with_notes`]; with `reload`, a neighbor block left open at the end of the
/// file is refused instead of closed (see [`LoadState::open_block_refused`]).
pub(super) fn parse_config_as(
    lexer: Lexer<'_>,
    file: Arc<PathBuf>,
    reload: bool,
) -> Result<(Config, Vec<String>), ConfigError> {
    let state = Rc::new(RefCell::new(LoadState::new(&file)));
    state.borrow_mut().open_block_refused = reload;
    let mut p = Parser::new(lexer, Arc::clone(&file), Rc::clone(&state));
    let mut top = TopLevel::default();
    parse_top_level(&mut p, &mut top)?;
    if let Some(e) = p.lex_error() {
        return Err(e);
    }
    drop(p);
    for process in std::mem::take(&mut state.borrow_mut().neighbor_processes) {
        if let Some(e) = top.processes.iter().find(|e| e.name == process.name) {
            return Err(ConfigError {
                location: Some(process.location.clone()),
                message: format!(
                    "duplicate process {}: already defined at line {}",
                    process.name, e.location.line
                ),
            });
        }
        top.processes.push(process);
    }
    super::process::check_references(&mut top.neighbors, &top.processes)?;
    {
        let mut notes = std::mem::take(&mut state.borrow_mut().notes);
        let translated = super::healthcheck_run::translate(
            &mut top.neighbors,
            &mut top.processes,
            &mut top.healthchecks,
            &file,
            &mut notes,
        );
        state.borrow_mut().notes = notes;
        translated?;
    }
    super::healthcheck::check_references(&top.neighbors, &top.healthchecks)?;
    super::exabgp_compat::original_era_notes(&mut state.borrow_mut(), &top.neighbors);
    let sources = state.borrow_mut().take_sources();
    let notes = std::mem::take(&mut state.borrow_mut().notes);
    let mut files = std::mem::take(&mut state.borrow_mut().files);
    files.programs = top.processes.len() + top.healthchecks.len();
    let config = Config {
        neighbors: top.neighbors,
        sources,
        files: Arc::new(files),
        processes: top.processes,
        healthchecks: top.healthchecks,
        state_file: top.state_file,
    };
    Ok((config, notes))
}

fn end_of_file(position: Position) -> Token {
    Token {
        kind: TokenKind::EndOfFile,
        text: String::new(),
        position,
    }
}

/// What the top level of a configuration (with its includes) declares.
#[derive(Default)]
struct TopLevel {
    neighbors: Vec<NeighborConfig>,
    processes: Vec<super::process::ProcessConfig>,
    healthchecks: Vec<super::healthcheck::HealthcheckConfig>,
    state_file: Option<PathBuf>,
}

/// The statements of one file at top level, up to its end.
fn parse_top_level(p: &mut Parser, top: &mut TopLevel) -> Result<(), ConfigError> {
    while let Some(token) = p.file_keyword("'neighbor'")? {
        match token.text.as_str() {
            "neighbor" => {
                let n = neighbor::parse_neighbor(p, &token, &top.neighbors, true)?;
                top.neighbors.push(n);
            }
            "process" => {
                let process = super::process::parse_process(p, &token, &top.processes)?;
                top.processes.push(process);
            }
            "healthcheck" => {
                let h = super::healthcheck::parse_healthcheck(p, &token, &top.healthchecks)?;
                top.healthchecks.push(h);
            }
            "template" => template::parse_template_block(p)?,
            "group" => super::group::parse_group(p, &token, &mut top.neighbors)?,
            "guard" => {
                let mut g = p.state.borrow().guard;
                super::guard::parse(p, "the configuration", &mut g)?;
                p.state.borrow_mut().guard = g;
            }
            // Where the routes of programs and the states of health checks are journaled
            // (see src/manager/state_file.rs); relative to the configuration's directory.
            "state-file" => {
                let t = p.advance();
                if !matches!(t.kind, TokenKind::Quoted | TokenKind::Word) || t.text.is_empty() {
                    return Err(p.unexpected(&t, "a path after state-file"));
                }
                if top.state_file.is_some() {
                    return Err(p.error_at(token.position, "state-file given twice".to_string()));
                }
                top.state_file = Some(base_dir(p.file()).join(&t.text));
                p.expect_semicolon("state-file path")?;
            }
            "include" => include::include(p, &token, |sub| parse_top_level(sub, top))?,
            _ => {
                return Err(p.error_at(
                    token.position,
                    format!(
                        "unknown keyword '{}' at top level, expected {}",
                        token.text,
                        one_of_quoted(TOP_LEVEL_KEYWORDS)
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// The directory relative include paths of `file` are resolved against.
pub(super) fn base_dir(file: &Path) -> PathBuf {
    match file.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    }
}
