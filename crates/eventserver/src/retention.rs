//! Retention: the server prunes each store that has `retention` (by age) and/or
//! `retention_max_bytes` (by size), at start and then every [`CHECK_EVERY`]. Each
//! deletion is recorded in the store's signed checkpoint log before its files go
//! (see `StoreIntegrity::prune`), so `auditrail verify` passes after retention and
//! still names any deletion that no record explains. A store with an `archive` copies
//! the partitions to it first (`StoreIntegrity::prune_archiving`): a failed upload
//! deletes nothing, is logged naming the object and counted
//! (`auditrail_server_store_retention_archive_failures_total`), and is tried again at
//! the next check.
//!
//! "Now" is [`RetentionClock`]'s: the wall clock, but never later than the store's
//! timeline: its last checkpoint's (read at start, before this start's first line)
//! plus the monotonic time since, caught up with the wall clock at no more than
//! `[retention] catch_up_rate` times the monotonic clock while behind
//! (`auditrail_store::timeline`). A server started with its clock ahead (before NTP
//! synced) therefore deletes early by at most `(rate - 1)` × its uptime, never by
//! more than the clock is ahead; a downtime `D` delays deletions by at most `D`, caught
//! up within `D / (rate - 1)` of uptime. The first pass that finds the wall clock ahead
//! logs a warning naming both times.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use auditrail_core::Timestamp;
use auditrail_integrity::{Archive, ArchiveError};
use auditrail_store::{Layout, PruneRule, RetentionClock, StoreConfig};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::http::AppState;
use crate::source::PartitionId;

/// Which store a retention log line is about.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Whose<'a> {
    /// A `store` destination, by name.
    Destination(&'a str),
    /// A Kafka source's partition store, and its folder.
    Partition(&'a PartitionId, &'a std::path::Path),
}

/// `tracing::$level!` with, first, the fields that name the store: `destination` for a
/// `store` destination; `source`, `topic`, `partition`, `store` for a partition store
/// (as the source's other log lines name it).
macro_rules! say {
    ($level:ident, $whose:expr, $($rest:tt)+) => {
        match $whose {
            Whose::Destination(name) => tracing::$level!(destination = %name, $($rest)+),
            Whose::Partition(id, path) => tracing::$level!(
                source = %id.source, topic = %id.topic, partition = id.partition,
                store = %path.display(), $($rest)+
            ),
        }
    };
}

/// How often the stores are checked. Partitions are an hour at the finest, so a
/// partition is deleted at most this long after it passed the limit.
pub(crate) const CHECK_EVERY: Duration = Duration::from_secs(600);

/// A store's retention, from its config.
#[derive(Debug, Clone)]
pub(crate) struct Retention {
    age: Option<Duration>,
    max_bytes: Option<u64>,
    /// Where partitions are copied before they are deleted.
    archive: Option<Archive>,
    /// What "now" is (see the module's doc).
    clock: RetentionClock,
    /// The store's folders: which time partition an event is filed in
    /// ([`Retention::deletes_at_once`]).
    layout: Layout,
    /// Whether the wall clock was already reported ahead of the store's timeline.
    warned: Arc<AtomicBool>,
    /// Without `archive`: the archive of the store's newest deletion, if it had one
    /// (then retention deletes nothing: see `prune`). Read at the first pass.
    archived_before: Arc<OnceLock<Option<(u64, String)>>>,
}

impl Retention {
    /// `None` when the store keeps everything; an error when its archive cannot be
    /// opened (its URL or S3 options). `clock` is the store's, read at start (`None`:
    /// the wall clock alone).
    pub(crate) fn of(
        config: &StoreConfig,
        clock: Option<RetentionClock>,
    ) -> Result<Option<Retention>, ArchiveError> {
        let archive = config.archive.as_ref().map(Archive::open).transpose()?;
        Ok(Retention::without_archive(config, clock).map(|r| Retention { archive, ..r }))
    }

