//! An acknowledged emit fails when an accepting target can never take the event, and
//! the error names that target and why; the other targets still get the event.

use crate::common;

use std::time::Duration;

use auditrail_core::testing::{MemoryTarget, Scripted};
use auditrail_core::{audit, topics, AckError, Dispatcher};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ack_error_names_the_failing_target() {
    let dir = tempfile::tempdir().unwrap();
    let broken = MemoryTarget::new();
    let fine = MemoryTarget::new();
    broken.script([Scripted::Permanent]);
    let b = Dispatcher::builder(common::node()).dead_letter_dir(dir.path());
    let b = common::with_memory(b, "broken", &broken, Default::default());
    let d = common::with_memory(b, "fine", &fine, Default::default())
        .build()
        .unwrap();

    let err = d
        .emit_acked(audit!(topics::GENERIC, "login"))
        .await
        .unwrap_err();
    let AckError::NotDelivered { id, failures } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0].target, "broken");
    assert!(
        failures[0].reason.contains("scripted permanent failure"),
        "{err}"
    );
    assert_eq!(fine.events()[0].id, *id);

    // The next event goes through: the failure was about that batch only.
    d.emit_acked(audit!(topics::GENERIC, "login"))
        .await
        .unwrap();
    d.shutdown(Duration::from_secs(10)).await;
}
