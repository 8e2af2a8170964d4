//! The token cursor shared by the statement parsers, and the top level of a file.
//!
//! Every error points at the token that made the parse fail and says what was expected
//! there and what was found.

use std::path::PathBuf;
use std::sync::Arc;

use super::ConfigError;
use super::lexer::{self, Position, Token, TokenKind};
use super::model::{Config, Location};
use super::neighbor;
use super::values::ValueError;

/// A cursor over the tokens of one file. It never moves past the end-of-file token.
pub(super) struct Parser {
    tokens: Vec<Token>,
    next: usize,
    file: Arc<PathBuf>,
}

impl Parser {
    fn new(tokens: Vec<Token>, file: Arc<PathBuf>) -> Parser {
        Parser {
            tokens,
            next: 0,
            file,
        }
    }

    pub fn peek(&self) -> &Token {
        &self.tokens[self.next]
    }

    pub fn advance(&mut self) -> Token {
        let token = self.tokens[self.next].clone();
        if token.kind != TokenKind::EndOfFile {
            self.next += 1;
        }
        token
    }

    pub fn location(&self, position: Position) -> Location {
        Location {
            file: Arc::clone(&self.file),
            line: position.line,
            column: position.column,
        }
    }

    pub fn error_at(&self, position: Position, message: impl Into<String>) -> ConfigError {
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
        block: &str,
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
pub const TOP_LEVEL_KEYWORDS: &[&str] = &["neighbor"];

/// `a, b or c`: a block's keyword list as error messages show it.
pub(super) fn one_of(words: &[&str]) -> String {
    match words {
        [] => String::new(),
        [one] => (*one).to_string(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// A statement that may appear once per block; remembers where it was first given.
pub(super) struct Setting<T> {
    value: Option<(T, Position)>,
}

impl<T> Default for Setting<T> {
    fn default() -> Self {
        Setting { value: None }
    }
}

impl<T> Setting<T> {
    pub fn set(
        &mut self,
        p: &Parser,
        keyword: &Token,
        block: &str,
        value: T,
    ) -> Result<(), ConfigError> {
        if let Some((_, first)) = &self.value {
            return Err(p.error_at(
                keyword.position,
                format!(
                    "'{}' given twice in {block} (first at line {}, column {})",
                    keyword.text, first.line, first.column
                ),
            ));
        }
        self.value = Some((value, keyword.position));
        Ok(())
    }

    pub fn get(&self) -> Option<&T> {
        self.value.as_ref().map(|(v, _)| v)
    }

    pub fn take(self) -> Option<T> {
        self.value.map(|(v, _)| v)
    }
}

/// Parses a whole file: any number of `neighbor` blocks.
pub(super) fn parse_config(text: &str, file: Arc<PathBuf>) -> Result<Config, ConfigError> {
    let tokens = lexer::tokenize(text).map_err(|e| ConfigError {
        location: Some(Location {
            file: Arc::clone(&file),
            line: e.position().line,
            column: e.position().column,
        }),
        message: e.to_string(),
    })?;
    let mut p = Parser::new(tokens, file);
    let mut neighbors = Vec::new();
    loop {
        let token = p.advance();
        match token.kind {
            TokenKind::EndOfFile => break,
            TokenKind::Word if token.text == TOP_LEVEL_KEYWORDS[0] => {
                let n = neighbor::parse_neighbor(&mut p, &token, &neighbors)?;
                neighbors.push(n);
            }
            TokenKind::Word => {
                return Err(p.error_at(
                    token.position,
                    format!(
                        "unknown keyword '{}' at top level, expected {}",
                        token.text,
                        one_of(TOP_LEVEL_KEYWORDS)
                    ),
                ));
            }
            TokenKind::CloseBrace => {
                return Err(p.error_at(token.position, "unexpected '}': no block is open here"));
            }
            _ => return Err(p.unexpected(&token, "'neighbor'")),
        }
    }
    Ok(Config { neighbors })
}
