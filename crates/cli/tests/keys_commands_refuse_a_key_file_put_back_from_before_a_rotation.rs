//! After a finished rotation K0 -> K1, `signing.key` and `signing.pub` are put back
//! from a backup made before it (K0, the key the store's log retired). `keys export`,
//! `keys rotate --prepare` and `keys rotate` each refuse, changing nothing, and name
//! the retired key, the store whose log handed over from it, and the key to put back
//! (K1); `--prepare` stages nothing, and `keys rotate` does not send the operator
//! round a loop of "run `keys rotate` again".

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use auditrail_testkit::server::ServerProcess;
use common::keys;

#[test]
fn a_retired_key_file_is_named_and_the_current_key_is_asked_for() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut server = ServerProcess::start(&data, None);
    assert_eq!(server.stop(), Some(0));
    let backup_key = std::fs::read(data.join("signing.key")).unwrap();
    let backup_pub = std::fs::read(data.join("signing.pub")).unwrap();
    let k0 = String::from_utf8(backup_pub.clone())
        .unwrap()
        .trim()
        .to_owned();
    let (code, out, err) = keys(&data, &["rotate"]);
    assert_eq!(code, 0, "{out}{err}");
    let (_, k1, _) = keys(&data, &["export"]);
    let k1 = k1.trim().to_owned();
    std::fs::write(data.join("signing.key"), &backup_key).unwrap();
    std::fs::write(data.join("signing.pub"), &backup_pub).unwrap();
    let store = data.join("store");

    for args in [&["export"][..], &["rotate", "--prepare"], &["rotate"]] {
        let (code, out, err) = keys(&data, args);
        assert_ne!(code, 0, "{args:?}: {out}{err}");
        assert!(
            err.contains(&format!(
                "holds {k0}, a key the checkpoint log of store {} already retired: it hands \
                 signing over from {k0} to {k1}",
                store.display()
            )) && err.contains(&format!("Put back the key file holding {k1}")),
            "{args:?}: {err}"
        );
        assert!(!err.contains("again to finish it"), "{args:?}: {err}");
        assert!(
            !data.join("signing.key.next").exists(),
            "{args:?} staged a key"
        );
        assert_eq!(std::fs::read(data.join("signing.key")).unwrap(), backup_key);
    }
}
