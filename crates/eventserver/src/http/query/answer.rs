//! What a query asks and its answer as JSON text: the code that runs a query, the same
//! in the server's process and in a worker process.

use std::path::{Path, PathBuf};

use auditrail_core::Timestamp;
use auditrail_query::lookalikes::{Mark, Marks};
use auditrail_query::output::{self, Format};
use auditrail_query::reports::{self, ComputeBy};
use auditrail_query::{Engine, QueryError, Window};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::http::error::ApiError;

/// Memory DataFusion's operators (sorts, groups, joins) may hold for one query; beyond,
/// the engine fails the query ("Resources exhausted"). What scalar functions allocate
/// is not counted here: a worker process's address-space limit bounds that.
pub(crate) const MEMORY_LIMIT: usize = auditrail_query::DEFAULT_MEMORY_LIMIT;

/// One query: SQL with a row limit, or a report over a window. Serializable: a worker
/// process gets it on its stdin.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(crate) enum Ask {
    /// Read-only SQL; at most `limit` rows.
    Sql { sql: String, limit: usize },
    /// A report over `[since, until)` (already resolved: relative times such as `24h`
    /// are against the server's clock when the request arrived).
    Report {
        report: Report,
        since: Option<Timestamp>,
        until: Option<Timestamp>,
    },
}

/// The reports of `report=`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Report {
    LastActivity,
    NodeUsage,
    EventsPerHour,
    ComputeByProject,
    ComputeByUser,
    ApiAnswers,
}

/// A report's answer: the window it covers, what of the stores it left out (see
/// [`LeftOut`]) and the report.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ReportAnswer {
    window: String,
    #[serde(flatten)]
    left_out: LeftOut,
    report: Box<RawValue>,
    /// The report's values that look like others (UTS #39: another script, or the
    /// confusable skeleton of another value of the same column), each with the
    /// characters to show escaped: the web console shows them as the CLI's tables do,
    /// by the one rule (auditrail-query's `lookalikes`). Written only when there are some.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    lookalikes: Vec<Mark>,
}

/// An SQL answer: its rows (as JSON objects, `message` as stored), how many, and
/// whether `limit` cut it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SqlAnswer {
    count: usize,
    truncated: bool,
    #[serde(flatten)]
    left_out: LeftOut,
    /// The values of its text columns that look like others, as a report's
    /// (`ReportAnswer::lookalikes`), each column named by its name: two users `Iris`
    /// and `lris` were two rows that read alike, and nothing said so. Before `rows`,
    /// which are written after the rest. Written only when there are some.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    lookalikes: Vec<Mark>,
    rows: Box<RawValue>,
}

/// What of the stores an answer is short by, each written only when there is some:
/// `auditrail sql` and `query` say so on stderr, and an HTTP client got the same
/// partial answer without a word, as if the events had never been stored.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LeftOut {
    /// Complete lines of the stores read that are not events (damaged, foreign),
    /// left out of the answer, each counted once (as `auditrail sql` and `query` count
    /// them).
    #[serde(skip_serializing_if = "is_zero")]
    unreadable_lines: u64,
    /// Segment files listed for the query and removed before they were read (the
    /// store's retention ran meanwhile): their events are not in the answer.
    #[serde(skip_serializing_if = "is_zero")]
    files_removed: u64,
    /// Records in the answer whose chain hash does not follow from the record just
    /// before them in their file: changed since the store wrote them (`auditrail
    /// verify` names them).
    #[serde(skip_serializing_if = "is_zero")]
    records_failing_chain: u64,
}

