//! The configuration's and the API's words for the NLRI of this module's families, read
//! back into values: the inverse of their `Display` (`evpn mac-ip rd 192.0.2.2:100 esi 0
//! ethernet-tag 0 mac 00:11:22:aa:bb:01 ip 10.10.0.1 label [ 10100 ]`, `rtc origin 65019
//! route-target target:65019:100`, `vpls rd ... endpoint 5 base 10702 offset 1 size 8`,
//! `sr-policy distinguisher 1 color 100 endpoint 192.0.2.9`, `mup-t1st 203.0.113.1/32 rd
//! 100:100 teid 12345 qfi 9 endpoint 192.0.2.21`).
//!
//! [`parse`] reads the NLRI's words from the start of a statement and stops at the first word
//! that is not one of them (`next-hop`, an attribute), returning how many it used, so that
//! the caller reads the rest. Errors carry the index of the word at fault, for positions.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use super::FamilyNlri;
use super::evpn::{Esi, Evpn, mpls_fields};
use super::mup::{ARCH_3GPP_5G, Mup, MupPrefix, MupRoute, route_type};
use super::mvpn::{self, Mvpn};
use super::rtc::Rtc;
use super::sr_policy::SrPolicy;
use super::vpls::Vpls;
use crate::wire::community::ExtendedCommunity;
use crate::wire::labeled::RouteDistinguisher;

/// What is wrong with a statement, and at which word (index into the words given).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WordError {
    pub index: usize,
    pub message: String,
}

impl fmt::Display for WordError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// The words that start an NLRI of these families.
pub const STARTS: &[&str] = &[
    "evpn",
    "rtc",
    "vpls",
    "sr-policy",
    "mup-isd",
    "mup-dsd",
    "mup-t1st",
    "mup-t2st",
];

/// The EVPN route types by their word.
pub const EVPN_ROUTES: &[&str] = &[
    "ethernet-ad",
    "mac-ip",
    "multicast",
    "ethernet-segment",
    "ip-prefix",
];

fn err(index: usize, message: impl Into<String>) -> WordError {
    WordError {
        index,
        message: message.into(),
    }
}

/// A cursor over the words with typed readers.
struct Words<'a> {
    words: &'a [&'a str],
    at: usize,
}

impl<'a> Words<'a> {
    fn peek(&self) -> Option<&'a str> {
        self.words.get(self.at).copied()
    }

    fn next(&mut self, what: &str) -> Result<&'a str, WordError> {
        let w = self
            .peek()
            .ok_or_else(|| err(self.at, format!("expected {what} after '{}'", self.last())))?;
        self.at += 1;
        Ok(w)
    }

    fn last(&self) -> &'a str {
        self.at
            .checked_sub(1)
            .and_then(|i| self.words.get(i))
            .copied()
            .unwrap_or("")
    }

    fn value<T: FromStr>(&mut self, what: &str) -> Result<T, WordError> {
        let index = self.at;
        let w = self.next(what)?;
        w.parse()
            .map_err(|_| err(index, format!("'{w}' is not {what}")))
    }

    /// `[ a b ]` or one value.
    fn list<T: FromStr>(&mut self, what: &str) -> Result<Vec<T>, WordError> {
        if self.peek() != Some("[") {
            return Ok(vec![self.value(what)?]);
        }
        let open = self.at;
        self.at += 1;
        let mut out = Vec::new();
        loop {
            match self.peek() {
                Some("]") => {
                    self.at += 1;
                    break;
                }
                Some(_) => out.push(self.value(what)?),
                None => return Err(err(open, "'[' without its ']'")),
            }
        }
        if out.is_empty() {
            return Err(err(open, format!("an empty list, expected {what}")));
        }
        Ok(out)
    }
}

