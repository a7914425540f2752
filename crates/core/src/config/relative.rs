//! Relative paths in config files are taken relative to the config file's folder, not
//! to the working directory of the process that reads it.
//!
//! Why: one config is used from several working directories (cron, a service manager,
//! an operator's shell). Taken relative to the working directory, the same `run_dir`
//! named a different folder for each of them: two sequence files (repeated `seq`), two
//! spools (events spooled by one run never sent by the others), two locks. kubeconfig
//! ("file and path references in a kubeconfig file are relative to the location of the
//! kubeconfig file; file references on the command line are relative to the current
//! working directory") and docker compose (relative to the Compose file's folder) do
//! the same; Fluent Bit falls back to the main config file's folder. Paths given on a
//! command line stay relative to the working directory, and so do paths of a config
//! built in code (there is no file).
//!
//! Done once, where a config file is parsed: the node config's own folders here, each
//! target's path keys ([`crate::TargetConfig::PATH_KEYS`]) by
//! [`parse_target_in`](super::parse_target_in), so no target resolves paths itself.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::target_config::InvalidConfig;

/// The folder relative paths of config file `file` are taken in: its parent folder
/// (the working directory for a bare file name), made absolute and free of symbolic
/// links, so that the resolved paths name the same folders whatever the working
/// directory of the process, and messages show the real place.
pub fn config_folder(file: &Path) -> std::io::Result<PathBuf> {
    let parent = match file.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    std::fs::canonicalize(parent)
}

/// `path` taken in `folder`: unchanged when absolute.
pub fn resolve(folder: &Path, path: &Path) -> PathBuf {
    folder.join(path)
}

/// The folder a relative `path` of a config file named before relative paths were
/// taken in the file's folder (in the working directory), when that one holds this
/// config's state (the file `own`, a path inside the folder: a node's sequence file
/// `seq/<node>`, a server's lock file [`LOCK_FILE`](crate::folder_lock::LOCK_FILE)) and
/// `resolved` does not exist yet. Starting there would begin new state beside the old
/// one: a node's sequence numbers from 1 again and its spooled events never sent, a
/// server's store started empty. The caller refuses to start and says what to move
/// where. A folder there that holds no such file (another node's run folder) is none of
/// this config's business: it is not named.
pub fn left_in_working_directory(path: &Path, resolved: &Path, own: &Path) -> Option<PathBuf> {
    if path.is_absolute() || resolved.exists() {
        return None;
    }
    let old = std::fs::canonicalize(path).ok()?;
    old.join(own).exists().then_some(old)
}

/// Rewrites the relative string values of `keys` in a target's table as paths in
/// `folder`. Absent keys stay absent (the target's default then applies, usually under
/// the run folder, itself resolved); values that are not strings are left for the
/// target's typed parse to refuse.
pub(crate) fn resolve_keys(
    fields: &mut Map<String, Value>,
    keys: &[&str],
    folder: &Path,
) -> Result<(), InvalidConfig> {
    for key in keys {
        let Some(Value::String(text)) = fields.get_mut(*key) else {
            continue;
        };
        if text.is_empty() || Path::new(text.as_str()).is_absolute() {
            continue;
        }
        let joined = resolve(folder, Path::new(text.as_str()));
        *text = joined.into_os_string().into_string().map_err(|_| {
            InvalidConfig::key(
                *key,
                format!(
                    "{text:?} is relative to the config file's folder {}, whose name is not UTF-8: give an absolute path",
                    folder.display()
                ),
            )
        })?;
    }
    Ok(())
}

/// librdkafka's properties whose values are files it reads (its CONFIGURATION.md,
/// librdkafka 2.12: "Path to ...", "File or directory path to ..."): taken relative to
/// the config file's folder by the kafka target and the server's Kafka source. Left
/// out: `ssl.engine.location` and `plugin.library.paths` (libraries, which a bare name
/// finds in the system's library path) and the deprecated `offset.store.path`.
pub const LIBRDKAFKA_FILE_PROPERTIES: &[&str] = &[
    "ssl.ca.location",
    "https.ca.location",
    "ssl.certificate.location",
    "ssl.key.location",
    "ssl.keystore.location",
    "ssl.crl.location",
    "sasl.kerberos.keytab",
    "sasl.oauthbearer.assertion.file",
    "sasl.oauthbearer.assertion.private.key.file",
    "sasl.oauthbearer.assertion.jwt.template.file",
];

