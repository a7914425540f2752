//! The read endpoints: live view, statistics, metrics, health.

use std::fmt::Write;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use super::error::ApiError;
use super::live::LiveQuery;
use super::AppState;
use crate::auth::Credentials;
use crate::metrics::{header as help, label};

pub(super) fn check_stats_key(
    state: &AppState,
    credentials: &Credentials,
    path: &'static str,
) -> Result<(), ApiError> {
    let access = state.access.current();
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
    if !needed {
        return Ok(());
    }
    if access.stats_keys.identify(credentials).is_ok() {
        Ok(())
    } else {
        state.metrics.request(path, 401);
        let hint = if access.stats_keys.is_empty() {
            "; no [[stats_keys]] entry is configured"
        } else {
            ""
        };
        Err(ApiError::unauthorized(format!(
            "this endpoint needs `Authorization: Bearer <stats key>` ({why}){hint}"
        )))
    }
}

/// The endpoints that show stored events, not only counts.
const EVENT_READERS: [&str; 3] = ["/v1/recent", "/v1/stream", "/v1/query"];

/// `GET /v1/recent?limit=N&topic=...`: the newest kept events that match every filter
/// given (see [`super::live`]).
pub(super) async fn recent(
    State(state): State<Arc<AppState>>,
    credentials: Credentials,
    query: Result<Query<LiveQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    check_stats_key(&state, &credentials, "/v1/recent")?;
    let live = super::live::parse(&state, "/v1/recent", query)?;
    let limit = live
        .limit
        .unwrap_or(100)
        .min(crate::recent::RECENT_CAPACITY);
    state.metrics.request("/v1/recent", 200);
    let events: Vec<_> = state
        .recent
        .newest_where(limit, |e| live.filter.matches_wire(&e.raw))
        .iter()
        .map(crate::recent::envelope)
        .collect();
    // Serialized directly (not through `json!`): event texts stay as sent.
    #[derive(serde::Serialize)]
    struct Answer {
        count: usize,
        events: Vec<crate::recent::Shown>,
    }
    Ok(Json(Answer {
        count: events.len(),
        events,
    })
    .into_response())
}

/// `GET /v1/stats`.
pub(super) async fn stats(
    State(state): State<Arc<AppState>>,
    credentials: Credentials,
) -> Result<Response, ApiError> {
    check_stats_key(&state, &credentials, "/v1/stats")?;
    state.metrics.request("/v1/stats", 200);
    let topics = state.stats.snapshot();
    // Per node: rebuilt from the store on start, so counts, gaps and last-seen cover
    // everything stored, not only since this process started.
    let mut nodes = serde_json::Map::new();
    for n in state.dedup.node_stats() {
        nodes.insert(n.node.clone(), json!(n));
    }
    Ok(Json(json!({
        "since": state.started.to_string(),
        "accepted": state.metrics.accepted.load(Ordering::Relaxed),
        "duplicates": state.metrics.duplicates.load(Ordering::Relaxed),
        "nodes": nodes,
        "topics": topics,
        "destinations": state.dispatcher.stats(),
    }))
    .into_response())
}

/// `GET /metrics` (Prometheus text format).
pub(super) async fn metrics(
    State(state): State<Arc<AppState>>,
    credentials: Credentials,
) -> Result<Response, ApiError> {
    check_stats_key(&state, &credentials, "/metrics")?;
    state.metrics.request("/metrics", 200);
    let st = state.clone();
    let text = tokio::task::spawn_blocking(move || render_metrics(&st))
        .await
        .unwrap_or_default();
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response())
}

