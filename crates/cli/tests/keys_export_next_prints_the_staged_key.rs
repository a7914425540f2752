//! `auditrail keys export --next` prints the key staged by `keys rotate --prepare`
//! (alone on its line, as `keys export` prints the current one), so the operator can
//! fetch it again for the nodes' `server_keys`; without a staged key it fails saying
//! how to stage one. `keys export` alone still prints the current key.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use auditrail_testkit::server::ServerProcess;
use common::{keys, staged_key};

#[test]
fn export_next_prints_what_prepare_staged() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let _server = ServerProcess::start(&data, None);
    let (code, current, err) = keys(&data, &["export"]);
    assert_eq!(code, 0, "{err}");

    let (code, out, err) = keys(&data, &["export", "--next"]);
    assert_ne!(code, 0, "{out}");
    assert!(
        err.contains("no next key is staged") && err.contains("keys rotate --prepare"),
        "{err}"
    );

    let (code, out, err) = keys(&data, &["rotate", "--prepare"]);
    assert_eq!(code, 0, "{out}{err}");
    let staged = staged_key(&out);

    let (code, out, err) = keys(&data, &["export", "--next"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, format!("{staged}\n"));
    let (code, out, err) = keys(&data, &["export"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, current, "the current key is still the one exported");
}
