//! `keys rotate` run again after a rotation that finished (an operator who cannot tell
//! whether it did: output lost, a retried task), with no key staged and nothing signed
//! since (the server not started), is refused and changes nothing: the staged key the
//! nodes were given stays the server's key. The refusal says the last rotation
//! finished, to which key, and how to rotate again on purpose (`--prepare`, or
//! `--again`). `--again` rotates; so does a plain `keys rotate` once the server has
//! signed with the key (a start and stop since).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use auditrail_testkit::server::ServerProcess;
use common::keys;

#[test]
fn a_rerun_of_a_finished_rotation_rotates_nothing_until_asked_to() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut server = ServerProcess::start(&data, None);
    assert_eq!(server.stop(), Some(0));
    let (_, k0, _) = keys(&data, &["export"]);
    let k0 = k0.trim().to_owned();
    let (code, out, err) = keys(&data, &["rotate", "--prepare"]);
    assert_eq!(code, 0, "{out}{err}");
    let k1 = common::staged_key(&out);
    let (code, out, err) = keys(&data, &["rotate"]);
    assert_eq!(code, 0, "{out}{err}");

    let (code, out, err) = keys(&data, &["rotate"]);
    assert_ne!(code, 0, "a second rotation: {out}{err}");
    for said in [
        format!(
            "keys rotate refused, nothing changed: the last rotation finished, from {k0} to {k1}"
        ),
        format!("store {} among them", data.join("store").display()),
        "nothing was signed since".to_owned(),
        "auditrail keys rotate --prepare --data-dir".to_owned(),
        "auditrail keys rotate --again --data-dir".to_owned(),
    ] {
        assert!(err.contains(&said), "{said:?} not in: {err}");
    }
    let (_, now, _) = keys(&data, &["export"]);
    assert_eq!(now.trim(), k1, "the refused run changed the key");
    assert!(!data.join("signing.key.next").exists());

    // Asked for explicitly, it rotates.
    let (code, out, err) = keys(&data, &["rotate", "--again"]);
    assert_eq!(code, 0, "{out}{err}");
    let (_, k2, _) = keys(&data, &["export"]);
    let k2 = k2.trim().to_owned();
    assert_ne!(k2, k1);

    // Once the server has signed with the key, a plain `keys rotate` is an ordinary one.
    let mut server = ServerProcess::start(&data, None);
    assert_eq!(server.stop(), Some(0));
    let (code, out, err) = keys(&data, &["rotate"]);
    assert_eq!(code, 0, "{out}{err}");
    let (_, k3, _) = keys(&data, &["export"]);
    assert_ne!(k3.trim(), k2);
}
