//! `auditrail targets`: the target types this build links.

use crate::{out, outln};
use std::process::ExitCode;

use anyhow::Result;

/// Arguments of `auditrail targets`.
#[derive(clap::Args)]
pub(crate) struct Args {
    /// Print the example config of this target type instead of the list.
    #[arg(long, value_name = "NAME")]
    example: Option<String>,
}

/// One line per registered type, `<name>\t<description>`, sorted by name.
pub(crate) fn run(args: Args) -> Result<ExitCode> {
    let registry = auditrail::registry()?;
    match args.example {
        Some(name) => {
            let reg = registry.get(&name)?;
            out!("{}", reg.example_config)?;
            if !reg.example_config.ends_with('\n') {
                outln!()?;
            }
        }
        None => {
            for reg in registry.iter() {
                outln!("{}\t{}", reg.name, reg.description)?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
