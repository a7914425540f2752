//! A `file://` archive that is the store's own folder (or inside it, or inside the
//! data dir) would take the store's files as already archived, or archive them into
//! the store, and then delete them: events lost while logged as archived. `auditrail
//! store prune --archive` refuses it before anything is archived or deleted, naming the
//! archive and the store (or the data dir), and so does the server's config check
//! (`auditrail serve` does not start).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::retention_support;
use crate::serve_support;
use crate::tamper_support;

use retention_support::{days, post_day, run, write_config};
use serve_support::start;

#[test]
fn an_archive_inside_the_store_or_the_data_dir_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let at = dir.path().canonicalize().unwrap();
    write_config(dir.path(), "");
    let store = at.join("data/store");
    let server = start(dir.path(), &["--config", "server.toml"]);
    for (i, day) in ["2025-01-01", "2025-01-02", "2025-01-03"]
        .iter()
        .enumerate()
    {
        post_day(&server, day, 10, i as u64 + 1);
    }
    assert_eq!(tamper_support::stop(server), 0);
    let before = days(&store);
    let log_before = std::fs::read_to_string(store.join("checkpoints.jsonl")).unwrap();

    // Messages name the folders as given (`--data-dir data`).
    let cases = [
        (store.clone(), "is the store folder data/store"),
        (
            store.join("archive"),
            "is inside the store folder data/store",
        ),
        (at.join("data/archive"), "is inside the data dir data"),
    ];
    for (folder, says) in &cases {
        let url = format!("file://{}", folder.display());
        let (code, out) = run(
            dir.path(),
            &[
                "store",
                "prune",
                "--data-dir",
                "data",
                "--before",
                "2025-01-03",
                "--archive",
                &url,
            ],
        );
        assert_ne!(code, 0, "{out}");
        assert!(
            out.contains(&format!("store data/store: `archive` = {url:?} {says}")),
            "{out}"
        );
        // Nothing archived, nothing deleted, nothing recorded.
        assert_eq!(days(&store), before, "{out}");
        assert_eq!(
            std::fs::read_to_string(store.join("checkpoints.jsonl")).unwrap(),
            log_before
        );
    }

    // The server's config check: the same archive in the store's config.
    write_config(
        dir.path(),
        &format!(
            "retention = \"30d\"\narchive = \"file://{}/archive\"\n",
            store.display()
        ),
    );
    let (code, err) = match tamper_support::try_start(dir.path()) {
        Ok(server) => {
            tamper_support::stop(server);
            panic!("the server started with an archive inside its store");
        }
        Err(refused) => refused,
    };
    assert_ne!(code, 0, "{err}");
    assert!(
        err.contains(&format!(
            "server.toml: destination \"store-0\": `archive` = \"file://{}/archive\" is inside the store folder data/store (its own folder)",
            store.display()
        )),
        "{err}"
    );
    assert_eq!(days(&store), before);
    assert_eq!(
        std::fs::read_to_string(store.join("checkpoints.jsonl")).unwrap(),
        log_before
    );
}
