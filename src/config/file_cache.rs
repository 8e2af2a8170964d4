//! What a configuration was read from, kept for the next reload: every file with a stamp
//! of the bytes parsed (length, mtime and a hash of the content), the include globs with the
//! files they matched, and for each neighbor which included file gave which run of its
//! sorted unicast table.
//!
//! A reload asks [`FileCache::changes`] first. When only files of `route` statements
//! included in `static { }` blocks changed (the cron job rewriting one file of a large
//! table), only those files are parsed again and the daemon replaces their part of the
//! table (`manager/file_patch.rs`); when nothing changed, nothing is parsed. Anything else
//! (the main file, a glob matching other files, a file that is more than routes) makes the
//! reload parse the whole configuration, as before. The hash, not the mtime, decides: a file
//! rewritten with the same length and mtime is still seen.

use std::cell::RefCell;
use std::io::Read;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;
use std::time::SystemTime;

use crate::rib::route_set::Route;
use crate::wire::prefix::Prefix;

use super::include::{self, LoadState};
use super::lexer::Lexer;
use super::parser::Parser;
use super::route_list::ParsedRoutes;
use super::{route, static_block};

/// What a file held when it was parsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileStamp {
    pub len: u64,
    /// For the operator's eyes only: a file written again with the same content (a new
    /// mtime) is not parsed again, one rewritten with the same mtime is.
    pub mtime: Option<SystemTime>,
    pub hash: u64,
}

impl FileStamp {
    /// The same bytes (by length and hash), whatever the mtime says.
    pub fn same_content(&self, other: &FileStamp) -> bool {
        self.len == other.len && self.hash == other.hash
    }
}

/// A fast 64-bit hash of a byte stream, independent of how the stream is cut into reads:
/// four lanes of 8 octets, mixed by multiplication. Not cryptographic: whoever can write
/// the file decides its routes anyway; the hash only has to notice a change.
#[derive(Clone, Debug)]
pub struct ContentHash {
    lanes: [u64; 4],
    block: [u8; 32],
    used: usize,
    len: u64,
}

const MUL: u64 = 0x9e37_79b9_7f4a_7c15;
const SEEDS: [u64; 4] = [
    0x243f_6a88_85a3_08d3,
    0x1319_8a2e_0370_7344,
    0xa409_3822_299f_31d0,
    0x082e_fa98_ec4e_6c89,
];

impl Default for ContentHash {
    fn default() -> Self {
        ContentHash {
            lanes: SEEDS,
            block: [0; 32],
            used: 0,
            len: 0,
        }
    }
}

impl ContentHash {
    fn mix_block(lanes: &mut [u64; 4], block: &[u8]) {
        for (lane, word) in lanes.iter_mut().zip(block.chunks_exact(8)) {
            let mut w = [0u8; 8];
            w.copy_from_slice(word);
            let v = u64::from_le_bytes(w);
            *lane = (*lane ^ v).wrapping_mul(MUL).rotate_left(29);
        }
    }

    pub fn update(&mut self, mut bytes: &[u8]) {
        self.len += bytes.len() as u64;
        if self.used > 0 {
            let take = (32 - self.used).min(bytes.len());
            let (head, rest) = bytes.split_at(take);
            self.block[self.used..self.used + take].copy_from_slice(head);
            self.used += take;
            bytes = rest;
            if self.used < 32 {
                return;
            }
            let block = self.block;
            Self::mix_block(&mut self.lanes, &block);
            self.used = 0;
        }
        let mut blocks = bytes.chunks_exact(32);
        for block in &mut blocks {
            Self::mix_block(&mut self.lanes, block);
        }
        let tail = blocks.remainder();
        self.block[..tail.len()].copy_from_slice(tail);
        self.used = tail.len();
    }

    pub fn finish(&self) -> u64 {
        let mut lanes = self.lanes;
        let mut last = [0u8; 32];
        last[..self.used].copy_from_slice(&self.block[..self.used]);
        Self::mix_block(&mut lanes, &last);
        let mut h = self.len.wrapping_mul(MUL);
        for lane in lanes {
            h = (h ^ lane).wrapping_mul(MUL).rotate_left(31);
        }
        h ^ (h >> 32)
    }
}

