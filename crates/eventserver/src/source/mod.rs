//! `[[sources]]`: where a server reads events from other than its HTTP ingest.
//!
//! One type: `kafka`. The server joins a consumer group and keeps one store per
//! Kafka partition it is assigned, under a folder every server of the group sees;
//! each store's records carry their offsets, so a partition's next owner resumes from
//! what the store holds (docs/scale-out.md has the design, its failure cases and what
//! each guarantees).

mod config;
mod config_error;
#[cfg(feature = "kafka")]
mod handed;
mod held;
#[cfg(feature = "kafka")]
mod kafka;
mod metrics;
#[cfg(feature = "kafka")]
mod owner;
#[cfg(feature = "kafka")]
mod partition;
#[cfg(feature = "kafka")]
mod record_sig;
#[cfg(feature = "kafka")]
mod refused;
#[cfg(feature = "kafka")]
mod reread;
mod retained;
#[cfg(feature = "kafka")]
mod slots;
mod waiting;

use std::path::Path;
use std::sync::Arc;

use auditrail_integrity::{CheckpointPolicy, Signer};

pub(crate) use config::parse;
pub use config::{KafkaSourceConfig, SigningKeyConfig, SourceConfig};
pub use config_error::{SourceConfigError, SourceProblem, TopicNameError};
pub(crate) use held::readyz_entries as held_readyz_entries;
pub(crate) use held::Hold;
pub(crate) use metrics::SourceMetrics;
pub(crate) use retained::{PartitionId, PartitionStores};
pub(crate) use waiting::readyz_entries as waiting_readyz_entries;

/// Why a source cannot start.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The binary was built without the `kafka` feature.
    #[error("sources[{index}] ({name:?}): type \"kafka\" needs auditrail built with the \"kafka\" feature (cargo build --features kafka)")]
    NotBuilt {
        /// Index in `[[sources]]`.
        index: usize,
        /// The source's name.
        name: String,
    },
    /// The Kafka consumer cannot be created or subscribed.
    #[error("sources[{index}] ({name:?}): {message}")]
    Kafka {
        /// Index in `[[sources]]`.
        index: usize,
        /// The source's name.
        name: String,
        /// librdkafka's message.
        message: String,
    },
    /// The store root cannot be created.
    #[error(
        "sources[{index}] ({name:?}): cannot create the store root {}",
        auditrail_core::path_and_error(path, source)
    )]
    StoreRoot {
        /// Index in `[[sources]]`.
        index: usize,
        /// The source's name.
        name: String,
        /// The folder.
        path: std::path::PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// What the sources of a server need from it.
#[derive(Debug)]
pub(crate) struct SourceContext<'a> {
    pub data_dir: &'a Path,
    pub dead_letter_dir: &'a Path,
    pub node: &'a str,
    pub signer: &'a Arc<Signer>,
    pub policy: CheckpointPolicy,
    pub dispatcher: &'a auditrail_core::Dispatcher,
    /// The server's destinations (behind the dispatcher's routes): whether one that
    /// takes an event keeps it.
    #[cfg_attr(not(feature = "kafka"), allow(dead_code))]
    pub destinations: &'a Arc<crate::destinations::Destinations>,
    pub ack_timeout: std::time::Duration,
    /// `max_timestamp_ahead_s`: the Kafka source applies the HTTP ingest's bound.
    pub max_timestamp_ahead: Option<std::time::Duration>,
    /// The server's stores' timeline (the bound counts from it when the clock is
    /// behind).
    pub timeline: Option<auditrail_store::RetentionClock>,
    /// The server's live view and counters, which show what the sources store.
    #[cfg_attr(not(feature = "kafka"), allow(dead_code))]
    pub shown: &'a crate::shown::LiveView,
    /// The server's `[[witnesses]]`, which get the partition stores' checkpoint lines.
    #[cfg_attr(not(feature = "kafka"), allow(dead_code))]
    pub witnesses: Option<&'a Arc<crate::witness::Witnesses>>,
    /// Where the partition stores of a source with a retention are listed while open
    /// (the server's retention loop prunes them).
    #[cfg_attr(not(feature = "kafka"), allow(dead_code))]
    pub partition_stores: &'a Arc<PartitionStores>,
    /// How many partition stores may be open at once, over every source (their share
    /// of the open-file budget; `None`: no bound).
    #[cfg_attr(not(feature = "kafka"), allow(dead_code))]
    pub partition_slots: Option<usize>,
    /// The soft open-file limit the budget was made for (said when a partition store
    /// waits for a place: `/readyz`).
    #[cfg_attr(not(feature = "kafka"), allow(dead_code))]
    pub open_file_limit: Option<u64>,
    /// The data folder's check (its high-water marks': the folder the server opened),
    /// asked before a partition store inside it is opened or written and before a
    /// dead letter is appended, so that a data folder moved away is not made again at
    /// its path (see [`auditrail_core::folder_check`]).
    #[cfg_attr(not(feature = "kafka"), allow(dead_code))]
    pub data_folder: Arc<dyn auditrail_core::FolderCheck>,
}

/// The running sources of a server.
#[derive(Debug, Default)]
pub(crate) struct Sources {
    #[cfg(feature = "kafka")]
    running: Vec<kafka::KafkaSource>,
    /// Their counters, for `/metrics`.
    pub(crate) metrics: Vec<SourceMetrics>,
}

