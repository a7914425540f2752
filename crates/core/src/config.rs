//! The node config file: the node id, folders, and the list of targets.
//!
//! ```toml
//! node = "node-1"
//! run_dir = "run"                  # optional, default "run" (in the config file's folder)
//!
//! [[targets]]
//! type = "file"                    # read first; picks the target type
//! topics = ["generic", "authfail"] # optional, default: all
//! routing_keys = ["svc-a"]         # optional, default: all
//! queue_capacity = 10000           # optional dispatch settings, see DeliveryOptions
//! dir = "run/audit"                # the target's own fields; unknown ones are errors
//!
//! [metrics]                        # optional, see MetricsConfig
//! listen = "127.0.0.1:9981"        # Prometheus endpoint (served by the program, see below)
//! log_interval_s = 60              # log every target's counters this often (default 0: off)
//! ```
//!
//! Relative paths in a config file (`run_dir`, `dead_letter_dir`, a target's path keys
//! such as `dir` or `spool_dir`, and the defaults under `run_dir`) are taken relative
//! to the file's folder, not to the working directory ([`relative`](mod@relative)).
//!
//! JSON with the same structure is accepted too (by `.json` extension or a leading `{`);
//! a key given twice is refused in both (see [`parse_config_text`]).
//!
//! The reference product's spellings of target keys (`authKey`, `routingKeyMode`...)
//! are aliases or errors that name our key, from one table shared with the event
//! server's config ([`reference`](mod@reference)).

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use serde_json::{Map, Value};
use thiserror::Error;

use crate::dispatcher::DeliveryOptions;
use crate::event::NodeId;
use crate::filter::Filter;
use crate::limits;
use crate::registry::{Registry, RegistryError, TargetRegistration};
use crate::target_config::{InvalidConfig, ValidatedConfig};

pub mod compare;
mod path;
pub mod reference;
pub mod relative;
mod text;
mod unknown_key;

pub use path::{ConfigPath, EMPTY_PATH, EMPTY_REQUIRED_PATH};
pub use text::{parse_config_text, read_config_file, ConfigTextError, MAX_CONFIG_FILE_BYTES};

use reference::ReferenceSpellingError;
use unknown_key::UnknownField;

/// Keys of a `[[targets]]` entry that the dispatcher reads; everything else belongs to
/// the target type.
pub const DISPATCH_KEYS: &[&str] = &[
    "topics",
    "routing_keys",
    "required_key",
    "queue_capacity",
    "on_full",
    "batch_max_events",
    "batch_max_wait_ms",
    "retry_initial_backoff_ms",
    "retry_max_backoff_ms",
    "retry_max_elapsed_s",
    "send_timeout_ms",
];

/// Which list of a config file a target entry is in: a node's `[[targets]]` or an
/// event server's `[[destinations]]`. Both have the same shape; `required_key` belongs
/// to destinations only. The caller says which, so errors name the right list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    /// A node config's `[[targets]]`.
    Targets,
    /// An event server's `[[destinations]]`.
    Destinations,
    /// An event server's `[[witnesses]]` (where its signed checkpoints are copied).
    Witnesses,
}

impl Section {
    /// The key of the list in the file.
    pub fn key(self) -> &'static str {
        match self {
            Section::Targets => "targets",
            Section::Destinations => "destinations",
            Section::Witnesses => "witnesses",
        }
    }
}

impl fmt::Display for Section {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

/// Where a target entry is: its list, its position, and its name and type once they
/// are known. Shown as `targets[2] ("audit", type "file")`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryPlace {
    /// The list.
    pub section: Section,
    /// Position in the list (0-based).
    pub index: usize,
    /// The instance name, once read.
    pub name: Option<String>,
    /// The `type`, once read.
    pub type_name: Option<String>,
}

impl fmt::Display for EntryPlace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}[{}]", self.section, self.index)?;
        match (&self.name, &self.type_name) {
            (Some(name), Some(t)) => write!(f, " ({name:?}, type {t:?})"),
            (None, Some(t)) => write!(f, " (type {t:?})"),
            _ => Ok(()),
        }
    }
}

