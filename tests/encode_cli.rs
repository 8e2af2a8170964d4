//! `bgpinject encode` sends what the daemon would: the configured AS4 capability, and each
//! community once. Expectations are the RFC layouts written out by hand from the
//! configuration below.

use std::process::Command;

const CONFIG: &str = "neighbor 127.0.0.1 {
    router-id 1.2.3.4; local-as 65001; peer-as 65002;
    capability { asn4 disable; }
    static {
        route 203.0.113.0/24 next-hop 192.0.2.1 as-path [ 65001 4200000001 ] large-community [ 65001:1:1 65001:1:1 ] community [ 65001:5 65001:5 ];
    }
}
";

fn encode(config: &str) -> Vec<String> {
    let dir = std::env::temp_dir().join(format!("bgpinject-encode-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("a.conf");
    std::fs::write(&path, config).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_bgpinject"))
        .arg("encode")
        .arg(&path)
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(String::from)
        .collect()
}

#[test]
fn asn4_disable_is_followed_without_as2() {
    let lines = encode(CONFIG);
    assert_eq!(lines.len(), 3, "{lines:?}");
    // OPEN (type 1, version 4): My AS 65001 (fde9), no capability 65 (RFC 6793) among the optional parameters.
    let open = &lines[0];
    assert_eq!(&open[36..40], "0104", "{open}");
    assert_eq!(&open[40..44], "fde9", "{open}");
    let params = &open[58..];
    assert!(!params.contains("4104"), "AS4 capability sent: {open}");
    let update = &lines[1];
    // AS_PATH in 2-octet form: one sequence of 65001 and AS_TRANS (23456 = 5ba0) ...
    assert!(update.contains("4002060202fde95ba0"), "{update}");
    // ... and the real path in AS4_PATH (type 17): 65001 4200000001 (fa56ea01).
    assert!(update.contains("c0110a02020000fde9fa56ea01"), "{update}");
    // Each community once: COMMUNITIES of 4 octets, LARGE_COMMUNITY of 12.
    assert!(update.contains("c00804fde90005"), "{update}");
    assert!(
        update.contains("c0200c0000fde90000000100000001"),
        "{update}"
    );
    assert_eq!(
        update.matches("0000fde90000000100000001").count(),
        1,
        "{update}"
    );
}
