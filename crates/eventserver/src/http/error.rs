//! Error answers: a status, a stable `error` code and a JSON body that says what and
//! where.

use std::time::Duration;

use auditrail_core::answer::{BodySeen, Named};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::signed_answer::RefusalSig;

/// Where in the body an invalid event is.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Position {
    /// 1-based line of a JSON-lines body.
    Line(usize),
    /// 0-based index in a JSON array body.
    Index(usize),
}

/// An error answer of the HTTP API.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ApiError {
    #[serde(skip)]
    status: StatusCode,
    /// Stable machine-readable code (`invalid_event`, `unauthorized`, ...).
    pub error: &'static str,
    /// Human-readable explanation.
    pub message: String,
    /// `line` (JSON lines) or `index` (JSON array) of the offending event.
    /// (One field: an `ApiError` small enough for a `Result` to carry.)
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub position: Option<Position>,
    /// The offending field (`topic`, `routingKey`, `message.msgType`, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Seconds after which a retry may succeed (also sent as `Retry-After`).
    #[serde(skip_serializing_if = "Option::is_none")]
    /// (`u32`: over a century of seconds, and it keeps `ApiError` small.)
    pub retry_after_s: Option<u32>,
    /// Every event the answer is about: each event at fault of a refused batch
    /// (faults.rs), or the events a destination refused (`unstorable`,
    /// `refused_for_now`); at most `MAX_LISTED_EVENTS` of them.
    /// (Boxed: most answers name no list, and a `Result<_, ApiError>` stays small.)
    #[serde(skip_serializing_if = "Option::is_none")]
    #[allow(clippy::box_collection)]
    pub events: Option<Box<Vec<EventRef>>>,
    /// Events the answer is about that `events` does not list (over its bounds).
    #[serde(rename = "eventsMore", skip_serializing_if = "is_zero")]
    pub events_more: u32,
    /// What of the request's body the server saw when it refused it, then the
    /// refusal's signature (one box: most answers have neither, and a
    /// `Result<_, ApiError>` stays small). Written as `answerSig` once signed.
    #[serde(
        rename = "answerSig",
        skip_serializing_if = "Signing::is_unsigned",
        serialize_with = "Signing::serialize_sig"
    )]
    pub signing: Option<Box<Signing>>,
}

/// What a refusal's signature binds of the body, before it is signed; then the
/// signature, which says it too (signed_answer.rs).
#[derive(Debug, Clone)]
pub(crate) enum Signing {
    /// What of the request's body the server saw when it refused it
    /// (`auditrail_core::answer::BodySeen`). Set where the body was (or was not) read;
    /// absent for answers that are not final refusals (a `503`), which are never signed.
    Seen(BodySeen),
    /// The signature of a final refusal of a request that sent a nonce.
    Signed(RefusalSig),
}

impl Signing {
    fn is_unsigned(signing: &Option<Box<Signing>>) -> bool {
        !matches!(signing.as_deref(), Some(Signing::Signed(_)))
    }

    fn serialize_sig<S: serde::Serializer>(
        signing: &Option<Box<Signing>>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match signing.as_deref() {
            Some(Signing::Signed(sig)) => sig.serialize(serializer),
            _ => serializer.serialize_none(),
        }
    }
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// Bytes of an entry's `message` kept in a list: a list of `MAX_LISTED_EVENTS` stays
/// within `MAX_LISTED_BYTES` whatever an event held.
const LISTED_MESSAGE_BYTES: usize = 300;

/// One event named by an error answer: where it is in the body, why (`error`, `field`,
/// `message`: its own refusal), its id, topic and routing key, and a destination's
/// reason, each when the answer says it.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct EventRef {
    /// `line` (JSON lines) or `index` (JSON array).
    #[serde(flatten)]
    pub position: Position,
    /// The refusal's code for this event.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<&'static str>,
    /// The field of the event at fault.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Why this event (its own refusal's message).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The event's id (left out for an event that could not be read).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Its topic (left out where the reason names the event's folder instead).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub topic: Option<String>,
    /// Its routing key.
    #[serde(rename = "routingKey", skip_serializing_if = "Option::is_none")]
    pub routing_key: Option<String>,
    /// Why this event (when the answer's `message` does not say it for all).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl EventRef {
    /// The reference of `event`, found at `position`.
    pub(crate) fn of(
        position: Position,
        event: &auditrail_core::Event,
        reason: Option<String>,
    ) -> Self {
        EventRef {
            id: Some(event.id.to_string()),
            topic: Some(event.topic.as_str().to_owned()),
            routing_key: event.routing_key.as_ref().map(|k| k.as_str().to_owned()),
            reason,
            ..EventRef::at(position)
        }
    }

    /// The reference of the event at `position`, saying nothing more yet.
    pub(crate) fn at(position: Position) -> Self {
        EventRef {
            position,
            error: None,
            field: None,
            message: None,
            id: None,
            topic: None,
            routing_key: None,
            reason: None,
        }
    }

