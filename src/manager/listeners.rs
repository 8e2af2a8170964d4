//! The listening sockets of passive neighbors: one accept thread per address, shared by the
//! neighbors on it, closed when no neighbor uses it any more; TCP-MD5 keys set per peer.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr, TcpListener};
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crossbeam_channel::Sender;
use log::info;

use super::StartError;
use crate::config::NeighborConfig;
use crate::descriptors::AcceptBackoff;
use crate::events::ManagerEvent;
use crate::session::socket;

/// A listening socket and the flag that ends its accept thread.
struct Listener {
    socket: TcpListener,
    closed: Arc<AtomicBool>,
}

impl Listener {
    /// Ends the accept thread (shutdown wakes its blocked `accept()`) and closes the port.
    fn close(self, addr: SocketAddr) {
        self.closed.store(true, Ordering::SeqCst);
        // SAFETY: shutdown(2) on a descriptor this value owns; it is closed when dropped.
        unsafe {
            libc::shutdown(self.socket.as_raw_fd(), libc::SHUT_RDWR);
        }
        info!("listener {addr}: closed, no neighbor uses it any more");
    }
}

/// Where a passive neighbor listens.
pub fn listen_address(n: &NeighborConfig) -> SocketAddr {
    let ip = n.local_address.unwrap_or(match n.peer_address {
        IpAddr::V4(_) => IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED),
        IpAddr::V6(_) => IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED),
    });
    SocketAddr::new(ip, n.listen_port)
}

pub struct Listeners {
    /// By address (a clone of each socket, to add MD5 keys for new neighbors).
    open: HashMap<SocketAddr, Listener>,
    events: Sender<ManagerEvent>,
}

impl Listeners {
    pub fn new(events: Sender<ManagerEvent>) -> Listeners {
        Listeners {
            open: HashMap::new(),
            events,
        }
    }

    /// Makes sure `n`'s listener runs and holds its TCP-MD5 key (or none).
    pub fn serve(&mut self, n: &NeighborConfig) -> Result<(), StartError> {
        let addr = listen_address(n);
        let listener = self.ensure(addr)?;
        match &n.options.md5_password {
            Some(key) => socket::set_md5(listener.as_raw_fd(), n.peer_address, key)
                .map_err(|e| StartError::Listen(addr, e))?,
            // A key configured before (and removed by a reload) goes: the peer's unsigned
            // SYNs would be dropped otherwise. Deleting a key that is not there fails,
            // harmlessly.
            None => {
                let _ = socket::set_md5(listener.as_raw_fd(), n.peer_address, &[]);
            }
        }
        Ok(())
    }

    /// The listener for `addr`, started when missing.
    fn ensure(&mut self, addr: SocketAddr) -> Result<&TcpListener, StartError> {
        if self.open.contains_key(&addr) {
            return self
                .open
                .get(&addr)
                .map(|l| &l.socket)
                .ok_or(StartError::Listen(
                    addr,
                    std::io::ErrorKind::NotFound.into(),
                ));
        }
        let listener = socket::listen(addr).map_err(|e| StartError::Listen(addr, e))?;
        let kept = listener
            .try_clone()
            .map_err(|e| StartError::Listen(addr, e))?;
        info!("listening on {addr}");
        let events = self.events.clone();
        let closed = Arc::new(AtomicBool::new(false));
        let closing = closed.clone();
        std::thread::Builder::new()
            .name(format!("listen {addr}"))
            .spawn(move || {
                let mut backoff = AcceptBackoff::new(format!("listener {addr}"));
                for stream in listener.incoming() {
                    if closing.load(Ordering::SeqCst) {
                        return;
                    }
                    match stream {
                        Ok(s) => {
                            backoff.succeeded();
                            if events.send(ManagerEvent::Incoming(s)).is_err() {
                                return;
                            }
                        }
                        Err(e) => backoff.failed(&e),
                    }
                }
            })
            .map_err(StartError::Thread)?;
        let l = self.open.entry(addr).or_insert(Listener {
            socket: kept,
            closed,
        });
        Ok(&l.socket)
    }

    /// Closes the listeners no neighbor of `wanted` (address, peer) uses, and removes the
    /// TCP-MD5 keys of the `gone` peers from the listeners that stay.
    pub fn prune(&mut self, wanted: &[(SocketAddr, IpAddr)], gone: &[IpAddr]) {
        let unused: Vec<SocketAddr> = self
            .open
            .keys()
            .filter(|a| !wanted.iter().any(|(w, _)| w == *a))
            .copied()
            .collect();
        for addr in unused {
            if let Some(l) = self.open.remove(&addr) {
                l.close(addr);
            }
        }
        for peer in gone {
            for (listen, l) in &self.open {
                if !wanted.contains(&(*listen, *peer)) {
                    let _ = socket::set_md5(l.socket.as_raw_fd(), *peer, &[]);
                }
            }
        }
    }
}
