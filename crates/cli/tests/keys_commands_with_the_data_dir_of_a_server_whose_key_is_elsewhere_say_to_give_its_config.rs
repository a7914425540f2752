//! A server whose config sets `signing_key` (a file outside its data dir) has run: its
//! data dir holds a store and marks, and no `signing.key`. The `keys` commands given
//! that data dir (`--data-dir`) say that it was used, that its server's key is then
//! kept elsewhere (`signing_key`), and to give `--config`; never that the server
//! creates the key on its first start (it refuses to start without it).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use auditrail_integrity::Signer;
use auditrail_testkit::server::ServerProcess;
use common::keys;

#[test]
fn each_keys_command_names_the_used_data_dir_and_points_to_the_config() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let key = dir.path().join("server.key");
    Signer::generate().unwrap().write_secret_file(&key).unwrap();
    let config = dir.path().join("server.toml");
    std::fs::write(
        &config,
        format!(
            "data_dir = {:?}\nsigning_key = {:?}\n[[destinations]]\ntype = \"store\"\npath = \"store\"\n",
            data.display().to_string(),
            key.display().to_string()
        ),
    )
    .unwrap();
    let mut server = ServerProcess::start(&data, Some(&config));
    assert_eq!(server.stop(), Some(0));
    assert!(!data.join("signing.key").exists());

    for args in [
        &["rotate", "--prepare"][..],
        &["export"],
        &["export", "--next"],
        &["rotate"],
    ] {
        let (code, out, err) = keys(&data, args);
        assert_ne!(code, 0, "{args:?}: {out}{err}");
        assert!(
            err.contains("but the data dir was used by a server")
                && err.contains("`signing_key`")
                && err.contains("`--config FILE`"),
            "{args:?}: {err}"
        );
        assert!(!err.contains("first start"), "{args:?}: {err}");
    }
}
