//! One row per path attribute, in the shape of BIRD's `bgp_attr_table`: its type code, name,
//! flags, RFC 7606 action, value decoder and encoder, the export rule that turns what the
//! operator configured into what one session sends, and its formatters (decode text, the
//! configuration's words, the test-vector fact). Adding an attribute is one row here, its
//! value type as a [`PathAttribute`] variant, and its configuration keyword.

use std::fmt;
use std::net::Ipv4Addr;

use super::flag::{OPTIONAL, TRANSITIVE};
use super::{AttributeContext, Origin, PathAttribute, as2, decode_as_path, emit_as_path, hex};
use crate::wire::aspath::AsPath;
use crate::wire::community::{Community, ExtendedCommunity, LargeCommunity};
use crate::wire::error::{DecodeError, DecodeErrorKind};
use crate::wire::family::FamilySet;
use crate::wire::notification::subcode;

/// Attribute type codes (IANA "BGP Path Attributes").
pub mod type_code {
    pub const ORIGIN: u8 = 1;
    pub const AS_PATH: u8 = 2;
    pub const NEXT_HOP: u8 = 3;
    pub const MED: u8 = 4;
    pub const LOCAL_PREF: u8 = 5;
    pub const ATOMIC_AGGREGATE: u8 = 6;
    pub const AGGREGATOR: u8 = 7;
    pub const COMMUNITIES: u8 = 8; // RFC 1997
    pub const ORIGINATOR_ID: u8 = 9; // RFC 4456
    pub const CLUSTER_LIST: u8 = 10; // RFC 4456
    pub const MP_REACH_NLRI: u8 = 14; // RFC 4760
    pub const MP_UNREACH_NLRI: u8 = 15; // RFC 4760
    pub const EXTENDED_COMMUNITIES: u8 = 16; // RFC 4360
    pub const AS4_PATH: u8 = 17; // RFC 6793
    pub const AS4_AGGREGATOR: u8 = 18; // RFC 6793
    pub const PMSI_TUNNEL: u8 = 22; // RFC 6514
    pub const TUNNEL_ENCAPSULATION: u8 = 23; // RFC 9012
    pub const IPV6_EXTENDED_COMMUNITIES: u8 = 25; // RFC 5701
    pub const AIGP: u8 = 26; // RFC 7311
    pub const LARGE_COMMUNITY: u8 = 32; // RFC 8092
    pub const OTC: u8 = 35; // RFC 9234
    pub const BGP_PREFIX_SID: u8 = 40; // RFC 8669
}

use type_code as tc;

/// RFC 7606 action for a malformed attribute, before a NOTIFICATION is attached.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Malformed {
    Discard,
    Withdraw,
    /// Session reset with UPDATE Message Error and this subcode.
    Reset(u8),
}

/// What a value decoder knows besides the value.
#[derive(Clone, Copy, Debug)]
pub struct Decoding {
    /// The flags octet as received.
    pub flags: u8,
    /// Where the attribute (its flags octet) starts in the message.
    pub offset: usize,
    pub ctx: AttributeContext,
    /// Families whose NLRI carry RFC 7911 path identifiers.
    pub add_path: FamilySet,
}

/// Why a value did not decode: the dispatcher attaches the row's RFC 7606 action.
pub enum BadValue {
    /// The value's length is wrong for the attribute.
    Length,
    Kind(DecodeErrorKind),
    /// An error that carries its own action (the NLRI of MP_REACH / MP_UNREACH).
    Full(DecodeError),
}

/// The session an attribute set is exported to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExportContext {
    pub ebgp: bool,
    /// RFC 6793: both sides sent the 4-octet AS capability.
    pub four_octet_as: bool,
    pub local_as: u32,
    /// RFC 5065: what the session's place in our confederation does to AS_PATH.
    pub confederation: crate::wire::aspath::ConfederationRole,
    /// RFC 9234: our role on the session, when its procedures apply to the family being
    /// exported (IPv4 and IPv6 unicast).
    pub role: Option<crate::wire::role::Role>,
}

/// `otc self` in a route: OTC = the local AS of the session it is sent on. AS 0 is never an
/// OTC value a route can mean (RFC 7607), so the configuration's `otc 0` is refused and 0
/// stands for `self` in the route model.
pub const OTC_SELF: u32 = 0;

