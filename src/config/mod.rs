//! Configuration: ExaBGP-family syntax, parsed with positions into a typed [`model::Config`].

mod announce;
pub mod api_command;
pub mod bfd;
mod communities;
mod exabgp_compat;
mod family_routes;
pub mod file_cache;
mod flow;
mod group;
pub mod guard;
pub mod healthcheck;
pub mod healthcheck_run;
mod include;
mod inherited;
pub mod ip_addresses;
mod labels;
mod lexer;
pub mod migrate;
pub mod model;
mod neighbor;
mod parser;
mod prefix_sid;
pub mod process;
mod route;
mod route_list;
mod session_options;
mod sr_policy;
mod static_block;
mod summary;
mod template;
mod values;

use std::fmt;
use std::path::Path;
use std::sync::Arc;

pub use family_routes::FIELD_KEYWORDS as FAMILY_ROUTE_FIELDS;
pub use model::{Config, FlowConfig, Location, NeighborConfig, RouteConfig};
pub use static_block::MAX_SPLIT_BITS;
pub use summary::{check_report, summary};

/// Every keyword the parser accepts, by block: the lists the parsers dispatch on and name in
/// their errors. README's configuration reference documents each (tests/readme_keywords.rs).
pub const KEYWORDS: &[(&str, &[&str])] = &[
    ("top level", parser::TOP_LEVEL_KEYWORDS),
    ("neighbor", neighbor::KEYWORDS),
    ("neighbor (session options)", session_options::KEYWORDS),
    ("neighbor (ExaBGP compatibility)", exabgp_compat::KEYWORDS),
    ("confederation", exabgp_compat::CONFEDERATION_KEYWORDS),
    ("capability", session_options::CAPABILITY_KEYWORDS),
    ("role", session_options::ROLE_KEYWORDS),
    ("family (AFI)", neighbor::FAMILY_AFI_KEYWORDS),
    ("family (SAFI)", neighbor::FAMILY_SAFI_KEYWORDS),
    ("static", static_block::KEYWORDS),
    ("route attributes", route::KEYWORDS),
    ("route NLRI options", labels::KEYWORDS),
    ("announce", announce::KEYWORDS),
    (
        "announce (EVPN, VPLS, RTC, MUP, MCAST-VPN, SR Policy)",
        family_routes::KEYWORDS,
    ),
    ("flow", flow::KEYWORDS),
    ("flow route", flow::ROUTE_KEYWORDS),
    ("match", flow::MATCH_KEYWORDS),
    ("then", flow::THEN_KEYWORDS),
    ("template", template::KEYWORDS),
    ("group", group::KEYWORDS),
    ("process", process::KEYWORDS),
    ("process (ExaBGP 2.x/3.x)", process::EARLY_KEYWORDS),
    ("api", process::API_KEYWORDS),
    ("receive", process::RECEIVE_KEYWORDS),
    ("healthcheck", healthcheck::KEYWORDS),
    ("guard", guard::KEYWORDS),
    ("bfd", bfd::KEYWORDS),
];

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

/// Reads and validates a configuration file, one line at a time.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    load_with_notes(path).map(|(config, _)| config)
}

/// [`load`], with the warnings `--check` prints (deprecated spellings, and places where
/// bgpinject does not do what the ExaBGP version the file was written for did).
pub fn load_with_notes(path: &Path) -> Result<(Config, Vec<String>), ConfigError> {
    load_as(path, false)
}

/// [`load`] for a reload of a running daemon: a neighbor block left open at the end of the
/// file, which a start accepts as ExaBGP does, is refused there, because a file cut short
/// by a writer that has not finished looks exactly like it.
pub fn load_for_reload(path: &Path) -> Result<Config, ConfigError> {
    load_as(path, true).map(|(config, _)| config)
}

fn load_as(path: &Path, reload: bool) -> Result<(Config, Vec<String>), ConfigError> {
    let file = include::open_regular(path).map_err(|e| ConfigError {
        location: None,
        message: format!("{}: cannot read: {e}", path.display()),
    })?;
    let (stamped, stamper) = file_cache::StampedFile::new(file);
    let reader = std::io::BufReader::with_capacity(1 << 16, stamped);
    let lexer = lexer::Lexer::from_reader(Box::new(reader));
    let (mut config, notes) = parser::parse_config_as(lexer, Arc::new(path.to_path_buf()), reload)?;
    if let Some(files) = Arc::get_mut(&mut config.files) {
        files.main = Some((path.to_path_buf(), stamper.stamp()));
    }
    Ok((config, notes))
}

