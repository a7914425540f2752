//! The JSON wire form of an [`Event`], written by hand: the one writer of it behind
//! [`Event::write_json`] (store records, file lines, spool records, request bodies,
//! Kafka payloads).
//!
//! It writes exactly what the derived `Serialize` of [`Event`] writes through
//! `serde_json` (a test holds the two together), faster: most of an event's fields
//! have character sets that need no JSON escaping (ids, timestamps, topics, node ids,
//! numbers), and a message read from JSON is its own text. `serde_json` scans every
//! byte of every key and string for characters to escape, and formats the timestamp
//! through chrono's generic formatter into a fresh `String`; together about four
//! fifths of writing an event.

use super::Event;

/// Appends `event`'s wire form to `out` (one line, no trailing newline).
pub(super) fn write_event(event: &Event, out: &mut Vec<u8>) {
    out.reserve(160);
    out.extend_from_slice(b"{\"id\":\"");
    out.extend_from_slice(&event.id.text());
    out.extend_from_slice(b"\",\"timestamp\":\"");
    event.timestamp.write_to(out);
    // Topics are `[a-z0-9._-]`: no escaping.
    out.extend_from_slice(b"\",\"topic\":\"");
    out.extend_from_slice(event.topic.as_str().as_bytes());
    out.push(b'"');
    if let Some(key) = &event.routing_key {
        // A routing key may hold `"` and any non-control character: serde_json escapes.
        out.extend_from_slice(b",\"routingKey\":");
        json(out, key.as_str());
    }
    // Node ids are `[A-Za-z0-9._-]`: no escaping.
    out.extend_from_slice(b",\"node\":\"");
    out.extend_from_slice(event.node.as_str().as_bytes());
    out.extend_from_slice(b"\",\"seq\":");
    out.extend_from_slice(itoa::Buffer::new().format(event.seq).as_bytes());
    if let Some(range) = &event.abandoned_seqs {
        out.extend_from_slice(b",\"abandonedSeqs\":");
        json(out, range);
    }
    out.extend_from_slice(b",\"message\":");
    match event.message.kept_text() {
        Some(text) => out.extend_from_slice(text.as_bytes()),
        None => json(out, &event.message),
    }
    out.push(b'}');
}

/// Appends `value` through `serde_json`.
fn json<T: serde::Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) {
    // Serializing validated strings, integers and a JSON map into a Vec cannot fail.
    let _ = serde_json::to_writer(out, value);
}

#[cfg(test)]
mod tests {
    use super::super::{EventDraft, NodeId, SeqRange, Timestamp};
    use super::*;
    use chrono::Datelike;
    use serde_json::json;

    /// Events of every shape: built in code and read from JSON, with and without the
    /// optional fields, with text that needs escaping wherever a field allows it.
    fn samples() -> Vec<Event> {
        let node = NodeId::new("node-1.a_B").unwrap();
        let mut events = vec![
            EventDraft::new("generic", "login")
                .complete(&node, || 1)
                .unwrap(),
            EventDraft::new("apinode-query", "q\"uote\\back\u{1}\u{7f}é€😀")
                .routing_key("svc \"a\" é€")
                .auth_user("ali\nce")
                .field(
                    "nested",
                    json!({"a": [1, -0.5, null, true, "x\ty"], "b": {}}),
                )
                .field("big", u64::MAX)
                .field("neg", i64::MIN)
                .field("float", 1.0e300)
                .complete(&node, || u64::MAX)
                .unwrap(),
        ];
        for text in [
            r#"{"id":"01936f6e-1b2c-7d3e-8f40-123456789abc","timestamp":"2020-02-29T23:59:59.999+01:00","topic":"my.app-topic_1","routingKey":"r\"k\u00e9","node":"other","seq":3,"abandonedSeqs":{"first":1,"last":2},"message":{"msgType":"x","n":123456789012345678901234567890,"z":-0,"e":1E2,"s":"\u00e9\n"}}"#,
            r#"{"id":"FFFFFFFF-FFFF-7FFF-BFFF-FFFFFFFFFFFF","timestamp":"0001-01-01T00:00:00Z","topic":"t","node":"n","seq":0,"message":{ "msgType" : "spaced" , "a" : [ 1 , 2 ] }}"#,
        ] {
            events.push(Event::from_json(text).unwrap());
        }
        let mut far = EventDraft::new("generic", "far-future")
            .complete(&node, || 9)
            .unwrap();
        far.timestamp = Timestamp::from_unix_millis(253_402_300_800_000).unwrap();
        far.abandoned_seqs = Some(SeqRange {
            first: 4,
            last: u64::MAX,
        });
        events.push(far);
        events
    }

    /// The hand-written form is the derived `Serialize`'s through `serde_json`, byte for
    /// byte, and reads back as the same event.
    #[test]
    fn writes_what_serde_writes() {
        for event in samples() {
            let mut written = Vec::new();
            event.write_json(&mut written);
            let serde = serde_json::to_vec(&event).unwrap();
            assert_eq!(
                String::from_utf8_lossy(&written),
                String::from_utf8_lossy(&serde)
            );
            if event.timestamp.as_datetime().year() <= 9999 {
                // RFC 3339 has four-digit years only: `+10000-…` is not read back.
                assert_eq!(Event::from_json_slice(&written).unwrap(), event);
            }
        }
    }

    #[test]
    fn appends_to_what_is_there() {
        let event = &samples()[0];
        let mut out = b"prefix ".to_vec();
        event.write_json(&mut out);
        assert_eq!(
            out,
            [b"prefix ".as_slice(), event.to_json().as_bytes()].concat()
        );
    }
}
