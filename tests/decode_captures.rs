//! `decode --pcap` and `decode --mrt` on files recorded here: tshark captures a session
//! between bgpinject and a real BIRD on loopback, and BIRD writes the same session's messages
//! (BGP4MP) and its table (TABLE_DUMP_V2) as MRT. bgpinject must print every message of both
//! directions (checked against tshark's own count of the capture) and the routes of the MRT
//! files (checked against the configuration).

#![allow(dead_code)]

mod harness;

use std::collections::BTreeMap;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use harness::bgpinject::Bgpinject;
use harness::bird::{BgpProtocol, BirdBuilder};
use harness::{ensure_installed, wait_for};

const BIRD_ADDRESS: &str = "127.0.17.2";
const OUR_ADDRESS: &str = "127.0.17.10";
const PORT: u16 = 17943;

fn decode(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_bgpinject"))
        .arg("decode")
        .args(args)
        .output()
        .expect("bgpinject decode runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// tshark capturing port PORT on lo into `file` (pcapng), stopped by SIGINT on drop.
struct Capture {
    child: Child,
}

impl Capture {
    fn start(file: &std::path::Path) -> Capture {
        ensure_installed("tshark", "tshark");
        let stderr = file.with_extension("stderr");
        let child = Command::new("tshark")
            .args(["-i", "lo", "-f", &format!("tcp port {PORT}"), "-q", "-w"])
            .arg(file)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&stderr).expect("tshark stderr file"))
            .spawn()
            .expect("tshark starts");
        let started = wait_for(Duration::from_secs(20), || {
            std::fs::read_to_string(&stderr)
                .ok()
                .filter(|s| s.contains("Capturing on"))
        });
        assert!(started.is_some(), "tshark did not start capturing");
        // "Capturing on" comes before the capture really runs: knock on the port (nothing
        // listens yet, the SYN is answered by a RST) until the packets reach the file.
        let header = std::fs::metadata(file).map_or(0, |m| m.len());
        let live = wait_for(Duration::from_secs(20), || {
            let _ = std::net::TcpStream::connect_timeout(
                &format!("{BIRD_ADDRESS}:{PORT}").parse().ok()?,
                Duration::from_millis(200),
            );
            std::thread::sleep(Duration::from_millis(200));
            (std::fs::metadata(file).ok()?.len() > header).then_some(())
        });
        assert!(
            live.is_some(),
            "tshark writes nothing to {}",
            file.display()
        );
        Capture { child }
    }

    /// SIGINT, so that tshark flushes the file; then waits for it.
    fn stop(mut self) {
        // SAFETY: kill(2) on the pid of our own child, which has not been reaped yet.
        unsafe {
            libc::kill(self.child.id() as libc::pid_t, libc::SIGINT);
        }
        let _ = self.child.wait();
    }
}

/// The BGP message types tshark sees, per source address, in order.
fn tshark_types(file: &std::path::Path) -> BTreeMap<String, Vec<String>> {
    let out = Command::new("tshark")
        .arg("-r")
        .arg(file)
        .args([
            "-d",
            &format!("tcp.port=={PORT},bgp"),
            "-Y",
            "bgp",
            "-T",
            "fields",
            "-E",
            "occurrence=a",
            "-E",
            "aggregator=,",
            "-e",
            "ip.src",
            "-e",
            "bgp.type",
        ])
        .output()
        .expect("tshark reads the capture");
    let mut by_source: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let (src, types) = line.split_once('\t').unwrap_or((line, ""));
        let names = types.split(',').filter(|t| !t.is_empty()).map(|t| {
            match t {
                "1" => "OPEN",
                "2" => "UPDATE",
                "3" => "NOTIFICATION",
                "4" => "KEEPALIVE",
                "5" => "ROUTE-REFRESH",
                other => other,
            }
            .to_string()
        });
        by_source.entry(src.to_string()).or_default().extend(names);
    }
    by_source
}

