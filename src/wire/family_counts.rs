//! What a batch of encoded UPDATEs holds per family: messages, routes announced and routes
//! withdrawn (the metrics' `FamilySent`). The packer counts these as it writes
//! (`rib::packer::Packed::families`); [`count`] reads them back from the bytes, framing each
//! message and reading only the NLRI length octets, as an independent check of the packer's
//! figures (its unit test, `tests/family_counts.rs` against the decoder, the reload bench).

use super::attribute::{flag, type_code};
use super::family::{Afi, Family, Safi};
use super::reader::{Reader, Truncated};

/// RFC 4271 §4.1: marker, length, type.
const HEADER_LEN: usize = 19;
/// RFC 4271 §4.1: the UPDATE message type.
const UPDATE: u8 = 2;

/// The counts of one family.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FamilySent {
    pub updates: u64,
    pub announced: u64,
    pub withdrawn: u64,
}

/// The counts per family of `bytes` (whole BGP messages, as queued for a peer). `add_path`:
/// the families whose NLRI carry a path identifier on this session (RFC 7911). Messages that
/// are not UPDATEs are skipped; a malformed one ends the count (it cannot happen with our
/// packer's output, and a count must never panic).
pub fn count(bytes: &[u8], add_path: &[Family]) -> Vec<(Family, FamilySent)> {
    let mut out: Vec<(Family, FamilySent)> = Vec::new();
    let mut rest = bytes;
    while rest.len() >= HEADER_LEN {
        let len = usize::from(u16::from_be_bytes([rest[16], rest[17]]));
        let kind = rest[18];
        let Some(message) = rest.get(HEADER_LEN..len) else {
            break;
        };
        rest = &rest[len..];
        if kind != UPDATE {
            continue;
        }
        if count_update(message, add_path, &mut out).is_err() {
            break;
        }
    }
    out
}

fn entry(out: &mut Vec<(Family, FamilySent)>, family: Family) -> &mut FamilySent {
    let i = match out.iter().position(|(f, _)| *f == family) {
        Some(i) => i,
        None => {
            out.push((family, FamilySent::default()));
            out.len() - 1
        }
    };
    &mut out[i].1
}

fn count_update(
    body: &[u8],
    add_path: &[Family],
    out: &mut Vec<(Family, FamilySent)>,
) -> Result<(), Truncated> {
    let ipv4 = Family::new(Afi::Ipv4, Safi::Unicast);
    let mut r = Reader::new(body);
    let withdrawn_len = usize::from(r.u16()?);
    let withdrawn = nlri_count(r.bytes(withdrawn_len)?, ipv4, add_path)?;
    let attributes_len = usize::from(r.u16()?);
    let mut attributes = r.sub(attributes_len)?;
    let announced = nlri_count(r.rest(), ipv4, add_path)?;
    // The message's family: its MP_REACH's, else its MP_UNREACH's, else IPv4 unicast.
    let mut family = None;
    let mut mp_announced = (ipv4, 0);
    let mut mp_withdrawn = (ipv4, 0);
    while !attributes.is_empty() {
        let flags = attributes.u8()?;
        let code = attributes.u8()?;
        let len = if flags & flag::EXTENDED_LENGTH != 0 {
            usize::from(attributes.u16()?)
        } else {
            usize::from(attributes.u8()?)
        };
        let mut value = attributes.sub(len)?;
        match code {
            type_code::MP_REACH_NLRI => {
                let f = Family::new(Afi::from_u16(value.u16()?), Safi::from_u8(value.u8()?));
                let next_hop_len = usize::from(value.u8()?);
                value.bytes(next_hop_len)?;
                value.u8()?; // RFC 4760 §3: reserved
                mp_announced = (f, nlri_count(value.rest(), f, add_path)?);
                family = Some(f);
            }
            type_code::MP_UNREACH_NLRI => {
                let f = Family::new(Afi::from_u16(value.u16()?), Safi::from_u8(value.u8()?));
                mp_withdrawn = (f, nlri_count(value.rest(), f, add_path)?);
                family.get_or_insert(f);
            }
            _ => {}
        }
    }
    entry(out, family.unwrap_or(ipv4)).updates += 1;
    for (f, announced, withdrawn) in [
        (ipv4, announced, withdrawn),
        (mp_announced.0, mp_announced.1, 0),
        (mp_withdrawn.0, 0, mp_withdrawn.1),
    ] {
        if announced + withdrawn > 0 {
            let e = entry(out, f);
            e.announced += announced;
            e.withdrawn += withdrawn;
        }
    }
    Ok(())
}

