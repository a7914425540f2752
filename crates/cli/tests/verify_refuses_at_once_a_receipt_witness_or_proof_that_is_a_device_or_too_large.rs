//! The files an operator gives `verify` (`--receipt`, `--witness`, `--proof`) were read
//! whole, as whatever they were: one linked by mistake to `/dev/zero` took about 1 GB
//! of memory a second until the OOM killer ended the command, a huge file (a log, a
//! disk image) was taken into memory whole. Now each is read as a regular file or a
//! pipe of at most its format's bound (1 GiB for receipts and witness lines, 128 MiB
//! for a proof bundle): anything else is refused at once, naming the file and the
//! bound.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::time::Duration;

use crate::common;

/// RFC 8032's first test key: any valid key serves, no bundle is checked.
const KEY: &str = "ed25519:d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";

/// `auditrail ARGS` in `cwd`, refused: its standard error. Without the fix the read of
/// `/dev/zero` never ends (the memory runs out first): killed after 20 s and reported.
fn refused(cwd: &Path, args: &[&str]) -> String {
    let out = common::run_within(cwd, args, &[], Duration::from_secs(20)).unwrap_or_else(|out| {
        panic!(
            "`auditrail {args:?}` still ran after 20 s: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
    stderr
}

fn commands<'a>(dir: &'a str, file: &'a str) -> [Vec<&'a str>; 3] {
    [
        vec!["verify", dir, "--receipt", file],
        vec!["verify", dir, "--witness", file],
        vec!["verify", "--proof", file, "--public-key", KEY],
    ]
}

#[cfg(unix)]
#[test]
fn verify_refuses_a_receipt_witness_or_proof_file_linked_to_a_device_or_too_large() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    std::fs::create_dir(&dir).unwrap();
    let dir = dir.to_str().unwrap();
    let file = tmp.path().join("given.jsonl");
    std::os::unix::fs::symlink("/dev/zero", &file).unwrap();
    let path = file.to_str().unwrap();
    for args in commands(dir, path) {
        let err = refused(tmp.path(), &args);
        assert!(
            err.contains(&format!(
                "{path}: is a character device, not a regular file: refused"
            )),
            "{args:?}: {err}"
        );
    }
    // One byte past each bound (a sparse file: no disk is used).
    std::fs::remove_file(&file).unwrap();
    let [receipt, witness, proof] = commands(dir, path);
    for (args, limit) in [
        (receipt, 1u64 << 30),
        (witness, 1 << 30),
        (proof, 128 << 20),
    ] {
        std::fs::File::create(&file)
            .unwrap()
            .set_len(limit + 1)
            .unwrap();
        let err = refused(tmp.path(), &args);
        assert!(
            err.contains(&format!(
                "{path}: holds {} bytes or more, more than the {limit} bytes such a file may hold",
                limit + 1
            )),
            "{args:?}: {err}"
        );
    }
}
