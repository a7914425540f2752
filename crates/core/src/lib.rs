//! # auditrail-core
//!
//! The transport-free heart of auditrail: the audit [`Event`] model, topic and
//! routing-key [`Filter`]s, the [`Target`] contract, the target [`Registry`], the node
//! config model and the [`Dispatcher`] that hands every event to each target whose
//! filter accepts it.
//!
//! Target crates (`auditrail-target-file`, `-eventserver`, `-kafka`, or your own)
//! implement [`Target`] and [`TargetConfig`] and register with
//! [`register_target!`]. Applications usually depend on the `auditrail` facade crate,
//! whose cargo features pick the targets.
//!
//! ```
//! use std::time::Duration;
//! use auditrail_core::{audit, topics, DeliveryOptions, Dispatcher, Filter, NodeId, Selection};
//! use auditrail_core::testing::MemoryTarget;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let failures = MemoryTarget::new();
//! let dispatcher = Dispatcher::builder(NodeId::new("node-1")?)
//!     .target(
//!         "failures",
//!         "memory",
//!         Filter { topics: Selection::Only(vec![topics::AUTHFAIL]), ..Filter::all() },
//!         DeliveryOptions::default(),
//!         Box::new(failures.clone()),
//!     )
//!     .build()?;
//!
//! dispatcher.emit(audit!(topics::AUTHFAIL, "login-failed", "authUser" => "mallory"))?;
//! dispatcher.emit(audit!(topics::GENERIC, "login", "authUser" => "alice"))?; // filtered out
//! dispatcher.shutdown_blocking(Duration::from_secs(5));
//! assert_eq!(failures.events().len(), 1);
//! # Ok(()) }
//! ```

// The `#[doc(hidden)]` modules below are shared with the project's own crates (the
// targets, the event server, the store, integrity, the CLI) and are not a stable API:
// they are `pub` only because those sibling crates call them, and may change or move
// in any release. Users (applications, custom-target authors: docs/custom-targets.md)
// need only what is documented.
#[doc(hidden)]
pub mod answer;
pub mod backoff;
pub mod config;
#[doc(hidden)]
pub mod counted;
pub mod dead_letter;
pub mod dispatcher;
#[doc(hidden)]
pub mod durable;
mod error_report;
pub mod event;
#[doc(hidden)]
pub mod file_mode;
pub mod filter;
pub mod folder_check;
pub mod folder_lock;
#[doc(hidden)]
pub mod jsonl;
pub mod kafka_sig;
pub mod key_file;
#[doc(hidden)]
pub mod limits;
pub mod lookalike;
#[doc(hidden)]
pub mod metrics_format;
#[doc(hidden)]
pub mod no_follow;
#[doc(hidden)]
pub mod object_only;
#[doc(hidden)]
pub mod receipt;
pub mod registry;
#[doc(hidden)]
pub mod regular_file;
#[doc(hidden)]
pub mod repeats;
#[doc(hidden)]
pub mod rewritten;
pub mod target;
pub mod target_config;
#[cfg(feature = "testing")]
pub mod testing;

pub use backoff::{Backoff, RetryAfterCapLog};
pub use config::{
    ConfigError, EntryError, EntryPlace, EntryProblem, MetricsConfig, NodeConfig, Section,
    TargetSpec,
};
pub use dead_letter::DeadLetterLine;
pub use dispatcher::{
    AckError, AckReport, BatchAck, BatchError, DeliveryFailure, DeliveryOptions,
    DeliveryOptionsError, Dispatcher, DispatcherBuilder, DispatcherError, EmitBatchError,
    EmitError, Emitted, EventAck, FailureKind, NodeStats, OnFull, RouteInfo, RouteSet, Routed,
    RuntimeSetupError, SeqFileError, SeqSetupError, ShutdownReport, StatsReader, TargetShutdown,
    TargetStats, DEFAULT_BATCH_MAX_EVENTS,
};
pub use error_report::{add_cause, path_and_error, without_path, ErrorReport};
pub use event::write_provenance;
pub use event::{
    topics, Event, EventDraft, EventError, EventId, FieldValue, KafkaOrigin, Message, NodeId,
    NonFinite, Received, RoutingKey, SeqRange, Timestamp, Topic, MESSAGE_MAX_DEPTH,
};
pub use filter::{Filter, Selection};
pub use folder_check::{FolderCheck, FolderGone};
pub use folder_lock::{FolderLock, FolderLockError};
pub use lookalike::Lookalike;
pub use registry::{Registry, RegistryError, TargetRegistration};
pub use target::{
    BuildContext, BuildError, Durability, Forwarding, ForwardingStats, Pending, Target, TargetError,
};
pub use target_config::{
    build_config, parse_config, FileProperties, InvalidConfig, TargetConfig, ValidatedConfig,
};

/// Re-exported so target crates use the same version.
pub use async_trait::async_trait;
/// Re-exported for [`register_target!`].
#[doc(hidden)]
pub use inventory;