/// What is wrong with one target entry.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum EntryProblem {
    /// The entry is not a table (TOML) or object (JSON).
    #[error("must be a table/object")]
    NotATable,
    /// The entry has no `type`.
    #[error("missing key `type`")]
    MissingType,
    /// `type` is not a string.
    #[error("`type` must be a string, got {0}")]
    TypeNotAString(String),
    /// No target type of that name is linked (boxed: errors stay small).
    #[error(transparent)]
    Type(Box<RegistryError>),
    /// The `name` is not a valid instance name.
    #[error("`name` must be 1 to 64 characters of [A-Za-z0-9._-], got {0}")]
    BadName(String),
    /// An event-server destination option in a node's target.
    #[error(
        "`{key}` is an event-server destination option (it matches the key an event was \
         received with) and has no meaning in a node's [[targets]]: remove it"
    )]
    ServerOnly {
        /// The key.
        key: &'static str,
    },
    /// A key spelt as in the reference product that auditrail does not take as it is
    /// (boxed: errors stay small).
    #[error(transparent)]
    ReferenceSpelling(Box<ReferenceSpellingError>),
    /// A key's value is wrong, or the key is unknown; `key` is its path.
    #[error(transparent)]
    Invalid(#[from] InvalidConfig),
}

/// One target entry that cannot be used: where it is and what is wrong, as data.
#[derive(Debug, Clone, PartialEq, Error)]
#[error("{place}: {problem}")]
pub struct EntryError {
    /// Where.
    pub place: EntryPlace,
    /// What.
    pub problem: EntryProblem,
}

impl EntryError {
    /// The key at fault, when one is (`type`, `name`, `topics`, `properties.acks`, ...).
    pub fn key(&self) -> Option<&str> {
        match &self.problem {
            EntryProblem::MissingType | EntryProblem::TypeNotAString(_) | EntryProblem::Type(_) => {
                Some("type")
            }
            EntryProblem::BadName(_) => Some("name"),
            EntryProblem::ServerOnly { key } => Some(key),
            EntryProblem::ReferenceSpelling(r) => Some(r.key()),
            EntryProblem::Invalid(i) => i.key.as_deref(),
            EntryProblem::NotATable => None,
        }
    }
}

/// A config file error, naming the file and, for a target entry, where in it.
/// Its `Debug` is its message with its causes ([`crate::ErrorReport`]), not a dump.
#[derive(Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file cannot be read or parsed, or a top-level key is wrong.
    #[error("{file}: {message}")]
    File {
        /// The config file (or `<inline>`).
        file: String,
        /// What is wrong, naming the key.
        message: String,
    },
    /// A target entry is wrong.
    #[error("{file}: {error}")]
    Entry {
        /// The config file.
        file: String,
        /// Which entry and what is wrong (boxed: errors stay small).
        error: Box<EntryError>,
    },
}

/// One target entry, parsed and checked against its type's registration.
#[derive(Debug, Clone)]
pub struct TargetSpec {
    /// Instance name (`name` key, default `<type>-<index>`).
    pub name: String,
    /// The registration of its `type`.
    pub registration: &'static TargetRegistration,
    /// Topic and routing-key filter.
    pub filter: Filter,
    /// Queue, batching and retry settings.
    pub delivery: DeliveryOptions,
    /// The target's own config, parsed and validated by its registration.
    pub config: ValidatedConfig,
}

impl TargetSpec {
    /// What an `Ok` of its target means should the machine lose power
    /// ([`TargetConfig::durability`](crate::TargetConfig::durability) of its config).
    pub fn durability(&self) -> crate::target::Durability {
        (self.registration.durability)(&self.config)
    }
}

/// A parsed node config.
#[derive(Debug, Clone)]
pub struct NodeConfig {
    /// The node id stamped on every event.
    pub node: NodeId,
    /// Folder for the node's state (default `run`). Read from a file
    /// ([`NodeConfig::load`]), relative paths are in the file's folder.
    pub run_dir: PathBuf,
    /// Folder of dead-letter files (default `<run_dir>/deadletter`).
    pub dead_letter_dir: PathBuf,
    /// Seconds a graceful shutdown may take before undelivered events are reported.
    pub shutdown_timeout_s: u64,
    /// The targets, in file order.
    pub targets: Vec<TargetSpec>,
    /// How the node exposes its counters (`[metrics]`).
    pub metrics: MetricsConfig,
}

