//! SIGHUP: check the stores held at start again and take back those that pass
//! (`Reloader::recheck_held`), then read the config file again and apply what can
//! change while the server runs (keys, stats keys, read policy, TLS certificate and
//! key: `RunningServer::reload`; the log level: here). Log rotation tools and `systemctl reload` send SIGHUP; it
//! never stops the server. A config that cannot be read or is invalid changes nothing:
//! the running one stays and the log says why.

use std::collections::BTreeSet;

use std::sync::Arc;

use auditrail_eventserver::config::Reading;
use auditrail_eventserver::server::{Reloader, RunningServer, RELOADED_SETTINGS};
use serde_json::{Map, Value};
use tokio::signal::unix::{signal, Signal, SignalKind};
use tracing_subscriber::EnvFilter;

use super::Args;
use crate::commands::{LogFilter, DEFAULT_LOG_FILTER};

/// SIGHUPs as they arrive.
pub(super) struct Hangups(Option<Signal>);

impl Hangups {
    /// Takes over SIGHUP (its default action would end the process at once).
    pub(super) fn listen() -> Hangups {
        match signal(SignalKind::hangup()) {
            Ok(s) => Hangups(Some(s)),
            Err(e) => {
                tracing::warn!("cannot listen for SIGHUP ({e}): no reload by signal");
                Hangups(None)
            }
        }
    }

    /// The next SIGHUP (never, when it could not be watched).
    pub(super) async fn next(&mut self) {
        match &mut self.0 {
            Some(s) => {
                s.recv().await;
            }
            None => std::future::pending().await,
        }
    }
}

/// The process's log filter: `log_level` of the config, else `RUST_LOG`, else the
/// default.
pub(super) struct LogLevel {
    handle: Option<LogFilter>,
    /// The filter of the start (from `RUST_LOG` or the default), for a config that
    /// drops `log_level`.
    start: String,
}

impl LogLevel {
    pub(super) fn new(handle: Option<LogFilter>) -> LogLevel {
        let start = std::env::var("RUST_LOG")
            .ok()
            .filter(|v| EnvFilter::try_new(v).is_ok())
            .unwrap_or_else(|| DEFAULT_LOG_FILTER.to_owned());
        LogLevel { handle, start }
    }

    /// Checks a `log_level` value without applying it.
    fn parse(&self, level: Option<&str>) -> Result<EnvFilter, LogLevelError> {
        let text = level.unwrap_or(&self.start);
        EnvFilter::try_new(text).map_err(|source| LogLevelError::Parse {
            text: text.to_owned(),
            source,
        })
    }

    /// Applies `log_level` (`None`: the filter of the start).
    pub(super) fn apply(&self, level: Option<&str>) -> Result<(), LogLevelError> {
        let filter = self.parse(level)?;
        if let Some(handle) = &self.handle {
            handle.reload(filter).map_err(LogLevelError::Apply)?;
        }
        Ok(())
    }
}

/// Why a `log_level` cannot be put in place ([`LogLevel::apply`]).
#[derive(Debug, thiserror::Error)]
pub(super) enum LogLevelError {
    /// `tracing`'s `EnvFilter` does not read it.
    #[error("log_level {text:?}: {source}")]
    Parse {
        /// The value.
        text: String,
        /// Why.
        #[source]
        source: tracing_subscriber::filter::ParseError,
    },
    /// The subscriber's filter cannot be replaced (it went away).
    #[error("log_level: cannot be applied: {0}")]
    Apply(#[source] tracing_subscriber::reload::Error),
}

/// The top-level settings (keys and tables) that differ between the start's and
/// `now`'s, and that only a start applies: added, removed or changed, in name order.
fn pending(start: &Map<String, Value>, now: &Map<String, Value>) -> Vec<String> {
    let names: BTreeSet<&String> = start.keys().chain(now.keys()).collect();
    names
        .into_iter()
        .filter(|name| !RELOADED_SETTINGS.contains(&name.as_str()))
        .filter(|name| start.get(*name) != now.get(*name))
        .cloned()
        .collect()
}

/// What a reload needs, shared with the threads reloads run on.
struct Shared {
    args: Args,
    registry: auditrail::Registry,
    log: LogLevel,
    /// The settings of the start (`ServerConfig::settings`).
    start: Map<String, Value>,
    running: Reloader,
}

/// Starts reloads, each on a thread of its own.
pub(super) struct Reloads(Arc<Shared>);

impl Reloads {
    pub(super) fn new(
        args: Args,
        registry: auditrail::Registry,
        log: LogLevel,
        start: Map<String, Value>,
        running: &RunningServer,
    ) -> Reloads {
        Reloads(Arc::new(Shared {
            args,
            registry,
            log,
            start,
            running: running.reloader(),
        }))
    }

