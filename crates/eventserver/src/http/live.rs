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

/// The query parameters. Unknown ones are refused (a misspelt filter would otherwise
/// answer every event); an empty value is no condition (what an HTML form sends for an
/// empty field).
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
    /// `limit`, as given.
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
    let given = |v: Option<String>| v.filter(|s| !s.is_empty());
    let window = window(q.since, q.until).map_err(|e| bad(e.to_string()))?;
    Ok(Live {
        limit: q.limit,
        filter: EventFilter {
            user: given(q.user),
            topic: given(q.topic),
            routing_key: given(q.routing_key),
            node: given(q.node),
            msg_type: given(q.msg_type),
            window,
        },
    })
}

/// The `since` and `until` query parameters (an empty one is absent) as a time window,
/// in the forms `--since`/`--until` take; the error names the parameter. Shared by
/// `/v1/recent`, `/v1/stream` and `/v1/query`.
pub(super) fn window(since: Option<String>, until: Option<String>) -> Result<Window, QueryError> {
    let given = |v: Option<String>| v.filter(|s| !s.is_empty());
    let (since, until) = (given(since), given(until));
    Window::parse_named(
        ("since", since.as_deref()),
        ("until", until.as_deref()),
        Timestamp::now(),
    )
}
