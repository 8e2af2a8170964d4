//! The original injector's `group NAME { ... neighbor ADDRESS { ... } ... }` (2010, ExaBGP
//! 1.2): each neighbor of a group inherits the group's settings and the routes written in
//! the group *above it* (inheritance is positional), and its own settings win.
//!
//! Read as templates: for each neighbor, the group's statements so far become a template
//! that the neighbor inherits, so a group is exactly what `bgpinject migrate` writes for it.

use super::ConfigError;
use super::lexer::{Token, TokenKind};
use super::model::NeighborConfig;
use super::neighbor;
use super::parser::Parser;

/// The statements of a group: those of a neighbor block, and `neighbor ADDRESS { }`.
pub const KEYWORDS: &[&str] = &["neighbor"];

/// `group NAME { ... }`, from just after `group`; its neighbors are appended to `neighbors`.
pub(super) fn parse_group(
    p: &mut Parser,
    keyword: &Token,
    neighbors: &mut Vec<NeighborConfig>,
) -> Result<(), ConfigError> {
    let name = p.expect_word("a name after group")?;
    let block = format!("group {}", name.text);
    let open = p.open_block(&block)?;
    super::exabgp_compat::mark_original(p);
    p.note(
        keyword.position,
        Some("group"),
        "'group' is the original injector's block: each of its neighbors inherits the group's settings and the routes written above it (write templates and 'inherit'; `bgpinject migrate` does)",
    );
    let mut statements: Vec<Token> = Vec::new();
    let mut defined: Option<(Token, usize)> = None;
    let mut count = 0usize;
    loop {
        let token = p.advance();
        match token.kind {
            TokenKind::CloseBrace => return Ok(()),
            TokenKind::EndOfFile => {
                return Err(p.error_at(
                    open.position,
                    format!("unterminated block: the '{{' of {block} is never closed, expected '}}' before end of file"),
                ));
            }
            TokenKind::Word if token.text == "neighbor" => {
                count += 1;
                let address = p.expect_word("an address after neighbor")?;
                let body_open = p.open_block(&format!("neighbor {}", address.text))?;
                let mut own = vec![address.clone(), body_open.clone()];
                let close = capture_block(p, &body_open, &block, &mut own)?;
                // Neighbors with no group statement between them share one template, so a
                // group's routes are parsed once for all the neighbors that follow them.
                let template = match &defined {
                    Some((t, len)) if *len == statements.len() => t.clone(),
                    _ => {
                        let t = Token {
                            kind: TokenKind::Word,
                            text: format!("{} (above neighbor {count})", block),
                            position: address.position,
                        };
                        super::template::define_from_statements(
                            p,
                            t.clone(),
                            statements.clone(),
                            close.clone(),
                        )?;
                        defined = Some((t.clone(), statements.len()));
                        t
                    }
                };
                // `neighbor ADDRESS { OWN... inherit TEMPLATE; }`
                let at = |kind, text: &str| Token {
                    kind,
                    text: text.to_string(),
                    position: close.position,
                };
                own.push(at(TokenKind::Word, "inherit"));
                own.push(template);
                own.push(at(TokenKind::Semicolon, ";"));
                own.push(close.clone());
                own.push(at(TokenKind::EndOfFile, ""));
                let mut sub = p.sub_parser(own);
                let n = neighbor::parse_neighbor(&mut sub, &token, neighbors, false)?;
                neighbors.push(n);
            }
            TokenKind::Word if !is_neighbor_keyword(&token.text) => {
                return Err(p.error_at(
                    token.position,
                    format!(
                        "unknown keyword '{}' in {block}, expected a neighbor statement or 'neighbor ADDRESS {{'",
                        token.text
                    ),
                ));
            }
            _ => {
                // One statement of the group: up to its `;`, or its block's `}`.
                let mut depth = 0usize;
                let mut current = token;
                loop {
                    let kind = current.kind;
                    statements.push(current);
                    match kind {
                        TokenKind::Semicolon if depth == 0 => break,
                        TokenKind::OpenBrace => depth += 1,
                        TokenKind::CloseBrace => {
                            depth = depth.saturating_sub(1);
                            if depth == 0 {
                                break;
                            }
                        }
                        TokenKind::EndOfFile => {
                            return Err(p.error_at(
                                open.position,
                                format!("unterminated block: the '{{' of {block} is never closed, expected '}}' before end of file"),
                            ));
                        }
                        _ => {}
                    }
                    current = p.advance();
                }
            }
        }
    }
}

fn is_neighbor_keyword(word: &str) -> bool {
    [
        neighbor::KEYWORDS,
        super::session_options::KEYWORDS,
        super::exabgp_compat::KEYWORDS,
        super::exabgp_compat::REFUSED,
    ]
    .iter()
    .any(|list| list.contains(&word))
}

/// The tokens after `open` up to its matching `}` (returned, not pushed) into `out`.
fn capture_block(
    p: &mut Parser,
    open: &Token,
    owner: &str,
    out: &mut Vec<Token>,
) -> Result<Token, ConfigError> {
    let mut depth = 0usize;
    loop {
        let token = p.advance();
        match token.kind {
            TokenKind::OpenBrace => depth += 1,
            TokenKind::CloseBrace if depth == 0 => return Ok(token),
            TokenKind::CloseBrace => depth -= 1,
            TokenKind::EndOfFile => {
                return Err(p.error_at(
                    open.position,
                    format!("unterminated block in {owner}: the '{{' is never closed, expected '}}' before end of file"),
                ));
            }
            _ => {}
        }
        out.push(token);
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::config::parse_str_with_notes;

    #[test]
    fn neighbors_inherit_the_settings_and_the_routes_above_them() {
        let text = "group g {\n local-as 65000; peer-as 65000; hold-time 90;\n static { route 10.1.0.0/16 next-hop 192.0.2.1; }\n neighbor 192.0.2.1 { router-id 192.0.2.10; }\n static { route 10.2.0.0/16 next-hop 192.0.2.1; }\n neighbor 192.0.2.2 { router-id 192.0.2.10; hold-time 30; static { route 10.1.0.0/16 next-hop 192.0.2.9; } }\n}\n";
        let (c, notes) = parse_str_with_notes(text, Path::new("t.conf")).unwrap();
        assert_eq!(c.neighbors.len(), 2);
        assert_eq!(c.neighbors[0].hold_time, 90);
        assert_eq!(c.neighbors[0].routes.len(), 1);
        assert_eq!(c.neighbors[1].hold_time, 30);
        let routes: Vec<String> = c.neighbors[1]
            .routes
            .iter()
            .map(|r| format!("{} {:?}", r.prefix, r.attributes.next_hop))
            .collect();
        assert_eq!(routes.len(), 2, "{routes:?}");
        assert!(
            routes[0].starts_with("10.1.0.0/16") && routes[0].contains("192.0.2.9"),
            "{routes:?}"
        );
        assert!(
            notes[0].starts_with("t.conf:1:1: warning: 'group'"),
            "{notes:?}"
        );
    }

    #[test]
    fn errors_point_into_the_group() {
        let e =
            parse_str_with_notes("group g {\n  no-such 1;\n}", Path::new("t.conf")).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("t.conf:2:3: unknown keyword 'no-such' in group g"),
            "{e}"
        );
        let e = parse_str_with_notes(
            "group g {\n local-as 1; peer-as 2;\n neighbor 192.0.2.1 {\n  router-id 192.0.2.1; hold-time 2;\n }\n}",
            Path::new("t.conf"),
        )
        .unwrap_err();
        assert!(e.to_string().starts_with("t.conf:4:34: hold-time"), "{e}");
    }
}
