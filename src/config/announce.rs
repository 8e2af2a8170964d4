//! ExaBGP's `announce { ipv4 { unicast P ...; multicast P ...; nlri-mpls P ...;
//! mpls-vpn P ...; } ipv6 { ... } }` block inside a neighbor, the family words it uses, and
//! the RFC 8950 `capability { nexthop { ipv4 unicast ipv6; } }` block with its check.

use std::net::IpAddr;

use crate::rib::attributes::NextHop;
use crate::wire::family::{Afi, Family, Safi};

use super::ConfigError;
use super::lexer::Token;
use super::parser::Parser;
use super::route::{self, ParsedRoute};
use super::route_list::ParsedRoutes;
use super::static_block;

/// What an `announce { ipv4 { ... } }` block may hold.
pub const KEYWORDS: &[&str] = &[
    "unicast",
    "multicast",
    "nlri-mpls",
    "labeled-unicast",
    "mpls-vpn",
];

/// The SAFI of an ExaBGP family word beyond `unicast` and `flow`.
pub fn safi(word: &str) -> Option<Safi> {
    match word {
        "multicast" => Some(Safi::Multicast),
        "nlri-mpls" | "labeled-unicast" => Some(Safi::MplsLabel),
        "mpls-vpn" => Some(Safi::MplsVpn),
        _ => None,
    }
}

fn afi(p: &Parser, token: &Token, block: &str) -> Result<Afi, ConfigError> {
    if token.text == "l2vpn" && block.starts_with("the announce block") {
        return Ok(Afi::L2VPN);
    }
    match token.text.as_str() {
        "ipv4" => Ok(Afi::Ipv4),
        "ipv6" => Ok(Afi::Ipv6),
        other => Err(p.error_at(
            token.position,
            format!(
                "unknown address family '{other}' in {block}, expected ipv4 or ipv6{}",
                if block.starts_with("the announce block") {
                    " or l2vpn"
                } else {
                    ""
                }
            ),
        )),
    }
}

/// `announce { ... }`, from just after `announce`. Routes append to `routes`.
pub(super) fn parse(
    p: &mut Parser,
    owner: &str,
    routes: &mut ParsedRoutes,
) -> Result<(), ConfigError> {
    let block = format!("the announce block of {owner}");
    let open = p.open_block("announce")?;
    while let Some(afi_token) = p.block_keyword(&open, &block)? {
        let afi = afi(p, &afi_token, &block)?;
        let inner = format!("announce {} of {owner}", afi_token.text);
        if afi == Afi::L2VPN {
            super::family_routes::parse_l2vpn_block(p, owner, routes, false)?;
            continue;
        }
        let open = p.open_block(&afi_token.text)?;
        while let Some(kw) = p.block_keyword(&open, &inner)? {
            if super::family_routes::KEYWORDS.contains(&kw.text.as_str()) {
                super::family_routes::parse_statement(p, &kw, afi, routes)?;
                continue;
            }
            let safi = match kw.text.as_str() {
                "unicast" => Safi::Unicast,
                other => safi(other).ok_or_else(|| {
                    p.error_at(
                        kw.position,
                        format!(
                            "unknown family '{other}' in {inner}, expected {}",
                            super::parser::one_of(
                                &[KEYWORDS, super::family_routes::KEYWORDS].concat()
                            )
                        ),
                    )
                })?,
            };
            let mut parsed = route::parse_route(p, &kw)?;
            check_route(p, afi, safi, &parsed)?;
            if safi != Safi::Unicast {
                // Unicast needs no mark: no rd or label, as checked above.
                parsed.route.nlri_mut().safi = Some(safi);
            }
            static_block::expand_split(p, parsed, &mut |r| routes.push(r))?;
        }
    }
    Ok(())
}

