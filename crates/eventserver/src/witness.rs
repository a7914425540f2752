//! The `[[witnesses]]`: every published checkpoint line of every chained store, copied
//! where this server cannot rewrite it, through a dispatcher of their own (spool and
//! dead letters under `<data_dir>/witness`, so a witness that is down never holds up
//! ingest).
//!
//! Three things make the copy complete and clean:
//!
//! - **Nothing written while the server was stopped is skipped.** `auditrail keys
//!   rotate`, `auditrail store prune` and `auditrail store accept` append lines
//!   (`nextKey`, `deleted`, `accepted`) with the server stopped. Per store, the index of
//!   the last line the witnesses received is kept in `<data_dir>/witness/handed/<store id>`; the first time a
//!   store is seen in a run (at start), its log is read and what the witnesses were
//!   not given is published first: every deletion, rotation and acceptance line after that index,
//!   and the log's last line (whose `prev` links vouch for every plain line before
//!   it). Without a recorded index (witnesses just configured) only the last line.
//! - **Lines go out one at a time, in log order, and the index moves only once the
//!   witnesses received the line**: the witness dispatcher took it durably (its
//!   acknowledged emit: the spool's fsync for an `eventserver` witness, the broker's ack
//!   for Kafka), and then its spool sent it on with nothing refused or lost meanwhile
//!   (every witness idle, no new dead letter, damaged range or lost segment counted).
//!   A spool is a queue, not the witness: a line it took and then lost (a segment
//!   removed or damaged) or that the witness refused (a clock beyond its bound, a key it
//!   does not know) is still in the checkpoint log, so the index must not pass it. A
//!   line that could not be taken, refused or lost stops the index for the rest of the
//!   run, so the next start publishes again from there.
//! - **One node identity with one sequence across restarts.** The events are sent as
//!   node `<node>.witness.<random>` (chosen once, kept in `<data_dir>/witness/node-id`),
//!   so several servers sharing a witness never share a node id, and with persisted
//!   sequence numbers (`<data_dir>/witness/seq/`), so a witness server sees neither
//!   reused numbers nor gaps across restarts.

use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use auditrail_core::{Dispatcher, NodeId, TargetStats};
use auditrail_integrity::checkpointer::CheckpointForwarder;
use auditrail_integrity::forward::{emit_acked, WITNESS_TOPIC};
use auditrail_integrity::{Checkpoint, HighWaterMarks};
use thiserror::Error;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::config::ServerConfig;

/// Why the witnesses cannot be set up.
#[derive(Debug, Error)]
pub(crate) enum WitnessSetupError {
    /// The witness folder or its node id file cannot be read or written.
    #[error("witnesses: {}", auditrail_core::path_and_error(path, source))]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The node id file holds no valid node id.
    #[error("witnesses: {path}: not a node id ({source}); remove the file to choose a new one (the witness then sees a new node)")]
    NodeId {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: auditrail_core::EventError,
    },
    /// The witness dispatcher cannot be built.
    #[error("witnesses: {0}")]
    Dispatcher(#[from] auditrail_core::DispatcherError),
}

/// What is queued for the publishing task.
enum Msg {
    /// A line the checkpointer just published.
    Line {
        root: Arc<Path>,
        /// Boxed: a checkpoint (with a deletion's ranges) is large next to the others.
        cp: Box<Checkpoint>,
        line: String,
    },
    /// At start: publish what the witnesses were not given of this store's log.
    CatchUp { root: Arc<Path>, store_id: String },
    /// Shutdown: everything before this was handled.
    Finish(oneshot::Sender<()>),
}

/// Counters of the publishing task (read by `/v1/stats` and `/metrics`).
#[derive(Debug, Default)]
struct Counters {
    /// Lines waiting to be taken by the witness dispatcher.
    pending: AtomicU64,
    /// When each waiting message was queued, oldest first.
    waiting_since: Mutex<VecDeque<Instant>>,
    /// Lines the witness dispatcher took durably.
    handed: AtomicU64,
    /// Lines it could not take (dead-lettered, dropped, or it was closed), or took and
    /// then could not confirm as received (a witness refused them, or its spool lost
    /// them): the next start publishes again from the first.
    failed: AtomicU64,
    /// Lines published at start that were written while the server was stopped (or
    /// not given before a crash).
    caught_up: AtomicU64,
}

/// What `/v1/stats` shows of the witnesses.
#[derive(Debug, Clone)]
pub(crate) struct WitnessStats {
    pub(crate) pending: u64,
    pub(crate) oldest_pending: Option<Duration>,
    pub(crate) handed: u64,
    pub(crate) failed: u64,
    pub(crate) caught_up: u64,
    /// The witness dispatcher's targets (queue, oldest undelivered, spool).
    pub(crate) targets: Vec<TargetStats>,
}

/// The witnesses of a running server.
#[derive(Debug)]
pub(crate) struct Witnesses {
    dispatcher: Dispatcher,
    tx: mpsc::UnboundedSender<Msg>,
    counters: Arc<Counters>,
    task: Mutex<Option<JoinHandle<Publisher>>>,
}

impl std::fmt::Debug for Msg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Msg::Line { cp, .. } => write!(f, "Line(#{})", cp.index),
            Msg::CatchUp { store_id, .. } => write!(f, "CatchUp({store_id})"),
            Msg::Finish(_) => f.write_str("Finish"),
        }
    }
}

