//! HTTP/1.1 framing for the admin port: request parsing with hard limits, and responses.
//!
//! `httparse` reads the request head; this module adds what a server must decide for itself:
//! size limits (414, 431, 413), body framing by `Content-Length` only, keep-alive, and the
//! JSON error every refusal carries.

use std::fmt::Write as _;

/// Limits a request must fit in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Request line, bytes.
    pub request_line: usize,
    /// Request head, bytes.
    pub header_bytes: usize,
    /// Header field count.
    pub headers: usize,
    /// Body, bytes.
    pub body: usize,
}

/// A complete request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    /// Method, as sent (case-sensitive, per RFC 9110).
    pub method: String,
    /// Path, without the query.
    pub path: String,
    /// Query string after `?`, if any.
    pub query: Option<String>,
    /// Header fields, names lower-cased.
    pub headers: Vec<(String, Vec<u8>)>,
    /// Body.
    pub body: Vec<u8>,
    /// Whether the connection stays open after the response.
    pub keep_alive: bool,
}

impl Request {
    /// The first value of header `name` (lower-case).
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_slice())
    }
}

/// What the bytes received so far amount to.
#[derive(Debug, PartialEq, Eq)]
pub enum Parsed {
    /// Not a whole request yet.
    Incomplete,
    /// A request, and how many bytes of the buffer it used.
    Done(Request, usize),
    /// A request that cannot be served; the connection closes after the error.
    Error(ApiError),
}

/// Parses the request at the start of `buf`.
pub fn parse(buf: &[u8], limits: &Limits) -> Parsed {
    // The request line first: a line that is too long is a 414, whatever follows.
    let line_end = buf.iter().take(limits.request_line + 2).position(|&b| b == b'\n');
    match line_end {
        None if buf.len() > limits.request_line + 1 => {
            return Parsed::Error(ApiError::new(
                414,
                "uri_too_long",
                format!("request line longer than {} bytes", limits.request_line),
            ))
        }
        Some(n) if n > limits.request_line + 1 => {
            return Parsed::Error(ApiError::new(
                414,
                "uri_too_long",
                format!("request line longer than {} bytes", limits.request_line),
            ))
        }
        _ => {}
    }
    let mut headers = vec![httparse::EMPTY_HEADER; limits.headers];
    let mut req = httparse::Request::new(&mut headers);
    let head_len = match req.parse(buf) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => {
            if buf.len() > limits.header_bytes {
                return Parsed::Error(too_large_head(limits));
            }
            return Parsed::Incomplete;
        }
        Err(httparse::Error::TooManyHeaders) => {
            return Parsed::Error(ApiError::new(
                431,
                "header_fields_too_large",
                format!("more than {} header fields", limits.headers),
            ))
        }
        Err(httparse::Error::Version) => {
            return Parsed::Error(ApiError::new(
                505,
                "http_version_not_supported",
                "only HTTP/1.0 and HTTP/1.1 are served",
            ))
        }
        Err(e) => {
            return Parsed::Error(ApiError::new(400, "malformed_request", format!("{e}")));
        }
    };
    if head_len > limits.header_bytes {
        return Parsed::Error(too_large_head(limits));
    }
    let method = req.method.unwrap_or_default().to_owned();
    let target = req.path.unwrap_or_default();
    let minor = req.version.unwrap_or(1);
    if !target.starts_with('/') {
        return Parsed::Error(ApiError::new(
            400,
            "malformed_request",
            format!("request target {target:?} is not a path starting with '/'"),
        ));
    }
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p.to_owned(), Some(q.to_owned())),
        None => (target.to_owned(), None),
    };
    let headers: Vec<(String, Vec<u8>)> =
        req.headers.iter().map(|h| (h.name.to_ascii_lowercase(), h.value.to_vec())).collect();
    if minor == 1 && !headers.iter().any(|(n, _)| n == "host") {
        return Parsed::Error(ApiError::new(
            400,
            "malformed_request",
            "HTTP/1.1 request without a Host header",
        ));
    }
    if headers.iter().any(|(n, _)| n == "transfer-encoding") {
        return Parsed::Error(ApiError::new(
            501,
            "transfer_encoding_not_supported",
            "request bodies must be sent with Content-Length, not Transfer-Encoding",
        ));
    }
    let mut content_length: Option<usize> = None;
    for (_, v) in headers.iter().filter(|(n, _)| n == "content-length") {
        let parsed = std::str::from_utf8(v)
            .ok()
            .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|s| s.parse::<usize>().ok());
        match (parsed, content_length) {
            (Some(n), None) => content_length = Some(n),
            (Some(n), Some(m)) if n == m => {}
            _ => {
                return Parsed::Error(ApiError::new(
                    400,
                    "malformed_request",
                    "Content-Length is not one decimal number",
                ))
            }
        }
    }
    let body_len = content_length.unwrap_or(0);
    if body_len > limits.body {
        return Parsed::Error(ApiError::new(
            413,
            "content_too_large",
            format!("body of {body_len} bytes is over the {} byte limit", limits.body),
        ));
    }
    let total = head_len + body_len;
    if buf.len() < total {
        return Parsed::Incomplete;
    }
    let connection = headers
        .iter()
        .filter(|(n, _)| n == "connection")
        .flat_map(|(_, v)| v.split(|&b| b == b','))
        .map(|t| t.trim_ascii().to_ascii_lowercase())
        .collect::<Vec<_>>();
    let keep_alive = if minor == 0 {
        connection.iter().any(|t| t == b"keep-alive")
    } else {
        !connection.iter().any(|t| t == b"close")
    };
    Parsed::Done(
        Request { method, path, query, headers, body: buf[head_len..total].to_vec(), keep_alive },
        total,
    )
}

