//! The `neighbor ADDRESS { ... }` block: session settings, `family { }`, `static { }`,
//! and the checks that need the whole block (required settings, families of routes).

use std::net::{IpAddr, Ipv4Addr};
use std::rc::Rc;

use crate::wire::family::{Afi, Family, Safi};

use super::ConfigError;
use super::flow::{self, ParsedFlow};
use super::lexer::{Position, Token, TokenKind};
use super::model::{DEFAULT_HOLD_TIME, FlowConfig, NeighborConfig};
use super::parser::{Origin, Parser, Setting, one_of};
use super::route_list::ParsedRoutes;
use super::session_options;
use super::values;
use super::{announce, inherited, static_block, template};

/// What a neighbor block said, before defaults and cross-checks.
#[derive(Default)]
struct NeighborSettings {
    description: Setting<String>,
    router_id: Setting<(Ipv4Addr, Position)>,
    local_address: Setting<(IpAddr, Position)>,
    local_as: Setting<u32>,
    peer_as: Setting<u32>,
    hold_time: Setting<u16>,
    passive: Setting<bool>,
    connect_port: Setting<u16>,
    listen_port: Setting<u16>,
    families: Setting<(Vec<Family>, Position)>,
    routes: ParsedRoutes,
    options: session_options::OptionStatements,
    compat: super::exabgp_compat::CompatSettings,
    flows: Vec<ParsedFlow>,
    api_processes: Vec<String>,
    api_receive_updates: bool,
    api_events: super::process::ApiEvents,
    api_subscriptions: Vec<(String, super::process::ApiEvents)>,
    /// `guard { }` of the block, over the top-level defaults.
    guard: Option<super::guard::GuardSettings>,
    bfd: Setting<super::model::BfdConfig>,
    /// Where a nameless `process { }` (ExaBGP 3) was: ExaBGP 3's parser ended the neighbor
    /// block at its `}`, so only empty blocks may follow it in the neighbor.
    nameless_process: Option<Position>,
}

fn ip_version(addr: &IpAddr) -> &'static str {
    if addr.is_ipv4() { "IPv4" } else { "IPv6" }
}

/// Parses from just after the `neighbor` keyword to the block's `}`.
/// `earlier` are the neighbors already parsed, to refuse a second block for the same peer.
/// With `top_level`, a block still open at the end of the file ends there, as in ExaBGP
/// (its `conf-split` test leaves the neighbor's `}` out), with a `--check` warning.
pub(super) fn parse_neighbor(
    p: &mut Parser,
    keyword: &Token,
    earlier: &[NeighborConfig],
    top_level: bool,
) -> Result<NeighborConfig, ConfigError> {
    let (peer_address, address_token) = p.value("neighbor", values::ip_address)?;
    if let Some(why) = not_a_peer(peer_address) {
        return Err(p.error_at(
            address_token.position,
            format!("neighbor {peer_address}: {why}, not the address of one BGP speaker"),
        ));
    }
    if let Some(first) = earlier.iter().find(|n| n.peer_address == peer_address) {
        return Err(p.error_at(
            address_token.position,
            format!(
                "duplicate neighbor {peer_address}: already defined at line {}",
                first.location.line
            ),
        ));
    }
    let block = format!("neighbor {peer_address}");
    let open = p.open_block(&block)?;
    let mut s = NeighborSettings::default();
    let mut inherited: Vec<Rc<template::Template>> = Vec::new();
    loop {
        let kw = if top_level {
            p.block_keyword_or_end(&open, &block)?
        } else {
            p.block_keyword(&open, &block)?
        };
        let Some(kw) = kw else { break };
        if kw.text == "inherit" {
            inherited.push(template::parse_inherit(p, &kw)?);
            continue;
        }
        if let Some(at) = s.nameless_process {
            after_nameless_process(p, &kw, at)?;
            continue;
        }
        parse_statement(p, &kw, &block, Some(peer_address), &mut s)?;
    }
    s.nameless_process = None;
    // While the neighbor has no route of its own, its templates' routes are left to
    // `inherited::table`, which builds each distinct table once.
    let mut applied: Vec<(Rc<template::Template>, Origin)> = Vec::new();
    for t in &inherited {
        let origin = template::apply(p, t, |tp, kw| {
            parse_statement(tp, kw, &block, Some(peer_address), &mut s)
        })?;
        if s.routes.is_empty() {
            applied.push((Rc::clone(t), origin));
            continue;
        }
        if !applied.is_empty() {
            // The template's statements gave routes (an `l2vpn { }` block): the routes
            // of the templates before it come first, as written.
            let own = std::mem::take(&mut s.routes);
            for (earlier, o) in applied.drain(..) {
                s.routes.extend_from(&earlier.routes, o);
            }
            s.routes.append(own);
        }
        s.routes.extend_from(&t.routes, origin);
    }
    if applied.is_empty() {
        s.routes.resolve_duplicates(p, &block)?;
        p.state
            .borrow_mut()
            .record_table(s.routes.record(peer_address));
    }
    finish(p, keyword, peer_address, &block, s, &applied)
}

