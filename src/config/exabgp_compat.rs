//! Neighbor statements of older or other ExaBGP versions: read with the meaning they had
//! there, or refused by name with the reason when bgpinject cannot do what they ask.
//!
//! - the original injector (2009-2011): `md5 PASSWORD;` (now `md5-password`),
//!   `ttl-security N;` (now `outgoing-ttl`);
//! - ExaBGP 4: `md5-ip`, `auto-flush`, `manual-eor`, `adj-rib-in`, `adj-rib-out`,
//!   `rate-limit`, and the neighbor-level `nexthop { }` and `add-path { }` blocks;
//! - ExaBGP 5 and main: `source-interface`, `host-name`, `domain-name`, refused.
//!
//! A deprecated spelling is accepted and `--check` says once what the current one is.

use std::net::IpAddr;

use crate::wire::family::{Afi, Family, Safi};

use super::ConfigError;
use super::lexer::{Position, Token, TokenKind};
use super::parser::{Parser, Setting};
use super::session_options::{self, OptionStatements};
use super::values;

/// The statements this module handles inside a neighbor block.
pub const KEYWORDS: &[&str] = &[
    "md5",
    "ttl-security",
    "md5-ip",
    "auto-flush",
    "manual-eor",
    "adj-rib-in",
    "adj-rib-out",
    "rate-limit",
    "nexthop",
    "add-path",
    "host-name",
    "domain-name",
    "multi-session",
    "local-link-local",
    "confederation",
    "source-interface",
    "aigp",
    "route-refresh",
];

/// The statements of a `confederation { }` block (ExaBGP main).
pub const CONFEDERATION_KEYWORDS: &[&str] = &["identifier", "members"];

/// Draft-walton-bgp-hostname-capability §3: ExaBGP truncates longer names to 64 octets;
/// bgpinject refuses them rather than send another name than the one written.
const MAX_FQDN_NAME: usize = 64;

/// ExaBGP neighbor statements bgpinject cannot honour: refused by name with the reason.
pub const REFUSED: &[&str] = &["tcp-ao", "role"];

/// What the statements said that needs the whole neighbor block to check.
#[derive(Default)]
pub(super) struct CompatSettings {
    md5_ip: Setting<(IpAddr, Position)>,
    /// `nexthop { }` at neighbor level (ExaBGP 4): the extended next hop pairs.
    nexthop: Option<Vec<(Family, Afi)>>,
    /// `add-path { }` at neighbor level (ExaBGP 4): the families ADD-PATH is offered for.
    add_path: Option<(Vec<Family>, Position)>,
    /// `limit N` of the `add-path { }` lines (ExaBGP main): the PATHS-LIMIT capability.
    paths_limit: Vec<(Family, u16, Position)>,
    host_name: Setting<String>,
    domain_name: Setting<String>,
    manual_eor: Setting<bool>,
    local_link_local: Setting<std::net::Ipv6Addr>,
    confederation: Setting<super::model::Confederation>,
    source_interface: Setting<String>,
    adj_rib_in: Setting<bool>,
}

