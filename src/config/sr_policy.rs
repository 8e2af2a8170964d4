//! The SR Policy words of a route (RFC 9830 §2.4), as ExaBGP's `sr-policy` statement writes
//! them after the NLRI's fields: `preference 100 binding-sid mpls 24000 segment-list weight
//! 1 segment type-a mpls 16001 segment type-a mpls 16002 priority 10 policy-name "p"`. They
//! build one Tunnel Encapsulation attribute (type 23) with one SR Policy tunnel TLV, its
//! sub-TLVs in the order written ([`crate::wire::sr_policy_tunnel`]).
//!
//! Segment types A (`type-a mpls LABEL`), B (`type-b srv6 SID [endpoint-behavior B LB LN FUN
//! ARG]`), C (`type-c ipv4 ADDRESS algorithm N [sid LABEL]`) and D (`type-d ipv6 ADDRESS
//! algorithm N [sid LABEL]`), each optionally followed by `verification` (the V flag).
//! `enlp` takes 1..4 or push-ipv4, push-ipv6, push-both, no-push.

use super::ConfigError;
use super::lexer::{Token, TokenKind};
use super::parser::Parser;
use crate::wire::sr_policy_tunnel::{EndpointBehavior, Segment, SegmentKind, SrSubTlv};

/// The words that start an SR Policy sub-TLV.
pub const KEYWORDS: &[&str] = &[
    "preference",
    "priority",
    "binding-sid",
    "srv6-binding-sid",
    "enlp",
    "policy-name",
    "candidate-path-name",
    "segment-list",
];

/// More segments than this in one list cannot fit a BGP message (8 octets each); stop
/// reading there rather than build a list that is refused anyway.
const MAX_SEGMENTS: usize = 65535 / 8;

/// The sub-TLVs written so far, with the keyword of each (for "given twice").
#[derive(Default)]
pub(super) struct SrPolicyWords {
    subs: Vec<(SrSubTlv, Token)>,
}

const MPLS_LABEL: (u64, &str) = (0xF_FFFF, "0..1048575 (20 bits)");

/// ExaBGP's line continuation inside a statement.
fn skip_continuations(p: &mut Parser) {
    while p.peek().kind == TokenKind::Word && p.peek().text == "\\" {
        p.advance();
    }
}

fn next_word(p: &mut Parser, what: &str) -> Result<Token, ConfigError> {
    skip_continuations(p);
    p.expect_word(what)
}

fn number(p: &mut Parser, what: &str, (max, range): (u64, &str)) -> Result<u64, ConfigError> {
    let t = next_word(p, what)?;
    let v = match t.text.strip_prefix("0x") {
        Some(h) => u64::from_str_radix(h, 16).ok(),
        None => t.text.parse().ok(),
    };
    v.filter(|v| *v <= max).ok_or_else(|| {
        p.error_at(
            t.position,
            format!("expected {what} in {range}, found '{}'", t.text),
        )
    })
}

fn address<T: std::str::FromStr>(p: &mut Parser, what: &str) -> Result<T, ConfigError> {
    let t = next_word(p, what)?;
    t.text
        .parse()
        .map_err(|_| p.error_at(t.position, format!("expected {what}, found '{}'", t.text)))
}

fn keyword(p: &mut Parser, word: &str, after: &str) -> Result<(), ConfigError> {
    let t = next_word(p, &format!("'{word}' after {after}"))?;
    if t.text != word {
        return Err(p.unexpected(&t, &format!("'{word}' after {after}")));
    }
    Ok(())
}

fn name(p: &mut Parser, what: &str) -> Result<String, ConfigError> {
    skip_continuations(p);
    let t = p.advance();
    if !matches!(t.kind, TokenKind::Quoted | TokenKind::Word) {
        return Err(p.unexpected(&t, &format!("a name after {what}")));
    }
    Ok(t.text)
}

