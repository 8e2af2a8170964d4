//! Parser for test-vector files (`test-vectors/**/*.vec`, format in test-vectors/README.md).
//!
//! A file is a list of vectors separated by blank lines; `#` starts a comment line. Each
//! vector has `name:`, `source:`, `hex:`, optional `context.*:` lines and `expect.*:` lines.
//! Everything keeps its line number so a failing check can point at the line to fix.

use std::fmt;

use crate::wire::family::Family;

/// The decoding context a vector asks for (`context.*` lines).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VectorContext {
    /// `context.four_octet_as` (default true).
    pub four_octet_as: bool,
    /// `context.add_path`: families whose NLRI carry RFC 7911 path identifiers.
    pub add_path: Vec<Family>,
    /// `context.extended_message` (default false): RFC 8654, messages up to 65535 octets.
    pub extended_message: bool,
    /// `context.reencode` (default true): false when re-encoding cannot be byte-exact by
    /// design (say why in a comment next to it).
    pub reencode: bool,
}

impl Default for VectorContext {
    fn default() -> Self {
        VectorContext {
            four_octet_as: true,
            add_path: Vec::new(),
            extended_message: false,
            reencode: true,
        }
    }
}

/// One `expect.KEY: VALUE` line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expectation {
    pub key: String,
    pub value: String,
    pub line: usize,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Vector {
    pub name: String,
    pub source: String,
    pub bytes: Vec<u8>,
    pub context: VectorContext,
    pub expect: Vec<Expectation>,
    /// Line of the vector's first field.
    pub line: usize,
}

impl Vector {
    pub fn expected(&self, key: &str) -> Option<&Expectation> {
        self.expect.iter().find(|e| e.key == key)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VectorErrorKind {
    /// A line that is neither `key: value`, a comment nor blank.
    NotKeyValue,
    UnknownField(String),
    /// An `expect.` key that is not in the README table.
    UnknownExpectKey(String),
    DuplicateField(String),
    MissingField(&'static str),
    BadHex(String),
    BadContextValue {
        key: String,
        value: String,
    },
}

/// A problem in a vector file, at a line (1-based).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VectorError {
    pub line: usize,
    pub kind: VectorErrorKind,
}

impl fmt::Display for VectorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: ", self.line)?;
        match &self.kind {
            VectorErrorKind::NotKeyValue => f.write_str("expected `key: value`"),
            VectorErrorKind::UnknownField(k) => write!(f, "unknown field `{k}`"),
            VectorErrorKind::UnknownExpectKey(k) => {
                write!(f, "unknown key `expect.{k}` (see test-vectors/README.md)")
            }
            VectorErrorKind::DuplicateField(k) => write!(f, "`{k}` given twice"),
            VectorErrorKind::MissingField(k) => write!(f, "vector has no `{k}:`"),
            VectorErrorKind::BadHex(why) => write!(f, "bad hex: {why}"),
            VectorErrorKind::BadContextValue { key, value } => {
                write!(f, "bad value `{value}` for `context.{key}`")
            }
        }
    }
}

impl std::error::Error for VectorError {}

/// Parses hex with spaces, tabs and colons ignored.
pub fn parse_hex(text: &str) -> Result<Vec<u8>, String> {
    let digits: Vec<u8> = text
        .bytes()
        .filter(|b| !matches!(b, b' ' | b'\t' | b':'))
        .collect();
    if let Some(bad) = digits.iter().find(|b| !b.is_ascii_hexdigit()) {
        return Err(format!("`{}` is not a hex digit", *bad as char));
    }
    if !digits.len().is_multiple_of(2) {
        return Err(format!("odd number of hex digits ({})", digits.len()));
    }
    Ok(digits
        .chunks_exact(2)
        .map(|p| {
            let nibble = |c: u8| (c as char).to_digit(16).unwrap_or(0) as u8;
            (nibble(p[0]) << 4) | nibble(p[1])
        })
        .collect())
}

fn parse_bool(key: &str, value: &str, line: usize) -> Result<bool, VectorError> {
    match value {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(VectorError {
            line,
            kind: VectorErrorKind::BadContextValue {
                key: key.to_string(),
                value: value.to_string(),
            },
        }),
    }
}

#[derive(Default)]
struct Draft {
    line: usize,
    name: Option<String>,
    source: Option<String>,
    bytes: Option<Vec<u8>>,
    context: VectorContext,
    seen_context: Vec<String>,
    expect: Vec<Expectation>,
}

impl Draft {
    fn finish(self) -> Result<Vector, VectorError> {
        let missing = |field| VectorError {
            line: self.line,
            kind: VectorErrorKind::MissingField(field),
        };
        Ok(Vector {
            name: self.name.clone().ok_or_else(|| missing("name"))?,
            source: self.source.clone().ok_or_else(|| missing("source"))?,
            bytes: self.bytes.clone().ok_or_else(|| missing("hex"))?,
            context: self.context,
            expect: self.expect,
            line: self.line,
        })
    }

