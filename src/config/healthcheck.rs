//! `healthcheck NAME { ... }` at top level: routes announced while a command succeeds, in the
//! spirit of ExaBGP's healthcheck.py (`--command`, `--interval`, `--timeout`, `--rise`,
//! `--fall`, `--disable`, `--withdraw-on-down`, `--down-metric`).
//!
//! ```text
//! healthcheck web {
//!     command "test -e /run/web.ok";    # run with /bin/sh -c; exit status 0 = success
//!     interval 5; timeout 2; rise 3; fall 3;
//!     disable-file /etc/bgpinject/web.disabled;   # while it exists: down, without checking
//!     neighbor [ 192.0.2.1 ];           # default: every neighbor
//!     route 203.0.113.10/32 next-hop self;
//!     on-down withdraw;                 # or: on-down { med 1000; community [ 65000:666 ]; }
//! }
//! ```

use std::net::IpAddr;
use std::path::PathBuf;

use crate::rib::attributes::RouteAttributes;

use super::ConfigError;
use super::lexer::{Token, TokenKind};
use super::model::{Location, NeighborConfig, RouteConfig};
use super::parser::{Parser, Setting, one_of};

/// The statements of a `healthcheck NAME { }` block.
pub const KEYWORDS: &[&str] = &[
    "command",
    "interval",
    "timeout",
    "rise",
    "fall",
    "disable-file",
    "neighbor",
    "route",
    "on-down",
];
use super::route;
use super::values;

/// healthcheck.py's defaults.
const DEFAULT_INTERVAL: u32 = 5;
const DEFAULT_TIMEOUT: u32 = 5;
const DEFAULT_RISE: u32 = 3;
const DEFAULT_FALL: u32 = 3;

/// What the routes become while the check is down.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OnDown {
    Withdraw,
    /// Announced with these attributes replacing the route's own (`keywords` lists which).
    Attributes {
        keywords: Vec<String>,
        values: Box<RouteAttributes>,
    },
}

