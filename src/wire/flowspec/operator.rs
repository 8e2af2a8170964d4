//! The operator/value pairs of RFC 8955 §4.2.1: numeric operators (ports, lengths, DSCP, ...)
//! and bitmask operators (TCP flags, fragment bits). A component holds a list of them; an
//! operator with the AND bit binds to the one before it, the others are ORed.

use std::fmt;

use super::FlowError;
use crate::wire::reader::Reader;

/// RFC 8955 §4.2.1.1: bit 7 of an operator octet, "end of list".
const END_OF_LIST: u8 = 0x80;
/// Bit 6: AND with the previous operator (otherwise OR).
const AND: u8 = 0x40;
/// Bits 5-4: the value is 1 << len octets long.
const LEN_SHIFT: u8 = 4;
const LEN_MASK: u8 = 0x30;
/// Numeric comparison bits (RFC 8955 §4.2.1.1).
const LT: u8 = 0x04;
const GT: u8 = 0x02;
const EQ: u8 = 0x01;
/// Bitmask bits (RFC 8955 §4.2.1.2).
const NOT: u8 = 0x02;
const MATCH: u8 = 0x01;
/// Bit 3 of both kinds, and bits 2 of a bitmask operator, must be zero.
const NUMERIC_RESERVED: u8 = 0x08;
const BITMASK_RESERVED: u8 = 0x0C;

/// One numeric comparison: `value` compared with `lt`, `gt`, `eq` (both `lt` and `gt`
/// means "not equal"; all three, "true").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NumericOp {
    /// ANDed with the previous operator; the first of a list is never ANDed.
    pub and: bool,
    pub lt: bool,
    pub gt: bool,
    pub eq: bool,
    pub value: u64,
}

impl NumericOp {
    /// `= value`, ORed with what comes before.
    pub fn eq(value: u64) -> NumericOp {
        NumericOp {
            and: false,
            lt: false,
            gt: false,
            eq: true,
            value,
        }
    }

    /// The comparison as written: `=`, `>`, `>=`, `<`, `<=`, `!=`, `true`, `false`.
    pub fn comparison(&self) -> &'static str {
        match (self.lt, self.gt, self.eq) {
            (false, false, true) => "=",
            (false, true, false) => ">",
            (false, true, true) => ">=",
            (true, false, false) => "<",
            (true, false, true) => "<=",
            (true, true, false) => "!=",
            (true, true, true) => "true",
            (false, false, false) => "false",
        }
    }

    /// Parses `=`, `>`, `>=`, `<`, `<=`, `!=` (and an empty string, meaning `=`).
    pub fn from_comparison(text: &str) -> Option<(bool, bool, bool)> {
        Some(match text {
            "" | "=" | "==" => (false, false, true),
            ">" => (false, true, false),
            ">=" => (false, true, true),
            "<" => (true, false, false),
            "<=" => (true, false, true),
            "!=" => (true, true, false),
            _ => return None,
        })
    }
}

/// One bitmask test of `value` against the packet's field: with `matched`, all bits of
/// `value` set; without, any of them; `not` negates the result.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BitmaskOp {
    pub and: bool,
    pub not: bool,
    pub matched: bool,
    pub value: u64,
}

/// The shortest of the 1, 2, 4 or 8 octet value lengths that holds `value`, as the
/// two-bit `len` field.
fn len_code(value: u64) -> u8 {
    match value {
        0..=0xFF => 0,
        0x100..=0xFFFF => 1,
        0x1_0000..=0xFFFF_FFFF => 2,
        _ => 3,
    }
}

fn emit_value(value: u64, code: u8, out: &mut Vec<u8>) {
    let bytes = value.to_be_bytes();
    out.extend_from_slice(&bytes[8 - (1usize << code)..]);
}

fn read_value(r: &mut Reader, op: u8) -> Result<u64, FlowError> {
    let n = 1usize << ((op & LEN_MASK) >> LEN_SHIFT);
    let bytes = r.bytes(n).map_err(FlowError::from)?;
    Ok(bytes.iter().fold(0u64, |v, &b| (v << 8) | b as u64))
}

