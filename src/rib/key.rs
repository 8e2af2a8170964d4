//! One key for the NLRI of every family: family, route distinguisher, the NLRI itself and
//! the RFC 7911 path identifier, totally ordered, so a route set of any mix of families is one
//! sorted list and two of them diff in one merge walk.

use std::borrow::Cow;
use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;

use super::attributes::{NextHop, RouteAttributes};
use crate::wire::family::{Afi, Family, Safi};
use crate::wire::flowspec::FlowRule;
use crate::wire::labeled::{self, LabelStack, LabeledPrefix, RouteDistinguisher};
use crate::wire::prefix::Prefix;

/// The NLRI proper. The families still to come (EVPN, VPLS, MUP, SR policy, RTC) are more
/// variants, each with its codec in `wire` and its arm in [`NlriKey::emit`].
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Nlri {
    /// A prefix: unicast, multicast, labeled unicast, MPLS VPN (with the key's RD).
    Prefix(Prefix),
    /// A FlowSpec rule (RFC 8955, RFC 8956).
    Flow(Box<FlowRule>),
}

/// What identifies one route to the peer. Labels are not part of it: a label change is an
/// implicit replace of the same NLRI.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NlriKey {
    pub family: Family,
    pub rd: Option<RouteDistinguisher>,
    pub nlri: Nlri,
    /// RFC 7911 path identifier; `None` sorts first.
    pub path_id: Option<u32>,
}

impl NlriKey {
    /// The key of a prefix of `family`.
    pub fn of_prefix(
        family: Family,
        rd: Option<RouteDistinguisher>,
        prefix: Prefix,
        path_id: Option<u32>,
    ) -> NlriKey {
        NlriKey {
            family,
            rd,
            nlri: Nlri::Prefix(prefix),
            path_id,
        }
    }

    /// The key of a plain unicast prefix (no RD, no path identifier).
    pub fn plain(prefix: Prefix) -> NlriKey {
        NlriKey::of_prefix(Family::new(prefix.afi(), Safi::Unicast), None, prefix, None)
    }

    /// The key of a FlowSpec rule (FlowSpec VPN, with the rule's RD, when it has one).
    pub fn flow(rule: FlowRule) -> NlriKey {
        NlriKey {
            family: rule.family(),
            rd: rule.rd(),
            nlri: Nlri::Flow(Box::new(rule)),
            path_id: None,
        }
    }

    /// The prefix, for the families whose NLRI is one.
    pub fn prefix(&self) -> Option<Prefix> {
        match &self.nlri {
            Nlri::Prefix(p) => Some(*p),
            Nlri::Flow(_) => None,
        }
    }

    /// The rule of a FlowSpec key.
    pub fn flow_rule(&self) -> Option<&FlowRule> {
        match &self.nlri {
            Nlri::Flow(r) => Some(r),
            Nlri::Prefix(_) => None,
        }
    }

    /// Whether the key is a plain unicast prefix (the table's fast path stores those).
    pub fn is_plain(&self) -> bool {
        match &self.nlri {
            Nlri::Prefix(p) => {
                self.rd.is_none()
                    && self.path_id.is_none()
                    && self.family == Family::new(p.afi(), Safi::Unicast)
            }
            Nlri::Flow(_) => false,
        }
    }

    /// The key without its path identifier: the paths of one destination share it.
    pub fn same_destination(&self, other: &NlriKey) -> bool {
        self.family == other.family && self.rd == other.rd && self.nlri == other.nlri
    }

    /// The NLRI as the peer gets it: with a path identifier when it receives them for the
    /// family (0 for a key without one), with `labels` (the withdrawn label when
    /// withdrawing) for labeled families.
    pub fn emit(&self, labels: &[u32], withdraw: bool, add_path: bool, out: &mut Vec<u8>) {
        let path_id = add_path.then(|| self.path_id.unwrap_or(0));
        match &self.nlri {
            Nlri::Prefix(prefix) if labeled::is_labeled(self.family) => {
                let labels = if withdraw {
                    LabelStack::withdrawn()
                } else {
                    LabelStack::from_labels(labels)
                };
                LabeledPrefix {
                    path_id,
                    labels,
                    rd: self.rd,
                    prefix: *prefix,
                }
                .emit(out)
            }
            Nlri::Prefix(prefix) => {
                if let Some(id) = path_id {
                    out.extend_from_slice(&id.to_be_bytes());
                }
                prefix.emit(out)
            }
            Nlri::Flow(rule) => rule.emit(out),
        }
    }
}

impl fmt::Display for NlriKey {
    /// `show adj-rib out`'s words: `ipv4 mpls-vpn 10.1.0.0/16 rd 65000:7 [path-information ID]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.nlri {
            Nlri::Prefix(p) => write!(f, "{} {p}", self.family)?,
            // The rule writes its own RD.
            Nlri::Flow(rule) => return write!(f, "flow {rule}"),
        }
        if let Some(rd) = self.rd {
            write!(f, " rd {rd}")?;
        }
        if let Some(id) = self.path_id {
            write!(f, " path-information {}", std::net::Ipv4Addr::from(id))?;
        }
        Ok(())
    }
}

