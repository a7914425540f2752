//! # auditrail
//!
//! Audit centralization and dispatch. Applications emit audit events (a topic, an
//! optional routing key, a JSON message with a `msgType`); a [`Dispatcher`] hands each
//! event to every target whose filters accept it: local audit files, a central event
//! server, Kafka, or a target of your own.
//!
//! This facade re-exports [`auditrail_core`] and links the first-party target crates
//! selected by cargo features: `file` and `eventserver` (default), `kafka`.
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

#[cfg(feature = "eventserver")]
pub use auditrail_target_eventserver as target_eventserver;
#[cfg(feature = "file")]
pub use auditrail_target_file as target_file;
#[cfg(feature = "kafka")]
pub use auditrail_target_kafka as target_kafka;

/// The first-party target registrations this build links, referenced explicitly so
/// that the linker keeps them (an `inventory` registration in a crate that nothing
/// references silently disappears).
pub fn linked_registrations() -> Vec<&'static TargetRegistration> {
    #[allow(unused_mut)]
    let mut regs: Vec<&'static TargetRegistration> = Vec::new();
    #[cfg(feature = "file")]
    regs.push(&auditrail_target_file::REGISTRATION);
    #[cfg(feature = "eventserver")]
    regs.push(&auditrail_target_eventserver::REGISTRATION);
    #[cfg(feature = "kafka")]
    regs.push(&auditrail_target_kafka::REGISTRATION);
    regs
}

/// Every target type available to this program: the first-party ones enabled by
/// features, plus any third-party crate registered through `inventory` and linked.
pub fn registry() -> Result<Registry, RegistryError> {
    Registry::with_linked(&linked_registrations())
}
