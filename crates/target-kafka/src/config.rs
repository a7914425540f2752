//! The `kafka` target's own config fields (one `[[targets]]` entry).

use std::collections::BTreeMap;
use std::time::Duration;

use auditrail_core::config::ConfigPath;
use auditrail_core::{BuildContext, BuildError, InvalidConfig, Target, TargetConfig};
use serde::Deserialize;

use crate::producer_settings::{self, ProducerSettings};
use crate::record_signer::RecordSigner;
use crate::target::KafkaTarget;
use crate::topic_template::TopicTemplate;

/// Default for [`KafkaConfig::delivery_timeout_ms`]: 30 s.
pub const DEFAULT_DELIVERY_TIMEOUT_MS: u64 = 30_000;

/// Config of a `kafka` target.
///
/// ```toml
/// [[targets]]
/// type = "kafka"
/// brokers = ["kafka-1:9092", "kafka-2:9092"]
/// topic = "audit-{topic}"
/// key = "routing_key"
/// compression = "lz4"
/// delivery_timeout_ms = 30000
/// [targets.properties]
/// "security.protocol" = "sasl_ssl"
/// ```
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KafkaConfig {
    /// Bootstrap servers: `"host:port"`, `"h1:9092,h2:9092"` or a list.
    pub brokers: Brokers,
    /// Kafka topic, fixed (`"audit"`) or a template (`"audit-{topic}"`); see
    /// [`crate::topic_template`] for placeholders and allowed characters.
    pub topic: TopicTemplate,
    /// What goes into the record key. Default: the routing key, else the node id.
    #[serde(default)]
    pub key: RecordKey,
    /// Compression of record batches. Default `none`.
    #[serde(default)]
    pub compression: Compression,
    /// How long librdkafka may try to deliver one record (`message.timeout.ms`)
    /// before the batch is reported as retryable. Default 30 000.
    #[serde(default = "default_delivery_timeout_ms")]
    pub delivery_timeout_ms: u64,
    /// Any other librdkafka producer property (security, SASL, SSL files, linger,
    /// batch sizes, ...), passed through as strings.
    #[serde(default)]
    pub properties: BTreeMap<String, PropertyValue>,
    /// Sign every record with this Ed25519 secret key file (`ed25519-secret:<64 hex>`,
    /// made by `auditrail keys new`): the headers `auditrail-key-id` and
    /// `auditrail-sig`, which an event server's Kafka source checks (docs/scale-out.md,
    /// "Signed records"). Needs [`key_id`](Self::key_id).
    #[serde(default)]
    pub signing_key: Option<ConfigPath>,
    /// The id the event server lists this key's public half under (`signing_keys` of
    /// its `[[sources]]`); sent with each record and stored as its events' `keyId`.
    #[serde(default)]
    pub key_id: Option<String>,
}

fn default_delivery_timeout_ms() -> u64 {
    DEFAULT_DELIVERY_TIMEOUT_MS
}

/// Bootstrap servers: one string (comma-separated allowed) or a list.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Brokers {
    /// `"host:port"` or `"h1:9092,h2:9092"`.
    One(String),
    /// `["h1:9092", "h2:9092"]`.
    Many(Vec<String>),
}

impl Brokers {
    /// The `bootstrap.servers` value.
    pub fn joined(&self) -> String {
        let list: Vec<&str> = match self {
            Brokers::One(s) => s.split(',').collect(),
            Brokers::Many(v) => v.iter().map(String::as_str).collect(),
        };
        list.iter()
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// What the record key is. Records with the same key go to the same partition, in
/// order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordKey {
    /// The event's routing key, or the node id when it has none (the default): one
    /// service's events stay ordered in one partition.
    #[default]
    RoutingKey,
    /// The node id: all events of a node in one partition.
    Node,
    /// The event id: records spread over partitions, no ordering.
    EventId,
    /// No key: librdkafka's partitioner spreads records.
    None,
}

/// Compression of record batches (`compression.type`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Compression {
    /// No compression (the default).
    #[default]
    None,
    /// gzip (zlib).
    Gzip,
    /// Snappy.
    Snappy,
    /// LZ4.
    Lz4,
    /// Zstandard (needs this crate's `zstd` feature, on by default).
    Zstd,
}