impl OnDown {
    /// The attributes of a route while down, `None` when it is withdrawn.
    pub fn apply(&self, up: &RouteAttributes) -> Option<RouteAttributes> {
        let OnDown::Attributes { keywords, values } = self else {
            return None;
        };
        let mut a = up.clone();
        for k in keywords {
            if k == "next-hop" {
                a.next_hop = values.next_hop;
                continue;
            }
            // `attribute [ CODE FLAGS VALUE ]` replaces the attributes of the codes it gave.
            let codes: Vec<u8> = match crate::wire::attribute::by_keyword(k) {
                Some(row) => vec![row.code],
                None if k == "attribute" => values
                    .values()
                    .iter()
                    .map(|v| v.code())
                    .filter(|c| crate::wire::attribute::info(*c).is_none())
                    .collect(),
                None => Vec::new(),
            };
            for code in codes {
                match values.get(code) {
                    Some(v) => a.set(v.clone()),
                    None => a.remove(code),
                }
            }
        }
        Some(a)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HealthcheckConfig {
    pub name: String,
    /// Run with `/bin/sh -c`.
    pub command: String,
    pub interval_seconds: u32,
    pub timeout_seconds: u32,
    pub rise: u32,
    pub fall: u32,
    pub disable_file: Option<PathBuf>,
    /// Empty: every neighbor.
    pub neighbors: Vec<IpAddr>,
    pub routes: Vec<RouteConfig>,
    pub on_down: OnDown,
    pub location: Location,
}

#[derive(Default)]
struct Settings {
    command: Setting<String>,
    interval: Setting<u32>,
    timeout: Setting<u32>,
    rise: Setting<u32>,
    fall: Setting<u32>,
    disable_file: Setting<PathBuf>,
    neighbors: Setting<Vec<IpAddr>>,
    on_down: Setting<OnDown>,
}

fn positive(text: &str) -> Result<u32, values::ValueError> {
    values::number_in(text, 1, 86_400, "1..86400").map(|n| n as u32)
}

/// Parses from just after `healthcheck` to the block's `}`.
pub(super) fn parse_healthcheck(
    p: &mut Parser,
    keyword: &Token,
    earlier: &[HealthcheckConfig],
) -> Result<HealthcheckConfig, ConfigError> {
    let (name, block, open) = p.named_block(
        "healthcheck",
        earlier.iter().map(|e| (e.name.as_str(), e.location.line)),
    )?;
    let mut s = Settings::default();
    let mut routes: Vec<RouteConfig> = Vec::new();
    while let Some(kw) = p.block_keyword(&open, &block)? {
        match kw.text.as_str() {
            "command" => {
                let t = p.advance();
                if !matches!(t.kind, TokenKind::Quoted | TokenKind::Word) {
                    return Err(p.unexpected(&t, "a quoted command after command"));
                }
                s.command.set(p, &kw, &block, t.text)?;
            }
            "interval" => {
                let (v, _) = p.value("interval", positive)?;
                s.interval.set(p, &kw, &block, v)?;
            }
            "timeout" => {
                let (v, _) = p.value("timeout", positive)?;
                s.timeout.set(p, &kw, &block, v)?;
            }
            "rise" => {
                let (v, _) = p.value("rise", positive)?;
                s.rise.set(p, &kw, &block, v)?;
            }
            "fall" => {
                let (v, _) = p.value("fall", positive)?;
                s.fall.set(p, &kw, &block, v)?;
            }
            "disable-file" => {
                let t = p.advance();
                if !matches!(t.kind, TokenKind::Quoted | TokenKind::Word) {
                    return Err(p.unexpected(&t, "a path after disable-file"));
                }
                s.disable_file.set(p, &kw, &block, PathBuf::from(t.text))?;
            }
            "neighbor" => {
                let mut list = Vec::new();
                for t in p.word_or_list("neighbor")? {
                    let a =
                        values::ip_address(&t.text).map_err(|e| p.bad_value("neighbor", &t, e))?;
                    list.push(a);
                }
                s.neighbors.set(p, &kw, &block, list)?;
            }
            "route" => {
                let parsed = route::parse_route(p, &kw)?;
                if routes.iter().any(|r| r.prefix == parsed.route.prefix) {
                    return Err(p.error_at(
                        parsed.prefix_at,
                        format!("duplicate route {} in {block}", parsed.route.prefix),
                    ));
                }
                routes.push(parsed.route);
                continue;
            }
            "on-down" => {
                let on_down = parse_on_down(p)?;
                let braces = matches!(on_down, OnDown::Attributes { .. });
                s.on_down.set(p, &kw, &block, on_down)?;
                if braces {
                    continue;
                }
            }
            _ => return Err(p.unknown_keyword(&kw, &block, &one_of(KEYWORDS))),
        }
        p.expect_semicolon(&format!("{} value", kw.text))?;
    }
    let Some(command) = s.command.take() else {
        return Err(p.error_at(
            keyword.position,
            format!("{block} has no command, expected 'command \"...\";'"),
        ));
    };
    if routes.is_empty() {
        return Err(p.error_at(
            keyword.position,
            format!("{block} has no route, expected 'route PREFIX next-hop ...;'"),
        ));
    }
    Ok(HealthcheckConfig {
        name,
        command,
        interval_seconds: s.interval.take().unwrap_or(DEFAULT_INTERVAL),
        timeout_seconds: s.timeout.take().unwrap_or(DEFAULT_TIMEOUT),
        rise: s.rise.take().unwrap_or(DEFAULT_RISE),
        fall: s.fall.take().unwrap_or(DEFAULT_FALL),
        disable_file: s.disable_file.take(),
        neighbors: s.neighbors.take().unwrap_or_default(),
        routes,
        on_down: s.on_down.take().unwrap_or(OnDown::Withdraw),
        location: p.location(keyword.position),
    })
}

/// `withdraw` or `{ ATTRIBUTE VALUE; ... }` (the route attribute syntax), from after `on-down`.
fn parse_on_down(p: &mut Parser) -> Result<OnDown, ConfigError> {
    if p.peek().kind != TokenKind::OpenBrace {
        let t = p.expect_word("withdraw or '{' after on-down")?;
        return match t.text.as_str() {
            "withdraw" => Ok(OnDown::Withdraw),
            _ => Err(p.unexpected(&t, "withdraw or '{' after on-down")),
        };
    }
    // The block is parsed as the attribute block of a route whose next hop is a placeholder,
    // so it accepts exactly what a route accepts; `keywords` records what it sets.
    let open = p.advance();
    let mut tokens = vec![
        word("route", &open),
        word("192.0.2.0/32", &open),
        open.clone(),
    ];
    let mut keywords = Vec::new();
    let mut depth = 1;
    let mut statement_start = true;
    while depth > 0 {
        let t = p.advance();
        match t.kind {
            TokenKind::EndOfFile => {
                return Err(p.error_at(open.position, "unterminated on-down block"));
            }
            TokenKind::OpenBrace => depth += 1,
            TokenKind::CloseBrace => depth -= 1,
            _ => {}
        }
        if depth == 0 {
            break;
        }
        if statement_start && t.kind == TokenKind::Word {
            keywords.push(t.text.clone());
        }
        statement_start = t.kind == TokenKind::Semicolon;
        tokens.push(t);
    }
    let close = Token {
        kind: TokenKind::CloseBrace,
        text: "}".into(),
        position: open.position,
    };
    if !keywords.iter().any(|k| k == "next-hop") {
        tokens.push(word("next-hop", &open));
        tokens.push(word("self", &open));
        tokens.push(Token {
            kind: TokenKind::Semicolon,
            text: ";".into(),
            position: open.position,
        });
    }
    tokens.push(close);
    tokens.push(Token {
        kind: TokenKind::EndOfFile,
        text: String::new(),
        position: open.position,
    });
    let mut sub = p.sub_parser(tokens);
    let kw = sub.advance();
    let parsed = route::parse_route(&mut sub, &kw)?;
    Ok(OnDown::Attributes {
        keywords,
        values: Box::new((*parsed.route.attributes).clone()),
    })
}

fn word(text: &str, at: &Token) -> Token {
    Token {
        kind: TokenKind::Word,
        text: text.into(),
        position: at.position,
    }
}

/// Every neighbor a healthcheck names must be configured.
pub(super) fn check_references(
    neighbors: &[NeighborConfig],
    checks: &[HealthcheckConfig],
) -> Result<(), ConfigError> {
    for c in checks {
        for a in &c.neighbors {
            if !neighbors.iter().any(|n| n.peer_address == *a) {
                return Err(ConfigError {
                    location: Some(c.location.clone()),
                    message: format!(
                        "healthcheck {} names neighbor {a}, which is not configured",
                        c.name
                    ),
                });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::config::parse_str;

    #[test]
    fn healthcheck_block_with_down_attributes() {
        let text = "healthcheck web { command \"test -e /tmp/x\"; interval 1; rise 2; fall 1; disable-file /tmp/d;\n route 203.0.113.1/32 next-hop 192.0.2.1 med 5;\n on-down { med 1000; community [ 65000:666 ]; } }";
        let c = parse_str(text, Path::new("t.conf")).unwrap();
        let h = &c.healthchecks[0];
        assert_eq!(
            (h.interval_seconds, h.timeout_seconds, h.rise, h.fall),
            (1, 5, 2, 1)
        );
        let up = &h.routes[0].attributes;
        let down = h.on_down.apply(up).unwrap();
        assert_eq!(
            down.get(crate::wire::attribute::type_code::MED),
            Some(&crate::wire::attribute::PathAttribute::Med(1000))
        );
        assert_eq!(down.next_hop, up.next_hop);
        assert_eq!(down.communities().len(), 1);
    }

    #[test]
    fn defaults_and_errors() {
        let c = parse_str(
            "healthcheck a { command x; route 203.0.113.1/32 next-hop self; }",
            Path::new("t.conf"),
        )
        .unwrap();
        assert_eq!(c.healthchecks[0].on_down, OnDown::Withdraw);
        assert_eq!(c.healthchecks[0].rise, 3);
        let e = parse_str("healthcheck a { command x; }", Path::new("t.conf"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("has no route"), "{e}");
        let e = parse_str(
            "healthcheck a { command x; route 203.0.113.1/32 next-hop self; on-down { colour red; } }",
            Path::new("t.conf"),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("unknown route attribute 'colour'"), "{e}");
    }
}
