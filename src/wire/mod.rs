//! The BGP wire codec: pure functions from bytes to values and back. No I/O, no clocks.

pub mod aspath;
pub mod community;
pub mod family;
pub mod prefix;
