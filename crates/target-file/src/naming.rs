//! The names of the files a `file` target writes in its folder, defined once.
//!
//! The writer (`sink/`) names its files with these functions, and the readers
//! ([`crate::read::audit_files`], [`crate::read::scan_audit_folder`], and through them
//! `auditrail query --audit-dir`) recognise names with the same ones: a name the writer
//! can produce is never one a reader passes over.
//!
//! With `file_name = F` (any plain name: `audit.log`, `audit.jsonl`, `events`, `x.y.z`):
//! - `rotation = "size"` and `"never"`: the active file `F`, the size-rolled files
//!   `F.1` (newest) … `F.<max_files - 1>`, and `.F.lock`, the lock file that the writers
//!   of the folder share;
//! - `rotation = "hourly"` and `"daily"`: one file per UTC period, named as
//!   tracing-appender names them: `F` split at its last dot into prefix and suffix,
//!   `<prefix>.<YYYY-MM-DD[-HH]>.<suffix>` (`audit.2026-11-25-17.log`), or
//!   `F.<YYYY-MM-DD[-HH]>` when `F` has no dot to split at (`events.2026-11-25`).

use chrono::{DateTime, Utc};

use crate::config::Rotation;

/// What a name in a target's folder is to that target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Role {
    /// The active file of `rotation = "size"` or `"never"`: `F` itself.
    Active,
    /// A size-rolled file `F.N` (`N` = 1 is the newest).
    Rolled(u64),
    /// The file of one UTC hour or day (`rotation = "hourly"` or `"daily"`).
    Period,
    /// The lock file `.F.lock` (no events).
    Lock,
}

/// Whether `name` is a valid `file_name`: a plain name (no folder, not hidden, no
/// control characters). Hidden names are refused so that the lock file's name
/// (`.F.lock`) can never be another target's audit file.
pub fn is_plain_name(name: &str) -> bool {
    !(name.is_empty()
        || name.starts_with('.')
        || name.contains(['/', '\\', '\0'])
        || name.chars().any(char::is_control))
}

/// The lock file shared by the writers of `file_name` (size and never rotation).
pub fn lock_name(file_name: &str) -> String {
    format!(".{file_name}.lock")
}

/// The `n`-th size-rolled file of `file_name` (1 is the newest).
pub fn rolled_name(file_name: &str, n: usize) -> String {
    format!("{file_name}.{n}")
}

/// The file of the UTC hour (`Rotation::Hourly`) or day (any other) holding `at`.
pub fn period_name(file_name: &str, rotation: Rotation, at: DateTime<Utc>) -> String {
    let date = match rotation {
        Rotation::Hourly => at.format("%Y-%m-%d-%H"),
        _ => at.format("%Y-%m-%d"),
    };
    match time_name_parts(file_name) {
        (prefix, Some(suffix)) => format!("{prefix}.{date}.{suffix}"),
        (prefix, None) => format!("{prefix}.{date}"),
    }
}

/// How tracing-appender's prefix and suffix come from `file_name`: `audit.log` →
/// (`audit`, `log`); `x.y.z` → (`x.y`, `z`); `audit` → (`audit`, none).
fn time_name_parts(file_name: &str) -> (&str, Option<&str>) {
    match file_name.rfind('.') {
        Some(i) if i > 0 && i + 1 < file_name.len() => (&file_name[..i], Some(&file_name[i + 1..])),
        _ => (file_name, None),
    }
}

/// What `name` is to the target whose file name is `file_name`, if anything.
pub fn role(name: &str, file_name: &str) -> Option<Role> {
    if name == file_name {
        return Some(Role::Active);
    }
    if name == lock_name(file_name) {
        return Some(Role::Lock);
    }
    if let Some(n) = name
        .strip_prefix(file_name)
        .and_then(|rest| rest.strip_prefix('.'))
        .filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|n| n.parse::<u64>().ok())
    {
        return Some(Role::Rolled(n));
    }
    is_period_name(name, file_name).then_some(Role::Period)
}

/// Whether `name` is `<prefix>.<date>[.<suffix>]` of `file_name`, with an hourly or
/// daily date.
fn is_period_name(name: &str, file_name: &str) -> bool {
    period_date(name, file_name).is_some_and(is_period_date)
}

/// Whether `name` is a file that `file_name` with `rotation` writes itself: a period
/// name whose date has that rotation's shape (`YYYY-MM-DD-HH` for `hourly`,
/// `YYYY-MM-DD` for `daily`). Retention (`max_files`) deletes only such files: an
/// hourly target sharing the folder and `file_name` with a daily one (two applications,
/// or a node's two targets) must not count, nor delete, the other's files as its own.
pub fn is_own_period_file(name: &str, file_name: &str, rotation: Rotation) -> bool {
    let shape = match rotation {
        Rotation::Hourly => HOUR,
        Rotation::Daily => DAY,
        Rotation::Size | Rotation::Never => return false,
    };
    period_date(name, file_name).is_some_and(|d| has_shape(d, shape))
}

/// The shapes of a period's date (`9` is any digit).
const DAY: &str = "9999-99-99";
const HOUR: &str = "9999-99-99-99";

/// The `<date>` of `name` = `<prefix>.<date>[.<suffix>]` of `file_name`, unchecked.
fn period_date<'a>(name: &'a str, file_name: &str) -> Option<&'a str> {
    let (prefix, suffix) = time_name_parts(file_name);
    let rest = name.strip_prefix(prefix)?.strip_prefix('.')?;
    match suffix {
        Some(s) => rest.strip_suffix(s)?.strip_suffix('.'),
        None => Some(rest),
    }
}

