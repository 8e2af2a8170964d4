//! The Tunnel Encapsulation attribute (RFC 9012) decodes, formats and turns into JSON without
//! a panic, whatever its value; the extended-community formatter too, on every 8 octets.
#![no_main]

use bgpinject::wire::community::ExtendedCommunity;
use bgpinject::wire::{ext_community, tunnel_encap};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = tunnel_encap::decode(data);
    let _ = tunnel_encap::text(data);
    let _ = tunnel_encap::to_json(data);
    for c in data.chunks_exact(8) {
        if let Ok(b) = <[u8; 8]>::try_from(c) {
            let c = ExtendedCommunity(b);
            let _ = c.to_string();
            let _ = ext_community::to_json(&c);
        }
    }
});