/// ExaBGP 3's nameless `process { neighbor-changes; receive-routes; ... }` in a neighbor:
/// no program (ExaBGP refuses `run` in it), only the events this neighbor's helpers are
/// told of, which today's syntax writes in the neighbor's `api { }` block. ExaBGP 3.x's
/// parser (`_multi_process`) returned "end of block" for it, which ended the neighbor block
/// there; the neighbor's statements after it were read as the enclosing group's. So only
/// empty blocks may follow it (see [`after_nameless_process`]).
fn parse_nameless_process(
    p: &mut Parser,
    kw: &Token,
    s: &mut NeighborSettings,
) -> Result<(), ConfigError> {
    let open = p.open_block("process")?;
    p.note(
        kw.position,
        Some("nameless process"),
        "a nameless 'process { }' in a neighbor is how ExaBGP 3 wrote the neighbor's api events (today: 'api { neighbor-changes; receive { parsed; update; } }'; `bgpinject migrate` writes it)",
    );
    // What ExaBGP 3.x's `_set_process_command` set for each, as `migrate` writes it in an
    // api block (the neighbor's events, for every helper it names).
    let mut this = super::process::ApiEvents::default();
    while let Some(w) = p.block_keyword(&open, "process")? {
        match w.text.as_str() {
            "neighbor-changes" => this.neighbor_changes = true,
            "parse-routes" | "receive-routes" | "peer-updates" => {
                this.receive.set("parsed");
                this.receive.set("update");
            }
            "send-packets" => this.send.set("packets"),
            "receive-packets" => this.receive.set("packets"),
            "receive-operational" => {
                this.receive.set("parsed");
                this.receive.set("operational");
            }
            "run" => {
                return Err(p.error_at(
                    w.position,
                    "'run' in a nameless process: ExaBGP refuses it too (a process with a program needs a name: 'process NAME { run ...; }')",
                ));
            }
            _ => {
                return Err(p.unknown_keyword(
                    &w,
                    "nameless process",
                    &one_of(super::process::EARLY_KEYWORDS),
                ));
            }
        }
        p.expect_semicolon(&w.text)?;
    }
    s.api_receive_updates |= this.receive.update;
    s.api_events = s.api_events.union(this);
    s.nameless_process = Some(kw.position);
    Ok(())
}

/// A statement after a nameless `process { }` in the same neighbor: ExaBGP 3 read it as the
/// enclosing group's (the neighbor had ended), so only an empty block (`static { }`), which
/// means nothing in either place, is accepted.
fn after_nameless_process(p: &mut Parser, kw: &Token, at: Position) -> Result<(), ConfigError> {
    if p.peek().kind == TokenKind::OpenBrace {
        p.advance();
        if p.peek().kind == TokenKind::CloseBrace {
            p.advance();
            return Ok(());
        }
    }
    Err(p.error_at(
        kw.position,
        format!(
            "'{}' after the nameless 'process {{ }}' of line {}: ExaBGP 3 ended the neighbor block at that process's '}}' and gave this statement to the enclosing group; move the nameless process to the end of the neighbor (or write an api block)",
            kw.text, at.line
        ),
    ))
}

/// Why `a` cannot be a neighbor's address (BIRD refuses these too): a TCP session is with
/// one host, so not the unspecified, a broadcast or a multicast address.
fn not_a_peer(a: IpAddr) -> Option<&'static str> {
    match a {
        _ if a.is_unspecified() => Some("the unspecified address"),
        _ if a.is_multicast() => Some("a multicast address"),
        IpAddr::V4(v4) if v4.is_broadcast() => Some("the broadcast address"),
        _ => None,
    }
}

/// Parses the statements of a template body as a neighbor would, so that errors in a
/// template no neighbor inherits (yet) are found too.
pub(super) fn check_template(p: &Parser, t: &template::Template) -> Result<(), ConfigError> {
    let block = format!("template {}", t.name);
    let mut s = NeighborSettings::default();
    template::apply(p, t, |tp, kw| parse_statement(tp, kw, &block, None, &mut s))?;
    Ok(())
}

/// The statements of a neighbor block handled here; [`session_options::KEYWORDS`] are the rest.
pub const KEYWORDS: &[&str] = &[
    "description",
    "router-id",
    "local-address",
    "local-as",
    "peer-as",
    "hold-time",
    "passive",
    "connect",
    "listen",
    "family",
    "static",
    "flow",
    "inherit",
    "api",
    "announce",
    "guard",
    "process",
    "watchdog",
    "bfd",
    "l2vpn",
];

/// The words of a `family { AFI SAFI; }` block: address families, then subsequent ones.
pub const FAMILY_AFI_KEYWORDS: &[&str] = &["ipv4", "ipv6", "l2vpn", "all", "minimal"];
pub const FAMILY_SAFI_KEYWORDS: &[&str] = &[
    "unicast",
    "flow",
    "flow-vpn",
    "multicast",
    "nlri-mpls",
    "labeled-unicast",
    "mpls-vpn",
    "evpn",
    "vpls",
    "rtc",
    "mup",
    "mcast-vpn",
    "sr-policy",
];