impl Witnesses {
    /// Builds the witness dispatcher and starts the publishing task. `None` without
    /// `[[witnesses]]`. Must run inside a tokio runtime.
    /// `data_folder`: the server's high-water marks of its data dir, whose folder check
    /// ([`HighWaterMarks::check_folder`]) the record of the lines given asks before it
    /// writes.
    pub(crate) fn start(
        config: &ServerConfig,
        data_folder: Arc<HighWaterMarks>,
    ) -> Result<Option<Witnesses>, WitnessSetupError> {
        if config.witnesses.is_empty() {
            return Ok(None);
        }
        let dir = config.data_dir.join("witness");
        auditrail_core::durable::create_dir_all(&dir).map_err(|source| WitnessSetupError::Io {
            path: dir.clone(),
            source,
        })?;
        let node = node_id(&dir, &config.node)?;
        let dead_letter_dir = dir.join("deadletter");
        let mut b = Dispatcher::builder(node)
            .runtime(tokio::runtime::Handle::current())
            .run_dir(dir.clone())
            // Inside the data dir, whose lock the server holds for its whole life.
            .lock_run_dir(false)
            .persist_seq(true)
            .dead_letter_dir(dead_letter_dir.clone())
            // What the dispatcher and its targets make again at run time (the
            // sequence file's folder, dead letters, a spool or receipts folder removed
            // under them) is not made while the data folder is moved away: that would
            // bring it back at its path, the state split across the two.
            .folder_check(data_folder.clone())
            // A line given up meanwhile (its dead letter refused by that check) is not
            // lost: its index is not recorded as given, and the next start publishes it
            // again from the store's checkpoint log (see the module docs).
            .made_again_while_folder_gone(
                "the checkpoint line stays in the store's checkpoint log, and the next \
                 start publishes it to the witnesses again",
            )
            .drop_deadline(config.shutdown_timeout);
        for spec in &config.witnesses {
            b = b.target_spec(spec.clone());
        }
        let dispatcher = b.build()?;
        let counters = Arc::new(Counters::default());
        let (tx, rx) = mpsc::unbounded_channel();
        let publisher = Publisher {
            // What was refused or lost before this run is not this run's lines' doing
            // (and their index was not recorded: the catch-up publishes them again).
            losses: losses(&dispatcher.stats()),
            dispatcher: dispatcher.clone(),
            handed_dir: dir.join("handed"),
            dead_letter_dir,
            data_folder,
            folder_refused: false,
            counters: counters.clone(),
            stores: HashMap::new(),
            unconfirmed: HashMap::new(),
        };
        let task = tokio::spawn(publisher.run(rx));
        Ok(Some(Witnesses {
            dispatcher,
            tx,
            counters,
            task: Mutex::new(Some(task)),
        }))
    }

