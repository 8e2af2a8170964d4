//! Neighbors whose routes all come from their templates, the usual way to give many
//! neighbors one table: the table is built and checked once for each distinct list of
//! templates and settings the checks read, and the neighbors that follow share it.
//!
//! Without this, each of 1,000 neighbors inheriting a template of 100,000 routes copied,
//! sorted out, recorded and checked the same 100,000 routes again (issue #25).

use std::net::IpAddr;
use std::rc::Rc;

use crate::wire::family::{Afi, Family};

use super::ConfigError;
use super::file_cache::TableRecord;
use super::guard::GuardSettings;
use super::lexer::Position;
use super::model::RouteTable;
use super::parser::{Origin, Parser};
use super::route_list::ParsedRoutes;
use super::template::Template;
use super::{announce, neighbor};

/// The templates a neighbor inherits, in order, with the origin of each application.
pub(super) type Applied = [(Rc<Template>, Origin)];

/// What the table and its checks depend on besides the templates' routes.
pub(super) struct Settings<'a> {
    /// Next-hop pairs of `nexthop { }` (which routes with a next hop of the other family
    /// are allowed).
    pub extended_next_hop: &'a [(Family, Afi)],
    /// The neighbor's `family { }` block, when it has one.
    pub listed: Option<(&'a [Family], Position)>,
    pub guard: GuardSettings,
}

/// A table built from templates, with what the neighbor block needs of it.
pub(super) struct Shared {
    pub table: RouteTable,
    /// The families of the routes, sorted (empty when there are none).
    pub families: Vec<Family>,
    /// Which file gave which part of the table; `neighbor` is the first one's.
    record: TableRecord,
}

struct Entry {
    templates: Vec<Rc<Template>>,
    extended_next_hop: Vec<(Family, Afi)>,
    listed: Option<Vec<Family>>,
    guard: GuardSettings,
    shared: Rc<Shared>,
}

impl Entry {
    fn matches(&self, applied: &Applied, settings: &Settings) -> bool {
        self.templates.len() == applied.len()
            && self
                .templates
                .iter()
                .zip(applied)
                .all(|(a, (b, _))| Rc::ptr_eq(a, b))
            && self.extended_next_hop == settings.extended_next_hop
            && self.listed.as_deref() == settings.listed.map(|(l, _)| l)
            && self.guard == settings.guard
    }
}

/// The tables built so far in one configuration load.
#[derive(Default)]
pub(super) struct Memo {
    entries: Vec<Entry>,
}

