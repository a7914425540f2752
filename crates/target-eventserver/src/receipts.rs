//! The receipts the event server signs in its `200` answers, kept by the node: one
//! JSON line per acknowledged batch in `<run_dir>/receipts/<target name>/<UTC
//! date>.jsonl` (`keep_receipts`, `receipts_dir`).
//!
//! A node's receipts are a copy of the server's acknowledgements that the server cannot
//! rewrite: `auditrail verify <store> --receipt <that folder>` proves that the store
//! still holds what each receipt vouches for, and names a receipt whose records were
//! changed, removed or rolled back (docs/tamper-evidence.md, "Receipts").
//!
//! Line: `{"time":"<RFC 3339, when the answer came>","server":"<url>","receipt":<the
//! answer's receipt, as sent: an object, or an array with one per store>}`. Answers
//! without a receipt (no chained store at the server) leave no line.
//!
//! Written without fsync: the events' own durability is the spool's and the server's;
//! a node crash may lose the last receipts, which are copies of evidence the server
//! also keeps. A receipt that cannot be written is logged (once per failure streak)
//! and never fails the batch.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

/// Where one target keeps its receipts.
#[derive(Debug)]
pub(crate) struct ReceiptLog {
    dir: PathBuf,
    server: String,
    /// Appends of concurrent answers, one line each, never interleaved.
    write: Mutex<()>,
    /// A failure was logged and no write succeeded since.
    failing: AtomicBool,
    /// The check of the folder holding the receipts folder (see
    /// [`auditrail_core::folder_check`]), asked before each append, which makes the
    /// folder: a data folder moved away is not made again at its path.
    folder_check: Option<Arc<dyn auditrail_core::FolderCheck>>,
}

impl ReceiptLog {
    pub(crate) fn new(dir: PathBuf, server: &str) -> ReceiptLog {
        ReceiptLog {
            dir,
            server: server.to_owned(),
            write: Mutex::new(()),
            failing: AtomicBool::new(false),
            folder_check: None,
        }
    }

    /// Asks `check` before each append (see [`auditrail_core::folder_check`]).
    pub(crate) fn with_folder_check(
        mut self,
        check: Option<Arc<dyn auditrail_core::FolderCheck>>,
    ) -> ReceiptLog {
        self.folder_check = check;
        self
    }

    /// Keeps the receipt of a `200` answer's text, if it has one.
    pub(crate) fn keep(&self, answer: &str) {
        let Ok(serde_json::Value::Object(mut answer)) = serde_json::from_str(answer) else {
            return;
        };
        let receipt = match answer.remove("receipt") {
            None | Some(serde_json::Value::Null) => return,
            Some(r) => r,
        };
        let now = auditrail_core::Timestamp::now();
        let line = serde_json::json!({
            "time": now.to_string(),
            "server": self.server,
            "receipt": receipt,
        })
        .to_string()
            + "\n";
        let file = self
            .dir
            .join(format!("{}.jsonl", now.as_datetime().format("%Y-%m-%d")));
        let _guard = self.write.lock().unwrap_or_else(PoisonError::into_inner);
        // A line an earlier write left cut short (a crash, a full disk) is ended first,
        // so this receipt reads back.
        let written = auditrail_core::folder_check::ask(self.folder_check.as_deref())
            .and_then(|()| auditrail_core::jsonl::append(&file, line.as_bytes(), false));
        match written {
            Ok(()) => self.failing.store(false, Ordering::Relaxed),
            Err(e) => {
                if !self.failing.swap(true, Ordering::Relaxed) {
                    tracing::warn!(file = %file.display(), error = %e, "cannot keep the server's receipt (the batch is delivered; the receipt is the node's copy of the acknowledgement)");
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_receipt_is_kept_as_one_line_and_an_answer_without_one_leaves_none() {
        let dir = tempfile::tempdir().unwrap();
        let log = ReceiptLog::new(dir.path().join("r"), "http://s");
        log.keep(r#"{"accepted":1,"duplicates":0}"#);
        assert!(!dir.path().join("r").exists());
        log.keep(r#"{"accepted":1,"receipt":{"storeId":"x","firstSeq":1,"lastSeq":1}}"#);
        log.keep(r#"{"accepted":2,"receipt":[{"storeId":"y"}]}"#);
        let files: Vec<_> = std::fs::read_dir(dir.path().join("r")).unwrap().collect();
        assert_eq!(files.len(), 1);
        let text = std::fs::read_to_string(files[0].as_ref().unwrap().path()).unwrap();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0]["receipt"]["storeId"], "x");
        assert_eq!(lines[1]["receipt"][0]["storeId"], "y");
        assert_eq!(lines[0]["server"], "http://s");
    }
}
