//! The `store` destination's own config (one `[[destinations]]` entry with `type = "store"`).

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// Default size at which a segment file rolls over: 64 MiB.
pub const DEFAULT_SEGMENT_MAX_BYTES: u64 = 64 * 1024 * 1024;

/// Config of a `store` destination. Unknown keys are errors.
///
/// ```
/// use auditrail_store::{FlushMode, Partitioning, StoreConfig};
/// let c: StoreConfig = serde_json::from_value(serde_json::json!({ "path": "store" })).unwrap();
/// assert!(c.folder_by_topic && c.folder_by_routing_key && c.chain);
/// assert_eq!(c.partitioning, Partitioning::Hour);
/// assert_eq!(c.flush, FlushMode::Durable);
/// assert!(c.is_durable());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreConfig {
    /// Root folder of the store. A relative path is taken under the server's data dir
    /// (the `run_dir` of the build context).
    pub path: PathBuf,
    /// One folder level per topic (default true).
    #[serde(default = "yes")]
    pub folder_by_topic: bool,
    /// One folder level per routing key (default true); events without a routing key
    /// go to [`NO_ROUTING_KEY_FOLDER`](crate::NO_ROUTING_KEY_FOLDER).
    #[serde(default = "yes")]
    pub folder_by_routing_key: bool,
    /// Depth of the time folders (UTC, from the event's own timestamp). Default `hour`.
    #[serde(default)]
    pub partitioning: Partitioning,
    /// A segment file is closed and a new one started once it holds this many bytes.
    #[serde(default = "default_segment_max_bytes")]
    pub segment_max_bytes: u64,
    /// `"durable"` (default): fsync before acknowledging. Or a flush policy
    /// `{ every_bytes, every_seconds }` that accepts a loss window on power failure.
    #[serde(default)]
    pub flush: FlushMode,
    /// Hash-chain every record (default true). `false` exists only to measure the cost
    /// of chaining; such a store cannot be verified.
    #[serde(default = "yes")]
    pub chain: bool,
    /// Keep the Merkle tree over the records (default true), whose heads checkpoint
    /// lines sign (see [`crate::merkle`]). `false` exists only to measure its cost;
    /// such a store's lines carry no tree heads, so its events get no proofs.
    #[serde(default = "yes")]
    pub merkle: bool,
    /// Segment files the writer keeps open at most; the least recently used are closed
    /// beyond it, so a batch over any number of partitions (routing keys, hours) needs
    /// at most this many descriptors (and up to 32 more while it fsyncs). Default
    /// [`DEFAULT_MAX_OPEN_FILES`](crate::DEFAULT_MAX_OPEN_FILES), or a quarter of the
    /// process's open-file limit (`ulimit -n`) when that is lower.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_open_files: Option<usize>,
    /// Retention by age (`retention = "400d"`; units `h`, `d`, `w`, as the `humantime`
    /// crate reads them): time partitions that ended longer ago than this are deleted,
    /// each deletion recorded in the signed checkpoint log (see
    /// [`prune`](crate::prune)). Default: kept forever.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "retention_age"
    )]
    pub retention: Option<std::time::Duration>,
    /// Retention by size: while the store's segments take more than this many bytes,
    /// its oldest closed time partitions are deleted (recorded like age retention).
    /// Default: no limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention_max_bytes: Option<u64>,
}

/// `retention = "400d"`: a duration as text (`humantime`'s syntax, e.g. `"36h"`,
/// `"400d"`, `"2w"`), so that a config says what it means without a unit in the key.
mod retention_age {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(v: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(d) => s.serialize_str(&humantime::format_duration(*d).to_string()),
            None => s.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Duration>, D::Error> {
        let text = String::deserialize(d)?;
        humantime::parse_duration(&text).map(Some).map_err(|e| {
            serde::de::Error::custom(format!(
                "`retention` = {text:?}: {e} (write a duration such as \"400d\", \"36h\" or \"2w\")"
            ))
        })
    }
}

fn yes() -> bool {
    true
}

fn default_segment_max_bytes() -> u64 {
    DEFAULT_SEGMENT_MAX_BYTES
}

/// Depth of the time folders under the topic and routing-key levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Partitioning {
    /// `YYYY/mm`.
    Month,
    /// `YYYY/mm/dd`.
    Day,
    /// `YYYY/mm/dd/HH` (default).
    #[default]
    Hour,
}

/// When written records are forced to stable storage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum FlushMode {
    /// The `"durable"` string form (see [`Durability`]).
    Named(Durability),
    /// Flush policy: fsync once `every_bytes` were written since the last fsync, and at
    /// the latest `every_seconds` after a write. Records are handed to the OS at once
    /// (a crash of the process loses nothing), but a power loss or kernel crash can
    /// lose what was written in the window. The store then reports itself as not
    /// durable ([`StoreHandle::is_durable`](crate::StoreHandle::is_durable)).
    Policy(FlushPolicy),
}

/// The only named flush mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Durability {
    /// Every file the batch touched (and every new folder) is fsynced before `send`
    /// returns `Ok`: one fsync per file per batch (group commit).
    #[default]
    Durable,
}

impl Default for FlushMode {
    fn default() -> Self {
        FlushMode::Durable
    }
}

impl FlushMode {
    /// The default, durable mode.
    #[allow(non_upper_case_globals)]
    pub const Durable: FlushMode = FlushMode::Named(Durability::Durable);

    /// The flush policy, when not durable.
    pub fn policy(&self) -> Option<FlushPolicy> {
        match self {
            FlushMode::Named(Durability::Durable) => None,
            FlushMode::Policy(p) => Some(*p),
        }
    }
}

