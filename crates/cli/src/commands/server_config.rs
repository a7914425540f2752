//! `--config server.toml` for the operator commands (`verify`, `query`, `sql`, `keys`,
//! `store`): the data folder, the stores and the signing key as `auditrail serve`
//! sees them, read from the same file by the same parser.

use std::path::Path;

use anyhow::Context;
use auditrail_eventserver::config::ServerConfig;

/// The target types this binary knows, for parsing a server config's destinations.
pub(crate) fn registry() -> anyhow::Result<auditrail::Registry> {
    auditrail_eventserver::registry(&auditrail::linked_registrations())
        .map(auditrail::with_feature_hints)
        .context("target registry")
}

/// Reads and checks a server config file, with the environment's `AUDITRAIL_` overrides
/// (as `auditrail serve` reads it).
pub(crate) fn load(path: &Path) -> anyhow::Result<ServerConfig> {
    Ok(ServerConfig::load_with_env(
        Some(path),
        &registry()?,
        std::env::vars_os(),
    )?)
}
