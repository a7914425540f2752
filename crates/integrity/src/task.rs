//! Running a [`Checkpointer`] next to a store: follow the store's chain head (a
//! `tokio::sync::watch` channel the store publishes after every durable batch), sign
//! by count and by time, and sign a last checkpoint at shutdown.
//!
//! ```
//! use std::sync::Arc;
//! use auditrail_store::chain::ChainLink;
//! use auditrail_store::Head;
//! use auditrail_integrity::{CheckpointPolicy, CheckpointTask, Checkpointer, Signer};
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = tempfile::tempdir()?;
//! let signer = Arc::new(Signer::load_or_create(dir.path())?);
//! let (head_tx, head_rx) = tokio::sync::watch::channel(Head::from(ChainLink::GENESIS));
//! let cp = Checkpointer::open(&dir.path().join("store"), signer, CheckpointPolicy::default(), head_rx.borrow().clone())?;
//! let task = CheckpointTask::spawn(cp, head_rx);
//! head_tx.send(ChainLink { seq: 1, hash: [7; 32] }.into())?; // the store committed a batch
//! let last = task.close().await?; // at shutdown, after the store's last batch
//! assert_eq!(last.map(|c| c.link.seq), Some(1));
//! # Ok(()) }
//! ```

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;

use super::checkpoint::Checkpoint;
use super::checkpointer::Checkpointer;
use super::IntegrityError;
use auditrail_store::Head;

/// The checkpointer of a store, shared by its checkpoint task and by prunes (which
/// write deletion lines into the same log, in the same numbering).
pub(crate) type SharedCheckpointer = Arc<Mutex<Checkpointer>>;

/// What a checkpoint task has sealed, and why its last attempt failed while it fails.
#[derive(Debug, Clone, Default)]
pub struct Sealed {
    /// The chain sequence number up to which a signed, fsynced line of the log vouches
    /// for the records; it only grows.
    pub seq: u64,
    /// While sealing fails (the log's disk, a log moved or truncated by an operator):
    /// the chain seq the last attempt tried to seal through, and its error. Cleared by
    /// the next attempt that does not fail. A batch waiting for its seal is answered
    /// with it at once rather than when its wait times out.
    pub failed: Option<(u64, Arc<IntegrityError>)>,
    /// While the last line is written and sealed, but cannot be published (its
    /// high-water mark in the data folder cannot be written: a read-only data folder):
    /// why. Batches are sealed and acknowledged meanwhile; the mark that guards the
    /// store against a rollback at the next start lags. Cleared as `failed` is.
    pub unpublished: Option<Arc<IntegrityError>>,
    /// Attempts so far: a waiter takes only a failure of an attempt made after it
    /// began waiting (an earlier one may be stale: the log is back, and the next
    /// attempt, at most a second away, seals).
    pub attempts: u64,
}

/// A background task that checkpoints a store. Dropping it without [`close`](Self::close)
/// still signs a final checkpoint once the store drops its head sender.
#[derive(Debug)]
pub struct CheckpointTask {
    /// Sends whether the stop is clean (no record can be written any more).
    stop: Option<oneshot::Sender<bool>>,
    join: JoinHandle<Result<Option<Checkpoint>, IntegrityError>>,
    sealed: watch::Receiver<Sealed>,
    checkpointer: SharedCheckpointer,
}

impl CheckpointTask {
    /// Spawns the task on the current tokio runtime. File writes and fsyncs run on the
    /// blocking pool, never on the async threads.
    pub fn spawn(checkpointer: Checkpointer, head: watch::Receiver<Head>) -> CheckpointTask {
        let (stop, stop_rx) = oneshot::channel();
        let (sealed_tx, sealed) = watch::channel(Sealed {
            seq: checkpointer.last().map_or(0, |c| c.link.seq),
            failed: None,
            unpublished: None,
            attempts: 0,
        });
        let checkpointer = Arc::new(Mutex::new(checkpointer));
        let join = tokio::spawn(run(checkpointer.clone(), head, stop_rx, sealed_tx));
        CheckpointTask {
            stop: Some(stop),
            join,
            sealed,
            checkpointer,
        }
    }

    /// What is sealed (see [`Sealed`]). Closed once the task ended.
    pub fn sealed(&self) -> watch::Receiver<Sealed> {
        self.sealed.clone()
    }

    /// The checkpointer the task writes with (for deletion lines).
    pub(crate) fn checkpointer(&self) -> SharedCheckpointer {
        self.checkpointer.clone()
    }

    /// Stops following the head and signs a final checkpoint of the latest head that
    /// records a clean stop ([`Checkpointer::record_stop`]): call it once the store
    /// can take no more records (after its last durable batch, its writer closed).
    /// Returns the last checkpoint of the log.
    pub async fn close(self) -> Result<Option<Checkpoint>, IntegrityError> {
        self.stop(true).await
    }

    /// [`close`](Self::close) for a store whose writer may still write (its shutdown
    /// did not finish): the final checkpoint does not say the stop was clean, so that
    /// a record written after it is signed, as recovered, at the next start instead
    /// of being refused as written while the server was stopped.
    pub async fn close_not_stopped(self) -> Result<Option<Checkpoint>, IntegrityError> {
        self.stop(false).await
    }

