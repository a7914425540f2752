//! `auditrail targets`: the target types this build links, or, with `--config`, the
//! targets of a node config and whether each is durable on `Ok` (or as its
//! destination answers; with `--server-config`, a server config's destinations, its
//! stores included).

use crate::{out, outln};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;

/// Arguments of `auditrail targets`.
#[derive(clap::Args)]
pub(crate) struct Args {
    /// Print the example config of this target type instead of the list.
    #[arg(long, value_name = "NAME", conflicts_with = "config")]
    example: Option<String>,
    /// List this node config's targets instead of the types: `<name>\t<type>\t<durability>`
    /// per target, where durability is `durable`, `not durable: <why>` or `depends on
    /// the answer: <how>` (what an acknowledgement from it means should the machine
    /// lose power; the last when the destination's answer to each batch says).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// List this event server config's destinations (the default store without
    /// `[[destinations]]`) the same way: what the server's answers say in `durable`.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["config", "example"])]
    server_config: Option<PathBuf>,
}

/// One `<name>\t<type>\t<durability>` line.
fn durability_line(name: &str, type_name: &str, durability: &auditrail::Durability) -> Result<()> {
    // One line per target: a reason never spans lines.
    let one_line = |text: &str| text.replace(['\n', '\t'], " ");
    let said = match durability.why_not() {
        None => "durable".to_owned(),
        // Not known to the node: its destination's answer to each batch says.
        Some(how) if durability.is_per_answer() => {
            format!("depends on the answer: {}", one_line(how))
        }
        Some(why) => format!("not durable: {}", one_line(why)),
    };
    outln!("{name}\t{type_name}\t{said}")?;
    Ok(())
}

/// One line per registered type, `<name>\t<description>`, sorted by name; with
/// `--config`, one line per configured target, in the config's order.
pub(crate) fn run(args: Args) -> Result<ExitCode> {
    if let Some(file) = &args.server_config {
        let config = super::server_config::load(file)?;
        for (name, type_name, durability) in config.destination_durability() {
            durability_line(&name, type_name, &durability)?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    let registry = auditrail::registry()?;
    if let Some(file) = &args.config {
        let config = auditrail::NodeConfig::load(file, &registry)?;
        for spec in &config.targets {
            durability_line(&spec.name, spec.registration.name, &spec.durability())?;
        }
        return Ok(ExitCode::SUCCESS);
    }
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
