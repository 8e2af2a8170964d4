//! `bfd { min-tx MS; min-rx MS; multiplier N; multihop true|false; }` in a neighbor (or a
//! template): a BFD session beside the BGP session (src/bfd/, which the manager hands these to). Unset values take FRR's
//! defaults (300 ms, 300 ms, 3), single-hop.

use std::time::Duration;

use super::ConfigError;
use super::lexer::TokenKind;
use super::model::BfdConfig;
use super::parser::{Parser, one_of_quoted};
use super::values;

/// The statements of a `bfd { }` block.
pub const KEYWORDS: &[&str] = &["min-tx", "min-rx", "multiplier", "multihop"];

/// FRR's defaults (bfdd: 300 ms receive and transmit, multiplier 3).
pub const DEFAULT: BfdConfig = BfdConfig {
    min_tx: Duration::from_millis(300),
    min_rx: Duration::from_millis(300),
    multiplier: 3,
    multihop: false,
};

/// The interval range accepted, in milliseconds (FRR's 10..60000): the BFD thread's timers
/// are honoured to about a millisecond, and a minute is already far slower than BGP's own
/// hold timer.
const MIN_INTERVAL_MS: u64 = 10;
const MAX_INTERVAL_MS: u64 = 60_000;

/// `bfd { ... }` (or `bfd;` for the defaults), from just after `bfd`.
pub(super) fn parse(p: &mut Parser, owner: &str) -> Result<BfdConfig, ConfigError> {
    let mut params = DEFAULT;
    if p.peek().kind == TokenKind::Semicolon {
        p.expect_semicolon("bfd")?;
        return Ok(params);
    }
    let block = format!("the bfd block of {owner}");
    let open = p.open_block("bfd")?;
    while let Some(kw) = p.block_keyword(&open, &block)? {
        match kw.text.as_str() {
            "min-tx" | "min-rx" => {
                let (ms, _) = p.value(&kw.text, |t| {
                    values::number_in(
                        t,
                        MIN_INTERVAL_MS,
                        MAX_INTERVAL_MS,
                        "10..60000 milliseconds",
                    )
                })?;
                let d = Duration::from_millis(ms);
                if kw.text == "min-tx" {
                    params.min_tx = d;
                } else {
                    params.min_rx = d;
                }
            }
            "multiplier" => {
                let (n, _) = p.value("multiplier", |t| values::number_in(t, 1, 255, "1..255"))?;
                params.multiplier = n as u8;
            }
            "multihop" => {
                let expected = "'true' or 'false' after multihop";
                let token = p.expect_word(expected)?;
                params.multihop = match token.text.as_str() {
                    "true" | "enable" => true,
                    "false" | "disable" => false,
                    _ => return Err(p.unexpected(&token, expected)),
                };
            }
            other => {
                return Err(p.error_at(
                    kw.position,
                    format!(
                        "unknown keyword '{other}' in {block}, expected {}",
                        one_of_quoted(KEYWORDS)
                    ),
                ));
            }
        }
        p.expect_semicolon(&format!("{} value", kw.text))?;
    }
    Ok(params)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn neighbor(body: &str) -> Result<Option<BfdConfig>, String> {
        let text = format!(
            "template {{ neighbor fast {{ bfd {{ min-tx 50; min-rx 60; multiplier 4; }} }} }}\n\
             neighbor 192.0.2.1 {{ router-id 192.0.2.2; local-as 65000; peer-as 65001; {body} }}"
        );
        super::super::parse_str(&text, Path::new("t.conf"))
            .map(|c| c.neighbors[0].bfd)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn block_defaults_and_inheritance() {
        assert_eq!(neighbor(""), Ok(None));
        assert_eq!(neighbor("bfd;"), Ok(Some(DEFAULT)));
        assert_eq!(neighbor("bfd { }"), Ok(Some(DEFAULT)));
        assert_eq!(
            neighbor("bfd { min-tx 100; min-rx 200; multiplier 5; multihop true; }"),
            Ok(Some(BfdConfig {
                min_tx: Duration::from_millis(100),
                min_rx: Duration::from_millis(200),
                multiplier: 5,
                multihop: true,
            }))
        );
        let fast = BfdConfig {
            min_tx: Duration::from_millis(50),
            min_rx: Duration::from_millis(60),
            multiplier: 4,
            multihop: false,
        };
        assert_eq!(neighbor("inherit fast;"), Ok(Some(fast)));
        // The neighbor's own block wins over the template's.
        assert_eq!(
            neighbor("inherit fast; bfd { multiplier 7; }"),
            Ok(Some(BfdConfig {
                multiplier: 7,
                ..DEFAULT
            }))
        );
    }

    #[test]
    fn out_of_range_values_are_refused_with_their_range() {
        for (body, expected) in [
            ("bfd { min-tx 5; }", "10..60000"),
            ("bfd { min-rx 60001; }", "10..60000"),
            ("bfd { multiplier 0; }", "1..255"),
            ("bfd { multiplier 256; }", "1..255"),
            ("bfd { multihop maybe; }", "'true' or 'false'"),
            ("bfd { echo 50; }", "unknown keyword 'echo'"),
            ("bfd { min-tx 100 }", "';'"),
        ] {
            let e = neighbor(body).unwrap_err();
            assert!(e.contains(expected), "{body}: {e}");
        }
    }
}
