//! Compute used per project or user (topic `compute-resource-usage`).
//!
//! The metrics of a usage are cumulative (the reference product's
//! `computeResourceUsage`: the last `update`/`complete` of an `id` holds the totals), so
//! adding up events would count a job once per update. Each usage counts once, a
//! usage being a `computeResourceUsage.id` of one node (the events' `node`): ids are
//! chosen by each node (DSS-like nodes number theirs from `cru-00001`), so two nodes'
//! usages of one id are two usages. Before, usages were keyed by the id alone, and two
//! nodes' `cru-00001` merged into one: the project of one of them (`max`) took both, its
//! CPU time the last total of either, its wall time from the first start to the last
//! end. An event whose id is missing or no string (`42`, an object) belongs to no
//! usage: it is left out and counted in `invalidValues` of its group (before, it
//! vanished without a word).
//! - CPU time in a window is the usage's total at the window's end (the `cpuTotalMS`
//!   of its last event before the end) minus its total at the window's start (of its
//!   last event before the start), so a job running across two windows is split
//!   between them, and the two answers add up to the job's total. "Last" is by the
//!   event's `timestamp`, then by the node's `seq` (the order the node emitted them
//!   in): not the order they were stored in, which
//!   differs between two stores and after a node's spool sent a batch again. Only an
//!   event carrying a readable `cpuTotalMS` holds a total (a `start` carries none). A
//!   total that went down (a counter reset) gives the window it went down in 0, never a
//!   negative figure. Before, the highest `cpuTotalMS` was taken, not the last;
//! - wall time is the part of `[startTime, endTime]` inside the window (`endTime`, while
//!   the usage is not complete, is its last event's time);
//! - a usage counts in `usages` of every window it was active in (an event, or part of
//!   its run, inside the window).
//!
//! Where a usage started and ended needs its events outside the window too: the
//! statement reads the `compute-resource-usage` topic's folders at all times (and only
//! those).

use std::collections::BTreeMap;

use serde::Serialize;

use super::one_listing::ReportEngine;
use crate::error::QueryError;
use crate::{Engine, Window};

/// How [`compute`] groups usages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ComputeBy {
    /// `computeResourceUsage.context.projectKey`
    Project,
    /// `computeResourceUsage.context.authIdentifier`
    User,
}

impl ComputeBy {
    fn path(self) -> &'static str {
        match self {
            ComputeBy::Project => "projectKey",
            ComputeBy::User => "authIdentifier",
        }
    }
}

/// Compute used by one project or user.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ComputeGroup {
    /// The project key or user; `None` (JSON `null`) when the usage has none, or one
    /// that is no string. A project really named `(none)` is its own group: the text
    /// tables show a missing one as `(none)` and that one in quotes.
    pub group: Option<String>,
    /// Distinct usages (a node's `computeResourceUsage.id`) active in the window.
    pub usages: u64,
    /// Wall time inside the window, ms.
    pub wall_time_ms: i64,
    /// CPU time inside the window (`localProcess.cpuTotalMS`), ms: the usages' times
    /// added exactly (each to a millionth of a ms), then rounded once to a double, so
    /// the figure does not depend on the order the engine reads the events in.
    pub cpu_time_ms: f64,
    /// Usages per `computeResourceUsage.type`.
    pub types: BTreeMap<String, u64>,
    /// Numbers of its usages left out as no measurement (`startTime` or `endTime`
    /// not a time of the years 0000 to 9999, `cpuTotalMS` not a JSON number from 0 to
    /// 2^53 ms), usages whose end is before their start, events in the window whose
    /// `computeResourceUsage.id` is missing or no string (left out: they belong to no
    /// usage), and, in the group without a name, project keys or users given as no
    /// string (`42`: counted there).
    pub invalid_values: u64,
}

