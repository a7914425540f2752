//! How each node is used (the licence-compliance question): events, distinct users,
//! first and last seen, events per topic, and events per hour.

use std::collections::BTreeMap;

use auditrail_core::Timestamp;
use serde::Serialize;

use super::one_listing::ReportEngine;
use crate::error::QueryError;
use crate::{Engine, Window};

/// One node's usage.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct NodeUsage {
    /// The node.
    pub node: String,
    /// Its events in the window (each event once, whatever the number of stores).
    pub events: u64,
    /// Distinct `authUser`s of its events, failed logins (`authfail`) not counted.
    pub users: u64,
    /// Its `authfail` events.
    pub failed_logins: u64,
    /// Its first event's time.
    pub first_seen: Option<Timestamp>,
    /// Its last event's time.
    pub last_seen: Option<Timestamp>,
    /// Events per topic.
    pub topics: BTreeMap<String, u64>,
    /// Its events (failed logins aside) whose `authUser` is given but is no string (a
    /// number, an object): no user name, left out of `users`.
    pub invalid_values: u64,
}

/// The statement behind [`node_usage`]'s totals (`{window}`: the time condition).
pub(super) const NODE_USAGE_SQL: &str = r#"
SELECT node,
       count(*) AS events,
       count(DISTINCT CASE WHEN topic <> 'authfail' THEN authUser END) AS users,
       sum(CASE WHEN topic = 'authfail' THEN 1 ELSE 0 END) AS "failedLogins",
       min(timestamp) AS "firstSeen",
       max(timestamp) AS "lastSeen",
       sum(CASE WHEN topic <> 'authfail' AND authUser IS NULL
                     AND json_get_json(message, 'authUser') <> 'null'
                THEN 1 ELSE 0 END) AS "invalidValues"
FROM events
WHERE {window}
GROUP BY node
ORDER BY node"#;

/// The statement behind [`node_usage`]'s events per topic.
pub(super) const NODE_TOPICS_SQL: &str = r#"
SELECT node, topic, count(*) AS events
FROM events
WHERE {window}
GROUP BY node, topic"#;

/// Usage per node, sorted by node.
pub async fn node_usage(engine: &Engine, window: Window) -> Result<Vec<NodeUsage>, QueryError> {
    let w = window.sql();
    let report = ReportEngine::of(engine).await?;
    let totals = report
        .query(&NODE_USAGE_SQL.replace("{window}", &w))
        .await?;
    let mut nodes: Vec<NodeUsage> = totals
        .iter()
        .map(|r| NodeUsage {
            node: r.str("node").unwrap_or_default(),
            events: r.u64("events"),
            users: r.u64("users"),
            failed_logins: r.u64("failedLogins"),
            first_seen: r.time("firstSeen"),
            last_seen: r.time("lastSeen"),
            topics: BTreeMap::new(),
            invalid_values: r.u64("invalidValues"),
        })
        .collect();
    let topics = report
        .query(&NODE_TOPICS_SQL.replace("{window}", &w))
        .await?;
    for r in topics.iter() {
        let node = r.str("node").unwrap_or_default();
        if let Some(n) = nodes.iter_mut().find(|n| n.node == node) {
            n.topics
                .insert(r.str("topic").unwrap_or_default(), r.u64("events"));
        }
    }
    Ok(nodes)
}

/// Events of one node in one hour.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct HourCount {
    /// The hour's start (UTC).
    pub hour: Timestamp,
    /// The node.
    pub node: String,
    /// Its events in that hour.
    pub events: u64,
}

/// The statement behind [`events_per_hour`].
///
/// The hour is computed on the millisecond value with integer arithmetic, not with
/// `date_trunc` or `date_bin`: DataFusion computes those in nanoseconds, whose i64 holds
/// only 1677-09-21 to 2262-04-11, and fails the whole statement ("Timestamp ... out of
/// range") for one event outside them, while the ingest accepts the years 0000 to 9999
/// (a node with a broken clock). The remainder is taken modulo the hour twice so that
/// times before 1970 (negative values) round down to their hour, not towards 1970.
/// `arrow_cast` turns the hour's milliseconds back into a time of the column's own type
/// (a plain reinterpretation, no unit conversion).
pub(super) const EVENTS_PER_HOUR_SQL: &str = r#"
SELECT arrow_cast(hour_ms, 'Timestamp(ms, "UTC")') AS hour, node, count(*) AS events
FROM (
  SELECT CAST(timestamp AS BIGINT)
           - (CAST(timestamp AS BIGINT) % 3600000 + 3600000) % 3600000 AS hour_ms,
         node
  FROM events
  WHERE {window}
)
GROUP BY hour_ms, node
ORDER BY hour_ms, node"#;

/// Events per hour per node, oldest hour first (hours without events are absent).
pub async fn events_per_hour(
    engine: &Engine,
    window: Window,
) -> Result<Vec<HourCount>, QueryError> {
    let rows = ReportEngine::of(engine)
        .await?
        .query(&EVENTS_PER_HOUR_SQL.replace("{window}", &window.sql()))
        .await?;
    Ok(rows
        .iter()
        .filter_map(|r| {
            Some(HourCount {
                hour: r.time("hour")?,
                node: r.str("node").unwrap_or_default(),
                events: r.u64("events"),
            })
        })
        .collect())
}
