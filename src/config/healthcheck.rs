//! `healthcheck NAME { ... }` at top level: routes whose attributes follow a check command,
//! with the meaning of ExaBGP's healthcheck.py (its `exabgp healthcheck ...` command line is
//! translated to this model by [`super::healthcheck_run`]).
//!
//! ```text
//! healthcheck web {
//!     command "test -e /run/web.ok";    # run with /bin/sh -c; exit status 0 = success
//!     interval 5; fast-interval 1; timeout 2; rise 3; fall 3;
//!     disable-file /etc/bgpinject/web.disabled;   # while it exists: disabled, no check runs
//!     neighbor [ 192.0.2.1 ];           # default: every neighbor
//!     route 203.0.113.10/32 next-hop self med 100;  # up
//!     on-down withdraw;                 # or: on-down { med 1000; community [ 65000:666 ]; }
//!     on-disabled { med 500; }          # default: as on-down
//!     ip-setup dynamic; interface lo; label web;   # service addresses on the loopback
//!                                       # (ip-setup static|dynamic sudo: with sudo -n ip)
//!     execute "logger web $STATE"; up-execute "..."; hook-timeout 10;
//! }
//! ```

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::rib::attributes::RouteAttributes;

use super::ConfigError;
use super::lexer::{Token, TokenKind};
use super::model::{Location, NeighborConfig, RouteConfig};
use super::parser::{Parser, Setting, one_of};
use super::route;
use super::values;

/// The statements of a `healthcheck NAME { }` block.
pub const KEYWORDS: &[&str] = &[
    "command",
    "interval",
    "fast-interval",
    "timeout",
    "rise",
    "fall",
    "disable-file",
    "neighbor",
    "route",
    "on-down",
    "on-disabled",
    "ip-setup",
    "interface",
    "label",
    "execute",
    "up-execute",
    "down-execute",
    "disabled-execute",
    "hook-timeout",
    "user",
    "group",
];

/// healthcheck.py's defaults.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(5);
pub const DEFAULT_FAST_INTERVAL: Duration = Duration::from_secs(1);
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);
pub const DEFAULT_RISE: u32 = 3;
pub const DEFAULT_FALL: u32 = 3;
/// How long a hook may run before its process group is killed (healthcheck.py waits forever,
/// which would stop its checks; bgpinject never waits on a hook).
pub const DEFAULT_HOOK_TIMEOUT: Duration = Duration::from_secs(30);
/// The most service addresses one check sets up (a `/22` route would be 1024 of them).
pub const MAX_SERVICE_ADDRESSES: usize = 1024;
/// The longest interval, timeout or hook timeout: a day.
const MAX_SECONDS: u64 = 86_400;

/// What the routes become while the check is down (or disabled).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OnDown {
    Withdraw,
    /// Announced with these attributes replacing the route's own (`keywords` lists which).
    Attributes {
        keywords: Vec<String>,
        values: Box<RouteAttributes>,
    },
}

/// One route of a check in each announced state; `None`: withdrawn in that state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckedRoute {
    pub up: RouteConfig,
    pub down: Option<RouteConfig>,
    pub disabled: Option<RouteConfig>,
}

/// Whether and when the service addresses are put on an interface (healthcheck.py's
/// `--no-ip-setup`, default, `--dynamic-ip-setup`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IpSetup {
    /// Never touched.
    None,
    /// Added when the check starts, removed when it stops (daemon exit, reload removing it).
    Static,
    /// Present only while the check is up: added on up, removed on down, disabled and stop.
    Dynamic,
}

/// One address put on an interface: `ip address add ADDRESS/LEN dev INTERFACE`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceAddress {
    pub address: IpAddr,
    /// 32 or 128: each address of a route's prefix is set up alone, as healthcheck.py does.
    pub len: u8,
    pub interface: String,
}

/// `label NAME [exact];`: the addresses are added as `INTERFACE:NAME`, and only addresses
/// carrying that label (starting with it, unless `exact`) are removed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Label {
    pub name: String,
    pub exact: bool,
}

/// Commands run on transitions with `STATE` in their environment (healthcheck.py's
/// `--execute` on every transition, `--up-execute` etc. on entering that state).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Hooks {
    pub any: Vec<String>,
    pub up: Vec<String>,
    pub down: Vec<String>,
    pub disabled: Vec<String>,
    pub timeout: Duration,
}

