//! The tokenizer: configuration text to tokens that remember where they were written.
//!
//! Whitespace (including newlines) only separates tokens, so a statement may span lines.
//! `#` starts a comment that runs to the end of the line, except inside a quoted string.

use std::fmt;
use std::io::{BufRead, Read};

/// A 1-based line and column (columns count characters, not bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Position {
    pub line: u32,
    pub column: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenKind {
    /// A bare word: keywords, numbers, addresses, prefixes, `65000:1`, ...
    Word,
    /// A `"..."` or `'...'` string; the token text is the content without the quotes.
    Quoted,
    OpenBrace,
    CloseBrace,
    Semicolon,
    OpenBracket,
    CloseBracket,
    OpenParen,
    CloseParen,
    /// End of the text; always the last token.
    EndOfFile,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Token {
    pub kind: TokenKind,
    pub text: String,
    pub position: Position,
}

impl fmt::Display for Token {
    /// How a token is quoted in "found ..." messages.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            TokenKind::EndOfFile => f.write_str("end of file"),
            TokenKind::Quoted => write!(f, "string \"{}\"", self.text),
            _ => write!(f, "'{}'", self.text),
        }
    }
}

/// Why the text could not be split into tokens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LexError {
    /// A quote with no closing quote on the same line; the position is the opening quote.
    UnterminatedString { opened: Position },
    /// The input could not be read from this line on (an I/O error, or text that is not
    /// UTF-8).
    Unreadable { at: Position, reason: String },
    /// A line longer than [`MAX_LINE`] bytes; the position is where the cap was reached.
    LineTooLong { at: Position },
}

/// The longest line read, in bytes with its newline: far above any real line (a route with
/// thousands of communities), low enough that a file with no newline (a half-written
/// generator output, `/dev/zero` behind a symlink) costs a bounded amount of memory.
pub const MAX_LINE: usize = 1 << 20;

impl fmt::Display for LexError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LexError::UnterminatedString { .. } => f.write_str(
                "unterminated string: expected a closing quote before the end of the line",
            ),
            LexError::Unreadable { reason, .. } => {
                write!(f, "cannot read this line: {reason}")
            }
            LexError::LineTooLong { .. } => write!(
                f,
                "line longer than {MAX_LINE} bytes; refused (is the file complete?)"
            ),
        }
    }
}

impl LexError {
    pub fn position(&self) -> Position {
        match self {
            LexError::UnterminatedString { opened } => *opened,
            LexError::Unreadable { at, .. } | LexError::LineTooLong { at } => *at,
        }
    }
}

fn punctuation(c: char) -> Option<TokenKind> {
    match c {
        '{' => Some(TokenKind::OpenBrace),
        '}' => Some(TokenKind::CloseBrace),
        ';' => Some(TokenKind::Semicolon),
        '[' => Some(TokenKind::OpenBracket),
        ']' => Some(TokenKind::CloseBracket),
        '(' => Some(TokenKind::OpenParen),
        ')' => Some(TokenKind::CloseParen),
        _ => None,
    }
}

fn ends_word(c: char) -> bool {
    c.is_whitespace() || punctuation(c).is_some() || c == '#' || c == '"' || c == '\''
}

/// Tokens of a file, one at a time, read line by line: neither the text of a file of a
/// million routes nor its tokens are ever held whole. No token spans lines (a quoted string
/// ends on its line, a comment at its end), so one line is all the lexer keeps.
pub struct Lexer<'a> {
    input: Box<dyn BufRead + 'a>,
    /// The line being split, with its newline.
    text: String,
    /// Byte offset of the next character in `text`.
    at: usize,
    line: u32,
    column: u32,
    /// The input has no more lines (or could not be read further).
    ended: bool,
}

