//! A target type's own config: parsed and validated once, at the registry boundary,
//! into its typed value (vector's "validated config"); `build` receives that value.
//!
//! ```text
//! [[targets]] table --parse (serde, unknown keys refused; TargetConfig::validate)-->
//!     ValidatedConfig (the typed config, erased) --build (downcast to the type)--> Target
//! ```

use std::any::Any;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::de::DeserializeOwned;
use thiserror::Error;

use crate::target::{BuildContext, BuildError, Durability, Target};

/// The ergonomic, typed side of a target type: its config struct. The registry keeps
/// the parsed value type-erased in a [`ValidatedConfig`]; this trait is how it gets
/// there and back.
///
/// Config structs should use `#[serde(deny_unknown_fields)]`, so that a misspelt key
/// is an error and not a silently ignored setting.
pub trait TargetConfig: DeserializeOwned + Send + Sync + 'static {
    /// The top-level keys whose values are file or folder paths. In a config file, a
    /// relative one is taken relative to the file's folder (rewritten before the typed
    /// parse, by core, for every target alike); in a config made in code it is left as
    /// given. A target that leaves a path key out of this list has it taken relative
    /// to the working directory of the process, unlike every other path of the file.
    const PATH_KEYS: &'static [&'static str] = &[];

    /// A table of the target's config that is handed to a library as its own
    /// properties, and the properties of it whose values are files the library reads
    /// (the kafka target: `properties` and
    /// [`LIBRDKAFKA_FILE_PROPERTIES`](crate::config::relative::LIBRDKAFKA_FILE_PROPERTIES)).
    /// In a config file, a relative one is taken relative to the file's folder, like
    /// [`Self::PATH_KEYS`], and must exist there
    /// ([`resolve_file_properties`](crate::config::relative::resolve_file_properties)).
    const FILE_PROPERTIES: Option<FileProperties> = None;

    /// The `batch_max_events` of an entry of this type that does not set it: the
    /// largest batch its worker hands to [`Target::send`]. The dispatcher's default
    /// ([`DeliveryOptions::default`](crate::DeliveryOptions)) unless the type's cost per
    /// batch (an fsync, a signature) makes larger batches cheaper per event.
    const BATCH_MAX_EVENTS: usize = crate::dispatcher::DEFAULT_BATCH_MAX_EVENTS;

    /// The folders this target writes its own files in, each with the key that sets it
    /// (`dir`, `spool_dir`), as built with `run_dir` (the node's run folder, the event
    /// server's data dir) and `target_name` (defaults are under them). The event server
    /// refuses a config where one of them is, contains or lies inside another target's
    /// folder or its data dir's own files: whatever reads a folder (a store's recovery,
    /// `verify`) would take the other's files for its own. No I/O here.
    fn folders(&self, run_dir: &Path, target_name: &str) -> Vec<(&'static str, PathBuf)> {
        let _ = (run_dir, target_name);
        Vec::new()
    }

    /// Why this target (named `name`) and `other` (named `other_name`), two targets of
    /// this type in one node, would destroy each other's data: their files meet (one
    /// writes a file that the other's rolls rename or its retention deletes). The message
    /// names both targets, the folder and the names that meet. Checked for every pair of
    /// a node's targets of one type when its dispatcher is built, which then refuses to
    /// start ([`DispatcherError::Clash`](crate::DispatcherError::Clash)). `run_dir` as in
    /// [`Self::folders`]. No I/O but resolving the folders' paths. None by default.
    fn clash(&self, name: &str, other: &Self, other_name: &str, run_dir: &Path) -> Option<String> {
        let _ = (name, other, other_name, run_dir);
        None
    }

    /// What an `Ok` from the target built from this config means should the machine
    /// lose power right after it (see "`Ok` means durable" in the [`Target`] contract):
    /// [`Durability::Durable`] when it fsynced (or a broker's replicas, or a server that
    /// fsyncs, acknowledged), [`Durability::NotDurable`] naming the setting that makes
    /// it less (`fsync = false`, `spool_fsync = "never"`, `acks=1`),
    /// [`Durability::PerAnswer`] when the destination's answer to each batch says (the
    /// eventserver target with `spool = false`). No I/O. The event
    /// server answers `durable: false` for batches such a destination took, and warns
    /// at start.
    ///
    /// Default [`Durability::Undeclared`], taken as not durable: a wrong "durable"
    /// tells a client its events are on disk when a power loss would take them, a
    /// wrong "not durable" only adds a note (see [`Durability::Undeclared`]). Every
    /// target crate should answer.
    fn durability(&self) -> Durability {
        Durability::Undeclared
    }

    /// Pure checks of values that serde alone cannot express (no I/O here), run once
    /// when the config is parsed. Name the key at fault with [`InvalidConfig::key`].
    fn validate(&self) -> Result<(), InvalidConfig> {
        Ok(())
    }

    /// Builds the target from the validated config: opens files, creates clients.
    /// Errors name the path or setting at fault.
    fn build(&self, ctx: &BuildContext) -> Result<Box<dyn Target>, BuildError>;
}

/// A table of a target's config handed to a library as its properties, and which of
/// them are files the library reads ([`TargetConfig::FILE_PROPERTIES`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileProperties {
    /// The table's key in the target's config (`properties`).
    pub table: &'static str,
    /// The properties whose values are paths of files (or folders) the library reads.
    pub keys: &'static [&'static str],
    /// Values of those properties that are words of the library, no path (`probe`).
    pub words: &'static [&'static str],
}

