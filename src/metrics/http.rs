//! The `--metrics ADDRESS:PORT` listener: `GET /metrics` over HTTP/1.1, one request per
//! connection (`Connection: close`).
//!
//! Hand-written rather than a crate: the request side is one line and a few headers that are
//! read and ignored, and what matters here is the limits, which the small synchronous HTTP
//! crates do not all offer (tiny_http has no request-size cap nor read timeout, and runs its
//! own pool of threads). The limits: a request (line and headers) of at most [`MAX_REQUEST`]
//! octets, all of it within [`CLIENT_TIMEOUT`] (a client that sends nothing, or one octet at
//! a time, is closed then), the answer taken within [`ANSWER_TIMEOUT`] (a client that does
//! not read is closed then), and at most [`MAX_CLIENTS`] connections served at once (more are
//! answered 503 and closed at once). Each connection has its own short-lived thread, and a
//! scrape only reads what the manager published (see [`super`]).

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use log::{info, warn};

use crate::descriptors::AcceptBackoff;

/// The longest request line and headers read; a longer request is refused (431).
pub const MAX_REQUEST: usize = 8 * 1024;
/// How long a client has to send its whole request, and to take the answer.
pub const CLIENT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a client has to take the whole answer (a reader that takes a few octets now and
/// then must not hold its place for ever). Prometheus' default scrape timeout.
pub const ANSWER_TIMEOUT: Duration = Duration::from_secs(10);
/// Connections served at once; a scraper needs one.
pub const MAX_CLIENTS: usize = 8;
/// The path of the metrics (Prometheus' default `metrics_path`).
const PATH: &str = "/metrics";

/// Binds `addr` and starts the accepting thread.
pub fn start(addr: SocketAddr) -> io::Result<()> {
    let listener = TcpListener::bind(addr)?;
    info!("metrics: serving http://{addr}{PATH}");
    let active = Arc::new(AtomicUsize::new(0));
    std::thread::Builder::new()
        .name("metrics listener".into())
        .spawn(move || {
            let mut backoff = AcceptBackoff::new("metrics listener");
            for stream in listener.incoming() {
                match stream {
                    Ok(s) => {
                        backoff.succeeded();
                        accept(s, &active);
                    }
                    Err(e) => backoff.failed(&e),
                }
            }
        })?;
    Ok(())
}

/// Holds one of the [`MAX_CLIENTS`] places while a connection is served.
struct Place(Arc<AtomicUsize>);

impl Drop for Place {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

fn accept(stream: TcpStream, active: &Arc<AtomicUsize>) {
    if active.fetch_add(1, Ordering::SeqCst) >= MAX_CLIENTS {
        active.fetch_sub(1, Ordering::SeqCst);
        // A few octets into an empty send buffer: this does not wait for the client. The
        // request already there is read (without waiting) so that the close does not reset
        // the connection under the answer.
        let _ = stream.set_nonblocking(true);
        let _ = (&stream).read(&mut [0u8; MAX_REQUEST]);
        respond(
            &stream,
            "503 Service Unavailable",
            "too many clients\n",
            &[],
        );
        let _ = stream.shutdown(Shutdown::Write);
        return;
    }
    let place = Place(active.clone());
    let spawned = std::thread::Builder::new()
        .name("metrics client".into())
        .spawn(move || {
            let _place = place;
            serve(stream);
        });
    if let Err(e) = spawned {
        warn!("metrics: cannot start a thread for a client: {e}");
    }
}

/// What was read of a request.
#[derive(Debug, PartialEq, Eq)]
enum Request {
    /// The request line and headers are complete: the request line.
    Complete(String),
    /// More than [`MAX_REQUEST`] octets without the end of the headers.
    TooLarge,
    /// The client closed, or did not finish within the time.
    Gone,
}

/// Reads up to the blank line that ends the headers, within `deadline`.
fn read_request(mut stream: &TcpStream, deadline: Instant) -> Request {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    loop {
        let seen = &buf[..buf.len().min(MAX_REQUEST)];
        if let Some(end) = header_end(seen) {
            let head = &seen[..end];
            let line = head.split(|&b| b == b'\n').next().unwrap_or_default();
            return Request::Complete(String::from_utf8_lossy(line).trim_end().to_string());
        }
        if buf.len() >= MAX_REQUEST {
            return Request::TooLarge;
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() || stream.set_read_timeout(Some(left)).is_err() {
            return Request::Gone;
        }
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => return Request::Gone,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

/// Where the headers end (`\r\n\r\n`, or `\n\n` from a lax client).
fn header_end(buf: &[u8]) -> Option<usize> {
    let crlf = buf.windows(4).position(|w| w == b"\r\n\r\n");
    let lf = buf.windows(2).position(|w| w == b"\n\n");
    match (crlf, lf) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// The answer to a request line: status, content type, body, extra headers.
fn answer(line: &str) -> (&'static str, String, &'static [&'static str]) {
    let mut words = line.split(' ');
    let (method, target, version) = (words.next(), words.next(), words.next());
    let (Some(method), Some(target), Some(version), None) = (method, target, version, words.next())
    else {
        return ("400 Bad Request", "bad request line\n".into(), &[]);
    };
    if !version.starts_with("HTTP/1.") {
        return ("400 Bad Request", "HTTP/1.x only\n".into(), &[]);
    }
    if method != "GET" {
        return (
            "405 Method Not Allowed",
            "only GET\n".into(),
            &["Allow: GET"],
        );
    }
    let path = target.split('?').next().unwrap_or_default();
    if path != PATH {
        return ("404 Not Found", format!("the metrics are at {PATH}\n"), &[]);
    }
    ("200 OK", super::render(), &[])
}

fn serve(stream: TcpStream) {
    let deadline = Instant::now() + CLIENT_TIMEOUT;
    match read_request(&stream, deadline) {
        Request::Complete(line) => {
            let (status, body, headers) = answer(&line);
            respond(&stream, status, &body, headers);
        }
        Request::TooLarge => respond(
            &stream,
            "431 Request Header Fields Too Large",
            "request larger than 8192 octets\n",
            &[],
        ),
        Request::Gone => return,
    }
    linger(&stream);
}

/// After an answer: what the client still sends (a body, the rest of oversized headers) is
/// read and dropped for a moment, bounded in time and size, so that closing with unread data
/// does not reset the connection before the client has read the answer.
fn linger(mut stream: &TcpStream) {
    const DRAIN: usize = 64 * 1024;
    let _ = stream.shutdown(Shutdown::Write);
    let deadline = Instant::now() + Duration::from_secs(1);
    let mut chunk = [0u8; 4096];
    let mut drained = 0;
    while drained < DRAIN {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() || stream.set_read_timeout(Some(left)).is_err() {
            return;
        }
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => drained += n,
        }
    }
}

fn respond(stream: &TcpStream, status: &str, body: &str, headers: &[&str]) {
    let content_type = if status.starts_with("200") {
        super::text::CONTENT_TYPE
    } else {
        "text/plain; charset=utf-8"
    };
    let mut head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for h in headers {
        head.push_str(h);
        head.push_str("\r\n");
    }
    head.push_str("\r\n");
    let deadline = Instant::now() + ANSWER_TIMEOUT;
    let _ = write_within(stream, head.as_bytes(), deadline)
        .and_then(|_| write_within(stream, body.as_bytes(), deadline));
}

/// Writes all of `bytes` by `deadline` (one timeout for the whole, not per write).
fn write_within(mut stream: &TcpStream, mut bytes: &[u8], deadline: Instant) -> io::Result<()> {
    while !bytes.is_empty() {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(io::ErrorKind::TimedOut.into());
        }
        stream.set_write_timeout(Some(left))?;
        match stream.write(bytes) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => bytes = &bytes[n..],
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_get_of_the_metrics_path_is_served() {
        assert_eq!(answer("GET /metrics HTTP/1.1").0, "200 OK");
        assert_eq!(answer("GET /metrics?x=1 HTTP/1.0").0, "200 OK");
        let (status, _, headers) = answer("POST /metrics HTTP/1.1");
        assert_eq!(status, "405 Method Not Allowed");
        assert_eq!(headers, &["Allow: GET"]);
        assert_eq!(answer("HEAD /metrics HTTP/1.1").0, "405 Method Not Allowed");
        assert_eq!(answer("GET / HTTP/1.1").0, "404 Not Found");
        assert_eq!(answer("GET /metrics").0, "400 Bad Request");
        assert_eq!(answer("GET /metrics SMTP/1.1").0, "400 Bad Request");
        assert_eq!(answer("").0, "400 Bad Request");
    }

    #[test]
    fn a_client_that_does_not_read_the_answer_is_given_up_at_the_deadline() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let _client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (server, _) = listener.accept().unwrap();
        let started = Instant::now();
        let body = vec![b'x'; 64 << 20];
        let r = write_within(&server, &body, started + Duration::from_millis(300));
        assert!(r.is_err());
        assert!(started.elapsed() < Duration::from_secs(3));
    }

    #[test]
    fn the_headers_end_at_the_first_blank_line() {
        assert_eq!(header_end(b"GET / HTTP/1.1\r\nA: b\r\n\r\nrest"), Some(20));
        assert_eq!(header_end(b"GET / HTTP/1.1\n\n"), Some(14));
        assert_eq!(header_end(b"GET / HTTP/1.1\r\nA: b\r\n"), None);
    }
}
