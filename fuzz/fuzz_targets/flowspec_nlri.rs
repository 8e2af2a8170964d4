//! FlowSpec NLRI decoding (RFC 8955/8956) never panics; rules that decode re-encode to bytes
//! that decode to the same rules. The first input byte picks IPv4 or IPv6.
#![no_main]

use bgpinject::wire::family::Afi;
use bgpinject::wire::flowspec::decode_nlri_list;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, bytes)) = data.split_first() else {
        return;
    };
    let afi = if pick & 1 == 0 { Afi::Ipv4 } else { Afi::Ipv6 };
    if let Ok(rules) = decode_nlri_list(bytes, afi) {
        let mut again = Vec::new();
        rules.iter().for_each(|r| r.emit(&mut again));
        assert_eq!(decode_nlri_list(&again, afi).ok().as_ref(), Some(&rules));
    }
});
