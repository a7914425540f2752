//! `GET /v1/stream`: accepted events as they are accepted, as Server-Sent Events
//! (<https://html.spec.whatwg.org/multipage/server-sent-events.html>), with the filters
//! of `/v1/recent`.
//!
//! Each event is one SSE message (type `message`) whose data is the event in the
//! envelope of `/v1/recent`. A follower that falls more than
//! [`STREAM_BUFFER`](crate::recent::STREAM_BUFFER) events behind gets a `lagged`
//! message saying how many it missed, never a silent gap. The stream ends when the
//! server shuts down, and at a reload (SIGHUP) after which its credentials would be
//! refused: a stream never finishes, so it cannot keep the keys it started with (a
//! revoked stats key would otherwise read every new event until a restart).
//!
//! Before an event whose values look like others of their column among the events the
//! stream sent (UTS #39), an `event: lookalikes` message says which and how to show
//! them ([`marks`]), as a report answer's `lookalikes` does.
//!
//! The backlog (`limit`) counts in `max_answer_memory_bytes` until it is sent
//! ([`backlog`]), and the window of events the look-alikes are found in for as long as
//! the stream runs ([`marks`]).
//!
//! At most `max_streams` streams are open at once; beyond, `503 too_many_streams`. A
//! stream is a request in progress for as long as it runs, so the idle timeouts never
//! close its connection: without this bound, followers (or one client opening streams
//! and never reading them) could hold every one of `max_connections`, and the nodes'
//! events would wait in the listen backlog until a stream ended.

use std::convert::Infallible;
use std::sync::Arc;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::stream::{self, StreamExt};
use serde_json::json;
use tokio::sync::broadcast::error::RecvError;

mod backlog;
mod marks;

use self::backlog::Backlog;
use self::marks::StreamMarks;
use super::error::ApiError;
use super::live::{self, LiveQuery};
use super::params::{Params, ParamsRejection};
use super::read::{check_stats_key, refusal};
use super::AppState;
use crate::auth::Credentials;
use crate::recent::{envelope_text, Entry};

const PATH: &str = "/v1/stream";

