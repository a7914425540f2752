//! The live view: the last accepted events, newest first, in memory only (the
//! reference's "last 1000 events"). Events are kept as the bytes the client sent
//! (copied out of the request body, see [`copy_out`]), rendered only when someone asks.

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

/// The entries for the events of `body` at `ranges` (in body order), received as
/// `received`: their bytes are copied out of the request body, so that the body itself
/// is freed with the request.
///
/// One copy per batch, not one per event: when the events lie close together in the
/// body (the usual case: a batch is mostly new events, one after the other) their whole
/// span is copied once and each entry is a slice of it. A slice keeps its block alive,
/// so the span is copied whole only when it is at most twice the events' own bytes
/// (duplicates or whitespace between them are not worth keeping); otherwise each event
/// is copied on its own. Either way an entry's bytes are exactly its event's.
pub(crate) fn copy_out(
    body: &[u8],
    ranges: &[std::ops::Range<usize>],
    received: &Arc<Received>,
) -> Vec<Entry> {
    let entry = |raw: bytes::Bytes| Entry {
        raw,
        received: received.clone(),
    };
    let (Some(first), Some(last)) = (ranges.first(), ranges.last()) else {
        return Vec::new();
    };
    let in_order = ranges.windows(2).all(|w| w[0].end <= w[1].start);
    let own: usize = ranges.iter().map(ExactSizeIterator::len).sum();
    let span = first.start..last.end;
    if in_order && span.len() <= own.saturating_mul(2) {
        if let Some(block) = body.get(span.clone()) {
            let block = bytes::Bytes::copy_from_slice(block);
            return ranges
                .iter()
                .map(|r| entry(block.slice(r.start - span.start..r.end - span.start)))
                .collect();
        }
    }
    ranges
        .iter()
        .filter_map(|r| body.get(r.clone()))
        .map(|raw| entry(bytes::Bytes::copy_from_slice(raw)))
        .collect()
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

#[cfg(test)]
mod tests {
    use super::*;

    fn received() -> Arc<Received> {
        Arc::new(Received {
            orig_address: None,
            key_id: None,
            server_timestamp: auditrail_core::Timestamp::now(),
            kafka: None,
        })
    }

    /// The address range of an entry's bytes.
    fn at(e: &Entry) -> std::ops::Range<usize> {
        let p = e.raw.as_ptr() as usize;
        p..p + e.raw.len()
    }

    #[test]
    fn events_side_by_side_share_one_block_holding_exactly_their_bytes() {
        let body = b"[{\"a\":1},{\"b\":2} , {\"c\":3}]";
        let ranges = [1..8, 9..16, 19..26];
        let entries = copy_out(body, &ranges, &received());
        let raw: Vec<&[u8]> = entries.iter().map(|e| &e.raw[..]).collect();
        assert_eq!(raw, [&b"{\"a\":1}"[..], b"{\"b\":2}", b"{\"c\":3}"]);
        // One block: each entry starts where the body's gap to it says.
        let (a, c) = (at(&entries[0]), at(&entries[2]));
        assert_eq!(c.start - a.start, 18);
        assert!(!body.as_ptr_range().contains(&entries[0].raw.as_ptr()));
    }

    #[test]
    fn events_far_apart_are_copied_each_on_its_own() {
        // A new event, 100 bytes of duplicates, another new event: copying the span
        // would keep 14 bytes of events and 100 of the rest alive.
        let mut body = b"{\"a\":1}".to_vec();
        body.extend(std::iter::repeat_n(b' ', 100));
        body.extend_from_slice(b"{\"b\":2}");
        let ranges = [0..7, 107..114];
        let entries = copy_out(&body, &ranges, &received());
        assert_eq!(&entries[0].raw[..], b"{\"a\":1}");
        assert_eq!(&entries[1].raw[..], b"{\"b\":2}");
        let (a, b) = (at(&entries[0]), at(&entries[1]));
        let apart = b.start.abs_diff(a.start);
        assert_ne!(apart, 107, "the two events were copied as one block");
    }

    #[test]
    fn no_events_no_entries() {
        assert!(copy_out(b"[]", &[], &received()).is_empty());
    }
}
