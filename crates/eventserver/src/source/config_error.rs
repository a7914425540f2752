//! Why a `[[sources]]` entry is refused ([`super::config::parse`]): which entry, which
//! key, what is wrong (`sources[0].topics[1]: ...`).

use thiserror::Error;

/// A `[[sources]]` entry refused: the entry's index, the key (a path below the entry,
/// `topics[1]`; `None` for the entry as a whole) and the problem.
#[derive(Debug, Error)]
#[error(
    "sources[{index}]{}: {problem}",
    key.as_ref().map_or_else(String::new, |k| format!(".{k}"))
)]
pub struct SourceConfigError {
    /// The entry's index in `[[sources]]`.
    pub index: usize,
    /// The key below the entry, when the problem is one key's.
    pub key: Option<String>,
    /// What is wrong (boxed: some causes are large, and this is returned by value).
    #[source]
    pub problem: Box<SourceProblem>,
}

/// What is wrong with a `[[sources]]` entry ([`SourceConfigError`]).
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum SourceProblem {
    /// No `type`.
    #[error("missing key \"type\" (known: \"kafka\")")]
    NoType,
    /// A `type` other than `kafka`.
    #[error("{kind} is not a source type; known: \"kafka\"")]
    Type {
        /// The `type` as written (JSON).
        kind: String,
    },
    /// A librdkafka file property cannot be taken relative to the config's folder.
    /// (Its message is shown, not chained: it names the key as the config's table does.)
    #[error("{}", .0.message)]
    Property(auditrail_core::InvalidConfig),
    /// A key's value does not fit it, or the key is unknown.
    #[error(transparent)]
    Value(serde_json::Error),
    /// `retention` or `retention_max_bytes`, as a store destination's checks say.
    #[error(transparent)]
    Retention(auditrail_store::StoreConfigError),
    /// A `name` that is not made of the characters allowed.
    #[error("1 or more of a-z, A-Z, 0-9, '_', '-'")]
    Name,
    /// A `name` another source has.
    #[error("{name:?} is already the name of another source")]
    NameTaken {
        /// The name.
        name: String,
    },
    /// Empty `brokers`.
    #[error("must name at least one host:port")]
    NoBrokers,
    /// Empty `topics`.
    #[error("must name at least one topic")]
    NoTopics,
    /// A topic name Kafka refuses.
    #[error(transparent)]
    Topic(#[from] TopicNameError),
    /// A topic named twice.
    #[error("{topic:?} is named twice (also topics[{first}])")]
    TopicTwice {
        /// The topic.
        topic: String,
        /// The index it has first.
        first: usize,
    },
    /// An empty `group_id`.
    #[error("must not be empty")]
    Empty,
    /// A count of 0.
    #[error("must be at least 1")]
    Zero,
    /// A librdkafka property the source sets itself.
    #[error("set by the source itself ({why})")]
    OwnedProperty {
        /// Why the source sets it.
        why: &'static str,
    },
    /// No `signing_keys` and unsigned records not accepted.
    #[error(
        "no keys, so no record can be checked: list the public keys of the producing \
         nodes (`[[sources.signing_keys]]` with `id` and `public_key`; their kafka \
         targets sign with `signing_key` and `key_id`), or set `accept_unsigned = true` \
         to store unsigned records as before (anyone who can write to the topics can \
         then write events of any node; see docs/scale-out.md, \"Signed records\")"
    )]
    NoSigningKeys,
    /// A signing key id that cannot be one.
    #[error(transparent)]
    KeyId(auditrail_core::kafka_sig::BadKeyId),
    /// A signing key id named twice.
    #[error("{id:?} is named twice (also signing_keys[{first}])")]
    KeyIdTwice {
        /// The id.
        id: String,
        /// The index it has first.
        first: usize,
    },
    /// A `public_key` that is no public key.
    #[error(transparent)]
    PublicKey(auditrail_integrity::IntegrityError),
}

/// A name Kafka refuses as a topic's (`org.apache.kafka.common.internals.Topic`).
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum TopicNameError {
    /// Empty, or longer than 249 characters.
    #[error("a Kafka topic name has 1 to 249 characters")]
    Length,
    /// `.` or `..`.
    #[error("\".\" and \"..\" are not Kafka topic names")]
    Dots,
    /// A character outside `[a-zA-Z0-9._-]`.
    #[error("{found:?} is not allowed in a Kafka topic name (only a-z, A-Z, 0-9, '.', '_', '-')")]
    Char {
        /// The first one.
        found: char,
    },
}
