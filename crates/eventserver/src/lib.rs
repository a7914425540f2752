//! # auditrail-eventserver
//!
//! The central audit store that many nodes send to: an HTTP ingest API with keys and
//! routing-key ownership, de-duplication of retried events, destinations run by the
//! core dispatcher (the server's own partitioned, hash-chained `store`, or any other
//! registered target), and the answer `200` only once every destination that accepted
//! a batch took it durably. Started by `auditrail serve`; the protocol is in
//! `docs/protocol.md`, the configuration in `docs/eventserver.md`.
//!
//! The public API is small: a [`config::ServerConfig`] (parsed from a file with the
//! target [`registry`], or the embedded defaults), [`server::start`] and the
//! [`server::RunningServer`] it returns, and [`shutdown::signal`]. The store itself is
//! the `auditrail-store` crate (its reader is what tools and queries use) and tamper
//! evidence (checkpoints, receipts, `verify`) the `auditrail-integrity` crate.
//!
//! ```no_run
//! use auditrail_eventserver::{config::ServerConfig, server};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! // From a file: ServerConfig::load(path, &auditrail_eventserver::registry(&[])?)?
//! let mut config = ServerConfig::defaults();
//! config.listen = "127.0.0.1:0".parse()?;
//! // Watch SIGTERM before announcing readiness: one sent right after it stops cleanly.
//! let stop = auditrail_eventserver::shutdown::signal();
//! let running = server::start(config).await?;
//! println!("listening on {}", running.url());
//! stop.await;
//! let report = running.shutdown().await;
//! assert!(report.destinations.is_clean());
//! # Ok(()) }
//! ```

pub mod config;
pub mod server;
pub mod shutdown;

mod access;
mod ahead;
mod auth;
mod cert_info;
mod conn;
mod dedup;
mod destinations;
mod disk;
mod fd_budget;
mod http;
mod integrity_said;
mod metrics;
mod past_retention;
mod recent;
mod retention;
mod shown;
mod snapshot;
mod source;
mod stats;
mod tls;
pub use tls::TlsError;
mod witness;

/// The worker process of `/v1/query` (config `queries.worker`): a program that embeds
/// the server names itself as the worker and calls [`query_worker::run`] when started
/// so (`auditrail __query-worker`). It reads one query on stdin, limits its own memory
/// and CPU time, and writes the answer on stdout.
pub mod query_worker {
    pub use crate::http::query::worker::run;
}

/// Internals measured by this crate's benches (`benches/`); not a stable API.
#[doc(hidden)]
pub mod __bench {
    pub use crate::dedup::window::RecentIds;

    use auditrail_core::Event;

    /// The server's de-duplication (window, reservations, per-node accounting) driven
    /// as a request drives it: admit a batch, then commit its new events.
    #[derive(Debug)]
    pub struct DedupCycle(crate::dedup::Dedup);

    impl DedupCycle {
        /// Empty state remembering the last `window` events (other bounds: defaults).
        pub fn new(window: usize) -> DedupCycle {
            DedupCycle(crate::dedup::Dedup::new(crate::dedup::DedupConfig {
                window,
                ..crate::dedup::DedupConfig::default()
            }))
        }

        /// Admits `events`, keys the new ones for receipts (as the ingest does, with a
        /// chained store), then commits them as stored; returns how many were new
        /// (`None`: one was in flight in another admission, which a bench that runs one
        /// admission at a time never sees).
        pub fn admit_and_commit(&self, events: &[Event]) -> Option<usize> {
            let admission = self.0.try_admit(events)?;
            let new = admission.new().len();
            let keys = admission.receipt_keys(admission.new().iter().copied());
            std::hint::black_box(keys);
            admission.commit();
            Some(new)
        }
    }
}

use auditrail_core::{Registry, RegistryError, TargetRegistration};

/// The target registry of a server: the given registrations (the binary's linked
/// targets) plus this crate's own `store`, plus anything registered via `inventory`.
pub fn registry(linked: &[&'static TargetRegistration]) -> Result<Registry, RegistryError> {
    let mut regs: Vec<&'static TargetRegistration> = linked.to_vec();
    regs.push(&auditrail_store::REGISTRATION);
    Registry::with_linked(&regs)
}
