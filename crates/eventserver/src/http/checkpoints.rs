//! `GET /v1/checkpoints`: per store destination, and per partition store of the Kafka
//! sources open on this server, where its chain stands and the last line of its signed
//! checkpoint log. `/v1/stats` holds counters only (each one a metric); this is what
//! the web console shows as the store's integrity status.
//!
//! The server checks every chained store against its checkpoint log and high-water
//! mark when it opens it, and holds a store that fails (or refuses to start), so a
//! store listed here without `held` passed that check; a full verification of every
//! record is `auditrail verify`.

use std::collections::BTreeMap;
use std::sync::Arc;

use auditrail_integrity::Checkpoint;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Serialize;

use super::error::ApiError;
use super::query::held::Smaller;
use super::read::{check_stats_key, held};
use super::AppState;
use crate::auth::Credentials;
use crate::source::{Hold, PartitionId};

const PATH: &str = "/v1/checkpoints";

/// The answer: one entry per store destination, in configuration order; one per
/// partition store open here or held, in source, topic and partition order.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Answer {
    stores: Vec<StoreStatus>,
    partition_stores: Vec<PartitionStatus>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct StoreStatus {
    /// The destination's name.
    name: String,
    /// Its folder.
    path: String,
    /// Whether its records are hash-chained (`chain = false`: no checkpoints).
    chained: bool,
    /// The store's id (chained stores).
    store_id: Option<String>,
    /// Records in the chain (the head's seq).
    records: u64,
    /// The head's chain hash, hex.
    head_hash: String,
    /// The last signed checkpoint; `None` before the first, or unchained, or held.
    last_checkpoint: Option<CheckpointStatus>,
    /// What its checks at start found, when it is held (it takes no event).
    #[serde(skip_serializing_if = "Option::is_none")]
    held: Option<String>,
}

/// A partition store of a Kafka source: open on this server (its records, chain head
/// and last checkpoint), held (its integrity check refused it at open), or waiting
/// (assigned here, its store not open yet); held and waiting ones are not open, so
/// those are `None`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PartitionStatus {
    /// The source's name.
    source: String,
    topic: String,
    partition: i32,
    /// Its folder, `<store_root>/<topic>/<partition>/store`.
    path: String,
    store_id: Option<String>,
    records: Option<u64>,
    head_hash: Option<String>,
    last_checkpoint: Option<CheckpointStatus>,
    /// What its integrity check found, when it is held.
    #[serde(skip_serializing_if = "Option::is_none")]
    held: Option<String>,
    /// Why its store is not open yet, when it waits (being opened, or retried after
    /// an open failed: the lock still held by the previous owner, an I/O error).
    #[serde(skip_serializing_if = "Option::is_none")]
    waiting: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CheckpointStatus {
    /// Its `checkpoint` number: its line's place in the log, from 1.
    index: u64,
    /// The records it vouches for (chain seq).
    seq: u64,
    /// When it was signed (RFC 3339).
    time: String,
    /// The signing public key (`ed25519:<hex>`).
    key: String,
    /// The Merkle tree's size and head, hex, when the line carries them.
    tree_size: Option<u64>,
    tree_head: Option<String>,
    /// Whether the line records a deletion (retention, prune).
    deletion: bool,
}

impl CheckpointStatus {
    fn of(c: &Checkpoint) -> CheckpointStatus {
        CheckpointStatus {
            index: c.index,
            seq: c.link.seq,
            time: c.time.clone(),
            key: c.key.to_string(),
            tree_size: c.tree.as_ref().map(|t| t.size),
            tree_head: c.tree.as_ref().map(|t| hex::encode(t.head)),
            deletion: c.deleted.is_some(),
        }
    }
}

/// `GET /v1/checkpoints`: behind the stats keys as `/v1/stats`.
pub(super) async fn checkpoints(
    State(state): State<Arc<AppState>>,
    credentials: Credentials,
) -> Result<Response, ApiError> {
    check_stats_key(&state, &credentials, PATH)?;
    let stores = state
        .destinations
        .stores()
        .map(|(_, d, store)| {
            let head = store.handle.head();
            // Held first: a store taken back meanwhile (SIGHUP) has its integrity set
            // before its hold is lifted, so it is never shown neither held nor attached.
            let held = store.held().map(|h| h.to_string());
            let integrity = store.integrity();
            StoreStatus {
                name: d.name.clone(),
                path: store.path.display().to_string(),
                chained: store.handle.is_chained(),
                store_id: integrity.map(|i| i.store_id().to_owned()),
                records: head.seq,
                head_hash: hex::encode(head.hash),
                last_checkpoint: integrity
                    .and_then(|i| i.last_checkpoint())
                    .map(|c| CheckpointStatus::of(&c)),
                held,
            }
        })
        .collect();
    let partition_stores = partitions(&state);
    let body = serde_json::to_string(&Answer {
        stores,
        partition_stores,
    })
    .map_err(|e| {
        state.metrics.request(PATH, 500);
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            format!("cannot write the answer: {e}"),
        )
    })?;
    // Counted until read, as every answer of the read endpoints: the answer grows with
    // the store destinations, and a client that asks and never reads would otherwise
    // keep it, uncounted, for as long as its connection lives.
    held(&state, PATH, "application/json", body, Smaller::Nothing)
}

/// The partition stores open here, those held and those waiting to be opened, in
/// source, topic and partition order.
fn partitions(state: &AppState) -> Vec<PartitionStatus> {
    // Held first: a partition assigned again while held is listed open before its
    // hold is dropped, so it is never missing from both lists (shown open then).
    let held: Vec<(PartitionId, Hold)> = state
        .sources
        .iter()
        .flat_map(|m| {
            m.held.listed().into_iter().map(|h| {
                let id = PartitionId {
                    source: m.name().to_owned(),
                    topic: h.topic.clone(),
                    partition: h.partition,
                };
                (id, h)
            })
        })
        .collect();
    let mut list: BTreeMap<PartitionId, PartitionStatus> = BTreeMap::new();
    for (id, h) in held {
        list.insert(
            id.clone(),
            PartitionStatus {
                source: id.source,
                topic: id.topic,
                partition: id.partition,
                path: h.path.display().to_string(),
                store_id: None,
                records: None,
                head_hash: None,
                last_checkpoint: None,
                held: Some(h.found.to_owned()),
                waiting: None,
            },
        );
    }
    // Then those assigned whose store is not open yet (an open store replaces its
    // entry: it is listed as open before the source's list drops it).
    for m in state.sources.iter() {
        for w in m.waiting_list.listed() {
            let id = PartitionId {
                source: m.name().to_owned(),
                topic: w.topic.clone(),
                partition: w.partition,
            };
            list.entry(id.clone()).or_insert(PartitionStatus {
                source: id.source,
                topic: id.topic,
                partition: id.partition,
                path: w.path.display().to_string(),
                store_id: None,
                records: None,
                head_hash: None,
                last_checkpoint: None,
                held: None,
                waiting: Some(w.described()),
            });
        }
    }
    for store in state.partition_stores.listed() {
        let head = store.handle.head();
        let id = store.id.clone();
        list.insert(
            store.id.clone(),
            PartitionStatus {
                source: id.source,
                topic: id.topic,
                partition: id.partition,
                path: store.path.display().to_string(),
                store_id: Some(store.integrity.store_id().to_owned()),
                records: Some(head.seq),
                head_hash: Some(hex::encode(head.hash)),
                last_checkpoint: store
                    .integrity
                    .last_checkpoint()
                    .map(|c| CheckpointStatus::of(&c)),
                held: None,
                waiting: None,
            },
        );
    }
    list.into_values().collect()
}
