//! The group-commit batcher every durable writer shares: requests queue (boundedly: a full
//! queue is [`StoreError::Overloaded`], a 503, rather than memory growing behind a stalled
//! disk), one thread takes whatever queued while the previous write ran, hands the batch to
//! its [`BatchWrite`] (one transaction and one fsync for many requests), records the write's
//! metrics and answers each request. A backend supplies only the batch write.
//!
//! The writer is a dedicated thread, not a task: SQLite's writes block, and its commit window
//! (see [`BatchLimits::window`]) needs a sub-millisecond timed wait, finer than tokio's timer.
//! Async writers (Redis, the attempt recorder) run each batch with `Handle::block_on`, which
//! costs one thread wake per batch, not per request.

use super::{Incoming, StoreError};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TryRecvError, TrySendError};
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

/// One batch write: the only part of group commit that differs between writers.
pub(crate) trait BatchWrite: Send + 'static {
    /// What a request asks to write.
    type Item: Send + 'static;
    /// What a request is answered once its batch is durable.
    type Output: Send + 'static;

    /// Writes `items` durably, in one commit where the backend can. Answers each item in
    /// order (an item may fail alone), or fails the whole batch.
    fn write(
        &mut self,
        items: Vec<Self::Item>,
    ) -> Result<Vec<Result<Self::Output, StoreError>>, StoreError>;

    /// An item's share of [`BatchLimits::max_weight`] (payload bytes, say).
    fn weight(_item: &Self::Item) -> usize {
        1
    }
}

/// How a batcher queues and cuts batches.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BatchLimits {
    /// The writer thread's name.
    pub name: &'static str,
    /// Requests waiting beyond this are refused with [`StoreError::Overloaded`].
    pub capacity: usize,
    /// Most requests per batch, so one write never holds replies back for long.
    pub max_items: usize,
    /// Most [`BatchWrite::weight`] per batch (one request always fits).
    pub max_weight: usize,
    /// Longest a batch waits for requests announced by [`Batcher::announce`]. Nothing waits
    /// when nothing is announced (a lone request is written at once).
    pub window: Duration,
    /// Whether the batches count in the store's write metrics (the attempt recorder's do not:
    /// the store it calls counts its own writes).
    pub metered: bool,
}

type Reply<O> = oneshot::Sender<Result<O, StoreError>>;

/// The handle requests are submitted through; the writer thread stops when it is dropped
/// (after answering what was queued).
pub(crate) struct Batcher<I, O> {
    queue: SyncSender<(I, Reply<O>)>,
    announced: Arc<AtomicUsize>,
    name: &'static str,
}

impl<I, O> std::fmt::Debug for Batcher<I, O> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Batcher")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl<I: Send + 'static, O: Send + 'static> Batcher<I, O> {
    /// Starts the writer thread.
    pub fn start<W>(writer: W, limits: BatchLimits) -> Result<Batcher<I, O>, StoreError>
    where
        W: BatchWrite<Item = I, Output = O>,
    {
        let (queue, requests) = std::sync::mpsc::sync_channel(limits.capacity);
        let announced = Arc::new(AtomicUsize::new(0));
        let counter = announced.clone();
        std::thread::Builder::new()
            .name(limits.name.into())
            .spawn(move || run(writer, &requests, &counter, limits))
            .map_err(|e| StoreError::Unavailable(format!("starting {}: {e}", limits.name)))?;
        Ok(Batcher {
            queue,
            announced,
            name: limits.name,
        })
    }

    /// Announces a request on its way (see [`Incoming`]): while announced requests are
    /// outstanding, a batch waits for them up to [`BatchLimits::window`].
    pub fn announce(&self) -> Incoming {
        Incoming::counted(&self.announced)
    }

    /// Queues `item` for the next batch and returns its answer once that batch is durable.
    pub async fn submit(&self, item: I) -> Result<O, StoreError> {
        let (reply, answer) = oneshot::channel();
        match self.queue.try_send((item, reply)) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => return Err(StoreError::Overloaded),
            Err(TrySendError::Disconnected(_)) => return Err(self.stopped()),
        }
        answer.await.map_err(|_| self.stopped())?
    }

    fn stopped(&self) -> StoreError {
        StoreError::Unavailable(format!("the writer {} has stopped", self.name))
    }
}

