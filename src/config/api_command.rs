//! The route and flow parts of API commands (`announce route ...`, `announce flow route ...`),
//! parsed by the configuration's own route and flow parsers: a command line is tokenized by
//! the configuration lexer, so it accepts exactly the attributes a file accepts.

use std::path::PathBuf;
use std::sync::Arc;

use super::lexer::{self, Token, TokenKind};
use super::model::{FamilyRoute, FlowConfig, Location, RouteConfig};
use super::parser::Parser;
use super::{ConfigError, family_routes, flow, route, static_block};
use crate::wire::family::Afi;
use crate::wire::prefix::Prefix;

/// Errors in commands are located as `command:1:COLUMN`.
fn command_file() -> Arc<PathBuf> {
    Arc::new(PathBuf::from("command"))
}

fn tokens(text: &str) -> Result<Vec<Token>, ConfigError> {
    lexer::tokenize(text).map_err(|e| ConfigError {
        location: Some(Location {
            file: command_file(),
            line: e.position().line,
            column: e.position().column,
        }),
        message: e.to_string(),
    })
}

fn expect_end(p: &mut Parser) -> Result<(), ConfigError> {
    let t = p.advance();
    if t.kind == TokenKind::EndOfFile {
        Ok(())
    } else {
        Err(p.unexpected(&t, "the end of the command"))
    }
}

/// `PREFIX ATTRIBUTE...` (what follows `announce route`), with or without a final `;`: the
/// route, or with `split /LEN` its more-specifics (checked as in a file).
pub use super::route::check_watchdog_name;

pub fn routes_from_text(text: &str) -> Result<Vec<RouteConfig>, ConfigError> {
    tagged_routes_from_text(text).map(|(routes, _)| routes)
}

/// A route's `watchdog NAME`, and whether it is tagged `withdraw` (it then starts withdrawn).
pub type WatchdogTag = (String, bool);

/// [`routes_from_text`], with the route's watchdog tag.
pub fn tagged_routes_from_text(
    text: &str,
) -> Result<(Vec<RouteConfig>, Option<WatchdogTag>), ConfigError> {
    let mut tokens = tokens(&format!("route {text}"))?;
    let eof = tokens
        .pop()
        .expect("the lexer always ends with end of file");
    if !matches!(
        tokens.last().map(|t| t.kind),
        Some(TokenKind::Semicolon | TokenKind::CloseBrace)
    ) {
        tokens.push(Token {
            kind: TokenKind::Semicolon,
            text: ";".into(),
            position: eof.position,
        });
    }
    tokens.push(eof);
    let mut p = Parser::from_tokens(tokens, command_file());
    let kw = p.advance();
    let parsed = route::parse_route(&mut p, &kw)?;
    expect_end(&mut p)?;
    let tag = parsed.watchdog.clone().map(|name| (name, parsed.withdraw));
    let mut routes = Vec::new();
    static_block::expand_split(&p, parsed, &mut |r| routes.push(r.route))?;
    Ok((routes, tag))
}

/// The last route a command line's text gave, kept to read the next line faster: a helper
/// announcing a million routes writes the same attributes after each prefix, and those
/// are parsed once. A line reuses it only when everything after its prefix is the same
/// text, its prefix is of the same family and length and has no host bits set, and the
/// route had no `split` (its more-specifics depend on the prefix): then the configuration
/// parser would give the same route with the new prefix (no check of a route depends on the
/// prefix beyond its family and length). Any other line is parsed in full.
#[derive(Debug, Default)]
pub struct RouteMemo {
    last: Option<(String, RouteConfig, Option<WatchdogTag>)>,
    /// Counts the routes kept in `last`: lines repeating one route have the same.
    generation: u64,
    /// The text kept in `last` holds `lease` or a literal `\\n`: [`RouteMemo::repeat`] does
    /// not match it (those lines go through the whole command parser, which reads them).
    unrepeatable: bool,
}

impl RouteMemo {
    /// When `text` (what follows `announce route`) is the last route with another prefix
    /// (see the type's documentation): that prefix, the last route, and the generation of
    /// the memo that gave it. What [`RouteMemo::tagged_routes`] would give, without a copy.
    pub fn repeat(&self, text: &str) -> Option<(Prefix, &RouteConfig, u64)> {
        let text = text.trim();
        let (first, rest) = match text.find(char::is_whitespace) {
            Some(i) => (&text[..i], text[i..].trim_start()),
            None => (text, ""),
        };
        let (known, template, tag) = self.last.as_ref()?;
        if self.unrepeatable || known != rest || tag.is_some() {
            return None;
        }
        let prefix = super::values::prefix(first).ok()?;
        (prefix.len() == template.prefix.len()
            && prefix.addr().is_ipv4() == template.prefix.addr().is_ipv4())
        .then_some((prefix, template, self.generation))
    }

