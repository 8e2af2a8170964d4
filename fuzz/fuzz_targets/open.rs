//! OPEN body decoding (capabilities, RFC 9072 parameters) never panics; what decodes
//! re-encodes to something that decodes to the same value.
#![no_main]

use bgpinject::wire::open::Open;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|body: &[u8]| {
    if let Ok(open) = Open::decode(body, 19) {
        let mut again = Vec::new();
        open.emit_body(&mut again);
        assert_eq!(Open::decode(&again, 19).as_ref(), Ok(&open));
    }
});
