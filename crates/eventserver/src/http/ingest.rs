//! `POST /v1/events`: authenticate, decode, validate everything, check ownership,
//! de-duplicate, hand the new events to the destinations and answer once every
//! destination that accepted them acknowledged (durably).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use auditrail_core::answer::BodySeen;
use auditrail_core::{BatchAck, BatchError, Event, FailureKind, Received, Routed, Timestamp};
use axum::body::Body;
use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use super::body::{self, Encoding, Framing, Parsed};
use super::error::{ApiError, EventRef, Position};
use super::faults::Faults;
use super::intake;
use super::publish::Publication;
use super::signed_answer::{self, Outcome};
use super::AppState;
use crate::auth::Credentials;

const PATH: &str = "/v1/events";
/// Retry-After when the server is busy.
const BUSY_RETRY: Duration = Duration::from_secs(1);
/// Retry-After when the disk is (nearly) full.
const DISK_RETRY: Duration = Duration::from_secs(30);
/// Retry-After when a destination cannot take some events until an operator acts (a
/// store folder it may not write): like a full disk, not a matter of seconds.
const REFUSED_RETRY: Duration = Duration::from_secs(30);

/// The handler. Every failure is an [`ApiError`] with a JSON body; nothing here panics
/// on input.
pub(super) async fn post_events(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    credentials: Credentials,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let started = Instant::now();
    let result = handle(&state, peer, &credentials, &headers, body, started).await;
    let response = match result {
        Ok(r) => r,
        Err(e) => {
            state.metrics.rejected(e.error);
            // The one place this endpoint's errors become answers: a final refusal of a
            // request that sent a nonce is signed here.
            signed_answer::sign_refusal(e, &headers, &credentials, &state.signer).into_response()
        }
    };
    state.metrics.request(PATH, response.status().as_u16());
    response
}

async fn handle(
    state: &Arc<AppState>,
    peer: SocketAddr,
    credentials: &Credentials,
    headers: &HeaderMap,
    body: Body,
    started: Instant,
) -> Result<Response, ApiError> {
    let (key, framing, encoding, asked) = match before_the_body(state, credentials, headers) {
        Ok(checked) => checked,
        Err(refused) => {
            return Err(intake::drain_then(body, headers, state.max_body_bytes, refused).await)
        }
    };
    // 3. Receive the body. Nothing scarce is held while it arrives: a batch slot is
    // taken only once the whole body is here, so slow or stalled uploads never keep
    // other clients' batches out; they are cut off by the minimum rate (see intake.rs)
    // and count against the memory budget only for the bytes they really sent.
    let mut memory = intake::Charge::default();
    let counting = match encoding {
        Encoding::Identity => intake::Counting::Decoded,
        Encoding::Gzip | Encoding::Zstd => intake::Counting::Raw,
    };
    let raw = intake::receive(
        body,
        headers,
        state.max_body_bytes,
        state.max_body_bytes,
        &state.body_memory,
        counting,
        &mut memory,
    )
    .await?;
    let request = Request {
        peer,
        key,
        framing,
        encoding,
        asked,
    };
    ingest_body(state, request, raw, memory, started).await
}

/// What the request's head says: who sends, how the body is written, the nonce its
/// answer signs.
struct Request {
    peer: SocketAddr,
    key: Option<crate::auth::Key>,
    framing: Framing,
    encoding: Encoding,
    /// `Auditrail-Request-Nonce`, if sent, and the credential when the request asks for
    /// the answer text that binds it (signed_answer.rs).
    asked: Option<signed_answer::Asked>,
}

/// What is decided from the head alone: who sends (under the keys in force when the
/// request arrived), what the body is, the nonce (and credential) the answer signs,
/// whether it may be that large, whether there is room on disk.
#[allow(clippy::type_complexity)] // the head's parts, each used once
fn before_the_body(
    state: &AppState,
    credentials: &Credentials,
    headers: &HeaderMap,
) -> Result<
    (
        Option<crate::auth::Key>,
        Framing,
        Encoding,
        Option<signed_answer::Asked>,
    ),
    ApiError,
