//! Routes that are not plain unicast: labeled unicast, MPLS VPN, multicast, several paths of
//! one prefix (ADD-PATH) and IPv4 routes with an IPv6 next hop. They live in their own sorted
//! list of a `RouteSet`, keyed by [`NlriKey`], so the unicast fast path is untouched.

use std::collections::HashSet;
use std::sync::Arc;

use std::net::IpAddr;

use super::attributes::{NextHop, RouteAttributes};
use crate::wire::family::{Afi, Family, Safi};
use crate::wire::labeled::RouteDistinguisher;
use crate::wire::prefix::Prefix;

/// What identifies one such route to the peer. Labels are not part of it: a label change is
/// an implicit replace of the same NLRI.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NlriKey {
    pub family: Family,
    pub rd: Option<RouteDistinguisher>,
    pub prefix: Prefix,
    /// RFC 7911 path identifier; `None` sorts first.
    pub path_id: Option<u32>,
}

impl NlriKey {
    /// The key without its path identifier: the paths of one prefix share it.
    pub fn destination(&self) -> (Family, Option<RouteDistinguisher>, Prefix) {
        (self.family, self.rd, self.prefix)
    }
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
    ipv4_with_ipv6_next_hop(prefix, attrs).then_some(NlriKey {
        family: Family::new(Afi::Ipv4, Safi::Unicast),
        rd: None,
        prefix,
        path_id: None,
    })
}

/// The value of an [`NlriKey`]: its label values (empty for unlabeled families) and attributes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OtherRoute {
    pub labels: Vec<u32>,
    pub attrs: Arc<RouteAttributes>,
}

pub type Other = (NlriKey, OtherRoute);

fn same(a: &OtherRoute, b: &OtherRoute) -> bool {
    a.labels == b.labels && (Arc::ptr_eq(&a.attrs, &b.attrs) || a.attrs == b.attrs)
}

/// The merge walk of two sorted lists. Keys only in `old` are withdrawn. When anything about
/// a destination changed (a path added, removed or changed), every path it has in `new` is
/// announced: a session without ADD-PATH sends one path per destination and must be able to
/// pick it from the diff alone. Re-announcing an unchanged path is an implicit replace with
/// the same value, harmless to the peer.
pub fn diff_others(
    old: &[Other],
    new: &[Other],
    withdraw: &mut Vec<NlriKey>,
    announce: &mut Vec<Other>,
) {
    let mut changed = HashSet::new();
    let (mut a, mut b) = (old.iter().peekable(), new.iter().peekable());
    loop {
        match (a.peek(), b.peek()) {
            (None, None) => break,
            (Some((k, _)), None) => {
                withdraw.push(*k);
                changed.insert(k.destination());
                a.next();
            }
            (None, Some((k, _))) => {
                changed.insert(k.destination());
                b.next();
            }
            (Some((ka, va)), Some((kb, vb))) => {
                if ka < kb {
                    withdraw.push(*ka);
                    changed.insert(ka.destination());
                    a.next();
                } else if kb < ka {
                    changed.insert(kb.destination());
                    b.next();
                } else {
                    if !same(va, vb) {
                        changed.insert(kb.destination());
                    }
                    a.next();
                    b.next();
                }
            }
        }
    }
    announce.extend(
        new.iter()
            .filter(|(k, _)| changed.contains(&k.destination()))
            .cloned(),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rib::attributes::NextHop;
    use crate::wire::family::{Afi, Safi};

    fn attrs(med: u32) -> Arc<RouteAttributes> {
        let mut a = RouteAttributes::with_next_hop(NextHop::Address {
            global: "192.0.2.1".parse().unwrap(),
            link_local: None,
        });
        a.set(crate::wire::attribute::PathAttribute::Med(med));
        Arc::new(a)
    }

    fn key(prefix: &str, path_id: Option<u32>) -> NlriKey {
        let (a, l) = prefix.split_once('/').unwrap();
        NlriKey {
            family: Family::new(Afi::Ipv4, Safi::MplsVpn),
            rd: Some("65000:1".parse().unwrap()),
            prefix: Prefix::new(a.parse().unwrap(), l.parse().unwrap()).unwrap(),
            path_id,
        }
    }

    fn route(labels: &[u32], med: u32) -> OtherRoute {
        OtherRoute {
            labels: labels.to_vec(),
            attrs: attrs(med),
        }
    }

    #[test]
    fn label_change_is_a_replace_and_a_changed_destination_resends_all_its_paths() {
        let old = vec![
            (key("198.51.100.0/24", Some(1)), route(&[100], 1)),
            (key("198.51.100.0/24", Some(2)), route(&[100], 1)),
            (key("203.0.113.0/24", None), route(&[100], 1)),
        ];
        let new = vec![
            (key("198.51.100.0/24", Some(2)), route(&[100], 1)),
            (key("203.0.113.0/24", None), route(&[200], 1)),
        ];
        let (mut w, mut a) = (Vec::new(), Vec::new());
        diff_others(&old, &new, &mut w, &mut a);
        assert_eq!(w, vec![key("198.51.100.0/24", Some(1))]);
        let keys: Vec<NlriKey> = a.iter().map(|o| o.0).collect();
        assert_eq!(
            keys,
            vec![key("198.51.100.0/24", Some(2)), key("203.0.113.0/24", None)]
        );
        let (mut w, mut a) = (Vec::new(), Vec::new());
        diff_others(&new, &new, &mut w, &mut a);
        assert!(w.is_empty() && a.is_empty());
    }
}
