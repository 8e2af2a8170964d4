//! `flow { route NAME { match { ... } then { ... } } }`: FlowSpec rules in ExaBGP's syntax.
//!
//! The match block gives the components of the rule (RFC 8955/8956), the then block its
//! actions, which become extended communities (and, for a redirect to an IP, the next hop).

use std::collections::HashMap;
use std::net::IpAddr;

use crate::rib::attributes::{NextHop, RouteAttributes};
use crate::wire::attribute::PathAttribute;
use crate::wire::community::{Community, ExtendedCommunity, LargeCommunity};
use crate::wire::family::Afi;
use crate::wire::flowspec::action::FlowAction;
use crate::wire::flowspec::{
    BitmaskOp, FRAGMENT_NAMES, FlowComponent, FlowPrefix, FlowRule, ICMP_CODE_NAMES,
    ICMP_TYPE_NAMES, NumericOp, PROTOCOL_NAMES, TCP_FLAG_NAMES, value_by_name,
};
use crate::wire::labeled::RouteDistinguisher;

use super::ConfigError;
use super::communities;
use super::lexer::{Position, Token, TokenKind};
use super::model::FlowConfig;
use super::parser::{Parser, Setting, one_of};
use super::values;

/// A parsed rule and where its name was written (for duplicates found later).
pub(super) struct ParsedFlow {
    pub flow: FlowConfig,
    pub name_at: Position,
}

/// The statements of a `flow { }` block and of one `route NAME { }` in it.
pub const KEYWORDS: &[&str] = &["route"];
/// `rd` (and ExaBGP's `route-distinguisher`) makes the rule FlowSpec VPN (RFC 8955 §8);
/// `next-hop` here is the then block's (ExaBGP writes it in either place).
/// `scope { interface-set [ ... ]; }` limits the rule to interfaces (ExaBGP's block for
/// draft-ietf-idr-flowspec-interfaceset).
pub const ROUTE_KEYWORDS: &[&str] = &[
    "match",
    "scope",
    "then",
    "rd",
    "route-distinguisher",
    "next-hop",
    "path-information",
];
/// The statements of a `scope { }` block.
pub const SCOPE_KEYWORDS: &[&str] = &["interface-set"];
/// The components of a `match { }` block.
pub const MATCH_KEYWORDS: &[&str] = &[
    "destination",
    "source",
    "protocol",
    "next-header",
    "port",
    "destination-port",
    "source-port",
    "icmp-type",
    "icmp-code",
    "tcp-flags",
    "packet-length",
    "dscp",
    "traffic-class",
    "fragment",
    "flow-label",
    "source-ipv4",
    "destination-ipv4",
    "source-ipv6",
    "destination-ipv6",
];
/// The actions of a `then { }` block.
pub const THEN_KEYWORDS: &[&str] = &[
    "accept",
    "discard",
    "rate-limit",
    "redirect",
    "copy",
    "redirect-to-nexthop",
    "redirect-to-nexthop-ietf",
    "next-hop",
    "mark",
    "action",
    "community",
    "extended-community",
    "large-community",
];

/// How a numeric component's values are named and bounded.
struct NumericField {
    max: u64,
    range: &'static str,
    names: &'static [(&'static str, u64)],
}

const PROTOCOL: NumericField = NumericField {
    max: 255,
    range: "0..255",
    names: PROTOCOL_NAMES,
};
const PORT: NumericField = NumericField {
    max: 65535,
    range: "0..65535",
    names: &[],
};
const ICMP_TYPE: NumericField = NumericField {
    max: 255,
    range: "0..255",
    names: ICMP_TYPE_NAMES,
};
const ICMP_CODE: NumericField = NumericField {
    max: 255,
    range: "0..255",
    names: ICMP_CODE_NAMES,
};
const PACKET_LENGTH: NumericField = NumericField {
    max: 65535,
    range: "0..65535",
    names: &[],
};
/// RFC 2474: the 6-bit DSCP.
const DSCP: NumericField = NumericField {
    max: 63,
    range: "0..63",
    names: &[],
};
/// RFC 8956 §3.6 (type 11 in an IPv6 rule): the IPv6 header's 8-bit Traffic Class field, as
/// ExaBGP reads `traffic-class` (its conf-flow test matches 101).
const TRAFFIC_CLASS: NumericField = NumericField {
    max: 255,
    range: "0..255",
    names: &[],
};
/// RFC 8956 §3.7: the 20-bit flow label.
const FLOW_LABEL: NumericField = NumericField {
    max: 0xF_FFFF,
    range: "0..1048575",
    names: &[],
};

