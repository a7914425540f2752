//! When each user last did something, and, apart from that, failed logins.
//!
//! Activity is every event that names an `authUser`, except the `authfail` topic: a
//! failed login names whoever the caller claimed to be (an attacker trying `admin`),
//! which is not that user's activity. Failed logins are reported on their own, per
//! claimed name, and each active user's row carries their count too.
//!
//! Only a string `authUser` is a user name (the `authUser` column). An event whose
//! `authUser` is there but is no string (`42`, `true`, an object) is no user's
//! activity, and it is counted as left out (`invalidValues`), not dropped without a
//! word: before, a node sending user ids as numbers had its users missing from the
//! report and nothing said so.

use auditrail_core::Timestamp;
use serde::Serialize;

use super::one_listing::ReportEngine;
use crate::error::QueryError;
use crate::{Engine, Window};

/// One user's last activity.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct UserActivity {
    /// The `authUser`.
    pub user: String,
    /// Time of their last event (failed logins aside).
    pub last_activity: Timestamp,
    /// The node of that event.
    pub node: String,
    /// Its `msgType`.
    pub msg_type: String,
    /// Their events in the window (failed logins aside).
    pub events: u64,
    /// Failed logins (`authfail`) naming them in the window.
    pub failed_logins: u64,
}

/// Failed logins naming one user.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct FailedLogins {
    /// The name tried (`authUser` of the `authfail` events; `null` when none was given).
    pub user: Option<String>,
    /// Number of failed logins.
    pub attempts: u64,
    /// The last one's time.
    pub last_attempt: Option<Timestamp>,
    /// Distinct client addresses (`clientIP`, else the server-seen `origAddress`).
    pub client_ips: Vec<String>,
    /// Whether the same name has activity (other than failed logins) in the window.
    pub has_activity: bool,
    /// Of these attempts, those whose `authUser` was given but is no string (a
    /// number, an object): they are counted under no name (`user` `null`), the name
    /// they gave left out.
    pub invalid_values: u64,
}

/// Both parts of the report.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct LastActivity {
    /// Users by last activity, newest first.
    pub users: Vec<UserActivity>,
    /// Failed logins per name, most attempts first.
    pub failed_logins: Vec<FailedLogins>,
    /// Events (failed logins aside) whose `authUser` is given but is no string (a
    /// number, an object): no user's activity, left out of `users`.
    pub invalid_values: u64,
}

/// The statement behind [`LastActivity::users`] and [`LastActivity::invalid_values`]:
/// the events whose `authUser` is no string make the one row whose `user` is `null`,
/// whose `events` are those left out (no user's row: the report drops it).
pub(super) const LAST_ACTIVITY_SQL: &str = r#"
SELECT authUser AS "user",
       max(timestamp) AS "lastActivity",
       last_value(node ORDER BY timestamp, seq) AS node,
       last_value(msgType ORDER BY timestamp, seq) AS "msgType",
       count(*) AS events
FROM events
WHERE topic <> 'authfail'
  AND (authUser IS NOT NULL OR json_get_json(message, 'authUser') <> 'null')
  AND {window}
GROUP BY authUser
ORDER BY "lastActivity" DESC, "user""#;

/// The statement behind [`LastActivity::failed_logins`].
pub(super) const FAILED_LOGINS_SQL: &str = r#"
SELECT authUser AS "user",
       count(*) AS attempts,
       max(timestamp) AS "lastAttempt",
       array_agg(DISTINCT coalesce(clientIP, origAddress)) AS "clientIPs",
       sum(CASE WHEN authUser IS NULL AND json_get_json(message, 'authUser') <> 'null'
                THEN 1 ELSE 0 END) AS "invalidValues"
FROM events
WHERE topic = 'authfail' AND {window}
GROUP BY authUser
ORDER BY attempts DESC, "user""#;

/// Last activity per user and failed logins per name.
pub async fn last_activity(engine: &Engine, window: Window) -> Result<LastActivity, QueryError> {
    let w = window.sql();
    let report = ReportEngine::of(engine).await?;
    let failed_rows = report
        .query(&FAILED_LOGINS_SQL.replace("{window}", &w))
        .await?;
    let mut failed: Vec<FailedLogins> = failed_rows
        .iter()
        .map(|r| {
            // A list, not a text joined with `,` and split again: an address is any
            // string a client sent, commas ("203.0.113.7, 10.0.0.1") and all.
            let mut ips = r.strs("clientIPs");
            ips.sort();
            FailedLogins {
                user: r.str("user"),
                attempts: r.u64("attempts"),
                last_attempt: r.time("lastAttempt"),
                client_ips: ips,
                has_activity: false,
                invalid_values: r.u64("invalidValues"),
            }
        })
        .collect();
    let rows = report
        .query(&LAST_ACTIVITY_SQL.replace("{window}", &w))
        .await?;
    let invalid_values = rows
        .iter()
        .filter(|r| r.str("user").is_none())
        .map(|r| r.u64("events"))
        .sum();
    let users: Vec<UserActivity> = rows
        .iter()
        .filter_map(|r| {
            let user = r.str("user")?;
            let failed_logins = match failed.iter_mut().find(|f| f.user.as_ref() == Some(&user)) {
                Some(f) => {
                    f.has_activity = true;
                    f.attempts
                }
                None => 0,
            };
            Some(UserActivity {
                last_activity: r.time("lastActivity")?,
                node: r.str("node").unwrap_or_default(),
                msg_type: r.str("msgType").unwrap_or_default(),
                events: r.u64("events"),
                failed_logins,
                user,
            })
        })
        .collect();
    Ok(LastActivity {
        users,
        failed_logins: failed,
        invalid_values,
    })
}
