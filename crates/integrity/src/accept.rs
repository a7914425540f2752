//! `auditrail store accept`: a person records, signed, that they accepted a store's
//! state as it is (after a checkpoint log was lost, a backup restored, a store id
//! deleted...), so that the server starts on it again. What was found is part of the
//! signed record (`<data dir>/acceptances.jsonl`, and the store's high-water mark),
//! and `auditrail verify` reports it from then on.

use std::path::Path;

use auditrail_store::chain::ChainLink;
use auditrail_store::root::read_store_id;
use auditrail_store::STORE_ID_FILE;

use super::guard::read_log;
use super::high_water::{Acceptance, HighWaterMark, HighWaterMarks, MarkState};
use super::keys::Signer;
use super::IntegrityError;

/// What [`accept`] did.
#[derive(Debug, Clone)]
pub struct Accepted {
    /// The signed mark now in force.
    pub mark: HighWaterMark,
    /// The store id was missing and was written back from the checkpoint log (or the
    /// earlier mark).
    pub restored_id: Option<String>,
}

/// Accepts the state of the store at `store`: restores a missing store id from its
/// checkpoint log (or its earlier high-water mark), then signs a high-water mark at
/// the log's last checkpoint (none: checkpoint 0) carrying the acceptance (`by`,
/// `reason`, `found`), and appends it to the acceptance history. Run it with the
/// server stopped.
pub fn accept(
    store: &Path,
    marks: &HighWaterMarks,
    signer: &Signer,
    by: &str,
    reason: &str,
    found: &str,
) -> Result<Accepted, IntegrityError> {
    let log = read_log(store)?;
    let earlier = marks.get(store).ok().flatten();
    let mut restored_id = None;
    let store_id = match read_store_id(store) {
        Some(id) => id,
        None => {
            let id = log
                .last()
                .map(|l| l.cp.store_id.clone())
                .or_else(|| earlier.as_ref().map(|m| m.store_id.clone()))
                .ok_or_else(|| IntegrityError::CheckpointLog {
                    path: store.join(STORE_ID_FILE),
                    line: 0,
                    reason: "the store id is missing and neither a checkpoint log nor a high-water mark names it".into(),
                })?;
            if !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') || id.is_empty() {
                return Err(IntegrityError::CheckpointLog {
                    path: store.join(STORE_ID_FILE),
                    line: 0,
                    reason: format!("the id the checkpoint log names ({id:?}) is not a store id"),
                });
            }
            let path = store.join(STORE_ID_FILE);
            std::fs::write(&path, format!("{id}\n"))
                .and_then(|()| std::fs::File::open(&path)?.sync_all())
                .and_then(|()| auditrail_core::durable::sync_dir(store))
                .map_err(|e| IntegrityError::io(&path, e))?;
            restored_id = Some(id.clone());
            id
        }
    };
    let (checkpoint, link, checkpoint_digest) = match log.last() {
        Some(l) => (l.cp.index, l.cp.link, l.digest),
        None => (0, ChainLink::GENESIS, [0; 32]),
    };
    let mut found = found.to_string();
    if let Some(id) = &restored_id {
        found.push_str(&format!(
            "; {STORE_ID_FILE} was missing and was restored as {id}"
        ));
    }
    let mark = marks.put(
        signer,
        store,
        &MarkState {
            store_id,
            checkpoint,
            link,
            checkpoint_digest,
            accepted: Some(Acceptance {
                by: by.to_string(),
                reason: reason.to_string(),
                found,
            }),
        },
    )?;
    Ok(Accepted { mark, restored_id })
}