/// One row of the attribute table.
pub struct AttributeRow {
    pub code: u8,
    pub name: &'static str,
    /// Expected optional and transitive bits.
    pub flags: u8,
    /// What to do when the value is malformed (RFC 7606 §7).
    pub on_error: Malformed,
    /// The configuration (and API) keyword that sets it, `""` for none.
    pub keyword: &'static str,
    /// The value octets as a typed value.
    pub decode: fn(&[u8], &Decoding) -> Result<PathAttribute, BadValue>,
    /// The typed value as value octets.
    pub encode: fn(&PathAttribute, AttributeContext, &mut Vec<u8>),
    /// What a route whose set holds `configured` (or nothing of this code) sends on a session.
    pub export: fn(Option<&PathAttribute>, &ExportContext, &mut Vec<PathAttribute>),
    /// `decode` text and log lines: `large-community [65000:1:2]`.
    pub text: fn(&PathAttribute, &mut fmt::Formatter<'_>) -> fmt::Result,
    /// The configuration's words (`show adj-rib out`): `large-community [ 65000:1:2 ]`.
    pub words: fn(&PathAttribute, &mut String),
    /// The test-vector fact: key (`""` for none) and value.
    pub fact: (&'static str, fn(&PathAttribute) -> String),
}

fn no_decode(_: &[u8], _: &Decoding) -> Result<PathAttribute, BadValue> {
    Err(BadValue::Length)
}
fn no_encode(_: &PathAttribute, _: AttributeContext, _: &mut Vec<u8>) {}
fn export_as_is(a: Option<&PathAttribute>, _: &ExportContext, out: &mut Vec<PathAttribute>) {
    out.extend(a.cloned());
}
fn export_never(_: Option<&PathAttribute>, _: &ExportContext, _: &mut Vec<PathAttribute>) {}
fn no_text(a: &PathAttribute, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    write!(f, "attribute {}", a.code())
}
fn no_words(_: &PathAttribute, _: &mut String) {}
fn no_fact(_: &PathAttribute) -> String {
    String::new()
}

/// The defaults rows start from.
const BASE: AttributeRow = AttributeRow {
    code: 0,
    name: "",
    flags: OPTIONAL | TRANSITIVE,
    on_error: Malformed::Withdraw,
    keyword: "",
    decode: no_decode,
    encode: no_encode,
    export: export_as_is,
    text: no_text,
    words: no_words,
    fact: ("", no_fact),
};

pub const ATTRIBUTES: &[AttributeRow] = &[
    AttributeRow {
        code: tc::ORIGIN,
        name: "ORIGIN",
        flags: TRANSITIVE,
        keyword: "origin",
        decode: |v, _| match v {
            [o] => Origin::from_u8(*o)
                .map(PathAttribute::Origin)
                .ok_or(BadValue::Kind(DecodeErrorKind::InvalidOrigin(*o))),
            _ => Err(BadValue::Length),
        },
        encode: |a, _, out| {
            if let PathAttribute::Origin(o) = a {
                out.push(o.to_u8())
            }
        },
        // RFC 4271 §5.1.1: well-known mandatory; IGP unless configured.
        export: |a, _, out| out.push(a.cloned().unwrap_or(PathAttribute::Origin(Origin::Igp))),
        text: |a, f| match a {
            PathAttribute::Origin(o) => write!(f, "origin {}", o.name()),
            _ => Ok(()),
        },
        words: |a, out| match a {
            PathAttribute::Origin(o) if *o != Origin::Igp => word(out, "origin", o.name()),
            _ => {}
        },
        fact: ("origin", |a| match a {
            PathAttribute::Origin(o) => o.name().to_string(),
            _ => String::new(),
        }),
        ..BASE
    },
    AttributeRow {
        code: tc::AS_PATH,
        name: "AS_PATH",
        flags: TRANSITIVE,
        keyword: "as-path",
        decode: |v, d| {
            decode_as_path(v, d.ctx.four_octet_as)
                .map(PathAttribute::AsPath)
                .ok_or(BadValue::Kind(DecodeErrorKind::MalformedAsPath))
        },
        encode: |a, ctx, out| {
            if let PathAttribute::AsPath(p) = a {
                emit_as_path(p, ctx.four_octet_as, out)
            }
        },
        // Unless configured: empty on iBGP, `[local-as]` on eBGP (a configured path is sent
        // as written, even on eBGP). RFC 6793 §4.2.2: to a 2-octet peer, AS_TRANS in AS_PATH
        // and the real path in AS4_PATH.
        export: |a, s, out| {
            use crate::wire::aspath::ConfederationRole;
            let written = match a {
                Some(PathAttribute::AsPath(p)) => Some(p),
                _ => None,
            };
            let path = match (written, s.confederation) {
                (Some(p), ConfederationRole::External) if !p.without_confederation().is_empty() => {
                    p.without_confederation()
                }
                (Some(p), ConfederationRole::None) => p.clone(),
                (Some(p), ConfederationRole::Member(asn)) => p.with_confederation_member(asn),
                (None, ConfederationRole::Member(asn)) => {
                    AsPath::default().with_confederation_member(asn)
                }
                _ if s.ebgp => AsPath::sequence(vec![s.local_as]),
                _ => AsPath::default(),
            };
            // Export gives what goes on the wire, so that the self-check compares like with
            // like: to a 2-octet peer a 4-octet ASN is AS_TRANS in AS_PATH.
            if !s.four_octet_as && path.has_four_octet_asn() {
                let mut wire = path.clone();
                for seg in &mut wire.segments {
                    for asn in &mut seg.asns {
                        *asn = u32::from(as2(*asn));
                    }
                }
                out.push(PathAttribute::As4Path(path));
                out.push(PathAttribute::AsPath(wire));
                return;
            }
            out.push(PathAttribute::AsPath(path));
        },
        text: |a, f| match a {
            PathAttribute::AsPath(p) => write!(f, "as-path [{p}]"),
            _ => Ok(()),
        },
        words: |a, out| {
            if let PathAttribute::AsPath(p) = a {
                out.push_str(&format!(" as-path [ {p} ]"));
            }
        },
        fact: ("as_path", |a| match a {
            PathAttribute::AsPath(p) => p.to_string(),
            _ => String::new(),
        }),
        ..BASE
    },
    AttributeRow {
        code: tc::NEXT_HOP,
        name: "NEXT_HOP",
        flags: TRANSITIVE,
        decode: |v, _| ipv4(v).map(PathAttribute::NextHop),
        encode: |a, _, out| {
            if let PathAttribute::NextHop(x) = a {
                out.extend_from_slice(&x.octets())
            }
        },
        // Written with the NLRI, from the route's next hop (see `rib::packer`).
        export: export_never,
        text: |a, f| match a {
            PathAttribute::NextHop(x) => write!(f, "next-hop {x}"),
            _ => Ok(()),
        },
        fact: ("next_hop", |a| match a {
            PathAttribute::NextHop(x) => x.to_string(),
            _ => String::new(),
        }),
        ..BASE
    },
    AttributeRow {
        code: tc::MED,
        name: "MULTI_EXIT_DISC",
        flags: OPTIONAL,
        keyword: "med",
        decode: |v, _| u32_of(v).map(PathAttribute::Med),
        encode: |a, _, out| {
            if let PathAttribute::Med(v) = a {
                out.extend_from_slice(&v.to_be_bytes())
            }
        },
        text: |a, f| match a {
            PathAttribute::Med(v) => write!(f, "med {v}"),
            _ => Ok(()),
        },
        words: |a, out| {
            if let PathAttribute::Med(v) = a {
                word(out, "med", v)
            }
        },
        fact: ("med", |a| match a {
            PathAttribute::Med(v) => v.to_string(),
            _ => String::new(),
        }),
        ..BASE
    },
    AttributeRow {
        code: tc::LOCAL_PREF,
        name: "LOCAL_PREF",
        flags: TRANSITIVE,
        keyword: "local-preference",
        decode: |v, _| u32_of(v).map(PathAttribute::LocalPref),
        encode: |a, _, out| {
            if let PathAttribute::LocalPref(v) = a {
                out.extend_from_slice(&v.to_be_bytes())
            }
        },
        // RFC 4271 §5.1.5: only to internal peers, 100 unless configured.
        export: |a, s, out| {
            if !s.ebgp {
                out.push(a.cloned().unwrap_or(PathAttribute::LocalPref(100)));
            }
        },
        text: |a, f| match a {
            PathAttribute::LocalPref(v) => write!(f, "local-preference {v}"),
            _ => Ok(()),
        },
        words: |a, out| {
            if let PathAttribute::LocalPref(v) = a {
                word(out, "local-preference", v)
            }
        },
        fact: ("local_pref", |a| match a {
            PathAttribute::LocalPref(v) => v.to_string(),
            _ => String::new(),
        }),
        ..BASE
    },
    AttributeRow {
        code: tc::ATOMIC_AGGREGATE,
        name: "ATOMIC_AGGREGATE",
        flags: TRANSITIVE,
        on_error: Malformed::Discard,
        keyword: "atomic-aggregate",
        decode: |v, _| match v {
            [] => Ok(PathAttribute::AtomicAggregate),
            _ => Err(BadValue::Length),
        },
        text: |_, f| f.write_str("atomic-aggregate"),
        words: |_, out| out.push_str(" atomic-aggregate"),
        fact: ("atomic_aggregate", |_| "true".into()),
        ..BASE
    },
    AttributeRow {
        code: tc::AGGREGATOR,
        name: "AGGREGATOR",
        on_error: Malformed::Discard,
        keyword: "aggregator",
        decode: |v, d| {
            aggregator(v, d.ctx.four_octet_as)
                .map(|(asn, address)| PathAttribute::Aggregator { asn, address })
        },
        encode: |a, ctx, out| {
            if let PathAttribute::Aggregator { asn, address } = a {
                if ctx.four_octet_as {
                    out.extend_from_slice(&asn.to_be_bytes());
                } else {
                    out.extend_from_slice(&as2(*asn).to_be_bytes());
                }
                out.extend_from_slice(&address.octets());
            }
        },
        // RFC 6793 §4.2.2: to a 2-octet peer, AS_TRANS in AGGREGATOR and the real ASN in
        // AS4_AGGREGATOR.
        export: |a, s, out| {
            if let Some(PathAttribute::Aggregator { asn, address }) = a {
                let on_wire = if s.four_octet_as {
                    *asn
                } else {
                    u32::from(as2(*asn))
                };
                out.push(PathAttribute::Aggregator {
                    asn: on_wire,
                    address: *address,
                });
                if !s.four_octet_as && *asn > u16::MAX as u32 {
                    out.push(PathAttribute::As4Aggregator {
                        asn: *asn,
                        address: *address,
                    });
                }
            }
        },
        text: |a, f| match a {
            PathAttribute::Aggregator { asn, address } => write!(f, "aggregator {asn}:{address}"),
            _ => Ok(()),
        },
        words: |a, out| {
            if let PathAttribute::Aggregator { asn, address } = a {
                out.push_str(&format!(" aggregator ( {asn}:{address} )"));
            }
        },
        fact: ("aggregator", |a| match a {
            PathAttribute::Aggregator { asn, address } => format!("{asn}:{address}"),
            _ => String::new(),
        }),
        ..BASE
    },
    AttributeRow {
        code: tc::COMMUNITIES,
        name: "COMMUNITIES",
        keyword: "community",
        decode: |v, _| {
            chunks(v, 4, |c| u32_of(c).ok().map(Community)).map(PathAttribute::Communities)
        },
        encode: |a, _, out| {
            if let PathAttribute::Communities(v) = a {
                v.iter()
                    .for_each(|c| out.extend_from_slice(&c.0.to_be_bytes()))
            }
        },
        // RFC 1997 lets a receiver drop duplicates; ExaBGP does not send them.
        export: |a, _, out| {
            if let Some(PathAttribute::Communities(v)) = a {
                out.push(PathAttribute::Communities(unique(v)))
            }
        },
        text: |a, f| match a {
            PathAttribute::Communities(v) => write_list(f, "community", v),
            _ => Ok(()),
        },
        words: |a, out| {
            if let PathAttribute::Communities(v) = a {
                words_list(out, "community", v)
            }
        },
        fact: ("communities", |a| match a {
            PathAttribute::Communities(v) => {
                join(v.iter().map(|c| format!("{}:{}", c.0 >> 16, c.0 & 0xFFFF)))
            }
            _ => String::new(),
        }),
        ..BASE
    },
    AttributeRow {
        code: tc::ORIGINATOR_ID,
        name: "ORIGINATOR_ID",
        flags: OPTIONAL,
        keyword: "originator-id",
        decode: |v, _| ipv4(v).map(PathAttribute::OriginatorId),
        encode: |a, _, out| {
            if let PathAttribute::OriginatorId(x) = a {
                out.extend_from_slice(&x.octets())
            }
        },
        // RFC 4456 §8: route-reflection attributes stay inside the AS (an external peer
        // would treat them as malformed, RFC 7606 §7.9).
        export: |a, s, out| {
            if !s.ebgp {
                out.extend(a.cloned())
            }
        },
        text: |a, f| match a {
            PathAttribute::OriginatorId(x) => write!(f, "originator-id {x}"),
            _ => Ok(()),
        },
        words: |a, out| {
            if let PathAttribute::OriginatorId(x) = a {
                word(out, "originator-id", x)
            }
        },
        fact: ("originator_id", |a| match a {
            PathAttribute::OriginatorId(x) => x.to_string(),
            _ => String::new(),
        }),
        ..BASE
    },
    AttributeRow {
        code: tc::CLUSTER_LIST,
        name: "CLUSTER_LIST",
        flags: OPTIONAL,
        keyword: "cluster-list",
        decode: |v, _| chunks(v, 4, |c| ipv4(c).ok()).map(PathAttribute::ClusterList),
        encode: |a, _, out| {
            if let PathAttribute::ClusterList(v) = a {
                v.iter().for_each(|x| out.extend_from_slice(&x.octets()))
            }
        },
        // As ORIGINATOR_ID.
        export: |a, s, out| {
            if !s.ebgp {
                out.extend(a.cloned())
            }
        },
        text: |a, f| match a {
            PathAttribute::ClusterList(v) => write_list(f, "cluster-list", v),
            _ => Ok(()),
        },
        words: |a, out| {
            if let PathAttribute::ClusterList(v) = a {
                words_list(out, "cluster-list", v)
            }
        },
        fact: ("cluster_list", |a| match a {
            PathAttribute::ClusterList(v) => join(v),
            _ => String::new(),
        }),
        ..BASE
    },
    // MP_REACH_NLRI and MP_UNREACH_NLRI carry NLRI, not route attributes: decoded here,
    // written by the UPDATE writer (`wire::update::UpdateWriter`).
    AttributeRow {
        code: tc::MP_REACH_NLRI,
        name: "MP_REACH_NLRI",
        flags: OPTIONAL,
        on_error: Malformed::Reset(subcode::OPTIONAL_ATTRIBUTE_ERROR),
        decode: |v, d| {
            super::decode_mp_reach(v, d.offset, d.add_path)
                .map(PathAttribute::MpReach)
                .map_err(BadValue::Full)
        },
        encode: super::emit_mp_value,
        export: export_never,
        text: super::mp_text,
        ..BASE
    },
    AttributeRow {
        code: tc::MP_UNREACH_NLRI,
        name: "MP_UNREACH_NLRI",
        flags: OPTIONAL,
        on_error: Malformed::Reset(subcode::OPTIONAL_ATTRIBUTE_ERROR),
        decode: |v, d| {
            super::decode_mp_unreach(v, d.offset, d.add_path)
                .map(PathAttribute::MpUnreach)
                .map_err(BadValue::Full)
        },
        encode: super::emit_mp_value,
        export: export_never,
        text: super::mp_text,
        ..BASE
    },
    AttributeRow {
        code: tc::EXTENDED_COMMUNITIES,
        name: "EXTENDED_COMMUNITIES",
        keyword: "extended-community",
        decode: |v, _| {
            chunks(v, 8, |c| c.try_into().ok().map(ExtendedCommunity))
                .map(PathAttribute::ExtendedCommunities)
        },
        encode: |a, _, out| {
            if let PathAttribute::ExtendedCommunities(v) = a {
                v.iter().for_each(|c| out.extend_from_slice(&c.0))
            }
        },
        export: |a, _, out| {
            if let Some(PathAttribute::ExtendedCommunities(v)) = a {
                out.push(PathAttribute::ExtendedCommunities(unique(v)))
            }
        },
        text: |a, f| match a {
            PathAttribute::ExtendedCommunities(v) => write_list(f, "extended-community", v),
            _ => Ok(()),
        },
        words: |a, out| {
            if let PathAttribute::ExtendedCommunities(v) = a {
                words_list(out, "extended-community", v)
            }
        },
        fact: ("ext_communities", |a| match a {
            PathAttribute::ExtendedCommunities(v) => join(v.iter().map(|c| hex(&c.0))),
            _ => String::new(),
        }),
        ..BASE
    },
    AttributeRow {
        code: tc::AS4_PATH,
        name: "AS4_PATH",
        on_error: Malformed::Discard,
        decode: |v, _| {
            decode_as_path(v, true)
                .map(PathAttribute::As4Path)
                .ok_or(BadValue::Kind(DecodeErrorKind::MalformedAsPath))
        },
        encode: |a, _, out| {
            if let PathAttribute::As4Path(p) = a {
                emit_as_path(p, true, out)
            }
        },
        // Exported with AS_PATH.
        export: export_never,
        text: |a, f| match a {
            PathAttribute::As4Path(p) => write!(f, "as4-path [{p}]"),
            _ => Ok(()),
        },
        fact: ("as4_path", |a| match a {
            PathAttribute::As4Path(p) => p.to_string(),
            _ => String::new(),
        }),
        ..BASE
    },
    AttributeRow {
        code: tc::AS4_AGGREGATOR,
        name: "AS4_AGGREGATOR",
        on_error: Malformed::Discard,
        decode: |v, _| {
            aggregator(v, true).map(|(asn, address)| PathAttribute::As4Aggregator { asn, address })
        },
        encode: |a, _, out| {
            if let PathAttribute::As4Aggregator { asn, address } = a {
                out.extend_from_slice(&asn.to_be_bytes());
                out.extend_from_slice(&address.octets());
            }
        },
        // Exported with AGGREGATOR.
        export: export_never,
        text: |a, f| match a {
            PathAttribute::As4Aggregator { asn, address } => {
                write!(f, "as4-aggregator {asn}:{address}")
            }
            _ => Ok(()),
        },
        fact: ("as4_aggregator", |a| match a {
            PathAttribute::As4Aggregator { asn, address } => format!("{asn}:{address}"),
            _ => String::new(),
        }),
        ..BASE
    },
    // RFC 6514 §5. Kept raw (passed on unchanged); a value that does not parse is
    // treat-as-withdraw (RFC 7606 §2: it changes how the route's traffic is forwarded).
    AttributeRow {
        code: tc::PMSI_TUNNEL,
        name: "PMSI_TUNNEL",
        keyword: "pmsi-tunnel",
        decode: |v, d| {
            raw_checked(v, d, tc::PMSI_TUNNEL, "PMSI_TUNNEL", |v| {
                crate::wire::pmsi::PmsiTunnel::decode(v).map(|_| ())
            })
        },
        encode: unknown_value,
        text: |a, f| match a {
            PathAttribute::Unknown { value, .. } => f.write_str(&crate::wire::pmsi::text(value)),
            _ => Ok(()),
        },
        words: |a, out| {
            if let PathAttribute::Unknown { value, .. } = a {
                out.push(' ');
                out.push_str(&crate::wire::pmsi::text(value));
            }
        },
        fact: ("pmsi_tunnel", |a| match a {
            PathAttribute::Unknown { value, .. } => crate::wire::pmsi::text(value),
            _ => String::new(),
        }),
        ..BASE
    },
    // RFC 9012 §13: an attribute that cannot be parsed is discarded (kept raw otherwise).
    AttributeRow {
        code: tc::TUNNEL_ENCAPSULATION,
        name: "TUNNEL_ENCAPSULATION",
        on_error: Malformed::Discard,
        decode: |v, d| {
            crate::wire::tunnel_encap::decode(v)
                .map_err(|e| BadValue::Kind(DecodeErrorKind::MalformedTunnelEncapsulation(e)))?;
            Ok(PathAttribute::Unknown {
                flags: d.flags & !super::flag::EXTENDED_LENGTH,
                code: tc::TUNNEL_ENCAPSULATION,
                value: v.to_vec(),
            })
        },
        encode: unknown_value,
        text: |a, f| match a {
            PathAttribute::Unknown { value, .. } => {
                f.write_str(&crate::wire::tunnel_encap::text(value))
            }
            _ => Ok(()),
        },
        words: generic_words,
        fact: ("tunnel_encapsulation", |a| match a {
            PathAttribute::Unknown { value, .. } => crate::wire::facts::tunnel_text(value),
            _ => String::new(),
        }),
        ..BASE
    },
    AttributeRow {
        code: tc::IPV6_EXTENDED_COMMUNITIES,
        name: "IPV6_EXTENDED_COMMUNITIES",
        decode: |v, _| {
            chunks(v, 20, |c| c.try_into().ok()).map(PathAttribute::Ipv6ExtendedCommunities)
        },
        encode: |a, _, out| {
            if let PathAttribute::Ipv6ExtendedCommunities(v) = a {
                v.iter().for_each(|c| out.extend_from_slice(c))
            }
        },
        text: |a, f| match a {
            PathAttribute::Ipv6ExtendedCommunities(v) => {
                let hexes: Vec<String> = v.iter().map(|c| hex(c)).collect();
                write_list(f, "ipv6-extended-community", &hexes)
            }
            _ => Ok(()),
        },
        fact: ("ipv6_ext_communities", |a| match a {
            PathAttribute::Ipv6ExtendedCommunities(v) => join(v.iter().map(|c| hex(c))),
            _ => String::new(),
        }),
        ..BASE
    },
    // RFC 7311 §3.1: a malformed AIGP attribute is discarded. Sent as configured, to
    // internal and external peers alike, as ExaBGP does: configuring it is the operator's
    // consent that RFC 7311 §3.1 asks for.
    AttributeRow {
        code: tc::AIGP,
        name: "AIGP",
        flags: OPTIONAL,
        on_error: Malformed::Discard,
        keyword: "aigp",
        decode: |v, _| {
            decode_aigp(v)
                .map(PathAttribute::Aigp)
                .ok_or(BadValue::Length)
        },
        encode: |a, _, out| {
            if let PathAttribute::Aigp(tlvs) = a {
                for (t, value) in tlvs {
                    out.push(*t);
                    out.extend_from_slice(&((value.len() + 3) as u16).to_be_bytes());
                    out.extend_from_slice(value);
                }
            }
        },
        text: |a, f| {
            let PathAttribute::Aigp(tlvs) = a else {
                return Ok(());
            };
            f.write_str("aigp")?;
            for (t, value) in tlvs {
                match <[u8; 8]>::try_from(value.as_slice()) {
                    Ok(m) if *t == 1 => write!(f, " metric {}", u64::from_be_bytes(m))?,
                    _ => write!(f, " tlv {t} 0x{}", hex(value))?,
                }
            }
            Ok(())
        },
        words: |a, out| {
            if let PathAttribute::Aigp(tlvs) = a {
                match aigp_metric(tlvs) {
                    Some(m) => word(out, "aigp", m),
                    None => generic_words(a, out),
                }
            }
        },
        fact: ("aigp", |a| match a {
            PathAttribute::Aigp(tlvs) => join(tlvs.iter().map(|(t, v)| format!("{t}:{}", hex(v)))),
            _ => String::new(),
        }),
        ..BASE
    },
    AttributeRow {
        code: tc::LARGE_COMMUNITY,
        name: "LARGE_COMMUNITY",
        keyword: "large-community",
        decode: |v, _| {
            chunks(v, 12, |c| {
                Some(LargeCommunity {
                    global: u32_of(c.get(0..4)?).ok()?,
                    local1: u32_of(c.get(4..8)?).ok()?,
                    local2: u32_of(c.get(8..12)?).ok()?,
                })
            })
            .map(PathAttribute::LargeCommunities)
        },
        encode: |a, _, out| {
            if let PathAttribute::LargeCommunities(v) = a {
                for c in v {
                    out.extend_from_slice(&c.global.to_be_bytes());
                    out.extend_from_slice(&c.local1.to_be_bytes());
                    out.extend_from_slice(&c.local2.to_be_bytes());
                }
            }
        },
        // RFC 8092 §5: a speaker MUST NOT send duplicates.
        export: |a, _, out| {
            if let Some(PathAttribute::LargeCommunities(v)) = a {
                out.push(PathAttribute::LargeCommunities(unique(v)))
            }
        },
        text: |a, f| match a {
            PathAttribute::LargeCommunities(v) => write_list(f, "large-community", v),
            _ => Ok(()),
        },
        words: |a, out| {
            if let PathAttribute::LargeCommunities(v) = a {
                words_list(out, "large-community", v)
            }
        },
        fact: ("large_communities", |a| match a {
            PathAttribute::LargeCommunities(v) => join(v),
            _ => String::new(),
        }),
        ..BASE
    },
    // RFC 9234 §5: a malformed OTC attribute is treat-as-withdraw.
    AttributeRow {
        code: tc::OTC,
        name: "OTC",
        keyword: "otc",
        decode: |v, _| u32_of(v).map(PathAttribute::Otc),
        encode: |a, _, out| {
            if let PathAttribute::Otc(asn) = a {
                out.extend_from_slice(&asn.to_be_bytes())
            }
        },
        // RFC 9234 §5: a route sent to a customer, a peer or an RS-client (we are provider,
        // peer or RS) gets OTC = our AS unless it has one; one it has is never changed (a
        // raw `attribute [ 0x23 ... ]` included, sent as written). The routes that must not
        // go out at all are the packer's (`packer::Group::withheld`).
        export: |a, s, out| match a {
            Some(PathAttribute::Otc(OTC_SELF)) => out.push(PathAttribute::Otc(s.local_as)),
            Some(a) => out.push(a.clone()),
            None if s.role.is_some_and(|r| r.marks_egress()) => {
                out.push(PathAttribute::Otc(s.local_as))
            }
            None => {}
        },
        text: |a, f| match a {
            PathAttribute::Otc(asn) => write!(f, "otc {asn}"),
            _ => Ok(()),
        },
        words: |a, out| match a {
            PathAttribute::Otc(OTC_SELF) => word(out, "otc", "self"),
            PathAttribute::Otc(asn) => word(out, "otc", asn),
            _ => generic_words(a, out),
        },
        fact: ("otc", |a| match a {
            PathAttribute::Otc(asn) => asn.to_string(),
            _ => String::new(),
        }),
        ..BASE
    },
    // RFC 8669 §6: a malformed Prefix-SID is discarded (attribute-discard), the route kept.
    // Set by `bgp-prefix-sid` and `bgp-prefix-sid-srv6` (src/config/prefix_sid.rs).
    AttributeRow {
        code: tc::BGP_PREFIX_SID,
        name: "BGP_PREFIX_SID",
        on_error: Malformed::Discard,
        keyword: "bgp-prefix-sid",
        decode: |v, d| {
            raw_checked(v, d, tc::BGP_PREFIX_SID, "BGP_PREFIX_SID", |v| {
                crate::wire::prefix_sid::check(v)
            })
        },
        encode: unknown_value,
        text: |a, f| match a {
            PathAttribute::Unknown { value, .. } => {
                f.write_str(&crate::wire::prefix_sid::text(value))
            }
            _ => Ok(()),
        },
        words: generic_words,
        fact: ("prefix_sid", |a| match a {
            PathAttribute::Unknown { value, .. } => crate::wire::prefix_sid::text(value),
            _ => String::new(),
        }),
        ..BASE
    },
];

impl PathAttribute {
    /// The type code of the value's row.
    pub fn code(&self) -> u8 {
        match self {
            PathAttribute::Origin(_) => tc::ORIGIN,
            PathAttribute::AsPath(_) => tc::AS_PATH,
            PathAttribute::NextHop(_) => tc::NEXT_HOP,
            PathAttribute::Med(_) => tc::MED,
            PathAttribute::LocalPref(_) => tc::LOCAL_PREF,
            PathAttribute::AtomicAggregate => tc::ATOMIC_AGGREGATE,
            PathAttribute::Aggregator { .. } => tc::AGGREGATOR,
            PathAttribute::Communities(_) => tc::COMMUNITIES,
            PathAttribute::OriginatorId(_) => tc::ORIGINATOR_ID,
            PathAttribute::ClusterList(_) => tc::CLUSTER_LIST,
            PathAttribute::MpReach(_) => tc::MP_REACH_NLRI,
            PathAttribute::MpUnreach(_) => tc::MP_UNREACH_NLRI,
            PathAttribute::ExtendedCommunities(_) => tc::EXTENDED_COMMUNITIES,
            PathAttribute::As4Path(_) => tc::AS4_PATH,
            PathAttribute::As4Aggregator { .. } => tc::AS4_AGGREGATOR,
            PathAttribute::LargeCommunities(_) => tc::LARGE_COMMUNITY,
            PathAttribute::Ipv6ExtendedCommunities(_) => tc::IPV6_EXTENDED_COMMUNITIES,
            PathAttribute::Aigp(_) => tc::AIGP,
            PathAttribute::Otc(_) => tc::OTC,
            PathAttribute::Unknown { code, .. } => *code,
        }
    }
}

/// The row of a type code, `None` for one bgpinject does not know.
pub fn info(code: u8) -> Option<&'static AttributeRow> {
    ATTRIBUTES.iter().find(|a| a.code == code)
}

/// The row whose configuration keyword is `keyword`.
pub fn by_keyword(keyword: &str) -> Option<&'static AttributeRow> {
    ATTRIBUTES
        .iter()
        .find(|a| !a.keyword.is_empty() && a.keyword == keyword)
}

