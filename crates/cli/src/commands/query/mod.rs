//! `auditrail query`: the questions centralized audit exists to answer, and event
//! search, over event server stores or a node's local audit files, through the query
//! library (auditrail-query: SQL over the `events` table).
//!
//! Reports: `last-activity`, `failed-logins`, `node-usage`, `compute`, `api-answers`
//! (text tables with bar charts, or `--format json|ndjson|csv`: the rows the event
//! server's `GET /v1/query?report=...` answers); `events` finds events by field.

mod chart;
mod sources;
mod text;

use std::process::ExitCode;

use anyhow::Result;
use auditrail::Timestamp;
use auditrail_query::output::{self, Format};
use auditrail_query::reports::{self, ComputeBy, ReportRow};
use auditrail_query::search::{self, EventFilter};
use auditrail_query::{Engine, Window};

pub(crate) use sources::{run_query, runtime, SourceArgs};

/// Arguments of `auditrail query`.
#[derive(clap::Args)]
pub(crate) struct Args {
    #[command(subcommand)]
    report: Report,
    #[command(flatten)]
    sources: SourceArgs,
    /// Only events at or after this time: a date (2026-11-29, UTC), an RFC 3339
    /// date-time, or a duration before now (24h, 7d).
    #[arg(global = true, long)]
    since: Option<String>,
    /// Only events before this time (same forms as --since).
    #[arg(global = true, long)]
    until: Option<String>,
    #[command(flatten)]
    output: FormatArgs,
}

#[derive(clap::Subcommand)]
enum Report {
    /// When each user (`authUser`) last did something, newest first; failed logins
    /// (topic authfail) listed apart.
    LastActivity,
    /// Failed logins (topic authfail) per claimed user name.
    FailedLogins,
    /// Per node: events, distinct users, first and last seen, events per topic.
    NodeUsage,
    /// Compute used (topic compute-resource-usage), each usage counted once.
    Compute {
        /// Group by project (`context.projectKey`) or user (`context.authIdentifier`).
        #[arg(long, value_enum, default_value = "project")]
        by: By,
    },
    /// Per API service (routing key of apinode-query events): outcomes, answers,
    /// errors, latency.
    ApiAnswers,
    /// The events matching every filter given, newest first.
    Events(EventsArgs),
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum By {
    /// `computeResourceUsage.context.projectKey`
    Project,
    /// `computeResourceUsage.context.authIdentifier`
    User,
}

/// Conditions on an event's fields (`query events`, `tail`); values match exactly.
#[derive(clap::Args)]
pub(crate) struct FilterArgs {
    /// `authUser`
    #[arg(long)]
    user: Option<String>,
    /// `topic`
    #[arg(long)]
    topic: Option<String>,
    /// `routingKey`
    #[arg(long)]
    routing_key: Option<String>,
    /// `node`
    #[arg(long)]
    node: Option<String>,
    /// `msgType`
    #[arg(long)]
    msg_type: Option<String>,
}

impl FilterArgs {
    /// The conditions within `window`.
    fn filter(self, window: Window) -> EventFilter {
        EventFilter {
            user: self.user,
            topic: self.topic,
            routing_key: self.routing_key,
            node: self.node,
            msg_type: self.msg_type,
            window,
        }
    }

    /// The conditions as the event server's query parameters (`/v1/recent`,
    /// `/v1/stream`).
    pub(crate) fn params(self) -> Vec<(&'static str, String)> {
        [
            ("user", self.user),
            ("topic", self.topic),
            ("routingKey", self.routing_key),
            ("node", self.node),
            ("msgType", self.msg_type),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k, v)))
        .collect()
    }
}

/// Filters and output of `query events`.
#[derive(clap::Args)]
struct EventsArgs {
    #[command(flatten)]
    filter: FilterArgs,
    /// At most this many events (the newest).
    #[arg(long)]
    limit: Option<usize>,
}

