//! The live view: the last accepted events, newest first, in memory only (the
//! reference's "last 1000 events"). Events are kept as the bytes the client sent (one
//! small copy each), rendered only when someone asks.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use auditrail_core::Received;
use serde::Serialize;
use serde_json::value::RawValue;

/// How many events the live view keeps.
pub const RECENT_CAPACITY: usize = 1000;

/// One accepted event: its JSON as sent, and how the server received it.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The event's JSON as it was in the request (validated).
    pub raw: bytes::Bytes,
    /// Sender address, key id, server time.
    pub received: Arc<Received>,
}

/// A bounded ring of recently accepted events.
#[derive(Debug, Default)]
pub struct Recent {
    ring: Mutex<VecDeque<Entry>>,
}

impl Recent {
    /// Records newly accepted events (in batch order).
    pub fn push_all(&self, entries: impl IntoIterator<Item = Entry>) {
        if let Ok(mut ring) = self.ring.lock() {
            for e in entries {
                if ring.len() == RECENT_CAPACITY {
                    ring.pop_front();
                }
                ring.push_back(e);
            }
        }
    }

    /// Up to `limit` events, newest first, in the stored-record envelope.
    pub fn newest(&self, limit: usize) -> Vec<Shown> {
        let entries: Vec<Entry> = match self.ring.lock() {
            Ok(ring) => ring.iter().rev().take(limit).cloned().collect(),
            Err(_) => Vec::new(),
        };
        entries.iter().map(envelope).collect()
    }
}

/// One event of the live view: `{"clientEvent", "origAddress", "serverTimestamp",
/// "keyId"}`, as stored. `clientEvent` is the event's text as the client sent it, never
/// parsed into numbers (which would alter what it does not fit), so it must be written
/// with `serde_json` directly, not through a `serde_json::Value`.
#[derive(Debug, Serialize)]
pub struct Shown {
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
pub fn envelope(e: &Entry) -> Shown {
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
