//! A cursor over received bytes that can never read past its end: every read returns
//! `Err(Truncated)` instead of panicking.

use std::io::Cursor;

use byteorder::{BigEndian, ReadBytesExt};

/// Not enough bytes left for what was being read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Truncated {
    /// Offset of the read that failed, from the start of this reader's buffer.
    pub offset: usize,
    pub needed: usize,
    pub available: usize,
}

pub struct Reader<'a> {
    cursor: Cursor<&'a [u8]>,
    /// Offset of this reader's first byte within the whole message (for error positions).
    base: usize,
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8]) -> Reader<'a> {
        Reader::at(buf, 0)
    }

    /// A reader whose reported offsets start at `base`.
    pub fn at(buf: &'a [u8], base: usize) -> Reader<'a> {
        Reader {
            cursor: Cursor::new(buf),
            base,
        }
    }

    fn buf(&self) -> &'a [u8] {
        self.cursor.get_ref()
    }

    fn pos(&self) -> usize {
        // The cursor only moves forward through reads on a slice, so it fits in usize.
        self.cursor.position() as usize
    }

    /// Absolute offset of the next byte.
    pub fn offset(&self) -> usize {
        self.base + self.pos()
    }

    pub fn remaining(&self) -> usize {
        self.buf().len().saturating_sub(self.pos())
    }

    pub fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    fn truncated(&self, needed: usize) -> Truncated {
        Truncated {
            offset: self.offset(),
            needed,
            available: self.remaining(),
        }
    }

    pub fn u8(&mut self) -> Result<u8, Truncated> {
        let t = self.truncated(1);
        self.cursor.read_u8().map_err(|_| t)
    }

    pub fn u16(&mut self) -> Result<u16, Truncated> {
        if self.remaining() < 2 {
            return Err(self.truncated(2));
        }
        let t = self.truncated(2);
        self.cursor.read_u16::<BigEndian>().map_err(|_| t)
    }

    pub fn u32(&mut self) -> Result<u32, Truncated> {
        if self.remaining() < 4 {
            return Err(self.truncated(4));
        }
        let t = self.truncated(4);
        self.cursor.read_u32::<BigEndian>().map_err(|_| t)
    }

    /// The next `n` bytes.
    pub fn bytes(&mut self, n: usize) -> Result<&'a [u8], Truncated> {
        let start = self.pos();
        let buf = self.buf();
        let slice = start
            .checked_add(n)
            .and_then(|end| buf.get(start..end))
            .ok_or_else(|| self.truncated(n))?;
        self.cursor.set_position((start + n) as u64);
        Ok(slice)
    }

    /// The next `N` bytes as an array.
    pub fn array<const N: usize>(&mut self) -> Result<[u8; N], Truncated> {
        let t = self.truncated(N);
        self.bytes(N)?.try_into().map_err(|_| t)
    }

    /// A reader over the next `n` bytes, which are consumed from this one.
    pub fn sub(&mut self, n: usize) -> Result<Reader<'a>, Truncated> {
        let base = self.offset();
        let slice = self.bytes(n)?;
        Ok(Reader::at(slice, base))
    }

    /// Everything that is left.
    pub fn rest(&mut self) -> &'a [u8] {
        let n = self.remaining();
        self.bytes(n).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_never_go_past_the_end() {
        let mut r = Reader::at(&[1, 2, 3], 10);
        assert_eq!(r.u16(), Ok(0x0102));
        assert_eq!(
            r.u16(),
            Err(Truncated {
                offset: 12,
                needed: 2,
                available: 1
            })
        );
        assert_eq!(r.u8(), Ok(3));
        assert!(r.u8().is_err());
        assert!(r.bytes(usize::MAX).is_err());
    }

    #[test]
    fn sub_reader_reports_absolute_offsets() {
        let mut r = Reader::new(&[0, 0, 9, 8]);
        r.u16().unwrap();
        let mut s = r.sub(2).unwrap();
        assert_eq!(s.offset(), 2);
        assert_eq!(s.u8(), Ok(9));
        assert!(r.is_empty());
    }
}