    fn field(&mut self, key: &str, value: &str, line: usize) -> Result<(), VectorError> {
        let err = |kind| Err(VectorError { line, kind });
        let dup = |k: &str| VectorError {
            line,
            kind: VectorErrorKind::DuplicateField(k.to_string()),
        };
        if let Some(k) = key.strip_prefix("expect.") {
            if k != "error" && !crate::wire::facts::is_key(k) {
                return err(VectorErrorKind::UnknownExpectKey(k.to_string()));
            }
            if self.expect.iter().any(|e| e.key == k) {
                return Err(dup(key));
            }
            self.expect.push(Expectation {
                key: k.to_string(),
                value: value.to_string(),
                line,
            });
            return Ok(());
        }
        if let Some(k) = key.strip_prefix("context.") {
            if self.seen_context.iter().any(|s| s == k) {
                return Err(dup(key));
            }
            self.seen_context.push(k.to_string());
            match k {
                "four_octet_as" => self.context.four_octet_as = parse_bool(k, value, line)?,
                "extended_message" => self.context.extended_message = parse_bool(k, value, line)?,
                "reencode" => self.context.reencode = parse_bool(k, value, line)?,
                "add_path" => {
                    for name in value.split_whitespace() {
                        let fam = Family::from_name(name).ok_or_else(|| VectorError {
                            line,
                            kind: VectorErrorKind::BadContextValue {
                                key: k.to_string(),
                                value: name.to_string(),
                            },
                        })?;
                        self.context.add_path.push(fam);
                    }
                }
                _ => return err(VectorErrorKind::UnknownField(key.to_string())),
            }
            return Ok(());
        }
        let slot = match key {
            "name" => &mut self.name,
            "source" => &mut self.source,
            "hex" => {
                if self.bytes.is_some() {
                    return Err(dup(key));
                }
                let bytes = parse_hex(value).map_err(|why| VectorError {
                    line,
                    kind: VectorErrorKind::BadHex(why),
                })?;
                self.bytes = Some(bytes);
                return Ok(());
            }
            _ => return err(VectorErrorKind::UnknownField(key.to_string())),
        };
        if slot.is_some() {
            return Err(dup(key));
        }
        *slot = Some(value.to_string());
        Ok(())
    }
}

/// Parses a whole `.vec` file.
pub fn parse(text: &str) -> Result<Vec<Vector>, VectorError> {
    let mut out = Vec::new();
    let mut draft: Option<Draft> = None;
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let trimmed = raw.trim();
        if trimmed.starts_with('#') {
            continue;
        }
        if trimmed.is_empty() {
            if let Some(d) = draft.take() {
                out.push(d.finish()?);
            }
            continue;
        }
        let Some((key, value)) = trimmed.split_once(':') else {
            return Err(VectorError {
                line,
                kind: VectorErrorKind::NotKeyValue,
            });
        };
        let d = draft.get_or_insert_with(|| Draft {
            line,
            ..Draft::default()
        });
        d.field(key.trim(), value.trim(), line)?;
    }
    if let Some(d) = draft.take() {
        out.push(d.finish()?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_fields_context_and_expectations_with_lines() {
        let text = "# header\n\nname: a\nsource: hand-made\nhex: ff:FF 00\n\
                    context.four_octet_as: false\ncontext.add_path: ipv4-unicast\n\
                    expect.type: KEEPALIVE\nexpect.nlri:\n\n\nname: b\nsource: x\nhex: 00\n";
        let v = parse(text).unwrap();
        assert_eq!(v.len(), 2);
        assert_eq!(v[0].line, 3);
        assert_eq!(v[0].bytes, vec![0xff, 0xff, 0]);
        assert!(!v[0].context.four_octet_as);
        assert_eq!(v[0].context.add_path, vec![Family::IPV4_UNICAST]);
        assert_eq!(v[0].expected("type").map(|e| e.line), Some(8));
        assert_eq!(v[0].expected("nlri").map(|e| e.value.as_str()), Some(""));
        assert_eq!(v[1].line, 12);
    }

    #[test]
    fn errors_name_the_line() {
        let e = parse("name: a\nsource: s\nhex: 0g\n").unwrap_err();
        assert_eq!(e.line, 3);
        assert!(matches!(e.kind, VectorErrorKind::BadHex(_)));
        let e = parse("name: a\nsource: s\nhex: 00\nexpect.colour: red\n").unwrap_err();
        assert_eq!(e.kind, VectorErrorKind::UnknownExpectKey("colour".into()));
        let e = parse("name: a\nhex: 00\n").unwrap_err();
        assert_eq!(e.kind, VectorErrorKind::MissingField("source"));
        let e = parse("name: a\nname: b\n").unwrap_err();
        assert_eq!(e.line, 2);
        let e = parse("just text\n").unwrap_err();
        assert_eq!(e.kind, VectorErrorKind::NotKeyValue);
    }
}

/// A vector file that could not be read or parsed.
#[derive(Debug)]
pub enum LoadError {
    Io {
        path: std::path::PathBuf,
        error: std::io::Error,
    },
    Parse {
        path: std::path::PathBuf,
        error: VectorError,
    },
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadError::Io { path, error } => write!(f, "{}: {error}", path.display()),
            LoadError::Parse { path, error } => write!(f, "{}: {error}", path.display()),
        }
    }
}

impl std::error::Error for LoadError {}

fn vec_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) -> std::io::Result<()> {
    let mut paths = std::fs::read_dir(dir)?
        .map(|e| e.map(|e| e.path()))
        .collect::<std::io::Result<Vec<_>>>()?;
    paths.sort();
    for p in paths {
        if p.is_dir() {
            vec_files(&p, out)?;
        } else if p.extension().is_some_and(|e| e == "vec") {
            out.push(p);
        }
    }
    Ok(())
}

/// Every vector in every `*.vec` file under `root`, in path order, with its file.
pub fn load_tree(root: &std::path::Path) -> Result<Vec<(std::path::PathBuf, Vector)>, LoadError> {
    let mut files = Vec::new();
    vec_files(root, &mut files).map_err(|error| LoadError::Io {
        path: root.to_path_buf(),
        error,
    })?;
    let mut out = Vec::new();
    for path in files {
        let text = std::fs::read_to_string(&path).map_err(|error| LoadError::Io {
            path: path.clone(),
            error,
        })?;
        let vectors = parse(&text).map_err(|error| LoadError::Parse {
            path: path.clone(),
            error,
        })?;
        out.extend(vectors.into_iter().map(|v| (path.clone(), v)));
    }
    Ok(out)
}
