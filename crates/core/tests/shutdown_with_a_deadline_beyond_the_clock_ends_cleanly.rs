//! A shutdown deadline too long for the clock (`Duration::MAX`, or a config's
//! `shutdown_timeout_s = 9223372036854775807` made a `Duration`) is a deadline in the
//! far future: the shutdown drains every queue and returns, where `now + deadline`
//! panicked ("overflow when adding duration to instant"). So does the shutdown run when
//! the last clone is dropped with such a `drop_deadline`.

use crate::common;

use std::time::Duration;

use auditrail_core::testing::MemoryTarget;
use auditrail_core::{audit, topics, Dispatcher};

#[test]
fn shutdown_and_drop_with_an_unrepresentable_deadline_deliver_everything() {
    for deadline in [Duration::MAX, Duration::from_secs(i64::MAX as u64)] {
        let target = MemoryTarget::new();
        let d = common::with_memory(
            Dispatcher::builder(common::node()),
            "t",
            &target,
            Default::default(),
        )
        .build()
        .unwrap();
        for i in 0..20u64 {
            d.emit(audit!(topics::GENERIC, "tick", "i" => i)).unwrap();
        }
        let report = d.shutdown_blocking(deadline);
        assert!(report.is_clean(), "{report:?}");
        assert_eq!(target.events().len(), 20);

        let dropped = MemoryTarget::new();
        let d = common::with_memory(
            Dispatcher::builder(common::node()).drop_deadline(deadline),
            "t",
            &dropped,
            Default::default(),
        )
        .build()
        .unwrap();
        d.emit(audit!(topics::GENERIC, "tick")).unwrap();
        drop(d);
        assert_eq!(
            dropped.events().len(),
            1,
            "delivered by the drop's shutdown"
        );
    }
}