/// Parses from just after `flow` to the block's `}`; rules append to `flows`.
pub(super) fn parse_flow_block(
    p: &mut Parser,
    owner: &str,
    flows: &mut Vec<ParsedFlow>,
) -> Result<(), ConfigError> {
    let block = format!("the flow block of {owner}");
    let open = p.open_block("flow")?;
    while let Some(kw) = p.block_keyword(&open, &block)? {
        if !KEYWORDS.contains(&kw.text.as_str()) {
            return Err(p.error_at(
                kw.position,
                format!(
                    "unknown keyword '{}' in {block}, expected {}",
                    kw.text,
                    one_of(KEYWORDS)
                ),
            ));
        }
        let parsed = parse_flow_route(p, &kw)?;
        // The same rule twice: the later replaces the earlier, as in ExaBGP (whose table is
        // keyed by the NLRI) and as for a prefix configured twice.
        if let Some(k) = flows
            .iter()
            .position(|f| f.flow.rule == parsed.flow.rule && f.flow.path_id == parsed.flow.path_id)
        {
            p.note(
                parsed.name_at,
                None,
                format!(
                    "flow route '{}' in {owner} has the same match as the flow route at line {}: this later one replaces it, as in ExaBGP",
                    parsed.flow.name, flows[k].flow.location.line
                ),
            );
            flows.remove(k);
        }
        flows.push(parsed);
    }
    Ok(())
}

/// `route [NAME] { match { ... } then { ... } }`, from just after `route`.
fn parse_flow_route(p: &mut Parser, keyword: &Token) -> Result<ParsedFlow, ConfigError> {
    let (name, name_at) = if p.peek().kind == TokenKind::Word {
        let t = p.advance();
        (t.text, t.position)
    } else {
        (
            format!("at line {}", keyword.position.line),
            keyword.position,
        )
    };
    let title = format!("flow route {name}");
    let open = p.open_block(&title)?;
    let mut matched: Setting<(FlowRule, Vec<Token>)> = Setting::default();
    let mut then: Setting<Then> = Setting::default();
    let mut scope: Setting<Vec<ExtendedCommunity>> = Setting::default();
    let mut rd: Setting<RouteDistinguisher> = Setting::default();
    let mut next_hop: Setting<(IpAddr, Token)> = Setting::default();
    let mut path_id: Setting<u32> = Setting::default();
    while let Some(kw) = p.block_keyword(&open, &title)? {
        match kw.text.as_str() {
            "rd" | "route-distinguisher" => {
                let (value, _) = p.value(&kw.text, super::labels::rd)?;
                rd.set(p, &kw, &title, value)?;
                p.expect_semicolon(&kw.text)?;
            }
            "path-information" => {
                let (id, _) = p.value(&kw.text, super::labels::path_id)?;
                path_id.set(p, &kw, &title, id)?;
                p.expect_semicolon(&kw.text)?;
            }
            "next-hop" => {
                let (address, token) = p.value("next-hop", values::ip_address)?;
                next_hop.set(p, &kw, &title, (address, token))?;
                p.expect_semicolon(&kw.text)?;
            }
            "match" => {
                let m = parse_match(p, &kw, &title)?;
                matched.set(p, &kw, &title, m)?;
            }
            "then" => {
                let t = parse_then(p, &title)?;
                then.set(p, &kw, &title, t)?;
            }
            "scope" => {
                let s = parse_scope(p, &title)?;
                scope.set(p, &kw, &title, s)?;
            }
            _ => return Err(p.unknown_keyword(&kw, &title, &one_of(ROUTE_KEYWORDS))),
        }
    }
    let Some((rule, _)) = matched.take() else {
        return Err(p.error_at(
            name_at,
            format!("{title} has no match block, expected 'match {{ ... }}'"),
        ));
    };
    let rule = match rd.take() {
        None => rule,
        Some(rd) => rule
            .with_rd(Some(rd))
            .map_err(|e| p.error_at(name_at, format!("{title}: {e}")))?,
    };
    let mut then = then.take().unwrap_or_default();
    then.scope = scope.take().unwrap_or_default();
    if let Some((address, token)) = next_hop.take() {
        if let Some((_, first)) = &then.next_hop {
            return Err(p.error_at(
                token.position,
                format!(
                    "{title}: 'next-hop' given in the route and in its then block (line {})",
                    first.position.line
                ),
            ));
        }
        then.next_hop = Some((address, token));
    }
    let attributes = then.attributes(p, &rule, &title)?;
    Ok(ParsedFlow {
        flow: FlowConfig {
            name,
            rule,
            attributes,
            path_id: path_id.take(),
            location: p.location(keyword.position),
            api_text: None,
        },
        name_at,
    })
}

