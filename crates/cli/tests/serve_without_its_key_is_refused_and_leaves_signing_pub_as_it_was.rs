//! docs/operations.md keeps `signing.key`'s backup apart. An operator restores a data
//! dir and starts the server before putting the key back: the start is refused, naming
//! the missing key, and changes nothing: no key is generated and `signing.pub` keeps
//! the real public key. With the key back the server runs, and `auditrail verify DATA`
//! (which trusts `signing.pub` when no `--public-key` is given) passes the honest
//! store. The refused start generated a key and replaced `signing.pub` with its public
//! half, so verify then reported every checkpoint `wrong-key`: a false alarm.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::retention_support;
use crate::serve_support;
use crate::tamper_support;

use retention_support::run;
use serve_support::{event_line, new_id, post_events};
use tamper_support::{fifty_records, stop, try_start};

#[test]
fn a_start_without_the_key_is_refused_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let (genuine, store) = fifty_records(dir.path());
    let data = dir.path().join("data");
    let public_before = std::fs::read(data.join("signing.pub")).unwrap();
    let marks_before = std::fs::read(data.join("high-water.jsonl")).unwrap();
    let log_before = std::fs::read(store.join("checkpoints.jsonl")).unwrap();
    std::fs::rename(data.join("signing.key"), dir.path().join("key-backup")).unwrap();

    let (code, err) = match try_start(dir.path()) {
        Ok(server) => {
            server.terminate();
            panic!("the server started without its key");
        }
        Err(e) => e,
    };
    assert_ne!(code, 0);
    assert_eq!(
        String::from_utf8_lossy(&std::fs::read(data.join("signing.pub")).unwrap()),
        String::from_utf8_lossy(&public_before),
        "signing.pub was replaced by the refused start"
    );
    assert!(!data.join("signing.key").exists(), "no key was generated");
    assert_eq!(
        std::fs::read(data.join("high-water.jsonl")).unwrap(),
        marks_before
    );
    assert_eq!(
        std::fs::read(store.join("checkpoints.jsonl")).unwrap(),
        log_before
    );
    assert!(
        err.contains("signing.key is missing") && err.contains(&genuine),
        "names the missing key and the key the data dir had: {err}"
    );

    // The key back (without overwriting anything: nothing is in its place).
    std::fs::rename(dir.path().join("key-backup"), data.join("signing.key")).unwrap();
    let server = try_start(dir.path()).unwrap_or_else(|(_, e)| panic!("{e}"));
    let body = event_line(&new_id(51, 77), "n1", 51) + "\n";
    let (status, answer) = post_events(&server.addr, &body, None).unwrap();
    assert_eq!(status, 200, "{answer}");
    assert_eq!(stop(server), 0);

    let (code, out) = run(dir.path(), &["verify", "data"]);
    assert_eq!(code, 0, "verify with the data dir's signing.pub: {out}");
    assert!(
        out.contains("signing.pub"),
        "says where the key came from: {out}"
    );
}
