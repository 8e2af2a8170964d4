//! The UDP sockets of BFD: one receiving socket per family and port (RFC 5881 §4: 3784
//! single-hop, RFC 5883 §2: 4784 multihop) that reports each datagram's TTL / hop limit,
//! and one sending socket per session, from a source port in 49152-65535 with TTL 255.

use std::io;
use std::mem;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};
use std::os::fd::{AsRawFd, RawFd};

use socket2::{Domain, Protocol, Socket, Type};

/// RFC 5881 §4: single-hop Control packets go to this UDP port.
pub const SINGLE_HOP_PORT: u16 = 3784;
/// RFC 5883 §2: multihop Control packets go to this one.
pub const MULTIHOP_PORT: u16 = 4784;
/// RFC 5881 §4: the source port of a session is in this range and the same for its life.
pub const SOURCE_PORTS: std::ops::RangeInclusive<u16> = 49152..=65535;
/// RFC 5881 §5 / RFC 5883 §2: we send with the largest TTL.
pub const SEND_TTL: u32 = 255;

/// A receiving socket on `port` of every address of one family.
pub fn open_receiver(v6: bool, port: u16) -> io::Result<Socket> {
    let (domain, any) = if v6 {
        (Domain::IPV6, IpAddr::V6(Ipv6Addr::UNSPECIFIED))
    } else {
        (Domain::IPV4, IpAddr::V4(Ipv4Addr::UNSPECIFIED))
    };
    let s = Socket::new(domain, Type::DGRAM.cloexec(), Some(Protocol::UDP))?;
    if v6 {
        s.set_only_v6(true)?;
        set_int_option(&s, libc::IPPROTO_IPV6, libc::IPV6_RECVHOPLIMIT, 1)?;
    } else {
        set_int_option(&s, libc::IPPROTO_IP, libc::IP_RECVTTL, 1)?;
    }
    s.set_nonblocking(true)?;
    s.bind(&SocketAddr::new(any, port).into())?;
    Ok(s)
}

/// The sending socket of one session: bound to `local` (or the address the kernel picks
/// for the peer) and a free source port drawn with `pick`, connected to the peer's port.
pub fn open_sender(
    peer: SocketAddr,
    local: Option<IpAddr>,
    mut pick: impl FnMut() -> u16,
) -> io::Result<UdpSocket> {
    let domain = if peer.is_ipv6() {
        Domain::IPV6
    } else {
        Domain::IPV4
    };
    let s = Socket::new(domain, Type::DGRAM.cloexec(), Some(Protocol::UDP))?;
    if peer.is_ipv6() {
        s.set_unicast_hops_v6(SEND_TTL)?;
    } else {
        s.set_ttl_v4(SEND_TTL)?;
    }
    s.set_nonblocking(true)?;
    let local = local.unwrap_or(match peer {
        SocketAddr::V4(_) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        SocketAddr::V6(_) => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
    });
    let mut last = io::Error::from(io::ErrorKind::AddrInUse);
    // Draws until a port is free; the range has 16384 ports, a few tries are enough.
    for _ in 0..64 {
        let port = pick();
        match s.bind(&SocketAddr::new(local, port).into()) {
            Ok(()) => {
                s.connect(&peer.into())?;
                return Ok(s.into());
            }
            Err(e) if e.kind() == io::ErrorKind::AddrInUse => last = e,
            Err(e) => return Err(e),
        }
    }
    Err(last)
}

