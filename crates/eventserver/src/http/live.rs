//! The filters of the live endpoints (`/v1/recent`, `/v1/stream`): query parameters
//! parsed once into auditrail-query's [`EventFilter`], the conditions of `auditrail
//! query events`, matched by the same reader.

use serde::Deserialize;

use auditrail_core::Timestamp;
use auditrail_query::search::EventFilter;
use auditrail_query::{QueryError, Window};

use super::error::ApiError;
use super::params::{Params, ParamsRejection};
use super::AppState;
use crate::recent::RECENT_CAPACITY;

/// The query parameters. Unknown ones are refused (a misspelt filter would otherwise
/// answer every event). An empty value is the empty value (`user=` matches `authUser
/// ""`), as `auditrail query events --user ""` reads it: read as no condition, as an
/// HTML form's empty field is, `auditrail tail --user "$UNSET"` followed every user's
/// events under a filter that looked in force. (The console leaves out its empty
/// fields.) An empty `since`, `until` or `limit` is refused, as no time or count.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct LiveQuery {
    limit: Option<usize>,
    topic: Option<String>,
    #[serde(rename = "routingKey")]
    routing_key: Option<String>,
    node: Option<String>,
    user: Option<String>,
    #[serde(rename = "msgType")]
    msg_type: Option<String>,
    since: Option<String>,
    until: Option<String>,
}

/// What a live request asked for.
#[derive(Debug)]
pub(super) struct Live {
    /// `limit`, as given: at most [`RECENT_CAPACITY`].
    pub(super) limit: Option<usize>,
    /// Every other parameter.
    pub(super) filter: EventFilter,
}

/// Parses the query of a live endpoint; a bad one is a `400 bad_query` that says which
/// parameter and why (and is counted under `path`).
pub(super) fn parse(
    state: &AppState,
    path: &'static str,
    query: Result<Params<LiveQuery>, ParamsRejection>,
) -> Result<Live, ApiError> {
    let bad = |message: String| {
        state.metrics.request(path, 400);
        ApiError::bad_request("bad_query", message)
    };
    let Params(q) = query.map_err(|e| {
        bad(format!(
            "{e} (parameters: limit, topic, routingKey, node, user, msgType, since, until)"
        ))
    })?;
    // Refused, not cut to the bound: an answer cut in silence would pass for all the
    // kept events that match.
    if let Some(limit) = q.limit.filter(|l| *l > RECENT_CAPACITY) {
        return Err(bad(format!(
            "limit {limit}: at most {RECENT_CAPACITY}, the events the server keeps in \
             memory (older ones: GET /v1/query, auditrail query events)"
        )));
    }
    let window = window(q.since, q.until).map_err(|e| bad(e.to_string()))?;
    Ok(Live {
        limit: q.limit,
        filter: EventFilter {
            user: q.user,
            topic: q.topic,
            routing_key: q.routing_key,
            node: q.node,
            msg_type: q.msg_type,
            window,
        },
    })
}

/// The `since` and `until` query parameters as a time window, in the forms
/// `--since`/`--until` take; the error (the message of a `400 bad_query`) names the
/// parameter. An empty one is refused as no time (it was read as absent:
/// `since=$UNSET` answered all time). Shared by `/v1/recent`, `/v1/stream` and
/// `/v1/query`.
pub(super) fn window(since: Option<String>, until: Option<String>) -> Result<Window, WindowError> {
    let plus_as_space = [&since, &until]
        .into_iter()
        .flatten()
        .any(|v| offset_plus_read_as_space(v));
    Window::parse_named(
        ("since", since.as_deref()),
        ("until", until.as_deref()),
        Timestamp::now(),
    )
    .map_err(|source| {
        if plus_as_space {
            WindowError::PlusAsSpace { source }
        } else {
            WindowError::Refused(source)
        }
    })
}

/// A refused `since`/`until`.
#[derive(Debug, thiserror::Error)]
pub(super) enum WindowError {
    /// Not a time or a duration, as the parser says.
    #[error(transparent)]
    Refused(QueryError),
    /// The same, for a value whose offset's `+` arrived as a space: the docs' own
    /// example (`2026-11-29T11:00:00+01:00`) typed into a URL as shown. A query string
    /// is form-encoded, so its `+` is read as a space, and the refusal quoted a value
    /// the user never wrote, as if offsets were refused.
    #[error(
        "{source} (a `+` in a URL's query string is read as a space: send an offset's \
         `+` as %2B, `+01:00` as `%2B01:00`)"
    )]
    PlusAsSpace {
        /// The parser's refusal.
        source: QueryError,
    },
}

/// Whether `value` ends as a date-time whose offset's `+` was read as a space
/// (`2026-11-29T11:00:00 01:00`, `…:00.5 14:00`): digits, a space, then `HH:MM`.
fn offset_plus_read_as_space(value: &str) -> bool {
    let b = value.trim_end().as_bytes();
    let Some(at) = b.len().checked_sub(6) else {
        return false;
    };
    let digit = |i: usize| b.get(i).is_some_and(u8::is_ascii_digit);
    at > 0
        && digit(at - 1)
        && b[at] == b' '
        && digit(at + 1)
        && digit(at + 2)
        && b[at + 3] == b':'
        && digit(at + 4)
        && digit(at + 5)
}

/// Of `kept` (newest first, as [`crate::recent::Recent::newest`] gives them), the newest
/// `limit` that match `filter`, newest first. Without a condition every event matches
/// and none is read again (the kept bytes are one valid event each); with one, each is
/// read until `limit` matched: done after the view's lock is let go, off the async
/// workers (read_turn.rs).
pub(super) fn newest_matching(
    kept: Vec<crate::recent::Entry>,
    filter: &EventFilter,
    limit: usize,
) -> Vec<crate::recent::Entry> {
    if *filter == EventFilter::default() {
        let mut kept = kept;
        kept.truncate(limit);
        return kept;
    }
    kept.into_iter()
        .filter(|e| e.matches(filter))
        .take(limit)
        .collect()
}
