//! Every keyword the configuration parser accepts is documented in README.md.
//!
//! The list comes from `bgpinject::config::KEYWORDS`: the per-block lists that the parsers
//! themselves dispatch on and name in their errors (a unit test in src/config/mod.rs checks
//! that each listed keyword is accepted), so a keyword added to the parser must be added to a
//! list, and then to the README.

#[test]
fn every_parser_keyword_is_in_the_readme() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    let reference = readme
        .split_once("## Configuration")
        .map(|(_, rest)| rest)
        .expect("README has a '## Configuration' section");
    let mut missing = Vec::new();
    let mut count = 0;
    for (block, words) in bgpinject::config::KEYWORDS {
        for kw in *words {
            count += 1;
            // Written as code: `kw`, `kw ...`, `kw;` or `kw {`.
            let documented = [
                format!("`{kw}`"),
                format!("`{kw} "),
                format!("`{kw};"),
                format!("`{kw} {{"),
            ]
            .iter()
            .any(|form| reference.contains(form.as_str()));
            if !documented {
                missing.push(format!("{block}: {kw}"));
            }
        }
    }
    assert!(count >= 60, "only {count} keywords listed by the parser");
    assert!(
        missing.is_empty(),
        "keywords accepted by the parser but not documented in README's configuration reference:\n{}",
        missing.join("\n")
    );
}
