//! The [`Target`] implementation, in its two modes: spooled (default) and direct.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicUsize;
use std::sync::Arc;
use std::time::{Duration, Instant};

use auditrail_core::{
    async_trait, BuildContext, BuildError, Event, Forwarding, ForwardingStats, InvalidConfig,
    RoutingKey, Target, TargetConfig, TargetError,
};
use futures_util::stream::{self, StreamExt};
use tokio::sync::{watch, Notify};
use tokio::task::JoinHandle;

use crate::client::{Client, PostError};
use crate::config::{EventServerConfig, OnSpoolFull};
use crate::deliver::{deliver, Delivered};
use crate::metrics::{Metrics, MetricsSnapshot};
use crate::routing;
use crate::sender::{DrainWaiter, Sender};
use crate::spool::{record, Spool, SpoolError, SpoolOptions};

/// Delay the dispatcher is asked to wait when the spool is full.
const SPOOL_FULL_RETRY: Duration = Duration::from_millis(250);

/// Consecutive events of a batch appended to the spool at once, and their bytes in the
/// batch's encoding.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Piece {
    events: std::ops::Range<usize>,
    bytes: std::ops::Range<usize>,
}

/// The batch's encoded records (`ends[i]`: where event `i`'s record ends) cut into
/// pieces of at most half the spool's bound each (a piece is appended whole, and a
/// spool holding up to half its bound of unacknowledged records still takes it), or one
/// event each where an event alone is larger. The whole batch is one piece when it
/// fits: a batch larger than the spool could otherwise never be spooled, and its valid
/// events would be given up.
fn pieces(ends: &[usize], max_bytes: u64) -> Vec<Piece> {
    let total = ends.last().copied().unwrap_or(0);
    if total as u64 <= max_bytes {
        return vec![Piece {
            events: 0..ends.len(),
            bytes: 0..total,
        }];
    }
    let limit = usize::try_from(max_bytes / 2).unwrap_or(usize::MAX).max(1);
    let mut out: Vec<Piece> = Vec::new();
    let (mut first, mut start) = (0, 0);
    for (i, &end) in ends.iter().enumerate() {
        if i > first && end - start > limit {
            out.push(Piece {
                events: first..i,
                bytes: start..ends[i - 1],
            });
            first = i;
            start = ends[i - 1];
        }
    }
    if first < ends.len() {
        out.push(Piece {
            events: first..ends.len(),
            bytes: start..total,
        });
    }
    out
}

/// Sends a node's events to an auditrail event server. Built from
/// [`EventServerConfig`] through the registry (type `eventserver`).
pub struct EventServerTarget {
    name: String,
    config: Arc<EventServerConfig>,
    routing_key: Option<RoutingKey>,
    client: Arc<Client>,
    metrics: Arc<Metrics>,
    spooled: Option<Spooled>,
    /// Of the events the last `send` took (direct mode), those the server answered
    /// `durable: false` ([`Target::taken_not_durable`]).
    last_not_durable: u64,
}

impl std::fmt::Debug for EventServerTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Not the config: it holds the API key.
        f.debug_struct("EventServerTarget")
            .field("name", &self.name)
            .field("routing_key", &self.routing_key)
            .field("spooled", &self.spooled.is_some())
            .finish_non_exhaustive()
    }
}

struct Spooled {
    spool: Arc<Spool>,
    dead_letter: PathBuf,
    wake: Arc<Notify>,
    /// Callers waiting for the sender: `wait_drained`, a `send` waiting for room (see
    /// [`Sender::drain_waiters`]).
    drain_waiters: Arc<AtomicUsize>,
    progress: Arc<Notify>,
    stop: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

impl TargetConfig for EventServerConfig {
    const PATH_KEYS: &'static [&'static str] = &[
        "ca_file",
        "client_cert",
        "client_key",
        "spool_dir",
        "receipts_dir",
        "dead_letter_file",
    ];

