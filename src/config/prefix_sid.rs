//! Route attributes of segment routing and multicast VPNs, in ExaBGP's words:
//! `bgp-prefix-sid [ 300, [ ( 800000,4096 ), ( 1000000,5000 ) ] ]` (label index and
//! originator SRGB, RFC 8669), `bgp-prefix-sid-srv6 ( l3-service 2001:db8::1 0x48
//! [64,24,16,0,0,0] )` (RFC 9252), and bgpinject's `pmsi-tunnel ( ingress-replication
//! 192.0.2.2 label 10100 )` (RFC 6514 §5; ExaBGP has no word for it).
//!
//! Each value is one group of tokens (`[ ... ]` or `( ... )`), read whole and then split at
//! spaces and commas, so `( 800000,4096 )` and `( 800000 , 4096 )` are the same.

use std::net::IpAddr;

use super::ConfigError;
use super::lexer::{Position, TokenKind};
use super::parser::Parser;
use crate::wire::pmsi::{self, LabelField, PmsiTunnel};
use crate::wire::prefix_sid::{PrefixSid, Srv6Service};

/// One item of a group: a word with where it was written, or a bracket.
#[derive(Clone, Debug, PartialEq)]
enum Item {
    Word(String, Position),
    Open(char, Position),
    Close(char, Position),
}

/// At most this many tokens in one group: a Prefix-SID or PMSI value is a few dozen.
const MAX_GROUP_TOKENS: usize = 4096;

/// Reads one balanced `[ ... ]` or `( ... )` group, from its opening token.
fn group(p: &mut Parser, statement: &str, opens: &[TokenKind]) -> Result<Vec<Item>, ConfigError> {
    let first = p.advance();
    if !opens.contains(&first.kind) {
        let what = if opens == [TokenKind::OpenParen] {
            "'('"
        } else {
            "'['"
        };
        return Err(p.unexpected(&first, &format!("{what} after {statement}")));
    }
    let mut items = Vec::new();
    // The closing character each open group waits for.
    let mut open: Vec<char> = Vec::new();
    let mut token = first;
    loop {
        match token.kind {
            TokenKind::OpenBracket | TokenKind::OpenParen => {
                let (c, close) = if token.kind == TokenKind::OpenParen {
                    ('(', ')')
                } else {
                    ('[', ']')
                };
                open.push(close);
                items.push(Item::Open(c, token.position));
            }
            TokenKind::CloseBracket | TokenKind::CloseParen => {
                let c = if token.kind == TokenKind::CloseParen {
                    ')'
                } else {
                    ']'
                };
                if open.pop() != Some(c) {
                    return Err(p.unexpected(
                        &token,
                        &format!("a matching bracket in the {statement} value"),
                    ));
                }
                items.push(Item::Close(c, token.position));
                if open.is_empty() {
                    return Ok(items);
                }
            }
            TokenKind::Word => {
                // `[64,24,16,0,0,0]` is one word between brackets: commas separate values.
                let mut column = token.position.column;
                for part in token.text.split(',') {
                    if !part.is_empty() {
                        let mut at = token.position;
                        at.column = column;
                        items.push(Item::Word(part.to_string(), at));
                    }
                    column = column.saturating_add(part.chars().count() as u32 + 1);
                }
            }
            _ => {
                return Err(p.unexpected(&token, &format!("the rest of the {statement} value")));
            }
        }
        if items.len() > MAX_GROUP_TOKENS {
            return Err(p.error_at(
                token.position,
                format!("{statement}: more than {MAX_GROUP_TOKENS} items in one value"),
            ));
        }
        token = p.advance();
    }
}

fn number(
    p: &Parser,
    statement: &str,
    item: &Item,
    max: u64,
    range: &str,
) -> Result<u64, ConfigError> {
    let Item::Word(text, at) = item else {
        return Err(item_error(p, statement, item, "a number"));
    };
    let value = match text.strip_prefix("0x") {
        Some(h) => u64::from_str_radix(h, 16).ok(),
        None => text.parse().ok(),
    };
    value.filter(|v| *v <= max).ok_or_else(|| {
        p.error_at(
            *at,
            format!("{statement}: '{text}' is not a number in {range}"),
        )
    })
}

fn item_error(p: &Parser, statement: &str, item: &Item, expected: &str) -> ConfigError {
    let (found, at) = match item {
        Item::Word(w, at) => (format!("'{w}'"), *at),
        Item::Open(c, at) | Item::Close(c, at) => (format!("'{c}'"), *at),
    };
    p.error_at(
        at,
        format!("{statement}: expected {expected}, found {found}"),
    )
}