/// `GET /v1/stream?limit=N&topic=...`: the newest `limit` kept events that match
/// (default 0, oldest first), then every matching event accepted after them.
pub(super) async fn stream(
    State(state): State<Arc<AppState>>,
    credentials: Credentials,
    query: Result<Params<LiveQuery>, ParamsRejection>,
) -> Result<Response, ApiError> {
    check_stats_key(&state, &credentials, PATH)?;
    let live = live::parse(&state, PATH, query)?;
    let Ok(slot) = state.streams.clone().try_acquire_owned() else {
        state.metrics.request(PATH, 503);
        return Err(ApiError::unavailable(
            "too_many_streams",
            format!(
                "{} streams are open, the server's max_streams: retry later, or raise \
                 max_streams (each stream holds a connection of max_connections)",
                state.max_streams
            ),
            STREAMS_RETRY,
        ));
    };
    // Without a condition every event matches: it is not read again per follower (the
    // kept bytes are one valid event each), the usual case of a console's tail.
    let filter =
        (live.filter != auditrail_query::search::EventFilter::default()).then_some(live.filter);
    let backlog_size = live.limit.unwrap_or(0);
    let (kept, receiver) = state.recent.follow();
    // Picked (a filter reads each kept event) and written out off the async workers, in
    // the read answers' turn (read_turn.rs), after the view's lock was let go.
    let answers = state.queries.answers().clone();
    // Its look-alike window's first room, before the backlog's work: a full budget
    // refuses the stream without it.
    let mut marks = StreamMarks::new(&answers)
        .inspect_err(|e| state.metrics.request(PATH, e.status().as_u16()))?;
    let wanted = filter.clone().unwrap_or_default();
    let (backlog, marks) = state
        .read_turns
        .write("the stream's backlog", move || {
            let mut older = super::live::newest_matching(kept, &wanted, backlog_size);
            older.reverse();
            Backlog::hold(&answers, older, &mut marks).map(|backlog| (backlog, marks))
        })
        .await
        .and_then(|held| held)
        .inspect_err(|e| state.metrics.request(PATH, e.status().as_u16()))?;
    let ending = state.recent.ending();
    let mut reloads = state.access.watch();
    // A reload between the check above and here is looked at on the first turn.
    reloads.mark_changed();
    state.metrics.request(PATH, 200);
    let backlog = backlog.into_stream();
    let follower = Follower {
        receiver,
        filter,
        ending,
        reloads,
        credentials,
        marks,
        pending: None,
        ended: false,
        _slot: slot,
    };
    let live = stream::unfold(follower, |mut f| async move {
        if f.ended {
            return None;
        }
        if let Some(event) = f.pending.take() {
            return Some((Ok(event), f));
        }
        loop {
            let turn = tokio::select! {
                // In this order: an event accepted after a reload that refuses the
                // stream's credentials must not reach it.
                biased;
                // Shutdown: end the response so the connection can close.
                _ = f.ending.wait_for(|end| *end) => Turn::End("stopping", STOPPING.to_owned()),
                changed = f.reloads.changed() => {
                    // Err: the server's state is gone (it is stopping).
                    if changed.is_err() {
                        Turn::End("stopping", STOPPING.to_owned())
                    } else {
                        let access = f.reloads.borrow_and_update().clone();
                        match refusal(&access, &f.credentials, PATH) {
                            Some(why) => {
                                tracing::info!("a {PATH} ends: after the reload {why}");
                                Turn::End(
                                    "refused",
                                    format!("after a reload of the server's config, {why}"),
                                )
                            }
                            None => continue,
                        }
                    }
                }
                r = f.receiver.recv() => Turn::Next(r),
            };
            let next = match turn {
                Turn::End(reason, message) => return f.end(reason, &message),
                Turn::Next(r) => r,
            };
            match next {
                Ok(e) if f.filter.as_ref().is_none_or(|c| e.matches(c)) => {
                    let event = message(&e);
                    // The look-alikes it makes first: its row is drawn with them.
                    return match f.marks.before(&e) {
                        Some(said) => {
                            f.pending = Some(event);
                            Some((Ok(marks::message(&said)), f))
                        }
                        None => Some((Ok(event), f)),
                    };
                }
                Ok(_) => {}
                Err(RecvError::Lagged(missed)) => {
                    let lagged = Event::default()
                        .event("lagged")
                        .data(json!({ "missed": missed }).to_string());
                    return Some((Ok(lagged), f));
                }
                Err(RecvError::Closed) => return f.end("stopping", STOPPING),
            }
        }
    });
    let events = backlog.chain(live);
    Ok(Sse::new(events.map(|e: Result<Event, Infallible>| e))
        .keep_alive(KeepAlive::new().interval(state.stream_keep_alive))
        .into_response())
}

/// When a stream refused for `max_streams` may be asked for again.
const STREAMS_RETRY: std::time::Duration = std::time::Duration::from_secs(5);

/// What the `end` message says at a shutdown.
const STOPPING: &str = "the server is stopping";

/// What woke an open stream.
enum Turn {
    /// The stream ends: its `end` message's reason and text.
    End(&'static str, String),
    /// An event, or what the live view's channel said instead.
    Next(Result<Entry, RecvError>),
}

/// What an open stream holds between two events.
struct Follower {
    receiver: tokio::sync::broadcast::Receiver<Entry>,
    /// `None`: no condition, every event.
    filter: Option<auditrail_query::search::EventFilter>,
    ending: tokio::sync::watch::Receiver<bool>,
    /// The access rules, told of each reload.
    reloads: tokio::sync::watch::Receiver<Arc<crate::access::Access>>,
    /// What the stream was opened with, checked again at each reload.
    credentials: Credentials,
    /// The look-alikes said so far, of the backlog and the events since, and the room
    /// their window holds in `max_answer_memory_bytes` (given back with the follower).
    marks: StreamMarks,
    /// An event to send next: its look-alikes were just sent.
    pending: Option<Event>,
    /// The `end` message was sent: nothing follows it.
    ended: bool,
    /// The stream's place under `max_streams`, given back when the response (and so
    /// this follower) is dropped: the stream ended or its client went away.
    _slot: tokio::sync::OwnedSemaphorePermit,
}

impl Follower {
    /// The last message of a stream the server ends (`event: end`), saying why, so that
    /// a follower tells it from a broken connection.
    fn end(mut self, reason: &str, message: &str) -> Option<(Result<Event, Infallible>, Follower)> {
        self.ended = true;
        let end = Event::default()
            .event("end")
            .data(json!({ "reason": reason, "message": message }).to_string());
        Some((Ok(end), self))
    }
}

fn message(e: &Entry) -> Event {
    Event::default().data(envelope_text(e))
}
