//! `GET /v1/query`: the query library's reports and read-only SQL over the server's
//! store destinations (auditrail-query), behind the stats keys, within limits:
//!
//! - rows: `limit` (default [`DEFAULT_ROWS`], at most [`MAX_ROWS`]); an answer cut
//!   there says `"truncated": true`;
//! - time: [`TIME_LIMIT`]; a query still running then is stopped (`503
//!   query_time_limit`);
//! - memory: [`MEMORY_LIMIT`] for what DataFusion's operators hold (sorts, groups,
//!   joins; `400 query_failed` "Resources exhausted" beyond);
//! - CPU: each query runs on a thread of its own with one partition, so queries take at
//!   most one core each from ingest.

use std::sync::Arc;
use std::time::Duration;

use auditrail_query::output::{self, Format};
use auditrail_query::reports::{self, ComputeBy};
use auditrail_query::{Engine, QueryError, Window};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::header;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::error::ApiError;
use super::read::check_stats_key;
use super::AppState;
use crate::auth::Credentials;

const PATH: &str = "/v1/query";
/// Rows of an SQL answer unless `limit` says otherwise.
pub(super) const DEFAULT_ROWS: usize = 1000;
/// The most rows one SQL answer holds.
pub(super) const MAX_ROWS: usize = 100_000;
/// How long one query may run.
pub(super) const TIME_LIMIT: Duration = Duration::from_secs(30);
/// Memory DataFusion's operators may hold for one query.
pub(super) const MEMORY_LIMIT: usize = 256 * 1024 * 1024;

/// The query parameters: `sql` or `report` (one of them).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct QueryParams {
    sql: Option<String>,
    report: Option<String>,
    by: Option<String>,
    since: Option<String>,
    until: Option<String>,
    limit: Option<usize>,
}

enum Ask {
    Sql { sql: String, limit: usize },
    Report { report: Report, window: Window },
}

#[derive(Clone, Copy)]
enum Report {
    LastActivity,
    NodeUsage,
    EventsPerHour,
    Compute(ComputeBy),
    ApiAnswers,
}

const REPORTS: &str = "last-activity, node-usage, events-per-hour, compute, api-answers";

