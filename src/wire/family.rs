//! Address families: AFI (RFC 4760 §3, IANA "Address Family Numbers") and SAFI.

use std::fmt;

/// Address Family Identifier. Unknown values round-trip.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Afi {
    Ipv4,
    Ipv6,
    Unknown(u16),
}

impl Afi {
    /// AFI 25 (RFC 4761, RFC 7432): EVPN and VPLS. Families other than IP keep the
    /// `Unknown` arm, so that every match on an IP family stays one of IPv4 or IPv6.
    pub const L2VPN: Afi = Afi::Unknown(25);
    /// AFI 16388 (RFC 9552): BGP-LS.
    pub const BGP_LS: Afi = Afi::Unknown(16388);

    pub fn from_u16(v: u16) -> Afi {
        match v {
            1 => Afi::Ipv4,
            2 => Afi::Ipv6,
            other => Afi::Unknown(other),
        }
    }
    pub fn to_u16(self) -> u16 {
        match self {
            Afi::Ipv4 => 1,
            Afi::Ipv6 => 2,
            Afi::Unknown(v) => v,
        }
    }
}

/// Subsequent Address Family Identifier. Unknown values round-trip.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Safi {
    Unicast,
    Multicast,
    /// RFC 8277 labeled unicast.
    MplsLabel,
    /// RFC 4364 VPN.
    MplsVpn,
    /// RFC 8955.
    FlowSpec,
    /// RFC 8955 §8.
    FlowSpecVpn,
    /// RFC 6514 MCAST-VPN.
    Mvpn,
    /// RFC 4761 (AFI 25).
    Vpls,
    /// RFC 7432 (AFI 25).
    Evpn,
    /// RFC 9552 (AFI 16388).
    BgpLs,
    /// RFC 9552 §5.2 (AFI 16388), with a route distinguisher.
    BgpLsVpn,
    /// RFC 9830 (draft-ietf-idr-sr-policy-safi).
    SrPolicy,
    /// draft-mpmz-bess-mup-safi.
    Mup,
    /// RFC 4684 route target constraint.
    Rtc,
    Unknown(u8),
}

impl Safi {
    pub fn from_u8(v: u8) -> Safi {
        match v {
            1 => Safi::Unicast,
            2 => Safi::Multicast,
            4 => Safi::MplsLabel,
            128 => Safi::MplsVpn,
            133 => Safi::FlowSpec,
            134 => Safi::FlowSpecVpn,
            5 => Safi::Mvpn,
            65 => Safi::Vpls,
            70 => Safi::Evpn,
            71 => Safi::BgpLs,
            72 => Safi::BgpLsVpn,
            73 => Safi::SrPolicy,
            85 => Safi::Mup,
            132 => Safi::Rtc,
            other => Safi::Unknown(other),
        }
    }
    pub fn to_u8(self) -> u8 {
        match self {
            Safi::Unicast => 1,
            Safi::Multicast => 2,
            Safi::MplsLabel => 4,
            Safi::MplsVpn => 128,
            Safi::FlowSpec => 133,
            Safi::FlowSpecVpn => 134,
            Safi::Mvpn => 5,
            Safi::Vpls => 65,
            Safi::Evpn => 70,
            Safi::BgpLs => 71,
            Safi::BgpLsVpn => 72,
            Safi::SrPolicy => 73,
            Safi::Mup => 85,
            Safi::Rtc => 132,
            Safi::Unknown(v) => v,
        }
    }
}

/// An (AFI, SAFI) pair, as negotiated by the multiprotocol capability.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Family {
    pub afi: Afi,
    pub safi: Safi,
}

impl Family {
    pub const IPV4_UNICAST: Family = Family {
        afi: Afi::Ipv4,
        safi: Safi::Unicast,
    };
    pub const IPV6_UNICAST: Family = Family {
        afi: Afi::Ipv6,
        safi: Safi::Unicast,
    };

    pub fn new(afi: Afi, safi: Safi) -> Family {
        Family { afi, safi }
    }

