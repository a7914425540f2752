//! Building a dispatcher: its targets (built, or from their registration and config),
//! folders, runtime and sequence numbers; one worker started per target.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use thiserror::Error;
use tokio::runtime::{Handle, RuntimeFlavor};
use tokio::sync::watch;

use super::dead_letter::DeadLetterFile;
use super::handover::{Handover, HandoverGuard, Running, Watched};
use super::reader::{log_periodically, StatsReader};
use super::run_folder::{self, RunFolder};
use super::seq::SeqSetupError;
use super::seq::{SeqAllocator, SeqFile};
use super::spares::Spares;
use super::stats::TargetCounters;
use super::unbuilt::{self, ForwardingCell, Unbuilt};
use super::worker::Worker;
use super::{DeliveryOptions, DeliveryOptionsError, Dispatcher, Inner, Route};
use crate::config::{EntryError, EntryPlace, EntryProblem, NodeConfig, Section, TargetSpec};
use crate::event::NodeId;
use crate::filter::Filter;
use crate::folder_check::FolderCheck;
use crate::folder_lock::{FolderLock, FolderLockError};
use crate::registry::TargetRegistration;
use crate::target::{BuildContext, BuildError, Durability, Target};
use crate::target_config::ValidatedConfig;

/// Why a dispatcher could not be built. Its `Debug` is its message with its causes
/// ([`crate::ErrorReport`]), not a dump.
#[derive(Error)]
#[non_exhaustive]
pub enum DispatcherError {
    /// A target failed to build.
    #[error("target {name:?} (type {type_name:?}): {source}")]
    Target {
        /// Instance name.
        name: String,
        /// Type.
        type_name: String,
        /// Why.
        source: BuildError,
    },
    /// A target's instance name cannot name its files: it is not 1 to 64 characters
    /// of `[A-Za-z0-9._-]`, or it starts with `.` (the rule of a config's `name`). The
    /// name becomes the target's dead-letter file (`<dead_letter_dir>/<name>.jsonl`),
    /// its folders (the eventserver target's spool) and its metric label: `..` or `/`
    /// in it would put them outside their folder.
    #[error(
        "target name {name:?} cannot be used: a target name is 1 to 64 characters of \
         [A-Za-z0-9._-], not starting with `.` (it names the target's dead-letter file \
         and folders)"
    )]
    BadName {
        /// The name given.
        name: String,
    },
    /// Two targets were given the same instance name: they would write one dead-letter
    /// file and one spool folder, and their reports and counters could not be told
    /// apart.
    #[error("two targets are named {name:?}; target names must be unique")]
    DuplicateName {
        /// The name given twice.
        name: String,
    },
    /// A target's delivery options are invalid.
    #[error("target {name:?}: {source}")]
    Options {
        /// Instance name.
        name: String,
        /// What is wrong (names the key).
        #[source]
        source: DeliveryOptionsError,
    },
    /// A target's own config, given to [`DispatcherBuilder::registered_target`] as a
    /// table, is invalid (the place counts targets in the order they were added).
    #[error(transparent)]
    Config(Box<EntryError>),
    /// Two targets of the node would destroy each other's data: their files meet in one
    /// folder ([`crate::TargetConfig::clash`]). The message names both targets, the
    /// folder and the names.
    #[error("{message}")]
    Clash {
        /// The target added first.
        first: String,
        /// The other.
        second: String,
        /// What meets where, and what to change.
        message: String,
    },
    /// The dispatcher's runtime, or a target worker's runtime or thread, could not be
    /// set up.
    #[error(transparent)]
    Setup(RuntimeSetupError),
    /// The sequence file cannot be read or its first reservation written (names the
    /// file, or its folder).
    #[error(transparent)]
    SeqFile(Box<SeqSetupError>),
    /// Another process (the application, another `auditrail send` with the same node
    /// config) or another dispatcher of this process uses the run folder: it is locked
    /// for the life of the dispatcher that uses it (see
    /// [`DispatcherBuilder::lock_run_dir`]).
    #[error(
        "run folder {} is in use by {holder}: a run folder (its sequence file, spools, \
         dead letters and receipts) is used by one process at a time, such as the \
         application or an `auditrail send` with this node config. Wait until that one \
         ends, or give this run a node config with its own `run_dir` (dead-letter lines \
         carry their original id, node and seq, so re-sending them from another run folder \
         stores each once)",
        run_dir.display()
    )]
    RunDirInUse {
        /// The run folder.
        run_dir: PathBuf,
        /// Who holds it, as its lock file says (`pid N (program)`).
        holder: String,
    },
    /// The run folder or its lock file cannot be created or locked.
    #[error("run folder {}", crate::path_and_error(run_dir, source))]
    RunDirLock {
        /// The run folder.
        run_dir: PathBuf,
        /// What failed.
        #[source]
        source: FolderLockError,
    },
}

