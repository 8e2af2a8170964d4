//! `make install DESTDIR=... PREFIX=...` installs the binary, the man pages, the README and
//! docs/, the examples, the init scripts and the systemd unit with the PREFIX's paths; `systemd-analyze verify` accepts the
//! unit where systemd-analyze exists.

use std::path::{Path, PathBuf};
use std::process::Command;

fn files(root: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                dirs.push(p);
            } else {
                out.push(p.strip_prefix(root).unwrap().display().to_string());
            }
        }
    }
    out.sort();
    out
}

#[test]
fn make_install_into_destdir_lists_every_file() {
    let dest = tempfile::tempdir().unwrap();
    make_install(&[
        format!("DESTDIR={}", dest.path().display()),
        "PREFIX=/usr/local".to_string(),
    ]);
    let installed = files(dest.path());
    println!("installed:\n  {}", installed.join("\n  "));
    let examples: Vec<String> =
        std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("conf"))
            .unwrap()
            .filter_map(|e| {
                let name = e.unwrap().file_name().into_string().unwrap();
                name.ends_with(".conf")
                    .then(|| format!("usr/local/share/doc/bgpinject/examples/{name}"))
            })
            .collect();
    let docs: Vec<String> = std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs"))
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().into_string().unwrap();
            name.ends_with(".md")
                .then(|| format!("usr/local/share/doc/bgpinject/docs/{name}"))
        })
        .collect();
    let mut expected: Vec<String> = [
        "usr/local/bin/bgpinject",
        "usr/local/share/doc/bgpinject/README.md",
        "usr/local/share/man/man8/bgpinject.8",
        "usr/local/share/man/man5/bgpinject.conf.5",
        "usr/local/share/doc/bgpinject/examples/cron/bgpinject.conf",
        "usr/local/share/doc/bgpinject/examples/cron/routes.inc",
        "usr/local/share/doc/bgpinject/examples/cron/update-routes.sh",
        "usr/local/share/doc/bgpinject/init/bgpinject.openrc",
        "usr/local/share/doc/bgpinject/init/runit-run",
        "usr/local/lib/systemd/system/bgpinject.service",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain(examples)
    .chain(docs)
    .collect();
    expected.sort();
    assert_eq!(installed, expected);

    // `man -l` renders the installed pages without a warning.
    for page in [
        "usr/local/share/man/man8/bgpinject.8",
        "usr/local/share/man/man5/bgpinject.conf.5",
    ] {
        let out = Command::new("man")
            .args(["--warnings", "-E", "UTF-8", "-l"])
            .arg(dest.path().join(page))
            .env("LC_ALL", "C.UTF-8")
            .env("MANWIDTH", "80")
            .output()
            .expect("man (man-db) is installed by `make deps`");
        assert!(out.status.success(), "man -l {page} failed");
        let warnings = String::from_utf8_lossy(&out.stderr);
        assert!(warnings.trim().is_empty(), "{page}:\n{warnings}");
        assert!(String::from_utf8_lossy(&out.stdout).contains("bgpinject"));
    }

    let unit = std::fs::read_to_string(
        dest.path()
            .join("usr/local/lib/systemd/system/bgpinject.service"),
    )
    .unwrap();
    assert!(
        !unit.contains('@'),
        "unsubstituted placeholder in the unit:\n{unit}"
    );
    assert!(unit.contains("ExecStart=/usr/local/bin/bgpinject --log-level info "));
    assert!(unit.contains("ExecReload=/bin/kill -HUP $MAINPID"));

    let bin = dest.path().join("usr/local/bin/bgpinject");
    let version = Command::new(&bin).arg("--version").output().unwrap();
    assert!(version.status.success());

    verify_unit();
}

fn make_install(vars: &[String]) {
    let out = Command::new("make")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .arg("-s")
        .arg("install")
        .args(vars)
        .arg(format!("BIN={}", env!("CARGO_BIN_EXE_bgpinject")))
        .output()
        .expect("run make install");
    assert!(
        out.status.success(),
        "make install failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `systemd-analyze verify` on a unit installed with PREFIX set to a temp dir (and no DESTDIR),
/// so that the ExecStart binary exists where the unit says.
fn verify_unit() {
    if Command::new("systemd-analyze")
        .arg("--version")
        .output()
        .is_err()
    {
        println!(
            "note: systemd-analyze is not installed: the unit is not verified (make deps installs it)"
        );
        return;
    }
    let prefix = tempfile::tempdir().unwrap();
    make_install(&[format!("PREFIX={}", prefix.path().display())]);
    let unit: PathBuf = prefix.path().join("lib/systemd/system/bgpinject.service");
    let out = Command::new("systemd-analyze")
        .arg("verify")
        .arg(&unit)
        .output()
        .expect("run systemd-analyze");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    println!(
        "systemd-analyze verify: exit {:?}\n{text}",
        out.status.code()
    );
    assert!(
        out.status.success(),
        "systemd-analyze verify refuses the unit:\n{text}"
    );
    assert!(
        !text.contains("bgpinject.service:"),
        "warnings about the unit:\n{text}"
    );
}
