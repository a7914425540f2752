//! Receiving a request body before anything else is spent on it: a minimum rate (a
//! slow or stalled client is cut off, never waited for while it holds something others
//! need) and the server-wide memory budget for bodies in flight.
//!
//! The rate rule is Apache httpd's `mod_reqtimeout` (`RequestReadTimeout
//! body=10-60,MinRate=16384`): the body has [`GRACE`] to start, every [`MIN_RATE`]
//! bytes received extend the deadline by one second, and the whole body must arrive
//! within [`BODY_READ_TIMEOUT`]. A client that trickles one byte a second is answered
//! 408 after about ten seconds; a LAN client sending 16 MiB is unaffected.
//!
//! Hand-written because no maintained tower/hyper layer enforces a minimum body rate
//! (tower-http's `TimeoutBody` is an idle timeout between frames, which one byte every
//! few seconds defeats).

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{header, HeaderMap, StatusCode};
use http_body_util::BodyExt;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

use super::error::ApiError;

/// Time a body has to start arriving before the minimum rate applies.
pub(crate) const GRACE: Duration = Duration::from_secs(10);
/// Bytes per second a body must average after [`GRACE`].
pub(crate) const MIN_RATE: u64 = 16 * 1024;
/// Longest time to receive a whole request body, however fast it is arriving.
pub(crate) const BODY_READ_TIMEOUT: Duration = Duration::from_secs(60);

/// Memory a batch is counted for, per byte of its decoded body: the body itself plus
/// its parsed events. Measured worst case: a 15 MiB body of events whose messages hold
/// many small fields peaks at ~203 MB while parsed (12.9 bytes per body byte;
/// ../shared/cases/server-11); typical audit events need 4-6. Counting the worst case
/// keeps the budget a bound, not an estimate.
pub(crate) const BYTES_PER_DECODED_BYTE: usize = 13;

/// How much memory a body of `max_body_bytes` can be counted for at most (raw
/// compressed bytes, then the decoded body and its events): a budget below this could
/// never take the largest allowed batch.
pub(crate) fn largest_batch_cost(max_body_bytes: usize) -> usize {
    max_body_bytes.saturating_mul(BYTES_PER_DECODED_BYTE + 1)
}

/// The server-wide budget of memory for request bodies being received, decoded,
/// parsed and stored (`max_body_memory_bytes`). Counted before the memory is used;
/// a request that would go over it is answered 503 with Retry-After at once (never
/// queued: a queue of waiting bodies would itself be memory).
pub(crate) struct MemoryBudget {
    bytes: Arc<Semaphore>,
    total: usize,
}

impl MemoryBudget {
    pub(crate) fn new(total: usize) -> Self {
        let total = total.min(Semaphore::MAX_PERMITS);
        Self {
            bytes: Arc::new(Semaphore::new(total)),
            total,
        }
    }

    /// Bytes counted now.
    pub(crate) fn in_use(&self) -> usize {
        self.total - self.bytes.available_permits()
    }

    /// The budget.
    pub(crate) fn total(&self) -> usize {
        self.total
    }

    /// Adds `bytes` to what `charge` holds, or refuses the request.
    pub(crate) fn charge(&self, charge: &mut Charge, bytes: usize) -> Result<(), ApiError> {
        if bytes == 0 {
            return Ok(());
        }
        // A semaphore takes at most u32::MAX permits at once: larger charges (a budget
        // and bodies of several GiB) are taken in parts, all or nothing (the parts
        // taken so far are given back when `taken` drops on a refusal).
        let mut taken: Option<OwnedSemaphorePermit> = None;
        let mut left = bytes;
        while left > 0 {
            let part = left.min(u32::MAX as usize);
            let permit = self
                .bytes
                .clone()
                .try_acquire_many_owned(part as u32)
                .map_err(|_| self.refused(charge.bytes, bytes))?;
            match &mut taken {
                Some(t) => t.merge(permit),
                None => taken = Some(permit),
            }
            left -= part;
        }
        charge.bytes += bytes;
        match (&mut charge.permit, taken) {
            (Some(held), Some(t)) => held.merge(t),
            (held @ None, t) => *held = t,
            (Some(_), None) => {}
        }
        Ok(())
    }

