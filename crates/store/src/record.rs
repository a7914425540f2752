//! The stored record: one JSON object per line, the reference's envelope
//! (`clientEvent` / `origAddress` / `serverTimestamp`) plus `keyId`, sealed by the
//! chain fields (`chainSeq`, `chainHash`, see [`chain`](crate::chain)):
//!
//! ```text
//! {"clientEvent":{...},"origAddress":"10.0.0.7","serverTimestamp":"2026-11-25T16:55:49.123Z","keyId":"k1","chainSeq":42,"chainHash":"<64 hex>"}
//! ```
//!
//! An event read from a Kafka source also keeps the record it came from, after
//! `keyId` (absent otherwise, so records of the HTTP ingest are unchanged):
//! `"source":{"kafka":{"topic":"auditrail.events","partition":3,"offset":81723}}`.
//!
//! The writer writes the envelope (`BodyWriter`); [`Record`] is the typed view of
//! a stored line every reader uses.

use std::borrow::Cow;
use std::net::IpAddr;
use std::sync::Arc;

use auditrail_core::{Event, EventError, EventId, KafkaOrigin, Received, SeqRange, Timestamp};
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::chain::{parse_line, ChainLink, LineError};

/// One record body, written by a fresh [`BodyWriter`].
#[cfg(test)]
pub(crate) fn write_body(event: &Event, now: Timestamp, out: &mut Vec<u8>) {
    BodyWriter::default().write_body(event, now, out);
}

/// Writes record bodies (see [`BodyWriter::write_body`]), keeping the text after `clientEvent`
/// of the last receive information it wrote: the events of one request share one
/// [`Received`] (the same `Arc`), so their address, server time and key id are
/// formatted once per request, not once per record.
#[derive(Debug, Default)]
pub(crate) struct BodyWriter {
    /// Whose tail `tail` is: the receive information (kept, so that its address
    /// cannot be reused by another while it is the key) or, without one, `now`.
    key: Option<(Option<Arc<Received>>, Timestamp)>,
    tail: Vec<u8>,
}

impl BodyWriter {
    /// Appends the record body for `event` to `out`: the JSON object *without its
    /// closing brace*, as [`Chain::seal`](crate::chain::Chain::seal) expects:
    ///
    /// ```text
    /// {"clientEvent":{...},"origAddress":"10.0.0.7","serverTimestamp":"2026-11-25T16:55:49.123Z","keyId":"k1"
    /// ```
    ///
    /// `origAddress` and `keyId` are `null` when the event carries no receive
    /// information; `serverTimestamp` is then `now` (the time the store took the event).
    pub(crate) fn write_body(&mut self, event: &Event, now: Timestamp, out: &mut Vec<u8>) {
        out.extend_from_slice(b"{\"clientEvent\":");
        event.write_json(out);
        let received = event.received.as_ref();
        let hit = match (&self.key, received) {
            (Some((Some(k), _)), Some(r)) => Arc::ptr_eq(k, r),
            (Some((None, t)), None) => *t == now,
            _ => false,
        };
        if !hit {
            self.tail.clear();
            write_tail(received.map(Arc::as_ref), now, &mut self.tail);
            self.key = Some((received.cloned(), now));
        }
        out.extend_from_slice(&self.tail);
    }
}

/// The body after `clientEvent`: `,"origAddress":…,"serverTimestamp":…,"keyId":…` and
/// the Kafka origin if any (core's one writer of them, which the server's `file`
/// destination lines share).
fn write_tail(received: Option<&Received>, now: Timestamp, out: &mut Vec<u8>) {
    auditrail_core::write_provenance(received, now, out);
}

/// One stored record, parsed from its line (borrowing from it).
#[derive(Debug, Clone)]
pub struct Record<'a> {
    /// The event exactly as stored (its wire form); [`Record::event`] parses it.
    pub client_event: &'a RawValue,
    /// The sender's address, when the event came through the HTTP ingest.
    pub orig_address: Option<IpAddr>,
    /// When the server received the event (or the store wrote it, for events that did
    /// not come through the ingest).
    pub server_timestamp: Timestamp,
    /// The id of the key that authenticated the request (never the secret).
    pub key_id: Option<Cow<'a, str>>,
    /// The Kafka record the event was read from (a Kafka source's partition store).
    pub kafka: Option<KafkaOrigin>,
    /// The record's chain link (`None` in a store written with `chain = false`: a line
    /// without chain fields). A line whose chain fields are malformed is no record
    /// ([`RecordError::Chain`]).
    pub link: Option<ChainLink>,
}

