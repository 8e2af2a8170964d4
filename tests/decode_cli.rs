//! `bgpinject decode --json` on every test vector: one line of valid JSON each, with the
//! exit status saying whether the message decoded cleanly.

use std::path::Path;

use bgpinject::cli::decode::run_with;
use bgpinject::testvec;

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn decode(args: &[String]) -> (i32, String) {
    let mut out = Vec::new();
    let code = run_with(args, &mut &b""[..], &mut out);
    (code, String::from_utf8(out).expect("output is UTF-8"))
}

#[test]
fn every_vector_decodes_to_one_json_object() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("test-vectors");
    let all = testvec::load_tree(&root).unwrap_or_else(|e| panic!("{e}"));
    assert!(!all.is_empty());
    for (file, v) in &all {
        let mut args = vec!["--json".to_string()];
        if !v.context.four_octet_as {
            args.push("--as2".into());
        }
        if !v.context.add_path.is_empty() {
            let names: Vec<String> = v.context.add_path.iter().map(|f| f.name()).collect();
            args.push(format!("--add-path={}", names.join(",")));
        }
        args.push(hex(&v.bytes));
        let (code, out) = decode(&args);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 1, "{}: {}: {out}", file.display(), v.name);
        let json: serde_json::Value = serde_json::from_str(lines[0])
            .unwrap_or_else(|e| panic!("{}: {}: {e}: {out}", file.display(), v.name));
        let problems = json["problems"].as_array().map(Vec::len).unwrap_or(0);
        let expect_error = v.expected("error").is_some();
        assert_eq!(
            (code, problems > 0),
            (i32::from(expect_error), expect_error),
            "{}: {}: {out}",
            file.display(),
            v.name
        );
        if let Some(t) = v.expected("type") {
            assert_eq!(json["type"], t.value.as_str(), "{}", v.name);
        }
        // The text form must not panic either, and says the same thing about errors.
        let (text_code, _) = decode(&args[1..]);
        assert_eq!(text_code, code, "{}", v.name);
    }
}

#[test]
fn all_vectors_on_stdin_in_one_run() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("test-vectors/handmade");
    let all = testvec::load_tree(&root).unwrap_or_else(|e| panic!("{e}"));
    let input: String = all
        .iter()
        .filter(|(_, v)| v.context.four_octet_as && v.context.add_path.is_empty())
        .map(|(_, v)| hex(&v.bytes) + "\n")
        .collect();
    let mut out = Vec::new();
    let code = run_with(&["--json".to_string()], &mut input.as_bytes(), &mut out);
    let text = String::from_utf8(out).expect("UTF-8");
    assert_eq!(code, 0, "{text}");
    assert_eq!(text.lines().count(), input.lines().count());
    for line in text.lines() {
        serde_json::from_str::<serde_json::Value>(line).expect("valid JSON");
    }
}

#[test]
fn add_path_shows_path_ids_in_json() {
    // Classic NLRI 198.51.100.0/24 with path id 2, and MP_UNREACH 2001:db8:1::/48 with 11.
    let msg = "ffffffffffffffffffffffffffffffff004402000000254001010040020602010000fde9\
               400304c0000201800f0e0002010000000b3020010db800010000000218c63364"
        .to_string();
    let (code, out) = decode(&[
        "--json".into(),
        "--add-path".into(),
        "ipv4-unicast,ipv6-unicast".into(),
        msg.clone(),
    ]);
    assert_eq!(code, 0, "{out}");
    let v: serde_json::Value = serde_json::from_str(out.trim()).expect("JSON");
    assert_eq!(
        v["nlri"],
        serde_json::json!([{"prefix": "198.51.100.0/24", "path_id": 2}])
    );
    let unreach = &v["attributes"][3]["value"]["nlri"];
    assert_eq!(
        unreach,
        &serde_json::json!([{"prefix": "2001:db8:1::/48", "path_id": 11}]),
        "{out}"
    );
    // Without --add-path the same bytes are not valid prefixes; a bad name is a usage error.
    assert_eq!(decode(&["--json".into(), msg]).0, 1);
    assert_eq!(decode(&["--add-path".into(), "ipv5-unicast".into()]).0, 2);
}

/// A reader that stops reading (`bgpinject decode | head -1`) ends the command quietly,
/// by SIGPIPE as other Unix tools, not with a panic message.
#[test]
fn a_closed_output_pipe_ends_decode_without_a_panic() {
    use std::io::{BufRead, BufReader, Write};
    use std::os::unix::process::ExitStatusExt;
    use std::process::{Command, Stdio};

    let mut child = Command::new(env!("CARGO_BIN_EXE_bgpinject"))
        .arg("decode")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("bgpinject runs");
    let mut stdin = child.stdin.take().expect("stdin");
    let writer = std::thread::spawn(move || {
        for _ in 0..200_000 {
            if stdin
                .write_all(b"ffffffffffffffffffffffffffffffff001304\n")
                .is_err()
            {
                break;
            }
        }
    });
    let mut first = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut first)
        .expect("one line");
    assert_eq!(first.trim(), "KEEPALIVE");
    // stdout is closed here: the next write gets EPIPE.
    let out = child.wait_with_output().expect("bgpinject ends");
    let _ = writer.join();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(out.status.signal(), Some(libc::SIGPIPE), "{:?}", out.status);
}