> {
    // 1. Who is sending.
    let access = state.access.current();
    let key = if access.keys.is_empty() {
        None
    } else {
        Some(
            access
                .keys
                .identify(credentials)
                // Refused on the credential alone, before any byte of the body is read.
                .map_err(|e| ApiError::unauthorized(e.to_string()).seen(BodySeen::Unread))?
                .clone(),
        )
    };
    drop(access);
    // 2. What it is.
    // Refused for the values as received (415): a relay that changes them gets a refusal
    // of values the client did not send.
    let (framing, encoding) = body::negotiate(headers).map_err(|e| {
        e.seen(BodySeen::Media {
            content_type: headers
                .get(header::CONTENT_TYPE)
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned()),
            content_encoding: body::content_encoding(headers),
        })
    })?;
    let asked = signed_answer::asked(headers, credentials)?;
    if let Some(len) = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
    {
        if len > state.max_body_bytes as u64 {
            return Err(body::declared_too_large(len, state.max_body_bytes));
        }
    }
    // The data folder's floor refuses every batch: the data folder is shared (every
    // store's high-water mark, the dead letters, the default stores live there). A
    // store's own full disk refuses only the batches with an event for it (step 5f).
    check_disk(state)?;
    Ok((key, framing, encoding, asked))
}

/// Steps 4 to 7, once the whole body is here.
async fn ingest_body(
    state: &Arc<AppState>,
    request: Request,
    raw: bytes::Bytes,
    memory: intake::Charge,
    started: Instant,
) -> Result<Response, ApiError> {
    let Request {
        peer,
        key,
        framing,
        encoding,
        asked,
    } = request;
    // 4. Can we take it now.
    let permit = state.batches.clone().try_acquire_owned().map_err(|_| {
        ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "overloaded",
            format!(
                "{} batches are already being stored; retry later",
                state.max_concurrent_batches
            ),
        )
        .retry_after(BUSY_RETRY)
    })?;
    // Decode, parse, validate: all or nothing. The digest of the decoded body is what
    // binds the signed answer to these events (signed_answer.rs).
    let (body, events, mut faults, memory, body_digest) = decode_and_parse(
        state.clone(),
        raw,
        encoding,
        framing,
        memory,
        asked.is_some(),
    )
    .await?;
    // Every refusal from here on is of these events, as decoded.
    let events_seen = body_digest
        .as_deref()
        .map(|d| events_seen(&body, framing, d));
    let seen = |e: ApiError| match &events_seen {
        Some(s) => e.seen_or(|| s.clone()),
        None => e,
    };
    let signed_for = asked
        .zip(body_digest)
        .map(|(asked, body_digest)| signed_answer::SignedFor {
            nonce: asked.nonce,
            body_digest,
            credential: asked.credential,
            counted: asked.counted,
        });
    let outcome = async {
        let server_timestamp = Timestamp::now();
        // What the bound on timestamps ahead counts from is read once per request, at
        // the request's own time (the time its events are received at): reading the
        // stores' timeline takes two clock reads, not worth making again for each event.
        let ahead_from = crate::ahead::bound_now(server_timestamp, state.timeline.as_ref());
        let received = Arc::new(Received {
            orig_address: Some(peer.ip()),
            key_id: key.as_ref().map(|k| k.id.clone()),
            server_timestamp,
            kafka: None,
        });
        let mut ranges = Vec::with_capacity(events.len());
        let mut positions = Vec::with_capacity(events.len());
        let mut routed = Vec::with_capacity(events.len());
        // 5. Every event is checked, each for its first fault, and the batch is stored
        // only when none is at fault (all or nothing); a refusal lists every event at
        // fault with its own reason (faults.rs), so that a node gives them up together.
        for p in events {
            // 5a. Ownership.
            if let Some(key) = &key {
                if let Err(f) = key.may_write(&p.event) {
                    faults.add(&p.position, || {
                        ApiError::new(
                            StatusCode::FORBIDDEN,
                            "forbidden",
                            format!("key {:?} may not write {f}", key.id),
                        )
                        .field(f.field)
                    });
                    continue;
                }
            }
            // 5b. Not too far in the future.
            if let Err(e) = check_ahead(state, &p.event.timestamp, ahead_from, server_timestamp) {
                faults.add(&p.position, || e);
                continue;
            }
            // 5c. Every destination's filter runs once per event, here; the answer
            // travels with the event into the dispatcher (which does not filter again),
            // and receipts and durability come from it.
            let mut e = p.event;
            e.received = Some(received.clone());
            let r = state.dispatcher.route(e);
            // 5d. Names a store keeps for itself at its root; dated past a store's
            // retention (its next pass would delete it).
            if let Err(e) = check_reserved(state, &r).and_then(|()| check_retention(state, &r)) {
                faults.add(&p.position, || e);
                continue;
            }
            // 5e. An event no destination takes would be stored nowhere: never accepted.
            if r.routes().is_empty() {
                let event = r.event();
                let lookalike = event.routing_key.as_ref().and_then(|k| {
                    state
                        .dispatcher
                        .routes()
                        .find_map(|route| route.filter.lookalike(k.as_str()))
                });
                faults.add_unrouted(&p.position, event, lookalike);
                continue;
            }
            ranges.push(p.range);
            positions.push(p.position);
            routed.push(r);
        }
        if let Some((unrouted, first)) = faults.unrouted() {
            note_unrouted(state, peer, key.as_ref(), unrouted, first);
        }
        if let Some(refused) = faults.into_refusal() {
            return Err(refused);
        }
        // 5f. A store held at start (its checks failed) takes nothing, nor does a store
        // whose disk is full (full_disk.rs) or whose last batch failed and is retried
        // (failing.rs), decided with `/readyz` in one place (head_refusal.rs): the
        // batch waits at its node, while batches for the other destinations are stored.
        super::held::refuse_held(state, &routed, &positions)?;
        super::head_refusal::refuse(state, &routed, &positions)?;
        let batch = Batch {
            events: routed,
            ranges,
            positions,
            body,
            received,
            _permit: permit,
            _memory: memory,
        };
        // 6. Store what is new, wait for what another request is storing.
        // The destinations get `ack_timeout` from when the batch is ready, whatever the
        // time its body took to arrive.
        let deadline = auditrail_core::limits::deadline_after(Instant::now(), state.ack_timeout);
        let outcome = store(state, batch, deadline).await?;
        // The accepted and duplicate counters were counted when the batch settled (see
        // publish.rs), whatever its answer.
        state.metrics.ingest_latency(started.elapsed());
        Ok::<Outcome, ApiError>(outcome)
    }
    .await
    .map_err(seen)?;
    signed_answer::answer(outcome, signed_for.as_ref(), &state.signer)
}

