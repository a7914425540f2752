//! Paths compared as the file system would name them, for checks that two settings
//! name the same folder (an event server's destinations, a node's `file` targets).

use std::path::{Path, PathBuf};

/// `path` made absolute (in the working directory), `.` and `..` resolved lexically (the
/// folders may not exist yet), then its longest existing part resolved through symbolic
/// links, so that a link to a folder and the folder compare equal.
pub fn comparable(path: &Path) -> PathBuf {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let written = lexical(&absolute);
    let mut existing = written.as_path();
    let mut rest = Vec::new();
    loop {
        if let Ok(real) = std::fs::canonicalize(existing) {
            return rest.iter().rev().fold(real, |p, c| p.join(c));
        }
        match (existing.parent(), existing.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name.to_owned());
                existing = parent;
            }
            _ => return written,
        }
    }
}

/// Whether `a` and `b` are the same folder ([`comparable`]).
pub fn same_folder(a: &Path, b: &Path) -> bool {
    comparable(a) == comparable(b)
}

/// `path` with `.` dropped and `..` taken back lexically (without reading the file
/// system: the folders may not exist yet).
fn lexical(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    out
}
