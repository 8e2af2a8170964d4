//! `route PREFIX ATTRIBUTE...;` and `route PREFIX { ATTRIBUTE; ... }`: a prefix and its
//! path attributes.

use std::net::{IpAddr, Ipv4Addr};

use crate::rib::attributes::{Aggregator, NextHop, Origin, RouteAttributes};
use crate::wire::aspath::{AsPath, AsSegment, SegmentType};
use crate::wire::attribute::PathAttribute;
use crate::wire::community::{Community, ExtendedCommunity, LargeCommunity};
use crate::wire::prefix::Prefix;

use super::ConfigError;
use super::communities;
use super::labels;
use super::lexer::{Position, Token, TokenKind};
use super::model::RouteConfig;
use super::parser::{self, Parser, Setting};
use super::values::{self, ValueError};

/// A parsed route and where its prefix was written (for errors found later, such as a
/// duplicate or a family the neighbor does not negotiate).
pub(super) struct ParsedRoute {
    pub route: RouteConfig,
    pub prefix_at: Position,
    /// `split /LEN` and where LEN was written; expanded by the static block.
    pub split: Option<(u8, Position)>,
    /// The neighbor block itself or an inherited template (see `template`).
    pub origin: parser::Origin,
    /// ExaBGP's `withdraw`: parsed and checked, not announced (with a `watchdog`, until
    /// the watchdog is announced).
    pub withdraw: bool,
    /// ExaBGP's `watchdog NAME`: the route belongs to that group, which helpers announce and
    /// withdraw together (`announce watchdog NAME`, see `manager/watchdog.rs`).
    pub watchdog: Option<String>,
}

/// "route PREFIX", as errors name a route statement: formatted only when an error is.
pub(super) struct RouteName(pub Prefix);

impl std::fmt::Display for RouteName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "route {}", self.0)
    }
}

/// The attributes of a route, inline or in its `{ }` block.
pub const KEYWORDS: &[&str] = &[
    "next-hop",
    "origin",
    "as-path",
    "as-sequence",
    "med",
    "local-preference",
    "community",
    "extended-community",
    "large-community",
    "atomic-aggregate",
    "aggregator",
    "originator-id",
    "cluster-list",
    "aigp",
    "otc",
    "bgp-prefix-sid",
    "bgp-prefix-sid-srv6",
    "pmsi-tunnel",
    "preference",
    "priority",
    "binding-sid",
    "srv6-binding-sid",
    "enlp",
    "policy-name",
    "candidate-path-name",
    "segment-list",
    "attribute",
    "split",
    "name",
    "withdraw",
    "withdrawn",
    "watchdog",
];

/// The attributes given so far; each may be given once.
#[derive(Default)]
pub(super) struct AttributeSettings {
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
    originator_id: Setting<Ipv4Addr>,
    cluster_list: Setting<Vec<Ipv4Addr>>,
    aigp: Setting<u64>,
    /// ExaBGP main's `otc ASN|self|ROLE` (RFC 9234): `OTC_SELF` for self and a role name.
    otc: Setting<u32>,
    /// `bgp-prefix-sid` and `bgp-prefix-sid-srv6`: one BGP Prefix-SID attribute together.
    prefix_sid: Setting<crate::wire::prefix_sid::PrefixSid>,
    prefix_sid_srv6: Setting<crate::wire::prefix_sid::PrefixSid>,
    pmsi: Setting<crate::wire::pmsi::PmsiTunnel>,
    /// The SR Policy words (`preference`, `segment-list`, ...): one tunnel encapsulation.
    sr_policy: super::sr_policy::SrPolicyWords,
    /// `attribute [ CODE FLAGS VALUE ]` of codes bgpinject does not build, by code.
    generic: std::collections::BTreeMap<u8, PathAttribute>,
    split: Setting<(u8, Position)>,
    /// ExaBGP's `name NAME`: a label for logs, nothing on the wire.
    name: Setting<String>,
    /// ExaBGP's `withdraw` (the original injector's `withdrawn`): configured, not announced.
    withdraw: Setting<()>,
    /// ExaBGP's `watchdog NAME`: the group the route is announced and withdrawn with.
    watchdog: Setting<String>,
    nlri: labels::NlriSettings,
}

impl AttributeSettings {
    /// `split`, `withdraw` and the NLRI statements (`label`, `rd`, `path-information`),
    /// taken out before [`finish_attributes`].
    pub(super) fn take_route_statements(
        &mut self,
    ) -> (Option<(u8, Position)>, bool, labels::NlriSettings) {
        (
            std::mem::take(&mut self.split).take(),
            self.withdraw.get().is_some(),
            std::mem::take(&mut self.nlri),
        )
    }

    /// `watchdog NAME` and where it was written, taken out before [`finish_attributes`].
    pub(super) fn take_watchdog(&mut self) -> Option<(String, Position)> {
        std::mem::take(&mut self.watchdog).take_at()
    }
}

/// Parses from just after the `route` keyword to the closing `;` or `}`.
pub(super) fn parse_route(p: &mut Parser, keyword: &Token) -> Result<ParsedRoute, ConfigError> {
    let (prefix, prefix_token) = route_prefix(p)?;
    let name = RouteName(prefix);
    let mut a = AttributeSettings::default();
    if p.peek().kind == TokenKind::OpenBrace {
        let open = p.advance();
        while let Some(kw) = p.block_keyword(&open, &name)? {
            parse_attribute(p, &kw, Some(prefix), &name, &mut a)?;
            p.expect_semicolon(&format!("{} value", kw.text))?;
        }
    } else {
        loop {
            let token = p.advance();
            match token.kind {
                TokenKind::Semicolon => break,
                TokenKind::Word => parse_attribute(p, &token, Some(prefix), &name, &mut a)?,
                _ => {
                    return Err(
                        p.unexpected(&token, &format!("a route attribute or ';' to end {name}"))
                    );
                }
            }
        }
    }
    let (split, withdraw, nlri) = a.take_route_statements();
    let watchdog = a.take_watchdog().map(|(name, _)| name);
    if let (Some((_, at)), None) = (std::mem::take(&mut a.withdraw).take_at(), &watchdog) {
        p.note(
            at,
            None,
            format!("{name} is marked withdraw without a watchdog: it is configured but never announced (ExaBGP 4 and 5 announce it; the original injector did not)"),
        );
    }
    let attributes = finish_attributes(p, a, &name, prefix_token.position)?;
    Ok(ParsedRoute {
        route: RouteConfig {
            prefix,
            nlri: labels::finish(p, &name, nlri)?.boxed(),
            attributes,
            location: p.location(keyword.position),
        },
        prefix_at: prefix_token.position,
        split,
        origin: p.origin(),
        withdraw,
        watchdog,
    })
}

