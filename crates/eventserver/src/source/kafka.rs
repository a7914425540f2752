//! The Kafka source: one consumer of the group on a thread of its own.
//!
//! The thread polls librdkafka, gathers each owned partition's records and hands them
//! to that partition's store in offset order, then commits the partition's offset up
//! to what the store holds durably. librdkafka runs the rebalance callback inside
//! `poll`, on this same thread, so an assignment or a revocation never meets a batch
//! half-written: a revoked partition's store is closed (final checkpoint, lock
//! released) before the callback returns and before the group gives the partition to
//! anyone else (cooperative-sticky: revocation is its own step).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use auditrail_core::repeats::{without_repeat_count, RepeatedLines, REPEAT_INTERVAL};
use auditrail_core::Backoff;
use auditrail_store::ReadProgress;
use prometheus_client::metrics::gauge::Gauge;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext, RebalanceProtocol};
use rdkafka::error::KafkaError;
use rdkafka::message::{Headers as _, Message};
use rdkafka::statistics::Statistics;
use rdkafka::types::{RDKafkaErrorCode, RDKafkaRespErr};
use rdkafka::{ClientConfig, ClientContext, Offset, TopicPartitionList};

use super::config::KafkaSourceConfig;
use super::metrics::{partition_labels, SourceMetrics};
use super::partition::{Incoming, PartitionError, PartitionStore, StoreEnv};
use super::record_sig::SigHeaders;

/// How long a poll waits for a record when nothing is pending.
const POLL: Duration = Duration::from_millis(100);
/// How long records wait for more before their batch is stored.
const LINGER: Duration = Duration::from_millis(20);
/// Timeout of a seek to the store's resume offset.
const SEEK_TIMEOUT: Duration = Duration::from_secs(10);
/// Pauses of the loop after a read error, from the first to the longest: librdkafka
/// hands the same error over every ~50 ms while its brokers are down, and the loop
/// would otherwise go round at that pace doing nothing else. Short enough that a
/// stop, or the records of a broker back, wait little.
const ERROR_PAUSE_FIRST: Duration = Duration::from_millis(100);
const ERROR_PAUSE_MAX: Duration = Duration::from_secs(1);

type Key = (String, i32);

/// What an assignment's open of a partition store gave.
enum Opened {
    /// Boxed: a store's handle is large beside the other two.
    Store(Box<PartitionStore>),
    /// Not open (not tried, a stop, or a failure tried again later, with its
    /// error): paused.
    Waits(Option<Box<PartitionError>>),
    /// Refused by its integrity check: paused, held.
    Held,
}

/// One assigned partition.
struct Slot {
    /// `None` until its store is open (the partition is paused meanwhile).
    store: Option<PartitionStore>,
    /// Records read and not yet stored, in offset order.
    pending: Vec<Incoming>,
    /// When to try again (opening, or writing after a failure).
    retry_at: Instant,
    backoff: Backoff,
    failures: u32,
    /// Paused in librdkafka (not open yet, or a write failed).
    paused: bool,
    /// Its store's integrity check refused it (`held.rs`): paused, and not opened
    /// again while the partition stays assigned here.
    held: bool,
    /// Set when the store was opened after the partition was assigned: where reading
    /// must resume. The first record read shows where the consumer is; if it is past
    /// this offset, the partition is sought back here (a seek is reliable only once
    /// the partition is being fetched).
    rewind_to: Option<i64>,
    /// The first offset read and dropped while the store was not open: where reading
    /// must resume if the store holds nothing of the partition.
    dropped_from: Option<i64>,
    /// Seeks made for `rewind_to` (one is enough with a broker that honours it; more
    /// would loop forever on one that does not).
    rewinds: u8,
    /// The offset the next record should have (the one after the last record read):
    /// a record past it means offsets were not delivered, which is said, never silent.
    expect: Option<i64>,
    /// While its store is not open: the opens tried and the last one's error
    /// (`/v1/checkpoints`, `waiting.rs`).
    open_tries: u32,
    open_error: Option<String>,
    /// Since when its store waits for a place in the open-file budget, and the bound
    /// that refused the last open (`/readyz`, `waiting.rs`); `None` when its last
    /// open failed otherwise, or none did.
    descriptors: Option<(Instant, super::slots::NoSlot)>,
}

impl Slot {
    fn new(store: Option<PartitionStore>) -> Slot {
        Slot {
            paused: store.is_none(),
            held: false,
            store,
            pending: Vec::new(),
            retry_at: Instant::now(),
            backoff: Backoff::new(Duration::from_millis(200), Duration::from_secs(30)),
            failures: 0,
            rewind_to: None,
            dropped_from: None,
            rewinds: 0,
            expect: None,
            open_tries: 0,
            open_error: None,
            descriptors: None,
        }
    }

    /// Its store's open failed with `e` (retried): said by `/v1/checkpoints`; an open
    /// refused for want of a place in the open-file budget starts a wait (counted in
    /// `waits` once, however many opens it tries), any other failure ends it.
    fn open_failed(
        &mut self,
        e: &PartitionError,
        waits: &prometheus_client::metrics::counter::Counter,
    ) {
        self.open_tries = self.open_tries.saturating_add(1);
        self.open_error = Some(e.to_string());
        self.descriptors = match (e.no_slot(), self.descriptors) {
            (Some(bound), Some((since, _))) => Some((since, bound)),
            (Some(bound), None) => {
                waits.inc();
                Some((Instant::now(), bound))
            }
            (None, _) => None,
        };
    }

    fn failed(&mut self) {
        self.failures = self.failures.saturating_add(1);
        self.retry_at = Instant::now() + self.backoff.delay(self.failures);
    }
}

