//! The questions centralized audit exists to answer, as SQL over the `events` table.
//!
//! Each report is a few SQL statements (the text is public, so that docs/query.md and
//! anyone curious can read exactly what is counted) and a typed answer. The statements
//! of one report read one listing of the files, taken as it starts (`one_listing`).
//!
//! - [`last_activity`]: when each user last did something; failed logins (topic
//!   `authfail`) are kept apart, so an attacker's attempted names are not "active users".
//! - [`node_usage`]: per node, events, distinct users, first and last seen, events per
//!   topic; [`events_per_hour`] for charts.
//! - [`compute`]: compute used per project or user, each usage counted once (see there).
//! - [`api_answers`]: per API service, queries by outcome, what it answered, latency
//!   percentiles.
//!
//! [`ReportRow`]: each report's rows as JSON (their serde derive, the event server's
//! answer) and, from that, as CSV ([`batch`]).

mod api;
mod compute;
mod exact_number;
mod last_activity;
mod node_usage;
mod one_listing;
mod rows;
mod values;

pub use api::{api_answers, ApiService, Latency};
pub use compute::{compute, ComputeBy, ComputeGroup};
pub use last_activity::{last_activity, FailedLogins, LastActivity, UserActivity};
pub use node_usage::{events_per_hour, node_usage, HourCount, NodeUsage};
pub use rows::{batch, json_lines, ReportRow};
