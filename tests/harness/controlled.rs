//! bgpinject with a control socket, its configuration written into its own temp dir (the
//! writer gets the dir, to place helper scripts beside the file), its log captured: for tests
//! that drive it with `bgpinject ctl` and read `show adj-rib out`.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_bgpinject");

pub struct Controlled {
    child: Child,
    pub dir: tempfile::TempDir,
    pub config: PathBuf,
    pub socket: PathBuf,
    pub log_file: PathBuf,
}

impl Controlled {
    /// Writes `config(dir)` to `DIR/bgpinject.conf` and starts
    /// `bgpinject --log-level LEVEL --control DIR/ctl.sock DIR/bgpinject.conf`.
    pub fn start(level: &str, config: impl FnOnce(&Path) -> String) -> Controlled {
        let dir = tempfile::tempdir().expect("temp dir for bgpinject");
        let conf = dir.path().join("bgpinject.conf");
        fs::write(&conf, config(dir.path())).expect("write bgpinject.conf");
        let socket = dir.path().join("ctl.sock");
        let log_file = dir.path().join("bgpinject.log");
        let out = fs::File::create(&log_file).expect("bgpinject log");
        let child = Command::new(BIN)
            .args(["--log-level", level, "--control"])
            .arg(&socket)
            .arg(&conf)
            .stdin(Stdio::null())
            .stdout(out.try_clone().expect("dup log"))
            .stderr(out)
            .spawn()
            .expect("start bgpinject");
        Controlled {
            child,
            dir,
            config: conf,
            socket,
            log_file,
        }
    }

    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    /// `bgpinject ctl COMMAND` (split on spaces): what it printed.
    pub fn ctl(&self, command: &str) -> String {
        let out = Command::new(BIN)
            .args(["ctl", "--socket"])
            .arg(&self.socket)
            .args(command.split(' '))
            .output()
            .expect("run bgpinject ctl");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn log(&self) -> String {
        fs::read_to_string(&self.log_file).unwrap_or_default()
    }

    /// Waits (bounded) until `show adj-rib out` lists `prefix`.
    pub fn wait_route(&self, prefix: &str, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if self
                .ctl("show adj-rib out")
                .contains(&format!(" {prefix} "))
            {
                return true;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        false
    }

    /// Fails the test when the log shows a panic or an internal error.
    pub fn assert_no_bug(&self) {
        let log = self.log();
        assert!(
            !log.contains("panicked") && !log.contains("internal error"),
            "{log}"
        );
    }
}

impl Drop for Controlled {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
