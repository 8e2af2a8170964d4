//! The FSM driven by recorded events, without sockets or real time.

use super::*;

fn config(passive: bool) -> SessionConfig {
    SessionConfig {
        local_as: 65000,
        peer_as: 65001,
        router_id: Ipv4Addr::new(192, 0, 2, 10),
        hold_time: 90,
        families: vec![Family::IPV4_UNICAST, Family::IPV6_UNICAST],
        passive,
        graceful_restart: None,
        four_octet_as: true,
        route_refresh: true,
        add_path: Vec::new(),
        extended_next_hop: Vec::new(),
        extended_message: false,
        informational: Vec::new(),
        role: None,
        role_strict: false,
        long_lived_stale_time: None,
    }
}

fn peer_open(asn: u32, hold: u16, caps: Vec<Capability>) -> Message {
    Message::Open(Open {
        version: 4,
        my_as: u16::try_from(asn).unwrap_or(23456),
        hold_time: hold,
        router_id: Ipv4Addr::new(192, 0, 2, 1),
        capabilities: caps,
        parameter_layout: Vec::new(),
        extended_parameters: false,
    })
}

fn full_caps() -> Vec<Capability> {
    vec![
        Capability::Multiprotocol(Family::IPV4_UNICAST),
        Capability::Multiprotocol(Family::IPV6_UNICAST),
        Capability::RouteRefresh,
        Capability::FourOctetAs(65001),
    ]
}

/// Drives a session to Established; returns the FSM and the time.
fn established() -> (Fsm, Instant) {
    let t = Instant::now();
    let mut fsm = Fsm::new(config(false));
    assert_eq!(fsm.handle(Event::Start, t), vec![Action::Connect]);
    let a = fsm.handle(Event::Connected, t);
    assert!(matches!(a.as_slice(), [Action::Send(Message::Open(_))]));
    let a = fsm.handle(
        Event::Received(peer_open(65001, 30, full_caps()), vec![]),
        t,
    );
    assert_eq!(a, vec![Action::Send(Message::Keepalive)]);
    assert_eq!(fsm.state(), State::OpenConfirm);
    let a = fsm.handle(Event::Received(Message::Keepalive, vec![]), t);
    assert!(matches!(a.as_slice(), [Action::SessionUp(_)]));
    assert_eq!(fsm.state(), State::Established);
    (fsm, t)
}

#[test]
fn negotiates_min_hold_time_and_common_families() {
    let (fsm, _) = established();
    let n = fsm.negotiated().unwrap();
    assert_eq!(n.hold_time, 30);
    assert_eq!(n.keepalive_interval(), Some(Duration::from_secs(10)));
    assert!(n.four_octet_as);
    assert_eq!(n.families, vec![Family::IPV4_UNICAST, Family::IPV6_UNICAST]);
}

#[test]
fn peer_without_multiprotocol_gets_ipv4_unicast_only() {
    let t = Instant::now();
    let mut fsm = Fsm::new(config(true));
    assert!(fsm.handle(Event::Start, t).is_empty());
    assert_eq!(fsm.state(), State::Active);
    fsm.handle(Event::Connected, t);
    fsm.handle(Event::Received(peer_open(65001, 90, vec![]), vec![]), t);
    let n = fsm.negotiated().unwrap();
    assert_eq!(n.families, vec![Family::IPV4_UNICAST]);
    assert!(!n.four_octet_as);
}

#[test]
fn wrong_peer_as_gets_bad_peer_as() {
    let t = Instant::now();
    let mut fsm = Fsm::new(config(false));
    fsm.handle(Event::Start, t);
    fsm.handle(Event::Connected, t);
    let mut caps = full_caps();
    caps[3] = Capability::FourOctetAs(65099);
    let a = fsm.handle(Event::Received(peer_open(65099, 90, caps), vec![]), t);
    let Action::Send(Message::Notification(n)) = &a[0] else {
        panic!("{a:?}")
    };
    assert_eq!((n.code, n.subcode), (2, 2));
    assert!(a.contains(&Action::Disconnect));
    assert_eq!(fsm.state(), State::Idle);
}