/// `addr` with the bits past `len` cleared.
fn mask(addr: IpAddr, len: u8) -> IpAddr {
    match addr {
        IpAddr::V4(a) => {
            let bits = u32::from(a);
            let m = u32::MAX
                .checked_shl(32 - u32::from(len.min(32)))
                .unwrap_or(0);
            IpAddr::V4((bits & m).into())
        }
        IpAddr::V6(a) => {
            let bits = u128::from(a);
            let m = u128::MAX
                .checked_shl(128 - u32::from(len.min(128)))
                .unwrap_or(0);
            IpAddr::V6((bits & m).into())
        }
    }
}

fn parse_mac(s: &str) -> Option<[u8; 6]> {
    let mut out = [0u8; 6];
    let mut n = 0;
    for part in s.split(':') {
        let slot = out.get_mut(n)?;
        if part.is_empty() || part.len() > 2 {
            return None;
        }
        *slot = u8::from_str_radix(part, 16).ok()?;
        n += 1;
    }
    (n == 6).then_some(out)
}

struct Mac([u8; 6]);

impl FromStr for Mac {
    type Err = ();
    fn from_str(s: &str) -> Result<Mac, ()> {
        parse_mac(s).map(Mac).ok_or(())
    }
}

/// `ADDRESS/LENGTH`.
struct PrefixWord(IpAddr, u8);

impl FromStr for PrefixWord {
    type Err = ();
    fn from_str(s: &str) -> Result<PrefixWord, ()> {
        let (a, l) = s.split_once('/').ok_or(())?;
        let addr: IpAddr = a.parse().map_err(|_| ())?;
        let len: u8 = l.parse().map_err(|_| ())?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        (len <= max).then_some(PrefixWord(addr, len)).ok_or(())
    }
}

struct Ext(ExtendedCommunity);

impl FromStr for Ext {
    type Err = ();
    /// `target:ASN:N`, `target:A.B.C.D:N`, `target:ASN4L:N` (RFC 4360 route targets).
    fn from_str(s: &str) -> Result<Ext, ()> {
        let rest = s.strip_prefix("target:").ok_or(())?;
        let (admin, value) = rest.rsplit_once(':').ok_or(())?;
        let mut b = [0u8; 8];
        b[1] = 0x02;
        if let Ok(ip) = admin.parse::<std::net::Ipv4Addr>() {
            b[0] = 0x01;
            b[2..6].copy_from_slice(&ip.octets());
            b[6..].copy_from_slice(&value.parse::<u16>().map_err(|_| ())?.to_be_bytes());
        } else if let Some(asn) = admin.strip_suffix('L').or_else(|| {
            // An AS number above 65535 has the 4-octet AS form (RFC 5668), as ExaBGP sends it.
            admin
                .parse::<u32>()
                .ok()
                .filter(|a| *a > u32::from(u16::MAX))
                .map(|_| admin)
        }) {
            b[0] = 0x02;
            b[2..6].copy_from_slice(&asn.parse::<u32>().map_err(|_| ())?.to_be_bytes());
            b[6..].copy_from_slice(&value.parse::<u16>().map_err(|_| ())?.to_be_bytes());
        } else {
            b[2..4].copy_from_slice(&admin.parse::<u16>().map_err(|_| ())?.to_be_bytes());
            b[4..].copy_from_slice(&value.parse::<u32>().map_err(|_| ())?.to_be_bytes());
        }
        Ok(Ext(ExtendedCommunity(b)))
    }
}

/// The fields an EVPN, VPLS, SR Policy or MUP statement may give, as read.
#[derive(Default)]
struct Fields {
    rd: Option<RouteDistinguisher>,
    esi: Option<Esi>,
    ethernet_tag: Option<u32>,
    mac: Option<[u8; 6]>,
    ip: Option<IpAddr>,
    prefix: Option<(IpAddr, u8)>,
    gateway: Option<IpAddr>,
    labels: Option<Vec<u32>>,
}

