//! Wakes a neighbor thread that sleeps in `poll()` on its socket when the manager has put a
//! command in its channel: an eventfd the thread polls beside the socket. An idle
//! neighbor thus sleeps until the peer sends, a timer is due, or there is work.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::Arc;
use std::time::Duration;

/// The manager's side.
#[derive(Clone, Debug)]
pub struct Waker(Arc<OwnedFd>);

/// The neighbor thread's side: the same eventfd(2), one descriptor per neighbor (a pipe took
/// two, which made about 500 neighbors the ceiling under the default limit of 1024).
#[derive(Debug)]
pub struct WakeReceiver(Arc<OwnedFd>);

pub fn pair() -> io::Result<(Waker, WakeReceiver)> {
    // SAFETY: eventfd(2) with valid flags; the descriptor it returns is owned from here on.
    let fd = unsafe { libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fd` is a new descriptor nothing else owns.
    let fd = Arc::new(unsafe { OwnedFd::from_raw_fd(fd) });
    Ok((Waker(fd.clone()), WakeReceiver(fd)))
}

impl Waker {
    pub fn wake(&self) {
        let one: u64 = 1;
        // SAFETY: writes 8 bytes from a valid u64 to the eventfd. A counter at its maximum
        // already means "wake up"; nothing else can go wrong that matters.
        let _ = unsafe {
            libc::write(
                self.0.as_raw_fd(),
                (&one as *const u64).cast(),
                std::mem::size_of::<u64>(),
            )
        };
    }
}

/// What woke a [`WakeReceiver::wait`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Readiness {
    /// The socket has bytes, an end of stream or an error to read.
    pub socket: bool,
    /// The socket takes bytes.
    pub writable: bool,
    pub commands: bool,
}

impl AsRawFd for WakeReceiver {
    /// For a thread that polls more descriptors than [`WakeReceiver::wait_io`] takes (BFD).
    fn as_raw_fd(&self) -> RawFd {
        self.0.as_raw_fd()
    }
}

impl WakeReceiver {
    /// Resets the counter (one read empties an eventfd).
    pub fn drain(&mut self) {
        let mut count: u64 = 0;
        // SAFETY: reads 8 bytes into a valid u64 from the non-blocking eventfd.
        let _ = unsafe {
            libc::read(
                self.0.as_raw_fd(),
                (&mut count as *mut u64).cast(),
                std::mem::size_of::<u64>(),
            )
        };
    }

    /// Sleeps until `socket` is readable, a wake-up arrives, or `timeout` passes.
    pub fn wait(&mut self, socket: RawFd, timeout: Duration) -> Readiness {
        self.wait_io(Some(socket), true, false, timeout)
    }

    /// Sleeps until `socket` (when there is one) is readable (if `read`) or writable (if
    /// `write`), a wake-up arrives, or `timeout` passes.
    pub fn wait_io(
        &mut self,
        socket: Option<RawFd>,
        read: bool,
        write: bool,
        timeout: Duration,
    ) -> Readiness {
        let mut events = 0;
        if read {
            events |= libc::POLLIN;
        }
        if write {
            events |= libc::POLLOUT;
        }
        let mut fds = [
            libc::pollfd {
                // poll() skips a negative descriptor.
                fd: socket.filter(|_| events != 0).unwrap_or(-1),
                events,
                revents: 0,
            },
            libc::pollfd {
                fd: self.0.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            },
        ];
        let ms = timeout.as_millis().min(i32::MAX as u128) as libc::c_int;
        // SAFETY: `fds` is a valid array of two pollfd for the duration of the call.
        let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, ms) };
        if n <= 0 {
            return Readiness::default();
        }
        let has = |f: &libc::pollfd, mask| f.revents & mask != 0;
        let failed = libc::POLLHUP | libc::POLLERR;
        let r = Readiness {
            socket: has(&fds[0], libc::POLLIN | failed),
            writable: has(&fds[0], libc::POLLOUT | failed),
            commands: has(&fds[1], libc::POLLIN | failed),
        };
        if r.commands {
            self.drain();
        }
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn wait_returns_on_wake_and_times_out_otherwise() {
        let (w, mut r) = pair().unwrap();
        let (a, _b) = std::os::unix::net::UnixStream::pair().unwrap();
        let t = Instant::now();
        let ready = r.wait(a.as_raw_fd(), Duration::from_millis(30));
        assert!(!ready.socket && !ready.commands);
        assert!(t.elapsed() >= Duration::from_millis(25));
        w.wake();
        w.wake();
        let ready = r.wait(a.as_raw_fd(), Duration::from_secs(5));
        assert!(ready.commands && !ready.socket);
        // Drained: the next wait times out.
        assert!(!r.wait(a.as_raw_fd(), Duration::from_millis(1)).commands);
    }
}
