//! FlowSpec actions, carried as extended communities (RFC 8955 §7, RFC 5575bis), and the
//! redirect-to-next-hop communities of draft-simpson-idr-flowspec-redirect and
//! draft-ietf-idr-flowspec-redirect-ip.

use std::fmt;
use std::net::Ipv4Addr;

use crate::wire::community::ExtendedCommunity;

/// RFC 8955 §7, type 0x80 (generic transitive experimental) subtypes; 0x81 and 0x82 are the
/// IPv4 and 4-octet AS forms of redirect (RFC 8955 §7.4).
const TRAFFIC_RATE: [u8; 2] = [0x80, 0x06];
/// RFC 8955 §7: traffic-rate-packets, the same layout as traffic-rate-bytes.
const TRAFFIC_RATE_PACKETS: [u8; 2] = [0x80, 0x0c];
const TRAFFIC_ACTION: [u8; 2] = [0x80, 0x07];
const REDIRECT_AS2: [u8; 2] = [0x80, 0x08];
const REDIRECT_IPV4: [u8; 2] = [0x81, 0x08];
const REDIRECT_AS4: [u8; 2] = [0x82, 0x08];
const TRAFFIC_MARKING: [u8; 2] = [0x80, 0x09];
/// draft-simpson-idr-flowspec-redirect §3: redirect to the next hop of MP_REACH.
const REDIRECT_TO_NEXT_HOP: [u8; 2] = [0x08, 0x00];
/// draft-ietf-idr-flowspec-redirect-ip-02 §3: IPv4-address-specific, subtype 0x0c.
const REDIRECT_TO_IPV4: [u8; 2] = [0x01, 0x0c];
/// RFC 8955 §7.3: the two low bits of the traffic-action value.
const ACTION_TERMINAL: u8 = 0x01;
const ACTION_SAMPLE: u8 = 0x02;

/// A FlowSpec action as a typed value; `to_community` and `from_community` convert.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum FlowAction {
    /// Bytes per second; 0 discards. `asn` is informational (RFC 8955 §7.1).
    TrafficRate {
        asn: u16,
        rate: f32,
    },
    /// Packets per second (ExaBGP main's `rate-limit N packets`); 0 discards.
    TrafficRatePackets {
        asn: u16,
        rate: f32,
    },
    TrafficAction {
        sample: bool,
        terminal: bool,
    },
    RedirectAs2 {
        asn: u16,
        value: u32,
    },
    RedirectIpv4 {
        address: Ipv4Addr,
        value: u16,
    },
    RedirectAs4 {
        asn: u32,
        value: u16,
    },
    TrafficMarking {
        dscp: u8,
    },
    /// draft-simpson-idr-flowspec-redirect §3: with `copy` (the C bit, the value's low bit),
    /// the traffic is copied to the next hop and also forwarded (ExaBGP's `copy ADDRESS`).
    RedirectToNextHop {
        copy: bool,
    },
    RedirectToIpv4 {
        address: Ipv4Addr,
        copy: bool,
    },
}

impl FlowAction {
    pub fn to_community(self) -> ExtendedCommunity {
        let mut b = [0u8; 8];
        let (head, tail) = b.split_at_mut(2);
        match self {
            FlowAction::TrafficRate { asn, rate } => {
                head.copy_from_slice(&TRAFFIC_RATE);
                tail[..2].copy_from_slice(&asn.to_be_bytes());
                tail[2..].copy_from_slice(&rate.to_be_bytes());
            }
            FlowAction::TrafficRatePackets { asn, rate } => {
                head.copy_from_slice(&TRAFFIC_RATE_PACKETS);
                tail[..2].copy_from_slice(&asn.to_be_bytes());
                tail[2..].copy_from_slice(&rate.to_be_bytes());
            }
            FlowAction::TrafficAction { sample, terminal } => {
                head.copy_from_slice(&TRAFFIC_ACTION);
                tail[5] = if sample { ACTION_SAMPLE } else { 0 }
                    | if terminal { ACTION_TERMINAL } else { 0 };
            }
            FlowAction::RedirectAs2 { asn, value } => {
                head.copy_from_slice(&REDIRECT_AS2);
                tail[..2].copy_from_slice(&asn.to_be_bytes());
                tail[2..].copy_from_slice(&value.to_be_bytes());
            }
            FlowAction::RedirectIpv4 { address, value } => {
                head.copy_from_slice(&REDIRECT_IPV4);
                tail[..4].copy_from_slice(&address.octets());
                tail[4..].copy_from_slice(&value.to_be_bytes());
            }
            FlowAction::RedirectAs4 { asn, value } => {
                head.copy_from_slice(&REDIRECT_AS4);
                tail[..4].copy_from_slice(&asn.to_be_bytes());
                tail[4..].copy_from_slice(&value.to_be_bytes());
            }
            FlowAction::TrafficMarking { dscp } => {
                head.copy_from_slice(&TRAFFIC_MARKING);
                tail[5] = dscp & 0x3F;
            }
            FlowAction::RedirectToNextHop { copy } => {
                head.copy_from_slice(&REDIRECT_TO_NEXT_HOP);
                tail[5] = copy as u8;
            }
            FlowAction::RedirectToIpv4 { address, copy } => {
                head.copy_from_slice(&REDIRECT_TO_IPV4);
                tail[..4].copy_from_slice(&address.octets());
                tail[5] = copy as u8;
            }
        }
        ExtendedCommunity(b)
    }