/// Reads the NLRI at the start of `words`: the value and how many words it used.
pub fn parse(words: &[&str]) -> Result<(FamilyNlri, usize), WordError> {
    let mut w = Words { words, at: 0 };
    let first = w.next("a family word")?;
    let nlri = match first {
        "evpn" => FamilyNlri::Evpn(evpn(&mut w)?),
        "rtc" => FamilyNlri::Rtc(rtc(&mut w)?),
        "vpls" => FamilyNlri::Vpls(vpls(&mut w)?),
        "sr-policy" => FamilyNlri::SrPolicy(sr_policy(&mut w)?),
        "mup-isd" | "mup-dsd" | "mup-t1st" | "mup-t2st" => FamilyNlri::Mup(mup(first, &mut w)?),
        "mcast-vpn" => FamilyNlri::Mvpn(mvpn(&mut w)?),
        other => {
            return Err(err(
                0,
                format!(
                    "unknown route kind '{other}', expected {}",
                    STARTS.join(", ")
                ),
            ));
        }
    };
    Ok((nlri, w.at))
}

/// The index of `word` among the words read since `from` (for an error about one value of
/// a list); `from` when it is not there.
fn word_index(w: &Words, from: usize, word: &str) -> usize {
    (from..w.at)
        .find(|i| w.words.get(*i) == Some(&word))
        .unwrap_or(from)
}

fn need<T>(v: Option<T>, at: usize, what: &str) -> Result<T, WordError> {
    v.ok_or_else(|| err(at, format!("missing '{what}'")))
}

fn evpn(w: &mut Words) -> Result<Evpn, WordError> {
    let kind_at = w.at;
    let kind = w.next(&format!("an EVPN route type ({})", EVPN_ROUTES.join(", ")))?;
    if !EVPN_ROUTES.contains(&kind) {
        return Err(err(
            kind_at,
            format!(
                "unknown EVPN route type '{kind}', expected {}",
                EVPN_ROUTES.join(", ")
            ),
        ));
    }
    let mut f = Fields::default();
    while let Some(word) = w.peek() {
        let at = w.at;
        match word {
            "rd" => {
                w.at += 1;
                f.rd = Some(w.value("a route distinguisher (ASN:N or A.B.C.D:N)")?);
            }
            "esi" => {
                w.at += 1;
                f.esi = Some(w.value("an ESI (ten hex octets separated by colons, or 0)")?);
            }
            "ethernet-tag" => {
                w.at += 1;
                f.ethernet_tag = Some(w.value("an Ethernet tag (0..4294967295)")?);
            }
            "mac" => {
                w.at += 1;
                f.mac = Some(w.value::<Mac>("a MAC address (00:11:22:aa:bb:cc)")?.0);
            }
            "ip" => {
                w.at += 1;
                f.ip = Some(w.value("an IP address")?);
            }
            "prefix" => {
                w.at += 1;
                let p: PrefixWord = w.value("a prefix (ADDRESS/LENGTH)")?;
                f.prefix = Some((p.0, p.1));
            }
            "gateway" => {
                w.at += 1;
                f.gateway = Some(w.value("a gateway IP address")?);
            }
            "label" => {
                w.at += 1;
                let labels: Vec<u32> = w.list("an MPLS label (0..1048575)")?;
                if let Some(l) = labels.iter().find(|l| **l > 0xF_FFFF) {
                    let index = word_index(w, at, &l.to_string());
                    return Err(err(index, format!("label {l} is over 1048575 (20 bits)")));
                }
                f.labels = Some(mpls_fields(&labels));
            }
            "raw-label" | "vni" => {
                w.at += 1;
                let fields: Vec<u32> = w.list("a 24-bit label field (0..16777215)")?;
                if let Some(l) = fields.iter().find(|l| **l > 0xFF_FFFF) {
                    let index = word_index(w, at, &l.to_string());
                    return Err(err(index, format!("{l} is over 16777215 (24 bits)")));
                }
                f.labels = Some(fields);
            }
            _ => break,
        }
    }
    let rd = need(f.rd, kind_at, "rd")?;
    let esi = f.esi.unwrap_or_default();
    let tag = f.ethernet_tag.unwrap_or(0);
    let one_label = |labels: Option<Vec<u32>>| -> Result<u32, WordError> {
        match labels.as_deref() {
            Some([l]) => Ok(*l),
            Some(_) => Err(err(kind_at, format!("evpn {kind} takes one label"))),
            None => Err(err(kind_at, "missing 'label'")),
        }
    };
    Ok(match kind {
        "ethernet-ad" => Evpn::EthernetAd {
            rd,
            esi,
            ethernet_tag: tag,
            label: one_label(f.labels)?,
        },
        "mac-ip" => {
            let labels = need(f.labels, kind_at, "label")?;
            if labels.len() > 2 {
                return Err(err(
                    kind_at,
                    "evpn mac-ip takes one or two labels (RFC 7432 §7.2)",
                ));
            }
            Evpn::MacIp {
                rd,
                esi,
                ethernet_tag: tag,
                mac: need(f.mac, kind_at, "mac")?,
                ip: f.ip,
                labels,
            }
        }
        "multicast" => Evpn::InclusiveMulticast {
            rd,
            ethernet_tag: tag,
            ip: need(f.ip, kind_at, "ip")?,
        },
        "ethernet-segment" => Evpn::EthernetSegment {
            rd,
            esi,
            ip: need(f.ip, kind_at, "ip")?,
        },
        _ => {
            let (prefix, prefix_len) = need(f.prefix, kind_at, "prefix")?;
            let gateway = match f.gateway {
                Some(g) if g.is_ipv4() != prefix.is_ipv4() => {
                    return Err(err(kind_at, "the gateway must be of the prefix's family"));
                }
                Some(g) => g,
                None if prefix.is_ipv4() => IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED),
                None => IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED),
            };
            Evpn::IpPrefix {
                rd,
                esi,
                ethernet_tag: tag,
                prefix,
                prefix_len,
                gateway,
                label: match f.labels {
                    None => 0,
                    labels => one_label(labels)?,
                },
            }
        }
    })
}

