//! The service addresses of a check on an interface (`ip-setup`, healthcheck.py's `--ip`
//! setup): added and removed with iproute2's `ip` command, as healthcheck.py does, so labels
//! and every interface type behave as the operator's own `ip address` commands would.
//!
//! `ip` needs CAP_NET_ADMIN: a daemon without it (not root, or dropping root with `--user`)
//! refuses to start such a check unless `sudo` is configured (`sudo -n ip ...`, which fails
//! rather than prompts). Each `ip` run is bounded in time and its output in size.

use std::io::{Read, Write};
use std::net::IpAddr;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::config::healthcheck::{IpSetup, Label, ServiceAddress};

/// An `ip` run longer than this is killed (it talks to the kernel; it never takes that long).
const IP_TIMEOUT: Duration = Duration::from_secs(5);
/// The most of its output read (an interface with a million addresses is not ours to list).
const IP_OUTPUT_LIMIT: u64 = 4 << 20;
/// CAP_NET_ADMIN's bit in /proc/self/status's CapEff (linux/capability.h).
const CAP_NET_ADMIN: u32 = 12;

#[derive(Clone, Debug)]
pub struct ServiceAddresses {
    pub setup: IpSetup,
    pub addresses: Vec<ServiceAddress>,
    pub label: Option<Label>,
    pub sudo: bool,
}

/// Whether this process may change interface addresses.
pub fn has_net_admin() -> bool {
    let Ok(status) = std::fs::read_to_string("/proc/self/status") else {
        return false;
    };
    status
        .lines()
        .find_map(|l| l.strip_prefix("CapEff:"))
        .and_then(|hex| u64::from_str_radix(hex.trim(), 16).ok())
        .is_some_and(|caps| caps & (1 << CAP_NET_ADMIN) != 0)
}

/// The `ip` program: its usual places first (a daemon's PATH can be short), else the PATH.
fn ip_program() -> &'static str {
    ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
        .unwrap_or("ip")
}

impl ServiceAddresses {
    /// Why the addresses cannot be managed by this process, if they cannot.
    pub fn unavailable(&self, drops_root: bool) -> Option<String> {
        if self.setup == IpSetup::None || self.addresses.is_empty() || self.sudo {
            return None;
        }
        if drops_root {
            return Some(
                "ip-setup needs CAP_NET_ADMIN, which bgpinject gives up with --user: run without --user, add 'sudo' (ip-setup ... sudo; --sudo) or use ip-setup none (--no-ip-setup)".to_string(),
            );
        }
        (!has_net_admin()).then(|| {
            "ip-setup needs CAP_NET_ADMIN to add addresses (run bgpinject as root, add 'sudo' or use ip-setup none / --no-ip-setup)".to_string()
        })
    }

    fn ip(&self, args: &[&str], input: Option<&str>) -> Result<String, String> {
        run_ip(self.sudo, args, input)
    }

    /// The addresses on `interface` now, with their labels.
    fn present(&self, interface: &str) -> Result<Vec<(IpAddr, u8, Option<String>)>, String> {
        let text = self.ip(&["-o", "address", "show", "dev", interface], None)?;
        Ok(text
            .lines()
            .filter_map(|l| parse_address_line(l, interface))
            .collect())
    }

    fn label_matches(&self, label: Option<&str>) -> bool {
        match (&self.label, label) {
            (None, _) => true,
            (Some(want), Some(have)) if want.exact => have == want.name,
            (Some(want), Some(have)) => have.starts_with(&want.name),
            (Some(_), None) => false,
        }
    }

    /// Runs `lines` (one `ip` command each, without `ip`) in one `ip -force -batch -`.
    fn batch(&self, lines: &[String]) -> Result<(), String> {
        if lines.is_empty() {
            return Ok(());
        }
        let mut text = lines.join("\n");
        text.push('\n');
        self.ip(&["-force", "-batch", "-"], Some(&text)).map(|_| ())
    }

    /// Adds the addresses missing from their interfaces; returns how many were added.
    pub fn add(&self) -> Result<usize, String> {
        let mut lines = Vec::new();
        for interface in self.interfaces() {
            let present = self.present(&interface)?;
            for a in self.addresses.iter().filter(|a| a.interface == interface) {
                if present
                    .iter()
                    .any(|(addr, len, _)| *addr == a.address && *len == a.len)
                {
                    continue;
                }
                let mut line = format!("address add {}/{} dev {interface}", a.address, a.len);
                // Labels are an IPv4 notion: `ip` refuses them on IPv6 addresses.
                if let (Some(l), IpAddr::V4(_)) = (&self.label, a.address) {
                    line.push_str(&format!(" label {interface}:{}", l.name));
                }
                lines.push(line);
            }
        }
        self.batch(&lines).map(|()| lines.len())
    }

    /// Removes the configured addresses present on their interfaces (only those with the
    /// label when one is set, IPv6 ones whatever their label); returns how many.
    pub fn remove(&self) -> Result<usize, String> {
        let mut lines = Vec::new();
        for interface in self.interfaces() {
            let present = self.present(&interface)?;
            for a in self.addresses.iter().filter(|a| a.interface == interface) {
                let found = present.iter().any(|(addr, len, label)| {
                    *addr == a.address
                        && *len == a.len
                        && (a.address.is_ipv6() || self.label_matches(label.as_deref()))
                });
                if found {
                    lines.push(format!(
                        "address del {}/{} dev {interface}",
                        a.address, a.len
                    ));
                }
            }
        }
        self.batch(&lines).map(|()| lines.len())
    }

    fn interfaces(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for a in &self.addresses {
            if !out.contains(&a.interface) {
                out.push(a.interface.clone());
            }
        }
        out
    }
}

/// `ip` with `args`, stdin `input` (with `sudo -n` when `sudo`): its stdout, or why it failed.
fn run_ip(sudo: bool, args: &[&str], input: Option<&str>) -> Result<String, String> {
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
    let mut child = command
        .spawn()
        .map_err(|e| format!("{shown}: {}", crate::descriptors::explain(&e)))?;
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
    let wanted = ServiceAddresses {
        setup: IpSetup::None,
        addresses: Vec::new(),
        label: label.cloned(),
        sudo: false,
    };
    Ok(text
        .lines()
        .filter_map(|l| parse_address_line(l, interface))
        .filter(|(a, _, l)| !a.is_loopback() && wanted.label_matches(l.as_deref()))
        .map(|(a, len, _)| (a, len))
        .collect())
}

/// One line of `ip -o address show dev IF`:
/// `1: lo    inet 203.0.113.10/32 scope global lo:web\       valid_lft forever ...`.
fn parse_address_line(line: &str, interface: &str) -> Option<(IpAddr, u8, Option<String>)> {
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