/// The statement behind [`compute`]. `{group}`: the context key; `{since_ms}` /
/// `{until_ms}`: the window's ends in ms since the epoch.
///
/// The numbers are whatever the events carry, and each is read only within its range
/// ([`super::values::checked_numbers`]): `startTime` and `endTime` within the years
/// 0000 to 9999 (one outside is not a time: the usage's events' own times are used,
/// as when it is missing), `cpuTotalMS` from 0 to 2^53 ms. A value outside (a
/// negative counter, `-9223372036854775808`, `1.7e308`, `1e400`, a string) is left out
/// and counted in `invalidValues`, as is a usage whose end is before its start (its
/// wall time is 0). Before, one such usage made its group's CPU time negative or
/// `null` (a sum past the largest double), or its wall time wrap around. Within the
/// years a usage's wall time is under 2^49 ms, and the sum per group is taken as a
/// decimal, which no number of usages overflows; the CPU times, each at most 2^53,
/// add up to a finite double. A project key or user (`authIdentifier`) given as no
/// string (`42`) is counted in `invalidValues` too: its usage goes to the group without
/// a name (`NULL`), as one without, and that was not said. The group is not named
/// `'(none)'` here: that merged it with a project really named so. A usage is keyed by
/// its node and id (`GROUP BY node, id`), and an event without a string id (`no_id`)
/// is counted in its group's `invalidValues`, in no usage.
pub(super) const COMPUTE_SQL: &str = r#"
WITH raw AS (
  SELECT node,
         json_get_str(message, 'computeResourceUsage', 'id') AS id,
         CAST(timestamp AS BIGINT) AS ts_ms,
         seq,
         json_get_str(message, 'computeResourceUsage', 'type') AS usage_type,
         json_get_str(message, 'computeResourceUsage', 'context', '{group}') AS grp,
         json_get_json(message, 'computeResourceUsage', 'context', '{group}') AS grp_raw,
         json_get_json(message, 'computeResourceUsage', 'startTime') AS start_raw,
         json_get_json(message, 'computeResourceUsage', 'endTime') AS end_raw,
         json_get_json(message, 'computeResourceUsage', 'localProcess', 'cpuTotalMS') AS cpu_raw
  FROM events
  WHERE topic = 'compute-resource-usage'
),
u AS (
  SELECT node, id, ts_ms, seq, usage_type, grp,
         CAST({time:start_raw} AS BIGINT) AS start_ms,
         CAST({time:end_raw} AS BIGINT) AS end_ms,
         {ms:cpu_raw} AS cpu_ms,
         {unread_time:start_raw} + {unread_time:end_raw} + {unread_ms:cpu_raw}
           + CASE WHEN grp IS NULL AND grp_raw <> 'null' THEN 1 ELSE 0 END AS unread
  FROM raw
),
per_usage AS (
  SELECT node, id,
         max(grp) AS grp,
         max(usage_type) AS usage_type,
         coalesce(min(start_ms), min(ts_ms)) AS start_ms,
         coalesce(max(end_ms), max(ts_ms)) AS end_ms,
         greatest(
           coalesce(last_value(cpu_ms ORDER BY ts_ms, seq)
             FILTER (WHERE cpu_ms IS NOT NULL AND ts_ms < {until_ms}), 0.0)
           - coalesce(last_value(cpu_ms ORDER BY ts_ms, seq)
             FILTER (WHERE cpu_ms IS NOT NULL AND ts_ms < {since_ms}), 0.0),
           0.0) AS cpu_ms,
         count(CASE WHEN ts_ms >= {since_ms} AND ts_ms < {until_ms} THEN 1 END) AS events_in,
         sum(unread) AS unread
  FROM u
  WHERE id IS NOT NULL
  GROUP BY node, id
),
no_id AS (
  SELECT grp, count(*) AS unread
  FROM u
  WHERE id IS NULL AND ts_ms >= {since_ms} AND ts_ms < {until_ms}
  GROUP BY grp
),
clipped AS (
  SELECT grp, usage_type, cpu_ms, events_in,
         unread + CASE WHEN end_ms < start_ms THEN 1 ELSE 0 END AS unread,
         greatest(least(end_ms, {until_ms}) - greatest(start_ms, {since_ms}), 0) AS wall_ms,
         1 AS is_usage
  FROM per_usage
  UNION ALL
  SELECT grp, CAST(NULL AS VARCHAR), 0.0, 1, unread, CAST(0 AS BIGINT), 0
  FROM no_id
)
SELECT grp AS "group",
       coalesce(usage_type, '?') AS "type",
       sum(is_usage) AS usages,
       sum(CAST(wall_ms AS DECIMAL(38, 0))) AS "wallTimeMs",
       {sum_ms:cpu_ms} AS "cpuTimeMs",
       sum(unread) AS "invalidValues"
FROM clipped
WHERE events_in > 0 OR wall_ms > 0
GROUP BY 1, 2
ORDER BY 1 NULLS LAST, 2"#;

/// The statement for `by` and `window`.
pub(super) fn compute_sql(by: ComputeBy, window: Window) -> String {
    // Open ends: the widest instants (an i64 literal, so no overflow in the arithmetic
    // as long as the times are real ones).
    let since = window.since.map_or(-(1i64 << 62), |t| t.unix_millis());
    let until = window.until.map_or(1i64 << 62, |t| t.unix_millis());
    super::values::checked_numbers(COMPUTE_SQL)
        .replace("{group}", by.path())
        .replace("{since_ms}", &since.to_string())
        .replace("{until_ms}", &until.to_string())
}

/// Compute per project or user, sorted by group.
pub async fn compute(
    engine: &Engine,
    by: ComputeBy,
    window: Window,
) -> Result<Vec<ComputeGroup>, QueryError> {
    let rows = ReportEngine::of(engine)
        .await?
        .query(&compute_sql(by, window))
        .await?;
    let mut groups: Vec<ComputeGroup> = Vec::new();
    // Each group's CPU time over its types, exactly, as `cpuTimeMs` is per type: the
    // double is made once, from the whole sum.
    let mut cpu_units: Vec<i128> = Vec::new();
    for r in rows.iter() {
        let name = r.str("group");
        if groups.last().is_none_or(|g| g.group != name) {
            groups.push(ComputeGroup {
                group: name,
                usages: 0,
                wall_time_ms: 0,
                cpu_time_ms: 0.0,
                types: BTreeMap::new(),
                invalid_values: 0,
            });
            cpu_units.push(0);
        }
        if let Some(g) = groups.last_mut() {
            let usages = r.u64("usages");
            g.usages += usages;
            // Saturating: each type's sum is exact (a decimal), and only a pile of
            // usages each claiming thousands of years goes past an i64 of ms together.
            g.wall_time_ms = g
                .wall_time_ms
                .saturating_add(r.i64_saturating("wallTimeMs").unwrap_or(0));
            if let Some(units) = cpu_units.last_mut() {
                *units = units.saturating_add(r.exact_ms_units("cpuTimeMs").unwrap_or(0));
            }
            g.invalid_values += r.u64("invalidValues");
            // The events left out for having no usage id are no usage of any type.
            if usages > 0 {
                *g.types
                    .entry(r.str("type").unwrap_or_else(|| "?".to_owned()))
                    .or_default() += usages;
            }
        }
    }
    for (g, units) in groups.iter_mut().zip(cpu_units) {
        g.cpu_time_ms = super::values::exact_ms_f64(units, 1);
    }
    Ok(groups)
}
