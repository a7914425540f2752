//! The `kafka` target: one idempotent librdkafka producer, one record per event,
//! `Ok` only once every record of the batch has a successful delivery report.

use std::collections::{HashSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use auditrail_core::{async_trait, BuildContext, BuildError, Event, EventId, Target, TargetError};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, Message, OwnedHeaders, OwnedMessage};
use rdkafka::producer::{DeliveryFuture, FutureProducer, FutureRecord, Producer};
use tokio::time::Instant;

use crate::classify::{classify, Failure, RecordFacts};
use crate::client_context::{LastClientError, LogContext};
use crate::config::RecordKey;
use crate::producer_settings::ProducerSettings;
use crate::record_signer::RecordSigner;
use crate::topic_template::TopicTemplate;
use crate::{HEADER_EVENT_ID, HEADER_NODE, HEADER_ROUTING_KEY, HEADER_TOPIC};

/// Extra time, beyond librdkafka's own delivery timeout, that `send` waits for the
/// delivery reports before it calls the batch retryable.
const REPORT_GRACE: Duration = Duration::from_secs(5);

/// While librdkafka's local queue is full and none of our own records is pending
/// (only possible if the queue limits are tiny), wait this long between attempts.
const QUEUE_FULL_PAUSE: Duration = Duration::from_millis(5);

/// After this many consecutive sends in which no record was confirmed, the producer
/// is replaced by a new instance. An idempotent producer whose brokers lost its
/// producer state (a broker restarted without persistent storage, a rebuilt cluster)
/// can otherwise keep failing forever; a new instance gets a new producer id.
const RENEW_AFTER_FAILED_SENDS: u32 = 3;

type Producer_ = FutureProducer<LogContext>;

/// A Kafka producer target (see the crate docs for the record layout and the
/// guarantees).
pub struct KafkaTarget {
    target_name: String,
    settings: ProducerSettings,
    producer: Producer_,
    template: TopicTemplate,
    key: RecordKey,
    /// Signs each record (`signing_key`), or `None`.
    signer: Option<RecordSigner>,
    report_wait: Duration,
    /// Events of the batch being retried that Kafka already confirmed: the retry of
    /// the same batch does not send them again (no duplicate for a partial failure).
    confirmed_earlier: HashSet<EventId>,
    /// Consecutive sends that ended retryable with no record confirmed.
    failed_sends: u32,
    /// The client's last error, for [`Target::pending_cause`].
    last_client_error: LastClientError,
}

impl std::fmt::Debug for KafkaTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Not the producer settings: they may hold SASL credentials.
        f.debug_struct("KafkaTarget")
            .field("target_name", &self.target_name)
            .field("report_wait", &self.report_wait)
            .field("failed_sends", &self.failed_sends)
            .finish_non_exhaustive()
    }
}

impl KafkaTarget {
    pub(crate) fn new(
        ctx: &BuildContext,
        settings: ProducerSettings,
        template: TopicTemplate,
        key: RecordKey,
        delivery_timeout: Duration,
        signer: Option<RecordSigner>,
    ) -> Result<KafkaTarget, BuildError> {
        let last_client_error = LastClientError::default();
        let producer =
            create_producer(&ctx.target_name, &settings, &last_client_error).map_err(|e| {
                BuildError::Config(format!("librdkafka refused the producer settings: {e}"))
            })?;
        Ok(KafkaTarget {
            target_name: ctx.target_name.clone(),
            settings,
            producer,
            template,
            key,
            signer,
            report_wait: delivery_timeout + REPORT_GRACE,
            confirmed_earlier: HashSet::new(),
            failed_sends: 0,
            last_client_error,
        })
    }

    /// An idempotent producer that hit a fatal error (e.g. the broker lost its
    /// state) refuses every further record; a new producer instance starts clean.
    fn renew_after_fatal_error(&mut self) -> Result<(), TargetError> {
        let Some((code, reason)) = self.producer.client().fatal_error() else {
            return Ok(());
        };
        tracing::error!(target_name = %self.target_name, ?code, %reason,
            "kafka producer hit a fatal error; starting a new producer instance");
        self.renew(&format!("fatal error: {reason}"))
    }