    fn validate(&self) -> Result<(), InvalidConfig> {
        self.check()
    }

    /// `Ok` means in the spool, delivered from there: durable with `spool_fsync =
    /// "always"` (the default), in the page cache with `"never"`. (What the server it
    /// forwards to answers later does not change what `Ok` meant.) With `spool =
    /// false`, `Ok` means the server's `200`, durable as its `durable` says: the
    /// events it answered `durable: false` are counted
    /// ([`Target::taken_not_durable`]).
    fn durability(&self) -> auditrail_core::Durability {
        if !self.spool {
            return auditrail_core::Durability::per_answer(
                "`spool = false`: `Ok` means the event server answered `200`, durable only \
                 where that answer says `\"durable\": true` (the server fsynced); the events \
                 it answers `\"durable\": false` (a flush policy, a destination that does \
                 not fsync) are counted as not durable",
            );
        }
        match self.spool_fsync {
            crate::config::SpoolFsync::Always => auditrail_core::Durability::Durable,
            crate::config::SpoolFsync::Never => auditrail_core::Durability::not_durable(
                "`spool_fsync = \"never\"`: `Ok` means written to the spool in the operating system's page cache, not fsynced",
            ),
        }
    }

    fn folders(&self, run_dir: &Path, target_name: &str) -> Vec<(&'static str, PathBuf)> {
        let spool = self
            .spool_folder(run_dir, target_name)
            .map(|f| ("spool_dir", f));
        let receipts = self
            .receipts_folder(run_dir, target_name)
            .map(|f| ("receipts_dir", f));
        spool.into_iter().chain(receipts).collect()
    }

    fn build(&self, ctx: &BuildContext) -> Result<Box<dyn Target>, BuildError> {
        // Validated when parsed: no second check here.
        Ok(Box::new(EventServerTarget::new_validated(
            self.clone(),
            ctx,
        )?))
    }
}

impl EventServerConfig {
    /// The spool folder of the target named `target_name` on a node whose run folder
    /// is `run_dir`: `spool_dir`, else `<run_dir>/spool/<target_name>`. None with
    /// `spool = false`.
    pub fn spool_folder(&self, run_dir: &Path, target_name: &str) -> Option<PathBuf> {
        self.spool.then(|| {
            self.spool_dir.as_deref().map_or_else(
                || run_dir.join("spool").join(target_name),
                Path::to_path_buf,
            )
        })
    }

    /// The folder where the target named `target_name` keeps the server's receipts:
    /// `receipts_dir`, else `<run_dir>/receipts/<target_name>`. None with
    /// `keep_receipts = false`.
    pub fn receipts_folder(&self, run_dir: &Path, target_name: &str) -> Option<PathBuf> {
        self.keep_receipts.then(|| {
            self.receipts_dir.as_deref().map_or_else(
                || run_dir.join("receipts").join(target_name),
                Path::to_path_buf,
            )
        })
    }
}

impl EventServerTarget {
    /// Checks `config` (a config made in code) and builds the target; in spool mode
    /// opens the spool (repairing it) and starts the sender task on `ctx.runtime`.
    pub fn new(config: EventServerConfig, ctx: &BuildContext) -> Result<Self, BuildError> {
        config
            .check()
            .map_err(|e| BuildError::Config(e.to_string()))?;
        EventServerTarget::new_validated(config, ctx)
    }