/// The match block: components, the rule's family, and the checks between components.
fn parse_match(
    p: &mut Parser,
    kw: &Token,
    title: &str,
) -> Result<(FlowRule, Vec<Token>), ConfigError> {
    let block = format!("the match block of {title}");
    let open = p.open_block("match")?;
    let mut components: Vec<FlowComponent> = Vec::new();
    let mut seen: HashMap<u8, Position> = HashMap::new();
    // The family and the token that decided it.
    let mut family: Option<(Afi, Token)> = None;
    let mut tokens = Vec::new();
    while let Some(key) = p.block_keyword(&open, &block)? {
        let component = parse_component(p, &key, &block, &mut family)?;
        if let Some(first) = seen.insert(component.type_code(), key.position) {
            return Err(p.error_at(
                key.position,
                format!(
                    "duplicate component '{}' in {block} (first at line {}, column {}): a rule may match each field once",
                    key.text, first.line, first.column
                ),
            ));
        }
        components.push(component);
        tokens.push(key);
        p.expect_semicolon(&format!("{} value", tokens.last().map_or("", |t| &t.text)))?;
    }
    if components.is_empty() {
        return Err(p.error_at(
            kw.position,
            format!(
                "empty match block in {title}, expected at least one component ({})",
                one_of(MATCH_KEYWORDS)
            ),
        ));
    }
    let afi = family.map_or(Afi::Ipv4, |(a, _)| a);
    let rule = FlowRule::new(afi, components)
        .map_err(|e| p.error_at(kw.position, format!("{title}: {e}")))?;
    Ok((rule, tokens))
}

/// Notes that `token` needs family `afi`; refuses a rule that mixes IPv4 and IPv6.
fn require_family(
    p: &Parser,
    family: &mut Option<(Afi, Token)>,
    afi: Afi,
    token: &Token,
    block: &str,
) -> Result<(), ConfigError> {
    match family {
        Some((a, first)) if *a != afi => {
            let name = |a: Afi| if a == Afi::Ipv4 { "IPv4" } else { "IPv6" };
            Err(p.error_at(
                token.position,
                format!(
                    "'{}' is {} but {block} is {} since '{}' at line {}, column {}: a rule matches one family",
                    token.text,
                    name(afi),
                    name(*a),
                    first.text,
                    first.position.line,
                    first.position.column
                ),
            ))
        }
        Some(_) => Ok(()),
        None => {
            *family = Some((afi, token.clone()));
            Ok(())
        }
    }
}

fn parse_component(
    p: &mut Parser,
    key: &Token,
    block: &str,
    family: &mut Option<(Afi, Token)>,
) -> Result<FlowComponent, ConfigError> {
    let numeric = |p: &mut Parser, field: &NumericField| -> Result<Vec<NumericOp>, ConfigError> {
        let mut tokens = p.word_or_list(&key.text)?;
        // The original injector's OR'ed terms without brackets: `port =80 =8080;`.
        if tokens.len() == 1 {
            while p.peek().kind == super::lexer::TokenKind::Word {
                tokens.push(p.advance());
            }
        }
        let mut ops = Vec::new();
        for t in &tokens {
            ops.extend(numeric_item(p, t, &key.text, field)?);
        }
        Ok(ops)
    };
    Ok(match key.text.as_str() {
        // ExaBGP 4's `source-ipv4` etc. are its `source`/`destination` under other names
        // (the same parser in flow/match.py, which takes either family).
        "destination" | "source" | "source-ipv4" | "destination-ipv4" | "source-ipv6"
        | "destination-ipv6" => {
            let token = p.expect_word(&format!("a prefix after {}", key.text))?;
            let prefix = flow_prefix(p, &token, &key.text)?;
            let afi = if prefix.addr.is_ipv4() {
                Afi::Ipv4
            } else {
                Afi::Ipv6
            };
            require_family(p, family, afi, &token, block)?;
            if key.text.starts_with("destination") {
                FlowComponent::Destination(prefix)
            } else {
                FlowComponent::Source(prefix)
            }
        }
        "protocol" | "next-header" => {
            if key.text == "next-header" {
                require_family(p, family, Afi::Ipv6, key, block)?;
            }
            FlowComponent::Protocol(numeric(p, &PROTOCOL)?)
        }
        "port" => FlowComponent::Port(numeric(p, &PORT)?),
        "destination-port" => FlowComponent::DestinationPort(numeric(p, &PORT)?),
        "source-port" => FlowComponent::SourcePort(numeric(p, &PORT)?),
        "icmp-type" => FlowComponent::IcmpType(numeric(p, &ICMP_TYPE)?),
        "icmp-code" => FlowComponent::IcmpCode(numeric(p, &ICMP_CODE)?),
        "packet-length" => FlowComponent::PacketLength(numeric(p, &PACKET_LENGTH)?),
        "dscp" => FlowComponent::Dscp(numeric(p, &DSCP)?),
        "traffic-class" => {
            require_family(p, family, Afi::Ipv6, key, block)?;
            FlowComponent::Dscp(numeric(p, &TRAFFIC_CLASS)?)
        }
        "flow-label" => {
            require_family(p, family, Afi::Ipv6, key, block)?;
            FlowComponent::FlowLabel(numeric(p, &FLOW_LABEL)?)
        }
        "tcp-flags" => FlowComponent::TcpFlags(bitmask(p, key, TCP_FLAG_NAMES, 0xFFFF)?),
        "fragment" => FlowComponent::Fragment(bitmask(p, key, FRAGMENT_NAMES, 0xFF)?),
        other => {
            return Err(p.error_at(
                key.position,
                format!(
                    "unknown match keyword '{other}' in {block}, expected {}",
                    one_of(MATCH_KEYWORDS)
                ),
            ));
        }
    })
}