impl LeftOut {
    /// What `engine`'s queries so far left out (read once the query ran).
    fn of(engine: &Engine) -> LeftOut {
        let stats = engine.stats();
        LeftOut {
            unreadable_lines: stats.unreadable_in_stores,
            files_removed: stats.files_removed,
            records_failing_chain: stats.records_failing_chain,
        }
    }
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// The answer as JSON text (written once: stored messages keep their exact text). The
/// engine's spill files go in `spill_dir`, the query's own folder, at most
/// `max_spill_bytes` of them at once.
pub(crate) async fn answer(
    stores: Vec<PathBuf>,
    ask: Ask,
    spill_dir: &Path,
    max_spill_bytes: u64,
) -> Result<String, ApiError> {
    let engine = Engine::builder()
        .sources(stores.into_iter().map(auditrail_query::Source::Store))
        .target_partitions(1)
        .memory_limit(MEMORY_LIMIT)
        .spill_dir(spill_dir)
        .max_spill_bytes(max_spill_bytes)
        .build()
        .map_err(failed)?;
    // The stats are read once the report was made (the arguments are evaluated first).
    fn text<T: Serialize>(engine: &Engine, window: Window, report: T) -> Result<String, ApiError> {
        let cannot = |e: serde_json::Error| internal(format!("cannot write the answer: {e}"));
        // Written once, as the report's own serializer writes it (its members in their
        // order); read back only to find its look-alikes.
        let report = serde_json::value::to_raw_value(&report).map_err(cannot)?;
        let value: serde_json::Value = serde_json::from_str(report.get()).map_err(cannot)?;
        serde_json::to_string(&ReportAnswer {
            window: window.to_string(),
            left_out: LeftOut::of(engine),
            lookalikes: Marks::of_json(&value).list(),
            report,
        })
        .map_err(|e| internal(format!("cannot write the answer: {e}")))
    }
    let (report, window) = match ask {
        Ask::Sql { sql, limit } => return sql_answer(&engine, &sql, limit).await,
        Ask::Report {
            report,
            since,
            until,
        } => (report, Window { since, until }),
    };
    match report {
        Report::LastActivity => text(
            &engine,
            window,
            reports::last_activity(&engine, window)
                .await
                .map_err(failed)?,
        ),
        Report::NodeUsage => text(
            &engine,
            window,
            reports::node_usage(&engine, window).await.map_err(failed)?,
        ),
        Report::EventsPerHour => text(
            &engine,
            window,
            reports::events_per_hour(&engine, window)
                .await
                .map_err(failed)?,
        ),
        Report::ComputeByProject | Report::ComputeByUser => {
            let by = match report {
                Report::ComputeByUser => ComputeBy::User,
                _ => ComputeBy::Project,
            };
            text(
                &engine,
                window,
                reports::compute(&engine, by, window)
                    .await
                    .map_err(failed)?,
            )
        }
        Report::ApiAnswers => text(
            &engine,
            window,
            reports::api_answers(&engine, window)
                .await
                .map_err(failed)?,
        ),
    }
}

async fn sql_answer(engine: &Engine, sql: &str, limit: usize) -> Result<String, ApiError> {
    // One row more than asked tells whether the answer was cut.
    let df = engine
        .sql(sql)
        .await
        .and_then(|df| auditrail_query::at_most(df, limit + 1))
        .map_err(failed)?;
    let batches = auditrail_query::collect(df).await.map_err(failed)?;
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
    // The answer is written as it is built, its rows a few MiB at a time, and refused
    // once it passes the largest answer the server takes: before, it was built whole
    // (rows as JSON lines, then as an array, then in the envelope, each a copy), which
    // took some 9 times its size, and a 110 MB answer, under the 128 MiB answer limit,
    // ended the worker at its memory limit instead ("exceeded its memory limit of
    // 1024 MiB"): the answer limit was never what stopped a query.
    let max = super::child::MAX_ANSWER_BYTES - ENVELOPE_ROOM;
    let mut body = serde_json::to_string(&SqlAnswer {
        count: total.min(limit),
        truncated: total > limit,
        left_out: LeftOut::of(engine),
        lookalikes: sql_marks(&kept),
        rows: RawValue::from_string("[]".to_owned())
            .map_err(|e| internal(format!("cannot write the answer: {e}")))?,
    })
    .map_err(|e| internal(format!("cannot write the answer: {e}")))?
    .into_bytes();
    if body.len() > max {
        return Err(super::child::answer_too_large());
    }
    // `...,"rows":[]}` becomes `...,"rows":[` + rows + `]}`.
    body.truncate(body.len() - 2);
    let mut first = true;
    for b in &kept {
        let step = rows_per_slice(b);
        let mut at = 0;
        while at < b.num_rows() {
            let n = step.min(b.num_rows() - at);
            let mut rows = Vec::new();
            output::write(Format::Json, &[b.slice(at, n)], &mut rows).map_err(failed)?;
            // `[row,\nrow]\n`: the rows between the brackets.
            let inner = rows
                .strip_prefix(b"[")
                .and_then(|r| r.strip_suffix(b"]\n"))
                .ok_or_else(|| internal("the answer's rows are not a JSON array".to_owned()))?;
            if body.len() + inner.len() + 2 > max {
                return Err(super::child::answer_too_large());
            }
            if !inner.is_empty() {
                if !first {
                    body.extend_from_slice(b",\n");
                }
                first = false;
                body.extend_from_slice(inner);
            }
            at += n;
        }
    }
    body.extend_from_slice(b"]}");
    String::from_utf8(body).map_err(|_| internal("the answer's rows are not UTF-8".to_owned()))
}

/// The look-alikes of the rows kept (`Marks::of_batches`: each text column apart, a
/// JSON column not read), each column named by its name (an answer's names are its
/// own: `duplicate_column`), as the rows' objects name it.
fn sql_marks(kept: &[auditrail_query::datafusion::arrow::array::RecordBatch]) -> Vec<Mark> {
    let Some(schema) = kept.first().map(|b| b.schema()) else {
        return Vec::new();
    };
    let mut list = Marks::of_batches(kept).list();
    for mark in &mut list {
        if let Some(field) = mark
            .column
            .parse::<usize>()
            .ok()
            .and_then(|i| schema.fields().get(i))
        {
            mark.column = field.name().clone();
        }
    }
    list.sort_by(|a, b| (&a.column, &a.value).cmp(&(&b.column, &b.value)));
    list
}

/// Room for the worker's status line and the envelope's end in the answer the server
/// reads (`200\n` ... `]}`).
const ENVELOPE_ROOM: usize = 64;

/// How many rows of `b` are written at a time: about 4 MiB of its memory, at least one.
fn rows_per_slice(b: &auditrail_query::datafusion::arrow::array::RecordBatch) -> usize {
    const SLICE_BYTES: usize = 4 << 20;
    let bytes = b.get_array_memory_size().max(1);
    (SLICE_BYTES.saturating_mul(b.num_rows()) / bytes).max(1)
}

pub(crate) fn internal(message: String) -> ApiError {
    ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message)
}

