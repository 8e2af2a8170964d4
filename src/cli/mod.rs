//! The command line's pieces: the tool subcommands (`encode`, `decode`) and the daemon conventions.

pub mod daemon;
pub mod decode;
pub mod encode;
