//! ExaBGP's text API: one command per line, parsed into a [`Request`]. Route and flow
//! attributes go through the configuration parsers ([`crate::config::api_command`]).

use std::net::{IpAddr, Ipv4Addr};

use crate::config::api_command::{
    FAMILY_ROUTE_KEYWORDS, RouteMemo, family_route_from_text, flow_from_text,
};
use crate::config::model::FamilyRoute;
use crate::config::{FlowConfig, NeighborConfig, RouteConfig};
use crate::wire::family::{Afi, Family, Safi};
use crate::wire::notification::{self, Notification};

/// `neighbor IP [local-as N] [peer-as N] [local-ip IP] [router-id ID] [family-allowed F]`:
/// every given field must match. A command without selector applies to every neighbor of its
/// source.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NeighborFilter {
    pub address: Option<IpAddr>,
    pub local_as: Option<u32>,
    pub peer_as: Option<u32>,
    pub local_ip: Option<IpAddr>,
    pub router_id: Option<Ipv4Addr>,
    /// ExaBGP's `family-allowed`: `in-open` for a neighbor without `multi-session`, else
    /// its families written `AFI-SAFI` and joined by `/` (ExaBGP's neighbor name).
    pub family_allowed: Option<String>,
}

/// What ExaBGP's neighbor name says after `family-allowed`: `in-open` (the families are
/// those of the OPEN) unless the neighbor asks for `multi-session`, then each family as
/// `AFI-SAFI`, joined by `/`.
pub fn family_allowed(n: &NeighborConfig) -> String {
    if !n.multi_session {
        return "in-open".to_string();
    }
    n.families
        .iter()
        .map(|f| f.to_string().replace(' ', "-"))
        .collect::<Vec<_>>()
        .join("/")
}

impl NeighborFilter {
    pub fn matches(&self, n: &NeighborConfig) -> bool {
        self.address.is_none_or(|a| a == n.peer_address)
            && self.local_as.is_none_or(|a| a == n.local_as)
            && self.peer_as.is_none_or(|a| a == n.peer_as)
            && self.local_ip.is_none_or(|a| Some(a) == n.local_address)
            && self.router_id.is_none_or(|a| a == n.router_id)
            && self.family_allowed.as_deref().is_none_or(|wanted| {
                let have = family_allowed(n);
                wanted == have || have.split('/').any(|f| f == wanted)
            })
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    Announce(Vec<RouteConfig>),
    /// `announce route ... watchdog NAME [withdraw]`: routes of a watchdog group, announced
    /// now unless `withdraw` (see `manager/watchdog.rs`).
    AnnounceWatched {
        routes: Vec<RouteConfig>,
        watchdog: String,
        withdraw: bool,
    },
    /// ExaBGP's `announce watchdog [NAME]` (`announce` true) and `withdraw watchdog [NAME]`:
    /// every route of the group on the selected neighbors (all without a selector) is
    /// announced or withdrawn. Without NAME, the helper's process name.
    Watchdog {
        name: Option<String>,
        announce: bool,
    },
    /// The routes whose NLRI (prefix, family, rd, path-information) is withdrawn; their
    /// attributes are not compared.
    Withdraw(Vec<RouteConfig>),
    AnnounceFlow(Box<FlowConfig>),
    WithdrawFlow(Box<FlowConfig>),
    /// `announce evpn ...`, `announce ipv4 mup ...`: a route of a `wire::nlri` family.
    AnnounceFamily(Box<FamilyRoute>),
    /// The route with this NLRI; its attributes are not compared.
    WithdrawFamily(Box<FamilyRoute>),
    /// `announce eor [AFI SAFI]`.
    EndOfRib(Option<Family>),
    /// `announce route-refresh [AFI SAFI]`.
    RouteRefresh(Option<Family>),
    ShowNeighbor {
        summary: bool,
    },
    /// `show adj-rib out`: what each neighbor is told to announce.
    ShowAdjRibOut,
    /// ExaBGP's `flush adj-rib out`: every route the selected neighbors have from us is sent
    /// to them again.
    FlushAdjRibOut,
    /// ExaBGP's `clear adj-rib out`: every route programs announced to the selected
    /// neighbors is withdrawn (the file's routes stay: a reload would bring them back).
    ClearAdjRibOut,
    /// ExaBGP's `show adj-rib in [json] [extensive]`: the routes the peers of neighbors with
    /// `adj-rib-in true` sent, one line each, or ExaBGP's JSON object (with `json`, or for a
    /// helper whose encoder is json); `extensive` adds each neighbor's fields to the JSON.
    ShowAdjRibIn {
        json: bool,
        extensive: bool,
    },
    /// ExaBGP's `clear adj-rib in`: the kept routes of the selected neighbors are forgotten
    /// (until their peers send them again); nothing is sent.
    ClearAdjRibIn,
    /// ExaBGP's `teardown [SUBCODE] [MESSAGE]`: the selected sessions close with Cease /
    /// SUBCODE (default 2, Administrative Shutdown) and connect again.
    Teardown(Notification),
    /// ExaBGP main's `neighbor IP enable`: an administratively down neighbor (`shutdown
    /// true`, or `disable`) may connect again.
    Enable,
    /// ExaBGP main's `neighbor IP disable ["MESSAGE"]`: the session closes with Cease /
    /// Administrative Shutdown (and MESSAGE, RFC 9003) and does not connect again until
    /// `enable`.
    Disable(Notification),
    /// ExaBGP's `ping`: answered `pong UUID` (this run's [`instance_id`]), to check that the
    /// daemon reads its helpers.
    Ping,
    /// ExaBGP's `status`: this run's UUID, PID, uptime and neighbor count, one per line.
    Status,
    /// `help`: the commands, one per line.
    Help,
    Reload,
    Restart,
    Shutdown,
    Version,
    /// ExaBGP main's `create neighbor IP local-address IP local-as N peer-as N ...`: a
    /// neighbor started at run time (see [`NewNeighbor`]).
    CreateNeighbor(Box<NewNeighbor>),
    /// ExaBGP main's `delete neighbor SELECTOR`: the selected sessions close with Cease /
    /// Peer De-configured and the neighbors are gone until a reload configures them again.
    DeleteNeighbor,
    /// `ready`: the helper has announced its routes (End-of-RIB may go; see
    /// `manager/readiness.rs`), without sending an End-of-RIB itself.
    Ready,
    /// A line that could not be parsed; answered with `error` in order with the others.
    Invalid(String),
}

/// What `create neighbor` asks for, each value already checked (ExaBGP main's parameters:
/// `local-address`/`local-ip`, `local-as` and `peer-as` required; `router-id` (default: the
/// local address), `family-allowed` (default IPv4 unicast), `graceful-restart SECONDS` (0:
/// none, the default), `group-updates true|false`, and `api PROCESS` as often as needed).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewNeighbor {
    pub peer: IpAddr,
    pub local_address: IpAddr,
    pub local_as: u32,
    pub peer_as: u32,
    pub router_id: Option<Ipv4Addr>,
    /// Empty: IPv4 unicast (ExaBGP's default, and what `in-open` gives).
    pub families: Vec<Family>,
    pub graceful_restart: Option<u16>,
    pub group_updates: Option<bool>,
    pub processes: Vec<String>,
}

