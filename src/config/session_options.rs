//! Neighbor statements that change the session rather than the routes: graceful restart,
//! TCP MD5, TTL security, and ExaBGP's `capability { }` block.

use crate::wire::capability::AddPathMode;

use super::ConfigError;
use super::lexer::{Position, Token, TokenKind};
use super::model::SessionOptions;
use super::parser::Parser;
use super::values::{self, ValueError};

/// RFC 4724 §3: the restart time is 12 bits.
const MAX_RESTART_TIME: u64 = 4095;
/// `eor-wait` beyond an hour would outlast any peer's stale-route timer.
const MAX_EOR_WAIT: u64 = 3600;
/// Linux TCP_MD5SIG_MAXKEYLEN.
const MAX_MD5_KEY: usize = 80;

/// The keywords this module handles inside a neighbor block.
pub const KEYWORDS: &[&str] = &[
    "graceful-restart",
    "md5-password",
    "md5-base64",
    "outgoing-ttl",
    "incoming-ttl",
    "capability",
    "group-updates",
    "eor-wait",
    "shutdown",
    "role",
];

/// The statements of ExaBGP main's `role { }` block (RFC 9234).
pub const ROLE_KEYWORDS: &[&str] = &["local", "strict", "add-meta", "otc"];

/// ExaBGP 6's refusal of the role block's `otc`, whose reason holds here too.
const ROLE_OTC_REMOVED: &str = "'otc' in a role block was removed by ExaBGP 6.0 and is refused: RFC 9234 §5 says the operator MUST NOT be able to modify the Only-to-Customer procedures; delete the line (OTC marking is unconditional for IPv4 and IPv6 unicast)";

/// The statements of a `capability { }` block.
pub const CAPABILITY_KEYWORDS: &[&str] = &[
    "graceful-restart",
    "asn4",
    "route-refresh",
    "add-path",
    "nexthop",
    "extended-message",
    "multi-session",
    "operational",
    "software-version",
    "link-local-nexthop",
    "aigp",
    "long-lived-graceful-restart",
];

/// RFC 9494 §3: the long-lived stale time is 24 bits.
const MAX_LONG_LIVED_STALE_TIME: u64 = 0xFF_FFFF;

/// ExaBGP's capabilities that bgpinject does not advertise: `enable` is accepted with this
/// warning, where leaving the capability out sends the same routes (the peer then does not
/// use what it would have allowed).
const OFF_CAPABILITIES: &[(&str, &str)] = &[
    (
        "multi-session",
        "bgpinject does not advertise multisession (draft-ietf-idr-bgp-multisession); the routes are the same",
    ),
    (
        "operational",
        "bgpinject does not advertise ExaBGP's OPERATIONAL capability: it sends and takes no OPERATIONAL messages, and without the capability the peer sends none; the routes are the same",
    ),
    (
        "link-local-nexthop",
        "bgpinject does not advertise the link-local next hop capability (draft-ietf-idr-linklocal-capability): next hops are sent as written, a link-local one after the global one (32 octets)",
    ),
];

/// What the statements said, with the position needed to report a bad base64 password.
#[derive(Default)]
pub(super) struct OptionStatements {
    options: SessionOptions,
    md5_at: Option<Position>,
    /// `graceful-restart;` (or 0) without a time: the hold time, as in ExaBGP, set by
    /// [`finish`] once the hold time is known.
    restart_time_is_hold_time: bool,
    /// ExaBGP 4's `capability { nexthop true|false; }` (the pairs are in a `nexthop { }`).
    nexthop_enabled: Option<bool>,
    /// `capability { multi-session; }`: refused unless the neighbor has one family.
    multi_session_at: Option<Position>,
    /// Where `role` was written: a role needs an eBGP session (checked with the ASNs).
    role_at: Option<Position>,
    /// Where `long-lived-graceful-restart` was written: it needs graceful restart.
    long_lived_at: Option<Position>,
}

impl OptionStatements {
    pub fn nexthop_enabled(&self) -> Option<bool> {
        self.nexthop_enabled
    }

    pub fn multi_session_at(&self) -> Option<Position> {
        self.multi_session_at
    }

    /// Where the `role { }` block starts, when there is one.
    pub fn role_at(&self) -> Option<Position> {
        self.role_at
    }

    /// ExaBGP 3's neighbor-level `multi-session;`.
    pub fn set_multi_session(&mut self, at: Position) {
        self.multi_session_at = Some(at);
    }
}

/// What `graceful-restart` said.
enum Restart {
    Time(u16),
    /// No time, or 0: ExaBGP advertises the hold time.
    HoldTime,
    Disabled,
}

