//! Relative paths in a server config file are taken in the file's folder, as in a node
//! config: `data_dir` (its default too), `dead_letter_dir`, `signing_key`, the `[tls]`
//! files; a store destination's `path` stays in `data_dir`. A key set by the
//! environment stays relative to the working directory, as a command-line flag does.
//! (Taken in the working directory, `auditrail serve --config /etc/auditrail/server.toml`
//! started elsewhere used another data folder: empty stores, a new signing key.)

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

use auditrail_eventserver::config::ServerConfig;

fn load(file: &Path, env: &[(&str, &str)]) -> ServerConfig {
    let registry = auditrail_eventserver::registry(&[]).unwrap();
    ServerConfig::load_with_env(Some(file), &registry, env.iter().copied()).unwrap()
}

fn folder_with(config: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let etc = std::fs::canonicalize(dir.path()).unwrap().join("etc");
    std::fs::create_dir(&etc).unwrap();
    std::fs::write(etc.join("server.toml"), config).unwrap();
    (dir, etc)
}

#[test]
fn relative_paths_of_the_file_are_in_its_folder_and_a_store_path_in_the_data_dir() {
    let (_dir, etc) = folder_with(
        "data_dir = \"data\"\ndead_letter_dir = \"dead\"\nsigning_key = \"keys/signing.key\"\n\
         [tls]\ncert = \"tls/server.crt\"\nkey = \"/abs/server.key\"\nclient_ca = \"tls/ca.pem\"\n\
         [[destinations]]\ntype = \"store\"\npath = \"store\"\n",
    );
    // Read through a path relative to the working directory, which is elsewhere.
    let c = load(&etc.join("server.toml"), &[]);
    assert_eq!(c.data_dir, etc.join("data"));
    assert_eq!(c.dead_letter_dir(), etc.join("dead"));
    assert_eq!(c.signing_key_path(), etc.join("keys/signing.key"));
    let tls = c.tls.as_ref().unwrap();
    assert_eq!(tls.cert, etc.join("tls/server.crt"));
    assert_eq!(tls.key, PathBuf::from("/abs/server.key"), "absolute stays");
    assert_eq!(
        tls.client_ca.as_deref(),
        Some(etc.join("tls/ca.pem").as_path())
    );
    assert_eq!(c.store_paths(), [etc.join("data/store")]);
}

#[test]
fn the_default_data_dir_is_in_the_files_folder_too() {
    let (_dir, etc) = folder_with("[[destinations]]\ntype = \"store\"\npath = \"store\"\n");
    let c = load(&etc.join("server.toml"), &[]);
    assert_eq!(c.data_dir, etc.join("auditrail-data"));
}

#[test]
fn a_path_set_by_the_environment_stays_relative_to_the_working_directory() {
    let (_dir, etc) =
        folder_with("data_dir = \"data\"\n[[destinations]]\ntype = \"store\"\npath = \"store\"\n");
    let c = load(
        &etc.join("server.toml"),
        &[("AUDITRAIL_DATA_DIR", "from-env")],
    );
    assert_eq!(c.data_dir, PathBuf::from("from-env"));
}