impl<'a> Lexer<'a> {
    /// A lexer of text already in memory.
    pub fn new(text: &'a str) -> Lexer<'a> {
        Lexer::from_reader(Box::new(text.as_bytes()))
    }

    /// A lexer of a reader (a file), read one line at a time.
    pub fn from_reader(input: Box<dyn BufRead + 'a>) -> Lexer<'a> {
        Lexer {
            input,
            text: String::new(),
            at: 0,
            line: 1,
            column: 1,
            ended: false,
        }
    }

    fn position(&self) -> Position {
        Position {
            line: self.line,
            column: self.column,
        }
    }

    /// The next character, reading the next line when this one is used up.
    fn peek(&mut self) -> Result<Option<char>, LexError> {
        if self.at >= self.text.len() {
            if self.ended {
                return Ok(None);
            }
            self.text.clear();
            self.at = 0;
            match self.read_line() {
                Ok(0) => self.ended = true,
                Ok(_) => {}
                Err(e) => {
                    self.ended = true;
                    return Err(e);
                }
            }
        }
        Ok(self
            .text
            .get(self.at..)
            .and_then(|rest| rest.chars().next()))
    }

    /// Reads the next line into `text`, at most [`MAX_LINE`] bytes of it.
    fn read_line(&mut self) -> Result<usize, LexError> {
        let mut bytes = std::mem::take(&mut self.text).into_bytes();
        bytes.clear();
        let read = (&mut self.input)
            .take(MAX_LINE as u64 + 1)
            .read_until(b'\n', &mut bytes);
        let at = self.position();
        let n = read.map_err(|e| LexError::Unreadable {
            at,
            reason: e.to_string(),
        })?;
        if n > MAX_LINE {
            return Err(LexError::LineTooLong {
                at: Position {
                    line: self.line,
                    column: 1,
                },
            });
        }
        self.text = String::from_utf8(bytes).map_err(|_| LexError::Unreadable {
            at,
            reason: "stream did not contain valid UTF-8".into(),
        })?;
        Ok(n)
    }

    /// The next character of the current line, if it is not a newline (no read).
    fn peek_in_line(&self) -> Option<char> {
        self.text
            .get(self.at..)
            .and_then(|rest| rest.chars().next())
            .filter(|&c| c != '\n')
    }

    /// Steps over `c`, the character just peeked.
    fn bump(&mut self, c: char) {
        self.at += c.len_utf8();
        if c == '\n' {
            self.line += 1;
            self.column = 1;
        } else {
            self.column += 1;
        }
    }

    /// The rest of the line being split, after the last token read, with its newline (the
    /// parser's route memo compares it with the line before).
    pub(super) fn rest_of_line(&self) -> &str {
        self.text.get(self.at..).unwrap_or_default()
    }

    /// Steps over the rest of the line being split, which must end with its newline (else
    /// nothing is skipped and `false` is returned): the next token is read from the next line.
    pub(super) fn skip_rest_of_line(&mut self) -> bool {
        if !self.text.ends_with('\n') {
            return false;
        }
        self.at = self.text.len();
        self.line += 1;
        self.column = 1;
        true
    }

    /// Skips blanks and newlines; then, if `word` (ASCII, no blank) comes next as a whole
    /// word, steps over it and gives where it was written (no token made). Else leaves the
    /// lexer at the next character, for [`Lexer::next_token`].
    pub(super) fn skip_blanks_to_word(&mut self, word: &str) -> Result<Option<Position>, LexError> {
        // Byte by byte: blanks are ASCII, and a line is read when this one is used up.
        while self.peek()?.is_some() {
            let rest = self.text.as_bytes().get(self.at..).unwrap_or_default();
            let blanks = rest
                .iter()
                .take_while(|&&b| matches!(b, b' ' | b'\t' | b'\r'))
                .count();
            self.at += blanks;
            self.column = self
                .column
                .saturating_add(u32::try_from(blanks).unwrap_or(u32::MAX));
            if rest.get(blanks) != Some(&b'\n') {
                if blanks < rest.len() {
                    break;
                }
                continue;
            }
            self.bump('\n');
        }
        let rest = self.text.get(self.at..).unwrap_or_default();
        let whole = rest
            .strip_prefix(word)
            .is_some_and(|after| after.chars().next().is_some_and(ends_word));
        if !whole || word.is_empty() {
            return Ok(None);
        }
        let at = self.position();
        self.at += word.len();
        self.column = self
            .column
            .saturating_add(u32::try_from(word.chars().count()).unwrap_or(u32::MAX));
        Ok(Some(at))
    }

    /// The next token; [`TokenKind::EndOfFile`] at the end, and again on every later call.
    pub fn next_token(&mut self) -> Result<Token, LexError> {
        while let Some(c) = self.peek()? {
            let position = self.position();
            if c.is_whitespace() {
                self.bump(c);
            } else if c == '#' {
                while let Some(c) = self.peek_in_line() {
                    self.bump(c);
                }
            } else if let Some(kind) = punctuation(c) {
                self.bump(c);
                return Ok(Token {
                    kind,
                    text: c.to_string(),
                    position,
                });
            } else if c == '"' || c == '\'' {
                self.bump(c);
                let start = self.at;
                loop {
                    match self.peek_in_line() {
                        Some(q) if q == c => break,
                        Some(other) => self.bump(other),
                        None => return Err(LexError::UnterminatedString { opened: position }),
                    }
                }
                let content = self
                    .text
                    .get(start..self.at)
                    .unwrap_or_default()
                    .to_string();
                self.bump(c);
                return Ok(Token {
                    kind: TokenKind::Quoted,
                    text: content,
                    position,
                });
            } else {
                // Words are sliced out of the line in one allocation, not pushed char by char.
                let start = self.at;
                while let Some(c) = self.peek_in_line().filter(|&c| !ends_word(c)) {
                    self.bump(c);
                }
                return Ok(Token {
                    kind: TokenKind::Word,
                    text: self
                        .text
                        .get(start..self.at)
                        .unwrap_or_default()
                        .to_string(),
                    position,
                });
            }
        }
        Ok(Token {
            kind: TokenKind::EndOfFile,
            text: String::new(),
            position: self.position(),
        })
    }
}

/// Splits `text` into tokens, ending with one [`TokenKind::EndOfFile`] (API command lines;
/// files are read one token at a time).
pub fn tokenize(text: &str) -> Result<Vec<Token>, LexError> {
    let mut lexer = Lexer::new(text);
    let mut tokens = Vec::new();
    loop {
        let token = lexer.next_token()?;
        let end = token.kind == TokenKind::EndOfFile;
        tokens.push(token);
        if end {
            return Ok(tokens);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(text: &str) -> Vec<(TokenKind, String, u32, u32)> {
        tokenize(text)
            .unwrap()
            .into_iter()
            .map(|t| (t.kind, t.text, t.position.line, t.position.column))
            .collect()
    }

    #[test]
    fn positions_are_one_based_and_span_lines() {
        use TokenKind::*;
        let toks = summary("neighbor 192.0.2.1 {\n  hold-time\n\t90;\n}");
        assert_eq!(
            toks,
            vec![
                (Word, "neighbor".into(), 1, 1),
                (Word, "192.0.2.1".into(), 1, 10),
                (OpenBrace, "{".into(), 1, 20),
                (Word, "hold-time".into(), 2, 3),
                (Word, "90".into(), 3, 2),
                (Semicolon, ";".into(), 3, 4),
                (CloseBrace, "}".into(), 4, 1),
                (EndOfFile, "".into(), 4, 2),
            ]
        );
    }

    #[test]
    fn punctuation_splits_words_without_spaces() {
        use TokenKind::*;
        let kinds: Vec<_> = summary("community [65000:1];as-path (1 2)")
            .into_iter()
            .map(|t| (t.0, t.1))
            .collect();
        assert_eq!(
            kinds,
            vec![
                (Word, "community".into()),
                (OpenBracket, "[".into()),
                (Word, "65000:1".into()),
                (CloseBracket, "]".into()),
                (Semicolon, ";".into()),
                (Word, "as-path".into()),
                (OpenParen, "(".into()),
                (Word, "1".into()),
                (Word, "2".into()),
                (CloseParen, ")".into()),
                (EndOfFile, "".into()),
            ]
        );
    }

    #[test]
    fn comments_run_to_end_of_line_but_not_inside_strings() {
        let toks = summary("a # b c\n\"x # y\" d#e\nf");
        let texts: Vec<_> = toks.iter().map(|t| (t.1.as_str(), t.2, t.3)).collect();
        assert_eq!(
            texts,
            vec![
                ("a", 1, 1),
                ("x # y", 2, 1),
                ("d", 2, 9),
                ("f", 3, 1),
                ("", 3, 2)
            ]
        );
        assert_eq!(toks[1].0, TokenKind::Quoted);
    }

    #[test]
    fn columns_count_characters_not_bytes() {
        let toks = summary("\"é\" x");
        assert_eq!((toks[1].2, toks[1].3), (1, 5));
    }

    #[test]
    fn unterminated_string_points_at_opening_quote() {
        let err = tokenize("description\n  \"core router;\n}").unwrap_err();
        assert_eq!(
            err,
            LexError::UnterminatedString {
                opened: Position { line: 2, column: 3 }
            }
        );
        assert!(tokenize("x 'abc").is_err());
    }

    #[test]
    fn single_quotes_are_strings_too() {
        let toks = summary("'a b'");
        assert_eq!(toks[0], (TokenKind::Quoted, "a b".into(), 1, 1));
    }

    #[test]
    fn a_reader_gives_the_same_tokens_as_the_text() {
        let text = "neighbor 192.0.2.1 {\n  description \"a é b\"; # c\n\troute 10.0.0.0/8\n next-hop 192.0.2.1;\n}";
        let mut from_reader = Lexer::from_reader(Box::new(std::io::BufReader::with_capacity(
            3,
            text.as_bytes(),
        )));
        let mut tokens = Vec::new();
        loop {
            let t = from_reader.next_token().unwrap();
            let end = t.kind == TokenKind::EndOfFile;
            tokens.push(t);
            if end {
                break;
            }
        }
        assert_eq!(tokens, tokenize(text).unwrap());
    }

    #[test]
    fn text_that_is_not_utf8_is_refused_at_its_line() {
        let bytes: &[u8] = b"neighbor 192.0.2.1 {\n  description \xff;\n}";
        let mut lexer = Lexer::from_reader(Box::new(bytes));
        let mut last = Ok(());
        for _ in 0..10 {
            match lexer.next_token() {
                Ok(t) if t.kind == TokenKind::EndOfFile => break,
                Ok(_) => {}
                Err(e) => {
                    last = Err(e);
                    break;
                }
            }
        }
        let e = last.unwrap_err();
        assert_eq!(e.position(), Position { line: 2, column: 1 });
        assert!(e.to_string().contains("cannot read this line"), "{e}");
    }

    #[test]
    fn a_line_over_the_cap_is_refused_at_its_line_without_reading_it_whole() {
        // An endless line: the lexer stops after MAX_LINE + 1 bytes.
        let endless = std::io::BufReader::new(std::io::repeat(b'a'));
        let mut lexer =
            Lexer::from_reader(Box::new("neighbor 192.0.2.1 {\n".as_bytes().chain(endless)));
        let mut error = None;
        for _ in 0..10 {
            match lexer.next_token() {
                Err(e) => {
                    error = Some(e);
                    break;
                }
                Ok(t) if t.kind == TokenKind::EndOfFile => break,
                Ok(_) => {}
            }
        }
        let e = error.expect("an error");
        assert_eq!(
            e,
            LexError::LineTooLong {
                at: Position { line: 2, column: 1 }
            }
        );
        assert!(e.to_string().contains("longer than"), "{e}");
        // A line just under the cap is read.
        let long = format!("{}\n", "b".repeat(MAX_LINE - 1));
        let mut lexer = Lexer::new(&long);
        assert_eq!(lexer.next_token().unwrap().text.len(), MAX_LINE - 1);
    }
}
