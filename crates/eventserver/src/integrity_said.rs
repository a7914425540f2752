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
        IntegrityError::Io { path, source } => format!("{}: {source}", path.display()),
        other => format!("tamper evidence: {other}"),
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
