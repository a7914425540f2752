//! Two `file` targets of one node whose files meet in one folder.
//!
//! Each target rolls and deletes the files whose names are its own (`naming.rs`): a
//! size-rolled `audit.log` renames `audit.log.N` and deletes the oldest of them; an
//! hourly or daily target deletes the oldest names of its period shape. A second
//! target writing a file under such a name (`file_name = "audit.log.1"` beside a
//! size-rolled `audit.log`; a size-rolled `audit.2026-11-25` beside a daily `audit.1`,
//! whose period files `audit.2026-11-25.1`… are the other's rolls) had its acknowledged
//! lines renamed over or deleted by the first's rolls and retention. So the node refuses
//! such a pair when it is built.
//!
//! Two targets with the same `file_name` and rotation in one folder write the very same
//! files, and share the lock of `rotation = "size"`: that is supported (several writers
//! of one trail, docs/targets/file.md), and not a clash. An hourly and a daily target
//! with one `file_name` never meet either (`naming::is_own_period_file`).

use std::path::Path;

use chrono::{DateTime, Utc};

use crate::config::{FileTargetConfig, Mode, Rotation};
use crate::naming::{self, Role};

/// What the files of `a` (named `a_name`) and `b` meet at, if they do: the message of
/// [`auditrail_core::TargetConfig::clash`].
pub(crate) fn clash(
    a: &FileTargetConfig,
    a_name: &str,
    b: &FileTargetConfig,
    b_name: &str,
    run_dir: &Path,
) -> Option<String> {
    if a.mode != Mode::File || b.mode != Mode::File {
        return None;
    }
    let folder = |c: &FileTargetConfig, name: &str| {
        auditrail_core::TargetConfig::folders(c, run_dir, name)
            .into_iter()
            .next()
            .map(|(_, dir)| dir)
    };
    let (dir_a, dir_b) = (folder(a, a_name)?, folder(b, b_name)?);
    if !auditrail_core::config::compare::same_folder(&dir_a, &dir_b) {
        return None;
    }
    let (fa, fb) = (a.file_name(), b.file_name());
    if fa == fb && a.rotation() == b.rotation() {
        return None; // the same files, written together: supported
    }
    let met = samples(a, b)
        .into_iter()
        .find(|n| owns(b, n))
        .or_else(|| samples(b, a).into_iter().find(|n| owns(a, n)))?;
    Some(format!(
        "file targets {a_name:?} and {b_name:?} both use the name {met:?} in the folder {}: \
         it is {a_name:?}'s {} (file_name {fa:?}, rotation {}) and {b_name:?}'s {} \
         (file_name {fb:?}, rotation {}), so the rolls and retention of one would rename, \
         overwrite or delete the other's acknowledged lines. Give each target a folder of \
         its own (`dir`), or file names whose files cannot meet",
        dir_a.display(),
        what(a, &met),
        rotation_name(a.rotation()),
        what(b, &met),
        rotation_name(b.rotation()),
    ))
}

/// Names that `t` writes which the other target may take for its own: its active file,
/// a rolled file (`F.1`, and `F.<S>` when the other's time suffix `S` is a number: a
/// daily `audit.1` writes `audit.<date>.1`), a period file.
fn samples(t: &FileTargetConfig, other: &FileTargetConfig) -> Vec<String> {
    let f = t.file_name();
    match t.rotation() {
        Rotation::Never => vec![f.to_owned()],
        Rotation::Size => {
            let mut out = vec![f.to_owned(), naming::rolled_name(f, 1)];
            if let Some(n) = other
                .file_name()
                .rsplit_once('.')
                .map(|(_, s)| s)
                .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            {
                out.push(format!("{f}.{n}"));
            }
            out
        }
        rotation @ (Rotation::Hourly | Rotation::Daily) => {
            let at: DateTime<Utc> = DateTime::UNIX_EPOCH;
            vec![naming::period_name(f, rotation, at)]
        }
    }
}

