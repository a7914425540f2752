//! The [`Target`] contract: where the dispatcher hands batches of events.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use thiserror::Error;

use crate::event::{Event, NodeId};

/// A destination for audit events (a file, an event server, a Kafka topic, ...).
///
/// # Contract
///
/// - **Batches.** The dispatcher calls [`Target::send`] with one batch at a time; it
///   never calls `send`, `flush` or `shutdown` concurrently on the same target (hence
///   `&mut self`). A target that wants requests in flight in parallel manages that
///   inside `send` (or behind a durable spool of its own).
/// - **Two batches in flight.** A target whose [`Target::batches_in_flight`] is 2 (the
///   default is 1: every other target behaves as above) is handed batches through
///   [`Target::send_pipelined`] instead: it takes the batch (e.g. writes it) and returns
///   at once with a [`Pending`] answer, which resolves to what `send` would have
///   returned, once it is durable. The dispatcher then hands it the next batch while
///   the first one's answer is still pending (a store fsyncs batch k while it writes
///   batch k+1), and never more than two. The answers resolve in the order the batches
///   were handed over, and a batch is never answered `Ok` (nor partly taken) when an
///   earlier one is answered with an error that leaves it to be sent again
///   ([`TargetError::Retryable`]): the dispatcher sends that earlier batch again
///   before any later one, so that the target takes them in order; a target that
///   fails a batch this way fails every later batch it holds too (the store undoes
///   both). `send`, `flush` and `shutdown` are called only once every pending answer
///   has resolved (except after the shutdown deadline, when the dispatcher drops the
///   answers it still waits for: the target's own shutdown or drop settles them).
/// - **`Ok` means durable.** `Ok(())` means the target has durably taken *every* event
///   of the batch, as durable as the target can make it (fsynced file, broker
///   acknowledgement, server 200 after fsync, or a fsynced local spool that it will
///   deliver from). A target that cannot promise this (e.g. handing events to `tracing`,
///   or writing without fsync as its config allows) documents what its `Ok` means
///   instead, and says so in code: its config's
///   [`TargetConfig::durability`](crate::TargetConfig::durability) answers
///   [`Durability::NotDurable`] (naming the setting), so that what reports durability
///   on the events' behalf (the event server's `durable` and `note`) does not claim it.
///   A config that does not answer is [`Durability::Undeclared`], reported as not
///   durable (see there why). Acknowledged emits resolve on `Ok` either way. A target
///   whose `Ok` is durable only when its destination's answer says so (the
///   eventserver target with `spool = false`: the server's `durable`) answers
///   [`Durability::PerAnswer`] and counts the events it took that were answered not
///   durable ([`Target::taken_not_durable`], `TargetStats::not_durable`).
/// - **Errors.** [`TargetError::Retryable`]: nothing of the batch may be assumed taken;
///   the dispatcher sends the same batch again after an exponential backoff with jitter
///   (honouring `retry_after`). [`TargetError::Permanent`]: the batch will never be
///   taken; the dispatcher writes it to the dead-letter file. [`TargetError::Rejected`]:
///   the listed events will never be taken, every other event of the batch was taken.
///   [`TargetError::PartlyTaken`]: some events cannot be taken now, for a reason that
///   sending them again at once would meet again but that may go away (an operator can
///   fix it), some maybe never; every other event of the batch was taken. The dispatcher
///   does not send such a batch again (its refused events would hold up every later
///   batch): it hands each retry-later event back to the acknowledged emit that waits
///   for it ([`FailureKind::RetryLater`](crate::FailureKind::RetryLater)), whose emitter
///   sends it again later, and dead-letters the rest. An index that is not in the
///   batch (a bug of the target) leaves unknown which event was refused: the whole
///   batch is then dead-lettered, saying so, rather than counted as delivered.
///   Duplicates after a retry are possible; events carry a unique id for that reason.
/// - **Timeouts.** `send` should bound its own waiting (request timeouts) and return a
///   retryable error rather than hang; the dispatcher does not cancel a `send` in
///   progress except at the shutdown deadline (or after `send_timeout_ms`, when set).
/// - **Never block the thread.** `send`, `flush` and `shutdown` are `async`: they must
///   not block the thread that polls them (a blocking HTTP client, a
///   `std::sync::Mutex` held across I/O, `std::thread::sleep`, file I/O that may
///   stall). Put blocking work on `tokio::task::spawn_blocking` and await it, with a
///   timeout. If a target blocks anyway, the dispatcher contains it:
///   - with the dispatcher's own runtime (the default), each target's worker runs on
///     a thread of its own, so a blocked target delays only itself; with a runtime
///     given to [`DispatcherBuilder::runtime`](crate::DispatcherBuilder::runtime), the
///     workers share that runtime's threads, and a blocked target also holds up
///     whatever else runs on the thread it blocks;
///   - a blocked call cannot be cancelled (its timers stop with its thread), so
///     `send_timeout_ms` does not fire for it; the shutdown deadline still holds:
///     shortly after it, the shutdown gives up on a worker still inside a target
///     call. The batch that call holds and everything still queued for the target
///     are written to its dead-letter file (counted as `dead_lettered`, never as
///     delivered; their acknowledged emits fail), and the shutdown report names the
///     target, the call, and how many events it held. Should the call ever return,
///     its result is ignored (the events may then be duplicated by a re-send, which
///     their unique ids allow to detect). The blocked thread itself cannot be
///     stopped: it ends when the call returns, or with the process.
/// - **Flush and shutdown.** `flush` is called when the dispatcher is flushed, after
///   every queued event was sent; `shutdown` once, last, after the queue is drained
///   (or the deadline passed). After `shutdown`, no other method is called.
/// - **No panics.** A panic in a target is caught by its worker and treated as a
///   retryable error (a `send` is retried with backoff); it never takes other targets
///   down. It is counted (`TargetStats::panicked`), and the first panic at each place
///   in the code is printed by the panic hook and logged at ERROR with the target's
///   name, the call and the message; later ones are not printed again (the dispatcher
///   wraps the process's panic hook for the calls it makes to targets).
/// - **Forwarding.** A target whose `Ok` means "durably taken" but not yet "at its
///   final destination" (it keeps events in a store of its own and forwards them in
///   the background, like the eventserver target's spool) returns a [`Forwarding`]
///   probe from [`Target::forwarding`], so that programs can tell the two apart
///   (`Dispatcher::stats`, `auditrail send`). Every other target's `Ok` is final.
#[async_trait]
pub trait Target: Send + 'static {
    /// Durably takes every event of `batch` (see the contract above).
    async fn send(&mut self, batch: &[Arc<Event>]) -> Result<(), TargetError>;

    /// How many batches the dispatcher may have handed to
    /// [`send_pipelined`](Target::send_pipelined) whose answers are still pending: 1
    /// (the default) or 2 (see "Two batches in flight" in the contract above). Asked
    /// once, when the target's worker starts.
    fn batches_in_flight(&self) -> usize {
        1
    }

    /// Takes every event of `batch` as [`send`](Target::send) does, but may return
    /// before they are durable: the returned [`Pending`] resolves to the batch's answer
    /// (what `send` would have returned). An error returned here is the batch's answer
    /// at once. Called instead of `send` only when
    /// [`batches_in_flight`](Target::batches_in_flight) is 2. Default: `send`, answered
    /// at once.
    async fn send_pipelined(&mut self, batch: &[Arc<Event>]) -> Result<Pending, TargetError> {
        self.send(batch).await?;
        Ok(Box::pin(std::future::ready(Ok(()))))
    }

    /// Pushes out anything buffered. Default: nothing to do.
    async fn flush(&mut self) -> Result<(), TargetError> {
        Ok(())
    }

    /// Last call: release resources. Default: [`Target::flush`].
    async fn shutdown(&mut self) -> Result<(), TargetError> {
        self.flush().await
    }

    /// For a target that forwards what it took from a durable store of its own: a
    /// probe of that store, which the dispatcher asks once, right after building the
    /// target, and reads from any thread (see [`Forwarding`]). Default `None`: `Ok`
    /// from [`Target::send`] means the events are at their final destination.
    fn forwarding(&self) -> Option<Arc<dyn Forwarding>> {
        None
    }

    /// Why a `send` that has not returned is still not done, as far as the target
    /// knows: for a target whose client library retries on its own inside `send` (the
    /// kafka target's librdkafka), that library's last error ("Connection refused").
    /// Asked once, by the worker, when the shutdown deadline cuts such a `send` short:
    /// said with the dead-lettered events (`(last error: …)`), as the last retryable
    /// error of `send` is. Cheap, no I/O. Default `None`: nothing more to say.
    fn pending_cause(&self) -> Option<String> {
        None
    }

    /// The dispatcher gave up the batch of the last `send` that failed retryably
    /// (`retry_max_elapsed_s` ran out): it is dead-lettered and will not be sent again.
    /// A target that keeps state about the batch it retries (the store's "its disk
    /// cannot take the batch at its head", which refuses later batches meanwhile) drops
    /// it here: no retry will come to clear it. Cheap, no I/O. Default: nothing.
    fn gave_up(&mut self) {}

    /// Of the events its last [`send`](Target::send) took (all of them on `Ok`; those
    /// a [`TargetError::Rejected`] or [`TargetError::PartlyTaken`] does not list), how
    /// many its destination answered taken but not on stable storage (an event
    /// server's `durable: false`). Asked by the dispatcher's worker once after each
    /// such answer of `send` (not of [`send_pipelined`](Target::send_pipelined)),
    /// counted in `TargetStats::not_durable`, so that what reports on the events'
    /// behalf (`auditrail send`'s `notDurable`) does not call them durable. For a
    /// target whose config answers [`Durability::PerAnswer`]. Cheap, no I/O. Default
    /// 0: the target's `Ok` means what its [`Durability`] says.
    fn taken_not_durable(&mut self) -> u64 {
        0
    }
}

