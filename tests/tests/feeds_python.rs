//! The live Binance feed against a venue that is not ours: a Python `websockets` server
//! (installed by `.ci/run`) that the test writes to a scratch directory, starts on
//! 127.0.0.1 with a free port, and kills at the end. Its script, connection by connection:
//!
//! 1. streams a consistent book (bookTicker + depth diffs) and serves `GET /api/v3/depth`,
//!    then sends one frame of every bad-input kind, a binary frame and an oversized frame,
//!    pings the client and waits for its pong, skips 50 update ids (a gap), streams on,
//!    and closes the connection;
//! 2. streams a little, then stalls (no frames, no pings) until the client gives up on it;
//! 3. streams until the client leaves.
//!
//! A second test runs the same venue over TLS (`wss://` and `https://`, a CA made with
//! `rcgen`). Timeouts are hang guards only.

mod feeds_support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use feeds_support::{poll_until, registry, spawn_with_port, Proc, BTCUSDT};
use tickline_engine::types::{Tick, TickFlags, TickKind};
use tickline_feeds::venue::binance::connection::{BinanceFeed, BinanceFeedConfig};
use tickline_feeds::DecodeError;
use tickline_tests::scratch;

const GUARD: Duration = Duration::from_secs(90);

const VENUE_PY: &str = r#"
import asyncio, json, random, ssl, sys
from http import HTTPStatus
from websockets.asyncio.server import serve
from websockets.exceptions import ConnectionClosed

rng = random.Random(7)
S = {"id": 1000, "mid": 6000000, "bids": {}, "asks": {}, "conns": 0, "pongs": 0, "snapshots": 0}
for k in range(1, 21):
    S["bids"][S["mid"] - k] = rng.randint(1, 5000) * 1000
    S["asks"][S["mid"] + k] = rng.randint(1, 5000) * 1000

def px(c): return f"{c // 100}.{c % 100:02d}000000"
def qty(l): return f"{l // 100000000}.{l % 100000000:08d}"

def top():
    b = max(S["bids"]); a = min(S["asks"])
    return b, S["bids"][b], a, S["asks"][a]

def step():
    changes = []
    for _ in range(rng.randint(1, 3)):
        side = rng.choice(("b", "a"))
        d = rng.randint(1, 20)
        p = S["mid"] - d if side == "b" else S["mid"] + d
        q = 0 if rng.random() < 0.2 else rng.randint(1, 5000) * 1000
        book = S["bids"] if side == "b" else S["asks"]
        if q == 0:
            if len(book) < 3: continue
            book.pop(p, None)
        else:
            book[p] = q
        changes.append((side, p, q))
    if not changes:
        return []
    first = S["id"] + 1
    S["id"] += len(changes)
    b, bq, a, aq = top()
    ticker = {"stream": "btcusdt@bookTicker", "data": {"u": S["id"], "s": "BTCUSDT", "b": px(b), "B": qty(bq), "a": px(a), "A": qty(aq)}}
    depth = {"stream": "btcusdt@depth@100ms", "data": {"e": "depthUpdate", "E": 1, "s": "BTCUSDT", "U": first, "u": S["id"],
             "b": [[px(p), qty(q)] for s, p, q in changes if s == "b"],
             "a": [[px(p), qty(q)] for s, p, q in changes if s == "a"]}}
    return [json.dumps(ticker, separators=(",", ":")), json.dumps(depth, separators=(",", ":"))]

async def stream(ws, n):
    for _ in range(n):
        for f in step():
            await ws.send(f)
        await asyncio.sleep(0.0005)

T = '{"stream":"btcusdt@bookTicker","data":{"u":1,"s":"BTCUSDT","b":%s,"B":"1.00","a":"101.00"%s}}'
BAD = [
    '{"stream":"btcusdt@bookTicker";"data":{"u":1,',
    T % ('100.00', ',"A":"1.00"'),
    T.replace("btcusdt@", "zzzusdt@").replace('"BTCUSDT"', '"ZZZUSDT"') % ('"100.00"', ',"A":"1.00"'),
    T % ('"-100.00"', ',"A":"1.00"'),
    T % ('"99999999999999999999.00"', ',"A":"1.00"'),
    T % ('"100.1234567891234567891"', ',"A":"1.00"'),
    T % ('"abc"', ',"A":"1.00"'),
    T % ('"100.00"', ''),
    T.replace("@bookTicker", "@kline_1m") % ('"100.00"', ',"A":"1.00"'),
    T.replace('"s":"BTCUSDT"', '"s":"ZZZUSDT"') % ('"100.00"', ',"A":"1.00"'),
    '{"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":1,"s":"BTCUSDT","U":9,"u":5,"b":[],"a":[]}}',
]