    /// [`of`](Self::of) leaving `config`'s archive aside (a Kafka source's partition
    /// stores have none): nothing to open, so nothing can fail.
    pub(crate) fn without_archive(
        config: &StoreConfig,
        clock: Option<RetentionClock>,
    ) -> Option<Retention> {
        if config.retention.is_none() && config.retention_max_bytes.is_none() {
            return None;
        }
        Some(Retention {
            age: config.retention,
            max_bytes: config.retention_max_bytes,
            archive: None,
            clock: clock
                .unwrap_or_else(|| RetentionClock::at(None, auditrail_store::CatchUpRate::NONE)),
            layout: Layout::from(config),
            warned: Arc::new(AtomicBool::new(false)),
            archived_before: Arc::new(OnceLock::new()),
        })
    }

    /// Retention's now; warns once when the wall clock is ahead of the store's
    /// timeline (deletions then wait for the store's time).
    pub(crate) fn now(&self, whose: Whose<'_>) -> Timestamp {
        let reading = self.clock.now();
        if reading.wall_ahead() && !self.warned.swap(true, Ordering::Relaxed) {
            say!(
                warn,
                whose,
                wall_clock = %reading.wall,
                store_time = %reading.store.unwrap_or(reading.now),
                last_checkpoint = %self.clock.last_checkpoint().map_or_else(String::new, |t| t.to_string()),
                "the wall clock is ahead of the store's timeline (its last checkpoint before this start, or the wall clock when this start opened it if it had none, plus the time since, caught up at [retention] catch_up_rate while behind): retention deletes by the store's time, not the wall clock's (a clock set ahead deletes early by at most (catch_up_rate - 1) times the uptime since; after a downtime, deletions wait until it is caught up). Check the clock (NTP)"
            );
        }
        reading.now
    }

    /// When the next pass would delete an event dated `timestamp` at once: its time
    /// partition ended at or before retention's cut-off (now, by the store's clock,
    /// minus `retention`). `None` when it would be kept, or the store has no
    /// retention by age.
    pub(crate) fn deletes_at_once(
        &self,
        timestamp: &Timestamp,
    ) -> Option<crate::past_retention::PastRetention> {
        let age = self.age?;
        // Per event of a store with a retention: the cut-off alone, not `rule`'s
        // reason text.
        let cut_off = self.cut_off(self.clock.now().now)?;
        let partition_end = self.layout.time_folder(timestamp).end();
        (partition_end <= cut_off).then(|| crate::past_retention::PastRetention {
            timestamp: *timestamp,
            retention: period(age),
            partition_end,
            cut_off,
        })
    }

    /// Whether retention deletes nothing because the store's newest deletion was
    /// archived and its config has no `archive` (see `prune`): known from the first
    /// check on, and for the rest of the run (only this server's prunes, which the
    /// refusal stops, or an offline `store prune` change it). Shown on `/metrics` so that
    /// an operator can alert on it, not only on the ERROR line each check logs.
    pub(crate) fn refused(&self) -> bool {
        self.archive.is_none() && matches!(self.archived_before.get(), Some(Some(_)))
    }

    /// Retention by age's cut-off at `now`: partitions that ended at or before it are
    /// deleted. `None` without a retention by age.
    fn cut_off(&self, now: Timestamp) -> Option<Timestamp> {
        let age = chrono::Duration::from_std(self.age?).ok()?;
        now.as_datetime()
            .checked_sub_signed(age)
            .map(Timestamp::from)
    }

    /// The rule at `now`, and the reason recorded with what it deletes.
    pub(crate) fn rule(&self, now: Timestamp) -> (PruneRule, String) {
        let before = self.cut_off(now);
        let mut why = Vec::new();
        if let Some(age) = self.age {
            why.push(format!("older than {}", period(age)));
        }
        if let Some(max) = self.max_bytes {
            why.push(format!("store larger than {max} bytes"));
        }
        (
            PruneRule {
                before,
                max_bytes: self.max_bytes,
                now,
            },
            format!("retention: {}", why.join(", ")),
        )
    }
}