/// The consumer's context: the open partition stores, shared between the poll loop and
/// the rebalance callback (both on the source's thread; the lock is never held across
/// `poll`).
struct Ctx {
    env: StoreEnv,
    slots: Mutex<HashMap<Key, Slot>>,
    metrics: SourceMetrics,
    /// The client's errors in progress, said as states (`auditrail_core::repeats`).
    errors: Mutex<RepeatedLines<ErrorKind>>,
    /// What the partition stores' opens read, and the source's stop as they see it:
    /// an assignment of many stores (each read whole to open it) ends at the next
    /// store, or the next file of one, once the source is asked to stop
    /// ([`KafkaSource::ask_stop`]), instead of opening every store and only then
    /// closing them all.
    reads: Arc<ReadProgress>,
    /// Topics librdkafka saw deleted and created again (their topic id changed) whose
    /// open partitions are still to be read again from their beginning
    /// ([`reread_recreated`]).
    recreated: Mutex<Vec<String>>,
}

/// The line the workspace's librdkafka logs (facility `TOPICID`) when a topic's id
/// changes: `Topic <name> was created anew (its id changed)`
/// (vendor/rdkafka-sys/PATCHES.md).
fn recreated_topic<'m>(fac: &str, message: &'m str) -> Option<&'m str> {
    if fac != "TOPICID" {
        return None;
    }
    let rest = message.split_once("Topic ")?.1;
    rest.split_once(" was created anew").map(|(topic, _)| topic)
}

/// What ends a repeated client error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ErrorKind {
    /// The brokers cannot be reached: ended by a broker seen up (statistics), an
    /// assignment, or a record read.
    Unreachable,
    /// Anything else: ended by a record read.
    Other,
}

impl ErrorKind {
    fn of(error: &KafkaError) -> ErrorKind {
        match error.rdkafka_error_code() {
            Some(
                RDKafkaErrorCode::AllBrokersDown
                | RDKafkaErrorCode::BrokerTransportFailure
                | RDKafkaErrorCode::Resolve
                | RDKafkaErrorCode::NetworkException,
            ) => ErrorKind::Unreachable,
            _ => ErrorKind::Other,
        }
    }
}

/// A count as a gauge's value.
fn gauge(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn lock(m: &Mutex<HashMap<Key, Slot>>) -> MutexGuard<'_, HashMap<Key, Slot>> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl ClientContext for Ctx {
    fn log(&self, level: RDKafkaLogLevel, fac: &str, message: &str) {
        let source = &self.env.source;
        if let Some(topic) = recreated_topic(fac, message) {
            let mut recreated = self
                .recreated
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if !recreated.iter().any(|t| t == topic) {
                recreated.push(topic.to_owned());
            }
        }
        // Errors and warnings repeat while their state lasts (a broker's connection
        // refused, said by librdkafka every 30 s): said as states too. A broker's
        // failure (`FAIL`) ends when a broker is reachable again.
        let kind = if fac == "FAIL" {
            ErrorKind::Unreachable
        } else {
            ErrorKind::Other
        };
        match level {
            RDKafkaLogLevel::Emerg
            | RDKafkaLogLevel::Alert
            | RDKafkaLogLevel::Critical
            | RDKafkaLogLevel::Error => {
                if let Some(said) = self.note_error(&format!("librdkafka: {message}"), kind) {
                    tracing::error!(source, fac, "{said}");
                }
            }
            RDKafkaLogLevel::Warning => {
                if let Some(said) = self.note_error(&format!("librdkafka: {message}"), kind) {
                    tracing::warn!(source, fac, "{said}");
                }
            }
            RDKafkaLogLevel::Notice | RDKafkaLogLevel::Info => {
                tracing::info!(source, fac, "librdkafka: {message}")
            }
            RDKafkaLogLevel::Debug => tracing::debug!(source, fac, "librdkafka: {message}"),
        }
    }

    fn error(&self, error: KafkaError, reason: &str) {
        self.say_error(&format!("Kafka: {error}: {reason}"), ErrorKind::of(&error));
    }

    fn stats(&self, statistics: Statistics) {
        // A broker connection up (not librdkafka's internal one, always "UP"): the
        // brokers are reachable again.
        if statistics
            .brokers
            .values()
            .any(|b| b.source != "internal" && b.state == "UP")
        {
            self.errors_ended(|k| *k == ErrorKind::Unreachable);
        }
        let slots = lock(&self.slots);
        for ((topic, partition), _) in slots.iter() {
            let lag = statistics
                .topics
                .get(topic)
                .and_then(|t| t.partitions.get(partition))
                .map(|p| p.consumer_lag);
            if let Some(lag) = lag.filter(|l| *l >= 0) {
                self.metrics
                    .lag
                    .get_or_create(&partition_labels(topic, *partition))
                    .set(lag);
            }
        }
    }
}

