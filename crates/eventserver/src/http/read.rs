//! The read endpoints: live view, statistics, metrics, health.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use auditrail_core::metrics_format::{self, MetricsFormat};
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use prometheus_client::encoding::{prometheus_text, text};
use serde_json::json;

use super::error::ApiError;
use super::live::LiveQuery;
use super::params::{Params, ParamsRejection};
use super::query::held::Smaller;
use super::AppState;
use crate::access::Access;
use crate::auth::Credentials;
use crate::metrics::{Gauges, ServerCollector};
use crate::snapshot::{NodePage, Snapshot};

pub(super) fn check_stats_key(
    state: &AppState,
    credentials: &Credentials,
    path: &'static str,
) -> Result<(), ApiError> {
    let access = state.access.current();
    match refusal(&access, credentials, path) {
        None => Ok(()),
        Some(message) => {
            state.metrics.request(path, 401);
            Err(ApiError::unauthorized(message))
        }
    }
}

/// Why `credentials` may not read `path` under `access` (the message of the 401), or
/// `None` when they may. Also asked again of an open `/v1/stream` at each reload.
pub(super) fn refusal(
    access: &Access,
    credentials: &Credentials,
    path: &'static str,
) -> Option<String> {
    // The live view, the stream and SQL show stored events (user names, client
    // addresses): once the server has keys, they need one too unless the config opens
    // them explicitly.
    let (needed, why) = if EVENT_READERS.contains(&path) {
        (
            access.recent_needs_key,
            if access.require_auth_for_stats {
                "require_auth_for_stats"
            } else {
                "it shows stored events and the server has [[keys]]; \
                 allow_unauthenticated_recent = true opens it"
            },
        )
    } else {
        (access.require_auth_for_stats, "require_auth_for_stats")
    };
    let refused = match access.stats_keys.identify(credentials) {
        _ if !needed => return None,
        Ok(_) => return None,
        Err(e) => e,
    };
    let hint = if access.stats_keys.is_empty() {
        "; no [[stats_keys]] entry is configured"
    } else {
        ""
    };
    // What was wrong with what the request sent: a key that is not (or no longer, after
    // a reload) a stats key reads otherwise than no key at all.
    let sent = match refused {
        crate::auth::Unauthorized::Missing => String::new(),
        crate::auth::Unauthorized::UnknownKey => {
            ": the key sent is not one of the [[stats_keys]] (an event key, a mistyped \
             secret, or a key rotated or removed)"
                .to_owned()
        }
        other => format!(": {other}"),
    };
    Some(format!(
        "this endpoint needs `Authorization: Bearer <stats key>` ({why}){hint}{sent}"
    ))
}

/// The endpoints that show stored events, not only counts.
const EVENT_READERS: [&str; 3] = ["/v1/recent", "/v1/stream", "/v1/query"];

/// `GET /v1/recent?limit=N&topic=...`: the newest kept events that match every filter
/// given (see [`super::live`]).
pub(super) async fn recent(
    State(state): State<Arc<AppState>>,
    credentials: Credentials,
    query: Result<Params<LiveQuery>, ParamsRejection>,
) -> Result<Response, ApiError> {
    check_stats_key(&state, &credentials, "/v1/recent")?;
    let live = super::live::parse(&state, "/v1/recent", query)?;
    let limit = live.limit.unwrap_or(100);
    let kept = state.recent.newest();
    let smaller = Smaller::Ask("ask fewer events (a smaller limit)");
    let answers = state.queries.answers().clone();
    // Picked and written off the async workers, in the read answers' turn
    // (read_turn.rs), and counted before it is written, from its events' own bytes
    // (the answer is larger): while the answers not yet read fill the budget, a
    // request for this one is refused without the work of writing up to 16 MB.
    let written = state
        .read_turns
        .write("the /v1/recent answer", move || {
            let events = super::live::newest_matching(kept, &live.filter, limit);
            let room = answers.room(events.iter().map(|e| e.raw.len()).sum(), smaller)?;
            let body = recent_text(&events);
            answers.hold_in(room, body, smaller)
        })
        .await
        .and_then(|held| held);
    let held = written.inspect_err(|e| state.metrics.request("/v1/recent", e.status().as_u16()))?;
    state.metrics.request("/v1/recent", 200);
    Ok((
        [(header::CONTENT_TYPE, "application/json")],
        held.into_body(),
    )
        .into_response())
}