/// `bgp-prefix-sid [ INDEX ]` or `[ INDEX, [ ( BASE,RANGE ) ... ] ]`, from just after the
/// keyword. ExaBGP also takes a bare `INDEX`.
pub(super) fn parse_prefix_sid(p: &mut Parser) -> Result<PrefixSid, ConfigError> {
    const S: &str = "bgp-prefix-sid";
    if p.peek().kind == TokenKind::Word {
        let t = p.advance();
        let index = number(
            p,
            S,
            &Item::Word(t.text, t.position),
            u32::MAX.into(),
            "0..4294967295",
        )?;
        return Ok(PrefixSid {
            label_index: Some(index as u32),
            ..Default::default()
        });
    }
    let items = group(p, S, &[TokenKind::OpenBracket])?;
    // [ INDEX [ ( B R ) ( B R ) ] ]
    let inner = items.get(1..items.len().saturating_sub(1)).unwrap_or(&[]);
    let mut it = inner.iter().peekable();
    let Some(first) = it.next() else {
        return Err(item_error(p, S, &items[items.len() - 1], "a label index"));
    };
    let index = number(p, S, first, u32::MAX.into(), "0..4294967295")? as u32;
    let mut srgb = Vec::new();
    match it.next() {
        None => {}
        Some(Item::Open('[', _)) => loop {
            match it.next() {
                Some(Item::Open('(', _)) => {
                    let (Some(b), Some(r)) = (it.next(), it.next()) else {
                        return Err(item_error(p, S, first, "( BASE,RANGE )"));
                    };
                    let base = number(p, S, b, 0xFF_FFFF, "0..16777215 (24 bits)")? as u32;
                    let range = number(p, S, r, 0xFF_FFFF, "0..16777215 (24 bits)")? as u32;
                    match it.next() {
                        Some(Item::Close(')', _)) => srgb.push((base, range)),
                        Some(other) => return Err(item_error(p, S, other, "')'")),
                        None => return Err(item_error(p, S, r, "')'")),
                    }
                }
                Some(Item::Close(']', _)) => break,
                Some(other) => return Err(item_error(p, S, other, "'(' or ']'")),
                None => return Err(item_error(p, S, first, "']'")),
            }
        },
        Some(other) => return Err(item_error(p, S, other, "'[' and the SRGB ranges")),
    }
    if let Some(extra) = it.next() {
        return Err(item_error(p, S, extra, "']'"));
    }
    Ok(PrefixSid {
        label_index: Some(index),
        srgb,
        ..Default::default()
    })
}

/// `bgp-prefix-sid-srv6 ( l3-service|l2-service SID [BEHAVIOR [ LB,LN,FUN,ARG,TL,TO ]] )`.
pub(super) fn parse_prefix_sid_srv6(p: &mut Parser) -> Result<PrefixSid, ConfigError> {
    const S: &str = "bgp-prefix-sid-srv6";
    let items = group(p, S, &[TokenKind::OpenParen])?;
    let inner = items.get(1..items.len().saturating_sub(1)).unwrap_or(&[]);
    let last = &items[items.len() - 1];
    let mut it = inner.iter();
    if let Some(Item::Word(w, at)) = inner.first()
        && matches!(w.as_str(), "ipv6" | "vpn" | "l3vpn")
    {
        return draft_srv6(p, w, *at, inner, last);
    }
    let l2 = match it.next() {
        Some(Item::Word(w, _)) if w == "l3-service" => false,
        Some(Item::Word(w, _)) if w == "l2-service" => true,
        Some(other) => return Err(item_error(p, S, other, "l3-service or l2-service")),
        None => return Err(item_error(p, S, last, "l3-service or l2-service")),
    };
    let sid = match it.next() {
        Some(Item::Word(w, at)) => w.parse().map_err(|_| {
            p.error_at(
                *at,
                format!("{S}: '{w}' is not an IPv6 address (the SRv6 SID)"),
            )
        })?,
        Some(other) => return Err(item_error(p, S, other, "the SRv6 SID")),
        None => return Err(item_error(p, S, last, "the SRv6 SID")),
    };
    let mut service = Srv6Service {
        l2,
        sid,
        behavior: 0xFFFF,
        structure: None,
    };
    if let Some(b) = it.next() {
        service.behavior = number(p, S, b, 0xFFFF, "0..65535")? as u16;
        if let Some(open) = it.next() {
            if !matches!(open, Item::Open('[', _)) {
                return Err(item_error(
                    p,
                    S,
                    open,
                    "'[' and the six SID structure lengths",
                ));
            }
            let mut lengths = [0u8; 6];
            for l in &mut lengths {
                let item = it.next().unwrap_or(last);
                *l = number(p, S, item, 255, "0..255")? as u8;
            }
            match it.next() {
                Some(Item::Close(']', _)) => {}
                Some(other) => return Err(item_error(p, S, other, "']' after six lengths")),
                None => return Err(item_error(p, S, last, "']'")),
            }
            service.structure = Some(lengths);
        }
    }
    if let Some(extra) = it.next() {
        return Err(item_error(p, S, extra, "')'"));
    }
    Ok(PrefixSid {
        services: vec![service],
        ..Default::default()
    })
}

