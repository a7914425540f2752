//! The live view: the last accepted events, newest first, in memory only (the
//! reference's "last 1000 events"). Events are kept as the bytes the client sent
//! (copied out of the request body, see [`copy_out`]), rendered only when someone asks.

use std::collections::VecDeque;
use std::io::Write;
use std::sync::{Arc, Mutex};

use auditrail_core::{Event, Message, Received};
use serde::Serialize;
use serde_json::value::RawValue;
use tokio::sync::{broadcast, watch};

/// How many events the live view keeps.
pub(crate) const RECENT_CAPACITY: usize = 1000;

/// The largest event (bytes of its JSON as sent) the live view and the stream keep
/// whole. A larger one is kept as a stub ([`stub`]): the view is bounded by count, and
/// without a bound per event a client could make it hold 1000 events of up to
/// `max_body_bytes` each (16 GB with the defaults), and a slow follower of the stream
/// 4096 of them. With it the view holds at most 1000 × 16 KiB = 16 MiB of events and a
/// stream's buffer 4096 × 16 KiB = 64 MiB. Typical audit events are well under 2 KiB;
/// the whole event is in the store (`query events`, by id).
pub(crate) const MAX_KEPT_EVENT_BYTES: usize = 16 * 1024;

/// One accepted event: its JSON as sent, and how the server received it.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    /// The event's JSON as it was in the request (validated), or, for an event over
    /// [`MAX_KEPT_EVENT_BYTES`], its stub.
    pub raw: bytes::Bytes,
    /// Sender address, key id, server time.
    pub received: Arc<Received>,
    /// For a stub: the size of the event as sent, in bytes.
    pub omitted_bytes: Option<usize>,
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
/// is freed with the request. One entry per kept event, in the same order.
///
/// One copy per batch, not one per event: when the events lie close together in the
/// body (the usual case: a batch is mostly new events, one after the other) their whole
/// span is copied once and each entry is a slice of it. A slice keeps its block alive,
/// so the span is copied whole only when it is at most twice the events' own bytes
/// (duplicates or whitespace between them are not worth keeping); otherwise each event
/// is copied on its own. Either way an entry's bytes are exactly its event's.
///
/// An event over [`MAX_KEPT_EVENT_BYTES`] is kept as its [`stub`] instead (as would be
/// one whose range were not in the body, which parsing rules out).
pub(crate) fn copy_out(
    body: &[u8],
    kept: &[(std::ops::Range<usize>, &Event)],
    received: &Arc<Received>,
) -> Vec<Entry> {
    let entry = |raw: bytes::Bytes| Entry {
        raw,
        received: received.clone(),
        omitted_bytes: None,
    };
    let each_on_its_own = || {
        kept.iter()
            .map(|(r, event)| match body.get(r.clone()) {
                Some(raw) => entry_of(raw, event, received.clone()),
                None => Entry {
                    raw: stub(event),
                    received: received.clone(),
                    omitted_bytes: Some(r.len()),
                },
            })
            .collect()
    };
    if kept.iter().any(|(r, _)| r.len() > MAX_KEPT_EVENT_BYTES) {
        return each_on_its_own();
    }
    let ranges: Vec<std::ops::Range<usize>> = kept.iter().map(|(r, _)| r.clone()).collect();
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
    each_on_its_own()
}

/// The entry of one event whose text as received is `raw`: a copy of it, or for an
/// event over [`MAX_KEPT_EVENT_BYTES`] its [`stub`].
pub(crate) fn entry_of(raw: &[u8], event: &Event, received: Arc<Received>) -> Entry {
    if raw.len() <= MAX_KEPT_EVENT_BYTES {
        Entry {
            raw: bytes::Bytes::copy_from_slice(raw),
            received,
            omitted_bytes: None,
        }
    } else {
        Entry {
            raw: stub(event),
            received,
            omitted_bytes: Some(raw.len()),
        }
    }
}

