//! The BGP wire codec: pure functions from bytes to values and back. No I/O, no clocks.

pub mod aspath;
pub mod attribute;
pub mod capability;
pub mod community;
pub mod error;
pub mod ext_community;
pub mod facts;
pub mod family;
pub mod family_counts;
pub mod flowspec;
pub mod labeled;
pub mod message;
pub mod nlri;
pub mod notification;
pub mod open;
pub mod pmsi;
pub mod prefix;
pub mod prefix_sid;
pub mod reader;
pub mod role;
pub mod sr_policy_tunnel;
pub mod tunnel_encap;
pub mod update;
pub mod update_writer;

#[cfg(test)]
mod tests;