#[test]
fn four_octet_peer_as_is_read_from_capability() {
    let t = Instant::now();
    let mut c = config(false);
    c.peer_as = 4_200_000_001;
    let mut fsm = Fsm::new(c);
    fsm.handle(Event::Start, t);
    fsm.handle(Event::Connected, t);
    let mut caps = full_caps();
    caps[3] = Capability::FourOctetAs(4_200_000_001);
    let a = fsm.handle(
        Event::Received(peer_open(4_200_000_001, 90, caps), vec![]),
        t,
    );
    assert_eq!(a, vec![Action::Send(Message::Keepalive)]);
}

#[test]
fn our_open_uses_as_trans_for_large_asn() {
    let mut c = config(false);
    c.local_as = 4_200_000_000;
    let open = Fsm::new(c).open_message();
    assert_eq!(open.my_as, 23456);
    assert_eq!(open.asn(), 4_200_000_000);
}

#[test]
fn keepalive_every_third_of_hold_time_and_hold_expiry_sends_4_0() {
    let (mut fsm, t) = established();
    assert!(
        fsm.handle(Event::Tick, t + Duration::from_secs(5))
            .is_empty()
    );
    assert_eq!(
        fsm.handle(Event::Tick, t + Duration::from_secs(10)),
        vec![Action::Send(Message::Keepalive)]
    );
    let a = fsm.handle(Event::Tick, t + Duration::from_secs(31));
    let Action::Send(Message::Notification(n)) = &a[0] else {
        panic!("{a:?}")
    };
    assert_eq!((n.code, n.subcode), (4, 0));
    assert_eq!(fsm.state(), State::Idle);
}

#[test]
fn received_keepalive_restarts_hold_timer() {
    let (mut fsm, t) = established();
    fsm.handle(
        Event::Received(Message::Keepalive, vec![]),
        t + Duration::from_secs(25),
    );
    let a = fsm.handle(Event::Tick, t + Duration::from_secs(40));
    assert!(
        !a.iter().any(|x| matches!(x, Action::SessionDown(_))),
        "{a:?}"
    );
}

#[test]
fn hold_time_zero_disables_both_timers() {
    let t = Instant::now();
    let mut c = config(false);
    c.hold_time = 0;
    let mut fsm = Fsm::new(c);
    fsm.handle(Event::Start, t);
    fsm.handle(Event::Connected, t);
    fsm.handle(
        Event::Received(peer_open(65001, 90, full_caps()), vec![]),
        t,
    );
    fsm.handle(Event::Received(Message::Keepalive, vec![]), t);
    assert_eq!(fsm.state(), State::Established);
    assert_eq!(fsm.next_deadline(), None);
    assert!(
        fsm.handle(Event::Tick, t + Duration::from_secs(100_000))
            .is_empty()
    );
}

#[test]
fn route_refresh_for_negotiated_family_is_passed_on() {
    let (mut fsm, t) = established();
    let rr = Message::RouteRefresh(RouteRefresh {
        family: Family::IPV6_UNICAST,
        subtype: 0,
    });
    assert_eq!(
        fsm.handle(Event::Received(rr, vec![]), t),
        vec![Action::RouteRefresh(Family::IPV6_UNICAST)]
    );
}

#[test]
fn update_before_established_is_an_fsm_error() {
    let t = Instant::now();
    let mut fsm = Fsm::new(config(false));
    fsm.handle(Event::Start, t);
    fsm.handle(Event::Connected, t);
    let a = fsm.handle(
        Event::Received(Message::Update(Update::default()), vec![]),
        t,
    );
    let Action::Send(Message::Notification(n)) = &a[0] else {
        panic!("{a:?}")
    };
    assert_eq!((n.code, n.subcode), (5, 1));
}

#[test]
fn notification_from_peer_brings_session_down() {
    let (mut fsm, t) = established();
    let n = Notification::administrative_shutdown("bye");
    let a = fsm.handle(Event::Received(Message::Notification(n.clone()), vec![]), t);
    assert_eq!(
        a,
        vec![
            Action::Disconnect,
            Action::SessionDown(DownReason::Received(n))
        ]
    );
}

