//! Events `auditrail send` spooled while the event server was down (exit status 3,
//! "spooled") are on the node's disk: after a power cut right after those runs, the
//! file system mounted again (journal replayed, as at a boot), the next `send` with the
//! server up delivers every one of them, each once. The spool promises this with
//! `spool_fsync = "always"`, the default (docs/targets/eventserver.md).
//!
//! Real parts: the node's run folder (spool, sequence files) on an ext4 file system on
//! a loop device in a private mount namespace (`data=writeback`: a file's data reaches
//! the disk only when that file is synced), the real `auditrail send` in that
//! namespace, ext4's shutdown ioctl without a log flush as the power cut, and the real
//! server over loopback HTTP. Needs root (a loop device); it says so and checks nothing
//! otherwise.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;
use crate::serve_support;
use auditrail_testkit::port::Port;

use std::time::Duration;

use auditrail_testkit::server::{wait_until, ServerProcess};
use serve_support::ext4::Disk;

const RUNS: usize = 5;
const PER_RUN: usize = 20;

fn logins(run: usize) -> String {
    (1..=PER_RUN)
        .map(|i| {
            format!(
                "{{\"topic\":\"generic\",\"message\":{{\"msgType\":\"login\",\"authUser\":\"user-{run}-{i:02}\"}}}}\n"
            )
        })
        .collect()
}

#[test]
fn spooled_events_are_all_delivered_after_a_power_cut() {
    let Some((disk, ns)) = Disk::new(64 << 20) else {
        return;
    };
    let port = Port::new();
    // The config lives outside the cut file system: what is tested is the run folder.
    let config = disk.dir.path().join("node.toml");
    std::fs::write(
        &config,
        format!(
            "node = \"node-cut\"\nrun_dir = \"{}\"\n[[targets]]\ntype = \"eventserver\"\nname = \"central\"\nurl = \"http://127.0.0.1:{port}\"\nshutdown_drain_ms = 300\n",
            disk.mnt.join("run").display()
        ),
    )
    .unwrap();
    let config = config.to_str().unwrap().to_owned();
    let send = ["send", "--config", &config, "--stdin", "--timeout", "1"];

    for run in 1..=RUNS {
        let out = ns.run_auditrail(&send, &logins(run));
        assert_eq!(
            out.status.code(),
            Some(3),
            "spooled: {:?}",
            common::text(&out)
        );
    }
    // The boot after the cut; the server is up now.
    let ns = disk.power_cut_and_boot(ns);
    let data = tempfile::tempdir().unwrap();
    let server = ServerProcess::start_on(data.path(), None, port);
    let out = ns.run_auditrail(
        &send,
        "{\"topic\":\"generic\",\"message\":{\"msgType\":\"login\",\"authUser\":\"after\"}}\n",
    );
    assert_eq!(out.status.code(), Some(0), "{:?}", common::text(&out));

    let mut expected: Vec<String> = (1..=RUNS)
        .flat_map(|run| (1..=PER_RUN).map(move |i| format!("user-{run}-{i:02}")))
        .chain(["after".to_owned()])
        .collect();
    expected.sort();
    wait_until(Duration::from_secs(30), || {
        server.stored().len() >= expected.len()
    });
    assert_eq!(
        common::stored_users(&server),
        expected,
        "every spooled event, each once, after the power cut"
    );
}