/// The retention period as an operator writes it (`400d`, `36h`), in the largest unit
/// that divides it exactly: the signed reason is compared with the written policy, and
/// `humantime`'s own rendering (`1year 1month 4days 7h 26m 24s` for `400d`, with
/// calendar-average years and months) reads like another policy.
fn period(age: Duration) -> String {
    let secs = age.as_secs();
    let ms = age.subsec_millis();
    if ms != 0 {
        return format!("{}ms", age.as_millis());
    }
    for (unit, len) in [("d", 86_400), ("h", 3_600), ("m", 60)] {
        if secs != 0 && secs.is_multiple_of(len) {
            return format!("{}{unit}", secs / len);
        }
    }
    format!("{secs}s")
}

/// Starts the retention task when any store has a retention: a `store` destination,
/// or the partition stores of a Kafka source with one.
pub(crate) fn spawn(
    state: Arc<AppState>,
    mut stop: watch::Receiver<bool>,
) -> Option<JoinHandle<()>> {
    let any = state
        .destinations
        .stores()
        // A held store too: it takes part once it passes its checks again (SIGHUP).
        .any(|(_, _, s)| s.retention.is_some() && (s.integrity().is_some() || s.is_held()))
        || state.partition_stores.configured();
    if !any {
        return None;
    }
    Some(tokio::spawn(async move {
        loop {
            run_once(&state, &stop, Check::All).await;
            let next = tokio::time::Instant::now() + CHECK_EVERY;
            loop {
                let woken = tokio::select! {
                    _ = tokio::time::sleep_until(next) => Check::All,
                    _ = stop.wait_for(|stopped| *stopped) => return,
                    // A partition store opened (an assignment): pruned now, not at the
                    // next check.
                    _ = state.partition_stores.newly_listed() => Check::NewPartitionStores,
                };
                if woken == Check::All {
                    break;
                }
                run_once(&state, &stop, Check::NewPartitionStores).await;
            }
        }
    }))
}

/// Which stores a check prunes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Check {
    /// Every store with a retention (at start, then every [`CHECK_EVERY`]).
    All,
    /// The partition stores listed since the last check.
    NewPartitionStores,
}

/// One pass over every store with a retention: the `store` destinations, then the
/// partition stores the Kafka sources have open now (each a store of its own: its
/// checkpoint log, its high-water mark in its partition folder, its de-duplication).
/// Each prune pass (at most `MAX_PARTITIONS_PER_PRUNE` partitions, one signed line)
/// is logged as soon as it is done, not when the store's whole backlog is: a stop or a
/// crash in between leaves no deletion done and never told. A stop (`stop` turning
/// `true`) ends a prune between two passes, or an archiving one where it is (the
/// object store may be slow or frozen, and the shutdown has a deadline; nothing is
/// removed before its copy was read back), and the stores left are not pruned; the
/// next start goes on. A partition store that begins to close (revoked, or the
/// source stopping) ends its prune between two passes too, and its close waits for
/// the pass under way (see `crate::source::retained`).
async fn run_once(state: &AppState, stop: &watch::Receiver<bool>, check: Check) {
    let destinations = state.destinations.stores().filter(|_| check == Check::All);
    for (_, d, s) in destinations {
        let (Some(retention), Some(integrity)) = (&s.retention, s.integrity()) else {
            continue;
        };
        if *stop.borrow() {
            return;
        }
        let whose = Whose::Destination(&d.name);
        prune(
            whose,
            retention,
            integrity,
            &state.dedup,
            stop.clone(),
            DESTINATION_STOP,
        )
        .await;
    }
    for store in state.partition_stores.listed() {
        if *stop.borrow() {
            return;
        }
        let Some(retention) = &store.retention else {
            continue;
        };
        if store.check() && check == Check::NewPartitionStores {
            continue;
        }
        // Not once it began to close: it is no longer this server's to prune.
        let Some(_pruning) = store.begin() else {
            continue;
        };
        let whose = Whose::Partition(&store.id, &store.path);
        let ends = either(stop.clone(), store.closing());
        prune(
            whose,
            retention,
            &store.integrity,
            &store.dedup,
            ends,
            PARTITION_STOP,
        )
        .await;
    }
}

/// A signal that turns `true` once `a` or `b` does (the server's stop, a partition
/// store's close), for as long as it is listened to.
fn either(mut a: watch::Receiver<bool>, mut b: watch::Receiver<bool>) -> watch::Receiver<bool> {
    let (tx, rx) = watch::channel(*a.borrow() || *b.borrow());
    tokio::spawn(async move {
        tokio::select! {
            _ = a.wait_for(|v| *v) => {}
            _ = b.wait_for(|v| *v) => {}
            // The prune is over: nothing listens any more.
            _ = tx.closed() => return,
        }
        tx.send_replace(true);
    });
    rx
}

