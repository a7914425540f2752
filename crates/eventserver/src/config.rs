//! The server config file (`auditrail serve --config server.toml`), the environment
//! variables that override its keys (`AUDITRAIL_LISTEN`, `AUDITRAIL_TLS__CERT`:
//! [`env`](mod@env)), and the reference product's spellings of its keys (aliases, or errors that
//! name ours: `auditrail_core::config::reference`).
//!
//! Precedence: command-line flags (the binary's) > environment > file > defaults. The
//! environment is applied to the parsed file before the typed parse, so every value goes
//! through the same checks, and an error about an overridden key names the variable.
//!
//! ```toml
//! listen = "127.0.0.1:9980"          # default
//! data_dir = "auditrail-data"        # default; the store and dead letters live here
//! allow_unauthenticated = false      # required to run without keys on a non-loopback address
//! max_body_bytes = 16777216          # compressed and decompressed request size limit
//! ack_timeout_ms = 30000             # 503 + Retry-After when destinations are slower
//! max_concurrent_batches = 64        # 429 + Retry-After beyond this
//! max_body_memory_bytes = 536870912  # memory for bodies in flight, 13 bytes per body byte; 503 beyond
//! max_answer_memory_bytes = 268435456  # /v1/query, /v1/recent, /v1/stats, /v1/checkpoints, /metrics answers and /v1/stream backlogs held until sent, and open streams' look-alike windows, all together; 503 beyond
//! max_query_spill_bytes = 4294967296  # disk for one /v1/query's spill files (sorts, groups, joins past its memory); 507 beyond; 0 = no spilling
//! query_niceness = 19                # CPU priority of the /v1/query worker processes: 19 (lowest, ingest first) to 0 (the server's)
//! min_free_bytes = 0                 # 503 + Retry-After when the data dir has less free space
//! max_timestamp_ahead_s = 86400     # 400 for an event whose timestamp is further ahead of the server clock (Kafka source: dead-lettered); 0 = no bound
//! require_auth_for_stats = false     # /v1/stats, /v1/recent, /metrics need a stats key
//! allow_unauthenticated_recent = false  # with [[keys]], /v1/recent, /v1/stream, /v1/query need a stats key unless true
//! allowed_hosts = []                 # host names answered besides addresses and localhost where no key is asked (DNS rebinding)
//! log_level = "info"                 # tracing filter of `auditrail serve` (reloaded on SIGHUP)
//! header_read_timeout_ms = 10000     # first request head (and each later one) must arrive within
//! idle_timeout_ms = 60000            # keep-alive connections without a request are closed after
//! max_connections = 512              # default: half the open-file limit, at most 10000
//! max_connections_per_client = 64    # optional: connections one client address holds at once; beyond, closed at once
//! listen_backlog = 1024              # connections queued by the kernel beyond max_connections
//! max_streams = 128                  # /v1/stream followers at once (default: a quarter of the connection limit); 503 beyond
//! max_tracked_nodes = 100000         # per-node statistics kept; the least recently stored node is forgotten beyond
//! max_tracked_topics = 10000         # per-topic counters kept; the least recently seen topic is forgotten beyond
//! signing_key = "/etc/auditrail/signing.key"  # optional; default <data_dir>/signing.key (generated)
//! refuse_start_on_damaged_store = false  # default: a store whose checks at start fail is held (503 store_held), the others serve
//!
//! [checkpoints]                      # optional: when each store's signed checkpoint is written
//! every_records = 10000              # default; 0 = never by count
//! every_seconds = 60                 # default; 0 = never by time
//! seal_every_batch = true            # default: a 200 only once a signed line covers the batch
//!
//! [retention]                        # optional: what every store's retention shares
//! catch_up_rate = 2.0                # default: a store's timeline behind the wall clock (a downtime) catches up at twice the monotonic clock; 1 = never
//!
//! [tls]                              # optional: HTTPS with rustls
//! cert = "server.crt"                # PEM chain
//! key = "server.key"                 # PEM private key
//! client_ca = "clients-ca.pem"       # optional: mutual TLS, the CA of client certificates
//! client_auth = "required"           # default with client_ca; or "optional"
//!
//! [[keys]]                           # event keys; none = authentication off
//! id = "svc-a"
//! secret_sha256 = "<hex>"            # or `secret = "..."`
//! client_cert_subject = "svc-a.example.org"  # optional: a client certificate's SAN
//! topics = ["apinode-query"]         # optional: what the key may write
//! routing_keys = ["svc-a"]           # optional
//!
//! [[stats_keys]]
//! id = "ops"
//! secret = "..."
//!
//! [[witnesses]]                      # optional: copies of every published checkpoint
//! type = "eventserver"               # any registered target type but `store`
//! url = "https://witness.example.org:9980"
//!
//! [[destinations]]                   # any registered target type; `store` is the server's own
//! type = "store"
//! path = "store"                     # relative to data_dir
//!
//! [[sources]]                        # optional: read a Kafka topic as a consumer group
//! type = "kafka"                     # (needs the `kafka` feature; docs/scale-out.md)
//! brokers = "127.0.0.1:9092"
//! topics = ["auditrail.events"]
//! group_id = "auditrail-store"
//! store_root = "partitions"          # one store per partition: <store_root>/<topic>/<partition>
//! ```

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use auditrail_core::config::reference::{self, ReferenceSpellingError};
use auditrail_core::config::relative::{config_folder, left_in_working_directory, resolve};
use auditrail_core::config::{parse_target_in, ConfigPath, TargetSpec};
use auditrail_core::limits::{self, DurationBound, Unit};
use auditrail_core::object_only::{self, ObjectOnly};
/// When the config file is read ([`ServerConfig::load_with_data_dir`]).
pub use auditrail_core::regular_file::Reading;
use auditrail_core::{NodeId, Registry, RoutingKey, Section, Selection, Topic};
use serde::Deserialize;
use serde_json::{Map, Value};
use thiserror::Error;

use auditrail_integrity::CheckpointPolicy;
use auditrail_store::CatchUpRate;

pub use crate::source::{
    KafkaSourceConfig, SigningKeyConfig, SourceConfig, SourceConfigError, SourceProblem,
    TopicNameError,
};

mod check_error;
pub mod env;
mod queries;
mod value_error;

pub use crate::auth::KeyError;
pub(crate) use check_error::known_ids;
pub use check_error::{ConfigCheckError, LogLevelError, LogLevelWhy};
pub use env::{EnvError, EnvOverride, EnvValueError};
pub use queries::{
    QueryConfig, QueryWorker, DEFAULT_MAX_QUERY_SPILL_BYTES, DEFAULT_QUERIES_RUNNING,
    DEFAULT_QUERIES_WAITING, DEFAULT_QUERY_MEMORY_LIMIT_BYTES, DEFAULT_QUERY_NICENESS,
    DEFAULT_QUERY_TIME_LIMIT,
};
pub use value_error::ValueError;

/// Default listen address.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:9980";
/// Default data folder.
pub const DEFAULT_DATA_DIR: &str = "auditrail-data";
/// Default request size limit (16 MiB), compressed and decompressed.
pub const DEFAULT_MAX_BODY_BYTES: usize = 16 * 1024 * 1024;
/// Default `max_body_memory_bytes`: 512 MiB, room for two of the largest default
/// batches parsed at once in the worst case, and for hundreds of typical ones.
pub const DEFAULT_MAX_BODY_MEMORY_BYTES: usize = 512 * 1024 * 1024;
/// Default `max_answer_memory_bytes`: 256 MiB, two of the largest answers a query
/// worker gives (128 MiB), one for each query running at once by default.
pub const DEFAULT_MAX_ANSWER_MEMORY_BYTES: usize = 256 * 1024 * 1024;

/// A config error that names the file and the key.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ServerConfigError {
    /// The file cannot be read.
    #[error(
        "{file}: cannot read: {}",
        auditrail_core::without_path(std::path::Path::new(file), source)
    )]
    Read {
        /// The file.
        file: String,
        /// Why.
        source: std::io::Error,
    },
    /// The text is not TOML (or JSON), or is JSON giving a key twice.
    #[error("{file}: {source}")]
    Syntax {
        /// The file (or the name given to [`ServerConfig::parse`]).
        file: String,
        /// What is wrong, and where.
        #[source]
        source: auditrail_core::config::ConfigTextError,
    },
    /// The document is not a table (JSON: not an object).
    #[error("{file}: must be a table/object")]
    NotATable {
        /// The file.
        file: String,
    },
    /// A key is unknown or missing, or has a value of the wrong type or form.
    #[error("{file}: {source}{with}")]
    Value {
        /// The file (or `<defaults>`).
        file: String,
        /// The key path and serde's error.
        #[source]
        source: Box<ValueError>,
        /// As for [`ServerConfigError::Check`].
        with: String,
    },
    /// A value the config's checks refuse ([`ServerConfig::check`], and the parse's own:
    /// `listen`, `data_dir`, the destinations and witnesses).
    #[error("{file}: {source}{with}")]
    Check {
        /// The file (or `<defaults>`).
        file: String,
        /// What is wrong, naming the key.
        #[source]
        source: Box<ConfigCheckError>,
        /// ` (with the environment's AUDITRAIL_…)` when variables were applied and
        /// none of them set the key refused, else empty.
        with: String,
    },
    /// A `[[sources]]` entry is invalid.
    #[error("{file}: {source}{with}")]
    Source {
        /// The file.
        file: String,
        /// Which entry, which key, what is wrong.
        #[source]
        source: Box<crate::source::SourceConfigError>,
        /// As for [`ServerConfigError::Check`].
        with: String,
    },
    /// A `[[destinations]]` entry is invalid.
    #[error(transparent)]
    Destination(#[from] auditrail_core::ConfigError),
    /// A key spelt as in the reference product that auditrail does not take as it is.
    /// (The message is shown, not chained as a source: a chain would print it twice.)
    #[error("{file}: {place}{error}")]
    ReferenceSpelling {
        /// The file.
        file: String,
        /// `keys[0]: ` for a key of a list entry, empty at the top level.
        place: String,
        /// Which spelling and what auditrail calls it.
        error: ReferenceSpellingError,
    },
    /// An `AUDITRAIL_` environment variable cannot be used, or sets a value the config's
    /// checks refuse. (Shown, not chained, as above.)
    #[error("environment {0}")]
    Environment(EnvError),
}

/// Default time for a request head to arrive (from the connection's start, or from the
/// end of the previous request).
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Default `max_timestamp_ahead_s`: a day (a node clock off by a time zone still
/// sends; a year-9999 timestamp does not).
pub const DEFAULT_MAX_TIMESTAMP_AHEAD: Duration = Duration::from_secs(86_400);
/// Default time a connection may stay open without a request in progress.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// `ack_timeout_ms`: how long a sender waits for its batch's answer.
const ACK_TIMEOUT_MS: DurationBound = DurationBound {
    key: "ack_timeout_ms",
    unit: Unit::Millis,
    max: 3_600_000,
    why: "the sender waits that long for its answer while its batch holds a batch slot \
          and its body's memory, and senders give up much sooner (the eventserver \
          target's request_timeout_ms is 10 s by default)",
};
/// `header_read_timeout_ms`: how long a request head may take to arrive.
const HEADER_READ_TIMEOUT_MS: DurationBound = DurationBound {
    key: "header_read_timeout_ms",
    unit: Unit::Millis,
    max: 3_600_000,
    why: "it keeps clients that connect and send nothing (or a byte at a time) from \
          holding the connection slots, and a longer wait no longer does",
};
/// `idle_timeout_ms`: how long a connection may stay open without a request.
const IDLE_TIMEOUT_MS: DurationBound = DurationBound {
    key: "idle_timeout_ms",
    unit: Unit::Millis,
    max: 86_400_000,
    why: "an idle connection holds one of max_connections, and one idle for a day is \
          abandoned",
};
/// `[checkpoints] every_seconds`: how often a checkpoint is published by time.
const CHECKPOINTS_EVERY_SECONDS: DurationBound = DurationBound {
    key: "checkpoints.every_seconds",
    unit: Unit::Seconds,
    max: 86_400,
    why: "the published checkpoint (the high-water mark, the witnesses' copy) would lag \
          the store by more than a day (0 turns publishing by time off)",
};

/// Default `listen(2)` backlog.
pub const DEFAULT_LISTEN_BACKLOG: u32 = 1024;
/// Upper bound of the default connection limit.
pub const DEFAULT_MAX_CONNECTIONS_CAP: usize = 10_000;

/// `[retention]`: what every store's retention shares (a store's own `retention` and
/// `retention_max_bytes` are keys of its entry). Unknown keys are errors.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct RetentionSettings {
    /// How fast a store's timeline behind the wall clock (after a downtime, or with a
    /// clock stepped ahead) catches up, in multiples of the monotonic clock: 1 to 100,
    /// default 2 (see `auditrail_store::timeline` and docs/store.md, "Retention").
    pub catch_up_rate: CatchUpRate,
}

