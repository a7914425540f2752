//! Environment variables that override keys of the server config:
//! `AUDITRAIL_<KEY>` for a top-level key (`AUDITRAIL_LISTEN`), and
//! `AUDITRAIL_<TABLE>__<KEY>` (two underscores) for a key of `[tls]`, `[checkpoints]` or
//! `[retention]`
//! (`AUDITRAIL_CHECKPOINTS__EVERY_RECORDS`).
//!
//! They are written into the parsed config value before the typed parse, so that a value
//! from the environment goes through exactly the checks of a value from the file; an
//! error about such a key is then reported against the variable, not the file.
//!
//! The environment is an argument (the CLI passes `std::env::vars_os()`), so tests do
//! not touch the process's environment.

use std::ffi::OsStr;

use serde::Deserialize;
use serde_json::{Map, Value};
use thiserror::Error;

/// The prefix of every override.
const PREFIX: &str = "AUDITRAIL_";

/// Variables that auditrail's programs and tests read for other things: never config
/// keys, never an error. Kept out of the override namespace (docs/configuration.md,
/// "Environment variables").
pub const RESERVED_VARIABLES: &[&str] = &[
    "AUDITRAIL_LOG_FORMAT",           // auditrail --log-format
    "AUDITRAIL_SERVER",               // auditrail tail --server
    "AUDITRAIL_STATS_KEY",            // auditrail tail --stats-key
    "AUDITRAIL_KAFKA_BROKERS",        // Kafka tests: an existing broker
    "AUDITRAIL_BIN",                  // tests and benches: the auditrail binary to run
    "AUDITRAIL_TANSU",                // Kafka tests: the tansu broker binary
    "AUDITRAIL_CHROMEDRIVER",         // web console tests: the chromedriver binary
    "AUDITRAIL_CHROMIUM",             // web console tests: the Chromium binary
    "AUDITRAIL_S3S_FS",               // archive tests: the s3s-fs S3-compatible server binary
    "AUDITRAIL_STORE_KILL9_CHILD",    // store tests: the child process role
    "AUDITRAIL_STORE_SECOND_PROCESS", // store tests: the second writer's role
    "AUDITRAIL_REQUIRE_ROOT_TESTS",   // tests: fail, not skip, without root (`cargo xtask ci`)
];

/// Prefixes kept for tests and benchmarks (`AUDITRAIL_TEST_DIR`,
/// `AUDITRAIL_BENCH_STORE_MB`...).
pub const RESERVED_PREFIXES: &[&str] = &["AUDITRAIL_TEST_", "AUDITRAIL_BENCH_"];

/// How a variable's text becomes the key's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Taken as it is: a listen address or a node id that looks like a number stays text.
    Text,
    /// A TOML integer (`1000`, `1_000`).
    Integer,
    /// `true` or `false`.
    Boolean,
    /// A TOML number, integer or float (`2`, `1.5`).
    Number,
    /// Names separated by commas (`a.example,b.example`; spaces around them dropped):
    /// a list of strings.
    Names,
}

/// Every key that can be overridden: its path in the config and its kind. The test
/// `every_scalar_key_of_the_config_is_overridable` keeps this in step with the config
/// structs.
const KEYS: &[(&str, Kind)] = &[
    ("node", Kind::Text),
    ("listen", Kind::Text),
    ("data_dir", Kind::Text),
    ("dead_letter_dir", Kind::Text),
    ("allow_unauthenticated", Kind::Boolean),
    ("max_body_bytes", Kind::Integer),
    ("ack_timeout_ms", Kind::Integer),
    ("max_concurrent_batches", Kind::Integer),
    ("max_body_memory_bytes", Kind::Integer),
    ("max_answer_memory_bytes", Kind::Integer),
    ("max_query_spill_bytes", Kind::Integer),
    ("query_niceness", Kind::Integer),
    ("min_free_bytes", Kind::Integer),
    ("max_timestamp_ahead_s", Kind::Integer),
    ("require_auth_for_stats", Kind::Boolean),
    ("allow_unauthenticated_recent", Kind::Boolean),
    ("allowed_hosts", Kind::Names),
    ("log_level", Kind::Text),
    ("header_read_timeout_ms", Kind::Integer),
    ("idle_timeout_ms", Kind::Integer),
    ("max_connections", Kind::Integer),
    ("max_connections_per_client", Kind::Integer),
    ("listen_backlog", Kind::Integer),
    ("max_streams", Kind::Integer),
    ("max_tracked_nodes", Kind::Integer),
    ("max_tracked_topics", Kind::Integer),
    ("refuse_start_on_damaged_store", Kind::Boolean),
    ("shutdown_timeout_s", Kind::Integer),
    ("signing_key", Kind::Text),
    ("checkpoints.every_records", Kind::Integer),
    ("checkpoints.every_seconds", Kind::Integer),
    ("checkpoints.piece_bytes", Kind::Integer),
    ("checkpoints.seal_every_batch", Kind::Boolean),
    ("retention.catch_up_rate", Kind::Number),
    ("tls.cert", Kind::Text),
    ("tls.key", Kind::Text),
    ("tls.client_ca", Kind::Text),
    ("tls.client_auth", Kind::Text),
];

