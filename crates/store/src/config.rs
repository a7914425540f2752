//! The `store` destination's own config (one `[[destinations]]` entry with `type = "store"`).

use std::path::{Path, PathBuf};

use auditrail_core::config::{ConfigPath, EMPTY_REQUIRED_PATH};
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
    #[serde(deserialize_with = "ConfigPath::required")]
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

    /// The URL parsed, every value checked: the URL, and the S3 options that go into
    /// the requests' URLs (`endpoint`, `region`), so that one the S3 client cannot
    /// use is refused where the config or the flags are read (`auditrail serve`,
    /// `store prune`, `verify`) rather than when a request is built (where
    /// `object_store` panics on an invalid URI). The error names the key and what is
    /// wrong.
    pub fn location(&self) -> Result<ArchiveLocation, ArchiveConfigError> {
        let url_err = |reason: ArchiveReason| ArchiveConfigError {
            key: ArchiveKey::Url,
            value: self.url.clone(),
            reason,
        };
        // By URL rules (RFC 3986, and the `url` crate under `object_store`) `?` starts a
        // query and `#` a fragment, neither part of the bucket or path: taken
        // literally here, `s3://audit/eu-1?region=x` archived under the prefix
        // `eu-1?region=x` while a URL reader (object_store's own parse, an operator's
        // tool) reads the prefix `eu-1`, and `file:///srv/a#1` named a folder others
        // read as `/srv/a`.
        if let Some(c) = self.url.chars().find(|c| matches!(c, '?' | '#')) {
            return Err(url_err(ArchiveReason::QueryOrFragment { found: c }));
        }
        self.location_as_written()
    }

    /// Whether the URL holds `?` or `#`, which [`location`](Self::location) refuses
    /// and [`location_as_written`](Self::location_as_written) takes literally.
    pub fn has_query_or_fragment(&self) -> bool {
        self.url.contains(['?', '#'])
    }

    /// [`location`](Self::location) without its refusal of `?` and `#`: the URL taken
    /// literally, as versions before 2026-12-07 did when they wrote archives (so
    /// `file:///srv/arch?x` is the folder `arch?x`). Only for reading an archive such a
    /// version wrote (`verify --archive`), which the store's signed deletion lines
    /// name by that URL: nothing is written to such a place any more.
    pub fn location_as_written(&self) -> Result<ArchiveLocation, ArchiveConfigError> {
        let url_err = |reason: ArchiveReason| ArchiveConfigError {
            key: ArchiveKey::Url,
            value: self.url.clone(),
            reason,
        };
        if let Some(rest) = self.url.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            if bucket.is_empty() {
                return Err(url_err(ArchiveReason::NoBucket));
            }
            check_bucket(bucket).map_err(|e| url_err(ArchiveReason::Value(e)))?;
            // As the object store reads a key: empty segments (`eu-1//store/`) are
            // none, so the prefix is spelled without them (see `ArchiveLocation::url`).
            let prefix = prefix
                .split('/')
                .filter(|p| !p.is_empty())
                .collect::<Vec<_>>()
                .join("/");
            if prefix.split('/').any(|p| p == "." || p == "..") {
                return Err(url_err(ArchiveReason::DotInPrefix));
            }
            if let Some(e) = &self.endpoint {
                check_s3_endpoint(e).map_err(|reason| ArchiveConfigError {
                    key: ArchiveKey::Endpoint,
                    value: e.clone(),
                    reason: ArchiveReason::Value(reason),
                })?;
            }
            if let Some(r) = &self.region {
                check_region(r).map_err(|reason| ArchiveConfigError {
                    key: ArchiveKey::Region,
                    value: r.clone(),
                    reason: ArchiveReason::Value(reason),
                })?;
            }
            return Ok(ArchiveLocation::S3 {
                bucket: bucket.to_string(),
                prefix,
            });
        }
        if let Some(path) = self.url.strip_prefix("file://") {
            // Without empty segments, `.` and a trailing `/` (`..` stays: it may
            // cross a symbolic link).
            let root: PathBuf = Path::new(path).components().collect();
            if !root.is_absolute() {
                return Err(url_err(ArchiveReason::RelativeFile));
            }
            if self.endpoint.is_some()
                || self.region.is_some()
                || self.access_key_id.is_some()
                || self.secret_access_key.is_some()
            {
                return Err(url_err(ArchiveReason::S3OptionsOnFile));
            }
            return Ok(ArchiveLocation::File { root });
        }
        Err(url_err(ArchiveReason::Scheme))
    }
}