/// A table only (`auditrail_core::object_only`).
impl auditrail_core::object_only::ObjectOnly for RetentionSettings {
    const MUST_BE: &'static str = "retention must be a table ([retention])";
}

/// TLS files.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    /// PEM certificate chain.
    #[serde(deserialize_with = "ConfigPath::required")]
    pub cert: ConfigPath,
    /// PEM private key.
    #[serde(deserialize_with = "ConfigPath::required")]
    pub key: ConfigPath,
    /// PEM certificate(s) of the CA(s) that sign client certificates: mutual TLS. A
    /// verified client certificate authenticates as the key whose
    /// `client_cert_subject` is one of its subjectAltNames.
    #[serde(default)]
    pub client_ca: Option<ConfigPath>,
    /// With `client_ca`: whether every connection must present a client certificate
    /// (default [`ClientAuth::Required`]).
    #[serde(default)]
    pub client_auth: Option<ClientAuth>,
}

/// Whether a connection must present a client certificate (`[tls] client_auth`).
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum ClientAuth {
    /// Every connection presents a certificate signed by `client_ca`; the TLS handshake
    /// of any other connection fails.
    #[default]
    Required,
    /// A certificate is asked for, not needed: clients without one use bearer keys.
    Optional,
}

/// One key as written in the file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyConfig {
    /// Key id: recorded with every stored event, shown in logs. Never secret.
    pub id: String,
    /// The secret itself.
    #[serde(default)]
    pub secret: Option<String>,
    /// Hex SHA-256 of the secret (preferred: the file then holds no secret).
    #[serde(default)]
    pub secret_sha256: Option<String>,
    /// Topics the key may write (default: all).
    #[serde(default)]
    pub topics: Selection<Topic>,
    /// Routing keys the key may write (default: all). With a list, events without a
    /// routing key are refused too.
    #[serde(default)]
    pub routing_keys: Selection<RoutingKey>,
    /// Node ids the key may write events of (default: all). Binds nodes to keys: with
    /// a list, a key cannot write under another node's id (fill its gaps, or announce
    /// its missing numbers as `abandonedSeqs`).
    #[serde(default)]
    pub nodes: Selection<NodeId>,
    /// Mutual TLS: a client certificate signed by `[tls] client_ca` whose
    /// subjectAltName holds this DNS name or URI authenticates as this key, instead
    /// of (or besides) a secret.
    #[serde(default)]
    pub client_cert_subject: Option<String>,
}

// Tables only: a derived struct also takes an array of its values in a row
// (`tls = ["c.pem", "k.pem"]`, `keys = [["node", "secret"]]`), which no documented
// form is (`auditrail_core::object_only`).
impl ObjectOnly for TlsConfig {
    const MUST_BE: &'static str = "tls must be a table ([tls] with cert = ..., key = ...)";
}

impl ObjectOnly for KeyConfig {
    const MUST_BE: &'static str =
        "a key entry must be a table ([[keys]] with id = ..., secret = ...)";
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawServerConfig {
    #[serde(default)]
    node: Option<NodeId>,
    #[serde(default)]
    listen: Option<String>,
    #[serde(default)]
    data_dir: Option<ConfigPath>,
    #[serde(default)]
    dead_letter_dir: Option<ConfigPath>,
    #[serde(default)]
    allow_unauthenticated: bool,
    #[serde(default)]
    max_body_bytes: Option<usize>,
    #[serde(default)]
    ack_timeout_ms: Option<u64>,
    #[serde(default)]
    max_concurrent_batches: Option<usize>,
    #[serde(default)]
    max_body_memory_bytes: Option<usize>,
    #[serde(default)]
    max_answer_memory_bytes: Option<usize>,
    #[serde(default)]
    max_query_spill_bytes: Option<u64>,
    #[serde(default)]
    query_niceness: Option<u8>,
    #[serde(default)]
    min_free_bytes: Option<u64>,
    #[serde(default)]
    max_timestamp_ahead_s: Option<u64>,
    #[serde(default)]
    require_auth_for_stats: bool,
    #[serde(default)]
    allow_unauthenticated_recent: bool,
    #[serde(default)]
    allowed_hosts: Vec<String>,
    #[serde(default)]
    log_level: Option<String>,
    #[serde(default)]
    header_read_timeout_ms: Option<u64>,
    #[serde(default)]
    idle_timeout_ms: Option<u64>,
    #[serde(default)]
    max_connections: Option<usize>,
    #[serde(default)]
    max_connections_per_client: Option<usize>,
    #[serde(default)]
    listen_backlog: Option<u32>,
    #[serde(default)]
    max_streams: Option<usize>,
    #[serde(default)]
    max_tracked_nodes: Option<usize>,
    #[serde(default)]
    max_tracked_topics: Option<usize>,
    #[serde(default)]
    refuse_start_on_damaged_store: bool,
    #[serde(default)]
    shutdown_timeout_s: Option<u64>,
    #[serde(default, deserialize_with = "object_only::option")]
    tls: Option<TlsConfig>,
    #[serde(default, deserialize_with = "object_only::vec")]
    keys: Vec<KeyConfig>,
    #[serde(default, deserialize_with = "object_only::vec")]
    stats_keys: Vec<KeyConfig>,
    #[serde(default)]
    destinations: Vec<Value>,
    #[serde(default)]
    witnesses: Vec<Value>,
    #[serde(default)]
    sources: Vec<Value>,
    #[serde(default)]
    signing_key: Option<ConfigPath>,
    #[serde(default, deserialize_with = "object_only::option")]
    checkpoints: Option<CheckpointPolicy>,
    #[serde(default, deserialize_with = "object_only::option")]
    retention: Option<RetentionSettings>,
}

/// Where the destinations come from.
#[derive(Debug, Clone)]
pub enum Destinations {
    /// No config file: one `store` destination under `<data_dir>/store`, every topic.
    DefaultStore,
    /// The `[[destinations]]` of the config file (never empty).
    Configured(Vec<TargetSpec>),
}

/// The whole server configuration.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Where the config came from (for messages).
    pub source: String,
    /// Node id of the server's own dispatcher (default `eventserver`).
    pub node: NodeId,
    /// Listen address (port 0 picks a free port).
    pub listen: SocketAddr,
    /// Data folder.
    pub data_dir: PathBuf,
    /// Dead-letter folder (default `<data_dir>/deadletter`).
    pub dead_letter_dir: Option<PathBuf>,
    /// Run without keys on a non-loopback address.
    pub allow_unauthenticated: bool,
    /// Largest accepted request body, before and after decompression.
    pub max_body_bytes: usize,
    /// How long a batch may wait for its destinations before the answer is 503.
    pub ack_timeout: Duration,
    /// Batches processed at once; beyond this, 429.
    pub max_concurrent_batches: usize,
    /// Memory for request bodies in flight, counted at 13 bytes per decoded body byte
    /// (the body and its parsed events) plus the compressed bytes; beyond it, 503.
    /// At least 14 × `max_body_bytes`, so that the largest batch always fits.
    pub max_body_memory_bytes: usize,
    /// Memory for the answers of `/v1/query` held until they are sent, all together
    /// (a client that reads slowly keeps its answer held); an answer beyond it is 503.
    pub max_answer_memory_bytes: usize,
    /// Free-space floor of the data folder; below it, 503.
    pub min_free_bytes: u64,
    /// How far ahead of the server's clock an event's `timestamp` may be (`None`: no
    /// bound); beyond it, 400. Partitions are folders of the event's time: a partition
    /// far in the future never closes, so retention never deletes it, and it would
    /// make size retention evict every real partition instead.
    pub max_timestamp_ahead: Option<Duration>,
    /// Whether the read endpoints need a stats key.
    pub require_auth_for_stats: bool,
    /// With `[[keys]]`, `/v1/recent`, `/v1/stream` and `/v1/query` (stored events: user
    /// names, addresses) still answer without a key. Without keys it is open anyway (loopback, or
    /// `allow_unauthenticated`).
    pub allow_unauthenticated_recent: bool,
    /// Host names (lower case) answered besides IP addresses and `localhost` where a
    /// request without a key is answered with events, and everywhere once set (DNS
    /// rebinding: docs/eventserver.md).
    pub allowed_hosts: Vec<String>,
    /// The log filter of `auditrail serve` (`tracing_subscriber::EnvFilter` syntax, e.g.
    /// `info` or `warn,auditrail=debug`); `None`: `RUST_LOG` or the built-in default. The
    /// binary applies it; the server only carries it.
    pub log_level: Option<String>,
    /// A request head must arrive within this time: from the connection's start (also
    /// after a TLS handshake) for the first request, from the end of the previous one
    /// for the next.
    pub header_read_timeout: Duration,
    /// A connection with no request in progress for this long is closed.
    pub idle_timeout: Duration,
    /// Connections open at once; beyond it new connections wait in the listen backlog.
    /// `None`: what the stores' open files leave of the process's open-file limit
    /// (`RLIMIT_NOFILE`, docs/configuration.md "File descriptors"), at most
    /// [`DEFAULT_MAX_CONNECTIONS_CAP`].
    pub max_connections: Option<usize>,
    /// Connections one client address may hold open at once; beyond it a new one is
    /// closed at once after `accept` (`conn/per_client.rs`). `None`: no bound of its
    /// own (clients behind a proxy share its address).
    pub max_connections_per_client: Option<usize>,
    /// Connections the kernel queues for the server beyond those it holds (the
    /// `listen(2)` backlog, capped by the kernel's `net.core.somaxconn`).
    pub listen_backlog: u32,
    /// `/v1/stream` followers at once; beyond it a new one is answered `503`. A stream
    /// holds its connection for as long as it runs (it is never idle), so without this
    /// bound followers could hold every connection and leave none for the nodes'
    /// events. `None`: a quarter of the connection limit.
    pub max_streams: Option<usize>,
    /// Nodes whose statistics (sequence ranges, counts) are kept; beyond, the node
    /// stored least recently is forgotten (node ids are whatever clients send).
    pub max_tracked_nodes: usize,
    /// Topics whose counters (`/v1/stats` `topics`) are kept; beyond, the topic seen
    /// least recently is forgotten (topics are whatever clients send).
    pub max_tracked_topics: usize,
    /// A store destination whose checks at start fail (its checkpoint log, its
    /// high-water mark, its chain: docs/tamper-evidence.md) refuses the whole start.
    /// `false` (the default): that store alone is held (`503 store_held` for batches
    /// routed to it, left out of queries, named by `/readyz` and `/metrics`), and the
    /// other destinations serve.
    pub refuse_start_on_damaged_store: bool,
    /// Deadline of the graceful shutdown.
    pub shutdown_timeout: Duration,
    /// HTTPS files.
    pub tls: Option<TlsConfig>,
    /// Event keys (empty: authentication off).
    pub keys: Vec<KeyConfig>,
    /// Stats keys.
    pub stats_keys: Vec<KeyConfig>,
    /// The destinations.
    pub destinations: Destinations,
    /// `[[sources]]`: where the server reads events from besides HTTP (a Kafka
    /// consumer group, see docs/scale-out.md).
    pub sources: Vec<SourceConfig>,
    /// `[[witnesses]]`: targets every published checkpoint line of every chained store
    /// is copied to (another event server, a Kafka topic...), out of this server's
    /// reach, so that `auditrail verify --witness` can catch a rollback or a fork.
    pub witnesses: Vec<TargetSpec>,
    /// Secret signing key file (`ed25519-secret:<hex>`); `None`: `<data_dir>/signing.key`,
    /// generated (mode 0600) on first start.
    pub signing_key: Option<PathBuf>,
    /// When each `store` destination writes a signed checkpoint (`[checkpoints]`); its
    /// `catch_up` is `retention.catch_up_rate`.
    pub checkpoints: CheckpointPolicy,
    /// `[retention]`: what every store's retention shares.
    pub retention: RetentionSettings,
    /// The keys set by `AUDITRAIL_` environment variables, for the log of the start.
    pub env_overrides: Vec<EnvOverride>,
    /// The settings as read (the file's top-level keys and tables, with the
    /// environment's overrides applied), before defaults: a reload compares them with
    /// those of the start to name the settings changed that apply only at a start.
    pub settings: Map<String, Value>,
    /// How `/v1/query` runs queries (not from the file: set by the embedding program;
    /// `auditrail serve` runs each in a worker process of its own).
    pub queries: QueryConfig,
}

