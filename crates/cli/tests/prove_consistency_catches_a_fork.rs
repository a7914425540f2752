//! `auditrail prove --consistency --from N --to M` on a real server's store, checked by
//! `auditrail verify --proof` with the public key alone: a later checkpoint's tree
//! extends an earlier one's. Against a forked history (an older copy of the data dir
//! started again and fed other events, signed by the same key), the tree head an
//! auditor held from the genuine history fails, named; so do a rolled-back order
//! (the later tree presented as the earlier).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::proof_support;
use crate::retention_support;
use crate::serve_support;
use crate::tamper_support;

use proof_support::{check, copy_dir, key, line_of_size, prove, tree_lines};
use retention_support::{post_day, write_config};
use serve_support::start;

#[test]
fn consistency_holds_along_one_history_and_fails_across_a_fork() {
    let dir = tempfile::tempdir().unwrap();
    write_config(dir.path(), "");
    let store = dir.path().join("data/store");
    let server = start(dir.path(), &["--config", "server.toml"]);
    post_day(&server, "2025-01-01", 13, 1);
    assert_eq!(tamper_support::stop(server), 0);
    copy_dir(&dir.path().join("data"), &dir.path().join("copy"));
    let server = start(dir.path(), &["--config", "server.toml"]);
    post_day(&server, "2025-01-02", 8, 2);
    post_day(&server, "2025-01-03", 5, 3);
    assert_eq!(tamper_support::stop(server), 0);
    let key = key(dir.path());

    let lines = tree_lines(&store);
    let (from, _) = *lines.iter().find(|(_, size)| *size == 13).unwrap();
    let (to, to_size) = *lines.last().unwrap();
    assert_eq!(to_size, 26);
    let from_s = from.to_string();
    let to_s = to.to_string();
    let bundle = prove(
        dir.path(),
        &["--consistency", "--from", &from_s, "--to", &to_s],
        "consistency.json",
    );
    let (code, out) = check(dir.path(), &bundle, "ok.json", &key);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("extends the tree of 13 records"), "{out}");
    // What an auditor held from the genuine history: the tree of 21 records.
    let genuine_21 = line_of_size(&store, 21);

    // The fork: the copy taken at 13 records, started again, fed other events.
    std::fs::rename(dir.path().join("data"), dir.path().join("genuine")).unwrap();
    std::fs::rename(dir.path().join("copy"), dir.path().join("data")).unwrap();
    let server = start(dir.path(), &["--config", "server.toml"]);
    post_day(&server, "2025-01-02", 8, 7);
    post_day(&server, "2025-01-03", 5, 8);
    assert_eq!(tamper_support::stop(server), 0);
    let fork_lines = tree_lines(&store);
    let (fork_21, _) = *fork_lines.iter().find(|(_, size)| *size == 21).unwrap();
    let (fork_last, _) = *fork_lines.last().unwrap();
    let fork_bundle = prove(
        dir.path(),
        &[
            "--consistency",
            "--from",
            &fork_21.to_string(),
            "--to",
            &fork_last.to_string(),
        ],
        "fork.json",
    );
    // The fork is consistent with itself...
    let (code, out) = check(dir.path(), &fork_bundle, "fork-self.json", &key);
    assert_eq!(code, 0, "{out}");
    // ...but not with the tree head the auditor holds from the genuine history.
    let mut against_genuine = fork_bundle.clone();
    against_genuine["from"] = genuine_21.into();
    let (code, out) = check(dir.path(), &against_genuine, "forked.json", &key);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("not consistent"), "{out}");

    // A rolled-back order: the later tree given as the earlier one.
    let mut swapped = bundle.clone();
    swapped["from"] = bundle["to"].clone();
    swapped["to"] = bundle["from"].clone();
    let (code, out) = check(dir.path(), &swapped, "swapped.json", &key);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("not consistent"), "{out}");
}
