//! Labeled unicast and VPN NLRI decoding (RFC 8277, RFC 4364) never panics; what decodes
//! re-encodes to bytes that decode the same. The first byte picks family and ADD-PATH.
#![no_main]

use bgpinject::wire::family::{Afi, Family, Safi};
use bgpinject::wire::labeled::decode_labeled;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, bytes)) = data.split_first() else {
        return;
    };
    let afi = if pick & 1 == 0 { Afi::Ipv4 } else { Afi::Ipv6 };
    let safi = if pick & 2 == 0 { Safi::MplsLabel } else { Safi::MplsVpn };
    let add_path = pick & 4 != 0;
    let family = Family::new(afi, safi);
    if let Some(prefixes) = decode_labeled(bytes, family, add_path) {
        let mut again = Vec::new();
        prefixes.iter().for_each(|p| p.emit(&mut again));
        assert_eq!(decode_labeled(&again, family, add_path).as_ref(), Some(&prefixes));
    }
});