impl NewNeighbor {
    /// The neighbor as a configuration block, to be read by the configuration parser (so
    /// that it gets every default a configured neighbor gets). Every value is typed, so
    /// nothing a helper wrote reaches the text but numbers, addresses and family names.
    pub fn config_text(&self) -> String {
        let mut t = format!(
            "neighbor {} {{\n local-address {};\n local-as {};\n peer-as {};\n",
            self.peer, self.local_address, self.local_as, self.peer_as
        );
        if let Some(id) = self.router_id {
            t.push_str(&format!(" router-id {id};\n"));
        }
        if let Some(g) = self.group_updates {
            t.push_str(&format!(" group-updates {g};\n"));
        }
        match self.graceful_restart {
            Some(0) | None => t.push_str(" capability { graceful-restart disable; }\n"),
            Some(n) => t.push_str(&format!(" capability {{ graceful-restart {n}; }}\n")),
        }
        t.push_str(" family {\n");
        if self.families.is_empty() {
            t.push_str("  ipv4 unicast;\n");
        }
        for f in &self.families {
            t.push_str(&format!("  {f};\n"));
        }
        t.push_str(" }\n}\n");
        t
    }
}

/// `neighbor IP local-address IP local-as N peer-as N [router-id ID] [family-allowed F/F]
/// [graceful-restart N] [group-updates true|false] [api NAME]... [create]`, after `create`.
fn parse_create(text: &str) -> Result<Command, String> {
    let words: Vec<&str> = text.split_whitespace().collect();
    let [first, peer, rest @ ..] = words.as_slice() else {
        return bad("create: expected neighbor IP local-address IP local-as N peer-as N");
    };
    if *first != "neighbor" {
        return bad(format!(
            "create: expected 'neighbor IP ...', found '{first}'"
        ));
    }
    let peer: IpAddr = peer
        .parse()
        .map_err(|_| format!("create neighbor: expected an IP address, found '{peer}'"))?;
    let mut local_address: Option<IpAddr> = None;
    let (mut local_as, mut peer_as): (Option<u32>, Option<u32>) = (None, None);
    let mut n = NewNeighbor {
        peer,
        local_address: peer,
        local_as: 0,
        peer_as: 0,
        router_id: None,
        families: Vec::new(),
        graceful_restart: None,
        group_updates: None,
        processes: Vec::new(),
    };
    let mut seen: Vec<&str> = Vec::new();
    let mut i = 0;
    while let Some(key) = rest.get(i) {
        if *key == "create" {
            i += 1;
            continue;
        }
        let value = rest
            .get(i + 1)
            .ok_or_else(|| format!("create neighbor: missing value for {key}"))?;
        let name = if *key == "local-ip" {
            "local-address"
        } else {
            key
        };
        if name != "api" {
            if seen.contains(&name) {
                return bad(format!("create neighbor: duplicate parameter {name}"));
            }
            seen.push(name);
        }
        let err = || format!("create neighbor {peer} {key}: bad value '{value}'");
        match name {
            "local-address" => local_address = Some(value.parse().map_err(|_| err())?),
            "local-as" => local_as = Some(value.parse().map_err(|_| err())?),
            "peer-as" => peer_as = Some(value.parse().map_err(|_| err())?),
            "router-id" => n.router_id = Some(value.parse().map_err(|_| err())?),
            "graceful-restart" => {
                n.graceful_restart = Some(
                    value
                        .parse::<u16>()
                        .ok()
                        .filter(|s| *s <= 4095)
                        .ok_or_else(err)?,
                )
            }
            "group-updates" => {
                n.group_updates = Some(match *value {
                    "true" => true,
                    "false" => false,
                    _ => return Err(err()),
                })
            }
            "family-allowed" if *value == "in-open" => {}
            "family-allowed" => {
                for f in value.split('/').filter(|f| !f.is_empty()) {
                    let family = parse_family(&f.replacen('-', " ", 1))?.ok_or_else(err)?;
                    if !n.families.contains(&family) {
                        n.families.push(family);
                    }
                }
            }
            "api" => {
                if !value
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
                {
                    return Err(err());
                }
                if !n.processes.iter().any(|p| p == value) {
                    n.processes.push(value.to_string());
                }
            }
            _ => return bad(format!("create neighbor: unknown parameter '{key}'")),
        }
        i += 2;
    }
    let missing: Vec<&str> = [
        ("local-address", local_address.is_none()),
        ("local-as", local_as.is_none()),
        ("peer-as", peer_as.is_none()),
    ]
    .into_iter()
    .filter_map(|(k, m)| m.then_some(k))
    .collect();
    if !missing.is_empty() {
        return bad(format!(
            "create neighbor: missing required parameters: {}",
            missing.join(", ")
        ));
    }
    n.local_address = local_address.unwrap_or(peer);
    n.local_as = local_as.unwrap_or(0);
    n.peer_as = peer_as.unwrap_or(0);
    if n.local_address.is_ipv4() != peer.is_ipv4() {
        return bad("create neighbor: local-address and the neighbor are of different families");
    }
    if n.router_id.is_none() && !n.local_address.is_ipv4() {
        return bad("create neighbor: router-id is needed with an IPv6 local-address");
    }
    Ok(Command::CreateNeighbor(Box::new(n)))
}

/// One command line: its neighbor selectors and what to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    /// Empty: every neighbor of the source.
    pub neighbors: Vec<NeighborFilter>,
    pub command: Command,
    /// `lease SECONDS` anywhere in an announce: the routes are withdrawn unless announced
    /// again within that time (see [`super::lease`]).
    pub lease: Option<u32>,
    /// Written in ExaBGP main's API 6 form, target first (`peer IP|* COMMAND`): see
    /// `ProcessConfig::on_exit_written`.
    pub api6: bool,
}

impl Request {
    pub fn selects(&self, n: &NeighborConfig) -> bool {
        self.neighbors.is_empty() || self.neighbors.iter().any(|f| f.matches(n))
    }
}

fn bad<T>(what: impl Into<String>) -> Result<T, String> {
    Err(what.into())
}

/// This run of bgpinject, as ExaBGP's `ping` and `status` name it: a random UUID from the
/// kernel, read once (the PID and start time when it cannot be read).
pub fn instance_id() -> &'static str {
    static ID: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    ID.get_or_init(|| {
        let _ = started_at();
        std::fs::read_to_string("/proc/sys/kernel/random/uuid")
            .ok()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty() && s.len() <= 64)
            .unwrap_or_else(|| {
                let t = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_nanos())
                    .unwrap_or(0);
                format!("{:08x}-{t:x}", std::process::id())
            })
    })
}

/// When this run began (the first time the manager asked for [`instance_id`]).
pub fn started_at() -> std::time::Instant {
    static AT: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    *AT.get_or_init(std::time::Instant::now)
}

/// Parses one line; errors name what was expected.
pub fn parse(line: &str) -> Request {
    parse_with(line, &mut RouteMemo::default())
}