/// `ADDRESS/LENGTH` or (IPv6) `ADDRESS/LENGTH/OFFSET`.
fn flow_prefix(p: &Parser, token: &Token, statement: &str) -> Result<FlowPrefix, ConfigError> {
    let bad =
        |why: String| p.error_at(token.position, format!("{statement}: {why}, found {token}"));
    let mut parts = token.text.split('/');
    let (Some(addr), Some(len)) = (parts.next(), parts.next()) else {
        return Err(bad("expected a prefix ADDRESS/LENGTH".into()));
    };
    let offset = parts.next();
    if parts.next().is_some() {
        return Err(bad(
            "expected ADDRESS/LENGTH or ADDRESS/LENGTH/OFFSET".into()
        ));
    }
    let addr: IpAddr = values::ip_address(addr).map_err(|e| bad(e.to_string()))?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    let number = |t: &str| values::number_in(t, 0, max, if max == 32 { "0..32" } else { "0..128" });
    let len = number(len).map_err(|e| bad(format!("prefix length: {e}")))? as u8;
    let offset = match offset {
        None => 0,
        Some(_) if addr.is_ipv4() => {
            return Err(bad(
                "an offset is only defined for IPv6 prefixes (RFC 8956)".into(),
            ));
        }
        Some(o) => number(o).map_err(|e| bad(format!("offset: {e}")))? as u8,
    };
    if offset > len {
        return Err(bad(format!(
            "offset {offset} is beyond the prefix length {len}"
        )));
    }
    let prefix = FlowPrefix { addr, len, offset };
    if !prefix.is_canonical() {
        return Err(bad(format!(
            "host bits set: the address has bits outside the {} matched bits",
            if offset > 0 {
                "offset..length"
            } else {
                "prefix's"
            }
        )));
    }
    Ok(prefix)
}

/// One OR item of a numeric component: `=53`, `>1023&<65535`, `udp`.
fn numeric_item(
    p: &Parser,
    token: &Token,
    statement: &str,
    field: &NumericField,
) -> Result<Vec<NumericOp>, ConfigError> {
    let mut ops = Vec::new();
    for (i, part) in token.text.split('&').enumerate() {
        let split = part
            .find(|c: char| !matches!(c, '<' | '>' | '=' | '!'))
            .unwrap_or(part.len());
        let (cmp, value) = part.split_at(split);
        let Some((lt, gt, eq)) = NumericOp::from_comparison(cmp) else {
            return Err(p.error_at(
                token.position,
                format!("{statement}: unknown operator '{cmp}', expected =, >, >=, <, <= or !=, found {token}"),
            ));
        };
        let value = match value_by_name(field.names, value) {
            Some(v) => v,
            None => values::number_in(value, 0, field.max, field.range)
                .map_err(|e| p.bad_value(statement, token, e))?,
        };
        ops.push(NumericOp {
            and: i > 0,
            lt,
            gt,
            eq,
            value,
        });
    }
    Ok(ops)
}

/// A bitmask component: `[ syn rst&fin&!=push ]`; `=` is the match bit, `!` the not bit.
fn bitmask(
    p: &mut Parser,
    key: &Token,
    names: &[(&str, u64)],
    max: u64,
) -> Result<Vec<BitmaskOp>, ConfigError> {
    let mut ops = Vec::new();
    for token in p.word_or_list(&key.text)? {
        for (i, part) in token.text.split('&').enumerate() {
            let (not, matched, value) = if let Some(v) = part.strip_prefix("!=") {
                (true, true, v)
            } else if let Some(v) = part.strip_prefix('!') {
                (true, false, v)
            } else if let Some(v) = part.strip_prefix('=') {
                (false, true, v)
            } else {
                (false, false, part)
            };
            let value = match (value, value_by_name(names, value)) {
                // ExaBGP's not-a-fragment: the is-fragment bit is clear.
                ("not-a-fragment", _) if key.text == "fragment" => {
                    ops.push(BitmaskOp {
                        and: i > 0,
                        not: !not,
                        matched,
                        value: 0x02,
                    });
                    continue;
                }
                (_, Some(v)) => v,
                (v, None) => parse_mask(v, max).ok_or_else(|| {
                    let known: Vec<&str> = names.iter().map(|(n, _)| *n).collect();
                    p.error_at(
                        token.position,
                        format!(
                            "{}: unknown value '{v}', expected one of {} or a number up to {max:#x}, found {token}",
                            key.text,
                            known.join(" ")
                        ),
                    )
                })?,
            };
            ops.push(BitmaskOp {
                and: i > 0,
                not,
                matched,
                value,
            });
        }
    }
    Ok(ops)
}