impl Compression {
    /// librdkafka's name for it.
    pub fn as_str(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Gzip => "gzip",
            Compression::Snappy => "snappy",
            Compression::Lz4 => "lz4",
            Compression::Zstd => "zstd",
        }
    }
}

/// A librdkafka property value as written in TOML/JSON; passed on as a string.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum PropertyValue {
    /// `"sasl_ssl"`.
    String(String),
    /// `true`.
    Bool(bool),
    /// `5`.
    Integer(i64),
    /// `0.5`.
    Float(f64),
}

impl PropertyValue {
    /// The value librdkafka gets.
    pub fn to_property_string(&self) -> String {
        match self {
            PropertyValue::String(s) => s.clone(),
            PropertyValue::Bool(b) => b.to_string(),
            PropertyValue::Integer(i) => i.to_string(),
            PropertyValue::Float(f) => f.to_string(),
        }
    }
}

impl KafkaConfig {
    /// The delivery timeout.
    pub fn delivery_timeout(&self) -> Duration {
        Duration::from_millis(self.delivery_timeout_ms)
    }
}

impl TargetConfig for KafkaConfig {
    // librdkafka's SSL and SASL files (`ssl.ca.location`...): in a config file, taken
    // in its folder like every other path of it, not in the working directory.
    const FILE_PROPERTIES: Option<auditrail_core::FileProperties> =
        Some(auditrail_core::config::relative::LIBRDKAFKA);

    /// Durable with `acks=all` (the target's default): every in-sync replica has the
    /// record (Kafka's durability is replication; brokers fsync on their own
    /// schedule). Not with `acks=0` or `1` in `properties`.
    fn durability(&self) -> auditrail_core::Durability {
        let weak = self.properties.iter().find_map(|(k, v)| {
            let k = k.trim();
            let v = v.to_property_string();
            crate::producer_settings::ACKS_KEYS
                .contains(&k)
                .then(|| crate::producer_settings::weak_acks(&v).map(|a| format!("{k}={a}")))
                .flatten()
        });
        match weak {
            None => auditrail_core::Durability::Durable,
            Some(setting) => auditrail_core::Durability::not_durable(format!(
                "`properties` {setting}: `Ok` means the partition's leader has the record, not every in-sync replica (acks=0: no broker confirmed it)"
            )),
        }
    }

    fn validate(&self) -> Result<(), InvalidConfig> {
        // `topic` is parsed (and checked) as the config is read.
        if self.brokers.joined().is_empty() {
            return Err(InvalidConfig::key(
                "brokers",
                "must name at least one bootstrap server (host:port)",
            ));
        }
        if self.delivery_timeout_ms == 0 {
            return Err(InvalidConfig::key(
                "delivery_timeout_ms",
                "must be at least 1",
            ));
        }
        if cfg!(not(feature = "zstd")) && self.compression == Compression::Zstd {
            return Err(InvalidConfig::key(
                "compression",
                "\"zstd\" needs the `zstd` feature of auditrail-target-kafka, which this build \
                 does not have",
            ));
        }
        match (&self.signing_key, &self.key_id) {
            (Some(_), None) => {
                return Err(InvalidConfig::key(
                    "key_id",
                    "`signing_key` needs `key_id`: the id the event server lists this key's \
                     public half under",
                ))
            }
            (None, Some(_)) => {
                return Err(InvalidConfig::key(
                    "signing_key",
                    "`key_id` is set without `signing_key`: name the secret key file that \
                     signs the records (`auditrail keys new --out FILE` makes one)",
                ))
            }
            (_, Some(id)) => auditrail_core::kafka_sig::check_key_id(id)
                .map_err(|e| InvalidConfig::key("key_id", e.to_string()))?,
            (None, None) => {}
        }
        producer_settings::check_properties(&self.properties)
    }

