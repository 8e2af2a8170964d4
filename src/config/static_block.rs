//! `static { route ...; include "FILE"; }`: the routes of a neighbor (or of a template),
//! with `split /LEN` expanded, and the check that each prefix is configured once.

use crate::wire::prefix::Prefix;

use super::ConfigError;
use super::include;
use super::lexer::{Token, TokenKind};
use super::parser::{Parser, one_of_quoted};
use super::route::{self, ParsedRoute};
use super::route_list::ParsedRoutes;

/// `split /LEN` may make at most 2^16 routes of one statement (LEN - length <= 16): more
/// is almost certainly a typo, and one statement should not make a table of millions.
pub const MAX_SPLIT_BITS: u8 = 16;

/// `static { ... }`, from just after `static`. Routes append to `routes`.
pub(super) fn parse(
    p: &mut Parser,
    owner: &str,
    routes: &mut ParsedRoutes,
) -> Result<(), ConfigError> {
    let block = format!("the static block of {owner}");
    let open = p.open_block("static")?;
    while let Some(kw) = p.block_keyword(&open, &block)? {
        statement(p, &kw, &block, routes)?;
    }
    Ok(())
}

/// The statements of a `static { }` block (and of a file included there).
pub const KEYWORDS: &[&str] = &["route", "include", "attributes"];

/// One statement of a static block (or of a file included there).
fn statement(
    p: &mut Parser,
    kw: &Token,
    block: &str,
    routes: &mut ParsedRoutes,
) -> Result<(), ConfigError> {
    match kw.text.as_str() {
        "route" => {
            let parsed = route::parse_route_remembered(p, kw)?;
            expand_split(p, parsed, &mut |r| routes.push(r))?;
            route::memo_routes(p, &mut |r| routes.push(r));
            Ok(())
        }
        "attributes" => attributes(p, routes),
        "include" => include::include_routes(p, kw, |sub| {
            let expected = format!("'route' or 'include' in a file included in {block}");
            while let Some(kw) = sub.file_keyword(&expected)? {
                statement(sub, &kw, block, routes)?;
            }
            Ok(())
        }),
        _ => Err(p.unknown_keyword(kw, block, &one_of_quoted(KEYWORDS))),
    }
}

/// ExaBGP 4's `attributes ATTRIBUTES... nlri PREFIX...;` (static/__init__.py): one route per
/// prefix, each with the attributes written before `nlri`, as `route PREFIX ATTRIBUTES;`.
fn attributes(p: &mut Parser, routes: &mut ParsedRoutes) -> Result<(), ConfigError> {
    let mut attrs: Vec<Token> = Vec::new();
    let mut prefixes: Vec<Token> = Vec::new();
    let mut seen_nlri = false;
    let end = loop {
        let t = p.advance();
        match t.kind {
            TokenKind::Semicolon => break t,
            TokenKind::EndOfFile | TokenKind::OpenBrace | TokenKind::CloseBrace => {
                return Err(p.unexpected(&t, "'nlri PREFIX ...;' to end 'attributes'"));
            }
            TokenKind::Word if t.text == "nlri" && !seen_nlri => seen_nlri = true,
            _ if seen_nlri => prefixes.push(t),
            _ => attrs.push(t),
        }
    };
    if prefixes.is_empty() {
        return Err(p.error_at(
            end.position,
            "attributes without 'nlri PREFIX ...' before its ';': it announces nothing",
        ));
    }
    for prefix in prefixes {
        let at = |kind, text: &str| Token {
            kind,
            text: text.to_string(),
            position: prefix.position,
        };
        let route_kw = at(TokenKind::Word, "route");
        let mut tokens = vec![prefix.clone()];
        tokens.extend(attrs.iter().cloned());
        tokens.push(Token {
            kind: TokenKind::Semicolon,
            text: ";".to_string(),
            position: end.position,
        });
        tokens.push(at(TokenKind::EndOfFile, ""));
        let mut sub = p.sub_parser(tokens);
        let parsed = route::parse_route(&mut sub, &route_kw)?;
        expand_split(&sub, parsed, &mut |r| routes.push(r))?;
    }
    Ok(())
}