/// Why the runtimes or threads the dispatcher runs its workers on could not be set up
/// ([`DispatcherError::Setup`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RuntimeSetupError {
    /// The runtime given with [`DispatcherBuilder::runtime`] has no timer.
    #[error(
        "the runtime given to the dispatcher has no timer: build it with \
         `enable_time()` (or `enable_all()`); workers need timers for batching, \
         retries and shutdown deadlines"
    )]
    RuntimeWithoutTimer,
    /// The dispatcher's own runtime could not be started.
    #[error("cannot start the dispatcher runtime: {source}")]
    Runtime {
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },
    /// The runtime of a target's worker could not be started.
    #[error("cannot start the runtime of target {target:?}'s worker: {source}")]
    WorkerRuntime {
        /// The target's instance name.
        target: String,
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },
    /// The thread of a target's worker could not be started.
    #[error("cannot start the thread of target {target:?}'s worker: {source}")]
    WorkerThread {
        /// The target's instance name.
        target: String,
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },
}

enum PendingTarget {
    /// A target handed over built, with what its `Ok` means as its owner said it
    /// ([`DispatcherBuilder::built_target`]; [`Durability::Undeclared`] through
    /// [`DispatcherBuilder::target`]).
    Built(Box<dyn Target>, Durability),
    Registered {
        registration: &'static TargetRegistration,
        config: PendingConfig,
    },
}

enum PendingConfig {
    /// Parsed and validated already (a config file entry).
    Parsed(ValidatedConfig),
    /// A table given in code, parsed when the dispatcher is built.
    Table(serde_json::Value),
}

/// Builds a [`Dispatcher`].
pub struct DispatcherBuilder {
    node: NodeId,
    targets: Vec<(String, String, Filter, DeliveryOptions, PendingTarget)>,
    dead_letter_dir: PathBuf,
    run_dir: PathBuf,
    /// `run_dir` was called: the folder is the node's, not the default.
    run_dir_given: bool,
    lock_run_dir: Option<bool>,
    persist_seq: bool,
    handle: Option<Handle>,
    worker_threads: usize,
    drop_deadline: Duration,
    stats_log_interval: Option<Duration>,
    /// See [`DispatcherBuilder::retry_unusable_targets`].
    retry_unusable: bool,
    /// See [`DispatcherBuilder::folder_check`].
    folder_check: Option<Arc<dyn FolderCheck>>,
    /// See [`DispatcherBuilder::made_again_while_folder_gone`].
    made_again: Option<&'static str>,
}

impl std::fmt::Debug for DispatcherBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let targets: Vec<&str> = self.targets.iter().map(|t| t.0.as_str()).collect();
        f.debug_struct("DispatcherBuilder")
            .field("node", &self.node)
            .field("targets", &targets)
            .field("dead_letter_dir", &self.dead_letter_dir)
            .field("run_dir", &self.run_dir)
            .field("lock_run_dir", &self.locks_run_dir())
            .field("persist_seq", &self.persist_seq)
            .field("worker_threads", &self.worker_threads)
            .field("drop_deadline", &self.drop_deadline)
            .field("retry_unusable_targets", &self.retry_unusable)
            .field("folder_check", &self.folder_check)
            .field("made_again_while_folder_gone", &self.made_again)
            .finish_non_exhaustive()
    }
}

