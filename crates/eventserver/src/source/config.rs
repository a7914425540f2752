//! `[[sources]]` entries: parsed once into a typed value, checked, and given to the
//! source when the server starts.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use auditrail_core::{NodeId, RoutingKey, Selection, Topic};
use serde::Deserialize;
use serde_json::Value;

use super::config_error::{SourceConfigError, SourceProblem, TopicNameError};

/// Records handed to a partition store at once, at most (the store's group commit).
pub(crate) const DEFAULT_BATCH_MAX_EVENTS: usize = 1000;

/// The largest record value a source takes by default, bytes: the HTTP ingest's default
/// `max_body_bytes`, so that an event too large to be posted is not stored through
/// Kafka either unless an operator says so.
pub(crate) const DEFAULT_MAX_RECORD_BYTES: usize = crate::config::DEFAULT_MAX_BODY_BYTES;

/// librdkafka properties the source sets itself: the guarantees rest on them.
const OWNED_PROPERTIES: [(&str, &str); 6] = [
    ("bootstrap.servers", "brokers"),
    ("group.id", "group_id"),
    (
        "enable.auto.commit",
        "offsets are committed only after the partition store has the records durably",
    ),
    (
        "enable.auto.offset.store",
        "offsets are committed only after the partition store has the records durably",
    ),
    (
        "isolation.level",
        "only committed records are read (read_committed)",
    ),
    (
        "partition.assignment.strategy",
        "the source uses cooperative-sticky so that a rebalance moves few partitions",
    ),
];

/// One `[[sources]]` entry.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum SourceConfig {
    /// `type = "kafka"`.
    Kafka(KafkaSourceConfig),
}

impl SourceConfig {
    /// The entry's name (metrics labels, log lines, dead-letter file).
    pub fn name(&self) -> &str {
        match self {
            SourceConfig::Kafka(k) => &k.name,
        }
    }

    /// Whether the stores it fills have a retention (`retention`,
    /// `retention_max_bytes`).
    pub fn has_retention(&self) -> bool {
        match self {
            SourceConfig::Kafka(k) => k.retention.is_some() || k.retention_max_bytes.is_some(),
        }
    }
}

/// `[[sources]] type = "kafka"`: the server joins a consumer group and stores each
/// partition it is assigned in a store of its own under `store_root` (see
/// docs/scale-out.md).
#[derive(Debug, Clone, PartialEq)]
pub struct KafkaSourceConfig {
    /// Name (default `kafka`, then `kafka-2`...).
    pub name: String,
    /// `bootstrap.servers`.
    pub brokers: String,
    /// Topics to read.
    pub topics: Vec<String>,
    /// The consumer group (`group.id`).
    pub group_id: String,
    /// Folder of the partition stores (`<store_root>/<topic>/<partition>/`); relative
    /// paths are under the data dir. Every server of the group must see the same
    /// folder.
    pub store_root: PathBuf,
    /// Records handed to a partition store at once, at most.
    pub batch_max_events: usize,
    /// The largest record value taken, bytes (`max_record_bytes`): a larger one is
    /// dead-lettered without its value, not copied nor decoded.
    pub max_record_bytes: usize,
    /// Other librdkafka consumer properties, passed on as strings.
    pub librdkafka: BTreeMap<String, String>,
    /// Retention of every partition store this server owns (`retention`,
    /// `retention_max_bytes`: a `store` destination's keys, read and checked by the
    /// same code, each applied to each partition store on its own). `None`: kept for
    /// ever.
    pub retention: Option<std::time::Duration>,
    /// See [`retention`](Self::retention).
    pub retention_max_bytes: Option<u64>,
    /// The keys whose signed records the source stores (`signing_keys`; see
    /// docs/scale-out.md, "Signed records").
    pub signing_keys: Vec<SigningKeyConfig>,
    /// Whether records without signature headers are stored too (`accept_unsigned`;
    /// with their events' `keyId` empty). A record that carries a signature is checked
    /// either way.
    pub accept_unsigned: bool,
}