    fn refused(&self, held: usize, more: usize) -> ApiError {
        ApiError::unavailable(
            "memory_budget",
            format!(
                "the request bodies in flight already use {} of the {} bytes the server allows \
                 (max_body_memory_bytes); this one needs {} more: nothing was stored, retry \
                 later or send smaller batches",
                self.in_use(),
                self.total,
                held + more
            ),
            Duration::from_secs(1),
        )
    }
}

/// The part of the memory budget one request holds; given back when dropped (after its
/// batch is settled, even if its answer timed out).
#[derive(Default)]
pub(crate) struct Charge {
    bytes: usize,
    permit: Option<OwnedSemaphorePermit>,
}

/// How a received body is counted. Either way, while it arrives, its frames are (at
/// most twice the bytes sent, frames.rs).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Counting {
    /// The body is the decoded body: once whole, it is counted with its parsed events
    /// (13 bytes per byte).
    Decoded,
    /// Compressed: its buffer only; the decoded body is counted as it is decompressed
    /// (`body::decode`).
    Raw,
}

/// Receives the whole body under the rate rule, the size limit (`max_body_bytes`) and
/// the memory budget. A body refused on the way is read to its end first, up to
/// [`DRAIN_LIMIT_FACTOR`] times `drain_bytes` (the server's `max_body_bytes`: what any
/// endpoint reads of a refused body, also when this endpoint's own limit is smaller),
/// so that its client gets the answer.
pub(crate) async fn receive(
    mut body: Body,
    headers: &HeaderMap,
    max_body_bytes: usize,
    drain_bytes: usize,
    budget: &MemoryBudget,
    counting: Counting,
    charge: &mut Charge,
) -> Result<bytes::Bytes, ApiError> {
    let start = Instant::now();
    // Kept as received (frames.rs): no buffer sized from the declared length, which is
    // only the client's word, and none that is copied as it grows.
    let mut received = super::frames::Frames::default();
    loop {
        let deadline = deadline(start, received.len());
        let frame = match tokio::time::timeout_at(deadline, body.frame()).await {
            Err(_) => return Err(too_slow(received.len(), start.elapsed())),
            Ok(None) => break,
            Ok(Some(Err(e))) => {
                return Err(ApiError::bad_request(
                    "bad_body",
                    format!(
                        "the request body cannot be read after {} bytes{}: {}",
                        received.len(),
                        declared_length(headers)
                            .map(|n| format!(" of the {n} its Content-Length announces"))
                            .unwrap_or_default(),
                        with_causes(&e)
                    ),
                )
                // Not the client's whole body: never a refusal of the body it sent.
                .seen(auditrail_core::answer::BodySeen::Cut(received.len() as u64)));
            }
            Ok(Some(Ok(frame))) => frame,
        };
        let Ok(data) = frame.into_data() else {
            continue; // trailers: nothing of the body
        };
        let total = received.len() + data.len();
        if total > max_body_bytes {
            drop(received);
            *charge = Charge::default();
            let refused = super::body::raw_too_large(total, max_body_bytes);
            let limit = drain_limit(headers, drain_bytes);
            return Err(drain(body, start, total, limit, refused).await);
        }
        // Counted as it arrives, before it is kept: what a body arriving holds is its
        // frames, not yet the events it will parse to. Counting each byte 13 times as
        // it arrived let ~40 MB of uploads that stop in the middle (held up to 60 s by
        // the rate rule) take the whole budget, and every node got 503 memory_budget
        // (tryout hostile/01); now they take at most twice what they sent.
        if let Err(refused) = received.push(data, budget, charge) {
            // Give back what this body held before draining it: the drain keeps no
            // bytes, and a refused body that kept its part while its client finishes
            // sending would make the next body that asks for more fail too. With
            // several large uploads at once, every one of them would be refused and
            // none stored (seen in CI with eight concurrent 15 MiB bodies). Released
            // at once, the refusals free room, and the last upload left always fits.
            drop(received);
            *charge = Charge::default();
            return Err(drain(body, start, total, drain_bytes, refused).await);
        }
    }
    let len = received.len();
    match counting {
        Counting::Decoded => {
            // The whole body is here: now its events' part, before they are parsed (the
            // budget counts 13 bytes per body byte in all, what its frames hold
            // included). The copy that joins the frames fits in it.
            let parsed = len
                .saturating_mul(BYTES_PER_DECODED_BYTE)
                .saturating_sub(charge.bytes);
            budget.charge(charge, parsed)?;
            Ok(received.into_body())
        }
        Counting::Raw => {
            // The joined copy is counted until the frames it copies are dropped; then
            // the body holds its bytes once, within what its frames were counted for.
            let mut copy = Charge::default();
            if received.needs_join() {
                budget.charge(&mut copy, len)?;
            }
            Ok(received.into_body())
        }
    }
}