fn rtc(w: &mut Words) -> Result<Rtc, WordError> {
    let start = w.at;
    // ExaBGP main writes the wildcard `rtc default`.
    if matches!(w.peek(), Some("wildcard" | "default")) {
        w.at += 1;
        return Ok(Rtc::wildcard());
    }
    let mut origin = None;
    let mut target = None;
    while let Some(word) = w.peek() {
        match word {
            // `origin-as` is ExaBGP main's word.
            "origin" | "origin-as" => {
                w.at += 1;
                origin = Some(w.value::<u32>("an origin AS number")?);
            }
            "route-target" => {
                w.at += 1;
                let at = w.at;
                let t = w.next("a route target (target:ASN:N)")?;
                // ExaBGP main writes the route target without `target:`.
                let full = if t.starts_with("target:") {
                    t.to_string()
                } else {
                    format!("target:{t}")
                };
                target = Some(
                    full.parse::<Ext>()
                        .map_err(|_| {
                            err(
                                at,
                                format!(
                                    "'{t}' is not a route target (target:ASN:N, target:A.B.C.D:N)"
                                ),
                            )
                        })?
                        .0,
                );
            }
            _ => break,
        }
    }
    Ok(Rtc::new(
        need(origin, start, "origin")?,
        need(target, start, "route-target")?,
    ))
}

