//! Why [`ServerConfig::check`](super::ServerConfig::check) (and the checks at start and
//! reload: `check_exposure`, `check_witnesses_elsewhere`; and those of the parse itself,
//! of `listen`, `data_dir`, the destinations and witnesses) refuse a parsed config. Each
//! message starts with the key path it is about (`max_body_bytes: ...`,
//! `keys[2]: ...`): the environment's overrides are blamed by that prefix
//! (`EnvOverride::blamed_by`). Paths are `Box<Path>`, keeping the error small enough to
//! return by value.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use thiserror::Error;

use super::LOG_LEVELS;

/// A value of a parsed config that its checks refuse, naming the key.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ConfigCheckError {
    /// A count or duration that must be at least 1.
    #[error("{key}: must be at least 1")]
    Zero {
        /// The key.
        key: &'static str,
    },
    /// `max_body_memory_bytes` below the cost of one largest batch.
    #[error(
        "max_body_memory_bytes: {memory} cannot hold one batch of max_body_bytes = {body} \
         (counted at 14 bytes per body byte: {largest}); raise it or lower max_body_bytes"
    )]
    BodyMemory {
        /// `max_body_memory_bytes`.
        memory: usize,
        /// `max_body_bytes`.
        body: usize,
        /// What one batch of `max_body_bytes` is counted as.
        largest: usize,
    },
    /// An `allowed_hosts` entry that is no host name.
    #[error(
        "allowed_hosts: {host:?} is not a host name (letters, digits, '-', '_' and '.'; \
         no scheme, port or path)"
    )]
    AllowedHost {
        /// The entry.
        host: String,
    },
    /// A duration beyond its bound.
    #[error("{key}: {source}")]
    TooLong {
        /// The key.
        key: &'static str,
        /// The bound and the value.
        #[source]
        source: auditrail_core::limits::TooLong,
    },
    /// `log_level` is refused.
    #[error(transparent)]
    LogLevel(#[from] LogLevelError),
    /// `queries.time_limit` out of range.
    #[error("queries.time_limit: {limit:?}: must be more than 0 and at most {max_s} s")]
    QueryTimeLimit {
        /// The limit given.
        limit: Duration,
        /// The largest, in seconds.
        max_s: u64,
    },
    /// `query_niceness` above 19.
    #[error(
        "query_niceness: {niceness}: a niceness is 0 (the server's priority) to 19 (the lowest)"
    )]
    QueryNiceness {
        /// The niceness given.
        niceness: u8,
    },
    /// `queries.memory_limit_bytes` too small for a worker.
    #[error("queries.memory_limit_bytes: {bytes}: a worker needs at least {min_mib} MiB")]
    QueryMemory {
        /// The limit given.
        bytes: u64,
        /// The smallest, in MiB.
        min_mib: u64,
    },
    /// `tls.client_auth` without `tls.client_ca`.
    #[error("tls.client_auth: needs tls.client_ca (the CA of the client certificates)")]
    ClientAuthWithoutCa,
    /// A `[[keys]]` or `[[stats_keys]]` entry is refused by itself.
    #[error("{list}[{index}]: {source}")]
    Key {
        /// `keys` or `stats_keys`.
        list: &'static str,
        /// The entry's index.
        index: usize,
        /// What is wrong with it.
        #[source]
        source: crate::auth::KeyError,
    },
    /// Two entries of a key list with one id.
    #[error("{list}[{index}]: id {id:?} is used twice")]
    KeyIdTwice {
        /// `keys` or `stats_keys`.
        list: &'static str,
        /// The second entry's index.
        index: usize,
        /// The id.
        id: String,
    },
    /// Two entries of a key list with one secret.
    #[error(
        "{list}[{index}] (id {id:?}) has the same secret as {list}[{first}] (id \
         {first_id:?}): a request with it is always taken as key {first_id:?}; \
         give each key a secret of its own"
    )]
    SameSecret {
        /// `keys` or `stats_keys`.
        list: &'static str,
        /// The second entry's index.
        index: usize,
        /// Its id.
        id: String,
        /// The first entry's index.
        first: usize,
        /// Its id.
        first_id: String,
    },
    /// A `client_cert_subject` without `[tls] client_ca`.
    #[error(
        "{list}[{index}]: client_cert_subject needs [tls] client_ca (the CA \
         that signs client certificates)"
    )]
    SubjectWithoutCa {
        /// `keys` or `stats_keys`.
        list: &'static str,
        /// The entry's index.
        index: usize,
    },
    /// Two entries of a key list with one certificate subject.
    #[error("{list}[{index}]: client_cert_subject {subject:?} is used twice")]
    SubjectTwice {
        /// `keys` or `stats_keys`.
        list: &'static str,
        /// The second entry's index.
        index: usize,
        /// The subject.
        subject: String,
    },
    /// A destination's `required_key` that names no `[[keys]]` entry: the destination
    /// would take no event, ever, and its events would go only to the others.
    #[error(
        "destinations[{index}] ({name:?}): required_key {key:?} names no [[keys]] entry \
         ({}): the destination would accept no event; give the id of one of the \
         [[keys]], or remove required_key",
        known_ids(known)
    )]
    RequiredKeyUnknown {
        /// The destination's index.
        index: usize,
        /// Its name.
        name: String,
        /// The `required_key` given.
        key: String,
        /// The ids of the `[[keys]]`, in config order.
        known: Vec<String>,
    },
    /// `require_auth_for_stats` without a stats key.
    #[error("require_auth_for_stats = true needs at least one [[stats_keys]] entry")]
    StatsWithoutKeys,
    /// Two destinations (or sources) given one folder.
    #[error(
        "{what} `{key}` and {other} `{other_key}` are the same folder {}: \
         each needs a folder of its own",
        path.display()
    )]
    SameFolder {
        /// Who has the folder (`destination "a"`, `sources[0] (kafka)`).
        what: String,
        /// Its key.
        key: &'static str,
        /// Who else has it.
        other: String,
        /// Their key.
        other_key: &'static str,
        /// The folder.
        path: Box<Path>,
    },
    /// A destination's folder inside another's.
    #[error(
        "{what}: its `{key}` folder {} lies inside the `{other_key}` folder {} of \
         {other}; a destination's folder holds only its own files (whatever reads \
         it reads every file under it), so give each a folder beside the others, \
         not inside one",
        path.display(),
        other_path.display()
    )]
    FolderInside {
        /// Whose folder lies inside.
        what: String,
        /// Its key.
        key: &'static str,
        /// The folder.
        path: Box<Path>,
        /// Whose folder holds it.
        other: String,
        /// Their key.
        other_key: &'static str,
        /// Their folder.
        other_path: Box<Path>,
    },
    /// A destination's folder holding one of the data dir's own files.
    #[error(
        "{what}: its `{key}` folder {} holds the data dir's {thing} {}; a \
         destination's folder holds only its own files, so give it a folder \
         of its own inside the data dir {} (such as \"store\"), not the data \
         dir or a folder above it",
        path.display(),
        file.display(),
        data_dir.display()
    )]
    HoldsOwnFile {
        /// Whose folder.
        what: String,
        /// Its key.
        key: &'static str,
        /// The folder.
        path: Box<Path>,
        /// Which of the data dir's files (`signing key`, `lock file`).
        thing: &'static str,
        /// That file.
        file: Box<Path>,
        /// The data dir.
        data_dir: Box<Path>,
    },
    /// A destination's folder inside one of the data dir's own files or folders.
    #[error(
        "{what}: its `{key}` folder {} lies inside the data dir's {thing} {}; \
         give it a folder of its own",
        path.display(),
        file.display()
    )]
    InsideOwnFile {
        /// Whose folder.
        what: String,
        /// Its key.
        key: &'static str,
        /// The folder.
        path: Box<Path>,
        /// Which of the data dir's files (`dead-letter folder`).
        thing: &'static str,
        /// That file.
        file: Box<Path>,
    },
    /// The stores' archives collide.
    #[error(transparent)]
    Archive(#[from] auditrail_store::ArchivePlaceError),
    /// A witness whose url is this server's own address.
    #[error(
        "witnesses[{index}] ({name:?}): url {url:?} is this server's own listen address \
         ({listen}): a witness must be out of this server's reach (another event \
         server, a Kafka topic); the server would copy its checkpoints into its \
         own store, and each copy would be checkpointed and copied again"
    )]
    WitnessIsSelf {
        /// The entry's index.
        index: usize,
        /// Its name.
        name: String,
        /// Its url.
        url: String,
        /// This server's address.
        listen: SocketAddr,
    },
    /// A non-loopback address without keys, not allowed.
    #[error(
        "refusing to listen on {listen} without authentication: configure [[keys]], listen on \
         a loopback address, or pass --allow-unauthenticated (config: \
         allow_unauthenticated = true)"
    )]
    Unauthenticated {
        /// The address.
        listen: SocketAddr,
    },
    /// `listen` is no socket address.
    #[error("listen: {value:?} is not an address:port: {source}")]
    Listen {
        /// The value given.
        value: String,
        /// Why it is none.
        #[source]
        source: std::net::AddrParseError,
    },
    /// `data_dir`, relative, is taken in the config file's folder, where it does not
    /// exist yet, while the folder of that name in the working directory (where
    /// earlier versions took it) holds a server's data.
    #[error(
        "data_dir: {:?} is taken in the config file's folder, {}, which does not exist yet, \
         while {} (in the working directory, where earlier versions took it) holds this \
         server's data (stores, signing key): move that folder to {}, or set \
         data_dir = {:?}; starting anew would start empty stores with a new key",
        written,
        data_dir.display(),
        old.display(),
        data_dir.display(),
        old.display().to_string()
    )]
    DataDirLeftBehind {
        /// `data_dir` as written.
        written: Box<Path>,
        /// It, in the config file's folder.
        data_dir: Box<Path>,
        /// It, in the working directory, holding the data.
        old: Box<Path>,
    },
    /// A config file with no `[[destinations]]` (and no `[[sources]]`).
    #[error(
        "no [[destinations]]: the server would store nothing; add at least one \
         (e.g. type = \"store\")"
    )]
    NoDestinations,
    /// A witness of type `store`.
    #[error(
        "witnesses[{index}]: a witness of type \"store\" would be a folder this server can \
         rewrite; a witness must be out of its reach: another event server (type = \
         \"eventserver\"), a Kafka topic (type = \"kafka\"), or a file on another machine"
    )]
    StoreWitness {
        /// The entry's index.
        index: usize,
    },
    /// Two destinations with one name.
    #[error("two destinations are named {name:?}; names must be unique")]
    DestinationNameTwice {
        /// The name.
        name: String,
    },
}

