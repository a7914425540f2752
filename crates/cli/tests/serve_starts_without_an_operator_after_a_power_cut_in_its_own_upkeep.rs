//! A power cut while the server does its own upkeep besides ingest (retention deleting
//! old partitions, checkpoints signed every N records instead of every batch, the first
//! lines and batches of a start after a clean stop, checkpoint lines handed to a
//! witness) leaves a data folder it starts on
//! without an operator after the boot (journal replayed): every event it acknowledged
//! is there once, it takes new events, and `verify` passes. Each step of that upkeep is
//! two writes or more (a signed line, then the high-water mark naming it, then the
//! deletions; a start's own line before the first record after a clean stop): a cut
//! between two of them that left them out of order would make the server refuse its
//! store (a mark naming a line the log lost, records after a clean stop's line) or
//! `verify` fail (a witness holding a line the log lost).
//!
//! Real parts: an ext4 file system on a loop device in a private mount namespace
//! (`data=writeback`: a file's data reaches the disk only when that file is synced), the
//! real server in it, two clients posting over loopback HTTP, and the power cut of
//! `Ext4::power_cut_freezing`: the server frozen, then ext4's shutdown ioctl without a
//! log flush. Needs root (a loop device); it says so and checks nothing otherwise.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::serve_support;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use auditrail_testkit::server::{wait_until, ServerProcess};
use serve_support::ext4::Disk;
use serve_support::{event_line, new_id, post_until};

const BATCH: u64 = 100;

/// Retention at the start deletes 120 day partitions (one signed line, the mark, then
/// the files and folders) while two clients post; the cut comes once the server logged
/// the deletion.
#[test]
fn retention_deleting_old_partitions_while_ingest_goes_on() {
    power_cut_during(RETENTION, Before::OldDays(120), 2, |server, _| {
        server.log().contains("retention deleted time partitions")
    });
}

/// The same without ingest: no later seal makes the deletion's line durable for it, so
/// the cut comes right after the server deleted the files on the word of that line.
#[test]
fn retention_deleting_old_partitions_of_an_idle_server() {
    power_cut_during(RETENTION, Before::OldDays(120), 0, |server, _| {
        server.log().contains("retention deleted time partitions")
    });
}

const RETENTION: &str = "[[destinations]]\ntype = \"store\"\npath = \"store\"\nretention = \"30d\"\nsegment_max_bytes = 4096\n";

/// Checkpoints every 300 records (`seal_every_batch = false`): acknowledged records
/// after the last line are signed as recovered after the boot.
#[test]
fn periodic_checkpoints_while_ingest_goes_on() {
    let config = "[checkpoints]\nseal_every_batch = false\nevery_records = 300\n\n[[destinations]]\ntype = \"store\"\npath = \"store\"\nsegment_max_bytes = 4096\n";
    power_cut_during(config, Before::Nothing, 2, |_, acked| {
        acked >= 20 * BATCH as usize
    });
}

/// A start after a clean stop writes its own line before it takes a record (records
/// after the clean stop's line would be refused at the next start as written while no
/// server ran). Checkpoints are signed only at start and stop here
/// (`seal_every_batch = false`, no count, no time), so no seal makes that line durable
/// for it: the cut comes once the first batches are acknowledged, their records
/// fsynced after it.
#[test]
fn the_first_batches_after_a_restart_from_a_clean_stop() {
    let config = "[checkpoints]\nseal_every_batch = false\nevery_records = 0\nevery_seconds = 0\n\n[[destinations]]\ntype = \"store\"\npath = \"store\"\nsegment_max_bytes = 4096\n";
    power_cut_during(config, Before::CleanStop, 2, |_, acked| {
        acked >= 2 * BATCH as usize
    });
}

/// Every published checkpoint line goes to a witness (a second event server, off the
/// cut disk) through the server's own spool and sequence numbers on the cut disk:
/// after the boot the witness holds no line the log lost, nor one the log holds
/// otherwise (`verify --witness` passes: no `rolled-back`, no `forked`).
#[test]
fn publishing_checkpoints_to_a_witness_while_ingest_goes_on() {
    let witness_dir = tempfile::tempdir().unwrap();
    let witness = ServerProcess::start(&witness_dir.path().join("data"), None);
    let config = format!(
        "[checkpoints]\nevery_records = 200\n\n[[witnesses]]\ntype = \"eventserver\"\nurl = \"{}\"\n\n[[destinations]]\ntype = \"store\"\npath = \"store\"\nsegment_max_bytes = 4096\n",
        witness.url
    );
    let witnessed = witness_dir.path().join("data/store");
    let witnessed = witnessed.to_str().unwrap();
    power_cut_during_verified(
        &config,
        Before::Nothing,
        2,
        |_, acked| acked >= 20 * BATCH as usize,
        &["--witness", witnessed],
    );
}

