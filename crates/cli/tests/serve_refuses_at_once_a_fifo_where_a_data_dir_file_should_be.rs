//! A FIFO (named pipe) where the server expects a file of its data dir: the store's
//! checkpoint log or id, the signing key or its public half, the high-water marks.
//! `auditrail serve` blocked for ever in `open(2)` (waiting for a writer), printed
//! nothing, never listened and did not end on SIGTERM. Now the start is refused at
//! once, naming the path and what it is; with the file back, the server starts.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::tamper_support;

use tamper_support::{fifty_records, put_back, replace_with_fifo, try_start};

#[cfg(unix)]
#[test]
fn each_data_dir_file_replaced_by_a_fifo_is_named_and_the_start_refused() {
    let dir = tempfile::tempdir().unwrap();
    fifty_records(dir.path());
    let data = dir.path().join("data");
    for rel in [
        "store/checkpoints.jsonl",
        "store/store-id",
        "signing.key",
        "signing.pub",
        "high-water.jsonl",
    ] {
        let path = data.join(rel);
        let aside = dir.path().join("aside");
        replace_with_fifo(&path, &aside);
        // Without the fix this panics: "the server neither listened nor exited".
        let (code, err) = match try_start(dir.path()) {
            Ok(server) => panic!("started with a FIFO at {rel}: {}", server.stderr()),
            Err(refused) => refused,
        };
        assert_ne!(code, 0, "{rel}: {err}");
        assert!(
            err.contains(&format!(
                "{rel}: is a FIFO (named pipe), not a regular file"
            )),
            "{rel}: {err}"
        );
        put_back(&path, &aside);
    }
    let server = try_start(dir.path()).expect("starts with the files back");
    assert_eq!(tamper_support::stop(server), 0);
}
