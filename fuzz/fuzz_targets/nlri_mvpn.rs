//! The NLRI decoder of src/wire/nlri/mvpn.rs never panics, and what decodes re-encodes to the
//! same bytes (FlowSpec VPN: to bytes that decode to the same NLRI, since a short rule may
//! arrive with the two-octet length form). The first input byte picks the family.
#![no_main]

use bgpinject::wire::family::Family;
use bgpinject::wire::nlri;
use libfuzzer_sys::fuzz_target;

const FAMILIES: &[&str] = &["ipv4-mvpn", "ipv6-mvpn"];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, bytes)) = data.split_first() else {
        return;
    };
    let Some(family) = Family::from_name(FAMILIES[usize::from(pick) % FAMILIES.len()]) else {
        return;
    };
    nlri::check_round_trip(family, bytes);
});