impl DispatcherBuilder {
    /// Adds a built target. `name` follows the rule of a config's `name` (1 to 64
    /// characters of `[A-Za-z0-9._-]`, not starting with `.`, unique in the dispatcher):
    /// it names the target's dead-letter file, folders and metrics, and [`Self::build`]
    /// refuses any other ([`DispatcherError::BadName`], [`DispatcherError::DuplicateName`]).
    ///
    /// Its [`Dispatcher::route_durability`] is [`Durability::Undeclared`] (taken as not
    /// durable): a built target has no config to ask. Whoever built it from a config
    /// says what its `Ok` means through [`Self::built_target`].
    pub fn target(
        self,
        name: impl Into<String>,
        type_name: impl Into<String>,
        filter: Filter,
        options: DeliveryOptions,
        target: Box<dyn Target>,
    ) -> Self {
        self.built_target(
            name,
            type_name,
            filter,
            options,
            target,
            Durability::Undeclared,
        )
    }

    /// Adds a built target whose `Ok` means `durability`, as [`Self::target`]: for
    /// a target built from its config outside the registry (the event server opens its
    /// stores itself and keeps their handles), the config's own
    /// [`TargetConfig::durability`](crate::TargetConfig::durability), so that
    /// [`Dispatcher::route_durability`] and acknowledged emits report it as for a
    /// registered target.
    pub fn built_target(
        mut self,
        name: impl Into<String>,
        type_name: impl Into<String>,
        filter: Filter,
        options: DeliveryOptions,
        target: Box<dyn Target>,
        durability: Durability,
    ) -> Self {
        self.targets.push((
            name.into(),
            type_name.into(),
            filter,
            options,
            PendingTarget::Built(target, durability),
        ));
        self
    }

    /// Adds a target built from a registration and its own config fields (as a
    /// `[[targets]]` entry would, without the file). The fields are parsed and
    /// validated by the registration when the dispatcher is built
    /// ([`DispatcherError::Config`] names the key at fault). `name` as for
    /// [`Self::target`].
    pub fn registered_target(
        mut self,
        name: impl Into<String>,
        registration: &'static TargetRegistration,
        config: serde_json::Value,
        filter: Filter,
        options: DeliveryOptions,
    ) -> Self {
        self.targets.push((
            name.into(),
            registration.name.to_owned(),
            filter,
            options,
            PendingTarget::Registered {
                registration,
                config: PendingConfig::Table(config),
            },
        ));
        self
    }

    /// Adds a target from a parsed config entry (a node's `[[targets]]` or a server's
    /// `[[destinations]]` entry, see [`crate::config::parse_target`]).
    pub fn target_spec(mut self, spec: TargetSpec) -> Self {
        self.targets.push((
            spec.name,
            spec.registration.name.to_owned(),
            spec.filter,
            spec.delivery,
            PendingTarget::Registered {
                registration: spec.registration,
                config: PendingConfig::Parsed(spec.config),
            },
        ));
        self
    }

