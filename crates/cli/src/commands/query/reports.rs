//! The four reports. Each reads the scan once and returns text and JSON.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use anyhow::Result;
use serde_json::{json, Value};

use super::chart::{bar, table};
use super::records::Scan;

/// A report, ready to print.
pub struct Output {
    pub text: String,
    pub json: Value,
    pub skipped_lines: u64,
}

fn str_at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    path.iter()
        .try_fold(v, |v, k| v.get(k))
        .and_then(Value::as_str)
}

/// When each user last did something.
pub fn last_activity(mut scan: Scan) -> Result<Output> {
    struct Last {
        at: auditrail::Timestamp,
        node: String,
        msg_type: String,
        events: u64,
    }
    let mut users: HashMap<String, Last> = HashMap::new();
    scan.for_each(|s| {
        let Some(user) = str_at(&s.event, &["message", "authUser"]) else {
            return;
        };
        let entry = users.entry(user.to_owned()).or_insert_with(|| Last {
            at: s.timestamp,
            node: String::new(),
            msg_type: String::new(),
            events: 0,
        });
        entry.events += 1;
        if s.timestamp >= entry.at || entry.node.is_empty() {
            entry.at = s.timestamp;
            entry.node = str_at(&s.event, &["node"]).unwrap_or("").to_owned();
            entry.msg_type = str_at(&s.event, &["message", "msgType"])
                .unwrap_or("")
                .to_owned();
        }
    })?;
    let mut rows: Vec<(String, Last)> = users.into_iter().collect();
    rows.sort_by(|a, b| b.1.at.cmp(&a.1.at).then_with(|| a.0.cmp(&b.0)));
    let text = table(
        &["USER", "LAST ACTIVITY (UTC)", "NODE", "MSG TYPE", "EVENTS"],
        &rows
            .iter()
            .map(|(u, l)| {
                vec![
                    u.clone(),
                    l.at.to_string(),
                    l.node.clone(),
                    l.msg_type.clone(),
                    l.events.to_string(),
                ]
            })
            .collect::<Vec<_>>(),
    );
    let json = json!(rows
        .iter()
        .map(|(u, l)| json!({"user": u, "lastActivity": l.at.to_string(), "node": l.node, "msgType": l.msg_type, "events": l.events}))
        .collect::<Vec<_>>());
    Ok(Output {
        text,
        json,
        skipped_lines: scan.skipped_lines,
    })
}

/// How each node is used: volume, users, time span, topics.
pub fn node_usage(mut scan: Scan) -> Result<Output> {
    #[derive(Default)]
    struct Usage {
        events: u64,
        users: BTreeSet<String>,
        first: Option<auditrail::Timestamp>,
        last: Option<auditrail::Timestamp>,
        topics: BTreeMap<String, u64>,
    }
    let mut nodes: BTreeMap<String, Usage> = BTreeMap::new();
    scan.for_each(|s| {
        let node = str_at(&s.event, &["node"])
            .unwrap_or("(unknown)")
            .to_owned();
        let u = nodes.entry(node).or_default();
        u.events += 1;
        if let Some(user) = str_at(&s.event, &["message", "authUser"]) {
            u.users.insert(user.to_owned());
        }
        u.first = Some(u.first.map_or(s.timestamp, |f| f.min(s.timestamp)));
        u.last = Some(u.last.map_or(s.timestamp, |l| l.max(s.timestamp)));
        *u.topics
            .entry(str_at(&s.event, &["topic"]).unwrap_or("").to_owned())
            .or_default() += 1;
    })?;
    let max = nodes.values().map(|u| u.events).max().unwrap_or(0) as f64;
    let ts = |t: Option<auditrail::Timestamp>| t.map(|t| t.to_string()).unwrap_or_default();
    let text = table(
        &[
            "NODE",
            "EVENTS",
            "USERS",
            "FIRST SEEN (UTC)",
            "LAST SEEN (UTC)",
            "TOPICS",
            "",
        ],
        &nodes
            .iter()
            .map(|(n, u)| {
                vec![
                    n.clone(),
                    u.events.to_string(),
                    u.users.len().to_string(),
                    ts(u.first),
                    ts(u.last),
                    u.topics
                        .iter()
                        .map(|(t, c)| format!("{t}={c}"))
                        .collect::<Vec<_>>()
                        .join(","),
                    bar(u.events as f64, max, 30),
                ]
            })
            .collect::<Vec<_>>(),
    );
    let json = json!(nodes
        .iter()
        .map(
            |(n, u)| json!({"node": n, "events": u.events, "users": u.users.len(),
            "firstSeen": ts(u.first), "lastSeen": ts(u.last), "topics": u.topics})
        )
        .collect::<Vec<_>>());
    Ok(Output {
        text,
        json,
        skipped_lines: scan.skipped_lines,
    })
}

/// How `compute` groups usages.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum ComputeBy {
    /// `computeResourceUsage.context.projectKey`
    Project,
    /// `computeResourceUsage.context.authIdentifier`
    User,
}

