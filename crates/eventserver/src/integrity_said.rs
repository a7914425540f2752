//! How a start refused by the tamper evidence machinery is said. A file of it that
//! cannot be read or written (a full disk, a permission) is an I/O problem, said as one:
//! `tamper evidence: .../high-water.jsonl: No space left on device` read as a finding
//! about the store's integrity, and sent the operator to `auditrail verify` instead of
//! to the disk.

use auditrail_integrity::IntegrityError;

/// `e` as a refusal of the start says it: an I/O error as the file and the OS error
/// (with what to do on a full disk), anything else after `tamper evidence: `.
pub(crate) fn said(e: &IntegrityError) -> String {
    match e {
        IntegrityError::Io { path, source } if auditrail_core::durable::is_disk_full(source) => {
            format!(
                "{}: {source}: the file system is full; free space on it, then start the \
                 server again (nodes keep their events meanwhile)",
                path.display()
            )
        }
        IntegrityError::Io { path, source } => auditrail_core::path_and_error(path, source),
        other => format!("tamper evidence: {other}"),
    }
}

/// What an integrity refusal found, in a few words free of paths (a store's file names
/// hold its events' topics and routing keys, and `/readyz` needs no key); `None` when
/// `e` is no finding about the store's evidence (an I/O error, the random source, ...).
pub(crate) fn finding(e: &IntegrityError) -> Option<&'static str> {
    match e {
        IntegrityError::Refused { .. } => {
            Some("its id, checkpoint log, high-water mark or records do not match what was signed")
        }
        IntegrityError::ChainBehindCheckpoint { .. } => {
            Some("its records disagree with its last signed checkpoint")
        }
        IntegrityError::CheckpointLog { .. } => Some("its checkpoint log or id file is damaged"),
        IntegrityError::CheckpointLogGone { .. } => {
            Some("its checkpoint log is not the file the server wrote")
        }
        _ => None,
    }
}

/// Why a store's checks failed, in a few words free of paths: its [`finding`], else
/// the OS error of a file that could not be read or written (without the file), else
/// that its tamper evidence could not be checked (the log has the whole error).
pub(crate) fn in_few_words(e: &IntegrityError) -> String {
    if let Some(found) = finding(e) {
        return found.to_owned();
    }
    match e {
        IntegrityError::Io { source, .. } => {
            format!("a file of its tamper evidence cannot be read or written: {source}")
        }
        _ => "its tamper evidence could not be checked".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_disk_is_said_as_one_and_not_as_tamper_evidence() {
        let e = IntegrityError::Io {
            path: "/data/high-water.jsonl".into(),
            source: std::io::Error::from_raw_os_error(28),
        };
        let said = said(&e);
        assert!(!said.contains("tamper"), "{said}");
        assert!(said.starts_with("/data/high-water.jsonl: "), "{said}");
        assert!(said.contains("the file system is full"), "{said}");
    }
}