/// [`parse`], with the previous line's route at hand (a helper's reader keeps one `memo`).
pub fn parse_with(line: &str, memo: &mut RouteMemo) -> Request {
    // ExaBGP accepts `\n` written literally inside a line (dynamic-1.sh does so).
    let line = match line.contains("\\n") {
        true => std::borrow::Cow::Owned(line.replace("\\n", " ")),
        false => std::borrow::Cow::Borrowed(line),
    };
    match parse_line(line.trim(), memo) {
        Ok(r) => r,
        Err(e) => Request {
            neighbors: Vec::new(),
            command: Command::Invalid(e),
            lease: None,
            api6: false,
        },
    }
}

/// Splits off the first whitespace-separated word.
fn word(text: &str) -> (&str, &str) {
    let text = text.trim_start();
    match text.find(char::is_whitespace) {
        Some(i) => (&text[..i], text[i..].trim_start()),
        None => (text, ""),
    }
}

fn parse_line(line: &str, memo: &mut RouteMemo) -> Result<Request, String> {
    let mut neighbors = Vec::new();
    let mut rest = line;
    match word(rest) {
        ("create", after) => {
            return Ok(Request {
                neighbors,
                command: parse_create(after)?,
                lease: None,
                api6: false,
            });
        }
        // The older order, `neighbor IP local-ip ... create` / `neighbor IP delete`.
        ("neighbor", _) if line.split_whitespace().last() == Some("create") => {
            return Ok(Request {
                neighbors,
                command: parse_create(line)?,
                lease: None,
                api6: false,
            });
        }
        ("delete", after) => {
            let mut after = after;
            while word(after).0 == "neighbor" {
                let (filter, more) = parse_selector(word(after).1)?;
                neighbors.push(filter);
                after = more;
            }
            if neighbors.is_empty() {
                return bad("delete: expected neighbor SELECTOR");
            }
            if !matches!(after.trim(), "" | "delete") {
                return bad(format!("delete neighbor: unexpected '{}'", after.trim()));
            }
            return Ok(Request {
                neighbors,
                command: Command::DeleteNeighbor,
                lease: None,
                api6: false,
            });
        }
        _ => {}
    }
    let api6 = word(rest).0 == "peer";
    // ExaBGP main's API 6 writes the selector `peer IP|*`, as `neighbor`.
    while matches!(word(rest).0, "neighbor" | "peer") {
        let (filter, after) = parse_selector(word(rest).1)?;
        neighbors.push(filter);
        rest = after;
    }
    if rest.trim() == "delete" && !neighbors.is_empty() {
        return Ok(Request {
            neighbors,
            command: Command::DeleteNeighbor,
            lease: None,
            api6,
        });
    }
    let (rest, lease) = take_lease(rest)?;
    let command = parse_command(&rest, memo)?;
    if lease.is_some() && !matches!(command, Command::Announce(_) | Command::AnnounceFlow(_)) {
        return bad("lease: only an announce of routes or flows takes a lease");
    }
    Ok(Request {
        neighbors,
        command,
        lease,
        api6,
    })
}

/// Takes `lease SECONDS` out of a command line (bgpinject's own option, so no ExaBGP
/// attribute can be confused with it).
fn take_lease(text: &str) -> Result<(std::borrow::Cow<'_, str>, Option<u32>), String> {
    if !text.contains("lease") {
        return Ok((std::borrow::Cow::Borrowed(text), None));
    }
    let words: Vec<&str> = text.split_whitespace().collect();
    let Some(i) = words.iter().position(|w| *w == "lease") else {
        return Ok((std::borrow::Cow::Borrowed(text), None));
    };
    let seconds = words
        .get(i + 1)
        .and_then(|w| w.trim_end_matches(';').parse::<u32>().ok())
        .filter(|s| (1..=super::lease::MAX_LEASE_SECONDS).contains(s))
        .ok_or_else(|| {
            format!(
                "lease: expected seconds (1..{}) after lease",
                super::lease::MAX_LEASE_SECONDS
            )
        })?;
    let mut rest: Vec<&str> = words[..i].to_vec();
    rest.extend_from_slice(words.get(i + 2..).unwrap_or(&[]));
    Ok((std::borrow::Cow::Owned(rest.join(" ")), Some(seconds)))
}

/// `IP [KEY VALUE]...` up to a `,` (another selector follows) or the command.
fn parse_selector(text: &str) -> Result<(NeighborFilter, &str), String> {
    let (address, mut rest) = word(text);
    // ExaBGP's `neighbor *`: every neighbor (of the source), as without a selector.
    let mut f = NeighborFilter {
        address: match address.trim_end_matches(',') {
            "*" => None,
            a => Some(
                a.parse()
                    .map_err(|_| format!("neighbor: expected an IP address or *, found '{a}'"))?,
            ),
        },
        ..NeighborFilter::default()
    };
    loop {
        let (key, after) = word(rest);
        let (value, after_value) = word(after);
        let value = value.trim_end_matches(',');
        let parse_err = |k: &str| format!("neighbor {address} {k}: bad value '{value}'");
        match key {
            "local-as" => f.local_as = Some(value.parse().map_err(|_| parse_err(key))?),
            "peer-as" => f.peer_as = Some(value.parse().map_err(|_| parse_err(key))?),
            "local-ip" => f.local_ip = Some(value.parse().map_err(|_| parse_err(key))?),
            "router-id" => f.router_id = Some(value.parse().map_err(|_| parse_err(key))?),
            "family-allowed" if !value.is_empty() => f.family_allowed = Some(value.to_string()),
            "," => return Ok((f, after)),
            _ => {
                if let Some(stripped) = rest.strip_prefix(',') {
                    return Ok((f, stripped.trim_start()));
                }
                return Ok((f, rest));
            }
        }
        if word(after).0.ends_with(',') {
            return Ok((f, after_value));
        }
        rest = after_value;
    }
}

fn parse_family(text: &str) -> Result<Option<Family>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    // ExaBGP's family names, as bgpinject writes them, with the usual aliases.
    let words: Vec<&str> = text
        .split_whitespace()
        .map(|w| match w {
            "labeled-unicast" => "nlri-mpls",
            "flowspec" => "flow",
            "flowspec-vpn" => "flow-vpn",
            other => other,
        })
        .collect();
    let wanted = words.join(" ");
    const AFIS: [Afi; 4] = [Afi::Ipv4, Afi::Ipv6, Afi::L2VPN, Afi::BGP_LS];
    const SAFIS: [Safi; 13] = [
        Safi::Unicast,
        Safi::Multicast,
        Safi::MplsLabel,
        Safi::MplsVpn,
        Safi::FlowSpec,
        Safi::FlowSpecVpn,
        Safi::Vpls,
        Safi::Evpn,
        Safi::BgpLs,
        Safi::BgpLsVpn,
        Safi::SrPolicy,
        Safi::Mup,
        Safi::Rtc,
    ];
    AFIS.iter()
        .flat_map(|a| SAFIS.iter().map(|s| Family::new(*a, *s)))
        .find(|f| f.to_string() == wanted)
        .map(Some)
        .ok_or_else(|| {
            format!("expected a family such as 'ipv4 unicast', 'ipv6 flow' or 'l2vpn vpls', found '{text}'")
        })
}

