//! Compatibility names for the keyed routes (see [`super::key`]).

pub use super::key::{NlriKey, cross_family_key, ipv4_with_ipv6_next_hop};

/// The value of a keyed route.
pub type OtherRoute = super::key::RouteValue;
/// A keyed route.
pub type Other = super::route_set::Keyed;