/// `--format` and `--json` of the commands that answer rows (`sql`, `query events`,
/// the reports): one meaning everywhere.
#[derive(clap::Args)]
pub(crate) struct FormatArgs {
    /// Output format (`--json` is `--format json`).
    #[arg(global = true, long, value_enum, default_value = "table")]
    format: OutputFormat,
    /// Machine-readable output: `--format json`. Refused together with `--format`
    /// (one of the two would be ignored).
    #[arg(global = true, long, conflicts_with = "format")]
    json: bool,
}

impl FormatArgs {
    /// The format asked for.
    pub(crate) fn format(&self) -> Format {
        if self.json {
            Format::Json
        } else {
            self.format.into()
        }
    }
}

/// Output formats of answers made of rows.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum OutputFormat {
    /// Aligned text table (a report's with bar charts; control characters of values shown
    /// escaped: `\n`, `\u{1b}`; a backslash as `\\`).
    Table,
    /// One JSON array.
    Json,
    /// One JSON object per line.
    Ndjson,
    /// Comma-separated values with a header line (control characters escaped as in
    /// `table`; a text cell starting with `=`, `+`, `-`, `@` or `'` gets a `'` in front,
    /// so that a spreadsheet does not run it as a formula).
    Csv,
}

impl From<OutputFormat> for Format {
    fn from(f: OutputFormat) -> Format {
        match f {
            OutputFormat::Table => Format::Table,
            OutputFormat::Json => Format::Json,
            OutputFormat::Ndjson => Format::Ndjson,
            OutputFormat::Csv => Format::Csv,
        }
    }
}

/// Runs the command.
pub(crate) fn run(args: Args) -> Result<ExitCode> {
    let window = Window::parse(
        args.since.as_deref(),
        args.until.as_deref(),
        Timestamp::now(),
    )?;
    let engine = args.sources.engine()?;
    let format = args.output.format();
    let out = run_query(async {
        match args.report {
            Report::LastActivity => {
                let r = reports::last_activity(&engine, window).await?;
                // The table says it below; the rows for programs are the users alone.
                if r.invalid_values > 0 && !matches!(format, Format::Table) {
                    crate::errln!(
                        "auditrail: {} event(s) left out: their authUser is no string (a number, an object), so no user name; see docs/query.md",
                        r.invalid_values
                    );
                }
                rows(format, &r.users, || text::last_activity(&r))
            }
            Report::FailedLogins => {
                let r = reports::last_activity(&engine, window).await?;
                rows(format, &r.failed_logins, || {
                    text::failed_logins(&r.failed_logins)
                })
            }
            Report::NodeUsage => {
                let r = reports::node_usage(&engine, window).await?;
                rows(format, &r, || text::node_usage(&r))
            }
            Report::Compute { by } => {
                let by = match by {
                    By::Project => ComputeBy::Project,
                    By::User => ComputeBy::User,
                };
                let r = reports::compute(&engine, by, window).await?;
                rows(format, &r, || text::compute(&r, by))
            }
            Report::ApiAnswers => {
                let r = reports::api_answers(&engine, window).await?;
                rows(format, &r, || text::api_answers(&r))
            }
            Report::Events(e) => events(&engine, e, window, format).await,
        }
    })?;
    crate::out!("{out}")?;
    report_unreadable(&engine);
    Ok(ExitCode::SUCCESS)
}

/// A report's `rows` in `format`: `table` is the report's own text (`table`, with bar
/// charts); `json` and `ndjson` the rows as the event server answers them (their one
/// serializer, `auditrail_query::reports::json_lines`); `csv` through the CSV writer of
/// `sql` and `query events`, with their escaping and formula guard.
fn rows<T: ReportRow>(
    format: Format,
    rows: &[T],
    table: impl FnOnce() -> String,
) -> Result<String> {
    match format {
        // Marked by the rows as the server's answer marks them for the web console.
        Format::Table => Ok(super::shown::with_marks(
            auditrail_query::lookalikes::Marks::of_json(&serde_json::to_value(rows)?),
            table,
        )),
        Format::Csv => super::shown::rows(format, &[reports::batch(rows)?]),
        Format::Json | Format::Ndjson => {
            let mut out = Vec::new();
            output::write_json_lines(format, reports::json_lines(rows)?, &mut out)?;
            Ok(String::from_utf8(out)?)
        }
    }
}

