//! Forwarding checkpoints to another destination through the core dispatcher, so a copy
//! lives where this server cannot rewrite it (a Kafka topic, another event server, a
//! file on another machine: any target).
//!
//! Each checkpoint becomes an event with `msgType` `"checkpoint"` on the chosen topic
//! (the server's `[[witnesses]]` use [`WITNESS_TOPIC`]), with the store id as its
//! routing key, carrying `storeId`, `checkpoint` (its index), `chainSeq`, `chainHash`
//! and `line` (the exact signed log line, which `auditrail verify --witness` re-checks
//! against the store).

use auditrail_core::{Dispatcher, EventDraft};

use super::checkpoint::Checkpoint;
use super::checkpointer::CheckpointForwarder;

/// The topic of the checkpoint events the server sends to its `[[witnesses]]`.
pub const WITNESS_TOPIC: &str = auditrail_core::event::CHECKPOINT_COPY_TOPIC;

/// A forwarder (for [`Checkpointer::set_forwarder`](super::Checkpointer::set_forwarder)
/// or [`StoreIntegrity::attach_with`](super::attach::StoreIntegrity::attach_with)) that
/// emits every checkpoint on `topic` through `dispatcher`. Emitting is fire-and-forget;
/// a refused emit is logged (the checkpoint is in the local log either way).
pub fn via_dispatcher(dispatcher: Dispatcher, topic: &str) -> CheckpointForwarder {
    let topic = topic.to_string();
    Box::new(move |cp, line| {
        if let Err(e) = dispatcher.emit(checkpoint_event(&topic, cp, line)) {
            tracing::warn!(error = %e, checkpoint = cp.index, "forwarding a checkpoint failed");
        }
    })
}

/// Emits checkpoint `cp` (whose exact log line is `line`) on `topic` and resolves once
/// every target of `dispatcher` that accepted it took it durably (the server's
/// `[[witnesses]]`: a line counts as given only then).
pub async fn emit_acked(
    dispatcher: &Dispatcher,
    topic: &str,
    cp: &Checkpoint,
    line: &str,
) -> Result<(), auditrail_core::AckError> {
    dispatcher
        .emit_acked(checkpoint_event(topic, cp, line))
        .await
        .map(|_| ())
}

/// The event that carries checkpoint `cp` (whose exact log line is `line`) on `topic`:
/// one format for every way a checkpoint leaves the server.
pub fn checkpoint_event(topic: &str, cp: &Checkpoint, line: &str) -> EventDraft {
    EventDraft::new(topic, "checkpoint")
        .routing_key(&cp.store_id)
        .field("storeId", cp.store_id.clone())
        .field("checkpoint", cp.index)
        .field("chainSeq", cp.link.seq)
        .field("chainHash", cp.link.hash_hex())
        .field("line", line.to_string())
}
