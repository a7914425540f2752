//! Finding events by their fields: "everything user X did since yesterday".

use datafusion::dataframe::DataFrame;
use datafusion::logical_expr::{lit, Expr};
use datafusion::prelude::ident;

use crate::error::QueryError;
use crate::{Engine, Window};

/// Conditions on events; every one given must hold. Values are matched exactly.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventFilter {
    /// `authUser`
    pub user: Option<String>,
    /// `topic`
    pub topic: Option<String>,
    /// `routingKey`
    pub routing_key: Option<String>,
    /// `node`
    pub node: Option<String>,
    /// `msgType`
    pub msg_type: Option<String>,
    /// The event's `timestamp`.
    pub window: Window,
}

impl EventFilter {
    /// The conditions as one DataFusion expression (`None`: no condition).
    ///
    /// Built with the DataFrame API, never by pasting values into SQL text.
    pub fn expr(&self) -> Option<Expr> {
        let mut parts: Vec<Expr> = Vec::new();
        let fields = [
            ("authUser", &self.user),
            ("topic", &self.topic),
            ("routingKey", &self.routing_key),
            ("node", &self.node),
            ("msgType", &self.msg_type),
        ];
        for (column, value) in fields {
            if let Some(v) = value {
                parts.push(ident(column).eq(lit(v.clone())));
            }
        }
        if let Some(s) = self.window.since {
            parts.push(ident("timestamp").gt_eq(timestamp(s)));
        }
        if let Some(u) = self.window.until {
            parts.push(ident("timestamp").lt(timestamp(u)));
        }
        parts.into_iter().reduce(Expr::and)
    }
}

fn timestamp(t: auditrail_core::Timestamp) -> Expr {
    lit(datafusion::common::ScalarValue::TimestampMillisecond(
        Some(t.unix_millis()),
        Some("UTC".into()),
    ))
}

/// The events matching `filter`, newest first, at most `limit` (all when `None`).
pub async fn events(
    engine: &Engine,
    filter: &EventFilter,
    limit: Option<usize>,
) -> Result<DataFrame, QueryError> {
    let mut df = engine.events().await?;
    if let Some(e) = filter.expr() {
        df = df.filter(e)?;
    }
    df = df.sort(vec![
        ident("timestamp").sort(false, true),
        ident("node").sort(true, true),
        ident("seq").sort(false, true),
    ])?;
    if let Some(rows) = limit.and_then(crate::engine::fetch) {
        df = df.limit(0, Some(rows))?;
    }
    Ok(df)
}

impl EventFilter {
    /// Whether one event in its wire form (`{"id", "timestamp", "topic", "routingKey",
    /// "node", "seq", "message"}`) meets every condition: the conditions of
    /// [`EventFilter::expr`], for events that are not in a table (the event server's
    /// live view and stream). Read by the same reader as the table's rows, so a field
    /// means the same in both. Bytes that are not one event match nothing.
    pub fn matches_wire(&self, json: &[u8]) -> bool {
        let Ok(row) = crate::read::parse_event(json) else {
            return false;
        };
        let same = |want: &Option<String>, got: Option<&str>| {
            want.as_deref().is_none_or(|w| got == Some(w))
        };
        same(&self.user, row.fields.auth_user.as_deref())
            && same(&self.topic, Some(&row.event.topic))
            && same(&self.routing_key, row.event.routing_key.as_deref())
            && same(&self.node, Some(&row.event.node))
            && same(&self.msg_type, row.fields.msg_type.as_deref())
            && (self.window == Window::default() || self.window.contains(row.event.timestamp))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EVENT: &str = r#"{"id":"01936f6e-1b2c-7d3e-8f40-123456789abc","timestamp":"2026-11-29T10:00:00.000Z","topic":"authfail","routingKey":"svc-a","node":"n1","seq":7,"message":{"msgType":"login-failed","authUser":"mallory"}}"#;

    fn f() -> EventFilter {
        EventFilter::default()
    }

    #[test]
    fn wire_events_match_each_condition() {
        let e = EVENT.as_bytes();
        assert!(f().matches_wire(e));
        let yes = [
            EventFilter {
                topic: Some("authfail".into()),
                ..f()
            },
            EventFilter {
                routing_key: Some("svc-a".into()),
                ..f()
            },
            EventFilter {
                node: Some("n1".into()),
                ..f()
            },
            EventFilter {
                user: Some("mallory".into()),
                ..f()
            },
            EventFilter {
                msg_type: Some("login-failed".into()),
                ..f()
            },
            EventFilter {
                window: Window {
                    since: Some("2026-11-29T10:00:00Z".parse().unwrap()),
                    until: Some("2026-11-29T10:00:00.001Z".parse().unwrap()),
                },
                ..f()
            },
        ];
        for y in yes {
            assert!(y.matches_wire(e), "{y:?}");
        }
        let no = [
            EventFilter {
                topic: Some("generic".into()),
                ..f()
            },
            EventFilter {
                routing_key: Some("svc-b".into()),
                ..f()
            },
            EventFilter {
                node: Some("n2".into()),
                ..f()
            },
            EventFilter {
                user: Some("alice".into()),
                ..f()
            },
            EventFilter {
                msg_type: Some("login".into()),
                ..f()
            },
            EventFilter {
                window: Window {
                    since: Some("2026-11-29T10:00:00.001Z".parse().unwrap()),
                    until: None,
                },
                ..f()
            },
            EventFilter {
                window: Window {
                    since: None,
                    until: Some("2026-11-29T10:00:00Z".parse().unwrap()),
                },
                ..f()
            },
        ];
        for n in no {
            assert!(!n.matches_wire(e), "{n:?}");
        }
    }

    #[test]
    fn an_event_without_the_field_does_not_match_a_condition_on_it() {
        let e = br#"{"id":"01936f6e-1b2c-7d3e-8f40-123456789abc","timestamp":"2026-11-29T10:00:00.000Z","topic":"generic","node":"n1","seq":1,"message":{"msgType":"x","authUser":5}}"#;
        assert!(!EventFilter {
            routing_key: Some("svc-a".into()),
            ..f()
        }
        .matches_wire(e));
        assert!(!EventFilter {
            user: Some("5".into()),
            ..f()
        }
        .matches_wire(e));
        assert!(!f().matches_wire(b"not json"));
    }
}
