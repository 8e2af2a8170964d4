//! Sessions that come up with the same table and the same session parameters (a thousand
//! neighbors inheriting one template, all from one local address) send the same bytes: the
//! first packs the table, the others share its UPDATEs instead of packing and holding a copy
//! each. The bytes live as long as one session still has them queued; the cache only holds
//! weak references, so a table nobody is sending costs nothing here.

use std::sync::{Arc, Mutex, Weak};

use super::packer::{self, Packed, SessionParams};
use super::route_set::RouteSet;

/// A table packed for one kind of session: the UPDATEs, and what the packer reported.
#[derive(Debug)]
pub struct SharedPack {
    pub bytes: Arc<Vec<u8>>,
    /// The packer's report, its `bytes` empty.
    pub report: Packed,
}

/// One table and session kind: who packs it (the lock) and what was packed.
struct Entry {
    set: Weak<RouteSet>,
    params: SessionParams,
    slot: Arc<Mutex<Slot>>,
}

#[derive(Default)]
struct Slot {
    bytes: Weak<Vec<u8>>,
    report: Option<Arc<Packed>>,
}

static CACHE: Mutex<Vec<Entry>> = Mutex::new(Vec::new());

/// The same routes, stored in the same place: what makes two sessions' UPDATEs the same.
fn same_table(a: &Arc<RouteSet>, b: &Arc<RouteSet>) -> bool {
    Arc::ptr_eq(a, b)
        || (a.shared_routes().same(b.shared_routes()) && a.other_list() == b.other_list())
}

/// `set` packed as a whole table for a session of `params` (see [`packer::pack_table`]),
/// shared with any session that packed the same table with the same parameters and still
/// has it queued.
pub fn pack_table(set: &Arc<RouteSet>, params: &SessionParams) -> (Arc<Vec<u8>>, Arc<Packed>) {
    let slot = {
        let mut cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
        cache.retain(|e| {
            e.set.strong_count() > 0 && {
                // An entry being packed right now has its slot held by the packer.
                Arc::strong_count(&e.slot) > 1
                    || e.slot
                        .try_lock()
                        .map(|s| s.bytes.strong_count() > 0)
                        .unwrap_or(true)
            }
        });
        let found = cache
            .iter()
            .find(|e| e.params == *params && e.set.upgrade().is_some_and(|s| same_table(&s, set)));
        match found {
            Some(e) => Arc::clone(&e.slot),
            None => {
                let slot = Arc::new(Mutex::new(Slot::default()));
                cache.push(Entry {
                    set: Arc::downgrade(set),
                    params: params.clone(),
                    slot: Arc::clone(&slot),
                });
                slot
            }
        }
    };
    // Sessions of the same kind wait for the one packing it instead of packing it too.
    let mut slot = slot.lock().unwrap_or_else(|e| e.into_inner());
    if let (Some(bytes), Some(report)) = (slot.bytes.upgrade(), &slot.report) {
        return (bytes, Arc::clone(report));
    }
    let mut report = packer::pack_table(set, params);
    let bytes = Arc::new(std::mem::take(&mut report.bytes));
    let report = Arc::new(report);
    slot.bytes = Arc::downgrade(&bytes);
    slot.report = Some(Arc::clone(&report));
    (bytes, report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rib::attributes::{NextHop, RouteAttributes};
    use crate::wire::prefix::Prefix;

    fn params(local: &str) -> SessionParams {
        SessionParams {
            group_updates: true,
            four_octet_as: true,
            ebgp: true,
            local_as: 65001,
            local_address: local.parse().unwrap(),
            families: vec![crate::wire::family::Family::IPV4_UNICAST],
            max_message_len: 4096,
            add_path: Vec::new(),
            extended_next_hop: Vec::new(),
            local_link_local: None,
            confederation: Default::default(),
            role: None,
        }
    }

    fn table(n: u32, med: u32) -> Arc<RouteSet> {
        let mut a = RouteAttributes::with_next_hop(NextHop::Address {
            global: "192.0.2.1".parse().unwrap(),
            link_local: None,
        });
        a.set(crate::wire::attribute::PathAttribute::Med(med));
        let a = Arc::new(a);
        let routes = (0..n)
            .map(|i| {
                let p = Prefix::new(std::net::Ipv4Addr::from(0x0a00_0000 + (i << 8)).into(), 24);
                (p.unwrap(), a.clone())
            })
            .collect();
        Arc::new(RouteSet::new(routes))
    }

    #[test]
    fn one_table_is_packed_once_per_kind_of_session_while_someone_sends_it() {
        let t = table(1000, 1);
        let (a, report) = pack_table(&t, &params("127.0.0.1"));
        assert_eq!(report.announced, 1000);
        assert_eq!(*a, packer::pack_table(&t, &params("127.0.0.1")).bytes);
        // The same table and session kind: the same bytes, not a copy.
        let (b, _) = pack_table(&t, &params("127.0.0.1"));
        assert!(Arc::ptr_eq(&a, &b));
        // Another set holding the same stored table is the same table.
        let twin = Arc::new((*t).clone());
        assert!(Arc::ptr_eq(&a, &pack_table(&twin, &params("127.0.0.1")).0));
        // Another session kind or another table: packed for itself.
        assert!(!Arc::ptr_eq(&a, &pack_table(&t, &params("127.0.0.2")).0));
        let other = table(1000, 2);
        let (c, _) = pack_table(&other, &params("127.0.0.1"));
        assert!(!Arc::ptr_eq(&a, &c));
        assert_ne!(*a, *c);
        // Once no session holds the bytes, they are gone, and packed again when asked.
        let weak = Arc::downgrade(&a);
        drop((a, b));
        assert!(weak.upgrade().is_none());
        let (again, _) = pack_table(&t, &params("127.0.0.1"));
        assert_eq!(*again, packer::pack_table(&t, &params("127.0.0.1")).bytes);
    }
}
