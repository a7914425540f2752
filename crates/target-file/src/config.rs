//! `FileTargetConfig`: the `[[targets]]` fields of `type = "file"`.

use std::path::{Path, PathBuf};

use auditrail_core::config::{ConfigPath, EMPTY_PATH};
use auditrail_core::InvalidConfig;
use serde::Deserialize;

/// Default folder of the audit files (relative to the working directory).
pub const DEFAULT_DIR: &str = "run/audit";
/// The folder of the audit files in the run folder, when built from a node config
/// without `dir`: `<run_dir>/audit` (`run/audit` with the default `run_dir`).
pub const DEFAULT_DIR_IN_RUN_DIR: &str = "audit";
/// Default name of the active audit file.
pub const DEFAULT_FILE_NAME: &str = "audit.log";
/// Default size at which `rotation = "size"` rolls the active file (100 MB, as the
/// reference product).
pub const DEFAULT_MAX_BYTES: u64 = 100 * 1024 * 1024;
/// Default number of files kept, the active one included (20, as the reference).
pub const DEFAULT_MAX_FILES: usize = 20;
/// Default logger prefix (the reference uses `dku.audit`).
pub const DEFAULT_LOGGER_PREFIX: &str = "audit";

/// How the active file is rolled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rotation {
    /// Roll when the active file reaches `max_bytes` (`audit.log` becomes
    /// `audit.log.1`, `.1` becomes `.2`, ...). The default, like the reference.
    #[default]
    Size,
    /// A new file every hour (UTC): `audit.2026-11-25-17.log`.
    Hourly,
    /// A new file every day (UTC): `audit.2026-11-25.log`.
    Daily,
    /// One file that grows forever.
    Never,
}

/// Where the events go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// JSON lines in local files (durable; `Ok` means written, and fsynced with
    /// `fsync = true`).
    #[default]
    File,
    /// Each event becomes a `tracing` event with target `<prefix>.<topic>`;
    /// `Ok` means "handed to tracing", not durable.
    Tracing,
}

/// Config of a `type = "file"` target. Every field is optional; unknown keys are
/// errors. The file-only fields (`dir`, `file_name`, `rotation`, `max_bytes`,
/// `max_files`, `fsync`) are refused in `mode = "tracing"`, where they would mean
/// nothing.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileTargetConfig {
    /// `"file"` (default) or `"tracing"`.
    #[serde(default)]
    pub mode: Mode,
    /// Folder of the audit files. Default: `<run_dir>/audit` for a target built from a
    /// config (`run/audit` with the default `run_dir`); `run/audit` for a
    /// [`crate::FileTarget`] opened in code. In a config file a relative path is taken
    /// in the file's folder; in code, in the working directory. Created if missing.
    /// Never empty ([`ConfigPath`]).
    pub dir: Option<ConfigPath>,
    /// Name of the active file; default `audit.log`.
    pub file_name: Option<String>,
    /// `"size"` (default), `"hourly"`, `"daily"` or `"never"`.
    pub rotation: Option<Rotation>,
    /// Size at which `rotation = "size"` rolls; default 100 MB.
    pub max_bytes: Option<u64>,
    /// Files kept, the active one included (at least 2); default 20. Applies to
    /// `size`, `hourly` and `daily` rotation.
    pub max_files: Option<usize>,
    /// fsync every batch before acknowledging it; default `true`.
    pub fsync: Option<bool>,
    /// Logger name prefix; default `audit` (logger `audit.<topic>`).
    pub logger_prefix: Option<String>,
    /// Appended to the logger name; default none.
    pub logger_suffix: Option<String>,
    /// Whether the logger name carries `.<topic>`; default `true`.
    pub append_topic_to_logger: Option<bool>,
}

impl FileTargetConfig {
    /// The folder of the audit files.
    pub fn dir(&self) -> PathBuf {
        self.dir
            .as_deref()
            .map_or_else(|| PathBuf::from(DEFAULT_DIR), Path::to_path_buf)
    }

    /// The name of the active file.
    pub fn file_name(&self) -> &str {
        self.file_name.as_deref().unwrap_or(DEFAULT_FILE_NAME)
    }

    /// The rotation policy.
    pub fn rotation(&self) -> Rotation {
        self.rotation.unwrap_or_default()
    }

    /// The size limit of `rotation = "size"`.
    pub fn max_bytes(&self) -> u64 {
        self.max_bytes.unwrap_or(DEFAULT_MAX_BYTES)
    }

    /// Files kept, the active one included.
    pub fn max_files(&self) -> usize {
        self.max_files.unwrap_or(DEFAULT_MAX_FILES)
    }

    /// Whether every batch is fsynced before it is acknowledged.
    pub fn fsync(&self) -> bool {
        self.fsync.unwrap_or(true)
    }

    /// The logger-name settings.
    pub fn logger(&self) -> crate::line::LoggerName {
        crate::line::LoggerName {
            prefix: self
                .logger_prefix
                .clone()
                .unwrap_or_else(|| DEFAULT_LOGGER_PREFIX.to_owned()),
            suffix: self.logger_suffix.clone().unwrap_or_default(),
            append_topic: self.append_topic_to_logger.unwrap_or(true),
        }
    }

