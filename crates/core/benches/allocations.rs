//! Heap allocations per event on the paths every event takes, counted with `dhat` as
//! the global allocator: a count, not a time, so it is the same on a busy machine and
//! a quiet one, and a change that saves an allocation per event shows as exactly that.
//!
//! - `parse`: `Event::from_json_slice` of the event_parse bench's wire events (what
//!   the event server does for each event of a request).
//! - `write_json`: writing those events back into a reused buffer (a stored record's
//!   `clientEvent`, a file line, a request body).
//! - `draft`: building an application's draft (`audit!` with two fields): what the
//!   emitting code pays before `emit`, and what the target's thread frees after.
//! - `complete`: an application's draft (`audit!` with two fields) completed into an
//!   event and dropped (the drafts are built before counting).
//! - `emit → null target`: `Dispatcher::emit` of such drafts until a null target took
//!   them all (every thread counts: the emitter and the worker).
//!
//! Run: `cargo bench -p auditrail-core --bench allocations` (or `cargo xtask bench
//! allocations`). Allocations are blocks handed out by the allocator, reallocations
//! included; bytes are their sizes.

// A benchmark is not library code: a failed setup should stop it loudly.
#![allow(clippy::panic, clippy::expect_used, clippy::unwrap_used, missing_docs)]

use std::time::Duration;

use auditrail_core::{Event, EventDraft, NodeId};

#[path = "sample/events.rs"]
mod sample;
use sample::{batch, BATCH};
#[path = "sample/null_target.rs"]
mod null_target;
use null_target::{dispatcher, draft};

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

/// Blocks and bytes allocated while `f` runs.
fn count(f: impl FnOnce()) -> (u64, u64) {
    let before = dhat::HeapStats::get();
    f();
    let after = dhat::HeapStats::get();
    (
        after.total_blocks - before.total_blocks,
        after.total_bytes - before.total_bytes,
    )
}

fn report(what: &str, (blocks, bytes): (u64, u64), events: usize) {
    let n = events as f64;
    println!(
        "{what}: {:.2} allocations, {:.0} bytes per event ({events} events)",
        blocks as f64 / n,
        bytes as f64 / n
    );
}

fn main() {
    let _profiler = dhat::Profiler::builder().testing().build();
    let wire = batch();

    let mut parsed = Vec::with_capacity(BATCH);
    let parse = count(|| {
        for bytes in &wire {
            parsed.push(Event::from_json_slice(bytes).unwrap());
        }
    });
    let mut out = Vec::with_capacity(BATCH * 512);
    let write = count(|| {
        for event in &parsed {
            event.write_json(&mut out);
        }
    });
    drop(parsed);
    report("parse", parse, BATCH);
    report("write_json", write, BATCH);

    let mut built = Vec::with_capacity(BATCH);
    let building = count(|| built.extend((0..BATCH as u64).map(draft)));
    drop(built);
    report("draft", building, BATCH);

    let node = NodeId::new("bench-node").unwrap();
    let drafts: Vec<EventDraft> = (0..BATCH as u64).map(draft).collect();
    let complete = count(|| {
        for (i, d) in drafts.into_iter().enumerate() {
            drop(d.complete(&node, || i as u64 + 1).unwrap());
        }
    });
    report("complete", complete, BATCH);

    let dispatcher = dispatcher();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    // The first events of a dispatcher set up its queues and worker: not counted.
    for i in 0..BATCH as u64 {
        dispatcher.emit(draft(i)).unwrap();
    }
    runtime.block_on(dispatcher.flush()).unwrap();
    const EMITS: usize = 20 * BATCH;
    let drafts: Vec<EventDraft> = (0..EMITS as u64).map(draft).collect();
    let emit = count(|| {
        for d in drafts {
            dispatcher.emit(d).unwrap();
        }
        runtime.block_on(dispatcher.flush()).unwrap();
    });
    report("emit → null target", emit, EMITS);
    assert!(dispatcher
        .shutdown_blocking(Duration::from_secs(10))
        .is_clean());
}
