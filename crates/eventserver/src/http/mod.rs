//! The HTTP API: routes, shared state, handlers (see docs/protocol.md).

mod behind;
pub(crate) mod body;
mod checkpoints;
mod console;
mod credentials;
mod cross_site;
pub(crate) mod error;
mod failing;
mod faults;
mod frames;
mod full_disk;
#[cfg(test)]
mod fuzz;
mod head_refusal;
mod held;
pub(crate) mod host_check;
mod if_none_match;
mod ingest;
pub(crate) mod intake;
mod live;
mod media_type;
mod params;
mod partly_stored;
mod publish;
pub(crate) mod query;
mod read;
pub(crate) mod read_turn;
pub(crate) mod readiness;
mod repeated_header;
mod retry_outcome;
mod routed_to;
mod sent_again;
mod signed_answer;
mod stream;
mod transfer_coding;
mod unread_body;

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use auditrail_core::Dispatcher;
use axum::routing::{get, post};
use axum::Router;
use tokio::sync::Semaphore;

use self::intake::MemoryBudget;
use crate::access::AccessCell;
use crate::metrics::Metrics;
use crate::recent::Recent;
use crate::stats::Stats;

/// Everything the handlers share.
pub(crate) struct AppState {
    /// Keys and read policy (replaced whole by a reload).
    pub(crate) access: AccessCell,
    /// The destinations' dispatcher.
    pub dispatcher: Dispatcher,
    /// De-duplication (rebuilt from the stores on start).
    pub dedup: crate::dedup::Dedup,
    /// Destinations, by route index (with the open stores and their integrity).
    pub destinations: Arc<crate::destinations::Destinations>,
    /// How often a `/v1/stream` with nothing to send writes a keep-alive comment:
    /// within `idle_timeout_ms`, so that a quiet follower's connection keeps writing
    /// and is not closed as idle (`conn.rs`).
    pub(crate) stream_keep_alive: std::time::Duration,
    /// Live view (shared with the Kafka sources, which show what they store).
    pub recent: Arc<Recent>,
    /// Per node / per topic counters (shared likewise).
    pub stats: Arc<Stats>,
    /// Prometheus counters.
    pub metrics: Metrics,
    /// Batches in progress (beyond its permits: 429).
    pub batches: Arc<Semaphore>,
    /// The number of permits of `batches`.
    pub max_concurrent_batches: usize,
    /// When the server started.
    pub started: auditrail_core::Timestamp,
    /// Largest body, before and after decompression.
    pub max_body_bytes: usize,
    /// Memory for request bodies in flight (`max_body_memory_bytes`).
    pub body_memory: MemoryBudget,
    /// How long a batch waits for its destinations.
    pub ack_timeout: Duration,
    /// The store folders' sizes (walked at most every 30 s).
    pub store_usage: crate::disk::UsageCache,
    /// Data folder (free-space checks).
    pub data_dir: PathBuf,
    /// Free-space floor.
    pub min_free_bytes: u64,
    /// How far ahead of the server clock an event's timestamp may be (`None`: no bound).
    pub max_timestamp_ahead: Option<Duration>,
    /// The stores' timeline read at start (`Destinations::timeline`): the bound on
    /// timestamps ahead counts from the later of it and the wall clock.
    pub timeline: Option<auditrail_store::RetentionClock>,
    /// False once shutdown started (`/readyz` answers 503).
    pub ready: AtomicBool,
    /// What else `/readyz` checks: the folders written to, the free-space floor.
    pub readiness: readiness::Readiness,
    /// The `[[witnesses]]`, for their counters.
    pub witnesses: Option<Arc<crate::witness::Witnesses>>,
    /// The `[[sources]]`' counters.
    pub sources: Vec<crate::source::SourceMetrics>,
    /// The partition stores of the Kafka sources, while open here: `/v1/checkpoints`
    /// shows them; the retention loop prunes those with a retention, `/metrics` counts
    /// what it deleted.
    pub partition_stores: Arc<crate::source::PartitionStores>,
    /// How `/v1/query` runs queries, and its queue.
    pub queries: query::Queries,
    /// The turn for writing the large answers of `/v1/recent`, `/v1/stats` and
    /// `/metrics`, one at a time off the async workers (read_turn.rs).
    pub(crate) read_turns: read_turn::ReadTurns,
    /// A place per open `/v1/stream` (`max_streams`; beyond: 503).
    pub streams: Arc<Semaphore>,
    /// The number of permits of `streams`.
    pub max_streams: usize,
    /// The server's signing key (its receipts' and checkpoints'), which signs the
    /// answer to each `POST /v1/events` that sends a nonce (signed_answer.rs). Every
    /// server has one, with or without a chained store.
    pub signer: Arc<auditrail_integrity::Signer>,
}

/// The router of the whole API; `https` when the server has `[tls]` (the scheme of
/// its own origin, which cross-site requests are told from).
pub(crate) fn router(state: Arc<AppState>, https: bool) -> Router {
    let same_origin = cross_site::SameOrigin {
        state: state.clone(),
        scheme: if https { "https" } else { "http" },
    };
    Router::new()
        .route("/v1/events", post(ingest::post_events))
        .route("/v1/recent", get(read::recent))
        .route("/v1/stream", get(stream::stream))
        .route("/v1/query", get(query::query).post(query::query_form))
        .route("/v1/stats", get(read::stats))
        .route("/v1/checkpoints", get(checkpoints::checkpoints))
        .route("/", get(console::index))
        .route("/console/console.js", get(console::script))
        .route("/console/console.css", get(console::style))
        .route("/metrics", get(read::metrics))
        .route("/healthz", get(read::healthz))
        .route("/readyz", get(read::readyz))
        // After every route: it applies to the routes registered before it.
        .method_not_allowed_fallback(read::method_not_allowed)
        .fallback(read::not_found)
        // A body that no endpoint reads is read (bounded) before the answer.
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            unread_body::discard_unread_body,
        ))
        // Every route, the fallback too: a page of another site gets nothing here.
        .layer(axum::middleware::from_fn_with_state(
            same_origin,
            cross_site::refuse_cross_site,
        ))
        // Nor a page of a name re-pointed to this machine (DNS rebinding).
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            host_check::refuse_other_hosts,
        ))
        // Before the checks above (only the transfer-coding refusal below runs
        // earlier): they read `Host` and the endpoints `Content-Type` and
        // `Authorization`, each one value; a request that sends one twice is not read
        // by either line.
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            repeated_header::refuse_repeated_headers,
        ))
        // A body still coded otherwise than chunked reaches no endpoint.
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            transfer_coding::refuse_other_transfer_codings,
        ))
        .with_state(state)
}
