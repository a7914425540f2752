//! A stored line read as the event it holds: the one judgment of whether a line of a
//! store is a readable stored event, made here for every reader that shows events.
//! Queries leave out (and count) every line it refuses; `auditrail verify` names each
//! of them, so that no event is left out of a report while the tamper check passes.
//!
//! A readable stored event is a [`Record`](crate::Record) (its envelope, and its chain
//! fields in the form the store writes them) whose `clientEvent` holds the event's wire
//! fields, each once: `id` (a UUID), `timestamp` (RFC 3339, read by
//! [`Timestamp`]'s `FromStr`), `topic` and `node` (strings), `seq` (an integer from 0
//! to 2^64-1), `message` (a JSON object) and, if present, `routingKey` (a string or
//! `null`) and `abandonedSeqs` (`{"first","last"}`, `1 <= first <= last`, or `null`:
//! what the server's ingest takes, and what its de-duplication and node statistics
//! read back). Other fields of the event are left alone, and so is what the message
//! holds (a record of another version of the event model is still read).
//!
//! Every reader of stored records that judges what a line holds reads it here: queries,
//! `auditrail verify`, `auditrail prove`, the server's de-duplication rebuild, the
//! records after the last checkpoint that a start's recovery signs, and retention's
//! count of the sequence numbers it deletes.
//!
//! The record is read in one pass: the envelope and the event's fields together, the
//! message kept as its stored text ([`RawValue`], skipped without building a tree).

use std::borrow::Cow;
use std::net::IpAddr;

use auditrail_core::{EventId, KafkaOrigin, SeqRange, Timestamp};
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::chain::ChainLink;
use crate::record::{read_envelope, RecordError};

/// An event in its wire form (`{"id","timestamp","topic","routingKey","node","seq",
/// "message"}`), its fields borrowed from the line where they hold no escape.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct WireEvent<'a> {
    /// The event's id.
    pub id: EventId,
    /// The id's text as stored (what a reader shows).
    pub id_text: Cow<'a, str>,
    /// When the event happened.
    pub timestamp: Timestamp,
    /// The event's topic.
    pub topic: Cow<'a, str>,
    /// The event's routing key, if it has one.
    pub routing_key: Option<Cow<'a, str>>,
    /// The emitting node.
    pub node: Cow<'a, str>,
    /// The event's per-node sequence number.
    pub seq: u64,
    /// The numbers the node announced as abandoned with this event, if any.
    pub abandoned_seqs: Option<SeqRange>,
    /// The message's JSON text exactly as stored: an object.
    pub message: &'a RawValue,
}

/// The wire fields as serde reads them (a field given twice is an error, as for every
/// derived struct; unknown fields are skipped).
#[derive(Deserialize)]
pub(crate) struct WireFields<'a> {
    #[serde(borrow)]
    id: Cow<'a, str>,
    #[serde(borrow)]
    timestamp: Cow<'a, str>,
    #[serde(borrow)]
    topic: Cow<'a, str>,
    #[serde(rename = "routingKey", borrow, default)]
    routing_key: Option<Cow<'a, str>>,
    #[serde(borrow)]
    node: Cow<'a, str>,
    seq: u64,
    #[serde(rename = "abandonedSeqs", default)]
    abandoned_seqs: Option<SeqRange>,
    #[serde(borrow)]
    message: &'a RawValue,
}

impl<'a> WireFields<'a> {
    /// The event, once its id, time and message are what they must be.
    pub(crate) fn check(self) -> Result<WireEvent<'a>, RecordError> {
        let id = self.id.parse().map_err(RecordError::Event)?;
        let timestamp = self.timestamp.parse().map_err(RecordError::Event)?;
        // Valid JSON already (serde_json checked it while skipping it), and the text
        // starts at the value: an object is what starts with a brace.
        if !self.message.get().starts_with('{') {
            return Err(RecordError::MessageNotAnObject);
        }
        Ok(WireEvent {
            id,
            id_text: self.id,
            timestamp,
            topic: self.topic,
            routing_key: self.routing_key,
            node: self.node,
            seq: self.seq,
            abandoned_seqs: self.abandoned_seqs,
            message: self.message,
        })
    }
}