/// What the live view keeps of an event over [`MAX_KEPT_EVENT_BYTES`]: the event with
/// its envelope (id, timestamp, topic, routing key, node, seq) and, of its message,
/// `msgType` and a string `authUser` (what the view's filters and `auditrail tail`
/// read). Shown with `omittedBytes`, the size of the event as sent.
fn stub(event: &Event) -> bytes::Bytes {
    // A stored event's `msgType` is a non-empty string, so `new` cannot refuse it.
    let mut message =
        Message::new(event.message.msg_type()).unwrap_or_else(|_| event.message.clone());
    if let Some(user @ serde_json::Value::String(_)) = event.message.get("authUser") {
        // A string at depth 1 of a message that passed the checks: cannot fail.
        let _ = message.insert("authUser", user.clone());
    }
    let stub = Event {
        id: event.id,
        timestamp: event.timestamp,
        topic: event.topic.clone(),
        routing_key: event.routing_key.clone(),
        node: event.node.clone(),
        seq: event.seq,
        abandoned_seqs: event.abandoned_seqs,
        message,
        received: None,
    };
    bytes::Bytes::from(stub.to_json())
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
    /// The Kafka record an event of a Kafka source was read from, as in its stored
    /// record (`"source":{"kafka":{"topic":…,"partition":…,"offset":…}}`); absent for
    /// an event of the HTTP ingest.
    #[serde(skip_serializing_if = "Option::is_none")]
    source: Option<ShownSource>,
    /// Set when `clientEvent` is the stub of a larger event: its size as sent, in bytes.
    #[serde(rename = "omittedBytes", skip_serializing_if = "Option::is_none")]
    omitted_bytes: Option<usize>,
}

/// Where an event came from, when not from the HTTP ingest.
#[derive(Debug, Serialize)]
struct ShownSource {
    kafka: ShownKafka,
}

/// A Kafka record's place, with Kafka's names.
#[derive(Debug, Serialize)]
struct ShownKafka {
    topic: String,
    partition: i32,
    offset: i64,
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
        source: r.kafka.as_ref().map(|k| ShownSource {
            kafka: ShownKafka {
                topic: k.topic.clone(),
                partition: k.partition,
                offset: k.offset,
            },
        }),
        omitted_bytes: e.omitted_bytes,
    }
}

/// The JSON text of [`envelope`]`(e)`, written without parsing `e.raw` again: the
/// stream (`/v1/stream`) sends every accepted event to each follower, and
/// `RawValue::from_string` validated and copied each event once per follower (with 100
/// followers, ingest slowed about six-fold on two cores). The bytes were validated as
/// one event at ingest (or are a stub the server wrote); the other fields are written
/// by `serde_json`. Byte for byte what `serde_json::to_string(&envelope(e))` gives
/// (unit test).
pub(crate) fn envelope_text(e: &Entry) -> String {
    let r = &e.received;
    let mut out = Vec::with_capacity(e.raw.len() + 160);
    out.extend_from_slice(b"{\"clientEvent\":");
    match std::str::from_utf8(&e.raw) {
        Ok(_) if !e.raw.is_empty() => out.extend_from_slice(&e.raw),
        _ => out.extend_from_slice(b"null"),
    }
    // Strings and integers only: writing them cannot fail.
    let _ = write_field(
        &mut out,
        "origAddress",
        &r.orig_address.map(|a| a.to_string()),
    );
    let _ = write_field(&mut out, "serverTimestamp", &r.server_timestamp.to_string());
    let _ = write_field(&mut out, "keyId", &r.key_id);
    if let Some(k) = &r.kafka {
        out.extend_from_slice(b",\"source\":{\"kafka\":{\"topic\":");
        let _ = serde_json::to_writer(&mut out, &k.topic);
        let _ = write!(
            out,
            ",\"partition\":{},\"offset\":{}}}}}",
            k.partition, k.offset
        );
    }
    if let Some(omitted) = e.omitted_bytes {
        let _ = write_field(&mut out, "omittedBytes", &omitted);
    }
    out.push(b'}');
    // Valid UTF-8: the raw bytes were checked above, serde_json writes UTF-8.
    String::from_utf8(out).unwrap_or_default()
}

