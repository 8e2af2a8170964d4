//! NLRI of the families beyond IP prefixes and FlowSpec: route target constraint (RFC 4684),
//! FlowSpec VPN (RFC 8955 §8), EVPN (RFC 7432, RFC 9136), VPLS (RFC 4761), MUP
//! (draft-mpmz-bess-mup-safi), SR Policy (RFC 9830), BGP-LS (RFC 9552) and MCAST-VPN
//! (RFC 6514, the route types ExaBGP announces).
//!
//! Each family is a typed value with `read` (every length checked against what the
//! encoding allows, a typed [`NlriError`] otherwise, never a panic), `emit` (byte for byte
//! what was read), `Display` in the words of the configuration and `json` with the field
//! names of ExaBGP's JSON (GoBGP's for MUP, which ExaBGP 4 does not decode). The MP
//! attributes keep these NLRI as raw bytes; [`decode`] names them for `decode`, test-vector
//! facts and helper events.

pub mod bgp_ls;
mod error;
pub mod evpn;
pub mod flow_vpn;
pub mod mup;
pub mod mvpn;
pub mod rtc;
pub mod sr_policy;
pub mod vpls;
pub mod words;

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use serde_json::Value;

pub use error::{NlriError, NlriErrorKind};

use super::family::{Afi, Family, Safi};
use super::labeled::{RD_LEN, RouteDistinguisher};
use super::reader::Reader;

/// One NLRI of a family decoded here.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FamilyNlri {
    Rtc(rtc::Rtc),
    FlowVpn(flow_vpn::FlowVpn),
    Evpn(evpn::Evpn),
    Vpls(vpls::Vpls),
    Mup(mup::Mup),
    SrPolicy(sr_policy::SrPolicy),
    BgpLs(bgp_ls::BgpLs),
    Mvpn(mvpn::Mvpn),
}

/// The decoder of a family, if it is one of this module's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Rtc,
    FlowVpn(Afi),
    Evpn,
    Vpls,
    Mup(Afi),
    SrPolicy(Afi),
    BgpLs { vpn: bool },
    Mvpn(Afi),
}

fn kind(family: Family) -> Option<Kind> {
    let ip = matches!(family.afi, Afi::Ipv4 | Afi::Ipv6);
    Some(match family.safi {
        Safi::Rtc if family.afi == Afi::Ipv4 => Kind::Rtc,
        Safi::FlowSpecVpn if ip => Kind::FlowVpn(family.afi),
        Safi::Evpn if family.afi == Afi::L2VPN => Kind::Evpn,
        Safi::Vpls if family.afi == Afi::L2VPN => Kind::Vpls,
        Safi::Mup if ip => Kind::Mup(family.afi),
        Safi::SrPolicy if ip => Kind::SrPolicy(family.afi),
        Safi::BgpLs if family.afi == Afi::BGP_LS => Kind::BgpLs { vpn: false },
        Safi::BgpLsVpn if family.afi == Afi::BGP_LS => Kind::BgpLs { vpn: true },
        Safi::Mvpn if ip => Kind::Mvpn(family.afi),
        _ => return None,
    })
}

/// Whether [`decode`] knows `family`.
pub fn is_decoded(family: Family) -> bool {
    kind(family).is_some()
}

/// Decodes the NLRI field of an MP_REACH_NLRI or MP_UNREACH_NLRI of `family`: `None` when
/// the family is not one of this module's.
pub fn decode(family: Family, bytes: &[u8]) -> Option<Result<Vec<FamilyNlri>, NlriError>> {
    let kind = kind(family)?;
    let mut r = Reader::new(bytes);
    let mut out = Vec::new();
    while !r.is_empty() {
        let one = match kind {
            Kind::Rtc => rtc::Rtc::read(&mut r).map(FamilyNlri::Rtc),
            Kind::FlowVpn(afi) => flow_vpn::FlowVpn::read(&mut r, afi).map(FamilyNlri::FlowVpn),
            Kind::Evpn => evpn::Evpn::read(&mut r).map(FamilyNlri::Evpn),
            Kind::Vpls => vpls::Vpls::read(&mut r).map(FamilyNlri::Vpls),
            Kind::Mup(afi) => mup::Mup::read(&mut r, afi).map(FamilyNlri::Mup),
            Kind::SrPolicy(afi) => sr_policy::SrPolicy::read(&mut r, afi).map(FamilyNlri::SrPolicy),
            Kind::BgpLs { vpn } => bgp_ls::BgpLs::read(&mut r, vpn).map(FamilyNlri::BgpLs),
            Kind::Mvpn(afi) => mvpn::Mvpn::read(&mut r, afi).map(FamilyNlri::Mvpn),
        };
        match one {
            Ok(n) => out.push(n),
            Err(e) => return Some(Err(e)),
        }
    }
    Some(Ok(out))
}

