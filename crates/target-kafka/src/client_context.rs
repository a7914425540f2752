//! librdkafka's log lines and client errors, as `tracing` events that name the target.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

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
#[derive(Debug, Clone, Default)]
pub(crate) struct LastClientError(Arc<Mutex<ClientErrors>>);

#[derive(Debug, Default)]
struct ClientErrors {
    last: Option<String>,
    /// The errors logged lately, the newest last: when, and how many identical ones
    /// were not logged since.
    logged: VecDeque<(String, Instant, u64)>,
}

/// An error logged is not logged again for this long: its repeats are counted and said
/// with the next line of it, as librdkafka says its own ("N identical error(s)
/// suppressed"). rdkafka 0.39 hands every error of a producer to the context twice
/// (once in `Client::poll_event`, once in `BaseProducer::poll`), and while the brokers
/// are down librdkafka reports the same few errors several times a second.
const REPEAT_QUIET: Duration = Duration::from_secs(30);

/// Distinct errors remembered for [`REPEAT_QUIET`] (they alternate: "1/1 brokers are
/// down", "0/1 brokers are down", the connection refused).
const REMEMBERED_ERRORS: usize = 8;

impl LastClientError {
    /// Records `error` (now) and returns the line to log, or `None` for a repeat of an
    /// error logged less than [`REPEAT_QUIET`] ago.
    fn note(&self, error: String, now: Instant) -> Option<String> {
        let mut e = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        e.last = Some(error.clone());
        if let Some(k) = e.logged.iter().position(|(m, _, _)| *m == error) {
            let (_, at, repeats) = &mut e.logged[k];
            if now.saturating_duration_since(*at) < REPEAT_QUIET {
                *repeats += 1;
                return None;
            }
            let repeats = *repeats;
            e.logged.remove(k);
            e.logged.push_back((error.clone(), now, 0));
            return Some(if repeats == 0 {
                error
            } else {
                format!("{error} ({repeats} identical error(s) suppressed)")
            });
        }
        if e.logged.len() >= REMEMBERED_ERRORS {
            e.logged.pop_front();
        }
        e.logged.push_back((error.clone(), now, 0));
        Some(error)
    }

    /// A record was confirmed: the client works again.
    pub(crate) fn clear(&self) {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).last = None;
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
            RDKafkaLogLevel::Emerg
            | RDKafkaLogLevel::Alert
            | RDKafkaLogLevel::Critical
            | RDKafkaLogLevel::Error => {
                tracing::error!(target_name = %name, facility = fac, "librdkafka: {message}")
            }
            RDKafkaLogLevel::Warning => {
                tracing::warn!(target_name = %name, facility = fac, "librdkafka: {message}")
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
        #[derive(Clone, Default)]
        struct Lines(Arc<Mutex<Vec<u8>>>);
        impl std::io::Write for Lines {
            fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(buf);
                Ok(buf.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let lines = Lines::default();
        let out = lines.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || out.clone())
            .with_ansi(false)
            .without_time()
            .finish();
        let ctx = LogContext::new("k", LastClientError::default());
        tracing::subscriber::with_default(subscriber, || calls(&ctx));
        let text = String::from_utf8(lines.0.lock().unwrap().clone()).unwrap();
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
    fn a_repeat_after_the_quiet_time_is_logged_with_the_count_of_those_left_out() {
        let errors = LastClientError::default();
        let t0 = Instant::now();
        assert_eq!(errors.note("e".into(), t0).as_deref(), Some("e"));
        assert_eq!(errors.note("e".into(), t0), None);
        assert_eq!(errors.note("e".into(), t0 + REPEAT_QUIET / 2), None);
        assert_eq!(
            errors.note("e".into(), t0 + REPEAT_QUIET).as_deref(),
            Some("e (2 identical error(s) suppressed)")
        );
        assert_eq!(errors.get().as_deref(), Some("e"));
    }
}