/// One statement of a neighbor block; `peer_address` is `None` when a template body is
/// checked on its own.
fn parse_statement(
    p: &mut Parser,
    kw: &Token,
    block: &str,
    peer_address: Option<IpAddr>,
    s: &mut NeighborSettings,
) -> Result<(), ConfigError> {
    let after_value = format!("{} value", kw.text);
    match kw.text.as_str() {
        "description" => {
            let token = p.advance();
            if !matches!(token.kind, TokenKind::Quoted | TokenKind::Word) {
                return Err(p.unexpected(&token, "a quoted string after description"));
            }
            s.description.set(p, kw, block, token.text)?;
        }
        "router-id" => {
            let (id, token) = p.value("router-id", values::ipv4_address)?;
            s.router_id.set(p, kw, block, (id, token.position))?;
        }
        "local-address" => {
            let (addr, token) = p.value("local-address", values::ip_address)?;
            if let Some(peer_address) = peer_address
                && addr.is_ipv4() != peer_address.is_ipv4()
            {
                return Err(p.error_at(
                    token.position,
                    format!(
                        "local-address {addr} is {} but the peer address {peer_address} is {}: the session's socket binds to the local address, so it must be the same family",
                        ip_version(&addr),
                        ip_version(&peer_address)
                    ),
                ));
            }
            s.local_address.set(p, kw, block, (addr, token.position))?;
        }
        "local-as" => {
            let (asn, _) = p.value("local-as", values::asn)?;
            s.local_as.set(p, kw, block, asn)?;
        }
        "peer-as" => {
            let (asn, _) = p.value("peer-as", values::asn)?;
            s.peer_as.set(p, kw, block, asn)?;
        }
        "hold-time" => {
            let (seconds, _) = p.value("hold-time", values::hold_time)?;
            s.hold_time.set(p, kw, block, seconds)?;
        }
        "connect" => {
            let (port, _) = p.value("connect", values::port)?;
            s.connect_port.set(p, kw, block, port)?;
        }
        "listen" => {
            let (port, _) = p.value("listen", values::port)?;
            s.listen_port.set(p, kw, block, port)?;
        }
        "passive" => {
            let passive = if p.peek().kind == TokenKind::Semicolon {
                true
            } else {
                let token = p.expect_word("'true', 'false' or ';' after passive")?;
                match token.text.as_str() {
                    "true" | "enable" => true,
                    "false" | "disable" => false,
                    _ => return Err(p.unexpected(&token, "'true', 'false' or ';' after passive")),
                }
            };
            s.passive.set(p, kw, block, passive)?;
            return p.expect_semicolon("passive");
        }
        "family" => {
            return match parse_family_block(p, kw, block)? {
                Some(families) => s.families.set(p, kw, block, (families, kw.position)),
                // ExaBGP 3's `minimal`: the families of the routes, bgpinject's default.
                None => Ok(()),
            };
        }
        "static" => return static_block::parse(p, block, &mut s.routes),
        kw_text if session_options::KEYWORDS.contains(&kw_text) => {
            // Only the original injector wrote graceful-restart outside `capability { }`.
            if kw_text == "graceful-restart" {
                super::exabgp_compat::mark_original(p);
            }
            return session_options::parse(p, kw, block, &mut s.options);
        }
        kw_text
            if super::exabgp_compat::KEYWORDS.contains(&kw_text)
                || super::exabgp_compat::REFUSED.contains(&kw_text) =>
        {
            return super::exabgp_compat::parse(p, kw, block, &mut s.compat, &mut s.options);
        }
        "flow" => return flow::parse_flow_block(p, block, &mut s.flows),
        "api" => {
            return super::process::parse_api_block(
                p,
                block,
                &mut s.api_processes,
                &mut s.api_receive_updates,
                &mut s.api_events,
                &mut s.api_subscriptions,
            );
        }
        "announce" => return announce::parse(p, block, &mut s.routes),
        "l2vpn" => {
            return super::family_routes::parse_l2vpn_block(p, block, &mut s.routes, true);
        }
        "process" if p.peek().kind == TokenKind::OpenBrace => {
            return parse_nameless_process(p, kw, s);
        }
        "process" | "watchdog" => {
            // The original injector's helper inside a neighbor: a top-level process that
            // this neighbor names in its api block. `watchdog NAME { run ...; }` (1.3) is one
            // whose output lines `up` and `down` announce and withdraw the watchdog NAME.
            super::exabgp_compat::mark_original(p);
            if kw.text == "watchdog" {
                p.note(
                    kw.position,
                    Some("watchdog program"),
                    "'watchdog NAME { run ...; }' is the original injector's watchdog program: its output lines 'up' and 'down' announce and withdraw the routes of watchdog NAME (today: a process that writes 'announce watchdog NAME' and 'withdraw watchdog NAME')",
                );
            } else {
                p.note(
                    kw.position,
                    Some("process in a neighbor"),
                    "'process' inside a neighbor is the original injector's place for it (write it at top level and name it in the neighbor's 'api { processes [ NAME ]; }'; `bgpinject migrate` does)",
                );
            }
            let earlier = std::mem::take(&mut p.state.borrow_mut().neighbor_processes);
            let parsed = super::process::parse_process(p, kw, &[]);
            let mut state = p.state.borrow_mut();
            state.neighbor_processes = earlier;
            let mut process = parsed?;
            process.up_down_watchdog = kw.text == "watchdog";
            let same = |e: &super::process::ProcessConfig| e.name == process.name;
            match state.neighbor_processes.iter().find(|e| same(e)) {
                // The same block again (a group's statements are read for each neighbor).
                Some(e) if e.location == process.location => {}
                Some(e) => {
                    return Err(ConfigError {
                        location: Some(process.location.clone()),
                        message: format!(
                            "duplicate process {}: already defined at line {}",
                            process.name, e.location.line
                        ),
                    });
                }
                None => state.neighbor_processes.push(process.clone()),
            }
            if !s.api_processes.contains(&process.name) {
                s.api_processes.push(process.name);
            }
            return Ok(());
        }
        // ExaBGP neighbor statements refused here with their reason (the others are in
        // exabgp_compat::REFUSED).
        "operational" => {
            return Err(p.error_at(
                kw.position,
                format!(
                    "'operational' in {block} is not supported: bgpinject does not send ExaBGP's OPERATIONAL messages (draft-ietf-idr-operational-message, type 6)"
                ),
            ));
        }
        "asn4" => {
            return Err(p.error_at(
                kw.position,
                format!(
                    "'asn4' in {block}: ExaBGP reads it only in 'capability {{ asn4 enable|disable; }}' (ExaBGP 3 refused it here too)"
                ),
            ));
        }
        "bfd" => {
            let params = super::bfd::parse(p, block)?;
            return s.bfd.set(p, kw, block, params);
        }
        "guard" => {
            let mut g = s.guard.unwrap_or(p.state.borrow().guard);
            super::guard::parse(p, block, &mut g)?;
            s.guard = Some(g);
            return Ok(());
        }
        other => {
            return Err(p.error_at(
                kw.position,
                format!(
                    "unknown keyword '{other}' in {block} (expected {})",
                    one_of(
                        &[
                            KEYWORDS,
                            session_options::KEYWORDS,
                            super::exabgp_compat::KEYWORDS
                        ]
                        .concat()
                    )
                ),
            ));
        }
    }
    p.expect_semicolon(&after_value)
}

