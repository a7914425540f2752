//! `auditrail query`: the questions centralized audit exists to answer, over an event
//! server's store or a node's local audit files.
//!
//! Reports: `last-activity` (when did each user last do something), `node-usage` (how
//! each node is used), `compute` (compute used per project or user), `api-answers`
//! (what each API service answered). Text tables with bar charts, or `--json`.

mod chart;
mod records;
mod reports;

use crate::{out, outln};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;

use records::{Scan, Window};

/// Arguments of `auditrail query`.
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    report: Report,
    /// A server data dir, a store path, or a node's audit folder (read recursively).
    #[arg(global = true, long, short, default_value = "auditrail-data")]
    dir: PathBuf,
    /// Only events at or after this time (RFC 3339).
    #[arg(global = true, long)]
    since: Option<String>,
    /// Only events before this time (RFC 3339).
    #[arg(global = true, long)]
    until: Option<String>,
    /// Machine-readable output.
    #[arg(global = true, long)]
    json: bool,
}

#[derive(clap::Subcommand)]
enum Report {
    /// When each user (`authUser`) last did something, newest first.
    LastActivity,
    /// Per node: events, distinct users, first and last seen, events per topic.
    NodeUsage,
    /// Compute used (topic compute-resource-usage), from the last update of each usage id.
    Compute {
        /// Group by project (`context.projectKey`) or user (`context.authIdentifier`).
        #[arg(long, value_enum, default_value = "project")]
        by: reports::ComputeBy,
    },
    /// Per API service (routing key of apinode-query events): queries and answers by outcome.
    ApiAnswers,
}

/// Runs the command.
pub fn run(args: Args) -> Result<ExitCode> {
    let window = Window::parse(args.since.as_deref(), args.until.as_deref())?;
    let scan = Scan::open(&args.dir, window)?;
    let output = match args.report {
        Report::LastActivity => reports::last_activity(scan)?,
        Report::NodeUsage => reports::node_usage(scan)?,
        Report::Compute { by } => reports::compute(scan, by)?,
        Report::ApiAnswers => reports::api_answers(scan)?,
    };
    if args.json {
        outln!("{}", serde_json::to_string_pretty(&output.json)?)?;
    } else {
        out!("{}", output.text)?;
    }
    if output.skipped_lines > 0 {
        eprintln!(
            "auditrail: skipped {} line(s) that are not events (torn or foreign)",
            output.skipped_lines
        );
    }
    Ok(ExitCode::SUCCESS)
}