/// One statement whose keyword is in [`KEYWORDS`] (with its `;` or its block) or in
/// [`REFUSED`].
pub(super) fn parse(
    p: &mut Parser,
    kw: &Token,
    block: &str,
    s: &mut CompatSettings,
    options: &mut OptionStatements,
) -> Result<(), ConfigError> {
    match kw.text.as_str() {
        "md5" => {
            deprecated(p, kw, "md5-password");
            session_options::parse(p, &renamed(kw, "md5-password"), block, options)
        }
        "ttl-security" => {
            deprecated(p, kw, "outgoing-ttl");
            session_options::parse(p, &renamed(kw, "outgoing-ttl"), block, options)
        }
        "md5-ip" => {
            let (addr, token) = p.value("md5-ip", values::ip_address)?;
            s.md5_ip.set(p, kw, block, (addr, token.position))?;
            p.expect_semicolon("md5-ip value")
        }
        // ExaBGP 4.2 and 5.0 read `auto-flush` and act on neither value (it is only compared
        // and printed back): routes go out as soon as they change. So does bgpinject; `false`
        // is accepted with a `--check` note saying so.
        "auto-flush" => {
            let value = boolean_value(p, kw)?;
            if !value {
                p.note(
                    kw.position,
                    Some("auto-flush false"),
                    "'auto-flush false' changes nothing: ExaBGP reads it and acts on neither value, and bgpinject, like ExaBGP, sends what changed as soon as a command or a reload changes it",
                );
            }
            p.expect_semicolon("auto-flush value")
        }
        "manual-eor" => {
            let value = boolean_value(p, kw)?;
            s.manual_eor.set(p, kw, block, value)?;
            p.expect_semicolon("manual-eor value")
        }
        "adj-rib-in" => {
            let value = if p.peek().kind == TokenKind::Semicolon {
                true
            } else {
                boolean_value(p, kw)?
            };
            s.adj_rib_in.set(p, kw, block, value)?;
            p.expect_semicolon("adj-rib-in value")
        }
        "adj-rib-out" => only_value(
            p,
            kw,
            true,
            "bgpinject always keeps the routes it announced, to resend them on ROUTE-REFRESH and after a reconnection",
        ),
        "rate-limit" => {
            let token = p.expect_word("a number of messages per second or 'disable' after rate-limit")?;
            if !matches!(token.text.as_str(), "disable" | "disabled" | "0") {
                return Err(p.error_at(
                    token.position,
                    format!(
                        "rate-limit {} in {block}: bgpinject does not limit the messages it handles per second (only 'rate-limit disable;' is accepted)",
                        token.text
                    ),
                ));
            }
            p.expect_semicolon("rate-limit value")
        }
        // ExaBGP 3: `multi-session;` at neighbor level, later in the capability block.
        "multi-session" => {
            let on = p.peek().kind == TokenKind::Semicolon || {
                let t = p.expect_word("'enable', 'disable' or ';' after multi-session")?;
                match t.text.as_str() {
                    "true" | "enable" | "enabled" => true,
                    "false" | "disable" | "disabled" => false,
                    _ => return Err(p.unexpected(&t, "'enable', 'disable' or ';' after multi-session")),
                }
            };
            if on {
                p.note(
                    kw.position,
                    None,
                    "'multi-session' at neighbor level is ExaBGP 3's spelling of 'capability { multi-session; }': bgpinject does not advertise multisession (draft-ietf-idr-bgp-multisession); the routes are the same",
                );
                options.set_multi_session(kw.position);
            }
            p.expect_semicolon("multi-session value")
        }
        "host-name" | "domain-name" => {
            let token = p.advance();
            if !matches!(token.kind, TokenKind::Quoted | TokenKind::Word)
                || token.text.len() > MAX_FQDN_NAME
            {
                return Err(p.unexpected(
                    &token,
                    &format!("a name of at most {MAX_FQDN_NAME} octets after {}", kw.text),
                ));
            }
            let setting = if kw.text == "host-name" {
                &mut s.host_name
            } else {
                &mut s.domain_name
            };
            setting.set(p, kw, block, token.text)?;
            p.expect_semicolon(&format!("{} value", kw.text))
        }
        // ExaBGP main: the link-local next hop of the neighbor's IPv6 routes.
        "local-link-local" => {
            let (address, token) = p.value("local-link-local", values::ip_address)?;
            let IpAddr::V6(a) = address else {
                return Err(p.unexpected(&token, "an IPv6 link-local address (fe80::/10) after local-link-local"));
            };
            if !a.is_unicast_link_local() {
                return Err(p.unexpected(&token, "an IPv6 link-local address (fe80::/10) after local-link-local"));
            }
            s.local_link_local.set(p, kw, block, a)?;
            p.expect_semicolon("local-link-local value")
        }
        // Linux IFNAMSIZ: 15 octets and the NUL; no '/', no space (dev_valid_name).
        "source-interface" => {
            let token = p.advance();
            let valid = matches!(token.kind, TokenKind::Word | TokenKind::Quoted)
                && (1..=15).contains(&token.text.len())
                && token.text != "."
                && token.text != ".."
                && !token
                    .text
                    .bytes()
                    .any(|b| b == b'/' || b == b':' || b.is_ascii_whitespace() || b == 0);
            if !valid {
                return Err(p.unexpected(
                    &token,
                    "an interface name (1 to 15 octets, no '/', ':' or space) after source-interface",
                ));
            }
            s.source_interface.set(p, kw, block, token.text)?;
            p.expect_semicolon("source-interface value")
        }
        "confederation" => {
            let c = parse_confederation(p, block)?;
            s.confederation.set(p, kw, block, c)
        }
        "nexthop" => {
            let list = super::announce::parse_nexthop_block(p, block)?;
            s.nexthop.get_or_insert_with(Vec::new).extend(list);
            Ok(())
        }
        "add-path" | "aigp" | "route-refresh"
            if kw.text != "add-path" || p.peek().kind == TokenKind::Word =>
        {
            super::session_options::early_capability(p, kw, options)
        }
        "add-path" => {
            let families = parse_add_path_block(p, block, &mut s.paths_limit)?;
            s.add_path
                .get_or_insert_with(|| (Vec::new(), kw.position))
                .0
                .extend(families);
            Ok(())
        }
        other => Err(p.error_at(
            kw.position,
            format!(
                "'{other}' in {block} is not supported: {}",
                match other {
                    "tcp-ao" => "bgpinject signs sessions with TCP MD5 (md5-password), not TCP-AO (RFC 5925)",
                    _ => "bgpinject does not advertise the BGP role capability (RFC 9234)",
                }
            ),
        )),
    }
}

