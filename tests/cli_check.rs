//! `bgpinject --check` as an operator runs it: every broken config exits 1 and prints
//! `FILE:LINE:COL: ...` on stderr; every good one exits 0 with a summary on stdout.

use std::path::Path;
use std::process::Command;

fn check(path: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_bgpinject"))
        .arg("--check")
        .arg(path)
        .output()
        .expect("run bgpinject --check")
}

fn confs(dir: &str) -> Vec<std::path::PathBuf> {
    let mut v: Vec<_> = std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(dir))
        .expect("config dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "conf"))
        .collect();
    v.sort();
    v
}

#[test]
fn broken_configs_exit_1_with_file_line_column() {
    let files = confs("tests/configs/broken");
    assert!(files.len() >= 15, "only {} broken configs", files.len());
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        let expect = text
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("# expect: "))
            .unwrap_or_else(|| panic!("{}: no '# expect:' line", f.display()));
        let (line_col, _) = expect.split_once(' ').unwrap_or((expect, ""));
        let out = check(&f);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{}: {stderr}", f.display());
        let prefix = format!("{}:{line_col}: ", f.display());
        assert!(
            stderr.starts_with(&prefix),
            "{}: expected stderr to start with {prefix:?}, got {stderr:?}",
            f.display()
        );
    }
}

#[test]
fn good_configs_and_examples_exit_0_with_a_summary() {
    let mut files = confs("tests/configs/good");
    files.extend(confs("conf"));
    files.extend(confs("conf/cron"));
    assert!(files.len() >= 3);
    for f in files {
        let out = check(&f);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}: {}",
            f.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            stdout.contains("neighbor ") || stdout.contains("no neighbor"),
            "{}: {stdout}",
            f.display()
        );
    }
}

#[test]
fn missing_file_and_bad_usage() {
    let out = check(Path::new("/nonexistent/bgpinject.conf"));
    assert_eq!(out.status.code(), Some(1));
    let out = Command::new(env!("CARGO_BIN_EXE_bgpinject"))
        .arg("--no-such-option")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}