    /// [`EventServerTarget::new`] for a config already checked.
    fn new_validated(config: EventServerConfig, ctx: &BuildContext) -> Result<Self, BuildError> {
        let routing_key = config
            .static_routing_key()
            .map_err(|e| BuildError::Config(e.to_string()))?;
        let receipts = config
            .receipts_folder(&ctx.run_dir, &ctx.target_name)
            .map(|dir| {
                crate::receipts::ReceiptLog::new(dir, &config.url)
                    .with_folder_check(ctx.folder_check.clone())
            });
        let client = Arc::new(
            Client::new(&config, receipts).map_err(|e| BuildError::Config(e.to_string()))?,
        );
        let metrics = Arc::new(Metrics::default());
        let config = Arc::new(config);
        let spooled = if let Some(dir) = config.spool_folder(&ctx.run_dir, &ctx.target_name) {
            let spool = Spool::open_checked(
                SpoolOptions {
                    dir: dir.clone(),
                    max_bytes: config.spool_max_bytes,
                    segment_bytes: config.spool_segment_bytes,
                    fsync: config.spool_fsync,
                },
                metrics.clone(),
                ctx.folder_check.clone(),
            )
            .map_err(|e| match e {
                SpoolError::Io { path, source } => BuildError::Io { path, source },
                // Built again by its worker once the folder is back (`unbuilt.rs`).
                SpoolError::FolderGone { dir, source } => BuildError::Io {
                    path: dir,
                    source: source.into_io(),
                },
                other => BuildError::Other(other.to_string()),
            })?;
            let spool = Arc::new(spool);
            if !spool.is_drained() {
                tracing::info!(target_name = %ctx.target_name, spool = %dir.display(), bytes = spool.bytes(), "resuming delivery of spooled events");
            }
            let dead_letter: PathBuf = config.dead_letter_file.as_deref().map_or_else(
                || crate::dead_letter::default_path(&ctx.dead_letter_dir, &ctx.target_name),
                Path::to_path_buf,
            );
            let wake = Arc::new(Notify::new());
            let drain_waiters = Arc::new(AtomicUsize::new(0));
            let progress = Arc::new(Notify::new());
            let (stop, stop_rx) = watch::channel(false);
            let sender = Sender {
                spool: spool.clone(),
                client: client.clone(),
                config: config.clone(),
                metrics: metrics.clone(),
                target: Arc::from(ctx.target_name.as_str()),
                dead_letter: Arc::new(dead_letter.clone()),
                // The default file is under the dispatcher's dead-letter folder, which
                // the check covers; a file the config names is the operator's choice.
                dead_letter_check: ctx
                    .folder_check
                    .clone()
                    .filter(|_| config.dead_letter_file.is_none()),
                wake: wake.clone(),
                progress: progress.clone(),
                stop: stop_rx,
                drain_waiters: drain_waiters.clone(),
                retry_after_cap: Default::default(),
                oldest: watch::channel(0).0,
                settled: Arc::new(Notify::new()),
            };
            let dead_letter_path = dead_letter;
            let task = ctx.runtime.spawn(sender.run());
            Some(Spooled {
                spool,
                dead_letter: dead_letter_path,
                wake,
                drain_waiters,
                progress,
                stop,
                task: Some(task),
            })
        } else {
            None
        };
        // Once the target is built (a setup that fails is retried, and would say it
        // again each time).
        if config.server_keys.is_empty() {
            tracing::warn!(
                target_name = %ctx.target_name,
                url = %config.url,
                "`server_keys` is not set: the server's answers and their receipts are \
                 checked only for self-consistency (signed by the key they name), so whatever \
                 answers at the url signing with a key of its own, or not signing at all, is \
                 taken as the event server, and the events it acknowledges leave this node. Set \
                 `server_keys` to the server's public key (`auditrail keys export` on the \
                 server prints it; docs/targets/eventserver.md)"
            );
        }
        Ok(EventServerTarget {
            name: ctx.target_name.clone(),
            config,
            routing_key,
            client,
            metrics,
            spooled,
            last_not_durable: 0,
        })
    }

    /// This target's counters now (the same ones its forwarding probe reports to the
    /// dispatcher, plus the HTTP-level ones).
    pub fn metrics(&self) -> MetricsSnapshot {
        self.metrics.snapshot()
    }

    fn routed(&self, batch: &[Arc<Event>]) -> Vec<Arc<Event>> {
        batch
            .iter()
            .map(|e| routing::apply(self.config.routing_key_mode, self.routing_key.as_ref(), e))
            .collect()
    }

