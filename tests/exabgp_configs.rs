//! ExaBGP's example configurations of every era (test-vectors/exabgp-conf/<era>/): runs
//! scripts/exabgp-conf-check.sh with this build's binary and compares the status of each file
//! with test-vectors/exabgp-conf/expected.txt.
//!
//! A file listed as accepted must stay accepted. Any other change (a refused file now accepted,
//! a new file) fails too, so the list stays true: regenerate it with
//! `scripts/exabgp-conf-check.sh --expected > test-vectors/exabgp-conf/expected.txt` and review
//! the diff.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

fn run_script(mode: Option<&str>) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut cmd = Command::new("sh");
    cmd.arg(root.join("scripts/exabgp-conf-check.sh"))
        .env("BIN", env!("CARGO_BIN_EXE_bgpinject"));
    if let Some(m) = mode {
        cmd.arg(m);
    }
    let out = cmd.output().expect("run scripts/exabgp-conf-check.sh");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 report")
}

fn statuses(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(f, s)| (f.to_string(), s.trim().to_string()))
        .collect()
}

#[test]
fn exabgp_configurations_of_every_era_keep_their_status() {
    println!("{}", run_script(None));
    let now = statuses(&run_script(Some("--expected")));
    let expected_text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("test-vectors/exabgp-conf/expected.txt"),
    )
    .expect("expected.txt");
    let expected = statuses(&expected_text);
    assert!(now.len() >= 90, "only {} files in the corpus", now.len());
    let mut lost = Vec::new();
    let mut changed = Vec::new();
    for (file, want) in &expected {
        match now.get(file) {
            Some(got) if got == want => {}
            Some(got) if want == "accepted" => lost.push(format!("{file}: now {got}")),
            Some(got) => changed.push(format!("{file}: {want} -> {got}")),
            None => changed.push(format!("{file}: listed but missing from the corpus")),
        }
    }
    for file in now.keys().filter(|f| !expected.contains_key(*f)) {
        changed.push(format!("{file}: not listed in expected.txt"));
    }
    assert!(
        lost.is_empty(),
        "accepted files now refused:\n{}",
        lost.join("\n")
    );
    assert!(
        changed.is_empty(),
        "statuses changed (regenerate expected.txt with scripts/exabgp-conf-check.sh --expected and review the diff):\n{}",
        changed.join("\n")
    );
}

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_bgpinject"))
}

/// The corpus files of every era that `--check` accepts.
fn accepted_files() -> Vec<std::path::PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("test-vectors/exabgp-conf");
    let mut files: Vec<_> = std::fs::read_dir(&root)
        .expect("corpus")
        .flat_map(|era| {
            let era = era.expect("entry").path();
            std::fs::read_dir(&era)
                .into_iter()
                .flatten()
                .map(|e| e.expect("entry").path())
                .collect::<Vec<_>>()
        })
        .collect();
    files.sort();
    files
        .into_iter()
        .filter(|f| {
            bin()
                .arg("--check")
                .arg(f)
                .output()
                .expect("bgpinject --check")
                .status
                .success()
        })
        .collect()
}

/// Every accepted file of every era: the original injector's ones are what `migrate` is
/// for, the others must come out with the same meaning too.
#[test]
fn migrate_of_every_original_example_passes_check_and_encodes_the_same() {
    let dir = tempfile::tempdir().expect("tempdir");
    let files = accepted_files();
    assert!(files.len() >= 70, "only {} accepted files", files.len());
    let originals = files
        .iter()
        .filter(|f| f.to_string_lossy().contains("/original/"))
        .count();
    assert!(originals >= 20, "only {originals} accepted original files");
    for f in &files {
        let out = bin().arg("migrate").arg(f).output().expect("migrate");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{}: {stderr}", f.display());
        let migrated = dir.path().join(f.file_name().expect("name"));
        std::fs::write(&migrated, &out.stdout).expect("write");
        // Accepted, with none of the deprecated spellings left to warn about.
        let check = bin().arg("--check").arg(&migrated).output().expect("check");
        let warnings = String::from_utf8_lossy(&check.stderr);
        assert!(check.status.success(), "{}: {warnings}", f.display());
        for old in [
            "spelling",
            "configured again",
            "host bits",
            "'group'",
            "inside a neighbor",
        ] {
            assert!(
                !warnings.contains(old),
                "{}: {old}: {warnings}",
                f.display()
            );
        }
        // The same OPEN, UPDATEs and End-of-RIB, neighbor by neighbor.
        // (A file without neighbors has nothing to encode: the exit status is compared.)
        let encode = |path: &Path| {
            let out = bin().arg("encode").arg(path).output().expect("encode");
            let ok = out.status.success();
            (ok, if ok { out.stdout } else { Vec::new() })
        };
        let (before, after) = (encode(f), encode(&migrated));
        assert_eq!(
            (before.0, String::from_utf8_lossy(&before.1)),
            (after.0, String::from_utf8_lossy(&after.1)),
            "{}: migrated file encodes differently",
            f.display()
        );
        // Comments are kept.
        let original = std::fs::read_to_string(f).expect("read");
        let text = String::from_utf8_lossy(&out.stdout);
        for comment in original.lines().filter(|l| l.trim_start().starts_with('#')) {
            assert!(
                text.contains(comment.trim()),
                "{}: lost {comment:?}",
                f.display()
            );
        }
    }
    println!(
        "migrate: {} accepted files ({originals} of the original era) rewritten, each accepted and encoding the same",
        files.len()
    );
}
