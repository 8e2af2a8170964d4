//! The typed configuration that the parser produces and the rest of the daemon uses.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::sync::Arc;

use crate::rib::attributes::RouteAttributes;
use crate::rib::other_nlri::{self, NlriKey};
use crate::rib::route_set::Route;
use crate::wire::capability::AddPathMode;
use crate::wire::family::{Afi, Family, Safi};
use crate::wire::flowspec::FlowRule;
use crate::wire::labeled::RouteDistinguisher;
use crate::wire::prefix::Prefix;

/// RFC 4271 §4.2: the default hold time we propose (ExaBGP and BIRD use 180 s too... BIRD 240).
pub const DEFAULT_HOLD_TIME: u16 = 180;
/// RFC 4271 §8.2.1: the well-known BGP port.
pub const BGP_PORT: u16 = 179;

static DEFAULT_PORT: std::sync::atomic::AtomicU16 = std::sync::atomic::AtomicU16::new(BGP_PORT);

/// `--port PORT` (ExaBGP's `exabgp.tcp.port`): the port of neighbors that write no `connect`
/// or `listen`, for every configuration read after it is set (reloads included).
pub fn set_default_port(port: u16) {
    DEFAULT_PORT.store(port, std::sync::atomic::Ordering::Relaxed);
}

/// [`BGP_PORT`] unless `--port` said otherwise.
pub fn default_port() -> u16 {
    DEFAULT_PORT.load(std::sync::atomic::Ordering::Relaxed)
}

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
    /// The same files with what they held, for the next reload to see what changed.
    pub files: Arc<super::file_cache::FileCache>,
    /// `process NAME { ... }`: helper programs (src/api/process.rs runs them).
    pub processes: Vec<super::process::ProcessConfig>,
    /// `healthcheck NAME { ... }`: routes that follow a check command.
    pub healthchecks: Vec<super::healthcheck::HealthcheckConfig>,
    /// `state-file PATH;`: where program routes and health check states are journaled.
    pub state_file: Option<std::path::PathBuf>,
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
    pub routes: RouteTable,
    pub options: SessionOptions,
    /// `flow { route NAME { match { } then { } } }`: FlowSpec rules.
    pub flows: Vec<FlowConfig>,
    /// `api { processes [ NAME ]; }`: the helpers whose commands apply to this neighbor.
    pub api_processes: Vec<String>,
    /// `api { receive { parsed; update; } }`: the UPDATEs the peer sends go to the helpers.
    pub api_receive_updates: bool,
    /// `api { neighbor-changes; }` (or `fsm`): the helpers are told when the session goes up or
    /// down, as in ExaBGP; without it they get only their acknowledgements.
    pub api_neighbor_changes: bool,
    /// `api { receive { notification; } }`: the NOTIFICATIONs the peer sends go to the helpers.
    pub api_receive_notifications: bool,
    /// Per process named in an api block, the events its blocks ask for (ExaBGP keeps each
    /// api block's `send { }`, `receive { }` and `neighbor-changes` with that block's
    /// processes).
    pub api_subscriptions: Vec<(String, super::process::ApiEvents)>,
    /// `guard { }`: the limits its routes and rules must keep (see `config::guard`).
    pub guard: super::guard::GuardSettings,
    /// `bfd { }`: a BFD session beside the BGP session (src/bfd/).
    pub bfd: Option<BfdConfig>,
    /// `capability { multi-session; }`: bgpinject opens one session all the same (see
    /// `config::neighbor`), but the API's `family-allowed` selector names the families, as
    /// ExaBGP's neighbor name does.
    pub multi_session: bool,
    /// Where `neighbor` was written.
    pub location: Location,
}

impl NeighborConfig {
    /// RFC 5065 §5: how the session stands to our confederation.
    pub fn confederation_role(&self) -> crate::wire::aspath::ConfederationRole {
        use crate::wire::aspath::ConfederationRole;
        match &self.options.confederation {
            None => ConfederationRole::None,
            Some(_) if self.peer_as == self.local_as => ConfederationRole::None,
            Some(c) if c.members.contains(&self.peer_as) => {
                ConfederationRole::Member(self.local_as)
            }
            Some(_) => ConfederationRole::External,
        }
    }

