//! The conformance suite: the behaviour every target must show through the
//! dispatcher, run against the target's real medium (files, a server, a broker).
//!
//! A target crate implements [`Harness`] and calls [`run`] from one of its tests:
//!
//! ```ignore
//! #[tokio::test(flavor = "multi_thread")]
//! async fn conformance() {
//!     auditrail_core::testing::conformance::run(&FileHarness).await.unwrap();
//! }
//! ```

use std::collections::HashSet;
use std::path::Path;
use std::time::Duration;

use async_trait::async_trait;
use serde_json::Value;

use crate::{
    topics, DeliveryOptions, Dispatcher, Event, EventDraft, EventId, Filter, NodeId, RoutingKey,
    Selection, TargetRegistration,
};

/// What the suite needs to know about a target type.
#[async_trait]
pub trait Harness: Send + Sync {
    /// The registration under test (its `build` is what the suite uses).
    fn registration(&self) -> &'static TargetRegistration;

    /// The target's own config for a fresh instance. `scratch` is an empty folder owned
    /// by this instance (use it for files, or derive unique names from it).
    fn config(&self, scratch: &Path) -> Value;

    /// Every event the instance configured with `scratch` has durably taken so far,
    /// read back from its medium.
    async fn read_back(&self, scratch: &Path) -> Result<Vec<Event>, String>;
}

/// Runs every check; the error names the check and what went wrong.
pub async fn run(h: &dyn Harness) -> Result<(), String> {
    acknowledged_emit_means_readable(h)
        .await
        .map_err(|e| format!("ack semantics: {e}"))?;
    filters_select_events(h)
        .await
        .map_err(|e| format!("filters: {e}"))?;
    batches_deliver_each_event_once(h)
        .await
        .map_err(|e| format!("batching: {e}"))?;
    shutdown_drains_the_queue(h)
        .await
        .map_err(|e| format!("shutdown drain: {e}"))?;
    Ok(())
}

struct Instance {
    _dir: tempfile::TempDir,
    scratch: std::path::PathBuf,
    dispatcher: Dispatcher,
}

fn start(h: &dyn Harness, filter: Filter, options: DeliveryOptions) -> Result<Instance, String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let scratch = dir.path().join("target");
    std::fs::create_dir_all(&scratch).map_err(|e| e.to_string())?;
    let dispatcher =
        Dispatcher::builder(NodeId::new("conformance-node").map_err(|e| e.to_string())?)
            .run_dir(dir.path().join("run"))
            .dead_letter_dir(dir.path().join("deadletter"))
            .registered_target(
                "under-test",
                h.registration(),
                h.config(&scratch),
                filter,
                options,
            )
            .build()
            .map_err(|e| format!("cannot build the target: {e}"))?;
    Ok(Instance {
        _dir: dir,
        scratch,
        dispatcher,
    })
}

fn sample(i: usize) -> EventDraft {
    EventDraft::new(topics::GENERIC, "conformance")
        .auth_user(format!("user-{i}"))
        .field("index", i as u64)
        .field("payload", "x".repeat(200))
}

async fn read_ids(h: &dyn Harness, scratch: &Path) -> Result<Vec<EventId>, String> {
    Ok(h.read_back(scratch)
        .await?
        .into_iter()
        .map(|e| e.id)
        .collect())
}

async fn finish(inst: &Instance) -> Result<(), String> {
    let report = inst.dispatcher.shutdown(Duration::from_secs(30)).await;
    if report.is_clean() {
        Ok(())
    } else {
        Err(format!("shutdown was not clean: {report:?}"))
    }
}

async fn acknowledged_emit_means_readable(h: &dyn Harness) -> Result<(), String> {
    let inst = start(h, Filter::all(), DeliveryOptions::default())?;
    let mut emitted = Vec::new();
    for i in 0..5 {
        let e = inst
            .dispatcher
            .emit_acked(sample(i))
            .await
            .map_err(|e| e.to_string())?;
        // Read back right after the ack, before any flush or shutdown.
        let ids = read_ids(h, &inst.scratch).await?;
        if !ids.contains(&e.id) {
            return Err(format!(
                "event {} was acknowledged but cannot be read back",
                e.id
            ));
        }
        emitted.push(e);
    }
    let back = h.read_back(&inst.scratch).await?;
    for e in &emitted {
        let Some(found) = back.iter().find(|b| b.id == e.id) else {
            return Err(format!("event {} missing", e.id));
        };
        if found.seq != e.seq
            || found.msg_type() != "conformance"
            || found.node.as_str() != "conformance-node"
        {
            return Err(format!("event {} came back changed: {found:?}", e.id));
        }
    }
    finish(&inst).await
}