/// A query the engine refused or could not finish (`400 query_failed`, said as
/// auditrail-query says it; `400 duplicate_column` when its answer would have two
/// columns of one name); or the server's failure, not the client's, whatever the
/// statement: the stores could not be read (`500 store_unreadable`), the engine could
/// not read or write its own files (`500 query_io`), the query needs more memory
/// than the engine holds for one query (`503 query_memory_limit`, as a query past the
/// time limit is `503 query_time_limit`), or more disk for its spill files than the
/// server gives one query (`507 query_spill_limit`).
fn failed(e: QueryError) -> ApiError {
    if e.is_unreadable_source() {
        return ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "store_unreadable",
            e.to_string(),
        );
    }
    // Before `is_engine_io`: the engine met the cap as an I/O error of its spill files.
    if e.is_spill_limit() {
        return spill_limit_error(&e);
    }
    if e.is_engine_io() {
        return ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "query_io",
            format!("the query engine could not read or write its own files (spill files in the temporary folder): {e}"),
        );
    }
    if e.is_memory_limit() {
        return memory_limit_error(format!(
            "the query needs more than the {} MiB the query engine holds for one query's sorts, groups and joins ({e}); narrow it (a time condition on `timestamp`, fewer groups)",
            MEMORY_LIMIT >> 20
        ));
    }
    // Its own code: the rule is one a client can act on without reading the message
    // (name the columns apart), and it holds for every statement and every output.
    if e.is_duplicate_column() {
        return ApiError::bad_request("duplicate_column", e.to_string());
    }
    ApiError::bad_request("query_failed", e.to_string())
}

/// `507 query_spill_limit`: the query's spill files would pass `max_query_spill_bytes`.
/// 507 Insufficient Storage (RFC 4918, 11.5: the server cannot store what it needs to
/// complete the request) is what happened: a limit of the server's (5xx, as
/// `query_memory_limit`), nothing wrong in the request (not 4xx: 413 is about the
/// request's own size), and not 503, which clients and proxies read as "retry later",
/// while the same query fails the same (no `Retry-After`). Its own code, apart from
/// `500 query_io` (a disk that failed): the operator can raise the setting, or the
/// reader narrow the query.
fn spill_limit_error(e: &QueryError) -> ApiError {
    ApiError::new(
        StatusCode::INSUFFICIENT_STORAGE,
        "query_spill_limit",
        format!("{e} (the server's max_query_spill_bytes; raise it for such queries)"),
    )
}