    /// Starts one reload ([`reload`]) on a new thread: the receiver completes when it
    /// is over (its sender dropped). A thread left waiting on a file at the shutdown
    /// does not hold the process's exit.
    pub(super) fn start(&self) -> tokio::sync::oneshot::Receiver<()> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let shared = Arc::clone(&self.0);
        let spawned = std::thread::Builder::new()
            .name("auditrail-reload".into())
            .spawn(move || {
                let s = &*shared;
                reload(&s.args, &s.registry, &s.running, &s.log, &s.start);
                drop(tx);
            });
        if let Err(e) = spawned {
            tracing::error!(
                "SIGHUP: cannot start the reload ({e}): the running configuration is kept"
            );
        }
        rx
    }
}

/// One reload (the held stores' re-check, then the config file); every outcome is
/// logged, none stops the server. `start` is the
/// settings of the start (`ServerConfig::settings`), to name what changed but waits
/// for the next start.
fn reload(
    args: &Args,
    registry: &auditrail::Registry,
    running: &Reloader,
    log: &LogLevel,
    start: &Map<String, Value>,
) {
    // Whatever the config file: an operator who restored a held store's files sends
    // SIGHUP to have it taken back (each outcome is logged there).
    running.recheck_held();
    let Some(file) = &args.config else {
        tracing::warn!(
            "SIGHUP: the server runs on its embedded defaults (no --config): nothing to reload"
        );
        return;
    };
    let file = file.display();
    // Said first: a file that blocks (a hung mount) leaves this as the last line.
    tracing::info!("SIGHUP: reading {file} again");
    let kept = "the running configuration is kept";
    let config = match args.config(registry, Reading::Again) {
        Ok(c) => c,
        Err(e) => {
            // Each cause once: a read error holds the OS error in its text and as its
            // source, which `{:#}` said twice.
            let why = crate::commands::output::describe(&e);
            tracing::error!("SIGHUP: {file} not reloaded, {kept}: {why}");
            return;
        }
    };
    // Checked before anything is swapped: all or nothing.
    if let Err(e) = log.parse(config.log_level.as_deref()) {
        let origin = config.origin("log_level");
        tracing::error!("SIGHUP: {file} not reloaded, {kept}: {origin}: {e}");
        return;
    }
    let done = match running.reload(&config) {
        Ok(done) => done,
        Err(e) => {
            tracing::error!("SIGHUP: {file} not reloaded, {kept}: {e}");
            return;
        }
    };
    if let Err(e) = log.apply(config.log_level.as_deref()) {
        // Parsed above; a subscriber that went away is the only way here.
        tracing::warn!("SIGHUP: {e}");
    }
    tracing::info!(
        keys = done.keys,
        stats_keys = done.stats_keys,
        tls_reloaded = done.tls,
        recent_needs_key = done.recent_needs_key,
        log_level = config.log_level.as_deref().unwrap_or(&log.start),
        "SIGHUP: {file} reloaded (keys, stats keys, read policy, TLS files, log level)"
    );
    let pending = pending(start, &config.settings);
    if !pending.is_empty() {
        // Not applied, and not forgotten: the next start takes them.
        tracing::warn!(
            "SIGHUP: {file}: {} changed since the start; applied at the next start only",
            pending.join(", ")
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(json: serde_json::Value) -> Map<String, Value> {
        match json {
            Value::Object(m) => m,
            _ => unreachable!(),
        }
    }

    #[test]
    fn pending_names_what_changed_was_added_or_removed_and_only_start_applies() {
        let start = settings(serde_json::json!({
            "retention": "30d", "keys": [{"key": "a"}], "max_body_bytes": 10,
            "destinations": [{"type": "store", "path": "s"}]
        }));
        let now = settings(serde_json::json!({
            "retention": "7d", "keys": [{"key": "b"}], "listen": "0.0.0.0:1",
            "destinations": [{"type": "store", "path": "s"}], "log_level": "debug"
        }));
        assert_eq!(
            pending(&start, &now),
            ["listen", "max_body_bytes", "retention"]
        );
        assert!(pending(&start, &start).is_empty());
    }
}
