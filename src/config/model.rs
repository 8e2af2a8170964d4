//! The typed configuration that the parser produces and the rest of the daemon uses.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::sync::Arc;

use crate::rib::attributes::RouteAttributes;
use crate::wire::family::Family;
use crate::wire::flowspec::FlowRule;
use crate::wire::prefix::Prefix;

/// RFC 4271 §4.2: the default hold time we propose (ExaBGP and BIRD use 180 s too... BIRD 240).
pub const DEFAULT_HOLD_TIME: u16 = 180;
/// RFC 4271 §8.2.1: the well-known BGP port.
pub const BGP_PORT: u16 = 179;

/// A place in a configuration file, 1-based line and column.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Location {
    pub file: Arc<PathBuf>,
    pub line: u32,
    pub column: u32,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file.display(), self.line, self.column)
    }
}

/// A whole configuration file (with its includes), validated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    pub neighbors: Vec<NeighborConfig>,
    /// Every file the configuration was read from (the main file first, then included
    /// files in the order read) and every directory an include glob was matched in:
    /// what `--watch` polls.
    pub sources: Vec<PathBuf>,
    /// `process NAME { ... }`: helper programs (src/api/process.rs runs them).
    pub processes: Vec<super::process::ProcessConfig>,
    /// `healthcheck NAME { ... }`: routes that follow a check command.
    pub healthchecks: Vec<super::healthcheck::HealthcheckConfig>,
}

/// One `neighbor ADDRESS { ... }` block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NeighborConfig {
    pub peer_address: IpAddr,
    pub description: Option<String>,
    /// Defaults to `local-address` when that is IPv4; the parser refuses a neighbor
    /// with neither.
    pub router_id: Ipv4Addr,
    /// Source address to bind (and, for a passive neighbor, the address to listen on).
    pub local_address: Option<IpAddr>,
    pub local_as: u32,
    pub peer_as: u32,
    /// 0 or 3..=65535.
    pub hold_time: u16,
    /// Wait for the peer to connect instead of connecting.
    pub passive: bool,
    /// `connect PORT;`: the peer's port we connect to (default 179).
    pub connect_port: u16,
    /// `listen PORT;`: the local port a passive neighbor listens on (default 179).
    pub listen_port: u16,
    /// Families to negotiate: the `family { }` block, or the families of the routes.
    pub families: Vec<Family>,
    pub routes: Vec<RouteConfig>,
    pub options: SessionOptions,
    /// `flow { route NAME { match { } then { } } }`: FlowSpec rules.
    pub flows: Vec<FlowConfig>,
    /// `api { processes [ NAME ]; }`: the helpers whose commands apply to this neighbor.
    pub api_processes: Vec<String>,
    /// Where `neighbor` was written.
    pub location: Location,
}

impl NeighborConfig {
    pub fn is_ebgp(&self) -> bool {
        self.local_as != self.peer_as
    }
}

/// Session-level options beyond addresses, ASNs and timers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionOptions {
    /// RFC 4724 restart time to advertise; `None`: no graceful restart capability.
    pub graceful_restart: Option<u16>,
    /// RFC 2385 TCP MD5 key (after `md5-base64` decoding).
    pub md5_password: Option<Vec<u8>>,
    /// `md5-base64 true;`: the password is written in base64.
    pub md5_base64: bool,
    /// RFC 5082: TTL (hop limit) of our packets.
    pub outgoing_ttl: Option<u8>,
    /// RFC 5082: the smallest TTL accepted from the peer (IP_MINTTL).
    pub incoming_ttl: Option<u8>,
    /// Advertise the RFC 6793 4-octet AS capability (ExaBGP `capability { asn4 disable; }`).
    pub four_octet_as: bool,
    /// Advertise the RFC 2918 route refresh capability.
    pub route_refresh: bool,
}

impl Default for SessionOptions {
    fn default() -> Self {
        SessionOptions {
            graceful_restart: None,
            md5_password: None,
            md5_base64: false,
            outgoing_ttl: None,
            incoming_ttl: None,
            four_octet_as: true,
            route_refresh: true,
        }
    }
}

/// One `route PREFIX ...;` statement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteConfig {
    pub prefix: Prefix,
    pub attributes: RouteAttributes,
    pub location: Location,
}

/// One `flow { route NAME { ... } }` rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlowConfig {
    pub name: String,
    pub rule: FlowRule,
    /// Actions as extended communities; the next hop only for a redirect to an IP.
    pub attributes: RouteAttributes,
    pub location: Location,
}