impl ConsumerContext for Ctx {
    fn rebalance(
        &self,
        consumer: &BaseConsumer<Self>,
        err: RDKafkaRespErr,
        tpl: &mut TopicPartitionList,
    ) {
        let cooperative = matches!(
            consumer.rebalance_protocol(),
            RebalanceProtocol::Cooperative
        );
        self.metrics.rebalances.inc();
        match err {
            RDKafkaRespErr::RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS => {
                // The group's coordinator answered: the brokers are reachable.
                self.errors_ended(|k| *k == ErrorKind::Unreachable);
                self.assign(consumer, tpl, cooperative);
            }
            RDKafkaRespErr::RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS => {
                let lost = consumer.assignment_lost();
                self.revoke(tpl, lost);
                let r = if cooperative {
                    consumer.incremental_unassign(tpl)
                } else {
                    consumer.unassign()
                };
                if let Err(e) = r {
                    tracing::error!(source = %self.env.source, "unassigning revoked partitions: {e}");
                }
            }
            other => {
                tracing::error!(source = %self.env.source, "rebalance failed: {other:?}; closing every partition store");
                let all = {
                    let slots = lock(&self.slots);
                    let mut tpl = TopicPartitionList::new();
                    for (t, p) in slots.keys() {
                        tpl.add_partition(t, *p);
                    }
                    tpl
                };
                self.revoke(&all, true);
                let _ = consumer.unassign();
            }
        }
        self.count_partitions();
    }
}

impl Ctx {
    /// Logs a client error as a state: the first time, then at most once per
    /// [`REPEAT_INTERVAL`] with the count of its repeats (`still: ...`).
    fn say_error(&self, line: &str, kind: ErrorKind) {
        if let Some(said) = self.note_error(line, kind) {
            tracing::warn!(source = %self.env.source, "{said}");
        }
    }

    /// What to log of a client error now, if anything (see [`Ctx::say_error`]).
    fn note_error(&self, line: &str, kind: ErrorKind) -> Option<String> {
        self.errors
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .note(&without_repeat_count(line), kind, Instant::now())
    }

    /// The client errors of a kind `ends` are over: each is said ended, once.
    fn errors_ended(&self, ends: impl Fn(&ErrorKind) -> bool) {
        let mut errors = self
            .errors
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if !errors.any(&ends) {
            return;
        }
        for line in errors.ended(ends, Instant::now()) {
            tracing::info!(source = %self.env.source, "{line}");
        }
    }

    /// Sets the assigned and waiting gauges from the slots, and the de-duplication
    /// states `/v1/stats` reads.
    fn count_partitions(&self) {
        let slots = lock(&self.slots);
        let open = slots
            .iter()
            .filter_map(|(k, s)| Some((k.clone(), s.store.as_ref()?.dedup().clone())))
            .collect();
        *self
            .metrics
            .partitions
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = open;
        let waiting = slots
            .values()
            .filter(|s| s.store.is_none() && !s.held)
            .count();
        self.metrics
            .waiting_list
            .set(slots.iter().filter_map(|((topic, partition), s)| {
                use super::waiting::WaitingFor;
                let why = match (&s.store, s.held, &s.open_error, s.descriptors) {
                    (Some(_), _, _, _) | (None, true, _, _) => return None,
                    _ if s.failures == u32::MAX => WaitingFor::Fenced,
                    (None, false, Some(_), Some((since, bound))) => {
                        WaitingFor::Descriptors(super::waiting::DescriptorWait {
                            since,
                            tries: s.open_tries,
                            open_at_most: bound.total,
                            files_each: bound.files,
                            open_file_limit: bound.limit,
                            said: bound.to_string(),
                        })
                    }
                    (None, false, Some(error), _) => WaitingFor::Retry {
                        tries: s.open_tries,
                        error: error.clone(),
                    },
                    (None, false, None, _) => WaitingFor::Open,
                };
                Some(self.waiting(topic, *partition, why))
            }));
        self.metrics.assigned.set(gauge(slots.len()));
        self.metrics.waiting.set(gauge(waiting));
    }

