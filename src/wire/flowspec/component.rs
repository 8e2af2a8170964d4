//! The components of a flow rule (RFC 8955 §4.2.2, RFC 8956 §3): their type codes, their
//! encodings, and the names operators write for their values.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::FlowError;
use super::operator::{self, BitmaskOp, NumericOp};
use crate::wire::family::Afi;
use crate::wire::reader::Reader;

/// Component type codes, RFC 8955 §4.2.2 (1-12) and RFC 8956 §3.7 (13, flow label).
pub mod component_type {
    pub const DESTINATION: u8 = 1;
    pub const SOURCE: u8 = 2;
    pub const PROTOCOL: u8 = 3;
    pub const PORT: u8 = 4;
    pub const DESTINATION_PORT: u8 = 5;
    pub const SOURCE_PORT: u8 = 6;
    pub const ICMP_TYPE: u8 = 7;
    pub const ICMP_CODE: u8 = 8;
    pub const TCP_FLAGS: u8 = 9;
    pub const PACKET_LENGTH: u8 = 10;
    pub const DSCP: u8 = 11;
    pub const FRAGMENT: u8 = 12;
    pub const FLOW_LABEL: u8 = 13;
}
use component_type as ct;

/// A destination or source prefix. For IPv6 (RFC 8956 §3.1) only the bits from `offset`
/// to `len` are matched; the other bits of `addr` are zero. IPv4 prefixes have offset 0.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FlowPrefix {
    pub addr: IpAddr,
    pub len: u8,
    pub offset: u8,
}

impl FlowPrefix {
    fn afi(&self) -> Afi {
        if self.addr.is_ipv4() {
            Afi::Ipv4
        } else {
            Afi::Ipv6
        }
    }

    /// Whether every bit of `addr` outside `offset..len` is zero, and `offset <= len`.
    pub fn is_canonical(&self) -> bool {
        let bits = |a: IpAddr| match a {
            IpAddr::V4(a) => (u128::from(u32::from(a)) << 96, 32u32),
            IpAddr::V6(a) => (u128::from(a), 128),
        };
        let (v, max) = bits(self.addr);
        if self.offset > self.len || self.len as u32 > max {
            return false;
        }
        let keep = u128::MAX.checked_shl(128 - self.len as u32).unwrap_or(0)
            & u128::MAX.checked_shr(self.offset as u32).unwrap_or(0);
        v & !keep == 0
    }

    fn pattern_octets(&self) -> usize {
        (self.len as usize - self.offset as usize).div_ceil(8)
    }

    fn emit(&self, out: &mut Vec<u8>) {
        out.push(self.len);
        match self.addr {
            IpAddr::V4(a) => out.extend_from_slice(&a.octets()[..self.pattern_octets()]),
            IpAddr::V6(a) => {
                out.push(self.offset);
                // The pattern starts at bit `offset`: shift it to the top before taking octets.
                let shifted = u128::from(a).checked_shl(self.offset as u32).unwrap_or(0);
                out.extend_from_slice(&shifted.to_be_bytes()[..self.pattern_octets()]);
            }
        }
    }

    fn read(r: &mut Reader, afi: Afi, type_code: u8) -> Result<FlowPrefix, FlowError> {
        let offset_at = r.offset();
        let len = r.u8()?;
        if afi == Afi::Ipv4 {
            if len > 32 {
                return Err(FlowError::PrefixTooLong { type_code, len });
            }
            let mut octets = [0u8; 4];
            let n = (len as usize).div_ceil(8);
            octets[..n].copy_from_slice(r.bytes(n)?);
            let bits =
                u32::from_be_bytes(octets) & u32::MAX.checked_shl(32 - len as u32).unwrap_or(0);
            return Ok(FlowPrefix {
                addr: IpAddr::V4(Ipv4Addr::from(bits)),
                len,
                offset: 0,
            });
        }
        let offset = r.u8()?;
        if len > 128 {
            return Err(FlowError::PrefixTooLong { type_code, len });
        }
        if offset > len {
            return Err(FlowError::OffsetBeyondLength {
                type_code,
                offset: offset_at,
            });
        }
        let n = (len as usize - offset as usize).div_ceil(8);
        let mut octets = [0u8; 16];
        octets[..n].copy_from_slice(r.bytes(n)?);
        let pattern = u128::from_be_bytes(octets)
            .checked_shr(offset as u32)
            .unwrap_or(0);
        let mask = u128::MAX.checked_shl(128 - len as u32).unwrap_or(0);
        Ok(FlowPrefix {
            addr: IpAddr::V6(Ipv6Addr::from(pattern & mask)),
            len,
            offset,
        })
    }
}

