//! Prometheus metrics of a node (feature `metrics`): its dispatcher's counters served
//! on `GET /metrics` at the node config's `[metrics] listen` address.
//!
//! ```no_run
//! use auditrail::metrics::MetricsServer;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let (config, builder) = auditrail::dispatcher_builder_from_file("node.toml".as_ref())?;
//! let dispatcher = builder.build()?;
//! // `None` when the config has no `[metrics] listen`.
//! let metrics = MetricsServer::start_from_config(&config.metrics, &dispatcher).await?;
//! // ... emit events; the server stops when `metrics` is dropped or shut down.
//! # drop(metrics);
//! # Ok(()) }
//! ```
//!
//! The endpoint answers in the Prometheus text format (version 0.0.4), or in
//! OpenMetrics text when the scraper's `Accept` header asks for it. The families, their
//! units and labels are listed in `docs/configuration.md`.

mod collector;
mod http;

use std::net::SocketAddr;

use auditrail_core::{Dispatcher, MetricsConfig, StatsReader};
use prometheus_client::registry::Registry;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use collector::NodeCollector;

/// Why the metrics endpoint could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MetricsError {
    /// The listen address cannot be bound (in use, not a local address, no permission).
    #[error("[metrics] listen = \"{address}\": cannot listen there")]
    Bind {
        /// The configured address.
        address: SocketAddr,
        /// The operating system's answer.
        #[source]
        source: std::io::Error,
    },
}

/// A running `GET /metrics` endpoint over one dispatcher's counters.
///
/// It holds a [`StatsReader`], not the dispatcher: it never keeps the dispatcher's
/// queues alive, and after the dispatcher shut down it keeps answering with the final
/// counters. Dropping it (or [`MetricsServer::shutdown`]) stops the listener.
#[derive(Debug)]
pub struct MetricsServer {
    local_addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl MetricsServer {
    /// Binds `listen` and serves `reader`'s counters on the current tokio runtime
    /// (must be called within one). Port 0 picks a free port: see
    /// [`MetricsServer::local_addr`]. The bound address is logged at INFO.
    pub async fn start(
        listen: SocketAddr,
        reader: StatsReader,
    ) -> Result<MetricsServer, MetricsError> {
        let bind_error = |source| MetricsError::Bind {
            address: listen,
            source,
        };
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .map_err(bind_error)?;
        let local_addr = listener.local_addr().map_err(bind_error)?;
        let mut registry = Registry::default();
        registry.register_collector(Box::new(NodeCollector::new(reader)));
        let (stop, stopped) = oneshot::channel();
        let task = tokio::spawn(http::serve(listener, registry, stopped));
        tracing::info!(address = %local_addr, "metrics endpoint listening (GET /metrics)");
        Ok(MetricsServer {
            local_addr,
            stop: Some(stop),
            task: Some(task),
        })
    }

    /// Serves `dispatcher`'s counters at `config.listen`; `None` when the config has
    /// no listen address.
    pub async fn start_from_config(
        config: &MetricsConfig,
        dispatcher: &Dispatcher,
    ) -> Result<Option<MetricsServer>, MetricsError> {
        match config.listen {
            Some(listen) => Self::start(listen, dispatcher.stats_reader())
                .await
                .map(Some),
            None => Ok(None),
        }
    }

    /// The address the endpoint listens on (the chosen port when configured with 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Stops accepting scrapes and waits for the ones in progress to be answered.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for MetricsServer {
    fn drop(&mut self) {
        // The serving task ends on its own once told; nothing to wait for here.
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