/// ExaBGP main's `confederation { identifier ASN; members [ ASN ... ]; }`, from just after
/// `confederation`.
fn parse_confederation(
    p: &mut Parser,
    owner: &str,
) -> Result<super::model::Confederation, ConfigError> {
    let block = format!("the confederation block of {owner}");
    let open = p.open_block("confederation")?;
    let mut identifier: Setting<u32> = Setting::default();
    let mut members: Setting<Vec<u32>> = Setting::default();
    while let Some(kw) = p.block_keyword(&open, &block)? {
        match kw.text.as_str() {
            "identifier" => {
                let (asn, _) = p.value("identifier", confederation_asn)?;
                identifier.set(p, &kw, &block, asn)?;
            }
            "members" => {
                let mut list = Vec::new();
                for t in p.word_or_list("members")? {
                    list.push(
                        confederation_asn(&t.text).map_err(|e| p.bad_value("members", &t, e))?,
                    );
                }
                members.set(p, &kw, &block, list)?;
            }
            other => {
                return Err(p.error_at(
                    kw.position,
                    format!(
                        "unknown keyword '{other}' in {block}, expected {}",
                        CONFEDERATION_KEYWORDS.join(" or ")
                    ),
                ));
            }
        }
        p.expect_semicolon(&kw.text)?;
    }
    let identifier = *identifier.get().ok_or_else(|| {
        p.error_at(
            open.position,
            format!("{block} has no identifier, expected 'identifier ASN;'"),
        )
    })?;
    Ok(super::model::Confederation {
        identifier,
        members: members.take().unwrap_or_default(),
    })
}

/// An AS of a confederation: AS 0 is reserved (RFC 7607).
fn confederation_asn(text: &str) -> Result<u32, values::ValueError> {
    match values::asn(text)? {
        0 => Err(values::ValueError::OutOfRange {
            range: "1..4294967295 (AS 0 is reserved, RFC 7607)",
        }),
        asn => Ok(asn),
    }
}

/// `neighbor ... { add-path { ipv4 unicast; ... } }`, from just after `add-path`.
fn parse_add_path_block(
    p: &mut Parser,
    owner: &str,
    limits: &mut Vec<(Family, u16, Position)>,
) -> Result<Vec<Family>, ConfigError> {
    let block = format!("the add-path block of {owner}");
    let open = p.open_block("add-path")?;
    let mut list = Vec::new();
    while let Some(afi_token) = p.block_keyword(&open, &block)? {
        let afi = match afi_token.text.as_str() {
            "ipv4" => Afi::Ipv4,
            "ipv6" => Afi::Ipv6,
            other => {
                return Err(p.error_at(
                    afi_token.position,
                    format!("unknown address family '{other}' in {block}, expected ipv4 or ipv6"),
                ));
            }
        };
        let safi_token = p.expect_word(&format!("a subsequent address family in {block}"))?;
        let safi = match safi_token.text.as_str() {
            "unicast" => Safi::Unicast,
            "flow" => Safi::FlowSpec,
            "flow-vpn" => Safi::FlowSpecVpn,
            other => super::announce::safi(other).ok_or_else(|| {
                p.error_at(
                    safi_token.position,
                    format!("unsupported family '{} {other}' in {block}, expected unicast, multicast, nlri-mpls, mpls-vpn, flow or flow-vpn", afi_token.text),
                )
            })?,
        };
        let family = Family::new(afi, safi);
        list.push(family);
        if p.peek().text == "limit" {
            let at = p.advance().position;
            // 0 means no limit (the family is left out of the capability), as in ExaBGP.
            let (limit, _) = p.value("limit", |t| values::number_in(t, 0, 65535, "0..65535"))?;
            if limit > 0 {
                limits.retain(|(f, _, _)| *f != family);
                limits.push((family, limit as u16, at));
            }
        }
        p.expect_semicolon(&format!("{} {}", afi_token.text, safi_token.text))?;
    }
    Ok(list)
}

