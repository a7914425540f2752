//! What the server shows of the events it stored, whichever way they came: the live
//! view (`/v1/recent`, `/v1/stream`) and the counters of `/v1/stats` and `/metrics`
//! (`accepted`, `duplicates`, per topic). A batch of the HTTP ingest
//! (`http/publish.rs`) and a batch a Kafka source stored in a partition store
//! (`source/partition.rs`) are shown the same way, by [`show`].

use std::sync::Arc;

use auditrail_core::Timestamp;

use crate::metrics::Metrics;
use crate::recent::{Entry, Recent};
use crate::stats::{Stats, TopicTally};

/// Shows a settled batch: `tally` counts its stored events and its duplicates,
/// `entries` are the live view's entries of the stored events (in the order stored;
/// the last ones at least).
pub(crate) fn show(
    recent: &Recent,
    stats: &Stats,
    metrics: &Metrics,
    tally: TopicTally,
    entries: impl IntoIterator<Item = Entry>,
) {
    metrics.accepted.inc_by(tally.accepted());
    metrics.duplicates.inc_by(tally.duplicates());
    stats.record(tally, Timestamp::now());
    recent.push_all(entries);
}

/// The server's live view and counters, for a part of the server that stores events
/// outside the HTTP ingest (a Kafka source's thread): clones share them.
#[derive(Debug, Clone, Default)]
pub(crate) struct LiveView {
    pub(crate) recent: Arc<Recent>,
    pub(crate) stats: Arc<Stats>,
    pub(crate) metrics: Metrics,
}

// Used by the Kafka sources only.
#[cfg_attr(not(feature = "kafka"), allow(dead_code))]
impl LiveView {
    /// Shows a settled batch ([`show`]).
    pub(crate) fn show(&self, tally: TopicTally, entries: impl IntoIterator<Item = Entry>) {
        show(&self.recent, &self.stats, &self.metrics, tally, entries);
    }

    /// Whether the live view has followers (`/v1/stream`): they get every event, not
    /// only the last [`crate::recent::RECENT_CAPACITY`].
    pub(crate) fn followed(&self) -> bool {
        self.recent.followed()
    }
}
