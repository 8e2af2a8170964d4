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

/// `adj-rib-in true`: the routes BIRD sends are kept and shown by `show adj-rib in` (control
/// socket), each once, with BIRD's attributes; a route BIRD withdraws leaves the table;
/// `clear adj-rib in` empties it; and nothing learned is announced (`show adj-rib out`
/// lists the file's route alone). A neighbor without the switch shows nothing.
#[test]
fn adj_rib_in_keeps_what_the_peer_sends_for_show_and_never_announces_it() {
    let bird = BirdBuilder::new("192.0.2.1", "127.0.41.1", 18350)
        .extra(
            "protocol static st1 { ipv4; route 203.0.113.0/24 blackhole; route 203.0.113.128/25 blackhole; }\n",
        )
        .bgp(
            BgpProtocol::new("adjin", "127.0.41.2", 179, 65001, 65000)
                .passive(true)
                .export("all"),
        )
        .start();
    // A helper that floods `show adj-rib in` and never reads its answers: the daemon must
    // keep answering the control socket and keep the session (bounded: 20 000 commands).
    let config = "process flood { run /bin/sh -c 'for i in $(seq 1 20000); do echo \"show adj-rib in\"; done; sleep 60'; }
neighbor 127.0.41.1 {
    router-id 192.0.2.10; local-address 127.0.41.2; local-as 65000; peer-as 65001;
    connect 18350;
    adj-rib-in true;
    api { processes [ flood ]; }
    static { route 198.51.100.0/24 next-hop 192.0.2.10; }
}
";
    let inj = Bgpinject::start(BIN, config, "info");
    bird.wait_established("adjin", Duration::from_secs(30));
    let socket = inj.dir().join("control.sock");
    let ctl = |command: &str| -> String {
        let out = std::process::Command::new(BIN)
            .arg("ctl")
            .arg("--socket")
            .arg(&socket)
            .args(command.split(' '))
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let both = wait_for(Duration::from_secs(20), || {
        let shown = ctl("show adj-rib in");
        (shown.contains("203.0.113.0/24") && shown.contains("203.0.113.128/25")).then_some(shown)
    });
    let shown = both.unwrap_or_else(|| panic!("{}\nlog: {}", ctl("show adj-rib in"), inj.log()));
    let line = shown
        .lines()
        .find(|l| l.contains("203.0.113.0/24"))
        .unwrap_or_default();
    assert!(
        line.starts_with("neighbor 127.0.41.1 ipv4 unicast 203.0.113.0/24 next-hop 127.0.41.1")
            && line.contains("as-path [65001]")
            && line.contains("origin igp"),
        "{shown}"
    );
    assert_eq!(
        shown.lines().filter(|l| l.contains("203.0.113.")).count(),
        2,
        "{shown}"
    );
    // Learned routes are never announced.
    let out = ctl("show adj-rib out");
    assert!(
        out.contains("198.51.100.0/24") && !out.contains("203.0.113."),
        "{out}"
    );
    // BIRD withdraws one: it leaves the table.
    bird.birdc(&["disable", "st1"]);
    let gone = wait_for(Duration::from_secs(20), || {
        (!ctl("show adj-rib in").contains("203.0.113.")).then_some(())
    });
    assert!(gone.is_some(), "{}", ctl("show adj-rib in"));
    bird.birdc(&["enable", "st1"]);
    let back = wait_for(Duration::from_secs(20), || {
        ctl("show adj-rib in")
            .contains("203.0.113.128/25")
            .then_some(())
    });
    assert!(back.is_some(), "{}", ctl("show adj-rib in"));
    assert!(ctl("clear adj-rib in").trim_end().ends_with("done"));
    assert!(!ctl("show adj-rib in").contains("203.0.113."));
    inj.assert_no_resets(1);
}

/// `show adj-rib in` in ExaBGP's JSON layout: asked with `json` over the control socket
/// (with `extensive`: the neighbor's fields), and answered in JSON to a helper whose
/// encoder is json without the word, as ExaBGP does. The routes are BIRD's, as its
/// configuration below writes them.
#[test]
fn adj_rib_in_json_is_exabgps_layout() {
    let bird = BirdBuilder::new("192.0.2.1", "127.0.56.11", 19110)
        .extra(
            "protocol static st1 { ipv4; route 203.0.113.0/24 blackhole; route 203.0.113.128/25 blackhole; }\n",
        )
        .bgp(
            BgpProtocol::new("adjin", "127.0.56.12", 179, 65001, 65000)
                .passive(true)
                .export("all"),
        )
        .start();
    let dir = tempfile::tempdir().unwrap();
    let answer = dir.path().join("answer.txt");
    let config = format!(
        "process rib {{ run /bin/sh -c 'sleep 4; echo \"show adj-rib in\"; cat > {answer}'; encoder json; }}
neighbor 127.0.56.11 {{
    router-id 192.0.2.10; local-address 127.0.56.12; local-as 65000; peer-as 65001;
    connect 19110;
    adj-rib-in true;
    api {{ processes [ rib ]; }}
    static {{ route 198.51.100.0/24 next-hop 192.0.2.10; }}
}}
",
        answer = answer.display()
    );
    let inj = Bgpinject::start(BIN, &config, "info");
    bird.wait_established("adjin", Duration::from_secs(30));
    let socket = inj.dir().join("control.sock");
    let ctl = |command: &str| -> String {
        let out = std::process::Command::new(BIN)
            .arg("ctl")
            .arg("--socket")
            .arg(&socket)
            .args(command.split(' '))
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    // The JSON object: the answer's lines before `done`.
    let object = |text: &str| -> Option<serde_json::Value> {
        let start = text.find("{")?;
        let end = text.rfind("}")?;
        serde_json::from_str(text.get(start..=end)?).ok()
    };
    let want = serde_json::json!({
        "127.0.56.11": { "routes": [
            { "prefix": "203.0.113.0/24", "family": "ipv4 unicast" },
            { "prefix": "203.0.113.128/25", "family": "ipv4 unicast" },
        ] }
    });
    let shown = wait_for(Duration::from_secs(20), || {
        let text = ctl("show adj-rib in json");
        (object(&text)? == want).then_some(text)
    });
    let text =
        shown.unwrap_or_else(|| panic!("{}\nlog: {}", ctl("show adj-rib in json"), inj.log()));
    // ExaBGP's json.dumps(..., indent=4): four spaces a level, one element a line.
    assert!(
        text.starts_with("{\n    \"127.0.56.11\": {\n        \"routes\": [\n            {\n                \"prefix\": \"203.0.113.0/24\",\n                \"family\": \"ipv4 unicast\"\n            },"),
        "{text}"
    );
    assert!(text.trim_end().ends_with("}\ndone"), "{text}");
    let ext = object(&ctl("show adj-rib in json extensive")).unwrap();
    let n = &ext["127.0.56.11"];
    assert_eq!(n["routes"], want["127.0.56.11"]["routes"]);
    assert_eq!(n["local-ip"], "127.0.56.12");
    assert_eq!(n["local-as"], 65000);
    assert_eq!(n["peer-as"], 65001);
    assert_eq!(n["router-id"], "192.0.2.10");
    assert_eq!(n["family-allowed"], "in-open");
    // The helper with `encoder json` asked without the word: JSON too.
    let helper = wait_for(Duration::from_secs(20), || {
        let text = std::fs::read_to_string(&answer).ok()?;
        text.contains("done").then_some(text)
    })
    .unwrap_or_else(|| panic!("no answer for the helper\n{}", inj.log()));
    let before_done = helper.split("done").next().unwrap_or_default();
    assert_eq!(object(before_done), Some(want), "{helper}");
    inj.assert_no_resets(1);
}
