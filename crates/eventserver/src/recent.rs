//! The live view: the last accepted events, newest first, in memory only (the
//! reference's "last 1000 events"). Events are kept as the bytes the client sent (one
//! small copy each), rendered only when someone asks.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use auditrail_core::Received;
use serde::Serialize;
use serde_json::value::RawValue;
use tokio::sync::{broadcast, watch};

/// How many events the live view keeps.
pub(crate) const RECENT_CAPACITY: usize = 1000;

/// One accepted event: its JSON as sent, and how the server received it.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    /// The event's JSON as it was in the request (validated).
    pub raw: bytes::Bytes,
    /// Sender address, key id, server time.
    pub received: Arc<Received>,
}

/// A bounded ring of recently accepted events, and the followers of new ones.
#[derive(Debug, Default)]
pub(crate) struct Recent {
    ring: Mutex<VecDeque<Entry>>,
    followers: Followers,
}

impl Recent {
    /// Records newly accepted events (in batch order).
    pub(crate) fn push_all(&self, entries: impl IntoIterator<Item = Entry>) {
        if let Ok(mut ring) = self.ring.lock() {
            let followed = self.followed();
            for e in entries {
                // Sent under the ring's lock: a new follower's backlog, taken under the
                // same lock, and what it receives neither overlap nor leave a gap.
                if followed {
                    let _ = self.followers.live.send(e.clone());
                }
                if ring.len() == RECENT_CAPACITY {
                    ring.pop_front();
                }
                ring.push_back(e);
            }
        }
    }
}

/// How many accepted events a follower of the stream may fall behind before it is told
/// how many it missed.
pub(crate) const STREAM_BUFFER: usize = 4096;

/// Followers of accepted events (`/v1/stream`).
#[derive(Debug)]
struct Followers {
    live: broadcast::Sender<Entry>,
    ending: watch::Sender<bool>,
}

impl Default for Followers {
    fn default() -> Self {
        Followers {
            live: broadcast::channel(STREAM_BUFFER).0,
            ending: watch::channel(false).0,
        }
    }
}

impl Recent {
    /// Up to `limit` kept events that `keep` accepts, newest first.
    pub(crate) fn newest_where(&self, limit: usize, keep: impl Fn(&Entry) -> bool) -> Vec<Entry> {
        match self.ring.lock() {
            Ok(ring) => ring
                .iter()
                .rev()
                .filter(|e| keep(e))
                .take(limit)
                .cloned()
                .collect(),
            Err(_) => Vec::new(),
        }
    }

    /// Whether someone follows the stream: then every accepted event must be handed to
    /// [`Recent::push_all`], not only the last [`RECENT_CAPACITY`] of a batch.
    pub(crate) fn followed(&self) -> bool {
        self.followers.live.receiver_count() > 0
    }

    /// Follows accepted events: the newest `backlog` kept events that `keep` accepts
    /// (oldest first) and a receiver of every event accepted after them. Both are taken
    /// under the lock `push_all` holds, so they neither overlap nor leave a gap.
    pub(crate) fn follow(
        &self,
        backlog: usize,
        keep: impl Fn(&Entry) -> bool,
    ) -> (Vec<Entry>, broadcast::Receiver<Entry>) {
        let ring = self.ring.lock();
        let receiver = self.followers.live.subscribe();
        let mut older: Vec<Entry> = match &ring {
            Ok(ring) => ring
                .iter()
                .rev()
                .filter(|e| keep(e))
                .take(backlog)
                .cloned()
                .collect(),
            Err(_) => Vec::new(),
        };
        drop(ring);
        older.reverse();
        (older, receiver)
    }

    /// Tells every follower that the server stops (their streams end).
    pub(crate) fn end_streams(&self) {
        self.followers.ending.send_replace(true);
    }

    /// Becomes `true` when the server stops.
    pub(crate) fn ending(&self) -> watch::Receiver<bool> {
        self.followers.ending.subscribe()
    }
}

/// One event of the live view: `{"clientEvent", "origAddress", "serverTimestamp",
/// "keyId"}`, as stored. `clientEvent` is the event's text as the client sent it, never
/// parsed into numbers (which would alter what it does not fit), so it must be written
/// with `serde_json` directly, not through a `serde_json::Value`.
#[derive(Debug, Serialize)]
pub(crate) struct Shown {
    #[serde(rename = "clientEvent")]
    client_event: Option<Box<RawValue>>,
    #[serde(rename = "origAddress")]
    orig_address: Option<String>,
    #[serde(rename = "serverTimestamp")]
    server_timestamp: String,
    #[serde(rename = "keyId")]
    key_id: Option<String>,
}

/// The envelope of one kept event.
pub(crate) fn envelope(e: &Entry) -> Shown {
    // The bytes were validated as one event at ingest; `None` (null) cannot happen.
    let client_event = std::str::from_utf8(&e.raw)
        .ok()
        .and_then(|s| RawValue::from_string(s.to_owned()).ok());
    let r = &e.received;
    Shown {
        client_event,
        orig_address: r.orig_address.map(|a| a.to_string()),
        server_timestamp: r.server_timestamp.to_string(),
        key_id: r.key_id.clone(),
    }
}
