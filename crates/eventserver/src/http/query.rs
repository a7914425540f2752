//! `GET /v1/query`: the query library's reports and read-only SQL over the server's
//! store destinations (auditrail-query), behind the stats keys, within limits
//! (docs/protocol.md, "GET /v1/query"):
//!
//! - rows: `limit` (default [`DEFAULT_ROWS`], at most [`MAX_ROWS`]); an answer cut
//!   there says `"truncated": true`;
//! - turns: `queries.running` at once, `queries.waiting` more wait for a turn (at most
//!   the time limit: `503 query_queue_time_limit`), `429 overloaded` beyond
//!   (`gate.rs`);
//! - time: `queries.time_limit`; a query still running then is stopped (`503
//!   query_time_limit`);
//! - memory: with a worker program (`queries.worker`, as `auditrail serve` has), each
//!   query runs in a process of its own whose address space is `queries.memory_limit_bytes`
//!   (`child.rs`, `worker.rs`): everything the query allocates, scalar functions too,
//!   is bounded, and a query beyond fails alone (`400 query_failed`). Within it, and
//!   without a worker, DataFusion's operators hold at most 256 MiB
//!   ([`answer::MEMORY_LIMIT`]); without a worker nothing else is bounded;
//! - disk: a query's spill files (its sorts, groups and joins past that memory) hold
//!   at most `max_query_spill_bytes` (`queries.max_spill_bytes`), in a folder of the
//!   query's own (`SpillDir`); a query beyond fails alone (`507 query_spill_limit`);
//! - CPU: one partition per query, so each takes at most one core;
//! - answers held until their clients have read them: all together at most
//!   `max_answer_memory_bytes` (`held.rs`), `503 answer_memory` beyond.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::State;
use axum::http::StatusCode;
use axum::http::{header, HeaderMap, Uri};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::error::ApiError;
use super::params::{Params, ParamsRejection};
use super::read::check_stats_key;
use super::AppState;
use crate::auth::Credentials;
use crate::config::QueryConfig;

mod answer;
mod child;
mod gate;
pub(super) mod held;
pub(crate) mod worker;

use self::answer::{internal, Ask, Report};
use self::gate::QueryGate;
use self::held::{AnswerBudget, Smaller};

const PATH: &str = "/v1/query";
/// Rows of an SQL answer unless `limit` says otherwise.
pub(super) const DEFAULT_ROWS: usize = 1000;
/// The most rows one SQL answer holds.
pub(super) const MAX_ROWS: usize = 100_000;

/// How queries run (the server's `queries` config) and the turns to run them.
#[derive(Debug)]
pub(crate) struct Queries {
    config: QueryConfig,
    gate: QueryGate,
    /// The answers held until sent (`max_answer_memory_bytes`).
    answers: AnswerBudget,
}

impl Queries {
    /// The budget of answers held until their clients have read them
    /// (`max_answer_memory_bytes`), which the answers of `/v1/recent`, `/v1/stats`,
    /// `/v1/checkpoints` and `/metrics` and the backlogs of `/v1/stream` count in too.
    pub(super) fn answers(&self) -> &AnswerBudget {
        &self.answers
    }

    pub(crate) fn new(config: QueryConfig, max_answer_memory_bytes: usize) -> Queries {
        Queries {
            gate: QueryGate::new(config.running, config.waiting),
            answers: AnswerBudget::new(max_answer_memory_bytes),
            config,
        }
    }
}

/// An answer: its status and JSON body.
#[derive(Debug)]
pub(super) struct Answer {
    status: StatusCode,
    body: String,
}

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

const REPORTS: &str = "last-activity, node-usage, events-per-hour, compute, api-answers";

/// `GET /v1/query?sql=SELECT...&limit=N` or `GET /v1/query?report=node-usage&since=24h`.
pub(super) async fn query(
    State(state): State<Arc<AppState>>,
    credentials: Credentials,
    params: Result<Params<QueryParams>, ParamsRejection>,
) -> Result<Response, ApiError> {
    check_stats_key(&state, &credentials, PATH)?;
    answer(state, params).await
}

/// The largest form body of `POST /v1/query`: a statement of up to about a megabyte.
const MAX_FORM_BYTES: usize = 1 << 20;