/// ExaBGP 4.2's first SRv6 syntax, `bgp-prefix-sid-srv6 ( ipv6|vpn|l3vpn SID )`, with
/// its bytes (4.2's `sr/ipv6sid.py`, `srv6vpnsid.py`, `srv6l3vpnsid.py`): TLV 2 and TLV 4
/// (3 reserved octets and the SID) and TLV 5 (a reserved octet, the SID, flags 0, endpoint
/// behavior 0xFFFF, a reserved octet). RFC 9252 later gave TLV 5 another layout (SID
/// information sub-TLVs) and left 2 and 4 unassigned, so a current peer misreads these;
/// `--check` says so.
fn draft_srv6(
    p: &Parser,
    word: &str,
    at: Position,
    inner: &[Item],
    last: &Item,
) -> Result<PrefixSid, ConfigError> {
    const S: &str = "bgp-prefix-sid-srv6";
    let sid: std::net::Ipv6Addr = match inner.get(1) {
        Some(Item::Word(w, wat)) => w.parse().map_err(|_| {
            p.error_at(
                *wat,
                format!("{S}: '{w}' is not an IPv6 address (the SRv6 SID)"),
            )
        })?,
        Some(other) => return Err(item_error(p, S, other, "the SRv6 SID")),
        None => return Err(item_error(p, S, last, "the SRv6 SID")),
    };
    if let Some(extra) = inner.get(2) {
        return Err(item_error(p, S, extra, "')'"));
    }
    let (kind, value) = match word {
        "l3vpn" => {
            let mut v = vec![0];
            v.extend_from_slice(&sid.octets());
            v.extend_from_slice(&[0, 0xFF, 0xFF, 0]);
            (5, v)
        }
        _ => {
            let mut v = vec![0, 0, 0];
            v.extend_from_slice(&sid.octets());
            (if word == "vpn" { 4 } else { 2 }, v)
        }
    };
    p.note(
        at,
        Some(&format!("draft srv6 {word}")),
        format!(
            "{S} ( {word} SID ) is ExaBGP 4.2's first SRv6 syntax (draft-dawra-idr-srv6-vpn): TLV {kind} is sent as 4.2 sends it, which an RFC 9252 peer does not read as an SRv6 service ('( l3-service SID [BEHAVIOR [ LB,LN,FUN,ARG,TL,TO ]] )' sends RFC 9252's TLV 5)"
        ),
    );
    Ok(PrefixSid {
        draft_tlvs: vec![(kind, value)],
        ..Default::default()
    })
}