    async fn send_spooled(&self, s: &Spooled, batch: &[Arc<Event>]) -> Result<(), TargetError> {
        let events = self.routed(batch);
        let max = self.config.spool_max_bytes;
        let batch_len = events.len();
        let encoded = tokio::task::spawn_blocking(move || {
            let mut buf = Vec::with_capacity(events.len() * 512);
            // `ends[k]` closes the record of event `kept[k]` of the batch.
            let mut ends = Vec::with_capacity(events.len());
            let mut kept = Vec::with_capacity(events.len());
            let mut oversized = Vec::new();
            for (i, e) in events.iter().enumerate() {
                let start = buf.len();
                record::encode_event(e, &mut buf);
                let payload = buf.len() - start - record::HEADER;
                if payload > record::MAX_PAYLOAD {
                    // The spool's reader takes a longer record for damage (and a length
                    // over 4 GiB does not fit its header): spooled, the event would be
                    // acknowledged and then skipped as damaged bytes. Refused alone,
                    // it goes to the dead-letter file whole.
                    buf.truncate(start);
                    oversized.push((i, payload));
                    continue;
                }
                ends.push(buf.len());
                kept.push(i);
            }
            (buf, ends, kept, oversized)
        })
        .await
        .map_err(|e| TargetError::retryable(format!("spool encoding task failed: {e}")))?;
        let (buf, ends, kept, oversized) = encoded;
        let mut rejected: Vec<(usize, String)> = oversized
            .into_iter()
            .map(|(at, bytes)| {
                let e = SpoolError::RecordTooLarge {
                    bytes: bytes as u64,
                    max: record::MAX_PAYLOAD as u64,
                };
                (at, e.to_string())
            })
            .collect();
        let pieces = if kept.is_empty() {
            Vec::new()
        } else {
            pieces(&ends, max)
        };
        // Pieces count the kept events; the dispatcher counts the batch's.
        let at = |k: usize| kept[k];
        let mut appended_any = false;
        for (i, piece) in pieces.iter().enumerate() {
            let Piece {
                events: range,
                bytes,
            } = piece.clone();
            if bytes.len() as u64 > max {
                // A single event larger than the whole spool: only it can never be taken.
                rejected.push((
                    at(range.start),
                    SpoolError::TooLarge {
                        needed: bytes.len() as u64,
                        max,
                    }
                    .to_string(),
                ));
                continue;
            }
            loop {
                let spool = s.spool.clone();
                let records = buf[bytes.clone()].to_vec();
                let count = range.len() as u64;
                let appended = tokio::task::spawn_blocking(move || spool.append(&records, count))
                    .await
                    .map_err(|e| {
                        TargetError::retryable(format!("spool append task failed: {e}"))
                    })?;
                match appended {
                    Ok(()) => {
                        appended_any = true;
                        s.wake.notify_one();
                        break;
                    }
                    Err(e @ SpoolError::Full { .. }) => {
                        self.metrics.spool_full();
                        match self.config.on_spool_full {
                            // Nothing of the batch is in the spool yet: the dispatcher
                            // retries the whole batch, its queue pushing back.
                            OnSpoolFull::Backpressure if !appended_any => {
                                return Err(TargetError::Retryable {
                                    message: format!(
                                        "{e} (the event server is slow or unreachable)"
                                    ),
                                    retry_after: Some(SPOOL_FULL_RETRY),
                                });
                            }
                            // Part of the batch is in the spool (it was larger than the
                            // spool's free room): wait here for room for the rest, as the
                            // sender delivers, rather than have the whole batch spooled
                            // again. The dispatcher's shutdown deadline (and
                            // `send_timeout_ms`) still end the wait.
                            OnSpoolFull::Backpressure => {
                                // Room comes from the sender: a partial batch it holds
                                // back to fill up (`send_max_wait_ms`) goes out now.
                                let _room = DrainWaiter::begin(&s.drain_waiters, &s.wake);
                                tokio::time::sleep(SPOOL_FULL_RETRY).await;
                            }
                            OnSpoolFull::DeadLetter => {
                                let why = format!("{e}; on_spool_full = \"dead_letter\"");
                                if !appended_any && rejected.is_empty() && i + 1 == pieces.len() {
                                    return Err(TargetError::permanent(why));
                                }
                                let rest = pieces[i..].iter().flat_map(|p| p.events.clone());
                                rejected.extend(rest.map(|k| (at(k), why.clone())));
                                return Err(TargetError::Rejected { rejected });
                            }
                        }
                    }
                    Err(
                        e @ (SpoolError::TooLarge { .. }
                        | SpoolError::RecordTooLarge { .. }
                        | SpoolError::RecordTooShort { .. }),
                    ) => {
                        // Cannot happen (the piece fits the bound checked above, and
                        // every event's JSON is `{}` at the least); refuse only this
                        // piece's events if it does.
                        rejected.extend(range.clone().map(|k| (at(k), e.to_string())));
                        break;
                    }
                    // `InUse` from an append: the spool folder was removed and another
                    // process locked the new one (see `spool/folder_gone.rs`); retried,
                    // so that the spool goes on once that process lets go.
                    // `WrittenSegmentGone`: the segment kept going while the records
                    // were written; nothing of them is kept, so they are sent again.
                    // `DiskFull`: the spool's room is all undelivered events; the
                    // sender frees it as the server acknowledges them.
                    Err(
                        e @ (SpoolError::Io { .. }
                        | SpoolError::DiskFull { .. }
                        | SpoolError::InUse { .. }
                        | SpoolError::FolderGone { .. }
                        | SpoolError::WrittenSegmentGone { .. }
                        // Only a tool's read of a spool gives these: not an append.
                        | SpoolError::Rewritten { .. }
                        | SpoolError::Cut { .. }
                        | SpoolError::NotASpool { .. }),
                    ) => {
                        return Err(TargetError::retryable(e.to_string()));
                    }
                }
            }
        }
        if rejected.is_empty() {
            Ok(())
        } else if rejected.len() == batch_len {
            Err(TargetError::permanent(rejected.swap_remove(0).1))
        } else {
            Err(TargetError::Rejected { rejected })
        }
    }

