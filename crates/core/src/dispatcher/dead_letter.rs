//! Dead-letter files: where events go that a target will never take.
//!
//! One JSON-lines file per target, `<dead_letter_dir>/<target>.jsonl`, each line
//! `{"failedAt": "...", "target": "...", "error": "...", "event": {...}}`. Lines are
//! appended and fsynced before the events count as dead-lettered. `auditrail send
//! --stdin` accepts these lines as they are, to re-send them once the cause is fixed.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Serialize;

use crate::event::{Event, Timestamp};

/// The dead-letter file of one target.
#[derive(Debug)]
pub(crate) struct DeadLetterFile {
    path: PathBuf,
    file: Option<File>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Line<'a> {
    failed_at: Timestamp,
    target: &'a str,
    error: &'a str,
    event: &'a Event,
}

impl DeadLetterFile {
    pub(crate) fn new(dir: &Path, target: &str) -> DeadLetterFile {
        DeadLetterFile {
            path: dir.join(format!("{target}.jsonl")),
            file: None,
        }
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Appends and fsyncs one line per event. Opens (and creates the folder) lazily:
    /// most targets never dead-letter anything.
    pub(crate) fn write(
        &mut self,
        target: &str,
        events: &[(&Arc<Event>, &str)],
    ) -> std::io::Result<()> {
        let mut buf = Vec::with_capacity(events.len() * 400);
        let failed_at = Timestamp::now();
        for (event, error) in events {
            serde_json::to_writer(
                &mut buf,
                &Line {
                    failed_at,
                    target,
                    error,
                    event,
                },
            )?;
            buf.push(b'\n');
        }
        let file = match &mut self.file {
            Some(f) => f,
            None => {
                if let Some(parent) = self.path.parent() {
                    std::fs::create_dir_all(parent)?;
                }
                let f = OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&self.path)?;
                self.file.insert(f)
            }
        };
        file.write_all(&buf)?;
        file.sync_data()
    }
}