/// Every FlowSpec rule `decode` prints, pasted into a configuration's `flow { }` block,
/// parses back to the same NLRI bytes: the decoded words are the configuration's words.
#[test]
fn decoded_flow_rules_paste_back_into_a_configuration() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("test-vectors");
    let all = testvec::load_tree(&root).unwrap_or_else(|e| panic!("{e}"));
    let mut pasted = 0;
    for (_, v) in all.iter().filter(|(_, v)| v.expected("error").is_none()) {
        let (_, out) = decode(&[hex(&v.bytes)]);
        for block in out.lines().filter_map(|l| l.trim().strip_prefix("flow ")) {
            let conf = format!(
                "neighbor 127.0.0.1 {{ router-id 192.0.2.1; local-as 65000; peer-as 65001;
                   flow {block} }}"
            );
            let parsed = bgpinject::config::parse_str(&conf, Path::new("pasted.conf"))
                .unwrap_or_else(|e| panic!("{}: {block}: {e}", v.name));
            let rule = &parsed.neighbors[0].flows[0].rule;
            let wire = hex(&rule.encode());
            assert!(
                hex(&v.bytes).contains(&wire),
                "{}: {block} encodes as {wire}, not found in the message",
                v.name
            );
            pasted += 1;
        }
    }
    assert!(pasted >= 50, "only {pasted} flow rules decoded");
}

/// The capture and MRT files recorded from a BIRD session (test-vectors/captures/README.md)
/// decode completely: every message of both directions, every route of the table dumps.
#[test]
fn committed_captures_and_mrt_files_decode_completely() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("test-vectors/captures");
    let path = |f: &str| dir.join(f).to_string_lossy().into_owned();
    let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();

    let (code, out) = decode(&args(&[
        "--port",
        "17943",
        "--pcap",
        &path("bgpinject-bird-port17943.pcapng"),
    ]));
    assert_eq!(code, 0, "{out}");
    let from = |who: &str| {
        out.lines()
            .filter(|l| l.split(' ').nth(1).is_some_and(|s| s.starts_with(who)))
            .map(|l| l.split(' ').nth(4).unwrap_or_default())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        from("127.0.17.10:"),
        [
            "OPEN",
            "KEEPALIVE",
            "UPDATE",
            "UPDATE",
            "UPDATE",
            "NOTIFICATION"
        ],
        "{out}"
    );
    assert_eq!(
        from("127.0.17.2:"),
        ["OPEN", "KEEPALIVE", "UPDATE"],
        "{out}"
    );

    let (code, out) = decode(&args(&["--mrt", &path("bird-2.0.12-table-dump-v2.mrt")]));
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("TABLE_DUMP_V2 ipv4-unicast 198.51.100.0/24\n  peer 127.0.17.10 AS65000"),
        "{out}"
    );
    // BIRD adds the LOCAL_PREF the test harness configures as its default (1234567).
    for part in [
        "origin igp; as-path [65000]; next-hop 192.0.2.10; local-preference 1234567;",
        "community [65000:1]; extended-community [target:65000:7]; large-community [65000:1:2];",
    ] {
        assert!(out.contains(part), "{part}: {out}");
    }
    assert!(out.contains("med 20;"), "{out}");

    let (code, out) = decode(&args(&["--json", "--mrt", &path("bird-2.0.12-bgp4mp.mrt")]));
    assert_eq!(code, 0, "{out}");
    let records: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON"))
        .collect();
    let updates: Vec<&serde_json::Value> = records
        .iter()
        .filter(|r| r["record"] == "message" && r["type"] == "UPDATE")
        .collect();
    assert_eq!(updates.len(), 3, "{out}");
    assert_eq!(updates[0]["nlri"][0], "198.51.100.0/24");
    assert_eq!(updates[0]["peer"]["asn"], 65000);
    assert!(
        records
            .iter()
            .any(|r| r["record"] == "state-change" && r["to"] == "Established")
    );
}

/// Mutated capture and MRT files (bit flips, cuts, inserted bytes) never make the readers
/// panic. Bounded: 1500 mutations per file, deterministic.
#[test]
fn mutated_captures_and_mrt_files_never_panic() {
    use bgpinject::cli::{mrt_input, pcap_input};
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("test-vectors/captures");
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for entry in std::fs::read_dir(&dir).expect("captures dir").flatten() {
        let path = entry.path();
        let Some(ext) = path.extension().and_then(|e| e.to_str()) else {
            continue;
        };
        if !matches!(ext, "mrt" | "pcapng" | "pcap") {
            continue;
        }
        let original = std::fs::read(&path).expect("read");
        for _ in 0..1500 {
            let mut data = original.clone();
            for _ in 0..(1 + next() % 4) {
                let at = (next() as usize) % data.len().max(1);
                match next() % 3 {
                    0 => {
                        if let Some(b) = data.get_mut(at) {
                            *b ^= 1 << (next() % 8);
                        }
                    }
                    1 => data.truncate(at),
                    _ => data.insert(at.min(data.len()), next() as u8),
                }
            }
            if ext == "mrt" {
                let _ = mrt_input::read(&data);
            } else {
                let _ = pcap_input::read(&data[..], 65535, 17943);
            }
        }
    }
}