fn vpls(w: &mut Words) -> Result<Vpls, WordError> {
    let start = w.at;
    let (mut rd, mut endpoint, mut base, mut offset, mut size) = (None, None, None, None, None);
    while let Some(word) = w.peek() {
        match word {
            "rd" => {
                w.at += 1;
                rd = Some(w.value::<RouteDistinguisher>("a route distinguisher")?);
            }
            "endpoint" => {
                w.at += 1;
                endpoint = Some(w.value::<u16>("a VE ID (0..65535)")?);
            }
            "base" => {
                w.at += 1;
                let at = w.at;
                let b: u32 = w.value("a label base (0..1048575)")?;
                if b > 0xF_FFFF {
                    return Err(err(at, format!("label base {b} is over 1048575 (20 bits)")));
                }
                base = Some(b);
            }
            "offset" => {
                w.at += 1;
                offset = Some(w.value::<u16>("a VE block offset (0..65535)")?);
            }
            "size" => {
                w.at += 1;
                size = Some(w.value::<u16>("a VE block size (0..65535)")?);
            }
            _ => break,
        }
    }
    Ok(Vpls::new(
        need(rd, start, "rd")?,
        need(endpoint, start, "endpoint")?,
        need(offset, start, "offset")?,
        need(size, start, "size")?,
        need(base, start, "base")?,
    ))
}

fn sr_policy(w: &mut Words) -> Result<SrPolicy, WordError> {
    let start = w.at;
    let (mut distinguisher, mut color, mut endpoint) = (None, None, None);
    while let Some(word) = w.peek() {
        match word {
            "distinguisher" => {
                w.at += 1;
                distinguisher = Some(w.value::<u32>("a distinguisher (0..4294967295)")?);
            }
            "color" => {
                w.at += 1;
                color = Some(w.value::<u32>("a color (0..4294967295)")?);
            }
            "endpoint" => {
                w.at += 1;
                endpoint = Some(w.value::<IpAddr>("an endpoint IP address")?);
            }
            _ => break,
        }
    }
    Ok(SrPolicy {
        distinguisher: need(distinguisher, start, "distinguisher")?,
        color: need(color, start, "color")?,
        endpoint: need(endpoint, start, "endpoint")?,
    })
}

fn mup(kind: &str, w: &mut Words) -> Result<Mup, WordError> {
    let start = w.at.saturating_sub(1);
    let target = w.next("the route's prefix or address")?;
    let (mut rd, mut teid, mut qfi, mut endpoint, mut source) = (None, None, None, None, None);
    while let Some(word) = w.peek() {
        match word {
            "rd" => {
                w.at += 1;
                rd = Some(w.value::<RouteDistinguisher>("a route distinguisher")?);
            }
            "teid" => {
                w.at += 1;
                teid = Some(w.next("a TEID")?);
            }
            "qfi" => {
                w.at += 1;
                qfi = Some(w.value::<u8>("a QFI (0..255)")?);
            }
            "endpoint" => {
                w.at += 1;
                endpoint = Some(w.value::<IpAddr>("an endpoint IP address")?);
            }
            "source" => {
                w.at += 1;
                let at = w.at;
                source = Some(match w.next("a source IP address or none")? {
                    "none" => None,
                    s => Some(
                        s.parse::<IpAddr>()
                            .map_err(|_| err(at, format!("'{s}' is not an IP address")))?,
                    ),
                });
            }
            _ => break,
        }
    }
    let rd = need(rd, start, "rd")?;
    // The prefix travels as its octets: host bits past its length would be lost.
    let masked = |p: PrefixWord| MupPrefix {
        addr: mask(p.0, p.1),
        len: p.1,
    };
    let bad_target = |what: &str| err(start + 1, format!("'{target}' is not {what}"));
    let route = match kind {
        "mup-isd" => {
            let p: PrefixWord = target.parse().map_err(|_| bad_target("a prefix"))?;
            MupRoute::Isd {
                rd,
                prefix: masked(p),
            }
        }
        "mup-dsd" => MupRoute::Dsd {
            rd,
            address: target.parse().map_err(|_| bad_target("an IP address"))?,
        },
        "mup-t1st" => {
            let p: PrefixWord = target.parse().map_err(|_| bad_target("a prefix"))?;
            let teid = need(teid, start, "teid")?;
            MupRoute::Type1St {
                rd,
                prefix: masked(p),
                teid: teid
                    .parse()
                    .map_err(|_| err(start, format!("TEID '{teid}' is not 0..4294967295")))?,
                qfi: need(qfi, start, "qfi")?,
                endpoint: need(endpoint, start, "endpoint")?,
                source,
            }
        }
        _ => {
            let teid = need(teid, start, "teid")?;
            let (value, bits) = match teid.split_once('/') {
                Some((v, b)) => (v, b),
                None => (teid, "32"),
            };
            let bits: u8 = bits
                .parse()
                .ok()
                .filter(|b| *b <= 32)
                .ok_or_else(|| err(start, format!("TEID length in '{teid}' is not 0..32")))?;
            let value: u32 = value
                .parse()
                .map_err(|_| err(start, format!("TEID '{teid}' is not 0..4294967295")))?;
            if bits < 32 && value >> bits != 0 {
                return Err(err(start, format!("TEID {value} does not fit {bits} bits")));
            }
            MupRoute::Type2St {
                rd,
                endpoint: target.parse().map_err(|_| bad_target("an IP address"))?,
                teid_bits: bits,
                teid: if bits == 0 {
                    0
                } else {
                    value << (32 - u32::from(bits))
                },
            }
        }
    };
    let route_type = match kind {
        "mup-isd" => route_type::ISD,
        "mup-dsd" => route_type::DSD,
        "mup-t1st" => route_type::T1ST,
        _ => route_type::T2ST,
    };
    Ok(Mup {
        arch: ARCH_3GPP_5G,
        route_type,
        route,
    })
}