impl Sources {
    /// Starts every configured source.
    pub(crate) fn start(
        configs: &[SourceConfig],
        ctx: &SourceContext<'_>,
    ) -> Result<Sources, SourceError> {
        let mut sources = Sources::default();
        // One bound over every source: they share the budget's part.
        #[cfg(feature = "kafka")]
        let slots = slots::PartitionSlots::new(ctx.partition_slots, ctx.open_file_limit);
        for (index, config) in configs.iter().enumerate() {
            let SourceConfig::Kafka(k) = config;
            #[cfg(feature = "kafka")]
            sources.start_kafka(index, k, ctx, &slots)?;
            #[cfg(not(feature = "kafka"))]
            sources.start_kafka(index, k, ctx)?;
        }
        Ok(sources)
    }

    #[cfg(not(feature = "kafka"))]
    fn start_kafka(
        &mut self,
        index: usize,
        config: &KafkaSourceConfig,
        ctx: &SourceContext<'_>,
    ) -> Result<(), SourceError> {
        let _ = (ctx.dispatcher, ctx.ack_timeout);
        let _ = (ctx.max_timestamp_ahead, &ctx.timeline, ctx.partition_slots);
        let _ = ctx.open_file_limit;
        let _ = (
            ctx.data_dir,
            ctx.dead_letter_dir,
            ctx.node,
            ctx.signer,
            ctx.policy,
        );
        Err(SourceError::NotBuilt {
            index,
            name: config.name.clone(),
        })
    }

    #[cfg(feature = "kafka")]
    fn start_kafka(
        &mut self,
        index: usize,
        config: &KafkaSourceConfig,
        ctx: &SourceContext<'_>,
        slots: &slots::PartitionSlots,
    ) -> Result<(), SourceError> {
        let store_root = ctx.data_dir.join(&config.store_root);
        // Durably, as every store folder: the store's files hang from it.
        auditrail_core::durable::create_dir_all(&store_root).map_err(|source| {
            SourceError::StoreRoot {
                index,
                name: config.name.clone(),
                path: store_root.clone(),
                source,
            }
        })?;
        let store_root = std::fs::canonicalize(&store_root).unwrap_or(store_root);
        // Inside the data folder (a relative `store_root`, as docs/scale-out.md places
        // it), the stores move away with it and are not made again at its path
        // meanwhile; elsewhere, the data folder is not where they live.
        let in_data_folder =
            std::fs::canonicalize(ctx.data_dir).is_ok_and(|d| store_root.starts_with(d));
        let env = partition::StoreEnv {
            source: config.name.clone(),
            store_config: auditrail_store::StoreConfig {
                max_open_files: slots.files_each(),
                ..config.partition_store(&store_root)
            },
            slots: slots.clone(),
            partition_stores: ctx.partition_stores.clone(),
            store_root,
            signer: ctx.signer.clone(),
            policy: ctx.policy,
            member: format!("{}:{}", ctx.node, std::process::id()),
            dead_letters: auditrail_core::dead_letter::file_path(
                ctx.dead_letter_dir,
                &format!("source-{}", config.name),
            ),
            runtime: tokio::runtime::Handle::current(),
            dispatcher: ctx.dispatcher.clone(),
            destinations: Some(ctx.destinations.clone()),
            ack_timeout: ctx.ack_timeout,
            max_timestamp_ahead: ctx.max_timestamp_ahead,
            timeline: ctx.timeline.clone(),
            shown: ctx.shown.clone(),
            witnesses: ctx.witnesses.cloned(),
            record_keys: Arc::new(record_sig::RecordKeys::new(
                &config.signing_keys,
                config.accept_unsigned,
            )),
            max_record_bytes: config.max_record_bytes,
            store_root_check: in_data_folder.then(|| ctx.data_folder.clone()),
            dead_letter_check: Some(ctx.data_folder.clone()),
        };
        if config.accept_unsigned {
            // Said at every start: the topic is then the only trust boundary.
            tracing::warn!(source = %config.name, signing_keys = config.signing_keys.len(),
                "accept_unsigned = true: records without signature headers are stored as any node's events, whoever wrote them to the topics (sign them at the producers with the kafka target's `signing_key` and `key_id`, list the keys in `signing_keys`, then remove `accept_unsigned`; see docs/scale-out.md, \"Signed records\")");
        }
        let metrics = SourceMetrics::new(&config.name);
        let running = kafka::KafkaSource::start(config, env, metrics.clone()).map_err(|e| {
            SourceError::Kafka {
                index,
                name: config.name.clone(),
                message: e.to_string(),
            }
        })?;
        self.running.push(running);
        self.metrics.push(metrics);
        Ok(())
    }

    /// Asks every source to stop, without waiting (see [`Sources::stop`]): called as
    /// the shutdown begins, so that a source opening its partition stores ends those
    /// opens at once rather than after the shutdown's other waits.
    pub(crate) fn ask_stop(&self) {
        #[cfg(feature = "kafka")]
        for source in &self.running {
            source.ask_stop();
        }
    }

    /// Stops every source: what was read is stored, the partition stores close with
    /// their final checkpoints, the consumers leave their groups.
    pub(crate) async fn stop(self) {
        #[cfg(feature = "kafka")]
        for source in self.running {
            let _ = tokio::task::spawn_blocking(move || source.stop()).await;
        }
    }
}
