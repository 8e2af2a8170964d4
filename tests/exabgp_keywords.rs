//! Every ExaBGP configuration keyword (test-vectors/exabgp-keywords/keywords.txt, one line per
//! keyword: its context, the ExaBGP versions that read it, its status, the ExaBGP source it
//! comes from and a snippet of ExaBGP syntax using it) is held to docs/exabgp.md and to the
//! binary:
//!
//! - (a) the "Every ExaBGP keyword" section of docs/exabgp.md has a table row naming the
//!   keyword (in backquotes) with the same status letter (S, D or R);
//! - (b) an S or D keyword's snippet, placed in its context, passes `bgpinject --check`;
//! - (c) an R keyword's snippet is refused, with `FILE:LINE:COL:` and the keyword (or, inside
//!   a refused block, the block's name) in the message;
//! - (d) README's "Coming from ExaBGP" table names every keyword in its context's row, in
//!   the column of its status.
//!
//! Offline: only `bgpinject --check` runs.

use std::path::Path;
use std::process::Command;

struct Keyword {
    line: usize,
    context: String,
    keyword: String,
    status: String,
    snippet: String,
}

fn keywords() -> Vec<Keyword> {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("test-vectors/exabgp-keywords/keywords.txt");
    let text = std::fs::read_to_string(&path).expect("keywords.txt");
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.splitn(6, " | ").map(str::trim).collect();
        assert_eq!(
            fields.len(),
            6,
            "keywords.txt:{}: six fields expected",
            n + 1
        );
        assert!(
            ["S", "D", "R"].contains(&fields[3]),
            "keywords.txt:{}: status {:?}",
            n + 1,
            fields[3]
        );
        assert!(!fields[4].is_empty(), "keywords.txt:{}: no source", n + 1);
        out.push(Keyword {
            line: n + 1,
            context: fields[0].to_string(),
            keyword: fields[1].to_string(),
            status: fields[3].to_string(),
            snippet: fields[5].replace("\\n", "\n"),
        });
    }
    out
}

const IDS: &str =
    "router-id 192.0.2.10;\n  local-address 192.0.2.2;\n  local-as 65000;\n  peer-as 65001;";

fn neighbor(body: &str) -> String {
    format!("neighbor 192.0.2.1 {{\n  {IDS}\n  {body}\n}}\n")
}

fn flow(match_: &str, then: &str, extra: &str) -> String {
    neighbor(&format!(
        "flow {{\n    route r {{\n      match {{\n        {match_}\n      }}\n      then {{\n        {then}\n      }}\n      {extra}\n    }}\n  }}"
    ))
}

/// The configuration file for a snippet in its context.
fn file_for(k: &Keyword) -> String {
    let s = k.snippet.as_str();
    let process = "process p {\n  run /bin/cat;\n}\n";
    let ctx = k.context.as_str();
    if let Some(rest) = ctx.strip_prefix("announce/")
        && let Some((afi, family)) = rest.split_once('/')
    {
        return neighbor(&format!(
            "family {{\n    {afi} {family};\n  }}\n  announce {{\n    {afi} {{\n      {s}\n    }}\n  }}"
        ));
    }
    match ctx {
        "file" => format!("{s}\n"),
        "top" => format!("{s}\n{}", neighbor("")),
        "neighbor" => neighbor(s),
        "process" => format!(
            "process p {{\n  run /bin/cat;\n  {s}\n}}\n{}",
            neighbor("api { processes [ p ]; }")
        ),
        "api" => format!(
            "{process}{}",
            neighbor(&format!("api {{\n    processes [ p ];\n    {s}\n  }}"))
        ),
        "api/receive" | "api/send" => format!(
            "{process}{}",
            neighbor(&format!(
                "api {{\n    processes [ p ];\n    {} {{ {s} }}\n  }}",
                &ctx[4..]
            ))
        ),
        "route" => neighbor(&format!("static {{\n    route {s};\n  }}")),
        "healthcheck" => format!(
            "process hc {{\n  run python3 -m exabgp healthcheck --ip 10.9.0.1/32 {s};\n}}\n{}",
            neighbor("api { processes [ hc ]; }")
        ),
        "flow/match" => flow(s, "discard;", ""),
        "flow6/match" => {
            let d = if s.contains("destination") {
                ""
            } else {
                "destination 2001:db8::/32;\n        "
            };
            flow(&format!("{d}{s}"), "discard;", "")
        }
        "flow/then" => flow("destination 10.0.1.0/24;", s, ""),
        "flow/route" => neighbor(&format!(
            "flow {{\n    route r {{\n      {s}\n      match {{ destination 10.0.1.0/24; }}\n      then {{ discard; }}\n    }}\n  }}"
        )),
        "flow/scope" => flow(
            "destination 10.0.1.0/24;",
            "discard;",
            &format!("scope {{\n        {s}\n      }}"),
        ),
        "vpls" => {
            let end = if s.ends_with('}') { "" } else { ";" };
            neighbor(&format!("l2vpn {{\n    vpls {s}{end}\n  }}"))
        }
        "announce/ipv4" => neighbor(&format!(
            "announce {{\n    ipv4 {{\n      {s}\n    }}\n  }}"
        )),
        block if block.starts_with("neighbor/") => {
            neighbor(&format!("{} {{\n    {s}\n  }}", &block[9..]))
        }
        other => panic!("keywords.txt:{}: unknown context {other}", k.line),
    }
}

