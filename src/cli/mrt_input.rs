//! MRT files (RFC 6396) for `decode --mrt FILE`: BGP4MP / BGP4MP_ET messages and state
//! changes (§4.4, §4.4.2, RFC 8050 ADD-PATH subtypes) and TABLE_DUMP_V2 peer index and RIB
//! entries (§4.3, RFC 8050). Each record is read behind its length, so a bad one is reported
//! and skipped; a file cut inside a record ends with a note.

use std::io::Read;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::wire::attribute::flag::{OPTIONAL, TRANSITIVE};
use crate::wire::attribute::{AttributeContext, PathAttribute, decode_attribute, type_code};
use crate::wire::family::{Afi, Family, FamilySet, Safi};
use crate::wire::prefix::Prefix;
use crate::wire::reader::{Reader, Truncated};

/// RFC 6396 §4 record types and subtypes.
const TABLE_DUMP_V2: u16 = 13;
const BGP4MP: u16 = 16;
const BGP4MP_ET: u16 = 17;
mod tdv2 {
    pub const PEER_INDEX_TABLE: u16 = 1;
    pub const RIB_IPV4_UNICAST: u16 = 2;
    pub const RIB_IPV4_MULTICAST: u16 = 3;
    pub const RIB_IPV6_UNICAST: u16 = 4;
    pub const RIB_IPV6_MULTICAST: u16 = 5;
    /// RFC 8050 §4.3: the same with a path identifier per entry.
    pub const RIB_IPV4_UNICAST_ADDPATH: u16 = 8;
    pub const RIB_IPV4_MULTICAST_ADDPATH: u16 = 9;
    pub const RIB_IPV6_UNICAST_ADDPATH: u16 = 10;
    pub const RIB_IPV6_MULTICAST_ADDPATH: u16 = 11;
}
mod bgp4mp {
    pub const STATE_CHANGE: u16 = 0;
    pub const MESSAGE: u16 = 1;
    pub const MESSAGE_AS4: u16 = 4;
    pub const STATE_CHANGE_AS4: u16 = 5;
    pub const MESSAGE_LOCAL: u16 = 6;
    pub const MESSAGE_AS4_LOCAL: u16 = 7;
    /// RFC 8050 §3.
    pub const MESSAGE_ADDPATH: u16 = 8;
    pub const MESSAGE_AS4_ADDPATH: u16 = 9;
    pub const MESSAGE_LOCAL_ADDPATH: u16 = 10;
    pub const MESSAGE_AS4_LOCAL_ADDPATH: u16 = 11;
}

/// RFC 4271 §8.2.2 state numbers as MRT writes them (RFC 6396 §4.4.1).
fn state_name(s: u16) -> &'static str {
    match s {
        1 => "Idle",
        2 => "Connect",
        3 => "Active",
        4 => "OpenSent",
        5 => "OpenConfirm",
        6 => "Established",
        _ => "unknown",
    }
}

/// One peer of a TABLE_DUMP_V2 peer index table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IndexedPeer {
    pub bgp_id: Ipv4Addr,
    pub address: IpAddr,
    pub asn: u32,
}

/// One RIB entry of a TABLE_DUMP_V2 record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RibEntry {
    pub peer: Option<IndexedPeer>,
    pub peer_index: u16,
    pub originated: u32,
    pub path_id: Option<u32>,
    pub attributes: Vec<PathAttribute>,
    /// RFC 6396 §4.3.4: TABLE_DUMP_V2 keeps only the next hop of MP_REACH_NLRI.
    pub mp_next_hop: Vec<IpAddr>,
    /// Attributes that did not decode, as text.
    pub problems: Vec<String>,
}

/// What one MRT record holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Record {
    /// A BGP message as it was on the wire, between `peer` and `local`.
    Message {
        time: (i64, u32),
        peer: (IpAddr, u32),
        local: (IpAddr, u32),
        four_octet_as: bool,
        add_path: bool,
        bytes: Vec<u8>,
    },
    StateChange {
        time: (i64, u32),
        peer: (IpAddr, u32),
        local: (IpAddr, u32),
        from: &'static str,
        to: &'static str,
    },
    PeerIndex {
        time: (i64, u32),
        collector: Ipv4Addr,
        view: String,
        peers: Vec<IndexedPeer>,
    },
    Rib {
        time: (i64, u32),
        family: Family,
        sequence: u32,
        prefix: Prefix,
        entries: Vec<RibEntry>,
    },
    /// A record of another type, or one that does not parse: why.
    Skipped {
        time: (i64, u32),
        kind: u16,
        subtype: u16,
        why: String,
    },
}