    /// Sends `batch` to the server at once; sets `last_not_durable` to the events of
    /// it the server took with `durable: false` (0 when it took none).
    async fn send_direct(&mut self, batch: &[Arc<Event>]) -> Result<(), TargetError> {
        self.last_not_durable = 0;
        let events = self.routed(batch);
        let payloads: Vec<Vec<u8>> = events
            .iter()
            .map(|e| {
                let mut v = Vec::with_capacity(512);
                e.write_json(&mut v);
                v
            })
            .collect();
        // Cut into requests by count and size; send up to max_in_flight at once.
        let mut chunks: Vec<(usize, Vec<&[u8]>)> = Vec::new();
        let mut bytes = 0usize;
        for (i, p) in payloads.iter().enumerate() {
            let full = match chunks.last() {
                None => true,
                Some((_, c)) => {
                    c.len() >= self.config.send_batch_max_events
                        || bytes + p.len() > self.config.send_batch_max_bytes
                }
            };
            if full {
                chunks.push((i, Vec::new()));
                bytes = 0;
            }
            bytes += p.len();
            if let Some((_, c)) = chunks.last_mut() {
                c.push(p.as_slice());
            }
        }
        let client = &self.client;
        let metrics = &self.metrics;
        let mut requests = Vec::with_capacity(chunks.len());
        for (offset, chunk) in &chunks {
            requests.push(deliver_at(client, metrics, &self.name, *offset, chunk));
        }
        let results: Vec<_> = stream::iter(requests)
            .buffer_unordered(self.config.max_in_flight)
            .collect()
            .await;
        let mut refused = Vec::new();
        let mut not_durable = 0;
        let mut retry: Option<(String, Option<Duration>)> = None;
        for r in results {
            match r {
                Ok(mut delivered) => {
                    refused.append(&mut delivered.refused);
                    not_durable += delivered.not_durable;
                }
                Err(PostError::Retryable {
                    message,
                    retry_after,
                }) => {
                    let after = retry.as_ref().and_then(|r| r.1).max(retry_after);
                    retry = Some((message, after));
                }
                Err(PostError::NotTheServersAnswer(answer)) => {
                    // Retryable: the dispatcher keeps the batch and sends it again
                    // (or, past its retry limit, dead-letters it); nothing is lost
                    // while the operator fixes `url`.
                    let after = retry.as_ref().and_then(|r| r.1);
                    retry = Some((answer.to_string(), after));
                }
                Err(PostError::Permanent { message, .. }) => {
                    return Err(TargetError::permanent(message))
                }
            }
        }
        if let Some((message, retry_after)) = retry {
            return Err(TargetError::Retryable {
                message,
                retry_after,
            });
        }
        // The batch is answered: what the server took is taken.
        self.last_not_durable = not_durable;
        if refused.is_empty() {
            return Ok(());
        }
        refused.sort_by_key(|(i, _)| *i);
        for (i, m) in &refused {
            if let Some(e) = batch.get(*i) {
                tracing::warn!(target_name = %self.name, event_id = %e.id, error = %m, "event refused by the server for good");
            }
        }
        if refused.len() == batch.len() && refused.iter().all(|(_, m)| *m == refused[0].1) {
            return Err(TargetError::permanent(refused[0].1.clone()));
        }
        Err(TargetError::Rejected { rejected: refused })
    }

