//! `auditrail keys rotate --data-dir` finds the stores under the data dir; a server
//! whose config puts a store elsewhere (an absolute `path`) has that store named in
//! its high-water marks. The rotation is refused, naming that store and `--config`,
//! before anything is written: rotating without it would delete the only key that
//! can sign that store's next checkpoint. With `--config` it rotates every store.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::retention_support;
use crate::serve_support;
use crate::tamper_support;

use retention_support::{post_day, run};
use serve_support::start;

#[test]
fn a_store_outside_the_data_dir_makes_data_dir_mode_refuse() {
    let dir = tempfile::tempdir().unwrap();
    let elsewhere = dir.path().join("elsewhere/store-b");
    std::fs::write(
        dir.path().join("server.toml"),
        format!(
            "data_dir = \"data\"\n\
             [[destinations]]\ntype = \"store\"\npath = \"store\"\ntopics = [\"generic\"]\n\
             [[destinations]]\ntype = \"store\"\nname = \"b\"\npath = \"{}\"\ntopics = [\"authfail\"]\n",
            elsewhere.display()
        ),
    )
    .unwrap();
    let data = dir.path().join("data");
    let server = start(dir.path(), &["--config", "server.toml"]);
    post_day(&server, "2026-11-30", 6, 1);
    assert_eq!(tamper_support::stop(server), 0);
    assert!(elsewhere.join("checkpoints.jsonl").is_file());
    let secret = std::fs::read(data.join("signing.key")).unwrap();

    let (code, out) = run(dir.path(), &["keys", "rotate", "--data-dir", "data"]);
    assert_ne!(code, 0, "{out}");
    assert!(
        out.contains(&elsewhere.display().to_string()) && out.contains("--config"),
        "{out}"
    );
    assert_eq!(std::fs::read(data.join("signing.key")).unwrap(), secret);
    assert!(!data.join("signing.key.next").exists(), "{out}");
    for log in [
        data.join("store/checkpoints.jsonl"),
        elsewhere.join("checkpoints.jsonl"),
    ] {
        let text = std::fs::read_to_string(&log).unwrap();
        assert!(!text.contains("nextKey"), "{}: {text}", log.display());
    }

    let (code, out) = run(dir.path(), &["keys", "rotate", "--config", "server.toml"]);
    assert_eq!(code, 0, "{out}");
    for log in [
        data.join("store/checkpoints.jsonl"),
        elsewhere.join("checkpoints.jsonl"),
    ] {
        let text = std::fs::read_to_string(&log).unwrap();
        assert!(text.contains("nextKey"), "{}: {text}", log.display());
    }
}
