//! Per-topic counters for `GET /v1/stats`, since the server started. (Per-node counts,
//! last-seen times and sequence gaps come from de-duplication, which is rebuilt from
//! the store on start.)

use std::collections::BTreeMap;
use std::sync::Mutex;

use auditrail_core::{Event, Timestamp};
use serde::Serialize;

/// Counters of one topic.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Counts {
    /// Events newly stored since start.
    pub accepted: u64,
    /// Retried events already stored, since start.
    pub duplicates: u64,
    /// Server time of the last event received.
    pub last_seen: Option<Timestamp>,
}

/// New and duplicate events of one batch, per topic (usually one or two entries).
#[derive(Debug, Default)]
pub(crate) struct TopicTally(BTreeMap<String, (u64, u64)>);

impl TopicTally {
    /// Tallies a batch: `is_new[i]` tells whether event `i` is stored now.
    pub(crate) fn of<'a>(
        events: impl IntoIterator<Item = &'a Event>,
        is_new: &[bool],
    ) -> TopicTally {
        let mut t = BTreeMap::<String, (u64, u64)>::new();
        for (e, &new) in events.into_iter().zip(is_new) {
            let c = match t.get_mut(e.topic.as_str()) {
                Some(c) => c,
                None => t.entry(e.topic.to_string()).or_default(),
            };
            if new {
                c.0 += 1;
            } else {
                c.1 += 1;
            }
        }
        TopicTally(t)
    }
}

/// Live statistics.
#[derive(Debug, Default)]
pub(crate) struct Stats {
    topics: Mutex<BTreeMap<String, Counts>>,
}

impl Stats {
    /// Records one answered batch.
    pub(crate) fn record(&self, tally: TopicTally, now: Timestamp) {
        let Ok(mut topics) = self.topics.lock() else {
            return;
        };
        for (topic, (new, dup)) in tally.0 {
            let c = topics.entry(topic).or_default();
            c.accepted += new;
            c.duplicates += dup;
            c.last_seen = Some(now);
        }
    }

    /// Snapshot per topic.
    pub(crate) fn snapshot(&self) -> BTreeMap<String, Counts> {
        self.topics.lock().map(|t| t.clone()).unwrap_or_default()
    }
}
