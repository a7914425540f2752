//! Starting, running and stopping the server: destinations, de-duplication, tamper
//! evidence of the stores (signing key, checkpoints, receipts), the listener (plain or
//! TLS), graceful shutdown.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use auditrail_core::{Dispatcher, ShutdownReport, Timestamp};
use auditrail_integrity::{
    Checkpoint, DataDirLock, DataDirLockError, HighWaterMarks, IntegrityError, Signer,
};
use auditrail_store::StoreError;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use hyper_util::server::conn::auto;
use thiserror::Error;
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinHandle;

use crate::access::{Access, AccessCell};
use crate::config::{Destinations as ConfiguredDestinations, ServerConfig};
use crate::conn::ConnLimits;
use crate::dedup::{Dedup, DedupConfig};
pub use crate::destinations::{DestinationError, Rechecked};
use crate::destinations::{DestinationSpec, Destinations, StoreCheck};
use crate::http::{router, AppState};
pub use crate::source::SourceError;
use crate::source::{SourceConfig, SourceContext, Sources};
use crate::witness::Witnesses;

mod health;
mod progress;
mod reload;
pub use health::{HealthProbe, Unhealthy};
pub use progress::{StartNews, StartProgress};
pub(crate) use reload::Rechecks;
pub use reload::{ReloadError, Reloaded, Reloader, RELOADED_SETTINGS};