    /// Folder for dead-letter files (default `run/deadletter`).
    pub fn dead_letter_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.dead_letter_dir = dir.into();
        self
    }

    /// The node's run folder, given to targets (default `run`). A run folder given
    /// here is locked for the dispatcher's life (see [`Self::lock_run_dir`]).
    pub fn run_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.run_dir = dir.into();
        self.run_dir_given = true;
        self
    }

    /// Whether [`Self::build`] locks the run folder (`<run_dir>/auditrail.lock`, see
    /// [`FolderLock`]) and holds the lock until the dispatcher is dropped. A second
    /// dispatcher on a locked folder, in another process or in this one, is refused
    /// with [`DispatcherError::RunDirInUse`]: two users of one run folder hand out the
    /// same sequence numbers and delete each other's spool segments (losing events).
    ///
    /// Default: on when a run folder is given ([`Self::run_dir`]) or sequence numbers
    /// are persisted in it ([`Self::persist_seq`]), so on for every dispatcher built
    /// from a node config. Turn it off only for a dispatcher that shares the folder on
    /// purpose and keeps no state of its own there (sends straight to a server, no
    /// sequence file, no spool), or whose folder another lock already guards.
    pub fn lock_run_dir(mut self, on: bool) -> Self {
        self.lock_run_dir = Some(on);
        self
    }

    fn locks_run_dir(&self) -> bool {
        self.lock_run_dir
            .unwrap_or(self.run_dir_given || self.persist_seq)
    }

    /// The check of the folder the run folder and the dead-letter folder live in, given
    /// by its owner (the event server's data folder, for its destinations' and its
    /// witnesses' dispatchers).
    /// What this dispatcher and its targets create again at run time when it was
    /// removed under them (the sequence file's folder, dead-letter folder, a spool
    /// folder, a receipts folder) is created only while it passes: a folder moved away
    /// as a whole is not made again at its path, and the write is refused naming it
    /// ([`crate::FolderGone`]) until it is back. Without it (the default) a node's run
    /// folder removed under it is made again, as before.
    pub fn folder_check(mut self, check: Arc<dyn FolderCheck>) -> Self {
        self.folder_check = Some(check);
        self
    }

    /// Declares that the events this dispatcher is given and cannot dead-letter because
    /// the [`folder_check`](Self::folder_check) refused the write are made again by its
    /// owner, `how` (said in the log): the event server's witnesses, whose lines the
    /// next start publishes again from the stores' checkpoint logs. Such an event is
    /// logged at WARN as not dead-lettered and made again, naming the folder, instead
    /// of `EVENT LOST`; it is still counted (`lost`) and its emit settled as lost by
    /// this dispatcher, which is what the owner goes by. Any other dead-letter failure
    /// is `EVENT LOST` as without it.
    pub fn made_again_while_folder_gone(mut self, how: &'static str) -> Self {
        self.made_again = Some(how);
        self
    }

    /// Keep sequence numbers increasing across restarts, in `<run_dir>/seq/<node>`.
    /// Off by default for embedded use; on for dispatchers built from a node config.
    pub fn persist_seq(mut self, on: bool) -> Self {
        self.persist_seq = on;
        self
    }

    /// Run the workers on this runtime instead of a dedicated one (see "Runtimes" on
    /// [`Dispatcher`] for what changes with a current-thread runtime).
    pub fn runtime(mut self, handle: Handle) -> Self {
        self.handle = Some(handle);
        self
    }

    /// Threads of the dedicated runtime that runs the tasks targets spawn (default 2;
    /// each worker has a thread of its own besides). Ignored with [`Self::runtime`].
    pub fn worker_threads(mut self, n: usize) -> Self {
        self.worker_threads = n.max(1);
        self
    }

    /// Deadline of the graceful shutdown performed when the last clone is dropped.
    pub fn drop_deadline(mut self, d: Duration) -> Self {
        self.drop_deadline = d;
        self
    }

    /// Log every target's counters (through [`TargetStats::log`](super::TargetStats::log),
    /// at INFO) this often while the dispatcher runs. Off by default; a node config's
    /// `[metrics] log_interval_s` sets it.
    pub fn stats_log_interval(mut self, every: Option<Duration>) -> Self {
        self.stats_log_interval = every.filter(|d| !d.is_zero());
        self
    }

    /// What a registered target whose build fails because a file or folder it needs
    /// cannot be used ([`BuildError::Io`]: an unwritable folder, an `audit.log` that is
    /// a folder, a spool folder under a regular file, a missing certificate file) does
    /// to [`Self::build`]:
    ///
    /// - `false` (the default of [`Dispatcher::builder`]): `build` fails with
    ///   [`DispatcherError::Target`], naming the target, the path and the OS error.
    /// - `true` (the default of [`Dispatcher::builder_from_config`], so of a node): the
    ///   error is logged (ERROR, with the target's name, the path and the OS error),
    ///   the other targets start, and this target's worker builds it again at its
    ///   next batch, with the target's retry backoff, until it can start: each
    ///   attempt is a retryable error naming the path (logged, counted in `retried`),
    ///   its events wait in its queue (backpressure once it is full, dead-lettered at
    ///   the shutdown deadline), and its shutdown report says it never started. A
    ///   failure caused by one target's medium affects that target alone.
    ///
    /// Any other build error (a setting the target refuses) fails `build` either way:
    /// it does not go away without a change of config.
    pub fn retry_unusable_targets(mut self, on: bool) -> Self {
        self.retry_unusable = on;
        self
    }

    /// Locks the run folder (see [`Self::lock_run_dir`]), then starts one worker per
    /// target.
    pub fn build(mut self) -> Result<Dispatcher, DispatcherError> {
        // Before anything else: names make file names and tell reports apart.
        self.check_names()?;
        // Every target's own config parsed first, and the pairs checked, before anything
        // is opened: a node whose targets would destroy each other's files starts none.
        self.parse_tables()?;
        self.check_clashes()?;
        // First, before anything of the run folder is read or written (the sequence
        // file, the targets' spools): a second user must not touch it at all.
        let run_lock = if self.locks_run_dir() {
            // Relative paths of a config file are in its folder, not the working
            // directory: say which folder that made the node's state.
            tracing::debug!(run_dir = %self.run_dir.display(), dead_letter_dir = %self.dead_letter_dir.display(), "run folder");
            Some(lock_run_dir(&self.run_dir)?)
        } else {
            None
        };
        let (handle, own_runtime) = match self.handle {
            Some(h) if !timers_enabled(&h) => {
                return Err(DispatcherError::Setup(
                    RuntimeSetupError::RuntimeWithoutTimer,
                ))
            }
            Some(h) => (h, Unstarted(None)),
            None => {
                let rt = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(self.worker_threads)
                    .thread_name("auditrail-dispatch")
                    .enable_all()
                    .build()
                    .map_err(|source| {
                        DispatcherError::Setup(RuntimeSetupError::Runtime { source })
                    })?;
                (rt.handle().clone(), Unstarted(Some(rt)))
            }
        };
        // Read (and checked) now, reserved only once every target below was built: a
        // build that fails leaves the file as it was, not as a crashed run's (see
        // `SeqFile`).
        let seq_dir = self.run_dir.join(super::seq::SEQ_FOLDER);
        let seq_setup = |e| DispatcherError::SeqFile(Box::new(e));
        let seq_file = if self.persist_seq {
            Some(SeqFile::read(&seq_dir, self.node.as_str()).map_err(seq_setup)?)
        } else {
            None
        };
        // A target that panics on every retry must not print a backtrace each time.
        super::panics::install_hook();
        let (stop, stop_rx) = watch::channel(None);
        let in_flight: super::emit::InFlightCount = Arc::default();
        let spares = Arc::<Spares>::default();
        let mut routes = Vec::with_capacity(self.targets.len());
        let mut workers = Vec::with_capacity(self.targets.len());
        // The sequence numbers, for the workers, once reserved (after every target was
        // built; no event is emitted before).
        let seq_for_workers: Arc<OnceLock<Arc<SeqAllocator>>> = Arc::default();
        let mut to_start = Vec::with_capacity(self.targets.len());
        let mut watched = Vec::with_capacity(self.targets.len());
        let running = Arc::new(Running::default());
        for (index, (name, type_name, filter, options, pending)) in
            self.targets.into_iter().enumerate()
        {
            options.check().map_err(|source| DispatcherError::Options {
                name: name.clone(),
                source,
            })?;
            // Where a forwarding target's probe goes (later, for one built later).
            let forwarding: ForwardingCell = Arc::default();
            // What an `Ok` of the target means (acked emits say it): its config's word,
            // or, for a target handed over built, what its owner said.
            let durability;
            let target = match pending {
                PendingTarget::Built(t, said) => {
                    durability = said;
                    t
                }
                PendingTarget::Registered {
                    registration,
                    config,
                } => {
                    let config = match config {
                        PendingConfig::Parsed(c) => c,
                        // `parse_tables` parsed every table.
                        PendingConfig::Table(table) => {
                            parse_table(registration, table, index, &name, &type_name)?
                        }
                    };
                    durability = (registration.durability)(&config);
                    let mut ctx = BuildContext::new(
                        self.node.clone(),
                        name.clone(),
                        self.run_dir.clone(),
                        self.dead_letter_dir.clone(),
                        handle.clone(),
                    );
                    if let Some(check) = &self.folder_check {
                        ctx = ctx.with_folder_check(check.clone());
                    }
                    // Targets may spawn tasks while building.
                    let built = {
                        let _enter = handle.enter();
                        (registration.build)(&config, &ctx)
                    };
                    match built {
                        Ok(target) => target,
                        Err(source @ BuildError::Io { .. }) if self.retry_unusable => {
                            tracing::error!(target_name = %name, target_type = %type_name,
                                error = %source,
                                "{}: the other targets start without it; it is built again at \
                                 its next batch, with backoff, and its events wait in its queue \
                                 meanwhile", unbuilt::not_started(&source));
                            Box::new(Unbuilt::new(
                                registration,
                                config,
                                ctx,
                                &source,
                                forwarding.clone(),
                            ))
                        }
                        Err(source) => {
                            return Err(DispatcherError::Target {
                                name,
                                type_name,
                                source,
                            })
                        }
                    }
                }
            };
            if let Some(probe) = target.forwarding() {
                let _ = forwarding.set(probe);
            }
            let (tx, rx) = flume::bounded(options.queue_capacity);
            let counters = Arc::new(TargetCounters::new(forwarding));
            let wake = Arc::new(tokio::sync::Notify::new());
            let index = routes.len();
            let (handover, report) = Handover::new(rx.clone(), running.clone());
            let dead_letter = DeadLetterFile::new(&self.dead_letter_dir, &name)
                .with_folder_check(self.folder_check.clone())
                .with_made_again(self.made_again);
            let dead_letter_file = dead_letter.path().to_owned();
            watched.push(Watched {
                route: index,
                name: name.clone(),
                handover: handover.clone(),
                counters: counters.clone(),
                dead_letter: dead_letter.clone(),
                seq: seq_for_workers.clone(),
            });
            let worker = Worker {
                route: index,
                name: name.clone(),
                target,
                rx,
                backoff: options.retry_backoff(),
                retry_after_cap: Default::default(),
                options: options.clone(),
                counters: counters.clone(),
                dead_letter,
                stop: stop_rx.clone(),
                in_flight: in_flight.clone(),
                spares: spares.clone(),
                wake: wake.clone(),
                seq: seq_for_workers.clone(),
                last_error: None,
                panics: Arc::default(),
                handover: HandoverGuard {
                    handover,
                    report: None,
                },
            };
            // With the dispatcher's own runtime, each worker gets a thread and a
            // current-thread runtime of its own: a target that blocks its thread (see
            // the `Target` contract) then stops only itself, never the other targets.
            let own_thread = if own_runtime.0.is_some() {
                Some(worker_runtime(&name)?)
            } else {
                None
            };
            to_start.push((name.clone(), worker, own_thread));
            workers.push((name.clone(), report));
            routes.push(Route {
                index,
                name,
                type_name,
                durability,
                filter,
                on_full: options.on_full,
                tx,
                counters,
                wake,
                dead_letter_file,
                flush_reported: Default::default(),
            });
        }
        // Every target is built: start the workers (one that fails to start leaves the
        // others to end by themselves once the queues below are dropped).
        for (name, worker, own_thread) in to_start {
            match own_thread {
                Some(rt) => start_on_own_thread(&name, worker, rt)?,
                None => drop(handle.spawn(worker.run())),
            }
        }
        // Nothing below fails but the reservation itself: no number is handed out before
        // it is durable.
        let seq = match seq_file {
            Some(file) => file
                .reserve()
                .map_err(seq_setup)?
                .with_folder_check(self.folder_check.clone()),
            None => SeqAllocator::in_memory(),
        };
        // The run folder's lock is checked from now on (see `run_folder.rs`).
        let run_lock = run_lock.map(|lock| {
            Arc::new(
                RunFolder::new(&self.run_dir, lock).with_folder_check(self.folder_check.clone()),
            )
        });
        let seq = Arc::new(match &run_lock {
            Some(run) => seq.with_run_folder(run.clone()),
            None => seq,
        });
        // Set once, here: the cell is new.
        let _ = seq_for_workers.set(seq.clone());
        if run_lock.is_some() {
            run_folder::watch(Arc::downgrade(&seq));
        }
        let unrouted = Arc::new(AtomicU64::new(0));
        let reader = StatsReader::new(
            self.node.clone(),
            unrouted.clone(),
            routes.iter().map(|r: &Route| {
                (
                    r.name.clone(),
                    r.type_name.clone(),
                    r.counters.clone(),
                    r.tx.downgrade(),
                )
            }),
        );
        if let Some(every) = self.stats_log_interval {
            handle.spawn(log_periodically(reader.clone(), every, stop_rx.clone()));
        }
        // Tells this dispatcher's `Routed` events from another's (a counter, not a
        // pointer: an address is reused once a dispatcher is gone).
        static NEXT_ID: AtomicU64 = AtomicU64::new(0);
        Ok(Dispatcher {
            inner: Arc::new(Inner {
                id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
                node: self.node,
                seq,
                routes,
                unrouted,
                reader,
                closed: AtomicBool::new(false),
                in_flight,
                spares,
                stop,
                workers: Mutex::new(workers),
                running,
                watched: Mutex::new(Some(watched)),
                finished: tokio::sync::Mutex::new(None),
                current_thread: handle.runtime_flavor() == RuntimeFlavor::CurrentThread,
                handle,
                own_runtime: Mutex::new(own_runtime.into_inner()),
                drop_deadline: self.drop_deadline,
                shut_down: AtomicBool::new(false),
                run_lock,
            }),
        })
    }
}