impl<'a> WireEvent<'a> {
    /// Reads an event in its wire form (a node's audit line once its own fields are
    /// stripped, an event of the live view), with the rules of a stored event's.
    ///
    /// ```
    /// let json = br#"{"id":"01936f6e-1b2c-7d3e-8f40-123456789abc","timestamp":"2026-11-25T16:55:49.123Z","topic":"generic","node":"n1","seq":7,"message":{"msgType":"login"}}"#;
    /// let e = auditrail_store::WireEvent::parse(json)?;
    /// assert_eq!((e.node.as_ref(), e.seq), ("n1", 7));
    /// assert!(auditrail_store::WireEvent::parse(&json[..40]).is_err());
    /// # Ok::<(), auditrail_store::RecordError>(())
    /// ```
    pub fn parse(json: &'a [u8]) -> Result<WireEvent<'a>, RecordError> {
        let fields: WireFields<'a> = serde_json::from_slice(json).map_err(RecordError::Identity)?;
        fields.check()
    }
}

/// One stored line read as a readable stored event (see the module's doc).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct StoredEvent<'a> {
    /// The event.
    pub event: WireEvent<'a>,
    /// The sender's address, when the event came through the HTTP ingest.
    pub orig_address: Option<IpAddr>,
    /// When the server received the event.
    pub server_timestamp: Timestamp,
    /// The id of the key that authenticated the request.
    pub key_id: Option<Cow<'a, str>>,
    /// The Kafka record the event was read from, if any.
    pub kafka: Option<KafkaOrigin>,
    /// The record's chain link (`None` in a store written with `chain = false`).
    pub link: Option<ChainLink>,
}

