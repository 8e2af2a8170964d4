//! Route target constraint NLRI (RFC 4684 §4, AFI 1 SAFI 132): a length in bits, then up
//! to 96 bits of origin AS (4 octets) and route target (an extended community, 8 octets).
//! Length 0 is the default route ("rtc wildcard"); 1 to 31 cannot carry the origin AS and
//! are refused; 33 to 95 are route-target prefixes, kept with the octets they cover.
//!
//! JSON: `{"origin": ASN, "rt": "target:65000:100", "prefix_length": 96}` (ExaBGP's
//! `origin` and `rt`), `rt` null for the wildcard.

use std::fmt;

use serde_json::{Value, json};

use super::{NlriError, hex, read_array, read_bytes, read_u8};
use crate::wire::community::ExtendedCommunity;
use crate::wire::reader::Reader;

/// RFC 4684 §4: origin AS (32 bits) and route target (64 bits).
const FULL_BITS: u8 = 96;
const ORIGIN_BITS: u8 = 32;

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Rtc {
    /// The prefix length in bits: 0 (default), or 32..=96.
    pub bits: u8,
    pub origin: u32,
    /// The route target, zero past the prefix length's last octet.
    pub target: [u8; 8],
}

impl Rtc {
    /// The RTC route for `origin` and a whole route target.
    pub fn new(origin: u32, target: ExtendedCommunity) -> Rtc {
        Rtc {
            bits: FULL_BITS,
            origin,
            target: target.0,
        }
    }

    /// The default route (RFC 4684 §4: prefix length 0).
    pub fn wildcard() -> Rtc {
        Rtc {
            bits: 0,
            origin: 0,
            target: [0; 8],
        }
    }

    fn target_octets(&self) -> usize {
        usize::from(self.bits.saturating_sub(ORIGIN_BITS)).div_ceil(8)
    }

    pub fn read(r: &mut Reader) -> Result<Rtc, NlriError> {
        let at = r.offset();
        let bits = read_u8(r, "RTC prefix length")?;
        if bits == 0 {
            return Ok(Rtc::wildcard());
        }
        if !(ORIGIN_BITS..=FULL_BITS).contains(&bits) {
            return Err(NlriError::value(
                at,
                "RTC prefix length",
                bits.into(),
                "0 or 32 to 96 bits (RFC 4684 §4)",
            ));
        }
        let origin = u32::from_be_bytes(read_array::<4>(r, "RTC origin AS")?);
        let mut rtc = Rtc {
            bits,
            origin,
            target: [0; 8],
        };
        let n = rtc.target_octets();
        let t = read_bytes(r, n, "RTC route target")?;
        rtc.target[..n].copy_from_slice(t);
        Ok(rtc)
    }

    pub fn emit(&self, out: &mut Vec<u8>) {
        out.push(self.bits);
        if self.bits == 0 {
            return;
        }
        out.extend_from_slice(&self.origin.to_be_bytes());
        out.extend_from_slice(&self.target[..self.target_octets()]);
    }

    pub fn json(&self) -> Value {
        let rt = (self.bits == FULL_BITS).then(|| ExtendedCommunity(self.target).to_string());
        json!({
            "origin": self.origin,
            "rt": rt,
            "prefix_length": self.bits,
        })
    }
}

impl fmt::Display for Rtc {
    /// `rtc origin 65019 route-target target:65019:100`, `rtc wildcard`, or for a
    /// route-target prefix `rtc origin 65019 route-target-prefix 0x0002fd/56`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.bits {
            0 => f.write_str("rtc wildcard"),
            FULL_BITS => write!(
                f,
                "rtc origin {} route-target {}",
                self.origin,
                ExtendedCommunity(self.target)
            ),
            bits => write!(
                f,
                "rtc origin {} route-target-prefix 0x{}/{bits}",
                self.origin,
                hex(&self.target[..self.target_octets()])
            ),
        }
    }
}
