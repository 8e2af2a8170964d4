//! ExaBGP's `adj-rib-in true`: the routes each peer sends, kept for `show adj-rib in` and
//! nothing else (bgpinject never announces what it learns, and keeps no table at all for a
//! neighbor without the switch).
//!
//! Bounded: at most [`MAX_ROUTES`] routes per neighbor. A peer that sends more (a full table,
//! a hostile peer sending a million routes) has the first ones kept, the others counted and
//! said once in the log; withdrawals are always applied. A route costs its NLRI in words
//! and a share of its UPDATE's attribute words (one string per UPDATE, shared by its routes):
//! about 100 to 200 bytes, so 20 to 40 MB at the cap. The table of a neighbor is emptied
//! when its session goes down or comes up again (the peer sends its routes again), and by
//! `clear adj-rib in`.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::Arc;

use crate::wire::attribute::{MpNextHop, MpNlri, PathAttribute};
use crate::wire::family::{Family, Safi};
use crate::wire::update::Update;

/// The most routes kept per neighbor.
pub const MAX_ROUTES: usize = 200_000;

#[derive(Default)]
struct PeerTable {
    /// `FAMILY NLRI` to `next-hop NH ATTRIBUTES`.
    routes: BTreeMap<String, Arc<str>>,
    /// Routes not kept because the table was full, since it was last emptied.
    over_cap: u64,
}

#[derive(Default)]
pub struct AdjRibIn {
    peers: BTreeMap<IpAddr, PeerTable>,
}

impl AdjRibIn {
    /// Applies an UPDATE `peer` sent; with `treat_as_withdraw` (RFC 7606) its routes are
    /// withdrawn instead.
    pub fn received(&mut self, peer: IpAddr, u: &Update, treat_as_withdraw: bool) {
        let table = self.peers.entry(peer).or_default();
        let (announced, withdrawn) = routes_of(u);
        for key in withdrawn {
            table.routes.remove(&key);
        }
        let attrs: Arc<str> = Arc::from(attribute_words(u).as_str());
        for (key, next_hop) in announced {
            if treat_as_withdraw {
                table.routes.remove(&key);
                continue;
            }
            let words: Arc<str> = if next_hop.is_empty() {
                attrs.clone()
            } else {
                Arc::from(format!("next-hop {next_hop} {attrs}").trim_end())
            };
            if table.routes.len() >= MAX_ROUTES && !table.routes.contains_key(&key) {
                table.over_cap += 1;
                if table.over_cap == 1 {
                    log::warn!(
                        "neighbor {peer}: adj-rib-in holds {MAX_ROUTES} routes, its most: further routes of this session are not kept (counted in show adj-rib in)"
                    );
                }
                continue;
            }
            table.routes.insert(key, words);
        }
    }

    /// Forgets what `peer` sent (its session went down or came up, `clear adj-rib in`).
    pub fn clear(&mut self, peer: IpAddr) {
        self.peers.remove(&peer);
    }

    /// `show adj-rib in`: one line per route, as ExaBGP writes them
    /// (`neighbor IP FAMILY NLRI next-hop NH ATTRIBUTES`), for the neighbors in `peers`.
    pub fn lines(&self, peers: &[IpAddr]) -> Vec<String> {
        let mut out = Vec::new();
        for peer in peers {
            let Some(table) = self.peers.get(peer) else {
                continue;
            };
            for (key, words) in &table.routes {
                out.push(
                    format!("neighbor {peer} {key} {words}")
                        .trim_end()
                        .to_string(),
                );
            }
            if table.over_cap > 0 {
                out.push(format!(
                    "neighbor {peer} adj-rib-in full: {} routes not kept (at most {MAX_ROUTES})",
                    table.over_cap
                ));
            }
        }
        out
    }
}

/// A string as a JSON string (quoted, escaped).
fn quoted(s: &str) -> String {
    serde_json::Value::from(s).to_string()
}

