//! Guard rails against the largest mistakes an injector can make: a FlowSpec rule that drops,
//! rate-limits or redirects traffic without narrowing it (one `discard` for
//! `destination 0.0.0.0/0` drops everything on every router that accepts it), too many rules
//! for one neighbor, and a blackhole (RFC 7999) on a short prefix. They apply to the
//! configuration (`--check`, start and reload refuse the file) and to routes from programs
//! (the command is answered `error`).
//!
//! `guard { ... }` at top level sets the defaults of the neighbors that follow it; inside a
//! neighbor (or a template) it changes them for that neighbor:
//! ```text
//! guard {
//!     flow on;                  # off: no reach check for FlowSpec rules
//!     flow-prefix-ipv4 8;       # a destination or source prefix at least this long narrows
//!     flow-prefix-ipv6 32;
//!     flow-rules 10000;         # FlowSpec rules per neighbor, file and programs together
//!     blackhole-prefix-ipv4 24; # a BLACKHOLE-community route at least this long
//!     blackhole-prefix-ipv6 48;
//! }
//! ```

use std::net::IpAddr;

use crate::rib::attributes::{NextHop, RouteAttributes};
use crate::wire::community::Community;
use crate::wire::ext_community::ExtCommunityValue;
use crate::wire::flowspec::action::FlowAction;
use crate::wire::flowspec::{FlowComponent, FlowRule};
use crate::wire::prefix::Prefix;

use super::ConfigError;
use super::parser::{Parser, one_of_quoted};
use super::values;

/// The limits one neighbor's routes must keep.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GuardSettings {
    /// Whether FlowSpec rules are checked for their reach.
    pub flow: bool,
    pub flow_prefix_ipv4: u8,
    pub flow_prefix_ipv6: u8,
    pub flow_rules: usize,
    pub blackhole_prefix_ipv4: u8,
    pub blackhole_prefix_ipv6: u8,
}

impl Default for GuardSettings {
    fn default() -> Self {
        GuardSettings {
            flow: true,
            flow_prefix_ipv4: 8,
            flow_prefix_ipv6: 32,
            flow_rules: 10_000,
            blackhole_prefix_ipv4: 24,
            blackhole_prefix_ipv6: 48,
        }
    }
}

/// The statements of a `guard { }` block.
pub const KEYWORDS: &[&str] = &[
    "flow",
    "flow-prefix-ipv4",
    "flow-prefix-ipv6",
    "flow-rules",
    "blackhole-prefix-ipv4",
    "blackhole-prefix-ipv6",
];

/// `guard { ... }`, from just after `guard`: changes `settings` statement by statement.
pub(super) fn parse(
    p: &mut Parser,
    owner: &str,
    settings: &mut GuardSettings,
) -> Result<(), ConfigError> {
    let block = format!("the guard block of {owner}");
    let open = p.open_block("guard")?;
    while let Some(kw) = p.block_keyword(&open, &block)? {
        let length = |p: &mut Parser, max: u8| -> Result<u8, ConfigError> {
            let (n, token) = p.value(&kw.text, values::u16_value)?;
            u8::try_from(n).ok().filter(|n| *n <= max).ok_or_else(|| {
                p.error_at(
                    token.position,
                    format!("{} {n}: expected a prefix length in 0..{max}", kw.text),
                )
            })
        };
        match kw.text.as_str() {
            "flow" => {
                let token = p.expect_word("'on' or 'off' after flow")?;
                settings.flow = match token.text.as_str() {
                    "on" | "enable" | "true" => true,
                    "off" | "disable" | "false" => false,
                    _ => return Err(p.unexpected(&token, "'on' or 'off' after flow")),
                };
            }
            "flow-prefix-ipv4" => settings.flow_prefix_ipv4 = length(p, 32)?,
            "flow-prefix-ipv6" => settings.flow_prefix_ipv6 = length(p, 128)?,
            "blackhole-prefix-ipv4" => settings.blackhole_prefix_ipv4 = length(p, 32)?,
            "blackhole-prefix-ipv6" => settings.blackhole_prefix_ipv6 = length(p, 128)?,
            "flow-rules" => {
                let (n, _) = p.value("flow-rules", values::u32_value)?;
                settings.flow_rules = n as usize;
            }
            other => {
                return Err(p.error_at(
                    kw.position,
                    format!(
                        "unknown keyword '{other}' in {block}, expected {}",
                        one_of_quoted(KEYWORDS)
                    ),
                ));
            }
        }
        p.expect_semicolon(&format!("{} value", kw.text))?;
    }
    Ok(())
}

