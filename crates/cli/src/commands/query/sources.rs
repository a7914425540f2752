//! Where `query` and `sql` read events: `--store` and `--audit-dir` (repeatable), or
//! what `--dir` holds (a server data dir with its stores, one store, or an audit folder).

use std::path::PathBuf;

use anyhow::{Context, Result};
use auditrail_query::{check_store, discover, Engine, Source};

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
        Ok(Engine::builder().sources(sources).build()?)
    }
}

/// A runtime for the engine (the CLI is otherwise synchronous).
pub(crate) fn runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}