    /// AFI (2 octets) and SAFI (1), as in MP_REACH_NLRI, MP_UNREACH_NLRI, the multiprotocol
    /// capability and ROUTE-REFRESH.
    pub fn emit(self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.afi.to_u16().to_be_bytes());
        out.push(self.safi.to_u8());
    }
}

impl fmt::Display for Family {
    /// ExaBGP's names: `ipv4 unicast`, `ipv6 flow`, ...
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.afi {
            Afi::Ipv4 => write!(f, "ipv4")?,
            Afi::Ipv6 => write!(f, "ipv6")?,
            Afi::L2VPN => write!(f, "l2vpn")?,
            Afi::BGP_LS => write!(f, "bgp-ls")?,
            Afi::Unknown(v) => write!(f, "afi-{v}")?,
        }
        match self.safi {
            Safi::Unicast => write!(f, " unicast"),
            Safi::Multicast => write!(f, " multicast"),
            Safi::MplsLabel => write!(f, " nlri-mpls"),
            Safi::MplsVpn => write!(f, " mpls-vpn"),
            Safi::FlowSpec => write!(f, " flow"),
            Safi::FlowSpecVpn => write!(f, " flow-vpn"),
            Safi::Mvpn => write!(f, " mcast-vpn"),
            Safi::Vpls => write!(f, " vpls"),
            Safi::Evpn => write!(f, " evpn"),
            Safi::BgpLs => write!(f, " bgp-ls"),
            Safi::BgpLsVpn => write!(f, " bgp-ls-vpn"),
            Safi::SrPolicy => write!(f, " sr-policy"),
            Safi::Mup => write!(f, " mup"),
            Safi::Rtc => write!(f, " rtc"),
            Safi::Unknown(v) => write!(f, " safi-{v}"),
        }
    }
}

/// The one place family names are spelled: test-vector expectations, `decode --json` and
/// `context.add_path` all use these. A family not listed is `afi-N-safi-M`.
const FAMILY_NAMES: &[(Afi, Safi, &str)] = &[
    (Afi::Ipv4, Safi::Unicast, "ipv4-unicast"),
    (Afi::Ipv6, Safi::Unicast, "ipv6-unicast"),
    (Afi::Ipv4, Safi::Multicast, "ipv4-multicast"),
    (Afi::Ipv6, Safi::Multicast, "ipv6-multicast"),
    (Afi::Ipv4, Safi::MplsLabel, "ipv4-labeled-unicast"),
    (Afi::Ipv6, Safi::MplsLabel, "ipv6-labeled-unicast"),
    (Afi::Ipv4, Safi::MplsVpn, "ipv4-mpls-vpn"),
    (Afi::Ipv6, Safi::MplsVpn, "ipv6-mpls-vpn"),
    (Afi::Ipv4, Safi::FlowSpec, "ipv4-flowspec"),
    (Afi::Ipv6, Safi::FlowSpec, "ipv6-flowspec"),
    (Afi::Ipv4, Safi::FlowSpecVpn, "ipv4-flowspec-vpn"),
    (Afi::Ipv6, Safi::FlowSpecVpn, "ipv6-flowspec-vpn"),
    (Afi::L2VPN, Safi::Evpn, "l2vpn-evpn"),
    (Afi::L2VPN, Safi::Vpls, "l2vpn-vpls"),
    (Afi::Ipv4, Safi::Rtc, "ipv4-rtc"),
    (Afi::Ipv4, Safi::Mup, "ipv4-mup"),
    (Afi::Ipv6, Safi::Mup, "ipv6-mup"),
    (Afi::Ipv4, Safi::SrPolicy, "ipv4-srpolicy"),
    (Afi::Ipv6, Safi::SrPolicy, "ipv6-srpolicy"),
    (Afi::BGP_LS, Safi::BgpLs, "bgp-ls"),
    (Afi::BGP_LS, Safi::BgpLsVpn, "bgp-ls-vpn"),
    (Afi::Ipv4, Safi::Mvpn, "ipv4-mvpn"),
    (Afi::Ipv6, Safi::Mvpn, "ipv6-mvpn"),
];

