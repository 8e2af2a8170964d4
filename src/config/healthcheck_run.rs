//! `process NAME { run exabgp healthcheck ARGS; }`: ExaBGP's healthcheck module called as a
//! helper (`exabgp healthcheck`, `python3 -m exabgp healthcheck`, `exabgp-healthcheck`,
//! `/usr/bin/healthcheck`) becomes an in-daemon health check with the same meaning, so that
//! existing `process` blocks work unchanged without Python. Every option of healthcheck.py
//! (ExaBGP 4.2 and 5) is read here; one it does not have is refused by name at `--check`.
//!
//! The check is called after the process, announces to the neighbors whose `api` lists the
//! process (narrowed by `--neighbor`), and the process is no longer a helper of theirs.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use super::ConfigError;
use super::healthcheck::{
    self, CheckedRoute, HealthcheckConfig, Hooks, IpSetup, Label, ServiceAddress,
};
use super::lexer::{Lexer, TokenKind};
use super::model::{NeighborConfig, RouteConfig};
use super::parser::Parser;
use super::process::ProcessConfig;

/// An option's long name and its other names.
type OptionNames = (&'static str, &'static [&'static str]);

/// Options that take a value: long names, then their short ones.
const VALUED: &[OptionNames] = &[
    ("--name", &["-n"]),
    ("--config", &["-F"]),
    ("--pid", &["-p"]),
    ("--user", &[]),
    ("--group", &[]),
    ("--interval", &["-i"]),
    ("--fast-interval", &["-f"]),
    ("--timeout", &["-t"]),
    ("--rise", &[]),
    ("--fall", &[]),
    ("--disable", &[]),
    ("--command", &["--cmd", "-c"]),
    ("--next-hop", &["-N"]),
    ("--ip", &[]),
    ("--ip-ifname", &[]),
    ("--local-preference", &[]),
    ("--label", &[]),
    ("--start-ip", &[]),
    ("--up-metric", &[]),
    ("--down-metric", &[]),
    ("--disabled-metric", &[]),
    ("--increase", &[]),
    ("--community", &[]),
    ("--extended-community", &[]),
    ("--large-community", &[]),
    ("--disabled-community", &[]),
    ("--as-path", &[]),
    ("--up-as-path", &[]),
    ("--down-as-path", &[]),
    ("--disabled-as-path", &[]),
    ("--path-id", &[]),
    ("--neighbor", &[]),
    ("--execute", &[]),
    ("--up-execute", &[]),
    ("--down-execute", &[]),
    ("--disabled-execute", &[]),
    // bgpinject's: a community per state (healthcheck.py has only --disabled-community,
    // which its down state uses too).
    ("--up-community", &[]),
    ("--down-community", &[]),
    ("--up-large-community", &[]),
    ("--down-large-community", &[]),
    ("--disabled-large-community", &[]),
    ("--up-extended-community", &[]),
    ("--down-extended-community", &[]),
    ("--disabled-extended-community", &[]),
];

/// Options without a value.
const FLAGS: &[OptionNames] = &[
    ("--silent", &["-s"]),
    ("--no-syslog", &[]),
    ("--debug", &["-d"]),
    ("--no-ack", &["-a"]),
    ("--sudo", &[]),
    ("--deaggregate-networks", &[]),
    ("--no-ip-setup", &[]),
    ("--dynamic-ip-setup", &[]),
    ("--label-exact-match", &[]),
    ("--withdraw-on-down", &[]),
    ("--debounce", &[]),
    ("--help", &["-h"]),
];

/// `--syslog-facility [FACILITY]` (`-sF`): its value is optional.
const OPTIONAL_VALUE: OptionNames = ("--syslog-facility", &["-sF"]);

/// Options read and not needed in-daemon: logging goes to bgpinject's log, every state
/// change is announced once (the RIB keeps it), there is no process whose PID to write.
const IGNORED: &[&str] = &[
    "--silent",
    "--no-syslog",
    "--debug",
    "--no-ack",
    "--debounce",
    "--syslog-facility",
    "--pid",
];

/// The index of the first option when `run` calls ExaBGP's healthcheck module.
pub fn healthcheck_arguments(run: &[String]) -> Option<usize> {
    let base = |w: &str| w.rsplit('/').next().unwrap_or(w).to_string();
    let mut i = 0;
    if run.first().is_some_and(|w| base(w) == "env") {
        i = 1;
        while run
            .get(i)
            .is_some_and(|w| w.contains('=') && !w.starts_with('-'))
        {
            i += 1;
        }
    }
    let program = base(run.get(i)?);
    let word = |k: usize| run.get(i + k).map(String::as_str);
    if program == "healthcheck" || program == "exabgp-healthcheck" {
        return Some(i + 1);
    }
    if program == "exabgp" && word(1) == Some("healthcheck") {
        return Some(i + 2);
    }
    if program.starts_with("python") && word(1) == Some("-m") {
        return match (word(2), word(3)) {
            (Some("exabgp"), Some("healthcheck")) => Some(i + 4),
            (Some("exabgp.application.healthcheck"), _) => Some(i + 3),
            _ => None,
        };
    }
    None
}

/// The options given, in order, with their long names.
#[derive(Default, Debug)]
struct Options {
    given: Vec<(&'static str, Option<String>)>,
}

impl Options {
    fn last(&self, name: &str) -> Option<&str> {
        self.given
            .iter()
            .rev()
            .find(|(n, _)| *n == name)
            .and_then(|(_, v)| v.as_deref())
    }
    fn all(&self, name: &str) -> Vec<String> {
        self.given
            .iter()
            .filter(|(n, _)| *n == name)
            .filter_map(|(_, v)| v.clone())
            .collect()
    }
    fn has(&self, name: &str) -> bool {
        self.given.iter().any(|(n, _)| *n == name)
    }
}

/// The long name of `word` (an option as written, before any `=`), as argparse finds it:
/// exact names and short forms, then an unambiguous prefix of a long name.
fn long_name(word: &str) -> Result<(&'static str, Kind), String> {
    let tables: [(&[OptionNames], Kind); 3] = [
        (VALUED, Kind::Value),
        (FLAGS, Kind::Flag),
        (std::slice::from_ref(&OPTIONAL_VALUE), Kind::Optional),
    ];
    for (table, kind) in &tables {
        for (long, short) in table.iter() {
            if *long == word || short.contains(&word) {
                return Ok((long, *kind));
            }
        }
    }
    if word.starts_with("--") {
        let matches: Vec<(&'static str, Kind)> = tables
            .iter()
            .flat_map(|(table, kind)| table.iter().map(move |(l, _)| (*l, *kind)))
            .filter(|(l, _)| l.starts_with(word))
            .collect();
        match matches.as_slice() {
            [one] => return Ok(*one),
            [] => {}
            many => {
                let names: Vec<&str> = many.iter().map(|(l, _)| *l).collect();
                return Err(format!("{word} is ambiguous ({})", names.join(", ")));
            }
        }
    }
    Err(format!(
        "{word} is not an option of exabgp healthcheck (see docs/exabgp.md for those bgpinject runs)"
    ))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Value,
    Flag,
    Optional,
}

fn parse_options(args: &[String], options: &mut Options) -> Result<(), String> {
    let mut i = 0;
    while let Some(arg) = args.get(i) {
        i += 1;
        if !arg.starts_with('-') || arg == "-" {
            return Err(format!(
                "unexpected argument '{arg}' (healthcheck takes options only)"
            ));
        }
        let (word, inline) = match arg.split_once('=') {
            Some((w, v)) if w.starts_with("--") => (w, Some(v.to_string())),
            _ => (arg.as_str(), None),
        };
        // `-cCOMMAND`: a short option with its value attached.
        let (name, kind, inline) = match long_name(word) {
            Ok((n, k)) => (n, k, inline),
            Err(e) => {
                let attached = (!word.starts_with("--") && word.len() > 2)
                    .then(|| long_name(&word[..2]).ok())
                    .flatten()
                    .filter(|(_, k)| *k == Kind::Value);
                match attached {
                    Some((n, k)) => (n, k, Some(word[2..].to_string())),
                    None => return Err(e),
                }
            }
        };
        let value = match (kind, inline) {
            (Kind::Flag, Some(_)) => return Err(format!("{name} takes no value")),
            (Kind::Flag, None) => None,
            (_, Some(v)) => Some(v),
            (Kind::Optional, None) => match args.get(i) {
                Some(v) if !v.starts_with('-') => {
                    i += 1;
                    Some(v.clone())
                }
                _ => None,
            },
            (Kind::Value, None) => {
                let v = args.get(i).ok_or_else(|| format!("{name} needs a value"))?;
                i += 1;
                Some(v.clone())
            }
        };
        if name == "--help" {
            return Err("--help prints a help text and exits: not for a process".into());
        }
        if name == "--config" {
            let path = value.unwrap_or_default();
            read_config_file(Path::new(&path), options)?;
            continue;
        }
        options.given.push((name, value));
    }
    Ok(())
}

/// healthcheck.py's `--config FILE`: `option = value` or `option` per line, `#` comments;
/// its options come before those of the command line (which win).
fn read_config_file(path: &Path, options: &mut Options) -> Result<(), String> {
    use std::io::Read;
    let file =
        std::fs::File::open(path).map_err(|e| format!("--config {}: {}", path.display(), e))?;
    let mut text = String::new();
    file.take(1 << 20)
        .read_to_string(&mut text)
        .map_err(|e| format!("--config {}: {}", path.display(), e))?;
    let mut args = Vec::new();
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        match line.split_once('=') {
            Some((k, v)) => {
                args.push(format!("--{}", k.trim()));
                args.push(v.trim().to_string());
            }
            None => args.push(format!("--{line}")),
        }
    }
    if args.iter().any(|a| a == "--config") {
        return Err(format!(
            "--config {}: a file cannot name another",
            path.display()
        ));
    }
    let mut from_file = Options::default();
    parse_options(&args, &mut from_file)
        .map_err(|e| format!("--config {}: {e}", path.display()))?;
    options.given.splice(0..0, from_file.given);
    Ok(())
}

/// Turns every process that runs ExaBGP's healthcheck into a health check.
pub(super) fn translate(
    neighbors: &mut [NeighborConfig],
    processes: &mut Vec<ProcessConfig>,
    checks: &mut Vec<HealthcheckConfig>,
    file: &Arc<PathBuf>,
    notes: &mut Vec<String>,
) -> Result<(), ConfigError> {
    let mut kept = Vec::new();
    for process in std::mem::take(processes) {
        let Some(first) = healthcheck_arguments(&process.run) else {
            kept.push(process);
            continue;
        };
        let error = |message: String| ConfigError {
            location: Some(process.location.clone()),
            message: format!("process {} (exabgp healthcheck): {message}", process.name),
        };
        let mut options = Options::default();
        parse_options(&process.run[first..], &mut options).map_err(error)?;
        let listed: Vec<IpAddr> = neighbors
            .iter()
            .filter(|n| n.api_processes.contains(&process.name))
            .map(|n| n.peer_address)
            .collect();
        let check = build(&process, &options, &listed, file, notes).map_err(error)?;
        if let Some(other) = checks.iter().find(|c| c.name == check.name) {
            return Err(error(format!(
                "a healthcheck named {} is already defined at line {}",
                other.name, other.location.line
            )));
        }
        for n in neighbors.iter_mut() {
            n.api_processes.retain(|p| *p != process.name);
            n.api_subscriptions.retain(|(p, _)| *p != process.name);
        }
        checks.push(check);
    }
    *processes = kept;
    Ok(())
}

fn number<T: std::str::FromStr>(options: &Options, name: &str, default: T) -> Result<T, String> {
    match options.last(name) {
        None => Ok(default),
        Some(v) => v
            .parse()
            .map_err(|_| format!("{name} {v}: not a number in range")),
    }
}

fn duration(options: &Options, name: &str, default: Duration) -> Result<Duration, String> {
    match options.last(name) {
        None => Ok(default),
        Some(v) => healthcheck::seconds(v, 0).map_err(|e| format!("{name} {v}: {e}")),
    }
}

/// healthcheck.py's values may be written `[ ... ]` or bare.
fn list_value(v: &str) -> String {
    v.trim()
        .trim_start_matches('[')
        .trim_end_matches(']')
        .trim()
        .to_string()
}

fn build(
    process: &ProcessConfig,
    o: &Options,
    listed: &[IpAddr],
    file: &Arc<PathBuf>,
    notes: &mut Vec<String>,
) -> Result<HealthcheckConfig, String> {
    let name = process.name.clone();
    let at = format!("{}: warning:", process.location);
    for ignored in IGNORED.iter().filter(|i| o.has(i)) {
        notes.push(format!(
            "{at} process {name} (exabgp healthcheck): {ignored} is not needed in-daemon and is ignored"
        ));
    }
    if let Some(n) = o.last("--name").filter(|n| *n != name) {
        notes.push(format!(
            "{at} process {name} (exabgp healthcheck): --name {n}: the check is called {name}, after its process"
        ));
    }
    // Neighbors: those whose api lists the process, narrowed by --neighbor (`*`: all of them).
    let mut neighbors = listed.to_vec();
    let wanted = o.all("--neighbor");
    if !wanted.is_empty() && !wanted.iter().any(|w| w == "*") {
        let mut chosen = Vec::new();
        for w in &wanted {
            let a: IpAddr = w
                .parse()
                .map_err(|_| format!("--neighbor {w}: not an IP address"))?;
            if !listed.contains(&a) {
                return Err(format!(
                    "--neighbor {a}: that neighbor does not list this process in its api block"
                ));
            }
            chosen.push(a);
        }
        neighbors = chosen;
    }
    if neighbors.is_empty() {
        return Err(
            "no neighbor lists this process in its api block: its routes would go nowhere".into(),
        );
    }

    let label = o.last("--label").map(|l| Label {
        name: l.to_string(),
        exact: o.has("--label-exact-match"),
    });
    if let Some(l) = &label
        && !healthcheck::valid_label(&l.name)
    {
        return Err(format!("--label {}: not a valid label", l.name));
    }
    // The networks to announce, as given or found on the loopback (healthcheck.py's
    // default: the loopback's non-loopback addresses, those with the label if one is given).
    let given = o.all("--ip");
    let found = given.is_empty();
    let mut networks: Vec<(IpAddr, u8)> = Vec::new();
    for ip in &given {
        networks.push(parse_network(ip)?);
    }
    if found {
        // Read when the configuration is (at start and at each reload, as healthcheck.py
        // reads them when it starts); none found is not an error of the file, which may be
        // checked on another host: the check then announces nothing, and says so.
        let on_lo = label
            .as_ref()
            .map(|l| format!(" with label lo:{}", l.name))
            .unwrap_or_default();
        match super::ip_addresses::discover("lo", label.as_ref()) {
            Ok(n) if !n.is_empty() => {
                notes.push(format!(
                    "{at} process {name} (exabgp healthcheck): no --ip: announces the addresses found on lo{on_lo} now: {}",
                    n.iter()
                        .map(|(a, l)| format!("{a}/{l}"))
                        .collect::<Vec<_>>()
                        .join(" ")
                ));
                networks = n;
            }
            Ok(_) => notes.push(format!(
                "{at} process {name} (exabgp healthcheck): no --ip, and no address on lo{on_lo} now: it announces nothing until a reload finds some"
            )),
            Err(e) => notes.push(format!(
                "{at} process {name} (exabgp healthcheck): no --ip, and the addresses of lo cannot be read ({e}): it announces nothing"
            )),
        }
    }
    let mut interfaces: Vec<((IpAddr, u8), String)> = Vec::new();
    for v in o.all("--ip-ifname") {
        let (ip, ifname) = v
            .split_once('%')
            .ok_or_else(|| format!("--ip-ifname {v}: expected IP%IFNAME"))?;
        let net = parse_network(ip)?;
        if !networks.contains(&net) {
            return Err(format!("--ip-ifname {v}: no --ip {ip} is given"));
        }
        if !healthcheck::valid_interface(ifname) {
            return Err(format!("--ip-ifname {v}: not an interface name"));
        }
        interfaces.push((net, ifname.to_string()));
    }
    let interface_of = |net: &(IpAddr, u8)| {
        interfaces
            .iter()
            .find(|(n, _)| n == net)
            .map(|(_, i)| i.clone())
            .unwrap_or_else(|| "lo".to_string())
    };
    let mut addresses = Vec::new();
    for net in &networks {
        let hosts = healthcheck::host_addresses(net.0, net.1)
            .filter(|h| addresses.len() + h.len() <= healthcheck::MAX_SERVICE_ADDRESSES)
            .ok_or_else(|| {
                format!(
                    "more than {} service addresses",
                    healthcheck::MAX_SERVICE_ADDRESSES
                )
            })?;
        for (address, len) in hosts {
            addresses.push(ServiceAddress {
                address,
                len,
                interface: interface_of(net),
            });
        }
    }
    let mut announced: Vec<(IpAddr, u8)> = if o.has("--deaggregate-networks") {
        addresses.iter().map(|a| (a.address, a.len)).collect()
    } else {
        networks.clone()
    };
    let start: usize = number(o, "--start-ip", 0usize)?;
    if !announced.is_empty() {
        let by = start % announced.len();
        announced.rotate_left(by);
    }
    let ip_setup = if o.has("--dynamic-ip-setup") {
        IpSetup::Dynamic
    } else if o.has("--no-ip-setup") || found {
        // Addresses found on the loopback are the host's: never added nor removed.
        IpSetup::None
    } else {
        IpSetup::Static
    };
    if ip_setup == IpSetup::None {
        addresses.clear();
    }

    let routes = routes(o, &announced, file)?;
    let rise: u32 = number(o, "--rise", healthcheck::DEFAULT_RISE)?;
    let fall: u32 = number(o, "--fall", healthcheck::DEFAULT_FALL)?;
    let timeout: u64 = number(o, "--timeout", 5u64)?;
    let hooks = Hooks {
        any: o.all("--execute"),
        up: o.all("--up-execute"),
        down: o.all("--down-execute"),
        disabled: o.all("--disabled-execute"),
        timeout: healthcheck::DEFAULT_HOOK_TIMEOUT,
    };
    Ok(HealthcheckConfig {
        name,
        command: o.last("--command").map(str::to_string),
        interval: duration(o, "--interval", healthcheck::DEFAULT_INTERVAL)?,
        fast_interval: duration(o, "--fast-interval", healthcheck::DEFAULT_FAST_INTERVAL)?
            .max(Duration::from_millis(1)),
        // healthcheck.py waits forever with --timeout 0; a check is never waited on that long.
        timeout: Duration::from_secs(if timeout == 0 {
            86_400
        } else {
            timeout.min(86_400)
        }),
        rise: rise.max(1),
        fall: fall.max(1),
        disable_file: o.last("--disable").map(PathBuf::from),
        neighbors,
        routes,
        ip_setup,
        ip_sudo: o.has("--sudo"),
        addresses,
        label,
        hooks,
        user: o.last("--user").map(str::to_string),
        group: o.last("--group").map(str::to_string),
        location: process.location.clone(),
    })
}

/// `A.B.C.D`, `A.B.C.D/N` or IPv6 (host bits must be clear, as Python's ip_network wants).
fn parse_network(text: &str) -> Result<(IpAddr, u8), String> {
    let (addr, len) = match text.split_once('/') {
        Some((a, l)) => (a, Some(l)),
        None => (text, None),
    };
    let addr: IpAddr = addr
        .parse()
        .map_err(|_| format!("--ip {text}: not an address or network"))?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    let len: u8 = match len {
        None => max,
        Some(l) => l
            .parse()
            .ok()
            .filter(|l| *l <= max)
            .ok_or_else(|| format!("--ip {text}: bad prefix length"))?,
    };
    let prefix =
        crate::wire::prefix::Prefix::new(addr, len).map_err(|e| format!("--ip {text}: {e}"))?;
    Ok((prefix.addr(), prefix.len()))
}

/// The routes in the three states, as healthcheck.py announces them: MED from the state's
/// metric, increased by `--increase` for each further address, the state's as-path and
/// community, withdrawn when down or disabled with `--withdraw-on-down`.
fn routes(
    o: &Options,
    announced: &[(IpAddr, u8)],
    file: &Arc<PathBuf>,
) -> Result<Vec<CheckedRoute>, String> {
    let next_hop = match o.last("--next-hop") {
        None => "self".to_string(),
        Some(n) => n
            .parse::<IpAddr>()
            .map_err(|_| format!("--next-hop {n}: not an IP address"))?
            .to_string(),
    };
    let metric = |state: &str, default: i64| number(o, &format!("--{state}-metric"), default);
    let metrics = [
        metric("up", 100)?,
        metric("down", 1000)?,
        metric("disabled", 500)?,
    ];
    let increase: i64 = number(o, "--increase", 1)?;
    let local_pref: i64 = number(o, "--local-preference", -1)?;
    let path_id = o.last("--path-id");
    // The state's own value, else the general one (--disabled-community also serves down).
    let pick = |state: &str, what: &str| -> Option<String> {
        let own = o.last(&format!("--{state}-{what}"));
        let disabled = (state == "down" && what == "community")
            .then(|| o.last("--disabled-community"))
            .flatten();
        own.or(disabled)
            .or_else(|| o.last(&format!("--{what}")))
            .map(list_value)
    };
    let withdraw = o.has("--withdraw-on-down");
    let mut out = Vec::new();
    for (i, (addr, len)) in announced.iter().enumerate() {
        let mut states: Vec<Option<RouteConfig>> = Vec::new();
        for (s, state) in ["up", "down", "disabled"].into_iter().enumerate() {
            if withdraw && state != "up" {
                states.push(None);
                continue;
            }
            let med = metrics[s] + increase * i as i64;
            let mut text = format!("route {addr}/{len} next-hop {next_hop} med {med}");
            if local_pref >= 0 {
                text.push_str(&format!(" local-preference {local_pref}"));
            }
            for what in [
                "community",
                "extended-community",
                "large-community",
                "as-path",
            ] {
                if let Some(v) = pick(state, what).filter(|v| !v.is_empty()) {
                    text.push_str(&format!(" {what} [ {v} ]"));
                }
            }
            if let Some(id) = path_id {
                text.push_str(&format!(" path-information {id}"));
            }
            text.push(';');
            states.push(Some(parse_route(&text, file)?));
        }
        let mut states = states.into_iter();
        let (Some(Some(up)), Some(down), Some(disabled)) =
            (states.next(), states.next(), states.next())
        else {
            return Err("internal error: a route without its up state".into());
        };
        out.push(CheckedRoute { up, down, disabled });
    }
    Ok(out)
}

/// A route statement built from the options, parsed as a configuration route.
fn parse_route(text: &str, file: &Arc<PathBuf>) -> Result<RouteConfig, String> {
    let mut lexer = Lexer::new(text);
    let mut tokens = Vec::new();
    loop {
        let t = lexer.next_token().map_err(|e| format!("{text}: {e}"))?;
        let end = t.kind == TokenKind::EndOfFile;
        tokens.push(t);
        if end {
            break;
        }
    }
    let mut p = Parser::from_tokens(tokens, Arc::clone(file));
    let kw = p.advance();
    super::route::parse_route(&mut p, &kw)
        .map(|r| r.route)
        .map_err(|e| format!("{} (from the options: {text})", e.message))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::config::parse_str;
    use crate::wire::attribute::PathAttribute;

    const N: &str = "neighbor 192.0.2.1 { router-id 192.0.2.10; local-as 65000; peer-as 65001; api { processes [ hc ]; } }\nneighbor 192.0.2.2 { router-id 192.0.2.10; local-as 65000; peer-as 65001; }";

    fn config(run: &str) -> Result<HealthcheckConfig, String> {
        let text = format!("process hc {{ run {run}; }}\n{N}");
        parse_str(&text, Path::new("t.conf"))
            .map(|c| {
                assert!(c.processes.is_empty());
                assert!(c.neighbors[0].api_processes.is_empty());
                c.healthchecks[0].clone()
            })
            .map_err(|e| e.to_string())
    }

    fn med(r: &Option<RouteConfig>) -> Option<u32> {
        r.as_ref()?
            .attributes
            .values()
            .iter()
            .find_map(|a| match a {
                PathAttribute::Med(m) => Some(*m),
                _ => None,
            })
    }

    #[test]
    fn the_run_forms_are_recognised() {
        let w = |s: &str| s.split(' ').map(String::from).collect::<Vec<_>>();
        assert_eq!(
            healthcheck_arguments(&w("exabgp healthcheck --ip 1.2.3.4")),
            Some(2)
        );
        assert_eq!(
            healthcheck_arguments(&w("/usr/sbin/exabgp healthcheck")),
            Some(2)
        );
        assert_eq!(
            healthcheck_arguments(&w("python3 -m exabgp healthcheck -c x")),
            Some(4)
        );
        assert_eq!(
            healthcheck_arguments(&w("/usr/bin/python3.11 -m exabgp.application.healthcheck")),
            Some(3)
        );
        assert_eq!(
            healthcheck_arguments(&w("/usr/bin/healthcheck --cmd x")),
            Some(1)
        );
        assert_eq!(healthcheck_arguments(&w("exabgp-healthcheck")), Some(1));
        assert_eq!(
            healthcheck_arguments(&w("/usr/bin/env A=1 exabgp healthcheck")),
            Some(4)
        );
        assert_eq!(healthcheck_arguments(&w("exabgp --version")), None);
        assert_eq!(healthcheck_arguments(&w("python3 /srv/check.py")), None);
    }

    #[test]
    fn metrics_per_state_increase_per_address_and_communities() {
        let h = config(
            "python3 -m exabgp healthcheck --cmd \"test -e /x\" --ip 203.0.113.1/32 --ip 203.0.113.2 --up-metric 10 --down-metric 20 --disabled-metric 30 --increase 5 --community 65000:1 --disabled-community 65000:666 --as-path \"65000 65000\" --down-as-path 65009 --large-community 65000:1:1 --no-ip-setup --rise 2 --fall 4 -i 0.5 -f 0.2 --timeout 3 --disable /tmp/off --execute \"echo $STATE\" --up-execute up",
        )
        .unwrap();
        assert_eq!(h.command.as_deref(), Some("test -e /x"));
        assert_eq!((h.rise, h.fall), (2, 4));
        assert_eq!(h.interval, Duration::from_millis(500));
        assert_eq!(h.fast_interval, Duration::from_millis(200));
        assert_eq!(h.timeout, Duration::from_secs(3));
        assert_eq!(h.neighbors, ["192.0.2.1".parse::<IpAddr>().unwrap()]);
        assert_eq!(h.ip_setup, IpSetup::None);
        assert!(h.addresses.is_empty());
        assert_eq!(h.hooks.any, ["echo $STATE"]);
        assert_eq!(h.hooks.up, ["up"]);
        let meds: Vec<_> = h
            .routes
            .iter()
            .map(|r| (med(&Some(r.up.clone())), med(&r.down), med(&r.disabled)))
            .collect();
        assert_eq!(
            meds,
            [
                (Some(10), Some(20), Some(30)),
                (Some(15), Some(25), Some(35))
            ]
        );
        let r = &h.routes[0];
        assert_eq!(r.up.attributes.communities().len(), 1);
        let down = r.down.as_ref().unwrap();
        assert_ne!(down.attributes.communities(), r.up.attributes.communities());
    }

    #[test]
    fn withdraw_on_down_setup_and_neighbors() {
        let h = config("exabgp healthcheck --ip 203.0.113.8/30 --withdraw-on-down --dynamic-ip-setup --label web --neighbor 192.0.2.1 --sudo").unwrap();
        assert_eq!(h.routes.len(), 1);
        assert_eq!((&h.routes[0].down, &h.routes[0].disabled), (&None, &None));
        assert_eq!(h.ip_setup, IpSetup::Dynamic);
        assert!(h.ip_sudo);
        assert_eq!(h.addresses.len(), 4);
        assert_eq!(h.command, None);
        let h =
            config("exabgp healthcheck --ip 203.0.113.8/31 --deaggregate-networks --start-ip 1")
                .unwrap();
        assert_eq!(h.ip_setup, IpSetup::Static);
        let prefixes: Vec<String> = h.routes.iter().map(|r| r.up.prefix.to_string()).collect();
        assert_eq!(prefixes, ["203.0.113.9/32", "203.0.113.8/32"]);
    }

    #[test]
    fn unknown_or_bad_options_are_refused_by_name() {
        let e = config("exabgp healthcheck --ip 203.0.113.1 --colour red").unwrap_err();
        assert!(e.contains("--colour is not an option"), "{e}");
        let e = config("exabgp healthcheck --ip 203.0.113.1 --up-metric x").unwrap_err();
        assert!(e.contains("--up-metric x"), "{e}");
        let e = config("exabgp healthcheck --ip 203.0.113.1 --neighbor 192.0.2.2").unwrap_err();
        assert!(e.contains("does not list this process"), "{e}");
        let e = config("exabgp healthcheck --ip 203.0.113.1/24").unwrap_err();
        assert!(e.contains("--ip 203.0.113.1/24"), "{e}");
        let e = config("exabgp healthcheck --ip 203.0.113.1 --rise").unwrap_err();
        assert!(e.contains("--rise needs a value"), "{e}");
        let e = config("exabgp healthcheck --ip 203.0.113.1 --community 65000:x").unwrap_err();
        assert!(e.contains("65000:x"), "{e}");
        // argparse's unambiguous prefixes and attached short values.
        let h = config("exabgp healthcheck --ip 203.0.113.1 --withdraw -cfalse --inter=2").unwrap();
        assert_eq!(h.command.as_deref(), Some("false"));
        assert_eq!(h.interval, Duration::from_secs(2));
        assert_eq!(h.routes[0].down, None);
    }

    #[test]
    fn a_config_file_gives_options_the_command_line_overrides() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("hc.conf");
        std::fs::write(
            &f,
            "# comment\nname = web\ninterval = 7\nwithdraw-on-down\ncommand = true\n",
        )
        .unwrap();
        let h = config(&format!(
            "exabgp healthcheck --config {} --ip 203.0.113.1 --interval 3",
            f.display()
        ))
        .unwrap();
        assert_eq!(h.interval, Duration::from_secs(3));
        assert_eq!(h.command.as_deref(), Some("true"));
        assert_eq!(h.routes[0].down, None);
    }
}