    async fn stop(mut self, clean: bool) -> Result<Option<Checkpoint>, IntegrityError> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(clean);
        }
        match (&mut self.join).await {
            Ok(r) => r,
            Err(e) => Err(IntegrityError::Io {
                path: Default::default(),
                source: std::io::Error::other(format!("checkpoint task failed: {e}")),
            }),
        }
    }
}

/// What the log said of the attempts' failures: a failure that lasts is retried every
/// second (a data folder moved away, a disk that refuses the marks file), and an
/// `ERROR` per attempt wrote 86 400 identical lines a day, which journald's rate limit
/// answers by dropping the process's other messages. The state is in `/readyz` while
/// it lasts (`unsealed`, `high_water_mark_unwritten`, from [`Sealed`]); the log says
/// when it starts (and when the error changes), and when it ends.
#[derive(Debug, Default)]
struct Said {
    /// The error said last, while attempts fail.
    failing: Option<String>,
    /// Attempts that failed since the first one said.
    attempts: u64,
}

impl Said {
    /// An attempt ended, with `failed` when it did.
    fn attempt(&mut self, failed: Option<&IntegrityError>) {
        match failed {
            Some(e) => {
                let now = e.to_string();
                self.attempts += 1;
                if self.failing.as_deref() != Some(now.as_str()) {
                    tracing::error!(error = %e, "writing a checkpoint failed (retried every second, and not said again while it fails with this error; `/readyz` names the store meanwhile)");
                    self.failing = Some(now);
                }
            }
            None => {
                if let Some(last) = self.failing.take() {
                    tracing::info!(
                        failed_attempts = std::mem::take(&mut self.attempts),
                        last_error = %last,
                        "writing a checkpoint works again"
                    );
                }
            }
        }
    }
}

async fn blocking<T: Send + 'static>(
    cp: &SharedCheckpointer,
    f: impl FnOnce(&mut Checkpointer) -> T + Send + 'static,
) -> Result<T, IntegrityError> {
    let cp = cp.clone();
    tokio::task::spawn_blocking(move || f(&mut cp.lock().unwrap_or_else(PoisonError::into_inner)))
        .await
        .map_err(|e| IntegrityError::Io {
            path: Default::default(),
            source: std::io::Error::other(format!("checkpoint write panicked: {e}")),
        })
}

fn last_seq(cp: &SharedCheckpointer) -> u64 {
    cp.lock()
        .unwrap_or_else(PoisonError::into_inner)
        .last()
        .map_or(0, |c| c.link.seq)
}

async fn run(
    cp: SharedCheckpointer,
    mut head: watch::Receiver<Head>,
    mut stop: oneshot::Receiver<bool>,
    sealed: watch::Sender<Sealed>,
) -> Result<Option<Checkpoint>, IntegrityError> {
    let policy = cp.lock().unwrap_or_else(PoisonError::into_inner).policy();
    let secs = policy.every_seconds;
    // With no time policy, tick rarely: the tick only re-checks the count policy. When
    // sealing, every second: a seal that failed is retried even if no batch comes (its
    // batch waits for it), and a tick without a new head costs nothing.
    let period = if policy.seal_every_batch {
        Duration::from_secs(1)
    } else {
        Duration::from_secs(if secs == 0 { 3600 } else { secs.max(1) })
    };
    let mut tick = tokio::time::interval(period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    let mut said = Said::default();
    let clean = loop {
        tokio::select! {
            changed = head.changed() => {
                if changed.is_err() {
                    // The store closed (its writer is gone): sign its final head below.
                    break true;
                }
            }
            _ = tick.tick() => {}
            // Dropped without `close`: whether the store still writes is unknown.
            stopped = &mut stop => break stopped.unwrap_or(false),
        }
        let link = head.borrow_and_update().clone();
        let through = link.link.seq;
        let r = blocking(&cp, move |c| c.after_batch(link)).await?;
        let seq = last_seq(&cp);
        said.attempt(r.as_ref().err());
        let failed = r.err().map(|e| {
            // Retried at the next batch or tick; the records stay uncovered meanwhile
            // (and `auditrail verify` says so).
            (through, Arc::new(e))
        });
        // A line vouching for the head was written (the failure came after it: its
        // publishing, the high-water mark): the records are sealed, and a batch
        // waiting for them is not refused; the failure is said as what it is.
        let (failed, unpublished) = match failed {
            Some((_, e)) if seq >= through => (None, Some(e)),
            failed => (failed, None),
        };
        sealed.send_modify(|s| {
            s.seq = seq;
            s.failed = failed;
            s.unpublished = unpublished;
            s.attempts += 1;
        });
    };
    let link = head.borrow().clone();
    let r = blocking(&cp, move |c| {
        if clean {
            c.record_stop(link)?;
        } else {
            c.checkpoint_now(link)?;
        }
        Ok::<_, IntegrityError>(c.last().cloned())
    })
    .await?;
    // Batches still waiting for their seal see it before the channel closes.
    sealed.send_modify(|s| s.seq = last_seq(&cp));
    r
}
