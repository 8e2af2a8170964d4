//! What an extended community (RFC 4360) means, by name: the one formatter used by
//! `decode` (text and JSON), log lines, `show adj-rib out` and helper events.
//!
//! Text forms: `target:65000:1`, `target:192.0.2.1:1`, `target:4200000000L:1` (and `origin:`
//! likewise, RFC 4360 §4, RFC 5668); FlowSpec actions (RFC 8955 §7)
//! `traffic-rate:ASN:BYTES_PER_SECOND`, `traffic-action:sample|terminal|sample-terminal|none`,
//! `redirect:65000:666` / `redirect:192.0.2.1:666` / `redirect:4200000000L:666`,
//! `traffic-marking:DSCP`, `redirect-to-nexthop` (draft-simpson-idr-flowspec-redirect),
//! `redirect-to-ip:ADDRESS[:copy]` (draft-ietf-idr-flowspec-redirect-ip);
//! `link-bandwidth:ASN:BYTES_PER_SECOND` (draft-ietf-idr-link-bandwidth),
//! `encapsulation:TUNNEL` (RFC 9012 §4.1), `color:N` (RFC 9012 §4.3), EVPN
//! `mac-mobility:SEQ[:sticky]`, `esi-label:LABEL[:single-active]`, `es-import:MAC`,
//! `router-mac:MAC` (RFC 7432 §7, RFC 9135), `default-gateway` (RFC 7432 §7.8), MUP
//! `mup:SEGMENT2:SEGMENT4` (draft-mpmz-bess-mup-safi §3.2); anything else `0x` and 16 hex
//! digits.
//!
//! JSON: `{"name": ..., "text": ..., "hex": ..., "transitive": bool}` plus the fields of the
//! kind (`asn`/`address` and `value` for targets, origins and redirects; `rate` for
//! traffic-rate and link bandwidth; `sample`/`terminal`; `dscp`; `tunnel_type`; ...).

use std::fmt;
use std::net::Ipv4Addr;

use serde_json::{Value, json};

use super::community::ExtendedCommunity;
use super::flowspec::action::FlowAction;
use super::tunnel_encap::tunnel_type_name;

/// The administrator of a route target, route origin or redirect.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Admin {
    As2(u16),
    Ipv4(Ipv4Addr),
    As4(u32),
}

impl fmt::Display for Admin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Admin::As2(a) => write!(f, "{a}"),
            Admin::Ipv4(a) => write!(f, "{a}"),
            Admin::As4(a) => write!(f, "{a}L"),
        }
    }
}

/// An extended community, interpreted.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ExtCommunityValue {
    RouteTarget {
        admin: Admin,
        value: u32,
    },
    RouteOrigin {
        admin: Admin,
        value: u32,
    },
    /// A FlowSpec action (RFC 8955 §7 and the redirect drafts), parsed by the FlowSpec codec.
    Flow(FlowAction),
    LinkBandwidth {
        asn: u16,
        rate: f32,
    },
    Encapsulation {
        tunnel_type: u16,
    },
    Color {
        flags: u16,
        color: u32,
    },
    MacMobility {
        sequence: u32,
        sticky: bool,
    },
    EsiLabel {
        label: u32,
        single_active: bool,
    },
    EsImport {
        mac: [u8; 6],
    },
    RouterMac {
        mac: [u8; 6],
    },
    /// RFC 7432 §7.8: the route is a default gateway's MAC/IP route.
    DefaultGateway,
    /// draft-mpmz-bess-mup-safi §3.2: the direct segment identifier (2 + 4 octets).
    MupDirectSegment {
        high: u16,
        low: u32,
    },
    Unknown,
}