/// Why the server cannot start.
#[derive(Debug, Error)]
pub enum ServerError {
    /// The configuration is refused (names the file and the key).
    #[error("{file}: {source}")]
    Config {
        /// The config file.
        file: String,
        /// What is wrong.
        #[source]
        source: Box<crate::config::ConfigCheckError>,
    },
    /// The configuration is refused for where the server listens (names the address).
    #[error(transparent)]
    Exposure(Box<crate::config::ConfigCheckError>),
    /// A folder cannot be created.
    #[error("cannot create {}", auditrail_core::path_and_error(path, source))]
    Folder {
        /// The folder.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A `store` destination cannot be opened, or its checkpoint log cannot (e.g. the
    /// store holds fewer records than its last checkpoint vouches for: run
    /// `auditrail verify`).
    #[error(transparent)]
    Destination(#[from] DestinationError),
    /// The destinations cannot be built.
    #[error("destinations: {0}")]
    Destinations(#[from] auditrail_core::DispatcherError),
    /// De-duplication cannot be rebuilt from the stores.
    #[error("rebuilding de-duplication from the store: {0}")]
    Dedup(#[source] StoreError),
    /// `max_connections` and the stores' `max_open_files` set in the config need more
    /// file descriptors than the open-file limit allows (each value named with where
    /// it was set: the file, or an environment variable).
    #[error(transparent)]
    FileBudget(#[from] crate::fd_budget::OverCommit),
    /// The address cannot be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// TLS files are unusable.
    #[error(transparent)]
    Tls(#[from] crate::tls::TlsError),
    /// The signing key cannot be loaded or created.
    #[error("{}", crate::integrity_said::said(.0))]
    Integrity(#[from] IntegrityError),
    /// The data dir is in use by another process, or its lock file cannot be used.
    #[error(transparent)]
    DataDirLock(#[from] DataDirLockError),
    /// The `[[witnesses]]` cannot be set up (their folder, node id or dispatcher).
    #[error("{0}")]
    Witnesses(String),
    /// A `[[sources]]` entry cannot start.
    #[error(transparent)]
    Source(#[from] SourceError),
    /// A stop was asked ([`StartProgress::stop`]: SIGTERM, SIGINT) while the start
    /// read its stores: it ended there, before anything was written but the stores'
    /// crash repairs (each complete by itself), and the stores were closed again.
    #[error("the start was stopped {phase}, before the server took any event")]
    Stopped {
        /// Where the start was (`while opening store "store" (1 of 1)`).
        phase: String,
    },
}

impl ServerError {
    /// Whether the start ended because a stop was asked ([`ServerError::Stopped`]).
    pub fn is_stopped(&self) -> bool {
        matches!(self, ServerError::Stopped { .. })
    }
}

/// [`ServerError::Stopped`] for the phase `progress` is in.
fn stopped(progress: &StartProgress) -> ServerError {
    ServerError::Stopped {
        phase: format!("while {}", progress.phase()),
    }
}

/// A running server.
pub struct RunningServer {
    local_addr: SocketAddr,
    /// The TLS acceptor new connections use, with its certificate's validity (a reload
    /// replaces both).
    tls: Option<watch::Sender<crate::tls::Served>>,
    data_dir: PathBuf,
    store_paths: Vec<PathBuf>,
    stop: watch::Sender<bool>,
    accept_loop: JoinHandle<()>,
    /// Prunes the stores that have a retention (ends at `stop`).
    retention: Option<JoinHandle<()>>,
    /// Delivers the stores' published checkpoints to the `[[witnesses]]`.
    witnesses: Option<Arc<Witnesses>>,
    /// The `[[sources]]` (Kafka consumers and their partition stores).
    sources: Sources,
    state: Arc<AppState>,
    shutdown_timeout: Duration,
    /// `allow_unauthenticated` of the start: like the address, a reload does not
    /// change it (`reload.rs`).
    allow_unauthenticated: bool,
    /// What a SIGHUP's re-check of the held stores needs.
    rechecks: Rechecks,
    /// Held until the server is gone (dropped last, after the stores closed).
    _data_dir_lock: DataDirLock,
}

impl std::fmt::Debug for RunningServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunningServer")
            .field("local_addr", &self.local_addr)
            .field("tls", &self.tls.is_some())
            .field("data_dir", &self.data_dir)
            .field("store_paths", &self.store_paths)
            .field("shutdown_timeout", &self.shutdown_timeout)
            .finish_non_exhaustive()
    }
}

/// What a graceful shutdown did.
#[derive(Debug)]
pub struct StopReport {
    /// Connections still open at the deadline (their requests were cut).
    pub connections_cut: bool,
    /// The destinations' final report.
    pub destinations: ShutdownReport,
    /// The final checkpoint of each chained store, by destination name (`None`: no new
    /// checkpoint was needed), or why it could not be written.
    pub checkpoints: Vec<(String, Result<Option<Checkpoint>, IntegrityError>)>,
}

impl RunningServer {
    /// The bound address (the real port when the config said port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// `http://addr` or `https://addr`.
    pub fn url(&self) -> String {
        format!(
            "{}://{}",
            if self.tls.is_some() { "https" } else { "http" },
            self.local_addr
        )
    }

    /// The data folder.
    pub fn data_dir(&self) -> &std::path::Path {
        &self.data_dir
    }

    /// Folders of the store destinations.
    pub fn store_paths(&self) -> &[PathBuf] {
        &self.store_paths
    }

    /// Graceful shutdown: stop accepting, let in-flight requests finish, then shut the
    /// destinations down (every store fsyncs), then sign each store's final checkpoint
    /// (it covers every stored record).
    pub async fn shutdown(self) -> StopReport {
        self.state.ready.store(false, Ordering::SeqCst);
        let _ = self.stop.send(true);
        // At once, not after the connections' wait below: a source opening the stores
        // of a large assignment (seconds each) stops at the next one.
        self.sources.ask_stop();
        // Followers' streams never end by themselves: end them, or the connections'
        // graceful shutdown would wait for them until the deadline.
        self.state.recent.end_streams();
        let deadline = self.shutdown_timeout;
        let connections_cut = tokio::time::timeout(deadline, self.accept_loop)
            .await
            .is_err();
        // The sources store what they read, close their partition stores (final
        // checkpoints) and leave their consumer groups.
        self.sources.stop().await;
        if let Some(retention) = self.retention {
            // A prune under way ends before the stores close: an archiving one stops
            // at once while it uploads (the shutdown's signal above; a slow or frozen
            // object store must not hold the stop), or finishes removing the files
            // its line names.
            let _ = retention.await;
        }
        let destinations = self.state.dispatcher.shutdown(deadline).await;
        let checkpoints = self.state.destinations.close_integrity().await;
        if let Some(w) = self.witnesses {
            // The final checkpoints were just queued for the witnesses: hand them over.
            w.shutdown(deadline).await;
        }
        StopReport {
            connections_cut,
            destinations,
            checkpoints,
        }
    }
}

/// Opens the destinations and starts listening. Must run inside a multi-threaded tokio
/// runtime (the destinations run on it).
pub async fn start(config: ServerConfig) -> Result<RunningServer, ServerError> {
    start_with_progress(config, &StartProgress::new()).await
}

/// [`start`], counting in `progress` the records it reads from the stores (the longest
/// part of a start on a large store), so that a waiter can tell a start that
/// progresses from a hung one.
pub async fn start_with_progress(
    config: ServerConfig,
    progress: &StartProgress,
) -> Result<RunningServer, ServerError> {
    start_inner(config, progress, None).await
}

/// [`start_with_progress`] on a socket that is already bound and listening (handed
/// over by a service manager: systemd socket activation), instead of binding
/// `config.listen`; `config.listen` should name the socket's address (the exposure
/// check reads it) and `listen_backlog` is the socket owner's business.
pub async fn start_on_listener(
    config: ServerConfig,
    progress: &StartProgress,
    listener: std::net::TcpListener,
) -> Result<RunningServer, ServerError> {
    start_inner(config, progress, Some(listener)).await
}

async fn start_inner(
    config: ServerConfig,
    progress: &StartProgress,
    given: Option<std::net::TcpListener>,
) -> Result<RunningServer, ServerError> {
    let refused = |source| ServerError::Config {
        file: config.source.clone(),
        source: Box::new(source),
    };
    config.check().map_err(refused)?;
    config
        .check_exposure()
        .map_err(|e| ServerError::Exposure(Box::new(e)))?;
    config.check_witnesses_elsewhere().map_err(refused)?;
    // Durably: the data dir holds the signing key and the stores acknowledged events go to.
    auditrail_core::durable::create_dir_all(&config.data_dir).map_err(|source| {
        ServerError::Folder {
            path: config.data_dir.clone(),
            source,
        }
    })?;
    // The certificate and key are read before anything in the data dir is touched: a
    // start refused for them leaves no store opened and nothing running.
    let tls = match &config.tls {
        Some(t) => Some(crate::tls::acceptor(t).map_err(ServerError::Tls)?),
        None => None,
    };
    // One server per data dir, and no operator command changing its key, marks or
    // stores while it runs: they take the same lock.
    let data_dir_lock = DataDirLock::acquire(&config.data_dir, "auditrail serve")?;
    let mut specs: Vec<DestinationSpec> = match &config.destinations {
        ConfiguredDestinations::Configured(specs) => specs
            .iter()
            .cloned()
            .map(DestinationSpec::from_target_spec)
            .collect(),
        ConfiguredDestinations::DefaultStore => vec![DestinationSpec::default_store()],
    };
    // Connections and the stores' open files share one open-file limit: their defaults
    // are computed together, so that they add up to no more than it.
    let asked = crate::fd_budget::Asked {
        stores: specs
            .iter()
            .filter_map(|s| Some((s.name().to_owned(), s.store_config()?.max_open_files)))
            .collect(),
        stores_from: config.source.clone(),
        connections: config.max_connections,
        connections_from: config.origin("max_connections"),
        partition_stores: !config.sources.is_empty(),
    };
    let budget = crate::fd_budget::plan(crate::fd_budget::raise_open_file_limit(), &asked)?;
    for store in specs
        .iter_mut()
        .filter_map(DestinationSpec::store_config_mut)
    {
        store.max_open_files.get_or_insert(budget.store_files);
    }
    // The key first: a server that cannot sign must not take events. Before any
    // store is opened (or created), so that a start refused for its key leaves the
    // data dir as it was; a key is generated only in a new data dir.
    // Every store the key signs: the `store` destinations and the Kafka sources'
    // partition stores (a source-only server's key is theirs alone).
    let stores: Vec<PathBuf> = config.store_paths();
    let signer = Arc::new(Signer::for_data_dir(
        &config.data_dir,
        config.signing_key.as_deref(),
        &stores,
    )?);
    // Each store's signed high-water mark lives in the data dir, outside the stores.
    // Made before the destinations' dispatcher: its check of the data folder (found
    // here, the folder the lock above holds) is theirs too.
    let marks = Arc::new(HighWaterMarks::in_data_dir(&config.data_dir));
    let builder = Dispatcher::builder(config.node.clone())
        .runtime(tokio::runtime::Handle::current())
        .run_dir(config.data_dir.clone())
        // The data dir's own lock (above) already keeps every other user out.
        .lock_run_dir(false)
        .dead_letter_dir(config.dead_letter_dir())
        // What the destinations make again at run time under the data folder (a
        // `file` destination's default folder, an `eventserver` destination's spool,
        // dead letters) is not made while the data folder is moved away: that would
        // bring it back at its path, the server's state split across the two.
        .folder_check(marks.clone())
        .drop_deadline(config.shutdown_timeout);
    // Opening the stores runs their recovery (torn tails cut); then de-duplication
    // reads what they hold, and each chained store gets its checkpoint task
    // (checkpointing the recovered head at once) and its receipt signer.
    if progress.stop_asked() {
        return Err(stopped(progress));
    }
    let (mut destinations, builder) = match Destinations::open(
        specs,
        &config.data_dir,
        config.retention.catch_up_rate,
        builder,
        progress,
        config.refuse_start_on_damaged_store,
        !config.sources.is_empty(),
    ) {
        Ok(opened) => opened,
        Err(DestinationError::Store { source, .. }) if source.is_stopped() => {
            // The stores opened before are closed as the builder is dropped.
            return Err(stopped(progress));
        }
        Err(e) => return Err(e.into()),
    };
    let dispatcher = builder.build()?;
    debug_assert!(destinations.matches(&dispatcher));
    destinations.warn_not_durable(&dispatcher, None);
    // Each store's checks at start, made once, before its records are read: a store
    // that fails them will be held (`attach_integrity` below, which takes these
    // verdicts), and its records are no evidence of what this server stored, so they
    // make neither the per-node statistics (counts, sequence gaps, last seen) nor
    // de-duplication. A store not opened at start is held already, and nothing of it
    // is read (`StoreCheck::Unopened`).
    let checks = destinations.check_stores(&signer, &marks);
    let trusted: Vec<bool> = checks.iter().map(StoreCheck::trusted).collect();
    progress.begin("rebuilding de-duplication".to_owned());
    let dedup = match Dedup::rebuild_from(
        DedupConfig {
            max_nodes: config.max_tracked_nodes,
            ..DedupConfig::default()
        },
        destinations
            .stores()
            .zip(trusted)
            .map(|((_, _, s), trusted)| (&s.handle, trusted)),
        &destinations.holders(),
        progress.read(),
        Some(&config.data_dir.join(crate::dedup::FORGOTTEN_NODES_FILE)),
    ) {
        Ok(d) => d,
        Err(e) => {
            let error = if e.is_stopped() {
                stopped(progress)
            } else {
                ServerError::Dedup(e)
            };
            dispatcher.shutdown(config.shutdown_timeout).await;
            return Err(error);
        }
    };
    progress.end("de-duplication rebuilt");
    // The last point where a stop ends the start: what follows writes (each store's
    // first checkpoint, its high-water mark) and is short; a stop asked from here on
    // is taken once the server runs, as a shutdown (final checkpoints).
    if progress.stop_asked() {
        dispatcher.shutdown(config.shutdown_timeout).await;
        return Err(ServerError::Stopped {
            phase: "once de-duplication was rebuilt".to_owned(),
        });
    }
    progress.begin("checking the stores' checkpoints and listening".to_owned());
    // Witnesses: a dispatcher of their own (its own spool and dead letters under
    // `<data_dir>/witness`), so a witness that is down never holds up ingest.
    let witnesses = match Witnesses::start(&config, marks.clone()) {
        Ok(w) => w.map(Arc::new),
        Err(e) => {
            dispatcher.shutdown(config.shutdown_timeout).await;
            return Err(ServerError::Witnesses(e.to_string()));
        }
    };
    if let Err(e) = destinations.attach_integrity(
        checks,
        &signer,
        config.checkpoints,
        &marks,
        witnesses.as_deref(),
        config.refuse_start_on_damaged_store,
        !config.sources.is_empty(),
    ) {
        dispatcher.shutdown(config.shutdown_timeout).await;
        if let Some(w) = witnesses {
            w.shutdown(config.shutdown_timeout).await;
        }
        return Err(e.into());
    }
    if let Some(w) = &witnesses {
        // Before anything else is published (retention below): the lines written while
        // the server was stopped go first, in log order.
        for (_, _, store) in destinations.stores() {
            if let Some(integrity) = store.integrity() {
                w.catch_up(&store.path, integrity.store_id());
            }
        }
    }
    let timeline = destinations.timeline();
    // Shared from here on: the Kafka sources judge by them whether an event dated past
    // a partition store's retention is kept elsewhere.
    let destinations = Arc::new(destinations);
    if let Some(reading) = timeline.as_ref().map(|t| t.now()) {
        if let Some(store) = reading
            .latest
            .filter(|s| s.unix_millis() > reading.wall.unix_millis())
        {
            let behind_s = (store.unix_millis() - reading.wall.unix_millis()) / 1000;
            if behind_s > auditrail_store::CLOCK_TOLERANCE.as_secs() as i64 {
                // Said once here: afterwards only a refused event's message shows it.
                tracing::warn!(clock = %reading.wall, stores_timeline = %store, behind_s,
                    "the server's clock is behind the latest time its stores' checkpoints signed: event timestamps are bounded ahead (max_timestamp_ahead_s) from the stores' timeline, not from the clock; check the clock (NTP)");
            }
        }
    }
    // Made before the sources, which show what they store in the same live view and
    // counters as the HTTP ingest.
    let shown = crate::shown::LiveView {
        stats: Arc::new(crate::stats::Stats::new(config.max_tracked_topics)),
        ..crate::shown::LiveView::default()
    };
    // Listed by the sources as their partition stores open, pruned by the retention
    // loop below.
    let partition_stores = Arc::new(crate::source::PartitionStores::new(
        config.sources.iter().any(SourceConfig::has_retention),
    ));
    let sources = match Sources::start(
        &config.sources,
        &SourceContext {
            partition_stores: &partition_stores,
            partition_slots: budget.partition_stores,
            open_file_limit: budget.limit,
            destinations: &destinations,
            data_dir: &config.data_dir,
            dead_letter_dir: &config.dead_letter_dir(),
            node: config.node.as_str(),
            signer: &signer,
            policy: config.checkpoints,
            dispatcher: &dispatcher,
            ack_timeout: config.ack_timeout,
            max_timestamp_ahead: config.max_timestamp_ahead,
            timeline: timeline.clone(),
            shown: &shown,
            witnesses: witnesses.as_ref(),
            data_folder: marks.clone(),
        },
    ) {
        Ok(s) => s,
        Err(e) => {
            undo_start(&dispatcher, &destinations, witnesses.as_deref(), &config).await;
            return Err(e.into());
        }
    };
    let bound = match given {
        None => listen(config.listen, config.listen_backlog),
        Some(l) => l
            .set_nonblocking(true)
            .and_then(|()| TcpListener::from_std(l)),
    }
    .and_then(|l| l.local_addr().map(|a| (l, a)));
    let (listener, local_addr) = match bound {
        Ok(b) => b,
        Err(source) => {
            // Everything started above stops before the data dir's lock is let go
            // (it is dropped on return): a checkpoint task left running would go on
            // writing the marks of a data dir the next server already holds.
            sources.stop().await;
            undo_start(&dispatcher, &destinations, witnesses.as_deref(), &config).await;
            return Err(ServerError::Bind {
                addr: config.listen,
                source,
            });
        }
    };
    // Before anything is printed on stdout (`listening on`, which the CLI prints once
    // the start returns): a reader of the log learns the bound port even when it
    // cannot read stdout, as with `listen` on port 0.
    tracing::info!(address = %local_addr, "listening");
    let store_paths = destinations
        .stores()
        .map(|(_, _, s)| s.path.clone())
        .collect();
    let readiness = crate::http::readiness::Readiness::new(
        config.data_dir.clone(),
        destinations
            .stores()
            // A store not opened at start takes nothing: whether its folder takes a new
            // file says nothing of what a batch meets (`/readyz` lists it as held).
            .filter(|(_, _, s)| s.unopened.is_none())
            .map(|(_, d, s)| (d.name.clone(), s.handle.root().to_owned()))
            .collect(),
        destinations.not_stores().next().is_some(),
        config.min_free_bytes,
    )
    .with_marks(marks.clone());
    let max_connections = budget.max_connections;
    let max_streams = crate::conn::max_streams(&config, max_connections);
    let state = Arc::new(AppState {
        access: AccessCell::new(Access::from_config(&config)),
        dispatcher,
        dedup,
        destinations,
        // axum's default (15 s), or half the idle timeout when that is shorter.
        stream_keep_alive: std::time::Duration::from_secs(15).min(config.idle_timeout / 2),
        recent: shown.recent,
        stats: shown.stats,
        metrics: shown.metrics,
        batches: Arc::new(Semaphore::new(config.max_concurrent_batches)),
        max_concurrent_batches: config.max_concurrent_batches,
        started: Timestamp::now(),
        max_body_bytes: config.max_body_bytes,
        body_memory: crate::http::intake::MemoryBudget::new(config.max_body_memory_bytes),
        ack_timeout: config.ack_timeout,
        store_usage: Default::default(),
        data_dir: config.data_dir.clone(),
        min_free_bytes: config.min_free_bytes,
        max_timestamp_ahead: config.max_timestamp_ahead,
        timeline,
        ready: AtomicBool::new(true),
        readiness,
        witnesses: witnesses.clone(),
        sources: sources.metrics.clone(),
        partition_stores,
        queries: crate::http::query::Queries::new(
            config.queries.clone(),
            config.max_answer_memory_bytes,
        ),
        read_turns: crate::http::read_turn::ReadTurns::new(),
        streams: Arc::new(Semaphore::new(max_streams)),
        max_streams,
        signer: signer.clone(),
    });
    let (stop, stop_rx) = watch::channel(false);
    let tls = tls.map(watch::Sender::new);
    tracing::info!(
        max_connections,
        max_streams,
        max_connections_from = %budget.connections_origin(),
        store_max_open_files = %budget.stores_said(),
        open_file_limit = budget.limit,
        partition_stores_open_at_most = budget.partition_stores,
        max_connections_per_client = config.max_connections_per_client,
        header_read_timeout_ms = config.header_read_timeout.as_millis() as u64,
        idle_timeout_ms = config.idle_timeout.as_millis() as u64,
        "connection limits"
    );
    let retention = crate::retention::spawn(state.clone(), stop.subscribe());
    let accept_loop = tokio::spawn(accept_loop(
        listener,
        tls.as_ref().map(watch::Sender::subscribe),
        state.clone(),
        stop_rx,
        ConnLimits::of(&config),
        max_connections,
        config.max_connections_per_client.map(|max| {
            use crate::conn::per_client::PerClient;
            PerClient::new(max, state.metrics.connections_refused(PerClient::REASON))
        }),
    ));
    Ok(RunningServer {
        local_addr,
        tls,
        data_dir: config.data_dir.clone(),
        store_paths,
        stop,
        accept_loop,
        retention,
        witnesses,
        sources,
        state,
        shutdown_timeout: config.shutdown_timeout,
        allow_unauthenticated: config.allow_unauthenticated,
        rechecks: Rechecks {
            marks,
            policy: config.checkpoints,
            runtime: tokio::runtime::Handle::current(),
        },
        _data_dir_lock: data_dir_lock,
    })
}

/// Stops what a start that fails after the stores' integrity was attached had started,
/// in a shutdown's order: the dispatcher (every store writes its last batch), each
/// store's final checkpoint, then the witnesses (which take those checkpoints).
async fn undo_start(
    dispatcher: &Dispatcher,
    destinations: &Destinations,
    witnesses: Option<&Witnesses>,
    config: &ServerConfig,
) {
    dispatcher.shutdown(config.shutdown_timeout).await;
    let _ = destinations.close_integrity().await;
    if let Some(w) = witnesses {
        w.shutdown(config.shutdown_timeout).await;
    }
}

/// Binds with an explicit listen backlog: connections beyond `max_connections` wait
/// there, so it must hold more than the 128 that `TcpListener::bind` asks for (the
/// kernel caps it at `net.core.somaxconn`).
fn listen(addr: SocketAddr, backlog: u32) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    // As std's and tokio's `bind` do on unix: a restarted server gets its port back
    // while old connections are in TIME_WAIT.
    #[cfg(unix)]
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(backlog)
}

async fn accept_loop(
    listener: TcpListener,
    tls: Option<watch::Receiver<crate::tls::Served>>,
    state: Arc<AppState>,
    stop: watch::Receiver<bool>,
    limits: ConnLimits,
    max_connections: usize,
    per_client: Option<Arc<crate::conn::per_client::PerClient>>,
) {
    let app = router(state, tls.is_some());
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.first_request)
        // A client may shut down its sending side once its request is sent (`nc -N`,
        // `socat`, proxies forwarding their client's FIN) and still read the answer
        // (RFC 9112 §9.6). Without this, hyper took that end of file for a client gone
        // away: it dropped the request unanswered, and a batch it had begun to store
        // was acknowledged to nobody. A body cut short is still refused (400
        // `bad_body`): the end of file is then met while reading it. A client really
        // gone is noticed at the answer's write, and the work a batch does runs in its
        // own task either way.
        .half_close(true);
    let builder = Arc::new(builder);
    // Every open connection holds a permit: at the limit, new ones wait in the listen
    // backlog (not accepted, so they take no file descriptor of ours). The same
    // permits tell when every connection ended on a graceful stop.
    let max = u32::try_from(max_connections).unwrap_or(u32::MAX);
    let open = Arc::new(Semaphore::new(max as usize));
    let stopped = || {
        let mut stop = stop.clone();
        async move {
            let _ = stop.wait_for(|s| *s).await;
        }
    };
    loop {
        let permit = tokio::select! {
            p = open.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
            () = stopped() => break,
        };
        let (stream, peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(x) => x,
                Err(e) => {
                    // Out of file descriptors and the like: wait, do not spin.
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = stopped() => break,
        };
        // A client at its own bound: closed before anything of it is read, its
        // permit back at once, so one client's idle connections leave the others room.
        let slot = match &per_client {
            None => None,
            Some(per) => match per.take(peer.ip()) {
                Some(slot) => Some(slot),
                None => continue,
            },
        };
        let _ = stream.set_nodelay(true);
        let (app, builder, stop) = (app.clone(), builder.clone(), stop.clone());
        match &tls {
            None => {
                let remote = crate::conn::Remote {
                    addr: peer,
                    cert: None,
                };
                tokio::spawn(async move {
                    crate::conn::serve(stream, remote, app, builder, limits, stop, permit).await;
                    drop(slot);
                });
            }
            Some(acceptor) => {
                // The certificate in force when the connection arrived.
                let acceptor = acceptor.borrow().acceptor.clone();
                tokio::spawn(async move {
                    let handshake =
                        tokio::time::timeout(limits.first_request, acceptor.accept(stream)).await;
                    let stream = match handshake {
                        Ok(Ok(stream)) => stream,
                        Ok(Err(e)) if crate::tls::is_client_cert_refusal(&e) => {
                            // Someone tried to authenticate and failed: worth a line
                            // (a scanner without a certificate is not).
                            tracing::warn!(%peer, "client certificate refused: {e}");
                            return;
                        }
                        Ok(Err(e)) => {
                            tracing::debug!(%peer, "TLS handshake failed: {e}");
                            return;
                        }
                        Err(_) => {
                            tracing::debug!(%peer, "TLS handshake timed out");
                            return;
                        }
                    };
                    let remote = crate::conn::Remote {
                        addr: peer,
                        cert: crate::tls::client_cert(stream.get_ref().1),
                    };
                    crate::conn::serve(stream, remote, app, builder, limits, stop, permit).await;
                    drop(slot);
                });
            }
        }
    }
    drop(listener);
    // Graceful stop: every connection finishes its answers and gives its permit back.
    let _ = open.acquire_many(max).await;
}
