//! Every event of a batch at fault, found in one pass over the batch, and the one
//! refusal that lists them (docs/protocol.md, "Errors").
//!
//! A batch is stored all or nothing, so one event at fault refuses the batch. An answer
//! that named only the first such event made a node give up one event per request and
//! post the rest again: a backlog of events older than a store's retention cost one
//! refused request per event (4236 old events, 4236 requests). So every event is
//! checked (each for its first fault: it parses, its key may write it, it is not dated
//! too far ahead, its name is not a store's own, it is not past a store's retention,
//! some destination takes it), and the refusal lists each event at fault with its own
//! reason. The first one (in body order) decides the answer's status, `error`, `line` or
//! `index` and `field`, as before, for nodes that read only those.
//!
//! A hostile body may hold millions of events at fault: only the first
//! [`MAX_LISTED_EVENTS`] are kept (and listed, within [`MAX_LISTED_BYTES`]); the others
//! are counted (`eventsMore`), never formatted nor kept.

use std::collections::BTreeMap;

use auditrail_core::answer::MAX_LISTED_EVENTS;
use axum::http::StatusCode;

use super::error::{ApiError, EventRef, Position};

/// The events of one batch at fault, the first [`MAX_LISTED_EVENTS`] of them in body
/// order kept.
#[derive(Default)]
pub(crate) struct Faults {
    /// By position in the body (a line or an index: one kind per body).
    kept: BTreeMap<usize, Fault>,
    /// Events at fault not kept (after the kept ones in body order).
    dropped: u64,
    /// Events at fault that no destination takes (kept or not): counted in
    /// `auditrail_server_events_unrouted_total`.
    unrouted: u64,
    /// The first of them (in body order), as the log names it.
    first_unrouted: Option<String>,
}

/// One event at fault.
struct Fault {
    /// Its refusal as if it were the batch's only fault (status, code, message, field).
    refusal: ApiError,
    /// Its id, topic and routing key, when the answer names them (`unrouted`).
    event: Option<EventRef>,
}

fn number(position: &Position) -> usize {
    match position {
        Position::Line(n) | Position::Index(n) => *n,
    }
}

impl Faults {
    /// Whether a fault at `position` would be kept (else it is only counted): callers
    /// skip building its message.
    fn keeps(&self, position: &Position) -> bool {
        self.kept.len() < MAX_LISTED_EVENTS
            || self
                .kept
                .last_key_value()
                .is_some_and(|(&last, _)| number(position) < last)
    }

    /// The event at `position` is at fault: `refusal` says why (built only when kept).
    pub(crate) fn add(&mut self, position: &Position, refusal: impl FnOnce() -> ApiError) {
        self.add_fault(position, || Fault {
            refusal: refusal().at(position),
            event: None,
        });
    }