    /// `message` and `reason` cut to [`LISTED_MESSAGE_BYTES`] (at a character).
    fn bounded(mut self) -> Self {
        for text in [&mut self.message, &mut self.reason].into_iter().flatten() {
            if text.len() > LISTED_MESSAGE_BYTES {
                let mut end = LISTED_MESSAGE_BYTES;
                while !text.is_char_boundary(end) {
                    end -= 1;
                }
                text.truncate(end);
                text.push_str("...");
            }
        }
        self
    }
}

impl ApiError {
    /// A new error.
    pub(crate) fn new(
        status: StatusCode,
        error: &'static str,
        message: impl Into<String>,
    ) -> ApiError {
        ApiError {
            status,
            error,
            message: message.into(),
            position: None,
            field: None,
            retry_after_s: None,
            events: None,
            events_more: 0,
            signing: None,
        }
    }

    /// The status code.
    pub(crate) fn status(&self) -> StatusCode {
        self.status
    }

    /// Attaches the position of the offending event.
    pub(crate) fn at(mut self, position: &Position) -> ApiError {
        self.position = Some(position.clone());
        self
    }

    /// Names the offending field.
    pub(crate) fn field(mut self, field: impl Into<String>) -> ApiError {
        self.field = Some(field.into());
        self
    }

    /// Names every event the answer is about.
    pub(crate) fn events(self, events: Vec<EventRef>) -> ApiError {
        self.events_and_more(events, 0)
    }

    /// Names the events the answer is about, and how many more it does not name.
    /// At most `MAX_LISTED_EVENTS` are listed, within `MAX_LISTED_BYTES` as written
    /// (each `message` cut to [`LISTED_MESSAGE_BYTES`]); the others are counted in
    /// `eventsMore`: an answer a node reads whole, whatever the batch held.
    pub(crate) fn events_and_more(mut self, events: Vec<EventRef>, more: u64) -> ApiError {
        use auditrail_core::answer::{MAX_LISTED_BYTES, MAX_LISTED_EVENTS};
        let given = events.len();
        let mut bytes = 2;
        let mut listed = Vec::with_capacity(given.min(MAX_LISTED_EVENTS));
        for e in events.into_iter().take(MAX_LISTED_EVENTS) {
            let e = e.bounded();
            bytes += 1 + serde_json::to_vec(&e).map_or(0, |v| v.len());
            if bytes > MAX_LISTED_BYTES {
                break;
            }
            listed.push(e);
        }
        let more = more + (given - listed.len()) as u64;
        self.events_more = u32::try_from(more).unwrap_or(u32::MAX);
        self.events = Some(Box::new(listed));
        self
    }

    /// The `events` value as written in the answer (what a `v2` signed refusal covers),
    /// `None` without a list.
    pub(crate) fn events_text(&self) -> Option<String> {
        self.events
            .as_deref()
            .map(|e| serde_json::to_string(e).unwrap_or_default())
    }

    /// Says what of the request's body the server saw (see [`ApiError::seen`]).
    pub(crate) fn seen(mut self, seen: BodySeen) -> ApiError {
        self.signing = Some(Box::new(Signing::Seen(seen)));
        self
    }

    /// [`ApiError::seen`], unless a step that saw less of the body already said what.
    pub(crate) fn seen_or(self, seen: impl FnOnce() -> BodySeen) -> ApiError {
        if self.signing.is_some() {
            self
        } else {
            self.seen(seen())
        }
    }

    /// What of the body the server saw, if said and not yet signed.
    pub(crate) fn body_seen(&self) -> Option<&BodySeen> {
        match self.signing.as_deref() {
            Some(Signing::Seen(seen)) => Some(seen),
            _ => None,
        }
    }

    /// The event the answer names as the cause, as its signature covers it.
    pub(crate) fn named(&self) -> Option<Named> {
        match self.position {
            Some(Position::Line(l)) => Some(Named::Line(l as u64)),
            Some(Position::Index(i)) => Some(Named::Index(i as u64)),
            None => None,
        }
    }

    /// Adds `Retry-After`.
    pub(crate) fn retry_after(mut self, after: Duration) -> ApiError {
        self.retry_after_s = Some(u32::try_from(after.as_secs()).unwrap_or(u32::MAX).max(1));
        self
    }

    /// 400 with a code.
    pub(crate) fn bad_request(error: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, error, message)
    }

    /// 401.
    pub(crate) fn unauthorized(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    /// 503 with `Retry-After`.
    pub(crate) fn unavailable(
        error: &'static str,
        message: impl Into<String>,
        after: Duration,
    ) -> ApiError {
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, error, message).retry_after(after)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status;
        let retry = self.retry_after_s;
        let unauthorized = status == StatusCode::UNAUTHORIZED;
        let mut response = (status, axum::Json(self)).into_response();
        if let Some(s) = retry {
            if let Ok(v) = HeaderValue::from_str(&s.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        if unauthorized {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"auditrail\""),
            );
        }
        response
    }
}