#[test]
fn stop_sends_the_given_cease() {
    let (mut fsm, t) = established();
    let n = Notification::administrative_shutdown("maintenance");
    let a = fsm.handle(Event::Stop(n.clone()), t);
    assert_eq!(a[0], Action::Send(Message::Notification(n)));
    assert_eq!(fsm.state(), State::Idle);
}

#[test]
fn graceful_restart_is_advertised_and_stop_for_restart_closes_silently_only_when_negotiated() {
    let t = Instant::now();
    let mut c = config(false);
    c.graceful_restart = Some(120);
    let mut fsm = Fsm::new(c.clone());
    let open = fsm.open_message();
    assert!(open.capabilities.iter().any(|cap| matches!(
        cap,
        Capability::GracefulRestart(gr) if gr.time == 120 && gr.families.len() == 2
    )));
    fsm.handle(Event::Start, t);
    fsm.handle(Event::Connected, t);
    let mut caps = full_caps();
    caps.push(Capability::GracefulRestart(GracefulRestart {
        flags: 0,
        time: 90,
        families: vec![],
    }));
    fsm.handle(Event::Received(peer_open(65001, 90, caps), vec![]), t);
    fsm.handle(Event::Received(Message::Keepalive, vec![]), t);
    let n = Notification::administrative_shutdown("restart");
    let a = fsm.handle(Event::StopForRestart(n.clone()), t);
    assert_eq!(
        a,
        vec![
            Action::Disconnect,
            Action::SessionDown(DownReason::GracefulRestart)
        ]
    );
    // Without the peer's capability, a restart stop sends the NOTIFICATION.
    let mut fsm = Fsm::new(c);
    fsm.handle(Event::Start, t);
    fsm.handle(Event::Connected, t);
    fsm.handle(
        Event::Received(peer_open(65001, 90, full_caps()), vec![]),
        t,
    );
    fsm.handle(Event::Received(Message::Keepalive, vec![]), t);
    let a = fsm.handle(Event::StopForRestart(n.clone()), t);
    assert_eq!(a[0], Action::Send(Message::Notification(n)));
}

#[test]
fn asn4_disabled_is_not_advertised_nor_negotiated() {
    let t = Instant::now();
    let mut c = config(false);
    c.four_octet_as = false;
    let mut fsm = Fsm::new(c);
    assert!(
        !fsm.open_message()
            .capabilities
            .iter()
            .any(|cap| matches!(cap, Capability::FourOctetAs(_)))
    );
    fsm.handle(Event::Start, t);
    fsm.handle(Event::Connected, t);
    fsm.handle(
        Event::Received(peer_open(65001, 90, full_caps()), vec![]),
        t,
    );
    assert!(!fsm.negotiated().unwrap().four_octet_as);
}

#[test]
fn enhanced_route_refresh_is_negotiated_and_borr_eorr_from_the_peer_are_not_requests() {
    let t = Instant::now();
    let mut fsm = Fsm::new(config(false));
    assert!(
        fsm.open_message()
            .capabilities
            .contains(&Capability::EnhancedRouteRefresh)
    );
    fsm.handle(Event::Start, t);
    fsm.handle(Event::Connected, t);
    let mut caps = full_caps();
    caps.push(Capability::EnhancedRouteRefresh);
    fsm.handle(Event::Received(peer_open(65001, 90, caps), vec![]), t);
    fsm.handle(Event::Received(Message::Keepalive, vec![]), t);
    assert!(fsm.negotiated().unwrap().enhanced_route_refresh);
    for subtype in [1, 2] {
        let rr = Message::RouteRefresh(RouteRefresh {
            family: Family::IPV4_UNICAST,
            subtype,
        });
        assert!(fsm.handle(Event::Received(rr, vec![]), t).is_empty());
    }
}

/// The actions after the peer's OPEN with `caps` (plus the full set) reached an FSM with
/// our `role` and `strict`.
fn open_with_role(role: Option<Role>, strict: bool, caps: &[Capability]) -> (Fsm, Vec<Action>) {
    let t = Instant::now();
    let mut c = config(false);
    c.role = role;
    c.role_strict = strict;
    let mut fsm = Fsm::new(c);
    fsm.handle(Event::Start, t);
    fsm.handle(Event::Connected, t);
    let mut all = full_caps();
    all.extend_from_slice(caps);
    let a = fsm.handle(Event::Received(peer_open(65001, 90, all), vec![]), t);
    (fsm, a)
}