impl FamilyNlri {
    /// Appends the NLRI as it is on the wire.
    pub fn emit(&self, out: &mut Vec<u8>) {
        match self {
            FamilyNlri::Rtc(n) => n.emit(out),
            FamilyNlri::FlowVpn(n) => n.emit(out),
            FamilyNlri::Evpn(n) => n.emit(out),
            FamilyNlri::Vpls(n) => n.emit(out),
            FamilyNlri::Mup(n) => n.emit(out),
            FamilyNlri::SrPolicy(n) => n.emit(out),
            FamilyNlri::BgpLs(n) => n.emit(out),
            FamilyNlri::Mvpn(n) => n.emit(out),
        }
    }

    /// The NLRI as a JSON object (see each family's module for its fields); every object
    /// also has `"text"`, the configuration words.
    pub fn json(&self) -> Value {
        let mut v = match self {
            FamilyNlri::Rtc(n) => n.json(),
            FamilyNlri::FlowVpn(n) => n.json(),
            FamilyNlri::Evpn(n) => n.json(),
            FamilyNlri::Vpls(n) => n.json(),
            FamilyNlri::Mup(n) => n.json(),
            FamilyNlri::SrPolicy(n) => n.json(),
            FamilyNlri::BgpLs(n) => n.json(),
            FamilyNlri::Mvpn(n) => n.json(),
        };
        v["text"] = Value::String(self.to_string());
        v
    }
}

impl fmt::Display for FamilyNlri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FamilyNlri::Rtc(n) => n.fmt(f),
            FamilyNlri::FlowVpn(n) => n.fmt(f),
            FamilyNlri::Evpn(n) => n.fmt(f),
            FamilyNlri::Vpls(n) => n.fmt(f),
            FamilyNlri::Mup(n) => n.fmt(f),
            FamilyNlri::SrPolicy(n) => n.fmt(f),
            FamilyNlri::BgpLs(n) => n.fmt(f),
            FamilyNlri::Mvpn(n) => n.fmt(f),
        }
    }
}

/// Appends every NLRI of `list`.
pub fn emit_all(list: &[FamilyNlri], out: &mut Vec<u8>) {
    list.iter().for_each(|n| n.emit(out));
}

/// The NLRI of `family` as text for `decode` and test-vector facts: each NLRI's
/// configuration words, `; ` between them. `None` when the family is not decoded here or
/// the bytes do not decode.
pub fn family_text(family: Family, bytes: &[u8]) -> Option<String> {
    let list = decode(family, bytes)?.ok()?;
    Some(
        list.iter()
            .map(FamilyNlri::to_string)
            .collect::<Vec<_>>()
            .join("; "),
    )
}

/// The addresses of a next hop that MP_REACH_NLRI keeps raw (the families of this module,
/// FlowSpec): one IPv4 (4 octets) or IPv6 (16) address, global and link-local IPv6 (32), or
/// a route distinguisher before an IPv4 (12, as FlowSpec VPN may send) or IPv6 address (24),
/// and before global and link-local IPv6 addresses (40, as ExaBGP sends; 48, an RD before
/// each, RFC 4659 §3.2.1.1). The route distinguisher is left out, as ExaBGP shows these
/// next hops. `None` for any other length.
pub fn raw_next_hop(r: &[u8]) -> Option<Vec<IpAddr>> {
    let v4 = |b: &[u8]| <[u8; 4]>::try_from(b).ok().map(IpAddr::from);
    let v6 = |b: &[u8]| <[u8; 16]>::try_from(b).ok().map(IpAddr::from);
    let two = |a: &[u8], b: &[u8]| v6(a).zip(v6(b)).map(|(a, b)| vec![a, b]);
    match r.len() {
        4 => v4(r).map(|a| vec![a]),
        12 => v4(r.get(8..)?).map(|a| vec![a]),
        16 => v6(r).map(|a| vec![a]),
        24 => v6(r.get(8..)?).map(|a| vec![a]),
        32 => two(r.get(..16)?, r.get(16..)?),
        40 => two(r.get(8..24)?, r.get(24..)?),
        48 => two(r.get(8..24)?, r.get(32..)?),
        _ => None,
    }
}

// Readers that say what they were reading when the bytes run out.

pub(crate) fn read_u8(r: &mut Reader, what: &'static str) -> Result<u8, NlriError> {
    r.u8().map_err(|t| NlriError::truncated(what, t))
}

pub(crate) fn read_u16(r: &mut Reader, what: &'static str) -> Result<u16, NlriError> {
    r.u16().map_err(|t| NlriError::truncated(what, t))
}

pub(crate) fn read_u32(r: &mut Reader, what: &'static str) -> Result<u32, NlriError> {
    r.u32().map_err(|t| NlriError::truncated(what, t))
}

pub(crate) fn read_bytes<'a>(
    r: &mut Reader<'a>,
    n: usize,
    what: &'static str,
) -> Result<&'a [u8], NlriError> {
    r.bytes(n).map_err(|t| NlriError::truncated(what, t))
}

