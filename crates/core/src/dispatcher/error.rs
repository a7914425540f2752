use std::path::{Path, PathBuf};

use thiserror::Error;

use crate::event::{EventError, EventId};
use crate::target::TargetError;

/// Why `emit` refused an event. The event was not queued to any target. Its `Debug`
/// is its message with its causes ([`crate::ErrorReport`]), not a dump.
#[derive(Clone, Error, PartialEq)]
#[non_exhaustive]
pub enum EmitError {
    /// The event (draft) is invalid: the first invalid value given to its builder (a
    /// topic or routing key out of form, an empty `msgType`, a field value JSON has no
    /// form for, such as a NaN or infinite float), or a field the draft lacks. The
    /// error names the field (`message.amount: NaN is not a finite number ...`).
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
    /// The node has handed out its last sequence number (`u64::MAX - 1`; see
    /// docs/configuration.md "Sequence numbers"): no event of this node can be numbered.
    #[error("{}", seq_exhausted(node, file.as_deref()))]
    SeqExhausted {
        /// The node.
        node: String,
        /// Its sequence file (`<run_dir>/seq/<node>`), when it has one.
        file: Option<PathBuf>,
    },
    /// The block of sequence numbers the event needed could not be reserved: writing
    /// the node's sequence file failed. A number is handed out only once its
    /// reservation is durable (else a crash could make the next start repeat it), so
    /// every event that needs a new block is refused until the file can be written.
    #[error(
        "cannot reserve sequence numbers for node {node:?} in {}: the event was not \
         accepted (events are refused until that file can be written)",
        file.display()
    )]
    SeqNotReserved {
        /// The node.
        node: String,
        /// Its sequence file (`<run_dir>/seq/<node>`).
        file: PathBuf,
        /// Why writing it failed.
        #[source]
        source: SeqFileError,
    },
    /// The run folder's lock file was removed under the node (a cleanup job's `rm -rf`
    /// of the run folder, or of the lock file), and another process has locked the
    /// folder since: two processes numbering one node's events from one run folder
    /// would give the same sequence numbers to different events, so every event is
    /// refused until that process ends (the node then takes the folder back).
    #[error(
        "run folder {} was removed or its lock file replaced under this node, and {holder} \
         has locked it since: the event was not accepted (events of node {node:?} are \
         refused until that process ends, since two processes on one run folder would \
         hand out the same sequence numbers)",
        run_dir.display()
    )]
    RunDirTaken {
        /// The node.
        node: String,
        /// The run folder.
        run_dir: PathBuf,
        /// Who holds it, as its lock file says (`pid N (program)`).
        holder: String,
    },
    /// The run folder's lock file was removed under the node and the folder could not be
    /// locked again, or its sequence file not written again: events are refused until
    /// it can (the node tries again at each event).
    #[error(
        "run folder {} was removed or its lock file replaced under this node and cannot \
         be taken back: the event was not accepted (events are refused until it can be)",
        run_dir.display()
    )]
    RunDirNotTakenBack {
        /// The run folder.
        run_dir: PathBuf,
        /// Why locking it or writing its sequence file failed.
        #[source]
        source: SeqFileError,
    },
}

/// The I/O error of writing a sequence file, shareable (an [`EmitError`] is `Clone`).
/// Two are equal when their kind and text are.
#[derive(Debug, Clone, Error)]
#[error("{0}")]
pub struct SeqFileError(std::sync::Arc<std::io::Error>);

impl SeqFileError {
    pub(crate) fn new(e: std::io::Error) -> SeqFileError {
        SeqFileError(std::sync::Arc::new(e))
    }

    /// The underlying error.
    pub fn io(&self) -> &std::io::Error {
        &self.0
    }
}

impl PartialEq for SeqFileError {
    fn eq(&self, other: &SeqFileError) -> bool {
        self.0.kind() == other.0.kind() && self.0.to_string() == other.0.to_string()
    }
}

fn seq_exhausted(node: &str, file: Option<&Path>) -> String {
    let mut text = format!(
        "node {node:?} has used up its sequence numbers (the last one is {}): the event was \
         not accepted",
        u64::MAX - 1
    );
    if let Some(file) = file {
        text.push_str(&format!(
            "; {} says the next is {}. If that file is wrong, write `next N` into it with N \
             above the highest seq the event server stored from this node (`highestSeq` in \
             its /v1/stats); otherwise give this node another name (`node` in its config)",
            file.display(),
            u64::MAX
        ));
    }
    text
}

/// One target's failure to take one event.
#[derive(Debug, Clone, PartialEq)]
pub struct DeliveryFailure {
    /// The target instance.
    pub target: String,
    /// What happened, for people (dead-lettered with this reason, dropped, ...).
    pub reason: String,
    /// What happened, for programs.
    pub kind: FailureKind,
}

