//! The bytes a session has yet to write, in order: urgent messages (KEEPALIVE, NOTIFICATION,
//! ROUTE-REFRESH requests) go between two whole UPDATEs of the bulk, never inside one, so that
//! a large table never starves the timers.

use std::collections::VecDeque;
use std::sync::Arc;

use crate::wire::message::HEADER_LEN;

/// A batch of bulk bytes handed out at once is cut at a message boundary after this size.
const WRITE_BATCH: usize = 64 * 1024;

/// The length of the message that starts at `at` (our own encoder's output, read defensively:
/// a length that cannot be right covers the rest of the buffer).
fn message_len(bytes: &[u8], at: usize) -> usize {
    let rest = bytes.len().saturating_sub(at);
    match bytes.get(at + 16..at + 18) {
        Some(l) => {
            let len = u16::from_be_bytes([l[0], l[1]]) as usize;
            if len < HEADER_LEN || len > rest {
                rest
            } else {
                len
            }
        }
        None => rest,
    }
}

/// What the last [`Outbox::transmit`] handed out and the socket has not finished.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Current {
    None,
    /// `urgent[pos..end]`.
    Urgent {
        end: usize,
    },
    /// `bulk.front()[pos..end]`, which began at the message boundary `start`.
    Bulk {
        start: usize,
        end: usize,
    },
}

/// UPDATEs to write: `bytes[pos..len]` (the bytes may be shared with other sessions sending
/// the same table, see `rib/pack_cache.rs`; `len` cuts them without copying).
#[derive(Debug, Default)]
struct Bulk {
    bytes: Arc<Vec<u8>>,
    pos: usize,
    len: usize,
}

impl Bulk {
    fn bytes(&self) -> &[u8] {
        self.bytes.get(..self.len).unwrap_or_default()
    }
}

#[derive(Debug)]
pub struct Outbox {
    urgent: Vec<u8>,
    urgent_pos: usize,
    bulk: VecDeque<Bulk>,
    current: Current,
    /// Message types (bit `1 << type`) copied into `tapped` as they are queued, for helpers'
    /// `api { send { } }`; 0 (the default) copies nothing.
    pub tap: u32,
    pub tapped: Vec<Vec<u8>>,
}

impl Default for Outbox {
    fn default() -> Self {
        Outbox {
            urgent: Vec::new(),
            urgent_pos: 0,
            bulk: VecDeque::new(),
            current: Current::None,
            tap: 0,
            tapped: Vec::new(),
        }
    }
}

impl Outbox {
    pub fn push_urgent(&mut self, message: &[u8]) {
        self.copy_tapped(message);
        self.urgent.extend_from_slice(message);
    }

    pub fn push_bulk(&mut self, bytes: Vec<u8>) {
        self.push_shared(Arc::new(bytes));
    }

    /// Queues UPDATEs other sessions may be sending too.
    pub fn push_shared(&mut self, bytes: Arc<Vec<u8>>) {
        self.copy_tapped(&bytes);
        if !bytes.is_empty() {
            let len = bytes.len();
            self.bulk.push_back(Bulk { bytes, pos: 0, len });
        }
    }

    fn copy_tapped(&mut self, bytes: &[u8]) {
        if self.tap == 0 {
            return;
        }
        let mut at = 0;
        while at < bytes.len() {
            let len = message_len(bytes, at).max(1);
            let kind = bytes.get(at + 18).copied().unwrap_or(0);
            if kind < 32 && self.tap & (1 << kind) != 0 {
                self.tapped
                    .push(bytes.get(at..at + len).unwrap_or_default().to_vec());
            }
            at += len;
        }
    }

    pub fn is_empty(&self) -> bool {
        self.urgent.len() == self.urgent_pos && self.bulk.is_empty()
    }

    /// No UPDATE of a table or diff is waiting (urgent messages may be).
    pub fn bulk_is_empty(&self) -> bool {
        self.bulk.is_empty()
    }

    /// Bytes still to write.
    pub fn len(&self) -> usize {
        self.urgent.len() - self.urgent_pos + self.bulk.iter().map(|b| b.len - b.pos).sum::<usize>()
    }

