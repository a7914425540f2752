//! Per-node and per-topic counters for `GET /v1/stats` (since the server started;
//! sequence gaps come from de-duplication, which is rebuilt from the store).

use std::collections::BTreeMap;
use std::sync::Mutex;

use auditrail_core::{Event, Timestamp};
use serde::Serialize;

/// Counters of one node or one topic.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Counts {
    /// Events newly stored since start.
    pub accepted: u64,
    /// Retried events already stored, since start.
    pub duplicates: u64,
    /// Server time of the last event received.
    pub last_seen: Option<String>,
    /// Highest sequence number received (nodes only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub highest_seq: Option<u64>,
}

/// Live statistics.
#[derive(Debug, Default)]
pub struct Stats {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    nodes: BTreeMap<String, Counts>,
    topics: BTreeMap<String, Counts>,
}

impl Stats {
    /// Records one answered batch: `stored[i]` tells whether event `i` was new.
    pub fn record(&self, events: &[Event], stored: &[bool], now: Timestamp) {
        let Ok(mut inner) = self.inner.lock() else {
            return;
        };
        let now = now.to_string();
        for (e, &new) in events.iter().zip(stored) {
            let counts = inner.nodes.entry(e.node.to_string()).or_default();
            bump(counts, new, &now);
            counts.highest_seq = Some(counts.highest_seq.unwrap_or(0).max(e.seq));
            bump(
                inner.topics.entry(e.topic.to_string()).or_default(),
                new,
                &now,
            );
        }
    }

    /// Snapshot: (per node, per topic).
    pub fn snapshot(&self) -> (BTreeMap<String, Counts>, BTreeMap<String, Counts>) {
        match self.inner.lock() {
            Ok(i) => (i.nodes.clone(), i.topics.clone()),
            Err(_) => Default::default(),
        }
    }
}

fn bump(c: &mut Counts, new: bool, now: &str) {
    if new {
        c.accepted += 1;
    } else {
        c.duplicates += 1;
    }
    c.last_seen = Some(now.to_owned());
}