/// The writer thread: a batch, its write, its metrics, its answers; until the handle is gone.
fn run<W: BatchWrite>(
    mut writer: W,
    requests: &Receiver<(W::Item, Reply<W::Output>)>,
    announced: &AtomicUsize,
    limits: BatchLimits,
) {
    while let Ok(first) = requests.recv() {
        let batch = collect::<W, _>(requests, first, announced, &limits);
        let size = batch.len();
        let (items, replies): (Vec<_>, Vec<_>) = batch.into_iter().unzip();
        let started = Instant::now();
        let result = writer.write(items);
        if limits.metered {
            let metrics = crate::metrics::metrics();
            metrics
                .store_write_latency
                .observe(started.elapsed().as_secs_f64());
            metrics.store_batch_size.observe(size as f64);
        }
        match result {
            Ok(answers) => {
                let mut answers = answers.into_iter();
                for reply in replies {
                    let answer = answers.next().unwrap_or_else(|| {
                        Err(StoreError::Corrupt(format!(
                            "{}: the batch write answered too few requests",
                            limits.name
                        )))
                    });
                    let _ = reply.send(answer);
                }
            }
            Err(e) => {
                tracing::error!(writer = limits.name, error = %e, requests = size, "store write failed; requests answered 503");
                for reply in replies {
                    let _ = reply.send(Err(e.clone()));
                }
            }
        }
    }
}