/// A runtime `build` made and has not handed over yet. A build that fails drops it,
/// and so does the worker thread that was never spawned: dropping a runtime the normal
/// way waits for its blocking threads, which tokio refuses with a panic inside an async
/// context, and `build` is called there (a program's `#[tokio::main]`). So it shuts
/// down in the background instead, and the caller gets the build's error.
struct Unstarted(Option<tokio::runtime::Runtime>);

impl Unstarted {
    fn into_inner(mut self) -> Option<tokio::runtime::Runtime> {
        self.0.take()
    }
}

impl Drop for Unstarted {
    fn drop(&mut self) {
        if let Some(rt) = self.0.take() {
            rt.shutdown_background();
        }
    }
}

/// The current-thread runtime of the worker of target `name` (see
/// [`start_on_own_thread`]).
impl DispatcherBuilder {
    /// Parses the tables given to [`Self::registered_target`].
    fn parse_tables(&mut self) -> Result<(), DispatcherError> {
        for (index, (name, type_name, _, _, pending)) in self.targets.iter_mut().enumerate() {
            if let PendingTarget::Registered {
                registration,
                config: config @ PendingConfig::Table(_),
            } = pending
            {
                let PendingConfig::Table(table) =
                    std::mem::replace(config, PendingConfig::Table(serde_json::Value::Null))
                else {
                    continue;
                };
                *config = PendingConfig::Parsed(parse_table(
                    registration,
                    table,
                    index,
                    name,
                    type_name,
                )?);
            }
        }
        Ok(())
    }

