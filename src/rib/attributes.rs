//! The attribute set of a route as the operator configured it. It is independent of any
//! session: the UPDATE packer turns it into wire attributes for one negotiated session
//! (eBGP/iBGP defaults, 2- or 4-octet AS, next-hop self).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::wire::aspath::AsPath;
use crate::wire::community::{Community, ExtendedCommunity, LargeCommunity};

/// RFC 4271 §5.1.1 ORIGIN.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Origin {
    #[default]
    Igp,
    Egp,
    Incomplete,
}

impl Origin {
    pub fn from_u8(v: u8) -> Option<Origin> {
        match v {
            0 => Some(Origin::Igp),
            1 => Some(Origin::Egp),
            2 => Some(Origin::Incomplete),
            _ => None,
        }
    }
    pub fn to_u8(self) -> u8 {
        match self {
            Origin::Igp => 0,
            Origin::Egp => 1,
            Origin::Incomplete => 2,
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Origin::Igp => "igp",
            Origin::Egp => "egp",
            Origin::Incomplete => "incomplete",
        }
    }
}

/// Where the route's next hop comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NextHop {
    /// An explicit address; for IPv6 routes optionally with a link-local address
    /// (sent as the 32-octet form of RFC 2545 §3).
    Address {
        global: IpAddr,
        link_local: Option<Ipv6Addr>,
    },
    /// `next-hop self`: the local address of the session (for the route's family).
    SelfAddress,
    /// No next hop: FlowSpec rules, whose MP_REACH next hop is empty (RFC 8955 §4) unless
    /// they redirect to an IP. A unicast route never has this.
    Absent,
}

/// RFC 4271 §5.1.7 AGGREGATOR.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Aggregator {
    pub asn: u32,
    pub address: Ipv4Addr,
}

/// Everything but the prefix. Shared (interned behind an `Arc`) by every route that uses it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RouteAttributes {
    pub next_hop: NextHop,
    pub origin: Origin,
    /// `None`: the session's default (empty on iBGP, `[local-as]` on eBGP).
    /// `Some`: sent exactly as written, even on eBGP.
    pub as_path: Option<AsPath>,
    pub med: Option<u32>,
    /// `None`: 100 on iBGP, absent on eBGP.
    pub local_pref: Option<u32>,
    pub communities: Vec<Community>,
    pub extended_communities: Vec<ExtendedCommunity>,
    pub large_communities: Vec<LargeCommunity>,
    pub atomic_aggregate: bool,
    pub aggregator: Option<Aggregator>,
}

impl RouteAttributes {
    /// The attributes of `route PREFIX next-hop NH;` with nothing else given.
    pub fn with_next_hop(next_hop: NextHop) -> RouteAttributes {
        RouteAttributes {
            next_hop,
            origin: Origin::Igp,
            as_path: None,
            med: None,
            local_pref: None,
            communities: Vec::new(),
            extended_communities: Vec::new(),
            large_communities: Vec::new(),
            atomic_aggregate: false,
            aggregator: None,
        }
    }
}