impl OptionStatements {
    fn set_restart(&mut self, r: Restart) {
        let (time, from_hold) = match r {
            Restart::Time(t) => (Some(t), false),
            Restart::HoldTime => (Some(0), true),
            Restart::Disabled => (None, false),
        };
        self.options.graceful_restart = time;
        self.restart_time_is_hold_time = from_hold;
    }
}

/// Parses one statement whose keyword is in [`KEYWORDS`], including its `;`.
pub(super) fn parse(
    p: &mut Parser,
    kw: &Token,
    block: &str,
    statements: &mut OptionStatements,
) -> Result<(), ConfigError> {
    if kw.text == "graceful-restart" {
        let r = restart_time(p)?;
        statements.set_restart(r);
        return p.expect_semicolon("graceful-restart");
    }
    if kw.text == "capability" {
        return parse_capability_block(p, block, statements);
    }
    if kw.text == "role" {
        statements.role_at = Some(kw.position);
        return parse_role_block(p, kw, block, &mut statements.options);
    }
    let o = &mut statements.options;
    match kw.text.as_str() {
        "md5-password" => {
            let token = p.advance();
            if !matches!(token.kind, TokenKind::Quoted | TokenKind::Word) || token.text.is_empty() {
                return Err(p.unexpected(&token, "a password after md5-password"));
            }
            if token.text.len() > MAX_MD5_KEY {
                return Err(p.error_at(
                    token.position,
                    format!(
                        "md5-password is {} bytes, expected at most {MAX_MD5_KEY}",
                        token.text.len()
                    ),
                ));
            }
            statements.md5_at = Some(token.position);
            o.md5_password = Some(token.text.into_bytes());
            p.expect_semicolon("md5-password value")
        }
        "md5-base64" => {
            o.md5_base64 = boolean(p, "md5-base64")?;
            p.expect_semicolon("md5-base64 value")
        }
        // ExaBGP's switch: routes with the same attributes share UPDATEs (true, the default),
        // or every announced route has an UPDATE of its own (false).
        "group-updates" => {
            o.group_updates = boolean(p, "group-updates")?;
            p.expect_semicolon("group-updates value")
        }
        // ExaBGP main's switch: `true` keeps the neighbor administratively down (no session)
        // until a helper's `neighbor IP enable` (see `manager/neighbors.rs`).
        "shutdown" => {
            o.shutdown = boolean(p, "shutdown")?;
            p.expect_semicolon("shutdown value")
        }
        // How long End-of-RIB waits for the neighbor's helpers and health checks to be ready
        // (with graceful restart negotiated); 0: it does not wait.
        "eor-wait" => {
            let (t, _) = p.value("eor-wait", |t| {
                values::number_in(t, 0, MAX_EOR_WAIT, "0..3600 seconds")
            })?;
            o.eor_wait = Some(t as u16);
            p.expect_semicolon("eor-wait value")
        }
        "outgoing-ttl" | "incoming-ttl" => {
            let (ttl, _) = p.value(&kw.text, |t| values::number_in(t, 1, 255, "1..255"))?;
            if kw.text == "outgoing-ttl" {
                o.outgoing_ttl = Some(ttl as u8);
            } else {
                o.incoming_ttl = Some(ttl as u8);
            }
            p.expect_semicolon(&format!("{} value", kw.text))
        }
        other => Err(p.error_at(kw.position, format!("unknown keyword '{other}' in {block}"))),
    }
}

/// `graceful-restart [TIME|disable];` as ExaBGP reads it: no time (or 0) advertises the hold
/// time, `disable` (or `false`) no capability.
fn restart_time(p: &mut Parser) -> Result<Restart, ConfigError> {
    if p.peek().kind == TokenKind::Semicolon {
        return Ok(Restart::HoldTime);
    }
    if matches!(
        p.peek().text.as_str(),
        "disable" | "disabled" | "false" | "enable" | "enabled" | "true"
    ) {
        let token = p.advance();
        return Ok(match token.text.as_str() {
            "enable" | "enabled" | "true" => Restart::HoldTime,
            _ => Restart::Disabled,
        });
    }
    let (t, _) = p.value("graceful-restart", |t| {
        values::number_in(t, 0, MAX_RESTART_TIME, "0..4095 seconds or disable")
    })?;
    Ok(match t {
        0 => Restart::HoldTime,
        t => Restart::Time(t as u16),
    })
}

