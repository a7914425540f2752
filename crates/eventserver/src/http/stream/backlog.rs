//! A stream's backlog (`limit`: up to 1000 kept events of up to 16 KiB, some 16 MB),
//! counted in the answers held until read (`max_answer_memory_bytes`, `query/held.rs`)
//! until each of its events is handed to the connection.
//!
//! The backlog is taken when the stream opens, but sent only as fast as its client
//! reads: a client that opens a stream with `limit=1000` and never reads kept its
//! backlog's events alive (the view moves on, the backlog's copies stay) for as long as
//! its connection lived, uncounted, and `max_streams` (128 by default) such streams some
//! 2 GB. So the backlog is written out when the stream opens (its events as sent, in
//! their envelope) and counted; one that does not fit beside the answers held is `503
//! answer_memory`, as a `/v1/recent` answer of the same events is. The live events that
//! follow are not counted here: they wait in the one buffer all followers share
//! (`recent::STREAM_BUFFER` events, whatever the number of followers), and a follower
//! that falls that far behind is told how many it missed (`lagged`).

use std::convert::Infallible;

use axum::response::sse::Event;
use futures_util::stream::{self, Stream};

use super::marks::{self, StreamMarks};
use crate::http::error::ApiError;
use crate::http::query::held::{AnswerBudget, Room, Smaller};
use crate::recent::{envelope_text, Entry};

/// The backlog's messages, written out, and the room they take.
pub(super) struct Backlog {
    texts: std::vec::IntoIter<Message>,
    room: Room,
}

/// One message of the backlog, its `data` written out.
enum Message {
    /// An event, in its envelope.
    Event(String),
    /// The look-alikes the next event makes (`event: lookalikes`).
    Marks(String),
}

impl Message {
    fn text(&self) -> &str {
        match self {
            Message::Event(t) | Message::Marks(t) => t,
        }
    }
}

impl Backlog {
    /// `entries` (oldest first) written out, each after the look-alikes it makes
    /// (`marks`, the stream's, which goes on with the events that follow), and counted
    /// in `budget`, or refused as an answer of their size is ([`AnswerBudget::room`]).
    pub(super) fn hold(
        budget: &AnswerBudget,
        entries: Vec<Entry>,
        marks: &mut StreamMarks,
    ) -> Result<Backlog, ApiError> {
        let mut texts = Vec::with_capacity(entries.len());
        for e in &entries {
            if let Some(said) = marks.before(e) {
                texts.push(Message::Marks(said));
            }
            texts.push(Message::Event(envelope_text(e)));
        }
        // The view's entries are the view's again; what this stream holds is its texts.
        drop(entries);
        let room = budget.room(
            texts.iter().map(|m| m.text().len()).sum(),
            Smaller::Ask("ask a shorter backlog (a smaller limit)"),
        )?;
        Ok(Backlog {
            texts: texts.into_iter(),
            room,
        })
    }

    /// One message per event (and per look-alikes said); each one's room is given back
    /// as it is handed on (the connection takes the next only once it has sent what it
    /// has), and the rest when the stream is dropped (its client went away).
    pub(super) fn into_stream(self) -> impl Stream<Item = Result<Event, Infallible>> {
        stream::unfold(self, |mut backlog| async move {
            let next = backlog.texts.next()?;
            let message = match &next {
                Message::Event(text) => Event::default().data(text),
                Message::Marks(text) => marks::message(text),
            };
            backlog.room.give_back(next.text().len());
            Some((Ok(message), backlog))
        })
    }
}
