//! `mode = "file"`: the [`Target`] that writes batches through the [`FileSink`].

use std::sync::{Arc, Mutex};

use auditrail_core::{async_trait, BuildError, Event, FolderCheck, Target, TargetError};

use crate::config::FileTargetConfig;
use crate::line::{encode_line, LoggerName};
use crate::sink::FileSink;

/// Room kept for a batch's lines between batches (~200 lines of ~300 bytes); a
/// buffer grown past [`KEPT_MAX`] by a huge batch is let go after it.
const KEPT: usize = 64 * 1024;
const KEPT_MAX: usize = 16 * 1024 * 1024;

/// Writes audit events as JSON lines to local files (see the crate docs).
///
/// `Ok` from [`Target::send`] means every line of the batch is in the file, written
/// by one `write(2)` of whole lines, and fsynced when `fsync = true`. Any I/O error
/// (full disk, removed folder, …) is a retryable error: the dispatcher counts it,
/// backs off and sends the same batch again, and its queue applies backpressure
/// meanwhile. File I/O runs on the runtime's blocking threads, never on its async
/// workers.
pub struct FileTarget {
    sink: Arc<Mutex<FileSink>>,
    logger: LoggerName,
    /// The lines of the batch being sent. They are encoded on the worker, in `send`,
    /// and only the bytes go to the blocking thread (and come back for the next
    /// batch): handing it the events instead meant a copy of the batch's `Arc`s, each
    /// counted up and down again on another thread (docs/benchmarks/file.md).
    lines: Vec<u8>,
}

impl std::fmt::Debug for FileTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The sink is behind the lock a write holds; its state is not worth waiting for.
        f.debug_struct("FileTarget").finish_non_exhaustive()
    }
}

impl FileTarget {
    /// Checks `config` (a config made in code), creates the folder and opens the
    /// active file. Errors name the key, or the path and the OS error.
    pub fn open(config: &FileTargetConfig) -> Result<FileTarget, BuildError> {
        config
            .check()
            .map_err(|e| BuildError::Config(e.to_string()))?;
        FileTarget::open_validated(config, None)
    }

    /// [`FileTarget::open`] for a config already checked (parsed through the
    /// registration). `check`: the check of the folder holding the target's folder
    /// (`BuildContext::folder_check`), asked before that folder is made again at run
    /// time (`sink/folder.rs`).
    pub(crate) fn open_validated(
        config: &FileTargetConfig,
        check: Option<Arc<dyn FolderCheck>>,
    ) -> Result<FileTarget, BuildError> {
        Ok(FileTarget {
            sink: Arc::new(Mutex::new(FileSink::open(config, check)?)),
            logger: config.logger(),
            lines: Vec::with_capacity(KEPT),
        })
    }
}

fn lock(sink: &Mutex<FileSink>) -> std::sync::MutexGuard<'_, FileSink> {
    // A panic while writing can leave at most a partial line behind: start the next
    // write on a new line and keep going.
    sink.lock().unwrap_or_else(|poisoned| {
        let mut sink = poisoned.into_inner();
        sink.mark_uncertain();
        sink
    })
}

#[async_trait]
impl Target for FileTarget {
    async fn send(&mut self, batch: &[Arc<Event>]) -> Result<(), TargetError> {
        let mut lines = std::mem::take(&mut self.lines);
        lines.clear();
        for event in batch {
            encode_line(&self.logger, event, &mut lines);
        }
        let sink = self.sink.clone();
        let written = tokio::task::spawn_blocking(move || {
            let written = lock(&sink).write_lines(&lines);
            (written, lines)
        })
        .await;
        match written {
            Ok((written, lines)) => {
                if lines.capacity() <= KEPT_MAX {
                    self.lines = lines;
                }
                written.map_err(|e| TargetError::retryable(format!("audit file {e}")))
            }
            Err(e) => Err(TargetError::retryable(format!(
                "the audit file writer failed: {e}"
            ))),
        }
    }
}