    /// The AS our OPEN carries: the confederation identifier to a peer outside it (RFC 5065
    /// §5), `local-as` otherwise.
    pub fn open_as(&self) -> u32 {
        match (&self.options.confederation, self.confederation_role()) {
            (Some(c), crate::wire::aspath::ConfederationRole::External) => c.identifier,
            _ => self.local_as,
        }
    }

    /// A copy without routes, flows or description: the session-level settings, cheap to
    /// compare even with a million routes configured. Written as a full struct literal so
    /// that a new field has to be placed here explicitly.
    pub fn without_routes(&self) -> NeighborConfig {
        NeighborConfig {
            peer_address: self.peer_address,
            description: None,
            router_id: self.router_id,
            local_address: self.local_address,
            local_as: self.local_as,
            peer_as: self.peer_as,
            hold_time: self.hold_time,
            passive: self.passive,
            connect_port: self.connect_port,
            listen_port: self.listen_port,
            families: self.families.clone(),
            routes: RouteTable::default(),
            options: self.options.clone(),
            flows: Vec::new(),
            api_processes: self.api_processes.clone(),
            api_receive_updates: self.api_receive_updates,
            api_neighbor_changes: self.api_neighbor_changes,
            api_receive_notifications: self.api_receive_notifications,
            api_subscriptions: self.api_subscriptions.clone(),
            guard: self.guard,
            bfd: self.bfd,
            multi_session: self.multi_session,
            location: self.location.clone(),
        }
    }

    /// The RFC 7911 ADD-PATH capability to offer: `add_path` for each family of the neighbor
    /// (but FlowSpec and the `wire::nlri` families: EVPN, VPLS, RTC, MUP, SR Policy,
    /// MCAST-VPN), or only those of `add_path_families`.
    pub fn add_path_capability(&self) -> Vec<(Family, AddPathMode)> {
        let Some(mode) = self.options.add_path else {
            return Vec::new();
        };
        self.families
            .iter()
            .filter(|f| {
                let listed = self.options.add_path_families.as_ref();
                // FlowSpec only when the add-path block names it (ExaBGP's
                // `add-path { ipv4 flow; }`), never by default.
                if matches!(f.safi, Safi::FlowSpec | Safi::FlowSpecVpn) {
                    return listed.is_some_and(|l| l.contains(f));
                }
                !crate::wire::nlri::is_decoded(**f) && listed.is_none_or(|l| l.contains(f))
            })
            .map(|&f| (f, mode))
            .collect()
    }

    pub fn is_ebgp(&self) -> bool {
        self.local_as != self.peer_as
    }
}

/// `eor-wait` when the configuration does not say and has a `state-file` (without one, 0:
/// End-of-RIB follows the table as ExaBGP sends it): long enough for helpers and a first
/// health check, well inside the peers' stale-route timers (FRR and GoBGP keep stale routes
/// 360 s by default).
pub const DEFAULT_EOR_WAIT: u16 = 30;

/// `bfd { min-tx MS; min-rx MS; multiplier N; multihop BOOL; }` (see `config::bfd`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BfdConfig {
    pub min_tx: std::time::Duration,
    pub min_rx: std::time::Duration,
    pub multiplier: u8,
    pub multihop: bool,
}