    /// Refuses a name that is no file name, and a name given to two targets, as a node
    /// config does (the names of a code-built dispatcher are checked here alone).
    fn check_names(&self) -> Result<(), DispatcherError> {
        let mut seen = std::collections::HashSet::with_capacity(self.targets.len());
        for (name, ..) in &self.targets {
            if !crate::config::valid_target_name(name) {
                return Err(DispatcherError::BadName { name: name.clone() });
            }
            if !seen.insert(name.as_str()) {
                return Err(DispatcherError::DuplicateName { name: name.clone() });
            }
        }
        Ok(())
    }

    /// Refuses two targets of one type whose files would meet
    /// ([`crate::TargetConfig::clash`]).
    fn check_clashes(&self) -> Result<(), DispatcherError> {
        let parsed: Vec<(&str, &'static TargetRegistration, &ValidatedConfig)> = self
            .targets
            .iter()
            .filter_map(|(name, _, _, _, pending)| match pending {
                PendingTarget::Registered {
                    registration,
                    config: PendingConfig::Parsed(c),
                } => Some((name.as_str(), *registration, c)),
                _ => None,
            })
            .collect();
        for (i, (first, registration, config)) in parsed.iter().enumerate() {
            for (second, other_registration, other) in &parsed[i + 1..] {
                if registration.name != other_registration.name {
                    continue;
                }
                if let Some(message) =
                    (registration.clash)(config, first, other, second, &self.run_dir)
                {
                    return Err(DispatcherError::Clash {
                        first: (*first).to_owned(),
                        second: (*second).to_owned(),
                        message,
                    });
                }
            }
        }
        Ok(())
    }
}

fn parse_table(
    registration: &TargetRegistration,
    table: serde_json::Value,
    index: usize,
    name: &str,
    type_name: &str,
) -> Result<ValidatedConfig, DispatcherError> {
    (registration.parse)(table).map_err(|e| {
        DispatcherError::Config(Box::new(EntryError {
            place: EntryPlace {
                section: Section::Targets,
                index,
                name: Some(name.to_owned()),
                type_name: Some(type_name.to_owned()),
            },
            problem: EntryProblem::Invalid(e),
        }))
    })
}

fn worker_runtime(name: &str) -> Result<Unstarted, DispatcherError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map(|rt| Unstarted(Some(rt)))
        .map_err(|source| {
            DispatcherError::Setup(RuntimeSetupError::WorkerRuntime {
                target: name.to_owned(),
                source,
            })
        })
}

