//! SR Policy NLRI (RFC 9830 §2.1, SAFI 73): a length in bits (96 for IPv4, 192 for IPv6),
//! distinguisher (4 octets), color (4) and endpoint (an address of the family's AFI).
//!
//! JSON: `{"distinguisher", "color", "endpoint"}`.

use std::fmt;
use std::net::IpAddr;

use serde_json::{Value, json};

use super::{NlriError, emit_ip, read_ip_of, read_u8, read_u32};
use crate::wire::family::Afi;
use crate::wire::reader::Reader;

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SrPolicy {
    pub distinguisher: u32,
    pub color: u32,
    pub endpoint: IpAddr,
}

impl SrPolicy {
    fn bits(afi: Afi) -> u8 {
        if afi == Afi::Ipv6 { 192 } else { 96 }
    }

    pub fn read(r: &mut Reader, afi: Afi) -> Result<SrPolicy, NlriError> {
        let at = r.offset();
        let bits = read_u8(r, "SR Policy NLRI length")?;
        if bits != SrPolicy::bits(afi) {
            return Err(NlriError::length(
                at,
                "SR Policy NLRI (in bits)",
                bits.into(),
                if afi == Afi::Ipv6 {
                    "192 for IPv6 (RFC 9830 §2.1)"
                } else {
                    "96 for IPv4 (RFC 9830 §2.1)"
                },
            ));
        }
        Ok(SrPolicy {
            distinguisher: read_u32(r, "SR Policy distinguisher")?,
            color: read_u32(r, "SR Policy color")?,
            endpoint: read_ip_of(r, afi, "SR Policy endpoint")?,
        })
    }

    pub fn emit(&self, out: &mut Vec<u8>) {
        let afi = match self.endpoint {
            IpAddr::V4(_) => Afi::Ipv4,
            IpAddr::V6(_) => Afi::Ipv6,
        };
        out.push(SrPolicy::bits(afi));
        out.extend_from_slice(&self.distinguisher.to_be_bytes());
        out.extend_from_slice(&self.color.to_be_bytes());
        emit_ip(&self.endpoint, out);
    }

    pub fn json(&self) -> Value {
        json!({
            "distinguisher": self.distinguisher,
            "color": self.color,
            "endpoint": self.endpoint.to_string(),
        })
    }
}

impl fmt::Display for SrPolicy {
    /// `sr-policy distinguisher 1 color 100 endpoint 192.0.2.9`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "sr-policy distinguisher {} color {} endpoint {}",
            self.distinguisher, self.color, self.endpoint
        )
    }
}
