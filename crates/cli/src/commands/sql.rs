//! `auditrail sql "SELECT ..."`: read-only SQL over the `events` table of stores and
//! audit folders (schema and examples in docs/query.md).

use std::process::ExitCode;

use anyhow::Result;

use super::query::{report_unreadable, run_query, FormatArgs, SourceArgs};
use super::shown;

/// Arguments of `auditrail sql`.
#[derive(clap::Args)]
pub(crate) struct Args {
    /// One read-only statement (SELECT, WITH, EXPLAIN, SHOW, DESCRIBE) over `events`.
    sql: String,
    #[command(flatten)]
    sources: SourceArgs,
    #[command(flatten)]
    output: FormatArgs,
}

/// Runs the command.
pub(crate) fn run(args: Args) -> Result<ExitCode> {
    let engine = args.sources.engine()?;
    let format = args.output.format();
    let out = run_query(async {
        let batches = engine.collect(&args.sql).await?;
        shown::rows(format, &batches)
    })?;
    crate::out!("{out}")?;
    report_unreadable(&engine);
    Ok(ExitCode::SUCCESS)
}
