//! Every file in `tests/configs/broken/` must be refused with the error its first line
//! announces (`# expect: LINE:COL SUBSTRING`); every file in `tests/configs/good/` must load.

use std::fs;
use std::path::{Path, PathBuf};

fn conf_files(dir: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/configs")
        .join(dir);
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "conf"))
        .collect();
    files.sort();
    files
}

/// `(LINE:COL, SUBSTRING)` from the first line `# expect: LINE:COL SUBSTRING`.
fn expectation(path: &Path) -> (String, String) {
    let text = fs::read_to_string(path).unwrap();
    let first = text.lines().next().unwrap_or_default();
    let rest = first.strip_prefix("# expect: ").unwrap_or_else(|| {
        panic!(
            "{}: first line must be '# expect: LINE:COL SUBSTRING'",
            path.display()
        )
    });
    let (position, substring) = rest
        .split_once(' ')
        .unwrap_or_else(|| panic!("{}: expected 'LINE:COL SUBSTRING'", path.display()));
    (position.to_string(), substring.to_string())
}

#[test]
fn broken_configs_are_refused_with_position_and_reason() {
    let files = conf_files("broken");
    assert!(files.len() >= 20, "only {} broken configs", files.len());
    let mut failures = Vec::new();
    for path in &files {
        let (position, substring) = expectation(path);
        let prefix = format!("{}:{position}:", path.display());
        match bgpinject::config::load(path) {
            Ok(_) => failures.push(format!("{}: loaded, expected an error", path.display())),
            Err(e) => {
                let rendered = e.to_string();
                if !rendered.starts_with(&prefix) || !rendered.contains(&substring) {
                    failures.push(format!(
                        "{}:\n  expected {prefix} ... {substring}\n  got      {rendered}",
                        path.display()
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn good_configs_load() {
    let files = conf_files("good");
    assert!(!files.is_empty());
    for path in &files {
        if let Err(e) = bgpinject::config::load(path) {
            panic!("{e}");
        }
    }
}

#[test]
fn the_documented_example_loads_as_described() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/configs/good/example.conf");
    let config = bgpinject::config::load(&path).unwrap();
    assert_eq!(
        bgpinject::config::summary(&config),
        vec![
            "neighbor 192.0.2.1 local-as 65000 peer-as 65001 (ebgp) families [ipv4 unicast, ipv6 unicast] routes: ipv4 unicast 2, ipv6 unicast 1"
        ]
    );
    let n = &config.neighbors[0];
    assert_eq!(n.description.as_deref(), Some("core router"));
    assert_eq!(
        (n.hold_time, n.passive, n.connect_port, n.listen_port),
        (90, true, 1790, 1790)
    );
}

#[test]
fn an_unreadable_file_is_an_error_without_position() {
    let e = bgpinject::config::load(Path::new("tests/configs/no-such-file.conf")).unwrap_err();
    assert_eq!(e.location, None);
    assert!(e.to_string().contains("cannot read"), "{e}");
}
