//! `store prune --archive s3://audit/eu-1//store/` (a doubled and a trailing slash)
//! archives under the prefix `eu-1/store`, as the object store reads keys, but the
//! deletion line recorded the URL as typed; `verify DATA --archive
//! s3://audit/eu-1/store` then found no line naming that archive, checked nothing and
//! passed, even with an archived object deleted from the bucket. An archive URL is
//! taken in one spelling (no empty segments, no trailing `/`): the line records
//! `s3://audit/eu-1/store`, and verify finds the archive whichever way it is spelled.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::retention_support;
use crate::s3_support;

#[test]
fn an_archive_url_spelled_with_empty_segments_is_one_archive() {
    let dir = tempfile::tempdir().unwrap();
    let s3 = s3_support::start(dir.path());
    let store = retention_support::store_of_two_days(dir.path(), "");
    let key = std::fs::read_to_string(dir.path().join("data/signing.pub")).unwrap();
    let key = key.trim();
    let endpoint = s3.endpoint.clone();
    let s3_flags = ["--archive-endpoint", &endpoint, "--archive-allow-http"];

    let prune: Vec<&str> = [
        "store",
        "prune",
        "--data-dir",
        "data",
        "--before",
        "2025-01-02",
        "--archive",
        "s3://audit/eu-1//store/",
    ]
    .into_iter()
    .chain(s3_flags)
    .collect();
    let (code, out) = s3_support::run(dir.path(), &prune);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("objects in s3://audit/eu-1/store (each"),
        "{out}"
    );
    let log = std::fs::read_to_string(store.join("checkpoints.jsonl")).unwrap();
    let line: serde_json::Value = log
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|l| l.get("deleted").is_some())
        .unwrap();
    let archived = &line["deleted"]["archived"];
    assert_eq!(archived["url"], "s3://audit/eu-1/store", "{line:#}");

    // An archived object goes: verify finds it missing, however the URL is spelled.
    let object = archived["objects"][0]["path"].as_str().unwrap();
    std::fs::remove_file(s3.object_file(&format!("eu-1/store/{object}"))).unwrap();
    for url in [
        "s3://audit/eu-1/store",
        "s3://audit/eu-1//store/",
        "s3://audit//eu-1/store",
    ] {
        let verify: Vec<&str> = ["verify", "data", "--public-key", key, "--archive", url]
            .into_iter()
            .chain(s3_flags)
            .collect();
        let (code, out) = s3_support::run(dir.path(), &verify);
        assert_eq!(code, 1, "{url}: {out}");
        assert!(
            out.lines().any(|l| l.contains("[archived-object]")
                && l.contains(&format!(
                    "object eu-1/store/{object}: missing from the archive"
                ))),
            "{url}: {out}"
        );
    }
}