/// A file being read for parsing, hashing what the lexer reads: the stamp is of the bytes
/// parsed, even if the file changes while it is read.
pub(super) struct StampedFile {
    file: std::fs::File,
    seen: Rc<RefCell<ContentHash>>,
}

/// The handle that gives the stamp once the file was read to its end.
pub(super) struct Stamper {
    mtime: Option<SystemTime>,
    seen: Rc<RefCell<ContentHash>>,
}

impl StampedFile {
    pub fn new(file: std::fs::File) -> (StampedFile, Stamper) {
        let mtime = file.metadata().and_then(|m| m.modified()).ok();
        let seen = Rc::new(RefCell::new(ContentHash::default()));
        let stamper = Stamper {
            mtime,
            seen: Rc::clone(&seen),
        };
        (StampedFile { file, seen }, stamper)
    }
}

impl Read for StampedFile {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.file.read(buf)?;
        if let Some(read) = buf.get(..n) {
            self.seen.borrow_mut().update(read);
        }
        Ok(n)
    }
}

impl Stamper {
    pub fn stamp(&self) -> FileStamp {
        let seen = self.seen.borrow();
        FileStamp {
            len: seen.len,
            mtime: self.mtime,
            hash: seen.finish(),
        }
    }
}

/// The most of one file the cache reads into memory to compare and parse it again. A larger
/// file (a 2 GB file of zeros, an endless line) makes the reload parse the whole
/// configuration, whose streaming lexer refuses it under its own caps.
const MAX_CACHED_READ: u64 = 256 << 20;

/// The stamp of a file as it is now, with its content; `None` when it is longer than
/// [`MAX_CACHED_READ`] or no longer `was`'s length (then it changed, and is not read at all).
fn read_stamped(
    path: &Path,
    content: &mut Vec<u8>,
    was: Option<&FileStamp>,
) -> std::io::Result<Option<FileStamp>> {
    let file = include::open_regular(path)?;
    let meta = file.metadata()?;
    if meta.len() > MAX_CACHED_READ || was.is_some_and(|w| w.len != meta.len()) {
        return Ok(None);
    }
    let mtime = meta.modified().ok();
    content.clear();
    file.take(MAX_CACHED_READ + 1).read_to_end(content)?;
    if content.len() as u64 > MAX_CACHED_READ {
        return Ok(None);
    }
    let mut hash = ContentHash::default();
    hash.update(content);
    Ok(Some(FileStamp {
        len: content.len() as u64,
        mtime,
        hash: hash.finish(),
    }))
}

/// An included file, as it was read.
#[derive(Clone, Debug)]
pub struct SourceFile {
    pub path: Arc<PathBuf>,
    /// `None` when it was read twice with different contents (it changed while read).
    pub stamp: Option<FileStamp>,
    /// Every inclusion was in a `static { }` block: the file can only hold routes.
    pub routes_only: bool,
}

/// The files an include glob matched.
#[derive(Clone, Debug)]
pub struct GlobRecord {
    pub pattern: PathBuf,
    pub files: Vec<PathBuf>,
}

/// The part of a neighbor's sorted unicast table one file gave: its least and greatest
/// prefix and how many routes.
#[derive(Clone, Debug)]
pub struct FileSpan {
    pub file: Arc<PathBuf>,
    pub first: Prefix,
    pub last: Prefix,
    pub count: usize,
}

/// Where a neighbor's unicast table came from.
#[derive(Clone, Debug)]
pub struct TableRecord {
    pub neighbor: IpAddr,
    pub spans: Vec<FileSpan>,
    /// No route replaced another (a duplicate) and none has an IPv6 next hop on an IPv4
    /// prefix: the table is exactly the union of the spans' routes, shared as it is by the
    /// neighbor's route set.
    pub patchable: bool,
    /// Files that gave the neighbor routes other than plain unicast.
    pub others_from: Vec<Arc<PathBuf>>,
}

/// What a configuration was read from (see the module documentation).
#[derive(Clone, Debug, Default)]
pub struct FileCache {
    pub main: Option<(PathBuf, FileStamp)>,
    pub files: Vec<SourceFile>,
    pub globs: Vec<GlobRecord>,
    pub tables: Vec<TableRecord>,
    /// How many helpers and health checks the configuration names (a reload that parses
    /// nothing must find them all running, as the whole reload would start a missing one).
    pub programs: usize,
}

