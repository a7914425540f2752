//! The `"receipt"` of a `200` answer: per chained `store` destination, a signed receipt
//! over the events of the batch that destination holds (see docs/protocol.md).

use std::sync::Arc;

use auditrail_core::{Event, EventId, Filter};
use serde_json::Value;

use crate::store::StoreHandle;
use auditrail_integrity::{Receipt, Signer};

/// What the handlers need to sign receipts for one chained `store` destination (the
/// checkpoint task itself is owned by the running server, which closes it).
#[derive(Debug, Clone)]
pub struct Seal {
    /// Destination name (the key of the receipt map when there are several stores).
    pub name: String,
    /// Its filter: a receipt covers only the events this store was given.
    pub filter: Filter,
    /// The open store.
    pub handle: StoreHandle,
    /// The store's id (`<store>/store-id`).
    pub store_id: String,
    /// The server's signing key.
    pub signer: Arc<Signer>,
}

impl Seal {
    /// A signed receipt for these stored events (`None` when one of them is unknown to
    /// the store: not stored there, or too long ago).
    pub fn receipt(&self, ids: &[EventId]) -> Option<Receipt> {
        let r = self.handle.chain_range(ids)?;
        Some(Receipt::new(&self.store_id, r.first_seq, r.last).signed(&self.signer))
    }
}

/// The ids each seal's receipt covers: the events of the batch its filter accepts,
/// among `chosen` (the newly stored events, or all of them for an all-duplicates
/// batch).
pub fn ids_per_seal(seals: &[Seal], events: &[Event], chosen: &[bool]) -> Vec<Vec<EventId>> {
    seals
        .iter()
        .map(|s| {
            events
                .iter()
                .zip(chosen)
                .filter(|(e, &c)| c && s.filter.accepts(e))
                .map(|(e, _)| e.id)
                .collect()
        })
        .collect()
}

/// The `"receipt"` value: `None` without chained stores (the key is left out); with
/// one, its receipt object (or `null`); with several, an array of the receipts of the
/// stores that took events of the batch, in configuration order (each names its store
/// by `storeId`). An array of receipt objects is what `auditrail verify --receipt`
/// reads from a saved answer.
pub fn answer(seals: &[Seal], ids: &[Vec<EventId>]) -> Option<Value> {
    let one = |s: &Seal, ids: &[EventId]| -> Option<Value> {
        if ids.is_empty() {
            return None;
        }
        s.receipt(ids).and_then(|r| serde_json::to_value(r).ok())
    };
    match seals {
        [] => None,
        [s] => Some(one(s, ids.first().map_or(&[][..], Vec::as_slice)).unwrap_or(Value::Null)),
        _ => Some(Value::Array(
            seals
                .iter()
                .zip(ids)
                .filter_map(|(s, ids)| one(s, ids))
                .collect(),
        )),
    }
}
