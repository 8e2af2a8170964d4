//! 18 invalid rewrites, each a different kind of error (six of them in an included file),
//! each applied with SIGHUP to a running bgpinject with a BIRD peer. Each must be refused
//! with a log line naming FILE:LINE:COL and saying the running configuration is kept, and
//! BIRD's routes and session must stay exactly as they were.

mod harness;
mod reload_common;

use std::path::Path;
use std::time::Duration;

use harness::bgpinject::Bgpinject;
use harness::bird::{BgpProtocol, BirdBuilder};
use reload_common::*;

const PORT: u16 = 17961;
const BIRD_ADDRESS: &str = "127.0.0.61";
const INJECT: &str = "127.0.0.62";

fn main_text(routes_file: &Path) -> String {
    format!(
        "neighbor {BIRD_ADDRESS} {{
    router-id 192.0.2.250;
    local-address {INJECT};
    local-as {LOCAL_AS};
    peer-as {PEER_AS};
    hold-time 90;
    connect {PORT};
    static {{
        include \"{}\";
    }}
}}
",
        routes_file.display()
    )
}

fn routes() -> Vec<Route> {
    (0..5)
        .map(|i| {
            Route::new(
                &format!("198.51.100.{}/30", 4 * i),
                &format!("192.0.2.{}", i + 1),
            )
        })
        .collect()
}

fn routes_text() -> String {
    routes().iter().map(|r| r.line() + "\n").collect()
}

/// Replaces line `n` (1-based) of `text`.
fn with_line(text: &str, n: usize, line: &str) -> String {
    let mut lines: Vec<&str> = text.lines().collect();
    lines[n - 1] = line;
    lines.join("\n") + "\n"
}

/// One invalid rewrite: the two files, and where the error must be reported.
struct Case {
    what: &'static str,
    main: String,
    routes: String,
    /// `true`: the error is in the included file.
    in_routes: bool,
    line: usize,
    message: &'static str,
}

fn cases(routes_file: &Path) -> Vec<Case> {
    let main = main_text(routes_file);
    let r = routes_text();
    let m = |what, main: String, line, message| Case {
        what,
        main,
        routes: r.clone(),
        in_routes: false,
        line,
        message,
    };
    let i = |what, routes: String, line, message| Case {
        what,
        main: main.clone(),
        routes,
        in_routes: true,
        line,
        message,
    };
    vec![
        m(
            "missing ';'",
            with_line(&main, 6, "    hold-time 90"),
            7,
            "expected ';' after hold-time value",
        ),
        m(
            "unknown keyword",
            with_line(&main, 6, "    hold-timer 90;"),
            6,
            "unknown keyword 'hold-timer'",
        ),
        m(
            "hold time out of range",
            with_line(&main, 6, "    hold-time 2;"),
            6,
            "hold-time",
        ),
        m("AS 0", with_line(&main, 5, "    peer-as 0;"), 5, "peer-as"),
        m(
            "unterminated block",
            main.trim_end().trim_end_matches('}').to_string(),
            1,
            "unterminated block",
        ),
        m(
            "unterminated string",
            with_line(&main, 6, "    description \"core;"),
            6,
            "unterminated string",
        ),
        m(
            "duplicate neighbor",
            format!(
                "{main}neighbor {BIRD_ADDRESS} {{ local-as 1; peer-as 2; router-id 192.0.2.1; }}\n"
            ),
            12,
            "duplicate neighbor",
        ),
        m(
            "missing included file",
            with_line(&main, 9, "        include \"/nonexistent/routes.conf\";"),
            9,
            "does not exist",
        ),
        m(
            "unknown template",
            with_line(&main, 6, "    inherit nosuch;"),
            6,
            "no template of that name",
        ),
        m(
            "unknown top-level keyword",
            format!("{main}router bgp {{ }}\n"),
            12,
            "unknown keyword 'router' at top level",
        ),
        m(
            "local-address of the wrong family",
            with_line(&main, 3, "    local-address ::1;"),
            3,
            "local-address ::1 is IPv6",
        ),
        i(
            "include cycle",
            format!("{r}include \"{}\";\n", routes_file.display()),
            6,
            "include cycle",
        ),
        i(
            "bad prefix in an included file",
            with_line(&r, 3, "route 198.51.100.300/32 next-hop 192.0.2.1;"),
            3,
            "route",
        ),
        i(
            "next hop of the wrong family",
            with_line(&r, 2, "route 198.51.100.4/30 next-hop 2001:db8::1;"),
            2,
            "has an IPv6 next hop",
        ),
        i(
            "split too short",
            with_line(&r, 1, "route 198.51.100.0/24 next-hop 192.0.2.1 split /23;"),
            1,
            "split /23",
        ),
        i(
            "unknown route attribute",
            with_line(&r, 2, "route 198.51.100.4/30 next-hop 192.0.2.2 colour 5;"),
            2,
            "unknown route attribute 'colour'",
        ),
        i(
            "malformed community",
            with_line(
                &r,
                4,
                "route 198.51.100.12/30 next-hop 192.0.2.4 community [ 65000:999999 ];",
            ),
            4,
            "community",
        ),
    ]
}

