//! Without `--public-key`, `auditrail verify DATA` trusts the data dir's `signing.pub`.
//! A `signing.pub` that is there but holds no key (empty, garbage) is an error naming
//! the file: it was taken as missing, and verify fell back to consistency only and
//! passed without a word about the file.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::retention_support;
use crate::tamper_support;

use retention_support::run;
use tamper_support::fifty_records;

#[test]
fn an_empty_or_garbage_signing_pub_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let (genuine, _store) = fifty_records(dir.path());
    let public = dir.path().join("data/signing.pub");
    for content in ["", "not a key\n", "ed25519:00\n"] {
        std::fs::write(&public, content).unwrap();
        let (code, out) = run(dir.path(), &["verify", "data"]);
        assert_ne!(code, 0, "{content:?}: {out}");
        assert!(
            out.contains(&public.display().to_string()) || out.contains("data/signing.pub"),
            "{content:?}: names the file: {out}"
        );
        assert!(!out.contains("verdict: OK"), "{content:?}: {out}");
    }
    // With a trusted key given, the data dir's file is not read.
    let (code, out) = run(dir.path(), &["verify", "data", "--public-key", &genuine]);
    assert_eq!(code, 0, "{out}");
}
