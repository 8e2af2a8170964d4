//! Turning each peer's spelling of attributes into the common form of [`super::ReceivedRoute`].

/// Numeric form of a well-known community as the peers name it (RFC 1997, RFC 7999, RFC 8326,
/// RFC 3765), or the `H:L` text itself.
pub fn community(text: &str) -> String {
    let key: String = text
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_ascii_lowercase();
    let known = match key.as_str() {
        "noexport" => "65535:65281",
        "noadvertise" => "65535:65282",
        "noexportsubconfed" | "localas" => "65535:65283",
        "nopeer" => "65535:65284",
        "blackhole" => "65535:666",
        "gracefulshutdown" => "65535:0",
        "acceptownnexthop" => "65535:3",
        "acceptown" => "65535:1",
        "llgrstale" => "65535:6",
        "nollgr" => "65535:7",
        _ => return text.to_string(),
    };
    known.to_string()
}

/// A 32-bit community value as `H:L`.
pub fn community_u32(v: u32) -> String {
    format!("{}:{}", v >> 16, v & 0xffff)
}

/// `igp`, `egp`, `incomplete` from `IGP`, `i`, `?`, `0`...
pub fn origin(text: &str) -> String {
    match text.to_ascii_lowercase().as_str() {
        "igp" | "i" | "0" => "igp",
        "egp" | "e" | "1" => "egp",
        "incomplete" | "?" | "2" => "incomplete",
        other => return other.to_string(),
    }
    .to_string()
}

/// `target:A:B` / `origin:A:B` from `RT:A:B`, `rt A:B`, `SoO:A:B`, `soo A:B`, `target:A:B`.
pub fn ext_community(text: &str) -> String {
    let t = text.trim();
    let (kind, rest) = match t.split_once([' ', ':']) {
        Some(x) => x,
        None => return t.to_string(),
    };
    let kind = match kind.to_ascii_lowercase().as_str() {
        "rt" | "target" => "target",
        "soo" | "origin" => "origin",
        _ => return t.to_string(),
    };
    format!("{kind}:{}", rest.trim())
}

/// Sorts and returns.
pub fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

/// An extended community (RFC 4360) from its 8 octets as a number: route targets and origins
/// of the two-octet-AS (0x00), IPv4 (0x01) and four-octet-AS (0x02) types, transitive or not,
/// as `target:A:B` / `origin:A:B`; anything else as raw `0x` and 16 hex digits.
pub fn ext_community_u64(v: u64) -> String {
    let kind = match (v >> 48) & 0xff {
        2 => "target",
        3 => "origin",
        _ => return format!("0x{v:016x}"),
    };
    match (v >> 56) & 0xbf {
        0x00 => format!("{kind}:{}:{}", (v >> 32) & 0xffff, v & 0xffff_ffff),
        0x01 => format!(
            "{kind}:{}:{}",
            std::net::Ipv4Addr::from(((v >> 16) & 0xffff_ffff) as u32),
            v & 0xffff
        ),
        0x02 => format!("{kind}:{}:{}", (v >> 16) & 0xffff_ffff, v & 0xffff),
        _ => format!("0x{v:016x}"),
    }
}