impl ServerConfig {
    /// The embedded defaults of `auditrail serve` without `--config`.
    pub fn defaults() -> ServerConfig {
        ServerConfig {
            source: "<defaults>".into(),
            node: default_node(),
            listen: SocketAddr::from(([127, 0, 0, 1], 9980)),
            data_dir: PathBuf::from(DEFAULT_DATA_DIR),
            dead_letter_dir: None,
            allow_unauthenticated: false,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            ack_timeout: Duration::from_secs(30),
            max_concurrent_batches: 64,
            max_body_memory_bytes: DEFAULT_MAX_BODY_MEMORY_BYTES,
            max_answer_memory_bytes: DEFAULT_MAX_ANSWER_MEMORY_BYTES,
            min_free_bytes: 0,
            max_timestamp_ahead: Some(DEFAULT_MAX_TIMESTAMP_AHEAD),
            require_auth_for_stats: false,
            allow_unauthenticated_recent: false,
            allowed_hosts: Vec::new(),
            log_level: None,
            header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            max_connections: None,
            max_connections_per_client: None,
            listen_backlog: DEFAULT_LISTEN_BACKLOG,
            max_streams: None,
            max_tracked_nodes: crate::dedup::DEFAULT_MAX_NODES,
            max_tracked_topics: crate::stats::DEFAULT_MAX_TOPICS,
            refuse_start_on_damaged_store: false,
            shutdown_timeout: Duration::from_secs(30),
            tls: None,
            keys: Vec::new(),
            stats_keys: Vec::new(),
            destinations: Destinations::DefaultStore,
            witnesses: Vec::new(),
            sources: Vec::new(),
            signing_key: None,
            checkpoints: CheckpointPolicy::default(),
            retention: RetentionSettings::default(),
            env_overrides: Vec::new(),
            settings: Map::new(),
            queries: QueryConfig::default(),
        }
    }

    /// Where the value of `key` (a key path such as `log_level`) came from, for a
    /// message about it: `environment AUDITRAIL_LOG_LEVEL`, or the file.
    pub fn origin(&self, key: &str) -> String {
        match self.env_overrides.iter().find(|o| o.key == key) {
            Some(o) => format!("environment {}", o.variable),
            None => self.source.clone(),
        }
    }

    /// Reads a TOML config file (a `.json` file or text starting with `{` is JSON). The
    /// environment is not read: see [`ServerConfig::load_with_env`].
    pub fn load(path: &Path, registry: &Registry) -> Result<ServerConfig, ServerConfigError> {
        ServerConfig::load_with_env(Some(path), registry, no_env())
    }

    /// Reads the config file, or without one the embedded defaults, with the overrides
    /// of `env` (`AUDITRAIL_<KEY>`, `AUDITRAIL_<TABLE>__<KEY>`; the CLI passes
    /// `std::env::vars_os()`). Without a file, as for [`ServerConfig::defaults`], the
    /// destination is the default store.
    pub fn load_with_env<I, K, V>(
        path: Option<&Path>,
        registry: &Registry,
        env: I,
    ) -> Result<ServerConfig, ServerConfigError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<std::ffi::OsStr>,
        V: AsRef<std::ffi::OsStr>,
    {
        ServerConfig::load_with_data_dir(path, registry, env, None, Reading::Start)
    }

    /// [`ServerConfig::load_with_env`], with the data folder given on the command line
    /// (`serve --data-dir`): it wins over the file and the environment, stays relative to
    /// the working directory, and the file's own `data_dir` is then not looked at (a
    /// data folder left in the working directory by a version that took the file's
    /// `data_dir` there is not a reason to refuse). `reading`: at a start, a pipe at
    /// `path` (`--config <(...)`) is read, for a bounded time; read again (a SIGHUP
    /// reload), it is refused at once ([`auditrail_core::regular_file::read_given`]).
    pub fn load_with_data_dir<I, K, V>(
        path: Option<&Path>,
        registry: &Registry,
        env: I,
        data_dir: Option<&Path>,
        reading: Reading,
    ) -> Result<ServerConfig, ServerConfigError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<std::ffi::OsStr>,
        V: AsRef<std::ffi::OsStr>,
    {
        let Some(path) = path else {
            let defaults = Value::Object(Map::new());
            let mut config =
                ServerConfig::from_value(defaults, "<defaults>", false, None, registry, env, None)?;
            if let Some(dir) = data_dir {
                config.data_dir = dir.to_path_buf();
            }
            return Ok(config);
        };
        let file = path.display().to_string();
        let text = auditrail_core::config::read_config_file(path, reading).map_err(|source| {
            ServerConfigError::Read {
                file: file.clone(),
                source,
            }
        })?;
        let folder = config_folder(path).map_err(|source| ServerConfigError::Read {
            file: file.clone(),
            source,
        })?;
        let json = path.extension().is_some_and(|e| e == "json");
        let value = auditrail_core::config::parse_config_text(&text, json).map_err(|source| {
            ServerConfigError::Syntax {
                file: file.clone(),
                source,
            }
        })?;
        ServerConfig::from_value(value, &file, true, Some(&folder), registry, env, data_dir)
    }

    /// Parses config text; `file` names it in errors. The environment is not read.
    pub fn parse(
        text: &str,
        file: &str,
        json: bool,
        registry: &Registry,
    ) -> Result<ServerConfig, ServerConfigError> {
        ServerConfig::parse_with_env(text, file, json, registry, no_env())
    }

    /// Parses config text with the overrides of `env` (see
    /// [`ServerConfig::load_with_env`]); `file` names it in errors. There is no file's
    /// folder: relative paths stay relative to the working directory (read from a file,
    /// they are in its folder).
    pub fn parse_with_env<I, K, V>(
        text: &str,
        file: &str,
        json: bool,
        registry: &Registry,
        env: I,
    ) -> Result<ServerConfig, ServerConfigError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<std::ffi::OsStr>,
        V: AsRef<std::ffi::OsStr>,
    {
        let value = auditrail_core::config::parse_config_text(text, json).map_err(|source| {
            ServerConfigError::Syntax {
                file: file.to_owned(),
                source,
            }
        })?;
        ServerConfig::from_value(value, file, true, None, registry, env, None)
    }

    /// The parsed file (or an empty table for the defaults): reference spellings
    /// renamed, then the environment written in, then one typed parse and one check of
    /// everything. `from_file`: a file must name its destinations; the defaults have
    /// the default store. `folder`: the config file's folder, where its relative paths
    /// are (`data_dir`, by default `auditrail-data`; `dead_letter_dir`, `signing_key`,
    /// the `[tls]` files, the destinations' and witnesses' path keys); a key set by the
    /// environment stays relative to the working directory, as on a command line.
    fn from_value<I, K, V>(
        value: Value,
        file: &str,
        from_file: bool,
        folder: Option<&Path>,
        registry: &Registry,
        env: I,
        data_dir_given: Option<&Path>,
    ) -> Result<ServerConfig, ServerConfigError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<std::ffi::OsStr>,
        V: AsRef<std::ffi::OsStr>,
    {
        let Value::Object(mut top) = value else {
            return Err(ServerConfigError::NotATable {
                file: file.to_owned(),
            });
        };
        reference_spellings(&mut top, file)?;
        let overrides = env::apply(env, &mut top).map_err(ServerConfigError::Environment)?;
        let settings = top.clone();
        let refused = |error: ConfigCheckError| blame_check(file, &overrides, error);
        let raw: RawServerConfig = serde_path_to_error::deserialize(Value::Object(top))
            .map_err(|e| blame_value(file, &overrides, ValueError::from_serde(e)))?;
        let d = ServerConfig::defaults();
        let in_folder = |key: &str, path: PathBuf| match folder {
            Some(folder) if !overrides.iter().any(|o| o.key == key) => resolve(folder, &path),
            _ => path,
        };
        // The default too, with a file: its data folder does not follow the working
        // directory either.
        let written = raw.data_dir.map_or(d.data_dir, ConfigPath::into_path_buf);
        let data_dir = match data_dir_given {
            Some(given) => given.to_path_buf(),
            None => in_folder("data_dir", written.clone()),
        };
        if data_dir_given.is_none() && data_dir != written {
            if let Some(old) = left_in_working_directory(
                &written,
                &data_dir,
                Path::new(auditrail_core::folder_lock::LOCK_FILE),
            ) {
                return Err(refused(ConfigCheckError::DataDirLeftBehind {
                    written: written.into(),
                    data_dir: data_dir.into(),
                    old: old.into(),
                }));
            }
        }
        let listen = match raw.listen {
            Some(s) => s
                .parse()
                .map_err(|source| refused(ConfigCheckError::Listen { value: s, source }))?,
            None => d.listen,
        };
        let mut sources = Vec::with_capacity(raw.sources.len());
        for (index, entry) in raw.sources.into_iter().enumerate() {
            let taken: Vec<&str> = sources.iter().map(SourceConfig::name).collect();
            let source = crate::source::parse(index, entry, &taken, folder).map_err(|source| {
                ServerConfigError::Source {
                    file: file.to_owned(),
                    source: Box::new(source),
                    with: applied(&overrides),
                }
            })?;
            sources.push(source);
        }
        // A server that stores what its sources read may have no destinations of its
        // own (it then refuses HTTP events as unrouted).
        if raw.destinations.is_empty() && from_file && sources.is_empty() {
            return Err(refused(ConfigCheckError::NoDestinations));
        }
        let mut destinations = Vec::with_capacity(raw.destinations.len());
        for (index, entry) in raw.destinations.into_iter().enumerate() {
            let spec = parse_target_in(Section::Destinations, index, entry, registry, folder)
                .map_err(|error| auditrail_core::ConfigError::Entry {
                    file: file.to_owned(),
                    error: Box::new(error),
                })?;
            destinations.push(spec);
        }
        let mut witnesses = Vec::with_capacity(raw.witnesses.len());
        for (index, entry) in raw.witnesses.into_iter().enumerate() {
            let spec = parse_target_in(Section::Witnesses, index, entry, registry, folder)
                .map_err(|error| auditrail_core::ConfigError::Entry {
                    file: file.to_owned(),
                    error: Box::new(error),
                })?;
            if spec
                .config
                .downcast_ref::<auditrail_store::StoreConfig>()
                .is_some()
            {
                return Err(refused(ConfigCheckError::StoreWitness { index }));
            }
            witnesses.push(spec);
        }
        let mut names: Vec<&str> = destinations.iter().map(|t| t.name.as_str()).collect();
        names.sort_unstable();
        if let Some(w) = names.windows(2).find(|w| w[0] == w[1]) {
            return Err(refused(ConfigCheckError::DestinationNameTwice {
                name: w[0].to_owned(),
            }));
        }
        let config = ServerConfig {
            source: file.to_owned(),
            node: raw.node.unwrap_or(d.node),
            listen,
            data_dir,
            dead_letter_dir: raw
                .dead_letter_dir
                .map(|p| in_folder("dead_letter_dir", p.into_path_buf())),
            allow_unauthenticated: raw.allow_unauthenticated,
            max_body_bytes: raw.max_body_bytes.unwrap_or(d.max_body_bytes),
            ack_timeout: raw
                .ack_timeout_ms
                .map(Duration::from_millis)
                .unwrap_or(d.ack_timeout),
            max_concurrent_batches: raw
                .max_concurrent_batches
                .unwrap_or(d.max_concurrent_batches),
            // Unset, the budget grows with a raised `max_body_bytes` so that the largest
            // batch always fits; set, `check` says when it does not.
            max_body_memory_bytes: raw.max_body_memory_bytes.unwrap_or_else(|| {
                d.max_body_memory_bytes
                    .max(crate::http::intake::largest_batch_cost(
                        raw.max_body_bytes.unwrap_or(d.max_body_bytes),
                    ))
            }),
            max_answer_memory_bytes: raw
                .max_answer_memory_bytes
                .unwrap_or(d.max_answer_memory_bytes),
            min_free_bytes: raw.min_free_bytes.unwrap_or(0),
            max_timestamp_ahead: match raw.max_timestamp_ahead_s {
                None => Some(DEFAULT_MAX_TIMESTAMP_AHEAD),
                Some(0) => None,
                Some(s) => Some(Duration::from_secs(s)),
            },
            require_auth_for_stats: raw.require_auth_for_stats,
            allow_unauthenticated_recent: raw.allow_unauthenticated_recent,
            allowed_hosts: raw
                .allowed_hosts
                .iter()
                .map(|h| h.to_ascii_lowercase())
                .collect(),
            log_level: raw.log_level,
            header_read_timeout: raw
                .header_read_timeout_ms
                .map(Duration::from_millis)
                .unwrap_or(d.header_read_timeout),
            idle_timeout: raw
                .idle_timeout_ms
                .map(Duration::from_millis)
                .unwrap_or(d.idle_timeout),
            max_connections: raw.max_connections,
            max_connections_per_client: raw.max_connections_per_client,
            listen_backlog: raw.listen_backlog.unwrap_or(d.listen_backlog),
            max_streams: raw.max_streams,
            max_tracked_nodes: raw.max_tracked_nodes.unwrap_or(d.max_tracked_nodes),
            max_tracked_topics: raw.max_tracked_topics.unwrap_or(d.max_tracked_topics),
            refuse_start_on_damaged_store: raw.refuse_start_on_damaged_store,
            shutdown_timeout: raw
                .shutdown_timeout_s
                .map(Duration::from_secs)
                .unwrap_or(d.shutdown_timeout),
            tls: raw.tls.map(|tls| TlsConfig {
                cert: in_folder("tls.cert", tls.cert.into_path_buf()).into(),
                key: in_folder("tls.key", tls.key.into_path_buf()).into(),
                client_ca: tls
                    .client_ca
                    .map(|p| in_folder("tls.client_ca", p.into_path_buf()).into()),
                ..tls
            }),
            keys: raw.keys,
            stats_keys: raw.stats_keys,
            destinations: if destinations.is_empty() && sources.is_empty() {
                Destinations::DefaultStore
            } else {
                Destinations::Configured(destinations)
            },
            signing_key: raw
                .signing_key
                .map(|p| in_folder("signing_key", p.into_path_buf())),
            witnesses,
            sources,
            checkpoints: CheckpointPolicy {
                catch_up: raw.retention.unwrap_or_default().catch_up_rate,
                ..raw.checkpoints.unwrap_or_default()
            },
            retention: raw.retention.unwrap_or_default(),
            env_overrides: Vec::new(),
            settings: Map::new(),
            queries: QueryConfig {
                max_spill_bytes: raw
                    .max_query_spill_bytes
                    .unwrap_or(d.queries.max_spill_bytes),
                niceness: raw.query_niceness.unwrap_or(d.queries.niceness),
                ..d.queries
            },
        };
        config
            .check()
            .map_err(|e| blame_check(file, &overrides, e))?;
        Ok(ServerConfig {
            env_overrides: overrides,
            settings,
            ..config
        })
    }