/// What became of an event that a target did not durably take.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum FailureKind {
    /// The target will never take the event's batch, and the event was written to the
    /// target's dead-letter file (fsynced). `error` is the target's permanent error, or
    /// its last retryable error when `retry_max_elapsed_s` ran out, or a retryable
    /// error saying that the shutdown deadline passed first.
    DeadLettered {
        /// The target's answer.
        error: TargetError,
    },
    /// The target rejected this event alone ([`TargetError::Rejected`]; the rest of its
    /// batch was taken), and the event was written to the dead-letter file.
    Rejected {
        /// The target's reason for this event.
        reason: String,
    },
    /// The target could not take the event now, for a reason that may go away (an
    /// operator can fix it; [`TargetError::PartlyTaken`]), and the rest of its batch was
    /// taken. The event was not dead-lettered and will not be sent again by the
    /// dispatcher: it is handed back to this acknowledged emit, whose emitter must send
    /// it again later (counted as `handed_back`). Such an event of an emit nobody
    /// waits for (a plain `emit`, or an emitter that stopped waiting) is dead-lettered
    /// instead: nobody else would send it again.
    RetryLater {
        /// The target's reason for this event.
        reason: String,
    },
    /// The target's queue was full and its config says `on_full = "drop"`: the event
    /// was not queued to it (counted as `dropped_queue_full`).
    Dropped,
    /// Neither taken nor dead-lettered: the dead-letter file could not be written, or
    /// the target's worker is gone. Logged at error level with the event id and counted
    /// as `lost`.
    Lost,
}

/// Why an acknowledged emit did not resolve to "durably taken by every target". Its
/// `Debug` is its message ([`crate::ErrorReport`]), not a dump.
#[derive(Clone, Error, PartialEq)]
#[non_exhaustive]
pub enum AckError {
    /// The event was refused before being queued.
    #[error(transparent)]
    Emit(#[from] EmitError),
    /// Some targets did not take it (it is in their dead-letter files, was dropped
    /// by an explicit drop policy, or is handed back to be sent again later:
    /// [`FailureKind::RetryLater`]).
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

/// Why an acknowledged batch of complete events
/// ([`Dispatcher::emit_events_acked`](super::Dispatcher::emit_events_acked)) has no
/// per-event answer. Failures of single targets are not errors here: they are in the
/// answer, per event and route. Its `Debug` is its message ([`crate::ErrorReport`]).
#[derive(Clone, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum BatchError {
    /// The dispatcher is shutting down or shut down: no event of the batch was queued.
    #[error("the dispatcher is shut down; no event of the batch was accepted")]
    Closed,
    /// The targets' workers went away before answering (the runtime that ran them
    /// ended): some events may have been taken, some not.
    #[error(
        "the dispatcher stopped before the targets answered for the batch of {events} event(s)"
    )]
    Abandoned {
        /// Events in the batch.
        events: usize,
    },
}

/// Why [`Dispatcher::emit_batch`](super::Dispatcher::emit_batch) did not take every
/// event of its batch: each event's own answer, in the batch's order, as `emit` of
/// each in turn would have given it. An event answered `Ok` was queued to every
/// accepting target (with that id and seq); one answered `Err` was queued nowhere and
/// consumed no sequence number. Its `Debug` is its message ([`crate::ErrorReport`]).
#[derive(Clone, PartialEq)]
pub struct EmitBatchError {
    /// Each event's answer, at its index in the batch.
    pub results: Vec<Result<super::Emitted, EmitError>>,
}

impl EmitBatchError {
    /// The events that were refused, with their index in the batch.
    pub fn refused(&self) -> impl Iterator<Item = (usize, &EmitError)> {
        self.results
            .iter()
            .enumerate()
            .filter_map(|(i, r)| r.as_ref().err().map(|e| (i, e)))
    }

    /// The events that were taken (queued), with their index in the batch.
    pub fn taken(&self) -> impl Iterator<Item = (usize, &super::Emitted)> {
        self.results
            .iter()
            .enumerate()
            .filter_map(|(i, r)| r.as_ref().ok().map(|e| (i, e)))
    }
}

impl std::fmt::Display for EmitBatchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let refused = self.refused().count();
        write!(
            f,
            "{refused} of the batch's {} event(s) were refused (the others were taken)",
            self.results.len()
        )?;
        if let Some((i, _)) = self.refused().next() {
            write!(f, "; the first, event {i} of the batch")?;
        }
        Ok(())
    }
}

impl std::error::Error for EmitBatchError {
    /// The first refused event's error.
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.refused()
            .next()
            .map(|(_, e)| e as &(dyn std::error::Error + 'static))
    }
}
