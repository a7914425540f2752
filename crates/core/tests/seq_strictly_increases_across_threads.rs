//! Per-node sequence numbers are unique across emitting threads and strictly
//! increasing within each thread, and the events carry them.

use crate::common;

use std::collections::HashSet;
use std::time::Duration;

use auditrail_core::testing::MemoryTarget;
use auditrail_core::{audit, topics, Dispatcher};

#[test]
fn many_threads_get_unique_per_thread_increasing_seqs() {
    const THREADS: usize = 8;
    const PER_THREAD: usize = 2000;
    let target = MemoryTarget::new();
    let d = common::with_memory(
        Dispatcher::builder(common::node()),
        "t",
        &target,
        Default::default(),
    )
    .build()
    .unwrap();

    let per_thread: Vec<Vec<u64>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..THREADS)
            .map(|_| {
                s.spawn(|| {
                    (0..PER_THREAD)
                        .map(|_| d.emit(audit!(topics::GENERIC, "tick")).unwrap().seq)
                        .collect::<Vec<u64>>()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });

    for seqs in &per_thread {
        assert!(
            seqs.windows(2).all(|w| w[0] < w[1]),
            "not increasing within a thread"
        );
    }
    let all: HashSet<u64> = per_thread.iter().flatten().copied().collect();
    assert_eq!(all.len(), THREADS * PER_THREAD, "duplicate seq");
    assert_eq!(
        all,
        (1..=(THREADS * PER_THREAD) as u64).collect::<HashSet<_>>(),
        "no gaps either"
    );

    assert!(d.shutdown_blocking(Duration::from_secs(20)).is_clean());
    let delivered: HashSet<u64> = target.events().iter().map(|e| e.seq).collect();
    assert_eq!(delivered, all, "the events carry the seqs emit returned");
}
