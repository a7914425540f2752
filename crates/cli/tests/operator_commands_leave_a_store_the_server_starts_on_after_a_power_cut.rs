//! An operator command that changes a stopped server's data (`keys rotate`, `store
//! prune`, `store accept`) and returns `0` has made its change durable: after a power cut right after
//! it, the file system mounted again (journal replayed, as at a boot), the server starts
//! on the data without an operator, takes new events, and the store verifies. A cut
//! that kept the rotation's handover line but lost the new key, or the prune's signed
//! record but not the deletions (or the other way round), or the acceptance's line but
//! not the high-water mark that names it (or the other way round), would leave a store
//! that refuses to start or fails `verify`.
//!
//! Real parts: the data folder on an ext4 file system on a loop device in a private
//! mount namespace (`data=writeback`: a file's data reaches the disk only when that
//! file is synced), the real binary in that namespace, ext4's shutdown ioctl without a
//! log flush as the power cut. Needs root (a loop device); it says so and checks
//! nothing otherwise.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;
use crate::serve_support;

use serve_support::ext4::{Disk, Ext4};
use serve_support::{event_line, new_id};

/// Events of node `node` on five days, 2026-11-20 to 2026-11-24.
fn five_days(node: &str, salt: u64) -> String {
    (1..=50u64)
        .map(|seq| {
            let mut line: serde_json::Value =
                serde_json::from_str(&event_line(&new_id(seq, salt), node, seq)).unwrap();
            line["timestamp"] = format!("2026-11-{}T10:00:00Z", 20 + (seq - 1) / 10).into();
            line.to_string()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// What a test reads after the boot to see that the command's change is there (a
/// state the cut rolled back whole would start and verify too).
struct After {
    /// `signing.pub` before the command and after the boot.
    public_key: (String, String),
    /// The ids stored after the boot, with their counts.
    stored: std::collections::HashMap<String, usize>,
    /// The data dir's `acceptances.jsonl` after the boot (empty when there is none).
    acceptances: String,
}

/// Runs `command` on a stopped server's data, cuts the power right after it, boots,
/// checks that the server starts, takes events and the store verifies, and hands what
/// it finds to `effect`.
fn power_cut_after(command: &[&str], effect: impl FnOnce(&After)) {
    let Some((disk, ns)) = Disk::new(64 << 20) else {
        return;
    };
    let data = disk.mnt.join("data");
    serve_support::serve_once(&ns, &data, &five_days("node-1", 0x7001));

    let read = |ns: &Ext4, name: &str| {
        std::fs::read_to_string(ns.outside(&data.join(name))).unwrap_or_default()
    };
    let key_before = read(&ns, "signing.pub");
    let data_dir = data.to_str().unwrap();
    let args: Vec<&str> = command
        .iter()
        .copied()
        .chain(["--data-dir", data_dir])
        .collect();
    let out = ns.run_auditrail(&args, "");
    assert!(
        out.status.success(),
        "{command:?}: {:?}",
        common::text(&out)
    );
    let ns = disk.power_cut_and_boot(ns);
    serve_support::serve_once(&ns, &data, &five_days("node-2", 0x7002));
    let store = data.join("store");
    let verify = ns.run_auditrail(&["verify", store.to_str().unwrap()], "");
    assert!(
        verify.status.success(),
        "verify after {command:?} and a power cut: {:?}",
        common::text(&verify)
    );
    effect(&After {
        public_key: (key_before, read(&ns, "signing.pub")),
        stored: serve_support::stored_ids(&ns.outside(&store)),
        acceptances: read(&ns, "acceptances.jsonl"),
    });
}

#[test]
fn keys_rotate_then_a_power_cut() {
    power_cut_after(&["keys", "rotate"], |after| {
        let (before, now) = &after.public_key;
        assert!(
            !before.is_empty() && before != now,
            "the new key: {before} / {now}"
        );
    });
}

#[test]
fn store_prune_then_a_power_cut() {
    power_cut_after(
        &["store", "prune", "--before", "2026-11-23T00:00:00Z"],
        |after| {
            // node-1's events 1..=30 were on days 20 to 22, 31..=50 on days 23 and 24.
            for seq in 1..=50 {
                let kept = after.stored.contains_key(&new_id(seq, 0x7001));
                assert_eq!(kept, seq > 30, "node-1's event {seq} after the prune");
            }
        },
    );
}

#[test]
fn store_accept_then_a_power_cut() {
    power_cut_after(
        &["store", "accept", "--reason", "power-cut test"],
        |after| {
            assert!(
                after.acceptances.contains("power-cut test"),
                "the acceptance: {:?}",
                after.acceptances
            );
        },
    );
}