fn set_int_option(
    s: &Socket,
    level: libc::c_int,
    name: libc::c_int,
    value: libc::c_int,
) -> io::Result<()> {
    // SAFETY: setsockopt(2) with a pointer to a live c_int and its exact size.
    let rc = unsafe {
        libc::setsockopt(
            s.as_raw_fd(),
            level,
            name,
            (&value as *const libc::c_int).cast(),
            mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// One datagram read from a receiving socket.
pub struct Datagram {
    pub len: usize,
    pub from: IpAddr,
    /// The TTL / hop limit it arrived with, when the kernel said.
    pub ttl: Option<u8>,
}

/// Reads one datagram without blocking (`WouldBlock` when there is none). A datagram
/// larger than `buf` is reported with `len` beyond `buf.len()` (the caller drops it).
pub fn receive(fd: RawFd, buf: &mut [u8]) -> io::Result<Datagram> {
    // SAFETY: all-zero is a valid value of these plain C structs.
    let mut addr: libc::sockaddr_storage = unsafe { mem::zeroed() };
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    // Room for one TTL or hop-limit message, 8-byte aligned as cmsghdr needs.
    let mut control = [0u64; 8];
    // SAFETY: as above.
    let mut msg: libc::msghdr = unsafe { mem::zeroed() };
    msg.msg_name = (&mut addr as *mut libc::sockaddr_storage).cast();
    msg.msg_namelen = mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast();
    msg.msg_controllen = mem::size_of_val(&control) as _;
    // SAFETY: every pointer in `msg` points to a live buffer of the size given beside it.
    let n = unsafe { libc::recvmsg(fd, &mut msg, libc::MSG_DONTWAIT | libc::MSG_TRUNC) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    let mut ttl = None;
    // SAFETY: `msg` was filled by recvmsg; CMSG_FIRSTHDR/CMSG_NXTHDR stay inside
    // `msg_control` up to the `msg_controllen` the kernel set, and return null at its end.
    unsafe {
        let mut cmsg = libc::CMSG_FIRSTHDR(&msg);
        while !cmsg.is_null() {
            let c = &*cmsg;
            let is_ttl = (c.cmsg_level == libc::IPPROTO_IP && c.cmsg_type == libc::IP_TTL)
                || (c.cmsg_level == libc::IPPROTO_IPV6 && c.cmsg_type == libc::IPV6_HOPLIMIT);
            if is_ttl
                && c.cmsg_len as usize
                    >= libc::CMSG_LEN(mem::size_of::<libc::c_int>() as u32) as usize
            {
                let value = std::ptr::read_unaligned(libc::CMSG_DATA(cmsg).cast::<libc::c_int>());
                ttl = u8::try_from(value).ok();
            }
            cmsg = libc::CMSG_NXTHDR(&msg, cmsg);
        }
    }
    let from = match libc::c_int::from(addr.ss_family) {
        libc::AF_INET => {
            // SAFETY: the kernel wrote a sockaddr_in for an AF_INET socket.
            let a =
                unsafe { &*(&addr as *const libc::sockaddr_storage).cast::<libc::sockaddr_in>() };
            IpAddr::V4(Ipv4Addr::from(u32::from_be(a.sin_addr.s_addr)))
        }
        libc::AF_INET6 => {
            // SAFETY: the kernel wrote a sockaddr_in6 for an AF_INET6 socket.
            let a =
                unsafe { &*(&addr as *const libc::sockaddr_storage).cast::<libc::sockaddr_in6>() };
            IpAddr::V6(Ipv6Addr::from(a.sin6_addr.s6_addr))
        }
        _ => {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "unknown address family",
            ));
        }
    };
    Ok(Datagram {
        len: n as usize,
        from,
        ttl,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The TTL reaches the reader: what the single-hop check depends on.
    #[test]
    fn ttl_and_source_are_reported() {
        let rx = open_receiver(false, 0).unwrap();
        let port = rx.local_addr().unwrap().as_socket().unwrap().port();
        let mut next = 50_000u16;
        let tx = open_sender(
            SocketAddr::new(IpAddr::V4(Ipv4Addr::new(127, 0, 24, 1)), port),
            Some(IpAddr::V4(Ipv4Addr::new(127, 0, 24, 1))),
            || {
                next += 1;
                next
            },
        )
        .unwrap();
        assert!(SOURCE_PORTS.contains(&tx.local_addr().unwrap().port()));
        tx.send(b"hello").unwrap();
        let mut buf = [0u8; 64];
        let mut got = None;
        for _ in 0..100 {
            match receive(rx.as_raw_fd(), &mut buf) {
                Ok(d) => {
                    got = Some(d);
                    break;
                }
                Err(_) => std::thread::sleep(std::time::Duration::from_millis(10)),
            }
        }
        let d = got.expect("no datagram");
        assert_eq!(d.len, 5);
        assert_eq!(d.from, IpAddr::V4(Ipv4Addr::new(127, 0, 24, 1)));
        assert_eq!(d.ttl, Some(255));
        // A lower TTL is reported as such.
        tx.set_ttl(7).unwrap();
        tx.send(b"x").unwrap();
        for _ in 0..100 {
            if let Ok(d) = receive(rx.as_raw_fd(), &mut buf) {
                assert_eq!(d.ttl, Some(7));
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        panic!("no second datagram");
    }
}