fn too_large_head(limits: &Limits) -> ApiError {
    ApiError::new(
        431,
        "header_fields_too_large",
        format!("request head longer than {} bytes", limits.header_bytes),
    )
}

/// A refusal: an HTTP status, a stable code, and a message naming the problem.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status.
    pub status: u16,
    /// Stable machine-readable code (`not_found`, `invalid_json`, ...).
    pub code: &'static str,
    /// What is wrong and, where it helps, what to do.
    pub message: String,
}

impl ApiError {
    /// An error.
    pub fn new(status: u16, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError { status, code, message: message.into() }
    }

    /// The error as a JSON response.
    pub fn response(&self) -> Response {
        let body = serde_json::json!({
            "error": self.code,
            "message": self.message,
            "status": self.status,
        });
        Response::json(self.status, &body)
    }
}

/// A response to write.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    /// HTTP status.
    pub status: u16,
    /// `Content-Type`.
    pub content_type: &'static str,
    /// Extra header fields.
    pub headers: Vec<(&'static str, String)>,
    /// Body.
    pub body: Vec<u8>,
    /// Close the connection after it, whatever the client asked.
    pub close: bool,
}

/// `Content-Type` of JSON bodies.
pub const JSON: &str = "application/json";

impl Response {
    /// A JSON response.
    pub fn json(status: u16, value: &serde_json::Value) -> Response {
        let mut body = serde_json::to_vec_pretty(value).unwrap_or_else(|_| b"{}".to_vec());
        body.push(b'\n');
        Response { status, content_type: JSON, headers: Vec::new(), body, close: false }
    }

    /// A response with `body` of `content_type`.
    pub fn bytes(status: u16, content_type: &'static str, body: Vec<u8>) -> Response {
        Response { status, content_type, headers: Vec::new(), body, close: false }
    }

    /// Adds a header field.
    pub fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Response {
        self.headers.push((name, value.into()));
        self
    }