/// Arrays of tables: one variable cannot say which entry it means.
const LISTS: &[&str] = &["keys", "stats_keys", "destinations", "witnesses", "sources"];

/// Tables whose keys are overridable one by one.
const TABLES: &[&str] = &["tls", "checkpoints", "retention"];

/// The variable of a key path: `tls.cert` -> `AUDITRAIL_TLS__CERT`.
fn variable_of(path: &str) -> String {
    format!("{PREFIX}{}", path.replace('.', "__").to_ascii_uppercase())
}

/// Values of keys named like a secret or a key file are never shown (logs, errors).
fn shown(path: &str, text: &str) -> String {
    let name = path.rsplit('.').next().unwrap_or(path);
    if name.contains("secret") || name.contains("key") {
        "(hidden)".to_owned()
    } else {
        format!("{text:?}")
    }
}

/// Why the environment cannot be applied.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum EnvError {
    /// An `AUDITRAIL_` variable whose name or value is not UTF-8.
    #[error("{variable}: not valid UTF-8 (name or value)")]
    NotUnicode {
        /// The name, lossily decoded.
        variable: String,
    },
    /// No config key of that name.
    #[error("{variable}: no server config key of that name; the overridable keys are {known}")]
    UnknownKey {
        /// The variable.
        variable: String,
        /// The variables that exist, comma-separated.
        known: String,
    },
    /// A list of tables (`[[keys]]`, `[[destinations]]`).
    #[error(
        "{variable}: [[{key}]] is a list of tables and cannot be set from the environment; \
         write it in the config file"
    )]
    List {
        /// The variable.
        variable: String,
        /// The list's key.
        key: &'static str,
    },
    /// A whole table (`[tls]`): its keys are set one by one.
    #[error("{variable}: [{key}] is a table; set its keys one by one: {keys}")]
    Table {
        /// The variable.
        variable: String,
        /// The table's key.
        key: &'static str,
        /// Its variables, comma-separated.
        keys: String,
    },
    /// The value does not fit the key, or the config's checks refuse it.
    #[error("{variable}: invalid value {value}: {reason}")]
    Invalid {
        /// The variable.
        variable: String,
        /// The value as written (quoted), or `(hidden)` for a secret or key.
        value: String,
        /// What is wrong.
        #[source]
        reason: EnvValueError,
    },
}

/// Why a variable's value is refused ([`EnvError::Invalid`]).
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum EnvValueError {
    /// An integer key's value is no TOML integer.
    #[error("expected an integer")]
    NotAnInteger,
    /// A number key's value is no TOML integer or float.
    #[error("expected a number")]
    NotANumber,
    /// A boolean key's value is not `true` or `false`.
    #[error("expected true or false")]
    NotABoolean,
    /// The typed parse refuses the value, written into the config.
    #[error(transparent)]
    Value(Box<super::ValueError>),
    /// The config's checks refuse the value.
    #[error(transparent)]
    Check(Box<super::ConfigCheckError>),
}

/// One key set by the environment, for the log of the start and for error messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvOverride {
    /// The variable, e.g. `AUDITRAIL_LISTEN`.
    pub variable: String,
    /// The key path it sets, e.g. `listen` or `checkpoints.every_records`.
    pub key: String,
    /// The value as written (quoted), or `(hidden)` when the key is named like a secret
    /// or a key file: safe to log.
    pub shown_value: String,
}

impl EnvOverride {
    /// `reason`, about this key ([`EnvOverride::blamed_by`]), as an error naming the
    /// variable.
    pub(crate) fn error(&self, reason: EnvValueError) -> EnvError {
        EnvError::Invalid {
            variable: self.variable.clone(),
            value: self.shown_value.clone(),
            reason,
        }
    }

    /// Whether `message` is about this key.
    pub(crate) fn blamed_by(&self, message: &str) -> bool {
        message
            .strip_prefix(self.key.as_str())
            .is_some_and(|rest| rest.starts_with(':') || rest.starts_with(' '))
    }
}