/// What a FlowSpec rule does to the traffic it matches, when that can hurt: drop or
/// rate-limit (traffic-rate), or send it elsewhere (redirect, redirect to an IP).
fn harmful_action(attrs: &RouteAttributes) -> Option<&'static str> {
    for c in attrs.extended_communities() {
        let ExtCommunityValue::Flow(action) = ExtCommunityValue::of(c) else {
            continue;
        };
        match action {
            FlowAction::TrafficRate { rate: 0.0, .. }
            | FlowAction::TrafficRatePackets { rate: 0.0, .. } => return Some("discard"),
            FlowAction::TrafficRate { .. } | FlowAction::TrafficRatePackets { .. } => {
                return Some("rate-limit");
            }
            FlowAction::RedirectAs2 { .. }
            | FlowAction::RedirectIpv4 { .. }
            | FlowAction::RedirectAs4 { .. }
            | FlowAction::RedirectToNextHop { .. }
            | FlowAction::RedirectToIpv4 { .. } => return Some("redirect"),
            FlowAction::TrafficAction { .. } | FlowAction::TrafficMarking { .. } => {}
        }
    }
    matches!(attrs.next_hop, NextHop::Address { .. }).then_some("redirect")
}

/// How many addresses a prefix of this length covers, as text (`2^24`).
fn addresses(afi_bits: u8, len: u8) -> String {
    format!("2^{}", afi_bits.saturating_sub(len))
}

/// What the rule's destination covers, for `--check` and `show adj-rib out`: `destination
/// covers 2^8 addresses`, or `no destination: every address`.
pub fn reach(rule: &FlowRule) -> String {
    let bits = if rule.afi() == crate::wire::family::Afi::Ipv4 {
        32
    } else {
        128
    };
    for c in rule.components() {
        if let FlowComponent::Destination(p) = c {
            return format!("destination covers {} addresses", addresses(bits, p.len));
        }
    }
    "no destination: every address".into()
}

/// Refuses a rule that drops, rate-limits or redirects traffic and narrows it by none of: a
/// destination or source prefix at least as long as the settings say, a port (port,
/// destination-port or source-port), an ICMP type.
pub fn check_flow(
    rule: &FlowRule,
    attrs: &RouteAttributes,
    g: &GuardSettings,
) -> Result<(), String> {
    if !g.flow {
        return Ok(());
    }
    let Some(action) = harmful_action(attrs) else {
        return Ok(());
    };
    let (min, family) = if rule.afi() == crate::wire::family::Afi::Ipv4 {
        (g.flow_prefix_ipv4, "IPv4")
    } else {
        (g.flow_prefix_ipv6, "IPv6")
    };
    let narrow = rule.components().iter().any(|c| match c {
        FlowComponent::Destination(p) | FlowComponent::Source(p) => p.len >= min,
        FlowComponent::Port(_)
        | FlowComponent::DestinationPort(_)
        | FlowComponent::SourcePort(_)
        | FlowComponent::IcmpType(_) => true,
        _ => false,
    });
    if narrow {
        return Ok(());
    }
    Err(format!(
        "flow rule '{rule}' would {action} traffic it does not narrow ({}): it needs a destination or source prefix of at least /{min} ({family}), a port, or an ICMP type; set 'guard {{ flow off; }}' or a shorter 'flow-prefix-{}' to allow it",
        reach(rule),
        family.to_ascii_lowercase()
    ))
}

