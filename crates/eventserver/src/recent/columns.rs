//! The text values of a kept event that the console's live tail shows in its columns,
//! for the look-alikes of `/v1/stream` (`http/stream/marks.rs`): read off the entry's
//! text once, by the first stream that sends it, and shared by the others (an entry is
//! handed to every follower). Reading each event once per follower slowed ingest
//! about six-fold at 100 followers (see `envelope_text`).

use std::sync::{Arc, OnceLock};

use serde_json::Value;

/// The columns, each the path of its value in a stream message's `data` (the envelope
/// of `/v1/recent`), as a report answer's marks name a column by its path in `report`;
/// and the path of the value in the event.
pub(crate) const COLUMNS: [(&str, &[&str]); 6] = [
    (".clientEvent.node", &["node"]),
    (".clientEvent.topic", &["topic"]),
    (".clientEvent.routingKey", &["routingKey"]),
    (".clientEvent.message.msgType", &["message", "msgType"]),
    (".clientEvent.message.authUser", &["message", "authUser"]),
    (".clientEvent.message.clientIP", &["message", "clientIP"]),
];

/// The longest value (bytes) taken: a longer one (a user name of a kilobyte) is in no
/// column here, so that an entry holds at most six such values beside its text, and a
/// stream's window of them stays small. The console shows a cell's first 200
/// characters.
pub(crate) const MAX_VALUE_BYTES: usize = auditrail_query::lookalikes::LONGEST_COMPARED;

/// An entry's column values, read when first asked for.
#[derive(Debug, Clone, Default)]
pub(crate) struct TailColumns(Arc<OnceLock<Vec<(&'static str, String)>>>);

impl TailColumns {
    /// The values of `raw` (the entry's event, or its stub) that are text, each with its
    /// column (of [`COLUMNS`]); a value that is no string (`"authUser": 42`), or is
    /// over [`MAX_VALUE_BYTES`], is in none.
    pub(crate) fn get(&self, raw: &[u8]) -> &[(&'static str, String)] {
        self.0.get_or_init(|| {
            let Ok(event) = serde_json::from_slice::<Value>(raw) else {
                return Vec::new();
            };
            COLUMNS
                .iter()
                .filter_map(|(column, path)| {
                    let value = path.iter().try_fold(&event, |v, name| v.get(name))?;
                    let text = value.as_str().filter(|t| t.len() <= MAX_VALUE_BYTES)?;
                    Some((*column, text.to_owned()))
                })
                .collect()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_text_values_of_the_tails_columns_are_read_once() {
        let long = "r".repeat(MAX_VALUE_BYTES + 1);
        let raw = format!(
            r#"{{"id":"x","topic":"generic","routingKey":"{long}","node":"n1","seq":1,"message":{{"msgType":"login","authUser":42,"clientIP":"10.0.0.1"}}}}"#
        );
        let raw = raw.as_bytes();
        let columns = TailColumns::default();
        let shared = columns.clone();
        assert_eq!(
            columns.get(raw),
            [
                (".clientEvent.node", "n1".to_owned()),
                (".clientEvent.topic", "generic".to_owned()),
                (".clientEvent.message.msgType", "login".to_owned()),
                (".clientEvent.message.clientIP", "10.0.0.1".to_owned()),
            ]
        );
        // Read once: another text is not read again.
        assert_eq!(shared.get(b"{}").len(), 4);
    }
}
