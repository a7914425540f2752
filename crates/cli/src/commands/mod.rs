//! One module per subcommand.

pub mod delivery;
pub mod keys;
pub mod output;
pub mod progress;
pub mod query;
pub mod send;
pub mod serve;
/// The spool belongs to the `eventserver` target: without it, there is none to read.
#[cfg(feature = "eventserver")]
pub mod spool;
pub mod sql;
pub mod store;
pub mod targets;
pub mod verify;

/// Logs go to stderr (stdout is for command output), filtered by `RUST_LOG`
/// (default `info` for auditrail, `warn` for everything else). Colours only on a
/// terminal: a log file or pipeline gets plain `key=value` fields.
pub fn init_logging() {
    use std::io::IsTerminal;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,auditrail=info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .try_init();
}
