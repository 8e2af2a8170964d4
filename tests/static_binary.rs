//! The static aarch64 binary from `make static` (dist/bgpinject-linux-aarch64) runs under qemu
//! user emulation and announces an example configuration to BIRD on loopback.
//!
//! Ignored by a plain `cargo test` (it needs `make static` first); `make test` runs it with
//! `--ignored` and `BGPINJECT_STATIC_BIN` set.

mod example_run;
mod harness;

use example_run::{Expected, Loopback, run};
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::Command;

/// The qemu user-mode emulator for aarch64, as Debian's qemu-user-static or qemu-user name it.
fn qemu() -> String {
    for candidate in ["qemu-aarch64-static", "qemu-aarch64"] {
        if Command::new(candidate).arg("--version").output().is_ok() {
            return candidate.to_string();
        }
    }
    panic!(
        "no qemu-aarch64-static or qemu-aarch64: apt-get install qemu-user-static (make deps does)"
    );
}

fn static_binary() -> PathBuf {
    let path = std::env::var_os("BGPINJECT_STATIC_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("dist/bgpinject-linux-aarch64")
        });
    assert!(
        path.exists(),
        "{} is missing: run `make static` first",
        path.display()
    );
    path
}

#[test]
#[ignore = "needs `make static`; `make test` runs it"]
fn aarch64_static_binary_under_qemu_announces_to_bird() {
    let bin = static_binary();
    let qemu = qemu();
    let version = Command::new(&qemu)
        .arg(&bin)
        .arg("--version")
        .output()
        .expect("run the aarch64 binary under qemu");
    assert!(
        version.status.success(),
        "{}",
        String::from_utf8_lossy(&version.stderr)
    );
    assert!(String::from_utf8_lossy(&version.stdout).starts_with("bgpinject "));

    // The harness starts a binary with arguments: a wrapper that execs qemu keeps the process
    // id, so SIGTERM reaches qemu, which passes it to the emulated bgpinject.
    let dir = tempfile::tempdir().unwrap();
    let wrapper = dir.path().join("bgpinject-aarch64");
    std::fs::write(
        &wrapper,
        format!("#!/bin/sh\nexec {qemu} {} \"$@\"\n", bin.display()),
    )
    .unwrap();
    std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();

    let l = Loopback {
        bird4: "127.0.3.81",
        bgpinject4: "127.0.3.82",
        port: 18383,
    };
    let expected = [Expected {
        protocol: "aarch64",
        ipv6_session: false,
        ipv4: true,
        ipv6: true,
        routes: &[
            ("198.51.100.66/32", &["65535:666", "65535:65281"]),
            ("2001:db8:bad::66/128", &["65535:666", "65535:65281"]),
        ],
    }];
    let (_bird, mut b) = run(
        wrapper.to_str().unwrap(),
        "rtbh.conf",
        &l,
        64510,
        64510,
        &expected,
    );
    let status = b.stop();
    assert!(
        matches!(status, Some(s) if s.success()),
        "exit {status:?}\n{}",
        b.log()
    );
}
