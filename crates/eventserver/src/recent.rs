//! The live view: the last accepted events, newest first, in memory only (the
//! reference's "last 1000 events"). Events are kept as the bytes the client sent
//! (copied out of the request body, see [`copy_out`]; an id or time spelled otherwise
//! than stored, as stored), rendered only when someone asks.

use std::collections::VecDeque;
use std::io::Write;
use std::sync::{Arc, Mutex};

use auditrail_core::{Event, Received};
use serde::Serialize;
use tokio::sync::{broadcast, watch};

mod columns;
mod stub;
pub(crate) use columns::TailColumns;
pub(crate) use stub::CutFields;

/// How many events the live view keeps.
pub(crate) const RECENT_CAPACITY: usize = 1000;

/// The largest event (bytes of its JSON as sent) the live view and the stream keep
/// whole. A larger one is kept as a stub ([`stub`]: its envelope, and its `msgType` and
/// `authUser` cut to [`stub::MAX_STUB_FIELD_BYTES`]), itself under this bound (unit
/// test). The view is bounded by count, and without a bound per event a client could
/// make it hold 1000 events of up to `max_body_bytes` each (16 GB with the defaults),
/// and a slow follower of the stream 4096 of them (64 GB).
///
/// With it, an entry holds at most 16 KiB of event text and under 1 KiB besides (the
/// entry, its share of its request's `Received`, a stub's [`CutFields`]). The text of
/// a request's kept events is copied as one block when that block is at most twice
/// their size ([`copy_out`]), and a block lives while one of its entries does; so the
/// view (1000 entries) holds at most 2 × 16 MiB of text, 1 MiB besides and one request
/// body (`max_body_bytes`, 16 MiB) of a block mostly left: about 49 MiB with the
/// defaults; the stream's buffer (4096 entries, shared by all followers, and the same
/// entries as the view's where they overlap) 2 × 64 MiB + 4 MiB + 16 MiB, about 148
/// MiB. Typical audit events are well under 2 KiB; the whole event is in the store
/// (`query events`, by id).
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
    /// For a stub whose `msgType` or `authUser` was cut: what it keeps of them.
    pub cut: Option<Arc<CutFields>>,
    /// Its values in the console tail's columns, read once for every stream.
    pub columns: TailColumns,
}

impl Entry {
    /// The entry of a stub of `event`, `sent` bytes as sent.
    fn stub(event: &Event, sent: usize, received: Arc<Received>) -> Entry {
        let (raw, cut) = stub::stub(event);
        Entry {
            raw,
            received,
            omitted_bytes: Some(sent),
            cut: cut.map(Arc::new),
            columns: TailColumns::default(),
        }
    }

