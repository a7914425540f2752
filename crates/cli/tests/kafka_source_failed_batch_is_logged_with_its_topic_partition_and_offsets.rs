//! A batch of a Kafka source that cannot be stored (here: the storing server's own
//! destination does not acknowledge it within `ack_timeout_ms`) is read again, and its
//! error line says which partition is held up and where: the Kafka topic, the partition
//! and the batch's first and last offsets, besides the cause. Before, the line was
//! `the destinations did not take the batch: no answer within 3000 ms (ack_timeout_ms);
//! retried, nothing of the batch is committed`: no topic, partition or offset.
#![cfg(feature = "kafka")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::kafka_support;
use crate::serve_support;

use kafka_support::{
    brokers, create_topic, id_counts, produce_events, shared_key, storing_config, unique,
};
use serve_support::{start, wait_for_log};

#[test]
fn the_error_of_a_batch_that_is_not_stored_names_its_topic_partition_and_offsets() {
    let brokers = brokers();
    let topic = unique("held");
    create_topic(&brokers, &topic, 1);
    produce_events(&brokers, &topic, 1, 3, 11);

    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (key, _) = shared_key(d);
    let root = d.join("partitions");
    // A destination that never acknowledges: a Kafka cluster nobody listens for.
    let down = auditrail_testkit::port::down();
    let config = String::from("ack_timeout_ms = 3000\n")
        + &storing_config("s-data", &key, &brokers, &topic, &unique("g"), &root)
        + &format!(
            "[[destinations]]\ntype = \"kafka\"\nname = \"copy\"\nbrokers = \"127.0.0.1:{down}\"\n\
             topic = \"copy\"\ndelivery_timeout_ms = 2000\n"
        );
    std::fs::write(d.join("s.toml"), config).unwrap();
    let server = start(d, &["--config", "s.toml"]);
    wait_for_log(&server, "the destinations did not take the batch");
    let log = server.stderr();
    // (A stop would wait for the destination's shutdown deadline: not what is shown here.)
    server.kill9();

    let line = log
        .lines()
        .find(|l| l.contains("the destinations did not take the batch"))
        .unwrap();
    assert!(
        line.contains(&format!("{topic}/0 offsets 0..=2: ")),
        "the line names the topic, the partition and the batch's offsets: {line}"
    );
    assert!(line.contains("ack_timeout_ms"), "and the cause: {line}");
    assert!(
        line.contains(&format!("topic=\"{topic}\"")) && line.contains("partition=0"),
        "as fields too: {line}"
    );
    assert!(
        line.contains("first_offset=0") && line.contains("last_offset=2"),
        "{line}"
    );
    // Held up, not skipped: nothing of it is in the partition store.
    assert!(
        id_counts(&root).is_empty(),
        "nothing stored while the batch fails"
    );
}
