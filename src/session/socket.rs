//! Socket setup the standard library does not offer: bind a source address before connecting,
//! listening sockets with SO_REUSEADDR (socket2 does those system calls), and the BGP socket
//! options TCP_MD5SIG (RFC 2385) and TTL security (RFC 5082) through libc. Each option is
//! set only when configured: setting MD5 unconditionally breaks kernels without it.

use std::io;
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream};
use std::os::fd::{AsRawFd, RawFd};

use socket2::{Domain, Protocol, SockAddr, Socket, Type};

/// Per-session socket options.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SocketOptions {
    pub md5_password: Option<Vec<u8>>,
    pub outgoing_ttl: Option<u8>,
    pub incoming_ttl: Option<u8>,
    /// ExaBGP's `source-interface NAME`: the connections we open are bound to this
    /// interface (SO_BINDTODEVICE), and its index is the scope of link-local addresses.
    pub source_interface: Option<String>,
}

/// The index of interface `name`, or an error that names it.
fn interface_index(name: &str) -> io::Result<u32> {
    let c = std::ffi::CString::new(name)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "interface name with a NUL"))?;
    // SAFETY: `c` is a valid NUL-terminated string for the duration of the call.
    let index = unsafe { libc::if_nametoindex(c.as_ptr()) };
    if index == 0 {
        return Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!("source-interface {name}: no such interface"),
        ));
    }
    Ok(index)
}

/// `addr` with the scope of interface `index` when it is an IPv6 link-local address
/// without one (RFC 4007 §11: a link-local address means nothing without its link).
fn scoped(addr: SocketAddr, index: u32) -> SocketAddr {
    match addr {
        SocketAddr::V6(mut a) if a.ip().is_unicast_link_local() && a.scope_id() == 0 => {
            a.set_scope_id(index);
            SocketAddr::V6(a)
        }
        other => other,
    }
}

fn new_socket(addr: &SocketAddr) -> io::Result<Socket> {
    Socket::new(
        Domain::for_address(*addr),
        Type::STREAM,
        Some(Protocol::TCP),
    )
}

/// Starts connecting to `peer`, from `local` when given, with `options` applied before the
/// SYN goes out, without waiting: the socket is non-blocking and becomes writable once the
/// connection is up or has failed (then see [`finish_connect`]).
pub fn start_connect(
    peer: SocketAddr,
    local: Option<IpAddr>,
    options: &SocketOptions,
) -> io::Result<TcpStream> {
    let socket = new_socket(&peer)?;
    let mut peer = peer;
    let mut local = local.map(|a| SocketAddr::new(a, 0));
    if let Some(name) = &options.source_interface {
        let index = interface_index(name)?;
        socket
            .bind_device(Some(name.as_bytes()))
            .map_err(|e| io::Error::new(e.kind(), format!("source-interface {name}: {e}")))?;
        peer = scoped(peer, index);
        local = local.map(|a| scoped(a, index));
    }
    if let Some(local) = local {
        socket.bind(&local.into())?;
    }
    if let Some(key) = &options.md5_password {
        set_md5(socket.as_raw_fd(), peer.ip(), key)?;
    }
    set_ttl(socket.as_raw_fd(), peer.is_ipv6(), options)?;
    socket.set_nonblocking(true)?;
    match socket.connect(&peer.into()) {
        Ok(()) => {}
        Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => {}
        Err(e) => return Err(e),
    }
    Ok(socket.into())
}

/// Whether a connection from [`start_connect`] that became writable is up.
pub fn finish_connect(stream: &TcpStream) -> io::Result<()> {
    if let Some(e) = stream.take_error()? {
        return Err(e);
    }
    stream.peer_addr().map(|_| ())
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

/// Sets the TTL options on an accepted connection (MD5 is set on the listener instead).
pub fn apply_ttl(stream: &TcpStream, options: &SocketOptions) -> io::Result<()> {
    let v6 = stream.local_addr()?.is_ipv6();
    set_ttl(stream.as_raw_fd(), v6, options)
}

fn setsockopt_int(
    fd: RawFd,
    level: libc::c_int,
    name: libc::c_int,
    value: libc::c_int,
) -> io::Result<()> {
    // SAFETY: `value` lives for the call and its size is passed.
    let rc = unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            (&value as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

fn set_ttl(fd: RawFd, v6: bool, options: &SocketOptions) -> io::Result<()> {
    let (level, ttl_opt, min_opt) = if v6 {
        (
            libc::IPPROTO_IPV6,
            libc::IPV6_UNICAST_HOPS,
            libc::IPV6_MINHOPCOUNT,
        )
    } else {
        (libc::IPPROTO_IP, libc::IP_TTL, libc::IP_MINTTL)
    };
    if let Some(ttl) = options.outgoing_ttl {
        setsockopt_int(fd, level, ttl_opt, ttl as libc::c_int)
            .map_err(|e| io::Error::new(e.kind(), format!("cannot set outgoing-ttl {ttl}: {e}")))?;
    }
    if let Some(min) = options.incoming_ttl {
        setsockopt_int(fd, level, min_opt, min as libc::c_int)
            .map_err(|e| io::Error::new(e.kind(), format!("cannot set incoming-ttl {min}: {e}")))?;
    }
    Ok(())
}

/// Linux `struct tcp_md5sig` (include/uapi/linux/tcp.h); libc does not define it.
#[repr(C)]
struct TcpMd5Sig {
    addr: libc::sockaddr_storage,
    flags: u8,
    prefix_len: u8,
    key_len: u16,
    ifindex: libc::c_int,
    key: [u8; 80],
}

/// Sets (or, with an empty key, removes) the RFC 2385 key for segments to/from `peer`.
pub fn set_md5(fd: RawFd, peer: IpAddr, key: &[u8]) -> io::Result<()> {
    // SAFETY: an all-zero tcp_md5sig is a valid value.
    let mut sig: TcpMd5Sig = unsafe { std::mem::zeroed() };
    if key.len() > sig.key.len() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "MD5 key longer than 80 bytes",
        ));
    }
    let addr = SockAddr::from(SocketAddr::new(peer, 0));
    let len = (addr.len() as usize).min(std::mem::size_of::<libc::sockaddr_storage>());
    // SAFETY: copies `len` bytes of a valid socket address into the zeroed storage, which is
    // at least that large.
    unsafe {
        std::ptr::copy_nonoverlapping(
            addr.as_ptr().cast::<u8>(),
            (&mut sig.addr as *mut libc::sockaddr_storage).cast::<u8>(),
            len,
        );
    }
    sig.key_len = key.len() as u16;
    sig.key[..key.len()].copy_from_slice(key);
    // SAFETY: `sig` lives for the call and its size is passed.
    let rc = unsafe {
        libc::setsockopt(
            fd,
            libc::IPPROTO_TCP,
            libc::TCP_MD5SIG,
            (&sig as *const TcpMd5Sig).cast(),
            std::mem::size_of::<TcpMd5Sig>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        let e = io::Error::last_os_error();
        Err(io::Error::new(
            e.kind(),
            format!(
                "the kernel refused the TCP MD5 key (TCP_MD5SIG) for {peer}: {e}; is TCP MD5 signature support (CONFIG_TCP_MD5SIG) in this kernel?"
            ),
        ))
    }
}