    /// Whether the entry's event meets `filter` (`/v1/recent`'s and `/v1/stream`'s
    /// filters): read off its kept text, but for a stub's cut fields, which match by
    /// their whole value ([`CutFields::matches`]).
    pub(crate) fn matches(&self, filter: &auditrail_query::search::EventFilter) -> bool {
        match &self.cut {
            None => filter.matches_wire(&self.raw),
            Some(cut) => cut.matches(filter, &self.raw),
        }
    }
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
/// is copied on its own. Either way an entry's bytes are exactly its event's, but for
/// an event whose `id` or `timestamp` is spelled otherwise than the store writes it
/// ([`spelled_as_stored`]): that one is kept as stored.
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
        cut: None,
        columns: TailColumns::default(),
    };
    let each_on_its_own = || {
        kept.iter()
            .map(|(r, event)| match body.get(r.clone()) {
                Some(raw) => entry_of(raw, event, received.clone()),
                None => Entry::stub(event, r.len(), received.clone()),
            })
            .collect()
    };
    if kept.iter().any(|(r, event)| {
        r.len() > MAX_KEPT_EVENT_BYTES
            || !body
                .get(r.clone())
                .is_some_and(|raw| spelled_as_stored(raw, event))
    }) {
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

/// The entry of one event whose text as received is `raw`: a copy of it (the stored
/// form when its id or time is spelled otherwise, see [`spelled_as_stored`]), or for
/// an event over [`MAX_KEPT_EVENT_BYTES`] its [`stub`].
pub(crate) fn entry_of(raw: &[u8], event: &Event, received: Arc<Received>) -> Entry {
    if raw.len() <= MAX_KEPT_EVENT_BYTES {
        let raw = if spelled_as_stored(raw, event) {
            bytes::Bytes::copy_from_slice(raw)
        } else {
            bytes::Bytes::from(event.to_json())
        };
        Entry {
            raw,
            received,
            omitted_bytes: None,
            cut: None,
            columns: TailColumns::default(),
        }
    } else {
        Entry::stub(event, raw.len(), received)
    }
}

/// Whether `raw`, the text of `event` as sent, opens with its `id` and `timestamp`
/// spelled as the store writes them (`{"id":"<lower case>","timestamp":"<UTC, ms>"`,
/// the order and form of the `eventserver` target and `auditrail send`), so that the
/// live view may show the text as sent. The other fields read as the same values
/// however they are spelled (whitespace, escapes); these two do not: an id is read
/// without case and stored in lower case, a time with an offset, a leap second or more
/// digits is stored as its instant in UTC. An event spelled otherwise is shown as
/// stored (`Event::to_json`, the record's `clientEvent`). Before, the live view
/// (`/v1/recent`, `/v1/stream`, the console's tail) showed `D7730AE6-...` and
/// `2026-12-05T03:00:00.5+01:00` for an event that the store, receipts and queries
/// know as `d7730ae6-...` at `2026-12-05T02:00:00.500Z`.
fn spelled_as_stored(raw: &[u8], event: &Event) -> bool {
    const ID: &[u8] = b"{\"id\":\"";
    const TIMESTAMP: &[u8] = b"\",\"timestamp\":\"";
    let id = event.id.text();
    let Some(time) = event.timestamp.fixed_width() else {
        return false;
    };
    let Some(rest) = raw.strip_prefix(ID) else {
        return false;
    };
    let Some(rest) = rest.strip_prefix(&id[..]) else {
        return false;
    };
    let Some(rest) = rest.strip_prefix(TIMESTAMP) else {
        return false;
    };
    rest.strip_prefix(&time[..])
        .is_some_and(|rest| rest.first() == Some(&b'"'))
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
    /// Every kept event, newest first. Only the entries are copied under the lock
    /// `push_all` takes (shared bytes, no event text); the caller picks those it wants
    /// after, without it: a filter reads each event's JSON (up to 16 MB for the 1000
    /// kept), and under the lock that held up every batch being stored, as many times
    /// as `/v1/recent` was asked (tryout hostile/04).
    pub(crate) fn newest(&self) -> Vec<Entry> {
        match self.ring.lock() {
            Ok(ring) => ring.iter().rev().cloned().collect(),
            Err(_) => Vec::new(),
        }
    }

    /// Whether someone follows the stream: then every accepted event must be handed to
    /// [`Recent::push_all`], not only the last [`RECENT_CAPACITY`] of a batch.
    pub(crate) fn followed(&self) -> bool {
        self.followers.live.receiver_count() > 0
    }

    /// Follows accepted events: every kept event (newest first, as [`Recent::newest`],
    /// for the caller to pick its backlog from, without the lock) and a receiver of
    /// every event accepted after them. Both are taken under the lock `push_all`
    /// holds, so they neither overlap nor leave a gap.
    pub(crate) fn follow(&self) -> (Vec<Entry>, broadcast::Receiver<Entry>) {
        let ring = self.ring.lock();
        let receiver = self.followers.live.subscribe();
        let kept = match &ring {
            Ok(ring) => ring.iter().rev().cloned().collect(),
            Err(_) => Vec::new(),
        };
        drop(ring);
        (kept, receiver)
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
#[cfg(test)]
#[derive(Debug, Serialize)]
pub(crate) struct Shown {
    #[serde(rename = "clientEvent")]
    client_event: Option<Box<serde_json::value::RawValue>>,
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
    /// Set when the stub holds its `msgType` or `authUser` cut: each cut one's whole
    /// size, in bytes.
    #[serde(rename = "cutFields", skip_serializing_if = "Option::is_none")]
    cut_fields: Option<stub::CutSizes>,
}

/// Where an event came from, when not from the HTTP ingest.
#[cfg(test)]
#[derive(Debug, Serialize)]
struct ShownSource {
    kafka: ShownKafka,
}

/// A Kafka record's place, with Kafka's names.
#[cfg(test)]
#[derive(Debug, Serialize)]
struct ShownKafka {
    topic: String,
    partition: i32,
    offset: i64,
}

#[cfg(test)]
/// The envelope of one kept event.
pub(crate) fn envelope(e: &Entry) -> Shown {
    // The bytes were validated as one event at ingest; `None` (null) cannot happen.
    let client_event = std::str::from_utf8(&e.raw)
        .ok()
        .and_then(|s| serde_json::value::RawValue::from_string(s.to_owned()).ok());
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
        cut_fields: e.cut.as_ref().map(|c| c.sizes()),
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
    if let Some(cut) = &e.cut {
        let _ = write_field(&mut out, "cutFields", &cut.sizes());
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
        // The cut fields of a stub: both, or only `authUser`.
        let cut = |msg_type: &str| {
            let long = "é".repeat(1000);
            let message = serde_json::json!({"msgType": msg_type, "authUser": long});
            let event = format!(
                r#"{{"id":"01936f6e-1b2c-7d3e-8f40-123456789abc","timestamp":"2026-11-25T16:55:49.123Z","topic":"generic","node":"n1","seq":7,"message":{message}}}"#
            );
            let cut = stub::stub(&Event::from_json(&event).unwrap()).1;
            Some(Arc::new(cut.unwrap()))
        };
        for (address, key, omitted, kafka, cut) in [
            (None, None, None, None, None),
            (
                Some("10.0.0.1".parse().unwrap()),
                Some("k\"1\u{7}".to_owned()),
                Some(99_999),
                None,
                cut("x"),
            ),
            (Some("::1".parse().unwrap()), None, None, None, None),
            (None, None, None, kafka("auditrail.events"), None),
            (
                None,
                None,
                Some(20_000),
                kafka("t\"\u{1}é"),
                cut(&"m".repeat(300)),
            ),
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
                cut,
                columns: TailColumns::default(),
            };
            assert_eq!(
                envelope_text(&e),
                serde_json::to_string(&envelope(&e)).unwrap()
            );
            assert_eq!(
                envelope_text(&e).contains(r#","cutFields":{"#),
                e.cut.is_some()
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

    /// The text of event `seq`, spelled as the store writes it, and the event.
    fn spelled(seq: u64) -> (String, Event) {
        let text = format!(
            r#"{{"id":"01936f6e-1b2c-7d3e-8f40-{seq:012x}","timestamp":"2026-11-25T16:55:49.123Z","topic":"generic","node":"n1","seq":{seq},"message":{{"msgType":"x"}}}}"#
        );
        let event = Event::from_json(&text).unwrap();
        (text, event)
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
        let [(a, ea), (b, eb), (c, ec)] = [1, 2, 3].map(spelled);
        let body = format!("[{a},{b} , {c}]");
        let at_b = 1 + a.len() + 1;
        let at_c = at_b + b.len() + 3;
        let kept = [
            (1..1 + a.len(), &ea),
            (at_b..at_b + b.len(), &eb),
            (at_c..at_c + c.len(), &ec),
        ];
        let entries = copy_out(body.as_bytes(), &kept, &received());
        let raw: Vec<&[u8]> = entries.iter().map(|e| &e.raw[..]).collect();
        assert_eq!(raw, [a.as_bytes(), b.as_bytes(), c.as_bytes()]);
        // One block: each entry starts where the body's gap to it says.
        let (first, last) = (at(&entries[0]), at(&entries[2]));
        assert_eq!(last.start - first.start, at_c - 1);
        assert!(!body
            .as_bytes()
            .as_ptr_range()
            .contains(&entries[0].raw.as_ptr()));
    }

    #[test]
    fn events_far_apart_are_copied_each_on_its_own() {
        // A new event, 1000 bytes of duplicates, another new event: copying the span
        // would keep the events' bytes and 1000 of the rest alive.
        let [(a, ea), (b, eb)] = [1, 2].map(spelled);
        let body = format!("{a}{}{b}", " ".repeat(1000));
        let at_b = a.len() + 1000;
        let kept = [(0..a.len(), &ea), (at_b..at_b + b.len(), &eb)];
        let entries = copy_out(body.as_bytes(), &kept, &received());
        assert_eq!(&entries[0].raw[..], a.as_bytes());
        assert_eq!(&entries[1].raw[..], b.as_bytes());
        let (first, second) = (at(&entries[0]), at(&entries[1]));
        let apart = second.start.abs_diff(first.start);
        assert_ne!(apart, at_b, "the two events were copied as one block");
    }

    #[test]
    fn an_id_or_time_spelled_otherwise_is_kept_as_stored() {
        let (plain, plain_event) = spelled(1);
        let sent = r#"{"id":"01936F6E-1B2C-7D3E-8F40-00000000000A","timestamp":"2026-11-25T17:55:49.5+01:00","topic":"generic","node":"n1","seq":10,"message":{ "msgType" : "x" }}"#;
        let event = Event::from_json(sent).unwrap();
        let body = format!("{plain}\n{sent}\n");
        let at_sent = plain.len() + 1;
        let kept = [
            (0..plain.len(), &plain_event),
            (at_sent..at_sent + sent.len(), &event),
        ];
        let entries = copy_out(body.as_bytes(), &kept, &received());
        assert_eq!(&entries[0].raw[..], plain.as_bytes());
        assert_eq!(
            std::str::from_utf8(&entries[1].raw).unwrap(),
            r#"{"id":"01936f6e-1b2c-7d3e-8f40-00000000000a","timestamp":"2026-11-25T16:55:49.500Z","topic":"generic","node":"n1","seq":10,"message":{"msgType":"x"}}"#
        );
    }

    #[test]
    fn no_events_no_entries() {
        assert!(copy_out(b"[]", &[], &received()).is_empty());
    }
}
