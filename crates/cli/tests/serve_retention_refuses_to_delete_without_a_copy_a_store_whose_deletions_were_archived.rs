//! A store whose deletions were archived (its signed checkpoint log names the archive)
//! and whose config then lost its `archive` (a template without it, a line removed),
//! with `retention` set: the server's retention deleted the next partitions with no
//! copy, for good, without a word (tryout archtry: `store prune` by hand was fixed to
//! refuse that; the server followed its config). Now its retention deletes nothing and
//! says why at ERROR, naming the archive and both ways on: give the store its archive
//! again, or record a deletion without a copy on purpose with `store prune
//! --no-archive`, after which retention deletes as configured.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::retention_support;
use crate::serve_support;
use crate::tamper_support;

use retention_support::{days, post_day, prune, write_config};
use serve_support::{start, wait_for_log};

#[test]
fn retention_without_the_archive_deletes_nothing_and_names_it() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("file://{}", dir.path().join("archive").display());
    write_config(dir.path(), &format!("archive = \"{url}\"\n"));
    let store = dir.path().join("data/store");
    let today = auditrail::Timestamp::now().to_string()[..10].to_string();
    let server = start(dir.path(), &["--config", "server.toml"]);
    post_day(&server, "2025-01-01", 5, 1);
    post_day(&server, "2025-01-02", 5, 2);
    post_day(&server, "2025-01-03", 5, 3);
    post_day(&server, &today, 5, 4);
    assert_eq!(tamper_support::stop(server), 0);
    // So far every deletion was archived.
    let (code, out) = prune(dir.path(), "2025-01-02", &[]);
    assert_eq!(code, 0, "{out}");
    let today_folder = today.replace('-', "/");
    assert_eq!(days(&store), ["2025/01/02", "2025/01/03", &today_folder]);

    // The config loses its archive; retention would delete the 2025 days.
    write_config(dir.path(), "retention = \"30d\"\n");
    let server = start(dir.path(), &["--config", "server.toml"]);
    wait_for_log(&server, "retention deletes nothing");
    let log = server.stderr();
    assert!(
        log.contains(&format!("was archived to {url}"))
            && log.contains("--no-archive")
            && log.contains("ERROR"),
        "{log}"
    );
    assert_eq!(tamper_support::stop(server), 0);
    assert_eq!(days(&store), ["2025/01/02", "2025/01/03", &today_folder]);

    // A deletion without a copy recorded on purpose: retention goes on as configured.
    let (code, out) = prune(dir.path(), "2025-01-03", &["--no-archive"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(days(&store), ["2025/01/03", &today_folder]);
    let server = start(dir.path(), &["--config", "server.toml"]);
    wait_for_log(&server, "retention deleted time partitions");
    assert_eq!(tamper_support::stop(server), 0);
    assert_eq!(days(&store), [today_folder.as_str()]);
}