/// What an `Ok` from a target's [`Target::send`] means for its events should the
/// machine lose power (or its kernel crash) right after it: its config's
/// [`TargetConfig::durability`](crate::TargetConfig::durability), asked once, before
/// the target is built (the event server asks it of each destination at start, for the
/// `durable` of its answers and a warning naming the destination).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Durability {
    /// On stable storage: written and fsynced (a file, a spool the target delivers
    /// from), acknowledged by every in-sync replica (Kafka with `acks=all`), or by a
    /// server that answers only once it fsynced.
    Durable,
    /// Taken, but not on stable storage yet: a power loss or a crash of the machine may
    /// lose events already acknowledged (a process crash does not: they are in the
    /// operating system's page cache, or with a broker). `why` names the setting and
    /// what `Ok` means with it, e.g. "`fsync = false`: `Ok` means in the page cache".
    NotDurable {
        /// The setting and what `Ok` means with it.
        why: String,
    },
    /// Durable or not as the destination answers each batch (a server that answers
    /// `durable: true` only once it fsynced): the target cannot tell before, and counts
    /// the events answered not durable ([`Target::taken_not_durable`]). Reported as
    /// not durable where one word is needed for every batch (an acknowledged emit's
    /// [`Durability::is_durable`]). `how` names the setting and what `Ok` means with
    /// it, e.g. "`spool = false`: `Ok` means the event server answered `200` ...".
    PerAnswer {
        /// The setting and what `Ok` means with it.
        how: String,
    },
    /// The target type does not say ([`TargetConfig::durability`](crate::TargetConfig::durability)'s
    /// default). Reported as not durable: claiming "on disk" for events a power loss
    /// may take is the error that loses evidence silently (a client forgets them),
    /// while calling durable events "not yet on disk" costs a note and a warning only
    /// (the events are acknowledged all the same). A target type written before
    /// the method existed is thus reported not durable until its crate answers.
    Undeclared,
}