/// The last plain route statement of a file that was written on one line, kept to read the
/// next line faster: a generated table of a million routes writes the same attributes after
/// each prefix, and those are parsed once. A `route` statement reuses it only when the text
/// after its prefix, to the end of the line, is the same (so its tokens are the same, the
/// statement ends on this line and nothing but blanks or a comment follow it), and its prefix
/// has the same family and length and no host bits: the full parse would then give the same
/// attribute set (no check of an attribute depends on the prefix beyond its family and
/// length). The statement kept gave no warning, no `split`, `withdraw`, `watchdog` or NLRI
/// option (label, rd, path-information): anything else is parsed in full, every time.
pub(super) struct RouteLineMemo {
    /// The text after the prefix, to the end of the line with its newline.
    rest: String,
    prefix: Prefix,
    attributes: std::sync::Arc<RouteAttributes>,
}

/// Takes the `route` statements that follow, each on a line of its own, for as long as the
/// memo reads them (see [`RouteLineMemo`]): `route` peeked, then blanks (spaces or tabs), the
/// prefix and the memo's text. Neither the statement's tokens nor its attributes are made;
/// the next `route` keyword is found at the start of the next line without a token either.
/// Stops at the first statement the memo does not read, which is then parsed as usual.
pub(super) fn memo_routes(p: &mut Parser, push: &mut dyn FnMut(ParsedRoute)) {
    loop {
        let Some(memo) = p.route_memo.as_deref() else {
            return;
        };
        let keyword = p.peek();
        if keyword.kind != TokenKind::Word || keyword.text != "route" {
            return;
        }
        let keyword_at = keyword.position;
        let Some(rest) = p.rest_of_line() else {
            return;
        };
        let text = rest.trim_start_matches([' ', '\t']);
        let blanks = rest.len() - text.len();
        let end = text
            .bytes()
            .position(|b| !(b.is_ascii_alphanumeric() || matches!(b, b'.' | b':' | b'/')))
            .unwrap_or(text.len());
        let (word, after) = text.split_at(end);
        if blanks == 0 || after != memo.rest {
            return;
        }
        let Ok(prefix) = values::prefix(word) else {
            return;
        };
        if prefix.len() != memo.prefix.len()
            || prefix.addr().is_ipv4() != memo.prefix.addr().is_ipv4()
        {
            return;
        }
        let attributes = std::sync::Arc::clone(&memo.attributes);
        // Columns count characters: "route", the blanks and the prefix are ASCII.
        let column = |n: usize| {
            keyword_at
                .column
                .saturating_add(u32::try_from(n).unwrap_or(u32::MAX))
        };
        let prefix_at = Position {
            line: keyword_at.line,
            column: column("route".len() + blanks),
        };
        if !p.skip_rest_of_line() {
            return;
        }
        push(ParsedRoute {
            route: RouteConfig {
                prefix,
                nlri: None,
                attributes,
                location: p.location(keyword_at),
            },
            prefix_at,
            split: None,
            origin: p.origin(),
            withdraw: false,
            watchdog: None,
        });
        p.advance_to_keyword("route");
    }
}

/// [`parse_route`], keeping the statement as the parser's memo when it may be reused (see
/// [`RouteLineMemo`]).
pub(super) fn parse_route_remembered(
    p: &mut Parser,
    keyword: &Token,
) -> Result<ParsedRoute, ConfigError> {
    // The text after the prefix, copied into the old memo's buffer (no allocation).
    let mut rest = p.route_memo.take().map(|m| m.rest).unwrap_or_default();
    rest.clear();
    let line = p.peek().position.line;
    let plain_prefix = p.peek().kind == TokenKind::Word && values::prefix(&p.peek().text).is_ok();
    let notes = p.state.borrow().note_calls;
    match p.rest_of_line() {
        Some(text) if plain_prefix && text.ends_with('\n') => rest.push_str(text),
        _ => return parse_route(p, keyword),
    }
    let parsed = parse_route(p, keyword)?;
    let one_line = p.last_position().line == line && p.peek().position.line > line;
    if one_line
        && p.state.borrow().note_calls == notes
        && parsed.split.is_none()
        && !parsed.withdraw
        && parsed.watchdog.is_none()
        && parsed.route.nlri.is_none()
    {
        p.route_memo = Some(Box::new(RouteLineMemo {
            rest,
            prefix: parsed.route.prefix,
            attributes: std::sync::Arc::clone(&parsed.route.attributes),
        }));
    }
    Ok(parsed)
}

/// The longest watchdog name accepted (ExaBGP sets none; a name is a word of a command line).
pub const MAX_WATCHDOG_NAME: usize = 255;

/// A watchdog name as ExaBGP takes it: one word, but neither `announce` nor `withdraw` (the
/// words of the commands that name it).
pub fn watchdog_name(token: &Token) -> Result<String, String> {
    let text = token.text.as_str();
    if token.kind != TokenKind::Word || text.is_empty() {
        return Err(format!("expected a name, found '{text}'"));
    }
    check_watchdog_name(text)?;
    Ok(text.to_string())
}

/// Whether `text` may name a watchdog (see [`watchdog_name`]).
pub fn check_watchdog_name(text: &str) -> Result<(), String> {
    if matches!(text, "announce" | "withdraw") {
        return Err(format!("'{text}' cannot be a watchdog name (as in ExaBGP)"));
    }
    if text.len() > MAX_WATCHDOG_NAME || text.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(format!(
            "a name is at most {MAX_WATCHDOG_NAME} octets of printable characters"
        ));
    }
    Ok(())
}