    /// Checks value ranges and keys; the message names the key.
    pub fn check(&self) -> Result<(), ConfigCheckError> {
        if self.max_body_bytes == 0 {
            return Err(ConfigCheckError::Zero {
                key: "max_body_bytes",
            });
        }
        if self.max_concurrent_batches == 0 {
            return Err(ConfigCheckError::Zero {
                key: "max_concurrent_batches",
            });
        }
        let largest = crate::http::intake::largest_batch_cost(self.max_body_bytes);
        if self.max_body_memory_bytes < largest {
            return Err(ConfigCheckError::BodyMemory {
                memory: self.max_body_memory_bytes,
                body: self.max_body_bytes,
                largest,
            });
        }
        if self.max_answer_memory_bytes == 0 {
            return Err(ConfigCheckError::Zero {
                key: "max_answer_memory_bytes",
            });
        }
        if let Some(bad) = self
            .allowed_hosts
            .iter()
            .find(|h| !crate::http::host_check::is_host_name(h))
        {
            return Err(ConfigCheckError::AllowedHost { host: bad.clone() });
        }
        if self.ack_timeout.is_zero() {
            return Err(ConfigCheckError::Zero {
                key: "ack_timeout_ms",
            });
        }
        if self.header_read_timeout.is_zero() {
            return Err(ConfigCheckError::Zero {
                key: "header_read_timeout_ms",
            });
        }
        if self.idle_timeout.is_zero() {
            return Err(ConfigCheckError::Zero {
                key: "idle_timeout_ms",
            });
        }
        if self.listen_backlog == 0 {
            return Err(ConfigCheckError::Zero {
                key: "listen_backlog",
            });
        }
        if self.max_tracked_nodes == 0 {
            return Err(ConfigCheckError::Zero {
                key: "max_tracked_nodes",
            });
        }
        if self.max_tracked_topics == 0 {
            return Err(ConfigCheckError::Zero {
                key: "max_tracked_topics",
            });
        }
        // Each becomes a deadline or a timer period: bounded by what it is for (an
        // unbounded one was accepted here and made the stop panic).
        for (bound, value) in [
            (ACK_TIMEOUT_MS, self.ack_timeout),
            (HEADER_READ_TIMEOUT_MS, self.header_read_timeout),
            (IDLE_TIMEOUT_MS, self.idle_timeout),
            (limits::SHUTDOWN_TIMEOUT_S, self.shutdown_timeout),
            (
                CHECKPOINTS_EVERY_SECONDS,
                Duration::from_secs(self.checkpoints.every_seconds),
            ),
        ] {
            bound
                .check_duration(value)
                .map_err(|source| ConfigCheckError::TooLong {
                    key: bound.key,
                    source,
                })?;
        }
        if self.max_connections == Some(0) {
            return Err(ConfigCheckError::Zero {
                key: "max_connections",
            });
        }
        if self.max_connections_per_client == Some(0) {
            return Err(ConfigCheckError::Zero {
                key: "max_connections_per_client",
            });
        }
        if self.max_streams == Some(0) {
            return Err(ConfigCheckError::Zero { key: "max_streams" });
        }
        if let Some(level) = &self.log_level {
            check_log_level(level)?;
        }
        self.queries.check()?;
        let client_ca = self.tls.as_ref().and_then(|t| t.client_ca.as_ref());
        if let Some(tls) = &self.tls {
            if tls.client_auth.is_some() && client_ca.is_none() {
                return Err(ConfigCheckError::ClientAuthWithoutCa);
            }
        }
        for (list, keys) in [("keys", &self.keys), ("stats_keys", &self.stats_keys)] {
            let mut ids = std::collections::HashSet::new();
            let mut subjects: Vec<&str> = Vec::new();
            // A presented secret is taken as the first key that holds it, so a second
            // key with the same secret could never be presented: its owner's events
            // would be stored under the first key's id, or refused by its rights.
            let mut secrets = std::collections::HashMap::new();
            for (i, k) in keys.iter().enumerate() {
                crate::auth::check_key(k).map_err(|source| ConfigCheckError::Key {
                    list,
                    index: i,
                    source,
                })?;
                if !ids.insert(k.id.as_str()) {
                    return Err(ConfigCheckError::KeyIdTwice {
                        list,
                        index: i,
                        id: k.id.clone(),
                    });
                }
                if let Some(hash) = crate::auth::secret_hash(k) {
                    if let Some((first, first_id)) = secrets.insert(hash, (i, k.id.as_str())) {
                        return Err(ConfigCheckError::SameSecret {
                            list,
                            index: i,
                            id: k.id.clone(),
                            first,
                            first_id: first_id.to_owned(),
                        });
                    }
                }
                if let Some(subject) = &k.client_cert_subject {
                    if client_ca.is_none() {
                        return Err(ConfigCheckError::SubjectWithoutCa { list, index: i });
                    }
                    // One certificate must never be two keys: subjects that differ
                    // only where names compare without case are one.
                    if subjects
                        .iter()
                        .any(|s| crate::auth::same_subject(s, subject))
                    {
                        return Err(ConfigCheckError::SubjectTwice {
                            list,
                            index: i,
                            subject: subject.clone(),
                        });
                    }
                    subjects.push(subject.as_str());
                }
            }
        }
        if self.require_auth_for_stats && self.stats_keys.is_empty() {
            return Err(ConfigCheckError::StatsWithoutKeys);
        }
        self.check_required_keys()?;
        self.check_destination_folders()?;
        self.check_archives()
    }

    /// Each destination's `required_key` is the id of one of the `[[keys]]`: an event
    /// is taken by it only when received with that key, so a typo (or `""`, or a key
    /// a reload removed) left a destination that accepts nothing while every event
    /// went silently to the others, as `topics = []` would (refused too).
    fn check_required_keys(&self) -> Result<(), ConfigCheckError> {
        let Destinations::Configured(specs) = &self.destinations else {
            return Ok(());
        };
        for (index, spec) in specs.iter().enumerate() {
            let Some(key) = &spec.filter.required_key else {
                continue;
            };
            if !self.keys.iter().any(|k| &k.id == key) {
                return Err(ConfigCheckError::RequiredKeyUnknown {
                    index,
                    name: spec.name.clone(),
                    key: key.clone(),
                    known: self.keys.iter().map(|k| k.id.clone()).collect(),
                });
            }
        }
        Ok(())
    }

    /// Each destination has folders of its own: no folder a destination writes in (a
    /// store's `path`, a `file` destination's `dir`, an `eventserver` destination's
    /// `spool_dir`..., [`auditrail_core::TargetConfig::folders`]; a Kafka source's
    /// `store_root`) is another's, lies inside another's, or holds one; and none holds,
    /// or lies inside, the data dir's own files (signing key, high-water marks, lock
    /// file, sequence files, dead letters). Whatever reads a folder walks every file
    /// under it (a store's recovery at start, `verify`, `query`), so a folder nested in
    /// another would be read as part of it: `verify` reported a `file` destination's
    /// lines inside a store as tampering (`malformed-line`), and a store at `path = "."`
    /// or `".."` took the data dir's files for its own. Compared after joining to the
    /// data dir with `.` and `..` resolved, through symbolic links where the folders
    /// exist.
    fn check_destination_folders(&self) -> Result<(), ConfigCheckError> {
        // (who, key, folder)
        let mut folders: Vec<(String, &str, PathBuf)> = Vec::new();
        match &self.destinations {
            Destinations::DefaultStore => {
                let spec = crate::destinations::DestinationSpec::default_store();
                if let Some(path) = spec.store_path(&self.data_dir) {
                    folders.push(("the default store".to_owned(), "path", path));
                }
            }
            Destinations::Configured(specs) => {
                for s in specs {
                    for (key, path) in (s.registration.folders)(&s.config, &self.data_dir, &s.name)
                    {
                        folders.push((format!("destination {:?}", s.name), key, path));
                    }
                }
            }
        }
        for (i, source) in self.sources.iter().enumerate() {
            let SourceConfig::Kafka(k) = source;
            folders.push((
                format!("sources[{i}] (kafka)"),
                "store_root",
                self.data_dir.join(&k.store_root),
            ));
        }
        let own = [
            ("signing key", self.signing_key_path()),
            (
                "public key",
                self.data_dir.join(auditrail_integrity::PUBLIC_KEY_FILE),
            ),
            (
                "high-water marks",
                self.data_dir
                    .join(auditrail_integrity::high_water::HIGH_WATER_FILE),
            ),
            (
                "acceptances",
                self.data_dir
                    .join(auditrail_integrity::high_water::ACCEPTANCES_FILE),
            ),
            (
                "lock file",
                self.data_dir.join(auditrail_core::folder_lock::LOCK_FILE),
            ),
            (
                "list of nodes forgotten",
                self.data_dir.join(crate::dedup::FORGOTTEN_NODES_FILE),
            ),
            (
                "sequence files",
                self.data_dir.join(auditrail_core::dispatcher::SEQ_FOLDER),
            ),
            ("dead-letter folder", self.dead_letter_dir()),
        ];
        let compared: Vec<PathBuf> = folders.iter().map(|(_, _, p)| comparable(p)).collect();
        for (i, (what, key, path)) in folders.iter().enumerate() {
            for (j, (other, other_key, other_path)) in folders.iter().enumerate() {
                if i == j || !compared[i].starts_with(&compared[j]) {
                    continue;
                }
                if compared[i] == compared[j] {
                    if i > j {
                        return Err(ConfigCheckError::SameFolder {
                            what: what.clone(),
                            key,
                            other: other.clone(),
                            other_key,
                            path: path.clone().into_boxed_path(),
                        });
                    }
                    continue;
                }
                return Err(ConfigCheckError::FolderInside {
                    what: what.clone(),
                    key,
                    path: path.clone().into_boxed_path(),
                    other: other.clone(),
                    other_key,
                    other_path: other_path.clone().into_boxed_path(),
                });
            }
            for (thing, file) in &own {
                let file_compared = comparable(file);
                if file_compared.starts_with(&compared[i]) {
                    return Err(ConfigCheckError::HoldsOwnFile {
                        what: what.clone(),
                        key,
                        path: path.clone().into_boxed_path(),
                        thing,
                        file: file.clone().into_boxed_path(),
                        data_dir: self.data_dir.clone().into_boxed_path(),
                    });
                }
                if compared[i].starts_with(&file_compared) {
                    return Err(ConfigCheckError::InsideOwnFile {
                        what: what.clone(),
                        key,
                        path: path.clone().into_boxed_path(),
                        thing,
                        file: file.clone().into_boxed_path(),
                    });
                }
            }
        }
        Ok(())
    }

