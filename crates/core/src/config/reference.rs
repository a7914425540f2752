//! The reference product's spellings of config keys, in one table for every config
//! parser (a node's `[[targets]]`, an event server's top level, `[[keys]]` and
//! `[[destinations]]`).
//!
//! Users migrating from the reference product write its camelCase names (`authKey`,
//! `routingKeyMode = "STATIC_IF_MISSING"`, `partitioningPeriod = "DAY"`). Where the
//! meaning is identical, the spelling is an alias: the key is renamed to ours (and an
//! upper-case enum value lower-cased) before the typed parse, so every check runs on
//! our key. Where it is not, the key is refused with an error that names ours, instead
//! of serde's bare "unknown field" that leaves the user guessing.
//!
//! Both tables are in docs/configuration.md ("Migrating from the reference product");
//! keep them in step.

use serde_json::{Map, Value};
use thiserror::Error;

/// Where the docs explain each spelling.
pub const MIGRATION_DOC: &str = "docs/configuration.md#migrating-from-the-reference-product";

/// Which table of a config file a spelling belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Scope<'a> {
    /// The top level of an event server's config.
    Server,
    /// One entry of an event server's `[[keys]]` or `[[stats_keys]]`.
    ServerKey,
    /// The keys every `[[targets]]` and `[[destinations]]` entry has (the dispatcher's).
    Entry,
    /// The own keys of a target type (`"eventserver"`, `"file"`, `"store"`...).
    Type(&'a str),
}

impl Scope<'_> {
    fn place(self) -> String {
        match self {
            Scope::Server => "at the top of the server config".to_owned(),
            Scope::ServerKey => "in [[keys]] and [[stats_keys]]".to_owned(),
            Scope::Entry => "in every [[targets]] and [[destinations]] entry".to_owned(),
            Scope::Type(t) => format!("in entries of type {t:?}"),
        }
    }
}

/// What auditrail does with one reference spelling.
#[derive(Debug, Clone, Copy)]
enum Meaning {
    /// The same key: renamed to ours. `lower_value`: the reference writes the values of
    /// this enum in upper case (`STATIC_IF_MISSING`), auditrail in lower case.
    Alias { lower_value: bool },
    /// No key of identical meaning: refused, naming ours and how it differs.
    Differs { note: &'static str },
}

/// One reference spelling.
#[derive(Debug, Clone, Copy)]
struct Spelling {
    scope: Scope<'static>,
    theirs: &'static str,
    ours: &'static str,
    meaning: Meaning,
}

const fn alias(scope: Scope<'static>, theirs: &'static str, ours: &'static str) -> Spelling {
    Spelling {
        scope,
        theirs,
        ours,
        meaning: Meaning::Alias { lower_value: false },
    }
}

const fn enum_alias(scope: Scope<'static>, theirs: &'static str, ours: &'static str) -> Spelling {
    Spelling {
        scope,
        theirs,
        ours,
        meaning: Meaning::Alias { lower_value: true },
    }
}

const fn differs(
    scope: Scope<'static>,
    theirs: &'static str,
    ours: &'static str,
    note: &'static str,
) -> Spelling {
    Spelling {
        scope,
        theirs,
        ours,
        meaning: Meaning::Differs { note },
    }
}

const FILTER_MODE: &str = "there is no separate filtering mode: leave the list out (or \
                           write \"all\") for ALL, list the values for SELECTED";
const STORE_FLUSH: &str = "a table `flush = { every_bytes = N, every_seconds = S }` (both \
                           keys together); without it every batch is fsynced";

/// The table. Aliases only where the meaning is identical; everything else refused.
const SPELLINGS: &[Spelling] = &[
    // Event server, top level.
    alias(Scope::Server, "dataDir", "data_dir"),
    differs(
        Scope::Server,
        "listenPort",
        "listen",
        "an address and port such as \"0.0.0.0:9980\", not a port alone",
    ),
    differs(
        Scope::Server,
        "requireAuthenticationForEvents",
        "[[keys]]",
        "authentication is on as soon as [[keys]] lists a key; without keys, a \
         non-loopback address needs allow_unauthenticated = true",
    ),
    differs(
        Scope::Server,
        "eventsAuthenticationKeys",
        "[[keys]]",
        "one [[keys]] table per key, with `id` and `secret` (or `secret_sha256`)",
    ),
    alias(
        Scope::Server,
        "requireAuthenticationForStats",
        "require_auth_for_stats",
    ),
    differs(
        Scope::Server,
        "statsAuthenticationKeys",
        "[[stats_keys]]",
        "one [[stats_keys]] table per key, with `id` and `secret` (or `secret_sha256`)",
    ),
    // Event server, one key.
    differs(
        Scope::ServerKey,
        "authKey",
        "secret",
        "or `secret_sha256`, its hex SHA-256, so that the file holds no secret",
    ),
    // Every target and destination: the dispatcher's filter.
    differs(Scope::Entry, "topicsFiltering", "topics", FILTER_MODE),
    differs(
        Scope::Entry,
        "routingKeysFiltering",
        "routing_keys",
        FILTER_MODE,
    ),
    alias(Scope::Entry, "routingKeys", "routing_keys"),
    alias(Scope::Entry, "requiredAuthKey", "required_key"),
    // The event-server target of a node.
    alias(Scope::Type("eventserver"), "serverUrl", "url"),
    alias(Scope::Type("eventserver"), "authKey", "auth_key"),
    alias(
        Scope::Type("eventserver"),
        "trustAllSSLCertificates",
        "trust_all_certificates",
    ),
    enum_alias(
        Scope::Type("eventserver"),
        "routingKeyMode",
        "routing_key_mode",
    ),
    alias(Scope::Type("eventserver"), "routingKey", "routing_key"),
    // The local log target.
    alias(Scope::Type("file"), "loggerPrefix", "logger_prefix"),
    alias(Scope::Type("file"), "loggerSuffix", "logger_suffix"),
    alias(
        Scope::Type("file"),
        "appendTopicToLogger",
        "append_topic_to_logger",
    ),
    // The server's store (the reference's file destination).
    enum_alias(Scope::Type("store"), "partitioningPeriod", "partitioning"),
    alias(Scope::Type("store"), "folderByTopic", "folder_by_topic"),
    alias(
        Scope::Type("store"),
        "folderByRoutingKey",
        "folder_by_routing_key",
    ),
    differs(
        Scope::Type("store"),
        "flushEveryBytes",
        "flush",
        STORE_FLUSH,
    ),
    differs(Scope::Type("store"), "flushEveryS", "flush", STORE_FLUSH),
];

/// A reference spelling that auditrail does not take as it is.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ReferenceSpellingError {
    /// A key auditrail has under another name, with a different shape or meaning.
    #[error("unknown key {theirs:?}: auditrail calls this {ours:?} {place}; {note} (see {MIGRATION_DOC})")]
    Differs {
        /// The reference product's spelling, as written.
        theirs: &'static str,
        /// Ours.
        ours: &'static str,
        /// Which table.
        place: String,
        /// How ours differs.
        note: &'static str,
    },
    /// The reference spelling and ours of the same key, both written.
    #[error(
        "{theirs:?} and {ours:?} are the same key ({theirs:?} is the reference product's \
         spelling): keep one (see {MIGRATION_DOC})"
    )]
    Both {
        /// The reference product's spelling.
        theirs: &'static str,
        /// Ours.
        ours: &'static str,
    },
}