    /// The action an extended community carries, if it is one.
    pub fn from_community(c: &ExtendedCommunity) -> Option<FlowAction> {
        let b = &c.0;
        let u16_at = |i: usize| u16::from_be_bytes([b[i], b[i + 1]]);
        let u32_at = |i: usize| u32::from_be_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        let v4 = Ipv4Addr::new(b[2], b[3], b[4], b[5]);
        Some(match [b[0], b[1]] {
            TRAFFIC_RATE => FlowAction::TrafficRate {
                asn: u16_at(2),
                rate: f32::from_bits(u32_at(4)),
            },
            TRAFFIC_RATE_PACKETS => FlowAction::TrafficRatePackets {
                asn: u16_at(2),
                rate: f32::from_bits(u32_at(4)),
            },
            TRAFFIC_ACTION => FlowAction::TrafficAction {
                sample: b[7] & ACTION_SAMPLE != 0,
                terminal: b[7] & ACTION_TERMINAL != 0,
            },
            REDIRECT_AS2 => FlowAction::RedirectAs2 {
                asn: u16_at(2),
                value: u32_at(4),
            },
            REDIRECT_IPV4 => FlowAction::RedirectIpv4 {
                address: v4,
                value: u16_at(6),
            },
            REDIRECT_AS4 => FlowAction::RedirectAs4 {
                asn: u32_at(2),
                value: u16_at(6),
            },
            TRAFFIC_MARKING => FlowAction::TrafficMarking { dscp: b[7] & 0x3F },
            REDIRECT_TO_NEXT_HOP => FlowAction::RedirectToNextHop {
                copy: b[7] & 1 != 0,
            },
            REDIRECT_TO_IPV4 => FlowAction::RedirectToIpv4 {
                address: v4,
                copy: b[7] & 1 != 0,
            },
            _ => return None,
        })
    }
}

impl fmt::Display for FlowAction {
    /// The `then { }` statement that produces the action.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            FlowAction::TrafficRate { rate: 0.0, .. } => f.write_str("discard"),
            FlowAction::TrafficRate { rate, .. } => write!(f, "rate-limit {rate}"),
            FlowAction::TrafficRatePackets { rate, .. } => write!(f, "rate-limit {rate} packets"),
            FlowAction::TrafficAction { sample, terminal } => match (sample, terminal) {
                (true, true) => f.write_str("action sample-terminal"),
                (true, false) => f.write_str("action sample"),
                (false, true) => f.write_str("action terminal"),
                (false, false) => f.write_str("action none"),
            },
            FlowAction::RedirectAs2 { asn, value } => write!(f, "redirect {asn}:{value}"),
            FlowAction::RedirectIpv4 { address, value } => write!(f, "redirect {address}:{value}"),
            FlowAction::RedirectAs4 { asn, value } => write!(f, "redirect {asn}:{value}"),
            FlowAction::TrafficMarking { dscp } => write!(f, "mark {dscp}"),
            FlowAction::RedirectToNextHop { copy: false } => f.write_str("redirect-to-nexthop"),
            FlowAction::RedirectToNextHop { copy: true } => f.write_str("copy-to-nexthop"),
            FlowAction::RedirectToIpv4 { address, .. } => {
                write!(f, "redirect-to-nexthop-ietf {address}")
            }
        }
    }
}
