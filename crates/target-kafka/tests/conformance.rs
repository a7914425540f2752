//! The core conformance suite, run against a real Kafka broker: acknowledged emits are
//! readable by a consumer at once, filters, batching without duplicates, and the
//! shutdown drain.

use crate::common;

use std::hash::{Hash, Hasher};
use std::path::Path;

use auditrail_core::testing::conformance::{run, Harness, ReadBackError};
use auditrail_core::{async_trait, Event, TargetRegistration};
use serde_json::Value;

struct KafkaHarness {
    brokers: String,
    run_id: String,
}

impl KafkaHarness {
    /// Each instance of the suite gets its own Kafka topic, named after its scratch
    /// folder.
    fn topic(&self, scratch: &Path) -> String {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        scratch.hash(&mut h);
        format!("{}-{:016x}", self.run_id, h.finish())
    }
}

#[async_trait]
impl Harness for KafkaHarness {
    fn registration(&self) -> &'static TargetRegistration {
        &auditrail_target_kafka::REGISTRATION
    }

    fn config(&self, scratch: &Path) -> Value {
        let topic = self.topic(scratch);
        // `config` is synchronous and called on a runtime thread: create the topic
        // through the admin API without blocking the other workers.
        tokio::task::block_in_place(|| {
            tokio::runtime::Handle::current()
                .block_on(common::create_topics(&self.brokers, &[&topic]))
        });
        serde_json::json!({ "brokers": self.brokers, "topic": topic })
    }

    async fn read_back(&self, scratch: &Path) -> Result<Vec<Event>, ReadBackError> {
        let records = common::read_topic(&self.brokers, &self.topic(scratch)).await;
        records
            .iter()
            .map(|r| Event::from_json_slice(&r.value).map_err(ReadBackError::read))
            .collect()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_kafka_target_conforms() {
    let harness = KafkaHarness {
        brokers: common::brokers(),
        run_id: common::unique_topic("conformance"),
    };
    run(&harness).await.unwrap();
}
