//! Placing a thread of this process on a core by its OS thread id, from any thread.
//!
//! Hot threads pin themselves as they start. The process's cold threads (a journal's segment
//! and msync threads, the clock's discipline thread) are started before the layout is known,
//! so the pipeline moves them by thread id once it is: left anywhere, one of them is
//! sooner or later scheduled onto a hot core, and the hot thread waits out its time slice.

use std::io;

use rustix::thread::{CpuSet, Pid};

/// The calling thread's OS thread id (its Linux TID).
pub fn current_thread_id() -> i32 {
    rustix::thread::gettid().as_raw_nonzero().get()
}

/// Pins the calling thread to `core`.
pub fn pin_current(core: usize) -> io::Result<()> {
    pin_thread(current_thread_id(), core)
}

/// Pins thread `tid` of this process to `core`.
pub fn pin_thread(tid: i32, core: usize) -> io::Result<()> {
    set_thread_cores(tid, &[core])
}

/// Lets thread `tid` of this process run on `cores` only.
pub fn set_thread_cores(tid: i32, cores: &[usize]) -> io::Result<()> {
    let pid = thread_pid(tid)?;
    let mut set = CpuSet::new();
    for &core in cores {
        if core >= CpuSet::MAX_CPU {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("core {core} is past the largest core a CPU set holds"),
            ));
        }
        set.set(core);
    }
    rustix::thread::sched_setaffinity(Some(pid), &set).map_err(io::Error::from)
}

fn thread_pid(tid: i32) -> io::Result<Pid> {
    Pid::from_raw(tid).ok_or_else(|| {
        io::Error::new(io::ErrorKind::InvalidInput, format!("{tid} is not a thread id"))
    })
}

/// The cores thread `tid` of this process may run on.
pub fn thread_cores(tid: i32) -> io::Result<Vec<usize>> {
    let set = rustix::thread::sched_getaffinity(Some(thread_pid(tid)?)).map_err(io::Error::from)?;
    Ok((0..CpuSet::MAX_CPU).filter(|&c| set.is_set(c)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn another_thread_is_moved_by_its_id() {
        let cores = crate::runtime::available_cores();
        let Some(&last) = cores.last() else { return };
        let (tid_tx, tid_rx) = std::sync::mpsc::channel();
        let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
        let t = std::thread::spawn(move || {
            tid_tx.send(current_thread_id()).unwrap();
            done_rx.recv().unwrap();
            core_affinity::get_core_ids()
        });
        let tid = tid_rx.recv().unwrap();
        assert_ne!(tid, current_thread_id());
        pin_thread(tid, last).unwrap();
        assert_eq!(thread_cores(tid).unwrap(), vec![last]);
        done_tx.send(()).unwrap();
        // The thread itself sees the one core it was moved to.
        let seen: Vec<usize> = t.join().unwrap().unwrap().into_iter().map(|c| c.id).collect();
        assert_eq!(seen, vec![last]);
        assert!(pin_thread(0, last).is_err(), "0 is no thread id");
        assert!(pin_thread(tid, CpuSet::MAX_CPU).is_err());
        // This thread: moved, then given back every core it had.
        let me = current_thread_id();
        pin_current(last).unwrap();
        assert_eq!(thread_cores(me).unwrap(), vec![last]);
        set_thread_cores(me, &cores).unwrap();
        assert_eq!(thread_cores(me).unwrap(), cores);
    }
}
