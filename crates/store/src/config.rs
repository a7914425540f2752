//! The `store` destination's own config (one `[[destinations]]` entry with `type = "store"`).

use std::path::PathBuf;

use auditrail_core::config::{ConfigPath, EMPTY_PATH};
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
    /// (the `run_dir` of the build context). Never empty ([`ConfigPath`]).
    pub path: ConfigPath,
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
    /// Archive before delete: where a prune (retention or `auditrail store prune`)
    /// copies the partitions it deletes, with the checkpoint log, before removing them
    /// locally (`archive = "s3://bucket/prefix"`, `"file:///path"`, or a table with
    /// `url` and the S3 options). Default: partitions are deleted without a copy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archive: Option<ArchiveConfig>,
}

/// Where a store's pruned partitions are archived: an S3-compatible bucket or a local
/// folder (the `object_store` crate's backends). Written as a URL alone, or as a table:
///
/// ```
/// use auditrail_store::{ArchiveConfig, ArchiveLocation, StoreConfig};
/// let c: StoreConfig = serde_json::from_value(serde_json::json!({
///     "path": "s",
///     "archive": {"url": "s3://audit/eu-1", "endpoint": "http://127.0.0.1:9000", "allow_http": true}
/// })).unwrap();
/// let a = c.archive.unwrap();
/// assert_eq!(a.location().unwrap(), ArchiveLocation::S3 { bucket: "audit".into(), prefix: "eu-1".into() });
/// ```
///
/// Credentials: `access_key_id` / `secret_access_key` here, or else the environment
/// (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_REGION`, `AWS_ENDPOINT` and the
/// rest of what `object_store`'s `AmazonS3Builder::from_env` reads).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "ArchiveForm", into = "ArchiveTable")]
pub struct ArchiveConfig {
    /// `s3://bucket[/prefix]` or `file:///absolute/path`.
    pub url: String,
    /// S3 endpoint of a non-AWS server (MinIO, Ceph, s3s...), e.g. `http://127.0.0.1:9000`.
    pub endpoint: Option<String>,
    /// S3 region (default: the environment's, else `us-east-1`).
    pub region: Option<String>,
    /// S3 access key id (default: `AWS_ACCESS_KEY_ID`).
    pub access_key_id: Option<String>,
    /// S3 secret (default: `AWS_SECRET_ACCESS_KEY`). Never serialized or printed.
    pub secret_access_key: Option<String>,
    /// Allow a plain `http://` endpoint (a server on loopback); default false.
    pub allow_http: bool,
}

impl std::fmt::Debug for ArchiveConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ArchiveConfig")
            .field("url", &self.url)
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("access_key_id", &self.access_key_id)
            .field(
                "secret_access_key",
                &self.secret_access_key.as_ref().map(|_| "<redacted>"),
            )
            .field("allow_http", &self.allow_http)
            .finish()
    }
}

/// An archive URL, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArchiveLocation {
    /// `s3://bucket/prefix`.
    S3 {
        /// The bucket.
        bucket: String,
        /// The key prefix (no leading or trailing `/`; may be empty).
        prefix: String,
    },
    /// `file:///path`: a local folder (`object_store`'s `LocalFileSystem`).
    File {
        /// The folder (absolute).
        root: PathBuf,
    },
}

impl ArchiveConfig {
    /// An archive at `url` with no S3 options (they come from the environment).
    pub fn url(url: impl Into<String>) -> ArchiveConfig {
        ArchiveConfig {
            url: url.into(),
            endpoint: None,
            region: None,
            access_key_id: None,
            secret_access_key: None,
            allow_http: false,
        }
    }

    /// The URL parsed; the message names what is wrong.
    pub fn location(&self) -> Result<ArchiveLocation, String> {
        if let Some(rest) = self.url.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            if bucket.is_empty() {
                return Err(format!(
                    "`archive` = {:?}: no bucket (write s3://bucket/prefix)",
                    self.url
                ));
            }
            let prefix = prefix.trim_matches('/');
            if prefix.split('/').any(|p| p == "." || p == "..") {
                return Err(format!(
                    "`archive` = {:?}: `.` and `..` are not allowed in the prefix",
                    self.url
                ));
            }
            return Ok(ArchiveLocation::S3 {
                bucket: bucket.to_string(),
                prefix: prefix.to_string(),
            });
        }
        if let Some(path) = self.url.strip_prefix("file://") {
            let root = PathBuf::from(path);
            if !root.is_absolute() {
                return Err(format!(
                    "`archive` = {:?}: a file URL needs an absolute path (file:///srv/archive)",
                    self.url
                ));
            }
            if self.endpoint.is_some()
                || self.region.is_some()
                || self.access_key_id.is_some()
                || self.secret_access_key.is_some()
            {
                return Err(format!("`archive` = {:?}: endpoint, region and keys are S3 options; a file:// archive takes none", self.url));
            }
            return Ok(ArchiveLocation::File { root });
        }
        Err(format!(
            "`archive` = {:?}: expected s3://bucket/prefix or file:///path",
            self.url
        ))
    }
}

