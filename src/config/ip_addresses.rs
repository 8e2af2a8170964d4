//! Interface addresses through iproute2's `ip` command, as healthcheck.py reads and sets
//! them: read when a configuration is loaded (the addresses healthcheck.py announces when no
//! `--ip` is given) and changed by health checks (`api::healthcheck::addresses`). Each run is
//! bounded in time and its output in size.

use std::io::{Read, Write};
use std::net::IpAddr;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::healthcheck::Label;

/// An `ip` run longer than this is killed (it talks to the kernel; it never takes that long).
const IP_TIMEOUT: Duration = Duration::from_secs(5);
/// The most of its output read (an interface with a million addresses is not ours to list).
const IP_OUTPUT_LIMIT: u64 = 4 << 20;
/// The `ip` program: its usual places first (a daemon's PATH can be short), else the PATH.
fn ip_program() -> &'static str {
    ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
        .unwrap_or("ip")
}

/// Whether an address's label (the part after `INTERFACE:`) is the one `want`s.
pub fn label_matches(want: Option<&Label>, label: Option<&str>) -> bool {
    match (want, label) {
        (None, _) => true,
        (Some(want), Some(have)) if want.exact => have == want.name,
        (Some(want), Some(have)) => have.starts_with(&want.name),
        (Some(_), None) => false,
    }
}

/// `ip` with `args`, stdin `input` (with `sudo -n` when `sudo`): its stdout, or why it failed.
pub fn run_ip(sudo: bool, args: &[&str], input: Option<&str>) -> Result<String, String> {
    let mut command = if sudo {
        let mut c = Command::new("sudo");
        c.arg("-n").arg(ip_program());
        c
    } else {
        Command::new(ip_program())
    };
    command
        .args(args)
        .stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let shown = format!("ip {}", args.join(" "));
    let mut child = command.spawn().map_err(|e| format!("{shown}: {e}"))?;
    if let (Some(mut stdin), Some(text)) = (child.stdin.take(), input) {
        // Small (at most 1024 short lines): fits the pipe; `ip` reads it all.
        let _ = stdin.write_all(text.as_bytes());
    }
    // Readers on threads so that a full pipe cannot stall `ip` while we wait for it.
    let read = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut text = Vec::new();
            if let Some(p) = pipe {
                let _ = p.take(IP_OUTPUT_LIMIT).read_to_end(&mut text);
            }
            String::from_utf8_lossy(&text).into_owned()
        })
    };
    let out = read(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let err = read(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let deadline = Instant::now() + IP_TIMEOUT;
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break Some(s),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(5)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
        }
    };
    let stdout = out.join().unwrap_or_default();
    let stderr = err.join().unwrap_or_default();
    match status {
        Some(s) if s.success() => Ok(stdout),
        Some(s) => Err(format!("{shown}: {s}: {}", stderr.trim())),
        None => Err(format!(
            "{shown}: still running after {IP_TIMEOUT:?}, killed"
        )),
    }
}

/// The addresses of `interface` but its loopback ones (with `label`'s only, if given), as
/// healthcheck.py announces when no `--ip` is given.
pub fn discover(interface: &str, label: Option<&Label>) -> Result<Vec<(IpAddr, u8)>, String> {
    let text = run_ip(false, &["-o", "address", "show", "dev", interface], None)?;
    Ok(text
        .lines()
        .filter_map(|l| parse_address_line(l, interface))
        .filter(|(a, _, l)| !a.is_loopback() && label_matches(label, l.as_deref()))
        .map(|(a, len, _)| (a, len))
        .collect())
}

/// One line of `ip -o address show dev IF`:
/// `1: lo    inet 203.0.113.10/32 scope global lo:web\       valid_lft forever ...`.
pub fn parse_address_line(line: &str, interface: &str) -> Option<(IpAddr, u8, Option<String>)> {
    let mut words = line.split_whitespace();
    let family = words.by_ref().find(|w| *w == "inet" || *w == "inet6")?;
    let (addr, len) = words.next()?.split_once('/')?;
    let addr: IpAddr = addr.parse().ok()?;
    let len: u8 = len.parse().ok()?;
    let label = (family == "inet")
        .then(|| {
            line.split_whitespace()
                .map(|w| w.trim_end_matches('\\'))
                .find_map(|w| w.strip_prefix(&format!("{interface}:")).map(str::to_string))
        })
        .flatten();
    Some((addr, len, label))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn address_lines_are_read_with_their_labels() {
        let l = "1: lo    inet 203.0.113.10/32 scope global lo:web1\\       valid_lft forever preferred_lft forever";
        assert_eq!(
            parse_address_line(l, "lo"),
            Some(("203.0.113.10".parse().unwrap(), 32, Some("web1".into())))
        );
        let l = "1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever";
        assert_eq!(
            parse_address_line(l, "lo"),
            Some(("127.0.0.1".parse().unwrap(), 8, None))
        );
        let l = "1: lo    inet6 2001:db8::1/128 scope global \\       valid_lft forever";
        assert_eq!(
            parse_address_line(l, "lo"),
            Some(("2001:db8::1".parse().unwrap(), 128, None))
        );
        assert_eq!(parse_address_line("garbage", "lo"), None);
        assert_eq!(parse_address_line("1: lo inet 1.2.3/x", "lo"), None);
    }
}
