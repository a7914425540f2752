//! The server's destinations: one list, in configuration order, so that a
//! destination's index is its route index in the dispatcher (the per-event answers of
//! [`Dispatcher::emit_routed_acked`] name routes by index).
//!
//! A `store` destination is the server's own: the server opens it from its typed
//! config, keeps its [`StoreHandle`] and its tamper evidence ([`StoreIntegrity`]), and
//! hands the open store to the dispatcher as a built target. Every other destination
//! type is built by the dispatcher through the target registry.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use auditrail_core::config::TargetSpec;
use auditrail_core::{
    BatchAck, DeliveryOptions, Dispatcher, DispatcherBuilder, Durability, Event, Filter, Routed,
    TargetConfig,
};

use crate::dedup::Holders;
use auditrail_integrity::{
    Checked, CheckpointPolicy, HighWaterMarks, IntegrityError, Signer, StoreIntegrity,
};
use auditrail_store::{
    ReceiptKey, RetentionClock, StoreConfig, StoreError, StoreHandle, StoreTarget,
    RESERVED_ROOT_NAMES,
};

mod resume;
pub use resume::Rechecked;
pub(crate) use resume::Resume;
mod unopened;

/// One `[[destinations]]` entry, classified: the server's own store, or any other
/// registered target type.
#[derive(Debug, Clone)]
pub(crate) struct DestinationSpec {
    name: String,
    filter: Filter,
    delivery: DeliveryOptions,
    kind: SpecKind,
}

#[derive(Debug, Clone)]
enum SpecKind {
    Store(StoreConfig),
    Registered(TargetSpec),
}

impl DestinationSpec {
    /// The destination of `auditrail serve` without a config file: a durable `store`
    /// named `store` under `<data_dir>/store`, taking every event.
    pub(crate) fn default_store() -> DestinationSpec {
        DestinationSpec {
            name: auditrail_store::TYPE_NAME.to_owned(),
            filter: Filter::all(),
            delivery: DeliveryOptions {
                batch_max_events: <StoreConfig as TargetConfig>::BATCH_MAX_EVENTS,
                ..DeliveryOptions::default()
            },
            kind: SpecKind::Store(StoreConfig::new("store")),
        }
    }

    /// A parsed `[[destinations]]` entry. Its config was parsed and validated into a
    /// typed value by its registration when the entry was parsed; a `store`'s typed
    /// config is what the server opens the store from. This is the one place where the
    /// server tells a store from other target types, by the type of the config.
    pub(crate) fn from_target_spec(spec: TargetSpec) -> DestinationSpec {
        let kind = match spec.config.downcast_ref::<StoreConfig>() {
            Some(config) => SpecKind::Store(config.clone()),
            None => SpecKind::Registered(spec.clone()),
        };
        DestinationSpec {
            name: spec.name,
            filter: spec.filter,
            delivery: spec.delivery,
            kind,
        }
    }
}

impl DestinationSpec {
    /// Its instance name (`name`, or the type's default).
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// Its target type's name (`store`, `file`, ...).
    pub(crate) fn type_name(&self) -> &'static str {
        match &self.kind {
            SpecKind::Store(_) => auditrail_store::TYPE_NAME,
            SpecKind::Registered(spec) => spec.registration.name,
        }
    }

    /// What its `Ok` means should the machine lose power: its config's
    /// [`TargetConfig::durability`], asked of the typed config (a store's flush policy,
    /// a `file` destination's `fsync`, ...). The one answer: the server hands it to
    /// the dispatcher with the store it opened ([`Destinations::open`]), and
    /// `auditrail targets --server-config` lists it.
    pub(crate) fn durability(&self) -> Durability {
        match &self.kind {
            SpecKind::Store(config) => config.durability(),
            SpecKind::Registered(spec) => spec.durability(),
        }
    }

    /// The largest batch its dispatcher worker hands it.
    #[cfg(test)]
    pub(crate) fn batch_max_events(&self) -> usize {
        self.delivery.batch_max_events
    }

    /// The config of a `store` destination, to change before it is opened (the
    /// server's file budget fills its `max_open_files`); `None` for other types.
    pub(crate) fn store_config_mut(&mut self) -> Option<&mut StoreConfig> {
        match &mut self.kind {
            SpecKind::Store(config) => Some(config),
            SpecKind::Registered(_) => None,
        }
    }

    /// The config of a `store` destination; `None` for other types.
    pub(crate) fn store_config(&self) -> Option<&StoreConfig> {
        match &self.kind {
            SpecKind::Store(config) => Some(config),
            SpecKind::Registered(_) => None,
        }
    }

    /// The folder of a `store` destination under `data_dir`; `None` for other types.
    pub(crate) fn store_path(&self, data_dir: &Path) -> Option<PathBuf> {
        match &self.kind {
            SpecKind::Store(config) => Some(data_dir.join(&config.path)),
            SpecKind::Registered(_) => None,
        }
    }
}

/// What names the first folder level of a store (where an event's folder sits next to
/// the store's own root files).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RootLevel {
    /// `folder_by_topic = true` (the default): the topic.
    Topic,
    /// `folder_by_topic = false`, `folder_by_routing_key = true`: the routing key
    /// (`_none` without one).
    RoutingKey,
    /// Neither: the year, never a reserved name.
    Time,
}

impl RootLevel {
    fn of(c: &StoreConfig) -> RootLevel {
        if c.folder_by_topic {
            RootLevel::Topic
        } else if c.folder_by_routing_key {
            RootLevel::RoutingKey
        } else {
            RootLevel::Time
        }
    }

    /// When `event` would be filed under one of the store's reserved root names
    /// ([`RESERVED_ROOT_NAMES`]): the field (`topic` or `routingKey`) and the name.
    pub(crate) fn collision(self, event: &Event) -> Option<(&'static str, &'static str)> {
        let (field, value) = match self {
            RootLevel::Topic => ("topic", event.topic.as_str()),
            RootLevel::RoutingKey => ("routingKey", event.routing_key.as_ref()?.as_str()),
            RootLevel::Time => return None,
        };
        if auditrail_store::checkpoint_pieces::is_reserved_root_name(value) {
            // A sealed piece of the checkpoint log (`checkpoints.jsonl.<20 digits>`).
            return Some((field, "checkpoints.jsonl.<20 digits>"));
        }
        RESERVED_ROOT_NAMES
            .iter()
            .find(|&&r| r == value)
            .map(|&r| (field, r))
    }
}