/// `true`/`enable` or `false`/`disable`; a bare keyword (`;` next) means true.
fn boolean(p: &mut Parser, statement: &str) -> Result<bool, ConfigError> {
    if p.peek().kind == TokenKind::Semicolon {
        return Ok(true);
    }
    let expected = format!("'true', 'false', 'enable', 'disable' or ';' after {statement}");
    let token = p.expect_word(&expected)?;
    match token.text.as_str() {
        "true" | "enable" => Ok(true),
        "false" | "disable" => Ok(false),
        _ => Err(p.unexpected(&token, &expected)),
    }
}

/// ExaBGP 3's neighbor-level (and group-level) `add-path MODE;`, `aigp BOOL;` and
/// `route-refresh BOOL;`: the same settings as in `capability { }` (3.x's parser stored both
/// under one key). `aigp;` alone is off, as in 3.x (`_set_boolean` with default false).
pub(super) fn early_capability(
    p: &mut Parser,
    kw: &Token,
    statements: &mut OptionStatements,
) -> Result<(), ConfigError> {
    p.note(
        kw.position,
        Some(&kw.text),
        format!(
            "'{}' at neighbor level is ExaBGP 3's spelling: today it goes in 'capability {{ }}', with the same value",
            kw.text
        ),
    );
    let o = &mut statements.options;
    match kw.text.as_str() {
        "add-path" => {
            let (mode, _) = p.value("add-path", add_path_mode)?;
            o.add_path = (mode.0 != 0).then_some(mode);
        }
        "aigp" => {
            o.aigp = Some(p.peek().kind != TokenKind::Semicolon && boolean(p, "aigp")?);
        }
        _ => o.route_refresh = boolean(p, "route-refresh")?,
    }
    p.expect_semicolon(&format!("{} value", kw.text))
}

/// ExaBGP's `capability { graceful-restart N; asn4 enable; route-refresh; }`.
fn parse_capability_block(
    p: &mut Parser,
    owner: &str,
    statements: &mut OptionStatements,
) -> Result<(), ConfigError> {
    let block = format!("the capability block of {owner}");
    let open = p.open_block("capability")?;
    while let Some(kw) = p.block_keyword(&open, &block)? {
        if kw.text == "graceful-restart" {
            let r = restart_time(p)?;
            statements.set_restart(r);
            p.expect_semicolon("capability graceful-restart")?;
            continue;
        }
        // ExaBGP 4: `nexthop true;` turns the capability on, a neighbor-level `nexthop { }`
        // lists the pairs; bgpinject's `nexthop { }` here lists them too.
        if kw.text == "nexthop" && p.peek().kind != TokenKind::OpenBrace {
            statements.nexthop_enabled = Some(boolean(p, "nexthop")?);
            p.expect_semicolon("capability nexthop")?;
            continue;
        }
        let o = &mut statements.options;
        match kw.text.as_str() {
            "asn4" => o.four_octet_as = boolean(p, "asn4")?,
            "route-refresh" => o.route_refresh = boolean(p, "route-refresh")?,
            "add-path" => {
                let (mode, _) = p.value("add-path", add_path_mode)?;
                o.add_path = (mode.0 != 0).then_some(mode);
            }
            "nexthop" => {
                o.extended_next_hop = super::announce::parse_nexthop_block(p, &block)?;
                continue;
            }
            // RFC 8654, on unless disabled (as ExaBGP): without it UPDATEs stay within 4096
            // octets whatever the peer advertises.
            "extended-message" => o.extended_message = boolean(p, "extended-message")?,
            "software-version" => o.software_version = boolean(p, "software-version")?,
            "long-lived-graceful-restart" => {
                let (t, _) = p.value("long-lived-graceful-restart", |t| {
                    values::number_in(
                        t,
                        0,
                        MAX_LONG_LIVED_STALE_TIME,
                        "0..16777215 seconds (RFC 9494 §3)",
                    )
                })?;
                o.long_lived_stale_time = Some(t as u32);
                statements.long_lived_at = Some(kw.position);
            }
            // Not a capability in the OPEN: ExaBGP's switch for sending AIGP to eBGP peers.
            "aigp" => o.aigp = Some(boolean(p, "aigp")?),
            // ExaBGP capabilities bgpinject does not advertise: 'enable' is noted.
            other if OFF_CAPABILITIES.iter().any(|(c, _)| *c == other) => {
                if boolean(p, other)? {
                    let why = OFF_CAPABILITIES
                        .iter()
                        .find(|(c, _)| *c == other)
                        .map_or("", |(_, why)| why);
                    p.note(
                        kw.position,
                        None,
                        format!("capability '{other}' in {block}: {why}"),
                    );
                    if other == "multi-session" {
                        statements.multi_session_at = Some(kw.position);
                    }
                }
            }
            other => {
                return Err(p.error_at(
                    kw.position,
                    format!(
                        "unsupported capability '{other}' in {block} (expected {})",
                        super::parser::one_of(CAPABILITY_KEYWORDS)
                    ),
                ));
            }
        }
        p.expect_semicolon(&format!("capability {}", kw.text))?;
    }
    Ok(())
}