/// A refused body is read up to this many times `max_body_bytes` before the answer
/// (see [`drain`]); a larger one is cut off, as it would be anyway.
const DRAIN_LIMIT_FACTOR: usize = 4;

/// Bytes of a body refused for its size that are read before answering: up to
/// [`DRAIN_LIMIT_FACTOR`] times the limit, none when the head already declares more
/// (reading part of it would change nothing for the client).
fn drain_limit(headers: &HeaderMap, max_body_bytes: usize) -> usize {
    let limit = max_body_bytes.saturating_mul(DRAIN_LIMIT_FACTOR);
    match declared_length(headers) {
        Some(len) if len > limit as u64 => 0,
        _ => limit,
    }
}

fn declared_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .parse()
        .ok()
}

/// A middleware's refusal of a whole request, decided from its head: counted in the
/// rejected requests, answered after reading the body (see [`drain_then`]).
pub(crate) async fn refuse_request(
    state: &super::AppState,
    request: axum::extract::Request,
    refused: ApiError,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    state.metrics.rejected(refused.error);
    let (parts, body) = request.into_parts();
    drain_then(body, &parts.headers, state.max_body_bytes, refused)
        .await
        .into_response()
}

/// Answers `refused`, decided from the head alone (a key, a type, a declared size,
/// the disk), after reading the body it did not look at. A client that sends its
/// whole body before reading the answer (any without `Expect: 100-continue`, such as
/// Python's `http.client`) otherwise sees a reset connection, and cannot tell a
/// refusal for good (401, 413, 415) from a network error worth retrying. A client that
/// asked to continue has sent nothing yet: it is answered at once.
pub(crate) async fn drain_then(
    body: Body,
    headers: &HeaderMap,
    max_body_bytes: usize,
    refused: ApiError,
) -> ApiError {
    if expects_continue(headers) {
        return refused;
    }
    let limit = drain_limit(headers, max_body_bytes);
    drain(body, Instant::now(), 0, limit, refused).await
}

/// Whether the client asked to continue (`Expect: 100-continue`) and so has sent no
/// body yet: reading it would make hyper send `100 Continue`, inviting the upload of a
/// body nobody reads (RFC 9110 §10.1.1: a server may answer with the final status
/// instead).
fn expects_continue(headers: &HeaderMap) -> bool {
    headers
        .get(header::EXPECT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("100-continue"))
}

/// `e`'s text, then each cause it does not already say: hyper's own text ("error
/// reading a body from connection") says nothing of why (the connection ended before
/// the announced length, an invalid chunk size line), which its causes say.
fn with_causes(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let said = c.to_string();
        if !text.contains(&said) {
            text.push_str(": ");
            text.push_str(&said);
        }
        cause = c.source();
    }
    text
}

