//! ExaBGP's `template { neighbor NAME { ... } }` and `inherit NAME;`.
//!
//! The routes of a template (its `static { }` and `announce { }` blocks) are parsed once,
//! where the template is written, and added to every neighbor that inherits it: 100
//! neighbors inheriting 100k routes parse 100k routes, not 10M. The rest of the body is
//! kept as tokens and parsed, with the statements of a neighbor block, each time a neighbor
//! inherits it, after the neighbor's own statements: a setting the neighbor gives itself
//! wins, then the first inherited template that gives it. Routes add up; a prefix the
//! neighbor configures itself replaces the template's route. Errors in a template body
//! point into the template, where it was written.

use std::path::PathBuf;
use std::rc::Rc;
use std::sync::Arc;

use super::ConfigError;
use super::lexer::{Token, TokenKind};
use super::parser::{Origin, Parser};
use super::route_list::ParsedRoutes;
use super::{announce, static_block};

pub(super) struct Template {
    pub name: String,
    file: Arc<PathBuf>,
    /// The body between the braces but for its routes, followed by an end-of-file token at
    /// the `}`.
    tokens: Vec<Token>,
    /// The routes of the body's `static { }` and `announce { }` blocks.
    pub routes: ParsedRoutes,
    defined_at: Token,
}

/// The statements of a `template { }` block: `neighbor NAME { ... }`, with the statements of
/// a neighbor block inside.
pub const KEYWORDS: &[&str] = &["neighbor"];

/// `template { neighbor NAME { ... } ... }`, from just after `template`.
pub(super) fn parse_template_block(p: &mut Parser) -> Result<(), ConfigError> {
    let block = "the template block";
    let open = p.open_block("template")?;
    while let Some(kw) = p.block_keyword(&open, block)? {
        if !KEYWORDS.contains(&kw.text.as_str()) {
            return Err(p.error_at(
                kw.position,
                format!(
                    "unknown keyword '{}' in {block}, expected 'neighbor NAME {{'",
                    kw.text
                ),
            ));
        }
        let name = p.expect_word("a template name after neighbor")?;
        if let Some(first) = p.state.borrow().templates.get(&name.text) {
            return Err(p.error_at(
                name.position,
                format!(
                    "duplicate template '{}': already defined at {}:{}",
                    name.text,
                    first.file.display(),
                    first.defined_at.position.line
                ),
            ));
        }
        let owner = format!("template {}", name.text);
        let body_open = p.open_block(&owner)?;
        let (tokens, routes) = capture_body(p, &body_open, &owner)?;
        let template = Template {
            name: name.text.clone(),
            file: Arc::clone(p.file()),
            tokens,
            routes,
            defined_at: name,
        };
        super::neighbor::check_template(p, &template)?;
        p.state
            .borrow_mut()
            .templates
            .insert(template.name.clone(), Rc::new(template));
    }
    Ok(())
}

/// Defines a template named `name` from the statements `body` (the original injector's
/// `group`: the group's statements written before one of its neighbors), `close` the token
/// that ends them. Its routes are parsed here, as for a `template` block.
pub(super) fn define_from_statements(
    p: &Parser,
    name: Token,
    mut body: Vec<Token>,
    close: Token,
) -> Result<(), ConfigError> {
    let open = Token {
        kind: TokenKind::OpenBrace,
        text: "{".to_string(),
        position: name.position,
    };
    body.push(Token {
        kind: TokenKind::CloseBrace,
        text: "}".to_string(),
        position: close.position,
    });
    let mut sub = p.sub_parser(body);
    let (tokens, routes) = capture_body(&mut sub, &open, &name.text)?;
    let template = Template {
        name: name.text.clone(),
        file: Arc::clone(p.file()),
        tokens,
        routes,
        defined_at: name,
    };
    p.state
        .borrow_mut()
        .templates
        .insert(template.name.clone(), Rc::new(template));
    Ok(())
}