    /// Opens the store of every assigned partition and assigns each at the offset its
    /// store says (the one after its last record); a store that cannot be opened now
    /// (still locked by its previous owner, say) is assigned paused, and the loop opens
    /// it later. Nothing here waits: a rebalance callback that blocks holds up the
    /// whole group. The stores open one after another (each read whole): once the
    /// source is asked to stop, the rest are not opened (assigned paused; the loop
    /// then ends and closes the open ones, as any stop does).
    fn assign(
        &self,
        consumer: &BaseConsumer<Self>,
        tpl: &mut TopicPartitionList,
        cooperative: bool,
    ) {
        let mut opened = Vec::new();
        let mut waiting = TopicPartitionList::new();
        let total = tpl.count();
        // The gauges count the partitions being opened from now on (assigned, not
        // open yet), not once the last of them is open.
        let (had, had_waiting) = {
            let slots = lock(&self.slots);
            let waiting = slots
                .values()
                .filter(|s| s.store.is_none() && !s.held)
                .count();
            (slots.len(), waiting)
        };
        self.metrics.assigned.set(gauge(had + total));
        self.metrics.waiting.set(gauge(had_waiting + total));
        // Listed as being opened until this assignment is done (each store is read
        // whole, which can take long): `/v1/checkpoints` shows every assigned one.
        for elem in tpl.elements() {
            self.metrics.waiting_list.add(self.waiting(
                elem.topic(),
                elem.partition(),
                super::waiting::WaitingFor::Open,
            ));
        }
        if total > 1 {
            tracing::info!(source = %self.env.source, partitions = total, "opening the stores of {total} assigned partitions, one after another");
        }
        let mut open = 0;
        let mut stopped = false;
        for (i, elem) in tpl.elements().iter().enumerate() {
            let (topic, partition) = (elem.topic().to_owned(), elem.partition());
            // A stop ends the opens at the next store (or the next file of one):
            // the rest are assigned paused, as stores that cannot be opened yet are,
            // and go back to the group as the source leaves it.
            stopped = stopped || self.reads.stop_asked();
            let result = if stopped {
                None
            } else {
                Some(PartitionStore::open_watched(
                    &self.env,
                    &topic,
                    partition,
                    &self.reads,
                    Some((i + 1, total)),
                ))
            };
            match result {
                Some(Ok(store)) => {
                    open += 1;
                    self.metrics.waiting.dec();
                    opened.push(((topic, partition), Opened::Store(Box::new(store))));
                }
                Some(Err(e)) if e.is_stopped() => {
                    stopped = true;
                    waiting.add_partition(&topic, partition);
                    opened.push(((topic, partition), Opened::Waits(None)));
                }
                Some(Err(e)) => {
                    let held = self.hold_if_refused(&topic, partition, &e);
                    if held {
                        self.metrics.waiting.dec();
                    } else {
                        tracing::warn!(source = %self.env.source, "{e}; the partition waits, paused");
                    }
                    // Paused either way: a held partition's records stay in Kafka.
                    waiting.add_partition(&topic, partition);
                    opened.push((
                        (topic, partition),
                        if held {
                            Opened::Held
                        } else {
                            Opened::Waits(Some(Box::new(e)))
                        },
                    ));
                }
                None => {
                    waiting.add_partition(&topic, partition);
                    opened.push(((topic, partition), Opened::Waits(None)));
                }
            }
        }
        if stopped {
            tracing::info!(source = %self.env.source, opened = open, assigned = total,
                "the stop came while opening partition stores: {open} of {total} opened, the rest not opened (their partitions go back to the group as the source leaves it); the opened ones are closed with their final checkpoints");
        }
        for ((topic, partition), store) in &opened {
            let store = match store {
                Opened::Store(s) => Some(&**s),
                Opened::Waits(_) | Opened::Held => None,
            };
            if let Some(next) = store.and_then(PartitionStore::resume_offset) {
                if let Err(e) = tpl.set_partition_offset(topic, *partition, Offset::Offset(next)) {
                    tracing::error!(source = %self.env.source, "setting the resume offset: {e}");
                }
            }
        }
        let r = if cooperative {
            consumer.incremental_assign(tpl)
        } else {
            consumer.assign(tpl)
        };
        if let Err(e) = r {
            tracing::error!(source = %self.env.source, "assigning partitions: {e}");
        }
        if waiting.count() > 0 {
            if let Err(e) = consumer.pause(&waiting) {
                tracing::error!(source = %self.env.source, "pausing partitions whose store is not open: {e}");
            }
        }
        let mut slots = lock(&self.slots);
        for (key, store) in opened {
            let held = matches!(store, Opened::Held);
            let mut error = None;
            let mut slot = Slot::new(match store {
                Opened::Store(s) => Some(*s),
                Opened::Waits(e) => {
                    error = e;
                    None
                }
                Opened::Held => None,
            });
            if let Some(e) = error {
                slot.open_failed(&e, &self.metrics.descriptor_waits);
            }
            slot.held = held;
            if !held {
                // Assigned again while held (an eager rebalance gives the whole
                // assignment again): this open decides.
                self.metrics.held.release(&key.0, key.1);
            }
            match &slot.store {
                None => slot.failed(),
                // A re-read starts at the log's start, which may be past 0.
                Some(s) => slot.expect = s.resume_offset().filter(|_| !s.rereading()),
            }
            slots.insert(key, slot);
        }
    }

    /// `topic`/`partition`'s entry in the list of waiting partitions.
    fn waiting(
        &self,
        topic: &str,
        partition: i32,
        why: super::waiting::WaitingFor,
    ) -> super::waiting::Waiting {
        super::waiting::Waiting {
            topic: topic.to_owned(),
            partition,
            path: super::partition::store_path(&self.env.store_root, topic, partition),
            why,
        }
    }

    /// Holds `topic`/`partition` when `e` is an integrity refusal of its store
    /// (`held.rs`): said once at ERROR, listed for `/readyz` and counted. Whether it
    /// was.
    fn hold_if_refused(&self, topic: &str, partition: i32, e: &PartitionError) -> bool {
        let Some(found) = super::held::refusal(e) else {
            return false;
        };
        let store = super::partition::store_path(&self.env.store_root, topic, partition);
        super::held::say_held(&self.env.source, topic, partition, &store, e);
        self.metrics.held.hold(topic, partition, found, &store);
        true
    }

    /// Closes the stores of `tpl`'s partitions; records read and not stored are
    /// dropped (the next owner reads them again from its store's offset).
    fn revoke(&self, tpl: &TopicPartitionList, lost: bool) {
        let removed: Vec<(Key, Slot)> = {
            let mut slots = lock(&self.slots);
            tpl.elements()
                .iter()
                .filter_map(|e| {
                    let key = (e.topic().to_owned(), e.partition());
                    slots.remove(&key).map(|s| (key, s))
                })
                .collect()
        };
        for ((topic, partition), slot) in removed {
            self.metrics
                .lag
                .remove(&partition_labels(&topic, partition));
            if slot.held {
                // The hold goes with the partition: its next owner (this server
                // again, or another) checks the store again.
                self.metrics.held.release(&topic, partition);
                tracing::info!(source = %self.env.source, topic, partition,
                    "{topic}/{partition} revoked: its held partition store is no longer held here (its next owner checks it again)");
            }
            if let Some(store) = slot.store {
                // A lost assignment (the group moved on without us) may already be
                // someone else's: no final checkpoint into its log then.
                store.close(&self.env.runtime, lost);
            }
        }
    }
}

/// A running Kafka source.
pub(crate) struct KafkaSource {
    stop: Arc<AtomicBool>,
    /// The partition stores' opens watch its stop (see [`Ctx::reads`]).
    reads: Arc<ReadProgress>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl std::fmt::Debug for KafkaSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaSource").finish_non_exhaustive()
    }
}