/// Events of a batch that no destination's filter takes (answered `422 unrouted`,
/// faults.rs): counted and logged, so an operator sees a node sending what nobody
/// keeps.
fn note_unrouted(
    state: &AppState,
    peer: SocketAddr,
    key: Option<&crate::auth::Key>,
    unrouted: u64,
    first: &str,
) {
    state.metrics.unrouted.inc_by(unrouted);
    tracing::warn!(
        unrouted,
        first,
        peer = %peer.ip(),
        key = key.map(|k| k.id.as_str()).unwrap_or("-"),
        "batch refused: events that no destination takes"
    );
}

/// 400 when the event's `timestamp` is more than `max_timestamp_ahead` ahead of the
/// server's clock (see [`crate::ahead`]), counted from `from`: the later of the wall
/// clock `now` and the stores' own timeline ([`crate::ahead::bound_now`]).
fn check_ahead(
    state: &AppState,
    timestamp: &Timestamp,
    from: Timestamp,
    now: Timestamp,
) -> Result<(), ApiError> {
    crate::ahead::check(*timestamp, state.max_timestamp_ahead, from, now).map_err(|e| {
        ApiError::bad_request(
            "timestamp_ahead",
            format!("{e}: fix the sending node's clock, or raise the bound"),
        )
        .field("timestamp")
    })
}

/// 400 when a `store` destination that takes `event` would file it under a name the
/// store keeps for itself in its root (`store-id`, `checkpoints.jsonl`).
fn check_reserved(state: &AppState, event: &Routed) -> Result<(), ApiError> {
    match state.destinations.reserved_collision(event) {
        None => Ok(()),
        Some((d, field, name)) => Err(ApiError::bad_request(
            "reserved_name",
            format!(
                "{field} {name:?} is reserved: the store destination {:?} keeps its own \
                 file {name:?} where this event's folder would go; use another {field}",
                d.name
            ),
        )
        .field(field)),
    }
}

/// 400 when a `store` destination that takes `event` would delete it at its next
/// retention pass (see `crate::past_retention`).
fn check_retention(state: &AppState, event: &Routed) -> Result<(), ApiError> {
    match state.destinations.past_retention(event) {
        None => Ok(()),
        Some((d, past)) => Err(ApiError::bad_request(
            "timestamp_past_retention",
            past.describe(&d.name),
        )
        .field("timestamp")),
    }
}