impl Family {
    /// The stable name: `ipv4-unicast`, `ipv6-flowspec`, ..., or `afi-N-safi-M`.
    pub fn name(&self) -> String {
        FAMILY_NAMES
            .iter()
            .find(|(a, s, _)| *a == self.afi && *s == self.safi)
            .map(|(_, _, n)| (*n).to_string())
            .unwrap_or_else(|| format!("afi-{}-safi-{}", self.afi.to_u16(), self.safi.to_u8()))
    }

    /// The inverse of [`Family::name`].
    pub fn from_name(name: &str) -> Option<Family> {
        if let Some((a, s, _)) = FAMILY_NAMES.iter().find(|(_, _, n)| *n == name) {
            return Some(Family::new(*a, *s));
        }
        let rest = name.strip_prefix("afi-")?;
        let (afi, safi) = rest.split_once("-safi-")?;
        Some(Family::new(
            Afi::from_u16(afi.parse().ok()?),
            Safi::from_u8(safi.parse().ok()?),
        ))
    }
}

/// A set of named families (a bitset over the table above), `Copy` so that a decode context
/// stays a plain value. A family without a name cannot be a member: its NLRI is kept raw.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct FamilySet(u32);

const _: () = assert!(FAMILY_NAMES.len() <= u32::BITS as usize);

impl FamilySet {
    fn bit(f: Family) -> Option<u32> {
        FAMILY_NAMES
            .iter()
            .position(|(a, s, _)| *a == f.afi && *s == f.safi)
            .map(|i| 1 << i)
    }

    /// Adds `f`; `false` when it has no name and cannot be a member.
    pub fn insert(&mut self, f: Family) -> bool {
        let Some(b) = Self::bit(f) else {
            return false;
        };
        self.0 |= b;
        true
    }

    pub fn contains(&self, f: Family) -> bool {
        Self::bit(f).is_some_and(|b| self.0 & b != 0)
    }

    pub fn is_empty(&self) -> bool {
        self.0 == 0
    }

    /// The members, in the order of the name table.
    pub fn iter(&self) -> impl Iterator<Item = Family> + '_ {
        FAMILY_NAMES
            .iter()
            .enumerate()
            .filter(|(i, _)| self.0 & (1 << i) != 0)
            .map(|(_, (a, s, _))| Family::new(*a, *s))
    }
}

impl FromIterator<Family> for FamilySet {
    fn from_iter<I: IntoIterator<Item = Family>>(families: I) -> Self {
        let mut set = FamilySet::default();
        for f in families {
            set.insert(f);
        }
        set
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn family_set_holds_named_families_only() {
        let mut set: FamilySet = [Family::IPV6_UNICAST, Family::new(Afi::Ipv4, Safi::MplsVpn)]
            .into_iter()
            .collect();
        assert!(set.contains(Family::IPV6_UNICAST));
        assert!(!set.contains(Family::IPV4_UNICAST));
        assert!(!set.insert(Family::new(Afi::Unknown(25), Safi::Unicast)));
        assert_eq!(
            set.iter().map(|f| f.name()).collect::<Vec<_>>(),
            ["ipv6-unicast", "ipv4-mpls-vpn"]
        );
        assert!(FamilySet::default().is_empty());
    }

    #[test]
    fn names_round_trip() {
        for f in [
            Family::IPV4_UNICAST,
            Family::new(Afi::Ipv6, Safi::FlowSpec),
            Family::new(Afi::Unknown(99), Safi::Unknown(99)),
            Family::new(Afi::L2VPN, Safi::Evpn),
        ] {
            assert_eq!(Family::from_name(&f.name()), Some(f), "{}", f.name());
        }
        assert_eq!(
            Family::from_name("ipv4-mpls-vpn").map(|f| f.safi),
            Some(Safi::MplsVpn)
        );
        assert_eq!(Family::from_name("ipv5-unicast"), None);
    }
}