/// librdkafka's largest `receive.message.max.bytes`: a fetch answer up to 2 GiB (Kafka's
/// own sizes are 32-bit) is received.
const RECEIVE_MAX_BYTES: &str = "2147483647";

/// The consumer's properties: the user's, then the ones the guarantees rest on.
fn client_config(config: &KafkaSourceConfig) -> ClientConfig {
    let mut c = ClientConfig::new();
    // Every record the broker holds is received, whatever its size (memory for it is
    // taken only when it comes): with librdkafka's default of 100 MB, a record batch
    // larger than that (a topic whose `max.message.bytes` allows it) made librdkafka
    // drop the broker's connection at each fetch, and no partition led by that broker
    // was read again, the batch's own nor any other, for ever. Received, the record is
    // stored, or dead-lettered if it is no event, as any other. A user's value wins.
    c.set("statistics.interval.ms", "5000")
        .set("auto.offset.reset", "earliest")
        .set("receive.message.max.bytes", RECEIVE_MAX_BYTES);
    for (k, v) in &config.librdkafka {
        c.set(k, v);
    }
    if config.librdkafka.contains_key("debug") {
        // librdkafka's `debug` contexts log at its debug level, which the binding
        // filters out unless asked (they reach the log as `debug` lines).
        c.set_log_level(RDKafkaLogLevel::Debug);
    }
    c.set("bootstrap.servers", &config.brokers)
        .set("group.id", &config.group_id)
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("isolation.level", "read_committed")
        .set("partition.assignment.strategy", "cooperative-sticky");
    c
}

impl KafkaSource {
    /// Creates the consumer, subscribes and starts its thread.
    pub(crate) fn start(
        config: &KafkaSourceConfig,
        env: StoreEnv,
        metrics: SourceMetrics,
    ) -> Result<KafkaSource, KafkaError> {
        let reads = Arc::new(ReadProgress::new());
        let ctx = Ctx {
            env,
            slots: Mutex::new(HashMap::new()),
            metrics,
            errors: Mutex::new(RepeatedLines::new(REPEAT_INTERVAL)),
            reads: reads.clone(),
            recreated: Mutex::new(Vec::new()),
        };
        let consumer: BaseConsumer<Ctx> = client_config(config).create_with_context(ctx)?;
        let topics: Vec<&str> = config.topics.iter().map(String::as_str).collect();
        consumer.subscribe(&topics)?;
        let stop = Arc::new(AtomicBool::new(false));
        let batch_max = config.batch_max_events;
        let stopping = stop.clone();
        let running = consumer.context().metrics.running.clone();
        running.set(1);
        let thread = std::thread::Builder::new()
            .name(format!("source-{}", config.name))
            .spawn(move || {
                let name = consumer.context().env.source.clone();
                supervise(&name, &running, || run(consumer, batch_max, &stopping));
            })
            .map_err(|e| {
                KafkaError::ClientCreation(format!("cannot start the source's thread: {e}"))
            })?;
        Ok(KafkaSource {
            stop,
            reads,
            thread: Some(thread),
        })
    }

    /// Asks the source to stop, without waiting: its loop ends at its next turn, and
    /// partition stores being opened (a rebalance callback opening an assignment's
    /// stores one after another, each read whole) end at the next store or file.
    pub(crate) fn ask_stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
        self.reads.stop();
    }

    /// Stops reading, stores what was read, closes every partition store and leaves the
    /// group. Blocking: run it off the async workers.
    pub(crate) fn stop(mut self) {
        self.ask_stop();
        if let Some(t) = self.thread.take() {
            if t.join().is_err() {
                tracing::error!("a Kafka source's thread panicked");
            }
        }
    }
}

impl Drop for KafkaSource {
    fn drop(&mut self) {
        self.ask_stop();
    }
}

/// Runs the source's loop. A panic unwinds through the consumer and the stores (so the
/// group gets the partitions back and the locks are released, and other servers take
/// over); it is caught here, logged, and `running` falls to 0, which fails the server's
/// health probe: the source stores nothing more, and a server that goes on answering
/// HTTP as if all were well would hide that (systemd's watchdog restarts it instead).
fn supervise(name: &str, running: &Gauge, body: impl FnOnce()) {
    if std::panic::catch_unwind(std::panic::AssertUnwindSafe(body)).is_err() {
        running.set(0);
        tracing::error!(source = %name, "the Kafka source stopped after a panic: its partitions went back to the group; restart the server");
    }
}