#[test]
fn eighteen_invalid_rewrites_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let routes_file = dir.path().join("routes.conf");
    std::fs::write(&routes_file, routes_text()).unwrap();
    let bird = BirdBuilder::new("192.0.2.251", BIRD_ADDRESS, PORT)
        .bgp(BgpProtocol::new("inj", INJECT, 179, PEER_AS, LOCAL_AS).passive(true))
        .start();
    let bgpinject = Bgpinject::start(BIN, &main_text(&routes_file), "info");
    let pid = bgpinject.pid().unwrap();
    bird.wait_established("inj", Duration::from_secs(30));
    let expected = Neighbor {
        bird_address: BIRD_ADDRESS.into(),
        local_address: INJECT.into(),
        port: PORT,
        hold_time: 90,
        routes: routes(),
    };
    let diffs = wait_table(&bird, "inj", &expected, Duration::from_secs(15));
    assert!(
        diffs.is_empty(),
        "{}\n{}",
        diffs.join("\n"),
        bgpinject.log()
    );
    let since0 = since(&bird, "inj");
    let withdraws0 = withdraws_received(&bird, "inj");

    let cases = cases(&routes_file);
    assert!(cases.len() >= 15);
    for case in cases {
        let before = refusals(&bgpinject.log());
        std::fs::write(&routes_file, &case.routes).unwrap();
        std::fs::write(&bgpinject.config, &case.main).unwrap();
        sighup(pid);
        let line = harness::wait_for(Duration::from_secs(10), || {
            let log = bgpinject.log();
            (refusals(&log) > before).then(|| {
                log.lines()
                    .filter(|l| l.contains("reload refused"))
                    .nth(before)
                    .unwrap_or_default()
                    .to_string()
            })
        })
        .unwrap_or_else(|| panic!("{}: not refused\n{}", case.what, bgpinject.log()));
        let file = if case.in_routes {
            &routes_file
        } else {
            &bgpinject.config
        };
        let prefix = format!(
            "reload refused, keeping the running configuration: {}:{}:",
            file.display(),
            case.line
        );
        let at = line
            .find(&prefix)
            .unwrap_or_else(|| panic!("{}: expected '{prefix}COL: ...' in\n{line}", case.what));
        let rest = &line[at + prefix.len()..];
        let (column, message) = rest.split_once(": ").unwrap_or(("", ""));
        assert!(
            column.parse::<u32>().is_ok_and(|c| c > 0),
            "{}: no column in {line}",
            case.what
        );
        assert!(message.contains(case.message), "{}: {line}", case.what);

        std::thread::sleep(Duration::from_millis(200));
        let diffs = wait_table(&bird, "inj", &expected, Duration::ZERO);
        assert!(diffs.is_empty(), "{}: {}", case.what, diffs.join("\n"));
        assert!(
            same_session(since(&bird, "inj"), since0),
            "{}: the session restarted\n{}",
            case.what,
            bgpinject.log()
        );
        assert_eq!(
            withdraws_received(&bird, "inj"),
            withdraws0,
            "{}",
            case.what
        );
    }
    assert_eq!(bird.protocol_state("inj"), "Established");
    let mut bgpinject = bgpinject;
    bgpinject.stop();
}
