//! bgpinject: a BGP route injector.

pub mod api;
pub mod bfd;
pub mod cli;
pub mod config;
pub mod descriptors;
pub mod events;
pub mod logging;
pub mod manager;
pub mod metrics;
pub mod pidfile;
pub mod reload_plan;
pub mod rib;
pub mod route_sets;
pub mod session;
pub mod testvec;
pub mod watch;
pub mod wire;
