//! The dispatcher the core benches drive: one worker thread, one target that takes
//! every batch at once (what is left is the dispatcher's own cost), and the drafts
//! they emit.

use std::sync::Arc;

use auditrail_core::{
    async_trait, audit, topics, DeliveryOptions, Dispatcher, Event, EventDraft, Filter, NodeId,
    Target, TargetError,
};

/// Takes every batch at once.
pub(crate) struct NullTarget;

#[async_trait]
impl Target for NullTarget {
    async fn send(&mut self, _batch: &[Arc<Event>]) -> Result<(), TargetError> {
        Ok(())
    }
}

/// A dispatcher of node `bench-node` with one worker thread and the null target.
pub(crate) fn dispatcher() -> Dispatcher {
    Dispatcher::builder(NodeId::new("bench-node").unwrap_or_else(|e| panic!("{e}")))
        .worker_threads(1)
        .target(
            "null",
            "null",
            Filter::all(),
            DeliveryOptions::default(),
            Box::new(NullTarget),
        )
        .build()
        .unwrap_or_else(|e| panic!("{e}"))
}

/// An application's event: `generic` / `login` with two fields.
pub(crate) fn draft(i: u64) -> EventDraft {
    audit!(topics::GENERIC, "login", "authUser" => "alice", "index" => i)
}