fn role_mismatch_sent(a: &[Action]) -> bool {
    a.iter().any(|x| {
        matches!(x, Action::Send(Message::Notification(n)) if (n.code, n.subcode, n.data.len()) == (2, 11, 0))
    }) && a.contains(&Action::Disconnect)
        && a.iter().any(|x| matches!(x, Action::OpenRefused(_)))
}

#[test]
fn our_open_carries_the_role_capability_as_one_octet() {
    let mut c = config(false);
    c.role = Some(Role::Customer);
    let open = Fsm::new(c).open_message();
    let mut bytes = Vec::new();
    open.emit_body(&mut bytes);
    // RFC 9234 §4.1: code 9, length 1, customer = 3.
    assert!(bytes.windows(3).any(|w| w == [9, 1, 3]), "{bytes:02x?}");
    assert!(
        Fsm::new(config(false))
            .open_message()
            .capabilities
            .iter()
            .all(|c| c.code() != 9)
    );
}

#[test]
fn a_matching_role_pair_comes_up_with_the_peer_role() {
    let (fsm, a) = open_with_role(Some(Role::Provider), true, &[Capability::Role(3)]);
    assert_eq!(a, vec![Action::Send(Message::Keepalive)]);
    assert_eq!(fsm.negotiated().unwrap().peer_role, Some(Role::Customer));
    let (_, a) = open_with_role(Some(Role::Rs), false, &[Capability::Role(2)]);
    assert_eq!(a, vec![Action::Send(Message::Keepalive)]);
    let (_, a) = open_with_role(Some(Role::Peer), false, &[Capability::Role(4)]);
    assert_eq!(a, vec![Action::Send(Message::Keepalive)]);
}

#[test]
fn a_wrong_role_pair_is_role_mismatch() {
    for (ours, theirs) in [
        (Role::Provider, 0),
        (Role::Peer, 3),
        (Role::Rs, 1),
        (Role::Customer, 4),
    ] {
        let (fsm, a) = open_with_role(Some(ours), false, &[Capability::Role(theirs)]);
        assert!(role_mismatch_sent(&a), "{ours} {theirs}: {a:?}");
        assert_eq!(fsm.state(), State::Idle);
    }
}

#[test]
fn strict_without_peer_role_is_role_mismatch_and_lenient_comes_up() {
    let (_, a) = open_with_role(Some(Role::Peer), true, &[]);
    assert!(role_mismatch_sent(&a), "{a:?}");
    let (fsm, a) = open_with_role(Some(Role::Peer), false, &[]);
    assert_eq!(a, vec![Action::Send(Message::Keepalive)]);
    assert_eq!(fsm.negotiated().unwrap().peer_role, None);
}

#[test]
fn unknown_or_conflicting_peer_roles() {
    // An unassigned value cannot pair with any role of ours.
    let (_, a) = open_with_role(Some(Role::Provider), false, &[Capability::Role(7)]);
    assert!(role_mismatch_sent(&a), "{a:?}");
    // Two different roles: refused even without a role of ours.
    let (_, a) = open_with_role(None, false, &[Capability::Role(3), Capability::Role(0)]);
    assert!(role_mismatch_sent(&a), "{a:?}");
    // The same role twice is one role.
    let (_, a) = open_with_role(
        Some(Role::Provider),
        false,
        &[Capability::Role(3), Capability::Role(3)],
    );
    assert_eq!(a, vec![Action::Send(Message::Keepalive)]);
    // Without a role of ours, the peer's is only informational.
    let (_, a) = open_with_role(None, true, &[Capability::Role(200)]);
    assert_eq!(a, vec![Action::Send(Message::Keepalive)]);
}