impl ArchiveLocation {
    /// The archive's URL in its one spelling: `s3://bucket/prefix` (`s3://bucket` with
    /// no prefix), `file:///path`, without empty segments or a trailing `/`. Deletion
    /// lines record it, and `verify` compares archives by it, so that
    /// `s3://audit/eu-1//store/` and `s3://audit/eu-1/store`, one prefix to the object
    /// store, are one archive.
    pub fn url(&self) -> String {
        match self {
            ArchiveLocation::S3 { bucket, prefix } if prefix.is_empty() => format!("s3://{bucket}"),
            ArchiveLocation::S3 { bucket, prefix } => format!("s3://{bucket}/{prefix}"),
            ArchiveLocation::File { root } => format!("file://{}", root.display()),
        }
    }
}

/// The archive URL `url` in its one spelling ([`ArchiveLocation::url`]); as it is when
/// it is not an archive URL. For URLs recorded before they were recorded so.
pub fn archive_url_spelled(url: &str) -> String {
    // As written: a recorded URL may be one an older version archived under.
    ArchiveConfig::url(url)
        .location_as_written()
        .map_or_else(|_| url.to_string(), |l| l.url())
}

/// Which setting of an archive an [`ArchiveConfigError`] refuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArchiveKey {
    /// The URL (`archive`, or its table's `url`; `--archive`).
    Url,
    /// The S3 endpoint (`archive.endpoint`; `--archive-endpoint`).
    Endpoint,
    /// The S3 region (`archive.region`; `--archive-region`).
    Region,
}

impl ArchiveKey {
    /// The key as a config file spells it.
    pub fn config_key(self) -> &'static str {
        match self {
            ArchiveKey::Url => "archive",
            ArchiveKey::Endpoint => "archive.endpoint",
            ArchiveKey::Region => "archive.region",
        }
    }

    /// The command-line flag that sets it.
    pub fn flag(self) -> &'static str {
        match self {
            ArchiveKey::Url => "--archive",
            ArchiveKey::Endpoint => "--archive-endpoint",
            ArchiveKey::Region => "--archive-region",
        }
    }
}

/// An archive setting that is refused: which key, its value, and why. Displayed as a
/// config file names it (`` `archive.endpoint` = "127.0.0.1:9000": ... ``);
/// [`as_flag`](Self::as_flag) names the command-line flag instead.
#[derive(Debug, Clone, thiserror::Error)]
#[error("`{}` = {value:?}: {reason}", key.config_key())]
pub struct ArchiveConfigError {
    /// The setting.
    pub key: ArchiveKey,
    /// Its value.
    pub value: String,
    /// What is wrong, and what is expected.
    #[source]
    pub reason: ArchiveReason,
}

/// What is wrong with an archive setting ([`ArchiveConfigError::reason`]).
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum ArchiveReason {
    /// The URL holds `?` (a query) or `#` (a fragment).
    #[error(
        "`{found}` starts a URL's {}, which is no part of an archive's place: write \
         the bucket and prefix alone (s3://bucket/prefix) or the folder's path \
         (file:///srv/archive), and S3 options as keys of the archive table \
         (endpoint, region, allow_http, access_key_id, secret_access_key); a \
         folder or prefix whose name holds `?` or `#` cannot be an archive",
        if *found == '?' { "query" } else { "fragment" }
    )]
    QueryOrFragment {
        /// `?` or `#`.
        found: char,
    },
    /// `s3://` with no bucket.
    #[error("no bucket (write s3://bucket/prefix)")]
    NoBucket,
    /// A `.` or `..` part in an S3 prefix.
    #[error("`.` and `..` are not allowed in the prefix")]
    DotInPrefix,
    /// A `file://` URL with a relative path.
    #[error("a file URL needs an absolute path (file:///srv/archive)")]
    RelativeFile,
    /// S3 options given with a `file://` archive.
    #[error("endpoint, region and keys are S3 options; a file:// archive takes none")]
    S3OptionsOnFile,
    /// Neither `s3://` nor `file://`.
    #[error("expected s3://bucket/prefix or file:///path")]
    Scheme,
    /// A bucket, endpoint or region the S3 requests cannot carry.
    #[error(transparent)]
    Value(S3ValueError),
}