/// The tokens up to the `}` matching `open`, which is consumed, but for the statements
/// that make routes: those are parsed here.
fn capture_body(
    p: &mut Parser,
    open: &Token,
    owner: &str,
) -> Result<(Vec<Token>, ParsedRoutes), ConfigError> {
    let mut depth = 0usize;
    let mut tokens = Vec::new();
    let mut routes = ParsedRoutes::default();
    // At the first token of a statement of the body itself.
    let mut statement_start = true;
    loop {
        if statement_start && p.peek().kind == TokenKind::Word {
            match p.peek().text.as_str() {
                "static" => {
                    p.advance();
                    static_block::parse(p, owner, &mut routes)?;
                    continue;
                }
                "announce" => {
                    p.advance();
                    announce::parse(p, owner, &mut routes)?;
                    continue;
                }
                _ => {}
            }
        }
        let token = p.advance();
        statement_start = depth == 0 && token.kind == TokenKind::Semicolon
            || depth == 1 && token.kind == TokenKind::CloseBrace;
        match token.kind {
            TokenKind::OpenBrace => depth += 1,
            TokenKind::CloseBrace if depth == 0 => {
                tokens.push(Token {
                    kind: TokenKind::EndOfFile,
                    text: String::new(),
                    position: token.position,
                });
                return Ok((tokens, routes));
            }
            TokenKind::CloseBrace => depth -= 1,
            TokenKind::EndOfFile => {
                return Err(p.error_at(
                    open.position,
                    format!(
                        "unterminated block: the '{{' of {owner} is never closed, expected '}}' before end of file"
                    ),
                ));
            }
            TokenKind::Word if depth == 0 && token.text == "inherit" => {
                return Err(p.error_at(
                    token.position,
                    format!("{owner}: a template cannot inherit another template"),
                ));
            }
            _ => {}
        }
        tokens.push(token);
    }
}

/// `inherit NAME;`, from just after `inherit`: the template, which must be defined above.
pub(super) fn parse_inherit(p: &mut Parser, keyword: &Token) -> Result<Rc<Template>, ConfigError> {
    let name = p.expect_word("a template name after inherit")?;
    p.expect_semicolon("inherit NAME")?;
    let found = p.state.borrow().templates.get(&name.text).cloned();
    found.ok_or_else(|| {
        let state = p.state.borrow();
        let mut known: Vec<&str> = state.templates.keys().map(String::as_str).collect();
        known.sort();
        p.error_at(
            keyword.position,
            format!(
                "inherit {}: no template of that name is defined above (known: {})",
                name.text,
                if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                }
            ),
        )
    })
}