/// `503 query_memory_limit`: the query asks more memory than the server gives one
/// query; nothing in it is wrong, and a retry fails the same (no `Retry-After`).
pub(crate) fn memory_limit_error(message: String) -> ApiError {
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "query_memory_limit",
        message,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use auditrail_query::datafusion::error::DataFusionError as Df;

    #[test]
    fn an_engine_io_error_is_the_servers_500_not_the_clients_400() {
        let e = QueryError::Engine(Df::IoError(std::io::Error::new(
            std::io::ErrorKind::StorageFull,
            "No space left on device",
        )));
        let answer = failed(e);
        assert_eq!(answer.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(answer.error, "query_io");
    }

    #[test]
    fn resources_exhausted_is_503_query_memory_limit_with_the_engines_words() {
        let e = QueryError::Engine(Df::ResourcesExhausted(
            "Failed to allocate additional 1.0 MB for GroupedHashAggregateStream[0]".into(),
        ));
        let answer = failed(e);
        assert_eq!(answer.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(answer.error, "query_memory_limit");
        let message = &answer.message;
        assert!(
            message.contains("Resources exhausted: Failed to allocate"),
            "{message}"
        );
        assert!(message.contains("256 MiB"), "{message}");
    }

    #[test]
    fn the_spill_limit_is_507_query_spill_limit_naming_the_setting_not_query_io() {
        let answer = failed(QueryError::SpillLimit { limit: 1 << 20 });
        assert_eq!(answer.status(), StatusCode::INSUFFICIENT_STORAGE);
        assert_eq!(answer.error, "query_spill_limit");
        assert!(
            answer.message.contains("max_query_spill_bytes"),
            "{}",
            answer.message
        );
        assert!(
            answer.message.contains("1048576 bytes"),
            "{}",
            answer.message
        );
    }

    /// A segment file listed for the query and removed by retention before it was
    /// read: the answer (SQL and report alike) says the answer lacks its events, as
    /// it says so for lines that are not events. Before, the CLI logged it and the
    /// HTTP answer said nothing.
    #[tokio::test]
    async fn an_answer_short_by_a_segment_removed_meanwhile_says_so() {
        use std::sync::Arc;
        let dir = tempfile::tempdir().unwrap();
        let events: Vec<Arc<auditrail_core::Event>> = ["10", "11"]
            .iter()
            .enumerate()
            .map(|(i, hour)| {
                Arc::new(
                    auditrail_core::Event::from_json(&format!(
                        r#"{{"id":"01936f6e-1b2c-7d3e-8f40-12345678900{i}","timestamp":"2026-11-29T{hour}:00:00.000Z","topic":"generic","node":"n1","seq":{i},"message":{{"msgType":"login"}}}}"#
                    ))
                    .unwrap(),
                )
            })
            .collect();
        auditrail_testkit::store::open(dir.path(), serde_json::json!({}))
            .send_blocking(&events)
            .unwrap();
        let engine = Engine::builder()
            .store(dir.path())
            .target_partitions(1)
            .build()
            .unwrap();
        let written = |engine: &Engine| {
            serde_json::to_value(ReportAnswer {
                window: "all".to_owned(),
                left_out: LeftOut::of(engine),
                report: RawValue::from_string("[]".to_owned()).unwrap(),
                lookalikes: Vec::new(),
            })
            .unwrap()
        };
        assert!(written(&engine).get("filesRemoved").is_none());
        let df = engine.sql("SELECT seq FROM events").await.unwrap();
        let task = df.task_ctx();
        let plan = df.create_physical_plan().await.unwrap();
        let segments = auditrail_testkit::store::segments(dir.path());
        assert_eq!(segments.len(), 2, "{segments:?}");
        std::fs::remove_file(&segments[1]).unwrap();
        let rows = auditrail_query::datafusion::physical_plan::collect(plan, task.into())
            .await
            .unwrap();
        assert_eq!(rows.iter().map(|b| b.num_rows()).sum::<usize>(), 1);
        let answer = written(&engine);
        assert_eq!(answer["filesRemoved"], 1, "{answer}");
        assert!(answer.get("unreadableLines").is_none(), "{answer}");
    }

    #[test]
    fn a_statement_error_stays_the_clients_400() {
        let answer = failed(QueryError::Engine(Df::Plan("no column x".into())));
        assert_eq!(answer.status(), StatusCode::BAD_REQUEST);
        assert_eq!(answer.error, "query_failed");
    }
}