fn check_disk(state: &AppState) -> Result<(), ApiError> {
    if state.min_free_bytes == 0 {
        return Ok(());
    }
    match crate::disk::available_bytes(&state.data_dir) {
        Some(free) if free >= state.min_free_bytes => Ok(()),
        Some(free) => Err(ApiError::unavailable(
            "disk_full",
            format!(
                "the data folder has {free} bytes free, under the floor of {} (min_free_bytes); \
                 nothing was stored",
                state.min_free_bytes
            ),
            DISK_RETRY,
        )),
        None => Err(ApiError::unavailable(
            "disk_unknown",
            "the free space of the data folder cannot be read; nothing was stored",
            DISK_RETRY,
        )),
    }
}

/// What the server saw of a body it decoded whole, for a refusal of its events: how
/// it was framed (the same bytes read the other way are another request) and the
/// digest of the decoded body.
fn events_seen(decoded: &[u8], framing: Framing, digest: &str) -> BodySeen {
    BodySeen::Events {
        array: body::read_as(decoded, framing) == Framing::Array,
        digest: digest.to_owned(),
    }
}

/// Decompresses (counting the decoded body against the memory budget before it is
/// parsed) and parses, off the async workers.
async fn decode_and_parse(
    state: Arc<AppState>,
    raw: bytes::Bytes,
    encoding: Encoding,
    framing: Framing,
    mut memory: intake::Charge,
    digest: bool,
) -> Result<
    (
        bytes::Bytes,
        Vec<Parsed>,
        Faults,
        intake::Charge,
        Option<String>,
    ),
    ApiError,
> {
    let work = move || {
        // The decoded buffer is counted as it grows, then its events (13 bytes per
        // decoded byte in all, the buffer's own included).
        let mut buffer = 0;
        let decoded = body::decode(raw, encoding, state.max_body_bytes, &mut |more| {
            buffer += more;
            state.body_memory.charge(&mut memory, more)
        })?;
        if encoding != Encoding::Identity {
            state.body_memory.charge(
                &mut memory,
                (decoded.len() * intake::BYTES_PER_DECODED_BYTE).saturating_sub(buffer),
            )?;
        }
        // Here, off the async workers: a large body takes milliseconds to hash.
        let digest = digest.then(|| auditrail_core::answer::body_digest(&decoded));
        // Every invalid event is noted, and the others are parsed still: the refusal
        // names them all (after the other checks, which the valid ones go through).
        let mut faults = Faults::default();
        let parsed =
            body::parse_all(&decoded, framing, &mut faults).map_err(|e| match &digest {
                Some(d) => e.seen(events_seen(&decoded, framing, d)),
                None => e,
            })?;
        Ok((decoded, parsed, faults, memory, digest))
    };
    // Small bodies parse faster than a thread hop; large ones must not hold an async
    // worker thread.
    tokio::task::spawn_blocking(work).await.map_err(|e| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            format!("the body could not be processed: {e}"),
        )
    })?
}

/// Stores the new events of the batch. De-duplication waits while another request is
/// storing one of its ids. The whole step runs in its own task: a client that hangs
/// up, or an answer that times out, never leaves a half-handled batch behind (its
/// outcome still commits or releases the reservation).
/// A validated batch: the events, their bytes in the body (for the live view).
struct Batch {
    /// The events, each with the routes whose filter accepts it.
    events: Vec<Routed>,
    ranges: Vec<std::ops::Range<usize>>,
    /// Where each event is in the body (for answers that name events).
    positions: Vec<Position>,
    body: bytes::Bytes,
    received: Arc<Received>,
    /// Held until the batch is settled, even if the answer timed out: a batch still
    /// storing counts against `max_concurrent_batches`.
    _permit: tokio::sync::OwnedSemaphorePermit,
    /// Its part of the body memory budget, held as long as the slot.
    _memory: intake::Charge,
}

