//! The tokenizer: configuration text to tokens that remember where they were written.
//!
//! Whitespace (including newlines) only separates tokens, so a statement may span lines.
//! `#` starts a comment that runs to the end of the line, except inside a quoted string.

use std::fmt;

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
}

impl fmt::Display for LexError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LexError::UnterminatedString { .. } => f.write_str(
                "unterminated string: expected a closing quote before the end of the line",
            ),
        }
    }
}

impl LexError {
    pub fn position(&self) -> Position {
        match self {
            LexError::UnterminatedString { opened } => *opened,
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

/// Characters of the text with their byte offsets, so that words can be sliced.
struct Cursor<'a> {
    text: &'a str,
    rest: std::iter::Peekable<std::str::CharIndices<'a>>,
}

impl Cursor<'_> {
    fn peek(&mut self) -> Option<&char> {
        self.rest.peek().map(|(_, c)| c)
    }

    fn next_if(&mut self, f: impl FnOnce(&char) -> bool) -> Option<char> {
        self.rest.next_if(|(_, c)| f(c)).map(|(_, c)| c)
    }
}

impl Iterator for Cursor<'_> {
    type Item = char;
    fn next(&mut self) -> Option<char> {
        self.rest.next().map(|(_, c)| c)
    }
}

/// The byte offset of the next character (the text's length at its end).
fn offset(chars: &Cursor<'_>) -> usize {
    let mut rest = chars.rest.clone();
    rest.peek().map_or(chars.text.len(), |(i, _)| *i)
}

/// Tokens of a text, one at a time: a file of a million routes is never held as tokens.
pub struct Lexer<'a> {
    text: &'a str,
    chars: Cursor<'a>,
    line: u32,
    column: u32,
}

impl<'a> Lexer<'a> {
    pub fn new(text: &'a str) -> Lexer<'a> {
        Lexer {
            text,
            chars: Cursor {
                text,
                rest: text.char_indices().peekable(),
            },
            line: 1,
            column: 1,
        }
    }

    /// The next token; [`TokenKind::EndOfFile`] at the end, and again on every later call.
    pub fn next_token(&mut self) -> Result<Token, LexError> {
        let chars = &mut self.chars;
        while let Some(&c) = chars.peek() {
            let position = Position {
                line: self.line,
                column: self.column,
            };
            if c == '\n' {
                chars.next();
                self.line += 1;
                self.column = 1;
            } else if c.is_whitespace() {
                chars.next();
                self.column += 1;
            } else if c == '#' {
                while chars.next_if(|&c| c != '\n').is_some() {}
            } else if let Some(kind) = punctuation(c) {
                chars.next();
                self.column += 1;
                return Ok(Token {
                    kind,
                    text: c.to_string(),
                    position,
                });
            } else if c == '"' || c == '\'' {
                chars.next();
                self.column += 1;
                let mut content = String::new();
                loop {
                    match chars.next() {
                        Some(q) if q == c => {
                            self.column += 1;
                            break;
                        }
                        Some('\n') | None => {
                            return Err(LexError::UnterminatedString { opened: position });
                        }
                        Some(other) => {
                            self.column += 1;
                            content.push(other);
                        }
                    }
                }
                return Ok(Token {
                    kind: TokenKind::Quoted,
                    text: content,
                    position,
                });
            } else {
                // Words are sliced out of the text in one allocation, not pushed char by char.
                let start = offset(chars);
                while chars.next_if(|&c| !ends_word(c)).is_some() {
                    self.column += 1;
                }
                return Ok(Token {
                    kind: TokenKind::Word,
                    text: self.text[start..offset(chars)].to_string(),
                    position,
                });
            }
        }
        Ok(Token {
            kind: TokenKind::EndOfFile,
            text: String::new(),
            position: Position {
                line: self.line,
                column: self.column,
            },
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
}