fn run(consumer: BaseConsumer<Ctx>, batch_max: usize, stop: &AtomicBool) {
    let mut buffered = 0usize;
    let mut first_buffered: Option<Instant> = None;
    let error_pause = Backoff::new(ERROR_PAUSE_FIRST, ERROR_PAUSE_MAX);
    // Read errors in a row, and until when the errors queued during a pause are taken
    // without pausing again (they are one pause's worth, not new ones).
    let mut errors = 0u32;
    let mut drain_until = Instant::now();
    while !stop.load(Ordering::SeqCst) {
        retry_waiting(&consumer);
        if buffered == 0 {
            reread_recreated(&consumer);
        }
        let timeout = if buffered > 0 { Duration::ZERO } else { POLL };
        match consumer.poll(timeout) {
            Some(Ok(m)) => {
                errors = 0;
                let ctx = consumer.context();
                ctx.errors_ended(|_| true);
                ctx.metrics.records.inc();
                let key = (m.topic().to_owned(), m.partition());
                let mut slots = lock(&ctx.slots);
                // A partition not (or no longer) ours, or not open yet: dropped, read
                // again from its store's offset (or the first dropped one) once open.
                if let Some(slot) = slots.get_mut(&key).filter(|s| s.store.is_none()) {
                    slot.dropped_from =
                        Some(slot.dropped_from.map_or(m.offset(), |d| d.min(m.offset())));
                }
                if let Some(slot) = slots.get_mut(&key).filter(|s| s.store.is_some()) {
                    if let Some(resume) = slot.rewind_to {
                        if m.offset() > resume && slot.rewinds == 0 {
                            slot.rewinds += 1;
                            // Reading started past what the store holds (at the group's
                            // committed offset, say): back to the store's offset.
                            if let Err(e) =
                                consumer.seek(&key.0, key.1, Offset::Offset(resume), SEEK_TIMEOUT)
                            {
                                tracing::error!(source = %ctx.env.source, "seeking {}/{} to {resume}: {e}; retrying", key.0, key.1);
                            }
                            continue;
                        }
                        slot.rewind_to = None;
                    }
                    if let Some(expected) = slot.expect.filter(|e| m.offset() > *e) {
                        ctx.metrics.offset_jumps.inc();
                        tracing::warn!(source = %ctx.env.source, topic = %key.0, partition = key.1, expected, got = m.offset(), "offsets {expected}..{} were not delivered (compaction, transaction markers, retention, or a broker that skipped records): nothing of them is stored", m.offset());
                    }
                    slot.expect = Some(m.offset().saturating_add(1));
                    let mut sig = SigHeaders::default();
                    if let Some(headers) = m.headers() {
                        for h in headers.iter() {
                            sig.take(h.key, h.value);
                        }
                    }
                    // A value past `max_record_bytes` is neither copied nor decoded (a
                    // producer could otherwise make the server take gigabytes for one
                    // record, and more again to parse it): refused by its size alone.
                    let size = m.payload().map_or(0, <[u8]>::len);
                    let too_large = (size > ctx.env.max_record_bytes).then_some(size);
                    slot.pending.push(Incoming {
                        offset: m.offset(),
                        key: m.key().map(<[u8]>::to_vec),
                        payload: m
                            .payload()
                            .filter(|_| too_large.is_none())
                            .map(<[u8]>::to_vec),
                        sig,
                        too_large,
                    });
                    buffered += 1;
                    first_buffered.get_or_insert_with(Instant::now);
                }
                if buffered < batch_max && first_buffered.is_some_and(|t| t.elapsed() < LINGER) {
                    continue;
                }
            }
            Some(Err(e)) => {
                consumer
                    .context()
                    .say_error(&format!("reading from Kafka: {e}"), ErrorKind::of(&e));
                if Instant::now() >= drain_until {
                    errors = errors.saturating_add(1);
                    pause(stop, error_pause.delay(errors));
                    drain_until = Instant::now() + POLL;
                }
            }
            None => errors = 0,
        }
        if buffered > 0 {
            buffered = store_pending(&consumer, batch_max);
            first_buffered = (buffered > 0).then(Instant::now);
        }
    }
    // Stopping: what was read is stored, then the stores close (final checkpoints)
    // before the consumer leaves the group (dropping it revokes what is left).
    store_pending(&consumer, batch_max);
    let ctx = consumer.context();
    let all = {
        let slots = lock(&ctx.slots);
        let mut tpl = TopicPartitionList::new();
        for (t, p) in slots.keys() {
            tpl.add_partition(t, *p);
        }
        tpl
    };
    ctx.revoke(&all, false);
    drop(consumer);
}

/// The first and last offsets of a batch (records are in offset order), for the lines
/// that say which records a failure holds up.
fn offsets_of(chunk: &[Incoming]) -> (i64, i64) {
    let first = chunk.first().map_or(-1, |r| r.offset);
    let last = chunk.last().map_or(first, |r| r.offset);
    (first, last)
}

/// Sleeps `how_long`, or less if the source is stopped meanwhile.
fn pause(stop: &AtomicBool, how_long: Duration) {
    let until = Instant::now() + how_long;
    while !stop.load(Ordering::SeqCst) {
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return;
        }
        std::thread::sleep(left.min(POLL));
    }
}