/// The fields of a record's event that identify it and tell it from another event
/// with the same id, borrowed from the line (cheaper than the whole event: the message
/// is handed out as its stored text, not parsed into a tree nor checked again).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventIdentity<'a> {
    /// The event's id.
    pub id: EventId,
    /// The emitting node.
    pub node: Cow<'a, str>,
    /// The event's per-node sequence number.
    pub seq: u64,
    /// The numbers the node announced as abandoned with this event, if any.
    pub abandoned_seqs: Option<SeqRange>,
    /// The event's topic.
    pub topic: Cow<'a, str>,
    /// The event's routing key, if it has one.
    pub routing_key: Option<Cow<'a, str>>,
    /// When the event was emitted.
    pub timestamp: Timestamp,
    /// The message's JSON text exactly as stored: the text the event kept from its
    /// client ([`auditrail_core::Message::json`]), which the store writes unchanged.
    pub message: &'a str,
}

/// Why a line is not a readable record.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RecordError {
    /// Not the record envelope (not JSON, or a field missing or of the wrong type).
    #[error("not a stored record: {0}")]
    Envelope(#[source] serde_json::Error),
    /// The `clientEvent` is not a valid event.
    #[error("clientEvent: {0}")]
    Event(#[source] EventError),
    /// The `clientEvent` lacks its id, node, seq, topic, timestamp or message, or one
    /// is malformed.
    #[error("clientEvent: {0}")]
    Identity(#[source] serde_json::Error),
    /// The line has chain fields (`chainSeq`, `chainHash`) but not in the form the
    /// store writes them: a changed line, which `auditrail verify` reports as malformed.
    #[error("chain fields: {0}")]
    Chain(#[source] LineError),
    /// The event's `message` is not a JSON object.
    #[error("clientEvent: message is not a JSON object")]
    MessageNotAnObject,
}

/// The envelope of a record line, its `clientEvent` read as `E`: a raw value for a
/// [`Record`], the event's fields for a [`StoredEvent`](crate::StoredEvent) (one pass
/// over the line either way).
#[derive(Deserialize)]
pub(crate) struct Envelope<'a, E> {
    #[serde(rename = "clientEvent")]
    client_event: E,
    #[serde(rename = "origAddress", default)]
    orig_address: Option<IpAddr>,
    #[serde(rename = "serverTimestamp")]
    server_timestamp: Timestamp,
    #[serde(rename = "keyId", default, borrow)]
    key_id: Option<Cow<'a, str>>,
    #[serde(default)]
    source: Option<Source>,
    /// Whether the line has chain fields (of any value, `null` too): then they must be
    /// a sealed line's, as every other reader (recovery, verify) reads them.
    #[serde(rename = "chainSeq", default)]
    chain_seq: Present,
    #[serde(rename = "chainHash", default)]
    chain_hash: Present,
}

/// What a record line holds besides its `clientEvent`.
pub(crate) struct EnvelopeParts<'a> {
    pub(crate) orig_address: Option<IpAddr>,
    pub(crate) server_timestamp: Timestamp,
    pub(crate) key_id: Option<Cow<'a, str>>,
    pub(crate) kafka: Option<KafkaOrigin>,
    pub(crate) link: Option<ChainLink>,
}

/// Reads a record line (without its `\n`): its `clientEvent` as `E` and the rest.
/// `text`: the line, when the caller has checked it is UTF-8 as a whole (serde_json
/// then reads its strings without checking each again).
pub(crate) fn read_envelope<'a, E: Deserialize<'a>>(
    line: &'a [u8],
    text: Option<&'a str>,
) -> Result<(E, EnvelopeParts<'a>), RecordError> {
    let e: Envelope<'a, E> = match text {
        Some(text) => serde_json::from_str(text),
        None => serde_json::from_slice(line),
    }
    .map_err(RecordError::Envelope)?;
    // One judgment of the chain fields for every reader: a line `verify` and
    // recovery find malformed is no record to queries, `prove` or the
    // de-duplication either (an upper-case hash was read as a record here while
    // verify read it too and a leading zero hid the record from here alone).
    let link = match parse_line(line) {
        Ok(sealed) => Some(sealed.link),
        Err(e_chain) if e.chain_seq.0 || e.chain_hash.0 => return Err(RecordError::Chain(e_chain)),
        Err(_) => None,
    };
    Ok((
        e.client_event,
        EnvelopeParts {
            orig_address: e.orig_address,
            server_timestamp: e.server_timestamp,
            key_id: e.key_id,
            kafka: e.source.map(|s| KafkaOrigin {
                topic: s.kafka.topic,
                partition: s.kafka.partition,
                offset: s.kafka.offset,
            }),
            link,
        },
    ))
}