/// The `[[keys]]` ids a [`ConfigCheckError::RequiredKeyUnknown`] could have named.
pub(crate) fn known_ids(known: &[String]) -> String {
    if known.is_empty() {
        return "there are no [[keys]]".to_owned();
    }
    let ids: Vec<String> = known.iter().map(|id| format!("{id:?}")).collect();
    format!("the [[keys]] ids are {}", ids.join(", "))
}

/// `log_level` is refused: what it says and why.
#[derive(Debug, Error)]
#[error(
    "log_level: {text:?} {why}; accepted: a level ({LOG_LEVELS}) or tracing \
     EnvFilter directives such as \"warn,auditrail=debug\""
)]
pub struct LogLevelError {
    /// The value.
    pub text: String,
    /// What is wrong.
    pub why: LogLevelWhy,
}

/// What is wrong with a `log_level` ([`LogLevelError`]).
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum LogLevelWhy {
    /// Nothing but spaces.
    #[error("is empty")]
    Empty,
    /// `target=level` whose level is none.
    #[error("names the level {level:?} in {directive:?}, which is no level")]
    NoLevel {
        /// The level written.
        level: String,
        /// The directive.
        directive: String,
    },
    /// A bare word that is no level (and so would be taken as a target).
    #[error("is not a level (a target alone needs its level: \"{directive}=trace\")")]
    NotALevel {
        /// The directive.
        directive: String,
    },
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use std::error::Error as _;

    use super::super::{EnvError, EnvValueError, ServerConfig, ServerConfigError};
    use super::ConfigCheckError;

    const STORE: &str = "[[destinations]]\ntype = \"store\"\npath = \"s\"\n";

    fn refused(text: &str, env: &[(&str, &str)]) -> ServerConfigError {
        let registry = crate::registry(&[]).unwrap();
        ServerConfig::parse_with_env(text, "s.toml", false, &registry, env.iter().copied())
            .unwrap_err()
    }

    fn check(err: &ServerConfigError) -> &ConfigCheckError {
        match err {
            ServerConfigError::Check { source, .. } => source,
            _ => panic!("{err:?}"),
        }
    }

    #[test]
    fn a_listen_address_that_is_none_keeps_the_address_parse_error() {
        let err = refused(&format!("listen = \"nowhere\"\n{STORE}"), &[]);
        let ConfigCheckError::Listen { value, source } = check(&err) else {
            panic!("{err:?}");
        };
        assert_eq!(value, "nowhere");
        assert_eq!(
            err.to_string(),
            format!("s.toml: listen: \"nowhere\" is not an address:port: {source}")
        );
        // From the environment: the same typed error, against the variable.
        let err = refused(STORE, &[("AUDITRAIL_LISTEN", "nowhere")]);
        let ServerConfigError::Environment(EnvError::Invalid {
            reason: EnvValueError::Check(check),
            ..
        }) = &err
        else {
            panic!("{err:?}");
        };
        assert!(
            matches!(**check, ConfigCheckError::Listen { .. })
                && check
                    .source()
                    .is_some_and(|s| s.is::<std::net::AddrParseError>()),
            "{check:?}"
        );
    }

    #[test]
    fn a_file_without_destinations_is_refused_by_its_rule() {
        let err = refused("listen = \"127.0.0.1:1\"\n", &[]);
        assert!(
            matches!(check(&err), ConfigCheckError::NoDestinations),
            "{err:?}"
        );
        assert!(
            err.to_string().starts_with("s.toml: no [[destinations]]: "),
            "{err}"
        );
    }

    #[test]
    fn a_witness_of_type_store_is_refused_naming_its_entry() {
        let err = refused(
            &format!("{STORE}[[witnesses]]\ntype = \"store\"\npath = \"w\"\n"),
            &[],
        );
        assert!(
            matches!(check(&err), ConfigCheckError::StoreWitness { index: 0 }),
            "{err:?}"
        );
        assert!(
            err.to_string()
                .contains("witnesses[0]: a witness of type \"store\" would be a folder this server can rewrite; a witness must be out of its reach: another event server (type = \"eventserver\"), a Kafka topic"),
            "{err}"
        );
    }

    #[test]
    fn two_destinations_of_one_name_are_refused_naming_it() {
        let one = "[[destinations]]\nname = \"a\"\ntype = \"store\"\n";
        let err = refused(&format!("{one}path = \"s1\"\n{one}path = \"s2\"\n"), &[]);
        let ConfigCheckError::DestinationNameTwice { name } = check(&err) else {
            panic!("{err:?}");
        };
        assert_eq!(name, "a");
        assert_eq!(
            err.to_string(),
            "s.toml: two destinations are named \"a\"; names must be unique"
        );
    }
}