/// `mcast-vpn source-ad source S group G rd RD`, `mcast-vpn shared-join rp S group G rd RD
/// source-as N`, `mcast-vpn source-join source S group G rd RD source-as N` (ExaBGP's words).
fn mvpn(w: &mut Words) -> Result<Mvpn, WordError> {
    let kind_at = w.at;
    let kind = w.next("a route type (source-ad, shared-join, source-join)")?;
    let (code, source_word) = match kind {
        "source-ad" => (mvpn::route_type::SOURCE_ACTIVE_AD, "source"),
        "shared-join" => (mvpn::route_type::SHARED_TREE_JOIN, "rp"),
        "source-join" => (mvpn::route_type::SOURCE_TREE_JOIN, "source"),
        other => {
            return Err(err(
                kind_at,
                format!(
                    "unknown mcast-vpn route type '{other}', expected source-ad, shared-join or source-join"
                ),
            ));
        }
    };
    let (mut source, mut group, mut rd, mut source_as) = (None, None, None, None);
    while let Some(word) = w.peek() {
        match word {
            x if x == source_word => {
                w.at += 1;
                source = Some(w.value::<IpAddr>("an IP address")?);
            }
            "group" => {
                w.at += 1;
                group = Some(w.value::<IpAddr>("a multicast group address")?);
            }
            "rd" => {
                w.at += 1;
                rd = Some(w.value::<RouteDistinguisher>("a route distinguisher")?);
            }
            "source-as" if code != mvpn::route_type::SOURCE_ACTIVE_AD => {
                w.at += 1;
                source_as = Some(w.value::<u32>("an AS number")?);
            }
            _ => break,
        }
    }
    let source = need(source, kind_at, source_word)?;
    let group = need(group, kind_at, "group")?;
    if source.is_ipv4() != group.is_ipv4() {
        return Err(err(
            kind_at,
            "the source and the group must be of one family",
        ));
    }
    let rd = need(rd, kind_at, "rd")?;
    Ok(if code == mvpn::route_type::SOURCE_ACTIVE_AD {
        Mvpn::SourceActiveAd { rd, source, group }
    } else {
        Mvpn::CMulticast {
            route_type: code,
            rd,
            source_as: need(source_as, kind_at, "source-as")?,
            source,
            group,
        }
    })
}