/// How `archive` may be written: a URL, or a table. Not `#[serde(untagged)]`, whose
/// error ("did not match any variant") would hide which key of the table is wrong.
enum ArchiveForm {
    Url(String),
    Table(ArchiveTable),
}

impl<'de> Deserialize<'de> for ArchiveForm {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<ArchiveForm, D::Error> {
        struct Form;
        impl<'de> serde::de::Visitor<'de> for Form {
            type Value = ArchiveForm;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an archive URL (\"s3://bucket/prefix\" or \"file:///path\") or a table with `url`")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<ArchiveForm, E> {
                Ok(ArchiveForm::Url(v.to_string()))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> Result<ArchiveForm, A::Error> {
                ArchiveTable::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                    .map(ArchiveForm::Table)
            }
        }
        d.deserialize_any(Form)
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ArchiveTable {
    url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    endpoint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    access_key_id: Option<String>,
    #[serde(default, skip_serializing)]
    secret_access_key: Option<String>,
    #[serde(default)]
    allow_http: bool,
}

impl From<ArchiveForm> for ArchiveConfig {
    fn from(f: ArchiveForm) -> ArchiveConfig {
        match f {
            ArchiveForm::Url(url) => ArchiveConfig::url(url),
            ArchiveForm::Table(t) => ArchiveConfig {
                url: t.url,
                endpoint: t.endpoint,
                region: t.region,
                access_key_id: t.access_key_id,
                secret_access_key: t.secret_access_key,
                allow_http: t.allow_http,
            },
        }
    }
}

impl From<ArchiveConfig> for ArchiveTable {
    fn from(c: ArchiveConfig) -> ArchiveTable {
        ArchiveTable {
            url: c.url,
            endpoint: c.endpoint,
            region: c.region,
            access_key_id: c.access_key_id,
            secret_access_key: c.secret_access_key,
            allow_http: c.allow_http,
        }
    }
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
            path: ConfigPath::from(path.into()),
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
            archive: None,
        }
    }

    /// Whether an `Ok` from this store means fsynced.
    pub fn is_durable(&self) -> bool {
        self.flush.policy().is_none()
    }

    /// Pure checks; the message names the key.
    pub fn check(&self) -> Result<(), String> {
        // Read from a file, an empty `path` is refused by `ConfigPath`; this is for a
        // config made in code.
        if self.path.as_os_str().is_empty() {
            return Err(format!("`path` {EMPTY_PATH}"));
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
        if let Some(a) = &self.archive {
            a.location()?;
            if !self.chain {
                return Err("`archive` needs `chain = true`: what is archived is named in the signed checkpoint log".into());
            }
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
    fn archive_reads_a_url_or_a_table_and_names_a_wrong_key() {
        let c: StoreConfig =
            serde_json::from_value(json!({"path": "s", "archive": "file:///srv/a"})).unwrap();
        assert_eq!(
            c.archive.unwrap().location().unwrap(),
            ArchiveLocation::File {
                root: "/srv/a".into()
            }
        );
        let err = serde_json::from_value::<StoreConfig>(
            json!({"path": "s", "archive": {"url": "s3://b/p", "secret": "x"}}),
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("secret") && err.contains("secret_access_key"),
            "{err}"
        );
        let c: StoreConfig =
            serde_json::from_value(json!({"path": "s", "archive": "ftp://x"})).unwrap();
        assert!(c.check().unwrap_err().contains("s3://bucket/prefix"));
        let c: StoreConfig =
            serde_json::from_value(json!({"path": "s", "archive": "file://relative"})).unwrap();
        assert!(c.check().unwrap_err().contains("absolute"));
        let secret = ArchiveConfig {
            secret_access_key: Some("hunter2".into()),
            ..ArchiveConfig::url("s3://b")
        };
        assert!(!format!("{secret:?}").contains("hunter2"));
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
