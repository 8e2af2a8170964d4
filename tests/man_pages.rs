//! The man pages stay true to the program:
//! - `man --warnings -l` renders man/bgpinject.8 and man/bgpinject.conf.5 without a warning
//!   (man-db and groff, installed by `make deps`; the test fails when they are missing);
//! - bgpinject(8) lists exactly the options `--help` prints, for the daemon and for each
//!   subcommand (`encode`, `decode`, `ctl`), each in its own section;
//! - bgpinject.conf(5) names every keyword the configuration parser accepts.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_bgpinject");
const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn page(name: &str) -> String {
    std::fs::read_to_string(Path::new(ROOT).join("man").join(name)).expect("man page")
}

#[test]
fn man_renders_both_pages_without_warnings() {
    for name in ["bgpinject.8", "bgpinject.conf.5"] {
        let out = Command::new("man")
            .args(["--warnings", "-E", "UTF-8", "-l"])
            .arg(Path::new(ROOT).join("man").join(name))
            .env("LC_ALL", "C.UTF-8")
            .env("MANWIDTH", "80")
            .output()
            .expect("man (man-db) is installed; `make deps` installs it");
        assert!(out.status.success(), "man -l man/{name} failed");
        let warnings = String::from_utf8_lossy(&out.stderr);
        assert!(
            warnings.trim().is_empty(),
            "man/{name} renders with warnings:\n{warnings}"
        );
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.lines().count() > 50,
            "man/{name} rendered to almost nothing"
        );
    }
}

/// The options `--help` prints: `-t`, `--check`, ... (getopts' layout: the option column
/// starts with `-` after spaces).
fn help_options(args: &[&str]) -> BTreeSet<String> {
    let out = Command::new(BIN).args(args).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let mut set = BTreeSet::new();
    for line in text.lines() {
        let trimmed = line.trim_start();
        if !trimmed.starts_with('-') || line.len() == trimmed.len() {
            continue;
        }
        for word in trimmed.split_whitespace() {
            let word = word.trim_end_matches(',');
            if word.starts_with('-') {
                set.insert(word.to_string());
            } else {
                break;
            }
        }
    }
    assert!(
        !set.is_empty(),
        "no options in `bgpinject {args:?}`:\n{text}"
    );
    set
}

/// The options a part of an mdoc page lists as items: `.It Fl t , Fl \-check Ar x`.
fn man_options(part: &str) -> BTreeSet<String> {
    let mut set = BTreeSet::new();
    for line in part.lines() {
        let Some(rest) = line.strip_prefix(".It ") else {
            continue;
        };
        let words: Vec<&str> = rest.split_whitespace().collect();
        for pair in words.windows(2) {
            if pair[0] == "Fl" {
                set.insert(format!("-{}", pair[1].replace("\\-", "-")));
            }
        }
    }
    set
}

/// The text of `page` from `start` up to the first of `ends` after it.
fn part<'a>(page: &'a str, start: &str, ends: &[&str]) -> &'a str {
    let from = page
        .find(start)
        .unwrap_or_else(|| panic!("no {start:?} in the man page"));
    let rest = &page[from + start.len()..];
    let to = ends
        .iter()
        .filter_map(|e| rest.find(e))
        .min()
        .unwrap_or(rest.len());
    &rest[..to]
}

#[test]
fn bgpinject_8_lists_the_options_help_prints() {
    let man = page("bgpinject.8");
    let cases: [(&[&str], &str, &[&str]); 4] = [
        (&["--help"], ".Sh OPTIONS", &[".Sh "]),
        (&["encode", "--help"], ".It Cm encode", &[".It Cm ", ".Sh "]),
        (&["decode", "--help"], ".It Cm decode", &[".It Cm ", ".Sh "]),
        (&["ctl", "--help"], ".It Cm ctl", &[".It Cm ", ".Sh "]),
    ];
    let mut differences = Vec::new();
    for (args, start, ends) in cases {
        let help = help_options(args);
        let listed = man_options(part(&man, start, ends));
        if help != listed {
            differences.push(format!(
                "bgpinject {}:\n  only in --help: {:?}\n  only in man/bgpinject.8 ({start}): {:?}",
                args.join(" "),
                help.difference(&listed).collect::<Vec<_>>(),
                listed.difference(&help).collect::<Vec<_>>()
            ));
        }
    }
    assert!(differences.is_empty(), "{}", differences.join("\n"));
}

#[test]
fn the_option_comparison_can_fail() {
    let listed =
        man_options(".It Fl t , Fl \\-check\n.It Fl \\-log\\-file Ar file\ntext Fl \\-x\n");
    let expected: BTreeSet<String> = ["-t", "--check", "--log-file"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(listed, expected);
    assert_ne!(help_options(&["encode", "--help"]), listed);
}

#[test]
fn bgpinject_conf_5_names_every_parser_keyword() {
    let man = page("bgpinject.conf.5");
    // Every `Ic WORD` of the page, wherever it stands on a line.
    let mut named = BTreeSet::new();
    for line in man.lines().filter(|l| l.starts_with('.')) {
        let words: Vec<&str> = line.split_whitespace().collect();
        for pair in words.windows(2) {
            if pair[0] == "Ic" || pair[0] == ".Ic" {
                named.insert(pair[1].replace("\\-", "-"));
            }
        }
    }
    let mut missing = Vec::new();
    for (block, words) in bgpinject::config::KEYWORDS {
        for kw in *words {
            if !named.contains(*kw) {
                missing.push(format!("{block}: {kw}"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "keywords the parser accepts that man/bgpinject.conf.5 does not name (as `Ic KEYWORD`):\n{}",
        missing.join("\n")
    );
}