impl ArchiveConfigError {
    /// The message naming the command-line flag (`--archive-endpoint "...": ...`).
    pub fn as_flag(&self) -> String {
        format!("{} {:?}: {}", self.key.flag(), self.value, self.reason)
    }
}

/// The form an S3 endpoint takes, for messages.
const ENDPOINT_FORM: &str = "expected http://host:port (with `allow_http`) or https://host[:port]";

/// Checks an S3 endpoint (`archive.endpoint`, `--archive-endpoint`, or `AWS_ENDPOINT`
/// in the environment) as the S3 client uses it: every request's URL is the endpoint,
/// `/`, the bucket and the key, parsed as an HTTP URI (`http::Uri`, which the client
/// uses; an invalid one made `object_store` panic when it built a request). So: a
/// URI with the scheme `http` or `https` and a host, no user info (credentials have
/// keys of their own), no query or fragment. The reason says what is wrong.
pub fn check_s3_endpoint(endpoint: &str) -> Result<(), S3ValueError> {
    if endpoint.trim().is_empty() {
        return Err(S3ValueError::EmptyEndpoint);
    }
    let uri: http::Uri = endpoint.parse().map_err(|e| S3ValueError::NotAUrl {
        source: std::sync::Arc::new(e),
    })?;
    let Some(scheme) = uri.scheme_str() else {
        return Err(S3ValueError::NoScheme {
            endpoint: endpoint.to_owned(),
        });
    };
    if scheme != "http" && scheme != "https" {
        return Err(S3ValueError::Scheme {
            scheme: scheme.to_owned(),
        });
    }
    let Some(authority) = uri.authority() else {
        return Err(S3ValueError::NoHost);
    };
    if authority.as_str().contains('@') {
        return Err(S3ValueError::UserInfo);
    }
    if authority.host().is_empty() {
        return Err(S3ValueError::NoHost);
    }
    if uri.query().is_some() || endpoint.contains('#') {
        return Err(S3ValueError::QueryOrFragment);
    }
    // What the client then requests: the endpoint, the bucket, a key.
    let request = format!("{}/bucket/key", endpoint.trim_end_matches('/'));
    request
        .parse::<http::Uri>()
        .map_err(|e| S3ValueError::NotExtensible {
            source: std::sync::Arc::new(e),
        })?;
    Ok(())
}

/// An S3 endpoint, bucket or region the requests' URLs cannot carry
/// ([`check_s3_endpoint`], [`check_bucket`], [`check_region`]). The message leaves the
/// key out: callers name it (`archive.endpoint`, `--archive-endpoint`, `AWS_ENDPOINT`).
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum S3ValueError {
    /// An empty endpoint.
    #[error("empty; {ENDPOINT_FORM}")]
    EmptyEndpoint,
    /// An endpoint that is no URI.
    #[error("not a URL ({source}); {ENDPOINT_FORM}")]
    NotAUrl {
        /// The URI parser's reason (shared: the error is cloned with its config).
        source: std::sync::Arc<http::uri::InvalidUri>,
    },
    /// An endpoint without a scheme.
    #[error("no scheme; {ENDPOINT_FORM}, e.g. http://{endpoint}")]
    NoScheme {
        /// The endpoint as written.
        endpoint: String,
    },
    /// A scheme other than `http` and `https`.
    #[error("the scheme {scheme:?} is not http or https; {ENDPOINT_FORM}")]
    Scheme {
        /// The scheme written.
        scheme: String,
    },
    /// An endpoint without a host.
    #[error("no host; {ENDPOINT_FORM}")]
    NoHost,
    /// An endpoint holding `user@`.
    #[error(
        "holds user info (`user@`): credentials go in `access_key_id` and \
         `secret_access_key`, or the environment"
    )]
    UserInfo,
    /// An endpoint holding `?` or `#`.
    #[error("holds a query or a fragment; {ENDPOINT_FORM}")]
    QueryOrFragment,
    /// An endpoint that, extended by `/bucket/key`, is no URI.
    #[error("not a URL the requests can extend ({source}); {ENDPOINT_FORM}")]
    NotExtensible {
        /// The URI parser's reason.
        source: std::sync::Arc<http::uri::InvalidUri>,
    },
    /// A bucket name holding a character URLs do not carry as it is.
    #[error(
        "the bucket name {bucket:?} holds {found:?}: a bucket name is made of ASCII letters, \
         digits, `.`, `-` and `_`"
    )]
    Bucket {
        /// The bucket name.
        bucket: String,
        /// The first character refused.
        found: char,
    },
    /// A region that is no host name label.
    #[error("a region is made of ASCII letters, digits, `-` and `_` (eu-west-1)")]
    Region,
}

