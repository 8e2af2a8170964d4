//! `route PREFIX ATTRIBUTE...;` and `route PREFIX { ATTRIBUTE; ... }`: a prefix and its
//! path attributes.

use std::net::IpAddr;

use crate::rib::attributes::{Aggregator, NextHop, Origin, RouteAttributes};
use crate::wire::aspath::{AsPath, AsSegment, SegmentType};
use crate::wire::community::{Community, ExtendedCommunity, LargeCommunity};
use crate::wire::prefix::Prefix;

use super::ConfigError;
use super::communities;
use super::lexer::{Position, Token, TokenKind};
use super::model::RouteConfig;
use super::parser::{Parser, Setting};
use super::values::{self, ValueError};

/// A parsed route and where its prefix was written (for errors found later, such as a
/// duplicate or a family the neighbor does not negotiate).
pub(super) struct ParsedRoute {
    pub route: RouteConfig,
    pub prefix_at: Position,
}

const ATTRIBUTE_NAMES: &str = "next-hop, origin, as-path, med, local-preference, community, extended-community, large-community, atomic-aggregate or aggregator";

/// The attributes given so far; each may be given once.
#[derive(Default)]
struct AttributeSettings {
    next_hop: Setting<NextHop>,
    origin: Setting<Origin>,
    as_path: Setting<AsPath>,
    med: Setting<u32>,
    local_pref: Setting<u32>,
    communities: Setting<Vec<Community>>,
    extended_communities: Setting<Vec<ExtendedCommunity>>,
    large_communities: Setting<Vec<LargeCommunity>>,
    atomic_aggregate: Setting<()>,
    aggregator: Setting<Aggregator>,
}

/// Parses from just after the `route` keyword to the closing `;` or `}`.
pub(super) fn parse_route(p: &mut Parser, keyword: &Token) -> Result<ParsedRoute, ConfigError> {
    let (prefix, prefix_token) = p.value("route", values::prefix)?;
    let name = format!("route {prefix}");
    let mut a = AttributeSettings::default();
    if p.peek().kind == TokenKind::OpenBrace {
        let open = p.advance();
        while let Some(kw) = p.block_keyword(&open, &name)? {
            parse_attribute(p, &kw, prefix, &name, &mut a)?;
            p.expect_semicolon(&format!("{} value", kw.text))?;
        }
    } else {
        loop {
            let token = p.advance();
            match token.kind {
                TokenKind::Semicolon => break,
                TokenKind::Word => parse_attribute(p, &token, prefix, &name, &mut a)?,
                _ => {
                    return Err(
                        p.unexpected(&token, &format!("a route attribute or ';' to end {name}"))
                    );
                }
            }
        }
    }
    let Some(next_hop) = a.next_hop.take() else {
        return Err(p.error_at(
            prefix_token.position,
            format!("{name} has no next-hop, expected 'next-hop ADDRESS' or 'next-hop self'"),
        ));
    };
    let attributes = RouteAttributes {
        next_hop,
        origin: a.origin.take().unwrap_or_default(),
        as_path: a.as_path.take(),
        med: a.med.take(),
        local_pref: a.local_pref.take(),
        communities: a.communities.take().unwrap_or_default(),
        extended_communities: a.extended_communities.take().unwrap_or_default(),
        large_communities: a.large_communities.take().unwrap_or_default(),
        atomic_aggregate: a.atomic_aggregate.take().is_some(),
        aggregator: a.aggregator.take(),
    };
    Ok(ParsedRoute {
        route: RouteConfig {
            prefix,
            attributes,
            location: p.location(keyword.position),
        },
        prefix_at: prefix_token.position,
    })
}

/// One attribute and its value(s), without the terminating `;`.
fn parse_attribute(
    p: &mut Parser,
    kw: &Token,
    prefix: Prefix,
    name: &str,
    a: &mut AttributeSettings,
) -> Result<(), ConfigError> {
    match kw.text.as_str() {
        "next-hop" => {
            let next_hop = parse_next_hop(p, prefix)?;
            a.next_hop.set(p, kw, name, next_hop)
        }
        "origin" => {
            let (origin, _) = p.value("origin", origin)?;
            a.origin.set(p, kw, name, origin)
        }
        "as-path" => {
            let path = parse_as_path(p)?;
            a.as_path.set(p, kw, name, path)
        }
        "med" => {
            let (med, _) = p.value("med", values::u32_value)?;
            a.med.set(p, kw, name, med)
        }
        "local-preference" => {
            let (pref, _) = p.value("local-preference", values::u32_value)?;
            a.local_pref.set(p, kw, name, pref)
        }
        "community" => {
            let list = parse_list(p, "community", communities::community)?;
            a.communities.set(p, kw, name, list)
        }
        "extended-community" => {
            let list = parse_list(p, "extended-community", communities::extended_community)?;
            a.extended_communities.set(p, kw, name, list)
        }
        "large-community" => {
            let list = parse_list(p, "large-community", communities::large_community)?;
            a.large_communities.set(p, kw, name, list)
        }
        "atomic-aggregate" => a.atomic_aggregate.set(p, kw, name, ()),
        "aggregator" => {
            let aggregator = parse_aggregator(p)?;
            a.aggregator.set(p, kw, name, aggregator)
        }
        other => Err(p.error_at(
            kw.position,
            format!("unknown route attribute '{other}' in {name}, expected {ATTRIBUTE_NAMES}"),
        )),
    }
}

