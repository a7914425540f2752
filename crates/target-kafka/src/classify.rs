//! Which Kafka errors are worth retrying, and how a failed record is explained.
//!
//! librdkafka already retries transient errors inside the delivery timeout (leader
//! changes, disconnects, timeouts), so an error that reaches a delivery report is
//! either one of those that outlasted the timeout (retryable: the dispatcher sends the
//! batch again later) or one that no retry can fix (permanent: the record is
//! dead-lettered). Codes not listed as permanent are treated as retryable: retrying
//! too long is visible in the stats and logs, dropping audit data is not.

use rdkafka::error::{KafkaError, RDKafkaErrorCode};

/// What to do with a record that failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Failure {
    /// Send it again later.
    Retry(String),
    /// It will never be taken: dead-letter it with this reason.
    Reject(String),
}

/// Facts for the error message.
pub(crate) struct RecordFacts<'a> {
    pub topic: &'a str,
    pub record_bytes: usize,
    pub message_max_bytes: u64,
}

/// The permanent cause behind `code`, if it is permanent.
pub(crate) fn permanent_cause(code: RDKafkaErrorCode, facts: &RecordFacts<'_>) -> Option<String> {
    use RDKafkaErrorCode as C;
    let cause = match code {
        C::UnknownTopic | C::UnknownPartition => {
            "the topic does not exist (and the cluster does not create it automatically: \
             create it, or allow auto-creation)"
                .to_owned()
        }
        C::MessageSizeTooLarge | C::InvalidMessageSize | C::MessageBatchTooLarge => format!(
            "the record ({} bytes with key and headers) is too large: the producer's \
             `message.max.bytes` is {} and the broker or topic may allow less \
             (`message.max.bytes` / `max.message.bytes`)",
            facts.record_bytes, facts.message_max_bytes
        ),
        C::TopicAuthorizationFailed
        | C::ClusterAuthorizationFailed
        | C::TransactionalIdAuthorizationFailed => {
            "not authorized to write to this topic (check the ACLs of the principal in \
             `properties`)"
                .to_owned()
        }
        C::Authentication
        | C::SaslAuthenticationFailed
        | C::UnsupportedSASLMechanism
        | C::IllegalSASLState => {
            "authentication with the brokers failed (check the SASL/SSL settings in \
             `properties`)"
                .to_owned()
        }
        C::InvalidTopic => "the broker says the topic name is invalid".to_owned(),
        C::InvalidRecord | C::InvalidTimestamp | C::InvalidDifferentRecord => {
            "the broker refused the record as invalid".to_owned()
        }
        C::UnsupportedCompressionType | C::UnsupportedForMessageFormat => {
            "the broker does not support the record format or compression (try another \
             `compression`)"
                .to_owned()
        }
        C::InvalidRequiredAcks | C::PolicyViolation => {
            "the broker's configuration refuses this producer's settings".to_owned()
        }
        _ => return None,
    };
    Some(cause)
}

/// Classifies a failed record.
pub(crate) fn classify(error: &KafkaError, facts: &RecordFacts<'_>) -> Failure {
    let topic = facts.topic;
    match error.rdkafka_error_code() {
        Some(code) => match permanent_cause(code, facts) {
            Some(cause) => Failure::Reject(format!("Kafka topic `{topic}`: {cause} [{error}]")),
            None => Failure::Retry(format!("Kafka topic `{topic}`: {error}")),
        },
        None => Failure::Retry(format!("Kafka topic `{topic}`: {error}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts() -> RecordFacts<'static> {
        RecordFacts {
            topic: "audit-generic",
            record_bytes: 2_000_123,
            message_max_bytes: 1_000_000,
        }
    }

    fn of(code: RDKafkaErrorCode) -> Failure {
        classify(&KafkaError::MessageProduction(code), &facts())
    }

    #[test]
    fn transient_conditions_are_retryable() {
        use RDKafkaErrorCode as C;
        for code in [
            C::MessageTimedOut,
            C::AllBrokersDown,
            C::BrokerTransportFailure,
            C::NotLeaderForPartition,
            C::LeaderNotAvailable,
            C::RequestTimedOut,
            C::NotEnoughReplicas,
            C::NotEnoughReplicasAfterAppend,
            C::NetworkException,
            C::UnknownTopicOrPartition,
            C::QueueFull,
            C::PurgeQueue,
            C::Fatal,
        ] {
            assert!(matches!(of(code), Failure::Retry(_)), "{code:?}");
        }
    }

    #[test]
    fn permanent_conditions_name_the_topic_and_the_cause() {
        use RDKafkaErrorCode as C;
        for (code, needle) in [
            (C::UnknownTopic, "does not exist"),
            (C::MessageSizeTooLarge, "2000123 bytes"),
            (C::MessageSizeTooLarge, "message.max.bytes` is 1000000"),
            (C::TopicAuthorizationFailed, "not authorized"),
            (C::SaslAuthenticationFailed, "authentication"),
            (C::InvalidTopic, "invalid"),
        ] {
            match of(code) {
                Failure::Reject(m) => {
                    assert!(m.contains("Kafka topic `audit-generic`"), "{m}");
                    assert!(m.contains(needle), "{code:?}: {m}");
                }
                other => panic!("{code:?} should be permanent, got {other:?}"),
            }
        }
    }
}
