//! BGP sessions: the sans-I/O state machine, and the thread that drives it over TCP.

pub mod backoff;
pub mod core;
pub mod fsm;
pub mod peer;
pub mod socket;
pub mod waker;
