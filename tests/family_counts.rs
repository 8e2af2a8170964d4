//! The per-family counts the metrics take from queued UPDATEs (`wire::family_counts`, which
//! only skips each NLRI by its length rule) agree with the full decoder on every valid UPDATE
//! of `test-vectors/`: the same NLRI announced and withdrawn per family, for every family the
//! vectors hold UPDATEs of (unicast, multicast, labeled, VPN, FlowSpec; with and without
//! ADD-PATH). The families bgpinject decodes but does not announce (EVPN, VPLS, BGP-LS, MUP,
//! SR Policy, RTC) have no UPDATE vectors; their length rules have unit tests.

use std::collections::BTreeMap;
use std::path::Path;

use bgpinject::testvec;
use bgpinject::wire::attribute::{AttributeContext, MpNlri, PathAttribute};
use bgpinject::wire::family::{Afi, Family, Safi};
use bgpinject::wire::family_counts::count;
use bgpinject::wire::flowspec::decode_nlri_list;
use bgpinject::wire::message::{DecodeContext, MAX_EXTENDED_MESSAGE_LEN, MAX_MESSAGE_LEN, Message};
use bgpinject::wire::nlri;

/// The decoder's count of one MP NLRI field: `None` when it does not name them one by one.
fn decoded_count(family: Family, n: &MpNlri) -> Option<u64> {
    let len = match n {
        MpNlri::Prefixes(p) => p.len(),
        MpNlri::Paths(p) => p.len(),
        MpNlri::Labeled(l) => l.len(),
        MpNlri::Raw(raw) if raw.is_empty() => 0,
        MpNlri::Raw(raw) => match family.safi {
            Safi::FlowSpec => decode_nlri_list(raw, family.afi).ok()?.len(),
            _ => nlri::decode(family, raw)?.ok()?.len(),
        },
    };
    Some(len as u64)
}

#[test]
fn counts_agree_with_the_decoder_on_every_valid_update_vector() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("test-vectors");
    let vectors = testvec::load_tree(&root).unwrap_or_else(|e| panic!("{e}"));
    let ipv4 = Family::new(Afi::Ipv4, Safi::Unicast);
    let mut checked: BTreeMap<String, usize> = BTreeMap::new();
    let mut wrong = Vec::new();
    for (path, v) in &vectors {
        let ctx = DecodeContext {
            attributes: AttributeContext {
                four_octet_as: v.context.four_octet_as,
            },
            max_message_len: if v.context.extended_message {
                MAX_EXTENDED_MESSAGE_LEN
            } else {
                MAX_MESSAGE_LEN
            },
            add_path: v.context.add_path.iter().copied().collect(),
        };
        let Ok((Message::Update(u), problems)) = Message::decode(&v.bytes, ctx) else {
            continue;
        };
        if !problems.is_empty() {
            continue;
        }
        // (family, announced, withdrawn) as the decoder sees them.
        let mut want: Vec<(Family, u64, u64)> = Vec::new();
        let mut add = |f: Family, a: u64, w: u64| {
            if a + w == 0 {
                return;
            }
            match want.iter_mut().find(|(g, _, _)| *g == f) {
                Some(e) => {
                    e.1 += a;
                    e.2 += w;
                }
                None => want.push((f, a, w)),
            }
        };
        add(ipv4, u.nlri.len() as u64, u.withdrawn.len() as u64);
        let mut named = true;
        for a in &u.attributes {
            match a {
                PathAttribute::MpReach(m) => match decoded_count(m.family, &m.nlri) {
                    Some(n) => add(m.family, n, 0),
                    None => named = false,
                },
                PathAttribute::MpUnreach(m) => match decoded_count(m.family, &m.nlri) {
                    Some(n) => add(m.family, 0, n),
                    None => named = false,
                },
                _ => {}
            }
        }
        if !named {
            continue;
        }
        let mut got: Vec<(Family, u64, u64)> = count(&v.bytes, &v.context.add_path)
            .into_iter()
            .filter(|(_, c)| c.announced + c.withdrawn > 0)
            .map(|(f, c)| (f, c.announced, c.withdrawn))
            .collect();
        want.sort();
        got.sort();
        if got != want {
            wrong.push(format!(
                "{}: {}: counted {got:?}, decoded {want:?}",
                path.display(),
                v.name
            ));
        }
        for (f, _, _) in &want {
            *checked.entry(f.to_string()).or_default() += 1;
        }
    }
    println!("UPDATE vectors checked per family: {checked:?}");
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    // The vectors hold these families; a count that silently skipped them would not do.
    for family in [
        "ipv4 unicast",
        "ipv6 unicast",
        "ipv4 multicast",
        "ipv4 nlri-mpls",
        "ipv4 mpls-vpn",
        "ipv6 mpls-vpn",
        "ipv4 flow",
        "ipv6 flow",
    ] {
        assert!(
            checked.keys().any(|k| k == family),
            "no vector of {family}: {checked:?}"
        );
    }
}
