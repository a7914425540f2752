//! `rotation = "hourly"` and `"daily"`: one file per UTC period, named as
//! tracing-appender names them (`audit.2026-11-25-17.log`), written through
//! tracing-appender with `Rotation::NEVER` on the period's file (see the `sink` module
//! for why we pick the file ourselves), and `max_files` of them kept.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use auditrail_core::BuildError;
use chrono::{DateTime, Utc};

use super::active::ActiveFile;
use super::{append_checked, WriteError};
use crate::config::Rotation;

pub(super) struct TimeRolled {
    dir: PathBuf,
    prefix: String,
    suffix: Option<String>,
    rotation: Rotation,
    max_files: usize,
    /// The file of the period last written, and its name.
    active: Option<ActiveFile>,
    active_name: String,
}

/// How tracing-appender's prefix/suffix come from `file_name`: `audit.log` →
/// (`audit`, `log`) → `audit.2026-11-25-17.log`; `audit` → (`audit`, none) →
/// `audit.2026-11-25-17`.
pub(crate) fn time_name_parts(file_name: &str) -> (&str, Option<&str>) {
    match file_name.rfind('.') {
        Some(i) if i > 0 && i + 1 < file_name.len() => (&file_name[..i], Some(&file_name[i + 1..])),
        _ => (file_name, None),
    }
}

/// Whether `name` is `<prefix>.<date>[.<suffix>]` with an hourly or daily date.
pub(crate) fn is_time_rolled_name(name: &str, prefix: &str, suffix: Option<&str>) -> bool {
    let Some(rest) = name.strip_prefix(prefix).and_then(|r| r.strip_prefix('.')) else {
        return false;
    };
    let date = match suffix {
        Some(s) => match rest.strip_suffix(s).and_then(|r| r.strip_suffix('.')) {
            Some(d) => d,
            None => return false,
        },
        None => rest,
    };
    let shape_ok = |pattern: &str| {
        date.len() == pattern.len()
            && date.bytes().zip(pattern.bytes()).all(|(c, p)| {
                if p == b'9' {
                    c.is_ascii_digit()
                } else {
                    c == p
                }
            })
    };
    shape_ok("9999-99-99") || shape_ok("9999-99-99-99")
}

/// The file name tracing-appender uses for the period holding `at`.
pub(crate) fn period_name(
    prefix: &str,
    suffix: Option<&str>,
    rotation: Rotation,
    at: DateTime<Utc>,
) -> String {
    let date = match rotation {
        Rotation::Hourly => at.format("%Y-%m-%d-%H"),
        _ => at.format("%Y-%m-%d"),
    };
    match suffix {
        Some(s) => format!("{prefix}.{date}.{s}"),
        None => format!("{prefix}.{date}"),
    }
}

impl TimeRolled {
    pub(super) fn open(
        dir: &Path,
        file_name: &str,
        rotation: Rotation,
        max_files: usize,
    ) -> Result<TimeRolled, BuildError> {
        let (prefix, suffix) = time_name_parts(file_name);
        let mut t = TimeRolled {
            dir: dir.to_path_buf(),
            prefix: prefix.to_owned(),
            suffix: suffix.map(str::to_owned),
            rotation,
            max_files,
            active: None,
            active_name: String::new(),
        };
        t.start_period(t.name_at(Utc::now()), true)
            .map_err(|e| BuildError::Io {
                path: e.path,
                source: e.source,
            })?;
        Ok(t)
    }

    /// The open file, if any.
    pub(super) fn active_mut(&mut self) -> Option<&mut ActiveFile> {
        self.active.as_mut()
    }

    fn name_at(&self, at: DateTime<Utc>) -> String {
        period_name(&self.prefix, self.suffix.as_deref(), self.rotation, at)
    }

    /// Removes the oldest period files beyond `max_files` (the new one included),
    /// then opens the new period's file.
    fn start_period(&mut self, name: String, after_crash: bool) -> Result<(), WriteError> {
        self.prune(&name);
        self.active = None;
        self.active = Some(ActiveFile::open(&self.dir, &name, after_crash)?);
        self.active_name = name;
        Ok(())
    }

    /// Retention: keeps the `max_files - 1` newest period files other than `current`.
    /// Period names sort by time (the UTC date is in the name), so the oldest go
    /// first; files of other shapes in the folder are never touched.
    fn prune(&self, current: &str) {
        let Ok(entries) = fs::read_dir(&self.dir) else {
            return;
        };
        let mut old: Vec<String> = entries
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|n| n != current)
            .filter(|n| is_time_rolled_name(n, &self.prefix, self.suffix.as_deref()))
            .collect();
        old.sort();
        let keep = self.max_files.saturating_sub(1);
        let excess = old.len().saturating_sub(keep);
        for name in &old[..excess] {
            let path = self.dir.join(name);
            match fs::remove_file(&path) {
                Ok(()) => {
                    tracing::info!(path = %path.display(), "removed the oldest audit file (max_files)")
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => {
                    tracing::warn!(path = %path.display(), error = %e, "cannot remove an old audit file (max_files)")
                }
            }
        }
    }

    pub(super) fn append(&mut self, lines: &[u8], fsync: bool) -> Result<(), WriteError> {
        let name = self.name_at(Utc::now());
        if name != self.active_name || self.active.is_none() {
            self.start_period(name, false)?;
        }
        append_checked(&mut self.active, &self.dir, &self.active_name, lines, fsync)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_tracing_appender() {
        assert_eq!(time_name_parts("audit.log"), ("audit", Some("log")));
        assert_eq!(time_name_parts("audit"), ("audit", None));
        assert_eq!(time_name_parts(".x"), (".x", None));
        assert!(is_time_rolled_name(
            "audit.2026-11-25-17.log",
            "audit",
            Some("log")
        ));
        assert!(is_time_rolled_name(
            "audit.2026-11-25.log",
            "audit",
            Some("log")
        ));
        assert!(!is_time_rolled_name("audit.log", "audit", Some("log")));
        assert!(!is_time_rolled_name("audit.log.1", "audit", Some("log")));
        assert!(is_time_rolled_name("audit.2026-11-25", "audit", None));
    }

    #[test]
    fn period_names_round_to_the_utc_hour_or_day() {
        let at: DateTime<Utc> = "2026-11-25T23:59:59.999Z".parse().unwrap();
        let hourly = period_name("audit", Some("log"), Rotation::Hourly, at);
        assert_eq!(hourly, "audit.2026-11-25-23.log");
        assert_eq!(
            period_name("audit", None, Rotation::Daily, at),
            "audit.2026-11-25"
        );
        let next = at + chrono::Duration::milliseconds(1);
        assert_eq!(
            period_name("audit", Some("log"), Rotation::Hourly, next),
            "audit.2026-11-26-00.log"
        );
        assert!(is_time_rolled_name(&hourly, "audit", Some("log")));
    }
}
