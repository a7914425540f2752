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
    topics, AckError, DeliveryOptions, Dispatcher, DispatcherError, EmitError, Event, EventDraft,
    EventError, EventId, Filter, NodeId, RoutingKey, Selection, ShutdownReport, TargetRegistration,
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
    async fn read_back(&self, scratch: &Path) -> Result<Vec<Event>, ReadBackError>;
}

/// Why a [`Harness`] could not read back what its target took.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReadBackError {
    /// The medium could not be read, or what it holds not decoded: the cause is the
    /// source, said by a chain printer once (this message is its own context only).
    #[error("the target's medium could not be read back")]
    Read(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The medium was read, but what it holds is not what a healthy run leaves (torn
    /// lines): what is wrong.
    #[error("{0}")]
    Invalid(String),
}

impl ReadBackError {
    /// [`ReadBackError::Read`] of `e`.
    pub fn read(e: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> ReadBackError {
        ReadBackError::Read(e.into())
    }
}

/// Runs every check, stopping at the first that fails.
pub async fn run(h: &dyn Harness) -> Result<(), ConformanceError> {
    let failed = |check| move |problem| ConformanceError { check, problem };
    acknowledged_emit_means_readable(h)
        .await
        .map_err(failed(Check::AckSemantics))?;
    filters_select_events(h)
        .await
        .map_err(failed(Check::Filters))?;
    batches_deliver_each_event_once(h)
        .await
        .map_err(failed(Check::Batching))?;
    shutdown_drains_the_queue(h)
        .await
        .map_err(failed(Check::ShutdownDrain))?;
    Ok(())
}

/// A check of the suite failed: which one, and what went wrong.
#[derive(Debug, thiserror::Error)]
#[error("conformance check {check} failed")]
pub struct ConformanceError {
    /// The check that failed.
    pub check: Check,
    /// What went wrong.
    #[source]
    pub problem: Problem,
}

/// The checks of the suite, in the order [`run`] runs them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Check {
    /// An acknowledged emit means the event can be read back, unchanged.
    #[error("ack semantics")]
    AckSemantics,
    /// A target's filter selects its events.
    #[error("filters")]
    Filters,
    /// Batches deliver each event once.
    #[error("batching")]
    Batching,
    /// Shutdown delivers what is still queued.
    #[error("shutdown drain")]
    ShutdownDrain,
}

/// What went wrong in a check.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Problem {
    /// The scratch folder could not be made.
    #[error(transparent)]
    Scratch(std::io::Error),
    /// A node id or routing key of the suite was refused (a bug of the suite).
    #[error(transparent)]
    Name(EventError),
    /// The dispatcher with the target under test could not be built.
    #[error("cannot build the target")]
    Build(#[source] DispatcherError),
    /// An emit failed.
    #[error(transparent)]
    Emit(EmitError),
    /// An acknowledged emit failed.
    #[error(transparent)]
    Ack(AckError),
    /// [`Harness::read_back`] failed.
    #[error(transparent)]
    ReadBack(ReadBackError),
    /// The shutdown left events undelivered or targets unstopped.
    #[error("shutdown was not clean: {0:?}")]
    NotClean(Box<ShutdownReport>),
    /// An acknowledged event could not be read back right after its acknowledgement.
    #[error("event {0} was acknowledged but cannot be read back")]
    Unreadable(EventId),
    /// An emitted event is missing from what the target took.
    #[error("event {0} missing")]
    Missing(EventId),
    /// An event came back different from what was emitted.
    #[error("event {id} came back changed: {0:?}", id = .0.id)]
    Changed(Box<Event>),
    /// The event the filter selects did not arrive.
    #[error("the matching event did not arrive")]
    MatchingMissing,
    /// An event the filter does not select arrived.
    #[error("event {0} should have been filtered out")]
    NotFiltered(EventId),
    /// Events arrived more than once in a healthy run.
    #[error("{0} duplicate event(s) in a healthy run")]
    Duplicates(usize),
    /// The events read back are not those sent.
    #[error("sent {sent} events, read back {read}")]
    NotAllRead {
        /// Events sent.
        sent: usize,
        /// Distinct events read back.
        read: usize,
    },
    /// Events still queued at shutdown were not delivered.
    #[error("{missing} of {queued} queued events were not delivered by shutdown")]
    NotDrained {
        /// Events not delivered.
        missing: usize,
        /// Events queued.
        queued: usize,
    },
}

struct Instance {
    _dir: tempfile::TempDir,
    scratch: std::path::PathBuf,
    dispatcher: Dispatcher,
}

fn start(h: &dyn Harness, filter: Filter, options: DeliveryOptions) -> Result<Instance, Problem> {
    let dir = tempfile::tempdir().map_err(Problem::Scratch)?;
    let scratch = dir.path().join("target");
    std::fs::create_dir_all(&scratch).map_err(Problem::Scratch)?;
    let dispatcher = Dispatcher::builder(NodeId::new("conformance-node").map_err(Problem::Name)?)
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
        .map_err(Problem::Build)?;
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

async fn read_back(h: &dyn Harness, scratch: &Path) -> Result<Vec<Event>, Problem> {
    h.read_back(scratch).await.map_err(Problem::ReadBack)
}

async fn read_ids(h: &dyn Harness, scratch: &Path) -> Result<Vec<EventId>, Problem> {
    Ok(read_back(h, scratch)
        .await?
        .into_iter()
        .map(|e| e.id)
        .collect())
}

async fn finish(inst: &Instance) -> Result<(), Problem> {
    let report = inst.dispatcher.shutdown(Duration::from_secs(30)).await;
    if report.is_clean() {
        Ok(())
    } else {
        Err(Problem::NotClean(Box::new(report)))
    }
}

async fn acknowledged_emit_means_readable(h: &dyn Harness) -> Result<(), Problem> {
    let inst = start(h, Filter::all(), DeliveryOptions::default())?;
    let mut emitted = Vec::new();
    for i in 0..5 {
        let e = inst
            .dispatcher
            .emit_acked(sample(i))
            .await
            .map_err(Problem::Ack)?;
        // Read back right after the ack, before any flush or shutdown.
        let ids = read_ids(h, &inst.scratch).await?;
        if !ids.contains(&e.id) {
            return Err(Problem::Unreadable(e.id));
        }
        emitted.push(e);
    }
    let back = read_back(h, &inst.scratch).await?;
    for e in &emitted {
        let Some(found) = back.iter().find(|b| b.id == e.id) else {
            return Err(Problem::Missing(e.id));
        };
        if found.seq != e.seq
            || found.msg_type() != "conformance"
            || found.node.as_str() != "conformance-node"
        {
            return Err(Problem::Changed(Box::new(found.clone())));
        }
    }
    finish(&inst).await
}

async fn filters_select_events(h: &dyn Harness) -> Result<(), Problem> {
    let key = RoutingKey::new("svc-a").map_err(Problem::Name)?;
    let filter = Filter {
        topics: Selection::Only(vec![topics::AUTHFAIL]),
        routing_keys: Selection::Only(vec![key]),
        required_key: None,
    };
    let inst = start(h, filter, DeliveryOptions::default())?;
    let d = &inst.dispatcher;
    let wanted = d
        .emit(EventDraft::new(topics::AUTHFAIL, "login-failed").routing_key("svc-a"))
        .map_err(Problem::Emit)?;
    let unwanted = [
        d.emit(EventDraft::new(topics::GENERIC, "login").routing_key("svc-a")),
        d.emit(EventDraft::new(topics::AUTHFAIL, "login-failed").routing_key("svc-b")),
        d.emit(EventDraft::new(topics::AUTHFAIL, "login-failed")),
    ];
    finish(&inst).await?;
    let ids = read_ids(h, &inst.scratch).await?;
    if !ids.contains(&wanted.id) {
        return Err(Problem::MatchingMissing);
    }
    for u in unwanted {
        let u = u.map_err(Problem::Emit)?;
        if u.targets != 0 || ids.contains(&u.id) {
            return Err(Problem::NotFiltered(u.id));
        }
    }
    Ok(())
}

async fn batches_deliver_each_event_once(h: &dyn Harness) -> Result<(), Problem> {
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
                .map_err(Problem::Emit)?
                .id,
        );
    }
    finish(&inst).await?;
    let ids = read_ids(h, &inst.scratch).await?;
    let unique: HashSet<EventId> = ids.iter().copied().collect();
    if unique.len() != ids.len() {
        return Err(Problem::Duplicates(ids.len() - unique.len()));
    }
    if unique != sent {
        return Err(Problem::NotAllRead {
            sent: sent.len(),
            read: unique.len(),
        });
    }
    Ok(())
}

