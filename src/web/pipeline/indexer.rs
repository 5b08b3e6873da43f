//! The background thread that builds the page indexes of finished
//! analyses ([`Store::build_indexes`]): one capture at a time, at a lower
//! CPU priority than the analyses, so a capture is shown as soon as its
//! rows are stored and an upload never waits behind another's indexes.

use std::sync::Arc;

use super::queue::Queue;
use super::rework::lower_thread_priority;
use crate::store::{id::Capture, CaptureId, Store};

pub struct Indexer {
    queue: Queue<Capture>,
}

impl Indexer {
    /// Starts the thread, and queues the captures whose indexes a restart
    /// cut short.
    pub fn start(store: Arc<dyn Store>) -> Indexer {
        let builder = store.clone();
        let queue = Queue::start("indexer", 1, move |id: CaptureId| {
            lower_thread_priority();
            match builder.build_indexes(&id) {
                Ok(b) if b.made > 0 || b.left > 0 => tracing::info!(
                    "capture {id}: {} indexes made in {:.3} s, {} left{}",
                    b.made,
                    b.secs,
                    b.left,
                    b.stopped.map(|why| format!(": {why}")).unwrap_or_default()
                ),
                Ok(_) => {}
                Err(e) => tracing::warn!("capture {id}: making its indexes: {e}"),
            }
        });
        let again = queue.handle();
        let spawned = std::thread::Builder::new()
            .name("indexer-recover".into())
            .spawn(move || {
                lower_thread_priority();
                match store.unindexed() {
                    Ok(ids) => ids.into_iter().for_each(|id| again.submit(id)),
                    Err(e) => tracing::warn!("listing captures without indexes: {e}"),
                }
            });
        if let Err(e) = spawned {
            tracing::error!("cannot look for captures without indexes: {e}");
        }
        Indexer { queue }
    }

    /// Queues a capture whose results were just stored.
    pub fn submit(&self, id: CaptureId) {
        self.queue.submit(id);
    }
}