fn parse_mask(text: &str, max: u64) -> Option<u64> {
    let v = match text.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).ok()?,
        None => text.parse().ok()?,
    };
    (v <= max).then_some(v)
}

/// What a then block said.
#[derive(Default)]
struct Then {
    /// accept, discard or rate-limit: what happens to the traffic's rate.
    rate: Option<(Token, Option<FlowAction>)>,
    /// redirect, redirect-to-nexthop or redirect-to-nexthop-ietf.
    redirect: Option<(Token, Redirect)>,
    next_hop: Option<(IpAddr, Token)>,
    mark: Setting<u8>,
    action: Setting<FlowAction>,
    communities: Setting<Vec<Community>>,
    extended_communities: Setting<Vec<ExtendedCommunity>>,
    large_communities: Setting<Vec<LargeCommunity>>,
    /// The interface sets of the route's `scope { }` block.
    scope: Vec<ExtendedCommunity>,
}

/// draft-ietf-idr-flowspec-redirect-ip-02 §3: the subtype of redirect-to-IP in the
/// transitive IPv6-address-specific extended community type (0x00, RFC 5701).
const REDIRECT_TO_IPV6_SUBTYPE: u8 = 0x0c;

enum Redirect {
    Community(FlowAction),
    ToNextHop { copy: bool },
    ToIp(IpAddr),
}

