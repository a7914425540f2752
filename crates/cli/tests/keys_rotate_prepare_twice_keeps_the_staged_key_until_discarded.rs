//! `auditrail keys rotate --prepare` run again while a key is staged says so and prints
//! that key, keeping its secret as it was: nodes may already list it, and a new key in
//! its place would stop them at the rotation. `--discard-staged` removes it, refused
//! while the server runs (it takes the data dir's lock: no rotation can be handing
//! stores over to the key meanwhile); `--prepare` then stages another key.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use auditrail_testkit::server::ServerProcess;
use common::{keys, staged_key};

#[test]
fn a_second_prepare_prints_the_staged_key_and_only_discard_replaces_it() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut server = ServerProcess::start(&data, None);
    let next = data.join("signing.key.next");

    let (code, out, err) = keys(&data, &["rotate", "--prepare"]);
    assert_eq!(code, 0, "{out}{err}");
    let first = staged_key(&out);
    let secret = std::fs::read(&next).unwrap();

    let (code, out, err) = keys(&data, &["rotate", "--prepare"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.starts_with(&format!("a next signing key is already staged: {first}\n")),
        "{out}"
    );
    assert!(
        out.contains("--discard-staged"),
        "says how to replace it: {out}"
    );
    assert_eq!(
        std::fs::read(&next).unwrap(),
        secret,
        "the staged secret was replaced"
    );

    let (code, out, err) = keys(&data, &["rotate", "--discard-staged"]);
    assert_ne!(code, 0, "discarded while the server runs: {out}");
    assert!(err.contains("in use by"), "{err}");
    assert_eq!(std::fs::read(&next).unwrap(), secret);

    assert_eq!(server.stop(), Some(0));
    let (code, out, err) = keys(&data, &["rotate", "--discard-staged"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains(&format!("discarded the staged key {first}")),
        "{out}"
    );
    assert!(!next.exists());

    let (code, out, err) = keys(&data, &["rotate", "--prepare"]);
    assert_eq!(code, 0, "{out}{err}");
    let second = staged_key(&out);
    assert!(out.starts_with("next signing key staged: "), "{out}");
    assert_ne!(second, first);
}
