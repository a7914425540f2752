//! Whether the running server can still store events, for a watchdog: `auditrail serve`
//! pings systemd's (`WatchdogSec`) only while [`HealthProbe::check`] passes, so a server
//! whose store writer hangs (a disk or network file system that never answers a write
//! or an fsync) is restarted and reported instead of answering every batch with a
//! timeout forever. A slow destination or a full disk is not unhealthy: they make
//! progress or fail visibly, and a restart would not help them.

use std::sync::Arc;
use std::time::Duration;

use thiserror::Error;

use super::RunningServer;
use crate::http::AppState;

/// Why the server is not healthy.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum Unhealthy {
    /// A store's writer has been inside one batch write or fsync for longer than the
    /// limit.
    #[error(
        "store destination {destination:?}: the writer has been inside one write for \
         {busy:?} (limit {limit:?}); every later batch waits behind it"
    )]
    WriterStuck {
        /// The store destination.
        destination: String,
        /// How long the write has lasted.
        busy: Duration,
        /// The limit it crossed.
        limit: Duration,
    },
    /// A source's thread stopped on a panic: the server no longer reads that source
    /// (its partitions went back to the group), and only a restart starts it again.
    #[error(
        "source {name:?} stopped after a panic: its partitions went back to the group \
         and this server reads nothing more from it until it restarts"
    )]
    SourceStopped {
        /// The source (`[[sources]]` `name`).
        name: String,
    },
}

/// A cheap, cloneable check of a running server's health (atomics only: call it as
/// often as a watchdog needs).
#[derive(Clone)]
pub struct HealthProbe {
    state: Arc<AppState>,
}

impl std::fmt::Debug for HealthProbe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HealthProbe").finish_non_exhaustive()
    }
}

impl HealthProbe {
    /// `Ok` unless a store's writer has been inside one write or fsync for longer than
    /// `writer_limit`, or a source's thread stopped on a panic.
    pub fn check(&self, writer_limit: Duration) -> Result<(), Unhealthy> {
        if let Some(source) = self.state.sources.iter().find(|s| s.stopped()) {
            return Err(Unhealthy::SourceStopped {
                name: source.name().to_owned(),
            });
        }
        for (_, d, store) in self.state.destinations.stores() {
            if let Some(busy) = store.handle.writer_busy_for() {
                if busy > writer_limit {
                    return Err(Unhealthy::WriterStuck {
                        destination: d.name.clone(),
                        busy,
                        limit: writer_limit,
                    });
                }
            }
        }
        Ok(())
    }
}

impl RunningServer {
    /// A probe of this server's health that outlives borrows of it (for a watchdog
    /// task).
    pub fn health_probe(&self) -> HealthProbe {
        HealthProbe {
            state: self.state.clone(),
        }
    }
}
