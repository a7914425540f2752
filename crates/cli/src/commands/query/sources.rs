//! Where `query` and `sql` read events: `--store` and `--audit-dir` (repeatable), or
//! what `--dir` holds (a server data dir with its stores, one store, or an audit folder).

use std::future::Future;
use std::panic;
use std::path::PathBuf;

use anyhow::{Context, Result};
use auditrail_query::{
    check_store, discover, Engine, Source, DEFAULT_MEMORY_LIMIT, QUERY_STACK_BYTES,
};

/// The sources options.
#[derive(clap::Args, Debug)]
pub(crate) struct SourceArgs {
    /// A server data dir (every store in it), a store, or a node's audit folder. Used
    /// when neither --store nor --audit-dir is given.
    #[arg(global = true, long, short, default_value = "auditrail-data")]
    pub dir: PathBuf,
    /// A store's root folder (repeatable: several stores are one table, each event once).
    #[arg(global = true, long)]
    pub store: Vec<PathBuf>,
    /// A node's audit folder (repeatable).
    #[arg(global = true, long)]
    pub audit_dir: Vec<PathBuf>,
    /// The server's config file: its `store` destinations and its Kafka sources'
    /// partition stores (used when neither --store nor --audit-dir is given).
    #[arg(global = true, long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Memory, in MiB, that the engine's operators (sorts, groups, joins, aggregates)
    /// may hold for one query, as on the event server; beyond, the query fails
    /// ("Resources exhausted"). 0: no bound.
    #[arg(global = true, long, value_name = "MIB", default_value_t = DEFAULT_MEMORY_LIMIT >> 20)]
    pub memory_limit_mib: usize,
}

impl SourceArgs {
    /// The engine over the chosen sources.
    pub(crate) fn engine(&self) -> Result<Engine> {
        let sources: Vec<Source> = if self.store.is_empty() && self.audit_dir.is_empty() {
            match &self.config {
                Some(path) => crate::commands::server_config::load(path)?
                    .store_paths()
                    .into_iter()
                    .map(Source::Store)
                    .collect(),
                None => discover(&self.dir).with_context(|| "--dir".to_owned())?,
            }
        } else {
            // A folder that holds no store is an error, not an empty answer: an auditor
            // would read "no activity" (`--dir` and `--audit-dir` do the same).
            for root in &self.store {
                check_store(root).with_context(|| "--store".to_owned())?;
            }
            self.store
                .iter()
                .cloned()
                .map(Source::Store)
                .chain(self.audit_dir.iter().cloned().map(Source::AuditDir))
                .collect()
        };
        let mut builder = Engine::builder().sources(sources);
        if self.memory_limit_mib > 0 {
            builder = builder.memory_limit(self.memory_limit_mib.saturating_mul(1 << 20));
        }
        Ok(builder.build()?)
    }
}

/// A runtime for the engine (the CLI is otherwise synchronous).
pub(crate) fn runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

/// Runs `query` (a query and the writing of its answer) on a new runtime. A panic while
/// it runs is the query's error, not a crash with a backtrace: DataFusion and Arrow
/// panic on some limits they do not check (`auditrail_query::collect` names those), and
/// the user asked one query that failed. The panic's own report (the default hook's
/// "panicked at", which names no query) is held back while the query runs; its text is
/// in the error, its place in the debug log.
///
/// The query is planned and run on threads with the stack the engine needs for the
/// deepest statement it accepts ([`QUERY_STACK_BYTES`]): the main thread's stack is
/// what the system gives (`ulimit -s`), and a stack overflow aborts the process.
pub(crate) fn run_query<T: Send>(query: impl Future<Output = Result<T>> + Send) -> Result<T> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_stack_size(QUERY_STACK_BYTES)
        .build()?;
    let previous = panic::take_hook();
    panic::set_hook(Box::new(|info| {
        tracing::debug!(%info, "panic while the query ran: reported as its error");
    }));
    let outcome = std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name("auditrail-query".into())
            .stack_size(QUERY_STACK_BYTES)
            .spawn_scoped(scope, || rt.block_on(query))
            .map(|thread| thread.join())
    });
    // Worker threads are stopped before the hook is given back, so that no panic of
    // this query is reported by it.
    drop(rt);
    panic::set_hook(previous);
    match outcome.context("cannot start the query's thread")? {
        Ok(answer) => answer,
        Err(payload) => {
            let message = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic without a message".to_owned());
            Err(anyhow::anyhow!(
                "the query failed inside the query engine ({message})"
            ))
        }
    }
}
