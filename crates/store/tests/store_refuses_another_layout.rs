//! A store opened with a config whose layout (`folder_by_topic`,
//! `folder_by_routing_key`, `partitioning`) differs from the folders already in it is
//! refused, naming the first folder that does not fit and the layout that does: the
//! writer would otherwise add folders of a second shape, which retention and queries
//! (decoding folders under one layout) would never find again. Opened with its own
//! layout it takes events as before.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::store_support;

use auditrail_store::{StoreError, StoreTarget};
use serde_json::json;
use store_support::*;

#[test]
fn a_changed_partitioning_is_refused_and_the_written_one_still_opens() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("store");
    let day = json!({"partitioning": "day"});
    let store = open(&root, day.clone());
    store.send_blocking(&events(1, 3)).unwrap();
    drop(store);

    for other in [
        json!({}),
        json!({"partitioning": "month"}),
        json!({"partitioning": "day", "folder_by_routing_key": false}),
    ] {
        let err = StoreTarget::open(&root, &config(other.clone()), "store")
            .err()
            .unwrap_or_else(|| panic!("{other} opened a day-partitioned store"));
        let msg = err.to_string();
        assert!(matches!(err, StoreError::LayoutMismatch(_)), "{msg}");
        assert!(
            msg.contains(
                "folder_by_topic = true, folder_by_routing_key = true, partitioning = \"day\""
            ),
            "{other}: {msg}"
        );
    }
    assert_eq!(
        segments(&root).len(),
        1,
        "nothing was written by a refused open"
    );

    open(&root, day).send_blocking(&events(4, 2)).unwrap();
    assert_eq!(stored_events(&root).len(), 5);
}
