//! The routes each neighbor of a configuration is given, as route sets: what the daemon
//! starts with, what a reload compares, what `bgpinject encode` packs.

use std::sync::Arc;

use crate::config::model::RouteTable;
use crate::config::{Config, NeighborConfig};
use crate::rib::key::NlriKey;
use crate::rib::other_nlri::{self, OtherRoute};
use crate::rib::route_set::{AttributeInterner, Route, RouteSet};

/// The routes of every neighbor, with attribute sets shared across all of them, and one
/// shared route set for neighbors whose routes are the same (100 neighbors of 100k identical
/// routes hold one table, not 100).
pub fn route_sets(config: &Config) -> Vec<Arc<RouteSet>> {
    let mut interner = AttributeInterner::default();
    let mut sets: Vec<Arc<RouteSet>> = Vec::with_capacity(config.neighbors.len());
    for (i, n) in config.neighbors.iter().enumerate() {
        let same = config.neighbors[..i]
            .iter()
            .position(|earlier| same_routes(earlier, n));
        if let Some(j) = same {
            sets.push(sets[j].clone());
            continue;
        }
        let flows = n
            .flows
            .iter()
            .filter(|f| f.path_id.is_none())
            .map(|f| (f.rule.clone(), interner.intern(&f.attributes)))
            .collect();
        // Rules with a path identifier are keyed with it (two paths of one match).
        let flow_paths = n
            .flows
            .iter()
            .filter(|f| f.path_id.is_some())
            .map(|f| {
                let route = OtherRoute {
                    labels: Vec::new(),
                    attrs: interner.intern(&f.attributes),
                };
                (NlriKey::flow_path(f.rule.clone(), f.path_id), route)
            })
            .collect();
        sets.push(Arc::new(route_set(&n.routes, flows, flow_paths)));
    }
    sets
}

/// The route set of a neighbor's table: the unicast routes shared, not copied, unless some
/// need the MP encoding (an IPv4 prefix with an IPv6 next hop).
fn route_set(
    table: &RouteTable,
    flows: Vec<crate::rib::route_set::Flow>,
    flow_paths: Vec<(NlriKey, OtherRoute)>,
) -> RouteSet {
    let mut others: Vec<_> = table
        .others
        .iter()
        .filter_map(|r| {
            let key = r.other_key()?;
            let route = OtherRoute {
                labels: r.nlri().labels.clone(),
                attrs: r.attributes.clone(),
            };
            Some((key, route))
        })
        .collect();
    others.extend(flow_paths);
    others.extend(table.family_routes.iter().map(|r| {
        let route = OtherRoute {
            labels: Vec::new(),
            attrs: r.attributes.clone(),
        };
        (r.key.clone(), route)
    }));
    let cross_family = |(p, a): &Route| other_nlri::cross_family_key(*p, a);
    if !table.unicast.iter().any(|r| cross_family(r).is_some()) {
        return RouteSet::with_shared_routes(Arc::clone(&table.unicast), flows).with_others(others);
    }
    let mut routes = Vec::new();
    for r in table.unicast.iter() {
        match cross_family(r) {
            Some(key) => others.push((
                key,
                OtherRoute {
                    labels: Vec::new(),
                    attrs: r.1.clone(),
                },
            )),
            None => routes.push(r.clone()),
        }
    }
    RouteSet::with_flows(routes, flows).with_others(others)
}

