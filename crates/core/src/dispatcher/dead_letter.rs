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

    /// Appends and fsyncs one line per event, on a blocking thread (fsync must not
    /// stall the runtime that every target shares). Opens (and creates the folder)
    /// lazily: most targets never dead-letter anything.
    pub(crate) async fn write(
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
        let path = self.path.clone();
        let file = self.file.take();
        match tokio::task::spawn_blocking(move || append(file, &path, &buf)).await {
            Ok((file, result)) => {
                self.file = file;
                result
            }
            Err(e) => Err(std::io::Error::other(format!(
                "the dead-letter writer did not run: {e}"
            ))),
        }
    }
}

/// Appends `buf` and fsyncs; gives the file back for the next write (not after an
/// error: the next write reopens it).
fn append(file: Option<File>, path: &Path, buf: &[u8]) -> (Option<File>, std::io::Result<()>) {
    let opened = match file {
        Some(f) => Ok(f),
        None => open(path),
    };
    match opened {
        Ok(mut f) => match f.write_all(buf).and_then(|()| f.sync_data()) {
            Ok(()) => (Some(f), Ok(())),
            Err(e) => (None, Err(e)),
        },
        Err(e) => (None, Err(e)),
    }
}

fn open(path: &Path) -> std::io::Result<File> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    OpenOptions::new().create(true).append(true).open(path)
}