/// One of a Kafka source's `signing_keys`: the public half of a producing node's key,
/// the id its records name it by, and what it may write (as an HTTP key).
#[derive(Debug, Clone, PartialEq)]
pub struct SigningKeyConfig {
    /// The id the records' `auditrail-key-id` header names; stored as their events'
    /// `keyId`.
    pub id: String,
    /// `ed25519:<64 hex>`.
    pub public_key: auditrail_integrity::PublicKey,
    /// Event topics the key may write (default: all).
    pub topics: Selection<Topic>,
    /// Routing keys the key may write (default: all). With a list, events without a
    /// routing key are refused too.
    pub routing_keys: Selection<RoutingKey>,
    /// Node ids the key may write events of (default: all).
    pub nodes: Selection<NodeId>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSigningKey {
    id: String,
    public_key: String,
    #[serde(default)]
    topics: Selection<Topic>,
    #[serde(default)]
    routing_keys: Selection<RoutingKey>,
    #[serde(default)]
    nodes: Selection<NodeId>,
}

impl KafkaSourceConfig {
    /// The config a partition store at `path` is opened with: a store's defaults and
    /// the source's retention.
    #[cfg_attr(not(feature = "kafka"), allow(dead_code))]
    pub(crate) fn partition_store(&self, path: &Path) -> auditrail_store::StoreConfig {
        auditrail_store::StoreConfig {
            retention: self.retention,
            retention_max_bytes: self.retention_max_bytes,
            ..auditrail_store::StoreConfig::new(path)
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawKafka {
    #[serde(rename = "type")]
    _type: String,
    #[serde(default)]
    name: Option<String>,
    brokers: String,
    topics: Vec<String>,
    group_id: String,
    #[serde(deserialize_with = "auditrail_core::config::ConfigPath::required")]
    store_root: auditrail_core::config::ConfigPath,
    #[serde(default)]
    batch_max_events: Option<usize>,
    #[serde(default)]
    max_record_bytes: Option<usize>,
    #[serde(default)]
    librdkafka: BTreeMap<String, Property>,
    #[serde(default, with = "auditrail_store::retention_age")]
    retention: Option<std::time::Duration>,
    #[serde(default)]
    retention_max_bytes: Option<u64>,
    #[serde(default)]
    signing_keys: Vec<RawSigningKey>,
    #[serde(default)]
    accept_unsigned: Option<bool>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Property {
    String(String),
    Bool(bool),
    Integer(i64),
    Float(f64),
}

impl Property {
    fn into_string(self) -> String {
        match self {
            Property::String(s) => s,
            Property::Bool(b) => b.to_string(),
            Property::Integer(i) => i.to_string(),
            Property::Float(f) => f.to_string(),
        }
    }
}

/// Kafka's own rule for topic names (`org.apache.kafka.common.internals.Topic`):
/// 1 to 249 of `[a-zA-Z0-9._-]`, not `.` or `..`. Such a name is also a safe folder
/// name, which the partition stores rely on.
fn check_topic(topic: &str) -> Result<(), TopicNameError> {
    if topic.is_empty() || topic.len() > 249 {
        return Err(TopicNameError::Length);
    }
    if topic == "." || topic == ".." {
        return Err(TopicNameError::Dots);
    }
    if let Some(found) = topic
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
    {
        return Err(TopicNameError::Char { found });
    }
    Ok(())
}

/// Parses `sources[index]`; the message names the key (`sources[0].topics[1]: ...`).
/// Read from a config file in `folder`, the relative paths of librdkafka's files
/// (`ssl.ca.location`...) are taken in it, like the file's other paths.
pub(crate) fn parse(
    index: usize,
    mut entry: Value,
    taken: &[&str],
    folder: Option<&Path>,
) -> Result<SourceConfig, SourceConfigError> {
    let at = |key: &str, problem| SourceConfigError {
        index,
        key: Some(key.to_owned()),
        problem: Box::new(problem),
    };
    let whole = |problem| SourceConfigError {
        index,
        key: None,
        problem: Box::new(problem),
    };
    let kind = entry
        .get("type")
        .ok_or_else(|| whole(SourceProblem::NoType))?;
    match kind.as_str() {
        Some("kafka") => {}
        _ => {
            return Err(at(
                "type",
                SourceProblem::Type {
                    kind: kind.to_string(),
                },
            ))
        }
    }
    if let (Some(folder), Some(Value::Object(table))) = (folder, entry.get_mut("librdkafka")) {
        auditrail_core::config::relative::resolve_file_properties(
            table,
            "librdkafka",
            &auditrail_core::config::relative::LIBRDKAFKA,
            folder,
        )
        .map_err(|e| SourceConfigError {
            index,
            key: e.key.clone(),
            problem: Box::new(SourceProblem::Property(e)),
        })?;
    }
    let raw: RawKafka = serde_path_to_error::deserialize(entry).map_err(|e| {
        let path = e.path().to_string();
        let source = e.into_inner();
        // A message that names its key itself (`retention`, as a store destination's
        // says it) is not prefixed with it a second time.
        let names_itself = source.to_string().starts_with(&format!("`{path}`"));
        if path.is_empty() || path == "." || names_itself {
            whole(SourceProblem::Value(source))
        } else {
            at(&path, SourceProblem::Value(source))
        }
    })?;
    let name = raw.name.unwrap_or_else(|| {
        if index == 0 {
            "kafka".to_owned()
        } else {
            format!("kafka-{}", index + 1)
        }
    });
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-'))
    {
        return Err(at("name", SourceProblem::Name));
    }
    if taken.contains(&name.as_str()) {
        return Err(at("name", SourceProblem::NameTaken { name }));
    }
    if raw.brokers.trim().is_empty() {
        return Err(at("brokers", SourceProblem::NoBrokers));
    }
    if raw.topics.is_empty() {
        return Err(at("topics", SourceProblem::NoTopics));
    }
    for (i, t) in raw.topics.iter().enumerate() {
        check_topic(t).map_err(|e| at(&format!("topics[{i}]"), e.into()))?;
        // librdkafka refuses a subscription naming a topic twice with only "Invalid
        // argument or configuration", naming neither the key nor the topic.
        if let Some(first) = raw.topics[..i].iter().position(|earlier| earlier == t) {
            return Err(at(
                &format!("topics[{i}]"),
                SourceProblem::TopicTwice {
                    topic: t.clone(),
                    first,
                },
            ));
        }
    }
    if raw.group_id.trim().is_empty() {
        return Err(at("group_id", SourceProblem::Empty));
    }
    let batch_max_events = raw.batch_max_events.unwrap_or(DEFAULT_BATCH_MAX_EVENTS);
    if batch_max_events == 0 {
        return Err(at("batch_max_events", SourceProblem::Zero));
    }
    let max_record_bytes = raw.max_record_bytes.unwrap_or(DEFAULT_MAX_RECORD_BYTES);
    if max_record_bytes == 0 {
        return Err(at("max_record_bytes", SourceProblem::Zero));
    }
    // A store destination's checks and messages (`` `retention` must be at least 1h ``),
    // on the same config type.
    let retention = auditrail_store::StoreConfig {
        retention: raw.retention,
        retention_max_bytes: raw.retention_max_bytes,
        ..auditrail_store::StoreConfig::new(
            auditrail_integrity::marks_folder::PARTITION_STORE_FOLDER,
        )
    };
    retention
        .check()
        .map_err(|e| whole(SourceProblem::Retention(e)))?;
    let mut librdkafka = BTreeMap::new();
    for (key, value) in raw.librdkafka {
        if let Some((_, why)) = OWNED_PROPERTIES.iter().find(|(k, _)| *k == key) {
            return Err(at(
                &format!("librdkafka.{key:?}"),
                SourceProblem::OwnedProperty { why },
            ));
        }
        librdkafka.insert(key, value.into_string());
    }
    // Last: a source that can check no record is refused only once its other keys are
    // right, so that a misspelt or reserved key is named first.
    let signing_keys = signing_keys(raw.signing_keys, raw.accept_unsigned, &at)?;
    Ok(SourceConfig::Kafka(KafkaSourceConfig {
        name,
        brokers: raw.brokers,
        topics: raw.topics,
        group_id: raw.group_id,
        store_root: raw.store_root.into_path_buf(),
        batch_max_events,
        max_record_bytes,
        librdkafka,
        retention: raw.retention,
        retention_max_bytes: raw.retention_max_bytes,
        signing_keys,
        accept_unsigned: raw.accept_unsigned.unwrap_or(false),
    }))
}

/// Checks `signing_keys` and `accept_unsigned`. Neither given is refused: a source
/// that stores records whoever wrote them must say so (`accept_unsigned = true`, as
/// every source did before records were signed), and one that stores nothing but
/// dead letters (no key to verify with, unsigned refused) is a mistake to say at
/// start, not at the first record.
fn signing_keys(
    raw: Vec<RawSigningKey>,
    accept_unsigned: Option<bool>,
    at: &dyn Fn(&str, SourceProblem) -> SourceConfigError,
) -> Result<Vec<SigningKeyConfig>, SourceConfigError> {
    if raw.is_empty() && accept_unsigned != Some(true) {
        return Err(at("signing_keys", SourceProblem::NoSigningKeys));
    }
    let mut keys: Vec<SigningKeyConfig> = Vec::with_capacity(raw.len());
    for (i, k) in raw.into_iter().enumerate() {
        let key = |field: &str| format!("signing_keys[{i}].{field}");
        auditrail_core::kafka_sig::check_key_id(&k.id)
            .map_err(|e| at(&key("id"), SourceProblem::KeyId(e)))?;
        if let Some(first) = keys.iter().position(|earlier| earlier.id == k.id) {
            return Err(at(
                &key("id"),
                SourceProblem::KeyIdTwice {
                    id: k.id.clone(),
                    first,
                },
            ));
        }
        let public_key = k
            .public_key
            .trim()
            .parse()
            .map_err(|e| at(&key("public_key"), SourceProblem::PublicKey(e)))?;
        keys.push(SigningKeyConfig {
            id: k.id,
            public_key,
            topics: k.topics,
            routing_keys: k.routing_keys,
            nodes: k.nodes,
        });
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn good() -> Value {
        json!({"type": "kafka", "brokers": "127.0.0.1:9092", "topics": ["auditrail.events"],
               "group_id": "g", "store_root": "partitions", "accept_unsigned": true,
               "librdkafka": {"session.timeout.ms": 6000, "client.id": "x"}})
    }

    #[test]
    fn a_full_entry_is_read() {
        let SourceConfig::Kafka(k) = parse(0, good(), &[], None).unwrap();
        assert_eq!(k.name, "kafka");
        assert_eq!(k.topics, ["auditrail.events"]);
        assert_eq!(k.batch_max_events, DEFAULT_BATCH_MAX_EVENTS);
        assert_eq!(k.max_record_bytes, 16 << 20);
        assert_eq!(k.librdkafka["session.timeout.ms"], "6000");
    }

    #[test]
    fn each_bad_value_names_its_key() {
        let cases: [(&str, Value, &str); 8] = [
            ("type", json!("kafkaa"), "sources[0].type"),
            ("topics", json!([]), "sources[0].topics"),
            ("topics", json!(["ok", "a/b"]), "sources[0].topics[1]"),
            ("group_id", json!(""), "sources[0].group_id"),
            ("batch_max_events", json!(0), "sources[0].batch_max_events"),
            ("max_record_bytes", json!(0), "sources[0].max_record_bytes"),
            ("brokers", json!(5), "sources[0].brokers"),
            (
                "librdkafka",
                json!({"enable.auto.commit": true}),
                "librdkafka.\"enable.auto.commit\"",
            ),
        ];
        for (key, value, expected) in cases {
            let mut v = good();
            v[key] = value;
            let e = parse(0, v, &[], None).unwrap_err().to_string();
            assert!(e.contains(expected), "{key}: {e}");
        }
        let mut v = good();
        v["stor_root"] = json!("x");
        let e = parse(0, v, &[], None).unwrap_err().to_string();
        assert!(e.contains("stor_root"), "{e}");
        let e = parse(1, good(), &["kafka-2"], None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("already the name"), "{e}");
    }

    /// A store destination's `retention` keys, read and checked by the same code: the
    /// same units and the same messages, naming the entry.
    #[test]
    fn retention_is_read_and_checked_as_a_store_destinations() {
        let mut v = good();
        v["retention"] = json!("400d");
        v["retention_max_bytes"] = json!(1_000_000);
        let SourceConfig::Kafka(k) = parse(0, v, &[], None).unwrap();
        assert_eq!(
            k.retention,
            Some(std::time::Duration::from_secs(400 * 86_400))
        );
        assert_eq!(k.retention_max_bytes, Some(1_000_000));
        let store = k.partition_store(Path::new("p/store"));
        assert_eq!(store.retention, k.retention);
        assert_eq!(store.retention_max_bytes, Some(1_000_000));
        let SourceConfig::Kafka(k) = parse(0, good(), &[], None).unwrap();
        assert_eq!((k.retention, k.retention_max_bytes), (None, None));
        for (key, value, expected) in [
            (
                "retention",
                json!("400"),
                "sources[1]: `retention` = \"400\": ",
            ),
            (
                "retention",
                json!("10m"),
                "sources[1]: `retention` must be at least 1h",
            ),
            (
                "retention_max_bytes",
                json!(0),
                "sources[1]: `retention_max_bytes` must be at least 1",
            ),
            (
                "retention_max_bytes",
                json!("1GB"),
                "sources[1].retention_max_bytes: ",
            ),
        ] {
            let mut v = good();
            v[key] = value;
            let e = parse(1, v, &[], None).unwrap_err().to_string();
            assert!(e.starts_with(expected), "{key}: {e}");
        }
        // The store destination's own message, word for word.
        let store = serde_json::from_value::<auditrail_store::StoreConfig>(
            json!({"path": "s", "retention": "400"}),
        )
        .unwrap_err()
        .to_string();
        let mut v = good();
        v["retention"] = json!("400");
        let e = parse(0, v, &[], None).unwrap_err().to_string();
        assert!(
            store.starts_with(e.trim_start_matches("sources[0]: ")),
            "{store}\n{e}"
        );
    }

    /// RFC 8032's first test vector.
    const KEY: &str = "ed25519:d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";

    #[test]
    fn signing_keys_are_read_and_a_source_that_can_check_nothing_is_refused() {
        let mut v = good();
        v.as_object_mut().unwrap().remove("accept_unsigned");
        let e = parse(0, v.clone(), &[], None).unwrap_err().to_string();
        assert!(
            e.starts_with("sources[0].signing_keys: no keys")
                && e.contains("accept_unsigned = true"),
            "{e}"
        );
        v["accept_unsigned"] = json!(false);
        assert!(parse(0, v.clone(), &[], None).is_err());
        v["signing_keys"] = json!([
            {"id": "node-a", "public_key": KEY},
            {"id": "node-b", "public_key": KEY, "topics": ["authfail"], "routing_keys": ["svc-b"]},
        ]);
        let SourceConfig::Kafka(k) = parse(0, v.clone(), &[], None).unwrap();
        assert!(!k.accept_unsigned);
        assert_eq!(k.signing_keys.len(), 2);
        assert_eq!(k.signing_keys[0].public_key.to_string(), KEY);
        assert_eq!(k.signing_keys[0].topics, Selection::All);
        assert_eq!(
            k.signing_keys[1].topics,
            Selection::Only(vec![Topic::from_static("authfail")])
        );
        for (keys, expected) in [
            (
                json!([{"id": "a", "public_key": "ed25519:00"}]),
                "sources[0].signing_keys[0].public_key: ",
            ),
            (
                json!([{"id": "", "public_key": KEY}]),
                "sources[0].signing_keys[0].id: ",
            ),
            (
                json!([{"id": "a", "public_key": KEY}, {"id": "a", "public_key": KEY}]),
                "sources[0].signing_keys[1].id: \"a\" is named twice (also signing_keys[0])",
            ),
            (
                json!([{"id": "a", "public_key": KEY, "topic": ["x"]}]),
                "sources[0].signing_keys[0]",
            ),
        ] {
            let mut v = v.clone();
            v["signing_keys"] = keys;
            let e = parse(0, v, &[], None).unwrap_err().to_string();
            assert!(e.starts_with(expected), "{e}");
        }
    }

    #[test]
    fn a_topic_named_twice_is_refused_naming_the_key_and_the_topic() {
        let mut v = good();
        v["topics"] = json!(["audit", "ok", "audit"]);
        let e = parse(0, v, &[], None).unwrap_err().to_string();
        assert_eq!(
            e,
            "sources[0].topics[2]: \"audit\" is named twice (also topics[0])"
        );
    }

    #[test]
    fn kafka_topic_names_follow_kafka() {
        for ok in ["a", "auditrail.events", "A_b-9", &"x".repeat(249)] {
            check_topic(ok).unwrap();
        }
        for bad in ["", ".", "..", "a b", "é", "a/b", &"x".repeat(250)] {
            assert!(check_topic(bad).is_err(), "{bad:?}");
        }
    }
}
