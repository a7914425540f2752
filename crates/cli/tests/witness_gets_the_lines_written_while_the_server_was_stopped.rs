//! Checkpoint lines appended while the server was stopped (`auditrail store prune`
//! writes a `deleted` line, `auditrail store accept` an `accepted` line, `auditrail
//! keys rotate` a `nextKey` line) reach the `[[witnesses]]` when the server starts
//! again: a real second event server as the witness holds the exact lines afterwards, `verify --witness` confirms them, and
//! against an older copy of the store (a replay from before the prune and the
//! rotation) names a rollback, never a wrong key, although the lines the new key
//! signed after the rotation are not in that copy's log.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::retention_support;
use crate::serve_support;
use crate::tamper_support;

use std::path::Path;

use retention_support::{post_day, run};
use serve_support::start;
use tamper_support::stop;

/// The checkpoint lines a witness server's store holds (`clientEvent.message.line`).
fn witnessed_lines(store: &Path) -> Vec<String> {
    let files = auditrail_store::StoreFiles::walk(store).unwrap();
    let mut out = Vec::new();
    for segment in files.segments() {
        auditrail_store::SegmentReader::open(&segment.path)
            .unwrap()
            .for_each_line(|l| {
                let v: serde_json::Value = serde_json::from_slice(l.bytes).unwrap();
                if let Some(line) = v["clientEvent"]["message"]["line"].as_str() {
                    out.push(line.to_string());
                }
            })
            .unwrap();
    }
    out
}

fn verify(dir: &Path, key: &str) -> (i32, serde_json::Value) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_auditrail"))
        .args([
            "verify",
            "a-data",
            "--public-key",
            key,
            "--witness",
            "witness-data/store",
            "--json",
        ])
        .current_dir(dir)
        .output()
        .unwrap();
    let report = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code().unwrap_or(-1), report)
}

fn kinds(report: &serde_json::Value) -> Vec<String> {
    report["stores"][0]["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["kind"].as_str().unwrap().to_string())
        .collect()
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            copy_tree(&e.path(), &to.join(e.file_name()));
        } else {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

#[test]
fn offline_prune_acceptance_and_rotation_lines_reach_the_witness_at_the_next_start() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let witness = start(d, &["--data-dir", "witness-data"]);
    std::fs::write(
        d.join("a.toml"),
        format!(
            "data_dir = \"a-data\"\nshutdown_timeout_s = 2\n[checkpoints]\nevery_records = 10\n\
             [[witnesses]]\ntype = \"eventserver\"\nurl = \"http://{}\"\n\
             [[destinations]]\ntype = \"store\"\npath = \"store\"\npartitioning = \"day\"\n",
            witness.addr
        ),
    )
    .unwrap();
    let a = start(d, &["--config", "a.toml"]);
    post_day(&a, "2025-01-01", 20, 1);
    post_day(&a, "2025-01-02", 20, 2);
    assert_eq!(stop(a), 0);
    let old_key = std::fs::read_to_string(d.join("a-data/signing.pub")).unwrap();
    let old_key = old_key.trim();
    // The state before the offline commands: what a replay would put back.
    copy_tree(&d.join("a-data"), &d.join("a-data-before"));

    // With the server stopped: a prune, an acceptance, then a key rotation.
    let (code, out) = run(
        d,
        &[
            "store",
            "prune",
            "--config",
            "a.toml",
            "--before",
            "2025-01-02",
            "--reason",
            "offline prune",
        ],
    );
    assert_eq!(code, 0, "{out}");
    let (code, out) = run(
        d,
        &[
            "store",
            "accept",
            "--config",
            "a.toml",
            "--reason",
            "checked after the prune",
        ],
    );
    assert_eq!(code, 0, "{out}");
    let (code, out) = run(d, &["keys", "rotate", "--config", "a.toml"]);
    assert_eq!(code, 0, "{out}");
    let log = std::fs::read_to_string(d.join("a-data/store/checkpoints.jsonl")).unwrap();
    let deleted = log
        .lines()
        .find(|l| l.contains("\"deleted\""))
        .expect("the prune wrote a deletion line")
        .to_string();
    let acceptance = log
        .lines()
        .find(|l| l.contains("\"accepted\""))
        .expect("the acceptance wrote an accepted line")
        .to_string();
    let rotation = log
        .lines()
        .find(|l| l.contains("\"nextKey\""))
        .expect("the rotation wrote a nextKey line")
        .to_string();

    // The next start publishes them; the new key signs on.
    let a = start(d, &["--config", "a.toml"]);
    post_day(&a, "2025-01-03", 20, 3);
    assert_eq!(stop(a), 0);
    assert_eq!(stop(witness), 0);
    let held = witnessed_lines(&d.join("witness-data/store"));
    assert!(
        held.contains(&deleted),
        "the witness lacks the deletion line written while the server was stopped: {held:#?}"
    );
    assert!(
        held.contains(&acceptance),
        "the witness lacks the acceptance line written while the server was stopped: {held:#?}"
    );
    assert!(
        held.contains(&rotation),
        "the witness lacks the rotation line written while the server was stopped: {held:#?}"
    );

    // Every witnessed line is in the genuine log (with either key trusted).
    let (code, report) = verify(d, old_key);
    assert_eq!(code, 0, "{report:#}");
    assert!(
        report["stores"][0]["witnessed"].as_u64().unwrap() as usize >= held.len(),
        "{report:#}"
    );

    // A replay of the copy from before the prune, the acceptance and the rotation: rolled back, and the
    // lines the new key signed after the witnessed rotation are no wrong key.
    std::fs::rename(d.join("a-data"), d.join("a-data-real")).unwrap();
    copy_tree(&d.join("a-data-before"), &d.join("a-data"));
    let (code, report) = verify(d, old_key);
    assert_eq!(code, 1, "{report:#}");
    let found = kinds(&report);
    assert!(found.contains(&"rolled-back".to_string()), "{report:#}");
    assert!(!found.contains(&"wrong-key".to_string()), "{report:#}");
}