/// The number of NLRI in `bytes` of `family`, each skipped by its length rule: a length in
/// bits and its octets for prefixes (RFC 4271 §4.3; labeled and VPN prefixes count their
/// label and RD in that length, as do RTC, RFC 4684, and SR Policy, RFC 9830); a one- or
/// two-octet length for FlowSpec (RFC 8955 §4.1); type and length for EVPN (RFC 7432 §7),
/// MCAST-VPN (RFC 6514 §4),
/// MUP (draft-mpmz-bess-mup-safi) and BGP-LS (RFC 9552 §5.2); a two-octet length for VPLS
/// (RFC 4761 §3.2.2). A path identifier first where ADD-PATH is on (RFC 7911). Unknown
/// families are not counted (0).
fn nlri_count(bytes: &[u8], family: Family, add_path: &[Family]) -> Result<u64, Truncated> {
    let path_id = add_path.contains(&family);
    let mut r = Reader::new(bytes);
    let mut n = 0;
    while !r.is_empty() {
        if path_id {
            r.u32()?;
        }
        let len = match family.safi {
            Safi::Unicast
            | Safi::Multicast
            | Safi::MplsLabel
            | Safi::MplsVpn
            | Safi::Rtc
            | Safi::SrPolicy => usize::from(r.u8()?).div_ceil(8),
            Safi::FlowSpec | Safi::FlowSpecVpn => {
                let first = r.u8()?;
                // RFC 8955 §4.1: 0xfnnn is a 12-bit length.
                if first >= 0xf0 {
                    (usize::from(first & 0x0f) << 8) | usize::from(r.u8()?)
                } else {
                    usize::from(first)
                }
            }
            Safi::Evpn | Safi::Mvpn => {
                r.u8()?; // route type
                usize::from(r.u8()?)
            }
            Safi::Mup => {
                r.u8()?; // architecture type
                r.u16()?; // route type
                usize::from(r.u8()?)
            }
            Safi::BgpLs | Safi::BgpLsVpn => {
                r.u16()?; // NLRI type
                usize::from(r.u16()?)
            }
            Safi::Vpls => usize::from(r.u16()?),
            Safi::Unknown(_) => return Ok(0),
        };
        r.bytes(len)?;
        n += 1;
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(kind: u8, body: &[u8]) -> Vec<u8> {
        let mut m = vec![0xff; 16];
        m.extend_from_slice(&((HEADER_LEN + body.len()) as u16).to_be_bytes());
        m.push(kind);
        m.extend_from_slice(body);
        m
    }

    fn update(withdrawn: &[u8], attributes: &[u8], nlri: &[u8]) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(&(withdrawn.len() as u16).to_be_bytes());
        b.extend_from_slice(withdrawn);
        b.extend_from_slice(&(attributes.len() as u16).to_be_bytes());
        b.extend_from_slice(attributes);
        b.extend_from_slice(nlri);
        message(UPDATE, &b)
    }

    const V4: Family = Family {
        afi: Afi::Ipv4,
        safi: Safi::Unicast,
    };
    const V6: Family = Family {
        afi: Afi::Ipv6,
        safi: Safi::Unicast,
    };
    const FLOW4: Family = Family {
        afi: Afi::Ipv4,
        safi: Safi::FlowSpec,
    };

    #[test]
    fn unicast_mp_and_flowspec_updates_are_counted_per_family() {
        // ORIGIN IGP; two IPv4 prefixes (10.0.0.0/8, 192.0.2.0/24); one withdrawn (10.1/16).
        let origin = [0x40, 1, 1, 0];
        let mut bytes = update(&[16, 10, 1], &origin, &[8, 10, 24, 192, 0, 2]);
        // MP_REACH IPv6 with a 16-octet next hop and 2001:db8::/32, extended length.
        let mut reach = vec![0x90, 14, 0, 0, 0, 2, 1, 16];
        reach.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb8]);
        reach.extend_from_slice(&[0; 12]);
        reach.extend_from_slice(&[0, 32, 0x20, 0x01, 0x0d, 0xb8]);
        let len = (reach.len() - 4) as u16;
        reach[2..4].copy_from_slice(&len.to_be_bytes());
        bytes.extend(update(&[], &reach, &[]));
        // MP_UNREACH IPv4 FlowSpec: two rules, one with a two-octet length of 2.
        let unreach = [0x80, 15, 11, 0, 1, 133, 3, 1, 24, 10, 0xf0, 2, 3, 0x81];
        bytes.extend(update(&[], &unreach, &[]));
        // A KEEPALIVE between them is not an UPDATE.
        bytes.extend(message(4, &[]));
        let counts = count(&bytes, &[]);
        assert_eq!(
            counts,
            vec![
                (
                    V4,
                    FamilySent {
                        updates: 1,
                        announced: 2,
                        withdrawn: 1
                    }
                ),
                (
                    V6,
                    FamilySent {
                        updates: 1,
                        announced: 1,
                        withdrawn: 0
                    }
                ),
                (
                    FLOW4,
                    FamilySent {
                        updates: 1,
                        announced: 0,
                        withdrawn: 2
                    }
                ),
            ]
        );
    }

    #[test]
    fn evpn_vpls_bgp_ls_and_mup_nlri_are_counted_by_their_own_lengths() {
        let l2 = |safi| Family {
            afi: Afi::L2VPN,
            safi,
        };
        // EVPN: type 3, length 2; type 1, length 0.
        assert_eq!(nlri_count(&[3, 2, 9, 9, 1, 0], l2(Safi::Evpn), &[]), Ok(2));
        // VPLS: a two-octet length of 3.
        assert_eq!(nlri_count(&[0, 3, 1, 2, 3], l2(Safi::Vpls), &[]), Ok(1));
        let ls = Family {
            afi: Afi::BGP_LS,
            safi: Safi::BgpLs,
        };
        assert_eq!(nlri_count(&[0, 1, 0, 2, 7, 7], ls, &[]), Ok(1));
        let mup = Family {
            afi: Afi::Ipv4,
            safi: Safi::Mup,
        };
        assert_eq!(nlri_count(&[1, 0, 1, 1, 5], mup, &[]), Ok(1));
        assert!(nlri_count(&[1, 0, 1, 2, 5], mup, &[]).is_err());
    }

    #[test]
    fn add_path_identifiers_are_skipped_and_garbage_ends_the_count_without_panic() {
        let nlri = [0, 0, 0, 7, 8, 10, 0, 0, 0, 8, 8, 10];
        let counts = count(&update(&[], &[], &nlri), &[V4]);
        assert_eq!(counts[0].1.announced, 2);
        for cut in 0..40 {
            let bytes = update(&[16, 10, 1], &[0x40, 1, 1, 0], &[8, 10]);
            let _ = count(&bytes[..cut.min(bytes.len())], &[]);
            let mut broken = bytes.clone();
            if let Some(b) = broken.get_mut(cut) {
                *b = 0xff;
            }
            let _ = count(&broken, &[V4]);
        }
    }
}
