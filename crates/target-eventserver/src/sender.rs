//! The spool sender: a background task that ships spooled events to the server,
//! `max_in_flight` requests at a time, and acknowledges them in the spool only once
//! the server answered 200 (or refused them for good and they are in the dead-letter
//! file).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering::SeqCst;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::stream::{FuturesUnordered, StreamExt};
use futures_util::FutureExt;
use serde::Deserialize;
use tokio::sync::{watch, Notify};

use auditrail_core::limits::deadline_after;
use auditrail_core::RetryAfterCapLog;

use crate::client::{Client, PostError};
use crate::config::EventServerConfig;
use crate::dead_letter;
use crate::deliver::{Refused, Split};
use crate::metrics::Metrics;
use crate::spool::{Position, Spool, SpoolReader, SpooledBatch};

/// Everything the sender task needs.
pub(crate) struct Sender {
    pub spool: Arc<Spool>,
    pub client: Arc<Client>,
    pub config: Arc<EventServerConfig>,
    pub metrics: Arc<Metrics>,
    pub target: Arc<str>,
    pub dead_letter: Arc<PathBuf>,
    /// The folder check asked before the dead-letter file is written, when it is in
    /// the folder the check covers (see [`auditrail_core::folder_check`]).
    pub dead_letter_check: Option<Arc<dyn auditrail_core::FolderCheck>>,
    /// Signalled by `send` after each append.
    pub wake: Arc<Notify>,
    /// Signalled after each ack (flush and shutdown wait on it).
    pub progress: Arc<Notify>,
    /// `true`: stop now (in-flight requests without an answer yet are abandoned; their
    /// events stay spooled).
    pub stop: watch::Receiver<bool>,
    /// How many callers wait for the spool to empty (flush, shutdown) or for room in
    /// it (a batch larger than the spool's free room; see [`DrainWaiter`]): while any
    /// does, a partial batch is sent at once instead of waiting `send_max_wait_ms` for
    /// more events.
    pub drain_waiters: Arc<AtomicUsize>,
    /// Says once that a server's `Retry-After` was capped at `backoff_max_ms`.
    pub retry_after_cap: Arc<RetryAfterCapLog>,
    /// The oldest job not yet acknowledged: only it writes dead letters and reports
    /// what it settled (see [`Sender::job`]).
    pub oldest: watch::Sender<u64>,
    /// Signalled by the oldest job when it settled part of its batch.
    pub settled: Arc<Notify>,
}

struct InFlight {
    end: Position,
    /// Records of the batch.
    events: u64,
    done: bool,
    /// What the job settled from the batch's start while it was the oldest one (see
    /// [`Sender::job`]): acknowledged before the job is done.
    settled: Arc<Mutex<Option<Settled>>>,
    /// Records of the batch already acknowledged through `settled`.
    acked_events: u64,
}

/// The first `events` records of a batch are settled (stored, or refused for good and
/// in the dead-letter file); `upto` is the position after them.
#[derive(Debug, Clone, Copy)]
struct Settled {
    upto: Position,
    events: u64,
}

impl InFlight {
    fn new(end: Position, events: u64, done: bool) -> InFlight {
        InFlight {
            end,
            events,
            done,
            settled: Arc::default(),
            acked_events: 0,
        }
    }
}