    /// [`routes_from_text`], reusing the last line's parse where it is the same.
    pub fn routes(&mut self, text: &str) -> Result<Vec<RouteConfig>, ConfigError> {
        self.tagged_routes(text).map(|(routes, _)| routes)
    }

    /// [`tagged_routes_from_text`], reusing the last line's parse where it is the same.
    pub fn tagged_routes(
        &mut self,
        text: &str,
    ) -> Result<(Vec<RouteConfig>, Option<WatchdogTag>), ConfigError> {
        let text = text.trim();
        let (first, rest) = match text.find(char::is_whitespace) {
            Some(i) => (&text[..i], text[i..].trim_start()),
            None => (text, ""),
        };
        let prefix = super::values::prefix(first).ok();
        if let (Some(prefix), Some((known, template, tag))) = (prefix, &self.last)
            && known == rest
            && prefix.len() == template.prefix.len()
            && prefix.addr().is_ipv4() == template.prefix.addr().is_ipv4()
        {
            let mut route = template.clone();
            route.prefix = prefix;
            return Ok((vec![route], tag.clone()));
        }
        let (routes, tag) = tagged_routes_from_text(text)?;
        self.generation += 1;
        self.unrepeatable = rest.contains("lease") || rest.contains("\\n");
        self.last = match (prefix, routes.as_slice()) {
            (Some(p), [one])
                if one.prefix == p && !rest.split_whitespace().any(|w| w == "split") =>
            {
                Some((rest.to_string(), one.clone(), tag.clone()))
            }
            _ => None,
        };
        Ok((routes, tag))
    }
}

/// The words that start a route of a `wire::nlri` family after `announce` / `withdraw`
/// (after its AFI for MUP, MCAST-VPN and SR Policy).
pub use family_routes::KEYWORDS as FAMILY_ROUTE_KEYWORDS;

/// `evpn mac-ip ... next-hop IP ...`, `ipv4 mup mup-isd ...` (what follows `announce`): a
/// route of a `wire::nlri` family, read as in an `announce { AFI { } }` block of a file.
/// `afi` is the block's (`Afi::L2VPN` for EVPN and VPLS).
pub fn family_route_from_text(text: &str, afi: Afi) -> Result<FamilyRoute, ConfigError> {
    let mut tokens = tokens(text)?;
    let eof = tokens
        .pop()
        .expect("the lexer always ends with end of file");
    if tokens.last().map(|t| t.kind) != Some(TokenKind::Semicolon) {
        tokens.push(Token {
            kind: TokenKind::Semicolon,
            text: ";".into(),
            position: eof.position,
        });
    }
    tokens.push(eof);
    let mut p = Parser::from_tokens(tokens, command_file());
    let kw = p.advance();
    if !family_routes::KEYWORDS.contains(&kw.text.as_str()) {
        return Err(p.unexpected(&kw, "evpn, vpls, rtc, mup, mcast-vpn or sr-policy"));
    }
    let parsed = family_routes::parse_route(&mut p, &kw, afi)?;
    expect_end(&mut p)?;
    Ok(parsed.route)
}

/// One route without `split` (tests and callers that want exactly one).
pub fn route_from_text(text: &str) -> Result<RouteConfig, ConfigError> {
    let mut routes = routes_from_text(text)?;
    match (routes.pop(), routes.is_empty()) {
        (Some(r), true) => Ok(r),
        _ => Err(ConfigError {
            location: None,
            message: "expected one route, 'split' makes several".into(),
        }),
    }
}

/// `route [NAME] { match { ... } [scope { ... }] [then { ... }] }` (what follows `announce
/// flow`), or ExaBGP's one-line form `route COMPONENT VALUE... ACTION [VALUE]...` (see
/// [`one_line_flow`]).
pub fn flow_from_text(text: &str) -> Result<FlowConfig, ConfigError> {
    let block;
    let text = if text.contains('{') {
        text
    } else {
        let rule = text.trim_start();
        let rule = rule.strip_prefix("route").unwrap_or(rule);
        block = one_line_flow(rule).map_err(|message| ConfigError {
            location: None,
            message,
        })?;
        &block
    };
    let tokens = tokens(&format!("{{ {text} }}"))?;
    let mut p = Parser::from_tokens(tokens, command_file());
    let mut flows = Vec::new();
    flow::parse_flow_block(&mut p, "the command", &mut flows)?;
    expect_end(&mut p)?;
    match flows.pop() {
        Some(f) if flows.is_empty() => Ok(f.flow),
        _ => Err(ConfigError {
            location: None,
            message: "expected exactly one flow route".into(),
        }),
    }
}

/// ExaBGP's aliases of the match keywords in the one-line form.
fn match_keyword(word: &str) -> Option<&str> {
    let word = match word {
        "source-ipv4" | "source-ipv6" => "source",
        "destination-ipv4" | "destination-ipv6" => "destination",
        other => other,
    };
    flow::MATCH_KEYWORDS.iter().copied().find(|k| *k == word)
}

