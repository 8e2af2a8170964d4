//! Keeps ARCHITECTURE.md and the documentation true to the tree:
//! - every repository path the docs name (`src/...`, `tests/...`, `conf/...`, `man/...`, ...)
//!   exists;
//! - the layering ARCHITECTURE.md states holds: `wire` uses nothing above it, `rib` only
//!   `wire`, `config` and `session` only `rib` and `wire` (and not each other), with the
//!   upward arrows ARCHITECTURE.md lists and no others;
//! - the session core and the FSM name no socket, thread or clock.

use std::path::{Path, PathBuf};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// Top-level directories whose paths the docs name.
const TREES: &[&str] = &[
    "src/",
    "tests/",
    "conf/",
    "scripts/",
    "benches/",
    "examples/",
    "fuzz/",
    "man/",
    "test-vectors/",
];

fn doc_files() -> Vec<PathBuf> {
    let root = Path::new(ROOT);
    let mut files = vec![
        root.join("README.md"),
        root.join("ARCHITECTURE.md"),
        root.join("TESTING.md"),
    ];
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root.join("docs"))
        .expect("docs/")
        .map(|e| e.expect("docs/ entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .collect();
    docs.sort();
    files.extend(docs);
    files
}

/// The repository paths named in `text`: a word starting with one of [`TREES`], not preceded
/// by a path character (so `/usr/share/doc/exabgp/examples/x.conf` is not `examples/...`),
/// without trailing punctuation. Globs (`conf/*.conf`) are skipped.
fn named_paths(text: &str) -> Vec<String> {
    let is_path_char = |c: char| c.is_ascii_alphanumeric() || "/._-*".contains(c);
    let mut out = Vec::new();
    let bytes: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < bytes.len() {
        let start_ok = i == 0 || !is_path_char(bytes[i - 1]);
        if start_ok {
            let rest: String = bytes[i..bytes.len().min(i + 16)].iter().collect();
            if TREES.iter().any(|t| rest.starts_with(t)) {
                let mut j = i;
                while j < bytes.len() && is_path_char(bytes[j]) {
                    j += 1;
                }
                let word: String = bytes[i..j].iter().collect();
                let word = word.trim_end_matches(['.', ',']).to_string();
                if !word.contains('*') {
                    out.push(word);
                }
                i = j;
                continue;
            }
        }
        i += 1;
    }
    out
}

fn missing_paths(text: &str) -> Vec<String> {
    named_paths(text)
        .into_iter()
        .filter(|p| !Path::new(ROOT).join(p).exists())
        .collect()
}

#[test]
fn every_path_named_in_the_docs_exists() {
    let mut missing = Vec::new();
    let mut count = 0;
    for file in doc_files() {
        let text = std::fs::read_to_string(&file).expect("doc file");
        count += named_paths(&text).len();
        for p in missing_paths(&text) {
            missing.push(format!("{}: {p}", file.display()));
        }
    }
    println!("{count} paths named in the docs");
    assert!(
        count >= 100,
        "only {count} paths found: is the scanner broken?"
    );
    assert!(
        missing.is_empty(),
        "paths named in the docs that do not exist:\n{}",
        missing.join("\n")
    );
}

#[test]
fn the_path_check_can_fail() {
    let text = "The session lives in `src/session/nowhere.rs` and src/wire/ (see conf/*.conf).";
    assert_eq!(
        named_paths(text),
        ["src/session/nowhere.rs", "src/wire/"],
        "scanner"
    );
    assert_eq!(missing_paths(text), ["src/session/nowhere.rs"]);
    // A path inside an absolute one is not the repository's.
    assert!(named_paths("/usr/share/doc/exabgp/examples/conf-addpath.conf").is_empty());
}

#[test]
fn architecture_names_the_main_modules() {
    let arch = std::fs::read_to_string(Path::new(ROOT).join("ARCHITECTURE.md")).unwrap();
    for m in [
        "src/main.rs",
        "src/manager/",
        "src/events.rs",
        "src/session/core/",
        "src/session/peer.rs",
        "src/session/fsm.rs",
        "src/wire/",
        "src/rib/",
        "src/config/",
        "src/api/",
        "src/reload_plan.rs",
        "src/watch.rs",
        "src/logging.rs",
    ] {
        assert!(arch.contains(m), "ARCHITECTURE.md does not mention {m}");
    }
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    if dir.is_file() {
        out.push(dir.to_path_buf());
        return;
    }
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The `crate::MODULE` names a file uses.
fn crate_modules(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (i, _) in text.match_indices("crate::") {
        let rest = &text[i + "crate::".len()..];
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if !name.is_empty() {
            out.push(name);
        }
    }
    out
}

#[test]
fn lower_layers_only_use_the_layers_below_them() {
    // (module, the modules it may use besides itself)
    let rules: &[(&str, &[&str])] = &[
        ("src/wire", &[]),
        ("src/testvec.rs", &["wire"]),
        ("src/rib", &["wire"]),
        ("src/config", &["rib", "wire"]),
        ("src/session", &["rib", "wire", "bfd"]),
        ("src/bfd", &["session"]),
    ];
    // The upward arrows ARCHITECTURE.md names: (file, module it uses).
    let exceptions: &[(&str, &str)] = &[];
    let root = Path::new(ROOT);
    let mut wrong = Vec::new();
    for (module, allowed) in rules {
        let own = module
            .trim_start_matches("src/")
            .trim_end_matches(".rs")
            .to_string();
        let mut files = Vec::new();
        rust_files(&root.join(module), &mut files);
        assert!(!files.is_empty(), "no files in {module}");
        for f in files {
            let rel = f.strip_prefix(root).unwrap().display().to_string();
            let text = std::fs::read_to_string(&f).unwrap();
            for used in crate_modules(&text) {
                // Unit tests (a `tests.rs`) may read test vectors through testvec.
                let test_reads_vectors = rel.ends_with("/tests.rs") && used == "testvec";
                if used == own
                    || test_reads_vectors
                    || allowed.contains(&used.as_str())
                    || exceptions.contains(&(rel.as_str(), used.as_str()))
                {
                    continue;
                }
                wrong.push(format!("{rel} uses crate::{used}"));
            }
        }
    }
    wrong.sort();
    wrong.dedup();
    assert!(
        wrong.is_empty(),
        "arrows that ARCHITECTURE.md does not allow:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn the_session_core_and_the_fsm_do_no_io_and_read_no_clock() {
    let root = Path::new(ROOT);
    let mut files = Vec::new();
    rust_files(&root.join("src/session/core"), &mut files);
    files.push(root.join("src/session/fsm.rs"));
    let forbidden = [
        "TcpStream",
        "TcpListener",
        "UdpSocket",
        "UnixStream",
        "std::thread",
        "std::fs",
        "Instant::now",
        "SystemTime::now",
        "libc::",
    ];
    let mut found = Vec::new();
    for f in files {
        // Tests may build what they like.
        if f.file_name().is_some_and(|n| n == "tests.rs") {
            continue;
        }
        let text = std::fs::read_to_string(&f).unwrap();
        for word in forbidden {
            if text.contains(word) {
                found.push(format!(
                    "{}: {word}",
                    f.strip_prefix(root).unwrap().display()
                ));
            }
        }
    }
    assert!(
        found.is_empty(),
        "the sans-I/O session core names I/O or a clock:\n{}",
        found.join("\n")
    );
}

#[test]
fn testing_md_names_every_test_file() {
    let root = Path::new(ROOT);
    let testing = std::fs::read_to_string(root.join("TESTING.md")).unwrap();
    let mut missing = Vec::new();
    for e in std::fs::read_dir(root.join("tests")).unwrap() {
        let name = e.unwrap().file_name().into_string().unwrap();
        if name.ends_with(".rs") && !testing.contains(&format!("tests/{name}")) {
            missing.push(format!("tests/{name}"));
        }
    }
    missing.sort();
    assert!(
        missing.is_empty(),
        "test files TESTING.md does not describe (add each to its tier, and to OFFLINE_TESTS or \
         PEER_TESTS in the Makefile):\n{}",
        missing.join("\n")
    );
}

/// GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == ' ' || *c == '-' || *c == '_')
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

fn anchors(text: &str) -> Vec<String> {
    let mut in_code = false;
    let mut out = Vec::new();
    for line in text.lines() {
        if line.starts_with("```") {
            in_code = !in_code;
        } else if !in_code && line.starts_with('#') {
            out.push(slug(line.trim_start_matches('#')));
        }
    }
    out
}

/// The relative links `[text](target)` of a markdown text.
fn links(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (i, _) in text.match_indices("](") {
        let rest = &text[i + 2..];
        if let Some(end) = rest.find(')') {
            let target = &rest[..end];
            if !target.starts_with("http") && !target.contains(' ') {
                out.push(target.to_string());
            }
        }
    }
    out
}

#[test]
fn every_link_between_the_docs_reaches_a_file_and_a_heading() {
    let mut broken = Vec::new();
    let mut count = 0;
    for file in doc_files() {
        let text = std::fs::read_to_string(&file).unwrap();
        let dir = file.parent().unwrap();
        for link in links(&text) {
            count += 1;
            let (path, anchor) = link.split_once('#').unwrap_or((&link, ""));
            let target = if path.is_empty() {
                file.clone()
            } else {
                dir.join(path)
            };
            if !target.exists() {
                broken.push(format!("{}: {link}: no such file", file.display()));
                continue;
            }
            if !anchor.is_empty() {
                let target_text = std::fs::read_to_string(&target).unwrap_or_default();
                if !anchors(&target_text).iter().any(|a| a == anchor) {
                    broken.push(format!("{}: {link}: no such heading", file.display()));
                }
            }
        }
    }
    assert!(count >= 30, "only {count} links found");
    assert_eq!(slug("FlowSpec: actions (`then`)"), "flowspec-actions-then");
    assert!(
        broken.is_empty(),
        "broken links in the docs:\n{}",
        broken.join("\n")
    );
}

/// The manager uses the API modules and the reload plan, never the other way round: they
/// send `crate::events::ManagerEvent`s and compare configurations.
#[test]
fn the_api_and_the_reload_plan_do_not_name_the_manager() {
    let root = Path::new(ROOT);
    let mut files = Vec::new();
    rust_files(&root.join("src/api"), &mut files);
    rust_files(&root.join("src/reload_plan.rs"), &mut files);
    rust_files(&root.join("src/events.rs"), &mut files);
    rust_files(&root.join("src/route_sets.rs"), &mut files);
    let mut offenders = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        if crate_modules(&text).iter().any(|m| m == "manager") {
            offenders.push(f.display().to_string());
        }
    }
    assert!(offenders.is_empty(), "name crate::manager: {offenders:?}");
    assert!(files.len() > 5, "found only {files:?}");
}
