//! Routes whose NLRI is not a prefix: EVPN and VPLS (`announce { l2vpn { evpn ...; vpls
//! ...; } }`, ExaBGP's neighbor-level `l2vpn { vpls ...; }`), route target constraint, MUP,
//! MCAST-VPN and SR Policy (`announce { ipv4 { rtc ...; mup mup-isd ...; mcast-vpn ...;
//! sr-policy ...; } }`), and the same words after `announce` in the API.
//!
//! A statement mixes the NLRI's fields and the route's attributes in any order, as ExaBGP
//! writes them (`vpls endpoint 5 base 10702 ... next-hop 192.0.2.1 ... rd 192.0.2.1:123`), or
//! puts them in a named block (`vpls site5 { endpoint 5; ...; }`). The fields are collected as
//! words and read by `wire::nlri::words` (the inverse of the NLRI's `Display`); every other
//! statement is an attribute, read by the route parser. Errors point at the word at fault.

use crate::rib::key::NlriKey;
use crate::wire::family::{Afi, Family, Safi};
use crate::wire::nlri::{FamilyNlri, mup::MupRoute, mvpn::Mvpn, words};

use super::ConfigError;
use super::labels;
use super::lexer::{Position, Token, TokenKind};
use super::model::FamilyRoute;
use super::parser::{Origin, Parser};
use super::route::{self, AttributeSettings};
use super::route_list::ParsedRoutes;

/// A parsed route of a `wire::nlri` family and where it was written.
pub(crate) struct ParsedFamilyRoute {
    pub route: FamilyRoute,
    /// The statement's first word.
    pub at: Position,
    pub origin: Origin,
    /// ExaBGP's `withdraw`: parsed and checked, never announced.
    pub withdraw: bool,
    /// Written in a neighbor-level `l2vpn { }` block (ExaBGP's older section), not in
    /// `announce { l2vpn { } }`: ExaBGP 4.2 to main apply those routes after the `announce`
    /// ones, so for the same NLRI the `l2vpn { }` statement is the one a peer keeps.
    pub late_section: bool,
}

impl ParsedFamilyRoute {
    /// The same route as a template gives it to a neighbor.
    pub fn with_origin(&self, origin: Origin) -> ParsedFamilyRoute {
        ParsedFamilyRoute {
            route: self.route.clone(),
            at: self.at,
            origin,
            withdraw: false,
            late_section: self.late_section,
        }
    }
}

/// The words that start such a route in an `announce { AFI { } }` or `l2vpn { }` block.
pub const KEYWORDS: &[&str] = &[
    "evpn",
    "vpls",
    "rtc",
    "mup",
    "mup-isd",
    "mup-dsd",
    "mup-t1st",
    "mup-t2st",
    "mcast-vpn",
    "sr-policy",
];

/// The NLRI's fields and route types that these statements take (see [`fields`]); each kind
/// takes its own, so the parser's tests check them rather than `config::KEYWORDS`'s.
pub const FIELD_KEYWORDS: &[&str] = &[
    "rd",
    "esi",
    "ethernet-tag",
    "mac",
    "ip",
    "prefix",
    "gateway",
    "label",
    "raw-label",
    "vni",
    "endpoint",
    "base",
    "offset",
    "size",
    "origin",
    "origin-as",
    "route-target",
    "default",
    "wildcard",
    "source",
    "rp",
    "group",
    "source-as",
    "distinguisher",
    "color",
    "teid",
    "qfi",
    "ethernet-ad",
    "mac-ip",
    "multicast",
    "ethernet-segment",
    "ip-prefix",
    "source-ad",
    "shared-join",
    "source-join",
];

/// The family words of these routes in a `family { }` block, with their SAFI.
pub fn safi(word: &str) -> Option<Safi> {
    Some(match word {
        "evpn" => Safi::Evpn,
        "vpls" => Safi::Vpls,
        "rtc" => Safi::Rtc,
        "mup" => Safi::Mup,
        "mcast-vpn" => Safi::Mvpn,
        "sr-policy" => Safi::SrPolicy,
        _ => return None,
    })
}