    /// The stores' archives: a prefix belongs to one store, and a local archive stays
    /// out of the store folders and the data dir (see
    /// [`auditrail_store::check_archive_places`]). Checked again at start, after
    /// `--data-dir` may have moved the stores.
    fn check_archives(&self) -> Result<(), ConfigCheckError> {
        let Destinations::Configured(specs) = &self.destinations else {
            return Ok(());
        };
        let stores: Vec<(String, PathBuf, &auditrail_store::StoreConfig)> = specs
            .iter()
            .filter_map(|s| {
                let config = s.config.downcast_ref::<auditrail_store::StoreConfig>()?;
                Some((
                    format!("destination {:?}", s.name),
                    self.data_dir.join(&config.path),
                    config,
                ))
            })
            .collect();
        if stores.iter().all(|(_, _, c)| c.archive.is_none()) {
            return Ok(());
        }
        let places: Vec<auditrail_store::ArchivePlace<'_>> = stores
            .iter()
            .map(|(name, root, config)| auditrail_store::ArchivePlace {
                name,
                root,
                archive: config.archive.as_ref(),
            })
            .collect();
        Ok(auditrail_store::check_archive_places(
            &self.data_dir,
            &places,
        )?)
    }

    /// The folders of the `store` destinations (`<data_dir>/<path>`), in config order,
    /// then the partition stores found under each Kafka source's `store_root`: what
    /// `verify`, `query`, `store` and `keys` read with `--config`.
    pub fn store_paths(&self) -> Vec<PathBuf> {
        let mut paths = self.destination_store_paths();
        paths.extend(self.partition_store_paths());
        paths
    }

    /// The partition stores found under each Kafka source's `store_root`
    /// (`<store_root>/<topic>/<partition>/store`), in source order: what `store prune`,
    /// `store accept` and `keys rotate` work on with `--config` beside the `store`
    /// destinations. Each has the default layout, as the source opens it.
    pub fn partition_store_paths(&self) -> Vec<PathBuf> {
        let mut paths = Vec::new();
        for source in &self.sources {
            let SourceConfig::Kafka(k) = source;
            paths.extend(auditrail_store::root::find_stores(
                &self.data_dir.join(&k.store_root),
            ));
        }
        paths
    }

    fn destination_store_paths(&self) -> Vec<PathBuf> {
        match &self.destinations {
            Destinations::DefaultStore => crate::destinations::DestinationSpec::default_store()
                .store_path(&self.data_dir)
                .into_iter()
                .collect(),
            Destinations::Configured(specs) => specs
                .iter()
                .filter_map(|s| {
                    crate::destinations::DestinationSpec::from_target_spec(s.clone())
                        .store_path(&self.data_dir)
                })
                .collect(),
        }
    }

    /// The `store` destinations' folders (`<data_dir>/<path>`) with their configs, in
    /// config order: what `auditrail store prune` opens with `--config`.
    pub fn stores(&self) -> Vec<(PathBuf, auditrail_store::StoreConfig)> {
        self.store_specs()
            .iter()
            .filter_map(|s| Some((s.store_path(&self.data_dir)?, s.store_config()?.clone())))
            .collect()
    }

    /// The `store` destinations' names with their folders (`<data_dir>/<path>`), in
    /// config order: for messages that name the destination, not only its folder.
    pub fn store_names(&self) -> Vec<(String, PathBuf)> {
        self.store_specs()
            .iter()
            .filter_map(|s| Some((s.name().to_owned(), s.store_path(&self.data_dir)?)))
            .collect()
    }

    /// Each destination (or the default store), in config order: its name, its
    /// target type and what its `Ok` means should the machine lose power, the answer
    /// the running server gives (`durable` in its answers, its WARN at start):
    /// what `auditrail targets --server-config` lists.
    pub fn destination_durability(
        &self,
    ) -> Vec<(String, &'static str, auditrail_core::Durability)> {
        self.store_specs()
            .iter()
            .map(|s| (s.name().to_owned(), s.type_name(), s.durability()))
            .collect()
    }

    /// Every destination (or the default store) as the server opens them, in config
    /// order.
    fn store_specs(&self) -> Vec<crate::destinations::DestinationSpec> {
        match &self.destinations {
            Destinations::DefaultStore => {
                vec![crate::destinations::DestinationSpec::default_store()]
            }
            Destinations::Configured(specs) => specs
                .iter()
                .map(|s| crate::destinations::DestinationSpec::from_target_spec(s.clone()))
                .collect(),
        }
    }

    /// The secret key file the server signs with: `signing_key`, else
    /// `<data_dir>/signing.key`.
    pub fn signing_key_path(&self) -> PathBuf {
        self.signing_key
            .clone()
            .unwrap_or_else(|| self.data_dir.join(auditrail_integrity::SECRET_KEY_FILE))
    }

    /// Dead-letter folder actually used.
    pub fn dead_letter_dir(&self) -> PathBuf {
        self.dead_letter_dir
            .clone()
            .unwrap_or_else(|| self.data_dir.join("deadletter"))
    }

    /// Whether event requests need a key.
    pub fn auth_required(&self) -> bool {
        !self.keys.is_empty()
    }

    /// Refuses a `[[witnesses]]` entry whose `url` is this server's own address (a
    /// copy of the nodes' url): the server would witness itself, its checkpoints'
    /// copies landing in its own store, within its reach, each a new record the next
    /// checkpoint covers and publishes again, for ever. The address `listen` names
    /// counts under its other spellings: `localhost`, any loopback or unspecified
    /// address for a server on `0.0.0.0`/`::` or on loopback. A port 0 (picked at
    /// bind) and host names other than `localhost` are not compared.
    pub fn check_witnesses_elsewhere(&self) -> Result<(), ConfigCheckError> {
        if self.listen.port() == 0 {
            return Ok(());
        }
        let urls = self.settings.get("witnesses").and_then(Value::as_array);
        for (i, spec) in self.witnesses.iter().enumerate() {
            let Some(url) = urls
                .and_then(|u| u.get(i))
                .and_then(|w| w.get("url"))
                .and_then(Value::as_str)
            else {
                continue;
            };
            if url_is_this_address(url, self.listen) {
                return Err(ConfigCheckError::WitnessIsSelf {
                    index: i,
                    name: spec.name.clone(),
                    url: url.to_owned(),
                    listen: self.listen,
                });
            }
        }
        Ok(())
    }

    /// Refuses to run without authentication on a non-loopback address unless allowed.
    pub fn check_exposure(&self) -> Result<(), ConfigCheckError> {
        if !self.auth_required() && !self.listen.ip().is_loopback() && !self.allow_unauthenticated {
            return Err(ConfigCheckError::Unauthenticated {
                listen: self.listen,
            });
        }
        Ok(())
    }
}

/// Whether an `http://` or `https://` `url` reaches `listen` on this machine
/// ([`ServerConfig::check_witnesses_elsewhere`]). The host is the one the connection
/// uses: parsed by the `url` crate (WHATWG rules, as the witness's HTTP client parses
/// it), which reads `127.1`, `0x7f000001`, `2130706433` and `127.0.0.1.` as
/// `127.0.0.1`; an IPv4-mapped IPv6 address (`[::ffff:127.0.0.1]`) is its IPv4 address,
/// which a dual-stack connection reaches. A hand-made parse knew none of these, so a
/// witness at this server under such a spelling was taken.
fn url_is_this_address(url: &str, listen: SocketAddr) -> bool {
    use std::net::IpAddr;
    let Ok(url) = url::Url::parse(url) else {
        return false;
    };
    if !matches!(url.scheme(), "http" | "https") {
        return false;
    }
    if url.port_or_known_default() != Some(listen.port()) {
        return false;
    }
    let unmapped = |ip: IpAddr| match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        IpAddr::V4(_) => ip,
    };
    let ips: Vec<IpAddr> = match url.host() {
        // Lowercased by the parser; a trailing dot is the same name.
        Some(url::Host::Domain(name)) => {
            let name = name.trim_end_matches('.');
            if name == "localhost" || name.ends_with(".localhost") {
                vec![[127, 0, 0, 1].into(), std::net::Ipv6Addr::LOCALHOST.into()]
            } else {
                return false;
            }
        }
        Some(url::Host::Ipv4(ip)) => vec![ip.into()],
        Some(url::Host::Ipv6(ip)) => vec![unmapped(ip.into())],
        None => return false,
    };
    let listen_ip = unmapped(listen.ip());
    let local = |ip: &IpAddr| ip.is_loopback() || ip.is_unspecified();
    ips.iter().any(|ip| {
        *ip == listen_ip
            || (listen_ip.is_unspecified() && local(ip))
            || (local(ip) && local(&listen_ip) && ip.is_unspecified())
    })
}

/// An empty environment, for the parsers that do not read it.
fn no_env() -> std::iter::Empty<(&'static str, &'static str)> {
    std::iter::empty()
}

/// Renames (or refuses) the reference product's spellings at the top level and in the
/// key lists; `[[destinations]]` entries get theirs in `parse_target`.
fn reference_spellings(top: &mut Map<String, Value>, file: &str) -> Result<(), ServerConfigError> {
    let error = |place: String, error| ServerConfigError::ReferenceSpelling {
        file: file.to_owned(),
        place,
        error,
    };
    reference::apply(reference::Scope::Server, top).map_err(|e| error(String::new(), e))?;
    for list in ["keys", "stats_keys"] {
        let Some(Value::Array(entries)) = top.get_mut(list) else {
            continue;
        };
        for (i, entry) in entries.iter_mut().enumerate() {
            if let Value::Object(entry) = entry {
                reference::apply(reference::Scope::ServerKey, entry)
                    .map_err(|e| error(format!("{list}[{i}]: "), e))?;
            }
        }
    }
    Ok(())
}

/// A key the typed parse refuses (its message starts with the key path, as they all
/// do), against the variable that set that key when one did; else against the file,
/// saying which variables were applied (a message about two keys may be due to one of
/// them).
fn blame_value(file: &str, overrides: &[EnvOverride], error: ValueError) -> ServerConfigError {
    let message = error.to_string();
    if let Some(o) = overrides.iter().find(|o| o.blamed_by(&message)) {
        return ServerConfigError::Environment(o.error(EnvValueError::Value(Box::new(error))));
    }
    ServerConfigError::Value {
        file: file.to_owned(),
        source: Box::new(error),
        with: applied(overrides),
    }
}

