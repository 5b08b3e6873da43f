//! Every store read of a request has a deadline and ends when its client
//! goes away (README, "Limits"): the work runs on the blocking pool under a
//! [`Stop`] switch, thrown when [`REQUEST_DEADLINE`] passes or when the
//! request's future is dropped (hyper drops it when the connection
//! closes), so a page of a huge capture cannot hold a thread for minutes.
//! At most [`reads_at_once`] requests read at a time; the others wait their
//! turn (within their deadline) instead of all thrashing the CPU and each
//! holding a connection and its page cache.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use tokio::sync::Semaphore;

use super::error::Error;
use super::off_thread;
use crate::store::{self, Stop, Store};

/// Longest a request's store work may run.
pub const REQUEST_DEADLINE: Duration = Duration::from_secs(10);

/// Requests whose store work runs at once: twice the cores, at least 4.
fn reads_at_once() -> usize {
    std::thread::available_parallelism().map_or(4, |n| (2 * n.get()).max(4))
}

fn turns() -> &'static Semaphore {
    static TURNS: OnceLock<Semaphore> = OnceLock::new();
    TURNS.get_or_init(|| Semaphore::new(reads_at_once()))
}

/// Throws the switch when dropped, unless the work finished.
struct StopOnDrop(Option<Stop>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        if let Some(stop) = self.0.take() {
            stop.stop();
        }
    }
}

/// Runs `f` over the store on the blocking pool, within
/// [`REQUEST_DEADLINE`].
pub(crate) async fn bounded<T, F>(store: Arc<dyn Store>, f: F) -> Result<T, Error>
where
    T: Send + 'static,
    F: FnOnce(&dyn Store) -> store::Result<T> + Send + 'static,
{
    within(store, REQUEST_DEADLINE, f).await
}

async fn within<T, F>(store: Arc<dyn Store>, deadline: Duration, f: F) -> Result<T, Error>
where
    T: Send + 'static,
    F: FnOnce(&dyn Store) -> store::Result<T> + Send + 'static,
{
    let stop = Stop::default();
    let mut on_drop = StopOnDrop(Some(stop.clone()));
    let switch = stop.clone();
    let work = async move {
        let _turn = turns()
            .acquire()
            .await
            .map_err(|e| Error::Internal(format!("read turns: {e}")))?;
        off_thread(store, move |s| {
            switch.run(|| f(s)).map_err(|e| match e {
                // An interrupted statement fails with SQLite's own error.
                _ if switch.is_stopped() => stopped(deadline),
                e => Error::from(e),
            })
        })
        .await
    };
    let out = match tokio::time::timeout(deadline, work).await {
        Ok(out) => out,
        Err(_) => {
            stop.stop();
            Err(stopped(deadline))
        }
    };
    on_drop.0 = None;
    out
}

fn stopped(deadline: Duration) -> Error {
    Error::Unavailable(format!(
        "the request took longer than {} s and was stopped; ask for a smaller page",
        deadline.as_secs_f64()
    ))
}

#[cfg(test)]
mod test {
    use super::*;
    use crate::store::SqliteStore;

    /// A store call that would never end without the switch.
    fn endless(_: &dyn Store) -> store::Result<()> {
        while !crate::store::stop_requested() {
            std::thread::sleep(Duration::from_millis(5));
        }
        Err(store::Error::Stopped)
    }

    #[tokio::test]
    async fn work_past_its_deadline_is_stopped_with_503() {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path()).unwrap());
        let started = std::time::Instant::now();
        let r = within(store, Duration::from_millis(100), endless).await;
        assert!(matches!(r, Err(Error::Unavailable(_))), "{:?}", r.err());
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[tokio::test]
    async fn work_whose_client_went_away_is_stopped() {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path()).unwrap());
        let (tx, rx) = tokio::sync::oneshot::channel();
        let request = tokio::spawn(within(store, Duration::from_secs(600), move |s| {
            let r = endless(s);
            let _ = tx.send(());
            r
        }));
        tokio::time::sleep(Duration::from_millis(50)).await;
        // The client closes the connection: hyper drops the handler.
        request.abort();
        tokio::time::timeout(Duration::from_secs(5), rx)
            .await
            .expect("the work ended after the request was dropped")
            .unwrap();
    }
}
