//! What each API service answered (topic `apinode-query`, one service per routing key):
//! queries by outcome, the answers and errors it gave most, and how fast.
//!
//! - outcome: the message's `status`, else `responseStatus`, else `httpCode`, else
//!   `error` when it carries an error, else `unspecified`;
//! - answer: `response.prediction` (the reference product's prediction endpoints);
//! - error: `error.message`;
//! - latency: `responseTimeMS`, when the events carry it; percentiles are continuous
//!   (linear interpolation between the nearest ranks, as SQL's `percentile_cont`).

use std::collections::BTreeMap;

use serde::Serialize;

use super::one_listing::ReportEngine;
use super::values::{local_table, Rows};
use crate::error::QueryError;
use crate::{collect, Engine, Window};

/// How many of the most frequent answers and errors are listed per service.
pub(super) const TOP: usize = 5;

/// Latency of a service's queries, in ms.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Latency {
    /// Queries that carried a latency.
    pub count: u64,
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Slowest.
    pub max: f64,
    /// Mean: the latencies added exactly (each to a millionth of a ms), then divided,
    /// so the figure does not depend on the order the engine reads the events in.
    pub mean: f64,
}

/// One API service's answers.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ApiService {
    /// The service: the queries' routing key; `None` (JSON `null`) for the queries sent
    /// without one. (It was the string `(no routing key)`, which merged them with a
    /// service whose routing key is really spelt so.)
    pub service: Option<String>,
    /// Its queries in the window.
    pub queries: u64,
    /// Queries per outcome.
    pub outcomes: BTreeMap<String, u64>,
    /// Queries per `msgType`.
    pub msg_types: BTreeMap<String, u64>,
    /// The most frequent answers (`response.prediction`), with their counts, most first.
    pub answers: Vec<(String, u64)>,
    /// The most frequent errors (`error.message`), with their counts, most first.
    pub errors: Vec<(String, u64)>,
    /// Latency, when the events carry `responseTimeMS`.
    pub latency: Option<Latency>,
    /// `responseTimeMS` values left out as no latency: not a JSON number from 0 to
    /// 2^53 ms (a negative one, `1.7e308`, a string).
    pub invalid_values: u64,
}

/// The per-query values every part of the report is computed from. A latency is read
/// only when it is a JSON number from 0 to 2^53 ms; any other value is left out, as a
/// missing one, and counted (`latency_unread`): see [`super::values::checked_numbers`].
pub(super) const API_QUERIES_SQL: &str = r#"
SELECT service, "msgType", outcome, answer, error,
       {ms:latency_raw} AS latency,
       {unread_ms:latency_raw} AS latency_unread
FROM (
  SELECT routingKey AS service,
         msgType AS "msgType",
         coalesce(
           json_as_text(message, 'status'),
           json_as_text(message, 'responseStatus'),
           json_as_text(message, 'httpCode'),
           CASE WHEN json_get_json(message, 'error') IS NOT NULL
                     AND json_get_json(message, 'error') <> 'null' THEN 'error' END,
           'unspecified') AS outcome,
         json_as_text(message, 'response', 'prediction') AS answer,
         json_as_text(message, 'error', 'message') AS error,
         json_get_json(message, 'responseTimeMS') AS latency_raw
  FROM events
  WHERE topic = 'apinode-query' AND {window}
)"#;

const TOTALS_SQL: &str = r#"
SELECT service, count(*) AS queries, count(latency) AS timed,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY latency) AS p50,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY latency) AS p90,
       percentile_cont(0.99) WITHIN GROUP (ORDER BY latency) AS p99,
       max(latency) AS max, {sum_ms:latency} AS latency_sum,
       sum(latency_unread) AS unread
FROM q GROUP BY service ORDER BY service NULLS LAST"#;

fn counts_sql(column: &str) -> String {
    format!(
        "SELECT service, {column} AS value, count(*) AS n FROM q WHERE {column} IS NOT NULL \
         GROUP BY service, {column} ORDER BY service NULLS LAST, n DESC, value"
    )
}