fn parse_command(text: &str, memo: &mut RouteMemo) -> Result<Command, String> {
    let (verb, rest) = word(text);
    match verb {
        "announce" => parse_announce(rest, memo),
        "withdraw" => parse_withdraw(rest, memo),
        "show" => match rest.split_whitespace().collect::<Vec<_>>().as_slice() {
            ["neighbor"] | ["neighbor", "extensive"] | ["neighbors"] => {
                Ok(Command::ShowNeighbor { summary: false })
            }
            ["neighbor", "summary"] => Ok(Command::ShowNeighbor { summary: true }),
            ["adj-rib", "out"] | ["adj-rib", "out", "extensive"] => Ok(Command::ShowAdjRibOut),
            ["adj-rib", "in", options @ ..]
                if options.len() <= 2
                    && options.iter().all(|o| matches!(*o, "json" | "extensive")) =>
            {
                Ok(Command::ShowAdjRibIn {
                    json: options.contains(&"json"),
                    extensive: options.contains(&"extensive"),
                })
            }
            ["adj-rib-in", options @ ..]
                if options.len() <= 2
                    && options.iter().all(|o| matches!(*o, "json" | "extensive")) =>
            {
                Ok(Command::ShowAdjRibIn {
                    json: options.contains(&"json"),
                    extensive: options.contains(&"extensive"),
                })
            }
            _ => bad(format!(
                "show: expected neighbor [summary], adj-rib in or adj-rib out, found '{rest}'"
            )),
        },
        "flush" => match rest.split_whitespace().collect::<Vec<_>>().as_slice() {
            ["adj-rib", "out"] => Ok(Command::FlushAdjRibOut),
            _ => bad(format!("flush: expected adj-rib out, found '{rest}'")),
        },
        "clear" => match rest.split_whitespace().collect::<Vec<_>>().as_slice() {
            ["adj-rib", "out"] => Ok(Command::ClearAdjRibOut),
            ["adj-rib", "in"] => Ok(Command::ClearAdjRibIn),
            _ => bad(format!(
                "clear: expected adj-rib out or adj-rib in, found '{rest}'"
            )),
        },
        "teardown" => parse_teardown(rest),
        "enable" if rest.is_empty() => Ok(Command::Enable),
        "disable" => {
            let message = rest.trim().trim_matches('"');
            let subcode = notification::subcode::ADMINISTRATIVE_SHUTDOWN;
            let mut n = Notification::new(notification::code::CEASE, subcode, Vec::new());
            if !message.is_empty() {
                n.data = notification::shutdown_communication(message);
            }
            Ok(Command::Disable(n))
        }
        "ping" => Ok(Command::Ping),
        "status" if rest.is_empty() => Ok(Command::Status),
        "help" if rest.is_empty() => Ok(Command::Help),
        "reload" if rest.is_empty() => Ok(Command::Reload),
        "restart" if rest.is_empty() => Ok(Command::Restart),
        "shutdown" if rest.is_empty() => Ok(Command::Shutdown),
        "version" if rest.is_empty() => Ok(Command::Version),
        "ready" if rest.is_empty() => Ok(Command::Ready),
        "" => bad("empty command"),
        other => bad(format!(
            "unknown command '{other}', expected announce, withdraw, show, flush, clear, teardown, create, delete, enable, disable, ping, status, help, reload, restart, shutdown, version, ready, enable-ack, disable-ack or silence-ack"
        )),
    }
}

/// `teardown [SUBCODE] [MESSAGE...]`. Administrative Shutdown and Reset carry a shutdown
/// communication (RFC 9003): MESSAGE, or as ExaBGP sends, the subcode's name.
fn parse_teardown(text: &str) -> Result<Command, String> {
    let (first, rest) = word(text);
    let (subcode, message) = match first.parse::<u8>() {
        Ok(0) => return bad("teardown: the Cease subcode is 1 to 255"),
        Ok(n) => (n, rest),
        Err(_) if first.is_empty() => (notification::subcode::ADMINISTRATIVE_SHUTDOWN, ""),
        Err(_) if first.chars().all(|c| c.is_ascii_digit()) => {
            return bad(format!("teardown: bad Cease subcode '{first}'"));
        }
        Err(_) => (notification::subcode::ADMINISTRATIVE_SHUTDOWN, text),
    };
    let message = message.trim().trim_matches('"');
    let mut n = Notification::new(notification::code::CEASE, subcode, Vec::new());
    if matches!(
        subcode,
        notification::subcode::ADMINISTRATIVE_SHUTDOWN
            | notification::subcode::ADMINISTRATIVE_RESET
    ) {
        let text = if message.is_empty() {
            n.subcode_name().to_string()
        } else {
            message.to_string()
        };
        n.data = notification::shutdown_communication(&text);
    }
    Ok(Command::Teardown(n))
}

/// What `help` answers.
pub const HELP: &[&str] = &[
    "[neighbor IP [local-as N] [peer-as N] [local-ip IP] [router-id ID], ...] COMMAND",
    "announce route PREFIX next-hop IP|self [ATTRIBUTES] [watchdog NAME [withdraw]] [lease SECONDS]",
    "announce watchdog [NAME] | withdraw watchdog [NAME]",
    "announce attributes ATTRIBUTES nlri PREFIX ... [lease SECONDS]",
    "announce flow route { match { ... } [scope { ... }] then { ... } } [lease SECONDS]",
    "announce flow route COMPONENT VALUE... ACTION... | announce ipv4|ipv6 flow ... (one-line rule)",
    "announce evpn|vpls|rtc ... | announce ipv4|ipv6 mup|mcast-vpn|sr-policy ... (and withdraw)",
    "withdraw route PREFIX | withdraw attributes ... nlri PREFIX ... | withdraw flow route { ... }",
    "announce eor [AFI SAFI] | announce route-refresh [AFI SAFI]",
    "teardown [SUBCODE] [MESSAGE]",
    "neighbor IP enable | neighbor IP disable [\"MESSAGE\"]",
    "create neighbor IP local-address IP local-as N peer-as N [router-id ID] [family-allowed F/F] [graceful-restart N] [group-updates true|false] [api NAME]...",
    "delete neighbor IP [local-as N] [peer-as N] ... | delete neighbor *",
    "show neighbor [summary] | show adj-rib in | show adj-rib out",
    "flush adj-rib out | clear adj-rib out | clear adj-rib in",
    "enable-ack | disable-ack | silence-ack (helpers)",
    "ping | status | help | version | reload | restart | shutdown",
];