fn parse_then(p: &mut Parser, title: &str) -> Result<Then, ConfigError> {
    let block = format!("the then block of {title}");
    let open = p.open_block("then")?;
    let mut t = Then::default();
    while let Some(kw) = p.block_keyword(&open, &block)? {
        let exclusive = |p: &Parser, first: Option<&Token>, kw: &Token| {
            match first {
            Some(first) => Err(p.error_at(
                kw.position,
                format!(
                    "conflicting actions in {block}: '{}' and '{}' (line {}, column {}) cannot both apply",
                    kw.text, first.text, first.position.line, first.position.column
                ),
            )),
            None => Ok(()),
        }
        };
        match kw.text.as_str() {
            "accept" => {
                exclusive(p, t.rate.as_ref().map(|r| &r.0), &kw)?;
                t.rate = Some((kw.clone(), None));
            }
            "discard" => {
                exclusive(p, t.rate.as_ref().map(|r| &r.0), &kw)?;
                t.rate = Some((
                    kw.clone(),
                    Some(FlowAction::TrafficRate { asn: 0, rate: 0.0 }),
                ));
            }
            "rate-limit" => {
                exclusive(p, t.rate.as_ref().map(|r| &r.0), &kw)?;
                let (rate, _) = p.value("rate-limit", |s| {
                    values::number_in(s, 0, u32::MAX as u64, "0..4294967295 bytes per second")
                })?;
                // ExaBGP main (and 5.0 after 5.0.13): `rate-limit N packets` is RFC 8955's
                // traffic-rate-packets; `bytes`, or no unit, traffic-rate-bytes.
                let packets = match p.peek().text.as_str() {
                    "packets" => {
                        p.advance();
                        true
                    }
                    "bytes" => {
                        p.advance();
                        false
                    }
                    _ => false,
                };
                let action = if packets {
                    FlowAction::TrafficRatePackets {
                        asn: 0,
                        rate: rate as f32,
                    }
                } else {
                    FlowAction::TrafficRate {
                        asn: 0,
                        rate: rate as f32,
                    }
                };
                t.rate = Some((kw.clone(), Some(action)));
            }
            // ExaBGP: `copy ADDRESS;` is `redirect ADDRESS;` with the copy bit set: the
            // traffic goes to its destination and a copy to the next hop.
            "redirect" | "copy" => {
                exclusive(p, t.redirect.as_ref().map(|r| &r.0), &kw)?;
                let copy = kw.text == "copy";
                // ExaBGP: `redirect ADDRESS;` (IPv6 also as `[ADDRESS]`) is the next hop
                // with redirect-to-nexthop; `redirect ADMIN:VALUE;` a route target.
                let text = p.peek().text.clone();
                let bare = text
                    .strip_prefix('[')
                    .and_then(|t| t.strip_suffix(']'))
                    .unwrap_or(&text);
                if let Ok(address) = values::ip_address(bare) {
                    let token = p.advance();
                    if t.next_hop.is_some() {
                        return Err(p.error_at(
                            kw.position,
                            format!(
                                "'redirect {text}' sets the next hop, already given in {block}"
                            ),
                        ));
                    }
                    t.next_hop = Some((address, token));
                    t.redirect = Some((kw.clone(), Redirect::ToNextHop { copy }));
                } else if copy {
                    let token = p.advance();
                    return Err(p.unexpected(&token, "an IPv4 or IPv6 address after copy"));
                } else {
                    let (action, _) = p.value("redirect", redirect_target)?;
                    t.redirect = Some((kw.clone(), Redirect::Community(action)));
                }
            }
            "redirect-to-nexthop" => {
                exclusive(p, t.redirect.as_ref().map(|r| &r.0), &kw)?;
                t.redirect = Some((kw.clone(), Redirect::ToNextHop { copy: false }));
            }
            "redirect-to-nexthop-ietf" => {
                exclusive(p, t.redirect.as_ref().map(|r| &r.0), &kw)?;
                let (address, _) = p.value("redirect-to-nexthop-ietf", values::ip_address)?;
                t.redirect = Some((kw.clone(), Redirect::ToIp(address)));
            }
            "next-hop" => {
                if t.next_hop.is_some() {
                    return Err(
                        p.error_at(kw.position, format!("'next-hop' given twice in {block}"))
                    );
                }
                let (address, token) = p.value("next-hop", values::ip_address)?;
                t.next_hop = Some((address, token));
            }
            "mark" => {
                let (dscp, _) = p.value("mark", |s| values::number_in(s, 0, 63, "0..63 (DSCP)"))?;
                t.mark.set(p, &kw, &block, dscp as u8)?;
            }
            "action" => {
                let (action, _) = p.value("action", |s| {
                    let (sample, terminal) = match s {
                        "sample" => (true, false),
                        "terminal" => (false, true),
                        "sample-terminal" => (true, true),
                        _ => {
                            return Err(values::ValueError::Malformed {
                                expected: "sample, terminal or sample-terminal",
                            });
                        }
                    };
                    Ok(FlowAction::TrafficAction { sample, terminal })
                })?;
                t.action.set(p, &kw, &block, action)?;
            }
            "community" => {
                let list = list(p, "community", communities::community)?;
                t.communities.set(p, &kw, &block, list)?;
            }
            "extended-community" => {
                let list = list(p, "extended-community", communities::extended_community)?;
                t.extended_communities.set(p, &kw, &block, list)?;
            }
            "large-community" => {
                let list = list(p, "large-community", communities::large_community)?;
                t.large_communities.set(p, &kw, &block, list)?;
            }
            other => {
                return Err(p.error_at(
                    kw.position,
                    format!(
                        "unknown action '{other}' in {block}, expected {}",
                        one_of(THEN_KEYWORDS)
                    ),
                ));
            }
        }
        p.expect_semicolon(&kw.text)?;
    }
    Ok(t)
}

/// `scope { interface-set [ ... ]; }`: the interface-set extended communities.
fn parse_scope(p: &mut Parser, title: &str) -> Result<Vec<ExtendedCommunity>, ConfigError> {
    let block = format!("the scope block of {title}");
    let open = p.open_block("scope")?;
    let mut sets: Setting<Vec<ExtendedCommunity>> = Setting::default();
    while let Some(kw) = p.block_keyword(&open, &block)? {
        match kw.text.as_str() {
            "interface-set" => {
                let list = list(p, "interface-set", interface_set)?;
                sets.set(p, &kw, &block, list)?;
            }
            _ => return Err(p.unknown_keyword(&kw, &block, &one_of(SCOPE_KEYWORDS))),
        }
        p.expect_semicolon(&kw.text)?;
    }
    Ok(sets.take().unwrap_or_default())
}

/// Extended community type of an interface set, transitive (draft-ietf-idr-flowspec-
/// interfaceset §3; ExaBGP's `transitive:`), and with the non-transitive bit (`0x40`).
const INTERFACE_SET_TYPE: u8 = 0x07;
const INTERFACE_SET_SUBTYPE: u8 = 0x02;
const NON_TRANSITIVE: u8 = 0x40;
/// The direction bits of the last two octets (draft §3: O, then I) and the group's width.
const DIRECTION_OUTPUT: u16 = 0x8000;
const DIRECTION_INPUT: u16 = 0x4000;
const GROUP_MAX: u64 = 0x3FFF;

