//! `auditrail send` through an `eventserver` target with `spool = false` (direct mode)
//! reported an event delivered, exit status 0, `notDurable` 0, when the server had
//! answered `durable: false` (a store with a flush policy: written, not fsynced): the
//! server's answer was counted only by a spooled target's forwarding probe. The target
//! now counts what its server answered not durable for the dispatcher
//! (`Target::taken_not_durable`, `TargetStats::not_durable`): the summary counts the
//! event in `notDurable`, the target's stderr line says `NOT DURABLE at the event
//! server`, and the exit status is 5; against a server that fsyncs, nothing of the
//! kind, exit status 0 (the target's durability, "depends on the answer", does not
//! make its events not durable by itself). A real server, real HTTP over loopback.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::serve_support::{send_one_login, Sent, UNSYNCED_STORE};

/// Sends one event in direct mode to a server started with `destination` (none: the
/// default durable store).
fn send_direct_to(destination: Option<&str>) -> Sent {
    let sent = send_one_login("node-direct", "spool = false", destination);
    assert!(
        !sent.node.path().join("run").join("spool").exists(),
        "direct mode keeps no spool: {}",
        sent.stderr
    );
    sent
}

#[test]
fn an_event_the_server_answered_not_durable_is_counted_and_exits_5() {
    let sent = send_direct_to(Some(UNSYNCED_STORE));
    let (summary, stderr) = (&sent.summary, &sent.stderr);
    assert_eq!(sent.status, Some(5), "{summary}\n{stderr}");
    assert_eq!(summary["acknowledged"], 1, "{summary}");
    assert_eq!(summary["spooled"], 0, "{summary}");
    assert_eq!(summary["notDurable"], 1, "{summary}");
    let line = sent.target_line();
    assert!(
        line.contains("1 delivered") && line.contains("1 NOT DURABLE at the event server"),
        "{line}"
    );
    assert!(!line.contains("NOT DURABLE on this node"), "{line}");
}

#[test]
fn an_event_the_server_answered_durable_exits_0() {
    send_direct_to(None).assert_durable();
}