/// `GET /v1/query?sql=SELECT...&limit=N` or `GET /v1/query?report=node-usage&since=24h`.
pub(super) async fn query(
    State(state): State<Arc<AppState>>,
    credentials: Credentials,
    params: Result<Query<QueryParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    check_stats_key(&state, &credentials, PATH)?;
    let ask = parse(params).inspect_err(|_| state.metrics.request(PATH, 400))?;
    let stores: Vec<_> = state
        .destinations
        .stores()
        .map(|(_, _, store)| store.path.clone())
        .collect();
    if stores.is_empty() {
        state.metrics.request(PATH, 404);
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "no_store",
            "this server has no store destination to query",
        ));
    }
    let answer = run(stores, ask).await;
    let status = match &answer {
        Ok(_) => 200,
        Err(e) => e.status().as_u16(),
    };
    state.metrics.request(PATH, status);
    answer.map(|body| ([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

fn parse(params: Result<Query<QueryParams>, QueryRejection>) -> Result<Ask, ApiError> {
    let bad = |m: String| ApiError::bad_request("bad_query", m);
    let Query(q) = params.map_err(|e| {
        bad(format!(
            "{e} (parameters: sql, limit; or report, by, since, until)"
        ))
    })?;
    match (q.sql, q.report) {
        (Some(sql), None) => {
            if q.by.is_some() || q.since.is_some() || q.until.is_some() {
                return Err(bad(
                    "by, since and until go with report; put conditions in the SQL".into(),
                ));
            }
            let limit = q.limit.unwrap_or(DEFAULT_ROWS);
            if limit > MAX_ROWS {
                return Err(bad(format!("limit {limit}: at most {MAX_ROWS}")));
            }
            Ok(Ask::Sql { sql, limit })
        }
        (None, Some(report)) => {
            if q.limit.is_some() {
                return Err(bad("limit goes with sql".into()));
            }
            let by = match q.by.as_deref() {
                None | Some("project") => ComputeBy::Project,
                Some("user") => ComputeBy::User,
                Some(other) => return Err(bad(format!("by {other:?}: expected project or user"))),
            };
            let report = match report.as_str() {
                "last-activity" => Report::LastActivity,
                "node-usage" => Report::NodeUsage,
                "events-per-hour" => Report::EventsPerHour,
                "compute" => Report::Compute(by),
                "api-answers" => Report::ApiAnswers,
                other => return Err(bad(format!("report {other:?}: expected one of {REPORTS}"))),
            };
            let window = super::live::window(q.since, q.until).map_err(|e| bad(e.to_string()))?;
            Ok(Ask::Report { report, window })
        }
        _ => Err(bad(format!(
            "give either sql (read-only SQL over the `events` table) or report ({REPORTS})"
        ))),
    }
}

/// Runs `ask` on a thread of its own (see the module docs), within the time limit.
async fn run(stores: Vec<std::path::PathBuf>, ask: Ask) -> Result<String, ApiError> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name("auditrail-query".into())
        .spawn(move || {
            let answer = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| internal(format!("cannot start a query runtime: {e}")))
                .and_then(|rt| {
                    rt.block_on(async {
                        match tokio::time::timeout(TIME_LIMIT, answer(stores, ask)).await {
                            Ok(a) => a,
                            Err(_) => Err(ApiError::new(
                                StatusCode::SERVICE_UNAVAILABLE,
                                "query_time_limit",
                                format!(
                                    "the query ran longer than {} s and was stopped; narrow it (a time condition on `timestamp` reads fewer files)",
                                    TIME_LIMIT.as_secs()
                                ),
                            )),
                        }
                    })
                });
            let _ = tx.send(answer);
        })
        .map_err(|e| internal(format!("cannot start a query thread: {e}")))?;
    rx.await
        .map_err(|_| internal("the query thread ended without an answer".to_owned()))?
}

/// A report's answer: the window it covers and the report.
#[derive(Serialize)]
struct ReportAnswer<T> {
    window: String,
    report: T,
}

/// An SQL answer: its rows (as JSON objects, `message` as stored), how many, and
/// whether `limit` cut it.
#[derive(Serialize)]
struct SqlAnswer {
    count: usize,
    truncated: bool,
    rows: Box<RawValue>,
}

/// The answer as JSON text (written once: stored messages keep their exact text).
async fn answer(stores: Vec<std::path::PathBuf>, ask: Ask) -> Result<String, ApiError> {
    let engine = Engine::builder()
        .sources(stores.into_iter().map(auditrail_query::Source::Store))
        .target_partitions(1)
        .memory_limit(MEMORY_LIMIT)
        .build()
        .map_err(failed)?;
    fn text<T: Serialize>(window: Window, report: T) -> Result<String, ApiError> {
        serde_json::to_string(&ReportAnswer {
            window: window.to_string(),
            report,
        })
        .map_err(|e| internal(format!("cannot write the answer: {e}")))
    }
    match ask {
        Ask::Sql { sql, limit } => sql_answer(&engine, &sql, limit).await,
        Ask::Report { report, window } => match report {
            Report::LastActivity => text(
                window,
                reports::last_activity(&engine, window)
                    .await
                    .map_err(failed)?,
            ),
            Report::NodeUsage => text(
                window,
                reports::node_usage(&engine, window).await.map_err(failed)?,
            ),
            Report::EventsPerHour => text(
                window,
                reports::events_per_hour(&engine, window)
                    .await
                    .map_err(failed)?,
            ),
            Report::Compute(by) => text(
                window,
                reports::compute(&engine, by, window)
                    .await
                    .map_err(failed)?,
            ),
            Report::ApiAnswers => text(
                window,
                reports::api_answers(&engine, window)
                    .await
                    .map_err(failed)?,
            ),
        },
    }
}

async fn sql_answer(engine: &Engine, sql: &str, limit: usize) -> Result<String, ApiError> {
    // One row more than asked tells whether the answer was cut.
    let df = engine
        .sql(sql)
        .await
        .map_err(failed)?
        .limit(0, Some(limit + 1))
        .map_err(|e| failed(e.into()))?;
    let batches = df.collect().await.map_err(|e| failed(e.into()))?;
    let total: usize = batches.iter().map(|b| b.num_rows()).sum();
    let mut kept = Vec::with_capacity(batches.len());
    let mut left = limit;
    for b in batches {
        if left == 0 {
            break;
        }
        let n = b.num_rows().min(left);
        kept.push(b.slice(0, n));
        left -= n;
    }
    let mut rows = Vec::new();
    output::write(Format::Json, &kept, &mut rows).map_err(failed)?;
    let rows = String::from_utf8(rows)
        .ok()
        .and_then(|t| RawValue::from_string(t.trim_end().to_owned()).ok())
        .ok_or_else(|| internal("the answer's rows are not JSON".to_owned()))?;
    serde_json::to_string(&SqlAnswer {
        count: total.min(limit),
        truncated: total > limit,
        rows,
    })
    .map_err(|e| internal(format!("cannot write the answer: {e}")))
}

fn internal(message: String) -> ApiError {
    ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message)
}

/// A query the engine refused or could not finish: the engine's own words.
fn failed(e: QueryError) -> ApiError {
    ApiError::bad_request("query_failed", e.to_string())
}
