//! `flush` ("delivers everything queued so far") answers `Ok` only when it did: a
//! target that dead-lettered events since the previous flush is named in its error,
//! with the count and the dead-letter file, once. Before, a flush after a permanent
//! error answered `Ok(())` although none of the events queued before it was delivered.

use crate::common;

use std::time::Duration;

use auditrail_core::testing::{MemoryTarget, Scripted};
use auditrail_core::{audit, topics, DeliveryOptions, Dispatcher};

/// A dispatcher with a target that accepts everything and one, `broken`, whose first
/// `permanent` sends fail for good.
fn two_targets(
    dir: &std::path::Path,
    options: DeliveryOptions,
    permanent: usize,
) -> (Dispatcher, MemoryTarget) {
    let broken = MemoryTarget::new();
    broken.script(std::iter::repeat_n(Scripted::Permanent, permanent));
    let b = Dispatcher::builder(common::node()).dead_letter_dir(dir);
    let b = common::with_memory(b, "good", &MemoryTarget::new(), options.clone());
    let d = common::with_memory(b, "broken", &broken, options)
        .build()
        .unwrap();
    (d, broken)
}

async fn flush(d: &Dispatcher) -> Result<(), Vec<(String, auditrail_core::TargetError)>> {
    tokio::time::timeout(common::PATIENCE, d.flush())
        .await
        .unwrap()
}

fn says_dead_lettered(
    answer: &Result<(), Vec<(String, auditrail_core::TargetError)>>,
    dir: &std::path::Path,
) {
    let errors = answer.as_ref().unwrap_err();
    assert_eq!(errors.len(), 1, "{errors:?}");
    let (name, error) = &errors[0];
    assert_eq!(name, "broken");
    let text = error.to_string();
    let file = dir.join("broken.jsonl");
    assert!(
        text.starts_with("3 event(s) not delivered since the previous flush: 3 dead-lettered to ")
            && text.contains(&file.display().to_string()),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flush_that_dead_lettered_what_it_flushed_names_the_target() {
    let dir = tempfile::tempdir().unwrap();
    // The batch waits for the flush: the flush itself sends it, and it fails for good.
    let options = DeliveryOptions {
        batch_max_wait_ms: 60_000,
        ..Default::default()
    };
    let (d, broken) = two_targets(dir.path(), options, 1);
    for i in 0..3u64 {
        d.emit(audit!(topics::GENERIC, "tick", "i" => i)).unwrap();
    }
    says_dead_lettered(&flush(&d).await, dir.path());
    assert_eq!(common::dead_letters(dir.path(), "broken").len(), 3);

    // Reported once; what comes next is judged on its own.
    assert!(
        flush(&d).await.is_ok(),
        "nothing new since the previous flush"
    );
    d.emit(audit!(topics::GENERIC, "tick")).unwrap();
    assert!(flush(&d).await.is_ok(), "the next event was delivered");
    assert_eq!(broken.events().len(), 1);
    d.shutdown(Duration::from_secs(10)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_dead_lettered_before_the_flush_began_are_reported_too() {
    let dir = tempfile::tempdir().unwrap();
    // Fire-and-forget emits may reach the worker as one batch or as several (it may
    // take the first before the others are queued: CI 143): every send fails for good.
    let (d, _broken) = two_targets(dir.path(), DeliveryOptions::default(), 3);
    for i in 0..3u64 {
        d.emit(audit!(topics::GENERIC, "tick", "i" => i)).unwrap();
    }
    // The worker settles them before the flush is even called.
    common::wait_until_async("the events are dead-lettered", || {
        common::stats_of(&d.stats(), "broken").dead_lettered == 3
    })
    .await;
    says_dead_lettered(&flush(&d).await, dir.path());
    d.shutdown(Duration::from_secs(10)).await;
}
