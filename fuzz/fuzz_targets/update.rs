//! UPDATE body decoding with RFC 7606 handling never panics, in both AS widths.
#![no_main]

use bgpinject::wire::attribute::AttributeContext;
use bgpinject::wire::family::FamilySet;
use bgpinject::wire::update::Update;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|body: &[u8]| {
    for four_octet_as in [true, false] {
        let ctx = AttributeContext { four_octet_as };
        if let Ok(d) = Update::decode(body, 19, ctx, FamilySet::default()) {
            let mut again = Vec::new();
            d.update.emit_body(ctx, &mut again);
            let _ = Update::decode(&again, 19, ctx, FamilySet::default());
        }
    }
});
