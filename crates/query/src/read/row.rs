//! One stored line taken apart into the table's fields, borrowing from the line.
//!
//! Two line formats: a store record (`{"clientEvent":{...},"origAddress",
//! "serverTimestamp","keyId","chainSeq","chainHash"}`, see docs/store.md) and an event
//! in its wire form (what a node's audit file holds once `severity`/`logger` are
//! stripped by auditrail-target-file's reader), with the provenance that reader found
//! on the line (an event server's `file` destination writes the store's `origAddress`,
//! `serverTimestamp` and `keyId` on each line; a node's own audit lines have none).
//!
//! The message is kept as the exact JSON text that was stored ([`RawValue`]): no
//! re-encoding, so big integers and key order stay as they are, and no recursion limit
//! applies to how deeply it nests (serde_json skips a raw value iteratively).
//!
//! A store record's envelope is read by the store's own reader ([`Record`]); this
//! module takes the event inside apart into the table's fields.

use std::borrow::Cow;
use std::fmt;

use auditrail_core::Received;
use auditrail_store::{RecordError, StoredEvent, WireEvent};
use serde::de::{Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;

/// The fields of one event, as stored.
#[derive(Debug)]
pub(crate) struct Row<'a> {
    pub(crate) event: WireEvent<'a>,
    pub(crate) fields: MessageFields<'a>,
    pub(crate) envelope: Envelope<'a>,
}

/// What the server added around the event: a store record's envelope, or the
/// provenance on an event server's `file` destination line (no `chainSeq` there); all
/// `None` for a node's own audit lines.
#[derive(Debug, Default)]
pub(crate) struct Envelope<'a> {
    /// Milliseconds since the epoch.
    pub(crate) server_timestamp: Option<i64>,
    pub(crate) orig_address: Option<String>,
    pub(crate) key_id: Option<Cow<'a, str>>,
    pub(crate) chain_seq: Option<u64>,
}

/// The message keys that are columns of their own. A key that is not a string (or is
/// missing) is `None`: the whole message is still there in the `message` column.
#[derive(Debug, Default)]
pub(crate) struct MessageFields<'a> {
    pub(crate) msg_type: Option<Cow<'a, str>>,
    pub(crate) auth_user: Option<Cow<'a, str>>,
    pub(crate) auth_source: Option<Cow<'a, str>>,
    pub(crate) client_ip: Option<Cow<'a, str>>,
    pub(crate) call_path: Option<Cow<'a, str>>,
}

/// The row of a stored line, read by the store's reader: whether a line is an event
/// at all is its judgment ([`StoredEvent::read`]), the one `auditrail verify` makes
/// too, so that every line a query leaves out is one verify names.
pub(crate) fn from_line(line: &[u8]) -> Result<Row<'_>, RecordError> {
    let stored = StoredEvent::read(line)?;
    Ok(Row {
        fields: message_fields(stored.event.message),
        envelope: Envelope {
            server_timestamp: Some(stored.server_timestamp.unix_millis()),
            orig_address: stored.orig_address.map(|a| a.to_string()),
            key_id: stored.key_id,
            chain_seq: stored.link.map(|l| l.seq),
        },
        event: stored.event,
    })
}

/// An event in its wire form, read by the store's reader of the event's fields.
pub(crate) fn parse_event(json: &[u8]) -> Result<Row<'_>, RecordError> {
    let event = WireEvent::parse(json)?;
    Ok(Row {
        fields: message_fields(event.message),
        event,
        envelope: Envelope::default(),
    })
}

