//! A one-shot, non-blocking HTTP/1.1 `GET` for REST snapshots.
//!
//! Same machinery as the WebSocket: a `mio` `TcpStream`, rustls for `https://`, and no call
//! that blocks. The feed thread polls it until it is done; it runs only on the cold resync
//! path (one request per snapshot), so it allocates freely. `Connection: close` keeps the
//! framing simple: `Content-Length`, `chunked`, or the body runs to the end of the stream.

use std::io::{self, Read, Write};
use std::sync::Arc;
use std::time::Duration;

use mio::net::TcpStream;
use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ClientConnection, StreamOwned};
use tickline_engine::types::Nanos;
use tungstenite::stream::MaybeTlsStream;

use super::resolve::Lookup;
use super::url::Endpoint;

/// Largest response head accepted.
const MAX_HEAD: usize = 16 << 10;

/// A finished response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpResponse {
    /// Status code.
    pub status: u16,
    /// The body, de-chunked.
    pub body: Vec<u8>,
    /// `Retry-After` in seconds, when the venue sent one (rate limiting).
    pub retry_after: Option<Duration>,
}

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// The host name did not resolve.
    #[error("resolving the host: {0}")]
    Resolve(io::Error),
    /// TCP connect failed.
    #[error("connecting: {0}")]
    Connect(io::Error),
    /// TLS setup failed.
    #[error("tls: {0}")]
    Tls(String),
    /// Reading or writing failed.
    #[error("i/o: {0}")]
    Io(io::Error),
    /// Not done within the time limit.
    #[error("timed out")]
    TimedOut,
    /// The response is not HTTP/1.x as expected.
    #[error("bad response: {0}")]
    BadResponse(&'static str),
    /// The body is larger than allowed.
    #[error("response larger than {0} bytes")]
    TooLarge(usize),
}

/// What a poll found.
#[derive(Debug)]
pub enum HttpPoll {
    /// Not finished; poll again.
    Pending,
    /// The response.
    Done(HttpResponse),
    /// It failed.
    Failed(HttpError),
}

enum Step {
    Resolving(Lookup),
    Connecting(TcpStream),
    Exchanging(Box<MaybeTlsStream<TcpStream>>),
    Finished,
}

/// One `GET` in flight.
pub struct HttpGet {
    endpoint: Endpoint,
    tls: Option<Arc<ClientConfig>>,
    step: Step,
    request: Vec<u8>,
    written: usize,
    buf: Vec<u8>,
    max_body: usize,
    deadline: Nanos,
}

impl std::fmt::Debug for HttpGet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpGet").field("url", &self.endpoint.url()).finish_non_exhaustive()
    }
}

impl HttpGet {
    /// Starts `GET endpoint` (an `http://` or `https://` URL), giving up at `deadline` or when
    /// the body passes `max_body` bytes.
    pub fn start(
        endpoint: Endpoint,
        tls: Option<Arc<ClientConfig>>,
        max_body: usize,
        deadline: Nanos,
    ) -> HttpGet {
        let request = format!(
            "GET {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: tickline\r\nAccept: application/json\r\nConnection: close\r\n\r\n",
            endpoint.path,
            endpoint.authority()
        )
        .into_bytes();
        HttpGet {
            step: Step::Resolving(Lookup::start(&endpoint.host, endpoint.port)),
            endpoint,
            tls,
            request,
            written: 0,
            buf: Vec::with_capacity(64 << 10),
            max_body,
            deadline,
        }
    }

    /// The URL requested.
    pub fn url(&self) -> String {
        self.endpoint.url()
    }

    /// Advances the request as far as the sockets allow now.
    pub fn poll(&mut self, now: Nanos) -> HttpPoll {
        match self.advance() {
            Ok(Some(r)) => {
                self.step = Step::Finished;
                HttpPoll::Done(r)
            }
            Ok(None) if now > self.deadline => {
                self.step = Step::Finished;
                HttpPoll::Failed(HttpError::TimedOut)
            }
            Ok(None) => HttpPoll::Pending,
            Err(e) => {
                self.step = Step::Finished;
                HttpPoll::Failed(e)
            }
        }
    }

