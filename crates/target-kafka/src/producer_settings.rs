//! The librdkafka producer properties a `kafka` target uses: auditrail's defaults for
//! audit delivery, then the user's `properties`, and warnings on settings that weaken
//! delivery.

use std::collections::BTreeMap;

use auditrail_core::{BuildContext, InvalidConfig};
use rdkafka::ClientConfig;

use crate::config::{KafkaConfig, PropertyValue};

/// Properties set through their own config key; setting them in `properties` too
/// would leave two sources for one value, so it is refused.
const OWN_KEYS: &[(&str, &str)] = &[
    ("bootstrap.servers", "brokers"),
    ("metadata.broker.list", "brokers"),
    ("compression.type", "compression"),
    ("compression.codec", "compression"),
    ("message.timeout.ms", "delivery_timeout_ms"),
    ("delivery.timeout.ms", "delivery_timeout_ms"),
];

/// librdkafka's own default for `topic.metadata.propagation.max.ms`: how long it waits
/// for a topic missing from the metadata to appear before it fails its records as an
/// unknown topic.
const PROPAGATION_LIBRDKAFKA_MS: u64 = 30_000;

/// auditrail's `topic.metadata.propagation.max.ms`: a third of the delivery timeout
/// (10 s with the default 30 s), at least 1 s, at most librdkafka's 30 s, and always
/// below the delivery timeout (half of it, if that is under 2 s). With
/// librdkafka's 30 s, equal to the default delivery timeout and to `auditrail send`'s
/// default deadline, a record to a topic that does not exist was still waiting when
/// the deadline came, and the cause ("the topic does not exist") was never said; a
/// third leaves the verdict two thirds of the time to arrive, and still gives a topic
/// just created on a slow cluster seconds to show in the metadata.
fn propagation_ms(delivery_timeout_ms: u64) -> u64 {
    (delivery_timeout_ms / 3)
        .clamp(1_000, PROPAGATION_LIBRDKAFKA_MS)
        .min(delivery_timeout_ms / 2)
}

/// Properties the target cannot honour.
const REFUSED: &[(&str, &str)] = &[(
    "transactional.id",
    "transactions are not supported: the target acknowledges each record through \
     its delivery report; the idempotent producer (the default) already prevents \
     duplicates from internal retries",
)];

/// Checks `properties` for keys that belong elsewhere (pure; no librdkafka call).
pub(crate) fn check_properties(
    props: &BTreeMap<String, PropertyValue>,
) -> Result<(), InvalidConfig> {
    for key in props.keys() {
        let k = key.trim();
        let at = || format!("properties.\"{k}\"");
        if let Some((_, own)) = OWN_KEYS.iter().find(|(p, _)| *p == k) {
            return Err(InvalidConfig::key(
                at(),
                format!("set it with the target's own key `{own}` instead"),
            ));
        }
        if let Some((_, why)) = REFUSED.iter().find(|(p, _)| *p == k) {
            return Err(InvalidConfig::key(at(), *why));
        }
        if k.is_empty() {
            return Err(InvalidConfig::key("properties", "has an empty key"));
        }
    }
    Ok(())
}

/// The names librdkafka takes the producer's `acks` by.
pub(crate) const ACKS_KEYS: [&str; 2] = ["acks", "request.required.acks"];

/// `value` (of an [`ACKS_KEYS`] property), trimmed, when it lets a record count as
/// delivered before every in-sync replica has it (anything but `all` or `-1`): the
/// one rule of the warning at build and of the config's
/// [`durability`](auditrail_core::TargetConfig::durability).
pub(crate) fn weak_acks(value: &str) -> Option<&str> {
    let a = value.trim();
    (a != "all" && a != "-1").then_some(a)
}

/// The final property list, in the order it is applied (later entries win).
#[derive(Debug, Clone)]
pub struct ProducerSettings {
    pairs: Vec<(String, String)>,
}

impl ProducerSettings {
    /// auditrail's defaults, then the config's own keys, then `properties`.
    pub fn from_config(config: &KafkaConfig, ctx: &BuildContext) -> ProducerSettings {
        let mut pairs: Vec<(String, String)> = vec![
            (
                "client.id".into(),
                format!("auditrail-{}-{}", ctx.node, ctx.target_name),
            ),
            // Audit delivery: every in-sync replica has the record before it counts,
            // and librdkafka's internal retries never duplicate or reorder it.
            ("enable.idempotence".into(), "true".into()),
            ("acks".into(), "all".into()),
            ("bootstrap.servers".into(), config.brokers.joined()),
            (
                "compression.type".into(),
                config.compression.as_str().into(),
            ),
            (
                "message.timeout.ms".into(),
                config.delivery_timeout_ms.to_string(),
            ),
            (
                "topic.metadata.propagation.max.ms".into(),
                propagation_ms(config.delivery_timeout_ms).to_string(),
            ),
        ];
        pairs.extend(
            config
                .properties
                .iter()
                .map(|(k, v)| (k.trim().to_owned(), v.to_property_string())),
        );
        ProducerSettings { pairs }
    }

    /// The effective value of `key` (the last one set).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.pairs
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The librdkafka client config.
    pub fn client_config(&self) -> ClientConfig {
        let mut c = ClientConfig::new();
        for (k, v) in &self.pairs {
            c.set(k, v);
        }
        c
    }