/// Whether a field is in the object, whatever its value (skipped without a tree, as
/// serde skips an unknown field). `Option` would take `null` for absent.
#[derive(Default)]
struct Present(bool);

impl<'de> Deserialize<'de> for Present {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Present, D::Error> {
        serde::de::IgnoredAny::deserialize(d).map(|_| Present(true))
    }
}

/// `"source"` of the envelope: where the server read the event from, other than HTTP.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Source {
    kafka: KafkaSource,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KafkaSource {
    topic: String,
    partition: i32,
    offset: i64,
}

#[derive(Deserialize)]
struct Identity<'a> {
    #[serde(borrow)]
    id: Cow<'a, str>,
    #[serde(borrow)]
    node: Cow<'a, str>,
    seq: u64,
    #[serde(rename = "abandonedSeqs", default)]
    abandoned_seqs: Option<SeqRange>,
    #[serde(borrow)]
    topic: Cow<'a, str>,
    #[serde(rename = "routingKey", default, borrow)]
    routing_key: Option<Cow<'a, str>>,
    timestamp: Timestamp,
    /// Borrowed as it is in the line: serde_json skips over it as it would over an
    /// ignored field, without building a tree.
    #[serde(borrow)]
    message: &'a RawValue,
}

impl<'a> Record<'a> {
    /// Parses one stored line (without its `\n`).
    ///
    /// ```
    /// let line = br#"{"clientEvent":{"id":"01936f6e-1b2c-7d3e-8f40-123456789abc","timestamp":"2026-11-25T16:55:49.123Z","topic":"generic","node":"n1","seq":7,"message":{"msgType":"login"}},"origAddress":"10.0.0.7","serverTimestamp":"2026-11-25T16:55:50.000Z","keyId":"k1"}"#;
    /// let r = auditrail_store::Record::parse(line)?;
    /// assert_eq!(r.key_id.as_deref(), Some("k1"));
    /// assert_eq!(r.identity()?.seq, 7);
    /// let event = r.event()?;
    /// assert_eq!(event.received.unwrap().orig_address.unwrap().to_string(), "10.0.0.7");
    /// # Ok::<(), auditrail_store::RecordError>(())
    /// ```
    pub fn parse(line: &'a [u8]) -> Result<Record<'a>, RecordError> {
        let (client_event, parts) = read_envelope::<&'a RawValue>(line, None)?;
        Ok(Record {
            client_event,
            orig_address: parts.orig_address,
            server_timestamp: parts.server_timestamp,
            key_id: parts.key_id,
            kafka: parts.kafka,
            link: parts.link,
        })
    }

    /// The stored event, with its receive information (`received`) from the envelope.
    pub fn event(&self) -> Result<Event, RecordError> {
        let mut event = Event::from_json(self.client_event.get()).map_err(RecordError::Event)?;
        event.received = Some(Arc::new(Received {
            orig_address: self.orig_address,
            key_id: self.key_id.as_deref().map(str::to_owned),
            server_timestamp: self.server_timestamp,
            kafka: self.kafka.clone(),
        }));
        Ok(event)
    }

    /// The event's id, node, seq and the rest of what tells it from another event with
    /// the same id (topic, routing key, timestamp, the message's text), without parsing
    /// the message.
    pub fn identity(&self) -> Result<EventIdentity<'a>, RecordError> {
        let json: &'a str = self.client_event.get();
        let i: Identity<'a> = serde_json::from_str(json).map_err(RecordError::Identity)?;
        let id = i.id.parse().map_err(RecordError::Event)?;
        Ok(EventIdentity {
            id,
            node: i.node,
            seq: i.seq,
            abandoned_seqs: i.abandoned_seqs,
            topic: i.topic,
            routing_key: i.routing_key,
            timestamp: i.timestamp,
            message: i.message.get(),
        })
    }
}

