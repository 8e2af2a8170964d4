//! BFD Control packet decoding never panics; what decodes re-encodes to the same packet,
//! and a session fed it (as single-hop and multihop) never panics either.
#![no_main]

use std::time::{Duration, Instant};

use bgpinject::bfd::packet::Packet;
use bgpinject::bfd::session::{Params, Session};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    if let Ok(p) = Packet::decode(bytes) {
        assert_eq!(Packet::decode(&p.emit()), Ok(p));
        let now = Instant::now();
        for multihop in [false, true] {
            let params = Params {
                min_tx: Duration::from_millis(100),
                min_rx: Duration::from_millis(100),
                multiplier: 3,
                multihop,
            };
            let mut s = Session::new(params, 1, 1, now);
            let _ = s.handle_packet(&p, Some(255), now);
            s.handle_timeout(now + Duration::from_secs(1));
            while s.poll_transmit().is_some() {}
            while s.poll_event().is_some() {}
        }
    }
});