/// What a route whose configured attributes are `set` (sorted by type code, one per code)
/// sends on a session described by `s`, in ascending type code (RFC 4271 §5): each row's
/// export rule, and attributes of codes bgpinject does not know as configured.
pub fn export(set: &[PathAttribute], s: &ExportContext) -> Vec<PathAttribute> {
    let mut out = Vec::with_capacity(set.len() + 3);
    let configured = |code: u8| set.iter().find(|a| a.code() == code);
    for row in ATTRIBUTES {
        (row.export)(configured(row.code), s, &mut out);
    }
    out.extend(set.iter().filter(|a| info(a.code()).is_none()).cloned());
    out.sort_by_key(PathAttribute::code); // stable: AS_PATH's AS4_PATH stays behind it
    out
}

/// `value`'s encoding for an attribute of a code not in the table (or kept raw).
pub(super) fn unknown_value(a: &PathAttribute, _: AttributeContext, out: &mut Vec<u8>) {
    if let PathAttribute::Unknown { value, .. } = a {
        out.extend_from_slice(value)
    }
}

/// ExaBGP's `attribute [ CODE FLAGS VALUE ]`.
pub(super) fn generic_words(a: &PathAttribute, out: &mut String) {
    let mut value = Vec::new();
    a.emit_value(
        AttributeContext {
            four_octet_as: true,
        },
        &mut value,
    );
    out.push_str(&format!(
        " attribute [ 0x{:02x} 0x{:02x} 0x{} ]",
        a.code(),
        a.flags(),
        hex(&value)
    ));
}

