//! BGP Role (RFC 9234): the relationship a speaker declares in its OPEN, which roles may
//! form a session together, and the Only-to-Customer (OTC) egress rules that follow from it.

use std::fmt;

use super::family::{Afi, Family, Safi};

/// RFC 9234 §4.1: the value of the BGP Role capability (code 9, one octet).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    Provider,
    /// Route server.
    Rs,
    RsClient,
    Customer,
    Peer,
}

/// The roles by wire value (RFC 9234 §4.1, Table 1) and by ExaBGP's configuration name.
const ROLES: &[(Role, u8, &str)] = &[
    (Role::Provider, 0, "provider"),
    (Role::Rs, 1, "rs"),
    (Role::RsClient, 2, "rs-client"),
    (Role::Customer, 3, "customer"),
    (Role::Peer, 4, "peer"),
];

impl Role {
    /// `None` for a value RFC 9234 does not assign (5-255).
    pub fn from_u8(value: u8) -> Option<Role> {
        ROLES.iter().find(|r| r.1 == value).map(|r| r.0)
    }

    pub fn to_u8(self) -> u8 {
        ROLES.iter().find(|r| r.0 == self).map_or(0, |r| r.1)
    }

    /// ExaBGP's name (`role { local NAME; }`), also BIRD's but for `rs-server`.
    pub fn name(self) -> &'static str {
        ROLES.iter().find(|r| r.0 == self).map_or("", |r| r.2)
    }

    pub fn from_name(name: &str) -> Option<Role> {
        ROLES.iter().find(|r| r.2 == name).map(|r| r.0)
    }

    /// Every configuration name, for error messages.
    pub fn names() -> impl Iterator<Item = &'static str> {
        ROLES.iter().map(|r| r.2)
    }

    /// RFC 9234 §4.2, Table 2: the only role the peer may declare.
    pub fn complement(self) -> Role {
        match self {
            Role::Provider => Role::Customer,
            Role::Customer => Role::Provider,
            Role::Rs => Role::RsClient,
            Role::RsClient => Role::Rs,
            Role::Peer => Role::Peer,
        }
    }

    /// RFC 9234 §5, egress rule 1: a route sent to a customer, a peer or an RS-client (we
    /// are provider, peer or RS) gets OTC = our AS when it has none.
    pub fn marks_egress(self) -> bool {
        matches!(self, Role::Provider | Role::Peer | Role::Rs)
    }

    /// RFC 9234 §5, egress rule 2: a route that already has OTC MUST NOT go to a provider,
    /// a peer or an RS (we are customer, peer or RS-client).
    pub fn refuses_otc_routes(self) -> bool {
        matches!(self, Role::Customer | Role::Peer | Role::RsClient)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// RFC 9234 §1: the role procedures apply to IPv4 and IPv6 unicast only.
pub fn applies_to(family: Family) -> bool {
    family.safi == Safi::Unicast && matches!(family.afi, Afi::Ipv4 | Afi::Ipv6)
}

/// Why the peer's OPEN does not fit our role (RFC 9234 §4.2): each is a Role Mismatch
/// (NOTIFICATION 2/11).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RoleMismatch {
    /// The peer declared a role that does not pair with ours.
    Pair { local: Role, peer: Role },
    /// A Role capability with a value RFC 9234 does not assign.
    Unassigned(u8),
    /// More than one Role capability, with different values.
    Conflicting(Vec<u8>),
    /// Strict mode and the peer sent no Role capability.
    Missing { local: Role },
}

impl fmt::Display for RoleMismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RoleMismatch::Pair { local, peer } => write!(
                f,
                "peer declares role {peer}, ours is {local}: it must be {} (RFC 9234 §4.2)",
                local.complement()
            ),
            RoleMismatch::Unassigned(v) => {
                write!(
                    f,
                    "peer declares role value {v}, which RFC 9234 does not assign"
                )
            }
            RoleMismatch::Conflicting(v) => {
                write!(f, "peer sent Role capabilities with different values {v:?}")
            }
            RoleMismatch::Missing { local } => write!(
                f,
                "peer sent no Role capability and our role {local} is strict (RFC 9234 §4.2)"
            ),
        }
    }
}