/// Whether `t` writes, rolls or deletes a file named `name`.
fn owns(t: &FileTargetConfig, name: &str) -> bool {
    let f = t.file_name();
    match t.rotation() {
        Rotation::Size => matches!(
            naming::role(name, f),
            Some(Role::Active | Role::Rolled(_) | Role::Lock)
        ),
        Rotation::Never => name == f || name == naming::lock_name(f),
        rotation @ (Rotation::Hourly | Rotation::Daily) => {
            naming::is_own_period_file(name, f, rotation)
        }
    }
}

/// What `name` is to `t` (which [`owns`] it, or writes it).
fn what(t: &FileTargetConfig, name: &str) -> &'static str {
    match (t.rotation(), naming::role(name, t.file_name())) {
        (_, Some(Role::Active)) => "active file",
        (Rotation::Size, Some(Role::Rolled(_))) => "size-rolled file",
        (Rotation::Hourly, _) => "hourly file",
        (Rotation::Daily, _) => "daily file",
        _ => "file",
    }
}

fn rotation_name(r: Rotation) -> &'static str {
    match r {
        Rotation::Size => "\"size\"",
        Rotation::Hourly => "\"hourly\"",
        Rotation::Daily => "\"daily\"",
        Rotation::Never => "\"never\"",
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn target(dir: &str, file_name: &str, rotation: Rotation) -> FileTargetConfig {
        FileTargetConfig {
            dir: Some(std::path::PathBuf::from(dir).into()),
            file_name: Some(file_name.to_owned()),
            rotation: Some(rotation),
            ..FileTargetConfig::default()
        }
    }

    fn clashes(a: (&str, Rotation), b: (&str, Rotation)) -> Option<String> {
        let run = Path::new("/nonexistent-run");
        clash(
            &target("/nonexistent/audit", a.0, a.1),
            "a",
            &target("/nonexistent/audit", b.0, b.1),
            "b",
            run,
        )
    }

    #[test]
    fn names_that_meet_are_found_both_ways() {
        use Rotation::*;
        for (a, b, met) in [
            (("audit.log", Size), ("audit.log.1", Size), "audit.log.1"),
            (("audit.log", Size), ("audit.log.7", Never), "audit.log.7"),
            (("audit.log", Size), ("audit.log", Never), "audit.log"),
            (
                ("audit", Hourly),
                ("audit.2026-11-25-17", Never),
                "audit.2026-11-25-17",
            ),
            (
                ("audit.log", Daily),
                ("audit.2026-11-25.log", Size),
                "audit.2026-11-25.log",
            ),
            (
                ("audit.1", Daily),
                ("audit.2026-11-25", Size),
                "audit.2026-11-25.1",
            ),
        ] {
            for (x, y) in [(a, b), (b, a)] {
                let e = clashes(x, y).unwrap_or_else(|| panic!("{x:?} {y:?}: no clash"));
                assert!(e.contains(&format!("{met:?}")), "{e}");
                assert!(e.contains("/nonexistent/audit"), "{e}");
            }
        }
    }

    #[test]
    fn files_that_cannot_meet_or_are_shared_on_purpose_pass() {
        use Rotation::*;
        for (a, b) in [
            (("audit.log", Size), ("audit.log", Size)),
            (("audit.log", Hourly), ("audit.log", Daily)),
            (("audit.log", Size), ("audit.log", Hourly)),
            (("audit.log", Size), ("other.log", Size)),
            (("audit.log", Size), ("audit.log.1.gz", Never)),
            (("audit", Size), ("audit.1.2", Size)),
            (("a.log", Daily), ("b.log", Daily)),
        ] {
            assert_eq!(clashes(a, b), None, "{a:?} {b:?}");
            assert_eq!(clashes(b, a), None, "{b:?} {a:?}");
        }
        let other_dir = clash(
            &target("/nonexistent/a", "audit.log", Rotation::Size),
            "a",
            &target("/nonexistent/b", "audit.log.1", Rotation::Size),
            "b",
            Path::new("/r"),
        );
        assert_eq!(other_dir, None);
    }
}
