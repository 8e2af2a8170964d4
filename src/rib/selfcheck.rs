//! Self-check: decode the UPDATEs the packer built and compare them with what was meant
//! (the diff and each route's configured attributes). On in debug builds and with
//! `--selfcheck`; a mismatch is a bug in bgpinject, logged before anything is sent.

use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};

use super::attributes::{NextHop, RouteAttributes};
use super::packer::{Packed, SessionParams, split_messages};
use super::route_set::RouteDiff;
use crate::wire::attribute::{AttributeContext, MpNextHop, MpNlri, PathAttribute};
use crate::wire::family::{Afi, Safi};
use crate::wire::flowspec::{FlowRule, decode_nlri_list};
use crate::wire::message::{DecodeContext, Message};
use crate::wire::prefix::Prefix;

static FORCED: AtomicBool = AtomicBool::new(false);

/// Turns the self-check on in release builds (`--selfcheck`).
pub fn force_enable() {
    FORCED.store(true, Ordering::Relaxed);
}

/// Whether UPDATEs are checked before they are sent: always in debug builds.
pub fn enabled() -> bool {
    cfg!(debug_assertions) || FORCED.load(Ordering::Relaxed)
}

/// What differs between the packed UPDATEs and the intent.
#[derive(Debug, PartialEq, Eq)]
pub struct SelfcheckError(pub String);

impl fmt::Display for SelfcheckError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "selfcheck failed: {}", self.0)
    }
}

fn fail<T>(msg: String) -> Result<T, SelfcheckError> {
    Err(SelfcheckError(msg))
}

/// Checks `packed` against `diff` for the session `params`.
pub fn verify(
    diff: &RouteDiff,
    params: &SessionParams,
    packed: &Packed,
) -> Result<(), SelfcheckError> {
    let ctx = DecodeContext {
        attributes: AttributeContext {
            four_octet_as: params.four_octet_as,
        },
        max_message_len: params.max_message_len,
        ..DecodeContext::default()
    };
    let mut withdrawn = Vec::new();
    let mut announced: BTreeMap<Prefix, Vec<PathAttribute>> = BTreeMap::new();
    let mut flows_withdrawn: Vec<FlowRule> = Vec::new();
    let mut flows_announced: BTreeMap<FlowRule, Vec<PathAttribute>> = BTreeMap::new();
    let flow_rules = |family: crate::wire::family::Family, raw: &[u8]| {
        if family.safi != Safi::FlowSpec {
            return Err(SelfcheckError(format!("raw NLRI of {family}")));
        }
        decode_nlri_list(raw, family.afi)
            .map_err(|e| SelfcheckError(format!("built flow NLRI does not decode: {e:?}")))
    };
    // The keyed part (labeled, VPN, ADD-PATH...) comes last and is checked by its own tests.
    let unicast_part = if packed.other_messages > 0 {
        &packed.bytes[..packed.other_from]
    } else {
        &packed.bytes[..]
    };
    let messages = split_messages(unicast_part);
    if messages.len() + packed.other_messages != packed.messages {
        return fail(format!(
            "{} messages framed, {} packed",
            messages.len(),
            packed.messages
        ));
    }
    for m in messages {
        let update = match Message::decode(m, ctx) {
            Ok((Message::Update(u), problems)) if problems.is_empty() => u,
            Ok((other, problems)) => return fail(format!("decoded {other:?} with {problems:?}")),
            Err(e) => return fail(format!("built UPDATE does not decode: {e}")),
        };
        withdrawn.extend(update.withdrawn.iter().copied());
        let mut nlri = update.nlri.clone();
        let mut attrs = Vec::new();
        for a in update.attributes {
            match a {
                PathAttribute::MpUnreach(mp) => match mp.nlri {
                    MpNlri::Prefixes(p) => withdrawn.extend(p),
                    MpNlri::Raw(raw) => flows_withdrawn.extend(flow_rules(mp.family, &raw)?),
                    MpNlri::Labeled(_) | MpNlri::Paths(_) => {
                        return fail("labeled or ADD-PATH NLRI in the unicast part".into());
                    }
                },
                PathAttribute::MpReach(mp) => {
                    let p = match mp.nlri {
                        MpNlri::Prefixes(p) => p,
                        MpNlri::Labeled(_) | MpNlri::Paths(_) => {
                            return fail("labeled or ADD-PATH NLRI in the unicast part".into());
                        }
                        MpNlri::Raw(ref raw) => {
                            for rule in flow_rules(mp.family, raw)? {
                                flows_announced.insert(rule, Vec::new());
                            }
                            Vec::new()
                        }
                    };
                    nlri.extend(p);
                    attrs.push(PathAttribute::MpReach(crate::wire::attribute::MpReach {
                        nlri: MpNlri::Prefixes(Vec::new()),
                        ..mp
                    }));
                }
                other => attrs.push(other),
            }
        }
        for p in nlri {
            if announced.insert(p, attrs.clone()).is_some() {
                return fail(format!("{p} announced twice"));
            }
        }
    }
    // Unicast routes of a family with ADD-PATH go with the non-unicast part.
    let sent = |p: &Prefix| {
        params.families.iter().any(|f| f.afi == p.afi())
            && !params
                .add_path
                .contains(&crate::wire::family::Family::new(p.afi(), Safi::Unicast))
            && !packed.unresolvable.contains(p)
    };
    let mut want_withdrawn: Vec<Prefix> =
        diff.withdraw.iter().filter(|p| sent(p)).copied().collect();
    want_withdrawn.sort();
    withdrawn.sort();
    if withdrawn != want_withdrawn {
        return fail(format!(
            "withdrew {} prefixes, meant {}",
            withdrawn.len(),
            want_withdrawn.len()
        ));
    }
    let mut count = 0;
    for (prefix, intent) in diff.announce.iter().filter(|(p, _)| sent(p)) {
        count += 1;
        let Some(got) = announced.get(prefix) else {
            return fail(format!("{prefix} was meant to be announced but is not"));
        };
        check_attributes(*prefix, intent, got, params)?;
    }
    if count != announced.len() {
        return fail(format!(
            "announced {} prefixes, meant {count}",
            announced.len()
        ));
    }
    Ok(())
}

