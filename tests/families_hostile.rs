//! A hostile peer that negotiated every family bgpinject announces (EVPN, VPLS, MUP, SR
//! Policy, MCAST-VPN, RTC) sends it malformed and extreme NLRI of each: lengths that overrun
//! or fall short, impossible field lengths, label fields of all ones, a tunnel encapsulation
//! with 1,500 segments, an MP_REACH whose next hop length lies. bgpinject must answer each
//! with the RFC's NOTIFICATION (UPDATE message error 3/9: NLRI that cannot be parsed reset the
//! session, RFC 7606 §5.3) or keep the session, never panic, and hand every UPDATE it accepted
//! to its helper decoded (`receive { parsed;
//! update; }` in JSON), so the formatters see the extreme values too. Loopback 127.0.43.30-31,
//! port 18470.

mod harness;

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bgpinject::wire::attribute::AttributeContext;
use bgpinject::wire::capability::Capability;
use bgpinject::wire::family::{Afi, Family, Safi};
use bgpinject::wire::message::{Message, RouteRefresh};
use bgpinject::wire::open::Open;
use harness::read_message;

const CTX: AttributeContext = AttributeContext {
    four_octet_as: true,
};
const PORT: u16 = 18470;
const PEER: &str = "127.0.43.30";
const LOCAL: &str = "127.0.43.31";

fn families() -> Vec<Family> {
    vec![
        Family::IPV4_UNICAST,
        Family::new(Afi::L2VPN, Safi::Evpn),
        Family::new(Afi::L2VPN, Safi::Vpls),
        Family::new(Afi::Ipv4, Safi::Mup),
        Family::new(Afi::Ipv4, Safi::SrPolicy),
        Family::new(Afi::Ipv4, Safi::Mvpn),
        Family::new(Afi::Ipv4, Safi::Rtc),
    ]
}

struct Injector {
    child: Child,
    dir: tempfile::TempDir,
}

impl Injector {
    fn start() -> Injector {
        let dir = tempfile::tempdir().unwrap();
        let conf = dir.path().join("inject.conf");
        let json = dir.path().join("received.json");
        std::fs::write(
            &conf,
            format!(
                "process rx {{ run /bin/sh -c 'cat > {json}'; encoder json; }}
neighbor {PEER} {{
    router-id 192.0.2.10; local-address {LOCAL}; local-as 65000; peer-as 65001;
    hold-time 30; connect {PORT};
    family {{ ipv4 unicast; l2vpn evpn; l2vpn vpls; ipv4 mup; ipv4 sr-policy; ipv4 mcast-vpn; ipv4 rtc; }}
    api {{ processes [ rx ]; receive {{ parsed; update; }} }}
    static {{ route 198.51.100.0/24 next-hop 192.0.2.10; }}
}}",
                json = json.display()
            ),
        )
        .unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_bgpinject"))
            .args(["--log-level", "debug", "--control"])
            .arg(dir.path().join("control.sock"))
            .arg(&conf)
            .stderr(Stdio::from(
                std::fs::File::create(dir.path().join("log")).unwrap(),
            ))
            .spawn()
            .unwrap();
        Injector { child, dir }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("log")).unwrap_or_default()
    }

    fn received(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("received.json")).unwrap_or_default()
    }
}

