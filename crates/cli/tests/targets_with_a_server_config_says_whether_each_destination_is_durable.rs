//! `auditrail targets --config` read node configs only, and the server's own stores
//! (opened by the server, handed to its dispatcher built) had no durability anyone
//! could list. `auditrail targets --server-config server.toml` lists the server's
//! destinations, `<name>\t<type>\tdurable` or `...\tnot durable: <why>`, from the same
//! answer the running server gives (a store's flush policy named with its values).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use std::process::Command;

fn list(config: &str) -> Vec<Vec<String>> {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("server.toml");
    std::fs::write(&file, format!("data_dir = \"data\"\n{config}")).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_auditrail"))
        .args(["targets", "--server-config"])
        .arg(&file)
        .output()
        .unwrap();
    let (stdout, stderr) = common::text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    stdout
        .lines()
        .map(|l| l.split('\t').map(str::to_owned).collect())
        .collect()
}

#[test]
fn each_destination_is_listed_with_its_durability() {
    let lines = list(
        "[[destinations]]\ntype = \"store\"\nname = \"synced\"\npath = \"synced\"\n\n\
         [[destinations]]\ntype = \"store\"\nname = \"lazy\"\npath = \"lazy\"\n\
         flush = { every_bytes = 65536, every_seconds = 2 }\n\n\
         [[destinations]]\ntype = \"file\"\nname = \"copy\"\ndir = \"copy\"\nfsync = false\n",
    );
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert_eq!(lines[0], ["synced", "store", "durable"], "{lines:?}");
    assert_eq!(lines[1][..2], ["lazy", "store"], "{lines:?}");
    assert!(
        lines[1][2].starts_with("not durable: ")
            && lines[1][2].contains("every_bytes = 65536, every_seconds = 2"),
        "{lines:?}"
    );
    assert_eq!(lines[2][..2], ["copy", "file"], "{lines:?}");
    assert!(
        lines[2][2].starts_with("not durable: ") && lines[2][2].contains("fsync = false"),
        "{lines:?}"
    );
}