impl Durability {
    /// A [`Durability::NotDurable`] for `why`.
    pub fn not_durable(why: impl Into<String>) -> Durability {
        Durability::NotDurable { why: why.into() }
    }

    /// A [`Durability::PerAnswer`] for `how`.
    pub fn per_answer(how: impl Into<String>) -> Durability {
        Durability::PerAnswer { how: how.into() }
    }

    /// Whether `Ok` means on stable storage (only [`Durability::Durable`] does).
    pub fn is_durable(&self) -> bool {
        matches!(self, Durability::Durable)
    }

    /// Whether the destination's answer to each batch says whether it is durable
    /// ([`Durability::PerAnswer`]): the events answered not durable are counted
    /// (`TargetStats::not_durable`), the others are durable.
    pub fn is_per_answer(&self) -> bool {
        matches!(self, Durability::PerAnswer { .. })
    }

    /// Why not durable, in words: the target's own reason, or that its type does not
    /// say. `None` when durable. For [`Durability::PerAnswer`], what `Ok` means (not
    /// durable where its answer says so).
    pub fn why_not(&self) -> Option<&str> {
        match self {
            Durability::Durable => None,
            Durability::NotDurable { why } => Some(why),
            // Not known before the answer: not claimed (see `is_per_answer`).
            Durability::PerAnswer { how } => Some(how),
            Durability::Undeclared => Some(
                "its target type does not say whether its `Ok` means on disk \
                 (`TargetConfig::durability`), so it is taken as not durable",
            ),
        }
    }
}

