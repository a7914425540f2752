//! `[[sources]]` entries: parsed once into a typed value, checked, and given to the
//! source when the server starts.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;

/// Records handed to a partition store at once, at most (the store's group commit).
pub(crate) const DEFAULT_BATCH_MAX_EVENTS: usize = 1000;

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
    /// Other librdkafka consumer properties, passed on as strings.
    pub librdkafka: BTreeMap<String, String>,
    /// Retention of every partition store this server owns (`retention`,
    /// `retention_max_bytes`: a `store` destination's keys, read and checked by the
    /// same code, each applied to each partition store on its own). `None`: kept for
    /// ever.
    pub retention: Option<std::time::Duration>,
    /// See [`retention`](Self::retention).
    pub retention_max_bytes: Option<u64>,
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
    librdkafka: BTreeMap<String, Property>,
    #[serde(default, with = "auditrail_store::retention_age")]
    retention: Option<std::time::Duration>,
    #[serde(default)]
    retention_max_bytes: Option<u64>,
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
fn check_topic(topic: &str) -> Result<(), String> {
    if topic.is_empty() || topic.len() > 249 {
        return Err("a Kafka topic name has 1 to 249 characters".into());
    }
    if topic == "." || topic == ".." {
        return Err("\".\" and \"..\" are not Kafka topic names".into());
    }
    if let Some(c) = topic
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
    {
        return Err(format!(
            "{c:?} is not allowed in a Kafka topic name (only a-z, A-Z, 0-9, '.', '_', '-')"
        ));
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
) -> Result<SourceConfig, String> {
    let at = |key: &str, m: &dyn std::fmt::Display| format!("sources[{index}].{key}: {m}");
    let kind = entry
        .get("type")
        .ok_or_else(|| format!("sources[{index}]: missing key \"type\" (known: \"kafka\")"))?;
    match kind.as_str() {
        Some("kafka") => {}
        _ => {
            return Err(at(
                "type",
                &format!("{kind} is not a source type; known: \"kafka\""),
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
        .map_err(|e| match &e.key {
            Some(key) => at(key, &e.message),
            None => format!("sources[{index}]: {}", e.message),
        })?;
    }
    let raw: RawKafka = serde_path_to_error::deserialize(entry).map_err(|e| {
        let path = e.path().to_string();
        let message = e.into_inner().to_string();
        // A message that names its key itself (`retention`, as a store destination's
        // says it) is not prefixed with it a second time.
        if path.is_empty() || path == "." || message.starts_with(&format!("`{path}`")) {
            format!("sources[{index}]: {message}")
        } else {
            at(&path, &message)
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
        return Err(at("name", &"1 or more of a-z, A-Z, 0-9, '_', '-'"));
    }
    if taken.contains(&name.as_str()) {
        return Err(at(
            "name",
            &format!("{name:?} is already the name of another source"),
        ));
    }
    if raw.brokers.trim().is_empty() {
        return Err(at("brokers", &"must name at least one host:port"));
    }
    if raw.topics.is_empty() {
        return Err(at("topics", &"must name at least one topic"));
    }
    for (i, t) in raw.topics.iter().enumerate() {
        check_topic(t).map_err(|m| at(&format!("topics[{i}]"), &m))?;
        // librdkafka refuses a subscription naming a topic twice with only "Invalid
        // argument or configuration", naming neither the key nor the topic.
        if let Some(first) = raw.topics[..i].iter().position(|earlier| earlier == t) {
            return Err(at(
                &format!("topics[{i}]"),
                &format!("{t:?} is named twice (also topics[{first}])"),
            ));
        }
    }
    if raw.group_id.trim().is_empty() {
        return Err(at("group_id", &"must not be empty"));
    }
    let batch_max_events = raw.batch_max_events.unwrap_or(DEFAULT_BATCH_MAX_EVENTS);
    if batch_max_events == 0 {
        return Err(at("batch_max_events", &"must be at least 1"));
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
        .map_err(|m| format!("sources[{index}]: {m}"))?;
    let mut librdkafka = BTreeMap::new();
    for (key, value) in raw.librdkafka {
        if let Some((_, why)) = OWNED_PROPERTIES.iter().find(|(k, _)| *k == key) {
            return Err(at(
                &format!("librdkafka.{key:?}"),
                &format!("set by the source itself ({why})"),
            ));
        }
        librdkafka.insert(key, value.into_string());
    }
    Ok(SourceConfig::Kafka(KafkaSourceConfig {
        name,
        brokers: raw.brokers,
        topics: raw.topics,
        group_id: raw.group_id,
        store_root: raw.store_root.into_path_buf(),
        batch_max_events,
        librdkafka,
        retention: raw.retention,
        retention_max_bytes: raw.retention_max_bytes,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn good() -> Value {
        json!({"type": "kafka", "brokers": "127.0.0.1:9092", "topics": ["auditrail.events"],
               "group_id": "g", "store_root": "partitions",
               "librdkafka": {"session.timeout.ms": 6000, "client.id": "x"}})
    }

    #[test]
    fn a_full_entry_is_read() {
        let SourceConfig::Kafka(k) = parse(0, good(), &[], None).unwrap();
        assert_eq!(k.name, "kafka");
        assert_eq!(k.topics, ["auditrail.events"]);
        assert_eq!(k.batch_max_events, DEFAULT_BATCH_MAX_EVENTS);
        assert_eq!(k.librdkafka["session.timeout.ms"], "6000");
    }

    #[test]
    fn each_bad_value_names_its_key() {
        let cases: [(&str, Value, &str); 7] = [
            ("type", json!("kafkaa"), "sources[0].type"),
            ("topics", json!([]), "sources[0].topics"),
            ("topics", json!(["ok", "a/b"]), "sources[0].topics[1]"),
            ("group_id", json!(""), "sources[0].group_id"),
            ("batch_max_events", json!(0), "sources[0].batch_max_events"),
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
            let e = parse(0, v, &[], None).unwrap_err();
            assert!(e.contains(expected), "{key}: {e}");
        }
        let mut v = good();
        v["stor_root"] = json!("x");
        let e = parse(0, v, &[], None).unwrap_err();
        assert!(e.contains("stor_root"), "{e}");
        let e = parse(1, good(), &["kafka-2"], None).unwrap_err();
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
            let e = parse(1, v, &[], None).unwrap_err();
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
        let e = parse(0, v, &[], None).unwrap_err();
        assert!(
            store.starts_with(e.trim_start_matches("sources[0]: ")),
            "{store}\n{e}"
        );
    }

    #[test]
    fn a_topic_named_twice_is_refused_naming_the_key_and_the_topic() {
        let mut v = good();
        v["topics"] = json!(["audit", "ok", "audit"]);
        let e = parse(0, v, &[], None).unwrap_err();
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