/// [`blame_value`] for a [`ConfigCheckError`].
fn blame_check(
    file: &str,
    overrides: &[EnvOverride],
    error: ConfigCheckError,
) -> ServerConfigError {
    let message = error.to_string();
    if let Some(o) = overrides.iter().find(|o| o.blamed_by(&message)) {
        return ServerConfigError::Environment(o.error(EnvValueError::Check(Box::new(error))));
    }
    ServerConfigError::Check {
        file: file.to_owned(),
        source: Box::new(error),
        with: applied(overrides),
    }
}

/// ` (with the environment's AUDITRAIL_…)` naming the variables applied, or empty: a
/// message about the file's keys says them, since one of them may be the cause.
fn applied(overrides: &[EnvOverride]) -> String {
    if overrides.is_empty() {
        return String::new();
    }
    let vars: Vec<&str> = overrides.iter().map(|o| o.variable.as_str()).collect();
    format!(" (with the environment's {})", vars.join(", "))
}

/// The levels `log_level` names, as the error lists them.
const LOG_LEVELS: &str = "error, warn, info, debug, trace, off";

/// `path` as compared by [`ServerConfig::check_destination_folders`]
/// ([`auditrail_core::config::compare::comparable`]).
fn comparable(path: &Path) -> PathBuf {
    auditrail_core::config::compare::comparable(path)
}

/// Checks `log_level`: a comma-separated list of `tracing` `EnvFilter` directives, each
/// a level (`info`) or a target with its level (`auditrail=debug`).
///
/// `EnvFilter` itself reads a bare word that is no level as a *target* to log at every
/// level, so a typo such as `warning` would be taken and silently turn off every other
/// log line. A bare directive must therefore be a level; a target alone is accepted
/// only where it cannot be a mistyped level (a path with `::`, or a span filter
/// `[...]`). The rest of the syntax is `EnvFilter`'s, checked where the filter is
/// built (`auditrail serve`).
fn check_log_level(text: &str) -> Result<(), LogLevelError> {
    use std::str::FromStr;
    use tracing::level_filters::LevelFilter;
    let refuse = |why| {
        Err(LogLevelError {
            text: text.to_owned(),
            why,
        })
    };
    if text.trim().is_empty() {
        return refuse(LogLevelWhy::Empty);
    }
    for directive in text.split(',').map(str::trim).filter(|d| !d.is_empty()) {
        // `target[span{field=value}]=level`: the level follows the last `=` outside
        // the brackets; a directive ending in `]` or `}` names no level.
        let level = match directive.rsplit_once('=') {
            Some((_, level)) if !level.contains([']', '}']) => Some(level.trim()),
            _ => None,
        };
        match level {
            Some(level) => {
                if LevelFilter::from_str(level).is_err() {
                    return refuse(LogLevelWhy::NoLevel {
                        level: level.to_owned(),
                        directive: directive.to_owned(),
                    });
                }
            }
            None => {
                let is_target = directive.contains("::") || directive.contains('[');
                if LevelFilter::from_str(directive).is_err() && !is_target {
                    return refuse(LogLevelWhy::NotALevel {
                        directive: directive.to_owned(),
                    });
                }
            }
        }
    }
    Ok(())
}

