//! `Queue`: a fixed pool of threads taking upload IDs from a queue, one
//! job at a time each, so that however many uploads arrive, at most
//! `workers` jobs of a kind run at once and the rest wait `queued`.

use std::sync::mpsc::{channel, Sender};
use std::sync::{Arc, Mutex};

use crate::store::{lock, Id, IdKind};

pub struct Queue<K: IdKind> {
    tx: Mutex<Sender<Id<K>>>,
    name: &'static str,
}

impl<K: IdKind> Queue<K> {
    /// Starts `workers` threads (at least one) named `NAME-N`, each running
    /// `job` on the IDs it takes.
    pub fn start(
        name: &'static str,
        workers: usize,
        job: impl Fn(Id<K>) + Send + Sync + 'static,
    ) -> Queue<K> {
        let (tx, rx) = channel::<Id<K>>();
        let rx = Arc::new(Mutex::new(rx));
        let job = Arc::new(job);
        for n in 0..workers.max(1) {
            let (rx, job) = (rx.clone(), job.clone());
            let spawned = std::thread::Builder::new()
                .name(format!("{name}-{n}"))
                .spawn(move || loop {
                    let next = lock(&rx).recv();
                    let Ok(id) = next else { return };
                    job(id);
                });
            if let Err(e) = spawned {
                tracing::error!("cannot start {name} worker: {e}");
            }
        }
        Queue {
            tx: Mutex::new(tx),
            name,
        }
    }

    /// Queues an upload.
    pub fn submit(&self, id: Id<K>) {
        self.handle().submit(id);
    }

    /// A handle that queues uploads, for a task that outlives the request.
    pub fn handle(&self) -> Submitter<K> {
        Submitter {
            tx: lock(&self.tx).clone(),
            name: self.name,
        }
    }
}

/// Queues uploads on a [`Queue`].
pub struct Submitter<K: IdKind> {
    tx: Sender<Id<K>>,
    name: &'static str,
}

impl<K: IdKind> Submitter<K> {
    pub fn submit(&self, id: Id<K>) {
        if self.tx.send(id).is_err() {
            tracing::error!(
                "{} queue closed; {id} stays queued until restart",
                self.name
            );
        }
    }
}
