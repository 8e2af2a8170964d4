//! bgpinject: a BGP route injector.

pub mod cli;
pub mod config;
pub mod rib;
pub mod session;
pub mod testvec;
pub mod wire;