/// Reads the rest of a refused body without keeping it, then gives the refusal back.
/// Answering while the client is still sending and closing makes the kernel reset
/// the connection, and the client sees a broken pipe instead of the answer and its
/// Retry-After (nginx's "lingering close" exists for the same reason). The drain
/// keeps to `limit` bytes and the rate rule, so it costs bandwidth, not memory.
async fn drain<T>(
    mut body: Body,
    start: Instant,
    mut received: usize,
    limit: usize,
    refused: T,
) -> T {
    while received <= limit {
        match tokio::time::timeout_at(deadline(start, received), body.frame()).await {
            Ok(Some(Ok(frame))) => {
                received += frame.data_ref().map_or(0, |d| d.len());
            }
            // The end, a broken body, or too slow: the refusal is the answer either way.
            _ => break,
        }
    }
    refused
}

/// Reads and drops the body of a request whose endpoint takes none (a `GET` sent with
/// a body, a method the path does not take, an unknown path), under the same bound
/// and rate rule as a refused body: answered while the client still sends, the
/// connection would be reset under the unread bytes (see [`drain_then`]).
pub(crate) async fn discard(body: Body, headers: &HeaderMap, max_body_bytes: usize) {
    // Before any authentication: a client that asked to continue is not invited to
    // upload what will be dropped.
    if expects_continue(headers) {
        return;
    }
    let limit = drain_limit(headers, max_body_bytes);
    drain(body, Instant::now(), 0, limit, ()).await;
}

/// When the next bytes must have arrived, `received` bytes after `start`.
fn deadline(start: Instant, received: usize) -> Instant {
    let earned = Duration::from_secs_f64(received as f64 / MIN_RATE as f64);
    start + (GRACE + earned).min(BODY_READ_TIMEOUT)
}

fn too_slow(received: usize, elapsed: Duration) -> ApiError {
    ApiError::new(
        StatusCode::REQUEST_TIMEOUT,
        "body_timeout",
        format!(
            "the request body arrived too slowly: {received} bytes in {:.1} s; the server \
             needs at least {MIN_RATE} bytes/s after the first {} s, and the whole body within \
             {} s",
            elapsed.as_secs_f64(),
            GRACE.as_secs(),
            BODY_READ_TIMEOUT.as_secs()
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_deadline_grows_with_the_bytes_and_stops_at_the_cap() {
        let start = Instant::now();
        assert_eq!(deadline(start, 0), start + GRACE);
        assert_eq!(
            deadline(start, MIN_RATE as usize * 5),
            start + GRACE + Duration::from_secs(5)
        );
        assert_eq!(deadline(start, usize::MAX / 2), start + BODY_READ_TIMEOUT);
    }

    #[test]
    fn the_budget_refuses_what_would_go_over_and_gives_back_on_drop() {
        let budget = MemoryBudget::new(100);
        let mut a = Charge::default();
        budget.charge(&mut a, 60).unwrap();
        budget.charge(&mut a, 30).unwrap();
        assert_eq!(budget.in_use(), 90);
        let mut b = Charge::default();
        let err = budget.charge(&mut b, 11).unwrap_err();
        assert_eq!(err.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(err.error, "memory_budget");
        budget.charge(&mut b, 10).unwrap();
        drop(a);
        assert_eq!(budget.in_use(), 10);
        drop(b);
        assert_eq!(budget.in_use(), 0);
    }

    #[test]
    fn charges_beyond_u32_are_taken_whole_or_not_at_all() {
        let big = u32::MAX as usize + 10;
        let budget = MemoryBudget::new(big + 5);
        let mut c = Charge::default();
        budget.charge(&mut c, big).unwrap();
        assert_eq!(budget.in_use(), big);
        drop(c);
        let mut d = Charge::default();
        budget.charge(&mut d, 6).unwrap();
        let mut e = Charge::default();
        assert!(budget.charge(&mut e, big).is_err());
        assert_eq!(
            budget.in_use(),
            6,
            "a refused charge keeps none of its parts"
        );
    }
}