/// ExaBGP main's `role { local NAME; strict enable|disable; add-meta enable|disable; }`
/// (RFC 9234), with ExaBGP's names and meaning.
fn parse_role_block(
    p: &mut Parser,
    kw: &Token,
    owner: &str,
    o: &mut SessionOptions,
) -> Result<(), ConfigError> {
    let block = format!("the role block of {owner}");
    let open = p.open_block("role")?;
    let switch = |p: &mut Parser, statement: &str| -> Result<bool, ConfigError> {
        let (v, _) = p.value(statement, |t| match t {
            "enable" => Ok(true),
            "disable" => Ok(false),
            _ => Err(ValueError::Malformed {
                expected: "enable or disable",
            }),
        })?;
        Ok(v)
    };
    let mut local = None;
    while let Some(stmt) = p.block_keyword(&open, &block)? {
        match stmt.text.as_str() {
            "local" => {
                let token = p.expect_word("a role after local")?;
                let role = crate::wire::role::Role::from_name(&token.text).ok_or_else(|| {
                    let names: Vec<&str> = crate::wire::role::Role::names().collect();
                    p.unexpected(&token, &format!("a role ({})", names.join(", ")))
                })?;
                local = Some(role);
            }
            "strict" => o.role_strict = switch(p, "strict")?,
            "add-meta" => {
                switch(p, "add-meta")?;
                p.note(
                    stmt.position,
                    Some("role add-meta"),
                    format!("'add-meta' in {block}: bgpinject gives helpers no 'meta' group (it does not classify received routes as leaks); the setting changes nothing"),
                );
            }
            "otc" => return Err(p.error_at(stmt.position, ROLE_OTC_REMOVED)),
            other => {
                return Err(p.error_at(
                    stmt.position,
                    format!(
                        "unknown keyword '{other}' in {block} (expected {})",
                        super::parser::one_of(ROLE_KEYWORDS)
                    ),
                ));
            }
        }
        p.expect_semicolon(&format!("role {}", stmt.text))?;
    }
    // As ExaBGP: a role block without `local` is an error, not a silently inactive policy.
    o.role = Some(local.ok_or_else(|| {
        p.error_at(
            kw.position,
            format!("{block} has no 'local ROLE;' (provider, rs, rs-client, customer or peer)"),
        )
    })?);
    Ok(())
}

/// ExaBGP's `add-path` values (RFC 7911 §4: receive = 1, send = 2, both = 3).
fn add_path_mode(text: &str) -> Result<AddPathMode, ValueError> {
    match text {
        "disable" => Ok(AddPathMode(0)),
        "receive" => Ok(AddPathMode(1)),
        "send" => Ok(AddPathMode(2)),
        "send/receive" | "receive/send" => Ok(AddPathMode(3)),
        _ => Err(ValueError::Malformed {
            expected: "send, receive, send/receive or disable",
        }),
    }
}

/// Applies `md5-base64` to the password once the whole block is read, and the hold time to a
/// `graceful-restart` without a time.
pub(super) fn finish(
    p: &Parser,
    s: OptionStatements,
    hold_time: u16,
) -> Result<SessionOptions, ConfigError> {
    let mut o = s.options;
    if s.restart_time_is_hold_time {
        // RFC 4724 §3: the restart time is 12 bits.
        o.graceful_restart = Some(hold_time.min(MAX_RESTART_TIME as u16));
    }
    if let (Some(at), None) = (s.long_lived_at, o.graceful_restart) {
        return Err(p.error_at(
            at,
            "long-lived-graceful-restart needs graceful restart advertised too (RFC 9494 §4.2): add 'graceful-restart TIME;' to the capability block",
        ));
    }
    if o.md5_base64
        && let (Some(password), Some(at)) = (&o.md5_password, s.md5_at)
    {
        let decoded = base64_decode(password).map_err(|e| {
            p.error_at(
                at,
                format!("md5-password is not valid base64 (md5-base64 is set): {e}"),
            )
        })?;
        o.md5_password = Some(decoded);
    }
    Ok(o)
}