async fn store(
    state: &Arc<AppState>,
    batch: Batch,
    deadline: Instant,
) -> Result<Outcome, ApiError> {
    // Kept for a time-out's answer, which names a full disk only under a store this
    // batch went to.
    let routes = super::full_disk::routes_of(&batch.events);
    let mut task = tokio::spawn(admit_emit_settle(state.clone(), batch));
    // Looked at every `FAILING_LOOK`: a store this batch went to that refuses batches
    // at two looks in a row (its last batch failing, its retry too, or its disk full)
    // holds this batch behind it, for as long as it refuses: the batch is answered
    // then, naming it, as `/readyz` names it, not after the whole `ack_timeout_ms`
    // (stop 61: a store folder moved away; stop 64: a full disk).
    let mut failing_before = false;
    loop {
        let remaining_time = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(remaining_time.min(FAILING_LOOK), &mut task).await {
            Ok(Ok(r)) => return r,
            Ok(Err(join)) => {
                return Err(ApiError::unavailable(
                    "internal",
                    format!("storing the batch failed: {join}"),
                    BUSY_RETRY,
                ))
            }
            Err(_) if Instant::now() >= deadline => return Err(ack_timeout(state, &routes)),
            Err(_) => {
                let failing = super::head_refusal::behind_a_refusing_store(state, &routes);
                match failing {
                    Some(answer) if failing_before => return Err(answer),
                    Some(_) => failing_before = true,
                    None => failing_before = false,
                }
            }
        }
    }
}

/// How often a batch waiting for its acknowledgement looks whether a store it went to
/// refuses batches (`head_refusal.rs`: failing, or its disk full).
const FAILING_LOOK: Duration = Duration::from_secs(1);

/// The events are stored but no signed line vouches for them: not acknowledged (a retry
/// is answered as duplicates once they are sealed).
fn unsealed(e: auditrail_integrity::IntegrityError) -> ApiError {
    // With its cause: why the seal failed (a full disk, a log moved or truncated).
    let e = crate::retention::chain(&e);
    tracing::error!("a batch is stored but not sealed: {e}");
    ApiError::unavailable("unsealed", format!("{e}; retry later"), BUSY_RETRY)
}

fn ack_timeout(state: &AppState, routes: &auditrail_core::RouteSet) -> ApiError {
    if let Some(full) = super::full_disk::timed_out_behind_a_full_disk(state, routes) {
        return full;
    }
    if let Some(failing) = super::failing::behind_a_failing_store(state, routes, state.ack_timeout)
    {
        return failing;
    }
    ApiError::unavailable(
        "ack_timeout",
        format!(
            "the destinations did not acknowledge within {} ms; retry: {}",
            state.ack_timeout.as_millis(),
            super::retry_outcome::after_a_time_out(&state.destinations, routes)
        ),
        BUSY_RETRY,
    )
}

/// How many times a batch is admitted again after duplicates were found whose records
/// are gone: each time is a file or folder removed by hand racing the batch.
const READMISSIONS: u32 = 3;

/// Admits the batch's events (see [`Dedup::admit`](crate::dedup::Dedup)), never as
/// duplicates of records a store no longer holds: a `200` that counts an event as a
/// duplicate (and a receipt that covers its record) vouches for the record, and a node
/// forgets what was acknowledged. When a store finds the record of a duplicate gone
/// (its segment file or partition folder removed, moved, replaced or cut by hand since
/// it was written, or its line changed in place: `Destinations::records_gone`), the event is forgotten by
/// de-duplication and admitted again, as new: stored again. Logged (error: stored data
/// is gone) and counted (`recordsGone` of the store); when the store's retention
/// deleted the records (recorded in its checkpoint log), logged at info level only.
async fn admit_held(state: &AppState, events: &[Routed]) -> crate::dedup::Admission {
    let plain: Vec<&Event> = events.iter().map(Routed::event).collect();
    // A server that may send a stored event again holds the batch's stored events
    // too, so that a concurrent retry of one waits for this one's outcome instead of
    // sending it a second time (`Dedup::admit_holding`, sent_again.rs).
    let hold = state.destinations.may_send_again();
    let mut tries = 0;
    loop {
        let admission = if hold {
            state.dedup.admit_holding(&plain).await
        } else {
            state.dedup.admit(&plain).await
        };
        let stored = admission.stored_duplicates();
        if stored.is_empty() || tries == READMISSIONS {
            return admission;
        }
        tries += 1;
        let gone = state.destinations.records_gone(
            stored
                .into_iter()
                .map(|(i, key)| (i, key, events[i].routes())),
        );
        if gone.is_empty() {
            return admission;
        }
        // Deleted by the store's own retention (recorded and signed): a node that never
        // got the answer sends its batch again, no loss; an ERROR there sent operators
        // to restore a backup for nothing.
        let (retention, by_hand): (Vec<_>, Vec<_>) = gone.iter().partition(|g| g.3);
        if let Some((first, _, why, _)) = by_hand.first() {
            tracing::error!(
                events = by_hand.len(),
                first = %events[*first].event().id,
                reason = %why,
                "events sent again were stored before, but their records are gone from the store (a file or folder removed, moved, replaced or cut by hand, or a record changed in place): they are stored again, not answered as duplicates"
            );
        }
        if let Some((first, _, why, _)) = retention.first() {
            tracing::info!(
                events = retention.len(),
                first = %events[*first].event().id,
                reason = %why,
                "events sent again were stored before, and the store's retention deleted their records since (recorded in its checkpoint log): they are stored again, not answered as duplicates"
            );
        }
        // Released before the events are forgotten: a request waiting for one of the
        // batch's new events goes on, and the forgotten ones are new to every request.
        drop(admission);
        let keys: Vec<_> = gone.iter().map(|(_, key, _, _)| *key).collect();
        state.dedup.forget(&keys);
    }
}

