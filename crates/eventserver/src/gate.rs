//! Glue between the server and its `store` destinations: de-duplication rebuilt from
//! the stores, durability and folders of a store destination, store counters, and the
//! names a store keeps for itself in its root folder.

use std::path::{Path, PathBuf};

use auditrail_core::Event;

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
pub fn describe_store(c: &StoreConfig, data_dir: &Path) -> (bool, Option<PathBuf>) {
    let path = if c.path.is_absolute() {
        c.path.clone()
    } else {
        data_dir.join(&c.path)
    };
    (c.is_durable(), Some(path))
}

/// Counters of the open store at `root`, if any.
pub fn store_stats(root: &Path) -> Option<StoreStats> {
    crate::store::handle(root).map(|h| h.stats())
}

/// Files a store keeps in its root folder (see [`auditrail_store::RESERVED_ROOT_NAMES`]):
/// an event whose first folder would take one of these names is refused with 400.
pub use auditrail_store::RESERVED_ROOT_NAMES;

/// What names a store's first folder level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RootLevel {
    /// `folder_by_topic = true` (the default): the topic.
    Topic,
    /// `folder_by_topic = false`, `folder_by_routing_key = true`: the routing key
    /// (`_none` without one).
    RoutingKey,
    /// Neither: the year, never a reserved name.
    Time,
}

/// The first folder level of a `store` destination with this config.
pub fn root_level(c: &StoreConfig) -> RootLevel {
    if c.folder_by_topic {
        RootLevel::Topic
    } else if c.folder_by_routing_key {
        RootLevel::RoutingKey
    } else {
        RootLevel::Time
    }
}

/// When `event` would be stored under a reserved root name: the field (`topic` or
/// `routingKey`) and the name.
pub fn reserved_collision(level: RootLevel, event: &Event) -> Option<(&'static str, &'static str)> {
    let (field, value) = match level {
        RootLevel::Topic => ("topic", event.topic.as_str()),
        RootLevel::RoutingKey => ("routingKey", event.routing_key.as_ref()?.as_str()),
        RootLevel::Time => return None,
    };
    RESERVED_ROOT_NAMES
        .iter()
        .find(|&&r| r == value)
        .map(|&r| (field, r))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store_config(v: serde_json::Value) -> StoreConfig {
        serde_json::from_value(v).unwrap()
    }

    fn event(topic: &str, routing_key: Option<&str>) -> Event {
        let mut v = serde_json::json!({
            "id": "01936f6e-1b2c-7d3e-8f40-123456789abc",
            "timestamp": "2026-11-25T18:55:49.123Z",
            "topic": topic, "node": "n1", "seq": 1,
            "message": {"msgType": "q"}
        });
        if let Some(k) = routing_key {
            v["routingKey"] = k.into();
        }
        Event::from_json(&v.to_string()).unwrap()
    }

    #[test]
    fn reserved_names_collide_only_at_the_first_folder_level() {
        let by_topic = root_level(&store_config(serde_json::json!({"path": "s"})));
        assert_eq!(by_topic, RootLevel::Topic);
        assert_eq!(
            reserved_collision(by_topic, &event("store-id", None)),
            Some(("topic", "store-id"))
        );
        assert_eq!(
            reserved_collision(by_topic, &event("generic", Some("checkpoints.jsonl"))),
            None
        );
        let by_key = root_level(&store_config(
            serde_json::json!({"path": "s", "folder_by_topic": false}),
        ));
        assert_eq!(by_key, RootLevel::RoutingKey);
        assert_eq!(
            reserved_collision(by_key, &event("generic", Some("checkpoints.jsonl"))),
            Some(("routingKey", "checkpoints.jsonl"))
        );
        assert_eq!(reserved_collision(by_key, &event("store-id", None)), None);
        let by_time = root_level(&store_config(serde_json::json!({
            "path": "s", "folder_by_topic": false, "folder_by_routing_key": false
        })));
        assert_eq!(
            reserved_collision(by_time, &event("store-id", Some("store-id"))),
            None
        );
    }
}