impl AdjRibIn {
    /// `show adj-rib in json`: ExaBGP 4.2's JSON object, written as its `json.dumps(...,
    /// indent=4)` writes it (one line per element, keys in ExaBGP's order):
    /// `{ "IP": { "routes": [ { "prefix": NLRI, "family": "AFI SAFI" }, ... ] } }`, with
    /// `extensive` each neighbor's `local-ip`, `local-as`, `peer-as`, `router-id` and
    /// `family-allowed` after its routes. As large as the tables are (at most
    /// [`MAX_ROUTES`] routes a neighbor, four lines each); a table that was full says so
    /// in `"not-kept"` (bgpinject's own key).
    pub fn json_lines(
        &self,
        neighbors: &[&crate::config::NeighborConfig],
        extensive: bool,
    ) -> Vec<String> {
        let mut out = vec!["{".to_string()];
        let mut first_peer = true;
        for n in neighbors {
            let peer = n.peer_address;
            let table = self.peers.get(&peer);
            if table.is_none_or(|t| t.routes.is_empty()) && !extensive {
                continue;
            }
            if !first_peer && let Some(last) = out.last_mut() {
                last.push(',');
            }
            first_peer = false;
            out.push(format!("    {}: {{", quoted(&peer.to_string())));
            let routes = table.map(|t| &t.routes);
            if routes.is_none_or(|r| r.is_empty()) {
                out.push("        \"routes\": []".into());
            } else {
                out.push("        \"routes\": [".into());
                let count = routes.map_or(0, |r| r.len());
                for (i, key) in routes.into_iter().flat_map(|r| r.keys()).enumerate() {
                    let (family, nlri) = split_key(key);
                    out.push("            {".into());
                    out.push(format!("                \"prefix\": {},", quoted(nlri)));
                    out.push(format!("                \"family\": {}", quoted(family)));
                    out.push(if i + 1 < count {
                        "            },".into()
                    } else {
                        "            }".into()
                    });
                }
                out.push("        ]".into());
            }
            let over_cap = table.map_or(0, |t| t.over_cap);
            if over_cap > 0 {
                if let Some(last) = out.last_mut() {
                    last.push(',');
                }
                out.push(format!("        \"not-kept\": {over_cap}"));
            }
            if extensive {
                if let Some(last) = out.last_mut() {
                    last.push(',');
                }
                let local_ip = n
                    .local_address
                    .map_or("None".to_string(), |a| a.to_string());
                out.push(format!("        \"local-ip\": {},", quoted(&local_ip)));
                out.push(format!("        \"local-as\": {},", n.local_as));
                out.push(format!("        \"peer-as\": {},", n.peer_as));
                out.push(format!(
                    "        \"router-id\": {},",
                    quoted(&n.router_id.to_string())
                ));
                out.push(format!(
                    "        \"family-allowed\": {}",
                    quoted(&crate::api::command::family_allowed(n))
                ));
            }
            out.push("    }".into());
        }
        if first_peer {
            return vec!["{}".into()];
        }
        out.push("}".into());
        out
    }
}

/// `FAMILY NLRI` (a key of the table) as (`AFI SAFI`, NLRI).
fn split_key(key: &str) -> (&str, &str) {
    let second_space = key
        .char_indices()
        .filter(|(_, c)| *c == ' ')
        .nth(1)
        .map(|(i, _)| i);
    match second_space {
        Some(i) => (&key[..i], key[i + 1..].trim()),
        None => (key, ""),
    }
}

