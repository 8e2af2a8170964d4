//! The BGP Prefix-SID (src/wire/prefix_sid.rs) and BGP-LS attribute
//! (src/wire/nlri/bgp_ls.rs) formatters never panic on any value. The first input byte
//! picks the attribute.
#![no_main]

use bgpinject::wire::nlri::bgp_ls;
use bgpinject::wire::prefix_sid;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, value)) = data.split_first() else {
        return;
    };
    if pick & 1 == 0 {
        let _ = prefix_sid::text(value);
        let _ = prefix_sid::to_json(value);
    } else {
        let _ = bgp_ls::attribute_text(value);
        let _ = bgp_ls::attribute_json(value);
    }
});