/// [`parse_str`], with the warnings `--check` prints.
pub fn parse_str_with_notes(text: &str, file: &Path) -> Result<(Config, Vec<String>), ConfigError> {
    parser::parse_config_with_notes(lexer::Lexer::new(text), Arc::new(file.to_path_buf()))
}

/// A buffered reader of a configuration file (main or included): only a regular file is read
/// (see [`include::open_regular`]).
pub(crate) fn open_for_lexing(path: &Path) -> std::io::Result<std::io::BufReader<std::fs::File>> {
    Ok(std::io::BufReader::with_capacity(
        1 << 16,
        include::open_regular(path)?,
    ))
}

/// Parses configuration text; `file` is used for error locations only.
pub fn parse_str(text: &str, file: &Path) -> Result<Config, ConfigError> {
    parser::parse_config(lexer::Lexer::new(text), Arc::new(file.to_path_buf()))
}

#[cfg(test)]
mod keyword_tests {
    use super::*;

    /// Where each block's keywords are tried: `KW` is replaced by the keyword. The rest of the
    /// statement is missing, so parsing fails, but never with "unknown ... 'KW'".
    const CONTEXTS: &[(&str, &str)] = &[
        ("top level", "KW 192.0.2.1 {"),
        ("neighbor", "neighbor 192.0.2.1 { KW"),
        ("neighbor (session options)", "neighbor 192.0.2.1 { KW"),
        ("neighbor (ExaBGP compatibility)", "neighbor 192.0.2.1 { KW"),
        ("confederation", "neighbor 192.0.2.1 { confederation { KW"),
        ("capability", "neighbor 192.0.2.1 { capability { KW"),
        ("role", "neighbor 192.0.2.1 { role { KW"),
        (
            "family (AFI)",
            "neighbor 192.0.2.1 { family { KW unicast; } }",
        ),
        (
            "family (SAFI)",
            "neighbor 192.0.2.1 { family { ipv4 KW; } }",
        ),
        ("static", "neighbor 192.0.2.1 { static { KW"),
        (
            "route attributes",
            "neighbor 192.0.2.1 { static { route 10.0.0.0/8 KW",
        ),
        (
            "route NLRI options",
            "neighbor 192.0.2.1 { static { route 10.0.0.0/8 KW",
        ),
        ("announce", "neighbor 192.0.2.1 { announce { ipv4 { KW"),
        (
            "announce (EVPN, VPLS, RTC, MUP, MCAST-VPN, SR Policy)",
            "neighbor 192.0.2.1 { announce { ipv4 { KW",
        ),
        ("flow", "neighbor 192.0.2.1 { flow { KW"),
        ("flow route", "neighbor 192.0.2.1 { flow { route r { KW"),
        ("match", "neighbor 192.0.2.1 { flow { route r { match { KW"),
        ("then", "neighbor 192.0.2.1 { flow { route r { then { KW"),
        ("template", "template { KW"),
        ("group", "group g { KW"),
        ("process", "process p { KW"),
        ("process (ExaBGP 2.x/3.x)", "process p { KW"),
        ("api", "neighbor 192.0.2.1 { api { KW"),
        ("receive", "neighbor 192.0.2.1 { api { receive { KW"),
        ("healthcheck", "healthcheck h { KW"),
        ("guard", "guard { KW"),
        ("bfd", "neighbor 192.0.2.1 { bfd { KW"),
    ];

    #[test]
    fn every_listed_keyword_is_dispatched_by_its_parser() {
        assert_eq!(CONTEXTS.len(), KEYWORDS.len());
        for ((block, words), (context_block, context)) in KEYWORDS.iter().zip(CONTEXTS) {
            assert_eq!(block, context_block);
            for kw in *words {
                let text = context.replace("KW", kw);
                let message = match parse_str(&text, Path::new("k.conf")) {
                    Ok(_) => continue,
                    Err(e) => e.message,
                };
                let quoted = format!("'{kw}'");
                assert!(
                    !(message.contains(&quoted)
                        && (message.contains("unknown") || message.contains("unsupported"))),
                    "{block}: '{kw}' is listed but refused: {message}"
                );
            }
            // And a word that is not listed is refused by name.
            let text = context.replace("KW", "no-such-keyword");
            let e = parse_str(&text, Path::new("k.conf")).unwrap_err();
            assert!(
                e.message.contains("no-such-keyword"),
                "{block}: {}",
                e.message
            );
        }
    }
}