    /// Waits until the spool is empty or `timeout` passed; true when empty. Meanwhile
    /// the sender sends a partial batch at once (no `send_max_wait_ms`): someone
    /// waits for it.
    async fn wait_drained(s: &Spooled, timeout: Duration) -> bool {
        let _waiting = DrainWaiter::begin(&s.drain_waiters, &s.wake);
        let until = auditrail_core::limits::deadline_after(Instant::now(), timeout);
        loop {
            let notified = s.progress.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let spool = s.spool.clone();
            if tokio::task::spawn_blocking(move || spool.is_drained())
                .await
                .unwrap_or(false)
            {
                return true;
            }
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            // Bounded wait: progress also comes from a sender that may have stopped.
            let _ = tokio::time::timeout(left.min(Duration::from_millis(200)), notified).await;
        }
    }
}

/// [`deliver`] with indices shifted by `offset` (a chunk's place in the batch).
async fn deliver_at<'a>(
    client: &'a Client,
    metrics: &'a Metrics,
    target: &'a str,
    offset: usize,
    chunk: &'a [&'a [u8]],
) -> Result<Delivered, PostError> {
    deliver(client, metrics, target, chunk)
        .await
        .map(|d| Delivered {
            refused: d
                .refused
                .into_iter()
                .map(|(i, m)| (i + offset, m))
                .collect(),
            ..d
        })
}

#[async_trait]
impl Target for EventServerTarget {
    fn forwarding(&self) -> Option<Arc<dyn Forwarding>> {
        let s = self.spooled.as_ref()?;
        Some(Arc::new(SpoolForwarding {
            spool: s.spool.clone(),
            metrics: self.metrics.clone(),
            dead_letter: s.dead_letter.clone(),
        }))
    }

    async fn send(&mut self, batch: &[Arc<Event>]) -> Result<(), TargetError> {
        if let Some(s) = &self.spooled {
            return self.send_spooled(s, batch).await;
        }
        self.send_direct(batch).await
    }

    /// Direct mode: what the server answered `durable: false` of the last batch. (In
    /// spool mode `Ok` means in the spool; the server's answers come later, in the
    /// forwarding probe's `not_durable`.)
    fn taken_not_durable(&mut self) -> u64 {
        self.last_not_durable
    }