/// Writes each partition's pending records, oldest first, at most `batch_max` per
/// store write; commits each partition's offset once its store has them. Returns how
/// many records are still pending (partitions whose write failed keep theirs, paused).
fn store_pending(consumer: &BaseConsumer<Ctx>, batch_max: usize) -> usize {
    let ctx = consumer.context();
    let mut commit = TopicPartitionList::new();
    let mut pause = TopicPartitionList::new();
    let mut fenced = Vec::new();
    let mut left = 0;
    {
        let mut slots = lock(&ctx.slots);
        for ((topic, partition), slot) in slots.iter_mut() {
            let Some(store) = slot.store.as_mut() else {
                continue;
            };
            if slot.pending.is_empty() || (slot.failures > 0 && Instant::now() < slot.retry_at) {
                left += slot.pending.len();
                continue;
            }
            let mut done = 0;
            let mut next = None;
            for chunk in slot.pending.chunks(batch_max) {
                match store.write(&ctx.env, chunk) {
                    Ok(w) => {
                        done += chunk.len();
                        next = Some(w.next_offset);
                        ctx.metrics.stored.inc_by(w.stored as u64);
                        ctx.metrics.duplicates.inc_by(w.duplicates as u64);
                        ctx.metrics.invalid.inc_by(w.invalid as u64);
                        ctx.metrics.refused.inc_by(w.refused as u64);
                        ctx.metrics.past_retention.inc_by(w.past_retention as u64);
                        ctx.metrics.key_mismatch.inc_by(w.key_mismatch as u64);
                        ctx.metrics.unverified.inc_by(w.unverified as u64);
                        if w.not_the_stored_partition.is_some() {
                            // Logged by the store, and marked on disk.
                            ctx.metrics.not_the_stored_partition.inc();
                        }
                        if let Some(first) = w.first_invalid {
                            tracing::warn!(source = %ctx.env.source, topic, partition, invalid = w.invalid, first_offset = first, file = %ctx.env.dead_letters.display(), "records that are not events, or events dated too far ahead (max_timestamp_ahead_s), were dead-lettered with the reason, the first at offset {first} of {topic}/{partition}");
                        }
                        if let Some((first, why)) = &w.first_unverified {
                            tracing::error!(source = %ctx.env.source, topic, partition, records = w.unverified, first_offset = first, reason = %why, file = %ctx.env.dead_letters.display(), "records no trusted key vouches for were dead-lettered with the reason, not stored; the partition goes on (the first at offset {first} of {topic}/{partition}: {why})");
                        }
                        if let Some(first) = w.first_past_retention {
                            tracing::error!(source = %ctx.env.source, topic, partition, events = w.past_retention, first_offset = first, file = %ctx.env.dead_letters.display(), "events dated past the partition store's retention (its next pass would delete them) were dead-lettered with the reason, not stored; the partition goes on (check the producing nodes' clocks)");
                        }
                        if w.key_mismatch > 0 {
                            tracing::warn!(source = %ctx.env.source, topic, partition, records = w.key_mismatch, "records without a key or keyed by other than the event's node id: a retry through another path may land in another partition (key producers by node)");
                        }
                        if w.read_from_beginning {
                            // Read it all again: what the store lacks below its old
                            // offsets is stored, the rest is known.
                            match consumer.seek(topic, *partition, Offset::Beginning, SEEK_TIMEOUT)
                            {
                                Ok(()) => {
                                    store.reread_begins();
                                    slot.expect = None;
                                    // The records read after this batch and before the
                                    // seek are read again from the beginning: written
                                    // now, they would count as the re-read's when they
                                    // are not.
                                    done = slot.pending.len();
                                    break;
                                }
                                Err(e) => {
                                    tracing::error!(source = %ctx.env.source, "seeking {topic}/{partition} to its beginning: {e}; tried again after the next batch (and at the next open: the re-read marker stays)");
                                }
                            }
                        }
                    }
                    Err(e @ PartitionError::Fenced { .. }) => {
                        ctx.metrics.fenced.inc();
                        let (first, last) = offsets_of(chunk);
                        tracing::error!(source = %ctx.env.source, topic, partition, first_offset = first, last_offset = last,
                            "{topic}/{partition} offsets {first}..={last}: {e}");
                        fenced.push((topic.clone(), *partition));
                        break;
                    }
                    Err(e) => {
                        ctx.metrics.store_failures.inc();
                        // Which partition is held up, and where: the error itself may name
                        // only a destination or a file.
                        let (first, last) = offsets_of(chunk);
                        tracing::error!(source = %ctx.env.source, topic, partition, first_offset = first, last_offset = last,
                            "{topic}/{partition} offsets {first}..={last}: {e}; retried, nothing of the batch is committed");
                        slot.failed();
                        if !slot.paused {
                            pause.add_partition(topic, *partition);
                            slot.paused = true;
                        }
                        break;
                    }
                }
            }
            slot.pending.drain(..done);
            left += slot.pending.len();
            if slot.pending.is_empty() && slot.failures > 0 {
                slot.failures = 0;
                if slot.paused {
                    slot.paused = false;
                    let mut one = TopicPartitionList::new();
                    one.add_partition(topic, *partition);
                    if let Err(e) = consumer.resume(&one) {
                        tracing::error!(source = %ctx.env.source, "resuming {topic}/{partition}: {e}");
                    }
                }
            }
            if let Some(next) = next {
                if let Err(e) = commit.add_partition_offset(topic, *partition, Offset::Offset(next))
                {
                    tracing::error!(source = %ctx.env.source, "offset to commit: {e}");
                }
            }
        }
    }
    if commit.count() > 0 {
        // Only for lag and for empty stores: the stores say where reading resumes.
        if let Err(e) = consumer.commit(&commit, CommitMode::Async) {
            tracing::warn!(source = %ctx.env.source, "committing offsets: {e}");
        }
    }
    if pause.count() > 0 {
        if let Err(e) = consumer.pause(&pause) {
            tracing::error!(source = %ctx.env.source, "pausing partitions: {e}");
        }
    }
    if !fenced.is_empty() {
        // Another server took these stores over: stop writing them at once, and read
        // nothing more of them until the group says who owns them.
        let mut tpl = TopicPartitionList::new();
        for (t, p) in &fenced {
            tpl.add_partition(t, *p);
        }
        let _ = consumer.pause(&tpl);
        let mut slots = lock(&ctx.slots);
        for key in fenced {
            if let Some(slot) = slots.get_mut(&key) {
                slot.pending.clear();
                if let Some(store) = slot.store.take() {
                    store.close(&ctx.env.runtime, true);
                }
                slot.paused = true;
                slot.retry_at = Instant::now() + Duration::from_secs(3600 * 24 * 365);
                slot.failures = u32::MAX;
            }
        }
        drop(slots);
        ctx.count_partitions();
    }
    left
}

