//! The cron job's reload against a real BIRD 2: a neighbor's routes in 100 included files,
//! one of them rewritten 20 times, each followed by SIGHUP. After each rewrite BIRD's table
//! must equal what the 100 files describe (a later file's route replacing an earlier one's,
//! as the whole parse does), the session must stay up, and the log must say whether the
//! reload parsed only the changed file, nothing, or the whole configuration: a file rewritten
//! with the same length and mtime, a file replaced by a symlink, a half-written file, a
//! route among another file's prefixes.

mod harness;
mod reload_common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use harness::bgpinject::Bgpinject;
use harness::bird::{BgpProtocol, BirdBuilder};
use reload_common::*;

const PORT: u16 = 18221;
const BIRD1: &str = "127.0.36.1";
const INJECT1: &str = "127.0.36.2";
const FILES: usize = 100;
const PER_FILE: usize = 5;
const CHANGED: usize = 50;
const STEP_TIMEOUT: Duration = Duration::from_secs(15);

fn route(file: usize, i: usize) -> Route {
    Route::new(&format!("10.{file}.{i}.0/24"), "192.0.2.1")
}

fn write(path: &Path, routes: &[Route]) {
    let text: String = routes.iter().map(|r| r.line() + "\n").collect();
    replace_file(path, &text);
}

/// What the log says a reload did.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Did {
    /// Parsed the changed file alone.
    OneFile,
    /// Parsed nothing.
    Nothing,
    /// Parsed the whole configuration.
    Whole,
    /// Refused the files (the table stays).
    Refused,
}

fn count(log: &str, did: Did) -> usize {
    match did {
        Did::OneFile => log.matches("1 of its 101 files changed, 1 parsed").count(),
        Did::Nothing => log
            .matches("none of its 101 files changed, 0 parsed")
            .count(),
        Did::Whole => log.matches("reading the whole configuration").count(),
        Did::Refused => refusals(log),
    }
}

/// The table the files describe: files in name order, a later route replacing an earlier
/// one of the same prefix.
fn table(files: &[Option<Vec<Route>>]) -> Vec<Route> {
    let mut by_prefix: BTreeMap<String, Route> = BTreeMap::new();
    for routes in files.iter().flatten() {
        for r in routes {
            by_prefix.insert(r.prefix.clone(), r.clone());
        }
    }
    by_prefix.into_values().collect()
}

