//! The attribute set of a route as the operator configured it. It is independent of any
//! session: each attribute's row exports it for one negotiated session (eBGP/iBGP defaults,
//! 2- or 4-octet AS) and the UPDATE packer adds the next hop (`next-hop self`).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::wire::attribute::{ExportContext, PathAttribute};

pub use crate::wire::attribute::Origin;

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

/// The next hop and the path attributes the operator configured, as typed values sorted by
/// type code, one per code. Shared (interned behind an `Arc`) by every route that uses it.
/// What a session sends is [`export`](Self::export)ed from it by the attribute table's rows
/// (`wire::attribute::ATTRIBUTES`): the defaults (ORIGIN, AS_PATH, LOCAL_PREF) for an
/// attribute not configured, and the eBGP/iBGP and 2-/4-octet AS rules.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RouteAttributes {
    pub next_hop: NextHop,
    values: Vec<PathAttribute>,
}

impl RouteAttributes {
    /// The attributes of `route PREFIX next-hop NH;` with nothing else given.
    pub fn with_next_hop(next_hop: NextHop) -> RouteAttributes {
        RouteAttributes {
            next_hop,
            values: Vec::new(),
        }
    }

    /// Sets `value`, replacing the attribute of the same type code. A known optional
    /// attribute with an empty value (an empty community list) is no attribute.
    pub fn set(&mut self, value: PathAttribute) {
        let code = value.code();
        let mut octets = Vec::new();
        value.emit_value(
            crate::wire::attribute::AttributeContext {
                four_octet_as: true,
            },
            &mut octets,
        );
        let empty = octets.is_empty()
            && crate::wire::attribute::info(code)
                .is_some_and(|r| r.flags & crate::wire::attribute::flag::OPTIONAL != 0);
        match self.values.binary_search_by_key(&code, PathAttribute::code) {
            Ok(i) if empty => {
                self.values.remove(i);
            }
            Ok(i) => self.values[i] = value,
            Err(_) if empty => {}
            Err(i) => self.values.insert(i, value),
        }
    }

    /// The same set with `value` set.
    pub fn with(mut self, value: PathAttribute) -> RouteAttributes {
        self.set(value);
        self
    }

    /// The configured attribute of type `code`.
    pub fn get(&self, code: u8) -> Option<&PathAttribute> {
        self.values
            .binary_search_by_key(&code, PathAttribute::code)
            .ok()
            .map(|i| &self.values[i])
    }

    /// Removes the attribute of type `code`.
    pub fn remove(&mut self, code: u8) {
        if let Ok(i) = self.values.binary_search_by_key(&code, PathAttribute::code) {
            self.values.remove(i);
        }
    }

    /// Every configured attribute, by ascending type code.
    pub fn values(&self) -> &[PathAttribute] {
        &self.values
    }

    /// What a session described by `session` sends (no NEXT_HOP: it goes with the NLRI).
    pub fn export(&self, session: &ExportContext) -> Vec<PathAttribute> {
        crate::wire::attribute::export(&self.values, session)
    }

    /// The configured ORIGIN (IGP when not configured).
    pub fn origin(&self) -> Origin {
        match self.get(crate::wire::attribute::type_code::ORIGIN) {
            Some(PathAttribute::Origin(o)) => *o,
            _ => Origin::Igp,
        }
    }

    /// The configured COMMUNITIES (blackhole and other well-known ones mean something here).
    pub fn communities(&self) -> &[crate::wire::community::Community] {
        match self.get(crate::wire::attribute::type_code::COMMUNITIES) {
            Some(PathAttribute::Communities(v)) => v,
            _ => &[],
        }
    }

    /// The configured extended communities (a FlowSpec rule's actions are among them).
    pub fn extended_communities(&self) -> &[crate::wire::community::ExtendedCommunity] {
        match self.get(crate::wire::attribute::type_code::EXTENDED_COMMUNITIES) {
            Some(PathAttribute::ExtendedCommunities(v)) => v,
            _ => &[],
        }
    }

    /// The configured attributes in the configuration's words (`show adj-rib out`).
    pub fn words(&self) -> String {
        let mut out = String::new();
        self.values.iter().for_each(|a| a.write_words(&mut out));
        out
    }
}
