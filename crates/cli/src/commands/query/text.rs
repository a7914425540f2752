//! The reports as text: aligned tables with bar charts.

use auditrail_query::reports::{
    ApiService, ComputeBy, ComputeGroup, FailedLogins, LastActivity, NodeUsage,
};

use auditrail_query::lookalikes::Marks;

use super::chart::{bar, table_of, Cell};
use crate::commands::shown::{list_item, with_marks};

const BAR: usize = 30;

// The columns of the values shown, as the answer's marks name them (`Marks::of_json` of
// the report's rows: the path of each field in their JSON, `[]` an array, `{}` the
// member names of an object), so that values of one column that look alike are marked
// there and nowhere else.
const USER: &str = "[].user";
const NODE: &str = "[].node";
const MSG_TYPE: &str = "[].msgType";
const CLIENT_IPS: &str = "[].clientIps[]";
const TOPICS: &str = "[].topics{}";
const GROUP: &str = "[].group";
const TYPES: &str = "[].types{}";
const SERVICE: &str = "[].service";
const OUTCOMES: &str = "[].outcomes{}";
const ANSWERS: &str = "[].answers[][]";
const ERRORS: &str = "[].errors[][]";

/// `value=count` pairs (values from events of `column`, each a [`list_item`]) joined by
/// `sep`.
fn pairs<'a>(column: &str, m: impl IntoIterator<Item = (&'a String, &'a u64)>, sep: &str) -> Cell {
    Cell::Own(
        m.into_iter()
            .map(|(k, c)| format!("{}={c}", list_item(column, k)))
            .collect::<Vec<_>>()
            .join(sep),
    )
}

fn ts(t: Option<auditrail::Timestamp>) -> String {
    t.map(|t| t.to_string()).unwrap_or_default()
}

pub(super) fn last_activity(r: &LastActivity) -> String {
    let mut out = table_of(
        &[
            "USER",
            "LAST ACTIVITY (UTC)",
            "NODE",
            "MSG TYPE",
            "EVENTS",
            "FAILED LOGINS",
        ],
        &r.users
            .iter()
            .map(|u| {
                vec![
                    Cell::Text(USER, u.user.clone()),
                    u.last_activity.to_string().into(),
                    Cell::Text(NODE, u.node.clone()),
                    Cell::Text(MSG_TYPE, u.msg_type.clone()),
                    u.events.to_string().into(),
                    u.failed_logins.to_string().into(),
                ]
            })
            .collect::<Vec<_>>(),
    );
    out.push_str(&users_left_out(r.invalid_values, "events", "users"));
    let strangers: Vec<FailedLogins> = r
        .failed_logins
        .iter()
        .filter(|f| !f.has_activity)
        .cloned()
        .collect();
    if !strangers.is_empty() {
        out.push_str("\nFailed logins (topic authfail) of names with no activity:\n");
        // Marked by their own column, the names tried (as `query failed-logins` marks
        // them), not by the users': a name tried that is no user's was looked up among
        // the users' marks, and two names tried that look alike (`Iris`, `lris`) were
        // shown alike.
        let marks = serde_json::to_value(&r.failed_logins)
            .map(|rows| Marks::of_json(&rows))
            .unwrap_or_default();
        out.push_str(&with_marks(marks, || failed_logins(&strangers)));
    }
    out
}

pub(super) fn failed_logins(rows: &[FailedLogins]) -> String {
    let max = rows.iter().map(|f| f.attempts).max().unwrap_or(0) as f64;
    let mut out = table_of(
        &[
            "USER TRIED",
            "ATTEMPTS",
            "LAST ATTEMPT (UTC)",
            "ACTIVE USER",
            "CLIENT IPS",
            "",
        ],
        &rows
            .iter()
            .map(|f| {
                vec![
                    f.user
                        .clone()
                        .map_or(Cell::Missing, |u| Cell::Text(USER, u)),
                    f.attempts.to_string().into(),
                    ts(f.last_attempt).into(),
                    if f.has_activity { "yes" } else { "no" }.to_owned().into(),
                    f.client_ips
                        .iter()
                        .map(|ip| list_item(CLIENT_IPS, ip))
                        .collect::<Vec<_>>()
                        .join(",")
                        .into(),
                    bar(f.attempts as f64, max, BAR).into(),
                ]
            })
            .collect::<Vec<_>>(),
    );
    let n: u64 = rows.iter().map(|f| f.invalid_values).sum();
    if n > 0 {
        let attempts = if n == 1 { "attempt" } else { "attempts" };
        out.push_str(&format!(
            "\n{n} failed login {attempts} gave an authUser that is no string (a number, an \
             object): counted under (none), the name given left out; see docs/query.md\n"
        ));
    }
    out
}

/// A line saying how many events' `authUser` a report left out as no user name (given,
/// but no string), when it left out any: before, such users were missing from the
/// table without a word.
fn users_left_out(n: u64, what: &str, counted: &str) -> String {
    if n == 0 {
        return String::new();
    }
    let values = if n == 1 { "value" } else { "values" };
    format!(
        "\n{n} authUser {values} left out of {counted} as no user name (no string: a number, \
         an object) in {what}; see docs/query.md\n"
    )
}