/// What stops a prune, and what follows (its log line).
struct Stopped {
    by: &'static str,
    then: &'static str,
}

const DESTINATION_STOP: Stopped = Stopped {
    by: "the shutdown",
    then: "the next start goes on",
};

const PARTITION_STOP: Stopped = Stopped {
    by: "the shutdown or the partition store's close",
    then: "its next start or owner goes on",
};

/// Prunes one store by its retention until done or `stop`, each pass logged (naming
/// the store) and the deleted records told to `dedup`.
async fn prune(
    whose: Whose<'_>,
    retention: &Retention,
    integrity: &auditrail_integrity::StoreIntegrity,
    dedup: &crate::dedup::Dedup,
    stop: watch::Receiver<bool>,
    stopped: Stopped,
) {
    let (rule, reason) = retention.rule(retention.now(whose));
    let mut passes = 0usize;
    let mut each = |p: &auditrail_integrity::Pruned| {
        passes += 1;
        // Only a deletion recorded (not a dry run) removed records.
        if p.checkpoint.is_some() {
            dedup.deleted(&p.plan.nodes);
        }
        let (first, last) = chain_span(&p.plan);
        // What the pass removed: a pass that could not remove some of its files (a
        // folder made read-only) still says what it did, then fails (logged below).
        let removed: Vec<&str> = p.removed_partitions().map(|f| f.folder.as_str()).collect();
        let left = p.left.as_ref();
        say!(
            info,
            whose,
            pass = passes,
            partitions = removed.len(),
            records = p.removed_records(),
            bytes = p.removed_bytes(),
            first_partition = removed.first().copied().unwrap_or(""),
            last_partition = removed.last().copied().unwrap_or(""),
            first_chain_seq = first,
            last_chain_seq = last,
            checkpoint = p.checkpoint.as_ref().map_or(0, |c| c.index),
            kept_for_head = p.plan.kept_for_head.len(),
            // Due but not deletable (a read-only folder): left out of the signed line,
            // each named in a warning, the prune's error follows.
            partitions_unremovable = p.plan.unremovable.len(),
            partitions_left = left.map_or(0, |l| l.partitions.len()),
            // Emptied but not removable (a read-only parent): each named in a WARN.
            empty_folders_left = p.plan.folders_left.len(),
            records_left = left.map_or(0, |l| l.records),
            archived = retention.archive.as_ref().map_or("", |a| a.url()),
            reason = %reason,
            "retention deleted time partitions (recorded in the checkpoint log){}",
            if left.is_some() { "; some could not be removed and are left (see the error that follows)" } else if !p.plan.unremovable.is_empty() { "; some due cannot be removed and were left out of it (see the error that follows)" } else { "" }
        );
    };
    if retention.archive.is_none() {
        // Read once per store and run (the log is long; only this server's prunes,
        // which this refusal stops, or an offline `store prune` change the answer).
        let archived = retention
            .archived_before
            .get_or_init(|| integrity.newest_deletion_archive());
        if let Some((line, url)) = archived {
            say!(
                error,
                whose,
                archive = %url,
                checkpoint = line,
                "retention deletes nothing: the store's newest deletion (checkpoint #{line} of its log) was archived to {url}, and its config has no `archive`, so this one would keep no copy. Give the store its `archive` again; to delete without a copy on purpose, stop the server and run `auditrail store prune --config <server.toml> --before <time> --no-archive` once (its signed line records that decision), then start it"
            );
            return;
        }
    }
    let pruned = match &retention.archive {
        Some(archive) => {
            integrity
                .prune_archiving_until(rule, &reason, archive, Some(stop), &mut each)
                .await
        }
        None => {
            integrity
                .prune_until(rule, &reason, Some(stop), &mut each)
                .await
        }
    };
    match pruned {
        Ok(_) => {}
        // The passes done before the stop deleted what they name (each logged
        // above); the next start (or the store's next owner) prunes the rest.
        Err(
            e @ (auditrail_integrity::IntegrityError::PruneStopped { .. }
            | auditrail_integrity::IntegrityError::PruneStoppedBetweenPasses { .. }),
        ) => {
            say!(warn, whose, passes, error = %chain(&e), "retention stopped by {} after {passes} passes; {}", stopped.by, stopped.then)
        }
        Err(e) => {
            say!(error, whose, passes, error = %chain(&e), "retention failed; retried at the next check")
        }
    }
}

