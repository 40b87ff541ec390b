//! `ws://`, `wss://`, `http://` and `https://` endpoints, parsed once at start-up.

use super::error::ConnectionError;

/// A parsed endpoint: scheme, host, port and the request path (with its query).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    /// Whether the scheme is `wss`/`https`.
    pub tls: bool,
    /// Whether the scheme is `ws`/`wss` (else `http`/`https`).
    pub websocket: bool,
    /// Host name or IP literal (IPv6 without brackets).
    pub host: String,
    /// Port (the scheme's default when the URL names none).
    pub port: u16,
    /// Path and query, starting with `/`.
    pub path: String,
}

impl Endpoint {
    /// Parses `scheme://host[:port][/path][?query]`.
    pub fn parse(url: &str) -> Result<Endpoint, ConnectionError> {
        let bad = |reason| ConnectionError::BadUrl { url: url.to_owned(), reason };
        let (scheme, rest) = url.split_once("://").ok_or_else(|| bad("no scheme"))?;
        let (tls, websocket, default_port) = match scheme.to_ascii_lowercase().as_str() {
            "ws" => (false, true, 80),
            "wss" => (true, true, 443),
            "http" => (false, false, 80),
            "https" => (true, false, 443),
            _ => return Err(bad("scheme must be ws, wss, http or https")),
        };
        let split = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, path) = rest.split_at(split);
        if authority.contains('@') {
            return Err(bad("credentials in the URL are not supported"));
        }
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let (h, after) = v6.split_once(']').ok_or_else(|| bad("unclosed `[` in the host"))?;
            match after.strip_prefix(':') {
                Some(p) => (h, Some(p)),
                None if after.is_empty() => (h, None),
                None => return Err(bad("junk after the IPv6 host")),
            }
        } else {
            match authority.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (authority, None),
            }
        };
        if host.is_empty() {
            return Err(bad("no host"));
        }
        let port = match port {
            Some(p) => p.parse::<u16>().ok().filter(|&p| p > 0).ok_or_else(|| bad("bad port"))?,
            None => default_port,
        };
        let path = match path {
            "" => "/".to_owned(),
            p if p.starts_with('?') => format!("/{p}"),
            p => p.to_owned(),
        };
        Ok(Endpoint { tls, websocket, host: host.to_owned(), port, path })
    }

    /// The same endpoint with another path and query.
    #[must_use]
    pub fn with_path(&self, path: &str) -> Endpoint {
        let mut e = self.clone();
        e.path = if path.starts_with('/') { path.to_owned() } else { format!("/{path}") };
        e
    }

    /// The host as it goes in a URL or `Host` header (IPv6 in brackets).
    pub fn authority(&self) -> String {
        let default = if self.tls { 443 } else { 80 };
        let host =
            if self.host.contains(':') { format!("[{}]", self.host) } else { self.host.clone() };
        if self.port == default {
            host
        } else {
            format!("{host}:{}", self.port)
        }
    }

    /// The full URL.
    pub fn url(&self) -> String {
        let scheme = match (self.websocket, self.tls) {
            (true, false) => "ws",
            (true, true) => "wss",
            (false, false) => "http",
            (false, true) => "https",
        };
        format!("{scheme}://{}{}", self.authority(), self.path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_schemes_ports_and_paths() {
        let e = Endpoint::parse("wss://stream.binance.com:9443").unwrap();
        assert_eq!((e.tls, e.websocket, e.port, e.path.as_str()), (true, true, 9443, "/"));
        assert_eq!(e.host, "stream.binance.com");
        let e = Endpoint::parse("ws://127.0.0.1:8080/stream?streams=a/b").unwrap();
        assert_eq!((e.tls, e.port, e.path.as_str()), (false, 8080, "/stream?streams=a/b"));
        assert_eq!(e.url(), "ws://127.0.0.1:8080/stream?streams=a/b");
        let e = Endpoint::parse("https://api.binance.com").unwrap();
        assert_eq!((e.tls, e.websocket, e.port), (true, false, 443));
        assert_eq!(
            e.with_path("/api/v3/depth?symbol=X").url(),
            "https://api.binance.com/api/v3/depth?symbol=X"
        );
        let e = Endpoint::parse("ws://[::1]:9000/ws").unwrap();
        assert_eq!(
            (e.host.as_str(), e.port, e.authority()),
            ("::1", 9000, "[::1]:9000".to_owned())
        );
    }

    #[test]
    fn rejects_what_cannot_work() {
        for bad in [
            "stream.binance.com",
            "ftp://x",
            "ws://",
            "ws://h:0",
            "ws://h:99999",
            "ws://u@h",
            "ws://[::1",
        ] {
            assert!(Endpoint::parse(bad).is_err(), "{bad}");
        }
    }
}
