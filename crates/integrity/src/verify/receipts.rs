//! Reading receipt files and judging receipts against a walked store.

use std::path::Path;

use crate::keys::PublicKey;
use crate::receipt::Receipt;
use crate::IntegrityError;

use super::deletions::Deletions;
use super::report::ReceiptReport;

/// What a receipt file holds: its receipts, each named by the file (and `#n` when it
/// holds several), and the lines skipped.
#[derive(Debug, Clone, Default)]
pub struct ReceiptFile {
    /// The receipts read.
    pub receipts: Vec<(String, Receipt)>,
    /// Lines that hold no readable receipt, each with its 1-based number and why.
    pub skipped: Vec<(u64, String)>,
}

/// Reads the receipts in a file: one JSON value per line, or one JSON document; each a
/// receipt object, an object with a `receipt` field (such as a saved `200` answer of
/// `POST /v1/events`), or an array of those.
///
/// In a file of lines, a line that holds no readable receipt is skipped and listed in
/// [`ReceiptFile::skipped`]: a node keeps its receipts without fsync (a copy of what the
/// server keeps), so a crash or a full disk can leave part of a line, and the other
/// receipts of the file must still be checked. Errors: the file cannot be read; it holds
/// nothing at all; it is one JSON document (not lines) that holds something other than
/// receipts. The file is read as an operator's ([`crate::read_given_text`]): a regular
/// file or a pipe of at most [`crate::MAX_RECEIPT_FILE_BYTES`].
pub fn read_receipts(path: &Path) -> Result<ReceiptFile, IntegrityError> {
    let text = crate::given::read_given_text(path, crate::given::MAX_RECEIPT_FILE_BYTES)?;
    let bad = |line: u64, reason: String| IntegrityError::ReceiptFile {
        path: path.to_path_buf(),
        line,
        reason,
    };
    let name = path.display().to_string();
    let mut file = ReceiptFile::default();
    let mut values: Vec<(u64, serde_json::Value)> = Vec::new();
    match serde_json::from_str::<serde_json::Value>(&text) {
        Ok(v) => {
            let mut flat = Vec::new();
            collect(v, &mut flat);
            for (i, v) in flat.into_iter().enumerate() {
                let r: Receipt = serde_json::from_value(v)
                    .map_err(|e| bad(0, format!("receipt {}: {e}", i + 1)))?;
                file.receipts.push((name.clone(), r));
            }
        }
        Err(_) => {
            for (i, line) in text.lines().enumerate() {
                let n = i as u64 + 1;
                if line.trim().is_empty() {
                    continue;
                }
                match serde_json::from_str(line) {
                    Ok(v) => values.push((n, v)),
                    Err(e) => file.skipped.push((n, format!("not JSON: {e}"))),
                }
            }
            for (n, v) in values {
                let mut flat = Vec::new();
                collect(v, &mut flat);
                let read: Result<Vec<Receipt>, _> =
                    flat.into_iter().map(serde_json::from_value).collect();
                match read {
                    Ok(rs) if rs.is_empty() => file.skipped.push((n, "no receipt in it".into())),
                    Ok(rs) => file
                        .receipts
                        .extend(rs.into_iter().map(|r| (name.clone(), r))),
                    Err(e) => file.skipped.push((n, format!("not a receipt: {e}"))),
                }
            }
        }
    }
    if file.receipts.is_empty() && file.skipped.is_empty() {
        return Err(bad(0, "no receipt in the file".into()));
    }
    if file.receipts.len() > 1 {
        for (i, (source, _)) in file.receipts.iter_mut().enumerate() {
            *source = format!("{name}#{}", i + 1);
        }
    }
    Ok(file)
}

fn collect(v: serde_json::Value, out: &mut Vec<serde_json::Value>) {
    match v {
        serde_json::Value::Array(items) => items.into_iter().for_each(|i| collect(i, out)),
        serde_json::Value::Object(mut m)
            if m.contains_key("receipt") || m.contains_key("receipts") =>
        {
            if let Some(r) = m.remove("receipt") {
                collect(r, out);
            }
            if let Some(r) = m.remove("receipts") {
                collect(r, out);
            }
        }
        other => out.push(other),
    }
}