fn address(r: &mut Reader, afi: u16) -> Result<IpAddr, Truncated> {
    Ok(if afi == 2 {
        IpAddr::V6(Ipv6Addr::from(r.array::<16>()?))
    } else {
        IpAddr::V4(Ipv4Addr::from(r.array::<4>()?))
    })
}

/// The largest record body read (RFC 6396 lengths are 32 bits; a real record is far smaller).
const MAX_RECORD: usize = 16 << 20;

/// Reads every record of an MRT file in memory.
pub fn read(data: &[u8]) -> Vec<Record> {
    let mut out = Vec::new();
    read_each(data, |r| {
        out.push(r);
        true
    });
    out
}

/// Reads records from `input` one at a time (a file or `bzcat rib.bz2 |`), giving each to
/// `f` until it returns false.
pub fn read_each(mut input: impl Read, mut f: impl FnMut(Record) -> bool) {
    let mut peers: Vec<IndexedPeer> = Vec::new();
    loop {
        let mut header = [0u8; 12];
        match read_full(&mut input, &mut header) {
            Ok(0) => return,
            Ok(12) => {}
            _ => {
                f(Record::Skipped {
                    time: (0, 0),
                    kind: 0,
                    subtype: 0,
                    why: "file ends inside a record header (cut short)".into(),
                });
                return;
            }
        }
        let ts = u32::from_be_bytes([header[0], header[1], header[2], header[3]]);
        let kind = u16::from_be_bytes([header[4], header[5]]);
        let subtype = u16::from_be_bytes([header[6], header[7]]);
        let len = u32::from_be_bytes([header[8], header[9], header[10], header[11]]) as usize;
        let time = (ts as i64, 0);
        if len > MAX_RECORD {
            f(Record::Skipped {
                time,
                kind,
                subtype,
                why: format!("record of {len} octets, more than {MAX_RECORD}: not an MRT file?"),
            });
            return;
        }
        let mut body = vec![0u8; len];
        if read_full(&mut input, &mut body).ok() != Some(len) {
            f(Record::Skipped {
                time,
                kind,
                subtype,
                why: "file ends inside a record body (cut short)".into(),
            });
            return;
        }
        let record = match kind {
            BGP4MP | BGP4MP_ET => bgp4mp_record(kind, subtype, time, &body),
            TABLE_DUMP_V2 => tdv2_record(subtype, time, &body, &mut peers),
            _ => Err(format!("record type {kind} not decoded")),
        };
        let record = record.unwrap_or_else(|why| Record::Skipped {
            time,
            kind,
            subtype,
            why,
        });
        if !f(record) {
            return;
        }
    }
}

