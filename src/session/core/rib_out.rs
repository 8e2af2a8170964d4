//! The Adj-RIB-Out side of the session core: what is queued for the peer when the session
//! comes up, when the table changes, when the peer asks for a family again, and what the
//! API asks to send. Everything here only fills the outbox; nothing waits for it to drain.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Instant;

use log::{error, info, warn};

use super::{
    ROUTE_REFRESH_BORR, ROUTE_REFRESH_EORR, ROUTE_REFRESH_REQUEST, SessionCore, SessionEvent,
};
use crate::rib::pack_cache;
use crate::rib::packer::{self, SessionParams};
use crate::rib::route_set::RouteSet;
use crate::rib::selfcheck;
use crate::session::fsm::Negotiated;
use crate::wire::family::Family;
use crate::wire::message::{Message, RouteRefresh};

impl SessionCore {
    pub(super) fn session_up(&mut self, neg: Negotiated, now: Instant) {
        let families: Vec<String> = neg.families.iter().map(|f| f.to_string()).collect();
        let roles = match (self.config.session.role, neg.peer_role) {
            (Some(ours), Some(theirs)) => format!(", role {ours}, peer role {theirs}"),
            (Some(ours), None) => format!(", role {ours}, peer sent no role"),
            (None, _) => String::new(),
        };
        info!(
            "neighbor {}: session established (peer AS {}, router-id {}, hold time {} s, families [{}]{roles})",
            self.config.name,
            neg.peer_as,
            neg.peer_router_id,
            neg.hold_time,
            families.join(", ")
        );
        let session = &self.config.session;
        let params = SessionParams {
            group_updates: self.config.group_updates,
            four_octet_as: neg.four_octet_as,
            ebgp: session.local_as != session.peer_as,
            local_as: session.local_as,
            local_address: self
                .local
                .unwrap_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED)),
            families: neg.families.clone(),
            max_message_len: self.fsm.max_message_len(),
            add_path: neg.add_path_send.clone(),
            extended_next_hop: neg.extended_next_hop.clone(),
            local_link_local: self.config.local_link_local,
            confederation: self.config.confederation,
            role: session.role,
        };
        self.was_established = true;
        self.advertised = Arc::new(RouteSet::default());
        self.params = Some(params.clone());
        self.sync();
        // RFC 4724 §2: End-of-RIB after the initial table, for every family (held for the
        // helpers and health checks, see `eor_gate.rs`).
        let mut eors = Vec::new();
        for f in self
            .eor
            .session_up(&neg.families, neg.graceful_restart, now)
        {
            eors.extend(packer::end_of_rib(f, &params));
        }
        self.outbox.push_bulk(eors);
        if !self.eor.held().is_empty() {
            info!(
                "neighbor {}: End-of-RIB held until its helpers and health checks are ready (at most {} s)",
                self.config.name,
                self.eor.wait().unwrap_or_default().as_secs()
            );
        }
        self.events
            .push_back(SessionEvent::Established(Box::new(neg)));
    }

    /// Does the work that waited for the queued UPDATEs to be written: first the diff to the
    /// latest table, then the re-sends the peer asked for, from that table.
    pub(super) fn pump(&mut self) {
        if self.params.is_none() || self.closing_since.is_some() || !self.outbox.bulk_is_empty() {
            return;
        }
        if self.sync_pending {
            self.sync_pending = false;
            self.sync();
        }
        for family in std::mem::take(&mut self.refresh_pending) {
            self.resend_family(family);
        }
        // After the table it follows, and after the routes the sources gave before saying
        // they were ready (queued just above).
        self.send_released_end_of_ribs();
    }

    fn send_released_end_of_ribs(&mut self) {
        let Some(params) = self.params.clone() else {
            return;
        };
        let families = self.eor.take_sendable();
        if families.is_empty() || self.config.manual_eor {
            return;
        }
        let names: Vec<String> = families.iter().map(|f| f.to_string()).collect();
        info!(
            "neighbor {}: sending End-of-RIB for [{}]",
            self.config.name,
            names.join(", ")
        );
        let mut eors = Vec::new();
        for f in families {
            eors.extend(packer::end_of_rib(f, &params));
        }
        self.outbox.push_bulk(eors);
    }

    /// Queues what changed between what the peer has and what it should have.
    fn sync(&mut self) {
        let Some(params) = self.params.clone() else {
            return;
        };
        // A fresh session gets the whole table: packed straight from the route set, without
        // a diff that would copy every route first.
        let fresh = self.advertised.is_empty();
        let diff = if fresh {
            None
        } else {
            Some(self.advertised.diff(&self.desired))
        };
        if diff.as_ref().is_some_and(|d| d.is_empty()) || (fresh && self.desired.is_empty()) {
            self.advertised = self.desired.clone();
            return;
        }
        // A whole table is packed once for every session of the same kind sending it (a
        // thousand neighbors of one template share one copy of the UPDATEs).
        let (bytes, packed) = match &diff {
            Some(d) => {
                let mut packed = packer::pack(d, &params);
                let bytes = Arc::new(std::mem::take(&mut packed.bytes));
                (bytes, Arc::new(packed))
            }
            None => pack_cache::pack_table(&self.desired, &params),
        };
        if selfcheck::enabled() {
            let checked = match &diff {
                Some(d) => selfcheck::verify_bytes(d, &params, &packed, &bytes),
                None => selfcheck::verify_bytes(
                    &self.desired.as_announcements(),
                    &params,
                    &packed,
                    &bytes,
                ),
            };
            if let Err(e) = checked {
                error!(
                    "neighbor {}: {e}; these UPDATEs are not sent",
                    self.config.name
                );
                return;
            }
        }
        let name = &self.config.name;
        for (family, count) in &packed.held_back {
            if !self.held_logged.contains(family) {
                warn!(
                    "neighbor {name}: {count} routes of {family} held back: family not negotiated with the peer"
                );
                self.held_logged.push(*family);
            }
        }
        // Same once-per-family log as above: a held-back family has no paths to drop.
        for (family, count) in &packed.extra_paths {
            if !self.held_logged.contains(family) {
                warn!(
                    "neighbor {name}: {count} extra paths of {family} not sent: the peer does not receive ADD-PATH for it, only the lowest path-information of each prefix is sent"
                );
                self.held_logged.push(*family);
            }
        }
        if packed.oversized.len() > 3 {
            error!(
                "neighbor {name}: {} routes not sent (withdrawn): their attributes make an UPDATE longer than the {} octets this session allows; the first ones follow",
                packed.oversized.len(),
                params.max_message_len
            );
        }
        for k in packed.oversized.iter().take(3) {
            error!(
                "neighbor {name}: route {k} not sent (withdrawn): its attributes make an UPDATE longer than the {} octets this session allows{}",
                params.max_message_len,
                if params.max_message_len < 65535 {
                    " (the peer did not negotiate extended messages, RFC 8654)"
                } else {
                    ""
                }
            );
        }
        if let (Some(k), Some(role)) = (packed.otc_withheld.first(), params.role) {
            warn!(
                "neighbor {name}: {} routes not sent (withdrawn), {k} the first: they carry OTC (the route's 'otc') and our role is {role}, so the peer is our {} (RFC 9234 §5: a route with OTC MUST NOT go to a provider, a peer or an RS)",
                packed.otc_withheld.len(),
                role.complement()
            );
        }
        for p in &packed.unresolvable {
            warn!(
                "neighbor {name}: route {p} not sent: its next hop cannot be expressed on this session"
            );
        }
        info!(
            "neighbor {name}: sending {} announcements and {} withdrawals in {} UPDATEs",
            packed.announced, packed.withdrawn, packed.messages
        );
        self.events.push_back(SessionEvent::Sent {
            updates: packed.messages as u64,
            announced: packed.announced as u64,
            families: packed.families.clone(),
        });
        self.outbox.push_shared(bytes);
        self.advertised = self.desired.clone();
    }

    /// Queues every route of `family` again (route refresh), from `advertised`, which is
    /// current: this runs only when no diff is queued.
    /// The routes of `family` the peer has from us, again (the answer to ROUTE-REFRESH, and
    /// ExaBGP's `flush adj-rib out`, which ExaBGP also frames with RFC 7313's markers).
    pub(super) fn resend_family(&mut self, family: Family) {
        let Some(params) = self.params.clone() else {
            return;
        };
        let packed = packer::pack_table(&self.advertised.family_subset(family), &params);
        info!(
            "neighbor {}: route refresh for {family}: sending its {} routes again in {} UPDATEs",
            self.config.name, packed.announced, packed.messages
        );
        // RFC 7313 §4: Beginning-of-Route-Refresh, the routes, End-of-Route-Refresh.
        let enhanced = self
            .fsm
            .negotiated()
            .is_some_and(|n| n.enhanced_route_refresh);
        let ctx = self.attribute_context();
        let marker = |subtype| Message::RouteRefresh(RouteRefresh { family, subtype }).encode(ctx);
        if enhanced {
            self.outbox.push_bulk(marker(ROUTE_REFRESH_BORR));
        }
        self.events.push_back(SessionEvent::Sent {
            updates: packed.messages as u64,
            announced: packed.announced as u64,
            families: packed.families,
        });
        self.outbox.push_bulk(packed.bytes);
        if enhanced {
            self.outbox.push_bulk(marker(ROUTE_REFRESH_EORR));
        }
    }

    /// End-of-RIB (queued after the table, like the table's own) or a ROUTE-REFRESH request
    /// for `family`, or for every negotiated family. Not sent before Established, nor for a
    /// family the session did not negotiate, nor ROUTE-REFRESH to a peer without the
    /// capability.
    pub(super) fn send_signal(&mut self, end_of_rib: bool, family: Option<Family>) {
        let name = &self.config.name;
        let (Some(params), Some(neg)) = (self.params.clone(), self.fsm.negotiated()) else {
            info!("neighbor {name}: session not established: nothing sent");
            return;
        };
        let families: Vec<Family> = match family {
            Some(f) if neg.families.contains(&f) => vec![f],
            Some(f) => {
                warn!("neighbor {name}: {f} not negotiated: nothing sent");
                return;
            }
            None => neg.families.clone(),
        };
        if !end_of_rib && !neg.route_refresh {
            warn!(
                "neighbor {name}: the peer did not advertise route refresh: no ROUTE-REFRESH sent"
            );
            return;
        }
        for f in families {
            if end_of_rib && self.eor.is_held(f) {
                // The gate sends it once every source is ready; a helper's `announce eor`
                // is its own readiness (see the manager).
                log::debug!("neighbor {name}: End-of-RIB for {f} is held; not sent now");
            } else if end_of_rib {
                self.outbox.push_bulk(packer::end_of_rib(f, &params));
            } else {
                let m = Message::RouteRefresh(RouteRefresh {
                    family: f,
                    subtype: ROUTE_REFRESH_REQUEST,
                })
                .encode(self.attribute_context());
                self.outbox.push_urgent(&m);
            }
        }
    }
}
