//! The live view: the last accepted events, newest first, in memory only (the
//! reference's "last 1000 events"). Events are kept as the bytes the client sent (one
//! small copy each), rendered only when someone asks.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use auditrail_core::Received;
use serde_json::{json, Value};

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
    pub fn newest(&self, limit: usize) -> Vec<Value> {
        let entries: Vec<Entry> = match self.ring.lock() {
            Ok(ring) => ring.iter().rev().take(limit).cloned().collect(),
            Err(_) => Vec::new(),
        };
        entries.iter().map(envelope).collect()
    }
}

/// `{"clientEvent", "origAddress", "serverTimestamp", "keyId"}`, as stored.
pub fn envelope(e: &Entry) -> Value {
    let event: Value = serde_json::from_slice(&e.raw).unwrap_or(Value::Null);
    let r = &e.received;
    json!({
        "clientEvent": event,
        "origAddress": r.orig_address.map(|a| a.to_string()),
        "serverTimestamp": r.server_timestamp.to_string(),
        "keyId": r.key_id,
    })
}
