//! BGP messages out of a packet capture (`decode --pcap FILE`): pcap or pcapng (read by the
//! `pcap-parser` crate), Ethernet, Linux cooked, loopback or raw IP frames (sliced by
//! `etherparse`), TCP segments to or from port 179 reassembled per direction of each
//! connection, then cut into messages by the codec's framing.
//!
//! Reassembly follows sequence numbers: retransmitted bytes are dropped, segments that
//! arrive early wait (at most [`MAX_PENDING`] octets per direction), a gap that never fills
//! is skipped with a note. A stream that loses message framing (a bad marker) is searched for
//! the next marker.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::io::Read;
use std::net::{IpAddr, SocketAddr};

use etherparse::{NetSlice, SlicedPacket, TransportSlice};
use pcap_parser::pcapng::Block;
use pcap_parser::{PcapBlockOwned, PcapError};

use crate::wire::message::{MARKER, frame};

/// The BGP port (RFC 4271 §8.2.1), the default of `decode --port`.
pub const BGP_PORT: u16 = 179;
/// Early segments kept per direction before the gap is given up on.
const MAX_PENDING: usize = 1 << 20;
/// Large enough for any frame a capture holds (snap lengths up to 256 KiB).
const READ_BUFFER: usize = 1 << 18;

/// Link types (tcpdump.org "LINKTYPE_" values).
const LINKTYPE_NULL: i32 = 0;
const LINKTYPE_ETHERNET: i32 = 1;
const LINKTYPE_RAW: i32 = 101;
const LINKTYPE_LOOP: i32 = 108;
const LINKTYPE_LINUX_SLL: i32 = 113;
const LINKTYPE_IPV4: i32 = 228;
const LINKTYPE_IPV6: i32 = 229;

/// When and between whom a message travelled.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin {
    /// Seconds and microseconds since the Unix epoch.
    pub time: (i64, u32),
    pub source: SocketAddr,
    pub destination: SocketAddr,
}

/// One item of a capture: a complete BGP message, or a note about the stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Item {
    Message(Origin, Vec<u8>),
    Note(Origin, String),
}

/// Why the capture could not be read at all.
#[derive(Debug)]
pub struct CaptureError(pub String);

impl fmt::Display for CaptureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One direction of one TCP connection.
#[derive(Default)]
struct Stream {
    next_seq: Option<u32>,
    buffer: Vec<u8>,
    pending: BTreeMap<u32, Vec<u8>>,
    pending_bytes: usize,
}

/// `a - b` in sequence space (RFC 9293 §3.4: modulo 2^32).
fn seq_diff(a: u32, b: u32) -> i64 {
    a.wrapping_sub(b) as i32 as i64
}

impl Stream {
    /// Adds a segment; returns a note when a gap had to be skipped.
    fn push(&mut self, seq: u32, syn: bool, payload: &[u8]) -> Option<String> {
        let seq = if syn { seq.wrapping_add(1) } else { seq };
        let next = *self.next_seq.get_or_insert(seq);
        if payload.is_empty() {
            return None;
        }
        let d = seq_diff(seq, next);
        if d > 0 {
            if self.pending_bytes + payload.len() > MAX_PENDING {
                // The gap never filled: continue from the earliest segment we have.
                let skipped = self.pending.keys().next().map(|&s| seq_diff(s, next));
                self.next_seq = self.pending.keys().next().copied().or(Some(seq));
                self.drain();
                return Some(format!(
                    "{} octets missing from the capture, stream resumed",
                    skipped.unwrap_or(d)
                ));
            }
            self.pending_bytes += payload.len();
            self.pending.insert(seq, payload.to_vec());
            return None;
        }
        let skip = (-d) as usize;
        if let Some(new) = payload.get(skip..) {
            self.buffer.extend_from_slice(new);
            self.next_seq = Some(next.wrapping_add(new.len() as u32));
        }
        self.drain();
        None
    }

    fn drain(&mut self) {
        while let Some(next) = self.next_seq {
            let Some((&seq, _)) = self.pending.iter().find(|(s, _)| seq_diff(**s, next) <= 0)
            else {
                return;
            };
            let Some(data) = self.pending.remove(&seq) else {
                return;
            };
            self.pending_bytes = self.pending_bytes.saturating_sub(data.len());
            let skip = seq_diff(next, seq) as usize;
            if let Some(new) = data.get(skip..) {
                self.buffer.extend_from_slice(new);
                self.next_seq = Some(next.wrapping_add(new.len() as u32));
            }
        }
    }

    /// Complete messages at the front of the buffer, and notes about unframeable bytes.
    fn messages(&mut self, origin: &Origin, max_len: usize, out: &mut Vec<Item>) {
        loop {
            match frame(&self.buffer, max_len) {
                Ok(Some(n)) => {
                    let msg: Vec<u8> = self.buffer.drain(..n).collect();
                    out.push(Item::Message(origin.clone(), msg));
                }
                Ok(None) => return,
                Err(e) => {
                    // Lost framing: skip to the next marker after this one.
                    let at = self
                        .buffer
                        .windows(MARKER.len())
                        .skip(1)
                        .position(|w| w == MARKER)
                        .map_or(self.buffer.len(), |p| p + 1);
                    out.push(Item::Note(
                        origin.clone(),
                        format!("{} octets skipped: {}", at, e.kind),
                    ));
                    self.buffer.drain(..at);
                }
            }
        }
    }
}