/// Reserves the batch's new events, emits them, waits for every destination; then
/// commits them to de-duplication, or releases them so that a retry can store them.
/// The events committed, and only those, are published (live view, statistics), whether
/// the whole batch was stored or a part of it. Events are moved into the dispatcher, not
/// copied (only the live view's tail is).
async fn admit_emit_settle(state: Arc<AppState>, batch: Batch) -> Result<Outcome, ApiError> {
    let Batch {
        mut events,
        ranges,
        positions,
        body,
        received,
        _permit,
        _memory,
    } = batch;
    let mut admission = admit_held(&state, &events).await;
    // New events some of whose stores hold them from an earlier try that failed
    // elsewhere: written to the other destinations alone (partly_stored.rs).
    let held_before =
        super::partly_stored::HeldBefore::narrow(&state.destinations, &mut events, &mut admission);
    // Duplicates a destination that is not a store took: it cannot show it still holds
    // them, so they are sent to it again and answered `accepted` (sent_again.rs).
    let again = super::sent_again::SentAgain::of(&state.destinations, &events, &admission);
    let duplicates = admission.duplicates() - again.len();
    let mut is_new = vec![false; events.len()];
    for &i in admission.new() {
        is_new[i] = true;
    }
    let accepted = admission.new().len() + again.len();
    // Events sent again are neither shown nor counted as stored again: their first
    // storing was (`/v1/stats` counts them among the duplicates).
    let publication = Publication::prepare(&state, &events, &is_new, ranges, &body, &received);
    drop(body);
    // Duplicates of stored events count too: an all-duplicates retry is answered
    // `durable: true` only once the originals are on disk. An event sent again counts
    // as new in the destinations it is sent to, and as stored in those that hold it.
    // A new event some of whose stores hold it from an earlier try counts as stored
    // in those (and as new in the others).
    let stored = admission.stored_duplicates();
    let held_keys = admission.receipt_keys(held_before.all().map(|(i, _)| i));
    // Counted per event: a batch partly routed to a destination that is not durable
    // says which part (its `notDurable`), not the whole batch.
    let not_durable = state.destinations.not_durable(
        &state.dispatcher,
        events.len(),
        (0..events.len()).filter_map(|i| {
            if is_new[i] {
                Some((i, events[i].routes()))
            } else {
                again.sent(i).map(|e| (i, e.routes()))
            }
        }),
        stored
            .iter()
            .map(|&(i, key)| (i, key, again.held(i).unwrap_or(events[i].routes())))
            .chain(
                held_keys
                    .into_iter()
                    .zip(held_before.all())
                    .map(|(key, (i, routes))| (i, key, routes)),
            ),
    );
    let mut outcome = Outcome {
        accepted,
        duplicates,
        not_durable,
        receipt: None,
    };
    if accepted == 0 {
        // Every event was stored before: the receipt covers the stored originals, each
        // found by its id and content, never another event with its id (null when the
        // store no longer remembers their links, e.g. after a restart).
        let keys = state
            .destinations
            .receipt_keys(|| admission.receipt_keys(0..events.len()));
        admission.commit();
        publication.publish(&state, |_| true);
        outcome.receipt = state
            .destinations
            .receipts(keys.into_iter().zip(events.iter().map(Routed::routes)))
            .await
            .map_err(unsealed)?;
        return Ok(outcome);
    }
    // The new events, and the events sent again (to their destinations that cannot
    // show they hold them), in batch order. `emitted[k]`: the batch index of the
    // `k`-th, kept only when events are sent again (else the new ones are all).
    let mut emitted: Vec<usize> = Vec::new();
    let mut sent = Vec::with_capacity(accepted);
    let mut sent_positions = Vec::with_capacity(accepted);
    for (i, (e, p)) in events.into_iter().zip(positions).enumerate() {
        let e = if is_new[i] {
            e
        } else if let Some(again) = again.sent(i) {
            again.clone()
        } else {
            continue;
        };
        if again.len() > 0 {
            emitted.push(i);
        }
        sent.push(e);
        sent_positions.push(p);
    }
    // The batch index of the `k`-th event emitted, `new` the admission's new events.
    let index_in = |new: &[usize], k: usize| {
        if again.len() > 0 {
            emitted[k]
        } else {
            new[k]
        }
    };
    let batch_index = |k: usize| index_in(admission.new(), k);
    // Where the `k`-th new event is among those emitted.
    let new_at: Vec<usize> = if again.len() > 0 {
        (0..emitted.len()).filter(|&k| is_new[emitted[k]]).collect()
    } else {
        Vec::new()
    };
    let emitted_of_new = |k: usize| if again.len() > 0 { new_at[k] } else { k };
    // Receipts find the stored events by id and content: keyed by the admission, which
    // hashed each event's identity once for its fingerprint and its receipt tag.
    let keys = state
        .destinations
        .receipt_keys(|| admission.receipt_keys((0..sent.len()).map(batch_index)));
    // The stores that held an emitted event already: an event sent again, its stores;
    // a new event, those that took it in an earlier try (partly_stored.rs).
    let held = |k: usize| match emitted.get(k) {
        Some(&i) => again.held(i).or_else(|| held_before.held(i)),
        None => held_before.held_new(k),
    };
    let failed = match state.dispatcher.emit_routed_acked(sent).await {
        Ok(ack) if ack.is_delivered() => {
            again.count(ack.events(), &emitted, &state.destinations, &state.metrics);
            // Which `required_key` stores took which events: a retry with their key is
            // then known held there while the window remembers the event (those that
            // took it in an earlier try too).
            let mut marks = state.destinations.keyed_marks(ack.events(), batch_index);
            marks.extend(held_before.keyed_marks(&state.destinations));
            // Concurrent retries of these events that waited for this request find
            // them taken by the destinations that cannot show it (sent_again.rs).
            let took = |new: &[usize]| {
                let index = |k: usize| index_in(new, k);
                state.destinations.unshown_taken(ack.events(), index)
            };
            admission.commit_marking(marks, took);
            publication.publish(&state, |_| true);
            // Receipts cover the events this request stored, per store that took them,
            // and the stored records of the events sent again to other destinations;
            // the answer waits for their seals.
            outcome.receipt = state
                .destinations
                .receipts_of(&ack, &keys, held)
                .await
                .map_err(unsealed)?;
            return Ok(outcome);
        }
        Ok(ack) => ack,
        Err(BatchError::Closed) => {
            admission.release();
            return Err(ApiError::unavailable(
                "shutting_down",
                "the server is shutting down; retry against it once it is back",
                BUSY_RETRY,
            ));
        }
        Err(e) => {
            // The workers went away mid-batch: some events may have been stored.
            admission.release();
            tracing::error!("batch not stored: {e}");
            return Err(ApiError::unavailable(
                "destination_failed",
                format!("the batch was not stored by every destination ({e}); retry later"),
                BUSY_RETRY,
            ));
        }
    };
    // The events every accepting destination took are stored: remembered, so that a
    // retry of the batch counts them as duplicates instead of storing them again, and
    // shown live and counted now (the retry will not: it answers them as duplicates).
    // The others may have been stored by some destinations: releasing them lets a retry
    // store them again (a duplicate stored in those, never a loss), and shows them then.
    // An event sent again that a destination did not take stays remembered as
    // stored (its stores hold it): the answer is not `200`, and the retry sends it
    // again.
    let acks = failed.events();
    again.count(acks, &emitted, &state.destinations, &state.metrics);
    let stored = |k: usize| {
        acks.get(emitted_of_new(k))
            .is_some_and(|e| e.is_delivered())
    };
    let mut marks = state.destinations.keyed_marks(acks, batch_index);
    marks.extend(held_before.keyed_marks(&state.destinations));
    let took = |new: &[usize]| {
        let index = |k: usize| index_in(new, k);
        state.destinations.unshown_taken(acks, index)
    };
    // The stores that took the new events not stored everywhere: their retry is not
    // written to those again (partly_stored.rs).
    let stores_took = state
        .destinations
        .stores_taken(acks, batch_index, |k| is_new[batch_index(k)]);
    admission.commit_stored(stored, marks, took, stores_took);
    publication.publish(&state, stored);
    let not_stored: Vec<&auditrail_core::EventAck> = failed
        .events()
        .iter()
        .filter(|e| !e.is_delivered())
        .collect();
    if let Some(refused) = refused_alone(&failed, &sent_positions) {
        return Err(refused);
    }
    let first = not_stored
        .first()
        .map(|e| {
            let failures: Vec<String> = e
                .failures()
                .iter()
                .map(|(_, f)| format!("{}: {}", f.target, f.reason))
                .collect();
            format!(
                "event {} was not taken by {}: {}",
                e.id,
                failures.len(),
                failures.join("; ")
            )
        })
        .unwrap_or_default();
    tracing::error!(failed = not_stored.len(), "batch not stored: {first}");
    Err(ApiError::unavailable(
        "destination_failed",
        format!(
            "{} event(s) were not stored by every destination ({first}); retry later",
            not_stored.len()
        ),
        BUSY_RETRY,
    ))
}

