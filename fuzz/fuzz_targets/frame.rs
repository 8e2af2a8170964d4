//! `frame` must never panic and never claim more bytes than it was given.
#![no_main]

use bgpinject::wire::message::{MAX_EXTENDED_MESSAGE_LEN, MAX_MESSAGE_LEN, frame};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for max in [MAX_MESSAGE_LEN, MAX_EXTENDED_MESSAGE_LEN] {
        if let Ok(Some(len)) = frame(data, max) {
            assert!(len <= data.len() && len >= 19 && len <= max);
        }
    }
});