/// `first` and whatever else is queued (within the limits); then, while requests are
/// announced, waits for them (up to the window in all).
fn collect<W: BatchWrite, R>(
    requests: &Receiver<(W::Item, R)>,
    first: (W::Item, R),
    announced: &AtomicUsize,
    limits: &BatchLimits,
) -> Vec<(W::Item, R)> {
    let deadline = Instant::now() + limits.window;
    let mut weight = W::weight(&first.0);
    let mut batch = vec![first];
    while batch.len() < limits.max_items && weight < limits.max_weight {
        let next = match requests.try_recv() {
            Ok(request) => request,
            Err(TryRecvError::Disconnected) => break,
            Err(TryRecvError::Empty) if announced.load(Ordering::Acquire) == 0 => break,
            Err(TryRecvError::Empty) => {
                match requests.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                    Ok(request) => request,
                    // Timed out (an announced request was refused, or is slow), or shutting
                    // down.
                    Err(_) => break,
                }
            }
        };
        weight += W::weight(&next.0);
        batch.push(next);
    }
    batch
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Doubles each number; 13 fails alone, 99 fails its whole batch, 7 is answered by
    /// nothing. Remembers each batch it wrote.
    struct Doubler {
        batches: std::sync::mpsc::Sender<Vec<u32>>,
        /// Held until the test lets the write go on.
        gate: Option<std::sync::mpsc::Receiver<()>>,
    }

    impl BatchWrite for Doubler {
        type Item = u32;
        type Output = u32;

        fn write(&mut self, items: Vec<u32>) -> Result<Vec<Result<u32, StoreError>>, StoreError> {
            let _ = self.batches.send(items.clone());
            if let Some(gate) = &self.gate {
                let _ = gate.recv();
            }
            if items.contains(&99) {
                return Err(StoreError::Unavailable("disk on fire".into()));
            }
            Ok(items
                .into_iter()
                .filter(|&n| n != 7)
                .map(|n| match n {
                    13 => Err(StoreError::Corrupt("unlucky".into())),
                    n => Ok(n * 2),
                })
                .collect())
        }

        fn weight(item: &u32) -> usize {
            *item as usize
        }
    }

    const LIMITS: BatchLimits = BatchLimits {
        name: "test-batcher",
        capacity: 2,
        max_items: 3,
        max_weight: 100,
        window: Duration::from_secs(30),
        metered: false,
    };

    /// Polls `f` once, as an executor would on its first turn.
    async fn poll_once<F: std::future::Future + Unpin>(f: &mut F) -> std::task::Poll<F::Output> {
        std::future::poll_fn(|cx| std::task::Poll::Ready(std::pin::Pin::new(&mut *f).poll(cx)))
            .await
    }

    fn request(n: u32) -> (u32, ()) {
        (n, ())
    }

    #[test]
    fn a_batch_waits_for_an_announced_request_and_no_longer() {
        let (tx, rx) = std::sync::mpsc::sync_channel(8);
        let announced = Arc::new(AtomicUsize::new(1));
        let counter = announced.clone();
        let late = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            // As the ingest does: withdraw the notice, then submit.
            counter.fetch_sub(1, Ordering::AcqRel);
            tx.send(request(2)).unwrap();
            tx
        });
        let started = Instant::now();
        let batch = collect::<Doubler, _>(&rx, request(1), &announced, &LIMITS);
        assert_eq!(batch.len(), 2, "the announced request joined the batch");
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the wait ended when the announced request arrived, not at the window"
        );
        let tx = late.join().unwrap();
        // Nothing announced: a lone write is not held back, even if another follows soon.
        let later = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(200));
            tx.send(request(3)).unwrap();
        });
        assert_eq!(
            collect::<Doubler, _>(&rx, request(1), &announced, &LIMITS).len(),
            1
        );
        later.join().unwrap();
    }

    #[test]
    fn an_announced_request_that_never_comes_holds_a_batch_only_for_the_window() {
        let (_tx, rx) = std::sync::mpsc::sync_channel::<(u32, ())>(8);
        let announced = AtomicUsize::new(1);
        let limits = BatchLimits {
            window: Duration::from_millis(100),
            ..LIMITS
        };
        let started = Instant::now();
        let batch = collect::<Doubler, _>(&rx, request(1), &announced, &limits);
        let waited = started.elapsed();
        assert_eq!(batch.len(), 1);
        assert!(waited >= Duration::from_millis(100), "{waited:?}");
        assert!(waited < Duration::from_secs(5), "{waited:?}");
    }

    #[test]
    fn batches_are_cut_at_the_item_and_weight_limits() {
        let none = AtomicUsize::new(0);
        let cut = |first: u32, queued: &[u32]| {
            let (tx, rx) = std::sync::mpsc::sync_channel(8);
            for &n in queued {
                tx.send(request(n)).unwrap();
            }
            collect::<Doubler, _>(&rx, request(first), &none, &LIMITS)
                .into_iter()
                .map(|(n, ())| n)
                .collect::<Vec<u32>>()
        };
        assert_eq!(cut(1, &[2, 3, 4]), [1, 2, 3], "at most three requests");
        assert_eq!(
            cut(60, &[50, 1]),
            [60, 50],
            "the weight bound (100) is reached: the rest waits for the next batch"
        );
        assert_eq!(
            cut(500, &[1]),
            [500],
            "one heavy request still makes a batch"
        );
    }

    #[tokio::test]
    async fn each_request_gets_its_own_answer_or_its_batchs_failure() {
        let (batches, written) = std::sync::mpsc::channel();
        let batcher = Batcher::start(
            Doubler {
                batches,
                gate: None,
            },
            LIMITS,
        )
        .unwrap();
        assert_eq!(batcher.submit(21).await.unwrap(), 42);
        assert!(matches!(
            batcher.submit(13).await,
            Err(StoreError::Corrupt(m)) if m == "unlucky"
        ));
        assert!(matches!(
            batcher.submit(99).await,
            Err(StoreError::Unavailable(m)) if m == "disk on fire"
        ));
        let missing = batcher.submit(7).await.unwrap_err().to_string();
        assert!(missing.contains("too few"), "{missing}");
        let sizes: Vec<usize> = written.try_iter().map(|b| b.len()).collect();
        assert_eq!(sizes, [1, 1, 1, 1]);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_full_queue_is_overload_not_a_wait() {
        let (batches, written) = std::sync::mpsc::channel();
        let (open, gate) = std::sync::mpsc::channel();
        let batcher = Batcher::start(
            Doubler {
                batches,
                gate: Some(gate),
            },
            LIMITS,
        )
        .unwrap();
        let next_batch = || written.recv_timeout(Duration::from_secs(30)).unwrap();
        // The first request is taken into a batch whose write is held; two more fill the
        // queue (capacity 2); the next is refused at once.
        let mut first = std::pin::pin!(batcher.submit(1));
        assert!(poll_once(&mut first).await.is_pending());
        assert_eq!(next_batch(), [1], "the writer holds the first batch");
        let mut second = std::pin::pin!(batcher.submit(2));
        let mut third = std::pin::pin!(batcher.submit(3));
        assert!(poll_once(&mut second).await.is_pending());
        assert!(poll_once(&mut third).await.is_pending());
        assert!(matches!(
            batcher.submit(4).await,
            Err(StoreError::Overloaded)
        ));
        open.send(()).unwrap();
        open.send(()).unwrap();
        assert_eq!(first.await.unwrap(), 2);
        assert_eq!(second.await.unwrap(), 4);
        assert_eq!(third.await.unwrap(), 6);
        assert_eq!(
            next_batch(),
            [2, 3],
            "what queued during a write shares the next"
        );
    }
}