/// The route of `announce evpn ...`, `announce ipv4 mup ...`: `None` when `text` does not
/// start with one of these families' words. A withdrawal needs no next hop (it is replaced).
fn family_route(text: &str, withdraw: bool) -> Option<Result<FamilyRoute, String>> {
    let (first, rest) = word(text);
    let (afi, words) = match first {
        "evpn" | "vpls" => (Afi::L2VPN, text),
        "rtc" => (Afi::Ipv4, text),
        "ipv4" | "ipv6" | "l2vpn" if FAMILY_ROUTE_KEYWORDS.contains(&word(rest).0) => {
            let afi = match first {
                "ipv4" => Afi::Ipv4,
                "ipv6" => Afi::Ipv6,
                _ => Afi::L2VPN,
            };
            (afi, rest)
        }
        _ => return None,
    };
    let mut text = words.trim_end().trim_end_matches(';').to_string();
    if withdraw {
        let mut kept: Vec<&str> = Vec::new();
        let mut it = words.split_whitespace();
        while let Some(w) = it.next() {
            if w == "next-hop" {
                it.next();
            } else {
                kept.push(w);
            }
        }
        text = kept.join(" ");
        text.push_str(" next-hop self");
    }
    Some(family_route_from_text(&text, afi).map_err(|e| e.to_string()))
}

/// ExaBGP's `announce ipv4 flow RULE` / `ipv6 flow`: the rule (block or one-line form),
/// whose components must be of that family.
fn family_flow(afi: &str, rule: &str) -> Result<FlowConfig, String> {
    let flow = flow_from_text(rule).map_err(|e| e.to_string())?;
    let want = if afi == "ipv4" { Afi::Ipv4 } else { Afi::Ipv6 };
    if flow.rule.afi() != want {
        return bad(format!(
            "{afi} flow: the rule matches {} addresses",
            if want == Afi::Ipv4 { "IPv6" } else { "IPv4" }
        ));
    }
    Ok(flow)
}

fn parse_announce(text: &str, memo: &mut RouteMemo) -> Result<Command, String> {
    let command = parse_announce_text(text, memo)?;
    // The text is kept for the state file (see `manager/state_file.rs`).
    let written = || Some(std::sync::Arc::<str>::from(text.trim()));
    Ok(match command {
        Command::AnnounceFamily(mut r) => {
            r.api_text = written();
            Command::AnnounceFamily(r)
        }
        Command::AnnounceFlow(mut f) => {
            f.api_text = written();
            Command::AnnounceFlow(f)
        }
        other => other,
    })
}

fn parse_announce_text(text: &str, memo: &mut RouteMemo) -> Result<Command, String> {
    if let Some(route) = family_route(text, false) {
        return Ok(Command::AnnounceFamily(Box::new(route?)));
    }
    let (what, rest) = word(text);
    match what {
        "route" => {
            let (routes, tag) = memo.tagged_routes(rest).map_err(|e| e.to_string())?;
            Ok(match tag {
                None => Command::Announce(routes),
                Some((watchdog, withdraw)) => Command::AnnounceWatched {
                    routes,
                    watchdog,
                    withdraw,
                },
            })
        }
        "watchdog" => Ok(Command::Watchdog {
            name: watchdog_name(rest)?,
            announce: true,
        }),
        "attribute" | "attributes" => {
            let Some(i) = rest
                .find(" nlri ")
                .or(rest.starts_with("nlri ").then_some(0))
            else {
                return bad("announce attributes: expected '... nlri PREFIX...'");
            };
            let (attributes, prefixes) =
                (&rest[..i], rest[i..].trim_start()["nlri".len()..].trim());
            if prefixes.is_empty() {
                return bad("announce attributes: no prefix after nlri");
            }
            let mut routes = Vec::new();
            for p in prefixes.split_whitespace() {
                routes.extend(
                    memo.routes(&format!("{p} {attributes}"))
                        .map_err(|e| e.to_string())?,
                );
            }
            Ok(Command::Announce(routes))
        }
        "flow" => Ok(Command::AnnounceFlow(Box::new(
            flow_from_text(rest).map_err(|e| e.to_string())?,
        ))),
        "ipv4" | "ipv6" if word(rest).0 == "flow" => Ok(Command::AnnounceFlow(Box::new(
            family_flow(what, word(rest).1)?,
        ))),
        "eor" => Ok(Command::EndOfRib(parse_family(rest)?)),
        "route-refresh" => Ok(Command::RouteRefresh(parse_family(rest)?)),
        _ => bad(format!(
            "announce: expected route, attributes, flow, eor or route-refresh, found '{what}'"
        )),
    }
}

/// The routes of a withdrawal: their NLRI options count (`rd`, `path-information`, `split`);
/// other attributes are parsed and not compared. The next hop is replaced (ExaBGP helpers
/// often leave it out or write a placeholder such as `0.0.0.0`), and a VPN route needs no
/// label (RFC 8277 §2.4: a withdrawal's label field has no meaning).
fn withdrawn_routes(text: &str, memo: &mut RouteMemo) -> Result<Vec<RouteConfig>, String> {
    let mut words: Vec<&str> = Vec::new();
    let mut it = text.trim_end().trim_end_matches(';').split_whitespace();
    while let Some(w) = it.next() {
        if w == "next-hop" {
            it.next();
        } else {
            words.push(w);
        }
    }
    let mut text = words.join(" ");
    text.push_str(" next-hop self");
    if words.contains(&"rd") && !words.contains(&"label") {
        text.push_str(" label 0");
    }
    memo.routes(&text).map_err(|e| e.to_string())
}

/// The NAME of `announce|withdraw watchdog [NAME]` (none: the helper's name, as in ExaBGP).
fn watchdog_name(text: &str) -> Result<Option<String>, String> {
    let words: Vec<&str> = text
        .trim()
        .trim_end_matches(';')
        .split_whitespace()
        .collect();
    match words.as_slice() {
        [] => Ok(None),
        [name] => {
            crate::config::api_command::check_watchdog_name(name)
                .map_err(|e| format!("watchdog {name}: {e}"))?;
            Ok(Some((*name).to_string()))
        }
        _ => bad(format!(
            "watchdog: expected one name, found '{}'",
            text.trim()
        )),
    }
}