/// The record of where a configuration was read from is not part of its meaning: two
/// configurations are equal when they configure the same thing.
impl PartialEq for FileCache {
    fn eq(&self, _: &FileCache) -> bool {
        true
    }
}

impl Eq for FileCache {}

/// A changed file of routes, parsed.
pub struct ChangedFile {
    pub path: Arc<PathBuf>,
    pub stamp: FileStamp,
    /// Its plain unicast routes, sorted by prefix, one per prefix.
    pub routes: Vec<Route>,
}

/// What a reload has to do.
pub enum Changes {
    /// No file changed: `checked` files were hashed, none parsed.
    Unchanged { checked: usize },
    /// Only these files of routes changed (parsed again; nothing else was).
    Routes {
        changed: Vec<ChangedFile>,
        checked: usize,
    },
    /// The whole configuration must be parsed again, for this reason.
    Whole(String),
}

impl FileCache {
    pub(super) fn add_file(&mut self, path: &Arc<PathBuf>, stamp: FileStamp, routes_only: bool) {
        match self.files.iter_mut().find(|f| f.path == *path) {
            Some(f) => {
                f.routes_only &= routes_only;
                if !f.stamp.is_some_and(|s| s.same_content(&stamp)) {
                    f.stamp = None;
                }
            }
            None => self.files.push(SourceFile {
                path: Arc::clone(path),
                stamp: Some(stamp),
                routes_only,
            }),
        }
    }

    /// Compares every file with its stamp, and parses the changed files of routes.
    pub fn changes(&self) -> Changes {
        let Some((main, stamp)) = &self.main else {
            return Changes::Whole("the last configuration was not read from files".into());
        };
        let mut content = Vec::new();
        match read_stamped(main, &mut content, Some(stamp)) {
            Ok(Some(now)) if now.same_content(stamp) => {}
            _ => return Changes::Whole(format!("{} changed", main.display())),
        }
        for g in &self.globs {
            match include::glob_matches(&g.pattern) {
                Ok(files) if files == g.files => {}
                _ => {
                    return Changes::Whole(format!(
                        "the files matching {} changed",
                        g.pattern.display()
                    ));
                }
            }
        }
        let mut changed = Vec::new();
        for f in &self.files {
            // A file of routes may change length; only its size is capped here.
            let now = match read_stamped(&f.path, &mut content, None) {
                Ok(Some(now)) => now,
                Ok(None) => {
                    return Changes::Whole(format!(
                        "{} changed and is larger than {MAX_CACHED_READ} bytes",
                        f.path.display()
                    ));
                }
                Err(e) => return Changes::Whole(format!("{}: {e}", f.path.display())),
            };
            if f.stamp.is_some_and(|s| s.same_content(&now)) {
                continue;
            }
            if !f.routes_only {
                return Changes::Whole(format!("{} changed", f.path.display()));
            }
            match parse_route_file(&f.path, &content) {
                Ok(routes) => changed.push(ChangedFile {
                    path: Arc::clone(&f.path),
                    stamp: now,
                    routes,
                }),
                Err(why) => {
                    return Changes::Whole(format!("{} changed: {why}", f.path.display()));
                }
            }
        }
        let checked = self.files.len() + 1;
        if changed.is_empty() {
            Changes::Unchanged { checked }
        } else {
            Changes::Routes { changed, checked }
        }
    }

    /// This record after `changed` replaced their files' routes.
    pub fn after(&self, changed: &[ChangedFile]) -> FileCache {
        let mut next = self.clone();
        for c in changed {
            for f in next.files.iter_mut().filter(|f| f.path == c.path) {
                f.stamp = Some(c.stamp);
            }
            let span = match (c.routes.first(), c.routes.last()) {
                (Some(first), Some(last)) => Some(FileSpan {
                    file: Arc::clone(&c.path),
                    first: first.0,
                    last: last.0,
                    count: c.routes.len(),
                }),
                _ => None,
            };
            for t in &mut next.tables {
                let Some(at) = t.spans.iter().position(|s| s.file == c.path) else {
                    continue;
                };
                match &span {
                    Some(s) => t.spans[at] = s.clone(),
                    None => {
                        t.spans.remove(at);
                    }
                }
            }
        }
        next
    }
}