/// Applies what needs the whole block: `md5-ip` must be the local address (where bgpinject
/// listens and signs), the neighbor-level `nexthop { }` and `add-path { }` blocks.
pub(super) fn finish(
    p: &Parser,
    block: &str,
    s: CompatSettings,
    local_address: Option<IpAddr>,
    nexthop_enabled: Option<bool>,
    options: &mut super::model::SessionOptions,
) -> Result<(), ConfigError> {
    if let Some(&(md5_ip, at)) = s.md5_ip.get()
        && Some(md5_ip) != local_address
    {
        return Err(p.error_at(
            at,
            format!(
                "md5-ip {md5_ip} in {block} is not its local-address ({}): bgpinject listens and signs with TCP MD5 on the local-address only",
                local_address.map_or_else(|| "none".to_string(), |a| a.to_string())
            ),
        ));
    }
    if let Some(list) = s.nexthop {
        // ExaBGP 4: the block says which pairs, `capability { nexthop false; }` turns it off.
        if nexthop_enabled != Some(false) {
            options.extended_next_hop.extend(list);
        }
    }
    if nexthop_enabled == Some(false) {
        options.extended_next_hop.clear();
    }
    if let Some((families, _)) = s.add_path {
        options.add_path_families = Some(families);
    }
    // A limit on the paths received means something only where ADD-PATH receive is offered.
    if let Some(&(_, _, at)) = s.paths_limit.first()
        && !options.add_path.is_some_and(|m| m.receive())
    {
        return Err(p.error_at(
            at,
            format!("'limit' in the add-path block of {block} needs 'capability {{ add-path receive|send/receive; }}': it limits the paths received"),
        ));
    }
    options.paths_limit = s.paths_limit.iter().map(|&(f, l, _)| (f, l)).collect();
    options.local_link_local = s.local_link_local.get().copied();
    options.confederation = s.confederation.take();
    options.source_interface = s.source_interface.take();
    if let Some(&manual) = s.manual_eor.get() {
        options.manual_eor = manual;
    }
    if let Some(&keep) = s.adj_rib_in.get() {
        options.adj_rib_in = keep;
    }
    // ExaBGP sends the FQDN capability on every session, with the system's names unless
    // written; bgpinject only when a name is written, the other one then the system's.
    let (host, domain) = (s.host_name.take(), s.domain_name.take());
    if host.is_some() || domain.is_some() {
        options.fqdn = Some((
            host.unwrap_or_else(system_host_name),
            domain.unwrap_or_default(),
        ));
    }
    Ok(())
}

/// The kernel's host name (what ExaBGP's default host-name is), empty when unreadable.
fn system_host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().chars().take(MAX_FQDN_NAME).collect())
        .unwrap_or_default()
}

/// `true`, `false`, `enable`, `disable`, or nothing (`true`) after a boolean statement.
fn boolean_value(p: &mut Parser, kw: &Token) -> Result<bool, ConfigError> {
    if p.peek().kind == TokenKind::Semicolon {
        return Ok(true);
    }
    let expected = format!(
        "'true', 'false', 'enable', 'disable' or ';' after {}",
        kw.text
    );
    let token = p.expect_word(&expected)?;
    match token.text.as_str() {
        "true" | "enable" | "enabled" => Ok(true),
        "false" | "disable" | "disabled" => Ok(false),
        _ => Err(p.unexpected(&token, &expected)),
    }
}

/// A boolean statement of which bgpinject does only one value (`ok`): the other is refused.
fn only_value(p: &mut Parser, kw: &Token, ok: bool, why: &str) -> Result<(), ConfigError> {
    let value = if p.peek().kind == TokenKind::Semicolon {
        (true, kw.position)
    } else {
        let expected = format!(
            "'true', 'false', 'enable', 'disable' or ';' after {}",
            kw.text
        );
        let token = p.expect_word(&expected)?;
        match token.text.as_str() {
            "true" | "enable" | "enabled" => (true, token.position),
            "false" | "disable" | "disabled" => (false, token.position),
            _ => return Err(p.unexpected(&token, &expected)),
        }
    };
    if value.0 != ok {
        return Err(p.error_at(
            value.1,
            format!("'{} {}' is not supported: {why}", kw.text, value.0),
        ));
    }
    p.expect_semicolon(&format!("{} value", kw.text))
}

/// The places where bgpinject announces something else than the original injector did for
/// the same words, noted at each neighbor of a file written in the original's syntax: MED
/// to iBGP peers (the original dropped it until ExaBGP 3.1.10).
pub(super) fn original_era_notes(
    state: &mut super::include::LoadState,
    neighbors: &[super::NeighborConfig],
) {
    use crate::wire::attribute::type_code;
    aigp_notes(state, neighbors);
    if !state.original_syntax {
        return;
    }
    for n in neighbors.iter().filter(|n| !n.is_ebgp()) {
        let with_med = n
            .routes
            .iter()
            .filter(|r| r.attributes.get(type_code::MED).is_some())
            .count();
        if with_med > 0 {
            state.note(
                None,
                format!(
                    "{}: warning: neighbor {} is iBGP and {with_med} of its routes have a MED: bgpinject sends it, as ExaBGP 3.1.10 and later; the original injector (this file's syntax) did not send MED to iBGP peers",
                    n.location, n.peer_address
                ),
            );
        }
    }
}

