use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::backoff::Backoff;
use crate::limits;

/// What `emit` does when a target's queue is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnFull {
    /// The emitter waits for room (backpressure). Nothing is lost. The default.
    #[default]
    Block,
    /// The new event is not queued for this target; counted as `dropped_queue_full`,
    /// and an acknowledged emit fails. Only when a target's config says so.
    Drop,
}

/// Per-target queue, batching and retry settings (the dispatch keys of a
/// `[[targets]]` entry).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DeliveryOptions {
    /// Events the target's queue holds before `on_full` applies. Default 10 000.
    pub queue_capacity: usize,
    /// Backpressure (default) or counted drops.
    pub on_full: OnFull,
    /// Largest batch handed to the target. Default [`DEFAULT_BATCH_MAX_EVENTS`]; in a
    /// config file, the target type's own default when the entry does not set it
    /// ([`TargetConfig::BATCH_MAX_EVENTS`](crate::TargetConfig::BATCH_MAX_EVENTS): 4000
    /// for the event server's `store`).
    pub batch_max_events: usize,
    /// How long the worker waits to fill a batch once it holds one event. Default 0:
    /// send what is queued right away (batches grow by themselves under load). The
    /// wait ends at once when someone waits for the batch: an acknowledged event in
    /// it, a flush, or the start of shutdown.
    pub batch_max_wait_ms: u64,
    /// First retry delay. Default 100 ms; doubles per attempt, with jitter.
    pub retry_initial_backoff_ms: u64,
    /// Longest retry delay. Default 30 s.
    pub retry_max_backoff_ms: u64,
    /// Give up retrying a batch after this long and dead-letter it. Default: never
    /// (retry until the target takes it or shutdown's deadline).
    pub retry_max_elapsed_s: Option<u64>,
    /// Give up on one `send` call after this long and treat it as a retryable error
    /// (the same batch is sent again, so the target may see duplicates). Default:
    /// none; a target is expected to bound its own waiting (see the `Target`
    /// contract). Set it for targets that may hang, so that a hung `send` shows up as
    /// retries instead of a silent stall.
    pub send_timeout_ms: Option<u64>,
}

/// The default `batch_max_events` of a target whose type sets none
/// ([`TargetConfig::BATCH_MAX_EVENTS`](crate::TargetConfig::BATCH_MAX_EVENTS)).
pub const DEFAULT_BATCH_MAX_EVENTS: usize = 1000;

/// The largest `batch_max_events`: the worker reserves room for a whole batch, and a
/// value near `usize::MAX` made that reservation panic (the worker died and `send`
/// hung past its time limit).
pub(crate) const MAX_BATCH_EVENTS: usize = 1_000_000;

/// A value of [`DeliveryOptions`] out of its range ([`DeliveryOptions::check`]). Each
/// message names the key, as a config file spells it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DeliveryOptionsError {
    /// The key (named) is 0 and must be at least 1.
    #[error("`{0}` must be at least 1")]
    AtLeastOne(&'static str),
    /// `batch_max_events` (the value given) is beyond its bound.
    #[error(
        "`batch_max_events` must be at most {max} (a batch is held whole in \
         memory and handed to the target in one call), not {0}",
        max = MAX_BATCH_EVENTS
    )]
    BatchTooLarge(usize),
    /// `retry_max_backoff_ms` is below `retry_initial_backoff_ms`.
    #[error("`retry_max_backoff_ms` must be at least `retry_initial_backoff_ms`")]
    BackoffBelowInitial,
    /// A duration setting is longer than it can usefully be.
    #[error("`{key}` {source}")]
    TooLong {
        /// The key.
        key: &'static str,
        /// The value and its bound.
        #[source]
        source: limits::TooLong,
    },
}

impl Default for DeliveryOptions {
    fn default() -> Self {
        DeliveryOptions {
            queue_capacity: 10_000,
            on_full: OnFull::Block,
            batch_max_events: DEFAULT_BATCH_MAX_EVENTS,
            batch_max_wait_ms: 0,
            retry_initial_backoff_ms: 100,
            retry_max_backoff_ms: 30_000,
            retry_max_elapsed_s: None,
            send_timeout_ms: None,
        }
    }
}

impl DeliveryOptions {
    /// Checks value ranges; the error's message names the key.
    pub fn check(&self) -> Result<(), DeliveryOptionsError> {
        use DeliveryOptionsError::{AtLeastOne, BackoffBelowInitial, BatchTooLarge, TooLong};
        if self.queue_capacity == 0 {
            return Err(AtLeastOne("queue_capacity"));
        }
        if self.batch_max_events == 0 {
            return Err(AtLeastOne("batch_max_events"));
        }
        if self.batch_max_events > MAX_BATCH_EVENTS {
            return Err(BatchTooLarge(self.batch_max_events));
        }
        if self.retry_initial_backoff_ms == 0 {
            return Err(AtLeastOne("retry_initial_backoff_ms"));
        }
        if self.retry_max_backoff_ms < self.retry_initial_backoff_ms {
            return Err(BackoffBelowInitial);
        }
        if self.send_timeout_ms == Some(0) {
            return Err(AtLeastOne("send_timeout_ms"));
        }
        // Each becomes a deadline or a sleep: bounded by what it is for (see `limits`).
        let [initial, max] = limits::RETRY_BACKOFF_MS;
        for (bound, value) in [
            (limits::BATCH_MAX_WAIT_MS, Some(self.batch_max_wait_ms)),
            (initial, Some(self.retry_initial_backoff_ms)),
            (max, Some(self.retry_max_backoff_ms)),
            (limits::RETRY_MAX_ELAPSED_S, self.retry_max_elapsed_s),
            (limits::SEND_TIMEOUT_MS, self.send_timeout_ms),
        ] {
            if let Some(v) = value {
                bound.check(v).map_err(|source| TooLong {
                    key: bound.key,
                    source,
                })?;
            }
        }
        Ok(())
    }

    pub(crate) fn batch_wait(&self) -> Duration {
        Duration::from_millis(self.batch_max_wait_ms)
    }

    /// The retry delays these options ask for.
    pub fn retry_backoff(&self) -> Backoff {
        Backoff::new(
            Duration::from_millis(self.retry_initial_backoff_ms),
            Duration::from_millis(self.retry_max_backoff_ms),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_keys_and_bad_ranges_are_refused() {
        assert!(serde_json::from_str::<DeliveryOptions>(r#"{"queue_capacty": 3}"#).is_err());
        let o: DeliveryOptions = serde_json::from_str(r#"{"queue_capacity": 0}"#).unwrap();
        assert!(o
            .check()
            .unwrap_err()
            .to_string()
            .contains("queue_capacity"));
    }

    #[test]
    fn a_batch_larger_than_the_bound_is_refused_naming_the_key() {
        let o: DeliveryOptions =
            serde_json::from_str(r#"{"batch_max_events": 9223372036854775807}"#).unwrap();
        let err = o.check().unwrap_err().to_string();
        assert!(
            err.contains("`batch_max_events` must be at most 1000000"),
            "{err}"
        );
        let o: DeliveryOptions = serde_json::from_str(r#"{"batch_max_events": 1000000}"#).unwrap();
        o.check().unwrap();
    }
}
