//! decode -> encode -> decode gives the same message, and encoding it again gives the
//! same bytes (the first encoding is canonical).
#![no_main]

use bgpinject::wire::message::{DecodeContext, MAX_EXTENDED_MESSAGE_LEN, Message};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let ctx = DecodeContext {
        max_message_len: MAX_EXTENDED_MESSAGE_LEN,
        ..DecodeContext::default()
    };
    if let Ok((msg, problems)) = Message::decode(data, ctx)
        && problems.is_empty()
    {
        let bytes = msg.encode(ctx.attributes);
        let (back, problems) = Message::decode(&bytes, ctx).expect("re-encoding decodes");
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(back, msg);
        assert_eq!(back.encode(ctx.attributes), bytes);
    }
});