/// What the data folder holds before the server that is cut starts.
enum Before {
    Nothing,
    /// A server ran, took a batch and stopped cleanly.
    CleanStop,
    /// A server took one event on each of this many days, ending 40 days ago, and one
    /// of today (so that the newest record's partition, which a prune keeps, is not old),
    /// and stopped cleanly.
    OldDays(u64),
}

/// Starts the server on what `before` left, with `clients` clients posting, cuts the
/// power once `cut_when` (given the server and how many events it acknowledged) holds,
/// boots, and checks.
fn power_cut_during(
    config: &str,
    before: Before,
    clients: u64,
    cut_when: impl Fn(&ServerProcess, usize) -> bool,
) {
    power_cut_during_verified(config, before, clients, cut_when, &[]);
}

/// [`power_cut_during`], `verify` given `verify_args` too.
fn power_cut_during_verified(
    config: &str,
    before: Before,
    clients: u64,
    cut_when: impl Fn(&ServerProcess, usize) -> bool,
    verify_args: &[&str],
) {
    let Some((disk, ns)) = Disk::new(256 << 20) else {
        return;
    };
    let data = disk.mnt.join("data");
    let config_path = disk.dir.path().join("server.toml");
    std::fs::write(&config_path, config).unwrap();
    match before {
        Before::Nothing => {}
        Before::CleanStop => serve_support::serve_once(&ns, &data, &day_events(0, 0x7100)),
        Before::OldDays(days) => serve_support::serve_once(&ns, &data, &day_events(days, 0x7200)),
    }

    let wrapper = ns.enter();
    let wrapper: Vec<&str> = wrapper.iter().map(String::as_str).collect();
    let mut server = ServerProcess::start_through(&data, Some(&config_path), &wrapper);
    let stop = Arc::new(AtomicBool::new(false));
    let acked = Arc::new(Mutex::new(Vec::new()));
    let clients: Vec<_> = (1..=clients)
        .map(|node| {
            let (addr, stop, acked) = (server.addr.clone(), stop.clone(), acked.clone());
            std::thread::spawn(move || post_until(addr, node, BATCH, stop, acked))
        })
        .collect();
    assert!(
        wait_until(Duration::from_secs(30), || {
            let n = acked.lock().unwrap().len();
            cut_when(&server, n)
        }),
        "the server did not get there before the cut; its log:\n{}",
        server.log()
    );
    // Frozen, the server answers nothing after the cut instant: every `200` the
    // clients got, also those they read after it, was sent before it.
    ns.power_cut_freezing(&[server.pid()]);
    stop.store(true, Ordering::Relaxed);
    // Killed before the clients are waited for: their requests in flight then end.
    server.kill9();
    for c in clients {
        c.join().unwrap();
    }
    let acked: Vec<String> = acked.lock().unwrap().clone();

    // The boot after the cut: the server starts without an operator.
    let ns = disk.boot(ns);
    serve_support::serve_after_the_boot(&ns, &data, &config_path, &acked);

    let store = data.join("store");
    let mut args = vec!["verify", store.to_str().unwrap()];
    args.extend_from_slice(verify_args);
    let verify = ns.run_auditrail(&args, "");
    assert!(
        verify.status.success(),
        "verify after the power cut:\n{}{}",
        String::from_utf8_lossy(&verify.stdout),
        String::from_utf8_lossy(&verify.stderr)
    );
}

/// One event on each of `days` days ending 40 days ago, and one of now.
fn day_events(days: u64, salt: u64) -> String {
    use auditrail::Timestamp;
    const DAY_MS: i64 = 86_400_000;
    let now = Timestamp::now().unix_millis();
    (0..=days)
        .map(|d| {
            let mut line: serde_json::Value =
                serde_json::from_str(&event_line(&new_id(d + 1, salt), "node-0", d + 1)).unwrap();
            let back = if d == days { 0 } else { (40 + days - d) as i64 };
            let at = Timestamp::from_unix_millis(now - back * DAY_MS).unwrap();
            line["timestamp"] = at.to_string().into();
            line.to_string()
        })
        .collect::<Vec<_>>()
        .join("\n")
}
