//! Once a target took a batch, the dispatcher lets go of its events: nothing it holds
//! keeps delivered events alive, whether a batch is freed on the worker or (large
//! batches) on a blocking thread, on the dispatcher's own runtime or on a user's
//! current-thread runtime.

// The helpers below are test code outside `#[test]` functions.
#![allow(clippy::unwrap_used)]

use crate::common;

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use auditrail_core::{
    async_trait, audit, topics, DeliveryOptions, Dispatcher, Event, Filter, Target, TargetError,
};

/// Keeps a weak reference to every event it takes; holds its first batch until `go`,
/// so that the events emitted meanwhile queue up and arrive in large batches.
struct Watch {
    seen: Arc<Mutex<Vec<Weak<Event>>>>,
    go: Arc<AtomicBool>,
    batches: Arc<Mutex<Vec<usize>>>,
}

#[async_trait]
impl Target for Watch {
    async fn send(&mut self, batch: &[Arc<Event>]) -> Result<(), TargetError> {
        while !self.go.load(Ordering::SeqCst) {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        self.batches.lock().unwrap().push(batch.len());
        self.seen
            .lock()
            .unwrap()
            .extend(batch.iter().map(Arc::downgrade));
        Ok(())
    }
}

/// Runs a future to its end on the runtime that drives the workers (or beside it).
type BlockOn<'a> = &'a dyn Fn(Pin<Box<dyn Future<Output = ()> + '_>>);

fn emit_and_check(handle: Option<tokio::runtime::Handle>, block_on: BlockOn<'_>) {
    const N: u64 = 3000;
    let seen = Arc::new(Mutex::new(Vec::new()));
    let go = Arc::new(AtomicBool::new(false));
    let batches = Arc::new(Mutex::new(Vec::new()));
    let target = Watch {
        seen: seen.clone(),
        go: go.clone(),
        batches: batches.clone(),
    };
    let mut builder = Dispatcher::builder(common::node()).target(
        "watch",
        "watch",
        Filter::all(),
        DeliveryOptions::default(),
        Box::new(target),
    );
    if let Some(h) = handle {
        builder = builder.runtime(h);
    }
    let d = builder.build().unwrap();
    for i in 0..N {
        d.emit(audit!(topics::GENERIC, "tick", "i" => i)).unwrap();
    }
    go.store(true, Ordering::SeqCst);
    block_on(Box::pin(async { d.flush().await.unwrap() }));
    assert_eq!(seen.lock().unwrap().len() as u64, N);
    let largest = batches.lock().unwrap().iter().copied().max().unwrap_or(0);
    assert!(
        largest >= 64,
        "no large batch: {:?}",
        batches.lock().unwrap()
    );
    common::wait_until("every delivered event is freed", || {
        seen.lock().unwrap().iter().all(|w| w.upgrade().is_none())
    });
    block_on(Box::pin(async {
        assert!(d.shutdown(Duration::from_secs(10)).await.is_clean());
    }));
}

#[test]
fn on_the_dispatchers_own_runtime() {
    let waiter = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    emit_and_check(None, &|f| waiter.block_on(f));
}

#[test]
fn on_a_users_current_thread_runtime() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    // The runtime's only thread runs the workers while it waits for the flush and the
    // shutdown (between them, only the blocking threads run).
    emit_and_check(Some(rt.handle().clone()), &|f| rt.block_on(f));
}