/// Pushes `parsed`, or with `split /LEN` its more-specifics of length LEN.
pub(super) fn expand_split(
    p: &Parser,
    parsed: ParsedRoute,
    push: &mut dyn FnMut(ParsedRoute),
) -> Result<(), ConfigError> {
    let Some((len, at)) = parsed.split else {
        push(parsed);
        return Ok(());
    };
    let prefix = parsed.route.prefix;
    let max = if prefix.addr().is_ipv4() { 32 } else { 128 };
    if len < prefix.len() || len > max {
        return Err(p.error_at(
            at,
            format!(
                "split /{len} on route {prefix}: expected a length from /{} to /{max}",
                prefix.len()
            ),
        ));
    }
    let bits = len - prefix.len();
    if bits > MAX_SPLIT_BITS {
        return Err(p.error_at(
            at,
            format!(
                "split /{len} on route {prefix} would make 2^{bits} routes, more than the limit of 2^{MAX_SPLIT_BITS} (expected at most /{})",
                prefix.len() + MAX_SPLIT_BITS
            ),
        ));
    }
    for i in 0..(1u128 << bits) {
        let mut route = parsed.route.clone();
        route.prefix = more_specific(prefix, len, i);
        push(ParsedRoute {
            route,
            prefix_at: parsed.prefix_at,
            split: None,
            origin: parsed.origin,
            withdraw: parsed.withdraw,
            watchdog: parsed.watchdog.clone(),
        });
    }
    Ok(())
}

