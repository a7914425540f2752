//! An operator moves a day folder of a stopped store to another disk and leaves a
//! symbolic link in its place. The store's walker skipped the link without a word:
//! recovery found acknowledged records missing and the start was refused as "the
//! store was rolled back or cut", nothing naming the link. Links inside a store are not
//! followed (a prune would have to delete outside the store's folders): every command
//! that reads the store (serve, verify, query, sql, store prune) refuses it naming the
//! link, and a link whose folder is gone is named as dangling. Nothing is deleted.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::retention_support;
use crate::serve_support;
use crate::tamper_support;

use retention_support::{post_day, prune, run, write_config};
use serve_support::start;
use tamper_support::try_start;

#[cfg(unix)]
#[test]
fn serve_verify_query_sql_and_prune_name_the_link_and_delete_nothing() {
    let dir = tempfile::tempdir().unwrap();
    write_config(dir.path(), "");
    let server = start(dir.path(), &["--config", "server.toml"]);
    post_day(&server, "2026-11-25", 6, 1);
    assert_eq!(tamper_support::stop(server), 0);

    let store = dir.path().join("data/store");
    let walked = auditrail_store::StoreFiles::walk(&store).unwrap();
    let rel = walked.segments().next().unwrap().dir.clone();
    let day = store.join(&rel);
    let moved = dir.path().join("otherdisk/25");
    std::fs::create_dir_all(moved.parent().unwrap()).unwrap();
    std::fs::rename(&day, &moved).unwrap();
    std::os::unix::fs::symlink(&moved, &day).unwrap();
    let files_behind_the_link = std::fs::read_dir(&moved).unwrap().count();
    // Commands given the store by a relative path name the link by one.
    let link = format!("store/{}", rel.display());

    let refused = |what: &str, code: i32, out: &str| {
        assert_ne!(code, 0, "{what}: {out}");
        assert!(
            out.contains(&format!(
                "{link}: is a symbolic link (to {}",
                moved.display()
            )),
            "{what} names the link: {out}"
        );
    };
    let (code, err) = match try_start(dir.path()) {
        Ok(server) => panic!("started: {}", server.stderr()),
        Err(refused) => refused,
    };
    refused("serve", code, &err);
    let (code, out) = run(dir.path(), &["verify", "--config", "server.toml"]);
    refused("verify", code, &out);
    let (code, out) = run(
        dir.path(),
        &[
            "query",
            "--store",
            "data/store",
            "events",
            "--format",
            "json",
        ],
    );
    refused("query", code, &out);
    let (code, out) = run(
        dir.path(),
        &[
            "sql",
            "--store",
            "data/store",
            "SELECT count(*) FROM events",
        ],
    );
    refused("sql", code, &out);
    let (code, out) = prune(dir.path(), "2026-12-01", &["--reason", "space"]);
    refused("store prune", code, &out);
    assert_eq!(
        std::fs::read_dir(&moved).unwrap().count(),
        files_behind_the_link,
        "nothing behind the link was deleted"
    );

    std::fs::rename(&moved, dir.path().join("otherdisk/gone")).unwrap();
    let (code, err) = match try_start(dir.path()) {
        Ok(server) => panic!("started: {}", server.stderr()),
        Err(refused) => refused,
    };
    assert_ne!(code, 0, "{err}");
    assert!(
        err.contains(&format!(
            "{link}: is a dangling symbolic link (to {}, which does not exist)",
            moved.display()
        )),
        "{err}"
    );
}
