//! # auditrail
//!
//! Audit centralization and dispatch. Applications emit audit events (a topic, an
//! optional routing key, a JSON message with a `msgType`); a [`Dispatcher`] hands each
//! event to every target whose filters accept it: local audit files, a central event
//! server, Kafka, or a target of your own.
//!
//! This facade re-exports [`auditrail_core`] and links the first-party target crates
//! selected by cargo features: `file` and `eventserver` (default), `kafka`; the
//! `metrics` feature adds `metrics::MetricsServer`, the Prometheus endpoint of a node.
//!
//! ```no_run
//! use std::time::Duration;
//! use auditrail::{audit, topics, Dispatcher, NodeConfig};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let registry = auditrail::registry()?;
//! let config = NodeConfig::load("node.toml".as_ref(), &registry)?;
//! let dispatcher = Dispatcher::builder_from_config(&config).build()?;
//!
//! dispatcher.emit(audit!(topics::GENERIC, "login", "authUser" => "alice"))?;
//! dispatcher.emit_acked(audit!(topics::AUTHFAIL, "login-failed", "authUser" => "mallory")).await?;
//! dispatcher.shutdown(Duration::from_secs(30)).await;
//! # Ok(()) }
//! ```

pub use auditrail_core::*;

/// The README's Rust examples compile as doc tests, so the README cannot drift.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
pub struct ReadmeDoctests;

#[cfg(feature = "metrics")]
pub mod metrics;

#[cfg(feature = "eventserver")]
pub use auditrail_target_eventserver as target_eventserver;
#[cfg(feature = "file")]
pub use auditrail_target_file as target_file;
#[cfg(feature = "kafka")]
pub use auditrail_target_kafka as target_kafka;

/// The first-party target registrations this build links, referenced explicitly so
/// that the linker keeps them (an `inventory` registration in a crate that nothing
/// references silently disappears).
#[allow(clippy::vec_init_then_push)] // each push is behind its own feature
pub fn linked_registrations() -> Vec<&'static TargetRegistration> {
    #[allow(unused_mut)] // with no target feature, nothing is pushed
    let mut regs: Vec<&'static TargetRegistration> = Vec::new();
    #[cfg(feature = "file")]
    regs.push(&auditrail_target_file::REGISTRATION);
    #[cfg(feature = "eventserver")]
    regs.push(&auditrail_target_eventserver::REGISTRATION);
    #[cfg(feature = "kafka")]
    regs.push(&auditrail_target_kafka::REGISTRATION);
    regs
}

/// The first-party target types and the cargo feature of this crate that links each.
pub const FIRST_PARTY: [FirstParty; 3] = [
    FirstParty {
        name: "file",
        feature: "file",
    },
    FirstParty {
        name: "eventserver",
        feature: "eventserver",
    },
    FirstParty {
        name: "kafka",
        feature: "kafka",
    },
];

/// A first-party target type and the cargo feature that links it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FirstParty {
    /// The `type` in config files.
    pub name: &'static str,
    /// The feature of the `auditrail` crate (and of `auditrail-cli`) that links it.
    pub feature: &'static str,
}

/// Every target type available to this program: the first-party ones enabled by
/// features, plus any third-party crate registered through `inventory` and linked.
/// Asking it for a first-party type whose feature is off says which feature to enable.
/// A target crate of your own is linked only if the program refers to it: use
/// [`registry_with`] to be sure.
pub fn registry() -> Result<Registry, RegistryError> {
    registry_with(&[])
}

/// [`registry()`] plus `own`: the registrations of your own target crates
/// (`&my_target::REGISTRATION`, made by [`register_target!`]). Naming them here is what
/// keeps their crates linked: the linker leaves out a crate the program never refers
/// to, and its registration with it, even when Cargo.toml lists it.
///
/// ```
/// # fn run(mine: &'static auditrail::TargetRegistration) -> Result<(), auditrail::RegistryError> {
/// // `mine` is `&my_target::REGISTRATION`, made by `register_target!` in your crate.
/// let registry = auditrail::registry_with(&[mine])?;
/// assert!(registry.names().any(|n| n == mine.name));
/// # Ok(()) }
/// ```
pub fn registry_with(own: &[&'static TargetRegistration]) -> Result<Registry, RegistryError> {
    let mut regs = linked_registrations();
    regs.extend_from_slice(own);
    Registry::with_linked(&regs).map(with_feature_hints)
}

/// Teaches `registry` which cargo feature links each first-party target type it lacks,
/// so that a lookup of one says what to enable (for registries assembled elsewhere,
/// such as the event server's).
pub fn with_feature_hints(registry: Registry) -> Registry {
    FIRST_PARTY.iter().fold(registry, |registry, t| {
        registry.absent(
            t.name,
            format!(
                "enable the cargo feature `{f}` of the `auditrail` crate (e.g. `cargo install \
                 auditrail-cli --features {f}`)",
                f = t.feature
            ),
        )
    })
}

/// Loads a node config file with this program's [`registry()`], warns when the node
/// keeps no local audit file (as the reference product does), and returns a
/// dispatcher builder for it.
///
/// The dispatcher it builds locks the config's `run_dir` for its life: one process at
/// a time uses a run folder, and `build` fails with `DispatcherError::RunDirInUse`
/// while another (another run of the application, an `auditrail send` with the same
/// config) holds it.
///
/// A config that uses a target type of your own crate needs
/// [`dispatcher_builder_from_file_with`].
pub fn dispatcher_builder_from_file(
    path: &std::path::Path,
) -> Result<(NodeConfig, DispatcherBuilder), SetupError> {
    dispatcher_builder_from_file_with(path, &[])
}

/// [`dispatcher_builder_from_file`] with the target types of your own crates as well
/// (see [`registry_with`]): `dispatcher_builder_from_file_with(path,
/// &[&my_target::REGISTRATION])`.
pub fn dispatcher_builder_from_file_with(
    path: &std::path::Path,
    own: &[&'static TargetRegistration],
) -> Result<(NodeConfig, DispatcherBuilder), SetupError> {
    let registry = registry_with(own)?;
    let config = NodeConfig::load(path, &registry)?;
    if !config.targets.iter().any(|t| t.registration.name == "file") {
        tracing_warn_no_file_target(&config);
    }
    #[cfg(not(feature = "metrics"))]
    if let Some(listen) = config.metrics.listen {
        tracing::warn!(
            %listen,
            "[metrics] listen is set but this program is built without the `metrics` \
             feature of the `auditrail` crate: nothing serves the node's metrics"
        );
    }
    let builder = Dispatcher::builder_from_config(&config);
    Ok((config, builder))
}

fn tracing_warn_no_file_target(config: &NodeConfig) {
    tracing::warn!(
        node = config.node.as_str(),
        "the node has no `file` target: nothing of its audit is recorded locally"
    );
}

/// Why a node could not be set up from its config file. Its `Debug` is its message
/// with its causes ([`ErrorReport`]), not a dump: a
/// `main` returning `Result<(), Box<dyn Error>>` prints it readably.
#[derive(thiserror::Error)]
#[non_exhaustive]
pub enum SetupError {
    /// No target type is linked, or a lookup failed.
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// The config file is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
}

impl std::fmt::Debug for SetupError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(&auditrail_core::ErrorReport(self), f)
    }
}
