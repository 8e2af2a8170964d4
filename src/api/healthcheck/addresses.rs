//! The service addresses of a check on an interface (`ip-setup`, healthcheck.py's `--ip`
//! setup): added and removed with iproute2's `ip` command, as healthcheck.py does, so labels
//! and every interface type behave as the operator's own `ip address` commands would.
//!
//! `ip` needs CAP_NET_ADMIN: a daemon without it (not root, or dropping root with `--user`)
//! refuses to start such a check unless `sudo` is configured (`sudo -n ip ...`, which fails
//! rather than prompts). Each `ip` run is bounded in time and its output in size.

use std::net::IpAddr;

use crate::config::healthcheck::{IpSetup, Label, ServiceAddress};
use crate::config::ip_addresses::{parse_address_line, run_ip};

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
        crate::config::ip_addresses::label_matches(self.label.as_ref(), label)
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