/// Whether the walked store still holds what the receipt acknowledged.
pub(crate) fn judge(
    source: &str,
    r: &Receipt,
    (trusted, key_chain): (Option<&PublicKey>, &[PublicKey]),
    damaged: &[(u64, u64)],
    last_seq: u64,
    hash_ok: Option<bool>,
    deletions: &Deletions,
) -> ReceiptReport {
    // A receipt is evidence only through the server's signature on it (the server signs
    // every receipt it gives): anyone can write one, for any range. One that is unsigned
    // or whose signature does not verify is refused before its range is compared with
    // the store, so that records it names are never reported as acknowledged and gone.
    if let Some(refused) = unproven(r, trusted, key_chain) {
        return ReceiptReport {
            source: source.to_string(),
            store_id: r.store_id.clone(),
            first_seq: r.first_seq,
            last_seq: r.last_seq,
            ok: false,
            reasons: vec![refused],
            deleted: None,
        };
    }
    let mut reasons = Vec::new();
    let mut deleted = None;
    if r.first_seq == 0 || r.first_seq > r.last_seq {
        reasons.push(format!("invalid range {}..{}", r.first_seq, r.last_seq));
    }
    if r.last_seq > last_seq {
        reasons.push(format!(
            "the store ends at chainSeq {last_seq}: chainSeq {}..{} acknowledged by the receipt are gone",
            (last_seq + 1).max(r.first_seq),
            r.last_seq
        ));
    } else {
        match hash_ok {
            Some(true) => {}
            Some(false) => reasons.push(format!(
                "the record at chainSeq {} has another chain hash than the receipt: it or an earlier record was rewritten",
                r.last_seq
            )),
            None if deletions.contains(r.last_seq) => {
                // Deleted by a signed, recorded deletion (retention): the hash recorded
                // at the end of the deleted run is the receipt's when it ends there.
                let mut want = [0u8; 32];
                let known = hex::decode_to_slice(&r.chain_hash, &mut want).is_ok();
                deleted = Some(match deletions.hash_at(r.last_seq) {
                    Some((h, _)) if known && h == want => {
                        "deleted by a recorded deletion (retention); the chain hash recorded at its end matches the receipt".to_string()
                    }
                    Some(_) => {
                        reasons.push(format!(
                            "its records were deleted by a recorded deletion, but the chain hash recorded for chainSeq {} differs from the receipt's",
                            r.last_seq
                        ));
                        "deleted by a recorded deletion (retention)".to_string()
                    }
                    None => "deleted by a recorded deletion (retention); its last record was not at the end of a deleted run, so its hash could not be compared".to_string(),
                });
                // Records of the range that are still there were checked by the walk
                // (a late event deleted with its old day, the rest of its batch kept):
                // any damage to them is in `damaged` below.
            }
            None => reasons.push(format!("the record at chainSeq {} is missing", r.last_seq)),
        }
    }
    let hits: Vec<String> = damaged
        .iter()
        .filter(|(lo, hi)| *lo <= r.last_seq && *hi >= r.first_seq)
        .take(5)
        .map(|(lo, hi)| {
            if lo == hi {
                format!("{lo}")
            } else {
                format!("{lo}..{hi}")
            }
        })
        .collect();
    if !hits.is_empty() {
        reasons.push(format!(
            "records in the receipt's range are missing, changed or out of order (chainSeq {})",
            hits.join(", ")
        ));
    }
    ReceiptReport {
        source: source.to_string(),
        store_id: r.store_id.clone(),
        first_seq: r.first_seq,
        last_seq: r.last_seq,
        ok: reasons.is_empty(),
        reasons,
        deleted,
    }
}

/// Why the receipt proves no acknowledgement by the server: it is unsigned, or its
/// signature does not verify under the trusted key (or the key of the store's chain it
/// names); `None` when it is signed by the server.
pub(crate) fn unproven(
    r: &Receipt,
    trusted: Option<&PublicKey>,
    key_chain: &[PublicKey],
) -> Option<String> {
    if r.sig.is_none() {
        return Some(UNSIGNED.to_string());
    }
    // A receipt signed before (or after) a key rotation names a key of the store's
    // chain: it holds when the trusted key is in that chain too.
    let named = r.named_key();
    let key = match (trusted, named) {
        (Some(t), Some(n)) if key_chain.contains(t) && key_chain.contains(&n) => Some(n),
        (Some(t), _) => Some(*t),
        (None, n) => n,
    };
    match key.and_then(|k| r.signature_valid(&k)) {
        Some(true) => None,
        _ => Some(
            "the receipt's signature does not verify under the trusted key (edited after it was signed, or signed by another key): it is no proof that the server acknowledged these records, and its range was not compared with the store"
                .to_string(),
        ),
    }
}

/// The reason given for a receipt without `sig`.
pub(crate) const UNSIGNED: &str = "unsigned: the receipt has no \"sig\" (the server signs every receipt it gives), so it is no proof that the server acknowledged these records, and its range was not compared with the store";
