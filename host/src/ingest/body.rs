//! Reading a webhook's body: within its size limit, charged to [`BodyMemory`] as bytes arrive,
//! at a minimum transfer rate and within `body_timeout`. And the other end of the same body:
//! when a request is answered before its body was read (413, 404, 429, 503), the rest is
//! drained, bounded, so that the sender, still writing, gets to read the answer instead of a
//! connection reset.

use super::error::IngestError;
use super::memory::Charge;
use axum::body::{Body, Bytes};
use axum::http::StatusCode;
use http_body::Body as _;
use http_body_util::BodyExt;
use std::time::Duration;
use tokio::time::Instant;

/// How long a body may take before the minimum transfer rate applies: the first bytes of an
/// upload may wait on a slow start, a proxy's buffering or a sender's own serialization.
pub const RATE_GRACE: Duration = Duration::from_secs(2);
/// At most this much of an unwanted body is read (and discarded) after an early answer, so
/// that the sender reads the answer; beyond it the connection is closed.
pub const DRAIN_MAX_BYTES: u64 = 32 << 20;
/// At most this long is spent draining one unwanted body.
pub const DRAIN_MAX_TIME: Duration = Duration::from_secs(10);

/// What a body must meet.
#[derive(Debug, Clone, Copy)]
pub struct BodyRules {
    /// The largest body accepted (413 beyond).
    pub limit: u64,
    /// The time the whole body may take (408 beyond).
    pub timeout: Duration,
    /// After [`RATE_GRACE`], bytes received must keep up with this many per second (408
    /// otherwise); 0 turns the check off.
    pub min_bytes_per_sec: u64,
}

/// A request's body, read at most once, drained when answered unread.
#[derive(Debug)]
pub struct IncomingBody {
    body: Body,
    /// The sender waits for `100 Continue` before sending (`Expect: 100-continue`).
    expects_continue: bool,
    /// Reading began: polling the body is what makes hyper send `100 Continue`.
    started: bool,
}

impl IncomingBody {
    /// Wraps a request's body.
    pub fn new(body: Body, expects_continue: bool) -> IncomingBody {
        IncomingBody {
            body,
            expects_continue,
            started: false,
        }
    }

    /// Reads the whole body under `rules`, charging its memory to `charge` as it arrives.
    pub async fn read(
        &mut self,
        rules: BodyRules,
        charge: &mut Charge<'_>,
    ) -> Result<Vec<u8>, IngestError> {
        self.started = true;
        let start = Instant::now();
        let give_up = start + rules.timeout;
        let mut chunks: Vec<Bytes> = Vec::new();
        let mut received: u64 = 0;
        loop {
            // The latest moment the next bytes may come: when what arrived so far would fall
            // under the minimum rate, or at the overall timeout.
            let slow_at = (rules.min_bytes_per_sec > 0).then(|| {
                start
                    + RATE_GRACE
                    + Duration::from_secs_f64(received as f64 / rules.min_bytes_per_sec as f64)
            });
            let deadline = slow_at.map_or(give_up, |slow| slow.min(give_up));
            let frame = match tokio::time::timeout_at(deadline, self.body.frame()).await {
                Err(_) if deadline < give_up => {
                    return Err(IngestError::TooSlow(rules.min_bytes_per_sec));
                }
                Err(_) => return Err(IngestError::BodyTimeout),
                Ok(None) => break,
                Ok(Some(Err(_))) => return Err(IngestError::BadBody),
                Ok(Some(Ok(frame))) => frame,
            };
            // Trailers carry nothing a plugin reads.
            let Ok(data) = frame.into_data() else {
                continue;
            };
            let len = data.len() as u64;
            if received + len > rules.limit {
                return Err(IngestError::TooLarge(rules.limit));
            }
            charge.grow(len).map_err(|_| IngestError::Busy)?;
            received += len;
            if !data.is_empty() {
                chunks.push(data);
            }
        }
        join(chunks, received, charge)
    }