/// An open `store` destination.
#[derive(Debug)]
pub(crate) struct StoreDestination {
    /// The store's folder as configured (`data_dir.join(path)`), for messages and for
    /// the bytes on disk `/metrics` reports.
    pub(crate) path: PathBuf,
    /// The open store.
    pub(crate) handle: StoreHandle,
    /// What names its first folder level.
    pub(crate) root_level: RootLevel,
    /// Its timeline: its last checkpoint's time before this start, plus the time since.
    pub(crate) timeline: RetentionClock,
    /// Checkpoints and receipts (chained stores; `chain = false` has neither): set
    /// once the store is attached, at start or when a held store passes its checks
    /// again (SIGHUP, `destinations/resume.rs`), and never unset.
    integrity: OnceLock<StoreIntegrity>,
    /// Its retention (`retention`, `retention_max_bytes`), when it has one.
    pub(crate) retention: Option<crate::retention::Retention>,
    /// What its checks at start found, when they failed and the server started
    /// without it (`refuse_start_on_damaged_store = false`, the default): the store
    /// is held, taking no event and signing nothing, until an operator sees to it
    /// and sends SIGHUP (or starts the server again). Cleared only after
    /// `integrity` is set and the store's records were read into de-duplication: a
    /// request that finds the store not held finds it whole.
    /// A store that could not be opened at start is held as well, from its open
    /// ([`StoreDestination::unopened`]), and a SIGHUP's re-check keeps it held.
    held: Mutex<Option<Hold>>,
    /// Whether `held` holds a hold: what every batch asks (`held_route`), answered
    /// without the lock. Set before a hold is put, cleared after it is lifted.
    holding: AtomicBool,
    /// The OS error (no path: `/readyz` shows it) of a store that could not be opened
    /// at start (`destinations/unopened.rs`): it is held, its `handle` is of a store
    /// never opened ([`StoreTarget::unopened`], not open, nothing read), and only a
    /// new start opens it. `None` for a store that opened.
    pub(crate) unopened: Option<String>,
}

/// A held store ([`StoreDestination::held`]).
#[derive(Debug)]
pub(crate) struct Hold {
    /// What its last checks found.
    pub(crate) found: Arc<str>,
    /// Which checks held it last, and what they found in words free of paths (for
    /// `/readyz`, which needs no key; `None`: a store not opened at start, whose
    /// `unopened` says why).
    pub(crate) last: Option<(HeldBy, Arc<str>)>,
    /// Its records were read into de-duplication and the per-node statistics by a
    /// re-check that passed but could not attach it (`destinations/resume.rs`): the
    /// next one does not count them again.
    pub(crate) records_read: bool,
}

/// The checks that held a store last: `/readyz` used to say "its checks at start
/// failed" after a SIGHUP's re-check had failed too, for another cause maybe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HeldBy {
    /// Its checks at start.
    Start,
    /// Its re-check at the last SIGHUP (`destinations/resume.rs`).
    Sighup,
}

impl StoreDestination {
    /// Which checks held it last and what they found, free of paths, while it is held
    /// (`None` too for a store not opened at start: [`StoreDestination::unopened`]).
    pub(crate) fn held_by(&self) -> Option<(HeldBy, Arc<str>)> {
        if !self.is_held() {
            return None;
        }
        self.hold().as_ref().and_then(|h| h.last.clone())
    }

    /// What held it, in the words every answer and log line about the hold uses:
    /// `it could not be opened at start`, `its checks at start failed`, or `its checks at
    /// start failed, and so did its re-check at the last SIGHUP`.
    pub(crate) fn held_for(&self) -> &'static str {
        if self.unopened.is_some() {
            return "it could not be opened at start";
        }
        match self.held_by() {
            Some((HeldBy::Sighup, _)) => {
                "its checks at start failed, and so did its re-check at the last SIGHUP"
            }
            _ => "its checks at start failed",
        }
    }

    /// Its checkpoints and receipts, once attached (`None`: `chain = false`, or held).
    pub(crate) fn integrity(&self) -> Option<&StoreIntegrity> {
        self.integrity.get()
    }

    /// What its checks found, while it is held.
    pub(crate) fn held(&self) -> Option<Arc<str>> {
        if !self.is_held() {
            return None;
        }
        self.hold().as_ref().map(|h| h.found.clone())
    }

    /// Whether it is held. Once `false`, its integrity (if chained) is attached: it
    /// is set before the hold is lifted (`Acquire` here, `Release` there).
    pub(crate) fn is_held(&self) -> bool {
        self.holding.load(Ordering::Acquire)
    }

    /// Holds the store (at start) with what its checks found (`said`: free of paths).
    fn put_hold(&self, found: Arc<str>, said: Arc<str>) {
        self.holding.store(true, Ordering::Release);
        *self.hold() = Some(Hold {
            found,
            last: Some((HeldBy::Start, said)),
            records_read: false,
        });
    }

    /// Lifts its hold: it takes events from now on.
    fn lift_hold(&self) {
        *self.hold() = None;
        self.holding.store(false, Ordering::Release);
    }

    /// Its hold. Never kept across a wait: requests read it.
    fn hold(&self) -> std::sync::MutexGuard<'_, Option<Hold>> {
        self.held.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// One destination of the server.
#[derive(Debug)]
pub(crate) struct Destination {
    /// Instance name.
    pub(crate) name: String,
    /// Its target type (`store`, `kafka`, ...), for the log.
    type_name: &'static str,
    /// Which events it takes (the dispatcher has its own copy): a rebuild of
    /// de-duplication asks which destinations must hold an event.
    filter: Filter,
    /// The open store, for `store` destinations.
    pub(crate) store: Option<StoreDestination>,
}

/// Why the destinations cannot be opened.
#[derive(Debug, thiserror::Error)]
pub enum DestinationError {
    /// A `store` destination cannot be opened (its folder, its lock, its recovery).
    #[error("destination {name:?}: store {}: {source}", path.display())]
    Store {
        /// The destination.
        name: String,
        /// The store's folder.
        path: PathBuf,
        /// Why.
        #[source]
        source: StoreError,
    },
    /// A store's `archive` cannot be opened (its URL or S3 options).
    #[error("destination {name:?}: archive")]
    Archive {
        /// The destination.
        name: String,
        /// Why (boxed: a large error, and a rare one).
        #[source]
        source: Box<auditrail_integrity::ArchiveError>,
    },
    /// A store's checkpoint log cannot be opened (e.g. the store holds fewer records
    /// than its last checkpoint vouches for: run `auditrail verify`), or a file of its
    /// tamper evidence cannot be read or written (said as the I/O error it is).
    #[error("destination {name:?}: {}", crate::integrity_said::said(source))]
    Integrity {
        /// The destination.
        name: String,
        /// Why.
        #[source]
        source: IntegrityError,
    },
}

