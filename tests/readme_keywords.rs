//! Every keyword the configuration parser accepts is documented in docs/configuration.md, the
//! configuration reference.
//!
//! The list comes from `bgpinject::config::KEYWORDS`: the per-block lists that the parsers
//! themselves dispatch on and name in their errors (a unit test in src/config/mod.rs checks
//! that each listed keyword is accepted), so a keyword added to the parser must be added to a
//! list, and then to docs/configuration.md.

#[test]
fn every_parser_keyword_is_in_the_configuration_reference() {
    let reference = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/docs/configuration.md"
    ))
    .expect("docs/configuration.md");
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
        "keywords accepted by the parser but not documented in docs/configuration.md:\n{}",
        missing.join("\n")
    );
}
