//! The look-alikes a stream says (`event: lookalikes`, docs/protocol.md `GET
//! /v1/stream`: values of a column that look like others of it, UTS #39, by the rule
//! of the CLI's tables and the console's tail), as `tail` shows them.
//!
//! The console's tail marks each value in its cells, the rows drawn before the mark
//! came too (`Iris`, then `lris`: both shown `\u{49}ris`, `\u{6c}ris`). A terminal's
//! lines cannot be drawn again, so the text output says each message on a line of its
//! own, before the event that made it, naming the values as they are shown from then
//! on (`# look-alike authUser: \u{49}ris \u{6c}ris`), and marks them in every line
//! after; `ndjson` gives the message as a line of its own (`{"lookalikes":[...]}`).
//! Before, `tail` skipped the messages: its text showed `Iris` and `lris` as two users
//! that read alike.

use std::collections::{BTreeSet, HashMap, VecDeque};

use serde::Deserialize;

use super::super::shown;

/// The stream's columns a text line shows, each with its word's name (the server's
/// `.clientEvent.message.clientIP` is in none: its marks are for the `ndjson` output
/// and the console).
pub(super) const LINE_COLUMNS: [(&str, &str); 5] = [
    (".clientEvent.node", "node"),
    (".clientEvent.topic", "topic"),
    (".clientEvent.routingKey", "routingKey"),
    (".clientEvent.message.msgType", "msgType"),
    (".clientEvent.message.authUser", "authUser"),
];

/// The most values whose marks are kept: some more than the server's window holds
/// (1000 events of six values); the oldest marked goes first.
const MAX_MARKED: usize = 10_000;

/// One mark of a `lookalikes` message.
#[derive(Debug, Deserialize)]
pub(super) struct Mark {
    column: String,
    value: String,
    escaped: Vec<usize>,
}

/// The `data` of a `lookalikes` message, a list of marks; `None` when it is none.
pub(super) fn parse(data: &str) -> Option<Vec<Mark>> {
    serde_json::from_str(data).ok()
}

/// The marks said so far: column → value → the indexes of its characters to show
/// escaped, for at most [`MAX_MARKED`] values.
#[derive(Debug, Default)]
pub(super) struct TailMarks {
    by_column: HashMap<String, HashMap<String, BTreeSet<usize>>>,
    /// The values marked, oldest first, to forget the oldest.
    order: VecDeque<(String, String)>,
}

impl TailMarks {
    /// Adds `marks` (a message's); gives the lines that say them, one per column of
    /// the text line they name, in the order of first mention: `# look-alike
    /// authUser: \u{49}ris \u{6c}ris`, each value one word as the event lines show it
    /// from now on.
    pub(super) fn add(&mut self, marks: &[Mark]) -> Vec<String> {
        // Per column of the line: its path, its word, the values named.
        let mut said: Vec<(&str, &str, Vec<&str>)> = Vec::new();
        for m in marks {
            let values = self.by_column.entry(m.column.clone()).or_default();
            let escaped = values.entry(m.value.clone()).or_insert_with(|| {
                self.order.push_back((m.column.clone(), m.value.clone()));
                BTreeSet::new()
            });
            escaped.extend(m.escaped.iter().copied());
            let Some(&(column, word)) = LINE_COLUMNS.iter().find(|(c, _)| *c == m.column) else {
                continue;
            };
            match said.iter_mut().find(|(c, _, _)| *c == column) {
                Some((_, _, values)) => values.push(m.value.as_str()),
                None => said.push((column, word, vec![m.value.as_str()])),
            }
        }
        let lines = said
            .iter()
            .map(|(column, word, values)| {
                let shown: Vec<String> = values.iter().map(|v| self.shown(column, v)).collect();
                format!("# look-alike {word}: {}", shown.join(" "))
            })
            .collect();
        while self.order.len() > MAX_MARKED {
            if let Some((column, value)) = self.order.pop_front() {
                if let Some(values) = self.by_column.get_mut(&column) {
                    values.remove(&value);
                }
            }
        }
        lines
    }

    /// The string `value` of `column` as one word of a text line, marked.
    fn shown(&self, column: &str, value: &str) -> String {
        let raw = serde_json::to_string(value).unwrap_or_default();
        shown::line_value_marked(Some(&raw), &self.escaped(column, value))
    }

    /// The indexes of `value`'s characters to show escaped in `column`, in order.
    pub(super) fn escaped(&self, column: &str, value: &str) -> Vec<usize> {
        self.by_column
            .get(column)
            .and_then(|values| values.get(value))
            .map(|set| set.iter().copied().collect())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn marks_are_said_per_column_and_kept_for_the_lines_after() {
        let mut marks = TailMarks::default();
        let said = marks.add(
            &parse(
                r#"[{"column":".clientEvent.message.authUser","value":"Iris","escaped":[0]},
                    {"column":".clientEvent.message.clientIP","value":"1O.0.0.1","escaped":[1]},
                    {"column":".clientEvent.message.authUser","value":"lris","escaped":[0]}]"#,
            )
            .unwrap(),
        );
        assert_eq!(said, [r"# look-alike authUser: \u{49}ris \u{6c}ris"]);
        assert_eq!(marks.escaped(".clientEvent.message.authUser", "lris"), [0]);
        assert!(marks.escaped(".clientEvent.node", "lris").is_empty());
        assert!(parse(r#"{"a":1}"#).is_none());
    }
}
