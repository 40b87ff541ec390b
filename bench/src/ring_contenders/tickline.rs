//! Our ring, `FullPolicy::Block`, one consumer.

use tickline_engine::ring::{Consumer, Full, FullPolicy, Producer, Ring};

use super::{Idle, Poll, Receiver, Sender};

pub(super) fn pair(capacity: usize) -> (Producer<u64>, Consumer<u64>) {
    // The capacity comes from `RunOptions`, whose callers pick a power of two.
    Ring::<u64>::builder("bench", capacity)
        .policy(FullPolicy::Block)
        .build_one()
        .unwrap_or_else(|e| panic!("bench ring: {e}"))
}

impl Sender for Producer<u64> {
    /// `try_push` in a loop rather than `Producer::push`, so the wait is the bench's [`Idle`]
    /// (which can hot-spin) like every other contender's; `push` does the same loop.
    #[inline(always)]
    fn send(&mut self, v: u64, idle: &mut Idle) {
        let mut v = v;
        loop {
            match self.try_push(v) {
                Ok(()) => {
                    idle.reset();
                    return;
                }
                Err(Full(back)) => {
                    v = back;
                    idle.idle();
                }
            }
        }
    }
}

impl Receiver for Consumer<u64> {
    #[inline(always)]
    fn try_drain(&mut self, max: usize, f: impl FnMut(u64)) -> Poll {
        match self.poll(max, f) {
            0 if self.is_finished() => Poll::Closed,
            0 => Poll::Empty,
            n => Poll::Ready(n),
        }
    }
}
