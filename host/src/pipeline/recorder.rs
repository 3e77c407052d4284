//! Records finished attempts in batches: the attempts that end while the store writes one
//! batch go together in the next [`Store::finish_many`] call. Deliveries end one by one, so
//! recording each on its own made a store write (with SQLite, a commit and an fsync) per
//! delivery; measured end to end that was most of the writer's work, and delivery throughput
//! roughly doubled once attempts shared writes.

use crate::store::{Finished, Store, StoreError};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

/// Most attempts recorded in one store call (each is a row and an update: small).
const MAX_BATCH: usize = 512;

type Reply = oneshot::Sender<Result<bool, StoreError>>;

/// The handle attempts are recorded through; the batching task stops when it is dropped.
#[derive(Debug)]
pub struct Recorder {
    queue: mpsc::UnboundedSender<(Finished, Reply)>,
}

impl Recorder {
    /// Starts the batching task on the current tokio runtime. Its queue needs no bound: every
    /// item belongs to a delivery holding one of the engine's in-flight slots.
    pub fn start(store: Arc<dyn Store>) -> Recorder {
        let (queue, mut pending) = mpsc::unbounded_channel::<(Finished, Reply)>();
        tokio::spawn(async move {
            let mut batch = Vec::with_capacity(MAX_BATCH);
            while pending.recv_many(&mut batch, MAX_BATCH).await > 0 {
                let (items, replies): (Vec<Finished>, Vec<Reply>) = batch.drain(..).unzip();
                let answers = store.finish_many(items).await;
                for (reply, answer) in replies.into_iter().zip(answers) {
                    let _ = reply.send(answer);
                }
            }
        });
        Recorder { queue }
    }

    /// Records one attempt; returns once it is durable, with whether the job changed (false:
    /// its lease was lost to another worker).
    pub async fn record(&self, finished: Finished) -> Result<bool, StoreError> {
        let (reply, answer) = oneshot::channel();
        let stopped = || StoreError::Unavailable("the attempt recorder has stopped".into());
        self.queue.send((finished, reply)).map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}