/// Whether `word` is in `text` with no keyword character on either side.
fn has_word(text: &str, word: &str) -> bool {
    let is_kw = |c: char| c.is_ascii_alphanumeric() || c == '-';
    text.match_indices(word).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let after = text[i + word.len()..].chars().next();
        !before.is_some_and(is_kw) && !after.is_some_and(is_kw)
    })
}

/// The rows of the "Every ExaBGP keyword" section: (first cell, status cell).
fn doc_rows() -> Vec<(String, String)> {
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/exabgp.md"))
            .expect("docs/exabgp.md");
    let start = text
        .find("\n## Every ExaBGP keyword")
        .expect("docs/exabgp.md has no 'Every ExaBGP keyword' section");
    let section = &text[start + 1..];
    let end = section[3..].find("\n## ").map_or(section.len(), |e| e + 3);
    let mut rows = Vec::new();
    for line in section[..end].lines() {
        let Some(body) = line.strip_prefix("| ") else {
            continue;
        };
        // Cells split at '|' not escaped as '\|'.
        let mut cells = Vec::new();
        let mut cell = String::new();
        let mut prev = ' ';
        for c in body.chars() {
            if c == '|' && prev != '\\' {
                cells.push(std::mem::take(&mut cell));
            } else {
                cell.push(c);
            }
            prev = c;
        }
        if cells.len() >= 2 && !cells[1].contains("---") && cells[0].trim() != "keyword" {
            rows.push((cells[0].clone(), cells[1].clone()));
        }
    }
    rows
}

/// The text inside backquotes of a table cell.
fn quoted(cell: &str) -> String {
    cell.split('`')
        .skip(1)
        .step_by(2)
        .collect::<Vec<_>>()
        .join(" ")
        .replace("\\|", "|")
}