/// `pmsi-tunnel ( TYPE [ENDPOINT] [label N | vni N] [leaf-info-required] )`: TYPE a name
/// (`ingress-replication ADDRESS`, `no-tunnel-info`, ...) or `type N id 0xHEX`.
pub(super) fn parse_pmsi(p: &mut Parser) -> Result<PmsiTunnel, ConfigError> {
    const S: &str = "pmsi-tunnel";
    let items = group(p, S, &[TokenKind::OpenParen])?;
    let inner = items.get(1..items.len().saturating_sub(1)).unwrap_or(&[]);
    let last = &items[items.len() - 1];
    let mut it = inner.iter();
    let mut t = PmsiTunnel {
        flags: 0,
        tunnel_type: pmsi::NO_TUNNEL_INFO,
        label: LabelField::Mpls(0),
        identifier: Vec::new(),
    };
    match it.next() {
        Some(Item::Word(w, _)) if w == "type" => {
            let n = it.next().unwrap_or(last);
            t.tunnel_type = number(p, S, n, 255, "0..255")? as u8;
            match (it.next(), it.next()) {
                (Some(Item::Word(id, _)), Some(Item::Word(hex, at))) if id == "id" => {
                    t.identifier = super::route::hex_value(hex)
                        .map_err(|e| p.error_at(*at, format!("{S}: {e}")))?;
                }
                (Some(other), _) => return Err(item_error(p, S, other, "id 0xHEX")),
                (None, _) => return Err(item_error(p, S, last, "id 0xHEX")),
            }
        }
        Some(Item::Word(w, at)) => {
            t.tunnel_type = pmsi::tunnel_type_by_name(w).ok_or_else(|| {
                p.error_at(
                    *at,
                    format!("{S}: unknown tunnel type '{w}', expected ingress-replication, no-tunnel-info, rsvp-te-p2mp, mldp-p2mp, pim-ssm, pim-sm, bidir-pim, mldp-mp2mp or type N id 0xHEX"),
                )
            })?;
            if t.tunnel_type == pmsi::INGRESS_REPLICATION {
                let ip: IpAddr = match it.next() {
                    Some(Item::Word(a, at)) => a.parse().map_err(|_| {
                        p.error_at(
                            *at,
                            format!("{S}: '{a}' is not an IP address (the replicating router)"),
                        )
                    })?,
                    Some(other) => return Err(item_error(p, S, other, "an IP address")),
                    None => return Err(item_error(p, S, last, "an IP address")),
                };
                t.identifier = match ip {
                    IpAddr::V4(a) => a.octets().to_vec(),
                    IpAddr::V6(a) => a.octets().to_vec(),
                };
            }
        }
        Some(other) => return Err(item_error(p, S, other, "a tunnel type")),
        None => return Err(item_error(p, S, last, "a tunnel type")),
    }
    while let Some(item) = it.next() {
        match item {
            Item::Word(w, _) if w == "label" => {
                let n = it.next().unwrap_or(last);
                t.label =
                    LabelField::Mpls(number(p, S, n, 0xF_FFFF, "0..1048575 (20 bits)")? as u32);
            }
            Item::Word(w, _) if w == "vni" => {
                let n = it.next().unwrap_or(last);
                t.label =
                    LabelField::Vni(number(p, S, n, 0xFF_FFFF, "0..16777215 (24 bits)")? as u32);
            }
            Item::Word(w, _) if w == "leaf-info-required" => t.flags |= pmsi::LEAF_INFO_REQUIRED,
            other => {
                return Err(item_error(
                    p,
                    S,
                    other,
                    "label N, vni N, leaf-info-required or ')'",
                ));
            }
        }
    }
    Ok(t)
}

#[cfg(test)]
mod tests {
    use crate::config::api_command::route_from_text;
    use crate::wire::attribute::{PathAttribute, type_code};

    fn value(route: &str, code: u8) -> Vec<u8> {
        let r = route_from_text(route).unwrap();
        match r.attributes.get(code) {
            Some(PathAttribute::Unknown { value, .. }) => value.clone(),
            other => panic!("{other:?}"),
        }
    }

