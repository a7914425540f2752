//! A start refused because `max_connections` and the stores' `max_open_files` need more
//! descriptors than the open-file limit names each value with where it came from:
//! `max_connections` from the environment is blamed on its variable, not on the config
//! file, and a store's value the config did not set is said to be its share. Before,
//! the refusal began with the config file's name whatever set the values, and showed a
//! store's unset value as `(1)`, as if configured.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::serve_support;

use std::process::Command;

use serve_support::exit_of_refused_start;

#[test]
fn max_connections_from_the_environment_is_blamed_on_its_variable() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("s.toml"),
        "data_dir = \"data\"\n\
         [[destinations]]\nname = \"a\"\ntype = \"store\"\npath = \"a\"\nmax_open_files = 100\n\
         [[destinations]]\nname = \"b\"\ntype = \"store\"\npath = \"b\"\n",
    )
    .unwrap();
    let (code, _, err) = exit_of_refused_start(
        Command::new(env!("CARGO_BIN_EXE_auditrail"))
            .args(["serve", "--config", "s.toml", "--listen", "127.0.0.1:0"])
            // Far over any open-file limit.
            .env("AUDITRAIL_MAX_CONNECTIONS", "100000000"),
        dir.path(),
        "the start should be refused",
    );
    assert_ne!(code, 0, "{err}");
    assert!(
        err.contains("max_connections 100000000 (set in environment AUDITRAIL_MAX_CONNECTIONS)"),
        "{err}"
    );
    assert!(
        err.contains(r#"max_open_files of store "a" 100 (set in s.toml)"#),
        "{err}"
    );
    assert!(
        err.contains(r#"max_open_files of store "b" 1 (unset: its share"#),
        "{err}"
    );
    assert!(!err.contains("s.toml: the open-file limit"), "{err}");
}