    /// Hands the body back after the request was answered: when the sender may still be
    /// writing it, a background task reads and discards up to [`DRAIN_MAX_BYTES`] within
    /// [`DRAIN_MAX_TIME`], so the connection closes after the answer was read (or stays open
    /// for the next request) instead of being reset under the sender. Not when `answered`
    /// refuses the sender's pace (408): a body too slow to read is not waited for again.
    pub fn finish(self, answered: StatusCode) {
        let unread = !self.body.is_end_stream();
        // Unpolled, a body that waits for `100 Continue` is never sent: nothing to drain.
        if !unread
            || (self.expects_continue && !self.started)
            || answered == StatusCode::REQUEST_TIMEOUT
        {
            return;
        }
        let mut body = self.body;
        tokio::spawn(async move {
            let deadline = Instant::now() + DRAIN_MAX_TIME;
            let mut drained = 0u64;
            while drained <= DRAIN_MAX_BYTES {
                match tokio::time::timeout_at(deadline, body.frame()).await {
                    Ok(Some(Ok(frame))) => {
                        drained += frame.data_ref().map_or(0, |d| d.len() as u64);
                    }
                    // Done, broken or out of time: dropping the body closes the connection.
                    _ => break,
                }
            }
        });
    }
}

/// One contiguous buffer from the chunks, charged while both exist.
fn join(chunks: Vec<Bytes>, len: u64, charge: &mut Charge<'_>) -> Result<Vec<u8>, IngestError> {
    if chunks.len() <= 1 {
        // A single chunk is copied out of hyper's buffer (or taken over, when it owns it).
        return Ok(chunks.into_iter().next().map(Vec::from).unwrap_or_default());
    }
    charge.grow(len).map_err(|_| IngestError::Busy)?;
    let mut joined = Vec::with_capacity(usize::try_from(len).unwrap_or(usize::MAX));
    for chunk in chunks {
        joined.extend_from_slice(&chunk);
    }
    charge.shrink(len);
    Ok(joined)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::memory::BodyMemory;
    use http_body_util::StreamBody;
    use std::convert::Infallible;

    fn rules(limit: u64, rate: u64) -> BodyRules {
        BodyRules {
            limit,
            timeout: Duration::from_secs(30),
            min_bytes_per_sec: rate,
        }
    }

    /// A body that sends `chunks` of `size` bytes, `gap` apart.
    fn trickle(chunks: usize, size: usize, gap: Duration) -> Body {
        let stream = async_stream(chunks, size, gap);
        Body::new(StreamBody::new(stream))
    }

    fn async_stream(
        chunks: usize,
        size: usize,
        gap: Duration,
    ) -> impl futures_util::Stream<Item = Result<http_body::Frame<Bytes>, Infallible>> {
        futures_util::stream::unfold(0, move |i| async move {
            if i == chunks {
                return None;
            }
            tokio::time::sleep(gap).await;
            Some((
                Ok(http_body::Frame::data(Bytes::from(vec![b'x'; size]))),
                i + 1,
            ))
        })
    }

    #[tokio::test(start_paused = true)]
    async fn a_body_slower_than_the_minimum_rate_is_cut_off_after_the_grace() {
        let memory = BodyMemory::new(&[1 << 20]);
        let mut charge = memory.charge(0, None);
        // 100 bytes a second against 1,000 required: cut off at about 2.1 s, not at 30 s.
        let mut body = IncomingBody::new(trickle(60, 100, Duration::from_secs(1)), false);
        let started = Instant::now();
        let error = body
            .read(rules(1 << 20, 1000), &mut charge)
            .await
            .unwrap_err();
        assert!(matches!(error, IngestError::TooSlow(1000)), "{error:?}");
        let took = started.elapsed();
        assert!(
            took >= RATE_GRACE && took < Duration::from_secs(4),
            "{took:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_body_at_the_rate_is_read_whole_and_charged_while_held() {
        let memory = BodyMemory::new(&[1 << 20]);
        let mut charge = memory.charge(0, None);
        let mut body = IncomingBody::new(trickle(10, 2000, Duration::from_millis(500)), false);
        let bytes = body.read(rules(1 << 20, 1000), &mut charge).await.unwrap();
        assert_eq!(bytes.len(), 20_000);
        assert_eq!(charge.bytes(), 20_000);
        assert_eq!(memory.in_use(), 20_000);
        drop(charge);
        assert_eq!(memory.in_use(), 0);
    }

    #[tokio::test]
    async fn a_body_over_the_limit_is_refused_while_reading() {
        let memory = BodyMemory::new(&[1 << 20]);
        let mut charge = memory.charge(0, None);
        let mut body = IncomingBody::new(trickle(10, 1000, Duration::ZERO), false);
        let error = body.read(rules(5000, 0), &mut charge).await.unwrap_err();
        assert!(matches!(error, IngestError::TooLarge(5000)), "{error:?}");
        assert!(charge.bytes() <= 5000);
    }
}
