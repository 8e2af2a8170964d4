//! `bgpinject encode CONFIG [--neighbor IP] [--as2]`: prints, one hex message per line, the
//! OPEN, the UPDATEs and the End-of-RIB markers bgpinject would send to a neighbor, assuming
//! the peer negotiates every configured family. `bgpinject decode` reads them back.

use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::Path;

use getopts::Options;

use crate::config;
use crate::manager::{route_sets, session_config, start_routes};
use crate::rib::packer::{self, SessionParams, split_messages};
use crate::session::fsm::Fsm;
use crate::wire::attribute::{AttributeContext, hex};
use crate::wire::message::{MAX_MESSAGE_LEN, Message};

fn usage(o: &Options) -> String {
    o.usage("Usage: bgpinject encode [--neighbor IP] [--as2] CONFIG")
}

/// Runs the subcommand; `args` excludes the word `encode`. Returns the exit code.
pub fn run(args: &[String], out: &mut dyn Write) -> i32 {
    let mut o = Options::new();
    o.optopt(
        "",
        "neighbor",
        "only this neighbor (default: every neighbor)",
        "IP",
    );
    o.optflag(
        "",
        "as2",
        "encode for a peer without the 4-octet AS capability",
    );
    o.optflag("h", "help", "print this help");
    let m = match o.parse(args) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("bgpinject encode: {e}\n\n{}", usage(&o));
            return 2;
        }
    };
    if m.opt_present("help") {
        let _ = write!(out, "{}", usage(&o));
        return 0;
    }
    let [path] = m.free.as_slice() else {
        eprintln!("bgpinject encode: expected one CONFIG\n\n{}", usage(&o));
        return 2;
    };
    let only: Option<IpAddr> = match m.opt_str("neighbor").map(|s| s.parse()) {
        None => None,
        Some(Ok(ip)) => Some(ip),
        Some(Err(e)) => {
            eprintln!("bgpinject encode: --neighbor: {e}");
            return 2;
        }
    };
    let config = match config::load(Path::new(path)) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return 1;
        }
    };
    let as2 = m.opt_present("as2");
    let sets = route_sets(&config);
    let mut found = false;
    for (n, routes) in config.neighbors.iter().zip(sets) {
        if only.is_some_and(|ip| ip != n.peer_address) {
            continue;
        }
        found = true;
        let routes = start_routes(n, &routes);
        // What the daemon would send: 2-octet AS when asked, or when the neighbor's
        // `capability { asn4 disable; }` keeps the capability out of the OPEN.
        let four_octet_as = !as2 && n.options.four_octet_as;
        let ctx = AttributeContext { four_octet_as };
        let open = Fsm::new(session_config(n)).open_message();
        let params = SessionParams {
            group_updates: n.options.group_updates,
            four_octet_as,
            ebgp: n.is_ebgp(),
            local_as: n.open_as(),
            local_address: n.local_address.unwrap_or(match n.peer_address {
                IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
                IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
            }),
            families: n.families.clone(),
            max_message_len: MAX_MESSAGE_LEN,
            // As if the peer accepted every capability we offer.
            add_path: session_config(n)
                .add_path
                .iter()
                .filter(|(_, m)| m.send())
                .map(|(f, _)| *f)
                .collect(),
            extended_next_hop: n.options.extended_next_hop.iter().map(|e| e.0).collect(),
            local_link_local: n.options.local_link_local,
            confederation: n.confederation_role(),
            // RFC 9234 egress: as the daemon sends on a session whose role matched.
            role: n.options.role,
        };
        let mut lines = vec![hex(&Message::Open(open).encode(ctx))];
        let packed = packer::pack_table(&routes, &params);
        lines.extend(split_messages(&packed.bytes).into_iter().map(hex));
        lines.extend(
            n.families
                .iter()
                .map(|&f| hex(&packer::end_of_rib(f, &params))),
        );
        for l in lines {
            if writeln!(out, "{l}").is_err() {
                return 3;
            }
        }
    }
    if !found {
        eprintln!(
            "bgpinject encode: no neighbor {} in {path}",
            only.map(|i| i.to_string()).unwrap_or_default()
        );
        return 1;
    }
    0
}
