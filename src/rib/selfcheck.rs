//! Self-check: decode the UPDATEs the packer built and compare them with what was meant
//! (the diff and each route's configured attributes). On in debug builds and with
//! `--selfcheck`; a mismatch is a bug in bgpinject, logged before anything is sent.

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};

use super::attributes::{NextHop, RouteAttributes};
use super::key::NlriKey;
use super::packer::{Packed, SessionParams, split_messages};
use super::route_set::RouteDiff;
use crate::wire::attribute::{AttributeContext, MpNextHop, MpNlri, PathAttribute};
use crate::wire::family::{Afi, Family, Safi};
use crate::wire::flowspec::decode_nlri_list;
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

/// A key as this session's peer sees it: with a path identifier exactly when it receives
/// them for the family (0 for a key without one).
fn on_session(mut key: NlriKey, params: &SessionParams) -> NlriKey {
    key.path_id = if params.add_path.contains(&key.family) {
        Some(key.path_id.unwrap_or(0))
    } else {
        None
    };
    key
}

/// The keys of decoded NLRI of `family`.
fn keys_of(family: Family, nlri: &MpNlri, with_ids: bool) -> Result<Vec<NlriKey>, SelfcheckError> {
    Ok(match nlri {
        MpNlri::Prefixes(v) => v
            .iter()
            .map(|p| NlriKey::of_prefix(family, None, *p, None))
            .collect(),
        MpNlri::Paths(v) => v
            .iter()
            .map(|p| NlriKey::of_prefix(family, None, p.prefix, Some(p.path_id)))
            .collect(),
        MpNlri::Labeled(v) => v
            .iter()
            .map(|l| NlriKey::of_prefix(family, l.rd, l.prefix, l.path_id))
            .collect(),
        MpNlri::Raw(raw) if family.safi == Safi::FlowSpec && with_ids => {
            crate::wire::flowspec::decode_nlri_paths(raw, family.afi)
                .map_err(|e| SelfcheckError(format!("built flow NLRI does not decode: {e:?}")))?
                .into_iter()
                .map(|(id, rule)| NlriKey::flow_path(rule, Some(id)))
                .collect()
        }
        MpNlri::Raw(raw) if family.safi == Safi::FlowSpecVpn && with_ids => {
            crate::wire::nlri::flow_vpn::decode_rule_paths(raw, family.afi)
                .map_err(|e| SelfcheckError(format!("built flow-vpn NLRI does not decode: {e:?}")))?
                .into_iter()
                .map(|(id, rule)| NlriKey::flow_path(rule, Some(id)))
                .collect()
        }
        MpNlri::Raw(raw) if family.safi == Safi::FlowSpec => decode_nlri_list(raw, family.afi)
            .map_err(|e| SelfcheckError(format!("built flow NLRI does not decode: {e:?}")))?
            .into_iter()
            .map(NlriKey::flow)
            .collect(),
        MpNlri::Raw(raw) if family.safi == Safi::FlowSpecVpn => {
            crate::wire::nlri::flow_vpn::decode_rules(raw, family.afi)
                .map_err(|e| SelfcheckError(format!("built flow-vpn NLRI does not decode: {e:?}")))?
                .into_iter()
                .map(NlriKey::flow)
                .collect()
        }
        // The `wire::nlri` families (never with ADD-PATH: see `add_path_capability`).
        MpNlri::Raw(raw) => match crate::wire::nlri::decode(family, raw) {
            Some(Ok(list)) => list
                .into_iter()
                .map(|n| NlriKey::of_family(family, n, None))
                .collect(),
            Some(Err(e)) => return fail(format!("built {family} NLRI does not decode: {e}")),
            None => return fail(format!("raw NLRI of {family}")),
        },
    })
}

/// Checks `packed` against `diff` for the session `params`: every key meant is sent (or
/// held back, or unresolvable, or a second path to a peer without ADD-PATH), none other is,
/// and each announced key carries what its attributes export for the session.
pub fn verify(
    diff: &RouteDiff,
    params: &SessionParams,
    packed: &Packed,
) -> Result<(), SelfcheckError> {
    verify_bytes(diff, params, packed, &packed.bytes)
}