/// The attributes of a route once its statements are read (`next-hop` required, reported at
/// `at`), interned. `split`, `withdraw` and the NLRI statements are the caller's to take first.
pub(super) fn finish_attributes(
    p: &Parser,
    a: AttributeSettings,
    name: &dyn std::fmt::Display,
    at: Position,
) -> Result<std::sync::Arc<RouteAttributes>, ConfigError> {
    let Some(next_hop) = a.next_hop.take() else {
        return Err(p.error_at(
            at,
            format!("{name} has no next-hop, expected 'next-hop ADDRESS' or 'next-hop self'"),
        ));
    };
    let mut attributes = RouteAttributes::with_next_hop(next_hop);
    let sr_policy = a.sr_policy.finish(p)?;
    let values = [
        a.origin.take().map(PathAttribute::Origin),
        a.as_path.take().map(PathAttribute::AsPath),
        a.med.take().map(PathAttribute::Med),
        a.local_pref.take().map(PathAttribute::LocalPref),
        a.communities.take().map(PathAttribute::Communities),
        a.extended_communities
            .take()
            .map(PathAttribute::ExtendedCommunities),
        a.large_communities
            .take()
            .map(PathAttribute::LargeCommunities),
        a.atomic_aggregate
            .take()
            .map(|()| PathAttribute::AtomicAggregate),
        a.aggregator.take().map(|ag| PathAttribute::Aggregator {
            asn: ag.asn,
            address: ag.address,
        }),
        a.originator_id.take().map(PathAttribute::OriginatorId),
        a.cluster_list.take().map(PathAttribute::ClusterList),
        a.aigp.take().map(aigp_attribute),
        a.otc.take().map(PathAttribute::Otc),
        prefix_sid_attribute(a.prefix_sid.take(), a.prefix_sid_srv6.take()),
        a.pmsi.take().map(|t| PathAttribute::Unknown {
            flags: crate::wire::attribute::flag::OPTIONAL
                | crate::wire::attribute::flag::TRANSITIVE,
            code: crate::wire::attribute::type_code::PMSI_TUNNEL,
            value: t.encode(),
        }),
        sr_policy,
    ];
    values
        .into_iter()
        .flatten()
        .chain(a.generic.into_values())
        .for_each(|v| attributes.set(v));
    Ok(p.state.borrow_mut().attributes.intern_owned(attributes))
}

/// The prefix of a route. Host bits are cleared, as ExaBGP does (the original injector's
/// files write `2A02:B80:0:1::1/64`), with a warning at `--check`.
fn route_prefix(p: &mut Parser) -> Result<(Prefix, Token), ConfigError> {
    let token = p.expect_word("a value after route")?;
    match values::prefix(&token.text) {
        Ok(prefix) => Ok((prefix, token)),
        Err(ValueError::Prefix(crate::wire::prefix::PrefixError::HostBitsSet { canonical })) => {
            p.note(
                token.position,
                None,
                format!(
                    "route {}: host bits are set, {canonical} is announced (as ExaBGP does)",
                    token.text
                ),
            );
            Ok((canonical, token))
        }
        Err(e) => Err(p.bad_value("route", &token, e)),
    }
}

/// One attribute and its value(s), without the terminating `;`. `prefix`: the route's, which
/// its next hop must match (`None` for the NLRI of the `wire::nlri` families).
pub(super) fn parse_attribute(
    p: &mut Parser,
    kw: &Token,
    prefix: Option<Prefix>,
    name: &dyn std::fmt::Display,
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
        "as-path" | "as-sequence" => {
            if kw.text == "as-sequence" {
                super::exabgp_compat::mark_original(p);
                p.note(
                    kw.position,
                    Some("as-sequence"),
                    "'as-sequence' is ExaBGP 2.0's spelling of 'as-path' (ExaBGP 3 kept it as an alias; write 'as-path')",
                );
            }
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
            let tokens = p.word_or_list("extended-community")?;
            note_four_octet_targets(p, &tokens);
            let list = tokens
                .iter()
                .map(|t| {
                    communities::extended_community(&t.text)
                        .map_err(|e| p.bad_value("extended-community", t, e))
                })
                .collect::<Result<Vec<_>, _>>()?;
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
        "originator-id" => {
            let (id, _) = p.value("originator-id", values::ipv4_address)?;
            a.originator_id.set(p, kw, name, id)
        }
        "cluster-list" => {
            let list = parse_list(p, "cluster-list", values::ipv4_address)?;
            a.cluster_list.set(p, kw, name, list)
        }
        "aigp" => {
            let (metric, _) = p.value("aigp", aigp_metric)?;
            a.aigp.set(p, kw, name, metric)
        }
        "otc" => {
            use crate::wire::attribute::OTC_SELF;
            let (asn, token) = p.value("otc", |t| match t {
                "self" => Ok(OTC_SELF),
                t if crate::wire::role::Role::from_name(t).is_some() => Ok(OTC_SELF),
                t => values::asn(t).map_err(|_| ValueError::Malformed {
                    expected: "an AS number (not 0), self, or a role name (provider, rs, rs-client, customer, peer)",
                }),
            })?;
            if crate::wire::role::Role::from_name(&token.text).is_some() {
                p.note(
                    token.position,
                    Some("otc role"),
                    format!("'otc {}' in {name}: taken as 'otc self' (the session's local AS); ExaBGP also checks the role against the neighbor's 'role {{ local }}', bgpinject does not", token.text),
                );
            }
            a.otc.set(p, kw, name, asn)
        }
        "bgp-prefix-sid" => {
            let v = super::prefix_sid::parse_prefix_sid(p)?;
            a.prefix_sid.set(p, kw, name, v)
        }
        "bgp-prefix-sid-srv6" => {
            let v = super::prefix_sid::parse_prefix_sid_srv6(p)?;
            a.prefix_sid_srv6.set(p, kw, name, v)
        }
        "pmsi-tunnel" => {
            let v = super::prefix_sid::parse_pmsi(p)?;
            a.pmsi.set(p, kw, name, v)
        }
        k if super::sr_policy::KEYWORDS.contains(&k) && prefix.is_some() => Err(p.error_at(
            kw.position,
            format!("'{k}' in {name}: the SR Policy words belong to an sr-policy route (RFC 9830), not to a prefix"),
        )),
        k if super::sr_policy::KEYWORDS.contains(&k) => a.sr_policy.parse(p, kw),
        "attribute" => parse_generic(p, kw, name, a),
        "split" => {
            let (len, token) = p.value("split", split_length)?;
            a.split.set(p, kw, name, (len, token.position))
        }
        "name" => {
            let token = p.advance();
            if !matches!(token.kind, TokenKind::Word | TokenKind::Quoted) {
                return Err(p.unexpected(&token, "a name after name"));
            }
            a.name.set(p, kw, name, token.text)
        }
        "withdraw" | "withdrawn" => {
            if kw.text == "withdrawn" {
                super::exabgp_compat::mark_original(p);
                p.note(
                    kw.position,
                    Some("withdrawn"),
                    "'withdrawn' is the original injector's spelling of 'withdraw' (write 'withdraw'; `bgpinject migrate` does)",
                );
            }
            a.withdraw.set(p, kw, name, ())
        }
        "watchdog" => {
            let token = p.advance();
            let watchdog = watchdog_name(&token).map_err(|why| p.error_at(token.position, format!("watchdog in {name}: {why}")))?;
            a.watchdog.set(p, kw, name, watchdog)
        }
        k if labels::KEYWORDS.contains(&k) => labels::parse(p, kw, name, &mut a.nlri),
        other => Err(p.error_at(
            kw.position,
            format!(
                "unknown route attribute '{other}' in {name}, expected {}",
                super::parser::one_of(&[KEYWORDS, labels::KEYWORDS].concat())
            ),
        )),
    }
}