/// A TCP segment of a BGP connection, owned.
struct Segment {
    origin: Origin,
    seq: u32,
    syn: bool,
    /// FIN or RST: the direction ends, its state can go.
    end: bool,
    payload: Vec<u8>,
}

fn segment(linktype: i32, data: &[u8], time: (i64, u32), port: u16) -> Option<Segment> {
    let packet = match linktype {
        LINKTYPE_ETHERNET => SlicedPacket::from_ethernet(data).ok()?,
        LINKTYPE_LINUX_SLL => SlicedPacket::from_linux_sll(data).ok()?,
        // BSD loopback: a 4-octet address family, then the IP packet.
        LINKTYPE_NULL | LINKTYPE_LOOP => SlicedPacket::from_ip(data.get(4..)?).ok()?,
        LINKTYPE_RAW | LINKTYPE_IPV4 | LINKTYPE_IPV6 => SlicedPacket::from_ip(data).ok()?,
        _ => return None,
    };
    let (src, dst): (IpAddr, IpAddr) = match packet.net.as_ref()? {
        NetSlice::Ipv4(v4) => (
            v4.header().source_addr().into(),
            v4.header().destination_addr().into(),
        ),
        NetSlice::Ipv6(v6) => (
            v6.header().source_addr().into(),
            v6.header().destination_addr().into(),
        ),
        _ => return None,
    };
    let TransportSlice::Tcp(tcp) = packet.transport.as_ref()? else {
        return None;
    };
    if tcp.source_port() != port && tcp.destination_port() != port {
        return None;
    }
    Some(Segment {
        origin: Origin {
            time,
            source: SocketAddr::new(src, tcp.source_port()),
            destination: SocketAddr::new(dst, tcp.destination_port()),
        },
        seq: tcp.sequence_number(),
        syn: tcp.syn(),
        end: tcp.fin() || tcp.rst(),
        payload: tcp.payload().to_vec(),
    })
}

/// The timestamp of a pcapng packet: `if_tsresol` says the unit (RFC draft-ietf-opsawg-pcapng
/// §4.2: a power of 10, or of 2 when the high bit is set; default microseconds).
fn ng_time(high: u32, low: u32, tsresol: u8, tsoffset: i64) -> (i64, u32) {
    let ticks = ((high as u64) << 32) | low as u64;
    let per_second: u64 = if tsresol & 0x80 != 0 {
        1u64.checked_shl((tsresol & 0x7F) as u32).unwrap_or(1)
    } else {
        10u64.checked_pow(tsresol as u32).unwrap_or(1_000_000)
    }
    .max(1);
    let secs = (ticks / per_second) as i64 + tsoffset;
    let frac = ticks % per_second;
    let micros = (frac as u128 * 1_000_000 / per_second as u128) as u32;
    (secs, micros)
}

/// Reads every BGP message of a capture on TCP `port`, in capture order per stream.
/// `max_len` is the largest message to frame (4096, or 65535 with RFC 8654).
pub fn read(file: impl Read + Send, max_len: usize, port: u16) -> Result<Vec<Item>, CaptureError> {
    let mut out = Vec::new();
    read_each(file, max_len, port, |i| {
        out.push(i);
        true
    })?;
    Ok(out)
}