/// The `/v1/recent` answer of `entries`: `{"count":N,"events":[...]}`, each event in
/// its envelope as [`crate::recent::envelope_text`] writes it (event texts as sent,
/// not parsed again).
fn recent_text(entries: &[crate::recent::Entry]) -> String {
    let texts: Vec<String> = entries.iter().map(crate::recent::envelope_text).collect();
    let mut out = String::with_capacity(texts.iter().map(|t| t.len() + 1).sum::<usize>() + 32);
    out.push_str("{\"count\":");
    out.push_str(&entries.len().to_string());
    out.push_str(",\"events\":[");
    for (i, text) in texts.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(text);
    }
    out.push_str("]}");
    out
}

/// `body` (of `content_type`) as the answer, counted in the answers held until read
/// (`max_answer_memory_bytes`, `query/held.rs`) until its client has read it; `503
/// answer_memory` when those held leave no room for it. A client that asks and never
/// reads would otherwise keep its answer for as long as its connection lives, and many
/// such connections the server's memory. `smaller`: what the client can ask less of
/// when the answer is larger than the whole budget.
pub(super) fn held(
    state: &AppState,
    path: &'static str,
    content_type: &'static str,
    body: String,
    smaller: Smaller,
) -> Result<Response, ApiError> {
    let held = state
        .queries
        .answers()
        .hold(body, smaller)
        .inspect_err(|e| state.metrics.request(path, e.status().as_u16()))?;
    state.metrics.request(path, 200);
    Ok(([(header::CONTENT_TYPE, content_type)], held.into_body()).into_response())
}

/// The query of `GET /v1/stats`: which page of nodes.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct StatsQuery {
    /// List nodes whose id sorts after this one (the previous page's `nodesNext`).
    #[serde(rename = "nodesAfter")]
    nodes_after: Option<String>,
    /// At most this many nodes (default 1000, at most 10 000).
    #[serde(rename = "nodesLimit")]
    nodes_limit: Option<usize>,
}

/// `GET /v1/stats?nodesAfter=ID&nodesLimit=N`: the [`Snapshot`] as JSON, with one page
/// of nodes.
pub(super) async fn stats(
    State(state): State<Arc<AppState>>,
    credentials: Credentials,
    query: Result<Params<StatsQuery>, ParamsRejection>,
) -> Result<Response, ApiError> {
    check_stats_key(&state, &credentials, "/v1/stats")?;
    let bad = |message: String| {
        state.metrics.request("/v1/stats", 400);
        ApiError::bad_request("bad_query", message)
    };
    let Params(q) = query.map_err(|e| bad(format!("{e} (parameters: nodesAfter, nodesLimit)")))?;
    let limit = q.nodes_limit.unwrap_or(NodePage::DEFAULT_LIMIT);
    if !(1..=NodePage::MAX_LIMIT).contains(&limit) {
        return Err(bad(format!(
            "nodesLimit must be 1 to {}, not {limit}",
            NodePage::MAX_LIMIT
        )));
    }
    // Off the async threads (the store folders may be walked, and a page of 10 000
    // nodes takes a while to write), in the read answers' turn (read_turn.rs).
    let st = state.clone();
    let body = state
        .read_turns
        .write("the statistics", move || {
            let snapshot = Snapshot::take_page(
                &st,
                NodePage {
                    after: q.nodes_after.as_deref(),
                    limit,
                },
            );
            serde_json::to_string(&snapshot)
        })
        .await?
        .map_err(|e| internal(format!("cannot write the statistics: {e}")))?;
    held(
        &state,
        "/v1/stats",
        "application/json",
        body,
        Smaller::Ask("ask fewer nodes (a smaller nodesLimit)"),
    )
}

