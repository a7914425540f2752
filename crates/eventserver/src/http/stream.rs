//! `GET /v1/stream`: accepted events as they are accepted, as Server-Sent Events
//! (<https://html.spec.whatwg.org/multipage/server-sent-events.html>), with the filters
//! of `/v1/recent`.
//!
//! Each event is one SSE message (type `message`) whose data is the event in the
//! envelope of `/v1/recent`. A follower that falls more than
//! [`STREAM_BUFFER`](crate::recent::STREAM_BUFFER) events behind gets a `lagged`
//! message saying how many it missed, never a silent gap. The stream ends when the
//! server shuts down.

use std::convert::Infallible;
use std::sync::Arc;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::stream::{self, StreamExt};
use serde_json::json;
use tokio::sync::broadcast::error::RecvError;

use super::error::ApiError;
use super::live::{self, LiveQuery};
use super::params::{Params, ParamsRejection};
use super::read::check_stats_key;
use super::AppState;
use crate::auth::Credentials;
use crate::recent::{envelope, Entry, RECENT_CAPACITY};

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
    let filter = live.filter;
    let backlog_size = live.limit.unwrap_or(0).min(RECENT_CAPACITY);
    let (backlog, receiver) = state
        .recent
        .follow(backlog_size, |e| filter.matches_wire(&e.raw));
    let ending = state.recent.ending();
    state.metrics.request(PATH, 200);
    let backlog = stream::iter(backlog.into_iter().map(|e| Ok(message(&e))));
    let live = stream::unfold(
        (receiver, filter, ending),
        |(mut receiver, filter, mut ending)| async move {
            loop {
                let next = tokio::select! {
                    r = receiver.recv() => r,
                    // Shutdown: end the response so the connection can close.
                    _ = ending.wait_for(|end| *end) => return None,
                };
                match next {
                    Ok(e) if filter.matches_wire(&e.raw) => {
                        return Some((Ok(message(&e)), (receiver, filter, ending)))
                    }
                    Ok(_) => {}
                    Err(RecvError::Lagged(missed)) => {
                        let lagged = Event::default()
                            .event("lagged")
                            .data(json!({ "missed": missed }).to_string());
                        return Some((Ok(lagged), (receiver, filter, ending)));
                    }
                    Err(RecvError::Closed) => return None,
                }
            }
        },
    );
    let events = backlog.chain(live);
    Ok(Sse::new(events.map(|e: Result<Event, Infallible>| e))
        .keep_alive(KeepAlive::default())
        .into_response())
}

fn message(e: &Entry) -> Event {
    // An envelope always serializes (strings and raw JSON only).
    let data = serde_json::to_string(&envelope(e)).unwrap_or_default();
    Event::default().data(data)
}
