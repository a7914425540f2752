//! A config file's relative `data_dir` (its default too) is taken in the file's folder;
//! a start that finds the folder earlier versions took in the working directory holding
//! a server's data, and none beside the file, is refused (moving on would start empty
//! stores with a new key). A data folder given on the command line (`serve --data-dir`)
//! settles where the data is: that refusal, about the file's `data_dir`, does not apply.
//!
//! One test in this file: it changes the process's working directory.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use auditrail_eventserver::config::ServerConfig;

#[test]
fn a_data_dir_given_on_the_command_line_is_taken_without_looking_at_the_working_directory() {
    let dir = tempfile::tempdir().unwrap();
    let root = std::fs::canonicalize(dir.path()).unwrap();
    // What an earlier version left in the working directory: a data folder in use.
    std::fs::create_dir(root.join("auditrail-data")).unwrap();
    std::fs::write(root.join("auditrail-data/auditrail.lock"), "pid 1\n").unwrap();
    let etc = root.join("etc");
    std::fs::create_dir(&etc).unwrap();
    let file = etc.join("server.toml");
    std::fs::write(
        &file,
        "[[destinations]]\ntype = \"store\"\npath = \"store\"\n",
    )
    .unwrap();
    std::env::set_current_dir(&root).unwrap();
    let registry = auditrail_eventserver::registry(&[]).unwrap();
    let no_env: [(&str, &str); 0] = [];

    let refused = ServerConfig::load_with_env(Some(&file), &registry, no_env).unwrap_err();
    assert!(
        refused.to_string().contains("working directory"),
        "the file's data_dir alone is refused: {refused}"
    );

    let given = root.join("var/data");
    let c = ServerConfig::load_with_data_dir(
        Some(&file),
        &registry,
        no_env,
        Some(&given),
        auditrail_core::regular_file::Reading::Start,
    )
    .unwrap();
    assert_eq!(c.data_dir, given);
    assert_eq!(c.store_paths(), [given.join("store")]);
}