/// RFC 9234 §4.2: checks the Role capability values the peer sent (`received`, in order)
/// against our `local` role; `Ok(Some(role))`: the peer's declared role.
/// Without a local role nothing is negotiated, but conflicting values still do not form a
/// session.
pub fn negotiate(
    local: Option<Role>,
    strict: bool,
    received: &[u8],
) -> Result<Option<Role>, RoleMismatch> {
    let Some(&first) = received.first() else {
        return match local {
            Some(local) if strict => Err(RoleMismatch::Missing { local }),
            _ => Ok(None),
        };
    };
    if received.iter().any(|&v| v != first) {
        return Err(RoleMismatch::Conflicting(received.to_vec()));
    }
    let Some(local) = local else {
        return Ok(Role::from_u8(first));
    };
    let peer = Role::from_u8(first).ok_or(RoleMismatch::Unassigned(first))?;
    if peer != local.complement() {
        return Err(RoleMismatch::Pair { local, peer });
    }
    Ok(Some(peer))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_five_allowed_pairs_form_a_session_and_no_other() {
        // RFC 9234 Table 2, written out rather than derived from `complement`.
        let allowed = [(0, 3), (3, 0), (1, 2), (2, 1), (4, 4)];
        for local in 0..=4u8 {
            for peer in 0..=255u8 {
                let l = Role::from_u8(local).unwrap();
                let ok = negotiate(Some(l), false, &[peer]).is_ok();
                assert_eq!(ok, allowed.contains(&(local, peer)), "{local} {peer}");
            }
        }
    }

    #[test]
    fn strict_refuses_a_peer_without_role_and_lenient_accepts_it() {
        assert_eq!(
            negotiate(Some(Role::Provider), true, &[]),
            Err(RoleMismatch::Missing {
                local: Role::Provider
            })
        );
        assert_eq!(negotiate(Some(Role::Provider), false, &[]), Ok(None));
        assert_eq!(negotiate(None, true, &[]), Ok(None));
    }

    #[test]
    fn duplicates_agree_or_mismatch() {
        assert_eq!(
            negotiate(Some(Role::Customer), false, &[0, 0]),
            Ok(Some(Role::Provider))
        );
        assert_eq!(
            negotiate(Some(Role::Customer), false, &[0, 4]),
            Err(RoleMismatch::Conflicting(vec![0, 4]))
        );
        assert!(negotiate(None, false, &[0, 4]).is_err());
        // Without a role of our own, an unassigned value is only informational.
        assert_eq!(negotiate(None, false, &[9]), Ok(None));
        assert_eq!(
            negotiate(Some(Role::Peer), false, &[9]),
            Err(RoleMismatch::Unassigned(9))
        );
    }

    #[test]
    fn names_and_values_round_trip() {
        for v in 0..=4 {
            let r = Role::from_u8(v).unwrap();
            assert_eq!(r.to_u8(), v);
            assert_eq!(Role::from_name(r.name()), Some(r));
        }
        assert_eq!(Role::from_name("rs-server"), None);
        assert_eq!(Role::from_u8(5), None);
    }

    #[test]
    fn egress_rules_by_role() {
        use Role::*;
        let mark: Vec<Role> = [Provider, Rs, RsClient, Customer, Peer]
            .into_iter()
            .filter(|r| r.marks_egress())
            .collect();
        assert_eq!(mark, [Provider, Rs, Peer]);
        let refuse: Vec<Role> = [Provider, Rs, RsClient, Customer, Peer]
            .into_iter()
            .filter(|r| r.refuses_otc_routes())
            .collect();
        assert_eq!(refuse, [RsClient, Customer, Peer]);
        assert!(applies_to(Family::IPV4_UNICAST));
        assert!(applies_to(Family::IPV6_UNICAST));
        assert!(!applies_to(Family::new(Afi::Ipv4, Safi::FlowSpec)));
    }
}
