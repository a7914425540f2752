//! A target that could not start because a file or folder it needs cannot be used
//! (`BuildError::Io`), started later by its own worker.
//!
//! A node's targets are independent inputs: one whose folder is unwritable, or whose
//! spool folder sits under a regular file, must not keep the others from recording
//! (a failure caused by one input affects that input alone). So, when the builder
//! is asked to ([`DispatcherBuilder::retry_unusable_targets`], on for a node config),
//! such a target is put in the dispatcher as an [`Unbuilt`]: its worker, queue,
//! counters and dead-letter file are the usual ones, and each `send` first builds the
//! target again. While that fails, the send is a retryable error naming the target's
//! path and OS error: the worker backs off and tries again, counts `retried`, its
//! bounded queue applies backpressure, and shutdown's deadline dead-letters what it
//! holds, as for a target that fails while running. Once built, it is the target.
//!
//! [`DispatcherBuilder::retry_unusable_targets`]: super::DispatcherBuilder::retry_unusable_targets

use std::sync::{Arc, OnceLock};

use async_trait::async_trait;

use crate::event::Event;
use crate::registry::TargetRegistration;
use crate::target::{BuildContext, BuildError, Forwarding, Target, TargetError};
use crate::target_config::ValidatedConfig;

/// Where a forwarding target's probe is put once the target is built (read by the
/// target's counters).
pub(crate) type ForwardingCell = Arc<OnceLock<Arc<dyn Forwarding>>>;

/// See the module docs.
pub(crate) struct Unbuilt {
    registration: &'static TargetRegistration,
    config: ValidatedConfig,
    ctx: BuildContext,
    /// Failed builds so far (the dispatcher's own first one included).
    attempts: u64,
    /// Why the last one failed.
    last_error: String,
    built: Option<Box<dyn Target>>,
    forwarding: ForwardingCell,
}

impl Unbuilt {
    pub(crate) fn new(
        registration: &'static TargetRegistration,
        config: ValidatedConfig,
        ctx: BuildContext,
        error: &BuildError,
        forwarding: ForwardingCell,
    ) -> Unbuilt {
        Unbuilt {
            registration,
            config,
            ctx,
            attempts: 1,
            last_error: not_started(error),
            built: None,
            forwarding,
        }
    }

    /// The target, built now if it was not yet. The build runs on the blocking pool: it
    /// is synchronous (folders made, a spool opened and scanned, files fsynced) and, on
    /// one of the dispatcher's runtime threads, a slow disk or a hung mount under this
    /// target would stall the workers of the healthy targets sharing that thread.
    async fn target(&mut self) -> Result<&mut Box<dyn Target>, TargetError> {
        if self.built.is_none() {
            let (registration, config, ctx) =
                (self.registration, self.config.clone(), self.ctx.clone());
            let built = tokio::task::spawn_blocking(move || {
                // Targets may spawn tasks while building (on the dispatcher's runtime).
                let _enter = ctx.runtime.enter();
                (registration.build)(&config, &ctx)
            })
            .await
            .unwrap_or_else(|e| {
                Err(BuildError::Other(format!(
                    "its build function did not return: {e}"
                )))
            });
            match built {
                Ok(target) => {
                    if let Some(probe) = target.forwarding() {
                        let _ = self.forwarding.set(probe);
                    }
                    tracing::info!(target_name = %self.ctx.target_name,
                        target_type = self.registration.name, failed_attempts = self.attempts,
                        "the target could be built at last; its queued events are delivered now");
                    self.built = Some(target);
                }
                Err(e) => {
                    self.attempts += 1;
                    self.last_error = not_started(&e);
                    return Err(TargetError::retryable(self.last_error.clone()));
                }
            }
        }
        // Set just above when it was not.
        self.built
            .as_mut()
            .ok_or_else(|| TargetError::retryable("the target is not built"))
    }
}

/// Why a target is not running, for its retry log and its events' dead-letter lines.
pub(crate) fn not_started(e: &BuildError) -> String {
    format!("the target cannot start: {e}")
}

#[async_trait]
impl Target for Unbuilt {
    async fn send(&mut self, batch: &[Arc<Event>]) -> Result<(), TargetError> {
        self.target().await?.send(batch).await
    }

    async fn flush(&mut self) -> Result<(), TargetError> {
        match &mut self.built {
            Some(t) => t.flush().await,
            // Nothing was given to a target that never started.
            None => Ok(()),
        }
    }

    fn gave_up(&mut self) {
        if let Some(t) = &mut self.built {
            t.gave_up();
        }
    }

    fn taken_not_durable(&mut self) -> u64 {
        self.built.as_mut().map_or(0, |t| t.taken_not_durable())
    }

    async fn shutdown(&mut self) -> Result<(), TargetError> {
        match &mut self.built {
            Some(t) => t.shutdown().await,
            // Not clean: the target never ran (the report says why).
            None => Err(TargetError::retryable(format!(
                "{} (never started: {} attempt(s))",
                self.last_error, self.attempts
            ))),
        }
    }
}