/// What a key maps to: its label values (empty for unlabeled families) and attributes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteValue {
    pub labels: Vec<u32>,
    pub attrs: Arc<RouteAttributes>,
}

impl RouteValue {
    /// The same route: same labels and attributes (pointer-equal attributes compare fast).
    pub fn same(&self, other: &RouteValue) -> bool {
        self.labels == other.labels
            && (Arc::ptr_eq(&self.attrs, &other.attrs) || self.attrs == other.attrs)
    }
}

/// A key as a route set stores it: a plain unicast prefix (built into an [`NlriKey`] only
/// when asked) or a stored key. Ordered as the keys are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyRef<'a> {
    Plain(Prefix),
    Keyed(&'a NlriKey),
}

impl<'a> KeyRef<'a> {
    pub fn family(&self) -> Family {
        match self {
            KeyRef::Plain(p) => Family::new(p.afi(), Safi::Unicast),
            KeyRef::Keyed(k) => k.family,
        }
    }

    pub fn path_id(&self) -> Option<u32> {
        match self {
            KeyRef::Plain(_) => None,
            KeyRef::Keyed(k) => k.path_id,
        }
    }

    pub fn prefix(&self) -> Option<Prefix> {
        match self {
            KeyRef::Plain(p) => Some(*p),
            KeyRef::Keyed(k) => k.prefix(),
        }
    }

    pub fn key(&self) -> Cow<'a, NlriKey> {
        match self {
            KeyRef::Plain(p) => Cow::Owned(NlriKey::plain(*p)),
            KeyRef::Keyed(k) => Cow::Borrowed(k),
        }
    }

    /// Whether both name paths of one destination.
    pub fn same_destination(&self, other: &KeyRef) -> bool {
        match (self, other) {
            (KeyRef::Plain(p), KeyRef::Plain(q)) => p == q,
            (KeyRef::Plain(p), KeyRef::Keyed(k)) | (KeyRef::Keyed(k), KeyRef::Plain(p)) => {
                k.family == Family::new(p.afi(), Safi::Unicast)
                    && k.rd.is_none()
                    && k.nlri == Nlri::Prefix(*p)
            }
            (KeyRef::Keyed(a), KeyRef::Keyed(b)) => a.same_destination(b),
        }
    }

    /// The NLRI as the peer gets it (see [`NlriKey::emit`]).
    pub fn emit(&self, labels: &[u32], withdraw: bool, add_path: bool, out: &mut Vec<u8>) {
        match self {
            KeyRef::Plain(p) => {
                if add_path {
                    out.extend_from_slice(&[0; 4]);
                }
                p.emit(out)
            }
            KeyRef::Keyed(k) => k.emit(labels, withdraw, add_path, out),
        }
    }
}

impl PartialOrd for KeyRef<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for KeyRef<'_> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        use std::cmp::Ordering;
        // A plain key is (unicast family, no RD, the prefix, no path id).
        let plain_vs = |p: &Prefix, k: &NlriKey| -> Ordering {
            Family::new(p.afi(), Safi::Unicast)
                .cmp(&k.family)
                .then_with(|| None.cmp(&k.rd))
                .then_with(|| match &k.nlri {
                    Nlri::Prefix(q) => p.cmp(q),
                    Nlri::Flow(_) => Ordering::Less,
                })
                .then_with(|| None.cmp(&k.path_id))
        };
        match (self, other) {
            (KeyRef::Plain(p), KeyRef::Plain(q)) => p.cmp(q),
            (KeyRef::Plain(p), KeyRef::Keyed(k)) => plain_vs(p, k),
            (KeyRef::Keyed(k), KeyRef::Plain(p)) => plain_vs(p, k).reverse(),
            (KeyRef::Keyed(a), KeyRef::Keyed(b)) => a.cmp(b),
        }
    }
}

/// One route of a set, whichever storage it comes from.
#[derive(Clone, Debug)]
pub struct Entry<'a> {
    pub key: Cow<'a, NlriKey>,
    pub labels: &'a [u32],
    pub attrs: &'a Arc<RouteAttributes>,
}

/// An IPv4 prefix with an IPv6 next hop (RFC 8950).
pub fn ipv4_with_ipv6_next_hop(prefix: Prefix, attrs: &RouteAttributes) -> bool {
    matches!(
        (prefix.addr(), attrs.next_hop),
        (
            IpAddr::V4(_),
            NextHop::Address {
                global: IpAddr::V6(_),
                ..
            }
        )
    )
}

/// The key of a plain unicast route that still needs the MP encoding: an IPv4 prefix with
/// an IPv6 next hop (RFC 8950). `None` for any other route.
pub fn cross_family_key(prefix: Prefix, attrs: &RouteAttributes) -> Option<NlriKey> {
    ipv4_with_ipv6_next_hop(prefix, attrs)
        .then(|| NlriKey::of_prefix(Family::new(Afi::Ipv4, Safi::Unicast), None, prefix, None))
}
