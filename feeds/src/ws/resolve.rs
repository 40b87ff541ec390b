//! Host name resolution off the feed thread.
//!
//! `getaddrinfo` blocks for as long as DNS takes, so a host name is resolved on a short-lived
//! helper thread and the feed thread polls for the answer. IP literals need no lookup.

use std::io;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::sync::mpsc::{self, Receiver, TryRecvError};

/// A lookup in progress or done.
#[derive(Debug)]
pub enum Lookup {
    /// Answered at once (an IP literal).
    Ready(Vec<SocketAddr>),
    /// Waiting for the helper thread.
    Pending(Receiver<io::Result<Vec<SocketAddr>>>),
}

impl Lookup {
    /// Starts resolving `host:port`.
    pub fn start(host: &str, port: u16) -> Lookup {
        if let Ok(ip) = host.parse::<IpAddr>() {
            return Lookup::Ready(vec![SocketAddr::new(ip, port)]);
        }
        let (tx, rx) = mpsc::channel();
        let host = host.to_owned();
        let spawned = std::thread::Builder::new().name("dns".into()).spawn(move || {
            let r = (host.as_str(), port).to_socket_addrs().map(Iterator::collect);
            let _ = tx.send(r);
        });
        match spawned {
            Ok(_) => Lookup::Pending(rx),
            Err(e) => {
                let (tx, rx) = mpsc::channel();
                let _ = tx.send(Err(e));
                Lookup::Pending(rx)
            }
        }
    }

    /// The addresses once known: `None` while pending.
    pub fn poll(&mut self) -> Option<io::Result<Vec<SocketAddr>>> {
        match self {
            Lookup::Ready(a) => Some(Ok(std::mem::take(a))),
            Lookup::Pending(rx) => match rx.try_recv() {
                Ok(r) => Some(r),
                Err(TryRecvError::Empty) => None,
                Err(TryRecvError::Disconnected) => {
                    Some(Err(io::Error::other("resolver thread ended without an answer")))
                }
            },
        }
    }
}