fn check_attributes(
    prefix: Prefix,
    intent: &RouteAttributes,
    got: &[PathAttribute],
    params: &SessionParams,
) -> Result<(), SelfcheckError> {
    let find = |code: u8| got.iter().find(|a| a.code() == code);
    use crate::wire::attribute::type_code as tc;
    let mismatch = |what: &str| fail(format!("{prefix}: {what} differs from the configuration"));
    // What the attribute table's export rules make of the configuration, against what was
    // decoded (the next hop and NLRI are checked apart).
    let want = intent.export(&params.export_context());
    let sent: Vec<&PathAttribute> = got
        .iter()
        .filter(|a| ![tc::NEXT_HOP, tc::MP_REACH_NLRI, tc::MP_UNREACH_NLRI].contains(&a.code()))
        .collect();
    for (w, s) in want.iter().zip(&sent) {
        if w != *s {
            return mismatch(w.name());
        }
    }
    if want.len() != sent.len() {
        return mismatch(&format!(
            "the number of attributes ({} sent, {} meant)",
            sent.len(),
            want.len()
        ));
    }
    if let NextHop::Address { global, link_local } = intent.next_hop {
        let ok = match (prefix.afi(), find(tc::NEXT_HOP), find(tc::MP_REACH_NLRI)) {
            (Afi::Ipv4, Some(PathAttribute::NextHop(a)), _) => IpAddr::V4(*a) == global,
            (Afi::Ipv6, _, Some(PathAttribute::MpReach(mp))) => {
                let mut want = vec![match global {
                    IpAddr::V4(a) => IpAddr::V6(a.to_ipv6_mapped()),
                    v6 => v6,
                }];
                want.extend(link_local.map(IpAddr::V6));
                mp.next_hop == MpNextHop::Addresses(want)
            }
            _ => false,
        };
        if !ok {
            return mismatch("next hop");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::rib::packer::pack;
    use crate::rib::route_set::RouteSet;
    use crate::wire::community::Community;
    use crate::wire::family::Family;

    #[test]
    fn packed_routes_pass_and_a_corrupted_byte_is_caught() {
        let mut a = RouteAttributes::with_next_hop(NextHop::Address {
            global: "192.0.2.1".parse().unwrap(),
            link_local: None,
        });
        a.set(crate::wire::attribute::PathAttribute::Communities(vec![
            Community::from_parts(65000, 7),
        ]));
        let a = Arc::new(a);
        let routes = (0..500u32)
            .map(|i| {
                let addr = IpAddr::V4((0xC633_6400u32 + i * 4).into());
                (Prefix::new(addr, 30).unwrap(), a.clone())
            })
            .collect();
        let set = RouteSet::new(routes);
        let params = SessionParams {
            group_updates: true,
            four_octet_as: true,
            ebgp: true,
            local_as: 65000,
            local_address: "127.0.0.2".parse().unwrap(),
            families: vec![Family::IPV4_UNICAST],
            max_message_len: 4096,
            add_path: Vec::new(),
            extended_next_hop: Vec::new(),
        };
        let diff = set.as_announcements();
        let mut packed = pack(&diff, &params);
        assert_eq!(verify(&diff, &params, &packed), Ok(()));
        // Turn community 65000:7 into 65000:8 in the first message.
        let pos = packed
            .bytes
            .windows(4)
            .position(|w| w == [0xfd, 0xe8, 0x00, 0x07])
            .unwrap();
        packed.bytes[pos + 3] = 8;
        assert!(verify(&diff, &params, &packed).is_err());
    }
}