/// The `AUDITRAIL_` variables of `env` that are config overrides, sorted by name.
fn overrides_of<I, K, V>(env: I) -> Result<Vec<(String, String)>, EnvError>
where
    I: IntoIterator<Item = (K, V)>,
    K: AsRef<OsStr>,
    V: AsRef<OsStr>,
{
    let mut found = Vec::new();
    for (name, value) in env {
        let (name, value) = (name.as_ref(), value.as_ref());
        let Some(name_text) = name.to_str() else {
            let lossy = name.to_string_lossy();
            if lossy.starts_with(PREFIX) {
                return Err(EnvError::NotUnicode {
                    variable: lossy.into_owned(),
                });
            }
            continue;
        };
        if !name_text.starts_with(PREFIX)
            || RESERVED_VARIABLES.contains(&name_text)
            || RESERVED_PREFIXES.iter().any(|p| name_text.starts_with(p))
        {
            continue;
        }
        let value = value.to_str().ok_or_else(|| EnvError::NotUnicode {
            variable: name_text.to_owned(),
        })?;
        found.push((name_text.to_owned(), value.to_owned()));
    }
    found.sort();
    Ok(found)
}

/// The value of a key of `kind` written as `text`.
fn typed(kind: Kind, text: &str) -> Result<Value, EnvValueError> {
    let toml_value = || toml::Value::deserialize(toml::de::ValueDeserializer::new(text)).ok();
    match kind {
        Kind::Text => Ok(Value::String(text.to_owned())),
        Kind::Integer => match toml_value() {
            Some(toml::Value::Integer(i)) => Ok(Value::from(i)),
            _ => Err(EnvValueError::NotAnInteger),
        },
        Kind::Number => match toml_value() {
            Some(toml::Value::Integer(i)) => Ok(Value::from(i)),
            Some(toml::Value::Float(f)) => Ok(Value::from(f)),
            _ => Err(EnvValueError::NotANumber),
        },
        Kind::Boolean => match toml_value() {
            Some(toml::Value::Boolean(b)) => Ok(Value::Bool(b)),
            _ => Err(EnvValueError::NotABoolean),
        },
        Kind::Names => Ok(Value::Array(
            text.split(',')
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .map(|n| Value::String(n.to_owned()))
                .collect(),
        )),
    }
}