/// Every family bgpinject announces: what ExaBGP's `family { all; }` means here.
const ALL_FAMILIES: &[(Afi, Safi)] = &[
    (Afi::Ipv4, Safi::Unicast),
    (Afi::Ipv4, Safi::Multicast),
    (Afi::Ipv4, Safi::MplsLabel),
    (Afi::Ipv4, Safi::MplsVpn),
    (Afi::Ipv4, Safi::FlowSpec),
    (Afi::Ipv6, Safi::Unicast),
    (Afi::Ipv6, Safi::Multicast),
    (Afi::Ipv6, Safi::MplsLabel),
    (Afi::Ipv6, Safi::MplsVpn),
    (Afi::Ipv6, Safi::FlowSpec),
];

/// `family { ipv4 unicast; ipv6 unicast; }`, from just after `family`; `None` for ExaBGP 3's
/// `family { minimal; }` (the families of the routes).
fn parse_family_block(
    p: &mut Parser,
    kw: &Token,
    owner: &str,
) -> Result<Option<Vec<Family>>, ConfigError> {
    let block = format!("the family block of {owner}");
    let open = p.open_block("family")?;
    let mut families = Vec::new();
    while let Some(afi_token) = p.block_keyword(&open, &block)? {
        if matches!(afi_token.text.as_str(), "all" | "minimal") {
            p.expect_semicolon(&afi_token.text)?;
            let close = p.advance();
            if close.kind != TokenKind::CloseBrace || !families.is_empty() {
                return Err(p.error_at(
                    afi_token.position,
                    format!("'{}' in {block} must be its only statement", afi_token.text),
                ));
            }
            if afi_token.text == "minimal" {
                p.note(
                    afi_token.position,
                    Some("family minimal"),
                    "'family { minimal; }' is ExaBGP 3's spelling of the default: the families of the configured routes (leave the family block out)",
                );
                return Ok(None);
            }
            p.note(
                afi_token.position,
                None,
                "'family { all; }': every family bgpinject announces (IPv4 and IPv6 unicast, multicast, nlri-mpls, mpls-vpn, flow); ExaBGP also offers the families bgpinject does not have",
            );
            let all = ALL_FAMILIES
                .iter()
                .map(|&(a, s)| Family::new(a, s))
                .collect();
            return Ok(Some(all));
        }
        if matches!(afi_token.text.as_str(), "inet" | "inet4" | "inet6") {
            p.note(
                afi_token.position,
                Some(&afi_token.text),
                format!(
                    "'{}' in a family block is ExaBGP 2.x/3.x's spelling of '{}' (ExaBGP 3 warned it is deprecated)",
                    afi_token.text,
                    if afi_token.text == "inet6" { "ipv6" } else { "ipv4" }
                ),
            );
        }
        if afi_token.text == "bgp-ls" {
            return Err(p.error_at(
                afi_token.position,
                format!(
                    "family 'bgp-ls' in {block} is not supported: bgpinject decodes BGP-LS routes it receives but does not announce them (no BGP-LS route statements)"
                ),
            ));
        }
        let afi = match afi_token.text.as_str() {
            "ipv4" | "inet" | "inet4" => Afi::Ipv4,
            "ipv6" | "inet6" => Afi::Ipv6,
            "l2vpn" => Afi::L2VPN,
            other => {
                return Err(p.error_at(
                    afi_token.position,
                    format!(
                        "unknown address family '{other}' in {block}, expected {}",
                        one_of(FAMILY_AFI_KEYWORDS)
                    ),
                ));
            }
        };
        let safi_token = p.expect_word(&format!(
            "a subsequent address family after {}",
            afi_token.text
        ))?;
        let safi = match safi_token.text.as_str() {
            "unicast" => Safi::Unicast,
            "flow" => Safi::FlowSpec,
            "flow-vpn" => Safi::FlowSpecVpn,
            other if announce::safi(other).is_some() && afi != Afi::L2VPN => {
                announce::safi(other).unwrap_or(Safi::Unicast)
            }
            other
                if super::family_routes::safi(other)
                    .is_some_and(|s| super::family_routes::is_family(Family::new(afi, s))) =>
            {
                super::family_routes::safi(other).unwrap_or(Safi::Unicast)
            }
            _ => {
                return Err(p.error_at(
                    safi_token.position,
                    format!(
                        "unsupported family '{} {}' in {block}, expected {}",
                        afi_token.text,
                        safi_token.text,
                        one_of(FAMILY_SAFI_KEYWORDS)
                    ),
                ));
            }
        };
        let family = Family::new(afi, safi);
        if families.contains(&family) {
            return Err(p.error_at(
                afi_token.position,
                format!("family {family} listed twice in {block}"),
            ));
        }
        families.push(family);
        p.expect_semicolon(&format!("family {family}"))?;
    }
    if families.is_empty() {
        return Err(p.error_at(
            kw.position,
            format!("{block} lists no family, expected e.g. 'ipv4 unicast;'"),
        ));
    }
    Ok(Some(families))
}