/// The `[metrics]` table: how a long-running node exposes its counters.
///
/// `listen` is read by the program that runs the node: the `auditrail` facade's
/// `metrics` feature serves it (`auditrail send --stdin` and programs that call
/// `auditrail::metrics::MetricsServer::start_from_config` do); core has no
/// transport. `log_interval_s` is applied by every dispatcher built from the config.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsConfig {
    /// Where to serve the Prometheus endpoint (`GET /metrics`), as `IP:port`; port 0
    /// picks a free port (the bound address is logged). `None`: no listener.
    #[serde(default, deserialize_with = "listen_address")]
    pub listen: Option<SocketAddr>,
    /// Seconds between two structured logs of every target's counters (one `tracing`
    /// event per target at INFO, through `TargetStats::log`). 0 (the default): off.
    #[serde(default)]
    pub log_interval_s: u64,
}

impl MetricsConfig {
    /// `log_interval_s` as a duration; `None` when off.
    pub fn log_interval(&self) -> Option<Duration> {
        (self.log_interval_s > 0).then(|| Duration::from_secs(self.log_interval_s))
    }
}

/// `listen`: an `IP:port` string, with an error that shows the expected shape.
fn listen_address<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<SocketAddr>, D::Error> {
    let text = String::deserialize(d)?;
    text.parse().map(Some).map_err(|e| {
        serde::de::Error::custom(format!(
            "expected IP:port such as \"127.0.0.1:9981\" or \"[::1]:9981\", got {text:?} ({e})"
        ))
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNodeConfig {
    node: NodeId,
    #[serde(default)]
    run_dir: Option<ConfigPath>,
    #[serde(default)]
    dead_letter_dir: Option<ConfigPath>,
    #[serde(default)]
    shutdown_timeout_s: Option<u64>,
    #[serde(default)]
    targets: Vec<Value>,
    #[serde(default)]
    metrics: MetricsConfig,
}

impl NodeConfig {
    /// Reads and parses a config file. Its relative paths (`run_dir`, by default `run`;
    /// `dead_letter_dir`; the targets' path keys) are taken in the file's folder
    /// ([`relative`](mod@relative)), so the same file names the same folders whatever
    /// the working directory.
    pub fn load(path: &Path, registry: &Registry) -> Result<NodeConfig, ConfigError> {
        let file = path.display().to_string();
        let text = read_config_file(path, crate::regular_file::Reading::Start).map_err(|e| {
            ConfigError::File {
                file: file.clone(),
                // The file is named first by `ConfigError::File`: said once.
                message: format!("cannot read: {}", crate::without_path(path, &e)),
            }
        })?;
        let folder = relative::config_folder(path).map_err(|e| ConfigError::File {
            file: file.clone(),
            message: format!("cannot find the folder its relative paths are in: {e}"),
        })?;
        let json = path.extension().is_some_and(|e| e == "json");
        NodeConfig::parse_in(&text, &file, json, registry, Some(&folder))
    }

    /// Parses config text; `file` names it in errors. `json` forces JSON; otherwise a
    /// leading `{` means JSON and anything else is TOML. Relative paths stay as
    /// written (relative to the working directory): see [`NodeConfig::parse_in`].
    pub fn parse(
        text: &str,
        file: &str,
        json: bool,
        registry: &Registry,
    ) -> Result<NodeConfig, ConfigError> {
        NodeConfig::parse_in(text, file, json, registry, None)
    }

    /// [`NodeConfig::parse`], with relative paths taken in `folder` (the config file's
    /// folder, [`relative::config_folder`]) when given.
    pub fn parse_in(
        text: &str,
        file: &str,
        json: bool,
        registry: &Registry,
        folder: Option<&Path>,
    ) -> Result<NodeConfig, ConfigError> {
        let top = |message: String| ConfigError::File {
            file: file.to_owned(),
            message,
        };
        let value = parse_config_text(text, json).map_err(|e| top(e.to_string()))?;
        let raw: RawNodeConfig = from_value_at_key(value).map_err(|e| top(e.to_string()))?;
        let in_folder = |p: PathBuf| match folder {
            Some(folder) => relative::resolve(folder, &p),
            None => p,
        };
        // The default too: a config that leaves `run_dir` out still has one run folder.
        let written = raw
            .run_dir
            .map_or_else(|| PathBuf::from("run"), ConfigPath::into_path_buf);
        let run_dir = in_folder(written.clone());
        if folder.is_some() {
            // This node's own sequence file, not just any run's state: the working
            // directory may hold another node's run folder (`run/seq/node-1`), which
            // this node neither owns nor should be told to take.
            let own = Path::new("seq").join(raw.node.as_str());
            if let Some(old) = relative::left_in_working_directory(&written, &run_dir, &own) {
                return Err(top(format!(
                    "run_dir: {:?} is taken in the config file's folder, {}, which does not exist yet, \
                     while {} (in the working directory, where earlier versions took it) holds this \
                     node's state (sequence file, spools): move that folder to {}, or set \
                     run_dir = {:?}; starting anew would number events from 1 again and leave \
                     its spooled events unsent",
                    written,
                    run_dir.display(),
                    old.display(),
                    run_dir.display(),
                    old.display().to_string()
                )));
            }
        }
        let dead_letter_dir = match raw.dead_letter_dir {
            Some(dir) => in_folder(dir.into_path_buf()),
            None => run_dir.join("deadletter"),
        };
        let mut targets = Vec::with_capacity(raw.targets.len());
        for (index, entry) in raw.targets.into_iter().enumerate() {
            let spec = parse_target_in(Section::Targets, index, entry, registry, folder).map_err(
                |error| ConfigError::Entry {
                    file: file.to_owned(),
                    error: Box::new(error),
                },
            )?;
            targets.push(spec);
        }
        let mut names: Vec<&str> = targets.iter().map(|t| t.name.as_str()).collect();
        names.sort_unstable();
        if let Some(w) = names.windows(2).find(|w| w[0] == w[1]) {
            return Err(top(format!(
                "two targets are named {:?}; names must be unique",
                w[0]
            )));
        }
        let shutdown_timeout_s = raw.shutdown_timeout_s.unwrap_or(30);
        // Both become deadlines or timer periods: bounded by what they are for.
        for (bound, value) in [
            (limits::SHUTDOWN_TIMEOUT_S, shutdown_timeout_s),
            (limits::LOG_INTERVAL_S, raw.metrics.log_interval_s),
        ] {
            bound
                .check(value)
                .map_err(|e| top(format!("{}: {e}", bound.key)))?;
        }
        Ok(NodeConfig {
            node: raw.node,
            run_dir,
            dead_letter_dir,
            shutdown_timeout_s,
            targets,
            metrics: raw.metrics,
        })
    }
}

/// Parses one entry of `section`: `type` first, then the reference product's spellings
/// (renamed or refused, [`reference`](mod@reference)), then the dispatch keys, then the target's own
/// fields through its registration (parsed and validated once into its typed config,
/// unknown fields rejected, the list of expected keys including the entry's own). In a
/// node's `[[targets]]`, the destination option `required_key` is refused. Relative
/// paths stay as written: see [`parse_target_in`].
pub fn parse_target(
    section: Section,
    index: usize,
    entry: Value,
    registry: &Registry,
) -> Result<TargetSpec, EntryError> {
    parse_target_in(section, index, entry, registry, None)
}

/// [`parse_target`] for an entry of a config file whose folder is `folder`: the
/// relative values of the type's path keys
/// ([`crate::TargetConfig::PATH_KEYS`]) are taken in it
/// ([`relative`](mod@relative)).
pub fn parse_target_in(
    section: Section,
    index: usize,
    entry: Value,
    registry: &Registry,
    folder: Option<&Path>,
) -> Result<TargetSpec, EntryError> {
    let mut place = EntryPlace {
        section,
        index,
        name: None,
        type_name: None,
    };
    let fail = |place: &EntryPlace, problem: EntryProblem| EntryError {
        place: place.clone(),
        problem,
    };
    let Value::Object(mut fields) = entry else {
        return Err(fail(&place, EntryProblem::NotATable));
    };
    let type_name = match fields.remove("type") {
        Some(Value::String(s)) => s,
        Some(other) => {
            return Err(fail(
                &place,
                EntryProblem::TypeNotAString(other.to_string()),
            ))
        }
        None => return Err(fail(&place, EntryProblem::MissingType)),
    };
    place.type_name = Some(type_name.clone());
    let registration = registry
        .get(&type_name)
        .map_err(|e| fail(&place, EntryProblem::Type(Box::new(e))))?;
    for scope in [reference::Scope::Entry, reference::Scope::Type(&type_name)] {
        reference::apply(scope, &mut fields)
            .map_err(|e| fail(&place, EntryProblem::ReferenceSpelling(Box::new(e))))?;
    }
    let name = match fields.remove("name") {
        None => format!("{type_name}-{index}"),
        Some(Value::String(s)) if valid_target_name(&s) => s,
        Some(other) => return Err(fail(&place, EntryProblem::BadName(other.to_string()))),
    };
    place.name = Some(name.clone());
    if section == Section::Targets && fields.contains_key("required_key") {
        return Err(fail(
            &place,
            EntryProblem::ServerOnly {
                key: "required_key",
            },
        ));
    }
    let mut filter_fields = Map::new();
    let mut delivery_fields = Map::new();
    for key in DISPATCH_KEYS {
        if let Some(v) = fields.remove(*key) {
            let into = if matches!(*key, "topics" | "routing_keys" | "required_key") {
                &mut filter_fields
            } else {
                &mut delivery_fields
            };
            into.insert((*key).to_owned(), v);
        }
    }
    let invalid = |place: &EntryPlace, e: InvalidConfig| fail(place, EntryProblem::Invalid(e));
    let filter: Filter =
        from_value_at_key(Value::Object(filter_fields)).map_err(|e| invalid(&place, e))?;
    let batch_max_events_set = delivery_fields.contains_key("batch_max_events");
    let mut delivery: DeliveryOptions =
        from_value_at_key(Value::Object(delivery_fields)).map_err(|e| invalid(&place, e))?;
    if !batch_max_events_set {
        delivery.batch_max_events = registration.batch_max_events;
    }
    delivery
        .check()
        .map_err(|e| invalid(&place, InvalidConfig::new(e.to_string())))?;
    if let Some(folder) = folder {
        relative::resolve_keys(&mut fields, registration.path_keys, folder)
            .map_err(|e| invalid(&place, e))?;
        if let Some(files) = registration.file_properties {
            if let Some(Value::Object(table)) = fields.get_mut(files.table) {
                relative::resolve_file_properties(table, files.table, &files, folder)
                    .map_err(|e| invalid(&place, e))?;
            }
        }
    }
    let config = (registration.parse)(Value::Object(fields))
        .map_err(|e| invalid(&place, expecting_entry_keys(e, section)))?;
    Ok(TargetSpec {
        name,
        registration,
        filter,
        delivery,
        config,
    })
}

/// The keys of an entry of `section` besides the target type's own.
fn entry_keys(section: Section) -> impl Iterator<Item = &'static str> {
    ["type", "name"]
        .into_iter()
        .chain(DISPATCH_KEYS.iter().copied())
        .filter(move |k| section == Section::Destinations || *k != "required_key")
}

/// A target type's unknown-key error lists the type's own keys only: the entry's
/// `type`, `name` and dispatch keys are valid in the same table, so they are listed too
/// (not for an unknown key of a nested table, such as `flush.every_bytez`).
fn expecting_entry_keys(e: InvalidConfig, section: Section) -> InvalidConfig {
    match UnknownField::parse(&e.message) {
        Some(unknown) if e.key.as_deref() == Some(unknown.key()) => {
            let keys: Vec<&str> = entry_keys(section).collect();
            InvalidConfig {
                message: unknown.expecting_also(&keys).to_string(),
                ..e
            }
        }
        _ => e,
    }
}

/// Deserializes `value`; an error names the key path it is about.
fn from_value_at_key<T: serde::de::DeserializeOwned>(value: Value) -> Result<T, InvalidConfig> {
    serde_path_to_error::deserialize(value).map_err(InvalidConfig::from_serde)
}

/// Target names become file names (dead-letter files, spool folders) and metric labels.
/// The one rule for a config's `name` and a name given to the dispatcher builder.
pub(crate) fn valid_target_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && !s.starts_with('.')
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_run_dir_or_dead_letter_dir_is_refused_naming_the_file_and_the_key() {
        let registry = Registry::with_linked(&[&crate::testing::MEMORY_REGISTRATION]).unwrap();
        for key in ["run_dir", "dead_letter_dir"] {
            let text = format!("node = \"n\"\n{key} = \"\"\n");
            let err = NodeConfig::parse(&text, "node.toml", false, &registry)
                .unwrap_err()
                .to_string();
            assert_eq!(err, format!("node.toml: `{key}`: {EMPTY_PATH}"));
        }
    }
}