impl fmt::Display for FlowPrefix {
    /// `192.0.2.0/24`; IPv6 in ExaBGP's `ADDRESS/LENGTH/OFFSET` form.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.addr {
            IpAddr::V4(a) => write!(f, "{a}/{}", self.len),
            IpAddr::V6(a) => write!(f, "{a}/{}/{}", self.len, self.offset),
        }
    }
}

/// One match condition of a flow rule.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FlowComponent {
    Destination(FlowPrefix),
    Source(FlowPrefix),
    /// IPv4 protocol, IPv6 next header (RFC 8956 §3.3).
    Protocol(Vec<NumericOp>),
    Port(Vec<NumericOp>),
    DestinationPort(Vec<NumericOp>),
    SourcePort(Vec<NumericOp>),
    IcmpType(Vec<NumericOp>),
    IcmpCode(Vec<NumericOp>),
    TcpFlags(Vec<BitmaskOp>),
    PacketLength(Vec<NumericOp>),
    /// IPv4 DSCP, IPv6 traffic class DSCP bits (RFC 8956 §3.5).
    Dscp(Vec<NumericOp>),
    Fragment(Vec<BitmaskOp>),
    /// IPv6 only (RFC 8956 §3.7).
    FlowLabel(Vec<NumericOp>),
}

/// Names for values, as ExaBGP spells them.
pub const PROTOCOL_NAMES: &[(&str, u64)] = &[
    ("icmp", 1),
    ("igmp", 2),
    ("tcp", 6),
    ("egp", 8),
    ("udp", 17),
    ("rsvp", 46),
    ("gre", 47),
    ("esp", 50),
    ("ah", 51),
    ("ipv6-icmp", 58),
    ("icmpv6", 58),
    ("ospf", 89),
    ("pim", 103),
    ("vrrp", 112),
    ("sctp", 132),
];
pub const ICMP_TYPE_NAMES: &[(&str, u64)] = &[
    ("echo-reply", 0),
    ("unreachable", 3),
    ("source-quench", 4),
    ("redirect", 5),
    ("echo-request", 8),
    ("router-advertisement", 9),
    ("router-solicit", 10),
    ("time-exceeded", 11),
    ("parameter-problem", 12),
    ("timestamp", 13),
    ("timestamp-reply", 14),
];
pub const ICMP_CODE_NAMES: &[(&str, u64)] = &[
    ("network-unreachable", 0),
    ("host-unreachable", 1),
    ("protocol-unreachable", 2),
    ("port-unreachable", 3),
    ("fragmentation-needed", 4),
    ("source-route-failed", 5),
    ("ttl-eq-zero-during-transit", 0),
    ("ttl-eq-zero-during-reassembly", 1),
];
/// RFC 8955 §4.2.2.9: TCP header flags (the low octet of the 16-bit field).
pub const TCP_FLAG_NAMES: &[(&str, u64)] = &[
    ("fin", 0x01),
    ("syn", 0x02),
    ("rst", 0x04),
    ("push", 0x08),
    ("ack", 0x10),
    ("urgent", 0x20),
    ("ece", 0x40),
    ("cwr", 0x80),
];
/// RFC 8955 §4.2.2.12: DF, IsF, FF, LF.
pub const FRAGMENT_NAMES: &[(&str, u64)] = &[
    ("dont-fragment", 0x01),
    ("is-fragment", 0x02),
    ("first-fragment", 0x04),
    ("last-fragment", 0x08),
];

/// The value of a name, in any case (ExaBGP's files write `tcp-flags [SYN RST]`).
pub fn value_by_name(names: &[(&str, u64)], name: &str) -> Option<u64> {
    names
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|&(_, v)| v)
}

