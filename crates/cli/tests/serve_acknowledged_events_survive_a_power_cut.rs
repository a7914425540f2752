//! Every event the server acknowledged with `200` is on disk: after a power cut in the
//! middle of ingest, the file system mounted again (journal replayed, as at a boot)
//! holds each acknowledged event exactly once, the server starts on it without an
//! operator, takes new events, and the store verifies. A `kill -9` (the other crash
//! tests) leaves the page cache to the kernel; only a power cut shows whether the
//! server made its files, their names and its marks durable before it answered.
//!
//! Real parts: an ext4 file system on a loop device in a private mount namespace
//! (`data=writeback`: a file's data reaches the disk only when that file is synced, as
//! on XFS, not with another file's journal commit), the
//! real server in that namespace, two clients posting batches over loopback HTTP, and
//! ext4's shutdown ioctl without a log flush as the power cut (what xfstests' fsync
//! tests use: from that instant nothing reaches the disk). Needs root (a loop device);
//! it says so and checks nothing otherwise.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::serve_support;

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use auditrail_testkit::server::{wait_until, ServerProcess};
use serve_support::ext4::Disk;
use serve_support::post_until;

const BATCH: u64 = 200;

#[test]
fn acknowledged_events_are_all_there_after_a_power_cut_in_the_middle_of_ingest() {
    power_cut_after(30);
}

/// The first start's own files (store id, signing key, marks) must be durable too: a
/// cut seconds after the start, within ext4's 5 s journal commit, finds them.
#[test]
fn acknowledged_events_are_all_there_after_a_power_cut_right_after_the_first_start() {
    power_cut_after(1);
}

/// Cuts the power once `batches` batches were acknowledged, while both clients post.
fn power_cut_after(batches: usize) {
    let Some((disk, ns)) = Disk::new(256 << 20) else {
        return;
    };
    let data = disk.mnt.join("data");
    let wrapper = ns.enter();
    let wrapper: Vec<&str> = wrapper.iter().map(String::as_str).collect();
    // The default store, with the smallest segments, so that files roll over all along.
    let config = disk.dir.path().join("server.toml");
    std::fs::write(
        &config,
        "[[destinations]]\ntype = \"store\"\npath = \"store\"\nsegment_max_bytes = 4096\n",
    )
    .unwrap();
    let mut server = ServerProcess::start_through(&data, Some(&config), &wrapper);

    let stop = Arc::new(AtomicBool::new(false));
    // The clients stop also when this test fails half-way (they would post for the
    // rest of the test binary's run).
    let _stop_on_failure = StopOnDrop(stop.clone());
    let acked = Arc::new(Mutex::new(Vec::new()));
    let clients: Vec<_> = (1..=2)
        .map(|node| {
            let (addr, stop, acked) = (server.addr.clone(), stop.clone(), acked.clone());
            std::thread::spawn(move || post_until(addr, node, BATCH, stop, acked))
        })
        .collect();
    // Cut the power in the middle of ingest: batches are in flight from both clients.
    assert!(
        wait_until(std::time::Duration::from_secs(60), || {
            acked.lock().unwrap().len() >= batches * BATCH as usize
        }),
        "the server acknowledged too little before the cut; its log:\n{}",
        server.log()
    );
    // The server is frozen first: it answers nothing after the cut instant (see
    // `Ext4::power_cut_freezing`), so every `200` the clients got was sent before it.
    ns.power_cut_freezing(&[server.pid()]);
    stop.store(true, Ordering::Relaxed);
    // Killed before the clients are waited for: their requests in flight then end.
    server.kill9();
    for c in clients {
        c.join().unwrap();
    }
    let acked: Vec<String> = std::mem::take(&mut *acked.lock().unwrap());
    // The boot after the cut.
    let ns = disk.boot(ns);
    serve_support::serve_after_the_boot(&ns, &data, &config, &acked);
    let unique: HashSet<&String> = acked.iter().collect();
    assert_eq!(unique.len(), acked.len(), "the test's own ids are unique");

    let store = data.join("store");
    let verify = ns.run_auditrail(&["verify", store.to_str().unwrap()], "");
    assert!(
        verify.status.success(),
        "verify after the power cut:\n{}{}",
        String::from_utf8_lossy(&verify.stdout),
        String::from_utf8_lossy(&verify.stderr)
    );
}

/// Sets the clients' stop flag when dropped.
struct StopOnDrop(Arc<AtomicBool>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}
