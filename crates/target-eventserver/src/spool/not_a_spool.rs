//! Whether a folder given to `auditrail spool inspect` is a spool at all.
//!
//! The usual slip is one level too high: `--dir run/spool` (the spools' parent) or
//! `--dir run` (the run folder) instead of `--dir run/spool/central`. Read as a spool,
//! such a folder has no segments and no `ack`, so it was reported as a healthy empty
//! spool (exit 0) while the spool inside it had lost a segment: a monitoring job
//! pointed there was told all is well for good. A folder is taken for a spool when it
//! holds one of a spool's own files, or nothing but the lock a spool opened there
//! leaves (a spool that never spooled anything); anything else is refused, naming the
//! spools found under it.

use std::fs;
use std::path::{Path, PathBuf};

use super::{ack, gone, lengths, newest, SpoolError};

/// How deep spools are looked for under a folder that is none: a run folder holds its
/// spools at `spool/<target>`.
const DEPTH: usize = 2;

/// `Ok` when `dir` can be inspected as a spool (see the module's doc).
pub(super) fn check(dir: &Path) -> Result<(), SpoolError> {
    let io = |source| SpoolError::Io {
        path: dir.to_owned(),
        source,
    };
    let mut other = false;
    for entry in fs::read_dir(dir).map_err(io)? {
        let name = entry.map_err(io)?.file_name();
        if is_spool_file(&name.to_string_lossy()) {
            return Ok(());
        }
        other |= name != auditrail_core::folder_lock::LOCK_FILE;
    }
    if !other {
        return Ok(());
    }
    let mut spools = Vec::new();
    spools_under(dir, DEPTH, &mut spools);
    spools.sort();
    Err(SpoolError::NotASpool {
        dir: dir.to_owned(),
        spools,
    })
}

/// A name only a spool's own files have.
fn is_spool_file(name: &str) -> bool {
    let own = [
        ack::path(Path::new("")),
        newest::path(Path::new("")),
        lengths::path(Path::new("")),
        gone::file_path(Path::new("")),
    ];
    name.ends_with(".seg")
        || name.ends_with(".seg.corrupt")
        || own.iter().any(|p| p == Path::new(name))
}

/// The folders under `dir`, down to `depth` levels, that hold a spool's own files.
/// Unreadable folders are passed over: this only suggests where to look.
fn spools_under(dir: &Path, depth: usize, found: &mut Vec<PathBuf>) {
    if depth == 0 {
        return;
    }
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        // `file_type` does not follow a link: a link to a folder is not walked into.
        if !entry.file_type().is_ok_and(|t| t.is_dir()) {
            continue;
        }
        let sub = entry.path();
        let holds = fs::read_dir(&sub).is_ok_and(|mut names| {
            names.any(|n| n.is_ok_and(|n| is_spool_file(&n.file_name().to_string_lossy())))
        });
        if holds {
            found.push(sub);
        } else {
            spools_under(&sub, depth - 1, found);
        }
    }
}

/// The end of [`SpoolError::NotASpool`]'s message: where the spools are.
pub(super) fn spools_named(spools: &[PathBuf]) -> String {
    match spools {
        [] => String::new(),
        [one] => format!("; the spool under it: {} (give that folder)", one.display()),
        many => format!(
            "; the spools under it: {} (give one of those folders)",
            many.iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}
