//! `auditrail`: run the event server, send audit events, list target types, verify a
//! store. One module per subcommand under `commands/`.

// Output through `outln!`/`errln!` only (commands/output.rs): `println!` and `eprintln!`
// panic when their stream is a closed pipe or a terminal that hung up.
#![deny(clippy::print_stdout, clippy::print_stderr)]

mod commands;

/// jemalloc, not the system's malloc: the server allocates and frees several small
/// parts of every event on many threads, where jemalloc's per-thread caches cost less
/// CPU per event than glibc's arenas (measured end to end: docs/benchmarks.md,
/// "jemalloc built in"). A maintained allocator, not our own: nothing here is
/// auditrail's business.
#[cfg(all(feature = "jemalloc", not(target_env = "msvc")))]
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Audit centralization and dispatch.
#[derive(Parser)]
#[command(name = "auditrail", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// How logs are written to stderr: `text` (coloured only on a terminal, and never
    /// with `NO_COLOR` set) or `json` (one JSON object per line, for log collectors).
    #[arg(
        long,
        global = true,
        value_enum,
        default_value = "text",
        env = "AUDITRAIL_LOG_FORMAT"
    )]
    log_format: commands::LogFormat,
}

#[derive(Subcommand)]
enum Command {
    /// List the target types linked into this build, or print one's example config.
    Targets(commands::targets::Args),
    /// Emit events to the targets of a node config and wait until they are acknowledged.
    Send(commands::send::Args),
    /// Run the event server (HTTP ingest, keys, destinations, durable store).
    Serve(commands::serve::Args),
    /// Answer audit questions from stores or audit files: last activity per user,
    /// usage per node, compute per project/user, API service answers; find events.
    Query(commands::query::Args),
    /// Read-only SQL over the `events` table of stores and audit folders.
    Sql(commands::sql::Args),
    /// Follow the events an event server accepts, live, with filters (its /v1/stream).
    Tail(commands::tail::Args),
    /// Check a store offline: every record, the hash chain across all partition files,
    /// the signed checkpoints and receipts. Exit 0 only when everything holds.
    Verify(commands::verify::Args),
    /// Write a Merkle proof bundle: one event's inclusion in a signed tree head
    /// (`--event-id`), or a later checkpoint's tree extending an earlier one's
    /// (`--consistency --from N --to M`), for `auditrail verify --proof`.
    Prove(commands::prove::Args),
    /// Look into a node's spool (events waiting for the event server, damaged ranges),
    /// and send again the events a set-aside spool file still holds.
    #[cfg(feature = "eventserver")]
    Spool(commands::spool::Args),
    /// The event server's checkpoint signing key (`keys export` prints the public key).
    Keys(commands::keys::Args),
    /// Operator commands on a stopped server's stores (`store accept`: record, signed,
    /// that a person accepted a store's state, so the server starts on it again).
    Store(commands::store::Args),
    /// Runs one `/v1/query` query for `auditrail serve`, in a process of its own: the
    /// query on stdin, the answer on stdout (not for people: the server starts it).
    #[command(name = "__query-worker", hide = true)]
    QueryWorker,
}

fn main() -> ExitCode {
    // First of all, before the arguments are read: a SIGHUP in the milliseconds before
    // `serve` watches it must not end the server (hangup_held.rs).
    let hangup = commands::hangup_held::HangupHeld::hold();
    let cli = Cli::parse();
    // Only `serve` takes SIGHUP over: for every other command it keeps its default action.
    let hangup = if matches!(cli.command, Command::Serve(_)) {
        Some(hangup)
    } else {
        hangup.release();
        None
    };
    let log_filter = match commands::init_logging(cli.log_format) {
        Ok(handle) => handle,
        Err(e) => return commands::output::exit_for(&e.into()),
    };
    let result = match cli.command {
        Command::Targets(args) => commands::targets::run(args),
        Command::Send(args) => commands::send::run(args),
        Command::Query(args) => commands::query::run(args),
        Command::Sql(args) => commands::sql::run(args),
        Command::Tail(args) => commands::tail::run(args),
        Command::Serve(args) => commands::serve::run(args, log_filter, hangup),
        Command::Verify(args) => commands::verify::run(args),
        Command::Prove(args) => commands::prove::run(args),
        Command::Keys(args) => commands::keys::run(args),
        Command::Store(args) => commands::store::run(args),
        Command::QueryWorker => Ok(auditrail_eventserver::query_worker::run()),
        #[cfg(feature = "eventserver")]
        Command::Spool(args) => commands::spool::run(args),
    };
    match result {
        Ok(code) => code,
        // Quiet when stdout's reader went away (`auditrail query … | head`).
        Err(e) => commands::output::exit_for(&e),
    }
}