    /// The next bytes to write: the rest of what was handed out before, else urgent messages,
    /// else whole bulk messages.
    pub fn transmit(&mut self) -> Option<&[u8]> {
        if let Current::Bulk { start, end } = self.current
            && self.urgent.len() > self.urgent_pos
            && let Some(b) = self.bulk.front()
        {
            // Urgent messages wait only for the message being written, not the whole batch.
            let mut at = start;
            while at < b.pos {
                at += message_len(b.bytes(), at).max(1);
            }
            self.current = if at == b.pos {
                Current::None
            } else {
                Current::Bulk {
                    start,
                    end: at.min(end),
                }
            };
        }
        if self.current == Current::None {
            if self.urgent.len() > self.urgent_pos {
                self.current = Current::Urgent {
                    end: self.urgent.len(),
                };
            } else if let Some(b) = self.bulk.front() {
                let mut end = b.pos;
                while end < b.len && end - b.pos < WRITE_BATCH {
                    end += message_len(b.bytes(), end).max(1);
                }
                self.current = Current::Bulk {
                    start: b.pos,
                    end: end.min(b.len),
                };
            }
        }
        match self.current {
            Current::None => None,
            Current::Urgent { end } => self.urgent.get(self.urgent_pos..end),
            Current::Bulk { end, .. } => self.bulk.front().and_then(|b| b.bytes().get(b.pos..end)),
        }
    }

    /// `n` bytes of what [`Outbox::transmit`] returned were written.
    pub fn advance(&mut self, n: usize) {
        match self.current {
            Current::None => {}
            Current::Urgent { end } => {
                self.urgent_pos = (self.urgent_pos + n).min(end);
                if self.urgent_pos == end {
                    self.urgent.drain(..end);
                    self.urgent_pos = 0;
                    self.current = Current::None;
                }
            }
            Current::Bulk { end, .. } => {
                if let Some(b) = self.bulk.front_mut() {
                    b.pos = (b.pos + n).min(end);
                    if b.pos == end {
                        self.current = Current::None;
                        if b.pos >= b.len {
                            self.bulk.pop_front();
                        }
                    }
                }
            }
        }
    }

    /// The session closes: drops everything queued except the rest of a message already
    /// begun (the peer must get it whole before a NOTIFICATION can follow).
    pub fn abort(&mut self) {
        match self.current {
            Current::None => {
                self.urgent.clear();
                self.urgent_pos = 0;
                self.bulk.clear();
            }
            Current::Urgent { end } => {
                self.urgent.truncate(end);
                self.bulk.clear();
            }
            Current::Bulk { start, .. } => {
                self.urgent.clear();
                self.urgent_pos = 0;
                self.bulk.truncate(1);
                if let Some(b) = self.bulk.front_mut() {
                    let mut at = start;
                    while at < b.pos {
                        at += message_len(b.bytes(), at).max(1);
                    }
                    b.len = b.len.min(at);
                    if b.pos >= b.len {
                        self.bulk.clear();
                    }
                }
                self.current = match self.bulk.front() {
                    Some(b) => Current::Bulk { start, end: b.len },
                    None => Current::None,
                };
            }
        }
    }

    /// The connection is gone: nothing more will be written.
    pub fn clear(&mut self) {
        let (tap, tapped) = (self.tap, std::mem::take(&mut self.tapped));
        *self = Outbox::default();
        self.tap = tap;
        self.tapped = tapped;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::message::{MARKER, Message};

    fn msg(body_len: usize, ty: u8) -> Vec<u8> {
        let mut m = MARKER.to_vec();
        m.extend_from_slice(&((HEADER_LEN + body_len) as u16).to_be_bytes());
        m.push(ty);
        m.extend(std::iter::repeat_n(0xab, body_len));
        m
    }

    #[test]
    fn urgent_goes_between_two_bulk_messages_never_inside_one() {
        let mut o = Outbox::default();
        let big: Vec<u8> = (0..40).flat_map(|_| msg(4000, 2)).collect();
        o.push_bulk(big.clone());
        let first = o.transmit().unwrap().len();
        assert!(first >= WRITE_BATCH && first % 4019 == 0, "{first}");
        o.advance(100); // inside the first message
        let ka = Message::Keepalive.encode(crate::wire::attribute::AttributeContext {
            four_octet_as: true,
        });
        o.push_urgent(&ka);
        // The rest of the first message, then the KEEPALIVE, then the rest of the bulk.
        assert_eq!(o.transmit().unwrap().len(), 4019 - 100);
        o.advance(4019 - 100);
        assert_eq!(o.transmit().unwrap(), &ka[..]);
        o.advance(19);
        let mut rest = Vec::new();
        while let Some(b) = o.transmit() {
            let n = b.len().min(1000);
            rest.extend_from_slice(&b[..n]);
            o.advance(n);
        }
        assert_eq!(rest, big[4019..]);
        assert!(o.is_empty());
    }

    #[test]
    fn abort_keeps_only_the_message_begun() {
        let mut o = Outbox::default();
        o.push_bulk((0..3).flat_map(|_| msg(100, 2)).collect());
        o.push_bulk(msg(10, 2));
        o.transmit();
        o.advance(150); // inside the second message
        o.abort();
        assert_eq!(o.transmit().unwrap().len(), 2 * 119 - 150);
        o.advance(2 * 119 - 150);
        assert!(o.is_empty());
        assert!(o.transmit().is_none());
    }
}