/// Runs the worker of target `name` on a thread of its own, driving `rt`.
fn start_on_own_thread(name: &str, worker: Worker, rt: Unstarted) -> Result<(), DispatcherError> {
    std::thread::Builder::new()
        .name(format!("auditrail:{name}"))
        .spawn(move || {
            let Some(rt) = rt.into_inner() else { return };
            rt.block_on(worker.run());
            // Tasks the target left on this runtime end with it; nothing waits for
            // blocking ones.
            rt.shutdown_background();
        })
        .map(drop)
        .map_err(|source| {
            DispatcherError::Setup(RuntimeSetupError::WorkerThread {
                target: name.to_owned(),
                source,
            })
        })
}

/// Takes the lock of the run folder `dir`.
fn lock_run_dir(dir: &std::path::Path) -> Result<FolderLock, DispatcherError> {
    FolderLock::acquire(dir).map_err(|e| match e {
        FolderLockError::Held { holder, .. } => DispatcherError::RunDirInUse {
            run_dir: dir.to_owned(),
            holder,
        },
        source => DispatcherError::RunDirLock {
            run_dir: dir.to_owned(),
            source,
        },
    })
}

/// Whether tokio timers work on `handle` (creating a `Sleep` panics when they are
/// off). A worker that hit this later would die with its queue, so refuse up front.
fn timers_enabled(handle: &Handle) -> bool {
    let _enter = handle.enter();
    std::panic::catch_unwind(|| drop(tokio::time::sleep(Duration::ZERO))).is_ok()
}