/// `--check` warns where a route target or origin has a 4-octet AS administrator: the file
/// means RFC 5668 type 0x02 in ExaBGP 4 and bgpinject, type 0x01 in ExaBGP 5 and main.
fn note_four_octet_targets(p: &Parser, tokens: &[Token]) {
    for token in tokens {
        if communities::four_octet_as_target(&token.text) {
            p.note(
                token.position,
                None,
                format!("extended-community {}: sent as a 4-octet AS specific community (type 0x02, RFC 5668) as ExaBGP 4 does; ExaBGP 5 and main send it as type 0x01 (IPv4 address specific)", token.text),
            );
        }
    }
}

/// RFC 7311 §3: `aigp N` is one AIGP metric TLV (type 1).
pub fn aigp_attribute(metric: u64) -> PathAttribute {
    PathAttribute::Aigp(vec![(1, metric.to_be_bytes().to_vec())])
}

/// RFC 7311 §3: the AIGP metric is an unsigned 64-bit number.
fn aigp_metric(text: &str) -> Result<u64, ValueError> {
    text.parse().map_err(|_| ValueError::Malformed {
        expected: "a number in 0..18446744073709551615",
    })
}

/// One hexadecimal octet (`0x40`) of `attribute [ CODE FLAGS VALUE ]`.
fn hex_octet(text: &str) -> Result<u8, ValueError> {
    let digits = text
        .strip_prefix("0x")
        .or_else(|| text.strip_prefix("0X"))
        .unwrap_or(text);
    u8::from_str_radix(digits, 16).map_err(|_| ValueError::Malformed {
        expected: "one octet in hexadecimal, such as 0x20",
    })
}

/// The value of `attribute [ CODE FLAGS VALUE ]`: `0x` and an even number of hex digits.
/// `bgp-prefix-sid` and `bgp-prefix-sid-srv6` of one route: one attribute, the label index
/// and SRGB TLVs first.
fn prefix_sid_attribute(
    mpls: Option<crate::wire::prefix_sid::PrefixSid>,
    srv6: Option<crate::wire::prefix_sid::PrefixSid>,
) -> Option<PathAttribute> {
    if mpls.is_none() && srv6.is_none() {
        return None;
    }
    let mut sid = mpls.unwrap_or_default();
    if let Some(s) = srv6 {
        sid.services.extend(s.services);
        sid.draft_tlvs.extend(s.draft_tlvs);
    }
    Some(PathAttribute::Unknown {
        flags: crate::wire::attribute::flag::OPTIONAL | crate::wire::attribute::flag::TRANSITIVE,
        code: crate::wire::attribute::type_code::BGP_PREFIX_SID,
        value: sid.encode(),
    })
}

pub(super) fn hex_value(text: &str) -> Result<Vec<u8>, ValueError> {
    let bad = ValueError::Malformed {
        expected: "the value in hexadecimal, such as 0x00000064",
    };
    let digits = text
        .strip_prefix("0x")
        .or_else(|| text.strip_prefix("0X"))
        .ok_or(bad.clone())?;
    if digits.len() % 2 != 0 || digits.len() > 2 * 4000 {
        return Err(bad);
    }
    (0..digits.len())
        .step_by(2)
        .map(|i| {
            digits
                .get(i..i + 2)
                .and_then(|d| u8::from_str_radix(d, 16).ok())
                .ok_or(bad.clone())
        })
        .collect()
}

/// ExaBGP's `attribute [ CODE FLAGS VALUE ]`. An attribute bgpinject knows is decoded and
/// set as its own keyword would set it (ExaBGP's tests write `med 100` as
/// `attribute [ 0x04 0x80 0x00000064 ]`), so it is checked and given once; one that depends on
/// the session (AS_PATH's encoding, next hops, NLRI) is refused; any other is sent as written.
fn parse_generic(
    p: &mut Parser,
    kw: &Token,
    name: &dyn std::fmt::Display,
    a: &mut AttributeSettings,
) -> Result<(), ConfigError> {
    use crate::wire::attribute::{AttributeContext, decode_attribute, flag};
    let open = p.advance();
    if open.kind != TokenKind::OpenBracket {
        return Err(p.unexpected(&open, "'[' after attribute"));
    }
    let code_t = p.advance();
    let code = hex_octet(&code_t.text).map_err(|e| p.bad_value("attribute", &code_t, e))?;
    let flags_t = p.advance();
    let flags = hex_octet(&flags_t.text).map_err(|e| p.bad_value("attribute", &flags_t, e))?;
    let value_t = p.advance();
    let value = hex_value(&value_t.text).map_err(|e| p.bad_value("attribute", &value_t, e))?;
    let close = p.advance();
    if close.kind != TokenKind::CloseBracket {
        return Err(p.unexpected(&close, "']' after the attribute's value"));
    }
    // RFC 9234 OTC written raw is sent as written, whatever the session's role: the way to
    // send a route leak on purpose (see `wire::attribute` OTC row).
    if crate::wire::attribute::info(code).is_none()
        || code == crate::wire::attribute::type_code::OTC
    {
        if flags & flag::OPTIONAL == 0 {
            // RFC 4271 §6.3: a peer resets the session on a well-known attribute it does not
            // recognize. ExaBGP sends it as written, and so does bgpinject, with a warning.
            p.note(
                flags_t.position,
                None,
                format!(
                    "'attribute' 0x{code:02x} in {name}: flags 0x{flags:02x} make it well-known; it is sent as written (as ExaBGP does), and a peer that does not know it resets the session (RFC 4271 §6.3): set the optional bit (0x80)"
                ),
            );
        }
        let extra = PathAttribute::Unknown {
            code,
            flags: flags & !flag::EXTENDED_LENGTH,
            value,
        };
        if a.generic.insert(code, extra).is_some() {
            return Err(p.error_at(
                kw.position,
                format!("attribute 0x{code:02x} given twice in {name}"),
            ));
        }
        return Ok(());
    }
    let ctx = AttributeContext {
        four_octet_as: true,
    };
    let decoded =
        decode_attribute(flags, code, &value, 0, ctx, Default::default()).map_err(|e| {
            p.error_at(
                code_t.position,
                format!("attribute 0x{code:02x} in {name}: {e}"),
            )
        })?;
    match decoded {
        PathAttribute::Origin(o) => a.origin.set(p, kw, name, o),
        PathAttribute::Med(m) => a.med.set(p, kw, name, m),
        PathAttribute::LocalPref(l) => a.local_pref.set(p, kw, name, l),
        PathAttribute::AtomicAggregate => a.atomic_aggregate.set(p, kw, name, ()),
        PathAttribute::Communities(c) => a.communities.set(p, kw, name, c),
        PathAttribute::ExtendedCommunities(c) => a.extended_communities.set(p, kw, name, c),
        PathAttribute::LargeCommunities(c) => a.large_communities.set(p, kw, name, c),
        PathAttribute::OriginatorId(id) => a.originator_id.set(p, kw, name, id),
        PathAttribute::ClusterList(l) => a.cluster_list.set(p, kw, name, l),
        PathAttribute::Aigp(tlvs) => match tlvs.as_slice() {
            [(1, metric)] => {
                let metric = metric
                    .as_slice()
                    .try_into()
                    .map(u64::from_be_bytes)
                    .unwrap_or_default();
                a.aigp.set(p, kw, name, metric)
            }
            _ => Err(p.error_at(
                code_t.position,
                format!("attribute 0x{code:02x} in {name}: only the AIGP metric TLV is supported"),
            )),
        },
        other => Err(p.error_at(
            code_t.position,
            format!(
                "attribute 0x{code:02x} ({}) in {name} is built from the session and the route; write it with its own keyword",
                other.name()
            ),
        )),
    }
}