/// As [`read`], giving each item to `f` as soon as it is complete (until `f` returns false),
/// so that a capture of any size is decoded in the memory of its open streams.
pub fn read_each(
    file: impl Read + Send,
    max_len: usize,
    port: u16,
    mut f: impl FnMut(Item) -> bool,
) -> Result<(), CaptureError> {
    let mut reader = pcap_parser::create_reader(READ_BUFFER, file)
        .map_err(|e| CaptureError(format!("not a pcap or pcapng file: {e:?}")))?;
    let mut linktype = LINKTYPE_ETHERNET;
    let mut nanos = false;
    // pcapng interfaces: (link type, if_tsresol, if_tsoffset).
    let mut interfaces: Vec<(i32, u8, i64)> = Vec::new();
    let mut streams: HashMap<(SocketAddr, SocketAddr), Stream> = HashMap::new();
    let mut out: Vec<Item> = Vec::new();
    let mut stalled = 0;
    loop {
        let seg = match reader.next() {
            Ok((offset, block)) => {
                stalled = 0;
                let seg = match block {
                    PcapBlockOwned::LegacyHeader(h) => {
                        linktype = h.network.0;
                        nanos = h.is_nanosecond_precision();
                        None
                    }
                    PcapBlockOwned::Legacy(b) => {
                        let frac = if nanos { b.ts_usec / 1000 } else { b.ts_usec };
                        segment(linktype, b.data, (b.ts_sec as i64, frac.min(999_999)), port)
                    }
                    PcapBlockOwned::NG(Block::SectionHeader(_)) => {
                        interfaces.clear();
                        None
                    }
                    PcapBlockOwned::NG(Block::InterfaceDescription(idb)) => {
                        interfaces.push((idb.linktype.0, idb.if_tsresol, idb.if_tsoffset));
                        None
                    }
                    PcapBlockOwned::NG(Block::EnhancedPacket(epb)) => {
                        let (lt, res, off) = interfaces
                            .get(epb.if_id as usize)
                            .copied()
                            .unwrap_or((LINKTYPE_ETHERNET, 6, 0));
                        let data = epb.data.get(..epb.caplen as usize).unwrap_or(epb.data);
                        segment(lt, data, ng_time(epb.ts_high, epb.ts_low, res, off), port)
                    }
                    PcapBlockOwned::NG(Block::SimplePacket(spb)) => {
                        let lt = interfaces.first().map_or(LINKTYPE_ETHERNET, |i| i.0);
                        segment(lt, spb.data, (0, 0), port)
                    }
                    PcapBlockOwned::NG(_) => None,
                };
                reader.consume(offset);
                seg
            }
            Err(PcapError::Eof) => break,
            Err(PcapError::Incomplete(_)) => {
                // Two refills without progress: the file ends inside a block.
                stalled += 1;
                if stalled > 2 || reader.refill().is_err() {
                    out.push(Item::Note(
                        Origin {
                            time: (0, 0),
                            source: SocketAddr::from(([0, 0, 0, 0], 0)),
                            destination: SocketAddr::from(([0, 0, 0, 0], 0)),
                        },
                        "capture ends inside a block (file cut short)".into(),
                    ));
                    break;
                }
                continue;
            }
            Err(e) => return Err(CaptureError(format!("capture unreadable: {e:?}"))),
        };
        let Some(seg) = seg else { continue };
        let stream = streams
            .entry((seg.origin.source, seg.origin.destination))
            .or_default();
        if let Some(note) = stream.push(seg.seq, seg.syn, &seg.payload) {
            out.push(Item::Note(seg.origin.clone(), note));
        }
        stream.messages(&seg.origin, max_len, &mut out);
        if seg.end {
            // What is left can never become a message: say so, and forget the direction.
            let key = (seg.origin.source, seg.origin.destination);
            if let Some(left) = streams.remove(&key)
                && !left.buffer.is_empty()
            {
                out.push(Item::Note(
                    seg.origin.clone(),
                    format!(
                        "connection closed with {} octets of an unfinished message",
                        left.buffer.len()
                    ),
                ));
            }
        }
        for item in out.drain(..) {
            if !f(item) {
                return Ok(());
            }
        }
    }
    out.into_iter().for_each(|i| {
        f(i);
    });
    Ok(())
}

/// `2026-12-07T12:00:00.123456Z` (UTC), from seconds and microseconds since the epoch.
pub fn rfc3339(secs: i64, micros: u32) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{micros:06}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_utc_rfc3339() {
        assert_eq!(rfc3339(0, 0), "1970-01-01T00:00:00.000000Z");
        assert_eq!(rfc3339(1_796_558_400, 5), "2026-12-06T12:00:00.000005Z");
        assert_eq!(rfc3339(951_782_400, 0), "2000-02-29T00:00:00.000000Z");
    }

    #[test]
    fn streams_reassemble_out_of_order_and_retransmitted_segments() {
        let keepalive = {
            let mut m = MARKER.to_vec();
            m.extend_from_slice(&[0, 19, 4]);
            m
        };
        let two: Vec<u8> = [keepalive.clone(), keepalive.clone()].concat();
        let origin = Origin {
            time: (0, 0),
            source: "127.0.0.1:179".parse().unwrap(),
            destination: "127.0.0.2:40000".parse().unwrap(),
        };
        let mut s = Stream::default();
        let mut out = Vec::new();
        s.push(99, true, &[]);
        // Second half first, then the first half, then a retransmission of all of it.
        assert_eq!(s.push(100 + 20, false, &two[20..]), None);
        s.messages(&origin, 4096, &mut out);
        assert!(out.is_empty());
        s.push(100, false, &two[..20]);
        s.push(100, false, &two);
        s.messages(&origin, 4096, &mut out);
        assert_eq!(out.len(), 2, "{out:?}");
        assert!(
            out.iter()
                .all(|i| matches!(i, Item::Message(_, m) if m == &keepalive))
        );
    }

    #[test]
    fn garbage_is_not_a_capture_and_a_cut_file_is_not_a_panic() {
        assert!(read(&b"not a capture at all, just text"[..], 4096, BGP_PORT).is_err());
        // A pcap header announcing Ethernet, then half a record.
        let mut f = vec![0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0];
        f.extend_from_slice(&[0; 8]);
        f.extend_from_slice(&65535u32.to_le_bytes());
        f.extend_from_slice(&1u32.to_le_bytes());
        f.extend_from_slice(&[1, 0, 0, 0, 0, 0, 0, 0, 100, 0, 0, 0]);
        let _ = read(&f[..], 4096, BGP_PORT);
    }
}