/// Reads again from their beginning the open partitions of the topics librdkafka saw
/// deleted and created again ([`Ctx::recreated`]), once nothing read is pending: the
/// consumer goes on at the old topic's position, and the new topic's records below it
/// would be skipped unseen (librdkafka resets no offset when a topic's id changes; a
/// partition reassigned after the deletion is caught at its store's open instead, by
/// the record at the store's offset). Every record read is stored first (the old
/// topic's, and any of the new one's: de-duplication knows them when read again).
fn reread_recreated(consumer: &BaseConsumer<Ctx>) {
    let ctx = consumer.context();
    let topics: Vec<String> = std::mem::take(
        &mut *ctx
            .recreated
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner),
    );
    if topics.is_empty() {
        return;
    }
    let mut later = Vec::new();
    let mut slots = lock(&ctx.slots);
    for topic in topics {
        for ((t, partition), slot) in slots.iter_mut().filter(|((t, _), _)| *t == topic) {
            let Some(store) = slot.store.as_mut() else {
                // Opened later: its open reads the store's last offset again.
                continue;
            };
            if !slot.pending.is_empty() {
                // Stored first (a write that failed, retried): after that.
                later.push(topic.clone());
                continue;
            }
            if let Err(e) = store.topic_recreated() {
                tracing::error!(source = %ctx.env.source, topic = %t, partition, "{t}/{partition}: the topic was created anew, and its re-read cannot begin: {e}; tried again");
                later.push(topic.clone());
                continue;
            }
            ctx.metrics.not_the_stored_partition.inc();
            match consumer.seek(t, *partition, Offset::Beginning, SEEK_TIMEOUT) {
                Ok(()) => {
                    store.reread_begins();
                    slot.expect = None;
                    tracing::error!(source = %ctx.env.source, topic = %t, partition,
                        "{t}/{partition}: the topic was deleted and created again (librdkafka saw its id change): the partition is not the one this store was filled from, and is read again from its beginning (de-duplication keeps what the store has once)");
                }
                Err(e) => {
                    // The marker stays: the next batch's write asks for the seek again,
                    // and the next open starts there.
                    tracing::error!(source = %ctx.env.source, topic = %t, partition, "{t}/{partition}: the topic was created anew; seeking to its beginning: {e}; tried again after the next batch (and at the next open: the re-read marker stays)");
                }
            }
        }
    }
    drop(slots);
    if !later.is_empty() {
        later.sort();
        later.dedup();
        ctx.recreated
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .extend(later);
    }
}

/// Opens the stores that could not be opened at assignment time and resumes their
/// partitions (the first record read says whether to seek back: `rewind_to`).
fn retry_waiting(consumer: &BaseConsumer<Ctx>) {
    let ctx = consumer.context();
    let now = Instant::now();
    let due: Vec<Key> = lock(&ctx.slots)
        .iter()
        .filter(|(_, s)| {
            s.store.is_none() && !s.held && s.failures != u32::MAX && s.retry_at <= now
        })
        .map(|(k, _)| k.clone())
        .collect();
    if due.is_empty() {
        return;
    }
    let total = due.len();
    for (i, (topic, partition)) in due.into_iter().enumerate() {
        // A stop ends these opens too, at the next store (or file of one): the loop
        // then ends and closes what is open.
        if ctx.reads.stop_asked() {
            break;
        }
        let opened = PartitionStore::open_watched(
            &ctx.env,
            &topic,
            partition,
            &ctx.reads,
            Some((i + 1, total)),
        );
        if opened.as_ref().is_err_and(PartitionError::is_stopped) {
            break;
        }
        let mut slots = lock(&ctx.slots);
        let Some(slot) = slots.get_mut(&(topic.clone(), partition)) else {
            continue;
        };
        match opened {
            Ok(store) => {
                // Where reading resumes: after what the store holds, else at the first
                // record dropped while it was not open.
                slot.rewind_to = store.resume_offset().or(slot.dropped_from);
                slot.expect = slot.rewind_to.filter(|_| !store.rereading());
                slot.store = Some(store);
                slot.descriptors = None;
                slot.failures = 0;
                slot.paused = false;
                let mut one = TopicPartitionList::new();
                one.add_partition(&topic, partition);
                if let Err(e) = consumer.resume(&one) {
                    tracing::error!(source = %ctx.env.source, "resuming {topic}/{partition}: {e}");
                }
            }
            Err(e) => {
                if ctx.hold_if_refused(&topic, partition, &e) {
                    slot.held = true;
                } else {
                    slot.open_failed(&e, &ctx.metrics.descriptor_waits);
                    if slot.failures % 10 == 0 {
                        tracing::warn!(source = %ctx.env.source, "{e}; retrying");
                    }
                    slot.failed();
                }
            }
        }
    }
    ctx.count_partitions();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_patched_librdkafkas_line_names_the_recreated_topic() {
        assert_eq!(
            recreated_topic("TOPICID", "Topic a.b-c_1 was created anew (its id changed)"),
            Some("a.b-c_1")
        );
        assert_eq!(
            recreated_topic("METADATA", "Topic a was created anew (its id changed)"),
            None
        );
        assert_eq!(recreated_topic("TOPICID", "something else"), None);
    }

    #[test]
    fn a_panic_in_the_source_marks_it_stopped() {
        let metrics = SourceMetrics::new("s");
        metrics.running.set(1);
        supervise("s", &metrics.running, || panic!("a fault in the source"));
        assert!(metrics.stopped());
        assert_eq!(metrics.running.get(), 0);
    }

    #[test]
    fn a_source_that_returns_stays_running() {
        // `run` returns only when the server stops it: that is no failure.
        let metrics = SourceMetrics::new("s");
        metrics.running.set(1);
        supervise("s", &metrics.running, || {});
        assert!(!metrics.stopped());
    }
}