    fn build(&self, ctx: &BuildContext) -> Result<Box<dyn Target>, BuildError> {
        let settings = ProducerSettings::from_config(self, ctx);
        for warning in settings.weakening_warnings() {
            tracing::warn!(target_name = %ctx.target_name, "kafka target: {warning}");
        }
        let signer = match (&self.signing_key, &self.key_id) {
            (Some(path), Some(id)) => {
                Some(RecordSigner::load(path, id).map_err(|e| BuildError::Config(e.to_string()))?)
            }
            _ => None,
        };
        let target = KafkaTarget::new(
            ctx,
            settings,
            self.topic.clone(),
            self.key,
            self.delivery_timeout(),
            signer,
        )?;
        Ok(Box::new(target))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: serde_json::Value) -> Result<KafkaConfig, String> {
        let c: KafkaConfig = serde_json::from_value(json).map_err(|e| e.to_string())?;
        c.validate().map_err(|e| e.to_string())?;
        Ok(c)
    }

    #[test]
    fn minimal_config_gets_the_documented_defaults() {
        let c = parse(serde_json::json!({"brokers": "127.0.0.1:9092", "topic": "audit"})).unwrap();
        assert_eq!(c.key, RecordKey::RoutingKey);
        assert_eq!(c.compression, Compression::None);
        assert_eq!(c.delivery_timeout_ms, 30_000);
        assert!(c.properties.is_empty());
    }

    #[test]
    fn acks_below_all_make_ok_not_durable() {
        let durability = |props: serde_json::Value| {
            parse(serde_json::json!({"brokers": "a:1", "topic": "t", "properties": props}))
                .unwrap()
                .durability()
        };
        assert!(durability(serde_json::json!({})).is_durable());
        assert!(durability(serde_json::json!({"acks": "all"})).is_durable());
        assert!(durability(serde_json::json!({"request.required.acks": -1})).is_durable());
        for (props, named) in [
            (serde_json::json!({"acks": "1"}), "acks=1"),
            (serde_json::json!({"acks": 0}), "acks=0"),
            (
                serde_json::json!({"request.required.acks": 1}),
                "request.required.acks=1",
            ),
        ] {
            let d = durability(props);
            assert!(!d.is_durable(), "{d:?}");
            assert!(d.why_not().unwrap().contains(named), "{d:?}");
        }
    }

    #[test]
    fn brokers_accept_a_list_or_a_comma_separated_string() {
        let c = parse(serde_json::json!({"brokers": ["a:1", " b:2 "], "topic": "t"})).unwrap();
        assert_eq!(c.brokers.joined(), "a:1,b:2");
        let c = parse(serde_json::json!({"brokers": "a:1, b:2,", "topic": "t"})).unwrap();
        assert_eq!(c.brokers.joined(), "a:1,b:2");
        let e = parse(serde_json::json!({"brokers": " , ", "topic": "t"})).unwrap_err();
        assert!(e.contains("brokers"), "{e}");
    }

    #[test]
    fn unknown_keys_and_bad_values_are_named() {
        let e = parse(serde_json::json!({"brokers": "a:1", "topic": "t", "topics_prefix": "x"}))
            .unwrap_err();
        assert!(e.contains("topics_prefix"), "{e}");
        let e = parse(serde_json::json!({"brokers": "a:1", "topic": "t", "compression": "brotli"}))
            .unwrap_err();
        assert!(e.contains("brotli"), "{e}");
        let e =
            parse(serde_json::json!({"brokers": "a:1", "topic": "t", "key": "user"})).unwrap_err();
        assert!(e.contains("user"), "{e}");
        let e = parse(serde_json::json!({"brokers": "a:1", "topic": "audit/{topic}"})).unwrap_err();
        assert!(e.contains("'/'"), "{e}");
        let e =
            parse(serde_json::json!({"brokers": "a:1", "topic": "t", "delivery_timeout_ms": 0}))
                .unwrap_err();
        assert!(e.contains("delivery_timeout_ms"), "{e}");
    }

    #[test]
    fn property_values_of_any_toml_scalar_become_strings() {
        let c = parse(serde_json::json!({"brokers": "a:1", "topic": "t",
            "properties": {"linger.ms": 20, "socket.keepalive.enable": true, "security.protocol": "plaintext"}}))
        .unwrap();
        let got: Vec<(String, String)> = c
            .properties
            .iter()
            .map(|(k, v)| (k.clone(), v.to_property_string()))
            .collect();
        assert_eq!(
            got,
            [
                ("linger.ms".to_owned(), "20".to_owned()),
                ("security.protocol".to_owned(), "plaintext".to_owned()),
                ("socket.keepalive.enable".to_owned(), "true".to_owned()),
            ]
        );
    }
}
