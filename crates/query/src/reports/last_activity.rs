//! When each user last did something, and, apart from that, failed logins.
//!
//! Activity is every event that names an `authUser`, except the `authfail` topic: a
//! failed login names whoever the caller claimed to be (an attacker trying `admin`),
//! which is not that user's activity. Failed logins are reported on their own, per
//! claimed name, and each active user's row carries their count too.

use auditrail_core::Timestamp;
use serde::Serialize;

use super::values::query;
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
}

/// The statement behind [`LastActivity::users`].
pub(super) const LAST_ACTIVITY_SQL: &str = r#"
SELECT authUser AS "user",
       max(timestamp) AS "lastActivity",
       last_value(node ORDER BY timestamp, seq) AS node,
       last_value(msgType ORDER BY timestamp, seq) AS "msgType",
       count(*) AS events
FROM events
WHERE topic <> 'authfail' AND authUser IS NOT NULL AND {window}
GROUP BY authUser
ORDER BY "lastActivity" DESC, "user""#;

/// The statement behind [`LastActivity::failed_logins`].
pub(super) const FAILED_LOGINS_SQL: &str = r#"
SELECT authUser AS "user",
       count(*) AS attempts,
       max(timestamp) AS "lastAttempt",
       string_agg(DISTINCT coalesce(clientIP, origAddress), ',') AS "clientIPs"
FROM events
WHERE topic = 'authfail' AND {window}
GROUP BY authUser
ORDER BY attempts DESC, "user""#;

/// Last activity per user and failed logins per name.
pub async fn last_activity(engine: &Engine, window: Window) -> Result<LastActivity, QueryError> {
    let w = window.sql();
    let failed_rows = query(engine, &FAILED_LOGINS_SQL.replace("{window}", &w)).await?;
    let mut failed: Vec<FailedLogins> = failed_rows
        .iter()
        .map(|r| {
            let mut ips: Vec<String> = r
                .str("clientIPs")
                .map(|s| {
                    s.split(',')
                        .filter(|s| !s.is_empty())
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default();
            ips.sort();
            FailedLogins {
                user: r.str("user"),
                attempts: r.u64("attempts"),
                last_attempt: r.time("lastAttempt"),
                client_ips: ips,
                has_activity: false,
            }
        })
        .collect();
    let rows = query(engine, &LAST_ACTIVITY_SQL.replace("{window}", &w)).await?;
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
    })
}
