//! The command line's pieces: the tool subcommands (`encode`, `decode`) and the daemon conventions.

pub mod daemon;
pub mod decode;
mod decode_capture;
pub mod encode;
pub mod migrate;
pub mod mrt_input;
pub mod pcap_input;
