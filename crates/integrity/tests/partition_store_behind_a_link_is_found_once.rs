//! A Kafka source's partition store whose partition folder was moved to another disk,
//! with a symbolic link left at its path (the documented way to move a store), is
//! found by the commands given a data folder (`verify`, `store prune`: `stores_under`),
//! once, while a link back up and a second link to the same topic folder still end the
//! walk. Before, `find_partition_stores` did not follow links at all (to avoid loops):
//! the moved partition store was left out of `verify` without a word.

use std::fs;
use std::path::Path;

use auditrail_integrity::marks_folder::{find_partition_stores, stores_under};

/// A partition folder as a source leaves it: its owner file and a store in `store`.
fn partition_folder(at: &Path) {
    fs::create_dir_all(at.join("store")).unwrap();
    fs::write(at.join("owner"), "{}\n").unwrap();
    auditrail_store::root::write_store_id(
        &at.join("store"),
        "0190aaaa-0000-7000-8000-000000000001",
    )
    .unwrap();
}

#[test]
fn a_partition_folder_behind_a_link_is_found_once_and_links_back_up_end_the_walk() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let topic = data.join("parts/audit");
    partition_folder(&topic.join("0"));
    // Partition 1 moved to another disk, a link left at its path.
    let other = tmp.path().join("other-disk");
    partition_folder(&other.join("1"));
    std::os::unix::fs::symlink(other.join("1"), topic.join("1")).unwrap();
    // A link back up, and a second path to the topic folder.
    std::os::unix::fs::symlink("..", data.join("parts/loop")).unwrap();
    std::os::unix::fs::symlink(&topic, data.join("parts/again")).unwrap();

    let want = vec![topic.join("0/store"), topic.join("1/store")];
    assert_eq!(find_partition_stores(&data), want);
    assert_eq!(stores_under(&data), want);
}
