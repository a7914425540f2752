//! `auditrail send` (work in progress).
use std::process::ExitCode;

/// Arguments of `auditrail send`.
#[derive(clap::Args)]
pub struct Args {}

/// Runs the command.
pub fn run(_args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("not yet implemented")
}
