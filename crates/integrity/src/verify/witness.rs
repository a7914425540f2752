//! Checkpoints held by witnesses (`auditrail verify --witness`): copies of signed
//! checkpoint lines kept where this server cannot rewrite them (another event server's
//! store, a Kafka topic, a file), checked against the store's own log. A witnessed line
//! the log no longer has, past its end, is a rollback; a different line under the same
//! number is a fork (two histories signed).

use std::path::Path;

use auditrail_store::{SegmentReader, StoreFiles};

use crate::checkpoint::{parse_unverified, Checkpoint};
use crate::keys::PublicKey;
use crate::IntegrityError;

use super::checkpoints::LoggedCheckpoint;
use super::report::{Problem, ProblemKind, Severity, StoreReport};

/// One witnessed checkpoint line, with where it was found.
#[derive(Debug, Clone)]
pub struct Witnessed {
    /// `file:line`, or the witness store's segment and line.
    pub source: String,
    /// The exact signed checkpoint line.
    pub line: String,
}

/// Reads what a witness holds: a file of JSON lines, each a checkpoint line itself, a
/// checkpoint event (its `message.line`, as the server's `[[witnesses]]` send it: from
/// Kafka, from `auditrail query events --format ndjson`), a stored record of one
/// (`clientEvent.message.line`) or a dead letter of one (`event.message.line`); or a
/// witness event server's store folder, whose records are read with the store's reader.
/// Lines that hold no checkpoint are skipped. A file is read as an operator's
/// ([`crate::read_given_text`]): a regular file or a pipe of at most
/// [`crate::MAX_WITNESS_FILE_BYTES`].
pub fn read_witness(path: &Path) -> Result<Vec<Witnessed>, IntegrityError> {
    let mut out = Vec::new();
    if path.is_dir() {
        let files = StoreFiles::walk(path)?;
        for segment in files.segments() {
            let mut n = 0u64;
            SegmentReader::open(&segment.path)?.for_each_line(|l| {
                n += 1;
                if let Some((line, node)) =
                    std::str::from_utf8(l.bytes).ok().and_then(checkpoint_line)
                {
                    out.push(Witnessed {
                        source: sourced(format!("{}:{n}", segment.path.display()), node),
                        line,
                    });
                }
            })?;
        }
        return Ok(out);
    }
    let text = crate::given::read_given_text(path, crate::given::MAX_WITNESS_FILE_BYTES)?;
    for (i, l) in text.lines().enumerate() {
        if let Some((line, node)) = checkpoint_line(l) {
            out.push(Witnessed {
                source: sourced(format!("{}:{}", path.display(), i + 1), node),
                line,
            });
        }
    }
    Ok(out)
}

/// `source`, with the node that sent the line to the witness when known: a line
/// someone else wrote to the witness shows under another node than the server's.
fn sourced(source: String, node: Option<String>) -> String {
    match node {
        Some(node) => format!("{source} (sent by node {node:?})"),
        None => source,
    }
}

/// The checkpoint line a JSON line holds, in any of the shapes [`read_witness`] reads,
/// with the node of the event that carried it (when it is an event).
fn checkpoint_line(text: &str) -> Option<(String, Option<String>)> {
    let v: serde_json::Value = serde_json::from_str(text.trim()).ok()?;
    if v.get("checkpoint").is_some() && v.get("sig").is_some() {
        return Some((text.trim().to_string(), None));
    }
    [&[][..], &["clientEvent"][..], &["event"][..]]
        .iter()
        .find_map(|path| {
            let event = path.iter().try_fold(&v, |at, k| at.get(k))?;
            let line = event.get("message")?.get("line")?.as_str()?.to_string();
            let node = event
                .get("node")
                .and_then(|n| n.as_str())
                .map(str::to_string);
            Some((line, node))
        })
}

/// The store's chain of signing keys, extended by the rotation lines (`nextKey`) the
/// witnesses hold that a key already in the chain signed. A log rolled back (or cut)
/// before a rotation no longer names the new key, but the witnessed rotation line,
/// signed by the retiring key, still hands over to it: a witnessed line the new key
/// signed after it is the store's own (and so `rolled-back` or `forked`), not another
/// key's (`wrong-key`).
fn extended_key_chain(
    store_id: &str,
    witnessed: &[Witnessed],
    key_chain: &[PublicKey],
    trusted: Option<&PublicKey>,
) -> Vec<PublicKey> {
    let mut chain = key_chain.to_vec();
    if let Some(t) = trusted {
        if !chain.contains(t) {
            chain.push(*t);
        }
    }
    let mut rotations: Vec<Checkpoint> = witnessed
        .iter()
        .filter_map(|w| Checkpoint::parse_line(w.line.as_bytes()).ok())
        .filter(|cp| cp.store_id == store_id && cp.next_key.is_some())
        .collect();
    rotations.sort_by_key(|cp| cp.index);
    // In log order, each rotation line signed by a key of the chain adds its successor
    // (a line signed by an unknown key adds nothing: it is reported as `wrong-key`).
    for cp in rotations {
        if let Some(next) = cp.next_key {
            if chain.contains(&cp.key) && !chain.contains(&next) {
                chain.push(next);
            }
        }
    }
    chain
}

