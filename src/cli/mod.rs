//! Subcommands that are tools rather than the daemon.

pub mod decode;
pub mod encode;