/// A value kept raw once `check` accepts it: a row for an attribute bgpinject shows and
/// passes on but does not take apart in the route model.
fn raw_checked(
    v: &[u8],
    d: &Decoding,
    code: u8,
    name: &'static str,
    check: impl Fn(&[u8]) -> Result<(), String>,
) -> Result<PathAttribute, BadValue> {
    check(v).map_err(|why| BadValue::Kind(DecodeErrorKind::MalformedValue { name, why }))?;
    Ok(PathAttribute::Unknown {
        flags: d.flags & !super::flag::EXTENDED_LENGTH,
        code,
        value: v.to_vec(),
    })
}

fn aigp_metric(tlvs: &[(u8, Vec<u8>)]) -> Option<u64> {
    match tlvs {
        [(1, m)] => Some(u64::from_be_bytes(m.as_slice().try_into().ok()?)),
        _ => None,
    }
}

/// RFC 7311 §3: TLVs of type (1), length (2, including the header), value. The AIGP metric
/// TLV (type 1) must have length 11.
fn decode_aigp(value: &[u8]) -> Option<Vec<(u8, Vec<u8>)>> {
    let mut r = crate::wire::reader::Reader::new(value);
    let mut tlvs = Vec::new();
    while !r.is_empty() {
        let t = r.u8().ok()?;
        let len = (r.u16().ok()? as usize).checked_sub(3)?;
        if t == 1 && len != 8 {
            return None;
        }
        tlvs.push((t, r.bytes(len).ok()?.to_vec()));
    }
    (!tlvs.is_empty()).then_some(tlvs)
}