fn origin(text: &str) -> Result<Origin, ValueError> {
    match text {
        "igp" => Ok(Origin::Igp),
        "egp" => Ok(Origin::Egp),
        "incomplete" => Ok(Origin::Incomplete),
        _ => Err(ValueError::Malformed {
            expected: "igp, egp or incomplete",
        }),
    }
}

/// `self`, or a unicast address of the prefix's family.
fn parse_next_hop(p: &mut Parser, prefix: Prefix) -> Result<NextHop, ConfigError> {
    let token = p.expect_word("an address or 'self' after next-hop")?;
    if token.text == "self" {
        return Ok(NextHop::SelfAddress);
    }
    let address =
        values::ip_address(&token.text).map_err(|e| p.bad_value("next-hop", &token, e))?;
    if address.is_ipv4() != prefix.addr().is_ipv4() {
        let version = |ipv4: bool| if ipv4 { "IPv4" } else { "IPv6" };
        return Err(p.error_at(
            token.position,
            format!(
                "next-hop {address} is {} but route {prefix} is {}: expected a next hop of the route's family",
                version(address.is_ipv4()),
                version(prefix.addr().is_ipv4())
            ),
        ));
    }
    let refused = match address {
        IpAddr::V4(a) => a.is_unspecified() || a.is_multicast() || a.is_broadcast(),
        IpAddr::V6(a) => a.is_unspecified() || a.is_multicast(),
    };
    if refused {
        return Err(p.error_at(
            token.position,
            format!(
                "next-hop {address} is not a unicast address, expected a unicast address or 'self'"
            ),
        ));
    }
    if let IpAddr::V6(a) = address
        && a.is_unicast_link_local()
    {
        return Err(p.error_at(
            token.position,
            format!(
                "next-hop {address} is link-local, expected the global IPv6 address of the next hop"
            ),
        ));
    }
    Ok(NextHop::Address {
        global: address,
        link_local: None,
    })
}

/// One value or `[ v1 v2 ... ]`, each parsed by `parse`.
fn parse_list<T>(
    p: &mut Parser,
    statement: &str,
    parse: impl Fn(&str) -> Result<T, ValueError>,
) -> Result<Vec<T>, ConfigError> {
    p.word_or_list(statement)?
        .iter()
        .map(|token| parse(&token.text).map_err(|e| p.bad_value(statement, token, e)))
        .collect()
}

/// `as-path ASN` or `as-path [ ASN ... ( ASN ... ) ... ]`, where `( )` is an AS_SET.
fn parse_as_path(p: &mut Parser) -> Result<AsPath, ConfigError> {
    let open = p.advance();
    match open.kind {
        TokenKind::Word => {
            let asn = values::asn(&open.text).map_err(|e| p.bad_value("as-path", &open, e))?;
            return Ok(AsPath::sequence(vec![asn]));
        }
        TokenKind::OpenBracket => {}
        _ => return Err(p.unexpected(&open, "an ASN or '[' after as-path")),
    }
    let mut segments: Vec<AsSegment> = Vec::new();
    let mut set: Option<(Vec<u32>, Token)> = None;
    loop {
        let token = p.advance();
        match token.kind {
            TokenKind::Word => {
                let asn =
                    values::asn(&token.text).map_err(|e| p.bad_value("as-path", &token, e))?;
                match &mut set {
                    Some((asns, _)) => asns.push(asn),
                    None => match segments.last_mut() {
                        Some(seg) if seg.kind == SegmentType::Sequence => seg.asns.push(asn),
                        _ => segments.push(AsSegment {
                            kind: SegmentType::Sequence,
                            asns: vec![asn],
                        }),
                    },
                }
            }
            TokenKind::OpenParen if set.is_none() => set = Some((Vec::new(), token)),
            TokenKind::CloseParen if set.is_some() => {
                if let Some((asns, opened)) = set.take() {
                    if asns.is_empty() {
                        return Err(p.error_at(
                            opened.position,
                            "empty AS_SET in as-path, expected at least one ASN between '(' and ')'",
                        ));
                    }
                    segments.push(AsSegment {
                        kind: SegmentType::Set,
                        asns,
                    });
                }
            }
            TokenKind::CloseBracket if set.is_none() => return Ok(AsPath { segments }),
            TokenKind::EndOfFile => {
                return Err(p.error_at(
                    open.position,
                    "unterminated as-path: the '[' is never closed, expected ']' before end of file",
                ));
            }
            _ if set.is_some() => {
                return Err(p.unexpected(&token, "an ASN or ')' in the AS_SET of as-path"));
            }
            _ => return Err(p.unexpected(&token, "an ASN, '(' or ']' in as-path")),
        }
    }
}

/// `aggregator ASN:ADDRESS` or `aggregator ( ASN:ADDRESS )`.
fn parse_aggregator(p: &mut Parser) -> Result<Aggregator, ConfigError> {
    let parenthesised = p.peek().kind == TokenKind::OpenParen;
    if parenthesised {
        p.advance();
    }
    let (aggregator, _) = p.value("aggregator", communities::aggregator)?;
    if parenthesised {
        let close = p.advance();
        if close.kind != TokenKind::CloseParen {
            return Err(p.unexpected(&close, "')' after the aggregator value"));
        }
    }
    Ok(aggregator)
}