/// An audit file's event in its wire form (`json`) and the server's provenance its
/// line carried (`received`, as auditrail-target-file's reader took it from the line:
/// `None` for a node's own audit lines), as one row: the provenance fills the columns
/// a store record's envelope fills, under the same names and values.
pub(crate) fn parse_audit_event<'a>(
    json: &'a [u8],
    received: Option<&'a Received>,
) -> Result<Row<'a>, RecordError> {
    let mut row = parse_event(json)?;
    if let Some(r) = received {
        row.envelope = Envelope {
            server_timestamp: Some(r.server_timestamp.unix_millis()),
            orig_address: r.orig_address.map(|a| a.to_string()),
            key_id: r.key_id.as_deref().map(Cow::Borrowed),
            // Only a store chains its records.
            chain_seq: None,
        };
    }
    Ok(row)
}

/// The message's columns. Never fails for a message the store's reader took (a JSON
/// object, already checked as JSON): a line is left out of queries by that reader's
/// judgment alone, which verify shares. Keys are read as bytes and a string that does
/// not decode (half a surrogate pair, which serde_json skips in a raw value but refuses
/// as a string) is no column, so that no object is refused here.
fn message_fields(message: &RawValue) -> MessageFields<'_> {
    let mut de = serde_json::Deserializer::from_str(message.get());
    // Hand-written visitor rather than a derive: a message may repeat a key (the first
    // one wins here, as everywhere else in auditrail that reads a message), and a
    // non-string value of a known key is no error (it is simply not that column).
    de.deserialize_map(FieldsVisitor).unwrap_or_default()
}

struct FieldsVisitor;

impl<'de> Visitor<'de> for FieldsVisitor {
    type Value = MessageFields<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out = MessageFields::default();
        while let Some(key) = map.next_key::<KeyBytes<'de>>()? {
            let slot = match key.0.as_ref() {
                b"msgType" => &mut out.msg_type,
                b"authUser" => &mut out.auth_user,
                b"authSource" => &mut out.auth_source,
                b"clientIP" => &mut out.client_ip,
                b"callPath" => &mut out.call_path,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                    continue;
                }
            };
            let value = map.next_value::<MaybeStr<'de>>()?.0;
            if slot.is_none() {
                *slot = value;
            }
        }
        Ok(out)
    }
}

/// An object key, unescaped, as bytes: serde_json reads a key as bytes without
/// refusing half a surrogate pair (such a key is no column's).
struct KeyBytes<'a>(Cow<'a, [u8]>);

impl<'de> Deserialize<'de> for KeyBytes<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = KeyBytes<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object key")
            }
            fn visit_borrowed_bytes<E>(self, v: &'de [u8]) -> Result<Self::Value, E> {
                Ok(KeyBytes(Cow::Borrowed(v)))
            }
            fn visit_bytes<E>(self, v: &[u8]) -> Result<Self::Value, E> {
                Ok(KeyBytes(Cow::Owned(v.to_vec())))
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(KeyBytes(Cow::Borrowed(v.as_bytes())))
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(KeyBytes(Cow::Owned(v.as_bytes().to_vec())))
            }
        }
        d.deserialize_bytes(V)
    }
}

/// A string, or `None` for any other JSON value (skipped without building it), and for
/// a string that does not decode (half a surrogate pair).
struct MaybeStr<'a>(Option<Cow<'a, str>>);

