use thiserror::Error;

use crate::event::{EventError, EventId};

/// Why `emit` refused an event. The event was not queued to any target.
#[derive(Debug, Clone, Error, PartialEq)]
#[non_exhaustive]
pub enum EmitError {
    /// The event (draft) is invalid.
    #[error("invalid event: {0}")]
    Invalid(#[from] EventError),
    /// The dispatcher is shutting down or shut down.
    #[error("the dispatcher is shut down; the event was not accepted")]
    Closed,
    /// The sync `emit` was called on the current-thread runtime that runs the
    /// dispatcher's workers while a target's queue (`on_full = "block"`) was full:
    /// waiting there would deadlock. Use `emit_async(..).await` on that runtime.
    #[error(
        "the queue of target {target:?} is full and `emit` was called on the current-thread \
         runtime that runs the dispatcher, where waiting would deadlock; use \
         `emit_async(..).await` there (the event was not accepted)"
    )]
    WouldBlock {
        /// The target whose queue is full.
        target: String,
    },
}

/// One target's failure to take one event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryFailure {
    /// The target instance.
    pub target: String,
    /// What happened (dead-lettered with this reason, dropped, ...).
    pub reason: String,
}

/// Why an acknowledged emit did not resolve to "durably taken by every target".
#[derive(Debug, Clone, Error, PartialEq)]
#[non_exhaustive]
pub enum AckError {
    /// The event was refused before being queued.
    #[error(transparent)]
    Emit(#[from] EmitError),
    /// Some targets did not take it (it is in their dead-letter files, or was dropped
    /// by an explicit drop policy).
    #[error("event {id} was not taken by {}: {}", failures.len(),
        failures.iter().map(|f| format!("{}: {}", f.target, f.reason)).collect::<Vec<_>>().join("; "))]
    NotDelivered {
        /// The event.
        id: EventId,
        /// One entry per target that failed.
        failures: Vec<DeliveryFailure>,
    },
    /// The dispatcher's workers are gone (the dispatcher was dropped mid-flight).
    #[error("event {0}: the dispatcher stopped before the targets answered")]
    Abandoned(EventId),
}