/// Refuses more FlowSpec rules than the settings allow for one neighbor.
pub fn check_flow_count(count: usize, g: &GuardSettings) -> Result<(), String> {
    if count > g.flow_rules {
        return Err(format!(
            "{count} FlowSpec rules for one neighbor, more than the limit of {}; raise 'guard {{ flow-rules N; }}' to allow more",
            g.flow_rules
        ));
    }
    Ok(())
}

/// Refuses a route carrying the BLACKHOLE community (RFC 7999) on a prefix shorter than the
/// settings allow: a blackhole drops all traffic to the prefix.
pub fn check_blackhole(
    prefix: Prefix,
    attrs: &RouteAttributes,
    g: &GuardSettings,
) -> Result<(), String> {
    let blackhole = Community::by_name("blackhole");
    if !attrs.communities().iter().any(|c| Some(*c) == blackhole) {
        return Ok(());
    }
    let min = match prefix.addr() {
        IpAddr::V4(_) => g.blackhole_prefix_ipv4,
        IpAddr::V6(_) => g.blackhole_prefix_ipv6,
    };
    if prefix.len() < min {
        let version = if prefix.addr().is_ipv4() {
            "ipv4"
        } else {
            "ipv6"
        };
        return Err(format!(
            "route {prefix} carries the BLACKHOLE community (RFC 7999) but is shorter than /{min}: it would drop traffic to {} addresses; set a shorter 'guard {{ blackhole-prefix-{version} N; }}' to allow it",
            addresses(if prefix.addr().is_ipv4() { 32 } else { 128 }, prefix.len())
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::api_command::flow_from_text;

    fn check(text: &str) -> Result<(), String> {
        let f = flow_from_text(text).unwrap();
        check_flow(&f.rule, &f.attributes, &GuardSettings::default())
    }

    #[test]
    fn unnarrowed_harmful_rules_are_refused() {
        for bad in [
            "route { match { destination 0.0.0.0/0; protocol udp; } then { discard; } }",
            "route { match { protocol udp; } then { discard; } }",
            "route { match { protocol tcp; } then { rate-limit 1000; } }",
            "route { match { source 10.0.0.0/7; } then { redirect 65000:1; } }",
            "route { match { destination ::/0; } then { discard; } }",
        ] {
            let e = check(bad).unwrap_err();
            assert!(
                e.contains("does not narrow") && e.contains("guard"),
                "{bad}: {e}"
            );
        }
    }

    #[test]
    fn rules_operators_send_are_accepted() {
        for good in [
            "route { match { destination 198.51.100.1/32; } then { discard; } }",
            "route { match { protocol udp; source-port =11211; } then { discard; } }",
            "route { match { protocol icmp; icmp-type =3; } then { discard; } }",
            "route { match { source 192.0.2.64/26; } then { redirect 65000:1; } }",
            "route { match { destination 10.0.0.0/8; } then { rate-limit 1000; } }",
            // Marking and sampling change nothing about where traffic goes.
            "route { match { protocol udp; } then { mark 10; } }",
        ] {
            assert_eq!(check(good), Ok(()), "{good}");
        }
        let f = flow_from_text("route { match { protocol udp; } then { discard; } }").unwrap();
        let off = GuardSettings {
            flow: false,
            ..GuardSettings::default()
        };
        assert_eq!(check_flow(&f.rule, &f.attributes, &off), Ok(()));
    }

    #[test]
    fn rule_count_and_blackhole_lengths() {
        let g = GuardSettings::default();
        assert!(check_flow_count(10_000, &g).is_ok());
        let e = check_flow_count(10_001, &g).unwrap_err();
        assert!(e.contains("10001") && e.contains("10000"), "{e}");
        let r = crate::config::api_command::route_from_text(
            "10.0.0.0/8 next-hop 192.0.2.1 community [ blackhole ]",
        )
        .unwrap();
        let e = check_blackhole(r.prefix, &r.attributes, &g).unwrap_err();
        assert!(e.contains("2^24 addresses"), "{e}");
        let r = crate::config::api_command::route_from_text(
            "192.0.2.1/32 next-hop 192.0.2.1 community [ blackhole ]",
        )
        .unwrap();
        assert!(check_blackhole(r.prefix, &r.attributes, &g).is_ok());
    }
}
