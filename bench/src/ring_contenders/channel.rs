//! `crossbeam_channel::bounded` with blocking `send`/`recv`: the ordinary choice, and the bar
//! a lock-free ring has to clear by a wide margin to be worth having.

use crossbeam_channel::{Receiver as ChanRx, Sender as ChanTx, TryRecvError};

use super::{Idle, Poll, Receiver, Sender};

pub(super) fn pair(capacity: usize) -> (ChanTx<u64>, ChanRx<u64>) {
    crossbeam_channel::bounded(capacity)
}

impl Sender for ChanTx<u64> {
    /// Blocks inside the channel; `idle` is not used.
    #[inline(always)]
    fn send(&mut self, v: u64, _idle: &mut Idle) {
        // The receiver outlives every send in both loops (it stops only once this side is
        // dropped or everything has arrived), so an error here is a bug in the loop.
        if ChanTx::send(self, v).is_err() {
            panic!("bench channel: receiver dropped while sending");
        }
    }
}

impl Receiver for ChanRx<u64> {
    #[inline(always)]
    fn try_drain(&mut self, max: usize, mut f: impl FnMut(u64)) -> Poll {
        let mut n = 0;
        while n < max {
            match self.try_recv() {
                Ok(v) => {
                    f(v);
                    n += 1;
                }
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) if n == 0 => return Poll::Closed,
                Err(TryRecvError::Disconnected) => break,
            }
        }
        if n == 0 {
            Poll::Empty
        } else {
            Poll::Ready(n)
        }
    }

    /// Blocks in `recv` for the first value, then takes what else is there.
    #[inline(always)]
    fn drain(&mut self, max: usize, _idle: &mut Idle, mut f: impl FnMut(u64)) -> Option<usize> {
        let first = self.recv().ok()?;
        f(first);
        match self.try_drain(max.saturating_sub(1), f) {
            Poll::Ready(n) => Some(1 + n),
            Poll::Empty | Poll::Closed => Some(1),
        }
    }
}
