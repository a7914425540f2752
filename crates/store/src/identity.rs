//! What tells an event from another with the same id, hashed: the one definition of an
//! event's identity fields, shared by the store's receipt lookup ([`ReceiptKey`]) and
//! the server's de-duplication fingerprint, for a received event and for a stored
//! record alike.
//!
//! Event ids are chosen by clients: two different events may share one, and both are
//! stored. What a retry repeats exactly and another event need not is the node, seq,
//! topic, routing key (or none), timestamp (its milliseconds) and the message's JSON
//! text as kept ([`auditrail_core::Message::json`], which the store writes unchanged
//! into `clientEvent`, so [`EventIdentity`] borrows the same text from a record).

use std::hash::BuildHasher;
use std::sync::LazyLock;

use auditrail_core::{Event, EventId};

use crate::record::EventIdentity;
use crate::stored_event::WireEvent;

/// The identity fields, in the order they are hashed: a received event and its stored
/// record must feed the same values in the same order.
#[derive(Hash)]
struct Fields<'a> {
    node: &'a str,
    seq: u64,
    topic: &'a str,
    routing_key: Option<&'a str>,
    timestamp_millis: i64,
    /// The message's JSON text as kept (and stored).
    message: &'a str,
}

/// The hash of `event`'s identity fields under `hasher` (keyed by the caller: clients
/// choose the content, so they must not be able to precompute a collision). A message
/// read from JSON is hashed in place (no allocation).
pub fn identity_hash<S: BuildHasher>(hasher: &S, event: &Event) -> u64 {
    let message = event.message.json();
    hasher.hash_one(Fields {
        node: event.node.as_str(),
        seq: event.seq,
        topic: event.topic.as_str(),
        routing_key: event.routing_key.as_ref().map(|k| k.as_str()),
        timestamp_millis: event.timestamp.unix_millis(),
        message: &message,
    })
}

impl EventIdentity<'_> {
    /// [`identity_hash`] of the event this record holds: the value its event had when
    /// it was received.
    pub fn identity_hash<S: BuildHasher>(&self, hasher: &S) -> u64 {
        hasher.hash_one(Fields {
            node: &self.node,
            seq: self.seq,
            topic: &self.topic,
            routing_key: self.routing_key.as_deref(),
            timestamp_millis: self.timestamp.unix_millis(),
            message: self.message,
        })
    }
}

impl WireEvent<'_> {
    /// [`identity_hash`] of this event as stored (a record read by
    /// [`StoredEvent::read`](crate::StoredEvent::read)): the value it had when it was
    /// received.
    pub fn identity_hash<S: BuildHasher>(&self, hasher: &S) -> u64 {
        hasher.hash_one(Fields {
            node: &self.node,
            seq: self.seq,
            topic: &self.topic,
            routing_key: self.routing_key.as_deref(),
            timestamp_millis: self.timestamp.unix_millis(),
            message: self.message.get(),
        })
    }
}

/// How a receipt finds a stored event among the store's recent records: its id and a
/// tag of its identity fields, so that another event with the same id is never taken
/// for it. Made by [`StoreHandle::receipt_key`](crate::StoreHandle::receipt_key), the
/// one function the writer and the lookup share.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ReceiptKey {
    /// The event's id.
    pub id: EventId,
    /// [`identity_hash`] of the event under a key chosen at random once per process.
    pub tag: u64,
}

/// The key of receipt tags: one per process, random (ids and content are chosen by
/// clients). Tags live only in memory (the ring of recent links), never on disk.
static TAG_KEY: LazyLock<foldhash::quality::RandomState> = LazyLock::new(Default::default);

/// The key receipt tags are hashed with ([`ReceiptKey::tag`]). The server's
/// de-duplication fingerprints events with it too, so that an event's fingerprint is
/// its receipt tag and the ingest hashes each event's identity once for both.
pub fn receipt_tag_key() -> &'static foldhash::quality::RandomState {
    &TAG_KEY
}

impl ReceiptKey {
    /// The key of `event` (one hash of its identity fields).
    pub(crate) fn of(event: &Event) -> ReceiptKey {
        ReceiptKey {
            id: event.id,
            tag: identity_hash(&*TAG_KEY, event),
        }
    }
}