pub(super) fn node_usage(nodes: &[NodeUsage]) -> String {
    let max = nodes.iter().map(|u| u.events).max().unwrap_or(0) as f64;
    let mut out = table_of(
        &[
            "NODE",
            "EVENTS",
            "USERS",
            "FAILED LOGINS",
            "FIRST SEEN (UTC)",
            "LAST SEEN (UTC)",
            "TOPICS",
            "",
        ],
        &nodes
            .iter()
            .map(|u| {
                vec![
                    Cell::Text(NODE, u.node.clone()),
                    u.events.to_string().into(),
                    u.users.to_string().into(),
                    u.failed_logins.to_string().into(),
                    ts(u.first_seen).into(),
                    ts(u.last_seen).into(),
                    pairs(TOPICS, &u.topics, ","),
                    bar(u.events as f64, max, BAR).into(),
                ]
            })
            .collect::<Vec<_>>(),
    );
    let some: Vec<String> = nodes
        .iter()
        .filter(|u| u.invalid_values > 0)
        .map(|u| {
            format!(
                "{} {}",
                crate::commands::shown::table_cell(NODE, &u.node),
                u.invalid_values
            )
        })
        .collect();
    out.push_str(&users_left_out(
        nodes.iter().map(|u| u.invalid_values).sum(),
        &format!("the events of {}", some.join(", ")),
        "USERS",
    ));
    out
}

pub(super) fn compute(groups: &[ComputeGroup], by: ComputeBy) -> String {
    let max = groups.iter().map(|t| t.cpu_time_ms).fold(0.0, f64::max);
    let header = match by {
        ComputeBy::Project => "PROJECT",
        ComputeBy::User => "USER",
    };
    let mut out = table_of(
        &[
            header,
            "USAGES",
            "WALL TIME (s)",
            "CPU TIME (s)",
            "TYPES",
            "",
        ],
        &groups
            .iter()
            .map(|g| {
                vec![
                    // A usage without one is `(none)`; a project named so is quoted.
                    g.group
                        .clone()
                        .map_or(Cell::Missing, |g| Cell::Text(GROUP, g)),
                    g.usages.to_string().into(),
                    format!("{:.1}", g.wall_time_ms as f64 / 1000.0).into(),
                    format!("{:.1}", g.cpu_time_ms / 1000.0).into(),
                    pairs(TYPES, &g.types, ","),
                    bar(g.cpu_time_ms, max, BAR).into(),
                ]
            })
            .collect::<Vec<_>>(),
    );
    out.push_str(&left_out(
        groups.iter().map(|g| g.invalid_values).sum(),
        "startTime/endTime not a time of the years 0000 to 9999, cpuTotalMS not a number \
         from 0 to 2^53 ms, an end before its start, or a project key or user that is no \
         string, counted under (none)",
    ));
    out
}

/// A line saying how many of the events' numbers a report left out, when it left out
/// any: the table's sums are then those of the other values, and a reader must know.
fn left_out(n: u64, what: &str) -> String {
    if n == 0 {
        return String::new();
    }
    let values = if n == 1 { "value" } else { "values" };
    format!("\n{n} {values} left out as no measurement ({what}); see docs/query.md\n")
}

pub(super) fn api_answers(services: &[ApiService]) -> String {
    let max = services.iter().map(|s| s.queries).max().unwrap_or(0) as f64;
    let top = |column, v: &[(String, u64)]| pairs(column, v.iter().map(|(k, c)| (k, c)), ", ");
    let mut out = table_of(
        &[
            "SERVICE", "QUERIES", "OUTCOMES", "P50 (ms)", "P90 (ms)", "P99 (ms)", "MAX (ms)", "",
        ],
        &services
            .iter()
            .map(|s| {
                let l = |f: fn(&auditrail_query::reports::Latency) -> f64| {
                    s.latency
                        .as_ref()
                        .map(|l| format!("{:.1}", f(l)))
                        .unwrap_or_default()
                };
                vec![
                    s.service
                        .clone()
                        .map_or(Cell::Missing, |s| Cell::Text(SERVICE, s)),
                    s.queries.to_string().into(),
                    pairs(OUTCOMES, &s.outcomes, ","),
                    l(|l| l.p50).into(),
                    l(|l| l.p90).into(),
                    l(|l| l.p99).into(),
                    l(|l| l.max).into(),
                    bar(s.queries as f64, max, BAR).into(),
                ]
            })
            .collect::<Vec<_>>(),
    );
    let details: Vec<Vec<Cell>> = services
        .iter()
        .filter(|s| !s.answers.is_empty() || !s.errors.is_empty())
        .map(|s| {
            vec![
                s.service
                    .clone()
                    .map_or(Cell::Missing, |s| Cell::Text(SERVICE, s)),
                top(ANSWERS, &s.answers),
                top(ERRORS, &s.errors),
            ]
        })
        .collect();
    if !details.is_empty() {
        out.push('\n');
        out.push_str(&table_of(
            &["SERVICE", "TOP ANSWERS", "TOP ERRORS"],
            &details,
        ));
    }
    out.push_str(&left_out(
        services.iter().map(|s| s.invalid_values).sum(),
        "responseTimeMS not a number from 0 to 2^53 ms",
    ));
    out
}
