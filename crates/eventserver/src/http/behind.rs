//! `/readyz`'s `destination_behind` entries: a destination that is not a store (a
//! `kafka` destination, another event server) holding an event it has not confirmed
//! for longer than `ack_timeout_ms`.
//!
//! Such a destination counts as taking batches (`readiness.rs`): the server hands it
//! every batch routed to it. Whether it confirms them was said nowhere but in the log
//! (the Kafka client's `kafka client error: … All broker connections are down`) and in
//! the `503 ack_timeout` answers: `/readyz` said `ready` with nothing under `degraded`
//! while every batch for an unreachable broker timed out. The signal here is the
//! dispatcher's own count, not a probe of the broker: the age of the oldest event the
//! destination's worker holds undelivered (`TargetStats::oldest_undelivered_age`).
//! Once it is over `ack_timeout_ms`, the batch of that event was answered `503
//! ack_timeout`, and a batch routed there now waits behind it. It says nothing while no
//! event waits (a broker down while nothing is sent shows only once a batch meets it),
//! and it leaves the server ready: the server still takes the batch, and keeps sending
//! it until the destination confirms it (a retry is answered as duplicates then).

use super::readiness::Degraded;
use super::AppState;

/// Every destination that is not a store whose oldest event not yet confirmed has
/// waited longer than `ack_timeout_ms`. Counters read from memory: no I/O.
pub(crate) fn destinations_behind(state: &AppState) -> Vec<Degraded> {
    let stats = state.dispatcher.stats();
    state
        .destinations
        .not_stores()
        .filter_map(|d| {
            let t = stats.iter().find(|t| t.name == d.name)?;
            let age = t.oldest_undelivered_age?;
            if age <= state.ack_timeout {
                return None;
            }
            let ms = u64::try_from(age.as_millis()).unwrap_or(u64::MAX);
            Some(Degraded {
                reason: "destination_behind",
                destination: Some(d.name.clone()),
                oldest_undelivered_ms: Some(ms),
                message: format!(
                    "destination {:?} ({}) has not confirmed an event it was handed {} s \
                     ago, longer than ack_timeout_ms ({} ms): that event's batch was \
                     answered 503 ack_timeout, and a batch routed to it now waits behind \
                     it and is answered so too unless the destination confirms in time; \
                     the server keeps sending what it was handed (a retry is answered as \
                     duplicates once confirmed); the server's log says why (e.g. its \
                     brokers unreachable)",
                    d.name,
                    t.type_name,
                    age.as_secs(),
                    state.ack_timeout.as_millis()
                ),
                ..Degraded::default()
            })
        })
        .collect()
}