fn render_metrics(state: &AppState) -> String {
    let mut out = String::with_capacity(4096);
    state.metrics.render(&mut out);
    let dstats = state.dispatcher.stats();
    let per_dest = |out: &mut String,
                    name: &str,
                    kind: &str,
                    h: &str,
                    f: &dyn Fn(&auditrail_core::TargetStats) -> u64| {
        help(out, name, kind, h);
        for s in &dstats {
            let _ = writeln!(
                out,
                "{name}{{destination=\"{}\",type=\"{}\"}} {}",
                label(&s.name),
                label(&s.type_name),
                f(s)
            );
        }
    };
    per_dest(
        &mut out,
        "auditrail_server_destination_stored_total",
        "counter",
        "Events a destination durably took.",
        &|s| s.delivered,
    );
    per_dest(
        &mut out,
        "auditrail_server_destination_queue_depth",
        "gauge",
        "Events queued for a destination, not yet taken.",
        &|s| s.queue_depth,
    );
    per_dest(
        &mut out,
        "auditrail_server_destination_retried_total",
        "counter",
        "Events sent again after a retryable error.",
        &|s| s.retried,
    );
    per_dest(
        &mut out,
        "auditrail_server_destination_dead_lettered_total",
        "counter",
        "Events written to the dead-letter file.",
        &|s| s.dead_lettered,
    );
    help(
        &mut out,
        "auditrail_server_store_bytes",
        "gauge",
        "Bytes of the files under a store destination's folder.",
    );
    for (_, d, store) in state.destinations.stores() {
        let _ = writeln!(
            out,
            "auditrail_server_store_bytes{{destination=\"{}\"}} {}",
            label(&d.name),
            crate::disk::bytes_under(&store.path)
        );
    }
    help(
        &mut out,
        "auditrail_server_disk_available_bytes",
        "gauge",
        "Free bytes on the data folder's file system.",
    );
    if let Some(free) = crate::disk::available_bytes(&state.data_dir) {
        let _ = writeln!(out, "auditrail_server_disk_available_bytes {free}");
    }
    let nodes = state.dedup.node_stats();
    help(
        &mut out,
        "auditrail_server_sequence_missing",
        "gauge",
        "Sequence numbers missing below the highest stored, per node (abandoned ones excluded).",
    );
    for n in &nodes {
        let _ = writeln!(
            out,
            "auditrail_server_sequence_missing{{node=\"{}\"}} {}",
            label(&n.node),
            n.missing
        );
    }
    help(
        &mut out,
        "auditrail_server_sequence_abandoned",
        "gauge",
        "Sequence numbers a node announced as reserved by a run that crashed and that were never seen assigned, per node.",
    );
    for n in &nodes {
        let _ = writeln!(
            out,
            "auditrail_server_sequence_abandoned{{node=\"{}\"}} {}",
            label(&n.node),
            n.abandoned
        );
    }
    help(
        &mut out,
        "auditrail_server_node_highest_contiguous_seq",
        "gauge",
        "Highest seq up to which every seq of the node is stored.",
    );
    for n in &nodes {
        let _ = writeln!(
            out,
            "auditrail_server_node_highest_contiguous_seq{{node=\"{}\"}} {}",
            label(&n.node),
            n.highest_contiguous_seq
        );
    }
    let stores: Vec<(&str, auditrail_store::StoreStats)> = state
        .destinations
        .stores()
        .map(|(_, d, store)| (d.name.as_str(), store.handle.stats()))
        .collect();
    help(
        &mut out,
        "auditrail_server_store_fsync_total",
        "counter",
        "fsync calls of a store's segment files.",
    );
    for (name, s) in &stores {
        let _ = writeln!(
            out,
            "auditrail_server_store_fsync_total{{destination=\"{}\"}} {}",
            label(name),
            s.fsyncs
        );
    }
    help(
        &mut out,
        "auditrail_server_store_fsync_seconds_total",
        "counter",
        "Time spent in those fsyncs (divide by the count for the mean latency).",
    );
    for (name, s) in &stores {
        let _ = writeln!(
            out,
            "auditrail_server_store_fsync_seconds_total{{destination=\"{}\"}} {}",
            label(name),
            s.fsync_micros as f64 / 1e6
        );
    }
    help(
        &mut out,
        "auditrail_server_store_records_total",
        "counter",
        "Records a store wrote since it was opened.",
    );
    for (name, s) in &stores {
        let _ = writeln!(
            out,
            "auditrail_server_store_records_total{{destination=\"{}\"}} {}",
            label(name),
            s.records
        );
    }
    help(
        &mut out,
        "auditrail_server_store_write_errors_total",
        "counter",
        "Store batches that failed (disk full included) and were undone.",
    );
    for (name, s) in &stores {
        let _ = writeln!(
            out,
            "auditrail_server_store_write_errors_total{{destination=\"{}\"}} {}",
            label(name),
            s.write_errors
        );
    }
    help(
        &mut out,
        "auditrail_server_batches_in_progress",
        "gauge",
        "Ingest batches being processed.",
    );
    let in_progress = state.max_concurrent_batches - state.batches.available_permits();
    let _ = writeln!(out, "auditrail_server_batches_in_progress {in_progress}");
    help(
        &mut out,
        "auditrail_server_body_memory_bytes",
        "gauge",
        "Memory counted for request bodies in flight (13 bytes per decoded body byte).",
    );
    let _ = writeln!(
        out,
        "auditrail_server_body_memory_bytes {}",
        state.body_memory.in_use()
    );
    help(
        &mut out,
        "auditrail_server_body_memory_limit_bytes",
        "gauge",
        "The budget of auditrail_server_body_memory_bytes (max_body_memory_bytes).",
    );
    let _ = writeln!(
        out,
        "auditrail_server_body_memory_limit_bytes {}",
        state.body_memory.total()
    );
    out
}

/// `GET /healthz`: the process answers.
pub(super) async fn healthz() -> impl IntoResponse {
    Json(json!({"status": "ok"}))
}

/// `GET /readyz`: accepting events (503 while shutting down).
pub(super) async fn readyz(State(state): State<Arc<AppState>>) -> Response {
    if state.ready.load(Ordering::SeqCst) {
        Json(json!({"status": "ready"})).into_response()
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "shutting_down"})),
        )
            .into_response()
    }
}

/// Anything else: 404 with a JSON body.
pub(super) async fn not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        "no such endpoint; see docs/protocol.md",
    )
}