    /// The event at `position` is taken by no destination. `lookalike`: a routing key a
    /// destination lists that the event's reads like, and how they differ
    /// ([`auditrail_core::Filter::lookalike`]), said in the refusal.
    pub(crate) fn add_unrouted(
        &mut self,
        position: &Position,
        event: &auditrail_core::Event,
        lookalike: Option<(&str, auditrail_core::Lookalike)>,
    ) {
        self.unrouted += 1;
        // `event <id> (topic "t", routingKey "k")`, for the log and the refusal.
        let named = || {
            format!(
                "event {} (topic {:?}{}{})",
                event.id,
                event.topic.as_str(),
                event
                    .routing_key
                    .as_ref()
                    .map(|k| format!(", routingKey {:?}", k.as_str()))
                    .unwrap_or_default(),
                lookalike
                    .zip(event.routing_key.as_ref())
                    .map(|((listed, how), sent)| format!(
                        "; a destination's routing_keys list {}; routing keys are compared \
                         code point for code point, as sent",
                        auditrail_core::lookalike::Hint {
                            sent: sent.as_str(),
                            listed,
                            how
                        }
                    ))
                    .unwrap_or_default()
            )
        };
        if self.first_unrouted.is_none() {
            self.first_unrouted = Some(named());
        }
        self.add_fault(position, || {
            let r = EventRef::of(position.clone(), event, None);
            let what = format!(
                "{} matches no destination's filter (topics, routing keys)",
                named()
            );
            Fault {
                refusal: ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "unrouted", what)
                    .at(position)
                    .field("topic"),
                event: Some(r),
            }
        });
    }

    fn add_fault(&mut self, position: &Position, fault: impl FnOnce() -> Fault) {
        if !self.keeps(position) {
            self.dropped += 1;
            return;
        }
        self.kept.insert(number(position), fault());
        if self.kept.len() > MAX_LISTED_EVENTS {
            self.kept.pop_last();
            self.dropped += 1;
        }
    }

    /// No event at fault.
    pub(crate) fn is_empty(&self) -> bool {
        self.kept.is_empty()
    }

    /// Events at fault that no destination takes, and the first of them (its id, topic
    /// and routing key).
    pub(crate) fn unrouted(&self) -> Option<(u64, &str)> {
        self.first_unrouted
            .as_deref()
            .map(|first| (self.unrouted, first))
    }

    /// The refusal of the batch, `None` when no event is at fault: the first event's
    /// refusal (status, `error`, `line`/`index`, `field`, message), listing every event
    /// at fault in `events` (`line`/`index`, `error`, `field`, `message`, and `id`,
    /// `topic`, `routingKey` of an unrouted one), and in `eventsMore` how many more.
    pub(crate) fn into_refusal(self) -> Option<ApiError> {
        let total = self.kept.len() as u64 + self.dropped;
        let unrouted = self.unrouted;
        let mut faults = self.kept.into_values();
        let first = faults.next()?;
        let mut list = Vec::with_capacity(1 + faults.len());
        let mut refusal = first.refusal.clone();
        list.push(entry(first));
        list.extend(faults.map(entry));
        if refusal.error == "unrouted" && unrouted == total {
            refusal.message = format!(
                "{total} event(s) of the batch match no destination's filter (topics, routing \
                 keys), first {}: nothing of the batch was stored; send them to a server that \
                 keeps them, or add a destination that takes them",
                refusal
                    .message
                    .split_once(" matches no destination")
                    .map_or(refusal.message.as_str(), |(what, _)| what)
            );
        } else if total > 1 {
            refusal.message = format!(
                "{} (and {} other event(s) of the batch at fault, each listed in `events` \
                 with its own reason; nothing of the batch was stored)",
                refusal.message,
                total - 1
            );
        }
        Some(refusal.events_and_more(list, self.dropped))
    }
}

/// A fault as the answer lists it.
fn entry(fault: Fault) -> EventRef {
    let Fault { refusal, event } = fault;
    let position = refusal
        .position
        .clone()
        .unwrap_or(Position::Index(usize::MAX));
    let mut r = event.unwrap_or_else(|| EventRef::at(position));
    r.error = Some(refusal.error);
    r.field = refusal.field;
    r.message = Some(refusal.message);
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bad(n: usize) -> ApiError {
        ApiError::bad_request("invalid_event", format!("event {n} is bad")).field("topic")
    }

    #[test]
    fn every_fault_is_listed_first_in_body_order_and_the_first_decides_the_answer() {
        let mut f = Faults::default();
        assert!(f.is_empty());
        f.add(&Position::Line(5), || {
            ApiError::new(StatusCode::FORBIDDEN, "forbidden", "not yours").field("routingKey")
        });
        f.add(&Position::Line(2), || bad(2));
        let r = f.into_refusal().unwrap();
        assert_eq!(
            (r.status(), r.error),
            (StatusCode::BAD_REQUEST, "invalid_event")
        );
        assert_eq!(r.position, Some(Position::Line(2)));
        assert_eq!(r.field.as_deref(), Some("topic"));
        assert!(
            r.message.starts_with("event 2 is bad (and 1 other"),
            "{}",
            r.message
        );
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(
            v["events"],
            serde_json::json!([
                {"line": 2, "error": "invalid_event", "field": "topic", "message": "event 2 is bad"},
                {"line": 5, "error": "forbidden", "field": "routingKey", "message": "not yours"},
            ])
        );
        assert!(v.get("eventsMore").is_none(), "{v}");
    }

    #[test]
    fn past_the_bound_faults_are_counted_not_kept() {
        let mut f = Faults::default();
        for n in (1..=MAX_LISTED_EVENTS + 500).rev() {
            f.add(&Position::Line(n), || bad(n));
        }
        let r = f.into_refusal().unwrap();
        let v = serde_json::to_value(&r).unwrap();
        let listed = v["events"].as_array().unwrap();
        assert_eq!(listed.len(), MAX_LISTED_EVENTS);
        assert_eq!(listed[0]["line"], 1);
        assert_eq!(listed[MAX_LISTED_EVENTS - 1]["line"], MAX_LISTED_EVENTS);
        assert_eq!(v["eventsMore"], 500);
        // In body order (as the parser finds them) nothing past the bound is built.
        let mut f = Faults::default();
        let mut built = 0;
        for n in 1..=MAX_LISTED_EVENTS + 500 {
            f.add(&Position::Line(n), || {
                built += 1;
                bad(n)
            });
        }
        assert_eq!(built, MAX_LISTED_EVENTS);
    }
}
