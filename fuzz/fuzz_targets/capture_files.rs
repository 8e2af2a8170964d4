//! `decode --mrt` and `decode --pcap` readers never panic on a file's bytes (the first byte
//! picks the reader).
#![no_main]

use bgpinject::cli::{mrt_input, pcap_input};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, bytes)) = data.split_first() else {
        return;
    };
    if pick & 1 == 0 {
        let _ = mrt_input::read(bytes);
    } else {
        let _ = pcap_input::read(bytes, 65535, 179);
    }
});