/// The table of neighbor `peer_address` (block `block`), whose routes all come from
/// `applied`: shared with an earlier neighbor of the same templates and settings, or built
/// and checked as for any neighbor. Records the neighbor's [`TableRecord`] either way.
pub(super) fn table(
    p: &Parser,
    block: &str,
    peer_address: IpAddr,
    applied: &Applied,
    settings: &Settings,
) -> Result<Rc<Shared>, ConfigError> {
    let found = p
        .state
        .borrow()
        .inherited
        .entries
        .iter()
        .find(|e| e.matches(applied, settings))
        .map(|e| Rc::clone(&e.shared));
    if let Some(shared) = found {
        let mut record = shared.record.clone();
        record.neighbor = peer_address;
        p.state.borrow_mut().record_table(record);
        return Ok(shared);
    }
    let mut routes = ParsedRoutes::default();
    for (t, origin) in applied {
        routes.extend_from(&t.routes, *origin);
    }
    let notes_before = p.state.borrow().notes.len();
    routes.resolve_duplicates(p, block)?;
    // A duplicate is noted with the neighbor's name: such a table is not shared, so that
    // every neighbor still gets its note.
    let noted = p.state.borrow().notes.len() != notes_before;
    let record = routes.record(peer_address);
    p.state.borrow_mut().record_table(record.clone());
    announce::check_next_hops(p, block, settings.extended_next_hop, &routes)?;
    if let Some((listed, family_at)) = settings.listed {
        neighbor::check_routes_in_families(p, block, listed, family_at, &routes)?;
        neighbor::check_family_routes_in_families(p, block, listed, family_at, &routes)?;
    }
    neighbor::check_route_guard(block, &settings.guard, &routes)?;
    let families = neighbor::route_families(&routes);
    let table = p.state.borrow_mut().share_table(routes.finish());
    let shared = Rc::new(Shared {
        table,
        families,
        record,
    });
    if !noted {
        p.state.borrow_mut().inherited.entries.push(Entry {
            templates: applied.iter().map(|(t, _)| Rc::clone(t)).collect(),
            extended_next_hop: settings.extended_next_hop.to_vec(),
            listed: settings.listed.map(|(l, _)| l.to_vec()),
            guard: settings.guard,
            shared: Rc::clone(&shared),
        });
    }
    Ok(shared)
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::sync::Arc;

    use crate::config::{Config, parse_str, parse_str_with_notes};
    use crate::rib::attributes::NextHop;
    use crate::wire::family::Family;

    const TEMPLATE: &str = "template {\n neighbor t {\n  local-as 65001; peer-as 65002; router-id 192.0.2.1;\n  static {\n   route 10.0.0.0/24 next-hop 192.0.2.1;\n   route 10.0.1.0/24 next-hop 192.0.2.1 community 65535:666;\n  }\n }\n}\n";

    fn parse(text: &str) -> Result<Config, String> {
        parse_str(text, Path::new("t.conf")).map_err(|e| e.to_string())
    }

    /// Each route as "prefix next-hop", in table order.
    fn routes(c: &Config, k: usize) -> Vec<String> {
        c.neighbors[k]
            .routes
            .iter()
            .map(|r| match r.attributes.next_hop {
                NextHop::Address { global, .. } => format!("{} {global}", r.prefix),
                NextHop::SelfAddress => format!("{} self", r.prefix),
                NextHop::Absent => format!("{} none", r.prefix),
            })
            .collect()
    }

    #[test]
    fn neighbors_of_one_template_share_its_table_and_an_override_gets_its_own() {
        let c = parse(&format!(
            "{TEMPLATE}neighbor 127.0.0.1 {{ inherit t; }}\n\
             neighbor 127.0.0.2 {{ inherit t; static {{ route 10.0.0.0/24 next-hop 192.0.2.9; }} }}\n\
             neighbor 127.0.0.3 {{ inherit t; }}\n\
             neighbor 127.0.0.4 {{ inherit t; static {{ route 10.0.2.0/24 next-hop self; }} }}\n\
             neighbor 127.0.0.5 {{ inherit t; family {{ ipv4 unicast; ipv6 unicast; }} }}\n\
             neighbor 127.0.0.6 {{ inherit t; }}\n"
        ))
        .unwrap();
        let template = ["10.0.0.0/24 192.0.2.1", "10.0.1.0/24 192.0.2.1"];
        assert_eq!(routes(&c, 0), template);
        // The neighbor's own route of the same prefix replaces the template's.
        assert_eq!(
            routes(&c, 1),
            ["10.0.0.0/24 192.0.2.9", "10.0.1.0/24 192.0.2.1"]
        );
        assert_eq!(routes(&c, 2), template);
        assert_eq!(
            routes(&c, 3),
            [
                "10.0.0.0/24 192.0.2.1",
                "10.0.1.0/24 192.0.2.1",
                "10.0.2.0/24 self"
            ]
        );
        assert_eq!(routes(&c, 4), template);
        assert_eq!(routes(&c, 5), template);
        let table = |k: usize| &c.neighbors[k].routes.unicast;
        for k in [2, 4, 5] {
            assert!(Arc::ptr_eq(table(0), table(k)), "neighbor {k}");
        }
        for k in [1, 3] {
            assert!(!Arc::ptr_eq(table(0), table(k)), "neighbor {k}");
        }
        assert_eq!(c.neighbors[0].families, [Family::IPV4_UNICAST]);
        assert_eq!(
            c.neighbors[4].families,
            [
                Family::IPV4_UNICAST,
                Family::new(
                    crate::wire::family::Afi::Ipv6,
                    crate::wire::family::Safi::Unicast
                )
            ]
        );
        // Every neighbor has its own record of where its table came from (for reloads
        // that parse only the changed files).
        let recorded: Vec<String> = c
            .files
            .tables
            .iter()
            .map(|t| t.neighbor.to_string())
            .collect();
        assert_eq!(
            recorded,
            [
                "127.0.0.1",
                "127.0.0.2",
                "127.0.0.3",
                "127.0.0.4",
                "127.0.0.5",
                "127.0.0.6"
            ]
        );
        assert!(
            c.files
                .tables
                .iter()
                .all(|t| t.spans.iter().map(|s| s.count).sum::<usize>() >= 2)
        );
    }

    #[test]
    fn a_shared_table_is_checked_again_for_settings_that_refuse_it() {
        // The guard of the second neighbor refuses the template's blackhole route, which
        // the first neighbor's (default) guard takes.
        let e = parse(&format!(
            "{TEMPLATE}neighbor 127.0.0.1 {{ inherit t; }}\n\
             neighbor 127.0.0.2 {{ inherit t; guard {{ blackhole-prefix-ipv4 25; }} }}\n"
        ))
        .unwrap_err();
        assert!(e.starts_with("t.conf:6:10: neighbor 127.0.0.2: "), "{e}");
        // A family block without the routes' family.
        let e = parse(&format!(
            "{TEMPLATE}neighbor 127.0.0.1 {{ inherit t; }}\n\
             neighbor 127.0.0.2 {{ inherit t; family {{ ipv6 unicast; }} }}\n"
        ))
        .unwrap_err();
        assert!(
            e.contains(
                "route 10.0.0.0/24 is ipv4 unicast, but the family block of neighbor 127.0.0.2"
            ),
            "{e}"
        );
        // An IPv6 next hop on an IPv4 route needs the RFC 8950 pair, neighbor by neighbor.
        let v6 = "template {\n neighbor t {\n  local-as 65001; peer-as 65002; router-id 192.0.2.1;\n  static { route 10.0.0.0/24 next-hop 2001:db8::1; }\n }\n}\n";
        let c = parse(&format!(
            "{v6}neighbor 127.0.0.1 {{ inherit t; capability {{ nexthop {{ ipv4 unicast ipv6; }} }} }}\n\
             neighbor 127.0.0.3 {{ inherit t; capability {{ nexthop {{ ipv4 unicast ipv6; }} }} }}\n"
        ))
        .unwrap();
        assert!(Arc::ptr_eq(
            &c.neighbors[0].routes.unicast,
            &c.neighbors[1].routes.unicast
        ));
        let e = parse(&format!(
            "{v6}neighbor 127.0.0.1 {{ inherit t; capability {{ nexthop {{ ipv4 unicast ipv6; }} }} }}\n\
             neighbor 127.0.0.2 {{ inherit t; }}\n"
        ))
        .unwrap_err();
        assert!(
            e.contains("route 10.0.0.0/24 of neighbor 127.0.0.2 has an IPv6 next hop"),
            "{e}"
        );
    }

    #[test]
    fn a_duplicate_in_a_template_is_noted_for_every_neighbor() {
        let text = "template {\n neighbor t {\n  local-as 1; peer-as 2; router-id 192.0.2.1;\n  static {\n   route 10.0.0.0/8 next-hop 192.0.2.1;\n   route 10.0.0.0/8 next-hop 192.0.2.2;\n  }\n }\n}\nneighbor 192.0.2.1 { inherit t; }\nneighbor 192.0.2.2 { inherit t; }\n";
        let (c, notes) = parse_str_with_notes(text, Path::new("t.conf")).unwrap();
        for n in ["192.0.2.1", "192.0.2.2"] {
            assert!(
                notes.iter().any(|x| x.contains(&format!(
                    "route 10.0.0.0/8 in neighbor {n} is configured again"
                ))),
                "{n}: {notes:?}"
            );
        }
        assert_eq!(routes(&c, 0), ["10.0.0.0/8 192.0.2.2"]);
        assert_eq!(routes(&c, 1), ["10.0.0.0/8 192.0.2.2"]);
    }

    #[test]
    fn two_templates_keep_their_order_and_priority() {
        let text = "template {\n neighbor a {\n  local-as 1; peer-as 2; router-id 192.0.2.1;\n  static { route 10.0.0.0/8 next-hop 192.0.2.1; }\n }\n neighbor b {\n  static { route 10.0.0.0/8 next-hop 192.0.2.2; route 11.0.0.0/8 next-hop 192.0.2.2; }\n }\n}\nneighbor 192.0.2.1 { inherit a; inherit b; }\nneighbor 192.0.2.2 { inherit b; inherit a; }\nneighbor 192.0.2.3 { inherit a; inherit b; }\n";
        let c = parse(text).unwrap();
        // The first template inherited wins a prefix both give.
        assert_eq!(
            routes(&c, 0),
            ["10.0.0.0/8 192.0.2.1", "11.0.0.0/8 192.0.2.2"]
        );
        assert_eq!(
            routes(&c, 1),
            ["10.0.0.0/8 192.0.2.2", "11.0.0.0/8 192.0.2.2"]
        );
        assert_eq!(routes(&c, 2), routes(&c, 0));
        assert!(Arc::ptr_eq(
            &c.neighbors[0].routes.unicast,
            &c.neighbors[2].routes.unicast
        ));
    }
}
