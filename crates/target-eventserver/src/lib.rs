//! # auditrail-target-eventserver
//!
//! The `eventserver` target: delivers a node's audit events to a central auditrail
//! event server (`POST /v1/events`, NDJSON, optional gzip/zstd, `Authorization:
//! Bearer`), over HTTP or HTTPS (reqwest with rustls).
//!
//! **Spool mode (default).** [`Target::send`](auditrail_core::Target::send) appends the
//! batch to a crash-safe local spool (checksummed records, fsynced per
//! `spool_fsync`) and returns `Ok`; a background task ships spooled events to the
//! server, `max_in_flight` requests at a time, and forgets them only after the server's
//! 200 (which the server sends only after fsync) whose body counts the batch and whose
//! receipts are signed ([`ReceiptProblem`]; with `server_keys`, by one of those keys,
//! and the answer itself signed by one of them for this request: [`AnswerSigProblem`])
//! (any other
//! 2xx, or a redirect that would change the request, is not the server's answer:
//! [`ForeignAnswer`]; an answer's body is read only up
//! to [`ANSWER_MAX_BYTES`]). Retryable failures (connection
//! errors, timeouts, 408, 429, 5xx, foreign 2xx answers) are retried with exponential backoff and jitter,
//! honouring `Retry-After` up to `backoff_max_ms`; events refused for good (400, 401, 403, 413, ...) go to the
//! dead-letter file with the server's message. After a crash, the spool is repaired
//! (torn tail cut, corrupt segment set aside) and delivery resumes. The server
//! de-duplicates by event id, so resending is safe.
//!
//! **Direct mode** (`spool = false`): `send` posts the batch and maps the answer to
//! [`TargetError`](auditrail_core::TargetError) for the dispatcher to retry or
//! dead-letter.
//!
//! ```no_run
//! use std::time::Duration;
//! use auditrail_core::{audit, topics, DeliveryOptions, Dispatcher, Filter, NodeId};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let config = serde_json::json!({
//!     "url": "http://127.0.0.1:9980",
//!     "auth_key": "node-1-key",
//!     "compression": "zstd",
//! });
//! let dispatcher = Dispatcher::builder(NodeId::new("node-1")?)
//!     .run_dir("run")
//!     .registered_target(
//!         "central",
//!         &auditrail_target_eventserver::REGISTRATION,
//!         config,
//!         Filter::all(),
//!         DeliveryOptions::default(),
//!     )
//!     .build()?;
//! dispatcher.emit(audit!(topics::GENERIC, "login", "authUser" => "alice"))?;
//! dispatcher.shutdown_blocking(Duration::from_secs(10));
//! # Ok(()) }
//! ```

mod answer_sig;
mod cert_hint;
mod client;
mod config;
mod dead_letter;
mod deliver;
mod error;
pub mod metrics;
mod receipt_check;
mod receipts;
mod refusal_sig;
mod routing;
mod sender;
mod server_key;
pub mod spool;
mod target;

pub use answer_sig::AnswerSigProblem;
pub use client::{Accepted, ForeignAnswer, PostError, ANSWER_MAX_BYTES};
pub use config::{Compression, EventServerConfig, OnSpoolFull, RoutingKeyMode, SpoolFsync};
pub use error::{PemProblem, SetupError};
pub use metrics::MetricsSnapshot;
pub use receipt_check::{OneReceipt, ReceiptProblem};
pub use refusal_sig::RefusalProblem;
pub use server_key::{ServerKey, ServerKeyError};
pub use target::EventServerTarget;

auditrail_core::register_target! {
    name: "eventserver",
    description: "a central auditrail event server over HTTP(S), with a crash-safe local spool",
    example: include_str!("../example.toml"),
    config: EventServerConfig,
}