fn name_of(names: &[(&'static str, u64)], value: u64) -> Option<&'static str> {
    names.iter().find(|&&(_, v)| v == value).map(|&(n, _)| n)
}

impl FlowComponent {
    pub fn type_code(&self) -> u8 {
        match self {
            FlowComponent::Destination(_) => ct::DESTINATION,
            FlowComponent::Source(_) => ct::SOURCE,
            FlowComponent::Protocol(_) => ct::PROTOCOL,
            FlowComponent::Port(_) => ct::PORT,
            FlowComponent::DestinationPort(_) => ct::DESTINATION_PORT,
            FlowComponent::SourcePort(_) => ct::SOURCE_PORT,
            FlowComponent::IcmpType(_) => ct::ICMP_TYPE,
            FlowComponent::IcmpCode(_) => ct::ICMP_CODE,
            FlowComponent::TcpFlags(_) => ct::TCP_FLAGS,
            FlowComponent::PacketLength(_) => ct::PACKET_LENGTH,
            FlowComponent::Dscp(_) => ct::DSCP,
            FlowComponent::Fragment(_) => ct::FRAGMENT,
            FlowComponent::FlowLabel(_) => ct::FLOW_LABEL,
        }
    }

    /// The keyword of the ExaBGP syntax (IPv6 names where they differ).
    pub fn keyword(&self, afi: Afi) -> &'static str {
        match (self, afi) {
            (FlowComponent::Destination(_), _) => "destination",
            (FlowComponent::Source(_), _) => "source",
            (FlowComponent::Protocol(_), Afi::Ipv6) => "next-header",
            (FlowComponent::Protocol(_), _) => "protocol",
            (FlowComponent::Port(_), _) => "port",
            (FlowComponent::DestinationPort(_), _) => "destination-port",
            (FlowComponent::SourcePort(_), _) => "source-port",
            (FlowComponent::IcmpType(_), _) => "icmp-type",
            (FlowComponent::IcmpCode(_), _) => "icmp-code",
            (FlowComponent::TcpFlags(_), _) => "tcp-flags",
            (FlowComponent::PacketLength(_), _) => "packet-length",
            (FlowComponent::Dscp(_), Afi::Ipv6) => "traffic-class",
            (FlowComponent::Dscp(_), _) => "dscp",
            (FlowComponent::Fragment(_), _) => "fragment",
            (FlowComponent::FlowLabel(_), _) => "flow-label",
        }
    }

    /// The family a component forces, if any.
    pub fn afi(&self) -> Option<Afi> {
        match self {
            FlowComponent::Destination(p) | FlowComponent::Source(p) => Some(p.afi()),
            FlowComponent::FlowLabel(_) => Some(Afi::Ipv6),
            _ => None,
        }
    }

    pub(super) fn emit(&self, out: &mut Vec<u8>) {
        out.push(self.type_code());
        match self {
            FlowComponent::Destination(p) | FlowComponent::Source(p) => p.emit(out),
            FlowComponent::TcpFlags(ops) | FlowComponent::Fragment(ops) => {
                operator::emit_bitmask(ops, out)
            }
            FlowComponent::Protocol(ops)
            | FlowComponent::Port(ops)
            | FlowComponent::DestinationPort(ops)
            | FlowComponent::SourcePort(ops)
            | FlowComponent::IcmpType(ops)
            | FlowComponent::IcmpCode(ops)
            | FlowComponent::PacketLength(ops)
            | FlowComponent::Dscp(ops)
            | FlowComponent::FlowLabel(ops) => operator::emit_numeric(ops, out),
        }
    }

    pub(super) fn wire_len(&self) -> usize {
        let mut v = Vec::new();
        self.emit(&mut v);
        v.len()
    }

    /// Reads one component, its type octet included.
    pub(super) fn read(r: &mut Reader, afi: Afi) -> Result<FlowComponent, FlowError> {
        let at = r.offset();
        let t = r.u8()?;
        let numeric = |r: &mut Reader| operator::read_numeric(r, t);
        Ok(match t {
            ct::DESTINATION => FlowComponent::Destination(FlowPrefix::read(r, afi, t)?),
            ct::SOURCE => FlowComponent::Source(FlowPrefix::read(r, afi, t)?),
            ct::PROTOCOL => FlowComponent::Protocol(numeric(r)?),
            ct::PORT => FlowComponent::Port(numeric(r)?),
            ct::DESTINATION_PORT => FlowComponent::DestinationPort(numeric(r)?),
            ct::SOURCE_PORT => FlowComponent::SourcePort(numeric(r)?),
            ct::ICMP_TYPE => FlowComponent::IcmpType(numeric(r)?),
            ct::ICMP_CODE => FlowComponent::IcmpCode(numeric(r)?),
            ct::TCP_FLAGS => FlowComponent::TcpFlags(operator::read_bitmask(r, t)?),
            ct::PACKET_LENGTH => FlowComponent::PacketLength(numeric(r)?),
            ct::DSCP => FlowComponent::Dscp(numeric(r)?),
            ct::FRAGMENT => FlowComponent::Fragment(operator::read_bitmask(r, t)?),
            ct::FLOW_LABEL if afi == Afi::Ipv6 => FlowComponent::FlowLabel(numeric(r)?),
            other => {
                return Err(FlowError::UnknownComponent {
                    type_code: other,
                    offset: at,
                });
            }
        })
    }

    /// Writes `KEYWORD VALUES` in the ExaBGP syntax.
    pub(super) fn write(&self, f: &mut fmt::Formatter<'_>, afi: Afi) -> fmt::Result {
        write!(f, "{} ", self.keyword(afi))?;
        self.write_values(f)
    }

    /// The values as the configuration writes them after the keyword: `192.0.2.0/24`,
    /// `=tcp`, `[ =80 >=1024&<=2048 ]`, `=syn&!rst`.
    pub fn values_text(&self) -> String {
        struct Values<'a>(&'a FlowComponent);
        impl fmt::Display for Values<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.write_values(f)
            }
        }
        Values(self).to_string()
    }

    /// The name of a value in the component's table (`tcp`, `syn`, `echo-request`), if any.
    pub fn value_name(&self, value: u64) -> Option<&'static str> {
        let names: &[(&'static str, u64)] = match self {
            FlowComponent::Protocol(_) => PROTOCOL_NAMES,
            FlowComponent::IcmpType(_) => ICMP_TYPE_NAMES,
            FlowComponent::TcpFlags(_) => TCP_FLAG_NAMES,
            FlowComponent::Fragment(_) => FRAGMENT_NAMES,
            _ => &[],
        };
        name_of(names, value)
    }

    fn write_values(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let numeric =
            |f: &mut fmt::Formatter<'_>, ops: &[NumericOp], names: &[(&'static str, u64)]| {
                operator::write_list(
                    f,
                    ops,
                    |o| o.and,
                    |f, o| {
                        f.write_str(o.comparison())?;
                        if o.comparison() == "true" || o.comparison() == "false" {
                            return Ok(());
                        }
                        match name_of(names, o.value) {
                            Some(n) => f.write_str(n),
                            None => write!(f, "{}", o.value),
                        }
                    },
                )
            };
        let bitmask =
            |f: &mut fmt::Formatter<'_>, ops: &[BitmaskOp], names: &[(&'static str, u64)]| {
                operator::write_list(
                    f,
                    ops,
                    |o| o.and,
                    |f, o| {
                        f.write_str(match (o.not, o.matched) {
                            (false, false) => "",
                            (false, true) => "=",
                            (true, false) => "!",
                            (true, true) => "!=",
                        })?;
                        match name_of(names, o.value) {
                            Some(n) => f.write_str(n),
                            None => write!(f, "0x{:x}", o.value),
                        }
                    },
                )
            };
        match self {
            FlowComponent::Destination(p) | FlowComponent::Source(p) => write!(f, "{p}"),
            FlowComponent::Protocol(ops) => numeric(f, ops, PROTOCOL_NAMES),
            FlowComponent::IcmpType(ops) => numeric(f, ops, ICMP_TYPE_NAMES),
            FlowComponent::Port(ops)
            | FlowComponent::DestinationPort(ops)
            | FlowComponent::SourcePort(ops)
            | FlowComponent::IcmpCode(ops)
            | FlowComponent::PacketLength(ops)
            | FlowComponent::Dscp(ops)
            | FlowComponent::FlowLabel(ops) => numeric(f, ops, &[]),
            FlowComponent::TcpFlags(ops) => bitmask(f, ops, TCP_FLAG_NAMES),
            FlowComponent::Fragment(ops) => bitmask(f, ops, FRAGMENT_NAMES),
        }
    }
}
