//! A target that panics on every retry: the panic hook prints its first panic only
//! (the default hook prints a backtrace each time with `RUST_BACKTRACE`), every panic
//! is counted in the target's stats, the batch is retried until the target takes it,
//! and the other target is not held up.
//!
//! A process of its own (a `[[test]]` in Cargo.toml): it sets the process's panic hook.
// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "common/mod.rs"]
mod common;

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::time::Duration;

use auditrail_core::testing::{MemoryTarget, Scripted};
use auditrail_core::{audit, topics, Dispatcher};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_target_panicking_on_every_retry_is_printed_once_and_each_panic_counted() {
    // Stands for the program's hook (or the default one, which prints): counts the
    // scripted panics that reach it. Set before the dispatcher, which wraps it.
    let printed = Arc::new(AtomicUsize::new(0));
    let seen = printed.clone();
    std::panic::set_hook(Box::new(move |info| {
        let text = info.payload().downcast_ref::<&str>().copied().unwrap_or("");
        if text == "scripted panic" {
            seen.fetch_add(1, SeqCst);
        } else {
            eprintln!("{info}"); // this test's own failures
        }
    }));

    const PANICS: usize = 5;
    let flaky = MemoryTarget::new();
    let healthy = MemoryTarget::new();
    flaky.script(std::iter::repeat_n(Scripted::Panic, PANICS));
    let b = Dispatcher::builder(common::node());
    let b = common::with_memory(b, "flaky", &flaky, common::quick_retries());
    let d = common::with_memory(b, "healthy", &healthy, Default::default())
        .build()
        .unwrap();

    let event = d.emit_acked(audit!(topics::GENERIC, "one")).await.unwrap();

    assert_eq!(
        flaky.send_calls(),
        PANICS + 1,
        "every panic retried, then taken"
    );
    for t in [&flaky, &healthy] {
        let ids: Vec<_> = t.events().iter().map(|e| e.id).collect();
        assert_eq!(ids, [event.id]);
    }
    let stats = common::stats_of(&d.stats(), "flaky").clone();
    assert_eq!(stats.panicked, PANICS as u64, "{stats:?}");
    assert_eq!(stats.retried, PANICS as u64, "{stats:?}");
    assert_eq!(common::stats_of(&d.stats(), "healthy").panicked, 0);
    assert_eq!(
        printed.load(SeqCst),
        1,
        "the hook prints the first panic at a place, not every retry's"
    );
    assert!(d.shutdown(Duration::from_secs(10)).await.is_clean());

    // A panic outside a target call still reaches the program's hook.
    let _ = std::panic::catch_unwind(|| panic!("scripted panic"));
    assert_eq!(printed.load(SeqCst), 2);
}
