//! Helpers shared by the `store_*` integration tests: events, opening a store, and
//! reading the real files back through the store's own walker and reader (shared with
//! the other crates' tests in `auditrail_testkit::store`).
#![allow(dead_code, unused_imports)]

pub(crate) mod removed_folder;

pub(crate) use auditrail_testkit::store::{
    config, event, events, lines, open, received, segments, stored_events, verify_chain,
};
