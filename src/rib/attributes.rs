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
    /// ORIGINATOR_ID, CLUSTER_LIST, AIGP and generic attributes, sorted by type code, one per
    /// code.
    pub extra: Vec<ExtraAttribute>,
}

/// An attribute bgpinject sends as configured, without building it from the session.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ExtraAttribute {
    /// RFC 4456 §8 ORIGINATOR_ID (`originator-id IP`): to internal peers only.
    OriginatorId(Ipv4Addr),
    /// RFC 4456 §8 CLUSTER_LIST (`cluster-list [ IP ... ]`): to internal peers only.
    ClusterList(Vec<Ipv4Addr>),
    /// RFC 7311 AIGP with its AIGP metric TLV (`aigp N`). Sent as configured, to internal and
    /// external peers alike, as ExaBGP does: configuring it is the operator's consent that
    /// RFC 7311 §3.1 asks for.
    Aigp(u64),
    /// ExaBGP's `attribute [ CODE FLAGS VALUE ]` for a code bgpinject does not build: sent
    /// exactly as written.
    Generic { code: u8, flags: u8, value: Vec<u8> },
}

impl ExtraAttribute {
    pub fn code(&self) -> u8 {
        use crate::wire::attribute::type_code as tc;
        match self {
            ExtraAttribute::OriginatorId(_) => tc::ORIGINATOR_ID,
            ExtraAttribute::ClusterList(_) => tc::CLUSTER_LIST,
            ExtraAttribute::Aigp(_) => tc::AIGP,
            ExtraAttribute::Generic { code, .. } => *code,
        }
    }

    /// Whether it goes to a peer of this kind (route-reflection attributes stay inside the AS,
    /// RFC 4456 §8: an external peer would treat them as malformed, RFC 7606 §7.9).
    pub fn sent_on(&self, ebgp: bool) -> bool {
        !(ebgp
            && matches!(
                self,
                ExtraAttribute::OriginatorId(_) | ExtraAttribute::ClusterList(_)
            ))
    }

    /// The attribute as the codec writes it.
    pub fn to_wire(&self) -> crate::wire::attribute::PathAttribute {
        use crate::wire::attribute::PathAttribute;
        match self {
            ExtraAttribute::OriginatorId(a) => PathAttribute::OriginatorId(*a),
            ExtraAttribute::ClusterList(l) => PathAttribute::ClusterList(l.clone()),
            ExtraAttribute::Aigp(m) => PathAttribute::Aigp(vec![(1, m.to_be_bytes().to_vec())]),
            ExtraAttribute::Generic { code, flags, value } => PathAttribute::Unknown {
                flags: *flags,
                code: *code,
                value: value.clone(),
            },
        }
    }
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
            extra: Vec::new(),
        }
    }
}
