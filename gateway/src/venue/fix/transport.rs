//! The FIX session's TCP connection: non-blocking `mio`, reconnect with exponential backoff.
//!
//! Nothing here blocks: a connect is started and finished on later polls, reads stop at
//! `WouldBlock` (or when the session's buffer is full), writes leave what the socket would not
//! take in the session's send buffer for the next poll. One `epoll_wait(0)` per poll while a
//! socket exists; none while waiting out a backoff.

use std::io::{ErrorKind, Read, Write};
use std::net::SocketAddr;
use std::time::Duration;

use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};
use tickline_engine::types::Nanos;

use super::session::Session;
use crate::error::{Error, Result};

const SOCKET: Token = Token(0);
/// A connect that has not completed in this long is abandoned.
const CONNECT_TIMEOUT_NS: i64 = 5_000_000_000;

/// Why the link went down.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkDown {
    /// The connect failed or timed out.
    ConnectFailed(ErrorKind),
    /// The peer closed the connection.
    Eof,
    /// A read or write failed.
    Io(ErrorKind),
    /// The session asked for it.
    Closed,
}

/// What happened on the link during a poll.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkEvent {
    /// Nothing new.
    Idle,
    /// The TCP connection is established.
    Up,
    /// The connection is gone (or never came).
    Down(LinkDown),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Link {
    Idle,
    Connecting,
    Up,
}

/// The connection and its reconnect schedule.
#[derive(Debug)]
pub struct Transport {
    poll: Poll,
    events: Events,
    addr: SocketAddr,
    stream: Option<TcpStream>,
    link: Link,
    since: Nanos,
    next_attempt: Nanos,
    backoff: i64,
    min_backoff: i64,
    max_backoff: i64,
    readable: bool,
}

impl Transport {
    /// A transport to `addr`, first attempt on the first poll.
    pub fn new(addr: SocketAddr, min_backoff_ns: i64, max_backoff_ns: i64) -> Result<Transport> {
        let poll = Poll::new().map_err(|source| Error::Io { what: "mio poller", source })?;
        let min = min_backoff_ns.max(1_000_000);
        Ok(Transport {
            poll,
            events: Events::with_capacity(8),
            addr,
            stream: None,
            link: Link::Idle,
            since: Nanos::ZERO,
            next_attempt: Nanos::ZERO,
            backoff: min,
            min_backoff: min,
            max_backoff: max_backoff_ns.max(min),
            readable: false,
        })
    }

    /// Whether the TCP connection is established.
    #[inline]
    pub fn is_up(&self) -> bool {
        self.link == Link::Up
    }

    /// When the next connect will be tried (while down).
    pub fn next_attempt(&self) -> Nanos {
        self.next_attempt
    }

    /// After a successful logon: the next disconnect starts from the shortest backoff.
    pub fn reset_backoff(&mut self) {
        self.backoff = self.min_backoff;
    }

    /// Connects when due, notices a completed connect, reads what arrived into the session.
    pub fn drive(&mut self, now: Nanos, session: &mut Session) -> LinkEvent {
        if self.link == Link::Idle {
            if now < self.next_attempt {
                return LinkEvent::Idle;
            }
            return self.start_connect(now);
        }
        if let Err(e) = self.poll.poll(&mut self.events, Some(Duration::ZERO)) {
            if e.kind() != ErrorKind::Interrupted {
                return self.down(now, LinkDown::Io(e.kind()));
            }
        }
        let mut writable = false;
        let mut failed = false;
        for ev in self.events.iter() {
            if ev.token() == SOCKET {
                self.readable |= ev.is_readable() || ev.is_read_closed();
                writable |= ev.is_writable();
                failed |= ev.is_error();
            }
        }
        if self.link == Link::Connecting {
            if writable || failed {
                return self.finish_connect(now);
            }
            if now.since(self.since) > CONNECT_TIMEOUT_NS as u64 {
                return self.down(now, LinkDown::ConnectFailed(ErrorKind::TimedOut));
            }
            return LinkEvent::Idle;
        }
        if self.readable {
            if let Some(why) = self.read(session) {
                return self.down(now, why);
            }
        }
        LinkEvent::Idle
    }

    fn start_connect(&mut self, now: Nanos) -> LinkEvent {
        let mut stream = match TcpStream::connect(self.addr) {
            Ok(s) => s,
            Err(e) => return self.down(now, LinkDown::ConnectFailed(e.kind())),
        };
        let interest = Interest::READABLE | Interest::WRITABLE;
        if let Err(e) = self.poll.registry().register(&mut stream, SOCKET, interest) {
            return self.down(now, LinkDown::ConnectFailed(e.kind()));
        }
        self.stream = Some(stream);
        self.link = Link::Connecting;
        self.since = now;
        self.readable = false;
        LinkEvent::Idle
    }

    fn finish_connect(&mut self, now: Nanos) -> LinkEvent {
        let Some(stream) = self.stream.as_ref() else {
            return self.down(now, LinkDown::ConnectFailed(ErrorKind::NotConnected));
        };
        match stream.take_error() {
            Ok(None) => {}
            Ok(Some(e)) | Err(e) => return self.down(now, LinkDown::ConnectFailed(e.kind())),
        }
        match stream.peer_addr() {
            Ok(_) => {
                let _ = stream.set_nodelay(true);
                self.link = Link::Up;
                self.since = now;
                LinkEvent::Up
            }
            Err(e) if e.kind() == ErrorKind::NotConnected => LinkEvent::Idle,
            Err(e) => self.down(now, LinkDown::ConnectFailed(e.kind())),
        }
    }

    /// Reads until `WouldBlock`, EOF or a full session buffer.
    fn read(&mut self, session: &mut Session) -> Option<LinkDown> {
        let stream = self.stream.as_mut()?;
        loop {
            let buf = session.recv_buf();
            if buf.is_empty() {
                // Process first; read the rest on the next poll (edge-triggered: keep the flag).
                return None;
            }
            match stream.read(buf) {
                Ok(0) => return Some(LinkDown::Eof),
                Ok(n) => session.received(n),
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    self.readable = false;
                    return None;
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Some(LinkDown::Io(e.kind())),
            }
        }
    }

    /// Writes what the session has for the socket, as much as it takes now.
    pub fn flush(&mut self, now: Nanos, session: &mut Session) -> Option<LinkEvent> {
        if self.link != Link::Up {
            return None;
        }
        let stream = self.stream.as_mut()?;
        while !session.output().is_empty() {
            match stream.write(session.output()) {
                Ok(0) => return Some(self.down(now, LinkDown::Eof)),
                Ok(n) => session.consume_output(n),
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Some(self.down(now, LinkDown::Io(e.kind()))),
            }
        }
        None
    }

    /// Closes the connection (the session asked) and schedules the next attempt.
    pub fn close(&mut self, now: Nanos) -> LinkEvent {
        self.down(now, LinkDown::Closed)
    }

    fn down(&mut self, now: Nanos, why: LinkDown) -> LinkEvent {
        if let Some(mut s) = self.stream.take() {
            let _ = self.poll.registry().deregister(&mut s);
            let _ = s.shutdown(std::net::Shutdown::Both);
        }
        self.link = Link::Idle;
        self.readable = false;
        self.next_attempt = now.add_nanos(self.backoff);
        self.backoff = (self.backoff.saturating_mul(2)).min(self.max_backoff);
        LinkEvent::Down(why)
    }
}