/// The items of a one-line rule: words, and `[ ... ]` lists kept whole.
fn one_line_items(text: &str) -> Result<Vec<String>, String> {
    let mut items = Vec::new();
    let mut list: Option<String> = None;
    for word in text.split_whitespace() {
        match list.as_mut() {
            Some(l) => {
                l.push(' ');
                l.push_str(word);
            }
            None if word.starts_with('[') => list = Some(word.to_string()),
            None => items.push(word.trim_end_matches(';').to_string()),
        }
        if list.as_ref().is_some_and(|l| l.ends_with(']')) {
            items.extend(list.take());
        }
    }
    match list {
        Some(l) => Err(format!("flow: '[' without ']' in '{l}'")),
        None => Ok(items),
    }
}

/// ExaBGP's one-line rule (`announce flow route destination 192.0.2.1/32 discard`,
/// `announce ipv4 flow source 10.0.0.0/8 rate-limit 1000 interface-set [ ... ]`) written as
/// the block the configuration parser reads: each match keyword, action or `interface-set`
/// takes the words up to the next keyword, and goes to its block.
pub fn one_line_flow(text: &str) -> Result<String, String> {
    let items = one_line_items(text)?;
    let keyword = |w: &str| {
        match_keyword(w).is_some()
            || flow::THEN_KEYWORDS.contains(&w)
            || flow::SCOPE_KEYWORDS.contains(&w)
            || matches!(w, "rd" | "route-distinguisher")
    };
    let (mut matched, mut then, mut scope, mut route) =
        (String::new(), String::new(), String::new(), String::new());
    let mut i = 0;
    while let Some(word) = items.get(i) {
        i += 1;
        let mut values = Vec::new();
        while let Some(v) = items.get(i).filter(|v| !keyword(v)) {
            values.push(v.as_str());
            i += 1;
        }
        let statement = |name: &str| format!("{name} {}; ", values.join(" "));
        if let Some(k) = match_keyword(word) {
            matched.push_str(&statement(k));
        } else if flow::THEN_KEYWORDS.contains(&word.as_str()) {
            then.push_str(&statement(word));
        } else if flow::SCOPE_KEYWORDS.contains(&word.as_str()) {
            scope.push_str(&statement(word));
        } else if matches!(word.as_str(), "rd" | "route-distinguisher") {
            route.push_str(&statement(word));
        } else {
            return Err(format!(
                "flow: unknown word '{word}', expected a match component ({}), an action ({}) or interface-set",
                flow::MATCH_KEYWORDS.join(", "),
                flow::THEN_KEYWORDS.join(", ")
            ));
        }
    }
    if matched.is_empty() {
        return Err("flow: no match component (destination, source, protocol, ...)".into());
    }
    let mut block = format!("route {{ {route}match {{ {matched}}} ");
    if !scope.is_empty() {
        block.push_str(&format!("scope {{ {scope}}} "));
    }
    if !then.is_empty() {
        block.push_str(&format!("then {{ {then}}} "));
    }
    block.push('}');
    Ok(block)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_with_attributes() {
        let r = route_from_text("203.0.113.0/24 next-hop 192.0.2.1 med 5 community [ 65000:1 ]")
            .unwrap();
        assert_eq!(r.prefix.to_string(), "203.0.113.0/24");
        assert_eq!(
            r.attributes.get(crate::wire::attribute::type_code::MED),
            Some(&crate::wire::attribute::PathAttribute::Med(5))
        );
        let r = route_from_text("192.0.2.1 next-hop self;").unwrap();
        assert_eq!(r.prefix.to_string(), "192.0.2.1/32");
        let e = route_from_text("203.0.113.0/24 next-hop 192.0.2.1 colour red").unwrap_err();
        assert!(e.to_string().starts_with("command:1:"), "{e}");
        assert!(route_from_text("203.0.113.0/24 med 5").is_err());
    }

    #[test]
    fn api_routes_take_otc_as_the_configuration_does() {
        use crate::wire::attribute::{OTC_SELF, PathAttribute, type_code};
        let r = route_from_text("203.0.113.0/24 next-hop 192.0.2.1 otc 65123").unwrap();
        assert_eq!(
            r.attributes.get(type_code::OTC),
            Some(&PathAttribute::Otc(65123))
        );
        let r = route_from_text("203.0.113.0/24 next-hop 192.0.2.1 otc self").unwrap();
        assert_eq!(
            r.attributes.get(type_code::OTC),
            Some(&PathAttribute::Otc(OTC_SELF))
        );
        assert!(route_from_text("203.0.113.0/24 next-hop 192.0.2.1 otc none").is_err());
    }

    #[test]
    fn flows_with_and_without_then() {
        let f = flow_from_text(
            "route { match { source 198.51.100.1/32; destination-port =3128; protocol tcp; } then { rate-limit 0; } }",
        )
        .unwrap();
        assert_eq!(f.rule.components().len(), 3);
        assert!(flow_from_text("route { match { destination 198.51.100.0/24; } }").is_ok());
        assert!(flow_from_text("route { match { } }").is_err());
        let f =
            flow_from_text("route { path-information 1; match { destination 198.51.100.0/24; } }")
                .unwrap();
        assert_eq!(f.path_id, Some(1));
    }

    #[test]
    fn one_line_flows_are_the_block_forms() {
        let block = |t: &str| flow_from_text(t).unwrap();
        let same = |one: &str, full: &str| {
            let (a, b) = (block(one), block(full));
            assert_eq!((a.rule, a.attributes), (b.rule, b.attributes), "{one}");
        };
        same(
            "route destination 133.130.1.219/32 discard interface-set [ transitive:input:1234:10]",
            "route { match { destination 133.130.1.219/32; } scope { interface-set [ transitive:input:1234:10 ]; } then { discard; } }",
        );
        same(
            "route source 10.0.0.0/8 destination-port =80 =8080 protocol [ tcp udp ] rate-limit 1000",
            "route { match { source 10.0.0.0/8; destination-port [ =80 =8080 ]; protocol [ tcp udp ]; } then { rate-limit 1000; } }",
        );
        same(
            "source-ipv6 2001:db8::/32 discard",
            "route { match { source 2001:db8::/32; } then { discard; } }",
        );
        // Malformed lines say what is wrong.
        for bad in [
            "route destination 192.0.2.1/32 discard colour red",
            "route discard",
            "route destination 192.0.2.1/32 interface-set [ transitive:input:1:1",
            "route destination 192.0.2.1/32 interface-set [ sideways:input:1:1 ]",
            "route destination 192.0.2.1/32 interface-set [ transitive:input:1:16384 ]",
            "route destination",
        ] {
            let e = flow_from_text(bad).unwrap_err().to_string();
            assert!(!e.is_empty(), "{bad}");
        }
        let e = flow_from_text("route destination 192.0.2.1/32 discard colour red")
            .unwrap_err()
            .to_string();
        assert!(e.contains("'colour'"), "{e}");
    }

    #[test]
    fn scope_interface_sets_are_sorted_with_the_actions_as_exabgp_sends_them() {
        let f = flow_from_text(
            "route { match { source 202.255.238.1/32; } scope { interface-set [ non-transitive:input:3405770241:1 transitive:output:254:254 ]; } then { discard; } }",
        )
        .unwrap();
        let Some(crate::wire::attribute::PathAttribute::ExtendedCommunities(v)) = f
            .attributes
            .get(crate::wire::attribute::type_code::EXTENDED_COMMUNITIES)
        else {
            panic!("no extended communities");
        };
        let hex: Vec<String> = v
            .iter()
            .map(|c| c.0.iter().map(|b| format!("{b:02X}")).collect())
            .collect();
        assert_eq!(
            hex,
            ["0702000000FE80FE", "4702CAFFEE014001", "8006000000000000"]
        );
        assert!(
            flow_from_text("route { match { source 10.0.0.1/32; } scope { colour red; } }")
                .is_err()
        );
    }

    #[test]
    fn flow_vpn_rules_take_an_rd_and_a_route_level_next_hop() {
        let f = flow_from_text(
            "route { rd 65535:65536; next-hop 192.0.2.8; match { source 10.0.0.3/32; } then { redirect-to-nexthop; } }",
        )
        .unwrap();
        assert_eq!(
            f.rule.rd().map(|rd| rd.to_string()).as_deref(),
            Some("65535:65536")
        );
        assert_eq!(f.rule.family().to_string(), "ipv4 flow-vpn");
        let e =
            flow_from_text("route { rd 1:1; rd 1:2; match { source 10.0.0.3/32; } }").unwrap_err();
        assert!(e.to_string().contains("rd"), "{e}");
        assert!(flow_from_text("route { rd nonsense; match { source 10.0.0.3/32; } }").is_err());
        // A flow-vpn rule for a neighbor whose family block lists only plain FlowSpec is
        // refused at the rule's name, not sent as FlowSpec without its RD.
        let e = crate::config::parse_str(
            "neighbor 127.0.0.1 { router-id 1.2.3.4; local-address 127.0.0.1; local-as 1; peer-as 1;\n family { ipv4 flow; }\n flow { route vpn1 { rd 65000:1; match { source 10.0.0.3/32; } then { discard; } } } }",
            std::path::Path::new("t.conf"),
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.starts_with("t.conf:3:") && e.contains("ipv4 flow-vpn"),
            "{e}"
        );
    }
}