/// The answer of a batch handed to [`Target::send_pipelined`], still to come: resolves
/// to what [`Target::send`] would have returned for it. Owns what it needs (`'static`):
/// the dispatcher awaits it while it hands the target the next batch.
pub type Pending =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), TargetError>> + Send + 'static>>;

/// Reads where a forwarding target's events stand (see [`Target::forwarding`]).
///
/// # Contract
///
/// - Cheap and non-blocking: counters, no I/O (it is read by metrics and by
///   `auditrail send` while it waits).
/// - `pending_events` counts events the target has taken (its `send` returned `Ok`)
///   that the final destination has not confirmed yet, including those left by earlier
///   runs of the node; they are on the node's disk and are forwarded later, not lost.
/// - `forwarded`, `dead_lettered`, `retries`, `damaged_ranges`, `damaged_bytes` and
///   the `lost_*` counters count since the target was built and only grow.
pub trait Forwarding: Send + Sync + 'static {
    /// A snapshot.
    fn stats(&self) -> ForwardingStats;
}

impl std::fmt::Debug for dyn Forwarding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Forwarding").field(&self.stats()).finish()
    }
}

/// Where a forwarding target's events stand.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ForwardingStats {
    /// Events taken and not yet confirmed by the final destination.
    pub pending_events: u64,
    /// Events the final destination confirmed without having them on its stable
    /// storage yet (among `forwarded`; an event server's answer `durable: false`): a
    /// power loss there may lose them, and the target no longer holds them.
    pub not_durable: u64,
    /// Bytes the target's store takes on disk.
    pub pending_bytes: u64,
    /// Events the final destination confirmed.
    pub forwarded: u64,
    /// Events the final destination refused for good after the target took them,
    /// written to `dead_letter_file`.
    pub dead_lettered: u64,
    /// The target's own dead-letter file.
    pub dead_letter_file: Option<PathBuf>,
    /// Forwarding attempts (requests) that failed retryably and were made again.
    pub retries: u64,
    /// Damaged ranges found in the target's store (skipped, the bytes kept aside).
    pub damaged_ranges: u64,
    /// Bytes of those ranges.
    pub damaged_bytes: u64,
    /// Files of the target's store found gone or cut by hand while holding events the
    /// final destination had not confirmed: those events are lost.
    pub lost_segments: u64,
    /// Events lost with them, where the target knew them (a file found missing at
    /// start counts in `lost_segments` only).
    pub lost_events: u64,
    /// Bytes of what was lost with them, where known.
    pub lost_bytes: u64,
}

/// Why a target did not take a batch.
#[derive(Debug, Clone, Error, PartialEq)]
#[non_exhaustive]
pub enum TargetError {
    /// Temporary failure: send the same batch again later.
    #[error("{message}")]
    Retryable {
        /// What happened.
        message: String,
        /// How long the target asks to wait (e.g. HTTP `Retry-After`).
        retry_after: Option<Duration>,
    },
    /// The batch can never be taken (bad credentials, record too large, ...).
    #[error("{message}")]
    Permanent {
        /// What happened, naming the cause.
        message: String,
    },
    /// Some events can never be taken; every other event of the batch was taken.
    #[error("{} event(s) rejected", rejected.len())]
    Rejected {
        /// Index in the batch and reason, for each rejected event.
        rejected: Vec<(usize, String)>,
    },
    /// Some events cannot be taken now, for a reason that sending the batch again at
    /// once would meet again but that may go away (an operator can fix it: e.g. a store
    /// folder the process may not write); those in `rejected` can never be taken. Every
    /// other event of the batch was taken. See the contract on [`Target`] for what the
    /// dispatcher does with each.
    #[error("{} event(s) cannot be taken now, {} never", retry_later.len(), rejected.len())]
    PartlyTaken {
        /// Index in the batch and reason, for each event that may be taken later.
        retry_later: Vec<(usize, String)>,
        /// Index in the batch and reason, for each event that can never be taken.
        rejected: Vec<(usize, String)>,
    },
}

