//! The dispatcher's dead-letter file of one target: [`DeadLetterLine`]s appended and
//! fsynced (see [`crate::dead_letter`] for the format). The file is opened for each
//! write, never kept open: an operator re-sends and removes (or moves aside) the file
//! the summary names, and later dead letters must land in a new file at that path, not
//! in the removed inode (dead letters are rare: the open costs nothing that matters).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::dead_letter::{append, file_path, DeadLetterLine};
use crate::event::{Event, Timestamp};

/// The dead-letter file of one target.
#[derive(Debug, Clone)]
pub(crate) struct DeadLetterFile {
    path: PathBuf,
}

impl DeadLetterFile {
    pub(crate) fn new(dir: &Path, target: &str) -> DeadLetterFile {
        DeadLetterFile {
            path: file_path(dir, target),
        }
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Appends and fsyncs one line per event, on a blocking thread (fsync must not
    /// stall the worker's runtime). Opens the file at the path (creating it and its
    /// folder) for each write.
    pub(crate) async fn write(
        &mut self,
        target: &str,
        events: &[(&Arc<Event>, &str)],
    ) -> std::io::Result<()> {
        let buf = encode(target, events)?;
        let path = self.path.clone();
        match tokio::task::spawn_blocking(move || append(&path, &buf)).await {
            Ok(result) => result,
            Err(e) => Err(std::io::Error::other(format!(
                "the dead-letter writer did not run: {e}"
            ))),
        }
    }

    /// [`DeadLetterFile::write`] on the calling thread (the shutdown watchdog, which
    /// runs on no runtime).
    pub(crate) fn write_blocking(
        &self,
        target: &str,
        events: &[(&Arc<Event>, &str)],
    ) -> std::io::Result<()> {
        append(&self.path, &encode(target, events)?)
    }
}

/// The dead-letter lines of `events`.
fn encode(target: &str, events: &[(&Arc<Event>, &str)]) -> std::io::Result<Vec<u8>> {
    let mut buf = Vec::with_capacity(events.len() * 400);
    let failed_at = Timestamp::now();
    for (event, error) in events {
        DeadLetterLine {
            failed_at,
            target: target.to_owned(),
            error: (*error).to_owned(),
            event: &***event,
        }
        .write_to(&mut buf)?;
    }
    Ok(buf)
}