/// ExaBGP sends AIGP to an eBGP peer only with `capability { aigp enable; }` (RFC 7311
/// §3.1: AIGP crosses an AS boundary only where configured); bgpinject sends what the route
/// says. Said at `--check` for each eBGP neighbor where the two differ.
fn aigp_notes(state: &mut super::include::LoadState, neighbors: &[super::NeighborConfig]) {
    use crate::wire::attribute::type_code;
    for n in neighbors
        .iter()
        .filter(|n| n.is_ebgp() && n.options.aigp != Some(true))
    {
        let with_aigp = n
            .routes
            .iter()
            .filter(|r| r.attributes.get(type_code::AIGP).is_some())
            .count();
        if with_aigp > 0 {
            state.note(
                None,
                format!(
                    "{}: warning: neighbor {} is eBGP and {with_aigp} of its routes have an AIGP attribute: bgpinject sends it; ExaBGP sends AIGP to an eBGP peer only with 'capability {{ aigp enable; }}' (write that to say so, or remove aigp from the routes)",
                    n.location, n.peer_address
                ),
            );
        }
    }
}

/// The original injector's spelling seen: the file is compared with that era's meanings.
pub(super) fn mark_original(p: &Parser) {
    p.state.borrow_mut().original_syntax = true;
}

/// `--check` says once where a deprecated keyword is and what replaces it.
fn deprecated(p: &Parser, kw: &Token, current: &str) {
    mark_original(p);
    p.note(
        kw.position,
        Some(&kw.text),
        format!(
            "'{}' is the original injector's spelling, read as '{current}' (write '{current}'; `bgpinject migrate` does)",
            kw.text
        ),
    );
}

