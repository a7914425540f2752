//! The look-alikes of a stream (`event: lookalikes`): values of the events it sent that
//! look like others of the same column (UTS #39, the rule of the report answers and
//! the CLI's tables, auditrail-query's `lookalikes`), said before the event that makes
//! them, so that the console's live tail shows `\u{49}ris` and `\u{6c}ris` as its
//! reports do. Before, the tail marked nothing: two users `Iris` and `lris` were two
//! rows that read alike.
//!
//! Over a window of the stream's newest events ([`WINDOW_EVENTS`], [`WINDOW_BYTES`] of
//! values), each stream its own: a value is compared with what this stream sent, not
//! with events its filters left out.

use auditrail_query::lookalikes::Running;
use axum::response::sse::Event;

use crate::recent::Entry;

/// The most events of a stream whose values the next are compared with: as many as the
/// live view keeps, more than the console's tail shows (500).
pub(super) const WINDOW_EVENTS: usize = crate::recent::RECENT_CAPACITY;

/// The most bytes of values those events hold: some 20 bytes for each of the six
/// columns of 1000 events; a stream holds some four times this (the values, their
/// groups and skeletons) whatever it is sent, and `max_streams` of them are open.
pub(super) const WINDOW_BYTES: usize = 128 << 10;

/// What a stream said of its look-alikes so far.
pub(super) struct StreamMarks(Running);

impl StreamMarks {
    pub(super) fn new() -> StreamMarks {
        StreamMarks(Running::new(WINDOW_EVENTS, WINDOW_BYTES))
    }

    /// The `lookalikes` message to send before `e`, when `e` makes values look alike
    /// (its own, and those of events sent before it): `data` is the list of marks,
    /// as a report answer's `lookalikes`.
    pub(super) fn before(&mut self, e: &Entry) -> Option<String> {
        let row: Vec<(&str, &str)> = e
            .columns
            .get(&e.raw)
            .iter()
            .map(|(column, value)| (*column, value.as_str()))
            .collect();
        let marks = self.0.add(&row);
        if marks.is_empty() {
            return None;
        }
        // A list of strings and integers: writing it cannot fail.
        serde_json::to_string(&marks).ok()
    }
}

/// The SSE message of `marks` (from [`StreamMarks::before`]).
pub(super) fn message(marks: &str) -> Event {
    Event::default().event("lookalikes").data(marks)
}