/// Whether two neighbors were given the same routes and rules, in the same order (where in
/// the file they were written does not matter).
fn same_routes(a: &NeighborConfig, b: &NeighborConfig) -> bool {
    let (ra, rb) = (&a.routes, &b.routes);
    (Arc::ptr_eq(&ra.unicast, &rb.unicast) || ra.unicast == rb.unicast)
        && ra.others.len() == rb.others.len()
        && ra
            .others
            .iter()
            .zip(&rb.others)
            .all(|(x, y)| x.prefix == y.prefix && x.nlri == y.nlri && x.attributes == y.attributes)
        && ra.family_routes.len() == rb.family_routes.len()
        && ra
            .family_routes
            .iter()
            .zip(&rb.family_routes)
            .all(|(x, y)| x.key == y.key && x.attributes == y.attributes)
        && a.flows.len() == b.flows.len()
        && a.flows.iter().zip(&b.flows).all(|(x, y)| {
            x.rule == y.rule && x.path_id == y.path_id && x.attributes == y.attributes
        })
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::config;
    use crate::rib::plain_table::PlainTable;

    #[test]
    fn route_sets_share_the_configured_table_and_move_cross_family_routes() {
        let text = "neighbor 192.0.2.1 { router-id 192.0.2.10; local-as 1; peer-as 2;\n static { route 10.0.0.0/8 next-hop 192.0.2.1; route 10.1.0.0/16 next-hop 192.0.2.1; } }\n\
            neighbor 192.0.2.2 { router-id 192.0.2.10; local-as 1; peer-as 2;\n static { route 10.1.0.0/16 next-hop 192.0.2.1; route 10.0.0.0/8 next-hop 192.0.2.1; } }\n\
            neighbor 192.0.2.3 { router-id 192.0.2.10; local-as 1; peer-as 2; capability { nexthop { ipv4 unicast ipv6; } }\n static { route 10.0.0.0/8 next-hop 2001:db8::1; route 10.1.0.0/16 next-hop 192.0.2.1; } }\n";
        let config = config::parse_str(text, Path::new("t.conf")).unwrap();
        let sets = route_sets(&config);
        // No copy of the table: the route set holds the configuration's.
        assert!(sets[0].shared_routes().same(&PlainTable::from(Arc::clone(
            &config.neighbors[0].routes.unicast
        ))));
        // The same routes written in another order are one table.
        assert!(Arc::ptr_eq(&sets[0], &sets[1]));
        // An IPv6 next hop on an IPv4 prefix goes through the MP encoding.
        assert_eq!(sets[2].routes().len(), 1);
        assert_eq!(sets[2].other_list().len(), 1);
    }

    #[test]
    fn flow_rules_with_path_information_are_one_route_per_path() {
        use crate::wire::family::{Afi, Family, Safi};
        let text = "neighbor 192.0.2.1 { router-id 192.0.2.10; local-as 1; peer-as 1;\n\
            capability { add-path send/receive; } family { ipv4 flow; ipv4 flow-vpn; }\n\
            add-path { ipv4 flow; ipv4 flow-vpn; }\n\
            flow { route a { path-information 1; match { destination 10.0.0.0/24; } then { discard; } }\n\
            route b { path-information 0.0.0.2; match { destination 10.0.0.0/24; } then { rate-limit 9600; } }\n\
            route c { rd 65000:1; match { destination 10.0.1.0/24; } then { discard; } } } }\n";
        let config = config::parse_str(text, Path::new("t.conf")).unwrap();
        let n = &config.neighbors[0];
        let flow = Family::new(Afi::Ipv4, Safi::FlowSpec);
        let vpn = Family::new(Afi::Ipv4, Safi::FlowSpecVpn);
        let families: Vec<Family> = n.add_path_capability().iter().map(|(f, _)| *f).collect();
        assert_eq!(families, vec![flow, vpn]);
        let sets = route_sets(&config);
        let ids: Vec<Option<u32>> = sets[0]
            .other_list()
            .iter()
            .map(|(k, _)| k.path_id)
            .collect();
        assert_eq!(ids.len(), 3);
        assert!(ids.contains(&Some(1)) && ids.contains(&Some(2)) && ids.contains(&None));
        // Without the add-path block, FlowSpec stays out of the capability, as before.
        let plain = text.replace("add-path { ipv4 flow; ipv4 flow-vpn; }", "");
        let config = config::parse_str(&plain, Path::new("t.conf")).unwrap();
        assert!(config.neighbors[0].add_path_capability().is_empty());
    }
}
