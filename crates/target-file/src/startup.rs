//! The start-up check the reference product also makes: a node with no local file
//! target keeps no audit trail on its own disk.

use auditrail_core::NodeConfig;

/// Logs a `tracing` warning when no target of `config` has type `"file"`, and says
/// whether it did. The `auditrail` CLI calls it at start-up; applications that build
/// their dispatcher from a [`NodeConfig`] may call it too.
///
/// A `file` target in `mode = "tracing"` counts as a local target: it hands the trail
/// to the application's own logging, as the reference's local log target does.
pub fn warn_if_no_file_target(config: &NodeConfig) -> bool {
    let has_file = config
        .targets
        .iter()
        .any(|t| t.registration.name == crate::NAME);
    if !has_file {
        tracing::warn!(
            node = %config.node,
            targets = config.targets.len(),
            "node {} has no local audit file target (type \"file\"): nothing of its audit \
             trail is kept on its own disk",
            config.node
        );
    }
    !has_file
}