    /// Appends the response to `out`; `head_only` for HEAD requests.
    pub fn write_to(&self, out: &mut Vec<u8>, head_only: bool, keep_alive: bool) {
        let mut head = String::with_capacity(192);
        let _ = write!(
            head,
            "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nCache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\nConnection: {}\r\n",
            self.status,
            reason(self.status),
            self.content_type,
            self.body.len(),
            if keep_alive && !self.close { "keep-alive" } else { "close" }
        );
        for (n, v) in &self.headers {
            let _ = write!(head, "{n}: {v}\r\n");
        }
        head.push_str("\r\n");
        out.extend_from_slice(head.as_bytes());
        if !head_only {
            out.extend_from_slice(&self.body);
        }
    }
}

/// The reason phrase of a status code.
pub fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        202 => "Accepted",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        409 => "Conflict",
        413 => "Content Too Large",
        414 => "URI Too Long",
        415 => "Unsupported Media Type",
        422 => "Unprocessable Content",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        505 => "HTTP Version Not Supported",
        _ => "Unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: Limits = Limits { request_line: 64, header_bytes: 1024, headers: 8, body: 16 };

    fn err(buf: &[u8]) -> ApiError {
        match parse(buf, &LIMITS) {
            Parsed::Error(e) => e,
            other => panic!("expected an error, got {other:?}"),
        }
    }

    #[test]
    fn parses_and_frames() {
        let raw = b"POST /halt?x=1 HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\n{}GET";
        let Parsed::Done(r, n) = parse(raw, &LIMITS) else { panic!() };
        assert_eq!(
            (r.method.as_str(), r.path.as_str(), r.query.as_deref()),
            ("POST", "/halt", Some("x=1"))
        );
        assert_eq!(r.body, b"{}");
        assert!(r.keep_alive);
        assert_eq!(&raw[n..], b"GET");
        assert_eq!(parse(b"GET / HTTP/1.1\r\nHost: a\r\n", &LIMITS), Parsed::Incomplete);
        assert_eq!(
            parse(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nab", &LIMITS),
            Parsed::Incomplete
        );
        let Parsed::Done(r, _) = parse(b"GET / HTTP/1.0\r\n\r\n", &LIMITS) else { panic!() };
        assert!(!r.keep_alive, "HTTP/1.0 closes by default");
        let Parsed::Done(r, _) =
            parse(b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", &LIMITS)
        else {
            panic!()
        };
        assert!(!r.keep_alive);
    }

    #[test]
    fn limits_and_malformed_input() {
        let long = format!("GET /{} HTTP/1.1\r\n", "a".repeat(100));
        assert_eq!(err(long.as_bytes()).status, 414);
        assert_eq!(
            err("GET /aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                .as_bytes())
            .status,
            414
        );
        let many: String = (0..10).map(|i| format!("X-{i}: v\r\n")).collect();
        assert_eq!(err(format!("GET / HTTP/1.1\r\nHost: a\r\n{many}\r\n").as_bytes()).status, 431);
        let big = format!("GET / HTTP/1.1\r\nHost: a\r\nX: {}\r\n", "v".repeat(2000));
        assert_eq!(err(big.as_bytes()).status, 431);
        let e = err(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 17\r\n\r\n");
        assert_eq!((e.status, e.code), (413, "content_too_large"));
        assert_eq!(err(b"GET / HTTP/1.1\r\n\r\n").status, 400, "no Host");
        assert_eq!(err(b"GET / HTTP/2.0\r\nHost: a\r\n\r\n").status, 505);
        assert_eq!(err(b"G\x01T / HTTP/1.1\r\n\r\n").status, 400);
        assert_eq!(err(b"GET http://x/ HTTP/1.1\r\nHost: a\r\n\r\n").status, 400);
        assert_eq!(
            err(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n")
                .status,
            400
        );
        assert_eq!(err(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n").status, 400);
        assert_eq!(
            err(b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n").status,
            501
        );
    }

    #[test]
    fn responses_frame_their_body() {
        let mut out = Vec::new();
        ApiError::new(404, "not_found", "no route").response().write_to(&mut out, false, true);
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("HTTP/1.1 404 Not Found\r\n"), "{text}");
        assert!(text.contains("Connection: keep-alive\r\n"));
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(head.contains(&format!("Content-Length: {}", body.len())));
        let v: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(v["error"], "not_found");
    }
}
