//! An emitter blocked on the full queue of a dead target does not make shutdown hang
//! past its deadline, and its event is not stranded: everything the emitter got `Ok`
//! for is either delivered or in the dead-letter file.

use crate::common;

use std::time::{Duration, Instant};

use auditrail_core::testing::MemoryTarget;
use auditrail_core::{audit, topics, DeliveryOptions, Dispatcher, EmitError};

#[test]
fn blocked_emitter_is_released_and_its_events_accounted_for() {
    let dir = tempfile::tempdir().unwrap();
    let dead = MemoryTarget::new();
    dead.pause(); // never resumed
    let options = DeliveryOptions {
        queue_capacity: 2,
        batch_max_events: 1,
        ..Default::default()
    };
    let b = Dispatcher::builder(common::node()).dead_letter_dir(dir.path());
    let d = common::with_memory(b, "dead", &dead, options)
        .build()
        .unwrap();

    let emitter = {
        let d = d.clone();
        std::thread::spawn(move || {
            let mut ok = 0u64;
            for i in 0..100u64 {
                match d.emit(audit!(topics::GENERIC, "tick", "i" => i)) {
                    Ok(_) => ok += 1,
                    Err(EmitError::Closed) => break,
                    Err(e) => panic!("{e}"),
                }
            }
            ok
        })
    };
    // One in the worker, two queued, one emitter waiting.
    common::wait_until("the emitter is blocked", || d.stats()[0].accepted >= 4);
    assert!(!emitter.is_finished());

    let started = Instant::now();
    let report = d.shutdown_blocking(Duration::from_millis(300));
    assert!(
        started.elapsed() < common::PATIENCE,
        "shutdown must end at its deadline"
    );
    let ok = emitter.join().unwrap();

    let s = &report.targets[0];
    assert_eq!(s.stats.delivered, 0);
    assert_eq!(s.stats.lost, 0);
    assert_eq!(s.stats.dead_lettered, ok, "{report:?}");
    assert_eq!(s.undelivered, ok);
    assert_eq!(common::dead_letters(dir.path(), "dead").len() as u64, ok);
}
