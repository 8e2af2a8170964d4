//! BFD (RFC 5880 asynchronous mode, RFC 5881 single-hop, RFC 5883 multihop) for the BGP
//! sessions that ask for it: `packet` is the codec, `session` the sans-I/O state machine,
//! `service` the one thread that owns the sockets and drives every session.

pub mod packet;
pub mod service;
pub mod session;
pub mod socket;

pub use session::Params;
