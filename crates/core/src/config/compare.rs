//! Paths compared as the file system would name them, for checks that two settings
//! name the same folder (an event server's destinations, a node's `file` targets) or
//! that one lies inside another (a `file` target's folder in the run folder).
//!
//! Their text is no answer: `./audit` and `audit`, `run/../audit` and `audit`, a
//! symbolic link to a folder and the folder, a relative and an absolute spelling each
//! name one folder in two ways, and `Path::starts_with` takes `run/../elsewhere` for a
//! path under `run`.

use std::path::{Component, Path, PathBuf};

/// `path` as the file system names it: made absolute (in the working directory), its
/// longest existing part resolved by the system (symbolic links, and `.` and `..` as
/// the system takes them: after a link, `..` is the link target's parent), the rest
/// (folders that do not exist yet) with `.` dropped and `..` taken back lexically. So a
/// link to a folder and the folder compare equal, and so do `run/../audit` and `audit`.
pub fn comparable(path: &Path) -> PathBuf {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let parts: Vec<Component<'_>> = absolute.components().collect();
    for known in (1..=parts.len()).rev() {
        let existing: PathBuf = parts[..known].iter().collect();
        if let Ok(real) = std::fs::canonicalize(&existing) {
            return lexical_onto(real, &parts[known..]);
        }
    }
    lexical_onto(PathBuf::new(), &parts)
}

/// Whether `a` and `b` are the same folder ([`comparable`]).
pub fn same_folder(a: &Path, b: &Path) -> bool {
    comparable(a) == comparable(b)
}

/// Whether `path` is `folder` or lies inside it ([`comparable`]).
pub fn lies_in(path: &Path, folder: &Path) -> bool {
    comparable(path).starts_with(comparable(folder))
}

/// `parts` added to `base` with `.` dropped and `..` taken back lexically (without
/// reading the file system: the folders may not exist yet).
fn lexical_onto(mut out: PathBuf, parts: &[Component<'_>]) -> PathBuf {
    for c in parts {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                // `..` of the root is the root.
                if !out.pop() && !out.has_root() {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    /// Each spelling of a folder inside `run` (real folders and a real link) lies in
    /// it, whichever way `run` itself is spelled; each spelling of a folder beside it
    /// does not.
    #[test]
    fn a_folder_lies_in_another_as_the_file_system_says_not_as_its_text_reads() {
        let tmp = tempfile::tempdir().unwrap();
        let base = comparable(tmp.path());
        let run = base.join("run");
        std::fs::create_dir_all(run.join("audit")).unwrap();
        std::fs::create_dir_all(base.join("elsewhere")).unwrap();
        std::os::unix::fs::symlink(&run, base.join("run-link")).unwrap();
        std::os::unix::fs::symlink(base.join("elsewhere"), run.join("out-link")).unwrap();

        for (dir, folder) in [
            (base.join("run/./audit"), run.clone()),
            (run.join("audit"), base.join("run/.")),
            (run.join("audit/"), base.join("run/")),
            (run.join("audit"), base.join("run-link")),
            (base.join("run-link/audit"), run.clone()),
            (base.join("run-link/not-yet/deeper"), run.clone()),
            (base.join("elsewhere/../run/audit"), run.clone()),
        ] {
            assert!(
                lies_in(&dir, &folder),
                "{} in {}",
                dir.display(),
                folder.display()
            );
        }
        for (dir, folder) in [
            (base.join("run/../elsewhere"), run.clone()),
            (base.join("run/../elsewhere"), base.join("run-link")),
            (run.join("out-link"), run.clone()),
            (run.join("out-link/audit"), run.clone()),
            (base.join("runner"), run.clone()),
        ] {
            assert!(
                !lies_in(&dir, &folder),
                "{} in {}",
                dir.display(),
                folder.display()
            );
        }
    }

    /// After a symbolic link, `..` is the parent of the link's target, as the system
    /// takes it: not the folder holding the link.
    #[test]
    fn dot_dot_after_a_link_is_the_link_targets_parent() {
        let tmp = tempfile::tempdir().unwrap();
        let base = comparable(tmp.path());
        std::fs::create_dir_all(base.join("far/away")).unwrap();
        std::fs::create_dir_all(base.join("run")).unwrap();
        std::os::unix::fs::symlink(base.join("far/away"), base.join("run/link")).unwrap();
        assert_eq!(
            comparable(&base.join("run/link/../new")),
            base.join("far/new")
        );
        assert!(!lies_in(&base.join("run/link/../new"), &base.join("run")));
    }

    /// A relative spelling is taken in the working directory.
    #[test]
    fn a_relative_and_an_absolute_spelling_are_one_folder() {
        let cwd = std::env::current_dir().unwrap();
        assert_eq!(
            comparable(Path::new("./a/b/../c")),
            comparable(&cwd.join("a/c"))
        );
        assert!(lies_in(Path::new("a/c"), &cwd));
    }

    #[test]
    fn dot_dot_of_the_root_is_the_root() {
        assert_eq!(
            lexical_onto(PathBuf::from("/"), &[Component::ParentDir]),
            PathBuf::from("/")
        );
    }
}
