//! A helper program for bgpinject that the test speaks through: what the test writes into a
//! FIFO comes out on the helper's stdout (as a helper's commands), and what bgpinject answers
//! on the helper's stdin is kept in a file the test reads.

use std::fs;
use std::io::Write as _;
use std::path::PathBuf;
use std::time::Duration;

use super::wait_for;

pub struct FifoHelper {
    dir: tempfile::TempDir,
    fifo: PathBuf,
    writer: Option<fs::File>,
}

impl FifoHelper {
    pub fn new() -> FifoHelper {
        let dir = tempfile::tempdir().expect("temp dir for the helper");
        let fifo = dir.path().join("commands");
        let path = std::ffi::CString::new(fifo.to_string_lossy().as_bytes()).unwrap();
        // SAFETY: mkfifo(3) with a NUL-terminated path we own.
        assert_eq!(unsafe { libc::mkfifo(path.as_ptr(), 0o600) }, 0, "mkfifo");
        let answers = dir.path().join("answers");
        // The background `cat` keeps bgpinject's answers (its stdin, duplicated on fd 3 first:
        // a shell gives a background job /dev/null as stdin otherwise).
        fs::write(
            dir.path().join("helper.sh"),
            format!(
                "#!/bin/sh\nexec 3<&0\ncat <&3 >'{}' &\nexec cat '{}'\n",
                answers.display(),
                fifo.display()
            ),
        )
        .unwrap();
        FifoHelper {
            dir,
            fifo,
            writer: None,
        }
    }

    /// The script to name in a `process` block (`run /bin/sh SCRIPT;`).
    pub fn script(&self) -> PathBuf {
        self.dir.path().join("helper.sh")
    }

    /// Writes one command line (the first call waits for the helper to open its end).
    pub fn send(&mut self, line: &str) {
        if self.writer.is_none() {
            self.writer = Some(
                fs::OpenOptions::new()
                    .write(true)
                    .open(&self.fifo)
                    .expect("open the helper's FIFO"),
            );
        }
        let w = self.writer.as_mut().unwrap();
        writeln!(w, "{line}").expect("write to the helper");
        w.flush().unwrap();
    }

    /// Everything bgpinject wrote to the helper so far.
    pub fn answers(&self) -> String {
        fs::read_to_string(self.dir.path().join("answers")).unwrap_or_default()
    }

    /// Waits until bgpinject has answered `n` commands (`done` or `error ...`), and returns
    /// those answers in order.
    pub fn wait_answers(&self, n: usize) -> Vec<String> {
        let got = wait_for(Duration::from_secs(30), || {
            let a: Vec<String> = self
                .answers()
                .lines()
                .filter(|l| *l == "done" || l.starts_with("error"))
                .map(str::to_string)
                .collect();
            (a.len() >= n).then_some(a)
        });
        got.unwrap_or_else(|| panic!("fewer than {n} answers:\n{}", self.answers()))
    }
}
