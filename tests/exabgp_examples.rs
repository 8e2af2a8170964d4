//! ExaBGP configuration compatibility: `bgpinject --check` over the example configurations of
//! Debian's `exabgp` package (/usr/share/doc/exabgp/examples; `make deps` installs it).
//!
//! Prints how many are accepted and, for each refused one, the first line of the error.
//! Asserts that
//! - every refusal is exit 1 with `FILE:LINE:COL: ` naming the refused keyword in quotes (or is
//!   one of the documented semantic refusals), never a crash;
//! - nothing is accepted silently: in an accepted file, every statement starts with a keyword
//!   that bgpinject's parser lists (`bgpinject::config::KEYWORDS`);
//! - the accepted count does not fall below [`ACCEPTED_FLOOR`].

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

const EXAMPLES: &str = "/usr/share/doc/exabgp/examples";
/// Accepted with exabgp 4.2.21's examples (42 of 64 since the ExaBGP spellings of issue #21,
/// not counting [`KNOWN_UNCHECKED`]). Raise it when a keyword is implemented.
const ACCEPTED_FLOOR: usize = 42;
/// Files accepted although they hold statements bgpinject does not support, with the reason.
/// Each is a bug to fix; the test fails when one is accepted silently without being listed
/// here, and also when a listed one is fully accepted (so the list stays true).
/// Empty since templates are checked where they are written (`parse-process.conf`, whose
/// `api { send { } }` sits in a template no neighbor inherits, is now refused).
const KNOWN_UNCHECKED: &[(&str, &str)] = &[];
/// Refusals that name no keyword because the file is valid syntax that bgpinject refuses on
/// purpose (README, "Coming from ExaBGP").
const SEMANTIC_REFUSALS: &[&str] = &["duplicate route"];

/// The example files as plain text in `dir` (gunzipped when the package compressed them).
fn examples(dir: &Path) -> Vec<PathBuf> {
    let entries = std::fs::read_dir(EXAMPLES).unwrap_or_else(|e| {
        panic!("{EXAMPLES}: {e}: install Debian's exabgp package (make deps does)")
    });
    let mut out = Vec::new();
    for e in entries {
        let path = e.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.ends_with(".conf") {
            out.push(path);
        } else if let Some(stem) = name.strip_suffix(".conf.gz") {
            let plain = dir.join(format!("{stem}.conf"));
            let gz = Command::new("gzip")
                .arg("-dc")
                .arg(&path)
                .output()
                .expect("gzip -dc");
            std::fs::write(&plain, gz.stdout).unwrap();
            out.push(plain);
        }
    }
    out.sort();
    out
}

/// The first word of every statement line, comments and closing braces left out.
fn statement_words(text: &str) -> BTreeSet<String> {
    text.lines()
        .map(|l| l.split('#').next().unwrap().trim())
        .filter_map(|l| l.split_whitespace().next())
        .map(|w| w.trim_end_matches(';').to_string())
        .filter(|w| !w.is_empty() && w != "}" && w != "{")
        .collect()
}

#[test]
fn exabgp_examples_are_accepted_or_refused_with_a_keyword() {
    let dir = tempfile::tempdir().unwrap();
    let files = examples(dir.path());
    assert!(
        files.len() >= 20,
        "only {} examples in {EXAMPLES}",
        files.len()
    );
    // The statements of the parser's blocks, and the fields of the EVPN/VPLS/... routes
    // (ExaBGP's VPLS block writes one per line: `endpoint 5;`, `base 10702;`).
    let known: BTreeSet<&str> = bgpinject::config::KEYWORDS
        .iter()
        .flat_map(|(_, words)| words.iter().copied())
        .chain(bgpinject::config::FAMILY_ROUTE_FIELDS.iter().copied())
        .collect();
    let mut accepted = Vec::new();
    let mut refused = Vec::new();
    let mut by_keyword: BTreeMap<String, usize> = BTreeMap::new();
    let mut problems = Vec::new();
    for f in &files {
        let out = Command::new(env!("CARGO_BIN_EXE_bgpinject"))
            .arg("--check")
            .arg(f)
            .output()
            .expect("run bgpinject --check");
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr);
        let first = stderr.lines().next().unwrap_or("").to_string();
        match out.status.code() {
            Some(0) => {
                let mut text = String::new();
                std::fs::File::open(f)
                    .unwrap()
                    .read_to_string(&mut text)
                    .unwrap();
                let unknown: Vec<String> = statement_words(&text)
                    .into_iter()
                    .filter(|w| !known.contains(w.as_str()))
                    .collect();
                let known = KNOWN_UNCHECKED.iter().find(|(f, _)| *f == name);
                match (unknown.is_empty(), known) {
                    (true, None) => accepted.push(name),
                    (false, Some((_, why))) => {
                        println!("accepted but not checked: {name} {unknown:?}: {why}");
                    }
                    (false, None) => problems.push(format!(
                        "{name}: accepted with unsupported statements {unknown:?}"
                    )),
                    (true, Some(_)) => problems.push(format!(
                        "{name}: fully accepted now: remove it from KNOWN_UNCHECKED"
                    )),
                }
            }
            Some(1) => {
                let prefix = format!("{}:", f.display());
                let position_ok = first.strip_prefix(&prefix).is_some_and(|rest| {
                    let mut parts = rest.splitn(3, ':');
                    let line = parts.next().unwrap_or("");
                    let col = parts.next().unwrap_or("");
                    !line.is_empty()
                        && !col.is_empty()
                        && line.bytes().all(|b| b.is_ascii_digit())
                        && col.bytes().all(|b| b.is_ascii_digit())
                });
                // "unknown keyword 'X' ..." names X first; "expected ..., found 'X'" names it last.
                let quoted: Vec<&str> = first.split('\'').skip(1).step_by(2).collect();
                let keyword = if first.contains(", found ") {
                    quoted.last()
                } else {
                    quoted.first()
                }
                .map(|k| k.to_string());
                let semantic = SEMANTIC_REFUSALS.iter().any(|s| first.contains(s));
                if !position_ok || (keyword.is_none() && !semantic) {
                    problems.push(format!(
                        "{name}: refused without FILE:LINE:COL and keyword: {first}"
                    ));
                }
                let key = match keyword {
                    Some(k) if !semantic => k,
                    _ => SEMANTIC_REFUSALS
                        .iter()
                        .find(|s| first.contains(*s))
                        .map(|s| s.to_string())
                        .unwrap_or_else(|| "?".into()),
                };
                *by_keyword.entry(key).or_default() += 1;
                refused.push(format!("{name}: {first}"));
            }
            other => problems.push(format!("{name}: exit {other:?} (crash?): {stderr}")),
        }
    }
    println!(
        "ExaBGP examples: {} of {} accepted, {} refused",
        accepted.len(),
        files.len(),
        refused.len()
    );
    println!("accepted: {}", accepted.join(" "));
    println!("refused:\n  {}", refused.join("\n  "));
    let mut counts: Vec<(usize, String)> = by_keyword.into_iter().map(|(k, n)| (n, k)).collect();
    counts.sort_by(|a, b| b.cmp(a));
    println!("refusals by keyword:");
    for (n, k) in &counts {
        println!("  {n:3} {k}");
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(
        accepted.len() >= ACCEPTED_FLOOR,
        "only {} accepted, the floor is {ACCEPTED_FLOOR}",
        accepted.len()
    );
}
