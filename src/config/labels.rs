//! The route statements that make a route more than a unicast prefix: `label`,
//! `rd` (`route-distinguisher`) and `path-information` (RFC 7911 path identifier).

use std::net::Ipv4Addr;

use crate::wire::labeled::{MAX_LABEL, RouteDistinguisher};

use super::ConfigError;
use super::lexer::{Position, Token};
use super::model::NlriOptions;
use super::parser::{Parser, Setting};
use super::values::{self, ValueError};

/// The route keywords this module parses.
pub const KEYWORDS: &[&str] = &["label", "rd", "route-distinguisher", "path-information"];

/// What the statements said, each given once.
#[derive(Default)]
pub(super) struct NlriSettings {
    rd: Setting<(RouteDistinguisher, Position)>,
    labels: Setting<Vec<u32>>,
    path_id: Setting<u32>,
}

fn label(text: &str) -> Result<u32, ValueError> {
    values::number_in(text, 0, MAX_LABEL as u64, "0..1048575 (20 bits)").map(|n| n as u32)
}

pub(super) fn rd(text: &str) -> Result<RouteDistinguisher, ValueError> {
    text.parse().map_err(|_| ValueError::Malformed {
        expected: "a route distinguisher ASN:N (type 0 or 2) or A.B.C.D:N (type 1)",
    })
}

/// A path identifier: a number or, as ExaBGP writes it, a dotted quad.
pub(super) fn path_id(text: &str) -> Result<u32, ValueError> {
    if let Ok(a) = text.parse::<Ipv4Addr>() {
        return Ok(u32::from(a));
    }
    values::u32_value(text).map_err(|_| ValueError::Malformed {
        expected: "a path identifier: 0..4294967295 or A.B.C.D",
    })
}

/// Parses one statement whose keyword is in [`KEYWORDS`], without its `;`.
pub(super) fn parse(
    p: &mut Parser,
    kw: &Token,
    name: &dyn std::fmt::Display,
    s: &mut NlriSettings,
) -> Result<(), ConfigError> {
    match kw.text.as_str() {
        "label" => {
            let tokens = p.word_or_list("label")?;
            let labels = tokens
                .iter()
                .map(|t| {
                    label(&t.text).map_err(|e| {
                        if t.text.contains(':') {
                            // 1.2.0-1.3.4 parsed `label` values as communities (a bug).
                            return p.error_at(
                                t.position,
                                format!("label {}: an MPLS label is a number (0..1048575); the original injector (1.2 to 1.3.4) sent label values as communities, a bug bgpinject does not copy: write 'community [ {} ]' for what that version sent", t.text, t.text),
                            );
                        }
                        p.bad_value("label", t, e)
                    })
                })
                .collect::<Result<Vec<u32>, _>>()?;
            if labels.is_empty() {
                return Err(p.error_at(kw.position, format!("empty label list in {name}")));
            }
            s.labels.set(p, kw, name, labels)
        }
        "path-information" => {
            let (id, _) = p.value("path-information", path_id)?;
            s.path_id.set(p, kw, name, id)
        }
        _ => {
            let (rd, token) = p.value(&kw.text, rd)?;
            s.rd.set(p, kw, name, (rd, token.position))
        }
    }
}

/// The options; a VPN route (with `rd`) needs a label.
pub(super) fn finish(
    p: &Parser,
    name: &dyn std::fmt::Display,
    s: NlriSettings,
) -> Result<NlriOptions, ConfigError> {
    let labels = s.labels.take().unwrap_or_default();
    let rd = s.rd.take();
    if let Some((_, at)) = rd
        && labels.is_empty()
    {
        return Err(p.error_at(
            at,
            format!("{name} has a route distinguisher but no label, expected 'label N;' too (RFC 4364 VPN routes carry one)"),
        ));
    }
    Ok(NlriOptions {
        safi: None,
        rd: rd.map(|(rd, _)| rd),
        labels,
        path_id: s.path_id.take(),
    })
}