/// Reads until `buf` is full or the input ends; returns the octets read.
fn read_full(input: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match input.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

fn truncated(t: Truncated) -> String {
    format!(
        "record truncated at octet {}: needs {} more",
        t.offset, t.needed
    )
}

fn bgp4mp_record(
    kind: u16,
    subtype: u16,
    mut time: (i64, u32),
    body: &[u8],
) -> Result<Record, String> {
    use bgp4mp::*;
    let mut r = Reader::new(body);
    if kind == BGP4MP_ET {
        // §4.4.2: a microsecond field follows the header.
        time.1 = r.u32().map_err(truncated)?.min(999_999);
    }
    let four = matches!(
        subtype,
        MESSAGE_AS4
            | STATE_CHANGE_AS4
            | MESSAGE_AS4_LOCAL
            | MESSAGE_AS4_ADDPATH
            | MESSAGE_AS4_LOCAL_ADDPATH
    );
    let add_path = matches!(
        subtype,
        MESSAGE_ADDPATH | MESSAGE_AS4_ADDPATH | MESSAGE_LOCAL_ADDPATH | MESSAGE_AS4_LOCAL_ADDPATH
    );
    let known = matches!(
        subtype,
        STATE_CHANGE
            | MESSAGE
            | MESSAGE_AS4
            | STATE_CHANGE_AS4
            | MESSAGE_LOCAL
            | MESSAGE_AS4_LOCAL
            | MESSAGE_ADDPATH
            | MESSAGE_AS4_ADDPATH
            | MESSAGE_LOCAL_ADDPATH
            | MESSAGE_AS4_LOCAL_ADDPATH
    );
    if !known {
        return Err(format!("BGP4MP subtype {subtype} not decoded"));
    }
    let asn = |r: &mut Reader| -> Result<u32, Truncated> {
        if four {
            r.u32()
        } else {
            r.u16().map(u32::from)
        }
    };
    let head = (|| {
        let peer_as = asn(&mut r)?;
        let local_as = asn(&mut r)?;
        let _ifindex = r.u16()?;
        let afi = r.u16()?;
        let peer_ip = address(&mut r, afi)?;
        let local_ip = address(&mut r, afi)?;
        Ok::<_, Truncated>(((peer_ip, peer_as), (local_ip, local_as)))
    })();
    let (peer, local) = head.map_err(truncated)?;
    if matches!(subtype, STATE_CHANGE | STATE_CHANGE_AS4) {
        let from = r.u16().map_err(truncated)?;
        let to = r.u16().map_err(truncated)?;
        return Ok(Record::StateChange {
            time,
            peer,
            local,
            from: state_name(from),
            to: state_name(to),
        });
    }
    Ok(Record::Message {
        time,
        peer,
        local,
        // RFC 6396 §4.4.3: the AS4 subtypes carry messages of a 4-octet AS session.
        four_octet_as: four,
        add_path,
        bytes: r.rest().to_vec(),
    })
}

fn tdv2_record(
    subtype: u16,
    time: (i64, u32),
    body: &[u8],
    peers: &mut Vec<IndexedPeer>,
) -> Result<Record, String> {
    use tdv2::*;
    let mut r = Reader::new(body);
    if subtype == PEER_INDEX_TABLE {
        let collector = Ipv4Addr::from(r.array::<4>().map_err(truncated)?);
        let view_len = r.u16().map_err(truncated)? as usize;
        let view = String::from_utf8_lossy(r.bytes(view_len).map_err(truncated)?).into_owned();
        let count = r.u16().map_err(truncated)?;
        let mut list = Vec::new();
        for _ in 0..count {
            let peer = (|| {
                let t = r.u8()?;
                let bgp_id = Ipv4Addr::from(r.array::<4>()?);
                let address = address(&mut r, if t & 1 != 0 { 2 } else { 1 })?;
                let asn = if t & 2 != 0 {
                    r.u32()?
                } else {
                    r.u16()? as u32
                };
                Ok::<_, Truncated>(IndexedPeer {
                    bgp_id,
                    address,
                    asn,
                })
            })()
            .map_err(truncated)?;
            list.push(peer);
        }
        peers.clone_from(&list);
        return Ok(Record::PeerIndex {
            time,
            collector,
            view,
            peers: list,
        });
    }
    let (afi, safi, add_path) = match subtype {
        RIB_IPV4_UNICAST => (Afi::Ipv4, Safi::Unicast, false),
        RIB_IPV4_MULTICAST => (Afi::Ipv4, Safi::Multicast, false),
        RIB_IPV6_UNICAST => (Afi::Ipv6, Safi::Unicast, false),
        RIB_IPV6_MULTICAST => (Afi::Ipv6, Safi::Multicast, false),
        RIB_IPV4_UNICAST_ADDPATH => (Afi::Ipv4, Safi::Unicast, true),
        RIB_IPV4_MULTICAST_ADDPATH => (Afi::Ipv4, Safi::Multicast, true),
        RIB_IPV6_UNICAST_ADDPATH => (Afi::Ipv6, Safi::Unicast, true),
        RIB_IPV6_MULTICAST_ADDPATH => (Afi::Ipv6, Safi::Multicast, true),
        other => return Err(format!("TABLE_DUMP_V2 subtype {other} not decoded")),
    };
    let sequence = r.u32().map_err(truncated)?;
    let at = r.offset();
    let prefix = r
        .u8()
        .ok()
        .and_then(|len| Prefix::read_bits(&mut r, afi, len))
        .ok_or_else(|| format!("bad prefix at octet {at}"))?;
    let count = r.u16().map_err(truncated)?;
    let mut entries = Vec::new();
    for _ in 0..count {
        let head = (|| {
            let index = r.u16()?;
            let originated = r.u32()?;
            let path_id = if add_path { Some(r.u32()?) } else { None };
            let len = r.u16()? as usize;
            Ok::<_, Truncated>((index, originated, path_id, r.bytes(len)?))
        })();
        let (index, originated, path_id, attrs) = head.map_err(truncated)?;
        let mut entry = rib_attributes(attrs);
        entry.peer = peers.get(index as usize).cloned();
        entry.peer_index = index;
        entry.originated = originated;
        entry.path_id = path_id;
        entries.push(entry);
    }
    Ok(Record::Rib {
        time,
        family: Family::new(afi, safi),
        sequence,
        prefix,
        entries,
    })
}

/// The attributes of a RIB entry: 4-octet AS numbers (RFC 6396 §4.3.4), MP_REACH_NLRI
/// reduced to its next hop.
fn rib_attributes(bytes: &[u8]) -> RibEntry {
    let mut entry = RibEntry {
        peer: None,
        peer_index: 0,
        originated: 0,
        path_id: None,
        attributes: Vec::new(),
        mp_next_hop: Vec::new(),
        problems: Vec::new(),
    };
    let ctx = AttributeContext {
        four_octet_as: true,
    };
    let mut r = Reader::new(bytes);
    while !r.is_empty() {
        let at = r.offset();
        let header = (|| {
            let flags = r.u8()?;
            let code = r.u8()?;
            let len = if flags & 0x10 != 0 {
                r.u16()? as usize
            } else {
                r.u8()? as usize
            };
            Ok::<_, Truncated>((flags, code, r.bytes(len)?))
        })();
        let Ok((flags, code, value)) = header else {
            entry
                .problems
                .push(format!("attribute at octet {at} overruns the entry"));
            break;
        };
        if code == type_code::MP_REACH_NLRI {
            let mut v = Reader::new(value);
            let nh = v
                .u8()
                .ok()
                .and_then(|l| v.bytes(l as usize).ok())
                .unwrap_or_default();
            entry.mp_next_hop = match nh.len() {
                4 => <[u8; 4]>::try_from(nh).map(|a| vec![IpAddr::from(a)]),
                16 | 32 => Ok(nh
                    .chunks_exact(16)
                    .filter_map(|c| <[u8; 16]>::try_from(c).ok())
                    .map(IpAddr::from)
                    .collect()),
                _ => Ok(Vec::new()),
            }
            .unwrap_or_default();
            continue;
        }
        // A dump is not a session: the optional/transitive bits are not checked (BIRD 2.0
        // writes NEXT_HOP and LOCAL_PREF with flags 0 in TABLE_DUMP_V2), the table's are used.
        let flags = match crate::wire::attribute::info(code) {
            Some(row) => (flags & !(OPTIONAL | TRANSITIVE)) | row.flags,
            None => flags,
        };
        match decode_attribute(flags, code, value, at, ctx, FamilySet::default()) {
            Ok(a) => entry.attributes.push(a),
            Err(e) => entry.problems.push(format!("{} ({})", e.kind, e.action)),
        }
    }
    entry
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(kind: u16, subtype: u16, body: &[u8]) -> Vec<u8> {
        let mut v = 1_700_000_000u32.to_be_bytes().to_vec();
        v.extend_from_slice(&kind.to_be_bytes());
        v.extend_from_slice(&subtype.to_be_bytes());
        v.extend_from_slice(&(body.len() as u32).to_be_bytes());
        v.extend_from_slice(body);
        v
    }

    #[test]
    fn table_dump_v2_peer_index_and_rib_entry() {
        // Peer index: collector 192.0.2.254, view "", one IPv4 AS4 peer 192.0.2.1 AS65001.
        let mut pit = vec![192, 0, 2, 254, 0, 0, 0, 1, 2, 192, 0, 2, 1, 192, 0, 2, 1];
        pit.extend_from_slice(&65001u32.to_be_bytes());
        // RIB 198.51.100.0/24, one entry: ORIGIN igp, AS_PATH 65001, NEXT_HOP 192.0.2.1.
        let attrs = [
            0x40, 1, 1, 0, 0x40, 2, 6, 2, 1, 0, 0, 0xfd, 0xe9, 0x40, 3, 4, 192, 0, 2, 1,
        ];
        let mut rib = vec![0, 0, 0, 7, 24, 198, 51, 100, 0, 1, 0, 0, 0, 0, 0, 1];
        rib.extend_from_slice(&(attrs.len() as u16).to_be_bytes());
        rib.extend_from_slice(&attrs);
        let mut file = record(TABLE_DUMP_V2, 1, &pit);
        file.extend(record(TABLE_DUMP_V2, 2, &rib));
        let records = read(&file);
        assert_eq!(records.len(), 2, "{records:?}");
        let Record::Rib {
            prefix, entries, ..
        } = &records[1]
        else {
            panic!("{records:?}");
        };
        assert_eq!(prefix.to_string(), "198.51.100.0/24");
        assert_eq!(entries[0].peer.as_ref().map(|p| p.asn), Some(65001));
        assert_eq!(entries[0].attributes.len(), 3);
        // Every cut of the file reads without a panic.
        for n in 0..file.len() {
            let _ = read(&file[..n]);
        }
    }
}
