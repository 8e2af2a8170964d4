//! The session core driven by arbitrary input after an established session: each step is one
//! byte choosing what happens (bytes from the peer, time passing, a write of some size, a new
//! table, a route refresh request, a lost connection). It must never panic, and never write a
//! message cut short unless the connection is gone.
#![no_main]

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bgpinject::rib::attributes::{NextHop, RouteAttributes};
use bgpinject::rib::route_set::RouteSet;
use bgpinject::session::core::{Command, CoreConfig, MessageTap, SessionCore};
use bgpinject::session::fsm::SessionConfig;
use bgpinject::wire::attribute::AttributeContext;
use bgpinject::wire::capability::Capability;
use bgpinject::wire::family::Family;
use bgpinject::wire::message::Message;
use bgpinject::wire::open::Open;
use bgpinject::wire::prefix::Prefix;
use libfuzzer_sys::fuzz_target;

fn routes(first: u32, count: u32) -> Arc<RouteSet> {
    let attrs = Arc::new(RouteAttributes::with_next_hop(NextHop::Address {
        global: IpAddr::V4(Ipv4Addr::new(192, 0, 2, 10)),
        link_local: None,
    }));
    Arc::new(RouteSet::new(
        (first..first + count)
            .filter_map(|i| Prefix::new(IpAddr::V4(Ipv4Addr::from(0x0A00_0000 + i)), 32).ok())
            .map(|p| (p, attrs.clone()))
            .collect(),
    ))
}

fuzz_target!(|data: &[u8]| {
    let ctx = AttributeContext {
        four_octet_as: true,
    };
    let mut now = Instant::now();
    let mut core = SessionCore::new(
        CoreConfig {
            name: "fuzz".into(),
            session: SessionConfig {
                local_as: 65000,
                peer_as: 65001,
                router_id: Ipv4Addr::new(192, 0, 2, 10),
                hold_time: 9,
                families: vec![Family::IPV4_UNICAST],
                passive: false,
                graceful_restart: None,
                four_octet_as: true,
                route_refresh: true,
                add_path: Vec::new(),
                extended_next_hop: Vec::new(),
                extended_message: true,
                informational: Vec::new(),
                role: None,
                role_strict: false,
                long_lived_stale_time: None,
            },
            group_updates: true,
            eor_wait: None,
            // Every message type reported both ways: the tap's path is fuzzed too.
            tap: MessageTap {
                receive: u32::MAX,
                send: u32::MAX,
            },
            manual_eor: false,
            local_link_local: None,
            confederation: Default::default(),
        },
        routes(0, 300),
    );
    core.start(now);
    if !core.poll_connect(now) {
        return;
    }
    core.connected(IpAddr::V4(Ipv4Addr::LOCALHOST), now);
    let open = Message::Open(Open {
        version: 4,
        my_as: 65001,
        hold_time: 9,
        router_id: Ipv4Addr::new(192, 0, 2, 1),
        capabilities: vec![
            Capability::Multiprotocol(Family::IPV4_UNICAST),
            Capability::RouteRefresh,
            Capability::EnhancedRouteRefresh,
            Capability::FourOctetAs(65001),
            Capability::ExtendedMessage,
        ],
        parameter_layout: Vec::new(),
        extended_parameters: false,
    });
    core.handle_bytes(&open.encode(ctx), now);
    core.handle_bytes(&Message::Keepalive.encode(ctx), now);
    let mut rest = data;
    while let Some((&op, tail)) = rest.split_first() {
        rest = tail;
        let arg = rest.first().copied().unwrap_or(0) as usize;
        match op % 7 {
            0 | 1 => {
                let n = arg.min(rest.len());
                core.handle_bytes(&rest[..n], now);
                rest = &rest[n..];
            }
            2 => {
                now += Duration::from_millis(arg as u64 * 40);
                core.handle_timeout(now);
            }
            3 => {
                let mut budget = arg * 97;
                while budget > 0 {
                    let Some(b) = core.poll_transmit() else { break };
                    let n = b.len().min(budget);
                    core.advance(n, now);
                    budget -= n;
                }
            }
            4 => core.handle_command(Command::Routes(routes(arg as u32, 200)), now),
            5 => core.handle_command(Command::SendRouteRefresh(None), now),
            _ => {
                if arg == 0 {
                    core.connection_lost("fuzz", now);
                }
            }
        }
        while core.poll_event().is_some() {}
        if core.wants_close(now) {
            core.closed(now);
            return;
        }
    }
});
