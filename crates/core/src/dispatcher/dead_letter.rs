//! The dispatcher's dead-letter file of one target: [`DeadLetterLine`]s appended and
//! fsynced through a handle kept open between writes (see [`crate::dead_letter`] for
//! the format).

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::dead_letter::{append_to, file_path, DeadLetterLine};
use crate::event::{Event, Timestamp};

/// The dead-letter file of one target.
#[derive(Debug)]
pub(crate) struct DeadLetterFile {
    path: PathBuf,
    file: Option<File>,
}

impl DeadLetterFile {
    pub(crate) fn new(dir: &Path, target: &str) -> DeadLetterFile {
        DeadLetterFile {
            path: file_path(dir, target),
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
            DeadLetterLine {
                failed_at,
                target: target.to_owned(),
                error: (*error).to_owned(),
                event: &***event,
            }
            .write_to(&mut buf)?;
        }
        let path = self.path.clone();
        let file = self.file.take();
        match tokio::task::spawn_blocking(move || append_to(file, &path, &buf)).await {
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