    fn advance(&mut self) -> Result<Option<HttpResponse>, HttpError> {
        loop {
            match &mut self.step {
                Step::Finished => return Err(HttpError::BadResponse("polled after completion")),
                Step::Resolving(lookup) => match lookup.poll() {
                    None => return Ok(None),
                    Some(Err(e)) => return Err(HttpError::Resolve(e)),
                    Some(Ok(addrs)) => {
                        let addr = addrs.first().copied().ok_or_else(|| {
                            HttpError::Resolve(io::Error::other("no address for the host"))
                        })?;
                        self.step =
                            Step::Connecting(TcpStream::connect(addr).map_err(HttpError::Connect)?);
                    }
                },
                Step::Connecting(tcp) => {
                    if let Some(e) = tcp.take_error().map_err(HttpError::Connect)? {
                        return Err(HttpError::Connect(e));
                    }
                    match tcp.peer_addr() {
                        Ok(_) => {}
                        Err(e) if e.kind() == io::ErrorKind::NotConnected => return Ok(None),
                        Err(e) => return Err(HttpError::Connect(e)),
                    }
                    let Step::Connecting(tcp) = std::mem::replace(&mut self.step, Step::Finished)
                    else {
                        unreachable!("matched above")
                    };
                    let _ = tcp.set_nodelay(true);
                    let stream = if self.endpoint.tls {
                        let cfg = self.tls.clone().ok_or_else(|| {
                            HttpError::Tls("https:// needs a TLS configuration".into())
                        })?;
                        let name = ServerName::try_from(self.endpoint.host.clone())
                            .map_err(|e| HttpError::Tls(e.to_string()))?;
                        let conn = ClientConnection::new(cfg, name)
                            .map_err(|e| HttpError::Tls(e.to_string()))?;
                        MaybeTlsStream::Rustls(StreamOwned::new(conn, tcp))
                    } else {
                        MaybeTlsStream::Plain(tcp)
                    };
                    self.step = Step::Exchanging(Box::new(stream));
                }
                Step::Exchanging(stream) => {
                    while self.written < self.request.len() {
                        match stream.write(&self.request[self.written..]) {
                            Ok(0) => return Err(HttpError::Io(io::ErrorKind::WriteZero.into())),
                            Ok(n) => self.written += n,
                            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(None),
                            Err(e) => return Err(HttpError::Io(e)),
                        }
                    }
                    match stream.flush() {
                        Ok(()) => {}
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(None),
                        Err(e) => return Err(HttpError::Io(e)),
                    }
                    let mut chunk = [0u8; 16 << 10];
                    loop {
                        let eof = match stream.read(&mut chunk) {
                            Ok(0) => true,
                            Ok(n) => {
                                self.buf.extend_from_slice(&chunk[..n]);
                                false
                            }
                            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(None),
                            // A TLS peer that closes without close_notify.
                            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => true,
                            Err(e) => return Err(HttpError::Io(e)),
                        };
                        if self.buf.len() > self.max_body.saturating_add(MAX_HEAD) {
                            return Err(HttpError::TooLarge(self.max_body));
                        }
                        if let Some(r) = parse_response(&self.buf, eof, self.max_body)? {
                            return Ok(Some(r));
                        }
                        if eof {
                            return Err(HttpError::BadResponse("connection closed mid-response"));
                        }
                    }
                }
            }
        }
    }
}

/// Parses a complete response from `buf`, or `None` if more bytes are needed.
pub fn parse_response(
    buf: &[u8],
    eof: bool,
    max_body: usize,
) -> Result<Option<HttpResponse>, HttpError> {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut resp = httparse::Response::new(&mut headers);
    let head = match resp.parse(buf) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) if buf.len() > MAX_HEAD => {
            return Err(HttpError::BadResponse("response head too large"))
        }
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(_) => return Err(HttpError::BadResponse("not an HTTP/1.x response")),
    };
    let status = resp.code.ok_or(HttpError::BadResponse("no status code"))?;
    let mut length = None;
    let mut chunked = false;
    let mut retry_after = None;
    for h in resp.headers.iter() {
        let value = std::str::from_utf8(h.value).unwrap_or("").trim();
        if h.name.eq_ignore_ascii_case("content-length") {
            length = Some(
                value.parse::<usize>().map_err(|_| HttpError::BadResponse("bad Content-Length"))?,
            );
        } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = value.to_ascii_lowercase().contains("chunked");
        } else if h.name.eq_ignore_ascii_case("retry-after") {
            retry_after = value.parse::<u64>().ok().map(Duration::from_secs);
        }
    }
    let rest = &buf[head..];
    let body = if chunked {
        match dechunk(rest)? {
            Some(b) => b,
            None => return Ok(None),
        }
    } else if let Some(n) = length {
        if n > max_body {
            return Err(HttpError::TooLarge(max_body));
        }
        if rest.len() < n {
            return Ok(None);
        }
        rest[..n].to_vec()
    } else if eof {
        rest.to_vec()
    } else {
        return Ok(None);
    };
    if body.len() > max_body {
        return Err(HttpError::TooLarge(max_body));
    }
    Ok(Some(HttpResponse { status, body, retry_after }))
}

/// De-chunks a `Transfer-Encoding: chunked` body, or `None` if incomplete.
fn dechunk(mut rest: &[u8]) -> Result<Option<Vec<u8>>, HttpError> {
    let mut out = Vec::new();
    loop {
        let Some(eol) = rest.windows(2).position(|w| w == b"\r\n") else { return Ok(None) };
        let size_text = std::str::from_utf8(&rest[..eol]).unwrap_or("");
        let size_text = size_text.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size_text, 16)
            .map_err(|_| HttpError::BadResponse("bad chunk size"))?;
        rest = &rest[eol + 2..];
        if size == 0 {
            // Trailers are not used by venues; the body is complete.
            return Ok(Some(out));
        }
        if rest.len() < size + 2 {
            return Ok(None);
        }
        out.extend_from_slice(&rest[..size]);
        if &rest[size..size + 2] != b"\r\n" {
            return Err(HttpError::BadResponse("chunk not followed by CRLF"));
        }
        rest = &rest[size + 2..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_length_chunked_and_eof_bodies() {
        let r = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
        assert_eq!(parse_response(&r[..r.len() - 1], false, 100).unwrap(), None);
        let done = parse_response(r, false, 100).unwrap().unwrap();
        assert_eq!((done.status, done.body.as_slice()), (200, &b"hello"[..]));
        let c = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n";
        assert_eq!(parse_response(c, false, 100).unwrap().unwrap().body, b"abcde");
        assert!(parse_response(&c[..c.len() - 7], false, 100).unwrap().is_none());
        let e = b"HTTP/1.0 429 Too Many\r\nRetry-After: 7\r\n\r\nslow down";
        assert!(parse_response(e, false, 100).unwrap().is_none());
        let done = parse_response(e, true, 100).unwrap().unwrap();
        assert_eq!((done.status, done.retry_after), (429, Some(Duration::from_secs(7))));
        assert!(matches!(parse_response(r, false, 3), Err(HttpError::TooLarge(3))));
        assert!(parse_response(b"SSH-2.0-x\r\n\r\n", false, 100).is_err());
    }
}
