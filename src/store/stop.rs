//! Stopping a request's reads part-way: when its deadline passes or its
//! client goes away, the web layer calls [`Stop::stop`]; the SQLite
//! statements the request is running are interrupted, and the long loops
//! (a conversation's packets) check [`stopped`] and end with
//! [`super::Error::Stopped`].
//!
//! A request's store calls run on one blocking thread inside
//! [`Stop::run`]; the read connections they borrow register with it for
//! as long as they are borrowed, never longer (a connection back in the
//! pool may already serve another request).

use std::cell::RefCell;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use rusqlite::InterruptHandle;

use super::lock;

/// One request's stop switch.
#[derive(Clone, Default)]
pub struct Stop {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    stopped: AtomicBool,
    /// Connections borrowed by the request now; a slot is emptied when
    /// its connection goes back to the pool.
    borrowed: Mutex<Vec<Option<InterruptHandle>>>,
}

thread_local! {
    static CURRENT: RefCell<Option<Stop>> = const { RefCell::new(None) };
}

impl Stop {
    /// Stops the request's work: running statements fail at once, the
    /// next check of [`stopped`] says so.
    pub fn stop(&self) {
        self.inner.stopped.store(true, Ordering::SeqCst);
        for handle in lock(&self.inner.borrowed).iter().flatten() {
            handle.interrupt();
        }
    }

    pub fn is_stopped(&self) -> bool {
        self.inner.stopped.load(Ordering::SeqCst)
    }

    /// Runs `f` on this thread with its store reads under this switch.
    pub fn run<T>(&self, f: impl FnOnce() -> T) -> T {
        let before = CURRENT.with(|c| c.replace(Some(self.clone())));
        let out = f();
        CURRENT.with(|c| c.replace(before));
        out
    }
}

/// Whether the request this thread works for has been stopped: long loops
/// over stored rows check it.
pub fn stopped() -> bool {
    CURRENT.with(|c| c.borrow().as_ref().is_some_and(Stop::is_stopped))
}

/// A borrowed connection's place in the current request's switch.
pub(crate) struct Watched {
    stop: Stop,
    slot: usize,
}

/// Registers a connection just borrowed with the current request, if any;
/// keep the result until the connection goes back.
pub(crate) fn watch(handle: InterruptHandle) -> Option<Watched> {
    let stop = CURRENT.with(|c| c.borrow().clone())?;
    let slot = {
        let mut borrowed = lock(&stop.inner.borrowed);
        borrowed.push(Some(handle));
        borrowed.len() - 1
    };
    // A stop that came before the registration still reaches it.
    if stop.is_stopped() {
        stop.stop();
    }
    Some(Watched { stop, slot })
}

impl Drop for Watched {
    fn drop(&mut self) {
        if let Some(slot) = lock(&self.stop.inner.borrowed).get_mut(self.slot) {
            *slot = None;
        }
    }
}

#[cfg(test)]
mod test {
    use super::*;
    use rusqlite::Connection;

    #[test]
    fn a_stop_interrupts_a_running_statement_and_spares_returned_connections() {
        let stop = Stop::default();
        let returned = Connection::open_in_memory().unwrap();
        let busy = Connection::open_in_memory().unwrap();
        let endless = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) \
                       SELECT count(*) FROM n";
        let stopper = stop.clone();
        let result = stop.run(|| {
            drop(watch(returned.get_interrupt_handle()));
            let _watched = watch(busy.get_interrupt_handle());
            assert!(!stopped());
            let timer = std::thread::spawn(move || {
                std::thread::sleep(std::time::Duration::from_millis(50));
                stopper.stop();
            });
            let r = busy.query_row(endless, [], |r| r.get::<_, i64>(0));
            timer.join().unwrap();
            assert!(stopped());
            r
        });
        assert!(result.is_err(), "the endless query was interrupted");
        assert!(!stopped(), "outside run, no request");
        // The connection given back before the stop was not interrupted.
        let n: i64 = returned
            .query_row("SELECT 41 + 1", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 42);
    }
}
