//! What a receiving peer is asked to be: one neighbor, one session, every route accepted.

use std::net::{IpAddr, Ipv4Addr};

/// An address family a receiver negotiates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    Ipv4Unicast,
    Ipv6Unicast,
    /// RFC 8955 (SAFI 133); read with the peers' `flow_routes()` (`flows.rs`).
    Ipv4Flowspec,
    /// RFC 8956.
    Ipv6Flowspec,
}

impl Family {
    /// The `afi` argument of the peers' `routes()`.
    pub fn afi(self) -> &'static str {
        match self {
            Family::Ipv4Unicast | Family::Ipv4Flowspec => "ipv4",
            Family::Ipv6Unicast | Family::Ipv6Flowspec => "ipv6",
        }
    }

    pub fn is_flowspec(self) -> bool {
        matches!(self, Family::Ipv4Flowspec | Family::Ipv6Flowspec)
    }
}

/// A receiver of one neighbor: listens on `listen:port`, accepts a session from `neighbor`
/// (AS `neighbor_as`), accepts every route and announces nothing.
#[derive(Clone, Debug)]
pub struct ReceiverSpec {
    /// Address the peer binds and listens on (127.0.0.x or ::1).
    pub listen: IpAddr,
    pub port: u16,
    pub local_as: u32,
    pub router_id: Ipv4Addr,
    pub neighbor: IpAddr,
    pub neighbor_as: u32,
    /// The port the receiver connects to when it is not passive.
    pub neighbor_port: u16,
    pub families: Vec<Family>,
    /// Only accept the session, never connect.
    pub passive: bool,
    /// Announce the 4-octet AS capability (RFC 6793). `false` makes the peer a 2-byte-AS
    /// speaker; only [`super::openbgpd::Openbgpd`] and [`super::exabgp::Exabgp`] can do that,
    /// the others panic.
    pub four_octet_as: bool,
}

impl ReceiverSpec {
    /// A passive eBGP/iBGP receiver of IPv4 and IPv6 unicast, 4-octet AS capable.
    pub fn new(
        listen: IpAddr,
        port: u16,
        local_as: u32,
        neighbor: IpAddr,
        neighbor_as: u32,
    ) -> Self {
        ReceiverSpec {
            listen,
            port,
            local_as,
            router_id: Ipv4Addr::new(192, 0, 2, 254),
            neighbor,
            neighbor_as,
            neighbor_port: 179,
            families: vec![Family::Ipv4Unicast, Family::Ipv6Unicast],
            passive: true,
            four_octet_as: true,
        }
    }

    pub fn is_ibgp(&self) -> bool {
        self.local_as == self.neighbor_as
    }

    pub fn has(&self, family: Family) -> bool {
        self.families.contains(&family)
    }
}

/// What every receiver in this harness offers, so one test body runs against each of them.
pub trait Receiver: Sized {
    /// Short name used in failure messages (`frr`, `gobgp`, ...).
    const NAME: &'static str;
    /// Starts the peer; panics with its log when it cannot be installed or started.
    fn start(spec: &ReceiverSpec) -> Self;
    fn wait_established(&self, timeout: std::time::Duration) -> bool;
    /// The routes of `afi` (`ipv4` or `ipv6`) unicast, normalised, sorted by prefix.
    fn routes(&self, afi: &str) -> Vec<super::ReceivedRoute>;
    /// The peer's own log (stdout and stderr).
    fn log(&self) -> String;
    fn stop(&mut self);
}

macro_rules! impl_receiver {
    ($ty:ty, $name:literal) => {
        impl Receiver for $ty {
            const NAME: &'static str = $name;
            fn start(spec: &ReceiverSpec) -> Self {
                <$ty>::start(spec)
            }
            fn wait_established(&self, timeout: std::time::Duration) -> bool {
                <$ty>::wait_established(self, timeout)
            }
            fn routes(&self, afi: &str) -> Vec<super::ReceivedRoute> {
                <$ty>::routes(self, afi)
            }
            fn log(&self) -> String {
                <$ty>::log(self)
            }
            fn stop(&mut self) {
                <$ty>::stop(self)
            }
        }
    };
}

impl_receiver!(super::bird::BirdReceiver, "bird");
impl_receiver!(super::frr::Frr, "frr");
impl_receiver!(super::gobgp::Gobgp, "gobgp");
impl_receiver!(super::openbgpd::Openbgpd, "openbgpd");
impl_receiver!(super::exabgp::Exabgp, "exabgp");