/// [`verify`] of UPDATEs kept apart from the packer's report (shared by sessions).
pub fn verify_bytes(
    diff: &RouteDiff,
    params: &SessionParams,
    packed: &Packed,
    bytes: &[u8],
) -> Result<(), SelfcheckError> {
    let ctx = DecodeContext {
        attributes: AttributeContext {
            four_octet_as: params.four_octet_as,
        },
        max_message_len: params.max_message_len,
        add_path: params.add_path.iter().copied().collect(),
    };
    let mut withdrawn: Vec<NlriKey> = Vec::new();
    let mut announced: BTreeMap<NlriKey, Vec<PathAttribute>> = BTreeMap::new();
    let messages = split_messages(bytes);
    if messages.len() != packed.messages {
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
        let classic = |p: &Prefix, ids: &[u32], i: usize| {
            NlriKey::of_prefix(Family::IPV4_UNICAST, None, *p, ids.get(i).copied())
        };
        withdrawn.extend(
            update
                .withdrawn
                .iter()
                .enumerate()
                .map(|(i, p)| classic(p, &update.withdrawn_path_ids, i)),
        );
        let mut nlri: Vec<NlriKey> = update
            .nlri
            .iter()
            .enumerate()
            .map(|(i, p)| classic(p, &update.nlri_path_ids, i))
            .collect();
        let mut attrs = Vec::new();
        for a in update.attributes {
            match a {
                PathAttribute::MpUnreach(mp) => withdrawn.extend(keys_of(
                    mp.family,
                    &mp.nlri,
                    ctx.add_path.contains(mp.family),
                )?),
                PathAttribute::MpReach(mp) => {
                    nlri.extend(keys_of(
                        mp.family,
                        &mp.nlri,
                        ctx.add_path.contains(mp.family),
                    )?);
                    attrs.push(PathAttribute::MpReach(crate::wire::attribute::MpReach {
                        nlri: MpNlri::Prefixes(Vec::new()),
                        ..mp
                    }));
                }
                other => attrs.push(other),
            }
        }
        for k in nlri {
            if announced.insert(k.clone(), attrs.clone()).is_some() {
                return fail(format!("{k} announced twice"));
            }
        }
    }
    let negotiated = |k: &NlriKey| params.families.contains(&k.family);
    let unresolvable: HashSet<&Prefix> = packed.unresolvable.iter().collect();

    // Announcements: one path per destination without ADD-PATH (the first in key order).
    let mut meant: BTreeMap<NlriKey, &RouteAttributes> = BTreeMap::new();
    for e in diff.announce.entries() {
        if !negotiated(&e.key) || e.key.prefix().is_some_and(|p| unresolvable.contains(&p)) {
            continue;
        }
        meant
            .entry(on_session(e.key.into_owned(), params))
            .or_insert(e.attrs);
    }
    // Too large to announce on this session: withdrawn instead (see `Packed::oversized`).
    let oversized: Vec<NlriKey> = packed
        .oversized
        .iter()
        .map(|k| on_session(k.clone(), params))
        .collect();
    // Not to be sent to this peer (RFC 9234 §5): withdrawn instead, like the oversized.
    let oversized: Vec<NlriKey> = oversized
        .into_iter()
        .chain(
            packed
                .otc_withheld
                .iter()
                .map(|k| on_session(k.clone(), params)),
        )
        .collect();
    for k in &oversized {
        meant.remove(k);
    }
    if meant.len() != announced.len() || packed.announced != meant.len() {
        return fail(format!(
            "announced {} keys ({} counted), meant {}",
            announced.len(),
            packed.announced,
            meant.len()
        ));
    }
    for (key, intent) in &meant {
        let Some(got) = announced.get(key) else {
            return fail(format!("{key} was meant to be announced but is not"));
        };
        check_attributes(key, intent, got, params)?;
    }

    // Withdrawals: without ADD-PATH, a destination announced in the same diff is replaced.
    let mut want: Vec<NlriKey> = diff
        .withdraw
        .iter()
        .filter(|k| negotiated(k))
        .map(|k| on_session(k.into_owned(), params))
        .filter(|k| k.path_id.is_some() || !meant.contains_key(k))
        .chain(oversized)
        .collect();
    want.sort();
    want.dedup();
    withdrawn.sort();
    if withdrawn != want {
        return fail(format!(
            "withdrew {} keys, meant {}",
            withdrawn.len(),
            want.len()
        ));
    }
    Ok(())
}

fn check_attributes(
    key: &NlriKey,
    intent: &RouteAttributes,
    got: &[PathAttribute],
    params: &SessionParams,
) -> Result<(), SelfcheckError> {
    let find = |code: u8| got.iter().find(|a| a.code() == code);
    use crate::wire::attribute::type_code as tc;
    let mismatch = |what: &str| fail(format!("{key}: {what} differs from the configuration"));
    // What the attribute table's export rules make of the configuration, against what was
    // decoded (the next hop and NLRI are checked apart).
    let want = intent.export(&params.export_context(key.family));
    let sent: Vec<&PathAttribute> = got
        .iter()
        .filter(|a| ![tc::NEXT_HOP, tc::MP_REACH_NLRI, tc::MP_UNREACH_NLRI].contains(&a.code()))
        .collect();
    // An attribute configured raw (`attribute [ 0x23 ... ]`) decodes typed: the same
    // octets are the same attribute.
    let ctx = AttributeContext {
        four_octet_as: params.four_octet_as,
    };
    let octets = |a: &PathAttribute| {
        let mut v = Vec::new();
        a.emit(ctx, &mut v);
        v
    };
    for (w, s) in want.iter().zip(&sent) {
        if w != *s && octets(w) != octets(s) {
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
    // The next hop of plain unicast routes (the other families' forms are the packer's tests').
    if let (NextHop::Address { global, link_local }, Some(prefix), true) = (
        intent.next_hop,
        key.prefix(),
        key.rd.is_none() && key.family.safi == Safi::Unicast,
    ) {
        // An IPv4 next hop of an IPv6 route goes IPv4-mapped; a link-local address only
        // with an IPv6 global one.
        // (four octets where ExaBGP's `nexthop { ipv6 unicast ipv4; }` was negotiated), and
        // the session's `local-link-local` where the route gives none.
        let mut want = vec![match (prefix.afi(), global) {
            (Afi::Ipv6, IpAddr::V4(_)) if params.extended_next_hop.contains(&key.family) => global,
            (Afi::Ipv6, IpAddr::V4(a)) => IpAddr::V6(a.to_ipv6_mapped()),
            _ => global,
        }];
        if global.is_ipv6() {
            want.extend(link_local.or(params.local_link_local).map(IpAddr::V6));
        }
        let ok = match (find(tc::NEXT_HOP), find(tc::MP_REACH_NLRI)) {
            (Some(PathAttribute::NextHop(a)), None) => want == [IpAddr::V4(*a)],
            (None, Some(PathAttribute::MpReach(mp))) => mp.next_hop == MpNextHop::Addresses(want),
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
            local_link_local: None,
            confederation: Default::default(),
            role: None,
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