impl SrPolicyWords {
    /// Reads the sub-TLV of `kw` (one of [`KEYWORDS`]), from just after it.
    pub(super) fn parse(&mut self, p: &mut Parser, kw: &Token) -> Result<(), ConfigError> {
        let w = kw.text.as_str();
        let sub = match w {
            "preference" => {
                SrSubTlv::Preference(
                    number(p, "a preference", (u32::MAX.into(), "0..4294967295"))? as u32,
                )
            }
            "priority" => SrSubTlv::Priority(number(p, "a priority", (255, "0..255"))? as u8),
            "binding-sid" => {
                let t = next_word(p, "mpls or null after binding-sid")?;
                match t.text.as_str() {
                    "mpls" => {
                        SrSubTlv::BindingSid(Some(number(p, "an MPLS label", MPLS_LABEL)? as u32))
                    }
                    "null" => SrSubTlv::BindingSid(None),
                    _ => return Err(p.unexpected(&t, "mpls or null after binding-sid")),
                }
            }
            "srv6-binding-sid" => {
                SrSubTlv::Srv6BindingSid(address(p, "an IPv6 address (the SRv6 binding SID)")?)
            }
            "enlp" => {
                let t = next_word(p, "an ENLP value")?;
                let v = match t.text.as_str() {
                    "push-ipv4" | "1" => 1,
                    "push-ipv6" | "2" => 2,
                    "push-both" | "3" => 3,
                    "no-push" | "4" => 4,
                    _ => {
                        return Err(p.unexpected(
                            &t,
                            "push-ipv4, push-ipv6, push-both or no-push (RFC 9830 §2.4.5)",
                        ));
                    }
                };
                SrSubTlv::Enlp(v)
            }
            "policy-name" => SrSubTlv::PolicyName(name(p, w)?),
            "candidate-path-name" => SrSubTlv::CandidatePathName(name(p, w)?),
            "segment-list" => parse_segment_list(p)?,
            _ => return Err(p.unexpected(kw, "an SR Policy attribute")),
        };
        let repeatable = matches!(sub, SrSubTlv::SegmentList { .. });
        if !repeatable && let Some((_, first)) = self.subs.iter().find(|(_, t)| t.text == kw.text) {
            return Err(p.error_at(
                kw.position,
                format!(
                    "'{}' given twice (first at line {}, column {})",
                    kw.text, first.position.line, first.position.column
                ),
            ));
        }
        self.subs.push((sub, kw.clone()));
        Ok(())
    }

    /// The Tunnel Encapsulation attribute, when any word was given.
    pub(super) fn finish(
        self,
        p: &Parser,
    ) -> Result<Option<crate::wire::attribute::PathAttribute>, ConfigError> {
        use crate::wire::attribute::{PathAttribute, flag, type_code};
        let Some((_, first)) = self.subs.first() else {
            return Ok(None);
        };
        let at = first.position;
        let subs: Vec<SrSubTlv> = self.subs.into_iter().map(|(s, _)| s).collect();
        let value = crate::wire::sr_policy_tunnel::encode(&subs)
            .map_err(|e| p.error_at(at, format!("SR Policy: {e}; a BGP message holds at most 65535 octets (4096 without RFC 8654 extended messages)")))?;
        // Header 19, two length fields 4, attribute header 4: what else the message needs.
        if value.len() + 27 > crate::wire::message::MAX_MESSAGE_LEN {
            p.note(
                at,
                None,
                format!("SR Policy: a tunnel encapsulation of {} octets is sent only to peers with RFC 8654 extended messages", value.len()),
            );
        }
        Ok(Some(PathAttribute::Unknown {
            flags: flag::OPTIONAL | flag::TRANSITIVE,
            code: type_code::TUNNEL_ENCAPSULATION,
            value,
        }))
    }
}

/// `weight N segment TYPE ... [segment TYPE ...]`, from just after `segment-list`.
fn parse_segment_list(p: &mut Parser) -> Result<SrSubTlv, ConfigError> {
    skip_continuations(p);
    let weight = if p.peek().text == "weight" {
        p.advance();
        Some(number(p, "a weight", (u32::MAX.into(), "0..4294967295"))? as u32)
    } else {
        None
    };
    let mut segments = Vec::new();
    loop {
        skip_continuations(p);
        if p.peek().text != "segment" {
            break;
        }
        let at = p.advance();
        if segments.len() >= MAX_SEGMENTS {
            return Err(p.error_at(
                at.position,
                format!("a segment list of more than {MAX_SEGMENTS} segments cannot fit a BGP message (65535 octets)"),
            ));
        }
        let t = next_word(p, "a segment type (type-a, type-b, type-c, type-d)")?;
        let kind = match t.text.as_str() {
            "type-a" => {
                keyword(p, "mpls", "type-a")?;
                SegmentKind::Label(number(p, "an MPLS label", MPLS_LABEL)? as u32)
            }
            "type-b" => {
                keyword(p, "srv6", "type-b")?;
                let sid = address(p, "an IPv6 address (the SRv6 SID)")?;
                skip_continuations(p);
                let eb = if p.peek().text == "endpoint-behavior" {
                    p.advance();
                    let behavior = number(p, "an endpoint behavior", (0xFFFF, "0..65535"))? as u16;
                    let mut lengths = [0u8; 4];
                    for l in &mut lengths {
                        *l = number(p, "a SID structure length", (128, "0..128"))? as u8;
                    }
                    Some(EndpointBehavior { behavior, lengths })
                } else {
                    None
                };
                SegmentKind::Srv6(sid, eb)
            }
            "type-c" | "type-d" => {
                let v4 = t.text == "type-c";
                keyword(p, if v4 { "ipv4" } else { "ipv6" }, &t.text)?;
                let node: std::net::IpAddr = if v4 {
                    std::net::IpAddr::V4(address(p, "an IPv4 address")?)
                } else {
                    std::net::IpAddr::V6(address(p, "an IPv6 address")?)
                };
                keyword(p, "algorithm", &t.text)?;
                let algorithm = number(p, "an algorithm", (255, "0..255"))? as u8;
                skip_continuations(p);
                let sid = if p.peek().text == "sid" {
                    p.advance();
                    Some(number(p, "an MPLS label", MPLS_LABEL)? as u32)
                } else {
                    None
                };
                match node {
                    std::net::IpAddr::V4(a) => SegmentKind::Ipv4Node(a, algorithm, sid),
                    std::net::IpAddr::V6(a) => SegmentKind::Ipv6Node(a, algorithm, sid),
                }
            }
            other => {
                return Err(p.error_at(
                    t.position,
                    format!("unknown or unsupported segment type '{other}', expected type-a, type-b, type-c or type-d (types E to K are not built)"),
                ));
            }
        };
        skip_continuations(p);
        let verification = p.peek().text == "verification";
        if verification {
            p.advance();
        }
        segments.push(Segment { kind, verification });
    }
    Ok(SrSubTlv::SegmentList { weight, segments })
}