/// ExaBGP's `transitive|non-transitive:input|output|input-output:ASN:GROUP`.
pub(super) fn interface_set(text: &str) -> Result<ExtendedCommunity, values::ValueError> {
    const SHAPE: values::ValueError = values::ValueError::Malformed {
        expected: "transitive|non-transitive:input|output|input-output:ASN:GROUP (GROUP 0..16383)",
    };
    let parts: Vec<&str> = text.split(':').collect();
    let [kind, direction, asn, group] = parts.as_slice() else {
        return Err(SHAPE);
    };
    let kind = match *kind {
        "transitive" => INTERFACE_SET_TYPE,
        "non-transitive" => INTERFACE_SET_TYPE | NON_TRANSITIVE,
        _ => return Err(SHAPE),
    };
    let direction = match *direction {
        "input" => DIRECTION_INPUT,
        "output" => DIRECTION_OUTPUT,
        "input-output" => DIRECTION_INPUT | DIRECTION_OUTPUT,
        _ => return Err(SHAPE),
    };
    let asn = values::number_in(asn, 0, u32::MAX as u64, "0..4294967295").map_err(|_| SHAPE)?;
    let group = values::number_in(group, 0, GROUP_MAX, "0..16383").map_err(|_| SHAPE)?;
    let mut b = [0u8; 8];
    b[0] = kind;
    b[1] = INTERFACE_SET_SUBTYPE;
    b[2..6].copy_from_slice(&(asn as u32).to_be_bytes());
    b[6..8].copy_from_slice(&(direction | group as u16).to_be_bytes());
    Ok(ExtendedCommunity(b))
}

fn list<T>(
    p: &mut Parser,
    statement: &str,
    parse: impl Fn(&str) -> Result<T, values::ValueError>,
) -> Result<Vec<T>, ConfigError> {
    p.word_or_list(statement)?
        .iter()
        .map(|token| parse(&token.text).map_err(|e| p.bad_value(statement, token, e)))
        .collect()
}

/// `ASN:VALUE` (2-octet ASN with a 32-bit value, or 4-octet ASN with a 16-bit value) or
/// `IPV4:VALUE`: the route target of a redirect to a VRF (RFC 8955 §7.4).
pub(super) fn redirect_target(text: &str) -> Result<FlowAction, values::ValueError> {
    const SHAPE: values::ValueError = values::ValueError::Malformed {
        expected: "ASN:VALUE or IPV4:VALUE (a route target)",
    };
    let (admin, value) = text.rsplit_once(':').ok_or(SHAPE)?;
    if let Ok(address) = admin.parse() {
        let value = values::u16_value(value).map_err(|_| SHAPE)?;
        return Ok(FlowAction::RedirectIpv4 { address, value });
    }
    let asn = values::asn(admin.trim_end_matches('L'))?;
    if asn <= u16::MAX as u32 && !admin.ends_with('L') {
        let value = values::u32_value(value).map_err(|_| SHAPE)?;
        Ok(FlowAction::RedirectAs2 {
            asn: asn as u16,
            value,
        })
    } else {
        let value = values::u16_value(value).map_err(|_| SHAPE)?;
        Ok(FlowAction::RedirectAs4 { asn, value })
    }
}