fn renamed(kw: &Token, text: &str) -> Token {
    Token {
        kind: kw.kind,
        text: text.to_string(),
        position: kw.position,
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::config::{NeighborConfig, parse_str_with_notes};
    use crate::wire::family::{Afi, Family};

    fn neighbor(body: &str) -> Result<(NeighborConfig, Vec<String>), String> {
        let text = format!(
            "neighbor 192.0.2.1 {{\nrouter-id 192.0.2.10; local-address 192.0.2.10; local-as 65000; peer-as 65000;\n{body}\n}}"
        );
        parse_str_with_notes(&text, Path::new("t.conf"))
            .map(|(mut c, notes)| (c.neighbors.remove(0), notes))
            .map_err(|e| e.to_string())
    }

    #[test]
    fn original_spellings_mean_the_current_ones_with_one_warning() {
        let (n, notes) = neighbor("md5 \"my md5 of the day\";\nttl-security 3;").unwrap();
        assert_eq!(
            n.options.md5_password.as_deref(),
            Some(&b"my md5 of the day"[..])
        );
        assert_eq!(n.options.outgoing_ttl, Some(3));
        assert_eq!(notes.len(), 2, "{notes:?}");
        assert!(
            notes[0].starts_with("t.conf:3:1: warning: 'md5'"),
            "{notes:?}"
        );
        assert!(notes[0].contains("'md5-password'"), "{notes:?}");
    }

    #[test]
    fn graceful_restart_without_time_is_the_hold_time_and_disable_turns_it_off() {
        let gr = |body: &str| neighbor(body).unwrap().0.options.graceful_restart;
        assert_eq!(gr("hold-time 90; graceful-restart;"), Some(90));
        assert_eq!(gr("graceful-restart;"), Some(180));
        assert_eq!(gr("graceful-restart 0;"), Some(180));
        assert_eq!(gr("graceful-restart 1200;"), Some(1200));
        assert_eq!(
            gr("hold-time 9000; capability { graceful-restart; }"),
            Some(4095)
        );
        assert_eq!(gr("graceful-restart disable;"), None);
        assert_eq!(gr("capability { graceful-restart disable; }"), None);
    }

    #[test]
    fn md5_ip_must_be_the_local_address() {
        neighbor("md5-password x; md5-ip 192.0.2.10;").unwrap();
        let e = neighbor("md5-password x;\nmd5-ip 192.0.2.11;").unwrap_err();
        assert!(e.starts_with("t.conf:4:8: md5-ip 192.0.2.11"), "{e}");
    }

    #[test]
    fn adj_rib_in_keeps_the_peers_routes_for_show() {
        assert!(neighbor("adj-rib-in true;").unwrap().0.options.adj_rib_in);
        assert!(neighbor("adj-rib-in;").unwrap().0.options.adj_rib_in);
        assert!(!neighbor("adj-rib-in false;").unwrap().0.options.adj_rib_in);
        assert!(!neighbor("").unwrap().0.options.adj_rib_in);
        assert!(neighbor("adj-rib-in maybe;").is_err());
    }

    #[test]
    fn manual_eor_leaves_end_of_rib_to_the_helpers() {
        let c = neighbor("manual-eor true;").unwrap();
        assert!(c.0.options.manual_eor);
        let c = neighbor("manual-eor false;").unwrap();
        assert!(!c.0.options.manual_eor);
    }

    #[test]
    fn auto_flush_false_is_accepted_with_a_note_that_it_changes_nothing() {
        let (_, notes) = neighbor("auto-flush false;").unwrap();
        assert!(
            notes
                .iter()
                .any(|n| n.starts_with("t.conf:3:")
                    && n.contains("'auto-flush false' changes nothing")),
            "{notes:?}"
        );
        let (_, notes) = neighbor("auto-flush true;").unwrap();
        assert!(!notes.iter().any(|n| n.contains("auto-flush")), "{notes:?}");
        assert!(neighbor("auto-flush maybe;").is_err());
    }

    #[test]
    fn the_other_value_of_a_switch_bgpinject_always_has_is_refused_by_name() {
        neighbor("auto-flush true; manual-eor false; adj-rib-in false; adj-rib-out true; rate-limit disable;")
            .unwrap();
        for (body, word) in [
            ("adj-rib-out false;", "'adj-rib-out false'"),
            ("rate-limit 10;", "rate-limit 10"),
            ("tcp-ao { keyid 1; }", "'tcp-ao'"),
        ] {
            let e = neighbor(body).unwrap_err();
            assert!(
                e.starts_with("t.conf:3:") && e.contains(word),
                "{body}: {e}"
            );
        }
    }

    #[test]
    fn neighbor_level_nexthop_and_add_path_blocks() {
        let (n, _) = neighbor(
            "capability { nexthop true; add-path send; }\nfamily { ipv4 unicast; ipv6 unicast; }\nnexthop { ipv4 unicast ipv6; }\nadd-path { ipv6 unicast; }",
        )
        .unwrap();
        assert_eq!(
            n.options.extended_next_hop,
            vec![(Family::IPV4_UNICAST, Afi::Ipv6)]
        );
        let offered: Vec<Family> = n.add_path_capability().iter().map(|(f, _)| *f).collect();
        assert_eq!(offered, vec![Family::IPV6_UNICAST]);
        let (n, _) =
            neighbor("capability { nexthop false; }\nnexthop { ipv4 unicast ipv6; }").unwrap();
        assert!(n.options.extended_next_hop.is_empty());
    }

    #[test]
    fn informational_capabilities_and_session_knobs() {
        use crate::wire::capability::Capability;
        let (n, _) = neighbor(
            "host-name my-host; domain-name example.com;\ncapability { software-version enable; extended-message disable; aigp enable; }",
        )
        .unwrap();
        assert_eq!(
            n.options.informational_capabilities(),
            vec![
                Capability::Fqdn {
                    hostname: "my-host".into(),
                    domain: "example.com".into()
                },
                Capability::SoftwareVersion(crate::config::model::software_version()),
            ]
        );
        assert!(!n.options.extended_message);
        // The value ExaBGP main sends for conf-hostname.conf (its qa/encoding OPEN).
        let (m, _) = neighbor("host-name my-host-name;\ndomain-name my-domain-name.com;").unwrap();
        let mut value = Vec::new();
        m.options.informational_capabilities()[0].emit_value(&mut value);
        let exabgp = "0C6D792D686F73742D6E616D65126D792D646F6D61696E2D6E616D652E636F6D";
        let hex: String = value.iter().map(|b| format!("{b:02X}")).collect();
        assert_eq!(hex, exabgp);
        assert_eq!(n.options.aigp, Some(true));
        let (n, _) = neighbor("").unwrap();
        assert!(n.options.informational_capabilities().is_empty());
        assert!(n.options.extended_message);
        let long = "h".repeat(65);
        let e = neighbor(&format!("host-name {long};")).unwrap_err();
        assert!(e.contains("at most 64 octets"), "{e}");
        let e = neighbor("host-name a; host-name b;").unwrap_err();
        assert!(e.contains("host-name"), "{e}");
    }

    #[test]
    fn paths_limit_multi_session_and_other_unadvertised_capabilities() {
        use crate::wire::capability::Capability;
        let (n, _) = neighbor(
            "capability { add-path send/receive; }\nfamily { ipv4 unicast; ipv6 unicast; }\nadd-path { ipv4 unicast limit 10; ipv6 unicast limit 0; }",
        )
        .unwrap();
        assert_eq!(
            n.options.informational_capabilities(),
            vec![Capability::Unknown {
                code: 76,
                value: vec![0, 1, 1, 0, 10]
            }]
        );
        let e = neighbor("capability { add-path send; }\nadd-path { ipv4 unicast limit 10; }")
            .unwrap_err();
        assert!(e.contains("needs 'capability { add-path receive"), "{e}");
        let (_, notes) = neighbor(
            "capability { multi-session; operational enable; link-local-nexthop enable; }\nfamily { ipv4 unicast; }",
        )
        .unwrap();
        assert_eq!(
            notes
                .iter()
                .filter(|n| n.contains("does not advertise"))
                .count(),
            3,
            "{notes:?}"
        );
        let (_, notes) =
            neighbor("capability { multi-session; }\nfamily { ipv4 unicast; ipv6 unicast; }")
                .unwrap();
        assert!(
            notes
                .iter()
                .any(|n| n.contains("one session carrying every family")),
            "{notes:?}"
        );
        let (_, notes) = neighbor("multi-session;").unwrap();
        assert!(
            notes.iter().any(|n| n.contains("ExaBGP 3's spelling")),
            "{notes:?}"
        );
    }

    #[test]
    fn aigp_to_an_ebgp_peer_is_noted_unless_enabled() {
        let text = |cap: &str| {
            format!(
                "neighbor 192.0.2.1 {{ router-id 192.0.2.10; local-as 65000; peer-as 65001; {cap} static {{ route 10.0.0.0/8 next-hop 192.0.2.1 aigp 10; }} }}"
            )
        };
        let notes = |cap: &str| {
            parse_str_with_notes(&text(cap), Path::new("t.conf"))
                .unwrap()
                .1
                .into_iter()
                .filter(|n| n.contains("AIGP"))
                .count()
        };
        assert_eq!(notes(""), 1);
        assert_eq!(notes("capability { aigp disable; }"), 1);
        assert_eq!(notes("capability { aigp enable; }"), 0);
    }

    #[test]
    fn early_process_options_set_the_api_of_the_neighbor() {
        let (n, notes) = neighbor(
            "process backend {\nparse-routes;\nneighbor-changes;\nsend-packets;\nrun /bin/true;\n}",
        )
        .unwrap();
        assert!(n.api_receive_updates && n.api_neighbor_changes);
        assert!(
            notes.iter().any(|n| n.contains("'parse-routes'")),
            "{notes:?}"
        );
        let (n, _) = neighbor("process backend { run /bin/true; }").unwrap();
        assert!(!n.api_receive_updates && !n.api_neighbor_changes);
    }

    #[test]
    fn family_all_and_minimal() {
        let (n, notes) = neighbor("family { all; }").unwrap();
        assert_eq!(n.families.len(), 10);
        assert!(
            notes.iter().any(|n| n.contains("'family { all; }'")),
            "{notes:?}"
        );
        let (n, _) =
            neighbor("family { minimal; }\nstatic { route 2001:db8::/32 next-hop 2001:db8::1; }")
                .unwrap();
        assert_eq!(n.families, vec![Family::IPV6_UNICAST]);
        assert!(neighbor("family { ipv4 unicast; all; }").is_err());
    }

    #[test]
    fn files_in_the_original_syntax_are_told_where_med_differs() {
        let med = "static { route 10.0.0.0/8 next-hop 192.0.2.1 med 5; }";
        let (_, notes) = neighbor(&format!("graceful-restart 120;\n{med}")).unwrap();
        assert!(notes.iter().any(|n| n.contains("have a MED")), "{notes:?}");
        let (_, notes) =
            neighbor(&format!("capability {{ graceful-restart 120; }}\n{med}")).unwrap();
        assert!(!notes.iter().any(|n| n.contains("have a MED")), "{notes:?}");
    }

    #[test]
    fn a_neighbor_left_open_at_the_end_of_the_file_ends_there_except_on_reload() {
        let text = "neighbor 192.0.2.1 {\nrouter-id 192.0.2.10; local-as 65000; peer-as 65000;\nstatic { route 10.0.0.0/8 next-hop 192.0.2.1; }\n";
        let (c, notes) = parse_str_with_notes(text, Path::new("t.conf")).unwrap();
        assert_eq!(c.neighbors.len(), 1);
        assert!(
            notes
                .iter()
                .any(|n| n.starts_with("t.conf:1:20: warning: the '{' of neighbor 192.0.2.1")),
            "{notes:?}"
        );
        // A block inside it, a statement or a list cut short: refused as before.
        for cut in [
            "neighbor 192.0.2.1 {\nrouter-id 192.0.2.10; local-as 65000; peer-as 65000;\nstatic { route 10.0.0.0/8 next-hop 192.0.2.1;\n",
            "neighbor 192.0.2.1 {\nrouter-id 192.0.2.10; local-as 65000; peer-as",
            "neighbor 192.0.2.1 {\nrouter-id 192.0.2.10; local-as 65000; peer-as 65000; static { route 10.0.0.0/8 next-hop 192.0.2.1 community [ 1:1",
            "neighbor 192.0.2.1 {",
        ] {
            assert!(
                parse_str_with_notes(cut, Path::new("t.conf")).is_err(),
                "{cut}"
            );
        }
        // In a group, the group's own '}' is what is missing: refused.
        assert!(
            parse_str_with_notes(
                "group g { local-as 1; peer-as 2; router-id 192.0.2.10; neighbor 192.0.2.1 { }\n",
                Path::new("t.conf")
            )
            .is_err()
        );
        // A reload reads the same text as a file that is still being written: refused.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.conf");
        std::fs::write(&path, text).unwrap();
        assert!(crate::config::load(&path).is_ok());
        let e = crate::config::load_for_reload(&path)
            .unwrap_err()
            .to_string();
        assert!(e.contains(":1:20: unterminated block"), "{e}");
        // And an included file never ends an open block.
        let main = dir.path().join("main.conf");
        std::fs::write(dir.path().join("a.conf"), text).unwrap();
        std::fs::write(&main, "include a.conf;\n").unwrap();
        let e = crate::config::load(&main).unwrap_err().to_string();
        assert!(e.contains("unterminated block"), "{e}");
    }

    #[test]
    fn an_ipv6_route_takes_an_ipv4_next_hop_only_with_its_nexthop_pair() {
        let route = "static { route 2001:db8::/32 next-hop 192.0.2.1; }";
        let e = neighbor(route).unwrap_err();
        assert!(e.contains("'nexthop { ipv6 unicast ipv4; }'"), "{e}");
        let (n, _) = neighbor(&format!(
            "family {{ ipv6 unicast; }}\nnexthop {{ ipv6 unicast ipv4; }}\n{route}"
        ))
        .unwrap();
        assert_eq!(n.families, vec![Family::IPV6_UNICAST]);
        // The pair of the other direction does not allow it.
        assert!(neighbor(&format!("nexthop {{ ipv4 unicast ipv6; }}\n{route}")).is_err());
    }

    #[test]
    fn local_link_local_is_one_link_local_address() {
        let (n, _) = neighbor("local-link-local fe80::1;").unwrap();
        assert_eq!(n.options.local_link_local, Some("fe80::1".parse().unwrap()));
        for bad in [
            "local-link-local 192.0.2.1;",
            "local-link-local 2001:db8::1;",
            "local-link-local ff02::1;",
            "local-link-local fe80::1; local-link-local fe80::2;",
            "local-link-local;",
            "local-link-local fe80::1",
        ] {
            assert!(neighbor(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn confederation_gives_the_open_as_and_the_as_path_by_peer() {
        use crate::wire::aspath::ConfederationRole;
        let c = |peer: &str, body: &str| {
            let text = format!(
                "neighbor 192.0.2.1 {{\nrouter-id 192.0.2.10; local-as 65001; peer-as {peer};\n{body}\n}}"
            );
            parse_str_with_notes(&text, Path::new("t.conf"))
                .map(|(mut c, _)| c.neighbors.remove(0))
                .map_err(|e| e.to_string())
        };
        let block = "confederation { identifier 65000; members [ 65002 65003 ]; }";
        let outside = c("64999", block).unwrap();
        assert_eq!(outside.confederation_role(), ConfederationRole::External);
        assert_eq!(outside.open_as(), 65000);
        let member = c("65002", block).unwrap();
        assert_eq!(
            member.confederation_role(),
            ConfederationRole::Member(65001)
        );
        assert_eq!(member.open_as(), 65001);
        let same = c("65001", block).unwrap();
        assert_eq!(same.confederation_role(), ConfederationRole::None);
        let single = c(
            "64999",
            "confederation { identifier 65000; members 65002; }",
        )
        .unwrap();
        assert_eq!(single.options.confederation.unwrap().members, vec![65002]);
        for (peer, bad, why) in [
            (
                "64999",
                "confederation { members [ 65002 ]; }",
                "no identifier",
            ),
            ("65000", block, "peer-as"),
            ("64999", "confederation { identifier 65001; }", "local-as"),
            ("64999", "confederation { identifier 0; }", "identifier"),
            (
                "64999",
                "confederation { identifier 4294967296; }",
                "identifier",
            ),
            ("64999", "confederation { identifier -1; }", "identifier"),
            (
                "64999",
                "confederation { identifier 65000; members [ 1 x ]; }",
                "members",
            ),
            (
                "64999",
                "confederation { identifier 65000; identifier 65005; }",
                "identifier",
            ),
            (
                "64999",
                "confederation { identifier 65000; role x; }",
                "'role'",
            ),
            ("64999", "confederation { identifier 65000 }", "';'"),
            (
                "64999",
                "confederation { identifier 65000; } confederation { identifier 65000; }",
                "confederation",
            ),
        ] {
            let e = c(peer, bad).unwrap_err();
            assert!(e.contains(why), "{bad}: {e}");
        }
    }
}