/// Parses the body of `template` with `statement` (the neighbor block's statement parser),
/// as a new origin so that the neighbor's own settings win; that origin is returned, for
/// the template's routes.
pub(super) fn apply(
    p: &Parser,
    template: &Template,
    mut statement: impl FnMut(&mut Parser, &Token) -> Result<(), ConfigError>,
) -> Result<Origin, ConfigError> {
    let origin = {
        let mut state = p.state.borrow_mut();
        state.last_origin += 1;
        state.last_origin
    };
    let mut sub = p.nested(template.tokens.clone(), Arc::clone(&template.file), origin);
    let expected = format!("a neighbor statement in template {}", template.name);
    while let Some(kw) = sub.file_keyword(&expected)? {
        statement(&mut sub, &kw)?;
    }
    Ok(origin)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::config::{Config, parse_str};

    fn parse(text: &str) -> Result<Config, String> {
        parse_str(text, Path::new("t.conf")).map_err(|e| e.to_string())
    }

    const TEMPLATE: &str = "template {\n  neighbor base {\n    local-as 65000; peer-as 65001; hold-time 30; router-id 192.0.2.10;\n    static { route 198.51.100.0/24 next-hop 192.0.2.1 med 1; route 203.0.113.0/24 next-hop 192.0.2.1; }\n  }\n  neighbor other { hold-time 60; description \"other\"; }\n}\n";

    #[test]
    fn neighbor_settings_override_the_template() {
        let c = parse(&format!(
            "{TEMPLATE}neighbor 192.0.2.1 {{\n  hold-time 90;\n  inherit base;\n  inherit other;\n  static {{ route 198.51.100.0/24 next-hop 192.0.2.1 med 2; }}\n}}\n"
        ))
        .unwrap();
        let n = &c.neighbors[0];
        assert_eq!((n.local_as, n.peer_as, n.hold_time), (65000, 65001, 90));
        assert_eq!(n.description.as_deref(), Some("other"));
        let routes: Vec<(String, Option<u32>)> = n
            .routes
            .iter()
            .map(|r| {
                let med = match r.attributes.get(crate::wire::attribute::type_code::MED) {
                    Some(crate::wire::attribute::PathAttribute::Med(m)) => Some(*m),
                    _ => None,
                };
                (r.prefix.to_string(), med)
            })
            .collect();
        assert_eq!(
            routes,
            [
                ("198.51.100.0/24".to_string(), Some(2)),
                ("203.0.113.0/24".to_string(), None)
            ]
        );
    }

    #[test]
    fn first_inherited_template_wins_over_later_ones() {
        let c = parse(&format!(
            "{TEMPLATE}neighbor 192.0.2.1 {{ inherit base; inherit other; }}"
        ))
        .unwrap();
        assert_eq!(c.neighbors[0].hold_time, 30);
    }

    #[test]
    fn unknown_template_is_an_error_at_the_inherit() {
        let e = parse(&format!(
            "{TEMPLATE}neighbor 192.0.2.1 {{\n  local-as 1;\n  inherit nope;\n}}"
        ))
        .unwrap_err();
        assert!(
            e.starts_with("t.conf:10:3: inherit nope: no template of that name is defined above (known: base, other)"),
            "{e}"
        );
    }

    #[test]
    fn errors_in_a_template_point_into_the_template() {
        let e = parse(
            "template {\n neighbor t {\n  hold-time 2;\n }\n}\nneighbor 192.0.2.1 { inherit t; }",
        )
        .unwrap_err();
        assert!(e.starts_with("t.conf:3:13: hold-time"), "{e}");
        let e = parse("template {\n neighbor t {\n  hold-time 20; hold-time 30;\n }\n}\nneighbor 192.0.2.1 { local-as 1; peer-as 2; router-id 192.0.2.1; inherit t; }")
            .unwrap_err();
        assert!(e.starts_with("t.conf:3:17: 'hold-time' given twice"), "{e}");
        let e = parse("template { neighbor t { inherit u; } }").unwrap_err();
        assert!(
            e.starts_with("t.conf:1:25: template t: a template cannot inherit"),
            "{e}"
        );
        let e = parse("template { neighbor t { } neighbor t { } }").unwrap_err();
        assert!(e.starts_with("t.conf:1:36: duplicate template 't'"), "{e}");
        let e = parse("template { neighbor t { static { } }").unwrap_err();
        assert!(e.starts_with("t.conf:1:10: unterminated block"), "{e}");
    }

    #[test]
    fn template_routes_are_parsed_once_and_shared_by_the_neighbors() {
        let c = parse(&format!(
            "{TEMPLATE}neighbor 192.0.2.1 {{ inherit base; }}\nneighbor 192.0.2.2 {{ inherit base; }}\nneighbor 192.0.2.3 {{ inherit base; static {{ route 192.0.2.128/25 next-hop 192.0.2.1; }} }}"
        ))
        .unwrap();
        let [a, b, c] = &c.neighbors[..] else {
            panic!("three neighbors");
        };
        assert_eq!(a.routes.len(), 2);
        assert!(std::sync::Arc::ptr_eq(&a.routes.unicast, &b.routes.unicast));
        assert_eq!(c.routes.len(), 3);
        assert!(!std::sync::Arc::ptr_eq(
            &a.routes.unicast,
            &c.routes.unicast
        ));
    }

    #[test]
    fn errors_in_a_template_are_found_even_if_nothing_inherits_it() {
        let e = parse("template {\n neighbor t {\n  hold-time 2;\n }\n}\n").unwrap_err();
        assert!(e.starts_with("t.conf:3:13: hold-time"), "{e}");
        let e = parse("template {\n neighbor t {\n  api { colour red; }\n }\n}\n").unwrap_err();
        assert!(e.starts_with("t.conf:3:9: unknown keyword 'colour'"), "{e}");
        // A setting only a neighbor can check is left to the neighbor.
        parse("template { neighbor t { local-address 2001:db8::1; } }").unwrap();
    }

    #[test]
    fn route_errors_in_a_template_are_found_even_if_nothing_inherits_it() {
        let e = parse("template {\n neighbor t {\n  static { route 10.0.0.0/8 med 1; }\n }\n}\n")
            .unwrap_err();
        assert!(
            e.starts_with("t.conf:3:18: route 10.0.0.0/8 has no next-hop"),
            "{e}"
        );
        // The same prefix twice in one template: the later one wins, as in ExaBGP.
        let (config, notes) = crate::config::parse_str_with_notes("template {\n neighbor t {\n  static {\n   route 10.0.0.0/8 next-hop 192.0.2.1;\n   route 10.0.0.0/8 next-hop 192.0.2.2;\n  }\n }\n}\nneighbor 192.0.2.1 { local-as 1; peer-as 2; router-id 192.0.2.1; inherit t; }", std::path::Path::new("t.conf"))
            .unwrap();
        assert_eq!(config.neighbors[0].routes.len(), 1);
        assert!(
            notes.iter().any(|n| n.starts_with("t.conf:5:10: warning: route 10.0.0.0/8 in neighbor 192.0.2.1 is configured again (first at line 4)")),
            "{notes:?}"
        );
    }
}