/// What says which partition folder a record belongs in ([`Layout::partition_for`](
/// crate::Layout::partition_for)): its event's topic, routing key and timestamp, read
/// from the stored line without parsing the event (`auditrail verify` reads every
/// record's, see docs/benchmarks/integrity.md).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filing<'a> {
    /// The event's topic.
    pub topic: Cow<'a, str>,
    /// The event's routing key, if it has one.
    pub routing_key: Option<Cow<'a, str>>,
    /// The event's timestamp, its text as stored (`Timestamp`'s `FromStr` reads it: a
    /// leap second stored as `23:59:60` by an older version is second 59 of its hour).
    pub timestamp: Cow<'a, str>,
}

#[derive(Deserialize)]
struct FilingEnvelope<'a> {
    #[serde(rename = "clientEvent", borrow)]
    client_event: FilingEvent<'a>,
}

#[derive(Deserialize)]
struct FilingEvent<'a> {
    #[serde(borrow)]
    topic: Cow<'a, str>,
    #[serde(rename = "routingKey", default, borrow)]
    routing_key: Option<Cow<'a, str>>,
    #[serde(borrow)]
    timestamp: Cow<'a, str>,
}

impl<'a> Filing<'a> {
    /// Reads a record line's filing values (the line without its `\n`).
    ///
    /// The writer's own form (`{"clientEvent":{"id":…,"timestamp":…,"topic":…,
    /// ["routingKey":…,]"node":…`, strings without escapes) is read at its place, byte
    /// by byte; any other form (escapes, another order of fields) through `serde_json`.
    ///
    /// ```
    /// let line = br#"{"clientEvent":{"id":"01936f6e-1b2c-7d3e-8f40-123456789abc","timestamp":"2026-11-25T16:55:49.123Z","topic":"generic","routingKey":"svc a","node":"n1","seq":7,"message":{}},"origAddress":null,"serverTimestamp":"2026-11-25T16:55:50.000Z","keyId":null}"#;
    /// let f = auditrail_store::record::Filing::read(line)?;
    /// assert_eq!((&*f.topic, f.routing_key.as_deref()), ("generic", Some("svc a")));
    /// assert_eq!(f.timestamp, "2026-11-25T16:55:49.123Z");
    /// # Ok::<(), auditrail_store::RecordError>(())
    /// ```
    pub fn read(line: &'a [u8]) -> Result<Filing<'a>, RecordError> {
        if let Some(f) = Filing::read_written_form(line) {
            return Ok(f);
        }
        let e: FilingEnvelope<'a> = serde_json::from_slice(line).map_err(RecordError::Identity)?;
        Ok(Filing {
            topic: e.client_event.topic,
            routing_key: e.client_event.routing_key,
            timestamp: e.client_event.timestamp,
        })
    }

    /// The values of a line in the form `Event::write_json` writes (field order of the
    /// event, which the derived `Serialize` before it had too), `None` for any other.
    fn read_written_form(line: &'a [u8]) -> Option<Filing<'a>> {
        let rest = line.strip_prefix(b"{\"clientEvent\":{\"id\":\"")?;
        let (_, rest) = plain_string(rest)?;
        let rest = rest.strip_prefix(b",\"timestamp\":\"")?;
        let (timestamp, rest) = plain_string(rest)?;
        let rest = rest.strip_prefix(b",\"topic\":\"")?;
        let (topic, rest) = plain_string(rest)?;
        let (routing_key, rest) = match rest.strip_prefix(b",\"routingKey\":\"") {
            Some(rest) => {
                let (key, rest) = plain_string(rest)?;
                (Some(key), rest)
            }
            None => (None, rest),
        };
        // The field after them is the node: the routing key, written before it, was
        // not missed.
        rest.starts_with(b",\"node\":").then_some(Filing {
            topic: Cow::Borrowed(topic),
            routing_key: routing_key.map(Cow::Borrowed),
            timestamp: Cow::Borrowed(timestamp),
        })
    }
}

/// The text of a JSON string up to its closing quote and what follows the quote, when
/// the string has no escape (so the text is the value); `None` otherwise.
fn plain_string(s: &[u8]) -> Option<(&str, &[u8])> {
    let end = s.iter().position(|&b| b == b'"' || b == b'\\')?;
    if s[end] != b'"' {
        return None;
    }
    let text = std::str::from_utf8(&s[..end]).ok()?;
    Some((text, &s[end + 1..]))
}

#[cfg(test)]
mod tests {
    use crate::chain::Chain;

    use super::*;

    #[test]
    fn body_closed_by_a_brace_is_the_documented_envelope() {
        let mut event = Event::from_json(
            r#"{"id":"01936f6e-1b2c-7d3e-8f40-123456789abc","timestamp":"2026-11-25T16:55:49.123Z","topic":"generic","node":"n1","seq":7,"message":{"msgType":"login"}}"#,
        )
        .unwrap();
        let now: Timestamp = "2026-11-25T17:00:00.000Z".parse().unwrap();
        let mut body = Vec::new();
        write_body(&event, now, &mut body);
        body.push(b'}');
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["clientEvent"]["seq"], 7);
        assert!(v["origAddress"].is_null() && v["keyId"].is_null());
        assert_eq!(v["serverTimestamp"], "2026-11-25T17:00:00.000Z");

        event.received = Some(Arc::new(Received {
            orig_address: Some("10.0.0.7".parse().unwrap()),
            key_id: Some("key \"one\"".into()),
            server_timestamp: "2026-11-25T16:56:00.001Z".parse().unwrap(),
            kafka: None,
        }));
        let mut body = Vec::new();
        write_body(&event, now, &mut body);
        body.push(b'}');
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["origAddress"], "10.0.0.7");
        assert_eq!(v["keyId"], "key \"one\"");
        assert_eq!(v["serverTimestamp"], "2026-11-25T16:56:00.001Z");
        let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
        assert_eq!(keys.len(), 4);
    }

