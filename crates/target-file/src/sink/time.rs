//! `rotation = "hourly"` and `"daily"`: tracing-appender's own time-based rolling and
//! retention (`max_log_files`), plus fsync by file name.
//!
//! tracing-appender names a file after the UTC period it rolled into
//! (`audit.2026-11-25-17.log`) and rolls on the first write of a new period. The
//! write therefore landed in the file of the period at some instant between the
//! clock readings taken just before and just after it: fsyncing the files of both
//! periods (and the last one written, should the clock step back) covers it.

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use auditrail_core::BuildError;
use chrono::{DateTime, Utc};
use tracing_appender::rolling::{RollingFileAppender, Rotation as AppenderRotation};

use super::{open_append, sync_dir, WriteError};
use crate::config::Rotation;

pub(super) struct TimeRolled {
    dir: PathBuf,
    prefix: String,
    suffix: Option<String>,
    rotation: Rotation,
    appender: RollingFileAppender,
    /// Descriptors of recently written files, newest last, for fsync.
    synced: Vec<(String, File)>,
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
        if dir.join(file_name).exists() {
            tracing::warn!(
                path = %dir.join(file_name).display(),
                "a size-rolled audit file sits in a folder with time rotation; \
                 tracing-appender's retention (max_files) may count and remove it"
            );
        }
        let mut builder = RollingFileAppender::builder()
            .rotation(match rotation {
                Rotation::Hourly => AppenderRotation::HOURLY,
                _ => AppenderRotation::DAILY,
            })
            .filename_prefix(prefix)
            .max_log_files(max_files);
        if let Some(s) = suffix {
            builder = builder.filename_suffix(s);
        }
        // Not probed before: a file created by a probe would count against
        // `max_files` in the appender's pruning.
        let appender = builder.build(dir).map_err(|e| {
            // Open the file ourselves to report the exact path and OS error.
            let path = dir.join(period_name(prefix, suffix, rotation, Utc::now()));
            match open_append(&path) {
                Err(io) => io,
                Ok(_) => BuildError::Io {
                    path: dir.to_path_buf(),
                    source: io::Error::other(e.to_string()),
                },
            }
        })?;
        Ok(TimeRolled {
            dir: dir.to_path_buf(),
            prefix: prefix.to_owned(),
            suffix: suffix.map(str::to_owned),
            rotation,
            appender,
            synced: Vec::new(),
        })
    }

    /// The file of the current period (where the next write goes).
    pub(super) fn current_path(&self) -> PathBuf {
        self.dir.join(self.name_at(Utc::now()))
    }

    fn name_at(&self, at: DateTime<Utc>) -> String {
        period_name(&self.prefix, self.suffix.as_deref(), self.rotation, at)
    }

    pub(super) fn append(&mut self, lines: &[u8], fsync: bool) -> Result<(), WriteError> {
        let before = self.name_at(Utc::now());
        let written = self.appender.write_all(lines);
        let after = self.name_at(Utc::now());
        written.map_err(|e| WriteError::new(&self.dir.join(&after), "write", e))?;
        if fsync {
            let last = self.synced.last().map(|(n, _)| n.clone());
            let mut names = vec![before, after];
            names.extend(last);
            names.dedup();
            names.sort();
            names.dedup();
            for name in names {
                self.sync(&name)?;
            }
        }
        Ok(())
    }

    fn sync(&mut self, name: &str) -> Result<(), WriteError> {
        let path = self.dir.join(name);
        if let Some((_, f)) = self.synced.iter().find(|(n, _)| n == name) {
            return f
                .sync_data()
                .map_err(|e| WriteError::new(&path, "fsync", e));
        }
        let file = match File::open(&path) {
            Ok(f) => f,
            // The write did not touch this period's file.
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(WriteError::new(&path, "open", e)),
        };
        file.sync_data()
            .map_err(|e| WriteError::new(&path, "fsync", e))?;
        // First time we see this file: make its directory entry durable too.
        sync_dir(&self.dir).map_err(|e| WriteError::new(&self.dir, "fsync", e))?;
        self.synced.push((name.to_owned(), file));
        if self.synced.len() > 3 {
            self.synced.remove(0);
        }
        Ok(())
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