/// Whether `date` is an hourly or a daily period's date.
fn is_period_date(date: &str) -> bool {
    has_shape(date, DAY) || has_shape(date, HOUR)
}

fn has_shape(date: &str, pattern: &str) -> bool {
    date.len() == pattern.len()
        && date.bytes().zip(pattern.bytes()).all(|(c, p)| {
            if p == b'9' {
                c.is_ascii_digit()
            } else {
                c == p
            }
        })
}

/// The target file name and role that `name` has when the folder's `file_name` is not
/// known (a folder handed to `query --audit-dir`): a lock file names its target
/// (`.F.lock` → `F`), `F.N` is a size-rolled file of `F`, a name with a period date in
/// tracing-appender's place is a period file, and any other plain name may be an
/// active file (of the target named so). `None` for a hidden name that is not a lock
/// file: no valid `file_name` makes the writer produce it.
///
/// Every plain name is some `file_name`'s active file, so a name alone cannot tell an
/// audit file from a foreign one: callers look at the content too (see
/// [`crate::read::scan_audit_folder`]). Where a name fits two targets (`a.1`: rolled
/// file of `a`, or active file of `a.1`) the rolled reading wins; it only orders files.
pub fn guess(name: &str) -> Option<(String, Role)> {
    if let Some(hidden) = name.strip_prefix('.') {
        return hidden
            .strip_suffix(".lock")
            .filter(|f| is_plain_name(f))
            .map(|f| (f.to_owned(), Role::Lock));
    }
    if !is_plain_name(name) {
        return None;
    }
    if let Some((file_name, _)) = name.rsplit_once('.') {
        if !file_name.is_empty() {
            if let Some(Role::Rolled(n)) = role(name, file_name) {
                return Some((file_name.to_owned(), Role::Rolled(n)));
            }
        }
    }
    for file_name in period_candidates(name) {
        if is_plain_name(&file_name) && is_period_name(name, &file_name) {
            return Some((file_name, Role::Period));
        }
    }
    Some((name.to_owned(), Role::Active))
}

/// The file names whose period file `name` could be: `name` minus a trailing
/// `.<date>` (no suffix), or minus a `.<date>` before its last dot (prefix and suffix).
fn period_candidates(name: &str) -> Vec<String> {
    let mut out = Vec::new();
    if let Some((prefix, date)) = name.rsplit_once('.') {
        if is_period_date(date) {
            out.push(prefix.to_owned());
        }
    }
    if let Some((head, suffix)) = name.rsplit_once('.') {
        if let Some((prefix, date)) = head.rsplit_once('.') {
            if is_period_date(date) {
                out.push(format!("{prefix}.{suffix}"));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_tracing_appender() {
        assert_eq!(time_name_parts("audit.log"), ("audit", Some("log")));
        assert_eq!(time_name_parts("x.y.z"), ("x.y", Some("z")));
        assert_eq!(time_name_parts("audit"), ("audit", None));
        assert_eq!(time_name_parts("a."), ("a.", None));
        let f = "audit.log";
        assert_eq!(role("audit.2026-11-25-17.log", f), Some(Role::Period));
        assert_eq!(role("audit.2026-11-25.log", f), Some(Role::Period));
        assert_eq!(role("audit.log", f), Some(Role::Active));
        assert_eq!(role("audit.log.1", f), Some(Role::Rolled(1)));
        assert_eq!(role(".audit.log.lock", f), Some(Role::Lock));
        assert_eq!(role("audit.log.1.gz", f), None);
        assert_eq!(role("audit.log.", f), None);
        assert_eq!(role("audit.2026-11-25", "audit"), Some(Role::Period));
    }

    #[test]
    fn period_names_round_to_the_utc_hour_or_day() {
        let at: DateTime<Utc> = "2026-11-25T23:59:59.999Z".parse().unwrap();
        let hourly = period_name("audit.log", Rotation::Hourly, at);
        assert_eq!(hourly, "audit.2026-11-25-23.log");
        assert_eq!(
            period_name("audit", Rotation::Daily, at),
            "audit.2026-11-25"
        );
        let next = at + chrono::Duration::milliseconds(1);
        assert_eq!(
            period_name("audit.log", Rotation::Hourly, next),
            "audit.2026-11-26-00.log"
        );
    }

    /// Every name the writer can produce, for file names of every shape, is guessed
    /// back to its target and role.
    #[test]
    fn every_name_the_writer_makes_is_guessed_back() {
        let at: DateTime<Utc> = "2026-11-25T17:10:00Z".parse().unwrap();
        for f in [
            "audit.log",
            "audit.jsonl",
            "events",
            "x.y.z",
            "a.",
            "a..b",
            "2026",
        ] {
            assert_eq!(guess(f), Some((f.to_owned(), Role::Active)), "{f}");
            assert_eq!(
                guess(&lock_name(f)),
                Some((f.to_owned(), Role::Lock)),
                "{f}"
            );
            assert_eq!(
                guess(&rolled_name(f, 12)),
                Some((f.to_owned(), Role::Rolled(12))),
                "{f}"
            );
            for rotation in [Rotation::Hourly, Rotation::Daily] {
                let name = period_name(f, rotation, at);
                assert_eq!(guess(&name), Some((f.to_owned(), Role::Period)), "{name}");
                assert_eq!(role(&name, f), Some(Role::Period), "{name}");
            }
        }
        assert_eq!(guess(".hidden"), None);
        assert_eq!(guess(".lock"), None);
    }
}
