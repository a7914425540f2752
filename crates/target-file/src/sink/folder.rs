//! The target's folder removed under the running target (`rm -rf audit`, a cleanup
//! job that takes the folder with it).
//!
//! Every file the target had open is then unlinked. The checks of `active.rs` find the
//! active file gone and open its path again, which needs the folder: without it every
//! batch would fail for ever (retried, the queue filling, emitters blocked). So the
//! folder is created again, durably as at start (its parent fsynced: the new files'
//! names hang on it), and writing goes on in new files. What the removed files held
//! is gone with them: a warning names the folder and says so. The size rotation's lock
//! file lived there too: `size.rs` opens it again.

use std::io;
use std::path::Path;

use super::WriteError;

/// Creates `dir` again when nothing is at its path any more; `true` when it did. A
/// path that exists (a folder, or something else, whose open then fails naming it)
/// is left alone.
pub(crate) fn recreate_if_gone(dir: &Path) -> Result<bool, WriteError> {
    match std::fs::symlink_metadata(dir) {
        Ok(_) => return Ok(false),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(WriteError::new(dir, "stat", e)),
    }
    auditrail_core::durable::create_dir_all(dir)
        .map_err(|e| WriteError::new(dir, "create the folder", e))?;
    tracing::warn!(
        folder = %dir.display(),
        "the audit folder was removed by another program while the target was running: \
         it is created again and writing goes on in new files; the audit lines the \
         removed files held are lost from this node"
    );
    Ok(true)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn only_a_missing_folder_is_created() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("audit");
        assert!(recreate_if_gone(&dir).unwrap());
        assert!(dir.is_dir());
        assert!(!recreate_if_gone(&dir).unwrap());
    }
}
