//! `keys export` on a data dir left by a `keys rotate` interrupted after the new key
//! replaced the old one but before `signing.pub` was written (the key file holds the
//! new key, `signing.pub` the old one, every store's log ends with the handover
//! between them) says, in the words `serve` refuses to start with, that the rotation
//! is not finished and how to finish it: not that the two files are of different keys
//! (which sends the operator after a replaced file), with `--config` and `--data-dir`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::retention_support;
use crate::serve_support;
use crate::tamper_support;

use retention_support::{post_day, run, write_config};
use serve_support::start;

#[test]
fn keys_export_names_the_unfinished_rotation() {
    let dir = tempfile::tempdir().unwrap();
    write_config(dir.path(), "");
    let data = dir.path().join("data");
    let server = start(dir.path(), &["--config", "server.toml"]);
    post_day(&server, "2026-11-30", 5, 1);
    assert_eq!(tamper_support::stop(server), 0);
    let old_public = std::fs::read_to_string(data.join("signing.pub")).unwrap();
    let (code, out) = run(dir.path(), &["keys", "rotate", "--config", "server.toml"]);
    assert_eq!(code, 0, "{out}");
    let new_public = std::fs::read_to_string(data.join("signing.pub")).unwrap();
    // The files as the interruption left them: everything done but `signing.pub`.
    std::fs::write(data.join("signing.pub"), &old_public).unwrap();

    for args in [
        ["keys", "export", "--config", "server.toml"],
        ["keys", "export", "--data-dir", "data"],
    ] {
        let (code, out) = run(dir.path(), &args);
        assert_ne!(code, 0, "{args:?}: {out}");
        assert!(
            out.contains("an interrupted `auditrail keys rotate` is not finished")
                && out.contains("Run `auditrail keys rotate` again")
                && out.contains(new_public.trim())
                && out.contains(old_public.trim())
                && !out.contains("are not halves of one key"),
            "{args:?}: {out}"
        );
    }

    // Finished as it says, the export gives the new key.
    let (code, out) = run(dir.path(), &["keys", "rotate", "--config", "server.toml"]);
    assert_eq!(code, 0, "{out}");
    let (code, out) = run(dir.path(), &["keys", "export", "--config", "server.toml"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(out.trim(), new_public.trim());
}
