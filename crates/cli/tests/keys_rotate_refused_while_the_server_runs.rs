//! `auditrail keys rotate` while the server runs is refused before anything is
//! written, naming the server: no `signing.key.next` is left behind, the key and the
//! public key are unchanged, and the store's log has no hand-over line. (Before the
//! data dir's lock, a store without checkpoints was skipped without opening it, so
//! the rotation went ahead under a running server, which kept signing with a key that
//! no longer existed on disk; and a refused rotation left its `.next` key, silently
//! reused by the next run.) Once the server is stopped the same command rotates.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::retention_support;
use crate::serve_support;
use crate::tamper_support;

use retention_support::{post_day, run, write_config};
use serve_support::start;

#[test]
fn rotation_under_a_running_server_is_refused_and_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    write_config(dir.path(), "");
    let data = dir.path().join("data");
    let server = start(dir.path(), &["--config", "server.toml"]);
    post_day(&server, "2026-11-30", 5, 1);
    let secret = std::fs::read(data.join("signing.key")).unwrap();
    let public = std::fs::read(data.join("signing.pub")).unwrap();
    let log = std::fs::read(data.join("store/checkpoints.jsonl")).unwrap();

    for args in [
        &["keys", "rotate", "--data-dir", "data"][..],
        &["keys", "rotate", "--config", "server.toml"][..],
    ] {
        let (code, out) = run(dir.path(), args);
        assert_ne!(code, 0, "{args:?}: {out}");
        assert!(
            out.contains("in use by") && out.contains("(auditrail serve)"),
            "{args:?}: {out}"
        );
        assert!(
            !data.join("signing.key.next").exists(),
            "{args:?}: a refused rotation left its next key: {out}"
        );
        assert_eq!(std::fs::read(data.join("signing.key")).unwrap(), secret);
        assert_eq!(std::fs::read(data.join("signing.pub")).unwrap(), public);
        assert_eq!(
            std::fs::read(data.join("store/checkpoints.jsonl")).unwrap(),
            log
        );
    }
    assert_eq!(tamper_support::stop(server), 0);

    let (code, out) = run(dir.path(), &["keys", "rotate", "--config", "server.toml"]);
    assert_eq!(code, 0, "{out}");
    assert!(!out.contains("resuming"), "{out}");
    assert!(out.contains("signing key rotated"), "{out}");
    assert_ne!(std::fs::read(data.join("signing.key")).unwrap(), secret);
}