/// Standard base64 (RFC 4648 §4), padding optional. Small enough not to need a dependency.
fn base64_decode(text: &[u8]) -> Result<Vec<u8>, ValueError> {
    let value = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let body: Vec<u8> = text.iter().copied().take_while(|&c| c != b'=').collect();
    let mut out = Vec::with_capacity(body.len() * 3 / 4);
    for chunk in body.chunks(4) {
        let mut acc = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            let v = value(c).ok_or(ValueError::Malformed {
                expected: "base64 characters (A-Z a-z 0-9 + /)",
            })?;
            acc |= v << (18 - 6 * i);
        }
        let bytes = acc.to_be_bytes();
        match chunk.len() {
            4 => out.extend_from_slice(&bytes[1..4]),
            3 => out.extend_from_slice(&bytes[1..3]),
            2 => out.push(bytes[1]),
            _ => {
                return Err(ValueError::Malformed {
                    expected: "base64 of a whole number of bytes",
                });
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_decodes_with_and_without_padding() {
        assert_eq!(base64_decode(b"c2VjcmV0").unwrap(), b"secret");
        assert_eq!(base64_decode(b"c2VjcmV0MQ==").unwrap(), b"secret1");
        assert_eq!(base64_decode(b"c2VjcmV0MTI").unwrap(), b"secret12");
        assert!(base64_decode(b"c2V*").is_err());
    }

    /// A neighbor of AS 65000 to `peer_as` with `body`: its options, or the error.
    fn options(peer_as: u32, body: &str) -> Result<SessionOptions, String> {
        let text = format!(
            "neighbor 192.0.2.1 {{\nrouter-id 192.0.2.10; local-as 65000; peer-as {peer_as};\n{body}\n}}"
        );
        crate::config::parse_str_with_notes(&text, std::path::Path::new("t.conf"))
            .map(|(mut c, _)| c.neighbors.remove(0).options)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn role_block_takes_exabgp_names_and_refuses_what_exabgp_refuses() {
        use crate::wire::role::Role;
        let o = options(65001, "role { local rs-client; strict enable; }").unwrap();
        assert_eq!((o.role, o.role_strict), (Some(Role::RsClient), true));
        let o = options(65001, "role { local provider; add-meta disable; }").unwrap();
        assert_eq!((o.role, o.role_strict), (Some(Role::Provider), false));
        let o = options(65001, "").unwrap();
        assert_eq!(o.role, None);
        for (body, at, words) in [
            ("role { strict enable; }", "t.conf:3:1", "no 'local ROLE;'"),
            (
                "role { local upstream; }",
                "t.conf:3:14",
                "a role (provider",
            ),
            ("role { local 3; }", "t.conf:3:14", "a role (provider"),
            (
                "role { local peer; strict yes; }",
                "t.conf:3:27",
                "enable or disable",
            ),
            (
                "role { local peer; otc send; }",
                "t.conf:3:20",
                "RFC 9234 §5",
            ),
            (
                "role { local peer; colour blue; }",
                "t.conf:3:20",
                "unknown keyword 'colour'",
            ),
        ] {
            let e = options(65001, body).unwrap_err();
            assert!(e.starts_with(at) && e.contains(words), "{body}: {e}");
        }
        let e = options(65000, "role { local peer; }").unwrap_err();
        assert!(e.starts_with("t.conf:3:1") && e.contains("eBGP"), "{e}");
    }

    #[test]
    fn long_lived_stale_time_needs_graceful_restart_and_fits_24_bits() {
        let o = options(
            65001,
            "capability { graceful-restart 120; long-lived-graceful-restart 86400; }",
        )
        .unwrap();
        assert_eq!(o.long_lived_stale_time, Some(86400));
        let o = options(
            65001,
            "graceful-restart; capability { long-lived-graceful-restart 0; }",
        );
        assert_eq!(o.unwrap().long_lived_stale_time, Some(0));
        let e = options(65001, "capability { long-lived-graceful-restart 3600; }").unwrap_err();
        assert!(
            e.starts_with("t.conf:3:14") && e.contains("RFC 9494 §4.2"),
            "{e}"
        );
        let e = options(
            65001,
            "capability { graceful-restart disable; long-lived-graceful-restart 3600; }",
        )
        .unwrap_err();
        assert!(e.contains("RFC 9494 §4.2"), "{e}");
        let e = options(
            65001,
            "capability { graceful-restart 1; long-lived-graceful-restart 16777216; }",
        )
        .unwrap_err();
        assert!(e.contains("16777215"), "{e}");
    }
}