/// The opt-out flush policy (the reference's `flushEveryBytes` / `flushEveryS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlushPolicy {
    /// fsync once this many bytes were written since the last fsync.
    pub every_bytes: u64,
    /// fsync at the latest this many seconds after the first unsynced write.
    pub every_seconds: u64,
}

impl StoreConfig {
    /// The default config of a store at `path`: every other key at its default.
    ///
    /// ```
    /// use auditrail_store::StoreConfig;
    /// let c: StoreConfig = serde_json::from_value(serde_json::json!({"path": "s"})).unwrap();
    /// assert_eq!(StoreConfig::new("s"), c);
    /// ```
    pub fn new(path: impl Into<PathBuf>) -> StoreConfig {
        StoreConfig {
            path: path.into(),
            folder_by_topic: true,
            folder_by_routing_key: true,
            partitioning: Partitioning::default(),
            segment_max_bytes: DEFAULT_SEGMENT_MAX_BYTES,
            flush: FlushMode::default(),
            chain: true,
            merkle: true,
            max_open_files: None,
            retention: None,
            retention_max_bytes: None,
        }
    }

    /// Whether an `Ok` from this store means fsynced.
    pub fn is_durable(&self) -> bool {
        self.flush.policy().is_none()
    }

    /// Pure checks; the message names the key.
    pub fn check(&self) -> Result<(), String> {
        if self.path.as_os_str().is_empty() {
            return Err("`path` must not be empty".into());
        }
        if self.segment_max_bytes < 4096 {
            return Err("`segment_max_bytes` must be at least 4096".into());
        }
        if self.max_open_files == Some(0) {
            return Err("`max_open_files` must be at least 1".into());
        }
        if self
            .retention
            .is_some_and(|r| r < std::time::Duration::from_secs(3600))
        {
            // Shorter than the shortest partition (an hour): every partition but the
            // current one would go at once, which is a typo far more often than a wish.
            return Err("`retention` must be at least 1h".into());
        }
        if self.retention_max_bytes == Some(0) {
            return Err("`retention_max_bytes` must be at least 1".into());
        }
        if (self.retention.is_some() || self.retention_max_bytes.is_some()) && !self.chain {
            return Err(
                "`retention` needs `chain = true`: deletions are recorded in the signed checkpoint log"
                    .into(),
            );
        }
        if let Some(p) = self.flush.policy() {
            if p.every_bytes == 0 {
                return Err("`flush.every_bytes` must be at least 1".into());
            }
            if p.every_seconds == 0 {
                return Err(
                    "`flush.every_seconds` must be at least 1 (or use flush = \"durable\")".into(),
                );
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn defaults_are_durable_hourly_and_chained() {
        let c: StoreConfig = serde_json::from_value(json!({"path": "s"})).unwrap();
        assert_eq!(c.segment_max_bytes, DEFAULT_SEGMENT_MAX_BYTES);
        assert!(c.is_durable() && c.chain);
        c.check().unwrap();
    }

    #[test]
    fn flush_policy_and_partitioning_parse() {
        let c: StoreConfig = serde_json::from_value(json!({
            "path": "s", "partitioning": "day",
            "flush": {"every_bytes": 1048576, "every_seconds": 2}
        }))
        .unwrap();
        assert_eq!(c.partitioning, Partitioning::Day);
        assert_eq!(
            c.flush.policy(),
            Some(FlushPolicy {
                every_bytes: 1048576,
                every_seconds: 2
            })
        );
        assert!(!c.is_durable());
        let d: StoreConfig =
            serde_json::from_value(json!({"path": "s", "flush": "durable"})).unwrap();
        assert!(d.is_durable());
    }

    #[test]
    fn unknown_keys_and_bad_values_are_refused() {
        assert!(serde_json::from_value::<StoreConfig>(json!({"path": "s", "pth": 1})).is_err());
        assert!(
            serde_json::from_value::<StoreConfig>(json!({"path": "s", "flush": "fast"})).is_err()
        );
        assert!(serde_json::from_value::<StoreConfig>(
            json!({"path": "s", "flush": {"every_bytes": 1, "every_seconds": 1, "x": 1}})
        )
        .is_err());
        assert!(serde_json::from_value::<StoreConfig>(
            json!({"path": "s", "partitioning": "year"})
        )
        .is_err());
        let c: StoreConfig =
            serde_json::from_value(json!({"path": "s", "segment_max_bytes": 10})).unwrap();
        assert!(c.check().unwrap_err().contains("segment_max_bytes"));
    }

    #[test]
    fn retention_reads_durations_and_refuses_bad_ones() {
        let c: StoreConfig = serde_json::from_value(
            json!({"path": "s", "retention": "400d", "retention_max_bytes": 1000000}),
        )
        .unwrap();
        assert_eq!(
            c.retention,
            Some(std::time::Duration::from_secs(400 * 86_400))
        );
        assert_eq!(c.retention_max_bytes, Some(1_000_000));
        c.check().unwrap();
        let err = serde_json::from_value::<StoreConfig>(json!({"path": "s", "retention": "400"}))
            .unwrap_err()
            .to_string();
        assert!(err.contains("retention") && err.contains("400d"), "{err}");
        let c: StoreConfig =
            serde_json::from_value(json!({"path": "s", "retention": "10m"})).unwrap();
        assert!(c.check().unwrap_err().contains("at least 1h"));
        let c: StoreConfig =
            serde_json::from_value(json!({"path": "s", "retention": "2d", "chain": false}))
                .unwrap();
        assert!(c.check().unwrap_err().contains("chain"));
    }
}