    /// The hook a store's checkpointer calls with every published line. It only
    /// queues (the checkpointer's thread must not block).
    pub(crate) fn forwarder(&self, root: &Path) -> CheckpointForwarder {
        let tx = self.tx.clone();
        let counters = self.counters.clone();
        let root: Arc<Path> = Arc::from(root);
        Box::new(move |cp, line| {
            counters.queued(1);
            let msg = Msg::Line {
                root: root.clone(),
                cp: Box::new(cp.clone()),
                line: line.to_string(),
            };
            if tx.send(msg).is_err() {
                // Only after shutdown: the next start publishes it from the log.
                counters.done(1);
            }
        })
    }

    /// Queues the start's catch-up of one store (see the module docs).
    pub(crate) fn catch_up(&self, root: &Path, store_id: &str) {
        self.counters.queued(0);
        let msg = Msg::CatchUp {
            root: Arc::from(root),
            store_id: store_id.to_string(),
        };
        if self.tx.send(msg).is_err() {
            self.counters.done(0);
        }
    }

    /// The counters of `/v1/stats`.
    pub(crate) fn stats(&self) -> WitnessStats {
        let c = &self.counters;
        WitnessStats {
            pending: c.pending.load(Ordering::Relaxed),
            oldest_pending: c
                .waiting_since
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .front()
                .map(Instant::elapsed),
            handed: c.handed.load(Ordering::Relaxed),
            failed: c.failed.load(Ordering::Relaxed),
            caught_up: c.caught_up.load(Ordering::Relaxed),
            targets: self.dispatcher.stats(),
        }
    }

    /// At shutdown, after the stores' final checkpoints were published: hands what is
    /// queued to the witness dispatcher (within `deadline`), then shuts it down (its
    /// spool keeps what is not delivered yet).
    pub(crate) async fn shutdown(&self, deadline: Duration) {
        let started = Instant::now();
        let (done, finished) = oneshot::channel();
        if self.tx.send(Msg::Finish(done)).is_ok()
            && tokio::time::timeout(deadline, finished).await.is_err()
        {
            tracing::warn!(
                pending = self.counters.pending.load(Ordering::Relaxed),
                "witnesses: checkpoint lines were still waiting at the shutdown deadline; the next start publishes them from the logs"
            );
        }
        let task = self
            .task
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        // The task ends once it answered `Finish`; when the deadline passed first it is
        // stopped, and what it handed without confirmation is published again by the
        // next start.
        let publisher = match task {
            Some(mut task) => {
                let left = deadline.saturating_sub(started.elapsed());
                match tokio::time::timeout(left, &mut task).await {
                    Ok(Ok(publisher)) => Some(publisher),
                    _ => {
                        task.abort();
                        None
                    }
                }
            }
            None => None,
        };
        self.dispatcher
            .shutdown(deadline.saturating_sub(started.elapsed()))
            .await;
        // The shutdown sent what the spools held, as far as the deadline let it:
        // record what the witnesses received (the final lines included).
        if let Some(mut publisher) = publisher {
            publisher.settle();
        }
    }
}

impl Counters {
    /// A message with `lines` lines was queued.
    fn queued(&self, lines: u64) {
        self.pending.fetch_add(lines, Ordering::Relaxed);
        self.waiting_since
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push_back(Instant::now());
    }

    /// The oldest message, with `lines` lines still counted, was handled.
    fn done(&self, lines: u64) {
        self.pending.fetch_sub(lines, Ordering::Relaxed);
        self.waiting_since
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop_front();
    }
}

/// Per store, in this run.
#[derive(Debug, Default)]
struct StoreState {
    /// The log was read for what the witnesses were not given (once per run).
    caught_up: bool,
    /// The highest index queued to the witness dispatcher in this run.
    queued: u64,
    /// A line could not be taken, or was refused or lost after it was: the recorded
    /// index stays before it.
    stuck: bool,
}

/// A store's lines taken by the witness dispatcher, not yet known to be received.
#[derive(Debug, Default)]
struct Unconfirmed {
    /// The highest index among them.
    index: u64,
    /// How many.
    lines: u64,
}

