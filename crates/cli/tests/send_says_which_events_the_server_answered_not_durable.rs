//! `auditrail send` through an `eventserver` target reported an event delivered, exit
//! status 0, when the server had answered `durable: false` (a store with a flush
//! policy: written, not fsynced), and the node had deleted it from its spool: nothing
//! told the user that a power loss of the server could still lose it. The summary now
//! counts such events (`notDurable`), the target's stderr line says `NOT DURABLE at
//! the event server`, and the exit status is 5; against a server that fsyncs, nothing
//! of the kind, exit status 0. A real server, a real node spool, real HTTP.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::serve_support::{send_one_login, Sent, UNSYNCED_STORE};

/// Sends one event to a server started with `destination` (none: the default durable
/// store).
fn send_to(destination: Option<&str>) -> Sent {
    send_one_login("node-durable", "", destination)
}

#[test]
fn an_event_the_server_answered_not_durable_is_counted_and_exits_5() {
    let sent = send_to(Some(UNSYNCED_STORE));
    let (summary, stderr) = (&sent.summary, &sent.stderr);
    assert_eq!(sent.status, Some(5), "{summary}\n{stderr}");
    assert_eq!(summary["acknowledged"], 1, "{summary}");
    assert_eq!(summary["notDurable"], 1, "{summary}");
    let line = sent.target_line();
    assert!(
        line.contains("1 delivered") && line.contains("1 NOT DURABLE at the event server"),
        "{line}"
    );
}

#[test]
fn an_event_the_server_answered_durable_exits_0() {
    send_to(None).assert_durable();
}