/// `GET /metrics`: Prometheus text (version 0.0.4), or OpenMetrics text when the
/// scraper's `Accept` prefers it (Prometheus does; see
/// [`auditrail_core::metrics_format::negotiate`]). Counted in the answers held until
/// read, as `/v1/stats` is: 1000 nodes' and 1000 topics' series are some MB, and the
/// endpoint needs no key by default.
pub(super) async fn metrics(
    State(state): State<Arc<AppState>>,
    credentials: Credentials,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    check_stats_key(&state, &credentials, "/metrics")?;
    // The node's `/metrics` (crates/auditrail/src/metrics) chooses with the same function.
    let format = metrics_format::negotiate(
        headers
            .get_all(header::ACCEPT)
            .iter()
            .map(HeaderValue::as_bytes),
    );
    let st = state.clone();
    // In the read answers' turn (read_turn.rs): 1000 nodes' and topics' series take a
    // while to write, and the endpoint needs no key by default.
    let encoded = state
        .read_turns
        .write("the metrics", move || {
            let mut registry = st
                .metrics
                .registry(ServerCollector::new(Snapshot::take(&st), gauges(&st)));
            for source in &st.sources {
                source.register(&mut registry);
            }
            let mut body = String::with_capacity(16 * 1024);
            let content_type = match format {
                MetricsFormat::OpenMetrics => text::encode(&mut body, &registry)
                    .map(|()| metrics_format::OPENMETRICS_CONTENT_TYPE),
                MetricsFormat::PrometheusText => prometheus_text::encode(&mut body, &registry)
                    .map(|()| prometheus_text::CONTENT_TYPE),
            };
            content_type.map(|c| (c, body))
        })
        .await;
    match encoded? {
        Ok((content_type, body)) => held(&state, "/metrics", content_type, body, Smaller::Nothing),
        Err(_) => Err(internal("the metrics could not be encoded".into())),
    }
}

fn internal(message: String) -> ApiError {
    ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message)
}

/// The process gauges of a scrape.
fn gauges(state: &AppState) -> Gauges {
    Gauges {
        disk_available_bytes: crate::disk::available_bytes(&state.data_dir),
        batches_in_progress: (state.max_concurrent_batches - state.batches.available_permits())
            as u64,
        body_memory_bytes: state.body_memory.in_use() as u64,
        body_memory_limit_bytes: state.body_memory.total() as u64,
    }
}

/// `GET /healthz`: the process answers.
pub(super) async fn healthz() -> impl IntoResponse {
    Json(json!({"status": "ok"}))
}