#[test]
fn twenty_rewrites_of_one_include_among_a_hundred() {
    let routes_dir = tempfile::Builder::new()
        .prefix("bgpinject-routes-")
        .tempdir()
        .unwrap();
    let path = |k: usize| routes_dir.path().join(format!("r{k:03}.inc"));
    let mut files: Vec<Option<Vec<Route>>> = (0..FILES)
        .map(|k| Some((0..PER_FILE).map(|i| route(k, i)).collect()))
        .collect();
    for (k, routes) in files.iter().enumerate() {
        write(&path(k), routes.as_ref().unwrap());
    }
    let bird = BirdBuilder::new("192.0.2.251", BIRD1, PORT)
        .bgp(
            BgpProtocol::new("inj1", INJECT1, 179, PEER_AS, LOCAL_AS)
                .passive(true)
                .families(true, false),
        )
        .start();
    let config = format!(
        "neighbor {BIRD1} {{\n router-id 192.0.2.250;\n local-address {INJECT1};\n local-as {LOCAL_AS};\n peer-as {PEER_AS};\n connect {PORT};\n family {{ ipv4 unicast; }}\n static {{\n  include \"{}/*.inc\";\n }}\n}}\n",
        routes_dir.path().display()
    );
    let bgpinject = Bgpinject::start(BIN, &config, "info");
    let pid = bgpinject.pid().expect("bgpinject runs");
    bird.wait_established("inj1", Duration::from_secs(30));
    let expect = |routes: Vec<Route>| Neighbor {
        bird_address: BIRD1.into(),
        local_address: INJECT1.into(),
        port: PORT,
        hold_time: 90,
        routes,
    };
    let diffs = wait_table(&bird, "inj1", &expect(table(&files)), STEP_TIMEOUT);
    assert!(diffs.is_empty(), "initial: {diffs:?}\n{}", bgpinject.log());
    let since1 = since(&bird, "inj1");

    let own = |meds: Option<u32>, range: std::ops::Range<usize>| -> Vec<Route> {
        range
            .map(|i| {
                let mut r = route(CHANGED, i);
                r.med = meds;
                r
            })
            .collect()
    };
    let elsewhere = routes_dir.path().parent().unwrap().join(format!(
        "{}-elsewhere.inc",
        routes_dir.path().file_name().unwrap().to_string_lossy()
    ));
    let target = path(CHANGED);
    let mut step = 0;
    // (what, how the file is rewritten, its routes as the reload must see them, what the
    // reload must do).
    let mut rewrite = |what: &str,
                       files: &mut Vec<Option<Vec<Route>>>,
                       apply: &dyn Fn(&PathBuf),
                       now: Option<Option<Vec<Route>>>,
                       did: Did| {
        step += 1;
        let log = bgpinject.log();
        let before = count(&log, did);
        apply(&target);
        sighup(pid);
        let done = harness::wait_for(STEP_TIMEOUT, || {
            (count(&bgpinject.log(), did) > before).then_some(())
        });
        let log = bgpinject.log();
        assert!(
            done.is_some(),
            "step {step} '{what}': the log does not say {did:?}\n{log}"
        );
        if let Some(now) = now {
            files[CHANGED] = now;
        }
        let diffs = wait_table(&bird, "inj1", &expect(table(files)), STEP_TIMEOUT);
        assert!(diffs.is_empty(), "step {step} '{what}': {diffs:#?}\n{log}");
        assert!(
            same_session(since(&bird, "inj1"), since1),
            "step {step} '{what}': the session restarted\n{log}"
        );
        assert!(!log.contains("panic"), "{log}");
    };

    let routes = own(Some(1), 0..PER_FILE);
    let r = routes.clone();
    rewrite(
        "every MED changed",
        &mut files,
        &|p| write(p, &r),
        Some(Some(routes)),
        Did::OneFile,
    );

    let routes = own(Some(1), 0..PER_FILE + 2);
    let r = routes.clone();
    rewrite(
        "two routes added",
        &mut files,
        &|p| write(p, &r),
        Some(Some(routes)),
        Did::OneFile,
    );

    let routes = own(Some(1), 3..PER_FILE + 2);
    let r = routes.clone();
    rewrite(
        "three routes removed",
        &mut files,
        &|p| write(p, &r),
        Some(Some(routes)),
        Did::OneFile,
    );

    let r = files[CHANGED].clone().unwrap();
    rewrite(
        "the same content written again",
        &mut files,
        &|p| write(p, &r),
        None,
        Did::Nothing,
    );

    // Same length, and the mtime put back: only the content hash sees it.
    let routes = own(Some(2), 3..PER_FILE + 2);
    let r = routes.clone();
    let same_stamp = move |p: &PathBuf| {
        let mtime = std::fs::metadata(p).unwrap().modified().unwrap();
        let len = std::fs::metadata(p).unwrap().len();
        let text: String = r.iter().map(|r| r.line() + "\n").collect();
        assert_eq!(text.len() as u64, len);
        std::fs::write(p, text).unwrap();
        let f = std::fs::File::options().write(true).open(p).unwrap();
        f.set_modified(mtime).unwrap();
    };
    rewrite(
        "same length and mtime",
        &mut files,
        &same_stamp,
        Some(Some(routes)),
        Did::OneFile,
    );

    let mut routes = own(Some(2), 3..PER_FILE + 2);
    routes
        .iter_mut()
        .for_each(|r| r.next_hop = "192.0.2.9".into());
    let r = routes.clone();
    rewrite(
        "another next hop",
        &mut files,
        &|p| write(p, &r),
        Some(Some(routes)),
        Did::OneFile,
    );

    // A prefix in the next file's range: the table cannot be spliced, the whole is read.
    let mut routes = own(Some(3), 0..PER_FILE);
    routes.push(Route::new(
        &format!("10.{}.200.0/24", CHANGED + 1),
        "192.0.2.1",
    ));
    let r = routes.clone();
    rewrite(
        "a route among the next file's",
        &mut files,
        &|p| write(p, &r),
        Some(Some(routes)),
        Did::Whole,
    );

    // A prefix of the previous file: this later file's route replaces it.
    let mut routes = own(Some(4), 0..PER_FILE);
    let mut dup = route(CHANGED - 1, 2);
    dup.med = Some(44);
    routes.push(dup);
    let r = routes.clone();
    rewrite(
        "a prefix of the previous file",
        &mut files,
        &|p| write(p, &r),
        Some(Some(routes)),
        Did::Whole,
    );

    let routes = own(Some(5), 0..PER_FILE);
    let r = routes.clone();
    rewrite(
        "the duplicate removed",
        &mut files,
        &|p| write(p, &r),
        Some(Some(routes)),
        Did::Whole,
    );

    let routes = own(Some(6), 0..PER_FILE);
    let r = routes.clone();
    rewrite(
        "back to its own prefixes",
        &mut files,
        &|p| write(p, &r),
        Some(Some(routes)),
        Did::OneFile,
    );

    let half = |p: &PathBuf| {
        let text = format!(
            "{}\nroute 10.{CHANGED}.9.0/24 next-hop 192.0",
            route(CHANGED, 0).line()
        );
        std::fs::write(p, text).unwrap();
    };
    rewrite("half-written", &mut files, &half, None, Did::Refused);

    let routes = own(Some(7), 0..PER_FILE);
    let r = routes.clone();
    rewrite(
        "written in full",
        &mut files,
        &|p| write(p, &r),
        Some(Some(routes)),
        Did::OneFile,
    );

    let routes = own(Some(8), 1..PER_FILE);
    let r = routes.clone();
    let other = elsewhere.clone();
    let symlink = move |p: &PathBuf| {
        let text: String = r.iter().map(|r| r.line() + "\n").collect();
        std::fs::write(&other, text).unwrap();
        std::fs::remove_file(p).unwrap();
        std::os::unix::fs::symlink(&other, p).unwrap();
    };
    rewrite(
        "a symlink to another file",
        &mut files,
        &symlink,
        Some(Some(routes)),
        Did::OneFile,
    );

    let to_dir = |p: &PathBuf| {
        std::fs::remove_file(p).unwrap();
        std::os::unix::fs::symlink("/", p).unwrap();
    };
    rewrite(
        "a symlink to a directory",
        &mut files,
        &to_dir,
        Some(None),
        Did::Whole,
    );

    let routes = own(Some(9), 0..PER_FILE);
    let r = routes.clone();
    let back = move |p: &PathBuf| {
        std::fs::remove_file(p).unwrap();
        write(p, &r);
    };
    rewrite(
        "a file again",
        &mut files,
        &back,
        Some(Some(routes)),
        Did::Whole,
    );

    rewrite(
        "emptied",
        &mut files,
        &|p| write(p, &[]),
        Some(Some(Vec::new())),
        Did::OneFile,
    );

    let routes = own(Some(10), 0..PER_FILE);
    let r = routes.clone();
    rewrite(
        "routes in the empty file",
        &mut files,
        &|p| write(p, &r),
        Some(Some(routes)),
        Did::Whole,
    );

    let v6 = |p: &PathBuf| {
        let text = format!(
            "{}\nroute 2001:db8::/32 next-hop 2001:db8::1;\n",
            route(CHANGED, 0).line()
        );
        std::fs::write(p, text).unwrap();
    };
    rewrite(
        "an IPv6 route the neighbor has no family for",
        &mut files,
        &v6,
        None,
        Did::Refused,
    );

    let mut routes = own(Some(11), 0..PER_FILE);
    routes
        .iter_mut()
        .for_each(|r| r.communities = vec!["65000:1".into()]);
    let r = routes.clone();
    rewrite(
        "communities added",
        &mut files,
        &|p| write(p, &r),
        Some(Some(routes)),
        Did::OneFile,
    );

    let routes = own(None, 0..PER_FILE);
    let r = routes.clone();
    rewrite(
        "as it was at the start",
        &mut files,
        &|p| write(p, &r),
        Some(Some(routes)),
        Did::OneFile,
    );
    assert_eq!(step, 20);
    let _ = std::fs::remove_file(&elsewhere);
    let mut bgpinject = bgpinject;
    bgpinject.stop();
}