impl Sender {
    pub(crate) async fn run(mut self) {
        let mut reader = Some(self.spool.reader());
        let mut jobs = FuturesUnordered::new();
        let mut order: BTreeMap<u64, InFlight> = BTreeMap::new();
        let mut next_job = 0u64;
        let mut read_failures = 0u32;
        // No reading before this: a spool read failed (backoff). Kept as a deadline
        // that the one select below watches, not slept out, so that finished requests
        // are acknowledged meanwhile.
        let mut read_after: Option<Instant> = None;
        // A partial batch waiting for more events (`send_max_wait_ms`), likewise.
        let mut fill_until: Option<Instant> = None;
        // The last read found nothing new: what is appended next starts a partial
        // batch, which may wait. (A backlog is read at once: its batches are full.)
        let mut caught_up = false;
        loop {
            if *self.stop.borrow() {
                // Answers that already arrived still count: acknowledge them, or the
                // next start sends their events again for nothing.
                while let Some(Some(done)) = jobs.next().now_or_never() {
                    if let Some(j) = order.get_mut(&done) {
                        j.done = true;
                    }
                }
                self.ack_done(&mut order).await;
                break;
            }
            let now = Instant::now();
            if read_after.is_some_and(|t| t <= now) {
                read_after = None;
            }
            // Someone waits for the sender (a flush or shutdown for the spool to empty,
            // a `send` for room in it): a partial batch waits no longer.
            if fill_until.is_some_and(|t| t <= now) || self.drain_waiters.load(SeqCst) > 0 {
                fill_until = None;
            }
            // Fill the in-flight window from the spool.
            while read_after.is_none()
                && fill_until.is_none()
                && jobs.len() < self.config.max_in_flight
            {
                let Some(r) = reader.take() else { break };
                let (r, result) = self.read(r).await;
                reader = r;
                match result {
                    Ok(batch) if batch.payloads.is_empty() => {
                        caught_up = true;
                        if batch.end > batch.start {
                            // Only damaged bytes (skipped) or finished segments were
                            // passed: acknowledge that position in its turn.
                            order.insert(next_job, InFlight::new(batch.end, 0, true));
                            next_job += 1;
                            self.ack_done(&mut order).await;
                        }
                        break;
                    }
                    Ok(batch) => {
                        read_failures = 0;
                        caught_up = false;
                        let flight = InFlight::new(batch.end, batch.payloads.len() as u64, false);
                        let settled = flight.settled.clone();
                        order.insert(next_job, flight);
                        self.publish_oldest(&order);
                        jobs.push(self.job(next_job, batch, settled));
                        next_job += 1;
                    }
                    Err(message) => {
                        read_failures += 1;
                        tracing::error!(target_name = %self.target, error = %message, "cannot read the spool; trying again");
                        read_after = Some(deadline_after(
                            Instant::now(),
                            self.config.backoff().delay(read_failures),
                        ));
                        break;
                    }
                }
            }
            if reader.is_none() {
                // The read task died (a panic); start again from the ack position.
                // Already sent events may be sent twice: the server de-duplicates.
                reader = Some(self.spool.reader());
            }
            let timer = async {
                match read_after.or(fill_until) {
                    Some(t) => tokio::time::sleep_until(t.into()).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                Some(done) = jobs.next(), if !jobs.is_empty() => {
                    if let Some(j) = order.get_mut(&done) {
                        j.done = true;
                    }
                    self.ack_done(&mut order).await;
                }
                // Events were appended, or someone began waiting for the sender (a
                // `DrainWaiter`; the loop's top sees which).
                _ = self.wake.notified() => {
                    let wait = Duration::from_millis(self.config.send_max_wait_ms);
                    if caught_up && !wait.is_zero() && fill_until.is_none() {
                        // Let a batch fill up a little.
                        fill_until = Some(deadline_after(Instant::now(), wait));
                    }
                }
                // The oldest job settled part of its batch.
                () = self.settled.notified() => self.ack_done(&mut order).await,
                () = timer => {}
                _ = self.stop.changed() => {}
            }
        }
        self.progress.notify_waiters();
    }

    /// Acknowledges in the spool everything up to the end of the last finished job
    /// that has no unfinished job before it (jobs finish out of order; the ack
    /// position only moves forward over finished ones).
    /// The oldest unfinished job's settled part counts too (a batch the server refuses
    /// in part is acknowledged as it is settled).
    async fn ack_done(&self, order: &mut BTreeMap<u64, InFlight>) {
        let mut upto = None;
        let mut events = 0;
        while let Some(mut entry) = order.first_entry() {
            if !entry.get().done {
                let job = entry.get_mut();
                let settled = *job
                    .settled
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                if let Some(s) = settled.filter(|s| s.events > job.acked_events) {
                    events += s.events - job.acked_events;
                    job.acked_events = s.events;
                    upto = Some(s.upto);
                }
                break;
            }
            let job = entry.remove();
            events += job.events - job.acked_events;
            upto = Some(job.end);
        }
        self.publish_oldest(order);
        if let Some(pos) = upto {
            let spool = self.spool.clone();
            let _ = tokio::task::spawn_blocking(move || spool.ack(pos, events)).await;
            self.progress.notify_waiters();
        }
    }

    /// Tells the jobs which one is the oldest not acknowledged.
    fn publish_oldest(&self, order: &BTreeMap<u64, InFlight>) {
        if let Some((&first, _)) = order.first_key_value() {
            self.oldest.send_if_modified(|oldest| {
                let moved = *oldest != first;
                *oldest = first;
                moved
            });
        }
    }

    async fn read(
        &self,
        mut reader: SpoolReader,
    ) -> (Option<SpoolReader>, Result<SpooledBatch, String>) {
        let max_events = self.config.send_batch_max_events;
        let max_bytes = self.config.send_batch_max_bytes;
        match tokio::task::spawn_blocking(move || {
            let r = reader.read_batch(max_events, max_bytes);
            (reader, r)
        })
        .await
        {
            Ok((reader, r)) => (Some(reader), r.map_err(|e| e.to_string())),
            Err(e) => (None, Err(format!("spool read task failed: {e}"))),
        }
    }

    /// Delivers one batch until the server took it (or refused parts for good and
    /// those are dead-lettered). Resolves to the job number.
    ///
    /// A batch the server refuses in part is settled a part at a time, front first
    /// ([`Split`]). What the job settled is written to the dead-letter file and
    /// reported for acknowledgement (`settled`, then a signal to the sender loop) only
    /// while the job is the oldest one not acknowledged: the ack position moves over
    /// batches in order, and an event dead-lettered but left in the spool behind an
    /// older batch still in flight would be sent, refused and dead-lettered again by
    /// the next run. So a younger job that finished with refused events waits for its
    /// turn before writing them, and one stopped before its turn leaves its events
    /// spooled (counted once, as spooled). A run that ends in the middle of a long
    /// split keeps what the oldest job settled: the next run goes on from there.
    fn job(
        &self,
        job: u64,
        batch: SpooledBatch,
        settled: Arc<Mutex<Option<Settled>>>,
    ) -> impl std::future::Future<Output = u64> + Send + 'static {
        let client = self.client.clone();
        let metrics = self.metrics.clone();
        let backoff = self.config.backoff();
        let target = self.target.clone();
        let dead_letter = self.dead_letter.clone();
        let dead_letter_check = self.dead_letter_check.clone();
        let retry_after_cap = self.retry_after_cap.clone();
        let mut oldest = self.oldest.subscribe();
        let signal = self.settled.clone();
        async move {
            let refs: Vec<&[u8]> = batch.payloads.iter().map(Vec::as_slice).collect();
            let mut split = Split::new(&refs);
            // Refused events settled and not yet in the dead-letter file.
            let mut refused: Refused = Vec::new();
            // Events reported settled so far.
            let mut reported = 0usize;
            let mut attempt = 0u32;
            loop {
                if !split.is_done() {
                    let delay = match split.step(&client, &metrics, &target).await {
                        Ok(mut more) => {
                            refused.append(&mut more);
                            None
                        }
                        Err(PostError::Retryable {
                            message,
                            retry_after,
                        }) => {
                            attempt += 1;
                            metrics.retried();
                            let delay = backoff.delay_after(attempt, retry_after);
                            retry_after_cap.note(&backoff, retry_after, &target, "backoff_max_ms");
                            tracing::warn!(target_name = %target, attempt, error = %message, ?delay, events = refs.len() - split.settled(), "event server unavailable; the batch stays spooled and is sent again");
                            Some(delay)
                        }
                        Err(PostError::NotTheServersAnswer(answer)) => {
                            // `Split` logged the streak's first one at error level;
                            // the retries of a wrong `url` are not worth a line each.
                            attempt += 1;
                            metrics.retried();
                            let delay = backoff.delay(attempt);
                            tracing::debug!(target_name = %target, attempt, error = %answer, ?delay, events = refs.len() - split.settled(), "not the event server's answer; the batch stays spooled and is sent again");
                            Some(delay)
                        }
                        Err(PostError::Permanent { message, .. }) => {
                            // `Split` turns permanent answers into refusals; keep going anyway.
                            attempt += 1;
                            tracing::error!(target_name = %target, error = %message, "unexpected permanent error");
                            Some(backoff.delay(attempt))
                        }
                    };
                    if let Some(delay) = delay {
                        // Dropped mid-sleep when the sender stops: the events not
                        // reported settled stay spooled.
                        tokio::time::sleep(delay).await;
                        continue;
                    }
                }
                if split.is_done() {
                    if refused.is_empty() {
                        return job;
                    }
                    // Settled, with events to dead-letter: only in turn (see above).
                    if oldest.wait_for(|&o| o >= job).await.is_err() {
                        // The sender is gone: nothing of this job is acknowledged.
                        return job;
                    }
                } else if *oldest.borrow() < job || split.settled() == reported {
                    // Not its turn, or nothing new settled: keep sending.
                    continue;
                }
                if !refused.is_empty() {
                    match write_dead_letter(
                        &dead_letter,
                        dead_letter_check.as_ref(),
                        &target,
                        &refs,
                        &refused,
                    )
                    .await
                    {
                        Ok(()) => {
                            metrics.dead_lettered(refused.len() as u64);
                            refused.clear();
                        }
                        Err(e) => {
                            tracing::error!(target_name = %target, file = %dead_letter.display(), error = %e, "cannot write the dead-letter file; the events stay in the spool and are sent again");
                            attempt += 1;
                            tokio::time::sleep(backoff.delay(attempt)).await;
                            continue;
                        }
                    }
                }
                if split.is_done() {
                    return job;
                }
                reported = split.settled();
                if let Some(&upto) = reported
                    .checked_sub(1)
                    .and_then(|last| batch.ends.get(last))
                {
                    *settled
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(Settled {
                        upto,
                        events: reported as u64,
                    });
                    signal.notify_one();
                }
            }
        }
    }
}
/// One caller waiting for the sender to send what the spool holds (for the spool to
/// empty, or for room in it), counted in [`Sender::drain_waiters`] while it lives.
pub(crate) struct DrainWaiter {
    waiters: Arc<AtomicUsize>,
}