#[allow(clippy::expect_used)] // a valid literal; covered by the unit test below
fn default_node() -> NodeId {
    NodeId::new("eventserver").expect("\"eventserver\" is a valid node id")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registry() -> Registry {
        crate::registry(&[]).unwrap()
    }

    #[test]
    fn defaults_listen_on_loopback_with_a_default_store() {
        let c = ServerConfig::defaults();
        assert_eq!(c.listen.to_string(), DEFAULT_LISTEN);
        assert!(matches!(c.destinations, Destinations::DefaultStore));
        assert!(c.check_exposure().is_ok());
        assert_eq!(c.node.as_str(), "eventserver");
    }

    #[test]
    fn unauthenticated_non_loopback_is_refused_unless_allowed() {
        let mut c = ServerConfig::defaults();
        c.listen = "0.0.0.0:9980".parse().unwrap();
        assert!(c
            .check_exposure()
            .unwrap_err()
            .to_string()
            .contains("--allow-unauthenticated"));
        c.allow_unauthenticated = true;
        assert!(c.check_exposure().is_ok());
    }

    #[test]
    fn the_body_memory_budget_holds_the_largest_batch() {
        let parse = |text: &str| {
            let text = format!("{text}[[destinations]]\ntype = \"store\"\npath = \"s\"\n");
            ServerConfig::parse(&text, "server.toml", false, &registry())
        };
        // Unset: grows with a raised max_body_bytes.
        let c = parse("max_body_bytes = 104857600\n").unwrap();
        assert_eq!(c.max_body_memory_bytes, 14 * 104_857_600);
        assert_eq!(
            parse("").unwrap().max_body_memory_bytes,
            DEFAULT_MAX_BODY_MEMORY_BYTES
        );
        // Set too low: refused, naming both keys and the number needed.
        let err = parse("max_body_bytes = 1000000\nmax_body_memory_bytes = 13999999\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("max_body_memory_bytes"), "{err}");
        assert!(err.contains("14000000"), "{err}");
        assert!(parse("max_body_bytes = 1000000\nmax_body_memory_bytes = 14000000\n").is_ok());
    }

    #[test]
    fn client_certificates_need_a_client_ca_and_one_key_each() {
        let parse = |text: &str| {
            let text = format!("{text}\n[[destinations]]\ntype = \"store\"\npath = \"s\"\n");
            ServerConfig::parse(&text, "server.toml", false, &registry()).map_err(|e| e.to_string())
        };
        let tls = "[tls]\ncert = \"c.pem\"\nkey = \"k.pem\"\n";
        let subject =
            |id: &str, s: &str| format!("[[keys]]\nid = \"{id}\"\nclient_cert_subject = \"{s}\"\n");
        let err = parse(&format!("{}{tls}", subject("a", "a.example"))).unwrap_err();
        assert!(
            err.contains("keys[0]: client_cert_subject needs [tls] client_ca"),
            "{err}"
        );
        let err = parse(&format!("{tls}client_auth = \"optional\"\n")).unwrap_err();
        assert!(
            err.contains("tls.client_auth: needs tls.client_ca"),
            "{err}"
        );
        let with_ca = format!("{tls}client_ca = \"ca.pem\"\n");
        let twice = format!(
            "{}{}{with_ca}",
            subject("a", "a.example"),
            subject("b", "a.example")
        );
        let err = parse(&twice).unwrap_err();
        assert!(
            err.contains("keys[1]: client_cert_subject \"a.example\" is used twice"),
            "{err}"
        );
        // One certificate (DNS names compare without case) must not name two keys.
        let err = parse(&format!(
            "{}{}{with_ca}",
            subject("a", "a.example"),
            subject("b", "A.Example")
        ))
        .unwrap_err();
        assert!(
            err.contains("keys[1]: client_cert_subject \"A.Example\" is used twice"),
            "{err}"
        );
        let err = parse(&format!("{with_ca}client_auth = \"sometimes\"\n")).unwrap_err();
        assert!(err.contains("sometimes"), "{err}");
        let ok = parse(&format!("{}{with_ca}", subject("a", "a.example"))).unwrap();
        let tls = ok.tls.unwrap();
        assert_eq!(tls.client_auth, None, "required unless said otherwise");
        assert_eq!(ok.keys[0].client_cert_subject.as_deref(), Some("a.example"));
    }

    #[test]
    fn a_witness_url_is_this_address_under_its_spellings_only() {
        let on = |a: &str| a.parse::<SocketAddr>().unwrap();
        for (url, listen, same) in [
            ("http://127.0.0.1:9980", "127.0.0.1:9980", true),
            ("https://localhost:9980/", "127.0.0.1:9980", true),
            ("http://[::1]:9980", "[::]:9980", true),
            ("http://127.0.0.1:9980", "0.0.0.0:9980", true),
            ("http://0.0.0.0:9980", "127.0.0.1:9980", true),
            ("http://127.0.0.1:9981", "127.0.0.1:9980", false),
            ("http://10.0.0.1:9980", "127.0.0.1:9980", false),
            ("http://127.0.0.1", "127.0.0.1:80", true),
            ("http://witness.example.org:9980", "0.0.0.0:9980", false),
            ("http://10.0.0.1:9980", "10.0.0.2:9980", false),
            // The spellings a URL parser reads as 127.0.0.1 (WHATWG), and the
            // IPv4-mapped address, which were taken for another server.
            ("http://LOCALHOST:9980", "127.0.0.1:9980", true),
            ("http://localhost.:9980", "127.0.0.1:9980", true),
            ("http://127.0.0.1.:9980", "127.0.0.1:9980", true),
            ("http://127.1:9980", "127.0.0.1:9980", true),
            ("http://0x7f000001:9980", "127.0.0.1:9980", true),
            ("http://2130706433:9980", "127.0.0.1:9980", true),
            ("http://0177.0.0.1:9980", "127.0.0.1:9980", true),
            ("http://[::ffff:127.0.0.1]:9980", "127.0.0.1:9980", true),
            ("http://[::ffff:7f00:1]:9980", "0.0.0.0:9980", true),
            ("http://127.1:9980", "0.0.0.0:9980", true),
            ("http://user@127.1:9980/path?q#f", "127.0.0.1:9980", true),
            ("http://[::ffff:10.0.0.1]:9980", "10.0.0.1:9980", true),
            // Other addresses under such spellings stay other addresses.
            ("http://127.2:9980", "127.0.0.1:9980", false),
            ("http://0x0a000001:9980", "10.0.0.2:9980", false),
            ("http://[::ffff:10.0.0.1]:9980", "127.0.0.1:9980", false),
            ("http://127.1:9981", "127.0.0.1:9980", false),
            ("kafka://127.0.0.1:9980", "127.0.0.1:9980", false),
        ] {
            assert_eq!(
                url_is_this_address(url, on(listen)),
                same,
                "{url} on {listen}"
            );
        }
    }

    #[test]
    fn tables_written_as_arrays_of_their_values_are_refused_saying_a_table_is_needed() {
        let parse = |text: &str| {
            let text = format!("{text}\n[[destinations]]\ntype = \"store\"\npath = \"s\"\n");
            ServerConfig::parse(&text, "server.toml", false, &registry()).map_err(|e| e.to_string())
        };
        for (text, said) in [
            ("tls = [\"c.pem\", \"k.pem\"]", "tls must be a table"),
            (
                "keys = [[\"node\", \"secret-secret-1\"]]",
                "a key entry must be a table",
            ),
            (
                "stats_keys = [[\"ops\", \"secret-secret-2\"]]",
                "a key entry must be a table",
            ),
            ("checkpoints = [10, 60]", "checkpoints must be a table"),
        ] {
            let err = parse(text).unwrap_err();
            assert!(err.contains(said), "{text}: {err}");
            assert!(!err.contains("struct"), "{text}: {err}");
        }
    }

    #[test]
    fn store_folders_are_neither_shared_nor_nested() {
        let parse = |paths: &[&str]| {
            let text: String = paths
                .iter()
                .enumerate()
                .map(|(i, p)| {
                    format!("[[destinations]]\nname = \"s{i}\"\ntype = \"store\"\npath = \"{p}\"\n")
                })
                .collect();
            ServerConfig::parse(&text, "server.toml", false, &registry()).map_err(|e| e.to_string())
        };
        let err = parse(&["audit", "audit/svc-a"]).unwrap_err();
        assert!(
            err.contains("destination \"s1\"")
                && err.contains("lies inside")
                && err.contains("destination \"s0\""),
            "{err}"
        );
        // Whichever comes first, and however the path is written.
        let err = parse(&["./audit/x/../svc-a", "audit"]).unwrap_err();
        assert!(
            err.contains("destination \"s0\": its `path` folder"),
            "{err}"
        );
        let err = parse(&["audit", "x/../audit/"]).unwrap_err();
        assert!(err.contains("are the same folder"), "{err}");
        // Beside each other is fine, names that only share a prefix too.
        parse(&["audit", "audit-svc-a", "other/svc-a"]).unwrap();
        // A Kafka source's partition stores are stores too.
        let text =
            "[[destinations]]\nname = \"s0\"\ntype = \"store\"\npath = \"kafka-stores/mine\"\n\
                    [[sources]]\ntype = \"kafka\"\nbrokers = \"127.0.0.1:9092\"\ntopics = [\"t\"]\n\
                    group_id = \"g\"\nstore_root = \"kafka-stores\"\naccept_unsigned = true\n";
        let err = ServerConfig::parse(text, "server.toml", false, &registry())
            .map_err(|e| e.to_string())
            .unwrap_err();
        assert!(
            err.contains("sources[0] (kafka)") && err.contains("`store_root`"),
            "{err}"
        );
    }

    #[test]
    fn a_store_holding_the_data_dirs_own_files_or_inside_them_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let at = dir.path().display();
        let parse = |path: &str, extra: &str| {
            let text = format!(
                "data_dir = \"{at}/data\"\n{extra}[[destinations]]\nname = \"s\"\ntype = \"store\"\npath = \"{path}\"\n"
            );
            ServerConfig::parse(&text, "server.toml", false, &registry()).map_err(|e| e.to_string())
        };
        // The store is the data dir, or holds it.
        let err = parse(".", "").unwrap_err();
        assert!(
            err.contains(&format!(
                "destination \"s\": its `path` folder {at}/data/. holds the data dir's signing key {at}/data/signing.key"
            )),
            "{err}"
        );
        let err = parse("..", "").unwrap_err();
        assert!(err.contains("holds the data dir's signing key"), "{err}");
        // Inside the dead letters or the sequence files.
        let err = parse("deadletter/s", "").unwrap_err();
        assert!(
            err.contains("lies inside the data dir's dead-letter folder"),
            "{err}"
        );
        let err = parse("seq", "").unwrap_err();
        assert!(err.contains("the data dir's sequence files"), "{err}");
        // A signing key kept elsewhere is still the data dir's own file.
        let err = parse(
            &format!("{at}/keys"),
            &format!("signing_key = \"{at}/keys/signing.key\"\n"),
        )
        .unwrap_err();
        assert!(err.contains("holds the data dir's signing key"), "{err}");
        // Through a symbolic link to the data dir.
        std::fs::create_dir_all(dir.path().join("data")).unwrap();
        std::os::unix::fs::symlink(dir.path().join("data"), dir.path().join("link")).unwrap();
        let err = parse(&format!("{at}/link"), "").unwrap_err();
        assert!(err.contains("holds the data dir's signing key"), "{err}");
        parse("store", "").unwrap();
    }

    #[test]
    fn unknown_keys_name_file_and_key() {
        let err = ServerConfig::parse("lisen = \"x\"\n", "server.toml", false, &registry())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("server.toml") && err.contains("lisen"),
            "{err}"
        );
        let err = ServerConfig::parse(
            "[[keys]]\nid = \"a\"\nsecret = \"s\"\nscret = 1\n",
            "server.toml",
            false,
            &registry(),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("keys[0]") && err.contains("scret"), "{err}");
    }

    #[test]
    fn a_bad_destination_is_named_as_a_destination_with_its_key() {
        let text = "[[destinations]]\ntype = \"store\"\npath = \"a\"\n\
                    [[destinations]]\ntype = \"store\"\nname = \"b\"\npath = \"b\"\ncolour = 1\n";
        let err = ServerConfig::parse(text, "server.toml", false, &registry()).unwrap_err();
        let ServerConfigError::Destination(auditrail_core::ConfigError::Entry { file, error }) =
            &err
        else {
            panic!("expected a destination entry error, got {err:?}");
        };
        assert_eq!(file, "server.toml");
        assert_eq!(
            (error.place.section, error.place.index, error.key()),
            (Section::Destinations, 1, Some("colour"))
        );
        let text = err.to_string();
        assert!(
            text.starts_with("server.toml: destinations[1] (\"b\", type \"store\"): `colour`"),
            "{text}"
        );
    }

    #[test]
    fn an_archive_inside_a_store_or_the_data_dir_or_of_two_stores_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let at = dir.path().display().to_string();
        let store = |name: &str, path: &str, archive: &str| {
            format!("[[destinations]]\ntype = \"store\"\nname = \"{name}\"\npath = \"{path}\"\narchive = \"file://{at}/{archive}\"\n")
        };
        let refused = |stores: String| {
            let text = format!("data_dir = \"{at}/data\"\n{stores}");
            ServerConfig::parse(&text, "server.toml", false, &registry())
                .unwrap_err()
                .to_string()
        };
        // Its own folder: a prune would archive the files onto themselves, then delete
        // them.
        let err = refused(store("a", "store", "data/store/archive"));
        assert!(
            err.contains(&format!("destination \"a\": `archive` = \"file://{at}/data/store/archive\" is inside the store folder {at}/data/store (its own folder)")),
            "{err}"
        );
        let err = refused(store("a", "store", "data/store"));
        assert!(err.contains(" is the store folder"), "{err}");
        // Another store's folder, both named.
        let err = refused(store("a", "a", "data/b/archive") + &store("b", "b", "archive-b"));
        assert!(
            err.contains("destination \"a\": `archive` = ")
                && err.contains("the folder of destination \"b\""),
            "{err}"
        );
        // The data dir.
        let err = refused(store("a", "store", "data/archive"));
        assert!(
            err.contains(&format!("is inside the data dir {at}/data")),
            "{err}"
        );
        // Two stores, one prefix: both named.
        let err = refused(store("a", "a", "archive") + &store("b", "b", "archive"));
        assert!(
            err.contains(&format!("destination \"b\": `archive` = \"file://{at}/archive\" and the `archive` = \"file://{at}/archive\" of destination \"a\" are one prefix")),
            "{err}"
        );
        // Each its own, outside: fine.
        let text = format!(
            "data_dir = \"{at}/data\"\n{}{}",
            store("a", "a", "archive/a"),
            store("b", "b", "archive/b")
        );
        ServerConfig::parse(&text, "server.toml", false, &registry()).unwrap();
    }

    #[test]
    fn the_catch_up_rate_is_read_bounded_and_given_to_the_checkpointer() {
        let store = "[[destinations]]\ntype = \"store\"\npath = \"s\"\n";
        let c = ServerConfig::parse(store, "s.toml", false, &registry()).unwrap();
        assert_eq!(c.retention.catch_up_rate, CatchUpRate::DEFAULT);
        assert_eq!(c.checkpoints.catch_up, CatchUpRate::DEFAULT);
        for (written, rate) in [("1", 1.0), ("1.0", 1.0), ("2.5", 2.5), ("100", 100.0)] {
            let text = format!("[retention]\ncatch_up_rate = {written}\n{store}");
            let c = ServerConfig::parse(&text, "s.toml", false, &registry()).unwrap();
            assert_eq!(c.retention.catch_up_rate.get(), rate, "{written}");
            assert_eq!(c.checkpoints.catch_up, c.retention.catch_up_rate);
        }
        for (written, said) in [
            ("0.5", "must be at least 1"),
            ("101", "at most 100"),
            ("\"2\"", "f64"),
            // Not "invalid type: null": TOML's nan and inf are null in the JSON form.
            ("nan", "got nan or inf"),
            ("inf", "got nan or inf"),
            ("-inf", "got nan or inf"),
        ] {
            let text = format!("[retention]\ncatch_up_rate = {written}\n{store}");
            let err = ServerConfig::parse(&text, "s.toml", false, &registry())
                .unwrap_err()
                .to_string();
            assert!(
                err.contains("catch_up_rate") && err.contains(said),
                "{written}: {err}"
            );
        }
        let err = ServerConfig::parse(
            &format!("[retention]\ncatch_up = 2\n{store}"),
            "s.toml",
            false,
            &registry(),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("catch_up_rate"), "{err}");
        // From the environment, as a number.
        let c = ServerConfig::parse_with_env(
            store,
            "s.toml",
            false,
            &registry(),
            [("AUDITRAIL_RETENTION__CATCH_UP_RATE", "1.5")],
        )
        .unwrap();
        assert_eq!(c.checkpoints.catch_up.get(), 1.5);
        let err = ServerConfig::parse_with_env(
            store,
            "s.toml",
            false,
            &registry(),
            [("AUDITRAIL_RETENTION__CATCH_UP_RATE", "nan")],
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("CATCH_UP_RATE") && err.contains("got nan or inf"),
            "{err}"
        );
    }

    #[test]
    fn signing_key_and_checkpoints_are_read_and_unknown_checkpoint_keys_refused() {
        let text = "signing_key = \"k/signing.key\"\n[checkpoints]\nevery_records = 5\n\
                    [[destinations]]\ntype = \"store\"\npath = \"s\"\n";
        let c = ServerConfig::parse(text, "s.toml", false, &registry()).unwrap();
        assert_eq!(c.signing_key.as_deref(), Some(Path::new("k/signing.key")));
        assert_eq!(c.checkpoints.every_records, 5);
        assert_eq!(
            c.checkpoints.every_seconds,
            CheckpointPolicy::default().every_seconds
        );
        let bad = text.replace("every_records", "every_record");
        let err = ServerConfig::parse(&bad, "s.toml", false, &registry())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("checkpoints") && err.contains("every_record"),
            "{err}"
        );
    }

    #[test]
    fn a_store_takes_its_types_batch_size_unless_the_entry_sets_one() {
        let batch = |extra: &str| {
            let text = format!("[[destinations]]\ntype = \"store\"\npath = \"s\"\n{extra}");
            match ServerConfig::parse(&text, "s.toml", false, &registry())
                .unwrap()
                .destinations
            {
                Destinations::Configured(specs) => specs[0].delivery.batch_max_events,
                Destinations::DefaultStore => unreachable!("a file with a destination"),
            }
        };
        let store_default =
            <auditrail_store::StoreConfig as auditrail_core::TargetConfig>::BATCH_MAX_EVENTS;
        assert_ne!(store_default, auditrail_core::DEFAULT_BATCH_MAX_EVENTS);
        assert_eq!(batch(""), store_default);
        assert_eq!(batch("batch_max_events = 1000\n"), 1000);
        assert_eq!(
            crate::destinations::DestinationSpec::default_store().batch_max_events(),
            store_default
        );
    }

    #[test]
    fn a_config_without_destinations_is_refused() {
        let err = ServerConfig::parse("listen = \"127.0.0.1:1\"\n", "s.toml", false, &registry())
            .unwrap_err()
            .to_string();
        assert!(err.contains("no [[destinations]]"), "{err}");
    }

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Iterator<Item = (&'a str, &'a str)> {
        vars.iter().copied()
    }

    const STORE: &str = "[[destinations]]\ntype = \"store\"\npath = \"s\"\n";

    #[test]
    fn the_defaults_read_through_the_parser_are_the_defaults() {
        let parsed = ServerConfig::load_with_env(None, &registry(), env(&[])).unwrap();
        assert_eq!(
            format!("{parsed:?}"),
            format!("{:?}", ServerConfig::defaults())
        );
    }

    #[test]
    fn allowed_hosts_come_from_the_environment_as_names_separated_by_commas() {
        let vars = [("AUDITRAIL_ALLOWED_HOSTS", "Audit.Example.com, audit_server")];
        let c =
            ServerConfig::parse_with_env(STORE, "s.toml", false, &registry(), env(&vars)).unwrap();
        assert_eq!(c.allowed_hosts, ["audit.example.com", "audit_server"]);
        let bad = [("AUDITRAIL_ALLOWED_HOSTS", "http://a.example")];
        let bad = ServerConfig::parse_with_env(STORE, "s.toml", false, &registry(), env(&bad));
        assert!(
            bad.map_or(true, |c| c.check().is_err()),
            "a URL is no host name"
        );
    }

    #[test]
    fn the_environment_overrides_the_file_and_the_defaults() {
        let vars = [
            ("AUDITRAIL_LISTEN", "0.0.0.0:9"),
            ("AUDITRAIL_DATA_DIR", "/d"),
            ("AUDITRAIL_CHECKPOINTS__EVERY_RECORDS", "7"),
        ];
        let text = format!("listen = \"127.0.0.1:1\"\ndata_dir = \"x\"\n{STORE}");
        let c =
            ServerConfig::parse_with_env(&text, "s.toml", false, &registry(), env(&vars)).unwrap();
        assert_eq!(c.listen.to_string(), "0.0.0.0:9");
        assert_eq!(c.data_dir, Path::new("/d"));
        assert_eq!(c.checkpoints.every_records, 7);
        assert_eq!(c.origin("listen"), "environment AUDITRAIL_LISTEN");
        assert_eq!(c.origin("node"), "s.toml");
        let d = ServerConfig::load_with_env(None, &registry(), env(&vars)).unwrap();
        assert_eq!(d.listen.to_string(), "0.0.0.0:9");
        assert!(matches!(d.destinations, Destinations::DefaultStore));
    }

    #[test]
    fn a_value_the_checks_refuse_is_reported_against_its_variable() {
        let parse = |vars: &[(&str, &str)]| {
            ServerConfig::parse_with_env(STORE, "s.toml", false, &registry(), env(vars))
                .unwrap_err()
                .to_string()
        };
        // The typed parse (a negative size) and the range checks, as for the file.
        let err = parse(&[("AUDITRAIL_MAX_BODY_BYTES", "-1")]);
        assert!(
            err.starts_with(
                "environment AUDITRAIL_MAX_BODY_BYTES: invalid value \"-1\": max_body_bytes:"
            ),
            "{err}"
        );
        let err = parse(&[("AUDITRAIL_MAX_BODY_BYTES", "0")]);
        assert!(
            err.contains("AUDITRAIL_MAX_BODY_BYTES") && err.contains("at least 1"),
            "{err}"
        );
        let err = parse(&[("AUDITRAIL_LISTEN", "nowhere")]);
        assert!(
            err.starts_with("environment AUDITRAIL_LISTEN: invalid value \"nowhere\": listen:"),
            "{err}"
        );
        // A table made by the environment alone is checked like one from the file.
        let err = parse(&[("AUDITRAIL_TLS__CLIENT_AUTH", "optional")]);
        assert!(
            err.contains("tls: missing field `cert`") && err.contains("AUDITRAIL_TLS__CLIENT_AUTH"),
            "{err}"
        );
        // A message about another key still says which variables were applied.
        let err = parse(&[
            ("AUDITRAIL_MAX_BODY_BYTES", "1000000"),
            ("AUDITRAIL_MAX_BODY_MEMORY_BYTES", "1"),
        ]);
        assert!(err.contains("AUDITRAIL_MAX_BODY_MEMORY_BYTES"), "{err}");
    }

    #[test]
    fn every_scalar_key_of_the_config_is_overridable() {
        // serde's "expected one of" list of each struct is the list of its keys.
        fn keys_of<T: serde::de::DeserializeOwned>(wrap: fn(Value) -> Value) -> Vec<String> {
            let probe = wrap(serde_json::json!({"\u{1}": 0}));
            let err = match serde_json::from_value::<T>(probe) {
                Ok(_) => panic!("the probe key was accepted"),
                Err(e) => e.to_string(),
            };
            let list = err
                .split_once("expected")
                .map(|(_, l)| l)
                .unwrap_or_default();
            list.split('`')
                .skip(1)
                .step_by(2)
                .map(str::to_owned)
                .collect()
        }
        let top = keys_of::<RawServerConfig>(|v| v);
        let tls = keys_of::<TlsConfig>(|v| v)
            .into_iter()
            .map(|k| format!("tls.{k}"));
        let checkpoints = keys_of::<CheckpointPolicy>(|v| v)
            .into_iter()
            .map(|k| format!("checkpoints.{k}"));
        let retention = keys_of::<RetentionSettings>(|v| v)
            .into_iter()
            .map(|k| format!("retention.{k}"));
        let not_scalars = [
            "keys",
            "stats_keys",
            "destinations",
            "tls",
            "checkpoints",
            "retention",
        ];
        let mut map = Map::new();
        for key in top
            .into_iter()
            .filter(|k| !not_scalars.contains(&k.as_str()))
            .chain(tls)
            .chain(checkpoints)
            .chain(retention)
        {
            let var = format!("AUDITRAIL_{}", key.replace('.', "__").to_uppercase());
            let result = env::apply([(var.as_str(), "1")], &mut map);
            assert!(
                !matches!(result, Err(EnvError::UnknownKey { .. })),
                "{key} has no variable: add it to env::KEYS"
            );
        }
    }

    #[test]
    fn duration_settings_beyond_their_bound_are_refused_naming_key_and_bound() {
        // `shutdown_timeout_s = i64::MAX` was accepted, and SIGTERM then panicked
        // ("overflow when adding duration to instant") instead of stopping.
        const HUGE: &str = "9223372036854775807";
        let parse = |text: &str| {
            ServerConfig::parse(&format!("{text}{STORE}"), "s.toml", false, &registry())
                .map_err(|e| e.to_string())
        };
        for (text, key, bound) in [
            (
                format!("shutdown_timeout_s = {HUGE}\n"),
                "shutdown_timeout_s",
                "at most 86400 (1 day)",
            ),
            (
                "shutdown_timeout_s = 86401\n".to_owned(),
                "shutdown_timeout_s",
                "at most 86400 (1 day)",
            ),
            (
                format!("ack_timeout_ms = {HUGE}\n"),
                "ack_timeout_ms",
                "at most 3600000 (1 hour)",
            ),
            (
                format!("header_read_timeout_ms = {HUGE}\n"),
                "header_read_timeout_ms",
                "at most 3600000 (1 hour)",
            ),
            (
                format!("idle_timeout_ms = {HUGE}\n"),
                "idle_timeout_ms",
                "at most 86400000 (1 day)",
            ),
            (
                format!("[checkpoints]\nevery_seconds = {HUGE}\n"),
                "checkpoints.every_seconds",
                "at most 86400 (1 day)",
            ),
        ] {
            let err = parse(&text).unwrap_err();
            assert!(err.starts_with(&format!("s.toml: {key}: ")), "{err}");
            assert!(err.contains(bound) && err.contains("because"), "{err}");
        }
        let c = parse(
            "shutdown_timeout_s = 86400\nack_timeout_ms = 3600000\n\
             header_read_timeout_ms = 3600000\nidle_timeout_ms = 86400000\n\
             [checkpoints]\nevery_seconds = 86400\n",
        )
        .unwrap();
        assert_eq!(c.shutdown_timeout, Duration::from_secs(86_400));
        // From the environment: named against its variable.
        let err = ServerConfig::parse_with_env(
            STORE,
            "s.toml",
            false,
            &registry(),
            env(&[("AUDITRAIL_SHUTDOWN_TIMEOUT_S", HUGE)]),
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("AUDITRAIL_SHUTDOWN_TIMEOUT_S") && err.contains("at most 86400"),
            "{err}"
        );
        // A destination's dispatch settings are bounded too.
        let text = format!("{STORE}batch_max_wait_ms = {HUGE}\n");
        let err = ServerConfig::parse(&text, "s.toml", false, &registry())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("destinations[0]") && err.contains("`batch_max_wait_ms` "),
            "{err}"
        );
        assert!(err.contains("at most 3600000 (1 hour)"), "{err}");
        // A config made in code is checked at start by the same `check`.
        let mut c = ServerConfig::defaults();
        c.shutdown_timeout = Duration::MAX;
        assert!(c
            .check()
            .unwrap_err()
            .to_string()
            .starts_with("shutdown_timeout_s: 18446744073709551615 is too long"));
    }

    #[test]
    fn an_empty_path_is_refused_naming_the_key_or_the_variable() {
        let refused = |text: &str, vars: &[(&str, &str)]| {
            ServerConfig::parse_with_env(text, "s.toml", false, &registry(), env(vars))
                .unwrap_err()
                .to_string()
        };
        let empty = auditrail_core::config::EMPTY_PATH;
        // Keys without a default are not told to be left out.
        let required = auditrail_core::config::EMPTY_REQUIRED_PATH;
        let tls = "[tls]
cert = \"c.pem\"
key = \"k.pem\"
";
        for (text, key, message) in [
            ("data_dir = \"\"\n".to_owned(), "data_dir", empty),
            (
                "dead_letter_dir = \"\"\n".to_owned(),
                "dead_letter_dir",
                empty,
            ),
            ("signing_key = \"\"\n".to_owned(), "signing_key", empty),
            (
                "[tls]\ncert = \"\"\nkey = \"k.pem\"\n".to_owned(),
                "tls.cert",
                required,
            ),
            (
                "[tls]\ncert = \"c.pem\"\nkey = \"\"\n".to_owned(),
                "tls.key",
                required,
            ),
            (format!("{tls}client_ca = \"\"\n"), "tls.client_ca", empty),
        ] {
            let err = refused(&format!("{text}{STORE}"), &[]);
            assert_eq!(err, format!("s.toml: {key}: {message}"));
        }
        // From the environment: against the variable (a key file's value is hidden).
        for (var, key, shown) in [
            ("AUDITRAIL_DATA_DIR", "data_dir", "\"\""),
            ("AUDITRAIL_DEAD_LETTER_DIR", "dead_letter_dir", "\"\""),
            ("AUDITRAIL_SIGNING_KEY", "signing_key", "(hidden)"),
        ] {
            let err = refused(STORE, &[(var, "")]);
            assert_eq!(
                err,
                format!("environment {var}: invalid value {shown}: {key}: {empty}")
            );
        }
        let err =
            ServerConfig::load_with_env(None, &registry(), env(&[("AUDITRAIL_DATA_DIR", "")]))
                .unwrap_err()
                .to_string();
        assert!(
            err.starts_with("environment AUDITRAIL_DATA_DIR: invalid value \"\""),
            "{err}"
        );
        // A store's `path` and a Kafka source's `store_root`.
        let err = refused("[[destinations]]\ntype = \"store\"\npath = \"\"\n", &[]);
        assert_eq!(
            err,
            format!("s.toml: destinations[0] (\"store-0\", type \"store\"): `path`: {required}")
        );
        let err = refused(
            "[[sources]]\ntype = \"kafka\"\nbrokers = \"127.0.0.1:9092\"\ntopics = [\"t\"]\n\
             group_id = \"g\"\nstore_root = \"\"\n",
            &[],
        );
        assert!(
            err.contains("sources[0]") && err.contains("store_root") && err.ends_with(required),
            "{err}"
        );
    }

    #[test]
    fn two_keys_with_one_secret_are_refused_naming_both_and_not_the_secret() {
        const SECRET: &str = "same-secret-0123456789abcdef";
        let key = |id: &str, secret: &str| format!("[[keys]]\nid = \"{id}\"\n{secret}\n");
        let parse = |text: String| {
            ServerConfig::parse(&format!("{text}{STORE}"), "s.toml", false, &registry())
                .map_err(|e| e.to_string())
        };
        let plain = format!("secret = \"{SECRET}\"");
        let err = parse(key("a", &plain) + &key("b", &plain)).unwrap_err();
        assert_eq!(
            err,
            "s.toml: keys[1] (id \"b\") has the same secret as keys[0] (id \"a\"): a request \
             with it is always taken as key \"a\"; give each key a secret of its own"
        );
        // The same secret written once as itself and once as its hash.
        let hashed = format!(
            "secret_sha256 = \"{}\"",
            hex::encode(crate::auth::hash_secret(SECRET)).to_uppercase()
        );
        let err =
            parse(key("a", &plain) + &key("c", "secret = \"other-secret\"") + &key("b", &hashed))
                .unwrap_err();
        assert!(
            err.contains("keys[2] (id \"b\") has the same secret as keys[0] (id \"a\")"),
            "{err}"
        );
        assert!(!err.contains(SECRET) && !err.contains(&hashed), "{err}");
        // Stats keys alike; an event key and a stats key are two rings.
        let stats = format!(
            "[[stats_keys]]\nid = \"ops\"\n{plain}\n[[stats_keys]]\nid = \"ops2\"\n{plain}\n"
        );
        let err = parse(stats).unwrap_err();
        assert!(err.contains("stats_keys[1] (id \"ops2\")"), "{err}");
        parse(key("a", &plain) + &format!("[[stats_keys]]\nid = \"ops\"\n{plain}\n")).unwrap();
    }

    #[test]
    fn reference_spellings_are_renamed_or_name_our_key() {
        let text = format!("dataDir = \"ref\"\nrequireAuthenticationForStats = false\n{STORE}");
        let c = ServerConfig::parse(&text, "s.toml", false, &registry()).unwrap();
        assert_eq!(c.data_dir, Path::new("ref"));
        let text = format!("[[keys]]\nid = \"a\"\nauthKey = \"s\"\n{STORE}");
        let err = ServerConfig::parse(&text, "s.toml", false, &registry())
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with(
                "s.toml: keys[0]: unknown key \"authKey\": auditrail calls this \"secret\" in [[keys]]"
            ),
            "{err}"
        );
    }
}