fn parse_withdraw(text: &str, memo: &mut RouteMemo) -> Result<Command, String> {
    if let Some(route) = family_route(text, true) {
        return Ok(Command::WithdrawFamily(Box::new(route?)));
    }
    let (what, rest) = word(text);
    match what {
        "route" => Ok(Command::Withdraw(withdrawn_routes(rest, memo)?)),
        "watchdog" => Ok(Command::Watchdog {
            name: watchdog_name(rest)?,
            announce: false,
        }),
        "attribute" | "attributes" => {
            let Some(i) = rest
                .find(" nlri ")
                .or(rest.starts_with("nlri ").then_some(0))
            else {
                return bad("withdraw attributes: expected '... nlri PREFIX...'");
            };
            let (attributes, prefixes) =
                (&rest[..i], rest[i..].trim_start()["nlri".len()..].trim());
            if prefixes.is_empty() {
                return bad("withdraw attributes: no prefix after nlri");
            }
            let mut routes = Vec::new();
            for p in prefixes.split_whitespace() {
                routes.extend(withdrawn_routes(&format!("{p} {attributes}"), memo)?);
            }
            Ok(Command::Withdraw(routes))
        }
        "flow" => Ok(Command::WithdrawFlow(Box::new(
            flow_from_text(rest).map_err(|e| e.to_string())?,
        ))),
        "ipv4" | "ipv6" if word(rest).0 == "flow" => Ok(Command::WithdrawFlow(Box::new(
            family_flow(what, word(rest).1)?,
        ))),
        _ => bad(format!(
            "withdraw: expected route, attributes or flow, found '{what}'"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn command(line: &str) -> Command {
        parse(line).command
    }

    fn created(line: &str) -> NewNeighbor {
        match command(line) {
            Command::CreateNeighbor(n) => *n,
            other => panic!("{line}: {other:?}"),
        }
    }

    fn refused(line: &str) -> String {
        match command(line) {
            Command::Invalid(e) => e,
            other => panic!("{line}: accepted as {other:?}"),
        }
    }

    #[test]
    fn create_neighbor_as_exabgp_main_writes_it() {
        let n = created(
            "create neighbor 127.0.0.1 local-address 127.0.0.1 local-as 1 peer-as 1 router-id 1.2.3.4 api peer-lifecycle",
        );
        assert_eq!(n.peer, "127.0.0.1".parse::<IpAddr>().unwrap());
        assert_eq!((n.local_as, n.peer_as), (1, 1));
        assert_eq!(n.router_id, Some(Ipv4Addr::new(1, 2, 3, 4)));
        assert_eq!(n.processes, vec!["peer-lifecycle"]);
        assert!(n.families.is_empty());
        let text = n.config_text();
        assert!(text.contains("family {\n  ipv4 unicast;"), "{text}");
        assert!(text.contains("graceful-restart disable"), "{text}");
        // Every optional parameter, `local-ip`, and the older order with `create` last.
        let n = created(
            "neighbor 10.0.0.2 local-ip 10.0.0.1 local-as 65001 peer-as 65002 family-allowed ipv4-unicast/ipv6-unicast/ipv4-flow graceful-restart 120 group-updates false api a api b api a create",
        );
        assert_eq!(n.local_address, "10.0.0.1".parse::<IpAddr>().unwrap());
        assert_eq!(n.families.len(), 3);
        assert_eq!(n.processes, vec!["a", "b"]);
        let text = n.config_text();
        for want in [
            "ipv6 unicast;",
            "ipv4 flow;",
            "graceful-restart 120;",
            "group-updates false;",
        ] {
            assert!(text.contains(want), "{want}: {text}");
        }
        assert!(
            created("create neighbor ::2 local-address ::1 local-as 1 peer-as 2 router-id 192.0.2.1 family-allowed in-open")
                .families
                .is_empty()
        );
    }

    #[test]
    fn create_and_delete_neighbor_refuse_what_they_cannot_honour() {
        for (line, why) in [
            ("create", "expected neighbor IP"),
            ("create peer 1.1.1.1", "expected 'neighbor IP"),
            (
                "create neighbor x local-address 1.1.1.1 local-as 1 peer-as 2",
                "expected an IP",
            ),
            (
                "create neighbor 1.1.1.2 local-as 1 peer-as 2",
                "missing required parameters: local-address",
            ),
            (
                "create neighbor 1.1.1.2 local-address 1.1.1.1",
                "local-as, peer-as",
            ),
            (
                "create neighbor 1.1.1.2 local-address 1.1.1.1 local-as 1 peer-as",
                "missing value for peer-as",
            ),
            (
                "create neighbor 1.1.1.2 local-address 1.1.1.1 local-as 1 peer-as 2 peer-as 3",
                "duplicate parameter peer-as",
            ),
            (
                "create neighbor 1.1.1.2 local-ip 1.1.1.1 local-address 1.1.1.1 local-as 1 peer-as 2",
                "duplicate parameter local-address",
            ),
            (
                "create neighbor 1.1.1.2 local-address 1.1.1.1 local-as 4294967296 peer-as 2",
                "bad value",
            ),
            (
                "create neighbor 1.1.1.2 local-address 1.1.1.1 local-as 1 peer-as 2 graceful-restart 5000",
                "bad value",
            ),
            (
                "create neighbor 1.1.1.2 local-address 1.1.1.1 local-as 1 peer-as 2 group-updates yes",
                "bad value",
            ),
            (
                "create neighbor 1.1.1.2 local-address 1.1.1.1 local-as 1 peer-as 2 family-allowed ipv4-nonsense",
                "expected a family",
            ),
            (
                "create neighbor 1.1.1.2 local-address 1.1.1.1 local-as 1 peer-as 2 api a;}neighbor",
                "bad value",
            ),
            (
                "create neighbor 1.1.1.2 local-address 1.1.1.1 local-as 1 peer-as 2 md5 x",
                "unknown parameter 'md5'",
            ),
            (
                "create neighbor 1.1.1.2 local-address 1.1.1.1 local-as 1 peer-as 2 delete",
                "missing value for delete",
            ),
            (
                "create neighbor ::2 local-address 1.1.1.1 local-as 1 peer-as 2",
                "different families",
            ),
            (
                "create neighbor ::2 local-address ::1 local-as 1 peer-as 2",
                "router-id is needed",
            ),
            ("delete", "expected neighbor SELECTOR"),
            ("delete neighbor 1.1.1.2 now", "unexpected 'now'"),
        ] {
            let e = refused(line);
            assert!(e.contains(why), "{line}: {e}");
        }
        let r = parse("delete neighbor 1.1.1.2 peer-as 2");
        assert_eq!(r.command, Command::DeleteNeighbor);
        assert_eq!(r.neighbors[0].peer_as, Some(2));
        let r = parse("delete neighbor *");
        assert_eq!((r.command, r.neighbors.len()), (Command::DeleteNeighbor, 1));
        assert_eq!(command("neighbor 1.1.1.2 delete"), Command::DeleteNeighbor);
    }

    #[test]
    fn eor_and_refresh_for_every_family_and_ping_help() {
        let fam = |l: &str| match command(l) {
            Command::EndOfRib(f) | Command::RouteRefresh(f) => f.map(|f| f.to_string()),
            other => panic!("{l}: {other:?}"),
        };
        assert_eq!(
            fam("announce eor l2vpn vpls").as_deref(),
            Some("l2vpn vpls")
        );
        assert_eq!(
            fam("announce eor ipv4 mpls-vpn").as_deref(),
            Some("ipv4 mpls-vpn")
        );
        assert_eq!(
            fam("announce eor ipv6 labeled-unicast").as_deref(),
            Some("ipv6 nlri-mpls")
        );
        assert_eq!(
            fam("announce route-refresh ipv4 flowspec").as_deref(),
            Some("ipv4 flow")
        );
        assert_eq!(
            fam("announce route-refresh ipv6 mup").as_deref(),
            Some("ipv6 mup")
        );
        assert_eq!(fam("announce eor"), None);
        assert!(matches!(
            command("announce eor ipv4 bogus"),
            Command::Invalid(_)
        ));
        assert_eq!(command("ping"), Command::Ping);
        assert_eq!(command("status"), Command::Status);
        assert_eq!(instance_id(), instance_id());
        assert_eq!(command("help"), Command::Help);
    }

    #[test]
    fn watchdog_commands_and_tagged_routes() {
        let wd = |name: Option<&str>, announce| Command::Watchdog {
            name: name.map(str::to_string),
            announce,
        };
        assert_eq!(command("announce watchdog dnsr"), wd(Some("dnsr"), true));
        assert_eq!(command("withdraw watchdog dnsr"), wd(Some("dnsr"), false));
        assert_eq!(command("withdraw watchdog"), wd(None, false));
        assert_eq!(
            command("announce watchdog x.y/z:@-1"),
            wd(Some("x.y/z:@-1"), true)
        );
        let r = parse("peer * announce watchdog dnsr");
        assert!(r.api6);
        assert_eq!((r.command, r.neighbors.len()), (wd(Some("dnsr"), true), 1));
        let r = parse("neighbor 127.0.0.1 withdraw watchdog dnsr");
        assert!(!r.api6);
        assert_eq!(r.neighbors[0].address, Some("127.0.0.1".parse().unwrap()));
        for bad in ["announce watchdog a b", "announce watchdog withdraw"] {
            assert!(matches!(command(bad), Command::Invalid(_)), "{bad}");
        }
        match command("announce route 10.0.0.0/24 next-hop 192.0.2.1 watchdog w withdraw") {
            Command::AnnounceWatched {
                routes,
                watchdog,
                withdraw,
            } => assert_eq!((routes.len(), watchdog.as_str(), withdraw), (1, "w", true)),
            other => panic!("{other:?}"),
        }
        match command("announce route 10.0.0.0/24 next-hop 192.0.2.1 watchdog w") {
            Command::AnnounceWatched { withdraw, .. } => assert!(!withdraw),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            command("announce route 10.0.0.0/24 next-hop 192.0.2.1 watchdog w lease 5"),
            Command::Invalid(_)
        ));
    }

    #[test]
    fn enable_and_disable_with_a_shutdown_communication() {
        let r = parse("neighbor 127.0.0.1 enable");
        assert_eq!((r.command, r.neighbors.len()), (Command::Enable, 1));
        match command("neighbor 127.0.0.1 disable \"back soon\"") {
            Command::Disable(n) => {
                assert_eq!((n.code, n.subcode), (6, 2));
                assert_eq!(n.shutdown_communication().as_deref(), Some("back soon"));
            }
            other => panic!("{other:?}"),
        }
        match command("disable") {
            Command::Disable(n) => assert!(n.data.is_empty()),
            other => panic!("{other:?}"),
        }
        assert!(matches!(command("enable now"), Command::Invalid(_)));
    }

    #[test]
    fn flush_and_clear_adj_rib() {
        assert_eq!(parse("flush adj-rib out").command, Command::FlushAdjRibOut);
        let r = parse("neighbor 192.0.2.1 clear adj-rib out");
        assert_eq!(r.command, Command::ClearAdjRibOut);
        assert_eq!(r.neighbors.len(), 1);
        assert_eq!(parse("clear adj-rib in").command, Command::ClearAdjRibIn);
        assert!(matches!(
            parse("flush adj-rib in").command,
            Command::Invalid(_)
        ));
        assert!(matches!(
            parse("clear everything").command,
            Command::Invalid(_)
        ));
    }

    #[test]
    fn teardown_with_shutdown_communication() {
        let Command::Teardown(n) = parse("neighbor 127.0.0.1 teardown 4").command else {
            panic!("not a teardown");
        };
        assert_eq!((n.code, n.subcode), (6, 4));
        // RFC 9003: length, then the UTF-8 text; ExaBGP sends the subcode's name.
        assert_eq!(n.data[0] as usize, n.data.len() - 1);
        assert_eq!(&n.data[1..], b"Administrative Reset");
        let Command::Teardown(n) = parse("teardown 2 maintenance until 18:00").command else {
            panic!("not a teardown");
        };
        assert_eq!(
            n.shutdown_communication().as_deref(),
            Some("maintenance until 18:00")
        );
        let Command::Teardown(n) = parse("teardown").command else {
            panic!("not a teardown");
        };
        assert_eq!(n.subcode, 2);
        let Command::Teardown(n) = parse("teardown 3").command else {
            panic!("not a teardown");
        };
        assert!(n.data.is_empty());
        assert!(matches!(parse("teardown 0").command, Command::Invalid(_)));
        assert!(matches!(parse("teardown 300").command, Command::Invalid(_)));
        let long = "é".repeat(200);
        let Command::Teardown(n) = parse(&format!("teardown 2 {long}")).command else {
            panic!("not a teardown");
        };
        assert!(n.data.len() <= 256 && n.shutdown_communication().is_some());
    }

    #[test]
    fn announce_and_withdraw_routes() {
        let Command::Announce(r) =
            command("announce route 203.0.113.0/24 next-hop 192.0.2.1 med 10")
        else {
            panic!()
        };
        assert_eq!(
            r[0].attributes.get(crate::wire::attribute::type_code::MED),
            Some(&crate::wire::attribute::PathAttribute::Med(10))
        );
        let Command::Withdraw(w) = command("withdraw route 203.0.113.0/24 next-hop 0.0.0.0") else {
            panic!()
        };
        assert_eq!(w[0].prefix.to_string(), "203.0.113.0/24");
        let Command::Announce(r) = command(
            "announce attributes med 100 next-hop 192.0.2.1 nlri 203.0.113.1/32 203.0.113.2/32",
        ) else {
            panic!()
        };
        assert_eq!(r.len(), 2);
        assert!(matches!(
            command("announce route 203.0.113.0/24"),
            Command::Invalid(_)
        ));
    }

    #[test]
    fn selectors() {
        let r = parse(
            "neighbor 127.0.0.1 router-id 1.2.3.4, neighbor 127.0.0.2 announce route 203.0.113.0/25 next-hop 192.0.2.1",
        );
        assert_eq!(r.neighbors.len(), 2);
        assert_eq!(r.neighbors[0].router_id, Some("1.2.3.4".parse().unwrap()));
        assert_eq!(r.neighbors[1].address, Some("127.0.0.2".parse().unwrap()));
        assert!(matches!(r.command, Command::Announce(_)));
        let r = parse("neighbor 127.0.0.1 local-as 1 peer-as 2 withdraw route 203.0.113.0/25");
        assert_eq!(r.neighbors[0].local_as, Some(1));
        assert_eq!(r.neighbors[0].peer_as, Some(2));
    }

    #[test]
    fn flows_and_others() {
        assert!(matches!(
            command(
                "announce flow route { match { destination 198.51.100.1/32; } then { discard; } }"
            ),
            Command::AnnounceFlow(_)
        ));
        assert!(matches!(
            command("withdraw flow route { match { destination 198.51.100.1/32; } }"),
            Command::WithdrawFlow(_)
        ));
        assert_eq!(
            command("announce eor ipv6 unicast"),
            Command::EndOfRib(Some(Family::IPV6_UNICAST))
        );
        assert_eq!(command("announce eor"), Command::EndOfRib(None));
        assert_eq!(
            command("show neighbor summary"),
            Command::ShowNeighbor { summary: true }
        );
        assert_eq!(command("version"), Command::Version);
        let rib_in = |json, extensive| Command::ShowAdjRibIn { json, extensive };
        assert_eq!(command("show adj-rib in"), rib_in(false, false));
        assert_eq!(command("show adj-rib in extensive"), rib_in(false, true));
        assert_eq!(command("show adj-rib in json"), rib_in(true, false));
        assert_eq!(
            command("show adj-rib-in json extensive"),
            rib_in(true, true)
        );
        assert!(matches!(
            command("show adj-rib in json json json"),
            Command::Invalid(_)
        ));
        assert!(matches!(
            command("show adj-rib sideways"),
            Command::Invalid(_)
        ));
        assert_eq!(command("ready"), Command::Ready);
        assert!(matches!(command("frobnicate"), Command::Invalid(_)));
    }

    #[test]
    fn one_line_flows_with_and_without_a_family() {
        for line in [
            "announce flow route destination 133.130.1.219/32 discard interface-set [ transitive:input:1234:10]",
            "announce flow route destination 133.130.1.19/32 interface-set [ transitive:input:1234:10 ] discard",
            "announce ipv4 flow destination 192.0.2.1/32 source-port =53 rate-limit 1000",
            "announce ipv6 flow destination-ipv6 2001:db8::1/128 discard",
        ] {
            assert!(matches!(command(line), Command::AnnounceFlow(_)), "{line}");
        }
        assert!(matches!(
            command("withdraw ipv4 flow destination 192.0.2.1/32"),
            Command::WithdrawFlow(_)
        ));
        let Command::Invalid(e) = command("announce ipv6 flow destination 192.0.2.1/32 discard")
        else {
            panic!("an IPv4 rule as ipv6 flow");
        };
        assert!(e.contains("IPv4"), "{e}");
        let Command::Invalid(e) = command("announce flow route destination 192.0.2.1/32 drop")
        else {
            panic!("an unknown action");
        };
        assert!(e.contains("'drop'"), "{e}");
    }

    #[test]
    fn family_allowed_is_in_open_unless_multi_session() {
        let conf = |extra: &str| {
            crate::config::parse_str(
                &format!("neighbor 127.0.0.1 {{ router-id 1.2.3.4; local-address 127.0.0.1; local-as 1; peer-as 1; {extra} family {{ ipv4 unicast; }} }}"),
                std::path::Path::new("t.conf"),
            )
            .unwrap()
            .neighbors
            .remove(0)
        };
        let (plain, multi) = (conf(""), conf("capability { multi-session; }"));
        let selects = |line: &str, n: &NeighborConfig| parse(line).selects(n);
        let in_open = "neighbor 127.0.0.1 family-allowed in-open announce route 9.9.9.0/24 next-hop 192.0.2.1";
        let unicast = "neighbor 127.0.0.1 family-allowed ipv4-unicast announce route 9.9.9.0/24 next-hop 192.0.2.1";
        assert!(selects(in_open, &plain) && !selects(unicast, &plain));
        assert!(!selects(in_open, &multi) && selects(unicast, &multi));
        assert_eq!(family_allowed(&multi), "ipv4-unicast");
    }

    #[test]
    fn neighbor_star_selects_every_neighbor() {
        let r = parse("neighbor * announce route 203.0.113.0/24 next-hop 192.0.2.1");
        assert!(matches!(r.command, Command::Announce(_)), "{r:?}");
        assert_eq!(r.neighbors, vec![NeighborFilter::default()]);
        assert!(matches!(
            parse("neighbor nobody announce route 203.0.113.0/24 next-hop 192.0.2.1").command,
            Command::Invalid(_)
        ));
    }

    #[test]
    fn lines_read_with_the_last_route_at_hand_parse_as_alone() {
        let lines = [
            "announce route 10.0.0.0/32 next-hop 192.0.2.1",
            "announce route 10.0.0.1/32 next-hop 192.0.2.1",
            "announce route 10.0.0.2/32 next-hop 192.0.2.1 med 5",
            "announce route 10.0.0.3/32 next-hop 192.0.2.1 med 5",
            // Another length, host bits set, another family, a bad prefix: parsed in full.
            "announce route 10.0.1.0/24 next-hop 192.0.2.1 med 5",
            "announce route 10.0.2.1/24 next-hop 192.0.2.1 med 5",
            "announce route 2001:db8::/32 next-hop 192.0.2.1 med 5",
            "announce route 2001:db8::/32 next-hop 2001:db8::1 med 5",
            "announce route 2001:db8:1::/32 next-hop 2001:db8::1 med 5",
            "announce route 10.0.300.0/24 next-hop 192.0.2.1 med 5",
            "announce route 10.0.3.0/24 next-hop 192.0.2.1 med 5",
            // split: the more-specifics of each prefix.
            "announce route 10.0.4.0/24 next-hop 192.0.2.1 split /25",
            "announce route 10.0.5.0/24 next-hop 192.0.2.1 split /25",
            // The same prefix announced, withdrawn, announced again.
            "announce route 10.0.6.0/24 next-hop 192.0.2.1",
            "withdraw route 10.0.6.0/24",
            "withdraw route 10.0.7.0/24 next-hop 192.0.2.1",
            "announce route 10.0.6.0/24 next-hop 192.0.2.1 community [ 65000:1 ]",
            "announce route 10.0.8.0/24 { next-hop 192.0.2.1; med 7; }",
            "announce route 10.0.9.0/24 { next-hop 192.0.2.1; med 7; }",
            "announce route 10.0.10.0/24; next-hop 192.0.2.1",
            "announce route 10.0.11.0/24 rd 65000:1 label 5 next-hop 192.0.2.1",
            "announce route 10.0.12.0/24 rd 65000:1 label 5 next-hop 192.0.2.1",
            "announce route 10.0.13.0/24 next-hop 192.0.2.1 lease 30",
            "announce route 10.0.14.0/24 next-hop 192.0.2.1 lease 30",
            "announce attributes next-hop 192.0.2.1 med 3 nlri 10.1.0.0/24 10.1.1.0/24 10.1.2.1/24",
            "withdraw attributes next-hop 192.0.2.1 nlri 10.1.0.0/24 10.1.1.0/24",
            "neighbor 127.0.0.1 announce route 10.0.15.0/24 next-hop 192.0.2.1",
            "neighbor 127.0.0.2 announce route 10.0.16.0/24 next-hop 192.0.2.1",
            "announce route 224.0.0.0/24 next-hop 192.0.2.1",
            "announce route 0.0.0.0/0 next-hop 192.0.2.1",
            "announce route 10.0.17.0/24 next-hop self",
            "announce route 10.0.18.0/24 next-hop self",
            "announce route 10.0.19.0/24 next-hop 0.0.0.0",
            "announce route 10.0.20.0/24 next-hop 0.0.0.0",
        ];
        let mut memo = RouteMemo::default();
        for line in lines {
            assert_eq!(parse_with(line, &mut memo), parse(line), "{line}");
        }
        // And in the other order, so each line follows another.
        let mut memo = RouteMemo::default();
        for line in lines.iter().rev() {
            assert_eq!(parse_with(line, &mut memo), parse(line), "{line}");
        }
    }
}