async def handler(ws):
    S["conns"] += 1
    n = S["conns"]
    try:
        if n == 1:
            await stream(ws, 300)
            for f in BAD:
                await ws.send(f)
            await ws.send(b"\x01binary where text belongs")
            await ws.send('{"stream":"x","data":"' + "x" * 100000 + '"}')
            await stream(ws, 100)
            waiter = await ws.ping(b"are you there")
            await asyncio.wait_for(waiter, 10)
            S["pongs"] += 1
            S["id"] += 50  # ids consumed without a diff: a gap
            await stream(ws, 300)
            await ws.close()
        elif n == 2:
            await stream(ws, 50)
            await asyncio.sleep(5)
        else:
            while True:
                await stream(ws, 100)
    except ConnectionClosed:
        pass

def process_request(connection, request):
    if request.path.startswith("/api/v3/depth"):
        S["snapshots"] += 1
        bids = sorted(S["bids"].items(), reverse=True)
        asks = sorted(S["asks"].items())
        body = {"lastUpdateId": S["id"], "bids": [[px(p), qty(q)] for p, q in bids], "asks": [[px(p), qty(q)] for p, q in asks]}
        return connection.respond(HTTPStatus.OK, json.dumps(body, separators=(",", ":")))
    if request.path.startswith("/stats"):
        return connection.respond(HTTPStatus.OK, json.dumps({k: S[k] for k in ("conns", "pongs", "snapshots")}))
    return None

async def main():
    tls = None
    if len(sys.argv) == 3:
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(sys.argv[1], sys.argv[2])
    async with serve(handler, "127.0.0.1", 0, process_request=process_request, ssl=tls,
                     ping_interval=None, max_size=None, compression=None) as server:
        print("listening on 127.0.0.1:%d" % server.sockets[0].getsockname()[1], flush=True)
        await asyncio.sleep(150)  # the server's own hang guard

asyncio.run(main())
"#;

/// Whether python3 with `websockets` is here; under CI its absence fails the test.
fn python_ready() -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import websockets.asyncio.server"])
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        assert!(
            std::env::var("CI").map_or(true, |v| v != "true"),
            "python3 with the `websockets` package is missing under CI (.ci/run installs it)"
        );
        eprintln!("SKIP: python3 with `websockets` not found (pip install websockets)");
    }
    ok
}

fn venue(dir: &Path, tls: Option<(&Path, &Path)>) -> (Proc, u16) {
    let script = dir.join("venue.py");
    std::fs::write(&script, VENUE_PY).unwrap();
    let mut cmd = Command::new("python3");
    cmd.arg(&script);
    if let Some((cert, key)) = tls {
        cmd.arg(cert).arg(key);
    }
    spawn_with_port(cmd)
}