/// Checks an S3 bucket name: the requests' URLs carry it as it is (in the path, or
/// in the host name with virtual-hosted-style requests), so it is limited to what
/// S3 bucket names are made of: ASCII letters, digits, `.`, `-` and `_`.
pub fn check_bucket(bucket: &str) -> Result<(), S3ValueError> {
    let plain = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_');
    if let Some(found) = bucket.chars().find(|c| !plain(*c)) {
        return Err(S3ValueError::Bucket {
            bucket: bucket.to_owned(),
            found,
        });
    }
    Ok(())
}

/// Checks an S3 region: without an endpoint, the requests go to
/// `https://s3.<region>.amazonaws.com`, so it is a host name's label: ASCII letters,
/// digits, `-` and `_` (`eu-west-1`).
pub fn check_region(region: &str) -> Result<(), S3ValueError> {
    let plain = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_');
    if region.is_empty() || !region.chars().all(plain) {
        return Err(S3ValueError::Region);
    }
    Ok(())
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
/// Public for the other configs that take a store's `retention` (a Kafka source's, for
/// its partition stores): one reading and one message for every `retention` key, with
/// `#[serde(default, with = "auditrail_store::retention_age")]`.
pub mod retention_age {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    /// Writes the duration as `humantime` does.
    pub fn serialize<S: Serializer>(v: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(d) => s.serialize_str(&humantime::format_duration(*d).to_string()),
            None => s.serialize_none(),
        }
    }

    /// What `retention` takes, said in each refusal of a value (docs/configuration.md
    /// lists the same).
    pub(crate) const ACCEPTED: &str = "write a duration as the humantime crate reads it: \
        one or more spans, each a whole or decimal number and a unit, added together \
        (\"400d\", \"36h\", \"2w\", \"1d 12h\", \"1.5h\"); units: s, m (minutes), h, d, \
        w, M (months of 30.44 days), y (years of 365.25 days), or their long forms \
        (seconds, minutes, hours, days, weeks, months, years)";

    /// Reads a duration as text by the `humantime` crate's grammar (its documented
    /// standard, kept whole rather than cut to a subset, which would refuse configs
    /// that work today: `1.5h`, `1d 12h`); the message names `retention`, shows the
    /// value and says what is taken.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        let text = String::deserialize(d)?;
        humantime::parse_duration(&text).map(Some).map_err(|e| {
            serde::de::Error::custom(format!("`retention` = {text:?}: {e}; {ACCEPTED}"))
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
    pub fn check(&self) -> Result<(), StoreConfigError> {
        // Read from a file, an empty `path` is refused by `ConfigPath`; this is for a
        // config made in code.
        if self.path.as_os_str().is_empty() {
            return Err(StoreConfigError::EmptyPath);
        }
        if self.segment_max_bytes < 4096 {
            return Err(StoreConfigError::SegmentMaxBytes);
        }
        if self.max_open_files == Some(0) {
            return Err(StoreConfigError::MaxOpenFiles);
        }
        if self
            .retention
            .is_some_and(|r| r < std::time::Duration::from_secs(3600))
        {
            // Shorter than the shortest partition (an hour): every partition but the
            // current one would go at once, which is a typo far more often than a wish.
            return Err(StoreConfigError::RetentionTooShort);
        }
        if self.retention_max_bytes == Some(0) {
            return Err(StoreConfigError::RetentionMaxBytes);
        }
        if (self.retention.is_some() || self.retention_max_bytes.is_some()) && !self.chain {
            return Err(StoreConfigError::RetentionNeedsChain);
        }
        if let Some(a) = &self.archive {
            a.location().map_err(StoreConfigError::Archive)?;
            if !self.chain {
                return Err(StoreConfigError::ArchiveNeedsChain);
            }
        }
        if let Some(p) = self.flush.policy() {
            if p.every_bytes == 0 {
                return Err(StoreConfigError::FlushEveryBytes);
            }
            if p.every_seconds == 0 {
                return Err(StoreConfigError::FlushEverySeconds);
            }
        }
        Ok(())
    }
}

/// Why a [`StoreConfig`] is refused by [`StoreConfig::check`]; the message names the
/// key.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreConfigError {
    /// `path` is empty (a config made in code).
    #[error("`path` {}", EMPTY_REQUIRED_PATH)]
    EmptyPath,
    /// `segment_max_bytes` under 4096.
    #[error("`segment_max_bytes` must be at least 4096")]
    SegmentMaxBytes,
    /// `max_open_files` is 0.
    #[error("`max_open_files` must be at least 1")]
    MaxOpenFiles,
    /// `retention` under an hour.
    #[error("`retention` must be at least 1h (`m` is minutes: write months as `M` or `months`)")]
    RetentionTooShort,
    /// `retention_max_bytes` is 0.
    #[error("`retention_max_bytes` must be at least 1")]
    RetentionMaxBytes,
    /// A retention without the chain.
    #[error(
        "`retention` needs `chain = true`: deletions are recorded in the signed checkpoint log"
    )]
    RetentionNeedsChain,
    /// The `archive` settings are refused (which key, and why).
    #[error("{0}")]
    Archive(#[source] ArchiveConfigError),
    /// An archive without the chain.
    #[error(
        "`archive` needs `chain = true`: what is archived is named in the signed checkpoint log"
    )]
    ArchiveNeedsChain,
    /// `flush.every_bytes` is 0.
    #[error("`flush.every_bytes` must be at least 1")]
    FlushEveryBytes,
    /// `flush.every_seconds` is 0.
    #[error("`flush.every_seconds` must be at least 1 (or use flush = \"durable\")")]
    FlushEverySeconds,
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
        assert!(c
            .check()
            .unwrap_err()
            .to_string()
            .contains("segment_max_bytes"));
    }

    /// `check` returned a `String`: a refused archive setting lost its typed cause
    /// (which key, what value). Now it is the source; the message is unchanged.
    #[test]
    fn a_refused_archive_keeps_its_typed_cause_as_the_source() {
        let c: StoreConfig =
            serde_json::from_value(json!({"path": "s", "archive": "ftp://x/y"})).unwrap();
        let err = c.check().unwrap_err();
        let cause = c.archive.as_ref().unwrap().location().unwrap_err();
        assert_eq!(err.to_string(), cause.to_string());
        let source = std::error::Error::source(&err)
            .and_then(|s| s.downcast_ref::<ArchiveConfigError>())
            .unwrap_or_else(|| panic!("{err:?}"));
        assert_eq!(source.key, ArchiveKey::Url);
        assert!(matches!(err, StoreConfigError::Archive(_)));
        let c = StoreConfig {
            segment_max_bytes: 1,
            ..StoreConfig::new("s")
        };
        assert_eq!(
            c.check().unwrap_err().to_string(),
            "`segment_max_bytes` must be at least 4096"
        );
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
        assert!(c
            .check()
            .unwrap_err()
            .to_string()
            .contains("s3://bucket/prefix"));
        let c: StoreConfig =
            serde_json::from_value(json!({"path": "s", "archive": "file://relative"})).unwrap();
        assert!(c.check().unwrap_err().to_string().contains("absolute"));
        let secret = ArchiveConfig {
            secret_access_key: Some("hunter2".into()),
            ..ArchiveConfig::url("s3://b")
        };
        assert!(!format!("{secret:?}").contains("hunter2"));
    }

    /// What goes into the S3 requests' URLs is checked with the config: the client
    /// panicked on a URI it could not parse.
    #[test]
    fn archive_values_that_go_into_request_urls_are_checked_naming_the_key() {
        let s3 = |url: &str, endpoint: Option<&str>, region: Option<&str>| ArchiveConfig {
            endpoint: endpoint.map(String::from),
            region: region.map(String::from),
            ..ArchiveConfig::url(url)
        };
        for endpoint in [
            "http://127.0.0.1:9000",
            "https://s3.example.net",
            "https://s3.example.net/gateway/",
            "http://[::1]:9000",
        ] {
            s3("s3://b/p", Some(endpoint), Some("eu-west-1"))
                .location()
                .unwrap();
        }
        for (endpoint, says) in [
            ("127.0.0.1:9000", "no scheme"),
            ("s3.example.net", "no scheme"),
            (" ", "empty"),
            ("minio:9000", "no scheme"),
            ("s3://minio:9000", "the scheme \"s3\" is not http or https"),
            ("http://", "not a URL"),
            ("http://k:s@127.0.0.1:9000", "holds user info"),
            ("http://127.0.0.1:9000/?x=1", "holds a query"),
            ("http://127.0.0.1:9000/a b", "not a URL"),
        ] {
            let e = s3("s3://b/p", Some(endpoint), None).location().unwrap_err();
            assert_eq!(e.key, ArchiveKey::Endpoint, "{e}");
            assert!(
                e.to_string()
                    .starts_with(&format!("`archive.endpoint` = {endpoint:?}: {says}")),
                "{e}"
            );
            assert!(
                e.as_flag()
                    .starts_with(&format!("--archive-endpoint {endpoint:?}: {says}")),
                "{e}"
            );
        }
        let e = s3("s3://b/p", None, Some("eu west"))
            .location()
            .unwrap_err();
        assert!(
            e.to_string()
                .starts_with("`archive.region` = \"eu west\": "),
            "{e}"
        );
        let e = s3("s3://my bucket/p", None, None).location().unwrap_err();
        assert!(
            e.to_string().starts_with(
                "`archive` = \"s3://my bucket/p\": the bucket name \"my bucket\" holds ' '"
            ),
            "{e}"
        );
    }

    #[test]
    fn an_archive_url_has_one_spelling() {
        for (url, spelled) in [
            ("s3://audit/eu-1//store/", "s3://audit/eu-1/store"),
            ("s3://audit//eu-1/store", "s3://audit/eu-1/store"),
            ("s3://audit/", "s3://audit"),
            ("s3://audit", "s3://audit"),
            ("file:///srv//archive/./a/", "file:///srv/archive/a"),
            ("ftp://x", "ftp://x"),
        ] {
            assert_eq!(archive_url_spelled(url), spelled, "{url}");
        }
    }

    /// `?` and `#` were taken as part of the bucket, prefix or path, where every URL
    /// reader takes a query or a fragment: the archive was written elsewhere than a
    /// reader of the same URL looks.
    #[test]
    fn an_archive_url_with_a_query_or_fragment_is_refused_naming_the_key() {
        for (url, part) in [
            ("s3://audit/eu-1?region=eu-west-1", "query"),
            ("s3://audit?x", "query"),
            ("s3://audit/eu-1#old", "fragment"),
            ("file:///srv/archive?v=2", "query"),
            ("file:///srv/arch#ive", "fragment"),
        ] {
            let err = ArchiveConfig::url(url).location().unwrap_err();
            assert_eq!(err.key, ArchiveKey::Url, "{url}");
            let said = err.to_string();
            assert!(
                said.starts_with(&format!("`archive` = {url:?}: "))
                    && said.contains(&format!("starts a URL's {part}"))
                    && said.contains("s3://bucket/prefix")
                    && said.contains("keys of the archive table"),
                "{url}: {said}"
            );
        }
        assert!(ArchiveConfig::url("s3://audit/eu-1").location().is_ok());
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
        assert!(c.check().unwrap_err().to_string().contains("at least 1h"));
        let c: StoreConfig =
            serde_json::from_value(json!({"path": "s", "retention": "2d", "chain": false}))
                .unwrap();
        assert!(c.check().unwrap_err().to_string().contains("chain"));
    }
}