/// Transitive type-high values (RFC 7153 §5.1); bit 0x40 set means non-transitive.
const TYPE_AS2: u8 = 0x00;
const TYPE_IPV4: u8 = 0x01;
const TYPE_AS4: u8 = 0x02;
const TYPE_OPAQUE: u8 = 0x03;
const TYPE_EVPN: u8 = 0x06;
const NON_TRANSITIVE: u8 = 0x40;
/// RFC 7153 §5.2: subtypes shared by the three address-specific types.
const SUB_TARGET: u8 = 0x02;
const SUB_ORIGIN: u8 = 0x03;
/// draft-ietf-idr-link-bandwidth §2: non-transitive two-octet AS specific, subtype 4.
const SUB_LINK_BANDWIDTH: u8 = 0x04;
/// RFC 9012 §4.1 and §4.3 (opaque subtypes).
const SUB_ENCAPSULATION: u8 = 0x0c;
const SUB_COLOR: u8 = 0x0b;
/// RFC 7432 §7.5, §7.6, §7.7; RFC 9135 §8.1.
const SUB_MAC_MOBILITY: u8 = 0x00;
const SUB_ESI_LABEL: u8 = 0x01;
const SUB_ES_IMPORT: u8 = 0x02;
const SUB_ROUTER_MAC: u8 = 0x03;
/// RFC 7432 §7.8 (opaque subtype).
const SUB_DEFAULT_GATEWAY: u8 = 0x0d;
/// draft-mpmz-bess-mup-safi §3.2: the MUP type and its direct segment subtype.
const TYPE_MUP: u8 = 0x0c;
const SUB_MUP_DIRECT_SEGMENT: u8 = 0x00;

impl ExtCommunityValue {
    pub fn of(c: &ExtendedCommunity) -> ExtCommunityValue {
        use ExtCommunityValue as V;
        if let Some(action) = FlowAction::from_community(c) {
            return V::Flow(action);
        }
        let b = &c.0;
        let u16_at = |i: usize| u16::from_be_bytes([b[i], b[i + 1]]);
        let u32_at = |i: usize| u32::from_be_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        let v4 = Ipv4Addr::new(b[2], b[3], b[4], b[5]);
        let mac = [b[2], b[3], b[4], b[5], b[6], b[7]];
        let admin = |t: u8| match t & !NON_TRANSITIVE {
            TYPE_AS2 => Some((Admin::As2(u16_at(2)), u32_at(4))),
            TYPE_IPV4 => Some((Admin::Ipv4(v4), u16_at(6) as u32)),
            TYPE_AS4 => Some((Admin::As4(u32_at(2)), u16_at(6) as u32)),
            _ => None,
        };
        match (b[0], b[1]) {
            (t, SUB_TARGET) if t & !NON_TRANSITIVE <= TYPE_AS4 => match admin(t) {
                Some((admin, value)) => V::RouteTarget { admin, value },
                None => V::Unknown,
            },
            (t, SUB_ORIGIN) if t & !NON_TRANSITIVE <= TYPE_AS4 => match admin(t) {
                Some((admin, value)) => V::RouteOrigin { admin, value },
                None => V::Unknown,
            },
            (t, SUB_LINK_BANDWIDTH) if t == TYPE_AS2 | NON_TRANSITIVE || t == TYPE_AS2 => {
                V::LinkBandwidth {
                    asn: u16_at(2),
                    rate: f32::from_bits(u32_at(4)),
                }
            }
            (TYPE_OPAQUE, SUB_ENCAPSULATION) => V::Encapsulation {
                tunnel_type: u16_at(6),
            },
            (TYPE_OPAQUE, SUB_COLOR) => V::Color {
                flags: u16_at(2),
                color: u32_at(4),
            },
            (TYPE_EVPN, SUB_MAC_MOBILITY) => V::MacMobility {
                sequence: u32_at(4),
                sticky: b[2] & 0x01 != 0,
            },
            (TYPE_EVPN, SUB_ESI_LABEL) => V::EsiLabel {
                label: u32::from_be_bytes([0, b[5], b[6], b[7]]) >> 4,
                single_active: b[2] & 0x01 != 0,
            },
            (TYPE_EVPN, SUB_ES_IMPORT) => V::EsImport { mac },
            (TYPE_EVPN, SUB_ROUTER_MAC) => V::RouterMac { mac },
            (TYPE_OPAQUE, SUB_DEFAULT_GATEWAY) => V::DefaultGateway,
            (TYPE_MUP, SUB_MUP_DIRECT_SEGMENT) => V::MupDirectSegment {
                high: u16_at(2),
                low: u32_at(4),
            },
            _ => V::Unknown,
        }
    }

