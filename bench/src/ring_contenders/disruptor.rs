//! disruptor-rs: a single producer and one `EventPoller` on our own thread.
//!
//! The poller rather than `handle_events_with`, so the consumer runs on the harness's thread B
//! (pinned and waiting like every other contender) instead of a thread the disruptor spawns.
//! Its README reports the two perform alike.

use disruptor::{
    BusySpin, EventPoller, Polling, Producer, RingBufferFull, SingleConsumerBarrier,
    SingleProducer, SingleProducerBarrier,
};

use super::{Idle, Poll, Receiver, Sender};

type Tx = SingleProducer<u64, SingleConsumerBarrier>;
type Rx = EventPoller<u64, SingleProducerBarrier>;

pub(super) fn pair(capacity: usize) -> (Tx, Rx) {
    // `BusySpin` is only used by threads the disruptor manages; the poller has none.
    let (poller, builder) =
        disruptor::build_single_producer(capacity, || 0u64, BusySpin).new_event_poller();
    (builder.build(), poller)
}

impl Sender for Tx {
    #[inline(always)]
    fn send(&mut self, v: u64, idle: &mut Idle) {
        while let Err(RingBufferFull) = self.try_publish(|e| *e = v) {
            idle.idle();
        }
        idle.reset();
    }
}

impl Receiver for Rx {
    #[inline(always)]
    fn try_drain(&mut self, max: usize, mut f: impl FnMut(u64)) -> Poll {
        match self.take(max as u64) {
            Ok(mut events) => {
                let mut n = 0;
                for &e in &mut events {
                    f(e);
                    n += 1;
                }
                // Dropping `events` releases the slots.
                Poll::Ready(n)
            }
            Err(Polling::NoEvents) => Poll::Empty,
            Err(Polling::Shutdown) => Poll::Closed,
        }
    }
}