impl Hooks {
    pub fn is_empty(&self) -> bool {
        self.any.is_empty()
            && self.up.is_empty()
            && self.down.is_empty()
            && self.disabled.is_empty()
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HealthcheckConfig {
    pub name: String,
    /// Run with `/bin/sh -c`; `None`: every check passes (healthcheck.py without `--cmd`).
    pub command: Option<String>,
    /// Zero: checks stop once the state is settled, the routes stay (`--interval 0`).
    pub interval: Duration,
    /// Between checks while the state is rising or falling.
    pub fast_interval: Duration,
    pub timeout: Duration,
    pub rise: u32,
    pub fall: u32,
    pub disable_file: Option<PathBuf>,
    /// Empty: every neighbor.
    pub neighbors: Vec<IpAddr>,
    pub routes: Vec<CheckedRoute>,
    pub ip_setup: IpSetup,
    /// `ip-setup ... sudo` (`--sudo`): `ip` is run with `sudo -n`.
    pub ip_sudo: bool,
    pub addresses: Vec<ServiceAddress>,
    pub label: Option<Label>,
    pub hooks: Hooks,
    /// The account the command and hooks run as (default: the daemon's `--user`).
    pub user: Option<String>,
    pub group: Option<String>,
    pub location: Location,
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

    /// `route` as it is announced in this state.
    pub fn route(&self, route: &RouteConfig) -> Option<RouteConfig> {
        self.apply(&route.attributes).map(|a| RouteConfig {
            attributes: a.into(),
            ..route.clone()
        })
    }
}

/// Seconds with an optional fraction (`5`, `0.5`), as healthcheck.py's intervals;
/// `min_ms`..=a day.
pub fn seconds(text: &str, min_ms: u64) -> Result<Duration, values::ValueError> {
    let malformed = values::ValueError::Malformed {
        expected: "a number of seconds (fraction allowed: 0.5)",
    };
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !digits(whole) || !digits(fraction) || fraction.len() > 3 {
        return Err(malformed);
    }
    let whole: u64 = whole.parse().map_err(|_| malformed)?;
    let ms: u64 = format!("{fraction:0<3}").parse().unwrap_or(0);
    let total = whole.saturating_mul(1000).saturating_add(ms);
    if total < min_ms || total > MAX_SECONDS * 1000 {
        return Err(values::ValueError::OutOfRange {
            range: if min_ms == 0 {
                "0..86400 seconds"
            } else {
                "0.001..86400 seconds"
            },
        });
    }
    Ok(Duration::from_millis(total))
}

/// Each address of `prefix` alone (a host route per address), as healthcheck.py sets up the
/// addresses of a network; `None` when there are more than [`MAX_SERVICE_ADDRESSES`].
pub fn host_addresses(addr: IpAddr, len: u8) -> Option<Vec<(IpAddr, u8)>> {
    let (bits, host) = match addr {
        IpAddr::V4(_) => (32u8, 32u8),
        IpAddr::V6(_) => (128, 128),
    };
    let free = u32::from(bits.checked_sub(len)?);
    if free > 10 {
        return None;
    }
    let count = 1u128 << free;
    let base = match addr {
        IpAddr::V4(a) => u128::from(u32::from(a)),
        IpAddr::V6(a) => u128::from(a),
    };
    let out = (0..count)
        .map(|i| {
            let n = base + i;
            let a = match addr {
                IpAddr::V4(_) => IpAddr::V4(std::net::Ipv4Addr::from(n as u32)),
                IpAddr::V6(_) => IpAddr::V6(std::net::Ipv6Addr::from(n)),
            };
            (a, host)
        })
        .collect::<Vec<_>>();
    (out.len() <= MAX_SERVICE_ADDRESSES).then_some(out)
}

#[derive(Default)]
struct Settings {
    command: Setting<String>,
    interval: Setting<Duration>,
    fast_interval: Setting<Duration>,
    timeout: Setting<Duration>,
    rise: Setting<u32>,
    fall: Setting<u32>,
    disable_file: Setting<PathBuf>,
    neighbors: Setting<Vec<IpAddr>>,
    on_down: Setting<OnDown>,
    on_disabled: Setting<OnDown>,
    ip_setup: Setting<(IpSetup, bool)>,
    interface: Setting<String>,
    label: Setting<Label>,
    hook_timeout: Setting<Duration>,
    user: Setting<String>,
    group: Setting<String>,
}

fn positive(text: &str) -> Result<u32, values::ValueError> {
    values::number_in(text, 1, 86_400, "1..86400").map(|n| n as u32)
}

/// A word or quoted string after `statement`.
fn text_value(p: &mut Parser, statement: &str) -> Result<String, ConfigError> {
    let t = p.advance();
    if !matches!(t.kind, TokenKind::Quoted | TokenKind::Word) || t.text.is_empty() {
        return Err(p.unexpected(&t, &format!("a value after {statement}")));
    }
    Ok(t.text)
}

/// An interface name as the kernel accepts it (at most 15 bytes, no `/`, blank or `:`).
pub fn valid_interface(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 15
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-@".contains(&b))
}

/// A label as `ip address add ... label INTERFACE:LABEL` takes it.
pub fn valid_label(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 14
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-:".contains(&b))
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
    let mut hooks = Hooks::default();
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
                let (v, _) = p.value("interval", |t| seconds(t, 0))?;
                s.interval.set(p, &kw, &block, v)?;
            }
            "fast-interval" => {
                let (v, _) = p.value("fast-interval", |t| seconds(t, 1))?;
                s.fast_interval.set(p, &kw, &block, v)?;
            }
            "timeout" => {
                let (v, _) = p.value("timeout", |t| seconds(t, 1))?;
                s.timeout.set(p, &kw, &block, v)?;
            }
            "hook-timeout" => {
                let (v, _) = p.value("hook-timeout", |t| seconds(t, 1))?;
                s.hook_timeout.set(p, &kw, &block, v)?;
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
            which @ ("on-down" | "on-disabled") => {
                let on_down = parse_on_down(p, which)?;
                let braces = matches!(on_down, OnDown::Attributes { .. });
                if which == "on-down" {
                    s.on_down.set(p, &kw, &block, on_down)?;
                } else {
                    s.on_disabled.set(p, &kw, &block, on_down)?;
                }
                if braces {
                    continue;
                }
            }
            "ip-setup" => {
                let t = p.expect_word("none, static or dynamic after ip-setup")?;
                let v = match t.text.as_str() {
                    "none" => IpSetup::None,
                    "static" => IpSetup::Static,
                    "dynamic" => IpSetup::Dynamic,
                    _ => return Err(p.unexpected(&t, "none, static or dynamic after ip-setup")),
                };
                let sudo = p.peek().kind == TokenKind::Word && p.peek().text == "sudo";
                if sudo {
                    p.advance();
                }
                s.ip_setup.set(p, &kw, &block, (v, sudo))?;
            }
            "interface" => {
                let t = p.expect_word("an interface name after interface")?;
                if !valid_interface(&t.text) {
                    return Err(p.unexpected(&t, "an interface name (at most 15 characters)"));
                }
                s.interface.set(p, &kw, &block, t.text)?;
            }
            "label" => {
                let t = p.expect_word("a label after label")?;
                if !valid_label(&t.text) {
                    return Err(p.unexpected(&t, "a label (letters, digits, '.', '_', '-', ':')"));
                }
                let exact = p.peek().kind == TokenKind::Word && p.peek().text == "exact";
                if exact {
                    p.advance();
                }
                let label = Label {
                    name: t.text,
                    exact,
                };
                s.label.set(p, &kw, &block, label)?;
            }
            which @ ("execute" | "up-execute" | "down-execute" | "disabled-execute") => {
                let command = text_value(p, which)?;
                match which {
                    "execute" => hooks.any.push(command),
                    "up-execute" => hooks.up.push(command),
                    "down-execute" => hooks.down.push(command),
                    _ => hooks.disabled.push(command),
                }
            }
            "user" => {
                let v = text_value(p, "user")?;
                s.user.set(p, &kw, &block, v)?;
            }
            "group" => {
                let v = text_value(p, "group")?;
                s.group.set(p, &kw, &block, v)?;
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
    let (ip_setup, ip_sudo) = s.ip_setup.take().unwrap_or((IpSetup::None, false));
    let interface = s.interface.take().unwrap_or_else(|| "lo".to_string());
    let mut addresses = Vec::new();
    if ip_setup != IpSetup::None {
        for r in &routes {
            let Some(hosts) = host_addresses(r.prefix.addr(), r.prefix.len())
                .filter(|h| addresses.len() + h.len() <= MAX_SERVICE_ADDRESSES)
            else {
                return Err(p.error_at(
                    keyword.position,
                    format!(
                        "{block}: ip-setup would put more than {MAX_SERVICE_ADDRESSES} addresses on {interface}"
                    ),
                ));
            };
            addresses.extend(hosts.into_iter().map(|(address, len)| ServiceAddress {
                address,
                len,
                interface: interface.clone(),
            }));
        }
    }
    let on_down = s.on_down.take().unwrap_or(OnDown::Withdraw);
    let on_disabled = s.on_disabled.take().unwrap_or_else(|| on_down.clone());
    let routes = routes
        .into_iter()
        .map(|up| CheckedRoute {
            down: on_down.route(&up),
            disabled: on_disabled.route(&up),
            up,
        })
        .collect();
    let interval = s.interval.take().unwrap_or(DEFAULT_INTERVAL);
    hooks.timeout = s.hook_timeout.take().unwrap_or(DEFAULT_HOOK_TIMEOUT);
    Ok(HealthcheckConfig {
        name,
        command: Some(command),
        interval,
        fast_interval: s.fast_interval.take().unwrap_or(DEFAULT_FAST_INTERVAL),
        timeout: s.timeout.take().unwrap_or(DEFAULT_TIMEOUT),
        rise: s.rise.take().unwrap_or(DEFAULT_RISE),
        fall: s.fall.take().unwrap_or(DEFAULT_FALL),
        disable_file: s.disable_file.take(),
        neighbors: s.neighbors.take().unwrap_or_default(),
        routes,
        ip_setup,
        ip_sudo,
        addresses,
        label: s.label.take(),
        hooks,
        user: s.user.take(),
        group: s.group.take(),
        location: p.location(keyword.position),
    })
}

/// `withdraw` or `{ ATTRIBUTE VALUE; ... }` (the route attribute syntax), from after `on-down`
/// or `on-disabled`.
fn parse_on_down(p: &mut Parser, statement: &str) -> Result<OnDown, ConfigError> {
    if p.peek().kind != TokenKind::OpenBrace {
        let expected = format!("withdraw or '{{' after {statement}");
        let t = p.expect_word(&expected)?;
        return match t.text.as_str() {
            "withdraw" => Ok(OnDown::Withdraw),
            _ => Err(p.unexpected(&t, &expected)),
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
        let text = "healthcheck web { command \"test -e /tmp/x\"; interval 1; rise 2; fall 1; disable-file /tmp/d;\n route 203.0.113.1/32 next-hop 192.0.2.1 med 5;\n on-down { med 1000; community [ 65000:666 ]; } on-disabled withdraw; }";
        let c = parse_str(text, Path::new("t.conf")).unwrap();
        let h = &c.healthchecks[0];
        assert_eq!(
            (h.interval, h.timeout, h.rise, h.fall),
            (Duration::from_secs(1), DEFAULT_TIMEOUT, 2, 1)
        );
        let up = &h.routes[0].up.attributes;
        let down = &h.routes[0].down.as_ref().unwrap().attributes;
        assert_eq!(
            down.get(crate::wire::attribute::type_code::MED),
            Some(&crate::wire::attribute::PathAttribute::Med(1000))
        );
        assert_eq!(down.next_hop, up.next_hop);
        assert_eq!(down.communities().len(), 1);
        assert_eq!(h.routes[0].disabled, None);
        assert_eq!(h.ip_setup, IpSetup::None);
    }

    #[test]
    fn defaults_and_errors() {
        let c = parse_str(
            "healthcheck a { command x; route 203.0.113.1/32 next-hop self; }",
            Path::new("t.conf"),
        )
        .unwrap();
        assert_eq!(c.healthchecks[0].routes[0].down, None);
        assert_eq!(c.healthchecks[0].routes[0].disabled, None);
        assert_eq!(c.healthchecks[0].rise, 3);
        assert_eq!(c.healthchecks[0].fast_interval, DEFAULT_FAST_INTERVAL);
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
        let e = parse_str(
            "healthcheck a { command x; route 203.0.113.0/16 next-hop self; ip-setup static; }",
            Path::new("t.conf"),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("more than 1024 addresses"), "{e}");
    }

    #[test]
    fn addresses_hooks_and_disabled_state() {
        let text = "healthcheck web { command true; interval 0.5; fast-interval 0.25;\n route 203.0.113.4/31 next-hop 192.0.2.1 med 100;\n on-down { med 1000; } ip-setup dynamic; interface dummy0; label web exact;\n execute \"echo $STATE\"; up-execute a; up-execute b; disabled-execute c; hook-timeout 2; }";
        let h = &parse_str(text, Path::new("t.conf")).unwrap().healthchecks[0];
        assert_eq!(h.interval, Duration::from_millis(500));
        assert_eq!(h.fast_interval, Duration::from_millis(250));
        assert_eq!(h.ip_setup, IpSetup::Dynamic);
        let a: Vec<String> = h
            .addresses
            .iter()
            .map(|a| format!("{}/{} {}", a.address, a.len, a.interface))
            .collect();
        assert_eq!(a, ["203.0.113.4/32 dummy0", "203.0.113.5/32 dummy0"]);
        assert_eq!(
            h.label,
            Some(Label {
                name: "web".into(),
                exact: true
            })
        );
        assert_eq!(h.hooks.up, ["a", "b"]);
        assert_eq!(h.hooks.disabled, ["c"]);
        assert_eq!(h.hooks.timeout, Duration::from_secs(2));
        // on-disabled defaults to on-down.
        assert_eq!(h.routes[0].disabled, h.routes[0].down);
    }

    #[test]
    fn seconds_take_fractions_and_bounds() {
        assert_eq!(seconds("5", 0), Ok(Duration::from_secs(5)));
        assert_eq!(seconds("0.5", 1), Ok(Duration::from_millis(500)));
        assert_eq!(seconds("0", 0), Ok(Duration::ZERO));
        assert!(seconds("0", 1).is_err());
        assert!(seconds("1e3", 0).is_err());
        assert!(seconds(".5", 0).is_err());
        assert!(seconds("86401", 0).is_err());
        assert!(seconds("99999999999999999999", 0).is_err());
    }
}