impl Drop for Injector {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn establish(listener: &TcpListener) -> TcpStream {
    let (mut s, _) = listener.accept().unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    assert!(matches!(read_message(&mut s), Some(Message::Open(_))));
    let mut capabilities: Vec<Capability> = families()
        .into_iter()
        .map(Capability::Multiprotocol)
        .collect();
    capabilities.extend([
        Capability::RouteRefresh,
        Capability::FourOctetAs(65001),
        Capability::ExtendedMessage,
    ]);
    let open = Message::Open(Open {
        version: 4,
        my_as: 65001,
        hold_time: 30,
        router_id: "192.0.2.1".parse().unwrap(),
        capabilities,
        parameter_layout: Vec::new(),
        extended_parameters: false,
    });
    s.write_all(&open.encode(CTX)).unwrap();
    s.write_all(&Message::Keepalive.encode(CTX)).unwrap();
    // Up once bgpinject's IPv4 End-of-RIB has arrived.
    for _ in 0..40 {
        if let Some(Message::Update(u)) = read_message(&mut s)
            && u.end_of_rib() == Some(Family::IPV4_UNICAST)
        {
            return s;
        }
    }
    panic!("no End-of-RIB from bgpinject");
}

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.chars().filter(|c| c.is_ascii_hexdigit()).collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// An UPDATE: ORIGIN, AS_PATH [65001], then an MP_REACH_NLRI (extended length) of
/// `afi`/`safi` with next hop 192.0.2.1 and these NLRI octets, then `extra` attributes.
fn mp_reach(afi: u16, safi: u8, nlri: &[u8], extra: &[u8]) -> Vec<u8> {
    let mut value = afi.to_be_bytes().to_vec();
    value.extend([safi, 4, 192, 0, 2, 1, 0]);
    value.extend_from_slice(nlri);
    mp_reach_raw(&value, extra)
}

/// An UPDATE with this MP_REACH_NLRI value as is.
fn mp_reach_raw(value: &[u8], extra: &[u8]) -> Vec<u8> {
    let mut attrs = hex("40010100 400206 0201 0000fde9");
    attrs.extend([0x90, 0x0e]);
    attrs.extend((value.len() as u16).to_be_bytes());
    attrs.extend_from_slice(value);
    attrs.extend_from_slice(extra);
    let mut body = vec![0, 0];
    body.extend((attrs.len() as u16).to_be_bytes());
    body.extend(attrs);
    let mut m = vec![0xFF; 16];
    m.extend(((19 + body.len()) as u16).to_be_bytes());
    m.push(2);
    m.extend(body);
    m
}

/// A tunnel encapsulation attribute (RFC 9012, code 23) with one SR Policy TLV (type 15)
/// holding `lists` segment lists of `per_list` type A segments (RFC 9830 §2.4.4).
fn huge_sr_policy(lists: usize, per_list: usize) -> Vec<u8> {
    let mut sub = Vec::new();
    for l in 0..lists {
        let mut list = vec![0u8]; // reserved
        list.extend(hex("09 06 0000 00000001")); // weight 1
        for i in 0..per_list {
            // Type A, flags, reserved, a label stack entry: label (l*per_list+i) % 2^20.
            let label = ((l * per_list + i) as u32 % 0x10_0000) << 12;
            list.extend([1, 6, 0, 0]);
            list.extend(label.to_be_bytes());
        }
        sub.push(128);
        sub.extend((list.len() as u16).to_be_bytes());
        sub.extend(list);
    }
    let mut tlv = 15u16.to_be_bytes().to_vec();
    tlv.extend((sub.len() as u16).to_be_bytes());
    tlv.extend(sub);
    let mut attr = vec![0xd0, 23];
    attr.extend((tlv.len() as u16).to_be_bytes());
    attr.extend(tlv);
    attr
}

const EVPN: (u16, u8) = (25, 70);
const VPLS: (u16, u8) = (25, 65);
const MUP: (u16, u8) = (1, 85);
const SRP: (u16, u8) = (1, 73);
const MVPN: (u16, u8) = (1, 5);
const RTC: (u16, u8) = (1, 132);

/// What the session did after a message: reset with this NOTIFICATION, or still up.
#[derive(Debug, PartialEq)]
enum Outcome {
    Reset(u8, u8),
    Kept,
}

/// Asks for a refresh of IPv4 unicast: the route back means the session is still up.
fn outcome(s: &mut TcpStream) -> Outcome {
    let rr = Message::RouteRefresh(RouteRefresh {
        family: Family::IPV4_UNICAST,
        subtype: 0,
    });
    if s.write_all(&rr.encode(CTX)).is_err() {
        return Outcome::Reset(0, 0);
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        match read_message(s) {
            Some(Message::Notification(n)) => return Outcome::Reset(n.code, n.subcode),
            Some(Message::Update(u)) if !u.nlri.is_empty() => return Outcome::Kept,
            Some(_) => continue,
            None => break,
        }
    }
    panic!("neither the refreshed route nor a NOTIFICATION");
}

#[test]
fn malformed_and_extreme_family_nlri_never_panic() {
    let listener = TcpListener::bind((PEER, PORT)).unwrap();
    let inj = Injector::start();
    let rd = "0000fde800000001";
    let esi0 = "00000000000000000000";
    let mac = "001122aabb01";
    let (eafi, esafi) = EVPN;
    // (name, message, whether it is well formed: then the helper must get it)
    let cases: Vec<(&str, Vec<u8>, bool)> = vec![
        (
            "EVPN type 2, label field all ones",
            mp_reach(
                eafi,
                esafi,
                &hex(&format!("02 21 {rd} {esi0} 00000000 30 {mac} 00 ffffff")),
                &[],
            ),
            true,
        ),
        (
            "EVPN type 2, two labels, IPv6, Ethernet tag all ones",
            mp_reach(
                eafi,
                esafi,
                &hex(&format!(
                    "02 34 {rd} {esi0} ffffffff 30 {mac} 80 20010db8000000000000000000000001 000641 ffffff"
                )),
                &[],
            ),
            true,
        ),
        (
            "EVPN length past the attribute",
            mp_reach(eafi, esafi, &hex(&format!("02 21 {rd} {esi0}")), &[]),
            false,
        ),
        (
            "EVPN MAC length 255",
            mp_reach(
                eafi,
                esafi,
                &hex(&format!("02 21 {rd} {esi0} 00000000 ff {mac} 00 000641")),
                &[],
            ),
            false,
        ),
        (
            "EVPN IP length 200",
            mp_reach(
                eafi,
                esafi,
                &hex(&format!("02 21 {rd} {esi0} 00000000 30 {mac} c8 000641")),
                &[],
            ),
            false,
        ),
        (
            "EVPN type 5, prefix length 200",
            mp_reach(
                eafi,
                esafi,
                &hex(&format!(
                    "05 22 {rd} {esi0} 00000000 c8 c6336400 00000000 000641"
                )),
                &[],
            ),
            false,
        ),
        (
            "EVPN unknown route type 99",
            mp_reach(eafi, esafi, &hex("63 03 010203"), &[]),
            true,
        ),
        (
            "EVPN zero-length route",
            mp_reach(eafi, esafi, &hex("02 00"), &[]),
            false,
        ),
        (
            "VPLS, base label all ones",
            mp_reach(
                VPLS.0,
                VPLS.1,
                &hex(&format!("0011 {rd} ffff ffff ffff ffffff")),
                &[],
            ),
            true,
        ),
        (
            "VPLS length 5",
            mp_reach(VPLS.0, VPLS.1, &hex(&format!("0005 {rd}")), &[]),
            false,
        ),
        (
            "VPLS length 65535",
            mp_reach(VPLS.0, VPLS.1, &hex(&format!("ffff {rd} 0005")), &[]),
            false,
        ),
        (
            "MUP T2ST endpoint length 255",
            mp_reach(
                MUP.0,
                MUP.1,
                &hex(&format!("01 0004 0e {rd} ff c0000215 003039")),
                &[],
            ),
            false,
        ),
        (
            "MUP T2ST TEID of 1 bit",
            mp_reach(
                MUP.0,
                MUP.1,
                &hex(&format!("01 0004 0e {rd} 21 c0000215 80")),
                &[],
            ),
            true,
        ),
        (
            "MUP length past the attribute",
            mp_reach(MUP.0, MUP.1, &hex(&format!("01 0004 ff {rd}")), &[]),
            false,
        ),
        (
            "SR Policy NLRI length 97 bits",
            mp_reach(SRP.0, SRP.1, &hex("61 00000002 00000064 c0000209 00"), &[]),
            false,
        ),
        (
            "SR Policy NLRI length 8 bits",
            mp_reach(SRP.0, SRP.1, &hex("08 00"), &[]),
            false,
        ),
        (
            "SR Policy with 1,500 segments in 100 lists",
            mp_reach(
                SRP.0,
                SRP.1,
                &hex("60 00000002 00000064 c0000209"),
                &huge_sr_policy(100, 15),
            ),
            true,
        ),
        (
            "SR Policy segment list whose length overruns its TLV",
            mp_reach(
                SRP.0,
                SRP.1,
                &hex("60 00000003 00000064 c0000209"),
                &hex("d0 17 000a 000f 0006 80 ffff 00 0906"),
            ),
            true,
        ),
        (
            "MCAST-VPN length past the attribute",
            mp_reach(MVPN.0, MVPN.1, &hex(&format!("05 ff {rd} 20")), &[]),
            false,
        ),
        (
            "MCAST-VPN source address length 200",
            mp_reach(
                MVPN.0,
                MVPN.1,
                &hex(&format!("05 12 {rd} c8 0a63 0c04 20 effbffe4")),
                &[],
            ),
            false,
        ),
        (
            "RTC prefix length 200",
            mp_reach(RTC.0, RTC.1, &hex("c8 0000fde8 0002fde800000064"), &[]),
            false,
        ),
        (
            "RTC prefix length 33 (origin AS and one bit)",
            mp_reach(RTC.0, RTC.1, &hex("21 0000fde8 00"), &[]),
            true,
        ),
        (
            "EVPN next hop length 200",
            mp_reach_raw(
                &hex(&format!(
                    "0019 46 c8 c0000201 00 02 21 {rd} {esi0} 00000000 30 {mac} 00 000641"
                )),
                &[],
            ),
            false,
        ),
    ];
    let mut s = establish(&listener);
    let mut outcomes = Vec::new();
    for (name, bytes, _) in &cases {
        s.write_all(bytes).unwrap();
        let o = outcome(&mut s);
        if let Outcome::Reset(code, _) = o {
            assert_eq!(code, 3, "{name}: {o:?}\n{}", inj.log());
            s = establish(&listener);
        }
        outcomes.push((*name, o));
    }
    let log = inj.log();
    for bug in ["panicked", "internal error", "stack overflow"] {
        assert!(!log.contains(bug), "{bug}\n{log}");
    }
    println!("{outcomes:#?}");
    // Every well-formed one reached the helper, decoded, one JSON object per line.
    let received = inj.received();
    let updates: Vec<serde_json::Value> = received
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .filter(|v: &serde_json::Value| v["type"] == "update")
        .collect();
    let well_formed = cases.iter().filter(|c| c.2).count();
    assert!(
        updates.len() >= well_formed,
        "{} updates for {well_formed} well-formed cases: {outcomes:?}\n{received}\n{log}",
        updates.len()
    );
    // RFC 7606 §5.3: NLRI that cannot be parsed reset the session with an UPDATE message
    // error (optional attribute error, as for unicast NLRI in an MP_REACH_NLRI); well-formed
    // ones, however extreme, keep it.
    for (name, _, ok) in &cases {
        let o = outcomes.iter().find(|(n, _)| n == name).map(|(_, o)| o);
        let want = if *ok {
            Outcome::Kept
        } else {
            Outcome::Reset(3, 9)
        };
        assert_eq!(o, Some(&want), "{name}: {log}");
    }
    let resets = cases.iter().filter(|c| !c.2).count() - 1;
    assert_eq!(
        log.lines()
            .filter(|l| l.contains("from peer: malformed ") && l.contains(" NLRI: "))
            .count(),
        resets,
        "every malformed NLRI is logged: {log}"
    );
}
