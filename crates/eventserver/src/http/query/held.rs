//! The memory of `/v1/query` answers held until they are sent (`max_answer_memory_bytes`),
//! and of the other answers that can be large: `/v1/recent` (up to 1000 kept events of
//! up to 16 KiB: 16 MB), `/v1/stats` (a page of up to 10 000 nodes), `/metrics` (1000
//! nodes' and 1000 topics' series: some MB, and asked without a key by default),
//! `/v1/checkpoints` (a few hundred bytes per store destination: every answer read
//! from the server's memory is counted, so that none is left for many unread
//! connections to pile up) and a `/v1/stream`'s backlog (its `limit` kept events, up
//! to 16 MB, [`Room`]), and a stream's look-alike window for as long as the stream
//! runs (up to 1 MiB, `stream/marks.rs`). A
//! `/v1/recent` answer was held by its connection, uncounted, until read: 40
//! connections that asked and never read held 670 MB, and `max_connections` of them
//! some 8 GB; `max_streams` streams opened with `limit=1000` and never read, 2 GB.
//!
//! A query's turn ends when its worker has answered, but its answer stays in the
//! server until the client has read it: a client that reads slowly, or not at all,
//! keeps up to 128 MiB held after its turn, and nothing else bounded how many were
//! held (40 slow readers held 1.7 GB). Each answer is counted against one budget for
//! all of them, from when it is ready until its last bytes are handed to the
//! connection (or the connection is gone). One that does not fit is answered `503
//! answer_memory` with `Retry-After`, as a body beyond `max_body_memory_bytes` is: a
//! queue of answers waiting for room would itself be memory.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::StatusCode;
use bytes::Bytes;
use futures_util::stream;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::http::error::ApiError;

/// When an answer refused for room may be asked again.
const RETRY: Duration = Duration::from_secs(1);
/// Bytes handed to the connection at a time: the connection takes more only once it
/// has sent what it has, so a slow reader's answer stays here, counted.
const CHUNK: usize = 64 * 1024;

/// The budget of held answers (a clone counts in the same budget).
#[derive(Debug, Clone)]
pub(crate) struct AnswerBudget {
    bytes: Arc<Semaphore>,
    total: usize,
}

impl AnswerBudget {
    pub(crate) fn new(total: usize) -> AnswerBudget {
        // Permits are counted in u32 at once: an answer is at most 128 MiB from a
        // worker; larger ones are refused below.
        let total = total.min(Semaphore::MAX_PERMITS).min(u32::MAX as usize);
        AnswerBudget {
            bytes: Arc::new(Semaphore::new(total)),
            total,
        }
    }

    /// Counts `body` until it is sent, or refuses it: `400 query_failed` when it is
    /// larger than the whole budget (asking again changes nothing: the message says to
    /// ask `smaller`, what bounds the answer of its endpoint, or to raise the budget),
    /// else `503 answer_memory` when the answers held now leave no room for it.
    pub(crate) fn hold(&self, body: String, smaller: Smaller) -> Result<HeldAnswer, ApiError> {
        let room = self.room(body.len(), smaller)?;
        Ok(HeldAnswer {
            body: body.into_bytes(),
            sent: 0,
            _room: room,
        })
    }

    /// [`AnswerBudget::hold`] for an answer whose `room` was counted before it was
    /// written (from a size it cannot be below, so that a full budget refuses it
    /// before the work of writing it): counts the rest of `body`, or gives back what
    /// `room` holds beyond it.
    pub(crate) fn hold_in(
        &self,
        mut room: Room,
        body: String,
        smaller: Smaller,
    ) -> Result<HeldAnswer, ApiError> {
        let have = room.permit.num_permits();
        if body.len() > have {
            if body.len() > self.total {
                return Err(self.larger_than_all(body.len(), smaller));
            }
            // `body.len() <= total <= u32::MAX`.
            let more = self
                .bytes
                .clone()
                .try_acquire_many_owned((body.len() - have) as u32)
                .map_err(|_| self.no_room(body.len()))?;
            room.permit.merge(more);
        } else {
            room.give_back(have - body.len());
        }
        Ok(HeldAnswer {
            body: body.into_bytes(),
            sent: 0,
            _room: room,
        })
    }

    /// `400 query_failed`: an answer of `len` bytes is larger than the whole budget.
    fn larger_than_all(&self, len: usize, smaller: Smaller) -> ApiError {
        // Said per endpoint: "fewer columns" (a query's words) told a reader of
        // `/v1/recent` or a stream's backlog, whose `limit` bounds its answer, to
        // change what it cannot.
        let ask = match smaller {
            Smaller::Ask(what) => format!("{what}, or raise max_answer_memory_bytes"),
            Smaller::Nothing => "raise max_answer_memory_bytes".to_owned(),
        };
        ApiError::bad_request(
            "query_failed",
            format!(
                "the answer is {len} bytes, more than the {} bytes the server holds for \
                 all the answers not yet read (max_answer_memory_bytes); {ask}",
                self.total
            ),
        )
    }

    /// Counts `len` bytes, which the caller holds for a client until it has handed
    /// them to the connection, until the [`Room`] is dropped or given back; refused as
    /// [`AnswerBudget::hold`] refuses an answer of `len` bytes.
    pub(crate) fn room(&self, len: usize, smaller: Smaller) -> Result<Room, ApiError> {
        if len > self.total {
            return Err(self.larger_than_all(len, smaller));
        }
        // `len <= total <= u32::MAX`.
        let permit = self
            .bytes
            .clone()
            .try_acquire_many_owned(len as u32)
            .map_err(|_| self.no_room(len))?;
        Ok(Room { permit })
    }