/// Whether `family` is one of this module's (and `family { }` may list it).
pub fn is_family(family: Family) -> bool {
    matches!(
        (family.afi, family.safi),
        (Afi::L2VPN, Safi::Evpn | Safi::Vpls)
            | (Afi::Ipv4, Safi::Rtc)
            | (
                Afi::Ipv4 | Afi::Ipv6,
                Safi::Mup | Safi::Mvpn | Safi::SrPolicy
            )
    )
}

/// The NLRI fields a route kind takes (each with one value or a `[ ]` list).
fn fields(kind: &str) -> &'static [&'static str] {
    match kind {
        "evpn" => &[
            "rd",
            "esi",
            "ethernet-tag",
            "mac",
            "ip",
            "prefix",
            "gateway",
            "label",
            "raw-label",
            "vni",
        ],
        "vpls" => &["rd", "endpoint", "base", "offset", "size"],
        "rtc" => &["origin-as", "route-target"],
        "mcast-vpn" => &["source", "rp", "group", "rd", "source-as"],
        "sr-policy" => &["distinguisher", "color", "endpoint"],
        _ => &["rd", "teid", "qfi", "endpoint", "source"],
    }
}

/// The statements of ExaBGP's neighbor-level `l2vpn { vpls ...; }` (`late_section`) and of
/// `announce { l2vpn { } }`, from just after `l2vpn`.
pub(super) fn parse_l2vpn_block(
    p: &mut Parser,
    owner: &str,
    routes: &mut ParsedRoutes,
    late_section: bool,
) -> Result<(), ConfigError> {
    let block = format!("the l2vpn block of {owner}");
    let open = p.open_block("l2vpn")?;
    while let Some(kw) = p.block_keyword(&open, &block)? {
        // ExaBGP 3 wrote a VPLS route `route NAME { ve 5; block_offset 1; ... }`.
        let kw = match kw.text.as_str() {
            "evpn" | "vpls" => kw,
            "route" => Token {
                text: "vpls".into(),
                ..kw
            },
            _ => {
                return Err(p.error_at(
                    kw.position,
                    format!(
                        "unknown route kind '{}' in {block}, expected evpn or vpls",
                        kw.text
                    ),
                ));
            }
        };
        let mut parsed = parse_route(p, &kw, Afi::L2VPN)?;
        parsed.late_section = late_section;
        routes.push_family(parsed);
    }
    Ok(())
}

/// One route statement, from just after its first word `kw` (one of [`KEYWORDS`]) to its
/// `;` (or its block's `}`), in a block of `afi` (`Afi::L2VPN` for `l2vpn { }`).
pub(super) fn parse_statement(
    p: &mut Parser,
    kw: &Token,
    afi: Afi,
    routes: &mut ParsedRoutes,
) -> Result<(), ConfigError> {
    let parsed = parse_route(p, kw, afi)?;
    routes.push_family(parsed);
    Ok(())
}

/// What a route statement names in errors: `evpn mac-ip route`, `vpls route site5`.
struct StatementName(String);

impl std::fmt::Display for StatementName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// `\` at the end of a line in ExaBGP's files continues the statement: a separator here.
fn is_continuation(t: &Token) -> bool {
    t.kind == TokenKind::Word && t.text == "\\"
}

fn skip_continuations(p: &mut Parser) {
    while is_continuation(p.peek()) {
        p.advance();
    }
}

