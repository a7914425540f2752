//! `mode = "tracing"`: each audit event becomes a `tracing` event, so that the
//! application's own subscribers and layers (journald, OpenTelemetry, syslog, a
//! `tracing-appender` file of its own, …) receive the audit trail.
//!
//! The `tracing` target of an event is its logger name, `<prefix>.<topic><suffix>`
//! (`audit.authfail`). `tracing` macros only take targets known at compile time, so
//! this module builds one callsite per logger name at run time (as `tracing-log` does
//! for `log` records) and dispatches through it. Callsites live for the whole
//! program; at most [`MAX_CALLSITES`] distinct names get their own, later ones share
//! a callsite whose target is the prefix alone (the `logger` field still names them).
//!
//! Fields, at level INFO: `message` (the payload as JSON text), `id`, `timestamp`,
//! `topic`, `routingKey` (when the event has one), `node`, `seq`, `msgType`, `logger`.
//!
//! **Acknowledgement.** `Ok` means "handed to `tracing`": the subscriber's `event`
//! returned. Nothing is durable at that point. Use `mode = "file"` for an audit trail
//! that must survive a crash.
//!
//! **An event nobody records is not delivered.** When no subscriber is installed
//! (neither where the dispatcher was built nor as the global default), or the
//! subscriber's filters disable the event's logger, `tracing` would drop the event
//! without a trace. The target asks first, as the `tracing` macros do (the callsite's
//! interest and `enabled`), and answers [`TargetError::PartlyTaken`] for such events:
//! an acknowledged emit fails for them ([`auditrail_core::FailureKind::RetryLater`],
//! its emitter may send them again once a subscriber records them), a plain `emit`'s
//! are dead-lettered; neither counts as delivered. A warning says so once per target
//! instance (to the subscriber, when there is one).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use auditrail_core::{async_trait, Event, Target, TargetError};
use tracing::callsite::{Callsite, Identifier};
use tracing::field::{Field, FieldSet, Value};
use tracing::metadata::Kind;
use tracing::subscriber::{Interest, NoSubscriber};
use tracing::{Dispatch, Level, Metadata};

use crate::line::LoggerName;

/// Distinct logger names that get a callsite of their own.
pub const MAX_CALLSITES: usize = 4096;

const FIELDS: &[&str] = &[
    "message",
    "id",
    "timestamp",
    "topic",
    "routingKey",
    "node",
    "seq",
    "msgType",
    "logger",
];
const NAME: &str = "audit event";

/// A callsite created at run time for one logger name.
struct DynCallsite {
    meta: OnceLock<Metadata<'static>>,
}

impl Callsite for DynCallsite {
    fn set_interest(&self, _interest: Interest) {}

    fn metadata(&self) -> &Metadata<'_> {
        // Always set before the callsite is registered or used.
        self.meta.get().unwrap_or(&FALLBACK_META)
    }
}

struct FallbackCallsite;
impl Callsite for FallbackCallsite {
    fn set_interest(&self, _interest: Interest) {}
    fn metadata(&self) -> &Metadata<'_> {
        &FALLBACK_META
    }
}
static FALLBACK_CALLSITE: FallbackCallsite = FallbackCallsite;
static FALLBACK_META: Metadata<'static> = Metadata::new(
    NAME,
    "audit",
    Level::INFO,
    None,
    None,
    None,
    FieldSet::new(FIELDS, Identifier(&FALLBACK_CALLSITE)),
    Kind::EVENT,
);

/// A registered callsite and its fields, in [`FIELDS`] order.
#[derive(Clone, Copy)]
struct Site {
    meta: &'static Metadata<'static>,
    fields: &'static [Field],
}

fn registry() -> &'static Mutex<HashMap<String, Site>> {
    static SITES: OnceLock<Mutex<HashMap<String, Site>>> = OnceLock::new();
    SITES.get_or_init(Mutex::default)
}

/// The callsite for `target`, created and registered on first use.
fn site(target: &str, overflow_target: &str) -> Site {
    let mut sites = registry()
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(site) = sites.get(target) {
        return *site;
    }
    let key = if sites.len() >= MAX_CALLSITES {
        if let Some(site) = sites.get(overflow_target) {
            return *site;
        }
        overflow_target
    } else {
        target
    };
    let callsite: &'static DynCallsite = Box::leak(Box::new(DynCallsite {
        meta: OnceLock::new(),
    }));
    let name: &'static str = Box::leak(key.to_owned().into_boxed_str());
    let _ = callsite.meta.set(Metadata::new(
        NAME,
        name,
        Level::INFO,
        None,
        None,
        None,
        FieldSet::new(FIELDS, Identifier(callsite)),
        Kind::EVENT,
    ));
    let meta: &'static Metadata<'static> = callsite.metadata();
    let fields: &'static [Field] = Box::leak(meta.fields().iter().collect::<Vec<_>>().into());
    tracing::callsite::register(callsite);
    let site = Site { meta, fields };
    sites.insert(key.to_owned(), site);
    site
}

/// Hands audit events to `tracing` (see the module docs).
pub struct TracingTarget {
    logger: LoggerName,
    /// The subscriber current where the target was built, if one was set there;
    /// otherwise events go to whatever is the default when they are sent.
    dispatch: Option<Dispatch>,
    state: Arc<Mutex<State>>,
}

