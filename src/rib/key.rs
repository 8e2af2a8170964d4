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
use crate::wire::nlri::FamilyNlri;
use crate::wire::prefix::Prefix;

/// The NLRI proper: a prefix, a FlowSpec rule, or the NLRI of a family whose codec lives in
/// `wire::nlri` (EVPN, VPLS, RTC, MUP, SR Policy, MCAST-VPN, FlowSpec VPN), each emitted by
/// its arm in [`NlriKey::emit`].
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Nlri {
    /// A prefix: unicast, multicast, labeled unicast, MPLS VPN (with the key's RD).
    Prefix(Prefix),
    /// A FlowSpec rule (RFC 8955, RFC 8956).
    Flow(Box<FlowRule>),
    /// The NLRI of a `wire::nlri` family, whole: its route distinguisher and labels are
    /// inside it (the key's `rd` stays `None`).
    Family(Box<FamilyNlri>),
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

    /// The key of a FlowSpec rule with an RFC 7911 path identifier.
    pub fn flow_path(rule: FlowRule, path_id: Option<u32>) -> NlriKey {
        NlriKey {
            path_id,
            ..NlriKey::flow(rule)
        }
    }

    /// The key of the NLRI of a `wire::nlri` family (`family` says which: the NLRI alone
    /// does not always, as for MUP).
    pub fn of_family(family: Family, nlri: FamilyNlri, path_id: Option<u32>) -> NlriKey {
        NlriKey {
            family,
            rd: None,
            nlri: Nlri::Family(Box::new(nlri)),
            path_id,
        }
    }

    /// The prefix, for the families whose NLRI is one.
    pub fn prefix(&self) -> Option<Prefix> {
        match &self.nlri {
            Nlri::Prefix(p) => Some(*p),
            Nlri::Flow(_) | Nlri::Family(_) => None,
        }
    }

    /// The rule of a FlowSpec key.
    pub fn flow_rule(&self) -> Option<&FlowRule> {
        match &self.nlri {
            Nlri::Flow(r) => Some(r),
            Nlri::Prefix(_) | Nlri::Family(_) => None,
        }
    }

    /// The NLRI of a `wire::nlri` family.
    pub fn family_nlri(&self) -> Option<&FamilyNlri> {
        match &self.nlri {
            Nlri::Family(n) => Some(n),
            Nlri::Prefix(_) | Nlri::Flow(_) => None,
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
            Nlri::Flow(_) | Nlri::Family(_) => false,
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
        if let Nlri::Prefix(prefix) = &self.nlri
            && labeled::is_labeled(self.family)
        {
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
            .emit(out);
            return;
        }
        // RFC 7911 §3: the path identifier precedes the NLRI of any family (a FlowSpec
        // rule's length octets included).
        if let Some(id) = path_id {
            out.extend_from_slice(&id.to_be_bytes());
        }
        match &self.nlri {
            Nlri::Prefix(prefix) => prefix.emit(out),
            Nlri::Flow(rule) => rule.emit(out),
            Nlri::Family(nlri) => nlri.emit(out),
        }
    }
}

impl fmt::Display for NlriKey {
    /// `show adj-rib out`'s words: `ipv4 mpls-vpn 10.1.0.0/16 rd 65000:7 [path-information ID]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.nlri {
            Nlri::Prefix(p) => write!(f, "{} {p}", self.family)?,
            // The rule writes its own `flow ipv4` and RD.
            Nlri::Flow(rule) => return write!(f, "{rule}"),
            // The API's words after `announce`: `evpn ...`, `rtc ...`, `ipv4 mup ...`.
            Nlri::Family(nlri) => match (self.family.afi, self.family.safi) {
                (Afi::L2VPN, _) | (_, Safi::Rtc) => write!(f, "{nlri}")?,
                (Afi::Ipv6, _) => write!(f, "ipv6 {nlri}")?,
                _ => write!(f, "ipv4 {nlri}")?,
            },
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
                    Nlri::Flow(_) | Nlri::Family(_) => Ordering::Less,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rib::packer::{self, SessionParams};
    use crate::rib::route_set::{RouteDiff, RouteSet};
    use crate::wire::attribute::{MpNextHop, MpNlri, PathAttribute};
    use crate::wire::message::{DecodeContext, MAX_MESSAGE_LEN, Message};
    use crate::wire::nlri::words;

    const EVPN: Family = Family {
        afi: Afi::L2VPN,
        safi: Safi::Evpn,
    };

    fn key(text: &str, family: Family) -> NlriKey {
        let words: Vec<&str> = text.split_whitespace().collect();
        let (nlri, used) = words::parse(&words).unwrap();
        assert_eq!(used, words.len());
        NlriKey::of_family(family, nlri, None)
    }

    fn params(families: Vec<Family>) -> SessionParams {
        SessionParams {
            group_updates: true,
            four_octet_as: true,
            ebgp: true,
            local_as: 65000,
            local_address: "127.0.0.2".parse().unwrap(),
            families,
            max_message_len: MAX_MESSAGE_LEN,
            add_path: Vec::new(),
            extended_next_hop: Vec::new(),
            local_link_local: None,
            confederation: Default::default(),
            role: None,
        }
    }

    /// The MP attribute of each UPDATE: (reach, next hop, NLRI octets).
    fn mp(bytes: &[u8]) -> Vec<(bool, Option<MpNextHop>, Vec<u8>)> {
        let mut out = Vec::new();
        for m in packer::split_messages(bytes) {
            let (m, problems) = Message::decode(m, DecodeContext::default()).unwrap();
            assert!(problems.is_empty(), "{problems:?}");
            let Message::Update(u) = m else {
                panic!("not an UPDATE")
            };
            for a in u.attributes {
                match a {
                    PathAttribute::MpReach(r) => match r.nlri {
                        MpNlri::Raw(b) => out.push((true, Some(r.next_hop), b)),
                        other => panic!("{other:?}"),
                    },
                    PathAttribute::MpUnreach(r) => match r.nlri {
                        MpNlri::Raw(b) => out.push((false, None, b)),
                        other => panic!("{other:?}"),
                    },
                    _ => {}
                }
            }
        }
        out
    }

    /// RFC 7432 §7.3 by hand: route type 3, length 17, RD type 1 192.0.2.2:100, Ethernet tag
    /// 0, IP length 32, 192.0.2.2; the IPv4 next hop in 4 octets; the withdrawal carries the
    /// same NLRI in MP_UNREACH_NLRI; a family not negotiated is held back.
    #[test]
    fn an_evpn_route_is_announced_withdrawn_and_held_back() {
        let k = key(
            "evpn multicast rd 192.0.2.2:100 ethernet-tag 0 ip 192.0.2.2",
            EVPN,
        );
        assert_eq!(
            k.to_string(),
            "evpn multicast rd 192.0.2.2:100 ethernet-tag 0 ip 192.0.2.2"
        );
        let nlri = [
            3, 17, 0, 1, 192, 0, 2, 2, 0, 100, 0, 0, 0, 0, 32, 192, 0, 2, 2,
        ];
        let attrs = Arc::new(RouteAttributes::with_next_hop(NextHop::Address {
            global: "192.0.2.2".parse().unwrap(),
            link_local: None,
        }));
        let value = RouteValue {
            labels: Vec::new(),
            attrs,
        };
        let set = RouteSet::new(Vec::new()).with_others(vec![(k.clone(), value)]);
        let packed = packer::pack_table(&set, &params(vec![EVPN]));
        let nh = MpNextHop::Raw(vec![192, 0, 2, 2]);
        assert_eq!(mp(&packed.bytes), vec![(true, Some(nh), nlri.to_vec())]);
        assert_eq!(packed.announced, 1);

        let diff = RouteDiff::new(vec![k], RouteSet::new(Vec::new()));
        let packed = packer::pack(&diff, &params(vec![EVPN]));
        assert_eq!(mp(&packed.bytes), vec![(false, None, nlri.to_vec())]);

        let packed = packer::pack_table(&set, &params(vec![Family::IPV4_UNICAST]));
        assert!(packed.bytes.is_empty());
        assert_eq!(packed.held_back, vec![(EVPN, 1)]);

        let eor = packer::end_of_rib(EVPN, &params(vec![EVPN]));
        assert_eq!(mp(&eor), vec![(false, None, Vec::new())]);
    }

    /// RFC 4684 §4: origin AS 65019, route target 0x0002 65019:100, 96 bits.
    #[test]
    fn an_rtc_route_has_its_length_in_bits() {
        let k = key(
            "rtc origin 65019 route-target target:65019:100",
            Family::new(Afi::Ipv4, Safi::Rtc),
        );
        let mut out = Vec::new();
        k.emit(&[], false, false, &mut out);
        assert_eq!(out, [96, 0, 0, 0xfd, 0xfb, 0, 2, 0xfd, 0xfb, 0, 0, 0, 100]);
        out.clear();
        k.emit(&[], false, true, &mut out);
        assert_eq!(out[..5], [0, 0, 0, 0, 96]);
    }

    fn dest_rule(third: u8, rd: Option<&str>) -> FlowRule {
        use crate::wire::flowspec::{FlowComponent, FlowPrefix};
        let prefix = FlowPrefix {
            addr: IpAddr::from([10, 0, third, 0]),
            len: 24,
            offset: 0,
        };
        let rule = FlowRule::new(Afi::Ipv4, vec![FlowComponent::Destination(prefix)]).unwrap();
        rule.with_rd(rd.map(|t| t.parse().unwrap())).unwrap()
    }

    #[test]
    fn flow_nlri_has_the_path_id_before_its_length_with_add_path() {
        // RFC 7911 §3: Path Identifier (4 octets), then the NLRI as the family encodes it;
        // RFC 8955 §4: length 5, type 1 (destination) /24 10.0.0.
        let key = NlriKey::flow_path(dest_rule(0, None), Some(1));
        let mut out = Vec::new();
        key.emit(&[], false, true, &mut out);
        assert_eq!(out, [0, 0, 0, 1, 0x05, 0x01, 0x18, 10, 0, 0]);
        // Without ADD-PATH for the family: the rule alone.
        out.clear();
        key.emit(&[], false, false, &mut out);
        assert_eq!(out, [0x05, 0x01, 0x18, 10, 0, 0]);
        // A rule without path-information goes as path 0 with ADD-PATH.
        out.clear();
        NlriKey::flow(dest_rule(0, None)).emit(&[], false, true, &mut out);
        assert_eq!(out, [0, 0, 0, 0, 0x05, 0x01, 0x18, 10, 0, 0]);
    }

    #[test]
    fn flow_vpn_nlri_has_the_path_id_before_its_length_with_add_path() {
        // RFC 8955 §8: length 13 = RD (8: type 0, ASN 65000, 1) + the 5 octets of the rule.
        let key = NlriKey::flow_path(dest_rule(1, Some("65000:1")), Some(3));
        let mut out = Vec::new();
        key.emit(&[], false, true, &mut out);
        assert_eq!(
            out,
            [
                0, 0, 0, 3, 0x0d, 0, 0, 0xfd, 0xe8, 0, 0, 0, 1, 0x01, 0x18, 10, 0, 1
            ]
        );
    }

    #[test]
    fn two_path_ids_of_one_rule_are_two_keys() {
        let a = NlriKey::flow_path(dest_rule(0, None), Some(1));
        let b = NlriKey::flow_path(dest_rule(0, None), Some(2));
        assert_ne!(a, b);
        assert!(a.same_destination(&b));
    }

    #[test]
    fn flow_nlri_with_path_ids_decode_and_short_input_is_an_error() {
        use crate::wire::flowspec::decode_nlri_paths;
        use crate::wire::nlri::flow_vpn::decode_rule_paths;
        let bytes = [
            0, 0, 0, 1, 0x05, 0x01, 0x18, 10, 0, 0, 0, 0, 0, 2, 0x05, 0x01, 0x18, 10, 0, 0,
        ];
        let got = decode_nlri_paths(&bytes, Afi::Ipv4).unwrap();
        assert_eq!(got, vec![(1, dest_rule(0, None)), (2, dest_rule(0, None))]);
        let vpn = [
            0, 0, 0, 3, 0x0d, 0, 0, 0xfd, 0xe8, 0, 0, 0, 1, 0x01, 0x18, 10, 0, 1,
        ];
        let got = decode_rule_paths(&vpn, Afi::Ipv4).unwrap();
        assert_eq!(got, vec![(3, dest_rule(1, Some("65000:1")))]);
        for n in 0..bytes.len() {
            if n % 10 != 0 {
                assert!(decode_nlri_paths(&bytes[..n], Afi::Ipv4).is_err(), "{n}");
            }
        }
        for n in 1..vpn.len() {
            assert!(decode_rule_paths(&vpn[..n], Afi::Ipv4).is_err(), "{n}");
        }
    }

    /// Two paths of one rule and a flow-vpn path, packed for a session with ADD-PATH for
    /// both families, decode back to the same keys (the debug-build selfcheck); without
    /// ADD-PATH, one path of the rule goes and the check still holds.
    #[test]
    fn flow_paths_pack_and_pass_the_selfcheck() {
        let flow = Family::new(Afi::Ipv4, Safi::FlowSpec);
        let vpn = Family::new(Afi::Ipv4, Safi::FlowSpecVpn);
        let attrs = Arc::new(RouteAttributes::with_next_hop(NextHop::Absent));
        let value = RouteValue {
            labels: Vec::new(),
            attrs,
        };
        let set = RouteSet::new(Vec::new()).with_others(vec![
            (
                NlriKey::flow_path(dest_rule(0, None), Some(1)),
                value.clone(),
            ),
            (
                NlriKey::flow_path(dest_rule(0, None), Some(2)),
                value.clone(),
            ),
            (
                NlriKey::flow_path(dest_rule(1, Some("65000:1")), Some(3)),
                value,
            ),
        ]);
        let diff = RouteSet::new(Vec::new()).diff(&set);
        let mut with = params(vec![flow, vpn]);
        with.add_path = vec![flow, vpn];
        let packed = packer::pack(&diff, &with);
        assert_eq!(packed.announced, 3);
        crate::rib::selfcheck::verify(&diff, &with, &packed).unwrap();
        let hex: String = packed.bytes.iter().map(|b| format!("{b:02x}")).collect();
        assert!(hex.contains("000000010501180a0000"), "{hex}");
        assert!(hex.contains("000000020501180a0000"), "{hex}");
        assert!(
            hex.contains("000000030d0000fde80000000101180a0001"),
            "{hex}"
        );
        let without = params(vec![flow, vpn]);
        let packed = packer::pack(&diff, &without);
        assert_eq!(packed.announced, 2);
        crate::rib::selfcheck::verify(&diff, &without, &packed).unwrap();
    }
}
