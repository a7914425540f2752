//! A SIGHUP when the config file cannot be read (deleted, a symbolic link a deploy
//! tool pointed at nothing, a folder in its place) keeps the running configuration
//! and says why once: the log said the OS error twice (`server.toml: cannot read: No
//! such file or directory (os error 2): No such file or directory (os error 2)`;
//! `/work/tryout` case `reloadtry/02-sighup-missing-config-says-cause-twice.sh`), as
//! the start's own error does not.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::serve_support;

use serve_support::*;

#[test]
fn a_config_that_cannot_be_read_at_a_reload_is_said_once() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("real.toml"),
        "data_dir = \"data\"\n[[destinations]]\ntype = \"store\"\npath = \"store\"\n",
    )
    .unwrap();
    let link = dir.path().join("server.toml");
    std::os::unix::fs::symlink("real.toml", &link).unwrap();
    let server = start(dir.path(), &["--config", "server.toml"]);
    let cases = [
        ("gone.toml", "No such file or directory"),
        ("folder", "Is a directory"),
    ];
    std::fs::create_dir(dir.path().join("folder")).unwrap();
    for (n, (target, cause)) in cases.iter().enumerate() {
        std::fs::remove_file(&link).unwrap();
        std::os::unix::fs::symlink(target, &link).unwrap();
        hangup(&server);
        wait_for_log_count(&server, "not reloaded", n + 1);
        let log = server.stderr();
        let line = log
            .lines()
            .filter(|l| l.contains("not reloaded"))
            .nth(n)
            .unwrap();
        assert!(line.contains("cannot read"), "{line}");
        assert_eq!(line.matches(cause).count(), 1, "the cause once: {line}");
        assert!(server.child_alive(), "{log}");
    }
    assert_eq!(server.terminate(), 0);
}