    #[test]
    fn each_record_gets_its_own_receive_information_however_the_tails_are_shared() {
        let received = |ip: &str, key: Option<&str>, ts: &str, offset: Option<i64>| {
            Some(Arc::new(Received {
                orig_address: Some(ip.parse().unwrap()),
                key_id: key.map(str::to_owned),
                server_timestamp: ts.parse().unwrap(),
                kafka: offset.map(|offset| KafkaOrigin {
                    topic: "t".into(),
                    partition: 0,
                    offset,
                }),
            }))
        };
        let first = received("10.0.0.1", Some("k1"), "2026-11-25T16:56:00.001Z", None);
        // Equal in every field to `first`, but another request's: written alike.
        let twin = received("10.0.0.1", Some("k1"), "2026-11-25T16:56:00.001Z", None);
        let other = received("::1", None, "2026-11-25T16:57:00.000Z", Some(9));
        let (t1, t2): (Timestamp, Timestamp) = (
            "2026-11-25T17:00:00.000Z".parse().unwrap(),
            "2026-11-25T18:00:00.000Z".parse().unwrap(),
        );
        let base = Event::from_json(
            r#"{"id":"01936f6e-1b2c-7d3e-8f40-123456789abc","timestamp":"2026-11-25T16:55:49.123Z","topic":"generic","node":"n1","seq":7,"message":{"msgType":"login"}}"#,
        )
        .unwrap();
        // Runs of one request, switches between requests, and events without receive
        // information at two different store times.
        let cases = [
            (first.clone(), t1),
            (first.clone(), t1),
            (other.clone(), t1),
            (first.clone(), t2),
            (twin.clone(), t1),
            (None, t1),
            (None, t1),
            (None, t2),
            (other.clone(), t2),
            (None, t2),
        ];
        let mut writer = BodyWriter::default();
        for (i, (r, now)) in cases.into_iter().enumerate() {
            let mut event = base.clone();
            event.received = r;
            let mut cached = Vec::new();
            writer.write_body(&event, now, &mut cached);
            let mut fresh = Vec::new();
            BodyWriter::default().write_body(&event, now, &mut fresh);
            assert_eq!(
                String::from_utf8(cached).unwrap(),
                String::from_utf8(fresh).unwrap(),
                "record {i}"
            );
        }
    }