/// `GET /readyz`: whether a batch sent now can be taken (`readiness.rs`): `503`
/// while shutting down, while the data folder is under its floor (`503 disk_full` for
/// every batch), and while no destination takes batches: every store's folder refusing
/// new files (read-only, permissions, I/O errors; one store's, or the data folder's, is
/// `degraded`), or every store refusing batches for its full disk or for want of a seal
/// (`503 disk_full`, `503 unsealed`: one such store beside one that takes batches is
/// `degraded`, `readiness::stores_refusing`), with no destination of another type
/// (`kafka`, ...) beside them. Such a destination holding an event unconfirmed past
/// `ack_timeout_ms` is `degraded` (`behind.rs`). A store held at start is listed in `held` (by destination
/// name: `/readyz` needs no key) without making the server not ready; so is a Kafka
/// source's held partition store (by source, topic and partition: `source/held.rs`), and
/// named under `degraded` a partition store waiting for a place in the open-file budget
/// (`source/waiting.rs`). A store refusing
/// only some partition folders leaves the server ready, counted under `degraded`
/// (`readiness::partitions_refusing`). `/healthz` stays `200` then: the process is
/// alive, and a restart would not help.
pub(super) async fn readyz(State(state): State<Arc<AppState>>) -> Response {
    if !state.ready.load(Ordering::SeqCst) {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "shutting_down"})),
        )
            .into_response();
    }
    let probe = state.clone();
    let verdict = tokio::task::spawn_blocking(move || {
        let mut verdict = probe.readiness.check();
        let (none_takes, refusing) = super::readiness::stores_refusing(&probe.destinations);
        verdict.degraded.extend(refusing);
        // Every store refusing what is sent (full, unsealed, failing) says what a batch
        // is answered now, over the folder probe's refusal of a new file (a folder gone
        // fails every batch: `store_failing`); the data folder's floor stays first.
        verdict.not_ready = match (verdict.not_ready, none_takes) {
            (Some(probe), Some(stores))
                if matches!(
                    probe.reason,
                    "read_only_file_system" | "permission_denied" | "io_error"
                ) =>
            {
                Some(stores)
            }
            (probe, stores) => probe.or(stores),
        };
        verdict
    })
    .await
    .unwrap_or_else(|e| {
        super::readiness::Verdict::from(super::readiness::NotReady {
            reason: "io_error",
            message: format!("the readiness probe failed: {e}"),
            destinations: Vec::new(),
        })
    });
    // Stores held at start are named, but leave the server ready: it stores what the
    // other destinations take, and a probe taking it out of service would stop their
    // collection too (the held store's batches are answered `503 store_held`).
    let mut held: Vec<serde_json::Value> = state
        .destinations
        .stores()
        .filter(|(_, _, s)| s.is_held())
        .map(|(_, d, s)| {
            let name = &d.name;
            // What held it in the words of every answer about the hold (`held_for`),
            // then what was found and what takes it back.
            let by = s.held_for();
            let message = match (s.unopened.as_deref(), s.held_by()) {
                // The OS error without the path: `/readyz` needs no key.
                (Some(os_error), _) => format!(
                    "store destination {name:?}: {by} ({os_error} on one of its files or \
                     folders; the server's log names it); it takes no event until it can be \
                     read and the server is started again (a store that cannot be opened at \
                     start is opened by a restart, not by SIGHUP)"
                ),
                (None, Some((crate::destinations::HeldBy::Sighup, said))) => format!(
                    "store destination {name:?}: {by} ({said}); it takes no event until it is \
                     seen to (see the server's log), then SIGHUP again"
                ),
                (None, Some((crate::destinations::HeldBy::Start, said))) => format!(
                    "store destination {name:?}: {by} ({said}); it takes no event until it is \
                     seen to (see the server's log), then SIGHUP"
                ),
                // Lifted meanwhile (a re-check taking it back): said as at start.
                (None, None) => format!(
                    "store destination {name:?}: {by}; it takes no event until it is seen to \
                     (see the server's log)"
                ),
            };
            json!({"destination": name, "reason": "store_held", "message": message})
        })
        .collect();
    // The Kafka sources' partition stores held the same way (their integrity check
    // refused them when opened): named by source, topic and partition, and leaving
    // the server ready for the same reason.
    held.extend(crate::source::held_readyz_entries(&state.sources));
    let super::readiness::Verdict {
        not_ready,
        degraded: mut probed,
    } = verdict;
    let mut answer = match not_ready {
        None => json!({"status": "ready"}),
        // With each destination that refuses, as `degraded` names one: a reader (an
        // alert, a dashboard) learns which without parsing `message`.
        Some(n) => json!({
            "status": "not_ready", "reason": n.reason, "message": n.message,
            "destinations": n.destinations.into_iter().map(super::readiness::Degraded::json).collect::<Vec<_>>(),
        }),
    };
    if !held.is_empty() {
        answer["held"] = serde_json::Value::Array(held);
    }
    // Counted, not named: `/readyz` needs no key, and a partition folder's name holds
    // the topic and the routing key (tenants' names); the server's log names them.
    // With what refuses new files without refusing batches (a store's folder, the
    // data folder) and the stores whose high-water mark cannot be written.
    probed.extend(super::readiness::partitions_refusing(&state.destinations));
    probed.extend(super::readiness::marks_unpublished(&state.destinations));
    probed.extend(super::behind::destinations_behind(&state));
    let mut degraded: Vec<serde_json::Value> = probed
        .into_iter()
        .map(super::readiness::Degraded::json)
        .collect();
    // Kafka partitions whose store waits for a place in the open-file budget: their
    // records wait in Kafka, the rest is stored (`source/waiting.rs`).
    degraded.extend(crate::source::waiting_readyz_entries(&state.sources));
    if !degraded.is_empty() {
        answer["degraded"] = serde_json::Value::Array(degraded);
    }
    let status = if answer["status"] == "ready" {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(answer)).into_response()
}

/// Anything else: 404 with a JSON body.
pub(super) async fn not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        "no such endpoint; see docs/protocol.md",
    )
}

/// A method the path does not take (`TRACE /v1/events`, `PUT /v1/query`): 405 with a
/// JSON body like every other answer (axum's own 405 has none). The router adds the
/// `Allow` header, listing the methods the path takes (RFC 9110, 15.5.6).
pub(super) async fn method_not_allowed(
    method: axum::http::Method,
    uri: axum::http::Uri,
) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        format!(
            "{} does not take {method}; the Allow header lists the methods it takes",
            uri.path()
        ),
    )
}