async fn events(engine: &Engine, e: EventsArgs, window: Window, format: Format) -> Result<String> {
    let filter = e.filter.filter(window);
    let batches = auditrail_query::collect(search::events(engine, &filter, e.limit).await?).await?;
    super::shown::rows(format, &batches)
}

/// Files named on stderr at most; the rest are counted.
const NAMED_FILES: usize = 20;

/// Says on stderr when stored lines or files of an audit folder could not be read, or
/// listed files were removed before they were read (their events, if any, are not in
/// the answer).
pub(crate) fn report_unreadable(engine: &Engine) {
    let not_read = engine.files_not_read();
    if !not_read.is_empty() {
        let mut named = String::new();
        for f in not_read.iter().take(NAMED_FILES) {
            named += &format!("\n  {} ({})", f.path.display(), f.why);
        }
        if not_read.len() > NAMED_FILES {
            named += &format!("\n  and {} more", not_read.len() - NAMED_FILES);
        }
        crate::errln!(
            "auditrail: warning: {} file(s) in the audit folder(s) are not audit files and were not read:{named}",
            not_read.len()
        );
    }
    // Retention (a store's, a file target's `max_files`) ran while the query did: said
    // once, with the files, rather than a log line per file (a pass can remove
    // hundreds) and nothing after the answer.
    let removed = engine.files_removed();
    if !removed.is_empty() {
        let mut named = String::new();
        for path in removed.iter().take(NAMED_FILES) {
            named += &format!("\n  {}", path.display());
        }
        if removed.len() > NAMED_FILES {
            named += &format!("\n  and {} more", removed.len() - NAMED_FILES);
        }
        crate::errln!(
            "auditrail: warning: {} file(s) were removed while the query ran (retention): their events are not in the answer:{named}",
            removed.len()
        );
    }
    // Records changed since the store wrote them are in the answer: said, with the
    // files, for `verify` to name them.
    let failing = engine.files_failing_chain();
    if !failing.is_empty() {
        let mut named = String::new();
        for (path, records) in failing.iter().take(NAMED_FILES) {
            named += &format!("\n  {} ({records} record(s))", path.display());
        }
        if failing.len() > NAMED_FILES {
            named += &format!("\n  and {} more", failing.len() - NAMED_FILES);
        }
        crate::errln!(
            "auditrail: warning: {} record(s) in the answer fail their store's hash chain (changed since they were stored); `auditrail verify STORE` names them:{named}",
            failing.iter().map(|(_, n)| n).sum::<u64>()
        );
    }
    let stats = engine.stats();
    if stats.unreadable_in_stores > 0 {
        crate::errln!(
            "auditrail: skipped {} line(s) of stores that are not events (torn or foreign); `auditrail verify STORE` names them",
            stats.unreadable_in_stores
        );
    }
    // `verify` reads stores only: the audit files' lines are named here, by file.
    let audit = engine.audit_files_with_unreadable_lines();
    if !audit.is_empty() {
        let mut named = String::new();
        for (path, lines) in audit.iter().take(NAMED_FILES) {
            named += &format!("\n  {} ({lines} line(s))", path.display());
        }
        if audit.len() > NAMED_FILES {
            named += &format!("\n  and {} more", audit.len() - NAMED_FILES);
        }
        crate::errln!(
            "auditrail: skipped line(s) that are not events (torn or foreign, not JSON of an event) in {} audit file(s):{named}",
            audit.len()
        );
    }
}
