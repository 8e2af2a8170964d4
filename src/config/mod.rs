//! Configuration: ExaBGP-family syntax, parsed with positions into a typed [`model::Config`].

mod announce;
pub mod api_command;
mod communities;
mod flow;
pub mod healthcheck;
mod include;
mod labels;
mod lexer;
pub mod model;
mod neighbor;
mod parser;
pub mod process;
mod route;
mod session_options;
mod static_block;
mod summary;
mod template;
mod values;

use std::fmt;
use std::path::Path;
use std::sync::Arc;

pub use model::{Config, FlowConfig, Location, NeighborConfig, RouteConfig};
pub use static_block::MAX_SPLIT_BITS;
pub use summary::summary;

/// A configuration error, rendered as `FILE:LINE:COL: what was expected, what was found`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    /// `None` only when the file itself could not be read.
    pub location: Option<Location>,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.location {
            Some(l) => write!(f, "{l}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for ConfigError {}

/// Reads and validates a configuration file.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
        location: None,
        message: format!("{}: cannot read: {e}", path.display()),
    })?;
    parse_str(&text, path)
}

/// Parses configuration text; `file` is used for error locations only.
pub fn parse_str(text: &str, file: &Path) -> Result<Config, ConfigError> {
    parser::parse_config(text, Arc::new(file.to_path_buf()))
}
