//! VPLS NLRI (RFC 4761 §3.2.2, AFI 25 SAFI 65) as ExaBGP writes it: a 2-octet length (17),
//! route distinguisher, VE ID, VE block offset, VE block size and label base (3 octets, the
//! label in the high 20 bits).
//!
//! JSON (ExaBGP's fields): `{"rd", "endpoint", "base", "offset", "size"}`.

use std::fmt;

use serde_json::{Value, json};

use super::{NlriError, emit_u24, read_rd, read_u16, read_u24};
use crate::wire::labeled::RouteDistinguisher;
use crate::wire::reader::Reader;

/// RFC 4761 §3.2.2: RD 8, VE ID 2, offset 2, size 2, label base 3.
const VALUE_LEN: u16 = 17;

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Vpls {
    pub rd: RouteDistinguisher,
    /// VE ID ("endpoint" in ExaBGP).
    pub endpoint: u16,
    pub offset: u16,
    pub size: u16,
    /// The label base field as sent: label << 4, bottom-of-stack bit in bit 0.
    pub raw_base: u32,
}

impl Vpls {
    /// A VPLS NLRI with label base `base` (written with the bottom-of-stack bit, as
    /// ExaBGP does).
    pub fn new(rd: RouteDistinguisher, endpoint: u16, offset: u16, size: u16, base: u32) -> Vpls {
        Vpls {
            rd,
            endpoint,
            offset,
            size,
            raw_base: (base & 0xF_FFFF) << 4 | 1,
        }
    }

    /// The 20-bit label base.
    pub fn base(&self) -> u32 {
        self.raw_base >> 4
    }

    pub fn read(r: &mut Reader) -> Result<Vpls, NlriError> {
        let at = r.offset();
        let len = read_u16(r, "VPLS NLRI length")?;
        if len != VALUE_LEN {
            return Err(NlriError::length(
                at,
                "VPLS NLRI",
                len.into(),
                "17 octets (RFC 4761 §3.2.2)",
            ));
        }
        Ok(Vpls {
            rd: read_rd(r)?,
            endpoint: read_u16(r, "VPLS VE ID")?,
            offset: read_u16(r, "VPLS VE block offset")?,
            size: read_u16(r, "VPLS VE block size")?,
            raw_base: read_u24(r, "VPLS label base")?,
        })
    }

    pub fn emit(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&VALUE_LEN.to_be_bytes());
        out.extend_from_slice(&self.rd.0);
        for v in [self.endpoint, self.offset, self.size] {
            out.extend_from_slice(&v.to_be_bytes());
        }
        emit_u24(self.raw_base, out);
    }

    pub fn json(&self) -> Value {
        json!({
            "rd": self.rd.to_string(),
            "endpoint": self.endpoint,
            "base": self.base(),
            "offset": self.offset,
            "size": self.size,
        })
    }
}

impl fmt::Display for Vpls {
    /// `vpls rd 192.0.2.1:10 endpoint 5 base 10702 offset 1 size 8` (ExaBGP's `vpls`
    /// statement words); a label base without the bottom-of-stack bit adds `raw-base N`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "vpls rd {} endpoint {} base {} offset {} size {}",
            self.rd,
            self.endpoint,
            self.base(),
            self.offset,
            self.size
        )?;
        if self.raw_base & 0xF != 1 {
            write!(f, " raw-base {}", self.raw_base)?;
        }
        Ok(())
    }
}