/// What the witnesses refused or lost so far (dead letters of the dispatcher and of
/// the spools, damaged ranges and lost segments of the spools, events dropped): a
/// line handed while this grows may not be at the witness.
fn losses(targets: &[auditrail_core::TargetStats]) -> u64 {
    targets
        .iter()
        .map(|t| {
            let spool = t.forwarding.as_ref().map_or(0, |f| {
                f.dead_lettered + f.damaged_ranges + f.lost_segments + f.lost_events
            });
            t.dead_lettered + t.lost + t.dropped_queue_full + spool
        })
        .sum()
}

/// Whether every witness sent on everything it took (nothing queued, nothing in a
/// spool).
fn idle(targets: &[auditrail_core::TargetStats]) -> bool {
    targets
        .iter()
        .all(|t| t.queue_depth == 0 && t.forwarding.as_ref().is_none_or(|f| f.pending_events == 0))
}

/// The publishing task: one line at a time, in order.
#[derive(Debug)]
struct Publisher {
    dispatcher: Dispatcher,
    handed_dir: PathBuf,
    /// The witness dispatcher's dead-letter folder (`<data_dir>/witness/deadletter`).
    dead_letter_dir: PathBuf,
    /// The data dir's folder check: the record of the lines given is not written
    /// (nor its folder made) while the data folder is moved away.
    data_folder: Arc<HighWaterMarks>,
    /// The record was refused for that, and it was said (once, until it is back).
    folder_refused: bool,
    counters: Arc<Counters>,
    /// By store id.
    stores: HashMap<String, StoreState>,
    /// By store id: the lines the witness dispatcher took that the witnesses are not
    /// yet known to have received (recorded by [`Publisher::settle`]).
    unconfirmed: HashMap<String, Unconfirmed>,
    /// [`losses`] when last settled.
    losses: u64,
}

impl Publisher {
    async fn run(mut self, mut rx: mpsc::UnboundedReceiver<Msg>) -> Publisher {
        // While lines wait to be confirmed, look again now and then (a spool sends on
        // its own time).
        let mut tick = tokio::time::interval(SETTLE_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let msg = tokio::select! {
                msg = rx.recv() => msg,
                _ = tick.tick() => {
                    self.settle();
                    continue;
                }
            };
            let Some(msg) = msg else { break };
            match msg {
                Msg::Line { root, cp, line } => {
                    self.catch_up(&root, &cp.store_id, Some(cp.index)).await;
                    let state = self.stores.entry(cp.store_id.clone()).or_default();
                    if cp.index > state.queued {
                        self.publish(&cp, &line).await;
                    }
                    self.counters.done(1);
                }
                Msg::CatchUp { root, store_id } => {
                    self.catch_up(&root, &store_id, None).await;
                    self.counters.done(0);
                }
                Msg::Finish(done) => {
                    let _ = done.send(());
                    break;
                }
            }
            self.settle();
        }
        self
    }