/// When every event some destination did not take was refused by it alone (the rest of
/// its batch taken, the other events of the batch stored), an answer that names those
/// events and why: `422 unstorable` when each was refused for a reason retrying cannot
/// fix ([`FailureKind::Rejected`], e.g. a store whose file system refuses the event's
/// partition folder), so that a node's retry would meet the same answer; `503
/// refused_for_now` when some may be taken later ([`FailureKind::RetryLater`], e.g. a
/// store folder the server may not write until an operator fixes it), so that the node
/// keeps them and sends them again (its retry of the batch is answered as duplicates for
/// the stored events). `None` when any failure is of another kind (a `503
/// destination_failed` then).
fn refused_alone(ack: &BatchAck, positions: &[Position]) -> Option<ApiError> {
    let mut refused = Vec::new();
    let mut for_now = 0usize;
    for (i, e) in ack.events().iter().enumerate() {
        if e.is_delivered() {
            continue;
        }
        let mut reasons = Vec::new();
        let mut later = false;
        for (_, f) in e.failures() {
            match &f.kind {
                FailureKind::Rejected { reason } => reasons.push(format!("{}: {reason}", f.target)),
                FailureKind::RetryLater { reason } => {
                    later = true;
                    reasons.push(format!("{}: {reason}", f.target));
                }
                _ => return None,
            }
        }
        for_now += usize::from(later);
        refused.push((i, e.id, reasons.join("; ")));
    }
    let (_, first_id, first_reason) = refused.first()?;
    let mut err = if for_now > 0 {
        // The store logged the cause when it started (once, not per retry of a node).
        tracing::debug!(
            refused = refused.len(),
            first = %first_id,
            reason = %first_reason,
            "events a destination cannot take now answered 503 (the rest of the batch was stored)"
        );
        let message = format!(
            "{} event(s) cannot be stored now, for a reason an operator can fix; first: \
             event {first_id}: {first_reason}. Send them again later (the other events of the \
             batch were stored: sent again, they are answered as duplicates)",
            refused.len()
        );
        ApiError::unavailable("refused_for_now", message, REFUSED_RETRY)
    } else {
        tracing::error!(
            refused = refused.len(),
            first = %first_id,
            reason = %first_reason,
            "events refused by a destination for good (the rest of the batch was stored)"
        );
        let message = format!(
            "{} event(s) cannot be stored, and retrying will not change that; first: event \
             {first_id}: {first_reason}. The other events of the batch were stored",
            refused.len()
        );
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "unstorable", message)
    };
    let refs: Vec<EventRef> = refused
        .into_iter()
        .map(|(i, id, reason)| EventRef {
            error: Some(err.error),
            id: Some(id.to_string()),
            reason: Some(reason),
            ..EventRef::at(positions.get(i).cloned().unwrap_or(Position::Index(i)))
        })
        .collect();
    if let Some(r) = refs.first() {
        err = err.at(&r.position);
    }
    Some(err.events(refs))
}