    #[test]
    fn a_written_record_reads_back_as_the_same_event_and_link() {
        let mut event = Event::from_json(
            r#"{"id":"01936f6e-1b2c-7d3e-8f40-123456789abc","timestamp":"2026-11-25T16:55:49.123Z","topic":"generic","routingKey":"svc-a","node":"n1","seq":7,"message":{"msgType":"login","n":1}}"#,
        )
        .unwrap();
        event.received = Some(Arc::new(Received {
            orig_address: Some("::1".parse().unwrap()),
            key_id: Some("k\u{e9}".into()),
            server_timestamp: "2026-11-25T16:56:00.001Z".parse().unwrap(),
            kafka: None,
        }));
        let mut body = Vec::new();
        write_body(&event, Timestamp::now(), &mut body);
        let mut line = Vec::new();
        let link = Chain::genesis().seal(&body, &mut line);
        let r = Record::parse(&line[..line.len() - 1]).unwrap();
        assert_eq!(r.link, Some(link));
        assert_eq!(r.event().unwrap(), event);
        let id = r.identity().unwrap();
        assert_eq!((id.id, id.node.as_ref(), id.seq), (event.id, "n1", 7));
        assert_eq!(
            (
                id.topic.as_ref(),
                id.routing_key.as_deref(),
                id.timestamp,
                id.message
            ),
            (
                "generic",
                Some("svc-a"),
                event.timestamp,
                event.message.json().as_ref()
            )
        );
    }

    /// What the de-duplication rebuild compares with a received event: the identity of
    /// a stored record holds the same values as the event it was written from, the
    /// message as the text the event kept (whitespace left out, numbers and escapes as
    /// sent), an escaped routing key decoded, a timestamp with an offset in UTC.
    #[test]
    fn identity_reads_back_what_the_event_held() {
        let event = Event::from_json(
            r#"{"id":"01936f6e-1b2c-7d3e-8f40-123456789abc","timestamp":"2026-11-25T18:55:49.123456+02:00","topic":"my.topic","routingKey":"svc \"a\" \u00e9","node":"n1","seq":7,"abandonedSeqs":{"first":1,"last":6},"message":{ "msgType" : "login", "n" : 123456789012345678901234567890, "s" : "\u00e9\n", "z" : -0 }}"#,
        )
        .unwrap();
        let mut body = Vec::new();
        write_body(&event, Timestamp::now(), &mut body);
        let mut line = Vec::new();
        Chain::genesis().seal(&body, &mut line);
        let r = Record::parse(&line[..line.len() - 1]).unwrap();
        let id = r.identity().unwrap();
        assert_eq!(id.topic, "my.topic");
        assert_eq!(id.routing_key.as_deref(), Some("svc \"a\" \u{e9}"));
        assert_eq!(id.timestamp, event.timestamp);
        assert_eq!(id.timestamp.to_string(), "2026-11-25T16:55:49.123Z");
        assert_eq!(id.message, event.message.json());
        assert_eq!(
            id.message,
            r#"{"msgType":"login","n":123456789012345678901234567890,"s":"\u00e9\n","z":-0}"#
        );
        assert_eq!(id.abandoned_seqs, event.abandoned_seqs);
    }

    #[test]
    fn a_kafka_origin_is_kept_after_key_id_and_read_back() {
        let mut event = Event::from_json(
            r#"{"id":"01936f6e-1b2c-7d3e-8f40-123456789abc","timestamp":"2026-11-25T16:55:49.123Z","topic":"generic","node":"n1","seq":7,"message":{"msgType":"login"}}"#,
        )
        .unwrap();
        event.received = Some(Arc::new(Received {
            orig_address: None,
            key_id: None,
            server_timestamp: "2026-11-25T16:56:00.001Z".parse().unwrap(),
            kafka: Some(KafkaOrigin {
                topic: "audit\"s".into(),
                partition: 3,
                offset: i64::MAX,
            }),
        }));
        let mut body = Vec::new();
        write_body(&event, Timestamp::now(), &mut body);
        let mut line = Vec::new();
        Chain::genesis().seal(&body, &mut line);
        let v: serde_json::Value = serde_json::from_slice(&line).unwrap();
        assert_eq!(
            v["source"],
            serde_json::json!({"kafka": {"topic": "audit\"s", "partition": 3, "offset": i64::MAX}})
        );
        let r = Record::parse(&line[..line.len() - 1]).unwrap();
        assert_eq!(r.kafka.as_ref().unwrap().offset, i64::MAX);
        assert_eq!(r.event().unwrap(), event);
    }