/// The routes of a file of `route` statements (what a `static { }` block may include), or
/// why the file is more than that or wrong (the whole configuration is then read again, and
/// its parse reports the error where it is).
fn parse_route_file(path: &Path, content: &[u8]) -> Result<Vec<Route>, String> {
    let text = std::str::from_utf8(content).map_err(|_| "not UTF-8".to_string())?;
    let file = Arc::new(path.to_path_buf());
    let state = Rc::new(RefCell::new(LoadState::new(path)));
    let mut p = Parser::new(Lexer::new(text), file, state);
    let mut routes = ParsedRoutes::default();
    while let Some(kw) = p.file_keyword("'route'").map_err(|e| e.message.clone())? {
        if kw.text != "route" {
            return Err(format!("'{}' is not a route statement", kw.text));
        }
        let parsed = route::parse_route(&mut p, &kw).map_err(|e| e.message)?;
        static_block::expand_split(&p, parsed, &mut |r| routes.push(r)).map_err(|e| e.message)?;
    }
    if let Some(e) = p.lex_error() {
        return Err(e.message);
    }
    let table = routes.finish();
    if !table.others.is_empty() || !table.watchdog.is_empty() {
        return Err("it has routes other than plain unicast".into());
    }
    let unicast = Arc::try_unwrap(table.unicast).unwrap_or_else(|shared| (*shared).clone());
    if !unicast.windows(2).all(|w| w[0].0 < w[1].0) {
        return Err("a prefix is configured twice".into());
    }
    // Valid or not depends on the neighbor (RFC 8950 next hops): the whole parse decides.
    if unicast
        .iter()
        .any(|(p, a)| crate::rib::other_nlri::cross_family_key(*p, a).is_some())
    {
        return Err("an IPv4 route has an IPv6 next hop".into());
    }
    Ok(unicast)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hash_in_pieces(bytes: &[u8], cut: usize) -> u64 {
        let mut h = ContentHash::default();
        for piece in bytes.chunks(cut.max(1)) {
            h.update(piece);
        }
        h.finish()
    }

    #[test]
    fn the_hash_does_not_depend_on_how_the_bytes_are_read() {
        let bytes: Vec<u8> = (0..1000u32).map(|i| (i * 7 % 251) as u8).collect();
        let whole = hash_in_pieces(&bytes, bytes.len());
        for cut in [1, 3, 7, 8, 31, 32, 33, 64, 100, 999] {
            assert_eq!(hash_in_pieces(&bytes, cut), whole, "cut {cut}");
        }
    }

    #[test]
    fn the_hash_sees_one_changed_octet_and_the_length() {
        let a = b"route 10.0.0.0/24 next-hop 192.0.2.1 med 1;\n".repeat(50);
        let mut b = a.clone();
        let at = b.len() - 3;
        b[at] = b'2';
        assert_ne!(hash_in_pieces(&a, 64), hash_in_pieces(&b, 64));
        let mut c = a.clone();
        c.push(0);
        assert_ne!(hash_in_pieces(&a, 64), hash_in_pieces(&c, 64));
        assert_ne!(hash_in_pieces(b"", 1), hash_in_pieces(&[0], 1));
    }

    #[test]
    fn a_file_of_routes_parses_sorted_and_refuses_anything_else() {
        let p = Path::new("r.inc");
        let routes = parse_route_file(
            p,
            b"route 10.0.0.2/32 next-hop 192.0.2.1;\nroute 10.0.0.1/32 next-hop 192.0.2.1 med 5;\n",
        )
        .unwrap();
        let got: Vec<String> = routes.iter().map(|r| r.0.to_string()).collect();
        assert_eq!(got, ["10.0.0.1/32", "10.0.0.2/32"]);
        assert!(parse_route_file(p, b"include \"x\";\n").is_err());
        assert!(parse_route_file(p, b"route 10.0.0.1/32 next-hop 192.0.2.1").is_err());
        assert!(
            parse_route_file(
                p,
                b"route 10.0.0.1/32 next-hop 192.0.2.1;\nroute 10.0.0.1/32 next-hop 192.0.2.2;\n"
            )
            .is_err()
        );
        assert!(parse_route_file(p, b"route 10.0.0.0/24 rd 1:1 next-hop 192.0.2.1;\n").is_err());
        assert!(parse_route_file(p, &[0xff, b'\n']).is_err());
        assert!(parse_route_file(p, b"route 10.0.0.0/24 next-hop 2001:db8::1;\n").is_err());
    }
}