impl<'a> StoredEvent<'a> {
    /// Reads one stored line (without its `\n`); the error says why it is not a
    /// readable stored event.
    ///
    /// ```
    /// use auditrail_store::StoredEvent;
    /// let line = r#"{"clientEvent":{"id":"01936f6e-1b2c-7d3e-8f40-123456789abc","timestamp":"2026-11-25T16:55:49.123Z","topic":"generic","node":"n1","seq":7,"message":{"msgType":"login"}},"origAddress":"10.0.0.7","serverTimestamp":"2026-11-25T16:55:50.000Z","keyId":"k1"}"#;
    /// let s = StoredEvent::read(line.as_bytes())?;
    /// assert_eq!((s.event.seq, s.key_id.as_deref()), (7, Some("k1")));
    /// // A record all the same, but no event a query can show.
    /// let seq_text = line.replace(r#""seq":7"#, r#""seq":"7""#);
    /// assert!(StoredEvent::read(seq_text.as_bytes()).is_err());
    /// assert!(auditrail_store::Record::parse(seq_text.as_bytes()).is_ok());
    /// # Ok::<(), auditrail_store::RecordError>(())
    /// ```
    pub fn read(line: &'a [u8]) -> Result<StoredEvent<'a>, RecordError> {
        // Checked as UTF-8 once, as a whole (fast for ASCII), rather than string by
        // string by serde_json: `auditrail verify` reads every line of a store here.
        // A line that is not UTF-8 is no event (the server writes only UTF-8).
        let text = std::str::from_utf8(line).map_err(|e| {
            RecordError::Envelope(serde::de::Error::custom(format_args!("not UTF-8 ({e})")))
        })?;
        let (fields, parts) = read_envelope::<WireFields<'a>>(line, Some(text))?;
        Ok(StoredEvent {
            event: fields.check()?,
            orig_address: parts.orig_address,
            server_timestamp: parts.server_timestamp,
            key_id: parts.key_id,
            kafka: parts.kafka,
            link: parts.link,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use auditrail_core::{Event, Received};

    use super::*;
    use crate::chain::Chain;
    use crate::record::write_body;
    use crate::Record;

    const EVENT: &str = r#"{"id":"01936f6e-1b2c-7d3e-8f40-123456789abc","timestamp":"2026-11-25T16:55:49.123Z","topic":"generic","routingKey":"svc-a","node":"n1","seq":7,"message":{"msgType":"login","authUser":"alice"}}"#;
    const TAIL: &str =
        r#","origAddress":"10.0.0.7","serverTimestamp":"2026-11-25T16:55:50.000Z","keyId":"k1""#;

    fn sealed(body: &str) -> Vec<u8> {
        let mut line = Vec::new();
        Chain::genesis().seal(body.as_bytes(), &mut line);
        line.pop();
        line
    }

    #[test]
    fn a_written_record_reads_back_as_its_event() {
        let mut event = Event::from_json(EVENT).unwrap();
        event.received = Some(Arc::new(Received {
            orig_address: Some("::1".parse().unwrap()),
            key_id: Some("k1".into()),
            server_timestamp: "2026-11-25T16:56:00.001Z".parse().unwrap(),
            kafka: None,
        }));
        let mut body = Vec::new();
        write_body(&event, Timestamp::now(), &mut body);
        let line = sealed(std::str::from_utf8(&body).unwrap());
        let s = StoredEvent::read(&line).unwrap();
        let record = Record::parse(&line).unwrap();
        assert_eq!(s.link, record.link);
        assert_eq!(
            (s.event.id, s.event.id_text.as_ref()),
            (event.id, "01936f6e-1b2c-7d3e-8f40-123456789abc")
        );
        assert_eq!(s.event.timestamp, event.timestamp);
        assert_eq!(s.event.routing_key.as_deref(), Some("svc-a"));
        assert_eq!(s.event.message.get(), record.identity().unwrap().message);
        assert_eq!(s.server_timestamp, record.server_timestamp);
        assert_eq!(s.orig_address, record.orig_address);
    }

    /// What a reader of an older or newer version may have written, and what the
    /// query's reader always took: read.
    #[test]
    fn lenient_where_readers_always_were() {
        for body in [
            // Unknown fields in the event and the envelope, a null routing key.
            format!(
                r#"{{"clientEvent":{},"note":1{TAIL}}}"#,
                EVENT.replace(
                    r#""routingKey":"svc-a""#,
                    r#""routingKey":null,"severity":"info""#
                )
            ),
            // Escapes in strings; a message repeating a key, nested deep, half a
            // surrogate pair in one of its values.
            format!(
                r#"{{"clientEvent":{}{TAIL}}}"#,
                EVENT
                    .replace(r#""node":"n1""#, r#""node":"n\u0031""#)
                    .replace(
                        r#""authUser":"alice""#,
                        &format!(
                            r#""authUser":"a","authUser":"\ud800","n":{}1{}"#,
                            "[".repeat(100),
                            "]".repeat(100)
                        )
                    )
            ),
        ] {
            let s = StoredEvent::read(body.as_bytes()).unwrap_or_else(|e| panic!("{e}: {body}"));
            assert_eq!(s.event.seq, 7);
            assert!(s.link.is_none());
        }
    }

    #[test]
    fn a_record_without_the_events_fields_is_no_stored_event() {
        let cases: Vec<(&str, String)> = vec![
            (
                "no id",
                EVENT.replace(r#""id":"01936f6e-1b2c-7d3e-8f40-123456789abc","#, ""),
            ),
            (
                "id no UUID",
                EVENT.replace("01936f6e-1b2c-7d3e-8f40-123456789abc", "x"),
            ),
            ("seq a string", EVENT.replace(r#""seq":7"#, r#""seq":"7""#)),
            ("seq negative", EVENT.replace(r#""seq":7"#, r#""seq":-7"#)),
            (
                "seq twice",
                EVENT.replace(r#""seq":7"#, r#""seq":7,"seq":8"#),
            ),
            (
                "node a number",
                EVENT.replace(r#""node":"n1""#, r#""node":1"#),
            ),
            ("no topic", EVENT.replace(r#""topic":"generic","#, "")),
            (
                "timestamp no time",
                EVENT.replace("2026-11-25T16:55:49.123Z", "yesterday"),
            ),
            (
                "message an array",
                EVENT.replace(r#"{"msgType":"login","authUser":"alice"}"#, "[1]"),
            ),
            (
                "message a string",
                EVENT.replace(r#"{"msgType":"login","authUser":"alice"}"#, r#""m""#),
            ),
            (
                "abandonedSeqs first above last",
                EVENT.replace(
                    r#""seq":7"#,
                    r#""seq":7,"abandonedSeqs":{"first":5,"last":3}"#,
                ),
            ),
            (
                "half a surrogate pair in node",
                EVENT.replace(r#""node":"n1""#, r#""node":"\ud800""#),
            ),
        ];
        for (what, event) in cases {
            let body = format!(r#"{{"clientEvent":{event}{TAIL}"#);
            let line = sealed(&body);
            assert!(Record::parse(&line).is_ok(), "{what}: still a record");
            assert!(StoredEvent::read(&line).is_err(), "{what}: {body}");
        }
        let body = format!(r#"{{"clientEvent":{EVENT},"clientEvent":{EVENT}{TAIL}"#);
        assert!(
            StoredEvent::read(&sealed(&body)).is_err(),
            "clientEvent twice"
        );
        // A byte that is not UTF-8, in a field no reader looks at.
        let mut line = format!(r#"{{"clientEvent":{EVENT},"note":"x"{TAIL}}}"#).into_bytes();
        let at = line.iter().position(|&b| b == b'x').unwrap();
        line[at] = 0xff;
        let err = StoredEvent::read(&line).unwrap_err().to_string();
        assert!(err.contains("not UTF-8"), "{err}");
    }
}
