//! A target's `Retry-After` is whatever the other side sent (an event server, a proxy):
//! one too long for the clock makes the worker wait for the shutdown deadline, which
//! then dead-letters the batch as for any retry in progress. It used to panic the
//! worker (`now + delay`), and the shutdown reported a crashed worker instead.

mod common;

use std::sync::Arc;
use std::time::Duration;

use auditrail_core::{async_trait, audit, topics, Dispatcher, Event, Filter, Target, TargetError};

/// Asks for a retry in `u64::MAX` seconds, every time.
#[derive(Debug)]
struct FarRetryAfter;

#[async_trait]
impl Target for FarRetryAfter {
    async fn send(&mut self, _batch: &[Arc<Event>]) -> Result<(), TargetError> {
        Err(TargetError::Retryable {
            message: "come back much later".into(),
            retry_after: Some(Duration::MAX),
        })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_batch_is_dead_lettered_at_the_shutdown_deadline() {
    let dir = tempfile::tempdir().unwrap();
    let d = Dispatcher::builder(common::node())
        .dead_letter_dir(dir.path())
        .target(
            "far",
            "far",
            Filter::all(),
            common::quick_retries(),
            Box::new(FarRetryAfter),
        )
        .build()
        .unwrap();
    let id = d.emit(audit!(topics::GENERIC, "login")).unwrap().id;
    common::wait_until_async("the first send failed", || d.stats()[0].retried == 1).await;

    let report = d.shutdown(Duration::from_millis(200)).await;
    let t = &report.targets[0];
    assert_eq!((t.undelivered, t.stats.dead_lettered), (1, 1), "{report:?}");
    let error = t.error.as_deref().unwrap_or_default();
    assert!(error.contains("deadline"), "{report:?}");
    let lines = common::dead_letters(dir.path(), "far");
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["event"]["id"], id.to_string());
}