/// Why a target's own config is invalid: the key at fault, as a path (`topic`,
/// `properties.acks`, `brokers[1]`) when there is one, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub struct InvalidConfig {
    /// The key path, or `None` when the problem is the table as a whole (a missing
    /// key is named in the message) or a combination of keys (named in the message).
    pub key: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for InvalidConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.key {
            Some(key) => write!(f, "`{key}`: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl InvalidConfig {
    /// The value of `key` is wrong.
    pub fn key(key: impl Into<String>, message: impl Into<String>) -> InvalidConfig {
        InvalidConfig {
            key: Some(key.into()),
            message: message.into(),
        }
    }

    /// A problem with no single key (a combination; name the keys in the message).
    pub fn new(message: impl Into<String>) -> InvalidConfig {
        InvalidConfig {
            key: None,
            message: message.into(),
        }
    }

    /// From a serde error located by `serde_path_to_error`.
    pub(crate) fn from_serde(e: serde_path_to_error::Error<serde_json::Error>) -> InvalidConfig {
        let path = e.path().to_string();
        let message = e.into_inner().to_string();
        if path.is_empty() || path == "." {
            InvalidConfig::new(message)
        } else {
            InvalidConfig::key(path, message)
        }
    }
}

/// A target's own config, parsed and validated by its registration: the typed value
/// behind a type-erased, cheaply cloned handle. The registration's `build` gets the
/// typed value back with [`ValidatedConfig::downcast_ref`]; so can anyone else who
/// knows the type (the event server reads its `store` destinations' config this way).
#[derive(Clone)]
pub struct ValidatedConfig {
    value: Arc<dyn Any + Send + Sync>,
    /// The Rust type's name, for `Debug` only (never compared).
    rust_type: &'static str,
}

impl ValidatedConfig {
    /// Validates `config` ([`TargetConfig::validate`]) and wraps it, for a config made
    /// in code rather than parsed from a file.
    pub fn new<C: TargetConfig>(config: C) -> Result<ValidatedConfig, InvalidConfig> {
        config.validate()?;
        Ok(ValidatedConfig {
            value: Arc::new(config),
            rust_type: std::any::type_name::<C>(),
        })
    }

    /// The typed config, if it is a `C`.
    pub fn downcast_ref<C: TargetConfig>(&self) -> Option<&C> {
        self.value.downcast_ref::<C>()
    }

    /// Whether the typed config is a `C`.
    pub fn is<C: TargetConfig>(&self) -> bool {
        self.value.is::<C>()
    }
}

/// Shows the config's type only: configs may hold secrets (keys, passwords).
impl fmt::Debug for ValidatedConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ValidatedConfig")
            .field("type", &self.rust_type)
            .finish_non_exhaustive()
    }
}

/// Parses a target's own config table into `C` (unknown keys refused, the error naming
/// the key path) and validates it. The `parse` of a registration made by
/// [`register_target!`](crate::register_target).
pub fn parse_config<C: TargetConfig>(
    table: serde_json::Value,
) -> Result<ValidatedConfig, InvalidConfig> {
    let config: C = serde_path_to_error::deserialize(table).map_err(InvalidConfig::from_serde)?;
    ValidatedConfig::new(config)
}

/// The folders of a config that `parse_config::<C>` made ([`TargetConfig::folders`]);
/// none for a config of another type. The `folders` of a registration.
pub fn config_folders<C: TargetConfig>(
    config: &ValidatedConfig,
    run_dir: &Path,
    target_name: &str,
) -> Vec<(&'static str, PathBuf)> {
    config
        .downcast_ref::<C>()
        .map(|c| c.folders(run_dir, target_name))
        .unwrap_or_default()
}

/// Why two configs that `parse_config::<C>` made, of targets `name` and `other_name`,
/// clash ([`TargetConfig::clash`]); none when either is of another type. The `clash` of
/// a registration.
pub fn config_clash<C: TargetConfig>(
    config: &ValidatedConfig,
    name: &str,
    other: &ValidatedConfig,
    other_name: &str,
    run_dir: &Path,
) -> Option<String> {
    let (a, b) = (config.downcast_ref::<C>()?, other.downcast_ref::<C>()?);
    a.clash(name, b, other_name, run_dir)
}

/// What `Ok` means for the target of a config that `parse_config::<C>` made
/// ([`TargetConfig::durability`]); [`Durability::Undeclared`] for a config of another
/// type. The `durability` of a registration.
pub fn config_durability<C: TargetConfig>(config: &ValidatedConfig) -> Durability {
    config
        .downcast_ref::<C>()
        .map_or(Durability::Undeclared, C::durability)
}

/// Builds the target from a config that `parse_config::<C>` made. The `build` of a
/// registration made by [`register_target!`](crate::register_target).
pub fn build_config<C: TargetConfig>(
    config: &ValidatedConfig,
    ctx: &BuildContext,
) -> Result<Box<dyn Target>, BuildError> {
    let typed = config
        .downcast_ref::<C>()
        .ok_or_else(|| BuildError::ConfigType {
            expected: std::any::type_name::<C>(),
            given: config.rust_type,
        })?;
    typed.build(ctx)
}
