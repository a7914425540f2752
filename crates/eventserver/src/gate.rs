//! Glue between the server and its `store` destinations: de-duplication rebuilt from
//! the stores, durability and folders of a store destination, store counters.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::dedup::{Dedup, DedupConfig};
use crate::store::{StoreConfig, StoreStats};

/// De-duplication rebuilt from these store folders (empty: in memory only). Logs what
/// it read.
pub fn rebuild(store_paths: &[PathBuf]) -> Result<Dedup, String> {
    let roots: Vec<&Path> = store_paths.iter().map(PathBuf::as_path).collect();
    // Dedup::rebuild logs what it read from each store.
    let (dedup, _reports) =
        Dedup::rebuild(DedupConfig::default(), &roots).map_err(|e| e.to_string())?;
    Ok(dedup)
}

/// Whether a `store` destination acknowledges durably, and its folder (a relative
/// `path` is under the data folder, as the store resolves it).
pub fn describe_store(config: &Value, data_dir: &Path) -> (bool, Option<PathBuf>) {
    match serde_json::from_value::<StoreConfig>(config.clone()) {
        Ok(c) => {
            let path = if c.path.is_absolute() {
                c.path.clone()
            } else {
                data_dir.join(&c.path)
            };
            (c.is_durable(), Some(path))
        }
        // Validated before; if it ever fails, claim nothing.
        Err(_) => (false, None),
    }
}

/// Counters of the open store at `root`, if any.
pub fn store_stats(root: &Path) -> Option<StoreStats> {
    crate::store::handle(root).map(|h| h.stats())
}