impl DrainWaiter {
    /// Counts the caller in and wakes the sender, so that a partial batch waiting to
    /// fill up is sent now.
    pub(crate) fn begin(waiters: &Arc<AtomicUsize>, wake: &Notify) -> DrainWaiter {
        waiters.fetch_add(1, SeqCst);
        wake.notify_one();
        DrainWaiter {
            waiters: waiters.clone(),
        }
    }
}

impl Drop for DrainWaiter {
    fn drop(&mut self) {
        self.waiters.fetch_sub(1, SeqCst);
    }
}

#[derive(Deserialize)]
struct IdOnly {
    id: Option<String>,
}

async fn write_dead_letter(
    path: &Arc<PathBuf>,
    check: Option<&Arc<dyn auditrail_core::FolderCheck>>,
    target: &Arc<str>,
    payloads: &[&[u8]],
    refused: &[(usize, String)],
) -> std::io::Result<()> {
    let lines: Vec<(Vec<u8>, String)> = refused
        .iter()
        .filter_map(|(i, e)| payloads.get(*i).map(|p| (p.to_vec(), e.clone())))
        .collect();
    let file = path.clone();
    let target_name = target.clone();
    let check = check.cloned();
    let written = tokio::task::spawn_blocking(move || {
        // Before the append, which makes the file's folder (and a data folder moved
        // away with it) again at its path.
        auditrail_core::folder_check::ask(check.as_deref())?;
        let refs: Vec<(&[u8], &str)> = lines
            .iter()
            .map(|(p, e)| (p.as_slice(), e.as_str()))
            .collect();
        dead_letter::write(&file, &target_name, &refs)
    })
    .await
    .map_err(std::io::Error::other)?;
    // Said once they are in the file: a failed write is logged by the caller, and the
    // events stay in the spool.
    written?;
    for (i, error) in refused {
        let id = payloads
            .get(*i)
            .and_then(|p| serde_json::from_slice::<IdOnly>(p).ok())
            .and_then(|p| p.id)
            .unwrap_or_default();
        tracing::error!(target_name = %target, event_id = %id, %error, file = %path.display(), "event refused by the server for good: written to the dead-letter file");
    }
    Ok(())
}