/// `/LEN` (ExaBGP's form) or `LEN`.
fn split_length(text: &str) -> Result<u8, ValueError> {
    let digits = text.strip_prefix('/').unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ValueError::Malformed {
            expected: "a prefix length such as /26",
        });
    }
    digits.parse().map_err(|_| ValueError::Malformed {
        expected: "a prefix length such as /26",
    })
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
fn parse_next_hop(p: &mut Parser, prefix: Option<Prefix>) -> Result<NextHop, ConfigError> {
    let token = p.expect_word("an address or 'self' after next-hop")?;
    if token.text == "self" {
        return Ok(NextHop::SelfAddress);
    }
    let address =
        values::ip_address(&token.text).map_err(|e| p.bad_value("next-hop", &token, e))?;
    // A next hop of the other family (an IPv6 one for an IPv4 route, RFC 8950, or ExaBGP's
    // IPv4 one for an IPv6 route) is checked against the neighbor's `nexthop { }` pairs once
    // the whole block is read (announce::check_next_hops).
    let _ = prefix;
    if address.is_unspecified() {
        return Err(p.error_at(
            token.position,
            format!("next-hop {address} is unspecified, expected a unicast address or 'self'"),
        ));
    }
    let not_unicast = match address {
        IpAddr::V4(a) => a.is_multicast() || a.is_broadcast(),
        IpAddr::V6(a) => a.is_multicast(),
    };
    if not_unicast {
        // ExaBGP sends it as written (its conf-attributes example); a peer ignores the route
        // (RFC 4271 §6.3: a semantically incorrect NEXT_HOP is logged, the route not used).
        p.note(
            token.position,
            None,
            format!(
                "next-hop {address} is not a unicast address: sent as written, as ExaBGP does; a peer will not use the route (RFC 4271 §6.3)"
            ),
        );
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
    // RFC 2545 §3: an IPv6 next hop may carry a link-local address too (32-octet form),
    // written as a second address: `next-hop 2001:db8::1 fe80::1`.
    let mut link_local = None;
    if address.is_ipv6()
        && let Ok(IpAddr::V6(ll)) = values::ip_address(&p.peek().text)
    {
        let token = p.advance();
        if !ll.is_unicast_link_local() {
            return Err(p.error_at(
                token.position,
                format!(
                    "second next-hop address {ll} is not link-local, expected a link-local (fe80::/10) address"
                ),
            ));
        }
        link_local = Some(ll);
    }
    Ok(NextHop::Address {
        global: address,
        link_local,
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
        // ExaBGP main: `as-path confed-sequence [ 65001 ] [ 65000 100 ]`.
        TokenKind::Word if confed_kind(&open.text).is_some() => {
            let mut segments = Vec::new();
            exabgp5_group(p, &open, &mut segments)?;
            exabgp5_groups(p, &mut segments)?;
            return Ok(AsPath { segments });
        }
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
                // ExaBGP also reads `[ 100, 500 ]`: a comma after an ASN separates nothing more.
                let text = token.text.strip_suffix(',').unwrap_or(&token.text);
                if text.is_empty() {
                    continue;
                }
                let asn = values::asn(text).map_err(|e| p.bad_value("as-path", &token, e))?;
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
            TokenKind::CloseBracket if set.is_none() => {
                exabgp5_groups(p, &mut segments)?;
                if segments
                    .windows(2)
                    .any(|w| w[0].kind == SegmentType::Set && w[1].kind == SegmentType::Sequence)
                {
                    p.note(
                        open.position,
                        None,
                        "as-path: an AS_SEQUENCE after an AS_SET is sent in the order written (as ExaBGP 5); ExaBGP 4 moved every ASN outside '( )' into one AS_SEQUENCE before the AS_SET",
                    );
                }
                return Ok(AsPath { segments });
            }
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

/// ExaBGP's words for the confederation segments of an as-path (RFC 5065 §3).
fn confed_kind(word: &str) -> Option<SegmentType> {
    match word {
        "confed-sequence" => Some(SegmentType::ConfedSequence),
        "confed-set" => Some(SegmentType::ConfedSet),
        _ => None,
    }
}

/// ExaBGP 5's spelling after the first `[ ... ]` of an as-path: more groups, `( ASN ... )` an
/// AS_SET, `[ ASN ... ]` an AS_SEQUENCE, and (ExaBGP main) `confed-sequence [ ASN ... ]` and
/// `confed-set [ ASN ... ]`, in the order written (`as-path [ 1 2 ] ( 3 4 )`).
fn exabgp5_groups(p: &mut Parser, segments: &mut Vec<AsSegment>) -> Result<(), ConfigError> {
    while matches!(p.peek().kind, TokenKind::OpenParen | TokenKind::OpenBracket)
        || (p.peek().kind == TokenKind::Word && confed_kind(&p.peek().text).is_some())
    {
        let open = p.advance();
        exabgp5_group(p, &open, segments)?;
    }
    Ok(())
}

/// One group of [`exabgp5_groups`], from just after its `open` token (`(`, `[` or a
/// confederation word).
fn exabgp5_group(
    p: &mut Parser,
    open: &Token,
    segments: &mut Vec<AsSegment>,
) -> Result<(), ConfigError> {
    {
        let (kind, close) = if let Some(kind) = confed_kind(&open.text) {
            let bracket = p.advance();
            if bracket.kind != TokenKind::OpenBracket {
                return Err(p.unexpected(&bracket, &format!("'[' after {}", open.text)));
            }
            (kind, TokenKind::CloseBracket)
        } else if open.kind == TokenKind::OpenParen {
            (SegmentType::Set, TokenKind::CloseParen)
        } else {
            (SegmentType::Sequence, TokenKind::CloseBracket)
        };
        let mut asns = Vec::new();
        loop {
            let token = p.advance();
            if token.kind == close {
                break;
            }
            if token.kind != TokenKind::Word {
                return Err(p.unexpected(&token, "an ASN or the end of the as-path group"));
            }
            asns.push(values::asn(&token.text).map_err(|e| p.bad_value("as-path", &token, e))?);
        }
        if asns.is_empty() {
            return Err(p.error_at(
                open.position,
                "empty group in as-path, expected at least one ASN",
            ));
        }
        match segments.last_mut() {
            Some(last) if last.kind == kind && kind == SegmentType::Sequence => {
                last.asns.extend(asns)
            }
            _ => segments.push(AsSegment { kind, asns }),
        }
    }
    Ok(())
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

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::config::parse_str;
    use crate::wire::attribute::type_code as tc;

    /// The attributes of the single route of `route ROUTE` in a minimal neighbor.
    fn attributes(route: &str) -> Result<RouteAttributes, String> {
        let text = format!(
            "neighbor 192.0.2.1 {{ router-id 192.0.2.10; local-as 65000; peer-as 65001;\n static {{ route {route} }} }}"
        );
        let config = parse_str(&text, Path::new("t.conf")).map_err(|e| e.to_string())?;
        let route = config.neighbors[0].routes.iter().next().ok_or("no route")?;
        Ok((**route.attributes).clone())
    }

    fn address(text: &str) -> NextHop {
        NextHop::Address {
            global: text.parse().unwrap(),
            link_local: None,
        }
    }

    #[test]
    fn exabgp_5_as_path_groups_name_and_withdraw() {
        let a =
            attributes("10.0.0.0/8 next-hop 192.0.2.10 as-path [ 1 2 ] ( 3 4 ) [ 5 ] name web;")
                .unwrap();
        let Some(PathAttribute::AsPath(path)) = a.get(tc::AS_PATH).cloned() else {
            panic!("no AS_PATH");
        };
        let kinds: Vec<(SegmentType, Vec<u32>)> = path
            .segments
            .iter()
            .map(|s| (s.kind, s.asns.clone()))
            .collect();
        assert_eq!(
            kinds,
            vec![
                (SegmentType::Sequence, vec![1, 2]),
                (SegmentType::Set, vec![3, 4]),
                (SegmentType::Sequence, vec![5]),
            ]
        );
        assert_eq!(
            attributes("10.0.0.0/8 next-hop 192.0.2.10 withdraw;"),
            Err("no route".into())
        );
    }

    fn watchdog_routes(routes: &str) -> Result<Vec<crate::config::model::WatchdogRoute>, String> {
        let text = format!(
            "neighbor 192.0.2.1 {{ router-id 192.0.2.10; local-as 65000; peer-as 65001;\n static {{ {routes} }} }}"
        );
        let config = parse_str(&text, Path::new("t.conf")).map_err(|e| e.to_string())?;
        Ok(config.neighbors[0].routes.watchdog.clone())
    }

    #[test]
    fn watchdog_routes_are_kept_apart_with_their_start_state() {
        let w = watchdog_routes(
            "route 10.0.0.0/8 next-hop 192.0.2.10 watchdog dnsr withdraw; route 10.1.0.0/16 next-hop 192.0.2.10 withdrawn watchdog x.y-z_1/@:; route 10.2.0.0/16 { next-hop 192.0.2.10; watchdog dnsr; } route 10.3.0.0/16 next-hop 192.0.2.10;",
        )
        .unwrap();
        let got: Vec<(String, String, bool)> = w
            .iter()
            .map(|r| (r.route.prefix.to_string(), r.name.clone(), r.withdraw))
            .collect();
        assert_eq!(
            got,
            vec![
                ("10.0.0.0/8".into(), "dnsr".into(), true),
                ("10.1.0.0/16".into(), "x.y-z_1/@:".into(), true),
                ("10.2.0.0/16".into(), "dnsr".into(), false),
            ]
        );
        // The plain route is the only one in the static table.
        assert_eq!(
            attributes("10.3.0.0/16 next-hop 192.0.2.10 watchdog w;"),
            Err("no route".into())
        );
        for bad in ["announce", "withdraw", "\"quoted name\"", "{"] {
            let e = watchdog_routes(&format!(
                "route 10.0.0.0/8 next-hop 192.0.2.10 watchdog {bad};"
            ))
            .unwrap_err();
            assert!(e.contains("watchdog"), "{bad}: {e}");
        }
        let e = watchdog_routes("route 10.0.0.0/8 next-hop 192.0.2.10 watchdog a watchdog b;")
            .unwrap_err();
        assert!(e.contains("twice"), "{e}");
        let long = "w".repeat(MAX_WATCHDOG_NAME + 1);
        assert!(
            watchdog_routes(&format!(
                "route 10.0.0.0/8 next-hop 192.0.2.10 watchdog {long};"
            ))
            .is_err()
        );
    }

    #[test]
    fn next_hop_address_or_self() {
        let a = attributes("10.0.0.0/8 next-hop 192.0.2.10;").unwrap();
        assert_eq!(a, RouteAttributes::with_next_hop(address("192.0.2.10")));
        let a = attributes("2001:db8::/32 next-hop self;").unwrap();
        assert_eq!(a.next_hop, NextHop::SelfAddress);
    }

    #[test]
    fn next_hop_must_match_family_and_be_global_unicast() {
        let e = attributes("2001:db8::/32 next-hop 192.0.2.1;").unwrap_err();
        assert!(
            e.starts_with("t.conf:2:17: next-hop 192.0.2.1 is IPv4 but route"),
            "{e}"
        );
        // RFC 8950: only with `capability { nexthop { ipv4 unicast ipv6; } }` in the neighbor.
        let e = attributes("10.0.0.0/8 next-hop 2001:db8::1;").unwrap_err();
        assert!(
            e.starts_with(
                "t.conf:2:17: route 10.0.0.0/8 of neighbor 192.0.2.1 has an IPv6 next hop"
            ) && e.contains("nexthop { ipv4 unicast ipv6; }"),
            "{e}"
        );
        assert!(attributes("2001:db8::/32 next-hop fe80::1;").is_err());
        let a = attributes("2001:db8::/32 next-hop 2001:db8::1 fe80::1 med 5;").unwrap();
        assert_eq!(
            a.next_hop,
            NextHop::Address {
                global: "2001:db8::1".parse().unwrap(),
                link_local: Some("fe80::1".parse().unwrap()),
            }
        );
        assert!(attributes("2001:db8::/32 next-hop 2001:db8::1 2001:db8::2;").is_err());
        assert!(attributes("10.0.0.0/8 next-hop 0.0.0.0;").is_err());
        // Sent as written, as ExaBGP does, with a warning at --check.
        assert!(attributes("10.0.0.0/8 next-hop 224.0.0.1;").is_ok());
        assert!(attributes("10.0.0.0/8 next-hop 255.255.255.255;").is_ok());
    }

    #[test]
    fn missing_next_hop_points_at_the_prefix() {
        let e = attributes("10.0.0.0/8 med 5;").unwrap_err();
        assert!(
            e.starts_with("t.conf:2:17: route 10.0.0.0/8 has no next-hop"),
            "{e}"
        );
    }

    #[test]
    fn origin_med_local_preference() {
        let a = attributes(
            "10.0.0.0/8 next-hop 192.0.2.1 origin incomplete med 4294967295 local-preference 200;",
        )
        .unwrap();
        assert_eq!(a.origin(), Origin::Incomplete);
        assert_eq!(a.get(tc::MED), Some(&PathAttribute::Med(u32::MAX)));
        assert_eq!(a.get(tc::LOCAL_PREF), Some(&PathAttribute::LocalPref(200)));
        assert_eq!(
            attributes("10.0.0.0/8 next-hop 192.0.2.1 origin egp;")
                .unwrap()
                .origin(),
            Origin::Egp
        );
        assert!(attributes("10.0.0.0/8 next-hop 192.0.2.1 origin bgp;").is_err());
        assert!(attributes("10.0.0.0/8 next-hop 192.0.2.1 med 4294967296;").is_err());
    }

    #[test]
    fn as_path_sequence_set_single_and_asdot() {
        let a = attributes(
            "10.0.0.0/8 next-hop 192.0.2.1 as-path [ 65000 1.10 ( 65001 65002 ) 65003 ];",
        )
        .unwrap();
        let Some(PathAttribute::AsPath(path)) = a.get(tc::AS_PATH).cloned() else {
            panic!("no AS_PATH")
        };
        assert_eq!(
            path.segments,
            vec![
                AsSegment {
                    kind: SegmentType::Sequence,
                    asns: vec![65000, 65546]
                },
                AsSegment {
                    kind: SegmentType::Set,
                    asns: vec![65001, 65002]
                },
                AsSegment {
                    kind: SegmentType::Sequence,
                    asns: vec![65003]
                },
            ]
        );
        let a = attributes("10.0.0.0/8 next-hop 192.0.2.1 as-path 65000;").unwrap();
        assert_eq!(
            a.get(tc::AS_PATH),
            Some(&PathAttribute::AsPath(AsPath::sequence(vec![65000])))
        );
        let a = attributes("10.0.0.0/8 next-hop 192.0.2.1 as-path [ ];").unwrap();
        assert_eq!(
            a.get(tc::AS_PATH),
            Some(&PathAttribute::AsPath(AsPath::default()))
        );
    }

    #[test]
    fn as_path_with_commas_as_exabgp_reads_it() {
        let a = attributes("10.0.0.0/8 next-hop 192.0.2.1 as-path [ 100, 500 , 600 ];").unwrap();
        let Some(PathAttribute::AsPath(path)) = a.get(tc::AS_PATH).cloned() else {
            panic!("no AS_PATH")
        };
        assert_eq!(path.segments[0].asns, vec![100, 500, 600]);
    }

    #[test]
    fn as_path_errors() {
        assert!(attributes("10.0.0.0/8 next-hop 192.0.2.1 as-path [ 0 ];").is_err());
        assert!(attributes("10.0.0.0/8 next-hop 192.0.2.1 as-path [ ( ) ];").is_err());
        assert!(attributes("10.0.0.0/8 next-hop 192.0.2.1 as-path [ ( 1 ( 2 ) ) ];").is_err());
        assert!(attributes("10.0.0.0/8 next-hop 192.0.2.1 as-path [ 1 ) ];").is_err());
        assert!(attributes("10.0.0.0/8 next-hop 192.0.2.1 as-path [ 1 ( 2 ];").is_err());
    }

    #[test]
    fn communities_single_or_list() {
        let a =
            attributes("10.0.0.0/8 next-hop 192.0.2.1 community [ 65000:1 no-export 7 ];").unwrap();
        assert_eq!(
            a.communities(),
            vec![Community(0xFDE8_0001), Community(0xFFFF_FF01), Community(7)]
        );
        let a = attributes("10.0.0.0/8 next-hop 192.0.2.1 community 65000:2;").unwrap();
        assert_eq!(a.communities(), vec![Community(0xFDE8_0002)]);
        let e = attributes("10.0.0.0/8 next-hop 192.0.2.1 community [ 65536:1 ];").unwrap_err();
        assert!(e.contains("found '65536:1'"), "{e}");
    }

    #[test]
    fn extended_and_large_communities() {
        let a = attributes("10.0.0.0/8 next-hop 192.0.2.1 extended-community [ target:65000:1 origin:192.0.2.1:5 ] large-community 65000:1:2;").unwrap();
        assert_eq!(a.extended_communities().len(), 2);
        assert_eq!(
            a.extended_communities()[1].to_string(),
            "origin:192.0.2.1:5"
        );
        assert_eq!(
            a.get(tc::LARGE_COMMUNITY),
            Some(&PathAttribute::LargeCommunities(vec![LargeCommunity {
                global: 65000,
                local1: 1,
                local2: 2
            }]))
        );
    }

    #[test]
    fn atomic_aggregate_and_aggregator_with_or_without_parentheses() {
        let a = attributes(
            "10.0.0.0/8 next-hop 192.0.2.1 atomic-aggregate aggregator ( 65000:192.0.2.1 );",
        )
        .unwrap();
        assert!(a.get(tc::ATOMIC_AGGREGATE).is_some());
        let expected = PathAttribute::Aggregator {
            asn: 65000,
            address: "192.0.2.1".parse().unwrap(),
        };
        assert_eq!(a.get(tc::AGGREGATOR), Some(&expected));
        let a = attributes("10.0.0.0/8 next-hop 192.0.2.1 aggregator 65000:192.0.2.1;").unwrap();
        assert_eq!(a.get(tc::AGGREGATOR), Some(&expected));
        assert!(a.get(tc::ATOMIC_AGGREGATE).is_none());
        assert!(
            attributes("10.0.0.0/8 next-hop 192.0.2.1 aggregator ( 65000:192.0.2.1 ;").is_err()
        );
    }

    #[test]
    fn block_form_equals_inline_form() {
        let block =
            attributes("10.0.0.0/8 { next-hop 192.0.2.1; med 10; community [ 1:2 ]; }").unwrap();
        let inline = attributes("10.0.0.0/8 next-hop 192.0.2.1 med 10 community [ 1:2 ];").unwrap();
        assert_eq!(block, inline);
        let e = attributes("10.0.0.0/8 { next-hop 192.0.2.1; med 10 }").unwrap_err();
        assert!(e.contains("expected ';' after med value, found '}'"), "{e}");
    }

    #[test]
    fn attribute_twice_and_unknown_attribute() {
        let e = attributes("10.0.0.0/8 next-hop 192.0.2.1 med 1 med 2;").unwrap_err();
        assert!(e.contains("'med' given twice in route 10.0.0.0/8"), "{e}");
        let e = attributes("10.0.0.0/8 next-hop 192.0.2.1 colour red;").unwrap_err();
        assert!(
            e.contains("unknown route attribute 'colour' in route 10.0.0.0/8"),
            "{e}"
        );
    }

    #[test]
    fn originator_cluster_aigp_and_generic_attributes() {
        let a = attributes(
            "10.0.0.0/8 next-hop 192.0.2.1 originator-id 10.0.0.1 cluster-list [ 3.3.3.3 192.168.201.1 ] aigp 1000 attribute [ 0x99 0xc0 0x0102 ];",
        )
        .unwrap();
        assert_eq!(
            a.values(),
            vec![
                PathAttribute::OriginatorId("10.0.0.1".parse().unwrap()),
                PathAttribute::ClusterList(vec![
                    "3.3.3.3".parse().unwrap(),
                    "192.168.201.1".parse().unwrap()
                ]),
                aigp_attribute(1000),
                PathAttribute::Unknown {
                    code: 0x99,
                    flags: 0xc0,
                    value: vec![1, 2]
                },
            ]
        );
        // ExaBGP's spelling of `med 100`: the known attribute is decoded and set.
        let a = attributes("10.0.0.0/8 next-hop 192.0.2.1 attribute [ 0x04 0x80 0x00000064 ];")
            .unwrap();
        assert_eq!(a.values(), vec![PathAttribute::Med(100)]);
        // An unknown code without the optional bit is sent as written (ExaBGP does), with a
        // --check warning: a peer that does not know it resets the session.
        let (c, notes) = crate::config::parse_str_with_notes(
            "neighbor 192.0.2.1 { router-id 192.0.2.10; local-as 1; peer-as 1; static { route 10.0.0.0/8 next-hop 192.0.2.1 attribute [ 0x99 0x40 0x01 ]; } }",
            std::path::Path::new("t.conf"),
        )
        .unwrap();
        assert!(
            notes
                .iter()
                .any(|n| n.contains("t.conf:1:129: warning: 'attribute' 0x99")),
            "{notes:?}"
        );
        assert_eq!(c.neighbors.len(), 1);
        for (bad, why) in [
            ("attribute [ 0x04 0x80 0x00000064 ] med 5", "given twice"),
            ("attribute [ 0x02 0x40 0x02010000fde8 ]", "own keyword"),
            ("attribute [ 0x04 0x80 0x0000 ]", "attribute 0x04"),
            ("attribute [ 0x99 0xc0 0x012 ]", "hexadecimal"),
            (
                "attribute [ 0x99 0xc0 0x01 ] attribute [ 0x99 0xc0 0x02 ]",
                "twice",
            ),
            ("attribute [ 0x999 0xc0 0x01 ]", "one octet"),
            ("aigp -1", "aigp"),
            ("originator-id 2001:db8::1", "originator-id"),
        ] {
            let e = attributes(&format!("10.0.0.0/8 next-hop 192.0.2.1 {bad};")).unwrap_err();
            assert!(e.contains(why), "{bad}: {e}");
        }
    }

    #[test]
    fn otc_keyword_and_raw_otc_attribute() {
        use crate::wire::attribute::OTC_SELF;
        let a = attributes("10.0.0.0/8 next-hop 192.0.2.1 otc 65123;").unwrap();
        assert_eq!(a.values(), vec![PathAttribute::Otc(65123)]);
        assert_eq!(a.words(), " otc 65123");
        let a = attributes("10.0.0.0/8 next-hop 192.0.2.1 otc 1.1;").unwrap();
        assert_eq!(a.values(), vec![PathAttribute::Otc(65537)]);
        for v in ["self", "provider", "rs-client"] {
            let a = attributes(&format!("10.0.0.0/8 next-hop 192.0.2.1 otc {v};")).unwrap();
            assert_eq!(a.values(), vec![PathAttribute::Otc(OTC_SELF)], "{v}");
            assert_eq!(a.words(), " otc self");
        }
        // Raw: kept as written (flags included), not decoded into the keyword's form.
        let a = attributes("10.0.0.0/8 next-hop 192.0.2.1 attribute [ 0x23 0xe0 0x0000fde7 ];")
            .unwrap();
        assert_eq!(
            a.values(),
            vec![PathAttribute::Unknown {
                flags: 0xe0,
                code: 35,
                value: vec![0, 0, 0xfd, 0xe7]
            }]
        );
        for (bad, why) in [
            ("otc 0", "an AS number (not 0)"),
            ("otc none", "an AS number"),
            ("otc 4294967296", "an AS number"),
            ("otc 65000 otc 65001", "twice"),
            ("otc", "a value after otc"),
        ] {
            let e = attributes(&format!("10.0.0.0/8 next-hop 192.0.2.1 {bad};")).unwrap_err();
            assert!(e.contains(why), "{bad}: {e}");
        }
    }
}
