//! `auditrail send --stdin` streams 40 events while the event server is down, its sender
//! sending one batch of at most 10 at a time: it has read the first batch and keeps
//! trying it, while the rest wait in the spool unread, when the spool folder is removed
//! (`rm -rf run/spool/central`). The unread ones are lost, and said so: `lost`,
//! `lostSpoolSegments` 1, exit 4, and `auditrail spool inspect` lists them (exit 1).
//! The batch the sender held and the 5 events sent after the removal are delivered,
//! and not counted lost.

use std::time::Duration;

use crate::common;
use crate::spool_support;
use auditrail_testkit::port::Port;
use auditrail_testkit::server::{wait_until, ServerProcess};

/// Only a guard against a hang, never a measure.
const GUARD: Duration = Duration::from_secs(120);

/// What `auditrail spool inspect --json` says waits in the spool.
fn pending(node: &common::Node) -> Option<u64> {
    let out = node.run(&["spool", "inspect", "--config", "node.toml", "--json"], "");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).ok()?;
    v[0]["pendingEvents"].as_u64()
}

#[test]
fn events_still_unread_in_the_spool_when_its_folder_went_are_counted_lost() {
    let port = Port::new();
    let node = spool_support::spooling_node("node-unread", &port);
    spool_support::add_to_target(&node, "max_in_flight = 1\nsend_batch_max_events = 10\n");
    let mut send = common::StreamingSend::start(&node, &["--timeout", "120"]);
    send.write_logins(40);
    // The sender read one batch (at most 10) and keeps trying it: its one request in
    // flight leaves the others spooled, unread.
    assert!(
        wait_until(GUARD, || spool_support::first_tries(&send.log) > 0),
        "{}",
        send.stderr()
    );
    assert!(
        wait_until(GUARD, || pending(&node) == Some(40)),
        "{:?} {}",
        pending(&node),
        send.stderr()
    );
    let read = spool_support::first_tries(&send.log);
    assert!((1..=10).contains(&read), "{}", send.stderr());
    let unread = 40 - read;

    std::fs::remove_dir_all(node.path().join("run/spool/central")).unwrap();
    send.write_logins(5);
    assert!(
        wait_until(GUARD, || send
            .stderr()
            .contains("the spool folder was removed by another program")),
        "{}",
        send.stderr()
    );

    let data = tempfile::tempdir().unwrap();
    let server = ServerProcess::start_on(data.path(), None, port);
    let (status, summary, stderr) = spool_support::finish(send);
    assert!(
        wait_until(GUARD, || server.stored().len() as u64 >= read + 5),
        "stored {}",
        server.stored().len()
    );
    assert_eq!(server.stored().len() as u64, read + 5);
    assert_eq!(
        (&summary["lost"], &summary["lostSpoolSegments"]),
        (&unread.into(), &1.into()),
        "{summary} {stderr}"
    );
    assert_eq!(status, Some(4), "{summary} {stderr}");
    assert!(
        stderr.contains(&format!(
            "spooled events LOST: 1 spool segment file(s) deleted, moved or cut by hand \
             ({unread} event(s) known"
        )),
        "{stderr}"
    );

    let inspect = node.run(&["spool", "inspect", "--config", "node.toml"], "");
    let (out, err) = common::text(&inspect);
    assert_eq!(inspect.status.code(), Some(1), "{out}{err}");
    let lost: Vec<&str> = out.lines().filter(|l| l.contains("LOST")).collect();
    assert_eq!(lost.len(), 1, "{out}");
    assert!(lost[0].contains(&format!(": {unread} events (")), "{out}");
}
