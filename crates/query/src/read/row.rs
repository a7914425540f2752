//! One stored line taken apart into the table's fields, borrowing from the line.
//!
//! Two line formats: a store record (`{"clientEvent":{...},"origAddress",
//! "serverTimestamp","keyId","chainSeq","chainHash"}`, see docs/store.md) and an event
//! in its wire form (what a node's audit file holds once `severity`/`logger` are
//! stripped by auditrail-target-file's reader).
//!
//! The message is kept as the exact JSON text that was stored ([`RawValue`]): no
//! re-encoding, so big integers and key order stay as they are, and no recursion limit
//! applies to how deeply it nests (serde_json skips a raw value iteratively).
//!
//! A store record's envelope is read by the store's own reader ([`Record`]); this
//! module takes the event inside apart into the table's fields.

use std::borrow::Cow;
use std::fmt;

use auditrail_store::Record;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;

/// The fields of one event, as stored.
#[derive(Debug)]
pub(crate) struct Row<'a> {
    pub(crate) event: WireEvent<'a>,
    pub(crate) fields: MessageFields<'a>,
    pub(crate) envelope: Envelope<'a>,
}

/// The event's own fields (its wire form).
#[derive(Debug, Deserialize)]
pub(crate) struct WireEvent<'a> {
    #[serde(borrow)]
    pub(crate) id: Cow<'a, str>,
    #[serde(borrow)]
    pub(crate) timestamp: Cow<'a, str>,
    #[serde(borrow)]
    pub(crate) topic: Cow<'a, str>,
    #[serde(rename = "routingKey", borrow, default)]
    pub(crate) routing_key: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub(crate) node: Cow<'a, str>,
    pub(crate) seq: u64,
    #[serde(borrow)]
    pub(crate) message: &'a RawValue,
}

/// What the store added around the event (all `None` for a node's audit lines).
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

/// The row of a store record (read by the store's reader).
pub(crate) fn from_record<'a>(record: &Record<'a>) -> Result<Row<'a>, serde_json::Error> {
    let mut row = parse_event(record.client_event.get().as_bytes())?;
    row.envelope = Envelope {
        server_timestamp: Some(record.server_timestamp.unix_millis()),
        orig_address: record.orig_address.map(|a| a.to_string()),
        key_id: record.key_id.clone(),
        chain_seq: record.link.map(|l| l.seq),
    };
    Ok(row)
}

/// An event in its wire form.
pub(crate) fn parse_event(json: &[u8]) -> Result<Row<'_>, serde_json::Error> {
    let event: WireEvent<'_> = serde_json::from_slice(json)?;
    let fields = message_fields(event.message)?;
    Ok(Row {
        event,
        fields,
        envelope: Envelope::default(),
    })
}

fn message_fields(message: &RawValue) -> Result<MessageFields<'_>, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_str(message.get());
    // Hand-written visitor rather than a derive: a message may repeat a key (the first
    // one wins here, as everywhere else in auditrail that reads a message), and a
    // non-string value of a known key is no error (it is simply not that column).
    de.deserialize_map(FieldsVisitor)
}

struct FieldsVisitor;

impl<'de> Visitor<'de> for FieldsVisitor {
    type Value = MessageFields<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out = MessageFields::default();
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            let slot = match key.as_ref() {
                "msgType" => &mut out.msg_type,
                "authUser" => &mut out.auth_user,
                "authSource" => &mut out.auth_source,
                "clientIP" => &mut out.client_ip,
                "callPath" => &mut out.call_path,
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

/// A string, or `None` for any other JSON value (skipped without building it).
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
            Err(_) => Cow::Owned(serde_json::from_str::<String>(text).map_err(de::Error::custom)?),
        };
        Ok(MaybeStr(Some(value)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RECORD: &str = r#"{"clientEvent":{"id":"01936f6e-1b2c-7d3e-8f40-123456789abc","timestamp":"2026-11-25T16:55:49.123Z","topic":"generic","routingKey":"svc-a","node":"n1","seq":7,"message":{"msgType":"login","authUser":"al\"ice","n":123456789012345678901234567890,"clientIP":5}},"origAddress":"10.0.0.7","serverTimestamp":"2026-11-25T16:55:50.000Z","keyId":"k1","chainSeq":42,"chainHash":"0000000000000000000000000000000000000000000000000000000000000000"}"#;

    fn row(line: &str) -> Result<(), String> {
        let record = Record::parse(line.as_bytes()).map_err(|e| e.to_string())?;
        from_record(&record).map(|_| ()).map_err(|e| e.to_string())
    }

    #[test]
    fn a_record_gives_event_envelope_and_message_fields() {
        let record = Record::parse(RECORD.as_bytes()).unwrap();
        let row = from_record(&record).unwrap();
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
        let record = Record::parse(deep.as_bytes()).unwrap();
        let row = from_record(&record).unwrap();
        assert_eq!(row.fields.auth_user.as_deref(), Some("a"));
    }

    #[test]
    fn a_number_beyond_a_double_in_a_message_field_is_no_error() {
        let line = RECORD
            .replace(r#""authUser":"al\"ice""#, r#""authUser":1e400"#)
            .replace(r#""n":123456789012345678901234567890"#, r#""n":-1e400"#);
        assert!(line.contains("1e400"), "{line}");
        let record = Record::parse(line.as_bytes()).unwrap();
        let row = from_record(&record).unwrap();
        assert_eq!(row.fields.msg_type.as_deref(), Some("login"));
        assert_eq!(row.fields.auth_user, None, "a number is not an authUser");
        assert!(row.event.message.get().contains(r#""authUser":1e400"#));
    }

    #[test]
    fn torn_and_foreign_lines_are_not_rows() {
        assert!(row(&RECORD[..50]).is_err());
        assert!(row(r#"{"storeId":"s","seq":3}"#).is_err());
        assert!(row(RECORD).is_ok());
    }
}