impl<'de> Deserialize<'de> for MaybeStr<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // Taken as its raw text, never as a number: serde_json refuses a number beyond
        // a double (`1e400`, valid JSON, stored as sent), and the whole row with it
        // (the event was left out of every query, unsaid).
        let raw = <&'de RawValue>::deserialize(d)?;
        let text = raw.get();
        if !text.starts_with('"') {
            return Ok(MaybeStr(None));
        }
        // Borrowed when the string holds no escape; decoded otherwise.
        let value = match serde_json::from_str::<&'de str>(text) {
            Ok(s) => Cow::Borrowed(s),
            Err(_) => match serde_json::from_str::<String>(text) {
                Ok(s) => Cow::Owned(s),
                Err(_) => return Ok(MaybeStr(None)),
            },
        };
        Ok(MaybeStr(Some(value)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RECORD: &str = r#"{"clientEvent":{"id":"01936f6e-1b2c-7d3e-8f40-123456789abc","timestamp":"2026-11-25T16:55:49.123Z","topic":"generic","routingKey":"svc-a","node":"n1","seq":7,"message":{"msgType":"login","authUser":"al\"ice","n":123456789012345678901234567890,"clientIP":5}},"origAddress":"10.0.0.7","serverTimestamp":"2026-11-25T16:55:50.000Z","keyId":"k1","chainSeq":42,"chainHash":"0000000000000000000000000000000000000000000000000000000000000000"}"#;

    fn row(line: &str) -> Result<(), String> {
        from_line(line.as_bytes())
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    #[test]
    fn a_record_gives_event_envelope_and_message_fields() {
        let row = from_line(RECORD.as_bytes()).unwrap();
        assert_eq!(row.event.node, "n1");
        assert_eq!(row.event.routing_key.as_deref(), Some("svc-a"));
        assert_eq!(row.fields.msg_type.as_deref(), Some("login"));
        assert_eq!(row.fields.auth_user.as_deref(), Some("al\"ice"));
        assert_eq!(
            row.fields.client_ip, None,
            "a number is not a clientIP string"
        );
        assert!(row
            .event
            .message
            .get()
            .contains("123456789012345678901234567890"));
        assert_eq!(row.envelope.chain_seq, Some(42));
        assert_eq!(row.envelope.key_id.as_deref(), Some("k1"));
        assert_eq!(row.envelope.orig_address.as_deref(), Some("10.0.0.7"));
    }

    #[test]
    fn deep_nesting_and_repeated_keys_are_read() {
        let deep = format!(
            r#"{{"clientEvent":{{"id":"01936f6e-1b2c-7d3e-8f40-123456789abc","timestamp":"2026-11-25T16:55:49.123Z","topic":"generic","node":"n1","seq":1,"message":{{"msgType":"login","authUser":"a","authUser":"b","n":{}0{}}}}},"serverTimestamp":"2026-11-25T16:55:50.000Z"}}"#,
            "[".repeat(200),
            "]".repeat(200)
        );
        let row = from_line(deep.as_bytes()).unwrap();
        assert_eq!(row.fields.auth_user.as_deref(), Some("a"));
    }

    #[test]
    fn a_number_beyond_a_double_in_a_message_field_is_no_error() {
        let line = RECORD
            .replace(r#""authUser":"al\"ice""#, r#""authUser":1e400"#)
            .replace(r#""n":123456789012345678901234567890"#, r#""n":-1e400"#);
        assert!(line.contains("1e400"), "{line}");
        let row = from_line(line.as_bytes()).unwrap();
        assert_eq!(row.fields.msg_type.as_deref(), Some("login"));
        assert_eq!(row.fields.auth_user, None, "a number is not an authUser");
        assert!(row.event.message.get().contains(r#""authUser":1e400"#));
    }

    /// A stored message is skipped by serde_json as a raw value, which takes half a
    /// surrogate pair; the columns taken from it must not refuse what the store's reader
    /// took, or the event would be left out of queries with verify passing it.
    #[test]
    fn half_a_surrogate_pair_in_a_message_is_no_column_not_a_lost_row() {
        let line = RECORD
            .replace(r#""authUser":"al\"ice""#, r#""authUser":"\ud800""#)
            .replace(r#""n":"#, r#""\udc00":1,"n":"#);
        assert!(line.contains(r#"\udc00"#), "{line}");
        let row = from_line(line.as_bytes()).unwrap();
        assert_eq!(row.fields.auth_user, None);
        assert_eq!(row.fields.msg_type.as_deref(), Some("login"));
    }

    #[test]
    fn torn_and_foreign_lines_are_not_rows() {
        assert!(row(&RECORD[..50]).is_err());
        assert!(row(r#"{"storeId":"s","seq":3}"#).is_err());
        assert!(row(RECORD).is_ok());
    }
}