fn stats(port: u16) -> serde_json::Value {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(b"GET /stats HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
    let mut text = String::new();
    let _ = s.read_to_string(&mut text);
    let body = text.split("\r\n\r\n").nth(1).unwrap_or("{}");
    serde_json::from_str(body).unwrap_or_default()
}

fn live_and_matching(feed: &BinanceFeed, ticks: &[Tick], min_applied: u64) -> bool {
    let Some(sync) = feed.handler().sync(BTCUSDT) else { return false };
    let Some(id) = sync.last_update_id() else { return false };
    if !sync.is_synced() || sync.counters().applied.get() < min_applied {
        return false;
    }
    ticks
        .iter()
        .rev()
        .find(|t| {
            t.kind() == TickKind::Quote
                && !t.flags().intersects(TickFlags::FROM_DEPTH.union(TickFlags::STALE))
                && t.seq() <= id
        })
        .is_some_and(|t| {
            t.seq() == id && sync.book().best_bid() == t.bid() && sync.book().best_ask() == t.ask()
        })
}

fn config(ws: String, rest: String) -> BinanceFeedConfig {
    let mut c = BinanceFeedConfig::new("binance-py", &["BTCUSDT"]);
    c.ws_url = ws;
    c.rest_url = rest;
    c.connection.backoff_min = Duration::from_millis(20);
    c.connection.backoff_max = Duration::from_millis(200);
    c.connection.stale_after = Duration::from_millis(1_500);
    c.reasonability.stale_after = Duration::from_millis(400);
    c.handler.max_frame_bytes = 64 << 10;
    c
}

#[test]
fn binance_feed_against_a_python_websockets_venue() {
    if !python_ready() {
        return;
    }
    let dir = scratch("feeds-python");
    let (_py, port) = venue(&dir, None);
    let c = config(format!("ws://127.0.0.1:{port}"), format!("http://127.0.0.1:{port}"));
    let mut feed = BinanceFeed::new(&registry(), c).unwrap();
    let mut ticks = Vec::new();
    poll_until(
        &mut feed,
        &mut ticks,
        GUARD,
        "the whole script: bad frames, pong, gap, close, stall",
        |f, t| {
            let tm = f.telemetry();
            tm.conn.reconnects.get() >= 2
                && tm.conn.stale.get() >= 1
                && tm.gaps() >= 1
                && live_and_matching(f, t, 200)
        },
    );
    let t = feed.telemetry();
    let errors = &t.handler.decode_errors;
    let all: Vec<_> = errors.iter().filter(|e| e.1 > 0).collect();
    for kind in DecodeError::ALL {
        assert_eq!(errors.get(kind), 1, "{} counted once: {all:?}", kind.as_str());
    }
    assert_eq!(t.conn.remote_closes.get(), 1, "connection 1 was closed by the venue");
    assert_eq!(t.conn.stale.get(), 1, "connection 2 stalled");
    assert_eq!(t.gaps(), 1);
    assert!(t.snapshots() >= 3, "first sync, the gap, and each reconnect resync");
    assert!(t.conn.pings_received.get() >= 1);
    assert!(
        t.reasonability.stale.get() >= 1,
        "silence and disconnects re-send the last quote as STALE"
    );
    assert!(
        ticks.iter().all(|t| t.bid().is_none_or(|b| b.px.raw() != 10_000)),
        "a bad frame became a tick"
    );
    let s = stats(port);
    assert_eq!(s["pongs"], 1, "the venue's ping was answered: {s}");
    assert!(s["conns"].as_u64().unwrap_or(0) >= 3, "{s}");
}

#[test]
fn binance_feed_over_tls_to_a_python_websockets_venue() {
    if !python_ready() {
        return;
    }
    let dir = scratch("feeds-python-tls");
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params.distinguished_name.push(rcgen::DnType::CommonName, "tickline test CA");
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["localhost".to_owned()])
        .unwrap()
        .signed_by(&key, &ca, &ca_key)
        .unwrap();
    let (ca_pem, cert_pem, key_pem) =
        (dir.join("ca.pem"), dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&ca_pem, ca.pem()).unwrap();
    std::fs::write(&cert_pem, cert.pem()).unwrap();
    std::fs::write(&key_pem, key.serialize_pem()).unwrap();
    let (_py, port) = venue(&dir, Some((&cert_pem, &key_pem)));
    let mut c = config(format!("wss://localhost:{port}"), format!("https://localhost:{port}"));
    c.connection.tls_roots = vec![ca_pem];
    let mut feed = BinanceFeed::new(&registry(), c).unwrap();
    let mut ticks = Vec::new();
    poll_until(&mut feed, &mut ticks, GUARD, "a book synced over wss and https", |f, t| {
        live_and_matching(f, t, 200)
    });
    let t = feed.telemetry();
    assert_eq!(t.conn.connect_failures.get(), 0);
    assert_eq!(t.snapshot_failures.get(), 0);
    assert!(feed.url().starts_with("wss://localhost:"));
}