    /// Records, per store, the index of the lines the witnesses received: once every
    /// witness is idle with nothing refused or lost since the last look. When something
    /// was refused or lost meanwhile, the lines handed since may be what is missing:
    /// their stores' index stays where it is for the rest of the run (the next start
    /// publishes again from there) and they count as failed.
    fn settle(&mut self) {
        if self.unconfirmed.is_empty() {
            return;
        }
        let targets = self.dispatcher.stats();
        let losses = losses(&targets);
        if losses > self.losses {
            self.losses = losses;
            // Said once per store and run (the witness's target names every refused
            // or lost event itself).
            let mut stores = Vec::new();
            let mut lines = 0;
            for (store_id, u) in self.unconfirmed.drain() {
                if let Some(state) = self.stores.get_mut(&store_id) {
                    if !state.stuck {
                        stores.push(store_id);
                    }
                    state.stuck = true;
                }
                lines += u.lines;
            }
            self.counters.failed.fetch_add(lines, Ordering::Relaxed);
            if stores.is_empty() {
                return;
            }
            tracing::error!(
                stores = ?stores,
                "witnesses: a witness refused checkpoint lines, or its spool lost some, after the witness dispatcher took them (see the ERROR naming the witness, and <data_dir>/witness/deadletter): they are still in the checkpoint logs; these stores' index of lines given stays before them, so the next start publishes again from there"
            );
            return;
        }
        if !idle(&targets) {
            return;
        }
        let stores: Vec<String> = self.unconfirmed.keys().cloned().collect();
        for store_id in stores {
            if self.stores.get(&store_id).is_some_and(|s| s.stuck) {
                self.unconfirmed.remove(&store_id);
                continue;
            }
            let Some(&Unconfirmed { index, .. }) = self.unconfirmed.get(&store_id) else {
                continue;
            };
            match write_handed(&self.handed_dir, &self.data_folder, &store_id, index) {
                Ok(()) => {}
                // Kept: recorded once the folder is back (a start before then
                // publishes those lines again, which a witness takes twice at worst).
                Err(e @ HandedFileError::DataFolder { .. }) => {
                    if !self.folder_refused {
                        self.folder_refused = true;
                        tracing::warn!(store_id = %store_id, checkpoint = index, "witnesses: {e}");
                    }
                    return;
                }
                Err(e) => {
                    // The witness has the line; only a restart would publish it again.
                    tracing::warn!(store_id = %store_id, checkpoint = index, "witnesses: {e}");
                }
            }
            self.unconfirmed.remove(&store_id);
        }
        if std::mem::take(&mut self.folder_refused) {
            tracing::info!("witnesses: the data folder is back at its path: the index of the checkpoint lines the witnesses received is recorded again");
        }
    }

