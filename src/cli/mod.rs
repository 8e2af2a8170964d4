//! Subcommands that are not the daemon.

pub mod decode;