/// `POST /v1/query` with the parameters of `GET` as an
/// `application/x-www-form-urlencoded` body, for statements longer than a URL takes
/// (hyper refuses a request line over 64 KiB with an empty `414`), and in its URL too
/// (`POST /v1/query?limit=10`, the statement in the body). As Prometheus's
/// `POST /api/v1/query` does, for the same reason; a parameter in both is refused.
pub(super) async fn query_form(
    State(state): State<Arc<AppState>>,
    credentials: Credentials,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    // Refusals decided from the head are answered after the body is read (bounded, as
    // on ingest): a client that sends its whole form before reading would otherwise see
    // a reset connection instead of its 401 or 415.
    if let Err(refused) = check_stats_key(&state, &credentials, PATH) {
        return Err(super::intake::drain_then(body, &headers, state.max_body_bytes, refused).await);
    }
    let sent_type = headers.get(header::CONTENT_TYPE);
    let content_type = sent_type
        .and_then(|v| v.to_str().ok())
        .and_then(|v| super::media_type::MediaType::parse(v).ok());
    let encoding = super::body::content_encoding(&headers)
        .filter(|v| !v.trim().eq_ignore_ascii_case("identity"));
    let form = content_type.as_ref().map(|m| m.essence.as_str()) == Some(FORM);
    if encoding.is_some() || !form {
        state.metrics.request(PATH, 415);
        // Says what was sent: the type (when not a form) and the coding (when one).
        let mut sent = Vec::new();
        if !form {
            sent.push(match sent_type {
                None => "no Content-Type".to_owned(),
                Some(v) => format!("Content-Type {:?}", String::from_utf8_lossy(v.as_bytes())),
            });
        }
        if let Some(coding) = &encoding {
            sent.push(format!("Content-Encoding {coding:?}"));
        }
        let sent = sent.join(" and ");
        let refused = ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            format!(
                "POST /v1/query takes an {FORM} body without a Content-Encoding (the \
                 parameters of GET /v1/query); this request has {sent}"
            ),
        );
        return Err(super::intake::drain_then(body, &headers, state.max_body_bytes, refused).await);
    }
    // The form is read as UTF-8 (percent-decoded bytes too, see `params`): a form
    // declared in another charset would run another query than its sender wrote (the
    // Latin-1 bytes of `Ã©` read as `é`: someone else's name), as on ingest.
    if let Some(charset) = content_type.as_ref().and_then(|m| m.foreign_charset()) {
        state.metrics.request(PATH, 415);
        let refused = ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            format!(
                "Content-Type {FORM}: charset {charset:?} is not accepted: the form is read as \
                 UTF-8 (charset=utf-8, us-ascii, or no charset)"
            ),
        );
        return Err(super::intake::drain_then(body, &headers, state.max_body_bytes, refused).await);
    }
    // Received as event batches are (intake.rs): under the rate rule against slow
    // senders and counted in the body memory budget, so that many large forms at
    // once cannot take the server's memory.
    let mut charge = super::intake::Charge::default();
    let bytes = super::intake::receive(
        body,
        &headers,
        MAX_FORM_BYTES,
        state.max_body_bytes,
        &state.body_memory,
        super::intake::Counting::Raw,
        &mut charge,
    )
    .await
    .map_err(|e| {
        state.metrics.request(PATH, e.status().as_u16());
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                format!("the form body is over {MAX_FORM_BYTES} bytes"),
            )
        } else {
            e
        }
    })?;
    let params = Params::from_query_and_form(uri.query().unwrap_or_default(), &bytes);
    // The parameters own their text: the body's memory is given back before the query
    // waits for its turn and runs.
    drop(bytes);
    drop(charge);
    answer(state, params).await
}

const FORM: &str = "application/x-www-form-urlencoded";

/// A query's answer (a JSON object) with `"storesHeld"`, the store destinations held
/// at start that it left out, first; as it was when none is held. Added here, not by
/// the worker: the server knows which stores are held.
fn with_stores_held(body: String, held: &[String]) -> String {
    if held.is_empty() || !body.starts_with('{') {
        return body;
    }
    let names = serde_json::to_string(held).unwrap_or_else(|_| "[]".to_owned());
    let rest = &body[1..];
    let comma = if rest.trim_start().starts_with('}') {
        ""
    } else {
        ","
    };
    format!("{{\"storesHeld\":{names}{comma}{rest}")
}