/// Values of [`LIBRDKAFKA_FILE_PROPERTIES`] that are no path: `probe` (`ssl.ca.location`
/// and `https.ca.location`: librdkafka looks for the system's CA certificates).
pub const LIBRDKAFKA_WORDS: &[&str] = &["probe"];

/// The kafka target's and the Kafka source's file properties.
pub const LIBRDKAFKA: crate::FileProperties = crate::FileProperties {
    table: "properties",
    keys: LIBRDKAFKA_FILE_PROPERTIES,
    words: LIBRDKAFKA_WORDS,
};

/// Rewrites the relative string values of `keys` in `table` (a table of a library's
/// properties, at `table_key` in the config, which names it in errors) as paths in
/// `folder`. These are files the library reads when the target or source starts, so
/// one that does not exist there is refused now, naming the key, the path as written
/// and as resolved: a message from the library later would name neither the config nor
/// the folder it was taken in. Values in `words` are kept (no path).
pub fn resolve_file_properties(
    table: &mut Map<String, Value>,
    table_key: &str,
    files: &crate::FileProperties,
    folder: &Path,
) -> Result<(), InvalidConfig> {
    for key in files.keys {
        let Some(Value::String(text)) = table.get_mut(*key) else {
            continue;
        };
        if text.is_empty()
            || files.words.contains(&text.as_str())
            || Path::new(text.as_str()).is_absolute()
        {
            continue;
        }
        let at = format!("{table_key}.\"{key}\"");
        let joined = resolve(folder, Path::new(text.as_str()));
        if !joined.exists() {
            return Err(InvalidConfig::key(
                at,
                format!(
                    "{text:?} is taken relative to the config file's folder: {} does not exist",
                    joined.display()
                ),
            ));
        }
        *text = joined.into_os_string().into_string().map_err(|_| {
            InvalidConfig::key(
                at.clone(),
                format!(
                    "{text:?} is relative to the config file's folder {}, whose name is not UTF-8: give an absolute path",
                    folder.display()
                ),
            )
        })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_file_properties_are_taken_in_the_folder_and_must_exist_there() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("ca.pem"), b"x").unwrap();
        let mut table = serde_json::json!({
            "ssl.ca.location": "ca.pem",
            "ssl.key.location": "/etc/kafka/client.key",
            "https.ca.location": "probe",
            "linger.ms": "5",
        });
        let Value::Object(map) = &mut table else {
            unreachable!()
        };
        resolve_file_properties(map, "properties", &LIBRDKAFKA, dir.path()).unwrap();
        assert_eq!(
            map["ssl.ca.location"],
            dir.path().join("ca.pem").display().to_string()
        );
        assert_eq!(map["ssl.key.location"], "/etc/kafka/client.key");
        assert_eq!(map["https.ca.location"], "probe");
        assert_eq!(map["linger.ms"], "5");

        let mut table = serde_json::json!({"ssl.certificate.location": "certs/client.pem"});
        let Value::Object(map) = &mut table else {
            unreachable!()
        };
        let e = resolve_file_properties(map, "properties", &LIBRDKAFKA, dir.path()).unwrap_err();
        assert_eq!(
            e.key.as_deref(),
            Some("properties.\"ssl.certificate.location\"")
        );
        let resolved = dir.path().join("certs/client.pem").display().to_string();
        assert!(e.message.contains("\"certs/client.pem\""), "{e}");
        assert!(e.message.contains(&resolved), "{e}");
    }

    #[test]
    fn relative_values_of_path_keys_are_taken_in_the_folder_and_others_are_left() {
        let mut fields = serde_json::json!({
            "dir": "audit",
            "spool_dir": "/var/spool/x",
            "name_like": "kept",
            "count": 3,
            "empty": "",
        });
        let Value::Object(map) = &mut fields else {
            unreachable!()
        };
        resolve_keys(
            map,
            &["dir", "spool_dir", "count", "empty", "absent"],
            Path::new("/etc/auditrail"),
        )
        .unwrap();
        assert_eq!(map["dir"], "/etc/auditrail/audit");
        assert_eq!(map["spool_dir"], "/var/spool/x");
        assert_eq!(map["name_like"], "kept");
        assert_eq!(map["count"], 3);
        assert_eq!(map["empty"], "");
        assert!(!map.contains_key("absent"));
    }

    #[test]
    fn the_folder_of_a_bare_file_name_is_the_working_directory() {
        let cwd = std::fs::canonicalize(".").unwrap();
        assert_eq!(config_folder(Path::new("node.toml")).unwrap(), cwd);
        assert_eq!(config_folder(Path::new("./node.toml")).unwrap(), cwd);
    }
}
