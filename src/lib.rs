//! bgpinject: a BGP route injector.

pub mod cli;
pub mod config;
pub mod manager;
pub mod rib;
pub mod session;
pub mod wire;