/// The prefix is of the block's AFI and the statement has what its family needs.
fn check_route(p: &Parser, afi: Afi, safi: Safi, r: &ParsedRoute) -> Result<(), ConfigError> {
    let route = &r.route;
    let family = Family::new(afi, safi);
    let problem = if route.prefix.afi() != afi {
        Some(format!("route {} is not {:?}", route.prefix, afi).to_lowercase())
    } else {
        match (
            safi,
            route.nlri().rd.is_some(),
            route.nlri().labels.is_empty(),
        ) {
            (Safi::MplsVpn, false, _) => Some("has no rd, expected 'rd ASN:N'".to_string()),
            (Safi::MplsLabel, _, true) => Some("has no label, expected 'label N'".to_string()),
            (Safi::MplsLabel, true, _) => Some("has an rd: use mpls-vpn for VPN routes".into()),
            (Safi::Unicast | Safi::Multicast, true, _)
            | (Safi::Unicast | Safi::Multicast, _, false) => {
                Some("has an rd or label: use nlri-mpls or mpls-vpn".into())
            }
            _ => None,
        }
    };
    match problem {
        Some(what) => Err(p.error_at(
            r.prefix_at,
            format!("{family} route {}: {what}", route.prefix),
        )),
        None => Ok(()),
    }
}

/// `nexthop { ipv4 unicast ipv6; ... }` inside `capability { }`, from just after `nexthop`:
/// the NLRI families that may carry a next hop of the other AFI.
pub(super) fn parse_nexthop_block(
    p: &mut Parser,
    owner: &str,
) -> Result<Vec<(Family, Afi)>, ConfigError> {
    let block = format!("the nexthop block of {owner}");
    let open = p.open_block("nexthop")?;
    let mut list = Vec::new();
    while let Some(afi_token) = p.block_keyword(&open, &block)? {
        let nlri_afi = afi(p, &afi_token, &block)?;
        let safi_token = p.expect_word(&format!("a subsequent address family in {block}"))?;
        let safi = match safi_token.text.as_str() {
            "unicast" => Safi::Unicast,
            other => safi(other).ok_or_else(|| {
                p.error_at(
                    safi_token.position,
                    format!("unknown family '{other}' in {block}, expected unicast, multicast, nlri-mpls or mpls-vpn"),
                )
            })?,
        };
        let nh_token = p.expect_word(&format!("the next-hop family (ipv6) in {block}"))?;
        let nh_afi = afi(p, &nh_token, &block)?;
        list.push((Family::new(nlri_afi, safi), nh_afi));
        p.expect_semicolon(&format!(
            "{} {} {}",
            afi_token.text, safi_token.text, nh_token.text
        ))?;
    }
    Ok(list)
}

/// RFC 8950: an IPv4 route with an IPv6 next hop needs `capability { nexthop { } }` for its
/// family; reported at the route's prefix.
pub(super) fn check_next_hops(
    p: &Parser,
    block: &str,
    extended_next_hop: &[(Family, Afi)],
    routes: &ParsedRoutes,
) -> Result<(), ConfigError> {
    for r in routes.iter() {
        let family = r.family;
        // ExaBGP's `nexthop { ipv6 unicast ipv4; }`: an IPv6 route with an IPv4 next hop, sent
        // as four octets in MP_REACH_NLRI once the pair is negotiated (IPv4-mapped otherwise).
        if let (
            IpAddr::V6(_),
            NextHop::Address {
                global: IpAddr::V4(a),
                ..
            },
        ) = (r.prefix.addr(), r.attributes.next_hop)
            && !extended_next_hop.contains(&(family, Afi::Ipv4))
        {
            let mut error = p.error_at(
                r.prefix_at,
                format!(
                    "next-hop {a} is IPv4 but route {} of {block} is IPv6: expected a next hop of the route's family, or 'nexthop {{ {family} ipv4; }}' in the neighbor",
                    r.prefix
                ),
            );
            if let Some(l) = error.location.as_mut() {
                l.file = r.file.clone();
            }
            return Err(error);
        }
        let cross = crate::rib::other_nlri::ipv4_with_ipv6_next_hop(r.prefix, r.attributes);
        if cross && !extended_next_hop.contains(&(family, Afi::Ipv6)) {
            // The route may come from an included file: locate it there, not in `p`'s file.
            let mut error = p.error_at(
                r.prefix_at,
                format!(
                    "route {} of {block} has an IPv6 next hop: expected an IPv4 next hop, or 'capability {{ nexthop {{ {} ipv6; }} }}' in the neighbor (RFC 8950)",
                    r.prefix,
                    family
                ),
            );
            if let Some(l) = error.location.as_mut() {
                l.file = r.file.clone();
            }
            return Err(error);
        }
    }
    Ok(())
}
