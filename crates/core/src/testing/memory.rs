use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use async_trait::async_trait;
use serde::Deserialize;
use tokio::sync::watch;

use crate::event::Event;
use crate::target::{BuildContext, BuildError, Target, TargetError};
use crate::target_config::TargetConfig;
use crate::TargetRegistration;

/// One scripted answer of the [`MemoryTarget`], consumed by the next `send`.
#[derive(Debug, Clone)]
pub enum Scripted {
    /// Fail with a retryable error.
    Retryable,
    /// Fail with a permanent error.
    Permanent,
    /// Take every event but those at these indexes.
    Reject(Vec<usize>),
    /// Take every event but those at these indexes, which may be taken later
    /// ([`TargetError::PartlyTaken`]).
    RetryLater(Vec<usize>),
    /// Panic inside `send`.
    Panic,
}

#[derive(Default)]
struct State {
    events: Vec<Arc<Event>>,
    batch_sizes: Vec<usize>,
    script: VecDeque<Scripted>,
    send_calls: usize,
    flushes: usize,
    shutdowns: usize,
}

/// An in-memory target: records what it takes, answers from a script, and can be
/// paused (a "slow" or "dead" target) or given a per-batch delay.
#[derive(Clone)]
pub struct MemoryTarget {
    state: Arc<Mutex<State>>,
    paused: Arc<watch::Sender<bool>>,
    delay: Arc<Mutex<Duration>>,
}

impl std::fmt::Debug for MemoryTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryTarget")
            .field("paused", &*self.paused.borrow())
            .finish_non_exhaustive()
    }
}

impl Default for MemoryTarget {
    fn default() -> Self {
        MemoryTarget::new()
    }
}

impl MemoryTarget {
    /// An empty, running target.
    pub fn new() -> MemoryTarget {
        MemoryTarget {
            state: Arc::default(),
            paused: Arc::new(watch::channel(false).0),
            delay: Arc::default(),
        }
    }

    fn with_state<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        let mut guard = self.state.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut guard)
    }

    /// Events taken so far, in order.
    pub fn events(&self) -> Vec<Arc<Event>> {
        self.with_state(|s| s.events.clone())
    }

    /// Sizes of the batches taken so far.
    pub fn batch_sizes(&self) -> Vec<usize> {
        self.with_state(|s| s.batch_sizes.clone())
    }

    /// How many times `send` was called (including failed attempts).
    pub fn send_calls(&self) -> usize {
        self.with_state(|s| s.send_calls)
    }

    /// How many times `flush` and `shutdown` were called.
    pub fn flushes_and_shutdowns(&self) -> (usize, usize) {
        self.with_state(|s| (s.flushes, s.shutdowns))
    }

    /// Queues scripted answers for the next `send` calls.
    pub fn script(&self, answers: impl IntoIterator<Item = Scripted>) {
        self.with_state(|s| s.script.extend(answers));
    }

    /// While paused, `send` waits (a dead or very slow target).
    pub fn pause(&self) {
        self.paused.send_replace(true);
    }

    /// Lets waiting sends proceed.
    pub fn resume(&self) {
        self.paused.send_replace(false);
    }

    /// Sleeps this long in every `send` (a slow target).
    pub fn set_delay(&self, d: Duration) {
        *self.delay.lock().unwrap_or_else(|p| p.into_inner()) = d;
    }
}

#[async_trait]
impl Target for MemoryTarget {
    async fn send(&mut self, batch: &[Arc<Event>]) -> Result<(), TargetError> {
        let mut rx = self.paused.subscribe();
        let _ = rx.wait_for(|paused| !*paused).await;
        let delay = *self.delay.lock().unwrap_or_else(|p| p.into_inner());
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        let answer = self.with_state(|s| {
            s.send_calls += 1;
            s.script.pop_front()
        });
        let later = matches!(answer, Some(Scripted::RetryLater(_)));
        match answer {
            None => {}
            Some(Scripted::Retryable) => {
                return Err(TargetError::retryable("scripted retryable failure"))
            }
            Some(Scripted::Permanent) => {
                return Err(TargetError::permanent("scripted permanent failure"))
            }
            #[allow(clippy::panic)]
            Some(Scripted::Panic) => panic!("scripted panic"),
            Some(Scripted::Reject(indexes) | Scripted::RetryLater(indexes)) => {
                self.with_state(|s| {
                    s.batch_sizes.push(batch.len() - indexes.len());
                    s.events.extend(
                        batch
                            .iter()
                            .enumerate()
                            .filter(|(i, _)| !indexes.contains(i))
                            .map(|(_, e)| e.clone()),
                    );
                });
                if later {
                    return Err(TargetError::PartlyTaken {
                        retry_later: indexes
                            .into_iter()
                            .map(|i| (i, "scripted refusal for now".to_owned()))
                            .collect(),
                        rejected: Vec::new(),
                    });
                }
                return Err(TargetError::Rejected {
                    rejected: indexes
                        .into_iter()
                        .map(|i| (i, "scripted rejection".to_owned()))
                        .collect(),
                });
            }
        }
        self.with_state(|s| {
            s.batch_sizes.push(batch.len());
            s.events.extend(batch.iter().cloned());
        });
        Ok(())
    }

    async fn flush(&mut self) -> Result<(), TargetError> {
        self.with_state(|s| s.flushes += 1);
        Ok(())
    }

    async fn shutdown(&mut self) -> Result<(), TargetError> {
        self.with_state(|s| s.shutdowns += 1);
        Ok(())
    }
}

/// Config of the registered `memory` type: `store` names a process-wide store, so a
/// test can build targets through the registry and still read what they took.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemoryConfig {
    /// Store key; targets with the same key share one [`MemoryTarget`].
    pub store: PathBuf,
}

impl MemoryConfig {
    /// The shared target behind a store key.
    pub fn store(key: &std::path::Path) -> MemoryTarget {
        static STORES: OnceLock<Mutex<HashMap<PathBuf, MemoryTarget>>> = OnceLock::new();
        let stores = STORES.get_or_init(Mutex::default);
        let mut map = stores.lock().unwrap_or_else(|p| p.into_inner());
        map.entry(key.to_path_buf()).or_default().clone()
    }
}

impl TargetConfig for MemoryConfig {
    fn durability(&self) -> crate::Durability {
        crate::Durability::not_durable("`Ok` means held in this process's memory")
    }

    fn build(&self, _ctx: &BuildContext) -> Result<Box<dyn Target>, BuildError> {
        Ok(Box::new(MemoryConfig::store(&self.store)))
    }
}

/// Registration of the in-memory target (not submitted to `inventory`, so it never
/// shows up in a real program; pass it to [`crate::Registry::from_registrations`]).
pub static MEMORY_REGISTRATION: TargetRegistration = TargetRegistration::new::<MemoryConfig>(
    "memory",
    "in-memory target for tests",
    "[[targets]]\ntype = \"memory\"\nstore = \"test-1\"\n",
    "auditrail-core",
);