/// The route of a statement (see [`parse_statement`]).
pub(crate) fn parse_route(
    p: &mut Parser,
    kw: &Token,
    afi: Afi,
) -> Result<ParsedFamilyRoute, ConfigError> {
    skip_continuations(p);
    // ExaBGP writes `mup mup-isd ...`: the family word, then the route type.
    let first = if kw.text == "mup" {
        let t =
            p.expect_word("a MUP route type (mup-isd, mup-dsd, mup-t1st, mup-t2st) after mup")?;
        if !t.text.starts_with("mup-") {
            return Err(p.unexpected(
                &t,
                "a MUP route type (mup-isd, mup-dsd, mup-t1st, mup-t2st)",
            ));
        }
        t
    } else {
        kw.clone()
    };
    let kind = first.text.clone();
    let mut nlri: Vec<Token> = vec![first.clone()];
    skip_continuations(p);
    match kind.as_str() {
        "evpn" | "mcast-vpn" => nlri.push(p.expect_word(&format!("a route type after {kind}"))?),
        k if k.starts_with("mup-") => {
            nlri.push(p.expect_word(&format!("the route's prefix or address after {k}"))?)
        }
        "rtc" if matches!(p.peek().text.as_str(), "default" | "wildcard") => nlri.push(p.advance()),
        _ => {}
    }
    let mut name = StatementName(format!(
        "{} route",
        nlri.iter()
            .take(if kind.starts_with("mup-") { 1 } else { 2 })
            .map(|t| t.text.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    ));
    skip_continuations(p);
    let fields = fields(&kind);
    let mut a = AttributeSettings::default();
    // ExaBGP's named block: `vpls site5 { endpoint 5; ...; }`.
    let next = p.peek().text.as_str();
    let known = fields.contains(&next)
        || route::KEYWORDS.contains(&next)
        || labels::KEYWORDS.contains(&next)
        || (kind == "rtc" && next == "origin");
    let named = p.peek().kind == TokenKind::Word && !known;
    if named {
        let n = p.advance();
        name = StatementName(format!("{name} {}", n.text));
        if p.peek().kind != TokenKind::OpenBrace {
            let t = p.advance();
            return Err(p.unexpected(&t, &format!("'{{' after the name of {name}")));
        }
    }
    if p.peek().kind == TokenKind::OpenBrace {
        let open = p.advance();
        while let Some(t) = p.block_keyword(&open, &name)? {
            statement(p, &t, &kind, fields, &name, &mut nlri, &mut a)?;
            p.expect_semicolon(&format!("{} value", t.text))?;
        }
    } else {
        loop {
            let t = p.advance();
            match t.kind {
                TokenKind::Semicolon => break,
                TokenKind::Word if is_continuation(&t) => {}
                TokenKind::Word => statement(p, &t, &kind, fields, &name, &mut nlri, &mut a)?,
                _ => {
                    return Err(
                        p.unexpected(&t, &format!("a field, an attribute or ';' to end {name}"))
                    );
                }
            }
        }
    }
    let texts: Vec<&str> = nlri.iter().map(|t| t.text.as_str()).collect();
    let at = |i: usize| nlri.get(i).unwrap_or(&first).position;
    let (value, used) =
        words::parse(&texts).map_err(|e| p.error_at(at(e.index), format!("{name}: {e}")))?;
    if let Some(extra) = nlri.get(used) {
        return Err(p.unexpected(extra, &format!("a field of {name}")));
    }
    let family =
        family_of(&value, afi).map_err(|e| p.error_at(first.position, format!("{name}: {e}")))?;
    let (split, withdraw, nlri_settings) = a.take_route_statements();
    if let Some((_, at)) = a.take_watchdog() {
        return Err(p.error_at(
            at,
            format!("'watchdog' applies to prefix routes, not yet to {name}"),
        ));
    }
    if let Some((_, at)) = split {
        return Err(p.error_at(at, format!("'split' applies to prefixes, not to {name}")));
    }
    let options = labels::finish(p, &name, nlri_settings)?;
    if options.rd.is_some() || !options.labels.is_empty() {
        return Err(p.error_at(
            first.position,
            format!("{name} takes no 'rd' or 'label' ({family} NLRI have no such field)"),
        ));
    }
    let attributes = route::finish_attributes(p, a, &name, first.position)?;
    // An IPv6 next hop for an IPv4 family would need RFC 8950 for it: refused here rather
    // than left unsent. MUP is the exception: its SRv6 routes of IPv4 have IPv6 next hops (as
    // ExaBGP and GoBGP send them).
    if let crate::rib::attributes::NextHop::Address { global, .. } = attributes.next_hop
        && global.is_ipv6()
        && family.afi == Afi::Ipv4
        && family.safi != Safi::Mup
    {
        return Err(p.error_at(
            first.position,
            format!("{name}: next-hop {global} is IPv6, expected an IPv4 next hop for {family}"),
        ));
    }
    Ok(ParsedFamilyRoute {
        route: FamilyRoute {
            key: NlriKey::of_family(family, value, options.path_id),
            attributes,
            location: p.location(kw.position),
            api_text: None,
        },
        at: first.position,
        origin: p.origin(),
        withdraw,
        late_section: false,
    })
}

/// ExaBGP 3's words for the VPLS fields: `ve`, `block_offset`, `block_size`, `label_base` in
/// its `route NAME { }` blocks, `vpls-endpoint`, `vpls-block-offset`, `vpls-block-size`,
/// `vpls-label-base` on one line.
fn exabgp3_vpls_field(word: &str) -> Option<&'static str> {
    Some(match word {
        "ve" | "vpls-endpoint" => "endpoint",
        "block_offset" | "vpls-block-offset" => "offset",
        "block_size" | "vpls-block-size" => "size",
        "label_base" | "vpls-label-base" => "base",
        _ => return None,
    })
}

