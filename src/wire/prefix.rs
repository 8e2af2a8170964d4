//! IP prefixes and their NLRI encoding (RFC 4271 §4.3: length in bits, then the
//! minimum number of octets).

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::family::Afi;

/// An IPv4 or IPv6 prefix whose host bits are all zero.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Prefix {
    addr: IpAddr,
    len: u8,
}

/// Why a prefix could not be built.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PrefixError {
    /// The length is larger than the address (32 or 128).
    LengthTooLong { len: u8, max: u8 },
    /// Bits beyond the length are set; carries the prefix the operator probably meant.
    HostBitsSet { canonical: Prefix },
}

impl fmt::Display for PrefixError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PrefixError::LengthTooLong { len, max } => {
                write!(f, "prefix length {len} is larger than {max}")
            }
            PrefixError::HostBitsSet { canonical } => {
                write!(f, "host bits are set (did you mean {canonical}?)")
            }
        }
    }
}

impl Prefix {
    /// Builds a prefix, refusing a length that is too long or host bits that are set.
    pub fn new(addr: IpAddr, len: u8) -> Result<Prefix, PrefixError> {
        let max = max_len(&addr);
        if len > max {
            return Err(PrefixError::LengthTooLong { len, max });
        }
        let canonical = Prefix {
            addr: mask(addr, len),
            len,
        };
        if canonical.addr != addr {
            return Err(PrefixError::HostBitsSet { canonical });
        }
        Ok(canonical)
    }

    /// Builds a prefix, clearing any host bits.
    pub fn new_masked(addr: IpAddr, len: u8) -> Result<Prefix, PrefixError> {
        let max = max_len(&addr);
        if len > max {
            return Err(PrefixError::LengthTooLong { len, max });
        }
        Ok(Prefix {
            addr: mask(addr, len),
            len,
        })
    }

    /// Reads one prefix of `len` bits from the next `ceil(len / 8)` octets of `r` (the
    /// octets of an NLRI after its length). Bits beyond `len` are ignored (RFC 4271 §4.3).
    /// `None` when the length is too long for `afi` or the octets run out.
    pub fn read_bits(r: &mut super::reader::Reader, afi: Afi, len: u8) -> Option<Prefix> {
        let n = (len as usize).div_ceil(8);
        let octets = r.bytes(n).ok()?;
        let addr = match afi {
            Afi::Ipv4 => {
                let mut a = [0u8; 4];
                a.get_mut(..n)?.copy_from_slice(octets);
                IpAddr::V4(Ipv4Addr::from(a))
            }
            Afi::Ipv6 => {
                let mut a = [0u8; 16];
                a.get_mut(..n)?.copy_from_slice(octets);
                IpAddr::V6(Ipv6Addr::from(a))
            }
            Afi::Unknown(_) => return None,
        };
        Prefix::new_masked(addr, len).ok()
    }

    pub fn addr(&self) -> IpAddr {
        self.addr
    }
    pub fn len(&self) -> u8 {
        self.len
    }
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    pub fn afi(&self) -> Afi {
        match self.addr {
            IpAddr::V4(_) => Afi::Ipv4,
            IpAddr::V6(_) => Afi::Ipv6,
        }
    }

    /// Octets on the wire: 1 (length) + ceil(len / 8).
    pub fn wire_len(&self) -> usize {
        1 + (self.len as usize).div_ceil(8)
    }

    /// Appends the NLRI encoding (length octet, then the significant octets).
    ///
    /// Written as a fixed-size copy of the whole address, then cut to the significant octets:
    /// packing a table calls this once per route, and a copy of a variable length (a call to
    /// `memmove`) cost more than the rest of the route's work.
    pub fn emit(&self, out: &mut Vec<u8>) {
        let keep = out.len() + self.wire_len();
        match self.addr {
            IpAddr::V4(a) => {
                let o = a.octets();
                out.extend_from_slice(&[self.len, o[0], o[1], o[2], o[3]]);
            }
            IpAddr::V6(a) => {
                out.push(self.len);
                out.extend_from_slice(&a.octets());
            }
        }
        out.truncate(keep);
    }
}

fn max_len(addr: &IpAddr) -> u8 {
    match addr {
        IpAddr::V4(_) => 32,
        IpAddr::V6(_) => 128,
    }
}

fn mask(addr: IpAddr, len: u8) -> IpAddr {
    match addr {
        IpAddr::V4(a) => {
            let bits = u32::from(a);
            let m = if len == 0 { 0 } else { u32::MAX << (32 - len) };
            IpAddr::V4(Ipv4Addr::from(bits & m))
        }
        IpAddr::V6(a) => {
            let bits = u128::from(a);
            let m = if len == 0 {
                0
            } else {
                u128::MAX << (128 - len)
            };
            IpAddr::V6(Ipv6Addr::from(bits & m))
        }
    }
}

impl fmt::Display for Prefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.len)
    }
}

/// RFC 7911 §3: a prefix preceded by its 4-octet path identifier, as sent in a family where
/// ADD-PATH applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PathPrefix {
    pub path_id: u32,
    pub prefix: Prefix,
}

impl PathPrefix {
    pub fn emit(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.path_id.to_be_bytes());
        self.prefix.emit(out);
    }
}

impl fmt::Display for PathPrefix {
    /// `ID@PREFIX`, as for labeled NLRI.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.path_id, self.prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_bits_are_refused_and_canonical_form_suggested() {
        let err = Prefix::new("10.0.0.1".parse().unwrap(), 8).unwrap_err();
        assert_eq!(
            err,
            PrefixError::HostBitsSet {
                canonical: Prefix::new("10.0.0.0".parse().unwrap(), 8).unwrap()
            }
        );
    }

    #[test]
    fn emit_uses_minimum_octets() {
        let mut out = Vec::new();
        Prefix::new("198.51.100.0".parse().unwrap(), 23)
            .unwrap()
            .emit(&mut out);
        assert_eq!(out, vec![23, 198, 51, 100]);
        let mut out = Vec::new();
        Prefix::new("::".parse().unwrap(), 0)
            .unwrap()
            .emit(&mut out);
        assert_eq!(out, vec![0]);
    }

    #[test]
    fn too_long_is_refused() {
        assert!(Prefix::new("2001:db8::".parse().unwrap(), 129).is_err());
        assert!(Prefix::new("192.0.2.0".parse().unwrap(), 33).is_err());
    }
}