async fn shutdown_drains_the_queue(h: &dyn Harness) -> Result<(), Problem> {
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
                .map_err(Problem::Emit)?
                .id,
        );
    }
    // Shut down at once: whatever is still queued must be delivered, not dropped.
    finish(&inst).await?;
    let ids: HashSet<EventId> = read_ids(h, &inst.scratch).await?.into_iter().collect();
    let missing = sent.difference(&ids).count();
    if missing > 0 {
        return Err(Problem::NotDrained {
            missing,
            queued: sent.len(),
        });
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
        async fn read_back(&self, scratch: &Path) -> Result<Vec<Event>, ReadBackError> {
            Ok(MemoryConfig::store(scratch)
                .events()
                .iter()
                .map(|e| (**e).clone())
                .collect())
        }
    }

    /// A harness whose medium cannot be read.
    struct UnreadableHarness;

    #[async_trait]
    impl Harness for UnreadableHarness {
        fn registration(&self) -> &'static TargetRegistration {
            &MEMORY_REGISTRATION
        }
        fn config(&self, scratch: &Path) -> Value {
            serde_json::json!({ "store": scratch })
        }
        async fn read_back(&self, _: &Path) -> Result<Vec<Event>, ReadBackError> {
            Err(ReadBackError::read(std::io::Error::new(
                std::io::ErrorKind::PermissionDenied,
                "the medium says no",
            )))
        }
    }

    /// A read-back failure was a `String`: its cause (an I/O error, a decode error)
    /// was lost to whoever walks the error's sources. Now it is the source; and no
    /// level of the chain says its source's message too (`ReadBackError::Read`
    /// displayed its cause and kept it as its source: a chain printer said it twice).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_read_back_failure_keeps_its_cause_as_the_source() {
        let err = run(&UnreadableHarness).await.unwrap_err();
        assert!(
            matches!(err.problem, Problem::ReadBack(ReadBackError::Read(_))),
            "{err:?}"
        );
        let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&err);
        let mut io = None;
        let mut said = Vec::new();
        while let Some(s) = source {
            io = io.or(s.downcast_ref::<std::io::Error>());
            said.push(s.to_string());
            source = s.source();
        }
        // A chain printer (anyhow's `{:#}`, ErrorReport) says each level once: no level
        // repeats its source's message.
        assert_eq!(
            said,
            [
                "conformance check ack semantics failed",
                "the target's medium could not be read back",
                "the medium says no"
            ]
        );
        assert_eq!(
            io.map(std::io::Error::kind),
            Some(std::io::ErrorKind::PermissionDenied)
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_memory_target_conforms() {
        run(&MemoryHarness).await.unwrap();
    }
}