/// Runs the query that `params` ask for and answers it.
async fn answer(
    state: Arc<AppState>,
    params: Result<Params<QueryParams>, ParamsRejection>,
) -> Result<Response, ApiError> {
    let ask = parse(params).inspect_err(|_| state.metrics.request(PATH, 400))?;
    // A store held at start (its checks failed) is left out, and the answer says so
    // (`storesHeld`): what its files hold is not vouched for.
    // One look at each store: one taken back meanwhile (SIGHUP) is in one list.
    let mut stores = Vec::new();
    let mut held: Vec<String> = Vec::new();
    for (_, d, store) in state.destinations.stores() {
        if store.is_held() {
            held.push(d.name.clone());
        } else {
            stores.push(store.path.clone());
        }
    }
    if stores.is_empty() && !held.is_empty() {
        state.metrics.request(PATH, 503);
        return Err(ApiError::unavailable(
            "store_held",
            format!(
                "every store destination of this server is held ({}): their checks at start \
                 (or at the last SIGHUP) failed, or they could not be opened (see `/readyz` and \
                 the server's log); query them with `auditrail sql --store` \
                 once `auditrail verify` says what they hold",
                held.join(", ")
            ),
            std::time::Duration::from_secs(60),
        ));
    }
    if stores.is_empty() {
        state.metrics.request(PATH, 404);
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "no_store",
            "this server has no store destination to query",
        ));
    }
    let smaller = Smaller::Ask(match &ask {
        Ask::Sql { .. } => "ask fewer rows (a smaller limit) or fewer columns",
        Ask::Report { .. } => "ask a shorter window (since, until)",
    });
    // The turn ends with `run`; the answer is counted from here until it is sent.
    let answer = run(&state.queries, stores, ask).await.and_then(|a| {
        let body = if a.status == StatusCode::OK {
            with_stores_held(a.body, &held)
        } else {
            a.body
        };
        let held = state.queries.answers.hold(body, smaller)?;
        Ok((a.status, held))
    });
    let status = match &answer {
        Ok((status, _)) => status.as_u16(),
        Err(e) => e.status().as_u16(),
    };
    state.metrics.request(PATH, status);
    // A worker's answer is the HTTP answer's body, error answers too (as ApiError
    // writes them).
    answer.map(|(status, held)| {
        (
            status,
            [(header::CONTENT_TYPE, "application/json")],
            held.into_body(),
        )
            .into_response()
    })
}

fn parse(params: Result<Params<QueryParams>, ParamsRejection>) -> Result<Ask, ApiError> {
    let bad = |m: String| ApiError::bad_request("bad_query", m);
    let Params(q) = params.map_err(|e| {
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
            let compute = match q.by.as_deref() {
                None | Some("project") => Report::ComputeByProject,
                Some("user") => Report::ComputeByUser,
                Some(other) => return Err(bad(format!("by {other:?}: expected project or user"))),
            };
            // As the CLI, whose `--by` only `query compute` takes: a `by` that no
            // report reads would be ignored in silence.
            if q.by.is_some() && report != "compute" {
                return Err(bad(format!(
                    "by goes with report=compute, not report={report}"
                )));
            }
            let report = match report.as_str() {
                "last-activity" => Report::LastActivity,
                "node-usage" => Report::NodeUsage,
                "events-per-hour" => Report::EventsPerHour,
                "compute" => compute,
                "api-answers" => Report::ApiAnswers,
                other => return Err(bad(format!("report {other:?}: expected one of {REPORTS}"))),
            };
            let window = super::live::window(q.since, q.until).map_err(|e| bad(e.to_string()))?;
            Ok(Ask::Report {
                report,
                since: window.since,
                until: window.until,
            })
        }
        _ => Err(bad(format!(
            "give either sql (read-only SQL over the `events` table) or report ({REPORTS})"
        ))),
    }
}

/// Runs `ask` in its turn: in a worker process when the server has one, else on a
/// thread of the server.
async fn run(queries: &Queries, stores: Vec<PathBuf>, ask: Ask) -> Result<Answer, ApiError> {
    let config = &queries.config;
    let _turn = queries.gate.enter(config.time_limit).await?;
    let spill = SpillDir::new(&config.spill_dir)?;
    let answer = run_in(config, stores, ask, spill.path()).await;
    // Only now: the worker has ended (answered, or killed and waited for), so nothing
    // writes in the folder any more.
    spill.remove();
    answer
}

/// A query's folder for its spill files (`queries.spill_dir`), removed after the query.
/// The engine deletes its spill files as a query ends normally, but a worker killed at
/// the time limit or ended at its memory limit runs no destructor: its files (GBs of a
/// large `DISTINCT` or `GROUP BY`) stayed in the temporary folder for ever, and a reader
/// repeating such a query filled the disk the stores write to.
struct SpillDir(tempfile::TempDir);