    /// The stable name of the kind, as used in JSON.
    pub fn name(&self) -> &'static str {
        use ExtCommunityValue as V;
        match self {
            V::RouteTarget { .. } => "route-target",
            V::RouteOrigin { .. } => "route-origin",
            V::Flow(a) => match a {
                FlowAction::TrafficRate { .. } => "traffic-rate",
                FlowAction::TrafficRatePackets { .. } => "traffic-rate-packets",
                FlowAction::TrafficAction { .. } => "traffic-action",
                FlowAction::RedirectAs2 { .. }
                | FlowAction::RedirectIpv4 { .. }
                | FlowAction::RedirectAs4 { .. } => "redirect",
                FlowAction::TrafficMarking { .. } => "traffic-marking",
                FlowAction::RedirectToNextHop { .. } => "redirect-to-nexthop",
                FlowAction::RedirectToIpv4 { .. } => "redirect-to-ip",
            },
            V::LinkBandwidth { .. } => "link-bandwidth",
            V::Encapsulation { .. } => "encapsulation",
            V::Color { .. } => "color",
            V::MacMobility { .. } => "mac-mobility",
            V::EsiLabel { .. } => "esi-label",
            V::EsImport { .. } => "es-import",
            V::RouterMac { .. } => "router-mac",
            V::DefaultGateway => "default-gateway",
            V::MupDirectSegment { .. } => "mup",
            V::Unknown => "unknown",
        }
    }
}