    #[test]
    fn lines_that_are_not_records_say_why() {
        for bad in [
            &b"{\"torn\": "[..],
            br#"{"storeId":"s","seq":3}"#,
            br#"{"clientEvent":{},"serverTimestamp":"yesterday"}"#,
        ] {
            assert!(matches!(Record::parse(bad), Err(RecordError::Envelope(_))));
        }
        let r = Record::parse(
            br#"{"clientEvent":{"id":"x"},"serverTimestamp":"2026-11-25T16:56:00.001Z"}"#,
        )
        .unwrap();
        assert!(r.link.is_none());
        assert!(matches!(r.event(), Err(RecordError::Event(_))));
        assert!(matches!(r.identity(), Err(RecordError::Identity(_))));
    }

    /// A line with chain fields is a record only when they are a sealed line's: the
    /// same judgment as recovery's and verify's (`chain::parse_line`); a line without
    /// them is a record of an unchained store.
    #[test]
    fn a_line_whose_chain_fields_are_malformed_is_no_record() {
        let body = r#"{"clientEvent":{"id":"01936f6e-1b2c-7d3e-8f40-123456789abc","timestamp":"2026-11-25T16:55:49.123Z","topic":"generic","node":"n1","seq":7,"message":{"msgType":"login"}},"origAddress":null,"serverTimestamp":"2026-11-25T16:55:50.000Z","keyId":null"#;
        let mut line = Vec::new();
        let link = Chain::genesis().seal(body.as_bytes(), &mut line);
        let line = String::from_utf8(line).unwrap();
        let line = line.trim_end();
        assert_eq!(Record::parse(line.as_bytes()).unwrap().link, Some(link));
        let hex = link.hash_hex();
        for bad in [
            line.replace(&hex, &hex.to_ascii_uppercase()),
            line.replace(&hex, &hex[..62]),
            line.replace(&format!("\"chainHash\":\"{hex}\""), "\"chainHash\":null"),
            line.replace("\"chainSeq\":1,", "\"chainSeq\":\"1\","),
            line.replace("\"chainSeq\":1,", "\"chainSeq\":0,"),
            line.replace("\"chainSeq\":1,", "\"chainSeq\":null,"),
            line.replace("\"chainSeq\":1,", "\"chainSeq\":18446744073709551616,"),
            line.replace("\"chainSeq\":1,", ""),
        ] {
            assert!(
                matches!(Record::parse(bad.as_bytes()), Err(RecordError::Chain(_))),
                "{bad}"
            );
        }
        let plain = format!("{body}}}");
        assert_eq!(Record::parse(plain.as_bytes()).unwrap().link, None);
    }

    #[test]
    fn filing_values_read_at_their_place_are_those_serde_reads() {
        let keys = [
            None,
            Some("svc-a"),
            Some("_none"),
            Some("Deployment 42"),
            Some("q\"uote é€😀"),
            Some("\u{202e}rtl"),
        ];
        for key in keys {
            let mut v = serde_json::json!({
                "id": "01936f6e-1b2c-7d3e-8f40-123456789abc",
                "timestamp": "2016-12-31T23:59:60.250Z",
                "topic": ".x-y", "node": "n1", "seq": 7,
                "message": {"msgType": "m", "routingKey": "not this one", "topic": "nor this"}
            });
            if let Some(k) = key {
                v["routingKey"] = k.into();
            }
            let event = Event::from_json(&v.to_string()).unwrap();
            let mut body = Vec::new();
            write_body(&event, Timestamp::now(), &mut body);
            let mut line = Vec::new();
            Chain::genesis().seal(&body, &mut line);
            let line = &line[..line.len() - 1];
            let f = Filing::read(line).unwrap();
            assert_eq!(f.topic, ".x-y");
            assert_eq!(
                f.routing_key.as_deref(),
                key,
                "{}",
                String::from_utf8_lossy(line)
            );
            assert_eq!(f.timestamp, "2016-12-31T23:59:59.250Z");
            let slow: FilingEnvelope<'_> = serde_json::from_slice(line).unwrap();
            assert_eq!(slow.client_event.routing_key.as_deref(), key);
        }
        // Another order of fields (not the writer's): read through serde.
        let other = br#"{"clientEvent":{"topic":"t","node":"n","routingKey":"k","timestamp":"2026-11-25T16:55:49.123Z","id":"x","seq":1,"message":{}},"serverTimestamp":"2026-11-25T16:55:49.123Z"}"#;
        let f = Filing::read(other).unwrap();
        assert_eq!((&*f.topic, f.routing_key.as_deref()), ("t", Some("k")));
        assert!(Filing::read(br#"{"clientEvent":{"id":"x"}}"#).is_err());
    }
}