/// The first and last chain numbers a pass deleted (0 and 0 for none).
fn chain_span(plan: &auditrail_store::PrunePlan) -> (u64, u64) {
    (
        plan.ranges.first().map_or(0, |r| r.first),
        plan.ranges.iter().map(|r| r.last).max().unwrap_or(0),
    )
}

/// An error and its causes, `: `-separated (an archive failure's cause, such as the
/// object store's answer, is in its sources; a failed seal's, in `ingest.rs`).
pub(crate) fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut next = e.source();
    while let Some(cause) = next {
        let text = cause.to_string();
        // Some errors repeat their source's text in their own message, not always at
        // its end (`not a URL (<cause>); expected ...`).
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        next = cause.source();
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn config(retention: &str) -> StoreConfig {
        serde_json::from_value(serde_json::json!({"path": "s", "retention": retention})).unwrap()
    }

    /// An S3 endpoint's error says the URI parser's reason inside its message, and
    /// keeps it as its source: said once, not again at the end.
    #[test]
    fn a_cause_said_inside_the_message_is_not_said_again() {
        let e = auditrail_store::check_s3_endpoint("http://127.0.0.1:9000/a b").unwrap_err();
        let cause = std::error::Error::source(&e).unwrap().to_string();
        let said = chain(&e);
        assert_eq!(said, e.to_string());
        assert_eq!(said.matches(&cause).count(), 1, "{said}");
    }

    fn hours_ago(from: Timestamp, hours: i64) -> Timestamp {
        Timestamp::from_unix_millis(from.unix_millis() - hours * 3_600_000).unwrap()
    }

    #[test]
    fn the_signed_reason_names_the_period_as_configured() {
        for (configured, reason) in [
            ("400d", "retention: older than 400d"),
            ("36h", "retention: older than 36h"),
            ("2w", "retention: older than 14d"),
            ("90m", "retention: older than 90m"),
        ] {
            let retention = Retention::of(&config(configured), None).unwrap().unwrap();
            assert_eq!(retention.rule(Timestamp::now()).1, reason, "{configured}");
        }
    }

    /// The wall clock cannot be moved here, so the store's timeline is: its last
    /// checkpoint (on disk) is two years before the wall clock, as after a start with
    /// the clock two years ahead. A partition that ended an hour before that
    /// checkpoint is an hour old by the store's time and must not be old enough for
    /// `400d`.
    #[test]
    fn a_wall_clock_ahead_of_the_stores_last_checkpoint_deletes_nothing_early() {
        let store = tempfile::tempdir().unwrap();
        let last_checkpoint = hours_ago(Timestamp::now(), 2 * 365 * 24);
        std::fs::write(
            store.path().join(auditrail_store::CHECKPOINT_LOG),
            format!("{{\"checkpoint\":7,\"chainSeq\":40,\"time\":\"{last_checkpoint}\"}}\n"),
        )
        .unwrap();
        let clock =
            RetentionClock::read(store.path(), auditrail_store::CatchUpRate::DEFAULT).unwrap();
        let retention = Retention::of(&config("400d"), Some(clock))
            .unwrap()
            .unwrap();
        let (rule, _) = retention.rule(retention.now(Whose::Destination("store")));
        let fresh_partition_end = hours_ago(last_checkpoint, 1);
        let before = rule.before.unwrap();
        assert!(
            before < fresh_partition_end,
            "an hour-old partition (ended {fresh_partition_end}) would be deleted: cut-off {before}, now {}",
            rule.now
        );
        assert!(
            rule.now < hours_ago(Timestamp::now(), 24),
            "now {}",
            rule.now
        );
    }
}
