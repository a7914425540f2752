//! A graceful shutdown delivers everything already queued before it returns.

use crate::common;

use std::time::Duration;

use auditrail_core::testing::MemoryTarget;
use auditrail_core::{audit, topics, DeliveryOptions, Dispatcher, EmitError};

#[test]
fn shutdown_delivers_everything_queued_then_refuses_new_events() {
    let a = MemoryTarget::new();
    let b = MemoryTarget::new();
    // Hold everything in the queues until shutdown starts.
    a.pause();
    b.pause();
    let opts = DeliveryOptions {
        batch_max_events: 10,
        ..Default::default()
    };
    let builder = common::with_memory(Dispatcher::builder(common::node()), "a", &a, opts.clone());
    let d = common::with_memory(builder, "b", &b, opts).build().unwrap();
    for i in 0..500u64 {
        d.emit(audit!(topics::GENERIC, "tick", "i" => i)).unwrap();
    }
    assert!(a.events().is_empty() && b.events().is_empty());

    a.resume();
    b.resume();
    let report = d.shutdown_blocking(Duration::from_secs(20));
    assert!(report.is_clean(), "{report:?}");
    for (t, s) in [(&a, &report.targets[0]), (&b, &report.targets[1])] {
        assert_eq!(t.events().len(), 500);
        assert_eq!(
            (s.stats.delivered, s.stats.queue_depth, s.undelivered),
            (500, 0, 0)
        );
        assert_eq!(
            t.flushes_and_shutdowns().1,
            1,
            "the target's shutdown is called once"
        );
    }
    assert_eq!(
        d.emit(audit!(topics::GENERIC, "late")).unwrap_err(),
        EmitError::Closed
    );
}