fn u32_of(v: &[u8]) -> Result<u32, BadValue> {
    v.try_into()
        .map(u32::from_be_bytes)
        .map_err(|_| BadValue::Length)
}

fn ipv4(v: &[u8]) -> Result<Ipv4Addr, BadValue> {
    u32_of(v).map(Ipv4Addr::from)
}

/// A 4-octet (or, on a 2-octet session, 2-octet) ASN and an IPv4 address.
fn aggregator(v: &[u8], four_octet: bool) -> Result<(u32, Ipv4Addr), BadValue> {
    let (asn, address) = match (four_octet, v.len()) {
        (true, 8) => (u32_of(&v[..4])?, ipv4(&v[4..])?),
        (false, 6) => (u16::from_be_bytes([v[0], v[1]]) as u32, ipv4(&v[2..])?),
        _ => return Err(BadValue::Length),
    };
    Ok((asn, address))
}

/// A non-empty list of fixed-size items.
fn chunks<T>(v: &[u8], size: usize, item: impl Fn(&[u8]) -> Option<T>) -> Result<Vec<T>, BadValue> {
    if v.is_empty() || !v.len().is_multiple_of(size) {
        return Err(BadValue::Length);
    }
    v.chunks_exact(size)
        .map(|c| item(c).ok_or(BadValue::Length))
        .collect()
}