    fn hex(v: &[u8]) -> String {
        v.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn exabgps_prefix_sid_words_give_its_bytes() {
        // ExaBGP's conf-prefix-sid routes and the TLVs of its expected UPDATEs.
        let v = value(
            "198.51.100.100/32 next-hop 198.51.100.1 label [ 800001 ] bgp-prefix-sid [ 777 ]",
            type_code::BGP_PREFIX_SID,
        );
        assert_eq!(hex(&v), "01000700000000000309");
        let v = value(
            "198.51.100.101/32 next-hop 198.51.100.2 label [ 800002 ] bgp-prefix-sid [ 300, [ ( 800000,4096 ), ( 1000000,5000 ) ] ]",
            type_code::BGP_PREFIX_SID,
        );
        assert_eq!(
            hex(&v),
            "0100070000000000012c03000e00000c35000010000f4240001388"
        );
        let v = value(
            "10.0.1.0/24 rd 100:100 next-hop 2001::1 label 3 bgp-prefix-sid-srv6 ( l3-service 2001:db8:1:1:: 0x48 [64,24,16,0,0,0] )",
            type_code::BGP_PREFIX_SID,
        );
        assert_eq!(
            crate::wire::prefix_sid::text(&v),
            "prefix-sid [ srv6-l3-service [ sid 2001:db8:1:1:: behavior 72 structure 64:24:16:0 transposition 0:0 ]; ]"
        );
        // Without behavior: ExaBGP's 0xffff.
        let v = value(
            "10.0.1.0/24 next-hop 192.0.2.1 bgp-prefix-sid-srv6 ( l2-service 2001:db8::5 )",
            type_code::BGP_PREFIX_SID,
        );
        assert_eq!(
            crate::wire::prefix_sid::text(&v),
            "prefix-sid [ srv6-l2-service [ sid 2001:db8::5 behavior 65535 ]; ]"
        );
    }

    #[test]
    fn exabgp42_first_srv6_syntax_gives_its_bytes() {
        // ExaBGP 4.2's sr/srv6vpnsid.py: type 4, length 19, three zero octets, the SID;
        // sr/srv6l3vpnsid.py: type 5, length 21, 0, the SID, 0, 0xFFFF, 0; sr/ipv6sid.py:
        // type 2 laid out as type 4.
        let cases = [
            (
                "vpn 2001:1::10",
                "040013 000000 20010001000000000000000000000010",
            ),
            (
                "l3vpn 2001:1::20",
                "050015 00 20010001000000000000000000000020 00 ffff 00",
            ),
            (
                "ipv6 2001:1::30",
                "020013 000000 20010001000000000000000000000030",
            ),
        ];
        for (words, bytes) in cases {
            let route = format!(
                "10.0.0.0/24 rd 1:1 next-hop 2001::1 label 3 bgp-prefix-sid-srv6 ( {words} )"
            );
            assert_eq!(hex(&value(&route, 40)), bytes.replace(' ', ""), "{words}");
        }
    }

    #[test]
    fn pmsi_tunnel_words() {
        let v = value(
            "10.1.0.0/24 next-hop 192.0.2.1 pmsi-tunnel ( ingress-replication 192.0.2.2 vni 10001 leaf-info-required )",
            type_code::PMSI_TUNNEL,
        );
        assert_eq!(
            crate::wire::pmsi::text(&v),
            "pmsi-tunnel ( ingress-replication 192.0.2.2 vni 10001 leaf-info-required )"
        );
        let v = value(
            "10.1.0.0/24 next-hop 192.0.2.1 pmsi-tunnel ( type 3 id 0xc0000201e8000001 )",
            type_code::PMSI_TUNNEL,
        );
        assert_eq!(hex(&v), "0003000000c0000201e8000001");
    }

    #[test]
    fn bad_values_name_the_word_and_its_column() {
        for (route, needle) in [
            ("bgp-prefix-sid [ 300, [ ( 800000 ) ] ]", "')'"),
            ("bgp-prefix-sid [ 300, [ ( 16777216,1 ) ] ]", "16777216"),
            ("bgp-prefix-sid [ x ]", "'x'"),
            ("bgp-prefix-sid [ 1 )", "matching bracket"),
            (
                "bgp-prefix-sid-srv6 ( l4-service 2001:db8::1 )",
                "l4-service",
            ),
            ("bgp-prefix-sid-srv6 ( l3-service 10.0.0.1 )", "IPv6"),
            ("bgp-prefix-sid-srv6 ( l3vpn", "expected the rest"),
            ("bgp-prefix-sid-srv6 ( )", "l3-service or l2-service"),
            (
                "bgp-prefix-sid-srv6 ( l3-service 2001:db8::1 0x48 [64,24,16] )",
                "']'",
            ),
            (
                "bgp-prefix-sid-srv6 ( l3-service 2001:db8::1 70000 )",
                "70000",
            ),
            ("pmsi-tunnel ( ingress-replication )", "IP address"),
            (
                "pmsi-tunnel ( ingress-replication 192.0.2.2 label 1048576 )",
                "1048576",
            ),
            ("pmsi-tunnel ( tunnel 1 )", "unknown tunnel type"),
            ("pmsi-tunnel [ ingress-replication 192.0.2.2 ]", "'('"),
        ] {
            let e = route_from_text(&format!("10.1.0.0/24 next-hop 192.0.2.1 {route}"))
                .unwrap_err()
                .to_string();
            assert!(e.contains(needle), "{route}: {e}");
            assert!(e.starts_with("command:1:"), "{route}: {e}");
        }
        // A huge group is refused, not read forever.
        let many = "( 1,1 ) ".repeat(2000);
        let e = route_from_text(&format!(
            "10.1.0.0/24 next-hop 192.0.2.1 bgp-prefix-sid [ 1, [ {many} ] ]"
        ))
        .unwrap_err();
        assert!(e.to_string().contains("items"), "{e}");
    }
}
