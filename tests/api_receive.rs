//! `api { receive { parsed; update; } }`: the UPDATEs the peer sends reach the neighbor's
//! helpers, decoded, in ExaBGP's JSON or text form. BIRD exports one route to bgpinject.

mod harness;

use std::time::Duration;

use harness::bgpinject::Bgpinject;
use harness::bird::{BgpProtocol, BirdBuilder};
use harness::wait_for;

const BIN: &str = env!("CARGO_BIN_EXE_bgpinject");

#[test]
fn helpers_get_the_updates_the_peer_sends() {
    let bird = BirdBuilder::new("192.0.2.1", "127.0.0.141", 17986)
        .extra("protocol static { ipv4; route 203.0.113.0/24 blackhole; }\n")
        .bgp(
            BgpProtocol::new("recv", "127.0.0.142", 179, 65001, 65000)
                .passive(true)
                .export("all"),
        )
        .start();
    let dir = tempfile::tempdir().unwrap();
    let json_file = dir.path().join("json.out");
    let text_file = dir.path().join("text.out");
    let config = format!(
        "process as-json {{ run /bin/sh -c 'cat > {json}'; encoder json; }}
process as-text {{ run /bin/sh -c 'cat > {text}'; encoder text; }}
neighbor 127.0.0.141 {{
    router-id 192.0.2.10; local-address 127.0.0.142; local-as 65000; peer-as 65001;
    connect 17986;
    api {{ processes [ as-json as-text ]; receive {{ parsed; update; }} }}
    static {{ route 198.51.100.0/24 next-hop 192.0.2.10; }}
}}
",
        json = json_file.display(),
        text = text_file.display()
    );
    let inj = Bgpinject::start(BIN, &config, "debug");
    bird.wait_established("recv", Duration::from_secs(30));
    let read = |f: &std::path::Path| std::fs::read_to_string(f).unwrap_or_default();
    let got = wait_for(Duration::from_secs(20), || {
        (read(&json_file).contains("203.0.113.0/24") && read(&text_file).contains("203.0.113.0/24"))
            .then_some(())
    });
    assert!(
        got.is_some(),
        "json: {}\ntext: {}\nlog: {}",
        read(&json_file),
        read(&text_file),
        inj.log()
    );
    // The JSON line of the announcement, parsed.
    let line = read(&json_file)
        .lines()
        .find(|l| l.contains("203.0.113.0/24"))
        .unwrap_or_default()
        .to_string();
    let v: serde_json::Value = serde_json::from_str(&line).expect("JSON");
    assert_eq!(v["type"], "update", "{line}");
    let message = &v["neighbor"]["message"]["update"];
    assert_eq!(message["attribute"]["origin"], "igp", "{line}");
    assert_eq!(
        message["attribute"]["as-path"],
        serde_json::json!([65001]),
        "{line}"
    );
    let announce = &message["announce"]["ipv4 unicast"];
    let nlri: Vec<String> = announce
        .as_object()
        .and_then(|o| o.values().next())
        .and_then(|v| v.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|x| x["nlri"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(nlri, vec!["203.0.113.0/24".to_string()], "{line}");
    assert!(
        read(&text_file)
            .contains("neighbor 127.0.0.141 receive update announced 203.0.113.0/24 next-hop"),
        "{}",
        read(&text_file)
    );
    // A neighbor without `receive` sends nothing of the sort: only asked-for updates go out.
    assert!(!read(&text_file).contains("198.51.100.0/24"));
}