/// The attributes but next hop and NLRI, in the words of the configuration.
fn attribute_words(u: &Update) -> String {
    u.attributes
        .iter()
        .filter(|a| {
            !matches!(
                a,
                PathAttribute::NextHop(_) | PathAttribute::MpReach(_) | PathAttribute::MpUnreach(_)
            )
        })
        .map(|a| a.to_string())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The routes an UPDATE announces, as (`FAMILY NLRI`, next hop), and withdraws.
fn routes_of(u: &Update) -> (Vec<(String, String)>, Vec<String>) {
    let unicast = Family::IPV4_UNICAST;
    let mut withdrawn: Vec<String> = u
        .withdrawn_text()
        .into_iter()
        .map(|n| format!("{unicast} {n}"))
        .collect();
    let next_hop = u
        .attributes
        .iter()
        .find_map(|a| match a {
            PathAttribute::NextHop(nh) => Some(nh.to_string()),
            _ => None,
        })
        .unwrap_or_default();
    let mut announced: Vec<(String, String)> = u
        .nlri_text()
        .into_iter()
        .map(|n| (format!("{unicast} {n}"), next_hop.clone()))
        .collect();
    for a in &u.attributes {
        match a {
            PathAttribute::MpReach(m) => {
                let addresses = match &m.next_hop {
                    MpNextHop::Addresses(v) | MpNextHop::Vpn(v) => v.clone(),
                    MpNextHop::Raw(b) => crate::wire::nlri::raw_next_hop(b).unwrap_or_default(),
                };
                let nh = addresses
                    .iter()
                    .map(|a| a.to_string())
                    .collect::<Vec<_>>()
                    .join(" ");
                for n in nlri_texts(m.family, &m.nlri) {
                    announced.push((format!("{} {n}", m.family), nh.clone()));
                }
            }
            PathAttribute::MpUnreach(m) => {
                for n in nlri_texts(m.family, &m.nlri) {
                    withdrawn.push(format!("{} {n}", m.family));
                }
            }
            _ => {}
        }
    }
    (announced, withdrawn)
}

/// Each NLRI of an MP attribute in words; one it cannot read is kept as its hex.
fn nlri_texts(family: Family, nlri: &MpNlri) -> Vec<String> {
    match nlri {
        MpNlri::Prefixes(p) => p.iter().map(|x| x.to_string()).collect(),
        MpNlri::Paths(p) => p.iter().map(|x| x.to_string()).collect(),
        MpNlri::Labeled(l) => l.iter().map(|x| x.to_string()).collect(),
        MpNlri::Raw(b) if matches!(family.safi, Safi::FlowSpec | Safi::FlowSpecVpn) => {
            match crate::wire::flowspec::family_rules(family, b) {
                Some(Ok(rules)) => rules.iter().map(|r| r.to_string()).collect(),
                _ => vec![format!("raw {}", hex(b))],
            }
        }
        MpNlri::Raw(b) => match crate::wire::nlri::decode(family, b) {
            Some(Ok(list)) => list.iter().map(|n| n.to_string()).collect(),
            _ if b.is_empty() => Vec::new(),
            _ => vec![format!("raw {}", hex(b))],
        },
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::message::{DecodeContext, Message};

    /// An UPDATE from its hex (ExaBGP's test peer's 0.0.0.0/32, and others built so).
    fn update(hex: &str) -> Update {
        let bytes: Vec<u8> = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect();
        match Message::decode(&bytes, DecodeContext::default()).unwrap().0 {
            Message::Update(u) => u,
            other => panic!("{other:?}"),
        }
    }

    const DEFAULT_ROUTE: &str = "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF0031020000001540010100400200400304C000020140050400000064200000000000";

    #[test]
    fn routes_are_kept_withdrawn_and_shown_as_exabgp_writes_them() {
        let peer: IpAddr = "127.0.0.1".parse().unwrap();
        let mut rib = AdjRibIn::default();
        let u = update(DEFAULT_ROUTE);
        rib.received(peer, &u, false);
        let lines = rib.lines(&[peer]);
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert!(
            lines[0].starts_with("neighbor 127.0.0.1 ipv4 unicast 0.0.0.0/32 next-hop 192.0.2.1"),
            "{lines:?}"
        );
        assert!(lines[0].contains("local-preference 100"), "{lines:?}");
        // Treat-as-withdraw removes it; so does a withdrawal.
        rib.received(peer, &u, true);
        assert!(rib.lines(&[peer]).is_empty());
        rib.received(peer, &u, false);
        let mut w = u.clone();
        w.withdrawn = std::mem::take(&mut w.nlri);
        w.attributes.clear();
        rib.received(peer, &w, false);
        assert!(rib.lines(&[peer]).is_empty());
        rib.received(peer, &u, false);
        rib.clear(peer);
        assert!(rib.lines(&[peer]).is_empty());
    }

    #[test]
    fn a_peer_sending_more_than_the_cap_is_counted_not_kept() {
        let peer: IpAddr = "127.0.0.1".parse().unwrap();
        let mut rib = AdjRibIn::default();
        let mut u = update(DEFAULT_ROUTE);
        u.nlri = (0..(MAX_ROUTES as u32 + 10))
            .map(|i| {
                crate::wire::prefix::Prefix::new(
                    std::net::Ipv4Addr::from(0x0a00_0000 + i).into(),
                    32,
                )
                .unwrap()
            })
            .collect();
        rib.received(peer, &u, false);
        let lines = rib.lines(&[peer]);
        assert_eq!(lines.len(), MAX_ROUTES + 1);
        assert!(
            lines.last().unwrap().contains("10 routes not kept"),
            "{:?}",
            lines.last()
        );
    }
}

#[cfg(test)]
mod json_tests {
    use super::*;
    use crate::wire::attribute::Origin;
    use crate::wire::prefix::Prefix;

    fn neighbor() -> crate::config::NeighborConfig {
        let text =
            "neighbor 127.0.0.1 { router-id 10.0.0.1; local-as 1; peer-as 2; adj-rib-in true; }";
        crate::config::parse_str(text, std::path::Path::new("t.conf"))
            .unwrap()
            .neighbors
            .remove(0)
    }

    /// A peer that sends more than the table holds: the JSON answer is bounded (the table's
    /// routes, four lines each, and the count of those not kept) and parses whole.
    #[test]
    fn json_of_a_full_table_is_bounded_and_valid() {
        let n = neighbor();
        let mut rib = AdjRibIn::default();
        let mut nlri = Vec::new();
        for i in 0..(MAX_ROUTES as u32 + 10) {
            let addr = std::net::Ipv4Addr::from(0x0a00_0000 + (i << 8));
            nlri.push(Prefix::new(addr.into(), 24).unwrap());
            if nlri.len() == 1000 || i == MAX_ROUTES as u32 + 9 {
                let u = Update {
                    attributes: vec![
                        PathAttribute::Origin(Origin::Igp),
                        PathAttribute::NextHop("192.0.2.1".parse().unwrap()),
                    ],
                    nlri: std::mem::take(&mut nlri),
                    ..Default::default()
                };
                rib.received(n.peer_address, &u, false);
            }
        }
        let lines = rib.json_lines(&[&n], false);
        assert_eq!(
            lines.len(),
            4 * MAX_ROUTES + 7,
            "{:?}",
            &lines[lines.len() - 5..]
        );
        let v: serde_json::Value = serde_json::from_str(&lines.join("\n")).unwrap();
        let peer = &v["127.0.0.1"];
        assert_eq!(peer["routes"].as_array().map(Vec::len), Some(MAX_ROUTES));
        assert_eq!(peer["not-kept"], 10);
        assert_eq!(peer["routes"][0]["family"], "ipv4 unicast");
        assert_eq!(peer["routes"][0]["prefix"], "10.0.0.0/24");
        // No routes, no neighbor: ExaBGP's empty object.
        assert_eq!(AdjRibIn::default().json_lines(&[&n], false), ["{}"]);
        let ext = AdjRibIn::default().json_lines(&[&n], true).join("\n");
        let v: serde_json::Value = serde_json::from_str(&ext).unwrap();
        assert_eq!(v["127.0.0.1"]["peer-as"], 2);
    }
}
