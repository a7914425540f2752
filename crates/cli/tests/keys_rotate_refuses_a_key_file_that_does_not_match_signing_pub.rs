//! `keys rotate` on a data dir whose key file and `signing.pub` are not halves of one
//! key, with no handover in the stores' logs (so not the state an interrupted rotation
//! leaves, which running the command again finishes): one of the files was replaced
//! or mixed up. The command refuses, naming both files and what is wrong, and changes
//! nothing: no handover signed by a key the verifiers holding `signing.pub` do not
//! trust, no new key, and `signing.pub` (the evidence) left as it was.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::retention_support;
use crate::serve_support;
use crate::tamper_support;

use retention_support::{post_day, run, write_config};
use serve_support::start;

#[test]
fn a_key_file_that_does_not_match_signing_pub_is_not_rotated() {
    let dir = tempfile::tempdir().unwrap();
    write_config(dir.path(), "");
    let data = dir.path().join("data");
    let server = start(dir.path(), &["--config", "server.toml"]);
    post_day(&server, "2026-11-30", 5, 1);
    assert_eq!(tamper_support::stop(server), 0);

    // `signing.pub` now holds another key than the one `signing.key` holds (and the
    // stores' logs are signed with).
    std::fs::write(
        dir.path().join("other.key"),
        format!("ed25519-secret:{}\n", "07".repeat(32)),
    )
    .unwrap();
    let (code, other) = run(dir.path(), &["keys", "export", "--key", "other.key"]);
    assert_eq!(code, 0, "{other}");
    std::fs::write(data.join("signing.pub"), &other).unwrap();
    let secret = std::fs::read(data.join("signing.key")).unwrap();
    let log = std::fs::read(data.join("store/checkpoints.jsonl")).unwrap();

    let (code, out) = run(dir.path(), &["keys", "rotate", "--config", "server.toml"]);
    assert_ne!(code, 0, "rotated on top of a mismatched pair: {out}");
    assert!(
        out.contains("keys rotate refused, nothing changed")
            && out.contains("not as an interrupted rotation leaves them")
            && out.contains(&data.join("signing.key").display().to_string())
            && out.contains(&data.join("signing.pub").display().to_string())
            && out.contains(other.trim())
            && out.contains("are not halves of one key"),
        "{out}"
    );
    assert_eq!(std::fs::read(data.join("signing.key")).unwrap(), secret);
    assert_eq!(
        std::fs::read_to_string(data.join("signing.pub")).unwrap(),
        other,
        "signing.pub overwritten"
    );
    assert_eq!(
        std::fs::read(data.join("store/checkpoints.jsonl")).unwrap(),
        log,
        "a handover was written"
    );
    assert!(
        !data.join("signing.key.next").exists(),
        "a new key was made"
    );
}