/// Per API service, sorted by service (the queries without a routing key last).
pub async fn api_answers(engine: &Engine, window: Window) -> Result<Vec<ApiService>, QueryError> {
    // The events are read once; the parts of the report are computed from that.
    let df = ReportEngine::of(engine)
        .await?
        .sql(&super::values::checked_numbers(API_QUERIES_SQL).replace("{window}", &window.sql()))
        .await?;
    let schema = df.schema().inner().clone();
    // Each part through `collect`, as every query: a panic of the engine is this
    // report's error, not the end of the process (or of the server's query worker).
    let local = local_table("q", schema, collect(df).await?)?;
    let totals_sql = super::values::checked_numbers(TOTALS_SQL);
    let totals = Rows::from_batches(&collect(local.sql(&totals_sql).await?).await?)?;
    let mut services: Vec<ApiService> = totals
        .iter()
        .map(|r| {
            let timed = r.u64("timed");
            ApiService {
                service: r.str("service"),
                queries: r.u64("queries"),
                outcomes: BTreeMap::new(),
                msg_types: BTreeMap::new(),
                answers: Vec::new(),
                errors: Vec::new(),
                latency: (timed > 0).then(|| Latency {
                    count: timed,
                    p50: r.f64("p50").unwrap_or(0.0),
                    p90: r.f64("p90").unwrap_or(0.0),
                    p99: r.f64("p99").unwrap_or(0.0),
                    max: r.f64("max").unwrap_or(0.0),
                    // From the exact sum: the same figure whatever the order the
                    // engine added the latencies in (`avg` of the doubles was not).
                    mean: r
                        .exact_ms_units("latency_sum")
                        .map_or(0.0, |units| super::values::exact_ms_f64(units, timed)),
                }),
                invalid_values: r.u64("unread"),
            }
        })
        .collect();
    for (column, part) in [
        ("outcome", Part::Outcomes),
        ("\"msgType\"", Part::MsgTypes),
        ("answer", Part::Answers),
        ("error", Part::Errors),
    ] {
        let rows = Rows::from_batches(&collect(local.sql(&counts_sql(column)).await?).await?)?;
        for r in rows.iter() {
            let service = r.str("service");
            let Some(s) = services.iter_mut().find(|s| s.service == service) else {
                continue;
            };
            let value = r.str("value").unwrap_or_default();
            let n = r.u64("n");
            match part {
                Part::Outcomes => {
                    s.outcomes.insert(value, n);
                }
                Part::MsgTypes => {
                    s.msg_types.insert(value, n);
                }
                Part::Answers if s.answers.len() < TOP => s.answers.push((value, n)),
                Part::Errors if s.errors.len() < TOP => s.errors.push((value, n)),
                Part::Answers | Part::Errors => {}
            }
        }
    }
    Ok(services)
}

#[derive(Clone, Copy)]
enum Part {
    Outcomes,
    MsgTypes,
    Answers,
    Errors,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)] // test code: a failed unwrap is a failed test

    use datafusion::arrow::datatypes::DataType;
    use datafusion::logical_expr::{
        ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
    };

    use super::*;

    /// `json_as_text` that panics, as DataFusion and Arrow do on limits they do not
    /// check (a value past 2 GiB, too large to build in a test).
    #[derive(Debug, PartialEq, Eq, Hash)]
    struct Breaks(Signature);

    impl ScalarUDFImpl for Breaks {
        fn name(&self) -> &str {
            "json_as_text"
        }
        fn signature(&self) -> &Signature {
            &self.0
        }
        fn return_type(&self, _: &[DataType]) -> datafusion::error::Result<DataType> {
            Ok(DataType::Utf8)
        }
        fn invoke_with_args(
            &self,
            _: ScalarFunctionArgs,
        ) -> datafusion::error::Result<ColumnarValue> {
            panic!("offset overflow");
        }
    }

    #[tokio::test]
    async fn a_panic_inside_the_engine_is_the_reports_error() {
        let dir = tempfile::tempdir().unwrap();
        let event = auditrail_core::Event::from_json(
            r#"{"id":"01936f6e-1b2c-7d3e-8f40-123456789abc","timestamp":"2026-11-29T10:00:00.000Z","topic":"apinode-query","routingKey":"svc-a","node":"n1","seq":1,"message":{"msgType":"prediction-query","httpCode":200}}"#,
        )
        .unwrap();
        auditrail_testkit::store::open(dir.path(), serde_json::json!({}))
            .send_blocking(&[std::sync::Arc::new(event)])
            .unwrap();
        let engine = Engine::builder()
            .store(dir.path())
            .target_partitions(1)
            .build()
            .unwrap();
        engine
            .ctx
            .register_udf(ScalarUDF::new_from_impl(Breaks(Signature::variadic_any(
                Volatility::Immutable,
            ))));
        let window = Window {
            since: None,
            until: None,
        };
        match api_answers(&engine, window).await {
            Err(QueryError::EngineBroke { message }) => assert_eq!(message, "offset overflow"),
            other => panic!("{other:?}"),
        }
    }
}