/// A store's checks at start ([`Destinations::check_stores`]).
#[derive(Debug)]
pub(crate) enum StoreCheck {
    /// `chain = false`: nothing to vouch for, nothing checked.
    Unchained,
    /// Not opened at start (`destinations/unopened.rs`): held already, nothing of it
    /// read or checked.
    Unopened,
    /// Passed: attached as checked.
    Passed(Checked),
    /// Refused: the store is held, or refuses the start.
    Refused(IntegrityError),
}

impl StoreCheck {
    /// Whether its records are evidence of what the server stored (read into
    /// de-duplication and the per-node statistics).
    pub(crate) fn trusted(&self) -> bool {
        !matches!(self, StoreCheck::Refused(_) | StoreCheck::Unopened)
    }
}

/// The server's destinations, by route index.
#[derive(Debug)]
pub(crate) struct Destinations {
    list: Vec<Destination>,
    /// Whether every destination is a store: each can then show whether it still holds
    /// an event it took ([`Destinations::records_gone`]), and a retry's duplicates need
    /// no destination's delivery again (the usual server: nothing more to look at per
    /// batch). See [`Destinations::cannot_show`].
    all_stores: bool,
    /// Whether a store has a `required_key`: the one destination filter that depends
    /// on the request (its key), not on the event, so a duplicate may be routed to it
    /// by this request and not have been by the one that stored it
    /// ([`Destinations::keyed_stores_lacking`]). False on the usual server: nothing to
    /// look at per batch.
    keyed_stores: bool,
    /// Taken by a re-check of the held stores (`resume.rs`): one at a time.
    rechecking: Mutex<()>,
}

impl Destinations {
    /// Opens the `store` destinations (recovery runs) and adds every destination to
    /// `builder` in order. Stores opened before a failure are closed again when the
    /// builder is dropped.
    ///
    /// Each store's open (the walk of its folders, the recovery's read of every
    /// segment: minutes on a store of many partitions) is counted in `progress`, one
    /// phase per store, and ends early with a [`StoreError::Stopped`] once a stop is
    /// asked there. Each store's timeline catches up at `catch_up` (`[retention]
    /// catch_up_rate`).
    ///
    /// A store that cannot be opened for an I/O error on its own files
    /// (`destinations/unopened.rs`) is held from here on ([`StoreDestination::unopened`])
    /// while the others serve, unless `refuse_start`, or nothing would be left to serve
    /// (no other destination and no `sources`): then the start is refused with its error.
    pub(crate) fn open(
        specs: Vec<DestinationSpec>,
        data_dir: &Path,
        catch_up: auditrail_store::CatchUpRate,
        mut builder: DispatcherBuilder,
        progress: &crate::server::StartProgress,
        refuse_start: bool,
        has_sources: bool,
    ) -> Result<(Destinations, DispatcherBuilder), DestinationError> {
        let mut list = Vec::with_capacity(specs.len());
        let stores = specs
            .iter()
            .filter(|s| matches!(s.kind, SpecKind::Store(_)))
            .count();
        let mut opened = 0;
        let mut first_refusal = None;
        for spec in specs {
            let durability = spec.durability();
            let DestinationSpec {
                name,
                filter,
                delivery,
                kind,
            } = spec;
            match kind {
                SpecKind::Store(config) => {
                    let path = data_dir.join(&config.path);
                    opened += 1;
                    progress.begin(format!("opening store {name:?} ({opened} of {stores})"));
                    let opened = StoreTarget::open_watched(&path, &config, &name, progress.read())
                        .and_then(|target| {
                            // Read before the checkpoint task writes this start's first
                            // line (with a clock that may be wrong): see
                            // `retention_clock`. Also the bound on timestamps ahead
                            // (`timeline`).
                            let clock = RetentionClock::read(&path, catch_up)?;
                            Ok((target, clock))
                        });
                    let (target, clock, unopened) = match opened {
                        Ok((target, clock)) => (target, Some(clock), None),
                        Err(source) => {
                            let held = (!source.is_stopped())
                                .then(|| unopened::held_for(&source, &path))
                                .flatten();
                            let refusal = DestinationError::Store {
                                name: name.clone(),
                                path: path.clone(),
                                source,
                            };
                            let Some(os_error) = held.filter(|_| !refuse_start) else {
                                return Err(refusal);
                            };
                            // Said at once, with its path: the server's log is where the
                            // operator finds which file of the store it may not read.
                            tracing::error!(destination = %name, store = %path.display(),
                                "store held: it cannot be opened, so it takes no event (batches routed to it are answered 503 store_held) and queries leave it out, while the other destinations go on; make its files readable to the server (owner, mode) and start the server again: {refusal}");
                            let found = format!("it cannot be opened: {refusal}");
                            first_refusal.get_or_insert(refusal);
                            let target = StoreTarget::unopened(&path, &config, &name);
                            (target, None, Some((os_error, found)))
                        }
                    };
                    progress.end(&format!("store {name:?} opened"));
                    let handle = target.handle();
                    // One timeline (clones share it): retention's and the bound's. A
                    // store not opened has none of its own (it is held: its times are
                    // no witness).
                    let timeline = clock
                        .clone()
                        .unwrap_or_else(|| RetentionClock::at(None, catch_up));
                    let clock = clock.filter(|_| {
                        config.retention.is_some() || config.retention_max_bytes.is_some()
                    });
                    let (unopened, held) = unopened.unzip();
                    let retention =
                        match held {
                            // Nothing to prune in a store never opened.
                            Some(_) => None,
                            None => crate::retention::Retention::of(&config, clock).map_err(
                                |source| DestinationError::Archive {
                                    name: name.clone(),
                                    source: Box::new(source),
                                },
                            )?,
                        };
                    list.push(Destination {
                        name: name.clone(),
                        type_name: auditrail_store::TYPE_NAME,
                        filter: filter.clone(),
                        store: Some(StoreDestination {
                            path,
                            handle,
                            root_level: RootLevel::of(&config),
                            timeline,
                            integrity: OnceLock::new(),
                            holding: AtomicBool::new(held.is_some()),
                            held: Mutex::new(held.map(|found| Hold {
                                found: found.into(),
                                last: None,
                                records_read: false,
                            })),
                            unopened,
                            retention,
                        }),
                    });
                    // Handed over built, with its config's word on what its `Ok`
                    // means: the dispatcher's `route_durability` is then the one
                    // answer, for the answers' `durable`, the WARNs and acked emits.
                    builder = builder.built_target(
                        name,
                        auditrail_store::TYPE_NAME,
                        filter,
                        delivery,
                        Box::new(target),
                        durability,
                    );
                }
                SpecKind::Registered(spec) => {
                    // The dispatcher asks the same config (`route_durability`).
                    debug_assert_eq!(durability, spec.durability());
                    list.push(Destination {
                        name: name.clone(),
                        type_name: spec.registration.name,
                        filter: filter.clone(),
                        store: None,
                    });
                    builder = builder.target_spec(spec);
                }
            }
        }
        // As for the stores held by their checks (`attach_integrity`): a server that
        // could store nothing is better stopped, loudly, than listening to answer 503.
        let serving = has_sources
            || list
                .iter()
                .any(|d| d.store.as_ref().is_none_or(|s| !s.is_held()));
        if let Some(refusal) = first_refusal.filter(|_| !serving) {
            return Err(refusal);
        }
        let destinations = Destinations {
            all_stores: list.iter().all(|d| d.store.is_some()),
            keyed_stores: list
                .iter()
                .any(|d| d.store.is_some() && d.filter.required_key.is_some()),
            list,
            rechecking: Mutex::new(()),
        };
        Ok((destinations, builder))
    }