/// RFC 5065: the confederation a neighbor's speaker belongs to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Confederation {
    /// The AS the confederation shows to peers outside it.
    pub identifier: u32,
    /// The member ASes (a peer in one of them is inside the confederation).
    pub members: Vec<u32>,
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
    /// ExaBGP's `group-updates`: routes sharing attributes share UPDATEs (default true).
    pub group_updates: bool,
    /// `eor-wait SECONDS`: how long End-of-RIB waits for the neighbor's helpers and health
    /// checks to be ready, with graceful restart negotiated (0: it does not). `None`:
    /// [`DEFAULT_EOR_WAIT`] with a `state-file`, else 0 (ExaBGP's behaviour).
    pub eor_wait: Option<u16>,
    /// `capability { add-path send|receive|send/receive; }`: RFC 7911 mode for every
    /// family of the neighbor but FlowSpec (`None`: not advertised).
    pub add_path: Option<AddPathMode>,
    /// ExaBGP 4's neighbor-level `add-path { ipv4 unicast; }`: the families `add_path` is
    /// offered for (`None`: every family of the neighbor but FlowSpec).
    pub add_path_families: Option<Vec<Family>>,
    /// `capability { nexthop { ipv4 unicast ipv6; } }`: RFC 8950 NLRI family and next-hop AFI.
    pub extended_next_hop: Vec<(Family, Afi)>,
    /// RFC 8654 extended messages advertised (ExaBGP `capability { extended-message; }`,
    /// on by default as in ExaBGP and FRR).
    pub extended_message: bool,
    /// `host-name NAME;` / `domain-name NAME;` (ExaBGP 4.2+): the FQDN capability
    /// (draft-walton-bgp-hostname-capability, code 73) with these names.
    pub fqdn: Option<(String, String)>,
    /// `capability { software-version; }`: the software version capability
    /// (draft-abraitis-bgp-version-capability, code 75), `bgpinject/VERSION`.
    pub software_version: bool,
    /// `capability { aigp enable|disable; }` (ExaBGP: the AIGP attribute goes to an eBGP
    /// peer only when enabled, RFC 7311 §3.1); `None`: not written.
    /// ExaBGP main's `local-link-local ADDRESS;`: the link-local address sent after the
    /// global one (32 octets, RFC 2545 §3) in the next hop of each IPv6 route that gives none.
    pub local_link_local: Option<std::net::Ipv6Addr>,
    /// ExaBGP's `source-interface NAME`: the interface the connections we open are bound
    /// to (SO_BINDTODEVICE), and whose index scopes link-local addresses.
    pub source_interface: Option<String>,
    /// ExaBGP main's `confederation { identifier ASN; members [ ASN ... ]; }` (RFC 5065):
    /// the confederation's AS and its member ASes (`local-as` is this speaker's member AS).
    pub confederation: Option<Confederation>,
    pub aigp: Option<bool>,
    /// ExaBGP main's `add-path { AFI SAFI limit N; }`: the PATHS-LIMIT capability
    /// (draft-abraitis-idr-addpath-paths-limit, code 76), the most paths per prefix this
    /// side asks to receive, per family.
    pub paths_limit: Vec<(Family, u16)>,
    /// ExaBGP's `manual-eor true`: End-of-RIB is left to the helpers (`announce eor`); the
    /// session never sends one by itself.
    pub manual_eor: bool,
    /// ExaBGP main's `shutdown true`: administratively down, no session until a helper's
    /// `neighbor IP enable`.
    pub shutdown: bool,
    /// ExaBGP's `adj-rib-in true`: the routes the peer sends are kept (up to
    /// `manager::adj_rib_in::MAX_ROUTES`) for `show adj-rib in`; never announced anywhere.
    pub adj_rib_in: bool,
    /// ExaBGP main's `role { local NAME; }` (RFC 9234): our role on the session.
    pub role: Option<crate::wire::role::Role>,
    /// ExaBGP main's `role { strict enable; }`: a peer without a Role capability is refused.
    pub role_strict: bool,
    /// `capability { long-lived-graceful-restart SECONDS; }` (RFC 9494): the long-lived
    /// stale time advertised for every family; needs `graceful-restart`.
    pub long_lived_stale_time: Option<u32>,
}