pub(super) fn emit_numeric(ops: &[NumericOp], out: &mut Vec<u8>) {
    for (i, op) in ops.iter().enumerate() {
        let code = len_code(op.value);
        let mut b = code << LEN_SHIFT;
        b |= if i + 1 == ops.len() { END_OF_LIST } else { 0 };
        b |= if op.and && i > 0 { AND } else { 0 };
        b |= if op.lt { LT } else { 0 };
        b |= if op.gt { GT } else { 0 };
        b |= if op.eq { EQ } else { 0 };
        out.push(b);
        emit_value(op.value, code, out);
    }
}

pub(super) fn emit_bitmask(ops: &[BitmaskOp], out: &mut Vec<u8>) {
    for (i, op) in ops.iter().enumerate() {
        let code = len_code(op.value);
        let mut b = code << LEN_SHIFT;
        b |= if i + 1 == ops.len() { END_OF_LIST } else { 0 };
        b |= if op.and && i > 0 { AND } else { 0 };
        b |= if op.not { NOT } else { 0 };
        b |= if op.matched { MATCH } else { 0 };
        out.push(b);
        emit_value(op.value, code, out);
    }
}

/// The next operator octet; the rule ending after an operator without the end-of-list bit is
/// that error, not a plain truncation.
fn next_operator(r: &mut Reader, first: bool, type_code: u8) -> Result<u8, FlowError> {
    r.u8().map_err(|t| {
        if first {
            FlowError::from(t)
        } else {
            FlowError::NoEndOfList { type_code }
        }
    })
}

/// Reads operators up to and including the one with the end-of-list bit.
pub(super) fn read_numeric(r: &mut Reader, type_code: u8) -> Result<Vec<NumericOp>, FlowError> {
    let mut ops = Vec::new();
    loop {
        let offset = r.offset();
        let b = next_operator(r, ops.is_empty(), type_code)?;
        if b & NUMERIC_RESERVED != 0 {
            return Err(FlowError::ReservedOperatorBits { type_code, offset });
        }
        if ops.is_empty() && b & AND != 0 {
            return Err(FlowError::FirstOperatorAnd { type_code, offset });
        }
        ops.push(NumericOp {
            and: b & AND != 0,
            lt: b & LT != 0,
            gt: b & GT != 0,
            eq: b & EQ != 0,
            value: read_value(r, b)?,
        });
        if b & END_OF_LIST != 0 {
            return Ok(ops);
        }
    }
}

pub(super) fn read_bitmask(r: &mut Reader, type_code: u8) -> Result<Vec<BitmaskOp>, FlowError> {
    let mut ops = Vec::new();
    loop {
        let offset = r.offset();
        let b = next_operator(r, ops.is_empty(), type_code)?;
        if b & BITMASK_RESERVED != 0 {
            return Err(FlowError::ReservedOperatorBits { type_code, offset });
        }
        if ops.is_empty() && b & AND != 0 {
            return Err(FlowError::FirstOperatorAnd { type_code, offset });
        }
        ops.push(BitmaskOp {
            and: b & AND != 0,
            not: b & NOT != 0,
            matched: b & MATCH != 0,
            value: read_value(r, b)?,
        });
        if b & END_OF_LIST != 0 {
            return Ok(ops);
        }
    }
}

/// Writes `ops` as ExaBGP does: ORed items separated by spaces (in brackets when more than
/// one), ANDed operators joined with `&`. `item` writes one operator.
pub(super) fn write_list<T>(
    f: &mut fmt::Formatter<'_>,
    ops: &[T],
    and: impl Fn(&T) -> bool,
    mut item: impl FnMut(&mut fmt::Formatter<'_>, &T) -> fmt::Result,
) -> fmt::Result {
    let groups = ops.iter().filter(|o| !and(o)).count().max(1);
    if groups > 1 {
        f.write_str("[ ")?;
    }
    for (i, op) in ops.iter().enumerate() {
        if i > 0 {
            f.write_str(if and(op) { "&" } else { " " })?;
        }
        item(f, op)?;
    }
    if groups > 1 {
        f.write_str(" ]")?;
    }
    Ok(())
}
