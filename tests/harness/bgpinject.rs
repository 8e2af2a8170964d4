//! The bgpinject binary under test, run in the foreground with its config in its own temp dir
//! and its stderr captured to a log file.
//!
//! The binary path comes from the test crate: `env!("CARGO_BIN_EXE_bgpinject")`.

use super::wait_for;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::Duration;
use tempfile::TempDir;

pub struct Bgpinject {
    pub config: PathBuf,
    pub log_file: PathBuf,
    child: Option<Child>,
    dir: TempDir,
    /// Length of the log when the test stopped bgpinject: sessions closed after that were
    /// taken down by the test.
    stopped_at: Option<usize>,
}

/// The lines of a bgpinject log that show a bug: a panic, an internal error, a fatal runtime
/// error (stack overflow, abort), a self-check that caught the encoder disagreeing with the
/// configuration. Any of them fails the test, even when the peer's table ends right.
pub fn bug_lines(log: &str) -> Vec<&str> {
    log.lines()
        .filter(|l| {
            l.contains("panicked")
                || l.contains("internal error")
                || l.contains("fatal runtime error")
                || l.contains("stack overflow")
                || l.contains("selfcheck failed")
        })
        .collect()
}

impl Bgpinject {
    /// Writes `config_text` and starts `BIN --log-level LEVEL CONFIG`.
    pub fn start(bin: impl AsRef<Path>, config_text: &str, log_level: &str) -> Self {
        Self::start_with_args(bin, config_text, log_level, &[])
    }

    /// Like [`Bgpinject::start`], with more options before the configuration file.
    pub fn start_with_args(
        bin: impl AsRef<Path>,
        config_text: &str,
        log_level: &str,
        args: &[&str],
    ) -> Self {
        let dir = tempfile::Builder::new()
            .prefix("bgpinject-")
            .tempdir()
            .expect("temp dir for bgpinject");
        let config = dir.path().join("bgpinject.conf");
        let log_file = dir.path().join("bgpinject.log");
        fs::write(&config, config_text).expect("write bgpinject config");
        let log = fs::File::create(&log_file).expect("bgpinject log file");
        // A daemon started by a test never takes the system's default control socket (tests run
        // as root, where that is /run/bgpinject/bgpinject.sock): two tests, or a test and a
        // running bgpinject, would answer each other's `ctl`.
        let private_control = dir.path().join("control.sock");
        let mut command = Command::new(bin.as_ref());
        command.arg("--log-level").arg(log_level).args(args);
        if !args.contains(&"--control") {
            command.arg("--control").arg(&private_control);
        }
        let child = command
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("dup log file"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.as_ref().display()));
        Bgpinject {
            config,
            log_file,
            child: Some(child),
            dir,
            stopped_at: None,
        }
    }

    /// Runs `BIN --check CONFIG`: (success, stdout + stderr).
    pub fn check(bin: impl AsRef<Path>, config_text: &str) -> (bool, String) {
        let dir = tempfile::tempdir().expect("temp dir");
        let config = dir.path().join("bgpinject.conf");
        fs::write(&config, config_text).expect("write bgpinject config");
        let out = Command::new(bin.as_ref())
            .arg("--check")
            .arg(&config)
            .output()
            .expect("run bgpinject --check");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success(), text)
    }

    /// The process id while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// `None` while running, the exit status once it has exited.
    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.child
            .as_mut()
            .and_then(|c| c.try_wait().ok().flatten())
    }

    /// Sends SIGTERM and waits up to 10 s; kills it after that. Returns the exit status
    /// (`None` when it had to be killed or was already stopped).
    pub fn stop(&mut self) -> Option<ExitStatus> {
        let mut child = self.child.take()?;
        self.stopped_at.get_or_insert(self.log().len());
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        unsafe {
            libc::kill(child.id() as libc::pid_t, libc::SIGTERM);
        }
        let status = wait_for(Duration::from_secs(10), || child.try_wait().ok().flatten());
        if status.is_none() {
            let _ = child.kill();
            let _ = child.wait();
        }
        status
    }

    /// Everything it has logged so far.
    pub fn log(&self) -> String {
        fs::read_to_string(&self.log_file).unwrap_or_default()
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The log up to the moment the test stopped bgpinject (all of it while it runs).
    fn log_before_stop(&self) -> String {
        let mut log = self.log();
        if let Some(n) = self.stopped_at {
            log.truncate(n.min(log.len()));
        }
        log
    }

    /// How many sessions came up, as bgpinject logged them.
    pub fn sessions_established(&self) -> usize {
        self.log().matches(": session established").count()
    }

    /// Fails the test unless exactly `established` sessions came up and none went down
    /// before the test stopped bgpinject: a reset in the middle of a test must not pass
    /// because the peer's table looks right again afterwards.
    pub fn assert_no_resets(&self, established: usize) {
        let log = self.log_before_stop();
        let downs: Vec<&str> = log
            .lines()
            .filter(|l| l.contains(": session down:"))
            .collect();
        assert!(
            downs.is_empty(),
            "sessions went down that the test did not take down:\n{}\n--- log ---\n{log}",
            downs.join("\n")
        );
        assert_eq!(
            log.matches(": session established").count(),
            established,
            "sessions established\n--- log ---\n{log}"
        );
    }
}

impl Drop for Bgpinject {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        // Every test that runs bgpinject fails when its log shows a bug.
        if !std::thread::panicking() {
            let log = self.log();
            let bugs = bug_lines(&log);
            assert!(
                bugs.is_empty(),
                "bgpinject logged a bug:\n{}\n--- log ---\n{log}",
                bugs.join("\n")
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::bug_lines;

    #[test]
    fn bug_lines_catch_panics_internal_errors_aborts_and_selfcheck_only() {
        let log = "2026-01-01T00:00:00Z [INFO] neighbor 127.0.0.1: session established\n\
                   thread 'peer 127.0.0.1' panicked at src/session/peer.rs:1:1:\n\
                   2026-01-01T00:00:01Z [ERROR] neighbor 127.0.0.1: internal error, session dropped and restarted: boom\n\
                   thread 'peer 127.0.0.1' has overflowed its stack\n\
                   fatal runtime error: stack overflow, aborting\n\
                   2026-01-01T00:00:01Z [ERROR] neighbor 127.0.0.1: selfcheck failed: 10.0.0.0/8: AS_PATH differs from the configuration; these UPDATEs are not sent\n\
                   2026-01-01T00:00:02Z [WARN] neighbor 127.0.0.1: session down: peer sent NOTIFICATION 6/2\n";
        assert_eq!(bug_lines(log).len(), 4);
        assert!(bug_lines("[INFO] neighbor 127.0.0.1: session established\n").is_empty());
    }
}