pub(crate) fn read_array<const N: usize>(
    r: &mut Reader,
    what: &'static str,
) -> Result<[u8; N], NlriError> {
    r.array::<N>().map_err(|t| NlriError::truncated(what, t))
}

/// A reader over the next `n` octets (an NLRI's value, delimited by its length).
pub(crate) fn read_sub<'a>(
    r: &mut Reader<'a>,
    n: usize,
    what: &'static str,
) -> Result<Reader<'a>, NlriError> {
    r.sub(n).map_err(|t| NlriError::truncated(what, t))
}

pub(crate) fn read_rd(r: &mut Reader) -> Result<RouteDistinguisher, NlriError> {
    read_array::<RD_LEN>(r, "route distinguisher").map(RouteDistinguisher)
}

/// 24-bit value (a label field).
pub(crate) fn read_u24(r: &mut Reader, what: &'static str) -> Result<u32, NlriError> {
    let b = read_array::<3>(r, what)?;
    Ok(u32::from_be_bytes([0, b[0], b[1], b[2]]))
}

pub(crate) fn emit_u24(v: u32, out: &mut Vec<u8>) {
    out.extend_from_slice(&v.to_be_bytes()[1..]);
}

/// An address whose length in bits came before it: 32 (IPv4) or 128 (IPv6).
pub(crate) fn read_ip_bits(
    r: &mut Reader,
    bits: u8,
    what: &'static str,
    at: usize,
) -> Result<IpAddr, NlriError> {
    match bits {
        32 => Ok(IpAddr::V4(Ipv4Addr::from(read_array::<4>(r, what)?))),
        128 => Ok(IpAddr::V6(Ipv6Addr::from(read_array::<16>(r, what)?))),
        other => Err(NlriError::value(
            at,
            what,
            other.into(),
            "an address length of 32 or 128 bits",
        )),
    }
}

/// An address of `afi`.
pub(crate) fn read_ip_of(
    r: &mut Reader,
    afi: Afi,
    what: &'static str,
) -> Result<IpAddr, NlriError> {
    let at = r.offset();
    read_ip_bits(r, if afi == Afi::Ipv6 { 128 } else { 32 }, what, at)
}

pub(crate) fn ip_bits(ip: &IpAddr) -> u8 {
    match ip {
        IpAddr::V4(_) => 32,
        IpAddr::V6(_) => 128,
    }
}

pub(crate) fn emit_ip(ip: &IpAddr, out: &mut Vec<u8>) {
    match ip {
        IpAddr::V4(a) => out.extend_from_slice(&a.octets()),
        IpAddr::V6(a) => out.extend_from_slice(&a.octets()),
    }
}

/// `00:11:22:aa:bb:cc`.
pub fn mac_text(m: &[u8; 6]) -> String {
    m.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// Hex digits, for values shown raw.
pub(crate) fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[cfg(test)]
mod tests;

/// The property the fuzz targets check (public for them): decoding `bytes` as `family`
/// never panics, an NLRI list that decodes re-encodes to the same bytes, except that a
/// FlowSpec VPN rule may come back with its shorter length form, and what the text and JSON
/// formatters make of it does not panic either. Panics when the property fails.
pub fn check_round_trip(family: Family, bytes: &[u8]) {
    let Some(Ok(list)) = decode(family, bytes) else {
        return;
    };
    let mut again = Vec::new();
    emit_all(&list, &mut again);
    let flow = family.safi == Safi::FlowSpecVpn;
    if !flow {
        assert_eq!(again, bytes, "{family}: re-encoding differs");
    }
    match decode(family, &again) {
        Some(Ok(second)) => assert_eq!(second, list, "{family}: decode(encode(x)) differs"),
        other => panic!("{family}: re-encoding does not decode: {other:?}"),
    }
    for n in &list {
        let _ = n.to_string();
        let _ = n.json();
    }
}

#[cfg(test)]
mod next_hop_tests {
    use super::raw_next_hop;

    /// RFC 4659 §3.2.1.1 and ExaBGP's forms: the route distinguisher (zero) is left out.
    #[test]
    fn raw_next_hops_with_route_distinguishers() {
        let v6 = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
        let ll = [0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
        let rd = [0u8; 8];
        let show = |b: Vec<u8>| -> Vec<String> {
            raw_next_hop(&b)
                .unwrap_or_default()
                .iter()
                .map(|a| a.to_string())
                .collect()
        };
        assert_eq!(show([&rd[..], &v6].concat()), ["2001:db8::1"]);
        assert_eq!(
            show([&rd[..], &v6, &ll].concat()),
            ["2001:db8::1", "fe80::1"]
        );
        assert_eq!(
            show([&rd[..], &v6, &rd, &ll].concat()),
            ["2001:db8::1", "fe80::1"]
        );
        assert_eq!(show([&rd[..], &[192, 0, 2, 1]].concat()), ["192.0.2.1"]);
        for len in [0, 1, 5, 13, 23, 25, 33, 47, 49, 255] {
            assert_eq!(raw_next_hop(&vec![7; len]), None, "{len}");
        }
    }
}
