//! The BGP Prefix-SID (src/wire/prefix_sid.rs), BGP-LS attribute (src/wire/nlri/bgp_ls.rs)
//! and PMSI tunnel (src/wire/pmsi.rs) formatters never panic on any value, and a PMSI tunnel
//! that decodes re-encodes to the same octets. The first input byte picks the attribute.
#![no_main]

use bgpinject::wire::nlri::bgp_ls;
use bgpinject::wire::{pmsi, prefix_sid};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, value)) = data.split_first() else {
        return;
    };
    match pick % 3 {
        0 => {
            let _ = prefix_sid::text(value);
            let _ = prefix_sid::to_json(value);
        }
        1 => {
            let _ = bgp_ls::attribute_text(value);
            let _ = bgp_ls::attribute_json(value);
        }
        _ => {
            let _ = pmsi::text(value);
            let _ = pmsi::to_json(value);
            if let Ok(t) = pmsi::PmsiTunnel::decode(value) {
                assert_eq!(t.encode(), value);
            }
        }
    }
});