/// Compute used per project or user. Usage metrics are cumulative, so only the last
/// event (by timestamp) of each usage id counts.
pub fn compute(mut scan: Scan, by: ComputeBy) -> Result<Output> {
    let mut last: HashMap<String, (auditrail::Timestamp, Value)> = HashMap::new();
    scan.for_each(|s| {
        if str_at(&s.event, &["topic"]) != Some("compute-resource-usage") {
            return;
        }
        let Some(usage) = s
            .event
            .get("message")
            .and_then(|m| m.get("computeResourceUsage"))
        else {
            return;
        };
        let Some(id) = usage.get("id").map(|v| v.to_string()) else {
            return;
        };
        match last.get(&id) {
            Some((t, _)) if *t > s.timestamp => {}
            _ => {
                last.insert(id, (s.timestamp, usage.clone()));
            }
        }
    })?;
    #[derive(Default)]
    struct Total {
        usages: u64,
        wall_ms: u64,
        cpu_ms: f64,
        types: BTreeMap<String, u64>,
    }
    let key = match by {
        ComputeBy::Project => "projectKey",
        ComputeBy::User => "authIdentifier",
    };
    let mut totals: BTreeMap<String, Total> = BTreeMap::new();
    for (_, usage) in last.values() {
        let group = str_at(usage, &["context", key])
            .unwrap_or("(none)")
            .to_owned();
        let t = totals.entry(group).or_default();
        t.usages += 1;
        let start = usage.get("startTime").and_then(Value::as_u64);
        let end = usage.get("endTime").and_then(Value::as_u64);
        if let (Some(s), Some(e)) = (start, end) {
            t.wall_ms += e.saturating_sub(s);
        }
        t.cpu_ms += sum_key(usage, "cpuTotalMS");
        *t.types
            .entry(str_at(usage, &["type"]).unwrap_or("?").to_owned())
            .or_default() += 1;
    }
    let max = totals.values().map(|t| t.cpu_ms).fold(0.0, f64::max);
    let header = match by {
        ComputeBy::Project => "PROJECT",
        ComputeBy::User => "USER",
    };
    let text = table(
        &[
            header,
            "USAGES",
            "WALL TIME (s)",
            "CPU TIME (s)",
            "TYPES",
            "",
        ],
        &totals
            .iter()
            .map(|(g, t)| {
                vec![
                    g.clone(),
                    t.usages.to_string(),
                    format!("{:.1}", t.wall_ms as f64 / 1000.0),
                    format!("{:.1}", t.cpu_ms / 1000.0),
                    t.types
                        .iter()
                        .map(|(k, c)| format!("{k}={c}"))
                        .collect::<Vec<_>>()
                        .join(","),
                    bar(t.cpu_ms, max, 30),
                ]
            })
            .collect::<Vec<_>>(),
    );
    let json = json!(totals
        .iter()
        .map(|(g, t)| json!({"group": g, "usages": t.usages, "wallTimeMs": t.wall_ms, "cpuTimeMs": t.cpu_ms, "types": t.types}))
        .collect::<Vec<_>>());
    Ok(Output {
        text,
        json,
        skipped_lines: scan.skipped_lines,
    })
}

/// Sum of every numeric `key` anywhere below `v` (type-specific blocks such as
/// `localProcess.cpuTotalMS`).
fn sum_key(v: &Value, key: &str) -> f64 {
    match v {
        Value::Object(map) => map
            .iter()
            .map(|(k, v)| {
                if k == key {
                    v.as_f64().unwrap_or(0.0)
                } else {
                    sum_key(v, key)
                }
            })
            .sum(),
        Value::Array(items) => items.iter().map(|v| sum_key(v, key)).sum(),
        _ => 0.0,
    }
}

/// What each API service answered: apinode-query events per routing key, by message
/// type and by outcome (`status`, `responseStatus` or `httpCode` in the message, or
/// `error` when the message carries an error).
pub fn api_answers(mut scan: Scan) -> Result<Output> {
    #[derive(Default)]
    struct Service {
        queries: u64,
        msg_types: BTreeMap<String, u64>,
        outcomes: BTreeMap<String, u64>,
    }
    let mut services: BTreeMap<String, Service> = BTreeMap::new();
    scan.for_each(|s| {
        if str_at(&s.event, &["topic"]) != Some("apinode-query") {
            return;
        }
        let service = str_at(&s.event, &["routingKey"])
            .unwrap_or("(no routing key)")
            .to_owned();
        let svc = services.entry(service).or_default();
        svc.queries += 1;
        let message = s.event.get("message").cloned().unwrap_or_default();
        *svc.msg_types
            .entry(str_at(&message, &["msgType"]).unwrap_or("").to_owned())
            .or_default() += 1;
        let outcome = ["status", "responseStatus", "httpCode"]
            .iter()
            .find_map(|k| {
                message
                    .get(*k)
                    .filter(|v| !v.is_null())
                    .map(|v| v.as_str().map_or(v.to_string(), str::to_owned))
            })
            .or_else(|| {
                message
                    .get("error")
                    .filter(|v| !v.is_null())
                    .map(|_| "error".to_owned())
            })
            .unwrap_or_else(|| "unspecified".to_owned());
        *svc.outcomes.entry(outcome).or_default() += 1;
    })?;
    let max = services.values().map(|s| s.queries).max().unwrap_or(0) as f64;
    let fmt = |m: &BTreeMap<String, u64>| {
        m.iter()
            .map(|(k, c)| format!("{k}={c}"))
            .collect::<Vec<_>>()
            .join(",")
    };
    let text = table(
        &["SERVICE", "QUERIES", "OUTCOMES", "MSG TYPES", ""],
        &services
            .iter()
            .map(|(n, s)| {
                vec![
                    n.clone(),
                    s.queries.to_string(),
                    fmt(&s.outcomes),
                    fmt(&s.msg_types),
                    bar(s.queries as f64, max, 30),
                ]
            })
            .collect::<Vec<_>>(),
    );
    let json = json!(services
        .iter()
        .map(|(n, s)| json!({"service": n, "queries": s.queries, "outcomes": s.outcomes, "msgTypes": s.msg_types}))
        .collect::<Vec<_>>());
    Ok(Output {
        text,
        json,
        skipped_lines: scan.skipped_lines,
    })
}
