//! The line format: one JSON object per line, the event's wire form preceded by the
//! reference envelope's `severity` and `logger` keys.
//!
//! ```text
//! {"severity":"INFO","logger":"audit.generic","id":"…","timestamp":"…","topic":"generic","node":"n1","seq":7,"message":{"msgType":"login",…}}
//! ```
//!
//! The reference envelope is `{"severity","logger","message","mdc","callTime","timestamp"}`.
//! auditrail keeps `severity`, `logger`, `message` (the payload) and `timestamp` (the
//! event's time) with the same meaning, and replaces `mdc`/`callTime` by the event
//! fields (`id`, `topic`, `routingKey`, `node`, `seq`), so that a reader can strip the
//! two envelope keys and parse the rest as an [`Event`].
//!
//! An event an event server received (a `file` destination of `auditrail serve`) also
//! carries the server-side provenance its store's records carry, last, under the same
//! names: `origAddress` (the client's address, `null` when not known), `serverTimestamp`
//! (when the server received the batch), `keyId` (the key that authenticated the
//! client, `null` without one) and, for an event read from a Kafka source,
//! `source` (`{"kafka":{"topic","partition","offset"}}`). A node's own lines have none
//! of them.
//!
//! ```text
//! {"severity":"INFO","logger":"audit.generic","id":"…",…,"message":{…},"origAddress":"10.0.0.7","serverTimestamp":"2026-11-25T16:55:49.123Z","keyId":"k1"}
//! ```

use auditrail_core::Event;

/// Opening bytes of every line this crate writes (readers use them to find where a
/// line starts when a torn fragment precedes it).
pub const LINE_START: &[u8] = br#"{"severity":""#;
/// The severity written on every line.
pub const SEVERITY: &str = "INFO";

/// How logger names are built: `<prefix>[.<topic>]<suffix>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggerName {
    /// Default `audit` (the reference: `dku.audit`).
    pub prefix: String,
    /// Appended as is (the reference's `loggerSuffix`); default empty.
    pub suffix: String,
    /// Whether `.<topic>` follows the prefix (the reference's `appendTopicToLogger`).
    pub append_topic: bool,
}

impl LoggerName {
    /// The logger name of `event`.
    pub fn of(&self, event: &Event) -> String {
        let mut s = String::with_capacity(self.prefix.len() + self.suffix.len() + 24);
        self.push(event, &mut s);
        s
    }

    fn push(&self, event: &Event, out: &mut String) {
        out.push_str(&self.prefix);
        if self.append_topic {
            out.push('.');
            out.push_str(event.topic.as_str());
        }
        out.push_str(&self.suffix);
    }
}

/// Appends one line (with its `\n`) for `event` to `out`.
///
/// The prefix and suffix are validated to `[A-Za-z0-9._-]` and topics to
/// `[a-z0-9._-]`, so the logger name needs no JSON escaping.
pub fn encode_line(logger: &LoggerName, event: &Event, out: &mut Vec<u8>) {
    out.extend_from_slice(LINE_START);
    out.extend_from_slice(SEVERITY.as_bytes());
    out.extend_from_slice(br#"","logger":""#);
    out.extend_from_slice(logger.prefix.as_bytes());
    if logger.append_topic {
        out.push(b'.');
        out.extend_from_slice(event.topic.as_str().as_bytes());
    }
    out.extend_from_slice(logger.suffix.as_bytes());
    out.push(b'"');
    let start = out.len();
    event.write_json(out);
    // `write_json` wrote `{"id":…}`, and the envelope already opened the object: its
    // `{` becomes the `,` after the logger (overwritten in place, not shifted out).
    out[start] = b',';
    if let Some(received) = event.received.as_deref() {
        // An event server's destination: the provenance the store's records carry,
        // under their names, before the object's closing brace.
        out.pop();
        auditrail_core::write_provenance(Some(received), received.server_timestamp, out);
        out.push(b'}');
    }
    out.push(b'\n');
}

#[cfg(test)]
mod tests {
    use super::*;
    use auditrail_core::{EventDraft, NodeId};

    #[test]
    fn a_line_is_the_event_plus_severity_and_logger() {
        let event = EventDraft::new("authfail", "login-failed")
            .routing_key("svc-a")
            .complete(&NodeId::new("n1").unwrap(), || 3)
            .unwrap();
        let logger = LoggerName {
            prefix: "dku.audit".into(),
            suffix: ".x".into(),
            append_topic: true,
        };
        let mut out = Vec::new();
        encode_line(&logger, &event, &mut out);
        assert_eq!(out.last(), Some(&b'\n'));
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["logger"], "dku.audit.authfail.x");
        assert_eq!(v["severity"], "INFO");
        let mut expected: serde_json::Value = serde_json::from_str(&event.to_json()).unwrap();
        expected["logger"] = v["logger"].clone();
        expected["severity"] = v["severity"].clone();
        assert_eq!(v, expected);
        assert_eq!(logger.of(&event), "dku.audit.authfail.x");
        let no_topic = LoggerName {
            append_topic: false,
            ..logger
        };
        assert_eq!(no_topic.of(&event), "dku.audit.x");
    }
}