/// The `i`-th more-specific of length `len` inside `prefix`.
fn more_specific(prefix: Prefix, len: u8, i: u128) -> Prefix {
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
    let addr = match prefix.addr() {
        IpAddr::V4(a) => {
            let shift = 32 - u32::from(len);
            let bits = u32::from(a) | ((i as u32).checked_shl(shift).unwrap_or(0));
            IpAddr::V4(Ipv4Addr::from(bits))
        }
        IpAddr::V6(a) => {
            let shift = 128 - u32::from(len);
            let bits = u128::from(a) | i.checked_shl(shift).unwrap_or(0);
            IpAddr::V6(Ipv6Addr::from(bits))
        }
    };
    // Cannot fail: `len` fits the family and the bits below it are zero.
    Prefix::new(addr, len).unwrap_or(prefix)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::config::parse_str;

    fn prefixes(text: &str) -> Result<Vec<String>, String> {
        let c = parse_str(text, Path::new("t.conf")).map_err(|e| e.to_string())?;
        Ok(c.neighbors[0]
            .routes
            .iter()
            .map(|r| r.prefix.to_string())
            .collect())
    }

    fn neighbor(routes: &str) -> String {
        format!(
            "neighbor 192.0.2.1 {{ router-id 192.0.2.10; local-as 65000; peer-as 65001;\nstatic {{\n{routes}\n}} }}"
        )
    }

    /// The same text, with a different comment ending each line: no line repeats the one
    /// before, so the route memo reads none of them (the control of the tests below).
    fn without_memo(text: &str) -> String {
        text.lines()
            .enumerate()
            .map(|(i, l)| format!("{l} # {i}\n"))
            .collect()
    }

    fn parsed(text: &str) -> Result<(Vec<crate::config::NeighborConfig>, Vec<String>), String> {
        crate::config::parse_str_with_notes(text, Path::new("t.conf"))
            .map(|(c, notes)| (c.neighbors, notes))
            .map_err(|e| e.to_string())
    }

    /// Lines that repeat the attributes of the line before are read by the route memo
    /// without tokens; the table, the warnings (with their positions) and the errors must be
    /// those of the full parse, whatever the line holds.
    #[test]
    fn repeated_route_lines_parse_as_in_full() {
        let routes = [
            "route 10.0.0.0/24 next-hop 192.0.2.1;",
            "route 10.0.1.0/24 next-hop 192.0.2.1;",
            "  route   10.0.2.0/23 next-hop 192.0.2.1;",
            "route 10.0.4.0/23 next-hop 192.0.2.1;",
            "route 10.0.7.1/24 next-hop 192.0.2.1;",
            "route 10.0.8.0/24 next-hop 192.0.2.1 med 5;",
            "route\t10.0.9.0/24 next-hop 192.0.2.1 med 5;",
            "route 10.0.10.0/24 next-hop 192.0.2.1 med 5; # a comment",
            "route 10.0.11.0/24 next-hop 192.0.2.1 med 5; # a comment",
            "route 10.0.12.0/24 next-hop 192.0.2.1 med 5; route 10.0.13.0/24 next-hop 192.0.2.1 med 5;",
            "route 10.0.14.0/24 next-hop 192.0.2.1 med 5;",
            "route 10.0.15.0/24 next-hop 192.0.2.1",
            "  med 5;",
            "route 10.0.16.0/24 next-hop 192.0.2.1 med 5;",
            "route 2001:db8::/32 next-hop 2001:db8::1;",
            "route 2001:db8:1::/48 next-hop 2001:db8::1;",
            "route 2001:db9::/32 next-hop 2001:db8::1;",
            "route 10.0.17.0/24 next-hop 192.0.2.1 med 5;",
            "route 10.0.18.0/24 next-hop 192.0.2.1 med 5 split /25;",
            "route 10.0.20.0/24 next-hop 192.0.2.1 med 5 split /25;",
            "route 10.0.1.0/24 next-hop 192.0.2.1 med 5;",
            "route 10.0.0.0/24 next-hop 192.0.2.1 med 5;",
            "route 10.0.22.0/24 next-hop 192.0.2.1 med 5 withdraw;",
            "route 10.0.23.0/24 next-hop 192.0.2.1 med 5 withdraw;",
            "route 10.0.24.0/24 next-hop 192.0.2.1 med 5;\r",
            "route 10.0.25.0/24 next-hop 192.0.2.1 med 5;\r",
            "route 10.0.26.0/24 { next-hop 192.0.2.1; med 6; }",
            "route 10.0.27.0/24 { next-hop 192.0.2.1; med 6; }",
            "routes 10.0.28.0/24 { next-hop 192.0.2.1; med 6; }",
        ];
        let good = routes[..routes.len() - 1].join("\n");
        let text = neighbor(&good);
        let (with, notes) = parsed(&text).unwrap();
        let (control, control_notes) = parsed(&without_memo(&text)).unwrap();
        assert_eq!(with, control);
        assert_eq!(notes, control_notes);
        assert!(
            notes
                .iter()
                .any(|n| n.contains("t.conf:7:7: warning: route 10.0.7.1/24: host bits")),
            "{notes:?}"
        );
        assert!(
            notes
                .iter()
                .any(|n| n.contains("t.conf:23:7: warning: route 10.0.1.0/24")),
            "{notes:?}"
        );
        assert!(
            notes
                .iter()
                .any(|n| n.contains("t.conf:24:7: warning: route 10.0.0.0/24")),
            "{notes:?}"
        );
        assert_eq!(with[0].routes.unicast.len(), 26);
        // Errors: a bad keyword after repeated lines, a bad prefix, a bad value, a line cut
        // short at the end of the file (a half-written file).
        for bad in [
            routes.join("\n"),
            format!("{good}\nroute 10.0.300.0/24 next-hop 192.0.2.1 med 5;"),
            format!("{good}\nroute 10.0.30.0/24 next-hop 192.0.2.1 med 5x;"),
            format!(
                "{good}\nroute 10.0.30.0/24 next-hop 192.0.2.1 med 5;\nroute 10.0.31.0/24 next-ho"
            ),
        ] {
            let text = neighbor(&bad);
            let e = parsed(&text).unwrap_err();
            assert_eq!(e, parsed(&without_memo(&text)).unwrap_err());
            assert!(e.starts_with("t.conf:3"), "{e}");
        }
        let cut = format!(
            "neighbor 192.0.2.1 {{ router-id 192.0.2.10; local-as 65000; peer-as 65001;\nstatic {{\n{}\nroute 10.0.31.0/24 next-hop 192.0.2.1 med",
            routes[5..9].join("\n")
        );
        let e = parsed(&cut).unwrap_err();
        assert!(e.starts_with("t.conf:7:"), "{e}");
    }

    #[test]
    fn split_makes_more_specifics() {
        let got = prefixes(&neighbor(
            "route 198.51.100.0/24 next-hop 192.0.2.1 split /26;",
        ))
        .unwrap();
        assert_eq!(
            got,
            [
                "198.51.100.0/26",
                "198.51.100.64/26",
                "198.51.100.128/26",
                "198.51.100.192/26"
            ]
        );
        let got = prefixes(&neighbor(
            "route 2001:db8::/32 { next-hop 2001:db8::1; split /34; }",
        ))
        .unwrap();
        assert_eq!(
            got,
            [
                "2001:db8::/34",
                "2001:db8:4000::/34",
                "2001:db8:8000::/34",
                "2001:db8:c000::/34"
            ]
        );
        assert_eq!(
            prefixes(&neighbor(
                "route 198.51.100.0/24 next-hop 192.0.2.1 split /24;"
            ))
            .unwrap()
            .len(),
            1
        );
        assert_eq!(
            prefixes(&neighbor("route 10.0.0.0/8 next-hop 192.0.2.1 split 24;"))
                .unwrap()
                .len(),
            65536
        );
    }

    #[test]
    fn split_refuses_shorter_lengths_and_huge_expansions() {
        let e = prefixes(&neighbor(
            "route 198.51.100.0/24 next-hop 192.0.2.1 split /23;",
        ))
        .unwrap_err();
        assert!(
            e.starts_with("t.conf:3:48: split /23 on route 198.51.100.0/24"),
            "{e}"
        );
        let e = prefixes(&neighbor("route 10.0.0.0/8 next-hop 192.0.2.1 split /25;")).unwrap_err();
        assert!(e.contains("more than the limit of 2^16"), "{e}");
        let e = prefixes(&neighbor("route 10.0.0.0/8 next-hop 192.0.2.1 split /33;")).unwrap_err();
        assert!(e.contains("expected a length from /8 to /32"), "{e}");
    }

    #[test]
    fn split_overlapping_a_configured_route_replaces_it() {
        let text = "neighbor 192.0.2.1 { router-id 192.0.2.1; local-as 1; peer-as 2; static {\nroute 198.51.100.64/26 next-hop 192.0.2.1;\nroute 198.51.100.0/24 next-hop 192.0.2.2 split /26; } }";
        let (config, notes) =
            crate::config::parse_str_with_notes(text, std::path::Path::new("t.conf")).unwrap();
        assert_eq!(config.neighbors[0].routes.len(), 4);
        assert!(
            notes.iter().any(
                |n| n.starts_with("t.conf:3:7: warning: route 198.51.100.64/26")
                    && n.contains("first at line 2")
            ),
            "{notes:?}"
        );
    }

    #[test]
    fn exabgp4_attributes_statement_is_one_route_per_prefix() {
        let n = "neighbor 192.0.2.1 { router-id 192.0.2.9; local-as 1; peer-as 2; static {";
        let c = parse_str(
            &format!(
                "{n} attributes next-hop 192.0.2.2 med 10 nlri 10.0.0.0/24 10.0.1.0/24; }} }}"
            ),
            Path::new("t.conf"),
        )
        .unwrap();
        let routes = &c.neighbors[0].routes;
        assert_eq!(routes.len(), 2);
        let same = parse_str(
            &format!("{n} route 10.0.0.0/24 next-hop 192.0.2.2 med 10; route 10.0.1.0/24 next-hop 192.0.2.2 med 10; }} }}"),
            Path::new("t.conf"),
        )
        .unwrap();
        assert_eq!(routes, &same.neighbors[0].routes);
        for (text, want) in [
            ("attributes next-hop 192.0.2.2;", "without 'nlri PREFIX"),
            (
                "attributes next-hop 192.0.2.2 nlri 10.0.0.0/24 }",
                "'nlri PREFIX ...;'",
            ),
            ("attributes med 10 nlri 10.0.0.0/24;", "next-hop"),
        ] {
            let e = prefixes(&format!("{n} {text} }} }}")).unwrap_err();
            assert!(e.contains(want), "{text}: {e}");
        }
    }
}