#[cfg(test)]
mod tests {
    use crate::config::{Config, parse_str};
    use std::path::Path;

    fn parse(statement: &str) -> Result<Config, String> {
        let text = format!(
            "neighbor 127.0.0.1 {{ router-id 1.2.3.4; local-address 127.0.0.1; local-as 1; peer-as 1;\n  family {{ ipv4 sr-policy; }}\n  announce {{ ipv4 {{\n{statement}\n  }} }}\n}}\n"
        );
        parse_str(&text, Path::new("test.conf")).map_err(|e| e.to_string())
    }

    #[test]
    fn sr_policy_words_are_checked_with_positions() {
        let base = "sr-policy distinguisher 0 color 1 endpoint 10.0.0.1 next-hop 192.0.2.1";
        assert!(parse(&format!("{base} preference 100 binding-sid mpls 24000 segment-list weight 1 segment type-a mpls 16001 \\\n segment type-b srv6 fc00::1 endpoint-behavior 0x41 32 0 16 0;")).is_ok());
        for (words, needle) in [
            ("preference 1 preference 2", "given twice"),
            ("binding-sid mpls 1048576", "1048576"),
            ("segment-list weight 1 segment type-e mpls 1", "type-e"),
            ("segment-list weight 1 segment type-a ipv4 1", "'mpls'"),
            ("enlp sometimes", "no-push"),
            ("srv6-binding-sid 10.0.0.1", "IPv6"),
        ] {
            let e = parse(&format!("{base} {words};")).unwrap_err();
            assert!(e.contains(needle), "{words}: {e}");
            assert!(e.starts_with("test.conf:4:"), "{words}: {e}");
        }
        // On a prefix route the words are refused, by name.
        let e = parse_str(
            "neighbor 127.0.0.1 { router-id 1.2.3.4; local-address 127.0.0.1; local-as 1; peer-as 1; static { route 10.0.0.0/24 next-hop 192.0.2.1 preference 5; } }",
            Path::new("t.conf"),
        )
        .unwrap_err();
        assert!(e.to_string().contains("sr-policy route"), "{e}");
    }

    #[test]
    fn ten_thousand_segments_stop_at_the_message_size_with_a_clear_error() {
        let segments = (0..10_000)
            .map(|i| format!("segment type-a mpls {}", 16000 + i))
            .collect::<Vec<_>>()
            .join(" ");
        let e = parse(&format!(
            "sr-policy distinguisher 0 color 1 endpoint 10.0.0.1 next-hop 192.0.2.1 segment-list weight 1 {segments};"
        ))
        .unwrap_err();
        assert!(e.contains("cannot fit a BGP message"), "{e}");
        // 5,000 segments fit 65535 octets but not 4096: accepted, for extended-message peers.
        let segments = (0..5_000)
            .map(|i| format!("segment type-a mpls {i}"))
            .collect::<Vec<_>>()
            .join(" ");
        assert!(parse(&format!(
            "sr-policy distinguisher 0 color 1 endpoint 10.0.0.1 next-hop 192.0.2.1 segment-list {segments};"
        ))
        .is_ok());
        // Two lists of 5,000 do not fit one attribute.
        let e = parse(&format!(
            "sr-policy distinguisher 0 color 1 endpoint 10.0.0.1 next-hop 192.0.2.1 segment-list {segments} segment-list {segments};"
        ))
        .unwrap_err();
        assert!(e.contains("tunnel encapsulation of"), "{e}");
    }
}