    /// The first time a store is seen in this run: publishes what its log holds that
    /// the witnesses were not given, before `before` (the line that is about to be
    /// published; `None`: the whole log, with its last line).
    async fn catch_up(&mut self, root: &Path, store_id: &str, before: Option<u64>) {
        let state = self.stores.entry(store_id.to_string()).or_default();
        if state.caught_up {
            return;
        }
        state.caught_up = true;
        let handed = match read_handed(&self.handed_dir, store_id) {
            Ok(h) => h,
            Err(e) => {
                tracing::error!(store = %root.display(), "witnesses: {e}; publishing the log's last line only");
                None
            }
        };
        let (lines, last_index) = match read_log(root, handed) {
            Ok(read) => read,
            Err(e) => {
                tracing::error!(store = %root.display(), "witnesses: cannot read the checkpoint log to publish what the witnesses were not given: {e}");
                return;
            }
        };
        if let Some(h) = handed {
            if h > last_index {
                tracing::warn!(
                    store = %root.display(),
                    handed = h,
                    log_ends_at = last_index,
                    "witnesses: they were given checkpoint #{h}, but the log ends at #{last_index}: the log was cut or replaced (`auditrail verify --witness` names it)"
                );
            }
        }
        let below = before.unwrap_or(u64::MAX);
        let last = lines.iter().rposition(|(cp, _)| cp.index < below);
        let chosen: Vec<&(Checkpoint, String)> = lines
            .iter()
            .enumerate()
            .filter(|(i, (cp, _))| {
                let unseen = handed.is_some_and(|h| cp.index > h) && cp.index < below;
                let special =
                    cp.deleted.is_some() || cp.next_key.is_some() || cp.accepted.is_some();
                // The last line is needed only when no newer line is about to go.
                let newest = before.is_none() && Some(*i) == last;
                (unseen && special) || (newest && handed.is_none_or(|h| cp.index > h))
            })
            .map(|(_, l)| l)
            .collect();
        if chosen.is_empty() {
            return;
        }
        tracing::info!(
            store = %root.display(),
            lines = chosen.len(),
            after = handed,
            "witnesses: publishing checkpoint lines they were not given (written while the server was stopped, or before a crash)"
        );
        self.counters
            .pending
            .fetch_add(chosen.len() as u64, Ordering::Relaxed);
        for (cp, line) in chosen {
            self.publish(cp, line).await;
            self.counters.pending.fetch_sub(1, Ordering::Relaxed);
            self.counters.caught_up.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Hands one line to the witness dispatcher and waits until it took it durably;
    /// then records its index.
    async fn publish(&mut self, cp: &Checkpoint, line: &str) {
        let result = emit_acked(&self.dispatcher, WITNESS_TOPIC, cp, line).await;
        let state = self.stores.entry(cp.store_id.clone()).or_default();
        state.queued = state.queued.max(cp.index);
        match result {
            Ok(_) => {
                self.counters.handed.fetch_add(1, Ordering::Relaxed);
                // Followed also when stuck, so that what is refused or lost later
                // counts as failed too.
                let u = self.unconfirmed.entry(cp.store_id.clone()).or_default();
                u.index = u.index.max(cp.index);
                u.lines += 1;
            }
            Err(e) => {
                self.counters.failed.fetch_add(1, Ordering::Relaxed);
                state.stuck = true;
                tracing::error!(
                    store_id = %cp.store_id,
                    checkpoint = cp.index,
                    "witnesses: the witness dispatcher could not take checkpoint line #{}: {}; the next start publishes again from it",
                    cp.index,
                    not_taken(&e, &self.dead_letter_dir)
                );
            }
        }
    }
}

/// What became of a line the witness dispatcher did not take, per witness: its dead
/// letter written (naming the file) or not (saying why: the dispatcher's reason ends
/// with it, e.g. the data folder moved away). Before, "see its dead letters" was said
/// also when none was written.
fn not_taken(e: &auditrail_core::AckError, dead_letter_dir: &Path) -> String {
    use auditrail_core::{AckError, FailureKind};
    let AckError::NotDelivered { failures, .. } = e else {
        return format!("{e}; no dead letter was written");
    };
    failures
        .iter()
        .map(|f| match f.kind {
            FailureKind::DeadLettered { .. } | FailureKind::Rejected { .. } => format!(
                "witness {}: {}; its dead letter was written to {}",
                f.target,
                f.reason,
                auditrail_core::dead_letter::file_path(dead_letter_dir, &f.target).display()
            ),
            // The reason says why the dead letter was not written.
            FailureKind::Lost => format!(
                "witness {}: {}; no dead letter was written",
                f.target, f.reason
            ),
            _ => format!("witness {}: {}; not dead-lettered", f.target, f.reason),
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// How often lines waiting to be confirmed as received are looked at.
const SETTLE_EVERY: Duration = Duration::from_secs(1);

/// The witness events' node id: read from `<dir>/node-id`, or chosen once
/// (`<node>.witness.<16 hex>`) and written there.
fn node_id(dir: &Path, node: &NodeId) -> Result<NodeId, WitnessSetupError> {
    let path = dir.join("node-id");
    match auditrail_core::regular_file::read_to_string(&path) {
        Ok(text) => {
            NodeId::new(text.trim()).map_err(|source| WitnessSetupError::NodeId { path, source })
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let random = auditrail_core::EventId::new().to_string().replace('-', "");
            // The random half of a UUIDv7 (its start is the time).
            let suffix = &random[random.len() - 16..];
            let infix = auditrail_core::event::WITNESS_NODE_INFIX;
            let base: String = node
                .as_str()
                .chars()
                .take(auditrail_core::event::NODE_ID_MAX_LEN - infix.len() - suffix.len())
                .collect();
            let id = format!("{base}{infix}{suffix}");
            let node = NodeId::new(&id).map_err(|source| WitnessSetupError::NodeId {
                path: path.clone(),
                source,
            })?;
            auditrail_core::durable::replace_file(
                &path,
                &path.with_extension("tmp"),
                format!("{id}\n").as_bytes(),
            )
            .map_err(|source| WitnessSetupError::Io { path, source })?;
            Ok(node)
        }
        Err(source) => Err(WitnessSetupError::Io { path, source }),
    }
}

/// Why the file recording which checkpoint a store's witnesses were given last cannot be
/// read or written ([`read_handed`], [`write_handed`]).
#[derive(Debug, Error)]
enum HandedFileError {
    /// The file cannot be read.
    #[error("{}", auditrail_core::path_and_error(path, source))]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file holds no checkpoint index.
    #[error("{}: not a checkpoint index ({text:?})", path.display())]
    NotAnIndex {
        /// The file.
        path: PathBuf,
        /// What it holds.
        text: String,
    },
    /// The data folder was moved away (or another put at its path) while the server
    /// runs: nothing is written at its path, as the server's other writers refuse
    /// ([`HighWaterMarks::check_folder`]).
    #[error(
        "checkpoint #{index} is not recorded as given in {} ({source}): the record waits \
         for the folder to be back, and a start before then publishes the lines again",
        path.display()
    )]
    DataFolder {
        /// The checkpoint's index.
        index: u64,
        /// The file.
        path: PathBuf,
        /// What was found at the data folder's path (boxed: the integrity errors are
        /// large next to this enum's others).
        #[source]
        source: Box<auditrail_integrity::IntegrityError>,
    },
    /// The file cannot be written.
    #[error(
        "cannot record checkpoint #{index} as given in {}",
        auditrail_core::path_and_error(path, source)
    )]
    Write {
        /// The checkpoint's index.
        index: u64,
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// The index recorded for `store_id`, if any.
fn read_handed(dir: &Path, store_id: &str) -> Result<Option<u64>, HandedFileError> {
    let path = dir.join(store_id);
    match auditrail_core::regular_file::read_to_string(&path) {
        Ok(text) => match text.trim().parse() {
            Ok(index) => Ok(Some(index)),
            Err(_) => Err(HandedFileError::NotAnIndex { path, text }),
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(HandedFileError::Read { path, source }),
    }
}

/// Records `index` as the last line of `store_id` the witnesses received, in `dir`
/// (under the data folder, whose check `data_folder` makes first: a data folder moved
/// away is not made again at its path by the `create_dir_all` here).
fn write_handed(
    dir: &Path,
    data_folder: &HighWaterMarks,
    store_id: &str,
    index: u64,
) -> Result<(), HandedFileError> {
    let path = dir.join(store_id);
    if let Err(source) = data_folder.check_folder() {
        return Err(HandedFileError::DataFolder {
            index,
            path,
            source: Box::new(source),
        });
    }
    auditrail_core::durable::create_dir_all(dir)
        .and_then(|()| {
            let tmp = path.with_extension("tmp");
            auditrail_core::durable::replace_file(&path, &tmp, format!("{index}\n").as_bytes())
        })
        .map_err(|source| HandedFileError::Write {
            index,
            path,
            source,
        })
}

/// The checkpoint log's complete lines that parse and verify, in order (every piece,
/// read one at a time).
/// Also the number of the log's last line that verifies (0: none).
fn read_log(root: &Path, after: Option<u64>) -> std::io::Result<(Vec<(Checkpoint, String)>, u64)> {
    let mut out = Vec::new();
    let mut last_index = 0;
    // Only the pieces that can hold lines after the last one handed to the witnesses
    // (and the log's last line), one piece in memory at a time.
    auditrail_store::checkpoint_pieces::for_each_line_after(root, after.unwrap_or(0), |l| {
        // The start's checks already refused a damaged log: a line that does not
        // verify here is not published.
        if let Ok(cp) = Checkpoint::parse_line(l.bytes) {
            last_index = cp.index;
            if after.is_some_and(|h| cp.index <= h) {
                return;
            }
            out.push((cp, String::from_utf8_lossy(l.bytes).into_owned()));
        }
    })
    .map_err(|e| e.source)?;
    Ok((out, last_index))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::error::Error as _;

    use super::*;

    #[test]
    fn a_node_id_file_holding_no_node_id_keeps_the_node_id_error_as_its_source() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("node-id"), ".hidden\n").unwrap();
        let err = node_id(dir.path(), &NodeId::new("server").unwrap()).unwrap_err();
        let source = err
            .source()
            .and_then(|s| s.downcast_ref::<auditrail_core::EventError>());
        assert!(
            matches!(
                source,
                Some(auditrail_core::EventError::InvalidField { field: "node", .. })
            ),
            "{err:?}"
        );
        assert!(
            err.to_string().ends_with(
                "node-id: not a node id (invalid node \".hidden\": must not start with `.`); \
                 remove the file to choose a new one (the witness then sees a new node)"
            ),
            "{err}"
        );
    }
}