impl Dispatcher {
    /// A builder for a node.
    pub fn builder(node: NodeId) -> DispatcherBuilder {
        DispatcherBuilder {
            node,
            targets: Vec::new(),
            dead_letter_dir: PathBuf::from("run/deadletter"),
            run_dir: PathBuf::from("run"),
            run_dir_given: false,
            lock_run_dir: None,
            persist_seq: false,
            handle: None,
            worker_threads: 2,
            drop_deadline: Duration::from_secs(30),
            stats_log_interval: None,
            retry_unusable: false,
            folder_check: None,
            made_again: None,
        }
    }

    /// A builder set up from a node config: its node id, folders (the run folder
    /// locked, see [`DispatcherBuilder::lock_run_dir`]), persisted sequence numbers and
    /// targets (built from their registrations; one whose file or folder cannot be
    /// used does not stop the others, see
    /// [`DispatcherBuilder::retry_unusable_targets`]).
    pub fn builder_from_config(config: &NodeConfig) -> DispatcherBuilder {
        let mut b = Dispatcher::builder(config.node.clone())
            .retry_unusable_targets(true)
            .run_dir(config.run_dir.clone())
            .dead_letter_dir(config.dead_letter_dir.clone())
            .persist_seq(true)
            .drop_deadline(Duration::from_secs(config.shutdown_timeout_s))
            .stats_log_interval(config.metrics.log_interval());
        for spec in &config.targets {
            b = b.target_spec(spec.clone());
        }
        b
    }
}
