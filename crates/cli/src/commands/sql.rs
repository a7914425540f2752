//! `auditrail sql "SELECT ..."`: read-only SQL over the `events` table of stores and
//! audit folders (schema and examples in docs/query.md).

use std::process::ExitCode;

use anyhow::Result;
use auditrail_query::output;

use super::query::{report_unreadable, runtime, OutputFormat, SourceArgs};

/// Arguments of `auditrail sql`.
#[derive(clap::Args)]
pub(crate) struct Args {
    /// One read-only statement (SELECT, WITH, EXPLAIN, SHOW, DESCRIBE) over `events`.
    sql: String,
    #[command(flatten)]
    sources: SourceArgs,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    format: OutputFormat,
}

/// Runs the command.
pub(crate) fn run(args: Args) -> Result<ExitCode> {
    let engine = args.sources.engine()?;
    let batches = runtime()?.block_on(async { engine.collect(&args.sql).await })?;
    let mut out = Vec::new();
    output::write(args.format.into(), &batches, &mut out)?;
    crate::out!("{}", String::from_utf8_lossy(&out))?;
    report_unreadable(&engine);
    Ok(ExitCode::SUCCESS)
}
