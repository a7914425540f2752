//! `archive = "file:///..."` (object_store's local file system backend): `auditrail
//! store prune` copies each partition it deletes and the checkpoint log to the
//! archive, the signed deletion line names every object with its SHA-256, the local
//! files go, `verify` of the store passes, `verify --archive` passes, and an archived
//! object edited afterwards makes `verify --archive` fail naming it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::retention_support;
use crate::serve_support;
use crate::tamper_support;

use std::path::Path;

use retention_support::{days, post_day, prune, run, write_config};
use serve_support::start;
use sha2::{Digest, Sha256};

fn sha256(path: &Path) -> String {
    hex::encode(Sha256::digest(std::fs::read(path).unwrap()))
}

#[test]
fn prune_archives_then_deletes_and_both_verify() {
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("archive");
    let url = format!("file://{}", archive.display());
    write_config(dir.path(), &format!("archive = \"{url}\"\n"));
    let store = dir.path().join("data/store");
    let server = start(dir.path(), &["--config", "server.toml"]);
    for (i, day) in ["2025-01-01", "2025-01-02", "2025-01-03", "2025-01-04"]
        .iter()
        .enumerate()
    {
        post_day(&server, day, 20, i as u64 + 1);
    }
    assert_eq!(tamper_support::stop(server), 0);
    let key = std::fs::read_to_string(dir.path().join("data/signing.pub")).unwrap();
    let key = key.trim();
    let doomed: Vec<(String, String)> = auditrail_store::StoreFiles::walk(&store)
        .unwrap()
        .segments()
        .filter(|f| f.rel.contains("/2025/01/01/") || f.rel.contains("/2025/01/02/"))
        .map(|f| (f.rel.clone(), sha256(&f.path)))
        .collect();
    assert_eq!(doomed.len(), 4, "{doomed:?}");

    let (code, out) = prune(dir.path(), "2025-01-03", &[]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("deleted 4 partitions (40 records"), "{out}");
    assert!(
        out.contains(&format!("archived first: 4 objects in {url}")),
        "{out}"
    );

    // The objects are in the archive at the store's relative paths, as they were.
    for (rel, sha) in &doomed {
        assert_eq!(&sha256(&archive.join(rel)), sha, "{rel}");
    }
    // The seals went with them: the archive's log is the store's, deletion line included.
    assert_eq!(
        std::fs::read_to_string(archive.join("checkpoints.jsonl")).unwrap(),
        std::fs::read_to_string(store.join("checkpoints.jsonl")).unwrap()
    );
    assert!(archive.join("store-id").is_file());
    // The signed deletion line names each object with its digest.
    let log = std::fs::read_to_string(store.join("checkpoints.jsonl")).unwrap();
    let line: serde_json::Value = serde_json::from_str(log.lines().last().unwrap()).unwrap();
    let archived = &line["deleted"]["archived"];
    assert_eq!(archived["url"], url.as_str(), "{line:#}");
    let objects = archived["objects"].as_array().unwrap();
    assert_eq!(objects.len(), 4, "{line:#}");
    for (rel, sha) in &doomed {
        assert!(
            objects
                .iter()
                .any(|o| o["path"] == rel.as_str() && o["sha256"] == sha.as_str()),
            "{rel} not in {line:#}"
        );
    }
    // Deleted locally.
    assert_eq!(days(&store), ["2025/01/03", "2025/01/04"]);

    let (code, report) = tamper_support::verify(dir.path(), key);
    assert_eq!(code, 0, "{report:#}");

    let verify_archive = || {
        let (code, out) = run(
            dir.path(),
            &["verify", "--archive", &url, "--public-key", key, "--json"],
        );
        let report: serde_json::Value =
            serde_json::from_str(&out).unwrap_or_else(|_| panic!("not JSON: {out}"));
        (code, report)
    };
    let (code, report) = verify_archive();
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["stores"][0]["records"], 40, "{report:#}");
    assert_eq!(report["stores"][0]["path"], url.as_str(), "{report:#}");

    // An archived object changed afterwards: named, with the line that records it.
    let (victim, _) = &doomed[1];
    let path = archive.join(victim);
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replacen("user", "usex", 1)).unwrap();
    let (code, report) = verify_archive();
    assert_eq!(code, 1, "{report:#}");
    let problems = report["stores"][0]["problems"].as_array().unwrap();
    assert!(
        problems.iter().any(|p| p["kind"] == "archived-object"
            && p["file"] == victim.as_str()
            && p["message"]
                .as_str()
                .unwrap()
                .contains("changed after it was archived")),
        "{report:#}"
    );
}