/// Applies defaults and checks what needs the whole block.
fn finish(
    p: &Parser,
    keyword: &Token,
    peer_address: IpAddr,
    block: &str,
    s: NeighborSettings,
    applied: &inherited::Applied,
) -> Result<NeighborConfig, ConfigError> {
    let missing = |what: &str| {
        p.error_at(
            keyword.position,
            format!("{block} has no {what}, expected '{what} ASN;' in its block"),
        )
    };
    let local_as = *s.local_as.get().ok_or_else(|| missing("local-as"))?;
    let peer_as = *s.peer_as.get().ok_or_else(|| missing("peer-as"))?;
    let local_address = s.local_address.get().copied();
    // ExaBGP takes a router-id it does not have (`if not neighbor.router_id`) from the IPv4
    // local address; its example files write `router-id 0.0.0.0;` for that.
    let written = s.router_id.get().copied();
    let router_id = match (written, local_address) {
        (Some((id, _)), _) if !id.is_unspecified() => id,
        (written, Some((IpAddr::V4(a), _))) if !a.is_unspecified() => {
            if let Some((_, zero_at)) = written {
                p.note(
                    zero_at,
                    None,
                    format!(
                        "router-id 0.0.0.0 of {block} is not a BGP identifier (RFC 6286): the local address {a} is used, as ExaBGP does"
                    ),
                );
            }
            a
        }
        // RFC 6286 §2.1: the BGP Identifier is a non-zero 32-bit value.
        (Some((_, at)), _) => {
            return Err(p.error_at(
                at,
                format!(
                    "router-id of {block} is 0.0.0.0, expected a non-zero BGP identifier (RFC 6286) or an IPv4 local-address to take it from"
                ),
            ));
        }
        (None, _) => {
            return Err(p.error_at(
                keyword.position,
                format!("{block} has no router-id and no IPv4 local-address to take it from, expected 'router-id A.B.C.D;'"),
            ));
        }
    };
    let hold_time = s.hold_time.take().unwrap_or(DEFAULT_HOLD_TIME);
    let nexthop_enabled = s.options.nexthop_enabled();
    let multi_session_at = s.options.multi_session_at();
    // As ExaBGP: RFC 9234 roles describe eBGP relationships.
    if let Some(at) = s.options.role_at()
        && local_as == peer_as
    {
        return Err(p.error_at(
            at,
            format!("role in {block} needs an eBGP session (RFC 9234 §4): local-as and peer-as are both {local_as}"),
        ));
    }
    let mut options = session_options::finish(p, s.options, hold_time)?;
    super::exabgp_compat::finish(
        p,
        block,
        s.compat,
        local_address.map(|(a, _)| a),
        nexthop_enabled,
        &mut options,
    )?;
    if let Some(c) = &options.confederation
        && (c.identifier == peer_as || c.identifier == local_as)
    {
        return Err(p.error_at(
            keyword.position,
            format!(
                "the confederation identifier {} of {block} is its {}: expected the confederation's own AS, other than local-as (our member AS) and peer-as (RFC 5065)",
                c.identifier,
                if c.identifier == peer_as { "peer-as" } else { "local-as" }
            ),
        ));
    }
    let guard = s.guard.unwrap_or(p.state.borrow().guard);
    let listed = s.families.get().map(|(l, at)| (l.as_slice(), *at));
    // Every route from templates: one table for the neighbors of the same templates and
    // settings (`inherited`); else the block's own, checked here.
    let (routes, route_families) = if applied.is_empty() {
        announce::check_next_hops(p, block, &options.extended_next_hop, &s.routes)?;
        if let Some((listed, family_at)) = listed {
            check_routes_in_families(p, block, listed, family_at, &s.routes)?;
            check_family_routes_in_families(p, block, listed, family_at, &s.routes)?;
        }
        check_route_guard(block, &guard, &s.routes)?;
        let families = route_families(&s.routes);
        (
            p.state.borrow_mut().share_table(s.routes.finish()),
            families,
        )
    } else {
        let settings = inherited::Settings {
            extended_next_hop: &options.extended_next_hop,
            listed,
            guard,
        };
        let shared = inherited::table(p, block, peer_address, applied, &settings)?;
        (shared.table.clone(), shared.families.clone())
    };
    let families = match listed {
        Some((listed, family_at)) => {
            check_flows_in_families(p, block, listed, family_at, &s.flows)?;
            listed.to_vec()
        }
        None => families_of(route_families, &s.flows),
    };
    // ExaBGP's multi-session opens one session per family to the same peer.
    if let Some(at) = multi_session_at
        && families.len() > 1
    {
        p.note(
            at,
            None,
            format!("'multi-session' in {block}: ExaBGP opens one session per family ({} here) to the peer; bgpinject announces the same routes in one session carrying every family", families.len()),
        );
    }
    check_flow_guard(p, block, &guard, &s.flows)?;
    Ok(NeighborConfig {
        peer_address,
        description: s.description.take(),
        router_id,
        local_address: local_address.map(|(a, _)| a),
        local_as,
        peer_as,
        hold_time,
        passive: s.passive.take().unwrap_or(false),
        connect_port: s
            .connect_port
            .take()
            .unwrap_or_else(super::model::default_port),
        listen_port: s
            .listen_port
            .take()
            .unwrap_or_else(super::model::default_port),
        families,
        routes,
        options,
        flows: s.flows.into_iter().map(|f| f.flow).collect(),
        api_processes: s.api_processes,
        api_receive_updates: s.api_receive_updates,
        api_neighbor_changes: s.api_events.neighbor_changes,
        api_receive_notifications: s.api_events.receive_notifications,
        api_subscriptions: s.api_subscriptions,
        guard,
        bfd: s.bfd.take(),
        multi_session: multi_session_at.is_some(),
        location: p.location(keyword.position),
    })
}

