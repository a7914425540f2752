//! The queue of `/v1/query`: `running` queries at once, up to `waiting` more waiting
//! for a turn in arrival order, `429 overloaded` beyond. A queue, not a refusal at
//! the cap: the web console asks its five reports at once, and each must be answered.

use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::http::error::ApiError;

/// When a refused or timed-out query may be asked again.
const RETRY: Duration = Duration::from_secs(1);

/// Turns to run a query.
#[derive(Debug)]
pub(crate) struct QueryGate {
    /// One permit per query running.
    running: Arc<Semaphore>,
    /// One permit per query running or waiting: the queue's bound.
    admitted: Arc<Semaphore>,
    max_running: usize,
    max_waiting: usize,
}

/// A query's turn: it runs while this is held.
#[derive(Debug)]
pub(crate) struct Turn {
    _running: OwnedSemaphorePermit,
    _admitted: OwnedSemaphorePermit,
}

impl QueryGate {
    /// `running` at once (at least 1), `waiting` more in the queue.
    pub(crate) fn new(running: usize, waiting: usize) -> QueryGate {
        let running = running.clamp(1, Semaphore::MAX_PERMITS);
        let admitted = running.saturating_add(waiting).min(Semaphore::MAX_PERMITS);
        QueryGate {
            running: Arc::new(Semaphore::new(running)),
            admitted: Arc::new(Semaphore::new(admitted)),
            max_running: running,
            max_waiting: admitted - running,
        }
    }

    /// Waits for a turn, at most `wait_limit`: `429 overloaded` at once when the queue
    /// is full, `503 query_queue_time_limit` when no turn came in time.
    pub(crate) async fn enter(&self, wait_limit: Duration) -> Result<Turn, ApiError> {
        let admitted = self.admitted.clone().try_acquire_owned().map_err(|_| {
            ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "overloaded",
                format!(
                    "{} queries are running and {} are waiting for a turn; retry later",
                    self.max_running, self.max_waiting
                ),
            )
            .retry_after(RETRY)
        })?;
        let running = tokio::time::timeout(wait_limit, self.running.clone().acquire_owned())
            .await
            .map_err(|_| {
                ApiError::unavailable(
                    "query_queue_time_limit",
                    format!(
                        "the query waited {} s for a turn ({} run at once) and was not run; retry later",
                        wait_limit.as_secs_f64(),
                        self.max_running
                    ),
                    RETRY,
                )
            })?
            // The semaphore is never closed.
            .map_err(|_| super::answer::internal("the query queue is closed".into()))?;
        Ok(Turn {
            _running: running,
            _admitted: admitted,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[tokio::test]
    async fn waiters_get_their_turn_and_the_full_queue_refuses() {
        let gate = Arc::new(QueryGate::new(1, 1));
        let first = gate.enter(Duration::from_secs(5)).await.unwrap();
        let g = gate.clone();
        let waiter = tokio::spawn(async move { g.enter(Duration::from_secs(5)).await.map(drop) });
        // Let the waiter queue up.
        while gate.admitted.available_permits() > 0 {
            tokio::task::yield_now().await;
        }
        let refused = gate.enter(Duration::from_secs(5)).await.unwrap_err();
        assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(refused.retry_after_s, Some(1));
        drop(first);
        waiter.await.unwrap().unwrap();
    }

    #[tokio::test]
    async fn a_waiter_past_the_limit_is_told_so() {
        let gate = QueryGate::new(1, 1);
        let _first = gate.enter(Duration::from_secs(5)).await.unwrap();
        let late = gate.enter(Duration::from_millis(50)).await.unwrap_err();
        assert_eq!(late.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(late.error, "query_queue_time_limit");
    }
}