    /// Checks values that serde cannot, naming the key at fault. Run once when the
    /// config is parsed through the registration ([`auditrail_core::TargetConfig::validate`]),
    /// and by [`crate::FileTarget::open`] for a config made in code.
    pub fn check(&self) -> Result<(), InvalidConfig> {
        check_logger_part("logger_prefix", self.logger_prefix.as_deref(), false)?;
        check_logger_part("logger_suffix", self.logger_suffix.as_deref(), true)?;
        if self.mode == Mode::Tracing {
            let file_only = [
                ("dir", self.dir.is_some()),
                ("file_name", self.file_name.is_some()),
                ("rotation", self.rotation.is_some()),
                ("max_bytes", self.max_bytes.is_some()),
                ("max_files", self.max_files.is_some()),
                ("fsync", self.fsync.is_some()),
            ];
            if let Some((key, _)) = file_only.iter().find(|(_, set)| *set) {
                return Err(InvalidConfig::key(
                    *key,
                    "only applies to mode = \"file\"; mode = \"tracing\" hands events to \
                     tracing and writes no file itself",
                ));
            }
            return Ok(());
        }
        // Read from a file, an empty `dir` is refused by `ConfigPath`; this is for a
        // config made in code.
        if self.dir.as_ref().is_some_and(|d| d.as_os_str().is_empty()) {
            return Err(InvalidConfig::key("dir", EMPTY_PATH));
        }
        let name = self.file_name();
        if !crate::naming::is_plain_name(name) {
            return Err(InvalidConfig::key(
                "file_name",
                format!(
                    "must be a plain file name (no folder, not starting with '.'), got {name:?}"
                ),
            ));
        }
        if self.max_bytes == Some(0) {
            return Err(InvalidConfig::key("max_bytes", "must be at least 1"));
        }
        if self.max_bytes.is_some() && self.rotation() != Rotation::Size {
            return Err(InvalidConfig::key(
                "max_bytes",
                "only applies to rotation = \"size\"",
            ));
        }
        if self.max_files.is_some() && self.rotation() == Rotation::Never {
            return Err(InvalidConfig::key(
                "max_files",
                "does not apply to rotation = \"never\"",
            ));
        }
        if self.max_files() < 2 {
            // With one file, rolling would delete the file being written (and its
            // audit data) at once.
            return Err(InvalidConfig::key(
                "max_files",
                format!(
                    "must be at least 2 (the active file plus one rolled file), got {}",
                    self.max_files()
                ),
            ));
        }
        Ok(())
    }
}

fn check_logger_part(
    key: &str,
    value: Option<&str>,
    may_be_empty: bool,
) -> Result<(), InvalidConfig> {
    let Some(v) = value else { return Ok(()) };
    if v.is_empty() && !may_be_empty {
        return Err(InvalidConfig::key(key, "must not be empty"));
    }
    if v.len() > 128
        || !v
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
    {
        return Err(InvalidConfig::key(
            key,
            format!("must be at most 128 characters of [A-Za-z0-9._-], got {v:?}"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<FileTargetConfig, String> {
        let c: FileTargetConfig = serde_json::from_str(json).map_err(|e| e.to_string())?;
        c.check().map_err(|e| e.to_string())?;
        Ok(c)
    }

    #[test]
    fn defaults_match_the_reference() {
        let c = parse("{}").unwrap();
        assert_eq!(c.dir(), PathBuf::from("run/audit"));
        assert_eq!(c.file_name(), "audit.log");
        assert_eq!(c.rotation(), Rotation::Size);
        assert_eq!(c.max_bytes(), 100 * 1024 * 1024);
        assert_eq!(c.max_files(), 20);
        assert!(c.fsync());
        assert_eq!(c.mode, Mode::File);
        let l = c.logger();
        assert_eq!(
            (l.prefix.as_str(), l.suffix.as_str(), l.append_topic),
            ("audit", "", true)
        );
    }

    #[test]
    fn unknown_keys_and_bad_values_name_the_key() {
        for (json, needle) in [
            (r#"{"max_file": 3}"#, "max_file"),
            (r#"{"rotation": "weekly"}"#, "weekly"),
            (r#"{"mode": "syslog"}"#, "syslog"),
            (r#"{"max_files": 1}"#, "max_files"),
            (r#"{"max_bytes": 0}"#, "max_bytes"),
            (r#"{"rotation": "daily", "max_bytes": 10}"#, "max_bytes"),
            (r#"{"rotation": "never", "max_files": 3}"#, "max_files"),
            (r#"{"file_name": "../x.log"}"#, "file_name"),
            (r#"{"file_name": ".hidden"}"#, "file_name"),
            (r#"{"logger_prefix": "a b"}"#, "logger_prefix"),
            (r#"{"logger_prefix": ""}"#, "logger_prefix"),
            (r#"{"logger_suffix": "\"x"}"#, "logger_suffix"),
            (r#"{"mode": "tracing", "fsync": true}"#, "fsync"),
            (r#"{"mode": "tracing", "dir": "x"}"#, "dir"),
        ] {
            let err = parse(json).unwrap_err();
            assert!(err.contains(needle), "{json}: {err}");
        }
    }

    #[test]
    fn a_full_config_parses() {
        let c = parse(
            r#"{"mode":"file","dir":"/var/audit","file_name":"a.jsonl","rotation":"hourly",
                "max_files":48,"fsync":false,"logger_prefix":"dku.audit","logger_suffix":".x",
                "append_topic_to_logger":false}"#,
        )
        .unwrap();
        assert_eq!(c.rotation(), Rotation::Hourly);
        assert_eq!(c.max_files(), 48);
        assert!(!c.fsync());
        let tracing = parse(r#"{"mode":"tracing","logger_prefix":"dku.audit"}"#).unwrap();
        assert_eq!(tracing.mode, Mode::Tracing);
    }
}
