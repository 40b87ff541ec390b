//! The simulator's listener: WebSocket streams and the REST depth snapshot on one port.
//!
//! One thread accepts; each connection gets a thread. A connection's first request line
//! routes it: `GET /api/v3/depth?…` is answered as HTTP and closed, anything else is a
//! WebSocket upgrade (`/stream?streams=…` for Binance, `/ws/v5/public` for OKX).

use std::collections::HashSet;
use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, TryRecvError};
use tungstenite::handshake::server::{Request, Response};
use tungstenite::{Bytes, Message, WebSocket};

use super::venue::{binance_key, Out, Shared, SimVenue, SnapshotBody};

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// Accepts connections until `shared.stop`.
pub fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    let _ = listener.set_nonblocking(true);
    while !shared.stop.load(Ordering::Relaxed) {
        match listener.accept() {
            Ok((stream, _)) => {
                let shared = Arc::clone(&shared);
                let _ = std::thread::Builder::new().name("feed-sim-conn".into()).spawn(move || {
                    if let Err(e) = serve(stream, &shared) {
                        tracing::debug!(error = %e, "feed-sim connection ended");
                    }
                });
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(2));
            }
            Err(e) => {
                tracing::warn!(error = %e, "feed-sim accept failed");
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }
}

/// The request target of the first line, read without consuming it.
fn peek_target(stream: &TcpStream) -> io::Result<String> {
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut buf = [0u8; 2048];
    loop {
        let n = stream.peek(&mut buf)?;
        if let Some(eol) = buf[..n].windows(2).position(|w| w == b"\r\n") {
            let line = String::from_utf8_lossy(&buf[..eol]).into_owned();
            let mut parts = line.split_whitespace();
            return match (parts.next(), parts.next()) {
                (Some("GET"), Some(target)) => Ok(target.to_owned()),
                _ => Err(io::Error::new(io::ErrorKind::InvalidData, "not a GET request")),
            };
        }
        if n == 0 || n == buf.len() || Instant::now() > deadline {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "no request line"));
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

fn query<'a>(target: &'a str, key: &str) -> Option<&'a str> {
    let q = target.split_once('?')?.1;
    q.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        (k == key).then_some(v)
    })
}

fn serve(stream: TcpStream, shared: &Arc<Shared>) -> io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    let target = peek_target(&stream)?;
    if target.starts_with("/api/v3/depth") {
        return serve_depth(stream, shared, &target);
    }
    serve_ws(stream, shared)
}