/// Checks the witnessed lines of this store (by store id) against its log; returns how
/// many the log holds exactly.
pub(crate) fn check(
    store_id: Option<&str>,
    witnessed: &[Witnessed],
    logged: &[LoggedCheckpoint],
    key_chain: &[PublicKey],
    trusted: Option<&PublicKey>,
    report: &mut StoreReport,
) -> u64 {
    let Some(id) = store_id else { return 0 };
    let last_index = logged.iter().map(|l| l.cp.index).max().unwrap_or(0);
    // Each witnessed line is looked up by its number: a scan of the log per line made
    // `verify --witness` quadratic (a year of a line a minute is ~525 000 lines). The
    // first line of a number wins, as the scan's `find` did.
    let mut by_index: std::collections::HashMap<u64, &LoggedCheckpoint> =
        std::collections::HashMap::with_capacity(logged.len());
    for l in logged {
        by_index.entry(l.cp.index).or_insert(l);
    }
    let key_chain = extended_key_chain(id, witnessed, key_chain, trusted);
    let mut confirmed = 0;
    for w in witnessed {
        let claimed = match parse_unverified(w.line.as_bytes()) {
            Ok(claimed) => claimed,
            Err(e) => {
                // Not a checkpoint line as the server writes them (its fields moved,
                // cut, damaged): no signature can be checked, so it is no evidence. Said
                // under the store it names, when it names one it can be read from;
                // before, it was skipped without a word.
                let named = serde_json::from_str::<serde_json::Value>(&w.line)
                    .ok()
                    .and_then(|v| v.get("storeId")?.as_str().map(str::to_string));
                if named.as_deref() == Some(id) {
                    let mut p = Problem::error(
                        ProblemKind::MalformedCheckpoint,
                        format!(
                            "witness {}: a line naming this store is not a checkpoint line as the server writes them ({e}): its signature cannot be checked, so it is no evidence about this store (damaged at the witness, or written there by another sender); not counted",
                            w.source
                        ),
                    );
                    p.severity = Severity::Warning;
                    report.push(p);
                }
                continue;
            }
        };
        if claimed.store_id != id {
            continue;
        }
        let cp = match Checkpoint::parse_line(w.line.as_bytes()) {
            Ok(cp) => cp,
            Err(e) => {
                // No key signed it: it says nothing about the store's history (damaged
                // at the witness, or written there by whoever may send to it), and a
                // line anyone can add must not fail the store.
                let mut p = Problem::error(
                    ProblemKind::BadSignature,
                    format!(
                        "witness {}: a line naming this store as checkpoint #{} does not verify ({e}): no key signed it, so it is no evidence about this store (damaged at the witness, or written there by another sender); not counted",
                        w.source, claimed.index
                    ),
                );
                p.severity = Severity::Warning;
                report.push(p);
                continue;
            }
        };
        let ours = key_chain.contains(&cp.key);
        if !ours {
            // With a trusted key, a line of another key is not the store's (someone
            // else signed it and sent it to the witness). Without one, the store's keys
            // come from its own folder, which an attacker may have replaced: a line of
            // the genuine key then shows as another key's, and fails the store.
            let mut p = Problem::error(
                ProblemKind::WrongKey,
                if trusted.is_some() {
                    format!(
                        "witness {}: a line naming this store as checkpoint #{} is signed by {}, neither the trusted key nor a key of this store's chain: not this store's line (written to the witness by another sender); not counted",
                        w.source, cp.index, cp.key
                    )
                } else {
                    format!(
                        "witness {}: checkpoint #{} is signed by {}, no key of this store (its keys were read from the store's own folder: pass --public-key with a copy kept elsewhere to tell a replaced key from another sender's line)",
                        w.source, cp.index, cp.key
                    )
                },
            );
            if trusted.is_some() {
                p.severity = Severity::Warning;
            }
            report.push(p);
            continue;
        }
        match by_index.get(&cp.index).copied() {
            Some(l) if l.cp == cp => confirmed += 1,
            Some(l) => report.push(
                Problem::error(
                    ProblemKind::Forked,
                    format!(
                        "witness {} holds checkpoint #{} (chainSeq {}, chain hash {}, signed {}), the log's line {} is another #{} (chainSeq {}, chain hash {}, signed {}): two histories were signed (a fork)",
                        w.source,
                        cp.index,
                        cp.link.seq,
                        cp.link.hash_hex(),
                        cp.time,
                        l.line,
                        l.cp.index,
                        l.cp.link.seq,
                        l.cp.link.hash_hex(),
                        l.cp.time
                    ),
                )
                .at(&l.file, l.line)
                .seqs(cp.link.seq, cp.link.seq),
            ),
            None if cp.index > last_index => report.push(
                Problem::error(
                    ProblemKind::RolledBack,
                    format!(
                        "witness {} holds checkpoint #{} (chainSeq {}, signed {}), but the checkpoint log ends at #{last_index}: checkpoints, and the records they vouched for, were rolled back",
                        w.source, cp.index, cp.link.seq, cp.time
                    ),
                )
                .seqs(cp.link.seq, cp.link.seq),
            ),
            // A line of the log that does not parse: reported by the log check.
            None => {}
        }
    }
    confirmed
}