impl SessionOptions {
    /// The capabilities that only inform the peer, in ExaBGP's order (FQDN, then version).
    pub fn informational_capabilities(&self) -> Vec<crate::wire::capability::Capability> {
        use crate::wire::capability::Capability;
        let mut out = Vec::new();
        if let Some((hostname, domain)) = &self.fqdn {
            out.push(Capability::Fqdn {
                hostname: hostname.clone(),
                domain: domain.clone(),
            });
        }
        if self.software_version {
            out.push(Capability::SoftwareVersion(software_version()));
        }
        if !self.paths_limit.is_empty() {
            // Per family: AFI (2 octets), SAFI (1), limit (2).
            let mut value = Vec::with_capacity(5 * self.paths_limit.len());
            for (f, limit) in &self.paths_limit {
                value.extend_from_slice(&f.afi.to_u16().to_be_bytes());
                value.push(f.safi.to_u8());
                value.extend_from_slice(&limit.to_be_bytes());
            }
            out.push(Capability::Unknown {
                code: crate::wire::capability::code::PATHS_LIMIT,
                value,
            });
        }
        out
    }
}

/// What the software version capability says: `bgpinject/0.1.0`, as ExaBGP sends
/// `ExaBGP/5.0.13` (at most 64 octets, which this is).
pub fn software_version() -> String {
    format!("bgpinject/{}", env!("CARGO_PKG_VERSION"))
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
            group_updates: true,
            eor_wait: None,
            add_path: None,
            add_path_families: None,
            extended_next_hop: Vec::new(),
            extended_message: true,
            fqdn: None,
            software_version: false,
            aigp: None,
            local_link_local: None,
            source_interface: None,
            confederation: None,
            paths_limit: Vec::new(),
            manual_eor: false,
            shutdown: false,
            adj_rib_in: false,
            role: None,
            role_strict: false,
            long_lived_stale_time: None,
        }
    }
}

/// The routes of a neighbor block (with what its templates add).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RouteTable {
    /// Routes with plain unicast NLRI (no distinguisher, label or path identifier), sorted
    /// by prefix, one per prefix: the bulk of big tables, 32 octets each with no location,
    /// and shared (not copied) by the route sets built from them and by neighbors given the
    /// same routes. An IPv4 route with an IPv6 next hop is here too.
    pub unicast: Arc<Vec<Route>>,
    /// Every other route (labeled, VPN, multicast, with a path identifier), in the order
    /// written.
    pub others: Vec<RouteConfig>,
    /// Routes whose NLRI is not a prefix (EVPN, VPLS, RTC, MUP, SR Policy, MCAST-VPN), in the
    /// order written.
    pub family_routes: Vec<FamilyRoute>,
    /// Routes with ExaBGP's `watchdog NAME`: not in the tables above, announced and withdrawn
    /// with their group by the route manager (`manager/watchdog.rs`), in the order written.
    pub watchdog: Vec<WatchdogRoute>,
}

/// A route of a watchdog group (ExaBGP's `route ... watchdog NAME [withdraw]`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WatchdogRoute {
    pub name: String,
    /// `withdraw`: the route starts withdrawn, until `announce watchdog NAME`.
    pub withdraw: bool,
    pub route: RouteConfig,
}

impl RouteTable {
    pub fn len(&self) -> usize {
        self.unicast.len() + self.others.len() + self.family_routes.len() + self.watchdog.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The families of the routes, with repeats.
    pub fn families(&self) -> impl Iterator<Item = Family> + '_ {
        let unicast = self
            .unicast
            .iter()
            .map(|(p, _)| Family::new(p.afi(), Safi::Unicast));
        unicast
            .chain(self.others.iter().map(RouteConfig::family))
            .chain(self.family_routes.iter().map(|r| r.key.family))
            .chain(self.watchdog.iter().map(|w| w.route.family()))
    }

    /// Every route, unicast first.
    pub fn iter(&self) -> impl Iterator<Item = RouteView<'_>> {
        let unicast = self.unicast.iter().map(|(prefix, attributes)| RouteView {
            prefix: *prefix,
            nlri: &PLAIN_UNICAST,
            attributes,
        });
        unicast.chain(self.others.iter().map(|r| RouteView {
            prefix: r.prefix,
            nlri: r.nlri(),
            attributes: &r.attributes,
        }))
    }
}

/// One route of a [`RouteTable`].
#[derive(Clone, Copy, Debug)]
pub struct RouteView<'a> {
    pub prefix: Prefix,
    pub nlri: &'a NlriOptions,
    pub attributes: &'a Arc<RouteAttributes>,
}

