//! The checkpoint log's live piece is created with the store's data mode (`0640` less
//! the umask, as its segments are), the first one and each one a seal puts in place:
//! under the usual umask `022` they were `0644`, readable by every local user.
//!
//! A process of its own (a `[[test]]` in Cargo.toml): it sets the process's umask.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "retention_support/mod.rs"]
mod retention_support;

use std::os::unix::fs::PermissionsExt;

use auditrail_store::checkpoint_pieces::sealed_pieces;
use auditrail_store::CHECKPOINT_LOG;
use retention_support::Store;

fn mode(path: &std::path::Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_live_piece_is_created_with_the_data_mode_before_and_after_a_seal() {
    // The usual umask, whatever the test runner's: std's default mode for a new file
    // (0666) gives 0644 under it.
    rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o022));
    let mut store = Store::in_small_pieces();
    let open = store.open();
    let live = store.root.join(CHECKPOINT_LOG);
    assert_eq!(mode(&live), 0o640, "the first live piece");

    store.write_days(&open, 1..=2, 60).await;
    let sealed = sealed_pieces(&store.root).unwrap();
    assert!(!sealed.is_empty(), "the live piece was sealed");
    assert_eq!(
        mode(&live),
        0o640,
        "the live piece a seal put in place ({} sealed pieces)",
        sealed.len()
    );
    for p in &sealed {
        assert_eq!(mode(&p.path), 0o440, "{} is read-only", p.name);
    }
    store.close(open).await;
}
