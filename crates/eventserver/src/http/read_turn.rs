//! Turns for building the answers of the read endpoints that can be large
//! (`/v1/recent`, `/v1/stats`, `/metrics`): one at a time, off the async workers.
//!
//! Such an answer (a `/v1/recent` of 1000 kept events of up to 16 KiB, a `/metrics` of
//! 1000 nodes' and topics' series) takes tens of milliseconds of CPU to write, and
//! milliseconds more in a debug build. They were written on the async worker threads
//! (one per core), as many at once as were asked: 200 requests for `/v1/recent` (no key
//! on the loopback default, any stats key otherwise; one HTTP/2 connection carries 200)
//! kept every worker busy for seconds to tens of seconds, and the nodes' batches were
//! not even read meanwhile (tryout hostile/04). Now each is written on the blocking
//! pool, after waiting (without CPU) for the one turn: at most one core writes read
//! answers, whatever the number asked, and the rest stays for ingest. Queries
//! (`/v1/query`) have turns of their own (`query/gate.rs`).

use std::sync::Arc;

use axum::http::StatusCode;
use tokio::sync::Semaphore;

use super::error::ApiError;

/// Answers written at once.
const TURNS: usize = 1;

/// The turns (cloned into each handler through the state).
#[derive(Debug, Clone)]
pub(crate) struct ReadTurns(Arc<Semaphore>);

impl ReadTurns {
    pub(crate) fn new() -> ReadTurns {
        ReadTurns(Arc::new(Semaphore::new(TURNS)))
    }

    /// Runs `write` on the blocking pool once a turn is free; `what` names the answer
    /// in the error of a write that panicked.
    pub(crate) async fn write<T: Send + 'static>(
        &self,
        what: &str,
        write: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, ApiError> {
        let internal = |why: String| {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                format!("{what} could not be written: {why}"),
            )
        };
        // The semaphore is never closed.
        let _turn = self
            .0
            .acquire()
            .await
            .map_err(|e| internal(e.to_string()))?;
        tokio::task::spawn_blocking(write)
            .await
            .map_err(|e| internal(e.to_string()))
    }
}