    /// `message.max.bytes` as librdkafka will apply it (for error messages).
    pub fn message_max_bytes(&self) -> u64 {
        self.get("message.max.bytes")
            .and_then(|v| v.parse().ok())
            .unwrap_or(1_000_000)
    }

    /// One sentence per setting that weakens audit delivery.
    pub fn weakening_warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        let acks = self
            .get("request.required.acks")
            .into_iter()
            .chain(self.get("acks"));
        for a in acks.filter_map(weak_acks) {
            out.push(format!(
                "acks={a}: a record counts as delivered before every in-sync replica has it \
                 (acks=0: without any broker confirming it); a broker failure can lose \
                 acknowledged audit events. Use acks=all"
            ));
        }
        if self
            .get("enable.idempotence")
            .is_some_and(|v| v.trim() == "false")
        {
            out.push(
                "enable.idempotence=false: librdkafka's internal retries may duplicate or \
                 reorder records within a partition"
                    .into(),
            );
        }
        let ms = |key: &str| self.get(key).and_then(|v| v.trim().parse::<u64>().ok());
        if let (Some(propagation), Some(delivery)) = (
            ms("topic.metadata.propagation.max.ms"),
            ms("message.timeout.ms"),
        ) {
            if propagation >= delivery {
                out.push(format!(
                    "topic.metadata.propagation.max.ms={propagation} is not below \
                     delivery_timeout_ms={delivery}: a record to a topic that does not exist \
                     times out (retried) before librdkafka declares the topic unknown, and \
                     the cause is never said. Keep it below delivery_timeout_ms"
                ));
            }
        }
        for key in ["retries", "message.send.max.retries"] {
            if self.get(key).is_some_and(|v| v.trim() == "0") {
                out.push(format!(
                    "{key}=0: a transient broker error fails the record at once (the dispatcher \
                     still retries the batch, possibly reordering records)"
                ));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use auditrail_core::NodeId;

    fn settings(props: serde_json::Value) -> ProducerSettings {
        let config: KafkaConfig = serde_json::from_value(serde_json::json!({
            "brokers": "127.0.0.1:9092", "topic": "audit", "properties": props
        }))
        .unwrap();
        let ctx = BuildContext::new(
            NodeId::new("node-1").unwrap(),
            "kafka-0",
            "run",
            "run/deadletter",
            tokio::runtime::Builder::new_current_thread()
                .build()
                .unwrap()
                .handle()
                .clone(),
        );
        ProducerSettings::from_config(&config, &ctx)
    }

    #[test]
    fn defaults_are_idempotent_with_acks_all_and_do_not_warn() {
        let s = settings(serde_json::json!({}));
        assert_eq!(s.get("acks"), Some("all"));
        assert_eq!(s.get("enable.idempotence"), Some("true"));
        assert_eq!(s.get("message.timeout.ms"), Some("30000"));
        assert_eq!(s.get("topic.metadata.propagation.max.ms"), Some("10000"));
        assert_eq!(s.get("client.id"), Some("auditrail-node-1-kafka-0"));
        assert!(s.weakening_warnings().is_empty());
    }

    #[test]
    fn weakening_settings_are_each_warned_about() {
        for (props, needle) in [
            (serde_json::json!({"acks": "1"}), "acks=1"),
            (serde_json::json!({"acks": 0}), "acks=0"),
            (serde_json::json!({"request.required.acks": 1}), "acks=1"),
            (
                serde_json::json!({"enable.idempotence": false}),
                "enable.idempotence=false",
            ),
            (serde_json::json!({"retries": 0}), "retries=0"),
            (
                serde_json::json!({"topic.metadata.propagation.max.ms": 30000}),
                "topic.metadata.propagation.max.ms=30000 is not below delivery_timeout_ms=30000",
            ),
        ] {
            let w = settings(props.clone()).weakening_warnings();
            assert!(w.iter().any(|w| w.contains(needle)), "{props}: {w:?}");
        }
        assert!(settings(serde_json::json!({"acks": "-1", "linger.ms": 50}))
            .weakening_warnings()
            .is_empty());
    }

    #[test]
    fn keys_with_their_own_setting_are_refused_in_properties() {
        for (key, own) in [
            ("bootstrap.servers", "brokers"),
            ("compression.type", "compression"),
            ("delivery.timeout.ms", "delivery_timeout_ms"),
            ("transactional.id", "transactions"),
        ] {
            let props = BTreeMap::from([(key.to_owned(), PropertyValue::String("x".into()))]);
            let e = check_properties(&props).unwrap_err().to_string();
            assert!(e.contains(key) && e.contains(own), "{e}");
        }
    }

    #[test]
    fn unknown_topics_are_declared_within_the_delivery_timeout() {
        assert_eq!(propagation_ms(30_000), 10_000);
        assert_eq!(propagation_ms(600_000), 30_000);
        assert_eq!(propagation_ms(2_400), 1_000);
        assert_eq!(propagation_ms(1_500), 750);
    }

    #[test]
    fn properties_override_the_defaults() {
        let s = settings(serde_json::json!({"linger.ms": 50, "client.id": "mine"}));
        assert_eq!(s.get("linger.ms"), Some("50"));
        assert_eq!(s.get("client.id"), Some("mine"));
        assert_eq!(s.client_config().get("linger.ms"), Some("50"));
    }
}