async fn filters_select_events(h: &dyn Harness) -> Result<(), String> {
    let key = RoutingKey::new("svc-a").map_err(|e| e.to_string())?;
    let filter = Filter {
        topics: Selection::Only(vec![topics::AUTHFAIL]),
        routing_keys: Selection::Only(vec![key]),
        required_key: None,
    };
    let inst = start(h, filter, DeliveryOptions::default())?;
    let d = &inst.dispatcher;
    let wanted = d
        .emit(EventDraft::new(topics::AUTHFAIL, "login-failed").routing_key("svc-a"))
        .map_err(|e| e.to_string())?;
    let unwanted = [
        d.emit(EventDraft::new(topics::GENERIC, "login").routing_key("svc-a")),
        d.emit(EventDraft::new(topics::AUTHFAIL, "login-failed").routing_key("svc-b")),
        d.emit(EventDraft::new(topics::AUTHFAIL, "login-failed")),
    ];
    finish(&inst).await?;
    let ids = read_ids(h, &inst.scratch).await?;
    if !ids.contains(&wanted.id) {
        return Err("the matching event did not arrive".into());
    }
    for u in unwanted {
        let u = u.map_err(|e| e.to_string())?;
        if u.targets != 0 || ids.contains(&u.id) {
            return Err(format!("event {} should have been filtered out", u.id));
        }
    }
    Ok(())
}

async fn batches_deliver_each_event_once(h: &dyn Harness) -> Result<(), String> {
    let options = DeliveryOptions {
        batch_max_events: 7,
        batch_max_wait_ms: 5,
        ..Default::default()
    };
    let inst = start(h, Filter::all(), options)?;
    let mut sent = HashSet::new();
    for i in 0..200 {
        sent.insert(
            inst.dispatcher
                .emit_async(sample(i))
                .await
                .map_err(|e| e.to_string())?
                .id,
        );
    }
    finish(&inst).await?;
    let ids = read_ids(h, &inst.scratch).await?;
    let unique: HashSet<EventId> = ids.iter().copied().collect();
    if unique.len() != ids.len() {
        return Err(format!(
            "{} duplicate event(s) in a healthy run",
            ids.len() - unique.len()
        ));
    }
    if unique != sent {
        return Err(format!(
            "sent {} events, read back {}",
            sent.len(),
            unique.len()
        ));
    }
    Ok(())
}

async fn shutdown_drains_the_queue(h: &dyn Harness) -> Result<(), String> {
    let options = DeliveryOptions {
        queue_capacity: 5000,
        ..Default::default()
    };
    let inst = start(h, Filter::all(), options)?;
    let mut sent = HashSet::new();
    for i in 0..2000 {
        sent.insert(
            inst.dispatcher
                .emit_async(sample(i))
                .await
                .map_err(|e| e.to_string())?
                .id,
        );
    }
    // Shut down at once: whatever is still queued must be delivered, not dropped.
    finish(&inst).await?;
    let ids: HashSet<EventId> = read_ids(h, &inst.scratch).await?.into_iter().collect();
    let missing = sent.difference(&ids).count();
    if missing > 0 {
        return Err(format!(
            "{missing} of {} queued events were not delivered by shutdown",
            sent.len()
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{MemoryConfig, MEMORY_REGISTRATION};

    struct MemoryHarness;

    #[async_trait]
    impl Harness for MemoryHarness {
        fn registration(&self) -> &'static TargetRegistration {
            &MEMORY_REGISTRATION
        }
        fn config(&self, scratch: &Path) -> Value {
            serde_json::json!({ "store": scratch })
        }
        async fn read_back(&self, scratch: &Path) -> Result<Vec<Event>, String> {
            Ok(MemoryConfig::store(scratch)
                .events()
                .iter()
                .map(|e| (**e).clone())
                .collect())
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_memory_target_conforms() {
        run(&MemoryHarness).await.unwrap();
    }
}
