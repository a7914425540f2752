//! A target's `Retry-After` is whatever the other side sent (an event server, or a
//! proxy's maintenance page in front of it): the worker waits at most
//! `retry_max_backoff_ms`, then sends the batch again. One answer asking for a day (or
//! for longer than the clock can count: that used to panic the worker at `now + delay`)
//! used to stop the target for that long although the destination answered again at once.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::time::Duration;

use auditrail_core::{
    async_trait, audit, topics, DeliveryOptions, Dispatcher, Event, Filter, Target, TargetError,
};

/// Asks for a retry in `asked` on the first send, takes every later one.
#[derive(Debug)]
struct AsksOnce {
    asked: Duration,
    sends: Arc<AtomicUsize>,
}

#[async_trait]
impl Target for AsksOnce {
    async fn send(&mut self, _batch: &[Arc<Event>]) -> Result<(), TargetError> {
        if self.sends.fetch_add(1, SeqCst) == 0 {
            return Err(TargetError::Retryable {
                message: "come back much later".into(),
                retry_after: Some(self.asked),
            });
        }
        Ok(())
    }
}

async fn delivered_after_asking_for(asked: Duration) {
    let dir = tempfile::tempdir().unwrap();
    let sends = Arc::new(AtomicUsize::new(0));
    let options = DeliveryOptions {
        retry_initial_backoff_ms: 1,
        retry_max_backoff_ms: 50,
        ..Default::default()
    };
    let d = Dispatcher::builder(common::node())
        .dead_letter_dir(dir.path())
        .target(
            "asks",
            "asks",
            Filter::all(),
            options,
            Box::new(AsksOnce {
                asked,
                sends: sends.clone(),
            }),
        )
        .build()
        .unwrap();
    let acked = d.emit_acked(audit!(topics::GENERIC, "login"));
    match tokio::time::timeout(common::PATIENCE, acked).await {
        Ok(result) => drop(result.unwrap()),
        Err(_) => common::fail_leaving(
            d,
            &format!(
                "not delivered within {:?} after Retry-After {asked:?}",
                common::PATIENCE
            ),
        ),
    }
    assert_eq!(sends.load(SeqCst), 2);
    let report = d.shutdown(Duration::from_secs(5)).await;
    assert_eq!(report.targets[0].stats.delivered, 1, "{report:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_after_of_a_day_waits_only_the_maximum_backoff() {
    delivered_after_asking_for(Duration::from_secs(86_400)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_after_beyond_the_clock_waits_only_the_maximum_backoff() {
    delivered_after_asking_for(Duration::MAX).await;
}