/// One field (its word and value pushed onto `nlri`) or one attribute of a statement.
fn statement(
    p: &mut Parser,
    t: &Token,
    kind: &str,
    fields: &[&str],
    name: &StatementName,
    nlri: &mut Vec<Token>,
    a: &mut AttributeSettings,
) -> Result<(), ConfigError> {
    // RTC's origin AS is `origin N` (the words) or `origin-as N` (ExaBGP's); `origin
    // igp` stays the ORIGIN attribute.
    let rtc_origin = kind == "rtc" && t.text == "origin" && p.peek().text.parse::<u32>().is_ok();
    let field = if kind == "vpls" {
        exabgp3_vpls_field(&t.text).unwrap_or(&t.text)
    } else {
        &t.text
    };
    if !fields.contains(&field) && !rtc_origin {
        return route::parse_attribute(p, t, None, name, a);
    }
    nlri.push(Token {
        text: field.to_string(),
        ..t.clone()
    });
    skip_continuations(p);
    let value = p.advance();
    match value.kind {
        TokenKind::Word => nlri.push(value),
        TokenKind::OpenBracket => {
            nlri.push(Token {
                kind: TokenKind::Word,
                text: "[".into(),
                position: value.position,
            });
            loop {
                let v = p.advance();
                match v.kind {
                    TokenKind::Word if is_continuation(&v) => {}
                    TokenKind::Word => nlri.push(v),
                    TokenKind::CloseBracket => {
                        nlri.push(Token {
                            kind: TokenKind::Word,
                            text: "]".into(),
                            position: v.position,
                        });
                        break;
                    }
                    _ => return Err(p.unexpected(&v, &format!("a value or ']' in {}", t.text))),
                }
            }
        }
        _ => return Err(p.unexpected(&value, &format!("a value after {}", t.text))),
    }
    Ok(())
}