fn mac_text(m: &[u8; 6]) -> String {
    m.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// The link bandwidth community of `asn` at `rate` bytes per second (the encoding
/// [`ExtCommunityValue::of`] reads back as `LinkBandwidth`).
pub fn link_bandwidth(asn: u16, rate: f32) -> ExtendedCommunity {
    let mut b = [
        TYPE_AS2 | NON_TRANSITIVE,
        SUB_LINK_BANDWIDTH,
        0,
        0,
        0,
        0,
        0,
        0,
    ];
    b[2..4].copy_from_slice(&asn.to_be_bytes());
    b[4..8].copy_from_slice(&rate.to_be_bytes());
    ExtendedCommunity(b)
}

/// The encapsulation community of a tunnel type (RFC 9012 §4.1).
pub fn encapsulation(tunnel_type: u16) -> ExtendedCommunity {
    let mut b = [TYPE_OPAQUE, SUB_ENCAPSULATION, 0, 0, 0, 0, 0, 0];
    b[6..8].copy_from_slice(&tunnel_type.to_be_bytes());
    ExtendedCommunity(b)
}

/// The color community (RFC 9012 §4.3), flags zero.
pub fn color(color: u32) -> ExtendedCommunity {
    let mut b = [TYPE_OPAQUE, SUB_COLOR, 0, 0, 0, 0, 0, 0];
    b[4..8].copy_from_slice(&color.to_be_bytes());
    ExtendedCommunity(b)
}

fn hex(c: &ExtendedCommunity) -> String {
    c.0.iter().map(|b| format!("{b:02x}")).collect()
}

/// Writes the text form of `c` (see the module documentation).
pub fn write(c: &ExtendedCommunity, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    use ExtCommunityValue as V;
    match ExtCommunityValue::of(c) {
        V::RouteTarget { admin, value } => write!(f, "target:{admin}:{value}"),
        V::RouteOrigin { admin, value } => write!(f, "origin:{admin}:{value}"),
        V::Flow(a) => write_flow(a, f),
        V::LinkBandwidth { asn, rate } => write!(f, "link-bandwidth:{asn}:{rate}"),
        V::Encapsulation { tunnel_type } => match tunnel_type_name(tunnel_type) {
            Some(n) => write!(f, "encapsulation:{n}"),
            None => write!(f, "encapsulation:{tunnel_type}"),
        },
        V::Color { color, .. } => write!(f, "color:{color}"),
        V::MacMobility { sequence, sticky } => {
            write!(
                f,
                "mac-mobility:{sequence}{}",
                if sticky { ":sticky" } else { "" }
            )
        }
        V::EsiLabel {
            label,
            single_active,
        } => write!(
            f,
            "esi-label:{label}{}",
            if single_active { ":single-active" } else { "" }
        ),
        V::EsImport { mac } => write!(f, "es-import:{}", mac_text(&mac)),
        V::RouterMac { mac } => write!(f, "router-mac:{}", mac_text(&mac)),
        V::DefaultGateway => f.write_str("default-gateway"),
        V::MupDirectSegment { high, low } => write!(f, "mup:{high}:{low}"),
        V::Unknown => write!(f, "0x{}", hex(c)),
    }
}

fn write_flow(a: FlowAction, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    match a {
        FlowAction::TrafficRate { asn, rate } => write!(f, "traffic-rate:{asn}:{rate}"),
        FlowAction::TrafficRatePackets { asn, rate } => {
            write!(f, "traffic-rate-packets:{asn}:{rate}")
        }
        FlowAction::TrafficAction { sample, terminal } => f.write_str(match (sample, terminal) {
            (true, true) => "traffic-action:sample-terminal",
            (true, false) => "traffic-action:sample",
            (false, true) => "traffic-action:terminal",
            (false, false) => "traffic-action:none",
        }),
        FlowAction::RedirectAs2 { asn, value } => write!(f, "redirect:{asn}:{value}"),
        FlowAction::RedirectIpv4 { address, value } => write!(f, "redirect:{address}:{value}"),
        FlowAction::RedirectAs4 { asn, value } => write!(f, "redirect:{asn}L:{value}"),
        FlowAction::TrafficMarking { dscp } => write!(f, "traffic-marking:{dscp}"),
        FlowAction::RedirectToNextHop { copy: false } => f.write_str("redirect-to-nexthop"),
        FlowAction::RedirectToNextHop { copy: true } => f.write_str("redirect-to-nexthop:copy"),
        FlowAction::RedirectToIpv4 { address, copy } => {
            write!(
                f,
                "redirect-to-ip:{address}{}",
                if copy { ":copy" } else { "" }
            )
        }
    }
}

/// The text form of `c` that the configuration's `extended-community` accepts: the name for
/// route targets, origins, redirects, link bandwidth, encapsulation, color, the EVPN and MUP
/// communities, `0x` and 16 hex digits for everything else.
pub fn config_text(c: &ExtendedCommunity) -> String {
    use ExtCommunityValue as V;
    match ExtCommunityValue::of(c) {
        V::RouteTarget { .. }
        | V::RouteOrigin { .. }
        | V::Flow(
            FlowAction::RedirectAs2 { .. }
            | FlowAction::RedirectIpv4 { .. }
            | FlowAction::RedirectAs4 { .. },
        )
        | V::LinkBandwidth { .. }
        | V::Encapsulation { .. }
        | V::Color { .. }
        | V::MacMobility { .. }
        | V::EsiLabel { .. }
        | V::EsImport { .. }
        | V::RouterMac { .. }
        | V::DefaultGateway
        | V::MupDirectSegment { .. } => c.to_string(),
        _ => format!("0x{}", hex(c)),
    }
}

fn admin_json(v: &mut Value, admin: Admin, value: u32) {
    match admin {
        Admin::As2(a) => v["asn"] = json!(a),
        Admin::As4(a) => v["asn"] = json!(a),
        Admin::Ipv4(a) => v["address"] = json!(a.to_string()),
    }
    v["value"] = json!(value);
}

fn flow_json(v: &mut Value, a: FlowAction) {
    match a {
        FlowAction::TrafficRate { asn, rate } | FlowAction::TrafficRatePackets { asn, rate } => {
            v["asn"] = json!(asn);
            v["rate"] = json!(rate);
        }
        FlowAction::TrafficAction { sample, terminal } => {
            v["sample"] = json!(sample);
            v["terminal"] = json!(terminal);
        }
        FlowAction::RedirectAs2 { asn, value } => admin_json(v, Admin::As2(asn), value),
        FlowAction::RedirectIpv4 { address, value } => {
            admin_json(v, Admin::Ipv4(address), value.into())
        }
        FlowAction::RedirectAs4 { asn, value } => admin_json(v, Admin::As4(asn), value.into()),
        FlowAction::TrafficMarking { dscp } => v["dscp"] = json!(dscp),
        FlowAction::RedirectToNextHop { copy } => v["copy"] = json!(copy),
        FlowAction::RedirectToIpv4 { address, copy } => {
            v["address"] = json!(address.to_string());
            v["copy"] = json!(copy);
        }
    }
}

/// `c` as a JSON object (see the module documentation).
pub fn to_json(c: &ExtendedCommunity) -> Value {
    use ExtCommunityValue as V;
    let value = ExtCommunityValue::of(c);
    let mut v = json!({
        "name": value.name(),
        "text": c.to_string(),
        "hex": hex(c),
        "transitive": c.0[0] & NON_TRANSITIVE == 0,
    });
    match value {
        V::RouteTarget { admin, value } | V::RouteOrigin { admin, value } => {
            admin_json(&mut v, admin, value)
        }
        V::Flow(a) => flow_json(&mut v, a),
        V::LinkBandwidth { asn, rate } => {
            v["asn"] = json!(asn);
            v["rate"] = json!(rate);
        }
        V::Unknown => {}
        V::Encapsulation { tunnel_type } => {
            v["tunnel_type"] = json!(tunnel_type);
            v["tunnel_name"] = json!(tunnel_type_name(tunnel_type));
        }
        V::Color { flags, color } => {
            v["flags"] = json!(flags);
            v["color"] = json!(color);
        }
        V::MacMobility { sequence, sticky } => {
            v["sequence"] = json!(sequence);
            v["sticky"] = json!(sticky);
        }
        V::EsiLabel {
            label,
            single_active,
        } => {
            v["label"] = json!(label);
            v["single_active"] = json!(single_active);
        }
        V::EsImport { mac } | V::RouterMac { mac } => v["mac"] = json!(mac_text(&mac)),
        V::DefaultGateway => {}
        V::MupDirectSegment { high, low } => v["segment_id"] = json!(format!("{high}:{low}")),
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(h: &str) -> String {
        let v = u64::from_str_radix(h, 16).unwrap();
        ExtendedCommunity(v.to_be_bytes()).to_string()
    }

    #[test]
    fn every_known_kind_has_its_name() {
        assert_eq!(text("0002fde800000001"), "target:65000:1");
        assert_eq!(text("0102c000020100c8"), "target:192.0.2.1:200");
        assert_eq!(text("0202fa56ea000007"), "target:4200000000L:7");
        assert_eq!(text("0003fde800000001"), "origin:65000:1");
        assert_eq!(text("0103c00002010001"), "origin:192.0.2.1:1");
        assert_eq!(text("0203fa56ea000001"), "origin:4200000000L:1");
        assert_eq!(text("8006000000000000"), "traffic-rate:0:0");
        assert_eq!(text("80060000477a0000"), "traffic-rate:0:64000");
        // RFC 8955 §7 traffic-rate-packets, 1000 per second: the bytes of ExaBGP main's
        // conf-flow UPDATE for `rate-limit 1000 packets`.
        assert_eq!(text("800c0000447a0000"), "traffic-rate-packets:0:1000");
        assert_eq!(text("8007000000000002"), "traffic-action:sample");
        assert_eq!(text("8007000000000003"), "traffic-action:sample-terminal");
        assert_eq!(text("8008fde80000029a"), "redirect:65000:666");
        assert_eq!(text("8108c0000201029a"), "redirect:192.0.2.1:666");
        assert_eq!(text("8208fa56ea000007"), "redirect:4200000000L:7");
        assert_eq!(text("800900000000002e"), "traffic-marking:46");
        assert_eq!(text("0800000000000000"), "redirect-to-nexthop");
        assert_eq!(text("010cc00002010001"), "redirect-to-ip:192.0.2.1:copy");
        assert_eq!(text("4004fde84e6e6b28"), "link-bandwidth:65000:1000000000");
        assert_eq!(text("030c000000000008"), "encapsulation:vxlan");
        assert_eq!(text("030b000000000064"), "color:100");
        assert_eq!(text("0600010000000005"), "mac-mobility:5:sticky");
        assert_eq!(text("0603020000000001"), "router-mac:02:00:00:00:00:01");
        assert_eq!(text("0601010000003e91"), "esi-label:1001:single-active");
        assert_eq!(text("060200112233aabb"), "es-import:00:11:22:33:aa:bb");
        assert_eq!(text("030d000000000000"), "default-gateway");
        assert_eq!(text("0c0000640000000a"), "mup:100:10");
        assert_eq!(text("4242000000000000"), "0x4242000000000000");
    }

    #[test]
    fn json_has_fixed_keys_and_typed_fields() {
        let c = ExtendedCommunity(0x8108c0000201029a_u64.to_be_bytes());
        let j = to_json(&c);
        assert_eq!(j["name"], "redirect");
        assert_eq!(j["address"], "192.0.2.1");
        assert_eq!(j["value"], 666);
        assert_eq!(j["hex"], "8108c0000201029a");
        let rate = to_json(&ExtendedCommunity(0x80060000477a0000_u64.to_be_bytes()));
        assert_eq!(
            (rate["name"].as_str(), rate["rate"].as_f64()),
            (Some("traffic-rate"), Some(64000.0))
        );
    }
}