    /// Replaces the producer; the old one is destroyed off the async threads
    /// (librdkafka's destroy may block briefly).
    fn renew(&mut self, why: &str) -> Result<(), TargetError> {
        let fresh = create_producer(&self.target_name, &self.settings, &self.last_client_error)
            .map_err(|e| {
                TargetError::retryable(format!(
                "the Kafka producer must be replaced ({why}) and a new one cannot be created: {e}"
            ))
            })?;
        let old = std::mem::replace(&mut self.producer, fresh);
        tokio::task::spawn_blocking(move || drop(old));
        self.failed_sends = 0;
        Ok(())
    }

    fn headers(event: &Event, id: &str) -> OwnedHeaders {
        let mut h = OwnedHeaders::new_with_capacity(4)
            .insert(Header {
                key: HEADER_TOPIC,
                value: Some(event.topic.as_str()),
            })
            .insert(Header {
                key: HEADER_EVENT_ID,
                value: Some(id),
            })
            .insert(Header {
                key: HEADER_NODE,
                value: Some(event.node.as_str()),
            });
        if let Some(k) = &event.routing_key {
            h = h.insert(Header {
                key: HEADER_ROUTING_KEY,
                value: Some(k.as_str()),
            });
        }
        h
    }

    fn facts<'a>(&self, topic: &'a str, record_bytes: usize) -> RecordFacts<'a> {
        RecordFacts {
            topic,
            record_bytes,
            message_max_bytes: self.settings.message_max_bytes(),
        }
    }

    /// Waits for one record's delivery report.
    async fn report(&self, fut: DeliveryFuture, deadline: Instant) -> Result<(), Failure> {
        match tokio::time::timeout_at(deadline, fut).await {
            Err(_) => Err(Failure::Retry(format!(
                "no delivery report from Kafka within {:?}",
                self.report_wait
            ))),
            Ok(Err(_canceled)) => Err(Failure::Retry(
                "the Kafka producer was closed before the delivery report".into(),
            )),
            Ok(Ok(Ok(_delivery))) => Ok(()),
            Ok(Ok(Err((error, message)))) => Err(classify(
                &error,
                &self.facts(message.topic(), owned_size(&message)),
            )),
        }
    }
}

fn create_producer(
    target_name: &str,
    settings: &ProducerSettings,
    last_error: &LastClientError,
) -> Result<Producer_, KafkaError> {
    settings
        .client_config()
        .create_with_context(LogContext::new(target_name, last_error.clone()))
}

fn owned_size(m: &OwnedMessage) -> usize {
    m.payload().map_or(0, <[u8]>::len) + m.key().map_or(0, <[u8]>::len) + headers_len(m.headers())
}

fn headers_len(h: Option<&OwnedHeaders>) -> usize {
    use rdkafka::message::Headers;
    h.map_or(0, |h| {
        h.iter()
            .map(|h| h.key.len() + h.value.map_or(0, <[u8]>::len))
            .sum()
    })
}