#[test]
fn pcap_and_mrt_recorded_from_a_bird_session_decode_completely() {
    let dir = tempfile::tempdir().unwrap();
    let pcap = dir.path().join("session.pcapng");
    let bgp_mrt = dir.path().join("bgp4mp.mrt");
    let table_mrt = dir.path().join("table.mrt");
    let capture = Capture::start(&pcap);

    let mut bird = BirdBuilder::new("192.0.2.2", BIRD_ADDRESS, PORT)
        .extra(&format!(
            "mrtdump \"{}\";\nmrtdump protocols {{ states, messages }};\n\
             protocol mrt {{ table \"master4\"; filename \"{}\"; period 1; }}",
            bgp_mrt.display(),
            table_mrt.display()
        ))
        .bgp(BgpProtocol::new("inject", OUR_ADDRESS, PORT, 65001, 65000).passive(true))
        .start();
    let config = format!(
        "neighbor {BIRD_ADDRESS} {{
            router-id 192.0.2.10; local-address {OUR_ADDRESS}; local-as 65000; peer-as 65001;
            hold-time 30; connect {PORT};
            static {{
                route 198.51.100.0/24 next-hop 192.0.2.10 community [ 65000:1 ]
                    extended-community [ target:65000:7 ] large-community [ 65000:1:2 ];
                route 203.0.113.0/25 next-hop 192.0.2.10 med 20;
            }}
        }}"
    );
    let mut inject = Bgpinject::start(env!("CARGO_BIN_EXE_bgpinject"), &config, "debug");
    bird.wait_established("inject", Duration::from_secs(60));
    let routes = bird.wait_route_count("master4", 2, Duration::from_secs(30));
    assert_eq!(routes.len(), 2, "{}", inject.log());
    // One table dump after the routes are in (BIRD dumps every second).
    let dumped = wait_for(Duration::from_secs(20), || {
        let (code, out) = decode(&["--mrt", table_mrt.to_str()?]);
        out.contains("203.0.113.0/25").then_some((code, out))
    });
    inject.stop();
    std::thread::sleep(Duration::from_millis(500));
    bird.stop();
    capture.stop();
    let log = inject.log();
    assert!(!log.contains("panicked"), "{log}");

    // pcap: every message tshark sees, in order, per direction; with time and endpoints.
    let (code, out) = decode(&[
        "--json",
        "--port",
        &PORT.to_string(),
        "--pcap",
        pcap.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}");
    let mut ours: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for line in out.lines() {
        let v: serde_json::Value = serde_json::from_str(line).expect("JSON line");
        assert!(
            v["time"].as_str().is_some_and(|t| t.ends_with('Z')),
            "{line}"
        );
        let source = v["source"].as_str().unwrap_or_default();
        let address = source.rsplit_once(':').map_or(source, |(a, _)| a);
        ours.entry(address.to_string())
            .or_default()
            .push(v["type"].as_str().unwrap_or("?").to_string());
    }
    let theirs = tshark_types(&pcap);
    assert_eq!(ours, theirs, "decode --pcap and tshark disagree");
    for side in [BIRD_ADDRESS, OUR_ADDRESS] {
        let types = ours.get(side).unwrap_or_else(|| {
            panic!(
                "nothing from {side}: {ours:?}; capture of {:?} octets; decode said {out}",
                std::fs::metadata(&pcap).map(|m| m.len())
            )
        });
        assert!(
            types.contains(&"OPEN".to_string()) && types.contains(&"KEEPALIVE".to_string()),
            "{side}: {types:?}"
        );
    }
    assert!(ours[OUR_ADDRESS].contains(&"UPDATE".to_string()));
    assert!(ours[OUR_ADDRESS].contains(&"NOTIFICATION".to_string()));
    let (_, text) = decode(&[
        "--port",
        &PORT.to_string(),
        "--pcap",
        pcap.to_str().unwrap(),
    ]);
    assert!(
        text.contains("extended-community [target:65000:7]"),
        "{text}"
    );
    assert!(text.contains(&format!("{OUR_ADDRESS}:")), "{text}");

    // MRT written by BIRD: the table dump has both routes with our AS and attributes, the
    // BGP4MP dump has the UPDATEs bgpinject sent.
    let (code, table) = dumped.expect("a BIRD table dump with our routes");
    assert_eq!(code, 0, "{table}");
    assert!(!table.contains("problem"), "{table}");
    assert!(table.contains("next-hop 192.0.2.10;"), "{table}");
    assert!(
        table.contains("TABLE_DUMP_V2 ipv4-unicast 198.51.100.0/24"),
        "{table}"
    );
    assert!(
        table.contains(&format!("peer {OUR_ADDRESS} AS65000")),
        "{table}"
    );
    assert!(table.contains("community [65000:1]"), "{table}");
    assert!(
        table.contains("extended-community [target:65000:7]"),
        "{table}"
    );
    assert!(table.contains("large-community [65000:1:2]"), "{table}");
    let (_, json_table) = decode(&["--json", "--mrt", table_mrt.to_str().unwrap()]);
    assert!(json_table.contains("\"record\":\"rib\""), "{json_table}");
    let (code, messages) = decode(&["--mrt", bgp_mrt.to_str().unwrap()]);
    assert_eq!(code, 0, "{messages}");
    assert!(messages.contains("state "), "{messages}");
    assert!(messages.contains("OPEN version 4 asn 65000"), "{messages}");
    assert!(messages.contains("198.51.100.0/24"), "{messages}");
    assert!(messages.contains("med 20"), "{messages}");
}
