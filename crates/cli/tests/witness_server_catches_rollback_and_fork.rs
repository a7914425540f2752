//! `[[witnesses]]` with a real second event server: every published checkpoint of the
//! first server is stored there, and `auditrail verify --witness` against that store
//! passes on the genuine store, names a rollback when the store, its log and its
//! high-water mark are replaced by an older consistent copy (which the server's own
//! files cannot show), and names a fork when the older copy is then signed on.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::serve_support;
use crate::tamper_support;

use std::path::Path;

use serve_support::{event_line, new_id, post_events, start, ServerProc};
use tamper_support::stop;

fn post_batch(server: &ServerProc, first: u64, salt: u64) {
    let body: String = (first..first + 10)
        .map(|n| event_line(&new_id(n, salt), "n1", n) + "\n")
        .collect();
    let (status, answer) = post_events(&server.addr, &body, None).unwrap();
    assert_eq!(status, 200, "{answer}");
}

fn verify(dir: &Path, data: &str, key: &str, witness: Option<&str>) -> (i32, serde_json::Value) {
    let mut args = vec!["verify", data, "--public-key", key, "--json"];
    if let Some(w) = witness {
        args.extend(["--witness", w]);
    }
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_auditrail"))
        .args(&args)
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
fn a_witness_server_catches_a_replayed_copy_and_a_fork() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let witness = start(d, &["--data-dir", "witness-data"]);
    std::fs::write(
        d.join("a.toml"),
        format!(
            "data_dir = \"a-data\"\nshutdown_timeout_s = 2\n[checkpoints]\nevery_records = 10\n\
             [[witnesses]]\ntype = \"eventserver\"\nurl = \"http://{}\"\n\
             [[destinations]]\ntype = \"store\"\npath = \"store\"\n",
            witness.addr
        ),
    )
    .unwrap();
    let a = start(d, &["--config", "a.toml"]);
    post_batch(&a, 1, 1);
    assert_eq!(stop(a), 0);
    // An older, consistent copy of the whole data dir (store, log, mark, key).
    copy_tree(&d.join("a-data"), &d.join("a-data-old"));
    let a = start(d, &["--config", "a.toml"]);
    post_batch(&a, 11, 1);
    post_batch(&a, 21, 1);
    assert_eq!(stop(a), 0);
    assert_eq!(stop(witness), 0);
    let key = std::fs::read_to_string(d.join("a-data/signing.pub")).unwrap();
    let key = key.trim();

    // The genuine store: every witnessed line is in its log.
    let (code, report) = verify(d, "a-data", key, Some("witness-data/store"));
    assert_eq!(code, 0, "{report:#}");
    assert!(
        report["stores"][0]["witnessed"].as_u64().unwrap() >= 3,
        "{report:#}"
    );

    // The replay: the old copy is consistent and signed; only the witness shows it.
    std::fs::rename(d.join("a-data"), d.join("a-data-real")).unwrap();
    copy_tree(&d.join("a-data-old"), &d.join("a-data"));
    let (code, report) = verify(d, "a-data", key, None);
    assert_eq!(
        code, 0,
        "the server's own files cannot show a replay: {report:#}"
    );
    let (code, report) = verify(d, "a-data", key, Some("witness-data/store"));
    assert_eq!(code, 1, "{report:#}");
    assert!(
        kinds(&report).contains(&"rolled-back".to_string()),
        "{report:#}"
    );
    let text = report.to_string();
    assert!(
        text.contains("witness") && text.contains("rolled back"),
        "{report:#}"
    );

    // A fork: the old copy signed on with other records (the key holder's rewrite).
    let a = start(d, &["--config", "a.toml"]);
    post_batch(&a, 11, 2);
    assert_eq!(stop(a), 0);
    let (code, report) = verify(d, "a-data", key, Some("witness-data/store"));
    assert_eq!(code, 1, "{report:#}");
    assert!(kinds(&report).contains(&"forked".to_string()), "{report:#}");
}
