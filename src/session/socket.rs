//! Socket setup the standard library does not offer: bind a source address before connecting,
//! and listening sockets with SO_REUSEADDR (socket2 does the system calls).

use std::io;
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream};
use std::time::Duration;

use socket2::{Domain, Protocol, Socket, Type};

fn new_socket(addr: &SocketAddr) -> io::Result<Socket> {
    Socket::new(
        Domain::for_address(*addr),
        Type::STREAM,
        Some(Protocol::TCP),
    )
}

/// Connects to `peer`, from `local` when given, within `timeout`.
pub fn connect(
    peer: SocketAddr,
    local: Option<IpAddr>,
    timeout: Duration,
) -> io::Result<TcpStream> {
    let socket = new_socket(&peer)?;
    if let Some(local) = local {
        socket.bind(&SocketAddr::new(local, 0).into())?;
    }
    socket.connect_timeout(&peer.into(), timeout)?;
    Ok(socket.into())
}

/// A listening socket on `addr` (IPv6 sockets are IPv6-only, so an IPv4 listener can share
/// the port).
pub fn listen(addr: SocketAddr) -> io::Result<TcpListener> {
    let socket = new_socket(&addr)?;
    socket.set_reuse_address(true)?;
    if addr.is_ipv6() {
        socket.set_only_v6(true)?;
    }
    socket.bind(&addr.into())?;
    socket.listen(64)?;
    Ok(socket.into())
}
