//! The node config file: the node id, folders, and the list of targets.
//!
//! ```toml
//! node = "node-1"
//! run_dir = "run"                  # optional, default "run"
//!
//! [[targets]]
//! type = "file"                    # read first; picks the target type
//! topics = ["generic", "authfail"] # optional, default: all
//! routing_keys = ["svc-a"]         # optional, default: all
//! queue_capacity = 10000           # optional dispatch settings, see DeliveryOptions
//! dir = "run/audit"                # the target's own fields; unknown ones are errors
//! ```
//!
//! JSON with the same structure is accepted too (by `.json` extension or a leading `{`).

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::{Map, Value};
use thiserror::Error;

use crate::dispatcher::DeliveryOptions;
use crate::event::NodeId;
use crate::filter::Filter;
use crate::registry::{Registry, TargetRegistration};

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

/// A config error, naming the file, the place in it and what is wrong.
#[derive(Debug, Error)]
#[error("{file}: {place}{message}")]
pub struct ConfigError {
    /// The config file (or `<inline>`).
    pub file: String,
    /// `targets[2] (type "kafka"): ` or empty for top-level errors.
    pub place: String,
    /// What is wrong, naming the key.
    pub message: String,
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
    /// The target's own fields (without `type` and the dispatch keys).
    pub config: Value,
}

/// A parsed node config.
#[derive(Debug, Clone)]
pub struct NodeConfig {
    /// The node id stamped on every event.
    pub node: NodeId,
    /// Folder for the node's state (default `run`).
    pub run_dir: PathBuf,
    /// Folder of dead-letter files (default `<run_dir>/deadletter`).
    pub dead_letter_dir: PathBuf,
    /// Seconds a graceful shutdown may take before undelivered events are reported.
    pub shutdown_timeout_s: u64,
    /// The targets, in file order.
    pub targets: Vec<TargetSpec>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNodeConfig {
    node: NodeId,
    #[serde(default)]
    run_dir: Option<PathBuf>,
    #[serde(default)]
    dead_letter_dir: Option<PathBuf>,
    #[serde(default)]
    shutdown_timeout_s: Option<u64>,
    #[serde(default)]
    targets: Vec<Value>,
}

impl NodeConfig {
    /// Reads and parses a config file.
    pub fn load(path: &Path, registry: &Registry) -> Result<NodeConfig, ConfigError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
            file: file.clone(),
            place: String::new(),
            message: format!("cannot read: {e}"),
        })?;
        let json = path.extension().is_some_and(|e| e == "json");
        NodeConfig::parse(&text, &file, json, registry)
    }

    /// Parses config text; `file` names it in errors. `json` forces JSON; otherwise a
    /// leading `{` means JSON and anything else is TOML.
    pub fn parse(
        text: &str,
        file: &str,
        json: bool,
        registry: &Registry,
    ) -> Result<NodeConfig, ConfigError> {
        let top = |message: String| ConfigError {
            file: file.to_owned(),
            place: String::new(),
            message,
        };
        let value: Value = if json || text.trim_start().starts_with('{') {
            serde_json::from_str(text).map_err(|e| top(format!("invalid JSON: {e}")))?
        } else {
            let t: toml::Value =
                toml::from_str(text).map_err(|e| top(format!("invalid TOML: {e}")))?;
            serde_json::to_value(t).map_err(|e| top(e.to_string()))?
        };
        let raw: RawNodeConfig = from_value_at_key(value).map_err(top)?;
        let run_dir = raw.run_dir.unwrap_or_else(|| PathBuf::from("run"));
        let dead_letter_dir = raw
            .dead_letter_dir
            .unwrap_or_else(|| run_dir.join("deadletter"));
        let mut targets = Vec::with_capacity(raw.targets.len());
        for (index, entry) in raw.targets.into_iter().enumerate() {
            targets.push(parse_target(index, entry, file, registry)?);
        }
        let mut names: Vec<&str> = targets.iter().map(|t| t.name.as_str()).collect();
        names.sort_unstable();
        if let Some(w) = names.windows(2).find(|w| w[0] == w[1]) {
            return Err(top(format!(
                "two targets are named {:?}; names must be unique",
                w[0]
            )));
        }
        Ok(NodeConfig {
            node: raw.node,
            run_dir,
            dead_letter_dir,
            shutdown_timeout_s: raw.shutdown_timeout_s.unwrap_or(30),
            targets,
        })
    }
}

/// Parses one `[[targets]]` entry: `type` first, then the dispatch keys, then the
/// target's own fields through its registration (unknown fields rejected there).
pub fn parse_target(
    index: usize,
    entry: Value,
    file: &str,
    registry: &Registry,
) -> Result<TargetSpec, ConfigError> {
    let err = |place: String, message: String| ConfigError {
        file: file.to_owned(),
        place,
        message,
    };
    let Value::Object(mut fields) = entry else {
        return Err(err(
            format!("targets[{index}]: "),
            "must be a table/object".into(),
        ));
    };
    let type_name = match fields.remove("type") {
        Some(Value::String(s)) => s,
        Some(other) => {
            return Err(err(
                format!("targets[{index}]: "),
                format!("`type` must be a string, got {other}"),
            ))
        }
        None => {
            return Err(err(
                format!("targets[{index}]: "),
                "missing key `type`".into(),
            ))
        }
    };
    let place = format!("targets[{index}] (type {type_name:?}): ");
    let registration = registry
        .get(&type_name)
        .map_err(|e| err(place.clone(), e.to_string()))?;
    let name = match fields.remove("name") {
        None => format!("{type_name}-{index}"),
        Some(Value::String(s)) if valid_target_name(&s) => s,
        Some(other) => {
            return Err(err(
                place,
                format!("`name` must be 1 to 64 characters of [A-Za-z0-9._-], got {other}"),
            ))
        }
    };
    let place = format!("targets[{index}] ({name:?}, type {type_name:?}): ");
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
    let filter: Filter =
        from_value_at_key(Value::Object(filter_fields)).map_err(|e| err(place.clone(), e))?;
    let delivery: DeliveryOptions =
        from_value_at_key(Value::Object(delivery_fields)).map_err(|e| err(place.clone(), e))?;
    delivery.check().map_err(|e| err(place.clone(), e))?;
    let config = Value::Object(fields);
    (registration.validate)(&config).map_err(|e| err(place.clone(), e))?;
    Ok(TargetSpec {
        name,
        registration,
        filter,
        delivery,
        config,
    })
}

/// Deserializes `value`; an error names the key it is about (`` `topics`: ... ``).
fn from_value_at_key<T: serde::de::DeserializeOwned>(value: Value) -> Result<T, String> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        if path == "." {
            e.into_inner().to_string()
        } else {
            format!("`{path}`: {}", e.into_inner())
        }
    })
}

/// Target names become file names (dead-letter files, spool folders) and metric labels.
fn valid_target_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && !s.starts_with('.')
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}
