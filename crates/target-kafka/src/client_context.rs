//! librdkafka's log lines and client errors, as `tracing` events that name the target.

use std::sync::{Arc, Mutex, PoisonError};

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
#[derive(Debug, Clone, Default)]
pub(crate) struct LastClientError(Arc<Mutex<Option<String>>>);

impl LastClientError {
    fn set(&self, error: String) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = Some(error);
    }

    /// A record was confirmed: the client works again.
    pub(crate) fn clear(&self) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = None;
    }

    pub(crate) fn get(&self) -> Option<String> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
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
        tracing::warn!(target_name = %self.target_name, "{message}");
        self.last_error.set(message);
    }
}