    async fn flush(&mut self) -> Result<(), TargetError> {
        let Some(s) = &self.spooled else {
            return Ok(());
        };
        let timeout = Duration::from_millis(self.config.flush_timeout_ms);
        if Self::wait_drained(s, timeout).await {
            Ok(())
        } else {
            Err(TargetError::retryable(format!(
                "flush: {} bytes still spooled after {timeout:?} (kept on disk, sent when the server takes them)",
                s.spool.bytes()
            )))
        }
    }

    async fn shutdown(&mut self) -> Result<(), TargetError> {
        let Some(s) = &mut self.spooled else {
            return Ok(());
        };
        let drained =
            Self::wait_drained(s, Duration::from_millis(self.config.shutdown_drain_ms)).await;
        let _ = s.stop.send(true);
        if let Some(task) = s.task.take() {
            let _ = task.await;
        }
        // Records the head segment's length, so that a cut of it before the next start
        // is reported (the spool outlives this call in the dispatcher's stats probe).
        let spool = s.spool.clone();
        let _ = tokio::task::spawn_blocking(move || spool.close()).await;
        let m = self.metrics.snapshot();
        if drained {
            tracing::info!(
                target_name = %self.name,
                spooled_events = m.spooled_events,
                requests = m.requests,
                sent_events = m.sent_events,
                accepted = m.accepted,
                duplicates = m.duplicates,
                retries = m.retries,
                dead_lettered = m.dead_lettered,
                damaged_ranges = m.damaged_ranges,
                torn_tails_cut = m.torn_tails_cut,
                lost_segments = m.lost_segments,
                lost_records = m.lost_records,
                "eventserver target stopped; spool empty"
            );
        } else {
            tracing::warn!(
                target_name = %self.name,
                spool = %s.spool.dir().display(),
                bytes = s.spool.bytes(),
                "eventserver target stopped with events still spooled; they are sent at the next start"
            );
        }
        Ok(())
    }
}

/// What the spool holds and what the sender did with it (the target's `Ok` means
/// "in the spool"; the server's 200 is the final delivery).
struct SpoolForwarding {
    spool: Arc<Spool>,
    metrics: Arc<Metrics>,
    dead_letter: PathBuf,
}

impl Forwarding for SpoolForwarding {
    fn stats(&self) -> ForwardingStats {
        let m = self.metrics.snapshot();
        // Events the sender read from segments that went away and still sends: not in
        // the spool any more, not delivered yet either (a `send` waits for them). Those
        // the server never acknowledged are counted lost when the sender stops
        // (`Spool::close`), so that the loss counts only grow.
        ForwardingStats {
            pending_events: self.spool.undelivered_events(),
            pending_bytes: m.spool_bytes,
            forwarded: m.sent_events,
            dead_lettered: m.dead_lettered,
            dead_letter_file: (m.dead_lettered > 0).then(|| self.dead_letter.clone()),
            retries: m.retries,
            damaged_ranges: m.damaged_ranges,
            damaged_bytes: m.damaged_bytes,
            lost_segments: m.lost_segments,
            lost_events: m.lost_records,
            lost_bytes: m.lost_bytes,
            not_durable: m.not_durable,
        }
    }
}

impl Drop for EventServerTarget {
    /// Stops the sender and closes the spool (its head's length recorded, see
    /// `spool/lengths.rs`) here, not when the last holder of the spool lets go: the
    /// dispatcher's forwarding probe outlives the target, and the sender task ends on
    /// the worker's thread after the worker reported, which a process ending right
    /// after its shutdown does not wait for. The dispatcher drops the target before
    /// the worker reports, also when the shutdown deadline cut [`Target::shutdown`]
    /// short. A few milliseconds of blocking file I/O, on the worker's own thread.
    fn drop(&mut self) {
        if let Some(s) = &self.spooled {
            let _ = s.stop.send(true);
            s.spool.close();
        }
    }
}
