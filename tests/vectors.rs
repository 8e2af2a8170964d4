//! Decodes every test vector (`test-vectors/**/*.vec`), checks each `expect.*` line against
//! the decoder's facts and error action, and re-encodes the valid ones byte for byte.
//! Every problem is collected and reported with file:line, so one run shows them all.

use std::path::{Path, PathBuf};

use bgpinject::testvec::{self, Vector};
use bgpinject::wire::attribute::AttributeContext;
use bgpinject::wire::error::{DecodeError, ErrorAction};
use bgpinject::wire::facts::facts;
use bgpinject::wire::message::{
    DecodeContext, MAX_EXTENDED_MESSAGE_LEN, MAX_MESSAGE_LEN, Message, frame,
};

/// The number of vectors committed: deleting vectors fails the test. Bump it when adding.
const MIN_VECTORS: usize = 630;

/// All vectors with the file they came from.
fn load_all() -> Vec<(PathBuf, Vector)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("test-vectors");
    testvec::load_tree(&root).unwrap_or_else(|e| panic!("{e}"))
}

fn rank(a: &ErrorAction) -> u8 {
    match a {
        ErrorAction::AttributeDiscard => 1,
        ErrorAction::TreatAsWithdraw => 2,
        ErrorAction::SessionReset(_) => 3,
    }
}

/// The strongest action among an UPDATE's problems (RFC 7606 §2: the most severe wins).
fn strongest(problems: &[DecodeError]) -> Option<&ErrorAction> {
    problems.iter().map(|p| &p.action).max_by_key(|a| rank(a))
}

fn type_name(code: u8) -> &'static str {
    match code {
        1 => "OPEN",
        2 => "UPDATE",
        3 => "NOTIFICATION",
        4 => "KEEPALIVE",
        5 => "ROUTE-REFRESH",
        _ => "(unknown type)",
    }
}

fn check(file: &Path, v: &Vector, failures: &mut Vec<String>) {
    let rel = file
        .strip_prefix(env!("CARGO_MANIFEST_DIR"))
        .unwrap_or(file)
        .display()
        .to_string();
    let mut fail = |line: usize, what: String| {
        failures.push(format!("{rel}:{line}: vector `{}`: {what}", v.name));
    };
    let attrs = AttributeContext {
        four_octet_as: v.context.four_octet_as,
    };
    let ctx = DecodeContext {
        attributes: attrs,
        max_message_len: if v.context.extended_message {
            MAX_EXTENDED_MESSAGE_LEN
        } else {
            MAX_MESSAGE_LEN
        },
        add_path: v.context.add_path.iter().copied().collect(),
    };
    let decoded = Message::decode(&v.bytes, ctx);
    let action = match &decoded {
        Ok((_, problems)) => strongest(problems).cloned(),
        Err(e) => Some(e.action.clone()),
    };
    let describe = || match &decoded {
        Ok((_, p)) => p
            .iter()
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
            .join("; "),
        Err(e) => e.to_string(),
    };
    match (v.expected("error"), &action) {
        (Some(e), Some(a)) if e.value != a.to_string() => fail(
            e.line,
            format!(
                "key `error`: expected `{}`, got `{a}` ({})",
                e.value,
                describe()
            ),
        ),
        (Some(e), None) => fail(
            e.line,
            format!("key `error`: expected `{}`, decoded cleanly", e.value),
        ),
        (None, Some(a)) => fail(
            v.line,
            format!(
                "decoded with error `{a}` but has no expect.error: {}",
                describe()
            ),
        ),
        _ => {}
    }
    if decoded.is_ok() && frame(&v.bytes, ctx.max_message_len) != Ok(Some(v.bytes.len())) {
        fail(
            v.line,
            format!("hex has {} bytes, not the message length", v.bytes.len()),
        );
    }
    let actual = match &decoded {
        Ok((m, _)) => facts(m),
        // A rejected message has no facts beyond the type octet of its header.
        Err(_) => v
            .bytes
            .get(18)
            .map(|&t| vec![("type", type_name(t).to_string())])
            .unwrap_or_default(),
    };
    for e in v.expect.iter().filter(|e| e.key != "error") {
        match actual.iter().find(|(k, _)| *k == e.key) {
            Some((_, got)) if *got == e.value => {}
            Some((_, got)) => fail(
                e.line,
                format!("key `{}`: expected `{}`, got `{got}`", e.key, e.value),
            ),
            None => fail(
                e.line,
                format!("key `{}`: expected `{}`, absent", e.key, e.value),
            ),
        }
    }
    if let Ok((m, problems)) = &decoded
        && problems.is_empty()
    {
        let again = m.encode(attrs);
        match (v.context.reencode, again == v.bytes) {
            (true, false) => fail(
                v.line,
                format!(
                    "re-encoding differs:\n  wire: {}\n  ours: {}",
                    hex(&v.bytes),
                    hex(&again)
                ),
            ),
            (false, true) => fail(
                v.line,
                "context.reencode: false but re-encoding is byte-exact; remove it".into(),
            ),
            _ => {}
        }
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[test]
fn every_vector_decodes_as_expected_and_round_trips() {
    let all = load_all();
    let mut failures = Vec::new();
    for (file, v) in &all {
        check(file, v, &mut failures);
    }
    let mut names: Vec<&str> = all.iter().map(|(_, v)| v.name.as_str()).collect();
    names.sort();
    for w in names.windows(2) {
        if w[0] == w[1] {
            failures.push(format!("vector name `{}` is used twice", w[0]));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} vectors failed:\n{}",
        failures.len(),
        all.len(),
        failures.join("\n")
    );
    assert!(
        all.len() >= MIN_VECTORS,
        "only {} vectors, {MIN_VECTORS} are committed: were some deleted?",
        all.len()
    );
}
