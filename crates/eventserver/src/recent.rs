//! The live view: the last accepted events, newest first, in memory only (the
//! reference's "last 1000 events").

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use auditrail_core::Event;
use serde_json::{json, Value};

/// How many events the live view keeps.
pub const RECENT_CAPACITY: usize = 1000;

/// A bounded ring of recently accepted events.
#[derive(Debug, Default)]
pub struct Recent {
    ring: Mutex<VecDeque<Arc<Event>>>,
}

impl Recent {
    /// Records newly accepted events (in batch order).
    pub fn push_all<'a>(&self, events: impl IntoIterator<Item = &'a Arc<Event>>) {
        if let Ok(mut ring) = self.ring.lock() {
            for e in events {
                if ring.len() == RECENT_CAPACITY {
                    ring.pop_front();
                }
                ring.push_back(e.clone());
            }
        }
    }

    /// Up to `limit` events, newest first, in the stored-record envelope.
    pub fn newest(&self, limit: usize) -> Vec<Value> {
        let Ok(ring) = self.ring.lock() else {
            return Vec::new();
        };
        ring.iter().rev().take(limit).map(|e| envelope(e)).collect()
    }
}

/// `{"clientEvent", "origAddress", "serverTimestamp", "keyId"}`, as stored.
pub fn envelope(e: &Event) -> Value {
    let r = e.received.as_deref();
    json!({
        "clientEvent": e,
        "origAddress": r.and_then(|r| r.orig_address).map(|a| a.to_string()),
        "serverTimestamp": r.map(|r| r.server_timestamp.to_string()),
        "keyId": r.and_then(|r| r.key_id.clone()),
    })
}