impl Then {
    /// The attributes of the rule: actions as extended communities first, then the
    /// communities written, and the next hop of a redirect to an IP.
    fn attributes(
        self,
        p: &Parser,
        rule: &FlowRule,
        title: &str,
    ) -> Result<RouteAttributes, ConfigError> {
        let mut actions: Vec<FlowAction> = Vec::new();
        actions.extend(self.rate.and_then(|(_, a)| a));
        let mut next_hop = NextHop::Absent;
        let mut ipv6_extended: Vec<[u8; 20]> = Vec::new();
        let family_name = |ipv4: bool| if ipv4 { "IPv4" } else { "IPv6" };
        let check_family = |address: IpAddr, token: &Token| {
            if address.is_ipv4() != (rule.afi() == Afi::Ipv4) {
                return Err(p.error_at(
                    token.position,
                    format!(
                        "{title}: next hop '{address}' is {} but the rule is {}",
                        family_name(address.is_ipv4()),
                        family_name(rule.afi() == Afi::Ipv4)
                    ),
                ));
            }
            Ok(NextHop::Address {
                global: address,
                link_local: None,
            })
        };
        match self.redirect {
            Some((_, Redirect::Community(a))) => actions.push(a),
            Some((kw, Redirect::ToNextHop { copy })) => {
                let Some((address, token)) = &self.next_hop else {
                    return Err(p.error_at(
                        kw.position,
                        format!("{title}: redirect-to-nexthop needs 'next-hop ADDRESS;' in the then block"),
                    ));
                };
                next_hop = check_family(*address, token)?;
                actions.push(FlowAction::RedirectToNextHop { copy });
            }
            Some((_, Redirect::ToIp(address))) => match address {
                // The target is in the community, not the next hop (as ExaBGP sends it).
                IpAddr::V4(address) => {
                    actions.push(FlowAction::RedirectToIpv4 {
                        address,
                        copy: false,
                    });
                }
                // draft-ietf-idr-flowspec-redirect-ip §3: an IPv6 target is an IPv6
                // address-specific extended community (RFC 5701), subtype 0x0c, in a rule
                // of either family; ExaBGP sends it without a next hop.
                IpAddr::V6(address) => {
                    let mut c = [0u8; 20];
                    c[1] = REDIRECT_TO_IPV6_SUBTYPE;
                    c[2..18].copy_from_slice(&address.octets());
                    ipv6_extended.push(c);
                }
            },
            None => {
                if let Some((_, token)) = &self.next_hop {
                    return Err(p.error_at(
                        token.position,
                        format!("{title}: next-hop without redirect-to-nexthop, expected 'redirect-to-nexthop;' too"),
                    ));
                }
            }
        }
        actions.extend(self.action.take());
        actions.extend(
            self.mark
                .take()
                .map(|dscp| FlowAction::TrafficMarking { dscp }),
        );
        let mut a = RouteAttributes::with_next_hop(next_hop);
        let mut extended: Vec<_> = actions.iter().map(|a| a.to_community()).collect();
        extended.extend(self.extended_communities.take().unwrap_or_default());
        if !self.scope.is_empty() {
            // ExaBGP sends a rule's extended communities sorted (their order means nothing,
            // RFC 4360 §2); sorted here too when a scope adds its own, so that the rule's
            // UPDATE is the one ExaBGP sends for it.
            extended.extend(self.scope.iter().copied());
            extended.sort_by_key(|c| c.0);
            extended.dedup();
        }
        a.set(PathAttribute::ExtendedCommunities(extended));
        if !ipv6_extended.is_empty() {
            a.set(PathAttribute::Ipv6ExtendedCommunities(ipv6_extended));
        }
        a.set(PathAttribute::Communities(
            self.communities.take().unwrap_or_default(),
        ));
        a.set(PathAttribute::LargeCommunities(
            self.large_communities.take().unwrap_or_default(),
        ));
        Ok(a)
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::config::parse_str;

    /// The extended communities of the neighbor's one flow rule, in hex, or the error.
    fn then(then: &str) -> Result<Vec<String>, String> {
        let text = format!(
            "neighbor 127.0.0.1 {{ router-id 1.2.3.4; local-address 127.0.0.1; local-as 1; peer-as 1;\nfamily {{ ipv4 flow; }}\nflow {{ route r {{ match {{ source 10.0.1.0/24; }} then {{ {then} }} }} }}\n}}"
        );
        let c = parse_str(&text, Path::new("t.conf")).map_err(|e| e.to_string())?;
        Ok(c.neighbors[0].flows[0]
            .attributes
            .extended_communities()
            .iter()
            .map(|e| e.0.iter().map(|b| format!("{b:02x}")).collect())
            .collect())
    }

    /// ExaBGP main's conf-flow: `rate-limit 1000 packets;` is traffic-rate-packets (RFC 8955
    /// §7, 0x800c) with 1000.0 as an IEEE float, the community `C01008 800C0000447A0000` of
    /// its expected UPDATE; `bytes` and no unit are traffic-rate-bytes (0x8006).
    #[test]
    fn rate_limit_in_packets_or_bytes() {
        assert_eq!(
            then("rate-limit 1000 packets;"),
            Ok(vec!["800c0000447a0000".into()])
        );
        assert_eq!(
            then("rate-limit 1000 bytes;"),
            Ok(vec!["80060000447a0000".into()])
        );
        assert_eq!(
            then("rate-limit 9600;"),
            Ok(vec!["8006000046160000".into()])
        );
        assert_eq!(
            then("rate-limit 0 packets;"),
            Ok(vec!["800c000000000000".into()])
        );
        // Hostile or mistaken input: an error at the word, with its line and column.
        let e = then("rate-limit 1000 frames;").unwrap_err();
        assert!(e.starts_with("t.conf:3:"), "{e}");
        assert!(e.contains("'frames'"), "{e}");
        let e = then("rate-limit packets;").unwrap_err();
        assert!(e.starts_with("t.conf:3:") && e.contains("packets"), "{e}");
        let e = then("rate-limit 1000 packets packets;").unwrap_err();
        assert!(e.starts_with("t.conf:3:"), "{e}");
        let e = then("rate-limit 1000 packets; discard;").unwrap_err();
        assert!(e.contains("conflicting actions"), "{e}");
    }
}
