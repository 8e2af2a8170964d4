//! Decode speed: prefixes per second for UPDATEs with 500 IPv4 prefixes, and messages per
//! second for typical attribute sets. Prints a table. Run by `make bench`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use bgpinject::rib::attributes::Origin;
use bgpinject::wire::aspath::AsPath;
use bgpinject::wire::attribute::{AttributeContext, MpNextHop, MpNlri, MpReach, PathAttribute};
use bgpinject::wire::community::{Community, LargeCommunity};
use bgpinject::wire::family::Family;
use bgpinject::wire::message::{DecodeContext, Message};
use bgpinject::wire::prefix::Prefix;
use bgpinject::wire::update::Update;

const CTX: AttributeContext = AttributeContext {
    four_octet_as: true,
};

fn v4(i: u32, len: u8) -> Prefix {
    let bits = 0x0A00_0000u32 + (i << (32 - len as u32));
    Prefix::new(std::net::IpAddr::V4(bits.into()), len).expect("prefix")
}

fn base() -> Vec<PathAttribute> {
    vec![
        PathAttribute::Origin(Origin::Igp),
        PathAttribute::AsPath(AsPath::sequence(vec![65000, 65010])),
        PathAttribute::NextHop("192.0.2.1".parse().expect("address")),
    ]
}

/// Runs `f` repeatedly for about `time`; returns calls per second.
fn rate(time: Duration, mut f: impl FnMut()) -> f64 {
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < time {
        for _ in 0..100 {
            f();
        }
        n += 100;
    }
    n as f64 / start.elapsed().as_secs_f64()
}

fn main() {
    let time = Duration::from_millis(
        std::env::var("BENCH_MS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(1500),
    );
    let mut rows: Vec<(String, usize, usize, Vec<u8>)> = Vec::new();
    let update = |attributes: Vec<PathAttribute>, nlri: Vec<Prefix>| {
        Message::Update(Update {
            attributes,
            nlri,
            ..Update::default()
        })
        .encode(CTX)
    };
    let p500: Vec<Prefix> = (0..500).map(|i| v4(i, 24)).collect();
    rows.push((
        "500 IPv4 /24, minimal attributes".into(),
        500,
        0,
        update(base(), p500.clone()),
    ));
    let p500_32: Vec<Prefix> = (0..500).map(|i| v4(i, 32)).collect();
    rows.push((
        "500 IPv4 /32, minimal attributes".into(),
        500,
        0,
        update(base(), p500_32),
    ));
    let mut typical = base();
    typical.push(PathAttribute::Med(50));
    typical.push(PathAttribute::LocalPref(200));
    typical.push(PathAttribute::Communities(
        (0..6).map(|i| Community::from_parts(65000, i)).collect(),
    ));
    typical.push(PathAttribute::LargeCommunities(vec![LargeCommunity {
        global: 65000,
        local1: 1,
        local2: 2,
    }]));
    rows.push((
        "1 IPv4 /24, typical attributes (med, lp, 6 communities, large)".into(),
        1,
        0,
        update(typical.clone(), vec![v4(1, 24)]),
    ));
    let mut mp = typical.clone();
    mp.retain(|a| !matches!(a, PathAttribute::NextHop(_)));
    mp.push(PathAttribute::MpReach(MpReach {
        family: Family::IPV6_UNICAST,
        next_hop: MpNextHop::Addresses(vec!["2001:db8::1".parse().expect("address")]),
        nlri: MpNlri::Prefixes(
            (0..200u128)
                .map(|i| {
                    Prefix::new(
                        std::net::IpAddr::V6(
                            (0x2001_0db8_0000_0000_0000_0000_0000_0000u128 + (i << 80)).into(),
                        ),
                        48,
                    )
                    .expect("prefix")
                })
                .collect(),
        ),
    }));
    rows.push((
        "200 IPv6 /48 in MP_REACH, typical attributes".into(),
        200,
        0,
        update(mp, Vec::new()),
    ));

    println!("| decode benchmark | bytes | messages/s | prefixes/s |");
    println!("|---|---:|---:|---:|");
    for (name, prefixes, _, bytes) in &rows {
        let ctx = DecodeContext::default();
        let per_second = rate(time, || {
            let decoded = Message::decode(black_box(bytes), ctx);
            black_box(&decoded);
        });
        println!(
            "| {name} | {} | {:.0} | {:.0} |",
            bytes.len(),
            per_second,
            per_second * *prefixes as f64
        );
    }
}