#[test]
fn llgr_is_advertised_per_family_with_graceful_restart_only() {
    let mut c = config(false);
    c.long_lived_stale_time = Some(3600);
    assert!(
        Fsm::new(c.clone())
            .open_message()
            .capabilities
            .iter()
            .all(|c| c.code() != 71),
        "LLGR without GR (RFC 9494 §4.2)"
    );
    c.graceful_restart = Some(120);
    let open = Fsm::new(c).open_message();
    let mut bytes = Vec::new();
    open.emit_body(&mut bytes);
    // RFC 9494 §3: code 71, 7 octets per family: AFI, SAFI, flags (F = 0x80), 24-bit time.
    let llgr = [
        71, 14, 0, 1, 1, 0x80, 0x00, 0x0e, 0x10, 0, 2, 1, 0x80, 0x00, 0x0e, 0x10,
    ];
    assert!(bytes.windows(llgr.len()).any(|w| w == llgr), "{bytes:02x?}");
}

/// A hostile OPEN: RFC 9072 extended parameters holding 1,300 Role capabilities (all an
/// OPEN of 4,096 octets holds, RFC 8654 §3; 20,000 make a message too long, 1/2), and a
/// second run where the last one differs, decoded from bytes and fed to the FSM: the same
/// role repeated is one role, a different one is Role Mismatch; nothing panics. A Role
/// capability of the wrong length, and an LLGR one cut mid-family, are OPEN errors (2/0).
#[test]
fn a_huge_capability_list_and_malformed_role_or_llgr_values() {
    use crate::wire::message::DecodeContext;
    let open_bytes = |caps: &[u8]| {
        // Extended optional parameters (RFC 9072 §2): 255, 255, 2-octet length, then
        // parameters of type (1), 2-octet length, value.
        let mut params = vec![2u8];
        params.extend_from_slice(&(caps.len() as u16).to_be_bytes());
        params.extend_from_slice(caps);
        let mut body = vec![4, 0xfd, 0xe9, 0, 90, 192, 0, 2, 1, 255, 255];
        body.extend_from_slice(&(params.len() as u16).to_be_bytes());
        body.extend_from_slice(&params);
        let mut m = vec![0xff; 16];
        m.extend_from_slice(&((19 + body.len()) as u16).to_be_bytes());
        m.push(1);
        m.extend_from_slice(&body);
        m
    };
    let ctx = DecodeContext {
        max_message_len: 65535,
        ..DecodeContext::default()
    };
    let mut caps: Vec<u8> = [1, 4, 0, 1, 0, 1, 65, 4, 0, 0, 0xfd, 0xe9].to_vec();
    let mut too_many = caps.clone();
    for _ in 0..20_000 {
        too_many.extend_from_slice(&[9, 1, 3]);
    }
    let e = Message::decode(&open_bytes(&too_many), ctx).unwrap_err();
    assert_eq!(e.notification().map(|n| (n.code, n.subcode)), Some((1, 2)));
    for _ in 0..1_300 {
        caps.extend_from_slice(&[9, 1, 3]);
    }
    for last in [3u8, 4] {
        let n = caps.len();
        caps[n - 1] = last;
        let bytes = open_bytes(&caps);
        assert!(bytes.len() <= 4096, "{}", bytes.len());
        let (msg, _) = Message::decode(&bytes, ctx).unwrap();
        let t = Instant::now();
        let mut c = config(false);
        c.role = Some(Role::Provider);
        let mut fsm = Fsm::new(c);
        fsm.handle(Event::Start, t);
        fsm.handle(Event::Connected, t);
        let a = fsm.handle(Event::Received(msg, vec![]), t);
        if last == 3 {
            assert_eq!(a, vec![Action::Send(Message::Keepalive)]);
        } else {
            assert!(role_mismatch_sent(&a), "{a:?}");
        }
    }
    // Malformed values of known capabilities: OPEN Message Error, unspecific subcode.
    for cap in [
        &[9u8, 0][..],
        &[9, 2, 3, 3],
        &[71, 8, 0, 1, 1, 0x80, 0, 0, 1, 0],
    ] {
        let mut with_mp = vec![1, 4, 0, 1, 0, 1];
        with_mp.extend_from_slice(cap);
        let e = Message::decode(&open_bytes(&with_mp), ctx).unwrap_err();
        assert_eq!(
            e.notification().map(|n| (n.code, n.subcode)),
            Some((2, 0)),
            "{cap:?}: {e}"
        );
    }
}
