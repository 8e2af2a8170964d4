//! The sending engine without the configuration parser: builds N routes in memory and runs
//! one neighbor thread (the same `session::peer` code the daemon uses) until the peer closes
//! after End-of-RIB. `make bench` uses it to separate the engine's cost from the parser's.
//!
//! `inject_synthetic 127.0.0.1:17900 1000000 [ipv4|ipv6]`

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bgpinject::rib::attributes::{NextHop, RouteAttributes};
use bgpinject::rib::route_set::RouteSet;
use bgpinject::session::core::SessionEvent;
use bgpinject::session::fsm::SessionConfig;
use bgpinject::session::peer::{self, PeerSpec};
use bgpinject::session::socket::SocketOptions;
use bgpinject::wire::family::Family;
use bgpinject::wire::prefix::Prefix;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(peer), Some(count)) = (
        args.first().and_then(|a| a.parse::<SocketAddr>().ok()),
        args.get(1).and_then(|a| a.parse::<u32>().ok()),
    ) else {
        eprintln!("usage: inject_synthetic ADDR:PORT COUNT [ipv4|ipv6]");
        std::process::exit(2);
    };
    let v6 = args.get(2).is_some_and(|a| a == "ipv6");
    let started = Instant::now();
    let next_hop = if v6 {
        IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1))
    } else {
        IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1))
    };
    let attrs = Arc::new(RouteAttributes::with_next_hop(NextHop::Address {
        global: next_hop,
        link_local: None,
    }));
    let routes = (0..count)
        .filter_map(|i| {
            let (addr, len) = if v6 {
                // 2001:db8:XXXX:YYYY::/64
                let bits = (0x2001_0db8u128 << 96) | ((i as u128) << 64);
                (IpAddr::V6(Ipv6Addr::from(bits)), 64)
            } else {
                (IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + i)), 32)
            };
            Prefix::new(addr, len).ok()
        })
        .map(|p| (p, attrs.clone()))
        .collect();
    let set = Arc::new(RouteSet::new(routes));
    eprintln!(
        "{} routes built in {:.3} s",
        set.len(),
        started.elapsed().as_secs_f64()
    );
    let spec = PeerSpec {
        peer,
        local_address: None,
        session: SessionConfig {
            local_as: 65001,
            peer_as: 65002,
            router_id: Ipv4Addr::new(192, 0, 2, 1),
            hold_time: 90,
            families: vec![if v6 {
                Family::new(
                    bgpinject::wire::family::Afi::Ipv6,
                    bgpinject::wire::family::Safi::Unicast,
                )
            } else {
                Family::IPV4_UNICAST
            }],
            passive: false,
            add_path: Vec::new(),
            extended_next_hop: Vec::new(),
            graceful_restart: None,
            four_octet_as: true,
            route_refresh: true,
            extended_message: true,
            informational: Vec::new(),
            role: None,
            role_strict: false,
            long_lived_stale_time: None,
        },
        socket: SocketOptions {
            md5_password: None,
            outgoing_ttl: None,
            incoming_ttl: None,
            source_interface: None,
        },
        group_updates: true,
        eor_wait: None,
        tap: Default::default(),
        manual_eor: false,
        local_link_local: None,
        confederation: Default::default(),
        on_update: None,
        bfd: None,
    };
    let (tx, rx) = crossbeam_channel::unbounded();
    let reports: peer::ReportSink = Arc::new(move |r| {
        let _ = tx.send(r);
    });
    let (_handle, _thread) = match peer::spawn(spec, set, 1, false, reports) {
        Ok(h) => h,
        Err(e) => {
            eprintln!("cannot start the neighbor thread: {e}");
            std::process::exit(3);
        }
    };
    // Done once the session has been up and went down again (the receiver closes after
    // End-of-RIB), bounded in time.
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut was_up = false;
    while let Ok(report) = rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
        match report.event {
            SessionEvent::Established(_) => was_up = true,
            SessionEvent::Down(_) if was_up => break,
            _ => {}
        }
    }
    eprintln!("done in {:.3} s", started.elapsed().as_secs_f64());
}
