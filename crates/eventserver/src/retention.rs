//! Retention: the server prunes each store that has `retention` (by age) and/or
//! `retention_max_bytes` (by size), at start and then every [`CHECK_EVERY`]. Each
//! deletion is recorded in the store's signed checkpoint log before its files go
//! (see `StoreIntegrity::prune`), so `auditrail verify` passes after retention and
//! still names any deletion that no record explains. A store with an `archive` copies
//! the partitions to it first (`StoreIntegrity::prune_archiving`): a failed upload
//! deletes nothing, is logged naming the object and counted
//! (`auditrail_server_store_retention_archive_failures_total`), and is tried again at
//! the next check.

use std::sync::Arc;
use std::time::Duration;

use auditrail_core::Timestamp;
use auditrail_integrity::{Archive, ArchiveError};
use auditrail_store::{PruneRule, StoreConfig};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::http::AppState;

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
}

impl Retention {
    /// `None` when the store keeps everything; an error when its archive cannot be
    /// opened (its URL or S3 options).
    pub(crate) fn of(config: &StoreConfig) -> Result<Option<Retention>, ArchiveError> {
        if config.retention.is_none() && config.retention_max_bytes.is_none() {
            return Ok(None);
        }
        Ok(Some(Retention {
            age: config.retention,
            max_bytes: config.retention_max_bytes,
            archive: config.archive.as_ref().map(Archive::open).transpose()?,
        }))
    }

    /// The rule at `now`, and the reason recorded with what it deletes.
    pub(crate) fn rule(&self, now: Timestamp) -> (PruneRule, String) {
        let before = self.age.and_then(|age| {
            let age = chrono::Duration::from_std(age).ok()?;
            now.as_datetime()
                .checked_sub_signed(age)
                .map(Timestamp::from)
        });
        let mut why = Vec::new();
        if let Some(age) = self.age {
            why.push(format!("older than {}", humantime::format_duration(age)));
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

/// Starts the retention task when any store has a retention.
pub(crate) fn spawn(
    state: Arc<AppState>,
    mut stop: watch::Receiver<bool>,
) -> Option<JoinHandle<()>> {
    let any = state
        .destinations
        .stores()
        .any(|(_, _, s)| s.retention.is_some() && s.integrity.is_some());
    if !any {
        return None;
    }
    Some(tokio::spawn(async move {
        loop {
            run_once(&state).await;
            tokio::select! {
                _ = tokio::time::sleep(CHECK_EVERY) => {}
                _ = stop.wait_for(|stopped| *stopped) => break,
            }
        }
    }))
}

/// One pass over every store with a retention.
async fn run_once(state: &AppState) {
    for (_, d, s) in state.destinations.stores() {
        let (Some(retention), Some(integrity)) = (&s.retention, &s.integrity) else {
            continue;
        };
        let (rule, reason) = retention.rule(Timestamp::now());
        let pruned = match &retention.archive {
            Some(archive) => integrity.prune_archiving(rule, &reason, archive).await,
            None => integrity.prune(rule, &reason, false).await,
        };
        match pruned {
            Ok(passes) => {
                for p in passes {
                    tracing::info!(
                        destination = %d.name,
                        partitions = p.plan.partitions.len(),
                        records = p.plan.records,
                        bytes = p.plan.bytes,
                        checkpoint = p.checkpoint.as_ref().map_or(0, |c| c.index),
                        kept_for_head = p.plan.kept_for_head.len(),
                        archived = retention.archive.as_ref().map_or("", |a| a.url()),
                        reason = %reason,
                        "retention deleted time partitions (recorded in the checkpoint log)"
                    );
                }
            }
            Err(e) => {
                tracing::error!(destination = %d.name, error = %chain(&e), "retention failed; retried at the next check")
            }
        }
    }
}

/// An error and its causes, `: `-separated (an archive failure's cause, such as the
/// object store's answer, is in its sources; a failed seal's, in `ingest.rs`).
pub(crate) fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut next = e.source();
    while let Some(cause) = next {
        let text = cause.to_string();
        // Some errors repeat their source's text in their own message.
        if !out.ends_with(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        next = cause.source();
    }
    out
}