/// The family of `nlri` in a block of `afi`: the block must be the NLRI's (EVPN and VPLS in
/// `l2vpn`, RTC in `ipv4`, MUP, MCAST-VPN and SR Policy in the AFI of their addresses).
pub fn family_of(nlri: &FamilyNlri, afi: Afi) -> Result<Family, String> {
    let (family, address) = match nlri {
        FamilyNlri::Evpn(_) => (Family::new(Afi::L2VPN, Safi::Evpn), None),
        FamilyNlri::Vpls(_) => (Family::new(Afi::L2VPN, Safi::Vpls), None),
        FamilyNlri::Rtc(_) => (Family::new(Afi::Ipv4, Safi::Rtc), None),
        FamilyNlri::Mup(m) => {
            let a = match &m.route {
                MupRoute::Isd { prefix, .. } | MupRoute::Type1St { prefix, .. } => {
                    Some(prefix.addr)
                }
                MupRoute::Dsd { address, .. } => Some(*address),
                MupRoute::Type2St { endpoint, .. } => Some(*endpoint),
                MupRoute::Unknown { .. } => None,
            };
            (Family::new(afi, Safi::Mup), a)
        }
        FamilyNlri::Mvpn(m) => {
            let a = match m {
                Mvpn::SourceActiveAd { source, .. } | Mvpn::CMulticast { source, .. } => {
                    Some(*source)
                }
                Mvpn::Unknown { .. } => None,
            };
            (Family::new(afi, Safi::Mvpn), a)
        }
        FamilyNlri::SrPolicy(s) => (Family::new(afi, Safi::SrPolicy), Some(s.endpoint)),
        FamilyNlri::FlowVpn(_) | FamilyNlri::BgpLs(_) => {
            return Err("this family is not announced from these words".into());
        }
    };
    if family.afi != afi {
        let block = match afi {
            Afi::L2VPN => "l2vpn".to_string(),
            Afi::Ipv4 => "ipv4".to_string(),
            Afi::Ipv6 => "ipv6".to_string(),
            other => format!("{other:?}"),
        };
        return Err(format!("a {family} route cannot be in an {block} block"));
    }
    if let Some(a) = address
        && (a.is_ipv4() != (afi == Afi::Ipv4))
    {
        return Err(format!(
            "{a} is not an address of the {} block's family",
            if afi == Afi::Ipv4 { "ipv4" } else { "ipv6" }
        ));
    }
    Ok(family)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::config::parse_str;

    /// The routes of a neighbor with `body` after its family block, or the error.
    fn parse(families: &str, body: &str) -> Result<Vec<String>, String> {
        let text = format!(
            "neighbor 192.0.2.1 {{ router-id 192.0.2.10; local-as 65000; peer-as 65001;\nfamily {{ {families} }}\n{body}\n}}"
        );
        let c = parse_str(&text, Path::new("t.conf")).map_err(|e| e.to_string())?;
        Ok(c.neighbors[0]
            .routes
            .family_routes
            .iter()
            .map(|r| r.key.to_string())
            .collect())
    }

    const ALL: &str =
        "l2vpn evpn; l2vpn vpls; ipv4 rtc; ipv4 mup; ipv6 mup; ipv4 mcast-vpn; ipv4 sr-policy;";

    /// ExaBGP 3's VPLS spellings (its ibgp4-l2vpn examples) are the same routes as today's.
    #[test]
    fn exabgp3_vpls_words_are_todays() {
        let today = parse(
            "l2vpn vpls;",
            "l2vpn { vpls rd 192.0.2.1:123 endpoint 5 base 10702 offset 1 size 8 next-hop 192.0.2.1; }",
        )
        .unwrap();
        let block = parse(
            "l2vpn vpls;",
            "l2vpn { route site4 { next-hop 192.0.2.1; rd 192.0.2.1:123; ve 5; block_offset 1; block_size 8; label_base 10702; } }",
        )
        .unwrap();
        let line = parse(
            "l2vpn vpls;",
            "l2vpn { vpls next-hop 192.0.2.1 rd 192.0.2.1:123 vpls-endpoint 5 vpls-block-offset 1 vpls-block-size 8 vpls-label-base 10702; }",
        )
        .unwrap();
        assert_eq!(today, block);
        assert_eq!(today, line);
        // Only in VPLS routes, and `route` only names a VPLS route in an l2vpn block.
        let e = parse(
            "ipv4 sr-policy;",
            "announce { ipv4 { sr-policy distinguisher 1 color 1 endpoint 192.0.2.1 ve 5 next-hop 192.0.2.1; } }",
        )
        .unwrap_err();
        assert!(e.contains("'ve'"), "{e}");
    }

    /// The same VPLS NLRI in a neighbor-level `l2vpn { }` block and in `announce { l2vpn { }
    /// }` (ExaBGP's conf-l2vpn): the `l2vpn { }` statement is kept, before or after, as ExaBGP
    /// 4.2.25 and 5.0.13 send it (local-preference 100 in their UPDATE, bytes
    /// `40050400000064` next to the NLRI `...C0A8C901007B...`); within one kind of block the
    /// later statement wins.
    #[test]
    fn the_l2vpn_block_wins_over_announce_as_in_exabgp() {
        let lp = |body: &str| -> Vec<u32> {
            let text = format!(
                "neighbor 192.0.2.1 {{ router-id 192.0.2.10; local-as 65000; peer-as 65000;\nfamily {{ l2vpn vpls; }}\n{body}\n}}"
            );
            let c = parse_str(&text, Path::new("t.conf")).unwrap();
            c.neighbors[0]
                .routes
                .family_routes
                .iter()
                .map(|r| match r.attributes.get(5) {
                    Some(crate::wire::attribute::PathAttribute::LocalPref(v)) => *v,
                    _ => 0,
                })
                .collect()
        };
        let vpls = "vpls rd 192.168.201.1:123 endpoint 5 base 10702 offset 1 size 8 next-hop 192.168.201.1";
        let block = format!("l2vpn {{ {vpls} local-preference 100; }}");
        let announce = format!("announce {{ l2vpn {{ {vpls} local-preference 1; }} }}");
        assert_eq!(lp(&format!("{block}\n{announce}")), vec![100]);
        assert_eq!(lp(&format!("{announce}\n{block}")), vec![100]);
        let block2 = format!("l2vpn {{ {vpls} local-preference 7; }}");
        assert_eq!(lp(&format!("{block}\n{block2}\n{announce}")), vec![7]);
        let announce2 = format!("announce {{ l2vpn {{ {vpls} local-preference 9; }} }}");
        assert_eq!(lp(&format!("{announce}\n{announce2}")), vec![9]);
    }

    /// Every word of `FIELD_KEYWORDS` is read by the statement of some kind.
    #[test]
    fn every_field_keyword_is_a_field_of_some_kind() {
        for kw in super::FIELD_KEYWORDS {
            let known = ["evpn", "vpls", "rtc", "mcast-vpn", "sr-policy", "mup-isd"]
                .iter()
                .any(|k| super::fields(k).contains(kw))
                || crate::wire::nlri::words::EVPN_ROUTES.contains(kw)
                || [
                    "origin",
                    "default",
                    "wildcard",
                    "source-ad",
                    "shared-join",
                    "source-join",
                ]
                .contains(kw);
            assert!(known, "{kw}");
        }
    }

    #[test]
    fn every_kind_in_the_announce_and_l2vpn_blocks() {
        let got = parse(
            ALL,
            "announce { l2vpn { evpn multicast rd 1:1 ip 192.0.2.2 next-hop 192.0.2.2; }
             ipv4 { rtc default next-hop 192.0.2.1; mup mup-dsd 10.0.0.1 rd 1:1 next-hop 192.0.2.1;
                    mcast-vpn source-ad source 10.0.0.4 group 239.1.1.1 rd 1:1 next-hop 192.0.2.1;
                    sr-policy distinguisher 1 color 2 endpoint 192.0.2.9 next-hop 192.0.2.1; }
             ipv6 { mup-isd 2001:db8::/64 rd 1:1 next-hop 2001:db8::1; } }
             l2vpn { vpls site5 { endpoint 5; base 10732; offset 1; size 8; next-hop 192.0.2.1; rd 192.0.2.1:124; } }",
        )
        .unwrap();
        assert_eq!(
            got,
            [
                "evpn multicast rd 1:1 ethernet-tag 0 ip 192.0.2.2",
                "rtc wildcard",
                "ipv4 mup-dsd 10.0.0.1 rd 1:1",
                "ipv4 mcast-vpn source-ad source 10.0.0.4 group 239.1.1.1 rd 1:1",
                "ipv4 sr-policy distinguisher 1 color 2 endpoint 192.0.2.9",
                "ipv6 mup-isd 2001:db8::/64 rd 1:1",
                "vpls rd 192.0.2.1:124 endpoint 5 base 10732 offset 1 size 8",
            ]
        );
    }

    /// `--check` names the file, line and column of the word at fault.
    #[test]
    fn malformed_words_are_reported_where_they_are() {
        let e = |body: &str| parse(ALL, body).unwrap_err();
        // SRv6 MUP of IPv4 takes an IPv6 next hop (ExaBGP's conf-srv6-mup).
        assert!(
            parse(
                ALL,
                "announce { ipv4 { mup mup-isd 10.0.1.0/24 rd 1:1 next-hop 2001::1; } }"
            )
            .is_ok()
        );
        let l2 = |route: &str| e(&format!("announce {{ l2vpn {{\n{route}\n}} }}"));
        assert_eq!(
            l2("evpn mac-ip rd 1:1 mac 00:11:zz label [ 5 ] next-hop 192.0.2.2;"),
            "t.conf:4:24: evpn mac-ip route: '00:11:zz' is not a MAC address (00:11:22:aa:bb:cc)"
        );
        assert!(
            l2("evpn mac-address rd 1:1 next-hop 192.0.2.2;").starts_with(
                "t.conf:4:6: evpn mac-address route: unknown EVPN route type 'mac-address'"
            ),
        );
        assert!(
            l2("evpn mac-ip rd 1:1 mac 00:11:22:aa:bb:cc label [ 1048576 ] next-hop 192.0.2.2;")
                .starts_with("t.conf:4:50: evpn mac-ip route: label 1048576 is over 1048575"),
        );
        assert!(
            l2("evpn multicast rd 1:1 ip 192.0.2.2;")
                .starts_with("t.conf:4:1: evpn multicast route has no next-hop"),
        );
        assert!(
            l2("evpn multicast rd 1:1 ip 192.0.2.2 next-hop 192.0.2.2 colour red;")
                .starts_with("t.conf:4:55: unknown route attribute 'colour'"),
        );
        assert!(
            l2("evpn multicast ip 192.0.2.2 next-hop 192.0.2.2;")
                .starts_with("t.conf:4:6: evpn multicast route: missing 'rd'"),
        );
        assert!(
            l2("rtc origin 1 route-target target:1:1 next-hop 192.0.2.1;")
                .starts_with("t.conf:4:1: unknown route kind 'rtc' in the l2vpn block"),
        );
        let v4 = |route: &str| e(&format!("announce {{ ipv4 {{\n{route}\n}} }}"));
        assert!(
            v4("mup mup-isd 2001:db8::/64 rd 1:1 next-hop 192.0.2.1;").starts_with(
                "t.conf:4:5: mup-isd route: 2001:db8:: is not an address of the ipv4 block"
            ),
            "{}",
            v4("mup mup-isd 2001:db8::/64 rd 1:1 next-hop 192.0.2.1;")
        );
        assert!(
            v4("evpn multicast rd 1:1 ip 192.0.2.2 next-hop 192.0.2.2;")
                .contains("a l2vpn evpn route cannot be in an ipv4 block"),
        );
        assert!(
            v4("rtc origin 1 route-target target:1:1 next-hop 2001:db8::1;")
                .contains("expected an IPv4 next hop for ipv4 rtc"),
        );
        assert!(
            v4("rtc origin 1 route-target target:1:1 label 5 next-hop 192.0.2.1;")
                .contains("takes no 'rd' or 'label'"),
        );
        assert!(
            v4("rtc origin 1 route-target 1:x next-hop 192.0.2.1;")
                .starts_with("t.conf:4:27: rtc route: '1:x' is not a route target"),
        );
        // `origin igp` stays the ORIGIN attribute.
        assert!(
            parse(ALL, "announce { ipv4 { rtc origin 1 route-target target:1:1 origin igp next-hop 192.0.2.1; } }")
                .is_ok()
        );
        // A family the family block does not list.
        let e = parse(
            "ipv4 unicast;",
            "announce { l2vpn {\nevpn multicast rd 1:1 ip 192.0.2.2 next-hop 192.0.2.2;\n} }",
        )
        .unwrap_err();
        assert!(
            e.starts_with("t.conf:4:1: this route is l2vpn evpn, but the family block"),
            "{e}"
        );
    }
}
