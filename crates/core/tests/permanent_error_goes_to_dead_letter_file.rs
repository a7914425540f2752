//! A permanent error is never silent: the events are written to the target's
//! dead-letter file (JSON lines naming the error and holding the event) and counted.

use crate::common;

use std::time::Duration;

use auditrail_core::testing::{MemoryTarget, Scripted};
use auditrail_core::{audit, topics, Dispatcher, Event};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn permanently_failed_event_is_in_the_dead_letter_file() {
    let dir = tempfile::tempdir().unwrap();
    let target = MemoryTarget::new();
    target.script([Scripted::Permanent]);
    let b = Dispatcher::builder(common::node()).dead_letter_dir(dir.path());
    let d = common::with_memory(b, "broken", &target, Default::default())
        .build()
        .unwrap();

    let err = d
        .emit_acked(audit!(topics::AUTHFAIL, "login-failed", "authUser" => "mallory"))
        .await
        .unwrap_err();
    let id = match &err {
        auditrail_core::AckError::NotDelivered { id, .. } => *id,
        other => panic!("{other:?}"),
    };

    let lines = common::dead_letters(dir.path(), "broken");
    assert_eq!(lines.len(), 1);
    let line = &lines[0];
    assert_eq!(line["target"], "broken");
    assert!(
        line["error"]
            .as_str()
            .unwrap()
            .contains("scripted permanent failure"),
        "{line}"
    );
    assert!(line["failedAt"].is_string());
    // The stored event is the full wire form: it can be re-sent as it is.
    let event = Event::from_json(&line["event"].to_string()).unwrap();
    assert_eq!(event.id, id);
    assert_eq!(event.message.get("authUser").unwrap(), "mallory");

    assert_eq!(target.send_calls(), 1, "a permanent error is not retried");
    let stats = &d.stats()[0];
    assert_eq!(
        (stats.dead_lettered, stats.delivered, stats.pending()),
        (1, 0, 0)
    );
    d.shutdown(Duration::from_secs(10)).await;
}
