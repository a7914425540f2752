//! Delivering one batch, splitting it when the server refuses part of it.
//!
//! The server takes a batch all or nothing. When it refuses a batch for a reason that
//! may concern only some events (400 invalid event, 403 routing key not owned, 422
//! unrouted, 413 too large), the events it refuses on their own are found and given
//! up, the others are stored:
//!
//! - an answer that lists the events at fault (`events`, docs/protocol.md: a server
//!   lists every one, up to a bound) refuses those: they are given up together, each
//!   with the server's reason, and the rest of the batch is sent again as ONE request
//!   (a batch of old events past a store's retention costs one refused request, not
//!   one per event). With `server_keys` only a list the server's signature covers is
//!   taken (client.rs);
//! - else an answer that names the event at fault (`line`) refuses that event alone,
//!   and the rest is sent again as one request (an older server);
//! - any other such answer splits the batch in halves, each sent again, down to single
//!   events.
//!
//! A part sent again is any set of the batch's events (not only a run of them): its
//! body's line `l` is its `l`-th event. The work is done front first ([`Split`]): at
//! every moment the events before the first one still to send are settled (stored, or
//! refused for good), so that the spool sender can acknowledge them and dead-letter
//! the refused ones as they are found, not only when the whole batch is settled. A
//! run stopped half-way keeps what it settled.

use std::collections::{BTreeMap, VecDeque};

use crate::client::{Client, PostError};
use crate::metrics::Metrics;

/// The server refused these events for good: (index in the batch, the server's answer).
pub(crate) type Refused = Vec<(usize, String)>;

/// One batch's delivery, front first (see the module docs).
pub(crate) struct Split<'a> {
    payloads: &'a [&'a [u8]],
    /// Parts still to send, each as one request, front first; each part's indices are
    /// ascending, and every part's first index is after the previous part's.
    work: VecDeque<Vec<usize>>,
    /// Events refused for good, not yet returned: returned once every event before
    /// them is settled.
    refused: BTreeMap<usize, String>,
    /// Events settled from the batch's start on: every event before this index is
    /// stored or refused for good (and returned by [`Split::step`]).
    settled: usize,
    /// Events the server took that its answers counted not durable so far.
    not_durable: u64,
}

impl<'a> Split<'a> {
    pub(crate) fn new(payloads: &'a [&'a [u8]]) -> Split<'a> {
        let mut work = VecDeque::new();
        if !payloads.is_empty() {
            work.push_back((0..payloads.len()).collect());
        }
        Split {
            payloads,
            work,
            refused: BTreeMap::new(),
            settled: 0,
            not_durable: 0,
        }
    }

    /// Every event is settled.
    pub(crate) fn is_done(&self) -> bool {
        self.work.is_empty() && self.refused.is_empty()
    }

    /// How many events from the batch's start are settled.
    pub(crate) fn settled(&self) -> usize {
        self.settled
    }

    /// How many of the events stored so far the server answered not on its stable
    /// storage yet (its `notDurable`; a whole request answered `durable: false`
    /// without it).
    pub(crate) fn not_durable(&self) -> u64 {
        self.not_durable
    }

    /// Sends the front part once. `Ok`: the events refused for good that this step
    /// settled (indices in the batch; possibly none). `Err` is retryable, and the
    /// front part is kept: the next step sends it again (nothing more is assumed
    /// stored; resending is safe, the server de-duplicates by event id).
    pub(crate) async fn step(
        &mut self,
        client: &Client,
        metrics: &Metrics,
        target: &str,
    ) -> Result<Refused, PostError> {
        let Some(part) = self.work.pop_front() else {
            return Ok(self.take_settled());
        };
        let bodies: Vec<&[u8]> = part.iter().map(|&i| self.payloads[i]).collect();
        match post(client, metrics, target, &bodies).await {
            Ok(not_durable) => self.not_durable += not_durable,
            Err(PostError::Permanent { message, split, .. }) if !split || part.len() == 1 => {
                self.refused
                    .extend(part.iter().map(|&i| (i, message.clone())));
            }
            Err(PostError::Permanent {
                message,
                line,
                listed,
                ..
            }) => {
                if part.len() == self.payloads.len() && listed.is_empty() {
                    tracing::warn!(
                        target_name = %target,
                        error = %message,
                        events = part.len(),
                        "the event server refused a batch for a reason that may concern only \
                         some of its events: sending it again in parts to find the events it \
                         refuses on their own (they go to the dead-letter file)"
                    );
                }
                // The body's line `l` is the part's `l`-th event: one event a line.
                let at = |l: u64| {
                    usize::try_from(l)
                        .ok()
                        .filter(|&l| (1..=part.len()).contains(&l))
                        .map(|l| part[l - 1])
                };
                let mut given_up: BTreeMap<usize, String> = BTreeMap::new();
                let mut foreign = false;
                for (l, reason) in listed {
                    match at(l) {
                        Some(i) => {
                            given_up.insert(i, reason);
                        }
                        None => foreign = true,
                    }
                }
                if foreign {
                    // A list naming lines this request does not have is not its list.
                    given_up.clear();
                }
                if given_up.is_empty() {
                    if let Some(i) = line.and_then(at) {
                        given_up.insert(i, message);
                    }
                }
                if given_up.is_empty() {
                    let (front, back) = part.split_at(part.len() / 2);
                    self.work.push_front(back.to_vec());
                    self.work.push_front(front.to_vec());
                } else {
                    let rest: Vec<usize> = part
                        .iter()
                        .copied()
                        .filter(|i| !given_up.contains_key(i))
                        .collect();
                    if !rest.is_empty() {
                        self.work.push_front(rest);
                    }
                    self.refused.append(&mut given_up);
                }
            }
            Err(e) => {
                self.work.push_front(part);
                return Err(e);
            }
        }
        Ok(self.take_settled())
    }

    /// The refused events before the first event still to send: settled, returned.
    fn take_settled(&mut self) -> Refused {
        let front = self
            .work
            .front()
            .and_then(|p| p.first().copied())
            .unwrap_or(self.payloads.len());
        let later = self.refused.split_off(&front);
        let settled = std::mem::replace(&mut self.refused, later);
        self.settled = front;
        settled.into_iter().collect()
    }
}

