//! librdkafka's log lines and client errors, as `tracing` events that name the target.

use rdkafka::client::ClientContext;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::error::KafkaError;

/// Routes librdkafka's logs to `tracing` (rdkafka's default uses the `log` crate).
#[derive(Debug, Clone)]
pub(crate) struct LogContext {
    target_name: String,
}

impl LogContext {
    pub(crate) fn new(target_name: &str) -> LogContext {
        LogContext {
            target_name: target_name.to_owned(),
        }
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
        tracing::warn!(target_name = %self.target_name, "kafka client error: {error}: {reason}");
    }
}
