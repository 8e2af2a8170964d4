//! Scale: a large IPv4 table arrives complete and correct at the counting receiver
//! (`bgp-count-receiver`): every prefix counted, End-of-RIB seen, sampled UPDATEs decoded with
//! the configured attributes. Not timed: `make bench` measures speed.
//!
//! The default size keeps `cargo test` (debug) short; `SCALE_ROUTES=1000000 cargo test
//! --release --test scale` runs the million (`make test-scale`).

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

const PORT: u16 = 17_931;

fn routes_wanted() -> u32 {
    std::env::var("SCALE_ROUTES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000)
}

#[test]
fn large_ipv4_table_arrives_complete_with_end_of_rib() {
    let n = routes_wanted();
    let dir = tempfile::tempdir().expect("temp dir");
    let conf = dir.path().join("scale.conf");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&conf).expect("config"));
    writeln!(
        f,
        "neighbor 127.0.0.1 {{\n router-id 192.0.2.1;\n local-address 127.0.0.1;\n local-as 65001;\n peer-as 65002;\n connect {PORT};\n static {{"
    )
    .unwrap();
    for i in 0..n {
        let a = std::net::Ipv4Addr::from(0x0a00_0000 + i);
        writeln!(
            f,
            "  route {a}/32 next-hop 192.0.2.1 med {} community [ 65001:7 ];",
            i % 2
        )
        .unwrap();
    }
    writeln!(f, " }}\n}}").unwrap();
    drop(f);

    let receiver = Command::new(env!("CARGO_BIN_EXE_bgp-count-receiver"))
        .args(["--listen", &format!("127.0.0.1:{PORT}")])
        .args(["--timeout", "900", "--sample-every", "7"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("receiver starts");
    std::thread::sleep(Duration::from_millis(200));
    let mut injector = Command::new(env!("CARGO_BIN_EXE_bgpinject"))
        .args(["--log-level", "warn"])
        .arg(&conf)
        .stderr(Stdio::null())
        .spawn()
        .expect("bgpinject starts");
    let out = receiver.wait_with_output().expect("receiver output");
    let _ = injector.kill();
    let _ = injector.wait();

    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    assert_eq!(report["complete"], true, "{report}");
    assert_eq!(report["ipv4_announced"], n as u64, "{report}");
    let session = &report["sessions"][0];
    assert_eq!(session["end_of_rib"], serde_json::json!(["ipv4 unicast"]));
    assert_eq!(session["withdrawn"], 0);
    let samples = session["samples"].as_array().expect("samples");
    assert!(!samples.is_empty());
    for s in samples {
        assert_eq!(s["next_hop"], "192.0.2.1", "{s}");
        let attrs: Vec<&str> = s["attributes"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|a| a.as_str())
            .collect();
        let text = attrs.join(" | ");
        assert!(text.contains("65001:7"), "community missing: {text}");
        assert!(
            text.to_lowercase().contains("igp"),
            "origin missing: {text}"
        );
        assert!(text.contains("65001"), "AS_PATH missing: {text}");
        // MED alternates 0/1 across prefixes; a group's UPDATE carries one of them.
        assert!(text.contains('0') || text.contains('1'), "{text}");
        assert!(s["prefix"].as_str().unwrap().starts_with("10."), "{s}");
    }
}
