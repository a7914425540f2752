//! `server_keys` is a list so that the server's key can be rotated (`auditrail keys
//! rotate`) without stopping delivery: with the old key and the new one listed, the
//! receipts of a real `auditrail serve` are accepted before the rotation (signed by the
//! old key) and after it (signed by the new one, the second entry), and the events are
//! delivered and forgotten from the spool.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use auditrail_core::Target;
use auditrail_target_eventserver::EventServerTarget;
use common::server::{auditrail_bin, ServerProcess};
use common::{ctx, events, exported_key, pending, quick_spool_config, sorted_ids};

/// The key named by the last receipt the target kept.
fn last_kept_receipt_key(run: &std::path::Path) -> String {
    let folder = run.join("receipts/es");
    let mut files: Vec<_> = std::fs::read_dir(&folder)
        .unwrap()
        .map(|f| f.unwrap().path())
        .collect();
    files.sort();
    let text = std::fs::read_to_string(files.last().unwrap()).unwrap();
    let line: serde_json::Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    line["receipt"]["key"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn receipts_of_either_listed_key_deliver() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = ServerProcess::start(&dir.path().join("server"), None);
    let old = exported_key(&server.data_dir);
    let before = events(4, false);
    {
        let mut c = quick_spool_config(server.url.clone());
        c.server_keys = vec![old];
        let mut t = EventServerTarget::new(c, &ctx(dir.path(), "es")).unwrap();
        t.send(&before).await.unwrap();
        t.flush().await.unwrap();
        assert_eq!(pending(&t), 0);
        t.shutdown().await.unwrap();
    }

    assert_eq!(server.stop(), Some(0));
    let out = std::process::Command::new(auditrail_bin())
        .args(["keys", "rotate", "--data-dir"])
        .arg(&server.data_dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "keys rotate: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let new = exported_key(&server.data_dir);
    assert_ne!(new, old);
    server.restart();

    // The node lists both while its operator changes over: the server signs with the
    // new key, the second entry.
    let after: Vec<_> = events(10, false).split_off(4);
    let mut c = quick_spool_config(server.url.clone());
    c.server_keys = vec![old, new];
    let mut t = EventServerTarget::new(c, &ctx(dir.path(), "es")).unwrap();
    t.send(&after).await.unwrap();
    t.flush().await.unwrap();
    assert_eq!(pending(&t), 0, "{:?}", t.metrics());
    t.shutdown().await.unwrap();
    assert_eq!(
        last_kept_receipt_key(&dir.path().join("run")),
        new.to_string(),
        "the server signs with its new key"
    );
    assert_eq!(
        sorted_ids(server.stored().iter().map(|(_, e)| e)),
        sorted_ids(before.iter().chain(&after).map(|e| &**e)),
        "every event stored, once"
    );
}
