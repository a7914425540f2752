//! The look-alikes of a stream (`event: lookalikes`): values of the events it sent that
//! look like others of the same column (UTS #39, the rule of the report answers and
//! the CLI's tables, auditrail-query's `lookalikes`), said before the event that makes
//! them, so that the console's live tail shows `\u{49}ris` and `\u{6c}ris` as its
//! reports do. Before, the tail marked nothing: two users `Iris` and `lris` were two
//! rows that read alike.
//!
//! Over a window of the stream's newest events ([`WINDOW_EVENTS`], at most
//! [`WINDOW_BYTES`] held), each stream its own: a value is compared with what this
//! stream sent, not with events its filters left out.
//!
//! The window is held for as long as the stream runs, so it counts in the answers held
//! until read (`max_answer_memory_bytes`, `query/held.rs`): [`GROWTH`] when the stream
//! opens (`503 answer_memory` when the answers held leave no room for it), and more,
//! [`GROWTH`] at a time, as it fills; when the budget has no more, the window keeps to
//! the room it has (the oldest events leave it sooner: the next are compared with
//! fewer). All of it is given back when the stream ends. Before, a window (up to some
//! 3 MB) was counted nowhere, and a client opening `max_streams` streams held hundreds
//! of megabytes past the bound the operator set.

use auditrail_query::lookalikes::Running;
use axum::response::sse::Event;

use crate::http::error::ApiError;
use crate::http::query::held::{AnswerBudget, Room};
use crate::recent::Entry;

/// The most events of a stream whose values the next are compared with: as many as the
/// live view keeps, more than the console's tail shows (500).
pub(super) const WINDOW_EVENTS: usize = crate::recent::RECENT_CAPACITY;

/// The most bytes a stream's window holds ([`Running::held_bytes`], counted from
/// above): 1000 events whose six values are short and repeat (a few nodes, topics and
/// types, users and addresses seen again) take some hundreds of KB; events whose six
/// values are all distinct fill it at some 500 events. `max_streams` of them are open.
pub(super) const WINDOW_BYTES: usize = 16 * GROWTH;

/// The room a window takes at a time in `max_answer_memory_bytes`: counted when the
/// stream opens and each time the window outgrows what it has. More than one event's
/// values can hold (six values of at most 256 bytes, marked whole: some 33 KB), so
/// that the window always holds the newest event.
pub(super) const GROWTH: usize = 64 << 10;

/// What a stream said of its look-alikes so far, and the room its window is counted in.
pub(super) struct StreamMarks {
    window: Running,
    budget: AnswerBudget,
    room: Room,
}

impl StreamMarks {
    /// A stream's marks, its window's first room counted in `budget`, or refused:
    /// `503 answer_memory` when the answers held leave no room, `400 query_failed`
    /// when the whole budget is smaller.
    pub(super) fn new(budget: &AnswerBudget) -> Result<StreamMarks, ApiError> {
        let room = budget.room_for(
            &format!("the stream's look-alike window needs {GROWTH} bytes"),
            GROWTH,
        )?;
        Ok(StreamMarks {
            window: Running::new(WINDOW_EVENTS, WINDOW_BYTES),
            budget: budget.clone(),
            room,
        })
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
        let marks = self.window.add(&row);
        self.keep_to_room();
        if marks.is_empty() {
            return None;
        }
        // A list of strings and integers: writing it cannot fail.
        serde_json::to_string(&marks).ok()
    }

    /// Counts what the window outgrew in the budget, [`GROWTH`] at a time, or, when
    /// the budget has no more, takes its oldest events out until it fits the room it
    /// has (which holds the newest event whatever its size: [`GROWTH`]).
    fn keep_to_room(&mut self) {
        let held = self.window.held_bytes();
        let have = self.room.bytes();
        if held <= have {
            return;
        }
        let more = (held - have).div_ceil(GROWTH) * GROWTH;
        if !self.budget.try_grow(&mut self.room, more) {
            self.window.shrink_to(have);
        }
    }
}

/// The SSE message of `marks` (from [`StreamMarks::before`]).
pub(super) fn message(marks: &str) -> Event {
    Event::default().event("lookalikes").data(marks)
}
