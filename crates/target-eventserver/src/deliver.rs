//! Delivering one batch, splitting it when the server refuses part of it.
//!
//! The server takes a batch all or nothing. When it refuses a batch for a reason that
//! may concern only some events (400 invalid event, 403 routing key not owned, 413 too
//! large), the batch is split in halves and each half sent again, down to single events:
//! only the events the server refuses on their own are given up, the others are stored.

use std::future::Future;
use std::pin::Pin;

use crate::client::{Client, PostError};
use crate::metrics::Metrics;

/// The server refused these events for good: (index in the batch, the server's answer).
pub(crate) type Refused = Vec<(usize, String)>;

/// Sends `payloads`; `Ok` lists the events refused for good (every other one is
/// stored). `Err` is retryable: nothing may be assumed stored (resending is safe, the
/// server de-duplicates by event id).
///
/// A success answer that is not the event server's (see [`PostError::NotTheServersAnswer`])
/// is logged here at error level once per streak of them, for both modes: it means a
/// wrong `url`, which retries will not fix, and every retry logging the page would
/// drown the log.
pub(crate) fn deliver<'a>(
    client: &'a Client,
    metrics: &'a Metrics,
    target: &'a str,
    payloads: &'a [&'a [u8]],
) -> Pin<Box<dyn Future<Output = Result<Refused, PostError>> + Send + 'a>> {
    Box::pin(async move {
        if payloads.is_empty() {
            return Ok(Vec::new());
        }
        match client.post(payloads).await {
            Err(PostError::NotTheServersAnswer(answer)) => {
                if metrics.foreign_answer() {
                    tracing::error!(
                        target_name = %target,
                        error = %answer,
                        "the target's url does not answer like an auditrail event server: \
                         nothing is taken as delivered; the events are kept and sent again \
                         until the event server answers (check `url`)"
                    );
                }
                Err(PostError::NotTheServersAnswer(answer))
            }
            Ok(a) => {
                if metrics.servers_answer() {
                    tracing::info!(
                        target_name = %target,
                        "the event server answers again: delivery resumes"
                    );
                }
                if a.durable == Some(false) && metrics.note_not_durable() {
                    tracing::warn!(
                        "the event server answered durable = false (it runs a flush policy): \
                         events it acknowledged can be lost if it crashes before its next flush"
                    );
                }
                metrics.delivered(payloads.len() as u64, a.accepted, a.duplicates);
                Ok(Vec::new())
            }
            Err(PostError::Permanent { message, split }) if !split || payloads.len() == 1 => {
                Ok((0..payloads.len()).map(|i| (i, message.clone())).collect())
            }
            Err(PostError::Permanent { .. }) => {
                let mid = payloads.len() / 2;
                let mut refused = deliver(client, metrics, target, &payloads[..mid]).await?;
                let right = deliver(client, metrics, target, &payloads[mid..]).await?;
                refused.extend(right.into_iter().map(|(i, m)| (i + mid, m)));
                Ok(refused)
            }
            Err(e) => Err(e),
        }
    })
}