fn serve_depth(mut stream: TcpStream, shared: &Shared, target: &str) -> io::Result<()> {
    // Read the whole request head so closing does not reset the connection.
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 16 << 10 {
        let n = stream.read(&mut buf)?;
        if n == 0 {
            break;
        }
        head.extend_from_slice(&buf[..n]);
    }
    let symbol = query(target, "symbol").unwrap_or("");
    let limit = query(target, "limit").and_then(|l| l.parse().ok()).unwrap_or(100usize);
    let answer = {
        let v = shared.lock();
        if v.kind == SimVenue::Binance {
            v.binance_snapshot(symbol, limit.clamp(1, 5_000))
        } else {
            None
        }
    };
    let (status, body) = match answer {
        Some(SnapshotBody::Ready(body)) => {
            shared.stats.snapshots.fetch_add(1, Ordering::Relaxed);
            ("200 OK", body)
        }
        Some(SnapshotBody::NotReady) => {
            ("503 Service Unavailable", r#"{"code":-1,"msg":"book not ready"}"#.to_owned())
        }
        None => ("400 Bad Request", r#"{"code":-1121,"msg":"Invalid symbol."}"#.to_owned()),
    };
    let resp = format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(resp.as_bytes())?;
    stream.flush()?;
    let _ = stream.shutdown(Shutdown::Write);
    Ok(())
}

fn would_block(e: &tungstenite::Error) -> bool {
    matches!(e, tungstenite::Error::Io(io) if io.kind() == io::ErrorKind::WouldBlock)
}

// The handshake callback's error type is tungstenite's own HTTP response.
#[allow(clippy::result_large_err)]
fn serve_ws(stream: TcpStream, shared: &Arc<Shared>) -> io::Result<()> {
    let mut path = String::new();
    let mut ws = tungstenite::accept_hdr(stream, |req: &Request, resp: Response| {
        path = req.uri().to_string();
        Ok(resp)
    })
    .map_err(|e| io::Error::other(e.to_string()))?;
    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    shared.stats.connections.fetch_add(1, Ordering::Relaxed);
    let (tx, rx) = crossbeam_channel::unbounded::<Out>();
    let kind = {
        let mut v = shared.lock();
        let mut keys = HashSet::new();
        if v.kind == SimVenue::Binance {
            if let Some(streams) = query(&path, "streams") {
                keys.extend(streams.split('/').filter(|s| !s.is_empty()).map(binance_key));
            }
        }
        v.subscribe(id, keys, tx);
        v.kind
    };
    ws.get_mut().set_nonblocking(true)?;
    let r = pump(&mut ws, &rx, shared, id, kind);
    shared.lock().unsubscribe(id);
    r
}

enum Delivered {
    Ok,
    Cut,
}

/// Writes one venue item to the socket (buffered; flushed by the caller).
fn deliver(
    ws: &mut WebSocket<TcpStream>,
    item: Out,
    closing: &mut Option<Instant>,
) -> io::Result<Delivered> {
    if closing.is_some() {
        return Ok(Delivered::Ok);
    }
    let r = match item {
        Out::Text(t) => ws.write(Message::Text(t)),
        Out::Binary(b) => ws.write(Message::Binary(b.into())),
        Out::Pings(n) => {
            let mut r = Ok(());
            for _ in 0..n {
                r = ws.write(Message::Ping(Bytes::from_static(b"storm")));
                if r.as_ref().is_err_and(|e| !would_block(e)) {
                    break;
                }
            }
            r
        }
        Out::Disconnect => {
            let _ = ws.get_mut().shutdown(Shutdown::Both);
            return Ok(Delivered::Cut);
        }
        Out::Close => {
            *closing = Some(Instant::now());
            ws.close(None)
        }
    };
    match r {
        Ok(()) => Ok(Delivered::Ok),
        Err(e) if would_block(&e) => Ok(Delivered::Ok),
        Err(e) => Err(io::Error::other(e.to_string())),
    }
}

/// Moves frames from the venue to the socket and answers what the client sends.
fn pump(
    ws: &mut WebSocket<TcpStream>,
    rx: &Receiver<Out>,
    shared: &Shared,
    id: u64,
    kind: SimVenue,
) -> io::Result<()> {
    let io_err = |e: tungstenite::Error| io::Error::other(e.to_string());
    let mut closing: Option<Instant> = None;
    loop {
        if shared.stop.load(Ordering::Relaxed) {
            let _ = ws.close(None);
            let _ = ws.flush();
            return Ok(());
        }
        if closing.is_some_and(|t| t.elapsed() > Duration::from_secs(1)) {
            return Ok(());
        }
        let mut busy = false;
        for _ in 0..512 {
            let item = match rx.try_recv() {
                Ok(o) => o,
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => return Ok(()),
            };
            busy = true;
            if let Delivered::Cut = deliver(ws, item, &mut closing)? {
                return Ok(());
            }
        }
        match ws.flush() {
            Ok(()) => {}
            Err(e) if would_block(&e) => busy = true,
            Err(tungstenite::Error::ConnectionClosed) => return Ok(()),
            Err(e) => return Err(io_err(e)),
        }
        match ws.read() {
            Ok(Message::Text(t)) => {
                busy = true;
                answer(ws, shared, id, kind, t.as_str()).map_err(io_err)?;
            }
            Ok(Message::Close(_)) => {
                let _ = ws.flush();
                return Ok(());
            }
            Ok(_) => busy = true,
            Err(e) if would_block(&e) => {}
            Err(tungstenite::Error::ConnectionClosed | tungstenite::Error::AlreadyClosed) => {
                return Ok(())
            }
            Err(e) => return Err(io_err(e)),
        }
        if !busy {
            match rx.recv_timeout(Duration::from_millis(1)) {
                Ok(o) => {
                    if let Delivered::Cut = deliver(ws, o, &mut closing)? {
                        return Ok(());
                    }
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return Ok(()),
            }
        }
    }
}

/// Answers a client text message: OKX `ping` and (un)subscriptions, Binance SUBSCRIBE.
fn answer(
    ws: &mut WebSocket<TcpStream>,
    shared: &Shared,
    id: u64,
    kind: SimVenue,
    text: &str,
) -> tungstenite::Result<()> {
    let send = |ws: &mut WebSocket<TcpStream>, s: String| match ws.write(Message::text(s)) {
        Err(e) if !would_block(&e) => Err(e),
        _ => Ok(()),
    };
    if text == "ping" {
        return send(ws, "pong".into());
    }
    let Ok(v) = serde_json::from_str::<serde_json::Value>(text) else {
        return send(ws, r#"{"event":"error","code":"60012","msg":"Invalid request"}"#.into());
    };
    match kind {
        SimVenue::Binance => {
            let method = v.get("method").and_then(|m| m.as_str()).unwrap_or("");
            let params: Vec<String> = v
                .get("params")
                .and_then(|p| p.as_array())
                .map(|a| a.iter().filter_map(|s| s.as_str()).map(binance_key).collect())
                .unwrap_or_default();
            {
                let mut venue = shared.lock();
                if let Some(sub) = venue.sub_mut(id) {
                    for p in params {
                        if method == "SUBSCRIBE" {
                            sub.keys.insert(p);
                        } else if method == "UNSUBSCRIBE" {
                            sub.keys.remove(&p);
                        }
                    }
                }
            }
            let rid = v.get("id").cloned().unwrap_or(serde_json::Value::Null);
            send(ws, format!(r#"{{"result":null,"id":{rid}}}"#))
        }
        SimVenue::Okx => {
            let op = v.get("op").and_then(|m| m.as_str()).unwrap_or("").to_owned();
            let args = v.get("args").and_then(|a| a.as_array()).cloned().unwrap_or_default();
            for a in args {
                let ch = a.get("channel").and_then(|c| c.as_str()).unwrap_or("");
                let inst = a.get("instId").and_then(|c| c.as_str()).unwrap_or("");
                let mut venue = shared.lock();
                if !venue.knows(inst) || !["books", "bbo-tbt", "trades"].contains(&ch) {
                    drop(venue);
                    send(
                        ws,
                        format!(
                            r#"{{"event":"error","code":"60018","msg":"Wrong URL or channel:{ch},instId:{inst} doesn't exist"}}"#
                        ),
                    )?;
                    continue;
                }
                let key = format!("{ch}:{inst}");
                let snapshot = if op == "subscribe" && ch == "books" {
                    venue.okx_snapshot(inst)
                } else {
                    None
                };
                if let Some(sub) = venue.sub_mut(id) {
                    match op.as_str() {
                        "subscribe" => {
                            sub.keys.insert(key);
                            if let Some(s) = snapshot {
                                // Under the venue lock: the next update follows this snapshot.
                                let _ = sub.tx.send(Out::Text(s.into()));
                            }
                        }
                        "unsubscribe" => {
                            sub.keys.remove(&key);
                        }
                        _ => {}
                    }
                }
                drop(venue);
                send(
                    ws,
                    format!(
                        r#"{{"event":"{op}","arg":{{"channel":"{ch}","instId":"{inst}"}},"connId":"sim{id}"}}"#
                    ),
                )?;
            }
            Ok(())
        }
    }
}