impl TargetError {
    /// A retryable error.
    pub fn retryable(message: impl Into<String>) -> TargetError {
        TargetError::Retryable {
            message: message.into(),
            retry_after: None,
        }
    }

    /// A permanent error.
    pub fn permanent(message: impl Into<String>) -> TargetError {
        TargetError::Permanent {
            message: message.into(),
        }
    }

    /// Whether the dispatcher should send the batch again.
    pub fn is_retryable(&self) -> bool {
        matches!(self, TargetError::Retryable { .. })
    }
}

/// What a target's build function gets besides its own config.
///
/// Made with [`BuildContext::new`] and [`BuildContext::with_folder_check`]: it is
/// `#[non_exhaustive]`, so a field added later (as `folder_check` was) breaks no
/// target's tests or benches that make one.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct BuildContext {
    /// The node this target runs on.
    pub node: NodeId,
    /// The target's instance name (from config, or `<type>-<index>`).
    pub target_name: String,
    /// The node's run folder (`run` by default); targets keep their state under it.
    pub run_dir: PathBuf,
    /// The node's dead-letter folder; a target that dead-letters events itself (after
    /// it has acknowledged them, e.g. from a spool) writes `<dead_letter_dir>/<target_name>.jsonl`,
    /// the same file the dispatcher uses.
    pub dead_letter_dir: PathBuf,
    /// The runtime for the tasks a target spawns: the dispatcher's dedicated runtime
    /// (each worker itself runs on a thread of its own), or the one given to
    /// `DispatcherBuilder::runtime`.
    pub runtime: tokio::runtime::Handle,
    /// The check of the folder `run_dir` lives in, when its owner gave one
    /// (`DispatcherBuilder::folder_check`: the event server's data folder, for its
    /// destinations and its witnesses). A target that creates folders under `run_dir` at run time (a spool
    /// folder removed under it, made again) asks it first and refuses while it fails,
    /// so that a data folder moved away is not made again at its path
    /// ([`crate::folder_check`]). `None`: nothing to ask (a node's run folder).
    pub folder_check: Option<Arc<dyn crate::FolderCheck>>,
}

impl BuildContext {
    /// The context of the target `target_name` of `node`, keeping its state under
    /// `run_dir`, its dead letters in `dead_letter_dir`, spawning its tasks on
    /// `runtime`; with no folder check (set one with
    /// [`with_folder_check`](BuildContext::with_folder_check)).
    pub fn new(
        node: NodeId,
        target_name: impl Into<String>,
        run_dir: impl Into<PathBuf>,
        dead_letter_dir: impl Into<PathBuf>,
        runtime: tokio::runtime::Handle,
    ) -> BuildContext {
        BuildContext {
            node,
            target_name: target_name.into(),
            run_dir: run_dir.into(),
            dead_letter_dir: dead_letter_dir.into(),
            runtime,
            folder_check: None,
        }
    }

    /// This context with `check` as the check of the folder `run_dir` lives in
    /// ([`BuildContext::folder_check`]).
    pub fn with_folder_check(mut self, check: Arc<dyn crate::FolderCheck>) -> BuildContext {
        self.folder_check = Some(check);
        self
    }
}

/// Why a target could not be built.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum BuildError {
    /// A setting is refused when the target is built (e.g. by a library the target
    /// hands it to); the message names it. Values that can be checked without I/O are
    /// checked once when the config is parsed ([`crate::TargetConfig::validate`]).
    #[error("{0}")]
    Config(String),
    /// A file or folder the target needs cannot be used.
    #[error("{}", crate::path_and_error(path, source))]
    Io {
        /// The path.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// Anything else, explained.
    #[error("{0}")]
    Other(String),
    /// The config given to a registration's `build` is another type's config (a
    /// program error: the config was not made by this registration's `parse`).
    #[error("the target was given a config of type `{given}`, but builds from `{expected}`")]
    ConfigType {
        /// The config type the target builds from.
        expected: &'static str,
        /// The config type it was given.
        given: &'static str,
    },
}