fn write_field(out: &mut Vec<u8>, key: &str, value: &impl Serialize) -> serde_json::Result<()> {
    out.push(b',');
    serde_json::to_writer(&mut *out, key)?;
    out.push(b':');
    serde_json::to_writer(&mut *out, value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelope_text_is_byte_for_byte_the_serialized_envelope() {
        let raw = r#"{"id":"01936f6e-1b2c-7d3e-8f40-123456789abc","timestamp":"2026-11-25T16:55:49.123Z","topic":"generic","node":"n1","seq":7,"message":{"msgType":"x","n":12345678901234567890,"s":"\u2028\"é"}}"#;
        let kafka = |topic: &str| {
            Some(auditrail_core::KafkaOrigin {
                topic: topic.to_owned(),
                partition: 3,
                offset: 81_723,
            })
        };
        for (address, key, omitted, kafka) in [
            (None, None, None, None),
            (
                Some("10.0.0.1".parse().unwrap()),
                Some("k\"1\u{7}".to_owned()),
                Some(99_999),
                None,
            ),
            (Some("::1".parse().unwrap()), None, None, None),
            (None, None, None, kafka("auditrail.events")),
            (None, None, Some(20_000), kafka("t\"\u{1}é")),
        ] {
            let e = Entry {
                raw: bytes::Bytes::from_static(raw.as_bytes()),
                received: Arc::new(Received {
                    orig_address: address,
                    key_id: key,
                    server_timestamp: auditrail_core::Timestamp::now(),
                    kafka,
                }),
                omitted_bytes: omitted,
            };
            assert_eq!(
                envelope_text(&e),
                serde_json::to_string(&envelope(&e)).unwrap()
            );
        }
    }

    fn received() -> Arc<Received> {
        Arc::new(Received {
            orig_address: None,
            key_id: None,
            server_timestamp: auditrail_core::Timestamp::now(),
            kafka: None,
        })
    }

    static EVENT: std::sync::LazyLock<Event> = std::sync::LazyLock::new(|| {
        Event::from_json(r#"{"id":"01936f6e-1b2c-7d3e-8f40-123456789abc","timestamp":"2026-11-25T16:55:49.123Z","topic":"generic","node":"n1","seq":7,"message":{"msgType":"x"}}"#).unwrap()
    });

    /// Ranges paired with an event (what `copy_out` reads of it only for a stub).
    fn with_events(
        ranges: &[std::ops::Range<usize>],
    ) -> Vec<(std::ops::Range<usize>, &'static Event)> {
        ranges.iter().map(|r| (r.clone(), &*EVENT)).collect()
    }

    #[test]
    fn an_event_over_the_bound_is_kept_as_its_stub() {
        let small = r#"{"id":"01936f6e-1b2c-7d3e-8f40-000000000001","timestamp":"2026-11-25T16:55:49.123Z","topic":"generic","node":"n1","seq":1,"message":{"msgType":"login","authUser":"alice"}}"#;
        let large = format!(
            r#"{{"id":"01936f6e-1b2c-7d3e-8f40-000000000002","timestamp":"2026-11-25T16:55:50.000Z","topic":"apicalls","routingKey":"svc-a","node":"n1","seq":2,"message":{{"msgType":"upload","authUser":"bob","blob":"{}"}}}}"#,
            "b".repeat(MAX_KEPT_EVENT_BYTES)
        );
        let body = format!("{small}\n{large}\n");
        let events = [
            Event::from_json(small).unwrap(),
            Event::from_json(&large).unwrap(),
        ];
        let kept = [
            (0..small.len(), &events[0]),
            (small.len() + 1..small.len() + 1 + large.len(), &events[1]),
        ];
        let entries = copy_out(body.as_bytes(), &kept, &received());
        assert_eq!(
            &entries[0].raw[..],
            small.as_bytes(),
            "a small event is kept whole"
        );
        assert_eq!(entries[0].omitted_bytes, None);
        assert_eq!(entries[1].omitted_bytes, Some(large.len()));
        assert!(entries[1].raw.len() < 512, "{}", entries[1].raw.len());
        let stub = Event::from_json(std::str::from_utf8(&entries[1].raw).unwrap()).unwrap();
        let original = &events[1];
        assert_eq!(
            (
                stub.id,
                stub.timestamp,
                &stub.topic,
                &stub.routing_key,
                &stub.node,
                stub.seq
            ),
            (
                original.id,
                original.timestamp,
                &original.topic,
                &original.routing_key,
                &original.node,
                original.seq
            )
        );
        assert_eq!(stub.message.msg_type(), "upload");
        assert_eq!(
            stub.message.get("authUser"),
            Some(&serde_json::json!("bob"))
        );
        assert_eq!(stub.message.get("blob"), None);
        let shown = serde_json::to_value(envelope(&entries[1])).unwrap();
        assert_eq!(shown["omittedBytes"], large.len());
        assert_eq!(shown["clientEvent"]["message"]["msgType"], "upload");
        assert!(serde_json::to_value(envelope(&entries[0]))
            .unwrap()
            .get("omittedBytes")
            .is_none());
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
        let entries = copy_out(body, &with_events(&ranges), &received());
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
        let entries = copy_out(&body, &with_events(&ranges), &received());
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
