//! A Kafka source whose partition stores are inside the data folder (`store_root` under
//! it, as docs/scale-out.md places them), the data folder moved away while the server
//! reads (`mv s-data s-data.moved`): the partition's next batch found its owner file
//! gone, took the store for taken over by another server and closed it (fenced: the
//! partition was read no more until the group assigned it again, which it does not
//! for a lone server). Now the batch waits for the data folder (the data folder's
//! check, `auditrail_core::folder_check`): nothing is made at its path, nothing of the
//! batch is stored, the log names the folder and says to move it back; once it is back
//! the batch is stored, every event once.
#![cfg(feature = "kafka")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::kafka_support;
use crate::serve_support;

use kafka_support::{id_counts, one_source_in_data_dir, produce_events, verify};
use serve_support::{start, wait_until};

const SALT: u64 = 661;

#[test]
fn a_kafka_partitions_batch_waits_for_its_data_folder_moved_away() {
    let src = one_source_in_data_dir("movedbatch");
    let d = src.dir.path();
    produce_events(&src.brokers, &src.topic, 1, 5, SALT);
    let server = start(d, &["--config", "s.toml"]);
    wait_until("the first events stored", &[&server], || {
        id_counts(&src.root).len() == 5
    });

    let data = d.join("s-data");
    let moved = d.join("s-data.moved");
    std::fs::rename(&data, &moved).unwrap();
    produce_events(&src.brokers, &src.topic, 6, 10, SALT);
    let said = "move the data folder back to its path";
    wait_until("the batch refused for the data folder", &[&server], || {
        server.stderr().contains(said)
    });
    assert!(
        !data.exists(),
        "the data folder was made again at its path: {}",
        server.stderr()
    );
    let log = server.stderr();
    let line = log.lines().find(|l| l.contains(said)).unwrap();
    assert!(
        line.contains(&data.display().to_string())
            && line.contains("nothing of the batch is committed"),
        "{line}"
    );
    assert_eq!(id_counts(&moved.join("parts")).len(), 5, "{log}");

    // Back: the same store (not fenced) stores the batch.
    std::fs::rename(&moved, &data).unwrap();
    wait_until("every event stored", &[&server], || {
        id_counts(&src.root).len() == 10
    });
    let log = server.stderr();
    assert_eq!(server.terminate(), 0);
    assert!(!log.contains("was taken over"), "{log}");
    let stored = id_counts(&src.root);
    assert!(stored.values().all(|n| *n == 1), "{stored:?}");
    let (code, report) = verify(&src.root, &src.public);
    assert_eq!(code, 0, "{report:#}");
}