impl ReferenceSpellingError {
    /// The key at fault, as written in the file.
    pub fn key(&self) -> &str {
        match self {
            ReferenceSpellingError::Differs { theirs, .. }
            | ReferenceSpellingError::Both { theirs, .. } => theirs,
        }
    }
}

/// Renames the reference spellings of `scope` in `table` to ours (lower-casing the
/// values of enum keys), or refuses the first one that has no identical key. Runs
/// before the typed parse, so that an alias is checked like our own key.
pub fn apply(
    scope: Scope<'_>,
    table: &mut Map<String, Value>,
) -> Result<(), ReferenceSpellingError> {
    for s in SPELLINGS.iter().filter(|s| scope == s.scope) {
        let Some(mut value) = table.remove(s.theirs) else {
            continue;
        };
        match s.meaning {
            Meaning::Differs { note } => {
                return Err(ReferenceSpellingError::Differs {
                    theirs: s.theirs,
                    ours: s.ours,
                    place: scope.place(),
                    note,
                })
            }
            Meaning::Alias { lower_value } => {
                if table.contains_key(s.ours) {
                    return Err(ReferenceSpellingError::Both {
                        theirs: s.theirs,
                        ours: s.ours,
                    });
                }
                if let (true, Value::String(text)) = (lower_value, &mut value) {
                    *text = text.to_ascii_lowercase();
                }
                table.insert(s.ours.to_owned(), value);
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn table(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    #[test]
    fn an_alias_is_renamed_and_its_enum_value_lower_cased() {
        let mut t = table(json!({"routingKeyMode": "STATIC_IF_MISSING", "authKey": "k"}));
        apply(Scope::Type("eventserver"), &mut t).unwrap();
        assert_eq!(
            Value::Object(t),
            json!({"routing_key_mode": "static_if_missing", "auth_key": "k"})
        );
    }

    #[test]
    fn the_same_spelling_means_what_its_scope_says() {
        // `authKey` is the node's bearer key in an eventserver target, but not a
        // server key's secret (whose shape differs).
        let mut t = table(json!({"id": "a", "authKey": "k"}));
        let err = apply(Scope::ServerKey, &mut t).unwrap_err();
        assert_eq!(err.key(), "authKey");
        let text = err.to_string();
        assert!(
            text.starts_with(
                "unknown key \"authKey\": auditrail calls this \"secret\" in [[keys]]"
            ),
            "{text}"
        );
        assert!(text.contains(MIGRATION_DOC), "{text}");
        // Another type's spellings are left to its own parser.
        let mut t = table(json!({"authKey": "k"}));
        apply(Scope::Type("file"), &mut t).unwrap();
        assert!(t.contains_key("authKey"));
    }

    #[test]
    fn both_spellings_of_one_key_are_refused() {
        let mut t = table(json!({"dataDir": "a", "data_dir": "b"}));
        let err = apply(Scope::Server, &mut t).unwrap_err();
        assert!(matches!(err, ReferenceSpellingError::Both { .. }), "{err}");
    }
}