impl SpillDir {
    fn new(parent: &std::path::Path) -> Result<SpillDir, ApiError> {
        tempfile::Builder::new()
            .prefix("auditrail-query-")
            .tempdir_in(parent)
            .map(SpillDir)
            .map_err(|e| {
                internal(format!(
                    "cannot make a folder for the query's spill files in {}: {e}",
                    parent.display()
                ))
            })
    }

    fn path(&self) -> &std::path::Path {
        self.0.path()
    }

    /// Removes the folder and what it holds; a failure is logged (the files stay).
    fn remove(self) {
        let path = self.0.path().to_owned();
        if let Err(e) = self.0.close() {
            tracing::warn!(path = %path.display(), error = %e, "cannot remove a query's spill folder");
        }
    }
}

/// [`run`] once it has its turn and its spill folder.
async fn run_in(
    config: &QueryConfig,
    stores: Vec<PathBuf>,
    ask: Ask,
    spill_dir: &std::path::Path,
) -> Result<Answer, ApiError> {
    match &config.worker {
        Some(worker) => {
            let request = worker::Request {
                stores,
                ask,
                memory_limit_bytes: config.memory_limit_bytes,
                // Twice the time limit: the server's kill comes first; this only ends a
                // worker whose server is gone.
                cpu_limit_s: config
                    .time_limit
                    .as_secs()
                    .saturating_mul(2)
                    .saturating_add(1),
                time_limit_ms: u64::try_from(config.time_limit.as_millis()).unwrap_or(u64::MAX),
                server_pid: std::process::id(),
                spill_dir: spill_dir.to_owned(),
                max_spill_bytes: config.max_spill_bytes,
                niceness: config.niceness,
            };
            child::run(worker, config, &request).await
        }
        None => in_process(stores, ask, spill_dir.to_owned(), config)
            .await
            .map(|body| Answer {
                status: StatusCode::OK,
                body,
            }),
    }
}

/// Runs `ask` on a thread of its own, within the time limit, which stops it only
/// between two batches of rows (the timer shares the query's thread). The thread has
/// the stack the engine needs for the deepest statement it accepts: a stack overflow
/// would abort the server.
async fn in_process(
    stores: Vec<PathBuf>,
    ask: Ask,
    spill_dir: PathBuf,
    config: &QueryConfig,
) -> Result<String, ApiError> {
    let (limit, max_spill_bytes) = (config.time_limit, config.max_spill_bytes);
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name("auditrail-query".into())
        .stack_size(auditrail_query::QUERY_STACK_BYTES)
        .spawn(move || {
            let answer = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| internal(format!("cannot start a query runtime: {e}")))
                .and_then(|rt| {
                    rt.block_on(async {
                        match tokio::time::timeout(
                            limit,
                            answer::answer(stores, ask, &spill_dir, max_spill_bytes),
                        )
                        .await
                        {
                            Ok(a) => a,
                            Err(_) => Err(time_limit_error(limit)),
                        }
                    })
                });
            let _ = tx.send(answer);
        })
        .map_err(|e| internal(format!("cannot start a query thread: {e}")))?;
    rx.await
        .map_err(|_| internal("the query thread ended without an answer".to_owned()))?
}

/// `503 query_time_limit`.
fn time_limit_error(limit: Duration) -> ApiError {
    let shown = if limit.subsec_millis() == 0 {
        format!("{} s", limit.as_secs())
    } else {
        format!("{} ms", limit.as_millis())
    };
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "query_time_limit",
        format!(
            "the query ran longer than {shown} and was stopped; narrow it (a time condition on `timestamp` reads fewer files)"
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::with_stores_held;

    #[test]
    fn an_answer_names_the_held_stores_it_left_out_first() {
        let held = vec!["b".to_owned()];
        let answered = with_stores_held(r#"{"count":0,"truncated":false,"rows":[]}"#.into(), &held);
        let v: serde_json::Value = serde_json::from_str(&answered).unwrap();
        assert_eq!(v["storesHeld"], serde_json::json!(["b"]));
        assert_eq!(v["count"], 0);
        assert_eq!(
            with_stores_held("{}".into(), &held),
            r#"{"storesHeld":["b"]}"#
        );
        assert_eq!(with_stores_held("{}".into(), &[]), "{}");
    }
}
