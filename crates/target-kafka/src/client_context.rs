//! librdkafka's log lines and client errors, as `tracing` events that name the target.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use auditrail_core::repeats::{without_repeat_count, RepeatedLines, REPEAT_INTERVAL};

use rdkafka::client::ClientContext;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::error::KafkaError;

/// Routes librdkafka's logs to `tracing` (rdkafka's default uses the `log` crate).
#[derive(Debug, Clone)]
pub(crate) struct LogContext {
    target_name: String,
    last_error: LastClientError,
}

impl LogContext {
    /// `last_error` is kept across the target's producers (it is renewed at times).
    pub(crate) fn new(target_name: &str, last_error: LastClientError) -> LogContext {
        LogContext {
            target_name: target_name.to_owned(),
            last_error,
        }
    }
}

/// The client's last error ("Connection refused", "All broker connections are down"),
/// until a record is confirmed: while librdkafka retries inside `send`, the target has
/// no error of its own to say, and this is why it is not done (`Target::pending_cause`).
/// It also decides which client errors are logged ([`LastClientError::note`]).
#[derive(Debug, Clone)]
pub(crate) struct LastClientError(Arc<Mutex<ClientErrors>>);

impl Default for LastClientError {
    fn default() -> LastClientError {
        LastClientError::with_interval(REPEAT_INTERVAL)
    }
}

#[derive(Debug)]
struct ClientErrors {
    last: Option<String>,
    /// The errors in progress, said as states: rdkafka 0.39 hands every error of a
    /// producer to the context twice (once in `Client::poll_event`, once in
    /// `BaseProducer::poll`), and while the brokers are down librdkafka reports the
    /// same few errors several times a second.
    said: RepeatedLines<()>,
}

impl LastClientError {
    fn with_interval(interval: Duration) -> LastClientError {
        LastClientError(Arc::new(Mutex::new(ClientErrors {
            last: None,
            said: RepeatedLines::new(interval),
        })))
    }

    /// Records `error` (now) and returns the line to log: the error the first time,
    /// then at most once per interval `still: ERROR (N times in the last S s)`.
    fn note(&self, error: String, now: Instant) -> Option<String> {
        let mut e = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let said = e.said.note(&without_repeat_count(&error), (), now);
        e.last = Some(error);
        said
    }

    /// A librdkafka log line of an error or a warning: what to log of it now, if
    /// anything (it is not the client's error [`LastClientError::get`] gives).
    fn say(&self, line: &str) -> Option<String> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .said
            .note(&without_repeat_count(line), (), Instant::now())
    }

    /// A record was confirmed: the client works again. Returns the lines saying the
    /// errors in progress ended (`ended after S s (N times in all): ERROR`).
    pub(crate) fn clear(&self) -> Vec<String> {
        let mut e = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        e.last = None;
        e.said.ended(|_| true, Instant::now())
    }

    pub(crate) fn get(&self) -> Option<String> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .last
            .clone()
    }
}

impl ClientContext for LogContext {
    fn log(&self, level: RDKafkaLogLevel, fac: &str, message: &str) {
        let name = &self.target_name;
        match level {
            // Said as states, as the client errors are (a broker's connection refused
            // comes again every 30 s while the broker is down).
            RDKafkaLogLevel::Emerg
            | RDKafkaLogLevel::Alert
            | RDKafkaLogLevel::Critical
            | RDKafkaLogLevel::Error => {
                if let Some(said) = self.last_error.say(&format!("librdkafka: {message}")) {
                    tracing::error!(target_name = %name, facility = fac, "{said}")
                }
            }
            RDKafkaLogLevel::Warning => {
                if let Some(said) = self.last_error.say(&format!("librdkafka: {message}")) {
                    tracing::warn!(target_name = %name, facility = fac, "{said}")
                }
            }
            RDKafkaLogLevel::Notice | RDKafkaLogLevel::Info => {
                tracing::info!(target_name = %name, facility = fac, "librdkafka: {message}")
            }
            RDKafkaLogLevel::Debug => {
                tracing::debug!(target_name = %name, facility = fac, "librdkafka: {message}")
            }
        }
    }

    fn error(&self, error: KafkaError, reason: &str) {
        // Client-level errors (all brokers down, authentication, ...). Records are
        // still retried inside the delivery timeout; their reports decide the outcome.
        let message = format!("kafka client error: {error}: {reason}");
        if let Some(line) = self.last_error.note(message, Instant::now()) {
            tracing::warn!(target_name = %self.target_name, "{line}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use rdkafka::types::RDKafkaErrorCode;

    /// The lines `calls` logs through a context's `error`, captured.
    fn logged(calls: impl FnOnce(&LogContext)) -> Vec<String> {
        let ctx = LogContext::new("k", LastClientError::default());
        let (_, text) = auditrail_core::testing::logged(|| calls(&ctx));
        text.lines().map(str::to_owned).collect()
    }

    fn down(ctx: &LogContext, reason: &str) {
        ctx.error(KafkaError::Global(RDKafkaErrorCode::AllBrokersDown), reason);
    }

    #[test]
    fn a_client_error_handed_over_twice_is_logged_once() {
        // As rdkafka 0.39's producer does with each error, and librdkafka with the
        // same few errors while the brokers are down.
        let lines = logged(|ctx| {
            down(ctx, "1/1 brokers are down");
            down(ctx, "1/1 brokers are down");
            down(ctx, "0/1 brokers are down");
            down(ctx, "0/1 brokers are down");
            down(ctx, "1/1 brokers are down");
        });
        assert_eq!(lines.len(), 2, "{lines:#?}");
        assert!(lines[0].contains("kafka client error: ") && lines[0].contains("1/1 brokers"));
        assert!(lines[1].contains("0/1 brokers"), "{lines:#?}");
    }

    #[test]
    fn a_repeat_after_the_interval_is_logged_with_its_count_and_the_end_once() {
        let errors = LastClientError::default();
        let t0 = Instant::now();
        assert_eq!(errors.note("e".into(), t0).as_deref(), Some("e"));
        assert_eq!(errors.note("e".into(), t0), None);
        assert_eq!(errors.note("e".into(), t0 + REPEAT_INTERVAL / 2), None);
        assert_eq!(
            errors.note("e".into(), t0 + REPEAT_INTERVAL).as_deref(),
            Some("still: e (3 times in the last 60 s)")
        );
        assert_eq!(errors.get().as_deref(), Some("e"));
        let ended = errors.clear();
        assert_eq!(ended.len(), 1, "{ended:?}");
        assert!(ended[0].ends_with("(4 times in all): e"), "{ended:?}");
        assert!(errors.clear().is_empty());
        assert_eq!(errors.get(), None);
    }
}