/// What [`deliver`] did with a batch.
#[derive(Debug, Default)]
pub(crate) struct Delivered {
    /// The events refused for good (every other one is stored).
    pub(crate) refused: Refused,
    /// How many of the stored ones the server answered not on its stable storage.
    pub(crate) not_durable: u64,
}

/// Sends `payloads`. `Err` is retryable: nothing may be assumed stored (resending is
/// safe, the server de-duplicates by event id).
pub(crate) async fn deliver(
    client: &Client,
    metrics: &Metrics,
    target: &str,
    payloads: &[&[u8]],
) -> Result<Delivered, PostError> {
    let mut split = Split::new(payloads);
    let mut refused = Vec::new();
    while !split.is_done() {
        refused.append(&mut split.step(client, metrics, target).await?);
    }
    Ok(Delivered {
        refused,
        not_durable: split.not_durable(),
    })
}

/// The key (`ed25519:<64 hex>`) that validly signed an answer or receipt, when the
/// answer was refused only because that key is not one of `server_keys`: the server's
/// key rotated, or another server at the url, which the log says apart from a url that
/// reaches no event server at all.
fn untrusted_key(answer: &crate::client::ForeignAnswer) -> Option<&str> {
    use crate::answer_sig::AnswerSigProblem;
    use crate::client::ForeignAnswer;
    use crate::receipt_check::{OneReceipt, ReceiptProblem};
    match answer {
        ForeignAnswer::BadReceipt {
            why:
                ReceiptProblem::Receipt {
                    problem: OneReceipt::UntrustedKey { key, .. },
                    ..
                },
            ..
        }
        | ForeignAnswer::BadAnswerSig {
            why: AnswerSigProblem::UntrustedKey { key, .. },
            ..
        } => Some(key),
        _ => None,
    }
}

/// Whether an answer was refused only because its `answerSig`, the pinned server's,
/// does not bind this node's credential: an event server older than the node, or a
/// proxy that drops the version header, which the log says apart from a url that
/// reaches no event server.
fn unbound(answer: &crate::client::ForeignAnswer) -> bool {
    matches!(
        answer,
        crate::client::ForeignAnswer::BadAnswerSig {
            why: crate::answer_sig::AnswerSigProblem::Unbound,
            ..
        }
    )
}

/// Posts one request; `Ok`: how many of its events the server answered not on its
/// stable storage ([`crate::Accepted::not_durable_of`]).
///
/// A success answer that is not the event server's (see [`PostError::NotTheServersAnswer`])
/// is logged here at error level once per streak of them, for both modes: it means a
/// wrong `url`, or a server key missing from `server_keys` (said apart, naming the
/// key), which retries will not fix, and every retry logging the page would drown the
/// log.
async fn post(
    client: &Client,
    metrics: &Metrics,
    target: &str,
    payloads: &[&[u8]],
) -> Result<u64, PostError> {
    match client.post(payloads).await {
        Err(PostError::NotTheServersAnswer(answer)) => {
            if metrics.foreign_answer() {
                match untrusted_key(&answer) {
                    Some(key) => tracing::error!(
                        target_name = %target,
                        error = %answer,
                        "the target's url answers signed by key {key}, which is not one of \
                         `server_keys`: nothing is taken as delivered; the events are kept \
                         and sent again. Either the event server's key was rotated \
                         (`auditrail keys rotate`): if {key} is what `auditrail keys export` \
                         prints on the server, add it to `server_keys` and restart this \
                         node; or the url reaches another server than the one \
                         `server_keys` names: check `url`"
                    ),
                    None if unbound(&answer) => tracing::error!(
                        target_name = %target,
                        error = %answer,
                        "the event server signs answers that do not bind this node's \
                         credential: nothing is taken as delivered; the events are kept and \
                         sent again. Upgrade the event server (servers before their nodes), \
                         check that no proxy in between drops the Auditrail-Answer-Version \
                         header, or set `accept_unbound_answers = true` on this target to \
                         take such answers meanwhile"
                    ),
                    None => tracing::error!(
                        target_name = %target,
                        error = %answer,
                        "the target's url does not answer like an auditrail event server: \
                         nothing is taken as delivered; the events are kept and sent again \
                         until the event server answers (check `url`)"
                    ),
                }
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
            // Counted per event: a server durable for some topics only answers
            // `durable: false` with how many of the batch are not (`notDurable`).
            let not_durable = a.not_durable_of(payloads.len() as u64);
            if not_durable > 0 && metrics.note_not_durable(not_durable) {
                tracing::warn!(
                    "the event server answered durable = false (it runs a flush policy): \
                     events it acknowledged can be lost if it crashes before its next flush"
                );
            }
            metrics.delivered(payloads.len() as u64, a.accepted, a.duplicates);
            Ok(not_durable)
        }
        Err(e) => Err(e),
    }
}