/// `values` without repeats, in the order first written.
fn unique<T: PartialEq + Clone>(values: &[T]) -> Vec<T> {
    let mut out: Vec<T> = Vec::with_capacity(values.len());
    for v in values {
        if !out.contains(v) {
            out.push(v.clone());
        }
    }
    out
}

fn word(out: &mut String, keyword: &str, value: impl fmt::Display) {
    out.push_str(&format!(" {keyword} {value}"));
}

fn words_list<T: fmt::Display>(out: &mut String, keyword: &str, values: &[T]) {
    let v: Vec<String> = values.iter().map(|c| c.to_string()).collect();
    out.push_str(&format!(" {keyword} [ {} ]", v.join(" ")));
}

fn write_list<T: fmt::Display>(f: &mut fmt::Formatter<'_>, name: &str, v: &[T]) -> fmt::Result {
    write!(f, "{name} [")?;
    for (i, x) in v.iter().enumerate() {
        if i > 0 {
            f.write_str(" ")?;
        }
        write!(f, "{x}")?;
    }
    f.write_str("]")
}

fn join<T: fmt::Display>(v: impl IntoIterator<Item = T>) -> String {
    v.into_iter()
        .map(|x| x.to_string())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_in_code_order_with_one_row_per_code() {
        assert!(ATTRIBUTES.windows(2).all(|w| w[0].code < w[1].code));
    }

    fn session(ebgp: bool, four_octet_as: bool) -> ExportContext {
        ExportContext {
            confederation: Default::default(),
            role: None,
            ebgp,
            four_octet_as,
            local_as: 65000,
        }
    }

    #[test]
    fn export_adds_the_session_defaults_and_follows_each_rule() {
        let large = LargeCommunity {
            global: 65000,
            local1: 1,
            local2: 2,
        };
        let set = vec![
            PathAttribute::Aggregator {
                asn: 4_200_000_000,
                address: "192.0.2.9".parse().unwrap(),
            },
            PathAttribute::OriginatorId("192.0.2.1".parse().unwrap()),
            PathAttribute::LargeCommunities(vec![large, large]),
            PathAttribute::Unknown {
                flags: 0xc0,
                code: 99,
                value: vec![1],
            },
        ];
        let codes = |v: &[PathAttribute]| v.iter().map(|a| a.code()).collect::<Vec<_>>();
        let ebgp2 = export(&set, &session(true, false));
        assert_eq!(codes(&ebgp2), vec![1, 2, 7, 18, 32, 99]);
        assert!(ebgp2.contains(&PathAttribute::LargeCommunities(vec![large])));
        let ibgp4 = export(&set, &session(false, true));
        assert_eq!(codes(&ibgp4), vec![1, 2, 5, 7, 9, 32, 99]);
        assert!(ibgp4.contains(&PathAttribute::LocalPref(100)));
    }

    /// RFC 6793 §4.2.2, as the self-check decodes it: to a 2-octet peer the exported AS_PATH
    /// and AGGREGATOR carry AS_TRANS, the real values go in AS4_PATH and AS4_AGGREGATOR.
    #[test]
    fn export_to_a_two_octet_peer_is_what_the_wire_carries() {
        let address = "192.0.2.9".parse().unwrap();
        let set = vec![
            PathAttribute::AsPath(AsPath::sequence(vec![65000, 4_200_000_001])),
            PathAttribute::Aggregator {
                asn: 4_200_000_000,
                address,
            },
        ];
        let out = export(&set, &session(true, false));
        assert!(out.contains(&PathAttribute::AsPath(AsPath::sequence(vec![65000, 23456]))));
        assert!(out.contains(&PathAttribute::As4Path(AsPath::sequence(vec![
            65000,
            4_200_000_001
        ]))));
        assert!(out.contains(&PathAttribute::Aggregator {
            asn: 23456,
            address
        }));
        assert!(out.contains(&PathAttribute::As4Aggregator {
            asn: 4_200_000_000,
            address
        }));
    }
}
