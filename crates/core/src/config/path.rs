//! [`ConfigPath`]: the one type of every path-valued key of a config file (a node's
//! `run_dir`, a target's `dir` or `spool_dir`, a store's `path`, the server's
//! `data_dir`...) and of the environment variables that set them
//! (`AUDITRAIL_DATA_DIR`, which are written into the config before the typed parse).
//!
//! Why: an empty path is `Path::new("")`, which every file operation takes as the
//! working directory (`"".join("x")` is `x`), or refuses with a bare `No such file or
//! directory` that names neither key nor path. `spool_dir = ""` was accepted at load,
//! its target never started ("the target cannot start: : No such file or directory")
//! and its lock file went to the working directory; `AUDITRAIL_DATA_DIR=""` put a
//! server's store and signing key there. The rule lives in this type's `Deserialize`,
//! so a key declared as a `ConfigPath` cannot forget it, and the error names the key
//! (serde's path of the field) and the file or the variable.

use std::ffi::OsStr;
use std::fmt;
use std::ops::Deref;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The message of an empty path-valued key that has a default (the caller names the
/// key and the file).
pub const EMPTY_PATH: &str = "must not be empty: an empty path names no file or folder \
                              (it would be taken as the working directory); give a path, \
                              or leave the key out for its default";

/// The message of an empty path-valued key that must be given ([`ConfigPath::required`]):
/// leaving it out is no way out, so the message does not suggest it.
pub const EMPTY_REQUIRED_PATH: &str = "must not be empty: an empty path names no file or \
                                       folder (it would be taken as the working directory); \
                                       give a path";

/// A file or folder path read from a config file or the environment: never empty.
///
/// Made from config text it is checked ([`EMPTY_PATH`]); made in code (`From`) it is
/// taken as given, as the rest of a config made in code is.
///
/// ```
/// use auditrail_core::config::ConfigPath;
/// let ok: ConfigPath = serde_json::from_value(serde_json::json!("run/spool")).unwrap();
/// assert_eq!(ok.as_path(), std::path::Path::new("run/spool"));
/// let err = serde_json::from_value::<ConfigPath>(serde_json::json!("")).unwrap_err();
/// assert!(err.to_string().starts_with("must not be empty"));
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct ConfigPath(PathBuf);

impl ConfigPath {
    /// The path.
    pub fn as_path(&self) -> &Path {
        &self.0
    }

    /// The path, owned.
    pub fn into_path_buf(self) -> PathBuf {
        self.0
    }

    /// Reads a key that has no default, refusing the empty text with
    /// [`EMPTY_REQUIRED_PATH`]: `#[serde(deserialize_with = "ConfigPath::required")]`
    /// on a `ConfigPath` field that is not an `Option`. Without it the message is
    /// [`EMPTY_PATH`], whose "leave the key out for its default" is wrong for such a key
    /// (left out, the config is refused as missing it). serde cannot tell a
    /// `ConfigPath` inside an `Option` from one that is not, so the field says so.
    pub fn required<'de, D: serde::Deserializer<'de>>(d: D) -> Result<ConfigPath, D::Error> {
        ConfigPath::read(d, EMPTY_REQUIRED_PATH)
    }

    fn read<'de, D: serde::Deserializer<'de>>(
        d: D,
        empty: &'static str,
    ) -> Result<ConfigPath, D::Error> {
        let path = PathBuf::deserialize(d)?;
        if path.as_os_str().is_empty() {
            return Err(serde::de::Error::custom(empty));
        }
        Ok(ConfigPath(path))
    }
}

impl<'de> Deserialize<'de> for ConfigPath {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<ConfigPath, D::Error> {
        ConfigPath::read(d, EMPTY_PATH)
    }
}

impl fmt::Debug for ConfigPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl Deref for ConfigPath {
    type Target = Path;

    fn deref(&self) -> &Path {
        &self.0
    }
}

impl AsRef<Path> for ConfigPath {
    fn as_ref(&self) -> &Path {
        &self.0
    }
}

impl AsRef<OsStr> for ConfigPath {
    fn as_ref(&self) -> &OsStr {
        self.0.as_os_str()
    }
}

impl From<PathBuf> for ConfigPath {
    fn from(path: PathBuf) -> ConfigPath {
        ConfigPath(path)
    }
}

impl From<String> for ConfigPath {
    fn from(path: String) -> ConfigPath {
        ConfigPath(path.into())
    }
}

impl<T: ?Sized + AsRef<OsStr>> From<&T> for ConfigPath {
    fn from(path: &T) -> ConfigPath {
        ConfigPath(PathBuf::from(path))
    }
}

impl From<ConfigPath> for PathBuf {
    fn from(path: ConfigPath) -> PathBuf {
        path.0
    }
}

impl PartialEq<Path> for ConfigPath {
    fn eq(&self, other: &Path) -> bool {
        self.0 == other
    }
}

impl PartialEq<PathBuf> for ConfigPath {
    fn eq(&self, other: &PathBuf) -> bool {
        &self.0 == other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Keys {
        #[serde(default)]
        spool_dir: Option<ConfigPath>,
        #[serde(default)]
        data_dir: Option<ConfigPath>,
    }

    #[test]
    fn an_empty_path_is_refused_naming_its_key_and_others_are_kept_as_written() {
        let parse = |v: serde_json::Value| {
            serde_path_to_error::deserialize::<_, Keys>(v).map_err(|e| {
                let path = e.path().to_string();
                format!("{path}: {}", e.into_inner())
            })
        };
        let err = parse(serde_json::json!({"data_dir": "d", "spool_dir": ""})).unwrap_err();
        assert_eq!(err, format!("spool_dir: {EMPTY_PATH}"));
        let ok = parse(serde_json::json!({"spool_dir": " ", "data_dir": "./x/../y"})).unwrap();
        assert_eq!(ok.spool_dir.unwrap(), PathBuf::from(" "));
        assert_eq!(ok.data_dir.unwrap(), PathBuf::from("./x/../y"));
        assert!(parse(serde_json::json!({})).unwrap().spool_dir.is_none());
    }

    #[derive(Debug, Deserialize)]
    struct Required {
        #[serde(deserialize_with = "ConfigPath::required")]
        path: ConfigPath,
    }

    #[test]
    fn an_empty_required_path_is_refused_without_suggesting_to_leave_the_key_out() {
        let err = serde_json::from_value::<Required>(serde_json::json!({"path": ""}))
            .unwrap_err()
            .to_string();
        assert!(err.starts_with(EMPTY_REQUIRED_PATH), "{err}");
        assert!(!err.contains("leave the key out"), "{err}");
        let ok = serde_json::from_value::<Required>(serde_json::json!({"path": "s"})).unwrap();
        assert_eq!(ok.path, PathBuf::from("s"));
        // Left out, it is missing (not defaulted): the advice would have been wrong.
        let err = serde_json::from_value::<Required>(serde_json::json!({})).unwrap_err();
        assert!(err.to_string().contains("missing field `path`"), "{err}");
    }
}
