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
    if limit.is_some() {
        df = df.limit(0, limit)?;
    }
    Ok(df)
}
