//! `auditrail send --stdin` streams events while the event server is down: 100 wait in
//! the spool, and the sender, which has read them, keeps trying to send them, when the
//! spool folder is removed (`rm -rf run/spool/central`, a cleanup job) and 100 more
//! events come. The sender still holds the first 100: once the server is back, all 200
//! are delivered and stored, and nothing is reported lost: `lost` 0, exit 0, no
//! "spooled events LOST", and `auditrail spool inspect` lists no loss (exit 0).

use std::time::Duration;

use crate::common;
use crate::spool_support;
use auditrail_testkit::port::Port;
use auditrail_testkit::server::{wait_until, ServerProcess};

/// Only a guard against a hang, never a measure.
const GUARD: Duration = Duration::from_secs(120);

#[test]
fn events_the_sender_held_when_the_spool_folder_went_are_delivered_and_not_counted_lost() {
    let port = Port::new();
    let node = spool_support::spooling_node("node-held", &port);
    // Room for every batch the first 100 events may be read in.
    spool_support::add_to_target(&node, "max_in_flight = 64\n");
    let mut send = common::StreamingSend::start(&node, &["--timeout", "120"]);
    send.write_logins(100);
    assert!(
        wait_until(GUARD, || spool_support::first_tries(&send.log) == 100),
        "the sender never tried all 100: {}",
        send.stderr()
    );

    std::fs::remove_dir_all(node.path().join("run/spool/central")).unwrap();
    send.write_logins(100);
    // Their append took the folder back, forgetting the removed segment, before the
    // server is up.
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
        wait_until(GUARD, || server.stored().len() >= 200),
        "stored {}",
        server.stored().len()
    );
    assert_eq!(server.stored().len(), 200);
    assert_eq!(
        (
            &summary["acknowledged"],
            &summary["lost"],
            &summary["lostSpoolSegments"]
        ),
        (&200.into(), &0.into(), &0.into()),
        "{summary} {stderr}"
    );
    assert_eq!(status, Some(0), "{summary} {stderr}");
    assert!(!stderr.contains("spooled events LOST"), "{stderr}");

    let inspect = node.run(&["spool", "inspect", "--config", "node.toml"], "");
    let (out, err) = common::text(&inspect);
    assert_eq!(inspect.status.code(), Some(0), "{out}{err}");
    assert!(!out.contains("LOST"), "{out}");
}
