//! The dispatcher's dead-letter file of one target: [`DeadLetterLine`]s appended and
//! fsynced (see [`crate::dead_letter`] for the format). The file is opened for each
//! write, never kept open: an operator re-sends and removes (or moves aside) the file
//! the summary names, and later dead letters must land in a new file at that path, not
//! in the removed inode (dead letters are rare: the open costs nothing that matters).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::dead_letter::{append_keeping, file_path, DeadLetterLine};
use crate::event::{Event, Timestamp};
use crate::folder_check::{FolderCheck, FolderGone};

/// The dead-letter file of one target.
#[derive(Debug, Clone)]
pub(crate) struct DeadLetterFile {
    path: PathBuf,
    /// The check of the folder the dead-letter folder lives in (see
    /// [`crate::folder_check`]): asked before each write, which creates the folder.
    folder_check: Option<Arc<dyn FolderCheck>>,
    /// How the dispatcher's owner makes again the events whose line the folder check
    /// refused (`DispatcherBuilder::made_again_while_folder_gone`); `None`: they are lost.
    made_again: Option<&'static str>,
}

impl DeadLetterFile {
    pub(crate) fn new(dir: &Path, target: &str) -> DeadLetterFile {
        DeadLetterFile {
            path: file_path(dir, target),
            folder_check: None,
            made_again: None,
        }
    }

    /// Declares that the events whose line the folder check refuses are made again by
    /// the dispatcher's owner, `how` (see [`Self::made_again_after`]).
    pub(crate) fn with_made_again(mut self, how: Option<&'static str>) -> Self {
        self.made_again = how;
        self
    }

    /// How the owner makes again the events whose lines were not written for `error`:
    /// `Some` only when the folder check refused the write ([`FolderGone`], kept as the
    /// error's source by [`crate::folder_check::ask`]) and the owner declared it. Any
    /// other failure (a full disk, a refused open) loses them as before.
    pub(crate) fn made_again_after(&self, error: &std::io::Error) -> Option<&'static str> {
        let how = self.made_again?;
        error
            .get_ref()
            .and_then(|source| source.downcast_ref::<FolderGone>())
            .map(|_| how)
    }

    /// Asks `check` before each write (see [`crate::folder_check`]).
    pub(crate) fn with_folder_check(mut self, check: Option<Arc<dyn FolderCheck>>) -> Self {
        self.folder_check = check;
        self
    }

    /// [`append_keeping`], unless the folder check fails: then nothing is written
    /// (the append would make the dead-letter folder, and a data folder moved away
    /// with it, again at its path).
    fn append(
        path: &Path,
        check: Option<&dyn FolderCheck>,
        buf: &[u8],
    ) -> Result<(), crate::jsonl::PartialAppend> {
        crate::folder_check::ask(check)
            .map_err(|error| crate::jsonl::PartialAppend { kept: 0, error })?;
        append_keeping(path, buf)
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
    ) -> Result<(), NotWritten> {
        let (buf, ends) = encode(target, events)?;
        let path = self.path.clone();
        let check = self.folder_check.clone();
        match tokio::task::spawn_blocking(move || Self::append(&path, check.as_deref(), &buf)).await
        {
            Ok(result) => result.map_err(|p| NotWritten::part(&ends, p)),
            Err(e) => Err(std::io::Error::other(format!(
                "the dead-letter writer did not run: {e}"
            ))
            .into()),
        }
    }

    /// [`DeadLetterFile::write`] on the calling thread (the shutdown watchdog, which
    /// runs on no runtime).
    pub(crate) fn write_blocking(
        &self,
        target: &str,
        events: &[(&Arc<Event>, &str)],
    ) -> Result<(), NotWritten> {
        let (buf, ends) = encode(target, events)?;
        Self::append(&self.path, self.folder_check.as_deref(), &buf)
            .map_err(|p| NotWritten::part(&ends, p))
    }
}

/// A dead-letter write that failed part way: the lines of the first `written` events
/// are whole in the file (and synced); the others' are not, or cut short (a full disk
/// stopped the write in the middle of a line, which the next append ends and a reader
/// skips as a fragment).
#[derive(Debug)]
pub(crate) struct NotWritten {
    /// How many events, from the first, have their whole line in the file.
    pub written: usize,
    /// Why the rest were not written.
    pub error: std::io::Error,
}

impl NotWritten {
    /// The events whose line ends (`ends`: each line's end in the bytes written) within
    /// what the file kept.
    fn part(ends: &[usize], p: crate::jsonl::PartialAppend) -> NotWritten {
        NotWritten {
            written: ends.iter().take_while(|end| **end <= p.kept).count(),
            error: p.error,
        }
    }
}

impl From<std::io::Error> for NotWritten {
    fn from(error: std::io::Error) -> NotWritten {
        NotWritten { written: 0, error }
    }
}

/// The dead-letter lines of `events`, and where each line ends in them.
fn encode(target: &str, events: &[(&Arc<Event>, &str)]) -> std::io::Result<(Vec<u8>, Vec<usize>)> {
    let mut buf = Vec::with_capacity(events.len() * 400);
    let mut ends = Vec::with_capacity(events.len());
    let failed_at = Timestamp::now();
    for (event, error) in events {
        DeadLetterLine {
            failed_at,
            target: target.to_owned(),
            error: (*error).to_owned(),
            event: &***event,
        }
        .write_to(&mut buf)?;
        ends.push(buf.len());
    }
    Ok((buf, ends))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Gone;

    impl FolderCheck for Gone {
        fn check(&self) -> Result<(), FolderGone> {
            Err(FolderGone {
                folder: PathBuf::from("/srv/data"),
                found: "gone".to_owned(),
            })
        }
    }

    /// Only the folder check's refusal, and only when the owner declared it: a full
    /// disk loses the events as before.
    #[test]
    fn only_a_refusal_of_the_folder_check_is_made_again_and_only_when_declared() {
        let refused = crate::folder_check::ask(Some(&Gone)).unwrap_err();
        let full = std::io::Error::from(std::io::ErrorKind::StorageFull);
        let declared = DeadLetterFile::new(Path::new("dl"), "w").with_made_again(Some("again"));
        assert_eq!(declared.made_again_after(&refused), Some("again"));
        assert_eq!(declared.made_again_after(&full), None);
        let undeclared = DeadLetterFile::new(Path::new("dl"), "w");
        assert_eq!(undeclared.made_again_after(&refused), None);
    }
}