impl std::fmt::Debug for TracingTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TracingTarget")
            .field("logger", &self.logger)
            .field("dispatch", &self.dispatch)
            .finish_non_exhaustive()
    }
}

#[derive(Default)]
struct State {
    sites: HashMap<String, Site>,
    warned_disabled: bool,
}

impl TracingTarget {
    /// A target naming loggers as `logger` says, dispatching to the subscriber that
    /// is current on the calling thread (if any; else the global default at send
    /// time).
    pub fn new(logger: LoggerName) -> TracingTarget {
        let current = tracing::dispatcher::get_default(Dispatch::clone);
        let dispatch = (!current.is::<NoSubscriber>()).then_some(current);
        TracingTarget {
            logger,
            dispatch,
            state: Arc::default(),
        }
    }
}

/// Hands every event of `batch` to `dispatch`; returns the index and reason of each
/// event it did not hand over because nobody records it (see the module docs).
fn emit_all(
    logger: &LoggerName,
    state: &mut State,
    batch: &[Arc<Event>],
    dispatch: &Dispatch,
) -> Vec<(usize, String)> {
    let mut interest: HashMap<&'static str, bool> = HashMap::new();
    let mut not_recorded = Vec::new();
    for (index, event) in batch.iter().enumerate() {
        let name = logger.of(event);
        let site = match state.sites.get(&name) {
            Some(s) => *s,
            None => {
                let s = site(&name, &logger.prefix);
                state.sites.insert(name.clone(), s);
                s
            }
        };
        // Per-layer filters (`Layer::with_filter`) disable a target through the
        // callsite's interest, not through `enabled`: ask for both, as the `tracing`
        // macros do (once per callsite and batch).
        let interested = *interest.entry(site.meta.target()).or_insert_with(|| {
            let interest = dispatch.register_callsite(site.meta);
            !interest.is_never()
        });
        if !interested || !dispatch.enabled(site.meta) {
            // Handing it over anyway would drop it: say so, never count it delivered.
            let reason = if dispatch.is::<NoSubscriber>() {
                format!(
                    "mode = \"tracing\": no tracing subscriber is installed (neither where \
                     the dispatcher was built nor as the global default), so audit event \
                     {} of logger {name} would be recorded nowhere",
                    event.id
                )
            } else {
                format!(
                    "mode = \"tracing\": the tracing subscriber's filter disables logger \
                     {name} (target {}), so audit event {} would be recorded nowhere",
                    site.meta.target(),
                    event.id
                )
            };
            if !state.warned_disabled {
                state.warned_disabled = true;
                tracing::warn!(
                    logger = %name,
                    "audit events in mode = \"tracing\" are filtered out by the current \
                     subscriber: they are not delivered ({reason})"
                );
            }
            not_recorded.push((index, reason));
            continue;
        }
        // The text as kept: exact (a number beyond f64 stays as written), and no parse.
        let kept = event.message.json();
        let message: &str = &kept;
        let id = event.id.to_string();
        let timestamp = event.timestamp.to_string();
        let routing_key = event.routing_key.as_ref().map(|k| k.as_str());
        let f = site.fields;
        if f.len() != FIELDS.len() {
            continue; // cannot happen: every site is built from FIELDS
        }
        let values: [(&Field, Option<&dyn Value>); 9] = [
            (&f[0], Some(&message as &dyn Value)),
            (&f[1], Some(&id.as_str() as &dyn Value)),
            (&f[2], Some(&timestamp.as_str() as &dyn Value)),
            (&f[3], Some(&event.topic.as_str() as &dyn Value)),
            (&f[4], routing_key.as_ref().map(|k| k as &dyn Value)),
            (&f[5], Some(&event.node.as_str() as &dyn Value)),
            (&f[6], Some(&event.seq as &dyn Value)),
            (&f[7], Some(&event.msg_type() as &dyn Value)),
            (&f[8], Some(&name.as_str() as &dyn Value)),
        ];
        let value_set = site.meta.fields().value_set(&values);
        dispatch.event(&tracing::Event::new(site.meta, &value_set));
    }
    not_recorded
}

#[async_trait]
impl Target for TracingTarget {
    async fn send(&mut self, batch: &[Arc<Event>]) -> Result<(), TargetError> {
        let logger = self.logger.clone();
        let dispatch = self.dispatch.clone();
        let state = self.state.clone();
        let batch = batch.to_vec();
        // Subscribers may do blocking I/O in `event`: keep it off the async workers.
        let handed = tokio::task::spawn_blocking(move || {
            let mut state = state
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            match &dispatch {
                // Scoped as the default too, so that our own warnings reach it.
                Some(d) => tracing::dispatcher::with_default(d, || {
                    emit_all(&logger, &mut state, &batch, d)
                }),
                None => {
                    tracing::dispatcher::get_default(|d| emit_all(&logger, &mut state, &batch, d))
                }
            }
        })
        .await;
        let not_recorded = handed.map_err(|e| {
            TargetError::retryable(format!("handing events to tracing failed: {e}"))
        })?;
        if not_recorded.is_empty() {
            Ok(())
        } else {
            // Not taken, for a cause an operator can remove (install a subscriber,
            // enable the logger): see the module docs.
            Err(TargetError::PartlyTaken {
                retry_later: not_recorded,
                rejected: Vec::new(),
            })
        }
    }
}