#[test]
fn every_exabgp_keyword_is_documented_and_does_what_the_table_says() {
    let list = keywords();
    assert!(list.len() >= 200, "only {} keywords listed", list.len());
    let rows = doc_rows();
    let dir = tempfile::tempdir().expect("tempdir");
    let mut failures = Vec::new();
    let mut counts = std::collections::BTreeMap::new();
    for k in &list {
        *counts.entry(k.status.clone()).or_insert(0usize) += 1;
        // (a) a documented row with the same status.
        let documented = rows.iter().any(|(cell, status)| {
            has_word(&quoted(cell), &k.keyword) && has_word(status, &k.status)
        });
        if !documented {
            failures.push(format!(
                "keywords.txt:{}: {} '{}' ({}) has no row in docs/exabgp.md's keyword table with status {}",
                k.line, k.context, k.keyword, k.status, k.status
            ));
        }
        // (b), (c): the binary.
        let path = dir.path().join(format!("k{}.conf", k.line));
        std::fs::write(&path, file_for(k)).expect("write");
        let out = Command::new(env!("CARGO_BIN_EXE_bgpinject"))
            .arg("--check")
            .arg(&path)
            .output()
            .expect("run bgpinject --check");
        let stderr = String::from_utf8_lossy(&out.stderr);
        let error = stderr
            .lines()
            .find(|l| !l.contains(": warning: "))
            .unwrap_or("");
        match (k.status.as_str(), out.status.success()) {
            ("S" | "D", true) | ("R", false) => {}
            ("S" | "D", false) => failures.push(format!(
                "keywords.txt:{}: {} '{}' is {} but --check refuses it: {error}",
                k.line, k.context, k.keyword, k.status
            )),
            _ => failures.push(format!(
                "keywords.txt:{}: {} '{}' is R but --check accepts it",
                k.line, k.context, k.keyword
            )),
        }
        if k.status == "R" && !out.status.success() {
            let place = format!("{}:", path.display());
            let positioned = error.strip_prefix(&place).is_some_and(|rest| {
                let mut parts = rest.splitn(3, ':');
                let line = parts.next().is_some_and(|l| l.parse::<u32>().is_ok());
                let col = parts.next().is_some_and(|c| c.parse::<u32>().is_ok());
                line && col
            });
            let block = k.context.strip_prefix("neighbor/").unwrap_or("");
            let named =
                has_word(error, &k.keyword) || (!block.is_empty() && has_word(error, block));
            if !positioned || !named {
                failures.push(format!(
                    "keywords.txt:{}: {} '{}' is refused without FILE:LINE:COL and its name: {error}",
                    k.line, k.context, k.keyword
                ));
            }
        }
    }
    println!(
        "{} ExaBGP keywords: {} S, {} D, {} R",
        list.len(),
        counts.get("S").unwrap_or(&0),
        counts.get("D").unwrap_or(&0),
        counts.get("R").unwrap_or(&0)
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The test itself can fail: a wrong status and an undocumented keyword are caught.
#[test]
fn a_wrong_row_is_caught() {
    let rows = doc_rows();
    assert!(rows.len() > 50, "only {} rows", rows.len());
    assert!(
        !rows
            .iter()
            .any(|(cell, _)| has_word(&quoted(cell), "no-such-exabgp-keyword"))
    );
    assert!(has_word("a `md5-ip` b", "md5-ip"));
    assert!(!has_word("md5-ip", "md5"));
    assert!(!has_word("ipv4-only", "ipv4"));
}

/// README's "Coming from ExaBGP" table: per context, the keywords of each status.
fn readme_table() -> Vec<(String, [String; 3])> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md");
    let text = std::fs::read_to_string(path).expect("README.md");
    let section = text
        .split("## Coming from ExaBGP")
        .nth(1)
        .expect("README has a Coming from ExaBGP section");
    let section = section.split("\n## ").next().unwrap_or(section);
    section
        .lines()
        .filter(|l| l.starts_with("| `"))
        .filter_map(|l| {
            let cells: Vec<&str> = l.trim_matches('|').split(" | ").map(str::trim).collect();
            let [ctx, s, d, r] = cells.as_slice() else {
                return None;
            };
            Some((
                ctx.trim_matches('`').to_string(),
                [s.to_string(), d.to_string(), r.to_string()],
            ))
        })
        .collect()
}

#[test]
fn the_readme_table_lists_every_keyword_under_its_status() {
    let table = readme_table();
    let mut missing = Vec::new();
    for k in keywords() {
        let column = match k.status.as_str() {
            "S" => 0,
            "D" => 1,
            _ => 2,
        };
        let found = table
            .iter()
            .find(|(ctx, _)| *ctx == k.context)
            .is_some_and(|(_, cols)| cols[column].contains(&format!("`{}`", k.keyword)));
        if !found {
            missing.push(format!(
                "keywords.txt:{}: {} `{}` ({})",
                k.line, k.context, k.keyword, k.status
            ));
        }
    }
    assert!(
        missing.is_empty(),
        "README's Coming from ExaBGP table lacks:\n{}",
        missing.join("\n")
    );
    // And it can fail: a keyword moved to another column is not found there.
    assert!(
        !table
            .iter()
            .any(|(ctx, cols)| ctx == "neighbor" && cols[0].contains("`rate-limit`"))
    );
}