    /// Logs one WARN per destination whose `Ok` does not mean on stable storage,
    /// naming it, its type and why (a store's flush policy with its values, a file
    /// destination's `fsync = false`, ...): at start (`when` `None`) and again at each
    /// reload (`when` names it), whatever the destination's type: every batch it takes
    /// is answered `durable: false`, and the operator may not expect that. Stores with a
    /// flush policy used to be left out, while every other such destination was named.
    /// What each `Ok` means is the dispatcher's word (`dispatcher`, built from these
    /// destinations: [`Dispatcher::route_durability`]), the one every answer reads.
    pub(crate) fn warn_not_durable(&self, dispatcher: &Dispatcher, when: Option<&str>) {
        let when = when.map(|w| format!("{w}: ")).unwrap_or_default();
        for (index, d) in self.list.iter().enumerate() {
            if let Some(why) = dispatcher
                .route_durability(index)
                .and_then(Durability::why_not)
            {
                tracing::warn!(destination = %d.name, r#type = d.type_name,
                    "{when}destination is not durable: {why}; batches it takes are answered 200 with `durable: false` (a power loss of this machine may lose them)");
            }
        }
    }

    /// Attaches tamper evidence to every chained store: its checkpoint task
    /// (checkpointing the recovered head at once) and its receipt signer. Must run
    /// inside a tokio runtime.
    ///
    /// Each store is first checked against its checkpoint log and its high-water mark
    /// in `marks` (kept in the data dir, outside the stores): a store whose log was
    /// shortened or replaced, whose records were rolled back, or whose id is gone is
    /// never signed over. With `refuse_start`, such a store refuses the start (the
    /// error); without it, the store alone is held ([`StoreDestination::held`], logged
    /// at ERROR): one damaged store must not stop the collection of the others. When
    /// nothing would be left to serve (every destination a held store, and no
    /// `sources`), the start is refused as with `refuse_start`: a server that can store
    /// nothing is better stopped, loudly, than listening to answer `503`.
    ///
    /// `checks` are the stores' checks made before their records were read
    /// ([`Destinations::check_stores`]), one per store in the order of
    /// [`Destinations::stores`]: each store is checked once. A store held since its
    /// open ([`StoreCheck::Unopened`]) is left as it is.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn attach_integrity(
        &mut self,
        checks: Vec<StoreCheck>,
        signer: &Arc<Signer>,
        policy: CheckpointPolicy,
        marks: &Arc<HighWaterMarks>,
        witnesses: Option<&crate::witness::Witnesses>,
        refuse_start: bool,
        has_sources: bool,
    ) -> Result<(), DestinationError> {
        let mut first_refusal = None;
        let mut held_now = Vec::new();
        let stores = self
            .list
            .iter()
            .filter_map(|d| Some((d, d.store.as_ref()?)));
        for ((d, store), check) in stores.zip(checks) {
            let checked = match check {
                // `chain = false`: no links to vouch for; no checkpoints, no receipts.
                StoreCheck::Unchained => continue,
                // Held since its open (`Destinations::open` said why): nothing to check.
                StoreCheck::Unopened => continue,
                StoreCheck::Passed(checked) => Ok(checked),
                StoreCheck::Refused(source) => Err(source),
            };
            let attached = checked.and_then(|checked| {
                StoreIntegrity::attach_passed(
                    checked,
                    &store.handle,
                    signer.clone(),
                    policy,
                    marks.clone(),
                    // Every published line is copied to the witnesses.
                    witnesses.map(|w| w.forwarder(store.handle.root())),
                )
            });
            match attached {
                Ok(attached) => {
                    let _ = store.integrity.set(attached);
                }
                Err(source) if refuse_start => {
                    return Err(DestinationError::Integrity {
                        name: d.name.clone(),
                        source,
                    })
                }
                Err(source) => {
                    store.put_hold(
                        crate::integrity_said::said(&source).into(),
                        crate::integrity_said::in_few_words(&source).into(),
                    );
                    held_now.push(d.name.clone());
                    first_refusal.get_or_insert(DestinationError::Integrity {
                        name: d.name.clone(),
                        source,
                    });
                }
            }
        }
        let serving = has_sources
            || self
                .list
                .iter()
                .any(|d| d.store.as_ref().is_none_or(|s| !s.is_held()));
        if let Some(refusal) = first_refusal.filter(|_| !serving) {
            return Err(refusal);
        }
        for (name, found) in self.held().filter(|(n, _)| held_now.iter().any(|h| h == n)) {
            tracing::error!(destination = %name,
                "store held: its checks at start failed, so it takes no event (batches routed to it are answered 503 store_held) and queries leave it out, while the other destinations go on; see to it (auditrail verify, auditrail store accept), then send the server SIGHUP (it checks the store again and takes it back if it passes) or start it again: {found}");
        }
        Ok(())
    }

    /// Each store's checks at start ([`StoreIntegrity::check`], writing nothing), in the
    /// order of [`Destinations::stores`]: made before the stores' records are read, so
    /// that a store that will be held makes neither de-duplication nor the per-node
    /// statistics, and handed to [`Destinations::attach_integrity`].
    pub(crate) fn check_stores(&self, signer: &Signer, marks: &HighWaterMarks) -> Vec<StoreCheck> {
        self.stores()
            .map(|(_, _, s)| {
                if s.unopened.is_some() {
                    return StoreCheck::Unopened;
                }
                if !s.handle.is_chained() {
                    return StoreCheck::Unchained;
                }
                match StoreIntegrity::check(&s.handle, signer, marks) {
                    Ok(checked) => StoreCheck::Passed(checked),
                    Err(e) => StoreCheck::Refused(e),
                }
            })
            .collect()
    }

    /// The stores held now ([`StoreDestination::held`]): destination name and what was
    /// found.
    pub(crate) fn held(&self) -> impl Iterator<Item = (&str, Arc<str>)> + '_ {
        self.stores()
            .filter_map(|(_, d, s)| s.held().map(|h| (d.name.as_str(), h)))
    }

    /// The first held store that `event` (by its routes) would be written to: its
    /// destination and what was found (a Kafka source's hand-off, `source/handed.rs`).
    #[cfg_attr(not(feature = "kafka"), allow(dead_code))]
    pub(crate) fn held_route(&self, event: &Routed) -> Option<(&Destination, Arc<str>)> {
        event.routes().iter().find_map(|r| {
            let d = self.list.get(r)?;
            Some((d, d.store.as_ref()?.held()?))
        })
    }

    /// The timeline of the store with the latest plausible time (the later of the wall
    /// clock at this start and the latest time its checkpoint lines signed, plus the
    /// time since): what a server whose wall clock is behind still knows of the time
    /// (`None`: no store). A store without a checkpoint yet counts too: its latest time
    /// starts at the wall clock of this start, and a clock stepped back during its
    /// first run must not refuse every event either.
    pub(crate) fn timeline(&self) -> Option<RetentionClock> {
        // A held store's log was not found sound: its times are no witness.
        self.stores()
            .filter(|(_, _, s)| !s.is_held())
            .map(|(_, _, s)| &s.timeline)
            .max_by_key(|t| t.now().latest.map(|c| c.unix_millis()))
            .cloned()
    }

    /// The `store` destinations, with their route index.
    pub(crate) fn stores(
        &self,
    ) -> impl Iterator<Item = (usize, &Destination, &StoreDestination)> + '_ {
        self.list
            .iter()
            .enumerate()
            .filter_map(|(i, d)| d.store.as_ref().map(|s| (i, d, s)))
    }

    /// The destinations that are not stores (`kafka`, another event server, ...), by
    /// name: whatever a store refuses, they take the batches routed to them only
    /// (`/readyz` counts them among the destinations that take batches).
    pub(crate) fn not_stores(&self) -> impl Iterator<Item = &Destination> + '_ {
        self.list.iter().filter(|d| d.store.is_none())
    }

    /// Which of the stores (numbered in the order of [`Destinations::stores`]) must
    /// all hold an event for a rebuild to take it as stored, from every destination's
    /// filter (see `dedup/rebuild.rs`).
    pub(crate) fn holders(&self) -> Holders {
        let mut next_store = 0u32;
        Holders::new(
            self.list
                .iter()
                .map(|d| {
                    let store = d.store.as_ref().map(|_| {
                        next_store += 1;
                        next_store - 1
                    });
                    (d.filter.clone(), store)
                })
                .collect(),
        )
    }

    /// The `notDurable` of an answer: how many events of the batch are not on stable
    /// storage in every destination that takes them (`durable` is this being 0).
    /// `new`: the events this request stores (batch index, routes), each durable when
    /// every destination taking it acknowledges durably. `stored`: the events answered
    /// as duplicates of stored ones (batch index, receipt key, routes), each durable
    /// when every store holding it fsynced its record
    /// ([`StoreHandle::on_stable_storage`]: a store with a flush policy may not have
    /// yet) and every other destination taking it is durable. An event may be in both
    /// (sent again to the destinations that cannot show they hold it, stored in the
    /// others): it is counted once. A retry of a batch answered not durable is answered
    /// so too while its records wait for their fsync: a duplicate's answer vouches for
    /// the stored original. A store asked about several originals answers for them
    /// together: while one of them waits for its fsync, every event of the batch whose
    /// original it holds is counted (on the safe side; the next answer, once it
    /// fsynced, counts none). A store that also takes new events of the batch counts
    /// the originals it holds too (its fsync is not done before this answer). Whether a
    /// destination's `Ok` means on disk is `dispatcher`'s word
    /// ([`Dispatcher::route_durability`]: its config's, a store's too).
    pub(crate) fn not_durable<'a>(
        &self,
        dispatcher: &Dispatcher,
        batch_len: usize,
        new: impl IntoIterator<Item = (usize, &'a auditrail_core::RouteSet)>,
        stored: impl IntoIterator<Item = (usize, ReceiptKey, &'a auditrail_core::RouteSet)>,
    ) -> usize {
        let durable_on_ok = |index: usize| {
            dispatcher
                .route_durability(index)
                .is_some_and(Durability::is_durable)
        };
        // The usual server: every destination durable on `Ok`, nothing to look up (and
        // nothing to allocate per batch).
        if (0..self.list.len()).all(durable_on_ok) {
            return 0;
        }
        let mut not_durable = vec![false; batch_len];
        let mut taking = vec![false; self.list.len()];
        for (i, routes) in new {
            for r in routes.iter() {
                if let Some(t) = taking.get_mut(r) {
                    *t = true;
                }
                if !durable_on_ok(r) {
                    if let Some(n) = not_durable.get_mut(i) {
                        *n = true;
                    }
                }
            }
        }
        // Per destination not durable on `Ok`: the originals it holds, by batch index.
        let mut holding: Vec<Vec<(usize, ReceiptKey)>> = vec![Vec::new(); self.list.len()];
        for (i, key, routes) in stored {
            for r in routes.iter() {
                if durable_on_ok(r) {
                    continue;
                }
                if let Some(h) = holding.get_mut(r) {
                    h.push((i, key));
                }
            }
        }
        for ((d, takes), holds) in self.list.iter().zip(taking).zip(holding) {
            if holds.is_empty() {
                continue;
            }
            // Not durable on `Ok`: a stored original is on disk only if its store says
            // it fsynced the record since (and takes nothing of this batch, whose
            // fsync is still to come).
            let keys: Vec<ReceiptKey> = holds.iter().map(|&(_, key)| key).collect();
            let synced = !takes
                && d.store
                    .as_ref()
                    .is_some_and(|s| s.handle.on_stable_storage(&keys));
            if !synced {
                for (i, _) in holds {
                    if let Some(n) = not_durable.get_mut(i) {
                        *n = true;
                    }
                }
            }
        }
        not_durable.into_iter().filter(|&n| n).count()
    }

    /// The first store destination that takes `event` (by its routes) and would file it
    /// under one of the store's reserved root names: the destination, field and name.
    pub(crate) fn reserved_collision(
        &self,
        event: &Routed,
    ) -> Option<(&Destination, &'static str, &'static str)> {
        event.routes().iter().find_map(|r| {
            let d = self.list.get(r)?;
            let (field, name) = d.store.as_ref()?.root_level.collision(event.event())?;
            Some((d, field, name))
        })
    }

    /// When EVERY destination that takes `event` (by its routes) is a store whose next
    /// retention pass would delete it at once (its time partition already ended before
    /// retention's cut-off): the first of them and why. Only stores the server prunes
    /// (chained, with `retention`) delete; an event another destination keeps (a store
    /// with a longer retention, or none; a forwarding destination) is taken, and only
    /// the short store's next pass deletes its copy: refused, the returning node's
    /// backlog would never reach the store kept for it.
    pub(crate) fn past_retention(
        &self,
        event: &Routed,
    ) -> Option<(&Destination, crate::past_retention::PastRetention)> {
        let mut first = None;
        for r in event.routes().iter() {
            let d = self.list.get(r)?;
            let store = d.store.as_ref()?;
            store.integrity()?;
            let past = store
                .retention
                .as_ref()?
                .deletes_at_once(&event.event().timestamp)?;
            first.get_or_insert((d, past));
        }
        first
    }

    /// Whether answers carry receipts (a chained store is among the destinations): the
    /// events' [`receipt_keys`](Self::receipt_keys) are worth computing.
    pub(crate) fn gives_receipts(&self) -> bool {
        self.stores().any(|(_, _, s)| s.integrity().is_some())
    }

    /// How many stores give receipts when none is held: a held store is counted, so
    /// that the answer's `receipt` keeps the shape the configuration gives it (an
    /// array with several chained stores) while a store is held.
    fn receipt_stores(&self) -> usize {
        self.stores()
            .filter(|(_, _, s)| s.integrity().is_some() || s.is_held())
            .count()
    }

    /// The keys receipts find events by ([`StoreHandle::receipt_key`]: id and identity,
    /// never the id alone), in order, made by `keys` (the de-duplication's admission
    /// has them, `Admission::receipt_keys`); empty, and not made, when no destination
    /// gives receipts.
    pub(crate) fn receipt_keys(&self, keys: impl FnOnce() -> Vec<ReceiptKey>) -> Vec<ReceiptKey> {
        if !self.gives_receipts() {
            return Vec::new();
        }
        keys()
    }

    /// The `"receipt"` value of an answer, from the routes each event took: `None`
    /// without chained stores (the key is left out); with one, its receipt object (or
    /// `null`); with several, an array of the receipts of the stores that took events of
    /// the batch, in configuration order (each names its store by `storeId`). An array
    /// of receipt objects is what `auditrail verify --receipt` reads from a saved
    /// answer.
    ///
    /// Returns only once each receipt's range is sealed in its store (a signed,
    /// fsynced line of the checkpoint log vouches for it): an acknowledgement never
    /// depends on a later checkpoint. `taken` lists, per event, its receipt key (id and
    /// identity: another event with the same id is never taken for it) and the routes
    /// that durably took it.
    pub(crate) async fn receipts<'a, R>(
        &self,
        taken: R,
    ) -> Result<Option<serde_json::Value>, IntegrityError>
    where
        R: IntoIterator<Item = (ReceiptKey, &'a auditrail_core::RouteSet)>,
    {
        let chained: Vec<(usize, &StoreIntegrity)> = self
            .stores()
            .filter_map(|(i, _, s)| s.integrity().map(|x| (i, x)))
            .collect();
        if chained.is_empty() {
            return Ok(None);
        }
        // Sized for every event at once (usually one store takes them all): grown by
        // doubling instead, a batch's keys were copied about ten times.
        let taken = taken.into_iter();
        let events = taken.size_hint().0;
        let mut keys: Vec<Vec<ReceiptKey>> = (0..chained.len())
            .map(|_| Vec::with_capacity(events))
            .collect();
        for (key, routes) in taken {
            for (k, (route, _)) in chained.iter().enumerate() {
                if routes.contains(*route) {
                    keys[k].push(key);
                }
            }
        }
        let shape = self.receipt_stores();
        let mut receipts = Vec::with_capacity(chained.len());
        for ((_, integrity), keys) in chained.iter().zip(&keys) {
            let receipt = if keys.is_empty() {
                None
            } else {
                integrity.receipt(keys)
            };
            if let Some(r) = &receipt {
                integrity.sealed_through(r.last_seq).await?;
            }
            receipts.push(receipt.and_then(|r| serde_json::to_value(r).ok()));
        }
        Ok(Some(match receipts.as_slice() {
            [only] if shape == 1 => only.clone().unwrap_or(serde_json::Value::Null),
            _ => serde_json::Value::Array(receipts.into_iter().flatten().collect()),
        }))
    }

    /// Which of the events `taken` (each its index, its receipt key and the routes
    /// that should hold it) no store that should hold it still holds where it wrote
    /// it: the store knows where it put the record and that segment file, or a folder
    /// on its path, was removed, moved, replaced (another file, a symbolic link) or cut
    /// since ([`StoreHandle::records_gone`]). Each with the first such store's path and
    /// why. An event answered as a duplicate vouches for its records (and its receipt
    /// covers them): those must still be there. One check per distinct segment per
    /// store.
    /// The last of each entry: whether every store found the record deleted by its own
    /// retention (recorded in its checkpoint log: no loss), not gone otherwise.
    pub(crate) fn records_gone<'a>(
        &self,
        taken: impl IntoIterator<Item = (usize, ReceiptKey, &'a auditrail_core::RouteSet)>,
    ) -> Vec<(usize, ReceiptKey, String, bool)> {
        let taken: Vec<_> = taken.into_iter().collect();
        let mut gone: Vec<(usize, ReceiptKey, String, bool)> = Vec::new();
        for (route, _, store) in self.stores() {
            let (which, keys): (Vec<usize>, Vec<ReceiptKey>) = taken
                .iter()
                .filter(|(i, _, routes)| {
                    routes.contains(route) && !gone.iter().any(|(g, _, _, _)| g == i)
                })
                .map(|(i, key, _)| (*i, *key))
                .unzip();
            if keys.is_empty() {
                continue;
            }
            let lost = store.handle.records_gone(&keys);
            for ((i, key), lost) in which.into_iter().zip(keys).zip(lost) {
                if let Some(lost) = lost {
                    gone.push((
                        i,
                        key,
                        format!("store {}: {lost}", store.path.display()),
                        lost.deleted_by_retention,
                    ));
                }
            }
        }
        gone
    }

    /// Whether every destination can show that it still holds an event it took: only
    /// stores can ([`Destinations::records_gone`]). When so, a retry's duplicates are
    /// answered on the stores' word alone, and nothing is sent again.
    pub(crate) fn all_show_what_they_hold(&self) -> bool {
        self.all_stores
    }

    /// Whether the destination of `route` cannot show that it still holds an event it
    /// took: every destination that is not a store (`file`, a forwarding `eventserver`,
    /// `kafka`, a user's target type). A `file` destination's folder may be removed by
    /// an operator's cleanup job, a Kafka topic deleted, another server's store lost:
    /// the server cannot read any of them back. A retried event that such a
    /// destination took is sent to it again, never answered as its duplicate on the
    /// word of the server's memory alone (at-least-once there: event ids tell the
    /// copies apart downstream; another event server de-duplicates them itself).
    pub(crate) fn cannot_show(&self, route: usize) -> bool {
        !self.all_stores && self.list.get(route).is_some_and(|d| d.store.is_none())
    }

    /// Which `required_key` stores took which events of an answered batch, for
    /// de-duplication to note ([`crate::dedup::Admission::commit_marking`]): (the event's
    /// index in the batch, the store's route) for each, `index(k)` the batch index of
    /// the `k`-th event emitted (`acks[k]`). Empty (nothing allocated) when no store
    /// has a `required_key`.
    pub(crate) fn keyed_marks(
        &self,
        acks: &[auditrail_core::EventAck],
        index: impl Fn(usize) -> usize,
    ) -> Vec<(usize, usize)> {
        if !self.keyed_stores {
            return Vec::new();
        }
        let mut marks = Vec::new();
        for (k, ack) in acks.iter().enumerate() {
            for r in ack.taken().iter() {
                let keyed = self
                    .list
                    .get(r)
                    .is_some_and(|d| d.store.is_some() && d.filter.required_key.is_some());
                if keyed {
                    marks.push((index(k), r));
                }
            }
        }
        marks
    }

    /// Which destinations that cannot show what they hold ([`Destinations::cannot_show`])
    /// took which events of an answered batch, for de-duplication to leave to the
    /// concurrent requests that waited for this one
    /// (the `took` of [`crate::dedup::Admission::commit_marking`], which asks for it
    /// only when such a request waits): (the event's index in the batch, those routes
    /// that took it), `index(k)` the batch index of the `k`-th event emitted
    /// (`acks[k]`). Empty (nothing allocated) on a server whose destinations all show
    /// what they hold.
    pub(crate) fn unshown_taken(
        &self,
        acks: &[auditrail_core::EventAck],
        index: impl Fn(usize) -> usize,
    ) -> Vec<(usize, auditrail_core::RouteSet)> {
        if self.all_show_what_they_hold() {
            return Vec::new();
        }
        acks.iter()
            .enumerate()
            .filter_map(|(k, ack)| {
                let took: auditrail_core::RouteSet = ack
                    .taken()
                    .iter()
                    .filter(|&r| self.cannot_show(r))
                    .collect();
                (!took.is_empty()).then(|| (index(k), took))
            })
            .collect()
    }

    /// Which stores took which events of a batch that was not taken by every
    /// destination: (the event's index in the batch, the routes of the stores that
    /// took it), for the events `undelivered(k)` (`acks[k]`, batch index `index(k)`),
    /// so that their retry is not written to those stores again
    /// ([`crate::dedup::Admission::commit_stored`], `dedup/partly_stored.rs`).
    pub(crate) fn stores_taken(
        &self,
        acks: &[auditrail_core::EventAck],
        index: impl Fn(usize) -> usize,
        undelivered: impl Fn(usize) -> bool,
    ) -> Vec<(usize, auditrail_core::RouteSet)> {
        acks.iter()
            .enumerate()
            .filter(|&(k, ack)| !ack.is_delivered() && undelivered(k))
            .filter_map(|(k, ack)| {
                let took: auditrail_core::RouteSet =
                    ack.taken().iter().filter(|&r| self.is_store(r)).collect();
                (!took.is_empty()).then(|| (index(k), took))
            })
            .collect()
    }

    /// Whether the destination of `route` is a store.
    pub(crate) fn is_store(&self, route: usize) -> bool {
        self.list.get(route).is_some_and(|d| d.store.is_some())
    }

    /// Whether the destination of `route` is a store with a `required_key`.
    pub(crate) fn is_keyed_store(&self, route: usize) -> bool {
        self.list
            .get(route)
            .is_some_and(|d| d.store.is_some() && d.filter.required_key.is_some())
    }

    /// The destination of `route`: its name, its type name, and whether it shows
    /// what it holds (a store; see [`Destinations::cannot_show`]).
    pub(crate) fn kind_of(&self, route: usize) -> Option<(&str, &'static str, bool)> {
        self.list
            .get(route)
            .map(|d| (d.name.as_str(), d.type_name, !self.cannot_show(route)))
    }

    /// The name of the destination of `route`.
    pub(crate) fn name_of(&self, route: usize) -> Option<&str> {
        self.list.get(route).map(|d| d.name.as_str())
    }

    /// Whether a duplicate may be sent again to some destination (one that cannot show
    /// what it holds, or a store with a `required_key`): false on the usual server,
    /// whose destinations are all stores without a `required_key`.
    pub(crate) fn may_send_again(&self) -> bool {
        !self.all_show_what_they_hold() || self.has_keyed_stores()
    }

    /// Whether a duplicate may lack a copy in a store this request routes it to (a
    /// store with a `required_key`, see [`Destinations::keyed_stores_lacking`]).
    pub(crate) fn has_keyed_stores(&self) -> bool {
        self.keyed_stores
    }

    /// Each running destination's name and `required_key`, in route order: those of
    /// the start, which a reload does not change (destinations are read at start only).
    pub(crate) fn required_keys(&self) -> impl Iterator<Item = (&str, &str)> {
        self.list.iter().filter_map(|d| {
            d.filter
                .required_key
                .as_deref()
                .map(|key| (d.name.as_str(), key))
        })
    }

    /// For each duplicate of `taken` (its receipt key, and the routes THIS request
    /// gives it, from its key), the routes of the stores with a `required_key` that
    /// do not show they hold its record. De-duplication remembers that an event was
    /// stored, not by which key: an event first sent with another key (that the
    /// `required_key` store does not take) is stored in the other destinations only,
    /// and the required key's own retry of it must still reach its store. Every other
    /// destination filter depends on the event alone (its topic and routing key, part
    /// of its identity), so those destinations took it when it was stored.
    /// A store shows it by its record among the last [`auditrail_store::RECENT_LINKS`]
    /// it wrote or read at start ([`StoreHandle::links`]): one it cannot find there
    /// (older, or an unchained store, which keeps no links) is sent the event again,
    /// at-least-once there rather than a lost copy. Empty (nothing allocated) when no
    /// store has a `required_key`.
    pub(crate) fn keyed_stores_lacking(
        &self,
        taken: &[(ReceiptKey, &auditrail_core::RouteSet)],
    ) -> Vec<auditrail_core::RouteSet> {
        if !self.keyed_stores || taken.is_empty() {
            return Vec::new();
        }
        let mut lacking = vec![auditrail_core::RouteSet::new(); taken.len()];
        for (route, d, store) in self.stores() {
            if d.filter.required_key.is_none() {
                continue;
            }
            let (which, keys): (Vec<usize>, Vec<ReceiptKey>) = taken
                .iter()
                .enumerate()
                .filter(|(_, (_, routes))| routes.contains(route))
                .map(|(n, (key, _))| (n, *key))
                .unzip();
            if keys.is_empty() {
                continue;
            }
            for (n, link) in which.into_iter().zip(store.handle.links(&keys)) {
                if link.is_none() {
                    lacking[n].insert(route);
                }
            }
        }
        lacking
    }

    /// The receipts of an acknowledged batch: per event, the routes that took it, and
    /// those that held it already (`held(k)` of the `k`-th event emitted: a retried
    /// event sent again only to the destinations that could not show they hold it, its
    /// stores holding their records; `None` for the others).
    /// `keys`: the [`receipt_keys`](Self::receipt_keys) of the events emitted, in the
    /// order emitted (the ack's order).
    pub(crate) async fn receipts_of<'a>(
        &self,
        ack: &BatchAck,
        keys: &[ReceiptKey],
        held: impl Fn(usize) -> Option<&'a auditrail_core::RouteSet>,
    ) -> Result<Option<serde_json::Value>, IntegrityError> {
        if !self.gives_receipts() {
            return Ok(None);
        }
        debug_assert_eq!(ack.events().len(), keys.len());
        let taken: Vec<auditrail_core::RouteSet> = ack
            .events()
            .iter()
            .enumerate()
            .map(|(k, e)| match held(k) {
                None => e.taken(),
                Some(held) => e.taken().iter().chain(held.iter()).collect(),
            })
            .collect();
        self.receipts(keys.iter().copied().zip(&taken)).await
    }

    /// Signs each chained store's final checkpoint (call after the dispatcher shut down:
    /// every store wrote its last batch), by destination name.
    pub(crate) async fn close_integrity(
        &self,
    ) -> Vec<(
        String,
        Result<Option<auditrail_integrity::Checkpoint>, IntegrityError>,
    )> {
        let mut out = Vec::new();
        for (_, d, store) in self.stores() {
            let Some(integrity) = store.integrity() else {
                continue;
            };
            // A store whose shutdown did not finish may still write a record: its
            // final line must not say that none can follow (the next start would
            // refuse the store instead of signing the record as recovered).
            let result = if store.handle.is_open() {
                tracing::warn!(destination = %d.name, store = %store.handle.root().display(), "the store did not shut down: its final checkpoint does not record a clean stop");
                integrity.close_not_stopped().await
            } else {
                integrity.close().await
            };
            if let Err(e) = &result {
                tracing::error!(destination = %d.name, "final checkpoint not written: {e}");
            }
            out.push((d.name.clone(), result));
        }
        out
    }

    /// Checks that the dispatcher's routes are these destinations, in this order.
    pub(crate) fn matches(&self, dispatcher: &Dispatcher) -> bool {
        dispatcher.routes().len() == self.list.len()
            && dispatcher
                .routes()
                .zip(&self.list)
                .all(|(r, d)| r.name == d.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store_config(v: serde_json::Value) -> StoreConfig {
        serde_json::from_value(v).unwrap()
    }

    fn event(topic: &str, routing_key: Option<&str>) -> Event {
        let mut v = serde_json::json!({
            "id": "01936f6e-1b2c-7d3e-8f40-123456789abc",
            "timestamp": "2026-11-25T18:55:49.123Z",
            "topic": topic, "node": "n1", "seq": 1,
            "message": {"msgType": "q"}
        });
        if let Some(k) = routing_key {
            v["routingKey"] = k.into();
        }
        Event::from_json(&v.to_string()).unwrap()
    }

    #[test]
    fn reserved_names_collide_only_at_the_first_folder_level() {
        let by_topic = RootLevel::of(&store_config(serde_json::json!({"path": "s"})));
        assert_eq!(by_topic, RootLevel::Topic);
        assert_eq!(
            by_topic.collision(&event("store-id", None)),
            Some(("topic", "store-id"))
        );
        assert_eq!(
            by_topic.collision(&event("generic", Some("checkpoints.jsonl"))),
            None
        );
        let by_key = RootLevel::of(&store_config(
            serde_json::json!({"path": "s", "folder_by_topic": false}),
        ));
        assert_eq!(by_key, RootLevel::RoutingKey);
        assert_eq!(
            by_key.collision(&event("generic", Some("checkpoints.jsonl"))),
            Some(("routingKey", "checkpoints.jsonl"))
        );
        assert_eq!(by_key.collision(&event("store-id", None)), None);
        let by_time = RootLevel::of(&store_config(serde_json::json!({
            "path": "s", "folder_by_topic": false, "folder_by_routing_key": false
        })));
        assert_eq!(
            by_time.collision(&event("store-id", Some("store-id"))),
            None
        );
    }
}