/// The guard rails of `config::guard` over the block's flow rules.
fn check_flow_guard(
    p: &Parser,
    block: &str,
    guard: &super::guard::GuardSettings,
    flows: &[ParsedFlow],
) -> Result<(), ConfigError> {
    use super::guard;
    if let (Err(e), Some(f)) = (guard::check_flow_count(flows.len(), guard), flows.last()) {
        return Err(p.error_at(f.name_at, format!("{block}: {e}")));
    }
    for f in flows {
        guard::check_flow(&f.flow.rule, &f.flow.attributes, guard)
            .map_err(|e| p.error_at(f.name_at, format!("{block}: {e}")))?;
    }
    Ok(())
}

/// The guard rails of `config::guard` over the block's routes.
pub(super) fn check_route_guard(
    block: &str,
    guard: &super::guard::GuardSettings,
    routes: &ParsedRoutes,
) -> Result<(), ConfigError> {
    for r in routes.iter() {
        // The route may come from an included file: locate the error there.
        super::guard::check_blackhole(r.prefix, r.attributes, guard).map_err(|e| ConfigError {
            location: Some(super::model::Location {
                file: std::sync::Arc::clone(r.file),
                line: r.prefix_at.line,
                column: r.prefix_at.column,
            }),
            message: format!("{block}: {e}"),
        })?;
    }
    Ok(())
}

pub(super) fn family_of_flow(flow: &FlowConfig) -> Family {
    flow.rule.family()
}

/// The families of the routes, sorted (IPv4 first), each once.
pub(super) fn route_families(routes: &ParsedRoutes) -> Vec<Family> {
    // A handful of families among possibly millions of routes: kept small as they come.
    let mut families: Vec<Family> = Vec::new();
    let all = routes
        .iter()
        .map(|r| r.family)
        .chain(routes.family_routes().iter().map(|r| r.route.key.family));
    for family in all {
        if !families.contains(&family) {
            families.push(family);
        }
    }
    families.sort();
    families
}

/// The families of the routes (from [`route_families`]) and of the flow rules, IPv4 first;
/// IPv4 unicast when there are none.
fn families_of(mut families: Vec<Family>, flows: &[ParsedFlow]) -> Vec<Family> {
    for family in flows.iter().map(|f| family_of_flow(&f.flow)) {
        if !families.contains(&family) {
            families.push(family);
        }
    }
    families.sort();
    if families.is_empty() {
        families.push(Family::IPV4_UNICAST);
    }
    families
}

fn check_flows_in_families(
    p: &Parser,
    block: &str,
    listed: &[Family],
    family_at: Position,
    flows: &[ParsedFlow],
) -> Result<(), ConfigError> {
    for f in flows {
        let family = family_of_flow(&f.flow);
        if !listed.contains(&family) {
            return Err(p.error_at(
                f.name_at,
                format!(
                    "flow route {} is {family}, but the family block of {block} (line {}) does not list {family}",
                    f.flow.name, family_at.line
                ),
            ));
        }
    }
    Ok(())
}

pub(super) fn check_family_routes_in_families(
    p: &Parser,
    block: &str,
    listed: &[Family],
    family_at: Position,
    routes: &ParsedRoutes,
) -> Result<(), ConfigError> {
    for r in routes.family_routes() {
        let family = r.route.key.family;
        if !listed.contains(&family) {
            let mut e = p.error_at(
                r.at,
                format!(
                    "this route is {family}, but the family block of {block} (line {}) does not list {family}",
                    family_at.line
                ),
            );
            if let Some(l) = e.location.as_mut() {
                l.file = r.route.location.file.clone();
            }
            return Err(e);
        }
    }
    Ok(())
}