#[async_trait]
impl Target for KafkaTarget {
    async fn send(&mut self, batch: &[Arc<Event>]) -> Result<(), TargetError> {
        self.renew_after_fatal_error()?;
        if self.failed_sends >= RENEW_AFTER_FAILED_SENDS {
            tracing::warn!(target_name = %self.target_name, failed_sends = self.failed_sends,
                "no record confirmed by Kafka in several attempts; starting a new producer instance");
            self.renew("no record confirmed in several attempts")?;
        }
        let deadline: Instant =
            auditrail_core::limits::deadline_after(std::time::Instant::now(), self.report_wait)
                .into();
        let mut outcome: Vec<Option<Result<(), Failure>>> = vec![None; batch.len()];
        let mut pending: VecDeque<(usize, DeliveryFuture)> = VecDeque::with_capacity(batch.len());
        let mut topic_buf = String::new();
        let mut payload = Vec::with_capacity(512);
        let mut confirmed_before = 0usize;

        for (i, event) in batch.iter().enumerate() {
            if self.confirmed_earlier.contains(&event.id) {
                outcome[i] = Some(Ok(()));
                confirmed_before += 1;
                continue;
            }
            let topic: &str = match self.template.fixed() {
                Some(t) => t,
                None => match self.template.render_into(event, &mut topic_buf) {
                    Ok(()) => &topic_buf,
                    Err(e) => {
                        outcome[i] = Some(Err(Failure::Reject(e.to_string())));
                        continue;
                    }
                },
            };
            payload.clear();
            event.write_json(&mut payload);
            let mut id_buf = [0u8; 36];
            let id: &str = event.id.as_uuid().hyphenated().encode_lower(&mut id_buf);
            let key: Option<&str> = match self.key {
                RecordKey::RoutingKey => Some(
                    event
                        .routing_key
                        .as_ref()
                        .map_or(event.node.as_str(), |k| k.as_str()),
                ),
                RecordKey::Node => Some(event.node.as_str()),
                RecordKey::EventId => Some(id),
                RecordKey::None => None,
            };
            let mut headers = Self::headers(event, id);
            if let Some(signer) = &self.signer {
                headers = signer.sign(headers, topic, key.map(str::as_bytes), &payload);
            }
            let mut record: FutureRecord<'_, str, [u8]> = FutureRecord::to(topic)
                .payload(payload.as_slice())
                .headers(headers);
            if let Some(k) = key {
                record = record.key(k);
            }
            loop {
                match self.producer.send_result(record) {
                    Ok(fut) => {
                        pending.push_back((i, fut));
                        break;
                    }
                    Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                        // librdkafka's local queue is full: make room by waiting for
                        // our oldest record's report, then try again.
                        record = back;
                        if let Some((j, fut)) = pending.pop_front() {
                            outcome[j] = Some(self.report(fut, deadline).await);
                        } else if Instant::now() < deadline {
                            tokio::time::sleep(QUEUE_FULL_PAUSE).await;
                        } else {
                            outcome[i] = Some(Err(Failure::Retry(format!(
                                "Kafka topic `{topic}`: the producer's local queue stayed full"
                            ))));
                            break;
                        }
                    }
                    Err((error, back)) => {
                        let size = back.payload.map_or(0, <[u8]>::len)
                            + back.key.map_or(0, str::len)
                            + headers_len(back.headers.as_ref());
                        outcome[i] = Some(Err(classify(&error, &self.facts(topic, size))));
                        break;
                    }
                }
            }
        }
        for (i, fut) in pending {
            outcome[i] = Some(self.report(fut, deadline).await);
        }

        let mut retry: Vec<String> = Vec::new();
        let mut rejected: Vec<(usize, String)> = Vec::new();
        let mut confirmed: Vec<EventId> = Vec::new();
        if confirmed_now(&outcome) > confirmed_before {
            for line in self.last_client_error.clear() {
                tracing::info!(target_name = %self.target_name, "{line}");
            }
        }
        for (i, o) in outcome.into_iter().enumerate() {
            match o {
                Some(Ok(())) => confirmed.push(batch[i].id),
                Some(Err(Failure::Reject(why))) => rejected.push((i, why)),
                Some(Err(Failure::Retry(why))) => retry.push(why),
                None => retry.push("no outcome recorded for this record".into()),
            }
        }
        if let Some(first) = retry.first() {
            let message = format!(
                "{} of {} record(s) not confirmed by Kafka (first: {first}); the {} confirmed \
                 record(s) will not be sent again",
                retry.len(),
                batch.len(),
                confirmed.len()
            );
            // Only records confirmed by this attempt show that the producer works.
            if confirmed.len() == confirmed_before {
                self.failed_sends += 1;
            } else {
                self.failed_sends = 0;
            }
            self.confirmed_earlier.extend(confirmed);
            // A fatal producer error shows up as failed records: renew now so the
            // retry does not wait for the next call to notice.
            let _ = self.renew_after_fatal_error();
            return Err(TargetError::retryable(message));
        }
        self.confirmed_earlier.clear();
        self.failed_sends = 0;
        if rejected.is_empty() {
            Ok(())
        } else {
            Err(TargetError::Rejected { rejected })
        }
    }

    fn pending_cause(&self) -> Option<String> {
        self.last_client_error.get()
    }
}

/// Records of a send's outcome that Kafka confirmed (or had confirmed earlier).
fn confirmed_now(outcome: &[Option<Result<(), Failure>>]) -> usize {
    outcome.iter().filter(|o| matches!(o, Some(Ok(())))).count()
}