    /// `503 answer_memory`: the answers held leave no room for one of `len` bytes.
    fn no_room(&self, len: usize) -> ApiError {
        self.no_room_for(&format!("the answer is {len} bytes"))
    }

    /// `503 answer_memory`, its message starting with `what` needs room ("the answer
    /// is N bytes").
    fn no_room_for(&self, what: &str) -> ApiError {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "answer_memory",
            format!(
                "{what} and the answers not yet read by their clients hold {} of the {} \
                 bytes the server allows (max_answer_memory_bytes); retry later",
                self.total - self.bytes.available_permits(),
                self.total
            ),
        )
        .retry_after(RETRY)
    }

    /// [`AnswerBudget::room`] for what is not an answer but is held for a client as
    /// long as its request runs (a `/v1/stream`'s look-alike window, `len` bytes when
    /// it opens), `what` saying it in the refusals ("the stream's look-alike window
    /// needs N bytes"): `503 answer_memory` when the answers held leave no room for it,
    /// `400 query_failed` when it is larger than the whole budget (only the budget can
    /// grow).
    pub(crate) fn room_for(&self, what: &str, len: usize) -> Result<Room, ApiError> {
        if len > self.total {
            return Err(ApiError::bad_request(
                "query_failed",
                format!(
                    "{what}, more than the {} bytes the server holds for all the answers \
                     not yet read (max_answer_memory_bytes); raise max_answer_memory_bytes",
                    self.total
                ),
            ));
        }
        // `len <= total <= u32::MAX`.
        let permit = self
            .bytes
            .clone()
            .try_acquire_many_owned(len as u32)
            .map_err(|_| self.no_room_for(what))?;
        Ok(Room { permit })
    }

    /// Counts `len` bytes more in `room`, when the answers held leave room for them;
    /// `false` (and `room` as it was) when they do not.
    pub(crate) fn try_grow(&self, room: &mut Room, len: usize) -> bool {
        let Ok(len) = u32::try_from(len) else {
            return false;
        };
        match self.bytes.clone().try_acquire_many_owned(len) {
            Ok(more) => {
                room.permit.merge(more);
                true
            }
            Err(_) => false,
        }
    }
}

/// What a client can ask less of when its answer is larger than the whole budget: the
/// request's parameter that bounds it, in the words of the refusal.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Smaller {
    /// `ask fewer events (a smaller limit)`: the words that follow "the answer is ...;".
    Ask(&'static str),
    /// No parameter bounds it (`/metrics`, `/v1/checkpoints`): only the budget can grow.
    Nothing,
}

/// Bytes counted against the budget: given back when dropped, or a part at a time as
/// the holder hands them on ([`Room::give_back`]).
#[derive(Debug)]
pub(crate) struct Room {
    permit: OwnedSemaphorePermit,
}

impl Room {
    /// The bytes counted.
    pub(crate) fn bytes(&self) -> usize {
        self.permit.num_permits()
    }

    /// Gives back `len` of the bytes counted (all that are left, if fewer).
    pub(crate) fn give_back(&mut self, len: usize) {
        let len = len.min(self.permit.num_permits());
        // `split` of at most the permits held: the part is dropped, given back.
        drop(self.permit.split(len));
    }
}

/// An answer counted against the budget until it has been handed to its connection.
pub(crate) struct HeldAnswer {
    body: Vec<u8>,
    sent: usize,
    _room: Room,
}

impl HeldAnswer {
    /// The HTTP body: the answer a chunk at a time (copies, so that what the connection
    /// buffers is not the whole answer kept alive); the budget is given back when the
    /// last chunk was taken or the connection dropped the body.
    pub(crate) fn into_body(self) -> Body {
        Body::from_stream(stream::unfold(self, |mut held| async move {
            if held.sent >= held.body.len() {
                return None;
            }
            let end = held.sent.saturating_add(CHUNK).min(held.body.len());
            let chunk = Bytes::copy_from_slice(&held.body[held.sent..end]);
            held.sent = end;
            Some((Ok::<_, Infallible>(chunk), held))
        }))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn answers_beyond_the_room_left_are_refused_and_room_comes_back_on_drop() {
        let budget = AnswerBudget::new(100);
        let first = budget.hold("x".repeat(60), Smaller::Nothing).unwrap();
        let refused = budget.hold("y".repeat(50), Smaller::Nothing).err().unwrap();
        assert_eq!(refused.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(refused.error, "answer_memory");
        assert_eq!(refused.retry_after_s, Some(1));
        let too_large = budget
            .hold("z".repeat(101), Smaller::Nothing)
            .err()
            .unwrap();
        assert_eq!(too_large.status(), StatusCode::BAD_REQUEST);
        drop(first.into_body());
        assert!(budget.hold("y".repeat(50), Smaller::Nothing).is_ok());
    }

    #[test]
    fn room_given_back_in_parts_is_room_again() {
        let budget = AnswerBudget::new(100);
        let room_of = |len| budget.room(len, Smaller::Nothing);
        let mut room = room_of(80).unwrap();
        assert!(room_of(30).is_err());
        room.give_back(10);
        assert!(room_of(30).is_ok());
        // More than is left: what is left.
        room.give_back(1000);
        assert!(room_of(100).is_ok());
        drop(room);
    }
}