fn known_variables(of: impl Fn(&str) -> bool) -> String {
    KEYS.iter()
        .filter(|(path, _)| of(path))
        .map(|(path, _)| variable_of(path))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Writes the overrides of `env` into `config` (the parsed file, or an empty table for
/// the defaults). Returns what was set, in variable order.
pub(crate) fn apply<I, K, V>(
    env: I,
    config: &mut Map<String, Value>,
) -> Result<Vec<EnvOverride>, EnvError>
where
    I: IntoIterator<Item = (K, V)>,
    K: AsRef<OsStr>,
    V: AsRef<OsStr>,
{
    let mut applied = Vec::new();
    for (variable, text) in overrides_of(env)? {
        if let Some(&key) = LISTS.iter().find(|k| variable_of(k) == variable) {
            return Err(EnvError::List { variable, key });
        }
        if let Some(&key) = TABLES.iter().find(|k| variable_of(k) == variable) {
            let prefix = format!("{key}.");
            return Err(EnvError::Table {
                variable,
                key,
                keys: known_variables(|p| p.starts_with(&prefix)),
            });
        }
        let Some(&(path, kind)) = KEYS.iter().find(|(p, _)| variable_of(p) == variable) else {
            return Err(EnvError::UnknownKey {
                variable,
                known: known_variables(|_| true),
            });
        };
        let value = typed(kind, &text).map_err(|reason| EnvError::Invalid {
            variable: variable.clone(),
            value: shown(path, &text),
            reason,
        })?;
        let table = match path.split_once('.') {
            None => &mut *config,
            Some((section, _)) => {
                let entry = config
                    .entry(section.to_owned())
                    .or_insert_with(|| Value::Object(Map::new()));
                match entry {
                    Value::Object(t) => t,
                    // The file's own `tls = 3`: the typed parse reports it, as without
                    // the environment.
                    _ => continue,
                }
            }
        };
        let name = path.rsplit('.').next().unwrap_or(path);
        table.insert(name.to_owned(), value);
        applied.push(EnvOverride {
            shown_value: shown(path, &text),
            variable,
            key: path.to_owned(),
        });
    }
    Ok(applied)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(env: &[(&str, &str)], file: Value) -> Result<(Value, Vec<EnvOverride>), EnvError> {
        let Value::Object(mut map) = file else {
            panic!("a table");
        };
        let applied = apply(env.iter().copied(), &mut map)?;
        Ok((Value::Object(map), applied))
    }

    #[test]
    fn variables_set_top_level_and_table_keys_typed_by_the_key() {
        let (config, applied) = run(
            &[
                ("AUDITRAIL_LISTEN", "0.0.0.0:9980"),
                ("AUDITRAIL_NODE", "123"),
                ("AUDITRAIL_MAX_BODY_BYTES", "1_000"),
                ("AUDITRAIL_CHECKPOINTS__SEAL_EVERY_BATCH", "false"),
                ("AUDITRAIL_TLS__CERT", "c.pem"),
                ("PATH", "/bin"),
            ],
            json!({"listen": "127.0.0.1:1", "tls": {"key": "k.pem"}}),
        )
        .unwrap();
        assert_eq!(
            config,
            json!({
                "listen": "0.0.0.0:9980",
                "node": "123",
                "max_body_bytes": 1000,
                "checkpoints": {"seal_every_batch": false},
                "tls": {"key": "k.pem", "cert": "c.pem"},
            })
        );
        let vars: Vec<&str> = applied.iter().map(|o| o.variable.as_str()).collect();
        assert_eq!(
            vars,
            [
                "AUDITRAIL_CHECKPOINTS__SEAL_EVERY_BATCH",
                "AUDITRAIL_LISTEN",
                "AUDITRAIL_MAX_BODY_BYTES",
                "AUDITRAIL_NODE",
                "AUDITRAIL_TLS__CERT"
            ]
        );
    }

    #[test]
    fn a_value_of_the_wrong_type_names_the_variable() {
        let err = run(&[("AUDITRAIL_MAX_BODY_BYTES", "abc")], json!({})).unwrap_err();
        assert_eq!(
            err.to_string(),
            "AUDITRAIL_MAX_BODY_BYTES: invalid value \"abc\": expected an integer"
        );
        assert!(
            matches!(
                err,
                EnvError::Invalid {
                    reason: EnvValueError::NotAnInteger,
                    ..
                }
            ),
            "{err:?}"
        );
        let err = run(&[("AUDITRAIL_ALLOW_UNAUTHENTICATED", "yes")], json!({})).unwrap_err();
        assert!(err.to_string().contains("expected true or false"), "{err}");
    }

    #[test]
    fn unknown_variables_list_the_known_ones_and_reserved_ones_are_left_alone() {
        let err = run(&[("AUDITRAIL_LISEN", "x")], json!({})).unwrap_err();
        let text = err.to_string();
        assert!(
            text.starts_with("AUDITRAIL_LISEN: no server config key"),
            "{text}"
        );
        assert!(
            text.contains("AUDITRAIL_LISTEN") && text.contains("AUDITRAIL_TLS__CLIENT_CA"),
            "{text}"
        );
        // Lower case is not our spelling either.
        assert!(run(&[("AUDITRAIL_listen", "x")], json!({})).is_err());
        let (config, applied) = run(
            &[
                ("AUDITRAIL_LOG_FORMAT", "json"),
                ("AUDITRAIL_KAFKA_BROKERS", "b:9092"),
                ("AUDITRAIL_CHROMEDRIVER", "/usr/bin/chromedriver"),
                ("AUDITRAIL_S3S_FS", "/usr/local/bin/s3s-fs"),
                ("AUDITRAIL_REQUIRE_ROOT_TESTS", "1"),
                ("AUDITRAIL_TEST_DIR", "/tmp"),
                ("auditrail_listen", "x"),
            ],
            json!({}),
        )
        .unwrap();
        assert_eq!((config, applied.len()), (json!({}), 0));
    }

    #[test]
    fn lists_and_whole_tables_are_not_settable() {
        let err = run(&[("AUDITRAIL_KEYS", "x")], json!({})).unwrap_err();
        assert!(matches!(err, EnvError::List { key: "keys", .. }), "{err}");
        let err = run(&[("AUDITRAIL_TLS", "x")], json!({})).unwrap_err();
        assert!(err.to_string().contains("AUDITRAIL_TLS__CERT"), "{err}");
    }

    #[test]
    fn values_of_keys_named_like_secrets_are_never_shown() {
        let (_, applied) = run(&[("AUDITRAIL_TLS__KEY", "/s/k.pem")], json!({})).unwrap();
        assert_eq!(applied[0].shown_value, "(hidden)");
        let err = run(&[("AUDITRAIL_SIGNING_KEY", "")], json!({}))
            .map(|(_, a)| a[0].error(EnvValueError::NotAnInteger).to_string())
            .unwrap();
        assert!(!err.contains("\"\""), "{err}");
        assert!(err.contains("(hidden)"), "{err}");
    }

    #[cfg(unix)]
    #[test]
    fn a_non_utf8_auditrail_variable_is_an_error_and_others_are_ignored() {
        use std::ffi::OsString;
        use std::os::unix::ffi::OsStringExt;
        let bad = OsString::from_vec(b"\xff".to_vec());
        let mut map = Map::new();
        assert!(apply([(OsString::from("OTHER"), bad.clone())], &mut map).is_ok());
        let err = apply([(OsString::from("AUDITRAIL_LISTEN"), bad)], &mut map).unwrap_err();
        assert!(err.to_string().contains("not valid UTF-8"), "{err}");
    }
}