/// One `route PREFIX ...;` statement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteConfig {
    pub prefix: Prefix,
    /// SAFI, route distinguisher, labels and path identifier; `None` for a plain unicast
    /// route, which keeps a million-route table small (read it with [`RouteConfig::nlri`]).
    pub nlri: Option<Box<NlriOptions>>,
    /// Interned: routes with equal attributes share one copy.
    pub attributes: Arc<RouteAttributes>,
    pub location: Location,
}

/// What makes a route more than a unicast prefix: `rd`, `label`, `path-information`, or a
/// multicast family from the `announce { }` block.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NlriOptions {
    /// `None`: from the other settings (VPN with `rd`, labeled with `label`, else unicast).
    pub safi: Option<Safi>,
    pub rd: Option<RouteDistinguisher>,
    pub labels: Vec<u32>,
    pub path_id: Option<u32>,
}

/// The options of a plain unicast route.
static PLAIN_UNICAST: NlriOptions = NlriOptions {
    safi: None,
    rd: None,
    labels: Vec::new(),
    path_id: None,
};

impl NlriOptions {
    /// `None` when these are the options of a plain unicast route (`unicast` written in an
    /// `announce` block is plain too).
    pub fn boxed(self) -> Option<Box<NlriOptions>> {
        let mut normalized = self;
        normalized.safi = normalized.safi.filter(|&s| s != Safi::Unicast);
        (normalized != PLAIN_UNICAST).then(|| Box::new(normalized))
    }

    /// The route's SAFI.
    pub fn safi(&self) -> Safi {
        match (self.safi, self.rd, self.labels.is_empty()) {
            (Some(s), _, _) => s,
            (None, Some(_), _) => Safi::MplsVpn,
            (None, None, false) => Safi::MplsLabel,
            (None, None, true) => Safi::Unicast,
        }
    }
}

impl RouteConfig {
    pub fn nlri(&self) -> &NlriOptions {
        self.nlri.as_deref().unwrap_or(&PLAIN_UNICAST)
    }

    pub fn nlri_mut(&mut self) -> &mut NlriOptions {
        self.nlri.get_or_insert_with(Default::default)
    }

    /// The route's family (SAFI from its NLRI options).
    pub fn family(&self) -> Family {
        Family::new(self.prefix.afi(), self.nlri().safi())
    }

    /// The key of a route that is not plain unicast (see `rib::other_nlri`): labeled, VPN,
    /// multicast, with a path identifier, or an IPv4 prefix with an IPv6 next hop.
    /// `None` for a plain unicast route.
    pub fn other_key(&self) -> Option<NlriKey> {
        let cross_family = other_nlri::ipv4_with_ipv6_next_hop(self.prefix, &self.attributes);
        let family = self.family();
        (family.safi != Safi::Unicast || self.nlri().path_id.is_some() || cross_family).then_some(
            NlriKey::of_prefix(family, self.nlri().rd, self.prefix, self.nlri().path_id),
        )
    }
}

/// One route of a `wire::nlri` family (`announce { l2vpn { evpn ...; } }`, `announce evpn
/// ...`): its key (family and NLRI, path identifier) and attributes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FamilyRoute {
    pub key: NlriKey,
    /// Interned: routes with equal attributes share one copy.
    pub attributes: Arc<RouteAttributes>,
    pub location: Location,
    /// The API's `announce` text it was read from (what follows `announce`), kept so the
    /// state file can journal it as written; `None` for the configuration's routes.
    pub api_text: Option<Arc<str>>,
}

/// One `flow { route NAME { ... } }` rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlowConfig {
    pub name: String,
    pub rule: FlowRule,
    /// Actions as extended communities; the next hop only for a redirect to an IP.
    pub attributes: RouteAttributes,
    /// RFC 7911 path identifier (`path-information`): rules of one match with different
    /// identifiers are different routes.
    pub path_id: Option<u32>,
    pub location: Location,
    /// As [`FamilyRoute::api_text`].
    pub api_text: Option<Arc<str>>,
}
