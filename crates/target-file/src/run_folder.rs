//! Whether a `file` target's folder depends on the run folder: then the run folder's
//! check (`BuildContext::folder_check`: an event server's data folder, which an
//! operator may move away while the server runs) is asked before the folder is made
//! again (`sink/folder.rs`), so that making it does not bring the run folder back at
//! its path.
//!
//! Asked of the file system, not of the paths' text, which gave wrong answers: a
//! relative run folder (`--data-dir data`) and an absolute `dir` under it, a `dir`
//! under a symbolic link to the run folder (or the run folder reached through one),
//! `./run` against `run/audit`, `elsewhere/../run/audit`. Each was taken for a folder
//! elsewhere, and made again while the run folder was moved away, which made the run
//! folder again too. The answer is yes when either holds:
//! - the folder lies inside the run folder where it really is (`comparable`: the
//!   longest existing part of each path resolved by the system), so nothing is made
//!   in whatever folder is put at the run folder's path meanwhile;
//! - a folder on the way to it, as written, is the run folder (the same device and
//!   inode): making it again makes each missing folder of its path, so
//!   `run/../audit` and a link inside the run folder to a folder elsewhere would
//!   make the run folder again. `Path::starts_with` took these for folders inside
//!   the run folder too; they still are.

use std::os::unix::fs::MetadataExt;
use std::path::{Component, Path, PathBuf};

/// Whether making `dir` again depends on `run_dir` (see the module docs). Called when
/// the target is built, while both exist.
pub(crate) fn depends_on(dir: &Path, run_dir: &Path) -> bool {
    if auditrail_core::config::compare::lies_in(dir, run_dir) {
        return true;
    }
    let Some(run) = identity(run_dir) else {
        return false;
    };
    let written = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
    let mut on_the_way = PathBuf::new();
    for c in written.components() {
        on_the_way.push(c);
        if matches!(c, Component::RootDir | Component::Prefix(_)) {
            continue;
        }
        if identity(&on_the_way) == Some(run) {
            return true;
        }
    }
    false
}

/// The folder's device and inode, through symbolic links; `None` when it cannot be
/// read (gone).
fn identity(path: &Path) -> Option<(u64, u64)> {
    std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn a_folder_through_the_run_folder_or_inside_it_depends_on_it_and_no_other() {
        let tmp = tempfile::tempdir().unwrap();
        let base = std::fs::canonicalize(tmp.path()).unwrap();
        let run = base.join("run");
        std::fs::create_dir_all(run.join("audit")).unwrap();
        std::fs::create_dir_all(base.join("elsewhere")).unwrap();
        std::os::unix::fs::symlink(&run, base.join("run-link")).unwrap();
        std::os::unix::fs::symlink(base.join("elsewhere"), run.join("out-link")).unwrap();
        std::os::unix::fs::symlink(run.join("audit"), base.join("audit-link")).unwrap();
        for (dir, run_dir) in [
            (run.join("audit"), run.clone()),
            (run.join("audit"), base.join("run-link")),
            (base.join("run-link/audit"), run.clone()),
            (base.join("elsewhere/../run/audit"), run.clone()),
            (base.join("audit-link"), run.clone()),
            (base.join("run/../elsewhere"), run.clone()),
            (run.join("out-link/audit"), run.clone()),
        ] {
            assert!(
                depends_on(&dir, &run_dir),
                "{} on {}",
                dir.display(),
                run_dir.display()
            );
        }
        for (dir, run_dir) in [
            (base.join("elsewhere"), run.clone()),
            (base.join("elsewhere/audit"), base.join("run-link")),
            (base.join("runner"), run.clone()),
        ] {
            assert!(
                !depends_on(&dir, &run_dir),
                "{} on {}",
                dir.display(),
                run_dir.display()
            );
        }
    }
}