pub(super) fn check_routes_in_families(
    p: &Parser,
    block: &str,
    listed: &[Family],
    family_at: Position,
    routes: &ParsedRoutes,
) -> Result<(), ConfigError> {
    for r in routes.iter() {
        let family = r.family;
        if !listed.contains(&family) {
            return Err(p.error_at(
                r.prefix_at,
                format!(
                    "route {} is {family}, but the family block of {block} (line {}) does not list {family}",
                    r.prefix, family_at.line
                ),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::config::{Config, parse_str};

    fn parse(text: &str) -> Result<Config, String> {
        parse_str(text, Path::new("t.conf")).map_err(|e| e.to_string())
    }

    fn neighbor(body: &str) -> Result<NeighborConfig, String> {
        let mut config = parse(&format!("neighbor 192.0.2.1 {{\n{body}\n}}"))?;
        Ok(config.neighbors.remove(0))
    }

    const IDS: &str = "local-as 65000; peer-as 65001;";

    #[test]
    fn an_address_that_is_not_one_host_is_refused_at_its_position() {
        for (addr, why) in [
            ("0.0.0.0", "unspecified"),
            ("::", "unspecified"),
            ("255.255.255.255", "broadcast"),
            ("224.0.0.5", "multicast"),
            ("ff02::1", "multicast"),
        ] {
            let e = parse(&format!(
                "neighbor {addr} {{ router-id 192.0.2.10; {IDS} }}"
            ))
            .unwrap_err();
            assert!(
                e.starts_with("t.conf:1:10:") && e.contains(why),
                "{addr}: {e}"
            );
        }
    }

    #[test]
    fn defaults() {
        let n = neighbor(&format!("router-id 192.0.2.10; {IDS}")).unwrap();
        assert_eq!(n.hold_time, DEFAULT_HOLD_TIME);
        assert!(!n.passive);
        let port = crate::config::model::BGP_PORT;
        assert_eq!((n.connect_port, n.listen_port), (port, port));
        assert_eq!(n.families, vec![Family::IPV4_UNICAST]);
        assert_eq!(n.local_address, None);
        assert_eq!(n.description, None);
        assert!(n.is_ebgp());
        assert_eq!((n.location.line, n.location.column), (1, 1));
    }

    #[test]
    fn router_id_comes_from_an_ipv4_local_address() {
        let n = neighbor(&format!("local-address 192.0.2.10; {IDS}")).unwrap();
        assert_eq!(n.router_id, "192.0.2.10".parse::<Ipv4Addr>().unwrap());
        let n = neighbor(&format!(
            "local-address 192.0.2.10; router-id 10.0.0.1; {IDS}"
        ))
        .unwrap();
        assert_eq!(n.router_id, "10.0.0.1".parse::<Ipv4Addr>().unwrap());
        // ExaBGP's examples write 0.0.0.0 for "take it from the local address".
        let n = neighbor(&format!(
            "local-address 192.0.2.10; router-id 0.0.0.0; {IDS}"
        ))
        .unwrap();
        assert_eq!(n.router_id, "192.0.2.10".parse::<Ipv4Addr>().unwrap());
        for bad in [
            format!("router-id 0.0.0.0; {IDS}"),
            format!("local-address 2001:db8::1; router-id 0.0.0.0; {IDS}"),
            format!("local-address 0.0.0.0; router-id 0.0.0.0; {IDS}"),
            format!("local-address 0.0.0.0; {IDS}"),
        ] {
            assert!(neighbor(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn ipv6_peer_needs_an_explicit_router_id() {
        let text = format!("neighbor 2001:db8::1 {{ local-address 2001:db8::2; {IDS} }}");
        let e = parse(&text).unwrap_err();
        assert!(
            e.starts_with("t.conf:1:1: neighbor 2001:db8::1 has no router-id"),
            "{e}"
        );
        let text = format!(
            "neighbor 2001:db8::1 {{ local-address 2001:db8::2; router-id 192.0.2.1; {IDS} }}"
        );
        assert!(parse(&text).is_ok());
    }

    #[test]
    fn local_address_must_match_the_peer_family() {
        let e = neighbor(&format!("local-address 2001:db8::2; {IDS}")).unwrap_err();
        assert!(
            e.starts_with("t.conf:2:15: local-address 2001:db8::2 is IPv6"),
            "{e}"
        );
    }

    #[test]
    fn asdot_local_as_and_ibgp() {
        let n = neighbor("router-id 192.0.2.10; local-as 1.10; peer-as 65546;").unwrap();
        assert_eq!(n.local_as, 65546);
        assert!(!n.is_ebgp());
    }

    #[test]
    fn passive_connect_listen_hold_time_description() {
        let n = neighbor(&format!(
            "router-id 192.0.2.10; {IDS} passive; connect 1790; listen 1791; hold-time 0; description \"core router\";"
        ))
        .unwrap();
        assert!(n.passive);
        assert_eq!(
            (n.connect_port, n.listen_port, n.hold_time),
            (1790, 1791, 0)
        );
        assert_eq!(n.description.as_deref(), Some("core router"));
        assert!(
            neighbor(&format!("router-id 192.0.2.10; {IDS} passive true;"))
                .unwrap()
                .passive
        );
        assert!(
            !neighbor(&format!("router-id 192.0.2.10; {IDS} passive false;"))
                .unwrap()
                .passive
        );
        assert!(neighbor(&format!("router-id 192.0.2.10; {IDS} passive maybe;")).is_err());
    }

    #[test]
    fn families_are_derived_from_routes_ipv4_first() {
        let n = neighbor(&format!(
            "router-id 192.0.2.10; {IDS} static {{ route 2001:db8::/32 next-hop 2001:db8::1; route 10.0.0.0/8 next-hop 192.0.2.1; }}"
        ))
        .unwrap();
        assert_eq!(n.families, vec![Family::IPV4_UNICAST, Family::IPV6_UNICAST]);
        let n = neighbor(&format!(
            "router-id 192.0.2.10; {IDS} static {{ route 2001:db8::/32 next-hop self; }}"
        ))
        .unwrap();
        assert_eq!(n.families, vec![Family::IPV6_UNICAST]);
    }

    #[test]
    fn family_block_is_kept_in_order_and_must_cover_routes() {
        let n = neighbor(&format!(
            "router-id 192.0.2.10; {IDS} family {{ ipv6 unicast; ipv4 unicast; }}"
        ))
        .unwrap();
        assert_eq!(n.families, vec![Family::IPV6_UNICAST, Family::IPV4_UNICAST]);
        let e = neighbor(&format!(
            "router-id 192.0.2.10; {IDS} family {{ ipv4 unicast; }}\nstatic {{ route 2001:db8::/32 next-hop self; }}"
        ))
        .unwrap_err();
        assert!(
            e.starts_with("t.conf:3:16: route 2001:db8::/32 is ipv6 unicast, but the family block"),
            "{e}"
        );
    }

    #[test]
    fn several_static_blocks_and_duplicate_routes() {
        let n = neighbor(&format!(
            "router-id 192.0.2.10; {IDS} static {{ route 10.0.0.0/8 next-hop self; }} static {{ route 10.0.0.0/9 next-hop self; }}"
        ))
        .unwrap();
        assert_eq!(n.routes.len(), 2);
        // The same prefix twice: the later one is announced, as in ExaBGP, with a warning.
        let text = format!(
            "neighbor 192.0.2.1 {{\nrouter-id 192.0.2.10; {IDS} static {{ route 10.0.0.0/8 next-hop 192.0.2.1; }}\nstatic {{ route 10.0.0.0/8 next-hop 192.0.2.2; }}\n}}"
        );
        let (config, notes) =
            crate::config::parse_str_with_notes(&text, Path::new("t.conf")).unwrap();
        let routes: Vec<_> = config.neighbors[0].routes.iter().collect();
        assert_eq!(routes.len(), 1);
        assert!(
            format!("{:?}", routes[0].attributes.next_hop).contains("192.0.2.2"),
            "{routes:?}"
        );
        assert!(
            notes[0].starts_with("t.conf:3:16: warning: route 10.0.0.0/8")
                && notes[0].contains("(first at line 2)"),
            "{notes:?}"
        );
    }

    #[test]
    fn a_route_without_path_information_is_path_zero() {
        let routes =
            "route 10.0.0.0/8 next-hop self;\n route 10.0.0.0/8 next-hop self path-information 1;";
        let n = neighbor(&format!(
            "router-id 192.0.2.10; {IDS} static {{ {routes} }}"
        ))
        .unwrap();
        assert_eq!(n.routes.len(), 2);
        let e = neighbor(&format!(
            "router-id 192.0.2.10; {IDS} static {{ route 10.0.0.0/8 next-hop self;\n route 10.0.0.0/8 next-hop self path-information 0; }}"
        ))
        .unwrap_err();
        assert!(
            e.starts_with("t.conf:3:8: route 10.0.0.0/8 path-information 0 in neighbor 192.0.2.1 is the same path as route 10.0.0.0/8 at t.conf:2"),
            "{e}"
        );
    }

    #[test]
    fn settings_may_be_given_once() {
        let e = neighbor(&format!(
            "router-id 192.0.2.10; {IDS}\nhold-time 90; hold-time 30;"
        ))
        .unwrap_err();
        assert!(e.starts_with("t.conf:3:15: 'hold-time' given twice in neighbor 192.0.2.1 (first at line 3, column 1)"), "{e}");
    }

    #[test]
    fn several_neighbors_and_an_empty_file() {
        let text = format!(
            "neighbor 192.0.2.1 {{ router-id 192.0.2.10; {IDS} }}\nneighbor 192.0.2.2 {{ router-id 192.0.2.10; {IDS} }}"
        );
        let config = parse(&text).unwrap();
        assert_eq!(config.neighbors.len(), 2);
        assert_eq!(config.neighbors[1].location.line, 2);
        assert_eq!(parse("# nothing here\n").unwrap().neighbors.len(), 0);
        assert_eq!(parse("").unwrap().neighbors.len(), 0);
    }

    #[test]
    fn exabgp3_nameless_process_is_the_neighbors_api_events() {
        let n = neighbor(&format!(
            "{IDS} router-id 192.0.2.10;\nprocess {{ neighbor-changes; send-packets; receive-routes; }}\nstatic {{ }}"
        ))
        .unwrap();
        assert!(n.api_neighbor_changes && n.api_receive_updates);
        let e = neighbor(&format!(
            "{IDS} router-id 192.0.2.10;\nprocess {{ neighbor-changes; }}\nhold-time 30;"
        ))
        .unwrap_err();
        assert!(
            e.starts_with("t.conf:4:1: 'hold-time' after the nameless"),
            "{e}"
        );
        let e = neighbor(&format!(
            "{IDS} router-id 192.0.2.10;\nprocess {{ run /bin/true; }}"
        ))
        .unwrap_err();
        assert!(e.contains("'run' in a nameless process"), "{e}");
        let e = neighbor(&format!(
            "{IDS} router-id 192.0.2.10;\nprocess {{ encoder json; }}"
        ))
        .unwrap_err();
        assert!(
            e.contains("unknown keyword 'encoder' in nameless process"),
            "{e}"
        );
    }
}
